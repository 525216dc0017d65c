//! The scheduled senior repayments the QEV estimate projects are exactly the cash the vault
//! receives when the borrower pays on time.
#![allow(clippy::unwrap_used)]

mod credit_common;

use credit_common::*;
use infrafi_core::{Amount, ProtocolAccount, loans};

#[test]
fn scheduled_senior_repayments_match_what_the_vault_receives_from_an_on_time_borrower() {
    let mut market = Market::new(10_000_000);
    let silo = market.open_silo_of(CURATOR, whole(500_000), whole(5_000_000));
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 100, whole(2_500_000));
    let mut loan_terms = terms(&market, BORROWER, vec![receipt], whole(1_000_000), whole(200_000));
    loan_terms.periods = Some(6);
    let loan = market.originate(silo, loan_terms);
    let planned = loans::scheduled_senior_repayments(&market.state, u64::MAX, 1_000).unwrap();
    assert_eq!(planned.len(), 6, "one entry per remaining payment");
    let first_due = market.loan(loan).next_due_at;
    assert_eq!(planned[0].0, first_due);
    let horizon = loans::scheduled_senior_repayments(&market.state, first_due, 1_000).unwrap();
    assert_eq!(horizon, planned[..1], "the horizon cuts later payments");
    let capped = loans::scheduled_senior_repayments(&market.state, u64::MAX, 2).unwrap();
    assert_eq!(capped, planned[..2], "the entry bound holds");
    let mut principal_in_cash = Amount::ZERO;
    for &(due_at, cash) in &planned {
        market.set_time(due_at);
        let before = market.usdai(ProtocolAccount::Vault);
        market.repay(loan);
        let received = market.usdai(ProtocolAccount::Vault).checked_sub(before).unwrap();
        assert_eq!(received, cash, "payment due at {due_at}");
        principal_in_cash = principal_in_cash.checked_add(cash).unwrap();
    }
    assert!(principal_in_cash > whole(1_000_000), "senior principal comes back with interest");
    let after = loans::scheduled_senior_repayments(&market.state, u64::MAX, 1_000).unwrap();
    assert!(after.is_empty(), "a repaid loan schedules nothing");
}
