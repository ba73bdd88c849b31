//! Issue 10's "a live iterator keeps `DIR/LOCK` after its `Wal` is dropped", for clients
//! of the component. The guest holds no lock (WASI has none): the host does, tied to the
//! handle that opened the log, never to a cursor. These tests prove that a cursor or a
//! follower left alive cannot keep a log locked.

use walogs::{Lsn, WalConfig, WalError};
use walogs_host::{ComponentWal, EMBEDDED_COMPONENT, HostError, Runtime};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

mod raw {
    wasmtime::component::bindgen!({ path: "../../wit", world: "walogs" });
}

struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A WIT client (through raw bindings, as any language's would) drops the `wal`
/// resource while a `cursor` is alive: the cursor keeps reading what it saw, and the
/// guest opens the log again at once, in the same instance; nothing in the guest holds
/// the directory.
#[test]
fn dropping_the_wal_resource_under_a_live_cursor_keeps_nothing_open() -> wasmtime::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = wasmtime::Engine::default();
    let component = Component::new(&engine, EMBEDDED_COMPONENT)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let wasi = WasiCtxBuilder::new()
        .preopened_dir(dir.path(), "/wal", FsPerms::ReadWrite)?
        .build();
    let host = Host {
        wasi,
        table: ResourceTable::new(),
    };
    let mut store = wasmtime::Store::new(&engine, host);
    let bindings = raw::Walogs::instantiate(&mut store, &component, &linker)?;
    let (log, wal, cursor) = (
        bindings.walogs_wal_log(),
        bindings.walogs_wal_log().wal(),
        bindings.walogs_wal_log().cursor(),
    );
    let config = log.call_default_config(&mut store)?;
    let first = wal.call_open(&mut store, "/wal", config)?.expect("open");
    for data in ["one", "two", "three"] {
        wal.call_append(&mut store, first, data.as_bytes())?
            .expect("append");
    }
    let live = wal.call_iter(&mut store, first)?.expect("iter");
    let batch = cursor
        .call_next_batch(&mut store, live, 1, 1 << 20)?
        .expect("batch");
    assert_eq!(batch[0].lsn, 1);
    first.resource_drop(&mut store)?;

    let second = wal.call_open(&mut store, "/wal", config)?.expect("reopen");
    assert_eq!(wal.call_next_lsn(&mut store, second)?, 4);
    let rest = cursor
        .call_next_batch(&mut store, live, 10, 1 << 20)?
        .expect("batch");
    let lsns: Vec<u64> = rest.iter().map(|e| e.lsn).collect();
    assert_eq!(
        lsns,
        vec![2, 3],
        "the cursor reads on after its wal is gone"
    );
    assert_eq!(wal.call_append(&mut store, second, b"four")?.ok(), Some(4));
    live.resource_drop(&mut store)?;
    second.resource_drop(&mut store)?;
    Ok(())
}

/// Through the host the lock belongs to the [`ComponentWal`]: an iterator borrows it, so
/// it cannot outlive it (the compiler refuses, see `ComponentIter`), and dropping the
/// handle releases the lock.
#[test]
fn the_host_lock_goes_with_the_handle() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = ComponentWal::open(dir.path()).unwrap();
    wal.append(b"one").unwrap();
    assert!(matches!(
        ComponentWal::open(dir.path()),
        Err(HostError::Wal(WalError::Locked { .. }))
    ));
    let mut iter = wal.iter().unwrap();
    assert_eq!(iter.next().unwrap().unwrap().0, Lsn(1));
    drop(iter);
    drop(wal);
    ComponentWal::open(dir.path()).expect("the lock went with the handle");
}

/// A follower and an iterator of a shared component log, still alive after every clone
/// of the log was dropped, do not keep the lock: the next open succeeds, and they read on.
#[test]
fn live_followers_and_iterators_of_a_shared_log_do_not_keep_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let shared = Runtime::shared()
        .open_shared(dir.path(), WalConfig::default())
        .unwrap();
    for data in [b"one", b"two"] {
        shared.append(data).unwrap();
    }
    let mut follower = shared.follow(Lsn(1)).unwrap();
    let mut iter = shared.iter().unwrap();
    assert_eq!(follower.next().unwrap().unwrap().0, Lsn(1));
    drop(shared);
    let mut reopened = ComponentWal::open(dir.path()).expect("not Locked");
    assert_eq!(reopened.next_lsn().unwrap(), Lsn(3));
    assert_eq!(iter.next().unwrap().unwrap().0, Lsn(1));
    assert_eq!(follower.next().unwrap().unwrap().0, Lsn(2));
}
