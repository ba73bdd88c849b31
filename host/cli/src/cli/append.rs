//! `walogs append`: entries are appended as they arrive (one by one, or in batches by
//! count, bytes and time); the report says how many, and on failure which entry failed.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use serde::Serialize;
use walogs::format::MAX_ENTRY_SIZE;
use walogs::{Lsn, WalError};
use walogs_host::{HostError, Runtime};

use super::args::AppendArgs;
use super::input::{Next, Record, Source};
use super::output::{Failure, Out, range_text};
use super::tail::Tail;
use super::write::Writer;
use super::{EXIT_OK, exit_code, logdir};

/// The most entry bytes one batch hands the guest, for a guest memory cap of `max_memory`:
/// the guest holds the entries and their encoded frames at once, and a growing buffer may
/// briefly need twice that.
pub fn batch_budget(max_memory: usize) -> usize {
    (max_memory / 8).max(1)
}

/// What was appended so far.
#[derive(Debug, Default, Serialize)]
struct Appended {
    count: u64,
    first_lsn: Option<u64>,
    last_lsn: Option<u64>,
}

impl Appended {
    fn add(&mut self, first: Lsn, last: Lsn, count: u64) {
        self.first_lsn.get_or_insert(first.0);
        self.last_lsn = Some(last.0);
        self.count += count;
    }

    fn range(&self) -> String {
        range_text(self.first_lsn.map(Lsn), self.last_lsn.map(Lsn))
    }
}

/// The success document.
#[derive(Debug, Serialize)]
struct Report<'a> {
    ok: bool,
    #[serde(flatten)]
    appended: &'a Appended,
    tail_state: &'a Tail,
}

/// `walogs append`.
pub fn run(rt: &Runtime, args: AppendArgs, out: &Out) -> Result<u8, HostError> {
    logdir::allow_append(&args.dir, args.create)?;
    let delimiter = if args.null { b'\0' } else { b'\n' };
    let mut source = if !args.file.is_empty() {
        Source::files(&args.file)?
    } else if args.data.is_empty() || args.data == ["-"] {
        Source::stdin(delimiter)
    } else {
        Source::arguments(args.data.clone())
    };
    let mut w = Writer::open(rt, &args.dir, &args.write, out)?;
    let bar = if out.is_json() || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    let mut done = Appended::default();
    let pump = Pump {
        batch: args.batch.then_some((
            args.batch_entries.max(1),
            Duration::from_millis(args.batch_ms),
        )),
        budget: batch_budget(rt.options().max_memory),
    };
    let result = pump
        .run(&mut w, &mut source, &mut done, &bar)
        .and_then(|()| w.finish().map_err(|e| ("the final sync".to_owned(), e)));
    bar.finish_and_clear();
    match result {
        Ok(()) => {
            let report = Report {
                ok: true,
                appended: &done,
                tail_state: &w.tail,
            };
            out.print(&report, || match done.count {
                0 => "nothing to append\n".to_owned(),
                1 => format!("appended 1 entry: {}\n", done.range()),
                n => format!("appended {n} entries: {}\n", done.range()),
            })?;
            Ok(EXIT_OK)
        }
        Err((origin, error)) => {
            // What was appended before the failure stays appended (and durable).
            let _ = w.finish();
            out.note(&match done.count {
                0 => format!("nothing was appended before {origin} failed"),
                n => format!(
                    "appended {n} entries ({}) before {origin} failed",
                    done.range()
                ),
            });
            let code = exit_code(&error);
            let failure = Failure {
                doing: format!("append to {} ({origin})", args.dir.display()),
                error,
            };
            let extra = serde_json::json!({
                "count": done.count,
                "first_lsn": done.first_lsn,
                "last_lsn": done.last_lsn,
                "failed_at": origin,
            });
            out.error(&failure, Some(extra));
            Ok(code)
        }
    }
}

/// How entries are grouped into appends.
struct Pump {
    /// With `--batch`: entries per batch and how long a batch may wait for more.
    batch: Option<(usize, Duration)>,
    /// Entry bytes per batch at most.
    budget: usize,
}

/// An error and the entry (or batch) it happened at.
type AtError = (String, HostError);

impl Pump {
    fn run(
        &self,
        w: &mut Writer,
        source: &mut Source,
        done: &mut Appended,
        bar: &indicatif::ProgressBar,
    ) -> Result<(), AtError> {
        let mut pending: Vec<Record> = Vec::new();
        let mut pending_bytes = 0usize;
        let mut deadline: Option<Instant> = None;
        loop {
            let wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let next = source
                .next(wait)
                .map_err(|e| ("standard input".to_owned(), e))?;
            let record = match next {
                Next::Record(record) => record,
                Next::Quiet | Next::End => {
                    self.flush(w, &mut pending, done)?;
                    (pending_bytes, deadline) = (0, None);
                    bar.set_message(format!("appended {} entries", done.count));
                    if matches!(next, Next::End) {
                        return Ok(());
                    }
                    continue;
                }
            };
            if record.data.len() > MAX_ENTRY_SIZE {
                self.flush(w, &mut pending, done)?;
                let error = WalError::EntryTooLarge {
                    size: record.data.len(),
                    max: MAX_ENTRY_SIZE,
                };
                return Err((record.origin, error.into()));
            }
            let Some((entries, wait)) = self.batch else {
                let lsn = w.wal.append(&record.data).map_err(|e| (record.origin, e))?;
                done.add(lsn, lsn, 1);
                bar.set_message(format!("appended {} entries", done.count));
                bar.tick();
                continue;
            };
            if !pending.is_empty() && pending_bytes + record.data.len() > self.budget {
                self.flush(w, &mut pending, done)?;
                (pending_bytes, deadline) = (0, None);
            }
            pending_bytes += record.data.len();
            pending.push(record);
            deadline.get_or_insert_with(|| Instant::now() + wait);
            if pending.len() >= entries {
                self.flush(w, &mut pending, done)?;
                (pending_bytes, deadline) = (0, None);
                bar.set_message(format!("appended {} entries", done.count));
                bar.tick();
            }
        }
    }

    /// Appends the pending entries as one batch.
    fn flush(
        &self,
        w: &mut Writer,
        pending: &mut Vec<Record>,
        done: &mut Appended,
    ) -> Result<(), AtError> {
        let (Some(first), Some(last)) = (pending.first(), pending.last()) else {
            return Ok(());
        };
        let data: Vec<&[u8]> = pending.iter().map(|r| r.data.as_slice()).collect();
        match w.wal.append_batch(&data) {
            Ok(range) if !range.is_empty() => {
                done.add(range.start, Lsn(range.end.0 - 1), range.len());
                pending.clear();
                Ok(())
            }
            Ok(_) => {
                pending.clear();
                Ok(())
            }
            Err(e) => {
                let origin = if pending.len() == 1 {
                    first.origin.clone()
                } else {
                    format!("the batch of {} to {}", first.origin, last.origin)
                };
                Err((origin, e))
            }
        }
    }
}
