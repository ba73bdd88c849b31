//! Command-line parsing, dispatch and exit codes.

mod append;
mod args;
mod bench;
mod cat;
mod crash;
mod demo;
mod input;
mod inspect;
mod logdir;
mod output;
mod reader;
mod repair;
mod settings;
mod tail;
mod write;

use std::process::ExitCode;

use clap::Parser;
use walogs::WalError;
use walogs_host::{HostError, Runtime, RuntimeOptions};

use args::{Cli, Command};
use output::{Failure, Out};

/// Success.
pub const EXIT_OK: u8 = 0;
/// The log is damaged, or `verify` found damage.
pub const EXIT_CORRUPT: u8 = 1;
/// Bad command line (clap's own exit code for usage errors).
pub const EXIT_USAGE: u8 = 2;
/// Another writer holds the log.
pub const EXIT_LOCKED: u8 = 3;
/// Any other error.
pub const EXIT_ERROR: u8 = 4;

/// Parses the command line, runs the command and returns its exit code.
pub fn run() -> ExitCode {
    // Decided before parsing, so that usage errors come out as JSON too.
    let json = std::env::args_os().any(|a| a == "--json");
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(usage(&e, json)),
    };
    let out = Out::new(cli.json);
    // The crash explorer stops guests with fuel.
    let fuel = matches!(cli.command, Command::CrashTest(_));
    if let Command::CrashTest(args) = &mut cli.command {
        args.component.clone_from(&cli.component);
    }
    let mut options = RuntimeOptions {
        fuel,
        ..RuntimeOptions::default()
    };
    if let Some(max) = cli.max_memory {
        options.max_memory = usize::try_from(max).unwrap_or(usize::MAX);
    }
    let runtime = match &cli.component {
        Some(path) => Runtime::from_file_with_options(path, options).map_err(|error| Failure {
            doing: format!("load the component {}", path.display()),
            error,
        }),
        None => Runtime::with_options(options).map_err(|error| Failure {
            doing: "load the built-in component".to_owned(),
            error,
        }),
    };
    let doing = cli.command.doing();
    let result = runtime
        .and_then(|rt| dispatch(&rt, cli.command, &out).map_err(|error| Failure { doing, error }));
    match result {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`walogs cat DIR | head`): nothing more to say to it.
        Err(f) if output::is_closed_pipe(&f.error) => ExitCode::from(EXIT_OK),
        Err(f) => {
            out.error(&f, None);
            ExitCode::from(exit_code(&f.error))
        }
    }
}

/// Prints clap's error (or help, or version) and returns its exit code; in JSON mode as a
/// JSON document.
fn usage(e: &clap::Error, json: bool) -> u8 {
    let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
    if !json {
        let _ = e.print();
        return code;
    }
    let text = e.render().to_string();
    let doc = if e.use_stderr() {
        eprint!("{text}");
        serde_json::json!({"ok": false, "kind": "usage", "message": text.trim_end()})
    } else {
        serde_json::json!({"ok": true, "help": text})
    };
    let _ = output::stdout_line(&doc.to_string());
    code
}

/// Runs one command.
fn dispatch(rt: &Runtime, command: Command, out: &Out) -> Result<u8, HostError> {
    match command {
        Command::Demo { dir } => demo::run(rt, &dir, out),
        Command::Append(args) => append::run(rt, args, out),
        Command::Cat(args) => cat::run(rt, &args, out),
        Command::Stat { dir } => inspect::stat(rt, &dir, out),
        Command::Verify { dir } => inspect::verify(rt, &dir, out),
        Command::Checkpoint { dir, lsn, write } => write::checkpoint(rt, &dir, lsn, &write, out),
        Command::Truncate { dir, lsn, write } => write::truncate(rt, &dir, lsn, &write, out),
        Command::Repair { dir, dry_run } => repair::run(rt, &dir, dry_run, out),
        Command::Bench(args) => bench::run(rt, args, out),
        Command::CrashTest(args) => crash::run(rt, args, out),
    }
}

/// The exit code for an error.
pub fn exit_code(e: &HostError) -> u8 {
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
