//! Mutant guests: the engine built with one test-only `walogs_mutant` cfg switch that
//! breaks a durability rule. The explorer must flag each one; that is what proves it has
//! teeth.
//!
//! Mutants are built with `cargo rustc` into `target/mutants/` (one target directory for
//! all of them, so the dependencies compile once; the switch is passed to the `walogs`
//! crate alone), without LTO to keep each build short, and kept as
//! `target/mutants/<name>.wasm` until a guest source changes.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A deliberately broken engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// `sync_active` skips the fdatasync (appends, `sync` and rotation).
    SkipFdatasync,
    /// The storage's `sync_dir` does nothing: new, renamed and deleted files are not
    /// made durable.
    SkipDirFsync,
    /// Recovery truncates at the first bad frame of the last segment even when valid
    /// frames follow (walogs 0.1.0's rule).
    TruncateAtFirstBadFrame,
    /// `sync_active` treats a failed fdatasync as a success.
    IgnoreFsyncErrors,
    /// Recovery ignores the durable point (`DURABLE`): recovery as it was before the
    /// sidecar existed, which refuses to open a log whose interrupted write persisted out
    /// of order.
    IgnoreDurablePoint,
}

impl Mutant {
    /// Every mutant.
    pub const ALL: [Mutant; 5] = [
        Mutant::SkipFdatasync,
        Mutant::SkipDirFsync,
        Mutant::TruncateAtFirstBadFrame,
        Mutant::IgnoreFsyncErrors,
        Mutant::IgnoreDurablePoint,
    ];

    /// The `walogs_mutant` cfg value (and the file name of the built component).
    pub fn name(self) -> &'static str {
        match self {
            Mutant::SkipFdatasync => "skip-fdatasync",
            Mutant::SkipDirFsync => "skip-dir-fsync",
            Mutant::TruncateAtFirstBadFrame => "truncate-at-first-bad-frame",
            Mutant::IgnoreFsyncErrors => "ignore-fsync-errors",
            Mutant::IgnoreDurablePoint => "ignore-durable-point",
        }
    }
}

/// The workspace this crate was built in (mutants are built from its `guest/`).
pub fn workspace_root() -> PathBuf {
    let testkit = Path::new(env!("CARGO_MANIFEST_DIR"));
    testkit.ancestors().nth(2).unwrap_or(testkit).to_owned()
}

include!("../../nested_cargo_env.rs");

/// Builds `mutant` from the guest in `root` (a walogs workspace), or reuses the build when
/// no guest source changed since; returns the component's path.
pub fn build(root: &Path, mutant: Mutant) -> io::Result<PathBuf> {
    let target = root.join("target").join("mutants");
    fs::create_dir_all(&target)?;
    let out = target.join(format!("{}.wasm", mutant.name()));
    // One build at a time (tests in other processes share the directory).
    let lock = File::create(target.join(".lock"))?;
    lock.lock()?;
    if fresh(&out, root)? {
        return Ok(out);
    }
    let mut cmd = guest_component_build(root, &target);
    cmd.args(["--config", "profile.component.lto=false"])
        .args(["--config", "profile.component.codegen-units=16"])
        .args(["--config", "profile.component.opt-level=1"])
        .arg("--")
        .arg(format!("--cfg=walogs_mutant=\"{}\"", mutant.name()));
    let output = cmd.output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "building mutant {} failed:\n{}",
            mutant.name(),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let built = target.join("wasm32-wasip2/component/walogs.wasm");
    fs::copy(&built, &out)?;
    Ok(out)
}

/// Whether `out` exists and is newer than every guest source and the WIT file.
fn fresh(out: &Path, root: &Path) -> io::Result<bool> {
    let Ok(built) = fs::metadata(out).and_then(|m| m.modified()) else {
        return Ok(false);
    };
    let newest = newest(&root.join("guest"))?.max(newest(&root.join("wit"))?);
    Ok(newest <= built)
}

/// The latest modification time of a file under `path`.
fn newest(path: &Path) -> io::Result<SystemTime> {
    let meta = fs::metadata(path)?;
    let mut latest = meta.modified()?;
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            latest = latest.max(newest(&entry?.path())?);
        }
    }
    Ok(latest)
}
