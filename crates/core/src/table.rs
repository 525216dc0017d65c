//! Journaled state containers: every write records the value it replaced, so a rejected
//! transaction is rolled back exactly, and the keys a block touched can be listed.
//!
//! Guarantees: after `rollback` a table compares equal to its state at the last `commit`;
//! iteration order is the key order, the same on every machine.
//!
//! A table keeps its values in a hash map for point reads and writes (one probe instead of a
//! B-tree descent with a dozen key comparisons: the hottest paths, a transfer or a repayment,
//! are made of such reads) and its keys in an ordered set for every iteration. The hash map is
//! never iterated, so its order (fixed hasher or not) can never reach the state or its
//! encoding.

use crate::leaves::{self, LeafMode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hash;
use std::ops::RangeBounds;
use std::sync::{
    Mutex, PoisonError,
    atomic::{AtomicBool, Ordering},
};

/// The point-lookup index of a table. Never iterated (see the module documentation), so the
/// determinism rule against hash maps does not apply; the fixed Fx hasher also keeps runs
/// reproducible in cost, not only in result.
#[allow(clippy::disallowed_types)]
type Index<K, V> = std::collections::HashMap<K, Stored<V>, rustc_hash::FxBuildHasher>;

/// A value with the write generation of its table in which it was last journaled: a value
/// written again in the same transaction needs no second undo entry (the first one already
/// restores it), which spares copying a large record (a loan is written several times by one
/// repayment) into the log again and again.
#[derive(Clone, Debug)]
struct Stored<V> {
    value: V,
    generation: u64,
}

/// Something with a per-transaction undo log.
pub trait Journaled {
    /// Forgets the undo log: the transaction's writes stand.
    fn commit(&mut self);
    /// Undoes every write since the last commit, newest first.
    fn rollback(&mut self);
}

/// An ordered map whose writes can be undone until committed.
///
/// The touched-key set sits behind a mutex so that the leaf walker ([`crate::leaves`]), which
/// sees the state through `&self` (serde), can take it. Every other access goes through
/// `&mut self` and [`Mutex::get_mut`], which never locks.
#[derive(Debug)]
pub struct Table<K, V> {
    /// Every entry, for point reads and writes.
    values: Index<K, V>,
    /// Every key, in order: the only way entries are enumerated.
    order: BTreeSet<K>,
    /// The value each key had before its first write in the current transaction.
    undo: Vec<(K, Option<V>)>,
    /// Advances at every commit or rollback of writes: values stored with this generation were
    /// journaled by the current transaction.
    generation: u64,
    /// Keys written since the last `take_touched`, when change tracking is on.
    touched: Mutex<Option<BTreeSet<K>>>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            values: Index::default(),
            order: BTreeSet::new(),
            undo: Vec::new(),
            generation: 1,
            touched: Mutex::new(None),
        }
    }
}

impl<K: Ord + Hash + Clone, V: Clone> Clone for Table<K, V> {
    fn clone(&self) -> Self {
        let touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner).clone();
        Table {
            values: self.values.clone(),
            order: self.order.clone(),
            undo: self.undo.clone(),
            generation: self.generation,
            touched: Mutex::new(touched),
        }
    }
}

impl<K: Ord + Hash, V: PartialEq> PartialEq for Table<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.order == other.order
            && self.values.iter().all(|(key, stored)| {
                other.values.get(key).is_some_and(|theirs| theirs.value == stored.value)
            })
    }
}

impl<K: Ord + Hash + Clone, V: Clone> Table<K, V> {
    /// The value at `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.values.get(key).map(|stored| &stored.value)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &K) -> bool {
        self.values.contains_key(key)
    }

    /// Sets `key` to `value`, recording the old value.
    pub fn insert(&mut self, key: K, value: V) {
        let generation = self.generation;
        match self.values.get_mut(&key) {
            Some(stored) if stored.generation == generation => stored.value = value,
            Some(stored) => {
                let old = std::mem::replace(&mut stored.value, value);
                stored.generation = generation;
                self.undo.push((key, Some(old)));
            }
            None => {
                self.values.insert(key.clone(), Stored { value, generation });
                self.order.insert(key.clone());
                // Absent now; if it was present when the transaction began, an earlier entry
                // restores it after this one removes it.
                self.undo.push((key, None));
            }
        }
    }

    /// Removes `key`, recording the old value; returns it.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let stored = self.values.remove(key)?;
        self.order.remove(key);
        if stored.generation != self.generation {
            self.undo.push((key.clone(), Some(stored.value.clone())));
        }
        Some(stored.value)
    }

    /// Applies `change` to the value at `key` (recording the old value); `None` if absent.
    pub fn update<R>(&mut self, key: &K, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        let stored = self.values.get_mut(key)?;
        if stored.generation != self.generation {
            self.undo.push((key.clone(), Some(stored.value.clone())));
            stored.generation = self.generation;
        }
        Some(change(&mut stored.value))
    }

    /// The value of a key the ordered set lists: the two always hold the same keys.
    fn value_of<'a>(values: &'a Index<K, V>, key: &K) -> &'a V {
        &values.get(key).expect("a table's ordered keys and its values hold the same keys").value
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        let values = &self.values;
        self.order.iter().map(move |key| (key, Self::value_of(values, key)))
    }

    /// Entries whose keys fall in `range`, in key order.
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        let values = &self.values;
        self.order.range(range).map(move |key| (key, Self::value_of(values, key)))
    }

    /// Keys in key order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.order.iter()
    }

    /// The first entry in key order.
    pub fn first(&self) -> Option<(&K, &V)> {
        self.order.first().map(|key| (key, Self::value_of(&self.values, key)))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Starts recording the keys every committed write touches (for incremental commitments
    /// and persistence). Off by default: tests and benchmarks do not pay for it.
    pub fn track_changes(&mut self) {
        let touched = self.touched.get_mut().unwrap_or_else(PoisonError::into_inner);
        if touched.is_none() {
            *touched = Some(BTreeSet::new());
        }
    }

    /// Forgets a non-empty undo log, noting its keys as touched when tracking changes.
    fn commit_writes(&mut self) {
        match self.touched.get_mut().unwrap_or_else(PoisonError::into_inner) {
            Some(touched) => touched.extend(self.undo.drain(..).map(|(key, _)| key)),
            None => self.undo.clear(),
        }
        self.generation += 1;
    }

    /// The keys touched by committed writes since the last call, in key order.
    pub fn take_touched(&mut self) -> Vec<K> {
        match self.touched.get_mut().unwrap_or_else(PoisonError::into_inner) {
            Some(touched) => std::mem::take(touched).into_iter().collect(),
            None => Vec::new(),
        }
    }
}

impl<K: Ord + Hash + Clone, V: Clone> Journaled for Table<K, V> {
    // Inlined so that committing the many tables a transaction did not write costs a length
    // test each, not a call each.
    #[inline]
    fn commit(&mut self) {
        if !self.undo.is_empty() {
            self.commit_writes();
        }
    }

    fn rollback(&mut self) {
        if self.undo.is_empty() {
            return;
        }
        // Restored values keep the current generation, which is over once this returns.
        let generation = self.generation;
        while let Some((key, old)) = self.undo.pop() {
            match old {
                Some(value) => {
                    let stored = Stored { value, generation };
                    if self.values.insert(key.clone(), stored).is_none() {
                        self.order.insert(key);
                    }
                }
                None => {
                    self.values.remove(&key);
                    self.order.remove(&key);
                }
            }
        }
        self.generation += 1;
    }
}

/// A table's entries in key order, as ordinary serializers see a map.
struct OrderedEntries<'a, K, V>(&'a Table<K, V>);

impl<K: Serialize + Ord + Hash + Clone, V: Serialize + Clone> Serialize
    for OrderedEntries<'_, K, V>
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter())
    }
}

impl<K: Serialize + Ord + Hash + Clone, V: Serialize + Clone> Serialize for Table<K, V> {
    /// Encodes as the map of entries, wrapped in a newtype that every ordinary serializer
    /// (postcard, JSON) sees through. Under the leaf walker it lists its entries instead, each
    /// key and value pre-encoded (all of them, or only the keys touched since the last walk).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match leaves::mode() {
            LeafMode::Encode => {
                serializer.serialize_newtype_struct(leaves::TABLE_MARKER, &OrderedEntries(self))
            }
            LeafMode::All => {
                let entries = leaves::with_encode_mode(|| {
                    // Enumerating every leaf is the baseline from which changes are tracked.
                    let mut touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner);
                    *touched = Some(BTreeSet::new());
                    self.iter()
                        .map(|(key, value)| (leaves::encode(key), Some(leaves::encode(value))))
                        .collect::<Vec<_>>()
                });
                serializer.serialize_newtype_struct(leaves::TABLE_MARKER, &entries)
            }
            LeafMode::Changed => {
                let entries = leaves::with_encode_mode(|| {
                    let mut touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner);
                    let keys = touched.as_mut().map(std::mem::take).unwrap_or_default();
                    keys.into_iter()
                        .map(|key| {
                            let value = self.get(&key).map(leaves::encode);
                            (leaves::encode(&key), value)
                        })
                        .collect::<Vec<_>>()
                });
                serializer.serialize_newtype_struct(leaves::TABLE_MARKER, &entries)
            }
        }
    }
}

impl<'de, K: Deserialize<'de> + Ord + Hash + Clone, V: Deserialize<'de>> Deserialize<'de>
    for Table<K, V>
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = BTreeMap::<K, V>::deserialize(deserializer)?;
        let order = entries.keys().cloned().collect();
        Ok(Table {
            values: entries
                .into_iter()
                .map(|(key, value)| (key, Stored { value, generation: 0 }))
                .collect(),
            order,
            undo: Vec::new(),
            generation: 1,
            touched: Mutex::new(None),
        })
    }
}

/// A single journaled value (a component's globals).
#[derive(Debug, Default)]
pub struct Slot<T> {
    value: T,
    undo: Option<T>,
    /// Whether a committed write touched the value since the last `take_touched` (atomic so
    /// that the leaf walker, which sees `&self`, can take it).
    touched: AtomicBool,
}

impl<T: Clone> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot {
            value: self.value.clone(),
            undo: self.undo.clone(),
            touched: AtomicBool::new(self.touched.load(Ordering::Relaxed)),
        }
    }
}

impl<T: Clone> Slot<T> {
    /// A slot holding `value`.
    pub fn new(value: T) -> Slot<T> {
        Slot { value, undo: None, touched: AtomicBool::new(false) }
    }

    /// The value.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// The value for writing; the first write in a transaction saves the old value.
    pub fn get_mut(&mut self) -> &mut T {
        if self.undo.is_none() {
            self.undo = Some(self.value.clone());
        }
        &mut self.value
    }

    /// Whether a committed write touched this slot since the last call; clears the flag.
    pub fn take_touched(&mut self) -> bool {
        std::mem::take(self.touched.get_mut())
    }
}

impl<T: PartialEq> PartialEq for Slot<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Clone> Journaled for Slot<T> {
    #[inline]
    fn commit(&mut self) {
        if self.undo.is_some() {
            self.undo = None;
            *self.touched.get_mut() = true;
        }
    }

    #[inline]
    fn rollback(&mut self) {
        if let Some(old) = self.undo.take() {
            self.value = old;
        }
    }
}

impl<T: Serialize> Serialize for Slot<T> {
    /// Encodes as the value, wrapped in a newtype ordinary serializers see through. Under the
    /// leaf walker it gives its pre-encoded value (always, or only if touched since the last
    /// walk).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match leaves::mode() {
            LeafMode::Encode => {
                serializer.serialize_newtype_struct(leaves::SLOT_MARKER, &self.value)
            }
            LeafMode::All => {
                self.touched.store(false, Ordering::Relaxed);
                let value = leaves::with_encode_mode(|| Some(leaves::encode(&self.value)));
                serializer.serialize_newtype_struct(leaves::SLOT_MARKER, &value)
            }
            LeafMode::Changed => {
                let value = if self.touched.swap(false, Ordering::Relaxed) {
                    leaves::with_encode_mode(|| Some(leaves::encode(&self.value)))
                } else {
                    None
                };
                serializer.serialize_newtype_struct(leaves::SLOT_MARKER, &value)
            }
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Slot<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Slot {
            value: T::deserialize(deserializer)?,
            undo: None,
            touched: AtomicBool::new(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table holding 1 -> 10 and 2 -> 20, committed.
    fn committed_table() -> Table<u32, u32> {
        let mut table = Table::default();
        table.insert(1, 10);
        table.insert(2, 20);
        table.commit();
        table
    }

    #[test]
    fn rollback_restores_inserts_updates_and_removes_in_reverse_order() {
        let mut table = committed_table();
        let before = table.clone();
        table.insert(1, 11);
        table.insert(1, 12);
        table.remove(&2);
        table.insert(3, 30);
        table.update(&3, |v| *v += 1);
        table.rollback();
        assert!(table == before);
        assert_eq!(table.get(&1), Some(&10));
        assert_eq!(table.get(&3), None);
    }

    #[test]
    fn a_value_written_many_times_in_one_transaction_is_journaled_once() {
        let mut table = committed_table();
        let before = table.clone();
        table.insert(1, 11);
        table.update(&1, |v| *v += 1);
        table.insert(1, 13);
        assert_eq!(table.undo.len(), 1, "one entry for three writes of key 1");
        table.remove(&1);
        table.insert(1, 14);
        table.update(&2, |v| *v = 21);
        table.remove(&2);
        table.insert(3, 30);
        table.remove(&3);
        table.rollback();
        assert!(table == before);
        assert_eq!((table.get(&1), table.get(&2), table.get(&3)), (Some(&10), Some(&20), None));
        // The next transaction journals again.
        table.update(&1, |v| *v = 15);
        table.commit();
        table.update(&1, |v| *v = 16);
        assert_eq!(table.undo.len(), 1);
        table.rollback();
        assert_eq!(table.get(&1), Some(&15));
    }

    #[test]
    fn committed_writes_are_reported_as_touched_once() {
        let mut table: Table<u32, u32> = Table::default();
        table.track_changes();
        table.insert(5, 1);
        table.insert(5, 2);
        table.commit();
        table.insert(7, 1);
        table.rollback();
        assert_eq!(table.take_touched(), vec![5]);
        assert!(table.take_touched().is_empty());
    }

    #[test]
    fn slot_rollback_restores_the_value_at_the_last_commit() {
        let mut slot = Slot::new(1u32);
        *slot.get_mut() = 2;
        slot.commit();
        *slot.get_mut() = 3;
        *slot.get_mut() = 4;
        slot.rollback();
        assert_eq!(*slot.get(), 2);
        assert!(slot.take_touched());
    }
}
