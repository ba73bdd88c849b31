//! Pre-allocation of the active segment (on by default): a pre-fill ahead of the write
//! position while the log is open, cut off before a segment is sealed, truncated or
//! closed; after a crash the pre-fill is unwritten space (never damage, never a torn
//! tail), and the files open in walogs 0.1.0 with every acknowledged entry, in both
//! directions.

use std::fs;
use std::path::Path;

use walogs::{Lsn, TailState, WalConfig};
use walogs_conformance::{Backend, Log, disk, expected, fill, open, open_sized, payload};

use crate::durable::{files_now, restore};

/// The frames of entries `first..=last` back to back, as 0.1.0 writes them.
fn frames(first: u64, last: u64) -> Vec<u8> {
    (first..=last)
        .flat_map(|l| disk::frame(l, &payload(l)))
        .collect()
}

/// Whether `bytes`, found at file offset `at`, are exactly the engine's pre-fill: the
/// pattern below, placed by file offset (docs/FORMAT.md, "Pre-allocation").
pub(crate) fn is_prefill(bytes: &[u8], at: usize) -> bool {
    const FILL: &[u8; 16] = b"walogs pre-fill\n";
    bytes
        .iter()
        .enumerate()
        .all(|(i, &b)| b == FILL[(at + i) % 16])
}

/// Whether `bytes` are whole frames back to back and nothing else (how 0.1.0 leaves a
/// segment): the length of each frame leads to the next, ending exactly at the end.
fn is_frames_only(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    while at + 16 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 16 + len;
    }
    at == bytes.len()
}

fn entries_in_0_1_0(dir: &Path) -> (walogs01::TailState, Vec<(Lsn, Vec<u8>)>) {
    let old = walogs01::Wal::open(dir).expect("0.1.0 opens it");
    let entries = old
        .iter()
        .map(|r| r.map(|(l, d)| (Lsn(l.0), d)))
        .collect::<Result<_, _>>()
        .expect("0.1.0 reads it");
    (old.tail_state(), entries)
}

/// While the log is open the active segment is longer than its frames, and only the
/// pre-fill follows them; a clean close cuts it off, so the file is byte for byte 0.1.0's.
pub fn the_active_segment_is_pre_filled_and_a_clean_close_cuts_it_back<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 30);
    let seg = disk::segment(dir.path(), 1);
    let live = fs::read(&seg).unwrap();
    let written = frames(1, 30);
    assert!(
        live.len() > written.len(),
        "the active segment is pre-filled"
    );
    assert_eq!(&live[..written.len()], &written[..]);
    assert!(
        is_prefill(&live[written.len()..], written.len()),
        "only the pre-fill follows"
    );
    assert_eq!(
        log.segments()[0].size,
        written.len() as u64,
        "size counts frames"
    );
    drop(log);
    assert_eq!(
        fs::read(&seg).unwrap(),
        written,
        "closed: exactly the frames"
    );
    let (tail, entries) = entries_in_0_1_0(dir.path());
    assert_eq!(tail, walogs01::TailState::Clean);
    assert_eq!(entries, expected(1, 30));
}

/// A crash leaves the pre-fill behind: this engine opens the files with every
/// acknowledged entry and reports nothing cut (the pre-fill is its own unwritten space),
/// and so does walogs 0.1.0 with every acknowledged entry (it cuts the pre-fill as a
/// torn tail). Both continue the log.
pub fn a_crash_leaves_a_pre_fill_that_both_versions_open<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 40);
    let at_crash = files_now(dir.path());
    drop(log);
    let frames_len = frames(1, 40).len() as u64;

    let crashed = tempfile::tempdir().unwrap();
    restore(crashed.path(), &at_crash);
    let seg = disk::segment(crashed.path(), 1);
    let crashed_len = disk::len(&seg);
    assert!(crashed_len > frames_len, "the crash left the pre-fill");
    let mut log = open::<B>(crashed.path());
    assert_eq!(
        log.tail_state(),
        TailState::Clean,
        "a pre-fill is not a torn tail"
    );
    assert_eq!(log.entries().unwrap(), expected(1, 40));
    assert_eq!(disk::len(&seg), crashed_len, "nothing was cut");
    fill(&mut log, 45);
    drop(log);
    assert_eq!(entries_in_0_1_0(crashed.path()).1, expected(1, 45));

    let old_dir = tempfile::tempdir().unwrap();
    restore(old_dir.path(), &at_crash);
    let mut old = walogs01::Wal::open(old_dir.path()).unwrap();
    assert_eq!(
        old.tail_state(),
        walogs01::TailState::TruncatedAt(frames_len)
    );
    assert_eq!(old.append(&payload(41)).unwrap().0, 41);
    drop(old);
    let mut log = open::<B>(old_dir.path());
    assert_eq!(log.entries().unwrap(), expected(1, 41));
}

/// A segment that outgrows its pre-fill is pre-filled again further on (small appends get
/// a short fill, docs/FORMAT.md, "Pre-allocation"); a crash after that leaves every
/// acknowledged entry to this engine, which cuts nothing, and to walogs 0.1.0, which cuts
/// the fill as a torn tail.
pub fn a_segment_that_outgrows_its_pre_fill_is_filled_again_and_a_crash_keeps_every_entry<
    B: Backend,
>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    let seg = disk::segment(dir.path(), 1);
    let data = |lsn: u64| vec![lsn as u8; 100];
    assert_eq!(log.append(&data(1)).unwrap(), Lsn(1));
    let first_fill = disk::len(&seg);
    let mut last = 1;
    while last * 116 <= first_fill {
        last += 1;
        assert_eq!(log.append(&data(last)).unwrap(), Lsn(last));
    }
    let frames_len = last * 116;
    let live = fs::read(&seg).unwrap();
    assert!(
        live.len() as u64 > frames_len,
        "filled again: {first_fill} bytes, then {}",
        live.len()
    );
    assert!(is_prefill(
        &live[frames_len as usize..],
        frames_len as usize
    ));
    let at_crash = files_now(dir.path());
    drop(log);
    let want: Vec<_> = (1..=last).map(|l| (Lsn(l), data(l))).collect();

    let crashed = tempfile::tempdir().unwrap();
    restore(crashed.path(), &at_crash);
    let mut log = open::<B>(crashed.path());
    assert_eq!(
        log.tail_state(),
        TailState::Clean,
        "a pre-fill is not a torn tail"
    );
    assert_eq!(log.entries().unwrap(), want);

    let old_dir = tempfile::tempdir().unwrap();
    restore(old_dir.path(), &at_crash);
    let (tail, entries) = entries_in_0_1_0(old_dir.path());
    assert_eq!(tail, walogs01::TailState::TruncatedAt(frames_len));
    assert_eq!(entries, want);
}

/// A crash in the middle of an append into the pre-filled space: part of the frame
/// reached the disk, the rest is still the pre-fill. Both versions keep every acknowledged entry;
/// this engine reports the torn write (it is not its own unwritten space) and cuts it.
pub fn a_crash_mid_append_into_pre_filled_space_keeps_every_acknowledged_entry<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 12);
    let at_crash = files_now(dir.path());
    drop(log);
    let end = frames(1, 12).len();
    let torn = disk::frame(13, &payload(13));
    for kept in [1, 8, 16, torn.len() - 1] {
        let seg = at_crash
            .iter()
            .find(|(name, _)| name == "wal-000001.log")
            .unwrap();
        let mut bytes = seg.1.clone();
        bytes[end..end + kept].copy_from_slice(&torn[..kept]);
        let crashed = tempfile::tempdir().unwrap();
        restore(crashed.path(), &at_crash);
        fs::write(disk::segment(crashed.path(), 1), &bytes).unwrap();
        assert_eq!(
            entries_in_0_1_0(crashed.path()).1,
            expected(1, 12),
            "{kept}"
        );
        restore(crashed.path(), &at_crash);
        fs::write(disk::segment(crashed.path(), 1), &bytes).unwrap();
        let mut log = open::<B>(crashed.path());
        assert_eq!(
            log.tail_state(),
            TailState::TruncatedAt(end as u64),
            "{kept}"
        );
        assert_eq!(log.entries().unwrap(), expected(1, 12), "{kept}");
        assert_eq!(log.append(&payload(13)).unwrap(), Lsn(13));
    }
}

/// A pre-fill the durable point does not account for (here: the sidecar is gone, as
/// after a copy without it) is reported honestly as a torn tail and cut, as 0.1.0 does.
pub fn a_pre_fill_without_a_durable_point_is_a_torn_tail<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 5);
    let at_crash: Vec<_> = files_now(dir.path())
        .into_iter()
        .filter(|(name, _)| name != "DURABLE")
        .collect();
    drop(log);
    let crashed = tempfile::tempdir().unwrap();
    restore(crashed.path(), &at_crash);
    let end = frames(1, 5).len() as u64;
    let mut log = open::<B>(crashed.path());
    assert_eq!(log.tail_state(), TailState::TruncatedAt(end));
    assert_eq!(log.entries().unwrap(), expected(1, 5));
}

/// Every sealed segment is cut back to its frames before its successor exists, so at any
/// moment — while the log is open, and so after a crash — sealed segments are 0.1.0's.
pub fn sealed_segments_hold_frames_only<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open_sized::<B>(dir.path(), 1024);
    fill(&mut log, 100);
    log.rotate().unwrap();
    fill(&mut log, 110);
    let seqs = disk::segment_seqs(dir.path());
    assert!(seqs.len() > 3);
    let at_crash = files_now(dir.path());
    for &seq in &seqs[..seqs.len() - 1] {
        let bytes = fs::read(disk::segment(dir.path(), seq)).unwrap();
        assert!(
            is_frames_only(&bytes),
            "sealed segment {seq} holds frames only"
        );
    }
    let active = fs::read(disk::segment(dir.path(), *seqs.last().unwrap())).unwrap();
    assert!(!is_frames_only(&active), "the active segment is pre-filled");
    drop(log);
    let crashed = tempfile::tempdir().unwrap();
    restore(crashed.path(), &at_crash);
    let old = walogs01::WalConfig {
        max_segment_size: Some(1024),
    };
    let old = walogs01::Wal::open_with_config(crashed.path(), old).expect("0.1.0 opens it");
    let lsns: Vec<u64> = old.iter().map(|r| r.unwrap().0.0).collect();
    assert_eq!(lsns, (1..=110).collect::<Vec<_>>());
}

/// `truncate_after` and `checkpoint` on a pre-filled log keep every guarantee: the cut
/// segment holds frames only, and the log continues with pre-filling.
pub fn truncation_and_checkpoint_work_on_a_pre_filled_log<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open_sized::<B>(dir.path(), 4096);
    fill(&mut log, 120);
    let last = *disk::segment_seqs(dir.path()).last().unwrap();
    let first_of_last = log.segments().last().unwrap().first_lsn.unwrap().0;
    assert!(first_of_last + 3 <= 120);
    log.truncate_after(Lsn(first_of_last + 2)).unwrap();
    let bytes = fs::read(disk::segment(dir.path(), last)).unwrap();
    assert_eq!(
        bytes,
        frames(first_of_last, first_of_last + 2),
        "cut to its frames"
    );
    fill(&mut log, 130);
    assert!(log.checkpoint(Lsn(first_of_last - 1)).unwrap() > 0);
    assert_eq!(log.entries().unwrap(), expected(first_of_last, 130));
    drop(log);
    let mut log = open_sized::<B>(dir.path(), 4096);
    assert_eq!(log.tail_state(), TailState::Clean);
    assert_eq!(log.entries().unwrap(), expected(first_of_last, 130));
}

/// A log walogs 0.1.0 wrote opens here and continues with pre-allocation; closed, it
/// opens in 0.1.0 again.
pub fn a_0_1_0_log_continues_with_pre_allocation<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = walogs01::Wal::open(dir.path()).unwrap();
    for lsn in 1..=10 {
        assert_eq!(old.append(&payload(lsn)).unwrap().0, lsn);
    }
    drop(old);
    let mut log = B::open(dir.path(), WalConfig::default()).unwrap();
    fill(&mut log, 20);
    let seg = disk::segment(dir.path(), 1);
    assert!(disk::len(&seg) > frames(1, 20).len() as u64, "pre-filled");
    drop(log);
    assert_eq!(fs::read(&seg).unwrap(), frames(1, 20));
    let (tail, entries) = entries_in_0_1_0(dir.path());
    assert_eq!(tail, walogs01::TailState::Clean);
    assert_eq!(entries, expected(1, 20));
}

/// Damage that zeroes the last acknowledged frames of a pre-filled segment (a lost
/// sector) is not taken for unwritten space: the pre-fill is not zeros, so the damage is
/// found, and (inside the window of ambiguity, docs/FORMAT.md) cut and reported.
pub fn zeroed_acknowledged_frames_are_never_taken_for_the_pre_fill<B: Backend>() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open::<B>(dir.path());
    fill(&mut log, 6);
    let mut at_crash = files_now(dir.path());
    drop(log);
    let last = frames(1, 5).len();
    let seg = at_crash
        .iter_mut()
        .find(|(name, _)| name == "wal-000001.log")
        .unwrap();
    seg.1[last..frames(1, 6).len()].fill(0);
    let crashed = tempfile::tempdir().unwrap();
    restore(crashed.path(), &at_crash);
    let mut log = open::<B>(crashed.path());
    assert_eq!(log.tail_state(), TailState::TruncatedAt(last as u64));
    assert_eq!(log.entries().unwrap(), expected(1, 5));
}
