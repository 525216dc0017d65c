//! The block executor: propose, execute, commit.
//!
//! [`Chain`] owns the committed snapshot (what readers see) and the store. A block executes on
//! a [`Parent`]: the committed snapshot, or a block executed before it and not yet committed.
//! Execution never changes the parent: it works on a copy of the parent's state and Merkle
//! tree, and the [`ExecutedBlock`] it returns carries the state after it (the overlay a
//! consensus engine caches under the block's hash). The calls are:
//! - [`Chain::propose`] picks ready transactions from the mempool and fixes the timestamp
//!   (the single-node sequencer's proposal);
//! - [`Chain::execute`] / [`Chain::execute_after`] run a proposal and return the header with
//!   the post-execution state root, the receipts and the changed leaves; nothing is durable or
//!   visible yet;
//! - [`Chain::execute_block`] re-executes a block made elsewhere and checks its header (a
//!   validator's verification, a replay);
//! - [`Chain::commit`] writes a block that follows the committed head in one durable store
//!   transaction (with its finalization certificate, in validator mode), then publishes its
//!   state as the new committed snapshot. A block that is not committed is simply dropped.
//!
//! Every executed block is checked against the cheap SPEC 14 invariants
//! (`infrafi_core::invariants::check_block`) in every build, and against the full set in debug
//! builds: a block after which one fails is never committed ([`ChainError::InvariantViolated`]),
//! and a validator refuses to verify it.
//!
//! The single-node sequencer (`producer.rs`) calls propose, execute and commit every tick; the
//! validator mode (`replica.rs`) executes proposals and verifications on parents cached by hash
//! and commits only finalized blocks.
//!
//! `error`, `genesis` and `replay` hold the chain's errors and broken invariants, the genesis
//! block and the store's metadata, and the audit replay.

mod error;
mod genesis;
mod replay;

use crate::block::{
    BlockBody, BlockHeader, Receipt, ReceiptError, decode, encode, encode_json, indexed_root,
};
use crate::{genesis_history::GenesisHistory, history, mempool::Mempool};
use alloy_primitives::{Address, B256, keccak256};
pub use error::{BrokenInvariant, ChainError};
use genesis::{chain_meta, genesis_header, genesis_state, u64_meta};
pub use genesis::{genesis_block, genesis_block_with_history, tree_of};
use infrafi_core::{BlockContext, Genesis, State, Transaction, tx};
use infrafi_merkle::Tree;
use infrafi_store::{CommitBatch, Store};
use infrafi_tx::{SealedTransaction, SignedTransaction, verify_batch};
pub use replay::replay_from_genesis;
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

/// A leaf a block changed: its key and its new value, or `None` when removed.
pub type ChangedLeaf = (Vec<u8>, Option<Vec<u8>>);

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
    /// The leaves the block changed (leaf key, new value or `None` when removed), when known:
    /// given them, a copy of the parent's state becomes this one at the block's cost
    /// (`State::apply_leaves`). `None` for a state loaded or built whole (genesis, a restart,
    /// a state sync).
    pub changed_leaves: Option<Vec<ChangedLeaf>>,
}

impl Snapshot {
    /// This block as the parent of the next one.
    pub fn as_parent(&self) -> Parent<'_> {
        Parent {
            header: &self.header,
            hash: self.hash,
            state: &self.state,
            tree: &self.tree,
            changed_leaves: self.changed_leaves.as_deref(),
        }
    }
}

/// The block a new block executes on: its header and hash, and the state (with its tree)
/// after it. Either the committed snapshot or an executed, uncommitted block.
#[derive(Clone, Copy, Debug)]
pub struct Parent<'a> {
    /// The parent's header.
    pub header: &'a BlockHeader,
    /// Its hash.
    pub hash: B256,
    /// The state after it.
    pub state: &'a State,
    /// That state's Merkle tree.
    pub tree: &'a Tree,
    /// The leaves the parent block changed, when known (see [`Snapshot::changed_leaves`]).
    pub changed_leaves: Option<&'a [ChangedLeaf]>,
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

/// An executed block, not yet committed, with the state after it.
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
    /// Each receipt's stored encoding, as hashed into the receipts root (encoded once).
    receipt_bytes: Vec<Vec<u8>>,
    /// The leaves it changed.
    leaves: Vec<ChangedLeaf>,
    /// The invariant the state after it breaks, if any: such a block is never committed.
    violation: Option<BrokenInvariant>,
    /// The state after it.
    state: State,
    /// That state's Merkle tree.
    tree: Tree,
    /// Where its execution's time went.
    timings: ExecutionTimings,
}

/// Where a block's execution spent its (wall-clock) time: for operators and benchmarks, never
/// part of the block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecutionTimings {
    /// A block from elsewhere: checking the signatures not already checked at admission here.
    pub verify: Duration,
    /// How many signatures that was.
    pub signatures_checked: u64,
    /// Getting a state equal to the parent's for the block to change: the state one block
    /// behind brought forward by the leaves changed since, or a whole copy (`state_copied`).
    pub copy: Duration,
    /// Whether the parent's state was copied whole (no state one block behind was free).
    pub state_copied: bool,
    /// Running the block's upkeep and its transactions.
    pub transactions: Duration,
    /// Checking the state after it against the invariants.
    pub invariants: Duration,
    /// Collecting the changed leaves, updating the Merkle tree and computing the state root.
    pub state_root: Duration,
    /// The transactions and receipts roots and the header's hash.
    pub header: Duration,
}

impl ExecutedBlock {
    /// Where its execution's time went.
    pub fn timings(&self) -> ExecutionTimings {
        self.timings
    }

    /// This block as the parent of the next one (a block built on an uncommitted one).
    pub fn as_parent(&self) -> Parent<'_> {
        Parent {
            header: &self.header,
            hash: self.hash,
            state: &self.state,
            tree: &self.tree,
            changed_leaves: Some(&self.leaves),
        }
    }

    /// The state after the block.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// `Err(InvariantViolated)` when the state after the block breaks an invariant.
    pub fn check_invariants(&self) -> Result<(), ChainError> {
        match &self.violation {
            None => Ok(()),
            Some(broken) => Err(ChainError::InvariantViolated(broken.clone())),
        }
    }
}

/// The seam a consensus engine drives (SPEC 16): blocks execute on a parent (the committed
/// head or an executed, uncommitted block) into an [`ExecutedBlock`] that carries the state
/// after it, and only a block that follows the committed head is committed.
///
/// # Invariants
/// - Nothing is durable or visible to readers before `commit` returns.
/// - Executing never changes the parent or the committed snapshot.
/// - `execute_block` returns a block whose header equals the given one, or an error.
pub trait BlockExecutor {
    /// The committed head.
    fn committed(&self) -> Arc<Snapshot>;
    /// Executes a proposal on `parent` (the proposer's path).
    fn execute_after(&self, parent: Parent<'_>, proposal: Proposal) -> ExecutedBlock;
    /// Re-executes a block from elsewhere on `parent` and checks its header (the validator's
    /// path).
    fn execute_block(
        &self,
        parent: Parent<'_>,
        header: &BlockHeader,
        transactions: &[SignedTransaction],
    ) -> Result<ExecutedBlock, ChainError>;
    /// Makes a block that follows the committed head durable (with its finalization
    /// certificate, if any), then visible.
    fn commit(
        &mut self,
        block: ExecutedBlock,
        certificate: Option<Vec<u8>>,
    ) -> Result<Arc<Snapshot>, ChainError>;
    /// Whether a block is already committed (a redelivery).
    fn is_committed(&self, header: &BlockHeader) -> Result<bool, ChainError>;
}

impl BlockExecutor for Chain {
    fn committed(&self) -> Arc<Snapshot> {
        Chain::committed(self)
    }

    fn execute_after(&self, parent: Parent<'_>, proposal: Proposal) -> ExecutedBlock {
        Chain::execute_after(self, parent, proposal)
    }

    fn execute_block(
        &self,
        parent: Parent<'_>,
        header: &BlockHeader,
        transactions: &[SignedTransaction],
    ) -> Result<ExecutedBlock, ChainError> {
        Chain::execute_block(self, parent, header, transactions)
    }

    fn commit(
        &mut self,
        block: ExecutedBlock,
        certificate: Option<Vec<u8>>,
    ) -> Result<Arc<Snapshot>, ChainError> {
        Chain::commit(self, block, certificate)
    }

    fn is_committed(&self, header: &BlockHeader) -> Result<bool, ChainError> {
        Chain::is_committed(self, header)
    }
}

/// The executor over one chain.
///
/// A block runs on a state of its own, never on one a reader may hold. Rather than copy the
/// parent's state whole (a cost that grows with the state), the chain keeps the snapshot
/// before the committed head (`previous`); once no reader holds it any more, it becomes the
/// next block's state, brought to the parent by the leaves changed since (`State::apply_leaves`:
/// the committed head's, and an unfinalized parent's on top when the block follows one). A
/// start has no state one block behind, so the chain copies the state it starts on in a thread
/// of its own as soon as it has it (`spare`), while the node starts serving: the first block
/// takes that copy rather than copying the state on its own path (~300 ms at a million
/// accounts). A whole copy in the block remains the fallback: a reader still holds the
/// snapshot, a block on a deeper or competing fork. Debug builds check that the state so made
/// equals the parent's.
pub struct Chain {
    chain_id: u64,
    store: Arc<Store>,
    committed: Arc<Snapshot>,
    /// The snapshot committed before `committed` (see above).
    previous: Mutex<Option<Arc<Snapshot>>>,
    /// A copy of the state the chain started on, being made beside it: the hash of its block
    /// and the thread making it (see above); taken by the first block.
    spare: Mutex<Option<(B256, std::thread::JoinHandle<State>)>>,
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
    // Time never goes backwards: the proposer clamps timestamps to the parent's, and a
    // validator refuses a block older than its parent before executing it.
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
        Chain::initialize_with_history(store, chain_id, genesis, &GenesisHistory::default())
    }

    /// Initialises an empty store from `genesis` and its `history` (see [`GenesisHistory`]):
    /// the genesis block commits to the state after the history, at the last action's time, and
    /// the history is kept beside the genesis so the store can still be replayed from it.
    pub fn initialize_with_history(
        store: Arc<Store>,
        chain_id: u64,
        genesis: &Genesis,
        genesis_history: &GenesisHistory,
    ) -> Result<Chain, ChainError> {
        if store.head()?.is_some() {
            return Err(ChainError::Corrupt("the data directory already holds a chain".into()));
        }
        let (state, tree, leaves) = genesis_state(genesis, genesis_history)?;
        let header = genesis_header(chain_id, state.now(), tree.root());
        let body = BlockBody { transactions: Vec::new(), block_events: Vec::new() };
        let sample = history::sample(&state, 0);
        store.commit(&CommitBatch {
            height: 0,
            header: encode(&header),
            body: encode_json(&body),
            receipts: Vec::new(),
            leaves: leaves.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            meta: {
                let mut meta = chain_meta(chain_id, genesis)?;
                if !genesis_history.is_empty() {
                    let json = serde_json::to_vec(genesis_history)
                        .map_err(|e| ChainError::Genesis(e.to_string()))?;
                    meta.push(("genesis_history".into(), json));
                }
                meta
            },
            history: Some((sample.timestamp, sample.encode())),
            certificate: None,
        })?;
        let mut chain = Chain::from_parts(store, chain_id, state, tree, header);
        chain.history_last_at = Some(sample.timestamp);
        Ok(chain)
    }

    /// Starts an empty store from a state at a finalized block instead of from genesis (state
    /// sync): the caller has checked `header` against a quorum's certificate; this checks the
    /// state against `header.state_root`, then writes the header, the state's leaves and the
    /// chain's metadata in one durable transaction. Blocks below `header.height` are not in the
    /// store (they stay with the peers), so such a store cannot be replayed from genesis.
    pub fn initialize_from_state(
        store: Arc<Store>,
        chain_id: u64,
        genesis: &Genesis,
        header: BlockHeader,
        mut state: State,
        certificate: Option<Vec<u8>>,
    ) -> Result<Chain, ChainError> {
        if store.head()?.is_some() {
            return Err(ChainError::Corrupt(
                "a state snapshot can only start an empty data directory".into(),
            ));
        }
        if header.chain_id != chain_id {
            return Err(ChainError::ChainIdMismatch {
                stored: header.chain_id,
                configured: chain_id,
            });
        }
        let (tree, leaves) = tree_of(&mut state);
        if tree.root() != header.state_root {
            return Err(ChainError::Corrupt(format!(
                "the state has root {}, block {} commits to {}",
                tree.root(),
                header.height,
                header.state_root
            )));
        }
        let body = BlockBody { transactions: Vec::new(), block_events: Vec::new() };
        let mut meta = chain_meta(chain_id, genesis)?;
        meta.push(("floor".into(), header.height.to_be_bytes().to_vec()));
        let sample = history::sample(&state, header.height);
        store.initialize_at(&CommitBatch {
            height: header.height,
            header: encode(&header),
            body: encode_json(&body),
            receipts: Vec::new(),
            leaves: leaves.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            meta,
            history: Some((sample.timestamp, sample.encode())),
            certificate,
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
        // Stores from before the signing version was recorded hold version-1 signatures.
        let signing = store.meta("signing_version")?.unwrap_or_else(|| b"1".to_vec());
        if signing != infrafi_tx::DOMAIN_VERSION.as_bytes() {
            return Err(ChainError::SigningVersionMismatch {
                stored: String::from_utf8_lossy(&signing).into_owned(),
                expected: infrafi_tx::DOMAIN_VERSION,
            });
        }
        let header_bytes =
            store.header(head)?.ok_or_else(|| ChainError::Corrupt(format!("no header {head}")))?;
        let header: BlockHeader =
            decode(&header_bytes).map_err(|e| ChainError::Corrupt(format!("header: {e}")))?;
        let mut state =
            State::from_leaves(store.leaves()?).map_err(|e| ChainError::Corrupt(e.to_string()))?;
        let (tree, _) = tree_of(&mut state);
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
        let committed =
            Arc::new(Snapshot { hash: header.hash(), header, state, tree, changed_leaves: None });
        let spare = {
            let snapshot = committed.clone();
            let hash = snapshot.hash;
            // Without a thread the first block copies the state itself, as before.
            std::thread::Builder::new()
                .name("state-copy".into())
                .spawn(move || snapshot.state.clone())
                .ok()
                .map(|copying| (hash, copying))
        };
        Chain {
            chain_id,
            store,
            committed,
            previous: Mutex::new(None),
            spare: Mutex::new(spare),
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

    /// A proposal for the block after the committed head: at most `limit` ready transactions
    /// taken from `mempool`, at `timestamp` (clamped so time never goes back).
    pub fn propose(&self, mempool: &mut Mempool, timestamp: u64, limit: usize) -> Proposal {
        let state = &self.committed.state;
        let transactions = mempool.take_ready(limit, |sender| state.ledger.nonce(sender));
        Proposal {
            height: self.committed.header.height + 1,
            timestamp: timestamp.max(self.committed.header.timestamp),
            transactions,
        }
    }

    /// Executes a proposal on the committed head. Nothing is durable or visible until
    /// [`Chain::commit`].
    pub fn execute(&self, proposal: Proposal) -> ExecutedBlock {
        let committed = self.committed.clone();
        self.execute_after(committed.as_parent(), proposal)
    }

    /// A state equal to `parent`'s that a block may change (see [`Chain`]), and whether it is
    /// a whole copy.
    fn working_state(&self, parent: Parent<'_>) -> (State, bool) {
        match self.bring_previous_forward(parent).or_else(|| self.take_spare(parent)) {
            Some(state) => {
                #[cfg(debug_assertions)]
                assert!(
                    state == *parent.state,
                    "the state brought forward to block {} differs from it",
                    parent.header.height
                );
                (state, false)
            }
            None => (parent.state.clone(), true),
        }
    }

    /// The copy of the state the chain started on, if `parent` is the block it started on (the
    /// copy is dropped otherwise: no later block can use it). Waits for the copy to finish.
    fn take_spare(&self, parent: Parent<'_>) -> Option<State> {
        let (hash, copying) = self.spare.lock().unwrap_or_else(PoisonError::into_inner).take()?;
        if hash != parent.hash {
            return None;
        }
        copying.join().ok()
    }

    /// The snapshot before the committed head, if no reader holds it, brought to `parent` (the
    /// committed head, or an executed block right after it) by the leaves changed since.
    fn bring_previous_forward(&self, parent: Parent<'_>) -> Option<State> {
        let committed = &self.committed;
        let head_changes = committed.changed_leaves.as_deref()?;
        let changes: &[&[ChangedLeaf]] = if parent.hash == committed.hash {
            &[head_changes]
        } else if parent.header.parent_hash == committed.hash {
            &[head_changes, parent.changed_leaves?]
        } else {
            return None;
        };
        let previous = self.previous.lock().unwrap_or_else(PoisonError::into_inner).take()?;
        if previous.hash != committed.header.parent_hash {
            return None;
        }
        let mut state = Arc::try_unwrap(previous).ok()?.state;
        for leaves in changes {
            state
                .apply_leaves(leaves.iter().map(|(key, value)| (key.as_slice(), value.as_deref())))
                .ok()?;
        }
        Some(state)
    }

    /// Executes a proposal on `parent`, on a state of its own equal to the parent's.
    pub fn execute_after(&self, parent: Parent<'_>, proposal: Proposal) -> ExecutedBlock {
        assert_eq!(proposal.height, parent.header.height + 1, "a proposal must follow its parent");
        assert!(proposal.timestamp >= parent.header.timestamp, "block time must not go back");
        let started = Instant::now();
        let (mut state, state_copied) = self.working_state(parent);
        let mut tree = parent.tree.clone();
        let copied = Instant::now();
        let context = BlockContext { height: proposal.height, timestamp: proposal.timestamp };
        let (block_events, receipts) = run_block(&mut state, &context, &proposal.transactions);
        let ran = Instant::now();
        let violation = BrokenInvariant::find(&state, proposal.height);
        let checked = Instant::now();
        if let Some(broken) = &violation {
            tracing::error!(
                height = broken.height,
                invariant = %broken.invariant,
                detail = %broken.detail,
                "an executed block breaks an invariant"
            );
        }
        let leaves: Vec<ChangedLeaf> =
            state.take_changed_leaves().into_iter().map(|l| (l.key, l.value)).collect();
        tree.apply(leaves.iter().map(|(k, v)| (k, v.as_ref())));
        let state_root = tree.root();
        let rooted = Instant::now();
        // A receipt's hash is that of its stored encoding: encode once, keep the bytes for the
        // commit.
        let receipt_bytes: Vec<Vec<u8>> = receipts.iter().map(encode_json).collect();
        let header = BlockHeader {
            chain_id: self.chain_id,
            height: proposal.height,
            timestamp: proposal.timestamp,
            parent_hash: parent.hash,
            transactions_root: indexed_root(proposal.transactions.iter().map(|t| t.hash())),
            receipts_root: indexed_root(receipt_bytes.iter().map(keccak256)),
            state_root,
            transaction_count: proposal.transactions.len() as u32,
        };
        let hash = header.hash();
        let timings = ExecutionTimings {
            verify: Duration::ZERO,
            signatures_checked: 0,
            copy: copied - started,
            state_copied,
            transactions: ran - copied,
            invariants: checked - ran,
            state_root: rooted - checked,
            header: rooted.elapsed(),
        };
        let transactions =
            proposal.transactions.into_iter().map(|t| t.into_inner().signed).collect();
        ExecutedBlock {
            header,
            hash,
            body: BlockBody { transactions, block_events },
            receipts,
            receipt_bytes,
            leaves,
            violation,
            state,
            tree,
            timings,
        }
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

    /// Re-executes a block made elsewhere on `parent` (a validator's check, a replay): checks
    /// its height and time against the parent, verifies its signatures in parallel, checks
    /// that every transaction carries its sender's next nonce (a block that replays a used
    /// nonce would overwrite that transaction's receipt), executes it and compares the header.
    pub fn execute_block(
        &self,
        parent: Parent<'_>,
        header: &BlockHeader,
        transactions: &[SignedTransaction],
    ) -> Result<ExecutedBlock, ChainError> {
        self.execute_block_with(parent, header, transactions, |_| None)
    }

    /// [`Chain::execute_block`] reusing earlier checks: `checked_before` gives a transaction
    /// already verified here (at admission, for a validator: its mempool), whose signature is
    /// then not recovered again. It must only ever return a transaction equal to the one asked
    /// about, verified for this chain: verification depends on nothing else, so the block
    /// executes exactly as if every signature were checked now.
    pub fn execute_block_with(
        &self,
        parent: Parent<'_>,
        header: &BlockHeader,
        transactions: &[SignedTransaction],
        checked_before: impl Fn(&SignedTransaction) -> Option<SealedTransaction>,
    ) -> Result<ExecutedBlock, ChainError> {
        let head = parent.header.height;
        if header.height != head + 1 {
            return Err(ChainError::HeightNotNext { head, got: header.height });
        }
        if header.timestamp < parent.header.timestamp {
            return Err(ChainError::TimestampBeforeParent {
                timestamp: header.timestamp,
                parent: parent.header.timestamp,
            });
        }
        let verifying = Instant::now();
        let known: Vec<Option<SealedTransaction>> = transactions
            .iter()
            .map(|tx| checked_before(tx).filter(|sealed| sealed.signed == *tx))
            .collect();
        let unknown: Vec<SignedTransaction> = transactions
            .iter()
            .zip(&known)
            .filter(|(_, known)| known.is_none())
            .map(|(tx, _)| tx.clone())
            .collect();
        let signatures_checked = unknown.len() as u64;
        let mut checked_now = verify_batch(unknown, self.chain_id).into_iter();
        let mut verified = Vec::with_capacity(transactions.len());
        for (index, known) in known.into_iter().enumerate() {
            let result = match known {
                Some(sealed) => Ok(sealed),
                None => checked_now.next().expect("one check per transaction not known"),
            };
            verified.push(
                result
                    .map_err(|e| ChainError::TransactionInvalid { index, reason: e.to_string() })?,
            );
        }
        let verify = verifying.elapsed();
        let mut next_nonces: BTreeMap<Address, u64> = BTreeMap::new();
        for (index, sealed) in verified.iter().enumerate() {
            let next = next_nonces
                .entry(sealed.sender)
                .or_insert_with(|| parent.state.ledger.nonce(sealed.sender));
            if sealed.signed.nonce != *next {
                let error = infrafi_core::ledger::LedgerError::NonceMismatch.into();
                return Err(ChainError::TransactionRefused { index, error });
            }
            *next += 1;
        }
        let proposal =
            Proposal { height: header.height, timestamp: header.timestamp, transactions: verified };
        let mut executed = self.execute_after(parent, proposal);
        executed.timings.verify = verify;
        executed.timings.signatures_checked = signatures_checked;
        if executed.header != *header {
            return Err(ChainError::HeaderMismatch {
                computed: Box::new(executed.header),
                claimed: Box::new(header.clone()),
            });
        }
        executed.check_invariants()?;
        Ok(executed)
    }

    /// Makes a block that follows the committed head durable, with its finalization
    /// certificate when there is one, then visible; returns the new snapshot. A block whose
    /// state breaks an invariant is refused (`InvariantViolated`) and nothing is written.
    pub fn commit(
        &mut self,
        block: ExecutedBlock,
        certificate: Option<Vec<u8>>,
    ) -> Result<Arc<Snapshot>, ChainError> {
        block.check_invariants()?;
        if block.header.parent_hash != self.committed.hash {
            return Err(ChainError::ParentNotHead {
                height: block.header.height,
                parent: block.header.parent_hash,
                head: self.committed.hash,
            });
        }
        // The sample is taken of the committed state only (a block executed on a fork that is
        // never committed leaves no sample), in the block's own write.
        let history = history::is_due(
            self.history_last_at,
            block.header.timestamp,
            self.history_interval_secs,
        )
        .then(|| history::sample(&block.state, block.header.height));
        let mut batch = CommitBatch {
            height: block.header.height,
            header: encode(&block.header),
            body: encode_json(&block.body),
            receipts: block
                .receipts
                .iter()
                .zip(block.receipt_bytes)
                .map(|(receipt, bytes)| (receipt.tx_hash.0, bytes))
                .collect(),
            leaves: block.leaves,
            meta: Vec::new(),
            history: history.as_ref().map(|sample| (sample.timestamp, sample.encode())),
            certificate,
        };
        self.store.commit(&batch)?;
        if let Some(sample) = &history {
            self.history_last_at = Some(sample.timestamp);
        }
        let head = Arc::new(Snapshot {
            hash: block.hash,
            header: block.header,
            state: block.state,
            tree: block.tree,
            changed_leaves: Some(std::mem::take(&mut batch.leaves)),
        });
        let previous = std::mem::replace(&mut self.committed, head);
        *self.previous.get_mut().unwrap_or_else(PoisonError::into_inner) = Some(previous);
        Ok(self.committed.clone())
    }
}
