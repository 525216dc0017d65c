//! First-loss capital stands between borrowers' defaults and sUSDai holders (SPEC 9.5, 10):
//! with enough of it, a crash that defaults most of the book costs the vault nothing; with a
//! thin layer, the vault loses, but only in paths where some silo's free pool ran dry.

mod common;

use infrafi_sim::{Scenario, Simulation};

/// The rental crash on a small book, with each silo's free first-loss pool at `bps` of its
/// senior principal and no junior tranches.
fn crash_with_first_loss(bps: u32, min_first_loss_bps: u32) -> Scenario {
    let mut scenario = Scenario::load("gpu-price-crash").expect("loads");
    scenario.book.loans = 40;
    scenario.holders.count = 6;
    scenario.horizon_months = 30;
    scenario.book.junior_share_bps = 0;
    scenario.protocol.min_first_loss_bps = Some(min_first_loss_bps);
    for silo in &mut scenario.silos {
        silo.first_loss_bps = bps;
        silo.junior_share_bps = None;
    }
    scenario.validate().expect("valid");
    scenario
}

#[test]
fn a_first_loss_layer_larger_than_the_senior_book_keeps_every_path_free_of_senior_loss() {
    let simulation = Simulation::new(crash_with_first_loss(12_000, 1_000)).expect("book");
    let outcomes = simulation.run(6, 3, None).expect("run");
    let defaults: u32 = outcomes.iter().map(|o| o.defaults).sum();
    let sales: u32 = outcomes.iter().map(|o| o.sales).sum();
    assert!(defaults > 0 && sales > 0, "the crash defaulted and liquidated loans");
    for (path, outcome) in outcomes.iter().enumerate() {
        assert_eq!(outcome.senior_loss_usd(), 0.0, "path {path} lost senior principal");
        assert!(outcome.silo_exhausted.iter().all(|e| !e), "path {path} exhausted a pool");
        assert!(outcome.max_drawdown < 1e-9, "path {path}: the share price never fell");
    }
    let used: f64 = outcomes.iter().flat_map(|o| o.silo_first_loss_used_usd.iter()).sum();
    assert!(used > 0.0, "first-loss capital absorbed the losses");
}

#[test]
fn a_thin_first_loss_layer_lets_senior_losses_through_only_where_a_pool_is_exhausted() {
    let simulation = Simulation::new(crash_with_first_loss(100, 100)).expect("book");
    let outcomes = simulation.run(6, 3, None).expect("run");
    let losing = outcomes.iter().filter(|o| o.senior_loss_usd() > 0.0).count();
    assert!(losing > 0, "a 1% first-loss layer does not absorb a 60% rental crash");
    for (path, outcome) in outcomes.iter().enumerate() {
        if outcome.senior_loss_usd() > 0.0 {
            assert!(
                outcome.silo_exhausted.iter().any(|e| *e),
                "path {path} lost {:.0} USD of senior principal with every pool intact",
                outcome.senior_loss_usd()
            );
        }
    }
}
