//! Scenarios: the TOML description of a book and of the market and behaviour models.
//!
//! A scenario file may start with `extends = "<name or path>"`: the parent is loaded first and
//! the child's tables are merged into it key by key (arrays and values replace the parent's).
//! The merged document is then read strictly: every struct denies unknown keys, and
//! [`Scenario::validate`] checks ranges and cross-references, so a typo or a bad number fails
//! with the path of the field (`classes[1].rental_volatility_annual: ...`).
//!
//! This file holds [`Scenario`], its errors and limits; `calibration`, `market` and `book` hold
//! its sections, `validate` the checks and `load` the reading and merging of files.

mod book;
mod calibration;
mod load;
mod market;
mod validate;

pub use book::{
    BidSpec, BookSpec, BorrowerSpec, HolderSpec, LiquidationSpec, ProtocolSpec, RunSpec, SiloSpec,
    ValuationSpec,
};
use calibration::collect_leaves;
pub use calibration::{Basis, Calibration, ParameterSource};
use load::{load_merged, parse, resolve_extends};
pub use market::{
    ClassSpec, LaunchSpec, MarketSpec, ObservedSpec, RecoverySpec, ShockSpec, TbillSpec,
};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};
use validate::{
    TBILL_PERCENT_MAX, check_bps, check_range, validate_book, validate_borrowers, validate_class,
    validate_holders, validate_liquidation, validate_tbill, validate_valuation,
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
    /// Rental-index marks (issue 16): with it, admin sets every class's income terms and the
    /// oracle posts each class's rental index monthly, so receipts are valued on the chain by
    /// the same rule as on a node (the lesser of appraisal, model and income value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valuation: Option<ValuationSpec>,
    /// Where every parameter's value comes from (docs/simulator.md, calibration).
    #[serde(default)]
    pub calibration: Calibration,
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
        if let Some(valuation) = &self.valuation {
            validate_valuation(valuation, self.horizon_months)?;
        }
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
