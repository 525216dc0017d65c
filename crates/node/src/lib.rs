//! infrafi-node: a bounded mempool, the executor ([`chain::Chain`]: propose, execute, commit),
//! a durable store, a Merkle state commitment, an event feed, and an optional built-in keeper,
//! driven by one of two sequencers:
//! - single node ([`Node::start`], the default): a block producer on its own OS thread
//!   proposes, executes and commits a block every `block_time`;
//! - validator ([`Node::start_replica`]): a consensus engine drives a [`Replica`] (propose and
//!   verify on parents cached by hash, commit only finalized blocks); the engine lives in the
//!   `infrafi-validator` crate, which holds every consensus type, so this crate knows none.
//!
//! Either way API handlers call [`Node::submit`] (stateless check, then mempool admission) and
//! read the committed [`Snapshot`], an `Arc` swapped after each durable commit, so reads never
//! wait for a block and never see a half-applied one.
//!
//! The single node's producer loop is in `producer`.

pub mod admission;
pub mod block;
pub mod chain;
pub mod genesis_history;
pub mod health;
pub mod history;
pub mod journal;
pub mod keeper;
pub mod mempool;
mod producer;
mod replica;
pub mod timings;
mod turns;

pub use admission::AdmitError;
use alloy_primitives::{Address, B256};
pub use block::{BlockBody, BlockHeader, Receipt, ReceiptError};
pub use chain::{
    BlockExecutor, BrokenInvariant, Chain, ChainError, ExecutedBlock, Parent, Proposal, Snapshot,
    genesis_block, genesis_block_with_history, replay_from_genesis,
};
pub use genesis_history::{GenesisHistory, HistoryAction};
use infrafi_core::{Action, BlockContext, Event, Genesis, State, Transaction, TxError};
use infrafi_store::{Store, StoreError};
use infrafi_tx::{CheckError, SealedTransaction, SignedTransaction, SigningKey, verify_batch};
pub use mempool::Mempool;
use producer::{
    block_events, fold_leaves, included, mark_committing, produce, publish, record_block,
};
use rayon::iter::{IntoParallelIterator, ParallelIterator};
pub use replica::{
    CERTIFIED_PENDING_MAX, ConsensusStatus, Finalized, PENDING_BLOCKS_MAX, PeerStatus, Replica,
    ReplicaError,
};
use serde::Serialize;
use std::{
    collections::{HashSet, VecDeque},
    path::PathBuf,
    sync::{
        Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
pub use timings::{AdmissionTimings, BlockTimings, Timings};
use tokio::sync::{broadcast, watch};

/// The default block time.
pub const BLOCK_TIME_DEFAULT: Duration = Duration::from_secs(1);
/// The default mempool capacity.
pub const MEMPOOL_TXS_MAX_DEFAULT: usize = 100_000;
/// The default largest block.
pub const BLOCK_TXS_MAX_DEFAULT: usize = 20_000;
/// Committed blocks the event feed buffers for slow subscribers.
pub const EVENT_FEED_BLOCKS_MAX: usize = 1_024;
/// Validator mode: transactions admitted here and waiting to be forwarded to the other
/// validators (so that whoever leads the next view can include them).
pub const OUTBOX_TXS_MAX: usize = 100_000;
/// The newest blocks committed here whose transaction hashes are kept in memory (at most
/// this many times `block_txs_max` hashes: 10 MiB with the default): see
/// [`Node::block_transaction_hashes`].
pub const RECENT_BLOCK_HASHES_MAX: usize = 16;

/// How a node runs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The chain id (EIP-712 domain).
    pub chain_id: u64,
    /// Where the store lives.
    pub data_dir: PathBuf,
    /// Time between blocks.
    pub block_time: Duration,
    /// The mempool's capacity.
    pub mempool_txs_max: usize,
    /// The most transactions in one block.
    pub block_txs_max: usize,
    /// The keeper's key, if the built-in keeper runs.
    pub keeper: Option<SigningKey>,
    /// Whether devnet-only controls (moving time forward) are allowed.
    pub devnet: bool,
    /// The cadence of history samples, in seconds of block time.
    pub history_interval_secs: u64,
    /// The most bytes of store pages kept in memory (the store's page cache).
    pub store_cache_bytes: usize,
}

impl NodeConfig {
    /// A configuration with the defaults for `chain_id` and `data_dir`.
    pub fn new(chain_id: u64, data_dir: PathBuf) -> NodeConfig {
        NodeConfig {
            chain_id,
            data_dir,
            block_time: BLOCK_TIME_DEFAULT,
            mempool_txs_max: MEMPOOL_TXS_MAX_DEFAULT,
            block_txs_max: BLOCK_TXS_MAX_DEFAULT,
            keeper: None,
            devnet: false,
            history_interval_secs: history::HISTORY_INTERVAL_SECS_DEFAULT,
            store_cache_bytes: infrafi_store::CACHE_BYTES_DEFAULT,
        }
    }
}

/// Why a transaction is not accepted. Codes are stable API codes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// It fails its stateless check.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// The mempool refuses it.
    #[error(transparent)]
    Admit(#[from] AdmitError),
    /// The node is stopping or has stopped after a fatal error.
    #[error("the node is not running")]
    NotRunning,
    /// It was admitted but could not be stored durably, so it is not acknowledged (it may
    /// still be included; look it up before sending it again).
    #[error("the transaction could not be stored durably: {0}")]
    NotDurable(String),
}

impl SubmitError {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            SubmitError::Check(e) => e.code(),
            SubmitError::Admit(e) => e.code(),
            SubmitError::NotRunning => "node_not_running",
            SubmitError::NotDurable(_) => "mempool_not_durable",
        }
    }
}

/// Why the node cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The store cannot be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chain cannot be opened.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The producer thread cannot be spawned.
    #[error("spawning the block producer: {0}")]
    Thread(std::io::Error),
}

/// One event of a committed block, as the feed publishes it.
#[derive(Clone, Debug, Serialize)]
pub struct FeedEvent {
    /// The block height.
    pub height: u64,
    /// The block timestamp.
    pub timestamp: u64,
    /// The transaction that caused it; `None` for block upkeep.
    pub tx_hash: Option<B256>,
    /// That transaction's sender.
    pub sender: Option<Address>,
    /// The event.
    pub event: Event,
}

/// The events of one committed block.
#[derive(Clone, Debug)]
pub struct BlockEvents {
    /// The block height.
    pub height: u64,
    /// Its events in order.
    pub events: Vec<FeedEvent>,
}

/// A committed block with its finalization certificate (validator mode): what proofs are
/// served against, so a client can check the state root against the quorum's signatures.
#[derive(Clone, Debug)]
pub struct Certified {
    /// The block and the state after it.
    pub snapshot: Arc<Snapshot>,
    /// The block's finalization certificate (the consensus adapter's encoding).
    pub certificate: Vec<u8>,
}

impl Shared {
    /// The timestamp a block made now would carry: the wall clock plus a devnet's offset.
    fn block_time_now(&self) -> u64 {
        let clock = self.clock.read().unwrap_or_else(PoisonError::into_inner).clone();
        let now = clock.map_or_else(unix_now, |clock| clock());
        now + self.time_offset_secs.load(Ordering::Acquire)
    }
}

struct Shared {
    config: NodeConfig,
    store: Arc<Store>,
    snapshot: RwLock<Arc<Snapshot>>,
    mempool: Mutex<Mempool>,
    /// Held by a block while it wants or holds the mempool ([`lock_pool_for_block`]):
    /// admission batches pass through it before taking the pool, and give the pool up between
    /// two transactions while `pool_wanted` is set, so a block waits for one transaction's
    /// admission, not for every batch queued on the lock.
    pool_gate: Mutex<()>,
    /// Whether a block is waiting for the mempool (see `pool_gate`).
    pool_wanted: AtomicBool,
    feed: broadcast::Sender<Arc<BlockEvents>>,
    height: watch::Sender<u64>,
    time_offset_secs: AtomicU64,
    running: AtomicBool,
    /// When the last block was committed (the start, before the first): for health.
    last_commit: Mutex<Instant>,
    /// Why the node stopped, after a fatal error (a failed commit): for health.
    fatal_error: Mutex<Option<String>>,
    /// The invariant a block broke, when that halted production: for health.
    broken_invariant: Mutex<Option<BrokenInvariant>>,
    wake: (Mutex<bool>, Condvar),
    /// A private copy of the committed state that dry-runs execute on and roll back; cloned
    /// again only when the head has moved (so at most once per block, and only if asked).
    scratch: Mutex<Option<(u64, State)>>,
    /// Stores acknowledged transactions before the node answers (`journal`).
    journal: journal::Journal,
    /// Batches check their signatures one at a time, in arrival order (`turns`).
    check_turns: turns::Turns,
    /// Validator mode only: the engine's view of the network, for `/v1/status`.
    consensus: RwLock<Option<ConsensusStatus>>,
    /// Validator mode only: the newest committed block whose certificate is stored.
    certified: RwLock<Option<Certified>>,
    /// Validator mode only: transactions admitted here, waiting to be forwarded to peers.
    outbox: Option<Mutex<Vec<SignedTransaction>>>,
    /// The clock block time is read from, if not the wall clock (see [`Node::set_clock`]).
    clock: RwLock<Option<BlockClock>>,
    /// Where admission's and block production's time went since start (see [`timings`]).
    timings: Mutex<Timings>,
    /// The transaction hashes of the newest blocks committed here, oldest first (at most
    /// [`RECENT_BLOCK_HASHES_MAX`]).
    recent_hashes: Mutex<VecDeque<(u64, Arc<[B256]>)>>,
}

impl Shared {
    /// Keeps the transaction hashes of block `height`, just committed, for
    /// [`Node::block_transaction_hashes`]; forgets the oldest beyond the bound.
    fn remember_hashes(&self, height: u64, hashes: &[[u8; 32]]) {
        let hashes: Arc<[B256]> = hashes.iter().copied().map(B256::from).collect();
        let mut recent = lock(&self.recent_hashes);
        recent.push_back((height, hashes));
        while recent.len() > RECENT_BLOCK_HASHES_MAX {
            recent.pop_front();
        }
    }
}

/// A clock giving unix seconds: what a validator's consensus runtime says the time is.
pub type BlockClock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// What a dry-run gives: the block it ran on top of, and the preview or the rejection.
#[derive(Debug)]
pub struct DryRun<R> {
    /// The committed height the action was applied on top of.
    pub height: u64,
    /// The time it was applied at (that block's timestamp).
    pub timestamp: u64,
    /// What `inspect` made of the state after the action, or why the action is rejected.
    pub outcome: Result<R, TxError>,
}

/// A running node. Dropping it stops the producer after the block in progress.
pub struct Node {
    shared: Arc<Shared>,
    producer: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The mempool held for block production (propose, publish, the keeper's upkeep): admission
/// stays out until it is dropped.
struct BlockPool<'a> {
    // Dropped in this order: the pool, then the gate.
    pool: MutexGuard<'a, Mempool>,
    _gate: MutexGuard<'a, ()>,
}

impl std::ops::Deref for BlockPool<'_> {
    type Target = Mempool;
    fn deref(&self) -> &Mempool {
        &self.pool
    }
}

impl std::ops::DerefMut for BlockPool<'_> {
    fn deref_mut(&mut self) -> &mut Mempool {
        &mut self.pool
    }
}

/// Takes the mempool for a block ahead of admission: closes the gate admission passes through,
/// asks the batch holding the pool to give it up after its current transaction, and waits for
/// the pool.
fn lock_pool_for_block(shared: &Shared) -> BlockPool<'_> {
    let gate = lock(&shared.pool_gate);
    shared.pool_wanted.store(true, Ordering::Release);
    let pool = lock(&shared.mempool);
    shared.pool_wanted.store(false, Ordering::Release);
    BlockPool { pool, _gate: gate }
}

/// Takes the mempool for admission: after any block that wants or holds it.
fn lock_pool_for_admission(shared: &Shared) -> MutexGuard<'_, Mempool> {
    drop(lock(&shared.pool_gate));
    lock(&shared.mempool)
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Node {
    /// Opens the data directory (initialising it from `genesis` if empty) and starts
    /// producing blocks.
    pub fn start(config: NodeConfig, genesis: Option<&Genesis>) -> Result<Node, StartError> {
        let (shared, chain) = Node::open(config, genesis, false)?;
        let producer_shared = shared.clone();
        let producer = std::thread::Builder::new()
            .name("infrafi-producer".into())
            .spawn(move || produce(producer_shared, chain))
            .map_err(StartError::Thread)?;
        Ok(Node { shared, producer: Mutex::new(Some(producer)) })
    }

    /// Opens the data directory (initialising it from `genesis` if empty) for a consensus
    /// engine to drive: no block is produced here; the engine proposes, verifies and commits
    /// finalized blocks through the returned [`Replica`].
    pub fn start_replica(
        config: NodeConfig,
        genesis: Option<&Genesis>,
    ) -> Result<(Arc<Node>, Replica), StartError> {
        let (shared, chain) = Node::open(config, genesis, true)?;
        let node = Arc::new(Node { shared: shared.clone(), producer: Mutex::new(None) });
        let replica = Replica::new(shared, chain)?;
        Ok((node, replica))
    }

    fn open(
        config: NodeConfig,
        genesis: Option<&Genesis>,
        replicated: bool,
    ) -> Result<(Arc<Shared>, Chain), StartError> {
        let store = Arc::new(Store::open_with_cache(&config.data_dir, config.store_cache_bytes)?);
        let mut chain = Chain::open(store.clone(), config.chain_id, genesis)?;
        chain.set_history_interval(config.history_interval_secs);
        let snapshot = chain.committed();
        let (feed, _) = broadcast::channel(EVENT_FEED_BLOCKS_MAX);
        let (height, _) = watch::channel(snapshot.header.height);
        // A devnet whose time was moved forward keeps its lead over the wall clock across
        // restarts; otherwise its blocks would stall at the last timestamp until the wall
        // clock caught up.
        let time_offset_secs = match config.devnet {
            true => snapshot.header.timestamp.saturating_sub(unix_now()),
            false => 0,
        };
        let keeper = config.keeper.as_ref().map(SigningKey::address);
        let mut mempool = Mempool::new(config.mempool_txs_max, snapshot.clone(), keeper);
        let now = unix_now() + time_offset_secs;
        let stored = infrafi_store::Journal::open(&config.data_dir)?;
        let kept = restore_mempool(&store, &stored, &mut mempool, config.chain_id, now)?;
        let journal = journal::Journal::start(stored, kept).map_err(StartError::Thread)?;
        let shared = Arc::new(Shared {
            mempool: Mutex::new(mempool),
            pool_gate: Mutex::new(()),
            pool_wanted: AtomicBool::new(false),
            journal,
            check_turns: turns::Turns::default(),
            config,
            store,
            snapshot: RwLock::new(snapshot),
            feed,
            height,
            time_offset_secs: AtomicU64::new(time_offset_secs),
            running: AtomicBool::new(true),
            last_commit: Mutex::new(Instant::now()),
            fatal_error: Mutex::new(None),
            broken_invariant: Mutex::new(None),
            wake: (Mutex::new(false), Condvar::new()),
            scratch: Mutex::new(None),
            consensus: RwLock::new(None),
            certified: RwLock::new(None),
            outbox: replicated.then(|| Mutex::new(Vec::new())),
            clock: RwLock::new(None),
            timings: Mutex::new(Timings::default()),
            recent_hashes: Mutex::new(VecDeque::with_capacity(RECENT_BLOCK_HASHES_MAX + 1)),
        });
        Ok((shared, chain))
    }

    /// Validator mode: reads block time from `clock` (the consensus runtime's, so that
    /// admission checks a transaction at the time the engine's blocks carry; in a simulation
    /// that is virtual time) instead of the wall clock.
    pub fn set_clock(&self, clock: BlockClock) {
        *self.shared.clock.write().unwrap_or_else(PoisonError::into_inner) = Some(clock);
    }

    /// Whether a consensus engine drives this node (validator mode).
    pub fn is_replica(&self) -> bool {
        self.shared.outbox.is_some()
    }

    /// Validator mode: the engine's view of the network.
    pub fn consensus_status(&self) -> Option<ConsensusStatus> {
        self.shared.consensus.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Validator mode: the newest committed block with a stored finalization certificate, and
    /// the state after it.
    pub fn certified(&self) -> Option<Certified> {
        self.shared.certified.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The state proofs are served against, with its block's finalization certificate: in
    /// validator mode the newest certified block (so a client checks the root against the
    /// quorum's signatures), falling back to the head without a certificate while none is
    /// stored; on a single node the committed head.
    pub fn proof_snapshot(&self) -> (Arc<Snapshot>, Option<Vec<u8>>) {
        match self.certified() {
            Some(certified) => (certified.snapshot, Some(certified.certificate)),
            None => (self.snapshot(), None),
        }
    }

    /// The finalization certificate stored with the block at `height` (validator mode).
    pub fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.shared.store.certificate(height)
    }

    /// Validator mode: replaces or updates the engine's view of the network.
    pub fn update_consensus_status(&self, update: impl FnOnce(&mut ConsensusStatus)) {
        let mut status = self.shared.consensus.write().unwrap_or_else(PoisonError::into_inner);
        update(status.get_or_insert_with(ConsensusStatus::default));
    }

    /// Validator mode: records one piece of fault evidence durably; returns its sequence number.
    pub fn record_evidence(&self, evidence: &[u8]) -> Result<u64, StoreError> {
        self.shared.store.append_evidence(evidence)
    }

    /// Evidence of faults recorded by the engine, from sequence number `from`, at most `limit`.
    pub fn evidence(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.shared.store.evidence(from, limit)
    }

    /// Validator mode: takes the transactions admitted here since the last call, for the
    /// engine to forward to the other validators.
    pub fn take_outbox(&self) -> Vec<SignedTransaction> {
        match &self.shared.outbox {
            Some(outbox) => std::mem::take(&mut *lock(outbox)),
            None => Vec::new(),
        }
    }

    /// Validator mode: admits transactions forwarded by another validator, checked exactly as
    /// a client's are (signatures across cores, then the mempool's admission rules), without
    /// forwarding them again. They are not journaled here: the validator that acknowledged
    /// them holds them durably. Returns how many were admitted.
    pub fn submit_from_peer(&self, txs: Vec<SignedTransaction>) -> usize {
        let mut unused = Vec::new();
        let checked = self.verify_all(txs);
        self.admit_all(checked, &mut unused, false).iter().filter(|result| result.is_ok()).count()
    }

    /// The configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.shared.config
    }

    /// The last committed block and state.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.snapshot.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The timestamp a block made now would carry: the wall clock plus a devnet's offset.
    pub fn block_time_now(&self) -> u64 {
        self.shared.block_time_now()
    }

    /// Whether the producer is running.
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    /// What keeps the node from being healthy, the most serious first; empty when healthy
    /// (see [`health`]).
    pub fn health(&self) -> Vec<health::HealthProblem> {
        let (waiting, capacity) = {
            let mempool = lock(&self.shared.mempool);
            (mempool.len(), mempool.capacity())
        };
        health::assess(&health::Observed {
            running: self.is_running(),
            fatal_error: lock(&self.shared.fatal_error).clone(),
            broken_invariant: lock(&self.shared.broken_invariant).clone(),
            since_commit: lock(&self.shared.last_commit).elapsed(),
            block_time: self.shared.config.block_time,
            waiting,
            capacity,
        })
    }

    /// Checks a transaction and admits it to the mempool; returns its hash.
    pub fn submit(&self, tx: SignedTransaction) -> Result<B256, SubmitError> {
        let started = Instant::now();
        let checked = tx.verify(self.shared.config.chain_id);
        self.record_verified(1, started.elapsed());
        self.admit(checked?)
    }

    /// [`Node::submit`] for many transactions, their signatures checked across all cores.
    pub fn submit_batch(&self, txs: Vec<SignedTransaction>) -> Vec<Result<B256, SubmitError>> {
        let mut entries = Vec::new();
        let checked = self.verify_all(txs);
        let mut results = self.admit_all(checked, &mut entries, true);
        if let Err(error) = self.persist(entries) {
            for result in &mut results {
                if result.is_ok() {
                    *result = Err(SubmitError::NotDurable(error.clone()));
                }
            }
        }
        results
    }

    /// Admits and stores durably: what a 202 promises (see `journal`).
    fn admit(&self, sealed: infrafi_tx::SealedTransaction) -> Result<B256, SubmitError> {
        let mut entries = Vec::new();
        let hash = self.admit_all(vec![Ok(sealed)], &mut entries, true).remove(0)?;
        self.persist(entries).map_err(SubmitError::NotDurable)?;
        Ok(hash)
    }

    /// Stores admitted transactions durably (`journal`), timed.
    fn persist(&self, entries: Vec<journal::JournalEntry>) -> Result<(), String> {
        let started = Instant::now();
        let stored = self.shared.journal.persist(entries);
        let spent = timings::micros(started.elapsed());
        let mut timings = lock(&self.shared.timings);
        timings.admission.journal_micros = timings.admission.journal_micros.saturating_add(spent);
        stored
    }

    /// Checks `txs` across all cores (as `verify_batch` does) once the batches that arrived
    /// before have been checked (`turns`), recording the checks' time: each transaction's own,
    /// summed, not the batch's wall time, which would also count its wait for its turn.
    fn verify_all(
        &self,
        txs: Vec<SignedTransaction>,
    ) -> Vec<Result<SealedTransaction, CheckError>> {
        let chain_id = self.shared.config.chain_id;
        // Across all cores, one batch at a time: see `turns`.
        let turn = self.shared.check_turns.wait();
        let timed: Vec<(Result<SealedTransaction, CheckError>, Duration)> = txs
            .into_par_iter()
            .map(|tx| {
                let started = Instant::now();
                let checked = tx.verify(chain_id);
                (checked, started.elapsed())
            })
            .collect();
        drop(turn);
        let spent = timed.iter().map(|(_, spent)| *spent).sum();
        self.record_verified(timed.len() as u64, spent);
        timed.into_iter().map(|(checked, _)| checked).collect()
    }

    fn record_verified(&self, transactions: u64, spent: Duration) {
        let mut timings = lock(&self.shared.timings);
        let admission = &mut timings.admission;
        admission.transactions = admission.transactions.saturating_add(transactions);
        admission.verify_micros = admission.verify_micros.saturating_add(timings::micros(spent));
    }

    /// Where admission's and block production's time went since the node started.
    pub fn timings(&self) -> Timings {
        *lock(&self.shared.timings)
    }

    /// Admits checked transactions to the pool in their order, under one hold of its lock (a
    /// batch does not queue for the lock once per transaction, behind the block producer and
    /// other batches) unless a block wants the pool (the batch gives it up between two
    /// transactions and carries on after the block), and adds what must be stored before
    /// answering to `entries` (their JSON encoded before the lock is taken); in validator mode
    /// a transaction newly waiting here is queued for the other validators when `forward` is
    /// set.
    fn admit_all(
        &self,
        checked: Vec<Result<SealedTransaction, CheckError>>,
        entries: &mut Vec<journal::JournalEntry>,
        forward: bool,
    ) -> Vec<Result<B256, SubmitError>> {
        if !self.is_running() {
            return checked.into_iter().map(|_| Err(SubmitError::NotRunning)).collect();
        }
        let encoded: Vec<Option<Vec<u8>>> = checked
            .iter()
            .map(|checked| checked.as_ref().ok().map(|sealed| journal::entry_bytes(&sealed.signed)))
            .collect();
        let now = self.shared.block_time_now();
        let started = Instant::now();
        let mut pool = lock_pool_for_admission(&self.shared);
        let mut results = Vec::with_capacity(checked.len());
        let mut yields = 0u64;
        for (checked, encoded) in checked.into_iter().zip(encoded) {
            if self.shared.pool_wanted.load(Ordering::Acquire) {
                drop(pool);
                yields += 1;
                pool = lock_pool_for_admission(&self.shared);
            }
            let admitted = checked.map_err(SubmitError::from).and_then(|sealed| {
                let hash = pool.admit(sealed, now)?;
                // Already in the block being made: its block stores it. Otherwise (new, or sent
                // again while waiting) it is stored; the same entry twice is harmless.
                if let (Some((sequence, tx)), Some(bytes)) = (pool.arrival(&hash), encoded) {
                    entries.push(journal::entry_with_sequence(hash, sequence, bytes));
                    if forward && let Some(outbox) = &self.shared.outbox {
                        forward_to_peers(outbox, tx.signed.clone());
                    }
                }
                Ok(hash)
            });
            results.push(admitted);
        }
        drop(pool);
        let spent = timings::micros(started.elapsed());
        let mut timings = lock(&self.shared.timings);
        timings.admission.pool_micros = timings.admission.pool_micros.saturating_add(spent);
        timings.admission.pool_yields = timings.admission.pool_yields.saturating_add(yields);
        results
    }

    /// Applies `action` from `sender` to the committed state, as the next block would, hands the
    /// state after it and its events to `inspect`, and undoes it (`infrafi_core::tx::preview`):
    /// nothing is signed, submitted or committed, and no nonce is used. Dry-runs take turns
    /// on one private copy of the state, so their cost is the action's, not a copy per call;
    /// when the head has moved one block, the copy is brought to it by the leaves the block
    /// changed, not copied again.
    pub fn dry_run<R>(
        &self,
        sender: Address,
        action: Action,
        inspect: impl FnOnce(&State, &[Event]) -> R,
    ) -> DryRun<R> {
        let snapshot = self.snapshot();
        let height = snapshot.header.height;
        // A panic inside an earlier dry-run may have left the copy half-applied: start over.
        let mut scratch = self.shared.scratch.lock().unwrap_or_else(|poisoned| {
            self.shared.scratch.clear_poison();
            let mut scratch = poisoned.into_inner();
            *scratch = None;
            scratch
        });
        if scratch.as_ref().is_none_or(|(at, _)| *at != height)
            && !bring_scratch_forward(&mut scratch, &snapshot)
        {
            *scratch = Some((height, snapshot.state.clone()));
        }
        let (_, state) = scratch.as_mut().expect("the scratch state was just set");
        let block = BlockContext { height: height + 1, timestamp: snapshot.header.timestamp };
        let transaction = Transaction { sender, action };
        let outcome = infrafi_core::tx::preview(state, &block, &transaction, inspect);
        DryRun { height, timestamp: block.timestamp, outcome }
    }

    /// Whether `hash` waits in the mempool or is in the block being made.
    pub fn is_pending(&self, hash: &B256) -> bool {
        lock(&self.shared.mempool).contains(hash)
    }

    /// How many transactions wait in the mempool.
    pub fn mempool_len(&self) -> usize {
        lock(&self.shared.mempool).len()
    }

    /// The mempool's capacity.
    pub fn mempool_capacity(&self) -> usize {
        lock(&self.shared.mempool).capacity()
    }

    /// The next nonce `sender` should use, counting its waiting transactions.
    pub fn next_nonce(&self, sender: Address) -> u64 {
        lock(&self.shared.mempool).next_nonce(sender)
    }

    /// The receipt of a committed transaction, once reads see the state it produced.
    ///
    /// The store makes a block's receipts readable when it commits, a moment before the node
    /// publishes the block's state; in between the receipt is withheld (the transaction is
    /// still in flight in the pool, so it reads as pending). A client that sees its receipt and
    /// then reads an account, the vault or a block sees the transaction applied, never the
    /// state before it.
    pub fn receipt(&self, hash: &B256) -> Result<Option<Receipt>, StoreError> {
        let Some(bytes) = self.shared.store.receipt(&hash.0)? else { return Ok(None) };
        let receipt: Receipt =
            block::decode_json(&bytes).map_err(|e| StoreError::Corrupt(format!("receipt: {e}")))?;
        Ok((receipt.height <= self.snapshot().header.height).then_some(receipt))
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<(BlockHeader, BlockBody)>, StoreError> {
        let Some(header) = self.stored_header(height)? else { return Ok(None) };
        let Some(body) = self.shared.store.body(height)? else { return Ok(None) };
        let body = block::decode_json(&body)
            .map_err(|e| StoreError::Corrupt(format!("block {height}: {e}")))?;
        Ok(Some((header, body)))
    }

    /// The hashes of the transactions of the block at `height`, in the block's order, or `None`
    /// when there is no such block. For the newest [`RECENT_BLOCK_HASHES_MAX`] blocks committed
    /// here they come from memory (each receipt's hash, kept at the commit), so a client that
    /// follows the chain block by block costs a copy per block; older ones are read from the
    /// stored body, whose every transaction is decoded and hashed again (a typed-data digest
    /// each).
    pub fn block_transaction_hashes(&self, height: u64) -> Result<Option<Vec<B256>>, StoreError> {
        let recent = lock(&self.shared.recent_hashes)
            .iter()
            .find(|(at, _)| *at == height)
            .map(|(_, hashes)| hashes.clone());
        if let Some(hashes) = recent {
            return Ok(Some(hashes.to_vec()));
        }
        Ok(self
            .block(height)?
            .map(|(_, body)| body.transactions.iter().map(SignedTransaction::hash).collect()))
    }

    /// The header of the block at `height`, once reads see the state it produced: like
    /// [`Node::receipt`], a block the store holds but the node has not published yet is not
    /// shown, so a client that follows the blocks and then reads the state sees them applied.
    pub fn header(&self, height: u64) -> Result<Option<BlockHeader>, StoreError> {
        if height > self.snapshot().header.height {
            return Ok(None);
        }
        self.stored_header(height)
    }

    /// The stored header of the block at `height`.
    fn stored_header(&self, height: u64) -> Result<Option<BlockHeader>, StoreError> {
        let Some(header) = self.shared.store.header(height)? else { return Ok(None) };
        block::decode(&header)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("block {height}: {e}")))
    }

    /// For each half-open range `[from, to)` of block timestamps, the last history sample in
    /// it (one consistent read; see [`history`]).
    pub fn history(
        &self,
        ranges: &[(u64, u64)],
    ) -> Result<Vec<Option<history::Sample>>, StoreError> {
        self.shared
            .store
            .history_last_in(ranges)?
            .into_iter()
            .map(|found| {
                found
                    .map(|(_, bytes)| {
                        history::Sample::decode(&bytes)
                            .map_err(|e| StoreError::Corrupt(format!("history sample: {e}")))
                    })
                    .transpose()
            })
            .collect()
    }

    /// The latest history sample.
    pub fn history_latest(&self) -> Result<Option<history::Sample>, StoreError> {
        self.shared
            .store
            .history_latest()?
            .map(|(_, bytes)| {
                history::Sample::decode(&bytes)
                    .map_err(|e| StoreError::Corrupt(format!("history sample: {e}")))
            })
            .transpose()
    }

    /// Subscribes to the events of every block committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BlockEvents>> {
        self.shared.feed.subscribe()
    }

    /// Watches the committed height.
    pub fn watch_height(&self) -> watch::Receiver<u64> {
        self.shared.height.subscribe()
    }

    /// Devnet only: moves block time forward by `seconds` and produces a block now. Returns
    /// the total offset, or `None` on a non-devnet node.
    pub fn advance_time(&self, seconds: u64) -> Option<u64> {
        if !self.shared.config.devnet {
            return None;
        }
        let total = self.shared.time_offset_secs.fetch_add(seconds, Ordering::AcqRel) + seconds;
        self.wake_producer();
        Some(total)
    }

    /// Asks the producer to make a block now rather than at the next tick.
    pub fn wake_producer(&self) {
        let (flag, condvar) = &self.shared.wake;
        *lock(flag) = true;
        condvar.notify_all();
    }

    /// Stops producing blocks and waits for the producer to finish its block.
    pub fn shutdown(&self) {
        self.shared.running.store(false, Ordering::Release);
        self.wake_producer();
        if let Some(handle) = lock(&self.producer).take() {
            let _ = handle.join();
        }
    }
}

/// Queues a transaction for the other validators; a full outbox drops it with a warning (it
/// stays in this validator's mempool, so it is still included when this validator leads).
fn forward_to_peers(outbox: &Mutex<Vec<SignedTransaction>>, signed: SignedTransaction) {
    let mut outbox = lock(outbox);
    if outbox.len() >= OUTBOX_TXS_MAX {
        tracing::warn!("the outbox to other validators is full; a transaction is not forwarded");
        return;
    }
    outbox.push(signed);
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Puts the acknowledged transactions stored before a restart back in the pool, in their
/// order, and forgets those that were included meanwhile or can no longer be; returns the hash
/// and sequence of each entry the journal keeps. Those a node from before the journal was keyed
/// by arrival left in its `mempool` table, or in the block store's (before the journal had a
/// file of its own), move to the journal first.
fn restore_mempool(
    store: &Store,
    journal_file: &infrafi_store::Journal,
    mempool: &mut Mempool,
    chain_id: u64,
    now: u64,
) -> Result<Vec<([u8; 32], u64)>, StoreError> {
    let in_block_store = store.mempool_entries()?;
    let in_journal = journal_file.legacy_entries()?;
    if !in_block_store.is_empty() || !in_journal.is_empty() {
        // An entry that cannot be read is left behind, as it would be forgotten below.
        let moved: Vec<journal::JournalEntry> = in_journal
            .iter()
            .chain(&in_block_store)
            .filter_map(|(hash, bytes)| journal::legacy_entry(*hash, bytes))
            .collect();
        // Written before removed: a crash in between finds them in both, and moves them again.
        journal_file.replace_legacy(&moved)?;
        store.mempool_remove(&in_block_store.iter().map(|(hash, _)| *hash).collect::<Vec<_>>())?;
        tracing::info!(moved = moved.len(), "acknowledged transactions moved to the journal");
    }
    let mut forget: Vec<u64> = Vec::new();
    let mut waiting: Vec<(u64, SignedTransaction)> = Vec::new();
    for entry in journal_file.entries()? {
        match journal::decode_entry(&entry.bytes) {
            Some(tx) if store.receipt(&entry.hash)?.is_none() => {
                waiting.push((entry.sequence, tx));
            }
            // Included after all (a block committed between admission and this entry's write),
            // or unreadable.
            _ => forget.push(entry.sequence),
        }
    }
    let stored = waiting.len();
    let (sequences, txs): (Vec<u64>, Vec<SignedTransaction>) = waiting.into_iter().unzip();
    let mut sealed = Vec::with_capacity(txs.len());
    for (sequence, checked) in sequences.into_iter().zip(verify_batch(txs, chain_id)) {
        match checked {
            Ok(tx) => sealed.push((sequence, tx)),
            Err(error) => {
                tracing::warn!(%error, "a stored waiting transaction no longer verifies");
                forget.push(sequence);
            }
        }
    }
    let candidates: Vec<(B256, u64)> = sealed.iter().map(|(seq, tx)| (tx.hash(), *seq)).collect();
    let restored: HashSet<B256> = mempool.restore(sealed, now).into_iter().collect();
    let mut kept = Vec::with_capacity(restored.len());
    for (hash, sequence) in candidates {
        match restored.contains(&hash) {
            true => kept.push((hash.0, sequence)),
            false => forget.push(sequence),
        }
    }
    if !forget.is_empty() {
        journal_file.write(&[], &forget)?;
    }
    if stored > 0 {
        tracing::info!(stored, restored = restored.len(), "acknowledged transactions put back");
    }
    Ok(kept)
}

/// Brings the dry-runs' copy of the state (`scratch`, with its height) from the block before
/// `head` to `head` by writing the leaves the head changed: the block's cost, not a copy of
/// the state. A dry-run leaves the copy exactly as it found it (`tx::preview`), so it still
/// equals the committed state of its height. False when the copy is further behind or the
/// head's changes are unknown: the caller copies the head's state.
fn bring_scratch_forward(scratch: &mut Option<(u64, State)>, head: &Snapshot) -> bool {
    let (Some((at, state)), Some(leaves)) = (scratch.as_mut(), head.changed_leaves.as_deref())
    else {
        return false;
    };
    let changes = leaves.iter().map(|(key, value)| (key.as_slice(), value.as_deref()));
    if *at + 1 != head.header.height || state.apply_leaves(changes).is_err() {
        return false;
    }
    *at = head.header.height;
    #[cfg(debug_assertions)]
    assert!(*state == head.state, "the dry-runs' state brought to block {} differs from it", *at);
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use infrafi_core::{Amount, Asset, action::Transfer, ids::USDC};

    const CHAIN: u64 = 7;

    /// A node whose first block is an hour away, with `user` holding 1,000 USDC.
    fn idle_node(dir: &std::path::Path, user: &SigningKey) -> Node {
        let mut genesis = Genesis::with_admin(SigningKey::from_seed("admin").address(), unix_now());
        genesis.stablecoin_balances.push((user.address(), USDC, Amount::from_whole(1_000)));
        let mut config = NodeConfig::new(CHAIN, dir.to_path_buf());
        config.block_time = Duration::from_secs(3_600);
        Node::start(config, Some(&genesis)).unwrap()
    }

    #[test]
    fn the_transaction_hashes_of_a_block_kept_in_memory_are_those_of_its_stored_body_and_older_blocks_are_read_back()
     {
        let dir = tempfile::tempdir().unwrap();
        let user = SigningKey::from_seed("user");
        let node = idle_node(dir.path(), &user);
        let pay = |amount| {
            Action::Transfer(Transfer {
                asset: Asset::Stablecoin(USDC),
                to: Address::repeat_byte(9),
                amount: Amount(amount),
            })
        };
        // One block more than are kept, each with its own transactions (two in the last).
        let blocks = RECENT_BLOCK_HASHES_MAX as u64 + 1;
        let mut nonce = 0;
        for block in 0..blocks {
            let count = if block + 1 == blocks { 2 } else { 1 };
            for _ in 0..count {
                node.submit(user.sign(CHAIN, nonce, &pay(u128::from(nonce) + 1))).unwrap();
                nonce += 1;
            }
            let before = node.snapshot().header.height;
            node.wake_producer();
            while node.snapshot().header.height == before {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let head = node.snapshot().header.height;
        assert_eq!(head, blocks);
        let kept: Vec<u64> = lock(&node.shared.recent_hashes).iter().map(|(at, _)| *at).collect();
        assert_eq!(kept, (2..=head).collect::<Vec<u64>>(), "the newest blocks, oldest first");
        for height in 1..=head {
            let (_, body) = node.block(height).unwrap().unwrap();
            let stored: Vec<B256> = body.transactions.iter().map(SignedTransaction::hash).collect();
            assert!(!stored.is_empty());
            assert_eq!(
                node.block_transaction_hashes(height).unwrap(),
                Some(stored),
                "block {height}"
            );
        }
        assert_eq!(node.block_transaction_hashes(head + 1).unwrap(), None);
        assert_eq!(node.header(head + 1).unwrap(), None);
    }

    #[test]
    fn a_batch_that_gives_the_pool_up_to_a_block_at_every_transaction_admits_and_stores_each_once_in_order()
     {
        let dir = tempfile::tempdir().unwrap();
        let user = SigningKey::from_seed("user");
        let node = idle_node(dir.path(), &user);
        let pay = Action::Transfer(Transfer {
            asset: Asset::Stablecoin(USDC),
            to: Address::repeat_byte(9),
            amount: Amount(1),
        });
        let batch: Vec<SignedTransaction> = (0..20).map(|n| user.sign(CHAIN, n, &pay)).collect();
        let hashes: Vec<B256> = batch.iter().map(SignedTransaction::hash).collect();
        // As if a block asked for the pool before every transaction.
        node.shared.pool_wanted.store(true, Ordering::Release);
        let results = node.submit_batch(batch);
        node.shared.pool_wanted.store(false, Ordering::Release);
        let admitted: Vec<B256> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(admitted, hashes);
        assert_eq!(node.timings().admission.pool_yields, 20);
        let waiting: Vec<B256> =
            lock(&node.shared.mempool).waiting().into_iter().map(|tx| tx.hash()).collect();
        assert_eq!(waiting, hashes, "waiting in the batch's order");
        drop(node);
        // In arrival order, each under its own hash.
        let stored: Vec<B256> = infrafi_store::Journal::open(dir.path())
            .unwrap()
            .entries()
            .unwrap()
            .into_iter()
            .map(|entry| {
                assert_eq!(journal::decode_entry(&entry.bytes).unwrap().hash().0, entry.hash);
                B256::from(entry.hash)
            })
            .collect();
        assert_eq!(stored, hashes);
    }
}
