//! Write workloads: durable single appends, group commit, non-durable appends.

use anyhow::Result;
use walogs::Durability;

use super::Ctx;
use super::logs::{self, HEADER, Log, Okay, RawFile, V01};
use super::measure::{
    Measured, Role, Row, Subject, Unit, cpu_rows, interleave, latency_rows, payload, rows, warm_up,
};

/// Entries per group-commit batch.
pub const BATCH: usize = 1000;
/// Bytes per entry in group commit and non-durable appends.
pub const SMALL: usize = 100;
/// Appends each subject does before timing starts (file creation, first allocation).
const WARMUP: u64 = 3;
/// Durable appends per subject per round: rounds short enough that a slow minute of the
/// disk hits every subject alike.
const DURABLE_SLICE: u64 = 10;
/// Group-commit batches per subject per round.
const GROUP_SLICE: u64 = 2;
/// Non-durable appends per subject per round.
const NONDURABLE_SLICE: u64 = 1000;

/// A step that makes `n` calls into the component that do no work (`wal.next-lsn`): the
/// floor of one host→guest call.
pub fn empty_calls(log: &mut walogs_host::ComponentWal) -> impl FnMut(u64) -> Result<()> + '_ {
    move |n| {
        for _ in 0..n {
            log.next_lsn()?;
        }
        Ok(())
    }
}

/// A step that appends `data` `n` times.
pub fn appends<'a>(log: &'a mut dyn Log, data: &'a [u8]) -> impl FnMut(u64) -> Result<()> + 'a {
    move |n| {
        for _ in 0..n {
            log.append(data)?;
        }
        Ok(())
    }
}

/// A step that appends `batch` `n` times.
fn batches<'a>(log: &'a mut dyn Log, batch: &'a [Vec<u8>]) -> impl FnMut(u64) -> Result<()> + 'a {
    move |n| {
        for _ in 0..n {
            log.append_batch(batch)?;
        }
        Ok(())
    }
}

/// Durable single appends of `len`-byte entries: every append is on disk (fdatasync)
/// before the next one starts.
pub fn durable(ctx: &Ctx<'_>, len: usize) -> Result<Vec<Row>> {
    let dir = ctx.fresh(&format!("durable-{len}"))?;
    let ops = ctx.sizes.durable_ops;
    let frame = (HEADER + len) as u64;
    let prezeroed_len = (ops + WARMUP + 16) * frame;
    let mut raw = RawFile::create(&dir.join("raw-growing"), true)?;
    let mut zeroed = RawFile::create_prezeroed(&dir.join("raw-prezeroed"), prezeroed_len, true)?;
    let mut native = logs::native(&dir.join("native"), Durability::Always)?;
    let mut component = logs::component(ctx.rt, &dir.join("component"), Durability::Always)?;
    let mut v01 = V01::open(&dir.join("walogs-0.1.0"))?;
    let mut okay = Okay::open(&dir.join("okaywal"))?;
    let data = payload(len, 7);
    let mut subjects = vec![
        Subject::timed(
            "raw write+fdatasync, growing file",
            Role::Baseline,
            appends(&mut raw, &data),
        ),
        Subject::timed(
            "raw write+fdatasync, pre-zeroed file",
            Role::Baseline,
            appends(&mut zeroed, &data),
        ),
        Subject::timed("walogs native", Role::Walogs, appends(&mut native, &data)),
        Subject::timed(
            "walogs component",
            Role::Walogs,
            appends(&mut component, &data),
        ),
        Subject::timed("walogs 0.1.0", Role::Peer, appends(&mut v01, &data)),
        Subject::timed("okaywal 0.3.1", Role::Peer, appends(&mut okay, &data)),
    ];
    let workload = format!("durable append {}", size_name(len));
    let mut out = durable_rounds(&workload, &mut subjects, ops)?;
    note(&mut out, "okaywal", "one entry of one chunk, committed");
    out.extend(latency_rows(&workload, &subjects, 0.50, "p50"));
    out.extend(latency_rows(&workload, &subjects, 0.99, "p99"));
    out.extend(cpu_rows(&workload, &subjects, ops));
    Ok(out)
}

/// Warms `subjects` up, runs `ops` durable appends each in interleaved rounds, and returns
/// the workload's rows of time per append.
fn durable_rounds(workload: &str, subjects: &mut [Subject<'_>], ops: u64) -> Result<Vec<Row>> {
    warm_up(subjects, WARMUP)?;
    let times = interleave(subjects, ops, ops / DURABLE_SLICE)?;
    let m = Measured {
        workload,
        unit: Unit::MicrosPerOp,
        ops,
        bytes: 0,
    };
    Ok(rows(&m, subjects, &times))
}

/// Lengths of the pre-zeroed files in [`file_length`] besides the one the appends need.
const FILE_LENGTHS: [(u64, &str); 3] = [
    (1 << 20, "1 MiB"),
    (16 << 20, "16 MiB"),
    (64 << 20, "64 MiB (the default segment size limit)"),
];

/// Durable appends of [`SMALL`] bytes into pre-zeroed files of different lengths, each
/// append overwriting space the file already has, at the same offsets in every file: the
/// physical limit of an fdatasync depends on how long the file is, not only on what the
/// append changed (why walogs keeps its pre-fill short: docs/BENCHMARKS.md).
pub fn file_length(ctx: &Ctx<'_>) -> Result<Vec<Row>> {
    let dir = ctx.fresh("file-length")?;
    let ops = ctx.sizes.durable_ops;
    let needed = (ops + WARMUP + 16) * (HEADER + SMALL) as u64;
    let mut files = vec![(
        RawFile::create_prezeroed(&dir.join("needed"), needed, true)?,
        format!("pre-zeroed, {} KiB (what the appends need)", needed >> 10),
    )];
    for (len, name) in FILE_LENGTHS {
        let file = RawFile::create_prezeroed(&dir.join(format!("len-{len}")), len, true)?;
        files.push((file, format!("pre-zeroed, {name}")));
    }
    let data = payload(SMALL, 5);
    let mut subjects: Vec<Subject<'_>> = files
        .iter_mut()
        .map(|(file, name)| Subject::timed(name.clone(), Role::Baseline, appends(file, &data)))
        .collect();
    let workload = format!("fdatasync by file length, {} appends", size_name(SMALL));
    let mut out = durable_rounds(&workload, &mut subjects, ops)?;
    out.extend(latency_rows(&workload, &subjects, 0.50, "p50"));
    Ok(out)
}

/// Group commit: batches of [`BATCH`] entries of [`SMALL`] bytes, each batch one write
/// and one fdatasync. The baseline writes the same bytes sequentially and fsyncs once
/// per round.
pub fn group(ctx: &Ctx<'_>) -> Result<Vec<Row>> {
    let dir = ctx.fresh("group")?;
    let ops = ctx.sizes.group_batches;
    let batch: Vec<Vec<u8>> = (0..BATCH as u64).map(|i| payload(SMALL, i)).collect();
    let batch_bytes = (BATCH * (HEADER + SMALL)) as u64;
    let mut seq = RawFile::create(&dir.join("raw-sequential"), false)?;
    let chunk = vec![1u8; 1 << 20];
    let sequential = move |n: u64| -> Result<()> {
        let mut left = n * batch_bytes;
        while left > 0 {
            let k = left.min(chunk.len() as u64) as usize;
            seq.write(&chunk[..k])?;
            left -= k as u64;
        }
        seq.fsync()
    };
    let mut raw = RawFile::create(&dir.join("raw-batches"), true)?;
    let mut native = logs::native(&dir.join("native"), Durability::Always)?;
    let mut component = logs::component(ctx.rt, &dir.join("component"), Durability::Always)?;
    let mut okay = Okay::open(&dir.join("okaywal"))?;
    let mut subjects = vec![
        Subject::new(
            "raw sequential write + one fsync",
            Role::Baseline,
            sequential,
        ),
        Subject::new(
            "raw write+fdatasync per batch",
            Role::Baseline,
            batches(&mut raw, &batch),
        ),
        Subject::new("walogs native", Role::Walogs, batches(&mut native, &batch)),
        Subject::new(
            "walogs component",
            Role::Walogs,
            batches(&mut component, &batch),
        ),
        Subject::new("okaywal 0.3.1", Role::Peer, batches(&mut okay, &batch)),
    ];
    warm_up(&mut subjects, 1)?;
    let times = interleave(&mut subjects, ops, ops / GROUP_SLICE)?;
    let workload = format!("group commit {BATCH} × {}", size_name(SMALL));
    let m = Measured {
        workload: &workload,
        unit: Unit::MegabytesPerSec,
        ops,
        bytes: ops * batch_bytes,
    };
    let mut out = rows(&m, &subjects, &times);
    note(
        &mut out,
        "raw sequential",
        "the same bytes in 1 MiB writes, one fsync per round of 2 batches",
    );
    note(&mut out, "okaywal", "one entry of 1000 chunks, committed");
    Ok(out)
}

/// Appends that are written but not synced ([`Durability::None`]): the cost of the
/// engine and of the sandbox, without the disk's latency.
pub fn nondurable(ctx: &Ctx<'_>) -> Result<Vec<Row>> {
    let dir = ctx.fresh("nondurable")?;
    let ops = ctx.sizes.nondurable_ops;
    let mut raw = RawFile::create(&dir.join("raw"), false)?;
    let mut native = logs::native(&dir.join("native"), Durability::None)?;
    let mut component = logs::component(ctx.rt, &dir.join("component"), Durability::None)?;
    let mut probe = logs::component(ctx.rt, &dir.join("probe"), Durability::None)?;
    let data = payload(SMALL, 3);
    let mut subjects = vec![
        Subject::new(
            "raw write, no sync",
            Role::Baseline,
            appends(&mut raw, &data),
        ),
        Subject::new("walogs native", Role::Walogs, appends(&mut native, &data)),
        Subject::new(
            "walogs component",
            Role::Walogs,
            appends(&mut component, &data),
        ),
        Subject::new(
            "component call, no work",
            Role::Baseline,
            empty_calls(&mut probe),
        ),
    ];
    warm_up(&mut subjects, 100)?;
    let times = interleave(&mut subjects, ops, ops / NONDURABLE_SLICE)?;
    let workload = format!("non-durable append {}", size_name(SMALL));
    let m = Measured {
        workload: &workload,
        unit: Unit::MicrosPerOp,
        ops,
        bytes: 0,
    };
    let mut out = rows(&m, &subjects, &times);
    out.extend(cpu_rows(&workload, &subjects, ops));
    note(
        &mut out,
        "call, no work",
        "wal.next-lsn: the floor of one host→guest call",
    );
    Ok(out)
}

/// "100 B", "4 KiB".
pub fn size_name(len: usize) -> String {
    if len >= 1024 && len.is_multiple_of(1024) {
        format!("{} KiB", len / 1024)
    } else {
        format!("{len} B")
    }
}

/// Attaches `text` to the rows whose subject contains `subject`.
pub fn note(rows: &mut [Row], subject: &str, text: &str) {
    for row in rows.iter_mut().filter(|r| r.subject.contains(subject)) {
        row.note = Some(text.to_owned());
    }
}
