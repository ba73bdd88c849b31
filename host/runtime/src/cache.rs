//! A per-user disk cache of precompiled components.
//!
//! Compiling the component takes seconds in a debug build of the host; loading a
//! precompiled artifact takes well under a millisecond. An artifact's file name is the
//! SHA-256 of the component bytes and of the engine's
//! [`precompile_compatibility_hash`](wasmtime::Engine::precompile_compatibility_hash), so a
//! new component or an incompatible engine configuration never picks up a stale artifact.
//! Artifacts are written to a temporary file and renamed into place, so a reader sees
//! either no file or a whole one.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How the component of a [`crate::Runtime`] was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadInfo {
    /// The cached artifact, if the cache was used.
    pub artifact: Option<PathBuf>,
    /// Whether the artifact was already in the cache (no compilation happened).
    pub cache_hit: bool,
    /// Time spent compiling and/or loading.
    pub elapsed: Duration,
}

/// The default cache directory: `$WALOGS_CACHE_DIR`, else `$XDG_CACHE_HOME/walogs`, else
/// `$HOME/.cache/walogs`, else `walogs-cache` in the temporary directory.
pub fn default_cache_dir() -> PathBuf {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("WALOGS_CACHE_DIR") {
        dir
    } else if let Some(dir) = var("XDG_CACHE_HOME") {
        dir.join("walogs")
    } else if let Some(home) = var("HOME") {
        home.join(".cache").join("walogs")
    } else {
        std::env::temp_dir().join("walogs-cache")
    }
}

/// Feeds `Hash` output into SHA-256, so the key does not depend on std's hasher.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        unreachable!("only the digest is used")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The artifact file name for `bytes` compiled by `engine`.
fn artifact_name(engine: &Engine, bytes: &[u8]) -> String {
    let mut h = ShaHasher(Sha256::new());
    h.0.update(Sha256::digest(bytes));
    engine.precompile_compatibility_hash().hash(&mut h);
    let digest = h.0.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("walogs-{hex}.cwasm")
}

/// Compiles `bytes`, going through the cache in `dir` when there is one.
pub(crate) fn load(
    engine: &Engine,
    bytes: &[u8],
    dir: Option<&Path>,
) -> wasmtime::Result<(Component, LoadInfo)> {
    let start = Instant::now();
    let Some(dir) = dir else {
        let component = Component::new(engine, bytes)?;
        let info = LoadInfo {
            artifact: None,
            cache_hit: false,
            elapsed: start.elapsed(),
        };
        return Ok((component, info));
    };
    let path = dir.join(artifact_name(engine, bytes));
    // SAFETY: the file is ours: written whole (tmp + rename) by `store` below in a per-user
    // directory, and named after the engine's compatibility hash.
    if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
        let info = LoadInfo {
            artifact: Some(path),
            cache_hit: true,
            elapsed: start.elapsed(),
        };
        return Ok((component, info));
    }
    let artifact = engine.precompile_component(bytes)?;
    let component = match store(dir, &path, &artifact) {
        // SAFETY: as above; the file was just written from `precompile_component`.
        Ok(()) => unsafe { Component::deserialize_file(engine, &path)? },
        // An unwritable cache only costs time.
        // SAFETY: the bytes come from `precompile_component` of this engine.
        Err(_) => unsafe { Component::deserialize(engine, &artifact)? },
    };
    let info = LoadInfo {
        artifact: Some(path),
        cache_hit: false,
        elapsed: start.elapsed(),
    };
    Ok((component, info))
}

/// Writes `artifact` to `path` atomically.
fn store(dir: &Path, path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(artifact)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
