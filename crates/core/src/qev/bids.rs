//! Bids and escrow: open bids escrowed in USDai (`bid x remaining shares`, rounded up), sealed
//! bids committed with a deposit and revealed in the window before a round, and their release
//! or penalty. A bid keys the eligible index, so a change costs O(log n).

use super::{QevError, SealedBid};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    ids::{Address, Asset, B256, ProtocolAccount, RequestId},
    ledger::{self, LedgerError},
    math::{Amount, Rounding, WAD, mul_div},
    queue::{self, QueueError, RedemptionRequest},
    state::State,
};
use alloy_primitives::keccak256;
use serde::{Deserialize, Serialize};

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

/// Attach, raise, lower or withdraw (0) the open priority bid per share on one's request.
///
/// Attach, raise, lower or withdraw (price 0) the open bid on one's own request.
/// The escrow moves to `bid x remaining shares` (rounded up): the difference is taken from or
/// returned to the sender's USDai.
///
/// Checks, in order: request exists, sender owns it, it is unserved, it is not listed, no
/// sealed bid is waiting, the bid changes, the escrow fits, the sender's balance covers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetBid {
    /// The sender's request.
    pub request_id: RequestId,
    /// The bid in USDai per share, 18-decimal fixed point; 0 withdraws it.
    #[serde(with = "crate::math::u128_serde")]
    pub price_wad: u128,
}

impl ActionHandler for SetBid {
    const NAME: &'static str = "set_bid";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { request_id: id, price_wad } = *self;
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

/// Commit a sealed bid with a USDai deposit (see `qev::sealed_bid_commitment`).
///
/// Commit to a hidden bid on one's own request with a USDai deposit. The
/// bid is for the next round; until revealed it counts as 0.
///
/// Checks, in order: deposit is not zero, request exists, sender owns it, it is unserved, it
/// is not listed, no sealed bid is waiting, its open bid is zero, the sender's balance covers
/// the deposit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitSealedBid {
    /// The sender's request.
    pub request_id: RequestId,
    /// The commitment (`qev::sealed_bid_commitment`).
    pub commitment: B256,
    /// USDai escrowed with it, in base units.
    pub deposit: Amount,
}

impl ActionHandler for CommitSealedBid {
    const NAME: &'static str = "commit_sealed_bid";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.deposit.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { request_id: id, commitment, deposit } = *self;
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
}

/// Reveal a sealed bid in the reveal window.
///
/// Open a sealed bid in the reveal window. It becomes the request's open
/// bid; its escrow comes out of the deposit and the rest returns to the sender.
///
/// Checks, in order: request exists, sender owns it, it is unserved, it is not listed, a
/// sealed bid is waiting, its round has not run (late), the reveal window is open (early),
/// price and salt match the commitment, the escrow fits in the deposit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealSealedBid {
    /// The sender's request.
    pub request_id: RequestId,
    /// The committed bid in USDai per share, 18-decimal fixed point.
    #[serde(with = "crate::math::u128_serde")]
    pub price_wad: u128,
    /// The committed salt.
    pub salt: B256,
}

impl ActionHandler for RevealSealedBid {
    const NAME: &'static str = "reveal_sealed_bid";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { request_id: id, price_wad, salt } = *self;
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
