//! Originations cannot take the queue's liquidity (issue 11 item 3).
//!
//! The vault used to check only its liquidity buffer (a share of NAV) at origination. With
//! holders queued to leave, a curator and a borrower could take the idle USDai the queue was
//! owed, leaving the holders who asked first to wait on the loan's amortization. Now a loan
//! must leave idle every queued request's value at the redemption price plus the buffer on the
//! shares that stay (`vault_liquidity_owed_to_queue` otherwise).

use crate::common::{ALICE, BOB, BORROWER, CURATOR, DAY, KEEPER, Market, senior_loan, whole};
use infrafi_core::{
    Action, Asset, LoanId, ProtocolAccount,
    action::{AcceptLoan, Claim, ProposeLoan, RequestRedeem, ServiceQueue},
    loans::LoanError,
    queue::ROUND_REQUESTS_MAX,
};

/// Attack: Alice and Bob have queued 400,000 of the vault's 1,000,000 shares and wait out their
/// notice. A curator's borrower then accepts a loan of 900,000 (within the 90% deployment limit
/// and the 5% buffer of the old rule), so when the notice ends there is no liquidity and the
/// queue waits on a 12-month amortization. Now the acceptance is rejected with
/// `vault_liquidity_owed_to_queue` and changes nothing; the largest loan the vault still makes
/// leaves exactly what the queue is owed plus the buffer, and the first round after the notice
/// pays both holders in full.
#[test]
fn a_loan_cannot_take_the_liquidity_that_queued_holders_are_owed() {
    let (mut market, silo) = Market::builder()
        .staked(ALICE, whole(500_000))
        .staked(BOB, whole(500_000))
        .with_silo(whole(100_000), whole(1_000_000));
    let alice = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(250_000) })),
    );
    let bob = Market::request_id(
        &market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(150_000) })),
    );
    let receipt = market.issue_receipt(BORROWER, 100, whole(3_000_000));
    let propose = |market: &mut Market, senior| {
        let loan_id = LoanId(*market.state.loans.next_loan_id.get());
        let terms = senior_loan(receipt, whole(senior), 1_000, market.now());
        market.ok(CURATOR, Action::ProposeLoan(ProposeLoan { silo_id: silo, terms }));
        loan_id
    };
    let starve = propose(&mut market, 900_000);
    market.rejected(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: starve }),
        LoanError::VaultLiquidityOwedToQueue,
    );
    // Owed 400,000; the buffer is 5% of the 600,000 that stay: 30,000. 570,000 can be lent.
    let one_unit_more = propose(&mut market, 570_001);
    market.rejected(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: one_unit_more }),
        LoanError::VaultLiquidityBufferWouldBeBreached,
    );
    market.originate(silo, senior_loan(receipt, whole(570_000), 1_000, market.now()));
    assert_eq!(market.balance(ProtocolAccount::Vault, Asset::Usdai), whole(430_000));
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }));
    for (holder, id, shares) in [(ALICE, alice, 250_000), (BOB, bob, 150_000)] {
        let before = market.balance(holder, Asset::Usdai);
        market.ok(holder, Action::Claim(Claim { request_id: id }));
        let paid = market.balance(holder, Asset::Usdai).checked_sub(before).expect("paid");
        // A week of interest raised the deposit price, not the redemption price (conservative
        // NAV): each holder gets exactly its shares at 1.0, none short.
        assert_eq!(paid, whole(shares), "holder {holder} is paid in full");
    }
    // What stays idle is the buffer of the holders who stay.
    assert_eq!(market.balance(ProtocolAccount::Vault, Asset::Usdai), whole(30_000));
}
