//! The deposit price counts only what the vault will receive (issue 11 item 2).
//!
//! Optimistic NAV (the deposit price) used to accrue senior interest gross of the performance
//! fee and the curator fee. A depositor paid for interest the vault would never receive, and
//! the deposit price fell at every payment, when the fees left. Now each senior position
//! accrues net of both fees, so an on-time payment moves the deposit price by rounding only.

use crate::common::{ALICE, BORROWER, CURATOR, DAY, GpuLoan, Market, whole};
use infrafi_core::{Action, Amount, Bps, LoanId, ProtocolAccount, action::RepayLoan};

/// A 10% performance fee, a silo whose curator takes 20% of senior interest, and a 500,000
/// USDai loan at 12% from a vault of 1,000,000 (monthly payments).
fn market_with_fees() -> (Market, LoanId) {
    let (mut market, silo) = Market::builder()
        .params(|params| params.performance_fee_bps = Bps(1_000))
        .staked(ALICE, whole(1_000_000))
        .with_silo_terms(whole(100_000), whole(1_000_000), |terms| {
            terms.curator_fee_bps = Bps(2_000);
        });
    let loan =
        GpuLoan { units: 50, appraisal: whole(1_500_000), senior: whole(500_000), apr_bps: 1_200 };
    let (loan, _) = market.lend(silo, loan);
    (market, loan)
}

/// Attack: a depositor stakes just before an on-time payment at a deposit price that counts a
/// month of senior interest gross of the 10% performance fee and the 20% curator fee (about
/// 1,380 USDai the vault never receives on 4,931 of interest); at the payment the fees leave
/// and the price falls, so the newcomer paid the holders for nothing. Now the position accrues
/// net of fees: across the payment optimistic NAV moves by a few units of rounding and the
/// deposit price by at most one unit per share, while both fees are really paid.
#[test]
fn the_deposit_price_is_continuous_across_an_on_time_payment_with_fees() {
    let (mut market, loan_id) = market_with_fees();
    // The first deadline, to the second: on time, a whole interval of interest accrued.
    market.advance(30 * DAY);
    market.begin_block();
    assert_eq!(market.now(), market.loan(loan_id).next_due_at);
    let fee_collector = market.balance(ProtocolAccount::FeeCollector, infrafi_core::Asset::Usdai);
    let curator = market.balance(CURATOR, infrafi_core::Asset::Usdai);
    let before = market.nav();
    market.ok(BORROWER, Action::RepayLoan(RepayLoan { loan_id, max_amount: Amount::MAX }));
    let after = market.nav();
    let performance_fee = market
        .balance(ProtocolAccount::FeeCollector, infrafi_core::Asset::Usdai)
        .checked_sub(fee_collector)
        .expect("fees only arrive");
    let curator_fee =
        market.balance(CURATOR, infrafi_core::Asset::Usdai).checked_sub(curator).expect("paid");
    // 500,000 x 12% x 30/365 = 4,931.5 USDai of interest: 10% of it, then 20% of the rest.
    assert!(performance_fee > whole(493) && performance_fee < whole(494), "{performance_fee}");
    assert!(curator_fee > whole(887) && curator_fee < whole(888), "{curator_fee}");
    let moved = after.optimistic.0.abs_diff(before.optimistic.0);
    assert!(moved <= 3, "optimistic NAV moved by {moved} units across the payment");
    let price_moved = after.deposit_price_wad().abs_diff(before.deposit_price_wad());
    assert!(price_moved <= 1, "the deposit price moved by {price_moved} across the payment");
    assert!(after.redemption_price_wad() <= after.deposit_price_wad());
}
