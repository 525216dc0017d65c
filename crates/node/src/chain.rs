//! The block executor: propose, execute, commit.
//!
//! [`Chain`] owns the committed snapshot (what readers see) and a working copy of the state
//! and its Merkle tree (the overlay a block executes on). The order of calls is
//! `propose -> execute -> commit`, or `execute -> abort` when a block is not finalized:
//! - [`Chain::propose`] picks ready transactions from the mempool and fixes the timestamp;
//! - [`Chain::execute`] runs them on the working copy and returns the header with the
//!   post-execution state root, the receipts and the changed leaves; nothing is durable or
//!   visible yet;
//! - [`Chain::commit`] writes the block in one durable store transaction, then publishes the
//!   working copy as the new committed snapshot;
//! - [`Chain::abort`] drops an executed block by resetting the working copy to the snapshot.
//!
//! A consensus engine drives the same calls: a proposer executes before proposing, a validator
//! calls [`Chain::execute_block`] (re-execute and compare roots), and only a finalized block is
//! committed. The single-node sequencer in `lib.rs` simply calls all three every tick.

use crate::block::{
    BlockBody, BlockHeader, Receipt, ReceiptError, decode, decode_json, encode, encode_json,
    indexed_root,
};
use crate::{history, mempool::Mempool};
use alloy_primitives::B256;
use infrafi_core::{BlockContext, Genesis, State, Transaction, tx};
use infrafi_merkle::Tree;
use infrafi_store::{CommitBatch, Store, StoreError};
use infrafi_tx::{SealedTransaction, verify_batch};
use std::sync::Arc;

/// What readers see: a committed block and the state after it.
#[derive(Debug)]
pub struct Snapshot {
    /// The block's header.
    pub header: BlockHeader,
    /// Its hash.
    pub hash: B256,
    /// The state after it.
    pub state: State,
    /// The Merkle tree of that state (`tree.root() == header.state_root`).
    pub tree: Tree,
}

/// A block to execute: its place, its time and its transactions.
#[derive(Debug)]
pub struct Proposal {
    /// Its height.
    pub height: u64,
    /// Its timestamp.
    pub timestamp: u64,
    /// The transactions, verified.
    pub transactions: Vec<SealedTransaction>,
}

/// An executed block, not yet committed.
#[derive(Debug)]
pub struct ExecutedBlock {
    /// Its header, with the post-execution state root.
    pub header: BlockHeader,
    /// Its hash.
    pub hash: B256,
    /// Its body.
    pub body: BlockBody,
    /// A receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// The leaves it changed.
    leaves: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// The history sample taken of its state, when one is due.
    history: Option<history::Sample>,
}

/// Why the chain cannot go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store is empty and no genesis was given.
    #[error("the data directory is empty and no genesis was given")]
    GenesisMissing,
    /// The genesis is unusable.
    #[error("{0}")]
    Genesis(String),
    /// The data directory belongs to another chain.
    #[error("the data directory holds chain {stored}, not chain {configured}")]
    ChainIdMismatch {
        /// The chain in the store.
        stored: u64,
        /// The configured chain.
        configured: u64,
    },
    /// Stored data does not decode or does not match its commitments.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The data directory was written with another state encoding.
    #[error(
        "the data directory holds state format {stored}, this build reads format {expected}: \
         move the directory away to start a new chain, or run the build that wrote it"
    )]
    StateFormatMismatch {
        /// The format in the store (1 for stores written before formats were recorded).
        stored: u64,
        /// `infrafi_core::STATE_FORMAT`.
        expected: u64,
    },
    /// A block was executed and neither committed nor aborted.
    #[error("a block is already executed and waiting for commit or abort")]
    BlockPending,
    /// `commit` got a block that is not the one executed.
    #[error("the block to commit is not the executed one")]
    BlockNotExecuted,
    /// A block to verify does not follow the head.
    #[error("block {got} does not follow the head {head}")]
    HeightNotNext {
        /// The head.
        head: u64,
        /// The block.
        got: u64,
    },
    /// A block to verify has a transaction that fails its stateless check.
    #[error("transaction {index} of the block is invalid: {reason}")]
    TransactionInvalid {
        /// Its index.
        index: usize,
        /// Why.
        reason: String,
    },
    /// Re-execution gives another header than the block's.
    #[error("re-execution gives header {computed:?}, the block has {claimed:?}")]
    HeaderMismatch {
        /// The recomputed header.
        computed: Box<BlockHeader>,
        /// The block's header.
        claimed: Box<BlockHeader>,
    },
}

/// The seam a consensus engine drives (SPEC 16). Legal call orders: `propose` or
/// `execute_block`, then exactly one of `commit` or `abort`; `is_committed` at any time.
///
/// # Invariants
/// - Nothing is durable or visible to readers before `commit` returns.
/// - `execute_block` either returns a block whose header equals the given one, or leaves the
///   working state as it was.
pub trait BlockExecutor {
    /// A proposal of ready transactions at `timestamp`.
    fn propose(&self, mempool: &mut Mempool, timestamp: u64, limit: usize) -> Proposal;
    /// Executes a proposal (the proposer's path).
    fn execute(&mut self, proposal: Proposal) -> Result<ExecutedBlock, ChainError>;
    /// Re-executes a block from elsewhere and checks its header (the validator's path).
    fn execute_block(
        &mut self,
        header: &BlockHeader,
        body: &BlockBody,
    ) -> Result<ExecutedBlock, ChainError>;
    /// Makes the executed block durable, then visible.
    fn commit(&mut self, block: ExecutedBlock) -> Result<Arc<Snapshot>, ChainError>;
    /// Drops the executed block.
    fn abort(&mut self);
    /// Whether a block is already committed (a redelivery).
    fn is_committed(&self, header: &BlockHeader) -> Result<bool, ChainError>;
}

impl BlockExecutor for Chain {
    fn propose(&self, mempool: &mut Mempool, timestamp: u64, limit: usize) -> Proposal {
        Chain::propose(self, mempool, timestamp, limit)
    }

    fn execute(&mut self, proposal: Proposal) -> Result<ExecutedBlock, ChainError> {
        Chain::execute(self, proposal)
    }

    fn execute_block(
        &mut self,
        header: &BlockHeader,
        body: &BlockBody,
    ) -> Result<ExecutedBlock, ChainError> {
        Chain::execute_block(self, header, body)
    }

    fn commit(&mut self, block: ExecutedBlock) -> Result<Arc<Snapshot>, ChainError> {
        Chain::commit(self, block)
    }

    fn abort(&mut self) {
        Chain::abort(self)
    }

    fn is_committed(&self, header: &BlockHeader) -> Result<bool, ChainError> {
        Chain::is_committed(self, header)
    }
}

/// The executor over one chain.
pub struct Chain {
    chain_id: u64,
    store: Arc<Store>,
    state: State,
    tree: Tree,
    committed: Arc<Snapshot>,
    executed: Option<B256>,
    history_interval_secs: u64,
    history_last_at: Option<u64>,
}

/// Runs `transactions` in a block at `context`: the block's upkeep first, then each
/// transaction's nonce and action. Returns the upkeep events and one receipt each.
fn run_block(
    state: &mut State,
    context: &BlockContext,
    transactions: &[SealedTransaction],
) -> (Vec<infrafi_core::Event>, Vec<Receipt>) {
    // Time never goes backwards: the proposer clamps timestamps to the parent's.
    let block_events = tx::begin_block(state, context).unwrap_or_default();
    let receipts = transactions
        .iter()
        .enumerate()
        .map(|(index, sealed)| {
            let outcome =
                tx::consume_nonce(state, sealed.sender, sealed.signed.nonce).and_then(|()| {
                    let transaction =
                        Transaction { sender: sealed.sender, action: sealed.action.clone() };
                    tx::apply(state, context, &transaction)
                });
            let (error, events) = match outcome {
                Ok(events) => (None, events),
                Err(error) => (Some(ReceiptError::from(error)), Vec::new()),
            };
            Receipt {
                tx_hash: sealed.hash(),
                height: context.height,
                index: index as u32,
                sender: sealed.sender,
                nonce: sealed.signed.nonce,
                action: sealed.signed.action.clone(),
                error,
                events,
            }
        })
        .collect();
    (block_events, receipts)
}

fn genesis_header(chain_id: u64, timestamp: u64, state_root: B256) -> BlockHeader {
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

fn tree_of(state: &State) -> (Tree, Vec<infrafi_store::LeafBytes>) {
    let leaves: Vec<infrafi_store::LeafBytes> = state
        .leaves()
        .into_iter()
        .filter_map(|leaf| leaf.value.map(|value| (leaf.key, value)))
        .collect();
    (Tree::from_leaves(leaves.iter().map(|(k, v)| (k, v))), leaves)
}

fn u64_meta(bytes: Option<Vec<u8>>, name: &str) -> Result<Option<u64>, ChainError> {
    bytes
        .map(|b| {
            <[u8; 8]>::try_from(b.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| ChainError::Corrupt(format!("{name} is not 8 bytes")))
        })
        .transpose()
}

impl Chain {
    /// Opens the chain in `store`: initialises it from `genesis` if empty, otherwise reloads
    /// the state of the last committed block and checks it against that block's state root.
    pub fn open(
        store: Arc<Store>,
        chain_id: u64,
        genesis: Option<&Genesis>,
    ) -> Result<Chain, ChainError> {
        match store.head()? {
            None => Chain::initialize(store, chain_id, genesis.ok_or(ChainError::GenesisMissing)?),
            Some(head) => Chain::reload(store, chain_id, head),
        }
    }

    fn initialize(
        store: Arc<Store>,
        chain_id: u64,
        genesis: &Genesis,
    ) -> Result<Chain, ChainError> {
        let state = State::from_genesis(genesis).map_err(|e| ChainError::Genesis(e.to_string()))?;
        let (tree, leaves) = tree_of(&state);
        let header = genesis_header(chain_id, genesis.timestamp, tree.root());
        let body = BlockBody { transactions: Vec::new(), block_events: Vec::new() };
        let genesis_json =
            serde_json::to_vec(genesis).map_err(|e| ChainError::Genesis(e.to_string()))?;
        let sample = history::sample(&state, 0);
        store.commit(&CommitBatch {
            height: 0,
            header: encode(&header),
            body: encode_json(&body),
            receipts: Vec::new(),
            leaves: leaves.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            meta: vec![
                ("chain_id".into(), chain_id.to_be_bytes().to_vec()),
                ("genesis".into(), genesis_json),
                ("state_format".into(), infrafi_core::STATE_FORMAT.to_be_bytes().to_vec()),
            ],
            history: Some((sample.timestamp, sample.encode())),
        })?;
        let mut chain = Chain::from_parts(store, chain_id, state, tree, header);
        chain.history_last_at = Some(sample.timestamp);
        Ok(chain)
    }

    fn reload(store: Arc<Store>, chain_id: u64, head: u64) -> Result<Chain, ChainError> {
        let stored = u64_meta(store.meta("chain_id")?, "chain_id")?
            .ok_or_else(|| ChainError::Corrupt("no chain id".into()))?;
        if stored != chain_id {
            return Err(ChainError::ChainIdMismatch { stored, configured: chain_id });
        }
        // Stores from before formats were recorded hold format 1.
        let format = u64_meta(store.meta("state_format")?, "state_format")?.unwrap_or(1);
        if format != infrafi_core::STATE_FORMAT {
            return Err(ChainError::StateFormatMismatch {
                stored: format,
                expected: infrafi_core::STATE_FORMAT,
            });
        }
        let header_bytes =
            store.header(head)?.ok_or_else(|| ChainError::Corrupt(format!("no header {head}")))?;
        let header: BlockHeader =
            decode(&header_bytes).map_err(|e| ChainError::Corrupt(format!("header: {e}")))?;
        let state =
            State::from_leaves(store.leaves()?).map_err(|e| ChainError::Corrupt(e.to_string()))?;
        let (tree, _) = tree_of(&state);
        if tree.root() != header.state_root {
            return Err(ChainError::Corrupt(format!(
                "the stored state has root {}, block {head} commits to {}",
                tree.root(),
                header.state_root
            )));
        }
        let history_last_at = store.history_latest()?.map(|(timestamp, _)| timestamp);
        let mut chain = Chain::from_parts(store, chain_id, state, tree, header);
        chain.history_last_at = history_last_at;
        Ok(chain)
    }

    fn from_parts(
        store: Arc<Store>,
        chain_id: u64,
        state: State,
        tree: Tree,
        header: BlockHeader,
    ) -> Chain {
        let committed = Arc::new(Snapshot {
            hash: header.hash(),
            header,
            state: state.clone(),
            tree: tree.clone(),
        });
        Chain {
            chain_id,
            store,
            state,
            tree,
            committed,
            executed: None,
            history_interval_secs: history::HISTORY_INTERVAL_SECS_DEFAULT,
            history_last_at: None,
        }
    }

    /// Sets the cadence of history samples, in seconds of block time (see [`history`]).
    pub fn set_history_interval(&mut self, seconds: u64) {
        assert!(seconds > 0, "the history interval must be positive");
        self.history_interval_secs = seconds;
    }

    /// The last committed block and state.
    pub fn committed(&self) -> Arc<Snapshot> {
        self.committed.clone()
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The genesis stored with the chain.
    pub fn genesis(&self) -> Result<Genesis, ChainError> {
        let bytes =
            self.store.meta("genesis")?.ok_or_else(|| ChainError::Corrupt("no genesis".into()))?;
        serde_json::from_slice(&bytes).map_err(|e| ChainError::Corrupt(format!("genesis: {e}")))
    }

    /// A proposal for the next block: at most `limit` ready transactions from `mempool`, at
    /// `timestamp` (clamped so time never goes back).
    pub fn propose(&self, mempool: &mut Mempool, timestamp: u64, limit: usize) -> Proposal {
        let state = &self.state;
        let transactions = mempool.take_ready(limit, |sender| state.ledger.nonce(sender));
        Proposal {
            height: self.committed.header.height + 1,
            timestamp: timestamp.max(self.committed.header.timestamp),
            transactions,
        }
    }

    /// Executes a proposal on the working copy. Nothing is durable or visible until
    /// [`Chain::commit`].
    pub fn execute(&mut self, proposal: Proposal) -> Result<ExecutedBlock, ChainError> {
        if self.executed.is_some() {
            return Err(ChainError::BlockPending);
        }
        let parent = &self.committed.header;
        assert_eq!(proposal.height, parent.height + 1, "a proposal must follow the head");
        assert!(proposal.timestamp >= parent.timestamp, "block time must not go back");
        let context = BlockContext { height: proposal.height, timestamp: proposal.timestamp };
        let (block_events, receipts) = run_block(&mut self.state, &context, &proposal.transactions);
        if cfg!(debug_assertions)
            && let Err(violation) = infrafi_core::invariants::check(&self.state)
        {
            panic!("invariant violated after block {}: {violation}", proposal.height);
        }
        let leaves: Vec<(Vec<u8>, Option<Vec<u8>>)> =
            self.state.take_changed_leaves().into_iter().map(|l| (l.key, l.value)).collect();
        self.tree.apply(leaves.iter().map(|(k, v)| (k, v.as_ref())));
        let header = BlockHeader {
            chain_id: self.chain_id,
            height: proposal.height,
            timestamp: proposal.timestamp,
            parent_hash: self.committed.hash,
            transactions_root: indexed_root(proposal.transactions.iter().map(|t| t.hash())),
            receipts_root: indexed_root(receipts.iter().map(Receipt::hash)),
            state_root: self.tree.root(),
            transaction_count: proposal.transactions.len() as u32,
        };
        let hash = header.hash();
        self.executed = Some(hash);
        let history =
            history::is_due(self.history_last_at, proposal.timestamp, self.history_interval_secs)
                .then(|| history::sample(&self.state, proposal.height));
        let transactions =
            proposal.transactions.into_iter().map(|t| t.into_inner().signed).collect();
        Ok(ExecutedBlock {
            header,
            hash,
            body: BlockBody { transactions, block_events },
            receipts,
            leaves,
            history,
        })
    }

    /// Whether `header` is already committed here: a block redelivered at or below the head
    /// is acknowledged with this, never applied again.
    pub fn is_committed(&self, header: &BlockHeader) -> Result<bool, ChainError> {
        if header.height > self.committed.header.height {
            return Ok(false);
        }
        match self.store.header(header.height)? {
            Some(bytes) => Ok(decode::<BlockHeader>(&bytes)
                .map_err(|e| ChainError::Corrupt(format!("header: {e}")))?
                == *header),
            None => Ok(false),
        }
    }

    /// Re-executes a block made elsewhere (a validator's check): verifies its signatures in
    /// parallel, executes it, and compares the header. On a mismatch the block is aborted.
    pub fn execute_block(
        &mut self,
        header: &BlockHeader,
        body: &BlockBody,
    ) -> Result<ExecutedBlock, ChainError> {
        let head = self.committed.header.height;
        if header.height != head + 1 {
            return Err(ChainError::HeightNotNext { head, got: header.height });
        }
        let mut transactions = Vec::with_capacity(body.transactions.len());
        for (index, result) in
            verify_batch(body.transactions.clone(), self.chain_id).into_iter().enumerate()
        {
            transactions.push(
                result
                    .map_err(|e| ChainError::TransactionInvalid { index, reason: e.to_string() })?,
            );
        }
        let proposal =
            Proposal { height: header.height, timestamp: header.timestamp, transactions };
        let executed = self.execute(proposal)?;
        if executed.header != *header {
            self.abort();
            return Err(ChainError::HeaderMismatch {
                computed: Box::new(executed.header),
                claimed: Box::new(header.clone()),
            });
        }
        Ok(executed)
    }

    /// Drops the executed block: the working copy goes back to the committed snapshot.
    pub fn abort(&mut self) {
        self.state = self.committed.state.clone();
        self.tree = self.committed.tree.clone();
        self.executed = None;
    }

    /// Makes the executed block durable, then visible; returns the new snapshot.
    pub fn commit(&mut self, block: ExecutedBlock) -> Result<Arc<Snapshot>, ChainError> {
        if self.executed != Some(block.hash) {
            return Err(ChainError::BlockNotExecuted);
        }
        let batch = CommitBatch {
            height: block.header.height,
            header: encode(&block.header),
            body: encode_json(&block.body),
            receipts: block.receipts.iter().map(|r| (r.tx_hash.0, encode_json(r))).collect(),
            leaves: block.leaves,
            meta: Vec::new(),
            history: block.history.as_ref().map(|sample| (sample.timestamp, sample.encode())),
        };
        if let Err(error) = self.store.commit(&batch) {
            self.abort();
            return Err(error.into());
        }
        self.executed = None;
        if let Some(sample) = &block.history {
            self.history_last_at = Some(sample.timestamp);
        }
        self.committed = Arc::new(Snapshot {
            hash: block.hash,
            header: block.header,
            state: self.state.clone(),
            tree: self.tree.clone(),
        });
        Ok(self.committed.clone())
    }
}

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
    let memory = tempdir_store()?;
    let mut chain = Chain::initialize(memory.1, chain_id, &genesis)?;
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
        let executed = chain.execute_block(&header, &body)?;
        chain.commit(executed)?;
    }
    drop(memory.0);
    Ok((head, chain.committed.header.state_root))
}

/// A throwaway store for replays.
fn tempdir_store() -> Result<(TempDir, Arc<Store>), ChainError> {
    let dir = TempDir::new()?;
    let store = Arc::new(Store::open(&dir.0)?);
    Ok((dir, store))
}

/// A directory removed on drop (replays only; avoids a dependency for one use).
struct TempDir(std::path::PathBuf);

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
