//! The optional `maintenance` interface across component and host versions: a host built
//! for the world that exports only `log` still loads this component, and this host still
//! loads a component that lacks `maintenance` (built with `--cfg walogs_log_only`, as
//! components were before the interface existed), reporting a typed "not supported".

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use walogs::{Lsn, WalError};
use walogs_host::{EMBEDDED_COMPONENT, HostError, Runtime, RuntimeOptions, WIT_MAINTENANCE};

include!("../../nested_cargo_env.rs");

/// A host built for the world of components without `maintenance`.
mod log_only_host {
    wasmtime::component::bindgen!({
        path: "../../wit",
        inline: "package walogs:log-only; world log-only { export walogs:wal/log@0.2.0; }",
        world: "walogs:log-only/log-only",
    });
}

struct Host {
    wasi: wasmtime_wasi::WasiCtx,
    table: wasmtime::component::ResourceTable,
}

impl wasmtime_wasi::WasiView for Host {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

#[test]
fn a_host_built_for_the_log_only_world_loads_this_component() -> wasmtime::Result<()> {
    use wasmtime::component::{Component, Linker};
    let dir = tempfile::tempdir().unwrap();
    let engine = wasmtime::Engine::default();
    let component = Component::new(&engine, EMBEDDED_COMPONENT)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let mut wasi = wasmtime_wasi::WasiCtxBuilder::new();
    wasi.preopened_dir(dir.path(), "/wal", wasmtime_wasi::FsPerms::ReadWrite)?;
    let host = Host {
        wasi: wasi.build(),
        table: Default::default(),
    };
    let mut store = wasmtime::Store::new(&engine, host);
    let bindings = log_only_host::LogOnly::instantiate(&mut store, &component, &linker)?;
    let log = bindings.walogs_wal_log();
    let config = log.call_default_config(&mut store)?;
    let wal = log
        .wal()
        .call_open(&mut store, "/wal", config)?
        .expect("open");
    assert_eq!(
        log.wal().call_append(&mut store, wal, b"one")?.ok(),
        Some(1)
    );
    assert_eq!(log.wal().call_next_lsn(&mut store, wal)?, 2);
    Ok(())
}

/// Builds the guest with `--cfg walogs_log_only` (into the mutants' target directory, so
/// the dependencies are shared with them) and returns the component's path.
fn log_only_component() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_owned();
    let target = root.join("target").join("mutants");
    fs::create_dir_all(&target).unwrap();
    // One guest build at a time in this directory (the mutant builds take the same lock).
    let lock = File::create(target.join(".lock")).unwrap();
    lock.lock().unwrap();
    let output = guest_component_build(&root, &target)
        .args(["--config", "profile.component.lto=false"])
        .args(["--config", "profile.component.codegen-units=16"])
        .args(["--config", "profile.component.opt-level=1"])
        .args(["--", "--cfg=walogs_log_only"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out = target.join("log-only.wasm");
    fs::copy(target.join("wasm32-wasip2/component/walogs.wasm"), &out).unwrap();
    out
}

fn assert_unsupported<T: std::fmt::Debug>(r: Result<T, HostError>, what: &str) {
    match r {
        Err(HostError::Unsupported { interface, .. }) => assert_eq!(interface, WIT_MAINTENANCE),
        other => panic!("{what}: expected Unsupported, got {other:?}"),
    }
}

#[test]
fn this_host_loads_a_component_without_maintenance_and_says_unsupported() {
    let options = RuntimeOptions {
        cache_dir: None,
        ..RuntimeOptions::default()
    };
    let rt = Runtime::from_file_with_options(log_only_component(), options).unwrap();
    assert!(!rt.supports_maintenance());
    assert!(Runtime::shared().supports_maintenance());
    let dir = tempfile::tempdir().unwrap();
    let mut wal = rt.open(dir.path()).unwrap();
    assert_eq!(wal.append(b"one").unwrap(), Lsn(1));
    assert_unsupported(wal.recovery_report(), "recovery_report");
    assert_eq!(wal.append(b"two").unwrap(), Lsn(2), "the log still works");
    drop(wal);
    assert_unsupported(rt.find_damage(dir.path()), "find_damage");
    assert_unsupported(rt.repair(dir.path(), false), "repair");
    let missing = dir.path().join("missing");
    assert_unsupported(rt.repair(&missing, false), "repair of a missing directory");
    assert!(!missing.exists(), "an unsupported repair touches nothing");
    let wal = rt.open(dir.path()).unwrap();
    drop(wal);
    let e = Runtime::shared().open(dir.path());
    assert!(!matches!(e, Err(HostError::Wal(WalError::Locked { .. }))));
}
