//! `report.md`: the one-page risk report of a run, for a risk committee.
//!
//! It is written from the same figures as `summary.json` (and `sensitivity.json`,
//! `break_even.json` when the run computed them), never recomputed: the headline figures with
//! their 95% confidence intervals, the starting book, the distribution table, the calibration
//! (every parameter's value beside its source), the charts, the month-by-month table of a
//! backtest, the tornado and the break-even figures. Markdown, so it reads as text, renders on
//! any code host, and converts to HTML or PDF with any Markdown tool.

use crate::summary::{pct, usd};
use crate::{
    scenario::{Basis, Scenario},
    stress::{BreakEvens, Sensitivity},
    summary::{Estimate, Percentiles, Summary},
};
use std::fmt::Write;

/// What one run produced, for its report.
pub struct Report<'a> {
    /// The run's summary.
    pub summary: &'a Summary,
    /// The scenario that ran (for the calibrated values).
    pub scenario: &'a Scenario,
    /// The command line that produced the run, as a reader would type it again.
    pub command: &'a str,
    /// The charts written beside the report (file names; the `.png` ones are shown).
    pub charts: &'a [String],
    /// `--sensitivity`'s result, when it ran.
    pub sensitivity: Option<&'a Sensitivity>,
    /// `--break-even`'s result, when it ran.
    pub break_evens: Option<&'a BreakEvens>,
}

/// The most values a calibration row lists before it counts them instead.
const VALUES_LISTED_MAX: usize = 4;

/// A table cell: no line breaks, `|` escaped.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

/// An estimate's figure in its unit.
fn figure(unit: &str, value: f64) -> String {
    match unit {
        "share" => pct(value),
        "bps" => format!("{value:.1} bps"),
        _ => format!("{value:.4} {unit}"),
    }
}

/// The values a calibration entry stands for: one value when they all agree, else each with
/// the element it belongs to, up to [`VALUES_LISTED_MAX`].
fn values_cell(key: &str, values: &[(String, String)]) -> String {
    let Some((_, first)) = values.first() else {
        return "(no parameter in this scenario)".to_string();
    };
    if values.iter().all(|(_, v)| v == first) {
        return if values.len() == 1 {
            first.clone()
        } else {
            format!("{first} (each of {})", values.len())
        };
    }
    if values.len() > VALUES_LISTED_MAX {
        return format!("{} values (see the scenario file)", values.len());
    }
    values
        .iter()
        .map(|(path, value)| {
            // The part of the path the key does not already say: the element of a `[*]`
            // key (`classes[gpu.h100-sxm]`), or what follows a table's key.
            let tail = key.rfind(']').map_or("", |close| &key[close + 1..]);
            let label = if !tail.is_empty() && path.ends_with(tail) {
                &path[..path.len() - tail.len()]
            } else {
                path.strip_prefix(key)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .unwrap_or(path.as_str())
            };
            format!("{label} = {value}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The report as Markdown.
pub fn markdown(report: &Report<'_>) -> String {
    let mut out = String::new();
    let summary = report.summary;
    let _ = writeln!(out, "# Risk report: {}\n", summary.scenario);
    let _ = writeln!(out, "{}\n", summary.description.trim());
    let _ = writeln!(
        out,
        "{} paths x {} months, seed {}, calibration {}. Reproduce with `{}` (the figures \
         depend only on the scenario, the path count and the seed).\n",
        summary.paths,
        summary.horizon_months,
        summary.seed,
        if summary.calibration_version.is_empty() {
            "(none)"
        } else {
            summary.calibration_version.as_str()
        },
        report.command
    );
    headline(&mut out, summary);
    book(&mut out, summary);
    distribution(&mut out, summary);
    if let Some(sensitivity) = report.sensitivity {
        tornado(&mut out, sensitivity);
    }
    if let Some(break_evens) = report.break_evens {
        break_even(&mut out, break_evens);
    }
    months(&mut out, summary);
    charts(&mut out, report.charts);
    calibration(&mut out, summary, report.scenario);
    if !summary.notes.is_empty() {
        let _ = writeln!(out, "## Notes\n");
        for note in &summary.notes {
            let _ = writeln!(out, "- {note}");
        }
        let _ = writeln!(out);
    }
    out
}

fn headline(out: &mut String, summary: &Summary) {
    let _ = writeln!(out, "## Headline figures\n");
    let _ = writeln!(
        out,
        "95% confidence intervals of the sampling error of {} paths (another seed moves a \
         figure within its interval 19 times in 20); the parameters' own uncertainty is the \
         sensitivity's.\n",
        summary.paths
    );
    let _ = writeln!(out, "| figure | estimate | 95% interval | interval method |");
    let _ = writeln!(out, "|---|---:|---:|---|");
    for Estimate { name, unit, value, low, high, method } in &summary.headline {
        let _ = writeln!(
            out,
            "| {} | {} | {} to {} | {} |",
            cell(name),
            figure(unit, *value),
            figure(unit, *low),
            figure(unit, *high),
            method
        );
    }
    let _ = writeln!(out);
}

fn book(out: &mut String, summary: &Summary) {
    let b = &summary.book;
    let _ = writeln!(out, "## Starting book\n");
    let _ = writeln!(
        out,
        "{} loans; NAV {}; senior principal {} ({} of NAV deployed); share price {:.6} USD; \
         {} of sUSDai queued for redemption.\n",
        b.loans_active,
        usd(b.nav_usd),
        usd(b.senior_principal_usd),
        pct(b.deployed_share),
        b.share_price_usd,
        pct(b.queued_share)
    );
    if !b.silos.is_empty() {
        let _ = writeln!(out, "| silo | senior principal | first-loss capital | exhausted in |");
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for silo in &b.silos {
            let exhausted = summary
                .first_loss_exhaustion
                .iter()
                .find(|e| e.name == silo.name)
                .map_or_else(String::new, |e| format!("{} of paths", pct(e.probability)));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&silo.name),
                usd(silo.senior_usd),
                usd(silo.first_loss_usd),
                exhausted
            );
        }
        let _ = writeln!(out);
    }
}

fn distribution(out: &mut String, summary: &Summary) {
    let _ = writeln!(out, "## Distribution across paths\n");
    let _ = writeln!(out, "| figure | p1 | p5 | p50 | p95 | p99 | mean |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    let mut row = |name: &str, p: &Percentiles, f: &dyn Fn(f64) -> String| {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            f(p.p1),
            f(p.p5),
            f(p.p50),
            f(p.p95),
            f(p.p99),
            f(p.mean)
        );
    };
    let bps = |v: f64| format!("{v:.1}");
    let days = |v: f64| format!("{v:.0}");
    row("senior loss (USD)", &summary.senior_loss_usd, &usd);
    row("senior loss (bps)", &summary.senior_loss_bps, &bps);
    row("sUSDai realised APY", &summary.susdai_apy, &pct);
    row("NAV drawdown (bps)", &summary.nav_drawdown_bps, &bps);
    row("queue wait (days)", &summary.queue_wait_days, &days);
    row("unserved at horizon", &summary.queue_unserved_share, &pct);
    row("defaults (share of loans)", &summary.default_rate, &pct);
    row("default rate, annual", &summary.default_rate_annual, &pct);
    row("recovery rate", &summary.recovery_rate, &pct);
    row("loss rate, annual", &summary.loss_rate_annual, &pct);
    row("USDai backing (lowest)", &summary.usdai_backing_ratio, &|v| format!("{v:.4}"));
    let causes = &summary.defaults_by_cause;
    let _ = writeln!(
        out,
        "\nDefaults per path: {:.2} walked away, {:.2} unpaid, {:.2} margin call; pooled \
         recovery {}; {:.1} margin calls, {:.1} cures, {:.1} late payments and {:.1} priority \
         bids per path.\n",
        causes.walked_away,
        causes.unpaid,
        causes.margin_call,
        pct(summary.recovery_rate_pooled),
        summary.margin_calls_mean,
        summary.cures_mean,
        summary.late_payments_mean,
        summary.bids_mean
    );
}

fn tornado(out: &mut String, sensitivity: &Sensitivity) {
    let _ = writeln!(out, "## What moves it: one parameter at a time\n");
    let _ = writeln!(
        out,
        "Each parameter at its low and its high value, the others as calibrated; {} paths per \
         variant, seed {}, the same paths for every variant. Sorted by the swing of the senior \
         loss p99, then of the APY. The scenario as it is: senior loss p99 {:.1} bps, \
         P(senior loss > 0) {}, APY p50 {}.\n",
        sensitivity.paths,
        sensitivity.seed,
        sensitivity.base.senior_loss_p99_bps,
        pct(sensitivity.base.senior_loss_probability),
        pct(sensitivity.base.apy_p50)
    );
    let _ = writeln!(
        out,
        "| parameter | range tested | loss p99 low (bps) | loss p99 high (bps) | P(loss) low | \
         P(loss) high | APY p50 low | APY p50 high |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    for row in &sensitivity.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {:.1} | {} | {} | {} | {} |",
            cell(&row.name),
            cell(&row.range),
            row.low.senior_loss_p99_bps,
            row.high.senior_loss_p99_bps,
            pct(row.low.senior_loss_probability),
            pct(row.high.senior_loss_probability),
            pct(row.low.apy_p50),
            pct(row.high.apy_p50)
        );
    }
    let _ = writeln!(out);
}

fn break_even(out: &mut String, break_evens: &BreakEvens) {
    let _ = writeln!(out, "## What breaks it: break-even shocks\n");
    let _ = writeln!(
        out,
        "The smallest shock at which the senior loss p99 exceeds 0 ({} paths, seed {}; the \
         scenario as it is: p99 {:.1} bps). The interval is the distribution-free 95% interval \
         of the paths' thresholds; the check runs every path at the estimate and counts the \
         paths with a senior loss against the count the search predicted (they differ only \
         where a path's loss is not monotone in the shock).\n",
        break_evens.paths, break_evens.seed, break_evens.base_senior_loss_bps.p99
    );
    let _ = writeln!(
        out,
        "| shock | break-even | 95% interval | P(loss) at the largest shock | check: predicted / \
         found | paths run |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    let show = |v: Option<f64>| v.map_or_else(|| "beyond the range".to_string(), pct);
    for class in &break_evens.classes {
        let value = |v: Option<f64>| match class.class {
            crate::stress::ShockClass::DefaultCorrelation => {
                v.map_or_else(|| "beyond the range".to_string(), |v| format!("{v:.3}"))
            }
            _ => show(v),
        };
        let check = class
            .check_at_estimate
            .map_or_else(|| "-".to_string(), |(predicted, found)| format!("{predicted} / {found}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} to {} | {} | {} | {} |",
            cell(&class.unit),
            value(class.estimate),
            value(class.interval_low),
            value(class.interval_high),
            pct(class.loss_probability_at_max),
            check,
            class.evaluations.iter().map(|(_, n)| n).sum::<u64>()
        );
    }
    let _ = writeln!(out);
}

fn months(out: &mut String, summary: &Summary) {
    if summary.months.first().is_none_or(|m| m.calendar.is_none()) {
        return;
    }
    let _ = writeln!(out, "## Month by month\n");
    let _ = writeln!(
        out,
        "The market as replayed (rental index of the first class, 1 at the start; T-bill); \
         across paths: share price relative to the start (p50 and p1), senior loss and \
         first-loss capital used so far (p50 and p99), loans defaulted so far (mean).\n"
    );
    let _ = writeln!(
        out,
        "| month | rent index | T-bill | share price p50 | p1 | senior loss p50 | p99 | \
         first-loss used p50 | p99 | defaults |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for m in &summary.months {
        let _ = writeln!(
            out,
            "| {} | {:.3} | {} | {:.4} | {:.4} | {} | {} | {} | {} | {:.1} |",
            m.calendar.as_deref().unwrap_or_default(),
            m.rental_index_p50.first().copied().unwrap_or(1.0),
            pct(m.tbill_apr_p50),
            m.share_price.p50,
            m.share_price.p1,
            usd(m.senior_loss_usd.p50),
            usd(m.senior_loss_usd.p99),
            usd(m.first_loss_used_usd.p50),
            usd(m.first_loss_used_usd.p99),
            m.defaults_mean
        );
    }
    let _ = writeln!(out);
}

fn charts(out: &mut String, charts: &[String]) {
    let shown: Vec<&String> = charts.iter().filter(|c| c.ends_with(".png")).collect();
    if shown.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Charts\n");
    for chart in shown {
        let name = chart.trim_end_matches(".png");
        let _ =
            writeln!(out, "![{}]({chart})  \n[{name}.svg]({name}.svg)\n", name.replace('_', " "));
    }
}

fn calibration(out: &mut String, summary: &Summary, scenario: &Scenario) {
    if summary.calibration.is_empty() {
        let _ = writeln!(out, "## Calibration\n\nThis scenario names no sources.\n");
        return;
    }
    let assumptions = summary.calibration.values().filter(|s| s.basis == Basis::Assumption).count();
    let _ = writeln!(out, "## Calibration {}\n", summary.calibration_version);
    let _ = writeln!(
        out,
        "Every parameter's value and where it comes from: {} entries, {} of them assumptions \
         (no public source: their effect is what the sensitivity shows). docs/simulator.md \
         explains each derivation.\n",
        summary.calibration.len(),
        assumptions
    );
    let values = scenario.calibrated_values();
    let _ = writeln!(out, "| parameter | value | basis | source | derivation |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for (key, source) in &summary.calibration {
        let basis = match source.basis {
            Basis::Sourced => "sourced",
            Basis::Derived => "derived",
            Basis::Fitted => "fitted",
            Basis::Assumption => "**assumption**",
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            key,
            cell(&values_cell(key, values.get(key).map_or(&[][..], Vec::as_slice))),
            basis,
            cell(&source.source),
            cell(&source.derivation)
        );
    }
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calibration_row_shows_one_value_when_all_agree_and_each_element_when_not() {
        let same: Vec<(String, String)> = vec![("classes[a].x".to_string(), "0.45".to_string()); 3];
        assert_eq!(values_cell("classes[*].x", &same), "0.45 (each of 3)");
        let one = [("borrowers.opex_share_bps".to_string(), "4000".to_string())];
        assert_eq!(values_cell("borrowers.opex_share_bps", &one), "4000");
        let differ = [
            ("classes[gpu.h100].rental".to_string(), "2.5".to_string()),
            ("classes[gpu.a100].rental".to_string(), "1.1".to_string()),
        ];
        assert_eq!(
            values_cell("classes[*].rental", &differ),
            "classes[gpu.h100] = 2.5; classes[gpu.a100] = 1.1"
        );
        let many: Vec<(String, String)> =
            (0..9).map(|i| (format!("silos[{i}].w"), i.to_string())).collect();
        assert_eq!(values_cell("silos", &many), "9 values (see the scenario file)");
    }

    #[test]
    fn a_table_cell_keeps_its_row_whatever_the_source_text_holds() {
        assert_eq!(cell("a | b\nc"), "a \\| b c");
    }
}
