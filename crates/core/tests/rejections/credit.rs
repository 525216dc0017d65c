//! The credit fixtures shared by the receipt, silo and loan cases.
//!
//! Credit (6xx receipts, 7xx silos, 8xx loans). Every loan here is real: a custodian-issued,
//! insured and appraised receipt, a silo with first-loss capital, a curator's proposal and the
//! borrower's acceptance.

use super::*;

/// A class nobody registers at genesis (the admin may add it).
pub(crate) const B200: AssetClassId = match AssetClassId::new("gpu.b200") {
    Some(class) => class,
    None => panic!("valid class name"),
};

/// A credit market: Alice's 1,000,000 USDai staked in the vault, the curator's silo with
/// 100,000 of first-loss capital and a 1,000,000 senior cap, and a receipt for 10 GPUs owned by
/// the borrower, insured for and appraised at 300,000.
pub(crate) fn credit_market() -> (Market, SiloId, ReceiptId) {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000_000));
    market.stake(ALICE, whole(1_000_000));
    let silo = market.open_silo(whole(100_000), whole(1_000_000));
    let receipt = market.issue_receipt(BORROWER, 10, whole(300_000));
    (market, silo, receipt)
}

/// The curator proposes `terms(now)` in `silo`; returns the proposal's id.
pub(crate) fn propose(
    market: &mut Market,
    silo: SiloId,
    terms: impl FnOnce(u64) -> LoanTerms,
) -> LoanId {
    let loan_id = LoanId(*market.state.loans.next_loan_id.get());
    let terms = terms(market.now());
    market.ok(CURATOR, Action::ProposeLoan(ProposeLoan { silo_id: silo, terms }));
    loan_id
}

/// `credit_market` with 100,000 lent at 12% against the receipt (monthly payments, 15 days of
/// grace).
pub(crate) fn market_with_loan() -> (Market, SiloId, ReceiptId, LoanId) {
    let (mut market, silo, receipt) = credit_market();
    let loan = market.originate(silo, senior_loan(receipt, whole(100_000), 1_200, market.now()));
    (market, silo, receipt, loan)
}

/// `market_with_loan`, past the loan's first deadline and grace period, defaulted and
/// foreclosed to the liquidation agent.
pub(crate) fn market_with_foreclosed_loan() -> (Market, ReceiptId, LoanId) {
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
