//! Turns a [`Case`] into a directory on disk and runs the oracle on it.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::case::{Case, DamageKind, Fault, Then};
use super::describe;
use super::driver::{self, Run, RunOptions};
use super::frames;
use super::history::{Damaged, Expect};
use super::image::Image;
use super::model::{FsModel, PowerLoss};
use super::oracle::{self, Verdict};
use super::producers::Schedule;
use super::trace::FsEvent;
use super::workload::Workload;
use walogs_host::interpose::FaultPlan;
use walogs_host::{HostError, Runtime};

/// A workload and its recorded clean run.
#[derive(Debug)]
pub struct Recorded {
    /// The workload.
    pub workload: Workload,
    /// Its run.
    pub run: Run,
}

/// A state ready for the oracle.
#[derive(Debug, Clone)]
pub struct State {
    /// What the directory holds.
    pub image: Image,
    /// What recovery must make of it.
    pub expect: Expect,
    /// Where in the workload the crash happened, for messages.
    pub point: String,
}

impl State {
    /// A digest of the image and the expectation: equal digests are the same state.
    pub fn digest(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.image.digest().hash(&mut hasher);
        self.expect.digest().hash(&mut hasher);
        hasher.finish()
    }
}

/// Runs cases: records workloads (once each), builds states, runs the oracle. Works in a
/// scratch directory (on tmpfs when there is one: nothing here needs a real disk).
pub struct Executor<'a> {
    rt: &'a Runtime,
    scratch: tempfile::TempDir,
    next_dir: u64,
    runs: HashMap<(u64, Option<Schedule>), Rc<Recorded>>,
    recoveries: HashMap<(u64, Fault), Rc<Vec<FsEvent>>>,
}

impl<'a> Executor<'a> {
    /// An executor for `rt`'s component.
    pub fn new(rt: &'a Runtime) -> Result<Self, HostError> {
        let shm = Path::new("/dev/shm");
        let builder = tempfile::Builder::new()
            .prefix("walogs-crash-")
            .tempdir_in(shm);
        let scratch = match builder {
            Ok(dir) => dir,
            Err(_) => tempfile::Builder::new()
                .prefix("walogs-crash-")
                .tempdir()
                .map_err(io_err)?,
        };
        Ok(Self {
            rt,
            scratch,
            next_dir: 0,
            runs: HashMap::new(),
            recoveries: HashMap::new(),
        })
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        self.rt
    }

    fn fresh_dir(&mut self) -> PathBuf {
        self.next_dir += 1;
        self.scratch.path().join(self.next_dir.to_string())
    }

    /// The recorded clean run of workload `seed` (recorded on first use).
    pub fn recorded(&mut self, seed: u64) -> Result<Rc<Recorded>, HostError> {
        self.recorded_as(seed, None)
    }

    /// The recorded run `case` comes from: for a multi-producer workload, one that made
    /// the case's group commits.
    pub fn recorded_for(&mut self, case: &Case) -> Result<Rc<Recorded>, HostError> {
        self.recorded_as(case.workload, case.schedule.as_deref())
    }

    fn recorded_as(
        &mut self,
        seed: u64,
        schedule: Option<&Schedule>,
    ) -> Result<Rc<Recorded>, HostError> {
        let key = (seed, schedule.cloned());
        if let Some(rec) = self.runs.get(&key) {
            return Ok(Rc::clone(rec));
        }
        let workload = Workload::generate(seed);
        let options = RunOptions {
            schedule: schedule.cloned(),
            ..RunOptions::default()
        };
        let run = self.live(&workload, &options)?;
        let rec = Rc::new(Recorded { workload, run });
        if let (None, Some(made)) = (schedule, &rec.run.schedule) {
            // The threads' run is also the run of the groups it made.
            self.runs
                .insert((seed, Some(made.clone())), Rc::clone(&rec));
        }
        self.runs.insert(key, Rc::clone(&rec));
        Ok(rec)
    }

    /// Runs `workload` with `options` in a fresh directory.
    fn live(&mut self, workload: &Workload, options: &RunOptions) -> Result<Run, HostError> {
        let dir = self.fresh_dir();
        let run = driver::run(self.rt, &dir, workload, options);
        let _ = std::fs::remove_dir_all(&dir);
        run
    }

    /// The state `case` leaves, or `None` when the case does not apply to its workload.
    pub fn state(&mut self, case: &Case) -> Result<Option<State>, HostError> {
        if matches!(case.fault, Fault::Io { .. } | Fault::Fuel { .. }) {
            let rec = self.recorded_for(case)?;
            return self.live_state(&rec.workload, case).map(Some);
        }
        let Some((rec, model, state)) = self.base(case)? else {
            return Ok(None);
        };
        let Some(rc) = case.recovery else {
            return Ok(Some(state));
        };
        let recovery = self.recovery_trace(case, &model, &state.image, &rec.workload)?;
        if rc.at > recovery.len() {
            return Ok(None);
        }
        let mut model = model;
        for event in &recovery[..rc.at] {
            model.apply(event);
        }
        let image = match rc.then {
            Then::Crash => model.process_crash(),
            Then::Power => model.power_loss(&PowerLoss::Durable).unwrap_or_default(),
        };
        let point = format!(
            "{}; then recovery, crashed after {} of its {} events",
            state.point,
            rc.at,
            recovery.len()
        );
        Ok(Some(State {
            image,
            expect: state.expect,
            point,
        }))
    }

    /// How many events recovering the state of `base` takes (`None` when `base` does not
    /// apply to its workload).
    pub fn recovery_len(&mut self, base: &Case) -> Result<Option<usize>, HostError> {
        let Some((rec, model, state)) = self.base(base)? else {
            return Ok(None);
        };
        Ok(Some(
            self.recovery_trace(base, &model, &state.image, &rec.workload)?
                .len(),
        ))
    }

    /// The state of a replayed (not live) fault, with the model a recovery of it starts
    /// from: the crashed model itself after a process crash, the state's image (all of it
    /// durable) after a power loss or damage.
    fn base(&mut self, case: &Case) -> Result<Option<(Rc<Recorded>, FsModel, State)>, HostError> {
        let rec = self.recorded_for(case)?;
        let (history, events) = (&rec.run.history, &rec.run.events);
        let at = match &case.fault {
            Fault::Crash { at } | Fault::Power { at, .. } | Fault::Damage { at, .. } => *at,
            Fault::Io { .. } | Fault::Fuel { .. } => return Ok(None),
        };
        if at > events.len() {
            return Ok(None);
        }
        let model = FsModel::replay(&rec.run.initial, &events[..at]);
        let mut expect = history.expect_at(at);
        let mut point = describe::point(&rec, at);
        let (model, image) = match &case.fault {
            Fault::Power { variant, .. } => {
                let Some(image) = model.power_loss(variant) else {
                    return Ok(None);
                };
                if let PowerLoss::Pages { mask } = variant {
                    point += &format!("; {}", model.describe_pages(*mask));
                }
                (FsModel::from_image(&image), image)
            }
            Fault::Damage { file, kind, .. } => {
                let mut image = model.process_crash();
                let Some(damaged) = damage(&mut image, file, *kind) else {
                    return Ok(None);
                };
                expect.damage = Some(damaged);
                (FsModel::from_image(&image), image)
            }
            _ => {
                let image = model.process_crash();
                (model, image)
            }
        };
        Ok(Some((
            Rc::clone(&rec),
            model,
            State {
                image,
                expect,
                point,
            },
        )))
    }

    /// The events of recovering the state of `case` (without its recovery crash).
    fn recovery_trace(
        &mut self,
        case: &Case,
        model: &FsModel,
        image: &Image,
        workload: &Workload,
    ) -> Result<Rc<Vec<FsEvent>>, HostError> {
        let key = (case.workload, case.fault.clone());
        if let Some(events) = self.recoveries.get(&key) {
            return Ok(Rc::clone(events));
        }
        let dir = self.fresh_dir();
        image.write_to(&dir).map_err(io_err)?;
        let recorder = model.recorder();
        let result = driver::recover(self.rt, &dir, &workload.config, recorder.clone());
        let _ = std::fs::remove_dir_all(&dir);
        result?;
        let events = Rc::new(recorder.events());
        self.recoveries.insert(key, Rc::clone(&events));
        Ok(events)
    }

    /// Runs a live case (an injected I/O fault or a fuel stop) and returns its end state.
    fn live_state(&mut self, workload: &Workload, case: &Case) -> Result<State, HostError> {
        let (options, then) = match &case.fault {
            Fault::Io { write, sync, then } => {
                let faults = FaultPlan {
                    fail_sync: (*sync > 0).then_some(*sync),
                    fail_write: *write,
                    ..FaultPlan::default()
                };
                (
                    RunOptions {
                        faults,
                        follow_up: true,
                        ..RunOptions::default()
                    },
                    *then,
                )
            }
            Fault::Fuel { op, budget } => {
                let options = RunOptions {
                    fuel_stop: Some((*op, *budget)),
                    ..RunOptions::default()
                };
                (options, Then::Crash)
            }
            _ => unreachable!("only live faults"),
        };
        let run = self.live(workload, &options)?;
        let model = FsModel::replay(&run.initial, &run.events);
        let image = match then {
            Then::Crash => model.process_crash(),
            Then::Power => model.power_loss(&PowerLoss::Durable).unwrap_or_default(),
        };
        let last = run.history.ops.last();
        let point = match last {
            Some(op) => format!(
                "run stopped in op {} ({}){}",
                run.history.ops.len() - 1,
                op.op,
                op.error
                    .as_ref()
                    .map_or(String::new(), |e| format!(": {e}"))
            ),
            None => "before the first op".into(),
        };
        Ok(State {
            image,
            expect: run.history.expect_end(),
            point,
        })
    }

    /// Writes `state` to a fresh directory and runs the oracle on it.
    pub fn check(&mut self, state: &State, workload: &Workload) -> Result<Verdict, HostError> {
        let dir = self.fresh_dir();
        state.image.write_to(&dir).map_err(io_err)?;
        let verdict = oracle::check(self.rt, &dir, &workload.config, &state.expect);
        let _ = std::fs::remove_dir_all(&dir);
        verdict
    }

    /// The trace of `case` for a person: the workload's operations with their events up to
    /// the crash point, then the events of the recovery when the case crashes it.
    pub fn trace(&mut self, case: &Case) -> Result<Vec<String>, HostError> {
        let rec = self.recorded_for(case)?;
        let at = match &case.fault {
            Fault::Crash { at } | Fault::Power { at, .. } | Fault::Damage { at, .. } => *at,
            Fault::Io { .. } | Fault::Fuel { .. } => rec.run.events.len(),
        };
        let mut lines = Vec::new();
        for (i, op) in rec.run.history.ops.iter().enumerate() {
            if op.start > at {
                break;
            }
            lines.push(format!(
                "op {i}: {} -> A={} I={}",
                op.op, op.acked, op.issued
            ));
            for e in op.start..op.end.min(at) {
                lines.push(format!(
                    "  #{:<4} {}",
                    e + 1,
                    describe::event(&rec.run.events[e])
                ));
            }
        }
        lines.push(format!("-- crash after event {at}"));
        if let (Some(rc), Some((rec, model, state))) = (case.recovery, self.base(case)?) {
            let events = self.recovery_trace(case, &model, &state.image, &rec.workload)?;
            lines.push("recovery:".into());
            for (i, e) in events.iter().enumerate().take(rc.at) {
                lines.push(format!("  #{:<4} {}", i + 1, describe::event(e)));
            }
            lines.push(format!("-- recovery crashed after event {}", rc.at));
        }
        Ok(lines)
    }

    /// Writes `state` under `dir` (for a person to look at).
    pub fn keep(&self, state: &State, dir: &Path) -> Result<(), HostError> {
        state.image.write_to(dir).map_err(io_err)
    }
}

fn io_err(e: std::io::Error) -> HostError {
    HostError::io("crash explorer scratch directory", e)
}

/// Damages `file` in `image`; returns which entries the damage hit, or `None` when the
/// damage falls outside the file.
fn damage(image: &mut Image, file: &str, kind: DamageKind) -> Option<Damaged> {
    let last_log = image
        .files
        .keys()
        .filter(|n| frames::is_log_file(n))
        .max()?
        .clone();
    let bytes = image.files.get_mut(file)?;
    let original = bytes.clone();
    let (lo, hi) = match kind {
        DamageKind::BitFlip { offset, bit } => {
            let byte = bytes.get_mut(usize::try_from(offset).ok()?)?;
            *byte ^= 1 << (bit & 7);
            (offset, offset + 1)
        }
        DamageKind::ZeroSector { sector } => {
            let lo = sector * 512;
            let hi = (lo + 512).min(bytes.len() as u64);
            if lo >= hi {
                return None;
            }
            bytes[lo as usize..hi as usize].fill(0);
            (lo, hi)
        }
    };
    let lsns = frames::frames(&original)
        .into_iter()
        .filter(|&(_, start, end)| (start as u64) < hi && lo < end as u64)
        .map(|(lsn, _, _)| lsn)
        .collect();
    Some(Damaged {
        in_last_segment: file == last_log,
        lsns,
    })
}
