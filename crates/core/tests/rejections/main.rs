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
//!
//! This file holds the harness, the list of cases in code order and the table; the cases live
//! beside their family: `ledger.rs` (1xx), `governance.rs` (2xx), `reserve.rs` (3xx),
//! `vault.rs` (4xx), `queue.rs` (5xx), `receipts.rs` (6xx), `silos.rs` (7xx) and `loans.rs`
//! (8xx), with the credit fixtures they share in `credit.rs`.

// The harness (not the state machine) keeps per-thread state: see `produced`.
#![allow(clippy::disallowed_macros)]

use infrafi_core::{
    Action, Address, Amount, Asset, AssetClassId, BlockContext, Bps, LoanId, ParameterChange, Rate,
    ReceiptId, Role, SiloId, Symbol, Transaction, TxError, WAD,
    action::{
        AcceptLoan, AddAssetClass, AddStablecoin, AmendReceipt, ApplyGenerationStepDown,
        AssignSuccessorCurator, AttachPolicy, CancelLoanProposal, CancelQueuedDeposit,
        CancelRedeem, Claim, ClaimLoanSurplus, DecideHeldSale, DepositFirstLoss, DonateToVault,
        DrawDebtServiceReserve, FillQueuedDeposits, ForecloseLoan, Freeze, FundDebtServiceReserve,
        GatewayConfirm, GatewayCredit, GatewayReject, GatewayWithdraw, GrantRole, HarvestBaseYield,
        IssueReceipt, MintShares, MintUsdai, OpenSilo, PayCasualtyClaim, PayInsuranceClaim,
        PayResidualClaim, PledgeReceipts, PostBorrowerReport, PostPresenceAttestation, PostPrice,
        PostRentalIndex, PostReserveAttestation, PostTbillRate, PostValuation, PrepayLoan,
        ProposeLoan, QueueDeposit, RedeemReceipt, RedeemUsdai, ReleaseReceipt, RemarkLoans,
        RenewPolicy, RepayLoan, ReportSale, RequestReceiptRedemption, RequestRedeem, RevokeRole,
        ServiceQueue, SetIncomeTerms, SetKyc, SetLoanCovenants, SetParameter, SetPause,
        SetPresenceLimit, SetResidualFloor, SetSiloFrozen, SetSiloSeniorCap, Stake, Transfer,
        TransferReceipt, TransferRequest, TriggerDefault, Unfreeze, WithdrawFirstLoss,
        WriteOffReceipt, WriteOffResidualClaim,
    },
    begin_block,
    governance::{GovernanceError, PENDING_CHANGES_MAX},
    ids::{B256, PayoutId, RequestId, USDC, USDT},
    ledger::LedgerError,
    loans::{LoanError, LoanTerms, REMARK_BATCH_MAX, SaleReport},
    params::{DURATION_SECS_MAX, PauseScope},
    qev::QevError,
    queue::{QueueError, ROUND_REQUESTS_MAX},
    receipts::ReceiptError,
    rental_index::{IncomeTerms, RENT_PER_UNIT_HOUR_MAX},
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
    minting_or_redeeming_beyond_the_hourly_limit_is_rejected,
    using_more_than_an_accounts_share_of_the_hourly_limit_is_rejected,
    queued_deposits_are_rejected_out_of_bounds_out_of_turn_and_by_others,
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
    monitored_receipts_need_a_fresh_complete_presence_attestation_posted_in_order,
    residual_floors_stay_within_coverage_and_claims_close_by_payment_or_after_the_period,
    rental_indices_are_in_range_and_move_within_the_days_bound,
    income_terms_are_bounded,
    a_receipt_of_a_class_with_income_terms_needs_a_fresh_rental_index,
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
    a_sale_held_for_the_admin_blocks_its_receipt_until_decided,
    only_a_held_sale_can_be_decided,
    a_write_off_waits_for_the_sale_deadline_and_the_admin,
    after_a_sale_deadline_only_the_admin_hands_the_receipts_over,
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
        source: include_str!("../qev_result_codes.rs"),
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
        source: include_str!("../../../node/tests/replica.rs"),
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
        source: include_str!("../../src/reserve.rs"),
        table: &[
            "fn a_redemption_the_reserve_cannot_back_is_refused_with_its_code()",
            "assert_eq!(refused, ReserveError::ReserveBackingInsufficient.into());",
        ],
    },
    // The deposit queue's bound takes `QUEUED_DEPOSITS_MAX` deposits from as many accounts:
    // the unit test fills the queue from inside the crate and sends one more.
    ProvenElsewhere {
        codes: || vec![TxError::Reserve(ReserveError::DepositQueueIsFull)],
        file: "../src/reserve/deposit_queue.rs",
        source: include_str!("../../src/reserve/deposit_queue.rs"),
        table: &[
            "fn a_full_deposit_queue_refuses_another_deposit_with_its_code()",
            "assert_eq!(refused, ReserveError::DepositQueueIsFull.into());",
        ],
    },
];

mod credit;
mod governance;
mod ledger;
mod loans;
mod queue;
mod receipts;
mod reserve;
mod silos;
mod vault;

use credit::*;
use governance::*;
use ledger::*;
use loans::*;
use queue::*;
use receipts::*;
use reserve::*;
use silos::*;
use vault::*;

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
