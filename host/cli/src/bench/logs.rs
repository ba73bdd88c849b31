//! The things appended to: raw files (the physical limit), walogs natively and through the
//! component, walogs 0.1.0 and okaywal. Each writes the same bytes per entry as far as its
//! format allows.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use walogs::{Durability, Wal, WalConfig};
use walogs_host::{ComponentWal, Runtime};

/// Bytes of a walogs frame header; raw loops write as many bytes per entry as walogs does.
pub use walogs::format::HEADER_SIZE as HEADER;

/// A log under test.
pub trait Log {
    /// Appends one entry (durably, if the log was opened so).
    fn append(&mut self, data: &[u8]) -> Result<()>;
    /// Appends entries as one group (one write and one sync where the log can).
    fn append_batch(&mut self, entries: &[Vec<u8>]) -> Result<()>;
}

/// A raw file written at its end with one positional write per entry (header-sized prefix
/// plus data, as walogs writes), optionally followed by one fdatasync.
pub struct RawFile {
    file: File,
    offset: u64,
    buf: Vec<u8>,
    sync: bool,
}

impl RawFile {
    /// A new, empty file at `path` (a growing file: every write extends it).
    pub fn create(path: &Path, sync: bool) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .with_context(|| format!("create {}", path.display()))?;
        sync_parent(path)?;
        Ok(Self {
            file,
            offset: 0,
            buf: Vec::new(),
            sync,
        })
    }

    /// A new file at `path` of `len` zero bytes, written and fsync'd before it is used,
    /// so that overwriting it changes no metadata but the modification time.
    pub fn create_prezeroed(path: &Path, len: u64, sync: bool) -> Result<Self> {
        let raw = Self::create(path, sync)?;
        let zeros = vec![0u8; 1 << 20];
        let mut file = &raw.file;
        let mut left = len;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            file.write_all(&zeros[..n])?;
            left -= n as u64;
        }
        raw.file.sync_all()?;
        Ok(raw)
    }

    /// Writes `bytes` at the end with one call, without syncing.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.file.write_all_at(bytes, self.offset)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// fsync (data and metadata).
    pub fn fsync(&mut self) -> Result<()> {
        Ok(self.file.sync_all()?)
    }

    fn write_buf(&mut self) -> Result<()> {
        self.file.write_all_at(&self.buf, self.offset)?;
        self.offset += self.buf.len() as u64;
        if self.sync {
            self.file.sync_data()?;
        }
        Ok(())
    }
}

impl Log for RawFile {
    fn append(&mut self, data: &[u8]) -> Result<()> {
        self.buf.clear();
        self.buf.extend_from_slice(&[1u8; HEADER]);
        self.buf.extend_from_slice(data);
        self.write_buf()
    }

    fn append_batch(&mut self, entries: &[Vec<u8>]) -> Result<()> {
        self.buf.clear();
        for data in entries {
            self.buf.extend_from_slice(&[1u8; HEADER]);
            self.buf.extend_from_slice(data);
        }
        self.write_buf()
    }
}

/// Makes a new file's directory entry durable.
fn sync_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// The engine's configuration for a benchmark log.
pub fn config(durability: Durability) -> WalConfig {
    WalConfig {
        durability,
        ..WalConfig::default()
    }
}

impl Log for Wal {
    fn append(&mut self, data: &[u8]) -> Result<()> {
        Wal::append(self, data)?;
        Ok(())
    }

    fn append_batch(&mut self, entries: &[Vec<u8>]) -> Result<()> {
        Wal::append_batch(self, entries)?;
        Ok(())
    }
}

impl Log for ComponentWal {
    fn append(&mut self, data: &[u8]) -> Result<()> {
        ComponentWal::append(self, data)?;
        Ok(())
    }

    fn append_batch(&mut self, entries: &[Vec<u8>]) -> Result<()> {
        ComponentWal::append_batch(self, entries)?;
        Ok(())
    }
}

/// Opens walogs natively in `dir`.
pub fn native(dir: &Path, durability: Durability) -> Result<Wal> {
    Wal::open_with_config(dir, config(durability)).with_context(|| format!("open {dir:?}"))
}

/// Opens walogs through the component in `dir`.
pub fn component(rt: &Runtime, dir: &Path, durability: Durability) -> Result<ComponentWal> {
    rt.open_with_config(dir, config(durability))
        .with_context(|| format!("open {dir:?} through the component"))
}

/// The published walogs 0.1.0: every append is one write plus one fdatasync.
pub struct V01(pub walogs01::Wal);

impl V01 {
    /// Opens (creating) the log in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        Ok(Self(walogs01::Wal::open(dir).context("open walogs 0.1.0")?))
    }
}

impl Log for V01 {
    fn append(&mut self, data: &[u8]) -> Result<()> {
        self.0.append(data)?;
        Ok(())
    }

    fn append_batch(&mut self, _entries: &[Vec<u8>]) -> Result<()> {
        bail!("walogs 0.1.0 has no batch append")
    }
}

/// The published okaywal: an entry is committed (fsync'd) as a whole; a batch is one
/// entry of many chunks, which is how okaywal groups writes under one sync.
pub struct Okay(pub okaywal::WriteAheadLog);

/// okaywal's hook for recovery and checkpoints: reads every chunk during recovery (as a
/// user replaying the log would) and keeps nothing.
#[derive(Debug, Default)]
pub struct Replay;

impl okaywal::LogManager for Replay {
    fn recover(&mut self, entry: &mut okaywal::Entry<'_>) -> std::io::Result<()> {
        if entry.read_all_chunks()?.is_none() {
            return Err(std::io::Error::other("aborted okaywal entry"));
        }
        Ok(())
    }

    fn checkpoint_to(
        &mut self,
        _last: okaywal::EntryId,
        _entries: &mut okaywal::SegmentReader,
        _wal: &okaywal::WriteAheadLog,
    ) -> std::io::Result<()> {
        Ok(())
    }
}

impl Okay {
    /// Opens (creating, or recovering) the log in `dir`. Checkpointing is pushed out of
    /// the way (a checkpoint would discard the entries the benchmark reads back).
    pub fn open(dir: &Path) -> Result<Self> {
        let wal = okaywal::Configuration::default_for(dir)
            .checkpoint_after_bytes(u64::MAX / 2)
            .open(Replay)
            .context("open okaywal")?;
        Ok(Self(wal))
    }
}

impl Log for Okay {
    fn append(&mut self, data: &[u8]) -> Result<()> {
        let mut entry = self.0.begin_entry()?;
        entry.write_chunk(data)?;
        entry.commit()?;
        Ok(())
    }

    fn append_batch(&mut self, entries: &[Vec<u8>]) -> Result<()> {
        let mut entry = self.0.begin_entry()?;
        for data in entries {
            entry.write_chunk(data)?;
        }
        entry.commit()?;
        Ok(())
    }
}
