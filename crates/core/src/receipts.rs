//! CALIBER hardware receipts (SPEC 8): the asset-class registry with its depreciation and
//! recovery cost models, custodians' receipts, insurers' policies, appraisers' valuations, and
//! the receipt life cycle `Issued -> Pledged -> (Released | Foreclosed -> Sold) -> Redeemed`.
//!
//! Guarantees: only the issuing custodian amends, releases or redeems a receipt; a pledged,
//! foreclosed or sold receipt can be neither transferred nor redeemed; the value used for LTV
//! is the lesser of the latest appraisal, the class's depreciation model applied since it and
//! (with income terms) the income value of the class's rental index ([`crate::rental_index`]),
//! computed in integers and rounded down (collateral is never overstated); a receipt whose
//! quantity is amended loses its valuation until it is appraised again.
//!
//! This file holds the codes, the types, the state and the class registry's actions;
//! `valuation`, `insurance` and `lifecycle` hold those parts.

mod insurance;
mod lifecycle;
mod valuation;

use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, AssetClassId, B256, LoanId, ReceiptId},
    math::{Amount, BPS_DENOMINATOR, Bps, Rounding, WAD, mul_div},
    params::Role,
    rental_index::{IncomeTerms, RentalIndex},
    result_codes,
    state::State,
    table::{ByOwner, Owned, Slot, Table, component},
};
pub use insurance::{AttachPolicy, RenewPolicy};
pub(crate) use lifecycle::set_status;
pub use lifecycle::{
    AmendReceipt, IssueReceipt, RedeemReceipt, ReleaseReceipt, RequestReceiptRedemption,
    TransferReceipt,
};
use serde::{Deserialize, Serialize};
pub(crate) use valuation::check_eligible_at_value;
pub use valuation::{PostValuation, check_eligible, expected_recovery, model_value, value_for_ltv};

pub mod presence;
pub mod residual;
pub use presence::{PostPresenceAttestation, SetPresenceLimit};
pub use residual::SetResidualFloor;

result_codes! {
    /// Rejections of asset-class, receipt, insurance and valuation actions.
    pub enum ReceiptError {
        AssetClassAlreadyExists = 601 => "asset_class_already_exists",
            "An asset class with this name already exists.";
        AssetClassNotFound = 602 => "asset_class_not_found",
            "No asset class has this name.";
        AssetClassTermsInvalid = 603 => "asset_class_terms_invalid",
            "A class needs a new price above zero and depreciation, floor, commission and haircut of at most 100%.";
        StepDownOutOfRange = 604 => "step_down_out_of_range",
            "A generation step-down is between 1 and 9,999 basis points.";
        ReceiptNotFound = 605 => "receipt_not_found",
            "No receipt has this id.";
        SenderIsNotIssuingCustodian = 606 => "sender_is_not_issuing_custodian",
            "Only the custodian that issued the receipt may do this.";
        SenderIsNotReceiptOwner = 607 => "sender_is_not_receipt_owner",
            "Only the receipt's owner may do this.";
        ReceiptIsPledged = 608 => "receipt_is_pledged",
            "The receipt is pledged to a loan.";
        ReceiptIsClosed = 609 => "receipt_is_closed",
            "The receipt is foreclosed, sold or redeemed.";
        QuantityMustNotBeZero = 610 => "quantity_must_not_be_zero",
            "A receipt stands for at least one unit.";
        TextFieldInvalid = 611 => "text_field_invalid",
            "Facility and jurisdiction are 1 to 64 printable ASCII characters.";
        ReceiptAlreadyInsured = 612 => "receipt_already_insured",
            "The receipt has an unexpired policy; its insurer may renew it.";
        ReceiptHasNoPolicy = 613 => "receipt_has_no_policy",
            "The receipt has no insurance policy.";
        SenderIsNotPolicyInsurer = 614 => "sender_is_not_policy_insurer",
            "Only the insurer of the receipt's policy may do this.";
        PolicyExpiryMustBeLater = 615 => "policy_expiry_must_be_later",
            "A policy must expire after now and, when renewed, after its current expiry.";
        CoverageMustNotBeZero = 616 => "coverage_must_not_be_zero",
            "The insurance coverage must be greater than zero.";
        ValuationMustNotBeZero = 617 => "valuation_must_not_be_zero",
            "A valuation must be greater than zero.";
        ReceiptIsNotReleased = 618 => "receipt_is_not_released",
            "Only a released receipt may be redeemed.";
        ReceiptRedemptionNotRequested = 619 => "receipt_redemption_not_requested",
            "The owner has not asked to redeem this receipt.";
        ReceiptRedemptionAlreadyRequested = 620 => "receipt_redemption_already_requested",
            "The owner has already asked to redeem this receipt.";
        RecipientMustNotBeOwner = 621 => "recipient_must_not_be_owner",
            "The recipient already owns the receipt.";
        ReceiptInsuranceLapsed = 622 => "receipt_insurance_lapsed",
            "The receipt's insurance policy is missing or expired.";
        ReceiptCoverageInsufficient = 623 => "receipt_coverage_insufficient",
            "The receipt is insured for less than the minimum share of its value.";
        ReceiptValuationStale = 624 => "receipt_valuation_stale",
            "The receipt has no valuation younger than the maximum valuation age.";
        ReceiptIsNotIssued = 625 => "receipt_is_not_issued",
            "Only a receipt in the issued state can be released by its custodian.";
        ReceiptPresenceStale = 626 => "receipt_presence_stale",
            "The receipt's class requires a hardware presence attestation younger than its limit, and the receipt has none.";
        ReceiptHardwareNotPresent = 627 => "receipt_hardware_not_present",
            "The receipt's newest presence attestation did not see all of its units (count, serial list or facility differ).";
        PresenceAsOfIsInTheFuture = 628 => "presence_as_of_is_in_the_future",
            "A presence attestation cannot be as of a time after the current block.";
        PresenceAttestationIsNotNewer = 629 => "presence_attestation_is_not_newer",
            "A presence attestation must be as of a later time than the receipt's newest one.";
        MonitorMustNotBeReceiptOwner = 630 => "monitor_must_not_be_receipt_owner",
            "A monitor cannot attest the presence of hardware it owns or borrows against.";
        PresenceReportInvalid = 631 => "presence_report_invalid",
            "A presence attestation reports an uptime of at most 100% and a facility of 1 to 64 printable ASCII characters.";
        PresenceLimitOutOfRange = 632 => "presence_limit_out_of_range",
            "A class's presence limit is 0 (not monitored) or 1 hour to 365 days.";
        ResidualFloorExceedsCoverage = 633 => "residual_floor_exceeds_coverage",
            "A policy's residual-value floor is at most its coverage.";
        ResidualFloorCannotBeLoweredWhilePledged = 634 => "residual_floor_cannot_be_lowered_while_pledged",
            "The residual-value floor of a pledged receipt's policy may be raised, not lowered: lenders rely on it.";
        ResidualClaimNotFound = 635 => "residual_claim_not_found",
            "No residual-value claim is open on this receipt.";
        ResidualClaimIsNotOverdue = 636 => "residual_claim_is_not_overdue",
            "A residual-value claim is written off only after its insurer's payment period.";
        RentalIndexOutOfRange = 637 => "rental_index_out_of_range",
            "A rental index is above zero and at most 10,000 USD per unit-hour.";
        RentalIndexMoveExceedsMax = 638 => "rental_index_move_exceeds_max",
            "The post moves the rental index further from the day's reference than the class's income terms allow.";
        IncomeTermsInvalid = 639 => "income_terms_invalid",
            "Income terms need shares and a discount rate of at most 100%, a life ending within 15 years, an index age of 1 s to 90 days and a move bound of 1 to 10,000 basis points.";
        ReceiptRentalIndexStale = 640 => "receipt_rental_index_stale",
            "The receipt's class has income terms but no rental index younger than their maximum age.";
    }
}

/// The longest facility or jurisdiction text, in bytes.
pub const TEXT_LENGTH_MAX: usize = 64;
/// The most units one receipt may bundle.
pub const QUANTITY_MAX: u32 = 100_000;

/// What a liquidation costs, per the asset class (SPEC 9.5). Used for the expected recovery
/// behind impairment; a real sale reports its actual costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCostModel {
    /// The ITAD reseller's commission, as a share of gross proceeds (default 30%).
    pub itad_commission_bps: Bps,
    /// Legal enforcement, per unit.
    pub legal_cost_per_unit: Amount,
    /// De-racking, packing and shipping, per unit.
    pub logistics_cost_per_unit: Amount,
    /// Certified data destruction, per unit.
    pub data_destruction_cost_per_unit: Amount,
    /// The discount for hardware a distressed borrower neglected, on the collateral value.
    pub condition_haircut_bps: Bps,
}

impl Default for RecoveryCostModel {
    fn default() -> RecoveryCostModel {
        RecoveryCostModel {
            itad_commission_bps: Bps(3_000),
            legal_cost_per_unit: Amount::ZERO,
            logistics_cost_per_unit: Amount::ZERO,
            data_destruction_cost_per_unit: Amount::ZERO,
            condition_haircut_bps: Bps(0),
        }
    }
}

/// What admin says about an asset class when adding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetClassTerms {
    /// The price of one new unit.
    pub new_price_per_unit: Amount,
    /// Straight-line decline per year, as a share of the new price.
    pub annual_depreciation_bps: Bps,
    /// The model never values a unit below this share of the new price (before step-downs).
    pub floor_bps: Bps,
    /// The recovery cost model.
    pub recovery: RecoveryCostModel,
}

impl AssetClassTerms {
    fn is_valid(&self) -> bool {
        !self.new_price_per_unit.is_zero()
            && self.annual_depreciation_bps.is_fraction()
            && self.floor_bps.is_fraction()
            && self.recovery.itad_commission_bps.is_fraction()
            && self.recovery.condition_haircut_bps.is_fraction()
    }
}

/// A registered asset class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetClass {
    /// Its terms.
    pub terms: AssetClassTerms,
    /// The product of every generation step-down so far, 18-decimal (starts at 1.0).
    #[serde(with = "crate::math::u128_serde")]
    pub value_index_wad: u128,
    /// How many step-downs were applied.
    pub step_downs: u32,
    /// Hardware presence (issue 16): how old a receipt's newest presence attestation may be for
    /// it to stay eligible, and a tighter limit waiting for the governance delay.
    pub presence: presence::PresenceLimit,
}

/// An insurance policy on a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The insurer.
    pub insurer: Address,
    /// The insurer's policy reference.
    pub policy_id: B256,
    /// The most it pays.
    pub coverage: Amount,
    /// When it lapses (unix seconds); it covers while `now < expires_at`.
    pub expires_at: u64,
    /// Residual-value insurance (issue 16): after a liquidation sale of the receipt, the insurer
    /// owes this floor minus the sale's net proceeds, through the waterfall; zero: none.
    pub floor_value: Amount,
}

/// An appraisal of a whole receipt (all its units).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Valuation {
    /// The appraiser.
    pub appraiser: Address,
    /// The value of the receipt.
    pub value: Amount,
    /// When it was posted.
    pub at: u64,
    /// The class's value index at that time (later step-downs apply to it).
    #[serde(with = "crate::math::u128_serde")]
    pub class_index_wad: u128,
}

/// Where a receipt stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Issued by the custodian, free of any lien.
    Issued,
    /// Collateral of a loan.
    Pledged,
    /// Its lien was released (loan repaid, or cleared by the custodian); free again.
    Released,
    /// Its loan defaulted; it belongs to the liquidation.
    Foreclosed,
    /// Sold by the liquidation agent, or settled by an insurance claim.
    Sold,
    /// Burned: the hardware went back to its owner.
    Redeemed,
    /// Foreclosed, unsold by its loan's sale deadline, and written off by the admin: it
    /// recovered nothing (issue 11).
    WrittenOff,
}

impl ReceiptStatus {
    /// Whether the receipt is free of any lien (it may be transferred or pledged).
    pub fn is_free(self) -> bool {
        matches!(self, ReceiptStatus::Issued | ReceiptStatus::Released)
    }
}

/// A receipt's descriptive fields, as the custodian issues or amends them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptDescription {
    /// Units bundled in it (a server, a rack).
    pub quantity: u32,
    /// The hash of the serial number list.
    pub serials_hash: B256,
    /// Where the hardware is.
    pub facility: String,
    /// Whose law governs the bailment.
    pub jurisdiction: String,
    /// The hash of the bailment document.
    pub bailment_hash: B256,
}

impl ReceiptDescription {
    fn check(&self) -> Result<(), ReceiptError> {
        if self.quantity == 0 || self.quantity > QUANTITY_MAX {
            return Err(ReceiptError::QuantityMustNotBeZero);
        }
        let printable = |text: &str| {
            !text.is_empty()
                && text.len() <= TEXT_LENGTH_MAX
                && text.bytes().all(|b| (0x20..0x7f).contains(&b))
        };
        if !printable(&self.facility) || !printable(&self.jurisdiction) {
            return Err(ReceiptError::TextFieldInvalid);
        }
        Ok(())
    }
}

/// A hardware receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Its id.
    pub id: ReceiptId,
    /// Its asset class.
    pub class: AssetClassId,
    /// The custodian that issued it and holds the hardware.
    pub custodian: Address,
    /// Its owner (the liquidation agent while foreclosed, the buyer's agent once sold).
    pub owner: Address,
    /// What it stands for.
    pub description: ReceiptDescription,
    /// Its insurance.
    pub policy: Option<Policy>,
    /// Its latest valuation.
    pub valuation: Option<Valuation>,
    /// Its state.
    pub status: ReceiptStatus,
    /// The loan it is pledged to (while pledged or foreclosed).
    pub loan: Option<LoanId>,
    /// Whether the owner asked the custodian to redeem it.
    pub redemption_requested: bool,
    /// When it was issued.
    pub issued_at: u64,
}

/// A receipt belongs to its owner of the moment: the owner index follows transfers, and a
/// foreclosure or a sale hands it to the agent or the buyer's agent.
impl Owned for Receipt {
    fn owner(&self) -> Address {
        self.owner
    }
}

component! {
    /// Receipts and asset classes.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct ReceiptsState at "receipts" paths ReceiptsPaths {
        /// The asset-class registry.
        pub classes: Table<AssetClassId, AssetClass>,
        /// Every receipt ever issued; indexed by owner (derived, not encoded), so one owner's
        /// receipts are read without visiting anyone else's.
        pub receipts: Table<ReceiptId, Receipt, ByOwner<ReceiptId>>,
        /// The next receipt id.
        pub next_receipt_id: Slot<u64>,
        /// Each monitored receipt's newest hardware presence attestation (issue 16).
        pub presence: Table<ReceiptId, presence::PresenceAttestation>,
        /// Per class: how its rental index becomes an income value (issue 16).
        pub income_terms: Table<AssetClassId, IncomeTerms>,
        /// Per class: its rental index as last posted (issue 16).
        pub rental_indices: Table<AssetClassId, RentalIndex>,
    }
}

/// The receipt `id`, or `receipt_not_found`.
pub fn receipt(state: &State, id: ReceiptId) -> Result<Receipt, TxError> {
    state.receipts.receipts.get(&id).cloned().ok_or(ReceiptError::ReceiptNotFound.into())
}

/// Admin: register an asset class.
///
/// Admin registers a class with its depreciation and recovery models.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddAssetClass {
    /// The class id (`gpu.h100-sxm`).
    pub class: AssetClassId,
    /// Its new price, depreciation model and recovery cost model.
    pub terms: AssetClassTerms,
}

impl ActionHandler for AddAssetClass {
    const NAME: &'static str = "add_asset_class";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { class, ref terms } = *self;
        require_role(state, Role::Admin, sender)?;
        if state.receipts.classes.contains_key(&class) {
            return Err(ReceiptError::AssetClassAlreadyExists.into());
        }
        if !terms.is_valid() {
            return Err(ReceiptError::AssetClassTermsInvalid.into());
        }
        let entry = AssetClass {
            terms: terms.clone(),
            value_index_wad: WAD,
            step_downs: 0,
            presence: presence::PresenceLimit::default(),
        };
        state.receipts.classes.insert(class, entry);
        state.emit(Event::AssetClassAdded { class, terms: terms.clone() });
        Ok(())
    }
}

/// Admin: step a class down when a new generation launches.
///
/// Admin marks a class down when a new generation launches; the
/// step applies to every valuation posted before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyGenerationStepDown {
    /// The class stepped down.
    pub class: AssetClassId,
    /// How much of its value index it loses, in basis points.
    pub step_down_bps: Bps,
}

impl ActionHandler for ApplyGenerationStepDown {
    const NAME: &'static str = "apply_generation_step_down";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { class, step_down_bps } = *self;
        require_role(state, Role::Admin, sender)?;
        let Some(mut entry) = state.receipts.classes.get(&class).cloned() else {
            return Err(ReceiptError::AssetClassNotFound.into());
        };
        if step_down_bps.0 == 0 || step_down_bps.0 >= 10_000 {
            return Err(ReceiptError::StepDownOutOfRange.into());
        }
        let keep = u128::from(10_000 - step_down_bps.0);
        entry.value_index_wad =
            mul_div(entry.value_index_wad, keep, BPS_DENOMINATOR, Rounding::Down)?;
        entry.step_downs += 1;
        let value_index_wad = entry.value_index_wad;
        state.receipts.classes.insert(class, entry);
        state.emit(Event::GenerationStepDownApplied { class, step_down_bps, value_index_wad });
        Ok(())
    }
}
