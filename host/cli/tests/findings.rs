//! One test per finding of the CLI review (issue "A CLI that never surprises"): each
//! failed on the CLI before it and passes now.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// 1. `demo` deleted whatever the directory held.
#[test]
fn demo_refuses_a_directory_it_did_not_make() {
    let tmp = tempfile::tempdir().unwrap();
    let precious = tmp.path().join("precious");
    std::fs::create_dir_all(precious.join("sub")).unwrap();
    std::fs::write(precious.join("thesis.txt"), b"years of work").unwrap();
    let out = run(&["demo", path(&precious)]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains(path(&precious)), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(precious.join("thesis.txt")).unwrap(),
        b"years of work"
    );
    assert!(precious.join("sub").is_dir());

    let log = tmp.path().join("w1");
    log_with(&log, 13);
    assert_eq!(run(&["demo", path(&log)]).status.code(), Some(4));
    assert_eq!(json(&["--json", "stat", path(&log)])["last_lsn"], 13);

    // Its own directory from an earlier run is fine, again and again.
    let demo = tmp.path().join("demo");
    ok(&["demo", path(&demo)]);
    let again = json(&["--json", "demo", path(&demo)]);
    assert_eq!(again["appended_after_recovery"], 4);
    // …unless someone put a file of their own there.
    std::fs::write(demo.join("notes.txt"), b"mine").unwrap();
    assert_eq!(run(&["demo", path(&demo)]).status.code(), Some(4));
    assert!(demo.join("notes.txt").exists());
}

/// 2. Damage in the middle of the active segment blocked every command.
#[test]
fn read_commands_show_the_intact_prefix_of_a_damaged_log() {
    let tmp = tempfile::tempdir().unwrap();
    let d = path(tmp.path());
    log_with(tmp.path(), 5);
    damage_entry(tmp.path(), 3);

    let cat = run(&["cat", d]);
    assert_eq!(cat.status.code(), Some(1), "{}", stderr(&cat));
    assert_eq!(
        String::from_utf8_lossy(&cat.stdout),
        "1\tentry 1\n2\tentry 2\n"
    );
    assert!(stderr(&cat).contains("damaged"), "{}", stderr(&cat));
    // Entries past the damage cannot be read: the damage is the answer, not "no such LSN".
    let past = run(&["cat", d, "--from", "4"]);
    assert_eq!(past.status.code(), Some(1), "{}", stderr(&past));
    assert!(stderr(&past).contains("damaged"), "{}", stderr(&past));

    let stat = run(&["--json", "stat", d]);
    assert_eq!(stat.status.code(), Some(1));
    let doc = &json_lines(&stat)[0];
    assert_eq!(
        (doc["ok"].as_bool(), doc["last_lsn"].as_u64()),
        (Some(false), Some(2))
    );
    assert!(doc["damage"].as_str().unwrap().contains("wal-000001.log"));

    let verify = run(&["--json", "verify", d]);
    assert_eq!(verify.status.code(), Some(1));
    let doc = &json_lines(&verify)[0];
    assert_eq!(
        (doc["kind"].as_str(), doc["intact_entries"].as_u64()),
        (Some("corrupt"), Some(2))
    );

    // Writers refuse (exit 1) and change nothing.
    let before = std::fs::read(tmp.path().join("wal-000001.log")).unwrap();
    assert_eq!(run(&["append", d, "x"]).status.code(), Some(1));
    assert_eq!(run(&["truncate", d, "1"]).status.code(), Some(1));
    let segment = || std::fs::read(tmp.path().join("wal-000001.log")).unwrap();
    assert_eq!(segment(), before);

    // `repair --dry-run` says what would go; `repair` cuts it into a quarantine file.
    let dry = run(&["repair", d, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1), "{}", stderr(&dry));
    assert_eq!(segment(), before);
    let repaired = json(&["--json", "repair", d]);
    let kept = (
        repaired["kept_up_to"].as_u64(),
        repaired["applied"].as_bool(),
    );
    assert_eq!(kept, (Some(2), Some(true)), "{repaired}");
    assert_eq!(ok(&["cat", d]), "1\tentry 1\n2\tentry 2\n");
    assert_eq!(
        ok(&["append", d, "after repair"]),
        "appended 1 entry: LSN 3\n"
    );
}

/// 3. A closed pipe printed `Broken pipe` (exit 4), or panicked with --json (exit 101).
#[test]
fn a_closed_pipe_ends_cat_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let entries: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("entry {i}\n").into_bytes())
        .collect();
    let out = run_with(&["append", path(tmp.path()), "--batch"], &entries);
    assert!(out.status.success(), "{}", stderr(&out));
    for json in [false, true] {
        let mut args = vec!["cat", path(tmp.path())];
        if json {
            args.push("--json");
        }
        let mut child = walogs()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut two = [0u8; 16];
        child.stdout.as_mut().unwrap().read_exact(&mut two).unwrap();
        drop(child.stdout.take()); // like `head -c 16`
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "json {json}: {err}");
        assert!(err.is_empty(), "json {json}: {err}");
    }
}

/// 4. A batch of large entries trapped the guest; no flag raised the memory cap.
#[test]
fn large_batches_are_split_to_fit_the_guest_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let line = vec![b'x'; 10 << 20];
    let mut input = Vec::new();
    for _ in 0..6 {
        input.extend_from_slice(&line);
        input.push(b'\n');
    }
    // 60 MiB in one --batch, with the guest capped at 48 MiB.
    let args = [
        "--json",
        "--max-memory",
        "48M",
        "append",
        path(tmp.path()),
        "--batch",
    ];
    let out = run_with(&args, &input);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["count"], 6);
    let help = ok(&["--help"]);
    assert!(help.contains("--max-memory"), "{help}");
}

/// 5. `append` read all of stdin first, and did not say which line failed.
#[test]
fn append_streams_stdin_and_names_the_line_that_failed() {
    let tmp = tempfile::tempdir().unwrap();
    // One by one, and in batches (a batch is appended when its time is up).
    for (name, batch) in [("single", None), ("batched", Some("--batch"))] {
        let dir = tmp.path().join(name);
        let d = path(&dir);
        let mut args = vec!["append", d];
        args.extend(batch);
        let mut child = walogs()
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"first\n").unwrap();
        stdin.flush().unwrap();
        // The producer is still running: the first line must reach the log anyway.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = run(&["cat", d]);
            if String::from_utf8_lossy(&out.stdout).contains("first") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{name}: the first line never reached the log"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        stdin.write_all(b"second\n").unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "appended 2 entries: LSN 1..=2\n"
        );
    }

    let other = tmp.path().join("other");
    let mut input = b"a\nb\n".to_vec();
    input.extend(vec![b'z'; (16 << 20) + 1]);
    input.extend(b"\nc\n");
    let out = run_with(&["--json", "append", path(&other)], &input);
    assert_eq!(out.status.code(), Some(4));
    let doc = &json_lines(&out)[0];
    assert_eq!(doc["kind"], "entry_too_large");
    assert_eq!(
        (doc["count"].as_u64(), doc["failed_at"].as_str()),
        (Some(2), Some("line 3"))
    );
    assert!(stderr(&out).contains("line 3"), "{}", stderr(&out));
}

/// 6. Mistyped paths created logs; `append` wrote into unrelated directories.
#[test]
fn only_append_creates_a_log_and_only_where_asked() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [["checkpoint", "nope2", "5"], ["truncate", "nope3", "5"]] {
        let missing = tmp.path().join(args[1]);
        let out = run(&[args[0], path(&missing), args[2]]);
        assert_eq!(out.status.code(), Some(4), "{args:?}");
        assert!(stderr(&out).contains(path(&missing)), "{}", stderr(&out));
        assert!(!missing.exists(), "{args:?} created {}", missing.display());
    }
    let project = tmp.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("README"), b"hi").unwrap();
    std::fs::write(project.join("data.db"), b"db").unwrap();
    let out = run(&["append", path(&project), "x"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("--create"), "{}", stderr(&out));
    assert!(!project.join("wal-000001.log").exists());
    for cmd in ["stat", "cat", "verify"] {
        let out = run(&[cmd, path(&project)]);
        assert_eq!(out.status.code(), Some(4), "{cmd}");
        assert!(stderr(&out).contains(path(&project)), "{}", stderr(&out));
    }
    ok(&["append", path(&project), "--create", "x"]);
    assert_eq!(json(&["--json", "stat", path(&project)])["last_lsn"], 1);
}

/// 7. Torn tails: a read-only `stat` claimed a cut; `verify` and writers stayed silent.
#[test]
fn torn_tails_are_reported_as_found_cut_or_left() {
    let tmp = tempfile::tempdir().unwrap();
    let d = path(tmp.path());
    log_with(tmp.path(), 3);
    let segment = tmp.path().join("wal-000001.log");
    let intact = std::fs::metadata(&segment).unwrap().len();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .unwrap();
    f.write_all(&[7; 7]).unwrap();
    drop(f);

    let stat = json(&["--json", "stat", d]);
    let tail = &stat["tail_state"];
    assert_eq!(tail["state"], "torn");
    assert_eq!(
        (tail["offset"].as_u64(), tail["torn_bytes"].as_u64()),
        (Some(intact), Some(7))
    );
    assert_eq!(tail["cut"], false);
    assert!(ok(&["stat", d]).contains("left in place"));
    assert_eq!(std::fs::metadata(&segment).unwrap().len(), intact + 7);
    assert!(ok(&["verify", d]).contains("7 bytes"));

    let out = run(&["append", d, "four"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("cut 7 bytes"), "{}", stderr(&out));
    let appended = json(&["--json", "stat", d]);
    assert_eq!(appended["tail_state"]["state"], "clean");
}

/// 8. Binary data printed ambiguously, lost `\r`, and had no binary input.
#[test]
fn binary_data_goes_in_and_out_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let d = path(tmp.path());
    let out = run_with(&["append", d, "-0"], b"ab\\x00\0ab\0\0crlf\r\n\0\xff\xfe");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = ok(&["cat", d]);
    assert_eq!(
        text,
        "1\tab\\\\x00\n2\tab\n3\t\n4\tcrlf\\r\\n\n5\t\\xff\\xfe\n"
    );
    let entries = json_lines(&run(&["--json", "cat", d]));
    assert_eq!(entries[3]["data"], "crlf\r\n");
    assert_eq!(
        (entries[4]["encoding"].as_str(), entries[4]["data"].as_str()),
        (Some("base64"), Some("//4="))
    );
    assert_eq!(
        ok(&["cat", d, "--format", "hex", "--from", "5"]),
        "5\tfffe\n"
    );
    assert_eq!(
        ok(&["cat", d, "--format", "base64", "--from", "5"]),
        "5\t//4=\n"
    );

    let blob: Vec<u8> = (0..=255).collect();
    let file = tmp.path().join("blob.bin");
    std::fs::write(&file, &blob).unwrap();
    ok(&["append", d, "--file", path(&file)]);
    let raw = run(&["cat", d, "--from", "6", "--format", "raw", "-0"]);
    let mut expected = blob.clone();
    expected.push(0);
    assert_eq!(raw.stdout, expected);
    // Lines keep their `\r`.
    let dos = tmp.path().join("dos");
    assert!(
        run_with(&["append", path(&dos)], b"dos\r\n")
            .status
            .success()
    );
    assert_eq!(ok(&["cat", path(&dos)]), "1\tdos\\r\n");
}

/// 9. No `--limit`, `--to`, `--format`; `--max-segment-size` only on one command, not kept.
#[test]
fn cat_ranges_and_write_options_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let d = path(tmp.path());
    log_with(tmp.path(), 9);
    assert_eq!(
        ok(&["cat", d, "--from", "3", "--to", "4"]),
        "3\tentry 3\n4\tentry 4\n"
    );
    assert_eq!(
        ok(&["cat", d, "--limit", "1", "--from", "7"]),
        "7\tentry 7\n"
    );
    for cmd in [
        &["append", d, "x"][..],
        &["checkpoint", d, "1"],
        &["truncate", d, "9"],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--durability", "explicit", "--max-segment-size", "128"]);
        ok(&args);
    }
    // The segment size given once holds for later plain appends.
    for i in 0..20 {
        ok(&["append", d, &format!("later entry {i}")]);
    }
    let stat = json(&["--json", "stat", d]);
    let segments = stat["segments"].as_array().unwrap();
    assert!(segments.len() > 3, "{stat}");
    // The first segment was written before the limit was given.
    for s in &segments[1..] {
        assert!(s["size"].as_u64().unwrap() <= 128, "{stat}");
    }
}

/// 9 (and the concurrency work). `cat --follow` prints what another process appends.
#[test]
fn cat_follow_prints_what_other_processes_append() {
    let tmp = tempfile::tempdir().unwrap();
    let d = path(tmp.path());
    log_with(tmp.path(), 2);
    let mut child = walogs()
        .args(["cat", d, "--follow", "--to", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The follower reads without a lock: appends from other processes go on.
    ok(&["append", d, "entry 3"]);
    ok(&["append", d, "entry 4", "entry 5"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("cat --follow --to 4 did not end after LSN 4 was appended");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, "1\tentry 1\n2\tentry 2\n3\tentry 3\n4\tentry 4\n");
}

/// 10. Errors without path or operation, guest paths, Debug byte arrays, three range forms.
#[test]
fn errors_name_the_path_and_the_operation() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.wasm");
    std::fs::write(&bad, b"\0asm\x0d\0\x01\0garbage").unwrap();
    let out = run(&["--component", path(&bad), "stat", path(tmp.path())]);
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(err.contains(path(&bad)) && !err.contains("[0, "), "{err}");

    let file = tmp.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let err = stderr(&run(&["cat", path(&file)]));
    assert!(err.contains(&format!("cat {}", path(&file))), "{err}");
    assert!(!err.contains("/wal:") && !err.contains("os error"), "{err}");

    let log = tmp.path().join("log");
    log_with(&log, 13);
    let out = run(&["cat", path(&log), "--from", "250"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        err.contains("LSN 250") && err.contains("LSN 1..=13"),
        "{err}"
    );
    assert!(ok(&["verify", path(&log)]).contains("LSN 1..=13"));
    let stat = ok(&["stat", path(&log)]);
    assert!(
        stat.contains("LSN 1..=13") && !stat.contains("none"),
        "{stat}"
    );
}

/// 11. A debug build's `bench` reported targets NOT MET without saying it is a debug build.
#[test]
fn bench_says_when_it_is_a_debug_build() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&[
        "bench",
        "--quick",
        "--only",
        "no such workload",
        "--dir",
        path(tmp.path()),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let says = stderr(&out).contains("DEBUG build");
    assert_eq!(says, cfg!(debug_assertions), "{}", stderr(&out));
}

/// 12. The README's synopsis omitted options; help texts lacked examples.
#[test]
fn every_help_has_an_example_and_the_readme_lists_every_option() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = readme
        .split("## CLI\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a CLI section");
    let top = ok(&["--help"]);
    assert!(top.contains("Examples:"), "{top}");
    let commands: Vec<&str> = top
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 9, "{commands:?}");
    for cmd in commands {
        let help = ok(&[cmd, "--help"]);
        assert!(help.contains("Examples:"), "{cmd} --help has no example");
        let line = section
            .lines()
            .find(|l| l.starts_with(&format!("walogs {cmd} ")))
            .unwrap_or_else(|| panic!("the README's CLI section lacks `walogs {cmd}`"));
        let mut lines = section.lines().skip_while(|l| *l != line);
        let mut synopsis = lines.next().unwrap().to_owned();
        for more in lines.take_while(|l| l.starts_with("  ")) {
            synopsis += more;
        }
        for option in help.split_whitespace().filter(|w| w.starts_with("--")) {
            let option = option.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
            if ["--help", "--json", "--component", "--max-memory"].contains(&option) {
                continue; // global: the README names them once
            }
            assert!(
                synopsis.contains(option),
                "README's `walogs {cmd}` lacks {option}: {synopsis}"
            );
        }
    }
    for global in ["--json", "--component", "--max-memory"] {
        assert!(section.contains(global), "README lacks {global}");
    }
}
