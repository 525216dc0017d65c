//! Rounds: after `queue::service_queue` has served the eligible order, the requests that jumped
//! an older unserved one pay the uniform clearing price (the highest bid left unserved, capped
//! at their own), the rest of their escrow is released, and the fees less the protocol cut go
//! to the overtaken requests through one wait-fee index update.

use super::{CLEARING_PRICE_EMA_WEIGHT_BPS, ServedPart, WAIT_FEE_SCALE, escrow_for};
use crate::{
    error::TxError,
    event::Event,
    fenwick::Sums,
    ids::{Asset, ProtocolAccount, RequestId},
    ledger::{BalanceSlot, Postings},
    math::{Amount, BPS_DENOMINATOR, Bps, Overflow, Rounding, mul_div},
    queue::{self, RoundRecord},
    state::State,
};
use alloy_primitives::U256;

/// The moving average after a round at `price_wad`: `weight x price + (1 - weight) x average`,
/// each part rounded down (a statistic, not money); the first round starts it at its price.
/// A weighted mean of two 128-bit values fits 128 bits, so [`Overflow`] cannot happen; it is
/// returned rather than clamped all the same (the round then fails with its code).
pub fn next_clearing_price_ema(
    average_wad: u128,
    price_wad: u128,
    is_first: bool,
) -> Result<u128, Overflow> {
    if is_first {
        return Ok(price_wad);
    }
    let weight = u128::from(CLEARING_PRICE_EMA_WEIGHT_BPS);
    let new = mul_div(price_wad, weight, BPS_DENOMINATOR, Rounding::Down)?;
    let old = mul_div(average_wad, BPS_DENOMINATOR - weight, BPS_DENOMINATOR, Rounding::Down)?;
    new.checked_add(old).ok_or(Overflow)
}

/// The first two keys of the eligible order (highest bid first), which is all
/// [`highest_unserved_bid`] reads: settling a round does not change the order.
type OrderTop = [Option<(u128, RequestId)>; 2];

fn order_top(state: &State) -> OrderTop {
    let mut keys = state.queue.eligible.keys();
    [keys.next().copied(), keys.next().copied()]
}

/// The highest bid among the eligible requests left unserved (whose order begins with `top`),
/// other than `except`.
fn highest_unserved_bid(top: &OrderTop, except: Option<RequestId>) -> u128 {
    top.iter()
        .flatten()
        .find(|(_, id)| Some(*id) != except)
        .map_or(0, |(inverted, _)| u128::MAX - inverted)
}

/// Charges one served request: a jumper pays `clearing x served shares` (rounded up) from its
/// escrow into the pool; escrow no longer needed is owed back. Returns the fee.
///
/// The escrow stays exactly `ceil(bid x remaining shares)`: of the escrow, the served shares'
/// part is `ceil(bid x (served + remaining)) - ceil(bid x remaining)`, which can be one unit
/// below `ceil(bid x served)`; the fee is capped at that part, so a jumper whose bid is the
/// clearing price may pay one unit less than the rounded-up product, and never more than its
/// escrow (see `docs/qev.md`, "Servicing rounds").
fn charge_served(
    state: &mut State,
    postings: &mut Postings,
    fee_accounts: &mut FeeAccounts,
    part: &ServedPart,
    stored: &Charged,
    clearing_price_wad: u128,
) -> Result<Amount, TxError> {
    if stored.bid_price_wad == 0 {
        assert!(stored.bid_escrow.is_zero(), "escrow without a bid");
        return Ok(Amount::ZERO);
    }
    assert!(clearing_price_wad <= stored.bid_price_wad, "clearing price above the bid");
    let keep = escrow_for(stored.bid_price_wad, stored.shares_remaining)?;
    let Ok(served_part) = stored.bid_escrow.checked_sub(keep) else {
        panic!("request {} escrows less than its remaining shares need", part.id);
    };
    let fee = escrow_for(clearing_price_wad, part.shares)?.min(served_part);
    let released = served_part.checked_sub(fee)?;
    let escrow_refund = stored.escrow_refund.checked_add(released)?;
    if !fee.is_zero() {
        let (escrow, pool) = fee_accounts.slots(state, postings);
        postings.transfer_between(state, escrow, pool, fee)?;
    }
    state.emit(Event::PriorityFeeCharged {
        request_id: part.id,
        bid_price_wad: stored.bid_price_wad,
        clearing_price_wad,
        shares: part.shares,
        fee,
        escrow_released: released,
    });
    // Only a bidder's record changes, in place (serving journaled it already).
    state.queue.requests.update(&part.id, |request| {
        request.bid_escrow = keep;
        request.escrow_refund = escrow_refund;
    });
    Ok(fee)
}

/// The bid escrow's and the fee pool's slots in the round's postings, found at the round's
/// first fee (after its serving, which may have paid a sealed bid's penalty from one to the
/// other directly) and kept for the rest: a round of 1,000 charges hundreds of fees.
#[derive(Default)]
struct FeeAccounts(Option<(BalanceSlot, BalanceSlot)>);

impl FeeAccounts {
    fn slots(&mut self, state: &State, postings: &mut Postings) -> (BalanceSlot, BalanceSlot) {
        *self.0.get_or_insert_with(|| {
            (
                postings.balance_slot(state, ProtocolAccount::BidEscrow, Asset::Usdai),
                postings.balance_slot(state, ProtocolAccount::QevFeePool, Asset::Usdai),
            )
        })
    }
}

/// What charging a served request reads of its record.
struct Charged {
    bid_price_wad: u128,
    bid_escrow: Amount,
    escrow_refund: Amount,
    shares_remaining: Amount,
}

/// Prices a round after its requests were served, charges the jumpers and credits the
/// overtaken. O(k log n) for k served.
///
/// Jumper: a served request with an older eligible request left unserved (the partially
/// served one counts as unserved for the others). It pays the highest bid left unserved other
/// than its own, capped at its bid. Overtaken: the unserved eligible requests older than the
/// newest jumper; they share `fees - ceil(fees x qev_protocol_cut_bps) + pool carried in`, pro
/// rata to their shares, through one update of the wait-fee index at the newest jumper.
///
/// Fills the round's prices and fees in `record` (whose serving fields are already set). Its
/// ledger movements (the fees, the protocol's cut, the swept dust) go through the round's
/// `postings`, which the round writes to the ledger once, at its end.
pub(crate) fn settle_round(
    state: &mut State,
    served: &[ServedPart],
    record: &mut RoundRecord,
    postings: &mut Postings,
) -> Result<(), TxError> {
    let oldest_unserved =
        state.queue.eligible_shares.first_nonzero().map(|index| RequestId(index - 1));
    let top = order_top(state);
    let clearing_price_wad = highest_unserved_bid(&top, None);
    record.clearing_price_wad = clearing_price_wad;
    let mut newest_jumper: Option<RequestId> = None;
    let mut fee_accounts = FeeAccounts::default();
    for part in served {
        let Some(request) = state.queue.requests.get(&part.id) else {
            unreachable!("a served request vanished in its round");
        };
        let stored = Charged {
            bid_price_wad: request.bid_price_wad,
            bid_escrow: request.bid_escrow,
            escrow_refund: request.escrow_refund,
            shares_remaining: request.shares_remaining,
        };
        let jumped = oldest_unserved.is_some_and(|oldest| oldest < part.id);
        let price = match jumped {
            false => 0,
            true => {
                let except = (!part.fully_served).then_some(part.id);
                highest_unserved_bid(&top, except).min(stored.bid_price_wad)
            }
        };
        if jumped {
            record.jumpers += 1;
            newest_jumper = newest_jumper.max(Some(part.id));
        }
        let fee = charge_served(state, postings, &mut fee_accounts, part, &stored, price)?;
        record.bid_fees_paid = record.bid_fees_paid.checked_add(fee)?;
    }
    distribute(state, postings, record, newest_jumper)?;
    let qev = state.queue.qev.get_mut();
    qev.clearing_price_ema_wad =
        next_clearing_price_ema(qev.clearing_price_ema_wad, clearing_price_wad, record.round == 0)?;
    record.clearing_price_ema_wad = qev.clearing_price_ema_wad;
    Ok(())
}

/// Shares the round's fees among the overtaken (see [`settle_round`]) and sweeps whole units
/// of dust to the protocol.
fn distribute(
    state: &mut State,
    postings: &mut Postings,
    record: &mut RoundRecord,
    newest_jumper: Option<RequestId>,
) -> Result<(), TxError> {
    let now = state.now();
    let cut_bps: Bps = state.governance.params.get().qev_protocol_cut_bps;
    let carried_in = state.queue.qev.get().pool_undistributed;
    let cut = record.bid_fees_paid.mul_bps(cut_bps, Rounding::Up)?.min(record.bid_fees_paid);
    let available = record.bid_fees_paid.checked_sub(cut)?.checked_add(carried_in)?;
    let overtaken = match newest_jumper {
        // Indices 1..=id are the ids below the newest jumper.
        Some(jumper) => state.queue.eligible_shares.prefix(jumper.0).0,
        None => 0,
    };
    let mut distributed = Amount::ZERO;
    if let Some(jumper) = newest_jumper
        && overtaken > 0
        && !available.is_zero()
        && let Some((per_share, amount, pad)) = share_out(state, available, overtaken, now)?
    {
        let index = queue::fenwick_index(jumper);
        state.queue.wait_fee_index.grow_to(index);
        state.queue.wait_fee_index.add(index, per_share)?;
        distributed = amount;
        let qev = state.queue.qev.get_mut();
        qev.pool_dust_scaled =
            qev.pool_dust_scaled.checked_add(pad).ok_or(crate::math::Overflow)?;
        qev.fee_time_origin_at.get_or_insert(now);
    }
    let carried_out = if distributed.is_zero() { available } else { Amount::ZERO };
    let inflow = record.bid_fees_paid.checked_add(carried_in)?;
    let protocol_cut = inflow.checked_sub(distributed)?.checked_sub(carried_out)?;
    assert!(protocol_cut >= cut, "the protocol cut lost its share");
    if !protocol_cut.is_zero() {
        let (pool, collector) = (ProtocolAccount::QevFeePool, ProtocolAccount::FeeCollector);
        post_usdai(state, postings, pool, collector, protocol_cut)?;
    }
    let dust_swept = sweep_dust(state, postings)?;
    let qev = state.queue.qev.get_mut();
    qev.pool_undistributed = carried_out;
    qev.bid_fees_paid_total = qev.bid_fees_paid_total.checked_add(record.bid_fees_paid)?;
    qev.wait_fees_distributed_total = qev.wait_fees_distributed_total.checked_add(distributed)?;
    qev.protocol_cut_total = qev.protocol_cut_total.checked_add(protocol_cut)?;
    record.pool_carried_in = carried_in;
    record.wait_fees_distributed = distributed;
    record.protocol_cut = protocol_cut;
    record.pool_carried_out = carried_out;
    record.overtaken_shares = Amount(overtaken);
    record.dust_swept = dust_swept;
    Ok(())
}

/// The index increment that shares `available` over `overtaken` shares: `(per share, per share
/// x time)`, the whole units that backs (the increment times the shares, rounded up, so the
/// pool always covers every credit) and the scaled pad between the two. `None` when the
/// increment rounds to zero or the index would overflow: the pool then carries `available`.
fn share_out(
    state: &State,
    available: Amount,
    overtaken: u128,
    now: u64,
) -> Result<Option<(Sums, Amount, u128)>, TxError> {
    let Ok(per_share) = mul_div(available.0, WAIT_FEE_SCALE, overtaken, Rounding::Down) else {
        return Ok(None);
    };
    if per_share == 0 {
        return Ok(None);
    }
    let origin = state.queue.qev.get().fee_time_origin_at.unwrap_or(now);
    let Some(time_weight) = per_share.checked_mul(u128::from(now.saturating_sub(origin))) else {
        return Ok(None);
    };
    let increment = Sums(per_share, time_weight);
    if state.queue.wait_fee_index.total().checked_add(increment).is_err() {
        return Ok(None);
    }
    let amount = mul_div(per_share, overtaken, WAIT_FEE_SCALE, Rounding::Up)?;
    assert!(amount <= available.0, "a round distributed more than it had");
    let exact = U256::from(per_share) * U256::from(overtaken);
    let backed = U256::from(amount) * U256::from(WAIT_FEE_SCALE);
    let pad = u128::try_from(backed - exact).map_err(|_| crate::math::Overflow)?;
    Ok(Some((increment, Amount(amount), pad)))
}

/// Moves whole units of wait-fee dust from the pool to the protocol (through `postings`).
fn sweep_dust(state: &mut State, postings: &mut Postings) -> Result<Amount, TxError> {
    let dust = state.queue.qev.get().pool_dust_scaled;
    let units = Amount(dust / WAIT_FEE_SCALE);
    if units.is_zero() {
        return Ok(Amount::ZERO);
    }
    post_usdai(state, postings, ProtocolAccount::QevFeePool, ProtocolAccount::FeeCollector, units)?;
    let qev = state.queue.qev.get_mut();
    qev.pool_dust_scaled = dust % WAIT_FEE_SCALE;
    qev.dust_swept_total = qev.dust_swept_total.checked_add(units)?;
    Ok(units)
}

/// A [`crate::ledger::transfer`] of `amount` USDai between protocol accounts, posted to the
/// round's `postings`: each account's balance is read from the ledger at its first posting
/// (after the round's serving, which may have paid a sealed bid's penalty into the fee pool
/// directly) and written once, with the round's other postings.
fn post_usdai(
    state: &mut State,
    postings: &mut Postings,
    from: ProtocolAccount,
    to: ProtocolAccount,
    amount: Amount,
) -> Result<(), TxError> {
    let from = postings.balance_slot(state, from, Asset::Usdai);
    let to = postings.balance_slot(state, to, Asset::Usdai);
    postings.transfer_between(state, from, to, amount)
}
