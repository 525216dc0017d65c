//! The state as a flat set of leaves: one per table entry and one per slot, each a
//! `(key, value)` pair of canonical bytes. The node commits to the leaves with a Merkle tree,
//! persists them one by one, and rebuilds the state from them on restart.
//!
//! A leaf key is the field path of its table or slot (`ledger.balances`), then, for a table
//! entry, a zero byte and the postcard encoding of the entry's key. A leaf value is the
//! postcard encoding of the entry's value (or of the slot's value).
//!
//! The walk is generic: it goes through serde, so a component that adds a [`Table`] or a
//! [`Slot`] to the [`State`] gets its leaves without any code here. Every state field must be
//! a table, a slot, or a struct of them (checked by [`State::leaf_schema`]): a plain field
//! would not report its changes.
//!
//! [`Table`]: crate::table::Table
//! [`Slot`]: crate::table::Slot

use crate::state::State;
use serde::{
    Serialize, Serializer,
    ser::{self, Impossible},
};
use std::{cell::Cell, collections::BTreeMap, fmt};

/// The newtype name a [`crate::table::Table`] serializes under.
pub const TABLE_MARKER: &str = "infrafi::Table";
/// The newtype name a [`crate::table::Slot`] serializes under.
pub const SLOT_MARKER: &str = "infrafi::Slot";
/// The byte between a table's path and an entry's key in a leaf key.
pub const KEY_SEPARATOR: u8 = 0;

/// How tables and slots serialize at the moment (per thread).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LeafMode {
    /// Ordinary encoding (postcard, JSON): the walker is not running.
    Encode,
    /// The walker lists every leaf and resets change tracking.
    All,
    /// The walker lists the leaves touched since the last walk.
    Changed,
}

thread_local! {
    static MODE: Cell<LeafMode> = const { Cell::new(LeafMode::Encode) };
}

pub(crate) fn mode() -> LeafMode {
    MODE.with(Cell::get)
}

/// Runs `f` with the thread's mode set to `mode`, restoring the previous mode afterwards.
fn with_mode<R>(mode: LeafMode, f: impl FnOnce() -> R) -> R {
    struct Restore(LeafMode);
    impl Drop for Restore {
        fn drop(&mut self) {
            MODE.with(|cell| cell.set(self.0));
        }
    }
    let _restore = Restore(MODE.with(|cell| cell.replace(mode)));
    f()
}

/// Runs `f` with ordinary encoding (for the keys and values inside a leaf).
pub(crate) fn with_encode_mode<R>(f: impl FnOnce() -> R) -> R {
    with_mode(LeafMode::Encode, f)
}

/// The canonical (postcard) encoding of a key or value.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
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
    out.extend(with_encode_mode(|| encode(key)));
    out
}

/// The leaf value of `value`: its canonical encoding (for proofs of a known object).
pub fn encode_value<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    with_encode_mode(|| encode(value))
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

impl ser::Error for LeafError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        LeafError(message.to_string())
    }
}

/// What a walk collects.
#[derive(Default)]
struct Walk {
    leaves: Vec<Leaf>,
    schema: Vec<(String, LeafKind)>,
}

/// Serializes one struct level: its fields are tables, slots or nested structs.
struct Walker<'a> {
    path: String,
    walk: &'a mut Walk,
}

impl Walker<'_> {
    fn child(&mut self, field: &str) -> Walker<'_> {
        let path =
            if self.path.is_empty() { field.to_string() } else { format!("{}.{field}", self.path) };
        Walker { path, walk: self.walk }
    }

    fn not_a_leaf(&self) -> LeafError {
        LeafError(format!(
            "the state field `{}` is neither a Table, a Slot nor a struct of them",
            self.path
        ))
    }
}

/// Re-reads a pre-encoded payload that a table or slot handed to the walker.
fn reread<T: Serialize + ?Sized, P: serde::de::DeserializeOwned>(
    value: &T,
) -> Result<P, LeafError> {
    let bytes = with_encode_mode(|| encode(value));
    postcard::from_bytes(&bytes).map_err(|e| LeafError(format!("payload: {e}")))
}

macro_rules! not_a_leaf {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<(), LeafError> { Err(self.not_a_leaf()) })*
    };
}

impl<'a> Serializer for Walker<'a> {
    type Ok = ();
    type Error = LeafError;
    type SerializeSeq = Impossible<(), LeafError>;
    type SerializeTuple = Impossible<(), LeafError>;
    type SerializeTupleStruct = Impossible<(), LeafError>;
    type SerializeTupleVariant = Impossible<(), LeafError>;
    type SerializeMap = Impossible<(), LeafError>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), LeafError>;

    not_a_leaf! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), LeafError> {
        Err(self.not_a_leaf())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), LeafError> {
        match name {
            TABLE_MARKER => {
                let entries: Vec<(Vec<u8>, Option<Vec<u8>>)> = reread(value)?;
                self.walk.schema.push((self.path.clone(), LeafKind::Table));
                for (key, value) in entries {
                    let mut leaf_key = self.path.as_bytes().to_vec();
                    leaf_key.push(KEY_SEPARATOR);
                    leaf_key.extend(key);
                    self.walk.leaves.push(Leaf { key: leaf_key, value });
                }
                Ok(())
            }
            SLOT_MARKER => {
                let value: Option<Vec<u8>> = reread(value)?;
                self.walk.schema.push((self.path.clone(), LeafKind::Slot));
                if let Some(value) = value {
                    self.walk
                        .leaves
                        .push(Leaf { key: slot_leaf_key(&self.path), value: Some(value) });
                }
                Ok(())
            }
            _ => Err(self.not_a_leaf()),
        }
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), LeafError> {
        Err(self.not_a_leaf())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, LeafError> {
        Err(self.not_a_leaf())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, LeafError> {
        Err(self.not_a_leaf())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, LeafError> {
        Err(self.not_a_leaf())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, LeafError> {
        Err(self.not_a_leaf())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, LeafError> {
        Err(self.not_a_leaf())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, LeafError> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, LeafError> {
        Err(self.not_a_leaf())
    }
}

impl ser::SerializeStruct for Walker<'_> {
    type Ok = ();
    type Error = LeafError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), LeafError> {
        value.serialize(self.child(name))
    }

    fn end(self) -> Result<(), LeafError> {
        Ok(())
    }
}

fn walk(state: &State, mode: LeafMode) -> Result<Walk, LeafError> {
    let mut walk = Walk::default();
    with_mode(mode, || state.serialize(Walker { path: String::new(), walk: &mut walk }))?;
    Ok(walk)
}

impl State {
    /// Every leaf of the state, in schema order and key order within a table. This is also the
    /// baseline of change tracking: afterwards [`State::take_changed_leaves`] reports what
    /// committed transactions changed since this call.
    pub fn leaves(&self) -> Vec<Leaf> {
        walk(self, LeafMode::All).expect("the state schema is checked by leaf_schema").leaves
    }

    /// The leaves touched by committed writes since the last call (or since [`State::leaves`]);
    /// a removed table entry is a leaf with no value. Change tracking must have been started
    /// by [`State::leaves`]; before that, tables report nothing.
    pub fn take_changed_leaves(&self) -> Vec<Leaf> {
        walk(self, LeafMode::Changed).expect("the state schema is checked by leaf_schema").leaves
    }

    /// The paths of every table and slot, in encoding order. Errors if a state field is
    /// neither a table, a slot nor a struct of them.
    pub fn leaf_schema() -> Result<Vec<(String, LeafKind)>, LeafError> {
        // A default state has every table and slot; walking it in `Changed` mode lists the
        // schema without encoding any entry.
        Ok(walk(&State::default(), LeafMode::Changed)?.schema)
    }

    /// Rebuilds a state from all of its leaves (as listed by [`State::leaves`], in any order).
    ///
    /// The canonical encoding of the state is the concatenation, in schema order, of each
    /// slot's value and each table's entry count (a postcard varint) followed by its entries;
    /// so the leaves are reassembled into that encoding and decoded.
    pub fn from_leaves(
        leaves: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
    ) -> Result<State, LeafError> {
        let schema = State::leaf_schema()?;
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
        let schema = State::leaf_schema().unwrap();
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
        let key = table_leaf_key("ledger.holdings", &user);
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
