//! [`ComponentWal`]: a log opened through the component, with the engine's API and types.

use std::path::Path;

use walogs::storage::StdStorage;
use walogs::{Lsn, LsnRange, RecoveryReport, SegmentInfo, TailState, VerifyReport};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::bindings::{
    AppendBatch, Exports, GuestWal, Mount, recovery_from_wit, report_from_wit, segment_from_wit,
    tail_from_wit, wit,
};
use crate::error::HostError;
#[cfg(feature = "interpose")]
use crate::interpose::{FaultPlan, FsStats, Interposed};
use crate::iter::ComponentIter;
#[cfg(feature = "embedded")]
use crate::runtime::Runtime;
use crate::state::HostState;

/// A log opened through the walogs component: one store, one instance, one `wal` resource.
///
/// The methods mirror [`walogs::Wal`] and return the engine's own types; errors are
/// [`HostError::Wal`] with the engine's [`walogs::WalError`], or a host failure. After the
/// guest traps, every call returns [`HostError::Dead`]: reopen the log. Dropping the handle
/// drops the guest's resource and then releases the directory lock.
pub struct ComponentWal {
    store: Store<HostState>,
    bindings: Exports,
    append_batch: AppendBatch,
    handle: ResourceAny,
    mount: Mount,
    dead: bool,
    /// The writer's open directory, holding the `LOCK` file's lock.
    lock: Option<StdStorage>,
}

impl std::fmt::Debug for ComponentWal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentWal")
            .field("dir", &self.mount.host)
            .field("dead", &self.dead)
            .field("locked", &self.lock.is_some())
            .finish_non_exhaustive()
    }
}

impl ComponentWal {
    /// Opens the log in `dir` with the default config through [`Runtime::shared`].
    #[cfg(feature = "embedded")]
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, HostError> {
        Runtime::shared().open(dir)
    }

    /// Opens the log in `dir` with `config` through [`Runtime::shared`].
    #[cfg(feature = "embedded")]
    pub fn open_with_config(
        dir: impl AsRef<Path>,
        config: walogs::WalConfig,
    ) -> Result<Self, HostError> {
        Runtime::shared().open_with_config(dir, config)
    }

    /// Wraps a freshly opened guest resource.
    pub(crate) fn new(
        store: Store<HostState>,
        bindings: Exports,
        append_batch: AppendBatch,
        handle: ResourceAny,
        mount: Mount,
    ) -> Self {
        Self {
            store,
            bindings,
            append_batch,
            handle,
            mount,
            dead: false,
            lock: None,
        }
    }

    /// Keeps the directory lock until the handle is dropped.
    pub(crate) fn set_lock(&mut self, lock: Option<StdStorage>) {
        self.lock = lock;
    }

    /// Calls into the guest; a trap marks the instance dead.
    pub(crate) fn enter<R>(
        &mut self,
        f: impl FnOnce(&Exports, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        if self.dead {
            return Err(HostError::Dead);
        }
        f(&self.bindings, &mut self.store).map_err(|e| {
            self.dead = true;
            HostError::Trap(e)
        })
    }

    /// Calls a `wal` method that returns `result<T, error>`.
    fn call<R>(
        &mut self,
        f: impl FnOnce(
            GuestWal<'_>,
            &mut Store<HostState>,
            ResourceAny,
        ) -> wasmtime::Result<Result<R, wit::Error>>,
    ) -> Result<R, HostError> {
        let handle = self.handle;
        let r = self.enter(|b, store| f(b.walogs_wal_log().wal(), store, handle))?;
        r.map_err(|e| HostError::Wal(self.mount.error(e)))
    }

    /// Calls a `wal` method that cannot fail in the guest.
    fn get<R>(
        &mut self,
        f: impl FnOnce(GuestWal<'_>, &mut Store<HostState>, ResourceAny) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        let handle = self.handle;
        self.enter(|b, store| f(b.walogs_wal_log().wal(), store, handle))
    }

    /// Maps a guest error using this log's paths.
    pub(crate) fn wal_error(&self, e: wit::Error) -> HostError {
        HostError::Wal(self.mount.error(e))
    }

    /// Appends one entry and returns its LSN.
    pub fn append(&mut self, data: &[u8]) -> Result<Lsn, HostError> {
        self.call(|g, s, h| g.call_append(s, h, data)).map(Lsn)
    }

    /// Appends entries with one write and one sync per segment touched.
    pub fn append_batch<T: AsRef<[u8]>>(&mut self, entries: &[T]) -> Result<LsnRange, HostError> {
        let entries: Vec<&[u8]> = entries.iter().map(AsRef::as_ref).collect();
        let (func, handle) = (self.append_batch, self.handle);
        let r = self.enter(|_, store| func.call(store, handle, &entries))?;
        let r = r.map_err(|e| self.wal_error(e))?;
        Ok(LsnRange {
            start: Lsn(r.start),
            end: Lsn(r.end),
        })
    }

    /// Makes everything appended so far durable; returns the durable LSN.
    pub fn sync(&mut self) -> Result<Lsn, HostError> {
        self.call(|g, s, h| g.call_sync(s, h)).map(Lsn)
    }

    /// The highest LSN known durable (`Lsn(0)` when none).
    pub fn durable_lsn(&mut self) -> Result<Lsn, HostError> {
        self.get(|g, s, h| g.call_durable_lsn(s, h)).map(Lsn)
    }

    /// Seals the active segment and starts a new one (no-op when it is empty).
    pub fn rotate(&mut self) -> Result<(), HostError> {
        self.call(|g, s, h| g.call_rotate(s, h))
    }

    /// Deletes whole sealed segments whose entries are all at or below `applied_up_to`;
    /// returns how many were deleted.
    pub fn checkpoint(&mut self, applied_up_to: Lsn) -> Result<usize, HostError> {
        self.call(|g, s, h| g.call_checkpoint(s, h, applied_up_to.0))
            .map(|n| n as usize)
    }

    /// Removes every entry after `lsn`; the next append gets `lsn + 1`.
    pub fn truncate_after(&mut self, lsn: Lsn) -> Result<(), HostError> {
        self.call(|g, s, h| g.call_truncate_after(s, h, lsn.0))
    }

    /// An iterator over every entry, pulling bounded batches from the guest.
    pub fn iter(&mut self) -> Result<ComponentIter<'_>, HostError> {
        let cursor = self.call(|g, s, h| g.call_iter(s, h))?;
        Ok(ComponentIter::new(self, cursor))
    }

    /// An iterator from `lsn` on.
    pub fn iter_from(&mut self, lsn: Lsn) -> Result<ComponentIter<'_>, HostError> {
        let cursor = self.call(|g, s, h| g.call_iter_from(s, h, lsn.0))?;
        Ok(ComponentIter::new(self, cursor))
    }

    /// What the open found at the tail.
    pub fn tail_state(&mut self) -> Result<TailState, HostError> {
        self.get(|g, s, h| g.call_tail_state(s, h))
            .map(tail_from_wit)
    }

    /// What the open found at the tail and cut off, as [`walogs::Wal::recovery_report`]
    /// says it. [`HostError::Unsupported`] when the component lacks the optional
    /// `maintenance` interface.
    pub fn recovery_report(&mut self) -> Result<RecoveryReport, HostError> {
        let handle = self.handle;
        let r = self.enter(|b, store| match b.maintenance("the recovery report") {
            Ok(m) => m.call_recovery(store, handle).map(Ok),
            Err(unsupported) => Ok(Err(unsupported)),
        })?;
        r.map(recovery_from_wit)
    }

    /// The LSN the next append gets.
    pub fn next_lsn(&mut self) -> Result<Lsn, HostError> {
        self.get(|g, s, h| g.call_next_lsn(s, h)).map(Lsn)
    }

    /// The first LSN the log holds.
    pub fn first_lsn(&mut self) -> Result<Option<Lsn>, HostError> {
        self.get(|g, s, h| g.call_first_lsn(s, h))
            .map(|l| l.map(Lsn))
    }

    /// The last LSN the log holds.
    pub fn last_lsn(&mut self) -> Result<Option<Lsn>, HostError> {
        self.get(|g, s, h| g.call_last_lsn(s, h))
            .map(|l| l.map(Lsn))
    }

    /// How many segment files the log has, including the active one.
    pub fn segment_count(&mut self) -> Result<usize, HostError> {
        self.get(|g, s, h| g.call_segment_count(s, h))
            .map(|n| n as usize)
    }

    /// Every segment file, oldest first.
    pub fn segments(&mut self) -> Result<Vec<SegmentInfo>, HostError> {
        let segments = self.get(|g, s, h| g.call_segments(s, h))?;
        Ok(segments.into_iter().map(segment_from_wit).collect())
    }

    /// Reads and checks every frame of every segment.
    pub fn verify(&mut self) -> Result<VerifyReport, HostError> {
        self.call(|g, s, h| g.call_verify(s, h))
            .map(report_from_wit)
    }

    /// The host directory of the log (the preopened directory).
    pub fn dir(&self) -> &Path {
        &self.mount.host
    }

    /// Whether the guest has trapped (every call now returns [`HostError::Dead`]).
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Counts of the guest's file writes and syncs so far.
    #[cfg(feature = "interpose")]
    pub fn fs_stats(&mut self) -> FsStats {
        self.store.data_mut().faults().stats()
    }

    /// The current fault plan.
    #[cfg(feature = "interpose")]
    pub fn fault_plan(&mut self) -> FaultPlan {
        self.store.data_mut().faults().plan()
    }

    /// Replaces the fault plan (the counts carry on).
    #[cfg(feature = "interpose")]
    pub fn set_fault_plan(&mut self, plan: FaultPlan) {
        self.store.data_mut().faults().set_plan(plan);
    }

    /// The fuel left, when the runtime meters fuel.
    pub fn fuel(&self) -> Option<u64> {
        self.store.get_fuel().ok()
    }

    /// Sets the fuel left (a runtime made with [`crate::RuntimeOptions::fuel`] only).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<(), HostError> {
        self.store.set_fuel(fuel).map_err(HostError::setup)
    }

    /// Drops a guest resource unless the instance is dead.
    pub(crate) fn drop_resource(&mut self, resource: ResourceAny) {
        if !self.dead && resource.resource_drop(&mut self.store).is_err() {
            self.dead = true;
        }
    }
}

impl Drop for ComponentWal {
    fn drop(&mut self) {
        // The guest closes its files first; the lock (a field) is released afterwards.
        self.drop_resource(self.handle);
    }
}
