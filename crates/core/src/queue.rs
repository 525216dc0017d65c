//! The redemption queue (SPEC 6, 11): `request_redeem` locks shares, a keeper's servicing round
//! burns them at the redemption share price from liquidity that really arrived, and the owner
//! pulls the USDai with `claim`.
//!
//! Guarantees: a round never pays out more than its liquidity; eligible requests are served in
//! the order of the `eligible` index (bid, then request id, so FIFO among equal bids; with no
//! bids it is pure FIFO); a request's eligibility time is fixed when it is made; everything
//! owed is pulled, never pushed, so no holder can block the queue. A round that serves k
//! requests of n costs O(k log n) plus O(log n) per request that became eligible.

use crate::{
    error::TxError,
    event::Event,
    ids::{Address, Asset, ProtocolAccount, RequestId},
    ledger::{self, LedgerError},
    math::{Amount, Rounding},
    result_codes,
    state::State,
    table::{Journaled, Slot, Table},
    vault,
};
use serde::{Deserialize, Serialize};

result_codes! {
    /// Rejections of queue actions.
    pub enum QueueError {
        SharesBelowMinimumRedeem = 501 => "shares_below_minimum_redeem",
            "The request is smaller than the minimum redemption size.";
        ActiveRequestsLimitReached = 502 => "active_requests_limit_reached",
            "The owner already has the maximum number of unserved requests.";
        RequestNotFound = 503 => "request_not_found",
            "No redemption request has this id.";
        SenderIsNotRequestOwner = 504 => "sender_is_not_request_owner",
            "Only the request's owner may do this.";
        RequestAlreadyServed = 505 => "request_already_served",
            "The request has been fully served.";
        NothingToClaim = 506 => "nothing_to_claim",
            "The request has no served USDai waiting to be claimed.";
        RoundIntervalNotElapsed = 507 => "round_interval_not_elapsed",
            "The previous servicing round was less than the round interval ago.";
        RoundRequestLimitOutOfRange = 508 => "round_request_limit_out_of_range",
            "A round serves between 1 and the protocol's maximum number of requests.";
    }
}

/// The most requests one servicing round may serve.
pub const ROUND_REQUESTS_MAX: u32 = 10_000;
/// The most requests one round moves from waiting to eligible (the rest wait a round).
pub const ROUND_ACTIVATIONS_MAX: usize = 100_000;

/// A request to redeem shares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedemptionRequest {
    /// Its id (ids increase with time: the FIFO order).
    pub id: RequestId,
    /// Who owns it.
    pub owner: Address,
    /// Shares locked when it was made.
    pub shares_requested: Amount,
    /// Shares still locked, waiting to be served.
    pub shares_remaining: Amount,
    /// When it was made.
    pub created_at: u64,
    /// When it may first be served (fixed at creation).
    pub eligible_at: u64,
    /// The priority bid per share in USDai (18-decimal); 0 means none.
    pub bid_price_wad: u128,
    /// USDai served and waiting for the owner's claim.
    pub claimable: Amount,
    /// USDai claimed so far.
    pub claimed: Amount,
    /// Whether it has entered the eligible index.
    pub is_eligible: bool,
}

impl RedemptionRequest {
    /// The key that orders eligible requests: highest bid first, then oldest first.
    pub fn priority_key(&self) -> (u128, RequestId) {
        (u128::MAX - self.bid_price_wad, self.id)
    }

    /// Whether shares are still waiting to be served.
    pub fn is_active(&self) -> bool {
        !self.shares_remaining.is_zero()
    }
}

/// One servicing round, as published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// Its number, from 0.
    pub round: u64,
    /// When it ran.
    pub at: u64,
    /// The liquidity available to it.
    pub liquidity: Amount,
    /// Shares burned.
    pub served_shares: Amount,
    /// USDai made claimable.
    pub served_assets: Amount,
    /// Requests served in full or in part.
    pub requests_served: u32,
}

/// Queue-wide counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueGlobals {
    /// The next request id.
    pub next_request_id: u64,
    /// When the last round ran.
    pub last_round_at: Option<u64>,
    /// Rounds run so far.
    pub rounds: u64,
}

/// The queue.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueState {
    /// Every request not yet fully served and claimed.
    pub requests: Table<RequestId, RedemptionRequest>,
    /// Requests in their notice period, by (eligible time, id).
    pub waiting: Table<(u64, RequestId), ()>,
    /// Eligible requests in service order, by `priority_key`.
    pub eligible: Table<(u128, RequestId), ()>,
    /// Unserved requests per owner.
    pub active_by_owner: Table<Address, u32>,
    /// Every round, by number.
    pub rounds: Table<u64, RoundRecord>,
    /// Counters.
    pub globals: Slot<QueueGlobals>,
}

impl Journaled for QueueState {
    fn commit(&mut self) {
        self.requests.commit();
        self.waiting.commit();
        self.eligible.commit();
        self.active_by_owner.commit();
        self.rounds.commit();
        self.globals.commit();
    }

    fn rollback(&mut self) {
        self.requests.rollback();
        self.waiting.rollback();
        self.eligible.rollback();
        self.active_by_owner.rollback();
        self.rounds.rollback();
        self.globals.rollback();
    }
}

fn change_active_count(state: &mut State, owner: Address, increase: bool) {
    let count = state.queue.active_by_owner.get(&owner).copied().unwrap_or(0);
    let count =
        if increase { count + 1 } else { count.checked_sub(1).expect("active count underflow") };
    if count == 0 {
        state.queue.active_by_owner.remove(&owner);
    } else {
        state.queue.active_by_owner.insert(owner, count);
    }
}

fn owned_request(
    state: &State,
    sender: Address,
    id: RequestId,
) -> Result<RedemptionRequest, TxError> {
    let request = state.queue.requests.get(&id).ok_or(QueueError::RequestNotFound)?;
    if request.owner != sender {
        return Err(QueueError::SenderIsNotRequestOwner.into());
    }
    Ok(request.clone())
}

/// `request_redeem`: lock `shares` in a new request, eligible after the notice period.
pub fn request_redeem(state: &mut State, sender: Address, shares: Amount) -> Result<(), TxError> {
    if shares.is_zero() {
        return Err(LedgerError::AmountMustNotBeZero.into());
    }
    let params = state.governance.params.get();
    if shares < params.min_redeem_shares {
        return Err(QueueError::SharesBelowMinimumRedeem.into());
    }
    let active = state.queue.active_by_owner.get(&sender).copied().unwrap_or(0);
    if active >= params.max_active_requests {
        return Err(QueueError::ActiveRequestsLimitReached.into());
    }
    let now = state.now();
    let eligible_at = now.saturating_add(params.notice_period_secs);
    ledger::transfer(state, Asset::Susdai, sender, ProtocolAccount::QueueEscrow, shares)?;
    let globals = state.queue.globals.get_mut();
    let id = RequestId(globals.next_request_id);
    globals.next_request_id += 1;
    let request = RedemptionRequest {
        id,
        owner: sender,
        shares_requested: shares,
        shares_remaining: shares,
        created_at: now,
        eligible_at,
        bid_price_wad: 0,
        claimable: Amount::ZERO,
        claimed: Amount::ZERO,
        is_eligible: false,
    };
    state.queue.requests.insert(id, request);
    state.queue.waiting.insert((eligible_at, id), ());
    change_active_count(state, sender, true);
    state.emit(Event::RedemptionRequested { request_id: id, owner: sender, shares, eligible_at });
    Ok(())
}

/// `cancel_redeem`: unlock an unserved request's remaining shares; no fee.
pub fn cancel_redeem(state: &mut State, sender: Address, id: RequestId) -> Result<(), TxError> {
    let mut request = owned_request(state, sender, id)?;
    if !request.is_active() {
        return Err(QueueError::RequestAlreadyServed.into());
    }
    let shares = request.shares_remaining;
    ledger::transfer(state, Asset::Susdai, ProtocolAccount::QueueEscrow, sender, shares)?;
    if request.is_eligible {
        state.queue.eligible.remove(&request.priority_key());
    } else {
        state.queue.waiting.remove(&(request.eligible_at, id));
    }
    change_active_count(state, sender, false);
    request.shares_remaining = Amount::ZERO;
    if request.claimable.is_zero() {
        state.queue.requests.remove(&id);
    } else {
        state.queue.requests.insert(id, request);
    }
    state.emit(Event::RedemptionCancelled { request_id: id, shares });
    Ok(())
}

/// `claim`: the owner pulls the USDai its request has been served.
pub fn claim(state: &mut State, sender: Address, id: RequestId) -> Result<(), TxError> {
    let mut request = owned_request(state, sender, id)?;
    let amount = request.claimable;
    if amount.is_zero() {
        return Err(QueueError::NothingToClaim.into());
    }
    ledger::transfer(state, Asset::Usdai, ProtocolAccount::RedemptionClaims, sender, amount)?;
    request.claimable = Amount::ZERO;
    request.claimed = request.claimed.checked_add(amount)?;
    if request.is_active() {
        state.queue.requests.insert(id, request);
    } else {
        state.queue.requests.remove(&id);
    }
    state.emit(Event::RedemptionClaimed { request_id: id, owner: sender, assets: amount });
    Ok(())
}

/// Moves requests whose notice period has ended into the eligible index.
fn activate_eligible(state: &mut State) {
    let now = state.now();
    let due: Vec<(u64, RequestId)> = state
        .queue
        .waiting
        .range(..=(now, RequestId(u64::MAX)))
        .take(ROUND_ACTIVATIONS_MAX)
        .map(|(key, _)| *key)
        .collect();
    for key in due {
        state.queue.waiting.remove(&key);
        let Some(mut request) = state.queue.requests.get(&key.1).cloned() else {
            unreachable!("waiting index names a missing request");
        };
        request.is_eligible = true;
        state.queue.eligible.insert(request.priority_key(), ());
        state.queue.requests.insert(key.1, request);
    }
}

/// The liquidity a round may pay out now: unallocated vault USDai above the buffer. The buffer
/// is `liquidity_buffer_bps` of the value of the shares *not* in the queue, so it protects the
/// holders who stay, and a queue holding every share can drain the vault completely.
pub fn round_liquidity(state: &State) -> Result<Amount, TxError> {
    let nav = vault::nav(state);
    let locked = state.ledger.balance(ProtocolAccount::QueueEscrow, Asset::Susdai);
    let unlocked = nav.share_supply.saturating_sub(locked);
    let buffer = if nav.share_supply.is_zero() {
        Amount::ZERO
    } else {
        let unlocked_value =
            nav.conservative.mul_div(unlocked.0, nav.share_supply.0, Rounding::Up)?;
        unlocked_value.mul_bps(state.governance.params.get().liquidity_buffer_bps, Rounding::Up)?
    };
    Ok(nav.unallocated.saturating_sub(buffer))
}

/// `service_queue`: a keeper runs a servicing round over at most `max_requests` requests.
pub fn service_queue(state: &mut State, max_requests: u32) -> Result<(), TxError> {
    if max_requests == 0 || max_requests > ROUND_REQUESTS_MAX {
        return Err(QueueError::RoundRequestLimitOutOfRange.into());
    }
    let now = state.now();
    let globals = state.queue.globals.get();
    if let Some(last) = globals.last_round_at
        && now < last.saturating_add(state.governance.params.get().round_interval_secs)
    {
        return Err(QueueError::RoundIntervalNotElapsed.into());
    }
    activate_eligible(state);
    let liquidity = round_liquidity(state)?;
    let mut left = liquidity;
    let mut served_shares = Amount::ZERO;
    let mut served_assets = Amount::ZERO;
    let mut requests_served = 0u32;
    while requests_served < max_requests && !left.is_zero() {
        let Some((&key, _)) = state.queue.eligible.first() else { break };
        let Some(mut request) = state.queue.requests.get(&key.1).cloned() else {
            unreachable!("eligible index names a missing request");
        };
        let nav = vault::nav(state);
        let full_assets = nav.assets_for_redemption(request.shares_remaining)?;
        let (shares, assets) = if full_assets <= left {
            (request.shares_remaining, full_assets)
        } else {
            let shares = nav.shares_for_redemption_assets(left)?.min(request.shares_remaining);
            (shares, nav.assets_for_redemption(shares)?)
        };
        if shares.is_zero() {
            break;
        }
        assert!(assets <= left, "a round paid more than its liquidity");
        ledger::burn(state, Asset::Susdai, ProtocolAccount::QueueEscrow, shares)?;
        if !assets.is_zero() {
            ledger::transfer(
                state,
                Asset::Usdai,
                ProtocolAccount::Vault,
                ProtocolAccount::RedemptionClaims,
                assets,
            )?;
        }
        left = left.checked_sub(assets)?;
        served_shares = served_shares.checked_add(shares)?;
        served_assets = served_assets.checked_add(assets)?;
        requests_served += 1;
        request.shares_remaining = request.shares_remaining.checked_sub(shares)?;
        request.claimable = request.claimable.checked_add(assets)?;
        let fully_served = !request.is_active();
        if fully_served {
            state.queue.eligible.remove(&key);
            change_active_count(state, request.owner, false);
        }
        state.emit(Event::RedemptionServed {
            request_id: request.id,
            shares,
            assets,
            fully_served,
        });
        if fully_served && request.claimable.is_zero() {
            // Its last shares were worth less than one USDai unit (possible once the price of
            // a share unit is below 1, after a loss): they are burned for nothing, rounding in
            // the vault's favour, and nothing is left to claim. Drop it as `claim` drops a
            // finished request; stored, it could be neither claimed nor cancelled.
            state.queue.requests.remove(&request.id);
        } else {
            state.queue.requests.insert(request.id, request);
        }
        if !fully_served {
            break; // Liquidity ran out on a partial fill.
        }
    }
    let globals = state.queue.globals.get_mut();
    let round = globals.rounds;
    globals.rounds += 1;
    globals.last_round_at = Some(now);
    let record =
        RoundRecord { round, at: now, liquidity, served_shares, served_assets, requests_served };
    state.queue.rounds.insert(round, record.clone());
    state.emit(Event::QueueRoundServiced { record });
    Ok(())
}
