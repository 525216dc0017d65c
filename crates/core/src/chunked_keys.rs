//! An ordered set of keys kept in short sorted runs ("chunks"), for a table whose keys mostly
//! arrive in increasing order and leave from the front: the queue's waiting order (by eligible
//! time, then id) and its eligible order (by bid, then id; every request without a bid is
//! appended at the end). A key larger than every other is pushed onto the last chunk, found by
//! following the right edge of a small map of chunks, with one comparison; the first key is
//! taken from the front of the first chunk. A `BTreeSet` pays a descent with a comparison
//! against every key of each node on its right edge for the same append, which made up a
//! fifth of a servicing round's instructions (issue 14).
//!
//! Any other insertion or removal costs a descent of the chunk map (one entry per up to
//! [`CHUNK_KEYS_MAX`] keys), a binary search in one chunk and a shift of at most half of it:
//! O(log n) as in a `BTreeSet`, whatever order the keys come in. A chunk that grows beyond the
//! bound splits in two; an emptied chunk goes; a chunk's spare room is given back when it falls
//! below a quarter used, so memory stays within a constant factor of the keys held whatever
//! the order of writes.
//!
//! Guarantees: iteration yields exactly the keys a `BTreeSet` given the same insertions and
//! removals would hold, in the same order (a property test drives both with the same
//! operations, `crates/core/tests/chunked_keys.rs`).

use std::collections::{BTreeMap, VecDeque};
use std::ops::{Bound, RangeBounds};

/// The most keys a chunk holds: shifting half of them (a key inserted into the middle) moves
/// at most this many keys' bytes / 2, and the map has one entry per chunk.
pub const CHUNK_KEYS_MAX: usize = 64;

/// Where a key belongs in a [`ChunkedKeys`].
enum Place<K> {
    First,
    Last,
    Floor(K),
}

/// An ordered set of keys in sorted chunks (see the module documentation).
#[derive(Clone, Debug)]
pub struct ChunkedKeys<K> {
    /// The chunks by floor: every key of a chunk is at least its floor and below the floor of
    /// the next chunk. No chunk is empty; each is sorted and holds at most
    /// [`CHUNK_KEYS_MAX`] keys.
    chunks: BTreeMap<K, VecDeque<K>>,
    /// The number of keys.
    len: usize,
}

impl<K> Default for ChunkedKeys<K> {
    fn default() -> Self {
        ChunkedKeys { chunks: BTreeMap::new(), len: 0 }
    }
}

impl<K: Ord + Clone> ChunkedKeys<K> {
    /// The number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where `key` belongs: in the first chunk (at or below its last key: the front of the
    /// order, where a round serves and the few bidders go), in the last (at or above its floor:
    /// where new keys arrive), or in the chunk with this floor, found by a descent of the map.
    /// The first two cost no descent.
    fn place(&self, key: &K) -> Place<K> {
        let Some((_, first)) = self.chunks.first_key_value() else { return Place::First };
        if first.back().is_some_and(|back| key <= back) {
            return Place::First;
        }
        let Some((last_floor, _)) = self.chunks.last_key_value() else { return Place::First };
        if key >= last_floor {
            return Place::Last;
        }
        match self.chunks.range(..=key).next_back() {
            Some((floor, _)) => Place::Floor(floor.clone()),
            None => Place::First,
        }
    }

    /// The chunk at `place`, with its floor; `None` when there is no chunk.
    fn chunk_at(
        chunks: &mut BTreeMap<K, VecDeque<K>>,
        place: Place<K>,
    ) -> Option<(&K, &mut VecDeque<K>)> {
        match place {
            Place::First => chunks.iter_mut().next(),
            Place::Last => chunks.iter_mut().next_back(),
            Place::Floor(floor) => chunks.range_mut(floor..).next(),
        }
    }

    /// Adds `key`; returns whether it was absent.
    pub fn insert(&mut self, key: K) -> bool {
        // The usual case: a key above every other joins the last chunk, or starts a new one.
        if let Some(mut last) = self.chunks.last_entry() {
            let chunk = last.get_mut();
            if chunk.back().is_some_and(|back| *back < key) {
                if chunk.len() < CHUNK_KEYS_MAX {
                    chunk.push_back(key);
                } else {
                    self.chunks.insert(key.clone(), VecDeque::from([key]));
                }
                self.len += 1;
                return true;
            }
        }
        let place = self.place(&key);
        let is_first = matches!(place, Place::First);
        let Some((floor, chunk)) = Self::chunk_at(&mut self.chunks, place) else {
            self.chunks.insert(key.clone(), VecDeque::from([key]));
            self.len = 1;
            return true;
        };
        // A key below every other lowers the first chunk's floor to itself.
        let lowers_floor = is_first && key < *floor;
        let Err(at) = chunk.binary_search(&key) else { return false };
        chunk.insert(at, key);
        let upper = match chunk.len() > CHUNK_KEYS_MAX {
            true => Some(chunk.split_off(chunk.len() / 2)),
            false => None,
        };
        self.len += 1;
        if lowers_floor {
            let Some((_, chunk)) = self.chunks.pop_first() else {
                unreachable!("the first chunk was just written");
            };
            let Some(front) = chunk.front().cloned() else {
                unreachable!("a chunk just written is not empty");
            };
            self.chunks.insert(front, chunk);
        }
        if let Some(upper) = upper {
            let Some(upper_floor) = upper.front().cloned() else {
                unreachable!("half of an overfull chunk is not empty");
            };
            self.chunks.insert(upper_floor, upper);
        }
        true
    }

    /// Removes `key`; returns whether it was present.
    pub fn remove(&mut self, key: &K) -> bool {
        // The usual case: the first key (a round serving the eligible order's front, or taking
        // the due requests from the waiting order's front), reached in one step to the first
        // chunk, without placing the key first (two more steps through the map).
        if let Some(mut first) = self.chunks.first_entry() {
            let chunk = first.get_mut();
            if chunk.front() == Some(key) {
                chunk.pop_front();
                self.len -= 1;
                if chunk.is_empty() {
                    first.remove();
                }
                return true;
            }
        }
        let place = self.place(key);
        let is_first = matches!(place, Place::First);
        let Some((floor, chunk)) = Self::chunk_at(&mut self.chunks, place) else { return false };
        let at = match chunk.front() {
            // The usual case: the first key of its chunk (a round serving the order's front).
            Some(front) if front == key => 0,
            _ => match chunk.binary_search(key) {
                Ok(at) => at,
                Err(_) => return false,
            },
        };
        chunk.remove(at);
        self.len -= 1;
        if chunk.is_empty() {
            let floor = floor.clone();
            self.chunks.remove(&floor);
        } else if !is_first && chunk.capacity() > 4 * chunk.len() + 4 {
            // Give back room no longer used, so that memory stays within a constant factor of
            // the keys whatever order they are removed in. Not for the first chunk: a round
            // drains it from the front, and it goes once empty.
            chunk.shrink_to(2 * chunk.len());
        }
        true
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &K) -> bool {
        self.chunks
            .range(..=key)
            .next_back()
            .is_some_and(|(_, chunk)| chunk.binary_search(key).is_ok())
    }

    /// The smallest key.
    pub fn first(&self) -> Option<&K> {
        self.chunks.first_key_value().and_then(|(_, chunk)| chunk.front())
    }

    /// The largest key.
    pub fn last(&self) -> Option<&K> {
        self.chunks.last_key_value().and_then(|(_, chunk)| chunk.back())
    }

    /// Every key, in order.
    pub fn iter(&self) -> Iter<'_, K> {
        Iter { keys: self.chunks.values().flatten(), len: self.len }
    }

    /// The keys in `range`, in order: those of the chunks that may hold them, filtered at the
    /// edges.
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> impl DoubleEndedIterator<Item = &K> {
        // From the chunk that may hold the start: the one whose floor is the largest at or
        // below it (floors never exceed their keys).
        let lower = match range.start_bound() {
            Bound::Included(start) | Bound::Excluded(start) => {
                match self.chunks.range(..=start).next_back() {
                    Some((floor, _)) => Bound::Included(floor),
                    None => Bound::Unbounded,
                }
            }
            Bound::Unbounded => Bound::Unbounded,
        };
        // To the last chunk whose floor is in the range: a later one starts beyond it.
        let upper = range.end_bound();
        let chunks = match (lower, upper) {
            // A range that ends before the start's chunk holds nothing (and the map's `range`
            // would panic on it).
            (Bound::Included(floor), Bound::Included(end) | Bound::Excluded(end))
                if floor > end =>
            {
                self.chunks.range((Bound::Included(floor), Bound::Excluded(floor)))
            }
            _ => self.chunks.range((lower, upper)),
        };
        chunks.flat_map(|(_, chunk)| chunk.iter()).filter(move |key| range.contains(*key))
    }
}

/// The keys of a [`ChunkedKeys`] in order, with their number.
#[derive(Clone, Debug)]
pub struct Iter<'a, K> {
    keys: std::iter::Flatten<std::collections::btree_map::Values<'a, K, VecDeque<K>>>,
    len: usize,
}

impl<'a, K> Iterator for Iter<'a, K> {
    type Item = &'a K;

    fn next(&mut self) -> Option<&'a K> {
        let key = self.keys.next()?;
        self.len -= 1;
        Some(key)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<K> DoubleEndedIterator for Iter<'_, K> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let key = self.keys.next_back()?;
        self.len -= 1;
        Some(key)
    }
}

impl<K> ExactSizeIterator for Iter<'_, K> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the shape every operation must leave: no empty or overfull chunk, floors at or
    /// below their keys and above the chunk before, the count right, and every chunk but the
    /// first holding at most four times the room its keys need (plus a little).
    fn assert_bounded(set: &ChunkedKeys<u64>) {
        let mut previous_back: Option<u64> = None;
        let mut counted = 0;
        for (at, (floor, chunk)) in set.chunks.iter().enumerate() {
            assert!(!chunk.is_empty() && chunk.len() <= CHUNK_KEYS_MAX);
            assert!(chunk.iter().is_sorted());
            assert!(chunk.front().is_some_and(|front| floor <= front));
            assert!(previous_back.is_none_or(|back| back < *floor));
            if at > 0 {
                assert!(chunk.capacity() <= 4 * chunk.len() + 4, "chunk {at} keeps spare room");
            }
            previous_back = chunk.back().copied();
            counted += chunk.len();
        }
        assert_eq!(counted, set.len());
    }

    #[test]
    fn one_owner_cancelling_most_of_the_order_leaves_it_small_and_its_chunks_bounded() {
        // Another user's requests, then an attacker's many, cancelled (removed) but one in
        // fifty: what is left costs the others no more room or work than its own keys.
        let mut set = ChunkedKeys::default();
        for key in 0..20_000u64 {
            set.insert(key);
        }
        for key in (100..20_000u64).filter(|key| key % 50 != 0) {
            assert!(set.remove(&key));
        }
        assert_bounded(&set);
        assert_eq!(set.len(), 100 + 398);
        assert!(set.chunks.len() <= set.len());
        // Keys put back in the middle split chunks rather than grow them.
        for key in (100..20_000u64).step_by(3) {
            set.insert(key);
        }
        assert_bounded(&set);
        let expected: Vec<u64> = (0..20_000u64)
            .filter(|key| *key < 100 || key % 50 == 0 || (key - 100) % 3 == 0)
            .collect();
        assert!(set.iter().eq(expected.iter()));
    }
}
