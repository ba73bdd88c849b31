//! [`Follow`]: a reader that tails a [`crate::SharedWal`], blocking for new durable entries.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use super::hub::Hub;
use super::view::View;
use crate::error::corrupt;
use crate::reader::{FrameReader, Next};
use crate::scan::check_lsn;
use crate::segment::segment_filename;
use crate::storage::OpenMode;
use crate::{Lsn, WalError};

/// A reader that follows a log: it yields every durable entry from its starting LSN on,
/// in order, then blocks until a group commit makes more durable.
///
/// Returned by [`crate::SharedLog::follow`]. It reads through its own file handles, moves
/// across rotations by itself, and never yields an entry that is not durable. It never
/// skips silently:
///
/// - a checkpoint that deletes entries it has not read yet makes its next call return
///   [`WalError::LsnOutOfRange`] (for the LSN it would have read next);
/// - a `truncate_after` that removes an entry it has already yielded does the same;
/// - damage on disk is a [`WalError::Corrupt`];
/// - a poisoned log, once the follower has read every durable entry, is
///   [`WalError::Poisoned`].
///
/// After an error the iterator ends. When every handle of the log has been
/// dropped, it ends too ([`Follow::is_closed`]) rather than wait forever.
///
/// ```
/// use std::time::Duration;
/// use walogs::{Lsn, SharedWal};
///
/// let dir = tempfile::tempdir()?;
/// let wal = SharedWal::open(dir.path())?;
/// let mut follower = wal.follow(Lsn(1))?;
/// let writer = {
///     let wal = wal.clone();
///     std::thread::spawn(move || wal.append(b"hello"))
/// };
/// let (lsn, data) = follower.next().unwrap()?; // blocks until the append is durable
/// assert_eq!((lsn, data.as_slice()), (Lsn(1), &b"hello"[..]));
/// writer.join().unwrap()?;
/// assert!(follower.next_timeout(Duration::from_millis(10))?.is_none()); // nothing new
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Follow {
    hub: Arc<Hub>,
    /// The LSN of the next entry to yield.
    next: u64,
    /// The newest view this follower has looked at.
    view: Arc<View>,
    /// How many truncations the follower has accounted for.
    truncations_seen: usize,
    /// The segment being read, once one is open.
    segment: Option<Segment>,
    closed: bool,
    finished: bool,
}

/// One open segment file.
#[derive(Debug)]
struct Segment {
    seq: u32,
    name: String,
    frames: FrameReader,
    /// The LSN the next frame must carry, when known.
    expect: Option<u64>,
}

/// What the log's shared state said at the last look.
struct Status {
    closed: bool,
    poisoned: Option<String>,
}

impl Follow {
    pub(crate) fn new(hub: Arc<Hub>, lsn: u64) -> Result<Follow, WalError> {
        let state = hub.lock();
        state.view.check_start(lsn)?;
        let view = Arc::clone(&state.view);
        let truncations_seen = hub.truncations().len();
        drop(state);
        Ok(Follow {
            hub,
            next: lsn,
            view,
            truncations_seen,
            segment: None,
            closed: false,
            finished: false,
        })
    }

    /// The LSN of the next entry this follower will yield.
    pub fn position(&self) -> Lsn {
        Lsn(self.next)
    }

    /// Whether the log was closed (every handle dropped) and every durable
    /// entry has been read: nothing more will come.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The next durable entry, waiting at most `timeout` for one. `Ok(None)` means nothing
    /// new became durable in time (or the log is closed: see [`Follow::is_closed`]).
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<(Lsn, Vec<u8>)>, WalError> {
        self.next_until(Some(Instant::now() + timeout))
    }

    fn next_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<(Lsn, Vec<u8>)>, WalError> {
        if self.finished {
            return Ok(None);
        }
        let result = self.wait_for_entry(deadline);
        if result.is_err() || self.closed {
            self.finished = true;
            self.segment = None;
        }
        result
    }

    fn wait_for_entry(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<(Lsn, Vec<u8>)>, WalError> {
        loop {
            let status = self.refresh()?;
            if let Some(entry) = self.read_durable()? {
                return Ok(Some(entry));
            }
            if status.closed {
                self.closed = true;
                return Ok(None);
            }
            if let Some(cause) = status.poisoned {
                return Err(WalError::Poisoned { cause });
            }
            if !self.wait_for_change(deadline) {
                return Ok(None);
            }
        }
    }

    /// Waits until a new view is published, the log is closed or poisoned, or `deadline`
    /// passes (then `false`).
    fn wait_for_change(&self, deadline: Option<Instant>) -> bool {
        let seen = self.view.version;
        let mut state = self.hub.lock();
        loop {
            if state.view.version != seen || state.storage.is_none() || state.poisoned.is_some() {
                return true;
            }
            state = match deadline {
                None => self
                    .hub
                    .view_changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                        return false;
                    };
                    self.hub
                        .view_changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    /// Takes the newest view: checks it against truncations and checkpoints, and lets the
    /// open segment be read up to its new size.
    fn refresh(&mut self) -> Result<Status, WalError> {
        let state = self.hub.lock();
        let view = Arc::clone(&state.view);
        let truncations = self.hub.truncations();
        let cut = truncations[self.truncations_seen..].iter().min().copied();
        self.truncations_seen = truncations.len();
        drop(truncations);
        let status = Status {
            closed: state.storage.is_none(),
            poisoned: state.poisoned.clone(),
        };
        drop(state);
        if let Some(cut) = cut {
            if self.next > cut + 1 {
                return Err(view.out_of_range(self.next));
            }
            // The segment holding the cut was rewritten: find the position again.
            self.segment = None;
        }
        if self.next < view.first_lsn() {
            return Err(view.out_of_range(self.next));
        }
        if let Some(segment) = &mut self.segment
            && let Some(info) = view.segments.iter().find(|s| s.seq == segment.seq)
        {
            segment.frames.extend_to(info.size);
        }
        self.view = view;
        Ok(status)
    }

    /// The next entry if the current view says it is durable; `None` otherwise (or when
    /// the log closed before its file could be opened).
    fn read_durable(&mut self) -> Result<Option<(Lsn, Vec<u8>)>, WalError> {
        while self.next <= self.view.durable {
            if self.segment.is_none() {
                let index = self.view.segment_index(self.next);
                let Some(segment) = self.open(index)? else {
                    return Ok(None);
                };
                self.segment = Some(segment);
            }
            let segment = self.segment.as_mut().expect("a segment is open");
            match segment.frames.next_frame()? {
                Next::Frame {
                    lsn, data, offset, ..
                } => {
                    check_lsn(&segment.name, offset, lsn, segment.expect)?;
                    let after = lsn.checked_add(1).ok_or_else(|| {
                        corrupt(format!(
                            "{}: frame at offset {offset} carries LSN {lsn}, the largest there is",
                            segment.name
                        ))
                    })?;
                    segment.expect = Some(after);
                    if lsn >= self.next {
                        self.next = after;
                        return Ok(Some((Lsn(lsn), data.to_vec())));
                    }
                }
                Next::End => {
                    let seq = segment.seq;
                    let Some(index) = self.view.segments.iter().position(|s| s.seq > seq) else {
                        let durable = self.view.durable;
                        return Err(corrupt(format!(
                            "{}: ends before durable LSN {durable}",
                            segment.name
                        )));
                    };
                    self.segment = None;
                    let Some(segment) = self.open(index)? else {
                        return Ok(None);
                    };
                    self.segment = Some(segment);
                }
                Next::Bad { offset, kind } => {
                    return Err(corrupt(format!(
                        "{}: {} at offset {offset}",
                        segment.name,
                        kind.describe()
                    )));
                }
            }
        }
        Ok(None)
    }

    /// Opens segment `index` of the current view; `None` once the log is closed.
    fn open(&self, index: usize) -> Result<Option<Segment>, WalError> {
        let info = &self.view.segments[index];
        let Some(storage) = self.hub.lock().storage.clone() else {
            return Ok(None);
        };
        let name = segment_filename(info.seq);
        let file = match storage.open(&name, OpenMode::Read) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A checkpoint deleted it after this view was taken.
                let view = Arc::clone(&self.hub.lock().view);
                return Err(view.deleted(self.next));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Some(Segment {
            seq: info.seq,
            frames: FrameReader::new(file, Some(info.size))?,
            name,
            expect: info.first_lsn.map(|l| l.0),
        }))
    }
}

impl Iterator for Follow {
    type Item = Result<(Lsn, Vec<u8>), WalError>;

    /// The next durable entry, blocking until there is one; `None` once the log is closed
    /// (or after an error).
    fn next(&mut self) -> Option<Self::Item> {
        self.next_until(None).transpose()
    }
}
