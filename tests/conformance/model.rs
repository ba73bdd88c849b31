//! Model-based property test: random operation sequences (append, batch, rotate,
//! checkpoint, truncate, reopen, crash with a torn tail) against an in-memory model.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use walogs::{Lsn, WalConfig};
use walogs_conformance::{Backend, Log, disk};

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<u8>),
    Batch(Vec<Vec<u8>>),
    Rotate,
    /// Checkpoint at this fraction (per mille) of the log.
    Checkpoint(u16),
    /// Truncate after this fraction (per mille) of the log.
    Truncate(u16),
    Reopen,
    /// Drop the handle and leave this many garbage bytes after the last frame.
    CrashTorn(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let data = proptest::collection::vec(any::<u8>(), 0..120);
    prop_oneof![
        6 => data.clone().prop_map(Op::Append),
        2 => proptest::collection::vec(data, 0..8).prop_map(Op::Batch),
        1 => Just(Op::Rotate),
        1 => (0u16..1000).prop_map(Op::Checkpoint),
        1 => (0u16..1000).prop_map(Op::Truncate),
        1 => Just(Op::Reopen),
        1 => (1u8..40).prop_map(Op::CrashTorn),
    ]
}

/// The model: the entries the log must hold, by LSN.
struct Model {
    /// LSN of `entries[0]`.
    first: u64,
    entries: Vec<Vec<u8>>,
}

impl Model {
    fn next(&self) -> u64 {
        self.first + self.entries.len() as u64
    }
    fn at(&self, per_mille: u16) -> Option<u64> {
        let len = self.entries.len() as u64;
        (len > 0).then(|| self.first + len * u64::from(per_mille) / 1000)
    }
    fn check<L: Log>(&self, log: &mut L) {
        let got = log.entries().expect("iteration");
        let (first, last) = (got.first().map(|e| e.0.0), got.last().map(|e| e.0.0));
        // Checkpoints may keep older segments: the log may start before the model.
        let skip = got.iter().take_while(|(l, _)| l.0 < self.first).count();
        let want: Vec<_> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, d)| (Lsn(self.first + i as u64), d.clone()))
            .collect();
        assert_eq!(
            got[skip..],
            want[..],
            "log {first:?}..{last:?} vs model from {}",
            self.first
        );
        assert_eq!(log.next_lsn(), Lsn(self.next()));
    }
}

fn run<B: Backend>(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig {
        max_segment_size: Some(512),
        ..WalConfig::default()
    };
    let open = || B::open(dir.path(), config.clone()).expect("open");
    let mut log = open();
    let mut model = Model {
        first: 1,
        entries: Vec::new(),
    };
    for op in ops {
        match op {
            Op::Append(data) => {
                assert_eq!(log.append(&data).unwrap(), Lsn(model.next()));
                model.entries.push(data);
            }
            Op::Batch(batch) => {
                let range = log.append_batch(&batch).unwrap();
                assert_eq!(
                    (range.start.0, range.len()),
                    (model.next(), batch.len() as u64)
                );
                model.entries.extend(batch);
            }
            Op::Rotate => log.rotate().unwrap(),
            Op::Checkpoint(at) => {
                if let Some(lsn) = model.at(at) {
                    log.checkpoint(Lsn(lsn)).unwrap();
                    let first = log.first_lsn().expect("entries remain").0;
                    assert!(
                        first <= lsn + 1 && first >= model.first,
                        "first {first} after checkpoint({lsn})"
                    );
                    model.entries.drain(..(first - model.first) as usize);
                    model.first = first;
                }
            }
            Op::Truncate(at) => {
                if let Some(lsn) = model.at(at).filter(|&l| l >= model.first) {
                    log.truncate_after(Lsn(lsn)).unwrap();
                    model.entries.truncate((lsn + 1 - model.first) as usize);
                }
            }
            Op::Reopen => {
                drop(log);
                log = open();
            }
            Op::CrashTorn(garbage) => {
                drop(log);
                disk::append_bytes(
                    &disk::last_segment(dir.path()),
                    &vec![0xEE; garbage as usize],
                );
                log = open();
                assert!(matches!(
                    log.tail_state(),
                    walogs::TailState::TruncatedAt(_)
                ));
            }
        }
        model.check(&mut log);
    }
}

pub fn random_operation_sequences_match_the_model<B: Backend>() {
    let cases = if std::env::var_os("WALOGS_PROPTEST_CASES").is_some() {
        std::env::var("WALOGS_PROPTEST_CASES")
            .unwrap()
            .parse()
            .unwrap()
    } else {
        48
    };
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..40), |ops| {
            run::<B>(ops);
            Ok(())
        })
        .unwrap();
}
