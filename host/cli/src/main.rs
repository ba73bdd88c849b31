//! The `walogs` command-line tool: a thin wrapper around [`cli::run`].

mod bench;
mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
