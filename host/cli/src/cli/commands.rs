//! The log commands: append, cat, stat, checkpoint, truncate, verify.

use std::io::{self, BufRead, Write};
use std::path::Path;

use serde::Serialize;
use walogs::{Lsn, WalConfig};
use walogs_host::{ComponentWal, HostError, Runtime};

use super::output::{EntryJson, Out, SegmentJson, TailJson, lsn_text, preview, tail_text};
use super::{EXIT_CORRUPT, EXIT_OK};

/// Opens `dir` read-only (readers take no lock and change nothing).
fn open_reader(rt: &Runtime, dir: &Path) -> Result<ComponentWal, HostError> {
    let config = WalConfig {
        read_only: true,
        ..WalConfig::default()
    };
    rt.open_with_config(dir, config)
}

/// The entries to append: the arguments, or stdin's lines for none or `-`.
fn entries(data: Vec<String>) -> Result<Vec<Vec<u8>>, HostError> {
    if !data.is_empty() && data != ["-"] {
        return Ok(data.into_iter().map(String::into_bytes).collect());
    }
    let mut out = Vec::new();
    for line in io::stdin().lock().split(b'\n') {
        let mut line = line.map_err(|e| HostError::io("read standard input", e))?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        out.push(line);
    }
    Ok(out)
}

/// What `append` did.
#[derive(Debug, Serialize)]
struct Appended {
    count: u64,
    first: Option<u64>,
    last: Option<u64>,
}

/// `walogs append`.
pub fn append(
    rt: &Runtime,
    dir: &Path,
    data: Vec<String>,
    batch: bool,
    max_segment_size: Option<u64>,
    out: &Out,
) -> Result<u8, HostError> {
    let entries = entries(data)?;
    let mut config = WalConfig::default();
    if max_segment_size.is_some() {
        config.max_segment_size = max_segment_size;
    }
    let mut wal = rt.open_with_config(dir, config)?;
    let lsns: Vec<Lsn> = if batch {
        wal.append_batch(&entries)?.iter().collect()
    } else {
        let mut lsns = Vec::with_capacity(entries.len());
        for entry in &entries {
            lsns.push(wal.append(entry)?);
        }
        lsns
    };
    let result = Appended {
        count: lsns.len() as u64,
        first: lsns.first().map(|l| l.0),
        last: lsns.last().map(|l| l.0),
    };
    out.print(&result, || match (lsns.first(), lsns.last()) {
        (Some(a), Some(b)) if a == b => println!("appended LSN {}", a.0),
        (Some(a), Some(b)) => println!("appended {} entries: LSN {}..={}", lsns.len(), a.0, b.0),
        _ => println!("nothing to append"),
    });
    Ok(EXIT_OK)
}

/// `walogs cat`: entries stream out; in JSON mode as one array.
pub fn cat(rt: &Runtime, dir: &Path, from: Option<u64>, out: &Out) -> Result<u8, HostError> {
    let mut wal = open_reader(rt, dir)?;
    let iter = match from {
        Some(lsn) => wal.iter_from(Lsn(lsn))?,
        None => wal.iter()?,
    };
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    let io_err = |e: io::Error| HostError::io("write standard output", e);
    if out.is_json() {
        w.write_all(b"[").map_err(io_err)?;
    }
    for (i, entry) in iter.enumerate() {
        let (lsn, data) = entry?;
        if out.is_json() {
            let sep = if i == 0 { "" } else { "," };
            let json = serde_json::to_string(&EntryJson::new(lsn, &data)).expect("serializable");
            write!(w, "{sep}\n{json}").map_err(io_err)?;
        } else {
            writeln!(w, "{}\t{}", lsn.0, preview(&data)).map_err(io_err)?;
        }
    }
    if out.is_json() {
        w.write_all(b"\n]\n").map_err(io_err)?;
    }
    w.flush().map_err(io_err)?;
    Ok(EXIT_OK)
}

/// What `stat` reports.
#[derive(Debug, Serialize)]
struct Stat {
    dir: String,
    segments: Vec<SegmentJson>,
    first_lsn: Option<u64>,
    last_lsn: Option<u64>,
    next_lsn: u64,
    tail_state: TailJson,
}

/// `walogs stat`.
pub fn stat(rt: &Runtime, dir: &Path, out: &Out) -> Result<u8, HostError> {
    let mut wal = open_reader(rt, dir)?;
    let segments = wal.segments()?;
    let (first, last, next) = (wal.first_lsn()?, wal.last_lsn()?, wal.next_lsn()?);
    let tail = wal.tail_state()?;
    let result = Stat {
        dir: dir.display().to_string(),
        segments: segments.iter().map(SegmentJson::from).collect(),
        first_lsn: first.map(|l| l.0),
        last_lsn: last.map(|l| l.0),
        next_lsn: next.0,
        tail_state: tail.into(),
    };
    out.print(&result, || {
        println!("log {}", dir.display());
        println!("  {:>8}  {:>12}  {:>12}", "segment", "first LSN", "bytes");
        for s in &segments {
            let first = lsn_text(s.first_lsn);
            println!("  {:>8}  {:>12}  {:>12}", s.seq, first, s.size);
        }
        println!("first LSN: {}", lsn_text(first));
        println!("last LSN:  {}", lsn_text(last));
        println!("next LSN:  {}", next.0);
        println!("tail:      {}", tail_text(tail));
    });
    Ok(EXIT_OK)
}

/// What `checkpoint` did.
#[derive(Debug, Serialize)]
struct Checkpointed {
    deleted_segments: usize,
    first_lsn: Option<u64>,
}

/// `walogs checkpoint`.
pub fn checkpoint(rt: &Runtime, dir: &Path, lsn: u64, out: &Out) -> Result<u8, HostError> {
    let mut wal = rt.open(dir)?;
    let deleted = wal.checkpoint(Lsn(lsn))?;
    let first = wal.first_lsn()?;
    let result = Checkpointed {
        deleted_segments: deleted,
        first_lsn: first.map(|l| l.0),
    };
    out.print(&result, || {
        println!(
            "deleted {deleted} segment(s); the log now starts at LSN {}",
            lsn_text(first)
        );
    });
    Ok(EXIT_OK)
}

/// What `truncate` did.
#[derive(Debug, Serialize)]
struct Truncated {
    last_lsn: Option<u64>,
    next_lsn: u64,
}

/// `walogs truncate`.
pub fn truncate(rt: &Runtime, dir: &Path, lsn: u64, out: &Out) -> Result<u8, HostError> {
    let mut wal = rt.open(dir)?;
    wal.truncate_after(Lsn(lsn))?;
    let result = Truncated {
        last_lsn: wal.last_lsn()?.map(|l| l.0),
        next_lsn: wal.next_lsn()?.0,
    };
    out.print(&result, || {
        println!(
            "removed entries after LSN {lsn}; the next append gets LSN {}",
            result.next_lsn
        );
    });
    Ok(EXIT_OK)
}

/// What `verify` found.
#[derive(Debug, Serialize)]
struct Verified {
    ok: bool,
    segments: u32,
    entries: u64,
    bytes: u64,
    first_lsn: Option<u64>,
    last_lsn: Option<u64>,
}

/// `walogs verify`: exit code 1 on corruption.
pub fn verify(rt: &Runtime, dir: &Path, out: &Out) -> Result<u8, HostError> {
    // Verification reads every frame of a possibly large log: show that it is working
    // (only on a terminal; never in JSON output).
    let spinner = if out.is_json() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    spinner.set_message(format!("verifying {}", dir.display()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let verified = open_reader(rt, dir).and_then(|mut wal| wal.verify());
    spinner.finish_and_clear();
    let report = match verified {
        Ok(report) => report,
        Err(HostError::Wal(e @ walogs::WalError::Corrupt { .. })) => {
            out.error(&HostError::Wal(e));
            return Ok(EXIT_CORRUPT);
        }
        Err(e) => return Err(e),
    };
    let result = Verified {
        ok: true,
        segments: report.segments,
        entries: report.entries,
        bytes: report.bytes,
        first_lsn: report.first_lsn.map(|l| l.0),
        last_lsn: report.last_lsn.map(|l| l.0),
    };
    out.print(&result, || {
        println!(
            "ok: {} entries (LSN {}..={}) in {} segment(s), {} bytes of frames",
            report.entries,
            lsn_text(report.first_lsn),
            lsn_text(report.last_lsn),
            report.segments,
            report.bytes
        );
    });
    Ok(EXIT_OK)
}
