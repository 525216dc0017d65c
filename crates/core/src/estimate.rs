//! Service estimates (SPEC 11 "Estimates"): for any request, where it stands, how much is
//! ahead of it, when it should be served given the liquidity projected to arrive, and the bid
//! that would get it served in the next round. Pure queries: nothing here changes state.
//!
//! **Projected liquidity** at time `t` is the round liquidity now plus every scheduled inflow
//! at or before `t` ([`projected_liquidity`]). Inflows are a list of `(timestamp, USDai)`: the
//! API passes the loans' scheduled senior repayments (`loans::scheduled_senior_repayments`)
//! and [`base_yield_inflows`], the base yield projected from the T-bill rate (plus yield
//! already harvested and still vesting). Inflows are assumed to reach
//! the queue whole: the liquidity buffer is not re-applied to them (it grows only with the
//! value of unqueued shares), and requests or bids that arrive later are not foreseen.
//!
//! **Order.** Ahead of a request are the eligible requests before it in the service order
//! (higher bid, or equal bid and older) and the waiting requests older than it (they become
//! eligible first unless the notice period was shortened in between). Cost: O(B + log n) for B
//! eligible requests with a positive bid, bounded by [`ESTIMATE_BIDDERS_MAX`].

use crate::{
    error::TxError,
    ids::RequestId,
    math::{Amount, BPS_DENOMINATOR, Rounding, SECONDS_PER_DAY, WAD, mul_div},
    qev::QevError,
    queue::{self, QueueError, RedemptionRequest},
    reserve,
    state::State,
    vault::{self, Nav},
};
use serde::{Deserialize, Serialize};

/// The most scheduled inflows one estimate takes.
pub const INFLOWS_MAX: usize = 10_000;
/// The most bidders one estimate walks.
pub const ESTIMATE_BIDDERS_MAX: usize = 10_000;

/// Where a request stands and what it can expect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// The request.
    pub request_id: RequestId,
    /// Whether it is in the eligible order (its notice period is over and a round saw it).
    pub is_eligible: bool,
    /// When it may first be served.
    pub eligible_at: u64,
    /// Active requests ahead of it.
    pub position: u64,
    /// Their shares.
    pub shares_ahead: Amount,
    /// Their shares' value at the redemption share price now.
    pub assets_ahead: Amount,
    /// Its own remaining shares' value at the redemption share price now.
    pub assets: Amount,
    /// The round liquidity now.
    pub liquidity_now: Amount,
    /// When the next round may run (now if it may run already).
    pub next_round_at: u64,
    /// The first round time by which the projected liquidity covers everything ahead of it
    /// and itself; `None` if the projection never does.
    pub service_at: Option<u64>,
    /// The smallest bid per share (18-decimal) with which it would be served in full by the
    /// next round on the liquidity projected for it; `None` if no bid would do (not eligible
    /// by then, or larger than that liquidity).
    pub bid_to_serve_next_round_wad: Option<u128>,
}

/// Round liquidity `liquidity_now` plus every inflow at or before `at`, saturating.
pub fn projected_liquidity(liquidity_now: Amount, inflows: &[(u64, Amount)], at: u64) -> Amount {
    inflows
        .iter()
        .filter(|(timestamp, _)| *timestamp <= at)
        .fold(liquidity_now, |sum, (_, amount)| Amount(sum.0.saturating_add(amount.0)))
}

/// The earliest time the projected liquidity reaches `needed`, if it ever does.
fn liquidity_reaches(
    liquidity_now: Amount,
    sorted_inflows: &[(u64, Amount)],
    now: u64,
    needed: Amount,
) -> Option<u64> {
    if liquidity_now >= needed {
        return Some(now);
    }
    let mut sum = liquidity_now;
    for &(timestamp, amount) in sorted_inflows {
        sum = Amount(sum.0.saturating_add(amount.0));
        if sum >= needed {
            return Some(timestamp.max(now));
        }
    }
    None
}

/// Base-yield inflows over the next `horizon_secs`: yield already harvested and still vesting
/// (at the end of its vesting), the harvestable surplus now, and the reserve's T-bill accrual
/// per round interval (a day if rounds are back to back), each less the yield fee and arriving
/// when it would have vested after a harvest at the end of its interval. Rounded down. At most
/// [`INFLOWS_MAX`] entries.
pub fn base_yield_inflows(state: &State, horizon_secs: u64) -> Result<Vec<(u64, Amount)>, TxError> {
    let now = state.now();
    let params = state.governance.params.get();
    let step = match params.round_interval_secs {
        0 => SECONDS_PER_DAY,
        interval => interval,
    };
    let vesting = params.yield_vesting_secs;
    let keep_bps = BPS_DENOMINATOR - u128::from(params.yield_fee_bps.0.min(10_000));
    let after_fee = |amount: Amount| amount.mul_div(keep_bps, BPS_DENOMINATOR, Rounding::Down);
    let mut inflows = Vec::new();
    let vault_globals = state.vault.globals.get();
    let unvested = vault::unvested(vault_globals, now);
    if !unvested.is_zero() {
        inflows.push((vault_globals.vesting_ends_at, unvested));
    }
    let backing = reserve::backing(state)?;
    let surplus = after_fee(backing.surplus)?;
    if !surplus.is_zero() {
        inflows.push((now.saturating_add(vesting), surplus));
    }
    let rate = state.reserve.tbill.get().rate_per_second.0;
    let per_step = mul_div(
        backing.reserve_value.0,
        rate.saturating_mul(u128::from(step)),
        WAD,
        Rounding::Down,
    )?;
    let per_step = after_fee(Amount(per_step))?;
    let steps = (horizon_secs / step).min((INFLOWS_MAX - inflows.len()) as u64);
    if !per_step.is_zero() {
        for k in 1..=steps {
            let harvested_at = now.saturating_add(step.saturating_mul(k));
            inflows.push((harvested_at.saturating_add(vesting), per_step));
        }
    }
    Ok(inflows)
}

/// Shares and count of the eligible requests ahead of `request`, with the bidders walked
/// (O(B)) and the zero bids read from the eligible Fenwick tree (O(log n)). Also returns the
/// bidders other than `request` in order, for the bid-to-serve walk.
struct Ahead {
    shares: u128,
    count: u128,
    bidders: Vec<(u128, RequestId, Amount)>,
    zero_bid_older_shares: u128,
}

fn eligible_ahead(state: &State, request: &RedemptionRequest) -> Result<Ahead, TxError> {
    let mut ahead = Ahead { shares: 0, count: 0, bidders: Vec::new(), zero_bid_older_shares: 0 };
    let (mut older_bidder_shares, mut older_bidder_count) = (0u128, 0u128);
    let first_zero_bid_key = (u128::MAX, RequestId(0));
    for (&(inverted, id), _) in state.queue.eligible.range(..first_zero_bid_key) {
        if ahead.bidders.len() >= ESTIMATE_BIDDERS_MAX {
            return Err(QevError::BiddersTooMany.into());
        }
        if id == request.id {
            continue;
        }
        let shares = state.queue.requests.get(&id).map_or(Amount::ZERO, |r| r.shares_remaining);
        if (inverted, id) < request.priority_key() {
            ahead.shares = ahead.shares.saturating_add(shares.0);
            ahead.count += 1;
        }
        if id < request.id {
            older_bidder_shares = older_bidder_shares.saturating_add(shares.0);
            older_bidder_count += 1;
        }
        ahead.bidders.push((u128::MAX - inverted, id, shares));
    }
    // Eligible requests older than this one, less the older bidders: the older zero bids.
    let older = state.queue.eligible_shares.prefix(request.id.0);
    let zero_shares = older.0.saturating_sub(older_bidder_shares);
    let zero_count = older.1.saturating_sub(older_bidder_count);
    ahead.zero_bid_older_shares = zero_shares;
    if request.bid_price_wad == 0 {
        ahead.shares = ahead.shares.saturating_add(zero_shares);
        ahead.count = ahead.count.saturating_add(zero_count);
    }
    Ok(ahead)
}

/// Whether the waiting order (eligible time, then id) is also the id order: eligibility times
/// never fall as ids rise among the waiting requests, as long as no notice period was shortened
/// while requests waited. Then what waits before a point of that order is a prefix of ids,
/// which the `waiting_shares` tree sums in O(log n) ([`shares_ahead`]). Reads every waiting
/// request (O(n)): a reader asks once per state (the API once per block), not once per request.
pub fn waiting_order_follows_ids(state: &State) -> bool {
    let mut keys = state.queue.waiting.keys();
    let Some(mut previous) = keys.next() else { return true };
    for key in keys {
        if key.1 < previous.1 {
            return false;
        }
        previous = key;
    }
    true
}

/// Shares ahead of `request` as the API's estimate states them (`GET /v1/queue/{id}`): every
/// eligible request before it in the service order (all of them when it is not in that order:
/// still waiting, or served) and, while it has not become eligible, every waiting request
/// before it in the waiting order (eligible time, then id). Sums saturate.
/// `waiting_follows_ids` is [`waiting_order_follows_ids`] of `state`.
///
/// Cost: O(B + log n) for B eligible bidders: the eligible part as [`Estimate`]'s, the waiting
/// part one prefix of the `waiting_shares` tree while the waiting order follows the ids.
/// Otherwise (more than [`ESTIMATE_BIDDERS_MAX`] bidders, or a notice period shortened while
/// requests waited) it walks the indexes up to the request, as it always did: the same answer
/// at the walk's cost.
pub fn shares_ahead(
    state: &State,
    request: &RedemptionRequest,
    waiting_follows_ids: bool,
) -> Amount {
    let queue = &state.queue;
    let mut ahead = if queue.eligible.contains_key(&request.priority_key()) {
        match eligible_ahead(state, request) {
            Ok(ahead) => ahead.shares,
            Err(_) => walk_eligible_ahead(state, request),
        }
    } else {
        queue.eligible_shares.total().0
    };
    if !request.is_eligible {
        let waiting = if waiting_follows_ids {
            // What waits before the request's place is what waits before the first entry at
            // or after it: with ids in order, the entries of smaller id.
            match queue.waiting.range((request.eligible_at, request.id)..).next() {
                Some((&(_, first_after), ())) => queue.waiting_shares.prefix(first_after.0).0,
                None => queue.waiting_shares.total().0,
            }
        } else {
            walk_waiting_ahead(state, request)
        };
        ahead = ahead.saturating_add(waiting);
    }
    Amount(ahead)
}

/// [`shares_ahead`]'s eligible part by walking the service order up to the request.
pub fn walk_eligible_ahead(state: &State, request: &RedemptionRequest) -> u128 {
    let mut ahead = 0u128;
    for ((_, id), ()) in state.queue.eligible.iter() {
        if *id == request.id {
            break;
        }
        if let Some(other) = state.queue.requests.get(id) {
            ahead = ahead.saturating_add(other.shares_remaining.0);
        }
    }
    ahead
}

/// [`shares_ahead`]'s waiting part by walking the waiting order up to the request.
pub fn walk_waiting_ahead(state: &State, request: &RedemptionRequest) -> u128 {
    let mut ahead = 0u128;
    for ((eligible_at, id), ()) in state.queue.waiting.iter() {
        if (*eligible_at, *id) >= (request.eligible_at, request.id) {
            break;
        }
        if let Some(other) = state.queue.requests.get(id) {
            ahead = ahead.saturating_add(other.shares_remaining.0);
        }
    }
    ahead
}

/// The first round time at or after `ready`, on the schedule that starts at `next_round_at`.
fn round_time_at_or_after(next_round_at: u64, interval: u64, ready: u64) -> u64 {
    if ready <= next_round_at || interval == 0 {
        return ready.max(next_round_at);
    }
    let rounds = (ready - next_round_at).div_ceil(interval);
    next_round_at.saturating_add(rounds.saturating_mul(interval))
}

/// The smallest bid that puts `request` in the next round in full (see [`Estimate`]).
fn bid_to_serve_next_round(
    nav: &Nav,
    request: &RedemptionRequest,
    ahead: &Ahead,
    waiting_older_assets: Amount,
    liquidity: Amount,
    own: Amount,
) -> Result<Option<u128>, TxError> {
    let Some(budget) = liquidity.0.checked_sub(own.0) else { return Ok(None) };
    let mut used = 0u128;
    for &(bid, id, shares) in &ahead.bidders {
        used = used.saturating_add(nav.assets_for_redemption(shares)?.0);
        if used > budget {
            // It must be ahead of this bidder: the same bid if older, one unit more if not.
            return Ok(Some(if request.id < id { bid } else { bid.saturating_add(1) }));
        }
    }
    let zero_older = nav.assets_for_redemption(Amount(ahead.zero_bid_older_shares))?;
    let with_zero_bid = used.saturating_add(zero_older.0).saturating_add(waiting_older_assets.0);
    Ok(Some(if with_zero_bid <= budget { 0 } else { 1 }))
}

/// The estimate for request `id` given scheduled `inflows` (any order, at most
/// [`INFLOWS_MAX`]). See the module documentation for what it assumes.
pub fn estimate(
    state: &State,
    id: RequestId,
    inflows: &[(u64, Amount)],
) -> Result<Estimate, TxError> {
    if inflows.len() > INFLOWS_MAX {
        return Err(QevError::InflowsTooMany.into());
    }
    let request = state.queue.requests.get(&id).ok_or(QueueError::RequestNotFound)?;
    if !request.is_active() {
        return Err(QueueError::RequestAlreadyServed.into());
    }
    let now = state.now();
    let nav = vault::nav(state);
    let ahead = eligible_ahead(state, request)?;
    let waiting_older = state.queue.waiting_shares.prefix(id.0);
    let waiting_older_assets = nav.assets_for_redemption(Amount(waiting_older.0))?;
    let shares_ahead = Amount(ahead.shares.saturating_add(waiting_older.0));
    let assets_ahead = nav.assets_for_redemption(shares_ahead)?;
    let assets = nav.assets_for_redemption(request.shares_remaining)?;
    let liquidity_now = queue::round_liquidity(state)?;
    let next_round_at = queue::next_round_earliest_at(state).max(now);
    // Before the first round there is no schedule: a round may run whenever it is needed.
    let interval = match state.queue.globals.get().last_round_at {
        Some(_) => state.governance.params.get().round_interval_secs,
        None => 0,
    };
    let mut sorted = inflows.to_vec();
    sorted.sort_unstable();
    let needed = Amount(assets_ahead.0.saturating_add(assets.0));
    let service_at = liquidity_reaches(liquidity_now, &sorted, now, needed).map(|funded_at| {
        round_time_at_or_after(next_round_at, interval, funded_at.max(request.eligible_at))
    });
    let next_liquidity = projected_liquidity(liquidity_now, &sorted, next_round_at);
    let bid_to_serve_next_round_wad = match request.eligible_at <= next_round_at {
        false => None,
        true => bid_to_serve_next_round(
            &nav,
            request,
            &ahead,
            waiting_older_assets,
            next_liquidity,
            assets,
        )?,
    };
    Ok(Estimate {
        request_id: id,
        is_eligible: request.is_eligible,
        eligible_at: request.eligible_at,
        position: u64::try_from(ahead.count.saturating_add(waiting_older.1)).unwrap_or(u64::MAX),
        shares_ahead,
        assets_ahead,
        assets,
        liquidity_now,
        next_round_at,
        service_at,
        bid_to_serve_next_round_wad,
    })
}
