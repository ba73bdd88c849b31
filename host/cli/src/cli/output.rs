//! Text and JSON output.

use serde::Serialize;
use walogs::{Lsn, SegmentInfo, TailState, WalError};
use walogs_host::HostError;

/// Where results go: text for people or JSON for programs.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    json: bool,
}

impl Out {
    /// Output in JSON when `json`.
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Whether output is JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints `value` as one line of JSON, or runs `human`.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce()) {
        if self.json {
            println!("{}", serde_json::to_string(value).expect("serializable"));
        } else {
            human();
        }
    }

    /// Reports an error on stderr (and as a JSON object on stdout in JSON mode).
    pub fn error(&self, e: &HostError) {
        eprintln!("walogs: error: {e}");
        if self.json {
            let value = ErrorJson {
                ok: false,
                kind: error_kind(e),
                message: e.to_string(),
            };
            println!("{}", serde_json::to_string(&value).expect("serializable"));
        }
    }
}

/// A machine-readable error.
#[derive(Debug, Serialize)]
struct ErrorJson {
    ok: bool,
    kind: &'static str,
    message: String,
}

/// A short name for the kind of error.
pub fn error_kind(e: &HostError) -> &'static str {
    match e {
        HostError::Wal(w) => match w {
            WalError::Io(_) => "io",
            WalError::EntryTooLarge { .. } => "entry_too_large",
            WalError::Corrupt { .. } => "corrupt",
            WalError::Locked { .. } => "locked",
            WalError::Poisoned { .. } => "poisoned",
            WalError::LsnOutOfRange { .. } => "lsn_out_of_range",
            WalError::InvalidPath { .. } => "invalid_path",
            WalError::NotADirectory { .. } => "not_a_directory",
            WalError::ReadOnly => "read_only",
            _ => "wal",
        },
        HostError::Trap(_) | HostError::Dead => "trap",
        _ => "host",
    }
}

/// One entry: its data as text when it is UTF-8, else as hex.
#[derive(Debug, Serialize)]
pub struct EntryJson {
    lsn: u64,
    len: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hex: Option<String>,
}

impl EntryJson {
    /// Describes one entry.
    pub fn new(lsn: Lsn, data: &[u8]) -> Self {
        let (text, hex) = match std::str::from_utf8(data) {
            Ok(s) => (Some(s.to_owned()), None),
            Err(_) => (
                None,
                Some(data.iter().map(|b| format!("{b:02x}")).collect()),
            ),
        };
        Self {
            lsn: lsn.0,
            len: data.len(),
            data: text,
            hex,
        }
    }
}

/// The tail state: `"clean"` or `{"truncated_at": offset}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TailJson {
    /// The log ended on a frame boundary.
    Clean,
    /// A torn tail began at this offset.
    TruncatedAt(u64),
}

impl From<TailState> for TailJson {
    fn from(t: TailState) -> Self {
        match t {
            TailState::TruncatedAt(offset) => Self::TruncatedAt(offset),
            _ => Self::Clean,
        }
    }
}

/// The tail state in words.
pub fn tail_text(t: TailState) -> String {
    match t {
        TailState::Clean => "clean".to_owned(),
        TailState::TruncatedAt(offset) => format!("torn tail cut off at byte {offset}"),
    }
}

/// One segment file.
#[derive(Debug, Serialize)]
pub struct SegmentJson {
    seq: u32,
    first_lsn: Option<u64>,
    size: u64,
}

impl From<&SegmentInfo> for SegmentJson {
    fn from(s: &SegmentInfo) -> Self {
        Self {
            seq: s.seq,
            first_lsn: s.first_lsn.map(|l| l.0),
            size: s.size,
        }
    }
}

/// An entry's data for a terminal: text with control characters escaped, hex-ish escapes
/// for other bytes, and only the length of long entries.
pub fn preview(data: &[u8]) -> String {
    const MAX: usize = 72;
    if data.len() > MAX {
        return format!("<{} bytes>", data.len());
    }
    match std::str::from_utf8(data) {
        Ok(s) => s
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
        Err(_) => data.escape_ascii().to_string(),
    }
}

/// An optional LSN in words.
pub fn lsn_text(lsn: Option<Lsn>) -> String {
    lsn.map_or_else(|| "none".to_owned(), |l| l.0.to_string())
}
