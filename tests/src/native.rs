//! The native backend: the engine linked directly, with a fault-injecting storage layer.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use walogs::storage::{OpenMode, StdStorage, Storage, StorageFile};
use walogs::{
    Damage, Lsn, LsnRange, RecoveryReport, RepairOptions, RepairReport, SegmentInfo, TailState,
    VerifyReport, Wal, WalConfig, WalError,
};

use crate::{Backend, Log};

/// The engine, called directly.
#[derive(Debug)]
pub struct Native;

/// A native log and the switch that makes its syncs fail.
#[derive(Debug)]
pub struct NativeLog {
    wal: Wal,
    faults: Arc<Faults>,
}

/// The switch that fails syncs, and the count of syncs made.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    fail_syncs: AtomicBool,
    syncs: AtomicU64,
}

impl Faults {
    /// Makes every later sync fail.
    pub(crate) fn fail_syncs(&self) {
        self.fail_syncs.store(true, Ordering::SeqCst);
    }

    /// Syncs made so far.
    pub(crate) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::SeqCst)
    }

    /// Counts a sync, or fails it once the switch is on.
    fn sync(&self) -> io::Result<()> {
        if self.fail_syncs.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected sync failure"));
        }
        self.syncs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Native {
    /// Opens the engine on std storage whose syncs can be made to fail.
    pub(crate) fn open_wal(dir: &Path, config: WalConfig) -> Result<(Wal, Arc<Faults>), WalError> {
        let inner = if config.read_only {
            StdStorage::open_reader(dir)?
        } else {
            StdStorage::open_writer(dir)?
        };
        let faults = Arc::new(Faults::default());
        let storage = Faulty {
            inner,
            faults: Arc::clone(&faults),
        };
        Ok((Wal::open_with_storage(Arc::new(storage), config)?, faults))
    }
}

impl Backend for Native {
    type Log = NativeLog;

    fn open(dir: &Path, config: WalConfig) -> Result<NativeLog, WalError> {
        let (wal, faults) = Native::open_wal(dir, config)?;
        Ok(NativeLog { wal, faults })
    }

    fn repair(dir: &Path, dry_run: bool) -> Result<RepairReport, WalError> {
        let options = if dry_run {
            RepairOptions::dry_run()
        } else {
            RepairOptions::default()
        };
        Wal::repair_with(dir, options)
    }

    fn find_damage(dir: &Path) -> Result<Option<Damage>, WalError> {
        Wal::find_damage(dir)
    }
}

impl Log for NativeLog {
    fn append(&mut self, data: &[u8]) -> Result<Lsn, WalError> {
        self.wal.append(data)
    }
    fn append_batch(&mut self, entries: &[Vec<u8>]) -> Result<LsnRange, WalError> {
        self.wal.append_batch(entries)
    }
    fn sync(&mut self) -> Result<Lsn, WalError> {
        self.wal.sync()
    }
    fn durable_lsn(&mut self) -> Lsn {
        self.wal.durable_lsn()
    }
    fn rotate(&mut self) -> Result<(), WalError> {
        self.wal.rotate()
    }
    fn checkpoint(&mut self, lsn: Lsn) -> Result<usize, WalError> {
        self.wal.checkpoint(lsn)
    }
    fn truncate_after(&mut self, lsn: Lsn) -> Result<(), WalError> {
        self.wal.truncate_after(lsn)
    }
    fn entries(&mut self) -> Result<Vec<(Lsn, Vec<u8>)>, WalError> {
        self.wal.iter().collect()
    }
    fn entries_from(&mut self, lsn: Lsn) -> Result<Vec<(Lsn, Vec<u8>)>, WalError> {
        self.wal.iter_from(lsn)?.collect()
    }
    fn tail_state(&mut self) -> TailState {
        self.wal.tail_state()
    }
    fn recovery_report(&mut self) -> RecoveryReport {
        self.wal.recovery_report()
    }
    fn next_lsn(&mut self) -> Lsn {
        self.wal.next_lsn()
    }
    fn first_lsn(&mut self) -> Option<Lsn> {
        self.wal.first_lsn()
    }
    fn last_lsn(&mut self) -> Option<Lsn> {
        self.wal.last_lsn()
    }
    fn segment_count(&mut self) -> usize {
        self.wal.segment_count()
    }
    fn segments(&mut self) -> Vec<SegmentInfo> {
        self.wal.segments()
    }
    fn verify(&mut self) -> Result<VerifyReport, WalError> {
        self.wal.verify()
    }
    fn fail_syncs(&mut self) {
        self.faults.fail_syncs();
    }
    fn syncs(&mut self) -> u64 {
        self.faults.syncs()
    }
}

/// Std storage whose syncs are counted, and fail once the switch is on.
#[derive(Debug)]
struct Faulty {
    inner: StdStorage,
    faults: Arc<Faults>,
}

impl Storage for Faulty {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn list(&self) -> io::Result<Vec<String>> {
        self.inner.list()
    }
    fn open(&self, name: &str, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        let inner = self.inner.open(name, mode)?;
        Ok(Box::new(FaultyFile {
            inner,
            faults: Arc::clone(&self.faults),
        }))
    }
    fn remove(&self, name: &str) -> io::Result<()> {
        self.inner.remove(name)
    }
    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.inner.rename(from, to)
    }
    fn sync_dir(&self) -> io::Result<()> {
        self.faults.sync()?;
        self.inner.sync_dir()
    }
    fn close(&self) {
        self.inner.close()
    }
}

#[derive(Debug)]
struct FaultyFile {
    inner: Box<dyn StorageFile>,
    faults: Arc<Faults>,
}

impl StorageFile for FaultyFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.inner.read_at(buf, offset)
    }
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.inner.write_all_at(buf, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.faults.sync()?;
        self.inner.sync_data()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }
    fn size(&self) -> io::Result<u64> {
        self.inner.size()
    }
}
