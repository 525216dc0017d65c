//! Blocks, headers and receipts, and their canonical (postcard) encodings and hashes.

use alloy_primitives::{Address, B256, keccak256};
use infrafi_core::{Event, TxError};
use infrafi_merkle::Tree;
use infrafi_tx::SignedTransaction;
use serde::{Deserialize, Serialize};

/// A block header. Its hash is `keccak256(postcard(header))`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The chain the block belongs to.
    pub chain_id: u64,
    /// Its height; genesis is 0.
    pub height: u64,
    /// Its timestamp, unix seconds: the state machine's clock for the block.
    pub timestamp: u64,
    /// The hash of the previous header (zero for genesis).
    pub parent_hash: B256,
    /// The Merkle root over the transaction hashes, keyed by index.
    pub transactions_root: B256,
    /// The Merkle root over the receipt hashes, keyed by index.
    pub receipts_root: B256,
    /// The Merkle root of the whole state after executing the block.
    pub state_root: B256,
    /// How many transactions the block holds.
    pub transaction_count: u32,
}

impl BlockHeader {
    /// The block hash.
    pub fn hash(&self) -> B256 {
        keccak256(encode(self))
    }
}

/// What a block carries besides its header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockBody {
    /// The transactions, in execution order.
    pub transactions: Vec<SignedTransaction>,
    /// Events of the block's own upkeep (clock, scheduled parameter changes).
    pub block_events: Vec<Event>,
}

/// A rejection as recorded in a receipt: the result code's wire shape (`code` the snake_case
/// name, `number` its stable number, as `TxError` serializes), so it reads without this
/// build's code table. Receipts of `STATE_FORMAT` 7 and before carried `code` = the number and
/// `name` beside it; such a data directory is refused by its format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptError {
    /// The stable snake_case name.
    pub code: String,
    /// The stable number.
    pub number: u16,
    /// A sentence.
    pub message: String,
}

impl From<TxError> for ReceiptError {
    fn from(error: TxError) -> ReceiptError {
        ReceiptError {
            code: error.name().to_string(),
            number: error.code(),
            message: error.message().to_string(),
        }
    }
}

/// What happened to one included transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The transaction hash.
    pub tx_hash: B256,
    /// The block it is in.
    pub height: u64,
    /// Its position in the block.
    pub index: u32,
    /// Its sender.
    pub sender: Address,
    /// Its nonce (consumed whatever the outcome).
    pub nonce: u64,
    /// The action's name.
    pub action: String,
    /// `None` if it applied; otherwise why not (and it changed nothing but the nonce).
    pub error: Option<ReceiptError>,
    /// Its events (empty when rejected).
    pub events: Vec<Event>,
}

impl Receipt {
    /// The receipt's hash, committed in the header's receipts root.
    pub fn hash(&self) -> B256 {
        keccak256(encode_json(self))
    }
}

/// The canonical encoding of a header (postcard).
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("block encoding cannot fail: every type is plain data")
}

/// Decodes a header.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, postcard::Error> {
    postcard::from_bytes(bytes)
}

/// The canonical encoding of bodies and receipts: JSON, because events are an internally
/// tagged enum (`{"kind": ...}`), which only self-describing formats can decode. Our JSON is
/// deterministic: structs in field order, no maps.
pub fn encode_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("block encoding cannot fail: every type is plain data")
}

/// Decodes a body or a receipt.
pub fn decode_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// The root of hashes keyed by their index (big-endian u32), as in the header.
pub fn indexed_root(hashes: impl IntoIterator<Item = B256>) -> B256 {
    Tree::from_leaves(hashes.into_iter().enumerate().map(|(i, h)| ((i as u32).to_be_bytes(), h.0)))
        .root()
}
