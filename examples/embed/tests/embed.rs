//! Runs the example twice on one directory, tearing the log's tail in between.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// The component the example loads by default.
const COMPONENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/wasm32-wasip2/component/walogs.wasm"
);

/// Runs the example on `dir` and returns what it printed.
fn run(dir: &Path) -> String {
    assert!(
        Path::new(COMPONENT).is_file(),
        "{COMPONENT} is missing: build it first with `just component`"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_walogs-embed-example"))
        .arg(dir)
        .output()
        .expect("run the example");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the example failed: {stderr}");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn appends_iterates_and_recovers_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path());
    assert_eq!(
        first,
        "tail: clean\nappended 1, then 2..3\n1: hello\n2: one\n3: two\n"
    );

    // A crash in the middle of a write leaves garbage after the last whole frame.
    let segment = dir.path().join("wal-000001.log");
    let clean_size = segment.metadata().unwrap().len();
    let mut file = OpenOptions::new().append(true).open(&segment).unwrap();
    file.write_all(&[0x17, 0, 0, 0, 0xde, 0xad]).unwrap();
    drop(file);

    let second = run(dir.path());
    let lines: Vec<&str> = second.lines().collect();
    assert_eq!(
        lines[0],
        format!("tail: torn tail cut off at byte {clean_size}")
    );
    assert_eq!(lines[1], "appended 4, then 5..6");
    assert_eq!(lines[2..].len(), 6);
    assert_eq!(lines[7], "6: two");
}

#[test]
fn the_doc_shows_exactly_this_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("../../docs/EMBEDDING.md")).unwrap();
    let main = std::fs::read_to_string(root.join("src/main.rs")).unwrap();
    assert!(
        doc.contains(&format!("```rust\n{main}```")),
        "docs/EMBEDDING.md must show examples/embed/src/main.rs verbatim"
    );
}
