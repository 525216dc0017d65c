//! A curator lending to itself (issue 9).
//!
//! A curator proposes the loans of its silo and the borrower accepts them. A curator that is
//! also the borrower (or controls it) decides both sides, and would like to borrow more of the
//! vault's USDai than its silo's published terms allow, then walk away. Every limit is checked
//! at acceptance against the silo and the vault, whoever the borrower is: the initial LTV on
//! the appraiser's value (not the curator's), the senior cap the admin set, one borrower's
//! share of that cap, the first-loss capital the senior tranche requires. And when such a loan
//! defaults, the shortfall of the sale falls on the curator's own first-loss capital before the
//! vault.

use crate::common::{
    ALICE, BOB, CURATOR, LIQUIDATION_AGENT, Market, model_sale, senior_loan, whole,
};
use infrafi_core::{
    Action, Amount, Bps, LoanId, TxError,
    action::{AcceptLoan, CancelLoanProposal, DepositFirstLoss, ProposeLoan},
    ids::{ReceiptId, SiloId},
    loans::{LoanError, LoanStatus, LoanTerms},
    silos::SiloError,
};

/// The curator proposes `senior` to itself against `receipt` and accepts; the first rejection.
fn lend_to_itself(
    market: &mut Market,
    silo_id: SiloId,
    receipt: ReceiptId,
    senior: u128,
) -> Result<LoanId, TxError> {
    let terms =
        LoanTerms { borrower: CURATOR, ..senior_loan(receipt, whole(senior), 1_000, market.now()) };
    let loan_id = market.next_loan_id();
    market.try_apply(CURATOR, Action::ProposeLoan(ProposeLoan { silo_id, terms }))?;
    market.try_apply(CURATOR, Action::AcceptLoan(AcceptLoan { loan_id }))?;
    Ok(loan_id)
}

/// Attack: the curator opens a silo (initial LTV 70%, one borrower at most half of the cap),
/// posts 12,000 of first-loss capital, and the admin caps it at 250,000. Against its own GPUs,
/// appraised at 200,000, it tries to lend itself 150,000 (LTV 75%), then 130,000 (above half
/// the cap), then 125,000 with too little first-loss capital (12,500 needed): each is refused
/// with its code and changes nothing. With 500 more of its own capital, 125,000 is allowed.
/// The curator then stops paying: the loan defaults, the hardware sells for 180,000 less the
/// 30% commission, short of the principal and interest, and the curator's pool pays the
/// shortfall: the vault gets back every unit of its principal.
#[test]
fn a_curator_lending_to_itself_is_held_to_every_limit_and_bears_the_first_loss() {
    // The silo is opened as a curator would: its own terms, its own capital (and 500 more).
    let (mut market, silo_id) = Market::builder()
        .staked(ALICE, whole(1_000_000))
        .holding(CURATOR, whole(500))
        .with_silo_terms(whole(12_000), whole(250_000), |terms| {
            terms.max_borrower_share_bps = Bps(5_000);
        });
    let receipt = market.issue_receipt(CURATOR, 7, whole(200_000));
    for (senior, refusal) in [
        (150_000, TxError::from(LoanError::LoanLtvExceedsMax)),
        (130_000, SiloError::BorrowerConcentrationExceeded.into()),
        (125_000, SiloError::FirstLossBelowRequirement.into()),
    ] {
        let result = lend_to_itself(&mut market, silo_id, receipt, senior);
        assert_eq!(result.err(), Some(refusal), "a loan of {senior} to itself");
        // A refused acceptance leaves only the proposal, which the curator cancels.
        let proposal = LoanId(market.next_loan_id().0 - 1);
        let proposed = market.state.loans.loans.get(&proposal).map(|loan| loan.status);
        if proposed == Some(LoanStatus::Proposed) {
            let cancel = CancelLoanProposal { loan_id: proposal };
            market.ok(CURATOR, Action::CancelLoanProposal(cancel));
        }
    }
    assert_eq!(market.senior().principal, Amount::ZERO, "nothing was lent");
    market.ok(CURATOR, Action::DepositFirstLoss(DepositFirstLoss { silo_id, amount: whole(500) }));
    let loan = lend_to_itself(&mut market, silo_id, receipt, 125_000).expect("within every limit");
    // It never pays: after the deadline and the grace period the keeper defaults the loan.
    market.default_after_grace(loan);
    market.foreclose(loan, LIQUIDATION_AGENT);
    let gross = whole(180_000);
    market.buyer_pays(BOB, LIQUIDATION_AGENT, gross);
    let vault_before = market.vault_usdai();
    market.report_sale(LIQUIDATION_AGENT, receipt, model_sale(gross));
    assert_eq!(market.loan(loan).status, LoanStatus::Settled);
    let back = market.vault_usdai().checked_sub(vault_before).expect("the vault gained");
    assert!(back >= whole(125_000), "the vault got its principal back: {back:?}");
    assert!(market.silo(silo_id).losses_absorbed > Amount::ZERO, "the curator's pool paid");
    assert_eq!(market.senior().principal, Amount::ZERO);
    assert!(market.nav().conservative >= whole(1_000_000), "Alice lost nothing");
}
