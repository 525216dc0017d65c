//! Worked examples of governance, pause and freeze (SPEC 4, 13).

use super::*;

// ---------------------------------------------------------------------------------------------
// Governance, pause and freeze (SPEC 4, 13).

#[test]
fn a_fee_increase_waits_for_the_governance_delay_and_a_decrease_applies_at_once() {
    let mut market = Market::new();
    let scheduled_at = market.now();
    let events = market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(100)) }),
    );
    assert!(events.contains(&Event::ParameterChangeScheduled {
        change: ParameterChange::MintFeeBps(Bps(100)),
        effective_at: scheduled_at + 2 * DAY,
    }));
    // One second before the delay ends the fee is still 0: 100 USDC give 100 USDai.
    market.advance(2 * DAY - 1);
    market.refresh_prices();
    market.mint(ALICE, whole(100));
    assert_eq!(market.usdai(ALICE), whole(100));
    // At the effective time the block upkeep applies it: 100 USDC give 99 USDai.
    market.advance(1);
    let events = market.mint(BOB, whole(100));
    assert!(
        events.contains(&Event::ParameterChanged { change: ParameterChange::MintFeeBps(Bps(100)) })
    );
    assert_eq!(market.usdai(BOB), whole(99));
    // A decrease favours users: it applies in the same transaction.
    let events = market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(10)) }),
    );
    assert!(
        events.contains(&Event::ParameterChanged { change: ParameterChange::MintFeeBps(Bps(10)) })
    );
    // 100 USDC: fee = ceil(100e18 * 10 / 10,000) = 0.1: 99.9 USDai.
    market.mint(CAROL, whole(100));
    assert_eq!(market.usdai(CAROL), Amount(99_900_000_000_000_000_000));
}

#[test]
fn a_guardian_pause_blocks_minting_and_staking_but_never_redeeming_claiming_or_cancelling() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    market.stake(ALICE, whole(500));
    let served = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(100) })),
    );
    let waiting = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(100) })),
    );
    market.advance(7 * DAY);
    market.ok(ALICE, Action::CancelRedeem(CancelRedeem { request_id: waiting }));
    let waiting = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(100) })),
    );
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Minting, paused: true }));
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Staking, paused: true }));
    let paused = TxError::from(GovernanceError::ActionIsPaused);
    market.rejected(
        ALICE,
        Action::MintUsdai(MintUsdai { token: USDC, amount: ONE, min_out: Amount::ZERO }),
        paused,
    );
    market.rejected(ALICE, Action::Stake(Stake { assets: ONE, min_shares: Amount::ZERO }), paused);
    market.rejected(
        ALICE,
        Action::MintShares(MintShares { shares: ONE, max_assets: whole(2) }),
        paused,
    );
    // What is owed still flows.
    market.ok(ALICE, Action::RedeemUsdai(RedeemUsdai { token: USDC, amount: ONE, min_out: ONE }));
    market.ok(ALICE, Action::Claim(Claim { request_id: served }));
    market.ok(ALICE, Action::CancelRedeem(CancelRedeem { request_id: waiting }));
    market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(100) }));
    market.ok(ALICE, Action::Transfer(Transfer { asset: Asset::Susdai, to: BOB, amount: ONE }));
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Minting, paused: false }));
    market.refresh_prices();
    market.mint(ALICE, ONE);
}

#[test]
fn a_freeze_blocks_sending_and_receiving_usdai_and_susdai_until_lifted() {
    let mut market = Market::new();
    market.mint(ALICE, whole(100));
    market.mint(BOB, whole(100));
    market.stake(BOB, whole(50));
    let request_id = Market::request_id(
        &market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(10) })),
    );
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: BOB }));
    let sender_frozen = TxError::from(LedgerError::SenderIsFrozen);
    let recipient_frozen = TxError::from(LedgerError::RecipientIsFrozen);
    market.rejected(
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: ONE }),
        recipient_frozen,
    );
    market.rejected(
        BOB,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: ALICE, amount: ONE }),
        sender_frozen,
    );
    market.rejected(
        BOB,
        Action::Transfer(Transfer { asset: Asset::Susdai, to: ALICE, amount: ONE }),
        sender_frozen,
    );
    market.rejected(
        BOB,
        Action::MintUsdai(MintUsdai { token: USDC, amount: ONE, min_out: Amount::ZERO }),
        sender_frozen,
    );
    market.rejected(
        BOB,
        Action::RedeemUsdai(RedeemUsdai { token: USDC, amount: ONE, min_out: Amount::ZERO }),
        sender_frozen,
    );
    market.rejected(
        BOB,
        Action::Stake(Stake { assets: ONE, min_shares: Amount::ZERO }),
        sender_frozen,
    );
    market.rejected(BOB, Action::DonateToVault(DonateToVault { amount: ONE }), sender_frozen);
    market.rejected(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(10) }), sender_frozen);
    market.rejected(BOB, Action::CancelRedeem(CancelRedeem { request_id }), recipient_frozen);
    // Stablecoins are not USDai or sUSDai: Bob can still move them.
    market.ok(
        BOB,
        Action::Transfer(Transfer { asset: Asset::Stablecoin(USDC), to: ALICE, amount: ONE }),
    );
    // His request is still served (nothing is confiscated), but he cannot claim while frozen.
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    market.rejected(BOB, Action::Claim(Claim { request_id }), recipient_frozen);
    market.ok(COMPLIANCE, Action::Unfreeze(Unfreeze { account: BOB }));
    market.ok(BOB, Action::Claim(Claim { request_id }));
    assert_eq!(market.usdai(BOB), whole(50 + 10));
    market.ok(BOB, Action::Transfer(Transfer { asset: Asset::Usdai, to: ALICE, amount: ONE }));
}

#[test]
fn the_tbill_index_compounds_at_each_rate_update() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000_000));
    // 10% APR: floor(1,000 * 1e18 / 315,360,000,000) = 3,170,979,198 per second.
    let rate = Rate::from_apr_bps(1_000);
    assert_eq!(rate, Rate(3_170_979_198));
    market.ok(ORACLE, Action::PostTbillRate(PostTbillRate { rate }));
    market.advance(100 * DAY);
    // After 100 days (8,640,000 s): index = 1e18 + 3,170,979,198 * 8,640,000
    // = 1,027,397,260,270,720,000.
    let first = 1_027_397_260_270_720_000u128;
    let events = market.ok(ORACLE, Action::PostTbillRate(PostTbillRate { rate }));
    assert!(events.contains(&Event::TbillRatePosted { rate, index: first }));
    // 100 more days compound on the new base: accrued = floor(first * 27,397,260,270,720,000
    // / 1e18) = floor(28,147,870,141,061,572.6...) = 28,147,870,141,061,572; index
    // = 1,055,545,130,411,781,572 (simple accrual over the 200 days would give only
    // 1,054,794,520,541,440,000: the difference is the 2.7% earned on the first 2.7%).
    market.advance(100 * DAY);
    market.begin_block();
    let growth = 3_170_979_198u128 * 8_640_000;
    assert_eq!(growth, 27_397_260_270_720_000);
    let second = first + floor_mul_div(first, growth, WAD);
    assert_eq!(second, 1_055_545_130_411_781_572);
    assert_eq!(market.state.reserve.tbill.get().at(market.now()), Ok(second));
}
