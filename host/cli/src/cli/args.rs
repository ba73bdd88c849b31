//! The command line: every subcommand, its options and its examples.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use walogs::Durability;

use super::{bench, crash};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (also when the reader of the output went away, as in `walogs cat DIR | head`)
  1  the log is damaged (or `verify` found damage, or `crash-test` a violation)
  2  usage error
  3  the log is locked by another writer
  4  any other error (e.g. no log in DIR)

Only `append` (and `demo`) create a log; every other command needs one in DIR.

Examples:
  walogs append ./wal 'set x = 1'
  walogs cat ./wal --json | jq -r .data";

/// walogs: a crash-safe write-ahead log, run as a sandboxed WebAssembly component.
#[derive(Debug, Parser)]
#[command(name = "walogs", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Print machine-readable JSON: one document per result, JSON lines from `cat`, and
    /// a JSON error object (`"ok": false`) on any failure, usage errors included.
    #[arg(long, global = true)]
    pub json: bool,
    /// Load this walogs component (.wasm) instead of the built-in one.
    #[arg(long, global = true, value_name = "FILE")]
    pub component: Option<PathBuf>,
    /// The cap on the guest's memory (bytes; K, M, G suffixes). Default 256M. Large
    /// batches are split to fit it; raise it for entries near the 16 MiB limit in
    /// batches.
    #[arg(long, global = true, value_name = "BYTES", value_parser = parse_size)]
    pub max_memory: Option<u64>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

const DEMO_EXAMPLES: &str = "Examples:\n  walogs demo
  walogs demo /tmp/my-demo-wal";
const APPEND_EXAMPLES: &str = "Examples:\n  walogs append ./wal 'set x = 1' 'set y = 2'
  printf 'a\\nb\\nc\\n' | walogs append ./wal --batch
  find . -print0 | walogs append ./wal -0
  walogs append ./wal --file photo.jpg
  producer | walogs append ./wal --batch --batch-entries 100 --durability explicit
  walogs append ./wal --max-segment-size 1M - < entries.txt";
const CAT_EXAMPLES: &str = "Examples:\n  walogs cat ./wal
  walogs cat ./wal --from 1000 --limit 10
  walogs cat ./wal --json | jq -r .data
  walogs cat ./wal --format raw -0 | walogs append ./copy -0
  walogs cat ./wal --follow --from 100";
const STAT_EXAMPLES: &str = "Examples:\n  walogs stat ./wal
  walogs stat ./wal --json";
const CHECKPOINT_EXAMPLES: &str = "Examples:\n  walogs checkpoint ./wal 5000";
const TRUNCATE_EXAMPLES: &str = "Examples:\n  walogs truncate ./wal 41";
const VERIFY_EXAMPLES: &str = "Examples:\n  walogs verify ./wal && echo intact
  walogs verify ./wal --json";
const REPAIR_EXAMPLES: &str = "Examples:\n  walogs repair ./wal --dry-run
  walogs repair ./wal && walogs verify ./wal";
const BENCH_EXAMPLES: &str = "Examples:\n  walogs bench --quick
  walogs bench --only durable --json
  walogs bench --plot docs/bench.png";
const CRASH_TEST_EXAMPLES: &str = "Examples:\n  walogs crash-test
  walogs crash-test --seed 7 --states 20000
  walogs --component my-build.wasm crash-test --json";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show crash recovery: tear a write in the middle, reopen, and keep appending.
    #[command(after_help = DEMO_EXAMPLES)]
    Demo {
        /// The demo's directory: new, empty, or one an earlier demo made (then only the
        /// files that demo wrote are replaced). Anything else is refused.
        #[arg(default_value = "./demo-wal")]
        dir: PathBuf,
    },
    /// Append entries: the arguments, `--file`s, or stdin's lines (appended as they
    /// arrive). Creates the log when DIR is new or empty.
    #[command(after_help = APPEND_EXAMPLES)]
    Append(AppendArgs),
    /// Print entries. On a damaged log: the entries before the damage, then the damage
    /// (exit code 1).
    #[command(after_help = CAT_EXAMPLES)]
    Cat(CatArgs),
    /// Describe the log: segments, LSNs, tail state (a torn tail is left in place).
    #[command(after_help = STAT_EXAMPLES)]
    Stat {
        /// The log directory (must hold a log).
        dir: PathBuf,
    },
    /// Delete sealed segments whose entries are all at or below LSN.
    #[command(after_help = CHECKPOINT_EXAMPLES)]
    Checkpoint {
        /// The log directory (must hold a log; never created).
        dir: PathBuf,
        /// The highest LSN the application has applied.
        lsn: u64,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Remove every entry after LSN.
    #[command(after_help = TRUNCATE_EXAMPLES)]
    Truncate {
        /// The log directory (must hold a log; never created).
        dir: PathBuf,
        /// The last LSN to keep.
        lsn: u64,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Read and check every frame; exit code 1 on damage (naming it and the intact
    /// entries before it).
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify {
        /// The log directory (must hold a log).
        dir: PathBuf,
    },
    /// Cut a damaged log at its first damage; every removed byte goes to a quarantine file
    /// in DIR (nothing is deleted). Runs the native engine.
    #[command(after_help = REPAIR_EXAMPLES)]
    Repair {
        /// The log directory (must hold a log).
        dir: PathBuf,
        /// Only report the damage and what a repair would remove; change nothing (exit
        /// code 1 when there is damage).
        #[arg(long)]
        dry_run: bool,
    },
    /// Benchmark walogs (native and component) against raw disk loops and its peers.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(bench::BenchArgs),
    /// Explore crash states (process crash, power loss, torn writes, out-of-order pages, I/O
    /// errors, damage, crashes during recovery) of seeded workloads; exit code 1 on any
    /// violation.
    #[command(after_help = CRASH_TEST_EXAMPLES)]
    CrashTest(crash::CrashTestArgs),
}

impl Command {
    /// What the command does to which path, for error messages (`cat ./wal`).
    pub fn doing(&self) -> String {
        let (name, dir) = match self {
            Self::Demo { dir } => ("demo", Some(dir)),
            Self::Append(a) => ("append to", Some(&a.dir)),
            Self::Cat(a) => ("cat", Some(&a.dir)),
            Self::Stat { dir } => ("stat", Some(dir)),
            Self::Checkpoint { dir, .. } => ("checkpoint", Some(dir)),
            Self::Truncate { dir, .. } => ("truncate", Some(dir)),
            Self::Verify { dir } => ("verify", Some(dir)),
            Self::Repair { dir, .. } => ("repair", Some(dir)),
            Self::Bench(_) => ("bench", None),
            Self::CrashTest(_) => ("crash-test", None),
        };
        match dir {
            Some(dir) => format!("{name} {}", dir.display()),
            None => name.to_owned(),
        }
    }
}

/// Options of every command that writes.
#[derive(Debug, Clone, Args)]
pub struct WriteArgs {
    /// When appends are made durable: `always` (each append or batch is fdatasync'd
    /// before it counts), `explicit` (one sync when the command ends), `none` (never
    /// synced: a power loss may lose them).
    #[arg(long, value_enum, value_name = "WHEN", default_value = "always")]
    pub durability: DurabilityArg,
    /// Rotate to a new segment before one would grow past this many bytes (K, M, G
    /// suffixes). Remembered in DIR/walogs-cli.json for later commands.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_segment_size: Option<u64>,
}

/// `--durability`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DurabilityArg {
    /// fdatasync every append or batch.
    Always,
    /// One sync at the end of the command.
    Explicit,
    /// Never sync.
    None,
}

impl From<DurabilityArg> for Durability {
    fn from(d: DurabilityArg) -> Self {
        match d {
            DurabilityArg::Always => Self::Always,
            DurabilityArg::Explicit => Self::Explicit,
            DurabilityArg::None => Self::None,
        }
    }
}

/// Options of `walogs append`.
#[derive(Debug, Args)]
pub struct AppendArgs {
    /// The log directory: created when missing, used when empty; a directory holding
    /// other files needs --create.
    pub dir: PathBuf,
    /// The entries; `-` or nothing reads stdin, one entry per line (kept byte for byte,
    /// `\r` included).
    #[arg(conflicts_with = "file")]
    pub data: Vec<OsString>,
    /// Append this file's bytes as one entry (repeatable).
    #[arg(long, value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Stdin entries end with NUL bytes instead of newlines (binary-safe).
    #[arg(short = '0', long = "null")]
    pub null: bool,
    /// Append in batches: one write and one sync per batch of up to --batch-entries
    /// entries, or of whatever stdin delivered within --batch-ms.
    #[arg(long)]
    pub batch: bool,
    /// With --batch: entries per batch at most.
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "batch")]
    pub batch_entries: usize,
    /// With --batch: append what stdin delivered once this many milliseconds passed.
    #[arg(long, value_name = "MS", default_value_t = 100, requires = "batch")]
    pub batch_ms: u64,
    /// Start a log in a directory that holds other files.
    #[arg(long)]
    pub create: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// How `cat` prints entry data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `LSN<TAB>text`, with `\\`, control characters and non-UTF-8 bytes escaped.
    Text,
    /// `LSN<TAB>hex`.
    Hex,
    /// `LSN<TAB>base64`.
    Base64,
    /// The bytes themselves, each entry followed by a newline (NUL with -0).
    Raw,
}

/// Options of `walogs cat`.
#[derive(Debug, Args)]
pub struct CatArgs {
    /// The log directory (must hold a log).
    pub dir: PathBuf,
    /// Start at this LSN.
    #[arg(long, value_name = "LSN")]
    pub from: Option<u64>,
    /// Stop after this LSN.
    #[arg(long, value_name = "LSN")]
    pub to: Option<u64>,
    /// Print at most N entries.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// How to print entry data (with --json: `"encoding": "base64"` for every entry when
    /// `base64`, else UTF-8 text where it is that).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// After the last entry, keep printing entries as they are appended (by any process;
    /// checks every 200 ms, takes no lock). Ends at --to or --limit, on damage, or (like
    /// `tail -f`) at the first entry after the reader of the output went away.
    #[arg(long)]
    pub follow: bool,
    /// End each entry with a NUL byte instead of a newline (with --format raw: binary-safe
    /// output that `append -0` reads back).
    #[arg(short = '0', long = "null")]
    pub null: bool,
}

/// A byte count: digits with an optional K, M or G (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 10),
        Some((i, 'M' | 'm')) => (&t[..i], 20),
        Some((i, 'G' | 'g')) => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a byte count (e.g. 1048576 or 1M)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}
