//! Every rejection path: each case sets up a market, sends a transaction that must fail, and
//! checks the result code (variant and stable number) and that the state hash did not move
//! (`assert_rejected`). Cases are listed in the order of the codes they prove.
//!
//! `every_result_code_is_produced_by_a_case_or_listed_as_unreachable` walks `TxError::all()`:
//! each code is either returned by a case here (it runs them all and collects what they
//! returned, so a case cannot claim a code it does not produce), listed in `UNREACHABLE`
//! with the reason no transaction can reach it, or delegated in `PROVEN_ELSEWHERE` to the test
//! file whose own table proves it (the QEV codes, 9xx, by `qev_result_codes.rs`; the nonce
//! code 109 by the node's replica test, since `apply` takes no nonce; 310, which SPEC 14.2
//! keeps out of reach of transactions, by the reserve's unit test). Numbering without gaps
//! within each family is checked beside the codes (`error.rs`).

// The harness (not the state machine) keeps per-thread state: see `produced`.
#![allow(clippy::disallowed_macros)]

use infrafi_core::{
    Action, Address, Amount, Asset, AssetClassId, BlockContext, Bps, LoanId, ParameterChange, Rate,
    ReceiptId, Role, SiloId, Symbol, Transaction, TxError, WAD,
    action::{
        AcceptLoan, AddAssetClass, AddStablecoin, AmendReceipt, ApplyGenerationStepDown,
        AssignSuccessorCurator, AttachPolicy, CancelLoanProposal, CancelRedeem, Claim,
        ClaimLoanSurplus, DepositFirstLoss, DonateToVault, DrawDebtServiceReserve, ForecloseLoan,
        Freeze, FundDebtServiceReserve, GatewayConfirm, GatewayCredit, GatewayReject,
        GatewayWithdraw, GrantRole, HarvestBaseYield, IssueReceipt, MintShares, MintUsdai,
        OpenSilo, PayCasualtyClaim, PayInsuranceClaim, PledgeReceipts, PostBorrowerReport,
        PostPrice, PostReserveAttestation, PostTbillRate, PostValuation, PrepayLoan, ProposeLoan,
        RedeemReceipt, RedeemUsdai, ReleaseReceipt, RemarkLoans, RenewPolicy, RepayLoan,
        ReportSale, RequestReceiptRedemption, RequestRedeem, RevokeRole, ServiceQueue, SetKyc,
        SetLoanCovenants, SetParameter, SetPause, SetSiloFrozen, SetSiloSeniorCap, Stake, Transfer,
        TransferReceipt, TransferRequest, TriggerDefault, Unfreeze, WithdrawFirstLoss,
    },
    begin_block,
    governance::{GovernanceError, PENDING_CHANGES_MAX},
    ids::{B256, PayoutId, RequestId, USDC, USDT},
    ledger::LedgerError,
    loans::{self, LoanError, LoanTerms, REMARK_BATCH_MAX, SaleReport},
    params::{DURATION_SECS_MAX, PauseScope},
    qev::QevError,
    queue::{QueueError, ROUND_REQUESTS_MAX},
    receipts::ReceiptError,
    reserve::{DESTINATION_LENGTH_MAX, PRICE_MAX, REASON_LENGTH_MAX, ReserveError},
    silos::{SiloError, SiloTerms},
    vault::VaultError,
};
use infrafi_testkit::market::*;
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

/// The codes `reject` has seen on this thread (each test runs on its own thread). The test
/// harness, not the state machine: the core's ban on per-thread state and interior mutability
/// (crates/core/clippy.toml) guards `src/`.
#[allow(clippy::disallowed_types)]
mod produced {
    use std::{cell::RefCell, collections::BTreeSet};

    std::thread_local! {
        pub static PRODUCED: RefCell<BTreeSet<u16>> = const { RefCell::new(BTreeSet::new()) };
    }
}
use produced::PRODUCED;

/// A market where Alice holds 1,000 USDai and 500 sUSDai (price 1).
fn funded_market() -> Market {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_500));
    market.stake(ALICE, whole(500));
    market
}

fn mint(token: Symbol, amount: Amount) -> Action {
    Action::MintUsdai(MintUsdai { token, amount, min_out: Amount::ZERO })
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
    a_block_lower_than_the_state_height_is_rejected,
    tokens_receipts_and_requests_cannot_be_sent_to_the_zero_address,
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
    an_admin_cannot_hand_a_role_to_the_zero_address_and_leave_no_usable_admin,
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
    issuing_usdai_needs_a_fresh_attestation_that_covers_it,
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
    a_round_limit_that_would_cut_the_round_short_is_rejected,
    asset_classes_are_registered_once_with_sane_terms_and_stepped_down_within_range,
    a_receipt_must_exist_and_only_its_custodian_or_owner_may_act_on_it,
    a_pledged_or_closed_receipt_cannot_be_transferred_released_or_redeemed,
    a_receipt_stands_for_at_least_one_unit_and_has_printable_text,
    policies_attach_once_and_renew_by_their_insurer_later_and_with_coverage,
    a_valuation_must_not_be_zero,
    a_receipt_is_redeemed_only_once_released_and_asked_for_once,
    a_receipt_cannot_be_transferred_to_its_owner,
    only_insured_sufficiently_covered_and_freshly_valued_receipts_are_collateral,
    only_an_issued_receipt_is_released_by_its_custodian,
    a_silo_must_exist_and_only_its_curator_may_run_it,
    silo_terms_need_registered_classes_ordered_limits_and_a_bounded_fee,
    a_frozen_silo_makes_no_loans,
    only_a_frozen_silo_is_assigned_a_successor,
    first_loss_capital_leaves_only_above_its_requirement_and_never_while_a_loan_is_impaired,
    loans_stay_within_the_silo_cap_the_borrower_concentration_and_the_silo_classes,
    a_successor_must_be_a_curator_and_a_freeze_must_change_something,
    a_loan_needs_first_loss_capital_for_its_senior_exposure,
    a_successor_curator_cannot_move_the_original_curators_capital,
    a_silo_cannot_be_unfrozen_for_a_successor_while_the_original_capital_remains,
    a_loan_must_exist_and_only_its_borrower_may_accept_pledge_or_claim,
    loan_terms_need_a_principal_receipts_periods_and_bounded_rates_fees_and_expiry,
    a_proposal_is_accepted_once_and_before_it_expires,
    a_loan_that_is_not_active_is_neither_paid_nor_defaulted,
    origination_keeps_the_initial_ltv_and_pledges_only_the_borrowers_receipts,
    origination_keeps_the_vaults_deployment_limit_and_liquidity_buffer,
    a_payment_above_the_senders_maximum_is_rejected,
    a_loan_past_its_grace_period_can_only_be_defaulted,
    foreclosure_hands_a_defaulted_loan_to_one_liquidation_agent,
    sales_and_insurance_claims_need_a_foreclosed_receipt_and_amounts_within_bounds,
    a_prepayment_is_at_most_the_balance_and_waits_for_missed_payments,
    a_loan_pledges_each_receipt_once,
    a_remark_covers_one_to_ten_thousand_loans,
    only_the_curator_or_the_borrower_may_cancel_a_proposal,
    a_surplus_is_claimed_once_and_only_when_there_is_one,
    origination_leaves_idle_what_the_redemption_queue_is_owed,
    debt_service_reserves_and_reports_follow_their_covenants,
    a_casualty_claim_pays_only_on_a_receipt_of_an_active_loan,
}

/// Codes no test can produce, each with the reason (none: a code nothing can reach is either
/// proven by a unit test that breaks the state on purpose, see `PROVEN_ELSEWHERE`, or retired
/// into `error::RESERVED_CODES`).
const UNREACHABLE: &[(TxError, &str)] = &[];

/// A family of codes whose cases live in another test binary, which has its own table.
struct ProvenElsewhere {
    /// Every code of the family.
    codes: fn() -> Vec<TxError>,
    /// The test file (in `tests/`) that proves them.
    file: &'static str,
    /// Its source, to check that its table is still there.
    source: &'static str,
    /// Lines of the source that make its table cover the whole family: the table test, and
    /// the expression that runs one story per code and compares it with that exact code.
    table: &'static [&'static str],
}

/// Codes delegated to another file's table. The QEV codes (9xx) are proven one story per
/// code, in declaration order, by `every_qev_result_code_has_a_story_in_declaration_order` in
/// `qev_result_codes.rs` over `QevError::ALL`, against the QEV test market (requests, bids,
/// rounds, sealed bids); the table below checks that the delegation covers exactly that
/// family and that the other table still exists and walks all of it.
const PROVEN_ELSEWHERE: &[ProvenElsewhere] = &[
    ProvenElsewhere {
        codes: || QevError::ALL.iter().map(|&code| TxError::Qev(code)).collect(),
        file: "qev_result_codes.rs",
        source: include_str!("qev_result_codes.rs"),
        table: &[
            "fn every_qev_result_code_has_a_story_in_declaration_order()",
            "QevError::ALL.iter().map(|&code| story(code)).collect()",
            "QevError::ALL.iter().map(|&code| TxError::Qev(code)).collect()",
            "assert_eq!(produced, expected);",
        ],
    },
    // `apply` takes no nonce: the node consumes it first (`tx::consume_nonce`). A block whose
    // transaction replays a used nonce reaches it through a validator's re-execution, which
    // refuses the block with this code: the node's replica test sends one.
    ProvenElsewhere {
        codes: || vec![TxError::Ledger(LedgerError::NonceMismatch)],
        file: "../../node/tests/replica.rs",
        source: include_str!("../../node/tests/replica.rs"),
        table: &[
            "ReplicaError::Chain(ChainError::TransactionRefused { index: 0, error }) => {",
            "assert_eq!((error.code(), error.name()), (109, \"nonce_mismatch\"));",
        ],
    },
    // No transaction reaches it while SPEC 14.2 holds (checked after every transaction here:
    // the reserve is worth at least the USDai supply, so the TBILL a redemption draws is
    // always held). The reserve's unit test breaks the invariant from inside the crate and
    // shows the guard refuses with this code instead of underflowing.
    ProvenElsewhere {
        codes: || vec![TxError::Reserve(ReserveError::ReserveBackingInsufficient)],
        file: "../src/reserve.rs",
        source: include_str!("../src/reserve.rs"),
        table: &[
            "fn a_redemption_the_reserve_cannot_back_is_refused_with_its_code()",
            "assert_eq!(refused, ReserveError::ReserveBackingInsufficient.into());",
        ],
    },
];

// ---------------------------------------------------------------------------------------------
// Ledger (1xx).

fn zero_amounts_are_rejected_by_every_action_that_moves_value() -> TxError {
    let mut market = funded_market();
    let zero = Amount::ZERO;
    let actions = [
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: zero }),
        Action::Transfer(Transfer { asset: Asset::Tbill, to: BOB, amount: zero }),
        mint(USDC, zero),
        Action::RedeemUsdai(RedeemUsdai { token: USDC, amount: zero, min_out: zero }),
        Action::Stake(Stake { assets: zero, min_shares: zero }),
        Action::MintShares(MintShares { shares: zero, max_assets: whole(1) }),
        Action::DonateToVault(DonateToVault { amount: zero }),
        Action::RequestRedeem(RequestRedeem { shares: zero }),
        Action::GatewayWithdraw(GatewayWithdraw {
            token: USDC,
            amount: zero,
            destination: "0xdest".into(),
        }),
    ];
    for action in actions {
        reject(&mut market, ALICE, action, LedgerError::AmountMustNotBeZero);
    }
    let credit = Action::GatewayCredit(GatewayCredit {
        account: ALICE,
        token: USDC,
        amount: zero,
        external_id: B256::repeat_byte(1),
    });
    reject(&mut market, ATTESTOR, credit, LedgerError::AmountMustNotBeZero)
}

fn spending_more_than_the_balance_is_rejected_by_every_action_that_spends() -> TxError {
    let mut market = funded_market();
    // Alice: 1,000 USDai, 500 sUSDai, 998,500 USDC, 1,000,000 USDT.
    let over_usdai = plus(whole(1_000), Amount(1));
    let actions = [
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: over_usdai }),
        Action::Transfer(Transfer {
            asset: Asset::Susdai,
            to: BOB,
            amount: plus(whole(500), Amount(1)),
        }),
        Action::Transfer(Transfer {
            asset: Asset::Stablecoin(USDT),
            to: BOB,
            amount: plus(whole(USER_STABLECOIN_WHOLE), Amount(1)),
        }),
        mint(USDT, plus(whole(USER_STABLECOIN_WHOLE), Amount(1))),
        Action::RedeemUsdai(RedeemUsdai { token: USDC, amount: over_usdai, min_out: Amount::ZERO }),
        Action::Stake(Stake { assets: over_usdai, min_shares: Amount::ZERO }),
        Action::MintShares(MintShares { shares: over_usdai, max_assets: Amount::MAX }),
        Action::DonateToVault(DonateToVault { amount: over_usdai }),
        Action::RequestRedeem(RequestRedeem { shares: plus(whole(500), Amount(1)) }),
        Action::GatewayWithdraw(GatewayWithdraw {
            token: USDT,
            amount: plus(whole(USER_STABLECOIN_WHOLE), Amount(1)),
            destination: "0xdest".into(),
        }),
    ];
    for action in actions {
        reject(&mut market, ALICE, action, LedgerError::BalanceInsufficient);
    }
    // The exact balance is fine.
    market.ok(
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1_000) }),
    );
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: Amount(1) }),
        LedgerError::BalanceInsufficient,
    )
}

fn a_credit_that_would_overflow_a_balance_is_rejected_as_arithmetic_overflow() -> TxError {
    let mut market = Market::new();
    // Alice already holds 1,000,000 USDC; u128::MAX more does not fit.
    let credit = Action::GatewayCredit(GatewayCredit {
        account: ALICE,
        token: USDC,
        amount: Amount::MAX,
        external_id: B256::repeat_byte(9),
    });
    let code = reject(&mut market, ATTESTOR, credit, LedgerError::ArithmeticOverflow);
    // The id was not spent by the rejected credit: it can still credit a sane amount.
    market.ok(
        ATTESTOR,
        Action::GatewayCredit(GatewayCredit {
            account: ALICE,
            token: USDC,
            amount: whole(1),
            external_id: B256::repeat_byte(9),
        }),
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
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1) }),
        LedgerError::BlockTimeMustNotDecrease,
    )
}

fn a_frozen_sender_cannot_send_usdai_or_susdai() -> TxError {
    let mut market = funded_market();
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: ALICE }));
    for asset in [Asset::Usdai, Asset::Susdai] {
        reject(
            &mut market,
            ALICE,
            Action::Transfer(Transfer { asset, to: BOB, amount: whole(1) }),
            LedgerError::SenderIsFrozen,
        );
    }
    reject(
        &mut market,
        ALICE,
        Action::RequestRedeem(RequestRedeem { shares: whole(1) }),
        LedgerError::SenderIsFrozen,
    )
}

fn a_frozen_recipient_cannot_receive_usdai_or_susdai() -> TxError {
    let mut market = funded_market();
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: BOB }));
    for asset in [Asset::Usdai, Asset::Susdai] {
        reject(
            &mut market,
            ALICE,
            Action::Transfer(Transfer { asset, to: BOB, amount: whole(1) }),
            LedgerError::RecipientIsFrozen,
        );
    }
    // Stablecoins are not covered by a freeze.
    market.ok(
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Stablecoin(USDC), to: BOB, amount: whole(1) }),
    );
    LedgerError::RecipientIsFrozen.into()
}

fn tbill_cannot_be_transferred_between_users() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Tbill, to: BOB, amount: whole(1) }),
        LedgerError::AssetIsNotTransferable,
    )
}

fn a_transfer_to_oneself_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: ALICE, amount: whole(1) }),
        LedgerError::RecipientMustNotBeSender,
    )
}

fn tokens_receipts_and_requests_cannot_be_sent_to_the_zero_address() -> TxError {
    let (mut market, _, receipt) = credit_market();
    let code = reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: Address::ZERO, amount: whole(1) }),
        LedgerError::RecipientMustNotBeZero,
    );
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer {
            asset: Asset::Stablecoin(USDC),
            to: Address::ZERO,
            amount: whole(1),
        }),
        code,
    );
    reject(
        &mut market,
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: receipt, to: Address::ZERO }),
        code,
    );
    let request_id = RequestId(market.state.queue.globals.get().next_request_id);
    market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) }));
    reject(
        &mut market,
        ALICE,
        Action::TransferRequest(TransferRequest { request_id, to: Address::ZERO }),
        code,
    )
}

fn an_unsupported_stablecoin_cannot_be_transferred() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Stablecoin(DAI), to: BOB, amount: whole(1) }),
        LedgerError::AssetIsNotSupported,
    )
}

fn a_block_lower_than_the_state_height_is_rejected() -> TxError {
    let mut market = Market::new();
    market.advance(HOUR);
    market.mint(ALICE, whole(10));
    let before = market.state.state_hash();
    // A lower block at the same time, or even later, is refused by the upkeep and by `apply`.
    let lower = BlockContext { height: market.block.height - 1, timestamp: market.now() };
    let lower_later = BlockContext { timestamp: market.now() + 1, ..lower };
    for block in [lower, lower_later] {
        assert_eq!(
            begin_block(&mut market.state, &block),
            Err(LedgerError::BlockHeightMustNotDecrease.into())
        );
        assert_eq!(market.state.state_hash(), before);
    }
    market.block = lower;
    let code = reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1) }),
        LedgerError::BlockHeightMustNotDecrease,
    );
    // Several transactions share a block: its own height is fine, and so is the next one.
    for height in [lower.height + 1, lower.height + 2] {
        market.block = BlockContext { height, timestamp: market.now() };
        market.ok(
            ALICE,
            Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1) }),
        );
    }
    code
}

// ---------------------------------------------------------------------------------------------
// Governance (2xx).

fn every_privileged_action_rejects_every_address_without_its_role() -> TxError {
    let mut market = funded_market();
    // A pending payout, so confirm and reject are otherwise valid.
    market.ok(
        ALICE,
        Action::GatewayWithdraw(GatewayWithdraw {
            token: USDC,
            amount: whole(1),
            destination: "0xdest".into(),
        }),
    );
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: DAVE }));
    // Credit objects, so that each credit role's action is otherwise valid.
    let silo = market.open_silo(whole(1_000), whole(10_000));
    let receipt = market.issue_receipt(BORROWER, 1, whole(30_000));
    let bare = ReceiptId(*market.state.receipts.next_receipt_id.get());
    let description = gpu_receipt(1);
    market.ok(
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt { class: GPU, owner: BORROWER, description }),
    );
    let expires_at = market.now() + 365 * DAY;
    let policy_id = B256::repeat_byte(0x71);
    let gpu_silo = SiloTerms { eligible_classes: vec![GPU], ..SiloTerms::default() };
    let privileged: Vec<(Role, Action)> = vec![
        (Role::Admin, Action::GrantRole(GrantRole { role: Role::Curator, account: BOB })),
        (Role::Admin, Action::RevokeRole(RevokeRole { role: Role::Oracle, account: ORACLE })),
        (
            Role::Admin,
            Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(10)) }),
        ),
        (Role::Admin, Action::AddStablecoin(AddStablecoin { token: DAI })),
        (Role::Guardian, Action::SetPause(SetPause { scope: PauseScope::Minting, paused: true })),
        (Role::Compliance, Action::Freeze(Freeze { account: CAROL })),
        (Role::Compliance, Action::Unfreeze(Unfreeze { account: DAVE })),
        (Role::KycRegistrar, Action::SetKyc(SetKyc { account: CAROL, verified: true })),
        (Role::Oracle, Action::PostPrice(PostPrice { token: USDC, price_wad: WAD })),
        (Role::Oracle, Action::PostTbillRate(PostTbillRate { rate: Rate::from_apr_bps(400) })),
        (
            Role::ReserveCustodian,
            Action::PostReserveAttestation(PostReserveAttestation {
                par_amount: whole(1_000),
                market_value: whole(990),
                as_of: market.now(),
                document_hash: B256::repeat_byte(0x5a),
            }),
        ),
        (
            Role::GatewayAttestor,
            Action::GatewayCredit(GatewayCredit {
                account: BOB,
                token: USDC,
                amount: whole(1),
                external_id: B256::repeat_byte(7),
            }),
        ),
        (
            Role::GatewayAttestor,
            Action::GatewayConfirm(GatewayConfirm {
                payout_id: PayoutId(0),
                external_id: B256::repeat_byte(8),
            }),
        ),
        (
            Role::GatewayAttestor,
            Action::GatewayReject(GatewayReject { payout_id: PayoutId(0), reason: "no".into() }),
        ),
        (Role::Admin, Action::AddAssetClass(AddAssetClass { class: B200, terms: gpu_terms() })),
        (
            Role::Admin,
            Action::ApplyGenerationStepDown(ApplyGenerationStepDown {
                class: GPU,
                step_down_bps: Bps(100),
            }),
        ),
        (Role::Admin, Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: silo, cap: whole(1) })),
        (Role::Admin, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true })),
        (
            Role::Custodian,
            Action::IssueReceipt(IssueReceipt {
                class: GPU,
                owner: BORROWER,
                description: gpu_receipt(2),
            }),
        ),
        (Role::Custodian, Action::ReleaseReceipt(ReleaseReceipt { receipt_id: bare })),
        (
            Role::Appraiser,
            Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(1) }),
        ),
        (
            Role::Insurer,
            Action::AttachPolicy(AttachPolicy {
                receipt_id: bare,
                policy_id,
                coverage: ONE,
                expires_at,
            }),
        ),
        (Role::Curator, Action::OpenSilo(OpenSilo { terms: gpu_silo })),
        (
            Role::Curator,
            Action::ProposeLoan(ProposeLoan {
                silo_id: silo,
                terms: senior_loan(receipt, whole(1_000), 0, market.now()),
            }),
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
    market.ok(ADMIN, Action::RevokeRole(RevokeRole { role: Role::Oracle, account: ORACLE }));
    reject(
        &mut market,
        ORACLE,
        Action::PostPrice(PostPrice { token: USDC, price_wad: WAD }),
        GovernanceError::SenderLacksRole,
    )
}

fn granting_a_role_twice_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ADMIN,
        Action::GrantRole(GrantRole { role: Role::Oracle, account: ORACLE }),
        GovernanceError::RoleAlreadyGranted,
    )
}

fn revoking_a_role_not_held_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ADMIN,
        Action::RevokeRole(RevokeRole { role: Role::Oracle, account: ALICE }),
        GovernanceError::RoleNotGranted,
    )
}

fn the_last_admin_cannot_be_revoked() -> TxError {
    let mut market = Market::new();
    let code = reject(
        &mut market,
        ADMIN,
        Action::RevokeRole(RevokeRole { role: Role::Admin, account: ADMIN }),
        GovernanceError::LastAdminCannotBeRevoked,
    );
    // With a second admin, either may go.
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Admin, account: BOB }));
    market.ok(BOB, Action::RevokeRole(RevokeRole { role: Role::Admin, account: ADMIN }));
    reject(
        &mut market,
        BOB,
        Action::RevokeRole(RevokeRole { role: Role::Admin, account: BOB }),
        code,
    )
}

fn an_admin_cannot_hand_a_role_to_the_zero_address_and_leave_no_usable_admin() -> TxError {
    // The attack: grant admin to 0x0 (a second "admin" for the last-admin rule), then revoke
    // one's own, leaving a protocol nobody can govern.
    let mut market = Market::new();
    let code = reject(
        &mut market,
        ADMIN,
        Action::GrantRole(GrantRole { role: Role::Admin, account: Address::ZERO }),
        GovernanceError::RoleAccountMustNotBeZero,
    );
    reject(
        &mut market,
        ADMIN,
        Action::RevokeRole(RevokeRole { role: Role::Admin, account: ADMIN }),
        GovernanceError::LastAdminCannotBeRevoked,
    );
    reject(
        &mut market,
        ADMIN,
        Action::GrantRole(GrantRole { role: Role::Oracle, account: Address::ZERO }),
        code,
    );
    // Nor can a genesis start with one.
    let mut genesis = genesis();
    genesis.roles.push((Role::Admin, Address::ZERO));
    assert!(infrafi_core::State::from_genesis(&genesis).is_err());
    code
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
            Action::SetParameter(SetParameter { change }),
            GovernanceError::ParameterValueOutOfRange,
        );
    }
    // The edges themselves are valid.
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(10_000)) }),
    );
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MaxActiveRequests(1_000) }),
    );
    GovernanceError::ParameterValueOutOfRange.into()
}

fn freezing_a_frozen_account_is_rejected() -> TxError {
    let mut market = Market::new();
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: BOB }));
    reject(
        &mut market,
        COMPLIANCE,
        Action::Freeze(Freeze { account: BOB }),
        GovernanceError::AccountAlreadyFrozen,
    )
}

fn unfreezing_an_account_not_frozen_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        COMPLIANCE,
        Action::Unfreeze(Unfreeze { account: BOB }),
        GovernanceError::AccountNotFrozen,
    )
}

fn a_pause_that_changes_nothing_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        GUARDIAN,
        Action::SetPause(SetPause { scope: PauseScope::Staking, paused: false }),
        GovernanceError::PauseStateUnchanged,
    );
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Staking, paused: true }));
    reject(
        &mut market,
        GUARDIAN,
        Action::SetPause(SetPause { scope: PauseScope::Staking, paused: true }),
        GovernanceError::PauseStateUnchanged,
    )
}

fn a_kyc_status_that_changes_nothing_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        REGISTRAR,
        Action::SetKyc(SetKyc { account: BOB, verified: false }),
        GovernanceError::KycStatusUnchanged,
    );
    market.ok(REGISTRAR, Action::SetKyc(SetKyc { account: BOB, verified: true }));
    reject(
        &mut market,
        REGISTRAR,
        Action::SetKyc(SetKyc { account: BOB, verified: true }),
        GovernanceError::KycStatusUnchanged,
    )
}

fn paused_minting_and_staking_are_rejected() -> TxError {
    let mut market = funded_market();
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Minting, paused: true }));
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Staking, paused: true }));
    reject(&mut market, ALICE, mint(USDC, whole(1)), GovernanceError::ActionIsPaused);
    reject(
        &mut market,
        ALICE,
        Action::Stake(Stake { assets: whole(1), min_shares: Amount::ZERO }),
        GovernanceError::ActionIsPaused,
    );
    reject(
        &mut market,
        ALICE,
        Action::MintShares(MintShares { shares: whole(1), max_assets: whole(2) }),
        GovernanceError::ActionIsPaused,
    )
}

fn scheduling_beyond_the_pending_changes_limit_is_rejected() -> TxError {
    let mut market = Market::new();
    // Each increase of the mint fee reduces users' rights and waits: 256 fill the schedule.
    for bps in 1..=PENDING_CHANGES_MAX as u32 {
        market.ok(
            ADMIN,
            Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(bps)) }),
        );
    }
    assert_eq!(market.state.governance.pending_changes.len(), PENDING_CHANGES_MAX);
    let code = reject(
        &mut market,
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(1_000)) }),
        GovernanceError::PendingChangesLimitReached,
    );
    // A change that favours users does not wait, so it is never blocked by the limit.
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MaxPriceAgeSecs(HOUR) }),
    );
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

fn adding_a_supported_stablecoin_again_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ADMIN,
        Action::AddStablecoin(AddStablecoin { token: USDT }),
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

fn minting_from_a_stablecoin_off_peg_is_rejected() -> TxError {
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

fn prices_of_zero_or_above_two_are_rejected() -> TxError {
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

fn mint_and_redeem_that_round_to_nothing_are_rejected() -> TxError {
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

fn a_replayed_gateway_external_id_is_rejected() -> TxError {
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

fn confirming_or_rejecting_an_unknown_payout_is_rejected() -> TxError {
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

fn confirming_or_rejecting_a_settled_payout_is_rejected() -> TxError {
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

fn a_tbill_rate_above_the_maximum_is_rejected() -> TxError {
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

fn harvesting_with_no_surplus_is_rejected() -> TxError {
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

fn issuing_usdai_needs_a_fresh_attestation_that_covers_it() -> TxError {
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

fn confirming_two_payouts_with_one_external_id_is_rejected() -> TxError {
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

fn invalid_rejection_reasons_are_rejected() -> TxError {
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

// ---------------------------------------------------------------------------------------------
// Vault (4xx).

fn a_stake_too_small_to_buy_a_share_is_rejected() -> TxError {
    let mut market = funded_market();
    // A donation lifts the price above 1: 1 unit of USDai buys floor(1 * (500e18 + V) /
    // (600e18 + V)) = 0 share units.
    market.ok(ALICE, Action::DonateToVault(DonateToVault { amount: whole(100) }));
    reject(
        &mut market,
        ALICE,
        Action::Stake(Stake { assets: Amount(1), min_shares: Amount::ZERO }),
        VaultError::SharesRoundToZero,
    )
}

fn a_stake_below_the_minimum_shares_is_rejected() -> TxError {
    let mut market = funded_market();
    // Price exactly 1: 10 USDai buy 10 sUSDai.
    reject(
        &mut market,
        ALICE,
        Action::Stake(Stake { assets: whole(10), min_shares: plus(whole(10), Amount(1)) }),
        VaultError::SharesBelowMinimum,
    );
    market.ok(ALICE, Action::Stake(Stake { assets: whole(10), min_shares: whole(10) }));
    VaultError::SharesBelowMinimum.into()
}

fn mint_shares_above_the_maximum_assets_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::MintShares(MintShares {
            shares: whole(10),
            max_assets: minus(whole(10), Amount(1)),
        }),
        VaultError::AssetsAboveMaximum,
    );
    market.ok(ALICE, Action::MintShares(MintShares { shares: whole(10), max_assets: whole(10) }));
    VaultError::AssetsAboveMaximum.into()
}

fn harvesting_or_donating_into_a_vault_with_no_shares_is_rejected() -> TxError {
    let mut genesis = genesis();
    genesis.tbill_rate = Rate::from_apr_bps(450);
    let mut market = Market::from_genesis(&genesis);
    market.mint(ALICE, whole(1_000_000));
    market.advance(30 * DAY);
    // A month of yield and nobody staked: it stays in the reserve, owned by no one yet.
    let code = reject(
        &mut market,
        KEEPER,
        Action::HarvestBaseYield(HarvestBaseYield {}),
        VaultError::VaultHasNoShares,
    );
    reject(&mut market, ALICE, Action::DonateToVault(DonateToVault { amount: whole(1) }), code);
    // With one holder there is someone to receive it.
    market.stake(ALICE, whole(1));
    market.ok(KEEPER, Action::HarvestBaseYield(HarvestBaseYield {}));
    market.ok(ALICE, Action::DonateToVault(DonateToVault { amount: whole(1) }));
    code
}

// ---------------------------------------------------------------------------------------------
// Queue (5xx).

fn a_request_below_the_minimum_redeem_is_rejected() -> TxError {
    let mut market = funded_market();
    let code = reject(
        &mut market,
        ALICE,
        Action::RequestRedeem(RequestRedeem { shares: minus(whole(1), Amount(1)) }),
        QueueError::SharesBelowMinimumRedeem,
    );
    market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) }));
    code
}

fn a_request_beyond_the_active_requests_limit_is_rejected() -> TxError {
    let mut market = Market::with_params(|p| p.max_active_requests = 3);
    market.mint(ALICE, whole(10));
    market.stake(ALICE, whole(10));
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(Market::request_id(
            &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) })),
        ));
    }
    let code = reject(
        &mut market,
        ALICE,
        Action::RequestRedeem(RequestRedeem { shares: whole(1) }),
        QueueError::ActiveRequestsLimitReached,
    );
    // Served requests stop counting: after a round serves these three, Alice may ask again.
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    for id in &ids {
        market.ok(ALICE, Action::Claim(Claim { request_id: *id }));
    }
    let mut again = Vec::new();
    for _ in 0..3 {
        again.push(Market::request_id(
            &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) })),
        ));
    }
    reject(&mut market, ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) }), code);
    // So do cancelled ones.
    market.ok(ALICE, Action::CancelRedeem(CancelRedeem { request_id: again[0] }));
    market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) }));
    code
}

fn cancelling_or_claiming_an_unknown_request_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::CancelRedeem(CancelRedeem { request_id: RequestId(0) }),
        QueueError::RequestNotFound,
    );
    reject(
        &mut market,
        ALICE,
        Action::Claim(Claim { request_id: RequestId(7) }),
        QueueError::RequestNotFound,
    )
}

fn only_the_owner_may_cancel_or_claim_a_request() -> TxError {
    let mut market = funded_market();
    let request_id = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(5) })),
    );
    reject(
        &mut market,
        BOB,
        Action::CancelRedeem(CancelRedeem { request_id }),
        QueueError::SenderIsNotRequestOwner,
    );
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    reject(
        &mut market,
        BOB,
        Action::Claim(Claim { request_id }),
        QueueError::SenderIsNotRequestOwner,
    )
}

fn cancelling_a_fully_served_request_is_rejected() -> TxError {
    let mut market = funded_market();
    let request_id = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(5) })),
    );
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    reject(
        &mut market,
        ALICE,
        Action::CancelRedeem(CancelRedeem { request_id }),
        QueueError::RequestAlreadyServed,
    )
}

fn claiming_with_nothing_served_is_rejected() -> TxError {
    let mut market = funded_market();
    let request_id = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(5) })),
    );
    reject(&mut market, ALICE, Action::Claim(Claim { request_id }), QueueError::NothingToClaim)
}

fn a_round_before_the_round_interval_is_rejected() -> TxError {
    let mut market = funded_market();
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 1 }));
    market.advance(DAY - 1);
    let code = reject(
        &mut market,
        BOB,
        Action::ServiceQueue(ServiceQueue { max_requests: 1 }),
        QueueError::RoundIntervalNotElapsed,
    );
    market.advance(1);
    market.ok(BOB, Action::ServiceQueue(ServiceQueue { max_requests: 1 }));
    code
}

fn a_round_limit_of_zero_or_above_the_maximum_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        KEEPER,
        Action::ServiceQueue(ServiceQueue { max_requests: 0 }),
        QueueError::RoundRequestLimitOutOfRange,
    );
    reject(
        &mut market,
        KEEPER,
        Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX + 1 }),
        QueueError::RoundRequestLimitOutOfRange,
    );
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }));
    QueueError::RoundRequestLimitOutOfRange.into()
}

fn a_round_limit_that_would_cut_the_round_short_is_rejected() -> TxError {
    let mut market = funded_market();
    for _ in 0..3 {
        market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(5) }));
    }
    market.advance(7 * DAY);
    // The idle USDai covers all three: a limit of two would leave one eligible request and
    // liquidity behind.
    let code = reject(
        &mut market,
        BOB,
        Action::ServiceQueue(ServiceQueue { max_requests: 2 }),
        QueueError::RoundRequestLimitCutsRoundShort,
    );
    // A limit that covers the round is no cut.
    market.ok(BOB, Action::ServiceQueue(ServiceQueue { max_requests: 3 }));
    code
}

// ---------------------------------------------------------------------------------------------
// Credit (6xx receipts, 7xx silos, 8xx loans). Every loan here is real: a custodian-issued,
// insured and appraised receipt, a silo with first-loss capital, a curator's proposal and the
// borrower's acceptance.

/// A class nobody registers at genesis (the admin may add it).
const B200: AssetClassId = match AssetClassId::new("gpu.b200") {
    Some(class) => class,
    None => panic!("valid class name"),
};

/// A credit market: Alice's 1,000,000 USDai staked in the vault, the curator's silo with
/// 100,000 of first-loss capital and a 1,000,000 senior cap, and a receipt for 10 GPUs owned by
/// the borrower, insured for and appraised at 300,000.
fn credit_market() -> (Market, SiloId, ReceiptId) {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000_000));
    market.stake(ALICE, whole(1_000_000));
    let silo = market.open_silo(whole(100_000), whole(1_000_000));
    let receipt = market.issue_receipt(BORROWER, 10, whole(300_000));
    (market, silo, receipt)
}

/// The curator proposes `terms(now)` in `silo`; returns the proposal's id.
fn propose(market: &mut Market, silo: SiloId, terms: impl FnOnce(u64) -> LoanTerms) -> LoanId {
    let loan_id = LoanId(*market.state.loans.next_loan_id.get());
    let terms = terms(market.now());
    market.ok(CURATOR, Action::ProposeLoan(ProposeLoan { silo_id: silo, terms }));
    loan_id
}

/// `credit_market` with 100,000 lent at 12% against the receipt (monthly payments, 15 days of
/// grace).
fn market_with_loan() -> (Market, SiloId, ReceiptId, LoanId) {
    let (mut market, silo, receipt) = credit_market();
    let loan = market.originate(silo, senior_loan(receipt, whole(100_000), 1_200, market.now()));
    (market, silo, receipt, loan)
}

/// `market_with_loan`, past the loan's first deadline and grace period, defaulted and
/// foreclosed to the liquidation agent.
fn market_with_foreclosed_loan() -> (Market, ReceiptId, LoanId) {
    let (mut market, _, receipt, loan) = market_with_loan();
    market.advance(30 * DAY + 15 * DAY + 1);
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    let agent = LIQUIDATION_AGENT;
    market.ok(
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan { loan_id: loan, liquidation_agent: agent }),
    );
    (market, receipt, loan)
}

fn asset_classes_are_registered_once_with_sane_terms_and_stepped_down_within_range() -> TxError {
    let (mut market, _, _) = credit_market();
    let code = reject(
        &mut market,
        ADMIN,
        Action::AddAssetClass(AddAssetClass { class: GPU, terms: gpu_terms() }),
        ReceiptError::AssetClassAlreadyExists,
    );
    reject(
        &mut market,
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt {
            class: B200,
            owner: BORROWER,
            description: gpu_receipt(1),
        }),
        ReceiptError::AssetClassNotFound,
    );
    reject(
        &mut market,
        ADMIN,
        Action::ApplyGenerationStepDown(ApplyGenerationStepDown {
            class: B200,
            step_down_bps: Bps(100),
        }),
        ReceiptError::AssetClassNotFound,
    );
    let mut free = gpu_terms();
    free.new_price_per_unit = Amount::ZERO;
    let mut above_new = gpu_terms();
    above_new.floor_bps = Bps(10_001);
    for terms in [free, above_new] {
        reject(
            &mut market,
            ADMIN,
            Action::AddAssetClass(AddAssetClass { class: B200, terms }),
            ReceiptError::AssetClassTermsInvalid,
        );
    }
    for step_down_bps in [Bps(0), Bps(10_000)] {
        reject(
            &mut market,
            ADMIN,
            Action::ApplyGenerationStepDown(ApplyGenerationStepDown { class: GPU, step_down_bps }),
            ReceiptError::StepDownOutOfRange,
        );
    }
    market.ok(
        ADMIN,
        Action::ApplyGenerationStepDown(ApplyGenerationStepDown {
            class: GPU,
            step_down_bps: Bps(9_999),
        }),
    );
    code
}

fn a_receipt_must_exist_and_only_its_custodian_or_owner_may_act_on_it() -> TxError {
    let (mut market, _, receipt) = credit_market();
    let missing = ReceiptId(99);
    let code = reject(
        &mut market,
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: missing, value: whole(1) }),
        ReceiptError::ReceiptNotFound,
    );
    reject(
        &mut market,
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: missing, to: ALICE }),
        ReceiptError::ReceiptNotFound,
    );
    reject(
        &mut market,
        CUSTODIAN,
        Action::ReleaseReceipt(ReleaseReceipt { receipt_id: missing }),
        ReceiptError::ReceiptNotFound,
    );
    // A second custodian may neither amend nor release the first one's receipt.
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Custodian, account: DAVE }));
    reject(
        &mut market,
        DAVE,
        Action::AmendReceipt(AmendReceipt { receipt_id: receipt, description: gpu_receipt(10) }),
        ReceiptError::SenderIsNotIssuingCustodian,
    );
    reject(
        &mut market,
        DAVE,
        Action::ReleaseReceipt(ReleaseReceipt { receipt_id: receipt }),
        ReceiptError::SenderIsNotIssuingCustodian,
    );
    // Only the owner transfers it or asks for the hardware back.
    reject(
        &mut market,
        ALICE,
        Action::TransferReceipt(TransferReceipt { receipt_id: receipt, to: ALICE }),
        ReceiptError::SenderIsNotReceiptOwner,
    );
    reject(
        &mut market,
        ALICE,
        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id: receipt }),
        ReceiptError::SenderIsNotReceiptOwner,
    );
    code
}

fn a_pledged_or_closed_receipt_cannot_be_transferred_released_or_redeemed() -> TxError {
    let (mut market, _, receipt, _) = market_with_loan();
    let code = reject(
        &mut market,
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: receipt, to: ALICE }),
        ReceiptError::ReceiptIsPledged,
    );
    reject(
        &mut market,
        CUSTODIAN,
        Action::ReleaseReceipt(ReleaseReceipt { receipt_id: receipt }),
        ReceiptError::ReceiptIsPledged,
    );
    reject(
        &mut market,
        BORROWER,
        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id: receipt }),
        ReceiptError::ReceiptIsPledged,
    );
    // A redeemed receipt is closed for good.
    let spare = market.issue_receipt(BORROWER, 1, whole(30_000));
    market.ok(CUSTODIAN, Action::ReleaseReceipt(ReleaseReceipt { receipt_id: spare }));
    market.ok(
        BORROWER,
        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id: spare }),
    );
    market.ok(CUSTODIAN, Action::RedeemReceipt(RedeemReceipt { receipt_id: spare }));
    reject(
        &mut market,
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: spare, to: ALICE }),
        ReceiptError::ReceiptIsClosed,
    );
    reject(
        &mut market,
        CUSTODIAN,
        Action::AmendReceipt(AmendReceipt { receipt_id: spare, description: gpu_receipt(1) }),
        ReceiptError::ReceiptIsClosed,
    );
    reject(
        &mut market,
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: spare, value: whole(1) }),
        ReceiptError::ReceiptIsClosed,
    );
    let expires_at = market.now() + DAY;
    reject(
        &mut market,
        INSURER,
        Action::AttachPolicy(AttachPolicy {
            receipt_id: spare,
            policy_id: B256::ZERO,
            coverage: ONE,
            expires_at,
        }),
        ReceiptError::ReceiptIsClosed,
    );
    code
}

fn a_receipt_stands_for_at_least_one_unit_and_has_printable_text() -> TxError {
    let (mut market, _, receipt) = credit_market();
    let code = reject(
        &mut market,
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt {
            class: GPU,
            owner: BORROWER,
            description: gpu_receipt(0),
        }),
        ReceiptError::QuantityMustNotBeZero,
    );
    let long = "x".repeat(65);
    for (facility, jurisdiction) in [("", "US-NV"), ("Reno", "US\nNV"), (long.as_str(), "US-NV")] {
        let mut description = gpu_receipt(10);
        description.facility = facility.into();
        description.jurisdiction = jurisdiction.into();
        reject(
            &mut market,
            CUSTODIAN,
            Action::AmendReceipt(AmendReceipt { receipt_id: receipt, description }),
            ReceiptError::TextFieldInvalid,
        );
    }
    code
}

fn policies_attach_once_and_renew_by_their_insurer_later_and_with_coverage() -> TxError {
    let (mut market, _, receipt) = credit_market();
    let later = market.now() + 3 * 365 * DAY;
    let policy_id = B256::ZERO;
    let code = reject(
        &mut market,
        INSURER,
        Action::AttachPolicy(AttachPolicy {
            receipt_id: receipt,
            policy_id,
            coverage: ONE,
            expires_at: later,
        }),
        ReceiptError::ReceiptAlreadyInsured,
    );
    let bare = ReceiptId(*market.state.receipts.next_receipt_id.get());
    let description = gpu_receipt(1);
    market.ok(
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt { class: GPU, owner: BORROWER, description }),
    );
    reject(
        &mut market,
        INSURER,
        Action::RenewPolicy(RenewPolicy { receipt_id: bare, coverage: ONE, expires_at: later }),
        ReceiptError::ReceiptHasNoPolicy,
    );
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Insurer, account: DAVE }));
    reject(
        &mut market,
        DAVE,
        Action::RenewPolicy(RenewPolicy { receipt_id: receipt, coverage: ONE, expires_at: later }),
        ReceiptError::SenderIsNotPolicyInsurer,
    );
    // The policy `issue_receipt` attached runs for two years: a renewal must go beyond it, a
    // new policy beyond now.
    let current = market.now() + 2 * 365 * DAY;
    reject(
        &mut market,
        INSURER,
        Action::RenewPolicy(RenewPolicy {
            receipt_id: receipt,
            coverage: ONE,
            expires_at: current,
        }),
        ReceiptError::PolicyExpiryMustBeLater,
    );
    let now = market.now();
    reject(
        &mut market,
        INSURER,
        Action::AttachPolicy(AttachPolicy {
            receipt_id: bare,
            policy_id,
            coverage: ONE,
            expires_at: now,
        }),
        ReceiptError::PolicyExpiryMustBeLater,
    );
    let zero = Amount::ZERO;
    reject(
        &mut market,
        INSURER,
        Action::AttachPolicy(AttachPolicy {
            receipt_id: bare,
            policy_id,
            coverage: zero,
            expires_at: later,
        }),
        ReceiptError::CoverageMustNotBeZero,
    );
    reject(
        &mut market,
        INSURER,
        Action::RenewPolicy(RenewPolicy { receipt_id: receipt, coverage: zero, expires_at: later }),
        ReceiptError::CoverageMustNotBeZero,
    );
    market.ok(
        INSURER,
        Action::RenewPolicy(RenewPolicy {
            receipt_id: receipt,
            coverage: ONE,
            expires_at: current + 1,
        }),
    );
    code
}

fn a_valuation_must_not_be_zero() -> TxError {
    let (mut market, _, receipt) = credit_market();
    reject(
        &mut market,
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: Amount::ZERO }),
        ReceiptError::ValuationMustNotBeZero,
    )
}

fn a_receipt_is_redeemed_only_once_released_and_asked_for_once() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    let code = reject(
        &mut market,
        BORROWER,
        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id: receipt }),
        ReceiptError::ReceiptIsNotReleased,
    );
    reject(
        &mut market,
        CUSTODIAN,
        Action::RedeemReceipt(RedeemReceipt { receipt_id: receipt }),
        ReceiptError::ReceiptIsNotReleased,
    );
    market.ok(CUSTODIAN, Action::ReleaseReceipt(ReleaseReceipt { receipt_id: receipt }));
    reject(
        &mut market,
        CUSTODIAN,
        Action::RedeemReceipt(RedeemReceipt { receipt_id: receipt }),
        ReceiptError::ReceiptRedemptionNotRequested,
    );
    market.ok(
        BORROWER,
        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id: receipt }),
    );
    reject(
        &mut market,
        BORROWER,
        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id: receipt }),
        ReceiptError::ReceiptRedemptionAlreadyRequested,
    );
    // Once asked for, the hardware is on its way back: no transfer, no pledge.
    reject(
        &mut market,
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: receipt, to: ALICE }),
        ReceiptError::ReceiptRedemptionAlreadyRequested,
    );
    let loan = propose(&mut market, silo, |now| senior_loan(receipt, whole(1_000), 0, now));
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        ReceiptError::ReceiptRedemptionAlreadyRequested,
    );
    market.ok(CUSTODIAN, Action::RedeemReceipt(RedeemReceipt { receipt_id: receipt }));
    code
}

fn a_receipt_cannot_be_transferred_to_its_owner() -> TxError {
    let (mut market, _, receipt) = credit_market();
    reject(
        &mut market,
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: receipt, to: BORROWER }),
        ReceiptError::RecipientMustNotBeOwner,
    )
}

fn only_insured_sufficiently_covered_and_freshly_valued_receipts_are_collateral() -> TxError {
    let (mut market, silo, _) = credit_market();
    // Issued and appraised at 300,000, not insured.
    let receipt = ReceiptId(*market.state.receipts.next_receipt_id.get());
    let description = gpu_receipt(10);
    market.ok(
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt { class: GPU, owner: BORROWER, description }),
    );
    market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(300_000) }),
    );
    let terms = |now| senior_loan(receipt, whole(100_000), 1_200, now);
    let loan = propose(&mut market, silo, terms);
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        ReceiptError::ReceiptInsuranceLapsed,
    );
    // Insured for one unit less than its value (the default minimum is 100% of it).
    let expires_at = market.now() + 365 * DAY;
    let short = minus(whole(300_000), Amount(1));
    let policy_id = B256::ZERO;
    market.ok(
        INSURER,
        Action::AttachPolicy(AttachPolicy {
            receipt_id: receipt,
            policy_id,
            coverage: short,
            expires_at,
        }),
    );
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        ReceiptError::ReceiptCoverageInsufficient,
    );
    let coverage = whole(300_000);
    market.ok(
        INSURER,
        Action::RenewPolicy(RenewPolicy {
            receipt_id: receipt,
            coverage,
            expires_at: expires_at + 1,
        }),
    );
    // A valuation older than 90 days no longer counts.
    market.advance(90 * DAY + 1);
    let loan = propose(&mut market, silo, terms);
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        ReceiptError::ReceiptValuationStale,
    );
    market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(300_000) }),
    );
    market.ok(BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: loan }));
    code
}

fn only_an_issued_receipt_is_released_by_its_custodian() -> TxError {
    let (mut market, _, receipt) = credit_market();
    market.ok(CUSTODIAN, Action::ReleaseReceipt(ReleaseReceipt { receipt_id: receipt }));
    reject(
        &mut market,
        CUSTODIAN,
        Action::ReleaseReceipt(ReleaseReceipt { receipt_id: receipt }),
        ReceiptError::ReceiptIsNotIssued,
    )
}

fn a_silo_must_exist_and_only_its_curator_may_run_it() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    let missing = SiloId(9);
    let terms = senior_loan(receipt, whole(1_000), 0, market.now());
    let code = reject(
        &mut market,
        CURATOR,
        Action::DepositFirstLoss(DepositFirstLoss { silo_id: missing, amount: ONE }),
        SiloError::SiloNotFound,
    );
    reject(
        &mut market,
        ADMIN,
        Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: missing, cap: ONE }),
        SiloError::SiloNotFound,
    );
    reject(
        &mut market,
        CURATOR,
        Action::ProposeLoan(ProposeLoan { silo_id: missing, terms: terms.clone() }),
        SiloError::SiloNotFound,
    );
    // Another curator may not run this silo.
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Curator, account: DAVE }));
    for action in [
        Action::DepositFirstLoss(DepositFirstLoss { silo_id: silo, amount: ONE }),
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: ONE }),
        Action::ProposeLoan(ProposeLoan { silo_id: silo, terms }),
    ] {
        reject(&mut market, DAVE, action, SiloError::SenderIsNotSiloCurator);
    }
    code
}

fn silo_terms_need_registered_classes_ordered_limits_and_a_bounded_fee() -> TxError {
    let (mut market, _, _) = credit_market();
    let gpu = SiloTerms { eligible_classes: vec![GPU], ..SiloTerms::default() };
    let invalid = [
        SiloTerms::default(),
        SiloTerms { eligible_classes: vec![B200], ..gpu.clone() },
        SiloTerms { eligible_classes: vec![GPU, GPU], ..gpu.clone() },
        SiloTerms { max_initial_ltv_bps: Bps(9_000), ..gpu.clone() },
        SiloTerms { margin_call_ltv_bps: Bps(10_001), ..gpu.clone() },
        SiloTerms { max_borrower_share_bps: Bps(0), ..gpu.clone() },
        SiloTerms { curator_fee_bps: Bps(5_001), ..gpu.clone() },
    ];
    for terms in invalid {
        reject(
            &mut market,
            CURATOR,
            Action::OpenSilo(OpenSilo { terms }),
            SiloError::SiloTermsInvalid,
        );
    }
    market.ok(
        CURATOR,
        Action::OpenSilo(OpenSilo { terms: SiloTerms { curator_fee_bps: Bps(5_000), ..gpu } }),
    );
    SiloError::SiloTermsInvalid.into()
}

fn a_frozen_silo_makes_no_loans() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    let terms = senior_loan(receipt, whole(1_000), 0, market.now());
    let loan = propose(&mut market, silo, |_| terms.clone());
    market.ok(ADMIN, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true }));
    let code = reject(
        &mut market,
        CURATOR,
        Action::ProposeLoan(ProposeLoan { silo_id: silo, terms }),
        SiloError::SiloIsFrozen,
    );
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::SiloIsFrozen,
    );
    market.ok(ADMIN, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: false }));
    market.ok(BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: loan }));
    code
}

fn only_a_frozen_silo_is_assigned_a_successor() -> TxError {
    let (mut market, silo, _) = credit_market();
    reject(
        &mut market,
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id: silo, curator: CURATOR }),
        SiloError::SiloNotFrozen,
    )
}

fn first_loss_capital_leaves_only_above_its_requirement_and_never_while_a_loan_is_impaired()
-> TxError {
    let (mut market, silo, receipt) = credit_market();
    // The pool holds 100,000.
    reject(
        &mut market,
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss {
            silo_id: silo,
            amount: plus(whole(100_000), Amount(1)),
        }),
        SiloError::FirstLossPoolInsufficient,
    );
    // 200,000 of senior exposure requires 10% = 20,000 of first-loss capital.
    market.originate(silo, senior_loan(receipt, whole(200_000), 1_200, market.now()));
    let code = reject(
        &mut market,
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss {
            silo_id: silo,
            amount: plus(whole(80_000), Amount(1)),
        }),
        SiloError::FirstLossWouldFallBelowRequirement,
    );
    market.ok(
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: whole(80_000) }),
    );
    // The appraisal falls to 200,000 (LTV 100%) and a re-mark opens a margin call: the pool is
    // locked while the loan is impaired.
    market.revalue_and_remark(receipt, whole(200_000));
    reject(
        &mut market,
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: ONE }),
        SiloError::SiloHasImpairedLoans,
    );
    code
}

fn loans_stay_within_the_silo_cap_the_borrower_concentration_and_the_silo_classes() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    market.ok(
        ADMIN,
        Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: silo, cap: whole(50_000) }),
    );
    let above_cap = plus(whole(50_000), Amount(1));
    let loan = propose(&mut market, silo, |now| senior_loan(receipt, above_cap, 0, now));
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::SiloSeniorCapExceeded,
    );
    // A silo where one borrower may take 10% of its 1,000,000 cap: 100,000.
    let narrow = SiloId(*market.state.silos.next_silo_id.get());
    let terms = SiloTerms {
        eligible_classes: vec![GPU],
        max_borrower_share_bps: Bps(1_000),
        ..SiloTerms::default()
    };
    market.ok(CURATOR, Action::OpenSilo(OpenSilo { terms }));
    market.ok(
        ADMIN,
        Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: narrow, cap: whole(1_000_000) }),
    );
    let above_share = plus(whole(100_000), Amount(1));
    let loan = propose(&mut market, narrow, |now| senior_loan(receipt, above_share, 0, now));
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::BorrowerConcentrationExceeded,
    );
    // A silo lending only against another class.
    market.ok(ADMIN, Action::AddAssetClass(AddAssetClass { class: B200, terms: gpu_terms() }));
    let other = SiloId(*market.state.silos.next_silo_id.get());
    let terms = SiloTerms { eligible_classes: vec![B200], ..SiloTerms::default() };
    market.ok(CURATOR, Action::OpenSilo(OpenSilo { terms }));
    let terms = senior_loan(receipt, whole(1_000), 0, market.now());
    reject(
        &mut market,
        CURATOR,
        Action::ProposeLoan(ProposeLoan { silo_id: other, terms }),
        SiloError::AssetClassNotEligibleInSilo,
    );
    code
}

fn a_successor_must_be_a_curator_and_a_freeze_must_change_something() -> TxError {
    let (mut market, silo, _) = credit_market();
    reject(
        &mut market,
        ADMIN,
        Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: false }),
        SiloError::SiloFrozenStateUnchanged,
    );
    market.ok(ADMIN, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true }));
    reject(
        &mut market,
        ADMIN,
        Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true }),
        SiloError::SiloFrozenStateUnchanged,
    );
    let code = reject(
        &mut market,
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id: silo, curator: DAVE }),
        SiloError::SuccessorLacksCuratorRole,
    );
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Curator, account: DAVE }));
    market.ok(
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id: silo, curator: DAVE }),
    );
    code
}

fn a_loan_needs_first_loss_capital_for_its_senior_exposure() -> TxError {
    let (mut market, _, receipt) = credit_market();
    // A second silo with 5,000 of first-loss capital: enough for 50,000 of senior exposure.
    let thin = market.open_silo(whole(5_000), whole(1_000_000));
    let above = plus(whole(50_000), Amount(1));
    let loan = propose(&mut market, thin, |now| senior_loan(receipt, above, 0, now));
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::FirstLossBelowRequirement,
    );
    market.originate(thin, senior_loan(receipt, whole(50_000), 0, market.now()));
    code
}

/// A frozen silo with loans and the original curator's capital, handed to DAVE.
fn succeeded_silo() -> (Market, SiloId) {
    let (mut market, silo, receipt) = credit_market();
    market.originate(silo, senior_loan(receipt, whole(100_000), 0, market.now()));
    market.ok(ADMIN, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true }));
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Curator, account: DAVE }));
    market.ok(
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id: silo, curator: DAVE }),
    );
    (market, silo)
}

fn a_successor_curator_cannot_move_the_original_curators_capital() -> TxError {
    let (mut market, silo) = succeeded_silo();
    let code = reject(
        &mut market,
        DAVE,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: whole(1) }),
        SiloError::SenderIsNotCapitalOwner,
    );
    reject(
        &mut market,
        DAVE,
        Action::DepositFirstLoss(DepositFirstLoss { silo_id: silo, amount: whole(1) }),
        SiloError::SenderIsNotCapitalOwner,
    );
    code
}

fn a_silo_cannot_be_unfrozen_for_a_successor_while_the_original_capital_remains() -> TxError {
    let (mut market, silo) = succeeded_silo();
    reject(
        &mut market,
        ADMIN,
        Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: false }),
        SiloError::SiloCapitalBelongsToPredecessor,
    )
}

fn a_loan_must_exist_and_only_its_borrower_may_accept_pledge_or_claim() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    let missing = LoanId(7);
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: missing }),
        LoanError::LoanNotFound,
    );
    reject(
        &mut market,
        ALICE,
        Action::RepayLoan(RepayLoan { loan_id: missing, max_amount: Amount::MAX }),
        LoanError::LoanNotFound,
    );
    reject(
        &mut market,
        KEEPER,
        Action::TriggerDefault(TriggerDefault { loan_id: missing }),
        LoanError::LoanNotFound,
    );
    let loan = propose(&mut market, silo, |now| senior_loan(receipt, whole(1_000), 0, now));
    reject(
        &mut market,
        ALICE,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::SenderIsNotLoanBorrower,
    );
    market.ok(BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: loan }));
    let spare = market.issue_receipt(BORROWER, 1, whole(30_000));
    reject(
        &mut market,
        ALICE,
        Action::PledgeReceipts(PledgeReceipts { loan_id: loan, receipt_ids: vec![spare] }),
        LoanError::SenderIsNotLoanBorrower,
    );
    reject(
        &mut market,
        ALICE,
        Action::ClaimLoanSurplus(ClaimLoanSurplus { loan_id: loan }),
        LoanError::SenderIsNotLoanBorrower,
    );
    code
}

fn loan_terms_need_a_principal_receipts_periods_and_bounded_rates_fees_and_expiry() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    let valid = senior_loan(receipt, whole(100_000), 1_200, market.now());
    let with = |edit: fn(&mut LoanTerms)| {
        let mut terms = valid.clone();
        edit(&mut terms);
        terms
    };
    let invalid = [
        with(|t| t.senior.amount = Amount::ZERO),
        with(|t| t.receipts.clear()),
        with(|t| t.receipts.push(t.receipts[0])),
        with(|t| t.periods = Some(0)),
        with(|t| t.periods = Some(601)),
        with(|t| t.interval_secs = Some(0)),
        with(|t| t.interval_secs = Some(365 * DAY + 1)),
        with(|t| t.senior.rate = Rate::from_apr_bps(10_001)),
        with(|t| t.grace_rate = Rate::from_apr_bps(10_001)),
        with(|t| t.origination_fee_bps = Bps(10_000)),
        with(|t| t.exit_fee_bps = Bps(10_001)),
        with(|t| t.expires_at -= 7 * DAY),
    ];
    for terms in invalid {
        reject(
            &mut market,
            CURATOR,
            Action::ProposeLoan(ProposeLoan { silo_id: silo, terms }),
            LoanError::LoanTermsInvalid,
        );
    }
    market.ok(CURATOR, Action::ProposeLoan(ProposeLoan { silo_id: silo, terms: valid }));
    LoanError::LoanTermsInvalid.into()
}

fn a_proposal_is_accepted_once_and_before_it_expires() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    // A week to accept: one second later it is gone.
    let loan = propose(&mut market, silo, |now| senior_loan(receipt, whole(1_000), 0, now));
    market.advance(7 * DAY + 1);
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::LoanProposalExpired,
    );
    let loan = market.originate(silo, senior_loan(receipt, whole(1_000), 0, market.now()));
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::LoanIsNotAProposal,
    );
    reject(
        &mut market,
        CURATOR,
        Action::CancelLoanProposal(CancelLoanProposal { loan_id: loan }),
        LoanError::LoanIsNotAProposal,
    );
    code
}

fn a_loan_that_is_not_active_is_neither_paid_nor_defaulted() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    let loan = propose(&mut market, silo, |now| senior_loan(receipt, whole(1_000), 0, now));
    let actions = [
        (ALICE, Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: Amount::MAX })),
        (
            ALICE,
            Action::PrepayLoan(PrepayLoan {
                loan_id: loan,
                principal: ONE,
                max_amount: Amount::MAX,
            }),
        ),
        (
            BORROWER,
            Action::PledgeReceipts(PledgeReceipts { loan_id: loan, receipt_ids: vec![receipt] }),
        ),
        (KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan })),
    ];
    for (sender, action) in actions {
        reject(&mut market, sender, action, LoanError::LoanIsNotActive);
    }
    LoanError::LoanIsNotActive.into()
}

fn origination_keeps_the_initial_ltv_and_pledges_only_the_borrowers_receipts() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    // 70% of the 300,000 appraisal is 210,000: one unit more is an LTV of 7,001 bps (rounded
    // up), above the silo's 7,000.
    let above = plus(whole(210_000), Amount(1));
    let loan = propose(&mut market, silo, |now| senior_loan(receipt, above, 0, now));
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::LoanLtvExceedsMax,
    );
    // Carol's receipt cannot secure the borrower's loan.
    let carols = market.issue_receipt(CAROL, 10, whole(300_000));
    let loan = propose(&mut market, silo, |now| senior_loan(carols, whole(1_000), 0, now));
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::ReceiptNotOwnedByBorrower,
    );
    market.originate(silo, senior_loan(receipt, whole(210_000), 0, market.now()));
    code
}

fn origination_keeps_the_vaults_deployment_limit_and_liquidity_buffer() -> TxError {
    let (mut market, silo, _) = credit_market();
    // Collateral worth 3,000,000, so that LTV is no obstacle; the vault's NAV is 1,000,000.
    let big = market.issue_receipt(BORROWER, 100, whole(3_000_000));
    // At most 90% of NAV may be deployed: 900,000.
    let above = plus(whole(900_000), Amount(1));
    let loan = propose(&mut market, silo, |now| senior_loan(big, above, 0, now));
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::VaultMaxDeployedExceeded,
    );
    // With all of NAV deployable (a change that waits out the governance delay), the 5%
    // buffer still keeps 50,000 idle: 950,000 is the most the vault lends.
    let change = ParameterChange::MaxDeployedBps(Bps(10_000));
    market.ok(ADMIN, Action::SetParameter(SetParameter { change }));
    market.advance(2 * DAY);
    let above = plus(whole(950_000), Amount(1));
    let loan = propose(&mut market, silo, |now| senior_loan(big, above, 0, now));
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::VaultLiquidityBufferWouldBeBreached,
    );
    market.originate(silo, senior_loan(big, whole(950_000), 0, market.now()));
    code
}

fn a_payment_above_the_senders_maximum_is_rejected() -> TxError {
    let (mut market, _, _, loan) = market_with_loan();
    let due = loans::payment_due(&market.loan(loan), market.now())
        .and_then(|due| due.total())
        .expect("fits");
    let code = reject(
        &mut market,
        BORROWER,
        Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: minus(due, Amount(1)) }),
        LoanError::PaymentExceedsMaximum,
    );
    // A prepayment at origination owes no interest yet: the principal is the whole cost.
    reject(
        &mut market,
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: loan,
            principal: ONE,
            max_amount: minus(ONE, Amount(1)),
        }),
        LoanError::PaymentExceedsMaximum,
    );
    market.ok(BORROWER, Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: due }));
    code
}

fn a_loan_past_its_grace_period_can_only_be_defaulted() -> TxError {
    let (mut market, _, _, loan) = market_with_loan();
    reject(
        &mut market,
        KEEPER,
        Action::TriggerDefault(TriggerDefault { loan_id: loan }),
        LoanError::LoanIsNotInDefault,
    );
    // The first deadline is 30 days out and grace lasts 15 more.
    market.advance(30 * DAY + 15 * DAY);
    reject(
        &mut market,
        KEEPER,
        Action::TriggerDefault(TriggerDefault { loan_id: loan }),
        LoanError::LoanIsNotInDefault,
    );
    market.advance(1);
    let spare = market.issue_receipt(BORROWER, 1, whole(30_000));
    let actions = [
        Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: Amount::MAX }),
        Action::PrepayLoan(PrepayLoan { loan_id: loan, principal: ONE, max_amount: Amount::MAX }),
        Action::PledgeReceipts(PledgeReceipts { loan_id: loan, receipt_ids: vec![spare] }),
    ];
    for action in actions {
        reject(&mut market, BORROWER, action, LoanError::LoanDefaultIsPending);
    }
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    LoanError::LoanDefaultIsPending.into()
}

fn foreclosure_hands_a_defaulted_loan_to_one_liquidation_agent() -> TxError {
    let (mut market, _, receipt, loan) = market_with_loan();
    let agent = LIQUIDATION_AGENT;
    let code = reject(
        &mut market,
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan { loan_id: loan, liquidation_agent: agent }),
        LoanError::LoanIsNotDefaulted,
    );
    market.advance(30 * DAY + 15 * DAY + 1);
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    reject(
        &mut market,
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan { loan_id: loan, liquidation_agent: ALICE }),
        LoanError::LiquidationAgentLacksRole,
    );
    reject(
        &mut market,
        ALICE,
        Action::ForecloseLoan(ForecloseLoan { loan_id: loan, liquidation_agent: agent }),
        SiloError::SenderIsNotSiloCurator,
    );
    market.ok(
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan { loan_id: loan, liquidation_agent: agent }),
    );
    reject(
        &mut market,
        ADMIN,
        Action::ForecloseLoan(ForecloseLoan { loan_id: loan, liquidation_agent: agent }),
        LoanError::LoanAlreadyForeclosed,
    );
    // Another liquidation agent may not report this loan's sales.
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::LiquidationAgent, account: DAVE }));
    let report = SaleReport { gross_proceeds: whole(1_000), ..SaleReport::default() };
    reject(
        &mut market,
        DAVE,
        Action::ReportSale(ReportSale { receipt_id: receipt, report }),
        LoanError::SenderIsNotLoanLiquidationAgent,
    );
    code
}

fn sales_and_insurance_claims_need_a_foreclosed_receipt_and_amounts_within_bounds() -> TxError {
    let (mut market, _, receipt, _) = market_with_loan();
    let report = SaleReport { gross_proceeds: whole(1_000), ..SaleReport::default() };
    let code = reject(
        &mut market,
        LIQUIDATION_AGENT,
        Action::ReportSale(ReportSale { receipt_id: receipt, report }),
        LoanError::ReceiptIsNotForeclosed,
    );
    reject(
        &mut market,
        INSURER,
        Action::PayInsuranceClaim(PayInsuranceClaim { receipt_id: receipt, amount: ONE }),
        LoanError::ReceiptIsNotForeclosed,
    );
    let (mut market, receipt, _) = market_with_foreclosed_loan();
    let report =
        SaleReport { gross_proceeds: whole(100), legal_costs: whole(101), ..SaleReport::default() };
    reject(
        &mut market,
        LIQUIDATION_AGENT,
        Action::ReportSale(ReportSale { receipt_id: receipt, report }),
        LoanError::SaleCostsExceedProceeds,
    );
    // The policy covers 300,000.
    reject(
        &mut market,
        INSURER,
        Action::PayInsuranceClaim(PayInsuranceClaim { receipt_id: receipt, amount: Amount::ZERO }),
        LedgerError::AmountMustNotBeZero,
    );
    reject(
        &mut market,
        INSURER,
        Action::PayInsuranceClaim(PayInsuranceClaim {
            receipt_id: receipt,
            amount: plus(whole(300_000), Amount(1)),
        }),
        LoanError::InsuranceClaimExceedsCoverage,
    );
    code
}

fn a_prepayment_is_at_most_the_balance_and_waits_for_missed_payments() -> TxError {
    let (mut market, _, _, loan) = market_with_loan();
    let code = reject(
        &mut market,
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: loan,
            principal: plus(whole(100_000), Amount(1)),
            max_amount: Amount::MAX,
        }),
        LoanError::PrepaymentExceedsBalance,
    );
    reject(
        &mut market,
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: loan,
            principal: Amount::ZERO,
            max_amount: Amount::MAX,
        }),
        LedgerError::AmountMustNotBeZero,
    );
    // A second past the first deadline (inside grace): the missed payment comes first.
    market.advance(30 * DAY + 1);
    let prepay =
        Action::PrepayLoan(PrepayLoan { loan_id: loan, principal: ONE, max_amount: Amount::MAX });
    reject(&mut market, BORROWER, prepay.clone(), LoanError::LoanPaymentsOverdue);
    market.ok(BORROWER, Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: Amount::MAX }));
    market.ok(BORROWER, prepay);
    code
}

fn a_loan_pledges_each_receipt_once() -> TxError {
    let (mut market, _, receipt, loan) = market_with_loan();
    let spare = market.issue_receipt(BORROWER, 1, whole(30_000));
    for receipt_ids in [vec![spare, spare], vec![receipt], vec![]] {
        reject(
            &mut market,
            BORROWER,
            Action::PledgeReceipts(PledgeReceipts { loan_id: loan, receipt_ids }),
            LoanError::LoanReceiptsLimitReached,
        );
    }
    market.ok(
        BORROWER,
        Action::PledgeReceipts(PledgeReceipts { loan_id: loan, receipt_ids: vec![spare] }),
    );
    LoanError::LoanReceiptsLimitReached.into()
}

fn a_remark_covers_one_to_ten_thousand_loans() -> TxError {
    let (mut market, _, _, _) = market_with_loan();
    for max_loans in [0, REMARK_BATCH_MAX + 1] {
        reject(
            &mut market,
            KEEPER,
            Action::RemarkLoans(RemarkLoans { first_loan_id: LoanId(0), max_loans }),
            LoanError::RemarkBatchOutOfRange,
        );
    }
    market.ok(
        KEEPER,
        Action::RemarkLoans(RemarkLoans { first_loan_id: LoanId(0), max_loans: REMARK_BATCH_MAX }),
    );
    LoanError::RemarkBatchOutOfRange.into()
}

fn only_the_curator_or_the_borrower_may_cancel_a_proposal() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    let loan = propose(&mut market, silo, |now| senior_loan(receipt, whole(1_000), 0, now));
    let code = reject(
        &mut market,
        ALICE,
        Action::CancelLoanProposal(CancelLoanProposal { loan_id: loan }),
        LoanError::SenderMayNotCancelProposal,
    );
    market.ok(BORROWER, Action::CancelLoanProposal(CancelLoanProposal { loan_id: loan }));
    code
}

fn a_surplus_is_claimed_once_and_only_when_there_is_one() -> TxError {
    let (mut market, receipt, loan) = market_with_foreclosed_loan();
    reject(
        &mut market,
        BORROWER,
        Action::ClaimLoanSurplus(ClaimLoanSurplus { loan_id: loan }),
        LoanError::LoanSurplusIsZero,
    );
    // The borrower is frozen when its hardware sells for more than the loan owes: the
    // waterfall holds the remainder for it until it is unfrozen.
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: BORROWER }));
    market.refresh_prices();
    let gross_proceeds = whole(300_000);
    market.mint(BOB, gross_proceeds);
    let to = LIQUIDATION_AGENT;
    market.ok(BOB, Action::Transfer(Transfer { asset: Asset::Usdai, to, amount: gross_proceeds }));
    let report = SaleReport { gross_proceeds, ..SaleReport::default() };
    market.ok(LIQUIDATION_AGENT, Action::ReportSale(ReportSale { receipt_id: receipt, report }));
    assert!(!market.loan(loan).surplus_held.is_zero());
    reject(
        &mut market,
        BORROWER,
        Action::ClaimLoanSurplus(ClaimLoanSurplus { loan_id: loan }),
        LedgerError::RecipientIsFrozen,
    );
    market.ok(COMPLIANCE, Action::Unfreeze(Unfreeze { account: BORROWER }));
    market.ok(BORROWER, Action::ClaimLoanSurplus(ClaimLoanSurplus { loan_id: loan }));
    reject(
        &mut market,
        BORROWER,
        Action::ClaimLoanSurplus(ClaimLoanSurplus { loan_id: loan }),
        LoanError::LoanSurplusIsZero,
    )
}

fn origination_leaves_idle_what_the_redemption_queue_is_owed() -> TxError {
    let (mut market, silo, _) = credit_market();
    let big = market.issue_receipt(BORROWER, 100, whole(3_000_000));
    // Alice queues 300,000 of her 1,000,000 shares (price 1): they are owed 300,000, and the
    // 5% buffer on the 700,000 left is 35,000, so 665,000 is the most the vault lends.
    market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(300_000) }));
    let loan = propose(&mut market, silo, |now| senior_loan(big, whole(700_001), 0, now));
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::VaultLiquidityOwedToQueue,
    );
    let loan = propose(&mut market, silo, |now| senior_loan(big, whole(665_001), 0, now));
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::VaultLiquidityBufferWouldBeBreached,
    );
    market.originate(silo, senior_loan(big, whole(665_000), 0, market.now()));
    code
}

fn debt_service_reserves_and_reports_follow_their_covenants() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    let set = |periods, interval| {
        Action::SetLoanCovenants(SetLoanCovenants {
            silo_id: silo,
            debt_service_reserve_periods: periods,
            report_interval_secs: interval,
        })
    };
    let code = reject(&mut market, CURATOR, set(13, 0), LoanError::LoanCovenantsInvalid);
    reject(&mut market, CURATOR, set(3, DAY - 1), LoanError::LoanCovenantsInvalid);
    reject(&mut market, ALICE, set(3, 90 * DAY), GovernanceError::SenderLacksRole);
    // Twelve reserve payments of an interest-free 100,000 over 12 months take every unit of
    // the proceeds but none more: with a 1% fee they cannot be funded.
    market.ok(CURATOR, set(12, 90 * DAY));
    let loan = propose(&mut market, silo, |now| {
        let mut terms = senior_loan(receipt, whole(100_000), 0, now);
        terms.origination_fee_bps = Bps(100);
        terms
    });
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::DebtServiceReserveExceedsProceeds,
    );
    market.ok(BORROWER, Action::CancelLoanProposal(CancelLoanProposal { loan_id: loan }));
    market.ok(CURATOR, set(2, 90 * DAY));
    let loan = market.originate(silo, senior_loan(receipt, whole(120_000), 0, market.now()));
    let fund =
        |amount| Action::FundDebtServiceReserve(FundDebtServiceReserve { loan_id: loan, amount });
    reject(&mut market, BORROWER, fund(whole(1)), LoanError::ReserveFundingExceedsRequirement);
    let draw = Action::DrawDebtServiceReserve(DrawDebtServiceReserve { loan_id: loan });
    reject(&mut market, KEEPER, draw.clone(), LoanError::NoPaymentIsMissed);
    // Three payments of 10,000 missed, 20,000 held: the reserve cannot pay them all, and a
    // default is then allowed; with one missed, it pays and default waits.
    market.advance(30 * DAY + 15 * DAY + 1);
    let trigger = Action::TriggerDefault(TriggerDefault { loan_id: loan });
    reject(&mut market, KEEPER, trigger, LoanError::MissedPaymentIsCoveredByReserve);
    market.advance(45 * DAY);
    reject(&mut market, KEEPER, draw, LoanError::DebtServiceReserveInsufficient);
    let report = |document_hash| {
        Action::PostBorrowerReport(PostBorrowerReport { loan_id: loan, document_hash })
    };
    reject(&mut market, BORROWER, report(B256::ZERO), LoanError::ReportDocumentHashMustNotBeZero);
    reject(&mut market, ALICE, report(B256::repeat_byte(1)), LoanError::SenderIsNotLoanBorrower);
    code
}

fn a_casualty_claim_pays_only_on_a_receipt_of_an_active_loan() -> TxError {
    let (mut market, _, receipt) = credit_market();
    // Not pledged: the receipt is the borrower's own, with nothing for a claim to prepay.
    reject(
        &mut market,
        INSURER,
        Action::PayCasualtyClaim(PayCasualtyClaim { receipt_id: receipt }),
        LoanError::ReceiptIsNotPledgedToActiveLoan,
    )
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
    let mut delegated: BTreeSet<u16> = BTreeSet::new();
    for family in PROVEN_ELSEWHERE {
        for line in family.table {
            assert!(
                family.source.contains(line),
                "{} no longer has the table its codes are delegated to (`{line}`)",
                family.file
            );
        }
        for error in (family.codes)() {
            assert!(
                !produced.contains(&error.code()) && !unreachable.contains(&error.code()),
                "{error} is delegated to {} but also produced or listed here",
                family.file
            );
            assert!(delegated.insert(error.code()), "{error} is delegated twice");
        }
    }
    let mut missing = Vec::new();
    for error in TxError::all() {
        let code = error.code();
        if !produced.contains(&code) && !unreachable.contains(&code) && !delegated.contains(&code) {
            missing.push(error.to_string());
        }
    }
    assert!(missing.is_empty(), "codes with no case, no reason and no other table: {missing:#?}");
    // No case, reason or delegation names a code that does not exist.
    let all: BTreeSet<u16> = TxError::all().iter().map(|e| e.code()).collect();
    assert!(produced.is_subset(&all) && unreachable.is_subset(&all));
    assert!(delegated.is_subset(&all));
    assert_eq!(produced.len() + unreachable.len() + delegated.len(), all.len());
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
