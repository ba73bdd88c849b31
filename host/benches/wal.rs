//! Criterion benchmarks of walogs, natively and through the component: single appends
//! (durable and not), group commit, iteration, open. `walogs bench` is the full suite with
//! baselines and peers; these are for tracking one number over time:
//! `cargo bench -p walogs-host --bench wal [-- FILTER]`.
//!
//! The logs live under the target directory (not a tmpfs `/tmp`) so that fdatasync is real.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use walogs::{Durability, Wal, WalConfig};
use walogs_host::{ComponentWal, Runtime};

/// A scratch directory under the cargo target directory.
fn scratch() -> tempfile::TempDir {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    std::fs::create_dir_all(&target).expect("target dir");
    tempfile::Builder::new()
        .prefix("walogs-criterion-")
        .tempdir_in(target)
        .expect("scratch dir")
}

fn config(durability: Durability) -> WalConfig {
    WalConfig {
        durability,
        ..WalConfig::default()
    }
}

/// Both engines behind one interface.
enum Engine {
    Native(Wal),
    Component(Box<ComponentWal>),
}

impl Engine {
    fn open(which: &str, dir: &Path, config: WalConfig) -> Self {
        match which {
            "native" => Engine::Native(Wal::open_with_config(dir, config).expect("open")),
            _ => Engine::Component(Box::new(
                Runtime::shared()
                    .open_with_config(dir, config)
                    .expect("open"),
            )),
        }
    }

    fn append(&mut self, data: &[u8]) {
        match self {
            Engine::Native(w) => {
                let _ = w.append(data).expect("append");
            }
            Engine::Component(w) => {
                let _ = w.append(data).expect("append");
            }
        }
    }

    fn append_batch(&mut self, batch: &[Vec<u8>]) {
        match self {
            Engine::Native(w) => {
                w.append_batch(batch).expect("batch");
            }
            Engine::Component(w) => {
                w.append_batch(batch).expect("batch");
            }
        }
    }

    fn iterate(&mut self) -> u64 {
        let sum =
            |r: Result<(walogs::Lsn, Vec<u8>), walogs::WalError>| r.expect("entry").1.len() as u64;
        match self {
            Engine::Native(w) => w.iter().map(sum).sum(),
            Engine::Component(w) => w.iter().expect("iter").map(sum).sum(),
        }
    }
}

const ENGINES: [&str; 2] = ["native", "component"];

fn appends(c: &mut Criterion) {
    let dir = scratch();
    for (name, durability, size) in [
        ("append_none", Durability::None, 100),
        ("append_durable", Durability::Always, 100),
        ("append_durable", Durability::Always, 4096),
    ] {
        let mut group = c.benchmark_group(format!("{name}_{size}B"));
        if durability == Durability::Always {
            group
                .sample_size(20)
                .measurement_time(Duration::from_secs(4));
        }
        group.throughput(Throughput::Elements(1));
        let data = vec![7u8; size];
        for engine in ENGINES {
            let path = dir.path().join(format!("{name}-{size}-{engine}"));
            let mut wal = Engine::open(engine, &path, config(durability));
            group.bench_function(BenchmarkId::from_parameter(engine), |b| {
                b.iter(|| wal.append(&data))
            });
        }
        group.finish();
    }
}

fn group_commit(c: &mut Criterion) {
    let dir = scratch();
    let batch: Vec<Vec<u8>> = (0..1000u32).map(|i| i.to_le_bytes().repeat(25)).collect();
    let mut group = c.benchmark_group("group_commit_1000x100B");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Bytes(1000 * 116));
    for engine in ENGINES {
        let mut wal = Engine::open(engine, &dir.path().join(engine), config(Durability::Always));
        group.bench_function(BenchmarkId::from_parameter(engine), |b| {
            b.iter(|| wal.append_batch(&batch))
        });
    }
    group.finish();
}

fn iteration_and_open(c: &mut Criterion) {
    let dir = scratch();
    let log = dir.path().join("log");
    let segment = 1 << 20;
    let mut wal = Wal::open_with_config(
        &log,
        WalConfig {
            max_segment_size: Some(segment),
            durability: Durability::None,
            ..WalConfig::default()
        },
    )
    .expect("open");
    let batch: Vec<Vec<u8>> = (0..256u32).map(|i| i.to_le_bytes().repeat(1024)).collect();
    for _ in 0..32 {
        wal.append_batch(&batch).expect("fill");
    }
    wal.sync().expect("sync");
    drop(wal);
    let bytes = 32 * 256 * 4096;

    let mut group = c.benchmark_group("iterate_32MiB_4KiB");
    group.sample_size(10).throughput(Throughput::Bytes(bytes));
    let read_only = WalConfig {
        read_only: true,
        ..WalConfig::default()
    };
    for engine in ENGINES {
        let mut wal = Engine::open(engine, &log, read_only.clone());
        group.bench_function(BenchmarkId::from_parameter(engine), |b| {
            b.iter(|| assert_eq!(wal.iterate(), bytes))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("open_32_segments");
    for engine in ENGINES {
        group.bench_function(BenchmarkId::from_parameter(engine), |b| {
            b.iter(|| Engine::open(engine, &log, WalConfig::default()))
        });
    }
    group.finish();
}

criterion_group!(benches, appends, group_commit, iteration_and_open);
criterion_main!(benches);
