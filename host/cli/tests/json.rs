//! `--json` always yields JSON: every subcommand on success, on a usage error, on damage
//! (or its own kind of failure), and into a closed pipe.

mod common;

use std::process::Stdio;

use common::*;

/// Runs `args` (with `--json`) and parses every stdout line; asserts the exit code.
fn all_json(args: &[&str], stdin: &[u8], code: i32) -> Vec<serde_json::Value> {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let out = run_with(&full, stdin);
    assert_eq!(out.status.code(), Some(code), "{full:?}: {}", stderr(&out));
    let docs = json_lines(&out);
    assert!(!docs.is_empty(), "{full:?} printed nothing");
    if code != 0 {
        let last = docs.last().unwrap();
        assert_eq!(last["ok"], false, "{full:?}: {last}");
        assert!(last["message"].is_string(), "{full:?}: {last}");
    }
    docs
}

/// Runs `args` (with `--json`) with stdout closed before it writes: exits 0, quietly.
fn into_closed_pipe(args: &[&str]) {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let mut child = walogs()
        .args(&full)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{full:?}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{full:?}: {err}"
    );
}

#[test]
fn every_subcommand_prints_json_on_success_usage_error_damage_and_closed_pipe() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let d = path(&log);
    let scratch = tmp.path().join("bench");
    let (s, demo) = (path(&scratch), tmp.path().join("demo"));

    // Success: one document, or JSON lines from `cat`.
    let appended = all_json(&["append", d, "one", "two", "three"], b"", 0);
    assert_eq!(appended[0]["count"], 3);
    assert_eq!(
        all_json(&["append", d], b"four\nfive\n", 0)[0]["last_lsn"],
        5
    );
    assert_eq!(all_json(&["cat", d], b"", 0).len(), 5);
    assert_eq!(
        all_json(&["stat", d], b"", 0)[0]["tail_state"]["state"],
        "clean"
    );
    assert_eq!(all_json(&["verify", d], b"", 0)[0]["entries"], 5);
    assert_eq!(all_json(&["checkpoint", d, "1"], b"", 0)[0]["ok"], true);
    assert_eq!(all_json(&["truncate", d, "4"], b"", 0)[0]["next_lsn"], 5);
    assert_eq!(
        all_json(&["demo", path(&demo)], b"", 0)[0]["appended_after_recovery"],
        4
    );
    let bench = ["bench", "--quick", "--only", "nothing", "--dir", s];
    assert!(all_json(&bench, b"", 0)[0]["debug_build"].is_boolean());
    let crash = ["crash-test", "--states", "10", "--classes", "power-loss"];
    assert_eq!(all_json(&crash, b"", 0)[0]["violation_count"], 0);

    // Usage errors.
    for args in [
        &["append"][..],
        &["cat", d, "--format", "pdf"],
        &["stat"],
        &["verify", d, "extra"],
        &["checkpoint", d, "not-a-number"],
        &["truncate", d],
        &["demo", "a", "b"],
        &["bench", "--frobnicate"],
        &["crash-test", "--replay", "not-a-case"],
        &["repair"],
        &["no-such-command"],
    ] {
        let doc = &all_json(args, b"", 2)[0];
        assert_eq!(doc["kind"], "usage", "{args:?}");
    }

    // Damage (and each command's own failure where damage does not apply).
    damage_data(&log, "two");
    let cat = all_json(&["cat", d], b"", 1);
    assert_eq!((cat.len(), cat[0]["data"].as_str()), (2, Some("one")));
    assert_eq!(cat[1]["kind"], "corrupt");
    for args in [
        &["stat", d][..],
        &["verify", d],
        &["append", d, "x"],
        &["checkpoint", d, "1"],
        &["truncate", d, "1"],
        &["repair", d, "--dry-run"],
    ] {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let out = run(&full);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(json_lines(&out).len(), 1, "{args:?}");
    }
    let repaired = &all_json(&["repair", d], b"", 0)[0];
    assert_eq!(
        (
            repaired["applied"].as_bool(),
            repaired["kept_up_to"].as_u64()
        ),
        (Some(true), Some(1))
    );
    all_json(&["repair", path(&tmp.path().join("no-log"))], b"", 4);
    std::fs::write(demo.join("mine.txt"), b"not the demo's").unwrap();
    all_json(&["demo", path(&demo)], b"", 4);
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    all_json(
        &[
            "bench",
            "--quick",
            "--only",
            "nothing",
            "--dir",
            path(&file),
        ],
        b"",
        4,
    );
    let bad = tmp.path().join("bad.wasm");
    std::fs::write(&bad, b"not wasm").unwrap();
    all_json(
        &["--component", path(&bad), "crash-test", "--states", "1"],
        b"",
        4,
    );

    // A closed pipe.
    let fresh = tmp.path().join("fresh");
    log_with(&fresh, 3);
    let f = path(&fresh);
    for args in [
        &["cat", f][..],
        &["stat", f],
        &["verify", f],
        &["append", f, "x"],
        &["checkpoint", f, "1"],
        &["truncate", f, "3"],
        &["repair", f],
        &["demo", path(&tmp.path().join("demo2"))],
        &bench[..],
    ] {
        into_closed_pipe(args);
    }
}
