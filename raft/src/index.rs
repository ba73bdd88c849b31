//! The one place Raft indices and walogs LSNs are mapped onto each other.
//!
//! Raft numbers entries from 0, walogs from LSN 1, and walogs LSNs are dense and never
//! reused. A store starts with index `i` at LSN `i + 1`. When the store holds no entry (new,
//! purged past its last entry, or truncated from its first entry on), the next entry may
//! carry an index walogs' next LSN does not match; the store then moves the map so that this
//! index — the map's `start` — lands on the next LSN. Entries still in the log below that
//! LSN belong to no index the store returns.

use serde::{Deserialize, Serialize};
use walogs::Lsn;

/// `lsn = index + offset`, for indices from `start` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMap {
    offset: i64,
    start: u64,
}

impl IndexMap {
    /// A new store's map: index 0 is LSN 1.
    pub const INITIAL: IndexMap = IndexMap {
        offset: 1,
        start: 0,
    };

    /// The map that starts at `index`, placed at `lsn`.
    pub fn placing(index: u64, lsn: Lsn) -> IndexMap {
        let offset = i128::from(lsn.0) - i128::from(index);
        IndexMap {
            offset: i64::try_from(offset).expect("index and LSN within 2^63 of each other"),
            start: index,
        }
    }

    /// The lowest index this map covers: LSNs below its place hold no entry of the store.
    pub fn start(self) -> u64 {
        self.start
    }

    /// The LSN holding `index` (`None` when it would be below LSN 1).
    pub fn lsn(self, index: u64) -> Option<Lsn> {
        let lsn = i128::from(index) + i128::from(self.offset);
        u64::try_from(lsn).ok().filter(|&l| l >= 1).map(Lsn)
    }

    /// The index `lsn` holds (`None` when it would be below 0).
    pub fn index(self, lsn: Lsn) -> Option<u64> {
        u64::try_from(i128::from(lsn.0) - i128::from(self.offset)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_zero_is_lsn_one_in_a_new_store() {
        assert_eq!(IndexMap::INITIAL.lsn(0), Some(Lsn(1)));
        assert_eq!(IndexMap::INITIAL.index(Lsn(1)), Some(0));
    }

    #[test]
    fn a_moved_map_hides_older_lsns_below_index_zero_or_the_new_start() {
        let map = IndexMap::placing(21, Lsn(12));
        assert_eq!((map.lsn(21), map.start()), (Some(Lsn(12)), 21));
        assert_eq!(map.index(Lsn(11)), Some(20));
        let map = IndexMap::placing(0, Lsn(12));
        assert_eq!(map.index(Lsn(11)), None);
        assert_eq!(map.lsn(0), Some(Lsn(12)));
    }
}
