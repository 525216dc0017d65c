//! The non-zero nodes of a Fenwick tree: a journaled map from node index to [`Sums`] with the
//! same encoding, leaves, rollback and touched keys as a `Table<u64, Sums, Unordered>`, kept
//! in memory so that a node is read or written by an array access, not a hash probe.
//!
//! Layout: node `j` has level `l` (its lowest set bit) and position `j >> (l + 1)` in that
//! level (`j = (2 x position + 1) x 2^l`). Each level keeps a dense window of positions, a
//! `VecDeque` starting at `base`; the nodes outside every window sit in one hash map by index.
//! The queue's requests have consecutive ids, so the eligible and waiting trees' nodes fill
//! their windows (a served request's nodes leave from the front, a new one's arrive at the
//! back), and a round writes each node in a few instructions. Sparse levels (the wait-fee
//! index's low levels: one jumper per round) stay in the map.
//!
//! Memory follows the non-zero nodes, not the ids ever used: a window grows only while it stays
//! at least a quarter full (plus [`WINDOW_SLACK`] slots), and after every commit or rollback
//! each level that lost a node is trimmed of zeros at both ends and, if it fell below that
//! density (the requests in its middle were served while an old one stays), cut back to its
//! densest tail, the rest of its nodes moving to the map. So a level holds at most `4 x its
//! non-zero nodes + WINDOW_SLACK` slots and a queue that served 10 million requests over its
//! life holds no window that long (named test `memory_follows_the_live_nodes_not_the_ids_ever_used`). Each
//! cut costs a pass over its window, paid for by the writes that emptied it.
//!
//! The layout is invisible: entries are listed in index order and a zero node is never an
//! entry, so equal trees have equal encodings and leaves whatever their windows (proptest
//! `the_store_reads_encodes_rolls_back_and_reports_as_a_table_does` against the table).

use super::{CAPACITY_MAX, Sums};
use crate::leaves::LeafTable;
use crate::table::TouchedKeys;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::hash_map::Entry as HashEntry;
use std::collections::{BTreeMap, VecDeque};

/// Nodes outside every window, by index. Never iterated in its own order (entries are sorted
/// when listed), so the determinism rule against hash maps does not apply.
#[allow(clippy::disallowed_types)]
type Sparse = std::collections::HashMap<u64, Sums, rustc_hash::FxBuildHasher>;

/// The slots a level's window may hold beyond twice its non-zero nodes: small windows (a
/// tree's top levels, a queue's first requests) are kept whatever their density.
const WINDOW_SLACK: usize = 64;

/// A window holds at most this many slots per non-zero node (plus [`WINDOW_SLACK`]): a slot
/// is 32 bytes, a node in the map ~48 with its key and the map's spare room, so a window a
/// quarter full costs at most ~3 times the map and reads and writes in a few instructions.
const WINDOW_SPREAD_MAX: usize = 4;

/// The levels a tree of at most [`super::CAPACITY_MAX`] indices has.
const LEVELS_MAX: usize = 63;

/// One level's dense window of positions.
#[derive(Clone, Debug, Default)]
struct Window {
    /// The position of `slots[0]`.
    base: u64,
    /// Positions `base..base + slots.len()`; zero where the node is zero.
    slots: VecDeque<Sums>,
    /// The non-zero slots.
    nonzero: usize,
}

impl Window {
    /// The slot of `position`, if the window covers it.
    #[inline(always)]
    fn slot_mut(&mut self, position: u64) -> Option<&mut Sums> {
        let offset = position.wrapping_sub(self.base);
        if offset < self.slots.len() as u64 { self.slots.get_mut(offset as usize) } else { None }
    }

    /// The slot of `position`, if the window covers it.
    #[inline(always)]
    fn slot(&self, position: u64) -> Option<&Sums> {
        let offset = position.wrapping_sub(self.base);
        if offset < self.slots.len() as u64 { self.slots.get(offset as usize) } else { None }
    }

    /// Whether the window may grow by `gap` empty slots and one non-zero one and still hold at
    /// most [`WINDOW_SPREAD_MAX`] times its non-zero slots plus [`WINDOW_SLACK`].
    fn may_grow_by(&self, gap: u64) -> bool {
        let grown = (self.slots.len() as u64).saturating_add(gap).saturating_add(1);
        grown <= WINDOW_SPREAD_MAX as u64 * (self.nonzero as u64 + 1) + WINDOW_SLACK as u64
    }

    /// Whether the window may grow over `position` (outside it) with a non-zero node there.
    fn may_grow_to(&self, position: u64) -> bool {
        if self.slots.is_empty() {
            return true;
        }
        let end = self.base + self.slots.len() as u64;
        let gap = if position >= end { position - end } else { self.base - position - 1 };
        self.may_grow_by(gap)
    }

    /// Whether the window holds more than [`WINDOW_SPREAD_MAX`] times its non-zero slots plus
    /// [`WINDOW_SLACK`].
    fn too_sparse(&self) -> bool {
        self.slots.len() > WINDOW_SPREAD_MAX * self.nonzero + WINDOW_SLACK
    }
}

/// Whether a window's tail of `span` slots holding `nonzero` non-zero nodes is dense enough to
/// keep as a window after a cut: at most 3 times its non-zero slots plus half [`WINDOW_SLACK`],
/// so the next cut needs a quarter of its nodes emptied first. [`Nodes::tidy`]'s cuts and a
/// decoded tree's layout use this one rule, so a decoded state is laid out as a tidied one.
fn tail_dense_enough(span: usize, nonzero: usize) -> bool {
    2 * span <= 6 * nonzero + WINDOW_SLACK
}

/// The index of the node at `position` of `level`.
#[inline(always)]
fn index_of(level: usize, position: u64) -> u64 {
    (2 * position + 1) << level
}

/// A Fenwick tree's non-zero nodes by index, journaled (see the module documentation).
#[derive(Clone, Default)]
pub struct Nodes {
    /// Each level's window, by level; levels never written have none.
    windows: Vec<Window>,
    /// The non-zero nodes outside every window. No index inside a window is here.
    sparse: Sparse,
    /// The non-zero nodes.
    len: usize,
    /// Each write's index and the value it replaced (zero: absent), oldest first.
    undo: Vec<(u64, Sums)>,
    /// Bit `l`: level `l` was written since the last commit or rollback (to be tidied).
    written_levels: u64,
    /// Indices written by committed writes since the last `take_touched`, when tracking.
    touched: TouchedKeys<u64>,
}

impl Nodes {
    /// The node at `index` (zero if absent). Always inlined: a prefix walk reads a node per
    /// level, and a call returning the 32-byte value through memory cost more than the read.
    #[inline(always)]
    pub fn get(&self, index: u64) -> Sums {
        let level = index.trailing_zeros() as usize;
        if let Some(window) = self.windows.get(level)
            && let Some(slot) = window.slot(index >> (level + 1))
        {
            return *slot;
        }
        if self.sparse.is_empty() {
            return Sums::ZERO;
        }
        self.sparse.get(&index).copied().unwrap_or_default()
    }

    /// The node at `index`, if not zero, by reference.
    fn get_ref(&self, index: u64) -> Option<&Sums> {
        let level = index.trailing_zeros() as usize;
        let stored = match self.windows.get(level).and_then(|w| w.slot(index >> (level + 1))) {
            Some(slot) => Some(slot),
            None => self.sparse.get(&index),
        };
        stored.filter(|value| !value.is_zero())
    }

    /// Sets node `index` to `change(its value)`, journaling the old value; `None` from
    /// `change` leaves the node as it was and is returned. Writing zero over zero journals
    /// nothing (a table does not journal removing an absent key).
    #[inline(always)]
    pub fn write(&mut self, index: u64, change: impl FnOnce(Sums) -> Option<Sums>) -> Option<()> {
        let level = index.trailing_zeros() as usize;
        // (Index 0 and 2^63 have no level: no window, whatever the position.)
        let position = index.checked_shr(level as u32 + 1).unwrap_or(0);
        // The hot path: a node inside its level's window.
        if let Some(window) = self.windows.get_mut(level)
            && let Some(slot) = window.slot_mut(position)
        {
            let old = *slot;
            let value = change(old)?;
            *slot = value;
            if old.is_zero() != value.is_zero() {
                if value.is_zero() {
                    // A node emptied: its window may need trimming at the commit.
                    self.written_levels |= 1 << level;
                    window.nonzero -= 1;
                    self.len -= 1;
                } else {
                    window.nonzero += 1;
                    self.len += 1;
                }
            } else if old.is_zero() {
                return Some(());
            }
            self.undo.push((index, old));
            return Some(());
        }
        self.write_outside_windows(index, change)
    }

    /// Adds `delta` (not zero) to every node on the update path of `index` up to `capacity`
    /// (`index`, then `+ lowbit` each step), journaled as [`Nodes::write`] does; `Err(node)`
    /// names the first node that would overflow, the nodes before it written. One loop, the
    /// window case inline: with `delta` not zero, a node's new value is never zero, so only
    /// the old one is tested (a node becomes non-zero) and each node is journaled.
    #[inline]
    pub fn add_along_path(&mut self, index: u64, capacity: u64, delta: Sums) -> Result<(), u64> {
        self.change_along_path::<true>(index, capacity, delta)
    }

    /// Subtracts `delta` (not zero) from every node on the update path of `index` up to
    /// `capacity`, as [`Nodes::add_along_path`] adds; `Err(node)` names the first node that
    /// would go negative. Every node it changes was not zero (it held at least `delta`), so
    /// only the new value is tested (a node emptied).
    #[inline]
    pub fn sub_along_path(&mut self, index: u64, capacity: u64, delta: Sums) -> Result<(), u64> {
        self.change_along_path::<false>(index, capacity, delta)
    }

    #[inline(always)]
    fn change_along_path<const ADD: bool>(
        &mut self,
        index: u64,
        capacity: u64,
        delta: Sums,
    ) -> Result<(), u64> {
        debug_assert!(!delta.is_zero(), "a path change of zero journals nothing");
        let combine = |old: Sums| match ADD {
            true => old.checked_add(delta).ok(),
            false => old.checked_sub(delta).ok(),
        };
        assert!(index >= 1 && capacity <= CAPACITY_MAX, "a path from {index} up to {capacity}");
        let mut node = index;
        while node <= capacity {
            // 1 <= node <= 2^62: its level is at most 62, so the shift is below 64.
            let level = node.trailing_zeros() as usize;
            let position = node >> (level + 1);
            if let Some(window) = self.windows.get_mut(level)
                && let Some(slot) = window.slot_mut(position)
            {
                let old = *slot;
                let Some(value) = combine(old) else { return Err(node) };
                *slot = value;
                if ADD {
                    // `value` >= `delta`, which is not zero.
                    if old.is_zero() {
                        window.nonzero += 1;
                        self.len += 1;
                    }
                } else if value.is_zero() {
                    // `old` >= `delta` was not zero. A node emptied: its window may need
                    // trimming at the commit.
                    self.written_levels |= 1 << level;
                    window.nonzero -= 1;
                    self.len -= 1;
                }
                self.undo.push((node, old));
            } else if self.write_outside_windows(node, combine).is_none() {
                return Err(node);
            }
            node += node & node.wrapping_neg();
        }
        Ok(())
    }

    /// [`Nodes::write`] of a node outside its level's window: appended to the window when it
    /// comes just after it, else written by [`Nodes::write_cold`].
    #[inline]
    fn write_outside_windows(
        &mut self,
        index: u64,
        change: impl FnOnce(Sums) -> Option<Sums>,
    ) -> Option<()> {
        let level = index.trailing_zeros() as usize;
        let position = index.checked_shr(level as u32 + 1).unwrap_or(0);
        // Next: a new node just after its level's window (a new request's, activated ones'),
        // appended when the map holds nothing it could be.
        if self.sparse.is_empty()
            && let Some(window) = self.windows.get_mut(level)
            && !window.slots.is_empty()
            && window.base + window.slots.len() as u64 == position
        {
            let value = change(Sums::ZERO)?;
            if !value.is_zero() {
                window.slots.push_back(value);
                window.nonzero += 1;
                self.len += 1;
                self.undo.push((index, Sums::ZERO));
            }
            return Some(());
        }
        self.write_cold(index, change)
    }

    /// [`Nodes::write`] of a node neither in its level's window nor just after it.
    #[inline(never)]
    fn write_cold(&mut self, index: u64, change: impl FnOnce(Sums) -> Option<Sums>) -> Option<()> {
        let level = index.trailing_zeros() as usize;
        let position = index.checked_shr(level as u32 + 1).unwrap_or(0);
        let may_grow = level < LEVELS_MAX
            && self.windows.get(level).is_none_or(|window| window.may_grow_to(position));
        // One probe of the map reads the node and writes it there, or finds it absent.
        match self.sparse.entry(index) {
            HashEntry::Occupied(mut entry) => {
                let old = *entry.get();
                let value = change(old)?;
                if value.is_zero() {
                    entry.remove();
                    self.len -= 1;
                } else {
                    *entry.get_mut() = value;
                }
                self.undo.push((index, old));
            }
            HashEntry::Vacant(entry) => {
                let value = change(Sums::ZERO)?;
                if value.is_zero() {
                    return Some(());
                }
                if may_grow {
                    self.replace(index, value);
                } else {
                    entry.insert(value);
                    self.len += 1;
                }
                self.undo.push((index, Sums::ZERO));
            }
        }
        Some(())
    }

    /// Sets node `index` to `value` without journaling, growing its level's window over it
    /// when that keeps the window dense enough, else keeping it in the map; returns the old
    /// value. Any index is taken, as a table takes any key: one no tree has (zero, or beyond
    /// the maximum capacity) can only come from a decoded state, and stays in the map.
    fn replace(&mut self, index: u64, value: Sums) -> Sums {
        let level = index.trailing_zeros() as usize;
        if level >= LEVELS_MAX {
            let old = match value.is_zero() {
                true => self.sparse.remove(&index),
                false => self.sparse.insert(index, value),
            };
            let old = old.unwrap_or_default();
            self.len = self.len + usize::from(!value.is_zero()) - usize::from(!old.is_zero());
            return old;
        }
        let position = index >> (level + 1);
        if self.windows.len() <= level {
            self.windows.resize_with(level + 1, Window::default);
        }
        if value.is_zero() {
            self.written_levels |= 1 << level;
        }
        let window = &mut self.windows[level];
        let old = if let Some(slot) = window.slot_mut(position) {
            let old = std::mem::replace(slot, value);
            window.nonzero += usize::from(!value.is_zero());
            window.nonzero -= usize::from(!old.is_zero());
            old
        } else if value.is_zero() {
            self.sparse.remove(&index).unwrap_or_default()
        } else if let Some(old) = self.sparse.get_mut(&index) {
            std::mem::replace(old, value)
        } else if self.grow_window(level, position) {
            let window = &mut self.windows[level];
            let Some(slot) = window.slot_mut(position) else {
                unreachable!("a window grown over a position covers it")
            };
            *slot = value;
            window.nonzero += 1;
            Sums::ZERO
        } else {
            self.sparse.insert(index, value);
            Sums::ZERO
        };
        self.len = self.len + usize::from(!value.is_zero()) - usize::from(!old.is_zero());
        old
    }

    /// Grows `level`'s window to cover `position` (absent from the map) if it stays dense
    /// enough, bringing in the map's nodes it now covers; whether it did.
    fn grow_window(&mut self, level: usize, position: u64) -> bool {
        let window = &mut self.windows[level];
        if window.slots.is_empty() {
            window.base = position;
            window.slots.push_back(Sums::ZERO);
            return true;
        }
        let end = window.base + window.slots.len() as u64;
        let (gap, back) = match position >= end {
            true => (position - end, true),
            false => (window.base - position - 1, false),
        };
        if !window.may_grow_by(gap) {
            return false;
        }
        for step in 0..=gap {
            let covered = if back { end + step } else { window.base - 1 };
            let value = match self.sparse.is_empty() || covered == position {
                true => Sums::ZERO,
                false => self.sparse.remove(&index_of(level, covered)).unwrap_or_default(),
            };
            window.nonzero += usize::from(!value.is_zero());
            if back {
                window.slots.push_back(value);
            } else {
                window.slots.push_front(value);
                window.base -= 1;
            }
        }
        true
    }

    /// Trims the written levels' windows of zeros at both ends, cuts a window that became too
    /// sparse back to its densest tail (its other nodes move to the map), and gives back
    /// memory held beyond four times what is used.
    fn tidy(&mut self) {
        let mut levels = std::mem::take(&mut self.written_levels);
        while levels != 0 {
            let level = levels.trailing_zeros() as usize;
            levels &= levels - 1;
            let window = &mut self.windows[level];
            while window.slots.front().is_some_and(|slot| slot.is_zero()) {
                window.slots.pop_front();
                window.base += 1;
            }
            while window.slots.back().is_some_and(|slot| slot.is_zero()) {
                window.slots.pop_back();
            }
            if window.too_sparse() {
                self.cut_to_dense_tail(level);
            }
            let window = &mut self.windows[level];
            if window.slots.capacity() > 4 * window.slots.len() + WINDOW_SLACK {
                window.slots.shrink_to(2 * window.slots.len());
            }
        }
        if self.sparse.capacity() > 4 * self.sparse.len() + WINDOW_SLACK {
            self.sparse.shrink_to(2 * self.sparse.len());
        }
    }

    /// Keeps of `level`'s window its longest tail that is [`tail_dense_enough`]; the nodes
    /// before it move to the map.
    fn cut_to_dense_tail(&mut self, level: usize) {
        let window = &mut self.windows[level];
        let len = window.slots.len();
        let mut nonzero_in_tail = 0usize;
        let mut cut = len;
        for (offset, slot) in window.slots.iter().enumerate().rev() {
            nonzero_in_tail += usize::from(!slot.is_zero());
            if tail_dense_enough(len - offset, nonzero_in_tail) {
                cut = offset;
            }
        }
        for _ in 0..cut {
            let Some(value) = window.slots.pop_front() else { break };
            if !value.is_zero() {
                window.nonzero -= 1;
                self.sparse.insert(index_of(level, window.base), value);
            }
            window.base += 1;
        }
        while window.slots.front().is_some_and(|slot| slot.is_zero()) {
            window.slots.pop_front();
            window.base += 1;
        }
    }

    /// The number of non-zero nodes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether every node is zero.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The non-zero nodes in index order.
    pub fn entries(&self) -> Vec<(u64, Sums)> {
        let mut entries: Vec<(u64, Sums)> = Vec::with_capacity(self.len);
        for (level, window) in self.windows.iter().enumerate() {
            let positions = window.base..;
            for (position, slot) in positions.zip(window.slots.iter()) {
                if !slot.is_zero() {
                    entries.push((index_of(level, position), *slot));
                }
            }
        }
        entries.extend(self.sparse.iter().map(|(&index, &value)| (index, value)));
        entries.sort_unstable_by_key(|&(index, _)| index);
        entries
    }

    /// The slots held in memory (windows and map, by capacity): what
    /// `memory_follows_the_live_nodes_not_the_ids_ever_used` bounds.
    pub fn slots_held(&self) -> usize {
        self.windows.iter().map(|window| window.slots.capacity()).sum::<usize>()
            + self.sparse.capacity()
    }

    /// Starts recording the indices committed writes touch, from now on (see
    /// `Table::track_changes`).
    pub fn track_changes(&mut self) {
        self.touched.track();
    }

    /// The indices touched by committed writes since the last call, in index order.
    pub fn take_touched(&mut self) -> Vec<u64> {
        self.touched.take()
    }

    /// Sets (`Some`, zero meaning absent) or removes (`None`) node `index` outside any
    /// transaction: not journaled, not reported as touched (see `Table::overwrite`).
    pub(crate) fn overwrite(&mut self, index: u64, value: Option<Sums>) {
        assert!(self.undo.is_empty(), "fenwick nodes are overwritten only between transactions");
        self.replace(index, value.unwrap_or_default());
        self.tidy();
    }

    /// The nodes `entries` (in index order; zero values are absent) hold, each level's window
    /// over its densest tail (as [`Nodes::tidy`] would cut it), the other nodes in the map: a
    /// decoded tree whose first node at a level is an old request far from the others puts
    /// that one in the map, not the others.
    fn from_sorted_entries(entries: impl IntoIterator<Item = (u64, Sums)>) -> Nodes {
        let mut nodes = Nodes::default();
        let mut by_level: Vec<Vec<(u64, Sums)>> = Vec::new();
        for (index, value) in entries {
            let level = index.trailing_zeros() as usize;
            if value.is_zero() {
                continue;
            }
            if level >= LEVELS_MAX {
                nodes.replace(index, value);
                continue;
            }
            if by_level.len() <= level {
                by_level.resize_with(level + 1, Vec::new);
            }
            by_level[level].push((index >> (level + 1), value));
        }
        nodes.windows.resize_with(by_level.len(), Window::default);
        for (level, positions) in by_level.into_iter().enumerate() {
            // The longest tail of positions that is dense enough (positions are increasing).
            let last = positions.last().map_or(0, |&(position, _)| position);
            let tail = (0..positions.len())
                .find(|&at| {
                    // A span beyond usize is never dense enough (it cannot be allocated).
                    let span = usize::try_from(last - positions[at].0 + 1).unwrap_or(usize::MAX);
                    tail_dense_enough(span.min(usize::MAX / 2), positions.len() - at)
                })
                .unwrap_or(positions.len());
            for &(position, value) in &positions[..tail] {
                nodes.sparse.insert(index_of(level, position), value);
            }
            let window = &mut nodes.windows[level];
            if let Some(&(first, _)) = positions.get(tail) {
                window.base = first;
                window.slots.resize((last - first + 1) as usize, Sums::ZERO);
                for &(position, value) in &positions[tail..] {
                    window.slots[(position - first) as usize] = value;
                }
                window.nonzero = positions.len() - tail;
            }
            nodes.len += positions.len();
        }
        nodes
    }
}

impl crate::table::Journaled for Nodes {
    #[inline]
    fn commit(&mut self) {
        if self.undo.is_empty() {
            return;
        }
        self.touched.commit(&mut self.undo);
        if self.written_levels != 0 {
            self.tidy();
        }
    }

    fn rollback(&mut self) {
        if self.undo.is_empty() {
            return;
        }
        while let Some((index, old)) = self.undo.pop() {
            self.replace(index, old);
        }
        self.tidy();
    }
}

impl crate::table::Component for Nodes {
    fn visit<T: crate::table::LeafVisitor>(&self, path: &str, visitor: &mut T) {
        visitor.table(path, self);
    }

    fn visit_mut<T: crate::table::LeafVisitorMut>(&mut self, path: &str, visitor: &mut T) {
        visitor.table(path, self);
    }
}

impl LeafTable<u64, Sums> for Nodes {
    fn for_each_entry(&self, mut visit: impl FnMut(&u64, &Sums)) {
        for (index, value) in self.entries() {
            visit(&index, &value);
        }
    }

    fn get(&self, key: &u64) -> Option<&Sums> {
        self.get_ref(*key)
    }

    fn take_touched(&mut self) -> Vec<u64> {
        Nodes::take_touched(self)
    }

    fn overwrite(&mut self, key: u64, value: Option<Sums>) {
        Nodes::overwrite(self, key, value);
    }

    fn track_changes(&mut self) {
        Nodes::track_changes(self);
    }
}

/// Entries only, as a table compares: the windows are a layout.
impl PartialEq for Nodes {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.entries().iter().all(|&(index, value)| other.get(index) == value)
    }
}

impl std::fmt::Debug for Nodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.entries()).finish()
    }
}

impl Serialize for Nodes {
    /// Encodes as the map of non-zero nodes in index order, as a table of them does.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.entries())
    }
}

impl<'de> Deserialize<'de> for Nodes {
    /// Decodes the map of nodes (a zero node, which no encoding holds, is absent).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = BTreeMap::<u64, Sums>::deserialize(deserializer)?;
        Ok(Nodes::from_sorted_entries(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fenwick::Fenwick;
    use crate::table::{Journaled, Table, Unordered};
    use proptest::prelude::*;

    impl Nodes {
        /// Panics unless the layout holds what it says: counts right, no map entry inside a
        /// window, and (between transactions) every window trimmed and dense enough.
        fn assert_consistent(&self, between_transactions: bool) {
            let mut len = self.sparse.len();
            for (level, window) in self.windows.iter().enumerate() {
                let nonzero = window.slots.iter().filter(|slot| !slot.is_zero()).count();
                assert_eq!(nonzero, window.nonzero, "level {level} counts its non-zero slots");
                len += nonzero;
                let end = window.base + window.slots.len() as u64;
                for &index in self.sparse.keys() {
                    if index.trailing_zeros() as usize == level {
                        let position = index >> (level + 1);
                        assert!(position < window.base || position >= end, "{index} twice");
                    }
                }
                if between_transactions {
                    assert!(!window.too_sparse(), "level {level} window too sparse");
                    assert!(!window.slots.front().is_some_and(|slot| slot.is_zero()));
                    assert!(!window.slots.back().is_some_and(|slot| slot.is_zero()));
                }
            }
            assert!(self.sparse.values().all(|value| !value.is_zero()), "a zero in the map");
            assert_eq!(len, self.len);
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Sets these consecutive indices to the value.
        Write {
            first: u64,
            count: u64,
            value: Sums,
        },
        Commit,
        Rollback,
    }

    fn index() -> impl Strategy<Value = u64> {
        prop_oneof![
            4 => 1u64..400,
            2 => 1u64..200_000,
            1 => any::<u64>(),
            1 => Just(0u64),
            1 => (0u32..64).prop_map(|shift| 1u64 << shift),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (index(), 1u64..40, 0u128..3, 0u128..2).prop_map(|(first, count, a, b)| {
                Op::Write { first, count, value: Sums(a, b) }
            }),
            2 => Just(Op::Commit),
            1 => Just(Op::Rollback),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn the_store_reads_encodes_rolls_back_and_reports_as_a_table_does(
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            let mut table: Table<u64, Sums, Unordered> = Table::default();
            let mut nodes = Nodes::default();
            table.track_changes();
            nodes.track_changes();
            for op in ops {
                match op {
                    Op::Write { first, count, value } => {
                        for index in (first..).take(count as usize) {
                            match value.is_zero() {
                                true => { table.remove(&index); }
                                false => table.insert(index, value),
                            }
                            prop_assert_eq!(nodes.write(index, |_| Some(value)), Some(()));
                            prop_assert_eq!(nodes.get(index), value);
                        }
                        nodes.assert_consistent(false);
                    }
                    Op::Commit => {
                        table.commit();
                        nodes.commit();
                        nodes.assert_consistent(true);
                        prop_assert_eq!(nodes.take_touched(), table.take_touched());
                    }
                    Op::Rollback => {
                        table.rollback();
                        nodes.rollback();
                        nodes.assert_consistent(true);
                    }
                }
                let entries: Vec<(u64, Sums)> = table.iter().map(|(k, v)| (*k, *v)).collect();
                prop_assert_eq!(nodes.entries(), entries.clone());
                prop_assert_eq!(nodes.len(), table.len());
                for &(index, value) in &entries {
                    prop_assert_eq!(LeafTable::get(&nodes, &index), Some(&value));
                }
                let encoded = postcard::to_stdvec(&nodes).expect("encodes");
                prop_assert_eq!(&encoded, &postcard::to_stdvec(&table).expect("encodes"));
                let decoded: Nodes = postcard::from_bytes(&encoded).expect("decodes");
                decoded.assert_consistent(true);
                prop_assert_eq!(decoded.entries(), entries);
                prop_assert!(decoded == nodes);
            }
        }
    }

    /// A change along an update path, or a commit or rollback.
    #[derive(Clone, Debug)]
    enum PathOp {
        Add {
            index: u64,
            delta: Sums,
        },
        /// Takes `delta` off the path of an index added before, if any.
        Sub {
            pick: usize,
            delta: Sums,
        },
        Commit,
        Rollback,
    }

    fn path_op() -> impl Strategy<Value = PathOp> {
        let delta = (0u128..4, 0u128..3).prop_map(|(a, b)| Sums(a, b));
        prop_oneof![
            6 => (prop_oneof![3 => 1u64..300, 1 => 1u64..=4096], delta.clone())
                .prop_map(|(index, delta)| PathOp::Add { index, delta }),
            4 => (any::<usize>(), delta).prop_map(|(pick, delta)| PathOp::Sub { pick, delta }),
            2 => Just(PathOp::Commit),
            1 => Just(PathOp::Rollback),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// `add_along_path` and `sub_along_path` leave the nodes, the journal (rollback) and the
        /// touched indices exactly as a `write` of each node on the path does, windows and map
        /// alike (indices up to 4096 in a tree of 4096, sparse enough to use the map).
        #[test]
        fn a_change_along_a_path_is_the_writes_of_its_nodes(
            ops in proptest::collection::vec(path_op(), 1..150),
        ) {
            let capacity = 4096u64;
            let mut along = Nodes::default();
            let mut by_node = Nodes::default();
            along.track_changes();
            by_node.track_changes();
            // What each index holds (committed or not), so a subtraction takes at most that.
            let mut held: Vec<(u64, Sums)> = Vec::new();
            let mut held_committed = held.clone();
            for op in ops {
                match op {
                    PathOp::Add { index, delta } => {
                        if delta.is_zero() {
                            continue;
                        }
                        prop_assert_eq!(along.add_along_path(index, capacity, delta), Ok(()));
                        let mut node = index;
                        while node <= capacity {
                            let added = by_node.write(node, |old| old.checked_add(delta).ok());
                            prop_assert_eq!(added, Some(()));
                            node += node & node.wrapping_neg();
                        }
                        held.push((index, delta));
                    }
                    PathOp::Sub { pick, delta } => {
                        if held.is_empty() {
                            continue;
                        }
                        let at = pick % held.len();
                        let (index, has) = held[at];
                        let delta = Sums(delta.0.min(has.0), delta.1.min(has.1));
                        if delta.is_zero() {
                            continue;
                        }
                        prop_assert_eq!(along.sub_along_path(index, capacity, delta), Ok(()));
                        let mut node = index;
                        while node <= capacity {
                            let taken = by_node.write(node, |old| old.checked_sub(delta).ok());
                            prop_assert_eq!(taken, Some(()));
                            node += node & node.wrapping_neg();
                        }
                        held[at].1 = has.checked_sub(delta).expect("at most what it holds");
                    }
                    PathOp::Commit => {
                        along.commit();
                        by_node.commit();
                        along.assert_consistent(true);
                        prop_assert_eq!(along.take_touched(), by_node.take_touched());
                        held_committed = held.clone();
                    }
                    PathOp::Rollback => {
                        along.rollback();
                        by_node.rollback();
                        along.assert_consistent(true);
                        held = held_committed.clone();
                    }
                }
                prop_assert_eq!(along.entries(), by_node.entries());
                prop_assert_eq!(along.len(), by_node.len());
            }
        }
    }

    #[test]
    fn taking_more_than_a_path_holds_names_the_node_and_a_full_node_cannot_overflow() {
        let mut nodes = Nodes::default();
        nodes.add_along_path(3, 8, Sums(5, 1)).expect("fits");
        // Node 3 holds (5, 1); 4 and 8 too. Taking (6, 1) fails at 3, changing nothing.
        assert_eq!(nodes.sub_along_path(3, 8, Sums(6, 1)), Err(3));
        assert_eq!(nodes.entries(), vec![(3, Sums(5, 1)), (4, Sums(5, 1)), (8, Sums(5, 1))]);
        // Node 2 is empty; 4 and 8 hold (5, 1): index 2's path fails at 4 once 2 is written.
        assert_eq!(nodes.add_along_path(2, 8, Sums(u128::MAX, 0)), Err(4));
        nodes.rollback();
        assert!(nodes.is_empty(), "a rollback undoes the writes before the failed node too");
    }

    #[test]
    fn a_state_decoded_with_an_old_request_far_below_the_others_keeps_the_others_in_windows() {
        let mut tree = Fenwick::default();
        tree.grow_to(1 << 20);
        tree.add(1, Sums(5, 1)).expect("fits");
        for index in 900_000..901_000 {
            tree.add(index, Sums(1, 1)).expect("fits");
        }
        tree.commit();
        let decoded: Fenwick =
            postcard::from_bytes(&postcard::to_stdvec(&tree).expect("encodes")).expect("decodes");
        assert!(decoded == tree);
        decoded.nodes.assert_consistent(true);
        // The old request's path and the few top nodes are in the map, not the 1,000 others.
        assert!(decoded.nodes.sparse.len() < 64, "{} nodes in the map", decoded.nodes.sparse.len());
    }

    /// A queue of 1,000 live requests that served 200,000 over its life (one request, the
    /// first, never served): the nodes held stay those of the live requests.
    #[test]
    fn memory_follows_the_live_nodes_not_the_ids_ever_used() {
        let live = 1_000u64;
        let served = 200_000u64;
        let mut tree = Fenwick::default();
        let mut held_at_half = 0;
        for id in 1..=served + live {
            tree.grow_to(id);
            tree.add(id, Sums(1, 1)).expect("fits");
            if id > live + 1 {
                tree.sub(id - live, Sums(1, 1));
            }
            tree.commit();
            if id == served / 2 {
                tree.nodes.assert_consistent(true);
                held_at_half = tree.nodes.slots_held();
            }
        }
        tree.nodes.assert_consistent(true);
        let held = tree.nodes.slots_held();
        let nonzero = tree.nodes.len();
        assert!(nonzero < 3 * live as usize, "{nonzero} non-zero nodes for {live} requests");
        // Each level holds at most four times its nodes plus the slack (four times that by
        // capacity before it is given back): nothing grows with the ids used.
        assert!(held <= 16 * nonzero + 5 * WINDOW_SLACK * LEVELS_MAX, "{held} slots held");
        assert!(held <= held_at_half + held_at_half / 2, "{held} slots, {held_at_half} at half");
    }
}
