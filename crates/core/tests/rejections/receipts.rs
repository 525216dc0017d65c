//! Receipt codes (6xx): asset classes, receipts, policies, valuations and redemptions.

use super::*;

pub(crate) fn asset_classes_are_registered_once_with_sane_terms_and_stepped_down_within_range()
-> TxError {
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

pub(crate) fn a_receipt_must_exist_and_only_its_custodian_or_owner_may_act_on_it() -> TxError {
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

pub(crate) fn a_pledged_or_closed_receipt_cannot_be_transferred_released_or_redeemed() -> TxError {
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

pub(crate) fn a_receipt_stands_for_at_least_one_unit_and_has_printable_text() -> TxError {
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

pub(crate) fn policies_attach_once_and_renew_by_their_insurer_later_and_with_coverage() -> TxError {
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

pub(crate) fn a_valuation_must_not_be_zero() -> TxError {
    let (mut market, _, receipt) = credit_market();
    reject(
        &mut market,
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: Amount::ZERO }),
        ReceiptError::ValuationMustNotBeZero,
    )
}

pub(crate) fn a_receipt_is_redeemed_only_once_released_and_asked_for_once() -> TxError {
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

pub(crate) fn a_receipt_cannot_be_transferred_to_its_owner() -> TxError {
    let (mut market, _, receipt) = credit_market();
    reject(
        &mut market,
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: receipt, to: BORROWER }),
        ReceiptError::RecipientMustNotBeOwner,
    )
}

pub(crate) fn only_insured_sufficiently_covered_and_freshly_valued_receipts_are_collateral()
-> TxError {
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

pub(crate) fn only_an_issued_receipt_is_released_by_its_custodian() -> TxError {
    let (mut market, _, receipt) = credit_market();
    market.ok(CUSTODIAN, Action::ReleaseReceipt(ReleaseReceipt { receipt_id: receipt }));
    reject(
        &mut market,
        CUSTODIAN,
        Action::ReleaseReceipt(ReleaseReceipt { receipt_id: receipt }),
        ReceiptError::ReceiptIsNotIssued,
    )
}

/// A presence report of a [`gpu_receipt`] of 10 GPUs, every unit seen, as of `as_of`.
fn presence(receipt_id: ReceiptId, units_seen: u32, as_of: u64) -> Action {
    let description = gpu_receipt(10);
    Action::PostPresenceAttestation(PostPresenceAttestation {
        receipt_id,
        units_seen,
        serials_hash: description.serials_hash,
        facility: description.facility,
        uptime_bps: Bps(10_000),
        as_of,
    })
}

pub(crate) fn monitored_receipts_need_a_fresh_complete_presence_attestation_posted_in_order()
-> TxError {
    let (mut market, silo, receipt) = credit_market();
    let limit =
        |max_age_secs| Action::SetPresenceLimit(SetPresenceLimit { class: GPU, max_age_secs });
    market.ok(ADMIN, limit(7 * DAY));
    market.advance(2 * DAY);
    let terms = |now| senior_loan(receipt, whole(120_000), 0, now);
    let loan = propose(&mut market, silo, terms);
    let accept = Action::AcceptLoan(AcceptLoan { loan_id: loan });
    let code = reject(&mut market, BORROWER, accept.clone(), ReceiptError::ReceiptPresenceStale);
    market.ok(MONITOR, presence(receipt, 9, market.now()));
    reject(&mut market, BORROWER, accept.clone(), ReceiptError::ReceiptHardwareNotPresent);
    let now = market.now();
    reject(
        &mut market,
        MONITOR,
        presence(receipt, 10, now + 1),
        ReceiptError::PresenceAsOfIsInTheFuture,
    );
    reject(
        &mut market,
        MONITOR,
        presence(receipt, 10, now),
        ReceiptError::PresenceAttestationIsNotNewer,
    );
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Monitor, account: BORROWER }));
    market.advance(1);
    let own = presence(receipt, 10, market.now());
    reject(&mut market, BORROWER, own, ReceiptError::MonitorMustNotBeReceiptOwner);
    let mut overstated = presence(receipt, 10, market.now());
    if let Action::PostPresenceAttestation(report) = &mut overstated {
        report.uptime_bps = Bps(10_001);
    }
    reject(&mut market, MONITOR, overstated, ReceiptError::PresenceReportInvalid);
    reject(&mut market, ADMIN, limit(60), ReceiptError::PresenceLimitOutOfRange);
    market.ok(MONITOR, presence(receipt, 10, market.now()));
    market.ok(BORROWER, accept);
    code
}

pub(crate) fn residual_floors_stay_within_coverage_and_claims_close_by_payment_or_after_the_period()
-> TxError {
    let (mut market, _, receipt, loan) = market_with_loan();
    let floor = |floor_value| {
        Action::SetResidualFloor(SetResidualFloor { receipt_id: receipt, floor_value })
    };
    // The policy covers 300,000.
    let code = reject(
        &mut market,
        INSURER,
        floor(plus(whole(300_000), Amount(1))),
        ReceiptError::ResidualFloorExceedsCoverage,
    );
    market.ok(INSURER, floor(whole(200_000)));
    reject(
        &mut market,
        INSURER,
        floor(whole(199_999)),
        ReceiptError::ResidualFloorCannotBeLoweredWhilePledged,
    );
    let pay = Action::PayResidualClaim(PayResidualClaim { receipt_id: receipt });
    reject(&mut market, INSURER, pay.clone(), ReceiptError::ResidualClaimNotFound);
    market.advance(30 * DAY + 15 * DAY + 1);
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    let agent = LIQUIDATION_AGENT;
    market.ok(
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan { loan_id: loan, liquidation_agent: agent }),
    );
    let buyer_money = Transfer { asset: Asset::Usdai, to: agent, amount: whole(10_000) };
    market.ok(BORROWER, Action::Transfer(buyer_money));
    let report = SaleReport { gross_proceeds: whole(10_000), ..SaleReport::default() };
    market.ok(agent, Action::ReportSale(ReportSale { receipt_id: receipt, report }));
    let write_off = Action::WriteOffResidualClaim(WriteOffResidualClaim { receipt_id: receipt });
    reject(&mut market, ADMIN, write_off.clone(), ReceiptError::ResidualClaimIsNotOverdue);
    market.advance(30 * DAY);
    market.ok(ADMIN, write_off);
    code
}

fn income_terms(class: AssetClassId, terms: IncomeTerms) -> Action {
    Action::SetIncomeTerms(SetIncomeTerms { class, terms })
}

fn rental_index(class: AssetClassId, rent_per_unit_hour: Amount) -> Action {
    Action::PostRentalIndex(PostRentalIndex { class, rent_per_unit_hour })
}

pub(crate) fn rental_indices_are_in_range_and_move_within_the_days_bound() -> TxError {
    let (mut market, _, _) = credit_market();
    let code = reject(
        &mut market,
        ORACLE,
        rental_index(GPU, Amount::ZERO),
        ReceiptError::RentalIndexOutOfRange,
    );
    reject(
        &mut market,
        ORACLE,
        rental_index(GPU, Amount(RENT_PER_UNIT_HOUR_MAX.0 + 1)),
        ReceiptError::RentalIndexOutOfRange,
    );
    reject(
        &mut market,
        ORACLE,
        rental_index(B200, RENT_TWO_DOLLARS),
        ReceiptError::AssetClassNotFound,
    );
    reject(
        &mut market,
        STRANGER,
        rental_index(GPU, RENT_TWO_DOLLARS),
        GovernanceError::SenderLacksRole,
    );
    market.ok(ADMIN, income_terms(GPU, gpu_income_terms(market.now())));
    market.ok(ORACLE, rental_index(GPU, RENT_TWO_DOLLARS));
    // 25% of $2.00 is $0.50: $2.51 is one cent too far, and so is $1.49.
    for rent in [Amount(251 * WAD / 100), Amount(149 * WAD / 100)] {
        reject(
            &mut market,
            ORACLE,
            rental_index(GPU, rent),
            ReceiptError::RentalIndexMoveExceedsMax,
        );
    }
    code
}

pub(crate) fn income_terms_are_bounded() -> TxError {
    let (mut market, _, _) = credit_market();
    let now = market.now();
    let mut over_full = gpu_income_terms(now);
    over_full.utilisation_bps = Bps(10_001);
    let code =
        reject(&mut market, ADMIN, income_terms(GPU, over_full), ReceiptError::IncomeTermsInvalid);
    let mut ended = gpu_income_terms(now);
    ended.economic_life_ends_at = now;
    reject(&mut market, ADMIN, income_terms(GPU, ended), ReceiptError::IncomeTermsInvalid);
    let mut unbounded = gpu_income_terms(now);
    unbounded.index_max_move_bps = Bps(0);
    reject(&mut market, ADMIN, income_terms(GPU, unbounded), ReceiptError::IncomeTermsInvalid);
    reject(
        &mut market,
        ADMIN,
        income_terms(B200, gpu_income_terms(now)),
        ReceiptError::AssetClassNotFound,
    );
    reject(
        &mut market,
        ORACLE,
        income_terms(GPU, gpu_income_terms(now)),
        GovernanceError::SenderLacksRole,
    );
    code
}

pub(crate) fn a_receipt_of_a_class_with_income_terms_needs_a_fresh_rental_index() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    market.ok(ADMIN, income_terms(GPU, gpu_income_terms(market.now())));
    // No index yet: nothing supports a mark.
    let terms = |now| senior_loan(receipt, whole(100_000), 1_200, now);
    let loan = propose(&mut market, silo, terms);
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        ReceiptError::ReceiptRentalIndexStale,
    );
    market.ok(ORACLE, rental_index(GPU, RENT_TWO_DOLLARS));
    // Posted more than 7 days ago: stale again.
    market.advance(7 * DAY + 1);
    market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(300_000) }),
    );
    let loan = propose(&mut market, silo, terms);
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        ReceiptError::ReceiptRentalIndexStale,
    );
    market.ok(ORACLE, rental_index(GPU, RENT_TWO_DOLLARS));
    market.ok(BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: loan }));
    code
}
