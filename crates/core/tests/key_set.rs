//! The queue's orders as key sets (`infrafi_core::key_set::KeySet`) against a `Table` of `()`
//! values driven by the same writes: the eligible order is consensus state (it decides who is
//! served first, and its keys are leaves), so the set must hold the same keys in the same
//! order, read the same ranges, encode the same bytes, roll back to the same keys and report
//! the same touched keys after any sequence of insertions, removals, commits, rollbacks and
//! overwrites.

use infrafi_core::{
    RequestId,
    key_set::KeySet,
    leaves::LeafTable,
    table::{Journaled, Table},
};
use proptest::prelude::*;
use std::ops::Bound;

type Key = (u128, RequestId);

/// One write, or the end of a transaction, on both.
#[derive(Clone, Debug)]
enum Operation {
    /// Insert the next id without a bid (the largest key: a request activated without one).
    Append,
    /// Insert a key anywhere, present or not (a bid, a key put back).
    Insert(u128, u64),
    /// Remove the first key (a round serving the front of the order).
    RemoveFirst,
    /// Remove a key anywhere, present or not (a cancellation, a bid change).
    Remove(u128, u64),
    Commit,
    Rollback,
    /// Commit, then set or clear a key outside any transaction (a copy of the state brought to
    /// another's version).
    Overwrite(u128, u64, bool),
    /// Commit, then take the touched keys of both and compare them.
    TakeTouched,
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        5 => Just(Operation::Append),
        3 => (0u128..4, 0u64..60).prop_map(|(bid, id)| Operation::Insert(bid, id)),
        4 => Just(Operation::RemoveFirst),
        2 => (0u128..4, 0u64..60).prop_map(|(bid, id)| Operation::Remove(bid, id)),
        2 => Just(Operation::Commit),
        2 => Just(Operation::Rollback),
        1 => (0u128..4, 0u64..60, any::<bool>())
            .prop_map(|(bid, id, present)| Operation::Overwrite(bid, id, present)),
        1 => Just(Operation::TakeTouched),
    ]
}

/// The key of a request `id` with `bid` (0: none, the largest key).
fn key(bid: u128, id: u64) -> Key {
    (u128::MAX - bid, RequestId(id))
}

fn bound(kind: u8, key: Key) -> Bound<Key> {
    match kind % 3 {
        0 => Bound::Included(key),
        1 => Bound::Excluded(key),
        _ => Bound::Unbounded,
    }
}

/// Asserts the two hold the same keys, read every way the queue and the leaves read them.
fn assert_same(set: &KeySet<Key>, table: &Table<Key, ()>, probes: &[(u8, u128, u64, u8, u64)]) {
    assert_eq!(set.len(), table.len());
    assert_eq!(set.is_empty(), table.is_empty());
    assert_eq!(set.first(), table.first());
    assert_eq!(set.first_key(), table.first_key());
    assert!(set.keys().eq(table.keys()));
    assert!(set.keys().rev().eq(table.keys().rev()));
    assert!(set.iter().eq(table.iter()));
    assert_eq!(set.iter().len(), table.iter().len());
    let mut visited = Vec::new();
    LeafTable::for_each_entry(set, |key, ()| visited.push(*key));
    assert!(visited.iter().eq(table.keys()));
    for &(start_kind, bid, id, end_kind, end_id) in probes {
        let (start, end) = (key(bid, id), key(0, end_id));
        assert_eq!(set.contains_key(&start), table.contains_key(&start));
        assert_eq!(LeafTable::get(set, &start), table.get(&start));
        // A range that ends before it starts reads nothing in either (a `BTreeSet` would panic).
        if start <= end {
            let range = (bound(start_kind, start), bound(end_kind, end));
            let valid =
                !(start == end && matches!(range, (Bound::Excluded(_), Bound::Excluded(_))));
            if valid {
                assert!(set.range(range).eq(table.range(range)), "range {range:?}");
                assert!(set.range(range).rev().eq(table.range(range).rev()), "range {range:?}");
            }
        }
    }
    let encoded = postcard::to_stdvec(set).expect("encodes");
    assert_eq!(encoded, postcard::to_stdvec(table).expect("encodes"));
    let decoded: KeySet<Key> = postcard::from_bytes(&encoded).expect("decodes");
    assert!(decoded == *set);
    assert!(decoded.keys().eq(table.keys()));
}

proptest! {
    #[test]
    fn a_key_set_reads_encodes_rolls_back_and_touches_keys_as_a_table_of_units_does(
        operations in proptest::collection::vec(operation(), 0..600),
        probes in proptest::collection::vec((0u8..3, 0u128..4, 0u64..70, 0u8..3, 0u64..70), 1..6),
    ) {
        let mut set: KeySet<Key> = KeySet::default();
        let mut table: Table<Key, ()> = Table::default();
        set.track_changes();
        table.track_changes();
        let mut next_id = 60u64;
        for (step, operation) in operations.into_iter().enumerate() {
            match operation {
                Operation::Append => {
                    set.insert(key(0, next_id), ());
                    table.insert(key(0, next_id), ());
                    next_id += 1;
                }
                Operation::Insert(bid, id) => {
                    set.insert(key(bid, id), ());
                    table.insert(key(bid, id), ());
                }
                Operation::RemoveFirst => {
                    if let Some(first) = table.first_key().copied() {
                        prop_assert_eq!(set.remove(&first), table.remove(&first));
                    }
                }
                Operation::Remove(bid, id) => {
                    prop_assert_eq!(set.remove(&key(bid, id)), table.remove(&key(bid, id)));
                }
                Operation::Commit => {
                    set.commit();
                    table.commit();
                }
                Operation::Rollback => {
                    set.rollback();
                    table.rollback();
                }
                Operation::Overwrite(bid, id, present) => {
                    set.commit();
                    table.commit();
                    let value = present.then_some(());
                    LeafTable::overwrite(&mut set, key(bid, id), value);
                    LeafTable::overwrite(&mut table, key(bid, id), value);
                }
                Operation::TakeTouched => {
                    set.commit();
                    table.commit();
                    prop_assert_eq!(set.take_touched(), table.take_touched());
                }
            }
            prop_assert!(set.keys().eq(table.keys()));
            if step % 37 == 0 {
                assert_same(&set, &table, &probes);
            }
        }
        assert_same(&set, &table, &probes);
        set.rollback();
        table.rollback();
        assert_same(&set, &table, &probes);
        set.commit();
        table.commit();
        prop_assert_eq!(set.take_touched(), table.take_touched());
    }
}

#[test]
fn a_rolled_back_transaction_leaves_the_keys_and_touches_nothing() {
    let mut set: KeySet<Key> = KeySet::default();
    for id in 0..5 {
        set.insert(key(0, id), ());
    }
    set.commit();
    set.track_changes();
    let before = set.clone();
    assert_eq!(set.remove(&key(0, 0)), Some(()));
    assert_eq!(set.remove(&key(0, 0)), None, "already gone");
    set.insert(key(2, 3), ());
    set.insert(key(0, 0), ());
    assert_eq!(set.remove(&key(0, 1)), Some(()));
    set.insert(key(0, 4), ());
    set.rollback();
    assert!(set == before);
    assert!(set.keys().eq(before.keys()));
    set.commit();
    assert_eq!(set.take_touched(), Vec::<Key>::new());
}
