//! Group commit: producers queue their entries; whoever finds no group in flight leads the
//! next one — it takes everything queued (up to a byte cap), writes it with one write call
//! and one fdatasync, and hands every member its LSNs. While a group is in flight the next
//! one gathers in the queue, so a sync never holds the lock producers need to enqueue.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::view::View;
use crate::storage::Storage;
use crate::{Lsn, LsnRange, Wal, WalError};

/// The state producers and followers share, behind one mutex.
#[derive(Debug)]
pub(crate) struct Hub {
    state: Mutex<HubState>,
    /// Signalled when a group finishes: producers wait on it.
    group_done: Condvar,
    /// Signalled when a new view is published: followers wait on it.
    pub view_changed: Condvar,
}

/// One producer's entries, waiting for a leader.
#[derive(Debug)]
pub(crate) struct Member {
    ticket: u64,
    entries: Vec<Vec<u8>>,
    bytes: usize,
}

/// Everything behind the hub's mutex.
#[derive(Debug)]
pub(crate) struct HubState {
    queue: VecDeque<Member>,
    /// Whether a leader is writing a group right now.
    leading: bool,
    next_ticket: u64,
    /// Outcomes of finished members, by ticket, until their producer collects them.
    results: HashMap<u64, Result<LsnRange, WalError>>,
    /// Set by the first failed write or sync; every later call fails.
    pub poisoned: Option<String>,
    /// The log's shape for readers, replaced after every change.
    pub view: Arc<View>,
    /// The log's files, for followers; `None` once every `SharedWal` handle is gone.
    pub storage: Option<Arc<dyn Storage>>,
    /// The LSN each `truncate_after` cut after, oldest first.
    pub truncations: Vec<u64>,
}

impl Hub {
    /// The hub of a log handed over as `wal`.
    pub fn new(wal: &Wal) -> Hub {
        Hub {
            state: Mutex::new(HubState {
                queue: VecDeque::new(),
                leading: false,
                next_ticket: 0,
                results: HashMap::new(),
                poisoned: wal.poison_cause().map(str::to_owned),
                view: Arc::new(View::of(wal, 0)),
                storage: Some(Arc::clone(wal.storage())),
                truncations: Vec::new(),
            }),
            group_done: Condvar::new(),
            view_changed: Condvar::new(),
        }
    }

    /// Locks the state. A panic elsewhere never leaves it half-changed (see `GroupGuard`),
    /// so a poisoned mutex is used as is.
    pub fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a group to finish.
    fn wait_group<'a>(&self, state: MutexGuard<'a, HubState>) -> MutexGuard<'a, HubState> {
        self.group_done
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes the shape of `wal` (call while holding the log's lock, so that views are
    /// published in the order the changes happened) and records a poisoning.
    pub fn publish(&self, state: &mut HubState, wal: &Wal) {
        if let (None, Some(cause)) = (&state.poisoned, wal.poison_cause()) {
            state.poisoned = Some(cause.to_owned());
        }
        state.view = Arc::new(View::of(wal, state.view.version + 1));
        self.view_changed.notify_all();
    }
}

impl HubState {
    /// `Poisoned` once the handle is.
    pub fn check_poisoned(&self) -> Result<(), WalError> {
        match &self.poisoned {
            Some(cause) => Err(WalError::Poisoned {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// How a producer's entries reach the log.
pub(crate) struct Committer<'a> {
    pub hub: &'a Hub,
    pub wal: &'a Mutex<Wal>,
    pub max_group_bytes: usize,
}

impl Committer<'_> {
    fn lock_wal(&self) -> MutexGuard<'_, Wal> {
        self.wal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `entries` as one contiguous run and returns their LSNs once the group that
    /// carried them is durable (under `Durability::Always`).
    pub fn commit<T: AsRef<[u8]>>(&self, entries: &[T]) -> Result<LsnRange, WalError> {
        let mut state = self.hub.lock();
        state.check_poisoned()?;
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
                state = self.hub.lock();
                continue;
            }
            state = self.hub.wait_group(state);
        }
    }

    /// Writes `own` then every member's entries with one batch append (one write call and,
    /// under `Durability::Always`, one fdatasync), and settles every member. Returns the
    /// outcome for `own`. Called with `leading` set; clears it.
    fn run_group(&self, own: &[&[u8]], members: Vec<Member>) -> Result<LsnRange, WalError> {
        let mut guard = GroupGuard {
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
        let mut wal = self.lock_wal();
        let result = wal.append_batch(&slices);
        let mut state = self.hub.lock();
        self.hub.publish(&mut state, &wal);
        drop(wal);
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
                    state.results.insert(member.ticket, Err(duplicate(&e)));
                }
                // A failed write or sync poisoned the log (and, through `publish`, the
                // hub): nothing queued behind this group will be written.
                if state.poisoned.is_some() {
                    fail_queued(&mut state);
                }
                Err(e)
            }
        };
        state.leading = false;
        guard.tickets.clear();
        drop(state);
        self.hub.group_done.notify_all();
        own_result
    }
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

/// Fails every member still queued with `Poisoned`: no later group will run.
fn fail_queued(state: &mut HubState) {
    let cause = state.poisoned.clone().unwrap_or_default();
    while let Some(member) = state.queue.pop_front() {
        let poisoned = WalError::Poisoned {
            cause: cause.clone(),
        };
        state.results.insert(member.ticket, Err(poisoned));
    }
}

/// Settles a group whose leader panicked: its members fail and the handle is poisoned,
/// so that nobody waits for a group that will never finish.
struct GroupGuard<'a> {
    hub: &'a Hub,
    /// Members not settled yet; empty once the group finished normally.
    tickets: Vec<u64>,
}

impl Drop for GroupGuard<'_> {
    fn drop(&mut self) {
        if self.tickets.is_empty() && !std::thread::panicking() {
            return;
        }
        let mut state = self.hub.lock();
        if state.leading || !self.tickets.is_empty() {
            let cause = "a group commit's leader panicked".to_owned();
            state.poisoned.get_or_insert(cause.clone());
            for ticket in self.tickets.drain(..) {
                let poisoned = WalError::Poisoned {
                    cause: cause.clone(),
                };
                state.results.insert(ticket, Err(poisoned));
            }
            fail_queued(&mut state);
            state.leading = false;
        }
        drop(state);
        self.hub.group_done.notify_all();
        self.hub.view_changed.notify_all();
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
        WalError::Poisoned { cause } => WalError::Poisoned {
            cause: cause.clone(),
        },
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
        _ => WalError::Poisoned {
            cause: e.to_string(),
        },
    }
}
