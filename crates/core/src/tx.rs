//! Transactions and the one entry point: [`apply`].
//!
//! A transaction is `(sender, action)`; the node checks its signature and chain id before it
//! reaches here, and consumes the sender's nonce with [`consume_nonce`] (committed at once, so
//! a rejected action still uses its nonce) before calling [`apply`]. `apply` runs the action
//! against the state inside a journal: on success the writes stand and the events are
//! returned; on rejection every write is undone, so the state is exactly as it was.

use crate::{
    action::Action,
    error::TxError,
    event::Event,
    governance,
    ids::Address,
    ledger::LedgerError,
    points,
    state::{Clock, State},
    table::Journaled,
};
use serde::{Deserialize, Serialize};

/// The block a transaction executes in: the state machine's only source of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockContext {
    /// Block height.
    pub height: u64,
    /// Block timestamp, unix seconds.
    pub timestamp: u64,
}

/// A transaction as the state machine sees it: who sends which action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The authenticated sender.
    pub sender: Address,
    /// What it does.
    pub action: Action,
}

/// Moves the state's clock to `block` and runs time-driven upkeep: scheduled parameter changes
/// and the points accumulators. Idempotent for the same block; rejects time or height going
/// backwards.
pub fn begin_block(state: &mut State, block: &BlockContext) -> Result<Vec<Event>, TxError> {
    let result = advance_clock(state, block);
    finish(state, result)
}

fn finish(state: &mut State, result: Result<(), TxError>) -> Result<Vec<Event>, TxError> {
    match result {
        Ok(()) => {
            state.commit();
            Ok(std::mem::take(&mut state.events))
        }
        Err(error) => {
            state.rollback();
            state.events.clear();
            Err(error)
        }
    }
}

fn advance_clock(state: &mut State, block: &BlockContext) -> Result<(), TxError> {
    let clock = *state.clock.get();
    if block.timestamp < clock.timestamp {
        return Err(LedgerError::BlockTimeMustNotDecrease.into());
    }
    if block.height < clock.height {
        return Err(LedgerError::BlockHeightMustNotDecrease.into());
    }
    if block.timestamp == clock.timestamp && block.height == clock.height {
        return Ok(());
    }
    // The price in force since the last transaction that moved it, valued at that time.
    points::resolve_share_price(state);
    *state.clock.get_mut() = Clock { height: block.height, timestamp: block.timestamp };
    points::advance(state);
    governance::apply_due_changes(state);
    // Time accrues interest into NAV, and a parameter change may move the price.
    points::share_price_moved(state);
    Ok(())
}

/// Applies one transaction in `block`. On success returns its events (including the block's
/// upkeep events if this is the block's first transaction); on rejection the state is exactly
/// as before the call.
pub fn apply(
    state: &mut State,
    block: &BlockContext,
    tx: &Transaction,
) -> Result<Vec<Event>, TxError> {
    let mut events = Vec::new();
    apply_into(state, block, tx, &mut events)?;
    Ok(events)
}

/// [`apply`] for a caller that applies many transactions: the events replace the contents of
/// `events` (on rejection it is left empty). The buffer is exchanged with the state's, not
/// copied, so a caller that passes the same vector each time allocates nothing in the steady
/// state.
pub fn apply_into(
    state: &mut State,
    block: &BlockContext,
    tx: &Transaction,
    events: &mut Vec<Event>,
) -> Result<(), TxError> {
    assert!(state.events.is_empty(), "events left over from an earlier transaction");
    events.clear();
    match run(state, block, tx) {
        Ok(()) => {
            state.commit();
            // The state takes the caller's (cleared) buffer for the next transaction.
            std::mem::swap(&mut state.events, events);
            Ok(())
        }
        Err(error) => {
            state.rollback();
            state.events.clear();
            Err(error)
        }
    }
}

/// A preview of `tx`: applies it as [`apply`] would, hands the state after it and its events
/// to `inspect`, then undoes every write, whether the action succeeded or not. The state is
/// exactly as before the call (its hash and its tracked changes too). The node's dry-run
/// runs this on its own copy of the committed state, so previews are the state machine's own
/// answers and never a second implementation.
pub fn preview<R>(
    state: &mut State,
    block: &BlockContext,
    tx: &Transaction,
    inspect: impl FnOnce(&State, &[Event]) -> R,
) -> Result<R, TxError> {
    assert!(state.events.is_empty(), "events left over from an earlier transaction");
    let outcome = run(state, block, tx).map(|()| inspect(state, &state.events));
    state.rollback();
    state.events.clear();
    outcome
}

/// Runs `tx` in `block` without committing or rolling back: the clock, the action's stateless
/// check, its execution, and a new share-price sample if the action can move the price.
fn run(state: &mut State, block: &BlockContext, tx: &Transaction) -> Result<(), TxError> {
    advance_clock(state, block)?;
    tx.action.check_stateless()?;
    tx.action.execute(state, tx.sender)?;
    if tx.action.moves_share_price() {
        points::share_price_moved(state);
    }
    Ok(())
}

/// Consumes `sender`'s nonce: checks that `nonce` is its next one and advances it, committed
/// at once. The node calls this for every validly signed transaction it includes, before
/// [`apply`], so a rejected transaction still uses up its nonce (SPEC 3).
pub fn consume_nonce(state: &mut State, sender: Address, nonce: u64) -> Result<(), TxError> {
    let expected = state.ledger.nonce(sender);
    if nonce != expected {
        return Err(LedgerError::NonceMismatch.into());
    }
    let next = expected.checked_add(1).ok_or(LedgerError::ArithmeticOverflow)?;
    state.ledger.nonces.insert(sender, next);
    state.ledger.nonces.commit();
    Ok(())
}
