//! Faults found by testing as an adversary would: odd directory entries, emptied
//! segments, truncation markers that do not belong to the log, extreme LSNs, read-only
//! opens of unusual states. Each test failed on the engine before the fix.

use std::fs;
use std::path::Path;

use walogs::{Lsn, TailState, WalConfig, WalError};
use walogs_conformance::{Backend, Log, disk, expected, fill, open, open_sized, payload};

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, WalError>, what: &str) {
    match result {
        Err(WalError::Corrupt { .. }) => {}
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    }
}

fn read_only() -> WalConfig {
    WalConfig {
        read_only: true,
        ..WalConfig::default()
    }
}

/// A log of entries 1..=12 in segments of at most 120 bytes (several segments).
fn segmented_log<B: Backend>(dir: &Path) {
    let mut log = open_sized::<B>(dir, 120);
    fill(&mut log, 12);
    drop(log);
    assert!(disk::segment_seqs(dir).len() >= 4);
}

/// A truncation marker in the current format, built independently of the engine:
/// "WTR2", the LSN kept, where its frame ends, the segment holding it, the count and
/// sizes of that segment and every later one, and a CRC-32 of all of it.
fn marker(lsn: u64, seq: u32, cut: u64, sizes: &[u64]) -> Vec<u8> {
    let mut b = b"WTR2".to_vec();
    b.extend_from_slice(&lsn.to_le_bytes());
    b.extend_from_slice(&cut.to_le_bytes());
    b.extend_from_slice(&seq.to_le_bytes());
    b.extend_from_slice(&(sizes.len() as u32).to_le_bytes());
    for size in sizes {
        b.extend_from_slice(&size.to_le_bytes());
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

/// The marker the engine writes for "keep up to `lsn`" in the log in `dir` as it is now.
pub(crate) fn marker_for(dir: &Path, lsn: u64) -> Vec<u8> {
    let seqs = disk::segment_seqs(dir);
    let mut holder = None;
    for &seq in seqs.iter().rev() {
        let bytes = fs::read(disk::segment(dir, seq)).unwrap();
        if bytes.len() >= 16 && u64::from_le_bytes(bytes[8..16].try_into().unwrap()) <= lsn {
            holder = Some((seq, bytes));
            break;
        }
    }
    let (seq, bytes) = holder.expect("a segment holds the LSN");
    let mut at = 0usize;
    let cut = loop {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let found = u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap());
        at += 16 + len;
        if found == lsn {
            break at as u64;
        }
    };
    let last = *seqs.last().unwrap();
    let sizes: Vec<u64> = (seq..=last)
        .map(|s| disk::len(&disk::segment(dir, s)))
        .collect();
    marker(lsn, seq, cut, &sizes)
}

/// The 12-byte marker of the engine before this change: an LSN and its CRC, tied to
/// nothing. It must never be acted on.
pub(crate) fn untied_marker(lsn: u64) -> Vec<u8> {
    let mut b = lsn.to_le_bytes().to_vec();
    b.extend_from_slice(&crc32fast::hash(&lsn.to_le_bytes()).to_le_bytes());
    b
}

fn symlink(target: &str, link: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, link).unwrap();
    #[cfg(not(unix))]
    panic!(
        "symlinks are tested on unix only: {target} {}",
        link.display()
    );
}

/// A segment name that is a symlink was skipped: the log read as shorter and the next
/// append reused LSNs. It is followed (as 0.1.0 did); a dangling one is an error.
pub fn a_symlinked_segment_is_followed_never_skipped<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    segmented_log::<B>(dir.path());
    let last = *disk::segment_seqs(dir.path()).last().unwrap();
    let seg = disk::segment(dir.path(), last);
    fs::rename(&seg, dir.path().join("moved.bin")).unwrap();
    symlink("moved.bin", &seg);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 12));
    assert_eq!(log.append(&payload(13)).unwrap(), Lsn(13), "no LSN reused");
    drop(log);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 13));
    drop(log);

    let next = disk::segment(dir.path(), last + 1);
    symlink("nowhere.bin", &next);
    match B::open(dir.path(), WalConfig::default()) {
        Err(WalError::Io(_) | WalError::Corrupt { .. }) => {}
        other => panic!(
            "a dangling segment symlink: expected an error, got {:?}",
            other.err()
        ),
    }
}

/// A sealed segment emptied to 0 bytes while later segments exist was accepted, and LSNs
/// were reused. The engine never seals an empty segment: this is damage.
pub fn an_empty_sealed_segment_is_corruption<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    segmented_log::<B>(dir.path());
    disk::cut(&disk::segment(dir.path(), 2), 0);
    let before = disk::snapshot(dir.path());
    assert_corrupt(
        B::open(dir.path(), WalConfig::default()).map(|_| ()),
        "open",
    );
    let verify_on_open = WalConfig {
        verify_on_open: true,
        ..WalConfig::default()
    };
    assert_corrupt(
        B::open(dir.path(), verify_on_open).map(|_| ()),
        "verify_on_open",
    );
    assert_corrupt(B::open(dir.path(), read_only()).map(|_| ()), "read-only");
    assert_eq!(disk::snapshot(dir.path()), before, "files untouched");
}

/// Markers that name an LSN the log does not hold where they say (LSN 0, one below the
/// first retained entry, one behind hidden damage), or that are tied to nothing, were
/// acted on before being validated: later segments were deleted, then open failed for
/// good. Now nothing is deleted: the marker does not match the files and is discarded.
pub fn a_marker_that_does_not_match_the_files_deletes_nothing<B: Backend>() {
    let base = tempfile::tempdir().unwrap();
    segmented_log::<B>(base.path());
    let mut log = open_sized::<B>(base.path(), 120);
    log.checkpoint(Lsn(4)).unwrap();
    let first = log.first_lsn().unwrap().0;
    drop(log);
    assert!(first > 1);
    let seqs = disk::segment_seqs(base.path());
    let sizes: Vec<u64> = seqs
        .iter()
        .map(|&s| disk::len(&disk::segment(base.path(), s)))
        .collect();
    let cases = [
        ("untied, LSN 0", untied_marker(0)),
        ("untied, below the first entry", untied_marker(first - 1)),
        ("untied, LSN 5", untied_marker(5)),
        ("LSN 0", marker(0, seqs[0], 0, &sizes)),
        (
            "below the first entry",
            marker(first - 1, seqs[0], 10, &sizes),
        ),
        ("wrong cut", marker(first, seqs[0], 7, &sizes)),
        ("wrong sizes", {
            let mut m = marker_for(base.path(), first);
            m[28] ^= 1; // first size
            let body = m.len() - 4;
            let crc = crc32fast::hash(&m[..body]);
            m[body..].copy_from_slice(&crc.to_le_bytes());
            m
        }),
    ];
    for (what, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in disk::snapshot(base.path()) {
            fs::write(dir.path().join(name), content).unwrap();
        }
        fs::write(dir.path().join("TRUNCATE"), &bytes).unwrap();
        let mut log = open::<B>(dir.path());
        assert_eq!(log.entries().unwrap(), expected(first, 12), "{what}");
        assert_eq!(log.next_lsn(), Lsn(13), "{what}");
        drop(log);
        assert_eq!(
            disk::segment_seqs(dir.path()),
            seqs,
            "{what}: no segment deleted"
        );
        assert!(
            !dir.path().join("TRUNCATE").exists(),
            "{what}: marker discarded"
        );
    }

    // A matching marker over hidden damage in the segment it cuts: nothing is deleted.
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in disk::snapshot(base.path()) {
        fs::write(dir.path().join(name), content).unwrap();
    }
    let m = marker_for(dir.path(), 9);
    let holder = u32::from_le_bytes(m[20..24].try_into().unwrap());
    disk::flip_byte(&disk::segment(dir.path(), holder), 20);
    fs::write(dir.path().join("TRUNCATE"), m).unwrap();
    let result = B::open(dir.path(), WalConfig::default()).map(|_| ());
    assert_corrupt(result, "damage in the segment holding the kept LSN");
    assert_eq!(disk::segment_seqs(dir.path()), seqs, "no segment deleted");
}

/// A marker left by a crash, then a walogs 0.1.0 session that appends (it ignores the
/// marker), then an open here: the entries 0.1.0 acknowledged used to be deleted. The
/// marker is tied to the sizes of the files it was written for, so it is discarded.
pub fn a_marker_is_discarded_once_0_1_0_appended_after_it<B: Backend>() {
    for kind in ["tied", "untied"] {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open::<B>(dir.path());
        fill(&mut log, 5);
        log.rotate().unwrap();
        fill(&mut log, 8);
        drop(log);
        let m = match kind {
            "tied" => marker_for(dir.path(), 3),
            _ => untied_marker(3),
        };
        fs::write(dir.path().join("TRUNCATE"), m).unwrap();
        let mut old = walogs01::Wal::open(dir.path()).unwrap();
        for lsn in 9..=11 {
            assert_eq!(old.append(&payload(lsn)).unwrap().0, lsn);
        }
        drop(old);
        let mut log = open::<B>(dir.path());
        assert_eq!(log.entries().unwrap(), expected(1, 11), "{kind}");
        assert!(!dir.path().join("TRUNCATE").exists(), "{kind}");
    }
}

/// A crash in the middle of `truncate_after`, at each step: marker written, later
/// segments deleted, holder cut. Each state finishes to the truncated log.
pub fn a_matching_marker_is_finished_from_every_intermediate_state<B: Backend>() {
    let base = tempfile::tempdir().unwrap();
    segmented_log::<B>(base.path());
    let m = marker_for(base.path(), 5);
    let holder = u32::from_le_bytes(m[20..24].try_into().unwrap());
    let cut = u64::from_le_bytes(m[12..20].try_into().unwrap());
    let seqs = disk::segment_seqs(base.path());
    let later = seqs.iter().filter(|&&s| s > holder).count();
    for deleted in 0..=later + 1 {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in disk::snapshot(base.path()) {
            fs::write(dir.path().join(name), content).unwrap();
        }
        fs::write(dir.path().join("TRUNCATE"), &m).unwrap();
        for &seq in seqs.iter().rev().take(deleted.min(later)) {
            fs::remove_file(disk::segment(dir.path(), seq)).unwrap();
        }
        if deleted > later {
            disk::cut(&disk::segment(dir.path(), holder), cut);
        }
        let mut log = open::<B>(dir.path());
        assert_eq!(
            log.entries().unwrap(),
            expected(1, 5),
            "{deleted} steps done"
        );
        assert_eq!(log.append(b"six").unwrap(), Lsn(6));
        assert!(!dir.path().join("TRUNCATE").exists());
    }
}

/// Any marker, even a torn one, made a read-only open fail with `Corrupt`. A reader now
/// reads what a writer would recover, and changes nothing.
pub fn a_read_only_open_reads_what_a_writer_would_recover_with_any_marker<B: Backend>() {
    let base = tempfile::tempdir().unwrap();
    segmented_log::<B>(base.path());
    let cases = [
        ("torn", vec![1u8, 2, 3], 12),
        ("untied", untied_marker(4), 12),
        ("matching", marker_for(base.path(), 4), 4),
    ];
    for (what, bytes, last) in cases {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in disk::snapshot(base.path()) {
            fs::write(dir.path().join(name), content).unwrap();
        }
        fs::write(dir.path().join("TRUNCATE"), &bytes).unwrap();
        let before = disk::snapshot(dir.path());
        let mut reader = B::open(dir.path(), read_only()).unwrap();
        assert_eq!(reader.entries().unwrap(), expected(1, last), "{what}");
        assert_eq!(reader.next_lsn(), Lsn(last + 1), "{what}");
        assert_eq!(reader.verify().unwrap().entries, last, "{what}");
        drop(reader);
        assert_eq!(
            disk::snapshot(dir.path()),
            before,
            "{what}: nothing changed"
        );
        let mut writer = open::<B>(dir.path());
        assert_eq!(
            writer.entries().unwrap(),
            expected(1, last),
            "{what}: same as a writer"
        );
    }
}

/// A read-only open of a v1 `wal.log` failed with `ReadOnly`. It reads it in place.
pub fn a_read_only_open_reads_a_v1_log_in_place<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let v1: Vec<u8> = (1..=3).flat_map(|l| disk::frame(l, &payload(l))).collect();
    fs::write(dir.path().join("wal.log"), &v1).unwrap();
    let before = disk::snapshot(dir.path());
    let mut reader = B::open(dir.path(), read_only()).unwrap();
    assert_eq!(reader.entries().unwrap(), expected(1, 3));
    assert_eq!(reader.next_lsn(), Lsn(4));
    assert_eq!(reader.tail_state(), TailState::Clean);
    assert_eq!(reader.verify().unwrap().entries, 3);
    drop(reader);
    assert_eq!(
        disk::snapshot(dir.path()),
        before,
        "nothing renamed or changed"
    );
}

/// A CRC-valid frame with LSN u64::MAX panicked open and iteration (debug builds) and
/// wrapped the next LSN to 0 (release). No input panics or wraps.
pub fn the_largest_lsn_never_panics_or_wraps<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(disk::segment(dir.path(), 1), disk::frame(u64::MAX, b"max")).unwrap();
    assert_corrupt(
        B::open(dir.path(), WalConfig::default()).map(|_| ()),
        "LSN max",
    );
    assert_corrupt(
        B::open(dir.path(), read_only()).map(|_| ()),
        "LSN max, read-only",
    );

    // In a sealed segment (read lazily): open may succeed, iteration must not panic.
    let dir = tempfile::tempdir().unwrap();
    fs::write(disk::segment(dir.path(), 1), disk::frame(u64::MAX, b"max")).unwrap();
    fs::write(disk::segment(dir.path(), 2), Vec::<u8>::new()).unwrap();
    match B::open(dir.path(), WalConfig::default()) {
        Ok(mut log) => assert_corrupt(log.entries(), "iteration over LSN max"),
        Err(e) => assert!(matches!(e, WalError::Corrupt { .. }), "{e:?}"),
    }

    // One below: it opens, but the next append cannot get an LSN.
    let dir = tempfile::tempdir().unwrap();
    let top = u64::MAX - 1;
    fs::write(disk::segment(dir.path(), 1), disk::frame(top, b"top")).unwrap();
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), vec![(Lsn(top), b"top".to_vec())]);
    assert_eq!(log.next_lsn(), Lsn(u64::MAX));
    assert!(log.append(b"no room").is_err(), "no LSN wraps");
    assert_eq!(log.next_lsn(), Lsn(u64::MAX));
    drop(log);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.entries().unwrap(), vec![(Lsn(top), b"top".to_vec())]);
}

/// The only entry left (everything else checkpointed away) is damaged and cut as a torn
/// tail: nothing in the segments remembers the next LSN, and the log restarted at 1,
/// reusing LSNs. The durable point remembers it.
pub fn a_cut_last_entry_does_not_restart_lsns<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 5);
    log.rotate().unwrap();
    fill(&mut log, 6);
    assert_eq!(log.checkpoint(Lsn(5)).unwrap(), 1);
    drop(log);
    let seg = disk::last_segment(dir.path());
    let len = disk::len(&seg);
    disk::flip_byte(&seg, len - 1);
    let mut log = open::<B>(dir.path());
    assert_eq!(log.tail_state(), TailState::TruncatedAt(0));
    assert_eq!(log.next_lsn(), Lsn(7), "LSN 6 was used: the next one is 7");
    assert_eq!(log.append(b"seven").unwrap(), Lsn(7));
}
