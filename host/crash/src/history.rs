//! What a run acknowledged, op by op, and the oracle's expectations derived from it for a
//! crash at any point of its trace.

use std::collections::BTreeSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The payloads of one truncation epoch, by LSN − 1.
pub type Payloads = Arc<Vec<Arc<[u8]>>>;

/// What one operation did, as the run saw it.
#[derive(Debug, Clone)]
pub struct OpRecord {
    /// The operation, for messages.
    pub op: String,
    /// Its first event in the trace.
    pub start: usize,
    /// One past its last event.
    pub end: usize,
    /// The error it returned (or the trap that stopped it).
    pub error: Option<String>,
    /// The highest LSN acknowledged durable after it (the guest's `durable-lsn`).
    pub acked: u64,
    /// The highest LSN handed out in the current epoch once it started.
    pub issued: u64,
    /// The epoch before it ran.
    pub epoch_before: usize,
    /// The epoch after it ran (a new one for `truncate_after`).
    pub epoch: usize,
    /// For `truncate_after(L)`: `L`.
    pub truncate: Option<u64>,
    /// The highest first LSN the log may have (one past the largest checkpoint LSN).
    pub max_first: u64,
    /// Fuel it consumed, when the runtime meters fuel.
    pub fuel: Option<u64>,
}

/// What one producer of a multi-producer workload was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The producer (its index within its burst of [`crate::Op::Concurrent`]).
    pub producer: usize,
    /// The LSNs its call got: `first..=last`.
    pub first: u64,
    /// The last of them.
    pub last: u64,
    /// The trace length when the group commit carrying them returned: a crash after at
    /// least this many events must keep them.
    pub by_event: usize,
}

/// The acknowledged history of one run.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Payloads per epoch (each `truncate_after` starts one).
    pub epochs: Vec<Payloads>,
    /// Entries present before the first operation (a v1 log).
    pub initial: u64,
    /// The operations in order (one per group commit for concurrent producers).
    pub ops: Vec<OpRecord>,
    /// Per producer call of a multi-producer workload, which LSNs it was acknowledged
    /// and before which trace event (empty for a single producer).
    pub acks: Vec<Ack>,
}

/// One log the recovered state may be: its payloads and the range of last LSNs allowed.
#[derive(Debug, Clone)]
pub struct Version {
    /// Payloads by LSN − 1.
    pub payloads: Payloads,
    /// The lowest last LSN allowed.
    pub min: u64,
    /// The highest last LSN allowed.
    pub max: u64,
}

/// Which entries a damage fault hit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Damaged {
    /// The damaged file is the last segment (only there may recovery cut a tail).
    pub in_last_segment: bool,
    /// LSNs whose frames overlap the damaged bytes.
    pub lsns: BTreeSet<u64>,
}

/// What the oracle accepts after a recovery.
#[derive(Debug, Clone)]
pub struct Expect {
    /// A: the highest LSN acknowledged durable.
    pub acked: u64,
    /// I: the highest LSN handed out.
    pub issued: u64,
    /// The logs the state may hold (two while a `truncate_after` is in flight).
    pub versions: Vec<Version>,
    /// The highest first LSN allowed.
    pub max_first: u64,
    /// Set for damage faults: a typed Corrupt error is then allowed.
    pub damage: Option<Damaged>,
}

impl Expect {
    /// A short description: `A=5 I=7` (with the truncation alternative when there is one).
    pub fn describe(&self) -> String {
        let alts: Vec<String> = self
            .versions
            .iter()
            .map(|v| {
                if v.min == v.max {
                    format!("{}", v.min)
                } else {
                    format!("{}..={}", v.min, v.max)
                }
            })
            .collect();
        let mut text = format!(
            "A={} I={} last LSN in {{{}}} first LSN <= {}",
            self.acked,
            self.issued,
            alts.join(" | "),
            self.max_first
        );
        if let Some(d) = &self.damage {
            let hit: Vec<String> = d.lsns.iter().map(u64::to_string).collect();
            let place = if d.in_last_segment {
                "last"
            } else {
                "a sealed"
            };
            text += &format!("; damage hit LSNs [{}] in {place} segment", hit.join(","));
        }
        text
    }

    /// A digest of what is expected, to tell states apart.
    pub fn digest(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        (self.acked, self.issued, self.max_first, &self.damage).hash(&mut hasher);
        for v in &self.versions {
            (v.min, v.max, v.payloads.len()).hash(&mut hasher);
        }
        hasher.finish()
    }
}

impl History {
    /// The expectation for a crash after the first `p` events of the trace.
    ///
    /// Operations whose events all happened are complete (their acknowledgements count:
    /// the disk is as if they had returned); the one whose events happened in part is in
    /// flight (its LSNs count as handed out; a `truncate_after` may have happened or not).
    /// An operation that failed stays in flight for good.
    pub fn expect_at(&self, p: usize) -> Expect {
        let done = self.ops.iter().take_while(|o| o.end <= p).count();
        let last = done.checked_sub(1).map(|i| &self.ops[i]);
        let in_flight = match self.ops.get(done) {
            Some(op) if op.start < p => Some(op),
            _ => last.filter(|op| op.error.is_some()),
        };
        let settled = match (last, in_flight) {
            (Some(l), Some(f)) if std::ptr::eq(l, f) => done.checked_sub(2).map(|i| &self.ops[i]),
            _ => last,
        };
        let (mut acked, issued, epoch, max_first) = settled
            .map_or((self.initial, self.initial, 0, 1), |o| {
                (o.acked, o.issued, o.epoch, o.max_first)
            });
        let mut expect = Expect {
            acked,
            issued,
            versions: Vec::new(),
            max_first,
            damage: None,
        };
        let mut version = Version {
            payloads: Arc::clone(&self.epochs[epoch]),
            min: acked,
            max: issued,
        };
        if let Some(op) = in_flight {
            // A failed operation's own claim (durable-lsn) still binds.
            if op.error.is_some() {
                acked = acked.max(op.acked);
                expect.acked = acked;
                version.min = acked;
            }
            expect.max_first = expect.max_first.max(op.max_first);
            match op.truncate {
                Some(l) => expect.versions.push(Version {
                    payloads: Arc::clone(&self.epochs[op.epoch]),
                    min: l,
                    max: l,
                }),
                None => {
                    version.payloads = Arc::clone(&self.epochs[op.epoch]);
                    version.max = version.max.max(op.issued);
                    expect.issued = version.max;
                }
            }
        }
        expect.versions.insert(0, version);
        expect
    }

    /// The expectation once every operation ran (or the run stopped).
    pub fn expect_end(&self) -> Expect {
        self.expect_at(self.ops.last().map_or(0, |o| o.end))
    }

    /// The index of the operation in flight (or the last complete one) after `p` events.
    pub fn op_at(&self, p: usize) -> Option<usize> {
        let done = self.ops.iter().take_while(|o| o.end <= p).count();
        match self.ops.get(done) {
            Some(op) if op.start < p => Some(done),
            _ => done.checked_sub(1),
        }
    }
}
