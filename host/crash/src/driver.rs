//! Runs a workload through the component with the interposer recording, and keeps the
//! acknowledged history the oracle needs.

use std::path::Path;
use std::sync::Arc;

use walogs::{Lsn, WalConfig};

use super::history::{Ack, History, OpRecord};
use super::image::Image;
use super::model::FsModel;
use super::producers::{self, Calls, Schedule};
use super::trace::{FsEvent, Recorder};
use super::workload::{Op, Workload};
use walogs_host::interpose::FaultPlan;
use walogs_host::{ComponentWal, HostError, OpenOptions, Runtime};

/// How a run is disturbed.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Faults to inject (counted over the whole run, across reopens; `record` and
    /// `elide_syncs` are set by the driver).
    pub faults: FaultPlan,
    /// Stop the guest with this fuel budget at the start of this operation (not an open).
    pub fuel_stop: Option<(usize, u64)>,
    /// After the first failed operation, try one more append (to see whether the guest
    /// acknowledges anything after a failure), then stop.
    pub follow_up: bool,
    /// Run concurrent producers as these group commits, one at a time on this thread,
    /// instead of on threads (a replay of a recorded multi-producer run).
    pub schedule: Option<Schedule>,
}

/// A recorded run.
#[derive(Debug, Clone)]
pub struct Run {
    /// The directory before the first operation.
    pub initial: Image,
    /// Every filesystem change, in order.
    pub events: Vec<FsEvent>,
    /// What was acknowledged.
    pub history: History,
    /// The directory after the run (read from the disk).
    pub end: Image,
    /// Calls the recorder could not follow, and disagreements between the trace and the
    /// disk: an explorer problem, not a guest violation.
    pub problems: Vec<String>,
    /// The group commits concurrent producers made (`None` for a single producer).
    pub schedule: Option<Schedule>,
}

/// The payload appended after a failure, to see whether a failed log still acknowledges.
pub const FOLLOW_UP: &[u8] = b"walogs-crash-follow-up";

/// Runs `workload` in `dir` (which must not exist yet) through `rt`.
pub fn run(
    rt: &Runtime,
    dir: &Path,
    workload: &Workload,
    options: &RunOptions,
) -> Result<Run, HostError> {
    let initial = workload.initial_image();
    initial
        .write_to(dir)
        .map_err(|e| HostError::io(format!("write the initial state to {}", dir.display()), e))?;
    let recorder = FsModel::from_image(&initial).recorder();
    let mut driver = Driver::new(rt, dir, workload, options, recorder.clone());
    let mut ops: Vec<Op> = workload.ops.clone();
    let (mut k, mut followed) = (0, false);
    while k < ops.len() {
        let failed = driver.step(k, &ops[k])?;
        if driver.wal.as_ref().is_none_or(ComponentWal::is_dead) {
            break;
        }
        if failed {
            if !options.follow_up || followed || matches!(ops[k], Op::TruncateAfter(_)) {
                break;
            }
            followed = true;
            ops.truncate(k + 1);
            ops.push(Op::Append(FOLLOW_UP.to_vec()));
        }
        k += 1;
    }
    drop(driver.wal.take());
    let schedule = driver.schedule.take().map(Schedule);
    let mut problems = std::mem::take(&mut driver.problems);
    let history = driver.finish();
    let end = Image::read(dir)
        .map_err(|e| HostError::io(format!("read the final state of {}", dir.display()), e))?;
    let events = recorder.events();
    problems.extend(recorder.problems());
    let modelled = FsModel::replay(&initial, &events).process_crash();
    if problems.is_empty() && modelled != end {
        problems.push(format!(
            "the trace does not explain the directory: model has {}, disk has {}",
            modelled.summary(),
            end.summary()
        ));
    }
    Ok(Run {
        initial,
        events,
        history,
        end,
        problems,
        schedule,
    })
}

/// Opens `dir` with `config`, recording into `recorder`, and closes it again: a recovery.
/// Returns the guest's error, if any.
pub fn recover(
    rt: &Runtime,
    dir: &Path,
    config: &WalConfig,
    recorder: Recorder,
) -> Result<Option<String>, HostError> {
    let faults = FaultPlan {
        elide_syncs: true,
        observer: Some(recorder.observer()),
        ..FaultPlan::default()
    };
    match rt.open_with_options(dir, config.clone(), OpenOptions { faults, fuel: None }) {
        Ok(_) => Ok(None),
        Err(HostError::Setup(e)) => Err(HostError::Setup(e)),
        Err(e) => Ok(Some(e.to_string())),
    }
}

pub(crate) struct Driver<'a> {
    rt: &'a Runtime,
    dir: &'a Path,
    config: WalConfig,
    options: &'a RunOptions,
    recorder: Recorder,
    wal: Option<ComponentWal>,
    /// Syncs and writes made by stores already closed (fault counts span the run).
    used_syncs: u64,
    used_writes: u64,
    epochs: Vec<Vec<Arc<[u8]>>>,
    history: History,
    acked: u64,
    issued: u64,
    max_first: u64,
    /// Concurrent producers' group commits so far (`None` until there were some).
    schedule: Option<Vec<Vec<u8>>>,
    /// Where a replayed schedule is.
    next_group: usize,
    /// Disagreements between what producers were told and what the groups carried.
    problems: Vec<String>,
}

impl<'a> Driver<'a> {
    fn new(
        rt: &'a Runtime,
        dir: &'a Path,
        workload: &Workload,
        options: &'a RunOptions,
        recorder: Recorder,
    ) -> Self {
        let initial: Vec<Arc<[u8]>> = workload
            .v1_entries
            .iter()
            .map(|e| Arc::from(&e[..]))
            .collect();
        let n = initial.len() as u64;
        Self {
            rt,
            dir,
            config: workload.config.clone(),
            options,
            recorder,
            wal: None,
            used_syncs: 0,
            used_writes: 0,
            epochs: vec![initial],
            history: History {
                initial: n,
                ..History::default()
            },
            acked: n,
            issued: n,
            max_first: 1,
            schedule: None,
            next_group: 0,
            problems: Vec::new(),
        }
    }

    /// The plan for a new store: the run's fault counts shifted by what earlier stores used.
    fn store_plan(&self) -> FaultPlan {
        let shift =
            |n: Option<u64>, used: u64| n.and_then(|n| n.checked_sub(used)).filter(|&n| n > 0);
        let mut plan = self.options.faults.clone();
        plan.fail_sync = shift(plan.fail_sync, self.used_syncs);
        plan.fail_write = plan.fail_write.and_then(|mut f| {
            f.nth = shift(Some(f.nth), self.used_writes)?;
            Some(f)
        });
        plan.elide_syncs = true;
        plan.observer = Some(self.recorder.observer());
        plan
    }

    fn close(&mut self) {
        if let Some(mut wal) = self.wal.take() {
            let stats = wal.fs_stats();
            self.used_syncs += stats.syncs + stats.sync_datas;
            self.used_writes += stats.writes;
        }
    }

    fn open(&mut self, fuel: Option<u64>) -> Result<(), HostError> {
        self.close();
        let options = OpenOptions {
            faults: self.store_plan(),
            fuel,
        };
        let wal = self
            .rt
            .open_with_options(self.dir, self.config.clone(), options)?;
        self.wal = Some(wal);
        Ok(())
    }

    fn wal(&mut self) -> &mut ComponentWal {
        self.wal.as_mut().expect("the log is open")
    }

    /// Runs operation `k`; returns whether it failed.
    fn step(&mut self, k: usize, op: &Op) -> Result<bool, HostError> {
        let start = self.recorder.len();
        let epoch_before = self.epochs.len() - 1;
        let fuel_stop = self
            .options
            .fuel_stop
            .filter(|&(i, _)| i == k)
            .map(|(_, b)| b);
        if let (Some(budget), Some(wal)) = (fuel_stop, self.wal.as_mut()) {
            wal.set_fuel(budget)?;
        }
        let fuel_before = self.wal.as_ref().and_then(ComponentWal::fuel);
        let mut truncate = None;
        let result = match op {
            Op::Open | Op::Reopen => self.open(fuel_stop),
            Op::Append(data) => {
                self.appending(std::slice::from_ref(data), |w| w.append(data).map(drop))
            }
            Op::Batch(entries) => self.appending(entries, |w| w.append_batch(entries).map(drop)),
            Op::Sync => self.wal().sync().map(drop),
            Op::Rotate => self.wal().rotate(),
            Op::Checkpoint(pm) => self.checkpoint(*pm),
            Op::TruncateAfter(pm) => self.truncate(*pm, &mut truncate),
            // One op record per group commit: its own bookkeeping.
            Op::Concurrent(producers) => return self.concurrent(producers),
        };
        let opened = matches!(op, Op::Open | Op::Reopen);
        let fuel = match (fuel_before, self.wal.as_ref().and_then(ComponentWal::fuel)) {
            (Some(before), Some(after)) if fuel_stop.is_none() && !opened => {
                before.checked_sub(after)
            }
            _ => None,
        };
        let error = match result {
            Ok(()) => None,
            Err(HostError::Setup(e)) => return Err(HostError::Setup(e)),
            Err(e) => Some(e.to_string()),
        };
        self.observe(truncate.is_some() && error.is_none());
        self.history.ops.push(OpRecord {
            op: op.to_string(),
            start,
            end: self.recorder.len(),
            error: error.clone(),
            acked: self.acked,
            issued: self.issued,
            epoch_before,
            epoch: self.epochs.len() - 1,
            truncate,
            max_first: self.max_first,
            fuel,
        });
        Ok(error.is_some())
    }

    /// Runs an append of `entries`: their payloads join the epoch at the LSNs they get
    /// (all of them while in flight; those the guest did not assign are dropped after).
    fn appending(
        &mut self,
        entries: &[Vec<u8>],
        call: impl FnOnce(&mut ComponentWal) -> Result<(), HostError>,
    ) -> Result<(), HostError> {
        let next = self.wal().next_lsn()?.0;
        let epoch = self.epochs.last_mut().expect("an epoch");
        epoch.truncate(next as usize - 1);
        epoch.extend(entries.iter().map(|e| Arc::from(&e[..])));
        self.issued = self.issued.max(next - 1 + entries.len() as u64);
        call(self.wal())
    }

    /// The first LSN and the distance to the last, or `None` when the log is empty.
    fn span(&mut self) -> Result<Option<(u64, u64)>, HostError> {
        let (first, last) = (self.wal().first_lsn()?, self.wal().last_lsn()?);
        Ok(first.zip(last).map(|(f, l)| (f.0, l.0 - f.0)))
    }

    fn checkpoint(&mut self, pm: u16) -> Result<(), HostError> {
        let applied = match self.span()? {
            Some((first, span)) => first - 1 + (span + 1) * u64::from(pm) / 1000,
            None => 0,
        };
        self.max_first = self.max_first.max(applied + 1);
        self.wal().checkpoint(Lsn(applied)).map(drop)
    }

    fn truncate(&mut self, pm: u16, truncate: &mut Option<u64>) -> Result<(), HostError> {
        let Some((first, span)) = self.span()? else {
            return Ok(());
        };
        let lsn = first + span * u64::from(pm) / 1000;
        let epoch = self.epochs.last().expect("an epoch");
        let kept = epoch[..epoch.len().min(lsn as usize)].to_vec();
        self.epochs.push(kept);
        *truncate = Some(lsn);
        self.wal().truncate_after(Lsn(lsn))
    }

    /// Reads what the guest now acknowledges.
    fn observe(&mut self, truncated: bool) {
        let Some(wal) = self.wal.as_mut().filter(|w| !w.is_dead()) else {
            return;
        };
        let (Ok(durable), Ok(next)) = (wal.durable_lsn(), wal.next_lsn()) else {
            return;
        };
        let last = next.0 - 1;
        self.acked = durable.0;
        self.issued = if truncated {
            last
        } else {
            self.issued.max(last)
        };
    }

    /// Runs a burst of concurrent producers: one op record per group commit (a crash
    /// after its events keeps its entries), one ack per producer call.
    fn concurrent(&mut self, producers: &[Calls]) -> Result<bool, HostError> {
        let wal = self.wal.take().expect("the log is open");
        let (wal, burst) = match &self.options.schedule {
            Some(schedule) => producers::run_schedule(
                wal,
                &self.recorder,
                producers,
                schedule,
                &mut self.next_group,
            )?,
            None => producers::run_threads(wal, self.dir, &self.recorder, producers)?,
        };
        self.wal = Some(wal);
        let epoch = self.epochs.len() - 1;
        let mut failed = false;
        for group in &burst.groups {
            if let Ok(range) = &group.result {
                let payloads = self.epochs.last_mut().expect("an epoch");
                payloads.truncate(range.start.0 as usize - 1);
                payloads.extend(group.entries.iter().cloned());
                self.issued = self.issued.max(range.end.0 - 1);
            }
            self.acked = group.durable;
            failed |= group.result.is_err();
            self.history.ops.push(OpRecord {
                op: format!("group commit of {} entries", group.entries.len()),
                start: group.start,
                end: group.end,
                error: group.result.clone().err(),
                acked: self.acked,
                issued: self.issued,
                epoch_before: epoch,
                epoch,
                truncate: None,
                max_first: self.max_first,
                fuel: None,
            });
        }
        self.note_acks(producers, &burst);
        self.schedule
            .get_or_insert_with(Vec::new)
            .extend(burst.schedule.0);
        Ok(failed)
    }

    /// Records what each producer was told, and checks it against the groups: its LSNs
    /// inside one group, its own entries at them.
    fn note_acks(&mut self, producers: &[Calls], burst: &producers::Burst) {
        let payloads = self.epochs.last().expect("an epoch");
        for (p, (acks, calls)) in burst.acks.iter().zip(producers).enumerate() {
            for (ack, call) in acks.iter().zip(calls) {
                let Ok(range) = ack else { continue };
                let group = burst.groups.iter().find(|g| {
                    g.result
                        .as_ref()
                        .is_ok_and(|r| r.start <= range.start && range.end <= r.end)
                });
                let at = |lsn: u64| payloads.get(lsn as usize - 1);
                let own = (range.start.0..range.end.0)
                    .zip(call)
                    .all(|(lsn, data)| at(lsn).is_some_and(|d| d[..] == data[..]));
                match group {
                    Some(g) if own && range.end.0 - range.start.0 == call.len() as u64 => {
                        self.history.acks.push(Ack {
                            producer: p,
                            first: range.start.0,
                            last: range.end.0 - 1,
                            by_event: g.end,
                        });
                    }
                    _ => self.problems.push(format!(
                        "producer {p} was told LSNs {}..{} for its {} entries, which no group carried as its own",
                        range.start.0,
                        range.end.0,
                        call.len()
                    )),
                }
            }
        }
    }

    fn finish(self) -> History {
        let mut history = self.history;
        history.epochs = self.epochs.into_iter().map(Arc::new).collect();
        history
    }
}
