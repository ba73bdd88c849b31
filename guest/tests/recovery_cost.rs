//! What recovery reads and reports, measured through a counting file layer (native only:
//! the numbers are the engine's, whatever the backend).

use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use walogs::storage::{OpenMode, StdStorage, Storage, StorageFile};
use walogs::{Lsn, TailState, Wal, WalConfig};

/// Std storage that counts the bytes read through it.
#[derive(Debug)]
struct Counting {
    inner: StdStorage,
    read: Arc<AtomicU64>,
}

#[derive(Debug)]
struct CountingFile {
    inner: Box<dyn StorageFile>,
    read: Arc<AtomicU64>,
}

impl Storage for Counting {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn list(&self) -> io::Result<Vec<String>> {
        self.inner.list()
    }
    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(CountingFile {
            inner: self.inner.open(name, mode)?,
            read: Arc::clone(&self.read),
        }))
    }
    fn remove(&self, name: &str) -> io::Result<()> {
        self.inner.remove(name)
    }
    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.inner.rename(from, to)
    }
    fn sync_dir(&self) -> io::Result<()> {
        self.inner.sync_dir()
    }
}

impl StorageFile for CountingFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let n = self.inner.read_at(buf, offset)?;
        self.read.fetch_add(n as u64, Ordering::SeqCst);
        Ok(n)
    }
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.inner.write_all_at(buf, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.inner.sync_data()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }
    fn size(&self) -> io::Result<u64> {
        self.inner.size()
    }
}

/// Opens `dir` through the counting layer; returns the log and the bytes open read.
fn open_counting(dir: &Path) -> (Wal, u64) {
    let read = Arc::new(AtomicU64::new(0));
    let storage = Counting {
        inner: StdStorage::open_writer(dir).unwrap(),
        read: Arc::clone(&read),
    };
    let wal = Wal::open_with_storage(Arc::new(storage), WalConfig::default()).unwrap();
    let n = read.load(Ordering::SeqCst);
    (wal, n)
}

fn segment(dir: &Path, seq: u32) -> std::path::PathBuf {
    dir.join(format!("wal-{seq:06}.log"))
}

/// A torn first frame of the active segment (a 16 MiB entry whose write a crash cut, or
/// whose middle page was lost) costs at most about two sequential reads of the segment to
/// recover: 0.2.0's search read up to 16 MiB per candidate offset (46 s at 16 MiB).
#[test]
fn a_torn_16_mib_first_frame_costs_at_most_two_reads_of_the_segment() {
    let big: Vec<u8> = (0..walogs::MAX_ENTRY_SIZE as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for damage in ["cut", "lost middle page", "garbage header"] {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        wal.append(b"small").unwrap();
        wal.rotate().unwrap();
        let at_crash: Vec<(String, Vec<u8>)> = ["DURABLE", "wal-000001.log", "wal-000002.log"]
            .iter()
            .map(|n| (n.to_string(), fs::read(dir.path().join(n)).unwrap()))
            .collect();
        wal.append(&big).unwrap();
        drop(wal);
        let seg = segment(dir.path(), 2);
        let mut bytes = fs::read(&seg).unwrap();
        for (name, old) in &at_crash {
            if name != "wal-000002.log" {
                fs::write(dir.path().join(name), old).unwrap();
            }
        }
        match damage {
            "cut" => bytes.truncate(bytes.len() - 4096),
            "lost middle page" => bytes[8 << 20..(8 << 20) + 4096].fill(0),
            _ => bytes[..16].copy_from_slice(&[0x42; 16]),
        }
        fs::write(&seg, &bytes).unwrap();
        let (wal, read) = open_counting(dir.path());
        let size = bytes.len() as u64;
        assert_eq!(wal.tail_state(), TailState::TruncatedAt(0), "{damage}");
        assert_eq!(wal.next_lsn(), Lsn(2), "{damage}");
        assert!(
            read <= 2 * size + (1 << 20),
            "{damage}: open read {read} bytes of a {size}-byte segment"
        );
        let report = wal.recovery_report();
        assert_eq!(report.bytes_discarded, size, "{damage}");
        assert_eq!(report.frames_discarded, 0, "{damage}");
    }
}

/// The report names the segment, the cut, the bytes and the valid frames discarded.
#[test]
fn the_recovery_report_counts_what_an_interrupted_batch_left() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path()).unwrap();
    wal.append(&[b'a'; 100]).unwrap();
    let sidecar = fs::read(dir.path().join("DURABLE")).unwrap();
    let batch: Vec<Vec<u8>> = (0..4).map(|i| vec![b'b' + i; 1000]).collect();
    wal.append_batch(&batch).unwrap();
    drop(wal);
    fs::write(dir.path().join("DURABLE"), sidecar).unwrap();
    let seg = segment(dir.path(), 1);
    let mut bytes = fs::read(&seg).unwrap();
    bytes[116..2106].fill(0); // frames 2 and 3 lost, 4 and 5 intact
    fs::write(&seg, &bytes).unwrap();
    let wal = Wal::open(dir.path()).unwrap();
    let report = wal.recovery_report();
    assert_eq!(report.segment, Some(1));
    assert_eq!(report.cut_at, Some(116));
    assert_eq!(report.bytes_discarded, 4 * 1016);
    assert_eq!(report.frames_discarded, 2);
    assert_eq!(report.durable_point, Some(0));
    assert_eq!(wal.tail_state(), TailState::TruncatedAt(116));
    drop(wal);
    let wal = Wal::open(dir.path()).unwrap();
    assert_eq!(wal.recovery_report().bytes_discarded, 0);
    assert_eq!(wal.recovery_report().durable_point, Some(116));
}
