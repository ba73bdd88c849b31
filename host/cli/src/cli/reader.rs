//! Opening a log to read it, even when it is damaged: the intact prefix stays readable.
//!
//! The engine refuses to open a log whose active segment is damaged in the middle (or whose
//! sealed segment starts with a bad frame). The reader then asks the component where the
//! first damage is ([`Runtime::find_damage`]: a segment and an offset) and opens a scratch
//! copy of everything before that point (links to the whole segments before it, a copy of
//! the damaged one cut at the damage), read-only. The user's directory is never changed.

use std::path::Path;

use walogs::format::segment_name;
use walogs::{WalConfig, WalError};
use walogs_host::{ComponentWal, HostError, Runtime};

use super::logdir;

/// A log opened for reading.
pub struct Reader {
    /// The log (or the scratch copy of its intact prefix).
    pub wal: ComponentWal,
    /// The damage that ends the intact prefix, when open found one.
    pub damage: Option<WalError>,
    /// The scratch copy, deleted on drop.
    _scratch: Option<tempfile::TempDir>,
}

/// Opens `dir` read-only: readers take no lock and change nothing.
pub fn open(rt: &Runtime, dir: &Path) -> Result<Reader, HostError> {
    logdir::require_log(dir)?;
    let config = WalConfig {
        read_only: true,
        ..WalConfig::default()
    };
    match rt.open_with_config(dir, config.clone()) {
        Ok(wal) => Ok(Reader {
            wal,
            damage: None,
            _scratch: None,
        }),
        Err(HostError::Wal(damage @ WalError::Corrupt { .. })) => {
            // A component without the maintenance interface cannot say where the damage
            // is: then the damage alone is the answer.
            let Ok(Some(point)) = rt.find_damage(dir) else {
                return Err(HostError::Wal(damage));
            };
            let scratch = match copy_prefix(dir, point.segment, point.offset) {
                Ok(scratch) => scratch,
                Err(_) => return Err(HostError::Wal(damage)),
            };
            match rt.open_with_config(scratch.path(), config) {
                Ok(wal) => Ok(Reader {
                    wal,
                    damage: Some(damage),
                    _scratch: Some(scratch),
                }),
                Err(_) => Err(HostError::Wal(damage)),
            }
        }
        Err(e) => Err(e),
    }
}

/// A scratch directory with the segments before `seq` and the first `offset` bytes of `seq`.
fn copy_prefix(dir: &Path, seq: u32, offset: u64) -> std::io::Result<tempfile::TempDir> {
    let scratch = tempfile::tempdir()?;
    for (s, _) in logdir::segment_files(dir) {
        let name = segment_name(s);
        let (from, to) = (dir.join(&name), scratch.path().join(&name));
        if s < seq {
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to)?;
            }
        } else if s == seq {
            let mut src = std::fs::File::open(&from)?;
            let mut dst = std::fs::File::create(&to)?;
            std::io::copy(&mut std::io::Read::take(&mut src, offset), &mut dst)?;
        }
    }
    Ok(scratch)
}
