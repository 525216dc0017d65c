//! Regression: when every holder left while harvested yield was still vesting, the round that
//! burned the last share left that yield in a vault with no shares. The next depositor's first
//! share unit was then priced at the whole orphaned amount (NAV / VIRTUAL_SHARES), so its
//! shares were far below the minimum redemption size and its deposit bought a windfall it had
//! not earned. The round that burns the last share now sends whatever USDai the vault still
//! holds to the fee collector and clears the vesting schedule.

use infrafi_core::action::{Claim, HarvestBaseYield, PostTbillRate, RequestRedeem, ServiceQueue};
use infrafi_core::{Action, Amount, Event, ProtocolAccount, Rate};
use infrafi_testkit::market::*;

#[test]
fn the_round_that_burns_the_last_share_sweeps_the_vault_to_the_fee_collector() {
    let mut market = Market::new();
    market.ok(ORACLE, Action::PostTbillRate(PostTbillRate { rate: Rate::from_apr_bps(500) }));
    market.mint(ALICE, whole(1_000));
    market.stake(ALICE, whole(1_000));
    market.advance(30 * DAY);
    market.refresh_prices();
    market.ok(KEEPER, Action::HarvestBaseYield(HarvestBaseYield {}));
    let harvested = market.nav().unvested;
    assert!(!harvested.is_zero(), "the harvest vests over 8 hours");
    let shares = market.susdai(ALICE);
    let request =
        Market::request_id(&market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares })));
    market.advance(7 * DAY);
    // The 7-day wait outlasts the 8-hour vesting: Alice is paid the vested yield too. What is
    // left after her round is rounding dust (each conversion rounds in the vault's favour).
    let fees_before = market.usdai(ProtocolAccount::FeeCollector);
    let left_before_round = market.vault_usdai();
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let served: Amount = events
        .iter()
        .filter_map(|e| match e {
            Event::RedemptionServed { assets, .. } => Some(*assets),
            _ => None,
        })
        .fold(Amount::ZERO, |a, b| Amount(a.0 + b.0));
    let swept = left_before_round.0 - served.0;
    assert_eq!(market.vault_usdai(), Amount::ZERO, "nothing stays in a vault with no shares");
    assert_eq!(market.usdai(ProtocolAccount::FeeCollector).0, fees_before.0 + swept);
    if swept > 0 {
        assert!(
            events.iter().any(
                |e| matches!(e, Event::OrphanedVaultAssetsSwept { amount } if amount.0 == swept)
            )
        );
    }
    market.ok(ALICE, Action::Claim(Claim { request_id: request }));

    // The next depositor starts from a clean vault: one USDai buys one sUSDai again.
    market.refresh_prices();
    market.mint(BOB, whole(500));
    let deposit = market.usdai(BOB); // 500 less the mint's rounding at the grown T-bill index.
    market.stake(BOB, deposit);
    assert_eq!(market.susdai(BOB), deposit);
}

#[test]
fn yield_still_vesting_when_the_last_holder_leaves_goes_to_the_fee_collector() {
    let mut market = Market::with_params(|params| params.notice_period_secs = 0);
    market.ok(ORACLE, Action::PostTbillRate(PostTbillRate { rate: Rate::from_apr_bps(500) }));
    market.mint(ALICE, whole(1_000));
    market.stake(ALICE, whole(1_000));
    market.advance(30 * DAY);
    market.refresh_prices();
    let shares = market.susdai(ALICE);
    let request =
        Market::request_id(&market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares })));
    // Harvest and round in the same block: the yield has not vested at all, so Alice is paid
    // her 1,000 (the unvested yield is outside NAV) and the whole harvest is orphaned.
    market.ok(KEEPER, Action::HarvestBaseYield(HarvestBaseYield {}));
    let unvested = market.nav().unvested;
    assert!(!unvested.is_zero());
    let fees_before = market.usdai(ProtocolAccount::FeeCollector);
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let swept = events.iter().find_map(|e| match e {
        Event::OrphanedVaultAssetsSwept { amount } => Some(*amount),
        _ => None,
    });
    let swept = swept.expect("the unvested yield is swept");
    assert!(swept >= unvested, "the sweep takes the unvested yield (and any dust)");
    assert_eq!(market.usdai(ProtocolAccount::FeeCollector).0, fees_before.0 + swept.0);
    assert_eq!(market.vault_usdai(), Amount::ZERO);
    assert_eq!(market.nav().unvested, Amount::ZERO, "the vesting schedule is cleared");
    market.ok(ALICE, Action::Claim(Claim { request_id: request }));
    market.mint(BOB, whole(500));
    let deposit = market.usdai(BOB); // 500 less the mint's rounding at the grown T-bill index.
    market.stake(BOB, deposit);
    assert_eq!(market.susdai(BOB), deposit, "the next depositor buys at 1:1");
}
