//! Every credit rejection with its stable code, each leaving `state_hash()` unchanged. Each test
//! walks one component's codes and finally checks that it exercised all of them.
#![allow(clippy::unwrap_used)]

mod credit_common;

use credit_common::*;
use infrafi_core::{
    Action, Address, Amount, AssetClassId, LoanId, ReceiptId, RequestId, SiloId, TxError,
    action::{
        AcceptLoan, AddAssetClass, AmendReceipt, ApplyGenerationStepDown, AssignSuccessorCurator,
        AttachPolicy, CancelLoanProposal, CancelRedeem, ClaimLoanSurplus, DepositFirstLoss,
        ForecloseLoan, GrantRole, IssueReceipt, OpenSilo, PayInsuranceClaim, PledgeReceipts,
        PostValuation, PrepayLoan, ProposeLoan, RedeemReceipt, ReleaseReceipt, RemarkLoans,
        RenewPolicy, RepayLoan, ReportSale, RequestReceiptRedemption, RequestRedeem, SetParameter,
        SetPause, SetSiloFrozen, SetSiloSeniorCap, TransferReceipt, TriggerDefault,
        WithdrawFirstLoss,
    },
    governance::GovernanceError,
    ids::B256,
    loans::{LoanError, SaleReport},
    math::{Bps, Rate},
    params::{ParameterChange, PauseScope, Role},
    receipts::{ReceiptError, ReceiptStatus},
    silos::{SiloError, SiloTerms},
};
use std::collections::BTreeSet;

struct Checker {
    market: Market,
    seen: BTreeSet<u16>,
}

impl Checker {
    fn new(vault_usd: u128) -> Checker {
        Checker { market: Market::new(vault_usd), seen: BTreeSet::new() }
    }

    fn reject(&mut self, sender: Address, action: Action, expected: impl Into<TxError>) {
        let expected = expected.into();
        self.seen.insert(expected.code());
        self.market.reject(sender, action, expected);
    }

    fn assert_covered(&self, all: impl IntoIterator<Item = u16>) {
        let missing: Vec<u16> = all.into_iter().filter(|code| !self.seen.contains(code)).collect();
        assert!(missing.is_empty(), "codes never exercised: {missing:?}");
    }
}

fn issue(market: &mut Market, owner: Address) -> ReceiptId {
    let id = ReceiptId(*market.state.receipts.next_receipt_id.get());
    market.ok(
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt { class: h100(), owner, description: gpu_receipt(4) }),
    );
    id
}

#[test]
fn every_receipt_rejection_returns_its_code_and_changes_nothing() {
    let mut c = Checker::new(10_000_000);
    // RIVAL holds the custodian and insurer roles too, and tries to act on the others' objects.
    let (custodian_two, insurer_two) = (RIVAL, RIVAL);
    c.market
        .ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Custodian, account: custodian_two }));
    c.market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Insurer, account: insurer_two }));
    let b200 = AssetClassId::new("gpu.b200").unwrap();
    c.reject(
        STRANGER,
        Action::AddAssetClass(AddAssetClass { class: b200, terms: h100_terms() }),
        GovernanceError::SenderLacksRole,
    );
    c.reject(
        ADMIN,
        Action::AddAssetClass(AddAssetClass { class: h100(), terms: h100_terms() }),
        ReceiptError::AssetClassAlreadyExists,
    );
    c.reject(
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt {
            class: b200,
            owner: BORROWER,
            description: gpu_receipt(1),
        }),
        ReceiptError::AssetClassNotFound,
    );
    let mut bad_terms = h100_terms();
    bad_terms.new_price_per_unit = Amount::ZERO;
    c.reject(
        ADMIN,
        Action::AddAssetClass(AddAssetClass { class: b200, terms: bad_terms }),
        ReceiptError::AssetClassTermsInvalid,
    );
    c.reject(
        ADMIN,
        Action::ApplyGenerationStepDown(ApplyGenerationStepDown {
            class: h100(),
            step_down_bps: Bps(0),
        }),
        ReceiptError::StepDownOutOfRange,
    );
    c.reject(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: ReceiptId(99), value: whole(1) }),
        ReceiptError::ReceiptNotFound,
    );
    c.reject(
        STRANGER,
        Action::IssueReceipt(IssueReceipt {
            class: h100(),
            owner: BORROWER,
            description: gpu_receipt(1),
        }),
        GovernanceError::SenderLacksRole,
    );
    c.reject(
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt {
            class: h100(),
            owner: BORROWER,
            description: gpu_receipt(0),
        }),
        ReceiptError::QuantityMustNotBeZero,
    );
    let mut no_facility = gpu_receipt(1);
    no_facility.facility = String::new();
    c.reject(
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt {
            class: h100(),
            owner: BORROWER,
            description: no_facility,
        }),
        ReceiptError::TextFieldInvalid,
    );
    let bare = issue(&mut c.market, BORROWER);
    c.reject(
        custodian_two,
        Action::AmendReceipt(AmendReceipt { receipt_id: bare, description: gpu_receipt(2) }),
        ReceiptError::SenderIsNotIssuingCustodian,
    );
    c.reject(
        STRANGER,
        Action::TransferReceipt(TransferReceipt { receipt_id: bare, to: STRANGER }),
        ReceiptError::SenderIsNotReceiptOwner,
    );
    c.reject(
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: bare, to: BORROWER }),
        ReceiptError::RecipientMustNotBeOwner,
    );
    c.reject(
        INSURER,
        Action::RenewPolicy(RenewPolicy {
            receipt_id: bare,
            coverage: whole(1),
            expires_at: c.market.now() + DAY,
        }),
        ReceiptError::ReceiptHasNoPolicy,
    );
    c.reject(
        INSURER,
        Action::AttachPolicy(AttachPolicy {
            receipt_id: bare,
            policy_id: B256::ZERO,
            coverage: Amount::ZERO,
            expires_at: c.market.now() + DAY,
        }),
        ReceiptError::CoverageMustNotBeZero,
    );
    c.reject(
        INSURER,
        Action::AttachPolicy(AttachPolicy {
            receipt_id: bare,
            policy_id: B256::ZERO,
            coverage: whole(1),
            expires_at: c.market.now(),
        }),
        ReceiptError::PolicyExpiryMustBeLater,
    );
    c.reject(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: bare, value: Amount::ZERO }),
        ReceiptError::ValuationMustNotBeZero,
    );
    c.reject(
        BORROWER,
        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id: bare }),
        ReceiptError::ReceiptIsNotReleased,
    );
    let insured = c.market.issue_receipt_of_class(BORROWER, h100(), 4, whole(100_000));
    let expires_at = c.market.now() + 2 * 365 * DAY;
    c.reject(
        INSURER,
        Action::AttachPolicy(AttachPolicy {
            receipt_id: insured,
            policy_id: B256::ZERO,
            coverage: whole(1),
            expires_at,
        }),
        ReceiptError::ReceiptAlreadyInsured,
    );
    c.reject(
        insurer_two,
        Action::RenewPolicy(RenewPolicy {
            receipt_id: insured,
            coverage: whole(1),
            expires_at: expires_at + 1,
        }),
        ReceiptError::SenderIsNotPolicyInsurer,
    );
    c.reject(
        INSURER,
        Action::RenewPolicy(RenewPolicy { receipt_id: insured, coverage: whole(1), expires_at }),
        ReceiptError::PolicyExpiryMustBeLater,
    );
    c.market.ok(CUSTODIAN, Action::ReleaseReceipt(ReleaseReceipt { receipt_id: bare }));
    c.reject(
        CUSTODIAN,
        Action::ReleaseReceipt(ReleaseReceipt { receipt_id: bare }),
        ReceiptError::ReceiptIsNotIssued,
    );
    c.reject(
        CUSTODIAN,
        Action::RedeemReceipt(RedeemReceipt { receipt_id: bare }),
        ReceiptError::ReceiptRedemptionNotRequested,
    );
    c.market.ok(
        BORROWER,
        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id: bare }),
    );
    c.reject(
        BORROWER,
        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id: bare }),
        ReceiptError::ReceiptRedemptionAlreadyRequested,
    );
    c.market.ok(CUSTODIAN, Action::RedeemReceipt(RedeemReceipt { receipt_id: bare }));
    c.reject(
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: bare, to: STRANGER }),
        ReceiptError::ReceiptIsClosed,
    );

    // Eligibility at origination: lapsed insurance, short coverage, stale valuation, pledged.
    let silo = c.market.open_silo_of(CURATOR, whole(500_000), whole(5_000_000));
    let uninsured = issue(&mut c.market, BORROWER);
    c.market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: uninsured, value: whole(100_000) }),
    );
    let loan = c
        .market
        .propose(silo, terms(&c.market, BORROWER, vec![uninsured], whole(50_000), Amount::ZERO));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        ReceiptError::ReceiptInsuranceLapsed,
    );
    c.market.ok(
        INSURER,
        Action::AttachPolicy(AttachPolicy {
            receipt_id: uninsured,
            policy_id: B256::ZERO,
            coverage: whole(90_000),
            expires_at,
        }),
    );
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        ReceiptError::ReceiptCoverageInsufficient,
    );
    let stale = c.market.issue_receipt_of_class(BORROWER, h100(), 4, whole(100_000));
    c.market.advance(91 * DAY);
    let loan = c
        .market
        .propose(silo, terms(&c.market, BORROWER, vec![stale], whole(50_000), Amount::ZERO));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        ReceiptError::ReceiptValuationStale,
    );
    c.market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: stale, value: whole(100_000) }),
    );
    c.market.ok(BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: loan }));
    c.reject(
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: stale, to: STRANGER }),
        ReceiptError::ReceiptIsPledged,
    );
    let again = c
        .market
        .propose(silo, terms(&c.market, BORROWER, vec![stale], whole(10_000), Amount::ZERO));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: again }),
        ReceiptError::ReceiptIsPledged,
    );
    c.reject(
        CUSTODIAN,
        Action::ReleaseReceipt(ReleaseReceipt { receipt_id: stale }),
        ReceiptError::ReceiptIsPledged,
    );
    c.assert_covered(ReceiptError::ALL.iter().map(|e| e.code()));
}

#[test]
fn every_silo_rejection_returns_its_code_and_changes_nothing() {
    let mut c = Checker::new(10_000_000);
    c.reject(
        STRANGER,
        Action::OpenSilo(OpenSilo { terms: SiloTerms::default() }),
        GovernanceError::SenderLacksRole,
    );
    c.reject(
        CURATOR,
        Action::OpenSilo(OpenSilo { terms: SiloTerms::default() }),
        SiloError::SiloTermsInvalid,
    );
    let inverted = SiloTerms {
        eligible_classes: vec![h100()],
        max_initial_ltv_bps: Bps(9_000),
        margin_call_ltv_bps: Bps(8_000),
        ..SiloTerms::default()
    };
    c.reject(CURATOR, Action::OpenSilo(OpenSilo { terms: inverted }), SiloError::SiloTermsInvalid);
    c.reject(
        CURATOR,
        Action::DepositFirstLoss(DepositFirstLoss { silo_id: SiloId(9), amount: whole(1) }),
        SiloError::SiloNotFound,
    );
    let silo = c.market.open_silo_of(CURATOR, whole(200_000), whole(1_000_000));
    c.reject(
        CURATOR_TWO,
        Action::DepositFirstLoss(DepositFirstLoss { silo_id: silo, amount: whole(1) }),
        SiloError::SenderIsNotSiloCurator,
    );
    c.reject(
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: whole(200_001) }),
        SiloError::FirstLossPoolInsufficient,
    );
    c.reject(
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator {
            silo_id: silo,
            curator: CURATOR_TWO,
        }),
        SiloError::SiloNotFrozen,
    );
    c.reject(
        ADMIN,
        Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: false }),
        SiloError::SiloFrozenStateUnchanged,
    );
    c.reject(
        CURATOR,
        Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: silo, cap: whole(1) }),
        GovernanceError::SenderLacksRole,
    );
    let receipt = c.market.issue_receipt_of_class(BORROWER, h100(), 100, whole(3_000_000));
    // Senior cap: 1M.
    let loan = c
        .market
        .propose(silo, terms(&c.market, BORROWER, vec![receipt], whole(1_000_001), Amount::ZERO));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::SiloSeniorCapExceeded,
    );
    // First-loss: 10% of 1M senior needs 100k; the pool has 200k, withdraw leaves too little.
    let loan = c
        .market
        .originate(silo, terms(&c.market, BORROWER, vec![receipt], whole(1_000_000), Amount::ZERO));
    c.reject(
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: whole(110_001) }),
        SiloError::FirstLossWouldFallBelowRequirement,
    );
    c.market.ok(
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: whole(110_000) }),
    );
    // A margin call locks the pool.
    c.market.ok(
        APPRAISER,
        Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(1_000_000) }),
    );
    c.market.ok(KEEPER, Action::RemarkLoans(RemarkLoans { first_loan_id: loan, max_loans: 1 }));
    c.reject(
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: whole(1) }),
        SiloError::SiloHasImpairedLoans,
    );
    // Concentration: one borrower may take 10% of a 1M cap.
    let narrow = SiloTerms { max_borrower_share_bps: Bps(1_000), ..SiloTerms::default() };
    let narrow = c.market.open_silo_of_with(CURATOR_TWO, whole(100_000), whole(1_000_000), narrow);
    let other = c.market.issue_receipt_of_class(BORROWER_TWO, h100(), 100, whole(3_000_000));
    let loan = c
        .market
        .propose(narrow, terms(&c.market, BORROWER_TWO, vec![other], whole(100_001), Amount::ZERO));
    c.reject(
        BORROWER_TWO,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::BorrowerConcentrationExceeded,
    );
    // A pool too small for the requirement of a new loan: 10% of 100k with a 5k pool.
    let thin = c.market.open_silo_of(CURATOR_TWO, whole(5_000), whole(1_000_000));
    let loan = c
        .market
        .propose(thin, terms(&c.market, BORROWER_TWO, vec![other], whole(100_000), Amount::ZERO));
    c.reject(
        BORROWER_TWO,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::FirstLossBelowRequirement,
    );
    let loan =
        c.market.propose(thin, terms(&c.market, BORROWER_TWO, vec![other], whole(1), whole(5_001)));
    c.reject(
        BORROWER_TWO,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::FirstLossPoolInsufficient,
    );
    // Class eligibility.
    let a100_only = SiloTerms { eligible_classes: vec![a100()], ..SiloTerms::default() };
    let a100_silo =
        c.market.open_silo_of_with(CURATOR_TWO, whole(100_000), whole(1_000_000), a100_only);
    c.reject(
        CURATOR_TWO,
        Action::ProposeLoan(ProposeLoan {
            silo_id: a100_silo,
            terms: terms(&c.market, BORROWER_TWO, vec![other], whole(10_000), Amount::ZERO),
        }),
        SiloError::AssetClassNotEligibleInSilo,
    );
    // Freeze: no new proposals or acceptances; successor must be a curator.
    c.market.ok(ADMIN, Action::SetSiloFrozen(SetSiloFrozen { silo_id: thin, frozen: true }));
    c.reject(
        CURATOR_TWO,
        Action::ProposeLoan(ProposeLoan {
            silo_id: thin,
            terms: terms(&c.market, BORROWER_TWO, vec![other], whole(1), Amount::ZERO),
        }),
        SiloError::SiloIsFrozen,
    );
    c.reject(
        BORROWER_TWO,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::SiloIsFrozen,
    );
    c.reject(
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id: thin, curator: STRANGER }),
        SiloError::SuccessorLacksCuratorRole,
    );
    c.market.ok(
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id: thin, curator: CURATOR }),
    );
    assert_eq!(c.market.silo(thin).curator, CURATOR);
    c.assert_covered(SiloError::ALL.iter().map(|e| e.code()));
}

#[test]
fn every_loan_rejection_returns_its_code_and_changes_nothing() {
    let mut c = Checker::new(2_000_000);
    let agent_two = RIVAL;
    c.market.ok(
        ADMIN,
        Action::GrantRole(GrantRole { role: Role::LiquidationAgent, account: agent_two }),
    );
    let silo = c.market.open_silo_of(CURATOR, whole(1_000_000), whole(10_000_000));
    let receipt = c.market.issue_receipt_of_class(BORROWER, h100(), 100, whole(3_000_000));
    let spare = c.market.issue_receipt_of_class(BORROWER, h100(), 10, whole(300_000));
    let theirs = c.market.issue_receipt_of_class(BORROWER_TWO, h100(), 10, whole(300_000));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: LoanId(7) }),
        LoanError::LoanNotFound,
    );
    let mut bad = terms(&c.market, BORROWER, vec![receipt], whole(100_000), Amount::ZERO);
    bad.periods = Some(0);
    c.reject(
        CURATOR,
        Action::ProposeLoan(ProposeLoan { silo_id: silo, terms: bad }),
        LoanError::LoanTermsInvalid,
    );
    let mut bad = terms(&c.market, BORROWER, vec![receipt, receipt], whole(100_000), Amount::ZERO);
    bad.senior.rate = Rate::from_apr_bps(1_500);
    c.reject(
        CURATOR,
        Action::ProposeLoan(ProposeLoan { silo_id: silo, terms: bad }),
        LoanError::LoanTermsInvalid,
    );
    c.reject(
        CURATOR_TWO,
        Action::ProposeLoan(ProposeLoan {
            silo_id: silo,
            terms: terms(&c.market, BORROWER, vec![receipt], whole(1), Amount::ZERO),
        }),
        SiloError::SenderIsNotSiloCurator,
    );
    let loan = c
        .market
        .propose(silo, terms(&c.market, BORROWER, vec![theirs], whole(100_000), Amount::ZERO));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::ReceiptNotOwnedByBorrower,
    );
    c.reject(
        STRANGER,
        Action::CancelLoanProposal(CancelLoanProposal { loan_id: loan }),
        LoanError::SenderMayNotCancelProposal,
    );
    c.market.ok(BORROWER, Action::CancelLoanProposal(CancelLoanProposal { loan_id: loan }));
    let loan = c
        .market
        .propose(silo, terms(&c.market, BORROWER, vec![receipt], whole(2_100_001), Amount::ZERO));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::LoanLtvExceedsMax,
    );
    // The vault holds 2M: at most 90% may be deployed.
    let loan = c
        .market
        .propose(silo, terms(&c.market, BORROWER, vec![receipt], whole(1_900_000), Amount::ZERO));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::VaultMaxDeployedExceeded,
    );
    c.market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MaxDeployedBps(Bps(10_000)) }),
    );
    c.market.advance(3 * DAY);
    let loan = c
        .market
        .propose(silo, terms(&c.market, BORROWER, vec![receipt], whole(1_950_000), Amount::ZERO));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::VaultLiquidityBufferWouldBeBreached,
    );
    // With 500,000 shares in the queue (waiting out their notice), the idle USDai they are owed
    // is not the vault's to lend: a loan leaving less than that idle is refused.
    c.market.ok(DEPOSITOR, Action::RequestRedeem(RequestRedeem { shares: whole(500_000) }));
    let loan = c
        .market
        .propose(silo, terms(&c.market, BORROWER, vec![receipt], whole(1_500_001), Amount::ZERO));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::VaultLiquidityOwedToQueue,
    );
    c.market.ok(DEPOSITOR, Action::CancelRedeem(CancelRedeem { request_id: RequestId(0) }));
    let loan = c
        .market
        .propose(silo, terms(&c.market, BORROWER, vec![receipt], whole(1_000_000), Amount::ZERO));
    c.reject(
        STRANGER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::SenderIsNotLoanBorrower,
    );
    c.reject(
        BORROWER,
        Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: Amount::MAX }),
        LoanError::LoanIsNotActive,
    );
    c.market
        .ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Borrowing, paused: true }));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        GovernanceError::ActionIsPaused,
    );
    c.market
        .ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Borrowing, paused: false }));
    c.market.advance(8 * DAY);
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::LoanProposalExpired,
    );
    let loan = c
        .market
        .originate(silo, terms(&c.market, BORROWER, vec![receipt], whole(1_000_000), Amount::ZERO));
    c.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        LoanError::LoanIsNotAProposal,
    );
    c.reject(
        BORROWER,
        Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: whole(1) }),
        LoanError::PaymentExceedsMaximum,
    );
    c.reject(
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: loan,
            principal: whole(1_000_001),
            max_amount: Amount::MAX,
        }),
        LoanError::PrepaymentExceedsBalance,
    );
    c.reject(
        BORROWER,
        Action::PledgeReceipts(PledgeReceipts { loan_id: loan, receipt_ids: vec![spare, spare] }),
        LoanError::LoanReceiptsLimitReached,
    );
    c.reject(
        KEEPER,
        Action::RemarkLoans(RemarkLoans { first_loan_id: loan, max_loans: 0 }),
        LoanError::RemarkBatchOutOfRange,
    );
    c.reject(
        KEEPER,
        Action::TriggerDefault(TriggerDefault { loan_id: loan }),
        LoanError::LoanIsNotInDefault,
    );
    c.reject(
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan {
            loan_id: loan,
            liquidation_agent: LIQUIDATION_AGENT,
        }),
        LoanError::LoanIsNotDefaulted,
    );
    c.reject(
        LIQUIDATION_AGENT,
        Action::ReportSale(ReportSale { receipt_id: receipt, report: SaleReport::default() }),
        LoanError::ReceiptIsNotForeclosed,
    );
    c.reject(
        BORROWER,
        Action::ClaimLoanSurplus(ClaimLoanSurplus { loan_id: loan }),
        LoanError::LoanSurplusIsZero,
    );
    // Late: no prepayment before the missed payment; past grace: default only.
    c.market.advance(MONTH + DAY);
    c.reject(
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: loan,
            principal: whole(1),
            max_amount: Amount::MAX,
        }),
        LoanError::LoanPaymentsOverdue,
    );
    c.market.advance(15 * DAY);
    c.reject(
        BORROWER,
        Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: Amount::MAX }),
        LoanError::LoanDefaultIsPending,
    );
    c.market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    c.reject(
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan { loan_id: loan, liquidation_agent: STRANGER }),
        LoanError::LiquidationAgentLacksRole,
    );
    c.reject(
        STRANGER,
        Action::ForecloseLoan(ForecloseLoan {
            loan_id: loan,
            liquidation_agent: LIQUIDATION_AGENT,
        }),
        SiloError::SenderIsNotSiloCurator,
    );
    c.market.ok(
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan {
            loan_id: loan,
            liquidation_agent: LIQUIDATION_AGENT,
        }),
    );
    c.reject(
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan {
            loan_id: loan,
            liquidation_agent: LIQUIDATION_AGENT,
        }),
        LoanError::LoanAlreadyForeclosed,
    );
    let report =
        SaleReport { gross_proceeds: whole(100), legal_costs: whole(101), ..SaleReport::default() };
    c.reject(
        agent_two,
        Action::ReportSale(ReportSale { receipt_id: receipt, report }),
        LoanError::SenderIsNotLoanLiquidationAgent,
    );
    c.reject(
        STRANGER,
        Action::ReportSale(ReportSale { receipt_id: receipt, report }),
        GovernanceError::SenderLacksRole,
    );
    c.reject(
        LIQUIDATION_AGENT,
        Action::ReportSale(ReportSale { receipt_id: receipt, report }),
        LoanError::SaleCostsExceedProceeds,
    );
    c.reject(
        INSURER,
        Action::PayInsuranceClaim(PayInsuranceClaim {
            receipt_id: receipt,
            amount: whole(3_000_001),
        }),
        LoanError::InsuranceClaimExceedsCoverage,
    );
    assert_eq!(
        c.market.state.receipts.receipts.get(&receipt).unwrap().status,
        ReceiptStatus::Foreclosed
    );
    c.assert_covered(LoanError::ALL.iter().map(|e| e.code()));
}
