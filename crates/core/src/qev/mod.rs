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
//!
//! One file per part (`bids`, `wait_fees`, `rounds`, `positions`); this file holds the records,
//! the limits and the result codes.

mod bids;
mod positions;
mod rounds;
mod wait_fees;

pub use bids::{
    CommitSealedBid, RevealSealedBid, SetBid, escrow_for, is_reveal_window_open,
    sealed_bid_commitment,
};
pub(crate) use bids::{
    release_sealed_bid, resolve_expired_sealed_bid, resolve_sealed_bid_in_round,
};
pub use positions::{BuyRequest, DelistRequest, ListRequest, TransferRequest, position_value};
pub use rounds::next_clearing_price_ema;
pub(crate) use rounds::settle_round;
pub use wait_fees::{
    WaitFeeStatus, claimable_wait_fees, vested_wait_fees, wait_fee_index_at, wait_fees_now,
};
pub(crate) use wait_fees::{
    book_wait_fee_settlement, forfeit_unvested_wait_fees, pay_wait_fees, settle_wait_fees,
    wait_fee_settlement,
};

use crate::{
    fenwick::Sums,
    ids::{B256, RequestId},
    math::{Amount, WAD},
    result_codes,
};
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
        PositionValueBelowMinimum = 915 => "position_value_below_minimum",
            "The request is worth less than the buyer's minimum: its shares at the redemption price, the USDai it is owed or escrows, and its wait-fees.";
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
/// Vesting: at `vesting_started_at`, `vested_at_start` had vested; the rest of `credited` vests
/// linearly until `vesting_ends_at`. `claimed <= vested <= credited` at all times.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitFees {
    /// The wait-fee index at the last settlement (see [`wait_fee_index_at`]).
    pub index_snapshot: Sums,
    /// Credited so far.
    pub credited: Amount,
    /// Claimed so far.
    pub claimed: Amount,
    /// Vested at `vesting_started_at`.
    pub vested_at_start: Amount,
    /// When the current schedule starts.
    pub vesting_started_at: u64,
    /// When everything credited has vested.
    pub vesting_ends_at: u64,
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
    pub fee_time_origin_at: Option<u64>,
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
