//! The adapter's crash-safe metadata: vote, committed log id, last purged log id and the
//! index map, in one small file of two CRC'd slots.
//!
//! Layout of `raft-meta`: two slots of [`SLOT_SIZE`] bytes (each in its own 4 KiB block), each
//! `magic (4) | sequence (u64 LE) | length (u32 LE) | JSON payload | crc32 (u32 LE)` with the CRC
//! over everything before it. A write goes to the slot *not* holding the newest record, with
//! the next sequence number, and is fdatasync'd before it returns, so the other slot always
//! holds the previous record intact: a crash mid-write leaves the old or the new record, and
//! open picks the valid slot with the higher sequence. Both slots invalid is reported as
//! damage, never guessed away. The file is created whole (temp file, fsync, rename, directory
//! fsync) before the log directory exists, so its size never changes afterwards.
//!
//! The file is reached through walogs' file layer ([`Storage`]) for the store's directory, so
//! a test can put a fault-injecting layer under the metadata and the log alike.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use openraft::{LogId, NodeId, Vote};
use serde::{Deserialize, Serialize};
use walogs::storage::{OpenMode, Storage, StorageFile};

use crate::index::IndexMap;

/// Size of one slot; the file holds two.
pub const SLOT_SIZE: usize = 4096;
/// The file's name inside the store's directory.
pub const META_FILE: &str = "raft-meta";
const MAGIC: &[u8; 4] = b"WRM1";
const HEADER: usize = 4 + 8 + 4;

static SYNCS: AtomicU64 = AtomicU64::new(0);

/// fdatasyncs of metadata files by every store in this process since it started (for
/// benchmarks that count syncs per write).
pub fn syncs() -> u64 {
    SYNCS.load(Ordering::Relaxed)
}

/// What the metadata file records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Meta<NID: NodeId> {
    /// The last vote saved.
    pub vote: Option<Vote<NID>>,
    /// The last committed log id saved.
    pub committed: Option<LogId<NID>>,
    /// Entries at or below this id are gone for good.
    pub last_purged: Option<LogId<NID>>,
    /// Where Raft indices live in the walogs log.
    pub map: IndexMap,
}

impl<NID: NodeId> Default for Meta<NID> {
    fn default() -> Self {
        Meta {
            vote: None,
            committed: None,
            last_purged: None,
            map: IndexMap::INITIAL,
        }
    }
}

/// The open metadata file and the record it holds.
#[derive(Debug)]
pub struct MetaFile<NID: NodeId> {
    file: Box<dyn StorageFile>,
    seq: u64,
    current: Meta<NID>,
}

fn corrupt(reason: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason)
}

fn encode<NID: NodeId>(seq: u64, meta: &Meta<NID>) -> io::Result<Vec<u8>> {
    let payload = serde_json::to_vec(meta).map_err(io::Error::other)?;
    if HEADER + payload.len() + 4 > SLOT_SIZE {
        return Err(io::Error::other(format!(
            "raft metadata of {} bytes does not fit a {SLOT_SIZE}-byte slot",
            payload.len()
        )));
    }
    let mut slot = Vec::with_capacity(SLOT_SIZE);
    slot.extend_from_slice(MAGIC);
    slot.extend_from_slice(&seq.to_le_bytes());
    slot.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    slot.extend_from_slice(&payload);
    let crc = crc32fast::hash(&slot);
    slot.extend_from_slice(&crc.to_le_bytes());
    slot.resize(SLOT_SIZE, 0);
    Ok(slot)
}

/// The record in `slot`, or `None` when the slot is empty or torn.
fn decode<NID: NodeId>(slot: &[u8]) -> Option<(u64, Meta<NID>)> {
    if slot[..4] != MAGIC[..] {
        return None;
    }
    let seq = u64::from_le_bytes(slot[4..12].try_into().ok()?);
    let len = u32::from_le_bytes(slot[12..16].try_into().ok()?) as usize;
    let end = HEADER.checked_add(len)?;
    if end + 4 > slot.len() {
        return None;
    }
    let crc = u32::from_le_bytes(slot[end..end + 4].try_into().ok()?);
    if crc32fast::hash(&slot[..end]) != crc {
        return None;
    }
    // A slot whose CRC matches but whose payload does not parse is damage, not a torn write.
    serde_json::from_slice(&slot[HEADER..end])
        .ok()
        .map(|m| (seq, m))
}

/// Reads `buf.len()` bytes at `offset`, or fails when the file is shorter.
fn read_exact_at(file: &dyn StorageFile, buf: &mut [u8], offset: u64) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => done += n,
        }
    }
    Ok(())
}

impl<NID: NodeId> MetaFile<NID> {
    /// The path of the metadata file in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(META_FILE)
    }

    /// Whether the store's directory (`storage`) holds a metadata file.
    pub fn exists(storage: &dyn Storage) -> io::Result<bool> {
        Ok(storage.list()?.iter().any(|name| name == META_FILE))
    }

    /// Creates the file in the store's directory (`storage`) holding `Meta::default()`:
    /// written to a temp file, synced, renamed into place, and the directory synced.
    pub fn create(storage: &dyn Storage) -> io::Result<Self> {
        let meta = Meta::<NID>::default();
        let mut bytes = encode(1, &meta)?;
        bytes.resize(2 * SLOT_SIZE, 0);
        let tmp = format!("{META_FILE}.tmp");
        if storage.list()?.contains(&tmp) {
            storage.remove(&tmp)?; // left by a crash during an earlier create
        }
        let mut file = storage.open(&tmp, OpenMode::CreateNew)?;
        file.write_all_at(&bytes, 0)?;
        file.sync_data()?;
        drop(file);
        storage.rename(&tmp, META_FILE)?;
        storage.sync_dir()?;
        Self::open(storage)
    }

    /// Opens the file in the store's directory (`storage`) and reads the newest valid record.
    pub fn open(storage: &dyn Storage) -> io::Result<Self> {
        let path = storage.path().join(META_FILE);
        let file = storage.open(META_FILE, OpenMode::ReadWrite)?;
        let mut bytes = vec![0u8; 2 * SLOT_SIZE];
        read_exact_at(file.as_ref(), &mut bytes, 0)
            .map_err(|e| corrupt(format!("{}: shorter than two slots ({e})", path.display())))?;
        let best = [0, 1]
            .into_iter()
            .filter_map(|i| decode::<NID>(&bytes[i * SLOT_SIZE..(i + 1) * SLOT_SIZE]))
            .max_by_key(|(seq, _)| *seq);
        let (seq, current) = best.ok_or_else(|| {
            corrupt(format!(
                "{}: neither slot holds a valid record",
                path.display()
            ))
        })?;
        Ok(MetaFile { file, seq, current })
    }

    /// The newest record.
    pub fn get(&self) -> &Meta<NID> {
        &self.current
    }

    /// Makes `meta` the newest record, durably. A no-op when nothing changed.
    pub fn set(&mut self, meta: Meta<NID>) -> io::Result<()> {
        if meta == self.current {
            return Ok(());
        }
        let seq = self.seq + 1;
        let slot = encode(seq, &meta)?;
        let offset = (seq % 2) * SLOT_SIZE as u64;
        self.file.write_all_at(&slot, offset)?;
        self.file.sync_data()?;
        SYNCS.fetch_add(1, Ordering::Relaxed);
        self.seq = seq;
        self.current = meta;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::CommittedLeaderId;
    use std::fs::OpenOptions;
    use std::os::unix::fs::FileExt;
    use walogs::storage::StdStorage;

    fn storage(dir: &Path) -> StdStorage {
        StdStorage::open_reader(dir).unwrap()
    }

    fn sample(term: u64) -> Meta<u64> {
        Meta {
            vote: Some(Vote::new(term, 1)),
            committed: Some(LogId::new(CommittedLeaderId::new(term, 1), 7)),
            last_purged: None,
            map: IndexMap::INITIAL,
        }
    }

    #[test]
    fn a_saved_record_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = MetaFile::<u64>::create(&storage(dir.path())).unwrap();
        m.set(sample(2)).unwrap();
        m.set(sample(3)).unwrap();
        assert_eq!(
            MetaFile::<u64>::open(&storage(dir.path())).unwrap().get(),
            &sample(3)
        );
    }

    #[test]
    fn a_torn_newest_slot_falls_back_to_the_previous_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = MetaFile::<u64>::create(&storage(dir.path())).unwrap();
        m.set(sample(2)).unwrap(); // seq 2, slot 0
        m.set(sample(3)).unwrap(); // seq 3, slot 1
        drop(m);
        // Tear slot 1 in the middle of its payload, as a crash mid-write would.
        let file = OpenOptions::new()
            .write(true)
            .open(MetaFile::<u64>::path(dir.path()))
            .unwrap();
        file.write_all_at(&[0xAB; 8], SLOT_SIZE as u64 + 20)
            .unwrap();
        assert_eq!(
            MetaFile::<u64>::open(&storage(dir.path())).unwrap().get(),
            &sample(2)
        );
    }

    #[test]
    fn both_slots_damaged_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = MetaFile::<u64>::create(&storage(dir.path())).unwrap();
        m.set(sample(2)).unwrap();
        drop(m);
        let file = OpenOptions::new()
            .write(true)
            .open(MetaFile::<u64>::path(dir.path()))
            .unwrap();
        file.write_all_at(&[0xAB; 4], 20).unwrap();
        file.write_all_at(&[0xAB; 4], SLOT_SIZE as u64 + 20)
            .unwrap();
        let err = MetaFile::<u64>::open(&storage(dir.path())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
