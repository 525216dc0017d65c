//! Blocks, headers and receipts, and their canonical (postcard) encodings and hashes.

use alloy_primitives::{Address, B256, keccak256};
use infrafi_core::{Event, TxError};
use infrafi_merkle::root_of_hashed;
use infrafi_tx::SignedTransaction;
use serde::{Deserialize, Serialize};
use std::sync::{PoisonError, RwLock};

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

/// How many index keys' hashes [`indexed_root`] keeps (2 MiB at most): more than a block holds
/// by default ([`crate::BLOCK_TXS_MAX_DEFAULT`]).
const INDEX_KEY_HASHES_KEPT: usize = 1 << 16;

/// `keccak256(index as big-endian u32)` for the first indexes, computed once per process as
/// blocks first reach them: every block hashes the same keys again in both of its roots.
static INDEX_KEY_HASHES: RwLock<Vec<B256>> = RwLock::new(Vec::new());

fn index_key_hash(index: usize) -> B256 {
    keccak256((index as u32).to_be_bytes())
}

/// The root of hashes keyed by their index (big-endian u32), as in the header: the root of
/// `Tree::from_leaves` over `(index.to_be_bytes(), hash)`, computed without building the tree
/// and with the index keys' hashes computed once per process.
pub fn indexed_root(hashes: impl IntoIterator<Item = B256>) -> B256 {
    indexed_root_keeping(hashes, INDEX_KEY_HASHES_KEPT)
}

/// [`indexed_root`] with the hashes of at most `kept` index keys kept (the rest computed each
/// time).
fn indexed_root_keeping(hashes: impl IntoIterator<Item = B256>, kept: usize) -> B256 {
    let values: Vec<B256> = hashes.into_iter().map(keccak256).collect();
    let kept = values.len().min(kept);
    if INDEX_KEY_HASHES.read().unwrap_or_else(PoisonError::into_inner).len() < kept {
        let mut table = INDEX_KEY_HASHES.write().unwrap_or_else(PoisonError::into_inner);
        let known = table.len();
        table.extend((known..kept.max(known)).map(index_key_hash));
    }
    let table = INDEX_KEY_HASHES.read().unwrap_or_else(PoisonError::into_inner);
    let leaves = values
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            (table.get(index).copied().unwrap_or_else(|| index_key_hash(index)), value)
        })
        .collect();
    drop(table);
    root_of_hashed(leaves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use infrafi_merkle::Tree;

    fn tree_root(hashes: &[B256]) -> B256 {
        Tree::from_leaves(hashes.iter().enumerate().map(|(i, h)| ((i as u32).to_be_bytes(), h.0)))
            .root()
    }

    #[test]
    fn an_indexed_root_is_the_root_of_the_tree_of_its_indexes_whether_their_hashes_are_kept_or_not()
    {
        for count in [0usize, 1, 2, 3, 17, 300] {
            let hashes: Vec<B256> = (0..count as u64).map(|i| keccak256(i.to_le_bytes())).collect();
            let expected = tree_root(&hashes);
            assert_eq!(indexed_root(hashes.iter().copied()), expected, "{count} hashes");
            assert_eq!(indexed_root(hashes.iter().copied()), expected, "{count} hashes again");
            for kept in [0, 1, 5] {
                assert_eq!(
                    indexed_root_keeping(hashes.iter().copied(), kept),
                    expected,
                    "{count} hashes, {kept} index keys kept"
                );
            }
        }
    }
}
