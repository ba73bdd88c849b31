//! The WIT export `walogs:wal/maintenance`: repair, the damage finder and the recovery
//! report, mapped onto [`crate::Wal::repair_with`], [`crate::Wal::find_damage`] and
//! [`crate::Wal::recovery_report`].

use std::path::Path;

use super::exports::walogs::wal::log::WalBorrow;
use super::exports::walogs::wal::maintenance::{
    Damage as WitDamage, Guest, RecoveryReport as WitRecovery, RepairReport as WitRepair,
};
use super::{Component, GuestWalImpl, opt, to_wit, wit};
use crate::{Damage, RepairOptions, Wal};

/// The WIT record for the engine's damage.
fn damage_to_wit(d: Damage) -> WitDamage {
    WitDamage {
        segment: d.segment,
        offset: d.offset,
        reason: d.reason,
    }
}

impl Guest for Component {
    fn repair(path: String, dry_run: bool) -> Result<WitRepair, wit::Error> {
        let options = if dry_run {
            RepairOptions::dry_run()
        } else {
            RepairOptions::default()
        };
        let r = Wal::repair_with(Path::new(&path), options).map_err(to_wit)?;
        Ok(WitRepair {
            damage: r.damage.map(damage_to_wit),
            kept_up_to: opt(r.kept_up_to),
            entries_removed: r.entries_removed,
            bytes_removed: r.bytes_removed,
            quarantine: r.quarantine,
            applied: r.applied,
        })
    }

    fn find_damage(path: String) -> Result<Option<WitDamage>, wit::Error> {
        let damage = Wal::find_damage(Path::new(&path)).map_err(to_wit)?;
        Ok(damage.map(damage_to_wit))
    }

    fn recovery(log: WalBorrow<'_>) -> WitRecovery {
        let r = log.get::<GuestWalImpl>().wal.borrow().recovery_report();
        WitRecovery {
            segment: r.segment,
            cut_at: r.cut_at,
            bytes_discarded: r.bytes_discarded,
            frames_discarded: r.frames_discarded,
            durable_point: r.durable_point,
            durable_next_lsn: opt(r.durable_next_lsn),
        }
    }
}
