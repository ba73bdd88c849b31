//! Opening a log through the component: the lock, the preopen, a fresh store and instance.

use std::fs::{self, File, OpenOptions as FsOpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use walogs::{WalConfig, WalError};
use wasmtime::Store;
use wasmtime::component::{Func, Instance};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::bindings::{Mount, Walogs, config_to_wit};
use crate::error::HostError;
use crate::interpose::{FaultPlan, Faults};
use crate::runtime::Runtime;
use crate::state::HostState;
use crate::wal::ComponentWal;

/// Where the guest sees the preopened log directory.
pub const GUEST_ROOT: &str = "/wal";

/// The lock file a writer holds, as the native engine does.
pub const LOCK_FILE: &str = "LOCK";

/// How a log is opened through the component, beyond its [`WalConfig`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// What the filesystem interposer breaks (nothing by default).
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
    /// A writer creates `dir` if needed and takes the exclusive lock on `dir/LOCK` before
    /// the guest sees the directory (WASI has no locks): a second writer gets
    /// [`WalError::Locked`]. A read-only open takes no lock and needs `dir` to exist. Only
    /// `dir` is preopened, at [`GUEST_ROOT`], read-only for a read-only open.
    pub fn open_with_options(
        &self,
        dir: impl AsRef<Path>,
        config: WalConfig,
        options: OpenOptions,
    ) -> Result<ComponentWal, HostError> {
        let dir = dir.as_ref();
        if is_non_dir(dir) {
            return Err(WalError::NotADirectory {
                path: dir.to_owned(),
            }
            .into());
        }
        let lock = if config.read_only {
            if !dir.is_dir() {
                let e = io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{} does not exist", dir.display()),
                );
                return Err(WalError::Io(e).into());
            }
            None
        } else {
            create_dir_durably(dir).map_err(WalError::Io)?;
            Some(lock_dir(dir)?)
        };
        let mut wal = self.open_in_preopen(dir, GUEST_ROOT, config, options)?;
        wal.set_lock(lock);
        Ok(wal)
    }

    /// The low-level open: preopens `preopen` at [`GUEST_ROOT`] and asks the guest to open
    /// `guest_path`, which may point anywhere (for tests of the guest's path checks).
    /// Takes no lock.
    pub fn open_in_preopen(
        &self,
        preopen: &Path,
        guest_path: &str,
        config: WalConfig,
        options: OpenOptions,
    ) -> Result<ComponentWal, HostError> {
        let perms = if config.read_only {
            FsPerms::ReadOnly
        } else {
            FsPerms::ReadWrite
        };
        let mut wasi = WasiCtxBuilder::new();
        // Must come before the preopen: each preopen captures the setting.
        wasi.allow_blocking_current_thread(true).inherit_stderr();
        wasi.preopened_dir(preopen, GUEST_ROOT, perms)
            .map_err(HostError::setup)?;
        let state = HostState::new(
            wasi.build(),
            self.options().max_memory,
            Faults::new(options.faults),
        );
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
            .instance_pre()
            .instantiate(&mut store)
            .map_err(HostError::setup)?;
        let bindings = Walogs::new(&mut store, &instance).map_err(HostError::setup)?;
        let append_batch = find_append_batch(&instance, &mut store)?;
        let mount = Mount {
            guest: GUEST_ROOT,
            host: preopen.to_owned(),
            opened: guest_path.to_owned(),
        };
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
}

/// Takes the exclusive lock on `dir/LOCK`.
fn lock_dir(dir: &Path) -> Result<File, WalError> {
    let path: PathBuf = dir.join(LOCK_FILE);
    let file = FsOpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(WalError::Locked {
            dir: dir.to_owned(),
        }),
        Err(fs::TryLockError::Error(e)) => Err(WalError::Io(e)),
    }
}

/// The guest's `[method]wal.append-batch`, called directly so that a batch is passed to the
/// guest without copying it into `Vec`s first.
fn find_append_batch(instance: &Instance, store: &mut Store<HostState>) -> Result<Func, HostError> {
    let missing = || HostError::setup(wasmtime::Error::msg("the component lacks wal.append-batch"));
    let log = instance
        .get_export_index(&mut *store, None, "walogs:wal/log@0.2.0")
        .ok_or_else(missing)?;
    let func = instance
        .get_export_index(&mut *store, Some(&log), "[method]wal.append-batch")
        .ok_or_else(missing)?;
    instance.get_func(&mut *store, func).ok_or_else(missing)
}

/// Whether `path` exists and is not a directory (following symlinks).
fn is_non_dir(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| !m.is_dir())
}

/// Creates `dir` if it is missing and syncs its parent, so the new directory survives a
/// power loss (the guest syncs everything inside it).
fn create_dir_durably(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => File::open(parent)?.sync_all(),
        None => Ok(()),
    }
}
