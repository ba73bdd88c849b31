//! `walogs repair`: cut a damaged log at its first damage, every removed byte kept in a
//! quarantine file in the log directory (or, with `--dry-run`, only say what would go).
//!
//! It runs in the component ([`Runtime::repair`], the WIT `maintenance` interface) and
//! takes the log's lock like any writer; a dry run takes none.

use std::io::IsTerminal;
use std::path::Path;

use serde::Serialize;
use walogs::format::segment_name;
use walogs_host::{HostError, Runtime};

use super::output::{Out, lsn_json};
use super::{EXIT_CORRUPT, EXIT_OK, logdir};

/// The damage, for JSON.
#[derive(Debug, Serialize)]
struct DamageJson {
    segment: String,
    offset: u64,
    reason: String,
}

/// What `repair` found and did.
#[derive(Debug, Serialize)]
struct Repaired {
    ok: bool,
    dry_run: bool,
    damage: Option<DamageJson>,
    kept_up_to: Option<u64>,
    entries_removed: u64,
    bytes_removed: u64,
    quarantine: Option<String>,
    applied: bool,
}

/// `walogs repair`: exit code 0 when the log is (now) intact, 1 when a dry run found damage.
pub fn run(rt: &Runtime, dir: &Path, dry_run: bool, out: &Out) -> Result<u8, HostError> {
    logdir::require_log(dir)?;
    let spinner = if out.is_json() || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    spinner.set_message(format!("checking {}", dir.display()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let report = rt.repair(dir, dry_run);
    spinner.finish_and_clear();
    let report = report?;
    let result = Repaired {
        // The log is intact now.
        ok: report.damage.is_none() || report.applied,
        dry_run,
        damage: report.damage.as_ref().map(|d| DamageJson {
            segment: segment_name(d.segment),
            offset: d.offset,
            reason: d.reason.clone(),
        }),
        kept_up_to: lsn_json(report.kept_up_to),
        entries_removed: report.entries_removed,
        bytes_removed: report.bytes_removed,
        quarantine: report.quarantine.clone(),
        applied: report.applied,
    };
    out.print(&result, || {
        let Some(d) = &result.damage else {
            return "nothing to repair: the log is intact\n".to_owned();
        };
        let kept = result.kept_up_to.map_or_else(
            || "no entry".to_owned(),
            |l| format!("the entries up to LSN {l}"),
        );
        let found = format!("damage at byte {} of {}: {}", d.offset, d.segment, d.reason);
        if result.applied {
            format!(
                "{found}\nrepaired: removed {} bytes ({} intact frames among them) into {}; \
                 the log keeps {kept}\n",
                result.bytes_removed,
                result.entries_removed,
                result.quarantine.as_deref().unwrap_or("a quarantine file"),
            )
        } else {
            format!(
                "{found}\na repair would remove {} bytes ({} intact frames among them) into a \
                 quarantine file and keep {kept}; nothing was changed\n",
                result.bytes_removed, result.entries_removed,
            )
        }
    })?;
    Ok(if dry_run && result.damage.is_some() {
        EXIT_CORRUPT
    } else {
        EXIT_OK
    })
}
