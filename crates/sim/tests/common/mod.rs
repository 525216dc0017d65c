//! Small scenarios for the simulator's tests (kept small: debug builds of the core are slow).
#![allow(dead_code)] // Each test file uses a different part.

use infrafi_sim::Scenario;

/// The base scenario shrunk to `loans` loans and `holders` holders.
pub(crate) fn small_base(loans: u32, holders: u32) -> Scenario {
    let mut scenario = Scenario::load("base").expect("base loads");
    scenario.book.loans = loans;
    scenario.holders.count = holders;
    scenario
}

/// A market that does not move and borrowers who never default: no volatility, drift,
/// launches or shocks; default probability 0; full utilization without operating costs; no
/// depreciation (so no margin calls); a constant T-bill rate; holders who neither redeem nor
/// deposit.
pub(crate) fn quiet(mut scenario: Scenario) -> Scenario {
    for class in &mut scenario.classes {
        class.rental_drift_annual = 0.0;
        class.rental_volatility_annual = 0.0;
        class.launch_rate_per_year = 0.0;
        class.annual_depreciation_bps = 0;
    }
    scenario.market.launches.clear();
    scenario.market.shocks.clear();
    scenario.tbill.long_run_apr_bps = scenario.tbill.initial_apr_bps;
    scenario.tbill.volatility_bps_per_sqrt_year = 0.0;
    scenario.borrowers.pd_annual_at_reference = 0.0;
    scenario.borrowers.pd_annual_max = 0.0;
    scenario.borrowers.utilization_min_bps = 10_000;
    scenario.borrowers.utilization_max_bps = 10_000;
    scenario.borrowers.opex_share_bps = 0;
    scenario.holders.base_redemption_rate_annual = 0.0;
    scenario.holders.deposit_rate_annual = 0.0;
    scenario.holders.apy_run_rate_monthly = 0.0;
    scenario.holders.loss_run_sensitivity = 0.0;
    scenario.holders.runs.clear();
    scenario.book.initial_queue_share_bps = 0;
    scenario.validate().expect("the quiet scenario is valid");
    scenario
}
