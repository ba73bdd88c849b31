//! Round trips, reopen cycles, sizes, rotation, checkpoint, bad paths, locking.

use std::fs;

use walogs::{Lsn, MAX_ENTRY_SIZE, TailState, WalConfig, WalError};
use walogs_conformance::{Backend, Log, disk, expected, fill, open, open_sized};

pub fn round_trip<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    assert_eq!(
        (log.next_lsn(), log.first_lsn(), log.last_lsn()),
        (Lsn(1), None, None)
    );
    assert_eq!(log.entries().unwrap(), vec![]);
    let datas: Vec<Vec<u8>> = vec![vec![], b"a".to_vec(), vec![7; 1000], (0..=255).collect()];
    for (i, data) in datas.iter().enumerate() {
        assert_eq!(log.append(data).unwrap(), Lsn(i as u64 + 1));
    }
    let got = log.entries().unwrap();
    let want: Vec<_> = datas
        .iter()
        .enumerate()
        .map(|(i, d)| (Lsn(i as u64 + 1), d.clone()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        (log.first_lsn(), log.last_lsn(), log.durable_lsn()),
        (Some(Lsn(1)), Some(Lsn(4)), Lsn(4))
    );
    drop(log);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), want);
    assert_eq!(log.tail_state(), TailState::Clean);
}

pub fn reopen_cycles<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    for cycle in 0..5u64 {
        let mut log = open_sized::<B>(dir.path(), 400);
        assert_eq!(log.next_lsn(), Lsn(cycle * 10 + 1));
        assert_eq!(log.tail_state(), TailState::Clean);
        fill(&mut log, cycle * 10 + 10);
    }
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 50));
    assert!(
        log.segment_count() > 1,
        "400-byte segments must have rotated"
    );
    assert_eq!(log.verify().unwrap().entries, 50);
}

pub fn oversize_entry_is_refused_and_max_size_round_trips<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 2);
    let before = disk::snapshot(dir.path());
    match log.append(&vec![1; MAX_ENTRY_SIZE + 1]) {
        Err(WalError::EntryTooLarge { size, max }) => {
            assert_eq!((size, max), (MAX_ENTRY_SIZE + 1, MAX_ENTRY_SIZE))
        }
        other => panic!("expected EntryTooLarge, got {other:?}"),
    }
    let batch = vec![b"ok".to_vec(), vec![0; MAX_ENTRY_SIZE + 1]];
    assert!(matches!(
        log.append_batch(&batch),
        Err(WalError::EntryTooLarge { .. })
    ));
    assert_eq!(
        disk::snapshot(dir.path()),
        before,
        "a refused entry writes nothing"
    );
    assert_eq!(log.next_lsn(), Lsn(3));
    let big: Vec<u8> = (0..MAX_ENTRY_SIZE).map(|i| (i % 251) as u8).collect();
    assert_eq!(log.append(&big).unwrap(), Lsn(3));
    drop(log);
    let mut log = open::<B>(dir.path());
    let entries = log.entries().unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries[2].1 == big, "the 16 MiB entry comes back intact");
}

pub fn manual_rotation<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    log.rotate().unwrap();
    assert_eq!(
        log.segment_count(),
        1,
        "rotating an empty segment is a no-op"
    );
    fill(&mut log, 3);
    log.rotate().unwrap();
    fill(&mut log, 5);
    log.rotate().unwrap();
    assert_eq!(log.segment_count(), 3);
    assert_eq!(disk::segment_seqs(dir.path()), vec![1, 2, 3]);
    let firsts: Vec<_> = log.segments().iter().map(|s| s.first_lsn).collect();
    assert_eq!(firsts, vec![Some(Lsn(1)), Some(Lsn(4)), None]);
    drop(log);
    let mut log = open::<B>(dir.path());
    assert_eq!(
        log.next_lsn(),
        Lsn(6),
        "an empty active segment keeps the LSN"
    );
    assert_eq!(log.entries().unwrap(), expected(1, 5));
}

pub fn automatic_rotation_respects_the_segment_size<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let max = 256;
    let mut log = open_sized::<B>(dir.path(), max);
    fill(&mut log, 40);
    log.append(&[9; 300]).unwrap(); // larger than a segment: gets one of its own
    for seg in log.segments() {
        assert!(
            seg.size <= max || seg.size == 16 + 300,
            "segment {seg:?} exceeds {max}"
        );
    }
    assert!(log.segment_count() >= 5);
    assert_eq!(log.entries().unwrap().len(), 41);
    assert_eq!(log.verify().unwrap().entries, 41);
}

pub fn checkpoint_deletes_applied_segments<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    for last in [3, 6, 9] {
        fill(&mut log, last);
        log.rotate().unwrap();
    }
    fill(&mut log, 10);
    assert_eq!(
        log.checkpoint(Lsn(2)).unwrap(),
        0,
        "segment 1 still holds LSN 3"
    );
    assert_eq!(log.checkpoint(Lsn(7)).unwrap(), 2);
    assert_eq!(disk::segment_seqs(dir.path()), vec![3, 4]);
    assert_eq!(log.first_lsn(), Some(Lsn(7)));
    assert_eq!(log.entries().unwrap(), expected(7, 10));
    assert_eq!(
        log.checkpoint(Lsn(100)).unwrap(),
        1,
        "the active segment is never deleted"
    );
    assert_eq!(log.segment_count(), 1);
    drop(log);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(10, 10));
    assert_eq!(log.append(b"next").unwrap(), Lsn(11));
}

pub fn open_on_a_regular_file_is_refused<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    fs::write(&file, b"precious").unwrap();
    // 0.1.0's variant for 0.1.0's case: an I/O error whose kind is NotADirectory.
    for config in [
        WalConfig::default(),
        WalConfig {
            read_only: true,
            ..WalConfig::default()
        },
    ] {
        match B::open(&file, config) {
            Err(WalError::Io(e)) if e.kind() == std::io::ErrorKind::NotADirectory => {}
            other => panic!("expected Io(NotADirectory), got {:?}", other.err()),
        }
    }
    assert_eq!(fs::read(&file).unwrap(), b"precious");
}

pub fn foreign_files_are_left_alone<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
    fs::write(dir.path().join("wal-1.log"), b"not a segment name").unwrap();
    let mut log = open_sized::<B>(dir.path(), 200);
    fill(&mut log, 30);
    log.checkpoint(Lsn(30)).unwrap();
    drop(log);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.next_lsn(), Lsn(31));
    assert_eq!(fs::read(dir.path().join("notes.txt")).unwrap(), b"mine");
    assert_eq!(
        fs::read(dir.path().join("wal-1.log")).unwrap(),
        b"not a segment name"
    );
}

pub fn second_writer_is_locked_out<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = open::<B>(dir.path());
    fill(&mut first, 2);
    match B::open(dir.path(), WalConfig::default()) {
        Err(WalError::Locked { dir: locked }) => assert_eq!(locked, dir.path()),
        other => panic!("expected Locked, got {:?}", other.err()),
    }
    let reader = WalConfig {
        read_only: true,
        ..WalConfig::default()
    };
    let mut read = B::open(dir.path(), reader).expect("readers need no lock");
    assert_eq!(read.entries().unwrap(), expected(1, 2));
    drop(first);
    let mut second = open::<B>(dir.path());
    assert_eq!(second.append(b"x").unwrap(), Lsn(3));
}

pub fn read_only_reports_but_never_modifies<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 3);
    drop(log);
    let seg = disk::last_segment(dir.path());
    let clean_len = disk::len(&seg);
    disk::append_bytes(&seg, &[0xAB; 9]);
    let before = disk::snapshot(dir.path());
    let mut read = B::open(
        dir.path(),
        WalConfig {
            read_only: true,
            ..WalConfig::default()
        },
    )
    .unwrap();
    assert_eq!(read.tail_state(), TailState::TruncatedAt(clean_len));
    assert_eq!(read.entries().unwrap(), expected(1, 3));
    assert!(matches!(read.append(b"no"), Err(WalError::ReadOnly)));
    assert!(matches!(read.checkpoint(Lsn(1)), Err(WalError::ReadOnly)));
    drop(read);
    assert_eq!(disk::snapshot(dir.path()), before);
}

/// Segment names have six digits: rotating past `wal-999999.log` must fail loudly, not
/// create a file that the next open would not recognise.
pub fn segment_numbers_never_outgrow_their_name<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(disk::segment(dir.path(), 999_999), disk::frame(7, b"seven")).unwrap();
    let mut log = open::<B>(dir.path());
    assert_eq!(log.append(b"eight").unwrap(), Lsn(8));
    assert!(matches!(log.rotate(), Err(WalError::Io(_))));
    assert!(matches!(
        log.append(b"nine"),
        Err(WalError::Poisoned { .. })
    ));
    drop(log);
    assert_eq!(disk::segment_seqs(dir.path()), vec![999_999]);
    let mut log = open::<B>(dir.path());
    let want = vec![(Lsn(7), b"seven".to_vec()), (Lsn(8), b"eight".to_vec())];
    assert_eq!(log.entries().unwrap(), want);
}
