//! CALIBER hardware receipts (SPEC 8): the asset-class registry with its depreciation and
//! recovery cost models, custodians' receipts, insurers' policies, appraisers' valuations, and
//! the receipt life cycle `Issued -> Pledged -> (Released | Foreclosed -> Sold) -> Redeemed`.
//!
//! Guarantees: only the issuing custodian amends, releases or redeems a receipt; a pledged,
//! foreclosed or sold receipt can be neither transferred nor redeemed; the value used for LTV
//! is the lesser of the latest appraisal and the class's depreciation model applied since it,
//! computed in integers and rounded down (collateral is never overstated); a receipt whose
//! quantity is amended loses its valuation until it is appraised again.

use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, AssetClassId, B256, LoanId, ReceiptId},
    ledger::LedgerError,
    math::{Amount, BPS_DENOMINATOR, Bps, Rounding, SECONDS_PER_YEAR, WAD, mul_div},
    params::Role,
    result_codes,
    state::State,
    table::{Slot, Table, component},
};
use serde::{Deserialize, Serialize};

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

component! {
    /// Receipts and asset classes.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct ReceiptsState at "receipts" paths ReceiptsPaths {
        /// The asset-class registry.
        pub classes: Table<AssetClassId, AssetClass>,
        /// Every receipt ever issued.
        pub receipts: Table<ReceiptId, Receipt>,
        /// The next receipt id.
        pub next_receipt_id: Slot<u64>,
    }
}

/// The depreciation model's value at `now` of a receipt appraised at `valuation`:
/// `max(floor, appraisal x step-downs since it - straight-line decline since it)`, where the
/// decline is `quantity x new price x annual depreciation x years elapsed` (rounded up) and
/// the floor is `quantity x new price x floor x all step-downs` (rounded down).
///
/// No step turns an overflow into a higher value: each fallback below lowers it, which
/// favours the protocol (a lower collateral value lends less and, in impairment, expects less
/// recovery, so conservative NAV falls sooner). Pinned by
/// `a_model_whose_arithmetic_overflows_never_values_a_receipt_higher`.
pub fn model_value(class: &AssetClass, valuation: &Valuation, quantity: u32, now: u64) -> Amount {
    let Some(new_value) = class.terms.new_price_per_unit.0.checked_mul(u128::from(quantity)) else {
        // Hardware whose replacement cost does not fit 128 bits cannot be modelled: it is
        // valued at nothing rather than at a truncated cost whose decline would be too small.
        return Amount::ZERO;
    };
    // Overflow here means the class index rose more than 2^128-fold: the appraisal itself is
    // the lower (and usable) figure.
    let index_ratio_value = mul_div(
        valuation.value.0,
        class.value_index_wad,
        valuation.class_index_wad.max(1),
        Rounding::Down,
    )
    .unwrap_or(valuation.value.0);
    // A valuation is never dated after the state's time; zero elapsed if it were.
    let elapsed = u128::from(now.saturating_sub(valuation.at));
    // A decline that overflows is the whole value (down to the floor); a floor that overflows
    // is no floor: both lower the value.
    let decline_per_year = mul_div(
        new_value,
        u128::from(class.terms.annual_depreciation_bps.0),
        BPS_DENOMINATOR,
        Rounding::Up,
    )
    .unwrap_or(u128::MAX);
    let decline = mul_div(decline_per_year, elapsed, u128::from(SECONDS_PER_YEAR), Rounding::Up)
        .unwrap_or(u128::MAX);
    let floor_new =
        mul_div(new_value, u128::from(class.terms.floor_bps.0), BPS_DENOMINATOR, Rounding::Down)
            .unwrap_or(0);
    let floor = mul_div(floor_new, class.value_index_wad, WAD, Rounding::Down).unwrap_or(0);
    Amount(index_ratio_value.saturating_sub(decline).max(floor))
}

/// The value used for LTV at `now`: the lesser of the latest appraisal and the model since it;
/// zero without a valuation or a class.
pub fn value_for_ltv(state: &State, receipt: &Receipt, now: u64) -> Amount {
    let (Some(valuation), Some(class)) =
        (&receipt.valuation, state.receipts.classes.get(&receipt.class))
    else {
        return Amount::ZERO;
    };
    valuation.value.min(model_value(class, valuation, receipt.description.quantity, now))
}

/// The net recovery the cost model expects from liquidating a receipt worth `value`, rounded
/// down: value less the condition haircut, less the ITAD commission on that, less the fixed
/// costs per unit; never below zero.
pub fn expected_recovery(class: &AssetClass, value: Amount, quantity: u32) -> Amount {
    let model = &class.terms.recovery;
    let gross =
        value.mul_bps(Bps(10_000 - model.condition_haircut_bps.0.min(10_000)), Rounding::Down);
    let gross = gross.unwrap_or(Amount::ZERO);
    // The haircut keeps at most the whole value, so `gross` cannot overflow; every fallback
    // below lowers the expected recovery, which favours the protocol (impairment comes sooner
    // and conservative NAV is lower): a commission that overflows takes everything, and fixed
    // costs saturate upward.
    let commission = gross.mul_bps(model.itad_commission_bps, Rounding::Up).unwrap_or(gross);
    let per_unit = model
        .legal_cost_per_unit
        .0
        .saturating_add(model.logistics_cost_per_unit.0)
        .saturating_add(model.data_destruction_cost_per_unit.0);
    let fixed = per_unit.saturating_mul(u128::from(quantity));
    Amount(gross.0.saturating_sub(commission.0).saturating_sub(fixed))
}

/// Whether `receipt` is eligible collateral at `now` (SPEC 8), returning its value for LTV:
/// a valuation younger than `max_valuation_age_secs`, an unexpired policy, and coverage of at
/// least `min_insurance_coverage_bps` of the value. Checked in that order.
pub fn check_eligible(state: &State, receipt: &Receipt, now: u64) -> Result<Amount, ReceiptError> {
    let value = value_for_ltv(state, receipt, now);
    check_eligible_at_value(state, receipt, now, value).map(|()| value)
}

/// [`check_eligible`] for a caller that already holds the receipt's value for LTV at `now`.
pub(crate) fn check_eligible_at_value(
    state: &State,
    receipt: &Receipt,
    now: u64,
    value: Amount,
) -> Result<(), ReceiptError> {
    let params = state.governance.params.get();
    match &receipt.valuation {
        Some(valuation) if now.saturating_sub(valuation.at) <= params.max_valuation_age_secs => {}
        _ => return Err(ReceiptError::ReceiptValuationStale),
    }
    let policy = match &receipt.policy {
        Some(policy) if now < policy.expires_at => policy,
        _ => return Err(ReceiptError::ReceiptInsuranceLapsed),
    };
    let required = value
        .mul_bps(params.min_insurance_coverage_bps, Rounding::Up)
        .map_err(|_| ReceiptError::ReceiptCoverageInsufficient)?;
    if policy.coverage < required {
        return Err(ReceiptError::ReceiptCoverageInsufficient);
    }
    Ok(())
}

/// The receipt `id`, or `receipt_not_found`.
pub fn receipt(state: &State, id: ReceiptId) -> Result<Receipt, TxError> {
    state.receipts.receipts.get(&id).cloned().ok_or(ReceiptError::ReceiptNotFound.into())
}

fn issued_by(state: &State, sender: Address, id: ReceiptId) -> Result<Receipt, TxError> {
    require_role(state, Role::Custodian, sender)?;
    let receipt = receipt(state, id)?;
    if receipt.custodian != sender {
        return Err(ReceiptError::SenderIsNotIssuingCustodian.into());
    }
    Ok(receipt)
}

fn require_free(receipt: &Receipt) -> Result<(), TxError> {
    match receipt.status {
        ReceiptStatus::Issued | ReceiptStatus::Released => Ok(()),
        ReceiptStatus::Pledged => Err(ReceiptError::ReceiptIsPledged.into()),
        _ => Err(ReceiptError::ReceiptIsClosed.into()),
    }
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
        let entry = AssetClass { terms: terms.clone(), value_index_wad: WAD, step_downs: 0 };
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

/// Custodian: issue a receipt to `owner`.
///
/// A custodian issues a receipt for hardware it holds to `owner`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueReceipt {
    /// The hardware's asset class.
    pub class: AssetClassId,
    /// Who receives the receipt.
    pub owner: Address,
    /// Quantity, serials, facility, jurisdiction and bailment document.
    pub description: ReceiptDescription,
}

impl ActionHandler for IssueReceipt {
    const NAME: &'static str = "issue_receipt";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { class, owner, ref description } = *self;
        require_role(state, Role::Custodian, sender)?;
        if !state.receipts.classes.contains_key(&class) {
            return Err(ReceiptError::AssetClassNotFound.into());
        }
        description.check()?;
        let id = ReceiptId(*state.receipts.next_receipt_id.get());
        *state.receipts.next_receipt_id.get_mut() += 1;
        let receipt = Receipt {
            id,
            class,
            custodian: sender,
            owner,
            description: description.clone(),
            policy: None,
            valuation: None,
            status: ReceiptStatus::Issued,
            loan: None,
            redemption_requested: false,
            issued_at: state.now(),
        };
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptIssued { receipt_id: id, class, custodian: sender, owner });
        Ok(())
    }
}

/// Issuing custodian: amend a receipt's description.
///
/// The issuing custodian corrects a receipt's description. A change of
/// quantity drops the valuation (it no longer describes the same hardware).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmendReceipt {
    /// The receipt amended.
    pub receipt_id: ReceiptId,
    /// Its new description.
    pub description: ReceiptDescription,
}

impl ActionHandler for AmendReceipt {
    const NAME: &'static str = "amend_receipt";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id: id, ref description } = *self;
        let mut receipt = issued_by(state, sender, id)?;
        if matches!(
            receipt.status,
            ReceiptStatus::Foreclosed | ReceiptStatus::Sold | ReceiptStatus::Redeemed
        ) {
            return Err(ReceiptError::ReceiptIsClosed.into());
        }
        description.check()?;
        if description.quantity != receipt.description.quantity {
            receipt.valuation = None;
        }
        receipt.description = description.clone();
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptAmended { receipt_id: id });
        Ok(())
    }
}

/// Issuing custodian: release an issued receipt.
///
/// The issuing custodian clears an issued receipt of any claim, ready to be
/// redeemed (a pledged receipt is released only by its loan's repayment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseReceipt {
    /// The receipt released.
    pub receipt_id: ReceiptId,
}

impl ActionHandler for ReleaseReceipt {
    const NAME: &'static str = "release_receipt";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.receipt_id;
        let mut receipt = issued_by(state, sender, id)?;
        if receipt.status == ReceiptStatus::Pledged {
            return Err(ReceiptError::ReceiptIsPledged.into());
        }
        if receipt.status != ReceiptStatus::Issued {
            return Err(ReceiptError::ReceiptIsNotIssued.into());
        }
        receipt.status = ReceiptStatus::Released;
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptReleased { receipt_id: id });
        Ok(())
    }
}

/// Owner: transfer a free receipt.
///
/// The owner gives a free receipt to another address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferReceipt {
    /// The receipt transferred.
    pub receipt_id: ReceiptId,
    /// Its new owner.
    pub to: Address,
}

impl ActionHandler for TransferReceipt {
    const NAME: &'static str = "transfer_receipt";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id: id, to } = *self;
        let mut receipt = receipt(state, id)?;
        if receipt.owner != sender {
            return Err(ReceiptError::SenderIsNotReceiptOwner.into());
        }
        require_free(&receipt)?;
        if receipt.redemption_requested {
            return Err(ReceiptError::ReceiptRedemptionAlreadyRequested.into());
        }
        if to == sender {
            return Err(ReceiptError::RecipientMustNotBeOwner.into());
        }
        if to == Address::ZERO {
            return Err(LedgerError::RecipientMustNotBeZero.into());
        }
        receipt.owner = to;
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptTransferred { receipt_id: id, from: sender, to });
        Ok(())
    }
}

/// Owner: ask for the hardware back.
///
/// The owner asks the custodian for the hardware back (the
/// owner's half of `redeem_receipt`); the receipt can no longer be transferred or pledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestReceiptRedemption {
    /// The receipt whose hardware is asked back.
    pub receipt_id: ReceiptId,
}

impl ActionHandler for RequestReceiptRedemption {
    const NAME: &'static str = "request_receipt_redemption";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.receipt_id;
        let mut receipt = receipt(state, id)?;
        if receipt.owner != sender {
            return Err(ReceiptError::SenderIsNotReceiptOwner.into());
        }
        require_free(&receipt)?;
        if receipt.status != ReceiptStatus::Released {
            return Err(ReceiptError::ReceiptIsNotReleased.into());
        }
        if receipt.redemption_requested {
            return Err(ReceiptError::ReceiptRedemptionAlreadyRequested.into());
        }
        receipt.redemption_requested = true;
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptRedemptionRequested { receipt_id: id, owner: sender });
        Ok(())
    }
}

/// Issuing custodian: hand the hardware back and burn the receipt.
///
/// The issuing custodian hands the hardware back and burns the receipt (the
/// custodian's half; the owner asked first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemReceipt {
    /// The receipt burned.
    pub receipt_id: ReceiptId,
}

impl ActionHandler for RedeemReceipt {
    const NAME: &'static str = "redeem_receipt";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.receipt_id;
        let mut receipt = issued_by(state, sender, id)?;
        if receipt.status != ReceiptStatus::Released {
            return Err(ReceiptError::ReceiptIsNotReleased.into());
        }
        if !receipt.redemption_requested {
            return Err(ReceiptError::ReceiptRedemptionNotRequested.into());
        }
        receipt.status = ReceiptStatus::Redeemed;
        let owner = receipt.owner;
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptRedeemed { receipt_id: id, owner });
        Ok(())
    }
}

/// Insurer: attach a policy.
///
/// An insurer insures a receipt that has no unexpired policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachPolicy {
    /// The receipt insured.
    pub receipt_id: ReceiptId,
    /// The insurer's policy id.
    pub policy_id: B256,
    /// The amount insured, in USDai base units.
    pub coverage: Amount,
    /// When the policy ends (unix seconds).
    pub expires_at: u64,
}

impl ActionHandler for AttachPolicy {
    const NAME: &'static str = "attach_policy";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id: id, policy_id, coverage, expires_at } = *self;
        require_role(state, Role::Insurer, sender)?;
        let mut receipt = receipt(state, id)?;
        let now = state.now();
        if matches!(receipt.status, ReceiptStatus::Sold | ReceiptStatus::Redeemed) {
            return Err(ReceiptError::ReceiptIsClosed.into());
        }
        if receipt.policy.as_ref().is_some_and(|policy| now < policy.expires_at) {
            return Err(ReceiptError::ReceiptAlreadyInsured.into());
        }
        if coverage.is_zero() {
            return Err(ReceiptError::CoverageMustNotBeZero.into());
        }
        if expires_at <= now {
            return Err(ReceiptError::PolicyExpiryMustBeLater.into());
        }
        receipt.policy = Some(Policy { insurer: sender, policy_id, coverage, expires_at });
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::PolicyAttached { receipt_id: id, insurer: sender, coverage, expires_at });
        Ok(())
    }
}

/// The policy's insurer: renew it.
///
/// The policy's insurer extends it, with a new coverage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewPolicy {
    /// The receipt whose policy is renewed.
    pub receipt_id: ReceiptId,
    /// The new amount insured, in USDai base units.
    pub coverage: Amount,
    /// The new end (unix seconds).
    pub expires_at: u64,
}

impl ActionHandler for RenewPolicy {
    const NAME: &'static str = "renew_policy";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id: id, coverage, expires_at } = *self;
        require_role(state, Role::Insurer, sender)?;
        let mut receipt = receipt(state, id)?;
        if matches!(receipt.status, ReceiptStatus::Sold | ReceiptStatus::Redeemed) {
            return Err(ReceiptError::ReceiptIsClosed.into());
        }
        let Some(policy) = receipt.policy.as_mut() else {
            return Err(ReceiptError::ReceiptHasNoPolicy.into());
        };
        if policy.insurer != sender {
            return Err(ReceiptError::SenderIsNotPolicyInsurer.into());
        }
        if coverage.is_zero() {
            return Err(ReceiptError::CoverageMustNotBeZero.into());
        }
        if expires_at <= state.now() || expires_at <= policy.expires_at {
            return Err(ReceiptError::PolicyExpiryMustBeLater.into());
        }
        policy.coverage = coverage;
        policy.expires_at = expires_at;
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::PolicyRenewed { receipt_id: id, coverage, expires_at });
        Ok(())
    }
}

/// Appraiser: value a receipt.
///
/// An appraiser values a whole receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostValuation {
    /// The receipt valued.
    pub receipt_id: ReceiptId,
    /// Its appraised value, in USDai base units.
    pub value: Amount,
}

impl ActionHandler for PostValuation {
    const NAME: &'static str = "post_valuation";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id: id, value } = *self;
        require_role(state, Role::Appraiser, sender)?;
        let Some(receipt) = state.receipts.receipts.get(&id) else {
            return Err(ReceiptError::ReceiptNotFound.into());
        };
        if matches!(receipt.status, ReceiptStatus::Sold | ReceiptStatus::Redeemed) {
            return Err(ReceiptError::ReceiptIsClosed.into());
        }
        if value.is_zero() {
            return Err(ReceiptError::ValuationMustNotBeZero.into());
        }
        let Some(class) = state.receipts.classes.get(&receipt.class) else {
            unreachable!("a receipt names a registered class");
        };
        let valuation = Valuation {
            appraiser: sender,
            value,
            at: state.now(),
            class_index_wad: class.value_index_wad,
        };
        // Written in place: appraisals come for every pledged receipt at every appraisal, and a
        // receipt (with its description's strings) is the largest record after a loan.
        state.receipts.receipts.update(&id, |receipt| receipt.valuation = Some(valuation));
        state.emit(Event::ValuationPosted { receipt_id: id, appraiser: sender, value });
        Ok(())
    }
}

/// Moves receipt `id` to `status` (and its lien to `loan`, its owner to `owner` if given);
/// for the loan component, which has checked the transition.
pub(crate) fn set_status(
    state: &mut State,
    id: ReceiptId,
    status: ReceiptStatus,
    loan: Option<LoanId>,
    owner: Option<Address>,
) {
    let updated = state.receipts.receipts.update(&id, |receipt| {
        receipt.status = status;
        receipt.loan = loan;
        if let Some(owner) = owner {
            receipt.owner = owner;
        }
        receipt.owner
    });
    let Some(owner) = updated else { unreachable!("status change of a missing receipt") };
    state.emit(Event::ReceiptStatusChanged { receipt_id: id, status, loan, owner });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(new_price_per_unit: u128, value_index_wad: u128) -> AssetClass {
        AssetClass {
            terms: AssetClassTerms {
                new_price_per_unit: Amount(new_price_per_unit),
                annual_depreciation_bps: Bps(2_000),
                floor_bps: Bps(1_000),
                recovery: RecoveryCostModel::default(),
            },
            value_index_wad,
            step_downs: 0,
        }
    }

    fn appraisal(value: u128) -> Valuation {
        Valuation { appraiser: Address::ZERO, value: Amount(value), at: 0, class_index_wad: WAD }
    }

    #[test]
    fn a_model_whose_arithmetic_overflows_never_values_a_receipt_higher() {
        let year = SECONDS_PER_YEAR;
        // An honest model: 8 units at 25,000 a year on, 20% a year decline.
        let honest = model_value(&class(25_000, WAD), &appraisal(180_000), 8, year);
        assert_eq!(honest, Amount(140_000));
        // Replacement cost beyond 128 bits: valued at nothing (it used to saturate the cost and
        // under-state the decline).
        let priceless = model_value(&class(u128::MAX / 2, WAD), &appraisal(180_000), 8, year);
        assert_eq!(priceless, Amount::ZERO);
        // A class index more than 2^128-fold up: the appraisal less the decline, not more.
        let soaring = model_value(&class(25_000, u128::MAX), &appraisal(u128::MAX / 2), 8, year);
        assert_eq!(soaring, Amount(u128::MAX / 2 - 40_000));
        // A decline beyond the value takes it down to the floor (10% x 8 x 25,000)...
        let ancient = model_value(&class(25_000, WAD), &appraisal(180_000), 8, u64::MAX);
        assert_eq!(ancient, Amount(20_000));
        // ...and so does one that overflows (the floor is 10% of the replacement cost).
        let new_value = u128::MAX / 16 * 8;
        let overflowing =
            model_value(&class(u128::MAX / 16, WAD), &appraisal(180_000), 8, u64::MAX);
        assert_eq!(overflowing, Amount(new_value / 10));
        // Fixed costs that overflow take the whole recovery.
        let mut costly = class(25_000, WAD);
        costly.terms.recovery.legal_cost_per_unit = Amount(u128::MAX);
        costly.terms.recovery.logistics_cost_per_unit = Amount(u128::MAX);
        assert_eq!(expected_recovery(&costly, Amount(180_000), 8), Amount::ZERO);
    }
}
