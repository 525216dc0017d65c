//! Queued deposits (issue 16 item 2): worked examples and the attacks.
//!
//! When the supply cap, the attested reserves or the gateway's rate limit leave no room to
//! mint, a depositor queues the deposit; its stablecoin is escrowed and minted first in, first
//! out as room appears. The Market checks every invariant (the escrow equals the remainders)
//! after every accepted transaction.

use infrafi_core::{
    Action, Amount, Asset, ParameterChange, ProtocolAccount,
    action::{
        CancelQueuedDeposit, FillQueuedDeposits, Freeze, MintUsdai, QueueDeposit, SetParameter,
    },
    ids::USDC,
    ledger::LedgerError,
    params::Params,
    reserve::{
        FILL_BATCH_MAX, HeadFill, QUEUED_DEPOSIT_MIN, QUEUED_DEPOSITS_PER_OWNER_MAX,
        RATE_LIMIT_PERIOD_SECS, ReserveError, head_fill, queued_escrow,
    },
};
use infrafi_testkit::market::*;

fn queue(amount: Amount) -> Action {
    Action::QueueDeposit(QueueDeposit { token: USDC, amount })
}

fn cancel(deposit_id: u64) -> Action {
    Action::CancelQueuedDeposit(CancelQueuedDeposit { deposit_id })
}

fn fill() -> Action {
    Action::FillQueuedDeposits(FillQueuedDeposits { max_deposits: FILL_BATCH_MAX })
}

fn mint(amount: Amount) -> Action {
    Action::MintUsdai(MintUsdai { token: USDC, amount, min_out: Amount::ZERO })
}

fn raise_cap(market: &mut Market, cap: u128) {
    // Raising the cap loosens it: it takes effect at once.
    let change = ParameterChange::UsdaiSupplyCap(whole(cap));
    market.ok(ADMIN, Action::SetParameter(SetParameter { change }));
}

fn capped(cap: u128) -> Market {
    Market::with_params(|p: &mut Params| p.usdai_supply_cap = whole(cap))
}

/// `n` whole USDai less a 0.5% fee.
fn less_fee(n: u128) -> Amount {
    Amount(whole(n).0 - whole(n).0 / 200)
}

fn escrow(market: &Market) -> Amount {
    market.stable(ProtocolAccount::DepositQueue, USDC)
}

#[test]
fn a_deposit_queued_behind_a_full_cap_fills_in_parts_as_the_cap_rises() {
    let mut market = capped(1_000);
    market.mint(ALICE, whole(1_000));
    // The cap is full: Bob's mint is refused, so he queues it; his USDC is escrowed.
    market.rejected(BOB, mint(whole(500)), ReserveError::SupplyCapExceeded);
    let bob_usdc = market.stable(BOB, USDC);
    market.ok(BOB, queue(whole(500)));
    assert_eq!(market.stable(BOB, USDC), minus(bob_usdc, whole(500)));
    assert_eq!(escrow(&market), whole(500));
    // No room: a fill does nothing and says so.
    market.rejected(KEEPER, fill(), ReserveError::QueuedDepositsCannotFillNow);
    // 300 of room: Bob's deposit fills 300 and the rest waits at the head.
    raise_cap(&mut market, 1_300);
    market.ok(KEEPER, fill());
    assert_eq!(market.usdai(BOB), whole(300));
    let (id, deposit, _) = head_fill(&market.state).expect("quotes fit").expect("Bob still waits");
    assert_eq!((id, deposit.amount, deposit.deposited), (0, whole(200), whole(500)));
    assert_eq!(escrow(&market), whole(200));
    // The rest when the cap rises again; the queue is empty and minting is direct again.
    raise_cap(&mut market, 2_000);
    market.ok(KEEPER, fill());
    assert_eq!(market.usdai(BOB), whole(500));
    assert_eq!(escrow(&market), Amount::ZERO);
    assert!(market.state.reserve.queued_deposits.is_empty());
    market.mint(CAROL, whole(100));
}

/// Attack: when room appears (a cap raise, a new attestation, an hour of rate limit), a
/// minter who watches the chain tries to take it with a direct mint before the keeper fills the
/// queue. While a deposit waits, every direct mint is refused: the room goes to the queue.
#[test]
fn attack_a_direct_mint_cannot_jump_the_queue_when_room_appears() {
    let mut market = capped(1_000);
    market.mint(ALICE, whole(1_000));
    market.ok(BOB, queue(whole(400)));
    raise_cap(&mut market, 1_400);
    // Carol is first in the block after the raise; her mint would fit under the cap.
    market.rejected(CAROL, mint(whole(400)), ReserveError::DepositQueueIsNotEmpty);
    market.ok(KEEPER, fill());
    assert_eq!(market.usdai(BOB), whole(400));
    assert_eq!(market.usdai(CAROL), Amount::ZERO);
    // With the queue empty Carol queues too: she is served in her turn, never ahead.
    market.ok(CAROL, queue(whole(100)));
    market.rejected(KEEPER, fill(), ReserveError::QueuedDepositsCannotFillNow);
}

#[test]
fn the_queue_is_first_in_first_out_and_a_fill_mints_as_a_direct_mint_would() {
    let mut market = Market::with_params(|p: &mut Params| {
        p.usdai_supply_cap = whole(1_000);
        p.mint_fee_bps = infrafi_core::Bps(50);
    });
    market.mint(ALICE, whole(1_000));
    market.ok(BOB, queue(whole(300)));
    market.ok(CAROL, queue(whole(200)));
    market.ok(DAVE, queue(whole(100)));
    // 400 of room: Bob's 300 and 100 of Carol's; Dave waits behind Carol.
    raise_cap(&mut market, 1_400);
    market.ok(KEEPER, fill());
    // 300 in, 0.5% fee (rounded up) minted to the fee collector, as a direct mint would.
    assert_eq!(market.usdai(BOB), less_fee(300));
    assert_eq!(market.usdai(CAROL), less_fee(100));
    assert_eq!(market.usdai(DAVE), Amount::ZERO);
    raise_cap(&mut market, 2_000);
    market.ok(KEEPER, fill());
    assert_eq!(market.usdai(CAROL), less_fee(200));
    assert_eq!(market.usdai(DAVE), less_fee(100));
}

#[test]
fn cancelling_returns_the_whole_remainder_and_only_the_depositor_may_cancel() {
    let mut market = capped(1_000);
    market.mint(ALICE, whole(1_000));
    let bob_usdc = market.stable(BOB, USDC);
    market.ok(BOB, queue(whole(500)));
    raise_cap(&mut market, 1_200);
    market.ok(KEEPER, fill());
    market.rejected(CAROL, cancel(0), ReserveError::SenderIsNotDepositOwner);
    market.rejected(BOB, cancel(7), ReserveError::QueuedDepositNotFound);
    market.ok(BOB, cancel(0));
    // 200 minted, 300 back: nothing lost.
    assert_eq!(market.usdai(BOB), whole(200));
    assert_eq!(market.stable(BOB, USDC), minus(bob_usdc, whole(200)));
    assert_eq!(escrow(&market), Amount::ZERO);
    market.rejected(BOB, cancel(0), ReserveError::QueuedDepositNotFound);
}

/// Attack: an attacker fills the queue's head with deposits to keep others waiting. Each
/// account holds at most a few deposits of at least the minimum, and the attacker's deposits
/// are real: the room they take mints USDai for their full stablecoin (with the fee), so the
/// delay the attacker causes is the room its own escrow takes, and cancelling only moves the
/// others up.
#[test]
fn attack_flooding_the_queue_takes_only_the_room_the_attackers_own_escrow_buys() {
    let mut market = capped(1_000);
    market.mint(ALICE, whole(1_000));
    let attacker = DAVE;
    market.rejected(
        attacker,
        queue(minus(QUEUED_DEPOSIT_MIN, Amount(1))),
        ReserveError::QueuedDepositBelowMinimum,
    );
    for _ in 0..QUEUED_DEPOSITS_PER_OWNER_MAX {
        market.ok(attacker, queue(QUEUED_DEPOSIT_MIN));
    }
    market.rejected(
        attacker,
        queue(QUEUED_DEPOSIT_MIN),
        ReserveError::QueuedDepositsPerOwnerExceeded,
    );
    market.ok(BOB, queue(whole(100)));
    // Room for the attacker's four and Bob's: all are minted, in order.
    raise_cap(&mut market, 1_500);
    market.ok(KEEPER, fill());
    assert_eq!(market.usdai(attacker), whole(400));
    assert_eq!(market.usdai(BOB), whole(100));
    // Queue again and cancel at the head just before room appears: Bob is simply served first.
    for _ in 0..2 {
        market.ok(attacker, queue(QUEUED_DEPOSIT_MIN));
    }
    market.ok(BOB, queue(whole(100)));
    market.ok(attacker, cancel(5));
    market.ok(attacker, cancel(6));
    raise_cap(&mut market, 1_600);
    market.ok(KEEPER, fill());
    assert_eq!(market.usdai(BOB), whole(200));
    assert!(market.state.reserve.queued_deposits.is_empty());
}

#[test]
fn a_frozen_depositor_at_the_head_is_returned_and_does_not_block_the_queue() {
    let mut market = capped(1_000);
    market.mint(ALICE, whole(1_000));
    let bob_usdc = market.stable(BOB, USDC);
    market.ok(BOB, queue(whole(300)));
    market.ok(CAROL, queue(whole(300)));
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: BOB }));
    assert!(matches!(head_fill(&market.state), Ok(Some((0, _, HeadFill::Return)))));
    // The head goes back to Bob (whose account stays frozen) and Carol is filled.
    raise_cap(&mut market, 1_300);
    market.ok(KEEPER, fill());
    assert_eq!(market.stable(BOB, USDC), bob_usdc);
    assert_eq!(market.usdai(BOB), Amount::ZERO);
    assert_eq!(market.usdai(CAROL), whole(300));
    // A frozen account cannot queue.
    market.rejected(BOB, queue(whole(300)), LedgerError::SenderIsFrozen);
}

#[test]
fn a_fill_keeps_to_the_hourly_limit_and_the_rest_waits_an_hour() {
    let mut market = Market::with_params(|p: &mut Params| p.mint_limit_per_hour = whole(1_000));
    market.rejected(BOB, mint(whole(1_500)), ReserveError::MintRateLimitExceeded);
    market.ok(BOB, queue(whole(1_500)));
    market.ok(KEEPER, fill());
    assert_eq!(market.usdai(BOB), whole(1_000));
    market.rejected(KEEPER, fill(), ReserveError::QueuedDepositsCannotFillNow);
    market.advance(RATE_LIMIT_PERIOD_SECS);
    market.refresh_prices();
    market.ok(KEEPER, fill());
    assert_eq!(market.usdai(BOB), whole(1_500));
    assert_eq!(queued_escrow(&market.state, USDC).expect("fits"), Amount::ZERO);
    assert_eq!(
        market.balance(ProtocolAccount::DepositQueue, Asset::Stablecoin(USDC)),
        Amount::ZERO
    );
}

#[test]
fn refused_queue_actions_change_nothing_and_name_their_codes() {
    let mut market = capped(1_000);
    market.rejected(BOB, queue(Amount::ZERO), LedgerError::AmountMustNotBeZero);
    market.rejected(BOB, queue(whole(2_000_000)), LedgerError::BalanceInsufficient);
    let zero = Action::FillQueuedDeposits(FillQueuedDeposits { max_deposits: 0 });
    market.rejected(KEEPER, zero, ReserveError::FillBatchOutOfRange);
    let over = Action::FillQueuedDeposits(FillQueuedDeposits { max_deposits: FILL_BATCH_MAX + 1 });
    market.rejected(KEEPER, over, ReserveError::FillBatchOutOfRange);
    market.rejected(KEEPER, fill(), ReserveError::QueuedDepositsCannotFillNow);
}
