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

use crate::{
    SimError,
    book::{Book, DAY},
    chain::Chain,
    convert::{amount_to_usd, apr_to_rate, bps, usd_to_amount, wad_to_f64},
    holders::{BidContext, BidPolicy, HolderAction, HolderView, PACE_WINDOW_DAYS, RedemptionModel},
    market::{MONTH_YEARS, MarketModel, MarketState},
    rng::{Rng, Stream, inverse_normal_cdf},
    scenario::Scenario,
};
use infrafi_core::{
    Action, Amount, Asset, Bps, Event, LoanId, ProtocolAccount, RequestId, Rounding,
    loans::{self, LoanStatus, SaleReport},
    qev,
    queue::{self, ROUND_REQUESTS_MAX, RoundRecord},
    receipts::ReceiptStatus,
    reserve, schedule, vault,
};
use std::collections::BTreeMap;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Borrower {
    Performing,
    Late,
    WalkedAway,
    Defaulted,
    Done,
}

#[derive(Clone, Copy, Debug)]
struct LoanSim {
    status: Borrower,
    cash: f64,
    /// The last on-time installment of an amortized loan: its next one is the same up to a few
    /// units (level payments), so the simulator need not recompute the schedule (the core
    /// does, and charges the exact amount; the lockbox is funded with a small margin).
    level_payment: Option<Amount>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LoanEvent {
    Due,
    GraceEnd,
    CureEnd,
    Default,
    Sale,
}

struct RequestSim {
    holder: u32,
    created_at: u64,
    shares: f64,
    /// Whether it was made in a run.
    in_run: bool,
    /// Whether its holder bid for priority.
    bid: bool,
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
        loans.push(LoanSim { status, cash, level_payment: None });
    }
    let mut sim = PathSim {
        model,
        chain,
        market: model.market.initial_state(),
        rng_market: Rng::for_path(seed, path, Stream::Market),
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
        self.apply(actors.oracle, Action::PostTbillRate { rate })?;
        if !reserve::backing(&self.chain.state).surplus.is_zero()
            && !self.chain.state.ledger.supply_of(Asset::Susdai).is_zero()
        {
            self.apply(actors.keeper, Action::HarvestBaseYield {})?;
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
                Action::ApplyGenerationStepDown { class, step_down_bps: Bps(step_down_bps) },
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
                    self.apply(appraiser, Action::PostValuation { receipt_id, value })?;
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
                    Action::RemarkLoans { first_loan_id: first, max_loans: batch as u32 },
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

    /// A performing borrower prepays back under the initial LTV if its cash allows; otherwise
    /// the loan defaults when the cure window lapses.
    fn answer_margin_call(&mut self, i: usize) -> Result<(), SimError> {
        let id = self.model.book.loans[i].id;
        let now = self.chain.now();
        let Some(loan) = self.chain.state.loans.loans.get(&id) else { return Ok(()) };
        let Some(call) = loan.margin_call else { return Ok(()) };
        let cure_day = self.day_after(call.cure_deadline);
        let silo =
            self.chain.state.silos.silos.get(&loan.silo).map(|s| s.terms.max_initial_ltv_bps);
        let (Some(initial), Some(mark)) = (silo, loan.mark) else { return Ok(()) };
        let cure = self.model.scenario.borrowers.cure_margin_calls
            && self.loans[i].status == Borrower::Performing
            && loan.missed_periods(now) == 0;
        if cure {
            let target =
                mark.collateral_value.mul_bps(initial, Rounding::Down).unwrap_or(Amount::ZERO);
            let principal =
                Amount(loan.balance.0.saturating_sub(target.0).saturating_add(1)).min(loan.balance);
            let period_start = loan.next_due_at.saturating_sub(loan.interval_secs);
            let interest =
                schedule::simple_interest(principal, loan.rate, now.saturating_sub(period_start))
                    .unwrap_or(Amount::MAX);
            let exit_fee = if principal == loan.balance { loan.exit_fee } else { Amount::ZERO };
            let cost = Amount(principal.0.saturating_add(interest.0).saturating_add(exit_fee.0));
            let cost_usd = amount_to_usd(cost);
            if self.loans[i].cash >= cost_usd {
                let lockbox = self.chain.actors.lockbox;
                self.chain.fund_usdai(lockbox, cost)?;
                let events = self
                    .apply(
                        lockbox,
                        Action::PrepayLoan { loan_id: id, principal, max_amount: cost },
                    )?
                    .to_vec();
                self.loans[i].cash -= cost_usd;
                let repaid = events.iter().any(|e| matches!(e, Event::LoanRepaid { .. }));
                if repaid {
                    self.loans[i].status = Borrower::Done;
                }
                if events.iter().any(|e| matches!(e, Event::MarginCallCured { .. })) || repaid {
                    self.out.cures += 1;
                    return Ok(());
                }
            }
        }
        self.schedule(cure_day, i, LoanEvent::CureEnd);
        Ok(())
    }

    // ---- Loans ------------------------------------------------------------------------------

    fn loan_day(&mut self, day: u32) -> Result<(), SimError> {
        let events = std::mem::take(&mut self.loan_events[day as usize]);
        if events.is_empty() {
            return Ok(());
        }
        let mut payments: Vec<(usize, Amount)> = Vec::new();
        for &(i, event) in &events {
            let i = i as usize;
            match event {
                LoanEvent::Due => self.on_due(i, &mut payments)?,
                LoanEvent::GraceEnd => self.on_grace_end(i, &mut payments)?,
                LoanEvent::CureEnd | LoanEvent::Default => self.on_default_due(i, day)?,
                LoanEvent::Sale => self.on_sale(i)?,
            }
        }
        self.pay(payments)
    }

    fn revenue_usd(&self, i: usize) -> f64 {
        let book_loan = &self.model.book.loans[i];
        let borrowers = &self.model.scenario.borrowers;
        let gross = self.model.market.rental_usd_per_unit_month(&self.market, book_loan.class);
        gross
            * f64::from(book_loan.units)
            * book_loan.utilization
            * (1.0 - bps(borrowers.opex_share_bps))
    }

    /// Whether the borrower walks away this period (one-factor model on the coverage ratio).
    fn walks_away(&mut self, dscr: f64) -> bool {
        let borrowers = &self.model.scenario.borrowers;
        let pd_annual = (borrowers.pd_annual_at_reference
            * (borrowers.pd_dscr_slope * (borrowers.reference_dscr - dscr)).exp())
        .min(borrowers.pd_annual_max);
        if pd_annual.is_nan() || pd_annual <= 0.0 {
            return false;
        }
        let pd_month = 1.0 - (1.0 - pd_annual).powf(MONTH_YEARS);
        let rho = borrowers.default_correlation;
        let latent =
            rho.sqrt() * self.market.factor + (1.0 - rho).sqrt() * self.rng_credit.normal();
        latent < inverse_normal_cdf(pd_month)
    }

    fn on_due(&mut self, i: usize, payments: &mut Vec<(usize, Amount)>) -> Result<(), SimError> {
        let id = self.model.book.loans[i].id;
        let now = self.chain.now();
        let Some(loan) = self.chain.state.loans.loans.get(&id) else { return Ok(()) };
        if loan.status != LoanStatus::Active || self.loans[i].status != Borrower::Performing {
            return Ok(());
        }
        if loan.is_default_due(now) {
            // Its cure window lapsed: the protocol refuses payments until it is defaulted.
            return self.on_default_due(i, self.day_of(now) as u32);
        }
        if self.day_of(loan.next_due_at) > self.day_of(now) {
            let day = self.day_of(loan.next_due_at);
            self.schedule(day, i, LoanEvent::Due);
            return Ok(());
        }
        let level = self.loans[i].level_payment.filter(|_| {
            loan.model == schedule::InterestModel::Amortized
                && loan.periods_remaining > 1
                && loan.missed_periods(now) == 0
        });
        let due = match level {
            // A margin of 10^-9 of the payment plus 1,000 units covers the rounding of level
            // payments many times over; `repay_loan` charges the exact amount.
            Some(level) => Amount(level.0 + level.0 / 1_000_000_000 + 1_000),
            None => loans::payment_due(loan, now)
                .and_then(|d| d.total())
                .map_err(|_| SimError::Overflow)?,
        };
        let (next_due_at, grace) = (loan.next_due_at, loan.grace_period_secs);
        let payment = amount_to_usd(due);
        let revenue = self.revenue_usd(i);
        let dscr = if payment > 0.0 { revenue / payment } else { f64::INFINITY };
        self.loans[i].cash += revenue;
        if self.walks_away(dscr) {
            self.loans[i].status = Borrower::WalkedAway;
            let day = self.day_after(next_due_at + grace);
            self.schedule(day, i, LoanEvent::Default);
            return Ok(());
        }
        if self.loans[i].cash >= payment {
            self.loans[i].cash -= payment;
            let cap = self.model.scenario.borrowers.cash_cap_months * payment;
            self.loans[i].cash = self.loans[i].cash.min(cap);
            payments.push((i, due));
        } else {
            self.loans[i].status = Borrower::Late;
            let last_day_in_grace = self.day_of(next_due_at + grace);
            if last_day_in_grace > self.day_of(now) {
                self.schedule(last_day_in_grace, i, LoanEvent::GraceEnd);
            } else {
                let day = self.day_after(next_due_at + grace);
                self.schedule(day, i, LoanEvent::Default);
            }
        }
        Ok(())
    }

    /// A late borrower's last chance: it pays everything due if its revenue since the
    /// deadline and its cash cover it; otherwise the loan defaults after the grace period.
    fn on_grace_end(
        &mut self,
        i: usize,
        payments: &mut Vec<(usize, Amount)>,
    ) -> Result<(), SimError> {
        let id = self.model.book.loans[i].id;
        let now = self.chain.now();
        let Some(loan) = self.chain.state.loans.loans.get(&id) else { return Ok(()) };
        if loan.status != LoanStatus::Active || self.loans[i].status != Borrower::Late {
            return Ok(());
        }
        let (next_due_at, grace) = (loan.next_due_at, loan.grace_period_secs);
        if loan.is_default_due(now) {
            return self.on_default_due(i, self.day_of(now) as u32);
        }
        let due = loans::payment_due(loan, now)
            .and_then(|d| d.total())
            .map_err(|_| SimError::Overflow)?;
        let late_days = now.saturating_sub(next_due_at) as f64 / DAY as f64;
        self.loans[i].cash += self.revenue_usd(i) * late_days / 30.0;
        let payment = amount_to_usd(due);
        if self.loans[i].cash >= payment {
            self.loans[i].cash -= payment;
            self.loans[i].status = Borrower::Performing;
            self.out.late_payments += 1;
            payments.push((i, due));
        } else {
            let day = self.day_after(next_due_at + grace);
            self.schedule(day, i, LoanEvent::Default);
        }
        Ok(())
    }

    /// Pays today's payments: the lockbox is funded once with their sum, then pays each.
    fn pay(&mut self, payments: Vec<(usize, Amount)>) -> Result<(), SimError> {
        if payments.is_empty() {
            return Ok(());
        }
        let total = payments.iter().fold(Amount::ZERO, |sum, (_, a)| Amount(sum.0 + a.0));
        let lockbox = self.chain.actors.lockbox;
        self.chain.fund_usdai(lockbox, total)?;
        for (i, max_amount) in payments {
            let loan_id = self.model.book.loans[i].id;
            let active = self.chain.state.loans.loans.get(&loan_id).map(|l| l.status);
            if active != Some(LoanStatus::Active) {
                // Defaulted earlier today (its cure window lapsed): the payment is refunded.
                self.loans[i].cash += amount_to_usd(max_amount);
                continue;
            }
            let events = self.apply(lockbox, Action::RepayLoan { loan_id, max_amount })?;
            self.loans[i].level_payment = events.iter().find_map(|event| match event {
                Event::LoanPaymentMade { due, .. }
                    if due.installments == 1
                        && due.grace_interest.is_zero()
                        && due.exit_fee.is_zero() =>
                {
                    Some(Amount(due.interest.0 + due.principal.0))
                }
                _ => None,
            });
            match self.chain.state.loans.loans.get(&loan_id) {
                Some(loan) if loan.status == LoanStatus::Active => {
                    let day = self.day_of(loan.next_due_at);
                    self.schedule(day, i, LoanEvent::Due);
                }
                _ => self.loans[i].status = Borrower::Done,
            }
        }
        Ok(())
    }

    /// Defaults a loan whose grace period or cure window has lapsed, forecloses it to the
    /// liquidation agent and schedules the sale.
    fn on_default_due(&mut self, i: usize, day: u32) -> Result<(), SimError> {
        let id = self.model.book.loans[i].id;
        let now = self.chain.now();
        let Some(loan) = self.chain.state.loans.loans.get(&id) else { return Ok(()) };
        if loan.status != LoanStatus::Active || !loan.is_default_due(now) {
            return Ok(());
        }
        let actors = self.chain.actors.clone();
        self.apply(actors.keeper, Action::TriggerDefault { loan_id: id })?;
        let curator = self.model.book.silos[self.model.book.loans[i].silo].curator;
        self.apply(
            curator,
            Action::ForecloseLoan { loan_id: id, liquidation_agent: actors.liquidation_agent },
        )?;
        self.loans[i].status = Borrower::Defaulted;
        self.out.defaults += 1;
        let month = day / 30;
        let delay = self.model.scenario.liquidation.delay_months
            + self.model.market.liquidation_delay_months(month);
        self.schedule(u64::from(day) + u64::from(delay) * 30, i, LoanEvent::Sale);
        Ok(())
    }

    /// The liquidation agent sells each foreclosed receipt of the loan and reports proceeds
    /// and costs: gross = resale price x units x (1 - condition haircut - shock haircut) x
    /// (1 - fire-sale discount); ITAD commission on gross; fixed costs per unit with noise.
    fn on_sale(&mut self, i: usize) -> Result<(), SimError> {
        let model = self.model;
        let book_loan = &model.book.loans[i];
        let id = book_loan.id;
        let now = self.chain.now();
        let Some(loan) = self.chain.state.loans.loans.get(&id) else { return Ok(()) };
        if loan.status != LoanStatus::Defaulted {
            return Ok(());
        }
        let agent = self.chain.actors.liquidation_agent;
        if loan.liquidation_agent.is_none() {
            let curator = model.book.silos[book_loan.silo].curator;
            self.apply(curator, Action::ForecloseLoan { loan_id: id, liquidation_agent: agent })?;
        }
        let class = &model.scenario.classes[book_loan.class];
        let month = self.market.month;
        let age = now.saturating_sub(book_loan.hardware_new_at) as f64 / (365.0 * DAY as f64);
        let unit = model.market.resale_usd_per_unit(&self.market, book_loan.class, age);
        let haircut = (bps(class.recovery.condition_haircut_bps)
            + model.market.recovery_haircut(month))
        .min(1.0);
        let discount = bps(model.scenario.liquidation.fire_sale_discount_bps);
        let receipts: Vec<_> = book_loan.receipts.clone();
        for receipt_id in receipts {
            let Some(receipt) = self.chain.state.receipts.receipts.get(&receipt_id) else {
                continue;
            };
            if receipt.status != ReceiptStatus::Foreclosed {
                continue;
            }
            let units = f64::from(receipt.description.quantity);
            let gross = unit * units * (1.0 - haircut) * (1.0 - discount);
            let report = self.sale_report(class, units, gross);
            self.chain.fund_usdai(agent, report.gross_proceeds)?;
            let events = self.apply(agent, Action::ReportSale { receipt_id, report })?.to_vec();
            self.out.sales += 1;
            for event in &events {
                if let Event::LoanSettled { first_loss_cover, senior_loss, junior_loss, .. } = event
                {
                    self.settled(book_loan.silo, *first_loss_cover, *senior_loss, *junior_loss);
                }
            }
        }
        self.chain.redeem_all_usdai(agent)?;
        self.loans[i].status = Borrower::Done;
        Ok(())
    }

    fn sale_report(
        &mut self,
        class: &crate::scenario::ClassSpec,
        units: f64,
        gross: f64,
    ) -> SaleReport {
        let recovery = &class.recovery;
        let sigma = self.model.scenario.liquidation.cost_noise;
        let noise = (sigma * self.rng_liquidation.normal() - sigma * sigma / 2.0).exp();
        let gross = gross.max(1e-6);
        let itad = gross * bps(recovery.itad_commission_bps);
        let mut legal = recovery.legal_cost_per_unit_usd * units * noise;
        let mut logistics = recovery.logistics_cost_per_unit_usd * units * noise;
        let mut destruction = recovery.data_destruction_cost_per_unit_usd * units * noise;
        let fixed = legal + logistics + destruction;
        let room = (gross - itad).max(0.0);
        if fixed > room {
            // Costs are capped at the proceeds: the agent absorbs the rest (a sale never draws
            // on the protocol).
            let scale = room / fixed;
            legal *= scale;
            logistics *= scale;
            destruction *= scale;
        }
        let mut report = SaleReport {
            gross_proceeds: usd_to_amount(gross),
            itad_commission: usd_to_amount(itad),
            legal_costs: usd_to_amount(legal),
            logistics_costs: usd_to_amount(logistics),
            data_destruction_costs: usd_to_amount(destruction),
        };
        // Floors never add up above the gross, but floats might: trim the last cost.
        let costs = report.costs().unwrap_or(Amount::MAX);
        if costs > report.gross_proceeds {
            let excess = costs.0 - report.gross_proceeds.0;
            report.data_destruction_costs =
                report.data_destruction_costs.saturating_sub(Amount(excess));
        }
        report
    }

    fn settled(&mut self, silo: usize, cover: Amount, senior_loss: Amount, junior_loss: Amount) {
        self.out.senior_loss_realised_usd += amount_to_usd(senior_loss);
        self.out.silo_first_loss_used_usd[silo] +=
            amount_to_usd(cover) + amount_to_usd(junior_loss);
        let id = self.model.book.silos[silo].id;
        // Exhausted: the settlement drew the free pool (or found it) empty while the senior
        // tranche was still owed. Read from the silo's state, not inferred from the loss.
        let pool_empty =
            self.chain.state.silos.silos.get(&id).is_none_or(|s| s.pool_balance.is_zero());
        if pool_empty && (!cover.is_zero() || !senior_loss.is_zero()) {
            self.out.silo_exhausted[silo] = true;
        }
    }

    // ---- Holders and the queue ------------------------------------------------------------

    fn holders_month(&mut self, k: u32) -> Result<(), SimError> {
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
                self.apply(holder, Action::Stake { assets, min_shares: Amount::ZERO })?;
            }
        }
        Ok(())
    }

    fn push_holder_action(&mut self, day: u32, action: HolderAction) {
        if let Some(bucket) = self.holder_actions.get_mut(day as usize) {
            bucket.push(action);
        }
    }

    fn holder_day(&mut self, day: u32) -> Result<(), SimError> {
        let actions = std::mem::take(&mut self.holder_actions[day as usize]);
        for action in actions {
            self.execute(action)?;
        }
        Ok(())
    }

    /// Executes one holder action. A negative fraction marks a scheduled run's request: a
    /// share of the holder's total shares (those already queued included), capped by what is
    /// unlocked; otherwise the fraction is of the unlocked shares.
    fn execute(&mut self, action: HolderAction) -> Result<(), SimError> {
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
                let events = self.apply(address, Action::RequestRedeem { shares })?.to_vec();
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
                let events = self.chain.apply(address, Action::Claim { request_id: request })?;
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
    fn bid(
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
        self.apply(owner, Action::SetBid { request_id, price_wad })?;
        self.out.bids += 1;
        Ok(true)
    }

    /// Counts a request's wait until `now` (its full service, or the horizon) in the
    /// histograms it belongs to.
    fn record_wait(&mut self, request: &RequestSim, now: u64) {
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
    fn round_serviced(&mut self, record: &RoundRecord) {
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
    fn queue_round(&mut self) -> Result<(), SimError> {
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
        let events =
            self.apply(keeper, Action::ServiceQueue { max_requests: ROUND_REQUESTS_MAX })?.to_vec();
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
        let backing = reserve::backing(&self.chain.state);
        if !backing.usdai_supply.is_zero() {
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
        if self.out.price_monthly.len() <= self.model.scenario.horizon_months as usize {
            let active = self
                .loans
                .iter()
                .filter(|l| matches!(l.status, Borrower::Performing | Borrower::Late))
                .count();
            self.out.loan_months += active as u64;
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
