//! The range and cross-reference checks behind `Scenario::validate`: each error names the
//! field's path and what is wrong with it.

use super::{
    BOOK_LOANS_MAX, BookSpec, BorrowerSpec, ClassSpec, HOLDERS_MAX, HolderSpec, LiquidationSpec,
    TbillSpec, ValuationSpec,
};
use infrafi_core::AssetClassId;

pub(super) fn check_range(
    field: &str,
    value: f64,
    low: f64,
    high: f64,
) -> Result<(), (String, String)> {
    if !value.is_finite() || value < low || value > high {
        return Err((field.to_string(), format!("must be between {low} and {high}, got {value}")));
    }
    Ok(())
}

pub(super) fn check_non_negative(field: &str, value: f64) -> Result<(), (String, String)> {
    if !value.is_finite() || value < 0.0 {
        return Err((field.to_string(), format!("must be >= 0, got {value}")));
    }
    Ok(())
}

pub(super) fn check_bps(field: &str, value: u32, max: u32) -> Result<(), (String, String)> {
    if value > max {
        return Err((field.to_string(), format!("must be at most {max}, got {value}")));
    }
    Ok(())
}

pub(super) fn validate_class(
    i: usize,
    class: &ClassSpec,
    all: &[ClassSpec],
) -> Result<(), (String, String)> {
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
pub(super) const TBILL_PERCENT_MAX: f64 = 20.0;

pub(super) fn validate_valuation(
    valuation: &ValuationSpec,
    horizon_months: u32,
) -> Result<(), (String, String)> {
    check_bps(
        "valuation.discount_rate_bps_per_year",
        valuation.discount_rate_bps_per_year,
        10_000,
    )?;
    // The terms are set before the book's oldest loan and must outlive the paths (15 years at
    // most from then: the protocol's bound).
    if valuation.economic_life_months <= horizon_months || valuation.economic_life_months > 150 {
        return Err((
            "valuation.economic_life_months".into(),
            "must be beyond the horizon and at most 150 months".into(),
        ));
    }
    // The oracle posts every 30 days: a shorter age would leave receipts stale between posts.
    if !(30..=90).contains(&valuation.index_max_age_days) {
        return Err(("valuation.index_max_age_days".into(), "must be 30 to 90 days".into()));
    }
    Ok(())
}

pub(super) fn validate_tbill(tbill: &TbillSpec) -> Result<(), (String, String)> {
    check_bps("tbill.initial_apr_bps", tbill.initial_apr_bps, 2_000)?;
    check_bps("tbill.long_run_apr_bps", tbill.long_run_apr_bps, 2_000)?;
    check_range("tbill.reversion_per_year", tbill.reversion_per_year, 0.0, 50.0)?;
    check_non_negative("tbill.volatility_bps_per_sqrt_year", tbill.volatility_bps_per_sqrt_year)?;
    Ok(())
}

pub(super) fn validate_borrowers(borrowers: &BorrowerSpec) -> Result<(), (String, String)> {
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

pub(super) fn validate_holders(holders: &HolderSpec, horizon: u32) -> Result<(), (String, String)> {
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

pub(super) fn validate_liquidation(liquidation: &LiquidationSpec) -> Result<(), (String, String)> {
    if liquidation.delay_months > 60 {
        return Err(("liquidation.delay_months".into(), "must be at most 60".into()));
    }
    check_bps("liquidation.fire_sale_discount_bps", liquidation.fire_sale_discount_bps, 10_000)?;
    check_range("liquidation.cost_noise", liquidation.cost_noise, 0.0, 3.0)?;
    Ok(())
}

pub(super) fn validate_book(book: &BookSpec) -> Result<(), (String, String)> {
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
