//! `walogs demo`: a torn write, recovery, and LSNs that carry on.

use std::path::Path;

use serde::Serialize;
use walogs_host::interpose::{CrashPoint, FaultPlan, InjectedCrash};
use walogs_host::{HostError, Runtime};

use super::output::{EntryJson, Out, SegmentJson, TailJson, preview, tail_text};
use super::{EXIT_ERROR, EXIT_OK};

/// The size of the entry whose write is torn.
const BIG: usize = 64 * 1024;

/// What the demo did, for `--json`.
#[derive(Debug, Serialize)]
struct Demo {
    dir: String,
    appended: Vec<u64>,
    crash: Option<CrashJson>,
    tail_state: TailJson,
    segments: Vec<SegmentJson>,
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

/// Runs the demo in `dir` (wiped first).
pub fn run(rt: &Runtime, dir: &Path, out: &Out) -> Result<u8, HostError> {
    let say = |text: String| {
        if !out.is_json() {
            println!("{text}");
        }
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| HostError::io(format!("remove {}", dir.display()), e))?;
    }
    say(format!("walogs demo in {}", dir.display()));

    // 1. A few entries through the component.
    let mut wal = rt.open(dir)?;
    let mut appended = Vec::new();
    for text in ["first entry", "second entry", "third entry"] {
        let lsn = wal.append(text.as_bytes())?;
        say(format!("  appended LSN {}: {text}", lsn.0));
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
    ));
    let crash = match wal.append(&big) {
        Ok(lsn) => {
            say(format!(
                "  the append finished as LSN {} (the crash point was not reached)",
                lsn.0
            ));
            None
        }
        Err(e) => match e.injected_crash().cloned() {
            Some(c) => {
                say(format!("  crash! {}", describe(&c)));
                Some(c)
            }
            None => return Err(e),
        },
    };
    // Drop the dead instance; this also releases the directory lock.
    drop(wal);

    // 3. Reopen in a fresh store: recovery cuts the torn tail off.
    let mut wal = rt.open(dir)?;
    let tail = wal.tail_state()?;
    say(format!(
        "reopened in a fresh store; tail: {}",
        tail_text(tail)
    ));
    let segments = wal.segments()?;
    let mut recovered = Vec::new();
    for entry in wal.iter()? {
        let (lsn, data) = entry?;
        say(format!("  recovered LSN {}: {}", lsn.0, preview(&data)));
        recovered.push(EntryJson::new(lsn, &data));
    }

    // 4. LSNs carry on.
    let lsn = wal.append(b"after the crash")?;
    say(format!("  appended LSN {}: after the crash", lsn.0));

    let ok = crash.is_none() || (matches!(tail, walogs::TailState::TruncatedAt(_)));
    let result = Demo {
        dir: dir.display().to_string(),
        appended,
        crash: crash.map(|c| CrashJson {
            write: c.write,
            written: c.written,
            len: c.len,
        }),
        tail_state: tail.into(),
        segments: segments.iter().map(SegmentJson::from).collect(),
        recovered,
        appended_after_recovery: lsn.0,
    };
    out.print(&result, || {});
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
