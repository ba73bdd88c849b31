//! Opening a log for writing (shared by every writing command), `checkpoint` and
//! `truncate`.

use std::path::Path;

use serde::Serialize;
use walogs::{Durability, Lsn, WalConfig};
use walogs_host::{ComponentWal, HostError, Runtime};

use super::EXIT_OK;
use super::args::WriteArgs;
use super::output::{Out, lsn_json, range_text};
use super::settings::Settings;
use super::tail::{Before, Tail};

/// A log opened for writing, with what its open did to the tail.
pub struct Writer {
    /// The log.
    pub wal: ComponentWal,
    /// The tail as the open found (and cut) it.
    pub tail: Tail,
    durability: Durability,
}

impl Writer {
    /// Opens the log in `dir` with the command's `--durability` and `--max-segment-size`
    /// (or the one remembered for this log); a given segment size is remembered.
    pub fn open(rt: &Runtime, dir: &Path, write: &WriteArgs, out: &Out) -> Result<Self, HostError> {
        let settings = if dir.is_dir() {
            Settings::load(dir)?
        } else {
            Settings::default()
        };
        let durability = Durability::from(write.durability);
        let mut config = WalConfig {
            durability,
            ..WalConfig::default()
        };
        if let Some(max) = write.max_segment_size.or(settings.max_segment_size) {
            config.max_segment_size = Some(max);
        }
        let before = Before::measure(dir);
        let mut wal = rt.open_with_config(dir, config)?;
        if let Some(max) = write.max_segment_size
            && settings.max_segment_size != Some(max)
        {
            Settings {
                max_segment_size: Some(max),
            }
            .store(dir)?;
        }
        let tail = Tail::new(wal.tail_state()?, dir, before, false);
        if tail.is_torn() {
            out.note(&format!("tail: {}", tail.text()));
        }
        Ok(Self {
            wal,
            tail,
            durability,
        })
    }

    /// Ends the command: with `--durability explicit`, one sync makes everything durable.
    pub fn finish(&mut self) -> Result<(), HostError> {
        if matches!(self.durability, Durability::Explicit) {
            self.wal.sync()?;
        }
        Ok(())
    }
}

/// What `checkpoint` did.
#[derive(Debug, Serialize)]
struct Checkpointed {
    ok: bool,
    deleted_segments: usize,
    first_lsn: Option<u64>,
    last_lsn: Option<u64>,
    tail_state: Tail,
}

/// `walogs checkpoint`.
pub fn checkpoint(
    rt: &Runtime,
    dir: &Path,
    lsn: u64,
    write: &WriteArgs,
    out: &Out,
) -> Result<u8, HostError> {
    super::logdir::require_log(dir)?;
    let mut w = Writer::open(rt, dir, write, out)?;
    let deleted = w.wal.checkpoint(Lsn(lsn))?;
    w.finish()?;
    let (first, last) = (w.wal.first_lsn()?, w.wal.last_lsn()?);
    let result = Checkpointed {
        ok: true,
        deleted_segments: deleted,
        first_lsn: lsn_json(first),
        last_lsn: lsn_json(last),
        tail_state: w.tail.clone(),
    };
    out.print(&result, || {
        format!(
            "deleted {deleted} segment(s); the log now holds {}\n",
            range_text(first, last)
        )
    })?;
    Ok(EXIT_OK)
}

/// What `truncate` did.
#[derive(Debug, Serialize)]
struct Truncated {
    ok: bool,
    first_lsn: Option<u64>,
    last_lsn: Option<u64>,
    next_lsn: u64,
    tail_state: Tail,
}

/// `walogs truncate`.
pub fn truncate(
    rt: &Runtime,
    dir: &Path,
    lsn: u64,
    write: &WriteArgs,
    out: &Out,
) -> Result<u8, HostError> {
    super::logdir::require_log(dir)?;
    let mut w = Writer::open(rt, dir, write, out)?;
    w.wal.truncate_after(Lsn(lsn))?;
    w.finish()?;
    let (first, last) = (w.wal.first_lsn()?, w.wal.last_lsn()?);
    let result = Truncated {
        ok: true,
        first_lsn: lsn_json(first),
        last_lsn: lsn_json(last),
        next_lsn: w.wal.next_lsn()?.0,
        tail_state: w.tail.clone(),
    };
    out.print(&result, || {
        format!(
            "removed entries after LSN {lsn}; the log holds {}; the next append gets LSN {}\n",
            range_text(first, last),
            result.next_lsn
        )
    })?;
    Ok(EXIT_OK)
}
