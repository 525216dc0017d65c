//! `report.md`: the one-page report of a run carries the headline figures with their
//! intervals, every calibration entry beside the values it stands for, the charts, and, when
//! they ran, the tornado and the break-even figures; a backtest's report has its month-by-month
//! table. Small books and few paths: the figures are checked for consistency with the summary,
//! not for their level.

mod common;

use infrafi_sim::{
    Scenario, Simulation,
    report::{Report, markdown},
    stress::{self, Figures},
};

#[test]
fn the_report_of_a_run_with_its_stress_runs_shows_every_section_from_the_summary() {
    let mut scenario = common::small_base(12, 2);
    scenario.horizon_months = 12;
    scenario.validate().expect("valid");
    let simulation = Simulation::new(scenario.clone()).expect("book");
    let (paths, seed) = (3, 5);
    let outcomes = simulation.run(paths, seed, None).expect("run");
    let summary = simulation.summarize(&outcomes, seed);
    let sensitivity =
        stress::sensitivity_around(&scenario, Figures::of(&summary), paths, seed, None)
            .expect("sensitivity");
    let break_evens =
        stress::break_evens_from(&simulation, &outcomes, &summary, None).expect("break-even");
    assert_eq!((break_evens.paths, break_evens.seed), (paths, seed));
    assert_eq!(break_evens.base_senior_loss_bps, summary.senior_loss_bps);
    // The same figures as the stand-alone search, which runs the base paths itself.
    assert_eq!(
        break_evens,
        stress::break_evens(&simulation, paths, seed, None).expect("break-even")
    );
    assert_eq!(sensitivity.base, Figures::of(&summary));
    assert_eq!(sensitivity.rows.len(), stress::knobs().len());

    let charts = ["nav_fan.png".to_string(), "nav_fan.svg".to_string()];
    let command = "infrafi simulate --scenario small --paths 3 --seed 5 --out out";
    let report = Report {
        summary: &summary,
        scenario: &scenario,
        command,
        charts: &charts,
        sensitivity: Some(&sensitivity),
        break_evens: Some(&break_evens),
    };
    let text = markdown(&report);
    for heading in [
        "# Risk report: base",
        "## Headline figures",
        "## Starting book",
        "## Distribution across paths",
        "## What moves it: one parameter at a time",
        "## What breaks it: break-even shocks",
        "## Charts",
        "## Calibration",
    ] {
        assert!(text.contains(heading), "missing {heading}:\n{text}");
    }
    assert!(text.contains(command));
    assert!(text.contains("![nav fan](nav_fan.png)"));
    assert!(!text.contains("## Month by month"), "no calendar, no month-by-month table");
    for row in &sensitivity.rows {
        assert!(text.contains(&format!("| {} |", row.name)), "tornado row {}", row.name);
    }
    for class in &break_evens.classes {
        assert!(text.contains(&class.unit), "break-even row {:?}", class.class);
    }
    for key in summary.calibration.keys() {
        assert!(text.contains(&format!("| `{key}` |")), "calibration row {key}");
    }
    // The value beside a source is the scenario's: the opex share is one parameter.
    let opex = format!("{}", scenario.borrowers.opex_share_bps);
    let row = text
        .lines()
        .find(|line| line.contains("opex_share_bps`"))
        .expect("the opex share has a calibration row");
    assert!(row.contains(&format!("| {opex} |")), "{row}");

    // Every headline figure is the summary's own, inside its interval.
    let headline = |name: &str| {
        summary.headline.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(headline("senior loss p99").value, summary.senior_loss_bps.p99);
    assert_eq!(headline("sUSDai APY p50").value, summary.susdai_apy.p50);
    assert_eq!(headline("P(senior loss > 0)").value, summary.senior_loss_probability);
    assert_eq!(headline("recovery rate, pooled").value, summary.recovery_rate_pooled);
    assert_eq!(headline("annual default rate, mean").value, summary.default_rate_annual.mean);
    for estimate in &summary.headline {
        assert!(
            estimate.low <= estimate.value + 1e-12 && estimate.value <= estimate.high + 1e-12,
            "{estimate:?}"
        );
        assert!(text.contains(&format!("| {} |", estimate.name)), "{}", estimate.name);
    }
    assert_eq!(
        summary.headline.len(),
        9 + summary.book.silos.len(),
        "one exhaustion figure per silo"
    );
}

#[test]
fn a_backtests_report_has_its_month_by_month_table_and_no_stress_sections() {
    let mut scenario = Scenario::load("backtest-h100").expect("loads");
    scenario.book.loans = 10;
    scenario.holders.count = 2;
    scenario.validate().expect("valid");
    let simulation = Simulation::new(scenario.clone()).expect("book");
    let outcomes = simulation.run(2, 1, None).expect("run");
    let summary = simulation.summarize(&outcomes, 1);
    let text = markdown(&Report {
        summary: &summary,
        scenario: &scenario,
        command: "infrafi simulate --scenario backtest-h100",
        charts: &[],
        sensitivity: None,
        break_evens: None,
    });
    assert!(text.contains("## Month by month"));
    for month in ["| 2023-03 |", "| 2024-10 |", "| 2026-06 |"] {
        assert!(text.contains(month), "{month}");
    }
    assert!(!text.contains("## What moves it") && !text.contains("## What breaks it"));
    assert!(!text.contains("## Charts"), "no chart written, none shown");
    // The replayed series are calibration entries like any other parameter.
    assert!(text.contains("h100_rental_anchors"), "{text}");
}
