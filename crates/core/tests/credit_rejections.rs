//! Credit rejections reached through actions the code table does not use, in the credit
//! tests' market (depreciating H100 and A100 classes, two curators, two borrowers). Every code
//! is proven, once, by `tests/rejections/` (in code order, with a test that none is missing);
//! the cases here are the (action, code) pairs that table does not send, each leaving the
//! state unchanged.
#![allow(clippy::unwrap_used)]

mod credit_common;

use credit_common::*;
use infrafi_core::{
    Action, Amount, AssetClassId,
    action::{
        AcceptLoan, AddAssetClass, DepositFirstLoss, ForecloseLoan, IssueReceipt, OpenSilo,
        PrepayLoan, ProposeLoan, RepayLoan, ReportSale, SetPause, SetSiloSeniorCap, TriggerDefault,
    },
    governance::GovernanceError,
    loans::{LoanError, SaleReport},
    params::PauseScope,
    receipts::{ReceiptError, ReceiptStatus},
    silos::{SiloError, SiloTerms},
};

#[test]
fn receipts_refuse_strangers_blank_text_and_a_receipt_pledged_twice() {
    let mut market = Market::new(10_000_000);
    let b200 = AssetClassId::new("gpu.b200").unwrap();
    market.reject(
        STRANGER,
        Action::AddAssetClass(AddAssetClass { class: b200, terms: h100_terms() }),
        GovernanceError::SenderLacksRole,
    );
    let description = gpu_receipt(1);
    market.reject(
        STRANGER,
        Action::IssueReceipt(IssueReceipt { class: h100(), owner: BORROWER, description }),
        GovernanceError::SenderLacksRole,
    );
    let mut no_facility = gpu_receipt(1);
    no_facility.facility = String::new();
    market.reject(
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt {
            class: h100(),
            owner: BORROWER,
            description: no_facility,
        }),
        ReceiptError::TextFieldInvalid,
    );
    // A receipt backing an active loan cannot back a second one.
    let silo = market.open_silo_of(CURATOR, whole(500_000), whole(5_000_000));
    let pledged = market.issue_receipt_of_class(BORROWER, h100(), 4, whole(100_000));
    market.originate(silo, terms(&market, BORROWER, vec![pledged], whole(50_000), Amount::ZERO));
    let again =
        market.propose(silo, terms(&market, BORROWER, vec![pledged], whole(10_000), Amount::ZERO));
    market.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: again }),
        ReceiptError::ReceiptIsPledged,
    );
}

#[test]
fn silos_refuse_a_stranger_another_curator_a_curator_setting_its_cap_and_a_thin_pool() {
    let mut market = Market::new(10_000_000);
    market.reject(
        STRANGER,
        Action::OpenSilo(OpenSilo { terms: SiloTerms::default() }),
        GovernanceError::SenderLacksRole,
    );
    let silo = market.open_silo_of(CURATOR, whole(200_000), whole(1_000_000));
    market.reject(
        CURATOR_TWO,
        Action::DepositFirstLoss(DepositFirstLoss { silo_id: silo, amount: whole(1) }),
        SiloError::SenderIsNotSiloCurator,
    );
    // Only admin sets a silo's senior cap, not its curator.
    market.reject(
        CURATOR,
        Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: silo, cap: whole(1) }),
        GovernanceError::SenderLacksRole,
    );
    // A 5,000 pool cannot back a loan whose first-loss requirement is 10% of 5,001 + 1.
    let thin = market.open_silo_of(CURATOR_TWO, whole(5_000), whole(1_000_000));
    let receipt = market.issue_receipt_of_class(BORROWER_TWO, h100(), 100, whole(3_000_000));
    let loan =
        market.propose(thin, terms(&market, BORROWER_TWO, vec![receipt], whole(1), whole(5_001)));
    market.reject(
        BORROWER_TWO,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::FirstLossPoolInsufficient,
    );
}

#[test]
fn loans_refuse_another_curator_a_paused_acceptance_and_payments_out_of_their_time() {
    let mut market = Market::new(2_000_000);
    let silo = market.open_silo_of(CURATOR, whole(1_000_000), whole(10_000_000));
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 100, whole(3_000_000));
    market.reject(
        CURATOR_TWO,
        Action::ProposeLoan(ProposeLoan {
            silo_id: silo,
            terms: terms(&market, BORROWER, vec![receipt], whole(1), Amount::ZERO),
        }),
        SiloError::SenderIsNotSiloCurator,
    );
    let loan = market
        .propose(silo, terms(&market, BORROWER, vec![receipt], whole(1_000_000), Amount::ZERO));
    // A proposal is not a loan yet: nothing to repay.
    market.reject(
        BORROWER,
        Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: Amount::MAX }),
        LoanError::LoanIsNotActive,
    );
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Borrowing, paused: true }));
    market.reject(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        GovernanceError::ActionIsPaused,
    );
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Borrowing, paused: false }));
    market.ok(BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: loan }));
    // Late: no prepayment before the missed payment; past grace: default only.
    market.advance(MONTH + DAY);
    market.reject(
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: loan,
            principal: whole(1),
            max_amount: Amount::MAX,
        }),
        LoanError::LoanPaymentsOverdue,
    );
    market.advance(15 * DAY);
    market.reject(
        BORROWER,
        Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: Amount::MAX }),
        LoanError::LoanDefaultIsPending,
    );
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    let foreclose = ForecloseLoan { loan_id: loan, liquidation_agent: LIQUIDATION_AGENT };
    market.ok(CURATOR, Action::ForecloseLoan(foreclose));
    // Only a liquidation agent reports a sale.
    let report = SaleReport { gross_proceeds: whole(100), ..SaleReport::default() };
    market.reject(
        STRANGER,
        Action::ReportSale(ReportSale { receipt_id: receipt, report }),
        GovernanceError::SenderLacksRole,
    );
    assert_eq!(
        market.state.receipts.receipts.get(&receipt).unwrap().status,
        ReceiptStatus::Foreclosed
    );
}
