//! A receipt's value: the class's depreciation model since the latest appraisal, the value
//! used for LTV (the lesser of the two and, with income terms, the income value of the class's
//! rental index; rounded down), the recovery the cost model expects, the
//! eligibility checks a loan relies on, and the appraiser's `post_valuation`.

use super::{AssetClass, Receipt, ReceiptError, ReceiptStatus, Valuation};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, ReceiptId},
    math::{Amount, BPS_DENOMINATOR, Bps, Rounding, SECONDS_PER_YEAR, WAD, mul_div},
    params::Role,
    rental_index,
    state::State,
};
use serde::{Deserialize, Serialize};

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

/// The value used for LTV at `now`: the lesser of the latest appraisal, the model since it and,
/// when the class has income terms, the income value of its rental index
/// ([`rental_index::income_value`]); zero without a valuation or a class.
pub fn value_for_ltv(state: &State, receipt: &Receipt, now: u64) -> Amount {
    let (Some(valuation), Some(class)) =
        (&receipt.valuation, state.receipts.classes.get(&receipt.class))
    else {
        return Amount::ZERO;
    };
    let marked =
        valuation.value.min(model_value(class, valuation, receipt.description.quantity, now));
    match rental_index::income_value(state, receipt, now) {
        Some(income) => marked.min(income),
        None => marked,
    }
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
/// a valuation younger than `max_valuation_age_secs`, an unexpired policy, coverage of at
/// least `min_insurance_coverage_bps` of the value, for a monitored class a fresh presence
/// attestation that saw all its units ([`super::presence::check_present`]), and for a class
/// with income terms a fresh rental index ([`rental_index::check_index_fresh`]). Checked in
/// that order.
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
    super::presence::check_present(state, receipt, now)?;
    rental_index::check_index_fresh(state, receipt, now)
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
        if matches!(
            receipt.status,
            ReceiptStatus::Sold | ReceiptStatus::Redeemed | ReceiptStatus::WrittenOff
        ) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipts::{AssetClassTerms, RecoveryCostModel};

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
            presence: crate::receipts::presence::PresenceLimit::default(),
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
