//! Residual-value insurance and the recovery ledger (issue 16, item 6): a policy insures a
//! floor; after a liquidation sale the insurer owes the floor minus the net proceeds, through
//! the waterfall; the loan's recovery ledger records gross and net recoveries, costs by kind,
//! insurance paid or unpaid and the exposure at default. Worked by hand and attacked.
//!
//! The example: a $1M loan (800k senior at 15%, 200k junior at 20%) against one 100-unit H100
//! receipt worth $2M, insured for $2M with a $1.5M residual floor; defaulted one second after
//! its grace period, foreclosed to the agent, and sold for $1M gross: ITAD 30% ($300,000),
//! legal $1,000, logistics $2,000, data destruction $500, so $696,500 net. The insurer owes
//! $1,500,000 - $696,500 = $803,500. Written off unsold instead (issue 11's sale deadline),
//! the receipt recovers nothing and the insurer owes the whole $1,500,000.
#![allow(clippy::unwrap_used)]

mod credit_common;

use credit_common::*;
use infrafi_core::{
    Action, Amount, Event, LoanId, ReceiptId,
    action::{
        ForecloseLoan, PayResidualClaim, RenewPolicy, ReportSale, SetResidualFloor, TriggerDefault,
        WriteOffReceipt, WriteOffResidualClaim,
    },
    governance::GovernanceError,
    loans::{LoanStatus, RESIDUAL_CLAIM_PERIOD_SECS, SALE_PERIOD_SECS, SaleReport},
    math::{Bps, Rounding},
    receipts::ReceiptError,
};

const FLOOR: u128 = 1_500_000;

fn floor(receipt_id: ReceiptId, floor_value: Amount) -> Action {
    Action::SetResidualFloor(SetResidualFloor { receipt_id, floor_value })
}

/// The example's loan, originated, with the floor set before origination.
fn insured_loan() -> (Market, LoanId, ReceiptId) {
    let mut market = Market::new(20_000_000);
    let silo = market.open_silo_of(CURATOR, whole(400_000), whole(10_000_000));
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 100, whole(2_000_000));
    market.ok(INSURER, floor(receipt, whole(FLOOR)));
    let loan = market
        .originate(silo, terms(&market, BORROWER, vec![receipt], whole(800_000), whole(200_000)));
    (market, loan, receipt)
}

fn default_and_foreclose(market: &mut Market, loan: LoanId) {
    let deadline = market.loan(loan).next_due_at;
    market.set_time(deadline + 15 * DAY + 1);
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    let foreclose = ForecloseLoan { loan_id: loan, liquidation_agent: LIQUIDATION_AGENT };
    market.ok(CURATOR, Action::ForecloseLoan(foreclose));
}

fn sale(gross: Amount) -> SaleReport {
    SaleReport {
        gross_proceeds: gross,
        itad_commission: gross.mul_bps(Bps(3_000), Rounding::Up).unwrap(),
        legal_costs: whole(1_000),
        logistics_costs: whole(2_000),
        data_destruction_costs: whole(500),
    }
}

fn sell(market: &mut Market, receipt_id: ReceiptId, gross: Amount) -> Vec<Event> {
    market.ok(LIQUIDATION_AGENT, Action::ReportSale(ReportSale { receipt_id, report: sale(gross) }))
}

#[test]
fn a_sale_below_the_floor_books_the_difference_and_the_insurers_payment_settles_the_loan() {
    let (mut market, loan, receipt) = insured_loan();
    default_and_foreclose(&mut market, loan);
    let at_default = market.loan(loan);
    let owed_at_default = at_default
        .balance
        .checked_add(at_default.senior.interest_due)
        .unwrap()
        .checked_add(at_default.junior.interest_due)
        .unwrap();
    assert_eq!(at_default.recovery.exposure_at_default, owed_at_default);
    let events = sell(&mut market, receipt, whole(1_000_000));
    assert!(events.contains(&Event::ResidualClaimBooked {
        receipt_id: receipt,
        loan_id: loan,
        insurer: INSURER,
        floor_value: whole(FLOOR),
        net_proceeds: whole(696_500),
        amount: whole(803_500),
    }));
    // The sale alone leaves the senior tranche short: the loan waits for the insurer.
    let waiting = market.loan(loan);
    assert_eq!(waiting.status, LoanStatus::Defaulted, "a claim keeps the loan open");
    assert_eq!(waiting.recovery.residual_owed, whole(803_500));
    let recovery = waiting.recovery;
    assert_eq!(recovery.itad_commission, whole(300_000));
    assert_eq!(recovery.legal_costs, whole(1_000));
    assert_eq!(recovery.logistics_costs, whole(2_000));
    assert_eq!(recovery.data_destruction_costs, whole(500));
    assert_eq!(recovery.costs, whole(303_500), "costs by kind sum to the costs");
    // The insurer pays: through the waterfall, the tranches are made whole and the loan settles.
    let insurer_before = market.usdai(INSURER);
    let pay = Action::PayResidualClaim(PayResidualClaim { receipt_id: receipt });
    market.ok(INSURER, pay);
    assert_eq!(insurer_before.checked_sub(market.usdai(INSURER)).unwrap(), whole(803_500));
    let settled = market.loan(loan);
    assert_eq!(settled.status, LoanStatus::Settled);
    let recovery = settled.recovery;
    assert_eq!(recovery.gross, whole(1_803_500), "the sale plus the insurer's payment");
    assert_eq!(recovery.insurance_paid, whole(803_500));
    assert_eq!(recovery.residual_owed, Amount::ZERO);
    assert_eq!(recovery.senior_loss, Amount::ZERO, "the floor covered the senior tranche");
    assert_eq!(recovery.junior_loss, Amount::ZERO, "and the junior tranche");
    assert!(market.state.loans.residual_claims.is_empty());
}

#[test]
fn a_sale_at_or_above_the_floor_owes_nothing_and_settles_at_once() {
    let (mut market, loan, receipt) = insured_loan();
    default_and_foreclose(&mut market, loan);
    // Net = gross - 30% - 3,500 >= 1,500,000 from a gross of 2,147,858 (rounded up).
    let events = sell(&mut market, receipt, whole(2_200_000));
    assert!(!events.iter().any(|e| matches!(e, Event::ResidualClaimBooked { .. })));
    assert_eq!(market.loan(loan).status, LoanStatus::Settled);
    assert_eq!(market.loan(loan).recovery.insurance_paid, Amount::ZERO);
}

/// After the sale deadline, the admin writes the unsold receipt off.
fn write_off(market: &mut Market, receipt_id: ReceiptId) -> Vec<Event> {
    market.advance(SALE_PERIOD_SECS);
    market.ok(ADMIN, Action::WriteOffReceipt(WriteOffReceipt { receipt_id }))
}

#[test]
fn a_receipt_written_off_unsold_owes_the_whole_floor_and_the_ledger_counts_it() {
    let (mut market, loan, receipt) = insured_loan();
    default_and_foreclose(&mut market, loan);
    let exposure = market.loan(loan).recovery.exposure_at_default;
    let events = write_off(&mut market, receipt);
    assert!(events.contains(&Event::ResidualClaimBooked {
        receipt_id: receipt,
        loan_id: loan,
        insurer: INSURER,
        floor_value: whole(FLOOR),
        net_proceeds: Amount::ZERO,
        amount: whole(FLOOR),
    }));
    let waiting = market.loan(loan);
    assert_eq!(waiting.status, LoanStatus::Defaulted, "the loan waits for the insurer");
    let recovery = waiting.recovery;
    assert_eq!(recovery.receipts_written_off, 1);
    assert_eq!(recovery.gross, Amount::ZERO, "a write-off recovers nothing");
    assert_eq!(recovery.costs, Amount::ZERO, "and costs nothing");
    assert_eq!(recovery.residual_owed, whole(FLOOR));
    assert_eq!(recovery.exposure_at_default, exposure, "the exposure stays as at default");
    market.ok(INSURER, Action::PayResidualClaim(PayResidualClaim { receipt_id: receipt }));
    let settled = market.loan(loan);
    assert_eq!(settled.status, LoanStatus::Settled);
    assert_eq!(settled.recovery.gross, whole(FLOOR), "the floor is the whole recovery");
    assert_eq!(settled.recovery.insurance_paid, whole(FLOOR));
    assert_eq!(settled.recovery.senior_loss, Amount::ZERO, "the floor covered both tranches");
    assert_eq!(settled.recovery.junior_loss, Amount::ZERO);
    assert_eq!(settled.recovery.receipts_written_off, 1);
}

#[test]
fn a_receipt_written_off_without_a_floor_is_counted_and_the_loan_settles_at_once() {
    let mut market = Market::new(20_000_000);
    let silo = market.open_silo_of(CURATOR, whole(400_000), whole(10_000_000));
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 100, whole(2_000_000));
    let loan = market
        .originate(silo, terms(&market, BORROWER, vec![receipt], whole(800_000), whole(200_000)));
    default_and_foreclose(&mut market, loan);
    let events = write_off(&mut market, receipt);
    assert!(!events.iter().any(|e| matches!(e, Event::ResidualClaimBooked { .. })));
    let settled = market.loan(loan);
    assert_eq!(settled.status, LoanStatus::Settled);
    assert_eq!(settled.recovery.receipts_written_off, 1);
    assert_eq!(settled.recovery.gross, Amount::ZERO);
    assert!(!settled.recovery.senior_loss.is_zero() || !settled.recovery.junior_loss.is_zero());
}

#[test]
fn attack_an_insurer_who_never_pays_cannot_hold_the_loan_open_past_the_payment_period() {
    let (mut market, loan, receipt) = insured_loan();
    default_and_foreclose(&mut market, loan);
    sell(&mut market, receipt, whole(1_000_000));
    let write_off = Action::WriteOffResidualClaim(WriteOffResidualClaim { receipt_id: receipt });
    market.advance(RESIDUAL_CLAIM_PERIOD_SECS - 1);
    market.reject(ADMIN, write_off.clone(), ReceiptError::ResidualClaimIsNotOverdue);
    market.advance(1);
    market.reject(CURATOR, write_off.clone(), GovernanceError::SenderLacksRole);
    // Nobody but the claim's insurer pays it.
    let pay = Action::PayResidualClaim(PayResidualClaim { receipt_id: receipt });
    market.reject(RIVAL, pay, GovernanceError::SenderLacksRole);
    market.ok(ADMIN, write_off.clone());
    let settled = market.loan(loan);
    assert_eq!(settled.status, LoanStatus::Settled, "written off, the loan settles");
    assert_eq!(settled.recovery.insurance_unpaid, whole(803_500), "booked against the insurer");
    assert_eq!(settled.recovery.insurance_paid, Amount::ZERO);
    assert!(
        !settled.recovery.senior_loss.is_zero() || !settled.recovery.first_loss_cover.is_zero()
    );
    market.reject(ADMIN, write_off, ReceiptError::ResidualClaimNotFound);
}

#[test]
fn attack_an_insurer_cannot_shed_the_floor_of_a_pledged_receipt_before_a_default() {
    let (mut market, loan, receipt) = insured_loan();
    // Seeing the loan weaken, the insurer tries to lower its floor: refused while pledged.
    market.reject(
        INSURER,
        floor(receipt, whole(FLOOR - 1)),
        ReceiptError::ResidualFloorCannotBeLoweredWhilePledged,
    );
    // Nor can it renew the policy with a coverage below the floor.
    let expires_at = market.now() + 3 * 365 * DAY;
    let renew = RenewPolicy { receipt_id: receipt, coverage: whole(FLOOR - 1), expires_at };
    market.reject(INSURER, Action::RenewPolicy(renew), ReceiptError::ResidualFloorExceedsCoverage);
    // A floor above the coverage is refused; raising it within the coverage is allowed.
    market.reject(
        INSURER,
        floor(receipt, whole(2_000_001)),
        ReceiptError::ResidualFloorExceedsCoverage,
    );
    market.ok(INSURER, floor(receipt, whole(1_600_000)));
    // Once foreclosed the floor is fixed.
    default_and_foreclose(&mut market, loan);
    market.reject(INSURER, floor(receipt, whole(1_700_000)), ReceiptError::ReceiptIsClosed);
}
