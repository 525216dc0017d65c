//! The H100 backtest (`backtest-h100`) runs in the test suite at a small path count: the
//! observed rents and T-bill rates are replayed month by month and the month-by-month table
//! covers March 2023 to June 2026.

use infrafi_sim::{Scenario, Simulation, data};

#[test]
fn the_h100_backtest_replays_the_observed_market_month_by_month() {
    let scenario = Scenario::load("backtest-h100").expect("the backtest loads");
    let simulation = Simulation::new(scenario).expect("the book builds");
    let outcomes = simulation.run(3, 1, None).expect("the paths run");
    let summary = simulation.summarize(&outcomes, 1);
    assert_eq!(summary.months.len(), 40);
    assert_eq!(summary.months[0].calendar.as_deref(), Some("2023-03"));
    assert_eq!(summary.months[39].calendar.as_deref(), Some("2026-06"));
    let rents = data::series("h100_rental_anchors").expect("series");
    let rates = data::series("tbill_3m_anchors").expect("series");
    for row in &summary.months {
        let month = data::Month::parse(row.calendar.as_deref().expect("calendar")).expect("month");
        let rent = rents.at(month).expect("covered") / 4.70;
        assert!((row.rental_index_p50[0] - rent).abs() < 1e-9, "{month}: rent index");
        let rate = rates.at(month).expect("covered") / 100.0;
        assert!((row.tbill_apr_p50 - rate).abs() < 1e-12, "{month}: T-bill");
    }
    for outcome in &outcomes {
        assert!(outcome.defaults_monthly.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(outcome.defaults_monthly.last(), Some(&outcome.defaults));
        assert!(outcome.first_loss_used_monthly.windows(2).all(|w| w[0] <= w[1] + 1e-6));
    }
    assert!(!summary.calibration_version.is_empty());
    let report = infrafi_sim::summary::report(&summary);
    assert!(report.contains("2025-10"), "the report has the month-by-month table");
}
