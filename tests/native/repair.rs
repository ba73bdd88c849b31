//! `Wal::repair`: cut at the damage, every removed byte kept in a quarantine file, crash-safe.
//! The bodies that run on both backends (a bit flip, the out-of-order shapes, a damaged
//! sealed segment, the lock) are in the conformance suite (`tests/conformance/maintenance.rs`);
//! these need the native storage layer or native-only API, and share the suite's reference
//! checks (`tests/src/disk.rs`).

use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use walogs::storage::{OpenMode, StdStorage, Storage, StorageFile};
use walogs::{Lsn, RepairOptions, Wal, WalConfig, WalError};
use walogs_conformance::disk::{assert_no_byte_lost, segment, snapshot};

fn assert_corrupt(dir: &Path) {
    match Wal::open(dir) {
        Err(WalError::Corrupt { .. }) => {}
        other => panic!("expected Corrupt, got {:?}", other.map(|w| w.next_lsn())),
    }
}

/// A log of five 100-byte entries (frames of 116 bytes), one segment.
fn five_entries(dir: &Path) {
    let mut wal = Wal::open(dir).unwrap();
    for i in 0..5u8 {
        wal.append(&[i; 100]).unwrap();
    }
}

#[test]
fn a_gap_in_the_segment_numbers_is_repaired_by_quarantining_what_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig {
        max_segment_size: Some(300),
        ..WalConfig::default()
    };
    let mut wal = Wal::open_with_config(dir.path(), config).unwrap();
    for i in 0..8u8 {
        wal.append(&[i; 100]).unwrap();
    }
    drop(wal);
    fs::remove_file(segment(dir.path(), 2)).unwrap();
    assert_corrupt(dir.path());
    let before = snapshot(dir.path());
    let report = Wal::repair(dir.path()).unwrap();
    assert_eq!(report.damage.as_ref().unwrap().segment, 3);
    assert_eq!(report.kept_up_to, Some(Lsn(2)));
    assert_no_byte_lost(dir.path(), &before);
    let mut wal = Wal::open(dir.path()).unwrap();
    assert_eq!(wal.append(b"next").unwrap(), Lsn(3));
}

/// The intact prefix of a damaged log, then an error naming segment and offset.
#[test]
fn a_damaged_log_can_still_be_read_up_to_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    five_entries(dir.path());
    let seg = segment(dir.path(), 1);
    let mut bytes = fs::read(&seg).unwrap();
    bytes[3 * 116 + 20] ^= 1;
    fs::write(&seg, &bytes).unwrap();
    let before = snapshot(dir.path());
    let read: Vec<_> = Wal::read_up_to_damage(dir.path()).unwrap().collect();
    assert_eq!(read.len(), 4);
    for (i, entry) in read[..3].iter().enumerate() {
        assert_eq!(
            entry.as_ref().unwrap(),
            &(Lsn(i as u64 + 1), vec![i as u8; 100])
        );
    }
    match &read[3] {
        Err(WalError::Corrupt { reason }) => {
            assert!(
                reason.contains("wal-000001.log") && reason.contains("offset 348"),
                "{reason}"
            );
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(snapshot(dir.path()), before);
}

/// A storage whose mutating calls (write, set_len, remove, rename, sync) fail from the
/// `n`-th on: a crash at that point, as far as what reaches the files goes.
#[derive(Debug)]
struct StopAfter {
    inner: StdStorage,
    left: Arc<AtomicU64>,
}

#[derive(Debug)]
struct StopAfterFile {
    inner: Box<dyn StorageFile>,
    left: Arc<AtomicU64>,
}

fn step(left: &AtomicU64) -> io::Result<()> {
    let before = left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    match before {
        Ok(_) => Ok(()),
        Err(_) => Err(io::Error::other("crash")),
    }
}

impl Storage for StopAfter {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn list(&self) -> io::Result<Vec<String>> {
        self.inner.list()
    }
    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        if mode == OpenMode::CreateNew {
            step(&self.left)?;
        }
        Ok(Box::new(StopAfterFile {
            inner: self.inner.open(name, mode)?,
            left: Arc::clone(&self.left),
        }))
    }
    fn remove(&self, name: &str) -> io::Result<()> {
        step(&self.left)?;
        self.inner.remove(name)
    }
    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        step(&self.left)?;
        self.inner.rename(from, to)
    }
    fn sync_dir(&self) -> io::Result<()> {
        step(&self.left)?;
        self.inner.sync_dir()
    }
}

impl StorageFile for StopAfterFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.inner.read_at(buf, offset)
    }
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        step(&self.left)?;
        self.inner.write_all_at(buf, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        step(&self.left)?;
        self.inner.sync_data()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        step(&self.left)?;
        self.inner.set_len(len)
    }
    fn size(&self) -> io::Result<u64> {
        self.inner.size()
    }
}

/// Stopped after every number of its mutating steps, repair leaves a log that is either
/// still damaged (and repair, run again, finishes) or repaired; no byte is ever lost.
#[test]
fn a_repair_stopped_at_any_step_leaves_the_damaged_or_the_repaired_log() {
    let base = tempfile::tempdir().unwrap();
    let config = WalConfig {
        max_segment_size: Some(300),
        ..WalConfig::default()
    };
    let mut wal = Wal::open_with_config(base.path(), config).unwrap();
    for i in 0..8u8 {
        wal.append(&[i; 100]).unwrap();
    }
    drop(wal);
    let seg = segment(base.path(), 2);
    let mut bytes = fs::read(&seg).unwrap();
    bytes[10] ^= 0xFF;
    fs::write(&seg, &bytes).unwrap();
    let original = snapshot(base.path());
    let mut completed = false;
    for steps in 0.. {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in &original {
            fs::write(dir.path().join(name), content).unwrap();
        }
        let storage = StopAfter {
            inner: StdStorage::open_writer(dir.path()).unwrap(),
            left: Arc::new(AtomicU64::new(steps)),
        };
        let result = Wal::repair_storage(Arc::new(storage), RepairOptions::default());
        assert_no_byte_lost(dir.path(), &original);
        match Wal::open(dir.path()) {
            Ok(wal) => assert_eq!(wal.next_lsn(), Lsn(3), "{steps} steps: repaired"),
            Err(WalError::Corrupt { .. }) => {
                assert!(result.is_err(), "{steps} steps: Ok only when repaired");
                let report = Wal::repair(dir.path()).unwrap();
                assert!(report.applied, "{steps} steps: a second repair finishes");
                assert_no_byte_lost(dir.path(), &original);
                assert_eq!(Wal::open(dir.path()).unwrap().next_lsn(), Lsn(3));
            }
            Err(e) => panic!("{steps} steps: {e}"),
        }
        if result.is_ok() {
            completed = true;
            break;
        }
    }
    assert!(completed);
}
