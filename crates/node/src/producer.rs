//! The single-node sequencer's block producer: on its own OS thread, every `block_time` (or when
//! woken) it proposes, executes and commits a block, records its history sample, publishes the
//! new snapshot and its events, and lets the built-in keeper send what is due.

use super::{
    BlockEvents, Chain, ChainError, ExecutedBlock, FeedEvent, Shared, Snapshot, SubmitError,
    forward_to_peers, lock, lock_pool_for_block,
};
use crate::{chain, keeper, timings};
use infrafi_tx::SigningKey;
use std::{
    sync::{Arc, PoisonError, atomic::Ordering},
    time::{Duration, Instant},
};

/// The producer loop: every `block_time` (or when woken), propose, execute and commit.
pub(super) fn produce(shared: Arc<Shared>, mut chain: Chain) {
    let block_time = shared.config.block_time;
    let mut next_tick = Instant::now() + block_time;
    while shared.running.load(Ordering::Acquire) {
        {
            let (flag, condvar) = &shared.wake;
            let mut woken = lock(flag);
            while !*woken && shared.running.load(Ordering::Acquire) {
                let now = Instant::now();
                if now >= next_tick {
                    break;
                }
                woken = condvar
                    .wait_timeout(woken, next_tick - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            *woken = false;
        }
        if !shared.running.load(Ordering::Acquire) {
            break;
        }
        next_tick = (next_tick + block_time).max(Instant::now());
        if let Err(error) = produce_block(&shared, &mut chain) {
            // A block that cannot be committed stops the node: continuing would acknowledge
            // transactions that may not be durable. A block that breaks an invariant stops it
            // too: the next block would build on a state the protocol's books disown.
            tracing::error!(%error, "block production failed; the node stops");
            if let ChainError::InvariantViolated(broken) = &error {
                *lock(&shared.broken_invariant) = Some(broken.clone());
            }
            *lock(&shared.fatal_error) = Some(format!("block production failed: {error}"));
            shared.running.store(false, Ordering::Release);
            break;
        }
    }
}

pub(super) fn produce_block(shared: &Shared, chain: &mut Chain) -> Result<(), ChainError> {
    let timestamp = shared.block_time_now();
    let started = Instant::now();
    let proposal = {
        let mut mempool = lock_pool_for_block(shared);
        chain.propose(&mut mempool, timestamp, shared.config.block_txs_max)
    };
    let proposed = started.elapsed();
    let executed = chain.execute(proposal);
    let events = block_events(&executed);
    let execution = executed.timings();
    let included = included(&executed);
    mark_committing(shared, &executed);
    let committing = Instant::now();
    let snapshot = match chain.commit(executed, None) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            lock_pool_for_block(shared).settle_in_flight();
            return Err(error);
        }
    };
    shared.remember_hashes(snapshot.header.height, &included);
    shared.journal.forget(included);
    record_block(shared, &snapshot, proposed, &execution, committing.elapsed());
    publish(shared, snapshot, events);
    fold_leaves(shared);
    Ok(())
}

/// Folds the store's leaf log into its leaves table once it holds enough
/// (`infrafi_store::Store::fold_is_due`): after the block is published, so a fold delays the
/// next block at most, never a block's visibility. A failed fold loses nothing (the log stays
/// as it was) and is only logged: a store that cannot write fails the next commit, which
/// folds first when the log reaches its bound.
pub(super) fn fold_leaves(shared: &Shared) {
    if !shared.store.fold_is_due() {
        return;
    }
    let started = Instant::now();
    match shared.store.fold_leaf_changes() {
        Ok(_) => {
            let mut timings = lock(&shared.timings);
            let blocks = &mut timings.blocks;
            blocks.folds = blocks.folds.saturating_add(1);
            blocks.fold_micros =
                blocks.fold_micros.saturating_add(timings::micros(started.elapsed()));
        }
        Err(error) => tracing::error!(%error, "folding the leaf log failed; it is kept"),
    }
}

/// Tells the mempool that `executed` is being stored, before the store makes its receipts
/// readable: a copy of one of its transactions is refused from then on as it is once the
/// block is committed ([`crate::mempool::Mempool::committing`]).
pub(super) fn mark_committing(shared: &Shared, executed: &ExecutedBlock) {
    let senders = executed.receipts.iter().map(|receipt| receipt.sender);
    lock_pool_for_block(shared).committing(senders, executed.state());
}

/// The hashes of a block's transactions: once it is committed, the journal forgets them.
pub(super) fn included(executed: &ExecutedBlock) -> Vec<[u8; 32]> {
    executed.receipts.iter().map(|receipt| receipt.tx_hash.0).collect()
}

/// Adds a committed block's propose, execution and commit times to the node's timings.
pub(super) fn record_block(
    shared: &Shared,
    snapshot: &Snapshot,
    propose: Duration,
    execution: &chain::ExecutionTimings,
    commit: Duration,
) {
    let mut timings = lock(&shared.timings);
    let blocks = &mut timings.blocks;
    blocks.blocks = blocks.blocks.saturating_add(1);
    blocks.transactions =
        blocks.transactions.saturating_add(u64::from(snapshot.header.transaction_count));
    blocks.propose_micros = blocks.propose_micros.saturating_add(timings::micros(propose));
    blocks.add_execution(execution);
    blocks.commit_micros = blocks.commit_micros.saturating_add(timings::micros(commit));
}

/// Makes a durably committed block visible: the snapshot, then the mempool, the height, the
/// event feed and the keeper.
pub(super) fn publish(shared: &Shared, snapshot: Arc<Snapshot>, events: BlockEvents) {
    let started = Instant::now();
    let height = snapshot.header.height;
    *shared.snapshot.write().unwrap_or_else(PoisonError::into_inner) = snapshot.clone();
    *lock(&shared.last_commit) = Instant::now();
    // After the snapshot: a reader sees the transaction in flight, then its receipt.
    let rebuilding = Instant::now();
    let mempool_rebuilds = {
        let mut mempool = lock_pool_for_block(shared);
        mempool.on_commit(snapshot.clone(), shared.block_time_now());
        mempool.rebuilds()
    };
    let rebuilt = rebuilding.elapsed();
    shared.height.send_replace(height);
    // No subscriber is not an error.
    let _ = shared.feed.send(Arc::new(events));
    if let Some(keeper) = &shared.config.keeper {
        run_keeper(shared, keeper, &snapshot);
    }
    let rest = started.elapsed().saturating_sub(rebuilt);
    let mut timings = lock(&shared.timings);
    let blocks = &mut timings.blocks;
    blocks.mempool_micros = blocks.mempool_micros.saturating_add(timings::micros(rebuilt));
    blocks.mempool_rebuilds = mempool_rebuilds;
    blocks.publish_micros = blocks.publish_micros.saturating_add(timings::micros(rest));
}

pub(super) fn block_events(executed: &ExecutedBlock) -> BlockEvents {
    let (height, timestamp) = (executed.header.height, executed.header.timestamp);
    let mut events: Vec<FeedEvent> = executed
        .body
        .block_events
        .iter()
        .map(|event| FeedEvent {
            height,
            timestamp,
            tx_hash: None,
            sender: None,
            event: event.clone(),
        })
        .collect();
    for receipt in &executed.receipts {
        events.extend(receipt.events.iter().map(|event| FeedEvent {
            height,
            timestamp,
            tx_hash: Some(receipt.tx_hash),
            sender: Some(receipt.sender),
            event: event.clone(),
        }));
    }
    BlockEvents { height, events }
}

/// Submits the upkeep due in `snapshot`, unless the keeper still has transactions waiting.
pub(super) fn run_keeper(shared: &Shared, keeper: &SigningKey, snapshot: &Snapshot) {
    let address = keeper.address();
    let committed = snapshot.state.ledger.nonce(address);
    let now = shared.block_time_now();
    let mut mempool = lock_pool_for_block(shared);
    let mut nonce = mempool.next_nonce(address);
    if nonce != committed {
        return;
    }
    for action in keeper::due_actions(&snapshot.state) {
        let signed = keeper.sign(shared.config.chain_id, nonce, &action);
        let forwarded = shared.outbox.as_ref().map(|_| signed.clone());
        let result = signed
            .verify(shared.config.chain_id)
            .map_err(SubmitError::from)
            .and_then(|sealed| Ok(mempool.admit(sealed, now)?));
        match result {
            Ok(_) => {
                if let (Some(outbox), Some(signed)) = (&shared.outbox, forwarded) {
                    forward_to_peers(outbox, signed);
                }
                nonce += 1;
            }
            Err(error) => {
                tracing::warn!(%error, action = action.name(), "keeper transaction refused");
                return;
            }
        }
    }
}
