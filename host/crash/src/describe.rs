//! Cases, crash points and trace events in words, for reports.

use super::case::{Case, DamageKind, Fault, Then};
use super::model::{Fill, PowerLoss};
use super::runner::Recorded;
use super::trace::{FsEvent, Node};
use walogs_host::interpose::WriteFaultKind;

/// The fault of `case` in words.
pub fn fault(case: &Case) -> String {
    let then = |t: Then| match t {
        Then::Crash => "then a process crash",
        Then::Power => "then a power loss",
    };
    let mut text = match &case.fault {
        Fault::Crash { .. } => "process crash (the page cache survives)".to_string(),
        Fault::Power {
            variant: PowerLoss::Durable,
            ..
        } => "power loss (only synced data and entries survive)".into(),
        Fault::Power {
            variant: PowerLoss::DirPrefix { dir, keep },
            ..
        } => {
            format!(
                "power loss keeping the first {keep} unsynced entry changes of directory {dir:?}"
            )
        }
        Fault::Power {
            variant:
                PowerLoss::Torn {
                    file,
                    op,
                    cut,
                    fill,
                },
            ..
        } => match cut {
            None => format!("power loss keeping file f{file}'s unsynced changes up to #{op}"),
            Some(cut) => {
                let fill = match fill {
                    Fill::Absent => "absent",
                    Fill::Zero => "zero-filled",
                    Fill::Garbage => "garbage-filled",
                };
                format!(
                    "power loss tearing f{file}'s unsynced change #{op} at byte {cut} (rest {fill})"
                )
            }
        },
        Fault::Power {
            variant: PowerLoss::Pages { mask },
            ..
        } => format!(
            "power loss keeping the unsynced 4 KiB pages and new sizes of mask {mask:#x}, out of order"
        ),
        Fault::Io {
            write: None,
            sync,
            then: t,
        } => format!("EIO on sync #{sync} of the run, {}", then(*t)),
        Fault::Io {
            write: Some(w),
            then: t,
            ..
        } => {
            let what = match w.kind {
                WriteFaultKind::Io => "EIO".to_string(),
                WriteFaultKind::NoSpace => "ENOSPC".into(),
                WriteFaultKind::Short { keep } => format!("a short write ({keep} bytes)"),
            };
            format!("{what} on write #{} of the run, {}", w.nth, then(*t))
        }
        Fault::Damage {
            file,
            kind: DamageKind::BitFlip { offset, bit },
            ..
        } => {
            format!("bit {bit} flipped at byte {offset} of {file}")
        }
        Fault::Damage {
            file,
            kind: DamageKind::ZeroSector { sector },
            ..
        } => {
            format!("512-byte sector {sector} of {file} zeroed")
        }
        Fault::Fuel { op, budget } => format!("the guest runs out of fuel ({budget}) in op {op}"),
    };
    if let Some(r) = case.recovery {
        text += &format!(
            "; recovery of that state crashed after {} events, {}",
            r.at,
            then(r.then)
        );
    }
    text
}

/// Where a crash after `at` events falls: the operation and the last event.
pub fn point(rec: &Recorded, at: usize) -> String {
    let history = &rec.run.history;
    let op = match history.op_at(at) {
        Some(i) => {
            let o = &history.ops[i];
            let state = if at >= o.end { "after" } else { "during" };
            format!("{state} op {i} ({})", o.op)
        }
        None => "before the first op".into(),
    };
    let last = match at.checked_sub(1).map(|i| &rec.run.events[i]) {
        Some(e) => format!(", after event {at}/{} {}", rec.run.events.len(), event(e)),
        None => ", before any event".into(),
    };
    op + &last
}

/// A one-line description of a trace event.
pub fn event(e: &FsEvent) -> String {
    let node = |n: &Node| match n {
        Node::File(id) => format!("file f{id}"),
        Node::Dir(d) if d.is_empty() => "dir .".into(),
        Node::Dir(d) => format!("dir {d}"),
    };
    match e {
        FsEvent::Create { name, file, .. } => format!("create {name} (f{file})"),
        FsEvent::MkDir { name, .. } => format!("mkdir {name}"),
        FsEvent::Write { file, offset, data } => match offset {
            Some(o) => format!("write f{file} @{o} {} B", data.len()),
            None => format!("append f{file} {} B", data.len()),
        },
        FsEvent::SetSize { file, size } => format!("set-size f{file} {size}"),
        FsEvent::Sync { node: n } => format!("sync {}", node(n)),
        FsEvent::SyncFailed { node: n } => format!("failed sync {}", node(n)),
        FsEvent::Unlink { name, .. } => format!("unlink {name}"),
        FsEvent::RmDir { name, .. } => format!("rmdir {name}"),
        FsEvent::Rename { from, to, .. } => format!("rename {from} -> {to}"),
    }
}
