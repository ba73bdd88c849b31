//! Text and JSON output: one writer for stdout, the JSON shapes, and the text notations
//! (ranges, tails, escaped entry data) every command shares.

use std::io::{self, Write};

use base64::Engine as _;
use serde::Serialize;
use walogs::{Lsn, WalError};
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

    /// Prints `value` as one JSON document, or the text `human` builds.
    pub fn print<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce() -> String,
    ) -> Result<(), HostError> {
        if self.json {
            stdout_line(&to_json(value))
        } else {
            stdout(human().as_bytes())
        }
    }

    /// A remark for people on stderr (nothing in JSON mode: the document says it).
    pub fn note(&self, text: &str) {
        if !self.json {
            eprintln!("walogs: {text}");
        }
    }

    /// Reports a failure: a line on stderr, and in JSON mode one error document on stdout
    /// (with `extra`'s fields merged in).
    pub fn error(&self, e: &Failure, extra: Option<serde_json::Value>) {
        eprintln!("walogs: error: {e}");
        if self.json {
            let mut doc = serde_json::json!({
                "ok": false,
                "kind": e.kind(),
                "message": e.to_string(),
            });
            if let (Some(serde_json::Value::Object(extra)), Some(doc)) =
                (extra, doc.as_object_mut())
            {
                doc.extend(extra);
            }
            // A closed stdout cannot take the document; stderr has the message.
            let _ = stdout_line(&doc.to_string());
        }
    }
}

/// Serializes a value that is made of plain data.
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

/// Writes to stdout (flushed); a closed pipe comes back as an error [`is_closed_pipe`] knows.
pub fn stdout(bytes: &[u8]) -> Result<(), HostError> {
    let mut w = io::stdout().lock();
    w.write_all(bytes)
        .and_then(|()| w.flush())
        .map_err(|e| HostError::io("write standard output", e))
}

/// Writes one line to stdout.
pub fn stdout_line(text: &str) -> Result<(), HostError> {
    stdout(format!("{text}\n").as_bytes())
}

/// Whether `e` is a write to a reader that went away (`walogs cat | head`).
pub fn is_closed_pipe(e: &HostError) -> bool {
    matches!(e, HostError::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
}

/// An error with the command and path it happened to, in the user's terms.
#[derive(Debug)]
pub struct Failure {
    /// What the user asked for, e.g. `cat ./wal`.
    pub doing: String,
    /// What went wrong.
    pub error: HostError,
}

impl Failure {
    /// A short machine-readable name for the kind of error.
    pub fn kind(&self) -> &'static str {
        match &self.error {
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
            HostError::Setup(_) => "setup",
            HostError::Io { .. } => "io",
            HostError::Unsupported { .. } => "unsupported",
            _ => "host",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.doing, describe(&self.error))
    }
}

/// An error in words: the engine's errors without guest paths or WASI code names.
pub fn describe(e: &HostError) -> String {
    match e {
        // The guest's I/O messages name its own paths (`/wal`) and WASI codes: the kind
        // says the same in the user's terms, and the command line names the path.
        HostError::Wal(WalError::Io(io)) => io_kind_text(io),
        HostError::Wal(WalError::LsnOutOfRange { lsn, first, next }) => format!(
            "LSN {} is not in the log, which holds {}",
            lsn.0,
            range_text(
                Some(*first).filter(|f| f < next),
                next.0.checked_sub(1).map(Lsn)
            )
        ),
        HostError::Wal(WalError::Corrupt { reason }) => format!(
            "the log is damaged: {reason} (`walogs repair` cuts the damage off, keeping every \
             removed byte in a quarantine file)"
        ),
        HostError::Io { context, source } if context.is_empty() => io_kind_text(source),
        HostError::Io { context, source } => format!("{context}: {}", io_kind_text(source)),
        HostError::Setup(e) => format!("the walogs component could not be set up: {e}"),
        HostError::Unsupported { .. } => format!(
            "{e} (a component built before walogs 0.2.0's repair; use the built-in one, \
             without --component)"
        ),
        // Not the wasm backtrace: what stopped the guest, and the usual cure.
        HostError::Trap(e) => {
            let text = format!("{e:#}");
            let cause = text
                .find("wasm trap:")
                .map_or(text.as_str(), |at| &text[at..]);
            format!(
                "the walogs component stopped ({}); a guest out of memory stops like this: \
                 a larger --max-memory may help",
                cause.lines().next().unwrap_or_default().trim()
            )
        }
        other => other.to_string(),
    }
}

/// An I/O error without its numeric OS code.
fn io_kind_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(_) => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_owned(),
                None => text,
            }
        }
        None if e.get_ref().is_some() => e.to_string(),
        None => e.kind().to_string(),
    }
}

/// The one range notation: `LSN 4`, `LSN 1..=13` (both ends held) or `no entries`.
pub fn range_text(first: Option<Lsn>, last: Option<Lsn>) -> String {
    match (first, last) {
        (Some(a), Some(b)) if a == b => format!("LSN {}", a.0),
        (Some(a), Some(b)) if a < b => format!("LSN {}..={}", a.0, b.0),
        _ => "no entries".to_owned(),
    }
}

/// An optional LSN for JSON.
pub fn lsn_json(lsn: Option<Lsn>) -> Option<u64> {
    lsn.map(|l| l.0)
}

/// One entry in JSON: its data as UTF-8 text when it is that (and base64 was not asked
/// for), else base64, with the encoding named.
#[derive(Debug, Serialize)]
pub struct EntryJson {
    lsn: u64,
    len: usize,
    encoding: &'static str,
    data: String,
}

impl EntryJson {
    /// Describes one entry; `base64` forces base64 even for text.
    pub fn new(lsn: Lsn, data: &[u8], base64: bool) -> Self {
        let (encoding, data_text) = match std::str::from_utf8(data) {
            Ok(s) if !base64 => ("utf8", s.to_owned()),
            _ => (
                "base64",
                base64::engine::general_purpose::STANDARD.encode(data),
            ),
        };
        Self {
            lsn: lsn.0,
            len: data.len(),
            encoding,
            data: data_text,
        }
    }
}

/// Entry data as one line of text: UTF-8 printed as is except `\\`, control characters
/// (`\n`, `\t`, `\r`, `\0`, `\xNN`) and bytes that are not UTF-8 (`\xNN`), all escaped,
/// so different entries never print the same.
pub fn escape_text(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    for chunk in data.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\0' => out.push_str("\\0"),
                c if c.is_control() && (c as u32) < 0x80 => {
                    out.push_str(&format!("\\x{:02x}", c as u32));
                }
                c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_tells_a_backslash_from_a_nul() {
        assert_eq!(escape_text(b"ab\\x00"), "ab\\\\x00");
        assert_eq!(escape_text(b"ab\0"), "ab\\0");
        assert_eq!(escape_text(b"a\r\n\xff\x01"), "a\\r\\n\\xff\\x01");
    }

    #[test]
    fn one_range_notation() {
        assert_eq!(range_text(Some(Lsn(1)), Some(Lsn(13))), "LSN 1..=13");
        assert_eq!(range_text(Some(Lsn(4)), Some(Lsn(4))), "LSN 4");
        assert_eq!(range_text(None, None), "no entries");
    }
}
