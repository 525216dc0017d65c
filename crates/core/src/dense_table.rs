//! A journaled table for keys that are positions on a line (sequential ids), with the same
//! entries, encoding, leaves, rollback, touched keys and derived index as a [`Table`], kept in
//! memory so that neighbouring ids are neighbouring records: the queue's redemption requests.
//!
//! Why: a `Table` keeps its values in a hash map, so each record (a request is ~300 bytes) sits
//! at a random bucket, and a round that activates a run of consecutive requests and serves the
//! front of the queue takes a cache miss per record (session 13 measured the same effect on the
//! Fenwick nodes, `fenwick/nodes.rs`: +3% instructions, +30% requests per second). It also keeps
//! every key a second time in a `BTreeSet` for iteration, which every new request and every
//! forgotten one pays for; here the window is the order.
//!
//! Layout: a dense window of positions (`VecDeque`, starting at `base`), `None` where no entry
//! is; the entries outside the window in an ordered map (none inside the window's range), so
//! the entries in key order are the map's below the window, the window's, the map's above it.
//! A new key at the window's end (the next request id) is appended.
//!
//! Memory follows the live entries, not the ids ever used: the window grows only while it holds
//! at most [`WINDOW_SPREAD_MAX`] slots per entry (plus [`WINDOW_SLACK`]), and after a commit
//! or rollback that emptied a slot it is trimmed at both ends and, if it became too sparse
//! (requests in its middle forgotten while an old one stays), cut back to its densest tail,
//! the entries before it moving to the map (named test
//! `memory_follows_the_live_entries_not_the_ids_ever_used`). The layout is invisible: a
//! proptest against a `Table` over random writes, commits and rollbacks checks entries,
//! encodings, touched keys and the index
//! (`the_dense_table_reads_encodes_rolls_back_and_indexes_as_a_table_does`).
//!
//! [`Table`]: crate::table::Table

use crate::leaves::LeafTable;
use crate::table::{
    Component, Journaled, LeafKey, LeafValue, LeafVisitor, LeafVisitorMut, TableIndex, TouchedKeys,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;

/// A key that is a position on a line: its order is the order of its positions.
pub trait DenseKey: Copy + Ord + std::fmt::Debug {
    /// Its position.
    fn position(self) -> u64;
    /// The key at `position`.
    fn at(position: u64) -> Self;
}

impl DenseKey for u64 {
    #[inline(always)]
    fn position(self) -> u64 {
        self
    }

    #[inline(always)]
    fn at(position: u64) -> Self {
        position
    }
}

/// The slots the window may hold beyond [`WINDOW_SPREAD_MAX`] times its entries: a small
/// window (a queue's first requests) is kept whatever its density.
const WINDOW_SLACK: usize = 64;

/// The window holds at most this many slots per entry (plus [`WINDOW_SLACK`]). A slot is as
/// large as an entry (a request: ~300 bytes), so a window half full costs about what a hash
/// map holding the same entries costs with its spare room.
const WINDOW_SPREAD_MAX: usize = 2;

/// Whether a window's tail of `span` slots holding `entries` entries is dense enough to keep
/// as the window after a cut: at most 1.5 times its entries plus half [`WINDOW_SLACK`], so the
/// next cut needs a quarter of its entries gone first. The cut after a commit and a decoded
/// table's layout use this one rule.
fn tail_dense_enough(span: usize, entries: usize) -> bool {
    2 * span <= 3 * entries + WINDOW_SLACK
}

/// An entry with the write generation in which it was last journaled (see `Table`: a value
/// written again in the same transaction needs no second undo entry).
#[derive(Clone, Debug)]
struct Entry<K, V> {
    key: K,
    value: V,
    generation: u64,
}

/// A journaled map from dense keys to values with a derived index `I` (see the module
/// documentation): the operations of a `Table` that the queue's requests use.
#[derive(Debug)]
pub struct DenseTable<K, V, I: TableIndex<K, V>> {
    /// The position of `slots[0]`.
    base: u64,
    /// Positions `base..base + slots.len()`.
    slots: VecDeque<Option<Entry<K, V>>>,
    /// The entries in `slots`.
    in_window: usize,
    /// The entries outside the window, by key.
    sparse: BTreeMap<K, Entry<K, V>>,
    /// The value each key had before its first write in the current transaction.
    undo: Vec<(K, Option<V>)>,
    /// Advances at every commit or rollback of writes.
    generation: u64,
    /// A slot of the window was emptied since the last tidy.
    emptied: bool,
    /// Keys written by committed writes since the last `take_touched`, when tracking.
    touched: TouchedKeys<K>,
    /// The derived index of the entries (not encoded, not compared).
    index: I,
}

impl<K, V, I: TableIndex<K, V>> Default for DenseTable<K, V, I> {
    fn default() -> Self {
        DenseTable {
            base: 0,
            slots: VecDeque::new(),
            in_window: 0,
            sparse: BTreeMap::new(),
            undo: Vec::new(),
            generation: 1,
            emptied: false,
            touched: TouchedKeys::default(),
            index: I::default(),
        }
    }
}

impl<K: Clone, V: Clone, I: TableIndex<K, V>> Clone for DenseTable<K, V, I> {
    fn clone(&self) -> Self {
        DenseTable {
            base: self.base,
            slots: self.slots.clone(),
            in_window: self.in_window,
            sparse: self.sparse.clone(),
            undo: self.undo.clone(),
            generation: self.generation,
            emptied: self.emptied,
            touched: self.touched.clone(),
            index: self.index.clone(),
        }
    }
}

/// The entry at `key` in a window starting at `base` or in the map, writable. A free function
/// so that the caller can still write the table's undo log and index.
#[inline(always)]
fn find_mut<'a, K: DenseKey, V>(
    base: u64,
    slots: &'a mut VecDeque<Option<Entry<K, V>>>,
    sparse: &'a mut BTreeMap<K, Entry<K, V>>,
    key: &K,
) -> Option<&'a mut Entry<K, V>> {
    let offset = key.position().wrapping_sub(base);
    if offset < slots.len() as u64 {
        return slots.get_mut(offset as usize).and_then(Option::as_mut);
    }
    if sparse.is_empty() {
        return None;
    }
    sparse.get_mut(key)
}

impl<K: DenseKey, V: Clone, I: TableIndex<K, V>> DenseTable<K, V, I> {
    /// The derived index of the entries.
    pub fn index(&self) -> &I {
        &self.index
    }

    /// The offset of `key` in the window, if the window covers it.
    #[inline(always)]
    fn offset(&self, key: K) -> Option<usize> {
        let offset = key.position().wrapping_sub(self.base);
        (offset < self.slots.len() as u64).then_some(offset as usize)
    }

    /// The value at `key`.
    #[inline]
    pub fn get(&self, key: &K) -> Option<&V> {
        match self.offset(*key) {
            Some(offset) => self.slots[offset].as_ref().map(|entry| &entry.value),
            None if self.sparse.is_empty() => None,
            None => self.sparse.get(key).map(|entry| &entry.value),
        }
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.in_window + self.sparse.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tells `index` that the entry at `key` now projects to `after`, not `before`.
    fn reindex(index: &mut I, key: &K, before: I::Projection, after: I::Projection) {
        if before != after {
            index.remove(key, before);
            index.add(key, after);
        }
    }

    /// Sets `key` to `value`, recording the old value (`Table::insert`).
    #[inline]
    pub fn insert(&mut self, key: K, value: V) {
        let generation = self.generation;
        match find_mut(self.base, &mut self.slots, &mut self.sparse, &key) {
            Some(entry) => {
                let before = I::project(&key, &entry.value);
                let after = I::project(&key, &value);
                Self::reindex(&mut self.index, &key, before, after);
                if entry.generation == generation {
                    entry.value = value;
                } else {
                    let old = std::mem::replace(&mut entry.value, value);
                    entry.generation = generation;
                    self.undo.push((key, Some(old)));
                }
            }
            None => {
                let projection = I::project(&key, &value);
                self.place(Entry { key, value, generation });
                self.index.add(&key, projection);
                self.undo.push((key, None));
            }
        }
    }

    /// Removes `key`, recording the old value; returns it (`Table::remove`).
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let entry = self.take_out(key)?;
        if entry.generation != self.generation {
            self.undo.push((entry.key, Some(entry.value.clone())));
        }
        Some(entry.value)
    }

    /// Removes `key`, moving the old value into the undo log (`Table::delete`); whether `key`
    /// had a value.
    #[inline]
    pub fn delete(&mut self, key: &K) -> bool {
        let Some(entry) = self.take_out(key) else { return false };
        if entry.generation != self.generation {
            self.undo.push((entry.key, Some(entry.value)));
        }
        true
    }

    /// Applies `change` to the value at `key` (recording the old value); `None` if absent
    /// (`Table::update`).
    #[inline]
    pub fn update<R>(&mut self, key: &K, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        let generation = self.generation;
        let entry = find_mut(self.base, &mut self.slots, &mut self.sparse, key)?;
        if entry.generation != generation {
            self.undo.push((*key, Some(entry.value.clone())));
            entry.generation = generation;
        }
        let before = I::project(key, &entry.value);
        let result = change(&mut entry.value);
        Self::reindex(&mut self.index, key, before, I::project(key, &entry.value));
        Some(result)
    }

    /// Takes `key`'s entry out of the window or the map and the index, unjournaled.
    #[inline(always)]
    fn take_out(&mut self, key: &K) -> Option<Entry<K, V>> {
        let entry = match self.offset(*key) {
            Some(offset) => {
                let entry = self.slots[offset].take()?;
                self.in_window -= 1;
                self.emptied = true;
                entry
            }
            None => self.sparse.remove(key)?,
        };
        self.index.remove(&entry.key, I::project(&entry.key, &entry.value));
        Some(entry)
    }

    /// Whether the window may grow by `gap` empty slots and one entry and stay dense enough.
    fn may_grow_by(&self, gap: u64) -> bool {
        let grown = (self.slots.len() as u64).saturating_add(gap).saturating_add(1);
        grown
            <= (WINDOW_SPREAD_MAX as u64)
                .saturating_mul(self.in_window as u64 + 1)
                .saturating_add(WINDOW_SLACK as u64)
    }

    /// Puts `entry`, whose key has no entry, in the window (growing it over the key when it
    /// stays dense enough, bringing in the map's entries it then covers) or in the map.
    fn place(&mut self, entry: Entry<K, V>) {
        let position = entry.key.position();
        if let Some(offset) = self.offset(entry.key) {
            self.slots[offset] = Some(entry);
            self.in_window += 1;
            return;
        }
        if self.slots.is_empty() {
            self.base = position;
            self.slots.push_back(Some(entry));
            self.in_window += 1;
            return;
        }
        // The window's last position (`base + len` may not fit in a u64).
        let last = self.base + (self.slots.len() as u64 - 1);
        // The hot path: the next id, nothing in the map.
        if position.wrapping_sub(last) == 1 && self.sparse.is_empty() && self.may_grow_by(0) {
            self.slots.push_back(Some(entry));
            self.in_window += 1;
            return;
        }
        let back = position > last;
        let gap = if back { position - last - 1 } else { self.base - position - 1 };
        if !self.may_grow_by(gap) {
            self.sparse.insert(entry.key, entry);
            return;
        }
        // The map's entries the grown window covers: between the window and the key.
        let covered: Vec<K> = if back {
            let below = self.sparse.range(..entry.key).rev();
            below.map(|(key, _)| *key).take_while(|key| key.position() > last).collect()
        } else {
            let above = self.sparse.range(entry.key..);
            above.map(|(key, _)| *key).take_while(|key| key.position() < self.base).collect()
        };
        if back {
            self.slots.resize_with(self.slots.len() + gap as usize, || None);
            self.slots.push_back(Some(entry));
        } else {
            for _ in 0..gap {
                self.slots.push_front(None);
            }
            self.slots.push_front(Some(entry));
            self.base = position;
        }
        self.in_window += 1;
        for key in covered {
            let Some(moved) = self.sparse.remove(&key) else { unreachable!("a key just listed") };
            let offset = (key.position() - self.base) as usize;
            self.slots[offset] = Some(moved);
            self.in_window += 1;
        }
    }

    /// Sets (`Some`) or removes (`None`) the value at `key` with no journal, keeping the index
    /// right.
    fn put(&mut self, key: K, value: Option<V>, generation: u64) {
        match value {
            Some(value) => {
                let after = I::project(&key, &value);
                match find_mut(self.base, &mut self.slots, &mut self.sparse, &key) {
                    Some(entry) => {
                        let before = I::project(&key, &entry.value);
                        entry.value = value;
                        entry.generation = generation;
                        Self::reindex(&mut self.index, &key, before, after);
                    }
                    None => {
                        self.place(Entry { key, value, generation });
                        self.index.add(&key, after);
                    }
                }
            }
            None => {
                self.take_out(&key);
            }
        }
    }

    /// Trims the window of empty slots at both ends, cuts it back to its densest tail if it
    /// became too sparse (the entries before the tail move to the map), and gives back memory
    /// held beyond four times what is used.
    fn tidy(&mut self) {
        self.emptied = false;
        while self.slots.front().is_some_and(Option::is_none) {
            self.slots.pop_front();
            // (Wrapping: popping the last slot at the top position; an empty window's base
            // means nothing.)
            self.base = self.base.wrapping_add(1);
        }
        while self.slots.back().is_some_and(Option::is_none) {
            self.slots.pop_back();
        }
        if self.slots.len() > WINDOW_SPREAD_MAX * self.in_window + WINDOW_SLACK {
            self.cut_to_dense_tail();
        }
        if self.slots.capacity() > 4 * self.slots.len() + WINDOW_SLACK {
            self.slots.shrink_to(2 * self.slots.len());
        }
    }

    /// Keeps of the window its longest tail that is [`tail_dense_enough`]; the entries before
    /// it move to the map.
    fn cut_to_dense_tail(&mut self) {
        let len = self.slots.len();
        let mut in_tail = 0usize;
        let mut cut = len;
        for (offset, slot) in self.slots.iter().enumerate().rev() {
            in_tail += usize::from(slot.is_some());
            if tail_dense_enough(len - offset, in_tail) {
                cut = offset;
            }
        }
        for _ in 0..cut {
            let Some(slot) = self.slots.pop_front() else { break };
            if let Some(entry) = slot {
                self.in_window -= 1;
                self.sparse.insert(entry.key, entry);
            }
            self.base = self.base.wrapping_add(1);
        }
        while self.slots.front().is_some_and(Option::is_none) {
            self.slots.pop_front();
            self.base = self.base.wrapping_add(1);
        }
    }

    /// The table holding `entries` (in key order), its window over their densest tail (as a
    /// cut after a commit would leave it), the others in the map.
    fn from_sorted_entries(entries: Vec<(K, V)>) -> Self {
        let mut table = DenseTable::default();
        let last = entries.last().map_or(0, |(key, _)| key.position());
        let tail = (0..entries.len())
            .find(|&at| {
                // A span beyond usize is never dense enough (it cannot be allocated).
                let span = (last - entries[at].0.position()).saturating_add(1);
                let span = usize::try_from(span).unwrap_or(usize::MAX).min(usize::MAX / 4);
                tail_dense_enough(span, entries.len() - at)
            })
            .unwrap_or(entries.len());
        table.index = I::rebuilt(entries.iter().map(|(key, value)| (key, value)));
        let mut entries = entries.into_iter();
        for (key, value) in entries.by_ref().take(tail) {
            table.sparse.insert(key, Entry { key, value, generation: 0 });
        }
        for (key, value) in entries {
            if table.slots.is_empty() {
                table.base = key.position();
            }
            let offset = (key.position() - table.base) as usize;
            table.slots.resize_with(offset, || None);
            table.slots.push_back(Some(Entry { key, value, generation: 0 }));
            table.in_window += 1;
        }
        table
    }

    /// Entries in key order: the map's below the window, the window's, the map's above it.
    pub fn iter(&self) -> Iter<'_, K, V> {
        let (below, above) = match (self.slots.front(), self.slots.len()) {
            (Some(_), len) => {
                let first = K::at(self.base);
                let last = K::at(self.base + (len as u64 - 1));
                let below = self.sparse.range(..first);
                let above = self.sparse.range((Bound::Excluded(last), Bound::Unbounded));
                (below, above)
            }
            // No window: every entry is below it; no key is above the last position.
            (None, _) => {
                let none_above = (Bound::Excluded(K::at(u64::MAX)), Bound::Unbounded);
                (self.sparse.range(..), self.sparse.range(none_above))
            }
        };
        Iter { below, window: self.slots.iter(), above, remaining: self.len() }
    }

    /// Starts recording the keys every committed write touches, from now on
    /// (`Table::track_changes`).
    pub fn track_changes(&mut self) {
        self.touched.track();
    }

    /// The keys touched by committed writes since the last call, in key order.
    pub fn take_touched(&mut self) -> Vec<K> {
        self.touched.take()
    }

    /// Sets (`Some`) or removes (`None`) `key` outside any transaction (`Table::overwrite`).
    pub(crate) fn overwrite(&mut self, key: K, value: Option<V>) {
        assert!(self.undo.is_empty(), "a table is overwritten only between transactions");
        // Generation 0 is never the current one: the next transaction journals it.
        self.put(key, value, 0);
        if self.emptied {
            self.tidy();
        }
    }

    /// The slots held in memory (the window by capacity, and the map's entries): what
    /// `memory_follows_the_live_entries_not_the_ids_ever_used` bounds.
    pub fn slots_held(&self) -> usize {
        self.slots.capacity() + self.sparse.len()
    }
}

/// A dense table's entries in key order (see [`DenseTable::iter`]).
pub struct Iter<'a, K, V> {
    below: std::collections::btree_map::Range<'a, K, Entry<K, V>>,
    window: std::collections::vec_deque::Iter<'a, Option<Entry<K, V>>>,
    above: std::collections::btree_map::Range<'a, K, Entry<K, V>>,
    /// The entries not yet handed out, from either end.
    remaining: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        let entry = match self.below.next() {
            Some((_, entry)) => entry,
            None => match self.window.by_ref().flatten().next() {
                Some(entry) => entry,
                None => self.above.next()?.1,
            },
        };
        self.remaining -= 1;
        Some((&entry.key, &entry.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let entry = match self.above.next_back() {
            Some((_, entry)) => entry,
            None => match self.window.by_ref().rev().flatten().next() {
                Some(entry) => entry,
                None => self.below.next_back()?.1,
            },
        };
        self.remaining -= 1;
        Some((&entry.key, &entry.value))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

impl<K: DenseKey, V: Clone, I: TableIndex<K, V>> Journaled for DenseTable<K, V, I> {
    #[inline]
    fn commit(&mut self) {
        if !self.undo.is_empty() {
            self.touched.commit(&mut self.undo);
            self.generation += 1;
        }
        if self.emptied {
            self.tidy();
        }
    }

    fn rollback(&mut self) {
        if !self.undo.is_empty() {
            // Restored values keep the current generation, which is over once this returns.
            let generation = self.generation;
            while let Some((key, old)) = self.undo.pop() {
                self.put(key, old, generation);
            }
            self.generation += 1;
        }
        if self.emptied {
            self.tidy();
        }
    }
}

/// Entries only, as a table compares: the window is a layout, the index is derived.
impl<K: DenseKey, V: Clone + PartialEq, I: TableIndex<K, V>> PartialEq for DenseTable<K, V, I> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(key, value)| other.get(key) == Some(value))
    }
}

impl<K: DenseKey + Serialize, V: Serialize + Clone, I: TableIndex<K, V>> Serialize
    for DenseTable<K, V, I>
{
    /// Encodes as the map of entries in key order, as a table does.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, K, V, I> Deserialize<'de> for DenseTable<K, V, I>
where
    K: DenseKey + Deserialize<'de>,
    V: Deserialize<'de> + Clone,
    I: TableIndex<K, V>,
{
    /// Decodes the map of entries and builds the index from them.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = BTreeMap::<K, V>::deserialize(deserializer)?;
        Ok(DenseTable::from_sorted_entries(entries.into_iter().collect()))
    }
}

impl<K: DenseKey + LeafKey, V: LeafValue, I: TableIndex<K, V>> Component for DenseTable<K, V, I> {
    fn visit<T: LeafVisitor>(&self, path: &str, visitor: &mut T) {
        visitor.table(path, self);
    }

    fn visit_mut<T: LeafVisitorMut>(&mut self, path: &str, visitor: &mut T) {
        visitor.table(path, self);
    }
}

impl<K: DenseKey, V: Clone, I: TableIndex<K, V>> LeafTable<K, V> for DenseTable<K, V, I> {
    fn for_each_entry(&self, mut visit: impl FnMut(&K, &V)) {
        for (key, value) in self.iter() {
            visit(key, value);
        }
    }

    fn get(&self, key: &K) -> Option<&V> {
        DenseTable::get(self, key)
    }

    fn take_touched(&mut self) -> Vec<K> {
        DenseTable::take_touched(self)
    }

    fn overwrite(&mut self, key: K, value: Option<V>) {
        DenseTable::overwrite(self, key, value);
    }

    fn track_changes(&mut self) {
        DenseTable::track_changes(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Address;
    use crate::table::{ByOwner, Owned, Table};
    use proptest::prelude::*;

    /// A record with an owner, for the owner index.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Record {
        owner: u8,
        amount: u32,
    }

    impl Owned for Record {
        fn owner(&self) -> Address {
            Address::with_last_byte(self.owner)
        }
    }

    type Dense = DenseTable<u64, Record, ByOwner<u64>>;

    impl<K: DenseKey, V: Clone, I: TableIndex<K, V>> DenseTable<K, V, I> {
        /// Panics unless the layout holds what it says: counts right, no map entry inside the
        /// window, each entry where its key says, and (between transactions) the window
        /// trimmed and dense enough.
        fn assert_consistent(&self, between_transactions: bool) {
            let in_window = self.slots.iter().filter(|slot| slot.is_some()).count();
            assert_eq!(in_window, self.in_window, "the window counts its entries");
            for (offset, slot) in self.slots.iter().enumerate() {
                if let Some(entry) = slot {
                    assert_eq!(entry.key.position(), self.base + offset as u64, "misplaced");
                }
            }
            for (key, entry) in &self.sparse {
                assert_eq!(*key, entry.key);
                let offset = key.position().wrapping_sub(self.base);
                let inside = offset < self.slots.len() as u64;
                assert!(self.slots.is_empty() || !inside, "{key:?} in the map and the window");
            }
            if between_transactions {
                assert!(!self.emptied);
                assert!(self.slots.len() <= WINDOW_SPREAD_MAX * self.in_window + WINDOW_SLACK);
                assert!(!self.slots.front().is_some_and(Option::is_none), "untrimmed front");
                assert!(!self.slots.back().is_some_and(Option::is_none), "untrimmed back");
            }
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Inserts these consecutive keys with the record.
        Insert {
            first: u64,
            count: u64,
            owner: u8,
            amount: u32,
        },
        /// Changes the amount (and maybe the owner) of an entry in place.
        Update {
            key: u64,
            owner: u8,
            amount: u32,
        },
        /// Removes these consecutive keys (returning the values).
        Remove {
            first: u64,
            count: u64,
        },
        /// Deletes a key (moving the value into the journal).
        Delete {
            key: u64,
        },
        Commit,
        Rollback,
        /// Between transactions: sets or removes a key outside any journal.
        Overwrite {
            key: u64,
            value: Option<(u8, u32)>,
        },
    }

    fn key() -> impl Strategy<Value = u64> {
        prop_oneof![
            6 => 0u64..400,
            2 => 0u64..5_000,
            1 => any::<u64>(),
            1 => Just(u64::MAX),
            1 => (u64::MAX - 300)..=u64::MAX,
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (key(), 1u64..60, 0u8..4, any::<u32>()).prop_map(|(first, count, owner, amount)| {
                Op::Insert { first, count, owner, amount }
            }),
            3 => (key(), 0u8..4, any::<u32>()).prop_map(|(key, owner, amount)| Op::Update { key, owner, amount }),
            3 => (key(), 1u64..80).prop_map(|(first, count)| Op::Remove { first, count }),
            2 => key().prop_map(|key| Op::Delete { key }),
            2 => Just(Op::Commit),
            1 => Just(Op::Rollback),
            1 => (key(), proptest::option::of((0u8..4, any::<u32>())))
                .prop_map(|(key, value)| Op::Overwrite { key, value }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn the_dense_table_reads_encodes_rolls_back_and_indexes_as_a_table_does(
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            let mut table: Table<u64, Record, ByOwner<u64>> = Table::default();
            let mut dense = Dense::default();
            table.track_changes();
            dense.track_changes();
            for op in ops {
                match op {
                    Op::Insert { first, count, owner, amount } => {
                        for key in (first..=u64::MAX).take(count as usize) {
                            table.insert(key, Record { owner, amount });
                            dense.insert(key, Record { owner, amount });
                        }
                        dense.assert_consistent(false);
                    }
                    Op::Update { key, owner, amount } => {
                        let change = |record: &mut Record| {
                            record.owner = owner;
                            std::mem::replace(&mut record.amount, amount)
                        };
                        prop_assert_eq!(dense.update(&key, change), table.update(&key, change));
                    }
                    Op::Remove { first, count } => {
                        for key in (first..=u64::MAX).take(count as usize) {
                            prop_assert_eq!(dense.remove(&key), table.remove(&key));
                        }
                        dense.assert_consistent(false);
                    }
                    Op::Delete { key } => {
                        prop_assert_eq!(dense.delete(&key), table.delete(&key));
                    }
                    Op::Commit => {
                        table.commit();
                        dense.commit();
                        dense.assert_consistent(true);
                        prop_assert_eq!(dense.take_touched(), table.take_touched());
                    }
                    Op::Rollback => {
                        table.rollback();
                        dense.rollback();
                        dense.assert_consistent(true);
                    }
                    Op::Overwrite { key, value } => {
                        // Only between transactions, as the state applies leaves.
                        table.commit();
                        dense.commit();
                        prop_assert_eq!(dense.take_touched(), table.take_touched());
                        let value = value.map(|(owner, amount)| Record { owner, amount });
                        table.overwrite(key, value.clone());
                        dense.overwrite(key, value);
                        dense.assert_consistent(true);
                    }
                }
                let entries: Vec<(u64, Record)> =
                    table.iter().map(|(k, v)| (*k, v.clone())).collect();
                let dense_entries: Vec<(u64, Record)> =
                    dense.iter().map(|(k, v)| (*k, v.clone())).collect();
                prop_assert_eq!(&dense_entries, &entries);
                let mut backwards: Vec<(u64, Record)> =
                    dense.iter().rev().map(|(k, v)| (*k, v.clone())).collect();
                backwards.reverse();
                prop_assert_eq!(&backwards, &entries);
                prop_assert_eq!(dense.iter().len(), table.len());
                prop_assert_eq!(dense.len(), table.len());
                for (key, value) in &entries {
                    prop_assert_eq!(dense.get(key), Some(value));
                }
                for owner in 0u8..4 {
                    let owner = Address::with_last_byte(owner);
                    prop_assert!(
                        dense.index().keys_of(owner).eq(table.index().keys_of(owner)),
                        "owner index"
                    );
                }
                prop_assert!(dense.index().equals_scan(dense.iter()));
                let encoded = postcard::to_stdvec(&dense).expect("encodes");
                prop_assert_eq!(&encoded, &postcard::to_stdvec(&table).expect("encodes"));
                let decoded: Dense = postcard::from_bytes(&encoded).expect("decodes");
                decoded.assert_consistent(true);
                prop_assert!(decoded == dense);
                prop_assert!(decoded.index().equals_scan(dense.iter()));
            }
        }
    }

    #[test]
    fn a_decoded_table_with_an_old_entry_far_below_the_others_keeps_the_others_in_the_window() {
        let mut table = Dense::default();
        table.insert(3, Record { owner: 1, amount: 1 });
        for key in 900_000..901_000 {
            table.insert(key, Record { owner: 2, amount: 2 });
        }
        table.commit();
        let decoded: Dense =
            postcard::from_bytes(&postcard::to_stdvec(&table).expect("encodes")).expect("decodes");
        assert!(decoded == table);
        decoded.assert_consistent(true);
        assert_eq!(decoded.sparse.len(), 1, "only the old entry in the map");
        assert_eq!(decoded.in_window, 1_000);
    }

    /// A queue of 1,000 live requests that made 200,000 over its life, the first never
    /// forgotten: the window follows the live entries, so memory does not grow with the ids
    /// ever used, and one old request cannot make everyone else's records sparse.
    #[test]
    fn memory_follows_the_live_entries_not_the_ids_ever_used() {
        let live = 1_000u64;
        let made = 200_000u64;
        let mut table = Dense::default();
        let mut held_at_half = 0;
        for key in 0..made {
            table.insert(key, Record { owner: (key % 7) as u8, amount: 1 });
            if key > live {
                table.delete(&(key - live));
            }
            table.commit();
            if key == made / 2 {
                table.assert_consistent(true);
                held_at_half = table.slots_held();
            }
        }
        table.assert_consistent(true);
        assert_eq!(table.len(), live as usize + 1);
        assert!(table.get(&0).is_some(), "the old request stays");
        let held = table.slots_held();
        // The window holds at most twice its entries plus the slack, four times that by
        // capacity before it is given back.
        let bound = 4 * (WINDOW_SPREAD_MAX * table.len() + WINDOW_SLACK);
        assert!(held <= bound, "{held} slots held for {} entries", table.len());
        assert!(held <= held_at_half + held_at_half / 2, "{held} slots, {held_at_half} at half");
        assert!(table.in_window >= live as usize, "the live run stays in the window");
    }
}
