//! `walogs bench`: runs the benchmark suite and prints the table, JSON and/or a chart.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use walogs_host::{HostError, Runtime};

use super::output::{Failure, Out};
use super::{EXIT_ERROR, EXIT_OK};
use crate::bench::{self, Options};

/// Whether this binary is a debug build, whose timings say nothing about walogs.
const DEBUG_BUILD: bool = cfg!(debug_assertions);

/// What a debug build's `bench` says first and last.
const DEBUG_WARNING: &str = "\
WARNING: this walogs is a DEBUG build: every number below is slower than walogs really is,
and targets will be reported NOT MET for that reason alone. Measure with a release build:
  cargo run --release -p walogs-cli -- bench";

/// Options of `walogs bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Reduced sizes: every workload, under a minute (for CI).
    #[arg(long)]
    quick: bool,
    /// Write the scratch logs under DIR (default: the cargo target directory). Must not
    /// be a tmpfs: fdatasync costs nothing there.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Also draw the results as a PNG chart.
    #[arg(long, value_name = "FILE.png")]
    plot: Option<PathBuf>,
    /// TrueType font for the chart's labels (default: a system font).
    #[arg(long, value_name = "FILE.ttf", requires = "plot")]
    font: Option<PathBuf>,
    /// Run only the workloads whose name contains TEXT (e.g. `durable`, `iteration`,
    /// `open`, `verify`).
    #[arg(long, value_name = "TEXT")]
    only: Option<String>,
    /// Keep the scratch logs instead of deleting them.
    #[arg(long)]
    keep: bool,
}

/// Runs the benchmarks. Targets are reported met or not met; the exit code is 0 unless a
/// workload failed.
pub fn run(rt: &Runtime, args: BenchArgs, out: &Out) -> Result<u8, HostError> {
    if DEBUG_BUILD {
        eprintln!("{DEBUG_WARNING}");
    }
    let options = Options {
        quick: args.quick,
        dir: args.dir,
        keep: args.keep,
        progress: std::io::stderr().is_terminal(),
        only: args.only,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let report = match bench::run(rt, &options) {
        Ok(report) => report,
        Err(e) => return Ok(failed(out, "bench", &e)),
    };
    let mut doc = serde_json::to_value(&report).expect("plain data serializes");
    if let Some(fields) = doc.as_object_mut() {
        fields.insert("debug_build".into(), DEBUG_BUILD.into());
    }
    out.print(&doc, || {
        if DEBUG_BUILD {
            format!("{DEBUG_WARNING}\n\n{}", report.table())
        } else {
            report.table()
        }
    })?;
    if let Some(path) = &args.plot {
        if let Err(e) = bench::plot(&report, path, args.font.as_deref()) {
            return Ok(failed(out, &format!("bench: draw {}", path.display()), &e));
        }
        eprintln!("walogs bench: chart written to {}", path.display());
    }
    if DEBUG_BUILD && !out.is_json() {
        eprintln!("{DEBUG_WARNING}");
    }
    Ok(EXIT_OK)
}

/// Reports a failed benchmark run (the benchmarks' errors carry their own context).
fn failed(out: &Out, doing: &str, e: &anyhow::Error) -> u8 {
    let failure = Failure {
        doing: doing.to_owned(),
        error: HostError::io(
            "run the benchmarks",
            std::io::Error::other(format!("{e:#}")),
        ),
    };
    out.error(&failure, None);
    EXIT_ERROR
}
