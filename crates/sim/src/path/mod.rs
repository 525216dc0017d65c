//! One Monte Carlo path: the book's state stepped day by day through the real state machine.
//!
//! Each simulated day is one block. On the first day of each 30-day month the market moves,
//! the oracle posts the T-bill rate, a keeper harvests base yield, admin applies generation
//! step-downs for launches, appraisers re-value the collateral at the resale model's prices
//! and a keeper re-marks every open loan (opening margin calls). Then, every day: loans due
//! that day are paid from the lockbox if the borrower's rental revenue and cash cover them
//! (else they go late, and default once the grace period lapses), borrowers in margin call
//! prepay to cure if they can, defaulted loans are foreclosed and sold after the liquidation
//! delay with the cost model, holders' requests are made, and a keeper runs a servicing round
//! whose served requests are claimed. Every money movement is a transaction through
//! [`infrafi_core::apply`].
//!
//! This module is the path loop (the days, the month boundary, appraisals and re-marks, the
//! measurements); what borrowers do is in `borrowers`, what holders do (and the keeper's
//! servicing rounds that serve them) in `holders`.

use crate::{
    SimError,
    book::{Book, DAY},
    chain::Chain,
    convert::{amount_to_usd, apr_to_rate, usd_to_amount, wad_to_f64},
    holders::{BidPolicy, HolderAction, PACE_WINDOW_DAYS, RedemptionModel},
    market::{MarketModel, MarketState},
    rng::{Rng, Stream},
    scenario::Scenario,
};
use infrafi_core::{
    Action, Amount, Asset, Bps, Event, LoanId, RequestId,
    action::{
        ApplyGenerationStepDown, HarvestBaseYield, PostTbillRate, PostValuation, RemarkLoans,
    },
    loans::{self, LoanStatus},
    receipts::ReceiptStatus,
    reserve, vault,
};
use std::collections::BTreeMap;

mod borrowers;
mod holders;

use borrowers::{Borrower, LoanEvent, LoanSim};
use holders::RequestSim;

/// Everything a path needs that every path shares.
pub struct Model<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Its market model.
    pub market: &'a MarketModel,
    /// The starting book.
    pub book: &'a Book,
    /// How holders bid for priority.
    pub bids: &'a dyn BidPolicy,
}

/// What one path produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PathOutcome {
    /// Redemption share price (USD per sUSDai) at each month boundary, 0..=horizon.
    pub price_monthly: Vec<f64>,
    /// Conservative NAV at each month boundary, USD.
    pub nav_monthly: Vec<f64>,
    /// By month (0..=horizon): senior loss so far (written off plus impaired), USD.
    pub senior_loss_monthly: Vec<f64>,
    /// By month (0..=horizon): first-loss capital consumed so far, all silos, USD.
    pub first_loss_used_monthly: Vec<f64>,
    /// By month (0..=horizon): loans defaulted so far.
    pub defaults_monthly: Vec<u32>,
    /// By month (0..=horizon): the rental index of each class (1 at the start).
    pub rental_index_monthly: Vec<Vec<f64>>,
    /// By month (0..=horizon): the T-bill APR posted.
    pub tbill_monthly: Vec<f64>,
    /// Senior principal written off at settlements, USD.
    pub senior_loss_realised_usd: f64,
    /// Senior impairment still carried at the horizon, USD.
    pub senior_impairment_usd: f64,
    /// Per silo: whether its free first-loss pool was exhausted.
    pub silo_exhausted: Vec<bool>,
    /// Per silo: first-loss capital consumed (pool cover + junior written off), USD.
    pub silo_first_loss_used_usd: Vec<f64>,
    /// Annualised growth of the redemption share price over the horizon.
    pub apy: f64,
    /// Largest fall of the share price from its high, as a fraction.
    pub max_drawdown: f64,
    /// Queue waits: days from request to full service -> shares (sUSDai).
    pub waits: BTreeMap<u32, f64>,
    /// Shares requested and still unserved at the horizon.
    pub unserved_shares: f64,
    /// Shares requested over the path.
    pub requested_shares: f64,
    /// Queue waits of the requests made in a run (bidding or not): days -> shares (sUSDai);
    /// a subset of `waits`, and what bidders in a run are fairly compared with.
    pub run_waits: BTreeMap<u32, f64>,
    /// Queue waits of the requests that bid: days -> shares (sUSDai); a subset of `waits`.
    pub bidder_waits: BTreeMap<u32, f64>,
    /// How many days sooner bidders were served than the plain requests made the same day:
    /// per day with both, the plain requests' mean wait less the bidders' (share-weighted),
    /// averaged over those days weighted by the bidders' shares. `None` without such a day.
    pub bid_lead_days: Option<f64>,
    /// Priority bids placed.
    pub bids: u32,
    /// Urgent requests that did not bid because they expected no wait beyond the notice
    /// period (priority was worth nothing to them).
    pub urgent_without_bid: u32,
    /// Highest clearing price of a round, USD per share.
    pub clearing_price_max: f64,
    /// Priority fees the jumpers paid, USD.
    pub priority_fees_usd: f64,
    /// Wait-fees credited to the overtaken (patient) requests, USD.
    pub wait_fees_usd: f64,
    /// Wait-fees the holders claimed, USD (the rest was still vesting, or its request still
    /// unserved, at the horizon).
    pub wait_fees_claimed_usd: f64,
    /// Claims sent once a served request's wait-fees had vested (its first claim, at service,
    /// could not take them all).
    pub deferred_fee_claims: u32,
    /// Lowest USDai backing ratio seen (reserve value / supply).
    pub backing_min: f64,
    /// Loans defaulted.
    pub defaults: u32,
    /// Of which: the borrower walked away (the default model's draw) while it could pay.
    pub defaults_walked_away: u32,
    /// Of which: the borrower's cash could not pay what was due by the end of the grace period.
    pub defaults_unpaid: u32,
    /// Of which: a margin call's cure window lapsed.
    pub defaults_margin_call: u32,
    /// Principal outstanding at default, summed over the loans that defaulted, USD.
    pub default_exposure_usd: f64,
    /// Principal at default of the defaulted loans whose hardware was sold in the path, USD.
    pub settled_exposure_usd: f64,
    /// Net sale proceeds (gross less costs) of those loans, each capped at its principal at
    /// default, USD: `recovered / settled_exposure` is the recovery rate.
    pub recovered_usd: f64,
    /// Principal outstanding of the open loans summed over the month boundaries, USD-months.
    pub principal_months_usd: f64,
    /// Margin calls opened.
    pub margin_calls: u32,
    /// Margin calls cured by a prepayment.
    pub cures: u32,
    /// Late payments made within grace.
    pub late_payments: u32,
    /// Receipts sold by the liquidation agent.
    pub sales: u32,
    /// Active loans summed over the months simulated.
    pub loan_months: u64,
    /// Transactions applied.
    pub transactions: u64,
}

impl PathOutcome {
    /// Senior loss: written off plus still impaired at the horizon, USD.
    pub fn senior_loss_usd(&self) -> f64 {
        self.senior_loss_realised_usd + self.senior_impairment_usd
    }
}

struct PathSim<'a> {
    model: &'a Model<'a>,
    chain: Chain,
    market: MarketState,
    rng_market: Rng,
    rng_credit: Rng,
    rng_holders: Rng,
    rng_liquidation: Rng,
    rng_bids: Rng,
    loans: Vec<LoanSim>,
    /// Book loan index by loan id.
    loan_index: BTreeMap<LoanId, usize>,
    loan_events: Vec<Vec<(u32, LoanEvent)>>,
    holder_actions: Vec<Vec<HolderAction>>,
    requests: BTreeMap<RequestId, RequestSim>,
    /// By the day requests were made: shares and shares x wait of those that bid, then of
    /// those that did not (for `bid_lead_days`).
    waits_by_request_day: BTreeMap<u64, [f64; 4]>,
    redemption: RedemptionModel,
    /// USDai served by the round of each of the last `PACE_WINDOW_DAYS` days, by day modulo
    /// the window, with the day it is for (a slot from an older day counts as nothing).
    served_by_day: [(u32, f64); PACE_WINDOW_DAYS as usize],
    high_water_price: f64,
    out: PathOutcome,
    days: u32,
}

/// Runs path `path` of a run seeded with `seed`.
pub fn run_path(model: &Model, seed: u64, path: u64) -> Result<PathOutcome, SimError> {
    let book = model.book;
    let days = model.scenario.horizon_months * 30;
    let chain = Chain::new(book.state.clone(), book.actors.clone(), book.next_external_id);
    let cash_months = model.scenario.borrowers.cash_reserve_months;
    let mut loans = Vec::with_capacity(book.loans.len());
    let mut loan_index = BTreeMap::new();
    for (i, book_loan) in book.loans.iter().enumerate() {
        loan_index.insert(book_loan.id, i);
        let (status, cash) = match chain.state.loans.loans.get(&book_loan.id) {
            Some(loan) if loan.status == LoanStatus::Active => {
                let payment = loans::payment_due(loan, loan.next_due_at)
                    .and_then(|due| due.total())
                    .map(amount_to_usd)
                    .unwrap_or(0.0);
                (Borrower::Performing, payment * cash_months)
            }
            Some(loan) if loan.status == LoanStatus::Defaulted => (Borrower::Defaulted, 0.0),
            _ => (Borrower::Done, 0.0),
        };
        loans.push(LoanSim { status, cash, level_payment: None, exposure_at_default_usd: 0.0 });
    }
    let mut rng_market = Rng::for_path(seed, path, Stream::Market);
    let mut sim = PathSim {
        model,
        chain,
        market: model.market.start_path(&mut rng_market),
        rng_market,
        rng_credit: Rng::for_path(seed, path, Stream::Credit),
        rng_holders: Rng::for_path(seed, path, Stream::Holders),
        rng_liquidation: Rng::for_path(seed, path, Stream::Liquidation),
        rng_bids: Rng::for_path(seed, path, Stream::Bids),
        loans,
        loan_index,
        loan_events: vec![Vec::new(); days as usize + 1],
        holder_actions: vec![Vec::new(); days as usize + 1],
        requests: BTreeMap::new(),
        waits_by_request_day: BTreeMap::new(),
        redemption: RedemptionModel::default(),
        served_by_day: [(u32::MAX, 0.0); PACE_WINDOW_DAYS as usize],
        high_water_price: 0.0,
        out: PathOutcome {
            silo_exhausted: vec![false; book.silos.len()],
            silo_first_loss_used_usd: vec![0.0; book.silos.len()],
            backing_min: f64::INFINITY,
            ..PathOutcome::default()
        },
        days,
    };
    sim.schedule_book()?;
    sim.run()?;
    Ok(sim.out)
}

fn event_loan(event: &Event) -> Option<LoanId> {
    match event {
        Event::MarginCallOpened { loan_id, .. } => Some(*loan_id),
        _ => None,
    }
}

impl PathSim<'_> {
    fn start(&self) -> u64 {
        self.model.book.start
    }

    fn day_of(&self, timestamp: u64) -> u64 {
        timestamp.saturating_sub(self.start()) / DAY
    }

    /// The first day strictly after `timestamp`.
    fn day_after(&self, timestamp: u64) -> u64 {
        timestamp.saturating_sub(self.start()) / DAY + 1
    }

    fn schedule(&mut self, day: u64, loan: usize, event: LoanEvent) {
        if let Some(bucket) = self.loan_events.get_mut(day as usize) {
            bucket.push((loan as u32, event));
        }
        // Beyond the horizon: it never happens in this path.
    }

    /// Schedules what the book's loans do first, and the requests already queued.
    fn schedule_book(&mut self) -> Result<(), SimError> {
        for i in 0..self.model.book.loans.len() {
            let id = self.model.book.loans[i].id;
            let Some(loan) = self.chain.state.loans.loans.get(&id) else { continue };
            match loan.status {
                LoanStatus::Active => {
                    let day = self.day_of(loan.next_due_at);
                    self.schedule(day, i, LoanEvent::Due);
                }
                LoanStatus::Defaulted => self.schedule(0, i, LoanEvent::Sale),
                _ => {}
            }
        }
        let holders = &self.model.book.holders;
        for (id, request) in self.chain.state.queue.requests.iter() {
            if let Some(holder) = holders.iter().position(|h| *h == request.owner) {
                let shares = amount_to_usd(request.shares_remaining);
                self.requests.insert(
                    *id,
                    RequestSim {
                        holder: holder as u32,
                        created_at: request.created_at,
                        shares,
                        in_run: false,
                        bid: request.bid_price_wad > 0,
                    },
                );
                self.out.requested_shares += shares;
            }
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), SimError> {
        for day in 0..self.days {
            let t = self.start() + u64::from(day) * DAY;
            self.chain.at(t)?;
            if day % 30 == 0 {
                self.month(day / 30)?;
            }
            self.loan_day(day)?;
            self.holder_day(day)?;
            self.queue_round()?;
            self.sample_price();
        }
        let end = self.start() + u64::from(self.days) * DAY;
        self.chain.at(end)?;
        // The market of the horizon's month, for the last row of the monthly series (no
        // transaction follows, so nothing else depends on it).
        self.model.market.step(&mut self.market, &mut self.rng_market);
        self.sample_month();
        self.finish();
        Ok(())
    }

    // ---- Month boundary -------------------------------------------------------------------

    fn month(&mut self, k: u32) -> Result<(), SimError> {
        let model = self.model;
        if k > 0 {
            model.market.step(&mut self.market, &mut self.rng_market);
        }
        self.sample_month();
        let actors = self.chain.actors.clone();
        let rate = apr_to_rate(self.market.tbill_apr);
        self.apply(actors.oracle, Action::PostTbillRate(PostTbillRate { rate }))?;
        // The oracle posts each class's modelled rent: the chain's marks follow the index.
        for (c, class) in model.market.classes.iter().enumerate() {
            let Some(&id) = model.book.classes.get(c) else { continue };
            let rent = class.rental_usd_per_hour * model.market.rental_index(&self.market, c);
            crate::valuation::post_index(&mut self.chain, id, rent)?;
        }
        if reserve::backing(&self.chain.state).is_ok_and(|backing| !backing.surplus.is_zero())
            && !self.chain.state.ledger.supply_of(Asset::Susdai).is_zero()
        {
            self.apply(actors.keeper, Action::HarvestBaseYield(HarvestBaseYield {}))?;
        }
        for (c, log_step) in self.market.launches.clone() {
            let resale_keep = (model.market.classes[c].elasticity * log_step).exp();
            let step_down = ((1.0 - resale_keep) * 1e4).round();
            if step_down < 1.0 {
                continue; // Resale prices do not follow rents in this class.
            }
            let step_down_bps = step_down.min(9_999.0) as u32;
            let class = model.book.classes[c];
            if !self.chain.state.receipts.classes.contains_key(&class) {
                continue; // A class the scenario models but the book (a node's) never listed.
            }
            self.apply(
                actors.admin,
                Action::ApplyGenerationStepDown(ApplyGenerationStepDown {
                    class,
                    step_down_bps: Bps(step_down_bps),
                }),
            )?;
        }
        self.appraise(k)?;
        self.remark()?;
        self.holders_month(k)?;
        Ok(())
    }

    /// Appraisers value each pledged or foreclosed receipt at the resale model's price.
    fn appraise(&mut self, k: u32) -> Result<(), SimError> {
        let model = self.model;
        let interval = model.scenario.book.appraisal_interval_months as usize;
        let now = self.chain.now();
        let appraiser = self.chain.actors.appraiser;
        for (i, book_loan) in model.book.loans.iter().enumerate() {
            if !matches!(self.loans[i].status, Borrower::Done)
                && (i + k as usize).is_multiple_of(interval)
            {
                let age =
                    (now.saturating_sub(book_loan.hardware_new_at)) as f64 / (365.0 * DAY as f64);
                let unit = model.market.resale_usd_per_unit(&self.market, book_loan.class, age);
                for &receipt_id in &book_loan.receipts {
                    let receipt = self.chain.state.receipts.receipts.get(&receipt_id);
                    let Some(receipt) = receipt else { continue };
                    if !matches!(receipt.status, ReceiptStatus::Pledged | ReceiptStatus::Foreclosed)
                    {
                        continue;
                    }
                    let units = f64::from(receipt.description.quantity);
                    let value = usd_to_amount(unit * units).max(Amount(1));
                    self.apply(
                        appraiser,
                        Action::PostValuation(PostValuation { receipt_id, value }),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// A keeper re-marks every open loan; borrowers answer new margin calls.
    fn remark(&mut self) -> Result<(), SimError> {
        let open = self.chain.state.loans.open.len();
        if open == 0 {
            return Ok(());
        }
        let keeper = self.chain.actors.keeper;
        let mut called = Vec::new();
        let mut first = LoanId(0);
        let mut left = open;
        while left > 0 {
            let batch = left.min(loans::REMARK_BATCH_MAX as usize);
            let events = self
                .apply(
                    keeper,
                    Action::RemarkLoans(RemarkLoans {
                        first_loan_id: first,
                        max_loans: batch as u32,
                    }),
                )?
                .to_vec();
            called.extend(events.iter().filter_map(event_loan));
            let last = events.iter().find_map(|e| match e {
                Event::LoansRemarked { last, .. } => *last,
                _ => None,
            });
            left -= batch;
            match last {
                Some(id) => first = LoanId(id.0 + 1),
                None => break,
            }
        }
        for loan_id in called {
            self.out.margin_calls += 1;
            if let Some(&i) = self.loan_index.get(&loan_id) {
                self.answer_margin_call(i)?;
            }
        }
        Ok(())
    }

    // ---- Measurements ------------------------------------------------------------------------

    fn apply(
        &mut self,
        sender: infrafi_core::Address,
        action: Action,
    ) -> Result<&[Event], SimError> {
        self.chain.apply(sender, action)
    }

    fn price(&self) -> f64 {
        wad_to_f64(vault::nav(&self.chain.state).redemption_price_wad())
    }

    fn sample_price(&mut self) {
        if let Ok(backing) = reserve::backing(&self.chain.state)
            && !backing.usdai_supply.is_zero()
        {
            let ratio = amount_to_usd(backing.reserve_value) / amount_to_usd(backing.usdai_supply);
            self.out.backing_min = self.out.backing_min.min(ratio);
        }
        let price = self.price();
        if price > self.high_water_price {
            self.high_water_price = price;
        } else if self.high_water_price > 0.0 {
            let drawdown = (self.high_water_price - price) / self.high_water_price;
            self.out.max_drawdown = self.out.max_drawdown.max(drawdown);
        }
    }

    fn sample_month(&mut self) {
        self.sample_price();
        let state = &self.chain.state;
        let nav = vault::nav(state);
        self.out.price_monthly.push(wad_to_f64(nav.redemption_price_wad()));
        self.out.nav_monthly.push(amount_to_usd(nav.conservative));
        self.out
            .senior_loss_monthly
            .push(self.out.senior_loss_realised_usd + amount_to_usd(nav.senior_impairment));
        self.out.first_loss_used_monthly.push(self.out.silo_first_loss_used_usd.iter().sum());
        self.out.defaults_monthly.push(self.out.defaults);
        let market = &self.model.market;
        self.out.rental_index_monthly.push(
            (0..market.classes.len()).map(|c| market.rental_index(&self.market, c)).collect(),
        );
        self.out.tbill_monthly.push(self.market.tbill_apr);
        if self.out.price_monthly.len() <= self.model.scenario.horizon_months as usize {
            let active = self
                .loans
                .iter()
                .filter(|l| matches!(l.status, Borrower::Performing | Borrower::Late))
                .count();
            self.out.loan_months += active as u64;
            let loans = &self.chain.state.loans;
            let principal: f64 = loans
                .open
                .iter()
                .filter_map(|(id, _)| loans.loans.get(id))
                .map(|loan| amount_to_usd(loan.balance))
                .sum();
            self.out.principal_months_usd += principal;
        }
    }

    fn finish(&mut self) {
        let state = &self.chain.state;
        let nav = vault::nav(state);
        self.out.senior_impairment_usd = amount_to_usd(nav.senior_impairment);
        for (s, silo) in self.model.book.silos.iter().enumerate() {
            if state.silos.silos.get(&silo.id).is_some_and(|silo| !silo.impairment.is_zero()) {
                self.out.silo_exhausted[s] = true;
            }
        }
        let prices = &self.out.price_monthly;
        let (first, last) = (prices[0], prices[prices.len() - 1]);
        let years = f64::from(self.days) / 365.0;
        self.out.apy = (last / first).powf(1.0 / years) - 1.0;
        let now = self.chain.now();
        for request in std::mem::take(&mut self.requests).into_values() {
            self.out.unserved_shares += request.shares;
            self.record_wait(&request, now);
        }
        let (mut lead, mut weight) = (0.0, 0.0);
        for [bid_shares, bid_waits, plain_shares, plain_waits] in self.waits_by_request_day.values()
        {
            if *bid_shares > 0.0 && *plain_shares > 0.0 {
                lead += bid_shares * (plain_waits / plain_shares - bid_waits / bid_shares);
                weight += bid_shares;
            }
        }
        self.out.bid_lead_days = (weight > 0.0).then(|| lead / weight);
        self.out.transactions = self.chain.transactions;
        if self.out.backing_min.is_infinite() {
            self.out.backing_min = 1.0;
        }
    }
}
