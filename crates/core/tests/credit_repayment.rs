//! Repayment (SPEC 9.3, 9.4): on time, late within grace at every boundary, prepayment, the
//! final payment, the tranche split of every payment, margin calls and cures.
#![allow(clippy::unwrap_used)]

mod credit_common;

use credit_common::*;
use infrafi_core::{
    Action, Amount, Event, LoanId, ProtocolAccount,
    action::{
        PledgeReceipts, PostValuation, PrepayLoan, RedeemReceipt, RemarkLoans, RepayLoan,
        RequestReceiptRedemption, SetParameter, TriggerDefault,
    },
    loans::{LoanError, LoanStatus, MarginCallReason},
    math::{Bps, Rate, Rounding},
    params::ParameterChange,
    receipts::ReceiptStatus,
    schedule::{self, InterestModel},
};

const GRACE: u64 = 100 * DAY;

/// A market with one originated loan of $1M (800k senior, 200k junior) and 100 days of grace.
fn market_with_loan() -> (Market, LoanId) {
    let mut market = Market::new(20_000_000);
    let silo = market.open_silo_of(CURATOR, whole(2_000_000), whole(10_000_000));
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 100, whole(2_000_000));
    let mut loan_terms = terms(&market, BORROWER, vec![receipt], whole(800_000), whole(200_000));
    loan_terms.grace_period_secs = GRACE;
    let id = market.originate(silo, loan_terms);
    (market, id)
}

fn fork(market: &Market) -> Market {
    market.clone()
}

/// What `missed` late payments cost at `now`, computed from the calculator independently of
/// the state machine: each scheduled payment plus grace interest = payment x grace rate x
/// seconds since its own deadline, rounded up.
fn expected_late_total(market: &Market, id: LoanId, missed: u32, now: u64) -> Amount {
    let loan = market.loan(id);
    let mut balance = loan.balance;
    let mut total = Amount::ZERO;
    for index in 0..missed {
        let due = schedule::installment(
            loan.model,
            balance,
            loan.rate,
            loan.interval_secs,
            loan.periods_remaining - index,
        )
        .unwrap();
        let deadline = loan.next_due_at + u64::from(index) * loan.interval_secs;
        let payment = due.payment().unwrap();
        let grace = schedule::simple_interest(payment, loan.grace_rate, now - deadline).unwrap();
        total = total.checked_add(payment).unwrap().checked_add(grace).unwrap();
        balance = balance.checked_sub(due.principal).unwrap();
    }
    total
}

#[test]
fn late_payments_of_one_two_and_three_periods_carry_grace_interest_at_every_boundary() {
    let (base, id) = market_with_loan();
    let first_deadline = base.loan(id).next_due_at;
    let on_time = expected_late_total(&base, id, 1, first_deadline);
    // (seconds after the first deadline, payments covered, grace interest charged)
    let cases = [
        (0, 1, false),
        (1, 1, true),
        (MONTH, 1, true),
        (MONTH + 1, 2, true),
        (2 * MONTH, 2, true),
        (2 * MONTH + 1, 3, true),
        (3 * MONTH, 3, true),
        (GRACE, 4, true),
    ];
    for (late, missed, graced) in cases {
        let mut market = fork(&base);
        let now = first_deadline + late;
        market.set_time(now);
        let loan = market.loan(id);
        assert_eq!(loan.missed_periods(now), if late == 0 { 0 } else { missed });
        let expected =
            if late == 0 { on_time } else { expected_late_total(&market, id, missed, now) };
        let events = market
            .ok(BORROWER, Action::RepayLoan(RepayLoan { loan_id: id, max_amount: Amount::MAX }));
        let due = events
            .iter()
            .find_map(|event| match event {
                Event::LoanPaymentMade { due, .. } => Some(*due),
                _ => None,
            })
            .unwrap();
        assert_eq!(due.total().unwrap(), expected, "{late} s late");
        assert_eq!(due.installments, missed);
        assert_eq!(!due.grace_interest.is_zero(), graced, "{late} s late");
        let after = market.loan(id);
        assert_eq!(after.next_due_at, first_deadline + u64::from(missed) * MONTH);
        assert_eq!(after.periods_remaining, 36 - missed);
        assert!(after.margin_call.is_none());
    }
    // One second past deadline + grace the loan can no longer be paid: it can only default.
    let mut market = fork(&base);
    market.set_time(first_deadline + GRACE + 1);
    market.reject(
        BORROWER,
        Action::RepayLoan(RepayLoan { loan_id: id, max_amount: Amount::MAX }),
        LoanError::LoanDefaultIsPending,
    );
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: id }));
    assert_eq!(market.loan(id).status, LoanStatus::Defaulted);
    // At deadline + grace exactly it is still payable and not yet in default.
    let mut market = fork(&base);
    market.set_time(first_deadline + GRACE);
    market.reject(
        KEEPER,
        Action::TriggerDefault(TriggerDefault { loan_id: id }),
        LoanError::LoanIsNotInDefault,
    );
}

#[test]
fn a_payment_above_the_payers_maximum_is_rejected() {
    let (mut market, id) = market_with_loan();
    let due = infrafi_core::loans::payment_due(&market.loan(id), market.now()).unwrap();
    let max_amount = due.total().unwrap().checked_sub(Amount(1)).unwrap();
    market.reject(
        BORROWER,
        Action::RepayLoan(RepayLoan { loan_id: id, max_amount }),
        LoanError::PaymentExceedsMaximum,
    );
}

#[test]
fn prepayment_mid_life_lowers_total_interest() {
    let (base, id) = market_with_loan();
    let mut steady = fork(&base);
    let mut prepaid = fork(&base);
    let mut paid_steady = Amount::ZERO;
    let mut paid_prepaid = Amount::ZERO;
    for period in 1..=36 {
        for market in [&mut steady, &mut prepaid] {
            market.advance(MONTH - DAY);
        }
        if period == 12 {
            let half = prepaid.loan(id).balance.mul_div(1, 2, Rounding::Down).unwrap();
            let before = prepaid.usdai(BORROWER);
            prepaid.ok(
                BORROWER,
                Action::PrepayLoan(PrepayLoan {
                    loan_id: id,
                    principal: half,
                    max_amount: Amount::MAX,
                }),
            );
            paid_prepaid = paid_prepaid
                .checked_add(before.checked_sub(prepaid.usdai(BORROWER)).unwrap())
                .unwrap();
        }
        paid_steady = paid_steady.checked_add(steady.repay(id)).unwrap();
        paid_prepaid = paid_prepaid.checked_add(prepaid.repay(id)).unwrap();
        for market in [&mut steady, &mut prepaid] {
            market.advance(DAY);
        }
    }
    let (steady_loan, prepaid_loan) = (steady.loan(id), prepaid.loan(id));
    assert_eq!(steady_loan.status, LoanStatus::Repaid);
    assert_eq!(prepaid_loan.status, LoanStatus::Repaid);
    assert_eq!(steady_loan.principal_paid, whole(1_000_000));
    assert_eq!(prepaid_loan.principal_paid, whole(1_000_000));
    assert!(prepaid_loan.interest_paid < steady_loan.interest_paid);
    assert!(paid_prepaid < paid_steady);
    // Prepayment recasts the schedule: the payments after it are smaller.
    assert!(prepaid_loan.periods_remaining == 0);
}

#[test]
fn the_final_payment_charges_the_exit_fee_and_releases_the_receipts() {
    let (mut market, id) = market_with_loan();
    let silo = market.loan(id).silo;
    let receipt = market.loan(id).receipts[0];
    for _ in 0..35 {
        market.advance(MONTH);
        market.repay(id);
    }
    assert_eq!(
        market.state.receipts.receipts.get(&receipt).unwrap().status,
        ReceiptStatus::Pledged
    );
    market.advance(MONTH);
    let pool_before = market.pool(silo);
    let due = infrafi_core::loans::payment_due(&market.loan(id), market.now()).unwrap();
    assert_eq!(due.exit_fee, whole(5_000), "0.5% of the original principal");
    let events =
        market.ok(BORROWER, Action::RepayLoan(RepayLoan { loan_id: id, max_amount: Amount::MAX }));
    assert!(events.iter().any(|e| matches!(e, Event::LoanRepaid { loan_id } if *loan_id == id)));
    let loan = market.loan(id);
    assert_eq!(loan.status, LoanStatus::Repaid);
    assert!(loan.balance.is_zero());
    let released = market.state.receipts.receipts.get(&receipt).unwrap().clone();
    assert_eq!(released.status, ReceiptStatus::Released);
    assert_eq!(released.owner, BORROWER);
    assert_eq!(released.loan, None);
    // The exit fee and the junior cash went to the silo's pool.
    let pool_in = market.pool(silo).checked_sub(pool_before).unwrap();
    let junior_cash = events
        .iter()
        .find_map(|e| match e {
            Event::LoanPaymentMade { split, .. } => {
                Some(split.junior_interest.checked_add(split.junior_principal).unwrap())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(pool_in, junior_cash.checked_add(whole(5_000)).unwrap());
    // The released receipt goes home: owner asks, custodian redeems.
    market.ok(
        BORROWER,
        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id: receipt }),
    );
    market.ok(CUSTODIAN, Action::RedeemReceipt(RedeemReceipt { receipt_id: receipt }));
    assert_eq!(
        market.state.receipts.receipts.get(&receipt).unwrap().status,
        ReceiptStatus::Redeemed
    );
}

#[test]
fn prepaying_the_whole_balance_is_the_final_payment() {
    let (mut market, id) = market_with_loan();
    market.advance(10 * DAY);
    let balance = market.loan(id).balance;
    let before = market.usdai(BORROWER);
    market.ok(
        BORROWER,
        Action::PrepayLoan(PrepayLoan { loan_id: id, principal: balance, max_amount: Amount::MAX }),
    );
    let paid = before.checked_sub(market.usdai(BORROWER)).unwrap();
    let rate = market.loan(id).rate;
    let interest = schedule::simple_interest(balance, rate, 10 * DAY).unwrap();
    assert_eq!(paid, balance.checked_add(interest).unwrap().checked_add(whole(5_000)).unwrap());
    assert_eq!(market.loan(id).status, LoanStatus::Repaid);
    let nav = market.nav();
    assert!(nav.senior_principal.is_zero() && nav.senior_accrued_interest.is_zero());
}

#[test]
fn every_payment_is_split_by_rate_share_and_senior_cash_pays_the_fees() {
    let mut market = Market::new(20_000_000);
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter {
            change: ParameterChange::PerformanceFeeBps(Bps(1_000)),
        }),
    );
    market.advance(3 * DAY); // the fee increase waits for the governance delay
    let silo_terms =
        infrafi_core::silos::SiloTerms { curator_fee_bps: Bps(500), ..Default::default() };
    let silo = market.open_silo_of_with(CURATOR, whole(2_000_000), whole(10_000_000), silo_terms);
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 100, whole(2_000_000));
    let loan_terms = terms(&market, BORROWER, vec![receipt], whole(750_000), whole(250_000));
    let id = market.originate(silo, loan_terms);
    market.advance(MONTH);
    let (vault, pool, fees, curator) =
        (market.vault_usdai(), market.pool(silo), market.fees(), market.usdai(CURATOR));
    let loan = market.loan(id);
    let events =
        market.ok(BORROWER, Action::RepayLoan(RepayLoan { loan_id: id, max_amount: Amount::MAX }));
    let (due, split) = events
        .iter()
        .find_map(|e| match e {
            Event::LoanPaymentMade { due, split, .. } => Some((*due, *split)),
            _ => None,
        })
        .unwrap();
    // Interest by rate x principal share: 750k at 15% vs 250k at 20% -> 225 : 100.
    let senior_weight = 750_000u128 * Rate::from_apr_bps(1_500).0;
    let junior_weight = 250_000u128 * Rate::from_apr_bps(2_000).0;
    let senior_interest =
        due.interest.mul_div(senior_weight, senior_weight + junior_weight, Rounding::Up).unwrap();
    assert_eq!(split.senior_interest, senior_interest);
    assert_eq!(split.senior_interest.checked_add(split.junior_interest).unwrap(), due.interest);
    // Principal pro rata: 75% senior.
    assert_eq!(split.senior_principal, due.principal.mul_bps(Bps(7_500), Rounding::Up).unwrap());
    assert_eq!(split.senior_principal.checked_add(split.junior_principal).unwrap(), due.principal);
    // Fees come out of senior interest only.
    assert_eq!(
        split.performance_fee,
        split.senior_interest.mul_bps(Bps(1_000), Rounding::Up).unwrap()
    );
    let after_fee = split.senior_interest.checked_sub(split.performance_fee).unwrap();
    assert_eq!(split.curator_fee, after_fee.mul_bps(Bps(500), Rounding::Down).unwrap());
    let to_vault = after_fee
        .checked_sub(split.curator_fee)
        .unwrap()
        .checked_add(split.senior_principal)
        .unwrap();
    assert_eq!(market.vault_usdai().checked_sub(vault).unwrap(), to_vault);
    assert_eq!(market.fees().checked_sub(fees).unwrap(), split.performance_fee);
    assert_eq!(market.usdai(CURATOR).checked_sub(curator).unwrap(), split.curator_fee);
    let junior_cash = split.junior_interest.checked_add(split.junior_principal).unwrap();
    assert_eq!(market.pool(silo).checked_sub(pool).unwrap(), junior_cash);
    // Tranche principals fell by their shares and still sum to the balance.
    let after = market.loan(id);
    assert_eq!(
        after.senior.principal,
        loan.senior.principal.checked_sub(split.senior_principal).unwrap()
    );
    assert_eq!(
        after.junior.principal,
        loan.junior.principal.checked_sub(split.junior_principal).unwrap()
    );
    assert!(market.usdai(ProtocolAccount::Loan(id)).is_zero());
}

#[test]
fn a_margin_call_is_cured_by_prepaying_under_the_initial_limit() {
    let (mut market, id) = market_with_loan();
    let receipt = market.loan(id).receipts[0];
    // The appraisal halves: LTV 1M / 1M = 100% > 80% margin-call limit.
    market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(1_000_000) }),
    );
    market.ok(KEEPER, Action::RemarkLoans(RemarkLoans { first_loan_id: LoanId(0), max_loans: 10 }));
    let call = market.loan(id).margin_call.unwrap();
    assert_eq!(call.reason, MarginCallReason::LtvAboveLimit);
    assert_eq!(call.cure_deadline_at, market.now() + 14 * DAY);
    // Prepaying down to 75% LTV is not enough (initial limit 70%)...
    market.ok(
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: id,
            principal: whole(250_000),
            max_amount: Amount::MAX,
        }),
    );
    assert!(market.loan(id).margin_call.is_some());
    // ...prepaying to 70% cures.
    market.ok(
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: id,
            principal: whole(50_000),
            max_amount: Amount::MAX,
        }),
    );
    assert!(market.loan(id).margin_call.is_none());
    assert!(market.nav().senior_impairment.is_zero());
}

#[test]
fn a_margin_call_is_cured_by_pledging_more_receipts() {
    let (mut market, id) = market_with_loan();
    let receipt = market.loan(id).receipts[0];
    market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(1_000_000) }),
    );
    market.ok(KEEPER, Action::RemarkLoans(RemarkLoans { first_loan_id: id, max_loans: 1 }));
    assert!(market.loan(id).margin_call.is_some());
    let extra = market.issue_receipt_of_class(BORROWER, h100(), 50, whole(500_000));
    market.ok(
        BORROWER,
        Action::PledgeReceipts(PledgeReceipts { loan_id: id, receipt_ids: vec![extra] }),
    );
    // 1M / 1.5M = 66.7% <= 70%.
    assert!(market.loan(id).margin_call.is_none());
    assert_eq!(market.loan(id).receipts.len(), 2);
}

#[test]
fn a_lapsed_insurance_policy_opens_a_cure_window_that_ends_in_default() {
    let (mut market, id) = market_with_loan();
    let receipt = market.loan(id).receipts[0];
    let expiry =
        market.state.receipts.receipts.get(&receipt).unwrap().policy.clone().unwrap().expires_at;
    // Keep paying so that only the lapse matters.
    while market.now() + MONTH < expiry {
        market.advance(MONTH);
        market.repay(id);
        let valuation_value = whole(2_000_000);
        market.ok(
            APPRAISER,
            Action::PostValuation(PostValuation { receipt_id: receipt, value: valuation_value }),
        );
    }
    market.set_time(expiry);
    market.ok(KEEPER, Action::RemarkLoans(RemarkLoans { first_loan_id: id, max_loans: 1 }));
    let call = market.loan(id).margin_call.unwrap();
    assert_eq!(call.reason, MarginCallReason::CollateralIneligible);
    market.reject(
        KEEPER,
        Action::TriggerDefault(TriggerDefault { loan_id: id }),
        LoanError::LoanIsNotInDefault,
    );
    market.set_time(call.cure_deadline_at + 1);
    market.reject(
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: id,
            principal: whole(1),
            max_amount: Amount::MAX,
        }),
        LoanError::LoanDefaultIsPending,
    );
    market.ok(STRANGER, Action::TriggerDefault(TriggerDefault { loan_id: id }));
    assert_eq!(market.loan(id).status, LoanStatus::Defaulted);
    assert_eq!(
        market.state.receipts.receipts.get(&receipt).unwrap().status,
        ReceiptStatus::Foreclosed
    );
}

#[test]
fn fixed_principal_loans_repay_equal_principal_each_period() {
    let mut market = Market::new(20_000_000);
    let silo = market.open_silo_of(CURATOR, whole(2_000_000), whole(10_000_000));
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 100, whole(2_000_000));
    let mut loan_terms = terms(&market, BORROWER, vec![receipt], whole(900_000), whole(300_000));
    loan_terms.model = InterestModel::FixedPrincipal;
    loan_terms.periods = Some(12);
    let id = market.originate(silo, loan_terms);
    let mut payments = Vec::new();
    for _ in 0..12 {
        market.advance(MONTH);
        let principal_before = market.loan(id).principal_paid;
        payments.push(market.repay(id));
        let principal = market.loan(id).principal_paid.checked_sub(principal_before).unwrap();
        assert_eq!(principal, whole(100_000));
    }
    assert!(payments[..11].windows(2).all(|pair| pair[1] < pair[0]), "payments fall");
    assert_eq!(market.loan(id).status, LoanStatus::Repaid);
}
