//! Auditing a data directory: every stored block replayed from the stored genesis (and its
//! history) on a fresh throwaway store, each header checked.

use super::{Chain, ChainError, u64_meta};
use crate::block::{BlockBody, BlockHeader, decode, decode_json};
use crate::genesis_history::GenesisHistory;
use alloy_primitives::B256;
use infrafi_core::Genesis;
use infrafi_store::Store;
use std::sync::Arc;

/// Replays every stored block from the stored genesis on a fresh in-memory state, checking
/// each header; returns the last block's state root. Used to audit a data directory.
pub fn replay_from_genesis(store: &Store) -> Result<(u64, B256), ChainError> {
    let genesis_bytes =
        store.meta("genesis")?.ok_or_else(|| ChainError::Corrupt("no genesis".into()))?;
    let genesis: Genesis = serde_json::from_slice(&genesis_bytes)
        .map_err(|e| ChainError::Corrupt(format!("genesis: {e}")))?;
    let chain_id = u64_meta(store.meta("chain_id")?, "chain_id")?
        .ok_or_else(|| ChainError::Corrupt("no chain id".into()))?;
    let head = store.head()?.ok_or(ChainError::GenesisMissing)?;
    if let Some(floor) = u64_meta(store.meta("floor")?, "floor")? {
        return Err(ChainError::Corrupt(format!(
            "this data directory started from a state snapshot at block {floor}: \
             it holds no blocks before it to replay"
        )));
    }
    let history: GenesisHistory = match store.meta("genesis_history")? {
        Some(json) => serde_json::from_slice(&json)
            .map_err(|e| ChainError::Corrupt(format!("genesis history: {e}")))?,
        None => GenesisHistory::default(),
    };
    let memory = tempdir_store()?;
    let mut chain = Chain::initialize_with_history(memory.1, chain_id, &genesis, &history)?;
    let stored_genesis: BlockHeader =
        decode(&store.header(0)?.ok_or_else(|| ChainError::Corrupt("no genesis header".into()))?)
            .map_err(|e| ChainError::Corrupt(e.to_string()))?;
    if stored_genesis != chain.committed.header {
        return Err(ChainError::Corrupt("the genesis header does not match the genesis".into()));
    }
    for height in 1..=head {
        let header: BlockHeader = decode(
            &store
                .header(height)?
                .ok_or_else(|| ChainError::Corrupt(format!("no header {height}")))?,
        )
        .map_err(|e| ChainError::Corrupt(e.to_string()))?;
        let body: BlockBody = decode_json(
            &store.body(height)?.ok_or_else(|| ChainError::Corrupt(format!("no body {height}")))?,
        )
        .map_err(|e| ChainError::Corrupt(e.to_string()))?;
        let committed = chain.committed();
        let executed = chain.execute_block(committed.as_parent(), &header, &body.transactions)?;
        chain.commit(executed, None)?;
    }
    drop(memory.0);
    Ok((head, chain.committed.header.state_root))
}

/// A throwaway store for replays.
pub(super) fn tempdir_store() -> Result<(TempDir, Arc<Store>), ChainError> {
    let dir = TempDir::new()?;
    let store = Arc::new(Store::open(&dir.0)?);
    Ok((dir, store))
}

/// A directory removed on drop (replays only; avoids a dependency for one use).
pub(super) struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, ChainError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "infrafi-replay-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)
            .map_err(|e| ChainError::Corrupt(format!("temporary directory: {e}")))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
