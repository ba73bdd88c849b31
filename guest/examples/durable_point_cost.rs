//! What the durable point costs durable appends: the same appends, in the same run, with
//! the sidecar's writes and syncs reaching the disk and with them turned into no-ops.
//!
//! `cargo run --release -p walogs --example durable_point_cost -- [turns] [appends per turn] [bytes] [1: create the inert log first]`

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use walogs::storage::{OpenMode, StdStorage, Storage, StorageFile};
use walogs::{Wal, WalConfig};

/// Std storage that, when `skip` is set, never writes or syncs the sidecar.
#[derive(Debug)]
struct Sidecar {
    inner: StdStorage,
    skip: bool,
}

#[derive(Debug)]
struct Inert(Box<dyn StorageFile>);

impl StorageFile for Inert {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.0.read_at(buf, offset)
    }
    fn write_all_at(&mut self, _buf: &[u8], _offset: u64) -> io::Result<()> {
        Ok(())
    }
    fn sync_data(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
    fn size(&self) -> io::Result<u64> {
        self.0.size()
    }
}

impl Storage for Sidecar {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn list(&self) -> io::Result<Vec<String>> {
        self.inner.list()
    }
    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        let file = self.inner.open(name, mode)?;
        Ok(if self.skip && name == "DURABLE" {
            Box::new(Inert(file))
        } else {
            file
        })
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
    fn close(&self) {
        self.inner.close()
    }
}

/// A fresh log in a new directory here, with the sidecar live or inert.
fn open(skip: bool) -> (tempfile::TempDir, Wal) {
    let dir = tempfile::tempdir_in(".").expect("a temporary directory here");
    let storage = Sidecar {
        inner: StdStorage::open_writer(dir.path()).expect("storage"),
        skip,
    };
    let wal = Wal::open_with_storage(Arc::new(storage), WalConfig::default()).expect("open");
    (dir, wal)
}

/// Time for `appends` durable appends of `data`.
fn time(wal: &mut Wal, appends: u32, data: &[u8]) -> Duration {
    let start = Instant::now();
    for _ in 0..appends {
        wal.append(data).expect("append");
    }
    start.elapsed()
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let chunks = args.first().copied().unwrap_or(40) as usize;
    let chunk = args.get(1).copied().unwrap_or(256) as u32;
    let bytes = args.get(2).copied().unwrap_or(100) as usize;
    let data = vec![0x5A; bytes];
    // Both logs stay open and take turns, chunk by chunk, in alternating order, so that
    // the disk's drift (fdatasync latency varies a lot over seconds) hits both alike.
    // Which log is created first (4th argument 1: the inert one), to rule out placement.
    let (_a, mut with_log, _b, mut without_log) = if args.get(3) == Some(&1) {
        let (b, without_log) = open(true);
        let (a, with_log) = open(false);
        (a, with_log, b, without_log)
    } else {
        let (a, with_log) = open(false);
        let (b, without_log) = open(true);
        (a, with_log, b, without_log)
    };
    let (mut with, mut without) = (Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::with_capacity(chunks);
    for i in 0..chunks {
        let (w, wo) = if i % 2 == 0 {
            let w = time(&mut with_log, chunk, &data);
            (w, time(&mut without_log, chunk, &data))
        } else {
            let wo = time(&mut without_log, chunk, &data);
            (time(&mut with_log, chunk, &data), wo)
        };
        with += w;
        without += wo;
        ratios.push(w.as_secs_f64() / wo.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let appends = chunks as f64 * chunk as f64;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / appends;
    println!("{chunks} turns of {chunk} durable appends of {bytes} B on each log:");
    println!("  with the durable point:  {:8.1} us/append", per(with));
    println!("  sidecar inert:           {:8.1} us/append", per(without));
    println!(
        "  cost: {:+.2}% (total), {:+.2}% (median of per-turn ratios)",
        (with.as_secs_f64() / without.as_secs_f64() - 1.0) * 100.0,
        (ratios[ratios.len() / 2] - 1.0) * 100.0
    );
}
