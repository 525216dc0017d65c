//! Worked examples, one per kind of transaction, with every expected number derived by hand in
//! the comments (18-decimal units: 1 token = 10^18 units; V = VIRTUAL_SHARES = VIRTUAL_ASSETS =
//! 10^9). Every transaction goes through the `Market` fixture, which checks the SPEC 14
//! invariants after each one and that rejections leave the state hash unchanged.

use alloy_primitives::U256;
use infrafi_core::{
    Action, Amount, Asset, Bps, Event, LoanId, ParameterChange, ProtocolAccount, Rate, TxError,
    WAD,
    action::{
        AcceptLoan, CancelRedeem, Claim, DonateToVault, Freeze, GatewayConfirm, GatewayCredit,
        GatewayReject, GatewayWithdraw, HarvestBaseYield, MintShares, MintUsdai, PostPrice,
        PostTbillRate, PrepayLoan, ProposeLoan, RedeemUsdai, RequestRedeem, ServiceQueue,
        SetParameter, SetPause, Stake, Transfer, Unfreeze,
    },
    governance::GovernanceError,
    ids::{B256, PayoutId, USDC, USDT},
    ledger::LedgerError,
    loans::LoanError,
    params::PauseScope,
    points,
    queue::{QueueError, round_liquidity},
    reserve::{self, PayoutStatus, ReserveError},
};
use infrafi_testkit::market::*;

const V: u128 = 1_000_000_000;

fn stake_shares(events: &[Event]) -> Amount {
    events
        .iter()
        .find_map(|event| match event {
            Event::Staked { shares, .. } => Some(*shares),
            _ => None,
        })
        .expect("a stake happened")
}

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
// A senior loan in the vault: two NAVs (SPEC 6, 9.6).

#[test]
fn redemption_price_falls_below_deposit_price_with_accrued_interest_and_impairment() {
    let mut market = Market::new();
    market.mint(ALICE, whole(100_000));
    market.stake(ALICE, whole(100_000));
    market.mint(BOB, whole(10_000));
    // The curator's silo holds 12,840 of first-loss capital (at least 10% of the 60,000 senior
    // exposure below, as origination requires) and no junior tranche is drawn from it.
    let silo = market.open_silo(whole(12_840), whole(60_000));
    // Four GPUs appraised (and insured) at 120,000; 60,000 lent against them is an LTV of 50%,
    // under the silo's 70%. The vault may lend it: 60,000 <= 90% of NAV (100,000) and it keeps
    // 40,000 idle, above the 5% buffer (5,000).
    let receipt = market.issue_receipt(BORROWER, 4, whole(120_000));
    let loan = market.originate(silo, senior_loan(receipt, whole(60_000), 1_500, market.now()));
    assert_eq!(market.vault_usdai(), whole(40_000));
    // 60,000 at 15% APR: rate 4,756,468,797 per second (see math.rs), so interest per second,
    // scaled by 1e18, = 60,000e18 * 4,756,468,797 = 285,388,127,820,000e18.
    assert_eq!(
        market.senior().interest_per_second_wad,
        U256::from(285_388_127_820_000u128) * U256::from(WAD)
    );
    market.advance(30 * DAY);
    market.begin_block();
    // 30 days: accrued = 285,388,127,820,000 * 2,592,000 = 739,726,027,309,440,000,000
    // = 739.72602730944 USDai. The first payment is due now: the loan is on time.
    let accrued = 739_726_027_309_440_000_000u128;
    assert_eq!(market.nav().senior_accrued_interest, Amount(accrued));
    // The appraisal halves to 60,000 and a keeper re-marks: LTV = 60,000 / 60,000 = 100%,
    // above the silo's 80%, so the loan enters margin call and is carried impaired. Expected
    // net recovery of 60,000 of GPUs: less the 30% ITAD commission (18,000) = 42,000, less
    // the 2% liquidation fee (840) = 41,160. Uncovered senior principal = 60,000 - 41,160
    // = 18,840; the silo's free pool absorbs 12,840 of it, so the vault's impairment is 6,000.
    market.revalue_and_remark(receipt, whole(60_000));
    assert!(market.loan(loan).margin_call.is_some());
    assert_eq!(market.loan(loan).senior_uncovered, whole(18_840));
    assert_eq!(market.silo(silo).impairment, whole(6_000));
    // Conservative NAV = 40,000 idle + 60,000 - 6,000 = 94,000; optimistic NAV = 40,000
    // + 60,000 + 739.72602730944 = 100,739.72602730944.
    let nav = market.nav();
    let optimistic = 100_739_726_027_309_440_000_000u128;
    let conservative = 94_000 * WAD;
    let supply = 100_000 * WAD;
    assert_eq!(nav.senior_impairment, whole(6_000));
    assert_eq!(nav.optimistic, Amount(optimistic));
    assert_eq!(nav.conservative, Amount(conservative));
    // Deposit price = ceil(1e18 * (O + V) / (S + V)) = 1,007,397,260,273,094,327 (~1.0074);
    // redemption price = floor(1e18 * (94,000e18 + V) / (100,000e18 + V))
    // = 940,000,000,000,000,599 (0.94, plus 0.06 * V / S * 1e18 = 599.99... from the virtual
    // pair, which is valued at 1.0).
    assert_eq!(nav.deposit_price_wad(), 1_007_397_260_273_094_327);
    assert_eq!(nav.redemption_price_wad(), 940_000_000_000_000_599);
    assert!(nav.redemption_price_wad() < nav.deposit_price_wad());

    // Bob stakes 10,000 at the deposit price: shares = floor(10,000e18 * (S + V) / (O + V))
    // = 9,926.570573846021677061.
    let shares = stake_shares(&market.stake(BOB, whole(10_000)));
    assert_eq!(shares, Amount(9_926_570_573_846_021_677_061));
    assert_eq!(shares.0, floor_mul_div(10_000 * WAD, supply + V, optimistic + V));
    // He can leave only at the redemption price: conservative NAV is now 104,000 over
    // 109,926.57... shares: floor(shares * (104,000e18 + V) / (S + shares + V))
    // = 9,391.390400799140463309. He does not take out interest that was never paid.
    let expected = floor_mul_div(shares.0, 104_000 * WAD + V, supply + shares.0 + V);
    assert_eq!(expected, 9_391_390_400_799_140_463_309);
    let events = market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares }));
    let request_id = Market::request_id(&events);
    market.advance(7 * DAY);
    // A week later the loan is a week late (inside its 15 days of grace) and still in margin
    // call (its cure window runs 14 days): more interest accrued, but conservative NAV ignores
    // it and the impairment is unchanged, so the payout is the same.
    let record =
        round_record(&market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 })));
    assert!(market.nav().senior_accrued_interest > Amount(accrued));
    assert_eq!(market.nav().senior_impairment, whole(6_000));
    assert_eq!(record.served_assets, Amount(expected));
    market.ok(BOB, Action::Claim(Claim { request_id }));
    assert_eq!(market.usdai(BOB), Amount(expected));
}

// ---------------------------------------------------------------------------------------------
// The redemption queue (SPEC 6, 11).

#[test]
fn a_request_waits_the_notice_period_then_is_served_and_claimed() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    market.stake(ALICE, whole(1_000));
    let events = market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(400) }));
    let request_id = Market::request_id(&events);
    let created_at = market.now();
    assert!(events.contains(&Event::RedemptionRequested {
        request_id,
        owner: ALICE,
        shares: whole(400),
        eligible_at: created_at + 7 * DAY,
    }));
    // Locked shares leave Alice's balance but stay in supply.
    assert_eq!(market.susdai(ALICE), whole(600));
    assert_eq!(market.nav().share_supply, whole(1_000));
    // Six days in, a round serves nothing: the request is still in its notice period.
    market.advance(6 * DAY);
    let record =
        round_record(&market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 })));
    assert_eq!((record.requests_served, record.served_shares), (0, Amount::ZERO));
    market.rejected(ALICE, Action::Claim(Claim { request_id }), QueueError::NothingToClaim);
    // One second before the next round may run.
    market.advance(DAY - 1);
    market.rejected(
        KEEPER,
        Action::ServiceQueue(ServiceQueue { max_requests: 10 }),
        QueueError::RoundIntervalNotElapsed,
    );
    // At created_at + 7 days the notice period has ended and a day has passed since the last
    // round. Price is exactly 1 ((1,000e18 + V) / (1,000e18 + V)): 400 shares pay 400 USDai.
    // Liquidity = 1,000 idle - 5% of the 600 unqueued shares' value = 1,000 - 30 = 970.
    market.advance(1);
    assert_eq!(market.now(), created_at + 7 * DAY);
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let record = round_record(&events);
    assert_eq!(record.liquidity, whole(970));
    assert_eq!((record.served_shares, record.served_assets), (whole(400), whole(400)));
    assert!(events.contains(&Event::RedemptionServed {
        request_id,
        shares: whole(400),
        assets: whole(400),
        fully_served: true,
    }));
    assert_eq!(market.nav().share_supply, whole(600));
    assert_eq!(market.usdai(ProtocolAccount::RedemptionClaims), whole(400));
    market.rejected(
        ALICE,
        Action::CancelRedeem(CancelRedeem { request_id }),
        QueueError::RequestAlreadyServed,
    );
    market.rejected(BOB, Action::Claim(Claim { request_id }), QueueError::SenderIsNotRequestOwner);
    market.ok(ALICE, Action::Claim(Claim { request_id }));
    assert_eq!(market.usdai(ALICE), whole(400));
    assert!(market.state.queue.requests.get(&request_id).is_none());
    market.rejected(ALICE, Action::Claim(Claim { request_id }), QueueError::RequestNotFound);
}

#[test]
fn a_round_fills_the_first_request_partially_when_liquidity_is_short_and_keeps_fifo_order() {
    let mut market = Market::new();
    for user in [ALICE, BOB] {
        market.mint(user, whole(1_000));
        market.stake(user, whole(1_000));
    }
    // 1,500 of the 2,000 is lent out, interest-free so that the price stays exactly 1: 500
    // idle, conservative NAV still 500 + 1,500 = 2,000. (The vault may lend it: 1,500 <= 90% of
    // 2,000, and the 500 left is above the 5% buffer, 100. The silo's pool holds the 150 that
    // 10% first-loss on 1,500 requires; the receipt is appraised at 3,000: LTV 50%.)
    let silo = market.open_silo(whole(150), whole(1_500));
    let receipt = market.issue_receipt(BORROWER, 1, whole(3_000));
    let loan = market.originate(silo, senior_loan(receipt, whole(1_500), 0, market.now()));
    assert_eq!((market.vault_usdai(), market.nav().conservative), (whole(500), whole(2_000)));
    let alice_request = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1_000) })),
    );
    let bob_request = Market::request_id(
        &market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(200) })),
    );
    market.advance(7 * DAY);
    // Unqueued shares: 2,000 - 1,200 = 800, worth ceil(2,000 * 800 / 2,000) = 800; buffer =
    // 5% = 40; liquidity = 500 - 40 = 460. Alice, first in line, wants 1,000 and gets 460
    // shares for 460 USDai; Bob, behind her, gets nothing this round.
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let record = round_record(&events);
    assert_eq!(record.liquidity, whole(460));
    assert_eq!((record.requests_served, record.served_assets), (1, whole(460)));
    assert!(events.contains(&Event::RedemptionServed {
        request_id: alice_request,
        shares: whole(460),
        assets: whole(460),
        fully_served: false,
    }));
    market.ok(ALICE, Action::Claim(Claim { request_id: alice_request }));
    assert_eq!(market.usdai(ALICE), whole(460));
    let alice = market.state.queue.requests.get(&alice_request).cloned().expect("still active");
    assert_eq!(alice.shares_remaining, whole(540));
    // The borrower prepays 600 of principal (at 0% no interest is due on it), all of it to the
    // senior tranche and so to the vault: idle 40 + 600 = 640, principal 900, conservative NAV
    // 1,540 over 1,540 shares; unqueued 800 shares -> buffer 40; liquidity 600: Alice's
    // remaining 540 in full, then 60 of Bob's 200.
    market.ok(
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: loan,
            principal: whole(600),
            max_amount: whole(600),
        }),
    );
    assert_eq!((market.vault_usdai(), market.loan(loan).balance), (whole(640), whole(900)));
    market.advance(DAY);
    let record =
        round_record(&market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 })));
    assert_eq!(record.liquidity, whole(600));
    assert_eq!((record.requests_served, record.served_shares), (2, whole(600)));
    let bob = market.state.queue.requests.get(&bob_request).cloned().expect("still active");
    assert_eq!((bob.shares_remaining, bob.claimable), (whole(140), whole(60)));
    // Bob cancels the rest: 140 shares come back, the 60 USDai stay claimable.
    market.ok(BOB, Action::CancelRedeem(CancelRedeem { request_id: bob_request }));
    assert_eq!(market.susdai(BOB), whole(800 + 140));
    market.ok(BOB, Action::Claim(Claim { request_id: bob_request }));
    assert_eq!(market.usdai(BOB), whole(60));
}

#[test]
fn the_liquidity_buffer_covers_only_the_value_of_unqueued_shares() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    market.stake(ALICE, whole(1_000));
    market.mint(BOB, whole(3_000));
    market.stake(BOB, whole(3_000));
    market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1_000) }));
    market.advance(7 * DAY);
    // Unqueued: Bob's 3,000 shares worth 3,000; buffer 5% = 150; liquidity 4,000 - 150.
    market.begin_block();
    assert_eq!(round_liquidity(&market.state), Ok(whole(3_850)));
    let record =
        round_record(&market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 })));
    assert_eq!((record.liquidity, record.served_assets), (whole(3_850), whole(1_000)));

    // The vault lends as much as it may, interest-free so that the price stays exactly 1: 90%
    // of its NAV of 3,000 = 2,700 (the 300 left is above the 5% buffer of 150); one unit more
    // is refused. The silo's pool holds 300 (10% first-loss on 2,700 needs 270); the receipt
    // is appraised at 6,000: LTV 45%.
    let silo = market.open_silo(whole(300), whole(3_000));
    let receipt = market.issue_receipt(BORROWER, 1, whole(6_000));
    let too_much = senior_loan(receipt, plus(whole(2_700), Amount(1)), 0, market.now());
    let loan_id = LoanId(*market.state.loans.next_loan_id.get());
    market.ok(CURATOR, Action::ProposeLoan(ProposeLoan { silo_id: silo, terms: too_much }));
    market.rejected(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id }),
        LoanError::VaultMaxDeployedExceeded,
    );
    market.originate(silo, senior_loan(receipt, whole(2_700), 0, market.now()));
    assert_eq!((market.vault_usdai(), market.nav().conservative), (whole(300), whole(3_000)));
    // Bob queues 1,000 of his 3,000 shares: the other 2,000 are worth 2,000, so the buffer is
    // 5% of 2,000 = 100 and the round's liquidity is 300 - 100 = 200 (a buffer on all 3,000
    // shares would have left only 150). Bob's request is served 200 shares for 200 USDai.
    let first = Market::request_id(
        &market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(1_000) })),
    );
    market.advance(7 * DAY);
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let record = round_record(&events);
    assert_eq!((record.liquidity, record.served_assets), (whole(200), whole(200)));
    assert!(events.contains(&Event::RedemptionServed {
        request_id: first,
        shares: whole(200),
        assets: whole(200),
        fully_served: false,
    }));

    // When every share is queued nothing is left to protect: the buffer is 0 and the whole
    // 100 idle USDai is paid out (100 shares at price 1: conservative NAV 100 + 2,700 = 2,800
    // over 2,800 shares).
    market.ok(BOB, Action::CancelRedeem(CancelRedeem { request_id: first }));
    assert_eq!(market.susdai(BOB), whole(2_800));
    market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(2_800) }));
    market.advance(7 * DAY);
    let record =
        round_record(&market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 })));
    assert_eq!((record.liquidity, record.served_assets), (whole(100), whole(100)));
    assert_eq!(market.vault_usdai(), Amount::ZERO);
}

#[test]
fn a_notice_period_change_never_lengthens_an_existing_request() {
    let mut market = Market::new();
    market.mint(ALICE, whole(100));
    market.stake(ALICE, whole(100));
    let request_id = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(10) })),
    );
    let created_at = market.now();
    // A longer notice period reduces users' rights: it waits 2 days, then applies.
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::NoticePeriodSecs(30 * DAY) }),
    );
    market.advance(2 * DAY);
    market.begin_block();
    assert_eq!(market.state.governance.params.get().notice_period_secs, 30 * DAY);
    let later = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(10) })),
    );
    market.advance(5 * DAY);
    assert_eq!(market.now(), created_at + 7 * DAY);
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let record = round_record(&events);
    assert_eq!((record.requests_served, record.served_shares), (1, whole(10)));
    let request = market.state.queue.requests.get(&request_id).cloned().expect("claimable");
    assert_eq!(request.claimable, whole(10));
    let later = market.state.queue.requests.get(&later).cloned().expect("waiting");
    assert_eq!(later.eligible_at, created_at + 2 * DAY + 30 * DAY);
}

// ---------------------------------------------------------------------------------------------
// Points (SPEC 12).

#[test]
fn points_after_a_week_count_usdai_five_times_and_unlocked_susdai_twice_at_the_redemption_price() {
    let mut market = Market::new();
    // In the genesis block (no time has passed yet): Alice holds 1,000 USDai; Bob stakes
    // 1,000 and Carol donates 100, so 1,000 sUSDai are redeemable for 1,100 USDai.
    market.mint(ALICE, whole(1_000));
    market.mint(BOB, whole(1_000));
    market.stake(BOB, whole(1_000));
    market.mint(CAROL, whole(100));
    market.ok(CAROL, Action::DonateToVault(DonateToVault { amount: whole(100) }));
    // Redemption price = floor(1e18 * (1,100e18 + V) / (1,000e18 + V)): 1.1e18 less the
    // virtual pair's pull, 1e18 * V * (1,100e18 - 1,000e18) / (1,000e18 * (1,000e18 + V)),
    // just under 100,000 units: floor(1,099,999,999,999,900,000.0...) = 1,099,999,999,999,900,000.
    let price = floor_mul_div(WAD, 1_100 * WAD + V, 1_000 * WAD + V);
    assert_eq!(price, 1_099_999_999_999_900_000);
    // A week passes, one block a day.
    for _ in 0..7 {
        market.advance(DAY);
        market.begin_block();
    }
    // Alice: 1,000 USDai x 5 points per dollar-day x 7 days = 35,000 points (18 decimals).
    assert_eq!(points::points_of(&market.state, ALICE), 35_000 * WAD);
    // Bob: 1,000 sUSDai x 2 x 7 = 14,000 share-days, each worth the redemption price:
    // 14,000 x 1.0999999999999 = 15,399.9999999986 points. Each day the accumulator grows per
    // share unit by floor(floor(2 x 86,400 x 10^27 / 86,400) x price / 10^18)
    // = 2 x 10^9 x 1,099,999,999,999,900,000 (no remainder), so the week gives
    // 1,000e18 x 7 x 2,199,999,999,999,800,000 x 10^9 / 10^27 = 15,399,999,999,998,600,000,000.
    assert_eq!(points::points_of(&market.state, BOB), 15_399_999_999_998_600_000_000);
    // Carol gave hers away: she earned on her 100 USDai for no time at all.
    assert_eq!(points::points_of(&market.state, CAROL), 0);

    // Locked shares earn nothing: Bob queues 500 of his 1,000; next week he earns on 500.
    market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(500) }));
    let bob_before = points::points_of(&market.state, BOB);
    market.advance(7 * DAY);
    market.begin_block();
    // Growth over one 7-day advance: floor(floor(2 x 604,800 x 10^27 / 86,400) x price / 10^18)
    // = 14 x 10^9 x 1,099,999,999,999,900,000, times 500e18 / 10^27
    // = 7,699,999,999,999,300,000,000 (7,699.9999999993 points).
    assert_eq!(points::points_of(&market.state, BOB) - bob_before, 7_699_999_999_999_300_000_000);
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
