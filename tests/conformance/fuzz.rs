//! Byte-level fuzzing of open and iteration: arbitrary bytes as segment files must give
//! entries or a typed error, never a panic.

use std::fs;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use walogs::{WalConfig, WalError};
use walogs_conformance::{Backend, Log, disk};

/// Segment contents: real frames with random damage, or plain random bytes.
fn segment_bytes() -> impl Strategy<Value = Vec<u8>> {
    let frames = proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..6)
        .prop_flat_map(|datas| {
            let bytes: Vec<u8> = datas
                .iter()
                .enumerate()
                .flat_map(|(i, d)| disk::frame(i as u64 + 1, d))
                .collect();
            let len = bytes.len().max(1);
            (
                Just(bytes),
                proptest::collection::vec((0..len, any::<u8>()), 0..3),
                0..=len,
            )
        })
        .prop_map(|(mut bytes, flips, cut)| {
            for (at, x) in flips {
                if at < bytes.len() {
                    bytes[at] ^= x;
                }
            }
            bytes.truncate(cut);
            bytes
        });
    prop_oneof![frames, proptest::collection::vec(any::<u8>(), 0..200)]
}

fn outcome_is_typed<T>(result: Result<T, WalError>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(WalError::Corrupt { .. } | WalError::Io(_)) => None,
        Err(other) => panic!("unexpected error kind: {other:?}"),
    }
}

pub fn arbitrary_segment_bytes_never_panic<B: Backend>() {
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &proptest::collection::vec(segment_bytes(), 1..4),
            |segments| {
                let dir = tempfile::tempdir().unwrap();
                for (i, bytes) in segments.iter().enumerate() {
                    fs::write(disk::segment(dir.path(), i as u32 + 1), bytes).unwrap();
                }
                for verify_on_open in [false, true] {
                    let config = WalConfig {
                        verify_on_open,
                        ..WalConfig::default()
                    };
                    if let Some(mut log) = outcome_is_typed(B::open(dir.path(), config)) {
                        let lsns: Vec<u64> = match outcome_is_typed(log.entries()) {
                            Some(entries) => entries.iter().map(|(l, _)| l.0).collect(),
                            None => continue,
                        };
                        assert!(lsns.windows(2).all(|w| w[1] == w[0] + 1), "dense: {lsns:?}");
                        let _ = outcome_is_typed(log.verify());
                    }
                }
                Ok(())
            },
        )
        .unwrap();
}
