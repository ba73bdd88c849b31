//! `walogs crash-test`: the crash explorer on the command line.

use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use walogs_crash::{self as crash, Case, Class, ExploreOptions, Verdict};
use walogs_host::{HostError, Runtime};

use super::output::Out;
use super::{EXIT_CORRUPT, EXIT_OK};

/// Arguments of `walogs crash-test`.
#[derive(Debug, clap::Args)]
pub struct CrashTestArgs {
    /// The seed all workloads and samples derive from (the same seed gives the same sweep).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many distinct crash states to check.
    #[arg(long, default_value_t = 2_400, value_name = "N")]
    states: u64,
    /// Only these fault classes (comma-separated): process-crash, fuel, power-loss,
    /// torn-write, out-of-order, io-error, damage, recovery-crash.
    #[arg(long, value_delimiter = ',', value_parser = parse_class, value_name = "CLASSES")]
    classes: Vec<Class>,
    /// Replay exactly one case, as printed with a violation (e.g. `123:torn@7:f2:op0:cut512:zero`).
    #[arg(long, value_name = "CASE", value_parser = parse_case)]
    replay: Option<Case>,
    /// With --replay: also write the crash state into this (new) directory.
    #[arg(long, requires = "replay", value_name = "DIR")]
    keep: Option<PathBuf>,
    /// With --replay: also print the workload's trace up to the crash.
    #[arg(long, requires = "replay")]
    trace: bool,
    /// The component given with --component (filled in by the dispatcher).
    #[arg(skip)]
    pub component: Option<PathBuf>,
}

fn parse_case(text: &str) -> Result<Case, String> {
    text.parse().map_err(|e: crash::BadCase| e.to_string())
}

fn parse_class(text: &str) -> Result<Class, String> {
    Class::ALL
        .into_iter()
        .find(|c| c.name() == text)
        .ok_or_else(|| format!("unknown fault class {text:?}"))
}

/// `walogs crash-test`.
pub fn run(rt: &Runtime, args: CrashTestArgs, out: &Out) -> Result<u8, HostError> {
    let mut command = "walogs".to_string();
    if let Some(path) = &args.component {
        command += &format!(" --component '{}'", path.display());
    }
    command += " crash-test";
    if let Some(case) = &args.replay {
        return replay(rt, case, args.keep.as_deref(), args.trace, out);
    }
    let options = ExploreOptions {
        seed: args.seed,
        states: args.states,
        classes: if args.classes.is_empty() {
            Class::ALL.to_vec()
        } else {
            args.classes
        },
        stop_after: None,
        replay_command: command,
    };
    let bar = if out.is_json() || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(options.states)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} states {msg} [{elapsed}<{eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = crash::explore(rt, &options, &mut |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
        bar.set_message(format!("{} ({} violations)", p.class, p.violations));
    })?;
    bar.finish_and_clear();
    out.print(&report, || report.text())?;
    Ok(if report.passed() {
        EXIT_OK
    } else {
        EXIT_CORRUPT
    })
}

/// What `--replay --json` prints.
#[derive(Debug, Serialize)]
struct ReplayJson {
    case: String,
    workload: String,
    fault: String,
    applies: bool,
    crash_point: Option<String>,
    expected: Option<String>,
    observed: Option<String>,
    violation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    trace: Vec<String>,
}

fn replay(
    rt: &Runtime,
    case: &Case,
    keep: Option<&std::path::Path>,
    trace: bool,
    out: &Out,
) -> Result<u8, HostError> {
    let replayed = crash::replay(rt, case, keep)?;
    let (observed, violation) = match &replayed.verdict {
        Some(Verdict::Pass(seen)) => (Some(seen.describe()), None),
        Some(Verdict::Violation(seen, why)) => (Some(seen.describe()), Some(why.clone())),
        None => (None, None),
    };
    let json = ReplayJson {
        case: case.to_string(),
        workload: replayed.workload,
        fault: replayed.fault,
        applies: replayed.state.is_some(),
        crash_point: replayed.state.as_ref().map(|s| s.point.clone()),
        expected: replayed.state.as_ref().map(|s| s.expect.describe()),
        observed,
        violation,
        trace: if trace { replayed.trace } else { Vec::new() },
    };
    out.print(&json, || {
        let mut text = String::new();
        for line in &json.trace {
            text += &format!("{line}\n");
        }
        text += &format!("case:     {}\nworkload: {}\nfault:    {}\n", json.case, json.workload, json.fault);
        match (&json.crash_point, &json.expected, &json.observed) {
            (Some(point), Some(expected), Some(observed)) => {
                let files = replayed.state.as_ref().map(|s| s.image.summary()).unwrap_or_default();
                text += &format!("point:    {point}\nfiles:    {files}\nexpected: {expected}\nobserved: {observed}\n");
                match &json.violation {
                    Some(why) => text += &format!("VIOLATION: {why}\n"),
                    None => text += "ok: recovery did what the oracle allows\n",
                }
            }
            _ => text += "the case does not apply to its workload\n",
        }
        text
    })?;
    Ok(if json.violation.is_some() {
        EXIT_CORRUPT
    } else {
        EXIT_OK
    })
}
