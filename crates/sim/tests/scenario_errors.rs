//! A bad scenario file fails with an error that names the offending field.

use infrafi_sim::{Scenario, ScenarioError};

const BASE: &str = include_str!("../scenarios/base.toml");

fn error_of(text: &str) -> String {
    match Scenario::from_toml("test.toml", text, None) {
        Ok(_) => panic!("the scenario should have been rejected"),
        Err(error) => error.to_string(),
    }
}

fn field_of(text: &str) -> String {
    match Scenario::from_toml("test.toml", text, None) {
        Err(ScenarioError::Field { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn an_unknown_key_is_named_with_its_table() {
    let text = "extends = \"base\"\n[tbill]\ninitial_apr = 500\n";
    let error = error_of(text);
    assert!(error.contains("tbill"), "{error}");
    assert!(error.contains("unknown field `initial_apr`"), "{error}");
    let text = "extends = \"base\"\n[holders]\nrunz = []\n";
    assert!(error_of(text).contains("unknown field `runz`"));
}

#[test]
fn a_negative_volatility_is_named_by_its_path() {
    let text =
        BASE.replacen("rental_volatility_annual = 0.45", "rental_volatility_annual = -0.2", 1);
    assert_eq!(field_of(&text), "classes[0].rental_volatility_annual");
    assert!(error_of(&text).contains("must be >= 0, got -0.2"));
    let text = "extends = \"base\"\n[tbill]\nvolatility_bps_per_sqrt_year = -5.0\n";
    assert_eq!(field_of(text), "tbill.volatility_bps_per_sqrt_year");
}

#[test]
fn missing_or_unknown_classes_are_named() {
    // No [[classes]] at all.
    let without: String = BASE
        .split("[[classes]]")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_string()
            } else {
                part[part.find("[market]").unwrap_or(part.len())..].to_string()
            }
        })
        .collect();
    let error = error_of(&without);
    assert!(error.contains("missing field `classes`"), "{error}");
    // An empty list.
    let error = error_of(&format!("classes = []\n{}", without));
    assert!(error.contains("field `classes`: at least one asset class is required"), "{error}");
    // A silo naming a class that does not exist.
    let text = BASE.replacen("classes = [\"gpu.a100\"]", "classes = [\"gpu.h300\"]", 1);
    assert_eq!(field_of(&text), "silos[2].classes[0]");
    assert!(error_of(&text).contains("unknown class `gpu.h300`"));
}

#[test]
fn a_type_error_and_bad_syntax_are_reported() {
    let text = "extends = \"base\"\n[book]\nloans = \"many\"\n";
    assert_eq!(field_of(text), "book.loans");
    assert!(matches!(Scenario::from_toml("x", "name = ", None), Err(ScenarioError::Syntax { .. })));
    assert!(matches!(Scenario::load("no-such-scenario"), Err(ScenarioError::NotFound(_))));
}

#[test]
fn a_scenario_file_on_disk_loads_and_extends_a_built_in() {
    let dir = std::env::temp_dir().join(format!("infrafi-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("mine.toml");
    std::fs::write(&path, "extends = \"base\"\nname = \"mine\"\nhorizon_months = 48\n")
        .expect("write");
    let scenario = Scenario::load(path.to_str().expect("utf-8")).expect("loads");
    assert_eq!((scenario.name.as_str(), scenario.horizon_months), ("mine", 48));
    std::fs::write(&path, "extends = \"base\"\nhorizon_months = 0\n").expect("write");
    let error = Scenario::load(path.to_str().expect("utf-8")).expect_err("rejected").to_string();
    assert!(error.contains("field `horizon_months`"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_bid_model_is_named_by_its_field() {
    let text = "extends = \"base\"\n[holders.bids]\nurgent_shares = 0.1\n";
    let error = error_of(text);
    assert!(error.contains("holders.bids"), "{error}");
    assert!(error.contains("unknown field `urgent_shares`"), "{error}");
    let text = "extends = \"base\"\n[holders.bids]\nurgent_share_in_run = 1.5\n";
    assert_eq!(field_of(text), "holders.bids.urgent_share_in_run");
    assert!(error_of(text).contains("must be between 0 and 1, got 1.5"));
    let text = "extends = \"base\"\n[holders.bids]\nbid_max_bps = \"lots\"\n";
    assert_eq!(field_of(text), "holders.bids.bid_max_bps");
    let text = "extends = \"base\"\n[holders.bids]\nbid_max_bps = 10001\n";
    assert_eq!(field_of(text), "holders.bids.bid_max_bps");
    // Urgent holders who value no time would never bid: a forgotten rate is named, not ignored.
    let text = "extends = \"base\"\n[holders.bids]\nurgency_rate_annual = 0.0\n";
    assert_eq!(field_of(text), "holders.bids.urgency_rate_annual");
    assert!(error_of(text).contains("must be > 0 when an urgent share is set"));
    // The same with both shares at 0 is the model switched off, and loads.
    let text = "extends = \"base\"\n[holders.bids]\nurgent_share = 0.0\nurgent_share_in_run = 0.0\n\
                urgency_rate_annual = 0.0\n";
    let scenario = Scenario::from_toml("test.toml", text, None).expect("bids off loads");
    assert!(!scenario.holders.bids.is_on());
}

#[test]
fn a_calibration_entry_without_a_source_or_with_an_unknown_basis_is_refused() {
    let text = "extends = \"base\"\n[calibration.parameters.\"book.loans\"]\nbasis = \"sourced\"\n";
    assert_eq!(field_of(text), "calibration.parameters.\"book.loans\"");
    assert!(error_of(text).contains("must name its source"));
    let text = "extends = \"base\"\n[calibration.parameters.\"book.loans\"]\nbasis = \"guess\"\nsource = \"x\"\n";
    assert!(error_of(text).contains("unknown variant `guess`"), "{}", error_of(text));
}

#[test]
fn an_observed_series_must_exist_cover_the_horizon_and_start_at_the_class_level() {
    let unknown = "extends = \"backtest-h100\"\n[market.observed]\nstart = \"2023-03\"\nrentals = { \"gpu.h100-sxm\" = \"nope\" }\n";
    assert_eq!(field_of(unknown), "market.observed.rentals.gpu.h100-sxm");
    assert!(error_of(unknown).contains("no series `nope`"));
    let late = "extends = \"backtest-h100\"\n[market.observed]\nstart = \"2024-10\"\nrentals = { \"gpu.h100-sxm\" = \"h100_rental_anchors\" }\n";
    assert!(error_of(late).contains("no value for 2026-07"), "{}", error_of(late));
    let level = "extends = \"backtest-h100\"\nhorizon_months = 12\n[market.observed]\nstart = \"2024-10\"\nrentals = { \"gpu.h100-sxm\" = \"h100_rental_anchors\" }\n";
    assert_eq!(field_of(level), "classes[0].rental_usd_per_hour");
    assert!(error_of(level).contains("must be the observed level at 2024-10: 2.99"));
    let month = "extends = \"backtest-h100\"\n[market.observed]\nstart = \"March 2023\"\n";
    assert!(error_of(month).contains("is not a month"));
}
