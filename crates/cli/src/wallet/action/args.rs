//! The flag groups of action fields that are themselves sets of arguments (a receipt's
//! `description`, a loan's `terms`, a class's `terms` and recovery model, a silo's terms, a
//! sale's `report`), flattened into their own fields' flags and converted field for field.

use super::{amount, bps, class_id, model, rate, receipt_id};
use infrafi_core::{
    Address, Amount, AssetClassId, ReceiptId,
    ids::B256,
    loans::{LoanTerms, SaleReport, TrancheTerms},
    math::{Bps, Rate},
    receipts::{AssetClassTerms, ReceiptDescription, RecoveryCostModel},
    rental_index::IncomeTerms,
    schedule::InterestModel,
    silos::SiloTerms,
};

/// A receipt's description, as flags.
#[derive(clap::Args, Debug)]
pub(crate) struct ReceiptDescriptionArgs {
    /// Units of hardware.
    #[arg(long)]
    quantity: u32,
    /// Hash of the serial-number list.
    #[arg(long)]
    serials_hash: B256,
    /// Facility.
    #[arg(long)]
    facility: String,
    /// Jurisdiction (`US-NV`).
    #[arg(long)]
    jurisdiction: String,
    /// Hash of the bailment agreement.
    #[arg(long)]
    bailment_hash: B256,
}

impl From<ReceiptDescriptionArgs> for ReceiptDescription {
    fn from(args: ReceiptDescriptionArgs) -> ReceiptDescription {
        let ReceiptDescriptionArgs {
            quantity,
            serials_hash,
            facility,
            jurisdiction,
            bailment_hash,
        } = args;
        ReceiptDescription { quantity, serials_hash, facility, jurisdiction, bailment_hash }
    }
}

/// Loan terms, as flags; the two tranches' flags carry their field's name (`--senior-amount`).
#[derive(clap::Args, Debug)]
pub(crate) struct LoanTermsArgs {
    /// The borrower.
    #[arg(long)]
    borrower: Address,
    /// Receipt ids (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = receipt_id, required = true)]
    receipts: Vec<ReceiptId>,
    /// Senior (vault-funded) principal.
    #[arg(long, value_parser = amount)]
    senior_amount: Amount,
    /// Senior annual rate (`12%`).
    #[arg(long, value_parser = rate)]
    senior_rate: Rate,
    /// Junior (first-loss pool) principal.
    #[arg(long, value_parser = amount, default_value = "0")]
    junior_amount: Amount,
    /// Junior annual rate.
    #[arg(long, value_parser = rate, default_value = "0bps")]
    junior_rate: Rate,
    /// `amortized` or `fixed_principal`.
    #[arg(long, value_parser = model, default_value = "amortized")]
    model: InterestModel,
    /// Payments (default: the protocol's).
    #[arg(long)]
    periods: Option<u32>,
    /// Seconds between payments (default: the protocol's).
    #[arg(long)]
    interval_secs: Option<u64>,
    /// Grace after a deadline, seconds.
    #[arg(long, default_value_t = 15 * 86_400)]
    grace_period_secs: u64,
    /// Grace interest, annual.
    #[arg(long, value_parser = rate, default_value = "0bps")]
    grace_rate: Rate,
    /// Origination fee (bps).
    #[arg(long, value_parser = bps, default_value = "0")]
    origination_fee_bps: Bps,
    /// Exit fee (bps).
    #[arg(long, value_parser = bps, default_value = "0")]
    exit_fee_bps: Bps,
    /// Acceptance deadline (unix seconds).
    #[arg(long)]
    expires_at: u64,
}

impl From<LoanTermsArgs> for LoanTerms {
    fn from(args: LoanTermsArgs) -> LoanTerms {
        let LoanTermsArgs {
            borrower,
            receipts,
            senior_amount,
            senior_rate,
            junior_amount,
            junior_rate,
            model,
            periods,
            interval_secs,
            grace_period_secs,
            grace_rate,
            origination_fee_bps,
            exit_fee_bps,
            expires_at,
        } = args;
        LoanTerms {
            borrower,
            receipts,
            senior: TrancheTerms { amount: senior_amount, rate: senior_rate },
            junior: TrancheTerms { amount: junior_amount, rate: junior_rate },
            model,
            periods,
            interval_secs,
            grace_period_secs,
            grace_rate,
            origination_fee_bps,
            exit_fee_bps,
            expires_at,
        }
    }
}

/// An asset class's terms, as flags (its recovery cost model's flags included).
#[derive(clap::Args, Debug)]
pub(crate) struct AssetClassTermsArgs {
    /// The price of one new unit.
    #[arg(long, value_parser = amount)]
    new_price_per_unit: Amount,
    /// Depreciation per year (bps).
    #[arg(long, value_parser = bps)]
    annual_depreciation_bps: Bps,
    /// The floor, as a share of the new price (bps).
    #[arg(long, value_parser = bps)]
    floor_bps: Bps,
    /// The recovery cost model.
    #[command(flatten)]
    recovery: RecoveryCostModelArgs,
}

impl From<AssetClassTermsArgs> for AssetClassTerms {
    fn from(args: AssetClassTermsArgs) -> AssetClassTerms {
        let AssetClassTermsArgs {
            new_price_per_unit,
            annual_depreciation_bps,
            floor_bps,
            recovery,
        } = args;
        let recovery = recovery.into();
        AssetClassTerms { new_price_per_unit, annual_depreciation_bps, floor_bps, recovery }
    }
}

/// A class's income terms, as flags.
#[derive(clap::Args, Debug)]
pub(crate) struct IncomeTermsArgs {
    /// The share of hours a unit earns rent (bps).
    #[arg(long, value_parser = bps)]
    utilisation_bps: Bps,
    /// Operating costs as a share of the rent (bps).
    #[arg(long, value_parser = bps)]
    opex_share_bps: Bps,
    /// The annual discount rate (bps).
    #[arg(long, value_parser = bps)]
    discount_rate_bps_per_year: Bps,
    /// When the class stops earning rent (unix seconds).
    #[arg(long)]
    economic_life_ends_at: u64,
    /// The oldest index that still values the class's receipts.
    #[arg(long, default_value_t = 7 * 86_400)]
    index_max_age_secs: u64,
    /// The most a day's posts may move the index (bps).
    #[arg(long, value_parser = bps, default_value = "2500")]
    index_max_move_bps: Bps,
}

impl From<IncomeTermsArgs> for IncomeTerms {
    fn from(args: IncomeTermsArgs) -> IncomeTerms {
        let IncomeTermsArgs {
            utilisation_bps,
            opex_share_bps,
            discount_rate_bps_per_year,
            economic_life_ends_at,
            index_max_age_secs,
            index_max_move_bps,
        } = args;
        IncomeTerms {
            utilisation_bps,
            opex_share_bps,
            discount_rate_bps_per_year,
            economic_life_ends_at,
            index_max_age_secs,
            index_max_move_bps,
        }
    }
}

/// A recovery cost model, as flags.
#[derive(clap::Args, Debug)]
pub(crate) struct RecoveryCostModelArgs {
    /// The ITAD commission on gross proceeds (bps).
    #[arg(long, value_parser = bps, default_value = "3000")]
    itad_commission_bps: Bps,
    /// Legal enforcement per unit.
    #[arg(long, value_parser = amount, default_value = "0")]
    legal_cost_per_unit: Amount,
    /// Logistics per unit.
    #[arg(long, value_parser = amount, default_value = "0")]
    logistics_cost_per_unit: Amount,
    /// Certified data destruction per unit.
    #[arg(long, value_parser = amount, default_value = "0")]
    data_destruction_cost_per_unit: Amount,
    /// The condition haircut (bps).
    #[arg(long, value_parser = bps, default_value = "0")]
    condition_haircut_bps: Bps,
}

impl From<RecoveryCostModelArgs> for RecoveryCostModel {
    fn from(args: RecoveryCostModelArgs) -> RecoveryCostModel {
        let RecoveryCostModelArgs {
            itad_commission_bps,
            legal_cost_per_unit,
            logistics_cost_per_unit,
            data_destruction_cost_per_unit,
            condition_haircut_bps,
        } = args;
        RecoveryCostModel {
            itad_commission_bps,
            legal_cost_per_unit,
            logistics_cost_per_unit,
            data_destruction_cost_per_unit,
            condition_haircut_bps,
        }
    }
}

/// A silo's terms, as flags.
#[derive(clap::Args, Debug)]
pub(crate) struct SiloTermsArgs {
    /// Eligible classes (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = class_id, required = true)]
    eligible_classes: Vec<AssetClassId>,
    /// The highest LTV at origination (bps).
    #[arg(long, value_parser = bps, default_value = "7000")]
    max_initial_ltv_bps: Bps,
    /// The LTV above which a loan is in margin call (bps).
    #[arg(long, value_parser = bps, default_value = "8000")]
    margin_call_ltv_bps: Bps,
    /// The largest share of the silo one borrower may take (bps).
    #[arg(long, value_parser = bps, default_value = "10000")]
    max_borrower_share_bps: Bps,
    /// The curator's share of senior interest (bps).
    #[arg(long, value_parser = bps, default_value = "0")]
    curator_fee_bps: Bps,
}

impl From<SiloTermsArgs> for SiloTerms {
    fn from(args: SiloTermsArgs) -> SiloTerms {
        let SiloTermsArgs {
            mut eligible_classes,
            max_initial_ltv_bps,
            margin_call_ltv_bps,
            max_borrower_share_bps,
            curator_fee_bps,
        } = args;
        // The protocol wants them sorted and distinct; people may type them in any order.
        eligible_classes.sort();
        eligible_classes.dedup();
        SiloTerms {
            eligible_classes,
            max_initial_ltv_bps,
            margin_call_ltv_bps,
            max_borrower_share_bps,
            curator_fee_bps,
        }
    }
}

/// A liquidation sale, as flags.
#[derive(clap::Args, Debug)]
pub(crate) struct SaleReportArgs {
    /// What the buyer paid.
    #[arg(long, value_parser = amount)]
    gross_proceeds: Amount,
    /// The ITAD's commission.
    #[arg(long, value_parser = amount, default_value = "0")]
    itad_commission: Amount,
    /// Legal enforcement.
    #[arg(long, value_parser = amount, default_value = "0")]
    legal_costs: Amount,
    /// De-racking, packing, shipping.
    #[arg(long, value_parser = amount, default_value = "0")]
    logistics_costs: Amount,
    /// Certified data destruction.
    #[arg(long, value_parser = amount, default_value = "0")]
    data_destruction_costs: Amount,
}

impl From<SaleReportArgs> for SaleReport {
    fn from(args: SaleReportArgs) -> SaleReport {
        let SaleReportArgs {
            gross_proceeds,
            itad_commission,
            legal_costs,
            logistics_costs,
            data_destruction_costs,
        } = args;
        SaleReport {
            gross_proceeds,
            itad_commission,
            legal_costs,
            logistics_costs,
            data_destruction_costs,
        }
    }
}
