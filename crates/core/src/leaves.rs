//! The state as a flat set of leaves: one per table entry and one per slot, each a
//! `(key, value)` pair of canonical bytes. The node commits to the leaves with a Merkle tree,
//! persists them one by one, and rebuilds the state from them on restart.
//!
//! A leaf key is the field path of its table or slot (`ledger.balances`), then, for a table
//! entry, a zero byte and the postcard encoding of the entry's key. A leaf value is the
//! postcard encoding of the entry's value (or of the slot's value).
//!
//! The walk is explicit: each component's declaration ([`component!`]) visits its tables and
//! slots in declaration order, so a component that adds a [`Table`] or a [`Slot`] gets its
//! leaves without any code here, and a field that is neither does not compile. Listing the
//! leaves takes `&self` and changes nothing; taking the leaves changed since the last time
//! takes `&mut self`.
//!
//! [`Table`]: crate::table::Table
//! [`Slot`]: crate::table::Slot
//! [`component!`]: crate::table::component

use crate::{
    state::State,
    table::{Component, LeafKey, LeafValue, LeafVisitor, LeafVisitorMut, Slot, Table, TableIndex},
};
use serde::{Serialize, de::DeserializeOwned};
use std::hash::Hash;
use std::{collections::BTreeMap, fmt};

/// The byte between a table's path and an entry's key in a leaf key.
pub const KEY_SEPARATOR: u8 = 0;

/// The canonical (postcard) encoding of a key or value.
fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("leaf encoding cannot fail: every type is plain data")
}

/// Decodes a leaf's entry key or value under `path`.
fn decode<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, LeafError> {
    postcard::from_bytes(bytes).map_err(|e| LeafError(format!("a leaf of `{path}`: {e}")))
}

/// One leaf, or its deletion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The leaf key: field path, then (for a table entry) a zero byte and the encoded key.
    pub key: Vec<u8>,
    /// The encoded value; `None` when a table entry was removed.
    pub value: Option<Vec<u8>>,
}

/// Whether a path holds a table or a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafKind {
    /// Many leaves, one per entry.
    Table,
    /// One leaf.
    Slot,
}

/// The leaf key of the entry at `key` in the table at `path` (e.g. `ledger.balances`).
pub fn table_leaf_key<K: Serialize + ?Sized>(path: &str, key: &K) -> Vec<u8> {
    let mut out = path.as_bytes().to_vec();
    out.push(KEY_SEPARATOR);
    out.extend(encode(key));
    out
}

/// The leaf value of `value`: its canonical encoding (for proofs of a known object).
pub fn encode_value<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    encode(value)
}

/// The leaf key of the slot at `path` (e.g. `queue.globals`).
pub fn slot_leaf_key(path: &str) -> Vec<u8> {
    path.as_bytes().to_vec()
}

/// Splits a leaf key into its path and, for a table entry, the encoded entry key.
pub fn split_leaf_key(key: &[u8]) -> (&[u8], Option<&[u8]>) {
    match key.iter().position(|&b| b == KEY_SEPARATOR) {
        Some(at) => (&key[..at], Some(&key[at + 1..])),
        None => (key, None),
    }
}

/// Why leaves could not be listed or turned back into a state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafError(pub String);

impl fmt::Display for LeafError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "state leaves: {}", self.0)
    }
}

impl std::error::Error for LeafError {}

/// A store whose entries are leaves as a [`Table`]'s are: one per entry, listed in key order,
/// read by key, reported when committed writes touch them, written outside any transaction.
/// A table is one; a Fenwick tree's nodes ([`crate::fenwick::Nodes`]) are kept in another,
/// with the same leaves.
pub trait LeafTable<K, V> {
    /// Hands every entry to `visit`, in key order.
    fn for_each_entry(&self, visit: impl FnMut(&K, &V));
    /// The value at `key`.
    fn get(&self, key: &K) -> Option<&V>;
    /// The keys touched by committed writes since the last call, in key order.
    fn take_touched(&mut self) -> Vec<K>;
    /// Sets (`Some`) or removes (`None`) `key` outside any transaction (see
    /// [`State::apply_leaves`]).
    fn overwrite(&mut self, key: K, value: Option<V>);
    /// Starts recording the keys committed writes touch.
    fn track_changes(&mut self);
}

impl<K: Ord + Hash + Clone, V: Clone, I: TableIndex<K, V>> LeafTable<K, V> for Table<K, V, I> {
    fn for_each_entry(&self, mut visit: impl FnMut(&K, &V)) {
        for (key, value) in self.iter() {
            visit(key, value);
        }
    }

    fn get(&self, key: &K) -> Option<&V> {
        Table::get(self, key)
    }

    fn take_touched(&mut self) -> Vec<K> {
        Table::take_touched(self)
    }

    fn overwrite(&mut self, key: K, value: Option<V>) {
        Table::overwrite(self, key, value);
    }

    fn track_changes(&mut self) {
        Table::track_changes(self);
    }
}

/// Lists every leaf.
#[derive(Default)]
struct AllLeaves(Vec<Leaf>);

impl LeafVisitor for AllLeaves {
    fn table<K, V, T>(&mut self, path: &str, table: &T)
    where
        K: LeafKey,
        V: LeafValue,
        T: LeafTable<K, V>,
    {
        table.for_each_entry(|key, value| {
            self.0.push(Leaf { key: table_leaf_key(path, key), value: Some(encode(value)) });
        });
    }

    fn slot<T: LeafValue>(&mut self, path: &str, slot: &Slot<T>) {
        self.0.push(Leaf { key: slot_leaf_key(path), value: Some(encode(slot.get())) });
    }
}

/// Lists every table's and slot's path.
#[derive(Default)]
struct Schema(Vec<(String, LeafKind)>);

impl LeafVisitor for Schema {
    fn table<K, V, T>(&mut self, path: &str, _: &T)
    where
        K: LeafKey,
        V: LeafValue,
        T: LeafTable<K, V>,
    {
        self.0.push((path.to_string(), LeafKind::Table));
    }

    fn slot<T: LeafValue>(&mut self, path: &str, _: &Slot<T>) {
        self.0.push((path.to_string(), LeafKind::Slot));
    }
}

/// Takes the leaves touched by committed writes since the last time (their keys only, with
/// `values` off).
struct ChangedLeaves {
    leaves: Vec<Leaf>,
    values: bool,
}

impl LeafVisitorMut for ChangedLeaves {
    fn table<K, V, T>(&mut self, path: &str, table: &mut T)
    where
        K: LeafKey,
        V: LeafValue,
        T: LeafTable<K, V>,
    {
        for key in table.take_touched() {
            let value = if self.values { table.get(&key).map(encode) } else { None };
            self.leaves.push(Leaf { key: table_leaf_key(path, &key), value });
        }
    }

    fn slot<T: LeafValue>(&mut self, path: &str, slot: &mut Slot<T>) {
        if slot.take_touched() {
            let value = self.values.then(|| encode(slot.get()));
            self.leaves.push(Leaf { key: slot_leaf_key(path), value });
        }
    }
}

/// Leaves grouped by the path of their table or slot: for each, the entry key (none for a
/// slot) and what goes with it.
type ByPath<'a, T> = BTreeMap<&'a [u8], Vec<(Option<&'a [u8]>, T)>>;

/// The first path of `remaining` as an error: a leaf under a path the state does not have.
fn unknown_path<T>(remaining: &ByPath<'_, T>) -> Result<(), LeafError> {
    match remaining.keys().next() {
        None => Ok(()),
        Some(path) => {
            Err(LeafError(format!("leaf under unknown path `{}`", String::from_utf8_lossy(path))))
        }
    }
}

/// Writes leaves into their tables and slots, outside any transaction.
struct WriteLeaves<'a> {
    by_path: ByPath<'a, Option<&'a [u8]>>,
    error: Option<LeafError>,
}

impl WriteLeaves<'_> {
    fn fail(&mut self, error: LeafError) {
        self.error.get_or_insert(error);
    }
}

impl LeafVisitorMut for WriteLeaves<'_> {
    fn table<K, V, T>(&mut self, path: &str, table: &mut T)
    where
        K: LeafKey,
        V: LeafValue,
        T: LeafTable<K, V>,
    {
        let Some(entries) = self.by_path.remove(path.as_bytes()) else { return };
        for (key, value) in entries {
            let Some(key) = key else {
                return self.fail(LeafError(format!("a leaf of table `{path}` without a key")));
            };
            let written = decode::<K>(path, key).and_then(|key| {
                let value = value.map(|value| decode::<V>(path, value)).transpose()?;
                table.overwrite(key, value);
                Ok(())
            });
            if let Err(error) = written {
                return self.fail(error);
            }
        }
    }

    fn slot<T: LeafValue>(&mut self, path: &str, slot: &mut Slot<T>) {
        let Some(entries) = self.by_path.remove(path.as_bytes()) else { return };
        for (key, value) in entries {
            let (None, Some(value)) = (key, value) else {
                return self.fail(LeafError(format!("slot `{path}` given an entry or no value")));
            };
            match decode::<T>(path, value) {
                Ok(value) => slot.overwrite(value),
                Err(error) => return self.fail(error),
            }
        }
    }
}

/// Reads the values of leaves by key: `values[index]` for the leaf at `index`.
struct ReadLeaves<'a> {
    by_path: ByPath<'a, usize>,
    values: Vec<Option<Vec<u8>>>,
    error: Option<LeafError>,
}

impl LeafVisitor for ReadLeaves<'_> {
    fn table<K, V, T>(&mut self, path: &str, table: &T)
    where
        K: LeafKey,
        V: LeafValue,
        T: LeafTable<K, V>,
    {
        let Some(entries) = self.by_path.remove(path.as_bytes()) else { return };
        for (key, index) in entries {
            let Some(key) = key else {
                self.error
                    .get_or_insert(LeafError(format!("a key of table `{path}` with no entry")));
                return;
            };
            match decode::<K>(path, key) {
                Ok(key) => self.values[index] = table.get(&key).map(encode),
                Err(error) => {
                    self.error.get_or_insert(error);
                    return;
                }
            }
        }
    }

    fn slot<T: LeafValue>(&mut self, path: &str, slot: &Slot<T>) {
        let Some(entries) = self.by_path.remove(path.as_bytes()) else { return };
        for (key, index) in entries {
            if key.is_some() {
                self.error
                    .get_or_insert(LeafError(format!("a key of slot `{path}` with an entry")));
                return;
            }
            self.values[index] = Some(encode(slot.get()));
        }
    }
}

/// Starts change tracking from now on.
struct TrackChanges;

impl LeafVisitorMut for TrackChanges {
    fn table<K, V, T>(&mut self, _: &str, table: &mut T)
    where
        K: LeafKey,
        V: LeafValue,
        T: LeafTable<K, V>,
    {
        table.track_changes();
    }

    fn slot<T: LeafValue>(&mut self, _: &str, slot: &mut Slot<T>) {
        slot.take_touched();
    }
}

impl State {
    /// Every leaf of the state, in schema order and key order within a table. Changes nothing.
    pub fn leaves(&self) -> Vec<Leaf> {
        let mut leaves = AllLeaves::default();
        self.visit("", &mut leaves);
        leaves.0
    }

    /// Starts change tracking: afterwards [`State::take_changed_leaves`] reports what committed
    /// transactions changed since this call. The node calls it with the leaves it commits to.
    pub fn track_changes(&mut self) {
        self.visit_mut("", &mut TrackChanges);
    }

    /// The leaves touched by committed writes since the last call (or since
    /// [`State::track_changes`]); a removed table entry is a leaf with no value. Before change
    /// tracking starts, tables report nothing.
    pub fn take_changed_leaves(&mut self) -> Vec<Leaf> {
        let mut changed = ChangedLeaves { leaves: Vec::new(), values: true };
        self.visit_mut("", &mut changed);
        changed.leaves
    }

    /// The keys of [`State::take_changed_leaves`], without encoding the values: what a copy
    /// of the state that only needs to know where it differs takes.
    pub fn take_changed_leaf_keys(&mut self) -> Vec<Vec<u8>> {
        let mut changed = ChangedLeaves { leaves: Vec::new(), values: false };
        self.visit_mut("", &mut changed);
        changed.leaves.into_iter().map(|leaf| leaf.key).collect()
    }

    /// Writes `leaves` (a leaf key with its value, or `None` for a removed table entry, as
    /// [`State::take_changed_leaves`] gives them) into this state, outside any transaction:
    /// no undo entry, nothing reported as touched. A copy of the state before a block, given
    /// the leaves the block changed, becomes the state after it (the leaves are the whole
    /// state: [`State::from_leaves`]) at a cost that follows the block, not the state.
    ///
    /// Must be called between transactions. On an error (a leaf under a path the state does
    /// not have, or bytes that do not decode) the state is partly written and must be dropped.
    pub fn apply_leaves<'a>(
        &mut self,
        leaves: impl IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    ) -> Result<(), LeafError> {
        let mut by_path: ByPath<'a, Option<&'a [u8]>> = BTreeMap::new();
        for (key, value) in leaves {
            let (path, entry) = split_leaf_key(key);
            by_path.entry(path).or_default().push((entry, value));
        }
        let mut write = WriteLeaves { by_path, error: None };
        self.visit_mut("", &mut write);
        match write.error {
            Some(error) => Err(error),
            None => unknown_path(&write.by_path),
        }
    }

    /// The value of each leaf key in this state (`None`: no such table entry), in the order
    /// given. Changes nothing.
    pub fn leaf_values<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<Option<Vec<u8>>>, LeafError> {
        let mut by_path: ByPath<'a, usize> = BTreeMap::new();
        let mut count = 0;
        for (index, key) in keys.into_iter().enumerate() {
            let (path, entry) = split_leaf_key(key);
            by_path.entry(path).or_default().push((entry, index));
            count = index + 1;
        }
        let mut read = ReadLeaves { by_path, values: vec![None; count], error: None };
        self.visit("", &mut read);
        match read.error {
            Some(error) => Err(error),
            None => unknown_path(&read.by_path).map(|()| read.values),
        }
    }

    /// The paths of every table and slot, in encoding order.
    pub fn leaf_schema() -> Vec<(String, LeafKind)> {
        let mut schema = Schema::default();
        State::default().visit("", &mut schema);
        schema.0
    }

    /// Rebuilds a state from all of its leaves (as listed by [`State::leaves`], in any order).
    ///
    /// The canonical encoding of the state is the concatenation, in schema order, of each
    /// slot's value and each table's entry count (a postcard varint) followed by its entries;
    /// so the leaves are reassembled into that encoding and decoded.
    pub fn from_leaves(
        leaves: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
    ) -> Result<State, LeafError> {
        let schema = State::leaf_schema();
        let mut slots: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut tables: BTreeMap<Vec<u8>, (usize, Vec<u8>)> = BTreeMap::new();
        for (key, value) in leaves {
            match split_leaf_key(&key) {
                (path, Some(entry_key)) => {
                    let table = tables.entry(path.to_vec()).or_default();
                    table.0 += 1;
                    table.1.extend_from_slice(entry_key);
                    table.1.extend_from_slice(&value);
                }
                (path, None) => {
                    slots.insert(path.to_vec(), value);
                }
            }
        }
        let mut bytes = Vec::new();
        for (path, kind) in &schema {
            match kind {
                LeafKind::Slot => {
                    let value = slots
                        .remove(path.as_bytes())
                        .ok_or_else(|| LeafError(format!("slot `{path}` has no leaf")))?;
                    bytes.extend(value);
                }
                LeafKind::Table => {
                    let (count, entries) = tables.remove(path.as_bytes()).unwrap_or_default();
                    bytes.extend(encode(&count));
                    bytes.extend(entries);
                }
            }
        }
        if let Some(path) = slots.keys().chain(tables.keys()).next() {
            return Err(LeafError(format!(
                "leaf under unknown path `{}`",
                String::from_utf8_lossy(path)
            )));
        }
        State::decode(&bytes).map_err(|e| LeafError(format!("decoding the state: {e}")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use crate::{
        Amount, Asset, Genesis,
        action::{Action, GatewayWithdraw, MintUsdai, Transfer},
        ids::{Address, USDC},
        ledger::LedgerState,
        tx::{BlockContext, Transaction, apply},
    };

    fn genesis_state() -> (State, Address, Address) {
        let admin = Address::repeat_byte(1);
        let user = Address::repeat_byte(2);
        let mut genesis = Genesis::with_admin(admin, 1_000);
        genesis.stablecoin_balances.push((user, USDC, Amount::from_whole(500)));
        (State::from_genesis(&genesis).unwrap(), admin, user)
    }

    #[test]
    fn every_state_field_is_a_table_or_a_slot() {
        let schema = State::leaf_schema();
        assert!(
            schema.iter().any(|(path, kind)| path == "ledger.balances" && *kind == LeafKind::Table)
        );
        assert!(schema.iter().any(|(path, kind)| path == "clock" && *kind == LeafKind::Slot));
    }

    #[test]
    fn a_state_rebuilt_from_its_leaves_is_identical() {
        let (state, _, _) = genesis_state();
        let leaves = state.leaves();
        let rebuilt =
            State::from_leaves(leaves.into_iter().map(|l| (l.key, l.value.unwrap()))).unwrap();
        assert_eq!(rebuilt.encode(), state.encode());
        assert_eq!(rebuilt.state_hash(), state.state_hash());
    }

    #[test]
    fn changed_leaves_applied_to_the_old_leaves_give_the_new_leaves() {
        let (mut state, _, user) = genesis_state();
        let mut leaves: BTreeMap<Vec<u8>, Vec<u8>> =
            state.leaves().into_iter().map(|l| (l.key, l.value.unwrap())).collect();
        state.track_changes();
        assert!(state.take_changed_leaves().is_empty());
        let block = BlockContext { height: 1, timestamp: 1_010 };
        let mint = Action::MintUsdai(MintUsdai {
            token: USDC,
            amount: Amount::from_whole(100),
            min_out: Amount::ZERO,
        });
        apply(&mut state, &block, &Transaction { sender: user, action: mint }).unwrap();
        let bad = Action::Transfer(Transfer { asset: Asset::Usdai, to: user, amount: Amount(1) });
        assert!(apply(&mut state, &block, &Transaction { sender: user, action: bad }).is_err());
        let changed = state.take_changed_leaves();
        assert!(!changed.is_empty());
        for leaf in changed {
            match leaf.value {
                Some(value) => leaves.insert(leaf.key, value),
                None => leaves.remove(&leaf.key),
            };
        }
        let expected: BTreeMap<Vec<u8>, Vec<u8>> =
            state.leaves().into_iter().map(|l| (l.key, l.value.unwrap())).collect();
        assert_eq!(leaves, expected);
        let key = table_leaf_key(LedgerState::PATHS.holdings, &user);
        assert!(leaves.contains_key(&key), "the user's USDai holding is a leaf");
        assert!(state.take_changed_leaves().is_empty());
    }

    #[test]
    fn a_copy_given_the_leaves_a_block_changed_becomes_the_state_after_the_block() {
        let (mut state, _, user) = genesis_state();
        state.track_changes();
        let mut copy = state.clone();
        let block = BlockContext { height: 1, timestamp: 1_010 };
        // Minting the whole USDC balance removes its table entry.
        let mint = Action::MintUsdai(MintUsdai {
            token: USDC,
            amount: Amount::from_whole(500),
            min_out: Amount::ZERO,
        });
        apply(&mut state, &block, &Transaction { sender: user, action: mint }).unwrap();
        let send = |amount| {
            let to = Address::repeat_byte(3);
            Action::Transfer(Transfer {
                asset: Asset::Usdai,
                to,
                amount: Amount::from_whole(amount),
            })
        };
        apply(&mut state, &block, &Transaction { sender: user, action: send(7) }).unwrap();
        let refused = Transaction { sender: user, action: send(1_000) };
        assert!(apply(&mut state, &block, &refused).is_err());
        let changed = state.take_changed_leaves();
        assert!(changed.iter().any(|leaf| leaf.value.is_none()), "a removed entry is a leaf");
        assert!(copy != state);
        copy.apply_leaves(changed.iter().map(|l| (l.key.as_slice(), l.value.as_deref()))).unwrap();
        assert!(copy == state);
        assert_eq!(copy.state_hash(), state.state_hash());
        assert!(copy.take_changed_leaves().is_empty(), "written outside any transaction");
        // The copy goes on exactly like the original: same writes, same leaves.
        let next = BlockContext { height: 2, timestamp: 1_020 };
        for state in [&mut state, &mut copy] {
            apply(state, &next, &Transaction { sender: user, action: send(2) }).unwrap();
        }
        assert_eq!(copy.take_changed_leaves(), state.take_changed_leaves());
        assert_eq!(copy.state_hash(), state.state_hash());
    }

    #[test]
    fn leaf_values_are_what_the_leaves_list_and_none_for_a_missing_entry() {
        let (mut state, _, _) = genesis_state();
        let leaves = state.leaves();
        let missing = table_leaf_key(LedgerState::PATHS.holdings, &Address::repeat_byte(9));
        let keys: Vec<&[u8]> =
            leaves.iter().map(|l| l.key.as_slice()).chain([missing.as_slice()]).collect();
        let mut expected: Vec<Option<Vec<u8>>> = leaves.iter().map(|l| l.value.clone()).collect();
        expected.push(None);
        assert_eq!(state.leaf_values(keys.iter().copied()).unwrap(), expected);
        state.track_changes();
        assert_eq!(state.take_changed_leaf_keys(), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn a_leaf_under_an_unknown_path_or_that_does_not_decode_is_refused() {
        let (state, _, _) = genesis_state();
        let unknown = b"ledger.nowhere\0\x01".as_slice();
        assert!(state.clone().apply_leaves([(unknown, Some(b"\x01".as_slice()))]).is_err());
        assert!(state.leaf_values([unknown]).is_err());
        let balance = state
            .leaves()
            .into_iter()
            .find(|l| split_leaf_key(&l.key).0 == LedgerState::PATHS.balances.as_bytes())
            .unwrap();
        let empty = Some(b"".as_slice());
        assert!(state.clone().apply_leaves([(balance.key.as_slice(), empty)]).is_err());
        let clock = slot_leaf_key("clock");
        assert!(state.clone().apply_leaves([(clock.as_slice(), None)]).is_err());
        assert!(state.clone().apply_leaves([(clock.as_slice(), empty)]).is_err());
    }

    #[test]
    fn a_state_holding_a_gateway_payout_survives_its_canonical_encoding() {
        // Regression: `PayoutStatus` was internally tagged, which postcard cannot decode.
        let (mut state, _, user) = genesis_state();
        let block = BlockContext { height: 1, timestamp: 1_010 };
        let withdraw = Action::GatewayWithdraw(GatewayWithdraw {
            token: USDC,
            amount: Amount::from_whole(5),
            destination: "0xabc".into(),
        });
        apply(&mut state, &block, &Transaction { sender: user, action: withdraw }).unwrap();
        let rebuilt =
            State::from_leaves(state.leaves().into_iter().map(|l| (l.key, l.value.unwrap())))
                .unwrap();
        assert_eq!(rebuilt.state_hash(), state.state_hash());
    }

    #[test]
    fn actions_with_amounts_above_two_to_the_64_round_trip_through_json() {
        let action = Action::Transfer(Transfer {
            asset: Asset::Usdai,
            to: Address::repeat_byte(3),
            amount: Amount::from_whole(1_000_000),
        });
        let json = serde_json::to_string(&action).unwrap();
        assert!(json.contains("\"amount\":\"1000000000000000000000000\""), "{json}");
        assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), action);
        let small = r#"{"type":"stake","assets":5,"min_shares":"0"}"#;
        assert!(serde_json::from_str::<Action>(small).is_ok());
    }

    #[test]
    fn ordinary_encodings_do_not_change_under_the_table_newtype() {
        let (state, _, _) = genesis_state();
        let json = serde_json::to_value(&state.reserve.stablecoins).unwrap();
        assert!(json.get("USDC").is_some(), "a table serializes to JSON as a map: {json}");
    }
}
