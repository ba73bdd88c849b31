//! The wasmtime engine, linker and compiled walogs component, shared by every open log.

use std::path::{Path, PathBuf};

use wasmtime::component::{InstancePre, Linker};
use wasmtime::{Config, Engine};

use crate::bindings::ExportsPre;
use crate::cache::{self, LoadInfo};
use crate::error::HostError;
use crate::state::HostState;

/// The walogs component built from this workspace's `guest/` (feature `embedded`).
#[cfg(feature = "embedded")]
pub const EMBEDDED_COMPONENT: &[u8] = walogs_component::WASM;

/// The default cap on one guest's linear memory: 256 MiB.
pub const DEFAULT_MAX_MEMORY: usize = 256 << 20;

/// How a [`Runtime`] is set up.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Meter fuel, so a store can be stopped after a budget
    /// ([`crate::OpenOptions::fuel`]); off by default.
    pub fuel: bool,
    /// Where precompiled components are cached; `None` compiles every time.
    /// Default: [`cache::default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// The cap on each guest's linear memory, in bytes. Default: [`DEFAULT_MAX_MEMORY`].
    pub max_memory: usize,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            fuel: false,
            cache_dir: Some(cache::default_cache_dir()),
            max_memory: DEFAULT_MAX_MEMORY,
        }
    }
}

/// A compiled walogs component, ready to serve logs: each open gets its own store and
/// instance.
pub struct Runtime {
    engine: Engine,
    pre: InstancePre<HostState>,
    exports: ExportsPre,
    options: RuntimeOptions,
    load: LoadInfo,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("options", &self.options)
            .field("load", &self.load)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// The embedded component with default options.
    #[cfg(feature = "embedded")]
    pub fn new() -> Result<Self, HostError> {
        Self::with_options(RuntimeOptions::default())
    }

    /// The embedded component with `options`.
    #[cfg(feature = "embedded")]
    pub fn with_options(options: RuntimeOptions) -> Result<Self, HostError> {
        Self::from_bytes(EMBEDDED_COMPONENT, options)
    }

    /// The component in `path` (a `.wasm` component exporting `walogs:wal/log`), with
    /// default options.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, HostError> {
        Self::from_file_with_options(path, RuntimeOptions::default())
    }

    /// The component in `path`, with `options`.
    pub fn from_file_with_options(
        path: impl AsRef<Path>,
        options: RuntimeOptions,
    ) -> Result<Self, HostError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| HostError::io(format!("cannot read component {}", path.display()), e))?;
        Self::from_bytes(&bytes, options)
    }

    /// The component `bytes`, with `options`.
    pub fn from_bytes(bytes: &[u8], options: RuntimeOptions) -> Result<Self, HostError> {
        let mut config = Config::new();
        config.wasm_component_model(true).consume_fuel(options.fuel);
        let engine = Engine::new(&config).map_err(HostError::setup)?;
        let (component, load) =
            cache::load(&engine, bytes, options.cache_dir.as_deref()).map_err(HostError::setup)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(HostError::setup)?;
        crate::direct::add_to_linker(&mut linker).map_err(HostError::setup)?;
        #[cfg(feature = "interpose")]
        crate::interpose::add_to_linker(&mut linker).map_err(HostError::setup)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(HostError::setup)?;
        let exports = ExportsPre::new(&pre).map_err(HostError::setup)?;
        Ok(Self {
            engine,
            pre,
            exports,
            options,
            load,
        })
    }

    /// A process-wide runtime for the embedded component with default options, made on
    /// first use (every [`crate::ComponentWal::open`] shares it, so the component is
    /// loaded once per process).
    ///
    /// # Panics
    ///
    /// If the embedded component cannot be loaded, which is a build problem.
    #[cfg(feature = "embedded")]
    pub fn shared() -> &'static Runtime {
        static SHARED: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| match Runtime::new() {
            Ok(rt) => rt,
            Err(e) => panic!("cannot load the embedded walogs component: {e}"),
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The options the runtime was made with.
    pub fn options(&self) -> &RuntimeOptions {
        &self.options
    }

    /// How the component was compiled or loaded from the cache.
    pub fn load_info(&self) -> &LoadInfo {
        &self.load
    }

    /// Whether the component exports an interface named `walogs:wal/maintenance`
    /// ([`crate::WIT_MAINTENANCE`]; its types are checked when an instance is made, and
    /// one that does not match counts as missing): without it, [`Runtime::repair`],
    /// [`Runtime::find_damage`] and [`crate::ComponentWal::recovery_report`] return
    /// [`HostError::Unsupported`].
    pub fn supports_maintenance(&self) -> bool {
        self.exports.has_maintenance()
    }

    /// The pre-instantiated component.
    pub(crate) fn pre(&self) -> &InstancePre<HostState> {
        &self.pre
    }

    /// Where the component's exports are.
    pub(crate) fn exports(&self) -> &ExportsPre {
        &self.exports
    }
}
