//! Journaled state containers: every write records the value it replaced, so a rejected
//! transaction is rolled back exactly, and the keys a block touched can be listed.
//!
//! Guarantees: after `rollback` a table compares equal to its state at the last `commit`;
//! iteration order is the key order, the same on every machine. Reading a table or slot (its
//! entries, its encoding, its leaves) takes `&self` and changes nothing; only writes, `commit`,
//! `rollback` and taking the touched keys take `&mut self`. No interior mutability.
//!
//! A component's state is declared once with [`component!`]: the struct, its `commit` and
//! `rollback` over every field, its leaf visit ([`Component`]) and, for a top-level component,
//! the leaf path of each field as a constant. A field left out of `rollback` or a leaf path
//! typed by hand cannot happen.
//!
//! A table keeps its values in a hash map for point reads and writes (one probe instead of a
//! B-tree descent with a dozen key comparisons: the hottest paths, a transfer or a repayment,
//! are made of such reads) and its keys in an ordered set for every iteration. The hash map is
//! never iterated, so its order (fixed hasher or not) can never reach the state or its
//! encoding.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};
use std::collections::hash_map::Entry as HashEntry;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hash;
use std::ops::RangeBounds;

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
    touched: Option<BTreeSet<K>>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            values: Index::default(),
            order: BTreeSet::new(),
            undo: Vec::new(),
            generation: 1,
            touched: None,
        }
    }
}

impl<K: Ord + Hash + Clone, V: Clone> Clone for Table<K, V> {
    fn clone(&self) -> Self {
        Table {
            values: self.values.clone(),
            order: self.order.clone(),
            undo: self.undo.clone(),
            generation: self.generation,
            touched: self.touched.clone(),
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

    /// Replaces the value at `key` with what `change` makes of it (`None`: absent, or remove
    /// it), recording the old value, in one lookup: the same table as reading with
    /// [`Table::get`] and writing with [`Table::insert`] or [`Table::remove`]. An error from
    /// `change` leaves the table as it was.
    pub fn write_with<E>(
        &mut self,
        key: K,
        change: impl FnOnce(Option<&V>) -> Result<Option<V>, E>,
    ) -> Result<(), E> {
        let generation = self.generation;
        match self.values.entry(key) {
            HashEntry::Occupied(mut occupied) => match change(Some(&occupied.get().value))? {
                Some(value) => {
                    let stored = occupied.get_mut();
                    if stored.generation == generation {
                        stored.value = value;
                    } else {
                        let old = std::mem::replace(&mut stored.value, value);
                        stored.generation = generation;
                        self.undo.push((occupied.key().clone(), Some(old)));
                    }
                }
                None => {
                    let (key, stored) = occupied.remove_entry();
                    self.order.remove(&key);
                    if stored.generation != generation {
                        self.undo.push((key, Some(stored.value)));
                    }
                }
            },
            HashEntry::Vacant(vacant) => {
                if let Some(value) = change(None)? {
                    let key = vacant.key().clone();
                    vacant.insert(Stored { value, generation });
                    self.order.insert(key.clone());
                    self.undo.push((key, None));
                }
            }
        }
        Ok(())
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
    /// and persistence), from now on: keys touched before are forgotten. Off by default: tests
    /// and benchmarks do not pay for it.
    pub fn track_changes(&mut self) {
        self.touched = Some(BTreeSet::new());
    }

    /// Forgets a non-empty undo log, noting its keys as touched when tracking changes.
    fn commit_writes(&mut self) {
        match &mut self.touched {
            Some(touched) => touched.extend(self.undo.drain(..).map(|(key, _)| key)),
            None => self.undo.clear(),
        }
        self.generation += 1;
    }

    /// Sets (`Some`) or removes (`None`) `key` outside any transaction: no undo entry, not
    /// reported as touched. Only for bringing a copy of a state to the version of another one
    /// whose changed leaves it is given ([`crate::State::apply_leaves`]), so it must be called
    /// between transactions.
    pub(crate) fn overwrite(&mut self, key: K, value: Option<V>) {
        assert!(self.undo.is_empty(), "a table is overwritten only between transactions");
        match value {
            // Generation 0 is never the current one: the next transaction journals it.
            Some(value) => {
                if self.values.insert(key.clone(), Stored { value, generation: 0 }).is_none() {
                    self.order.insert(key);
                }
            }
            None => {
                if self.values.remove(&key).is_some() {
                    self.order.remove(&key);
                }
            }
        }
    }

    /// The keys touched by committed writes since the last call, in key order.
    pub fn take_touched(&mut self) -> Vec<K> {
        match &mut self.touched {
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

impl<K: Serialize + Ord + Hash + Clone, V: Serialize + Clone> Serialize for Table<K, V> {
    /// Encodes as the map of entries in key order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
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
            touched: None,
        })
    }
}

/// A single journaled value (a component's globals).
#[derive(Clone, Debug, Default)]
pub struct Slot<T> {
    value: T,
    undo: Option<T>,
    /// Whether a committed write touched the value since the last `take_touched`.
    touched: bool,
}

impl<T: Clone> Slot<T> {
    /// A slot holding `value`.
    pub fn new(value: T) -> Slot<T> {
        Slot { value, undo: None, touched: false }
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

    /// Replaces the value outside any transaction (see [`Table::overwrite`]).
    pub(crate) fn overwrite(&mut self, value: T) {
        assert!(self.undo.is_none(), "a slot is overwritten only between transactions");
        self.value = value;
    }

    /// Whether a committed write touched this slot since the last call; clears the flag.
    pub fn take_touched(&mut self) -> bool {
        std::mem::take(&mut self.touched)
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
            self.touched = true;
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
    /// Encodes as the value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Slot<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Slot { value: T::deserialize(deserializer)?, undo: None, touched: false })
    }
}

/// What a table's key must be to have leaves: encoded in a leaf key, decoded from one.
pub trait LeafKey: Serialize + DeserializeOwned + Ord + Hash + Clone {}
impl<K: Serialize + DeserializeOwned + Ord + Hash + Clone> LeafKey for K {}

/// What a table's value or a slot's must be to have leaves: encoded in a leaf value, decoded
/// from one.
pub trait LeafValue: Serialize + DeserializeOwned + Clone {}
impl<V: Serialize + DeserializeOwned + Clone> LeafValue for V {}

/// A part of the state made of tables and slots: a [`Table`], a [`Slot`], or a struct of them
/// declared with [`component!`]. Its leaves are visited in declaration order, which is also
/// the order of its canonical encoding.
pub trait Component: Journaled {
    /// Hands each table and slot to `visitor` with its leaf path under `path`.
    fn visit<T: LeafVisitor>(&self, path: &str, visitor: &mut T);
    /// The same, with each table and slot writable (to take or reset its touched keys).
    fn visit_mut<T: LeafVisitorMut>(&mut self, path: &str, visitor: &mut T);
}

/// What sees every table and slot of a component, read-only.
pub trait LeafVisitor {
    /// The table at `path`.
    fn table<K, V>(&mut self, path: &str, table: &Table<K, V>)
    where
        K: LeafKey,
        V: LeafValue;
    /// The slot at `path`.
    fn slot<T: LeafValue>(&mut self, path: &str, slot: &Slot<T>);
}

/// What sees every table and slot of a component, writable.
pub trait LeafVisitorMut {
    /// The table at `path`.
    fn table<K, V>(&mut self, path: &str, table: &mut Table<K, V>)
    where
        K: LeafKey,
        V: LeafValue;
    /// The slot at `path`.
    fn slot<T: LeafValue>(&mut self, path: &str, slot: &mut Slot<T>);
}

/// The leaf path of `field` inside the component at `parent` (`ledger` and `holdings` give
/// `ledger.holdings`; the state itself is at the empty path).
pub fn child_path(parent: &str, field: &str) -> String {
    if parent.is_empty() { field.to_string() } else { format!("{parent}.{field}") }
}

impl<K: LeafKey, V: LeafValue> Component for Table<K, V> {
    fn visit<T: LeafVisitor>(&self, path: &str, visitor: &mut T) {
        visitor.table(path, self);
    }

    fn visit_mut<T: LeafVisitorMut>(&mut self, path: &str, visitor: &mut T) {
        visitor.table(path, self);
    }
}

impl<S: LeafValue> Component for Slot<S> {
    fn visit<T: LeafVisitor>(&self, path: &str, visitor: &mut T) {
        visitor.slot(path, self);
    }

    fn visit_mut<T: LeafVisitorMut>(&mut self, path: &str, visitor: &mut T) {
        visitor.slot(path, self);
    }
}

/// Declares a component's state once: the struct (with the attributes and derives written on
/// it), [`Journaled`] committing and rolling back every field, and [`Component`] visiting every
/// field's leaves in declaration order. Every field must be a [`Table`], a [`Slot`] or another
/// component, or the declaration does not compile.
///
/// `at "ledger" paths LedgerPaths` declares a top-level component's leaf path and a struct of
/// its fields' leaf paths, `LedgerState::PATHS.holdings == "ledger.holdings"`: the API and
/// proofs name leaves through these, never through literals. Fields after `; transient:` are
/// ordinary fields outside the state's leaves and journal (the events of the transaction being
/// executed).
macro_rules! component {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident at $path:literal paths $paths:ident {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident: $type:ty,)+
        }
    ) => {
        $crate::table::component! {
            $(#[$meta])*
            $vis struct $name {
                $($(#[$field_meta])* $field_vis $field: $type,)+
            }
        }

        #[doc = concat!("The leaf paths of [`", stringify!($name), "`]'s fields.")]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $paths {
            $(
                #[doc = concat!("`", $path, ".", stringify!($field), "`")]
                pub $field: &'static str,
            )+
        }

        impl $name {
            /// The component's leaf path: the state's field that holds it.
            pub const PATH: &'static str = $path;
            /// Its fields' leaf paths.
            pub const PATHS: $paths = $paths {
                $($field: concat!($path, ".", stringify!($field)),)+
            };
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident: $type:ty,)+
            $(; transient: $($(#[$extra_meta:meta])* $extra_vis:vis $extra:ident: $extra_type:ty,)+)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$field_meta])* $field_vis $field: $type,)+
            $($($(#[$extra_meta])* $extra_vis $extra: $extra_type,)+)?
        }

        impl $crate::table::Journaled for $name {
            #[inline]
            fn commit(&mut self) {
                $($crate::table::Journaled::commit(&mut self.$field);)+
            }

            fn rollback(&mut self) {
                $($crate::table::Journaled::rollback(&mut self.$field);)+
            }
        }

        impl $crate::table::Component for $name {
            fn visit<T: $crate::table::LeafVisitor>(&self, path: &str, visitor: &mut T) {
                $(
                    let field_path = $crate::table::child_path(path, stringify!($field));
                    $crate::table::Component::visit(&self.$field, &field_path, visitor);
                )+
            }

            fn visit_mut<T: $crate::table::LeafVisitorMut>(
                &mut self,
                path: &str,
                visitor: &mut T,
            ) {
                $(
                    let field_path = $crate::table::child_path(path, stringify!($field));
                    $crate::table::Component::visit_mut(&mut self.$field, &field_path, visitor);
                )+
            }
        }
    };
}
pub(crate) use component;

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
    fn write_with_changes_removes_and_inserts_and_rolls_back_like_insert_and_remove() {
        let mut table = committed_table();
        let before = table.clone();
        let add =
            |delta: u32| move |old: Option<&u32>| Ok::<_, ()>(Some(old.unwrap_or(&0) + delta));
        table.write_with(1, add(1)).expect("changes");
        table.write_with(1, add(1)).expect("changes");
        table.write_with(2, |_| Ok::<_, ()>(None)).expect("removes");
        table.write_with(3, add(30)).expect("inserts");
        table.write_with(4, |_| Ok::<_, ()>(None)).expect("leaves absent");
        assert_eq!(table.write_with(1, |_| Err("refused")), Err("refused"));
        assert_eq!(table.undo.len(), 3, "one entry per key written");
        let written: Vec<(u32, u32)> = table.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(written, vec![(1, 12), (3, 30)]);
        let mut by_insert = before.clone();
        by_insert.insert(1, 12);
        by_insert.remove(&2);
        by_insert.insert(3, 30);
        assert!(table == by_insert);
        table.rollback();
        assert!(table == before);
        assert_eq!((table.get(&1), table.get(&2), table.get(&3)), (Some(&10), Some(&20), None));
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
