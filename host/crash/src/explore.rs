//! The sweep: seeded workloads, a quota of distinct states per fault class, the oracle on
//! each, and a report.

use std::collections::HashSet;
use std::time::Instant;

use super::case::{Case, Class};
use super::describe;
use super::enumerate;
use super::oracle::Verdict;
use super::report::{Report, Violation};
use super::rng::{self, Rng};
use super::runner::{Executor, Recorded, State};
use walogs_host::{HostError, Runtime};

/// How a sweep runs.
#[derive(Debug, Clone)]
pub struct ExploreOptions {
    /// The seed every workload and every sample derives from.
    pub seed: u64,
    /// Distinct crash states to check, over all classes.
    pub states: u64,
    /// The classes to explore (`Class::Workload` is always counted).
    pub classes: Vec<Class>,
    /// Stop after this many violations.
    pub stop_after: Option<u64>,
    /// The command that replays a case, up to `--replay` (e.g. `walogs crash-test`).
    pub replay_command: String,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            states: 2_400,
            classes: Class::ALL.to_vec(),
            stop_after: None,
            replay_command: "walogs crash-test".into(),
        }
    }
}

/// Where a sweep is, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// States checked so far.
    pub done: u64,
    /// States the sweep aims for.
    pub total: u64,
    /// The class being explored.
    pub class: Class,
    /// Violations so far.
    pub violations: u64,
}

/// Each class's share of the states, in per cent.
fn weight(class: Class) -> u64 {
    match class {
        Class::Workload => 0,
        Class::ProcessCrash => 18,
        Class::Fuel => 5,
        Class::PowerLoss => 13,
        Class::TornWrite => 18,
        Class::OutOfOrder => 14,
        Class::IoError => 10,
        Class::Damage => 13,
        Class::RecoveryCrash => 9,
    }
}

/// Explores crash states of `rt`'s component until `options.states` distinct states were
/// checked (or the workloads run out), calling `progress` after each.
pub fn explore(
    rt: &Runtime,
    options: &ExploreOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, HostError> {
    let started = Instant::now();
    let mut classes: Vec<Class> = options
        .classes
        .iter()
        .copied()
        .filter(|&c| c != Class::Workload)
        .collect();
    if !rt.options().fuel {
        classes.retain(|&c| c != Class::Fuel);
    }
    classes.sort();
    classes.dedup();
    let mut all = vec![Class::Workload];
    all.extend(&classes);
    let mut report = Report::new(options.seed, options.states, &all);
    let quotas = quotas(&classes, options.states);
    let quota = |c: Class| quotas.iter().find(|(k, _)| *k == c).map_or(0, |&(_, q)| q);
    let total: u64 = quotas.iter().map(|&(_, q)| q).sum();
    let mut exec = Executor::new(rt)?;
    let mut seen = HashSet::new();
    let max_workloads = 10 + options.states / 20;
    let stop = |r: &Report| options.stop_after.is_some_and(|n| r.violation_count >= n);
    for w in 0..max_workloads {
        let seed = rng::derive(options.seed, w);
        let rec = exec.recorded(seed)?;
        report.count(Class::Workload, workload_violation(&rec, options));
        report.problems.extend(
            rec.run
                .problems
                .iter()
                .map(|p| format!("workload {seed}: {p}")),
        );
        let mut rng = Rng::new(rng::derive(seed, 1));
        for &class in &classes {
            let have = report.row(class).map_or(0, |r| r.states);
            let want = quota(class).saturating_sub(have);
            if want == 0 || stop(&report) {
                continue;
            }
            let cap = want.min((quota(class) / 5).max(5));
            let mut cases = candidates(&mut exec, class, &rec, &mut rng)?;
            rng.shuffle(&mut cases);
            let (mut taken, mut tries) = (0, 0);
            for case in cases {
                if taken >= cap || tries >= cap * 20 || stop(&report) {
                    break;
                }
                tries += 1;
                let Some(state) = exec.state(&case)? else {
                    continue;
                };
                if !seen.insert(state.digest()) {
                    continue;
                }
                let verdict = exec.check(&state, &rec.workload)?;
                report.count(class, violation(&case, &state, &verdict, options));
                taken += 1;
                let done = report.states;
                progress(Progress {
                    done,
                    total,
                    class,
                    violations: report.violation_count,
                });
            }
        }
        let full = classes
            .iter()
            .all(|&c| report.row(c).is_some_and(|r| r.states >= quota(c)));
        if full || stop(&report) {
            break;
        }
    }
    report.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The cases of `class` the recorded workload offers.
fn candidates(
    exec: &mut Executor<'_>,
    class: Class,
    rec: &Recorded,
    rng: &mut Rng,
) -> Result<Vec<Case>, HostError> {
    if class != Class::RecoveryCrash {
        return Ok(enumerate::cases(class, rec, rng));
    }
    let mut out = Vec::new();
    for base in enumerate::recovery_bases(rec, rng, 6) {
        if let Some(events) = exec.recovery_len(&base)? {
            out.extend(enumerate::recovery_cases(&base, events));
        }
    }
    Ok(out)
}

/// A clean run that failed an operation or that the trace cannot explain.
fn workload_violation(rec: &Recorded, options: &ExploreOptions) -> Option<Violation> {
    let history = &rec.run.history;
    let failed = history
        .ops
        .iter()
        .enumerate()
        .find(|(_, o)| o.error.is_some());
    let reason = match (failed, rec.run.problems.first()) {
        (Some((i, op)), _) => format!(
            "op {i} ({}) failed without any fault: {}",
            op.op,
            op.error.clone().unwrap_or_default()
        ),
        (None, Some(problem)) => problem.clone(),
        (None, None) => return None,
    };
    let seed = rec.workload.seed;
    Some(Violation {
        case: format!("{seed}:crash@{}", rec.run.events.len()),
        class: Class::Workload,
        seed,
        fault: "none (the clean run)".into(),
        crash_point: rec.workload.describe(),
        expected: "every operation succeeds".into(),
        observed: format!("{} ops run", history.ops.len()),
        reason,
        replay: format!(
            "{} --replay '{seed}:crash@{}'",
            options.replay_command,
            rec.run.events.len()
        ),
    })
}

/// The violation in `verdict`, if it is one.
fn violation(
    case: &Case,
    state: &State,
    verdict: &Verdict,
    options: &ExploreOptions,
) -> Option<Violation> {
    let Verdict::Violation(observed, reason) = verdict else {
        return None;
    };
    Some(Violation {
        case: case.to_string(),
        class: case.class(),
        seed: case.workload,
        fault: describe::fault(case),
        crash_point: state.point.clone(),
        expected: state.expect.describe(),
        observed: observed.describe(),
        reason: reason.clone(),
        replay: format!("{} --replay '{case}'", options.replay_command),
    })
}

/// The outcome of one case replayed alone.
#[derive(Debug, Clone)]
pub struct Replayed {
    /// The workload, in words.
    pub workload: String,
    /// The fault, in words.
    pub fault: String,
    /// The state (`None` when the case does not apply to its workload).
    pub state: Option<State>,
    /// The oracle's verdict on it.
    pub verdict: Option<Verdict>,
    /// The trace up to the crash (see [`Executor::trace`]).
    pub trace: Vec<String>,
}

/// Replays exactly `case`; with `keep`, also writes its state there.
pub fn replay(
    rt: &Runtime,
    case: &Case,
    keep: Option<&std::path::Path>,
) -> Result<Replayed, HostError> {
    let mut exec = Executor::new(rt)?;
    let rec = exec.recorded_for(case)?;
    let state = exec.state(case)?;
    let verdict = match &state {
        Some(state) => {
            if let Some(dir) = keep {
                exec.keep(state, dir)?;
            }
            Some(exec.check(state, &rec.workload)?)
        }
        None => None,
    };
    let trace = exec.trace(case)?;
    Ok(Replayed {
        trace,
        workload: rec.workload.describe(),
        fault: describe::fault(case),
        state,
        verdict,
    })
}

/// Splits `states` among `classes` by their weights, exactly: the shares rounded down,
/// then one more state each for the classes with the largest remainders.
fn quotas(classes: &[Class], states: u64) -> Vec<(Class, u64)> {
    let total_weight: u64 = classes.iter().map(|&c| weight(c)).sum::<u64>().max(1);
    let mut shares: Vec<(Class, u64, u64)> = classes
        .iter()
        .map(|&c| {
            let exact = u128::from(states) * u128::from(weight(c));
            let base = (exact / u128::from(total_weight)) as u64;
            let rest = (exact % u128::from(total_weight)) as u64;
            (c, base, rest)
        })
        .collect();
    let given: u64 = shares.iter().map(|&(_, base, _)| base).sum();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(shares[i].2));
    let left = usize::try_from(states.saturating_sub(given)).unwrap_or(usize::MAX);
    for &i in order.iter().take(left) {
        shares[i].1 += 1;
    }
    shares.into_iter().map(|(c, q, _)| (c, q)).collect()
}

#[cfg(test)]
mod quota_tests {
    use super::*;

    #[test]
    fn the_quotas_add_up_to_exactly_the_states_asked_for() {
        let classes: Vec<Class> = Class::ALL
            .into_iter()
            .filter(|&c| c != Class::Workload)
            .collect();
        for states in [0, 1, 7, 49, 50, 51, 999, 2_400, 50_000] {
            for n in 1..=classes.len() {
                let q = quotas(&classes[..n], states);
                assert_eq!(
                    q.iter().map(|&(_, q)| q).sum::<u64>(),
                    states,
                    "{states} over {n}"
                );
            }
        }
    }
}
