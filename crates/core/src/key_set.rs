//! A journaled set of keys with the entries, encoding, leaves, rollback and touched keys of a
//! [`Table`] whose values are all `()`: the queue's waiting and eligible orders.
//!
//! Why: a `Table<K, (), Chunked>` keeps every key twice, in its hash map (for point reads, and
//! the write generation that journals a key once per transaction) and in its [`ChunkedKeys`]
//! (for the order), and every write pays both. An order has nothing to read at a key but its
//! presence, which the chunked keys answer themselves (and the usual writes, an append at the
//! end and a removal of the first key, touch only the ends of the chunk map). A servicing round
//! writes each served and each activated request's key once or twice: the hash map's inserts
//! and removals were ~0.23M instructions of a 1,000-request round (session 15's profile, issue
//! 14) and 100,000 queued keys in it were ~4 MB of buckets at random places.
//!
//! Journal: each write that changes the set, and each insertion of a key already present (a
//! table journals that as a write), records the key and whether it was present; a rollback
//! undoes them in reverse order. A key written twice in one transaction is recorded twice (a
//! table records it once): the log of a transaction is bounded by its writes either way, and
//! the touched keys, a set, are the same.
//!
//! Guarantees: the same keys in the same order, ranges, encoding, leaves, touched keys and
//! rollback as a `Table<K, ()>` given the same writes (proptest `crates/core/tests/key_set.rs`).
//!
//! [`Table`]: crate::table::Table

use crate::chunked_keys::ChunkedKeys;
use crate::leaves::LeafTable;
use crate::table::{Component, Journaled, LeafKey, LeafVisitor, LeafVisitorMut, TouchedKeys};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::ops::RangeBounds;

/// A journaled ordered set of keys, read and written as a table of `()` values (see the module
/// documentation).
#[derive(Clone, Debug)]
pub struct KeySet<K> {
    /// Every key, in order.
    keys: ChunkedKeys<K>,
    /// Each key written in the current transaction, with whether it was present before.
    undo: Vec<(K, bool)>,
    /// Keys written since the last `take_touched`, when change tracking is on.
    touched: TouchedKeys<K>,
}

impl<K> Default for KeySet<K> {
    fn default() -> Self {
        KeySet { keys: ChunkedKeys::default(), undo: Vec::new(), touched: TouchedKeys::default() }
    }
}

impl<K: Ord + Clone> KeySet<K> {
    /// `Some(())` when `key` is present, as a table of `()` values reads.
    pub fn get(&self, key: &K) -> Option<&()> {
        self.keys.contains(key).then_some(&())
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &K) -> bool {
        self.keys.contains(key)
    }

    /// Adds `key` (a table's `insert(key, ())`), recording the write.
    #[inline]
    pub fn insert(&mut self, key: K, (): ()) {
        let added = self.keys.insert(key.clone());
        self.undo.push((key, !added));
    }

    /// Removes `key`, recording the write; `Some(())` if it was present.
    #[inline]
    pub fn remove(&mut self, key: &K) -> Option<()> {
        if !self.keys.remove(key) {
            return None;
        }
        self.undo.push((key.clone(), true));
        Some(())
    }

    /// Sets (`true`) or clears `key`'s presence, unjournaled.
    fn put(&mut self, key: K, present: bool) {
        match present {
            true => self.keys.insert(key),
            false => self.keys.remove(&key),
        };
    }

    /// Every key in order, each with its `()` value.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &())> + ExactSizeIterator {
        self.keys.iter().map(|key| (key, &()))
    }

    /// The keys in `range`, in order, each with its `()` value.
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> impl DoubleEndedIterator<Item = (&K, &())> {
        self.keys.range(range).map(|key| (key, &()))
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.keys.iter()
    }

    /// The smallest key, with its `()` value.
    pub fn first(&self) -> Option<(&K, &())> {
        self.keys.first().map(|key| (key, &()))
    }

    /// The smallest key.
    pub fn first_key(&self) -> Option<&K> {
        self.keys.first()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
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

    /// Adds (`Some`) or removes (`None`) `key` outside any transaction (`Table::overwrite`).
    pub(crate) fn overwrite(&mut self, key: K, value: Option<()>) {
        assert!(self.undo.is_empty(), "a table is overwritten only between transactions");
        self.put(key, value.is_some());
    }
}

impl<K: Ord + Clone> Journaled for KeySet<K> {
    #[inline]
    fn commit(&mut self) {
        if self.undo.is_empty() {
            return;
        }
        self.touched.commit(&mut self.undo);
    }

    fn rollback(&mut self) {
        while let Some((key, was_present)) = self.undo.pop() {
            self.put(key, was_present);
        }
    }
}

/// Keys only, as a table of `()` values compares.
impl<K: Ord + Clone> PartialEq for KeySet<K> {
    fn eq(&self, other: &Self) -> bool {
        self.keys.len() == other.keys.len() && self.keys.iter().eq(other.keys.iter())
    }
}

impl<K: Serialize + Ord + Clone> Serialize for KeySet<K> {
    /// Encodes as a table does: the map of its keys in order to `()`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, K: Deserialize<'de> + Ord + Clone> Deserialize<'de> for KeySet<K> {
    /// Decodes a table's map of keys to `()`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = BTreeMap::<K, ()>::deserialize(deserializer)?;
        let mut keys = ChunkedKeys::default();
        for (key, ()) in entries {
            keys.insert(key);
        }
        Ok(KeySet { keys, undo: Vec::new(), touched: TouchedKeys::default() })
    }
}

impl<K: LeafKey> Component for KeySet<K> {
    fn visit<T: LeafVisitor>(&self, path: &str, visitor: &mut T) {
        visitor.table(path, self);
    }

    fn visit_mut<T: LeafVisitorMut>(&mut self, path: &str, visitor: &mut T) {
        visitor.table(path, self);
    }
}

impl<K: Ord + Clone> LeafTable<K, ()> for KeySet<K> {
    fn for_each_entry(&self, mut visit: impl FnMut(&K, &())) {
        for key in self.keys.iter() {
            visit(key, &());
        }
    }

    fn get(&self, key: &K) -> Option<&()> {
        KeySet::get(self, key)
    }

    fn take_touched(&mut self) -> Vec<K> {
        KeySet::take_touched(self)
    }

    fn overwrite(&mut self, key: K, value: Option<()>) {
        KeySet::overwrite(self, key, value);
    }

    fn track_changes(&mut self) {
        KeySet::track_changes(self);
    }
}
