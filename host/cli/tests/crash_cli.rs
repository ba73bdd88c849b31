//! `walogs crash-test` on the command line: the summary, JSON, exit codes, and a printed
//! replay command that reproduces its violation.

use std::process::{Command, Output};

use walogs_testkit::mutants::{self, Mutant};

fn walogs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_walogs"))
        .args(args)
        .output()
        .expect("walogs runs")
}

#[test]
fn a_clean_sweep_exits_zero_with_a_table_per_class() {
    let out = walogs(&["crash-test", "--seed", "5", "--states", "120"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for class in [
        "process-crash",
        "power-loss",
        "torn-write",
        "out-of-order",
        "io-error",
        "damage",
    ] {
        assert!(text.contains(class), "{class} missing from:\n{text}");
    }

    let out = walogs(&[
        "crash-test",
        "--json",
        "--states",
        "40",
        "--classes",
        "power-loss",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["violation_count"], 0);
    assert!(report["states"].as_u64().unwrap() >= 30, "{report}");

    let out = walogs(&["crash-test", "--replay", "not-a-case"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_sweep_checks_exactly_the_number_of_states_asked_for() {
    for states in ["50", "51"] {
        let out = walogs(&["crash-test", "--json", "--seed", "5", "--states", states]);
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("one JSON object");
        assert_eq!(out.status.code(), Some(0), "{report}");
        assert_eq!(report["states"].to_string(), states, "{report}");
    }
}

#[test]
fn a_mutant_fails_the_sweep_and_its_replay_command_reproduces_the_violation() {
    let wasm = mutants::build(&mutants::workspace_root(), Mutant::SkipFdatasync).unwrap();
    let wasm = wasm.to_str().unwrap();
    let out = walogs(&[
        "--component",
        wasm,
        "crash-test",
        "--states",
        "60",
        "--classes",
        "power-loss",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let replay = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay:   walogs "))
        .unwrap_or_else(|| panic!("no replay command in:\n{text}"));
    assert!(
        replay.contains("--component") && replay.contains("--replay"),
        "{replay}"
    );
    // The printed command, as a shell would split it (paths and cases are single-quoted).
    let args: Vec<String> = replay
        .split('\'')
        .enumerate()
        .flat_map(|(i, part)| {
            if i % 2 == 1 {
                vec![part.to_owned()]
            } else {
                part.split_whitespace().map(str::to_owned).collect()
            }
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = walogs(&args);
    let again_text = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.code(), Some(1), "{again_text}");
    assert!(again_text.contains("VIOLATION"), "{again_text}");
}
