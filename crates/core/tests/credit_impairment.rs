//! Impairment (SPEC 9.6): from default or margin call until settlement, each senior position
//! is carried in conservative NAV at principal minus the part of it that the expected net
//! recovery after first-loss absorption would not cover.
#![allow(clippy::unwrap_used)]

mod credit_common;

use credit_common::*;
use infrafi_core::{
    Action, Amount,
    action::{
        ForecloseLoan, PledgeReceipts, PostValuation, RemarkLoans, ReportSale, TriggerDefault,
        WithdrawFirstLoss,
    },
    loans::{LoanStatus, SaleReport},
    math::{Bps, Rounding},
    vault::Nav,
};

/// The cost model by hand for the H100 class: value less the 10% haircut, less 30% ITAD
/// commission (rounded up), less $350 per unit, less the 2% liquidation fee (rounded up).
fn expected_net_recovery(value: Amount, units: u128) -> Amount {
    let gross = value.mul_bps(Bps(9_000), Rounding::Down).unwrap();
    let commission = gross.mul_bps(Bps(3_000), Rounding::Up).unwrap();
    let fixed = whole(350 * units);
    let net = gross.checked_sub(commission).unwrap().checked_sub(fixed).unwrap();
    net.checked_sub(net.mul_bps(Bps(200), Rounding::Up).unwrap()).unwrap()
}

/// The depreciation model by hand: straight-line 20% a year of the $30,000 new price per unit
/// since the appraisal (rounded up), never below the appraisal's own value.
fn depreciated(appraisal: Amount, units: u128, elapsed_secs: u64) -> Amount {
    let per_year = whole(30_000 * units).mul_bps(Bps(2_000), Rounding::Up).unwrap();
    let decline = per_year.mul_div(u128::from(elapsed_secs), 365 * 86_400, Rounding::Up).unwrap();
    appraisal.checked_sub(decline).unwrap()
}

fn assert_prices_ordered(nav: &Nav) {
    assert!(nav.redemption_price_wad() <= nav.deposit_price_wad());
    assert!(nav.conservative <= nav.optimistic);
}

#[test]
fn conservative_nav_drops_at_default_by_exactly_the_uncovered_part_and_recovers_at_settlement() {
    let mut market = Market::new(20_000_000);
    let silo = market.open_silo_of(CURATOR, whole(250_000), whole(10_000_000));
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 40, whole(1_500_000));
    let loan = market
        .originate(silo, terms(&market, BORROWER, vec![receipt], whole(800_000), whole(200_000)));
    // The hardware's appraisal collapses before the default.
    market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(800_000) }),
    );
    let appraised_at = market.now();
    let deadline = market.loan(loan).next_due_at;
    market.set_time(deadline + 15 * DAY + 1);
    let before = market.nav();
    assert_prices_ordered(&before);
    assert!(before.senior_impairment.is_zero());
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    let at_default = market.nav();
    assert_prices_ordered(&at_default);
    // Expected: senior principal 800k less the expected recovery, less the free pool (50k left
    // after the junior tranche, plus the 10k origination fee).
    let pool = market.pool(silo);
    assert_eq!(pool, whole(60_000));
    let value = depreciated(whole(800_000), 40, market.now() - appraised_at);
    let uncovered = whole(800_000).checked_sub(expected_net_recovery(value, 40)).unwrap();
    let impairment = uncovered.checked_sub(pool).unwrap();
    assert_eq!(market.loan(loan).senior_uncovered, uncovered);
    assert_eq!(at_default.senior_impairment, impairment);
    assert_eq!(
        before.conservative.checked_sub(at_default.conservative).unwrap(),
        impairment,
        "conservative NAV drops by exactly the uncovered part"
    );
    // Optimistic NAV stops counting the defaulted loan's unpaid interest (non-accrual).
    assert_eq!(
        before.optimistic.checked_sub(at_default.optimistic).unwrap(),
        before.senior_accrued_interest
    );
    assert!(at_default.senior_accrued_interest.is_zero());

    // Time passes: the model keeps depreciating, a re-mark deepens the impairment.
    market.advance(90 * DAY);
    market.ok(KEEPER, Action::RemarkLoans(RemarkLoans { first_loan_id: loan, max_loans: 1 }));
    let remarked = market.nav();
    assert!(remarked.senior_impairment > impairment);
    assert_prices_ordered(&remarked);

    // Settlement: the sale proceeds and the pool's cover replace the impaired position.
    market.ok(
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan {
            loan_id: loan,
            liquidation_agent: LIQUIDATION_AGENT,
        }),
    );
    let report = SaleReport {
        gross_proceeds: whole(700_000),
        itad_commission: whole(210_000),
        legal_costs: whole(4_000),
        logistics_costs: whole(8_000),
        data_destruction_costs: whole(2_000),
    };
    market.ok(LIQUIDATION_AGENT, Action::ReportSale(ReportSale { receipt_id: receipt, report }));
    assert_eq!(market.loan(loan).status, LoanStatus::Settled);
    let settled = market.nav();
    assert!(settled.senior_impairment.is_zero(), "impairment is released on settlement");
    assert!(settled.senior_principal.is_zero());
    assert_prices_ordered(&settled);
    let recovery = market.loan(loan).recovery;
    // What the vault holds now is what it had, less the principal it lost, plus senior cash.
    assert_eq!(
        settled.conservative,
        before
            .conservative
            .checked_sub(recovery.senior_loss)
            .unwrap()
            .checked_add(recovery.to_senior.checked_add(recovery.first_loss_cover).unwrap())
            .unwrap()
            .checked_sub(whole(800_000).checked_sub(recovery.senior_loss).unwrap())
            .unwrap()
    );
    assert!(settled.conservative >= remarked.conservative, "NAV recovers at settlement");
    assert_eq!(settled.conservative, settled.optimistic, "no loans: the two views agree");
}

#[test]
fn a_margin_call_carries_impairment_until_the_borrower_cures() {
    let mut market = Market::new(20_000_000);
    let silo = market.open_silo_of(CURATOR, whole(200_000), whole(10_000_000));
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 40, whole(1_500_000));
    let loan = market
        .originate(silo, terms(&market, BORROWER, vec![receipt], whole(800_000), whole(200_000)));
    let clean = market.nav();
    market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(900_000) }),
    );
    market.ok(KEEPER, Action::RemarkLoans(RemarkLoans { first_loan_id: loan, max_loans: 1 }));
    assert!(market.loan(loan).margin_call.is_some());
    let called = market.nav();
    let uncovered = whole(800_000).checked_sub(expected_net_recovery(whole(900_000), 40)).unwrap();
    let impairment = uncovered.checked_sub(market.pool(silo)).unwrap();
    assert_eq!(called.senior_impairment, impairment);
    assert_eq!(clean.conservative.checked_sub(called.conservative).unwrap(), impairment);
    // While a loan is impaired the curator cannot pull first-loss capital out.
    market.reject(
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: whole(1) }),
        infrafi_core::silos::SiloError::SiloHasImpairedLoans,
    );
    let extra = market.issue_receipt_of_class(BORROWER, h100(), 40, whole(1_000_000));
    market.ok(
        BORROWER,
        Action::PledgeReceipts(PledgeReceipts { loan_id: loan, receipt_ids: vec![extra] }),
    );
    assert!(market.loan(loan).margin_call.is_none());
    assert!(market.nav().senior_impairment.is_zero());
    assert_eq!(market.nav().conservative, clean.conservative);
}

#[test]
fn a_larger_first_loss_pool_absorbs_impairment_before_the_vault() {
    let mut market = Market::new(20_000_000);
    let silo = market.open_silo_of(CURATOR, whole(1_500_000), whole(10_000_000));
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 40, whole(1_500_000));
    let loan = market
        .originate(silo, terms(&market, BORROWER, vec![receipt], whole(800_000), whole(200_000)));
    market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(800_000) }),
    );
    let deadline = market.loan(loan).next_due_at;
    market.set_time(deadline + 15 * DAY + 1);
    let before = market.nav().conservative;
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    assert!(!market.loan(loan).senior_uncovered.is_zero());
    assert!(market.nav().senior_impairment.is_zero(), "the pool covers the uncovered part");
    assert_eq!(market.nav().conservative, before);
}
