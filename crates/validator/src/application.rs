//! The consensus application: proposes and verifies blocks through the node's [`Replica`].
//!
//! Execute before vote: the leader executes its block on its parent's state and puts the
//! post-execution state root in the header; every validator re-executes the block in `verify`
//! and votes for it only if the header (root included) comes out the same. A parent that was not
//! executed here (after a restart, or a proposal this validator missed) is executed first from
//! the ancestry the engine supplies. Execution runs on the runtime's blocking pool, never on the
//! consensus actors' threads.
//!
//! Verification never answers `false` for "not yet": a block dated too far ahead waits for the
//! local clock, and a parent this validator cannot connect yet waits for finality to catch up.
//! `false` means the block is invalid for good (a wrong root, a bad signature, a replayed nonce,
//! too many transactions, time going back).

use crate::{
    Fault, Limits, Scheme,
    block::{self, Block, Digest},
};
use alloy_primitives::B256;
use commonware_consensus::{
    Heightable as _, marshal::ancestry::Ancestry, simplex::types::Context, types::Epoch,
};
use commonware_cryptography::{Digested, ed25519::PublicKey};
use commonware_runtime::{Clock, Metrics, Spawner, Supervisor};
use futures::StreamExt as _;
use infrafi_node::{Replica, ReplicaError};
use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// How far ahead of the local clock a block's timestamp may be before a validator waits.
pub const TIMESTAMP_AHEAD_MAX: Duration = Duration::from_secs(15);
/// How many blocks above the committed head a parent may be before a validator waits for
/// finality to catch up instead of executing the gap speculatively.
pub const SPECULATION_DEPTH_MAX: u64 = 32;
/// How long a validator waits before trying again to connect a block it cannot execute yet.
const RETRY_DELAY: Duration = Duration::from_millis(50);

/// The replica shared between the application, the finalizer and the observer.
pub type SharedReplica = Arc<Mutex<Replica>>;

pub(crate) fn lock(replica: &SharedReplica) -> std::sync::MutexGuard<'_, Replica> {
    replica.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The consensus application over a node. Clones share the replica.
#[derive(Clone)]
pub struct Application {
    replica: SharedReplica,
    limits: Limits,
    fault: Fault,
    /// When this validator last saw a block (proposed or verified): a leader waits a block
    /// time after it before proposing, so the chain moves at the configured pace instead of
    /// as fast as the network.
    last_block_seen: Arc<Mutex<Option<SystemTime>>>,
}

/// Why a block's ancestry cannot be executed.
enum Connect {
    /// Not yet: finality has to catch up (or the ancestry is still being fetched).
    Later,
    /// Never: the ancestry contains an invalid block or forks below the committed head.
    Invalid,
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Application {
    /// An application over `replica`.
    pub fn new(replica: SharedReplica, limits: Limits, fault: Fault) -> Application {
        Application { replica, limits, fault, last_block_seen: Arc::new(Mutex::new(None)) }
    }

    fn saw_block<E: Clock>(&self, context: &E) {
        *self.last_block_seen.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(context.current());
    }

    /// Runs `work` on the replica off the async threads.
    async fn with_replica<E, T>(
        &self,
        context: &E,
        work: impl FnOnce(&mut Replica) -> T + Send + 'static,
    ) -> Option<T>
    where
        E: Spawner + Supervisor,
        T: Send + 'static,
    {
        let replica = self.replica.clone();
        context
            .child("execute")
            .shared(true)
            .spawn(move |_| async move { work(&mut lock(&replica)) })
            .await
            .ok()
    }

    /// Executes the blocks of `ancestry` that are not executed here yet, oldest first, so that
    /// `first` (the newest) can serve as a parent. `first` is the block itself.
    async fn connect<E>(
        &self,
        context: &E,
        first: Digested<Block>,
        mut ancestry: impl Ancestry<Block>,
    ) -> Result<(), Connect>
    where
        E: Spawner + Supervisor + Clock,
    {
        let mut missing = vec![first];
        loop {
            let (committed, known) = {
                let replica = lock(&self.replica);
                let oldest = missing.last().map(|b| b.inner().header().parent_hash);
                let known = oldest.is_some_and(|parent| replica.is_executed(&parent));
                (replica.committed().header.height, known)
            };
            let oldest = match missing.last() {
                Some(block) => block.inner().header().height,
                None => return Ok(()),
            };
            if known {
                break;
            }
            if oldest <= committed + 1 {
                // The ancestry reaches the committed height without meeting the committed
                // head: it forks below finality.
                return Err(Connect::Invalid);
            }
            if oldest > committed + SPECULATION_DEPTH_MAX {
                return Err(Connect::Later);
            }
            match ancestry.next().await {
                Some(block) => missing.push(block),
                None => return Err(Connect::Later),
            }
        }
        // The block itself is verified by the caller; its missing ancestors here.
        let ancestors: Vec<Digested<Block>> = missing.into_iter().skip(1).rev().collect();
        for block in ancestors {
            let outcome = self
                .with_replica(context, move |replica| {
                    replica.verify(block.inner().header(), block.inner().transactions())
                })
                .await;
            match outcome {
                Some(Ok(())) => {}
                Some(Err(ReplicaError::ParentUnknown { .. })) | None => return Err(Connect::Later),
                Some(Err(error)) => {
                    tracing::warn!(%error, "an ancestor of a block does not execute");
                    return Err(Connect::Invalid);
                }
            }
        }
        Ok(())
    }
}

impl<E> commonware_consensus::Application<E> for Application
where
    E: Spawner + Supervisor + Clock + Metrics,
{
    type SigningScheme = Scheme;
    type Context = Context<Digest, PublicKey>;
    type Block = Block;
    type Input = ();

    async fn propose(
        &mut self,
        (context, _consensus): (E, Self::Context),
        mut ancestry: impl Ancestry<Self::Block>,
        _input: (),
    ) -> Option<Digested<Self::Block>> {
        let parent = ancestry.next().await?;
        let parent_hash = parent.inner().header().hash();
        let parent_height = parent.height().get();
        // A block time after the last block this validator saw.
        let last = *self.last_block_seen.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(last) = last {
            context.sleep_until(last + self.limits.block_time).await;
        }
        loop {
            let executed = lock(&self.replica).is_executed(&parent_hash);
            if executed {
                break;
            }
            let parent = parent.clone();
            let ancestors = ancestry.clone();
            match self.connect(&context, parent.clone(), ancestors).await {
                Ok(()) => {
                    let verified = self
                        .with_replica(&context, move |replica| {
                            replica.verify(parent.inner().header(), parent.inner().transactions())
                        })
                        .await;
                    if !matches!(verified, Some(Ok(()))) {
                        return None;
                    }
                }
                Err(Connect::Invalid) => return None,
                Err(Connect::Later) => context.sleep(RETRY_DELAY).await,
            }
        }
        let timestamp = unix_seconds(context.current());
        let limits = self.limits;
        let proposed = self
            .with_replica(&context, move |replica| {
                let mut budget = limits.block_bytes_max.saturating_sub(block::BLOCK_OVERHEAD_BYTES);
                replica.propose(parent_hash, timestamp, |transaction| {
                    let size = block::transaction_size_bytes(transaction);
                    match budget.checked_sub(size) {
                        Some(rest) => {
                            budget = rest;
                            true
                        }
                        None => false,
                    }
                })
            })
            .await?;
        let (mut header, transactions) = match proposed {
            Ok(proposed) => proposed,
            Err(error) => {
                tracing::warn!(%error, parent_height, "cannot propose");
                return None;
            }
        };
        if self.fault == Fault::WrongStateRoot {
            header.state_root = B256::repeat_byte(0xbd);
        }
        let digest = block::digest_of(header.hash());
        self.saw_block(&context);
        Some(Digested::precomputed(Block::new(header, transactions), digest))
    }

    async fn verify(
        &mut self,
        (context, _consensus): (E, Self::Context),
        mut ancestry: impl Ancestry<Self::Block>,
    ) -> bool {
        let Some(block) = ancestry.next().await else { return false };
        let header = block.inner().header().clone();
        if block.inner().transactions().len() > self.limits.block_txs_max {
            return false;
        }
        // Asked again after a restart about a block executed or committed here already.
        let known = {
            let header = header.clone();
            self.with_replica(&context, move |replica| replica.is_known(&header)).await
        };
        if known == Some(true) {
            self.saw_block(&context);
            return true;
        }
        // A block dated ahead of the local clock waits (clocks drift; the engine's timeouts
        // bound the wait).
        loop {
            let now = unix_seconds(context.current());
            if header.timestamp <= now + TIMESTAMP_AHEAD_MAX.as_secs() {
                break;
            }
            context.sleep(RETRY_DELAY).await;
        }
        loop {
            match self.connect(&context, block.clone(), ancestry.clone()).await {
                Ok(()) => break,
                Err(Connect::Invalid) => return false,
                Err(Connect::Later) => context.sleep(RETRY_DELAY).await,
            }
        }
        let verified = {
            let block = block.clone();
            self.with_replica(&context, move |replica| {
                replica.verify(block.inner().header(), block.inner().transactions())
            })
            .await
        };
        match verified {
            Some(Ok(())) => {
                self.saw_block(&context);
                true
            }
            Some(Err(error)) => {
                tracing::warn!(height = header.height, %error, "refusing a block");
                false
            }
            // The runtime is stopping: no verdict.
            None => std::future::pending().await,
        }
    }
}

/// The epoch every block is in: the validator set is fixed at genesis.
pub const EPOCH: Epoch = Epoch::zero();

/// The block hash a consensus digest names.
pub fn block_hash(digest: &Digest) -> B256 {
    block::hash_of(digest)
}
