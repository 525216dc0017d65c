//! The redemption queue's and QEV's invariants (SPEC 14.6): queued shares and their trees,
//! bids, wait fees, rounds and positions.

use crate::{
    fenwick::{Fenwick, Sums},
    ids::{Account, Asset, ProtocolAccount},
    math::Amount,
    qev::{self, WAIT_FEE_SCALE},
    state::State,
};
use alloy_primitives::U256;
use std::collections::BTreeMap;

/// SPEC 14.6 (the parts a snapshot shows): locked shares and owed USDai match the requests;
/// every active request is in exactly one index; active counts match.
pub(super) fn check_queue(state: &State) -> Result<(), String> {
    let mut locked = Amount::ZERO;
    let mut owed = Amount::ZERO;
    let mut active_by_owner: BTreeMap<_, u32> = BTreeMap::new();
    for (id, request) in state.queue.requests.iter() {
        locked = locked.checked_add(request.shares_remaining).map_err(|_| "locked overflow")?;
        owed = owed.checked_add(request.claimable).map_err(|_| "owed overflow")?;
        let in_waiting = state.queue.waiting.contains_key(&(request.eligible_at, *id));
        let in_eligible = state.queue.eligible.contains_key(&request.priority_key());
        match (request.is_active(), in_waiting, in_eligible) {
            (true, true, false) if !request.is_eligible => {}
            (true, false, true) if request.is_eligible => {}
            (false, false, false) => {}
            other => return Err(format!("request {id} index state {other:?} is inconsistent")),
        }
        if request.is_active() {
            *active_by_owner.entry(request.owner).or_default() += 1;
        } else if request.is_finished() {
            return Err(format!("request {id} is finished but still stored"));
        }
    }
    let escrow =
        state.ledger.balance(Account::Protocol(ProtocolAccount::QueueEscrow), Asset::Susdai);
    if locked != escrow {
        return Err(format!("requests lock {locked} shares but the escrow holds {escrow}"));
    }
    let claims = state.ledger.balance(ProtocolAccount::RedemptionClaims, Asset::Usdai);
    if owed != claims {
        return Err(format!("requests are owed {owed} USDai but claims hold {claims}"));
    }
    if state.queue.waiting.len() + state.queue.eligible.len()
        != active_by_owner.values().sum::<u32>() as usize
    {
        return Err("queue indexes hold entries with no active request".into());
    }
    for (owner, count) in state.queue.active_by_owner.iter() {
        if active_by_owner.remove(owner) != Some(*count) {
            return Err(format!("active count of {owner} is wrong"));
        }
    }
    if !active_by_owner.is_empty() {
        return Err("an owner with active requests has no active count".into());
    }
    for record in state.queue.rounds.iter().map(|(_, r)| r) {
        if record.served_assets > record.liquidity {
            return Err(format!("round {} served more than its liquidity", record.round));
        }
    }
    Ok(())
}

/// SPEC 14.6, the auction's part: escrow conservation, the fee pool to the last unit (and
/// below: sub-unit dust is tracked scaled), fees paid = distributed + protocol cut in every
/// round, and each request's bid, escrow, sealed bid and wait-fees consistent.
pub(super) fn check_qev(state: &State) -> Result<(), String> {
    let now = state.now();
    let rounds = state.queue.globals.get().rounds;
    let mut escrowed = Amount::ZERO;
    let mut owed_scaled = U256::ZERO;
    let scale = U256::from(WAIT_FEE_SCALE);
    for (id, request) in state.queue.requests.iter() {
        let needed = qev::escrow_for(request.bid_price_wad, request.shares_remaining)
            .map_err(|_| format!("request {id} escrow overflows"))?;
        if request.bid_escrow != needed {
            return Err(format!(
                "request {id} escrows {} for a bid needing {needed}",
                request.bid_escrow
            ));
        }
        if !request.is_active() && !request.bid_escrow.is_zero() {
            return Err(format!("served request {id} still escrows a bid"));
        }
        if let Some(sealed) = &request.sealed_bid {
            if request.bid_price_wad != 0 || !request.bid_escrow.is_zero() {
                return Err(format!("request {id} has both a sealed and an open bid"));
            }
            if !request.is_active() || request.listing_price.is_some() || sealed.round > rounds {
                return Err(format!("request {id} sealed bid is out of place"));
            }
            escrowed = escrowed.checked_add(sealed.deposit).map_err(|_| "escrow overflow")?;
        }
        escrowed = escrowed
            .checked_add(request.bid_escrow)
            .and_then(|sum| sum.checked_add(request.escrow_refund))
            .map_err(|_| "escrow overflow")?;
        let fees = &request.wait_fees;
        let vested =
            qev::vested_wait_fees(fees, now).map_err(|_| format!("request {id} vesting"))?;
        if fees.claimed > vested || vested > fees.credited || fees.vested_at_start > fees.credited {
            return Err(format!("request {id} wait-fees claimed/vested/credited out of order"));
        }
        if fees.vesting_started_at > fees.vesting_ends_at {
            return Err(format!("request {id} vests backwards"));
        }
        let unclaimed = fees.credited.0 - fees.claimed.0;
        owed_scaled += U256::from(unclaimed) * scale;
        if request.is_eligible && request.is_active() {
            let index = qev::wait_fee_index_at(state, *id);
            let growth = index.0.checked_sub(fees.index_snapshot.0);
            let growth = growth.ok_or(format!("request {id} wait-fee snapshot ahead of index"))?;
            owed_scaled += U256::from(request.shares_remaining.0) * U256::from(growth);
        } else if request.is_active() && !fees.index_snapshot.is_zero() {
            return Err(format!("waiting request {id} has a wait-fee snapshot"));
        }
    }
    let escrow = state.ledger.balance(ProtocolAccount::BidEscrow, Asset::Usdai);
    if escrow != escrowed {
        return Err(format!("bid escrow holds {escrow} but requests escrow {escrowed}"));
    }
    let globals = state.queue.qev.get();
    let pool = state.ledger.balance(ProtocolAccount::QevFeePool, Asset::Usdai);
    let expected = owed_scaled
        + U256::from(globals.pool_dust_scaled)
        + U256::from(globals.pool_undistributed.0) * scale;
    if U256::from(pool.0) * scale != expected {
        return Err(format!(
            "fee pool holds {pool} but owes {} (scaled by 10^18, with dust and undistributed)",
            expected
        ));
    }
    for record in state.queue.rounds.iter().map(|(_, r)| r) {
        let paid = U256::from(record.bid_fees_paid.0) + U256::from(record.pool_carried_in.0);
        let spent = U256::from(record.wait_fees_distributed.0)
            + U256::from(record.protocol_cut.0)
            + U256::from(record.pool_carried_out.0);
        if paid != spent {
            return Err(format!("round {} fees paid != distributed + protocol cut", record.round));
        }
    }
    Ok(())
}

/// The eligible and waiting Fenwick trees equal trees rebuilt from the requests.
pub(super) fn check_queue_trees(state: &State) -> Result<(), String> {
    let queue = &state.queue;
    let next_id = queue.globals.get().next_request_id;
    let eligible = queue.requests.iter().filter(|(_, r)| r.is_active() && r.is_eligible);
    let waiting = queue.requests.iter().filter(|(_, r)| r.is_active() && !r.is_eligible);
    let sums = |(_, r): (_, &crate::queue::RedemptionRequest)| {
        (r.fenwick_index(), Sums(r.shares_remaining.0, 1))
    };
    for (name, tree, entries) in [
        ("eligible", &queue.eligible_shares, eligible.map(sums).collect::<Vec<_>>()),
        ("waiting", &queue.waiting_shares, waiting.map(sums).collect::<Vec<_>>()),
    ] {
        if tree.capacity() < next_id {
            return Err(format!("{name} tree covers {} of {next_id} ids", tree.capacity()));
        }
        let rebuilt = Fenwick::rebuilt(tree.capacity(), entries)
            .map_err(|_| format!("{name} tree rebuild overflows"))?;
        if rebuilt.nodes != tree.nodes {
            return Err(format!("{name} tree does not match the requests"));
        }
    }
    Ok(())
}
