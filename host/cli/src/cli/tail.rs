//! Truthful tail reports: what was found, what was cut (by this command, how many bytes),
//! and what a read-only command left in place.

use std::path::Path;

use serde::Serialize;
use walogs::TailState;

use super::logdir;

/// The tail state, always with the same fields: `state` is `"clean"` or `"torn"`; for a
/// torn tail, the segment, the offset where the intact frames end, how many bytes follow,
/// and whether this command cut them (`false`: left in place by a read-only command).
#[derive(Debug, Clone, Serialize)]
pub struct Tail {
    state: &'static str,
    segment: Option<String>,
    offset: Option<u64>,
    torn_bytes: u64,
    cut: bool,
}

/// The active segment's size before a command opened the log.
#[derive(Debug, Clone, Copy)]
pub struct Before(Option<u64>);

impl Before {
    /// Measures `dir`'s active segment.
    pub fn measure(dir: &Path) -> Self {
        Self(logdir::active_segment(dir).map(|(_, size)| size))
    }
}

impl Tail {
    /// Describes `state` as found by an open of `dir`: a writer cut the tail (`before`
    /// says how long the file was), a reader left it.
    pub fn new(state: TailState, dir: &Path, before: Before, read_only: bool) -> Self {
        let TailState::TruncatedAt(offset) = state else {
            return Self {
                state: "clean",
                segment: None,
                offset: None,
                torn_bytes: 0,
                cut: false,
            };
        };
        let active = logdir::active_segment(dir);
        let size = if read_only {
            active.as_ref().map(|(_, size)| *size)
        } else {
            before.0
        };
        Self {
            state: "torn",
            segment: active.and_then(|(p, _)| Some(p.file_name()?.to_string_lossy().into_owned())),
            offset: Some(offset),
            torn_bytes: size.unwrap_or(offset).saturating_sub(offset),
            cut: !read_only,
        }
    }

    /// Whether the tail was torn.
    pub fn is_torn(&self) -> bool {
        self.state == "torn"
    }

    /// The tail in words.
    pub fn text(&self) -> String {
        let (Some(segment), Some(offset)) = (&self.segment, self.offset) else {
            return "clean".to_owned();
        };
        let bytes = self.torn_bytes;
        if self.cut {
            format!("torn; cut {bytes} bytes after byte {offset} of {segment}")
        } else {
            format!(
                "torn: {bytes} bytes after byte {offset} of {segment} left in place \
                 (read-only; the next writing command cuts them)"
            )
        }
    }
}
