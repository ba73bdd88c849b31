//! `walogs bench`: walogs against the physical limit (raw file loops) and its peers
//! (walogs 0.1.0, okaywal), natively and through the component, all in one process run on
//! one file system. See docs/BENCHMARKS.md.

mod append;
mod cold;
mod concurrent;
mod logs;
mod machine;
mod measure;
mod plot;
mod read;
mod report;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use walogs_host::Runtime;

pub use machine::Machine;
pub use plot::plot;
pub use report::Report;

/// How much work each workload does.
#[derive(Debug, Clone, Serialize)]
pub struct Sizes {
    /// Durable appends per subject, for each entry size.
    pub durable_ops: u64,
    /// Group-commit batches per subject.
    pub group_batches: u64,
    /// Non-durable appends per subject.
    pub nondurable_ops: u64,
    /// Payload bytes of the iteration log.
    pub iter_bytes: u64,
    /// Passes over the iteration log (and over the verified log) per subject.
    pub iter_passes: u64,
    /// Sealed segments in the open logs.
    pub open_segments: u32,
    /// Segment size of the small open log.
    pub open_small: u64,
    /// Segment size of the large open log (16× the small one).
    pub open_big: u64,
    /// Opens per subject.
    pub open_rounds: u64,
    /// Milliseconds of one subject's slice in the concurrent workload.
    pub concurrent_slice_ms: u64,
    /// Interleaved slices per subject and producer count in the concurrent workload.
    pub concurrent_rounds: u64,
}

impl Sizes {
    /// The full run of docs/BENCHMARKS.md.
    pub fn full() -> Self {
        Self {
            durable_ops: 3000,
            group_batches: 200,
            nondurable_ops: 200_000,
            iter_bytes: 256 << 20,
            iter_passes: 5,
            open_segments: 64,
            open_small: 256 << 10,
            open_big: 4 << 20,
            open_rounds: 21,
            concurrent_slice_ms: 500,
            concurrent_rounds: 5,
        }
    }

    /// The quick run for CI: every workload, reduced, under a minute.
    pub fn quick() -> Self {
        Self {
            durable_ops: 600,
            group_batches: 60,
            nondurable_ops: 20_000,
            iter_bytes: 32 << 20,
            iter_passes: 3,
            open_segments: 32,
            open_small: 64 << 10,
            open_big: 1 << 20,
            open_rounds: 11,
            concurrent_slice_ms: 100,
            concurrent_rounds: 2,
        }
    }
}

/// What `walogs bench` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Reduced sizes.
    pub quick: bool,
    /// Where the scratch directory goes (`None`: under the target directory).
    pub dir: Option<PathBuf>,
    /// Keep the logs written (otherwise they are deleted at the end).
    pub keep: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Run only the workloads whose name contains this text.
    pub only: Option<String>,
    /// The command line, for the report.
    pub command: String,
}

/// What every workload needs.
pub struct Ctx<'a> {
    /// The component runtime (compiled or loaded once).
    pub rt: &'a Runtime,
    /// The scratch directory of this run.
    root: PathBuf,
    /// The sizes.
    pub sizes: Sizes,
}

impl Ctx<'_> {
    /// A new, empty directory for one workload.
    pub fn fresh(&self, name: &str) -> Result<PathBuf> {
        let dir = self.root.join(name);
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        Ok(dir)
    }
}

/// The default place for scratch logs: the cargo target directory of the running binary
/// (`target/release/walogs` → `target/`), so that the logs are on the same disk as a
/// developer's build and never on a tmpfs `/tmp`; else the current directory.
fn default_parent() -> PathBuf {
    let exe = std::env::current_exe().ok();
    exe.as_deref()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .filter(|p| p.join("CACHEDIR.TAG").exists())
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

/// Runs every workload and returns the report.
pub fn run(rt: &Runtime, options: &Options) -> Result<Report> {
    let start = Instant::now();
    let parent = options.dir.clone().unwrap_or_else(default_parent);
    std::fs::create_dir_all(&parent)?;
    let scratch = tempfile::Builder::new()
        .prefix("walogs-bench-")
        .tempdir_in(&parent)
        .with_context(|| format!("create a scratch directory in {}", parent.display()))?;
    let machine = Machine::detect(scratch.path());
    if machine.is_memory_fs() {
        eprintln!(
            "walogs bench: warning: {} is on {}: fdatasync costs nothing there; use --dir",
            machine.dir, machine.fs_type
        );
    }
    let sizes = if options.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    let ctx = Ctx {
        rt,
        root: scratch.path().to_owned(),
        sizes: sizes.clone(),
    };
    let rows = workloads(&ctx, options)?;
    if options.keep {
        let kept = scratch.keep();
        eprintln!("walogs bench: logs kept in {}", kept.display());
    }
    let targets = report::targets(&rows);
    Ok(Report {
        command: options.command.clone(),
        quick: options.quick,
        sizes,
        machine,
        seconds: start.elapsed().as_secs_f64(),
        rows,
        targets,
    })
}

/// Runs the workloads in order, with a progress bar.
fn workloads(ctx: &Ctx<'_>, options: &Options) -> Result<Vec<measure::Row>> {
    type Work<'w> = (
        &'static str,
        Box<dyn Fn(&Ctx<'_>) -> Result<Vec<measure::Row>> + 'w>,
    );
    let open_logs = std::cell::OnceCell::new();
    let logs = |ctx: &Ctx<'_>| -> Result<&read::OpenLogs> {
        if let Some(logs) = open_logs.get() {
            return Ok(logs);
        }
        let built = read::OpenLogs::build(ctx)?;
        Ok(open_logs.get_or_init(|| built))
    };
    let mut list: Vec<Work<'_>> = vec![
        (
            "durable append 100 B",
            Box::new(|c| append::durable(c, 100)),
        ),
        (
            "durable append 4 KiB",
            Box::new(|c| append::durable(c, 4096)),
        ),
        ("fdatasync by file length", Box::new(append::file_length)),
        ("group commit", Box::new(append::group)),
        ("non-durable append", Box::new(append::nondurable)),
        ("after an fdatasync", Box::new(cold::after_fdatasync)),
        ("iteration", Box::new(read::iteration)),
        ("open", Box::new(|c| read::open(c, logs(c)?))),
        ("verify", Box::new(|c| read::verify(c, logs(c)?))),
        ("concurrent", Box::new(concurrent::concurrent)),
    ];
    if let Some(only) = &options.only {
        list.retain(|(name, _)| name.contains(only.as_str()));
    }
    let bar = if options.progress {
        ProgressBar::new(list.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    let style = ProgressStyle::with_template("{elapsed:>4} [{bar:24}] {pos}/{len} {msg}")
        .map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut rows = Vec::new();
    for (name, work) in &list {
        bar.set_message(*name);
        rows.extend(work(ctx).with_context(|| format!("workload {name}"))?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(rows)
}
