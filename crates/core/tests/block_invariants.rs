//! The per-block invariant check (`invariants::check_block`) reads the open loans' sums from
//! the loans table's index instead of walking the loans (issue 14, target 3). These tests
//! corrupt one side at a time, a book or a loan, after loans have opened, accrued and been
//! paid, and show the check still names the broken invariant; and that the sums it reads
//! follow time exactly with no write in between.
#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod credit_common;

use credit_common::*;
use infrafi_core::{
    Action, Amount, LoanId, SiloId, State,
    action::RepayLoan,
    invariants::{self, BlockInvariant},
    table::Journaled,
};

/// A market with two silos, three loans (two in the first silo), a month accrued and one
/// payment made.
fn market_with_loans() -> (Market, SiloId, SiloId, Vec<LoanId>) {
    let mut market = Market::new(50_000_000);
    let first = market.open_silo_of(CURATOR, whole(2_000_000), whole(20_000_000));
    let second = market.open_silo_of(CURATOR_TWO, whole(2_000_000), whole(20_000_000));
    let mut loans = Vec::new();
    for (silo, borrower, senior) in
        [(first, BORROWER, 800_000), (first, BORROWER_TWO, 500_000), (second, BORROWER, 300_000)]
    {
        let receipt = market.issue_receipt_of_class(borrower, h100(), 100, whole(2_000_000));
        let loan_terms = terms(&market, borrower, vec![receipt], whole(senior), whole(100_000));
        loans.push(market.originate(silo, loan_terms));
        market.advance(DAY + 17);
    }
    market.advance(MONTH);
    market
        .ok(BORROWER, Action::RepayLoan(RepayLoan { loan_id: loans[0], max_amount: Amount::MAX }));
    market.advance(3 * DAY + 5);
    (market, first, second, loans)
}

/// The invariant `check_block` finds broken in `state`, if any.
fn broken(state: &State) -> Option<BlockInvariant> {
    invariants::check_block(state).err().map(|violation| violation.invariant)
}

#[test]
fn the_block_check_passes_on_open_accruing_and_paid_loans_at_any_later_time() {
    let (mut market, ..) = market_with_loans();
    for secs in [0, 1, 59, DAY, 7 * DAY + 3, 400 * DAY] {
        market.advance(secs);
        assert_eq!(invariants::check_block(&market.state), Ok(()), "after {secs} more seconds");
        assert_eq!(invariants::check(&market.state), Ok(()), "after {secs} more seconds");
    }
}

#[test]
fn a_senior_book_off_by_one_unit_of_principal_is_caught_by_the_block_check() {
    let (mut market, ..) = market_with_loans();
    let book = &mut market.state.vault.globals.get_mut().senior;
    book.principal = book.principal.checked_add(Amount(1)).unwrap();
    assert_eq!(broken(&market.state), Some(BlockInvariant::SeniorBookEqualsLoans));
}

#[test]
fn a_senior_book_whose_accrued_interest_is_off_by_one_wad_unit_is_caught_by_the_block_check() {
    let (mut market, ..) = market_with_loans();
    let book = &mut market.state.vault.globals.get_mut().senior;
    book.accrued_at_checkpoint_wad += alloy_primitives::U256::from(1);
    assert_eq!(broken(&market.state), Some(BlockInvariant::SeniorBookEqualsLoans));
}

#[test]
fn a_loan_whose_senior_position_changed_without_its_book_is_caught_by_the_block_check() {
    let (market, _, _, loans) = market_with_loans();
    let corruptions: [fn(&mut infrafi_core::loans::Loan); 3] = [
        |loan| {
            // More senior principal, the balance moved with it: the tranches still sum.
            loan.senior.principal = loan.senior.principal.checked_add(Amount(1)).unwrap();
            loan.balance = loan.balance.checked_add(Amount(1)).unwrap();
        },
        |loan| loan.senior_accrual.accrued_wad += alloy_primitives::U256::from(1),
        |loan| loan.senior_accrual.interest_per_second_wad += alloy_primitives::U256::from(1),
    ];
    for (which, corrupt) in corruptions.into_iter().enumerate() {
        for &id in &loans {
            let mut state = market.state.clone();
            state.loans.loans.update(&id, corrupt).unwrap();
            assert_eq!(
                broken(&state),
                Some(BlockInvariant::SeniorBookEqualsLoans),
                "corruption {which} of loan {id}"
            );
        }
    }
}

#[test]
fn a_loan_whose_tranches_do_not_sum_to_its_balance_is_named_by_the_block_check() {
    let (market, _, _, loans) = market_with_loans();
    let mut state = market.state.clone();
    state.loans.loans.update(&loans[1], |loan| loan.balance = Amount(loan.balance.0 + 1)).unwrap();
    let violation = invariants::check_block(&state).unwrap_err();
    assert_eq!(violation.invariant, BlockInvariant::SeniorBookEqualsLoans);
    assert!(violation.detail.contains("tranche principals"), "{}", violation.detail);
}

#[test]
fn a_silo_whose_books_differ_from_its_loans_is_caught_by_the_block_check() {
    let (market, first, _, loans) = market_with_loans();
    let mut junior_off = market.state.clone();
    junior_off
        .silos
        .silos
        .update(&first, |silo| silo.junior_outstanding = Amount(silo.junior_outstanding.0 + 1))
        .unwrap();
    assert_eq!(broken(&junior_off), Some(BlockInvariant::SiloBooksMatchLoansAndPools));
    // A loan moved to the other silo: the senior book still sums, both silos' books do not.
    let mut moved = market.state.clone();
    moved.loans.loans.update(&loans[2], |loan| loan.silo = first).unwrap();
    assert_eq!(broken(&moved), Some(BlockInvariant::SiloBooksMatchLoansAndPools));
    let mut junior_loan = market.state.clone();
    junior_loan
        .loans
        .loans
        .update(&loans[2], |loan| {
            loan.junior.principal = Amount(loan.junior.principal.0 + 1);
            loan.balance = Amount(loan.balance.0 + 1);
        })
        .unwrap();
    assert_eq!(broken(&junior_loan), Some(BlockInvariant::SiloBooksMatchLoansAndPools));
}

#[test]
fn an_open_loan_missing_from_the_open_table_is_caught_by_the_block_check() {
    let (market, _, _, loans) = market_with_loans();
    let mut state = market.state.clone();
    state.loans.open.remove(&loans[0]);
    assert_eq!(broken(&state), Some(BlockInvariant::SeniorBookEqualsLoans));
}

#[test]
fn the_open_loans_sums_survive_a_rolled_back_write_and_a_state_rebuilt_from_its_leaves() {
    let (market, _, _, loans) = market_with_loans();
    let mut state = market.state.clone();
    state.commit();
    state.loans.loans.update(&loans[0], |loan| loan.senior_accrual.checkpoint_at += 1).unwrap();
    assert_eq!(broken(&state), Some(BlockInvariant::SeniorBookEqualsLoans));
    state.rollback();
    assert_eq!(invariants::check_block(&state), Ok(()));
    assert_eq!(invariants::check_derived_indexes(&state), Ok(()));
    let leaves = state.leaves().into_iter().filter_map(|leaf| Some((leaf.key, leaf.value?)));
    let rebuilt = State::from_leaves(leaves).unwrap();
    assert_eq!(invariants::check_block(&rebuilt), Ok(()));
    assert_eq!(invariants::check(&rebuilt), Ok(()));
}
