//! [`LogStore`]: openraft's `RaftLogStorage` and `RaftLogReader` over a walogs log.

// The error type is openraft's `StorageError`, which its traits require; boxing it in the
// helpers would only add a conversion at every trait method.
#![allow(clippy::result_large_err)]

use std::fmt::Debug;
use std::io;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{
    AnyError, LogId, LogState, OptionalSend, RaftLogId, RaftLogReader, RaftTypeConfig,
    StorageError, StorageIOError, Vote,
};
use walogs::Lsn;
use walogs::storage::{StdStorage, Storage};

use crate::backend::{BackendError, LogBackend};
use crate::index::IndexMap;
use crate::meta::{Meta, MetaFile};

/// The walogs directory inside a store's directory; the metadata file sits next to it.
pub const LOG_DIR: &str = "log";

type NodeIdOf<C> = <C as RaftTypeConfig>::NodeId;
type Error<C> = StorageError<NodeIdOf<C>>;

/// openraft's log storage on a walogs log (`B`: the native engine or the component).
///
/// A store's directory holds `raft-meta` (vote, committed and last purged log ids, the
/// index map; see [`crate::meta`]) and `log/`, the walogs log of serialized entries. Every
/// call returns after what it changed is durable. Clones of [`LogStore::get_log_reader`]'s
/// reader share the log.
///
/// Writes (appends, truncations, purges, metadata) run on tokio's blocking pool, one at a
/// time, so an fdatasync never holds up one of openraft's async workers; readers take a
/// short lock and never wait for an append's fdatasync.
pub struct LogStore<C: RaftTypeConfig, B: LogBackend> {
    shared: Arc<Shared<C, B>>,
}

/// A reader of a [`LogStore`]'s entries (openraft's `RaftLogReader`).
pub struct LogReader<C: RaftTypeConfig, B: LogBackend> {
    shared: Arc<Shared<C, B>>,
}

struct Shared<C: RaftTypeConfig, B: LogBackend> {
    backend: B,
    /// What readers see. Locked briefly: never across an append's fdatasync.
    view: Mutex<View<C>>,
    /// The metadata file. Its lock is held for a whole write, so writes run one at a time
    /// (openraft's rule) and each sees the last one's result.
    meta: Mutex<MetaFile<NodeIdOf<C>>>,
    dir: PathBuf,
    _config: PhantomData<fn() -> C>,
}

struct View<C: RaftTypeConfig> {
    /// The newest metadata record (a copy of the file's).
    meta: Meta<NodeIdOf<C>>,
    /// The id of the last entry the store returns (`None` when it returns none).
    last: Option<LogId<NodeIdOf<C>>>,
}

fn io_err(e: io::Error) -> AnyError {
    AnyError::new(&e)
}

fn backend_err(e: BackendError) -> AnyError {
    AnyError::from_dyn(e.as_ref(), None)
}

fn read_err<C: RaftTypeConfig>(e: impl Into<AnyError>) -> Error<C> {
    StorageIOError::read_logs(e).into()
}

fn write_err<C: RaftTypeConfig>(e: impl Into<AnyError>) -> Error<C> {
    StorageIOError::write_logs(e).into()
}

fn poisoned<C: RaftTypeConfig>() -> Error<C> {
    read_err::<C>(AnyError::error("store state poisoned by a panic"))
}

/// The first index after the purge point.
fn after_purge<NID: openraft::NodeId>(meta: &Meta<NID>) -> u64 {
    meta.last_purged.as_ref().map_or(0, |p| p.index + 1)
}

/// The first index the store may return: after the purge point and within the index map.
fn lowest<NID: openraft::NodeId>(meta: &Meta<NID>) -> u64 {
    after_purge(meta).max(meta.map.start())
}

impl<C: RaftTypeConfig, B: LogBackend> LogStore<C, B> {
    /// Opens the store in `dir`, creating it (metadata first, then the log) when it does
    /// not exist.
    ///
    /// A directory with a log but no metadata file is refused: the vote and the purge
    /// point would be lost.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error<C>> {
        let dir = dir.as_ref();
        if !dir.exists() {
            create_dir_synced(dir).map_err(|e| write_err::<C>(io_err(e)))?;
        }
        let storage = StdStorage::open_reader(dir).map_err(|e| read_err::<C>(AnyError::new(&e)))?;
        Self::open_with(dir, &storage, B::open)
    }

    /// Opens the store in `dir` (which must exist) with its metadata file reached through
    /// `storage` (the directory itself) and its log opened by `open_log` (given `dir/log`):
    /// for another file layer, such as a test's fault injection. [`LogStore::open`] is this
    /// with walogs' own file layer and [`LogBackend::open`].
    pub fn open_with(
        dir: impl AsRef<Path>,
        storage: &dyn Storage,
        open_log: impl FnOnce(&Path) -> Result<B, BackendError>,
    ) -> Result<Self, Error<C>> {
        let dir = dir.as_ref().to_path_buf();
        let log_dir = dir.join(LOG_DIR);
        let exists = MetaFile::<NodeIdOf<C>>::exists(storage);
        let meta = if exists.map_err(|e| read_err::<C>(io_err(e)))? {
            MetaFile::open(storage).map_err(|e| read_err::<C>(io_err(e)))?
        } else if log_dir.exists() {
            return Err(read_err::<C>(AnyError::error(format!(
                "{} holds a log but no {}: refusing to start without the vote and purge point",
                dir.display(),
                crate::meta::META_FILE
            ))));
        } else {
            MetaFile::create(storage).map_err(|e| write_err::<C>(io_err(e)))?
        };
        let backend = open_log(&log_dir).map_err(|e| read_err::<C>(backend_err(e)))?;
        let shared = Shared {
            backend,
            view: Mutex::new(View {
                meta: meta.get().clone(),
                last: None,
            }),
            meta: Mutex::new(meta),
            dir,
            _config: PhantomData,
        };
        let last = shared.find_last()?;
        shared.view()?.last = last;
        Ok(LogStore {
            shared: Arc::new(shared),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The log backend (for statistics, or a test's fault injection).
    pub fn backend(&self) -> &B {
        &self.shared.backend
    }

    /// Runs the write `op` on tokio's blocking pool (the writes block on fdatasync and,
    /// for the component, must not run inside an async task) and waits for it.
    async fn write<R: Send + 'static>(
        &self,
        op: impl FnOnce(&Shared<C, B>) -> Result<R, Error<C>> + Send + 'static,
    ) -> Result<R, Error<C>> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || op(&shared))
            .await
            .map_err(|e| write_err::<C>(AnyError::error(format!("a store write panicked: {e}"))))?
    }
}

fn create_dir_synced(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

impl<C: RaftTypeConfig, B: LogBackend> Shared<C, B> {
    fn view(&self) -> Result<MutexGuard<'_, View<C>>, Error<C>> {
        self.view.lock().map_err(|_| poisoned::<C>())
    }

    fn meta_file(&self) -> Result<MutexGuard<'_, MetaFile<NodeIdOf<C>>>, Error<C>> {
        self.meta.lock().map_err(|_| poisoned::<C>())
    }

    /// The id of the last visible entry the log holds, read from the log itself.
    fn find_last(&self) -> Result<Option<LogId<NodeIdOf<C>>>, Error<C>> {
        let meta = self.view()?.meta.clone();
        let backend = &self.backend;
        if backend
            .first_lsn()
            .map_err(|e| read_err::<C>(backend_err(e)))?
            .is_none()
        {
            return Ok(None);
        }
        let next = backend
            .next_lsn()
            .map_err(|e| read_err::<C>(backend_err(e)))?;
        let last_lsn = Lsn(next.0 - 1);
        match meta.map.index(last_lsn) {
            Some(index) if index >= lowest(&meta) => {
                let entry = self.read_lsns(meta.map, index, index + 1)?;
                Ok(entry.last().map(|e| e.get_log_id().clone()))
            }
            _ => Ok(None),
        }
    }

    /// Entries `start..end` (indices), which must all be in the log.
    fn read_lsns(&self, map: IndexMap, start: u64, end: u64) -> Result<Vec<C::Entry>, Error<C>> {
        let lsn = |i: u64| {
            map.lsn(i).ok_or_else(|| {
                read_err::<C>(AnyError::error(format!("index {i} maps below LSN 1")))
            })
        };
        let raw = self
            .backend
            .read(lsn(start)?, lsn(end)?)
            .map_err(|e| read_err::<C>(backend_err(e)))?;
        let mut out = Vec::with_capacity(raw.len());
        for (want, bytes) in (start..end).zip(raw) {
            let entry: C::Entry = serde_json::from_slice(&bytes)
                .map_err(|e| StorageIOError::read_log_at_index(want, AnyError::new(&e)))?;
            let got = entry.get_log_id().index;
            if got != want {
                return Err(StorageIOError::read_log_at_index(
                    want,
                    AnyError::error(format!("the log holds index {got} where {want} belongs")),
                )
                .into());
            }
            out.push(entry);
        }
        if (out.len() as u64) < end - start {
            return Err(read_err::<C>(AnyError::error(format!(
                "the log ended at index {} while reading {start}..{end}",
                start + out.len() as u64
            ))));
        }
        Ok(out)
    }

    /// Reads under the view's lock, so a truncation or purge (which changes the view
    /// before it touches the log) never cuts what a read is reading.
    fn get<RB: RangeBounds<u64>>(&self, range: RB) -> Result<Vec<C::Entry>, Error<C>> {
        let view = self.view()?;
        let Some(last) = view.last.clone() else {
            return Ok(Vec::new());
        };
        let lowest = self.lowest_readable(&view.meta)?;
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        }
        .max(lowest);
        let end = match range.end_bound() {
            Bound::Included(&e) => e.saturating_add(1),
            Bound::Excluded(&e) => e,
            Bound::Unbounded => u64::MAX,
        }
        .min(last.index + 1);
        if start >= end {
            return Ok(Vec::new());
        }
        self.read_lsns(view.meta.map, start, end)
    }

    /// The lowest index a read may return.
    #[cfg(not(feature = "mutant-purged-readable"))]
    fn lowest_readable(&self, meta: &Meta<NodeIdOf<C>>) -> Result<u64, Error<C>> {
        Ok(lowest(meta))
    }

    /// MUTANT (test-only feature): reads ignore the purge point, so purged entries whose
    /// segment survives stay readable. openraft's suite must catch this.
    #[cfg(feature = "mutant-purged-readable")]
    fn lowest_readable(&self, meta: &Meta<NodeIdOf<C>>) -> Result<u64, Error<C>> {
        let first = self
            .backend
            .first_lsn()
            .map_err(|e| read_err::<C>(backend_err(e)))?;
        let on_disk = first.and_then(|l| meta.map.index(l)).unwrap_or(0);
        Ok(on_disk.max(meta.map.start()))
    }

    /// Makes `meta` the durable record, then shows it to readers.
    fn save(
        &self,
        file: &mut MetaFile<NodeIdOf<C>>,
        meta: Meta<NodeIdOf<C>>,
        err: fn(AnyError) -> StorageIOError<NodeIdOf<C>>,
    ) -> Result<(), Error<C>> {
        file.set(meta.clone()).map_err(|e| err(io_err(e)))?;
        self.view()?.meta = meta;
        Ok(())
    }

    fn append(&self, entries: Vec<C::Entry>) -> Result<(), Error<C>> {
        let Some(first) = entries.first().map(|e| e.get_log_id().clone()) else {
            return Ok(());
        };
        for (k, e) in entries.iter().enumerate() {
            if e.get_log_id().index != first.index + k as u64 {
                return Err(write_err::<C>(AnyError::error(format!(
                    "entries to append are not consecutive: index {} at position {k} after {}",
                    e.get_log_id().index,
                    first.index
                ))));
            }
        }
        let mut file = self.meta_file()?;
        let meta = file.get().clone();
        let last = self.view()?.last.clone();
        let next = self
            .backend
            .next_lsn()
            .map_err(|e| write_err::<C>(backend_err(e)))?;
        if let Some(last) = &last {
            if first.index != last.index + 1 {
                return Err(write_err::<C>(AnyError::error(format!(
                    "append at index {} but the log continues at {}",
                    first.index,
                    last.index + 1
                ))));
            }
        } else if meta.map.index(next) != Some(first.index) {
            // The store holds no entry: it may continue at another index (a new store, a
            // purge past its last entry, a truncation of every entry). The map moves first,
            // durably, so whatever the log still holds falls below the new start. (Entries
            // at or below the purge point are accepted, as openraft's suite expects, and
            // never returned.)
            let moved = Meta {
                map: IndexMap::placing(first.index, next),
                ..meta
            };
            self.save(&mut file, moved, StorageIOError::write_logs)?;
        }
        let mut bytes = Vec::with_capacity(entries.len());
        for e in &entries {
            bytes.push(serde_json::to_vec(e).map_err(|e| write_err::<C>(AnyError::new(&e)))?);
        }
        // Readers keep reading meanwhile: they see the new entries once `last` moves.
        let at = self
            .backend
            .append(bytes)
            .map_err(|e| write_err::<C>(backend_err(e)))?;
        if at != next {
            return Err(write_err::<C>(AnyError::error(format!(
                "the log appended at LSN {} where the store expected {}: another writer?",
                at.0, next.0
            ))));
        }
        let lowest = lowest(file.get());
        self.view()?.last = entries
            .last()
            .map(|e| e.get_log_id().clone())
            .filter(|l| l.index >= lowest);
        Ok(())
    }

    fn truncate(&self, since: LogId<NodeIdOf<C>>) -> Result<(), Error<C>> {
        let mut file = self.meta_file()?;
        let Some(last) = self.view()?.last.clone() else {
            return Ok(());
        };
        if since.index > last.index {
            return Ok(());
        }
        let meta = file.get().clone();
        let first = lowest(&meta);
        if since.index > first {
            let keep = meta
                .map
                .lsn(since.index - 1)
                .expect("visible entries have LSNs");
            let new_last = self
                .read_lsns(meta.map, since.index - 1, since.index)?
                .last()
                .map(|e| e.get_log_id().clone());
            // Readers stop short of the cut before the log is cut.
            self.view()?.last = new_last;
            return self
                .backend
                .truncate_after(keep)
                .map_err(|e| write_err::<C>(backend_err(e)));
        }
        // Every visible entry goes. If a purged entry is still on disk right below them,
        // cut after it (the engine's crash-safe truncation); otherwise walogs cannot remove
        // its first entry, so the map moves: the next index lands on the next LSN and the
        // entries left in the log fall at or below the purge point (one durable write).
        let below = first.checked_sub(1).and_then(|i| meta.map.lsn(i));
        let on_disk = self
            .backend
            .first_lsn()
            .map_err(|e| write_err::<C>(backend_err(e)))?;
        match (below, on_disk) {
            (Some(keep), Some(oldest)) if keep >= oldest => {
                self.view()?.last = None;
                self.backend
                    .truncate_after(keep)
                    .map_err(|e| write_err::<C>(backend_err(e)))?
            }
            _ => {
                let next = self
                    .backend
                    .next_lsn()
                    .map_err(|e| write_err::<C>(backend_err(e)))?;
                let moved = Meta {
                    map: IndexMap::placing(first, next),
                    ..meta
                };
                self.save(&mut file, moved, StorageIOError::write_logs)?;
                self.view()?.last = None;
            }
        }
        Ok(())
    }

    fn purge(&self, upto: LogId<NodeIdOf<C>>) -> Result<(), Error<C>> {
        let mut file = self.meta_file()?;
        let meta = file.get().clone();
        if meta
            .last_purged
            .as_ref()
            .is_some_and(|p| p.index >= upto.index)
        {
            return Ok(());
        }
        let map = meta.map;
        // The purge point is durable before any entry is deleted: a crash in between
        // leaves entries on disk that are never returned again. Readers see it (and stop
        // reading below it) before the segments go.
        let purged = Meta {
            last_purged: Some(upto.clone()),
            ..meta
        };
        file.set(purged.clone())
            .map_err(|e| StorageIOError::write_logs(io_err(e)))?;
        {
            let mut view = self.view()?;
            view.meta = purged;
            if view.last.as_ref().is_some_and(|l| l.index <= upto.index) {
                view.last = None;
            }
        }
        if let Some(lsn) = map.lsn(upto.index) {
            self.backend
                .checkpoint(lsn)
                .map_err(|e| write_err::<C>(backend_err(e)))?;
        }
        Ok(())
    }

    /// Changes the metadata record with `change` (vote, committed), durably.
    fn update_meta(
        &self,
        change: impl FnOnce(&mut Meta<NodeIdOf<C>>),
        err: fn(AnyError) -> StorageIOError<NodeIdOf<C>>,
    ) -> Result<(), Error<C>> {
        let mut file = self.meta_file()?;
        let mut meta = file.get().clone();
        change(&mut meta);
        self.save(&mut file, meta, err)
    }
}

impl<C: RaftTypeConfig, B: LogBackend> RaftLogReader<C> for LogStore<C, B> {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<C::Entry>, Error<C>> {
        self.shared.get(range)
    }
}

impl<C: RaftTypeConfig, B: LogBackend> RaftLogReader<C> for LogReader<C, B> {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<C::Entry>, Error<C>> {
        self.shared.get(range)
    }
}

impl<C: RaftTypeConfig, B: LogBackend> RaftLogStorage<C> for LogStore<C, B> {
    type LogReader = LogReader<C, B>;

    async fn get_log_state(&mut self) -> Result<LogState<C>, Error<C>> {
        let view = self.shared.view()?;
        let last_purged_log_id = view.meta.last_purged.clone();
        Ok(LogState {
            last_log_id: view.last.clone().or(last_purged_log_id.clone()),
            last_purged_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        LogReader {
            shared: Arc::clone(&self.shared),
        }
    }

    async fn save_vote(&mut self, vote: &Vote<NodeIdOf<C>>) -> Result<(), Error<C>> {
        let vote = vote.clone();
        self.write(move |s| s.update_meta(|m| m.vote = Some(vote), StorageIOError::write_vote))
            .await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeIdOf<C>>>, Error<C>> {
        Ok(self.shared.view()?.meta.vote.clone())
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId<NodeIdOf<C>>>,
    ) -> Result<(), Error<C>> {
        self.write(move |s| s.update_meta(|m| m.committed = committed, StorageIOError::write))
            .await
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeIdOf<C>>>, Error<C>> {
        Ok(self.shared.view()?.meta.committed.clone())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<C>) -> Result<(), Error<C>>
    where
        I: IntoIterator<Item = C::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        // walogs' append returns after fdatasync: the entries are readable and durable.
        // (openraft 0.9 waits for this callback before its next write, so a store's appends
        // never overlap; the stores of several nodes do, on the blocking pool.)
        let entries: Vec<C::Entry> = entries.into_iter().collect();
        let result = self.write(move |s| s.append(entries)).await;
        match &result {
            Ok(()) => callback.log_io_completed(Ok(())),
            Err(e) => callback.log_io_completed(Err(io::Error::other(e.to_string()))),
        }
        result
    }

    async fn truncate(&mut self, log_id: LogId<NodeIdOf<C>>) -> Result<(), Error<C>> {
        self.write(move |s| s.truncate(log_id)).await
    }

    async fn purge(&mut self, log_id: LogId<NodeIdOf<C>>) -> Result<(), Error<C>> {
        self.write(move |s| s.purge(log_id)).await
    }
}
