//! How long a group's leader waits for producers to join it before it writes.
//!
//! With pipelining alone, producers split into two cohorts: one group syncs while the
//! other gathers, so groups hold about half of the producers and every commit costs twice
//! the fdatasyncs it needs. The producers of a group that just finished come straight
//! back with their next commit, a few microseconds later; a leader that waits for them
//! merges the cohorts into one group. It waits only for as many producers as were busy
//! around the last group (its members plus those queued behind it), and never longer
//! than a fraction of the last group's write and sync, so a producer that stopped
//! committing costs a bounded delay once and is then no longer expected.

use std::time::Duration;

/// The share of the last group's duration a leader may spend gathering (1 / this). With
/// half, a leader starved of CPU by many producers lost more than merging cohorts won.
const WAIT_SHARE: u32 = 8;

/// What the last group tells the next leader.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gather {
    /// Producers expected in the next group.
    expected: usize,
    /// How long the last group's write (and sync) took.
    last_run: Duration,
}

impl Gather {
    /// Notes a group of `members` producers that took `run`, with `queued` producers
    /// waiting behind it when it finished.
    pub fn finished(&mut self, members: usize, queued: usize, run: Duration) {
        self.expected = members + queued;
        self.last_run = run;
    }

    /// Notes that a leader stopped gathering with `members` producers in its group: the
    /// next leader expects no more than these (plus whoever queues meanwhile).
    pub fn gathered(&mut self, members: usize) {
        self.expected = self.expected.min(members);
    }

    /// Producers expected in the next group.
    pub fn expected(&self) -> usize {
        self.expected
    }

    /// Whether a group of `members` producers should wait for more.
    pub fn wants_more(&self, members: usize) -> bool {
        members < self.expected
    }

    /// The longest a leader waits for producers to join, at most `cap`.
    pub fn max_wait(&self, cap: Duration) -> Duration {
        (self.last_run / WAIT_SHARE).min(cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_lone_producer_never_waits() {
        let mut gather = Gather::default();
        assert!(!gather.wants_more(1), "before any group");
        gather.finished(1, 0, MS);
        assert!(!gather.wants_more(1), "after a group of one");
    }

    #[test]
    fn the_next_leader_expects_the_last_group_and_everyone_queued_behind_it() {
        let mut gather = Gather::default();
        gather.finished(8, 8, MS);
        assert!(gather.wants_more(15));
        assert!(!gather.wants_more(16));
    }

    #[test]
    fn a_gather_that_came_up_short_lowers_what_the_next_leader_expects() {
        let mut gather = Gather::default();
        gather.finished(8, 8, MS);
        gather.gathered(5);
        assert!(!gather.wants_more(5));
    }

    #[test]
    fn the_wait_is_a_share_of_the_last_group_and_never_over_the_cap() {
        let mut gather = Gather::default();
        gather.finished(4, 0, 16 * MS);
        assert_eq!(
            gather.max_wait(Duration::from_secs(1)),
            16 * MS / WAIT_SHARE
        );
        assert_eq!(gather.max_wait(MS), MS);
        assert_eq!(gather.max_wait(Duration::ZERO), Duration::ZERO);
    }
}
