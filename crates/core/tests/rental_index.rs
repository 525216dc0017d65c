//! Rental-index marks (issue 16, item 5): a receipt's value for LTV is also bounded by the
//! income value of its class's rental index, worked by hand and attacked.
//!
//! The example (docs/valuation.md): a 10-GPU receipt appraised at 300,000 (the fixture class
//! does not depreciate, so the appraisal is its mark); the class's income terms are 70%
//! utilisation, 40% operating costs, 12% a year and 36 months of life left; at $2.00 an hour a
//! GPU's income value is $18,252.13, so the receipt's value for LTV is $182,521.33, not 300,000.

use infrafi_core::{
    Action, Amount, LoanId, WAD,
    action::{AcceptLoan, PledgeReceipts, PostRentalIndex, RemarkLoans, SetIncomeTerms},
    loans::{LoanError, MarginCallReason},
    receipts::{self, ReceiptError},
    rental_index::{self, IncomeTerms},
};
use infrafi_testkit::market::*;

fn set_terms(market: &mut Market, terms: IncomeTerms) {
    market.ok(ADMIN, Action::SetIncomeTerms(SetIncomeTerms { class: GPU, terms }));
}

fn post(market: &mut Market, rent_per_unit_hour: Amount) -> Result<(), infrafi_core::TxError> {
    let action = Action::PostRentalIndex(PostRentalIndex { class: GPU, rent_per_unit_hour });
    market.try_apply(ORACLE, action).map(|_| ())
}

fn dollars(cents: u128) -> Amount {
    Amount(cents * WAD / 100)
}

fn value_for_ltv(market: &Market, receipt: infrafi_core::ReceiptId) -> Amount {
    let state = &market.state;
    let Some(receipt) = state.receipts.receipts.get(&receipt) else { panic!("no receipt") };
    receipts::value_for_ltv(state, receipt, state.now())
}

fn remark_all(market: &mut Market) {
    market.ok(KEEPER, Action::RemarkLoans(RemarkLoans { first_loan_id: LoanId(0), max_loans: 10 }));
}

/// A vault with 1,000,000 to lend, a silo, a 10-GPU receipt appraised at 300,000, the GPU
/// class's income terms set and its index at $2.00.
fn indexed_market() -> (Market, infrafi_core::SiloId, infrafi_core::ReceiptId) {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000_000));
    market.stake(ALICE, whole(1_000_000));
    let silo = market.open_silo(whole(100_000), whole(1_000_000));
    let receipt = market.issue_receipt(BORROWER, 10, whole(300_000));
    let now = market.now();
    set_terms(&mut market, gpu_income_terms(now));
    post(&mut market, RENT_TWO_DOLLARS).expect("the first post");
    (market, silo, receipt)
}

#[test]
fn the_income_value_bounds_the_receipt_as_the_worked_example_says() {
    let (market, _, receipt) = indexed_market();
    let expected = Amount(INCOME_VALUE_PER_UNIT_AT_TWO_DOLLARS.0 * 10);
    assert_eq!(
        value_for_ltv(&market, receipt),
        expected,
        "$182,521.33, below the 300,000 appraisal"
    );
    assert_eq!(expected.0 / 10u128.pow(16), 18_252_133, "in cents");
}

#[test]
fn a_class_without_income_terms_is_valued_as_before_even_with_an_index() {
    let mut market = Market::new();
    market.open_silo(whole(100_000), whole(1_000_000));
    let receipt = market.issue_receipt(BORROWER, 10, whole(300_000));
    post(&mut market, dollars(50)).expect("a post needs no terms");
    assert_eq!(value_for_ltv(&market, receipt), whole(300_000));
}

#[test]
fn attack_a_borrower_cannot_draw_against_a_mark_the_index_no_longer_supports() {
    let (mut market, silo, receipt) = indexed_market();
    // The appraisal alone would lend 70% of 300,000 = 210,000; the index supports 70% of
    // 182,521.33 = 127,764.93.
    let too_much = market.propose(silo, senior_loan(receipt, whole(150_000), 1_200, market.now()));
    let refused = market.try_apply(BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: too_much }));
    assert_eq!(refused.err(), Some(LoanError::LoanLtvExceedsMax.into()));
    let fits = market.propose(silo, senior_loan(receipt, whole(127_000), 1_200, market.now()));
    market.ok(BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: fits }));
}

#[test]
fn margin_calls_follow_the_index_down_and_cure_when_it_recovers() {
    let (mut market, silo, receipt) = indexed_market();
    let loan = market.originate(silo, senior_loan(receipt, whole(100_000), 0, market.now()));
    remark_all(&mut market);
    assert!(market.loan(loan).margin_call.is_none(), "LTV 55% at $2.00");
    // The rent falls 25% a day for two days: $1.50 (LTV about 75%: no call yet), then $1.125.
    market.advance(DAY);
    post(&mut market, dollars(150)).expect("25% down");
    remark_all(&mut market);
    assert!(market.loan(loan).margin_call.is_none(), "LTV below the 80% margin-call limit");
    market.advance(DAY);
    post(&mut market, Amount(1_125 * WAD / 1_000)).expect("25% down again");
    remark_all(&mut market);
    let call = market.loan(loan).margin_call.expect("LTV far above 80% at $1.125");
    assert_eq!(call.reason, MarginCallReason::LtvAboveLimit);
    let mark = market.loan(loan).mark.expect("re-marked");
    assert_eq!(
        mark.collateral_value,
        value_for_ltv(&market, receipt),
        "the mark is the income value"
    );
    // It recovers to $2.00 over three days; the next re-mark cures (LTV back under 70%).
    market.advance(DAY);
    post(&mut market, dollars(140)).expect("24% up");
    for rent in [dollars(175), RENT_TWO_DOLLARS] {
        market.advance(DAY);
        post(&mut market, rent).expect("within the day's bound");
    }
    remark_all(&mut market);
    assert!(market.loan(loan).margin_call.is_none(), "cured when the index recovered");
}

#[test]
fn attack_a_compromised_oracle_cannot_jump_the_index_within_a_day() {
    let (mut market, _, receipt) = indexed_market();
    let before = value_for_ltv(&market, receipt);
    let jump = Err(ReceiptError::RentalIndexMoveExceedsMax.into());
    // One post cannot crash it to a cent or lift it tenfold.
    assert_eq!(post(&mut market, dollars(1)), jump);
    assert_eq!(post(&mut market, dollars(2_000)), jump);
    // Many posts in the same day stay within 25% of where the day started ($1.50-$2.50):
    // stepping 25% at a time does not compound.
    post(&mut market, dollars(250)).expect("25% up");
    assert_eq!(post(&mut market, Amount(3_125 * WAD / 1_000)), jump, "25% on top of 25%");
    post(&mut market, dollars(150)).expect("back down, still within the day's bound");
    assert_eq!(post(&mut market, Amount(1_125 * WAD / 1_000)), jump);
    market.advance(60);
    assert_eq!(post(&mut market, dollars(100)), jump, "a minute later, the same window");
    // A day later the window opens again from the index as it stands ($1.50).
    market.advance(DAY);
    post(&mut market, Amount(1_125 * WAD / 1_000)).expect("25% below $1.50");
    let after = value_for_ltv(&market, receipt);
    assert!(after < before, "the index did move, only at the bounded pace");
}

#[test]
fn attack_a_stale_index_makes_the_collateral_ineligible_and_opens_a_margin_call() {
    let (mut market, silo, receipt) = indexed_market();
    let loan = market.originate(silo, senior_loan(receipt, whole(100_000), 0, market.now()));
    let spare = market.issue_receipt(BORROWER, 2, whole(60_000));
    // The oracle goes quiet for more than the terms' 7 days: the mark is no longer supported.
    market.advance(7 * DAY + 1);
    let value = market.state.receipts.receipts.get(&spare).cloned().expect("spare receipt");
    assert_eq!(
        receipts::check_eligible(&market.state, &value, market.now()).err(),
        Some(ReceiptError::ReceiptRentalIndexStale)
    );
    remark_all(&mut market);
    let call = market.loan(loan).margin_call.expect("stale index: collateral ineligible");
    assert_eq!(call.reason, MarginCallReason::CollateralIneligible);
    // Pledging more receipts of the class cannot cure it while the index is stale.
    let pledge = Action::PledgeReceipts(PledgeReceipts { loan_id: loan, receipt_ids: vec![spare] });
    assert_eq!(
        market.try_apply(BORROWER, pledge).err(),
        Some(ReceiptError::ReceiptRentalIndexStale.into())
    );
    // A fresh post cures it at the next re-mark.
    post(&mut market, RENT_TWO_DOLLARS).expect("a fresh post");
    remark_all(&mut market);
    assert!(market.loan(loan).margin_call.is_none());
}

#[test]
fn the_income_value_declines_month_by_month_as_the_life_runs_out() {
    let (mut market, _, receipt) = indexed_market();
    let mut last = value_for_ltv(&market, receipt);
    let terms = *market.state.receipts.income_terms.get(&GPU).expect("terms set");
    for _ in 0..36 {
        market.advance(rental_index::MONTH_SECS);
        // Keep the index fresh at $2.00 (a post a month is within the bound: no move).
        post(&mut market, RENT_TWO_DOLLARS).expect("same rent");
        let now = value_for_ltv(&market, receipt);
        assert!(now < last, "one month fewer of rent");
        last = now;
    }
    assert_eq!(last, Amount::ZERO, "the life has ended at {}", terms.economic_life_ends_at);
}
