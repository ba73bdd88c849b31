//! Several producers on one log: threads appending at once through a shared log over the
//! component (group commit), the crash states of their recorded run, and the replay of
//! their group commits.

use std::collections::HashSet;
use std::sync::Arc;

use walogs::Durability;
use walogs_crash::{
    Case, Executor, Fault, FsModel, Op, PowerLoss, RunOptions, Verdict, Workload, run,
};
use walogs_host::{Runtime, RuntimeOptions};
use walogs_testkit::mutants::{self, Mutant};

/// The first multi-producer workload with `durability`.
fn concurrent_seed(durability: Durability) -> u64 {
    (0..10_000)
        .find(|&s| {
            let w = Workload::generate(s);
            w.is_concurrent() && w.config.durability == durability
        })
        .expect("a multi-producer workload")
}

/// Producer calls in the workload.
fn calls(workload: &Workload) -> usize {
    let bursts = workload.ops.iter().filter_map(|op| match op {
        Op::Concurrent(producers) => Some(producers.iter().map(Vec::len).sum::<usize>()),
        _ => None,
    });
    bursts.sum()
}

#[test]
fn a_multi_producer_run_replays_exactly_from_its_schedule() {
    let rt = walogs_testkit::fueled_runtime();
    let workload = Workload::generate(concurrent_seed(Durability::Always));
    let tmp = tempfile::tempdir().unwrap();
    let threads = run(rt, &tmp.path().join("a"), &workload, &RunOptions::default()).unwrap();
    assert!(threads.problems.is_empty(), "{:?}", threads.problems);
    assert!(threads.history.ops.iter().all(|o| o.error.is_none()));
    let schedule = threads.schedule.clone().expect("the run's group commits");
    eprintln!("{} — groups {schedule}", workload.describe());
    // Every producer call was acknowledged, each before a known trace event, and the log's
    // expectation after that event keeps it.
    assert_eq!(threads.history.acks.len(), calls(&workload));
    for ack in &threads.history.acks {
        for p in ack.by_event..=threads.events.len() {
            assert!(
                threads.history.expect_at(p).acked >= ack.last,
                "{ack:?} at {p}"
            );
        }
    }
    let options = RunOptions {
        schedule: Some(schedule.clone()),
        ..RunOptions::default()
    };
    let again = run(rt, &tmp.path().join("b"), &workload, &options).unwrap();
    assert_eq!(again.events, threads.events);
    assert_eq!(again.history.acks, threads.history.acks);
    assert_eq!(again.schedule, Some(schedule));
}

/// Checks up to `limit` distinct states of the multi-producer workload `seed` on `rt` — a
/// process crash, a power loss (plain, directory prefixes, torn writes) and up to 16
/// out-of-order losses after every event — and returns (states, violations).
fn sweep(rt: &Runtime, seed: u64, limit: usize) -> (usize, Vec<String>) {
    let mut exec = Executor::new(rt).unwrap();
    let rec = exec.recorded(seed).unwrap();
    assert!(rec.run.problems.is_empty(), "{:?}", rec.run.problems);
    let schedule = rec.run.schedule.clone().map(Arc::new);
    let events = &rec.run.events;
    let (mut seen, mut bad) = (HashSet::new(), Vec::new());
    for at in 0..=events.len() {
        let model = FsModel::replay(&rec.run.initial, &events[..at]);
        let mut faults = vec![
            Fault::Crash { at },
            Fault::Power {
                at,
                variant: PowerLoss::Durable,
            },
        ];
        for variant in model.power_loss_variants() {
            faults.push(Fault::Power { at, variant });
        }
        let n = model.page_bits().len().min(4);
        for mask in 1..1u64 << n {
            let variant = PowerLoss::Pages { mask };
            faults.push(Fault::Power { at, variant });
        }
        for fault in faults {
            let case = Case {
                workload: seed,
                fault,
                recovery: None,
                schedule: schedule.clone(),
            };
            let Some(state) = exec.state(&case).unwrap() else {
                continue;
            };
            if seen.len() >= limit || !seen.insert(state.digest()) {
                continue;
            }
            if let Verdict::Violation(seen, why) = exec.check(&state, &rec.workload).unwrap() {
                bad.push(format!("{case}: {why} ({})", seen.describe()));
            }
        }
    }
    (seen.len(), bad)
}

#[test]
fn every_crash_state_of_several_producers_keeps_what_they_were_told() {
    for durability in [Durability::Always, Durability::Explicit] {
        let seed = concurrent_seed(durability);
        let (states, bad) = sweep(walogs_testkit::fueled_runtime(), seed, 400);
        eprintln!("{durability:?}: workload {seed}, {states} states");
        assert!(states > 50, "only {states} states");
        assert!(bad.is_empty(), "{bad:#?}");
    }
}

/// The same states catch a guest that acknowledges group commits it never synced.
#[test]
fn several_producers_on_a_guest_that_skips_the_fdatasync_are_flagged() {
    let wasm = mutants::build(&mutants::workspace_root(), Mutant::SkipFdatasync).unwrap();
    let options = RuntimeOptions {
        fuel: true,
        ..RuntimeOptions::default()
    };
    let rt = Runtime::from_file_with_options(&wasm, options).unwrap();
    let (states, bad) = sweep(&rt, concurrent_seed(Durability::Always), 400);
    eprintln!(
        "{states} states, {} violations: {:?}",
        bad.len(),
        bad.first()
    );
    assert!(!bad.is_empty(), "skip-fdatasync passed {states} states");
}

/// A case of a multi-producer workload names the run's group commits: replayed alone (a
/// fresh executor, so the workload is run again), it rebuilds exactly the same state.
#[test]
fn a_multi_producer_case_replays_to_the_same_state() {
    let rt = walogs_testkit::fueled_runtime();
    let seed = concurrent_seed(Durability::Explicit);
    let mut exec = Executor::new(rt).unwrap();
    let rec = exec.recorded(seed).unwrap();
    let schedule = rec.run.schedule.clone().map(Arc::new);
    // The first out-of-order loss past two thirds of the run.
    let from = rec.run.events.len() * 2 / 3;
    let at = (from..=rec.run.events.len())
        .find(|&at| {
            let model = FsModel::replay(&rec.run.initial, &rec.run.events[..at]);
            !model.page_bits().is_empty()
        })
        .expect("unsynced pages somewhere");
    let case = Case {
        workload: seed,
        fault: Fault::Power {
            at,
            variant: PowerLoss::Pages { mask: 1 },
        },
        recovery: None,
        schedule,
    };
    let text = case.to_string();
    let state = exec.state(&case).unwrap().expect("the state exists");
    let parsed: Case = text.parse().unwrap();
    assert_eq!(parsed, case);
    let replayed = walogs_crash::replay(rt, &parsed, None).unwrap();
    let again = replayed.state.expect("the replayed state exists");
    assert_eq!(again.digest(), state.digest(), "{text}");
    assert!(matches!(replayed.verdict, Some(Verdict::Pass(_))), "{text}");
}
