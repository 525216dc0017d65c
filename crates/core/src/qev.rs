//! QEV (SPEC 11): the priority auction on the redemption queue, paid waiting, and tradable
//! queue positions. `docs/qev.md` states every rule and the reason for it.
//!
//! - **Bids.** A request's owner sets an open per-share bid ([`set_bid`]), escrowed in USDai
//!   (`bid x remaining shares`, rounded up), or commits a sealed one ([`commit_sealed_bid`])
//!   with a deposit and reveals it in the reveal window ([`reveal_sealed_bid`]). The bid keys
//!   the eligible index, so a change costs O(log n).
//! - **Rounds.** After `queue::service_queue` has served the eligible order, [`settle_round`]
//!   charges every served request that jumped an older unserved one the uniform clearing
//!   price (the highest bid left unserved, capped at its own), releases the rest of its
//!   escrow, and credits the fees, less the protocol cut, to the overtaken requests pro rata
//!   to their shares through the wait-fee index: one Fenwick update per round, whatever the
//!   number of waiters.
//! - **Paid to wait.** A request's credit is settled lazily, whenever its shares change or it
//!   is claimed: `shares x (index now - index at last settlement)`. Credits vest linearly over
//!   `fee_vesting_secs` and are claimable by whoever owns the request.
//! - **Positions.** A request can be transferred, listed, bought and delisted
//!   ([`transfer_request`], [`list_request`], [`buy_request`], [`delist_request`]).
//!
//! Guarantees: `BidEscrow` holds exactly the bids' escrow, the sealed deposits and the refunds
//! owed; the fee pool holds exactly what the requests are owed plus what waits to be
//! distributed plus sub-unit dust; every round's fees equal what it distributed plus the
//! protocol cut plus what it carried forward; nobody pays more than its bid per share. All
//! checked by `invariants::check`.

use crate::{
    error::TxError,
    event::Event,
    fenwick::Sums,
    ids::{Address, Asset, B256, ProtocolAccount, RequestId},
    ledger::{self, LedgerError},
    math::{Amount, BPS_DENOMINATOR, Bps, Rounding, WAD, mul_div, mul_div_remainder},
    queue::{self, QueueError, RedemptionRequest},
    result_codes,
    state::State,
};
use alloy_primitives::{U256, keccak256};
use serde::{Deserialize, Serialize};

result_codes! {
    /// Rejections of QEV actions: bids, sealed bids, listings, estimates.
    pub enum QevError {
        RequestIsListed = 901 => "request_is_listed",
            "The request is listed for sale; delist it first.";
        RequestIsNotListed = 902 => "request_is_not_listed",
            "The request is not listed for sale.";
        SealedBidPending = 903 => "sealed_bid_pending",
            "The request has a sealed bid waiting to be revealed.";
        SealedBidNotFound = 904 => "sealed_bid_not_found",
            "The request has no sealed bid to reveal.";
        OpenBidMustBeZero = 905 => "open_bid_must_be_zero",
            "A sealed bid can be committed only on a request whose open bid is zero.";
        RevealWindowNotOpen = 906 => "reveal_window_not_open",
            "Sealed bids are revealed only in the reveal window before the next round.";
        SealedBidExpired = 907 => "sealed_bid_expired",
            "The round this sealed bid was for has run; it counted as a bid of zero.";
        CommitmentMismatch = 908 => "commitment_mismatch",
            "The revealed price and salt do not hash to the commitment.";
        BidExceedsDeposit = 909 => "bid_exceeds_deposit",
            "The revealed bid needs more escrow than the sealed deposit holds.";
        BidUnchanged = 910 => "bid_unchanged",
            "The request already has this bid.";
        ListingPriceAboveMaximum = 911 => "listing_price_above_maximum",
            "The listing price is above the buyer's maximum.";
        BuyerMustNotBeOwner = 912 => "buyer_must_not_be_owner",
            "The buyer already owns the request.";
        InflowsTooMany = 913 => "inflows_too_many",
            "An estimate takes at most the maximum number of scheduled inflows.";
        BiddersTooMany = 914 => "bidders_too_many",
            "Too many bidders ahead of the request to estimate in one query.";
    }
}

/// The scale of the wait-fee index: USDai units per share unit, times 10^18.
pub const WAIT_FEE_SCALE: u128 = WAD;
/// The weight of the newest clearing price in its moving average: 2,000 bps (alpha = 0.2,
/// the usual `2 / (N + 1)` for N = 9 rounds).
pub const CLEARING_PRICE_EMA_WEIGHT_BPS: u32 = 2_000;

/// A sealed bid: a commitment to a price, with a USDai deposit in `BidEscrow`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedBid {
    /// `keccak256(abi.encode(uint64 request_id, uint256 price_wad, bytes32 salt))`; see
    /// [`sealed_bid_commitment`].
    pub commitment: B256,
    /// USDai deposited; a revealed bid's escrow must fit in it.
    pub deposit: Amount,
    /// When it was committed.
    pub committed_at: u64,
    /// The number of the round it is for (the next round at commit time). Once that round
    /// has run, the bid counted as 0 and the deposit is returned less the penalty.
    pub round: u64,
}

/// A request's wait-fees: credits settled from the wait-fee index and their vesting.
///
/// Vesting: at `vesting_from`, `vested_at_from` had vested; the rest of `credited` vests
/// linearly until `vesting_until`. `claimed <= vested <= credited` at all times.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitFees {
    /// The wait-fee index at the last settlement (see [`wait_fee_index_at`]).
    pub index_snapshot: Sums,
    /// Credited so far.
    pub credited: Amount,
    /// Claimed so far.
    pub claimed: Amount,
    /// Vested at `vesting_from`.
    pub vested_at_from: Amount,
    /// When the current schedule starts.
    pub vesting_from: u64,
    /// When everything credited has vested.
    pub vesting_until: u64,
}

/// The auction's pool and lifetime totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QevGlobals {
    /// Fee-pool USDai waiting for a round with overtaken requests: unrevealed-bid penalties,
    /// forfeited wait-fees and fees of rounds that could not distribute.
    pub pool_undistributed: Amount,
    /// Sub-unit remainders of wait-fee credits, in units x [`WAIT_FEE_SCALE`]: owed to nobody,
    /// swept to the protocol by the next round once they make a whole unit.
    #[serde(with = "crate::math::u128_serde")]
    pub pool_dust_scaled: u128,
    /// The moving average of clearing prices.
    #[serde(with = "crate::math::u128_serde")]
    pub clearing_price_ema_wad: u128,
    /// The time the wait-fee index measures its time weights from (its first distribution),
    /// which keeps `fee x time` small.
    pub fee_time_origin: Option<u64>,
    /// Priority fees paid by jumpers, ever.
    pub bid_fees_paid_total: Amount,
    /// Unrevealed sealed-bid penalties, ever.
    pub penalties_total: Amount,
    /// Unvested wait-fees forfeited by cancellations, ever.
    pub forfeits_total: Amount,
    /// Wait-fees credited to overtaken requests, ever.
    pub wait_fees_distributed_total: Amount,
    /// The protocol's cut of rounds, ever.
    pub protocol_cut_total: Amount,
    /// Dust swept to the protocol, ever.
    pub dust_swept_total: Amount,
    /// Wait-fees claimed, ever.
    pub wait_fees_claimed_total: Amount,
}

/// What a round served of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedPart {
    /// The request.
    pub id: RequestId,
    /// Shares served.
    pub shares: Amount,
    /// Whether it is now fully served.
    pub fully_served: bool,
}

/// A round's prices and fees (copied into its `RoundRecord`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundFees {
    /// The highest bid left unserved (0 if none).
    pub clearing_price_wad: u128,
    /// The moving average after this round.
    pub clearing_price_ema_wad: u128,
    /// Served requests that jumped an older unserved one.
    pub jumpers: u32,
    /// Fees they paid.
    pub bid_fees_paid: Amount,
    /// Pool USDai carried in.
    pub pool_carried_in: Amount,
    /// Credited to the overtaken.
    pub wait_fees_distributed: Amount,
    /// To the protocol.
    pub protocol_cut: Amount,
    /// Carried forward.
    pub pool_carried_out: Amount,
    /// Shares of the overtaken.
    pub overtaken_shares: Amount,
    /// Dust swept to the protocol.
    pub dust_swept: Amount,
}

// ---------------------------------------------------------------------------------------------
// Bids and escrow.

/// The escrow a bid of `price_wad` per share needs for `shares`: rounded up (the bidder owes it).
pub fn escrow_for(price_wad: u128, shares: Amount) -> Result<Amount, TxError> {
    Ok(Amount(mul_div(price_wad, shares.0, WAD, Rounding::Up)?))
}

/// Re-keys an eligible request in the index for a new bid: O(log n).
fn rekey(state: &mut State, request: &mut RedemptionRequest, price_wad: u128) {
    if request.is_eligible && request.is_active() {
        state.queue.eligible.remove(&request.priority_key());
        request.bid_price_wad = price_wad;
        state.queue.eligible.insert(request.priority_key(), ());
    } else {
        request.bid_price_wad = price_wad;
    }
}

/// A request the sender owns that is unserved and not listed, with an expired sealed bid
/// resolved: what every bid action starts from.
fn biddable_request(
    state: &mut State,
    sender: Address,
    id: RequestId,
) -> Result<RedemptionRequest, TxError> {
    let mut request = queue::owned_request(state, sender, id)?;
    if !request.is_active() {
        return Err(QueueError::RequestAlreadyServed.into());
    }
    if request.listing_price.is_some() {
        return Err(QevError::RequestIsListed.into());
    }
    resolve_expired_sealed_bid(state, &mut request)?;
    Ok(request)
}

/// `set_bid`: attach, raise, lower or withdraw (price 0) the open bid on one's own request.
/// The escrow moves to `bid x remaining shares` (rounded up): the difference is taken from or
/// returned to the sender's USDai.
///
/// Checks, in order: request exists, sender owns it, it is unserved, it is not listed, no
/// sealed bid is waiting, the bid changes, the escrow fits, the sender's balance covers it.
pub fn set_bid(
    state: &mut State,
    sender: Address,
    id: RequestId,
    price_wad: u128,
) -> Result<(), TxError> {
    let mut request = biddable_request(state, sender, id)?;
    if request.sealed_bid.is_some() {
        return Err(QevError::SealedBidPending.into());
    }
    if request.bid_price_wad == price_wad {
        return Err(QevError::BidUnchanged.into());
    }
    let escrow = escrow_for(price_wad, request.shares_remaining)?;
    let old = request.bid_escrow;
    if escrow > old {
        let more = escrow.checked_sub(old)?;
        ledger::transfer(state, Asset::Usdai, sender, ProtocolAccount::BidEscrow, more)?;
    } else if escrow < old {
        let less = old.checked_sub(escrow)?;
        ledger::transfer(state, Asset::Usdai, ProtocolAccount::BidEscrow, sender, less)?;
    }
    request.bid_escrow = escrow;
    rekey(state, &mut request, price_wad);
    state.queue.requests.insert(id, request);
    state.emit(Event::BidSet { request_id: id, price_wad, escrow });
    Ok(())
}

/// The commitment a sealed bid reveals against:
/// `keccak256(abi.encode(uint64 request_id, uint256 price_wad, bytes32 salt))`, i.e. the
/// keccak-256 of 96 bytes: the request id and the price as 32-byte big-endian words, then the
/// salt. A wallet computes it with `ethers.utils.defaultAbiCoder.encode(["uint64", "uint256",
/// "bytes32"], [id, price, salt])` or Solidity's `keccak256(abi.encode(id, price, salt))`.
pub fn sealed_bid_commitment(request_id: RequestId, price_wad: u128, salt: B256) -> B256 {
    let mut words = [0u8; 96];
    words[24..32].copy_from_slice(&request_id.0.to_be_bytes());
    words[48..64].copy_from_slice(&price_wad.to_be_bytes());
    words[64..96].copy_from_slice(salt.as_slice());
    keccak256(words)
}

/// Whether sealed bids may be revealed now: from `reveal_window_secs` before the next round
/// may run until it runs. Before the first round there is no schedule, so it is open.
pub fn is_reveal_window_open(state: &State) -> bool {
    let window = state.governance.params.get().reveal_window_secs;
    state.now().saturating_add(window) >= queue::next_round_earliest_at(state)
}

/// `commit_sealed_bid`: commit to a hidden bid on one's own request with a USDai deposit. The
/// bid is for the next round; until revealed it counts as 0.
///
/// Checks, in order: deposit is not zero, request exists, sender owns it, it is unserved, it
/// is not listed, no sealed bid is waiting, its open bid is zero, the sender's balance covers
/// the deposit.
pub fn commit_sealed_bid(
    state: &mut State,
    sender: Address,
    id: RequestId,
    commitment: B256,
    deposit: Amount,
) -> Result<(), TxError> {
    if deposit.is_zero() {
        return Err(LedgerError::AmountMustNotBeZero.into());
    }
    let mut request = biddable_request(state, sender, id)?;
    if request.sealed_bid.is_some() {
        return Err(QevError::SealedBidPending.into());
    }
    if request.bid_price_wad != 0 {
        return Err(QevError::OpenBidMustBeZero.into());
    }
    ledger::transfer(state, Asset::Usdai, sender, ProtocolAccount::BidEscrow, deposit)?;
    let round = state.queue.globals.get().rounds;
    let sealed = SealedBid { commitment, deposit, committed_at: state.now(), round };
    request.sealed_bid = Some(Box::new(sealed));
    state.queue.requests.insert(id, request);
    state.emit(Event::SealedBidCommitted { request_id: id, commitment, deposit, round });
    Ok(())
}

/// `reveal_sealed_bid`: open a sealed bid in the reveal window. It becomes the request's open
/// bid; its escrow comes out of the deposit and the rest returns to the sender.
///
/// Checks, in order: request exists, sender owns it, it is unserved, it is not listed, a
/// sealed bid is waiting, its round has not run (late), the reveal window is open (early),
/// price and salt match the commitment, the escrow fits in the deposit.
pub fn reveal_sealed_bid(
    state: &mut State,
    sender: Address,
    id: RequestId,
    price_wad: u128,
    salt: B256,
) -> Result<(), TxError> {
    let mut request = queue::owned_request(state, sender, id)?;
    if !request.is_active() {
        return Err(QueueError::RequestAlreadyServed.into());
    }
    if request.listing_price.is_some() {
        return Err(QevError::RequestIsListed.into());
    }
    let Some(sealed) = request.sealed_bid.clone() else {
        return Err(QevError::SealedBidNotFound.into());
    };
    if sealed.round < state.queue.globals.get().rounds {
        return Err(QevError::SealedBidExpired.into());
    }
    if !is_reveal_window_open(state) {
        return Err(QevError::RevealWindowNotOpen.into());
    }
    if sealed_bid_commitment(id, price_wad, salt) != sealed.commitment {
        return Err(QevError::CommitmentMismatch.into());
    }
    let escrow = escrow_for(price_wad, request.shares_remaining)?;
    if escrow > sealed.deposit {
        return Err(QevError::BidExceedsDeposit.into());
    }
    let returned = sealed.deposit.checked_sub(escrow)?;
    if !returned.is_zero() {
        ledger::transfer(state, Asset::Usdai, ProtocolAccount::BidEscrow, sender, returned)?;
    }
    request.sealed_bid = None;
    request.bid_escrow = escrow;
    rekey(state, &mut request, price_wad);
    state.queue.requests.insert(id, request);
    state.emit(Event::SealedBidRevealed { request_id: id, price_wad, escrow, returned });
    Ok(())
}

/// Ends a request's sealed bid, if any: with `penalise`, `unrevealed_penalty_bps` of the
/// deposit (rounded up) goes to the fee pool; the rest is owed back to the owner.
pub(crate) fn release_sealed_bid(
    state: &mut State,
    request: &mut RedemptionRequest,
    penalise: bool,
) -> Result<(), TxError> {
    let Some(sealed) = request.sealed_bid.take() else { return Ok(()) };
    let penalty = match penalise {
        true => {
            let bps = state.governance.params.get().unrevealed_penalty_bps;
            sealed.deposit.mul_bps(bps, Rounding::Up)?.min(sealed.deposit)
        }
        false => Amount::ZERO,
    };
    let returned = sealed.deposit.checked_sub(penalty)?;
    if !penalty.is_zero() {
        ledger::transfer(
            state,
            Asset::Usdai,
            ProtocolAccount::BidEscrow,
            ProtocolAccount::QevFeePool,
            penalty,
        )?;
        let qev = state.queue.qev.get_mut();
        qev.pool_undistributed = qev.pool_undistributed.checked_add(penalty)?;
        qev.penalties_total = qev.penalties_total.checked_add(penalty)?;
    }
    request.escrow_refund = request.escrow_refund.checked_add(returned)?;
    state.emit(Event::SealedBidReleased { request_id: request.id, penalty, returned });
    Ok(())
}

/// Resolves a sealed bid whose round has run unrevealed: it counted as 0 and forfeits the
/// penalty. Lazy: it runs whenever the request is next touched (served, cancelled, claimed,
/// re-bid, transferred, listed), so a round never scans the commitments.
pub(crate) fn resolve_expired_sealed_bid(
    state: &mut State,
    request: &mut RedemptionRequest,
) -> Result<(), TxError> {
    let rounds = state.queue.globals.get().rounds;
    match &request.sealed_bid {
        Some(sealed) if sealed.round < rounds => release_sealed_bid(state, request, true),
        _ => Ok(()),
    }
}

/// Inside a running round (not yet counted), a request about to be served: a sealed bid for
/// this round or an earlier one is past revealing, so it is resolved as unrevealed.
pub(crate) fn resolve_sealed_bid_in_round(
    state: &mut State,
    request: &mut RedemptionRequest,
) -> Result<(), TxError> {
    let round = state.queue.globals.get().rounds;
    match &request.sealed_bid {
        Some(sealed) if sealed.round <= round => release_sealed_bid(state, request, true),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Wait-fees.

/// The wait-fee index accrued at request `id`: the sum of every round's (fee per share, fee per
/// share x time) whose newest jumper is younger than `id`. Non-decreasing in time.
pub fn wait_fee_index_at(state: &State, id: RequestId) -> Sums {
    let tree = &state.queue.wait_fee_index;
    let total = tree.total();
    let before = tree.prefix(queue::fenwick_index(id));
    // A prefix never exceeds the total.
    Sums(total.0.saturating_sub(before.0), total.1.saturating_sub(before.1))
}

/// What has vested of `fees` at `now`, rounded down.
pub fn vested_wait_fees(fees: &WaitFees, now: u64) -> Result<Amount, TxError> {
    let unvested_at_from = fees.credited.checked_sub(fees.vested_at_from)?;
    if unvested_at_from.is_zero() || now >= fees.vesting_until {
        return Ok(fees.credited);
    }
    if now <= fees.vesting_from {
        return Ok(fees.vested_at_from);
    }
    let elapsed = u128::from(now - fees.vesting_from);
    let duration = u128::from(fees.vesting_until - fees.vesting_from);
    let vested = unvested_at_from.mul_div(elapsed, duration, Rounding::Down)?;
    Ok(fees.vested_at_from.checked_add(vested)?)
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
        // Unvested-weighted remaining time, in 256 bits; each remaining time is positive.
        let old_left = U256::from(fees.vesting_until.saturating_sub(now));
        let new_left = U256::from(new_until.saturating_sub(now));
        let weighted =
            U256::from(old_unvested.0) * old_left + U256::from(new_unvested.0) * new_left;
        let (left, remainder) = weighted.div_rem(U256::from(unvested.0));
        let left = u64::try_from(left).unwrap_or(u64::MAX);
        let left = if remainder.is_zero() { left } else { left.saturating_add(1) };
        now.saturating_add(left.max(1))
    };
    fees.credited = fees.credited.checked_add(amount)?;
    fees.vested_at_from = vested_now.checked_add(new_vested)?;
    fees.vesting_from = now;
    fees.vesting_until = until;
    Ok(())
}

/// What settling `request` now would credit: `(credit, sub-unit remainder scaled, the
/// credit-weighted mean time of the rounds it comes from, the index now)`.
fn unsettled_wait_fees(
    state: &State,
    request: &RedemptionRequest,
) -> Result<(Amount, u128, u64, Sums), TxError> {
    let now = state.now();
    let index = wait_fee_index_at(state, request.id);
    if !(request.is_eligible && request.is_active()) {
        return Ok((Amount::ZERO, 0, now, request.wait_fees.index_snapshot));
    }
    let snapshot = request.wait_fees.index_snapshot;
    let per_share = index.0.checked_sub(snapshot.0).ok_or(crate::math::Overflow)?;
    if per_share == 0 {
        return Ok((Amount::ZERO, 0, now, index));
    }
    let time_weight = index.1.checked_sub(snapshot.1).ok_or(crate::math::Overflow)?;
    let (credit, remainder) =
        mul_div_remainder(request.shares_remaining.0, per_share, WAIT_FEE_SCALE)?;
    // The credit-weighted mean time of the rounds settled together, rounded up (later).
    let origin = state.queue.qev.get().fee_time_origin.unwrap_or(now);
    let mean_offset = mul_div(time_weight, 1, per_share, Rounding::Up)?;
    let offset = u64::try_from(mean_offset).unwrap_or(u64::MAX);
    Ok((Amount(credit), remainder, origin.saturating_add(offset).min(now), index))
}

/// Settles a request's wait-fees at the current index: credits `shares x (index - snapshot) /
/// scale` (rounded down; the remainder joins the pool's dust) and moves the snapshot. Only an
/// eligible unserved request accrues; callers settle before its shares change.
pub(crate) fn settle_wait_fees(
    state: &mut State,
    request: &mut RedemptionRequest,
) -> Result<(), TxError> {
    let (credit, remainder, credited_at, index) = unsettled_wait_fees(state, request)?;
    request.wait_fees.index_snapshot = index;
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
    credit_wait_fees(&mut request.wait_fees, credit, credited_at, now, vesting_secs)?;
    state.emit(Event::WaitFeesCredited { request_id: request.id, amount: credit, credited_at });
    Ok(())
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
    let (credit, _, credited_at, _) = unsettled_wait_fees(state, request)?;
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
    fees.vested_at_from = vested;
    fees.vesting_from = now;
    fees.vesting_until = now;
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

// ---------------------------------------------------------------------------------------------
// Rounds.

/// The moving average after a round at `price_wad`: `weight x price + (1 - weight) x average`,
/// rounded down (a statistic, not money); the first round starts it at its price.
pub fn next_clearing_price_ema(average_wad: u128, price_wad: u128, is_first: bool) -> u128 {
    if is_first {
        return price_wad;
    }
    let weight = u128::from(CLEARING_PRICE_EMA_WEIGHT_BPS);
    let new = mul_div(price_wad, weight, BPS_DENOMINATOR, Rounding::Down).unwrap_or(u128::MAX);
    let old = mul_div(average_wad, BPS_DENOMINATOR - weight, BPS_DENOMINATOR, Rounding::Down)
        .unwrap_or(u128::MAX);
    new.saturating_add(old)
}

/// The highest bid among the eligible requests left unserved, other than `except`.
fn highest_unserved_bid(state: &State, except: Option<RequestId>) -> u128 {
    state
        .queue
        .eligible
        .iter()
        .take(2)
        .find(|((_, id), _)| Some(*id) != except)
        .map_or(0, |((inverted, _), _)| u128::MAX - inverted)
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
    part: &ServedPart,
    clearing_price_wad: u128,
) -> Result<Amount, TxError> {
    let Some(mut request) = state.queue.requests.get(&part.id).cloned() else {
        unreachable!("a served request vanished in its round");
    };
    if request.bid_price_wad == 0 {
        assert!(request.bid_escrow.is_zero(), "escrow without a bid");
        return Ok(Amount::ZERO);
    }
    assert!(clearing_price_wad <= request.bid_price_wad, "clearing price above the bid");
    let keep = escrow_for(request.bid_price_wad, request.shares_remaining)?;
    let Ok(served_part) = request.bid_escrow.checked_sub(keep) else {
        panic!("request {} escrows less than its remaining shares need", part.id);
    };
    let fee = escrow_for(clearing_price_wad, part.shares)?.min(served_part);
    let released = served_part.checked_sub(fee)?;
    if !fee.is_zero() {
        ledger::transfer(
            state,
            Asset::Usdai,
            ProtocolAccount::BidEscrow,
            ProtocolAccount::QevFeePool,
            fee,
        )?;
    }
    request.bid_escrow = keep;
    request.escrow_refund = request.escrow_refund.checked_add(released)?;
    state.emit(Event::PriorityFeeCharged {
        request_id: part.id,
        bid_price_wad: request.bid_price_wad,
        clearing_price_wad,
        shares: part.shares,
        fee,
        escrow_released: released,
    });
    state.queue.requests.insert(part.id, request);
    Ok(fee)
}

/// Prices a round after its requests were served, charges the jumpers and credits the
/// overtaken. O(k log n) for k served.
///
/// Jumper: a served request with an older eligible request left unserved (the partially
/// served one counts as unserved for the others). It pays the highest bid left unserved other
/// than its own, capped at its bid. Overtaken: the unserved eligible requests older than the
/// newest jumper; they share `fees - ceil(fees x qev_protocol_cut_bps) + pool carried in`, pro
/// rata to their shares, through one update of the wait-fee index at the newest jumper.
pub(crate) fn settle_round(
    state: &mut State,
    served: &[ServedPart],
    round: u64,
) -> Result<RoundFees, TxError> {
    let oldest_unserved =
        state.queue.eligible_shares.first_nonzero().map(|index| RequestId(index - 1));
    let clearing_price_wad = highest_unserved_bid(state, None);
    let mut fees = RoundFees { clearing_price_wad, ..RoundFees::default() };
    let mut newest_jumper: Option<RequestId> = None;
    for part in served {
        let jumped = oldest_unserved.is_some_and(|oldest| oldest < part.id);
        let price = match jumped {
            false => 0,
            true => {
                let except = (!part.fully_served).then_some(part.id);
                let bid = state.queue.requests.get(&part.id).map_or(0, |r| r.bid_price_wad);
                highest_unserved_bid(state, except).min(bid)
            }
        };
        if jumped {
            fees.jumpers += 1;
            newest_jumper = newest_jumper.max(Some(part.id));
        }
        let fee = charge_served(state, part, price)?;
        fees.bid_fees_paid = fees.bid_fees_paid.checked_add(fee)?;
    }
    distribute(state, &mut fees, newest_jumper)?;
    let qev = state.queue.qev.get_mut();
    qev.clearing_price_ema_wad =
        next_clearing_price_ema(qev.clearing_price_ema_wad, clearing_price_wad, round == 0);
    fees.clearing_price_ema_wad = qev.clearing_price_ema_wad;
    Ok(fees)
}

/// Shares the round's fees among the overtaken (see [`settle_round`]) and sweeps whole units
/// of dust to the protocol.
fn distribute(
    state: &mut State,
    fees: &mut RoundFees,
    newest_jumper: Option<RequestId>,
) -> Result<(), TxError> {
    let now = state.now();
    let cut_bps: Bps = state.governance.params.get().qev_protocol_cut_bps;
    let carried_in = state.queue.qev.get().pool_undistributed;
    let cut = fees.bid_fees_paid.mul_bps(cut_bps, Rounding::Up)?.min(fees.bid_fees_paid);
    let available = fees.bid_fees_paid.checked_sub(cut)?.checked_add(carried_in)?;
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
        qev.fee_time_origin.get_or_insert(now);
    }
    let carried_out = if distributed.is_zero() { available } else { Amount::ZERO };
    let inflow = fees.bid_fees_paid.checked_add(carried_in)?;
    let protocol_cut = inflow.checked_sub(distributed)?.checked_sub(carried_out)?;
    assert!(protocol_cut >= cut, "the protocol cut lost its share");
    if !protocol_cut.is_zero() {
        ledger::transfer(
            state,
            Asset::Usdai,
            ProtocolAccount::QevFeePool,
            ProtocolAccount::FeeCollector,
            protocol_cut,
        )?;
    }
    let dust_swept = sweep_dust(state)?;
    let qev = state.queue.qev.get_mut();
    qev.pool_undistributed = carried_out;
    qev.bid_fees_paid_total = qev.bid_fees_paid_total.checked_add(fees.bid_fees_paid)?;
    qev.wait_fees_distributed_total = qev.wait_fees_distributed_total.checked_add(distributed)?;
    qev.protocol_cut_total = qev.protocol_cut_total.checked_add(protocol_cut)?;
    fees.pool_carried_in = carried_in;
    fees.wait_fees_distributed = distributed;
    fees.protocol_cut = protocol_cut;
    fees.pool_carried_out = carried_out;
    fees.overtaken_shares = Amount(overtaken);
    fees.dust_swept = dust_swept;
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
    let origin = state.queue.qev.get().fee_time_origin.unwrap_or(now);
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

/// Moves whole units of wait-fee dust from the pool to the protocol.
fn sweep_dust(state: &mut State) -> Result<Amount, TxError> {
    let dust = state.queue.qev.get().pool_dust_scaled;
    let units = Amount(dust / WAIT_FEE_SCALE);
    if units.is_zero() {
        return Ok(Amount::ZERO);
    }
    ledger::transfer(
        state,
        Asset::Usdai,
        ProtocolAccount::QevFeePool,
        ProtocolAccount::FeeCollector,
        units,
    )?;
    let qev = state.queue.qev.get_mut();
    qev.pool_dust_scaled = dust % WAIT_FEE_SCALE;
    qev.dust_swept_total = qev.dust_swept_total.checked_add(units)?;
    Ok(units)
}

// ---------------------------------------------------------------------------------------------
// Tradable positions.

/// Moves a request to a new owner with everything in it; the per-owner active counts follow.
fn change_owner(
    state: &mut State,
    request: &mut RedemptionRequest,
    to: Address,
) -> Result<(), TxError> {
    if request.is_active() {
        let params = state.governance.params.get();
        let active = state.queue.active_by_owner.get(&to).copied().unwrap_or(0);
        if active >= params.max_active_requests {
            return Err(QueueError::ActiveRequestsLimitReached.into());
        }
        queue::change_active_count(state, request.owner, false);
        queue::change_active_count(state, to, true);
    }
    request.owner = to;
    Ok(())
}

/// A request the sender owns, not listed, with no sealed bid waiting (an expired one is
/// resolved first), going to a recipient that is neither the sender nor frozen.
fn transferable_request(
    state: &mut State,
    sender: Address,
    id: RequestId,
    to: Address,
) -> Result<RedemptionRequest, TxError> {
    let mut request = queue::owned_request(state, sender, id)?;
    if to == sender {
        return Err(LedgerError::RecipientMustNotBeSender.into());
    }
    if to == Address::ZERO {
        return Err(LedgerError::RecipientMustNotBeZero.into());
    }
    if request.listing_price.is_some() {
        return Err(QevError::RequestIsListed.into());
    }
    resolve_expired_sealed_bid(state, &mut request)?;
    if request.sealed_bid.is_some() {
        return Err(QevError::SealedBidPending.into());
    }
    if state.ledger.is_frozen(sender) {
        return Err(LedgerError::SenderIsFrozen.into());
    }
    if state.ledger.is_frozen(to) {
        return Err(LedgerError::RecipientIsFrozen.into());
    }
    Ok(request)
}

/// `transfer_request`: give one's request, with its place, bid, escrow, claims and wait-fees,
/// to another address.
///
/// Checks, in order: request exists, sender owns it, recipient is not the sender nor the zero
/// address, it is not listed, no sealed bid is waiting, neither side is frozen, the recipient
/// is below its active request limit.
pub fn transfer_request(
    state: &mut State,
    sender: Address,
    id: RequestId,
    to: Address,
) -> Result<(), TxError> {
    let mut request = transferable_request(state, sender, id, to)?;
    change_owner(state, &mut request, to)?;
    state.queue.requests.insert(id, request);
    state.emit(Event::RequestTransferred { request_id: id, from: sender, to });
    Ok(())
}

/// `list_request`: offer one's request for sale at `price` USDai (listing again changes the
/// price). While listed the seller cannot cancel, re-bid, transfer or claim it.
///
/// Checks, in order: price is not zero, request exists, sender owns it, no sealed bid is
/// waiting (an expired one is resolved first), the sender is not frozen.
pub fn list_request(
    state: &mut State,
    sender: Address,
    id: RequestId,
    price: Amount,
) -> Result<(), TxError> {
    if price.is_zero() {
        return Err(LedgerError::AmountMustNotBeZero.into());
    }
    let mut request = queue::owned_request(state, sender, id)?;
    resolve_expired_sealed_bid(state, &mut request)?;
    if request.sealed_bid.is_some() {
        return Err(QevError::SealedBidPending.into());
    }
    if state.ledger.is_frozen(sender) {
        return Err(LedgerError::SenderIsFrozen.into());
    }
    request.listing_price = Some(price);
    state.queue.requests.insert(id, request);
    state.emit(Event::RequestListed { request_id: id, seller: sender, price });
    Ok(())
}

/// `delist_request`: withdraw one's listing.
///
/// Checks, in order: request exists, sender owns it, it is listed.
pub fn delist_request(state: &mut State, sender: Address, id: RequestId) -> Result<(), TxError> {
    let mut request = queue::owned_request(state, sender, id)?;
    if request.listing_price.take().is_none() {
        return Err(QevError::RequestIsNotListed.into());
    }
    state.queue.requests.insert(id, request);
    state.emit(Event::RequestDelisted { request_id: id });
    Ok(())
}

/// `buy_request`: an atomic swap: the listing price in USDai from the buyer to the seller, the
/// request (place, bid, escrow, claims, wait-fees) from the seller to the buyer.
///
/// Checks, in order: request exists, it is listed, the buyer is not the owner, the price is
/// at most `max_price`, the buyer is below its active request limit, then the USDai transfer
/// (balance, freezes).
pub fn buy_request(
    state: &mut State,
    sender: Address,
    id: RequestId,
    max_price: Amount,
) -> Result<(), TxError> {
    let mut request = state.queue.requests.get(&id).cloned().ok_or(QueueError::RequestNotFound)?;
    let Some(price) = request.listing_price else {
        return Err(QevError::RequestIsNotListed.into());
    };
    let seller = request.owner;
    if seller == sender {
        return Err(QevError::BuyerMustNotBeOwner.into());
    }
    if price > max_price {
        return Err(QevError::ListingPriceAboveMaximum.into());
    }
    change_owner(state, &mut request, sender)?;
    ledger::transfer(state, Asset::Usdai, sender, seller, price)?;
    request.listing_price = None;
    state.queue.requests.insert(id, request);
    state.emit(Event::RequestSold { request_id: id, seller, buyer: sender, price });
    Ok(())
}
