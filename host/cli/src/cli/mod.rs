//! Command-line parsing, dispatch and exit codes.

mod bench;
mod commands;
mod crash;
mod demo;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use walogs::WalError;
use walogs_host::{HostError, Runtime, RuntimeOptions};

use output::Out;

/// Success.
pub const EXIT_OK: u8 = 0;
/// The log is corrupt, or `verify` found damage.
pub const EXIT_CORRUPT: u8 = 1;
/// Bad command line (clap's own exit code for usage errors).
pub const EXIT_USAGE: u8 = 2;
/// Another writer holds the log.
pub const EXIT_LOCKED: u8 = 3;
/// Any other error.
pub const EXIT_ERROR: u8 = 4;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the log is corrupt (or `verify` found damage, or `crash-test` a violation)
  2  usage error
  3  the log is locked by another writer
  4  any other error";

/// walogs: a crash-safe write-ahead log, run as a sandboxed WebAssembly component.
#[derive(Debug, Parser)]
#[command(name = "walogs", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Load this walogs component (.wasm) instead of the built-in one.
    #[arg(long, global = true, value_name = "FILE")]
    component: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

// Examples shown at the end of each subcommand's --help.
const DEMO_EXAMPLES: &str = "Examples:\n  walogs demo
  walogs demo /tmp/my-demo-wal";
const APPEND_EXAMPLES: &str = "Examples:\n  walogs append ./wal 'set x = 1' 'set y = 2'
  printf 'a\\nb\\nc\\n' | walogs append ./wal --batch
  walogs append ./wal --max-segment-size 1048576 - < entries.txt";
const CAT_EXAMPLES: &str = "Examples:\n  walogs cat ./wal
  walogs cat ./wal --from 1000
  walogs cat ./wal --json | jq -r '.[].data'";
const STAT_EXAMPLES: &str = "Examples:\n  walogs stat ./wal
  walogs stat ./wal --json";
const CHECKPOINT_EXAMPLES: &str = "Examples:\n  walogs checkpoint ./wal 5000";
const TRUNCATE_EXAMPLES: &str = "Examples:\n  walogs truncate ./wal 41";
const VERIFY_EXAMPLES: &str = "Examples:\n  walogs verify ./wal && echo intact
  walogs verify ./wal --json";
const BENCH_EXAMPLES: &str = "Examples:\n  walogs bench --quick
  walogs bench --only durable --json
  walogs bench --plot docs/bench.png";
const CRASH_TEST_EXAMPLES: &str = "Examples:\n  walogs crash-test
  walogs crash-test --seed 7 --states 20000
  walogs --component my-build.wasm crash-test --json";

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Show crash recovery: tear a write in the middle, reopen, and keep appending.
    #[command(after_help = DEMO_EXAMPLES)]
    Demo {
        /// The log directory (wiped first).
        #[arg(default_value = "./demo-wal")]
        dir: PathBuf,
    },
    /// Append entries (the arguments, or one per line of stdin when none or `-`).
    #[command(after_help = APPEND_EXAMPLES)]
    Append {
        /// The log directory (created if needed).
        dir: PathBuf,
        /// The entries; `-` or nothing reads stdin, one entry per line.
        data: Vec<String>,
        /// Append all entries with one batch (one write and one sync).
        #[arg(long)]
        batch: bool,
        /// Rotate to a new segment before one would grow past this many bytes.
        #[arg(long, value_name = "BYTES")]
        max_segment_size: Option<u64>,
    },
    /// Print entries.
    #[command(after_help = CAT_EXAMPLES)]
    Cat {
        /// The log directory.
        dir: PathBuf,
        /// Start at this LSN.
        #[arg(long, value_name = "LSN")]
        from: Option<u64>,
    },
    /// Describe the log: segments, LSNs, tail state.
    #[command(after_help = STAT_EXAMPLES)]
    Stat {
        /// The log directory.
        dir: PathBuf,
    },
    /// Delete sealed segments whose entries are all at or below LSN.
    #[command(after_help = CHECKPOINT_EXAMPLES)]
    Checkpoint {
        /// The log directory.
        dir: PathBuf,
        /// The highest LSN the application has applied.
        lsn: u64,
    },
    /// Remove every entry after LSN.
    #[command(after_help = TRUNCATE_EXAMPLES)]
    Truncate {
        /// The log directory.
        dir: PathBuf,
        /// The last LSN to keep.
        lsn: u64,
    },
    /// Read and check every frame; exit code 1 on corruption.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify {
        /// The log directory.
        dir: PathBuf,
    },
    /// Benchmark walogs (native and component) against raw disk loops and its peers.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(bench::BenchArgs),
    /// Explore crash states (process crash, power loss, torn writes, I/O errors, damage,
    /// crashes during recovery) of seeded workloads; exit code 1 on any violation.
    #[command(after_help = CRASH_TEST_EXAMPLES)]
    CrashTest(crash::CrashTestArgs),
}

/// Parses the command line, runs the command and returns its exit code.
pub fn run() -> ExitCode {
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are "errors" that go to stdout.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let out = Out::new(cli.json);
    // The crash explorer stops guests with fuel.
    let fuel = matches!(cli.command, Command::CrashTest(_));
    if let Command::CrashTest(args) = &mut cli.command {
        args.component.clone_from(&cli.component);
    }
    let options = RuntimeOptions {
        fuel,
        ..RuntimeOptions::default()
    };
    let runtime = match &cli.component {
        Some(path) => Runtime::from_file_with_options(path, options),
        None => Runtime::with_options(options),
    };
    let result = runtime.and_then(|rt| dispatch(&rt, cli.command, &out));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            out.error(&e);
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Runs one command.
fn dispatch(rt: &Runtime, command: Command, out: &Out) -> Result<u8, HostError> {
    match command {
        Command::Demo { dir } => demo::run(rt, &dir, out),
        Command::Append {
            dir,
            data,
            batch,
            max_segment_size,
        } => commands::append(rt, &dir, data, batch, max_segment_size, out),
        Command::Cat { dir, from } => commands::cat(rt, &dir, from, out),
        Command::Stat { dir } => commands::stat(rt, &dir, out),
        Command::Checkpoint { dir, lsn } => commands::checkpoint(rt, &dir, lsn, out),
        Command::Truncate { dir, lsn } => commands::truncate(rt, &dir, lsn, out),
        Command::Verify { dir } => commands::verify(rt, &dir, out),
        Command::Bench(args) => bench::run(rt, args, out),
        Command::CrashTest(args) => crash::run(rt, args, out),
    }
}

/// The exit code for an error.
fn exit_code(e: &HostError) -> u8 {
    match e.wal() {
        Some(WalError::Corrupt { .. }) => EXIT_CORRUPT,
        Some(WalError::Locked { .. }) => EXIT_LOCKED,
        _ => EXIT_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn usage_exit_code_is_clap_default() {
        let err = Cli::try_parse_from(["walogs", "frobnicate"]).unwrap_err();
        assert_eq!(err.exit_code(), i32::from(EXIT_USAGE));
    }
}
