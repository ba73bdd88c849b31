//! Group commit: producers queue their entries; whoever finds no group in flight leads the
//! next one — it takes everything queued (up to a byte cap), writes it with one
//! [`LogWriter::append_batch`] (one write call and one fdatasync), and hands every member
//! its LSNs. While a group is in flight the next one gathers in the queue: a sync never
//! holds the lock producers need to enqueue.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::hub::Hub;
use super::writer::LogWriter;
use crate::{Lsn, LsnRange, WalError};

/// The producers' queue, with its own mutex and condition variable.
#[derive(Debug)]
pub(crate) struct GroupQueue<E> {
    state: Mutex<QueueState<E>>,
    /// Signalled when a group finishes.
    group_done: Condvar,
}

/// One producer's entries, waiting for a leader.
#[derive(Debug)]
struct Member {
    ticket: u64,
    entries: Vec<Vec<u8>>,
    bytes: usize,
}

#[derive(Debug)]
struct QueueState<E> {
    queue: VecDeque<Member>,
    /// Whether a leader is writing a group right now.
    leading: bool,
    next_ticket: u64,
    /// Outcomes of finished members, by ticket, until their producer collects them.
    results: HashMap<u64, Result<LsnRange, E>>,
    /// Set by the first failure that poisoned the log; every later call fails.
    poisoned: Option<String>,
}

impl<E> QueueState<E> {
    /// Fails every member still queued with `Poisoned`: no later group will run.
    fn fail_queued(&mut self)
    where
        E: From<WalError>,
    {
        let cause = self.poisoned.clone().unwrap_or_default();
        while let Some(member) = self.queue.pop_front() {
            let poisoned = WalError::Poisoned {
                cause: cause.clone(),
            };
            self.results.insert(member.ticket, Err(poisoned.into()));
        }
    }
}

/// `Poisoned` with `cause`.
pub(crate) fn poisoned(cause: &str) -> WalError {
    WalError::Poisoned {
        cause: cause.to_owned(),
    }
}

impl<E: From<WalError>> GroupQueue<E> {
    /// An empty queue, poisoned from the start if `poisoned` is set.
    pub fn new(poisoned: Option<String>) -> Self {
        GroupQueue {
            state: Mutex::new(QueueState {
                queue: VecDeque::new(),
                leading: false,
                next_ticket: 0,
                results: HashMap::new(),
                poisoned,
            }),
            group_done: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState<E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Poisoned` once the log is.
    pub fn check_poisoned(&self) -> Result<(), E> {
        match &self.lock().poisoned {
            Some(cause) => Err(poisoned(cause).into()),
            None => Ok(()),
        }
    }

    /// Marks the log poisoned (an operation outside a group failed it) and fails
    /// everyone queued.
    pub fn poison(&self, cause: String) {
        let mut state = self.lock();
        state.poisoned.get_or_insert(cause);
        state.fail_queued();
        drop(state);
        self.group_done.notify_all();
    }
}

/// How a producer's entries reach the writer.
pub(crate) struct Committer<'a, W: LogWriter> {
    pub queue: &'a GroupQueue<W::Error>,
    pub writer: &'a Mutex<W>,
    pub hub: &'a Hub,
    pub max_group_bytes: usize,
}

impl<W: LogWriter> Committer<'_, W> {
    /// Appends `entries` as one contiguous run and returns their LSNs once the group that
    /// carried them is durable (under `Durability::Always`).
    pub fn commit<T: AsRef<[u8]>>(&self, entries: &[T]) -> Result<LsnRange, W::Error> {
        let mut state = self.queue.lock();
        if let Some(cause) = &state.poisoned {
            return Err(poisoned(cause).into());
        }
        if !state.leading && state.queue.is_empty() {
            // Nobody else is here: lead a group of one, straight from the caller's slices.
            state.leading = true;
            drop(state);
            let own: Vec<&[u8]> = entries.iter().map(AsRef::as_ref).collect();
            return self.run_group(&own, Vec::new());
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        let entries: Vec<Vec<u8>> = entries.iter().map(|e| e.as_ref().to_vec()).collect();
        let bytes = entries.iter().map(Vec::len).sum();
        state.queue.push_back(Member {
            ticket,
            entries,
            bytes,
        });
        loop {
            if let Some(result) = state.results.remove(&ticket) {
                return result;
            }
            if !state.leading {
                state.leading = true;
                let group = take_group(&mut state.queue, self.max_group_bytes);
                drop(state);
                // Our own outcome, if we were in the group, is in `results` afterwards.
                let _ = self.run_group(&[], group);
                state = self.queue.lock();
                continue;
            }
            state = self
                .queue
                .group_done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Writes `own` then every member's entries with one batch append and settles every
    /// member; returns the outcome for `own`. Called with `leading` set; clears it.
    fn run_group(&self, own: &[&[u8]], members: Vec<Member>) -> Result<LsnRange, W::Error> {
        let mut guard = GroupGuard {
            queue: self.queue,
            hub: self.hub,
            tickets: members.iter().map(|m| m.ticket).collect(),
        };
        let slices: Vec<&[u8]> = own
            .iter()
            .copied()
            .chain(
                members
                    .iter()
                    .flat_map(|m| m.entries.iter().map(Vec::as_slice)),
            )
            .collect();
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let result = writer.append_batch(&slices);
        let poisoned = publish(self.hub, &mut *writer);
        drop(writer);
        let mut state = self.queue.lock();
        if let (None, Some(cause)) = (&state.poisoned, poisoned) {
            state.poisoned = Some(cause);
        }
        let own_result = match result {
            Ok(range) => {
                let mut next = range.start.0 + own.len() as u64;
                for member in &members {
                    let end = next + member.entries.len() as u64;
                    let lsns = LsnRange {
                        start: Lsn(next),
                        end: Lsn(end),
                    };
                    state.results.insert(member.ticket, Ok(lsns));
                    next = end;
                }
                Ok(LsnRange {
                    start: range.start,
                    end: Lsn(range.start.0 + own.len() as u64),
                })
            }
            Err(e) => {
                for member in &members {
                    state.results.insert(member.ticket, Err(W::duplicate(&e)));
                }
                Err(e)
            }
        };
        if state.poisoned.is_some() {
            // A failed write or sync: nothing queued behind this group will be written.
            state.fail_queued();
        }
        state.leading = false;
        guard.tickets.clear();
        drop(state);
        self.queue.group_done.notify_all();
        own_result
    }
}

/// Publishes the writer's shape to the readers; returns what poisoned the writer, if
/// anything did (a writer whose shape cannot be read is poisoned too).
pub(crate) fn publish<W: LogWriter>(hub: &Hub, writer: &mut W) -> Option<String> {
    let (shape, mut poisoned) = match writer.shape() {
        Ok(shape) => (Some(shape), None),
        Err(e) => (None, Some(e.to_string())),
    };
    if poisoned.is_none() {
        poisoned = writer.poisoned();
    }
    hub.publish(shape, poisoned.clone());
    poisoned
}

/// Takes members from the front of `queue` while their entries fit in `max_bytes`; the
/// first member is always taken, however large.
fn take_group(queue: &mut VecDeque<Member>, max_bytes: usize) -> Vec<Member> {
    let mut group = Vec::new();
    let mut bytes = 0usize;
    while let Some(member) = queue.front() {
        if !group.is_empty() && bytes + member.bytes > max_bytes {
            break;
        }
        bytes += member.bytes;
        group.extend(queue.pop_front());
    }
    group
}

/// Settles a group whose leader panicked: its members fail and the log is poisoned, so
/// that nobody waits for a group that will never finish.
struct GroupGuard<'a, E: From<WalError>> {
    queue: &'a GroupQueue<E>,
    hub: &'a Hub,
    /// Members not settled yet; empty once the group finished normally.
    tickets: Vec<u64>,
}

impl<E: From<WalError>> Drop for GroupGuard<'_, E> {
    fn drop(&mut self) {
        if self.tickets.is_empty() && !std::thread::panicking() {
            return;
        }
        let cause = "a group commit's leader panicked".to_owned();
        let mut state = self.queue.lock();
        if state.leading {
            state.poisoned.get_or_insert(cause.clone());
            for ticket in self.tickets.drain(..) {
                state.results.insert(ticket, Err(poisoned(&cause).into()));
            }
            state.fail_queued();
            state.leading = false;
        }
        drop(state);
        self.queue.group_done.notify_all();
        self.hub.publish(None, Some(cause));
    }
}

/// A copy of `e` for another member of a failed group: the same variant and message (an
/// I/O error keeps its kind).
pub(crate) fn duplicate(e: &WalError) -> WalError {
    match e {
        WalError::Io(io) => WalError::Io(io::Error::new(io.kind(), io.to_string())),
        WalError::EntryTooLarge { size, max } => WalError::EntryTooLarge {
            size: *size,
            max: *max,
        },
        WalError::Corrupt { reason } => WalError::Corrupt {
            reason: reason.clone(),
        },
        WalError::Locked { dir } => WalError::Locked { dir: dir.clone() },
        WalError::Poisoned { cause } => poisoned(cause),
        WalError::LsnOutOfRange { lsn, first, next } => WalError::LsnOutOfRange {
            lsn: *lsn,
            first: *first,
            next: *next,
        },
        WalError::InvalidPath { path, reason } => WalError::InvalidPath {
            path: path.clone(),
            reason: reason.clone(),
        },
        WalError::NotADirectory { path } => WalError::NotADirectory { path: path.clone() },
        WalError::ReadOnly => WalError::ReadOnly,
        #[allow(unreachable_patterns)]
        _ => poisoned(&e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(ticket: u64, bytes: usize) -> Member {
        Member {
            ticket,
            entries: vec![vec![0; bytes]],
            bytes,
        }
    }

    fn tickets(group: &[Member]) -> Vec<u64> {
        group.iter().map(|m| m.ticket).collect()
    }

    #[test]
    fn a_group_stops_at_the_byte_cap_but_always_takes_its_first_member() {
        let mut queue: VecDeque<Member> = [
            member(0, 600),
            member(1, 300),
            member(2, 200),
            member(3, 10),
        ]
        .into();
        assert_eq!(tickets(&take_group(&mut queue, 1000)), [0, 1]);
        assert_eq!(
            tickets(&take_group(&mut queue, 100)),
            [2],
            "over the cap alone"
        );
        assert_eq!(tickets(&take_group(&mut queue, 100)), [3]);
        assert!(take_group(&mut queue, 100).is_empty());
    }

    #[test]
    fn a_failed_groups_members_each_get_the_error_with_its_kind() {
        let e = WalError::Io(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        match duplicate(&e) {
            WalError::Io(copy) => {
                assert_eq!(copy.kind(), io::ErrorKind::StorageFull);
                assert_eq!(copy.to_string(), "disk full");
            }
            other => panic!("{other}"),
        }
    }
}
