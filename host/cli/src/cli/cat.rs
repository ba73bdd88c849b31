//! `walogs cat`: entries stream out (JSON lines with `--json`); on a damaged log, the
//! intact entries come first and the damage last.

use std::io::{self, IsTerminal, Write};

use base64::Engine as _;
use walogs::{Lsn, WalError};
use walogs_host::HostError;
use walogs_host::Runtime;

use super::args::{CatArgs, Format};
use super::output::{EntryJson, Failure, Out, escape_text, to_json};
use super::{EXIT_CORRUPT, EXIT_OK, exit_code, reader};

/// `walogs cat`.
pub fn run(rt: &Runtime, args: &CatArgs, out: &Out) -> Result<u8, HostError> {
    let mut r = reader::open(rt, &args.dir)?;
    let (first, last) = (r.wal.first_lsn()?, r.wal.last_lsn()?);
    let total = match (first, last) {
        (Some(a), Some(b)) => (b.0 + 1).saturating_sub(args.from.unwrap_or(a.0).max(a.0)),
        _ => 0,
    };
    let bar = if io::stderr().is_terminal() && !io::stdout().is_terminal() {
        indicatif::ProgressBar::new(args.limit.map_or(total, |l| l.min(total)))
    } else {
        indicatif::ProgressBar::hidden()
    };
    let iter = match args.from {
        // Before the first entry is where iteration starts anyway.
        Some(lsn) if first.is_some_and(|f| lsn > f.0) => match r.wal.iter_from(Lsn(lsn)) {
            Ok(iter) => iter,
            // Past the intact prefix of a damaged log: the damage is the answer.
            Err(HostError::Wal(WalError::LsnOutOfRange { .. })) if r.damage.is_some() => {
                return Err(HostError::Wal(r.damage.take().expect("checked")));
            }
            Err(e) => return Err(e),
        },
        _ => r.wal.iter()?,
    };
    let mut w = io::BufWriter::new(io::stdout().lock());
    let mut printed = 0u64;
    let mut stopped_early = false;
    let mut damage: Option<HostError> = None;
    let mut next = args.from.map(Lsn);
    for entry in iter {
        if args.limit.is_some_and(|l| printed >= l) {
            stopped_early = true;
            break;
        }
        let (lsn, data) = match entry {
            Ok(entry) => entry,
            Err(e) => {
                damage = Some(e);
                break;
            }
        };
        if args.to.is_some_and(|to| lsn.0 > to) {
            stopped_early = true;
            break;
        }
        write_entry(&mut w, lsn, &data, args, out)
            .map_err(|e| HostError::io("write standard output", e))?;
        next = Some(Lsn(lsn.0 + 1));
        printed += 1;
        bar.inc(1);
    }
    w.flush()
        .map_err(|e| HostError::io("write standard output", e))?;
    drop(w);
    bar.finish_and_clear();
    if args.follow && damage.is_none() && r.damage.is_none() && !stopped_early {
        drop(r);
        return follow(rt, args, out, next, printed);
    }
    let damage = damage.or_else(|| {
        (!stopped_early)
            .then(|| r.damage.take().map(HostError::Wal))
            .flatten()
    });
    let Some(error) = damage else {
        return Ok(EXIT_OK);
    };
    let code = if matches!(error.wal(), Some(WalError::Corrupt { .. })) {
        out.note(&format!(
            "the {printed} entries printed are intact; the log is damaged after them"
        ));
        EXIT_CORRUPT
    } else {
        exit_code(&error)
    };
    let failure = Failure {
        doing: format!("cat {}", args.dir.display()),
        error,
    };
    out.error(&failure, Some(serde_json::json!({ "printed": printed })));
    Ok(code)
}

/// `cat --follow`: prints entries as other processes append them, by reopening the log
/// read-only every [`FOLLOW_POLL`] (a reader takes no lock, so writers carry on). Ends at
/// `--to` / `--limit`, on damage (exit code 1), or when the reader of the output goes away.
fn follow(
    rt: &Runtime,
    args: &CatArgs,
    out: &Out,
    mut next: Option<Lsn>,
    mut printed: u64,
) -> Result<u8, HostError> {
    loop {
        std::thread::sleep(FOLLOW_POLL);
        let mut r = reader::open(rt, &args.dir)?;
        if let Some(damage) = r.damage.take() {
            return Err(HostError::Wal(damage));
        }
        let Some(last) = r.wal.last_lsn()? else {
            continue;
        };
        let iter = match next {
            Some(lsn) if lsn > last => continue,
            Some(lsn) => r.wal.iter_from(lsn)?,
            None => r.wal.iter()?,
        };
        let mut w = io::BufWriter::new(io::stdout().lock());
        for entry in iter {
            let (lsn, data) = entry?;
            if args.to.is_some_and(|to| lsn.0 > to) || args.limit.is_some_and(|l| printed >= l) {
                w.flush()
                    .map_err(|e| HostError::io("write standard output", e))?;
                return Ok(EXIT_OK);
            }
            write_entry(&mut w, lsn, &data, args, out)
                .map_err(|e| HostError::io("write standard output", e))?;
            next = Some(Lsn(lsn.0 + 1));
            printed += 1;
        }
        w.flush()
            .map_err(|e| HostError::io("write standard output", e))?;
    }
}

/// How often `cat --follow` looks for new entries.
const FOLLOW_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Prints one entry in the chosen format.
fn write_entry(
    w: &mut impl Write,
    lsn: Lsn,
    data: &[u8],
    args: &CatArgs,
    out: &Out,
) -> io::Result<()> {
    if out.is_json() {
        let entry = EntryJson::new(lsn, data, args.format == Format::Base64);
        return writeln!(w, "{}", to_json(&entry));
    }
    match args.format {
        Format::Text => write!(w, "{}\t{}", lsn.0, escape_text(data))?,
        Format::Hex => {
            write!(w, "{}\t", lsn.0)?;
            for b in data {
                write!(w, "{b:02x}")?;
            }
        }
        Format::Base64 => write!(
            w,
            "{}\t{}",
            lsn.0,
            base64::engine::general_purpose::STANDARD.encode(data)
        )?,
        Format::Raw => w.write_all(data)?,
    }
    w.write_all(if args.null { b"\0" } else { b"\n" })
}
