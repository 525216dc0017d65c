//! The genesis block (header and state), the Merkle tree of a state, and the chain's metadata
//! in the store (chain id, genesis and its history, state format, signing version).

use super::ChainError;
use crate::block::{BlockHeader, indexed_root};
use crate::genesis_history::GenesisHistory;
use alloy_primitives::B256;
use infrafi_core::{Genesis, State};
use infrafi_merkle::Tree;

pub(super) fn genesis_header(chain_id: u64, timestamp: u64, state_root: B256) -> BlockHeader {
    BlockHeader {
        chain_id,
        height: 0,
        timestamp,
        parent_hash: B256::ZERO,
        transactions_root: indexed_root([]),
        receipts_root: indexed_root([]),
        state_root,
        transaction_count: 0,
    }
}

/// The Merkle tree of a state and its leaves; also the baseline of the state's change
/// tracking (see `State::track_changes`).
pub fn tree_of(state: &mut State) -> (Tree, Vec<infrafi_store::LeafBytes>) {
    state.track_changes();
    let leaves: Vec<infrafi_store::LeafBytes> = state
        .leaves()
        .into_iter()
        .filter_map(|leaf| leaf.value.map(|value| (leaf.key, value)))
        .collect();
    (Tree::from_leaves(leaves.iter().map(|(k, v)| (k, v))), leaves)
}

pub(super) fn u64_meta(bytes: Option<Vec<u8>>, name: &str) -> Result<Option<u64>, ChainError> {
    bytes
        .map(|b| {
            <[u8; 8]>::try_from(b.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| ChainError::Corrupt(format!("{name} is not 8 bytes")))
        })
        .transpose()
}

pub(super) fn chain_meta(
    chain_id: u64,
    genesis: &Genesis,
) -> Result<Vec<(String, Vec<u8>)>, ChainError> {
    let genesis_json =
        serde_json::to_vec(genesis).map_err(|e| ChainError::Genesis(e.to_string()))?;
    Ok(vec![
        ("chain_id".into(), chain_id.to_be_bytes().to_vec()),
        ("genesis".into(), genesis_json),
        ("state_format".into(), infrafi_core::STATE_FORMAT.to_be_bytes().to_vec()),
        ("signing_version".into(), infrafi_tx::DOMAIN_VERSION.as_bytes().to_vec()),
    ])
}

/// The genesis block of a chain: its header and its state.
pub fn genesis_block(chain_id: u64, genesis: &Genesis) -> Result<(BlockHeader, State), ChainError> {
    genesis_block_with_history(chain_id, genesis, &GenesisHistory::default())
}

/// The genesis block of a chain whose genesis has a history (see [`GenesisHistory`]).
pub fn genesis_block_with_history(
    chain_id: u64,
    genesis: &Genesis,
    history: &GenesisHistory,
) -> Result<(BlockHeader, State), ChainError> {
    let (state, tree, _) = genesis_state(genesis, history)?;
    Ok((genesis_header(chain_id, state.now(), tree.root()), state))
}

/// The state after `genesis` and its history, its tree and leaves, checked against the root the
/// history expects.
pub(super) fn genesis_state(
    genesis: &Genesis,
    history: &GenesisHistory,
) -> Result<(State, Tree, Vec<infrafi_store::LeafBytes>), ChainError> {
    let mut state =
        history.genesis_state(genesis).map_err(|e| ChainError::Genesis(e.to_string()))?;
    let (tree, leaves) = tree_of(&mut state);
    if let Some(expected) = history.state_root
        && expected != tree.root()
    {
        return Err(ChainError::Genesis(format!(
            "the genesis and its history give state root {}, the history expects {expected}: \
             this build executes them differently (state format {}) or the files are not the \
             other validators'",
            tree.root(),
            infrafi_core::STATE_FORMAT
        )));
    }
    Ok((state, tree, leaves))
}
