//! Staking around a repayment or a harvest (issue 9).
//!
//! The vault's value grows in steps that anyone can see coming: a loan's monthly payment brings
//! a month of interest, a harvest brings the T-bill yield the reserve earned. An attacker
//! stakes just before the step and asks to leave just after, to take a share of income earned
//! while it was not there. Deposits are priced at optimistic NAV, which already counts the
//! interest accrued (net of fees) and the harvested yield still vesting; redemptions at
//! conservative NAV, which counts neither until paid or vested. So the step is already in the
//! price the attacker pays, and what it can take out is what it paid plus what accrues while
//! it is in (nothing here: it leaves as soon as the notice allows and no payment falls due).

use crate::common::{ALICE, DAVE, DAY, GpuLoan, KEEPER, Market, whole};
use infrafi_core::{Action, action::HarvestBaseYield};

const ATTACKER: infrafi_core::Address = DAVE;

/// Attack: a loan of 500,000 at 12% pays monthly. In the block of the payment, just before
/// it, the attacker stakes 100,000; the borrower pays a month of interest into the vault; the
/// attacker asks to leave at once. Its shares were priced with the month's interest already in
/// (optimistic NAV), so right after the payment they redeem for what it paid, and after the
/// notice it is paid that, give or take a few units of rounding: nothing of the month it was
/// not there for.
#[test]
fn staking_just_before_a_repayment_takes_none_of_the_interest_it_pays() {
    let (mut market, silo) = Market::builder()
        .staked(ALICE, whole(1_000_000))
        .with_silo(whole(100_000), whole(1_000_000));
    let (loan, _) = market.lend(
        silo,
        GpuLoan { units: 40, appraisal: whole(1_000_000), senior: whole(500_000), apr_bps: 1_200 },
    );
    market.advance(market.loan(loan).next_due_at - market.now());
    market.refresh_prices();
    market.mint(ATTACKER, whole(100_000));
    market.stake(ATTACKER, whole(100_000));
    let interest_paid = market.repay(loan);
    assert!(interest_paid > whole(45_000), "a month of interest and principal was paid");
    let worth = market.nav().assets_for_redemption(market.susdai(ATTACKER)).expect("value");
    assert!(worth.0 <= whole(100_000).0 + 3, "right after the payment: {worth:?}");
    let paid = market.leave(ATTACKER);
    assert!(paid.0 <= whole(100_000).0 + 3, "the attacker took out {paid:?} for 100,000");
}

/// Attack: the reserve has earned 30 days of T-bill yield at 4.5% on 1,000,000 (about 3,700
/// USDai); a keeper harvests it into the vault, where it vests over 8 hours. The attacker
/// stakes 100,000 at once and asks to leave. The yield still vesting is in the deposit price,
/// so it pays for its share of it: after the notice it is paid its 100,000 back (less
/// rounding), not a slice of the month's yield. (Left out of the deposit price, the vesting
/// yield went about 9% to the attacker: some 336 USDai taken from Alice.)
#[test]
fn staking_while_a_harvest_vests_takes_none_of_the_yield_earned_before() {
    let mut market = Market::builder().tbill_apr_bps(450).staked(ALICE, whole(1_000_000)).build();
    market.advance(30 * DAY);
    market.ok(KEEPER, Action::HarvestBaseYield(HarvestBaseYield {}));
    assert!(market.nav().unvested > whole(3_000), "the month's yield is vesting");
    market.refresh_prices();
    market.mint(ATTACKER, whole(100_000));
    // What the mint gave (less than 100,000 if the reserve charges a mint fee).
    let staked = market.usdai(ATTACKER);
    market.stake(ATTACKER, staked);
    let paid = market.leave(ATTACKER);
    assert!(paid.0 <= staked.0 + 3, "the attacker took out {paid:?} for {staked:?}");
    assert!(paid.0 + 3 >= staked.0, "and lost nothing either: {paid:?}");
}
