//! Several producers on one log: threads appending at once through a
//! [`SharedLog`](walogs::SharedLog) over the component (what
//! [`SharedComponentWal`](walogs_host::SharedComponentWal) is), each group commit recorded
//! with the trace events it made.
//!
//! Which producers a group carries depends on thread timing, so a run's groups are kept as
//! a [`Schedule`]; running the same calls with a schedule, one group at a time on one
//! thread, makes exactly the same guest calls and so the same trace: that is how a case of
//! a multi-producer workload replays.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Barrier};

use walogs::storage::StdStorage;
use walogs::{LogShape, LogWriter, Lsn, LsnRange, SharedLog, SharedSetup, VerifyReport};
use walogs_host::{ComponentWal, ComponentWriter, HostError};

use super::trace::Recorder;

/// One producer's calls in order, each a list of entries.
pub type Calls = Vec<Vec<Vec<u8>>>;

/// The producers each group commit carried, in the order their entries were laid:
/// `0.12.201` (groups separated by `.`, producers by digit).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Schedule(pub Vec<Vec<u8>>);

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for p in group {
                write!(f, "{p}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for Schedule {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let groups = text.split('.').map(|g| {
            let members: Option<Vec<u8>> =
                g.chars().map(|c| c.to_digit(10).map(|d| d as u8)).collect();
            members.filter(|m| !m.is_empty()).ok_or(())
        });
        Ok(Schedule(groups.collect::<Result<_, ()>>()?))
    }
}

/// One group commit: an `append-batch` call into the guest.
#[derive(Debug, Clone)]
pub struct Group {
    /// The trace length when it started.
    pub start: usize,
    /// The trace length when it returned.
    pub end: usize,
    /// Its entries, in LSN order.
    pub entries: Vec<Arc<[u8]>>,
    /// The LSNs the guest gave them, or its error.
    pub result: Result<LsnRange, String>,
    /// The guest's `durable-lsn` after it.
    pub durable: u64,
}

/// What one producer was told: its calls' LSNs (or the error), in call order.
pub type Acks = Vec<Result<LsnRange, String>>;

/// The writer the shared log drives: the component, with every batch recorded.
struct Recording {
    wal: Option<ComponentWal>,
    recorder: Recorder,
    groups: Vec<Group>,
}

impl Recording {
    fn wal(&mut self) -> Result<&mut ComponentWal, HostError> {
        self.wal.as_mut().ok_or(HostError::Dead)
    }

    fn batch(&mut self, entries: &[&[u8]]) -> Result<LsnRange, HostError> {
        let start = self.recorder.len();
        let result = self.wal()?.append_batch(entries);
        let durable = self.wal()?.durable_lsn().map_or(0, |l| l.0);
        self.groups.push(Group {
            start,
            end: self.recorder.len(),
            entries: entries.iter().map(|&e| Arc::from(e)).collect(),
            result: result.as_ref().map(|r| *r).map_err(ToString::to_string),
            durable,
        });
        result
    }
}

impl LogWriter for Recording {
    type Error = HostError;

    fn append_batch(&mut self, entries: &[&[u8]]) -> Result<LsnRange, HostError> {
        self.batch(entries)
    }
    fn sync(&mut self) -> Result<Lsn, HostError> {
        self.wal()?.sync()
    }
    fn rotate(&mut self) -> Result<(), HostError> {
        self.wal()?.rotate()
    }
    fn checkpoint(&mut self, applied_up_to: Lsn) -> Result<usize, HostError> {
        self.wal()?.checkpoint(applied_up_to)
    }
    fn truncate_after(&mut self, lsn: Lsn) -> Result<(), HostError> {
        self.wal()?.truncate_after(lsn)
    }
    fn verify(&mut self) -> Result<VerifyReport, HostError> {
        self.wal()?.verify()
    }
    fn shape(&mut self) -> Result<LogShape, HostError> {
        let wal = self.wal()?;
        Ok(LogShape {
            durable_lsn: wal.durable_lsn()?,
            next_lsn: wal.next_lsn()?,
            segments: wal.segments()?,
        })
    }
    fn poisoned(&mut self) -> Option<String> {
        let failed = self.groups.iter().find_map(|g| g.result.clone().err());
        match &self.wal {
            Some(wal) if !wal.is_dead() => failed,
            _ => failed.or_else(|| Some(HostError::Dead.to_string())),
        }
    }
    fn duplicate(error: &HostError) -> HostError {
        <ComponentWriter as LogWriter>::duplicate(error)
    }
}

/// What a burst of producers did.
#[derive(Debug)]
pub struct Burst {
    /// The group commits, in order.
    pub groups: Vec<Group>,
    /// Per producer, what each of its calls returned.
    pub acks: Vec<Acks>,
    /// The groups' members, as a schedule.
    pub schedule: Schedule,
}

/// Runs `producers` at once, one thread each, through a shared log over `wal`; gives the
/// handle back afterwards (still open).
pub fn run_threads(
    wal: ComponentWal,
    dir: &Path,
    recorder: &Recorder,
    producers: &[Calls],
) -> Result<(ComponentWal, Burst), HostError> {
    let setup = SharedSetup {
        storage: Arc::new(StdStorage::open_reader(dir)?),
        dir: dir.to_owned(),
        read_only: false,
        tail_state: walogs::TailState::Clean,
    };
    let writer = Recording {
        wal: Some(wal),
        recorder: recorder.clone(),
        groups: Vec::new(),
    };
    let shared = SharedLog::new(writer, setup)?;
    // All producers start together, so that their appends meet in groups.
    let start = Barrier::new(producers.len());
    let acks: Vec<Acks> = std::thread::scope(|s| {
        let threads: Vec<_> = producers
            .iter()
            .map(|calls| {
                let (shared, start) = (shared.clone(), &start);
                s.spawn(move || {
                    start.wait();
                    let mut acks = Acks::new();
                    for call in calls {
                        let result = shared.append_batch(call).map_err(|e| e.to_string());
                        let failed = result.is_err();
                        acks.push(result);
                        if failed {
                            break;
                        }
                    }
                    acks
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| vec![Err("the producer panicked".into())])
            })
            .collect()
    });
    let (wal, groups) = shared.with_writer(|w| (w.wal.take(), std::mem::take(&mut w.groups)));
    let wal = wal.ok_or(HostError::Dead)?;
    let schedule = schedule_of(&groups, &acks);
    Ok((
        wal,
        Burst {
            groups,
            acks,
            schedule,
        },
    ))
}

/// The schedule the acknowledgements imply: per group, the producers whose LSNs fall in
/// it, by their first LSN.
fn schedule_of(groups: &[Group], acks: &[Acks]) -> Schedule {
    let mut out = Vec::new();
    for group in groups {
        let Ok(range) = &group.result else { break };
        let mut members: Vec<(u64, u8)> = acks
            .iter()
            .enumerate()
            .flat_map(|(p, a)| a.iter().flatten().map(move |r| (r.start.0, p as u8)))
            .filter(|&(lsn, _)| range.start.0 <= lsn && lsn < range.end.0)
            .collect();
        members.sort_unstable();
        out.push(members.into_iter().map(|(_, p)| p).collect());
    }
    Schedule(out)
}

/// Runs `producers` on this thread, one group commit per entry of `schedule` (consuming
/// its groups from `*next` until every call ran), exactly as a run with those groups did.
pub fn run_schedule(
    wal: ComponentWal,
    recorder: &Recorder,
    producers: &[Calls],
    schedule: &Schedule,
    next: &mut usize,
) -> Result<(ComponentWal, Burst), HostError> {
    let mut writer = Recording {
        wal: Some(wal),
        recorder: recorder.clone(),
        groups: Vec::new(),
    };
    let mut cursor = vec![0usize; producers.len()];
    let mut acks: Vec<Acks> = vec![Acks::new(); producers.len()];
    let mut used = Vec::new();
    let left = |cursor: &[usize]| cursor.iter().zip(producers).any(|(&c, p)| c < p.len());
    while left(&cursor) {
        let bad = || {
            let why = format!("the schedule {schedule} does not fit this workload");
            HostError::io(
                "replaying a multi-producer workload",
                std::io::Error::other(why),
            )
        };
        let members = schedule.0.get(*next).ok_or_else(bad)?;
        *next += 1;
        let mut entries: Vec<&[u8]> = Vec::new();
        let mut sizes = Vec::new();
        for &p in members {
            let call = producers
                .get(p as usize)
                .and_then(|c| c.get(cursor[p as usize]))
                .ok_or_else(bad)?;
            cursor[p as usize] += 1;
            entries.extend(call.iter().map(Vec::as_slice));
            sizes.push((p as usize, call.len() as u64));
        }
        let result = writer.batch(&entries).map_err(|e| e.to_string());
        let mut lsn = result.as_ref().map_or(0, |r| r.start.0);
        for (p, n) in sizes {
            acks[p].push(match &result {
                Ok(_) => Ok(LsnRange {
                    start: Lsn(lsn),
                    end: Lsn(lsn + n),
                }),
                Err(e) => Err(e.clone()),
            });
            lsn += n;
        }
        used.push(members.clone());
        if result.is_err() {
            break;
        }
    }
    let wal = writer.wal.take().ok_or(HostError::Dead)?;
    Ok((
        wal,
        Burst {
            groups: writer.groups,
            acks,
            schedule: Schedule(used),
        },
    ))
}
