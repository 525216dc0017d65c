//! What breaks the book: one-at-a-time sensitivity (the tornado of `infrafi simulate
//! --sensitivity`) and reverse stress (`--break-even`: the smallest shock at which the senior
//! loss p99 exceeds 0).
//!
//! Every variant runs the same paths with the same seed (common random numbers), so the
//! differences between variants come from the parameter, not from sampling noise.
//!
//! The break-even search relies on each path's senior loss being monotone in the shock (a path
//! that loses at a shock loses at every larger one): a path's threshold `t_i` is then the
//! smallest shock at which it loses, the share of paths with a loss at shock `s` is the
//! empirical distribution function of the thresholds, and "senior loss p99 > 0" (nearest rank)
//! first holds at the order statistic `t_(m)`, `m = N - ceil(0.99 N) + 1`. The confidence
//! interval is the distribution-free one of that quantile: the order statistics at ranks
//! `N q -/+ 1.96 sqrt(N q (1 - q))`, `q = 1 - 0.99`. The search keeps, for every path, the
//! largest shock known without a loss and the smallest known with one, and runs a path again
//! only where that bracket does not already decide it: after the first, largest shock, only
//! the paths that lost there are run again. The monotonicity is an assumption (a path's
//! holders and margin calls react to the shock too), so the search then runs every path at
//! the estimate and reports how many lost against how many it predicted.

use crate::{
    PathOutcome, SimError, Simulation,
    scenario::{Scenario, ShockSpec},
    summary::{Percentiles, Summary},
};
use serde::Serialize;
use std::sync::atomic::AtomicU64;

/// A parameter the sensitivity varies: its name, the calibration key it stands for, and how
/// to set it to its low and high values.
pub struct Knob {
    /// What it is, as printed.
    pub name: &'static str,
    /// The calibration key(s) of the parameter (docs/simulator.md).
    pub parameter: &'static str,
    /// The range tested and why.
    pub range: &'static str,
    /// Sets the low (`false`) or high (`true`) value on a scenario.
    pub apply: fn(&mut Scenario, bool),
}

/// The parameters `--sensitivity` varies, with ranges from the calibration (docs/simulator.md).
pub fn knobs() -> Vec<Knob> {
    vec![
        Knob {
            name: "rental level",
            parameter: "classes[*].rental_usd_per_hour",
            range: "-20% / +20% (the spread between the long-tail and specialty price tiers)",
            apply: |s, high| {
                for class in &mut s.classes {
                    class.rental_usd_per_hour *= if high { 1.2 } else { 0.8 };
                }
            },
        },
        Knob {
            name: "rental volatility",
            parameter: "classes[*].rental_volatility_annual",
            range: "x0.5 / x1.5",
            apply: |s, high| {
                for class in &mut s.classes {
                    class.rental_volatility_annual *= if high { 1.5 } else { 0.5 };
                }
            },
        },
        Knob {
            name: "rental drift",
            parameter: "classes[*].rental_drift_annual",
            range: "-8%/yr -> -16%/yr / 0",
            apply: |s, high| {
                for class in &mut s.classes {
                    class.rental_drift_annual *= if high { 0.0 } else { 2.0 };
                }
            },
        },
        Knob {
            name: "resale elasticity",
            parameter: "classes[*].resale_elasticity",
            range: "0 / 1 (the data allows 0 to 0.77)",
            apply: |s, high| {
                for class in &mut s.classes {
                    class.resale_elasticity = if high { 1.0 } else { 0.0 };
                }
            },
        },
        Knob {
            name: "depreciation",
            parameter: "classes[*].annual_depreciation_bps",
            range: "3%/yr / 20%/yr (accounting lives of 5 years)",
            apply: |s, high| {
                for class in &mut s.classes {
                    class.annual_depreciation_bps = if high { 2_000 } else { 300 };
                }
            },
        },
        Knob {
            name: "ITAD commission",
            parameter: "classes[*].recovery.itad_commission_bps",
            range: "20% / 40% (around the seed's ~30%)",
            apply: |s, high| {
                for class in &mut s.classes {
                    class.recovery.itad_commission_bps = if high { 4_000 } else { 2_000 };
                }
            },
        },
        Knob {
            name: "liquidation delay",
            parameter: "liquidation.delay_months",
            range: "2 / 8 months",
            apply: |s, high| s.liquidation.delay_months = if high { 8 } else { 2 },
        },
        Knob {
            name: "fire-sale discount",
            parameter: "liquidation.fire_sale_discount_bps",
            range: "0% / 25%",
            apply: |s, high| s.liquidation.fire_sale_discount_bps = if high { 2_500 } else { 0 },
        },
        Knob {
            name: "default probability",
            parameter: "borrowers.pd_annual_at_reference",
            range: "x0.5 / x2",
            apply: |s, high| s.borrowers.pd_annual_at_reference *= if high { 2.0 } else { 0.5 },
        },
        Knob {
            name: "default vs coverage slope",
            parameter: "borrowers.pd_dscr_slope",
            range: "x0.5 / x2",
            apply: |s, high| s.borrowers.pd_dscr_slope *= if high { 2.0 } else { 0.5 },
        },
        Knob {
            name: "default correlation",
            parameter: "borrowers.default_correlation",
            range: "x0.5 / x2",
            apply: |s, high| {
                let rho = s.borrowers.default_correlation * if high { 2.0 } else { 0.5 };
                s.borrowers.default_correlation = rho.min(0.95);
            },
        },
        Knob {
            name: "utilization",
            parameter: "borrowers.utilization_*_bps",
            range: "-10 / +10 points",
            apply: |s, high| {
                let b = &mut s.borrowers;
                let shift = |v: u32| {
                    if high { (v + 1_000).min(10_000) } else { v.saturating_sub(1_000) }
                };
                b.utilization_min_bps = shift(b.utilization_min_bps);
                b.utilization_max_bps = shift(b.utilization_max_bps);
            },
        },
        Knob {
            name: "opex share",
            parameter: "borrowers.opex_share_bps",
            range: "25% / 45% of revenue",
            apply: |s, high| s.borrowers.opex_share_bps = if high { 4_500 } else { 2_500 },
        },
        Knob {
            name: "launch rate",
            parameter: "classes[*].launch_rate_per_year",
            range: "x0.5 / x2",
            apply: |s, high| {
                for class in &mut s.classes {
                    class.launch_rate_per_year *= if high { 2.0 } else { 0.5 };
                }
            },
        },
        Knob {
            name: "T-bill long-run level",
            parameter: "tbill.long_run_apr_bps",
            range: "2% / 6%",
            apply: |s, high| s.tbill.long_run_apr_bps = if high { 600 } else { 200 },
        },
        Knob {
            name: "redemption rate",
            parameter: "holders.base_redemption_rate_annual",
            range: "10% / 40% of shares a year",
            apply: |s, high| s.holders.base_redemption_rate_annual = if high { 0.4 } else { 0.1 },
        },
    ]
}

/// The two figures the tornado shows for one run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Figures {
    /// Senior loss p99, basis points of the senior principal at the start.
    pub senior_loss_p99_bps: f64,
    /// Share of paths with a senior loss.
    pub senior_loss_probability: f64,
    /// sUSDai realised APY, median.
    pub apy_p50: f64,
}

/// One row of the tornado.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SensitivityRow {
    /// The parameter's name.
    pub name: String,
    /// Its calibration key.
    pub parameter: String,
    /// The range tested.
    pub range: String,
    /// Figures with the low value.
    pub low: Figures,
    /// Figures with the high value.
    pub high: Figures,
}

/// `--sensitivity`: the base figures and one row per parameter, sorted by the swing of the
/// senior loss p99 (then of the APY), largest first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sensitivity {
    /// The scenario.
    pub scenario: String,
    /// Paths per variant.
    pub paths: u64,
    /// Seed of every variant.
    pub seed: u64,
    /// Figures of the scenario as it is.
    pub base: Figures,
    /// One row per parameter.
    pub rows: Vec<SensitivityRow>,
}

impl Figures {
    /// The tornado's figures of a run's summary.
    pub fn of(summary: &Summary) -> Figures {
        Figures {
            senior_loss_p99_bps: summary.senior_loss_bps.p99,
            senior_loss_probability: summary.senior_loss_probability,
            apy_p50: summary.susdai_apy.p50,
        }
    }
}

/// Runs one variant of a scenario: its figures.
fn run_variant(
    scenario: Scenario,
    paths: u64,
    seed: u64,
    progress: Option<&AtomicU64>,
) -> Result<Figures, SimError> {
    scenario.validate().map_err(|(field, message)| {
        SimError::Book(format!("a sensitivity variant is invalid: {field}: {message}"))
    })?;
    let simulation = Simulation::new(scenario)?;
    let outcomes = simulation.run(paths, seed, progress)?;
    Ok(Figures::of(&simulation.summarize(&outcomes, seed)))
}

/// Runs the scenario and each knob's low and high variant, `paths` paths each; `progress`
/// counts finished paths (`(1 + 2 x knobs) x paths` in all).
pub fn sensitivity(
    scenario: &Scenario,
    paths: u64,
    seed: u64,
    progress: Option<&AtomicU64>,
) -> Result<Sensitivity, SimError> {
    let base = run_variant(scenario.clone(), paths, seed, progress)?;
    sensitivity_around(scenario, base, paths, seed, progress)
}

/// [`sensitivity`] around the figures `base` of a run of `scenario` as it is, `paths` paths
/// with `seed`, already made (`2 x knobs x paths` paths in all).
pub fn sensitivity_around(
    scenario: &Scenario,
    base: Figures,
    paths: u64,
    seed: u64,
    progress: Option<&AtomicU64>,
) -> Result<Sensitivity, SimError> {
    let run = |scenario: Scenario| run_variant(scenario, paths, seed, progress);
    let mut rows = Vec::new();
    for knob in knobs() {
        let variant = |high: bool| {
            let mut variant = scenario.clone();
            (knob.apply)(&mut variant, high);
            variant
        };
        rows.push(SensitivityRow {
            name: knob.name.to_string(),
            parameter: knob.parameter.to_string(),
            range: knob.range.to_string(),
            low: run(variant(false))?,
            high: run(variant(true))?,
        });
    }
    let swing = |row: &SensitivityRow| {
        (
            (row.high.senior_loss_p99_bps - row.low.senior_loss_p99_bps).abs(),
            (row.high.apy_p50 - row.low.apy_p50).abs(),
        )
    };
    rows.sort_by(|a, b| {
        let (loss_a, apy_a) = swing(a);
        let (loss_b, apy_b) = swing(b);
        loss_b.total_cmp(&loss_a).then(apy_b.total_cmp(&apy_a))
    });
    Ok(Sensitivity { scenario: scenario.name.clone(), paths, seed, base, rows })
}

/// A shock the break-even search scales from 0 to its largest value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShockClass {
    /// A lasting fall of every class's rental index, reached over 12 months from the start.
    Rent,
    /// A lasting fall of every class's resale prices beyond the rental pass-through, over 12
    /// months from the start.
    Resale,
    /// The borrowers' default correlation, from the scenario's value up to 0.95.
    DefaultCorrelation,
}

impl ShockClass {
    /// Every class, in report order.
    pub const ALL: [ShockClass; 3] =
        [ShockClass::Rent, ShockClass::Resale, ShockClass::DefaultCorrelation];

    /// The shock's value at grid level `level` of `LEVELS` (as printed: a fall in percent, or
    /// a correlation).
    pub fn value(self, scenario: &Scenario, level: u32) -> f64 {
        let share = f64::from(level) / f64::from(LEVELS);
        match self {
            ShockClass::Rent | ShockClass::Resale => share * SHOCK_MAX,
            ShockClass::DefaultCorrelation => {
                let start = scenario.borrowers.default_correlation;
                start + share * (CORRELATION_MAX - start).max(0.0)
            }
        }
    }

    /// The scenario with the shock at grid level `level`.
    pub fn apply(self, scenario: &Scenario, level: u32) -> Scenario {
        let mut variant = scenario.clone();
        let value = self.value(scenario, level);
        let change_bps = -(value * 10_000.0).round() as i32;
        let shock = |rental: i32, resale: i32| ShockSpec {
            name: "break-even".into(),
            start_month: 0,
            ramp_months: 12,
            classes: Vec::new(),
            rental_change_bps: rental,
            resale_change_bps: resale,
            recovery_haircut_bps: 0,
            liquidation_delay_months: 0,
            default_factor_shift: 0.0,
        };
        match self {
            ShockClass::Rent => variant.market.shocks.push(shock(change_bps, 0)),
            ShockClass::Resale => variant.market.shocks.push(shock(0, change_bps)),
            ShockClass::DefaultCorrelation => variant.borrowers.default_correlation = value,
        }
        variant
    }

    /// What the figure means.
    pub fn unit(self) -> &'static str {
        match self {
            ShockClass::Rent => "lasting fall of rents (share), reached over 12 months",
            ShockClass::Resale => {
                "lasting fall of resale prices beyond the rents' (share), over 12 months"
            }
            ShockClass::DefaultCorrelation => "borrowers' default correlation",
        }
    }
}

/// Grid levels of the search between no shock and the largest one (resolution 1/64 of the
/// range: 1.5 points of rent or resale, about 1.2 points of correlation from base's).
pub const LEVELS: u32 = 64;
/// The largest rent or resale fall searched.
pub const SHOCK_MAX: f64 = 0.95;
/// The largest default correlation searched.
pub const CORRELATION_MAX: f64 = 0.95;
/// The quantile whose exceedance breaks the senior tranche: loss p99 > 0.
const QUANTILE: f64 = 0.99;

/// The break-even of one shock class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakEven {
    /// The shock.
    pub class: ShockClass,
    /// What the figures mean.
    pub unit: String,
    /// The smallest shock (grid value) at which the senior loss p99 exceeds 0; `None` when it
    /// does not even at the largest shock searched.
    pub estimate: Option<f64>,
    /// 95% confidence interval of the estimate (distribution-free, from the order statistics
    /// of the paths' thresholds); a bound is `None` beyond the searched range.
    pub interval_low: Option<f64>,
    /// The upper bound.
    pub interval_high: Option<f64>,
    /// Share of paths with a senior loss at the largest shock searched.
    pub loss_probability_at_max: f64,
    /// Grid levels run, with the paths run at each.
    pub evaluations: Vec<(f64, u64)>,
    /// At the estimate: paths with a senior loss as the search predicted them (from each
    /// path's bracket) and as a full run of every path found them.
    pub check_at_estimate: Option<(u64, u64)>,
}

/// `--break-even`: one figure per shock class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakEvens {
    /// The scenario.
    pub scenario: String,
    /// Paths.
    pub paths: u64,
    /// Seed.
    pub seed: u64,
    /// The senior loss figures of the scenario as it is.
    pub base_senior_loss_bps: Percentiles,
    /// One per class.
    pub classes: Vec<BreakEven>,
}

/// What the search knows of one path: the highest level seen without a senior loss and the
/// lowest seen with one (`LEVELS + 1` for none yet).
#[derive(Clone, Copy)]
struct Bracket {
    safe: Option<u32>,
    broken: u32,
}

/// Runs the paths a bracket does not decide at a level and records what they showed.
type Evaluate<'a> = dyn FnMut(u32, &mut [Bracket]) -> Result<(), SimError> + 'a;

/// The smallest level at which the rank-`rank` path threshold is reached, by bisection over
/// the grid; `None` when fewer than `rank` paths break at the top level.
fn level_of_rank(
    rank: u64,
    brackets: &mut [Bracket],
    evaluate: &mut Evaluate<'_>,
) -> Result<Option<u32>, SimError> {
    let broken_at = |level: u32, brackets: &[Bracket]| {
        brackets.iter().filter(|b| b.broken <= level).count() as u64
    };
    if broken_at(LEVELS, brackets) < rank {
        return Ok(None);
    }
    let (mut low, mut high) = (0u32, LEVELS); // broken_at(high) >= rank
    evaluate(0, brackets)?; // Already known from the scenario's own run.
    if broken_at(0, brackets) >= rank {
        return Ok(Some(0));
    }
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        evaluate(middle, brackets)?;
        if broken_at(middle, brackets) >= rank {
            high = middle;
        } else {
            low = middle;
        }
    }
    Ok(Some(high))
}

/// Searches the break-even of `class` over the paths of `simulation`'s book whose outcomes
/// without the shock are `base` (path `i` is `base[i]`).
pub fn break_even(
    simulation: &Simulation,
    class: ShockClass,
    base: &[PathOutcome],
    seed: u64,
    progress: Option<&AtomicU64>,
) -> Result<BreakEven, SimError> {
    let scenario = &simulation.scenario;
    let n = base.len();
    let paths = n as u64;
    // Level 0 is the scenario as it is: its run decides every path's bracket there.
    let mut brackets: Vec<Bracket> = base
        .iter()
        .map(|o| {
            if o.senior_loss_usd() > 0.0 {
                Bracket { safe: None, broken: 0 }
            } else {
                Bracket { safe: Some(0), broken: LEVELS + 1 }
            }
        })
        .collect();
    let mut evaluations = Vec::new();
    let mut evaluated = std::collections::BTreeSet::from([0]);
    let mut evaluate = |level: u32, brackets: &mut [Bracket]| -> Result<(), SimError> {
        if !evaluated.insert(level) {
            return Ok(());
        }
        let undecided: Vec<u64> = (0..paths)
            .filter(|&i| {
                let b = brackets[i as usize];
                b.safe.is_none_or(|safe| safe < level) && b.broken > level
            })
            .collect();
        let variant = class.apply(scenario, level);
        let run = Simulation::from_book(variant, simulation.book.clone());
        let outcomes = run.run_paths(&undecided, seed, progress)?;
        for (&i, outcome) in undecided.iter().zip(&outcomes) {
            let bracket = &mut brackets[i as usize];
            if outcome.senior_loss_usd() > 0.0 {
                bracket.broken = level;
            } else {
                bracket.safe = Some(level);
            }
        }
        evaluations.push((class.value(scenario, level), undecided.len() as u64));
        Ok(())
    };
    evaluate(LEVELS, &mut brackets)?;
    let loss_at_max = brackets.iter().filter(|b| b.broken <= LEVELS).count() as f64 / n as f64;
    let rank = |r: f64| r.clamp(1.0, n as f64) as u64;
    let tail = 1.0 - QUANTILE;
    let m = (n as u64) - ((QUANTILE * n as f64).ceil() as u64) + 1;
    let spread = 1.96 * (n as f64 * tail * (1.0 - tail)).sqrt();
    let rank_low = rank((n as f64 * tail - spread).floor());
    let rank_high = rank((n as f64 * tail + spread).ceil() + 1.0);
    let estimate = level_of_rank(m, &mut brackets, &mut evaluate)?;
    let low = level_of_rank(rank_low, &mut brackets, &mut evaluate)?;
    let high = level_of_rank(rank_high, &mut brackets, &mut evaluate)?;
    let value = |level: Option<u32>| level.map(|l| class.value(scenario, l));
    let check_at_estimate = match estimate {
        Some(level) => {
            let predicted = brackets.iter().filter(|b| b.broken <= level).count() as u64;
            let every: Vec<u64> = (0..paths).collect();
            let run = Simulation::from_book(class.apply(scenario, level), simulation.book.clone());
            let outcomes = run.run_paths(&every, seed, progress)?;
            let found = outcomes.iter().filter(|o| o.senior_loss_usd() > 0.0).count() as u64;
            Some((predicted, found))
        }
        None => None,
    };
    Ok(BreakEven {
        class,
        unit: class.unit().to_string(),
        estimate: value(estimate),
        interval_low: value(low),
        interval_high: value(high),
        loss_probability_at_max: loss_at_max,
        evaluations,
        check_at_estimate,
    })
}

/// Every class's break-even, after a run of the scenario as it is.
pub fn break_evens(
    simulation: &Simulation,
    paths: u64,
    seed: u64,
    progress: Option<&AtomicU64>,
) -> Result<BreakEvens, SimError> {
    let outcomes = simulation.run(paths, seed, progress)?;
    let summary = simulation.summarize(&outcomes, seed);
    break_evens_from(simulation, &outcomes, &summary, progress)
}

/// [`break_evens`] from a run of the scenario as it is already made: its outcomes (in path
/// order) and their summary.
pub fn break_evens_from(
    simulation: &Simulation,
    outcomes: &[PathOutcome],
    summary: &Summary,
    progress: Option<&AtomicU64>,
) -> Result<BreakEvens, SimError> {
    let classes = ShockClass::ALL
        .into_iter()
        .map(|class| break_even(simulation, class, outcomes, summary.seed, progress))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BreakEvens {
        scenario: simulation.scenario.name.clone(),
        paths: outcomes.len() as u64,
        seed: summary.seed,
        base_senior_loss_bps: summary.senior_loss_bps.clone(),
        classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the rank search against known thresholds (path i breaks from level t[i]).
    fn search(thresholds: &[u32], rank: u64) -> (Option<u32>, usize) {
        let mut brackets: Vec<Bracket> = thresholds
            .iter()
            .map(|&t| {
                if t == 0 {
                    Bracket { safe: None, broken: 0 }
                } else {
                    Bracket { safe: Some(0), broken: LEVELS + 1 }
                }
            })
            .collect();
        let mut runs = 0;
        let mut evaluate = |level: u32, brackets: &mut [Bracket]| -> Result<(), SimError> {
            for (b, &t) in brackets.iter_mut().zip(thresholds) {
                if b.safe.is_none_or(|safe| safe < level) && b.broken > level {
                    runs += 1;
                    if t <= level { b.broken = level } else { b.safe = Some(level) }
                }
            }
            Ok(())
        };
        evaluate(LEVELS, &mut brackets).expect("runs");
        let found = level_of_rank(rank, &mut brackets, &mut evaluate).expect("runs");
        (found, runs)
    }

    #[test]
    fn the_search_finds_the_order_statistic_of_the_paths_thresholds() {
        let mut rng = crate::rng::Rng::new(4);
        let thresholds: Vec<u32> = (0..1_000).map(|_| rng.below(80) as u32).collect();
        let mut sorted = thresholds.clone();
        sorted.sort_unstable();
        for rank in [1u64, 3, 11, 17, 500] {
            let (found, runs) = search(&thresholds, rank);
            assert_eq!(found, Some(sorted[rank as usize - 1]), "rank {rank}");
            assert!(runs < 1_000 * 8, "paths already decided are not run again ({runs})");
        }
        // Fewer breaking paths than the rank within the range: none.
        let safe = vec![LEVELS + 5; 100];
        assert_eq!(search(&safe, 2).0, None);
    }

    #[test]
    fn every_knob_keeps_the_base_scenario_valid_at_both_ends() {
        let scenario = Scenario::load("base").expect("base");
        for knob in knobs() {
            for high in [false, true] {
                let mut variant = scenario.clone();
                (knob.apply)(&mut variant, high);
                variant.validate().unwrap_or_else(|e| panic!("{} {high}: {e:?}", knob.name));
            }
        }
        for class in ShockClass::ALL {
            for level in [0, LEVELS / 2, LEVELS] {
                class.apply(&scenario, level).validate().expect("a valid shock");
            }
        }
    }
}
