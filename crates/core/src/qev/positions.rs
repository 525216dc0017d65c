//! Tradable positions: a request can be transferred, listed at a USDai price, bought with its
//! place and bid, and delisted.
//!
//! A buyer is protected against the seller changing the listing before the purchase executes:
//! the price is bounded by `max_price`, and what the request holds by `min_value` (a seller
//! could otherwise delist, claim what the request is owed or lower its bid to take back the
//! escrow, and list it again at the same price).

use super::{QevError, resolve_expired_sealed_bid, wait_fees_now};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    ids::{Address, Asset, RequestId},
    ledger::{self, LedgerError},
    math::Amount,
    queue::{self, QueueError, RedemptionRequest},
    state::State,
    vault,
};
use serde::{Deserialize, Serialize};

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

/// Give one's request to another address.
///
/// Give one's request, with its place, bid, escrow, claims and wait-fees,
/// to another address.
///
/// Checks, in order: request exists, sender owns it, recipient is not the sender nor the zero
/// address, it is not listed, no sealed bid is waiting, neither side is frozen, the recipient
/// is below its active request limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The sender's request.
    pub request_id: RequestId,
    /// Its new owner.
    pub to: Address,
}

impl ActionHandler for TransferRequest {
    const NAME: &'static str = "transfer_request";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { request_id: id, to } = *self;
        let mut request = transferable_request(state, sender, id, to)?;
        change_owner(state, &mut request, to)?;
        state.queue.requests.insert(id, request);
        state.emit(Event::RequestTransferred { request_id: id, from: sender, to });
        Ok(())
    }
}

/// List one's request for sale at a USDai price.
///
/// Offer one's request for sale at `price` USDai (listing again changes the
/// price). While listed the seller cannot cancel, re-bid, transfer or claim it.
///
/// Checks, in order: price is not zero, request exists, sender owns it, no sealed bid is
/// waiting (an expired one is resolved first), the sender is not frozen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRequest {
    /// The sender's request.
    pub request_id: RequestId,
    /// The asking price for the whole position, in USDai base units.
    pub price: Amount,
}

impl ActionHandler for ListRequest {
    const NAME: &'static str = "list_request";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.price.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { request_id: id, price } = *self;
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
}

/// Withdraw one's listing.
///
/// Withdraw one's listing.
///
/// Checks, in order: request exists, sender owns it, it is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelistRequest {
    /// The sender's listed request.
    pub request_id: RequestId,
}

impl ActionHandler for DelistRequest {
    const NAME: &'static str = "delist_request";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.request_id;
        let mut request = queue::owned_request(state, sender, id)?;
        if request.listing_price.take().is_none() {
            return Err(QevError::RequestIsNotListed.into());
        }
        state.queue.requests.insert(id, request);
        state.emit(Event::RequestDelisted { request_id: id });
        Ok(())
    }
}

/// What a request is worth to whoever holds it now, in USDai base units: its unserved shares
/// at the redemption share price (rounded down), the USDai it is owed (served, or released
/// from escrow), its bid escrow, and its wait-fees earned and not yet claimed (vested or not;
/// credits not yet settled included). A sealed bid's deposit is left out: it is resolved,
/// and returned less any penalty, before a request can be listed.
pub fn position_value(state: &State, request: &RedemptionRequest) -> Result<Amount, TxError> {
    let shares = vault::nav(state).assets_for_redemption(request.shares_remaining)?;
    let fees = wait_fees_now(state, request.id)?;
    let unclaimed_fees = fees.earned.checked_sub(fees.claimed)?;
    Ok(shares
        .checked_add(request.claimable)?
        .checked_add(request.bid_escrow)?
        .checked_add(request.escrow_refund)?
        .checked_add(unclaimed_fees)?)
}

/// Buy a listed request for at most `max_price` USDai if it is worth at least `min_value`.
///
/// An atomic swap: the listing price in USDai from the buyer to the seller, the
/// request (place, bid, escrow, claims, wait-fees) from the seller to the buyer.
///
/// Checks, in order: request exists, it is listed, the buyer is not the owner, the price is
/// at most `max_price`, the request is worth at least `min_value` ([`position_value`]), the
/// buyer is below its active request limit, then the USDai transfer (balance, freezes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyRequest {
    /// The listed request bought.
    pub request_id: RequestId,
    /// The most USDai the buyer pays (slippage bound).
    pub max_price: Amount,
    /// The least the request must be worth when bought, in USDai base units
    /// ([`position_value`]): a bound against a seller who delists, empties the request
    /// (claims what it is owed, takes back its bid escrow) and lists it again at the same price
    /// before the purchase executes. 0 accepts whatever the request holds.
    pub min_value: Amount,
}

impl ActionHandler for BuyRequest {
    const NAME: &'static str = "buy_request";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { request_id: id, max_price, min_value } = *self;
        let mut request =
            state.queue.requests.get(&id).cloned().ok_or(QueueError::RequestNotFound)?;
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
        if position_value(state, &request)? < min_value {
            return Err(QevError::PositionValueBelowMinimum.into());
        }
        change_owner(state, &mut request, sender)?;
        ledger::transfer(state, Asset::Usdai, sender, seller, price)?;
        request.listing_price = None;
        state.queue.requests.insert(id, request);
        state.emit(Event::RequestSold { request_id: id, seller, buyer: sender, price });
        Ok(())
    }
}
