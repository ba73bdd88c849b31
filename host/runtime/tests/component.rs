//! The component through the host library: locking, paths, batches, fault injection.

use walogs::{Lsn, TailState, WalConfig, WalError};
use walogs_host::interpose::{CrashPoint, FaultPlan, WriteFault, WriteFaultKind};
use walogs_host::{
    BATCH_BYTES, BATCH_ENTRIES, ComponentWal, HostError, OpenOptions, Runtime, RuntimeOptions,
};

fn wal_err(r: Result<ComponentWal, HostError>) -> WalError {
    match r {
        Ok(_) => panic!("the open succeeded"),
        Err(e) => e.into_wal().expect("a log error, not a host failure"),
    }
}

#[test]
fn the_write_lock_is_exclusive_and_released_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = ComponentWal::open(dir.path()).unwrap();
    first.append(b"x").unwrap();
    let e = wal_err(ComponentWal::open(dir.path()));
    assert!(
        matches!(&e, WalError::Locked { dir: d } if d == dir.path()),
        "{e}"
    );
    // The component's lock is the native engine's lock.
    let native = walogs::Wal::open(dir.path()).unwrap_err();
    assert!(matches!(native, WalError::Locked { .. }), "{native}");
    // Readers take no lock.
    let ro = WalConfig {
        read_only: true,
        ..WalConfig::default()
    };
    let mut reader = ComponentWal::open_with_config(dir.path(), ro).unwrap();
    assert_eq!(reader.last_lsn().unwrap(), Some(Lsn(1)));
    assert!(matches!(
        reader.append(b"no").unwrap_err().wal(),
        Some(WalError::ReadOnly)
    ));
    drop(first);
    let mut again = ComponentWal::open(dir.path()).unwrap();
    assert_eq!(again.append(b"y").unwrap(), Lsn(2));
}

#[test]
fn a_file_or_a_missing_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"not a log").unwrap();
    let e = wal_err(ComponentWal::open(&file));
    assert!(
        matches!(&e, WalError::Io(io) if io.kind() == std::io::ErrorKind::NotADirectory
            && io.to_string().contains(&file.display().to_string())),
        "{e}"
    );

    let rt = Runtime::shared();
    let missing = dir.path().join("missing");
    let ro = WalConfig {
        read_only: true,
        ..WalConfig::default()
    };
    assert!(matches!(
        wal_err(rt.open_with_config(&missing, ro)),
        WalError::Io(_)
    ));
    assert!(!missing.exists());
}

#[test]
fn iteration_pulls_bounded_batches() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig {
        durability: walogs::Durability::None,
        max_segment_size: Some(BATCH_BYTES / 2),
        ..WalConfig::default()
    };
    let mut wal = ComponentWal::open_with_config(dir.path(), config).unwrap();
    let small: Vec<Vec<u8>> = (0..BATCH_ENTRIES as usize * 2 + 7)
        .map(|i| format!("entry {i}").into_bytes())
        .collect();
    let range = wal.append_batch(&small).unwrap();
    assert_eq!((range.start, range.len()), (Lsn(1), small.len() as u64));
    let big = vec![7u8; BATCH_BYTES as usize + 1];
    let big_lsn = wal.append(&big).unwrap();
    assert!(wal.segment_count().unwrap() > 1);

    let all: Vec<(Lsn, Vec<u8>)> = wal.iter().unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(all.len(), small.len() + 1);
    assert!(all.iter().zip(1..).all(|((lsn, _), n)| lsn.0 == n));
    assert_eq!(all[5].1, b"entry 5");
    assert_eq!(all.last().unwrap(), &(big_lsn, big));

    let from: Vec<Lsn> = wal
        .iter_from(Lsn(2000))
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect();
    assert_eq!(from.first(), Some(&Lsn(2000)));
    assert_eq!(from.len() as u64, big_lsn.0 - 2000 + 1);
    let e = wal.iter_from(Lsn(big_lsn.0 + 5)).unwrap_err();
    assert!(
        matches!(e.wal(), Some(WalError::LsnOutOfRange { .. })),
        "{e}"
    );
}

#[test]
fn a_failed_sync_is_an_error_and_poisons_the_handle() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = ComponentWal::open(dir.path()).unwrap();
    wal.append(b"durable").unwrap();
    let stats = wal.fs_stats();
    assert!(stats.syncs + stats.sync_datas >= 1, "{stats:?}");
    assert!(stats.writes >= 1 && stats.bytes_written > 0, "{stats:?}");

    wal.set_fault_plan(FaultPlan {
        fail_sync: Some(stats.syncs + stats.sync_datas + 1),
        ..FaultPlan::default()
    });
    let e = wal.append(b"lost").unwrap_err();
    assert!(matches!(e.wal(), Some(WalError::Io(_))), "{e}");
    assert_eq!(wal.fs_stats().failed_syncs, 1);
    let e = wal.append(b"after").unwrap_err();
    assert!(matches!(e.wal(), Some(WalError::Poisoned { .. })), "{e}");
    drop(wal);

    let mut wal = ComponentWal::open(dir.path()).unwrap();
    let first = wal.iter().unwrap().next().unwrap().unwrap();
    assert_eq!(first, (Lsn(1), b"durable".to_vec()));
}

#[test]
fn a_full_disk_reaches_the_host_as_storage_full_not_as_a_generic_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = ComponentWal::open(dir.path()).unwrap();
    wal.append(b"kept").unwrap();
    for (kind, expected) in [
        (WriteFaultKind::NoSpace, std::io::ErrorKind::StorageFull),
        (WriteFaultKind::Io, std::io::ErrorKind::Other),
    ] {
        let nth = wal.fs_stats().writes + 1;
        wal.set_fault_plan(FaultPlan {
            fail_write: Some(WriteFault { nth, kind }),
            ..FaultPlan::default()
        });
        match wal.append(b"refused").unwrap_err().into_wal() {
            Ok(WalError::Io(e)) => assert_eq!(e.kind(), expected, "{kind:?}: {e}"),
            other => panic!("{kind:?}: expected an I/O error, got {other:?}"),
        }
        drop(wal);
        wal = ComponentWal::open(dir.path()).unwrap();
    }
    assert_eq!(wal.last_lsn().unwrap(), Some(Lsn(1)));
}

#[test]
fn a_torn_write_stops_the_guest_and_recovery_cuts_it_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = ComponentWal::open(dir.path()).unwrap();
    wal.append(b"kept").unwrap();
    // Where the frame ends (the file itself is longer: the active segment is pre-filled).
    let size = 16 + b"kept".len() as u64;
    let nth = wal.fs_stats().writes + 1;
    wal.set_fault_plan(FaultPlan {
        crash: Some(CrashPoint::AtWrite { nth, keep: 10 }),
        ..FaultPlan::default()
    });
    let e = wal.append(&[1u8; 1000]).unwrap_err();
    let crash = e.injected_crash().expect("an injected crash").clone();
    assert_eq!((crash.write, crash.written), (nth, 10));
    assert!(wal.is_dead());
    assert!(matches!(wal.next_lsn(), Err(HostError::Dead)));
    drop(wal);

    let mut wal = ComponentWal::open(dir.path()).unwrap();
    assert_eq!(wal.tail_state().unwrap(), TailState::TruncatedAt(size));
    assert_eq!(wal.next_lsn().unwrap(), Lsn(2));
    assert_eq!(wal.append(b"next").unwrap(), Lsn(2));
}

#[test]
fn fuel_stops_the_guest() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::with_options(RuntimeOptions {
        fuel: true,
        ..RuntimeOptions::default()
    })
    .unwrap();
    let options = OpenOptions {
        fuel: Some(1_000),
        ..OpenOptions::default()
    };
    let e = rt
        .open_with_options(dir.path(), WalConfig::default(), options)
        .unwrap_err();
    assert!(e.is_trap(), "{e}");
    // The lock went with the failed open.
    let mut wal = rt.open(dir.path()).unwrap();
    assert_eq!(wal.append(b"ok").unwrap(), Lsn(1));
}

#[test]
fn the_precompiled_component_is_cached() {
    let cache = tempfile::tempdir().unwrap();
    let options = RuntimeOptions {
        cache_dir: Some(cache.path().to_owned()),
        ..Default::default()
    };
    let cold = Runtime::with_options(options.clone()).unwrap();
    let warm = Runtime::with_options(options).unwrap();
    let (cold, warm) = (cold.load_info(), warm.load_info());
    eprintln!(
        "compile + store: {:?}, load: {:?}",
        cold.elapsed, warm.elapsed
    );
    assert!(!cold.cache_hit && warm.cache_hit);
    assert_eq!(cold.artifact, warm.artifact);
    let artifact = warm.artifact.as_ref().unwrap();
    assert!(artifact.starts_with(cache.path()) && artifact.is_file());
    let entries = std::fs::read_dir(cache.path()).unwrap().count();
    assert_eq!(entries, 1, "no temporary files are left behind");
}
