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
//! never iterated in its own order, so that order (fixed hasher or not) can never reach the
//! state or its encoding: a table that keeps no ordered set ([`Unordered`], a Fenwick tree's
//! nodes) sorts its keys when iterated.
//!
//! A table may also keep a derived index of its own entries ([`TableIndex`]: its entries by
//! owner, say, [`ByOwner`]). The index is a function of the entries and nothing else: every
//! write, rollback, overwrite and decoding keeps it right, it is not encoded, not a leaf and
//! not compared, so it changes no state root and needs no format change.

use crate::chunked_keys::ChunkedKeys;
use crate::leaves::LeafTable;
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

/// A derived index a table keeps of its entries: told of every entry that appears, goes or
/// changes what the index keeps of it ([`TableIndex::Projection`]), so it always equals what
/// a scan of the table would build. Only the table calls it.
pub trait TableIndex<K, V>: Default + Clone + std::fmt::Debug {
    /// What the index keeps of an entry (its owner, say): cheap to make and compare, so a
    /// write that leaves it unchanged costs the index nothing.
    type Projection: PartialEq;
    /// The projection of an entry.
    fn project(key: &K, value: &V) -> Self::Projection;
    /// An entry with this projection appeared (or its projection became this one).
    fn add(&mut self, key: &K, projection: Self::Projection);
    /// An entry with this projection is going (or its projection is changing from this one).
    fn remove(&mut self, key: &K, projection: Self::Projection);
    /// An entry's projection changed from `before` to `after` (they differ). By default the
    /// entry goes and comes back; an index whose parts change at different rates (a loan's
    /// senior position at every payment, its borrower never) overrides it to move only the
    /// parts that changed.
    fn replace(&mut self, key: &K, before: Self::Projection, after: Self::Projection) {
        self.remove(key, before);
        self.add(key, after);
    }
    /// The index of a whole table at once (a decoded one), from its entries in key order.
    fn rebuilt<'a>(entries: impl Iterator<Item = (&'a K, &'a V)>) -> Self
    where
        K: 'a,
        V: 'a;
    /// How the table keeps its keys in order on every write: a `BTreeSet` for most tables;
    /// [`ChunkedKeys`] for a table whose keys mostly arrive in increasing order ([`Chunked`]);
    /// none ([`NoOrder`]) for a table read only by key on its hot paths and iterated only to
    /// be encoded, compared or checked (a Fenwick tree's nodes: [`Unordered`]), whose keys
    /// are sorted when it is iterated.
    type Order: KeyOrder<K>;
}

/// How a table keeps its keys in order for iteration: a set the table tells of every key that
/// appears or goes (its writes, rollbacks, overwrites and decoding), so it always holds
/// exactly the table's keys.
pub trait KeyOrder<K>: Default + Clone + std::fmt::Debug {
    /// Whether it keeps the keys at all: a table whose order keeps none ([`NoOrder`]) sorts its
    /// keys when iterated.
    const KEEPS: bool = true;
    /// `key` appeared.
    fn insert(&mut self, key: K);
    /// `key` went.
    fn remove(&mut self, key: &K);
    /// The smallest key.
    fn first(&self) -> Option<&K>;
    /// Every key, in order.
    fn iter<'a>(&'a self) -> impl DoubleEndedIterator<Item = &'a K> + ExactSizeIterator
    where
        K: 'a;
    /// The keys in `range`, in order.
    fn range<'a, R: RangeBounds<K>>(&'a self, range: R) -> impl DoubleEndedIterator<Item = &'a K>
    where
        K: 'a;
}

/// A [`KeyOrder`] that is an ordered set with the same five methods: each call forwards to it.
macro_rules! key_order_of_ordered_set {
    ($set:ident) => {
        impl<K: Ord + Clone + std::fmt::Debug> KeyOrder<K> for $set<K> {
            #[inline]
            fn insert(&mut self, key: K) {
                $set::insert(self, key);
            }

            #[inline]
            fn remove(&mut self, key: &K) {
                $set::remove(self, key);
            }

            fn first(&self) -> Option<&K> {
                $set::first(self)
            }

            fn iter<'a>(&'a self) -> impl DoubleEndedIterator<Item = &'a K> + ExactSizeIterator
            where
                K: 'a,
            {
                $set::iter(self)
            }

            fn range<'a, R: RangeBounds<K>>(
                &'a self,
                range: R,
            ) -> impl DoubleEndedIterator<Item = &'a K>
            where
                K: 'a,
            {
                $set::range(self, range)
            }
        }
    };
}

key_order_of_ordered_set!(BTreeSet);
key_order_of_ordered_set!(ChunkedKeys);

/// No key order kept: the table sorts its keys when iterated (see [`Unordered`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoOrder;

impl<K> KeyOrder<K> for NoOrder {
    const KEEPS: bool = false;

    #[inline(always)]
    fn insert(&mut self, _: K) {}

    #[inline(always)]
    fn remove(&mut self, _: &K) {}

    fn first(&self) -> Option<&K> {
        None
    }

    fn iter<'a>(&'a self) -> impl DoubleEndedIterator<Item = &'a K> + ExactSizeIterator
    where
        K: 'a,
    {
        std::iter::empty()
    }

    fn range<'a, R: RangeBounds<K>>(&'a self, _: R) -> impl DoubleEndedIterator<Item = &'a K>
    where
        K: 'a,
    {
        std::iter::empty()
    }
}

/// A [`TableIndex`] that keeps nothing of the entries (a unit type), only a way of ordering
/// the table's keys: `$order`, for keys bounded by `$bounds`.
macro_rules! no_index_ordered_by {
    ($(#[$doc:meta])* $name:ident, $order:ty, [$($bounds:tt)*]) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl<K: $($bounds)*, V> TableIndex<K, V> for $name {
            type Projection = ();
            type Order = $order;

            #[inline(always)]
            fn project(_: &K, _: &V) {}

            #[inline(always)]
            fn add(&mut self, _: &K, (): ()) {}

            #[inline(always)]
            fn remove(&mut self, _: &K, (): ()) {}

            fn rebuilt<'a>(_: impl Iterator<Item = (&'a K, &'a V)>) -> Self
            where
                K: 'a,
                V: 'a,
            {
                $name
            }
        }
    };
}

no_index_ordered_by!(
    /// No index: the default; costs nothing.
    NoIndex,
    BTreeSet<K>,
    [Ord + Clone + std::fmt::Debug]
);

no_index_ordered_by!(
    /// No index and no key order kept on writes (see [`TableIndex::Order`]): for a table
    /// whose writes are hot and whose iteration is rare (a Fenwick tree's nodes, written a few
    /// dozen times per request a round serves, iterated only to encode the state or check it).
    /// Iterating it sorts its keys: O(n log n) each time.
    Unordered,
    NoOrder,
    [Sized]
);

no_index_ordered_by!(
    /// No index, and the keys kept in order in [`ChunkedKeys`]: for a table whose keys mostly
    /// arrive in increasing order and leave from the front (the queue's waiting and eligible
    /// orders), where appending a key costs one comparison instead of a B-tree descent.
    Chunked,
    ChunkedKeys<K>,
    [Ord + Clone + std::fmt::Debug]
);

/// A record that belongs to an account.
pub trait Owned {
    /// The account it belongs to.
    fn owner(&self) -> crate::ids::Address;
}

/// The owner map of [`ByOwner`]. Never iterated in an order that matters (only compared with
/// a scan as a set), so the determinism rule against hash maps does not apply.
#[allow(clippy::disallowed_types)]
type OwnerMap<K> =
    std::collections::HashMap<crate::ids::Address, OwnerKeys<K>, rustc_hash::FxBuildHasher>;

/// One owner's keys, in key order. Most owners hold a single entry (one request, one loan):
/// its key is kept in the map's own slot, so adding or dropping it allocates nothing and reads
/// no second cache line (with a `Vec` for every owner, a claim's removal from the index took
/// ~245 instructions, two probes and a free; ~140 and one probe now).
#[derive(Clone, Debug)]
enum OwnerKeys<K> {
    /// The owner's only key.
    One(K),
    /// Two keys or more, sorted, no duplicates.
    Many(Vec<K>),
}

impl<K: Ord + Clone> OwnerKeys<K> {
    fn as_slice(&self) -> &[K] {
        match self {
            OwnerKeys::One(key) => std::slice::from_ref(key),
            OwnerKeys::Many(keys) => keys,
        }
    }

    /// Adds `key` where it sorts (nothing if present).
    fn add(&mut self, key: &K) {
        match self {
            OwnerKeys::One(only) => match K::cmp(only, key) {
                std::cmp::Ordering::Less => {
                    *self = OwnerKeys::Many(vec![only.clone(), key.clone()])
                }
                std::cmp::Ordering::Greater => {
                    *self = OwnerKeys::Many(vec![key.clone(), only.clone()]);
                }
                std::cmp::Ordering::Equal => {}
            },
            // Keys mostly arrive in order (ids grow): then it is a push.
            OwnerKeys::Many(keys) => match keys.last() {
                Some(last) if last < key => keys.push(key.clone()),
                _ => {
                    if let Err(at) = keys.binary_search(key) {
                        keys.insert(at, key.clone());
                    }
                }
            },
        }
    }

    /// Removes `key` if present; `true` when no key is left (the owner's entry goes).
    fn remove(&mut self, key: &K) -> bool {
        match self {
            OwnerKeys::One(only) => only == key,
            OwnerKeys::Many(keys) => {
                if let Ok(at) = keys.binary_search(key) {
                    keys.remove(at);
                }
                if let [only] = keys.as_slice() {
                    *self = OwnerKeys::One(only.clone());
                }
                false
            }
        }
    }
}

/// A table's keys by their entries' owner, each owner's sorted: an owner's entries are read in
/// O(1 + their number), whatever the others hold. A write costs one hash probe and, for an
/// owner with many entries, a shift of its own keys (the cost falls on that owner's writes).
#[derive(Clone, Debug)]
pub struct ByOwner<K> {
    /// Each owner's keys; an owner with none has no entry.
    keys: OwnerMap<K>,
}

impl<K> Default for ByOwner<K> {
    fn default() -> Self {
        ByOwner { keys: OwnerMap::default() }
    }
}

impl<K: Ord + Clone> ByOwner<K> {
    /// The keys of `owner`'s entries, in key order.
    fn slice_of(&self, owner: crate::ids::Address) -> &[K] {
        self.keys.get(&owner).map_or(&[][..], OwnerKeys::as_slice)
    }

    /// The keys of `owner`'s entries, in key order.
    pub fn keys_of(
        &self,
        owner: crate::ids::Address,
    ) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.slice_of(owner).iter()
    }

    /// The keys of `owner`'s entries from `start` on, in key order.
    pub fn keys_of_from(
        &self,
        owner: crate::ids::Address,
        start: &K,
    ) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        let keys = self.slice_of(owner);
        keys[keys.partition_point(|key| key < start)..].iter()
    }

    /// The number of `owner`'s entries.
    pub fn count_of(&self, owner: crate::ids::Address) -> usize {
        self.slice_of(owner).len()
    }

    /// Whether the index holds exactly the owners and keys a scan of `entries` gives, each
    /// owner's keys in the form the index keeps (one inline, more in a list).
    pub fn equals_scan<'a, V: Owned + 'a>(
        &self,
        entries: impl Iterator<Item = (&'a K, &'a V)>,
    ) -> bool
    where
        K: 'a,
    {
        let mut scanned: BTreeMap<crate::ids::Address, Vec<K>> = BTreeMap::new();
        for (key, value) in entries {
            scanned.entry(value.owner()).or_default().push(key.clone());
        }
        scanned.len() == self.keys.len()
            && scanned.iter().all(|(owner, keys)| match self.keys.get(owner) {
                Some(OwnerKeys::One(only)) => keys.as_slice() == std::slice::from_ref(only),
                Some(OwnerKeys::Many(kept)) => kept.len() >= 2 && kept == keys,
                None => false,
            })
    }
}

impl<K: Ord + Clone + std::fmt::Debug, V: Owned> TableIndex<K, V> for ByOwner<K> {
    type Projection = crate::ids::Address;
    type Order = BTreeSet<K>;

    fn project(_: &K, value: &V) -> crate::ids::Address {
        value.owner()
    }

    fn add(&mut self, key: &K, owner: crate::ids::Address) {
        match self.keys.entry(owner) {
            HashEntry::Occupied(mut keys) => keys.get_mut().add(key),
            HashEntry::Vacant(vacant) => {
                vacant.insert(OwnerKeys::One(key.clone()));
            }
        }
    }

    fn remove(&mut self, key: &K, owner: crate::ids::Address) {
        // One probe: the owner's entry goes through the same lookup that found it.
        if let HashEntry::Occupied(mut keys) = self.keys.entry(owner)
            && keys.get_mut().remove(key)
        {
            keys.remove();
        }
    }

    fn rebuilt<'a>(entries: impl Iterator<Item = (&'a K, &'a V)>) -> Self
    where
        K: 'a,
        V: 'a,
    {
        let mut index = ByOwner::default();
        for (key, value) in entries {
            TableIndex::<K, V>::add(&mut index, key, value.owner());
        }
        index
    }
}

/// Two indexes of one table: each is told of every entry as if it were alone.
/// The key order is the first index's.
impl<K, V, A: TableIndex<K, V>, B: TableIndex<K, V>> TableIndex<K, V> for (A, B) {
    type Projection = (A::Projection, B::Projection);
    type Order = A::Order;

    fn project(key: &K, value: &V) -> Self::Projection {
        (A::project(key, value), B::project(key, value))
    }

    fn add(&mut self, key: &K, (a, b): Self::Projection) {
        self.0.add(key, a);
        self.1.add(key, b);
    }

    fn remove(&mut self, key: &K, (a, b): Self::Projection) {
        self.0.remove(key, a);
        self.1.remove(key, b);
    }

    fn rebuilt<'a>(entries: impl Iterator<Item = (&'a K, &'a V)>) -> Self
    where
        K: 'a,
        V: 'a,
    {
        let entries: Vec<(&K, &V)> = entries.collect();
        (A::rebuilt(entries.iter().copied()), B::rebuilt(entries.iter().copied()))
    }
}

/// An ordered map whose writes can be undone until committed, with an optional derived index
/// of its entries (`I`, see [`TableIndex`]).
#[derive(Debug)]
pub struct Table<K, V, I: TableIndex<K, V> = NoIndex> {
    /// Every entry, for point reads and writes.
    values: Index<K, V>,
    /// Every key, in order: the only way entries are enumerated (empty when the order keeps
    /// none, [`KeyOrder::KEEPS`]).
    order: I::Order,
    /// The value each key had before its first write in the current transaction.
    undo: Vec<(K, Option<V>)>,
    /// Advances at every commit or rollback of writes: values stored with this generation were
    /// journaled by the current transaction.
    generation: u64,
    /// Keys written since the last `take_touched`, when change tracking is on.
    touched: TouchedKeys<K>,
    /// The derived index of the entries (not encoded, not compared).
    index: I,
}

/// The keys a journaled table's committed writes touched since they were last taken, once
/// change tracking is on (for incremental commitments and persistence; off by default, so
/// tests and benchmarks do not pay for it). Shared by every table kind ([`Table`],
/// `DenseTable`, `KeySet`, the Fenwick node store) so they report touched keys alike.
#[derive(Clone, Debug)]
pub(crate) struct TouchedKeys<K>(Option<BTreeSet<K>>);

impl<K> Default for TouchedKeys<K> {
    fn default() -> Self {
        TouchedKeys(None)
    }
}

impl<K: Ord> TouchedKeys<K> {
    /// Starts recording, from now on: keys touched before are forgotten.
    pub(crate) fn track(&mut self) {
        self.0 = Some(BTreeSet::new());
    }

    /// Empties a committed transaction's undo log, recording its keys when tracking.
    #[inline]
    pub(crate) fn commit<V>(&mut self, undo: &mut Vec<(K, V)>) {
        match &mut self.0 {
            Some(touched) => touched.extend(undo.drain(..).map(|(key, _)| key)),
            None => undo.clear(),
        }
    }

    /// The keys recorded since the last call, in key order.
    pub(crate) fn take(&mut self) -> Vec<K> {
        match &mut self.0 {
            Some(touched) => std::mem::take(touched).into_iter().collect(),
            None => Vec::new(),
        }
    }
}

impl<K, V, I: TableIndex<K, V>> Default for Table<K, V, I> {
    fn default() -> Self {
        Table {
            values: Index::default(),
            order: I::Order::default(),
            undo: Vec::new(),
            generation: 1,
            touched: TouchedKeys::default(),
            index: I::default(),
        }
    }
}

impl<K: Ord + Hash + Clone, V: Clone, I: TableIndex<K, V>> Clone for Table<K, V, I> {
    fn clone(&self) -> Self {
        Table {
            values: self.values.clone(),
            order: self.order.clone(),
            undo: self.undo.clone(),
            generation: self.generation,
            touched: self.touched.clone(),
            index: self.index.clone(),
        }
    }
}

/// Entries only: the index is derived from them.
impl<K: Ord + Hash, V: PartialEq, I: TableIndex<K, V>> PartialEq for Table<K, V, I> {
    fn eq(&self, other: &Self) -> bool {
        self.values.len() == other.values.len()
            && self.values.iter().all(|(key, stored)| {
                other.values.get(key).is_some_and(|theirs| theirs.value == stored.value)
            })
    }
}

impl<K: Ord + Hash + Clone, V: Clone, I: TableIndex<K, V>> Table<K, V, I> {
    /// The derived index of the entries.
    pub fn index(&self) -> &I {
        &self.index
    }

    /// The value at `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.values.get(key).map(|stored| &stored.value)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &K) -> bool {
        self.values.contains_key(key)
    }

    /// Sets `key` to `value`, recording the old value: [`Table::write_with`] with a change that
    /// always writes, so the key is hashed and looked up once (a new key was looked up twice,
    /// a miss then the insertion: ~0.4M instructions per 1,000-request round in the eligible
    /// order alone).
    #[inline]
    pub fn insert(&mut self, key: K, value: V) {
        let Ok(()) = self.write_with(key, |_| Ok::<_, std::convert::Infallible>(Some(value)));
    }

    /// Removes `key`, recording the old value; returns it.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let (key, stored) = self.take_out(key)?;
        if stored.generation != self.generation {
            self.undo.push((key, Some(stored.value.clone())));
        }
        Some(stored.value)
    }

    /// Removes `key`, recording the old value, without handing it back: the value moves into
    /// the undo log instead of being copied there and returned (for a large record nobody
    /// reads again: a claim forgets a finished redemption request of ~300 bytes, each copy a
    /// `memcpy`). Whether `key` had a value.
    #[inline]
    pub fn delete(&mut self, key: &K) -> bool {
        let Some((key, stored)) = self.take_out(key) else { return false };
        if stored.generation != self.generation {
            self.undo.push((key, Some(stored.value)));
        }
        true
    }

    /// Takes `key`'s entry out of the values, the key order and the index, unjournaled.
    /// Always inlined: returned through a call, the entry would be copied once more.
    #[inline(always)]
    fn take_out(&mut self, key: &K) -> Option<(K, Stored<V>)> {
        let (key, stored) = self.values.remove_entry(key)?;
        self.index.remove(&key, I::project(&key, &stored.value));
        if <I::Order as KeyOrder<K>>::KEEPS {
            self.order.remove(&key);
        }
        Some((key, stored))
    }

    /// Applies `change` to the value at `key` (recording the old value); `None` if absent.
    pub fn update<R>(&mut self, key: &K, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        let stored = self.values.get_mut(key)?;
        if stored.generation != self.generation {
            self.undo.push((key.clone(), Some(stored.value.clone())));
            stored.generation = self.generation;
        }
        let before = I::project(key, &stored.value);
        let result = change(&mut stored.value);
        Self::reindex(&mut self.index, key, before, I::project(key, &stored.value));
        Some(result)
    }

    /// Tells `index` that the entry at `key` now projects to `after`, not `before` (nothing
    /// when the projection did not change: most writes leave an owner as it was).
    fn reindex(index: &mut I, key: &K, before: I::Projection, after: I::Projection) {
        if before != after {
            index.replace(key, before, after);
        }
    }

    /// Sets (`Some`) or removes (`None`) the value at `key` with no journal, keeping the
    /// order and the index right.
    fn put(&mut self, key: K, value: Option<V>, generation: u64) {
        match value {
            Some(value) => {
                let after = I::project(&key, &value);
                match self.values.insert(key.clone(), Stored { value, generation }) {
                    Some(old) => {
                        Self::reindex(&mut self.index, &key, I::project(&key, &old.value), after);
                    }
                    None => {
                        if <I::Order as KeyOrder<K>>::KEEPS {
                            self.order.insert(key.clone());
                        }
                        self.index.add(&key, after);
                    }
                }
            }
            None => {
                if let Some(old) = self.values.remove(&key) {
                    self.index.remove(&key, I::project(&key, &old.value));
                    if <I::Order as KeyOrder<K>>::KEEPS {
                        self.order.remove(&key);
                    }
                }
            }
        }
    }

    /// Replaces the value at `key` with what `change` makes of it (`None`: absent, or remove
    /// it), recording the old value, in one lookup: the same table as reading with
    /// [`Table::get`] and writing with [`Table::insert`] or [`Table::remove`]. An error from
    /// `change` leaves the table as it was.
    #[inline]
    pub fn write_with<E>(
        &mut self,
        key: K,
        change: impl FnOnce(Option<&V>) -> Result<Option<V>, E>,
    ) -> Result<(), E> {
        let generation = self.generation;
        match self.values.entry(key) {
            HashEntry::Occupied(mut occupied) => match change(Some(&occupied.get().value))? {
                Some(value) => {
                    let before = I::project(occupied.key(), &occupied.get().value);
                    let after = I::project(occupied.key(), &value);
                    Self::reindex(&mut self.index, occupied.key(), before, after);
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
                    self.index.remove(&key, I::project(&key, &stored.value));
                    if <I::Order as KeyOrder<K>>::KEEPS {
                        self.order.remove(&key);
                    }
                    if stored.generation != generation {
                        self.undo.push((key, Some(stored.value)));
                    }
                }
            },
            HashEntry::Vacant(vacant) => {
                if let Some(value) = change(None)? {
                    let key = vacant.key().clone();
                    let projection = I::project(&key, &value);
                    vacant.insert(Stored { value, generation });
                    if <I::Order as KeyOrder<K>>::KEEPS {
                        self.order.insert(key.clone());
                    }
                    self.index.add(&key, projection);
                    self.undo.push((key, None));
                }
            }
        }
        Ok(())
    }

    /// The entries of a table that keeps no order (those whose keys fall in `range`), sorted by
    /// key. Each is read once, in the hash map's own order, and sorted with a copy of its key
    /// beside it: the sort then compares keys side by side in one array, not through pointers
    /// scattered over the map, and no value is looked up again. 1,000,000 entries with 20-byte
    /// keys (a scratch program with std's hasher, this machine at load ~4.5): ~150 ms, against
    /// ~310-350 ms sorting references and ~600-740 ms sorting the keys then looking up each
    /// value (as this did before); walking a `BTreeSet` of the keys and looking up each value,
    /// as an ordered table iterates, took ~220-360 ms.
    fn sorted_entries<R: RangeBounds<K>>(&self, range: R) -> Vec<(K, &K, &V)> {
        let mut entries: Vec<(K, &K, &V)> = self
            .values
            .iter()
            .filter(|(key, _)| range.contains(*key))
            .map(|(key, stored)| (key.clone(), key, &stored.value))
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        entries
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        let keys = match <I::Order as KeyOrder<K>>::KEEPS {
            true => Keys::Ordered(KeyOrder::iter(&self.order)),
            false => Keys::Sorted(self.sorted_entries(..).into_iter()),
        };
        Entries { keys, values: &self.values }
    }

    /// Entries whose keys fall in `range`, in key order.
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        let keys = match <I::Order as KeyOrder<K>>::KEEPS {
            true => Keys::Ordered(KeyOrder::range(&self.order, range)),
            false => Keys::Sorted(self.sorted_entries(range).into_iter()),
        };
        Entries { keys, values: &self.values }
    }

    /// Keys in key order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        match <I::Order as KeyOrder<K>>::KEEPS {
            true => Keys::Ordered(KeyOrder::iter(&self.order)),
            false => Keys::Sorted(self.sorted_entries(..).into_iter()),
        }
    }

    /// The first entry in key order.
    pub fn first(&self) -> Option<(&K, &V)> {
        let first = match <I::Order as KeyOrder<K>>::KEEPS {
            true => KeyOrder::first(&self.order),
            false => self.values.keys().min(),
        };
        first.map(|key| (key, value_of(&self.values, key)))
    }

    /// The first key in key order, without reading its value: a set's first key (the queue's
    /// next eligible request) is read from the key order alone, not looked up again in the
    /// hash map (a cache miss at a random bucket for each request a round serves).
    pub fn first_key(&self) -> Option<&K> {
        match <I::Order as KeyOrder<K>>::KEEPS {
            true => KeyOrder::first(&self.order),
            false => self.values.keys().min(),
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Starts recording the keys every committed write touches (for incremental commitments
    /// and persistence), from now on: keys touched before are forgotten. Off by default: tests
    /// and benchmarks do not pay for it.
    pub fn track_changes(&mut self) {
        self.touched.track();
    }

    /// Forgets a non-empty undo log, noting its keys as touched when tracking changes.
    fn commit_writes(&mut self) {
        self.touched.commit(&mut self.undo);
        self.generation += 1;
    }

    /// Sets (`Some`) or removes (`None`) `key` outside any transaction: no undo entry, not
    /// reported as touched. Only for bringing a copy of a state to the version of another one
    /// whose changed leaves it is given ([`crate::State::apply_leaves`]), so it must be called
    /// between transactions.
    pub(crate) fn overwrite(&mut self, key: K, value: Option<V>) {
        assert!(self.undo.is_empty(), "a table is overwritten only between transactions");
        // Generation 0 is never the current one: the next transaction journals it.
        self.put(key, value, 0);
    }

    /// The keys touched by committed writes since the last call, in key order.
    pub fn take_touched(&mut self) -> Vec<K> {
        self.touched.take()
    }
}

/// The value of a key the key order lists: the two always hold the same keys.
fn value_of<'a, K: Hash + Eq, V>(values: &'a Index<K, V>, key: &K) -> &'a V {
    &values.get(key).expect("a table's ordered keys and its values hold the same keys").value
}

/// A table's keys in order: from its key order, or its entries sorted for the occasion (a
/// table that keeps no order; see [`Table::sorted_entries`]).
enum Keys<'a, K, V, Ordered> {
    Ordered(Ordered),
    Sorted(std::vec::IntoIter<(K, &'a K, &'a V)>),
}

impl<'a, K: 'a, V: 'a, O: Iterator<Item = &'a K>> Iterator for Keys<'a, K, V, O> {
    type Item = &'a K;

    fn next(&mut self) -> Option<&'a K> {
        match self {
            Keys::Ordered(keys) => keys.next(),
            Keys::Sorted(entries) => entries.next().map(|(_, key, _)| key),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Keys::Ordered(keys) => keys.size_hint(),
            Keys::Sorted(entries) => entries.size_hint(),
        }
    }
}

impl<'a, K: 'a, V: 'a, O: DoubleEndedIterator<Item = &'a K>> DoubleEndedIterator
    for Keys<'a, K, V, O>
{
    fn next_back(&mut self) -> Option<&'a K> {
        match self {
            Keys::Ordered(keys) => keys.next_back(),
            Keys::Sorted(entries) => entries.next_back().map(|(_, key, _)| key),
        }
    }
}

impl<'a, K: 'a, V: 'a, O: ExactSizeIterator<Item = &'a K>> ExactSizeIterator for Keys<'a, K, V, O> {}

/// A table's entries in order: its keys in order with their values, looked up for a key
/// order's keys, already at hand for sorted entries.
struct Entries<'a, K, V, Ordered> {
    keys: Keys<'a, K, V, Ordered>,
    values: &'a Index<K, V>,
}

impl<'a, K: Hash + Eq + 'a, V: 'a, O: Iterator<Item = &'a K>> Iterator for Entries<'a, K, V, O> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        match &mut self.keys {
            Keys::Ordered(keys) => keys.next().map(|key| (key, value_of(self.values, key))),
            Keys::Sorted(entries) => entries.next().map(|(_, key, value)| (key, value)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.keys.size_hint()
    }
}

impl<'a, K: Hash + Eq + 'a, V: 'a, O: DoubleEndedIterator<Item = &'a K>> DoubleEndedIterator
    for Entries<'a, K, V, O>
{
    fn next_back(&mut self) -> Option<(&'a K, &'a V)> {
        match &mut self.keys {
            Keys::Ordered(keys) => keys.next_back().map(|key| (key, value_of(self.values, key))),
            Keys::Sorted(entries) => entries.next_back().map(|(_, key, value)| (key, value)),
        }
    }
}

impl<'a, K: Hash + Eq + 'a, V: 'a, O: ExactSizeIterator<Item = &'a K>> ExactSizeIterator
    for Entries<'a, K, V, O>
{
}

impl<K: Ord + Hash + Clone, V: Clone, I: TableIndex<K, V>> Journaled for Table<K, V, I> {
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
            self.put(key, old, generation);
        }
        self.generation += 1;
    }
}

impl<K: Serialize + Ord + Hash + Clone, V: Serialize + Clone, I: TableIndex<K, V>> Serialize
    for Table<K, V, I>
{
    /// Encodes as the map of entries in key order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, K, V, I> Deserialize<'de> for Table<K, V, I>
where
    K: Deserialize<'de> + Ord + Hash + Clone,
    V: Deserialize<'de>,
    I: TableIndex<K, V>,
{
    /// Decodes the map of entries and builds the index from them.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = BTreeMap::<K, V>::deserialize(deserializer)?;
        let mut order = I::Order::default();
        if <I::Order as KeyOrder<K>>::KEEPS {
            for key in entries.keys() {
                order.insert(key.clone());
            }
        }
        let index = I::rebuilt(entries.iter());
        Ok(Table {
            values: entries
                .into_iter()
                .map(|(key, value)| (key, Stored { value, generation: 0 }))
                .collect(),
            order,
            undo: Vec::new(),
            generation: 1,
            touched: TouchedKeys::default(),
            index,
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
    /// The table at `path` (a [`Table`], or another store with a table's leaves).
    fn table<K, V, T>(&mut self, path: &str, table: &T)
    where
        K: LeafKey,
        V: LeafValue,
        T: LeafTable<K, V>;
    /// The slot at `path`.
    fn slot<T: LeafValue>(&mut self, path: &str, slot: &Slot<T>);
}

/// What sees every table and slot of a component, writable.
pub trait LeafVisitorMut {
    /// The table at `path` (a [`Table`], or another store with a table's leaves).
    fn table<K, V, T>(&mut self, path: &str, table: &mut T)
    where
        K: LeafKey,
        V: LeafValue,
        T: LeafTable<K, V>;
    /// The slot at `path`.
    fn slot<T: LeafValue>(&mut self, path: &str, slot: &mut Slot<T>);
}

/// The leaf path of `field` inside the component at `parent` (`ledger` and `holdings` give
/// `ledger.holdings`; the state itself is at the empty path).
pub fn child_path(parent: &str, field: &str) -> String {
    if parent.is_empty() { field.to_string() } else { format!("{parent}.{field}") }
}

impl<K: LeafKey, V: LeafValue, I: TableIndex<K, V>> Component for Table<K, V, I> {
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
    fn delete_forgets_an_entry_as_remove_does_and_rollback_restores_it() {
        let mut table = committed_table();
        let before = table.clone();
        assert!(table.delete(&2));
        assert!(!table.delete(&2), "already gone");
        assert!(!table.delete(&7), "never there");
        table.insert(3, 30);
        assert!(table.delete(&3), "inserted in this transaction: nothing to restore");
        let mut by_remove = before.clone();
        by_remove.remove(&2);
        assert!(table == by_remove);
        assert_eq!(table.keys().copied().collect::<Vec<_>>(), vec![1]);
        table.rollback();
        assert!(table == before);
        assert_eq!(table.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
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

    /// A record held by an account, for the owner index.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Held(crate::ids::Address);

    impl Owned for Held {
        fn owner(&self) -> crate::ids::Address {
            self.0
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)] // Tests fail loudly by design.
    fn an_owner_index_follows_every_write_rollback_overwrite_and_decoding() {
        type HeldTable = Table<u32, Held, ByOwner<u32>>;
        let (a, b) = (crate::ids::Address::repeat_byte(1), crate::ids::Address::repeat_byte(2));
        let keys = |table: &HeldTable, owner| -> Vec<u32> {
            assert!(table.index().equals_scan(table.iter()), "the index equals a scan");
            table.index().keys_of(owner).copied().collect()
        };
        let mut table = HeldTable::default();
        table.insert(3, Held(a));
        table.insert(1, Held(a));
        table.insert(2, Held(b));
        table.commit();
        assert_eq!((keys(&table, a), keys(&table, b)), (vec![1, 3], vec![2]));
        table.update(&1, |held| held.0 = b);
        table.write_with(3, |_| Ok::<_, ()>(None)).unwrap();
        table.write_with(4, |_| Ok::<_, ()>(Some(Held(a)))).unwrap();
        table.write_with(2, |_| Ok::<_, ()>(Some(Held(a)))).unwrap();
        table.remove(&4);
        table.insert(0, Held(b));
        assert_eq!((keys(&table, a), keys(&table, b)), (vec![2], vec![0, 1]));
        assert_eq!(table.index().keys_of_from(b, &1).copied().collect::<Vec<_>>(), vec![1]);
        table.rollback();
        assert_eq!((keys(&table, a), keys(&table, b)), (vec![1, 3], vec![2]));
        table.overwrite(5, Some(Held(b)));
        table.overwrite(1, None);
        table.overwrite(3, Some(Held(b)));
        assert_eq!((keys(&table, a), keys(&table, b)), (vec![], vec![2, 3, 5]));
        assert_eq!(table.index().count_of(a), 0);
        let bytes = postcard::to_stdvec(&table).unwrap();
        let decoded: HeldTable = postcard::from_bytes(&bytes).unwrap();
        assert_eq!((keys(&decoded, a), keys(&decoded, b)), (vec![], vec![2, 3, 5]));
        assert!(decoded.clone() == table);
    }

    proptest::proptest! {
        #[test]
        fn a_table_without_a_key_order_reads_and_rolls_back_as_an_ordered_one(
            operations in proptest::collection::vec((0u8..5, 0u32..40, 0u32..4), 0..120),
        ) {
            let mut ordered: Table<u32, u32> = Table::default();
            let mut unordered: Table<u32, u32, Unordered> = Table::default();
            for (operation, key, value) in operations {
                match operation {
                    0 => {
                        ordered.insert(key, value);
                        unordered.insert(key, value);
                    }
                    1 => {
                        proptest::prop_assert_eq!(ordered.remove(&key), unordered.remove(&key));
                    }
                    2 => {
                        // A zero value removes, as a Fenwick node does.
                        let change = |old: Option<&u32>| {
                            let new = old.copied().unwrap_or(0).wrapping_add(value) % 4;
                            Ok::<_, ()>((new != 0).then_some(new))
                        };
                        ordered.write_with(key, change).expect("changes");
                        unordered.write_with(key, change).expect("changes");
                    }
                    3 => {
                        ordered.rollback();
                        unordered.rollback();
                    }
                    _ => {
                        ordered.commit();
                        unordered.commit();
                    }
                }
                let entries = |table: Vec<(&u32, &u32)>| -> Vec<(u32, u32)> {
                    table.into_iter().map(|(k, v)| (*k, *v)).collect()
                };
                proptest::prop_assert_eq!(
                    entries(ordered.iter().collect()),
                    entries(unordered.iter().collect())
                );
                proptest::prop_assert_eq!(
                    entries(ordered.iter().rev().collect()),
                    entries(unordered.iter().rev().collect())
                );
                proptest::prop_assert_eq!(
                    entries(ordered.range(10..30).collect()),
                    entries(unordered.range(10..30).collect())
                );
                proptest::prop_assert_eq!(ordered.first(), unordered.first());
                proptest::prop_assert_eq!(ordered.len(), unordered.len());
                proptest::prop_assert_eq!(
                    serde_json::to_string(&ordered).expect("encodes"),
                    serde_json::to_string(&unordered).expect("encodes")
                );
            }
            let encoded = serde_json::to_string(&unordered).expect("encodes");
            let decoded: Table<u32, u32, Unordered> =
                serde_json::from_str(&encoded).expect("decodes");
            proptest::prop_assert!(decoded == unordered);
        }

        /// Owners move between one key (kept inline) and several (a list) in every order of
        /// writes; the index must equal a scan, in the form it keeps, after each.
        #[test]
        fn an_owner_index_equals_a_scan_after_any_writes_rollbacks_and_commits(
            operations in proptest::collection::vec((0u8..7, 0u32..12, 0u8..3), 0..160),
        ) {
            let owner = |byte: u8| crate::ids::Address::repeat_byte(byte + 1);
            let mut table: Table<u32, Held, ByOwner<u32>> = Table::default();
            for (operation, key, byte) in operations {
                match operation {
                    0 | 1 => table.insert(key, Held(owner(byte))),
                    2 => {
                        table.remove(&key);
                    }
                    3 => {
                        table.delete(&key);
                    }
                    4 => {
                        table.update(&key, |held| held.0 = owner(byte));
                    }
                    5 => table.rollback(),
                    _ => table.commit(),
                }
                proptest::prop_assert!(table.index().equals_scan(table.iter()));
                for byte in 0..3 {
                    let scanned: Vec<u32> = table
                        .iter()
                        .filter(|(_, held)| held.0 == owner(byte))
                        .map(|(key, _)| *key)
                        .collect();
                    let indexed: Vec<u32> = table.index().keys_of(owner(byte)).copied().collect();
                    proptest::prop_assert_eq!(table.index().count_of(owner(byte)), scanned.len());
                    proptest::prop_assert_eq!(indexed, scanned);
                }
            }
        }
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
