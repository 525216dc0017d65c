//! Per-hour mint and redeem limits (issue 16 item 2): worked examples and the attacks.
//!
//! A limit is a leaky bucket: what passes is counted, and the count drains at the limit's pace
//! (the whole limit per hour), so over any hour at most the limit passes. A refused mint or
//! redemption changes nothing; what did not pass this hour passes later.

use infrafi_core::{
    Action, Amount, ParameterChange, TxError,
    action::{MintUsdai, RedeemUsdai, SetParameter},
    ids::USDC,
    params::Params,
    reserve::{GatewayFlow, RATE_LIMIT_PERIOD_SECS, ReserveError, gateway_room},
};
use infrafi_testkit::market::*;

fn mint(amount: Amount) -> Action {
    Action::MintUsdai(MintUsdai { token: USDC, amount, min_out: Amount::ZERO })
}

fn redeem(amount: Amount) -> Action {
    Action::RedeemUsdai(RedeemUsdai { token: USDC, amount, min_out: Amount::ZERO })
}

fn limited(mint_per_hour: u128, redeem_per_hour: u128) -> Market {
    Market::with_params(|p: &mut Params| {
        p.mint_limit_per_hour = whole(mint_per_hour);
        p.redeem_limit_per_hour = whole(redeem_per_hour);
    })
}

/// Limits of `mint_per_hour` and `redeem_per_hour`, each account taking at most a quarter.
fn shared(mint_per_hour: u128, redeem_per_hour: u128) -> Market {
    Market::with_params(|p: &mut Params| {
        p.mint_limit_per_hour = whole(mint_per_hour);
        p.redeem_limit_per_hour = whole(redeem_per_hour);
        p.rate_limit_account_share_bps = infrafi_core::Bps(2_500);
    })
}

fn mint_room(market: &Market) -> Option<Amount> {
    let params = market.state.governance.params.get();
    market.state.reserve.flows.get().minted.room(params.mint_limit_per_hour, market.now())
}

fn redeem_room(market: &Market) -> Option<Amount> {
    let params = market.state.governance.params.get();
    market.state.reserve.flows.get().redeemed.room(params.redeem_limit_per_hour, market.now())
}

#[test]
fn a_mint_limit_of_1000_an_hour_lets_1000_through_then_refills_at_its_pace() {
    let mut market = limited(1_000, 0);
    assert_eq!(mint_room(&market), Some(whole(1_000)));
    market.mint(ALICE, whole(600));
    market.mint(BOB, whole(400));
    assert_eq!(mint_room(&market), Some(Amount::ZERO));
    market.rejected(CAROL, mint(Amount(1)), ReserveError::MintRateLimitExceeded);
    // A quarter of an hour later a quarter of the limit is free again.
    market.advance(RATE_LIMIT_PERIOD_SECS / 4);
    market.refresh_prices();
    assert_eq!(mint_room(&market), Some(whole(250)));
    market.rejected(CAROL, mint(plus(whole(250), Amount(1))), ReserveError::MintRateLimitExceeded);
    market.mint(CAROL, whole(250));
    // After a full hour the whole limit is free; a single mint above it never passes.
    market.advance(RATE_LIMIT_PERIOD_SECS);
    market.refresh_prices();
    assert_eq!(mint_room(&market), Some(whole(1_000)));
    market.rejected(DAVE, mint(plus(whole(1_000), Amount(1))), ReserveError::MintRateLimitExceeded);
    // Redemptions have no limit here: they are not counted.
    market.ok(ALICE, redeem(whole(600)));
    assert_eq!(redeem_room(&market), None);
}

#[test]
fn the_mint_fee_counts_against_the_limit_because_it_is_minted_too() {
    let mut market = Market::with_params(|p: &mut Params| {
        p.mint_limit_per_hour = whole(1_000);
        p.mint_fee_bps = infrafi_core::Bps(100);
    });
    // 1,000 in: 990 to Alice and 10 to the fee collector, 1,000 added to the supply.
    market.mint(ALICE, whole(1_000));
    assert_eq!(market.usdai(ALICE), whole(990));
    market.rejected(BOB, mint(whole(1)), ReserveError::MintRateLimitExceeded);
}

#[test]
fn a_redeem_limit_spreads_a_run_over_hours_and_every_holder_is_paid_in_the_end() {
    let mut market = limited(0, 10_000);
    for user in USERS {
        market.mint(user, whole(8_000));
    }
    // A run: everyone wants out at once. 10,000 pass in the first hour, in arrival order.
    market.ok(ALICE, redeem(whole(8_000)));
    market.rejected(BOB, redeem(whole(8_000)), ReserveError::RedeemRateLimitExceeded);
    market.ok(BOB, redeem(whole(2_000)));
    market.rejected(CAROL, redeem(Amount(1)), ReserveError::RedeemRateLimitExceeded);
    // Hour by hour the rest passes; nothing is lost, nothing is confiscated.
    let mut hours = 0;
    for user in USERS {
        while !market.usdai(user).is_zero() {
            let room = redeem_room(&market).expect("limited");
            let amount = market.usdai(user).min(room);
            if amount.is_zero() {
                market.advance(RATE_LIMIT_PERIOD_SECS);
                market.refresh_prices();
                hours += 1;
                continue;
            }
            market.ok(user, redeem(amount));
        }
    }
    assert_eq!(hours, 3, "32,000 at 10,000 an hour: the first hour and three more");
    assert!(market.state.ledger.supply_of(infrafi_core::Asset::Usdai).is_zero(), "all redeemed");
}

/// Attack: a redeemer splits its exit into many small redemptions, one a second, hoping the
/// drain of each update rounds in its favour. The drain rounds down at every update, so the
/// splitter gets no more through than one redemption an hour would: at most the limit plus
/// what the limit drains in the time it spent.
#[test]
fn attack_splitting_a_redemption_into_tiny_ones_gets_no_more_through() {
    let mut market = limited(0, 1_000);
    market.mint(ALICE, whole(5_000));
    // A limit of 1,000 USDai an hour drains 0.2777… USDai a second: a split at odd seconds
    // would profit from a drain rounded up. Alice redeems the room every second for 15 minutes.
    let start = market.now();
    let mut redeemed = Amount::ZERO;
    for _ in 0..RATE_LIMIT_PERIOD_SECS / 4 {
        let room = redeem_room(&market).expect("limited");
        if !room.is_zero() {
            market.ok(ALICE, redeem(room));
            redeemed = plus(redeemed, room);
        }
        market.advance(1);
    }
    let elapsed = u128::from(market.now() - start);
    let bound = whole(1_000).0 + whole(1_000).0 * elapsed / u128::from(RATE_LIMIT_PERIOD_SECS);
    assert!(redeemed.0 <= bound, "redeemed {redeemed:?} in {elapsed} s, bound {bound}");
    // And asking for one unit more than the room is refused at any moment.
    let room = redeem_room(&market).expect("limited");
    market.rejected(ALICE, redeem(plus(room, Amount(1))), ReserveError::RedeemRateLimitExceeded);
}

/// Attack: an admin key (or a governance majority) tightens the redeem limit to trap holders.
/// A tighter limit, or a limit where there was none, waits out the governance delay like any
/// change that reduces users' rights; loosening it takes effect at once.
#[test]
fn attack_tightening_a_limit_waits_the_governance_delay_and_loosening_does_not() {
    let mut market = Market::new();
    let delay = market.state.governance.params.get().governance_delay_secs;
    market.mint(ALICE, whole(5_000));
    let set = |change| Action::SetParameter(SetParameter { change });
    market.ok(ADMIN, set(ParameterChange::RedeemLimitPerHour(whole(100))));
    assert_eq!(
        market.state.governance.params.get().redeem_limit_per_hour,
        Amount::ZERO,
        "a limit where there was none is pending"
    );
    // Holders who leave before the delay ends are not held back.
    market.ok(ALICE, redeem(whole(4_000)));
    market.advance(delay);
    market.begin_block();
    market.refresh_prices();
    assert_eq!(market.state.governance.params.get().redeem_limit_per_hour, whole(100));
    market.rejected(ALICE, redeem(whole(101)), ReserveError::RedeemRateLimitExceeded);
    // Loosening is immediate.
    market.ok(ADMIN, set(ParameterChange::RedeemLimitPerHour(whole(1_000))));
    assert_eq!(market.state.governance.params.get().redeem_limit_per_hour, whole(1_000));
    market.ok(ALICE, redeem(whole(1_000)));
    market.ok(ADMIN, set(ParameterChange::RedeemLimitPerHour(Amount::ZERO)));
    assert_eq!(redeem_room(&market), None, "no limit at once");
}

#[test]
fn a_refused_mint_or_redemption_changes_nothing_and_names_its_code() {
    let mut market = limited(100, 50);
    market.mint(ALICE, whole(100));
    market.rejected(BOB, mint(whole(1)), ReserveError::MintRateLimitExceeded);
    assert_eq!(TxError::from(ReserveError::MintRateLimitExceeded).code(), 325);
    market.ok(ALICE, redeem(whole(50)));
    market.rejected(ALICE, redeem(whole(1)), ReserveError::RedeemRateLimitExceeded);
    assert_eq!(TxError::from(ReserveError::RedeemRateLimitExceeded).code(), 326);
}

#[test]
fn one_account_may_use_only_its_share_of_each_hourly_limit() {
    let mut market = shared(1_000, 1_000);
    // A quarter of 1,000 an hour: 250 for Alice, and the rest still there for the others.
    assert_eq!(gateway_room(&market.state, ALICE, GatewayFlow::Mint), Some(whole(250)));
    market.mint(ALICE, whole(250));
    market.rejected(ALICE, mint(whole(1)), ReserveError::MintAccountRateLimitExceeded);
    assert_eq!(gateway_room(&market.state, ALICE, GatewayFlow::Mint), Some(Amount::ZERO));
    assert_eq!(gateway_room(&market.state, BOB, GatewayFlow::Mint), Some(whole(250)));
    assert_eq!(mint_room(&market), Some(whole(750)));
    for user in [BOB, CAROL, DAVE] {
        market.mint(user, whole(250));
    }
    // The gateway's limit binds before anyone's share: 1,000 passed, nothing more this hour.
    market.rejected(ALICE, mint(whole(1)), ReserveError::MintRateLimitExceeded);
    // Alice's share refills at its own pace: a quarter of an hour frees a quarter of 250.
    market.advance(RATE_LIMIT_PERIOD_SECS / 4);
    market.refresh_prices();
    assert_eq!(
        gateway_room(&market.state, ALICE, GatewayFlow::Mint),
        Some(Amount(whole(250).0 / 4))
    );
    market.mint(ALICE, whole(60));
    // Redemptions count apart from mints, with the same share.
    market.ok(ALICE, redeem(whole(250)));
    market.rejected(ALICE, redeem(whole(1)), ReserveError::RedeemAccountRateLimitExceeded);
    market.ok(BOB, redeem(whole(250)));
}

/// Attack: in a run, one holder (a whale, or an attacker who wants the others stuck) redeems
/// all the room every second and mints back what it redeemed, to keep the redemption room at
/// zero for everyone else. Its share caps it: over four hours the other holders still redeem
/// at least three quarters of the limit every hour, and the attacker gets no more than its
/// quarter (plus the one quarter it could take at the start). What the attacker pays for
/// trying (fees on every cycle) goes to the protocol.
#[test]
fn attack_one_holder_cycling_redemptions_cannot_take_the_room_from_the_others() {
    let mut market = shared(1_000_000, 1_000);
    let attacker = DAVE;
    market.mint(attacker, whole(10_000));
    for user in [ALICE, BOB, CAROL] {
        market.mint(user, whole(2_000));
    }
    market.advance(RATE_LIMIT_PERIOD_SECS);
    market.refresh_prices();
    let (mut by_attacker, mut by_others) = (Amount::ZERO, Amount::ZERO);
    let hours = 4;
    for second in 0..hours * RATE_LIMIT_PERIOD_SECS {
        // The attacker is first in every block: it takes all the room it is allowed.
        if let Some(room) = gateway_room(&market.state, attacker, GatewayFlow::Redeem)
            && room >= whole(1)
        {
            market.ok(attacker, redeem(room));
            by_attacker = plus(by_attacker, room);
            market.mint(attacker, room);
        }
        // The others ask once a minute for whatever they are allowed.
        if second % 60 == 0 {
            for user in [ALICE, BOB, CAROL] {
                let room = gateway_room(&market.state, user, GatewayFlow::Redeem).expect("limited");
                let amount = room.min(market.usdai(user));
                if amount >= whole(1) {
                    market.ok(user, redeem(amount));
                    by_others = plus(by_others, amount);
                }
            }
        }
        market.advance(1);
        if second % 600 == 0 {
            market.refresh_prices();
        }
    }
    let limit = whole(1_000).0;
    let hours = u128::from(hours);
    assert!(
        by_attacker.0 <= limit / 4 * (hours + 1),
        "the attacker redeemed {by_attacker:?}, more than its share"
    );
    assert!(
        by_others.0 >= limit * 3 / 4 * hours - whole(30).0,
        "the others redeemed only {by_others:?} in {hours} hours"
    );
}
