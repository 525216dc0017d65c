//! Insurance pays a casualty on an active loan (issue 11 item 6).
//!
//! A receipt's hardware destroyed or stolen while its loan was active left the loan carrying
//! collateral that no longer existed until it defaulted: the insurer could pay only a
//! foreclosed receipt's claim. Now `pay_casualty_claim` takes the policy's coverage, up to what
//! retires the loan, as a prepayment through the ordinary split (senior cash to the vault at
//! once), hands the receipt to the insurer and re-marks the loan on what is left.

use crate::common::{ALICE, BORROWER, DAY, INSURER, Market, STRANGER, senior_loan, whole};
use infrafi_core::{
    Action, Asset, Event, ReceiptId,
    action::{PayCasualtyClaim, Transfer},
    governance::GovernanceError,
    loans::{LoanError, LoanStatus},
    receipts::ReceiptStatus,
};

fn claim(receipt_id: ReceiptId) -> Action {
    Action::PayCasualtyClaim(PayCasualtyClaim { receipt_id })
}

/// A loan of 120,000 against two receipts, one covered for 50,000 and one for 300,000. The
/// first is destroyed: the insurer's 50,000 prepays the loan (principal plus this period's
/// interest on it, within two units of the coverage: the insurer cannot take the receipt for
/// less), the vault receives it at once, the receipt goes to the insurer and the loan goes on
/// against the other. Then the second is destroyed: its coverage exceeds the payoff, so the
/// insurer pays exactly the payoff and the loan is repaid. Nothing waits for a default, and
/// only the policy's insurer can claim, only on a receipt of an active loan.
#[test]
fn a_casualty_on_an_active_loan_is_paid_as_a_prepayment_and_retires_the_receipt() {
    let insurer_float = whole(150_000);
    let (mut market, silo) = Market::builder()
        .staked(ALICE, whole(850_000))
        .holding(ALICE, insurer_float)
        .with_silo(whole(100_000), whole(1_000_000));
    market.ok(
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: INSURER, amount: insurer_float }),
    );
    let small = market.issue_receipt(BORROWER, 2, whole(50_000));
    let large = market.issue_receipt(BORROWER, 10, whole(300_000));
    let mut terms = senior_loan(small, whole(120_000), 1_000, market.now());
    terms.receipts = vec![small, large];
    let loan = market.originate(silo, terms);
    market.advance(10 * DAY);

    market.rejected(STRANGER, claim(small), GovernanceError::SenderLacksRole);
    let vault_before = market.vault_usdai();
    let balance_before = market.loan(loan).balance;
    let events = market.ok(INSURER, claim(small));
    let paid = events
        .iter()
        .find_map(|event| match event {
            Event::CasualtyClaimPaid { amount, .. } => Some(*amount),
            _ => None,
        })
        .expect("a casualty claim event");
    assert!(paid <= whole(50_000) && whole(50_000).0 - paid.0 <= 2, "paid {paid}");
    assert_eq!(market.usdai(INSURER).0, insurer_float.0 - paid.0);
    let after = market.loan(loan);
    assert_eq!(after.status, LoanStatus::Active, "no default, no waiting");
    assert_eq!(after.receipts, vec![large]);
    let principal = balance_before.0 - after.balance.0;
    assert!(principal > whole(49_000).0 && principal < whole(50_000).0, "{principal}");
    // Senior-only and no fees: every unit the insurer paid reached the vault.
    assert_eq!(market.vault_usdai().0 - vault_before.0, paid.0);
    let retired = market.state.receipts.receipts.get(&small).expect("the receipt");
    assert_eq!((retired.status, retired.owner), (ReceiptStatus::Sold, INSURER));
    market.rejected(INSURER, claim(small), LoanError::ReceiptIsNotPledgedToActiveLoan);

    let balance = after.balance;
    let vault_before = market.vault_usdai();
    let insurer_before = market.usdai(INSURER);
    market.ok(INSURER, claim(large));
    let repaid = market.loan(loan);
    assert_eq!((repaid.status, repaid.balance.0), (LoanStatus::Repaid, 0));
    let paid = insurer_before.0 - market.usdai(INSURER).0;
    assert!(paid > balance.0 && paid < whole(75_000).0, "the payoff, not the coverage: {paid}");
    assert_eq!(market.vault_usdai().0 - vault_before.0, paid);
    // A receipt whose loan is gone has no casualty claim here.
    market.rejected(INSURER, claim(large), LoanError::ReceiptIsNotPledgedToActiveLoan);
    market.rejected(BORROWER, claim(large), GovernanceError::SenderLacksRole);
}
