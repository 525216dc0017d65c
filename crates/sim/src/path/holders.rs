//! Holder behaviour in a path: the month's redemption requests and deposits (decided by
//! [`crate::holders`]), bids for priority, the keeper's servicing rounds and the claims of
//! served requests, and the queue waits they produce.

use super::PathSim;
use crate::{
    SimError,
    book::DAY,
    convert::{amount_to_usd, bps, usd_to_amount, wad_to_f64},
    holders::{BidContext, HolderAction, HolderView, PACE_WINDOW_DAYS},
    market::MONTH_YEARS,
};
use infrafi_core::{
    Action, Amount, Asset, Bps, Event, ProtocolAccount, RequestId, Rounding,
    action::{Claim, RequestRedeem, ServiceQueue, SetBid, Stake},
    qev,
    queue::{self, ROUND_REQUESTS_MAX, RoundRecord},
    vault,
};

pub(super) struct RequestSim {
    pub(super) holder: u32,
    pub(super) created_at: u64,
    pub(super) shares: f64,
    /// Whether it was made in a run.
    pub(super) in_run: bool,
    /// Whether its holder bid for priority.
    pub(super) bid: bool,
}

impl PathSim<'_> {
    pub(super) fn holders_month(&mut self, k: u32) -> Result<(), SimError> {
        let scenario = self.model.scenario;
        let spec = &scenario.holders;
        let prices = &self.out.price_monthly;
        let current = *prices.last().unwrap_or(&1.0);
        let lookback = spec.apy_lookback_months as usize;
        let trailing_apy = (prices.len() > lookback).then(|| {
            let past = prices[prices.len() - 1 - lookback];
            (current / past).powf(365.0 / (30.0 * lookback as f64)) - 1.0
        });
        let drawdown_bps = if self.high_water_price > 0.0 {
            (self.high_water_price - current) / self.high_water_price * 1e4
        } else {
            0.0
        };
        let view = HolderView { trailing_apy, tbill_apr: self.market.tbill_apr, drawdown_bps };
        let decision = self.redemption.decide(spec, &view);
        let first_day = k * 30;
        let holders = self.model.book.holders.len() as u32;
        for holder in 0..holders {
            let day = first_day + self.rng_holders.below(30) as u32;
            self.push_holder_action(
                day,
                HolderAction::RequestRedeem {
                    holder,
                    fraction: decision.fraction,
                    in_run: decision.in_run,
                },
            );
        }
        for run in spec.runs.iter().filter(|run| run.month == k) {
            // `share_bps` of all shares, each holder asking for that share of its own.
            for holder in 0..holders {
                let day = first_day + holder % run.days;
                let fraction = bps(run.share_bps);
                self.push_holder_action(
                    day,
                    HolderAction::RequestRedeem { holder, fraction: -fraction, in_run: true },
                );
            }
        }
        let apy_ok = trailing_apy.is_none_or(|apy| apy >= self.market.tbill_apr);
        if spec.deposit_rate_annual > 0.0 && !decision.in_run && apy_ok {
            let monthly = (1.0 + spec.deposit_rate_annual).powf(MONTH_YEARS) - 1.0;
            let nav = vault::nav(&self.chain.state);
            let assets = usd_to_amount(amount_to_usd(nav.conservative) * monthly);
            let holder =
                self.model.book.holders[self.rng_holders.below(u64::from(holders)) as usize];
            if !assets.is_zero() {
                self.chain.fund_usdai(holder, assets)?;
                self.apply(holder, Action::Stake(Stake { assets, min_shares: Amount::ZERO }))?;
            }
        }
        Ok(())
    }

    pub(super) fn push_holder_action(&mut self, day: u32, action: HolderAction) {
        if let Some(bucket) = self.holder_actions.get_mut(day as usize) {
            bucket.push(action);
        }
    }

    pub(super) fn holder_day(&mut self, day: u32) -> Result<(), SimError> {
        let actions = std::mem::take(&mut self.holder_actions[day as usize]);
        for action in actions {
            self.execute(action)?;
        }
        Ok(())
    }

    /// Executes one holder action. A negative fraction marks a scheduled run's request: a
    /// share of the holder's total shares (those already queued included), capped by what is
    /// unlocked; otherwise the fraction is of the unlocked shares.
    pub(super) fn execute(&mut self, action: HolderAction) -> Result<(), SimError> {
        match action {
            HolderAction::RequestRedeem { holder, fraction, in_run } => {
                let address = self.model.book.holders[holder as usize];
                let state = &self.chain.state;
                let unlocked = state.ledger.balance(address, Asset::Susdai);
                let share = Bps((fraction.abs() * 1e4).round().clamp(0.0, 1e4) as u32);
                let shares = if fraction < 0.0 {
                    let queued: f64 = self
                        .requests
                        .values()
                        .filter(|request| request.holder == holder)
                        .map(|request| request.shares)
                        .sum();
                    let total = amount_to_usd(unlocked) + queued;
                    usd_to_amount(total * fraction.abs()).min(unlocked)
                } else {
                    unlocked.mul_bps(share, Rounding::Down).unwrap_or(Amount::ZERO)
                };
                let params = state.governance.params.get();
                let active = state.queue.active_by_owner.get(&address).copied().unwrap_or(0);
                if shares < params.min_redeem_shares || active >= params.max_active_requests {
                    return Ok(());
                }
                let events =
                    self.apply(address, Action::RequestRedeem(RequestRedeem { shares }))?.to_vec();
                for event in events {
                    if let Event::RedemptionRequested { request_id, shares, .. } = event {
                        let shares_usd = amount_to_usd(shares);
                        let bid = self.bid(address, request_id, shares, in_run)?;
                        self.requests.insert(
                            request_id,
                            RequestSim {
                                holder,
                                created_at: self.chain.now(),
                                shares: shares_usd,
                                in_run,
                                bid,
                            },
                        );
                        self.out.requested_shares += shares_usd;
                    }
                }
            }
            HolderAction::Claim { holder, request } => {
                let address = self.model.book.holders[holder as usize];
                let events =
                    self.chain.apply(address, Action::Claim(Claim { request_id: request }))?;
                for event in events {
                    if let Event::WaitFeesClaimed { amount, .. } = event {
                        self.out.wait_fees_claimed_usd += amount_to_usd(*amount);
                    }
                }
                self.chain.redeem_all_usdai(address)?;
            }
        }
        Ok(())
    }

    /// The holder of a fresh request bids for priority if the bid model makes it urgent and
    /// priority is worth something to it: it funds the escrow with USDai and sends `set_bid`
    /// (a rejection is an error of the run). Returns whether it bid.
    pub(super) fn bid(
        &mut self,
        owner: infrafi_core::Address,
        request_id: RequestId,
        shares: Amount,
        in_run: bool,
    ) -> Result<bool, SimError> {
        let policy = self.model.bids;
        if !policy.is_urgent(in_run, &mut self.rng_bids) {
            return Ok(false);
        }
        let state = &self.chain.state;
        let price_wad = vault::nav(state).redemption_price_wad();
        let queued = state.ledger.balance(ProtocolAccount::QueueEscrow, Asset::Susdai);
        let liquidity = queue::round_liquidity(state).map_err(|_| SimError::Overflow)?;
        let today = self.day_of(self.chain.now()) as u32;
        let served: f64 = self
            .served_by_day
            .iter()
            .filter(|(day, _)| *day < today && today - *day <= PACE_WINDOW_DAYS)
            .map(|(_, usd)| usd)
            .sum();
        let context = BidContext {
            assets_ahead_usd: amount_to_usd(queued.saturating_sub(shares)) * wad_to_f64(price_wad),
            liquidity_usd: amount_to_usd(liquidity),
            // Early in a path fewer days have passed than the window holds.
            served_per_day_usd: served / f64::from(today.clamp(1, PACE_WINDOW_DAYS)),
            notice_days: state.governance.params.get().notice_period_secs as f64 / DAY as f64,
            share_price_wad: price_wad,
        };
        let Some(price_wad) = policy.bid_price_wad(&context) else {
            self.out.urgent_without_bid += 1;
            return Ok(false);
        };
        let escrow = qev::escrow_for(price_wad, shares).map_err(|_| SimError::Overflow)?;
        self.chain.fund_usdai(owner, escrow)?;
        self.apply(owner, Action::SetBid(SetBid { request_id, price_wad }))?;
        self.out.bids += 1;
        Ok(true)
    }

    /// Counts a request's wait until `now` (its full service, or the horizon) in the
    /// histograms it belongs to.
    pub(super) fn record_wait(&mut self, request: &RequestSim, now: u64) {
        let days = ((now - request.created_at) / DAY) as u32;
        let out = &mut self.out;
        *out.waits.entry(days).or_insert(0.0) += request.shares;
        if request.in_run {
            *out.run_waits.entry(days).or_insert(0.0) += request.shares;
        }
        if request.bid {
            *out.bidder_waits.entry(days).or_insert(0.0) += request.shares;
        }
        if self.model.scenario.holders.bids.is_on() {
            let day = self.waits_by_request_day.entry(request.created_at / DAY).or_default();
            let at = if request.bid { 0 } else { 2 };
            day[at] += request.shares;
            day[at + 1] += request.shares * f64::from(days);
        }
    }

    /// Records a round: its clearing price and fees, and what it served (the pace bidders
    /// judge the queue by).
    pub(super) fn round_serviced(&mut self, record: &RoundRecord) {
        let day = self.day_of(record.at) as u32;
        self.served_by_day[(day % PACE_WINDOW_DAYS) as usize] =
            (day, amount_to_usd(record.served_assets));
        self.out.clearing_price_max =
            self.out.clearing_price_max.max(wad_to_f64(record.clearing_price_wad));
        self.out.priority_fees_usd += amount_to_usd(record.bid_fees_paid);
        self.out.wait_fees_usd += amount_to_usd(record.wait_fees_distributed);
    }

    /// A keeper runs a servicing round when a request is (or becomes) eligible; served
    /// requests are claimed at once, and claimed again for their wait-fees once those vested.
    pub(super) fn queue_round(&mut self) -> Result<(), SimError> {
        let state = &self.chain.state;
        let now = self.chain.now();
        let waiting_due = state.queue.waiting.first().is_some_and(|((at, _), _)| *at <= now);
        if state.queue.eligible.is_empty() && !waiting_due {
            return Ok(());
        }
        let interval = state.governance.params.get().round_interval_secs;
        if state.queue.globals.get().last_round_at.is_some_and(|last| now < last + interval) {
            return Ok(());
        }
        let keeper = self.chain.actors.keeper;
        let events = self
            .apply(keeper, Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }))?
            .to_vec();
        let mut claims = Vec::new();
        for event in &events {
            match event {
                Event::QueueRoundServiced { record } => self.round_serviced(record),
                Event::RedemptionServed { request_id, fully_served: true, .. } => {
                    let Some(request) = self.requests.remove(request_id) else { continue };
                    self.record_wait(&request, now);
                    let owed = self
                        .chain
                        .state
                        .queue
                        .requests
                        .get(request_id)
                        .is_some_and(|r| !r.claimable.is_zero() || !r.escrow_refund.is_zero());
                    if owed {
                        claims.push((request.holder, *request_id));
                    }
                }
                _ => {}
            }
        }
        let fees_paid = self.out.wait_fees_usd > 0.0;
        for (holder, request) in claims {
            self.execute(HolderAction::Claim { holder, request })?;
            // Wait-fees vest over `fee_vesting_secs`: what this claim could not take yet is
            // claimed once all of it has vested. No wait-fees paid in the path yet: none owed.
            // A request with nothing left to pay is no longer stored.
            if fees_paid && self.chain.state.queue.requests.contains_key(&request) {
                let fees = qev::wait_fees_now(&self.chain.state, request)
                    .map_err(|_| SimError::Overflow)?;
                if fees.earned > fees.claimed {
                    let vesting = self.chain.state.governance.params.get().fee_vesting_secs;
                    let day = self.day_of(now) + vesting.div_ceil(DAY) + 1;
                    self.push_holder_action(day as u32, HolderAction::Claim { holder, request });
                    self.out.deferred_fee_claims += 1;
                }
            }
        }
        Ok(())
    }
}
