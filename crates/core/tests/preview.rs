//! `tx::preview`: the dry-run the node serves. A preview returns exactly what `apply` would
//! (its events, or its rejection) and leaves the state exactly as it was: its hash, and the
//! changes the node will persist for the next block.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use infrafi_core::{
    Action, Amount, Event, Transaction,
    action::{Stake, Transfer},
    apply,
    ids::USDC,
    ledger::LedgerError,
    tx::preview,
};
use infrafi_testkit::market::*;

#[test]
fn a_preview_returns_the_events_apply_would_and_leaves_the_state_unchanged() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    market.advance(60);
    let block = market.block;
    let stake = Transaction {
        sender: ALICE,
        action: Action::Stake(Stake { assets: whole(400), min_shares: Amount::ZERO }),
    };
    let before = market.state.state_hash();
    // The baseline of change tracking, as the node starts it.
    market.state.track_changes();
    let (events, shares_after) = preview(&mut market.state, &block, &stake, |state, events| {
        (events.to_vec(), state.ledger.balance(ALICE, infrafi_core::Asset::Susdai))
    })
    .unwrap();
    assert_eq!(market.state.state_hash(), before, "the preview wrote nothing");
    assert_eq!(market.state.take_changed_leaves().len(), 0, "nor left changes to persist");
    let staked = events.iter().find_map(|e| match e {
        Event::Staked { shares, .. } => Some(*shares),
        _ => None,
    });
    assert_eq!(staked, Some(shares_after), "the inspector sees the state after the action");
    let applied = apply(&mut market.state, &block, &stake).unwrap();
    assert_eq!(applied, events, "the preview is what applying gives");
}

#[test]
fn a_rejected_preview_returns_the_rejection_and_leaves_the_state_unchanged() {
    let mut market = Market::new();
    let block = market.block;
    let before = market.state.state_hash();
    let transfer = Transaction {
        sender: BORROWER,
        action: Action::Transfer(Transfer {
            asset: infrafi_core::Asset::Stablecoin(USDC),
            to: ALICE,
            amount: whole(1),
        }),
    };
    let result = preview(&mut market.state, &block, &transfer, |_, _| ());
    let expected = apply(&mut market.state.clone(), &block, &transfer).unwrap_err();
    assert_eq!(result.unwrap_err(), expected);
    assert_eq!(expected, LedgerError::BalanceInsufficient.into());
    assert_eq!(market.state.state_hash(), before);
}
