//! Scenarios: the TOML description of a book and of the market and behaviour models.
//!
//! A scenario file may start with `extends = "<name or path>"`: the parent is loaded first and
//! the child's tables are merged into it key by key (arrays and values replace the parent's).
//! The merged document is then read strictly: every struct denies unknown keys, and
//! [`Scenario::validate`] checks ranges and cross-references, so a typo or a bad number fails
//! with the path of the field (`classes[1].rental_volatility_annual: ...`).

use infrafi_core::{AssetClassId, params::Params, schedule::InterestModel};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// The scenarios shipped with the simulator, by name.
pub const BUILT_IN: [(&str, &str); 9] = [
    ("base", include_str!("../scenarios/base.toml")),
    ("gpu-price-crash", include_str!("../scenarios/gpu-price-crash.toml")),
    ("new-generation-shock", include_str!("../scenarios/new-generation-shock.toml")),
    ("default-cluster", include_str!("../scenarios/default-cluster.toml")),
    ("bank-run", include_str!("../scenarios/bank-run.toml")),
    ("rates-up", include_str!("../scenarios/rates-up.toml")),
    ("cuda-moat-erosion", include_str!("../scenarios/cuda-moat-erosion.toml")),
    ("export-controls", include_str!("../scenarios/export-controls.toml")),
    ("backtest-h100", include_str!("../scenarios/backtest-h100.toml")),
];

/// The longest horizon a scenario may ask for (50 years of months).
pub const HORIZON_MONTHS_MAX: u32 = 600;
/// The most loans a synthetic book may hold.
pub const BOOK_LOANS_MAX: u32 = 100_000;
/// The most holder cohorts.
pub const HOLDERS_MAX: u32 = 10_000;
/// How deep `extends` chains may go.
const EXTENDS_DEPTH_MAX: usize = 8;

/// Why a scenario cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// Neither a built-in name nor a readable file.
    #[error(
        "unknown scenario `{0}`: not a built-in name ({names}) nor a readable file",
        names = built_in_names()
    )]
    NotFound(String),
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed.
    #[error("scenario `{origin}` is not valid TOML: {message}")]
    Syntax {
        /// Which file or name.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// A key is unknown, missing or of the wrong type.
    #[error("scenario `{origin}`: field `{field}`: {message}")]
    Field {
        /// Which file or name.
        origin: String,
        /// The path of the field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// `extends` chains too deep (or in a cycle).
    #[error("scenario `{0}`: `extends` chain deeper than {EXTENDS_DEPTH_MAX} (a cycle?)")]
    ExtendsTooDeep(String),
}

fn built_in_names() -> String {
    BUILT_IN.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

/// A complete scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Its name (printed in reports).
    pub name: String,
    /// One sentence on what it stresses.
    #[serde(default)]
    pub description: String,
    /// Months each path runs (a month is 30 days, the default repayment interval).
    pub horizon_months: u32,
    /// Asset classes with their depreciation, recovery and rental-market models.
    pub classes: Vec<ClassSpec>,
    /// Correlation, launches and shocks of the GPU market.
    pub market: MarketSpec,
    /// The T-bill rate path.
    pub tbill: TbillSpec,
    /// Borrowers' cash and default behaviour.
    pub borrowers: BorrowerSpec,
    /// sUSDai holders' redemption and deposit behaviour.
    pub holders: HolderSpec,
    /// How foreclosed hardware is sold.
    pub liquidation: LiquidationSpec,
    /// The synthetic starting book.
    pub book: BookSpec,
    /// The curators' silos.
    pub silos: Vec<SiloSpec>,
    /// Protocol parameters that differ from the defaults.
    #[serde(default)]
    pub protocol: ProtocolSpec,
    /// Where every parameter's value comes from (docs/simulator.md, calibration).
    #[serde(default)]
    pub calibration: Calibration,
}

/// The calibration of a scenario: for each parameter, its public source and how the value was
/// derived, or an explicit `assumption` label. A key is a parameter's path as the scenario
/// reads it (`borrowers.opex_share_bps`); an element of `classes` or `silos` is named by its
/// id or name (`classes[gpu.h100-sxm].rental_usd_per_hour`), `[*]` stands for every element,
/// and a key naming a table covers every parameter in it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The calibration's version (reported in `summary.json`).
    #[serde(default)]
    pub version: String,
    /// Parameter path -> its source.
    #[serde(default)]
    pub parameters: BTreeMap<String, ParameterSource>,
}

/// Where one parameter's value comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSource {
    /// How the value is known.
    pub basis: Basis,
    /// The public source (publication, index or dataset, with its date); for an assumption,
    /// what it rests on.
    #[serde(default)]
    pub source: String,
    /// How the value follows from the source.
    #[serde(default)]
    pub derivation: String,
}

/// How a parameter's value is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// A published figure, used as published.
    Sourced,
    /// Computed from published figures or series (the derivation says how).
    Derived,
    /// Fitted so that the model reproduces a published statistic (the derivation says which).
    Fitted,
    /// No public source: a judgement, whose effect `infrafi simulate --sensitivity` shows.
    Assumption,
}

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

fn one() -> f64 {
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

/// Borrowers: rental revenue, cash, and the default model.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BorrowerSpec {
    /// Lowest fleet utilization drawn for a borrower.
    pub utilization_min_bps: u32,
    /// Highest fleet utilization drawn for a borrower.
    pub utilization_max_bps: u32,
    /// Operating costs (power, space, staff) as a share of rental revenue.
    pub opex_share_bps: u32,
    /// Cash at the start, in months of scheduled payment.
    pub cash_reserve_months: f64,
    /// Cash kept at most (the rest is paid out), in months of scheduled payment.
    pub cash_cap_months: f64,
    /// Annual default probability at the reference coverage ratio.
    pub pd_annual_at_reference: f64,
    /// The reference debt-service coverage ratio.
    pub reference_dscr: f64,
    /// Log change of the default probability per unit of coverage below the reference.
    pub pd_dscr_slope: f64,
    /// The highest annual default probability.
    pub pd_annual_max: f64,
    /// Weight of the common factor in the one-factor model (asset correlation).
    pub default_correlation: f64,
    /// Whether a borrower in margin call prepays to cure when its cash allows.
    #[serde(default = "yes")]
    pub cure_margin_calls: bool,
}

fn yes() -> bool {
    true
}

/// sUSDai holders.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolderSpec {
    /// Holder cohorts (addresses) sharing the shares at the start.
    pub count: u32,
    /// Share of unlocked shares requested per year in normal times.
    pub base_redemption_rate_annual: f64,
    /// New deposits per year as a share of NAV, while the APY beats the T-bill rate.
    #[serde(default)]
    pub deposit_rate_annual: f64,
    /// A run starts when the trailing APY is below the T-bill rate minus this.
    pub apy_gap_bps: i32,
    /// Months of the trailing APY.
    pub apy_lookback_months: u32,
    /// Extra share of unlocked shares requested per month while the APY lags.
    pub apy_run_rate_monthly: f64,
    /// A drawdown of the share price (from its high) that starts a run.
    pub loss_trigger_bps: f64,
    /// Share of unlocked shares requested per basis point of drawdown.
    pub loss_run_sensitivity: f64,
    /// The most a loss run requests.
    pub loss_run_share_max: f64,
    /// Scheduled runs.
    #[serde(default)]
    pub runs: Vec<RunSpec>,
    /// Priority bids on the redemption queue (SPEC 11); absent: nobody bids.
    #[serde(default)]
    pub bids: BidSpec,
}

/// How holders bid for priority in the QEV auction (`[holders.bids]`). Each fresh request's
/// holder is urgent with a probability (higher in a run); an urgent holder values each day it
/// would wait beyond the notice period at `urgency_rate_annual / 365` of its redemption value
/// and bids that, capped at `bid_max_bps` of the share price, per share. The defaults (the
/// table absent) are all zero: nobody bids.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BidSpec {
    /// Share of requests made outside a run whose holder is urgent.
    #[serde(default)]
    pub urgent_share: f64,
    /// Share of requests made in a run (scheduled, APY or loss run) whose holder is urgent.
    #[serde(default)]
    pub urgent_share_in_run: f64,
    /// What an urgent holder would pay per year of waiting, as a share of its redemption value
    /// (0.25: a day is worth 0.25 / 365 of it).
    #[serde(default)]
    pub urgency_rate_annual: f64,
    /// The highest bid, as a share of the redemption share price.
    #[serde(default)]
    pub bid_max_bps: u32,
}

impl BidSpec {
    /// Whether any holder may bid.
    pub fn is_on(&self) -> bool {
        self.urgent_share > 0.0 || self.urgent_share_in_run > 0.0
    }
}

/// A scheduled run: `share_bps` of all shares requested within `days` from `month`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// The month it starts.
    pub month: u32,
    /// Share of all shares requested.
    pub share_bps: u32,
    /// Over how many days.
    pub days: u32,
}

/// Liquidation of foreclosed hardware.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidationSpec {
    /// Months from default to sale.
    pub delay_months: u32,
    /// Discount of a forced sale to the resale price.
    pub fire_sale_discount_bps: u32,
    /// Log-normal volatility of the reported fixed costs.
    pub cost_noise: f64,
}

/// The synthetic book.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookSpec {
    /// Seed of the book (the same book under every path seed).
    pub seed: u64,
    /// Number of loans.
    pub loans: u32,
    /// Payments of each loan (months).
    pub term_months: u32,
    /// Loans are between 0 and this many months old at the start.
    pub age_months_max: u32,
    /// Spread due dates over the days of the month (else every loan is due on day 0).
    #[serde(default = "yes")]
    pub spread_due_days: bool,
    /// Fewest units per loan.
    pub units_min: u32,
    /// Most units per loan.
    pub units_max: u32,
    /// Lowest LTV at origination.
    pub ltv_min_bps: u32,
    /// Highest LTV at origination.
    pub ltv_max_bps: u32,
    /// Interest model.
    pub model: InterestModel,
    /// Senior tranche rate.
    pub senior_apr_bps: u32,
    /// Junior tranche rate.
    pub junior_apr_bps: u32,
    /// Junior share of each loan's principal.
    pub junior_share_bps: u32,
    /// Grace period after a deadline.
    pub grace_days: u32,
    /// Grace interest rate.
    pub grace_apr_bps: u32,
    /// Origination fee.
    pub origination_fee_bps: u32,
    /// Exit fee.
    pub exit_fee_bps: u32,
    /// Share of the vault's NAV deployed in loans when the book is built.
    pub deployed_share_bps: u32,
    /// Share of sUSDai already queued at the start.
    #[serde(default)]
    pub initial_queue_share_bps: u32,
    /// Months between two appraisals of a receipt (at most 2: valuations expire at 90 days).
    #[serde(default = "one_month")]
    pub appraisal_interval_months: u32,
}

fn one_month() -> u32 {
    1
}

/// A curator's silo.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiloSpec {
    /// A label.
    pub name: String,
    /// Eligible classes.
    pub classes: Vec<String>,
    /// Relative share of the book's loans.
    pub loan_weight: f64,
    /// Max initial LTV.
    pub max_initial_ltv_bps: u32,
    /// Margin-call LTV.
    pub margin_call_ltv_bps: u32,
    /// Curator's share of senior interest.
    pub curator_fee_bps: u32,
    /// Free first-loss pool posted, as a share of the silo's senior principal.
    pub first_loss_bps: u32,
    /// Senior rate of its loans (default: the book's).
    #[serde(default)]
    pub senior_apr_bps: Option<u32>,
    /// Junior share of its loans (default: the book's).
    #[serde(default)]
    pub junior_share_bps: Option<u32>,
}

/// Protocol parameters that differ from the defaults.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSpec {
    /// `performance_fee_bps`.
    pub performance_fee_bps: Option<u32>,
    /// `yield_fee_bps`.
    pub yield_fee_bps: Option<u32>,
    /// `liquidity_buffer_bps`.
    pub liquidity_buffer_bps: Option<u32>,
    /// `max_deployed_bps`.
    pub max_deployed_bps: Option<u32>,
    /// `min_first_loss_bps`.
    pub min_first_loss_bps: Option<u32>,
    /// `notice_period_secs`, in days.
    pub notice_period_days: Option<u32>,
    /// `cure_period_secs`, in days.
    pub cure_period_days: Option<u32>,
    /// `liquidation_fee_bps`.
    pub liquidation_fee_bps: Option<u32>,
}

impl ProtocolSpec {
    /// The default parameters with these overrides.
    pub fn params(&self) -> Params {
        use infrafi_core::Bps;
        let mut params = Params::default();
        let set = |target: &mut Bps, value: Option<u32>| {
            if let Some(value) = value {
                *target = Bps(value);
            }
        };
        set(&mut params.performance_fee_bps, self.performance_fee_bps);
        set(&mut params.yield_fee_bps, self.yield_fee_bps);
        set(&mut params.liquidity_buffer_bps, self.liquidity_buffer_bps);
        set(&mut params.max_deployed_bps, self.max_deployed_bps);
        set(&mut params.min_first_loss_bps, self.min_first_loss_bps);
        set(&mut params.liquidation_fee_bps, self.liquidation_fee_bps);
        if let Some(days) = self.notice_period_days {
            params.notice_period_secs = u64::from(days) * 86_400;
        }
        if let Some(days) = self.cure_period_days {
            params.cure_period_secs = u64::from(days) * 86_400;
        }
        params
    }
}

impl Scenario {
    /// Loads a built-in scenario by name, or a file by path.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        let (origin, table) = load_merged(name_or_path, None, 0)?;
        Scenario::from_table(&origin, table)
    }

    /// Reads a scenario from TOML text (its `extends` resolved against built-ins and `base_dir`).
    pub fn from_toml(
        origin: &str,
        text: &str,
        base_dir: Option<&Path>,
    ) -> Result<Scenario, ScenarioError> {
        let table = parse(origin, text)?;
        let table = resolve_extends(origin, table, base_dir, 0)?;
        Scenario::from_table(origin, table)
    }

    fn from_table(origin: &str, table: toml::Table) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|error| ScenarioError::Field {
                origin: origin.to_string(),
                field: error.path().to_string(),
                // toml appends "in `table`" on a second line; the path already says it.
                message: error.inner().to_string().lines().next().unwrap_or_default().to_string(),
            })?;
        scenario.validate().map_err(|(field, message)| ScenarioError::Field {
            origin: origin.to_string(),
            field,
            message,
        })?;
        Ok(scenario)
    }

    /// The index of class `id` in `classes`.
    pub fn class_index(&self, id: &str) -> Option<usize> {
        self.classes.iter().position(|class| class.id == id)
    }

    /// Checks ranges and cross-references; the error names the field.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let fail = |field: String, message: String| Err((field, message));
        if !(1..=HORIZON_MONTHS_MAX).contains(&self.horizon_months) {
            return fail("horizon_months".into(), format!("must be 1 to {HORIZON_MONTHS_MAX}"));
        }
        if self.classes.is_empty() {
            return fail("classes".into(), "at least one asset class is required".into());
        }
        for (i, class) in self.classes.iter().enumerate() {
            validate_class(i, class, &self.classes)?;
        }
        self.validate_market()?;
        self.validate_observed()?;
        self.validate_calibration()?;
        validate_tbill(&self.tbill)?;
        validate_borrowers(&self.borrowers)?;
        validate_holders(&self.holders, self.horizon_months)?;
        validate_liquidation(&self.liquidation)?;
        validate_book(&self.book)?;
        if self.silos.is_empty() {
            return fail("silos".into(), "at least one silo is required".into());
        }
        for (i, silo) in self.silos.iter().enumerate() {
            self.validate_silo(i, silo)?;
        }
        Ok(())
    }

    fn validate_market(&self) -> Result<(), (String, String)> {
        let market = &self.market;
        check_range("market.correlation", market.correlation, -1.0, 1.0)?;
        let n = self.classes.len();
        if n > 1 && market.correlation < -1.0 / (n as f64 - 1.0) + 1e-9 {
            return Err((
                "market.correlation".into(),
                format!("with {n} classes must be above {:.4}", -1.0 / (n as f64 - 1.0)),
            ));
        }
        if let Some(matrix) = &market.correlation_matrix {
            if matrix.len() != n || matrix.iter().any(|row| row.len() != n) {
                return Err((
                    "market.correlation_matrix".into(),
                    format!("must be {n} x {n} (one row and column per class)"),
                ));
            }
            if crate::market::cholesky(matrix).is_none() {
                return Err((
                    "market.correlation_matrix".into(),
                    "must be a symmetric positive-definite correlation matrix".into(),
                ));
            }
        }
        for (i, launch) in market.launches.iter().enumerate() {
            let field = format!("market.launches[{i}]");
            self.check_classes(&format!("{field}.classes"), &launch.classes)?;
            check_bps(
                &format!("{field}.rental_step_down_bps"),
                launch.rental_step_down_bps,
                9_999,
            )?;
        }
        for (i, shock) in market.shocks.iter().enumerate() {
            let field = format!("market.shocks[{i}]");
            self.check_classes(&format!("{field}.classes"), &shock.classes)?;
            for (name, change) in [
                ("rental_change_bps", shock.rental_change_bps),
                ("resale_change_bps", shock.resale_change_bps),
            ] {
                if !(-9_999..=100_000).contains(&change) {
                    return Err((format!("{field}.{name}"), "must be -9999 to 100000".into()));
                }
            }
            check_bps(
                &format!("{field}.recovery_haircut_bps"),
                shock.recovery_haircut_bps,
                10_000,
            )?;
            check_range(
                &format!("{field}.default_factor_shift"),
                shock.default_factor_shift,
                -10.0,
                10.0,
            )?;
        }
        Ok(())
    }

    fn validate_observed(&self) -> Result<(), (String, String)> {
        let Some(observed) = &self.market.observed else { return Ok(()) };
        let start = crate::data::Month::parse(&observed.start)
            .map_err(|e| ("market.observed.start".to_string(), e))?;
        for (class, name) in &observed.rentals {
            let field = format!("market.observed.rentals.{class}");
            let Some(c) = self.class_index(class) else {
                return Err((field, format!("names unknown class `{class}`")));
            };
            let series = crate::data::series(name).map_err(|e| (field.clone(), e))?;
            let path = crate::data::monthly_path(&series, start, self.horizon_months)
                .map_err(|e| (field.clone(), e))?;
            if path.iter().any(|v| *v <= 0.0) {
                return Err((field, "a rental series must be positive".into()));
            }
            let level = self.classes[c].rental_usd_per_hour;
            if (level - path[0]).abs() > 1e-9 * path[0] {
                return Err((
                    format!("classes[{c}].rental_usd_per_hour"),
                    format!("must be the observed level at {start}: {} (got {level})", path[0]),
                ));
            }
        }
        if let Some(name) = &observed.tbill {
            let field = "market.observed.tbill".to_string();
            let series = crate::data::series(name).map_err(|e| (field.clone(), e))?;
            let path = crate::data::monthly_path(&series, start, self.horizon_months)
                .map_err(|e| (field.clone(), e))?;
            if path.iter().any(|v| !(0.0..=TBILL_PERCENT_MAX).contains(v)) {
                return Err((field, format!("rates must be 0 to {TBILL_PERCENT_MAX} percent")));
            }
        }
        Ok(())
    }

    fn validate_calibration(&self) -> Result<(), (String, String)> {
        for (key, source) in &self.calibration.parameters {
            let field = format!("calibration.parameters.\"{key}\"");
            if source.basis != Basis::Assumption && source.source.trim().is_empty() {
                return Err((
                    field,
                    "a sourced, derived or fitted value must name its source".into(),
                ));
            }
            if source.basis == Basis::Assumption && source.source.trim().is_empty() {
                return Err((field, "an assumption must say what it rests on (source)".into()));
            }
        }
        Ok(())
    }

    /// The parameters no calibration entry covers (see [`Calibration`]); empty when every
    /// parameter has a source or an assumption label.
    pub fn uncalibrated_parameters(&self) -> Vec<String> {
        self.parameter_leaves()
            .into_iter()
            .filter(|(segments, _)| self.calibration.entry_for(segments).is_none())
            .map(|(segments, _)| segments.join("."))
            .collect()
    }

    /// The values each calibration entry stands for, by entry key: every parameter it covers
    /// (the most specific entry of a parameter wins), as `(path, value)` with the value as the
    /// scenario file writes it. What a report prints beside each source.
    pub fn calibrated_values(&self) -> BTreeMap<String, Vec<(String, String)>> {
        let mut values: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (segments, value) in self.parameter_leaves() {
            if let Some(key) = self.calibration.entry_for(&segments) {
                values.entry(key).or_default().push((segments.join("."), value.to_string()));
            }
        }
        values
    }

    /// Every parameter of the scenario (its path's segments and its value), name, description
    /// and calibration aside.
    fn parameter_leaves(&self) -> Vec<(Vec<String>, toml::Value)> {
        let mut value = toml::Value::try_from(self).expect("a scenario serializes to TOML");
        if let toml::Value::Table(table) = &mut value {
            for key in ["name", "description", "calibration"] {
                table.remove(key);
            }
        }
        let mut leaves = Vec::new();
        collect_leaves(&value, &mut Vec::new(), &mut leaves);
        leaves
    }

    fn check_classes(&self, field: &str, classes: &[String]) -> Result<(), (String, String)> {
        for (j, class) in classes.iter().enumerate() {
            if self.class_index(class).is_none() {
                return Err((format!("{field}[{j}]"), format!("names unknown class `{class}`")));
            }
        }
        Ok(())
    }

    fn validate_silo(&self, i: usize, silo: &SiloSpec) -> Result<(), (String, String)> {
        let field = format!("silos[{i}]");
        if silo.classes.is_empty() {
            return Err((format!("{field}.classes"), "at least one class is required".into()));
        }
        self.check_classes(&format!("{field}.classes"), &silo.classes)?;
        check_range(&format!("{field}.loan_weight"), silo.loan_weight, 0.0, 1e9)?;
        check_bps(&format!("{field}.max_initial_ltv_bps"), silo.max_initial_ltv_bps, 10_000)?;
        if silo.max_initial_ltv_bps == 0 || silo.margin_call_ltv_bps < silo.max_initial_ltv_bps {
            return Err((
                format!("{field}.margin_call_ltv_bps"),
                "needs 0 < max_initial_ltv_bps <= margin_call_ltv_bps".into(),
            ));
        }
        check_bps(&format!("{field}.margin_call_ltv_bps"), silo.margin_call_ltv_bps, 10_000)?;
        check_bps(&format!("{field}.curator_fee_bps"), silo.curator_fee_bps, 5_000)?;
        check_bps(&format!("{field}.first_loss_bps"), silo.first_loss_bps, 100_000)?;
        if let Some(apr) = silo.senior_apr_bps {
            check_bps(&format!("{field}.senior_apr_bps"), apr, 10_000)?;
        }
        if let Some(share) = silo.junior_share_bps {
            check_bps(&format!("{field}.junior_share_bps"), share, 9_999)?;
        }
        if silo.max_initial_ltv_bps <= self.book.ltv_min_bps {
            return Err((
                format!("{field}.max_initial_ltv_bps"),
                "must be above book.ltv_min_bps".into(),
            ));
        }
        Ok(())
    }
}

fn check_range(field: &str, value: f64, low: f64, high: f64) -> Result<(), (String, String)> {
    if !value.is_finite() || value < low || value > high {
        return Err((field.to_string(), format!("must be between {low} and {high}, got {value}")));
    }
    Ok(())
}

fn check_non_negative(field: &str, value: f64) -> Result<(), (String, String)> {
    if !value.is_finite() || value < 0.0 {
        return Err((field.to_string(), format!("must be >= 0, got {value}")));
    }
    Ok(())
}

fn check_bps(field: &str, value: u32, max: u32) -> Result<(), (String, String)> {
    if value > max {
        return Err((field.to_string(), format!("must be at most {max}, got {value}")));
    }
    Ok(())
}

fn validate_class(i: usize, class: &ClassSpec, all: &[ClassSpec]) -> Result<(), (String, String)> {
    let field = |name: &str| format!("classes[{i}].{name}");
    if AssetClassId::new(&class.id).is_none() {
        return Err((field("id"), "must be 1 to 24 printable ASCII characters".into()));
    }
    if all[..i].iter().any(|other| other.id == class.id) {
        return Err((field("id"), format!("duplicates class `{}`", class.id)));
    }
    if !(class.new_price_usd.is_finite() && class.new_price_usd > 0.0) {
        return Err((field("new_price_usd"), format!("must be > 0, got {}", class.new_price_usd)));
    }
    check_bps(&field("annual_depreciation_bps"), class.annual_depreciation_bps, 10_000)?;
    check_bps(&field("floor_bps"), class.floor_bps, 10_000)?;
    let recovery = &class.recovery;
    check_bps(&field("recovery.itad_commission_bps"), recovery.itad_commission_bps, 10_000)?;
    check_bps(&field("recovery.condition_haircut_bps"), recovery.condition_haircut_bps, 10_000)?;
    check_non_negative(
        &field("recovery.legal_cost_per_unit_usd"),
        recovery.legal_cost_per_unit_usd,
    )?;
    check_non_negative(
        &field("recovery.logistics_cost_per_unit_usd"),
        recovery.logistics_cost_per_unit_usd,
    )?;
    check_non_negative(
        &field("recovery.data_destruction_cost_per_unit_usd"),
        recovery.data_destruction_cost_per_unit_usd,
    )?;
    if !(class.rental_usd_per_hour.is_finite() && class.rental_usd_per_hour > 0.0) {
        return Err((field("rental_usd_per_hour"), "must be > 0".into()));
    }
    check_range(&field("rental_drift_annual"), class.rental_drift_annual, -5.0, 5.0)?;
    check_non_negative(&field("rental_volatility_annual"), class.rental_volatility_annual)?;
    check_range(&field("rental_volatility_annual"), class.rental_volatility_annual, 0.0, 5.0)?;
    check_range(&field("resale_elasticity"), class.resale_elasticity, 0.0, 5.0)?;
    check_range(&field("launch_rate_per_year"), class.launch_rate_per_year, 0.0, 12.0)?;
    check_bps(&field("launch_rental_step_down_bps"), class.launch_rental_step_down_bps, 9_999)?;
    check_range(&field("book_weight"), class.book_weight, 0.0, 1e9)?;
    Ok(())
}

/// The highest observed T-bill rate a series may hold, percent (the model's cap).
const TBILL_PERCENT_MAX: f64 = 20.0;

/// Collects the paths of the parameters under `value`: one segment per key, an element of an
/// array of tables named by its id, its name or its index (`classes[gpu.h100-sxm]`).
fn collect_leaves(
    value: &toml::Value,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, toml::Value)>,
) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                prefix.push(key.clone());
                collect_leaves(value, prefix, out);
                prefix.pop();
            }
        }
        toml::Value::Array(items) if items.is_empty() => {} // Nothing to calibrate.
        toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => {
            let Some(last) = prefix.pop() else { return };
            for (i, item) in items.iter().enumerate() {
                let label = ["id", "name"]
                    .iter()
                    .find_map(|k| item.get(k).and_then(toml::Value::as_str))
                    .filter(|label| !label.is_empty())
                    .map_or_else(|| i.to_string(), str::to_string);
                prefix.push(format!("{last}[{label}]"));
                let mut item = item.clone();
                if let toml::Value::Table(table) = &mut item {
                    // The element's label is its identity, not a parameter.
                    table.remove("id");
                    table.remove("name");
                }
                collect_leaves(&item, prefix, out);
                prefix.pop();
            }
            prefix.push(last);
        }
        leaf => out.push((prefix.clone(), leaf.clone())),
    }
}

impl Calibration {
    /// The key of the most specific entry covering the parameter at `segments`: the exact
    /// path, the path with elements replaced by `[*]`, or a prefix of either at a segment
    /// boundary (an array's own key covering all its elements); the longest match wins, and at
    /// equal length the exact element before `[*]` before the whole array.
    fn entry_for(&self, segments: &[String]) -> Option<String> {
        let wildcard: Vec<String> = segments
            .iter()
            .map(|s| match s.find('[') {
                Some(open) => format!("{}[*]", &s[..open]),
                None => s.clone(),
            })
            .collect();
        (1..=segments.len()).rev().find_map(|n| {
            // The array itself (`silos`) covers its elements too.
            let mut array = wildcard[..n].to_vec();
            if let Some(open) = array[n - 1].find('[') {
                array[n - 1].truncate(open);
            }
            [segments[..n].join("."), wildcard[..n].join("."), array.join(".")]
                .into_iter()
                .find(|key| self.parameters.contains_key(key))
        })
    }
}

fn validate_tbill(tbill: &TbillSpec) -> Result<(), (String, String)> {
    check_bps("tbill.initial_apr_bps", tbill.initial_apr_bps, 2_000)?;
    check_bps("tbill.long_run_apr_bps", tbill.long_run_apr_bps, 2_000)?;
    check_range("tbill.reversion_per_year", tbill.reversion_per_year, 0.0, 50.0)?;
    check_non_negative("tbill.volatility_bps_per_sqrt_year", tbill.volatility_bps_per_sqrt_year)?;
    Ok(())
}

fn validate_borrowers(borrowers: &BorrowerSpec) -> Result<(), (String, String)> {
    check_bps("borrowers.utilization_max_bps", borrowers.utilization_max_bps, 10_000)?;
    if borrowers.utilization_min_bps > borrowers.utilization_max_bps {
        return Err((
            "borrowers.utilization_min_bps".into(),
            "must be at most utilization_max_bps".into(),
        ));
    }
    check_bps("borrowers.opex_share_bps", borrowers.opex_share_bps, 10_000)?;
    check_non_negative("borrowers.cash_reserve_months", borrowers.cash_reserve_months)?;
    check_non_negative("borrowers.cash_cap_months", borrowers.cash_cap_months)?;
    check_range("borrowers.pd_annual_at_reference", borrowers.pd_annual_at_reference, 0.0, 1.0)?;
    check_range("borrowers.pd_annual_max", borrowers.pd_annual_max, 0.0, 1.0)?;
    check_non_negative("borrowers.reference_dscr", borrowers.reference_dscr)?;
    check_non_negative("borrowers.pd_dscr_slope", borrowers.pd_dscr_slope)?;
    check_range("borrowers.default_correlation", borrowers.default_correlation, 0.0, 0.999)?;
    Ok(())
}

fn validate_holders(holders: &HolderSpec, horizon: u32) -> Result<(), (String, String)> {
    if !(1..=HOLDERS_MAX).contains(&holders.count) {
        return Err(("holders.count".into(), format!("must be 1 to {HOLDERS_MAX}")));
    }
    check_range(
        "holders.base_redemption_rate_annual",
        holders.base_redemption_rate_annual,
        0.0,
        1.0,
    )?;
    check_range("holders.deposit_rate_annual", holders.deposit_rate_annual, 0.0, 10.0)?;
    if holders.apy_lookback_months == 0 || holders.apy_lookback_months > horizon {
        return Err(("holders.apy_lookback_months".into(), "must be 1 to horizon_months".into()));
    }
    check_range("holders.apy_run_rate_monthly", holders.apy_run_rate_monthly, 0.0, 1.0)?;
    check_non_negative("holders.loss_trigger_bps", holders.loss_trigger_bps)?;
    check_non_negative("holders.loss_run_sensitivity", holders.loss_run_sensitivity)?;
    check_range("holders.loss_run_share_max", holders.loss_run_share_max, 0.0, 1.0)?;
    let bids = &holders.bids;
    check_range("holders.bids.urgent_share", bids.urgent_share, 0.0, 1.0)?;
    check_range("holders.bids.urgent_share_in_run", bids.urgent_share_in_run, 0.0, 1.0)?;
    check_range("holders.bids.urgency_rate_annual", bids.urgency_rate_annual, 0.0, 10.0)?;
    check_bps("holders.bids.bid_max_bps", bids.bid_max_bps, 10_000)?;
    // Urgent holders who value nothing, or may bid nothing, would be a silent no-op: a
    // scenario that sets the shares but forgets the pricing is a mistake worth naming.
    if bids.is_on() && bids.urgency_rate_annual <= 0.0 {
        return Err((
            "holders.bids.urgency_rate_annual".into(),
            "must be > 0 when an urgent share is set".into(),
        ));
    }
    if bids.is_on() && bids.bid_max_bps == 0 {
        return Err((
            "holders.bids.bid_max_bps".into(),
            "must be > 0 when an urgent share is set".into(),
        ));
    }
    for (i, run) in holders.runs.iter().enumerate() {
        check_bps(&format!("holders.runs[{i}].share_bps"), run.share_bps, 10_000)?;
        if !(1..=30).contains(&run.days) {
            return Err((format!("holders.runs[{i}].days"), "must be 1 to 30".into()));
        }
        if run.month >= horizon {
            return Err((
                format!("holders.runs[{i}].month"),
                "must be before horizon_months".into(),
            ));
        }
    }
    Ok(())
}

fn validate_liquidation(liquidation: &LiquidationSpec) -> Result<(), (String, String)> {
    if liquidation.delay_months > 60 {
        return Err(("liquidation.delay_months".into(), "must be at most 60".into()));
    }
    check_bps("liquidation.fire_sale_discount_bps", liquidation.fire_sale_discount_bps, 10_000)?;
    check_range("liquidation.cost_noise", liquidation.cost_noise, 0.0, 3.0)?;
    Ok(())
}

fn validate_book(book: &BookSpec) -> Result<(), (String, String)> {
    if !(1..=BOOK_LOANS_MAX).contains(&book.loans) {
        return Err(("book.loans".into(), format!("must be 1 to {BOOK_LOANS_MAX}")));
    }
    if !(1..=infrafi_core::params::LOAN_PERIODS_MAX).contains(&book.term_months) {
        return Err(("book.term_months".into(), "must be 1 to 600".into()));
    }
    if book.age_months_max >= book.term_months {
        return Err(("book.age_months_max".into(), "must be below term_months".into()));
    }
    if book.units_min == 0 || book.units_min > book.units_max || book.units_max > 100_000 {
        return Err((
            "book.units_min".into(),
            "needs 1 <= units_min <= units_max <= 100000".into(),
        ));
    }
    if book.ltv_min_bps == 0 || book.ltv_min_bps > book.ltv_max_bps {
        return Err(("book.ltv_min_bps".into(), "needs 0 < ltv_min_bps <= ltv_max_bps".into()));
    }
    check_bps("book.ltv_max_bps", book.ltv_max_bps, 10_000)?;
    check_bps("book.senior_apr_bps", book.senior_apr_bps, 10_000)?;
    check_bps("book.junior_apr_bps", book.junior_apr_bps, 10_000)?;
    check_bps("book.junior_share_bps", book.junior_share_bps, 9_999)?;
    check_bps("book.grace_apr_bps", book.grace_apr_bps, 10_000)?;
    check_bps("book.origination_fee_bps", book.origination_fee_bps, 9_999)?;
    check_bps("book.exit_fee_bps", book.exit_fee_bps, 10_000)?;
    if book.grace_days > 365 {
        return Err(("book.grace_days".into(), "must be at most 365".into()));
    }
    if book.deployed_share_bps == 0 || book.deployed_share_bps > 9_500 {
        return Err(("book.deployed_share_bps".into(), "must be 1 to 9500".into()));
    }
    check_bps("book.initial_queue_share_bps", book.initial_queue_share_bps, 10_000)?;
    if !(1..=2).contains(&book.appraisal_interval_months) {
        return Err((
            "book.appraisal_interval_months".into(),
            "must be 1 or 2 (valuations older than 90 days make collateral ineligible)".into(),
        ));
    }
    Ok(())
}

fn parse(origin: &str, text: &str) -> Result<toml::Table, ScenarioError> {
    text.parse::<toml::Table>().map_err(|error| ScenarioError::Syntax {
        origin: origin.to_string(),
        message: error.to_string().trim().to_string(),
    })
}

/// Reads `name_or_path` (built-in first) and resolves its `extends`.
fn load_merged(
    name_or_path: &str,
    base_dir: Option<&Path>,
    depth: usize,
) -> Result<(String, toml::Table), ScenarioError> {
    if depth > EXTENDS_DEPTH_MAX {
        return Err(ScenarioError::ExtendsTooDeep(name_or_path.to_string()));
    }
    if let Some((name, text)) = BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
        let table = parse(name, text)?;
        return Ok((name.to_string(), resolve_extends(name, table, None, depth)?));
    }
    let path = match base_dir {
        Some(dir) if Path::new(name_or_path).is_relative() => dir.join(name_or_path),
        _ => PathBuf::from(name_or_path),
    };
    if !path.is_file() {
        return Err(ScenarioError::NotFound(name_or_path.to_string()));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|source| ScenarioError::Io { path: path.clone(), source })?;
    let origin = path.display().to_string();
    let table = parse(&origin, &text)?;
    let table = resolve_extends(&origin, table, path.parent(), depth)?;
    Ok((origin, table))
}

fn resolve_extends(
    origin: &str,
    mut table: toml::Table,
    base_dir: Option<&Path>,
    depth: usize,
) -> Result<toml::Table, ScenarioError> {
    let Some(parent) = table.remove("extends") else { return Ok(table) };
    let Some(parent) = parent.as_str() else {
        return Err(ScenarioError::Field {
            origin: origin.to_string(),
            field: "extends".into(),
            message: "must be a scenario name or path".into(),
        });
    };
    let (_, mut merged) = load_merged(parent, base_dir, depth + 1)?;
    merge(&mut merged, table);
    Ok(merged)
}

/// Merges `overlay` into `base`: tables recursively, everything else replaced.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(overlay_table)) => {
                merge(base_table, overlay_table);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_scenario_loads() {
        for (name, _) in BUILT_IN {
            let scenario = Scenario::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(scenario.name, name);
            assert!(scenario.horizon_months >= 36, "{name} runs at least 36 months");
        }
    }

    #[test]
    fn every_parameter_of_every_built_in_scenario_has_a_source_or_an_assumption_label() {
        for (name, _) in BUILT_IN {
            let scenario = Scenario::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!scenario.calibration.version.is_empty(), "{name}: calibration version");
            let missing = scenario.uncalibrated_parameters();
            assert!(missing.is_empty(), "{name}: no calibration entry for {missing:?}");
        }
    }

    #[test]
    fn a_parameter_without_a_calibration_entry_is_reported() {
        let text = "extends = \"base\"\nname = \"x\"\n[[market.shocks]]\nname = \"new\"\nstart_month = 1\nrental_change_bps = -100\n";
        let scenario = Scenario::from_toml("x", text, None).expect("loads");
        let missing = scenario.uncalibrated_parameters();
        assert!(
            missing.contains(&"market.shocks[new].rental_change_bps".to_string()),
            "{missing:?}"
        );
    }

    #[test]
    fn an_override_merges_into_its_parent() {
        let text = "extends = \"base\"\nname = \"x\"\n[tbill]\ninitial_apr_bps = 900\n";
        let scenario = Scenario::from_toml("x", text, None).expect("loads");
        let base = Scenario::load("base").expect("base");
        assert_eq!(scenario.tbill.initial_apr_bps, 900);
        assert_eq!(scenario.tbill.long_run_apr_bps, base.tbill.long_run_apr_bps);
        assert_eq!(scenario.classes.len(), base.classes.len());
    }
}
