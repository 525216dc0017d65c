//! Aggregation of the paths into `summary.json` and the text report.
//!
//! Everything here runs sequentially over the outcomes in path order, so the summary is a
//! function of (scenario, paths, seed) alone, whatever the number of threads that ran them.
//! Percentiles are nearest-rank (the smallest value with at least p% of the paths at or
//! below it); queue waits are pooled over all paths' requests and weighted by shares.

use crate::{Simulation, convert::amount_to_usd, path::PathOutcome};
use infrafi_core::{Asset, ProtocolAccount, vault};
use serde::Serialize;
use std::{collections::BTreeMap, fmt::Write};

/// Percentiles 1/5/50/95/99 and the mean of one figure across paths.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// 1st percentile.
    pub p1: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Mean.
    pub mean: f64,
}

/// The nearest-rank `p`-quantile (0..=1) of sorted values.
fn rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

impl Percentiles {
    /// Of `values` (in path order).
    pub fn of(values: &[f64]) -> Percentiles {
        let mean =
            if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 };
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Percentiles {
            p1: rank(&sorted, 0.01),
            p5: rank(&sorted, 0.05),
            p50: rank(&sorted, 0.50),
            p95: rank(&sorted, 0.95),
            p99: rank(&sorted, 0.99),
            mean,
        }
    }

    /// Of a weighted histogram (value -> weight).
    pub fn of_weighted(histogram: &BTreeMap<u32, f64>) -> Percentiles {
        let total: f64 = histogram.values().sum();
        if total.is_nan() || total <= 0.0 {
            return Percentiles::default();
        }
        let quantile = |p: f64| {
            let target = p * total;
            let mut cumulative = 0.0;
            for (&value, &weight) in histogram {
                cumulative += weight;
                if cumulative >= target {
                    return f64::from(value);
                }
            }
            histogram.keys().next_back().map_or(0.0, |v| f64::from(*v))
        };
        let mean = histogram.iter().map(|(&v, &w)| f64::from(v) * w).sum::<f64>() / total;
        Percentiles {
            p1: quantile(0.01),
            p5: quantile(0.05),
            p50: quantile(0.50),
            p95: quantile(0.95),
            p99: quantile(0.99),
            mean,
        }
    }
}

/// A headline figure with its 95% confidence interval. The interval is the sampling error of
/// the paths only (how far another seed could move the figure); the uncertainty of the model's
/// parameters is what `--sensitivity` shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// What the figure is.
    pub name: String,
    /// Its unit (`bps` of the senior principal at the start, `share`, ...).
    pub unit: String,
    /// The estimate (the same figure the percentile tables show).
    pub value: f64,
    /// Lower bound of the 95% interval.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// How the interval was computed.
    pub method: String,
}

/// 1.96: the two-sided 95% normal quantile.
const Z95: f64 = 1.96;

impl Estimate {
    /// The nearest-rank `q`-quantile of `values` with the distribution-free interval of a
    /// quantile: the order statistics at ranks `n q -/+ 1.96 sqrt(n q (1 - q))` (the same rule
    /// as the break-even interval). At few paths the interval widens to the extremes.
    pub fn quantile(name: &str, unit: &str, values: &[f64], q: f64) -> Estimate {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let spread = Z95 * (n * q * (1.0 - q)).sqrt();
        let at_rank = |r: f64| {
            if sorted.is_empty() {
                return 0.0;
            }
            sorted[(r.clamp(1.0, n) as usize) - 1]
        };
        Estimate {
            name: name.to_string(),
            unit: unit.to_string(),
            value: rank(&sorted, q),
            low: at_rank((n * q - spread).floor()),
            high: at_rank((n * q + spread).ceil() + 1.0),
            method: "order statistics (distribution-free)".to_string(),
        }
    }

    /// The mean of `values` with the normal interval `mean -/+ 1.96 s / sqrt(n)`.
    pub fn mean(name: &str, unit: &str, values: &[f64]) -> Estimate {
        let n = values.len() as f64;
        let mean = if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / n };
        let variance = if values.len() > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        let half = Z95 * (variance / n.max(1.0)).sqrt();
        Estimate {
            name: name.to_string(),
            unit: unit.to_string(),
            value: mean,
            low: mean - half,
            high: mean + half,
            method: "mean, normal approximation".to_string(),
        }
    }

    /// The share `hits / n` with the Wilson score interval (sound at 0 and at small `n`).
    pub fn proportion(name: &str, hits: u64, n: u64) -> Estimate {
        let (k, n) = (hits as f64, (n as f64).max(1.0));
        let share = k / n;
        let z2 = Z95 * Z95;
        let centre = (share + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = Z95 / (1.0 + z2 / n) * (share * (1.0 - share) / n + z2 / (4.0 * n * n)).sqrt();
        Estimate {
            name: name.to_string(),
            unit: "share".to_string(),
            value: share,
            low: (centre - half).max(0.0),
            high: (centre + half).min(1.0),
            method: "Wilson score".to_string(),
        }
    }

    /// The pooled ratio `sum y / sum x` over paths `(x, y)` with the delta-method interval of
    /// a ratio estimator.
    pub fn ratio(name: &str, pairs: &[(f64, f64)]) -> Estimate {
        let n = pairs.len() as f64;
        let (sum_x, sum_y) = pairs.iter().fold((0.0, 0.0), |(x, y), p| (x + p.0, y + p.1));
        let ratio = if sum_x > 0.0 { sum_y / sum_x } else { 0.0 };
        let half = if pairs.len() > 1 && sum_x > 0.0 {
            let mean_x = sum_x / n;
            let residual = pairs.iter().map(|(x, y)| (y - ratio * x).powi(2)).sum::<f64>();
            Z95 * (residual / (n * (n - 1.0))).sqrt() / mean_x
        } else {
            0.0
        };
        Estimate {
            name: name.to_string(),
            unit: "share".to_string(),
            value: ratio,
            low: ratio - half,
            high: ratio + half,
            method: "pooled ratio, delta method".to_string(),
        }
    }
}

/// The starting book.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BookSummary {
    /// Loans active at the start.
    pub loans_active: usize,
    /// Conservative NAV of the vault, USD.
    pub nav_usd: f64,
    /// Senior principal outstanding, USD.
    pub senior_principal_usd: f64,
    /// Senior principal / conservative NAV.
    pub deployed_share: f64,
    /// Redemption share price, USD.
    pub share_price_usd: f64,
    /// Share of sUSDai already queued.
    pub queued_share: f64,
    /// Silos.
    pub silos: Vec<SiloSummary>,
}

/// A silo at the start.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SiloSummary {
    /// Its label.
    pub name: String,
    /// Senior principal outstanding, USD.
    pub senior_usd: f64,
    /// First-loss capital (free pool + junior outstanding), USD.
    pub first_loss_usd: f64,
}

/// One silo across paths.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SiloExhaustion {
    /// Its label.
    pub name: String,
    /// Share of paths where its free first-loss pool was exhausted.
    pub probability: f64,
    /// First-loss capital consumed, USD.
    pub first_loss_used_usd: Percentiles,
}

/// Why loans defaulted, mean count per path.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DefaultCauses {
    /// The borrower walked away (the default model's draw) while its cash could pay.
    pub walked_away: f64,
    /// The borrower's cash could not pay what was due by the end of the grace period.
    pub unpaid: f64,
    /// A margin call's cure window lapsed.
    pub margin_call: f64,
}

/// The NAV fan at one month: percentiles of the share price relative to the start.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FanPoint {
    /// Month.
    pub month: u32,
    /// 5th percentile.
    pub p5: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// One month of the run, across paths (month by month: what a backtest reports).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonthRow {
    /// Month (0 = the start).
    pub month: u32,
    /// The calendar month, in a backtest (`[market.observed]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// Median rental index of each class (scenario order; 1 at the start): in a backtest, the
    /// observed path of the replayed classes.
    pub rental_index_p50: Vec<f64>,
    /// Median T-bill APR posted.
    pub tbill_apr_p50: f64,
    /// Share price relative to the start.
    pub share_price: Percentiles,
    /// Senior loss so far (written off plus impaired), USD.
    pub senior_loss_usd: Percentiles,
    /// First-loss capital consumed so far, all silos, USD.
    pub first_loss_used_usd: Percentiles,
    /// Loans defaulted so far, mean per path.
    pub defaults_mean: f64,
}

/// Everything `summary.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Its description.
    pub description: String,
    /// The scenario's calibration version (`[calibration] version`).
    pub calibration_version: String,
    /// Where each parameter's value comes from (`[calibration.parameters]`).
    pub calibration: BTreeMap<String, crate::scenario::ParameterSource>,
    /// Paths run.
    pub paths: u64,
    /// The run's seed.
    pub seed: u64,
    /// Months per path.
    pub horizon_months: u32,
    /// The starting book.
    pub book: BookSummary,
    /// The headline figures with their 95% confidence intervals (the report's first table).
    pub headline: Vec<Estimate>,
    /// Senior loss (written off + impaired at the horizon), USD.
    pub senior_loss_usd: Percentiles,
    /// Senior loss in basis points of the senior principal at the start.
    pub senior_loss_bps: Percentiles,
    /// Share of paths with any senior loss.
    pub senior_loss_probability: f64,
    /// First-loss exhaustion by silo.
    pub first_loss_exhaustion: Vec<SiloExhaustion>,
    /// sUSDai realised APY (growth of the redemption share price, annualised).
    pub susdai_apy: Percentiles,
    /// Largest drawdown of the share price, basis points.
    pub nav_drawdown_bps: Percentiles,
    /// Days from request to full service, pooled over paths, weighted by shares (requests
    /// still waiting at the horizon count with their wait so far).
    pub queue_wait_days: Percentiles,
    /// The same for the requests made in a run (bidding or not).
    pub run_queue_wait_days: Percentiles,
    /// The same for the requests whose holders bid for priority (`[holders.bids]`).
    pub bidder_queue_wait_days: Percentiles,
    /// Share of the shares requested still unserved at the horizon, per path.
    pub queue_unserved_share: Percentiles,
    /// Highest clearing price of a round per path, USD per share.
    pub clearing_price_usd: Percentiles,
    /// Priority bids placed, mean per path.
    pub bids_mean: f64,
    /// Days sooner bidders were served than the plain requests made the same day, over the
    /// paths with such a day (see `PathOutcome::bid_lead_days`).
    pub bid_lead_days: Percentiles,
    /// Wait-fees credited to overtaken requests per path, USD.
    pub wait_fees_usd: Percentiles,
    /// Lowest USDai backing ratio per path (reserve value / USDai supply).
    pub usdai_backing_ratio: Percentiles,
    /// Defaulted loans per path as a share of the loans active at the start.
    pub default_rate: Percentiles,
    /// Defaults per loan-year of exposure, per path (an annual default rate, comparable with
    /// the one-year default rates lenders report).
    pub default_rate_annual: Percentiles,
    /// Why loans defaulted: mean per path.
    pub defaults_by_cause: DefaultCauses,
    /// Per path with a sale: net sale proceeds (each capped at the principal at default) over
    /// the principal at default of the loans sold.
    pub recovery_rate: Percentiles,
    /// The same pooled over all paths' sales.
    pub recovery_rate_pooled: f64,
    /// Per path: principal lost at the sales of defaulted loans (principal at default less net
    /// proceeds) per year, over the average principal outstanding (a charge-off rate).
    pub loss_rate_annual: Percentiles,
    /// Mean margin calls per path.
    pub margin_calls_mean: f64,
    /// Mean cures per path.
    pub cures_mean: f64,
    /// Mean late payments per path.
    pub late_payments_mean: f64,
    /// Active loan-months simulated, all paths.
    pub loan_months: u64,
    /// Transactions applied, all paths.
    pub transactions: u64,
    /// NAV fan: share price relative to the start, by month.
    pub nav_fan: Vec<FanPoint>,
    /// Month by month: market, share price, senior loss, first-loss used, defaults.
    pub months: Vec<MonthRow>,
    /// Caveats of this run.
    pub notes: Vec<String>,
}

/// The starting book's figures.
pub fn book_summary(simulation: &Simulation) -> BookSummary {
    let book = &simulation.book;
    let state = &book.state;
    let nav = vault::nav(state);
    let locked = state.ledger.balance(ProtocolAccount::QueueEscrow, Asset::Susdai);
    let silos = book
        .silos
        .iter()
        .filter_map(|silo| state.silos.silos.get(&silo.id).map(|s| (silo, s)))
        .map(|(silo, s)| SiloSummary {
            name: silo.name.clone(),
            senior_usd: amount_to_usd(s.senior_outstanding),
            first_loss_usd: amount_to_usd(s.first_loss_capital()),
        })
        .collect();
    BookSummary {
        loans_active: state.loans.open.len(),
        nav_usd: amount_to_usd(nav.conservative),
        senior_principal_usd: amount_to_usd(nav.senior_principal),
        deployed_share: amount_to_usd(nav.senior_principal)
            / amount_to_usd(nav.conservative).max(1e-9),
        share_price_usd: crate::convert::wad_to_f64(nav.redemption_price_wad()),
        queued_share: amount_to_usd(locked) / amount_to_usd(nav.share_supply).max(1e-9),
        silos,
    }
}

/// Aggregates the outcomes (in path order).
pub fn summarize(simulation: &Simulation, outcomes: &[PathOutcome], seed: u64) -> Summary {
    let scenario = &simulation.scenario;
    let book = book_summary(simulation);
    let column = |f: &dyn Fn(&PathOutcome) -> f64| -> Vec<f64> { outcomes.iter().map(f).collect() };
    let senior = book.senior_principal_usd.max(1e-9);
    let losses = column(&|o| o.senior_loss_usd());
    let paths = outcomes.len().max(1) as f64;
    let first_loss_exhaustion = book
        .silos
        .iter()
        .enumerate()
        .map(|(s, silo)| SiloExhaustion {
            name: silo.name.clone(),
            probability: outcomes.iter().filter(|o| o.silo_exhausted[s]).count() as f64 / paths,
            first_loss_used_usd: Percentiles::of(&column(&|o| o.silo_first_loss_used_usd[s])),
        })
        .collect();
    let mut waits: BTreeMap<u32, f64> = BTreeMap::new();
    let mut run_waits: BTreeMap<u32, f64> = BTreeMap::new();
    let mut bidder_waits: BTreeMap<u32, f64> = BTreeMap::new();
    for outcome in outcomes {
        for (pooled, path) in [
            (&mut waits, &outcome.waits),
            (&mut run_waits, &outcome.run_waits),
            (&mut bidder_waits, &outcome.bidder_waits),
        ] {
            for (&days, &shares) in path {
                *pooled.entry(days).or_insert(0.0) += shares;
            }
        }
    }
    let months = scenario.horizon_months;
    let nav_fan = (0..=months)
        .map(|month| {
            let mut relative: Vec<f64> = outcomes
                .iter()
                .map(|o| o.price_monthly[month as usize] / o.price_monthly[0])
                .collect();
            relative.sort_by(f64::total_cmp);
            FanPoint {
                month,
                p5: rank(&relative, 0.05),
                p25: rank(&relative, 0.25),
                p50: rank(&relative, 0.50),
                p75: rank(&relative, 0.75),
                p95: rank(&relative, 0.95),
            }
        })
        .collect();
    let loans = book.loans_active.max(1) as f64;
    let mean = |f: &dyn Fn(&PathOutcome) -> f64| outcomes.iter().map(f).sum::<f64>() / paths;
    let start_month = scenario
        .market
        .observed
        .as_ref()
        .and_then(|observed| crate::data::Month::parse(&observed.start).ok());
    let median = |values: Vec<f64>| {
        let mut values = values;
        values.sort_by(f64::total_cmp);
        rank(&values, 0.5)
    };
    let months_table = (0..=months as usize)
        .map(|m| MonthRow {
            month: m as u32,
            calendar: start_month.map(|start| start.plus(m as u32).to_string()),
            rental_index_p50: (0..scenario.classes.len())
                .map(|c| median(column(&|o| o.rental_index_monthly[m][c])))
                .collect(),
            tbill_apr_p50: median(column(&|o| o.tbill_monthly[m])),
            share_price: Percentiles::of(&column(&|o| o.price_monthly[m] / o.price_monthly[0])),
            senior_loss_usd: Percentiles::of(&column(&|o| o.senior_loss_monthly[m])),
            first_loss_used_usd: Percentiles::of(&column(&|o| o.first_loss_used_monthly[m])),
            defaults_mean: mean(&|o| f64::from(o.defaults_monthly[m])),
        })
        .collect();
    let headline = headline(&book, outcomes, &losses);
    let mut notes = Vec::new();
    if !scenario.holders.bids.is_on() {
        notes.push(
            "holders do not bid for priority ([holders.bids] is off): the clearing price is 0"
                .to_string(),
        );
    }
    Summary {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        calibration_version: scenario.calibration.version.clone(),
        calibration: scenario.calibration.parameters.clone(),
        paths: outcomes.len() as u64,
        seed,
        horizon_months: months,
        senior_loss_usd: Percentiles::of(&losses),
        senior_loss_bps: Percentiles::of(
            &losses.iter().map(|l| l / senior * 1e4).collect::<Vec<_>>(),
        ),
        senior_loss_probability: losses.iter().filter(|l| **l > 0.0).count() as f64 / paths,
        first_loss_exhaustion,
        susdai_apy: Percentiles::of(&column(&|o| o.apy)),
        nav_drawdown_bps: Percentiles::of(&column(&|o| o.max_drawdown * 1e4)),
        queue_wait_days: Percentiles::of_weighted(&waits),
        run_queue_wait_days: Percentiles::of_weighted(&run_waits),
        bidder_queue_wait_days: Percentiles::of_weighted(&bidder_waits),
        queue_unserved_share: Percentiles::of(&column(&|o| {
            if o.requested_shares > 0.0 { o.unserved_shares / o.requested_shares } else { 0.0 }
        })),
        clearing_price_usd: Percentiles::of(&column(&|o| o.clearing_price_max)),
        bids_mean: mean(&|o| f64::from(o.bids)),
        bid_lead_days: Percentiles::of(
            &outcomes.iter().filter_map(|o| o.bid_lead_days).collect::<Vec<_>>(),
        ),
        wait_fees_usd: Percentiles::of(&column(&|o| o.wait_fees_usd)),
        usdai_backing_ratio: Percentiles::of(&column(&|o| o.backing_min)),
        default_rate: Percentiles::of(&column(&|o| f64::from(o.defaults) / loans)),
        default_rate_annual: Percentiles::of(&column(&|o| {
            if o.loan_months > 0 {
                f64::from(o.defaults) * 12.0 / o.loan_months as f64
            } else {
                0.0
            }
        })),
        defaults_by_cause: DefaultCauses {
            walked_away: mean(&|o| f64::from(o.defaults_walked_away)),
            unpaid: mean(&|o| f64::from(o.defaults_unpaid)),
            margin_call: mean(&|o| f64::from(o.defaults_margin_call)),
        },
        recovery_rate: Percentiles::of(
            &outcomes
                .iter()
                .filter(|o| o.settled_exposure_usd > 0.0)
                .map(|o| o.recovered_usd / o.settled_exposure_usd)
                .collect::<Vec<_>>(),
        ),
        recovery_rate_pooled: {
            let exposure: f64 = outcomes.iter().map(|o| o.settled_exposure_usd).sum();
            let recovered: f64 = outcomes.iter().map(|o| o.recovered_usd).sum();
            if exposure > 0.0 { recovered / exposure } else { 0.0 }
        },
        loss_rate_annual: Percentiles::of(&column(&|o| {
            if o.principal_months_usd > 0.0 {
                (o.settled_exposure_usd - o.recovered_usd) * 12.0 / o.principal_months_usd
            } else {
                0.0
            }
        })),
        margin_calls_mean: mean(&|o| f64::from(o.margin_calls)),
        cures_mean: mean(&|o| f64::from(o.cures)),
        late_payments_mean: mean(&|o| f64::from(o.late_payments)),
        loan_months: outcomes.iter().map(|o| o.loan_months).sum(),
        transactions: outcomes.iter().map(|o| o.transactions).sum(),
        nav_fan,
        months: months_table,
        book,
        headline,
        notes,
    }
}

/// The headline figures with their intervals: the senior tranche's loss, the holders' yield,
/// and the calibration statistics (default, recovery and loss rates).
fn headline(book: &BookSummary, outcomes: &[PathOutcome], losses: &[f64]) -> Vec<Estimate> {
    let senior = book.senior_principal_usd.max(1e-9);
    let loss_bps: Vec<f64> = losses.iter().map(|l| l / senior * 1e4).collect();
    let column = |f: &dyn Fn(&PathOutcome) -> f64| -> Vec<f64> { outcomes.iter().map(f).collect() };
    let n = outcomes.len() as u64;
    let mut figures = vec![
        Estimate::quantile("senior loss p99", "bps", &loss_bps, 0.99),
        Estimate::mean("senior loss, mean", "bps", &loss_bps),
        Estimate::proportion(
            "P(senior loss > 0)",
            losses.iter().filter(|l| **l > 0.0).count() as u64,
            n,
        ),
        Estimate::quantile("sUSDai APY p50", "share", &column(&|o| o.apy), 0.50),
        Estimate::quantile("sUSDai APY p5", "share", &column(&|o| o.apy), 0.05),
        Estimate::quantile("NAV drawdown p99", "bps", &column(&|o| o.max_drawdown * 1e4), 0.99),
        Estimate::mean(
            "annual default rate, mean",
            "share",
            &column(&|o| {
                if o.loan_months > 0 {
                    f64::from(o.defaults) * 12.0 / o.loan_months as f64
                } else {
                    0.0
                }
            }),
        ),
        Estimate::ratio(
            "recovery rate, pooled",
            &outcomes
                .iter()
                .filter(|o| o.settled_exposure_usd > 0.0)
                .map(|o| (o.settled_exposure_usd, o.recovered_usd))
                .collect::<Vec<_>>(),
        ),
        Estimate::mean(
            "annual loss rate, mean",
            "share",
            &column(&|o| {
                if o.principal_months_usd > 0.0 {
                    (o.settled_exposure_usd - o.recovered_usd) * 12.0 / o.principal_months_usd
                } else {
                    0.0
                }
            }),
        ),
    ];
    for (s, silo) in book.silos.iter().enumerate() {
        figures.push(Estimate::proportion(
            &format!("first-loss exhausted: {}", silo.name),
            outcomes.iter().filter(|o| o.silo_exhausted[s]).count() as u64,
            n,
        ));
    }
    figures
}

/// A share as a percentage with two decimals (the text summary's and the report's).
pub(crate) fn pct(value: f64) -> String {
    format!("{:.2}%", value * 100.0)
}

/// Dollars shortened to millions or thousands (the text summary's and the report's).
pub(crate) fn usd(value: f64) -> String {
    if value.abs() >= 1e6 {
        format!("${:.2}M", value / 1e6)
    } else if value.abs() >= 1e3 {
        format!("${:.1}k", value / 1e3)
    } else {
        format!("${value:.0}")
    }
}

/// The one-screen text report.
pub fn report(summary: &Summary) -> String {
    let mut out = String::new();
    let b = &summary.book;
    let _ = writeln!(
        out,
        "scenario {} | {} paths x {} months | seed {}",
        summary.scenario, summary.paths, summary.horizon_months, summary.seed
    );
    let _ = writeln!(out, "  {}", summary.description);
    let _ = writeln!(
        out,
        "book: {} loans, NAV {}, senior {} ({} deployed), {} queued at start",
        b.loans_active,
        usd(b.nav_usd),
        usd(b.senior_principal_usd),
        pct(b.deployed_share),
        pct(b.queued_share)
    );
    let _ =
        writeln!(out, "{:<28}{:>11}{:>11}{:>11}{:>11}{:>11}", "", "p1", "p5", "p50", "p95", "p99");
    let mut row = |name: &str, p: &Percentiles, f: &dyn Fn(f64) -> String| {
        let _ = writeln!(
            out,
            "{:<28}{:>11}{:>11}{:>11}{:>11}{:>11}",
            name,
            f(p.p1),
            f(p.p5),
            f(p.p50),
            f(p.p95),
            f(p.p99)
        );
    };
    row("senior loss (USD)", &summary.senior_loss_usd, &usd);
    row("senior loss (bps)", &summary.senior_loss_bps, &|v| format!("{v:.1}"));
    row("sUSDai realised APY", &summary.susdai_apy, &pct);
    row("NAV drawdown (bps)", &summary.nav_drawdown_bps, &|v| format!("{v:.1}"));
    row("queue wait (days)", &summary.queue_wait_days, &|v| format!("{v:.0}"));
    row("unserved at horizon", &summary.queue_unserved_share, &pct);
    row("default rate", &summary.default_rate, &pct);
    row("default rate, annual", &summary.default_rate_annual, &pct);
    row("recovery rate", &summary.recovery_rate, &pct);
    row("loss rate, annual", &summary.loss_rate_annual, &pct);
    row("USDai backing (min)", &summary.usdai_backing_ratio, &|v| format!("{v:.4}"));
    row("queue wait, in runs (days)", &summary.run_queue_wait_days, &|v| format!("{v:.0}"));
    row("queue wait, bidders (days)", &summary.bidder_queue_wait_days, &|v| format!("{v:.0}"));
    row("bid lead, same day (days)", &summary.bid_lead_days, &|v| format!("{v:.1}"));
    row("clearing price (USD)", &summary.clearing_price_usd, &|v| format!("{v:.4}"));
    row("wait-fees paid (USD)", &summary.wait_fees_usd, &usd);
    let _ = writeln!(
        out,
        "P(senior loss > 0) = {} | margin calls {:.1}, cures {:.1}, late payments {:.1}, \
         priority bids {:.1} per path",
        pct(summary.senior_loss_probability),
        summary.margin_calls_mean,
        summary.cures_mean,
        summary.late_payments_mean,
        summary.bids_mean
    );
    let causes = &summary.defaults_by_cause;
    let _ = writeln!(
        out,
        "defaults per path: {:.1} walked away, {:.1} unpaid, {:.1} margin call | pooled recovery {}",
        causes.walked_away,
        causes.unpaid,
        causes.margin_call,
        pct(summary.recovery_rate_pooled)
    );
    let _ = write!(out, "first-loss exhaustion:");
    for silo in &summary.first_loss_exhaustion {
        let _ = write!(out, "  {} {}", silo.name, pct(silo.probability));
    }
    let _ = writeln!(out);
    if summary.months.first().is_some_and(|m| m.calendar.is_some()) {
        let _ = writeln!(
            out,
            "month by month (backtest): rent index and T-bill as replayed; p50 / p99 across paths"
        );
        let _ = writeln!(
            out,
            "{:<9}{:>7}{:>8}{:>16}{:>22}{:>22}{:>10}",
            "month", "rent", "T-bill", "share price", "senior loss", "first-loss used", "defaults"
        );
        for m in &summary.months {
            let rent = m.rental_index_p50.first().copied().unwrap_or(1.0);
            let _ = writeln!(
                out,
                "{:<9}{:>7.3}{:>8}{:>16}{:>22}{:>22}{:>10.1}",
                m.calendar.as_deref().unwrap_or_default(),
                rent,
                pct(m.tbill_apr_p50),
                format!("{:.4} / {:.4}", m.share_price.p50, m.share_price.p1),
                format!("{} / {}", usd(m.senior_loss_usd.p50), usd(m.senior_loss_usd.p99)),
                format!("{} / {}", usd(m.first_loss_used_usd.p50), usd(m.first_loss_used_usd.p99)),
                m.defaults_mean
            );
        }
    }
    if !summary.calibration_version.is_empty() {
        let assumptions = summary
            .calibration
            .values()
            .filter(|s| s.basis == crate::scenario::Basis::Assumption)
            .count();
        let _ = writeln!(
            out,
            "calibration {}: {} parameter entries, {} of them assumptions (docs/simulator.md)",
            summary.calibration_version,
            summary.calibration.len(),
            assumptions
        );
    }
    for note in &summary.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantiles_interval_is_the_order_statistics_around_its_rank() {
        let values: Vec<f64> = (1..=1_000).rev().map(f64::from).collect();
        let p99 = Estimate::quantile("x", "bps", &values, 0.99);
        // Rank 990; spread 1.96 sqrt(1000 x 0.99 x 0.01) = 6.17: ranks 983 and 998.
        assert_eq!((p99.value, p99.low, p99.high), (990.0, 983.0, 998.0));
        let few = Estimate::quantile("x", "bps", &[3.0, 1.0, 2.0], 0.5);
        assert_eq!((few.value, few.low, few.high), (2.0, 1.0, 3.0), "widens to the extremes");
    }

    #[test]
    fn a_shares_interval_is_wilsons_and_stays_inside_zero_and_one() {
        let none = Estimate::proportion("x", 0, 100);
        assert_eq!(none.value, 0.0);
        assert!(none.low.abs() < 1e-12, "{none:?}");
        // Wilson's upper bound at 0 of n is z^2 / (n + z^2).
        assert!((none.high - 1.96f64.powi(2) / (100.0 + 1.96f64.powi(2))).abs() < 1e-12);
        let half = Estimate::proportion("x", 50, 100);
        assert!((half.low - 0.4038).abs() < 1e-4 && (half.high - 0.5962).abs() < 1e-4);
        let all = Estimate::proportion("x", 7, 7);
        assert_eq!(all.high, 1.0);
    }

    #[test]
    fn a_means_interval_is_the_normal_one_and_a_fixed_ratio_has_none() {
        let mean = Estimate::mean("x", "share", &[1.0, 2.0, 3.0, 4.0]);
        // s = sqrt(5/3); half-width 1.96 s / 2.
        let half = 1.96 * (5.0f64 / 3.0).sqrt() / 2.0;
        assert_eq!(mean.value, 2.5);
        assert!((mean.high - 2.5 - half).abs() < 1e-12 && (2.5 - mean.low - half).abs() < 1e-12);
        let ratio = Estimate::ratio("x", &[(1.0, 0.5), (4.0, 2.0), (2.0, 1.0)]);
        assert_eq!((ratio.value, ratio.low, ratio.high), (0.5, 0.5, 0.5));
        let spread = Estimate::ratio("x", &[(1.0, 1.0), (1.0, 0.0)]);
        assert!(spread.low < 0.5 && spread.high > 0.5);
    }
}
