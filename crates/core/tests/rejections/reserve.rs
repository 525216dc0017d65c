//! Reserve codes (3xx): stablecoins, prices, minting and redemption, the gateway, the T-bill
//! rate, harvests and attestations; and the order of `mint_usdai`'s checks.

use super::*;

pub(crate) fn unsupported_stablecoins_are_rejected_by_mint_redeem_gateway_and_oracle() -> TxError {
    let mut market = funded_market();
    let unsupported = TxError::from(ReserveError::StablecoinNotSupported);
    reject(&mut market, ALICE, mint(DAI, whole(1)), unsupported);
    reject(
        &mut market,
        ALICE,
        Action::RedeemUsdai(RedeemUsdai { token: DAI, amount: whole(1), min_out: Amount::ZERO }),
        unsupported,
    );
    reject(
        &mut market,
        ALICE,
        Action::GatewayWithdraw(GatewayWithdraw {
            token: DAI,
            amount: whole(1),
            destination: "0xdest".into(),
        }),
        unsupported,
    );
    reject(
        &mut market,
        ATTESTOR,
        Action::GatewayCredit(GatewayCredit {
            account: ALICE,
            token: DAI,
            amount: whole(1),
            external_id: B256::repeat_byte(1),
        }),
        unsupported,
    );
    reject(
        &mut market,
        ORACLE,
        Action::PostPrice(PostPrice { token: DAI, price_wad: WAD }),
        unsupported,
    )
}

pub(crate) fn adding_a_supported_stablecoin_again_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ADMIN,
        Action::AddStablecoin(AddStablecoin { token: USDT }),
        ReserveError::StablecoinAlreadySupported,
    )
}

pub(crate) fn minting_with_a_stale_or_missing_price_is_rejected() -> TxError {
    let mut market = Market::new();
    // Prices were posted at genesis; the default maximum age is one day, inclusive.
    market.advance(DAY);
    market.mint(ALICE, whole(1));
    market.advance(1);
    reject(&mut market, ALICE, mint(USDC, whole(1)), ReserveError::PriceIsStale);
    // A newly added stablecoin has no price until the oracle posts one.
    market.refresh_prices();
    market.ok(ADMIN, Action::AddStablecoin(AddStablecoin { token: DAI }));
    market.ok(
        ATTESTOR,
        Action::GatewayCredit(GatewayCredit {
            account: ALICE,
            token: DAI,
            amount: whole(5),
            external_id: B256::repeat_byte(1),
        }),
    );
    let code = reject(&mut market, ALICE, mint(DAI, whole(1)), ReserveError::PriceIsStale);
    market.ok(ORACLE, Action::PostPrice(PostPrice { token: DAI, price_wad: WAD }));
    market.ok(ALICE, mint(DAI, whole(1)));
    code
}

pub(crate) fn minting_from_a_stablecoin_off_peg_is_rejected() -> TxError {
    let mut market = Market::new();
    // 50 bps tolerance: 1.005 mints, 1.005000000000000001 does not.
    market.ok(
        ORACLE,
        Action::PostPrice(PostPrice { token: USDC, price_wad: 1_005_000_000_000_000_000 }),
    );
    market.mint(ALICE, whole(1));
    market.ok(
        ORACLE,
        Action::PostPrice(PostPrice { token: USDC, price_wad: 1_005_000_000_000_000_001 }),
    );
    reject(&mut market, ALICE, mint(USDC, whole(1)), ReserveError::PriceOutsideDepegTolerance)
}

pub(crate) fn prices_of_zero_or_above_two_are_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ORACLE,
        Action::PostPrice(PostPrice { token: USDC, price_wad: 0 }),
        ReserveError::PriceOutOfRange,
    );
    market.ok(ORACLE, Action::PostPrice(PostPrice { token: USDC, price_wad: PRICE_MAX }));
    reject(
        &mut market,
        ORACLE,
        Action::PostPrice(PostPrice { token: USDC, price_wad: PRICE_MAX + 1 }),
        ReserveError::PriceOutOfRange,
    )
}

pub(crate) fn minting_beyond_the_supply_cap_is_rejected() -> TxError {
    // Cap 1,000 USDai; a 1% mint fee is minted too, so the cap counts the gross amount.
    let mut market = Market::with_params(|p| {
        p.usdai_supply_cap = whole(1_000);
        p.mint_fee_bps = Bps(100);
    });
    market.mint(ALICE, whole(600));
    reject(
        &mut market,
        BOB,
        mint(USDC, plus(whole(400), Amount(1))),
        ReserveError::SupplyCapExceeded,
    );
    market.mint(BOB, whole(400));
    assert_eq!(market.state.ledger.supply_of(Asset::Usdai), whole(1_000));
    reject(&mut market, BOB, mint(USDC, whole(1)), ReserveError::SupplyCapExceeded)
}

pub(crate) fn minting_without_kyc_when_it_is_required_is_rejected() -> TxError {
    let mut market = Market::with_params(|p| p.kyc_required = true);
    let code = reject(&mut market, ALICE, mint(USDC, whole(1)), ReserveError::SenderNotKycVerified);
    market.ok(REGISTRAR, Action::SetKyc(SetKyc { account: ALICE, verified: true }));
    market.mint(ALICE, whole(1));
    // KYC gates minting only: an unverified holder may still receive and redeem USDai.
    market.ok(ALICE, Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1) }));
    market.ok(
        BOB,
        Action::RedeemUsdai(RedeemUsdai { token: USDC, amount: whole(1), min_out: whole(1) }),
    );
    code
}

pub(crate) fn mint_and_redeem_below_the_minimum_output_are_rejected() -> TxError {
    let mut market = Market::with_params(|p| {
        p.mint_fee_bps = Bps(10);
        p.redeem_fee_bps = Bps(10);
    });
    // 100 USDC with a 0.1% fee give 99.9 USDai: asking for 99.9 + 1 unit fails.
    let out = Amount(99_900_000_000_000_000_000);
    reject(
        &mut market,
        ALICE,
        Action::MintUsdai(MintUsdai {
            token: USDC,
            amount: whole(100),
            min_out: plus(out, Amount(1)),
        }),
        ReserveError::OutputBelowMinimum,
    );
    market
        .ok(ALICE, Action::MintUsdai(MintUsdai { token: USDC, amount: whole(100), min_out: out }));
    // Redeeming 10 USDai with a 0.1% fee pays 9.99 USDC.
    let paid = Amount(9_990_000_000_000_000_000);
    reject(
        &mut market,
        ALICE,
        Action::RedeemUsdai(RedeemUsdai {
            token: USDT,
            amount: whole(10),
            min_out: plus(paid, Amount(1)),
        }),
        ReserveError::OutputBelowMinimum,
    );
    market.ok(
        ALICE,
        Action::RedeemUsdai(RedeemUsdai { token: USDT, amount: whole(10), min_out: paid }),
    );
    ReserveError::OutputBelowMinimum.into()
}

pub(crate) fn mint_and_redeem_that_round_to_nothing_are_rejected() -> TxError {
    let mut genesis = genesis();
    genesis.tbill_rate = Rate::from_apr_bps(450);
    let mut market = Market::from_genesis(&genesis);
    market.mint(ALICE, whole(10));
    // 1 unit of USDC at 0.999: value floor(0.999) = 0.
    market.ok(
        ORACLE,
        Action::PostPrice(PostPrice { token: USDC, price_wad: 999_000_000_000_000_000 }),
    );
    reject(&mut market, ALICE, mint(USDC, Amount(1)), ReserveError::OutputRoundsToZero);
    // After a day of yield the index is above 1: 1 unit of USDai buys floor(1 / index) = 0
    // TBILL.
    market.advance(DAY);
    reject(
        &mut market,
        ALICE,
        Action::RedeemUsdai(RedeemUsdai { token: USDT, amount: Amount(1), min_out: Amount::ZERO }),
        ReserveError::OutputRoundsToZero,
    )
}

pub(crate) fn a_replayed_gateway_external_id_is_rejected() -> TxError {
    let mut market = Market::new();
    let credit = |account| {
        Action::GatewayCredit(GatewayCredit {
            account,
            token: USDC,
            amount: whole(5),
            external_id: B256::repeat_byte(0x42),
        })
    };
    market.ok(ATTESTOR, credit(ALICE));
    // Neither to the same account nor to another: the id is spent.
    reject(&mut market, ATTESTOR, credit(ALICE), ReserveError::ExternalIdAlreadyCredited);
    reject(&mut market, ATTESTOR, credit(BOB), ReserveError::ExternalIdAlreadyCredited)
}

pub(crate) fn confirming_or_rejecting_an_unknown_payout_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ATTESTOR,
        Action::GatewayConfirm(GatewayConfirm {
            payout_id: PayoutId(0),
            external_id: B256::repeat_byte(1),
        }),
        ReserveError::PayoutNotFound,
    );
    reject(
        &mut market,
        ATTESTOR,
        Action::GatewayReject(GatewayReject { payout_id: PayoutId(3), reason: "no".into() }),
        ReserveError::PayoutNotFound,
    )
}

pub(crate) fn confirming_or_rejecting_a_settled_payout_is_rejected() -> TxError {
    let mut market = Market::new();
    for _ in 0..2 {
        market.ok(
            ALICE,
            Action::GatewayWithdraw(GatewayWithdraw {
                token: USDC,
                amount: whole(1),
                destination: "0xdest".into(),
            }),
        );
    }
    market.ok(
        ATTESTOR,
        Action::GatewayConfirm(GatewayConfirm {
            payout_id: PayoutId(0),
            external_id: B256::repeat_byte(1),
        }),
    );
    market.ok(
        ATTESTOR,
        Action::GatewayReject(GatewayReject { payout_id: PayoutId(1), reason: "no".into() }),
    );
    for payout_id in [PayoutId(0), PayoutId(1)] {
        reject(
            &mut market,
            ATTESTOR,
            Action::GatewayConfirm(GatewayConfirm { payout_id, external_id: B256::repeat_byte(2) }),
            ReserveError::PayoutNotPending,
        );
        reject(
            &mut market,
            ATTESTOR,
            Action::GatewayReject(GatewayReject { payout_id, reason: "again".into() }),
            ReserveError::PayoutNotPending,
        );
    }
    ReserveError::PayoutNotPending.into()
}

pub(crate) fn invalid_payout_destinations_are_rejected() -> TxError {
    let mut market = Market::new();
    let invalid = [
        String::new(),
        "x".repeat(DESTINATION_LENGTH_MAX + 1),
        "0xdest\n".into(),
        "adresse-é".into(),
    ];
    for destination in invalid {
        reject(
            &mut market,
            ALICE,
            Action::GatewayWithdraw(GatewayWithdraw { token: USDC, amount: whole(1), destination }),
            ReserveError::DestinationInvalid,
        );
    }
    market.ok(
        ALICE,
        Action::GatewayWithdraw(GatewayWithdraw {
            token: USDC,
            amount: whole(1),
            destination: "x".repeat(DESTINATION_LENGTH_MAX),
        }),
    );
    ReserveError::DestinationInvalid.into()
}

pub(crate) fn a_tbill_rate_above_the_maximum_is_rejected() -> TxError {
    let mut market = Market::new();
    // The default maximum is 20% APR: floor(2,000 * 1e18 / 315,360,000,000) = 6,341,958,396.
    let max = Rate::from_apr_bps(2_000);
    assert_eq!(max, Rate(6_341_958_396));
    market.ok(ORACLE, Action::PostTbillRate(PostTbillRate { rate: max }));
    reject(
        &mut market,
        ORACLE,
        Action::PostTbillRate(PostTbillRate { rate: Rate(max.0 + 1) }),
        ReserveError::TbillRateExceedsMax,
    )
}

pub(crate) fn harvesting_with_no_surplus_is_rejected() -> TxError {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    // No T-bill yield: the reserve is worth exactly the supply.
    market.advance(30 * DAY);
    reject(
        &mut market,
        KEEPER,
        Action::HarvestBaseYield(HarvestBaseYield {}),
        ReserveError::BaseYieldSurplusIsZero,
    )
}

fn attest(market: &mut Market, market_value: Amount, as_of: u64) {
    market.ok(
        RESERVE_CUSTODIAN,
        Action::PostReserveAttestation(PostReserveAttestation {
            par_amount: market_value,
            market_value,
            as_of,
            document_hash: B256::repeat_byte(0x5a),
        }),
    );
}

pub(crate) fn issuing_usdai_needs_a_fresh_attestation_that_covers_it() -> TxError {
    // Attestations required, 7 days old at most, 1% tolerance; 1% T-bill yield for a surplus.
    let mut market = Market::with_params(|p| p.reserve_attestation_required = true);
    market.ok(ORACLE, Action::PostTbillRate(PostTbillRate { rate: Rate::from_apr_bps(100) }));
    // No attestation yet: nothing is issued.
    reject(&mut market, ALICE, mint(USDC, whole(1)), ReserveError::ReserveAttestationIsStale);
    // The statement must name its document, be as of the past, and be newer than the last.
    let post = |as_of, document_hash| {
        Action::PostReserveAttestation(PostReserveAttestation {
            par_amount: whole(1_000),
            market_value: whole(1_000),
            as_of,
            document_hash,
        })
    };
    let now = market.now();
    reject(
        &mut market,
        RESERVE_CUSTODIAN,
        post(now, B256::ZERO),
        ReserveError::AttestationDocumentHashMustNotBeZero,
    );
    reject(
        &mut market,
        RESERVE_CUSTODIAN,
        post(now + 1, B256::repeat_byte(1)),
        ReserveError::AttestationAsOfIsInTheFuture,
    );
    attest(&mut market, whole(1_000), now);
    for as_of in [now, now - 1] {
        reject(
            &mut market,
            RESERVE_CUSTODIAN,
            post(as_of, B256::repeat_byte(2)),
            ReserveError::AttestationIsNotNewer,
        );
    }
    // 1,000 attested + 1% = 1,010: exactly that much mints, one unit more does not.
    market.mint(ALICE, whole(1_000));
    reject(
        &mut market,
        BOB,
        mint(USDC, plus(whole(10), Amount(1))),
        ReserveError::MintExceedsAttestedReserves,
    );
    market.mint(BOB, whole(10));
    market.stake(ALICE, whole(500));
    // The ledger has a surplus after a month of yield, but the attested value is below the
    // supply: no attested surplus to harvest.
    market.advance(3 * DAY);
    market.refresh_prices();
    assert!(!infrafi_core::reserve::backing(&market.state).expect("fits").surplus.is_zero());
    let harvest = Action::HarvestBaseYield(HarvestBaseYield {});
    let code = reject(&mut market, KEEPER, harvest.clone(), ReserveError::AttestedSurplusIsZero);
    // Past the maximum age, neither mint nor harvest; redemptions are never held back.
    market.advance(4 * DAY + 1);
    market.refresh_prices();
    reject(&mut market, ALICE, mint(USDC, whole(1)), ReserveError::ReserveAttestationIsStale);
    reject(&mut market, KEEPER, harvest.clone(), ReserveError::ReserveAttestationIsStale);
    market.ok(
        BOB,
        Action::RedeemUsdai(RedeemUsdai { token: USDC, amount: whole(10), min_out: whole(9) }),
    );
    let now = market.now();
    attest(&mut market, whole(1_020), now);
    market.ok(KEEPER, harvest);
    code
}

pub(crate) fn confirming_two_payouts_with_one_external_id_is_rejected() -> TxError {
    let mut market = Market::new();
    for _ in 0..2 {
        market.ok(
            ALICE,
            Action::GatewayWithdraw(GatewayWithdraw {
                token: USDC,
                amount: whole(1),
                destination: "0xdest".into(),
            }),
        );
    }
    let paid = B256::repeat_byte(5);
    market.ok(
        ATTESTOR,
        Action::GatewayConfirm(GatewayConfirm { payout_id: PayoutId(0), external_id: paid }),
    );
    reject(
        &mut market,
        ATTESTOR,
        Action::GatewayConfirm(GatewayConfirm { payout_id: PayoutId(1), external_id: paid }),
        ReserveError::ExternalIdAlreadyUsed,
    )
}

pub(crate) fn invalid_rejection_reasons_are_rejected() -> TxError {
    let mut market = Market::new();
    market.ok(
        ALICE,
        Action::GatewayWithdraw(GatewayWithdraw {
            token: USDC,
            amount: whole(1),
            destination: "0xdest".into(),
        }),
    );
    for reason in [String::new(), "r".repeat(REASON_LENGTH_MAX + 1), "tab\there".into()] {
        reject(
            &mut market,
            ATTESTOR,
            Action::GatewayReject(GatewayReject { payout_id: PayoutId(0), reason }),
            ReserveError::ReasonInvalid,
        );
    }
    market.ok(
        ATTESTOR,
        Action::GatewayReject(GatewayReject {
            payout_id: PayoutId(0),
            reason: "r".repeat(REASON_LENGTH_MAX),
        }),
    );
    ReserveError::ReasonInvalid.into()
}

/// `mint_usdai` documents its order of checks: amount, support, pause, frozen, KYC, price
/// age, peg, balance, output and slippage, cap. Starting from a transaction that fails all of
/// them, fixing one condition at a time must reveal the next code in that order.
#[test]
fn mint_checks_run_in_their_documented_order() {
    let mut market = Market::with_params(|p| {
        p.kyc_required = true;
        p.usdai_supply_cap = whole(10);
    });
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Minting, paused: true }));
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: KEEPER }));
    market.advance(DAY + 1);
    let tx = |token: Symbol, amount: Amount, min_out: Amount| Transaction {
        sender: KEEPER,
        action: Action::MintUsdai(MintUsdai { token, amount, min_out }),
    };
    assert_rejected(
        &mut market,
        tx(DAI, Amount::ZERO, whole(1_000)),
        LedgerError::AmountMustNotBeZero.into(),
    );
    assert_rejected(
        &mut market,
        tx(DAI, whole(100), whole(1_000)),
        ReserveError::StablecoinNotSupported.into(),
    );
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        GovernanceError::ActionIsPaused.into(),
    );
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Minting, paused: false }));
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        LedgerError::SenderIsFrozen.into(),
    );
    market.ok(COMPLIANCE, Action::Unfreeze(Unfreeze { account: KEEPER }));
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        ReserveError::SenderNotKycVerified.into(),
    );
    market.ok(REGISTRAR, Action::SetKyc(SetKyc { account: KEEPER, verified: true }));
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        ReserveError::PriceIsStale.into(),
    );
    market.ok(
        ORACLE,
        Action::PostPrice(PostPrice { token: USDC, price_wad: 980_000_000_000_000_000 }),
    );
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        ReserveError::PriceOutsideDepegTolerance.into(),
    );
    market.ok(ORACLE, Action::PostPrice(PostPrice { token: USDC, price_wad: WAD }));
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        LedgerError::BalanceInsufficient.into(),
    );
    market.ok(
        ATTESTOR,
        Action::GatewayCredit(GatewayCredit {
            account: KEEPER,
            token: USDC,
            amount: whole(100),
            external_id: B256::ZERO,
        }),
    );
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        ReserveError::OutputBelowMinimum.into(),
    );
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(100)),
        ReserveError::SupplyCapExceeded.into(),
    );
    // Raising a cap favours users: it applies at once.
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::UsdaiSupplyCap(whole(100)) }),
    );
    market.ok(
        KEEPER,
        Action::MintUsdai(MintUsdai { token: USDC, amount: whole(100), min_out: whole(100) }),
    );
}

pub(crate) fn minting_or_redeeming_beyond_the_hourly_limit_is_rejected() -> TxError {
    // 1,000 USDai an hour in, 500 out (issue 16).
    let mut market = Market::with_params(|p| {
        p.mint_limit_per_hour = whole(1_000);
        p.redeem_limit_per_hour = whole(500);
    });
    market.mint(ALICE, whole(1_000));
    reject(&mut market, BOB, mint(USDC, Amount(1)), ReserveError::MintRateLimitExceeded);
    let redeem =
        |amount| Action::RedeemUsdai(RedeemUsdai { token: USDC, amount, min_out: Amount::ZERO });
    market.ok(ALICE, redeem(whole(500)));
    reject(&mut market, ALICE, redeem(Amount(1)), ReserveError::RedeemRateLimitExceeded)
}

pub(crate) fn using_more_than_an_accounts_share_of_the_hourly_limit_is_rejected() -> TxError {
    // A quarter of 1,000 USDai an hour each way per account (issue 16).
    let mut market = Market::with_params(|p| {
        p.mint_limit_per_hour = whole(1_000);
        p.redeem_limit_per_hour = whole(1_000);
        p.rate_limit_account_share_bps = Bps(2_500);
    });
    market.mint(ALICE, whole(250));
    reject(&mut market, ALICE, mint(USDC, whole(1)), ReserveError::MintAccountRateLimitExceeded);
    // An hour later Alice's share is free again: she holds 500, and may redeem 250 of it.
    market.advance(HOUR);
    market.refresh_prices();
    market.mint(ALICE, whole(250));
    let redeem =
        |amount| Action::RedeemUsdai(RedeemUsdai { token: USDC, amount, min_out: Amount::ZERO });
    market.ok(ALICE, redeem(whole(200)));
    reject(&mut market, ALICE, redeem(whole(51)), ReserveError::RedeemAccountRateLimitExceeded)
}

pub(crate) fn queued_deposits_are_rejected_out_of_bounds_out_of_turn_and_by_others() -> TxError {
    // A full cap of 1,000 USDai (issue 16: queued deposits).
    let mut market = Market::with_params(|p| p.usdai_supply_cap = whole(1_000));
    market.mint(ALICE, whole(1_000));
    let queue = |amount| Action::QueueDeposit(QueueDeposit { token: USDC, amount });
    let fill = |max_deposits| Action::FillQueuedDeposits(FillQueuedDeposits { max_deposits });
    let minimum = infrafi_core::reserve::QUEUED_DEPOSIT_MIN;
    reject(
        &mut market,
        BOB,
        queue(minus(minimum, Amount(1))),
        ReserveError::QueuedDepositBelowMinimum,
    );
    for _ in 0..infrafi_core::reserve::QUEUED_DEPOSITS_PER_OWNER_MAX {
        market.ok(BOB, queue(minimum));
    }
    reject(&mut market, BOB, queue(minimum), ReserveError::QueuedDepositsPerOwnerExceeded);
    reject(&mut market, CAROL, mint(USDC, whole(1)), ReserveError::DepositQueueIsNotEmpty);
    reject(&mut market, KEEPER, fill(0), ReserveError::FillBatchOutOfRange);
    reject(&mut market, KEEPER, fill(1), ReserveError::QueuedDepositsCannotFillNow);
    let cancel = |deposit_id| Action::CancelQueuedDeposit(CancelQueuedDeposit { deposit_id });
    reject(&mut market, CAROL, cancel(0), ReserveError::SenderIsNotDepositOwner);
    reject(&mut market, BOB, cancel(99), ReserveError::QueuedDepositNotFound)
}
