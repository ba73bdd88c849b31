//! Bindings generated from `wit/walogs.wit` and conversions to and from the engine's types.

use std::io;
use std::path::PathBuf;

use walogs::{
    Damage, Durability, Lsn, RecoveryReport, RepairReport, SegmentInfo, TailState, VerifyReport,
    WalConfig, WalError,
};
use wasmtime::component::{Func, Instance, InstancePre, ResourceAny, TypedFunc};
use wasmtime::{AsContextMut, Store};

use crate::error::HostError;
use crate::state::HostState;

#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "walogs",
    });
}

/// The WIT interface the component exports (`wit/walogs.wit`).
pub const WIT_INTERFACE: &str = "walogs:wal/log@0.2.0";

/// The optional WIT interface for repair and recovery reports (`wit/walogs.wit`);
/// components built before it existed lack it.
pub const WIT_MAINTENANCE: &str = "walogs:wal/maintenance@0.2.0";

use generated::exports::walogs::wal::log;
pub(crate) use generated::exports::walogs::wal::log::GuestWal;
use generated::exports::walogs::wal::maintenance;
pub(crate) use generated::walogs::wal::types as wit;

/// Where the component's exports are, found once per component: `log` is required,
/// `maintenance` optional (so that components without it still load).
pub(crate) struct ExportsPre {
    log: log::GuestIndices,
    maintenance: Option<maintenance::GuestIndices>,
}

impl ExportsPre {
    /// Looks the exports up in `pre`; fails only when `log` is missing.
    pub(crate) fn new<T>(pre: &InstancePre<T>) -> wasmtime::Result<Self> {
        Ok(Self {
            log: log::GuestIndices::new(pre)?,
            maintenance: maintenance::GuestIndices::new(pre).ok(),
        })
    }

    /// Whether the component exports `maintenance`.
    pub(crate) fn has_maintenance(&self) -> bool {
        self.maintenance.is_some()
    }

    /// The typed exports of an instance of the component.
    pub(crate) fn load(
        &self,
        mut store: impl AsContextMut,
        instance: &Instance,
    ) -> wasmtime::Result<Exports> {
        let log = self.log.load(&mut store, instance)?;
        // An export of that name with other types is not the interface this host knows.
        let maintenance = self
            .maintenance
            .as_ref()
            .and_then(|m| m.load(&mut store, instance).ok());
        Ok(Exports { log, maintenance })
    }
}

/// The typed exports of one instance.
pub(crate) struct Exports {
    log: log::Guest,
    maintenance: Option<maintenance::Guest>,
}

impl Exports {
    /// The `log` interface.
    pub(crate) fn walogs_wal_log(&self) -> &log::Guest {
        &self.log
    }

    /// The `maintenance` interface, or [`HostError::Unsupported`] naming `what` when the
    /// component lacks it.
    pub(crate) fn maintenance(&self, what: &'static str) -> Result<&maintenance::Guest, HostError> {
        self.maintenance.as_ref().ok_or(HostError::Unsupported {
            what,
            interface: WIT_MAINTENANCE,
        })
    }
}

/// The engine's configuration as the WIT record.
pub(crate) fn config_to_wit(config: &WalConfig) -> wit::Config {
    let WalConfig {
        max_segment_size,
        durability,
        read_only,
        verify_on_open,
        .. // `preallocate` has no WIT field: the component uses the engine's default.
    } = *config;
    wit::Config {
        // The WIT's 0 means "never rotate". The engine's `Some(0)` gives every frame a
        // segment of its own, and so does 1: no frame fits in one byte.
        max_segment_size: max_segment_size.map_or(0, |size| size.max(1)),
        durability: match durability {
            Durability::Always => wit::Durability::Always,
            Durability::Explicit => wit::Durability::Explicit,
            Durability::None => wit::Durability::None,
        },
        read_only,
        verify_on_open,
    }
}

/// Where the guest sees the host directory: maps guest paths in error texts back.
#[derive(Debug, Clone)]
pub(crate) struct Mount {
    /// The guest path of the preopen.
    pub(crate) guest: &'static str,
    /// The host directory preopened there.
    pub(crate) host: PathBuf,
    /// The guest path passed to `open`.
    pub(crate) opened: String,
}

impl Mount {
    /// The mount of `host` at [`crate::GUEST_ROOT`], the guest having been given `opened`.
    pub(crate) fn new(host: &std::path::Path, opened: &str) -> Self {
        Self {
            guest: crate::GUEST_ROOT,
            host: host.to_owned(),
            opened: opened.to_owned(),
        }
    }

    /// The host path for a guest path (unchanged when it is outside the mount).
    fn to_host(&self, guest: &str) -> PathBuf {
        match guest.strip_prefix(self.guest) {
            Some("") => self.host.clone(),
            Some(rest) if rest.starts_with('/') => self.host.join(rest.trim_start_matches('/')),
            _ => PathBuf::from(guest),
        }
    }

    /// The engine's error for a WIT error.
    pub(crate) fn error(&self, e: wit::Error) -> WalError {
        match e {
            wit::Error::Io(e) => WalError::Io(io::Error::new(io_kind(e.code), e.message)),
            wit::Error::EntryTooLarge(e) => WalError::EntryTooLarge {
                size: e.size as usize,
                max: e.max as usize,
            },
            wit::Error::Corrupt(reason) => WalError::Corrupt { reason },
            wit::Error::Locked(dir) => WalError::Locked {
                dir: self.to_host(&dir),
            },
            wit::Error::Poisoned(cause) => WalError::Poisoned { cause },
            wit::Error::LsnOutOfRange(e) => WalError::LsnOutOfRange {
                lsn: Lsn(e.lsn),
                first: Lsn(e.first),
                next: Lsn(e.next),
            },
            wit::Error::InvalidPath(reason) => WalError::InvalidPath {
                path: self.opened.clone(),
                reason,
            },
            wit::Error::NotADirectory(path) => WalError::NotADirectory {
                path: self.to_host(&path),
            },
            wit::Error::ReadOnly => WalError::ReadOnly,
        }
    }
}

/// The engine's tail state for the WIT one.
pub(crate) fn tail_from_wit(t: wit::TailState) -> TailState {
    match t {
        wit::TailState::Clean => TailState::Clean,
        wit::TailState::TruncatedAt(offset) => TailState::TruncatedAt(offset),
    }
}

/// The engine's segment description for the WIT one.
pub(crate) fn segment_from_wit(s: wit::SegmentInfo) -> SegmentInfo {
    SegmentInfo {
        seq: s.seq,
        first_lsn: s.first_lsn.map(Lsn),
        size: s.size,
    }
}

/// The engine's verification report for the WIT one.
pub(crate) fn report_from_wit(r: wit::VerifyReport) -> VerifyReport {
    VerifyReport {
        segments: r.segments,
        entries: r.entries,
        bytes: r.bytes,
        first_lsn: r.first_lsn.map(Lsn),
        last_lsn: r.last_lsn.map(Lsn),
    }
}

/// The engine's damage for the WIT one.
pub(crate) fn damage_from_wit(d: maintenance::Damage) -> Damage {
    Damage::new(d.segment, d.offset, d.reason)
}

/// The engine's repair report for the WIT one.
pub(crate) fn repair_from_wit(r: maintenance::RepairReport) -> RepairReport {
    let mut report = RepairReport::default();
    report.damage = r.damage.map(damage_from_wit);
    report.kept_up_to = r.kept_up_to.map(Lsn);
    report.entries_removed = r.entries_removed;
    report.bytes_removed = r.bytes_removed;
    report.quarantine = r.quarantine;
    report.applied = r.applied;
    report
}

/// The engine's recovery report for the WIT one.
pub(crate) fn recovery_from_wit(r: maintenance::RecoveryReport) -> RecoveryReport {
    let mut report = RecoveryReport::default();
    report.segment = r.segment;
    report.cut_at = r.cut_at;
    report.bytes_discarded = r.bytes_discarded;
    report.frames_discarded = r.frames_discarded;
    report.durable_point = r.durable_point;
    report.durable_next_lsn = r.durable_next_lsn.map(Lsn);
    report
}

/// The I/O error kind for a WIT code (the inverse of the guest's mapping).
fn io_kind(code: wit::IoCode) -> io::ErrorKind {
    use io::ErrorKind as K;
    use wit::IoCode as C;
    match code {
        C::NotFound => K::NotFound,
        C::PermissionDenied => K::PermissionDenied,
        C::AlreadyExists => K::AlreadyExists,
        C::StorageFull => K::StorageFull,
        C::QuotaExceeded => K::QuotaExceeded,
        C::ReadOnlyFilesystem => K::ReadOnlyFilesystem,
        C::NotADirectory => K::NotADirectory,
        C::IsADirectory => K::IsADirectory,
        C::DirectoryNotEmpty => K::DirectoryNotEmpty,
        C::FileTooLarge => K::FileTooLarge,
        C::InvalidFilename => K::InvalidFilename,
        C::InvalidInput => K::InvalidInput,
        C::InvalidData => K::InvalidData,
        C::ResourceBusy => K::ResourceBusy,
        C::Unsupported => K::Unsupported,
        C::Interrupted => K::Interrupted,
        C::WouldBlock => K::WouldBlock,
        C::OutOfMemory => K::OutOfMemory,
        C::Other => K::Other,
    }
}

/// The parameters of `[method]wal.append-batch`, borrowed: the batch is lowered into the
/// guest straight from the caller's slices, without copying it into `Vec`s first (which
/// the generated binding would need).
type BatchParams<'a> = (ResourceAny, &'a [&'a [u8]]);

/// What `[method]wal.append-batch` returns.
type BatchReturn = (Result<wit::LsnRange, wit::Error>,);

/// The guest's `[method]wal.append-batch`, found and type-checked once at open.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AppendBatch(Func);

impl AppendBatch {
    /// Finds the export in `instance` and checks its type.
    pub(crate) fn find(
        instance: &Instance,
        store: &mut Store<HostState>,
    ) -> Result<Self, HostError> {
        let missing =
            || HostError::setup(wasmtime::Error::msg("the component lacks wal.append-batch"));
        let log = instance
            .get_export_index(&mut *store, None, WIT_INTERFACE)
            .ok_or_else(missing)?;
        let index = instance
            .get_export_index(&mut *store, Some(&log), "[method]wal.append-batch")
            .ok_or_else(missing)?;
        let func = instance.get_func(&mut *store, index).ok_or_else(missing)?;
        func.typed::<BatchParams<'_>, BatchReturn>(&*store)
            .map_err(HostError::setup)?;
        Ok(Self(func))
    }

    /// Calls it with `entries`.
    pub(crate) fn call(
        self,
        store: &mut Store<HostState>,
        handle: ResourceAny,
        entries: &[&[u8]],
    ) -> wasmtime::Result<Result<wit::LsnRange, wit::Error>> {
        // SAFETY: `find` checked this function's type against exactly these parameter and
        // result types; they differ only in the lifetime of the borrowed batch, which the
        // component model's type check does not see.
        let typed = unsafe { TypedFunc::<BatchParams<'_>, BatchReturn>::new_unchecked(self.0) };
        Ok(typed.call(store, (handle, entries))?.0)
    }
}
