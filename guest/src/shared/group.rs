//! Group commit: producers queue their entries; whoever finds no group in flight leads the
//! next one — it takes everything queued (up to a byte cap), writes it with one
//! [`LogWriter::append_batch`] (one write call and one fdatasync), and hands every member
//! its LSNs. While a group is in flight the next one gathers in the queue: a sync never
//! holds the lock producers need to enqueue. A finished leader wakes each member on its
//! own slot (no herd on the queue's lock) and hands the lead to the first producer
//! queued; a new leader first waits, briefly, for the producers of the group before it to
//! come back (see [`super::gather`]).

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::gather::Gather;
use super::hub::Hub;
use super::writer::LogWriter;
use crate::{Lsn, LsnRange, WalError};

/// The producers' queue, with its own mutex.
#[derive(Debug)]
pub(crate) struct GroupQueue<E> {
    state: Mutex<QueueState<E>>,
    /// Signalled when the producers a gathering leader waits for have queued.
    arrived: Condvar,
}

/// What a queued producer is told.
#[derive(Debug)]
enum Word<E> {
    /// Nothing yet.
    Wait,
    /// Lead the next group (the lead was handed over: `leading` stays set).
    Lead,
    /// The group that carried the entries finished with this.
    Done(Result<LsnRange, E>),
}

/// Where one queued producer waits for its [`Word`].
#[derive(Debug)]
struct Slot<E> {
    word: Mutex<Word<E>>,
    told: Condvar,
}

impl<E> Slot<E> {
    fn new() -> Arc<Self> {
        Arc::new(Slot {
            word: Mutex::new(Word::Wait),
            told: Condvar::new(),
        })
    }

    fn tell(&self, word: Word<E>) {
        *self.word.lock().unwrap_or_else(PoisonError::into_inner) = word;
        self.told.notify_one();
    }

    /// Blocks until told something; takes it.
    fn listen(&self) -> Word<E> {
        let mut word = self.word.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match std::mem::replace(&mut *word, Word::Wait) {
                Word::Wait => {}
                told => return told,
            }
            word = self.told.wait(word).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// One producer's entries, waiting for a leader.
#[derive(Debug)]
struct Member<E> {
    entries: Vec<Vec<u8>>,
    bytes: usize,
    slot: Arc<Slot<E>>,
}

#[derive(Debug)]
struct QueueState<E> {
    queue: VecDeque<Member<E>>,
    /// Whether a leader is gathering or writing a group right now (or was handed the lead).
    leading: bool,
    /// Set by the first failure that poisoned the log; every later call fails.
    poisoned: Option<String>,
    /// What the last group tells the next leader about gathering.
    gather: Gather,
    /// While a leader gathers: how many queued producers it waits for.
    awaited: Option<usize>,
}

impl<E: From<WalError>> QueueState<E> {
    /// Fails every member still queued with `Poisoned`: no later group will run.
    fn fail_queued(&mut self) {
        let cause = self.poisoned.clone().unwrap_or_default();
        for member in self.queue.drain(..) {
            member.slot.tell(Word::Done(Err(poisoned(&cause).into())));
        }
    }

    /// Ends a lead: hands it to the first producer queued, or leaves it free.
    fn pass_lead(&mut self) {
        match self.queue.front() {
            Some(next) => next.slot.tell(Word::Lead),
            None => self.leading = false,
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
                poisoned,
                gather: Gather::default(),
                awaited: None,
            }),
            arrived: Condvar::new(),
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
        self.arrived.notify_all();
    }
}

/// How a producer's entries reach the writer.
pub(crate) struct Committer<'a, W: LogWriter> {
    pub queue: &'a GroupQueue<W::Error>,
    pub writer: &'a Mutex<W>,
    pub hub: &'a Hub,
    pub max_group_bytes: usize,
    /// The longest a leader waits for producers to join its group.
    pub max_group_wait: Duration,
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
            // Nobody is queued: lead, straight from the caller's slices, with whoever
            // joins while we gather.
            state.leading = true;
            let own: Vec<&[u8]> = entries.iter().map(AsRef::as_ref).collect();
            let bytes = own.iter().map(|e| e.len()).sum();
            let members = self.gather(state, 1, bytes);
            return self.run_group(&own, members);
        }
        let entries: Vec<Vec<u8>> = entries.iter().map(|e| e.as_ref().to_vec()).collect();
        let bytes = entries.iter().map(Vec::len).sum();
        let slot = Slot::new();
        state.queue.push_back(Member {
            entries,
            bytes,
            slot: Arc::clone(&slot),
        });
        if state
            .awaited
            .is_some_and(|awaited| state.queue.len() >= awaited)
        {
            self.queue.arrived.notify_one();
        }
        // A queue is never left without a leader: a finished one hands the lead to the
        // first producer queued (`pass_lead`).
        debug_assert!(state.leading, "producers queued without a leader");
        drop(state);
        loop {
            match slot.listen() {
                Word::Done(result) => return result,
                Word::Lead => {
                    let group = self.gather(self.queue.lock(), 0, 0);
                    // We are in the group: our own outcome comes to our slot.
                    let _ = self.run_group(&[], group);
                }
                Word::Wait => unreachable!("listen returns only what it was told"),
            }
        }
    }

    /// Waits (with `leading` set) until the producers the last group expects have queued,
    /// the queue reaches the byte cap or the wait runs out, then takes the group. `own`
    /// members and `own_bytes` are the leader's own entries, not in the queue.
    fn gather(
        &self,
        mut state: MutexGuard<'_, QueueState<W::Error>>,
        own: usize,
        own_bytes: usize,
    ) -> Vec<Member<W::Error>> {
        let deadline = Instant::now() + state.gather.max_wait(self.max_group_wait);
        let full = |state: &QueueState<W::Error>| {
            !state.gather.wants_more(own + state.queue.len())
                || own_bytes + state.queue.iter().map(|m| m.bytes).sum::<usize>()
                    >= self.max_group_bytes
                || state.poisoned.is_some()
        };
        while !full(&state) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                let members = own + state.queue.len();
                state.gather.gathered(members);
                break;
            };
            state.awaited = Some(state.gather.expected().saturating_sub(own));
            state = self
                .queue
                .arrived
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            state.awaited = None;
        }
        take_group(&mut state.queue, self.max_group_bytes, own > 0, own_bytes)
    }

    /// Writes `own` then every member's entries with one batch append and settles every
    /// member; returns the outcome for `own`. Called with `leading` set; passes the lead on.
    fn run_group(
        &self,
        own: &[&[u8]],
        members: Vec<Member<W::Error>>,
    ) -> Result<LsnRange, W::Error> {
        let mut guard = GroupGuard {
            queue: self.queue,
            hub: self.hub,
            members,
        };
        let slices: Vec<&[u8]> = own
            .iter()
            .copied()
            .chain(
                guard
                    .members
                    .iter()
                    .flat_map(|m| m.entries.iter().map(Vec::as_slice)),
            )
            .collect();
        let started = Instant::now();
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let result = if slices.is_empty() {
            Ok(LsnRange {
                start: Lsn(0),
                end: Lsn(0),
            })
        } else {
            writer.append_batch(&slices)
        };
        let poisoned = publish(self.hub, &mut *writer);
        drop(writer);
        let members = std::mem::take(&mut guard.members);
        // Count who queued behind this group before its members are let go (and queue
        // again): the next leader expects all of them.
        let mut state = self.queue.lock();
        let queued = state.queue.len();
        let size = usize::from(!own.is_empty()) + members.len();
        state.gather.finished(size, queued, started.elapsed());
        drop(state);
        let own_result = match result {
            Ok(range) => {
                let mut next = range.start.0 + own.len() as u64;
                for member in &members {
                    let end = next + member.entries.len() as u64;
                    let lsns = LsnRange {
                        start: Lsn(next),
                        end: Lsn(end),
                    };
                    member.slot.tell(Word::Done(Ok(lsns)));
                    next = end;
                }
                Ok(LsnRange {
                    start: range.start,
                    end: Lsn(range.start.0 + own.len() as u64),
                })
            }
            Err(e) => {
                for member in &members {
                    member.slot.tell(Word::Done(Err(W::duplicate(&e))));
                }
                Err(e)
            }
        };
        let mut state = self.queue.lock();
        if let (None, Some(cause)) = (&state.poisoned, poisoned) {
            state.poisoned = Some(cause);
        }
        if state.poisoned.is_some() {
            // A failed write or sync: nothing queued behind this group will be written.
            state.fail_queued();
        }
        state.pass_lead();
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

/// Takes members from the front of `queue` while their entries fit in `max_bytes` with
/// the leader's own `own_bytes` (when it has entries of its own, `own`); a leader without
/// entries always takes the first member, however large.
fn take_group<E>(
    queue: &mut VecDeque<Member<E>>,
    max_bytes: usize,
    own: bool,
    own_bytes: usize,
) -> Vec<Member<E>> {
    let mut group = Vec::new();
    let mut bytes = own_bytes;
    while let Some(member) = queue.front() {
        if (own || !group.is_empty()) && bytes + member.bytes > max_bytes {
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
    members: Vec<Member<E>>,
}

impl<E: From<WalError>> Drop for GroupGuard<'_, E> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let cause = "a group commit's leader panicked".to_owned();
        for member in self.members.drain(..) {
            member.slot.tell(Word::Done(Err(poisoned(&cause).into())));
        }
        let mut state = self.queue.lock();
        state.poisoned.get_or_insert(cause.clone());
        state.fail_queued();
        state.leading = false;
        drop(state);
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

    fn member(ticket: u64, bytes: usize) -> Member<WalError> {
        Member {
            entries: vec![vec![ticket as u8; bytes]],
            bytes,
            slot: Slot::new(),
        }
    }

    fn tickets(group: &[Member<WalError>]) -> Vec<u64> {
        group.iter().map(|m| u64::from(m.entries[0][0])).collect()
    }

    #[test]
    fn a_group_stops_at_the_byte_cap_but_always_takes_its_first_member() {
        let mut queue: VecDeque<Member<WalError>> = [
            member(0, 600),
            member(1, 300),
            member(2, 200),
            member(3, 10),
        ]
        .into();
        assert_eq!(tickets(&take_group(&mut queue, 1000, false, 0)), [0, 1]);
        assert_eq!(
            tickets(&take_group(&mut queue, 100, false, 0)),
            [2],
            "over the cap alone"
        );
        assert_eq!(tickets(&take_group(&mut queue, 100, false, 0)), [3]);
        assert!(take_group(&mut queue, 100, false, 0).is_empty());
    }

    #[test]
    fn a_leader_with_entries_of_its_own_takes_only_what_fits_beside_them() {
        let mut queue: VecDeque<Member<WalError>> = [member(0, 600), member(1, 300)].into();
        assert!(
            take_group(&mut queue, 1000, true, 500).is_empty(),
            "600 + 500"
        );
        assert_eq!(tickets(&take_group(&mut queue, 1000, true, 100)), [0, 1]);
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
