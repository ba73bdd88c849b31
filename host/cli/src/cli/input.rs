//! Entries to append, as they arrive: arguments, files, or stdin records read on a thread
//! so that a batch can be appended when its time is up even while stdin is quiet.

use std::ffi::OsString;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use walogs_host::HostError;

/// One entry and where it came from.
#[derive(Debug)]
pub struct Record {
    /// Where it came from, in the user's terms: `line 7`, `argument 2`, `file a.bin`.
    pub origin: String,
    /// The entry's bytes.
    pub data: Vec<u8>,
}

/// What the next call to [`Source::next`] found.
#[derive(Debug)]
pub enum Next {
    /// An entry.
    Record(Record),
    /// No entry arrived within the timeout (stdin only).
    Quiet,
    /// The input ended.
    End,
}

/// Where the entries come from.
pub enum Source {
    /// Given up front (arguments or files), in order.
    Given(std::vec::IntoIter<Record>),
    /// Stdin, split on the delimiter by a reader thread.
    Stdin(Receiver<Result<Record, HostError>>),
}

impl Source {
    /// The arguments as entries (their bytes as given).
    pub fn arguments(data: Vec<OsString>) -> Self {
        let records: Vec<Record> = data
            .into_iter()
            .enumerate()
            .map(|(i, a)| Record {
                origin: format!("argument {}", i + 1),
                data: a.into_encoded_bytes(),
            })
            .collect();
        Self::Given(records.into_iter())
    }

    /// Each file's bytes as one entry.
    pub fn files(files: &[PathBuf]) -> Result<Self, HostError> {
        let mut records = Vec::with_capacity(files.len());
        for f in files {
            let data = std::fs::read(f)
                .map_err(|e| HostError::io(format!("read the file {}", f.display()), e))?;
            records.push(Record {
                origin: format!("file {}", f.display()),
                data,
            });
        }
        Ok(Self::Given(records.into_iter()))
    }

    /// Stdin's records, ended by `delimiter` (a missing final delimiter is fine); every
    /// byte else is kept (`\r` included).
    pub fn stdin(delimiter: u8) -> Self {
        let (tx, rx) = mpsc::sync_channel(1024);
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            for n in 1.. {
                let mut data = Vec::new();
                let read = match stdin.read_until(delimiter, &mut data) {
                    Ok(0) => break,
                    Ok(_) => {
                        if data.last() == Some(&delimiter) {
                            data.pop();
                        }
                        Ok(Record {
                            origin: format!("line {n}"),
                            data,
                        })
                    }
                    Err(e) => Err(HostError::io(format!("read standard input (line {n})"), e)),
                };
                let failed = read.is_err();
                if tx.send(read).is_err() || failed {
                    break;
                }
            }
        });
        Self::Stdin(rx)
    }

    /// The next entry, waiting at most `wait` for stdin (forever when `None`).
    pub fn next(&mut self, wait: Option<Duration>) -> Result<Next, HostError> {
        match self {
            Self::Given(records) => Ok(records.next().map_or(Next::End, Next::Record)),
            Self::Stdin(rx) => {
                let got = match wait {
                    Some(wait) => rx.recv_timeout(wait),
                    None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                };
                match got {
                    Ok(record) => record.map(Next::Record),
                    Err(RecvTimeoutError::Timeout) => Ok(Next::Quiet),
                    Err(RecvTimeoutError::Disconnected) => Ok(Next::End),
                }
            }
        }
    }
}
