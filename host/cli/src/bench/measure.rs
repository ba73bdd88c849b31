//! Timing: subjects run in interleaved rounds, so that every subject sees the same disk.
//!
//! fdatasync latency on a virtual disk swings by more than 10× from one minute to the
//! next. Running subject A for a minute and then subject B compares two different disks;
//! running a slice of A, a slice of B, a slice of A, … (with the order rotated every
//! round) compares them under the same conditions. Every figure is therefore a ratio
//! between subjects measured in the same rounds.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

/// Something that does `n` units of work when asked (appends, batches, passes, opens).
pub trait Step {
    /// Does `n` units of work.
    fn run(&mut self, n: u64) -> Result<()>;
}

impl<F: FnMut(u64) -> Result<()>> Step for F {
    fn run(&mut self, n: u64) -> Result<()> {
        self(n)
    }
}

/// A named subject of a workload.
pub struct Subject<'a> {
    /// The name shown in the table.
    pub name: String,
    /// Whether it is a baseline, walogs itself, or a peer.
    pub role: Role,
    /// The work.
    pub step: Box<dyn Step + 'a>,
    /// Each unit's latency, for subjects made with [`Subject::timed`].
    latencies: Option<Latencies>,
    /// The calling thread's CPU time (user and system) spent in timed rounds.
    cpu: Duration,
}

/// Per-unit latencies recorded by a [`Subject::timed`] step.
type Latencies = Rc<RefCell<Vec<Duration>>>;

impl<'a> Subject<'a> {
    /// A subject named `name`.
    pub fn new(name: impl Into<String>, role: Role, step: impl Step + 'a) -> Self {
        Self {
            name: name.into(),
            role,
            step: Box::new(step),
            latencies: None,
            cpu: Duration::ZERO,
        }
    }

    /// A subject whose units are timed one by one, so its rows carry p50 and p99 latency
    /// (the clock read per unit costs tens of nanoseconds, far below a durable append).
    pub fn timed(name: impl Into<String>, role: Role, step: impl Step + 'a) -> Self {
        Self::timed_after(name, role, || Ok(()), step)
    }

    /// Like [`Subject::timed`], but each unit runs right after an untimed `prepare`
    /// (an fdatasync of another file, a sleep): the latencies are those of `step` alone,
    /// in the state `prepare` leaves the machine in. Its `µs/op` row includes `prepare`;
    /// read its latency rows.
    pub fn timed_after(
        name: impl Into<String>,
        role: Role,
        mut prepare: impl FnMut() -> Result<()> + 'a,
        mut step: impl Step + 'a,
    ) -> Self {
        let latencies = Latencies::default();
        let into = Rc::clone(&latencies);
        let each = move |n: u64| -> Result<()> {
            for _ in 0..n {
                prepare()?;
                let start = Instant::now();
                step.run(1)?;
                into.borrow_mut().push(start.elapsed());
            }
            Ok(())
        };
        Self {
            latencies: Some(latencies),
            cpu: Duration::ZERO,
            ..Self::new(name, role, each)
        }
    }

    /// The `q` quantile (0.5: the median) of the recorded unit latencies.
    fn quantile(&self, q: f64) -> Option<Duration> {
        let mut all = self.latencies.as_ref()?.borrow().clone();
        if all.is_empty() {
            return None;
        }
        all.sort_unstable();
        let i = ((all.len() as f64 * q).ceil() as usize).clamp(1, all.len()) - 1;
        Some(all[i])
    }
}

/// What a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A raw file-system loop: the physical limit.
    Baseline,
    /// walogs (this version), native or through the component.
    Walogs,
    /// Another WAL: walogs 0.1.0 or okaywal.
    Peer,
}

/// How a workload's figure is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Microseconds per operation (lower is better).
    MicrosPerOp,
    /// Megabytes (10^6) per second (higher is better).
    MegabytesPerSec,
    /// Gigabytes (10^9) per second (higher is better).
    GigabytesPerSec,
    /// Milliseconds per operation (lower is better).
    MillisPerOp,
    /// Durable commits per second (higher is better).
    CommitsPerSec,
}

impl Unit {
    /// The unit's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::MicrosPerOp => "µs/op",
            Unit::MegabytesPerSec => "MB/s",
            Unit::GigabytesPerSec => "GB/s",
            Unit::MillisPerOp => "ms/op",
            Unit::CommitsPerSec => "commits/s",
        }
    }
}

/// One measured subject of one workload.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The workload, e.g. `durable append 100 B`.
    pub workload: String,
    /// The subject, e.g. `walogs native`.
    pub subject: String,
    /// Baseline, walogs or peer.
    pub role: Role,
    /// Operations done (appends, batches, passes, opens).
    pub ops: u64,
    /// Interleaved rounds the operations were split into.
    pub rounds: u64,
    /// Bytes the figure is computed from (0 for per-op figures).
    pub bytes: u64,
    /// Time for `ops` operations, in seconds: the median round × `rounds`.
    pub seconds: f64,
    /// The figure, in `unit`.
    pub value: f64,
    /// The figure's unit.
    pub unit: Unit,
    /// Speed relative to the workload's baseline (its first row): > 1 is faster.
    pub relative: Option<f64>,
    /// Remarks (what exactly was measured, why a peer is missing).
    pub note: Option<String>,
}

impl Row {
    /// Work per second, in the unit's direction (higher is always faster).
    pub fn speed(&self) -> f64 {
        match self.unit {
            Unit::MicrosPerOp | Unit::MillisPerOp => self.ops as f64 / self.seconds,
            Unit::CommitsPerSec => self.value,
            Unit::MegabytesPerSec | Unit::GigabytesPerSec => self.bytes as f64 / self.seconds,
        }
    }
}

/// The figure for `ops` operations (or `bytes` bytes) done in `seconds`.
pub fn figure(unit: Unit, ops: u64, bytes: u64, seconds: f64) -> f64 {
    match unit {
        Unit::MicrosPerOp => seconds * 1e6 / ops.max(1) as f64,
        Unit::MillisPerOp => seconds * 1e3 / ops.max(1) as f64,
        Unit::CommitsPerSec => ops as f64 / seconds,
        Unit::MegabytesPerSec => bytes as f64 / seconds / 1e6,
        Unit::GigabytesPerSec => bytes as f64 / seconds / 1e9,
    }
}

/// Runs every subject for `ops` units in total, split into `rounds` interleaved rounds
/// (the order rotates each round), and returns each subject's time for each round.
pub fn interleave(
    subjects: &mut [Subject<'_>],
    ops: u64,
    rounds: u64,
) -> Result<Vec<Vec<Duration>>> {
    let rounds = rounds.clamp(1, ops.max(1));
    let mut times = vec![Vec::with_capacity(rounds as usize); subjects.len()];
    for round in 0..rounds {
        // Spread the remainder over the first rounds.
        let n = ops / rounds + u64::from(round < ops % rounds);
        for k in 0..subjects.len() {
            let i = (k + round as usize) % subjects.len();
            let (start, cpu) = (Instant::now(), thread_cpu_time());
            subjects[i].step.run(n)?;
            times[i].push(start.elapsed());
            subjects[i].cpu += thread_cpu_time().saturating_sub(cpu);
        }
    }
    Ok(times)
}

/// The CPU time (user and system) the calling thread has used so far.
fn thread_cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; the clock id is a constant Linux knows.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    if r != 0 {
        return Duration::ZERO;
    }
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Runs every subject for `n` units, untimed: files created, caches and allocators warm.
pub fn warm_up(subjects: &mut [Subject<'_>], n: u64) -> Result<()> {
    subjects.iter_mut().try_for_each(|s| s.step.run(n))?;
    for latencies in subjects.iter().filter_map(|s| s.latencies.as_ref()) {
        latencies.borrow_mut().clear();
    }
    Ok(())
}

/// Rows of each subject's CPU time per unit in the timed rounds of [`interleave`]
/// (`ops` units each): where a subject's extra time goes, computing or waiting.
pub fn cpu_rows(workload: &str, subjects: &[Subject<'_>], ops: u64) -> Vec<Row> {
    let workload = format!("{workload}, CPU time");
    let note = "the thread's user + system time per op";
    subjects
        .iter()
        .map(|s| {
            let us = s.cpu.as_secs_f64() * 1e6 / ops.max(1) as f64;
            micros_row(&workload, s, us, note.into())
        })
        .collect()
}

/// A one-figure row of `us` microseconds for subject `s` (no relative figure yet).
fn micros_row(workload: &str, s: &Subject<'_>, us: f64, note: String) -> Row {
    Row {
        workload: workload.to_owned(),
        subject: s.name.clone(),
        role: s.role,
        ops: 1,
        rounds: 1,
        bytes: 0,
        seconds: (us / 1e6).max(1e-12),
        value: us,
        unit: Unit::MicrosPerOp,
        relative: None,
        note: Some(note),
    }
}

/// The median of `times`.
fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// What a workload measured, for [`rows`].
pub struct Measured<'a> {
    /// The workload's name.
    pub workload: &'a str,
    /// The figure's unit.
    pub unit: Unit,
    /// Operations each subject did.
    pub ops: u64,
    /// Bytes each subject processed (0 for per-op figures).
    pub bytes: u64,
}

/// Builds the rows of a workload from the interleaved rounds. The first subject is the
/// baseline every `relative` is computed against.
pub fn rows(m: &Measured<'_>, subjects: &[Subject<'_>], times: &[Vec<Duration>]) -> Vec<Row> {
    let mut out: Vec<Row> = subjects
        .iter()
        .zip(times)
        .map(|(s, t)| {
            // The median round × the number of rounds: robust to a round that a journal
            // commit or another process happened to stall.
            let time = median(t) * t.len() as u32;
            let seconds = time.as_secs_f64().max(1e-9);
            Row {
                workload: m.workload.to_owned(),
                subject: s.name.clone(),
                role: s.role,
                ops: m.ops,
                rounds: t.len() as u64,
                bytes: m.bytes,
                seconds,
                value: figure(m.unit, m.ops, m.bytes, seconds),
                unit: m.unit,
                relative: None,
                note: None,
            }
        })
        .collect();
    set_relative(&mut out);
    out
}

/// Sets every row's `relative` against the first row.
pub fn set_relative(rows: &mut [Row]) {
    let Some(base) = rows.first().map(Row::speed) else {
        return;
    };
    for row in rows.iter_mut() {
        row.relative = Some(row.speed() / base);
    }
}

/// A payload of `len` bytes that does not compress to nothing (entry `i` differs from
/// entry `i + 1`).
pub fn payload(len: usize, i: u64) -> Vec<u8> {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Rows of the latency quantile `q` of one unit (e.g. 0.99: p99) for every
/// [`Subject::timed`] subject, as the workload `"{workload}, {label} latency"` in µs per
/// unit; the first such subject is the baseline of `relative`.
pub fn latency_rows(workload: &str, subjects: &[Subject<'_>], q: f64, label: &str) -> Vec<Row> {
    let workload = format!("{workload}, {label} latency");
    let mut out: Vec<Row> = subjects
        .iter()
        .filter_map(|s| {
            let latency = s.quantile(q)?;
            let ops = s.latencies.as_ref().map_or(0, |l| l.borrow().len() as u64);
            let us = latency.as_secs_f64() * 1e6;
            Some(micros_row(&workload, s, us, format!("{label} of {ops}")))
        })
        .collect();
    set_relative(&mut out);
    out
}
