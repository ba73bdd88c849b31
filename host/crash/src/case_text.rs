//! The text form of a [`Case`], which `walogs crash-test --replay` takes back:
//! `SEED[/SCHEDULE]:FAULT[+recover@N:crash|power]`, e.g. `123:torn@57:f3:op2:cut512:zero` or
//! `123:ooo@57:m1a3` (the mask in hex).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::case::{Case, DamageKind, Fault, RecoveryCrash, Then};
use super::model::{Fill, PowerLoss};
use walogs_host::interpose::{WriteFault, WriteFaultKind};

fn then_text(then: Then) -> &'static str {
    match then {
        Then::Crash => "crash",
        Then::Power => "power",
    }
}

fn fill_text(fill: Fill) -> &'static str {
    match fill {
        Fill::Absent => "absent",
        Fill::Zero => "zero",
        Fill::Garbage => "garbage",
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Crash { at } => write!(f, "crash@{at}"),
            Fault::Power {
                at,
                variant: PowerLoss::Durable,
            } => write!(f, "power@{at}"),
            Fault::Power {
                at,
                variant: PowerLoss::DirPrefix { dir, keep },
            } => {
                let dir = if dir.is_empty() { "." } else { dir };
                write!(f, "power@{at}:dir={dir}:keep{keep}")
            }
            Fault::Power {
                at,
                variant:
                    PowerLoss::Torn {
                        file,
                        op,
                        cut,
                        fill,
                    },
            } => {
                write!(f, "torn@{at}:f{file}:op{op}")?;
                match cut {
                    Some(cut) => write!(f, ":cut{cut}:{}", fill_text(*fill)),
                    None => write!(f, ":whole"),
                }
            }
            Fault::Power {
                at,
                variant: PowerLoss::Pages { mask },
            } => write!(f, "ooo@{at}:m{mask:x}"),
            Fault::Io {
                write: None,
                sync,
                then,
            } => write!(f, "eio-sync#{sync}:{}", then_text(*then)),
            Fault::Io {
                write: Some(w),
                then,
                ..
            } => {
                let kind = match w.kind {
                    WriteFaultKind::Io => "eio-write".to_string(),
                    WriteFaultKind::NoSpace => "enospc-write".to_string(),
                    WriteFaultKind::Short { keep } => format!("short{keep}-write"),
                };
                write!(f, "{kind}#{}:{}", w.nth, then_text(*then))
            }
            Fault::Damage {
                at,
                file,
                kind: DamageKind::BitFlip { offset, bit },
            } => {
                write!(f, "flip@{at}:{file}:{offset}.{bit}")
            }
            Fault::Damage {
                at,
                file,
                kind: DamageKind::ZeroSector { sector },
            } => {
                write!(f, "zero@{at}:{file}:s{sector}")
            }
            Fault::Fuel { op, budget } => write!(f, "fuel@op{op}:{budget}"),
        }
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.workload)?;
        if let Some(schedule) = &self.schedule {
            write!(f, "/{schedule}")?;
        }
        write!(f, ":{}", self.fault)?;
        if let Some(r) = self.recovery {
            write!(f, "+recover@{}:{}", r.at, then_text(r.then))?;
        }
        Ok(())
    }
}

/// A case text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a crash case: {0:?} (expected e.g. 123:crash@10 or 123:torn@7:f2:op0:cut512:zero)")]
pub struct BadCase(pub String);

impl FromStr for Case {
    type Err = BadCase;

    fn from_str(text: &str) -> Result<Self, BadCase> {
        parse(text).ok_or_else(|| BadCase(text.to_owned()))
    }
}

fn num<T: FromStr>(s: &str, prefix: &str) -> Option<T> {
    s.strip_prefix(prefix)?.parse().ok()
}

fn then_of(s: &str) -> Option<Then> {
    match s {
        "crash" => Some(Then::Crash),
        "power" => Some(Then::Power),
        _ => None,
    }
}

fn parse(text: &str) -> Option<Case> {
    let (main, recovery) = match text.split_once("+recover@") {
        Some((main, r)) => {
            let (at, then) = r.split_once(':')?;
            let rc = RecoveryCrash {
                at: at.parse().ok()?,
                then: then_of(then)?,
            };
            (main, Some(rc))
        }
        None => (text, None),
    };
    let (seed, fault) = main.split_once(':')?;
    let parts: Vec<&str> = fault.split(':').collect();
    let (head, at) = parts[0].split_once(['@', '#'])?;
    let fault = match (head, &parts[1..]) {
        ("crash", []) => Fault::Crash {
            at: at.parse().ok()?,
        },
        ("power", []) => Fault::Power {
            at: at.parse().ok()?,
            variant: PowerLoss::Durable,
        },
        ("power", [dir, keep]) => {
            let dir = dir.strip_prefix("dir=")?;
            let dir = if dir == "." {
                String::new()
            } else {
                dir.to_owned()
            };
            let variant = PowerLoss::DirPrefix {
                dir,
                keep: num(keep, "keep")?,
            };
            Fault::Power {
                at: at.parse().ok()?,
                variant,
            }
        }
        ("torn", [file, op, rest @ ..]) => {
            let (cut, fill) = match rest {
                ["whole"] => (None, Fill::Absent),
                [cut, fill] => {
                    let fill = match *fill {
                        "absent" => Fill::Absent,
                        "zero" => Fill::Zero,
                        "garbage" => Fill::Garbage,
                        _ => return None,
                    };
                    (Some(num(cut, "cut")?), fill)
                }
                _ => return None,
            };
            let variant = PowerLoss::Torn {
                file: num(file, "f")?,
                op: num(op, "op")?,
                cut,
                fill,
            };
            Fault::Power {
                at: at.parse().ok()?,
                variant,
            }
        }
        ("ooo", [mask]) => Fault::Power {
            at: at.parse().ok()?,
            variant: PowerLoss::Pages {
                mask: u64::from_str_radix(mask.strip_prefix('m')?, 16).ok()?,
            },
        },
        ("eio-sync", [then]) => Fault::Io {
            write: None,
            sync: at.parse().ok()?,
            then: then_of(then)?,
        },
        (kind, [then]) if kind.ends_with("-write") => {
            let kind = match kind {
                "eio-write" => WriteFaultKind::Io,
                "enospc-write" => WriteFaultKind::NoSpace,
                k => WriteFaultKind::Short {
                    keep: num(k.strip_suffix("-write")?, "short")?,
                },
            };
            let write = Some(WriteFault {
                nth: at.parse().ok()?,
                kind,
            });
            Fault::Io {
                write,
                sync: 0,
                then: then_of(then)?,
            }
        }
        ("flip", [file, spot]) => {
            let (offset, bit) = spot.split_once('.')?;
            let kind = DamageKind::BitFlip {
                offset: offset.parse().ok()?,
                bit: bit.parse().ok()?,
            };
            Fault::Damage {
                at: at.parse().ok()?,
                file: (*file).to_owned(),
                kind,
            }
        }
        ("zero", [file, sector]) => {
            let kind = DamageKind::ZeroSector {
                sector: num(sector, "s")?,
            };
            Fault::Damage {
                at: at.parse().ok()?,
                file: (*file).to_owned(),
                kind,
            }
        }
        ("fuel", [budget]) => Fault::Fuel {
            op: num(at, "op")?,
            budget: budget.parse().ok()?,
        },
        _ => return None,
    };
    let (seed, schedule) = match seed.split_once('/') {
        Some((seed, schedule)) => (seed, Some(Arc::new(schedule.parse().ok()?))),
        None => (seed, None),
    };
    Some(Case {
        workload: seed.parse().ok()?,
        fault,
        recovery,
        schedule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_texts_round_trip() {
        for text in [
            "1:crash@0",
            "18446744073709551615:power@12",
            "5:power@12:dir=.:keep2",
            "5:torn@3:f1:op0:cut512:zero",
            "5:torn@3:f1:op2:whole",
            "5:eio-sync#4:power",
            "5:ooo@12:m1a3",
            "5:ooo@0:m0",
            "5:eio-write#2:crash",
            "5:enospc-write#2:power",
            "5:short7-write#9:crash",
            "5:flip@40:wal-000001.log:100.3",
            "5:zero@40:wal-000002.log:s1",
            "5:fuel@op3:2000",
            "5:torn@3:f1:op0:cut1:garbage+recover@2:power",
            "5/0.12.201:ooo@9:m3",
            "5/3:crash@2",
        ] {
            let case: Case = text.parse().unwrap();
            assert_eq!(case.to_string(), text);
        }
        assert!("5:crash".parse::<Case>().is_err());
        assert!("x:crash@1".parse::<Case>().is_err());
        assert!("5/0.x:crash@1".parse::<Case>().is_err());
        assert!("5/0..1:crash@1".parse::<Case>().is_err());
    }
}
