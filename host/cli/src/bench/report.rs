//! The report of a run: every row, the performance targets judged against them, and the text
//! table. Targets are reported met or not met; nothing here fails a run.

use std::fmt::Write;

use serde::Serialize;

use super::Sizes;
use super::machine::Machine;
use super::measure::Row;

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The exact command line.
    pub command: String,
    /// Whether this was a `--quick` run.
    pub quick: bool,
    /// The sizes used.
    pub sizes: Sizes,
    /// Where it ran.
    pub machine: Machine,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// Every measured subject of every workload.
    pub rows: Vec<Row>,
    /// The targets, judged.
    pub targets: Vec<Target>,
}

/// Which way a target's bound goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The measured value must be at least the required one.
    AtLeast,
    /// The measured value must be at most the required one.
    AtMost,
}

/// One of the performance targets, with what this run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// What is compared.
    pub name: String,
    /// The measured value (`None` when a row it needs is missing).
    pub measured: Option<f64>,
    /// The bound.
    pub required: f64,
    /// At least or at most.
    pub bound: Bound,
    /// Unit of `measured` and `required` (`×` for ratios).
    pub unit: String,
    /// Whether the bound holds (false when not measured).
    pub met: bool,
}

impl Target {
    pub(super) fn new(
        name: String,
        measured: Option<f64>,
        bound: Bound,
        required: f64,
        unit: &str,
    ) -> Self {
        let met = measured.is_some_and(|m| match bound {
            Bound::AtLeast => m >= required,
            Bound::AtMost => m <= required,
        });
        Self {
            name,
            measured,
            required,
            bound,
            unit: unit.to_owned(),
            met,
        }
    }
}

/// The first row of a workload starting with `workload` whose subject is `subject`.
fn find<'a>(rows: &'a [Row], workload: &str, subject: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.workload.starts_with(workload) && r.subject == subject)
}

/// Speed of `a` relative to `b` (both in the same workload).
fn ratio(rows: &[Row], workload: &str, a: &str, b: &str) -> Option<f64> {
    Some(find(rows, workload, a)?.speed() / find(rows, workload, b)?.speed())
}

/// Judges the performance targets against `rows`.
pub fn targets(rows: &[Row]) -> Vec<Target> {
    let (native, component) = ("walogs native", "walogs component");
    let mut out = Vec::new();
    for size in ["100 B", "4 KiB"] {
        let w = format!("durable append {size}");
        out.push(Target::new(
            format!("{w}: native / raw write+fdatasync loop"),
            ratio(rows, &w, native, "raw write+fdatasync, growing file"),
            Bound::AtLeast,
            0.95,
            "×",
        ));
        let prezeroed = "raw write+fdatasync, pre-zeroed file";
        out.push(Target::new(
            format!("{w}: native / pre-zeroed raw write+fdatasync loop"),
            ratio(rows, &w, native, prezeroed),
            Bound::AtLeast,
            0.95,
            "×",
        ));
        out.push(Target::new(
            format!("{w}: native / okaywal"),
            ratio(rows, &w, native, "okaywal 0.3.1"),
            Bound::AtLeast,
            1.0,
            "×",
        ));
        out.push(Target::new(
            format!("{w}: component / native"),
            ratio(rows, &w, component, native),
            Bound::AtLeast,
            0.95,
            "×",
        ));
        // Latency rows are in µs (lower is better): a / b is how much slower a is.
        let p99 = format!("{w}, p99 latency");
        let p99_of = |subject| find(rows, &p99, subject).map(|r| r.value);
        for subject in [native, component] {
            out.push(Target::new(
                format!("{w}: p99 latency, {subject} / pre-zeroed raw loop"),
                p99_of(subject).zip(p99_of(prezeroed)).map(|(a, b)| a / b),
                Bound::AtMost,
                1.5,
                "×",
            ));
        }
    }
    out.push(Target::new(
        "group commit: native / raw sequential write + one fsync".into(),
        ratio(
            rows,
            "group commit",
            native,
            "raw sequential write + one fsync",
        ),
        Bound::AtLeast,
        0.8,
        "×",
    ));
    // One append_batch of 1,000 × 100 B against 1,000 durable single appends of 100 B.
    // Group commit is in MB/s (bytes per µs), 116 bytes per entry with the frame header.
    let single_us = find(rows, "durable append 100 B", native).map(|r| r.value * 1000.0);
    let batch_us = find(rows, "group commit", native).map(|r| 116_000.0 / r.value);
    out.push(Target::new(
        "group commit: 1,000 single durable appends / one append_batch of 1,000 (native)".into(),
        single_us
            .zip(batch_us)
            .map(|(single, batch)| single / batch),
        Bound::AtLeast,
        1.0,
        "×",
    ));
    out.push(Target::new(
        "non-durable append 100 B through the component".into(),
        find(rows, "non-durable append", component).map(|r| r.value),
        Bound::AtMost,
        3.0,
        "µs",
    ));
    out.push(Target::new(
        "iteration of 4 KiB entries through the component".into(),
        find(rows, "iterate", component).map(|r| r.value),
        Bound::AtLeast,
        1.0,
        "GB/s",
    ));
    // The open rows of one subject: small segments first, then 16× larger ones.
    let growth = |subject: &str| {
        let mut times = rows
            .iter()
            .filter(|r| r.workload.starts_with("open") && r.subject.starts_with(subject))
            .map(|r| r.value);
        let (small, big) = (times.next()?, times.next()?);
        Some(big / small)
    };
    for subject in [native, component] {
        out.push(Target::new(
            format!("open: {subject}, time with 16× the sealed bytes / time with 1×"),
            growth(&format!("{subject},")),
            Bound::AtMost,
            1.5,
            "×",
        ));
    }
    out.push(Target::new(
        "full verification, native (Wal::verify)".into(),
        find(rows, "verify", native).map(|r| r.value),
        Bound::AtLeast,
        1.0,
        "GB/s",
    ));
    out.push(Target::new(
        "full verification, native (open with verify_on_open)".into(),
        find(rows, "verify", "walogs native, open with verify_on_open").map(|r| r.value),
        Bound::AtLeast,
        1.0,
        "GB/s",
    ));
    out.extend(super::concurrent::targets(rows));
    out
}

/// Formats a figure with three significant digits (at least two decimals below 10).
pub(super) fn num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Report {
    /// The report as a text table (one block per workload, then the targets).
    pub fn table(&self) -> String {
        let mut s = String::new();
        let m = &self.machine;
        let _ = writeln!(
            s,
            "walogs bench{}",
            if self.quick { " --quick" } else { "" }
        );
        let _ = writeln!(
            s,
            "machine: {} ({} cores), Linux {}",
            m.cpu, m.cores, m.kernel
        );
        let _ = writeln!(
            s,
            "file system: {} on {} ({})",
            m.fs_type, m.fs_device, m.dir
        );
        let mut workload = "";
        for row in &self.rows {
            if row.workload != workload {
                workload = &row.workload;
                let unit = row.unit.symbol();
                let how = if row.ops == row.rounds {
                    format!("median of {}", row.ops)
                } else {
                    format!("{} ops, median of {} rounds", row.ops, row.rounds)
                };
                let title = format!("{workload} ({how})");
                let _ = writeln!(s, "\n{title:<56} {unit:>8} {:>9}", "vs first");
            }
            let rel = row.relative.map_or(String::new(), |r| format!("{r:.2}×"));
            let note = row
                .note
                .as_deref()
                .map_or(String::new(), |n| format!("  ({n})"));
            let value = num(row.value);
            let _ = writeln!(s, "  {:<54} {value:>8} {rel:>9}{note}", row.subject);
        }
        let _ = writeln!(s, "\ntargets (same run):");
        for t in &self.targets {
            let verdict = match (t.measured, t.met) {
                (None, _) => "n/a    ",
                (Some(_), true) => "met    ",
                (Some(_), false) => "NOT MET",
            };
            let measured = t
                .measured
                .map_or("n/a".into(), |v| format!("{} {}", num(v), t.unit));
            let op = if t.bound == Bound::AtLeast {
                "≥"
            } else {
                "≤"
            };
            let required = format!("{op} {} {}", t.required, t.unit);
            let _ = writeln!(
                s,
                "  [{verdict}] {:<70} {measured:>11}  ({required})",
                t.name
            );
        }
        let _ = writeln!(s, "\ntotal {:.1} s", self.seconds);
        s
    }
}
