//! The oracle: opens a crash state through the component and decides whether what
//! recovery made of it is allowed.
//!
//! After recovery the log must hold exactly the LSNs `first..=R` with `A <= R <= I` (A: the
//! highest LSN acknowledged durable, I: the highest handed out), every payload
//! byte-identical to what was appended, `first` no later than a checkpoint allowed, a full
//! iteration and `verify` that agree with it, and a next append that gets `R + 1`. For
//! damage faults a typed `Corrupt` error is also allowed, and so is a reported tail cut
//! (`TailState::TruncatedAt`) that loses only entries the damage hit in the last segment,
//! or entries past the durable point recovery relied on (the window of ambiguity of
//! docs/FORMAT.md: damage there cannot be told from an interrupted write).

use std::path::Path;

use serde::Serialize;
use walogs::{TailState, WalConfig, WalError};

use super::history::Expect;
use walogs_host::interpose::FaultPlan;
use walogs_host::{HostError, OpenOptions, Runtime};

/// The payload the oracle appends after recovery.
pub const PROBE: &[u8] = b"walogs-crash-probe";

/// What recovery produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// R: the last LSN of the recovered log (`next_lsn - 1`), when it opened.
    pub last: Option<u64>,
    /// The first LSN it holds.
    pub first: Option<u64>,
    /// What the open reported at the tail (`clean` or `truncated-at N`).
    pub tail: Option<String>,
    /// The typed `Corrupt` error seen (open, iteration or verify), when there was one.
    pub corrupt: Option<String>,
}

impl Observed {
    /// One line: `R=5 first=1 tail=clean`.
    pub fn describe(&self) -> String {
        let mut out = match self.last {
            Some(r) => format!(
                "R={r} first={}",
                self.first.map_or("none".into(), |f| f.to_string())
            ),
            None => "no log".into(),
        };
        if let Some(tail) = &self.tail {
            out += &format!(" tail={tail}");
        }
        if let Some(c) = &self.corrupt {
            out += &format!(" corrupt: {c}");
        }
        out
    }
}

/// The oracle's verdict on one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed.
    Pass(Observed),
    /// Not allowed: what was seen and why it is wrong.
    Violation(Observed, String),
}

/// Opens the log in `dir` with `config` and checks it against `expect`.
///
/// Only a failure to set up the component is an `Err`; everything the guest does is a
/// verdict.
pub fn check(
    rt: &Runtime,
    dir: &Path,
    config: &WalConfig,
    expect: &Expect,
) -> Result<Verdict, HostError> {
    let mut seen = Observed::default();
    match check_inner(rt, dir, config, expect, &mut seen) {
        Ok(()) => Ok(Verdict::Pass(seen)),
        Err(Bad::Setup(e)) => Err(e),
        Err(Bad::Violation(why)) => Ok(Verdict::Violation(seen, why)),
    }
}

enum Bad {
    Setup(HostError),
    Violation(String),
}

impl From<String> for Bad {
    fn from(why: String) -> Self {
        Bad::Violation(why)
    }
}

/// Classifies a host error from the guest: setup failures end the sweep, a `Corrupt` is
/// noted (allowed for damage only), anything else is a violation.
fn guest_error(e: HostError, what: &str, expect: &Expect, seen: &mut Observed) -> Result<(), Bad> {
    match e {
        HostError::Setup(e) => Err(Bad::Setup(HostError::Setup(e))),
        HostError::Wal(WalError::Corrupt { reason }) if expect.damage.is_some() => {
            seen.corrupt = Some(reason);
            Ok(())
        }
        e => Err(Bad::Violation(format!("{what} failed: {e}"))),
    }
}

fn check_inner(
    rt: &Runtime,
    dir: &Path,
    config: &WalConfig,
    expect: &Expect,
    seen: &mut Observed,
) -> Result<(), Bad> {
    // For damage: where the durable point the engine relies on ends, read (without
    // changing anything) by the engine's own recovery, natively, before the component
    // recovers the state.
    let window = expect
        .damage
        .as_ref()
        .and_then(|_| durable_window(dir, config));
    let faults = FaultPlan {
        elide_syncs: true,
        ..FaultPlan::default()
    };
    let mut wal =
        match rt.open_with_options(dir, config.clone(), OpenOptions { faults, fuel: None }) {
            Ok(wal) => wal,
            Err(e) => return guest_error(e, "recovery (open)", expect, seen),
        };
    let host = |e: HostError| Bad::Violation(format!("the guest failed: {e}"));
    let tail = wal.tail_state().map_err(host)?;
    let next = wal.next_lsn().map_err(host)?.0;
    let first = wal.first_lsn().map_err(host)?.map(|l| l.0);
    let r = next - 1;
    seen.last = Some(r);
    seen.first = first;
    seen.tail = Some(match tail {
        TailState::Clean => "clean".into(),
        TailState::TruncatedAt(at) => format!("truncated-at {at}"),
    });

    // Every entry, compared with each version the state may hold.
    let mut matching: Vec<bool> = vec![true; expect.versions.len()];
    let mut want = first.unwrap_or(next);
    for item in wal.iter().map_err(host)? {
        match item {
            Ok((lsn, data)) => {
                if lsn.0 != want {
                    return Err(format!(
                        "iteration yielded LSN {} where LSN {want} was due",
                        lsn.0
                    )
                    .into());
                }
                for (ok, v) in matching.iter_mut().zip(&expect.versions) {
                    *ok &= v
                        .payloads
                        .get(lsn.0 as usize - 1)
                        .is_some_and(|p| p[..] == data[..]);
                }
                if !matching.iter().any(|&m| m) {
                    let why = if lsn.0 > expect.issued {
                        "a phantom entry"
                    } else {
                        "a wrong payload"
                    };
                    return Err(format!("LSN {}: {why} ({} bytes)", lsn.0, data.len()).into());
                }
                want += 1;
            }
            Err(HostError::Wal(WalError::Corrupt { reason })) if expect.damage.is_some() => {
                seen.corrupt = Some(reason);
                break;
            }
            Err(e) => return Err(format!("iteration failed at LSN {want}: {e}").into()),
        }
    }
    if seen.corrupt.is_none() && want != next {
        return Err(format!(
            "iteration ended after LSN {} but the log's last LSN is {r}",
            want - 1
        )
        .into());
    }
    match wal.verify() {
        Ok(report) => {
            let last = report.last_lsn.map_or(0, |l| l.0);
            if seen.corrupt.is_none() && first.is_some() && last != r {
                return Err(format!("verify ends at LSN {last}, the log at {r}").into());
            }
        }
        Err(e) => guest_error(e, "verify", expect, seen)?,
    }
    if let Some(f) = first.filter(|&f| f > expect.max_first) {
        return Err(format!(
            "entries before LSN {f} vanished; no checkpoint allowed that (first <= {})",
            expect.max_first
        )
        .into());
    }
    if seen.corrupt.is_some() {
        // A typed error on damage: allowed (what was read before it was checked above).
        return Ok(());
    }
    check_range(expect, r, tail, &matching, window)?;
    match wal.append(PROBE) {
        Ok(lsn) if lsn.0 == next => Ok(()),
        Ok(lsn) => Err(format!("the next append got LSN {}, not {next}", lsn.0).into()),
        Err(e) => Err(format!("appending after recovery failed: {e}").into()),
    }
}

/// The first LSN past the durable point recovery confirms in the state in `dir` (a
/// read-only native open: nothing changes), if it confirms one.
fn durable_window(dir: &Path, config: &WalConfig) -> Option<u64> {
    let config = WalConfig {
        read_only: true,
        ..config.clone()
    };
    let wal = walogs::Wal::open_with_config(dir, config).ok()?;
    wal.recovery_report().durable_next_lsn.map(|l| l.0)
}

/// Checks that the last LSN `r` is one some matching version allows.
/// `window` is the first LSN past the engine's durable point, for damage faults.
fn check_range(
    expect: &Expect,
    r: u64,
    tail: TailState,
    matching: &[bool],
    window: Option<u64>,
) -> Result<(), Bad> {
    let fits = |min: u64, max: u64| (min..=max).contains(&r);
    let allowed = expect
        .versions
        .iter()
        .zip(matching)
        .any(|(v, &m)| m && fits(v.min, v.max));
    if allowed {
        return Ok(());
    }
    if r > expect.issued && expect.versions.iter().all(|v| r > v.max) {
        return Err(format!(
            "the log ends at LSN {r}, beyond the highest LSN handed out ({})",
            expect.issued
        )
        .into());
    }
    // Damage in the last segment may cost the entries it hit, if recovery says so (and
    // entries a checkpoint released may go with them).
    if let (Some(damage), TailState::TruncatedAt(_)) = (&expect.damage, tail) {
        // Entries past the durable point the engine relied on are the documented window
        // of ambiguity (docs/FORMAT.md): damage there is cut like an interrupted write.
        let window = window.unwrap_or(u64::MAX);
        let excused = |l: u64| {
            l < expect.max_first
                || damage.in_last_segment && (damage.lsns.contains(&l) || l >= window)
        };
        if (r + 1..=expect.acked).all(excused) {
            return Ok(());
        }
        return Err(format!(
            "damage cost acknowledged entries in {}..={} that it did not hit (recovery cut the tail at LSN {r})",
            r + 1,
            expect.acked
        )
        .into());
    }
    let lost = if matches!(tail, TailState::Clean) {
        "silently"
    } else {
        "with a tail cut"
    };
    Err(format!(
        "acknowledged entries lost {lost}: the log ends at LSN {r}, A = {}",
        expect.acked
    )
    .into())
}
