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
    table::{Component, LeafVisitor, LeafVisitorMut, Slot, Table},
};
use serde::Serialize;
use std::{collections::BTreeMap, fmt, hash::Hash};

/// The byte between a table's path and an entry's key in a leaf key.
pub const KEY_SEPARATOR: u8 = 0;

/// The canonical (postcard) encoding of a key or value.
fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("leaf encoding cannot fail: every type is plain data")
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

/// Lists every leaf.
#[derive(Default)]
struct AllLeaves(Vec<Leaf>);

impl LeafVisitor for AllLeaves {
    fn table<K, V>(&mut self, path: &str, table: &Table<K, V>)
    where
        K: Serialize + Ord + Hash + Clone,
        V: Serialize + Clone,
    {
        self.0.extend(table.iter().map(|(key, value)| Leaf {
            key: table_leaf_key(path, key),
            value: Some(encode(value)),
        }));
    }

    fn slot<T: Serialize + Clone>(&mut self, path: &str, slot: &Slot<T>) {
        self.0.push(Leaf { key: slot_leaf_key(path), value: Some(encode(slot.get())) });
    }
}

/// Lists every table's and slot's path.
#[derive(Default)]
struct Schema(Vec<(String, LeafKind)>);

impl LeafVisitor for Schema {
    fn table<K, V>(&mut self, path: &str, _: &Table<K, V>)
    where
        K: Serialize + Ord + Hash + Clone,
        V: Serialize + Clone,
    {
        self.0.push((path.to_string(), LeafKind::Table));
    }

    fn slot<T: Serialize + Clone>(&mut self, path: &str, _: &Slot<T>) {
        self.0.push((path.to_string(), LeafKind::Slot));
    }
}

/// Takes the leaves touched by committed writes since the last time.
#[derive(Default)]
struct ChangedLeaves(Vec<Leaf>);

impl LeafVisitorMut for ChangedLeaves {
    fn table<K, V>(&mut self, path: &str, table: &mut Table<K, V>)
    where
        K: Serialize + Ord + Hash + Clone,
        V: Serialize + Clone,
    {
        for key in table.take_touched() {
            let value = table.get(&key).map(encode);
            self.0.push(Leaf { key: table_leaf_key(path, &key), value });
        }
    }

    fn slot<T: Serialize + Clone>(&mut self, path: &str, slot: &mut Slot<T>) {
        if slot.take_touched() {
            self.0.push(Leaf { key: slot_leaf_key(path), value: Some(encode(slot.get())) });
        }
    }
}

/// Starts change tracking from now on.
struct TrackChanges;

impl LeafVisitorMut for TrackChanges {
    fn table<K, V>(&mut self, _: &str, table: &mut Table<K, V>)
    where
        K: Serialize + Ord + Hash + Clone,
        V: Serialize + Clone,
    {
        table.track_changes();
    }

    fn slot<T: Serialize + Clone>(&mut self, _: &str, slot: &mut Slot<T>) {
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
        let mut changed = ChangedLeaves::default();
        self.visit_mut("", &mut changed);
        changed.0
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
