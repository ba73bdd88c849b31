//! Torn tails, damage, and the 0.1.0 defects (a)–(f), each with its regression test.

use std::fs;

use walogs::{Lsn, TailState, WalConfig, WalError};
use walogs_conformance::{Backend, Log, disk, expected, fill, open, payload};

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, WalError>, what: &str) {
    match result {
        Err(WalError::Corrupt { .. }) => {}
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    }
}

/// Every cut of the last frame, zero-filled or garbage-filled after the cut, is a torn
/// tail: truncated, reported, and followed by a clean append with the same LSN.
pub fn torn_tail_at_every_offset_of_the_last_frame<B: Backend>() {
    let base = tempfile::tempdir().unwrap();
    let mut log = open::<B>(base.path());
    fill(&mut log, 4);
    drop(log);
    let seg = disk::last_segment(base.path());
    let full = disk::len(&seg);
    let last_frame = disk::frame(4, &payload(4)).len() as u64;
    let start = full - last_frame;
    for keep in 0..last_frame {
        for filler in [None, Some(0u8), Some(0xA5u8)] {
            if keep == 0 && filler.is_none() {
                continue; // that is a clean log of three entries
            }
            let dir = tempfile::tempdir().unwrap();
            for (name, bytes) in disk::snapshot(base.path()) {
                fs::write(dir.path().join(name), bytes).unwrap();
            }
            let seg = disk::last_segment(dir.path());
            disk::cut(&seg, start + keep);
            if let Some(byte) = filler {
                disk::append_bytes(&seg, &vec![byte; (last_frame - keep) as usize]);
            }
            let mut log = open::<B>(dir.path());
            let case = format!("kept {keep} bytes, filler {filler:?}");
            assert_eq!(log.tail_state(), TailState::TruncatedAt(start), "{case}");
            assert_eq!(disk::len(&seg), start, "{case}: torn bytes are cut");
            assert_eq!(log.append(b"after").unwrap(), Lsn(4), "{case}");
            drop(log);
            let mut log = open::<B>(dir.path());
            assert_eq!(
                log.tail_state(),
                TailState::Clean,
                "{case}: no buried garbage"
            );
            let mut want = expected(1, 3);
            want.push((Lsn(4), b"after".to_vec()));
            assert_eq!(log.entries().unwrap(), want, "{case}");
        }
    }
}

pub fn corrupt_sealed_segment_is_reported_not_dropped<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 5);
    log.rotate().unwrap();
    fill(&mut log, 8);
    drop(log);
    disk::flip_byte(&disk::segment(dir.path(), 1), 40);
    let before = disk::snapshot(dir.path());
    let verify_on_open = WalConfig {
        verify_on_open: true,
        ..WalConfig::default()
    };
    assert_corrupt(
        B::open(dir.path(), verify_on_open).map(|_| ()),
        "verify_on_open",
    );
    let mut log = open::<B>(dir.path());
    assert_corrupt(log.entries(), "iteration over the damaged segment");
    assert_corrupt(log.verify(), "verify");
    drop(log);
    assert_eq!(
        disk::snapshot(dir.path()),
        before,
        "damage is never repaired silently"
    );
}

pub fn segment_number_gap_is_corruption<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    for last in [2, 4, 6] {
        fill(&mut log, last);
        log.rotate().unwrap();
    }
    drop(log);
    fs::remove_file(disk::segment(dir.path(), 2)).unwrap();
    assert_corrupt(B::open(dir.path(), WalConfig::default()).map(|_| ()), "gap");
}

pub fn lsn_discontinuity_across_segments_is_corruption<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 3);
    log.rotate().unwrap();
    drop(log);
    // Segment 2 claims to start at LSN 5: LSN 4 is missing.
    fs::write(
        disk::segment(dir.path(), 2),
        [disk::frame(5, b"e"), disk::frame(6, b"f")].concat(),
    )
    .unwrap();
    let verify_on_open = WalConfig {
        verify_on_open: true,
        ..WalConfig::default()
    };
    assert_corrupt(
        B::open(dir.path(), verify_on_open).map(|_| ()),
        "verify_on_open",
    );
    let mut log = open::<B>(dir.path());
    assert_corrupt(log.entries(), "iteration");
    assert_corrupt(log.verify(), "verify");
}

/// (a) 0.1.0 restarted LSNs at 1 after a checkpoint left only an empty active segment.
pub fn a_checkpoint_never_lets_lsns_restart<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 3);
    log.rotate().unwrap();
    log.checkpoint(Lsn(3)).unwrap();
    drop(log);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.next_lsn(), Lsn(4));
    assert_eq!(log.append(b"four").unwrap(), Lsn(4));
}

/// (b) 0.1.0 reused the LSN of an entry whose fdatasync failed.
pub fn a_sync_failure_poisons_the_handle<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 2);
    log.fail_syncs();
    assert!(matches!(log.append(b"three"), Err(WalError::Io(_))));
    for _ in 0..2 {
        assert!(matches!(
            log.append(b"again"),
            Err(WalError::Poisoned { .. })
        ));
    }
    assert!(matches!(log.rotate(), Err(WalError::Poisoned { .. })));
    assert!(matches!(log.sync(), Err(WalError::Poisoned { .. })));
    drop(log);
    let mut log = open::<B>(dir.path());
    let entries = log.entries().unwrap();
    assert_eq!(
        entries[..2],
        expected(1, 2)[..],
        "acknowledged entries survive"
    );
    let lsns: Vec<u64> = entries.iter().map(|(l, _)| l.0).collect();
    let dense: Vec<u64> = (1..=lsns.len() as u64).collect();
    assert_eq!(lsns, dense, "no reused or missing LSN");
    let next = log.append(b"after").unwrap();
    assert_eq!(next, Lsn(lsns.len() as u64 + 1));
}

/// (c) 0.1.0 truncated 99 acknowledged entries after one flipped byte in entry 2.
pub fn damage_followed_by_valid_frames_is_an_error<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 100);
    drop(log);
    let entry_2 = disk::frame(1, &payload(1)).len() as u64 + 20;
    disk::flip_byte(&disk::last_segment(dir.path()), entry_2);
    let before = disk::snapshot(dir.path());
    assert_corrupt(
        B::open(dir.path(), WalConfig::default()).map(|_| ()),
        "flipped byte in entry 2",
    );
    assert_eq!(
        disk::snapshot(dir.path()),
        before,
        "the file is left untouched"
    );
}

/// (d) 0.1.0 reported a partial header at the tail as Clean and left it on disk.
pub fn a_partial_header_is_a_torn_tail<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 3);
    drop(log);
    let seg = disk::last_segment(dir.path());
    let clean = disk::len(&seg);
    disk::append_bytes(&seg, &disk::frame(4, b"four")[..7]);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.tail_state(), TailState::TruncatedAt(clean));
    assert_eq!(disk::len(&seg), clean);
    assert_eq!(log.append(b"four").unwrap(), Lsn(4));
}

/// (e) 0.1.0 accepted a CRC-valid frame whose LSN breaks continuity.
pub fn an_lsn_break_inside_a_segment_is_corruption<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 3);
    drop(log);
    disk::append_bytes(&disk::last_segment(dir.path()), &disk::frame(7, b"seven"));
    assert_corrupt(
        B::open(dir.path(), WalConfig::default()).map(|_| ()),
        "LSN 7 after 3",
    );
}

/// (f) 0.1.0's iterator ended silently at corruption.
pub fn iteration_yields_an_error_at_damage<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 10);
    // Damage appears after open, under a live handle: iteration must say so.
    disk::flip_byte(&disk::last_segment(dir.path()), 100);
    let result = log.entries();
    assert_corrupt(result, "iteration");
}

pub fn pending_truncation_is_finished_or_discarded_on_open<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 4);
    log.rotate().unwrap();
    fill(&mut log, 8);
    drop(log);
    // A torn marker was never committed: the old log stays.
    fs::write(dir.path().join("TRUNCATE"), [1, 2, 3]).unwrap();
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 8));
    drop(log);
    assert!(!dir.path().join("TRUNCATE").exists());
    // A whole marker committed "keep up to LSN 2" for exactly these files: open
    // finishes the job. (Markers are tied to the files: see adversarial.rs.)
    let marker = crate::adversarial::marker_for(dir.path(), 2);
    fs::write(dir.path().join("TRUNCATE"), marker).unwrap();
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 2));
    assert_eq!(log.append(b"three").unwrap(), Lsn(3));
    assert!(!dir.path().join("TRUNCATE").exists());
}
