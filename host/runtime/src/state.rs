//! What each store holds: the WASI context, resource table, memory limit and fault plan.

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

#[cfg(feature = "interpose")]
use crate::interpose::{Faults, Interposed};

/// The data of one store: one component instance serving one open log.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limits: StoreLimits,
    #[cfg(feature = "interpose")]
    faults: Faults,
}

impl HostState {
    /// State with `wasi` and a guest memory cap of `max_memory` bytes.
    pub(crate) fn new(wasi: WasiCtx, max_memory: usize) -> Self {
        Self {
            wasi,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(max_memory)
                .trap_on_grow_failure(false)
                .build(),
            #[cfg(feature = "interpose")]
            faults: Faults::default(),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

#[cfg(feature = "interpose")]
impl Interposed for HostState {
    fn faults(&mut self) -> &mut Faults {
        &mut self.faults
    }
}
