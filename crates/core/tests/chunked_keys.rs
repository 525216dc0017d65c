//! The chunked key order (`infrafi_core::chunked_keys`) against a `BTreeSet` driven by the
//! same operations: the queue's eligible order is consensus state (its iteration order decides
//! who is served first), so the chunked order must hold the same keys in the same order after
//! any sequence of insertions and removals, and read the same ranges.

use infrafi_core::{
    RequestId,
    chunked_keys::{CHUNK_KEYS_MAX, ChunkedKeys},
    table::{Chunked, Journaled, Table},
};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::ops::Bound;

/// One operation on both sets.
#[derive(Clone, Debug)]
enum Operation {
    /// Insert a key above every key so far (a request activated without a bid).
    Append,
    /// Insert a key anywhere (a bid, a rollback of a removal).
    Insert(u64),
    /// Remove the first key (a round serving the front of the order).
    RemoveFirst,
    /// Remove a key anywhere (a cancellation, a bid change), present or not.
    Remove(u64),
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        4 => Just(Operation::Append),
        2 => (0u64..2_000).prop_map(Operation::Insert),
        3 => Just(Operation::RemoveFirst),
        2 => (0u64..2_000).prop_map(Operation::Remove),
    ]
}

fn bound(kind: u8, key: u64) -> Bound<u64> {
    match kind % 3 {
        0 => Bound::Included(key),
        1 => Bound::Excluded(key),
        _ => Bound::Unbounded,
    }
}

/// Asserts the two sets hold the same keys in the same order, read every way the table reads.
fn assert_same(chunked: &ChunkedKeys<u64>, plain: &BTreeSet<u64>, probes: &[(u8, u64, u8, u64)]) {
    assert_eq!(chunked.len(), plain.len());
    assert_eq!(chunked.first(), plain.first());
    assert_eq!(chunked.last(), plain.last());
    assert!(chunked.iter().eq(plain.iter()));
    assert!(chunked.iter().rev().eq(plain.iter().rev()));
    assert_eq!(chunked.iter().len(), plain.len());
    for &(start_kind, start, end_kind, end) in probes {
        let range = (bound(start_kind, start), bound(end_kind, end));
        // A `BTreeSet` panics on a range that ends before it starts; the chunked order reads
        // nothing there.
        let valid = match range {
            (Bound::Included(s), Bound::Included(e)) => s <= e,
            (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
            | (Bound::Excluded(s), Bound::Included(e)) => s < e,
            _ => true,
        };
        if valid {
            assert!(chunked.range(range).eq(plain.range(range)), "range {range:?}");
            assert!(chunked.range(range).rev().eq(plain.range(range).rev()), "range {range:?}");
        } else {
            assert_eq!(chunked.range(range).next(), None, "range {range:?}");
        }
        assert_eq!(chunked.contains(&start), plain.contains(&start));
    }
}

proptest! {
    #[test]
    fn chunked_keys_hold_what_a_btree_set_holds_in_the_same_order(
        operations in proptest::collection::vec(operation(), 0..1_500),
        probes in proptest::collection::vec((0u8..3, 0u64..2_100, 0u8..3, 0u64..2_100), 1..8),
    ) {
        let mut chunked = ChunkedKeys::default();
        let mut plain = BTreeSet::new();
        let mut next = 0u64;
        for (step, operation) in operations.into_iter().enumerate() {
            match operation {
                Operation::Append => {
                    next = next.max(plain.last().map_or(0, |last| last + 1));
                    prop_assert_eq!(chunked.insert(next), plain.insert(next));
                    next += 1;
                }
                Operation::Insert(key) => {
                    prop_assert_eq!(chunked.insert(key), plain.insert(key));
                }
                Operation::RemoveFirst => {
                    let first = plain.first().copied();
                    if let Some(first) = first {
                        prop_assert_eq!(chunked.remove(&first), plain.remove(&first));
                    }
                }
                Operation::Remove(key) => {
                    prop_assert_eq!(chunked.remove(&key), plain.remove(&key));
                }
            }
            if step % 97 == 0 {
                assert_same(&chunked, &plain, &probes);
            }
        }
        assert_same(&chunked, &plain, &probes);
    }

    /// The eligible order's shape: keys `(inverted bid, id)`, most without a bid (the largest
    /// inverted bid) appended in id order, a few with bids anywhere, served from the front,
    /// with writes rolled back as a rejected transaction's are.
    #[test]
    fn a_chunked_table_iterates_and_rolls_back_as_an_ordered_one(
        operations in proptest::collection::vec((0u8..6, 0u128..4, 0u64..50), 0..800),
    ) {
        type Key = (u128, RequestId);
        let mut chunked: Table<Key, (), Chunked> = Table::default();
        let mut ordered: Table<Key, ()> = Table::default();
        let mut next_id = 0u64;
        for (kind, bid, back) in operations {
            match kind {
                0 | 1 => {
                    let key = (u128::MAX - bid * u128::from(kind), RequestId(next_id));
                    next_id += 1;
                    chunked.insert(key, ());
                    ordered.insert(key, ());
                }
                2 => {
                    let first = ordered.first().map(|(key, ())| *key);
                    if let Some(first) = first {
                        prop_assert_eq!(chunked.remove(&first), ordered.remove(&first));
                    }
                }
                3 => {
                    // A key some way back (present or not).
                    let key = (u128::MAX - bid, RequestId(next_id.saturating_sub(back)));
                    prop_assert_eq!(chunked.remove(&key), ordered.remove(&key));
                }
                4 => {
                    chunked.rollback();
                    ordered.rollback();
                }
                _ => {
                    chunked.commit();
                    ordered.commit();
                }
            }
            prop_assert!(chunked.keys().eq(ordered.keys()));
            prop_assert_eq!(chunked.first(), ordered.first());
            prop_assert_eq!(chunked.len(), ordered.len());
        }
        let bid_keys = ..(u128::MAX, RequestId(0));
        prop_assert!(chunked.range(bid_keys).eq(ordered.range(bid_keys)));
        let encoded = postcard::to_stdvec(&chunked).expect("encodes");
        prop_assert_eq!(&encoded, &postcard::to_stdvec(&ordered).expect("encodes"));
        let decoded: Table<Key, (), Chunked> = postcard::from_bytes(&encoded).expect("decodes");
        prop_assert!(decoded.keys().eq(ordered.keys()));
    }
}

#[test]
fn a_chunk_splits_and_its_halves_keep_the_order() {
    let mut chunked = ChunkedKeys::default();
    // Every other key, then the ones between: the middle insertions overfill chunks.
    let keys = (0..4 * CHUNK_KEYS_MAX as u64).map(|key| key * 2);
    for key in keys.clone() {
        assert!(chunked.insert(key));
    }
    for key in keys.clone() {
        assert!(chunked.insert(key + 1));
    }
    assert!(!chunked.insert(7), "a key already present is not added twice");
    assert!(chunked.iter().copied().eq(0..8 * CHUNK_KEYS_MAX as u64));
    // A key below every floor comes in at the front.
    for key in (0..8 * CHUNK_KEYS_MAX as u64).step_by(3) {
        assert!(chunked.remove(&key));
    }
    assert!(!chunked.remove(&0));
    assert!(chunked.insert(0));
    assert_eq!(chunked.first(), Some(&0));
    let expected: Vec<u64> =
        (0..8 * CHUNK_KEYS_MAX as u64).filter(|key| *key == 0 || key % 3 != 0).collect();
    assert!(chunked.iter().eq(expected.iter()));
}
