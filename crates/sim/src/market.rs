//! The stochastic market models: GPU rental price indices, used-hardware resale prices, new
//! generation launches, deterministic shocks, the T-bill rate and the common default factor.
//!
//! All in `f64`, stepped once per 30-day month. Nothing here touches the protocol state: the
//! path engine turns these numbers into oracle posts, appraisals and sale reports.
//!
//! - Rental index of class c: `ln X_c(k+1) = ln X_c(k) + (mu_c - sigma_c^2/2) dt + sigma_c
//!   sqrt(dt) (L z)_c`, with `L` the Cholesky factor of the class correlation matrix and `dt`
//!   = 30/365 years; a launch multiplies `X_c` by `1 - step` (random launches are Poisson with
//!   `launch_rate_per_year`; scheduled ones come from the scenario). Shocks add a log change
//!   that ramps linearly over their `ramp_months` and then lasts.
//! - Resale price of a unit of age `a`: `new_price x min(1, X_c^elasticity x S_c x
//!   max(floor, 1 - depreciation x a))`, with `S_c` the resale shocks.
//! - T-bill APR: Vasicek, `r += kappa (theta - r) dt + sigma sqrt(dt) z`, kept in [0, 20%].
//! - Common default factor of month k: `Z_k ~ N(0, 1)` plus the active shocks' shift.
//! - A backtest (`[market.observed]`) replaces the random walk of the listed classes and the
//!   Vasicek rate by observed monthly series ([`crate::data`]): those move deterministically,
//!   with no random launch; the borrowers' defaults stay random.

use crate::{
    rng::Rng,
    scenario::{ClassSpec, Scenario},
};

/// A model month in years (30 days of a 365-day year).
pub const MONTH_YEARS: f64 = 30.0 / 365.0;
/// Hours in a model month.
pub const HOURS_PER_MONTH: f64 = 720.0;
/// The highest T-bill APR the model produces (the oracle's default limit).
pub const TBILL_APR_MAX: f64 = 0.20;

/// The lower-triangular Cholesky factor of a symmetric positive-definite matrix, or `None`.
pub fn cholesky(matrix: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = matrix.len();
    let mut factor = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            if (matrix[i][j] - matrix[j][i]).abs() > 1e-12 {
                return None;
            }
            let sum: f64 = (0..j).map(|k| factor[i][k] * factor[j][k]).sum();
            if i == j {
                let pivot = matrix[i][i] - sum;
                if pivot.is_nan() || pivot <= 1e-12 {
                    return None;
                }
                factor[i][j] = pivot.sqrt();
            } else {
                factor[i][j] = (matrix[i][j] - sum) / factor[j][j];
            }
        }
    }
    Some(factor)
}

/// A class as the market model sees it.
#[derive(Clone, Debug)]
pub struct ClassModel {
    /// Log drift per month net of the Ito term.
    pub drift_per_month: f64,
    /// Volatility per square-root month.
    pub volatility_per_month: f64,
    /// Resale elasticity to the rental index.
    pub elasticity: f64,
    /// Probability of a random launch in a month.
    pub launch_probability: f64,
    /// Log multiplier of a random launch.
    pub launch_log_step: f64,
    /// Rental USD per unit-hour at index 1.
    pub rental_usd_per_hour: f64,
    /// New price of a unit.
    pub new_price_usd: f64,
    /// Age-curve decline per year (fraction of the new price).
    pub depreciation_per_year: f64,
    /// Age-curve floor (fraction of the new price).
    pub floor: f64,
}

impl ClassModel {
    fn new(spec: &ClassSpec) -> ClassModel {
        let sigma = spec.rental_volatility_annual;
        ClassModel {
            drift_per_month: (spec.rental_drift_annual - sigma * sigma / 2.0) * MONTH_YEARS,
            volatility_per_month: sigma * MONTH_YEARS.sqrt(),
            elasticity: spec.resale_elasticity,
            launch_probability: 1.0 - (-spec.launch_rate_per_year * MONTH_YEARS).exp(),
            launch_log_step: (1.0 - f64::from(spec.launch_rental_step_down_bps) / 1e4).ln(),
            rental_usd_per_hour: spec.rental_usd_per_hour,
            new_price_usd: spec.new_price_usd,
            depreciation_per_year: f64::from(spec.annual_depreciation_bps) / 1e4,
            floor: f64::from(spec.floor_bps) / 1e4,
        }
    }

    /// The age curve: share of the new price a unit of `age_years` keeps, before the market.
    pub fn age_factor(&self, age_years: f64) -> f64 {
        (1.0 - self.depreciation_per_year * age_years.max(0.0)).max(self.floor)
    }
}

#[derive(Clone, Debug)]
struct ShockModel {
    start: u32,
    ramp: u32,
    classes: Vec<bool>,
    rental_log: f64,
    resale_log: f64,
    recovery_haircut: f64,
    liquidation_delay_months: u32,
    default_factor_shift: f64,
}

impl ShockModel {
    /// How much of the price change has happened by month `k` (0 to 1).
    fn progress(&self, k: u32) -> f64 {
        if k < self.start {
            0.0
        } else if self.ramp == 0 {
            1.0
        } else {
            (f64::from(k - self.start) / f64::from(self.ramp)).min(1.0)
        }
    }

    fn is_started(&self, k: u32) -> bool {
        k >= self.start
    }

    fn shifts_factor_at(&self, k: u32) -> bool {
        k >= self.start && k < self.start + self.ramp.max(1)
    }
}

/// The market model of a scenario (shared by every path).
#[derive(Clone, Debug)]
pub struct MarketModel {
    /// Classes in scenario order.
    pub classes: Vec<ClassModel>,
    cholesky: Vec<Vec<f64>>,
    /// Scheduled launches: (month, class, log step).
    scheduled_launches: Vec<(u32, usize, f64)>,
    shocks: Vec<ShockModel>,
    tbill_initial: f64,
    tbill_long_run: f64,
    tbill_reversion: f64,
    tbill_volatility: f64,
    /// Per class: the observed log rental index by month (a backtest), or `None`.
    observed_rental_log: Vec<Option<Vec<f64>>>,
    /// The observed T-bill APR by month (a backtest), or `None`.
    observed_tbill_apr: Option<Vec<f64>>,
}

fn class_mask(scenario: &Scenario, names: &[String]) -> Vec<bool> {
    if names.is_empty() {
        return vec![true; scenario.classes.len()];
    }
    scenario.classes.iter().map(|class| names.contains(&class.id)).collect()
}

impl MarketModel {
    /// Compiles a validated scenario's market.
    pub fn new(scenario: &Scenario) -> MarketModel {
        let n = scenario.classes.len();
        let matrix = scenario.market.correlation_matrix.clone().unwrap_or_else(|| {
            (0..n)
                .map(|i| {
                    (0..n).map(|j| if i == j { 1.0 } else { scenario.market.correlation }).collect()
                })
                .collect()
        });
        let cholesky =
            cholesky(&matrix).expect("validated: the correlation matrix is positive definite");
        let mut scheduled_launches = Vec::new();
        for launch in &scenario.market.launches {
            let step = (1.0 - f64::from(launch.rental_step_down_bps) / 1e4).ln();
            for (c, hit) in class_mask(scenario, &launch.classes).into_iter().enumerate() {
                if hit {
                    scheduled_launches.push((launch.month, c, step));
                }
            }
        }
        let shocks = scenario
            .market
            .shocks
            .iter()
            .map(|shock| ShockModel {
                start: shock.start_month,
                ramp: shock.ramp_months,
                classes: class_mask(scenario, &shock.classes),
                rental_log: (1.0 + f64::from(shock.rental_change_bps) / 1e4).ln(),
                resale_log: (1.0 + f64::from(shock.resale_change_bps) / 1e4).ln(),
                recovery_haircut: f64::from(shock.recovery_haircut_bps) / 1e4,
                liquidation_delay_months: shock.liquidation_delay_months,
                default_factor_shift: shock.default_factor_shift,
            })
            .collect();
        let tbill = &scenario.tbill;
        let mut observed_rental_log = vec![None; n];
        let mut observed_tbill_apr = None;
        if let Some(observed) = &scenario.market.observed {
            let start = crate::data::Month::parse(&observed.start).expect("validated: a month");
            let path = |name: &str| {
                let series = crate::data::series(name).expect("validated: a built-in series");
                crate::data::monthly_path(&series, start, scenario.horizon_months)
                    .expect("validated: the series covers the horizon")
            };
            for (class, name) in &observed.rentals {
                let c = scenario.class_index(class).expect("validated: a known class");
                let levels = path(name);
                observed_rental_log[c] =
                    Some(levels.iter().map(|v| (v / levels[0]).ln()).collect());
            }
            observed_tbill_apr = observed
                .tbill
                .as_deref()
                .map(|name| path(name).iter().map(|p| p / 100.0).collect());
        }
        MarketModel {
            classes: scenario.classes.iter().map(ClassModel::new).collect(),
            cholesky,
            scheduled_launches,
            shocks,
            tbill_initial: f64::from(tbill.initial_apr_bps) / 1e4,
            tbill_long_run: f64::from(tbill.long_run_apr_bps) / 1e4,
            tbill_reversion: tbill.reversion_per_year,
            tbill_volatility: tbill.volatility_bps_per_sqrt_year / 1e4,
            observed_rental_log,
            observed_tbill_apr,
        }
    }

    /// The market at month 0.
    pub fn initial_state(&self) -> MarketState {
        MarketState {
            month: 0,
            rental_log: vec![0.0; self.classes.len()],
            tbill_apr: self.observed_tbill_apr.as_ref().map_or(self.tbill_initial, |path| path[0]),
            factor: 0.0,
            launches: Vec::new(),
        }
    }

    /// A path's market at month 0: the starting levels, with month 0's common default factor
    /// drawn from `rng` like every later month's (a factor fixed at 0 would make the first
    /// month's defaults both rarer and independent).
    pub fn start_path(&self, rng: &mut Rng) -> MarketState {
        let mut state = self.initial_state();
        state.factor = rng.normal() + self.factor_shift(0);
        state
    }

    fn factor_shift(&self, k: u32) -> f64 {
        self.shocks.iter().filter(|s| s.shifts_factor_at(k)).map(|s| s.default_factor_shift).sum()
    }

    /// Extra liquidation haircut in force at month `k`.
    pub fn recovery_haircut(&self, k: u32) -> f64 {
        self.shocks.iter().filter(|s| s.is_started(k)).map(|s| s.recovery_haircut).sum()
    }

    /// Extra liquidation months in force at month `k`.
    pub fn liquidation_delay_months(&self, k: u32) -> u32 {
        self.shocks.iter().filter(|s| s.is_started(k)).map(|s| s.liquidation_delay_months).sum()
    }

    fn shock_logs(&self, c: usize, k: u32) -> (f64, f64) {
        let mut rental = 0.0;
        let mut resale = 0.0;
        for shock in self.shocks.iter().filter(|s| s.classes[c]) {
            let progress = shock.progress(k);
            rental += shock.rental_log * progress;
            resale += shock.resale_log * progress;
        }
        (rental, resale)
    }

    /// Moves `state` one month forward with draws from `rng`.
    pub fn step(&self, state: &mut MarketState, rng: &mut Rng) {
        let n = self.classes.len();
        state.month += 1;
        let k = state.month;
        state.launches.clear();
        let independent: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        for c in 0..n {
            let class = &self.classes[c];
            if let Some(path) = &self.observed_rental_log[c] {
                // Replayed: the series already holds every launch and move of the market.
                state.rental_log[c] = observed_at(path, k);
                continue;
            }
            let correlated: f64 = (0..=c).map(|j| self.cholesky[c][j] * independent[j]).sum();
            state.rental_log[c] += class.drift_per_month + class.volatility_per_month * correlated;
            if rng.chance(class.launch_probability) {
                state.rental_log[c] += class.launch_log_step;
                state.launches.push((c, class.launch_log_step));
            }
        }
        for &(month, c, step) in &self.scheduled_launches {
            if month == k && self.observed_rental_log[c].is_none() {
                state.rental_log[c] += step;
                state.launches.push((c, step));
            }
        }
        let dt = MONTH_YEARS;
        let rate = state.tbill_apr
            + self.tbill_reversion * (self.tbill_long_run - state.tbill_apr) * dt
            + self.tbill_volatility * dt.sqrt() * rng.normal();
        state.tbill_apr = match &self.observed_tbill_apr {
            Some(path) => observed_at(path, k),
            None => rate.clamp(0.0, TBILL_APR_MAX),
        };
        state.factor = rng.normal() + self.factor_shift(k);
    }

    /// The rental index of class `c` (1.0 at the start).
    pub fn rental_index(&self, state: &MarketState, c: usize) -> f64 {
        let (rental_shock, _) = self.shock_logs(c, state.month);
        (state.rental_log[c] + rental_shock).exp()
    }

    /// The resale index of class `c`: the rental index to the elasticity, times resale shocks.
    pub fn resale_index(&self, state: &MarketState, c: usize) -> f64 {
        let (rental_shock, resale_shock) = self.shock_logs(c, state.month);
        let class = &self.classes[c];
        (class.elasticity * (state.rental_log[c] + rental_shock) + resale_shock).exp()
    }

    /// Gross rental revenue of one unit of class `c` in a month at full utilization, USD.
    pub fn rental_usd_per_unit_month(&self, state: &MarketState, c: usize) -> f64 {
        self.classes[c].rental_usd_per_hour * self.rental_index(state, c) * HOURS_PER_MONTH
    }

    /// What one used unit of class `c` and `age_years` fetches on the secondary market, USD.
    pub fn resale_usd_per_unit(&self, state: &MarketState, c: usize, age_years: f64) -> f64 {
        let class = &self.classes[c];
        let share = (self.resale_index(state, c) * class.age_factor(age_years)).min(1.0);
        class.new_price_usd * share
    }
}

/// Month `k` of an observed path (its last value past its end).
fn observed_at(path: &[f64], k: u32) -> f64 {
    path.get(k as usize).or(path.last()).copied().unwrap_or_default()
}

/// One path's market at a month.
#[derive(Clone, Debug)]
pub struct MarketState {
    /// The month (0 at the start).
    pub month: u32,
    /// Log rental index per class: the random walk and launches (shocks are added on read).
    pub rental_log: Vec<f64>,
    /// T-bill APR.
    pub tbill_apr: f64,
    /// The common default factor of this month.
    pub factor: f64,
    /// Launches of this month: (class, log step of the rental index).
    pub launches: Vec<(usize, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_the_matrix_and_rejects_a_non_definite_one() {
        let matrix = vec![vec![1.0, 0.6, 0.3], vec![0.6, 1.0, 0.5], vec![0.3, 0.5, 1.0]];
        let factor = cholesky(&matrix).expect("positive definite");
        for i in 0..3 {
            for j in 0..3 {
                let product: f64 = (0..3).map(|k| factor[i][k] * factor[j][k]).sum();
                assert!((product - matrix[i][j]).abs() < 1e-12);
            }
        }
        assert!(cholesky(&[vec![1.0, 1.5], vec![1.5, 1.0]]).is_none());
    }

    #[test]
    fn correlated_shocks_have_the_requested_correlation_and_drift() {
        let mut scenario = crate::scenario::Scenario::load("base").expect("base");
        scenario.market.correlation = 0.6;
        for class in &mut scenario.classes {
            class.launch_rate_per_year = 0.0;
        }
        let model = MarketModel::new(&scenario);
        let mut rng = Rng::new(9);
        let (mut sum_xy, mut sum_xx, mut sum_yy) = (0.0, 0.0, 0.0);
        let months = 100_000;
        let mut state = model.initial_state();
        for _ in 0..months {
            let before = state.rental_log.clone();
            model.step(&mut state, &mut rng);
            let x = state.rental_log[0] - before[0] - model.classes[0].drift_per_month;
            let y = state.rental_log[1] - before[1] - model.classes[1].drift_per_month;
            sum_xy += x * y;
            sum_xx += x * x;
            sum_yy += y * y;
        }
        let correlation = sum_xy / (sum_xx * sum_yy).sqrt();
        assert!((correlation - 0.6).abs() < 0.01, "correlation {correlation}");
        let expected_variance = model.classes[0].volatility_per_month.powi(2);
        assert!((sum_xx / months as f64 / expected_variance - 1.0).abs() < 0.02);
    }

    #[test]
    fn the_vasicek_rate_has_the_theoretical_mean_and_variance_after_three_years() {
        // Far from the [0, 20%] bounds, so the clamp never acts. The model steps the Euler
        // scheme; its exact moments after n steps are mean theta + (r0 - theta) b^n and
        // variance sigma^2 dt (1 - b^2n) / (1 - b^2), b = 1 - kappa dt, which approach the
        // continuous-time Vasicek moments theta + (r0 - theta) e^-kappa t and
        // sigma^2 (1 - e^-2 kappa t) / (2 kappa) as dt -> 0 (here within 5 bp and 4%).
        let mut scenario = crate::scenario::Scenario::load("base").expect("base");
        scenario.tbill.initial_apr_bps = 900;
        scenario.tbill.long_run_apr_bps = 600;
        scenario.tbill.reversion_per_year = 0.8;
        scenario.tbill.volatility_bps_per_sqrt_year = 100.0;
        let model = MarketModel::new(&scenario);
        let (paths, months) = (20_000, 36);
        let mut rng = Rng::new(5);
        let finals: Vec<f64> = (0..paths)
            .map(|_| {
                let mut state = model.initial_state();
                for _ in 0..months {
                    model.step(&mut state, &mut rng);
                }
                state.tbill_apr
            })
            .collect();
        let mean = finals.iter().sum::<f64>() / paths as f64;
        let variance = finals.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (paths - 1) as f64;
        let (r0, theta, kappa, sigma) = (0.09, 0.06, 0.8, 0.01);
        let t = f64::from(months) * MONTH_YEARS;
        let theory_mean = theta + (r0 - theta) * (-kappa * t).exp();
        let theory_variance = sigma * sigma * (1.0 - (-2.0 * kappa * t).exp()) / (2.0 * kappa);
        let b = 1.0 - kappa * MONTH_YEARS;
        let euler_mean = theta + (r0 - theta) * b.powi(months);
        let euler_variance =
            sigma * sigma * MONTH_YEARS * (1.0 - b.powi(2 * months)) / (1.0 - b * b);
        let mean_error = (theory_variance / paths as f64).sqrt();
        assert!((mean - euler_mean).abs() < 4.0 * mean_error, "mean {mean} vs {euler_mean}");
        assert!((euler_mean - theory_mean).abs() < 5e-4, "discretisation of the mean");
        let variance_error = euler_variance * (2.0 / (paths - 1) as f64).sqrt();
        assert!(
            (variance - euler_variance).abs() < 4.0 * variance_error,
            "variance {variance} vs {euler_variance}"
        );
        assert!((euler_variance / theory_variance - 1.0).abs() < 0.04, "discretisation");
    }

    #[test]
    fn a_backtest_replays_the_observed_rents_and_rates_whatever_the_random_draws() {
        let scenario = crate::scenario::Scenario::load("backtest-h100").expect("loads");
        let model = MarketModel::new(&scenario);
        let h100 = scenario.class_index("gpu.h100-sxm").expect("the H100 class");
        let rents = crate::data::series("h100_rental_anchors").expect("series");
        let rates = crate::data::series("tbill_3m_anchors").expect("series");
        let start = crate::data::Month::parse("2023-03").expect("month");
        for seed in [1, 2] {
            let mut rng = Rng::new(seed);
            let mut state = model.start_path(&mut rng);
            for k in 1..=scenario.horizon_months {
                model.step(&mut state, &mut rng);
                let month = start.plus(k);
                let expected = rents.at(month).expect("covered") / 4.70;
                let index = model.rental_index(&state, h100);
                assert!((index - expected).abs() < 1e-9, "{month}: index {index}, {expected}");
                let rate = rates.at(month).expect("covered") / 100.0;
                assert!((state.tbill_apr - rate).abs() < 1e-12, "{month}");
            }
        }
    }

    #[test]
    fn a_crash_shock_takes_sixty_percent_off_rents_over_its_ramp() {
        let scenario = crate::scenario::Scenario::load("gpu-price-crash").expect("loads");
        let model = MarketModel::new(&scenario);
        let mut state = model.initial_state();
        state.month = 6;
        let half = model.rental_index(&state, 0);
        state.month = 12;
        let full = model.rental_index(&state, 0);
        state.month = 30;
        let later = model.rental_index(&state, 0);
        assert!((full - 0.4).abs() < 1e-12);
        assert!((half - 0.4f64.sqrt()).abs() < 1e-12);
        assert!((later - 0.4).abs() < 1e-12, "the crash lasts");
    }
}
