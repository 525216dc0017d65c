//! Every rejection path: each case sets up a market, sends a transaction that must fail, and
//! checks the result code (variant and stable number) and that the state hash did not move
//! (`assert_rejected`). Cases are listed in the order of the codes they prove.
//!
//! `every_result_code_is_produced_by_a_case_or_listed_as_unreachable` walks `TxError::all()`:
//! each code is either returned by a case here (it runs them all and collects what they
//! returned, so a case cannot claim a code it does not produce) or listed in `UNREACHABLE`
//! with the reason no transaction can reach it.

mod common;

use common::*;
use infrafi_core::{
    Action, Address, Amount, Asset, BlockContext, Bps, ParameterChange, Rate, Role, Symbol,
    Transaction, TxError, WAD, begin_block,
    governance::{GovernanceError, PENDING_CHANGES_MAX},
    ids::{B256, PayoutId, RequestId, USDC, USDT},
    ledger::LedgerError,
    params::{DURATION_SECS_MAX, PauseScope},
    queue::{QueueError, ROUND_REQUESTS_MAX},
    reserve::{DESTINATION_LENGTH_MAX, PRICE_MAX, REASON_LENGTH_MAX, ReserveError},
    vault::VaultError,
};
use std::collections::BTreeSet;

/// A stablecoin nobody supports.
const DAI: Symbol = match Symbol::new("DAI") {
    Some(symbol) => symbol,
    None => panic!("valid symbol"),
};

/// Sends `action` from `sender`, checks it is rejected with `expected` and the state is
/// unchanged, and returns the code for the coverage table.
#[track_caller]
fn reject(
    market: &mut Market,
    sender: Address,
    action: Action,
    expected: impl Into<TxError>,
) -> TxError {
    let expected = expected.into();
    assert_rejected(market, Transaction { sender, action }, expected);
    PRODUCED.with(|produced| produced.borrow_mut().insert(expected.code()));
    expected
}

std::thread_local! {
    /// The codes `reject` has seen on this thread (each test runs on its own thread).
    static PRODUCED: std::cell::RefCell<BTreeSet<u16>> = const { std::cell::RefCell::new(BTreeSet::new()) };
}

/// A market where Alice holds 1,000 USDai and 500 sUSDai (price 1).
fn funded_market() -> Market {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_500));
    market.stake(ALICE, whole(500));
    market
}

fn mint(token: Symbol, amount: Amount) -> Action {
    Action::MintUsdai { token, amount, min_out: Amount::ZERO }
}

macro_rules! rejection_cases {
    ($($case:ident),+ $(,)?) => {
        /// Every case, in the order of the codes it proves.
        const CASES: &[(&str, fn() -> TxError)] = &[$((stringify!($case), $case)),+];

        /// One test per case, named after it.
        mod each_case {
            $(
                #[test]
                fn $case() {
                    super::$case();
                }
            )+
        }
    };
}

rejection_cases! {
    zero_amounts_are_rejected_by_every_action_that_moves_value,
    spending_more_than_the_balance_is_rejected_by_every_action_that_spends,
    a_credit_that_would_overflow_a_balance_is_rejected_as_arithmetic_overflow,
    a_block_earlier_than_the_state_time_is_rejected,
    a_frozen_sender_cannot_send_usdai_or_susdai,
    a_frozen_recipient_cannot_receive_usdai_or_susdai,
    tbill_cannot_be_transferred_between_users,
    a_transfer_to_oneself_is_rejected,
    an_unsupported_stablecoin_cannot_be_transferred,
    every_privileged_action_rejects_every_address_without_its_role,
    granting_a_role_twice_is_rejected,
    revoking_a_role_not_held_is_rejected,
    the_last_admin_cannot_be_revoked,
    parameter_values_outside_their_range_are_rejected,
    freezing_a_frozen_account_is_rejected,
    unfreezing_an_account_not_frozen_is_rejected,
    a_pause_that_changes_nothing_is_rejected,
    a_kyc_status_that_changes_nothing_is_rejected,
    paused_minting_and_staking_are_rejected,
    scheduling_beyond_the_pending_changes_limit_is_rejected,
    unsupported_stablecoins_are_rejected_by_mint_redeem_gateway_and_oracle,
    adding_a_supported_stablecoin_again_is_rejected,
    minting_with_a_stale_or_missing_price_is_rejected,
    minting_from_a_stablecoin_off_peg_is_rejected,
    prices_of_zero_or_above_two_are_rejected,
    minting_beyond_the_supply_cap_is_rejected,
    minting_without_kyc_when_it_is_required_is_rejected,
    mint_and_redeem_below_the_minimum_output_are_rejected,
    mint_and_redeem_that_round_to_nothing_are_rejected,
    a_replayed_gateway_external_id_is_rejected,
    confirming_or_rejecting_an_unknown_payout_is_rejected,
    confirming_or_rejecting_a_settled_payout_is_rejected,
    invalid_payout_destinations_are_rejected,
    a_tbill_rate_above_the_maximum_is_rejected,
    harvesting_with_no_surplus_is_rejected,
    confirming_two_payouts_with_one_external_id_is_rejected,
    invalid_rejection_reasons_are_rejected,
    a_stake_too_small_to_buy_a_share_is_rejected,
    a_stake_below_the_minimum_shares_is_rejected,
    mint_shares_above_the_maximum_assets_is_rejected,
    harvesting_or_donating_into_a_vault_with_no_shares_is_rejected,
    a_request_below_the_minimum_redeem_is_rejected,
    a_request_beyond_the_active_requests_limit_is_rejected,
    cancelling_or_claiming_an_unknown_request_is_rejected,
    only_the_owner_may_cancel_or_claim_a_request,
    cancelling_a_fully_served_request_is_rejected,
    claiming_with_nothing_served_is_rejected,
    a_round_before_the_round_interval_is_rejected,
    a_round_limit_of_zero_or_above_the_maximum_is_rejected,
}

/// Codes no transaction can produce through `apply`, each with the reason.
const UNREACHABLE: &[(TxError, &str)] = &[
    (
        TxError::Ledger(LedgerError::NonceMismatch),
        "nonces are checked by the node before a transaction reaches `apply`, which has no nonce",
    ),
    (
        TxError::Reserve(ReserveError::ReserveBackingInsufficient),
        "SPEC 14.2 (checked after every transaction here) keeps reserve value >= USDai supply \
         >= any balance, so the TBILL drawn for a redemption, floor(net / index), is always held",
    ),
];

// ---------------------------------------------------------------------------------------------
// Ledger (1xx).

fn zero_amounts_are_rejected_by_every_action_that_moves_value() -> TxError {
    let mut market = funded_market();
    let zero = Amount::ZERO;
    let actions = [
        Action::Transfer { asset: Asset::Usdai, to: BOB, amount: zero },
        Action::Transfer { asset: Asset::Tbill, to: BOB, amount: zero },
        mint(USDC, zero),
        Action::RedeemUsdai { token: USDC, amount: zero, min_out: zero },
        Action::Stake { assets: zero, min_shares: zero },
        Action::MintShares { shares: zero, max_assets: whole(1) },
        Action::DonateToVault { amount: zero },
        Action::RequestRedeem { shares: zero },
        Action::GatewayWithdraw { token: USDC, amount: zero, destination: "0xdest".into() },
    ];
    for action in actions {
        reject(&mut market, ALICE, action, LedgerError::AmountMustNotBeZero);
    }
    let credit = Action::GatewayCredit {
        account: ALICE,
        token: USDC,
        amount: zero,
        external_id: B256::repeat_byte(1),
    };
    reject(&mut market, ATTESTOR, credit, LedgerError::AmountMustNotBeZero)
}

fn spending_more_than_the_balance_is_rejected_by_every_action_that_spends() -> TxError {
    let mut market = funded_market();
    // Alice: 1,000 USDai, 500 sUSDai, 998,500 USDC, 1,000,000 USDT.
    let over_usdai = plus(whole(1_000), Amount(1));
    let actions = [
        Action::Transfer { asset: Asset::Usdai, to: BOB, amount: over_usdai },
        Action::Transfer { asset: Asset::Susdai, to: BOB, amount: plus(whole(500), Amount(1)) },
        Action::Transfer {
            asset: Asset::Stablecoin(USDT),
            to: BOB,
            amount: plus(whole(USER_STABLECOIN_WHOLE), Amount(1)),
        },
        mint(USDT, plus(whole(USER_STABLECOIN_WHOLE), Amount(1))),
        Action::RedeemUsdai { token: USDC, amount: over_usdai, min_out: Amount::ZERO },
        Action::Stake { assets: over_usdai, min_shares: Amount::ZERO },
        Action::MintShares { shares: over_usdai, max_assets: Amount::MAX },
        Action::DonateToVault { amount: over_usdai },
        Action::RequestRedeem { shares: plus(whole(500), Amount(1)) },
        Action::GatewayWithdraw {
            token: USDT,
            amount: plus(whole(USER_STABLECOIN_WHOLE), Amount(1)),
            destination: "0xdest".into(),
        },
    ];
    for action in actions {
        reject(&mut market, ALICE, action, LedgerError::BalanceInsufficient);
    }
    // The exact balance is fine.
    market.ok(ALICE, Action::Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1_000) });
    reject(
        &mut market,
        ALICE,
        Action::Transfer { asset: Asset::Usdai, to: BOB, amount: Amount(1) },
        LedgerError::BalanceInsufficient,
    )
}

fn a_credit_that_would_overflow_a_balance_is_rejected_as_arithmetic_overflow() -> TxError {
    let mut market = Market::new();
    // Alice already holds 1,000,000 USDC; u128::MAX more does not fit.
    let credit = Action::GatewayCredit {
        account: ALICE,
        token: USDC,
        amount: Amount::MAX,
        external_id: B256::repeat_byte(9),
    };
    let code = reject(&mut market, ATTESTOR, credit, LedgerError::ArithmeticOverflow);
    // The id was not spent by the rejected credit: it can still credit a sane amount.
    market.ok(
        ATTESTOR,
        Action::GatewayCredit {
            account: ALICE,
            token: USDC,
            amount: whole(1),
            external_id: B256::repeat_byte(9),
        },
    );
    code
}

fn a_block_earlier_than_the_state_time_is_rejected() -> TxError {
    let mut market = Market::new();
    market.advance(HOUR);
    market.mint(ALICE, whole(10));
    let before = market.state.state_hash();
    let earlier = BlockContext { height: market.block.height + 1, timestamp: market.now() - 1 };
    assert_eq!(
        begin_block(&mut market.state, &earlier),
        Err(LedgerError::BlockTimeMustNotDecrease.into())
    );
    assert_eq!(market.state.state_hash(), before);
    market.block = earlier;
    reject(
        &mut market,
        ALICE,
        Action::Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1) },
        LedgerError::BlockTimeMustNotDecrease,
    )
}

fn a_frozen_sender_cannot_send_usdai_or_susdai() -> TxError {
    let mut market = funded_market();
    market.ok(COMPLIANCE, Action::Freeze { account: ALICE });
    for asset in [Asset::Usdai, Asset::Susdai] {
        reject(
            &mut market,
            ALICE,
            Action::Transfer { asset, to: BOB, amount: whole(1) },
            LedgerError::SenderIsFrozen,
        );
    }
    reject(
        &mut market,
        ALICE,
        Action::RequestRedeem { shares: whole(1) },
        LedgerError::SenderIsFrozen,
    )
}

fn a_frozen_recipient_cannot_receive_usdai_or_susdai() -> TxError {
    let mut market = funded_market();
    market.ok(COMPLIANCE, Action::Freeze { account: BOB });
    for asset in [Asset::Usdai, Asset::Susdai] {
        reject(
            &mut market,
            ALICE,
            Action::Transfer { asset, to: BOB, amount: whole(1) },
            LedgerError::RecipientIsFrozen,
        );
    }
    // Stablecoins are not covered by a freeze.
    market
        .ok(ALICE, Action::Transfer { asset: Asset::Stablecoin(USDC), to: BOB, amount: whole(1) });
    LedgerError::RecipientIsFrozen.into()
}

fn tbill_cannot_be_transferred_between_users() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::Transfer { asset: Asset::Tbill, to: BOB, amount: whole(1) },
        LedgerError::AssetIsNotTransferable,
    )
}

fn a_transfer_to_oneself_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::Transfer { asset: Asset::Usdai, to: ALICE, amount: whole(1) },
        LedgerError::RecipientMustNotBeSender,
    )
}

fn an_unsupported_stablecoin_cannot_be_transferred() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::Transfer { asset: Asset::Stablecoin(DAI), to: BOB, amount: whole(1) },
        LedgerError::AssetIsNotSupported,
    )
}

// ---------------------------------------------------------------------------------------------
// Governance (2xx).

fn every_privileged_action_rejects_every_address_without_its_role() -> TxError {
    let mut market = funded_market();
    // A pending payout, so confirm and reject are otherwise valid.
    market.ok(
        ALICE,
        Action::GatewayWithdraw { token: USDC, amount: whole(1), destination: "0xdest".into() },
    );
    market.ok(COMPLIANCE, Action::Freeze { account: DAVE });
    let privileged: Vec<(Role, Action)> = vec![
        (Role::Admin, Action::GrantRole { role: Role::Curator, account: BOB }),
        (Role::Admin, Action::RevokeRole { role: Role::Oracle, account: ORACLE }),
        (Role::Admin, Action::SetParameter { change: ParameterChange::MintFeeBps(Bps(10)) }),
        (Role::Admin, Action::AddStablecoin { token: DAI }),
        (Role::Guardian, Action::SetPause { scope: PauseScope::Minting, paused: true }),
        (Role::Compliance, Action::Freeze { account: CAROL }),
        (Role::Compliance, Action::Unfreeze { account: DAVE }),
        (Role::KycRegistrar, Action::SetKyc { account: CAROL, verified: true }),
        (Role::Oracle, Action::PostPrice { token: USDC, price: WAD }),
        (Role::Oracle, Action::PostTbillRate { rate: Rate::from_apr_bps(400) }),
        (
            Role::GatewayAttestor,
            Action::GatewayCredit {
                account: BOB,
                token: USDC,
                amount: whole(1),
                external_id: B256::repeat_byte(7),
            },
        ),
        (
            Role::GatewayAttestor,
            Action::GatewayConfirm { payout_id: PayoutId(0), external_id: B256::repeat_byte(8) },
        ),
        (
            Role::GatewayAttestor,
            Action::GatewayReject { payout_id: PayoutId(0), reason: "no".into() },
        ),
    ];
    let everyone: Vec<Address> = ROLE_HOLDERS
        .iter()
        .map(|&(_, holder)| holder)
        .chain(USERS)
        .chain([KEEPER, BORROWER])
        .collect();
    for (role, action) in &privileged {
        let mut rejected = 0;
        for &sender in &everyone {
            if market.state.governance.has_role(*role, sender) {
                continue;
            }
            reject(&mut market, sender, action.clone(), GovernanceError::SenderLacksRole);
            rejected += 1;
        }
        assert_eq!(rejected, everyone.len() - 1, "exactly one address holds {role:?}");
    }
    // The role is the only obstacle: each holder's action is accepted (on a copy, since
    // confirm and reject of the one payout exclude each other).
    for (role, action) in privileged {
        let holder = market.state.governance.holders(role).next().expect("held");
        let mut copy = Market { state: market.state.clone(), block: market.block };
        copy.ok(holder, action);
    }
    // A revoked holder loses the power at once.
    market.ok(ADMIN, Action::RevokeRole { role: Role::Oracle, account: ORACLE });
    reject(
        &mut market,
        ORACLE,
        Action::PostPrice { token: USDC, price: WAD },
        GovernanceError::SenderLacksRole,
    )
}

fn granting_a_role_twice_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ADMIN,
        Action::GrantRole { role: Role::Oracle, account: ORACLE },
        GovernanceError::RoleAlreadyGranted,
    )
}

fn revoking_a_role_not_held_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ADMIN,
        Action::RevokeRole { role: Role::Oracle, account: ALICE },
        GovernanceError::RoleNotGranted,
    )
}

fn the_last_admin_cannot_be_revoked() -> TxError {
    let mut market = Market::new();
    let code = reject(
        &mut market,
        ADMIN,
        Action::RevokeRole { role: Role::Admin, account: ADMIN },
        GovernanceError::LastAdminCannotBeRevoked,
    );
    // With a second admin, either may go.
    market.ok(ADMIN, Action::GrantRole { role: Role::Admin, account: BOB });
    market.ok(BOB, Action::RevokeRole { role: Role::Admin, account: ADMIN });
    reject(&mut market, BOB, Action::RevokeRole { role: Role::Admin, account: BOB }, code)
}

fn parameter_values_outside_their_range_are_rejected() -> TxError {
    let mut market = Market::new();
    let out_of_range = [
        ParameterChange::MintFeeBps(Bps(10_001)),
        ParameterChange::RedeemFeeBps(Bps(u32::MAX)),
        ParameterChange::LiquidityBufferBps(Bps(10_001)),
        ParameterChange::MaxPriceAgeSecs(0),
        ParameterChange::NoticePeriodSecs(DURATION_SECS_MAX + 1),
        ParameterChange::GovernanceDelaySecs(u64::MAX),
        ParameterChange::MinRedeemShares(Amount::ZERO),
        ParameterChange::MaxActiveRequests(0),
        ParameterChange::MaxActiveRequests(1_001),
        ParameterChange::UsdaiPointsMultiplier(1_001),
    ];
    for change in out_of_range {
        reject(
            &mut market,
            ADMIN,
            Action::SetParameter { change },
            GovernanceError::ParameterValueOutOfRange,
        );
    }
    // The edges themselves are valid.
    market.ok(ADMIN, Action::SetParameter { change: ParameterChange::MintFeeBps(Bps(10_000)) });
    market.ok(ADMIN, Action::SetParameter { change: ParameterChange::MaxActiveRequests(1_000) });
    GovernanceError::ParameterValueOutOfRange.into()
}

fn freezing_a_frozen_account_is_rejected() -> TxError {
    let mut market = Market::new();
    market.ok(COMPLIANCE, Action::Freeze { account: BOB });
    reject(
        &mut market,
        COMPLIANCE,
        Action::Freeze { account: BOB },
        GovernanceError::AccountAlreadyFrozen,
    )
}

fn unfreezing_an_account_not_frozen_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        COMPLIANCE,
        Action::Unfreeze { account: BOB },
        GovernanceError::AccountNotFrozen,
    )
}

fn a_pause_that_changes_nothing_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        GUARDIAN,
        Action::SetPause { scope: PauseScope::Staking, paused: false },
        GovernanceError::PauseStateUnchanged,
    );
    market.ok(GUARDIAN, Action::SetPause { scope: PauseScope::Staking, paused: true });
    reject(
        &mut market,
        GUARDIAN,
        Action::SetPause { scope: PauseScope::Staking, paused: true },
        GovernanceError::PauseStateUnchanged,
    )
}

fn a_kyc_status_that_changes_nothing_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        REGISTRAR,
        Action::SetKyc { account: BOB, verified: false },
        GovernanceError::KycStatusUnchanged,
    );
    market.ok(REGISTRAR, Action::SetKyc { account: BOB, verified: true });
    reject(
        &mut market,
        REGISTRAR,
        Action::SetKyc { account: BOB, verified: true },
        GovernanceError::KycStatusUnchanged,
    )
}

fn paused_minting_and_staking_are_rejected() -> TxError {
    let mut market = funded_market();
    market.ok(GUARDIAN, Action::SetPause { scope: PauseScope::Minting, paused: true });
    market.ok(GUARDIAN, Action::SetPause { scope: PauseScope::Staking, paused: true });
    reject(&mut market, ALICE, mint(USDC, whole(1)), GovernanceError::ActionIsPaused);
    reject(
        &mut market,
        ALICE,
        Action::Stake { assets: whole(1), min_shares: Amount::ZERO },
        GovernanceError::ActionIsPaused,
    );
    reject(
        &mut market,
        ALICE,
        Action::MintShares { shares: whole(1), max_assets: whole(2) },
        GovernanceError::ActionIsPaused,
    )
}

fn scheduling_beyond_the_pending_changes_limit_is_rejected() -> TxError {
    let mut market = Market::new();
    // Each increase of the mint fee reduces users' rights and waits: 256 fill the schedule.
    for bps in 1..=PENDING_CHANGES_MAX as u32 {
        market.ok(ADMIN, Action::SetParameter { change: ParameterChange::MintFeeBps(Bps(bps)) });
    }
    assert_eq!(market.state.governance.pending_changes.len(), PENDING_CHANGES_MAX);
    let code = reject(
        &mut market,
        ADMIN,
        Action::SetParameter { change: ParameterChange::MintFeeBps(Bps(1_000)) },
        GovernanceError::PendingChangesLimitReached,
    );
    // A change that favours users does not wait, so it is never blocked by the limit.
    market.ok(ADMIN, Action::SetParameter { change: ParameterChange::MaxPriceAgeSecs(HOUR) });
    code
}

// ---------------------------------------------------------------------------------------------
// Reserve (3xx).

fn unsupported_stablecoins_are_rejected_by_mint_redeem_gateway_and_oracle() -> TxError {
    let mut market = funded_market();
    let unsupported = TxError::from(ReserveError::StablecoinNotSupported);
    reject(&mut market, ALICE, mint(DAI, whole(1)), unsupported);
    reject(
        &mut market,
        ALICE,
        Action::RedeemUsdai { token: DAI, amount: whole(1), min_out: Amount::ZERO },
        unsupported,
    );
    reject(
        &mut market,
        ALICE,
        Action::GatewayWithdraw { token: DAI, amount: whole(1), destination: "0xdest".into() },
        unsupported,
    );
    reject(
        &mut market,
        ATTESTOR,
        Action::GatewayCredit {
            account: ALICE,
            token: DAI,
            amount: whole(1),
            external_id: B256::repeat_byte(1),
        },
        unsupported,
    );
    reject(&mut market, ORACLE, Action::PostPrice { token: DAI, price: WAD }, unsupported)
}

fn adding_a_supported_stablecoin_again_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ADMIN,
        Action::AddStablecoin { token: USDT },
        ReserveError::StablecoinAlreadySupported,
    )
}

fn minting_with_a_stale_or_missing_price_is_rejected() -> TxError {
    let mut market = Market::new();
    // Prices were posted at genesis; the default maximum age is one day, inclusive.
    market.advance(DAY);
    market.mint(ALICE, whole(1));
    market.advance(1);
    reject(&mut market, ALICE, mint(USDC, whole(1)), ReserveError::PriceIsStale);
    // A newly added stablecoin has no price until the oracle posts one.
    market.refresh_prices();
    market.ok(ADMIN, Action::AddStablecoin { token: DAI });
    market.ok(
        ATTESTOR,
        Action::GatewayCredit {
            account: ALICE,
            token: DAI,
            amount: whole(5),
            external_id: B256::repeat_byte(1),
        },
    );
    let code = reject(&mut market, ALICE, mint(DAI, whole(1)), ReserveError::PriceIsStale);
    market.ok(ORACLE, Action::PostPrice { token: DAI, price: WAD });
    market.ok(ALICE, mint(DAI, whole(1)));
    code
}

fn minting_from_a_stablecoin_off_peg_is_rejected() -> TxError {
    let mut market = Market::new();
    // 50 bps tolerance: 1.005 mints, 1.005000000000000001 does not.
    market.ok(ORACLE, Action::PostPrice { token: USDC, price: 1_005_000_000_000_000_000 });
    market.mint(ALICE, whole(1));
    market.ok(ORACLE, Action::PostPrice { token: USDC, price: 1_005_000_000_000_000_001 });
    reject(&mut market, ALICE, mint(USDC, whole(1)), ReserveError::PriceOutsideDepegTolerance)
}

fn prices_of_zero_or_above_two_are_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ORACLE,
        Action::PostPrice { token: USDC, price: 0 },
        ReserveError::PriceOutOfRange,
    );
    market.ok(ORACLE, Action::PostPrice { token: USDC, price: PRICE_MAX });
    reject(
        &mut market,
        ORACLE,
        Action::PostPrice { token: USDC, price: PRICE_MAX + 1 },
        ReserveError::PriceOutOfRange,
    )
}

fn minting_beyond_the_supply_cap_is_rejected() -> TxError {
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

fn minting_without_kyc_when_it_is_required_is_rejected() -> TxError {
    let mut market = Market::with_params(|p| p.kyc_required = true);
    let code = reject(&mut market, ALICE, mint(USDC, whole(1)), ReserveError::SenderNotKycVerified);
    market.ok(REGISTRAR, Action::SetKyc { account: ALICE, verified: true });
    market.mint(ALICE, whole(1));
    // KYC gates minting only: an unverified holder may still receive and redeem USDai.
    market.ok(ALICE, Action::Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1) });
    market.ok(BOB, Action::RedeemUsdai { token: USDC, amount: whole(1), min_out: whole(1) });
    code
}

fn mint_and_redeem_below_the_minimum_output_are_rejected() -> TxError {
    let mut market = Market::with_params(|p| {
        p.mint_fee_bps = Bps(10);
        p.redeem_fee_bps = Bps(10);
    });
    // 100 USDC with a 0.1% fee give 99.9 USDai: asking for 99.9 + 1 unit fails.
    let out = Amount(99_900_000_000_000_000_000);
    reject(
        &mut market,
        ALICE,
        Action::MintUsdai { token: USDC, amount: whole(100), min_out: plus(out, Amount(1)) },
        ReserveError::OutputBelowMinimum,
    );
    market.ok(ALICE, Action::MintUsdai { token: USDC, amount: whole(100), min_out: out });
    // Redeeming 10 USDai with a 0.1% fee pays 9.99 USDC.
    let paid = Amount(9_990_000_000_000_000_000);
    reject(
        &mut market,
        ALICE,
        Action::RedeemUsdai { token: USDT, amount: whole(10), min_out: plus(paid, Amount(1)) },
        ReserveError::OutputBelowMinimum,
    );
    market.ok(ALICE, Action::RedeemUsdai { token: USDT, amount: whole(10), min_out: paid });
    ReserveError::OutputBelowMinimum.into()
}

fn mint_and_redeem_that_round_to_nothing_are_rejected() -> TxError {
    let mut genesis = genesis();
    genesis.tbill_rate = Rate::from_apr_bps(450);
    let mut market = Market::from_genesis(&genesis);
    market.mint(ALICE, whole(10));
    // 1 unit of USDC at 0.999: value floor(0.999) = 0.
    market.ok(ORACLE, Action::PostPrice { token: USDC, price: 999_000_000_000_000_000 });
    reject(&mut market, ALICE, mint(USDC, Amount(1)), ReserveError::OutputRoundsToZero);
    // After a day of yield the index is above 1: 1 unit of USDai buys floor(1 / index) = 0
    // TBILL.
    market.advance(DAY);
    reject(
        &mut market,
        ALICE,
        Action::RedeemUsdai { token: USDT, amount: Amount(1), min_out: Amount::ZERO },
        ReserveError::OutputRoundsToZero,
    )
}

fn a_replayed_gateway_external_id_is_rejected() -> TxError {
    let mut market = Market::new();
    let credit = |account| Action::GatewayCredit {
        account,
        token: USDC,
        amount: whole(5),
        external_id: B256::repeat_byte(0x42),
    };
    market.ok(ATTESTOR, credit(ALICE));
    // Neither to the same account nor to another: the id is spent.
    reject(&mut market, ATTESTOR, credit(ALICE), ReserveError::ExternalIdAlreadyCredited);
    reject(&mut market, ATTESTOR, credit(BOB), ReserveError::ExternalIdAlreadyCredited)
}

fn confirming_or_rejecting_an_unknown_payout_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ATTESTOR,
        Action::GatewayConfirm { payout_id: PayoutId(0), external_id: B256::repeat_byte(1) },
        ReserveError::PayoutNotFound,
    );
    reject(
        &mut market,
        ATTESTOR,
        Action::GatewayReject { payout_id: PayoutId(3), reason: "no".into() },
        ReserveError::PayoutNotFound,
    )
}

fn confirming_or_rejecting_a_settled_payout_is_rejected() -> TxError {
    let mut market = Market::new();
    for _ in 0..2 {
        market.ok(
            ALICE,
            Action::GatewayWithdraw { token: USDC, amount: whole(1), destination: "0xdest".into() },
        );
    }
    market.ok(
        ATTESTOR,
        Action::GatewayConfirm { payout_id: PayoutId(0), external_id: B256::repeat_byte(1) },
    );
    market.ok(ATTESTOR, Action::GatewayReject { payout_id: PayoutId(1), reason: "no".into() });
    for payout_id in [PayoutId(0), PayoutId(1)] {
        reject(
            &mut market,
            ATTESTOR,
            Action::GatewayConfirm { payout_id, external_id: B256::repeat_byte(2) },
            ReserveError::PayoutNotPending,
        );
        reject(
            &mut market,
            ATTESTOR,
            Action::GatewayReject { payout_id, reason: "again".into() },
            ReserveError::PayoutNotPending,
        );
    }
    ReserveError::PayoutNotPending.into()
}

fn invalid_payout_destinations_are_rejected() -> TxError {
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
            Action::GatewayWithdraw { token: USDC, amount: whole(1), destination },
            ReserveError::DestinationInvalid,
        );
    }
    market.ok(
        ALICE,
        Action::GatewayWithdraw {
            token: USDC,
            amount: whole(1),
            destination: "x".repeat(DESTINATION_LENGTH_MAX),
        },
    );
    ReserveError::DestinationInvalid.into()
}

fn a_tbill_rate_above_the_maximum_is_rejected() -> TxError {
    let mut market = Market::new();
    // The default maximum is 20% APR: floor(2,000 * 1e18 / 315,360,000,000) = 6,341,958,396.
    let max = Rate::from_apr_bps(2_000);
    assert_eq!(max, Rate(6_341_958_396));
    market.ok(ORACLE, Action::PostTbillRate { rate: max });
    reject(
        &mut market,
        ORACLE,
        Action::PostTbillRate { rate: Rate(max.0 + 1) },
        ReserveError::TbillRateExceedsMax,
    )
}

fn harvesting_with_no_surplus_is_rejected() -> TxError {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    // No T-bill yield: the reserve is worth exactly the supply.
    market.advance(30 * DAY);
    reject(&mut market, KEEPER, Action::HarvestBaseYield {}, ReserveError::BaseYieldSurplusIsZero)
}

fn confirming_two_payouts_with_one_external_id_is_rejected() -> TxError {
    let mut market = Market::new();
    for _ in 0..2 {
        market.ok(
            ALICE,
            Action::GatewayWithdraw { token: USDC, amount: whole(1), destination: "0xdest".into() },
        );
    }
    let paid = B256::repeat_byte(5);
    market.ok(ATTESTOR, Action::GatewayConfirm { payout_id: PayoutId(0), external_id: paid });
    reject(
        &mut market,
        ATTESTOR,
        Action::GatewayConfirm { payout_id: PayoutId(1), external_id: paid },
        ReserveError::ExternalIdAlreadyUsed,
    )
}

fn invalid_rejection_reasons_are_rejected() -> TxError {
    let mut market = Market::new();
    market.ok(
        ALICE,
        Action::GatewayWithdraw { token: USDC, amount: whole(1), destination: "0xdest".into() },
    );
    for reason in [String::new(), "r".repeat(REASON_LENGTH_MAX + 1), "tab\there".into()] {
        reject(
            &mut market,
            ATTESTOR,
            Action::GatewayReject { payout_id: PayoutId(0), reason },
            ReserveError::ReasonInvalid,
        );
    }
    market.ok(
        ATTESTOR,
        Action::GatewayReject { payout_id: PayoutId(0), reason: "r".repeat(REASON_LENGTH_MAX) },
    );
    ReserveError::ReasonInvalid.into()
}

// ---------------------------------------------------------------------------------------------
// Vault (4xx).

fn a_stake_too_small_to_buy_a_share_is_rejected() -> TxError {
    let mut market = funded_market();
    // A donation lifts the price above 1: 1 unit of USDai buys floor(1 * (500e18 + V) /
    // (600e18 + V)) = 0 share units.
    market.ok(ALICE, Action::DonateToVault { amount: whole(100) });
    reject(
        &mut market,
        ALICE,
        Action::Stake { assets: Amount(1), min_shares: Amount::ZERO },
        VaultError::SharesRoundToZero,
    )
}

fn a_stake_below_the_minimum_shares_is_rejected() -> TxError {
    let mut market = funded_market();
    // Price exactly 1: 10 USDai buy 10 sUSDai.
    reject(
        &mut market,
        ALICE,
        Action::Stake { assets: whole(10), min_shares: plus(whole(10), Amount(1)) },
        VaultError::SharesBelowMinimum,
    );
    market.ok(ALICE, Action::Stake { assets: whole(10), min_shares: whole(10) });
    VaultError::SharesBelowMinimum.into()
}

fn mint_shares_above_the_maximum_assets_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::MintShares { shares: whole(10), max_assets: minus(whole(10), Amount(1)) },
        VaultError::AssetsAboveMaximum,
    );
    market.ok(ALICE, Action::MintShares { shares: whole(10), max_assets: whole(10) });
    VaultError::AssetsAboveMaximum.into()
}

fn harvesting_or_donating_into_a_vault_with_no_shares_is_rejected() -> TxError {
    let mut genesis = genesis();
    genesis.tbill_rate = Rate::from_apr_bps(450);
    let mut market = Market::from_genesis(&genesis);
    market.mint(ALICE, whole(1_000_000));
    market.advance(30 * DAY);
    // A month of yield and nobody staked: it stays in the reserve, owned by no one yet.
    let code =
        reject(&mut market, KEEPER, Action::HarvestBaseYield {}, VaultError::VaultHasNoShares);
    reject(&mut market, ALICE, Action::DonateToVault { amount: whole(1) }, code);
    // With one holder there is someone to receive it.
    market.stake(ALICE, whole(1));
    market.ok(KEEPER, Action::HarvestBaseYield {});
    market.ok(ALICE, Action::DonateToVault { amount: whole(1) });
    code
}

// ---------------------------------------------------------------------------------------------
// Queue (5xx).

fn a_request_below_the_minimum_redeem_is_rejected() -> TxError {
    let mut market = funded_market();
    let code = reject(
        &mut market,
        ALICE,
        Action::RequestRedeem { shares: minus(whole(1), Amount(1)) },
        QueueError::SharesBelowMinimumRedeem,
    );
    market.ok(ALICE, Action::RequestRedeem { shares: whole(1) });
    code
}

fn a_request_beyond_the_active_requests_limit_is_rejected() -> TxError {
    let mut market = Market::with_params(|p| p.max_active_requests = 3);
    market.mint(ALICE, whole(10));
    market.stake(ALICE, whole(10));
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(Market::request_id(&market.ok(ALICE, Action::RequestRedeem { shares: whole(1) })));
    }
    let code = reject(
        &mut market,
        ALICE,
        Action::RequestRedeem { shares: whole(1) },
        QueueError::ActiveRequestsLimitReached,
    );
    // Served requests stop counting: after a round serves these three, Alice may ask again.
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue { max_requests: 10 });
    for id in &ids {
        market.ok(ALICE, Action::Claim { request_id: *id });
    }
    let mut again = Vec::new();
    for _ in 0..3 {
        again.push(Market::request_id(
            &market.ok(ALICE, Action::RequestRedeem { shares: whole(1) }),
        ));
    }
    reject(&mut market, ALICE, Action::RequestRedeem { shares: whole(1) }, code);
    // So do cancelled ones.
    market.ok(ALICE, Action::CancelRedeem { request_id: again[0] });
    market.ok(ALICE, Action::RequestRedeem { shares: whole(1) });
    code
}

fn cancelling_or_claiming_an_unknown_request_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::CancelRedeem { request_id: RequestId(0) },
        QueueError::RequestNotFound,
    );
    reject(
        &mut market,
        ALICE,
        Action::Claim { request_id: RequestId(7) },
        QueueError::RequestNotFound,
    )
}

fn only_the_owner_may_cancel_or_claim_a_request() -> TxError {
    let mut market = funded_market();
    let request_id =
        Market::request_id(&market.ok(ALICE, Action::RequestRedeem { shares: whole(5) }));
    reject(
        &mut market,
        BOB,
        Action::CancelRedeem { request_id },
        QueueError::SenderIsNotRequestOwner,
    );
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue { max_requests: 10 });
    reject(&mut market, BOB, Action::Claim { request_id }, QueueError::SenderIsNotRequestOwner)
}

fn cancelling_a_fully_served_request_is_rejected() -> TxError {
    let mut market = funded_market();
    let request_id =
        Market::request_id(&market.ok(ALICE, Action::RequestRedeem { shares: whole(5) }));
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue { max_requests: 10 });
    reject(
        &mut market,
        ALICE,
        Action::CancelRedeem { request_id },
        QueueError::RequestAlreadyServed,
    )
}

fn claiming_with_nothing_served_is_rejected() -> TxError {
    let mut market = funded_market();
    let request_id =
        Market::request_id(&market.ok(ALICE, Action::RequestRedeem { shares: whole(5) }));
    reject(&mut market, ALICE, Action::Claim { request_id }, QueueError::NothingToClaim)
}

fn a_round_before_the_round_interval_is_rejected() -> TxError {
    let mut market = funded_market();
    market.ok(KEEPER, Action::ServiceQueue { max_requests: 1 });
    market.advance(DAY - 1);
    let code = reject(
        &mut market,
        BOB,
        Action::ServiceQueue { max_requests: 1 },
        QueueError::RoundIntervalNotElapsed,
    );
    market.advance(1);
    market.ok(BOB, Action::ServiceQueue { max_requests: 1 });
    code
}

fn a_round_limit_of_zero_or_above_the_maximum_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        KEEPER,
        Action::ServiceQueue { max_requests: 0 },
        QueueError::RoundRequestLimitOutOfRange,
    );
    reject(
        &mut market,
        KEEPER,
        Action::ServiceQueue { max_requests: ROUND_REQUESTS_MAX + 1 },
        QueueError::RoundRequestLimitOutOfRange,
    );
    market.ok(KEEPER, Action::ServiceQueue { max_requests: ROUND_REQUESTS_MAX });
    QueueError::RoundRequestLimitOutOfRange.into()
}

// ---------------------------------------------------------------------------------------------
// The tables.

#[test]
fn every_result_code_is_produced_by_a_case_or_listed_as_unreachable() {
    // Each case's code must have been checked by `reject` while it ran (not merely returned),
    // and the cases come in the order of their codes, as the codes are declared.
    let mut produced: BTreeSet<u16> = BTreeSet::new();
    let mut previous = 0;
    for (name, case) in CASES {
        PRODUCED.with(|seen| seen.borrow_mut().clear());
        let code = case().code();
        let seen = PRODUCED.with(|seen| seen.borrow().clone());
        assert!(
            seen.contains(&code),
            "{name} returns {code} but never checked a rejection with it"
        );
        assert!(code >= previous, "{name} ({code}) is out of code order");
        previous = code;
        produced.extend(seen);
    }
    let unreachable: BTreeSet<u16> = UNREACHABLE.iter().map(|(e, _)| e.code()).collect();
    for (error, reason) in UNREACHABLE {
        assert!(
            !produced.contains(&error.code()),
            "{error} is listed unreachable but a case produces it"
        );
        assert!(reason.len() > 20, "{error} needs a real reason");
    }
    let mut missing = Vec::new();
    for error in TxError::all() {
        if !produced.contains(&error.code()) && !unreachable.contains(&error.code()) {
            missing.push(error.to_string());
        }
    }
    assert!(missing.is_empty(), "codes with no case and no reason: {missing:#?}");
    // No case or reason names a code that does not exist.
    let all: BTreeSet<u16> = TxError::all().iter().map(|e| e.code()).collect();
    assert!(produced.is_subset(&all) && unreachable.is_subset(&all));
    assert_eq!(produced.len() + unreachable.len(), all.len());
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
    market.ok(GUARDIAN, Action::SetPause { scope: PauseScope::Minting, paused: true });
    market.ok(COMPLIANCE, Action::Freeze { account: KEEPER });
    market.advance(DAY + 1);
    let tx = |token: Symbol, amount: Amount, min_out: Amount| Transaction {
        sender: KEEPER,
        action: Action::MintUsdai { token, amount, min_out },
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
    market.ok(GUARDIAN, Action::SetPause { scope: PauseScope::Minting, paused: false });
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        LedgerError::SenderIsFrozen.into(),
    );
    market.ok(COMPLIANCE, Action::Unfreeze { account: KEEPER });
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        ReserveError::SenderNotKycVerified.into(),
    );
    market.ok(REGISTRAR, Action::SetKyc { account: KEEPER, verified: true });
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        ReserveError::PriceIsStale.into(),
    );
    market.ok(ORACLE, Action::PostPrice { token: USDC, price: 980_000_000_000_000_000 });
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        ReserveError::PriceOutsideDepegTolerance.into(),
    );
    market.ok(ORACLE, Action::PostPrice { token: USDC, price: WAD });
    assert_rejected(
        &mut market,
        tx(USDC, whole(100), whole(1_000)),
        LedgerError::BalanceInsufficient.into(),
    );
    market.ok(
        ATTESTOR,
        Action::GatewayCredit {
            account: KEEPER,
            token: USDC,
            amount: whole(100),
            external_id: B256::ZERO,
        },
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
    market.ok(ADMIN, Action::SetParameter { change: ParameterChange::UsdaiSupplyCap(whole(100)) });
    market.ok(KEEPER, Action::MintUsdai { token: USDC, amount: whole(100), min_out: whole(100) });
}
