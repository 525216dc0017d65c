//! Rental-index marks (issue 16 item 5): the oracle posts a rental index per asset class (USD
//! per unit-hour, 18-decimal), and a receipt's value for LTV is also bounded by its **income
//! value**: the present value of the rent its units can still earn over their class's
//! remaining economic life, at the class's utilisation, operating-cost share and discount
//! rate (its income terms, set by admin).
//!
//! Guarantees:
//! - The income value is computed in integers and every rounding lowers it (collateral is never
//!   overstated): the monthly net rent rounds down, each month's discount factor rounds down,
//!   and only whole months left count (the part-month at the end earns nothing).
//! - A class with income terms is valued by its index only while the index is fresh: a receipt
//!   of a class whose index is missing or older than the terms' `index_max_age_secs` is not
//!   eligible collateral (`receipt_rental_index_stale`), so a borrower cannot draw against a
//!   mark the index no longer supports, and a re-mark opens a margin call on it.
//! - One move window (a day) moves the index at most `index_max_move_bps` from the value it had
//!   when the window opened, up or down: a compromised or mistaken oracle cannot jump it in one
//!   post, nor in many posts within the day (`rental_index_move_exceeds_max`).
//! - A class without income terms is valued as before (the lesser of appraisal and the
//!   depreciation model): the bound is opt-in per class.
//!
//! The formula, with `R` the index (USD per unit-hour), `u` the utilisation, `o` the operating
//! cost share, `r` the annual discount rate and `n` the whole 30-day months from now until the
//! class's economic life ends:
//!
//! ```text
//! monthly net rent per unit  M = floor(R x 720 x u x (1 - o))
//! monthly discount factor    v = floor(1 / (1 + r x 30/365))           (18 decimals)
//! annuity factor             A = sum_{k=1..n} d_k,  d_k = floor(d_{k-1} x v), d_0 = 1
//! income value per unit      I = floor(M x A)
//! a receipt's income value       = I x quantity
//! ```
//!
//! Worked example (`docs/valuation.md`, pinned by `the_worked_example_of_the_docs_holds`): an
//! index of $2.00 an hour, 70% utilisation, 40% operating costs, 12% a year, 36 months left:
//! `M = 2 x 720 x 0.7 x 0.6 = $604.80`, `v = 0.990233315...`, `A = 30.178792...`, so one unit is
//! worth $18,252.13 and an 8-unit receipt $146,017.07 of income value.

use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, AssetClassId},
    math::{Amount, BPS_DENOMINATOR, Bps, Rounding, SECONDS_PER_DAY, WAD, mul_div},
    params::Role,
    receipts::{Receipt, ReceiptError},
    state::State,
};
use serde::{Deserialize, Serialize};

/// A month of rent and of discounting: 30 days, as the loans' default repayment interval.
pub const MONTH_SECS: u64 = 30 * SECONDS_PER_DAY;
/// Hours in a month of rent.
pub const HOURS_PER_MONTH: u128 = 720;
/// The highest index the oracle may post: $10,000 per unit-hour.
pub const RENT_PER_UNIT_HOUR_MAX: Amount = Amount::from_whole(10_000);
/// The longest economic life income terms may count, from when they are set: 15 years.
pub const ECONOMIC_LIFE_MAX_SECS: u64 = 15 * 365 * SECONDS_PER_DAY;
/// The most whole months an income value counts (the loop bound of the annuity factor).
pub const MONTHS_MAX: u64 = ECONOMIC_LIFE_MAX_SECS / MONTH_SECS;
/// The length of a move window: posts within a day move the index at most the terms' bound
/// from where the day started.
pub const MOVE_WINDOW_SECS: u64 = SECONDS_PER_DAY;
/// The oldest index a class's terms may accept: 90 days.
pub const INDEX_MAX_AGE_LIMIT_SECS: u64 = 90 * SECONDS_PER_DAY;

/// How a class's rent becomes an income value, set by admin per class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeTerms {
    /// The share of hours a unit earns rent.
    pub utilisation_bps: Bps,
    /// Operating costs (power, space, staff) as a share of the rent.
    pub opex_share_bps: Bps,
    /// The annual rate the future rent is discounted at.
    pub discount_rate_bps_per_year: Bps,
    /// When the class stops earning rent (unix seconds): its economic life ends for every
    /// receipt of the class alike, since rent is priced by generation, not by a unit's age.
    pub economic_life_ends_at: u64,
    /// The oldest index (from its post) that still values the class's receipts.
    pub index_max_age_secs: u64,
    /// The most one move window's posts may move the index from its value when the window
    /// opened, as a share of that value.
    pub index_max_move_bps: Bps,
}

impl IncomeTerms {
    /// Whether the terms are usable at `now`: shares of at most 100%, a discount rate of at
    /// most 100% a year, a life that ends after now and within 15 years, an index age of 1 s to
    /// 90 days, a move bound of 1 to 10,000 basis points.
    pub fn is_valid_at(&self, now: u64) -> bool {
        self.utilisation_bps.is_fraction()
            && self.opex_share_bps.is_fraction()
            && self.discount_rate_bps_per_year.is_fraction()
            && self.economic_life_ends_at > now
            && self.economic_life_ends_at - now <= ECONOMIC_LIFE_MAX_SECS
            && (1..=INDEX_MAX_AGE_LIMIT_SECS).contains(&self.index_max_age_secs)
            && (1..=10_000).contains(&self.index_max_move_bps.0)
    }
}

/// A class's rental index as the oracle last posted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RentalIndex {
    /// USD per unit-hour, 18-decimal (USDai base units).
    pub rent_per_unit_hour: Amount,
    /// The oracle that posted it.
    pub oracle: Address,
    /// When it was posted.
    pub posted_at: u64,
    /// The index when the current move window opened: posts in the window stay within the
    /// terms' bound of it.
    pub window_reference: Amount,
    /// When the current move window opened.
    pub window_opened_at: u64,
}

impl RentalIndex {
    /// Whether the index is fresh under `terms` at `now`.
    pub fn is_fresh(&self, terms: &IncomeTerms, now: u64) -> bool {
        now.saturating_sub(self.posted_at) <= terms.index_max_age_secs
    }

    /// The move window a post at `now` belongs to: `(reference, opened_at)`. A window lasts
    /// [`MOVE_WINDOW_SECS`]; the first post after it opens a new one from the index as it
    /// stands.
    pub fn window_at(&self, now: u64) -> (Amount, u64) {
        if now >= self.window_opened_at.saturating_add(MOVE_WINDOW_SECS) {
            (self.rent_per_unit_hour, now)
        } else {
            (self.window_reference, self.window_opened_at)
        }
    }
}

/// The lowest and highest index a post for `class` may set at `now` (both within
/// `(0, RENT_PER_UNIT_HOUR_MAX]`): the move window's bounds, or the whole range when the class
/// has no income terms or no index yet.
pub fn post_bounds(state: &State, class: &AssetClassId, now: u64) -> (Amount, Amount) {
    let whole_range = (Amount(1), RENT_PER_UNIT_HOUR_MAX);
    let (Some(terms), Some(index)) =
        (state.receipts.income_terms.get(class), state.receipts.rental_indices.get(class))
    else {
        return whole_range;
    };
    let (reference, _) = index.window_at(now);
    let bound = reference.mul_bps(terms.index_max_move_bps, Rounding::Down).unwrap_or(reference);
    let low = reference.saturating_sub(bound).max(whole_range.0);
    let high = Amount(reference.0.saturating_add(bound.0)).min(whole_range.1);
    (low, high)
}

/// The annuity factor of `months` monthly payments at `discount_rate_bps_per_year`, 18-decimal:
/// `sum_{k=1..months} v^k` with `v = 1 / (1 + r x 30/365)`, each power rounded down.
pub fn annuity_factor_wad(discount_rate_bps_per_year: Bps, months: u64) -> u128 {
    let year_days = 365 * BPS_DENOMINATOR;
    let denominator = year_days + u128::from(discount_rate_bps_per_year.0) * 30;
    // `v` <= 1: the products below never exceed WAD, so nothing overflows.
    let Ok(discount) = mul_div(WAD, year_days, denominator, Rounding::Down) else {
        unreachable!("a factor below one fits");
    };
    let mut power = WAD;
    let mut sum: u128 = 0;
    for _ in 0..months.min(MONTHS_MAX) {
        power = mul_div(power, discount, WAD, Rounding::Down).unwrap_or(0);
        sum += power;
    }
    sum
}

/// The monthly net rent of one unit at `rent_per_unit_hour` under `terms`, rounded down.
pub fn monthly_net_rent(terms: &IncomeTerms, rent_per_unit_hour: Amount) -> Amount {
    let kept = u128::from(terms.utilisation_bps.0.min(10_000))
        * (BPS_DENOMINATOR - u128::from(terms.opex_share_bps.0.min(10_000)));
    // At most $10,000 x 720 per hour-month in 18 decimals: no overflow for a posted index; a
    // larger figure (never stored) is valued at nothing rather than wrapped.
    let gross = rent_per_unit_hour.0.checked_mul(HOURS_PER_MONTH).unwrap_or(0);
    Amount(mul_div(gross, kept, BPS_DENOMINATOR * BPS_DENOMINATOR, Rounding::Down).unwrap_or(0))
}

/// The income value of one unit at `now`: the monthly net rent over the whole months left of
/// the class's life, discounted (module docs), rounded down.
pub fn income_value_per_unit(terms: &IncomeTerms, index: &RentalIndex, now: u64) -> Amount {
    let months = terms.economic_life_ends_at.saturating_sub(now) / MONTH_SECS;
    let factor = annuity_factor_wad(terms.discount_rate_bps_per_year, months);
    let monthly = monthly_net_rent(terms, index.rent_per_unit_hour);
    // Fits: monthly <= 7.2e24 and the factor <= 182 x WAD.
    Amount(mul_div(monthly.0, factor, WAD, Rounding::Down).unwrap_or(0))
}

/// The income value of `receipt` at `now`, or `None` when its class has no income terms (no
/// income bound). A class with terms but no index yet has nothing to support a mark: zero.
pub fn income_value(state: &State, receipt: &Receipt, now: u64) -> Option<Amount> {
    let terms = state.receipts.income_terms.get(&receipt.class)?;
    let Some(index) = state.receipts.rental_indices.get(&receipt.class) else {
        return Some(Amount::ZERO);
    };
    let per_unit = income_value_per_unit(terms, index, now);
    // A value past 128 bits is no value the protocol lends against: the lower bound wins.
    Some(Amount(per_unit.0.checked_mul(u128::from(receipt.description.quantity)).unwrap_or(0)))
}

/// `receipt_rental_index_stale` when `receipt`'s class has income terms and no index younger
/// than their maximum age at `now`.
pub fn check_index_fresh(state: &State, receipt: &Receipt, now: u64) -> Result<(), ReceiptError> {
    let Some(terms) = state.receipts.income_terms.get(&receipt.class) else { return Ok(()) };
    match state.receipts.rental_indices.get(&receipt.class) {
        Some(index) if index.is_fresh(terms, now) => Ok(()),
        _ => Err(ReceiptError::ReceiptRentalIndexStale),
    }
}

/// Admin: set a class's income terms.
///
/// Admin sets how a class's rental index becomes an income value that bounds its receipts'
/// value for LTV (from then on, its receipts need a fresh index to be eligible).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetIncomeTerms {
    /// The class.
    pub class: AssetClassId,
    /// Its utilisation, operating costs, discount rate, economic life and index rules.
    pub terms: IncomeTerms,
}

impl ActionHandler for SetIncomeTerms {
    const NAME: &'static str = "set_income_terms";
    // Open loans are valued anew at their next re-mark; nothing moves NAV now.

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { class, terms } = *self;
        require_role(state, Role::Admin, sender)?;
        if !state.receipts.classes.contains_key(&class) {
            return Err(ReceiptError::AssetClassNotFound.into());
        }
        if !terms.is_valid_at(state.now()) {
            return Err(ReceiptError::IncomeTermsInvalid.into());
        }
        state.receipts.income_terms.insert(class, terms);
        state.emit(Event::IncomeTermsSet { class, terms });
        Ok(())
    }
}

/// Oracle: post a class's rental index.
///
/// The oracle posts the rent one unit of a class earns, in USD per unit-hour; with income
/// terms set, one day's posts move it at most the terms' bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostRentalIndex {
    /// The class.
    pub class: AssetClassId,
    /// USD per unit-hour, in USDai base units (18 decimals).
    pub rent_per_unit_hour: Amount,
}

impl ActionHandler for PostRentalIndex {
    const NAME: &'static str = "post_rental_index";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.rent_per_unit_hour.is_zero() || self.rent_per_unit_hour > RENT_PER_UNIT_HOUR_MAX {
            return Err(ReceiptError::RentalIndexOutOfRange.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { class, rent_per_unit_hour: rent } = *self;
        require_role(state, Role::Oracle, sender)?;
        if !state.receipts.classes.contains_key(&class) {
            return Err(ReceiptError::AssetClassNotFound.into());
        }
        let now = state.now();
        let (window_reference, window_opened_at) = match state.receipts.rental_indices.get(&class) {
            Some(last) => last.window_at(now),
            // The first post has nothing to move from.
            None => (rent, now),
        };
        if let Some(terms) = state.receipts.income_terms.get(&class) {
            // Rounded down: the bound is never wider than the terms say.
            let bound = window_reference.mul_bps(terms.index_max_move_bps, Rounding::Down)?;
            let moved = Amount(rent.0.abs_diff(window_reference.0));
            if moved > bound {
                return Err(ReceiptError::RentalIndexMoveExceedsMax.into());
            }
        }
        let index = RentalIndex {
            rent_per_unit_hour: rent,
            oracle: sender,
            posted_at: now,
            window_reference,
            window_opened_at,
        };
        state.receipts.rental_indices.insert(class, index);
        state.emit(Event::RentalIndexPosted { class, rent_per_unit_hour: rent, window_reference });
        Ok(())
    }
}

/// The rental-index part of the invariants: every index and every set of terms names a
/// registered class; an index is within range, posted no later than now, and inside its move
/// window's bound when the class has terms.
pub fn check_invariants(state: &State) -> Result<(), String> {
    let now = state.now();
    for (class, index) in state.receipts.rental_indices.iter() {
        if !state.receipts.classes.contains_key(class) {
            return Err(format!("the rental index of {class} names no class"));
        }
        let in_range = |rent: Amount| !rent.is_zero() && rent <= RENT_PER_UNIT_HOUR_MAX;
        if !in_range(index.rent_per_unit_hour) || !in_range(index.window_reference) {
            return Err(format!("the rental index of {class} is out of range: {index:?}"));
        }
        if index.window_opened_at > index.posted_at || index.posted_at > now {
            return Err(format!("the rental index of {class} was posted in the future"));
        }
    }
    for class in state.receipts.income_terms.keys() {
        if !state.receipts.classes.contains_key(class) {
            return Err(format!("the income terms of {class} name no class"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(now: u64, months: u64) -> IncomeTerms {
        IncomeTerms {
            utilisation_bps: Bps(7_000),
            opex_share_bps: Bps(4_000),
            discount_rate_bps_per_year: Bps(1_200),
            economic_life_ends_at: now + months * MONTH_SECS,
            index_max_age_secs: 7 * SECONDS_PER_DAY,
            index_max_move_bps: Bps(2_500),
        }
    }

    fn index(rent: Amount) -> RentalIndex {
        RentalIndex {
            rent_per_unit_hour: rent,
            oracle: Address::ZERO,
            posted_at: 0,
            window_reference: rent,
            window_opened_at: 0,
        }
    }

    /// $2.00 an hour.
    const TWO_DOLLARS: Amount = Amount(2 * WAD);

    #[test]
    fn the_worked_example_of_the_docs_holds() {
        let terms = terms(0, 36);
        assert_eq!(monthly_net_rent(&terms, TWO_DOLLARS), Amount(604_800_000_000_000_000_000));
        let factor = annuity_factor_wad(terms.discount_rate_bps_per_year, 36);
        // Closed form (1 - (1 + i)^-36) / i with i = 0.12 x 30 / 365: 30.178792711881...; the
        // rounded powers make the integer factor a few units of 10^-18 per month lower.
        assert_eq!(factor, 30_178_792_711_881_334_776);
        let i: f64 = 0.12 * 30.0 / 365.0;
        let closed = (1.0 - (1.0 + i).powi(-36)) / i;
        let integer = factor as f64 / WAD as f64;
        assert!((closed - integer).abs() < 1e-9, "{integer} vs {closed}");
        let per_unit = income_value_per_unit(&terms, &index(TWO_DOLLARS), 0);
        assert_eq!(per_unit, Amount(18_252_133_832_145_831_272_524), "$18,252.13 a unit");
    }

    #[test]
    fn only_whole_months_left_count_and_a_finished_life_is_worth_nothing() {
        let terms = terms(0, 36);
        let now = 35 * MONTH_SECS + 1;
        let last = income_value_per_unit(&terms, &index(TWO_DOLLARS), now);
        assert_eq!(last, Amount::ZERO, "less than a month left earns nothing");
        let one = income_value_per_unit(&terms, &index(TWO_DOLLARS), 35 * MONTH_SECS);
        let monthly = monthly_net_rent(&terms, TWO_DOLLARS);
        assert!(one < monthly && one > Amount(monthly.0 / 100 * 99), "one discounted month");
        let after = income_value_per_unit(&terms, &index(TWO_DOLLARS), 40 * MONTH_SECS);
        assert_eq!(after, Amount::ZERO);
    }

    #[test]
    fn every_rounding_lowers_the_income_value() {
        // Zero discount: the factor is exactly the month count, and the value n x M.
        let mut flat = terms(0, 12);
        flat.discount_rate_bps_per_year = Bps(0);
        assert_eq!(annuity_factor_wad(Bps(0), 12), 12 * WAD);
        let monthly = monthly_net_rent(&flat, Amount(1_999_999_999_999_999_999));
        // 1.999... x 720 x 0.42 = 604.7999...: rounded down.
        assert_eq!(monthly, Amount(604_799_999_999_999_999_697));
        let value = income_value_per_unit(&flat, &index(Amount(1_999_999_999_999_999_999)), 0);
        assert_eq!(value, Amount(monthly.0 * 12));
        // Discounted, the integer factor never exceeds the real one at any horizon.
        for months in [1, 12, 60, MONTHS_MAX] {
            let factor = annuity_factor_wad(Bps(10_000), months) as f64 / WAD as f64;
            let i: f64 = 30.0 / 365.0;
            let closed = (1.0 - (1.0 + i).powi(-(months as i32))) / i;
            assert!(factor <= closed * (1.0 + 1e-12), "{months}: {factor} vs {closed}");
        }
    }

    #[test]
    fn terms_outside_their_ranges_are_invalid() {
        let now = 1_000;
        assert!(terms(now, 36).is_valid_at(now));
        let cases: [fn(&mut IncomeTerms); 7] = [
            |t| t.utilisation_bps = Bps(10_001),
            |t| t.opex_share_bps = Bps(10_001),
            |t| t.discount_rate_bps_per_year = Bps(10_001),
            |t| t.economic_life_ends_at = 1_000,
            |t| t.economic_life_ends_at = 1_000 + ECONOMIC_LIFE_MAX_SECS + 1,
            |t| t.index_max_age_secs = 0,
            |t| t.index_max_move_bps = Bps(0),
        ];
        for (n, edit) in cases.iter().enumerate() {
            let mut bad = terms(now, 36);
            edit(&mut bad);
            assert!(!bad.is_valid_at(now), "case {n}");
        }
    }
}
