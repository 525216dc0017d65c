//! Validator mode: the executor as a consensus engine drives it (SPEC 16).
//!
//! Guarantees:
//! - a proposal or a verified block executes on its parent's state (the committed head, or a
//!   block executed here and not finalized yet, cached by hash), never on the committed state
//!   itself, so abandoned forks cost nothing but their cache entry;
//! - only a finalized block is committed, once, durably, with its finalization certificate
//!   when it is known, before [`Replica::finalize`] returns (the engine acknowledges the block
//!   after that); a block redelivered at or below the committed height is acknowledged without
//!   being applied again;
//! - a finalized block whose re-execution gives another header than the one the quorum signed
//!   is a determinism failure: [`ReplicaError::Diverged`] stops the node rather than go on with
//!   a state the others do not have;
//! - proposals come from the node's own mempool, through its admission rules (the same ones a
//!   single node applies); a transaction leaves the mempool only when a finalized block
//!   consumes its nonce.

use crate::{
    Certified, Shared,
    block::BlockHeader,
    block_events,
    chain::{Chain, ChainError, ExecutedBlock, Parent, Proposal, Snapshot},
    fold_leaves, included, lock, lock_pool_for_block, mark_committing, publish, record_block,
};
use alloy_primitives::B256;
use infrafi_tx::{SealedTransaction, SignedTransaction};
use serde::Serialize;
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, PoisonError, atomic::Ordering},
    time::{Duration, Instant},
};

/// The most executed, unfinalized blocks kept (forks at the tip and blocks verified ahead of
/// finality). Beyond it the lowest are dropped; one needed again is re-executed from its
/// ancestry.
pub const PENDING_BLOCKS_MAX: usize = 256;
/// The most finalization certificates kept for blocks not committed here yet.
pub const CERTIFIED_PENDING_MAX: usize = 1_024;
/// How many recently committed blocks are remembered by hash, so that a certificate arriving
/// after its block is stored with it.
const RECENT_BLOCKS_MAX: usize = 1_024;

/// The engine's view of the network, reported by `/v1/status`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ConsensusStatus {
    /// This validator's index in the validator set.
    pub validator_index: u32,
    /// This validator's consensus public key (hex).
    pub public_key: String,
    /// How many validators there are.
    pub validators: u32,
    /// The highest finalized height this validator knows of (it may not have the block yet).
    pub finalized_tip: u64,
    /// The newest consensus view this validator has seen activity in.
    pub view: u64,
    /// The other validators, and the newest view each was seen voting in.
    pub peers: Vec<PeerStatus>,
}

/// Another validator, as this one sees it.
#[derive(Clone, Debug, Serialize)]
pub struct PeerStatus {
    /// Its index in the validator set.
    pub index: u32,
    /// Its consensus public key (hex).
    pub public_key: String,
    /// The newest view a vote of it was seen in (0: none yet).
    pub last_view: u64,
    /// Whether it voted within the last few views.
    pub active: bool,
}

/// What [`Replica::finalize`] did.
#[derive(Debug)]
pub enum Finalized {
    /// The block was already committed (a redelivery): nothing was applied.
    AlreadyCommitted,
    /// The block is committed and visible.
    Committed(Arc<Snapshot>),
}

/// Why a block cannot be proposed, verified or finalized here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplicaError {
    /// The parent is neither the committed head nor an executed block: its ancestry has to be
    /// executed first.
    #[error("the parent {parent} is not executed here")]
    ParentUnknown {
        /// The parent's hash.
        parent: B256,
    },
    /// The block is invalid, or the store failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A finalized block does not re-execute to the header the quorum signed, or conflicts
    /// with a committed one: this node's state is not the network's.
    #[error("finalized block {height} diverges from this node's execution: {detail}")]
    Diverged {
        /// The block's height.
        height: u64,
        /// What differs.
        detail: String,
    },
}

/// The executor in validator mode. See the module documentation.
pub struct Replica {
    shared: Arc<Shared>,
    chain: Chain,
    pending: HashMap<B256, ExecutedBlock>,
    early_certificates: BTreeMap<B256, Vec<u8>>,
    recent: BTreeMap<u64, B256>,
}

impl Replica {
    pub(crate) fn new(shared: Arc<Shared>, chain: Chain) -> Result<Replica, ChainError> {
        let committed = chain.committed();
        if let Some(certificate) = chain.store().certificate(committed.header.height)? {
            *shared.certified.write().unwrap_or_else(PoisonError::into_inner) =
                Some(Certified { snapshot: committed.clone(), certificate });
        }
        let recent = BTreeMap::from([(committed.header.height, committed.hash)]);
        Ok(Replica {
            shared,
            chain,
            pending: HashMap::new(),
            early_certificates: BTreeMap::new(),
            recent,
        })
    }

    /// The committed head.
    pub fn committed(&self) -> Arc<Snapshot> {
        self.chain.committed()
    }

    /// Whether the block `hash` is the committed head or executed here.
    pub fn is_executed(&self, hash: &B256) -> bool {
        *hash == self.chain.committed().hash || self.pending.contains_key(hash)
    }

    /// Whether the block of `header` is executed here or committed (possibly below the head).
    pub fn is_known(&self, header: &BlockHeader) -> bool {
        self.pending.contains_key(&header.hash())
            || self.chain.is_committed(header).unwrap_or(false)
    }

    /// How many executed blocks wait for finality.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    fn parent<'a>(&'a self, hash: B256, committed: &'a Snapshot) -> Option<Parent<'a>> {
        if hash == committed.hash {
            return Some(committed.as_parent());
        }
        self.pending.get(&hash).map(ExecutedBlock::as_parent)
    }

    /// A transaction this node verified when it admitted it (it waits in the mempool, equal
    /// in every field): its signature is not recovered again when a block carries it.
    fn checked_at_admission(&self, tx: &SignedTransaction) -> Option<SealedTransaction> {
        lock(&self.shared.mempool).checked(tx)
    }

    fn insert_pending(&mut self, block: ExecutedBlock) {
        while self.pending.len() >= PENDING_BLOCKS_MAX {
            let lowest = self.pending.iter().min_by_key(|(_, b)| b.header.height).map(|(h, _)| *h);
            match lowest {
                Some(hash) => self.pending.remove(&hash),
                None => break,
            };
        }
        self.pending.insert(block.hash, block);
    }

    /// Builds the block after `parent` at `timestamp` (clamped to the parent's): the
    /// transactions that can run in order after the parent's state, at most the node's
    /// `block_txs_max`, in the mempool's order while `fits` accepts them (the engine's size
    /// bound). The executed block is cached under its hash; its header and transactions are
    /// returned for broadcast.
    pub fn propose(
        &mut self,
        parent: B256,
        timestamp: u64,
        mut fits: impl FnMut(&SignedTransaction) -> bool,
    ) -> Result<(BlockHeader, Vec<SignedTransaction>), ReplicaError> {
        let committed = self.chain.committed();
        let parent =
            self.parent(parent, &committed).ok_or(ReplicaError::ParentUnknown { parent })?;
        let limit = self.shared.config.block_txs_max;
        let ready = lock_pool_for_block(&self.shared)
            .ready(limit, |sender| parent.state.ledger.nonce(sender));
        let transactions: Vec<_> = ready.into_iter().take_while(|tx| fits(&tx.signed)).collect();
        let proposal = Proposal {
            height: parent.header.height + 1,
            timestamp: timestamp.max(parent.header.timestamp),
            transactions,
        };
        let block = self.chain.execute_after(parent, proposal);
        let proposed = (block.header.clone(), block.body.transactions.clone());
        self.insert_pending(block);
        Ok(proposed)
    }

    /// Verifies a block proposed elsewhere: re-executes it on its parent and compares the
    /// header (state root included). A valid block is cached under its hash.
    pub fn verify(
        &mut self,
        header: &BlockHeader,
        transactions: &[SignedTransaction],
    ) -> Result<(), ReplicaError> {
        let hash = header.hash();
        if self.pending.contains_key(&hash) || self.chain.is_committed(header)? {
            return Ok(());
        }
        let committed = self.chain.committed();
        let parent = self
            .parent(header.parent_hash, &committed)
            .ok_or(ReplicaError::ParentUnknown { parent: header.parent_hash })?;
        let block = self
            .chain
            .execute_block_with(parent, header, transactions, |tx| self.checked_at_admission(tx))?;
        self.insert_pending(block);
        Ok(())
    }

    /// Commits a finalized block (the engine delivers them in height order, at least once):
    /// a redelivery is acknowledged as is; otherwise the cached execution is used, or the block
    /// is re-executed on the committed head, and committed durably with `certificate` (or one
    /// that arrived earlier through [`Replica::record_certificate`]), then published.
    pub fn finalize(
        &mut self,
        header: &BlockHeader,
        transactions: &[SignedTransaction],
        certificate: Option<Vec<u8>>,
    ) -> Result<Finalized, ReplicaError> {
        let hash = header.hash();
        let certificate = certificate.or_else(|| self.early_certificates.remove(&hash));
        if self.chain.is_committed(header)? {
            if let Some(certificate) = certificate {
                self.store_late_certificate(header.height, hash, certificate)?;
            }
            return Ok(Finalized::AlreadyCommitted);
        }
        let committed = self.chain.committed();
        if header.height <= committed.header.height {
            return Err(ReplicaError::Diverged {
                height: header.height,
                detail: format!("block {hash} conflicts with the committed block at that height"),
            });
        }
        let block = match self.pending.remove(&hash) {
            Some(block) => block,
            None => self
                .chain
                .execute_block_with(committed.as_parent(), header, transactions, |tx| {
                    self.checked_at_admission(tx)
                })
                .map_err(|error| match error {
                    ChainError::Store(_) | ChainError::InvariantViolated(_) => {
                        ReplicaError::Chain(error)
                    }
                    other => {
                        ReplicaError::Diverged { height: header.height, detail: other.to_string() }
                    }
                })?,
        };
        if let Err(error) = block.check_invariants() {
            // A quorum finalized a block that breaks an invariant here: never commit it; the
            // engine halts the node, and health names the invariant.
            if let ChainError::InvariantViolated(broken) = &error {
                *lock(&self.shared.broken_invariant) = Some(broken.clone());
            }
            return Err(error.into());
        }
        let events = block_events(&block);
        let execution = block.timings();
        let included = included(&block);
        mark_committing(&self.shared, &block);
        let committing = Instant::now();
        let snapshot = match self.chain.commit(block, certificate.clone()) {
            Ok(snapshot) => snapshot,
            Err(error) => {
                lock_pool_for_block(&self.shared).settle_in_flight();
                return Err(error.into());
            }
        };
        self.shared.remember_hashes(snapshot.header.height, &included);
        self.shared.journal.forget(included);
        record_block(&self.shared, &snapshot, Duration::ZERO, &execution, committing.elapsed());
        let height = snapshot.header.height;
        if let Some(certificate) = certificate {
            self.set_certified(snapshot.clone(), certificate);
        }
        self.pending.retain(|_, block| block.header.height > height);
        self.recent.insert(height, snapshot.hash);
        while self.recent.len() > RECENT_BLOCKS_MAX {
            self.recent.pop_first();
        }
        // The mempool drops what the block consumed (its own transactions or others with
        // their nonces) when it rebuilds its pending state on the new head.
        publish(&self.shared, snapshot.clone(), events);
        fold_leaves(&self.shared);
        Ok(Finalized::Committed(snapshot))
    }

    fn set_certified(&self, snapshot: Arc<Snapshot>, certificate: Vec<u8>) {
        *self.shared.certified.write().unwrap_or_else(PoisonError::into_inner) =
            Some(Certified { snapshot, certificate });
    }

    fn store_late_certificate(
        &mut self,
        height: u64,
        hash: B256,
        certificate: Vec<u8>,
    ) -> Result<(), ReplicaError> {
        if self.chain.store().put_certificate(height, &certificate).map_err(ChainError::from)? {
            let committed = self.chain.committed();
            if committed.hash == hash {
                self.set_certified(committed, certificate);
            }
        }
        Ok(())
    }

    /// A finalization certificate for block `hash`, reported by the engine: stored with the
    /// block if it is committed and has none, kept until the block is committed otherwise.
    pub fn record_certificate(
        &mut self,
        hash: B256,
        certificate: Vec<u8>,
    ) -> Result<(), ReplicaError> {
        let committed =
            self.recent.iter().rev().find(|(_, h)| **h == hash).map(|(height, _)| *height);
        match committed {
            Some(height) => self.store_late_certificate(height, hash, certificate),
            None => {
                if self.early_certificates.len() >= CERTIFIED_PENDING_MAX {
                    self.early_certificates.pop_first();
                }
                self.early_certificates.insert(hash, certificate);
                Ok(())
            }
        }
    }

    /// Whether the node is running (a fatal error stops it).
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    /// Stops the node after a fatal error: submissions are refused and health turns 503.
    pub fn halt(&self, reason: &str) {
        tracing::error!(reason, "the validator stops");
        *lock(&self.shared.fatal_error) = Some(reason.to_string());
        self.shared.running.store(false, Ordering::Release);
    }
}
