//! Borrower behaviour in a path: rental revenue, the default decision, payments (on time,
//! late, within grace), answers to margin calls, defaults, foreclosure and the liquidation
//! agent's sale with the recovery cost model.

use super::PathSim;
use crate::{
    SimError,
    book::DAY,
    convert::{amount_to_usd, bps, usd_to_amount},
    market::MONTH_YEARS,
    rng::inverse_normal_cdf,
    scenario::{BorrowerSpec, ClassSpec},
};
use infrafi_core::{
    Action, Amount, Event, Rounding,
    action::{DecideHeldSale, ForecloseLoan, PrepayLoan, RepayLoan, ReportSale, TriggerDefault},
    loans::{self, LoanStatus, SaleReport},
    receipts::ReceiptStatus,
    schedule,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Borrower {
    Performing,
    Late,
    WalkedAway,
    Defaulted,
    Done,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct LoanSim {
    pub(super) status: Borrower,
    pub(super) cash: f64,
    /// The last on-time installment of an amortized loan: its next one is the same up to a few
    /// units (level payments), so the simulator need not recompute the schedule (the core
    /// does, and charges the exact amount; the lockbox is funded with a small margin).
    pub(super) level_payment: Option<Amount>,
    /// Principal outstanding when the loan defaulted, USD (0 before a default in the path).
    pub(super) exposure_at_default_usd: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LoanEvent {
    Due,
    GraceEnd,
    CureEnd,
    Default,
    Sale,
}

impl PathSim<'_> {
    /// A performing borrower prepays back under the initial LTV if its cash allows; otherwise
    /// the loan defaults when the cure window lapses.
    pub(super) fn answer_margin_call(&mut self, i: usize) -> Result<(), SimError> {
        let id = self.model.book.loans[i].id;
        let now = self.chain.now();
        let Some(loan) = self.chain.state.loans.loans.get(&id) else { return Ok(()) };
        let Some(call) = loan.margin_call else { return Ok(()) };
        let cure_day = self.day_after(call.cure_deadline_at);
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
                        Action::PrepayLoan(PrepayLoan { loan_id: id, principal, max_amount: cost }),
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

    pub(super) fn loan_day(&mut self, day: u32) -> Result<(), SimError> {
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

    pub(super) fn revenue_usd(&self, i: usize) -> f64 {
        let book_loan = &self.model.book.loans[i];
        let borrowers = &self.model.scenario.borrowers;
        let gross = self.model.market.rental_usd_per_unit_month(&self.market, book_loan.class);
        gross
            * f64::from(book_loan.units)
            * book_loan.utilization
            * (1.0 - bps(borrowers.opex_share_bps))
    }

    /// Whether the borrower walks away this period (one-factor model on the coverage ratio).
    pub(super) fn walks_away(&mut self, dscr: f64) -> bool {
        let borrowers = &self.model.scenario.borrowers;
        let pd = monthly_default_probability(borrowers, dscr);
        if pd <= 0.0 {
            return false;
        }
        let own = self.rng_credit.normal();
        defaults_one_factor(pd, borrowers.default_correlation, self.market.factor, own)
    }

    pub(super) fn on_due(
        &mut self,
        i: usize,
        payments: &mut Vec<(usize, Amount)>,
    ) -> Result<(), SimError> {
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
    pub(super) fn on_grace_end(
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
    pub(super) fn pay(&mut self, payments: Vec<(usize, Amount)>) -> Result<(), SimError> {
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
            let events =
                self.apply(lockbox, Action::RepayLoan(RepayLoan { loan_id, max_amount }))?;
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
    pub(super) fn on_default_due(&mut self, i: usize, day: u32) -> Result<(), SimError> {
        let id = self.model.book.loans[i].id;
        let now = self.chain.now();
        let Some(loan) = self.chain.state.loans.loans.get(&id) else { return Ok(()) };
        if loan.status != LoanStatus::Active || !loan.is_default_due(now) {
            return Ok(());
        }
        let actors = self.chain.actors.clone();
        self.apply(actors.keeper, Action::TriggerDefault(TriggerDefault { loan_id: id }))?;
        let curator = self.model.book.silos[self.model.book.loans[i].silo].curator;
        self.apply(
            curator,
            Action::ForecloseLoan(ForecloseLoan {
                loan_id: id,
                liquidation_agent: actors.liquidation_agent,
            }),
        )?;
        match self.loans[i].status {
            Borrower::WalkedAway => self.out.defaults_walked_away += 1,
            Borrower::Late => self.out.defaults_unpaid += 1,
            _ => self.out.defaults_margin_call += 1,
        }
        let exposure =
            self.chain.state.loans.loans.get(&id).map_or(0.0, |l| amount_to_usd(l.balance));
        self.loans[i].exposure_at_default_usd = exposure;
        self.out.default_exposure_usd += exposure;
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
    pub(super) fn on_sale(&mut self, i: usize) -> Result<(), SimError> {
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
            self.apply(
                curator,
                Action::ForecloseLoan(ForecloseLoan { loan_id: id, liquidation_agent: agent }),
            )?;
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
        let mut net_proceeds = 0.0;
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
            net_proceeds += amount_to_usd(report.gross_proceeds)
                - amount_to_usd(report.costs().unwrap_or(Amount::MAX));
            self.chain.fund_usdai(agent, report.gross_proceeds)?;
            let mut events =
                self.apply(agent, Action::ReportSale(ReportSale { receipt_id, report }))?.to_vec();
            if events.iter().any(|event| matches!(event, Event::SaleHeld { .. })) {
                // Costs above the class's model (the draws are noisy): the simulated admin
                // checks them and approves, so the sale executes as reported.
                let admin = self.chain.actors.admin;
                let decide = DecideHeldSale { receipt_id, approve: true };
                events = self.apply(admin, Action::DecideHeldSale(decide))?.to_vec();
            }
            self.out.sales += 1;
            for event in &events {
                if let Event::LoanSettled { first_loss_cover, senior_loss, junior_loss, .. } = event
                {
                    self.settled(book_loan.silo, *first_loss_cover, *senior_loss, *junior_loss);
                }
            }
        }
        self.chain.redeem_all_usdai(agent)?;
        let exposure = self.loans[i].exposure_at_default_usd;
        if exposure > 0.0 {
            // Defaulted in this path: what the sale recovered of the principal at default.
            self.out.settled_exposure_usd += exposure;
            self.out.recovered_usd += net_proceeds.clamp(0.0, exposure);
        }
        self.loans[i].status = Borrower::Done;
        Ok(())
    }

    pub(super) fn sale_report(&mut self, class: &ClassSpec, units: f64, gross: f64) -> SaleReport {
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

    pub(super) fn settled(
        &mut self,
        silo: usize,
        cover: Amount,
        senior_loss: Amount,
        junior_loss: Amount,
    ) {
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
}

/// A borrower's probability of walking away in one month at coverage `dscr`:
/// `pd_annual = min(pd_max, pd_ref x exp(slope x (DSCR_ref - DSCR)))`, converted to a month
/// (`1 - (1 - pd_annual)^(30/365)`); 0 when the annual figure is not positive.
pub(crate) fn monthly_default_probability(borrowers: &BorrowerSpec, dscr: f64) -> f64 {
    let pd_annual = (borrowers.pd_annual_at_reference
        * (borrowers.pd_dscr_slope * (borrowers.reference_dscr - dscr)).exp())
    .min(borrowers.pd_annual_max);
    if pd_annual.is_nan() || pd_annual <= 0.0 {
        return 0.0;
    }
    1.0 - (1.0 - pd_annual).powf(MONTH_YEARS)
}

/// The one-factor (Vasicek) default draw: the borrower defaults when its latent
/// `sqrt(rho) Z + sqrt(1 - rho) e` is below `Phi^-1(pd)`, `Z` the month's common factor and `e`
/// its own standard normal draw; unconditionally it defaults with probability `pd`.
pub(crate) fn defaults_one_factor(pd: f64, rho: f64, factor: f64, own: f64) -> bool {
    rho.sqrt() * factor + (1.0 - rho).sqrt() * own < inverse_normal_cdf(pd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The standard normal CDF (Abramowitz-Stegun 7.1.26 on erf, error below 1.5e-7).
    fn normal_cdf(x: f64) -> f64 {
        let z = x.abs() / std::f64::consts::SQRT_2;
        let t = 1.0 / (1.0 + 0.327_591_1 * z);
        let poly = t
            * (0.254_829_592
                + t * (-0.284_496_736
                    + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
        let erf = 1.0 - poly * (-z * z).exp();
        if x >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
    }

    #[test]
    fn independent_defaults_at_a_constant_probability_match_the_binomial_mean_and_variance() {
        // 400 portfolios of 500 borrowers over 36 months, rho = 0: a borrower defaults at
        // most once, with probability q = 1 - (1 - p)^36; the count is Binomial(500, q).
        let (p, months, borrowers, portfolios) = (0.004, 36, 500, 400);
        let mut rng = Rng::new(3);
        let counts: Vec<f64> = (0..portfolios)
            .map(|_| {
                let mut alive = vec![true; borrowers];
                for _ in 0..months {
                    let factor = rng.normal();
                    for alive in alive.iter_mut().filter(|a| **a) {
                        if defaults_one_factor(p, 0.0, factor, rng.normal()) {
                            *alive = false;
                        }
                    }
                }
                alive.iter().filter(|a| !**a).count() as f64
            })
            .collect();
        let q = 1.0 - (1.0 - p).powi(months);
        let (expected_mean, expected_variance) =
            (borrowers as f64 * q, borrowers as f64 * q * (1.0 - q));
        let mean = counts.iter().sum::<f64>() / portfolios as f64;
        let variance =
            counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (portfolios - 1) as f64;
        // Standard errors: sqrt(var / n) for the mean, var sqrt(2 / (n - 1)) for the variance.
        let mean_error = (expected_variance / portfolios as f64).sqrt();
        assert!((mean - expected_mean).abs() < 4.0 * mean_error, "mean {mean} vs {expected_mean}");
        let variance_error = expected_variance * (2.0 / (portfolios - 1) as f64).sqrt();
        assert!(
            (variance - expected_variance).abs() < 4.0 * variance_error,
            "variance {variance} vs {expected_variance}"
        );
    }

    #[test]
    fn one_factor_default_clustering_matches_the_vasicek_large_portfolio_distribution() {
        // Each month a large portfolio's default fraction L is drawn; Vasicek's limit gives
        // P(L <= x) = Phi((sqrt(1 - rho) Phi^-1(x) - Phi^-1(p)) / sqrt(rho)). The empirical CDF
        // over the months must stay within the Dvoretzky-Kiefer-Wolfowitz band (alpha = 0.001)
        // plus the finite portfolio's own noise.
        let (p, rho, borrowers, months) = (0.02, 0.2, 4_000, 1_000);
        let mut rng = Rng::new(11);
        let mut fractions: Vec<f64> = (0..months)
            .map(|_| {
                let factor = rng.normal();
                let defaults = (0..borrowers)
                    .filter(|_| defaults_one_factor(p, rho, factor, rng.normal()))
                    .count();
                defaults as f64 / borrowers as f64
            })
            .collect();
        fractions.sort_by(f64::total_cmp);
        let band = ((2.0f64 / 0.001).ln() / (2.0 * months as f64)).sqrt() + 0.02;
        for x in [0.005, 0.01, 0.02, 0.04, 0.08, 0.15] {
            let empirical = fractions.iter().filter(|f| **f <= x).count() as f64 / months as f64;
            let theory = normal_cdf(
                ((1.0 - rho).sqrt() * inverse_normal_cdf(x) - inverse_normal_cdf(p)) / rho.sqrt(),
            );
            assert!((empirical - theory).abs() < band, "x {x}: {empirical} vs {theory}");
        }
        let mean = fractions.iter().sum::<f64>() / months as f64;
        assert!((mean - p).abs() < 0.004, "the mean default fraction {mean} is p");
    }

    #[test]
    fn the_default_probability_rises_as_coverage_falls_and_is_capped() {
        let scenario = crate::scenario::Scenario::load("base").expect("base");
        let b = &scenario.borrowers;
        let at = |dscr| monthly_default_probability(b, dscr);
        let reference = 1.0 - (1.0 - b.pd_annual_at_reference).powf(MONTH_YEARS);
        assert!((at(b.reference_dscr) - reference).abs() < 1e-15);
        assert!(at(0.8) > at(1.2) && at(1.2) > at(2.0));
        let cap = 1.0 - (1.0 - b.pd_annual_max).powf(MONTH_YEARS);
        assert!((at(-100.0) - cap).abs() < 1e-12);
    }
}
