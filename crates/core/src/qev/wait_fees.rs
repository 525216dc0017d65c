//! Paid to wait: a request's wait-fee credits, settled lazily from the wait-fee index
//! (`shares x (index now - index at last settlement)`), vesting linearly over
//! `fee_vesting_secs`, forfeited unvested on cancellation, claimable by the request's owner.

use super::{WAIT_FEE_SCALE, WaitFees};
use crate::{
    error::TxError,
    event::Event,
    fenwick::Sums,
    ids::{Address, Asset, ProtocolAccount, RequestId},
    ledger,
    math::{Amount, Rounding, mul_div, mul_div_remainder},
    queue::{self, QueueError, RedemptionRequest},
    state::State,
};
use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

/// The wait-fee index accrued at request `id`: the sum of every round's (fee per share, fee per
/// share x time) whose newest jumper is younger than `id`. Non-decreasing in time.
pub fn wait_fee_index_at(state: &State, id: RequestId) -> Sums {
    let tree = &state.queue.wait_fee_index;
    let total = tree.total();
    if total.is_zero() {
        // No round has paid wait-fees yet (a queue without bids): nothing to walk.
        return Sums::ZERO;
    }
    let before = tree.prefix(queue::fenwick_index(id));
    // A prefix never exceeds the total.
    Sums(total.0.saturating_sub(before.0), total.1.saturating_sub(before.1))
}

/// What has vested of `fees` at `now`, rounded down.
pub fn vested_wait_fees(fees: &WaitFees, now: u64) -> Result<Amount, TxError> {
    let unvested_at_from = fees.credited.checked_sub(fees.vested_at_start)?;
    if unvested_at_from.is_zero() || now >= fees.vesting_ends_at {
        return Ok(fees.credited);
    }
    if now <= fees.vesting_started_at {
        return Ok(fees.vested_at_start);
    }
    let elapsed = u128::from(now - fees.vesting_started_at);
    let duration = u128::from(fees.vesting_ends_at - fees.vesting_started_at);
    let vested = unvested_at_from.mul_div(elapsed, duration, Rounding::Down)?;
    Ok(fees.vested_at_start.checked_add(vested)?)
}

/// What the owner may claim now: vested minus claimed.
pub fn claimable_wait_fees(fees: &WaitFees, now: u64) -> Result<Amount, TxError> {
    Ok(vested_wait_fees(fees, now)?.saturating_sub(fees.claimed))
}

/// Adds a credit of `amount` earned at `credited_at` (<= `now`) to a vesting schedule: the
/// credit vests linearly over `vesting_secs` from `credited_at`; what is still unvested of the
/// old and the new vests together from now until their unvested-weighted end (rounded up).
fn credit_wait_fees(
    fees: &mut WaitFees,
    amount: Amount,
    credited_at: u64,
    now: u64,
    vesting_secs: u64,
) -> Result<(), TxError> {
    assert!(credited_at <= now, "a credit from the future");
    let vested_now = vested_wait_fees(fees, now)?;
    let old_unvested = fees.credited.checked_sub(vested_now)?;
    let new_until = credited_at.saturating_add(vesting_secs);
    let new_vested = match new_until <= now {
        true => amount,
        false => amount.mul_div(
            u128::from(now - credited_at),
            u128::from(vesting_secs),
            Rounding::Down,
        )?,
    };
    let new_unvested = amount.checked_sub(new_vested)?;
    let unvested = old_unvested.checked_add(new_unvested)?;
    let until = if unvested.is_zero() {
        now
    } else {
        // Unvested-weighted remaining time, in 128 bits when the products fit (the usual
        // case: the same quotient and remainder), else in 256; each remaining time is positive.
        let old_left = fees.vesting_ends_at.saturating_sub(now);
        let new_left = new_until.saturating_sub(now);
        let narrow = old_unvested
            .0
            .checked_mul(u128::from(old_left))
            .zip(new_unvested.0.checked_mul(u128::from(new_left)))
            .and_then(|(old, new)| old.checked_add(new));
        let (left, rounds_up) = match narrow {
            Some(weighted) => {
                let left = u64::try_from(weighted / unvested.0);
                (left.map_err(|_| ()), weighted % unvested.0 != 0)
            }
            None => {
                let weighted = U256::from(old_unvested.0) * U256::from(old_left)
                    + U256::from(new_unvested.0) * U256::from(new_left);
                let (left, remainder) = weighted.div_rem(U256::from(unvested.0));
                (u64::try_from(left).map_err(|_| ()), !remainder.is_zero())
            }
        };
        // A weighted mean of two u64 durations fits u64: the fallback is unreachable (and would
        // only vest later, never pay sooner). Times, not amounts.
        let left = left.unwrap_or(u64::MAX);
        let left = if rounds_up { left.saturating_add(1) } else { left };
        now.saturating_add(left.max(1))
    };
    fees.credited = fees.credited.checked_add(amount)?;
    fees.vested_at_start = vested_now.checked_add(new_vested)?;
    fees.vesting_started_at = now;
    fees.vesting_ends_at = until;
    Ok(())
}

/// What settling a request's wait-fees now credits: read from the state, booked by
/// [`book_wait_fee_settlement`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct WaitFeeSettlement {
    /// The credit, rounded down.
    credit: Amount,
    /// The sub-unit remainder, scaled by [`WAIT_FEE_SCALE`] (joins the pool's dust).
    remainder: u128,
    /// The credit-weighted mean time of the rounds it comes from.
    credited_at: u64,
    /// The wait-fee index now (the request's new snapshot).
    index: Sums,
}

/// What settling `request` now would credit (see [`WaitFeeSettlement`]).
pub(crate) fn wait_fee_settlement(
    state: &State,
    request: &RedemptionRequest,
) -> Result<WaitFeeSettlement, TxError> {
    let now = state.now();
    let nothing =
        |index| WaitFeeSettlement { credit: Amount::ZERO, remainder: 0, credited_at: now, index };
    if !(request.is_eligible && request.is_active()) {
        return Ok(nothing(request.wait_fees.index_snapshot));
    }
    let index = wait_fee_index_at(state, request.id);
    let snapshot = request.wait_fees.index_snapshot;
    let per_share = index.0.checked_sub(snapshot.0).ok_or(crate::math::Overflow)?;
    if per_share == 0 {
        return Ok(nothing(index));
    }
    let time_weight = index.1.checked_sub(snapshot.1).ok_or(crate::math::Overflow)?;
    let (credit, remainder) =
        mul_div_remainder(request.shares_remaining.0, per_share, WAIT_FEE_SCALE)?;
    // The credit-weighted mean time of the rounds settled together, rounded up (later).
    let origin = state.queue.qev.get().fee_time_origin_at.unwrap_or(now);
    let mean_offset = mul_div(time_weight, 1, per_share, Rounding::Up)?;
    // The mean of the rounds' times lies between the origin and now; `min(now)` bounds the
    // rounding up (a time, not an amount).
    let offset = u64::try_from(mean_offset).unwrap_or(u64::MAX);
    Ok(WaitFeeSettlement {
        credit: Amount(credit),
        remainder,
        credited_at: origin.saturating_add(offset).min(now),
        index,
    })
}

/// Books `settlement` for request `id`, whose wait-fees are `fees`: moves the snapshot, adds
/// the remainder to the pool's dust, credits the credit to `fees` (vesting) and announces it.
/// `fees` may be a copy, written back by the caller, so a round serving a request writes its
/// stored record once.
pub(crate) fn book_wait_fee_settlement(
    state: &mut State,
    id: RequestId,
    fees: &mut WaitFees,
    settlement: &WaitFeeSettlement,
) -> Result<(), TxError> {
    let WaitFeeSettlement { credit, remainder, credited_at, index } = *settlement;
    fees.index_snapshot = index;
    if remainder > 0 {
        let qev = state.queue.qev.get_mut();
        qev.pool_dust_scaled =
            qev.pool_dust_scaled.checked_add(remainder).ok_or(crate::math::Overflow)?;
    }
    if credit.is_zero() {
        return Ok(());
    }
    let now = state.now();
    let vesting_secs = state.governance.params.get().fee_vesting_secs;
    credit_wait_fees(fees, credit, credited_at, now, vesting_secs)?;
    state.emit(Event::WaitFeesCredited { request_id: id, amount: credit, credited_at });
    Ok(())
}

/// Settles a request's wait-fees at the current index: credits `shares x (index - snapshot) /
/// scale` (rounded down; the remainder joins the pool's dust) and moves the snapshot. Only an
/// eligible unserved request accrues; callers settle before its shares change.
pub(crate) fn settle_wait_fees(
    state: &mut State,
    request: &mut RedemptionRequest,
) -> Result<(), TxError> {
    let settlement = wait_fee_settlement(state, request)?;
    book_wait_fee_settlement(state, request.id, &mut request.wait_fees, &settlement)
}

/// A request's wait-fees now, credits not yet settled included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitFeeStatus {
    /// Earned so far (credited, or accrued in the index and not yet settled).
    pub earned: Amount,
    /// Vested so far.
    pub vested: Amount,
    /// Claimed so far.
    pub claimed: Amount,
    /// What a claim would pay now.
    pub claimable: Amount,
}

/// The wait-fees of request `id` now: a pure query (O(log n)).
pub fn wait_fees_now(state: &State, id: RequestId) -> Result<WaitFeeStatus, TxError> {
    let request = state.queue.requests.get(&id).ok_or(QueueError::RequestNotFound)?;
    let WaitFeeSettlement { credit, credited_at, .. } = wait_fee_settlement(state, request)?;
    let now = state.now();
    let mut fees = request.wait_fees.clone();
    if !credit.is_zero() {
        let vesting_secs = state.governance.params.get().fee_vesting_secs;
        credit_wait_fees(&mut fees, credit, credited_at, now, vesting_secs)?;
    }
    let vested = vested_wait_fees(&fees, now)?;
    Ok(WaitFeeStatus {
        earned: fees.credited,
        vested,
        claimed: fees.claimed,
        claimable: vested.saturating_sub(fees.claimed),
    })
}

/// On cancellation: wait-fees not yet vested return to the pool for later rounds; what has
/// vested stays claimable. The caller settles first.
pub(crate) fn forfeit_unvested_wait_fees(
    state: &mut State,
    request: &mut RedemptionRequest,
) -> Result<(), TxError> {
    let now = state.now();
    let vested = vested_wait_fees(&request.wait_fees, now)?;
    let unvested = request.wait_fees.credited.checked_sub(vested)?;
    if unvested.is_zero() {
        return Ok(());
    }
    let fees = &mut request.wait_fees;
    fees.credited = vested;
    fees.vested_at_start = vested;
    fees.vesting_started_at = now;
    fees.vesting_ends_at = now;
    let qev = state.queue.qev.get_mut();
    qev.pool_undistributed = qev.pool_undistributed.checked_add(unvested)?;
    qev.forfeits_total = qev.forfeits_total.checked_add(unvested)?;
    state.emit(Event::WaitFeesForfeited { request_id: request.id, amount: unvested });
    Ok(())
}

/// Pays `amount` of vested wait-fees to `owner` from the fee pool.
pub(crate) fn pay_wait_fees(
    state: &mut State,
    request: &mut RedemptionRequest,
    owner: Address,
    amount: Amount,
) -> Result<(), TxError> {
    ledger::transfer(state, Asset::Usdai, ProtocolAccount::QevFeePool, owner, amount)?;
    request.wait_fees.claimed = request.wait_fees.claimed.checked_add(amount)?;
    let qev = state.queue.qev.get_mut();
    qev.wait_fees_claimed_total = qev.wait_fees_claimed_total.checked_add(amount)?;
    state.emit(Event::WaitFeesClaimed { request_id: request.id, owner, amount });
    Ok(())
}
