//! Opening a log through the component: the lock, the preopen, a fresh store and instance.

use std::path::Path;

use walogs::WalConfig;
use walogs::storage::StdStorage;
use wasmtime::Store;
use wasmtime::component::Instance;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::bindings::{AppendBatch, Exports, Mount, config_to_wit};
use crate::error::HostError;
#[cfg(feature = "interpose")]
use crate::interpose::{FaultPlan, Interposed};
use crate::runtime::Runtime;
use crate::state::HostState;
use crate::wal::ComponentWal;

/// Where the guest sees the preopened log directory.
pub const GUEST_ROOT: &str = "/wal";

/// How a log is opened through the component, beyond its [`WalConfig`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// What the filesystem interposer breaks or observes (nothing by default).
    #[cfg(feature = "interpose")]
    pub faults: FaultPlan,
    /// The store's fuel budget; needs a runtime made with [`crate::RuntimeOptions::fuel`].
    /// `None` is unlimited.
    pub fuel: Option<u64>,
}

impl Runtime {
    /// Opens (creating it if needed) the log in `dir` with the default [`WalConfig`].
    pub fn open(&self, dir: impl AsRef<Path>) -> Result<ComponentWal, HostError> {
        self.open_with_config(dir, WalConfig::default())
    }

    /// Opens the log in `dir` with `config`.
    pub fn open_with_config(
        &self,
        dir: impl AsRef<Path>,
        config: WalConfig,
    ) -> Result<ComponentWal, HostError> {
        self.open_with_options(dir, config, OpenOptions::default())
    }

    /// Opens the log in `dir` with `config` and `options`.
    ///
    /// The directory is opened on the host exactly as the native engine opens it
    /// ([`StdStorage`]): a writer creates `dir` if needed (syncing its parent) and takes the
    /// exclusive lock on `dir/LOCK` before the guest sees the directory (WASI has no
    /// locks), so a second writer gets [`walogs::WalError::Locked`]; a read-only open takes
    /// no lock and needs `dir` to exist. Only `dir` is preopened, at [`GUEST_ROOT`],
    /// read-only for a read-only open.
    pub fn open_with_options(
        &self,
        dir: impl AsRef<Path>,
        config: WalConfig,
        options: OpenOptions,
    ) -> Result<ComponentWal, HostError> {
        let dir = dir.as_ref();
        let lock = if config.read_only {
            StdStorage::open_reader(dir)?;
            None
        } else {
            Some(StdStorage::open_writer(dir)?)
        };
        let mut wal = self.open_in_preopen(dir, GUEST_ROOT, config, options)?;
        wal.set_lock(lock);
        Ok(wal)
    }

    /// The low-level open: preopens `preopen` at [`GUEST_ROOT`] and asks the guest to open
    /// `guest_path`, which may point anywhere (the guest's own path checks are tested
    /// through it). Takes no lock.
    pub(crate) fn open_in_preopen(
        &self,
        preopen: &Path,
        guest_path: &str,
        config: WalConfig,
        options: OpenOptions,
    ) -> Result<ComponentWal, HostError> {
        let (mut store, instance, bindings) =
            self.instantiate(preopen, config.read_only, options)?;
        let append_batch = AppendBatch::find(&instance, &mut store)?;
        let mount = Mount::new(preopen, guest_path);
        let wit_config = config_to_wit(&config);
        let opened = bindings
            .walogs_wal_log()
            .wal()
            .call_open(&mut store, guest_path, wit_config)
            .map_err(HostError::Trap)?;
        let handle = opened.map_err(|e| HostError::Wal(mount.error(e)))?;
        Ok(ComponentWal::new(
            store,
            bindings,
            append_batch,
            handle,
            mount,
        ))
    }

    /// A fresh store and instance whose guest sees only `preopen`, at [`GUEST_ROOT`]
    /// (read-only when `read_only`), with the fuel and faults of `options`. Takes no lock.
    pub(crate) fn instantiate(
        &self,
        preopen: &Path,
        read_only: bool,
        options: OpenOptions,
    ) -> Result<(Store<HostState>, Instance, Exports), HostError> {
        let perms = if read_only {
            FsPerms::ReadOnly
        } else {
            FsPerms::ReadWrite
        };
        let mut wasi = WasiCtxBuilder::new();
        // Must come before the preopen: each preopen captures the setting.
        wasi.allow_blocking_current_thread(true).inherit_stderr();
        wasi.preopened_dir(preopen, GUEST_ROOT, perms)
            .map_err(HostError::setup)?;
        #[cfg_attr(not(feature = "interpose"), allow(unused_mut))]
        let mut state = HostState::new(wasi.build(), self.options().max_memory);
        #[cfg(feature = "interpose")]
        state.faults().set_plan(options.faults);
        let mut store = Store::new(self.engine(), state);
        store.limiter(|s| &mut s.limits);
        if self.options().fuel {
            store
                .set_fuel(options.fuel.unwrap_or(u64::MAX))
                .map_err(HostError::setup)?;
        } else if options.fuel.is_some() {
            let msg = "a fuel budget needs a runtime made with RuntimeOptions { fuel: true }";
            return Err(HostError::setup(wasmtime::Error::msg(msg)));
        }
        let instance = self
            .pre()
            .instantiate(&mut store)
            .map_err(HostError::setup)?;
        let exports = self
            .exports()
            .load(&mut store, &instance)
            .map_err(HostError::setup)?;
        Ok((store, instance, exports))
    }
}

#[cfg(all(test, feature = "embedded"))]
mod tests {
    use walogs::{WalConfig, WalError};

    use super::OpenOptions;
    use crate::Runtime;

    #[test]
    fn guest_paths_outside_the_preopen_or_empty_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let rt = Runtime::shared();
        for path in ["/wal/../../etc", "", "/wal/a/../../b"] {
            let r = rt.open_in_preopen(
                dir.path(),
                path,
                WalConfig::default(),
                OpenOptions::default(),
            );
            let e = r.unwrap_err().into_wal().expect("a log error");
            assert!(matches!(e, WalError::InvalidPath { .. }), "{path:?}: {e}");
        }
        // A subdirectory of the preopen is fine.
        let r = rt.open_in_preopen(
            dir.path(),
            "/wal/sub",
            WalConfig::default(),
            OpenOptions::default(),
        );
        r.unwrap().append(b"inside").unwrap();
        assert!(dir.path().join("sub").is_dir());
    }
}
