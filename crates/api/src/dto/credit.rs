//! Wire types of the credit book: silos and tranches, loans with their schedules, cure windows,
//! reports and marks, held sales, and CALIBER receipts with their insurance and valuations.

use alloy_primitives::{Address, B256};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A silo (SPEC 10).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SiloDto {
    /// Its id.
    pub id: u64,
    /// Its curator.
    #[schemars(with = "crate::schema::Address")]
    pub curator: Address,
    /// Who owns its first-loss capital: the curator, or the predecessor who posted it when a
    /// successor services the silo (only the owner may deposit or withdraw it).
    #[schemars(with = "crate::schema::Address")]
    pub capital_owner: Address,
    /// Asset classes it lends against.
    pub eligible_classes: Vec<String>,
    /// Largest LTV at origination (bps).
    pub max_initial_ltv_bps: u32,
    /// LTV that opens a margin call (bps).
    pub margin_call_ltv_bps: u32,
    /// Largest share of the silo's senior exposure one borrower may hold (bps).
    pub max_borrower_share_bps: u32,
    /// Curator's cut of senior interest (bps).
    pub curator_fee_bps: u32,
    /// Senior exposure cap set by admin.
    pub senior_cap: String,
    /// Frozen: no new loans.
    pub frozen: bool,
    /// Free first-loss pool.
    pub pool_balance: String,
    /// Senior principal outstanding.
    pub senior_outstanding: String,
    /// Junior principal outstanding.
    pub junior_outstanding: String,
    /// First-loss capital: pool plus junior funded.
    pub first_loss_capital: String,
    /// First-loss capital required by the current senior exposure.
    pub first_loss_requirement: String,
    /// Loans outstanding.
    pub loans_outstanding: u32,
    /// Losses absorbed so far.
    pub losses_absorbed: String,
    /// Its part of the vault's impairment.
    pub impairment: String,
}

/// `GET /v1/silos`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SilosDto {
    /// The height read.
    pub height: u64,
    /// The silos, by id.
    pub silos: Vec<SiloDto>,
}

/// `GET /v1/silos/{id}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SiloDetailDto {
    /// The height read.
    pub height: u64,
    /// The silo.
    pub silo: SiloDto,
    /// Its open (active or defaulted) loans.
    pub open_loans: Vec<u64>,
    /// Its loans in margin call or default.
    pub impaired_loans: Vec<u64>,
}

/// One tranche of a loan.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TrancheDto {
    /// Funded at origination.
    pub funded: String,
    /// Outstanding.
    pub principal: String,
    /// APR in bps (rounded down).
    pub apr_bps: u128,
}

/// A loan (SPEC 9).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LoanDto {
    /// Its id.
    pub id: u64,
    /// Its silo.
    pub silo: u64,
    /// Its borrower.
    #[schemars(with = "crate::schema::Address")]
    pub borrower: Address,
    /// `proposed`, `active`, `repaid`, `defaulted`, `settled`, `cancelled`.
    pub status: String,
    /// Its collateral.
    pub receipts: Vec<u64>,
    /// Vault-funded tranche.
    pub senior: TrancheDto,
    /// Pool-funded tranche.
    pub junior: TrancheDto,
    /// Outstanding principal.
    pub balance: String,
    /// Blended APR (bps).
    pub apr_bps: u128,
    /// `amortized` or `fixed_principal`.
    pub model: String,
    /// Payments in the schedule.
    pub periods: u32,
    /// Payments still to make, the current one included.
    pub periods_remaining: u32,
    /// Seconds between payments.
    pub interval_secs: u64,
    /// Grace after a deadline.
    pub grace_period_secs: u64,
    /// When it was originated (0 for a proposal).
    pub originated_at: u64,
    /// The next payment's deadline.
    pub next_due_at: u64,
    /// The proposal's acceptance deadline.
    pub expires_at: u64,
    /// The open margin call, if any.
    pub margin_call: Option<CureWindowDto>,
    /// The last re-mark: collateral value and LTV.
    pub mark: Option<MarkDto>,
    /// When it defaulted.
    pub defaulted_at: Option<u64>,
    /// Interest paid so far.
    pub interest_paid: String,
    /// Principal repaid so far.
    pub principal_paid: String,
    /// Whether it is breached (issue 16): its debt-service reserve is below the requirement
    /// or its borrower's report is overdue; `breach` holds the cure window.
    pub breached: bool,
    /// The open breach, if any (`reason`: `reserve_below_requirement` or `report_overdue`).
    pub breach: Option<CureWindowDto>,
    /// Its debt-service reserve.
    pub debt_service_reserve: DebtServiceReserveDto,
    /// Seconds between the borrower's reports (0: none required).
    pub report_interval_secs: u64,
    /// The borrower's latest report.
    pub last_report: Option<BorrowerReportDto>,
    /// When the next report is due (none when reports are not required or the loan is not
    /// active).
    pub report_due_at: Option<u64>,
}

/// An open margin call or breach: why, since when, and until when the borrower may cure it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CureWindowDto {
    /// When it opened (unix seconds).
    pub opened_at: u64,
    /// When the cure window ends (unix seconds): uncured, the loan may be defaulted then.
    pub cure_deadline_at: u64,
    /// Why, in snake_case (`ltv_above_limit`, `collateral_ineligible`,
    /// `payment_missed`; for a breach `reserve_below_requirement`, `report_overdue`).
    pub reason: String,
}

/// A borrower's report (issue 16).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct BorrowerReportDto {
    /// When it was posted (unix seconds).
    pub at: u64,
    /// The hash of the report document.
    #[schemars(with = "crate::schema::Hash")]
    pub document_hash: String,
}

/// A loan's debt-service reserve (issue 16).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DebtServiceReserveDto {
    /// Payments it holds by covenant.
    pub periods: u32,
    /// What it must hold.
    pub required: String,
    /// What it holds.
    pub balance: String,
    /// Paid out of it for missed payments, ever.
    pub drawn_total: String,
}

/// A re-mark.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct MarkDto {
    /// When.
    pub at: u64,
    /// Collateral value for LTV.
    pub collateral_value: String,
    /// Balance / value (bps, rounded up).
    pub ltv_bps: String,
}

/// `GET /v1/loans`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LoansDto {
    /// The height read.
    pub height: u64,
    /// Matching loans, by id, from `after` on: at most `limit`, fewer when the read's visit
    /// budget ran out first (then `next_after` is set).
    pub loans: Vec<LoanDto>,
    /// The id to pass as `after` for the next page, if there may be one: absent only when the
    /// listing has ended.
    pub next_after: Option<u64>,
}

/// What a repayment now would cost.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PaymentDueDto {
    /// Payments it covers (1 on time, the missed count when late).
    pub installments: u32,
    /// Scheduled interest.
    pub interest: String,
    /// Scheduled principal.
    pub principal: String,
    /// Grace interest on late payments.
    pub grace_interest: String,
    /// The exit fee, with the final payment.
    pub exit_fee: String,
    /// Everything due.
    pub total: String,
}

/// One remaining payment of an on-time borrower.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ScheduledPaymentDto {
    /// Its deadline.
    pub due_at: u64,
    /// Interest.
    pub interest: String,
    /// Principal.
    pub principal: String,
    /// Interest plus principal.
    pub payment: String,
    /// Balance after it.
    pub closing_balance: String,
}

/// A loan's schedule as it stands.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LoanScheduleDto {
    /// The next deadline.
    pub next_payment_due_at: u64,
    /// What `repay_loan` would charge now.
    pub payment_due_now: PaymentDueDto,
    /// Payments still to make.
    pub payments_remaining: u32,
    /// Deadlines already missed.
    pub payments_missed: u32,
    /// Whether `trigger_default` would succeed now.
    pub default_due: bool,
    /// The remaining on-time schedule.
    pub remaining: Vec<ScheduledPaymentDto>,
}

/// `GET /v1/loans/{id}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LoanDetailDto {
    /// The height read.
    pub height: u64,
    /// The loan.
    pub loan: LoanDto,
    /// Its schedule, while active.
    pub schedule: Option<LoanScheduleDto>,
    /// While proposed: the payments it would make if accepted now (the first one interval
    /// after the read).
    pub proposed_schedule: Option<Vec<ScheduledPaymentDto>>,
    /// Who holds its foreclosed receipts to sell them, once foreclosed.
    #[schemars(with = "Option<crate::schema::Address>")]
    pub liquidation_agent: Option<Address>,
    /// Until when that agent alone may sell them (unix seconds): after it the admin alone may
    /// hand them to another agent or write off what is unsold.
    pub sale_deadline_at: Option<u64>,
    /// Sale reports of its receipts held for the admin's decision (issue 11): a cost above the
    /// class's recovery cost model (`decide_held_sale` approves or rejects one).
    pub held_sales: Vec<HeldSaleDto>,
    /// Its recovery ledger, once defaulted (issue 16).
    pub recovery: Option<RecoveryDto>,
    /// Residual-value claims on its sold or written-off receipts not yet paid or written off.
    pub residual_claims: Vec<ResidualClaimDto>,
}

/// A defaulted loan's recovery ledger (issue 16): what was owed at default, what the
/// liquidation brought in and cost by kind, where it went, what insurance paid or failed to,
/// and what was lost.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RecoveryDto {
    /// Principal plus interest due when it defaulted.
    pub exposure_at_default: String,
    /// Gross recoveries: sale proceeds, insurance claims, residual-value payments and the
    /// debt-service reserve.
    pub gross: String,
    /// Costs reimbursed to the liquidation agent (their sum).
    pub costs: String,
    /// The ITAD commission.
    pub itad_commission: String,
    /// Legal enforcement.
    pub legal_costs: String,
    /// De-racking, packing and shipping.
    pub logistics_costs: String,
    /// Certified data destruction.
    pub data_destruction_costs: String,
    /// Net recoveries: gross less costs.
    pub net: String,
    /// Liquidation fees to the fee collector.
    pub liquidation_fees: String,
    /// Paid to the senior tranche.
    pub to_senior: String,
    /// Paid to the junior tranche.
    pub to_junior: String,
    /// Paid or held for the borrower.
    pub to_borrower: String,
    /// Insurance paid after default (claims on foreclosed receipts, residual-value claims).
    pub insurance_paid: String,
    /// Residual-value claims booked, not yet paid.
    pub residual_owed: String,
    /// Residual-value claims written off unpaid.
    pub insurance_unpaid: String,
    /// The silo's free pool's cover of the senior tranche at settlement.
    pub first_loss_cover: String,
    /// Senior principal written off (the vault's loss).
    pub senior_loss: String,
    /// Junior principal written off.
    pub junior_loss: String,
    /// The deficiency: principal written off, senior plus junior.
    pub deficiency: String,
    /// Net recoveries over the exposure at default, basis points (rounded down); none before
    /// the exposure is known.
    pub recovery_rate_bps: Option<u64>,
    /// Receipts written off unsold after the sale deadline (each recovered nothing; an insured
    /// floor on one is owed in full).
    pub receipts_written_off: u64,
    /// Whether the liquidation is over (every receipt sold, every claim closed).
    pub settled: bool,
}

/// A residual-value claim an insurer owes after a sale below the insured floor (or a
/// write-off: the whole floor).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ResidualClaimDto {
    /// The receipt sold or written off.
    pub receipt_id: u64,
    /// The insurer.
    #[schemars(with = "crate::schema::Address")]
    pub insurer: Address,
    /// The insured floor.
    pub floor_value: String,
    /// The sale's net proceeds (zero for a write-off).
    pub net_proceeds: String,
    /// What is owed: floor less net proceeds.
    pub amount: String,
    /// When it was booked.
    pub booked_at: u64,
    /// When the admin may write it off if unpaid.
    pub overdue_at: u64,
}

/// `GET /v1/recoveries`: the recovery rate per asset class over every defaulted loan.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RecoveriesDto {
    /// The height read.
    pub height: u64,
    /// One row per class that has defaulted loans, by class.
    pub classes: Vec<ClassRecoveryDto>,
}

/// The recoveries of the defaulted loans whose collateral is mostly of one class (each loan
/// counts under the class of the largest share of its receipts' latest appraisals).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ClassRecoveryDto {
    /// The asset class.
    pub class: String,
    /// Defaulted loans counted (settled or still liquidating).
    pub loans: u64,
    /// Of them, settled.
    pub settled: u64,
    /// Their exposure at default.
    pub exposure_at_default: String,
    /// Gross recoveries.
    pub gross: String,
    /// Costs.
    pub costs: String,
    /// Net recoveries.
    pub net: String,
    /// Insurance paid.
    pub insurance_paid: String,
    /// Principal written off.
    pub deficiency: String,
    /// Receipts written off unsold (they recovered nothing).
    pub receipts_written_off: u64,
    /// Net over exposure at default, basis points (rounded down); none with no exposure.
    pub recovery_rate_bps: Option<u64>,
    /// The same over settled loans only (final figures).
    pub settled_recovery_rate_bps: Option<u64>,
}

/// A sale report held for the admin's decision.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HeldSaleDto {
    /// The receipt sold or written off.
    pub receipt_id: u64,
    /// The liquidation agent who reported it.
    #[schemars(with = "crate::schema::Address")]
    pub agent: Address,
    /// When it was held.
    pub held_at: u64,
    /// What the buyer paid, as reported (held in escrow).
    pub gross_proceeds: String,
    /// The ITAD commission reported.
    pub itad_commission: String,
    /// Legal costs reported.
    pub legal_costs: String,
    /// Logistics costs reported.
    pub logistics_costs: String,
    /// Data destruction costs reported.
    pub data_destruction_costs: String,
}

/// A receipt's insurance.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct InsuranceDto {
    /// `insured`, `expired` or `uninsured`.
    pub status: String,
    /// The insurer.
    #[schemars(with = "Option<crate::schema::Address>")]
    pub insurer: Option<Address>,
    /// The policy.
    #[schemars(with = "Option<crate::schema::Hash>")]
    pub policy_id: Option<B256>,
    /// Coverage.
    pub coverage: Option<String>,
    /// Expiry.
    pub expires_at: Option<u64>,
    /// The residual-value floor insured (issue 16); zero: none.
    pub floor_value: Option<String>,
}

/// A receipt's valuation.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ValuationDto {
    /// The appraiser.
    #[schemars(with = "crate::schema::Address")]
    pub appraiser: Address,
    /// The appraised value.
    pub value: String,
    /// When.
    pub at: u64,
    /// The depreciation model's value now.
    pub model_value_now: String,
}

/// A CALIBER receipt (SPEC 8).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReceiptDto {
    /// Its id.
    pub id: u64,
    /// Its asset class.
    pub class: String,
    /// The issuing custodian.
    #[schemars(with = "crate::schema::Address")]
    pub custodian: Address,
    /// Its owner.
    #[schemars(with = "crate::schema::Address")]
    pub owner: Address,
    /// Units.
    pub quantity: u32,
    /// Facility.
    pub facility: String,
    /// Jurisdiction.
    pub jurisdiction: String,
    /// `issued`, `pledged`, `released`, `foreclosed`, `sold`, `redeemed`, `written_off`.
    pub status: String,
    /// The loan it secures.
    pub loan: Option<u64>,
    /// When issued.
    pub issued_at: u64,
}

/// How a class's rental index becomes an income value (issue 16).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct IncomeTermsDto {
    /// The share of hours a unit earns rent.
    pub utilisation_bps: u32,
    /// Operating costs as a share of the rent.
    pub opex_share_bps: u32,
    /// The annual discount rate.
    pub discount_rate_bps_per_year: u32,
    /// When the class stops earning rent (unix seconds).
    pub economic_life_ends_at: u64,
    /// The oldest index that still values the class's receipts.
    pub index_max_age_secs: u64,
    /// The most a day's posts may move the index.
    pub index_max_move_bps: u32,
}

/// A class's rental index as last posted (issue 16).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RentalIndexDto {
    /// USD per unit-hour, in 18-decimal base units.
    pub rent_per_unit_hour: String,
    /// The oracle that posted it.
    #[schemars(with = "crate::schema::Address")]
    pub oracle: Address,
    /// When it was posted.
    pub posted_at: u64,
    /// Seconds since.
    pub age_secs: u64,
    /// Whether it still values the class's receipts (always true without income terms).
    pub fresh: bool,
    /// The reference of the move window a post now belongs to (the index itself once the
    /// last window is over).
    pub window_reference: String,
    /// When that window opened (now, once the last one is over).
    pub window_opened_at: u64,
    /// The lowest index a post may set now (with income terms).
    pub window_low: Option<String>,
    /// The highest index a post may set now (with income terms).
    pub window_high: Option<String>,
}

/// An asset class (SPEC 8) with its depreciation model and its rental-index marks.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AssetClassDto {
    /// Its id (`gpu.h100-sxm`).
    pub class: String,
    /// The price of one new unit.
    pub new_price_per_unit: String,
    /// Straight-line decline per year, as a share of the new price.
    pub annual_depreciation_bps: u32,
    /// The floor, as a share of the new price.
    pub floor_bps: u32,
    /// The product of the generation step-downs so far, 18-decimal.
    pub value_index_wad: String,
    /// How many step-downs were applied.
    pub step_downs: u32,
    /// Its income terms; null when its receipts are not bounded by an income value.
    pub income_terms: Option<IncomeTermsDto>,
    /// Its rental index; null before the oracle's first post.
    pub rental_index: Option<RentalIndexDto>,
    /// One unit's income value now (terms and index both set).
    pub income_value_per_unit: Option<String>,
}

/// `GET /v1/asset-classes`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AssetClassesDto {
    /// The height read.
    pub height: u64,
    /// The classes, by id, after `after`.
    pub classes: Vec<AssetClassDto>,
    /// The id to pass as `after` for the next page, if there may be one.
    pub next_after: Option<String>,
}

/// `GET /v1/receipts`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReceiptsDto {
    /// The height read.
    pub height: u64,
    /// Matching receipts, by id, from `after` on: at most `limit`, fewer when the read's
    /// visit budget ran out first (then `next_after` is set).
    pub receipts: Vec<ReceiptDto>,
    /// The id to pass as `after` for the next page, if there may be one: absent only when the
    /// listing has ended.
    pub next_after: Option<u64>,
}

/// `GET /v1/receipts/{id}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReceiptDetailDto {
    /// The height read.
    pub height: u64,
    /// The receipt.
    pub receipt: ReceiptDto,
    /// Its insurance.
    pub insurance: InsuranceDto,
    /// Its latest valuation.
    pub valuation: Option<ValuationDto>,
    /// The value used for LTV now: the lesser of appraisal, model and (when its class has
    /// income terms) income value.
    pub value_for_ltv: String,
    /// The income value of its class's rental index now (issue 16): the present value of the
    /// rent its units can still earn; null when the class has no income terms.
    pub income_value: Option<String>,
    /// Whether it is eligible collateral now.
    pub eligible: bool,
    /// Why not, as a stable code.
    pub ineligible_reason: Option<String>,
    /// Its hardware presence (issue 16).
    pub presence: PresenceDto,
}

/// A receipt's hardware presence (issue 16): its class's rule and its newest attestation.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PresenceDto {
    /// `unmonitored` (its class has no limit), `present` (a fresh attestation saw every unit),
    /// `not_present` (the newest saw fewer units, other serials or another facility) or `stale`
    /// (none younger than the limit).
    pub status: String,
    /// How old the newest attestation may be, in seconds; 0: not monitored.
    pub limit_secs: u64,
    /// A tighter limit scheduled for the class (waiting for the governance delay).
    pub pending_limit_secs: Option<u64>,
    /// When it takes effect.
    pub pending_effective_at: Option<u64>,
    /// The newest attestation.
    pub attestation: Option<PresenceAttestationDto>,
    /// Its age now, in seconds (from its as-of time).
    pub age_secs: Option<u64>,
    /// When it goes stale under the limit in force.
    pub stale_at: Option<u64>,
}

/// What a monitor saw of a receipt's hardware.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PresenceAttestationDto {
    /// The monitor.
    #[schemars(with = "crate::schema::Address")]
    pub monitor: Address,
    /// Units seen.
    pub units_seen: u32,
    /// The keccak-256 of the serial numbers read.
    #[schemars(with = "crate::schema::Hash")]
    pub serials_hash: B256,
    /// Where.
    pub facility: String,
    /// Uptime since the monitor's previous attestation, in basis points.
    pub uptime_bps: u32,
    /// When the hardware was seen.
    pub as_of: u64,
    /// When the attestation was posted.
    pub posted_at: u64,
    /// Whether it saw every unit, the receipt's serial list, at its facility.
    pub all_present: bool,
}
