//! Journaled state containers: every write records the value it replaced, so a rejected
//! transaction is rolled back exactly, and the keys a block touched can be listed.
//!
//! Guarantees: after `rollback` a table compares equal to its state at the last `commit`;
//! iteration order is the key order (no hashing, so it is the same on every machine).

use crate::leaves::{self, LeafMode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeBounds;
use std::sync::{
    Mutex, PoisonError,
    atomic::{AtomicBool, Ordering},
};

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
    entries: BTreeMap<K, V>,
    undo: Vec<(K, Option<V>)>,
    /// Keys written since the last `take_touched`, when change tracking is on.
    touched: Mutex<Option<BTreeSet<K>>>,
}

impl<K: Ord + Clone, V: Clone> Default for Table<K, V> {
    fn default() -> Self {
        Table { entries: BTreeMap::new(), undo: Vec::new(), touched: Mutex::new(None) }
    }
}

impl<K: Ord + Clone, V: Clone> Clone for Table<K, V> {
    fn clone(&self) -> Self {
        let touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner).clone();
        Table {
            entries: self.entries.clone(),
            undo: self.undo.clone(),
            touched: Mutex::new(touched),
        }
    }
}

impl<K: Ord + Clone, V: Clone + PartialEq> PartialEq for Table<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl<K: Ord + Clone, V: Clone> Table<K, V> {
    /// The value at `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// Sets `key` to `value`, recording the old value.
    pub fn insert(&mut self, key: K, value: V) {
        let old = self.entries.insert(key.clone(), value);
        self.undo.push((key, old));
    }

    /// Removes `key`, recording the old value; returns it.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let old = self.entries.remove(key);
        if let Some(value) = &old {
            self.undo.push((key.clone(), Some(value.clone())));
        }
        old
    }

    /// Applies `change` to the value at `key` (recording the old value); `None` if absent.
    pub fn update<R>(&mut self, key: &K, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        let value = self.entries.get_mut(key)?;
        self.undo.push((key.clone(), Some(value.clone())));
        Some(change(value))
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.entries.iter()
    }

    /// Entries whose keys fall in `range`, in key order.
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.entries.range(range)
    }

    /// The first entry in key order.
    pub fn first(&self) -> Option<(&K, &V)> {
        self.entries.first_key_value()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Starts recording the keys every committed write touches (for incremental commitments
    /// and persistence). Off by default: tests and benchmarks do not pay for it.
    pub fn track_changes(&mut self) {
        let touched = self.touched.get_mut().unwrap_or_else(PoisonError::into_inner);
        if touched.is_none() {
            *touched = Some(BTreeSet::new());
        }
    }

    /// The keys touched by committed writes since the last call, in key order.
    pub fn take_touched(&mut self) -> Vec<K> {
        match self.touched.get_mut().unwrap_or_else(PoisonError::into_inner) {
            Some(touched) => std::mem::take(touched).into_iter().collect(),
            None => Vec::new(),
        }
    }
}

impl<K: Ord + Clone, V: Clone> Journaled for Table<K, V> {
    fn commit(&mut self) {
        match self.touched.get_mut().unwrap_or_else(PoisonError::into_inner) {
            Some(touched) => touched.extend(self.undo.drain(..).map(|(key, _)| key)),
            None => self.undo.clear(),
        }
    }

    fn rollback(&mut self) {
        while let Some((key, old)) = self.undo.pop() {
            match old {
                Some(value) => self.entries.insert(key, value),
                None => self.entries.remove(&key),
            };
        }
    }
}

impl<K: Serialize + Ord + Clone, V: Serialize> Serialize for Table<K, V> {
    /// Encodes as the map of entries, wrapped in a newtype that every ordinary serializer
    /// (postcard, JSON) sees through. Under the leaf walker it lists its entries instead, each
    /// key and value pre-encoded (all of them, or only the keys touched since the last walk).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match leaves::mode() {
            LeafMode::Encode => {
                serializer.serialize_newtype_struct(leaves::TABLE_MARKER, &self.entries)
            }
            LeafMode::All => {
                let entries = leaves::with_encode_mode(|| {
                    // Enumerating every leaf is the baseline from which changes are tracked.
                    let mut touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner);
                    *touched = Some(BTreeSet::new());
                    self.entries
                        .iter()
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
                            let value = self.entries.get(&key).map(leaves::encode);
                            (leaves::encode(&key), value)
                        })
                        .collect::<Vec<_>>()
                });
                serializer.serialize_newtype_struct(leaves::TABLE_MARKER, &entries)
            }
        }
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for Table<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Table {
            entries: BTreeMap::deserialize(deserializer)?,
            undo: Vec::new(),
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
    fn commit(&mut self) {
        if self.undo.take().is_some() {
            *self.touched.get_mut() = true;
        }
    }

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

    #[test]
    fn rollback_restores_inserts_updates_and_removes_in_reverse_order() {
        let mut table: Table<u32, u32> = Table::default();
        table.insert(1, 10);
        table.insert(2, 20);
        table.commit();
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
