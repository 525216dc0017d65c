//! A credit book filled from many keys (issue 14).
//!
//! Receipts and loans are bounded per loan and per silo's cap, not in number across keys: one
//! user with many keys can hold thousands of receipts and performing loans. If a silo's page
//! (`GET /v1/silos/{id}`) walked every open loan, an owner's receipts (`GET
//! /v1/receipts?owner=`) every receipt, and the recoveries (`GET /v1/recoveries`) every loan
//! ever made, that user would slow every other user's reads, the dashboard's included. These
//! reads are answered from the tables' derived indexes (`LoanIndex`: open loans by silo, loans
//! in recovery; the receipts' owner index), so what they visit is the reader's own records.

use crate::common::{ALICE, BOB, CAROL, Market, senior_loan, user_address, whole};
use infrafi_core::{
    Action, Address, LoanId, ReceiptId, SiloId, State,
    action::TransferReceipt,
    invariants,
    loans::{LoanStatus, LoanTerms},
};

/// Keys the flooding user holds receipts and loans from.
const KEYS: u64 = 40;

/// A senior-only loan of 10,000 to `borrower` against a new receipt of theirs (one GPU,
/// appraised and insured at 30,000), originated in `silo`.
fn lend_to(market: &mut Market, silo: SiloId, borrower: Address) -> (LoanId, ReceiptId) {
    let receipt = market.issue_receipt(borrower, 1, whole(30_000));
    let terms = LoanTerms { borrower, ..senior_loan(receipt, whole(10_000), 1_000, market.now()) };
    (market.originate(silo, terms), receipt)
}

/// The records each read visits, from the indexes the API reads: Bob's receipts, the honest
/// silo's open loans, the loans in recovery.
fn visited(state: &State, silo: SiloId) -> (Vec<ReceiptId>, Vec<LoanId>, Vec<LoanId>) {
    let receipts = state.receipts.receipts.index().keys_of(BOB).copied().collect();
    let loans = state.loans.loans.index();
    (receipts, loans.open_in(silo).collect(), loans.in_recovery().collect())
}

/// The same records found by scanning the whole tables, as the reads did before the indexes.
fn scanned(state: &State, silo: SiloId) -> (Vec<ReceiptId>, Vec<LoanId>, Vec<LoanId>) {
    let receipts = state.receipts.receipts.iter();
    let receipts = receipts.filter(|(_, r)| r.owner == BOB).map(|(id, _)| *id).collect();
    let loans = &state.loans.loans;
    let open = state.loans.open.iter().map(|(id, ())| *id);
    let open = open.filter(|id| loans.get(id).is_some_and(|l| l.silo == silo)).collect();
    let defaulted = loans.iter().filter(|(_, l)| l.defaulted_at.is_some()).map(|(id, _)| *id);
    (receipts, open, defaulted.collect())
}

/// Attack: Carol's loan in the honest silo has defaulted and Bob borrows there against one
/// receipt. A user then fills the book from forty keys in another silo: two receipts per key
/// (one pledged to a loan of 10,000, one passed on to the next key by a transfer) and forty
/// performing loans, twice the honest book's receipts and twenty times its loans. Bob's
/// receipts read visits his one receipt, the honest silo's page its two open loans (Carol's
/// defaulted one and Bob's), the recoveries Carol's loan: the same before and after the flood,
/// and the same records, in the same order, as a scan of the whole tables.
#[test]
fn a_book_filled_from_many_keys_leaves_another_users_receipts_silo_and_recoveries_reads_visiting_only_their_own_records()
 {
    let mut market = Market::builder().staked(ALICE, whole(1_000_000)).build();
    let honest = market.open_silo(whole(10_000), whole(100_000));
    let flooded = market.open_silo(whole(50_000), whole(1_000_000));
    let (carols, _) = lend_to(&mut market, honest, CAROL);
    market.default_after_grace(carols);
    assert_eq!(market.loan(carols).status, LoanStatus::Defaulted);
    let (bobs, bobs_receipt) = lend_to(&mut market, honest, BOB);
    let before = visited(&market.state, honest);
    assert_eq!(before, (vec![bobs_receipt], vec![carols, bobs], vec![carols]));
    assert_eq!(before, scanned(&market.state, honest));

    for key in 0..KEYS {
        lend_to(&mut market, flooded, user_address(key));
        let spare = market.issue_receipt(user_address(key), 1, whole(30_000));
        let to = user_address((key + 1) % KEYS);
        market.ok(
            user_address(key),
            Action::TransferReceipt(TransferReceipt { receipt_id: spare, to }),
        );
    }
    invariants::check(&market.state).expect("invariants after the flood");

    let state = &market.state;
    assert_eq!(state.receipts.receipts.len() as u64, 2 * KEYS + 2);
    assert_eq!(state.loans.open.len() as u64, KEYS + 2);
    assert_eq!(visited(state, honest), before, "each read visits its own records only");
    assert_eq!(visited(state, honest), scanned(state, honest));
    assert_eq!(state.loans.loans.index().open_in(flooded).count() as u64, KEYS);
    let flooder = user_address(0);
    assert_eq!(
        state.receipts.receipts.index().count_of(flooder),
        2,
        "its pledged one, one passed on"
    );
}
