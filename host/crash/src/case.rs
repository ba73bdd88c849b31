//! Cases: one crash state each — a workload, a fault, maybe a crash during recovery. Their
//! text form (`case_text`) replays them exactly.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::model::PowerLoss;
use super::producers::Schedule;
use walogs_host::interpose::WriteFault;

/// The fault classes, one row each in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Recorded workload runs (a failed or unexplained clean run is a violation).
    Workload,
    /// The process dies after an I/O call: the page cache survives.
    ProcessCrash,
    /// The process dies when its fuel runs out, between I/O calls.
    Fuel,
    /// Power loss: only what syncs made durable survives (and unsynced directory changes
    /// in part).
    PowerLoss,
    /// Power loss with a prefix of the unsynced writes, the last one torn.
    TornWrite,
    /// Power loss keeping any subset of the unsynced 4 KiB pages of every file, each
    /// file's size durable or new (out-of-order persistence).
    OutOfOrder,
    /// An injected EIO on a sync, EIO or ENOSPC on a write, or a short write; then a
    /// crash or a power loss.
    IoError,
    /// A bit flip or a zeroed 512-byte sector in a segment.
    Damage,
    /// A crash (process or power) in the middle of recovering a crash state.
    RecoveryCrash,
}

impl Class {
    /// Every class, in summary order.
    pub const ALL: [Class; 9] = [
        Class::Workload,
        Class::ProcessCrash,
        Class::Fuel,
        Class::PowerLoss,
        Class::TornWrite,
        Class::OutOfOrder,
        Class::IoError,
        Class::Damage,
        Class::RecoveryCrash,
    ];

    /// The class's name (kebab-case).
    pub fn name(self) -> &'static str {
        match self {
            Class::Workload => "workload",
            Class::ProcessCrash => "process-crash",
            Class::Fuel => "fuel",
            Class::PowerLoss => "power-loss",
            Class::TornWrite => "torn-write",
            Class::OutOfOrder => "out-of-order",
            Class::IoError => "io-error",
            Class::Damage => "damage",
            Class::RecoveryCrash => "recovery-crash",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What follows a fault: the process dies, or the machine loses power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Then {
    /// A process crash: everything written survives.
    Crash,
    /// A power loss: only what was made durable survives.
    Power,
}

/// Damage done to one file of a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DamageKind {
    /// Flip bit `bit` of the byte at `offset`.
    BitFlip {
        /// The byte.
        offset: u64,
        /// The bit (0–7).
        bit: u8,
    },
    /// Zero the 512-byte sector `sector` (its part inside the file).
    ZeroSector {
        /// The sector number.
        sector: u64,
    },
}

/// The fault that makes a state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A process crash after `at` events of the trace.
    Crash {
        /// Events applied.
        at: usize,
    },
    /// A power loss after `at` events, leaving `variant`.
    Power {
        /// Events applied.
        at: usize,
        /// Which durable state.
        variant: PowerLoss,
    },
    /// A run with an injected I/O fault, then a crash or a power loss at its end.
    Io {
        /// The injected fault: a sync (`None`) or a write.
        write: Option<WriteFault>,
        /// For a sync fault: which sync of the run (1-based).
        sync: u64,
        /// What follows.
        then: Then,
    },
    /// Damage to file `file` of the process-crash state after `at` events.
    Damage {
        /// Events applied.
        at: usize,
        /// The damaged file.
        file: String,
        /// The damage.
        kind: DamageKind,
    },
    /// The guest stopped by fuel `budget` at the start of operation `op`.
    Fuel {
        /// The operation.
        op: usize,
        /// Fuel it gets.
        budget: u64,
    },
}

/// A crash during recovery of a state: after `at` events of the recovery, then `then`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecoveryCrash {
    /// Events of the recovery applied.
    pub at: usize,
    /// What follows.
    pub then: Then,
}

/// One crash state: a workload, a fault and possibly a crash during its recovery.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Case {
    /// The workload's seed.
    pub workload: u64,
    /// The fault.
    pub fault: Fault,
    /// A crash while recovering the fault's state.
    pub recovery: Option<RecoveryCrash>,
    /// For a multi-producer workload: the group commits its recorded run made, so that a
    /// replay makes the same ones (thread timing decides them).
    pub schedule: Option<Arc<Schedule>>,
}

impl Case {
    /// The class the case counts in.
    pub fn class(&self) -> Class {
        if self.recovery.is_some() {
            return Class::RecoveryCrash;
        }
        match &self.fault {
            Fault::Crash { .. } => Class::ProcessCrash,
            Fault::Power {
                variant: PowerLoss::Torn { .. },
                ..
            } => Class::TornWrite,
            Fault::Power {
                variant: PowerLoss::Pages { .. },
                ..
            } => Class::OutOfOrder,
            Fault::Power { .. } => Class::PowerLoss,
            Fault::Io { .. } => Class::IoError,
            Fault::Damage { .. } => Class::Damage,
            Fault::Fuel { .. } => Class::Fuel,
        }
    }
}
