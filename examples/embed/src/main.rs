//! The walogs component in your own wasmtime host: `bindgen!` and wasmtime-wasi, nothing else.
//!
//! Usage: `walogs-embed-example DIR [COMPONENT]`. Each run opens the log in `DIR`, says what
//! recovery found at its tail, appends three entries and prints every entry.

use wasmtime::component::{Component, Linker, ResourceTable, bindgen};
use wasmtime::{Engine, Result, Store, format_err};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

bindgen!({ path: "../../wit", world: "walogs" });
use walogs::wal::types::{Config, Durability, TailState};

/// What the store holds for the guest: its WASI context and resource table.
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

/// Where `just component` puts the component.
const COMPONENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/wasm32-wasip2/component/walogs.wasm"
);

fn main() -> Result<()> {
    let usage = || format_err!("usage: walogs-embed-example DIR [COMPONENT]");
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or_else(usage)?;
    let wasm = args.next().unwrap_or_else(|| COMPONENT.into());

    // Compile the component and link WASI Preview 2: once per process.
    let engine = Engine::default();
    let component = Component::from_file(&engine, &wasm)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;

    // A store and an instance per open log; the guest sees only the log directory, at /wal.
    std::fs::create_dir_all(&dir)?;
    // Synchronous calls may do their file I/O on this thread: without it wasmtime-wasi hands
    // every write and fdatasync to a thread of its blocking pool and waits for it.
    let wasi = WasiCtxBuilder::new()
        .preopened_dir(&dir, "/wal", FsPerms::ReadWrite)?
        .allow_blocking_current_thread(true)
        .build();
    let table = ResourceTable::new();
    let mut store = Store::new(&engine, Host { wasi, table });
    let walogs = Walogs::instantiate(&mut store, &component, &linker)?;
    let (log, cursors) = (
        walogs.walogs_wal_log().wal(),
        walogs.walogs_wal_log().cursor(),
    );

    // Each call returns Result<Result<T, walogs error>, trap>: hence `??`.
    // Start from the component's defaults (64 MiB segments); 0 would mean "never rotate".
    let config = Config {
        durability: Durability::Always,
        ..walogs.walogs_wal_log().call_default_config(&mut store)?
    };
    let wal = log.call_open(&mut store, "/wal", config)??;
    match log.call_tail_state(&mut store, wal)? {
        TailState::Clean => println!("tail: clean"),
        TailState::TruncatedAt(offset) => println!("tail: torn tail cut off at byte {offset}"),
    }
    let lsn = log.call_append(&mut store, wal, b"hello")??;
    let range = log.call_append_batch(&mut store, wal, &[b"one".into(), b"two".into()])??;
    println!("appended {lsn}, then {}..{}", range.start, range.end - 1);

    let cursor = log.call_iter(&mut store, wal)??;
    loop {
        let entries = cursors.call_next_batch(&mut store, cursor, 64, 1 << 20)??;
        if entries.is_empty() {
            break;
        }
        for entry in entries {
            println!("{}: {}", entry.lsn, String::from_utf8_lossy(&entry.data));
        }
    }
    cursor.resource_drop(&mut store)?;
    wal.resource_drop(&mut store)?; // closes the log's files
    Ok(())
}
