//! `walogs bench`: runs the benchmark suite and prints the table, JSON and/or a chart.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use walogs_host::{HostError, Runtime};

use super::output::Out;
use super::{EXIT_ERROR, EXIT_OK};
use crate::bench::{self, Options};

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
        Err(e) => {
            eprintln!("walogs: bench failed: {e:#}");
            return Ok(EXIT_ERROR);
        }
    };
    out.print(&report, || print!("{}", report.table()));
    if let Some(path) = &args.plot {
        if let Err(e) = bench::plot(&report, path, args.font.as_deref()) {
            eprintln!("walogs: bench: {e:#}");
            return Ok(EXIT_ERROR);
        }
        eprintln!("walogs bench: chart written to {}", path.display());
    }
    Ok(EXIT_OK)
}
