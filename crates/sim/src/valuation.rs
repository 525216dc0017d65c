//! Rental-index marks in the simulator (issue 16 item 5, issue 17): the scenario's income terms
//! are set on the chain with the protocol's own `set_income_terms`, and the oracle posts each
//! class's modelled rent with `post_rental_index` every month, so the chain values every
//! receipt with `receipts::value_for_ltv`, the function a node runs. The simulator never
//! computes a collateral value itself: a risk run and the chain use one valuation rule.
//!
//! The oracle is honest and posts monthly; a month's move is clamped into the protocol's move
//! window (`rental_index::post_bounds`), which with the scenario's bound of 100% only trims a
//! rise of more than 2x in a month.

use crate::{
    SimError,
    book::{MONTH, START_TIMESTAMP},
    chain::Chain,
    convert::usd_to_amount,
    scenario::Scenario,
};
use infrafi_core::{
    Action, Amount, AssetClassId, Bps,
    action::{PostRentalIndex, SetIncomeTerms},
    rental_index::{self, IncomeTerms},
};

/// The move bound the simulator's terms use: 100% (an honest oracle; the daily bound guards
/// against a compromised key, which the simulator does not model).
pub const SIM_INDEX_MAX_MOVE_BPS: u32 = 10_000;

/// The scenario's income terms, or `None` when it has no `[valuation]`: utilisation is the
/// middle of the borrowers' range, operating costs the borrowers' share, and every class's
/// economic life ends `economic_life_months` after the start of the paths.
pub fn income_terms(scenario: &Scenario) -> Option<IncomeTerms> {
    let valuation = scenario.valuation.as_ref()?;
    let borrowers = &scenario.borrowers;
    let utilisation = (borrowers.utilization_min_bps + borrowers.utilization_max_bps) / 2;
    Some(IncomeTerms {
        utilisation_bps: Bps(utilisation),
        opex_share_bps: Bps(borrowers.opex_share_bps),
        discount_rate_bps_per_year: Bps(valuation.discount_rate_bps_per_year),
        economic_life_ends_at: START_TIMESTAMP + u64::from(valuation.economic_life_months) * MONTH,
        index_max_age_secs: u64::from(valuation.index_max_age_days) * 86_400,
        index_max_move_bps: Bps(SIM_INDEX_MAX_MOVE_BPS),
    })
}

/// Admin sets the scenario's income terms on every class in `classes` (nothing without a
/// `[valuation]`).
pub fn set_terms(
    chain: &mut Chain,
    scenario: &Scenario,
    classes: &[AssetClassId],
) -> Result<(), SimError> {
    let Some(terms) = income_terms(scenario) else { return Ok(()) };
    let admin = chain.actors.admin;
    for &class in classes {
        chain.apply(admin, Action::SetIncomeTerms(SetIncomeTerms { class, terms }))?;
    }
    Ok(())
}

/// The oracle posts `rent_usd_per_hour` as `class`'s rental index, clamped into the move
/// window; nothing for a class without income terms on the chain (its index would value
/// nothing).
pub fn post_index(
    chain: &mut Chain,
    class: AssetClassId,
    rent_usd_per_hour: f64,
) -> Result<(), SimError> {
    if !chain.state.receipts.income_terms.contains_key(&class) {
        return Ok(());
    }
    let (low, high) = rental_index::post_bounds(&chain.state, &class, chain.now());
    let rent = usd_to_amount(rent_usd_per_hour).max(low).min(high);
    let rent = Amount(rent.0.max(1));
    let oracle = chain.actors.oracle;
    chain.apply(
        oracle,
        Action::PostRentalIndex(PostRentalIndex { class, rent_per_unit_hour: rent }),
    )?;
    Ok(())
}
