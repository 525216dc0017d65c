//! Borrower covenants (issue 16, item 3): the debt-service reserve and the `Breached` state,
//! worked by hand and attacked.
//!
//! The example: Alice's 1,000,000 USDai in the vault; the curator's silo requires a reserve of
//! 3 payments and a report every 90 days; the borrower takes 120,000 interest-free over 12
//! monthly payments of 10,000, so the reserve is 30,000, funded from the proceeds (the borrower
//! receives 90,000).

use infrafi_core::{
    Action, Amount, LoanId, SiloId,
    action::{
        DrawDebtServiceReserve, FundDebtServiceReserve, PostBorrowerReport, RemarkLoans, RepayLoan,
        SetLoanCovenants, Transfer, TriggerDefault,
    },
    ids::{B256, ProtocolAccount},
    loans::{BreachReason, LoanError, LoanStatus},
};
use infrafi_testkit::market::*;

const MONTH_SECS: u64 = 30 * DAY;

fn covenanted_loan() -> (Market, SiloId, LoanId) {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000_000));
    market.stake(ALICE, whole(1_000_000));
    let silo = market.open_silo(whole(100_000), whole(1_000_000));
    market.ok(
        CURATOR,
        Action::SetLoanCovenants(SetLoanCovenants {
            silo_id: silo,
            debt_service_reserve_periods: 3,
            report_interval_secs: 90 * DAY,
        }),
    );
    let receipt = market.issue_receipt(BORROWER, 10, whole(300_000));
    let loan = market.originate(silo, senior_loan(receipt, whole(120_000), 0, market.now()));
    (market, silo, loan)
}

fn reserve_account(market: &Market, loan: LoanId) -> Amount {
    market.usdai(ProtocolAccount::DebtServiceReserve(loan))
}

fn draw(loan_id: LoanId) -> Action {
    Action::DrawDebtServiceReserve(DrawDebtServiceReserve { loan_id })
}

fn fund(loan_id: LoanId, amount: Amount) -> Action {
    Action::FundDebtServiceReserve(FundDebtServiceReserve { loan_id, amount })
}

fn report(loan_id: LoanId) -> Action {
    Action::PostBorrowerReport(PostBorrowerReport {
        loan_id,
        document_hash: B256::repeat_byte(0x4e),
    })
}

fn remark_all(market: &mut Market) {
    market.ok(KEEPER, Action::RemarkLoans(RemarkLoans { first_loan_id: LoanId(0), max_loans: 10 }));
}

#[test]
fn the_reserve_is_three_payments_funded_from_the_proceeds() {
    let (market, _, loan) = covenanted_loan();
    let state = market.loan(loan);
    assert_eq!(state.reserve.required, whole(30_000));
    assert_eq!(state.reserve.balance, whole(30_000));
    assert_eq!(reserve_account(&market, loan), whole(30_000));
    assert_eq!(market.usdai(BORROWER), whole(90_000), "120,000 less the 30,000 reserve");
    assert!(!state.is_breached());
}

#[test]
fn a_missed_payment_draws_on_the_reserve_and_the_loan_is_breached_until_refilled() {
    let (mut market, _, loan) = covenanted_loan();
    market.advance(MONTH_SECS + 1);
    assert_eq!(market.loan(loan).missed_periods(market.now()), 1);
    market.ok(KEEPER, draw(loan));
    let state = market.loan(loan);
    assert_eq!(state.missed_periods(market.now()), 0, "the reserve paid: the loan is not late");
    assert_eq!(state.periods_remaining, 11);
    assert_eq!(state.balance, whole(110_000));
    assert_eq!(state.reserve.balance, whole(20_000));
    assert_eq!(state.reserve.drawn_total, whole(10_000));
    let breach = state.breach.expect("a short reserve breaches the loan");
    assert_eq!(breach.reason, BreachReason::ReserveBelowRequirement);
    // The borrower refills it: cured.
    market.ok(BORROWER, fund(loan, whole(10_000)));
    let state = market.loan(loan);
    assert_eq!(state.reserve.balance, whole(30_000));
    assert!(state.breach.is_none());
    assert_eq!(reserve_account(&market, loan), whole(30_000));
}

#[test]
fn an_uncured_breach_allows_default_before_grace_ends_and_the_reserve_is_the_first_recovery() {
    let (mut market, _, loan) = covenanted_loan();
    market.advance(MONTH_SECS + 1);
    market.ok(KEEPER, draw(loan));
    let cure_deadline_at = market.loan(loan).breach.expect("breached").cure_deadline_at;
    // Not yet: the cure window is open and the next payment is not even due.
    let trigger = Action::TriggerDefault(TriggerDefault { loan_id: loan });
    market.rejected(KEEPER, trigger.clone(), LoanError::LoanIsNotInDefault);
    market.advance(cure_deadline_at + 1 - market.now());
    assert!(market.now() < market.loan(loan).next_due_at, "before the next deadline");
    let vault_before = market.vault_usdai();
    market.ok(KEEPER, trigger);
    let state = market.loan(loan);
    assert_eq!(state.status, LoanStatus::Defaulted);
    assert_eq!(state.reserve.balance, Amount::ZERO);
    assert_eq!(reserve_account(&market, loan), Amount::ZERO);
    assert_eq!(state.recovery.gross, whole(20_000), "the reserve left is the first recovery");
    // 2% liquidation fee (rounded up), the rest to senior principal.
    assert_eq!(state.recovery.to_senior, whole(19_600));
    assert_eq!(market.vault_usdai(), vault_before.checked_add(whole(19_600)).expect("small"));
}

#[test]
fn an_overdue_report_breaches_the_loan_and_posting_it_cures() {
    let (mut market, _, loan) = covenanted_loan();
    for _ in 0..3 {
        market.advance(MONTH_SECS);
        market.repay(loan);
    }
    market.advance(1);
    remark_all(&mut market);
    let breach = market.loan(loan).breach.expect("the 90-day report is overdue");
    assert_eq!(breach.reason, BreachReason::ReportOverdue);
    market.ok(BORROWER, report(loan));
    assert!(market.loan(loan).breach.is_none());
    assert_eq!(market.loan(loan).last_report.map(|r| r.at), Some(market.now()));
}

#[test]
fn repaying_the_loan_returns_the_reserve_to_the_borrower() {
    let (mut market, _, loan) = covenanted_loan();
    // The borrower's rental income: 30,000 more than the proceeds it kept.
    market.mint(BOB, whole(30_000));
    let income = Action::Transfer(Transfer {
        asset: infrafi_core::Asset::Usdai,
        to: BORROWER,
        amount: whole(30_000),
    });
    market.ok(BOB, income);
    for _ in 0..12 {
        market.advance(MONTH_SECS);
        market.ok(BORROWER, report(loan));
        let repay = RepayLoan { loan_id: loan, max_amount: Amount::MAX };
        market.ok(BORROWER, Action::RepayLoan(repay));
    }
    let state = market.loan(loan);
    assert_eq!(state.status, LoanStatus::Repaid);
    assert_eq!(reserve_account(&market, loan), Amount::ZERO);
    assert_eq!(state.reserve.balance, Amount::ZERO);
    // 90,000 received and 30,000 earned, 120,000 repaid, the 30,000 reserve back.
    assert_eq!(market.usdai(BORROWER), whole(30_000));
}

#[test]
fn attack_a_lender_cannot_default_a_loan_its_reserve_covers() {
    // A keeper (or a rival lender wanting the hardware) waits out the grace period of a
    // missed payment and tries to default: the reserve covers it, so the payment is drawn.
    let (mut market, _, loan) = covenanted_loan();
    market.advance(MONTH_SECS + 15 * DAY + 1);
    let trigger = Action::TriggerDefault(TriggerDefault { loan_id: loan });
    market.rejected(KEEPER, trigger, LoanError::MissedPaymentIsCoveredByReserve);
    market.ok(KEEPER, draw(loan));
    assert_eq!(market.loan(loan).status, LoanStatus::Active);
    assert_eq!(market.loan(loan).missed_periods(market.now()), 0);
}

#[test]
fn attack_nobody_can_overfill_a_reserve_or_report_for_the_borrower() {
    let (mut market, _, loan) = covenanted_loan();
    // Over-funding would park a stranger's USDai where only the waterfall or the borrower
    // can take it: refused.
    market.mint(BOB, whole(10));
    market.rejected(BOB, fund(loan, whole(1)), LoanError::ReserveFundingExceedsRequirement);
    market.rejected(BOB, report(loan), LoanError::SenderIsNotLoanBorrower);
    // A draw before any missed payment would make the borrower breach: refused.
    market.rejected(KEEPER, draw(loan), LoanError::NoPaymentIsMissed);
    assert!(market.loan(loan).breach.is_none());
}

#[test]
fn a_reserve_of_one_payment_pays_it_with_its_grace_interest_at_the_end_of_grace() {
    // At 12% with 15 days of grace at 12%, one payment of reserve is provisioned with grace
    // interest for 16 days: drawn on the last second of grace, it still pays in full.
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000_000));
    market.stake(ALICE, whole(1_000_000));
    let silo = market.open_silo(whole(100_000), whole(1_000_000));
    let covenants = SetLoanCovenants {
        silo_id: silo,
        debt_service_reserve_periods: 1,
        report_interval_secs: 0,
    };
    market.ok(CURATOR, Action::SetLoanCovenants(covenants));
    let receipt = market.issue_receipt(BORROWER, 10, whole(300_000));
    let loan = market.originate(silo, senior_loan(receipt, whole(120_000), 1_200, market.now()));
    let required = market.loan(loan).reserve.required;
    assert!(
        required > whole(10_000),
        "a payment of principal and interest, plus grace: {required}"
    );
    market.advance(MONTH_SECS + 15 * DAY);
    market.ok(KEEPER, draw(loan));
    assert_eq!(market.loan(loan).missed_periods(market.now()), 0);
    assert!(market.loan(loan).reserve.balance > Amount::ZERO, "the margin is left");
}
