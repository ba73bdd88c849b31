//! What a directory holds before a command touches it: no command creates a log where
//! the user did not ask for one, or writes into a directory that holds something else.

use std::io;
use std::path::{Path, PathBuf};

use walogs::format::{LOCK_FILENAME, V1_FILENAME, parse_segment_name};
use walogs_host::HostError;

use super::settings::SETTINGS_FILE;

/// The engine's own files besides segments (docs/FORMAT.md): the marker of an interrupted
/// truncation and the durable-point sidecar.
pub const ENGINE_FILES: [&str; 2] = ["TRUNCATE", "DURABLE"];

/// What a directory holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holds {
    /// Nothing is there.
    Missing,
    /// The path is a file (or something else that is not a directory).
    NotADirectory,
    /// A directory with no files (or only files walogs itself leaves: the lock, settings).
    Empty,
    /// A walogs log.
    Log,
    /// A directory holding other files: their names (a few).
    Other(Vec<String>),
}

/// Looks at `dir` without changing it.
pub fn inspect(dir: &Path) -> Result<Holds, HostError> {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Holds::Missing),
        Err(e) => return Err(HostError::io(format!("look at {}", dir.display()), e)),
    };
    if !meta.is_dir() {
        return Ok(Holds::NotADirectory);
    }
    let read = std::fs::read_dir(dir)
        .map_err(|e| HostError::io(format!("read directory {}", dir.display()), e))?;
    let mut others = Vec::new();
    for entry in read {
        let entry =
            entry.map_err(|e| HostError::io(format!("read directory {}", dir.display()), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_log_file(&name) {
            return Ok(Holds::Log);
        }
        if name != LOCK_FILENAME && name != SETTINGS_FILE {
            others.push(name);
        }
    }
    others.sort();
    others.truncate(3);
    Ok(if others.is_empty() {
        Holds::Empty
    } else {
        Holds::Other(others)
    })
}

/// Whether a file name is one of the log's own.
fn is_log_file(name: &str) -> bool {
    parse_segment_name(name).is_some() || name == V1_FILENAME || ENGINE_FILES.contains(&name)
}

/// A refusal to use the directory the command names (exit code 4); the message that
/// reports it names the command and the path.
pub fn refused(why: String) -> HostError {
    HostError::io("", io::Error::new(io::ErrorKind::InvalidInput, why))
}

/// Fails unless `dir` holds a log (every command but `append` and `demo`).
pub fn require_log(dir: &Path) -> Result<(), HostError> {
    match inspect(dir)? {
        Holds::Log => Ok(()),
        Holds::Missing => Err(refused(
            "no such directory (only `append` creates a log)".into(),
        )),
        Holds::NotADirectory => Err(refused("not a directory".into())),
        Holds::Empty => Err(refused(
            "the directory holds no walogs log (only `append` creates one)".into(),
        )),
        Holds::Other(names) => Err(refused(format!(
            "the directory holds no walogs log (it holds {})",
            names.join(", ")
        ))),
    }
}

/// Checks that `append` may write into `dir`: a log, a new or empty directory, or (with
/// `create`) a directory holding other files.
pub fn allow_append(dir: &Path, create: bool) -> Result<(), HostError> {
    match inspect(dir)? {
        Holds::Log | Holds::Missing | Holds::Empty => Ok(()),
        Holds::NotADirectory => Err(refused("not a directory".into())),
        Holds::Other(_) if create => Ok(()),
        Holds::Other(names) => Err(refused(format!(
            "the directory holds other files ({}) and no walogs log; pass --create to start a log there",
            names.join(", ")
        ))),
    }
}

/// The active (highest-numbered) segment file and its size now, if there is one.
pub fn active_segment(dir: &Path) -> Option<(PathBuf, u64)> {
    let mut best: Option<(u32, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(seq) = parse_segment_name(&name)
            && best.as_ref().is_none_or(|(b, _)| seq > *b)
        {
            best = Some((seq, entry.path()));
        }
    }
    let (_, path) = best?;
    let size = std::fs::metadata(&path).ok()?.len();
    Some((path, size))
}

/// The segment files in `dir` with their sizes, in order.
pub fn segment_files(dir: &Path) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let seq = parse_segment_name(&e.file_name().to_string_lossy())?;
            Some((seq, e.metadata().ok()?.len()))
        })
        .collect();
    out.sort_unstable();
    out
}
