//! Holders bid for priority in the QEV auction (SPEC 11, `[holders.bids]`): in a run the
//! urgent holders' bids clear at a positive price, they are served sooner than the plain
//! requests made the same day, and the requests they pass are paid wait-fees. With the model
//! off nobody bids and every round clears at 0, as before the auction existed.

mod common;

use infrafi_sim::{PathOutcome, Scenario, Simulation, scenario::RunSpec};
use std::collections::BTreeMap;

/// A quiet small book where, on one day of month 1, every holder asks to redeem 70% of its
/// shares: far more than the vault's idle cash, so the queue is served over months by
/// repayments. Most of the run's requests are urgent when `bids` is on, more than the first
/// round after the notice period can serve, so the urgent compete among themselves.
fn run_in_one_day(bids: bool) -> Scenario {
    let mut scenario = common::quiet(common::small_base(24, 20));
    scenario.horizon_months = 12;
    scenario.book.deployed_share_bps = 9_000;
    scenario.holders.runs = vec![RunSpec { month: 1, share_bps: 7_000, days: 1 }];
    scenario.holders.bids.urgent_share = 0.0;
    scenario.holders.bids.urgent_share_in_run = if bids { 0.8 } else { 0.0 };
    scenario.validate().expect("valid");
    scenario
}

/// Mean of a share-weighted histogram of waits (days -> shares).
fn mean_wait(histogram: &BTreeMap<u32, f64>) -> f64 {
    let shares: f64 = histogram.values().sum();
    histogram.iter().map(|(days, weight)| f64::from(*days) * weight).sum::<f64>() / shares
}

/// The waits of the requests that did not bid: all waits less the bidders'.
fn plain_waits(outcome: &PathOutcome) -> BTreeMap<u32, f64> {
    let mut plain = outcome.waits.clone();
    for (days, shares) in &outcome.bidder_waits {
        *plain.get_mut(days).expect("a bidder's wait is among all waits") -= shares;
    }
    plain.retain(|_, shares| *shares > 1e-9);
    plain
}

#[test]
fn urgent_holders_in_a_run_clear_at_a_positive_price_and_are_served_before_plain_requests() {
    let simulation = Simulation::new(run_in_one_day(true)).expect("book");
    let outcomes = simulation.run(2, 5, None).expect("run");
    for (path, outcome) in outcomes.iter().enumerate() {
        assert!(outcome.bids > 0, "path {path}: some urgent holder bid");
        assert!(outcome.clearing_price_max > 0.0, "path {path}: a round cleared above 0");
        let (bidders, plain) = (mean_wait(&outcome.bidder_waits), mean_wait(&plain_waits(outcome)));
        // Every request was made the same day, so a shorter mean wait is the bids' doing.
        assert!(bidders < plain, "path {path}: bidders waited {bidders} days, others {plain}");
        let lead = outcome.bid_lead_days.expect("bidders and plain requests on the run's day");
        assert!((lead - (plain - bidders)).abs() < 1e-6, "path {path}: lead {lead} days");
        assert!(outcome.priority_fees_usd > 0.0, "path {path}: jumpers paid for priority");
        assert!(
            outcome.wait_fees_usd > 0.0 && outcome.wait_fees_usd < outcome.priority_fees_usd,
            "path {path}: the overtaken were paid the fees less the protocol's cut"
        );
    }
    let summary = simulation.summarize(&outcomes, 5);
    assert!(summary.clearing_price_usd.p50 > 0.0);
    assert!(summary.bidder_queue_wait_days.mean < summary.run_queue_wait_days.mean);
    assert!(summary.notes.is_empty(), "no note says bids are off: {:?}", summary.notes);
}

#[test]
fn with_the_bid_model_off_every_path_clears_at_zero_although_the_queue_backs_up() {
    let simulation = Simulation::new(run_in_one_day(false)).expect("book");
    let outcomes = simulation.run(2, 5, None).expect("run");
    let notice_days = 7;
    for (path, outcome) in outcomes.iter().enumerate() {
        assert_eq!((outcome.bids, outcome.urgent_without_bid), (0, 0), "path {path}");
        assert_eq!(outcome.clearing_price_max, 0.0, "path {path}");
        assert_eq!(outcome.wait_fees_usd, 0.0, "path {path}");
        assert!(outcome.bidder_waits.is_empty(), "path {path}");
        assert_eq!(outcome.bid_lead_days, None, "path {path}");
        // The run outgrew the idle cash: some shares waited well past the notice period, so
        // bids would have had something to buy.
        assert!(outcome.waits.keys().any(|days| *days > 3 * notice_days), "path {path}");
    }
    let summary = simulation.summarize(&outcomes, 5);
    assert!(summary.notes.iter().any(|note| note.contains("do not bid")), "{:?}", summary.notes);
}

#[test]
fn patient_holders_claim_the_wait_fees_still_vesting_at_service_once_they_have_vested() {
    // Urgent holders keep arriving after the run, so plain requests are still being passed
    // (and credited) shortly before their own service: their first claim cannot take it all.
    let mut scenario = run_in_one_day(true);
    scenario.holders.runs[0].days = 2;
    scenario.holders.base_redemption_rate_annual = 0.2;
    scenario.holders.bids.urgent_share = 0.5;
    scenario.validate().expect("valid");
    let simulation = Simulation::new(scenario).expect("book");
    let outcomes = simulation.run(1, 5, None).expect("every deferred claim was accepted");
    let outcome = &outcomes[0];
    assert!(outcome.deferred_fee_claims > 0, "some wait-fees were still vesting at service");
    assert!(outcome.wait_fees_claimed_usd > 0.0);
    assert!(
        outcome.wait_fees_claimed_usd <= outcome.wait_fees_usd,
        "claimed {} of {} credited",
        outcome.wait_fees_claimed_usd,
        outcome.wait_fees_usd
    );
}
