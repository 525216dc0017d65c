//! A Fenwick (binary indexed) tree over request ids, stored sparsely in a journaled table.
//!
//! The queue keeps three: the shares (and count) of eligible unserved requests, the same for
//! waiting requests, and the wait-fee index (per-share fees added at the newest request that
//! jumped the queue in each round). Each gives prefix sums over request ids in O(log n) table
//! operations, so a round prices and pays its waiters without scanning the queue.
//!
//! Layout: node `i` (1-based) holds the sum of the values at indices `(i - lowbit(i), i]`.
//! Only non-zero nodes are entries (leaves), so equal trees have equal encodings and a drained
//! queue leaves no nodes behind. In memory they are kept in [`Nodes`]: dense windows per level
//! where the queue's consecutive ids fill them, a map elsewhere, with a table's encoding,
//! leaves and journal. The tree covers indices `1..=capacity`, a power of two that doubles
//! when a larger index arrives; doubling costs one write, because the new top node covers
//! everything and every other new node covers only empty indices.
//!
//! Guarantees: every node is the sum of the values in its range (checked against a rebuild by
//! `invariants::check`); all values are non-negative, so every node is at most the total.

use crate::{
    math::Overflow,
    table::{Journaled, Slot, component},
};
use serde::{Deserialize, Serialize};

mod nodes;
pub use nodes::Nodes;

/// Two sums kept side by side in one node (shares and count; fee per share and fee x time).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sums(pub u128, pub u128);

impl Sums {
    /// Nothing.
    pub const ZERO: Sums = Sums(0, 0);

    /// Whether both sums are zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0 && self.1 == 0
    }

    /// Both sums added, or [`Overflow`].
    pub fn checked_add(self, other: Sums) -> Result<Sums, Overflow> {
        Ok(Sums(
            self.0.checked_add(other.0).ok_or(Overflow)?,
            self.1.checked_add(other.1).ok_or(Overflow)?,
        ))
    }

    /// Both sums subtracted, or [`Overflow`] when either would go negative.
    pub fn checked_sub(self, other: Sums) -> Result<Sums, Overflow> {
        Ok(Sums(
            self.0.checked_sub(other.0).ok_or(Overflow)?,
            self.1.checked_sub(other.1).ok_or(Overflow)?,
        ))
    }
}

/// Batches of fewer changes than this are written one change at a time: their paths share
/// few nodes, so gathering them would cost more than it saves.
const BATCH_MIN: usize = 8;

/// The largest capacity (2^62 indices): request ids are u64 and never reach it.
pub const CAPACITY_MAX: u64 = 1 << 62;

fn lowbit(index: u64) -> u64 {
    index & index.wrapping_neg()
}

component! {
    /// A sparse, journaled Fenwick tree of [`Sums`] over indices `1..=capacity`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct Fenwick {
        /// Non-zero nodes by 1-based index: read and written by index only, a few dozen per
        /// request a round serves, and listed only to encode or check.
        pub nodes: Nodes,
        /// The number of indices covered: 0 (empty) or a power of two.
        pub capacity: Slot<u64>,
    }
}

impl Fenwick {
    /// The number of indices covered.
    pub fn capacity(&self) -> u64 {
        *self.capacity.get()
    }

    #[inline]
    fn node(&self, index: u64) -> Sums {
        self.nodes.get(index)
    }

    fn set_node(&mut self, index: u64, value: Sums) {
        let Some(()) = self.nodes.write(index, |_| Some(value)) else {
            unreachable!("a write that always gives a value cannot fail")
        };
    }

    /// Sets node `index` to `combine(its value, delta)` in one lookup (a zero node is not an
    /// entry); `None` from `combine` leaves the node as it was and is returned.
    #[inline]
    fn change_node(
        &mut self,
        index: u64,
        delta: Sums,
        combine: impl FnOnce(Sums, Sums) -> Option<Sums>,
    ) -> Option<()> {
        self.nodes.write(index, |old| combine(old, delta))
    }

    /// Makes the tree cover `index`, doubling its capacity as often as needed.
    pub fn grow_to(&mut self, index: u64) {
        assert!(index <= CAPACITY_MAX, "fenwick index {index} beyond the maximum capacity");
        let mut capacity = self.capacity();
        if capacity >= index {
            return;
        }
        if capacity == 0 {
            capacity = 1;
        }
        while capacity < index {
            // The new top node covers (0, 2c]: everything so far. Every other new node covers
            // a range inside (c, 2c], where nothing has been added yet.
            let total = self.node(capacity);
            capacity *= 2;
            self.set_node(capacity, total);
        }
        *self.capacity.get_mut() = capacity;
    }

    /// Adds `delta` at `index` (1-based, at most the capacity).
    pub fn add(&mut self, index: u64, delta: Sums) -> Result<(), Overflow> {
        let capacity = self.capacity();
        assert!(index >= 1 && index <= capacity, "fenwick index {index} out of 1..={capacity}");
        if delta.is_zero() {
            return Ok(());
        }
        // Every node is at most the total (values are non-negative), and the top node is the
        // total: if it does not overflow, no node does, so checking it first keeps a failed
        // add from leaving the tree half-updated.
        self.node(capacity).checked_add(delta)?;
        self.nodes.add_along_path(index, capacity, delta).map_err(|_| Overflow)
    }

    /// Subtracts `delta` at `index`. Panics if the tree holds less there: callers subtract only
    /// what they added, so that would be a bookkeeping bug.
    pub fn sub(&mut self, index: u64, delta: Sums) {
        let capacity = self.capacity();
        assert!(index >= 1 && index <= capacity, "fenwick index {index} out of 1..={capacity}");
        if delta.is_zero() {
            // Nothing changes, but every non-zero node on the path is journaled (and reported
            // as touched), as a write of its own value is.
            let mut node = index;
            while node <= capacity {
                let Some(()) = self.change_node(node, delta, |value, _| Some(value)) else {
                    unreachable!("a write that always gives a value cannot fail")
                };
                node += lowbit(node);
            }
            return;
        }
        if let Err(node) = self.nodes.sub_along_path(index, capacity, delta) {
            panic!("fenwick node {node} would go negative");
        }
    }

    /// Adds every `(index, delta)` of `changes` (each index 1-based, at most the capacity),
    /// writing each node they change once: the tree ends exactly as after [`Fenwick::add`] one
    /// change at a time, but k changes cost one write per distinct node on their paths (about
    /// k for a run of neighbouring indices, such as the requests a round activates) instead of
    /// one per node per change. Fails with [`Overflow`], changing nothing, when the total would
    /// overflow (as one of the single additions would have). Sorts `changes` by index.
    pub fn add_all(&mut self, changes: &mut [(u64, Sums)]) -> Result<(), Overflow> {
        let mut sum = Sums::ZERO;
        for &(_, delta) in changes.iter() {
            sum = sum.checked_add(delta)?;
        }
        // As in `add`: the top node is the total and every node is at most the total, so
        // once the new total fits no node can overflow.
        self.total().checked_add(sum)?;
        if changes.len() < BATCH_MIN {
            for &(index, delta) in changes.iter() {
                self.add(index, delta)?;
            }
            return Ok(());
        }
        self.write_paths(changes, |value, delta| value.checked_add(delta).ok());
        Ok(())
    }

    /// Subtracts every `(index, delta)` of `changes`, writing each node they change once (see
    /// [`Fenwick::add_all`]); panics as [`Fenwick::sub`] does if a node would go negative. Sorts
    /// `changes` by index.
    pub fn sub_all(&mut self, changes: &mut [(u64, Sums)]) {
        if changes.len() < BATCH_MIN {
            for &(index, delta) in changes.iter() {
                self.sub(index, delta);
            }
            return;
        }
        self.write_paths(changes, |value, delta| value.checked_sub(delta).ok());
    }

    /// Writes the changes' paths in increasing node order, each node once with the sum of the
    /// deltas below it. A node is final once every change at or below it has been seen, so
    /// with the changes in increasing index order the nodes still waiting for their write are
    /// those covering the last index seen ([`Pending`]).
    fn write_paths(
        &mut self,
        changes: &mut [(u64, Sums)],
        combine: impl Fn(Sums, Sums) -> Option<Sums>,
    ) {
        let capacity = self.capacity();
        if !changes.is_sorted_by_key(|&(index, _)| index) {
            sort_by_index(changes);
        }
        let mut pending = Pending::default();
        for &(index, delta) in changes.iter() {
            assert!(index >= 1 && index <= capacity, "fenwick index {index} out of 1..={capacity}");
            if delta.is_zero() {
                continue;
            }
            self.flush_below(&mut pending, index, &combine);
            pending.gather(index, delta);
        }
        self.flush_below(&mut pending, u64::MAX, &combine);
    }

    /// Writes the pending nodes below `bound`, smallest first, each passing its delta on to its
    /// parent (which is pending from then on, if the tree has it).
    fn flush_below(
        &mut self,
        pending: &mut Pending,
        bound: u64,
        combine: &impl Fn(Sums, Sums) -> Option<Sums>,
    ) {
        let capacity = self.capacity();
        while let Some((node, delta)) = pending.take_smallest_below(bound) {
            let Some(()) = self.change_node(node, delta, combine) else {
                panic!("fenwick node {node} would go negative or overflow");
            };
            let parent = node + lowbit(node);
            if parent <= capacity {
                pending.gather(parent, delta);
            }
        }
    }

    /// The sum of the values at indices `1..=index` (an index beyond the capacity means all).
    pub fn prefix(&self, index: u64) -> Sums {
        let mut node = index.min(self.capacity());
        let mut sum = Sums::ZERO;
        while node > 0 {
            let value = self.node(node);
            // A prefix is at most the total, which fits: these additions cannot overflow.
            sum = Sums(sum.0.saturating_add(value.0), sum.1.saturating_add(value.1));
            node -= lowbit(node);
        }
        sum
    }

    /// The sum of every value: one read of the top node.
    pub fn total(&self) -> Sums {
        match self.capacity() {
            0 => Sums::ZERO,
            capacity => self.node(capacity),
        }
    }

    /// The smallest index whose value has a non-zero first sum, if any: a descent from the top,
    /// O(log capacity).
    pub fn first_nonzero(&self) -> Option<u64> {
        if self.total().0 == 0 {
            return None;
        }
        let capacity = self.capacity();
        let mut position = 0u64;
        let mut step = capacity;
        while step > 0 {
            let next = position + step;
            if next <= capacity && self.node(next).0 == 0 {
                position = next;
            }
            step /= 2;
        }
        Some(position + 1)
    }

    /// The largest index whose value is not zero, if any: a descent from the top,
    /// O(log capacity). Every prefix from it on is the total.
    pub fn last_nonzero(&self) -> Option<u64> {
        let total = self.total();
        if total.is_zero() {
            return None;
        }
        let capacity = self.capacity();
        // The largest position whose prefix is not yet the total, found from the top; values
        // are non-negative, so prefixes only grow towards it.
        let mut position = 0u64;
        let mut sum = Sums::ZERO;
        let mut step = capacity;
        while step > 0 {
            let next = position + step;
            if next <= capacity {
                let value = self.node(next);
                // A prefix is at most the total, which fits.
                let candidate = Sums(sum.0.saturating_add(value.0), sum.1.saturating_add(value.1));
                if candidate != total {
                    position = next;
                    sum = candidate;
                }
            }
            step /= 2;
        }
        Some(position + 1)
    }

    /// The tree the values `(index, value)` build, for checking a stored tree against.
    pub fn rebuilt(
        capacity: u64,
        values: impl IntoIterator<Item = (u64, Sums)>,
    ) -> Result<Fenwick, Overflow> {
        let mut tree = Fenwick::default();
        if capacity > 0 {
            tree.grow_to(capacity);
        }
        for (index, value) in values {
            tree.add(index, value)?;
        }
        tree.commit();
        Ok(tree)
    }
}

/// Below this many changes a batch is sorted by comparisons; from it on by radix, whose
/// passes cost a fixed count table each on top of two steps per change.
const RADIX_SORT_MIN: usize = 64;

/// The widest digit of the radix sort: a count table of 2^11 entries (16 KiB) per pass.
const RADIX_DIGIT_BITS_MAX: u32 = 11;

/// Sorts `changes` by index (equal indices in any order: their deltas are summed). Sorts
/// `(index, position)` keys rather than the 48-byte changes themselves, then gathers the
/// changes in the keys' order. A round's served requests come in bid order, scattered over
/// the queue: from [`RADIX_SORT_MIN`] of them on, a least-significant-digit radix sort over
/// the bits the indices use (two passes for a queue of up to 4 million ids)
/// costs a few steps per change where a comparison sort costs a dozen comparisons.
fn sort_by_index(changes: &mut [(u64, Sums)]) {
    let mut keys: Vec<(u64, usize)> =
        changes.iter().enumerate().map(|(at, &(index, _))| (index, at)).collect();
    if keys.len() < RADIX_SORT_MIN {
        keys.sort_unstable();
    } else {
        radix_sort_by_index(&mut keys);
    }
    let sorted: Vec<(u64, Sums)> = keys.iter().map(|&(_, at)| changes[at]).collect();
    changes.copy_from_slice(&sorted);
}

/// Sorts `keys` by their index: stable counting passes over the bits the indices use, as few
/// as digits of up to [`RADIX_DIGIT_BITS_MAX`] bits allow (two for a queue of up to 4 million
/// ids), each digit as wide as that count needs.
fn radix_sort_by_index(keys: &mut Vec<(u64, usize)>) {
    let used = keys.iter().fold(0u64, |bits, &(index, _)| bits | index);
    let bits = u64::BITS - used.leading_zeros();
    let passes = bits.div_ceil(RADIX_DIGIT_BITS_MAX).max(1);
    let digit_bits = bits.div_ceil(passes);
    let mask = (1u64 << digit_bits) - 1;
    let mut scratch = vec![(0u64, 0usize); keys.len()];
    let mut starts = vec![0usize; 1 << digit_bits];
    for pass in 0..passes {
        let shift = pass * digit_bits;
        let digit = |index: u64| ((index >> shift) & mask) as usize;
        starts.fill(0);
        for &(index, _) in keys.iter() {
            starts[digit(index)] += 1;
        }
        let mut start = 0;
        for slot in starts.iter_mut() {
            let count = *slot;
            *slot = start;
            start += count;
        }
        for &key in keys.iter() {
            let slot = &mut starts[digit(key.0)];
            scratch[*slot] = key;
            *slot += 1;
        }
        std::mem::swap(keys, &mut scratch);
    }
}

/// The nodes of a batch still waiting for their write, with the deltas gathered for each.
/// They are the nodes covering the last index seen (a node waits until every change at or
/// below it has been seen), so they lie on that index's update path: at most one per level
/// (a node's level is its lowest set bit), and a higher level means a larger node. Each is
/// kept in its level's slot, so finding a node, adding to it and taking the smallest cost a
/// bit operation each, not a search.
struct Pending {
    /// Bit `l` set: `slots[l]` holds the waiting node of level `l`.
    levels: u64,
    slots: [(u64, Sums); 64],
}

impl Default for Pending {
    fn default() -> Self {
        Pending { levels: 0, slots: [(0, Sums::ZERO); 64] }
    }
}

impl Pending {
    /// Adds `delta` to `node`, or makes it wait with `delta`.
    fn gather(&mut self, node: u64, delta: Sums) {
        let level = node.trailing_zeros();
        let slot = &mut self.slots[level as usize];
        if self.levels & (1 << level) == 0 {
            self.levels |= 1 << level;
            *slot = (node, delta);
            return;
        }
        // The one node of this level on the update path of the last index seen.
        debug_assert_eq!(slot.0, node, "two waiting fenwick nodes share a level");
        // Deltas below a node sum to at most what the whole batch adds or takes, which the
        // callers bound (the tree's total).
        slot.1 = slot.1.checked_add(delta).expect("a batch's deltas fit the total");
    }

    /// Takes the smallest waiting node if it is below `bound`.
    fn take_smallest_below(&mut self, bound: u64) -> Option<(u64, Sums)> {
        if self.levels == 0 {
            return None;
        }
        let level = self.levels.trailing_zeros();
        let (node, delta) = self.slots[level as usize];
        if node >= bound {
            return None;
        }
        self.levels &= !(1 << level);
        Some((node, delta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn prefix_sums_survive_growth_and_removal() {
        let mut tree = Fenwick::default();
        tree.grow_to(3);
        tree.add(1, Sums(5, 1)).expect("fits");
        tree.add(3, Sums(7, 1)).expect("fits");
        tree.grow_to(9);
        assert_eq!(tree.capacity(), 16);
        tree.add(9, Sums(11, 1)).expect("fits");
        assert_eq!(tree.prefix(2), Sums(5, 1));
        assert_eq!(tree.prefix(8), Sums(12, 2));
        assert_eq!(tree.total(), Sums(23, 3));
        assert_eq!(tree.first_nonzero(), Some(1));
        assert_eq!(tree.last_nonzero(), Some(9));
        tree.sub(1, Sums(5, 1));
        tree.sub(3, Sums(7, 1));
        assert_eq!(tree.first_nonzero(), Some(9));
        tree.sub(9, Sums(11, 1));
        assert!(tree.nodes.is_empty(), "a drained tree stores no nodes");
        assert_eq!(tree.first_nonzero(), None);
        assert_eq!(tree.last_nonzero(), None);
    }

    #[test]
    fn a_failed_add_changes_nothing() {
        let mut tree = Fenwick::default();
        tree.grow_to(4);
        tree.add(2, Sums(u128::MAX, 0)).expect("fits");
        let before = tree.clone();
        assert_eq!(tree.add(3, Sums(1, 0)), Err(Overflow));
        assert!(tree == before);
    }

    #[test]
    fn a_batch_whose_total_would_overflow_changes_nothing() {
        let mut tree = Fenwick::default();
        tree.grow_to(8);
        tree.add(2, Sums(u128::MAX - 1, 0)).expect("fits");
        let before = tree.clone();
        assert_eq!(tree.add_all(&mut [(3, Sums(1, 0)), (7, Sums(1, 0))]), Err(Overflow));
        assert!(tree == before);
    }

    proptest! {
        #[test]
        fn a_batch_leaves_the_tree_the_changes_one_by_one_leave(
            start in proptest::collection::vec((1u64..300, 1u128..1_000), 0..60),
            changes in proptest::collection::vec((1u64..300, 0u128..1_000, 0u128..2), 0..200),
        ) {
            let mut one_by_one = Fenwick::default();
            one_by_one.grow_to(300);
            for &(index, value) in &start {
                one_by_one.add(index, Sums(value, 1)).expect("fits");
            }
            one_by_one.commit();
            let mut batched = one_by_one.clone();
            let mut added: Vec<(u64, Sums)> =
                changes.iter().map(|&(index, a, b)| (index, Sums(a, b))).collect();
            for &(index, delta) in &added {
                one_by_one.add(index, delta).expect("fits");
            }
            batched.add_all(&mut added).expect("fits");
            prop_assert!(batched == one_by_one);
            prop_assert_eq!(batched.total(), one_by_one.total());
            // Take the same changes off again, in their original (unsorted) order.
            let mut taken: Vec<(u64, Sums)> =
                changes.iter().rev().map(|&(index, a, b)| (index, Sums(a, b))).collect();
            for &(index, delta) in &taken {
                one_by_one.sub(index, delta);
            }
            batched.sub_all(&mut taken);
            prop_assert!(batched == one_by_one);
            prop_assert_eq!(batched.nodes.entries(), one_by_one.nodes.entries());
        }

        #[test]
        fn sorting_a_batch_orders_it_as_a_stable_sort_by_index_does(
            small in proptest::collection::vec(1u64..2_000, 0..400),
            wide in proptest::collection::vec(any::<u64>(), 0..200),
        ) {
            for indices in [small, wide] {
                // Each change's position in its second sum, to see where it went.
                let mut changes: Vec<(u64, Sums)> = indices
                    .iter()
                    .enumerate()
                    .map(|(at, &index)| (index, Sums(1, at as u128)))
                    .collect();
                let mut expected = changes.clone();
                expected.sort_by_key(|&(index, _)| index);
                sort_by_index(&mut changes);
                prop_assert_eq!(changes, expected);
            }
        }

        #[test]
        fn matches_a_plain_array(operations in proptest::collection::vec((1u64..200, 0u128..1_000, any::<bool>()), 1..200)) {
            let mut tree = Fenwick::default();
            let mut plain = vec![0u128; 201];
            // The second sums: one per addition, never taken off.
            let mut counts = vec![0u128; 201];
            for (index, value, is_add) in operations {
                tree.grow_to(index);
                if is_add || plain[index as usize] < value {
                    tree.add(index, Sums(value, 1)).expect("fits");
                    plain[index as usize] += value;
                    counts[index as usize] += 1;
                } else {
                    tree.sub(index, Sums(value, 0));
                    plain[index as usize] -= value;
                }
                let probe = (index * 7) % 200 + 1;
                let expected: u128 = plain[1..=probe as usize].iter().sum();
                prop_assert_eq!(tree.prefix(probe).0, expected);
                let first = plain.iter().position(|&v| v > 0).map(|i| i as u64);
                prop_assert_eq!(tree.first_nonzero(), first);
                let last = (0..plain.len()).rev().find(|&i| plain[i] > 0 || counts[i] > 0);
                let last = last.map(|i| i as u64);
                prop_assert_eq!(tree.last_nonzero(), last);
            }
            let rebuilt = Fenwick::rebuilt(
                tree.capacity(),
                plain.iter().enumerate().filter(|(_, v)| **v > 0).map(|(i, v)| (i as u64, Sums(*v, 0))),
            ).expect("fits");
            let firsts: Vec<(u64, u128)> = tree.nodes.entries().into_iter().filter(|(_, s)| s.0 > 0).map(|(k, s)| (k, s.0)).collect();
            let rebuilt_firsts: Vec<(u64, u128)> = rebuilt.nodes.entries().into_iter().map(|(k, s)| (k, s.0)).collect();
            prop_assert_eq!(firsts, rebuilt_firsts);
        }
    }
}
