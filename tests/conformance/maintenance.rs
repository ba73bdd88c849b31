//! Explicit repair, the damage finder and the recovery report (issue 10, part 3), on both
//! backends: natively `Wal::repair_with` / `Wal::find_damage` / `Wal::recovery_report`,
//! through the component its optional `maintenance` interface.

use std::fs;
use std::path::Path;

use walogs::{Durability, Lsn, TailState, WalConfig, WalError};
use walogs_conformance::{Backend, Log, disk, open, open_sized};

fn assert_corrupt<B: Backend>(dir: &Path) {
    match B::open(dir, WalConfig::default()) {
        Err(WalError::Corrupt { .. }) => {}
        Err(e) => panic!("expected Corrupt, got {e}"),
        Ok(_) => panic!("expected Corrupt, the log opened"),
    }
}

/// Five 100-byte entries (frames of 116 bytes) in one segment.
fn five_entries<B: Backend>(dir: &Path) {
    let mut log = open::<B>(dir);
    for i in 0..5u8 {
        assert_eq!(log.append(&[i; 100]).unwrap(), Lsn(u64::from(i) + 1));
    }
}

/// A bit flip in the middle of the log: found, dry-run, repaired; every removed byte is
/// in the quarantine file, the log opens and continues after the kept entries.
pub fn a_mid_log_bit_flip_is_repaired_into_quarantine<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    five_entries::<B>(dir.path());
    let seg = disk::segment(dir.path(), 1);
    let mut bytes = fs::read(&seg).unwrap();
    bytes[2 * 116 + 50] ^= 0x04;
    fs::write(&seg, &bytes).unwrap();
    assert_corrupt::<B>(dir.path());
    let before = disk::snapshot(dir.path());

    let found = B::find_damage(dir.path()).unwrap().expect("damage");
    assert_eq!((found.segment, found.offset), (1, 232));
    assert!(found.reason.contains("wal-000001.log"), "{}", found.reason);
    let dry = B::repair(dir.path(), true).unwrap();
    assert_eq!(
        disk::snapshot(dir.path()),
        before,
        "find and dry run change nothing"
    );
    assert_eq!((dry.applied, dry.quarantine.clone()), (false, None));
    assert_eq!(dry.damage.as_ref(), Some(&found));

    let report = B::repair(dir.path(), false).unwrap();
    assert_eq!(report.damage.as_ref(), Some(&found));
    assert_eq!(report.kept_up_to, Some(Lsn(2)));
    assert_eq!(
        report.entries_removed, 2,
        "entries 4 and 5; entry 3 is the damaged one"
    );
    assert_eq!(report.bytes_removed, 3 * 116);
    assert!(report.applied);
    let quarantine = report.quarantine.clone().expect("a quarantine file");
    assert!(dir.path().join(&quarantine).is_file(), "{quarantine}");
    assert_eq!(
        (dry.kept_up_to, dry.entries_removed, dry.bytes_removed),
        (
            report.kept_up_to,
            report.entries_removed,
            report.bytes_removed
        ),
        "the dry run said what the repair did"
    );
    disk::assert_no_byte_lost(dir.path(), &before);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap().len(), 2);
    assert_eq!(log.append(b"after repair").unwrap(), Lsn(3));
    drop(log);

    // A healthy log: nothing found, nothing changed, the quarantine file stays.
    let now = disk::snapshot(dir.path());
    assert_eq!(B::find_damage(dir.path()).unwrap(), None);
    let again = B::repair(dir.path(), false).unwrap();
    assert_eq!((again.damage, again.applied), (None, false));
    assert_eq!(again.kept_up_to, Some(Lsn(3)));
    assert_eq!(disk::snapshot(dir.path()), now);
}

/// The two shapes of issue 10 a power-loss harness found, as a log without a durable
/// point (one written by walogs 0.1.0) holds them: a later part of an unsynced write
/// reached the disk, an earlier part did not. They open with `Corrupt`; repair keeps the
/// acknowledged entry and quarantines the rest.
pub fn the_out_of_order_shapes_without_a_durable_point_are_repaired<B: Backend>() {
    for shape in ["batch", "explicit"] {
        let dir = tempfile::tempdir().unwrap();
        let config = WalConfig {
            durability: match shape {
                "batch" => Durability::Always,
                _ => Durability::Explicit,
            },
            ..WalConfig::default()
        };
        let mut log = B::open(dir.path(), config).unwrap();
        assert_eq!(log.append(&[b'a'; 100]).unwrap(), Lsn(1));
        assert_eq!(log.sync().unwrap(), Lsn(1));
        if shape == "batch" {
            let batch: Vec<Vec<u8>> = (0..4).map(|i| vec![b'b' + i; 1000]).collect();
            log.append_batch(&batch).unwrap();
        } else {
            log.append(&[b'b'; 1000]).unwrap();
            log.append(&[b'c'; 1000]).unwrap();
        }
        drop(log);
        fs::remove_file(dir.path().join("DURABLE")).unwrap();
        let seg = disk::segment(dir.path(), 1);
        let mut bytes = fs::read(&seg).unwrap();
        if shape == "batch" {
            // Only bytes 2106..4096 of the batch reached the disk.
            bytes[116..2106].fill(0);
            bytes.truncate(4096);
        } else {
            // The second append reached the disk, the first did not.
            bytes[116..116 + 1016].fill(0);
        }
        fs::write(&seg, &bytes).unwrap();
        assert_corrupt::<B>(dir.path());
        let before = disk::snapshot(dir.path());

        let found = B::find_damage(dir.path()).unwrap().expect("damage");
        assert_eq!((found.segment, found.offset), (1, 116), "{shape}");
        let report = B::repair(dir.path(), false).unwrap();
        assert_eq!(report.damage, Some(found), "{shape}");
        assert_eq!(report.kept_up_to, Some(Lsn(1)), "{shape}");
        assert_eq!(report.entries_removed, 1, "{shape}: the intact later frame");
        assert_eq!(report.bytes_removed, bytes.len() as u64 - 116, "{shape}");
        disk::assert_no_byte_lost(dir.path(), &before);
        let mut log = open::<B>(dir.path());
        assert_eq!(
            log.entries().unwrap(),
            vec![(Lsn(1), vec![b'a'; 100])],
            "{shape}"
        );
        assert_eq!(log.append(b"next").unwrap(), Lsn(2), "{shape}");
    }
}

/// Damage in a sealed segment: the rest of it and every later segment go to quarantine.
pub fn damage_in_a_sealed_segment_quarantines_it_and_every_later_segment<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open_sized::<B>(dir.path(), 300);
    for i in 0..12u8 {
        log.append(&[i; 100]).unwrap();
    }
    drop(log);
    // Two frames per segment: a flipped byte in the second frame of segment 2 (LSN 4).
    disk::flip_byte(&disk::segment(dir.path(), 2), 116 + 30);
    let before = disk::snapshot(dir.path());
    let found = B::find_damage(dir.path()).unwrap().expect("damage");
    assert_eq!((found.segment, found.offset), (2, 116));
    let report = B::repair(dir.path(), false).unwrap();
    assert_eq!(report.kept_up_to, Some(Lsn(3)));
    assert_eq!(report.entries_removed, 8, "LSNs 5..=12");
    assert_eq!(report.bytes_removed, 116 + 4 * 232);
    disk::assert_no_byte_lost(dir.path(), &before);
    assert_eq!(disk::segment_seqs(dir.path()), vec![1, 2]);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.verify().unwrap().entries, 3);
    assert_eq!(log.append(b"next").unwrap(), Lsn(4));
}

/// A repair takes the directory's write lock, as an open for writing does; a dry run and
/// the damage finder take none.
pub fn repair_holds_the_write_lock_and_readers_take_none<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    five_entries::<B>(dir.path());
    let log = open::<B>(dir.path());
    match B::repair(dir.path(), false) {
        Err(WalError::Locked { dir: locked }) => assert_eq!(locked, dir.path()),
        other => panic!("expected Locked, got {other:?}"),
    }
    assert_eq!(B::repair(dir.path(), true).unwrap().damage, None);
    assert_eq!(B::find_damage(dir.path()).unwrap(), None);
    drop(log);
    assert!(B::repair(dir.path(), false).unwrap().damage.is_none());
    // The repair released the lock when it returned.
    open::<B>(dir.path());
    let missing = dir.path().join("missing");
    assert!(
        B::find_damage(&missing).is_err(),
        "a reader needs the directory"
    );
}

/// The recovery report says what the open cut: nothing on a clean log; a torn tail's
/// bytes; and the valid but never-acknowledged frames of an out-of-order crash.
pub fn the_recovery_report_says_what_the_open_cut<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    assert_eq!(log.append(&[b'a'; 100]).unwrap(), Lsn(1));
    let clean = log.recovery_report();
    assert_eq!((clean.segment, clean.cut_at), (None, None));
    assert_eq!((clean.bytes_discarded, clean.frames_discarded), (0, 0));
    let at_crash: Vec<(String, Vec<u8>)> = disk::snapshot(dir.path());
    let batch: Vec<Vec<u8>> = (0..4).map(|i| vec![b'b' + i; 1000]).collect();
    log.append_batch(&batch).unwrap();
    drop(log);
    let written = fs::read(disk::segment(dir.path(), 1)).unwrap();

    // A torn tail: half of a frame after the last entry (the segment as the frames left
    // it, without the pre-fill that followed them at the crash).
    let torn = tempfile::tempdir().unwrap();
    for (name, bytes) in &at_crash {
        fs::write(torn.path().join(name), bytes).unwrap();
    }
    fs::write(disk::segment(torn.path(), 1), &written[..116 + 500]).unwrap();
    let mut log = open::<B>(torn.path());
    assert_eq!(log.tail_state(), TailState::TruncatedAt(116));
    let report = log.recovery_report();
    assert_eq!((report.segment, report.cut_at), (Some(1), Some(116)));
    assert_eq!((report.bytes_discarded, report.frames_discarded), (500, 0));
    drop(log);

    // Issue 10's batch shape with the durable point at LSN 1: only bytes 2106..4096 of the
    // batch reached the disk; the intact frame of LSN 4 among them was never acknowledged.
    let crashed = tempfile::tempdir().unwrap();
    for (name, bytes) in &at_crash {
        fs::write(crashed.path().join(name), bytes).unwrap();
    }
    let mut bytes = written.clone();
    bytes[116..2106].fill(0);
    bytes.truncate(4096);
    fs::write(disk::segment(crashed.path(), 1), &bytes).unwrap();
    let mut log = open::<B>(crashed.path());
    let report = log.recovery_report();
    assert_eq!((report.segment, report.cut_at), (Some(1), Some(116)));
    assert_eq!(report.bytes_discarded, 4096 - 116);
    assert_eq!(report.frames_discarded, 1, "LSN 4, whole at 2148");
    // The durable point the crash left: the one recorded when the log was opened, before
    // LSN 1 (appends refresh it only now and then); past it, the cut is an interrupted write.
    assert_eq!(report.durable_point, Some(0));
    assert_eq!(report.durable_next_lsn, Some(Lsn(1)));
    assert_eq!(log.next_lsn(), Lsn(2));
}
