//! Seeded workloads: a log configuration (segments of 300–2,500 bytes, or of 6–20 KB in a
//! quarter of them), an optional v1 log to start from, and a list of
//! operations (appends of varied sizes, batches, syncs, rotations, checkpoints, suffix
//! truncations, reopens).

use std::fmt;

use walogs::{Durability, WalConfig};

use super::frames;
use super::image::Image;
use super::rng::Rng;

/// One operation of a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Open the log (always the first operation; recovery runs here).
    Open,
    /// Append one entry.
    Append(Vec<u8>),
    /// Append entries with one batch.
    Batch(Vec<Vec<u8>>),
    /// `sync`.
    Sync,
    /// `rotate`.
    Rotate,
    /// `checkpoint` at this fraction (per mille) of the way from the first to the last LSN.
    Checkpoint(u16),
    /// `truncate_after` at this fraction (per mille) of the way from the first to the last
    /// LSN.
    TruncateAfter(u16),
    /// Close the log and open it again.
    Reopen,
    /// Producer threads appending at once through one shared log (group commit): per
    /// producer, its calls in order, each a list of entries (one: `append`; more:
    /// `append_batch`).
    Concurrent(Vec<Vec<Vec<Vec<u8>>>>),
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Open => write!(f, "open"),
            Op::Append(data) => write!(f, "append({} B)", data.len()),
            Op::Batch(entries) => write!(f, "append_batch({} entries)", entries.len()),
            Op::Sync => write!(f, "sync"),
            Op::Rotate => write!(f, "rotate"),
            Op::Checkpoint(pm) => write!(f, "checkpoint({pm}‰)"),
            Op::TruncateAfter(pm) => write!(f, "truncate_after({pm}‰)"),
            Op::Reopen => write!(f, "reopen"),
            Op::Concurrent(producers) => {
                let calls: usize = producers.iter().map(Vec::len).sum();
                write!(
                    f,
                    "concurrent({} producers, {calls} calls)",
                    producers.len()
                )
            }
        }
    }
}

/// A workload: everything a run needs, derived from one seed.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The seed it was made from.
    pub seed: u64,
    /// How the log is opened.
    pub config: WalConfig,
    /// Entries of a v1 `wal.log` present before the first open (often none).
    pub v1_entries: Vec<Vec<u8>>,
    /// The operations, starting with [`Op::Open`].
    pub ops: Vec<Op>,
}

/// The share of workloads (per cent) with several producers ([`Op::Concurrent`]).
pub const CONCURRENT_PERCENT: u64 = 15;

impl Workload {
    /// Whether producer threads append concurrently in it: its group commits depend on
    /// thread timing, so the live fault classes (fuel, I/O errors) skip it.
    pub fn is_concurrent(&self) -> bool {
        self.ops.iter().any(|op| matches!(op, Op::Concurrent(_)))
    }

    /// The workload of `seed`.
    pub fn generate(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let durability = match rng.below(100) {
            0..=44 => Durability::Always,
            45..=84 => Durability::Explicit,
            _ => Durability::None,
        };
        let mut max_segment_size = Some(rng.range(300, 2_500));
        // A quarter of the workloads keep segments of several 4 KiB pages, where unsynced
        // pages can reach the disk out of order (drawn apart, so the rest stay as they were).
        let mut many = Rng::new(super::rng::derive(seed, 0x9A6E));
        if many.chance(25) {
            max_segment_size = Some(many.range(6_000, 20_000));
        }
        let config = WalConfig {
            max_segment_size,
            durability,
            ..WalConfig::default()
        };
        let mut payloads = Payloads::new(&mut rng);
        let v1_entries = if rng.chance(20) {
            (0..rng.range(1, 6))
                .map(|_| payloads.next(&mut rng))
                .collect()
        } else {
            Vec::new()
        };
        let count = rng.range(18, 34);
        let mut ops = vec![Op::Open];
        if many.chance(CONCURRENT_PERCENT) {
            // Several producers: bursts of concurrent appends between single-threaded
            // operations.
            let producers = many.range(2, 6) as usize;
            for _ in 0..many.range(2, 4) {
                let calls = (0..producers)
                    .map(|_| {
                        (0..many.range(1, 4))
                            .map(|_| {
                                let n = if many.chance(25) { many.range(2, 4) } else { 1 };
                                (0..n).map(|_| payloads.next(&mut rng)).collect()
                            })
                            .collect()
                    })
                    .collect();
                ops.push(Op::Concurrent(calls));
                ops.push(match many.below(5) {
                    0 => Op::Sync,
                    1 => Op::Rotate,
                    2 => Op::Checkpoint(many.below(1001) as u16),
                    3 => Op::Reopen,
                    _ => Op::Append(payloads.next(&mut rng)),
                });
            }
            return Self {
                seed,
                config,
                v1_entries,
                ops,
            };
        }
        for _ in 0..count {
            ops.push(match rng.below(100) {
                0..=44 => Op::Append(payloads.next(&mut rng)),
                45..=59 => {
                    let n = rng.range(2, 6);
                    Op::Batch((0..n).map(|_| payloads.next(&mut rng)).collect())
                }
                60..=71 => Op::Sync,
                72..=77 => Op::Rotate,
                78..=85 => Op::Checkpoint(rng.below(1001) as u16),
                86..=92 => Op::TruncateAfter(rng.below(1001) as u16),
                _ => Op::Reopen,
            });
        }
        Self {
            seed,
            config,
            v1_entries,
            ops,
        }
    }

    /// The directory before the first open: the lock file the host creates, and the v1
    /// log when there is one.
    pub fn initial_image(&self) -> Image {
        let mut image = Image::default();
        image
            .files
            .insert(walogs_host::LOCK_FILE.into(), Vec::new());
        if !self.v1_entries.is_empty() {
            let mut log = Vec::new();
            for (i, data) in self.v1_entries.iter().enumerate() {
                log.extend(frames::encode(i as u64 + 1, data));
            }
            image.files.insert("wal.log".into(), log);
        }
        image
    }

    /// One line describing the workload.
    pub fn describe(&self) -> String {
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for op in &self.ops {
            let name = match op {
                Op::Open => "open",
                Op::Append(_) => "append",
                Op::Batch(_) => "batch",
                Op::Sync => "sync",
                Op::Rotate => "rotate",
                Op::Checkpoint(_) => "checkpoint",
                Op::TruncateAfter(_) => "truncate",
                Op::Reopen => "reopen",
                Op::Concurrent(_) => "concurrent",
            };
            *counts.entry(name).or_default() += 1;
        }
        let ops: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        format!(
            "durability {:?}, max segment {} B, {} v1 entries; {}",
            self.config.durability,
            self.config.max_segment_size.unwrap_or(0),
            self.v1_entries.len(),
            ops.join(", ")
        )
    }
}

/// Distinct payloads of varied sizes: each starts with its serial number, so no two
/// entries of a workload are equal.
struct Payloads {
    serial: u32,
    salt: u64,
}

impl Payloads {
    fn new(rng: &mut Rng) -> Self {
        Self {
            serial: 0,
            salt: rng.next_u64(),
        }
    }

    fn next(&mut self, rng: &mut Rng) -> Vec<u8> {
        self.serial += 1;
        let len = match rng.below(100) {
            0..=9 => rng.below(4),
            10..=49 => rng.range(4, 64),
            50..=84 => rng.range(64, 400),
            85..=96 => rng.range(400, 1_500),
            _ => rng.range(1_500, 5_000),
        } as usize;
        let mut fill = Rng::new(self.salt ^ u64::from(self.serial));
        let mut data: Vec<u8> = (0..len).map(|_| fill.next_u64() as u8).collect();
        for (byte, tag) in data.iter_mut().zip(self.serial.to_le_bytes()) {
            *byte = tag;
        }
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_deterministic_and_varied() {
        let a = Workload::generate(1);
        let b = Workload::generate(1);
        assert_eq!(a.ops, b.ops);
        assert_eq!(a.ops[0], Op::Open);
        let kinds: std::collections::BTreeSet<String> = (0..40)
            .flat_map(|s| Workload::generate(s).ops)
            .map(|op| op.to_string().split('(').next().unwrap_or("").to_owned())
            .collect();
        for kind in [
            "append",
            "append_batch",
            "sync",
            "rotate",
            "checkpoint",
            "reopen",
        ] {
            assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
        }
    }
}
