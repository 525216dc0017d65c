//! Worked examples of USDai: mint and redeem, base yield (the T-bill index, harvest and
//! vesting) and the gateway (SPEC 5).

use super::*;

// ---------------------------------------------------------------------------------------------
// USDai: mint and redeem (SPEC 5).

#[test]
fn minting_with_a_fee_gives_the_amount_less_the_fee_rounded_up_to_the_collector() {
    let mut market = Market::with_params(|p| p.mint_fee_bps = Bps(30));
    // 1,000 USDC at price 1.0 and index 1.0: value = 1,000e18, TBILL bought = 1,000e18,
    // gross = 1,000e18; fee = ceil(1,000e18 * 30 / 10,000) = 3e18; out = 997e18.
    let events = market.ok(
        ALICE,
        Action::MintUsdai(MintUsdai { token: USDC, amount: whole(1_000), min_out: whole(997) }),
    );
    assert!(events.contains(&Event::UsdaiMinted {
        account: ALICE,
        token: USDC,
        amount_in: whole(1_000),
        usdai_out: whole(997),
        fee: whole(3),
    }));
    assert_eq!(market.usdai(ALICE), whole(997));
    assert_eq!(market.usdai(ProtocolAccount::FeeCollector), whole(3));
    assert_eq!(market.stable(ALICE, USDC), whole(USER_STABLECOIN_WHOLE - 1_000));
    assert_eq!(market.balance(ProtocolAccount::Reserve, Asset::Tbill), whole(1_000));
    assert_eq!(market.state.ledger.supply_of(Asset::Usdai), whole(1_000));

    // 1.000000000000000001 USDC: gross = 1,000,000,000,000,000,001 units; the fee is
    // 30/10,000 of it = 3,000,000,000,000,000.003 units, rounded UP to 3,000,000,000,000,001;
    // out = 1,000,000,000,000,000,001 - 3,000,000,000,000,001 = 997,000,000,000,000,000.
    let amount = Amount(WAD + 1);
    let events = market
        .ok(ALICE, Action::MintUsdai(MintUsdai { token: USDC, amount, min_out: Amount::ZERO }));
    assert!(events.contains(&Event::UsdaiMinted {
        account: ALICE,
        token: USDC,
        amount_in: amount,
        usdai_out: Amount(997_000_000_000_000_000),
        fee: Amount(3_000_000_000_000_001),
    }));
}

#[test]
fn minting_from_a_stablecoin_off_par_gives_its_dollar_value_rounded_down() {
    let mut market = Market::new();
    // USDT at 0.996 is 40 bps off peg, inside the default 50 bps tolerance.
    market.ok(
        ORACLE,
        Action::PostPrice(PostPrice { token: USDT, price_wad: 996_000_000_000_000_000 }),
    );
    // 1,000.000000000000000001 USDT * 0.996 = 996.000000000000000000996 -> floor
    // 996,000,000,000,000,000,000 units; no fee.
    let amount = Amount(1_000 * WAD + 1);
    market.ok(BOB, Action::MintUsdai(MintUsdai { token: USDT, amount, min_out: whole(996) }));
    assert_eq!(market.usdai(BOB), whole(996));
    // 50 bps off peg is the edge that still mints; 50.1 bps does not.
    market.ok(
        ORACLE,
        Action::PostPrice(PostPrice { token: USDT, price_wad: 995_000_000_000_000_000 }),
    );
    market.ok(
        BOB,
        Action::MintUsdai(MintUsdai { token: USDT, amount: whole(1), min_out: Amount::ZERO }),
    );
    market.ok(
        ORACLE,
        Action::PostPrice(PostPrice { token: USDT, price_wad: 994_999_999_999_999_999 }),
    );
    market.rejected(
        BOB,
        Action::MintUsdai(MintUsdai { token: USDT, amount: whole(1), min_out: Amount::ZERO }),
        ReserveError::PriceOutsideDepegTolerance,
    );
}

#[test]
fn redeeming_with_a_fee_pays_par_less_the_fee_and_burns_the_rest() {
    let mut market = Market::with_params(|p| p.redeem_fee_bps = Bps(50));
    market.mint(ALICE, whole(1_000));
    // Redeem 400 USDai: fee = ceil(400e18 * 50 / 10,000) = 2e18 (to the collector, still
    // USDai); net burned = 398e18; TBILL drawn = 398e18 at index 1.0; out = 398 USDT.
    let events = market.ok(
        ALICE,
        Action::RedeemUsdai(RedeemUsdai { token: USDT, amount: whole(400), min_out: whole(398) }),
    );
    assert!(events.contains(&Event::UsdaiRedeemed {
        account: ALICE,
        token: USDT,
        usdai_in: whole(400),
        amount_out: whole(398),
        fee: whole(2),
    }));
    assert_eq!(market.usdai(ALICE), whole(600));
    assert_eq!(market.usdai(ProtocolAccount::FeeCollector), whole(2));
    assert_eq!(market.stable(ALICE, USDT), whole(USER_STABLECOIN_WHOLE + 398));
    // Supply = 600 (Alice) + 2 (fee) = 602, backed by 1,000 - 398 = 602 TBILL.
    assert_eq!(market.state.ledger.supply_of(Asset::Usdai), whole(602));
    assert_eq!(market.balance(ProtocolAccount::Reserve, Asset::Tbill), whole(602));
}

#[test]
fn redeeming_after_yield_leaves_the_rounding_dust_in_the_reserve() {
    // Index after 30 days at 4.5% (derived in the harvest example): 1.003698630136288.
    let mut genesis = genesis();
    genesis.tbill_rate = Rate::from_apr_bps(450);
    let mut market = Market::from_genesis(&genesis);
    market.mint(ALICE, whole(1_000));
    market.advance(30 * DAY);
    // 100 USDai: TBILL drawn = floor(100e18 * 1e18 / 1,003,698,630,136,288,000)
    // = 99,631,499,931,828,563,059 (100 / 1.003698630136288 = 99.631499931828563059...).
    // Paid = floor(99,631,499,931,828,563,059 * 1.003698630136288) = 99,999,999,999,999,999,999:
    // one unit below par, and that unit stays in the reserve.
    let tbill_before = market.balance(ProtocolAccount::Reserve, Asset::Tbill);
    market.ok(
        ALICE,
        Action::RedeemUsdai(RedeemUsdai { token: USDC, amount: whole(100), min_out: Amount::ZERO }),
    );
    assert_eq!(
        market.stable(ALICE, USDC),
        plus(whole(USER_STABLECOIN_WHOLE - 1_000), Amount(99_999_999_999_999_999_999))
    );
    assert_eq!(
        minus(tbill_before, market.balance(ProtocolAccount::Reserve, Asset::Tbill)),
        Amount(99_631_499_931_828_563_059)
    );
}

// ---------------------------------------------------------------------------------------------
// Base yield: the T-bill index, harvest and vesting (SPEC 5).

/// A market with a 4.5% T-bill rate from genesis, Alice holding 1,000,000 USDai minted at
/// genesis (index 1.0, so 1,000,000 TBILL) and 100,000 of it staked for 100,000 sUSDai.
fn market_with_a_year_of_tbill_yield_ahead() -> Market {
    let mut genesis = genesis();
    genesis.tbill_rate = Rate::from_apr_bps(450);
    let mut market = Market::from_genesis(&genesis);
    market.mint(ALICE, whole(1_000_000));
    market.stake(ALICE, whole(100_000));
    assert_eq!(market.susdai(ALICE), whole(100_000));
    market
}

// The 4.5% APR rate per second: 450 * 10^18 / (10,000 * 31,536,000) = 1,426,940,639.269...
// rounded down to 1,426,940,639. Over 30 days (2,592,000 s) the index grows by
// 1e18 * (1,426,940,639 * 2,592,000) / 1e18 = 3,698,630,136,288,000 to
// 1,003,698,630,136,288,000. The reserve's 1,000,000e18 TBILL are then worth
// 1,003,698.630136288e18 against a supply of 1,000,000e18: the surplus is
// 3,698.630136288 USDai = 3,698,630,136,288,000,000,000 units (the exact-rate figure,
// 1,000,000 * 0.045 * 30/365 = 3,698.6301369863..., is higher by the rate's rounding).
const TBILL_RATE_450_BPS: u128 = 1_426_940_639;
const INDEX_AFTER_30_DAYS: u128 = 1_003_698_630_136_288_000;
const SURPLUS_AFTER_30_DAYS: Amount = Amount(3_698_630_136_288_000_000_000);

#[test]
fn harvest_after_thirty_days_at_four_and_a_half_percent_mints_the_exact_surplus() {
    let mut market = market_with_a_year_of_tbill_yield_ahead();
    assert_eq!(Rate::from_apr_bps(450), Rate(TBILL_RATE_450_BPS));
    market.advance(30 * DAY);
    market.begin_block();
    assert_eq!(market.state.reserve.tbill.get().at(market.now()), Ok(INDEX_AFTER_30_DAYS));
    let backing = reserve::backing(&market.state).expect("the reserve fits 128 bits");
    assert_eq!(backing.surplus, SURPLUS_AFTER_30_DAYS);
    let events = market.ok(KEEPER, Action::HarvestBaseYield(HarvestBaseYield {}));
    assert!(events.contains(&Event::BaseYieldHarvested {
        surplus: SURPLUS_AFTER_30_DAYS,
        fee: Amount::ZERO,
        to_vault: SURPLUS_AFTER_30_DAYS,
    }));
    assert_eq!(market.vault_usdai(), plus(whole(100_000), SURPLUS_AFTER_30_DAYS));
    assert_eq!(
        market.state.ledger.supply_of(Asset::Usdai),
        plus(whole(1_000_000), SURPLUS_AFTER_30_DAYS)
    );
    // Nothing is left to harvest in the same second: the reserve is exactly at the supply.
    market.rejected(
        KEEPER,
        Action::HarvestBaseYield(HarvestBaseYield {}),
        ReserveError::BaseYieldSurplusIsZero,
    );
}

#[test]
fn harvest_with_a_yield_fee_sends_the_fee_rounded_up_to_the_collector() {
    let mut market = market_with_a_year_of_tbill_yield_ahead();
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::YieldFeeBps(Bps(1_000)) }),
    );
    // A fee increase waits for the 2-day governance delay; harvest after 30 days anyway.
    market.advance(30 * DAY);
    // fee = ceil(3,698,630,136,288,000,000,000 * 1,000 / 10,000) = 369,863,013,628,800,000,000
    // (exact, no remainder); to the vault: 3,328,767,122,659,200,000,000.
    let events = market.ok(KEEPER, Action::HarvestBaseYield(HarvestBaseYield {}));
    assert!(events.contains(&Event::BaseYieldHarvested {
        surplus: SURPLUS_AFTER_30_DAYS,
        fee: Amount(369_863_013_628_800_000_000),
        to_vault: Amount(3_328_767_122_659_200_000_000),
    }));
    assert_eq!(market.usdai(ProtocolAccount::FeeCollector), Amount(369_863_013_628_800_000_000));
}

#[test]
fn harvested_yield_vests_linearly_over_eight_hours() {
    let mut market = market_with_a_year_of_tbill_yield_ahead();
    market.advance(30 * DAY);
    market.ok(KEEPER, Action::HarvestBaseYield(HarvestBaseYield {}));
    // At the harvest all of it is unvested: conservative NAV (redemptions) is still the
    // 100,000 staked; optimistic NAV (deposits) counts the harvest at once, so a newcomer pays
    // for yield earned before it came.
    let with_harvest = plus(whole(100_000), SURPLUS_AFTER_30_DAYS);
    assert_eq!(market.nav().conservative, whole(100_000));
    assert_eq!(market.nav().optimistic, with_harvest);
    assert_eq!(market.nav().unvested, SURPLUS_AFTER_30_DAYS);
    // Half-way (4 of 8 hours): unvested = ceil(3,698,630,136,288,000,000,000 * 4h / 8h)
    // = 1,849,315,068,144,000,000,000; conservative NAV = 100,000e18 + the other half
    // = 101,849,315,068,144,000,000,000.
    market.advance(4 * HOUR);
    market.begin_block();
    assert_eq!(market.nav().unvested, Amount(1_849_315_068_144_000_000_000));
    assert_eq!(market.nav().conservative, Amount(101_849_315_068_144_000_000_000));
    assert_eq!(market.nav().optimistic, with_harvest);
    // One second before the end: unvested = ceil(S / 28,800) = ceil(128,424,657,509,999,999.99)
    // = 128,424,657,510,000,000 (S = 3,698,630,136,288,000,000,000).
    market.advance(4 * HOUR - 1);
    market.begin_block();
    assert_eq!(market.nav().unvested, Amount(128_424_657_510_000_000));
    market.advance(1);
    market.begin_block();
    assert_eq!(market.nav().unvested, Amount::ZERO);
    assert_eq!(market.nav().optimistic, with_harvest);
    assert_eq!(market.nav().conservative, with_harvest);
}

#[test]
fn staking_after_vested_yield_buys_shares_at_a_price_above_one() {
    let mut market = market_with_a_year_of_tbill_yield_ahead();
    // A transfer, not a mint: the reserve (and so the surplus) stays Alice's 1,000,000.
    market.ok(
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: whole(10_000) }),
    );
    market.advance(30 * DAY);
    market.ok(KEEPER, Action::HarvestBaseYield(HarvestBaseYield {}));
    market.advance(8 * HOUR);
    market.begin_block();
    // NAV = 103,698.630136288 USDai over 100,000 sUSDai.
    let nav_units = 103_698_630_136_288_000_000_000u128;
    let supply_units = 100_000 * WAD;
    assert_eq!(market.nav().optimistic, Amount(nav_units));
    // Deposit price = ceil(1e18 * (103,698.630136288e18 + V) / (100,000e18 + V))
    // = ceil(1,036,986,301,362,879,630.4...) = 1,036,986,301,362,879,631 (1.0369863...: the
    // virtual pair, worth 1.0, pulls the exact 1.03698630136288 down by ~3.7e-16).
    let deposit_price = ceil_mul_div(WAD, nav_units + V, supply_units + V);
    assert_eq!(deposit_price, 1_036_986_301_362_879_631);
    assert_eq!(market.nav().deposit_price_wad(), deposit_price);
    // Bob stakes 10,000: shares = floor(10,000e18 * (100,000e18 + V) / (103,698.63...e18 + V))
    // = 9,643.328930051731092804 sUSDai (10,000 / 1.03698630136288 = 9,643.3289300517...).
    let events = market.stake(BOB, whole(10_000));
    let shares = stake_shares(&events);
    assert_eq!(shares, Amount(9_643_328_930_051_731_092_804));
    assert_eq!(shares.0, floor_mul_div(10_000 * WAD, supply_units + V, nav_units + V));
    // Bob could redeem those shares for 9,999.999999999999999999 USDai: one unit short of what
    // he paid, the unit that the share rounding kept for the vault.
    let value = market.nav().assets_for_redemption(shares).expect("in range");
    assert_eq!(value, Amount(10_000 * WAD - 1));
}

#[test]
fn mint_shares_charges_the_deposit_price_rounded_up() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    market.mint(BOB, whole(1_000));
    market.stake(ALICE, whole(300));
    market.ok(
        CAROL,
        Action::MintUsdai(MintUsdai { token: USDC, amount: whole(10), min_out: Amount::ZERO }),
    );
    market.ok(CAROL, Action::DonateToVault(DonateToVault { amount: whole(10) }));
    // NAV 310e18 over 300e18 shares. 1 share costs ceil(1e18 * (310e18 + V) / (300e18 + V)):
    // 310/300 = 1.0333...e18, less the virtual pair's pull 1e18 * V * 10e18 / (300e18)^2
    // = 111,111.1 units: ceil(1,033,333,333,333,222,222.2) = 1,033,333,333,333,222,223.
    let cost = ceil_mul_div(WAD, 310 * WAD + V, 300 * WAD + V);
    assert_eq!(cost, 1_033_333_333_333_222_223);
    market.rejected(
        BOB,
        Action::MintShares(MintShares { shares: ONE, max_assets: Amount(cost - 1) }),
        infrafi_core::vault::VaultError::AssetsAboveMaximum,
    );
    market.ok(BOB, Action::MintShares(MintShares { shares: ONE, max_assets: Amount(cost) }));
    assert_eq!(market.usdai(BOB), Amount(1_000 * WAD - cost));
    assert_eq!(market.susdai(BOB), ONE);
}

// ---------------------------------------------------------------------------------------------
// The gateway (SPEC 5).

#[test]
fn gateway_credit_withdraw_confirm_and_reject_neither_lose_nor_duplicate_value() {
    let mut market = Market::new();
    let usdc = Asset::Stablecoin(USDC);
    let supply_at_genesis = market.state.ledger.supply_of(usdc);
    let deposit = B256::repeat_byte(0x01);
    market.ok(
        ATTESTOR,
        Action::GatewayCredit(GatewayCredit {
            account: ALICE,
            token: USDC,
            amount: whole(500),
            external_id: deposit,
        }),
    );
    assert_eq!(market.stable(ALICE, USDC), whole(USER_STABLECOIN_WHOLE + 500));
    market.rejected(
        ATTESTOR,
        Action::GatewayCredit(GatewayCredit {
            account: BOB,
            token: USDC,
            amount: whole(500),
            external_id: deposit,
        }),
        ReserveError::ExternalIdAlreadyCredited,
    );
    // Withdraw 200: debited into a pending payout held by the gateway's out account.
    market.ok(
        ALICE,
        Action::GatewayWithdraw(GatewayWithdraw {
            token: USDC,
            amount: whole(200),
            destination: "0xdest".into(),
        }),
    );
    assert_eq!(market.stable(ALICE, USDC), whole(USER_STABLECOIN_WHOLE + 300));
    assert_eq!(market.stable(ProtocolAccount::GatewayOut, USDC), whole(200));
    let payout = market.state.reserve.payouts.get(&PayoutId(0)).cloned().expect("recorded");
    assert_eq!(payout.status, PayoutStatus::Pending);
    // Confirmed: burned here, it exists on the other chain now.
    let paid = B256::repeat_byte(0x02);
    market.ok(
        ATTESTOR,
        Action::GatewayConfirm(GatewayConfirm { payout_id: PayoutId(0), external_id: paid }),
    );
    assert_eq!(market.stable(ProtocolAccount::GatewayOut, USDC), Amount::ZERO);
    assert_eq!(market.state.ledger.supply_of(usdc), plus(supply_at_genesis, whole(500 - 200)));
    // Withdraw 100 and have it rejected: it comes back in full.
    market.ok(
        ALICE,
        Action::GatewayWithdraw(GatewayWithdraw {
            token: USDC,
            amount: whole(100),
            destination: "0xdest".into(),
        }),
    );
    market.rejected(
        ATTESTOR,
        Action::GatewayConfirm(GatewayConfirm { payout_id: PayoutId(1), external_id: paid }),
        ReserveError::ExternalIdAlreadyUsed,
    );
    market.ok(
        ATTESTOR,
        Action::GatewayReject(GatewayReject {
            payout_id: PayoutId(1),
            reason: "bad address".into(),
        }),
    );
    assert_eq!(market.stable(ALICE, USDC), whole(USER_STABLECOIN_WHOLE + 300));
    assert_eq!(market.state.ledger.supply_of(usdc), plus(supply_at_genesis, whole(300)));
    for payout_id in [PayoutId(0), PayoutId(1)] {
        market.rejected(
            ATTESTOR,
            Action::GatewayConfirm(GatewayConfirm {
                payout_id,
                external_id: B256::repeat_byte(0x03),
            }),
            ReserveError::PayoutNotPending,
        );
    }
}
