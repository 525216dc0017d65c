//! The market a scenario simulates: asset classes with their price, rental and recovery models,
//! observed series, launches, shocks and the T-bill rate.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An asset class (SPEC 8) and its rental market.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassSpec {
    /// The registry name, e.g. `gpu.h100-sxm` (at most 24 characters).
    pub id: String,
    /// Price of one new unit, USD.
    pub new_price_usd: f64,
    /// Straight-line decline per year as a share of the new price (the core's model and the
    /// appraisers' age curve).
    pub annual_depreciation_bps: u32,
    /// The age curve's floor, as a share of the new price.
    pub floor_bps: u32,
    /// The recovery cost model (registered in the core and used by the liquidation agent).
    pub recovery: RecoverySpec,
    /// Rental price of one unit at the start, USD per hour.
    pub rental_usd_per_hour: f64,
    /// Expected log change of the rental index per year.
    pub rental_drift_annual: f64,
    /// Volatility of the rental index per square-root year.
    pub rental_volatility_annual: f64,
    /// Resale prices move as the rental index to this power.
    pub resale_elasticity: f64,
    /// Random new-generation launches per year (Poisson).
    #[serde(default)]
    pub launch_rate_per_year: f64,
    /// What a random launch takes off the rental index.
    #[serde(default)]
    pub launch_rental_step_down_bps: u32,
    /// Relative share of the synthetic book's loans against this class.
    #[serde(default = "one")]
    pub book_weight: f64,
}

pub(super) fn one() -> f64 {
    1.0
}

/// Liquidation costs of a class (SPEC 9.5), per unit in USD.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySpec {
    /// ITAD commission on gross proceeds.
    pub itad_commission_bps: u32,
    /// Legal enforcement per unit.
    pub legal_cost_per_unit_usd: f64,
    /// De-racking, packing, shipping per unit.
    pub logistics_cost_per_unit_usd: f64,
    /// Certified data destruction per unit.
    pub data_destruction_cost_per_unit_usd: f64,
    /// Discount for neglected hardware.
    pub condition_haircut_bps: u32,
}

/// The joint GPU market.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Pairwise correlation of the classes' rental shocks (used without a matrix).
    #[serde(default)]
    pub correlation: f64,
    /// A full correlation matrix in class order (overrides `correlation`).
    #[serde(default)]
    pub correlation_matrix: Option<Vec<Vec<f64>>>,
    /// Scheduled new-generation launches.
    #[serde(default)]
    pub launches: Vec<LaunchSpec>,
    /// Deterministic shocks.
    #[serde(default)]
    pub shocks: Vec<ShockSpec>,
    /// A replay of observed series instead of the random market (a backtest).
    #[serde(default)]
    pub observed: Option<ObservedSpec>,
}

/// Observed series replayed month by month (`crates/sim/data/`, see [`crate::data`]): the
/// rental index of each listed class and, if named, the T-bill rate follow the series from
/// `start`, with no random move and no random launch; the other classes keep their models.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedSpec {
    /// The calendar month of model month 0 (`YYYY-MM`).
    pub start: String,
    /// Class id -> built-in rental series (USD per unit-hour); the class's
    /// `rental_usd_per_hour` must be the series' value at `start`.
    #[serde(default)]
    pub rentals: BTreeMap<String, String>,
    /// A built-in series of the T-bill rate in percent, replacing the Vasicek model.
    #[serde(default)]
    pub tbill: Option<String>,
}

/// A scheduled new-generation launch.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchSpec {
    /// The month it happens (1 = end of the first month).
    pub month: u32,
    /// The classes it dates (empty: all).
    #[serde(default)]
    pub classes: Vec<String>,
    /// What it takes off their rental index.
    pub rental_step_down_bps: u32,
}

/// A deterministic shock. Price changes ramp log-linearly over `ramp_months` from
/// `start_month` and last; haircut and delay apply from `start_month` on; the default factor
/// shift applies during `[start_month, start_month + max(ramp_months, 1))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShockSpec {
    /// A label.
    #[serde(default)]
    pub name: String,
    /// When it starts (0 = at once).
    pub start_month: u32,
    /// Over how many months the price change builds up (0 = at once).
    #[serde(default)]
    pub ramp_months: u32,
    /// The classes it hits (empty: all).
    #[serde(default)]
    pub classes: Vec<String>,
    /// Lasting change of the rental index (e.g. -6000 = -60%).
    #[serde(default)]
    pub rental_change_bps: i32,
    /// Lasting change of resale prices on top of the rental pass-through.
    #[serde(default)]
    pub resale_change_bps: i32,
    /// Extra haircut on liquidation proceeds.
    #[serde(default)]
    pub recovery_haircut_bps: u32,
    /// Extra months a liquidation takes.
    #[serde(default)]
    pub liquidation_delay_months: u32,
    /// Shift of the common default factor (negative = more defaults), in standard deviations.
    #[serde(default)]
    pub default_factor_shift: f64,
}

/// The T-bill rate: a mean-reverting (Vasicek) annual rate, posted monthly by the oracle.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TbillSpec {
    /// The rate at the start.
    pub initial_apr_bps: u32,
    /// The level it reverts to.
    pub long_run_apr_bps: u32,
    /// Speed of reversion per year.
    pub reversion_per_year: f64,
    /// Volatility, in basis points per square-root year.
    pub volatility_bps_per_sqrt_year: f64,
}
