//! The adapter's own promises, beyond openraft's suite, on both backends: what survives a
//! reopen (vote, committed, purge point, a moved index map), purged entries staying hidden
//! after a reopen, a purge past the last entry and a truncation of every entry (their crash
//! points are in `crash.rs`).

mod common;

use common::{Component, Native, Shared};
use openraft::storage::{RaftLogStorage, RaftLogStorageExt};
use openraft::testing::{blank_ent, log_id};
use openraft::{LogId, LogState, RaftLogReader, Vote};
use walogs_openraft::kv::KvConfig;
use walogs_openraft::meta::MetaFile;
use walogs_openraft::{LogBackend, LogStore};

type Store<B> = LogStore<KvConfig, B>;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

async fn append<B: LogBackend>(
    store: &mut Store<B>,
    term: u64,
    indices: impl Iterator<Item = u64>,
) {
    let entries: Vec<_> = indices.map(|i| blank_ent::<KvConfig>(term, 0, i)).collect();
    store.blocking_append(entries).await.unwrap();
}

async fn indices<B: LogBackend>(store: &mut Store<B>) -> Vec<u64> {
    let entries = store.try_get_log_entries(0..).await.unwrap();
    entries.iter().map(|e| e.log_id.index).collect()
}

fn id(term: u64, index: u64) -> LogId<u64> {
    log_id(term, 0, index)
}

fn vote_committed_and_purge_point_survive_reopen<B: LogBackend>() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let mut store = Store::<B>::open(dir.path()).unwrap();
        append(&mut store, 1, 0..10).await;
        store.save_vote(&Vote::new(3, 2)).await.unwrap();
        store.save_committed(Some(id(1, 8))).await.unwrap();
        store.purge(id(1, 4)).await.unwrap();
        drop(store);
        let mut store = Store::<B>::open(dir.path()).unwrap();
        assert_eq!(store.read_vote().await.unwrap(), Some(Vote::new(3, 2)));
        assert_eq!(store.read_committed().await.unwrap(), Some(id(1, 8)));
        assert_eq!(
            store.get_log_state().await.unwrap(),
            LogState {
                last_purged_log_id: Some(id(1, 4)),
                last_log_id: Some(id(1, 9))
            }
        );
        // The segment holding 0..=4 still exists (one segment): they stay unreadable.
        assert_eq!(indices(&mut store).await, (5..10).collect::<Vec<_>>());
    });
}

fn a_purge_past_the_last_entry_continues_at_the_next_index_after_reopen<B: LogBackend>() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let mut store = Store::<B>::open(dir.path()).unwrap();
        append(&mut store, 1, 0..=10).await;
        store.purge(id(1, 20)).await.unwrap();
        drop(store);
        let mut store = Store::<B>::open(dir.path()).unwrap();
        assert_eq!(indices(&mut store).await, Vec::<u64>::new());
        let state = store.get_log_state().await.unwrap();
        assert_eq!(state.last_log_id, Some(id(1, 20)));
        append(&mut store, 2, 21..=23).await;
        drop(store);
        let mut store = Store::<B>::open(dir.path()).unwrap();
        assert_eq!(indices(&mut store).await, vec![21, 22, 23]);
        assert_eq!(
            store.get_log_state().await.unwrap().last_log_id,
            Some(id(2, 23))
        );
    });
}

fn a_truncation_of_every_entry_survives_reopen_and_the_log_restarts_at_zero<B: LogBackend>() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let mut store = Store::<B>::open(dir.path()).unwrap();
        append(&mut store, 1, 0..=10).await;
        store.truncate(id(1, 0)).await.unwrap();
        drop(store);
        let mut store = Store::<B>::open(dir.path()).unwrap();
        assert_eq!(indices(&mut store).await, Vec::<u64>::new());
        assert_eq!(store.get_log_state().await.unwrap().last_log_id, None);
        append(&mut store, 2, 0..=2).await;
        drop(store);
        let mut store = Store::<B>::open(dir.path()).unwrap();
        let entries = store.try_get_log_entries(0..).await.unwrap();
        let ids: Vec<_> = entries.iter().map(|e| e.log_id).collect();
        assert_eq!(ids, vec![id(2, 0), id(2, 1), id(2, 2)]);
    });
}

fn a_partial_truncation_keeps_the_prefix_across_reopen<B: LogBackend>() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let mut store = Store::<B>::open(dir.path()).unwrap();
        append(&mut store, 1, 0..=10).await;
        store.purge(id(1, 2)).await.unwrap();
        store.truncate(id(1, 6)).await.unwrap();
        append(&mut store, 3, 6..=7).await;
        drop(store);
        let mut store = Store::<B>::open(dir.path()).unwrap();
        let entries = store.try_get_log_entries(0..).await.unwrap();
        let ids: Vec<_> = entries.iter().map(|e| e.log_id).collect();
        assert_eq!(ids, vec![id(1, 3), id(1, 4), id(1, 5), id(3, 6), id(3, 7)]);
    });
}

fn truncating_every_visible_entry_after_a_purge_cuts_the_log_physically<B: LogBackend>() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let mut store = Store::<B>::open(dir.path()).unwrap();
        append(&mut store, 1, 0..=10).await;
        store.purge(id(1, 4)).await.unwrap();
        store.truncate(id(1, 5)).await.unwrap();
        assert_eq!(
            store.get_log_state().await.unwrap().last_log_id,
            Some(id(1, 4))
        );
        append(&mut store, 2, 5..=5).await;
        drop(store);
        let mut store = Store::<B>::open(dir.path()).unwrap();
        assert_eq!(indices(&mut store).await, vec![5]);
    });
}

fn an_append_that_skips_an_index_is_refused<B: LogBackend>() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let mut store = Store::<B>::open(dir.path()).unwrap();
        append(&mut store, 1, 0..=2).await;
        let gap = vec![blank_ent::<KvConfig>(1, 0, 5)];
        assert!(store.blocking_append(gap).await.is_err());
        assert_eq!(indices(&mut store).await, vec![0, 1, 2]);
    });
}

fn a_log_without_its_metadata_file_is_refused<B: LogBackend>() {
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let mut store = Store::<B>::open(dir.path()).unwrap();
        append(&mut store, 1, 0..=2).await;
    });
    std::fs::remove_file(MetaFile::<u64>::path(dir.path())).unwrap();
    assert!(Store::<B>::open(dir.path()).is_err());
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod native { use super::*; $( #[test] fn $name() { super::$name::<Native>() } )* }
        mod component { use super::*; $( #[test] fn $name() { super::$name::<Component>() } )* }
        mod shared { use super::*; $( #[test] fn $name() { super::$name::<Shared>() } )* }
    };
}

on_both!(
    vote_committed_and_purge_point_survive_reopen,
    a_purge_past_the_last_entry_continues_at_the_next_index_after_reopen,
    a_truncation_of_every_entry_survives_reopen_and_the_log_restarts_at_zero,
    a_partial_truncation_keeps_the_prefix_across_reopen,
    truncating_every_visible_entry_after_a_purge_cuts_the_log_physically,
    an_append_that_skips_an_index_is_refused,
    a_log_without_its_metadata_file_is_refused,
);
