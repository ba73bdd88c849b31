//! Repair and the damage finder through the component's optional `maintenance` interface.

use std::path::Path;

use walogs::storage::StdStorage;
use walogs::{Damage, RepairReport};

use crate::bindings::{Mount, WIT_MAINTENANCE, damage_from_wit, repair_from_wit};
use crate::error::HostError;
use crate::open::{GUEST_ROOT, OpenOptions};
use crate::runtime::Runtime;

impl Runtime {
    /// Repairs the log in `dir` as [`walogs::Wal::repair_with`] does, inside the
    /// component: cuts it at the first damage, every removed byte moved into a new
    /// `quarantine-NNNNNN.bin` file in `dir`; with `dry_run`, only reports.
    ///
    /// The directory is opened on the host exactly as [`Runtime::open_with_config`] opens
    /// it: a repair holds the exclusive lock on `dir/LOCK` (a second writer or repair gets
    /// [`walogs::WalError::Locked`]) and the guest sees only `dir`; a dry run takes no lock,
    /// needs `dir` to exist and sees it read-only. [`HostError::Unsupported`] when the
    /// component lacks the optional `maintenance` interface (nothing is touched then).
    pub fn repair(&self, dir: impl AsRef<Path>, dry_run: bool) -> Result<RepairReport, HostError> {
        self.require_maintenance("repair")?;
        let dir = dir.as_ref();
        let _lock = if dry_run {
            StdStorage::open_reader(dir)?;
            None
        } else {
            Some(StdStorage::open_writer(dir)?)
        };
        // The store (declared after the lock) goes first: the guest's files are closed
        // before the lock is released.
        let (mut store, _, exports) = self.instantiate(dir, dry_run, OpenOptions::default())?;
        let r = exports
            .maintenance("repair")?
            .call_repair(&mut store, GUEST_ROOT, dry_run)
            .map_err(HostError::Trap)?;
        r.map(repair_from_wit)
            .map_err(|e| HostError::Wal(Mount::new(dir, GUEST_ROOT).error(e)))
    }

    /// The first damage of the log in `dir`, as [`walogs::Wal::find_damage`] finds it,
    /// inside the component: `None` when every frame of every segment is intact (a torn
    /// tail that an open would cut counts as damage). Changes nothing and takes no lock;
    /// `dir` is preopened read-only. [`HostError::Unsupported`] when the component lacks
    /// the optional `maintenance` interface.
    pub fn find_damage(&self, dir: impl AsRef<Path>) -> Result<Option<Damage>, HostError> {
        self.require_maintenance("finding damage")?;
        let dir = dir.as_ref();
        StdStorage::open_reader(dir)?;
        let (mut store, _, exports) = self.instantiate(dir, true, OpenOptions::default())?;
        let r = exports
            .maintenance("finding damage")?
            .call_find_damage(&mut store, GUEST_ROOT)
            .map_err(HostError::Trap)?;
        r.map(|d| d.map(damage_from_wit))
            .map_err(|e| HostError::Wal(Mount::new(dir, GUEST_ROOT).error(e)))
    }

    /// [`HostError::Unsupported`] naming `what` unless the component exports `maintenance`.
    fn require_maintenance(&self, what: &'static str) -> Result<(), HostError> {
        if self.supports_maintenance() {
            Ok(())
        } else {
            Err(HostError::Unsupported {
                what,
                interface: WIT_MAINTENANCE,
            })
        }
    }
}
