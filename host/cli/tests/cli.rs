//! The `walogs` binary, end to end.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use walogs_host::ComponentWal;

fn walogs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_walogs"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run walogs")
}

fn ok(args: &[&str]) -> String {
    let out = walogs(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "walogs {args:?}: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn append_cat_stat_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let d = path(&dir);
    assert_eq!(
        ok(&["append", d, "one", "two"]),
        "appended 2 entries: LSN 1..=2\n"
    );
    let batch = json(&["--json", "append", "--batch", d, "three", "four"]);
    assert_eq!(
        (batch["first_lsn"].as_u64(), batch["last_lsn"].as_u64()),
        (Some(3), Some(4))
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_walogs"))
        .args(["append", d, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"five\nsix\n").unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());

    let entries: Vec<serde_json::Value> = ok(&["--json", "cat", d])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let data: Vec<&str> = entries
        .iter()
        .map(|e| e["data"].as_str().unwrap())
        .collect();
    assert_eq!(data, ["one", "two", "three", "four", "five", "six"]);
    assert_eq!(ok(&["cat", d, "--from", "6"]), "6\tsix\n");

    let stat = json(&["--json", "stat", d]);
    assert_eq!(stat["next_lsn"], 7);
    assert_eq!(stat["tail_state"]["state"], "clean");
    assert!(ok(&["stat", d]).contains("next LSN:  7"));

    let verify = json(&["--json", "verify", d]);
    assert_eq!(
        (verify["ok"].as_bool(), verify["entries"].as_u64()),
        (Some(true), Some(6))
    );

    let t = json(&["--json", "truncate", d, "4"]);
    assert_eq!(t["next_lsn"], 5);
}

#[test]
fn exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = path(tmp.path());
    assert_eq!(walogs(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        walogs(&["cat", &format!("{d}/missing")]).status.code(),
        Some(4)
    );

    let held = ComponentWal::open(tmp.path()).unwrap();
    let out = walogs(&["append", d, "x"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(held);

    ok(&["append", d, "x", "y"]);
    let segment = tmp.path().join("wal-000001.log");
    let mut bytes = std::fs::read(&segment).unwrap();
    let n = bytes.len();
    bytes[n / 3] ^= 0xff; // damage the first frame: corruption, not a torn tail
    std::fs::write(&segment, bytes).unwrap();
    let out = walogs(&["verify", d]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn demo_runs_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let demo = json(&["--json", "demo", path(&dir)]);
    assert_eq!(demo["appended"], serde_json::json!([1, 2, 3]));
    assert_eq!(demo["crash"]["written"], 32 * 1024);
    let tail = &demo["tail_state"];
    assert_eq!(
        (tail["state"].as_str(), tail["cut"].as_bool()),
        (Some("torn"), Some(true))
    );
    // The cut removes the torn half of the frame and the active segment's pre-fill after
    // it: the first append's, 64 KiB ahead of a small frame rounded up to 64 KiB, which
    // the torn frame fitted in (docs/FORMAT.md, "Pre-allocation").
    let offset = tail["offset"].as_u64().unwrap();
    assert_eq!(tail["torn_bytes"], (128 << 10) - offset);
    let segment = std::fs::metadata(dir.join("wal-000001.log")).unwrap().len();
    // The cut left the intact frames; the entry appended after recovery follows them.
    assert_eq!(segment, offset + 16 + "after the crash".len() as u64);
    assert_eq!(demo["recovered"].as_array().unwrap().len(), 3);
    assert_eq!(demo["appended_after_recovery"], 4);
    let text = ok(&["demo", path(&dir)]);
    assert!(
        text.contains("crash!") && text.contains("appended LSN 4"),
        "{text}"
    );
    // The README shows exactly this output (run in `demo-wal`).
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let shown = readme
        .split("What `demo` prints:\n\n```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README has the demo transcript");
    assert_eq!(text.replace(path(&dir), "demo-wal"), shown);
}

/// `walogs repair` (through the component) on issue 10's two out-of-order shapes, as a log
/// without a durable point holds them (one written by walogs 0.1.0), and on a mid-log bit
/// flip: the log is cut after the last intact entry and every removed byte is in the
/// quarantine file.
#[test]
fn repair_cuts_the_out_of_order_shapes_and_a_bit_flip_keeping_every_byte() {
    for shape in ["batch", "explicit", "bit-flip"] {
        let tmp = tempfile::tempdir().unwrap();
        let d = path(tmp.path());
        let config = walogs::WalConfig {
            durability: if shape == "explicit" {
                walogs::Durability::Explicit
            } else {
                walogs::Durability::Always
            },
            ..walogs::WalConfig::default()
        };
        let mut wal = walogs::Wal::open_with_config(tmp.path(), config).unwrap();
        wal.append(&[b'a'; 100]).unwrap();
        wal.sync().unwrap();
        match shape {
            "batch" => drop(wal.append_batch(&[[b'b'; 1000]; 4]).unwrap()),
            _ => {
                wal.append(&[b'b'; 1000]).unwrap();
                wal.append(&[b'c'; 1000]).unwrap();
            }
        }
        drop(wal);
        let seg = tmp.path().join("wal-000001.log");
        let mut bytes = std::fs::read(&seg).unwrap();
        match shape {
            // Only bytes 2106..4096 of the batch reached the disk.
            "batch" => {
                bytes[116..2106].fill(0);
                bytes.truncate(4096);
            }
            // The second unsynced append reached the disk, the first did not.
            "explicit" => bytes[116..116 + 1016].fill(0),
            _ => bytes[116 + 40] ^= 0x10,
        }
        std::fs::write(&seg, &bytes).unwrap();
        std::fs::remove_file(tmp.path().join("DURABLE")).unwrap();
        assert_eq!(walogs(&["verify", d]).status.code(), Some(1), "{shape}");

        let report = json(&["--json", "repair", d]);
        assert_eq!(report["applied"], true, "{shape}: {report}");
        assert_eq!(report["kept_up_to"], 1, "{shape}: {report}");
        assert_eq!(report["damage"]["offset"], 116, "{shape}: {report}");
        assert_eq!(
            report["bytes_removed"],
            bytes.len() - 116,
            "{shape}: {report}"
        );
        let quarantine = tmp.path().join(report["quarantine"].as_str().unwrap());
        let kept = std::fs::read(&quarantine).unwrap();
        assert!(
            kept.ends_with(&bytes[116..]),
            "{shape}: every removed byte is kept"
        );
        assert_eq!(std::fs::read(&seg).unwrap(), bytes[..116], "{shape}");
        let entries = ok(&["cat", d, "--format", "hex"]);
        assert_eq!(entries, format!("1\t{}\n", "61".repeat(100)), "{shape}");
        let verified: serde_json::Value =
            serde_json::from_str(&ok(&["--json", "verify", d])).unwrap();
        assert_eq!(verified["ok"], true, "{shape}: {verified}");
    }
}
