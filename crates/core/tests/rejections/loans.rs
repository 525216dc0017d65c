//! Loan codes (8xx): terms, origination, payments, defaults, foreclosure, sales, covenants.

use super::*;

pub(crate) fn a_loan_must_exist_and_only_its_borrower_may_accept_pledge_or_claim() -> TxError {
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

pub(crate) fn loan_terms_need_a_principal_receipts_periods_and_bounded_rates_fees_and_expiry()
-> TxError {
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

pub(crate) fn a_proposal_is_accepted_once_and_before_it_expires() -> TxError {
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

pub(crate) fn a_loan_that_is_not_active_is_neither_paid_nor_defaulted() -> TxError {
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

pub(crate) fn origination_keeps_the_initial_ltv_and_pledges_only_the_borrowers_receipts() -> TxError
{
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

pub(crate) fn origination_keeps_the_vaults_deployment_limit_and_liquidity_buffer() -> TxError {
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

pub(crate) fn a_payment_above_the_senders_maximum_is_rejected() -> TxError {
    let (mut market, _, _, loan) = market_with_loan();
    let due = infrafi_core::loans::payment_due(&market.loan(loan), market.now())
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

pub(crate) fn a_loan_past_its_grace_period_can_only_be_defaulted() -> TxError {
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

pub(crate) fn foreclosure_hands_a_defaulted_loan_to_one_liquidation_agent() -> TxError {
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

pub(crate) fn sales_and_insurance_claims_need_a_foreclosed_receipt_and_amounts_within_bounds()
-> TxError {
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

pub(crate) fn a_prepayment_is_at_most_the_balance_and_waits_for_missed_payments() -> TxError {
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

pub(crate) fn a_loan_pledges_each_receipt_once() -> TxError {
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

pub(crate) fn a_remark_covers_one_to_ten_thousand_loans() -> TxError {
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

pub(crate) fn only_the_curator_or_the_borrower_may_cancel_a_proposal() -> TxError {
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

pub(crate) fn a_surplus_is_claimed_once_and_only_when_there_is_one() -> TxError {
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

pub(crate) fn origination_leaves_idle_what_the_redemption_queue_is_owed() -> TxError {
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

pub(crate) fn debt_service_reserves_and_reports_follow_their_covenants() -> TxError {
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

pub(crate) fn a_casualty_claim_pays_only_on_a_receipt_of_an_active_loan() -> TxError {
    let (mut market, _, receipt) = credit_market();
    // Not pledged: the receipt is the borrower's own, with nothing for a claim to prepay.
    reject(
        &mut market,
        INSURER,
        Action::PayCasualtyClaim(PayCasualtyClaim { receipt_id: receipt }),
        LoanError::ReceiptIsNotPledgedToActiveLoan,
    )
}

pub(crate) fn a_sale_held_for_the_admin_blocks_its_receipt_until_decided() -> TxError {
    let (mut market, receipt, _) = market_with_foreclosed_loan();
    market.refresh_prices();
    let gross_proceeds = whole(1_000);
    market.mint(BOB, gross_proceeds);
    let to = LIQUIDATION_AGENT;
    market.ok(BOB, Action::Transfer(Transfer { asset: Asset::Usdai, to, amount: gross_proceeds }));
    // A commission of the whole gross: above every class's ITAD share, so the report is held.
    let padded =
        SaleReport { gross_proceeds, itad_commission: gross_proceeds, ..SaleReport::default() };
    let held = ReportSale { receipt_id: receipt, report: padded };
    market.ok(LIQUIDATION_AGENT, Action::ReportSale(held));
    let code = reject(
        &mut market,
        LIQUIDATION_AGENT,
        Action::ReportSale(ReportSale { receipt_id: receipt, report: padded }),
        LoanError::ReceiptSaleIsHeld,
    );
    reject(
        &mut market,
        INSURER,
        Action::PayInsuranceClaim(PayInsuranceClaim { receipt_id: receipt, amount: ONE }),
        LoanError::ReceiptSaleIsHeld,
    );
    // Only the admin decides.
    reject(
        &mut market,
        LIQUIDATION_AGENT,
        Action::DecideHeldSale(DecideHeldSale { receipt_id: receipt, approve: true }),
        GovernanceError::SenderLacksRole,
    );
    code
}

pub(crate) fn only_a_held_sale_can_be_decided() -> TxError {
    let (mut market, receipt, _) = market_with_foreclosed_loan();
    reject(
        &mut market,
        ADMIN,
        Action::DecideHeldSale(DecideHeldSale { receipt_id: receipt, approve: false }),
        LoanError::ReceiptSaleIsNotHeld,
    )
}

pub(crate) fn a_write_off_waits_for_the_sale_deadline_and_the_admin() -> TxError {
    let (mut market, receipt, loan) = market_with_foreclosed_loan();
    let write_off = Action::WriteOffReceipt(WriteOffReceipt { receipt_id: receipt });
    let code = reject(&mut market, ADMIN, write_off.clone(), LoanError::SaleDeadlineNotPassed);
    let deadline = market.loan(loan).sale_deadline_at.expect("foreclosed: a deadline");
    market.advance(deadline - market.now());
    reject(&mut market, CURATOR, write_off.clone(), GovernanceError::SenderLacksRole);
    reject(
        &mut market,
        ADMIN,
        Action::WriteOffReceipt(WriteOffReceipt { receipt_id: ReceiptId(99) }),
        ReceiptError::ReceiptNotFound,
    );
    market.ok(ADMIN, write_off.clone());
    reject(&mut market, ADMIN, write_off, LoanError::ReceiptIsNotForeclosed);
    code
}

pub(crate) fn after_a_sale_deadline_only_the_admin_hands_the_receipts_over() -> TxError {
    let (mut market, _, loan) = market_with_foreclosed_loan();
    let deadline = market.loan(loan).sale_deadline_at.expect("foreclosed: a deadline");
    market.advance(deadline - market.now());
    let hand_over = Action::ForecloseLoan(ForecloseLoan {
        loan_id: loan,
        liquidation_agent: LIQUIDATION_AGENT,
    });
    let code = reject(
        &mut market,
        CURATOR,
        hand_over.clone(),
        LoanError::SenderMayNotHandOverAfterSaleDeadline,
    );
    market.ok(ADMIN, hand_over);
    code
}
