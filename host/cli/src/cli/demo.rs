//! `walogs demo`: a torn write, recovery, and LSNs that carry on.

use std::path::Path;

use serde::Serialize;
use walogs_host::interpose::{CrashPoint, FaultPlan, InjectedCrash};
use walogs_host::{HostError, Runtime};

use super::output::{EntryJson, Out, escape_text, stdout_line};
use super::tail::{Before, Tail};
use super::{EXIT_ERROR, EXIT_OK};

/// The file that marks a directory as a demo's own: a later demo may replace what it holds.
pub const DEMO_MARKER: &str = "walogs-demo";

/// The size of the entry whose write is torn.
const BIG: usize = 64 * 1024;

/// What the demo did, for `--json`.
#[derive(Debug, Serialize)]
struct Demo {
    dir: String,
    appended: Vec<u64>,
    crash: Option<CrashJson>,
    tail_state: Tail,
    recovered: Vec<EntryJson>,
    appended_after_recovery: u64,
}

/// The injected crash.
#[derive(Debug, Serialize)]
struct CrashJson {
    write: u64,
    written: usize,
    len: usize,
}

/// Runs the demo in `dir`: a new or empty directory, or one an earlier demo made.
pub fn run(rt: &Runtime, dir: &Path, out: &Out) -> Result<u8, HostError> {
    let say = |text: String| {
        if out.is_json() {
            Ok(())
        } else {
            stdout_line(&text)
        }
    };
    prepare(dir)?;
    say(format!("walogs demo in {}", dir.display()))?;

    // 1. A few entries through the component.
    let mut wal = rt.open(dir)?;
    let mut appended = Vec::new();
    for text in ["first entry", "second entry", "third entry"] {
        let lsn = wal.append(text.as_bytes())?;
        say(format!("  appended LSN {}: {text}", lsn.0))?;
        appended.push(lsn.0);
    }

    // 2. A large entry, with the guest stopped halfway through writing it.
    let big: Vec<u8> = (0..BIG).map(|i| b'a' + (i % 26) as u8).collect();
    let stats = wal.fs_stats();
    let stop_at = stats.bytes_written + (BIG / 2) as u64;
    wal.set_fault_plan(FaultPlan {
        crash: Some(CrashPoint::AfterBytes(stop_at)),
        ..FaultPlan::default()
    });
    say(format!(
        "  appending a {} KiB entry; the host stops the guest after {} KiB of it reach the file…",
        BIG / 1024,
        BIG / 2 / 1024
    ))?;
    let crash = match wal.append(&big) {
        Ok(lsn) => {
            say(format!(
                "  the append finished as LSN {} (the crash point was not reached)",
                lsn.0
            ))?;
            None
        }
        Err(e) => match e.injected_crash().cloned() {
            Some(c) => {
                say(format!("  crash! {}", describe(&c)))?;
                Some(c)
            }
            None => return Err(e),
        },
    };
    // Drop the dead instance; this also releases the directory lock.
    drop(wal);

    // 3. Reopen in a fresh store: recovery cuts the torn tail off.
    let before = Before::measure(dir);
    let mut wal = rt.open(dir)?;
    let state = wal.tail_state()?;
    let tail = Tail::new(state, dir, before, false);
    say(format!("reopened in a fresh store; tail: {}", tail.text()))?;
    let mut recovered = Vec::new();
    for entry in wal.iter()? {
        let (lsn, data) = entry?;
        say(format!("  recovered LSN {}: {}", lsn.0, escape_text(&data)))?;
        recovered.push(EntryJson::new(lsn, &data, false));
    }

    // 4. LSNs carry on.
    let lsn = wal.append(b"after the crash")?;
    say(format!("  appended LSN {}: after the crash", lsn.0))?;

    let ok = crash.is_none() || tail.is_torn();
    let result = Demo {
        dir: dir.display().to_string(),
        appended,
        crash: crash.map(|c| CrashJson {
            write: c.write,
            written: c.written,
            len: c.len,
        }),
        tail_state: tail,
        recovered,
        appended_after_recovery: lsn.0,
    };
    out.print(&result, String::new)?;
    if ok {
        Ok(EXIT_OK)
    } else {
        eprintln!("walogs: error: the torn write was not reported as a truncated tail");
        Ok(EXIT_ERROR)
    }
}

/// The crash in words.
fn describe(c: &InjectedCrash) -> String {
    format!(
        "the guest was stopped in file write #{} after {} of its {} bytes",
        c.write, c.written, c.len
    )
}

/// Makes `dir` ready for the demo. A directory that is not new or empty must be an earlier
/// demo's, holding only what that demo wrote; those files are removed, nothing else is.
fn prepare(dir: &Path) -> Result<(), HostError> {
    let io_err = |what: &str, e| HostError::io(format!("{what} {}", dir.display()), e);
    let refuse = super::logdir::refused;
    if dir.exists() {
        if !dir.is_dir() {
            return Err(refuse("not a directory".into()));
        }
        let names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| io_err("read directory", e))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()
            .map_err(|e| io_err("read directory", e))?;
        let ours = |n: &String| {
            n == DEMO_MARKER
                || n == walogs::format::LOCK_FILENAME
                || super::logdir::ENGINE_FILES.contains(&n.as_str())
                || walogs::format::parse_segment_name(n).is_some()
        };
        if !names.is_empty() {
            if !names.iter().any(|n| n == DEMO_MARKER) {
                return Err(refuse(
                    "the directory is not empty and no earlier demo made it; the demo runs only \
                     in a new or empty directory (or its own from an earlier run)"
                        .into(),
                ));
            }
            if let Some(other) = names.iter().find(|n| !ours(n)) {
                return Err(refuse(format!(
                    "the directory holds {other}, which the demo did not write; the demo leaves it alone"
                )));
            }
            for n in names.iter().filter(|n| *n != DEMO_MARKER) {
                std::fs::remove_file(dir.join(n))
                    .map_err(|e| io_err(&format!("remove {n} from"), e))?;
            }
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| io_err("create directory", e))?;
    std::fs::write(
        dir.join(DEMO_MARKER),
        "This directory was made by `walogs demo`; a later demo replaces its log.\n",
    )
    .map_err(|e| io_err("mark the demo directory", e))
}
