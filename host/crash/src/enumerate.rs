//! State enumeration: every case of a class that a recorded workload offers.

use std::collections::BTreeSet;

use super::case::{Case, Class, DamageKind, Fault, RecoveryCrash, Then};
use super::frames;
use super::model::{FsModel, PowerLoss};
use super::rng::Rng;
use super::runner::Recorded;
use super::trace::FsEvent;
use walogs_host::interpose::{WriteFault, WriteFaultKind};

/// Fuel budgets tried per operation.
const FUEL_POINTS: u64 = 6;
/// Operation boundaries (besides the end) at which damage is applied.
const DAMAGE_POINTS: usize = 3;
/// Out-of-order persistence: every subset of a state's choices (unsynced pages and new
/// sizes) when it has at most this many, ...
pub const ALL_SUBSETS_UP_TO: usize = 8;
/// ... else this many subsets drawn at random (each choice kept with probability ½).
pub const SAMPLED_SUBSETS: usize = 64;

/// Every case of `class` for `rec`, in a fixed order (`rng` picks damage spots and fuel
/// budgets). Recovery crashes are not listed here: they need a recovery run per base
/// state (see [`recovery_cases`]).
pub fn cases(class: Class, rec: &Recorded, rng: &mut Rng) -> Vec<Case> {
    let seed = rec.workload.seed;
    let schedule = rec.run.schedule.clone().map(std::sync::Arc::new);
    let case = |fault| Case {
        workload: seed,
        fault,
        recovery: None,
        schedule: schedule.clone(),
    };
    // Live runs of several producers would group differently from the recording.
    let live = matches!(class, Class::Fuel | Class::IoError);
    if live && rec.workload.is_concurrent() {
        return Vec::new();
    }
    let events = &rec.run.events;
    match class {
        Class::Workload | Class::RecoveryCrash => Vec::new(),
        Class::ProcessCrash => (0..=events.len())
            .map(|at| case(Fault::Crash { at }))
            .collect(),
        Class::PowerLoss | Class::TornWrite => {
            let torn = class == Class::TornWrite;
            let mut model = FsModel::from_image(&rec.run.initial);
            let mut out = Vec::new();
            for at in 0..=events.len() {
                if at > 0 {
                    model.apply(&events[at - 1]);
                }
                if !torn {
                    out.push(case(Fault::Power {
                        at,
                        variant: PowerLoss::Durable,
                    }));
                }
                for variant in model.power_loss_variants() {
                    if matches!(variant, PowerLoss::Torn { .. }) == torn {
                        out.push(case(Fault::Power { at, variant }));
                    }
                }
            }
            out
        }
        Class::OutOfOrder => out_of_order_cases(rec, rng).into_iter().map(case).collect(),
        Class::IoError => io_cases(rec).into_iter().map(case).collect(),
        Class::Damage => damage_cases(rec, rng).into_iter().map(case).collect(),
        Class::Fuel => {
            let mut out = Vec::new();
            for (op, record) in rec.run.history.ops.iter().enumerate().skip(1) {
                let Some(fuel) = record.fuel.filter(|&f| f > 1) else {
                    continue;
                };
                let budgets: BTreeSet<u64> =
                    (0..FUEL_POINTS).map(|_| rng.range(1, fuel - 1)).collect();
                out.extend(
                    budgets
                        .into_iter()
                        .map(|budget| case(Fault::Fuel { op, budget })),
                );
            }
            out
        }
    }
}

/// Out-of-order power losses after each event: every subset of the state's choices (see
/// [`FsModel::page_bits`]) when there are few, a seeded sample when there are many. The
/// empty subset is the plain power loss (its own class).
fn out_of_order_cases(rec: &Recorded, rng: &mut Rng) -> Vec<Fault> {
    let events = &rec.run.events;
    let mut model = FsModel::from_image(&rec.run.initial);
    let mut out = Vec::new();
    for at in 0..=events.len() {
        if at > 0 {
            model.apply(&events[at - 1]);
        }
        let n = model.page_bits().len();
        let masks: BTreeSet<u64> = if n == 0 {
            BTreeSet::new()
        } else if n <= ALL_SUBSETS_UP_TO {
            (1..1u64 << n).collect()
        } else {
            let width = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
            (0..SAMPLED_SUBSETS)
                .map(|_| rng.next_u64() & width)
                .filter(|&m| m != 0)
                .collect()
        };
        out.extend(masks.into_iter().map(|mask| Fault::Power {
            at,
            variant: PowerLoss::Pages { mask },
        }));
    }
    out
}

/// Injected faults: each sync failed with EIO, each write failed with EIO and ENOSPC or
/// cut short; each followed by a crash and by a power loss.
fn io_cases(rec: &Recorded) -> Vec<Fault> {
    let mut faults = Vec::new();
    let mut syncs = 0;
    let mut writes = 0;
    for event in &rec.run.events {
        match event {
            FsEvent::Sync { .. } | FsEvent::SyncFailed { .. } => {
                syncs += 1;
                faults.push((None, syncs));
            }
            FsEvent::Write { data, .. } => {
                writes += 1;
                for kind in [
                    WriteFaultKind::Io,
                    WriteFaultKind::NoSpace,
                    WriteFaultKind::Short {
                        keep: data.len().div_ceil(2),
                    },
                ] {
                    if kind == (WriteFaultKind::Short { keep: data.len() }) {
                        continue;
                    }
                    faults.push((Some(WriteFault { nth: writes, kind }), 0));
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (write, sync) in faults {
        for then in [Then::Crash, Then::Power] {
            out.push(Fault::Io { write, sync, then });
        }
    }
    out
}

/// Damage: at the end of the workload and at a few operation boundaries, each 512-byte
/// sector of each log file zeroed, and one bit flipped in it.
fn damage_cases(rec: &Recorded, rng: &mut Rng) -> Vec<Fault> {
    let history = &rec.run.history;
    let mut points: BTreeSet<usize> = BTreeSet::from([rec.run.events.len()]);
    for _ in 0..DAMAGE_POINTS {
        if let Some(op) = history
            .ops
            .get(rng.below(history.ops.len() as u64) as usize)
        {
            points.insert(op.end);
        }
    }
    let mut out = Vec::new();
    for at in points {
        let image = FsModel::replay(&rec.run.initial, &rec.run.events[..at]).process_crash();
        for (file, bytes) in image.files.iter().filter(|(n, _)| frames::is_log_file(n)) {
            for sector in 0..(bytes.len() as u64).div_ceil(512) {
                let file = file.clone();
                out.push(Fault::Damage {
                    at,
                    file: file.clone(),
                    kind: DamageKind::ZeroSector { sector },
                });
                let end = (sector * 512 + 512).min(bytes.len() as u64);
                let offset = rng.range(sector * 512, end - 1);
                let bit = rng.below(8) as u8;
                out.push(Fault::Damage {
                    at,
                    file,
                    kind: DamageKind::BitFlip { offset, bit },
                });
            }
        }
    }
    out
}

/// Base states worth crashing the recovery of: up to `count` of the process-crash and
/// power-loss (torn and out-of-order) cases, preferring the middle of operations.
pub fn recovery_bases(rec: &Recorded, rng: &mut Rng, count: usize) -> Vec<Case> {
    let mut bases = cases(Class::ProcessCrash, rec, rng);
    let mut torn = cases(Class::TornWrite, rec, rng);
    rng.shuffle(&mut torn);
    let mut pages = cases(Class::OutOfOrder, rec, rng);
    rng.shuffle(&mut pages);
    torn.truncate(count);
    pages.truncate(count / 3);
    torn.splice(..0, pages);
    rng.shuffle(&mut torn);
    bases.retain(|c| matches!(c.fault, Fault::Crash { at } if mid_op(rec, at)));
    rng.shuffle(&mut bases);
    let mut out: Vec<Case> = Vec::new();
    let (mut a, mut b) = (bases.into_iter(), torn.into_iter());
    while out.len() < count {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
    out.truncate(count);
    out
}

fn mid_op(rec: &Recorded, at: usize) -> bool {
    rec.run
        .history
        .ops
        .iter()
        .any(|o| o.start < at && at < o.end)
}

/// The recovery-crash cases over `base`, given that recovering it takes `events` events:
/// a crash and a power loss after each of them.
pub fn recovery_cases(base: &Case, events: usize) -> Vec<Case> {
    let mut out = Vec::new();
    for at in 0..=events {
        for then in [Then::Crash, Then::Power] {
            let mut case = base.clone();
            case.recovery = Some(RecoveryCrash { at, then });
            out.push(case);
        }
    }
    out
}
