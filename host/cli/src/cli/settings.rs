//! The CLI's own settings for a log, kept in the log directory: `--max-segment-size` given
//! once holds for later writing commands. The engine ignores the file (it reads only its
//! segment files); a program that opens the log with the library sets its own config.

use std::path::Path;

use serde::{Deserialize, Serialize};
use walogs_host::HostError;

/// The settings file's name inside a log directory.
pub const SETTINGS_FILE: &str = "walogs-cli.json";

/// What the CLI remembers about a log.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The segment size limit last given with `--max-segment-size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_segment_size: Option<u64>,
}

impl Settings {
    /// The settings of the log in `dir` (defaults when it has none).
    pub fn load(dir: &Path) -> Result<Self, HostError> {
        let path = dir.join(SETTINGS_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                HostError::io(
                    format!("read the CLI settings {}", path.display()),
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(HostError::io(
                format!("read the CLI settings {}", path.display()),
                e,
            )),
        }
    }

    /// Stores the settings in `dir`, replacing the file atomically (a crash leaves the old
    /// or the new file, never half of one).
    pub fn store(&self, dir: &Path) -> Result<(), HostError> {
        let path = dir.join(SETTINGS_FILE);
        let io_err = |e: std::io::Error| {
            HostError::io(format!("write the CLI settings {}", path.display()), e)
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err)?;
        std::io::Write::write_all(&mut tmp, super::output::to_json(self).as_bytes())
            .map_err(io_err)?;
        tmp.as_file().sync_all().map_err(io_err)?;
        tmp.persist(&path).map_err(|e| io_err(e.error))?;
        Ok(())
    }
}
