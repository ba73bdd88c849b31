//! Running the `walogs` binary in tests: the one cargo built, or the one named by
//! `WALOGS_CLI_UNDER_TEST` (to show that a test fails on an older build).
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The `walogs` command under test.
pub fn walogs() -> Command {
    let exe = std::env::var_os("WALOGS_CLI_UNDER_TEST")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_walogs").into());
    Command::new(exe)
}

/// Runs `walogs args` with `stdin` as its standard input.
pub fn run_with(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = walogs()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run walogs");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for walogs");
    writer.join().unwrap();
    out
}

/// Runs `walogs args` with empty stdin.
pub fn run(args: &[&str]) -> Output {
    run_with(args, b"")
}

/// Stdout of a run that must succeed.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "walogs {args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The one JSON document a successful run prints.
pub fn json(args: &[&str]) -> serde_json::Value {
    let text = ok(args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
}

/// Every stdout line of a run, parsed as JSON.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A path as a `&str`.
pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A log in `dir` holding `n` entries `entry 1` …
pub fn log_with(dir: &Path, n: usize) {
    let entries: Vec<String> = (1..=n).map(|i| format!("entry {i}")).collect();
    let mut args = vec!["append", path(dir)];
    args.extend(entries.iter().map(String::as_str));
    ok(&args);
}

/// Flips a byte inside the frame of `lsn` (the entries `entry N` of [`log_with`], one
/// segment): damage in the middle, with intact frames after it.
pub fn damage_entry(dir: &Path, lsn: usize) {
    damage_data(dir, &format!("entry {lsn}"));
}

/// Flips the first byte of the first entry data `needle` in the first segment.
pub fn damage_data(dir: &Path, needle: &str) {
    let segment = dir.join("wal-000001.log");
    let mut bytes = std::fs::read(&segment).unwrap();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .expect("the entry is in the segment");
    bytes[at] ^= 0xff;
    std::fs::write(&segment, bytes).unwrap();
}
