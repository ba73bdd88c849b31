//! Live iterators across truncation and close.

use walogs::{Lsn, Wal, WalConfig, WalError};

fn entry(lsn: u64) -> Vec<u8> {
    format!("entry {lsn}").into_bytes()
}

/// An iterator made before `truncate_after` and new appends yielded the old entries and
/// then the new ones. It now yields the entries up to the kept LSN, then one typed error
/// for the first removed LSN; never a removed or a new entry.
#[test]
fn an_iterator_never_mixes_entries_from_before_and_after_a_truncation() {
    for segment_size in [None, Some(64)] {
        let dir = tempfile::tempdir().unwrap();
        let config = WalConfig {
            max_segment_size: segment_size,
            ..WalConfig::default()
        };
        let mut wal = Wal::open_with_config(dir.path(), config).unwrap();
        for lsn in 1..=6 {
            wal.append(&entry(lsn)).unwrap();
        }
        let mut iter = wal.iter();
        assert_eq!(iter.next().unwrap().unwrap(), (Lsn(1), entry(1)));
        wal.truncate_after(Lsn(3)).unwrap();
        for lsn in 4..=8 {
            wal.append(format!("new {lsn}").as_bytes()).unwrap();
        }
        let rest: Vec<_> = iter.collect();
        assert_eq!(rest.len(), 3, "{segment_size:?}: {rest:?}");
        assert_eq!(rest[0].as_ref().unwrap(), &(Lsn(2), entry(2)));
        assert_eq!(rest[1].as_ref().unwrap(), &(Lsn(3), entry(3)));
        match &rest[2] {
            Err(WalError::LsnOutOfRange { lsn, next, .. }) => {
                assert_eq!((*lsn, *next), (Lsn(4), Lsn(4)), "{segment_size:?}");
            }
            other => panic!("{segment_size:?}: expected LsnOutOfRange, got {other:?}"),
        }
    }
}

/// An iterator made after the truncation is unaffected by it.
#[test]
fn an_iterator_made_after_a_truncation_reads_the_new_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path()).unwrap();
    for lsn in 1..=5 {
        wal.append(&entry(lsn)).unwrap();
    }
    wal.truncate_after(Lsn(2)).unwrap();
    wal.append(b"new 3").unwrap();
    let all: Vec<_> = wal.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2], (Lsn(3), b"new 3".to_vec()));
}

/// A live iterator kept `DIR/LOCK` after its `Wal` was dropped, so the next open got
/// `Locked`. The lock goes with the `Wal`; the iterator keeps reading.
#[test]
fn a_live_iterator_does_not_keep_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path()).unwrap();
    for lsn in 1..=3 {
        wal.append(&entry(lsn)).unwrap();
    }
    let mut iter = wal.iter();
    assert_eq!(iter.next().unwrap().unwrap(), (Lsn(1), entry(1)));
    drop(wal);
    let reopened = Wal::open(dir.path()).expect("the lock was released with the Wal");
    assert!(matches!(
        Wal::open(dir.path()),
        Err(WalError::Locked { .. })
    ));
    let rest: Vec<_> = iter.collect::<Result<_, _>>().unwrap();
    assert_eq!(rest, vec![(Lsn(2), entry(2)), (Lsn(3), entry(3))]);
    drop(reopened);
}
