//! The built-in keeper: which permissionless upkeep transactions are due in a state.
//!
//! It only reads the state and names actions; the node signs them with the keeper's key and
//! submits them like any other transaction, so a keeper run by anyone else does the same.

use infrafi_core::{Action, Amount, Asset, ProtocolAccount, State, WAD, queue, reserve};

/// The smallest surplus worth a harvest (one USDai): smaller ones wait to grow.
pub const HARVEST_SURPLUS_MIN: Amount = Amount(WAD);
/// Requests one keeper round serves at most.
pub const ROUND_REQUESTS_KEEPER: u32 = 1_000;

/// The upkeep actions due now, in the order to submit them.
pub fn due_actions(state: &State) -> Vec<Action> {
    let mut due = Vec::new();
    if reserve::backing(state).surplus >= HARVEST_SURPLUS_MIN {
        due.push(Action::HarvestBaseYield {});
    }
    if round_is_due(state) {
        due.push(Action::ServiceQueue { max_requests: ROUND_REQUESTS_KEEPER });
    }
    due
}

/// A round is due when the round interval has passed, some request is (or becomes) eligible,
/// and there is liquidity to serve it.
fn round_is_due(state: &State) -> bool {
    let now = state.now();
    let globals = state.queue.globals.get();
    let interval = state.governance.params.get().round_interval_secs;
    if globals.last_round_at.is_some_and(|last| now < last.saturating_add(interval)) {
        return false;
    }
    let has_eligible = !state.queue.eligible.is_empty()
        || state.queue.waiting.first().is_some_and(|((eligible_at, _), _)| *eligible_at <= now);
    if !has_eligible {
        return false;
    }
    let locked = state.ledger.balance(ProtocolAccount::QueueEscrow, Asset::Susdai);
    !locked.is_zero() && queue::round_liquidity(state).is_ok_and(|l| !l.is_zero())
}
