//! `walogs stat` and `walogs verify`: read-only looks at a log, damaged or not.

use std::io::IsTerminal;
use std::path::Path;

use serde::Serialize;
use walogs::format::segment_name;
use walogs::{Lsn, WalError};
use walogs_host::{ComponentWal, HostError, Runtime};

use super::output::{Failure, Out, describe, lsn_json, range_text};
use super::tail::{Before, Tail};
use super::{EXIT_CORRUPT, EXIT_OK, logdir, reader};

/// One segment file.
#[derive(Debug, Serialize)]
struct SegmentJson {
    seq: u32,
    file: String,
    first_lsn: Option<u64>,
    size: u64,
}

/// What `stat` reports.
#[derive(Debug, Serialize)]
struct Stat {
    ok: bool,
    dir: String,
    segments: Vec<SegmentJson>,
    first_lsn: Option<u64>,
    last_lsn: Option<u64>,
    /// `null` on a damaged log (nothing can be appended until it is repaired).
    next_lsn: Option<u64>,
    tail_state: Tail,
    /// The damage that ends the readable entries, if any.
    damage: Option<String>,
}

/// `walogs stat`: exit code 1 when the log is damaged (the intact part is still shown).
pub fn stat(rt: &Runtime, dir: &Path, out: &Out) -> Result<u8, HostError> {
    let mut r = reader::open(rt, dir)?;
    let known = r.wal.segments()?;
    let segments: Vec<SegmentJson> = logdir::segment_files(dir)
        .into_iter()
        .map(|(seq, size)| SegmentJson {
            seq,
            file: segment_name(seq),
            first_lsn: known
                .iter()
                .find(|s| s.seq == seq)
                .and_then(|s| lsn_json(s.first_lsn)),
            size,
        })
        .collect();
    let (first, last) = (r.wal.first_lsn()?, r.wal.last_lsn()?);
    let damage = r.damage.take().map(HostError::Wal);
    let tail = if damage.is_some() {
        Tail::new(walogs::TailState::Clean, dir, Before::measure(dir), true)
    } else {
        Tail::new(r.wal.tail_state()?, dir, Before::measure(dir), true)
    };
    let next = if damage.is_none() {
        Some(r.wal.next_lsn()?.0)
    } else {
        None
    };
    let result = Stat {
        ok: damage.is_none(),
        dir: dir.display().to_string(),
        segments,
        first_lsn: lsn_json(first),
        last_lsn: lsn_json(last),
        next_lsn: next,
        tail_state: tail,
        damage: damage.as_ref().map(describe),
    };
    out.print(&result, || {
        let mut text = format!("log {}\n", dir.display());
        text += &format!(
            "  {:>14}  {:>12}  {:>12}\n",
            "segment", "first LSN", "bytes"
        );
        for s in &result.segments {
            let first = s
                .first_lsn
                .map_or_else(|| "-".to_owned(), |l| l.to_string());
            text += &format!("  {:>14}  {:>12}  {:>12}\n", s.file, first, s.size);
        }
        text += &format!("entries:   {}\n", range_text(first, last));
        if let Some(next) = next {
            text += &format!("next LSN:  {next}\n");
        }
        text += &format!("tail:      {}\n", result.tail_state.text());
        text
    })?;
    match damage {
        None => Ok(EXIT_OK),
        Some(error) => {
            // In JSON the document above carries the damage.
            if !out.is_json() {
                let failure = Failure {
                    doing: format!("stat {}", dir.display()),
                    error,
                };
                eprintln!("walogs: error: {failure}");
            }
            Ok(EXIT_CORRUPT)
        }
    }
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
    tail_state: Tail,
}

/// `walogs verify`: exit code 1 on damage, naming it and the intact entries before it.
pub fn verify(rt: &Runtime, dir: &Path, out: &Out) -> Result<u8, HostError> {
    let spinner = if out.is_json() || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    spinner.set_message(format!("verifying {}", dir.display()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let opened = reader::open(rt, dir);
    let checked = opened.and_then(|mut r| {
        let damage = match r.damage.take() {
            Some(damage) => damage,
            None => match r.wal.verify() {
                Ok(report) => return Ok(Ok((report, r.wal.tail_state()?))),
                Err(HostError::Wal(e @ WalError::Corrupt { .. })) => e,
                Err(e) => return Err(e),
            },
        };
        Ok(Err((intact(&mut r.wal)?, damage)))
    });
    spinner.finish_and_clear();
    match checked? {
        Ok((report, tail)) => {
            let result = Verified {
                ok: true,
                segments: report.segments,
                entries: report.entries,
                bytes: report.bytes,
                first_lsn: lsn_json(report.first_lsn),
                last_lsn: lsn_json(report.last_lsn),
                tail_state: Tail::new(tail, dir, Before::measure(dir), true),
            };
            out.print(&result, || {
                format!(
                    "ok: {} entries ({}) in {} segment(s), {} bytes of frames; tail: {}\n",
                    report.entries,
                    range_text(report.first_lsn, report.last_lsn),
                    report.segments,
                    report.bytes,
                    result.tail_state.text()
                )
            })?;
            Ok(EXIT_OK)
        }
        Err(((count, first, last), damage)) => {
            out.note(&format!(
                "{count} intact entries ({}) before the damage",
                range_text(first, last)
            ));
            let failure = Failure {
                doing: format!("verify {}", dir.display()),
                error: HostError::Wal(damage),
            };
            let extra = serde_json::json!({
                "intact_entries": count,
                "first_lsn": lsn_json(first),
                "last_lsn": lsn_json(last),
            });
            out.error(&failure, Some(extra));
            Ok(EXIT_CORRUPT)
        }
    }
}

/// The entries readable before the first error: how many, the first and the last LSN.
fn intact(wal: &mut ComponentWal) -> Result<(u64, Option<Lsn>, Option<Lsn>), HostError> {
    let (mut count, mut first, mut last) = (0, None, None);
    for entry in wal.iter()? {
        let Ok((lsn, _)) = entry else { break };
        first.get_or_insert(lsn);
        last = Some(lsn);
        count += 1;
    }
    Ok((count, first, last))
}
