//! Points (SPEC 12): accrue per second on the USD value of USDai and unlocked sUSDai held.
//!
//! Two global accumulators (points per token unit since genesis) advance with time; each
//! account keeps its settled points and the accumulator values at its last settlement, in its
//! `ledger::Holding` beside the balances that earn them. Every
//! USDai or sUSDai balance change settles the account first, so accrual is lazy, exact up to
//! one unit of rounding per settlement (always down), and O(1) per change. The sUSDai
//! accumulator advances at the redemption share price sampled at the end of the previous
//! transaction that could move it, so an interval is valued at the price in force during it.
//!
//! Overflow: points are a tally, not money, and they **saturate** at the largest count rather
//! than fail. Settling points runs inside every USDai and sUSDai balance change, so an overflow
//! code there would freeze a holder's money over a reward counter: the protocol's first duty
//! is that money moves. The saturation is out of reach with the parameter bounds (a multiplier
//! of at most `POINTS_MULTIPLIER_MAX` = 1,000 fills the USDai accumulator in about 900,000
//! years; a holder's points overflow only above 10^12 USDai held for a millennium) and pinned
//! by `points_saturate_at_the_largest_count_and_never_wrap`.

use crate::{
    ids::Address,
    ledger::Holding,
    math::{Amount, Rounding, SECONDS_PER_DAY, WAD, mul_div},
    state::State,
    table::{Slot, component},
    vault,
};
use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

/// Extra precision of the accumulators: points (18 decimals) per token unit, times 10^27.
pub const ACCUMULATOR_SCALE: u128 = 1_000_000_000_000_000_000_000_000_000;

/// Global accumulators.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsGlobals {
    /// Points per USDai unit since genesis, scaled by `ACCUMULATOR_SCALE`.
    #[serde(with = "crate::math::u128_serde")]
    pub usdai_accumulator: u128,
    /// Points per unlocked sUSDai unit since genesis, scaled by `ACCUMULATOR_SCALE`.
    ///
    /// 256 bits: it grows with the price of one share *unit*, which is not bounded by 1.0.
    /// Yield or a donation landing in a vault with few or no shares makes a unit worth up to
    /// NAV / VIRTUAL_SHARES (10^12 USDai per unit for 1,000 USDai of NAV over no shares), and
    /// a `u128` then saturated within hours, silently freezing every holder's sUSDai points.
    pub susdai_accumulator: U256,
    /// When the accumulators were last advanced.
    pub updated_at: u64,
    /// The redemption share price they advance at until the next sample (18-decimal).
    #[serde(with = "crate::math::u128_serde")]
    pub share_price_sample_wad: u128,
    /// Whether a transaction since the sample could have moved the price. The new sample is
    /// taken when next needed (the next block's accrual, or [`share_price_wad`]); nothing
    /// changes the state in between, so it is the price at the end of that transaction, and
    /// a block of many such transactions values the vault once instead of after each.
    #[serde(default)]
    pub share_price_stale: bool,
}

/// One account's points.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsAccount {
    /// Points settled so far (18-decimal).
    #[serde(with = "crate::math::u128_serde")]
    pub settled: u128,
    /// The USDai accumulator at the last settlement.
    #[serde(with = "crate::math::u128_serde")]
    pub usdai_snapshot: u128,
    /// The sUSDai accumulator at the last settlement.
    pub susdai_snapshot: U256,
}

component! {
    /// Points state: the accumulators. Each user's points live in its `ledger::Holding`.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct PointsState at "points" paths PointsPaths {
        /// Accumulators.
        pub globals: Slot<PointsGlobals>,
    }
}

fn accumulator_growth(multiplier: u32, elapsed_secs: u64) -> u128 {
    let point_seconds = u128::from(multiplier) * u128::from(elapsed_secs);
    mul_div(point_seconds, ACCUMULATOR_SCALE, u128::from(SECONDS_PER_DAY), Rounding::Down)
        .unwrap_or(u128::MAX)
}

/// Advances the accumulators to the state's time at the sampled price.
pub fn advance(state: &mut State) {
    let now = state.now();
    let params = state.governance.params.get();
    let (usdai_multiplier, susdai_multiplier) =
        (params.usdai_points_multiplier, params.susdai_points_multiplier);
    let globals = state.points.globals.get();
    if now <= globals.updated_at {
        return;
    }
    let elapsed = now - globals.updated_at;
    let usdai_growth = accumulator_growth(usdai_multiplier, elapsed);
    // In 256 bits: growth x price does not fit 128 bits once a share unit is worth much more
    // than 1.0 (see `PointsGlobals::susdai_accumulator`). Rounded down, as before.
    let susdai_growth = U256::from(accumulator_growth(susdai_multiplier, elapsed))
        * U256::from(globals.share_price_sample_wad)
        / U256::from(WAD);
    let globals = state.points.globals.get_mut();
    globals.usdai_accumulator = globals.usdai_accumulator.saturating_add(usdai_growth);
    globals.susdai_accumulator = globals.susdai_accumulator.saturating_add(susdai_growth);
    globals.updated_at = now;
}

/// Samples the redemption share price that the sUSDai accumulator advances at from now on.
pub fn sample_share_price(state: &mut State) {
    share_price_moved(state);
    resolve_share_price(state);
}

/// Notes that a transaction could have moved the share price: the sample is stale.
pub fn share_price_moved(state: &mut State) {
    if !state.points.globals.get().share_price_stale {
        state.points.globals.get_mut().share_price_stale = true;
    }
}

/// Takes the sample if it is stale. Called before the clock moves, so that the price is the
/// one at the end of the transaction that made it stale.
pub fn resolve_share_price(state: &mut State) {
    let globals = state.points.globals.get();
    if !globals.share_price_stale {
        return;
    }
    let price = vault::nav(state).redemption_price_wad();
    let globals = state.points.globals.get_mut();
    globals.share_price_sample_wad = price;
    globals.share_price_stale = false;
}

/// The share price the sUSDai accumulator advances at from now on (the sample, or the price
/// now if the sample is stale).
pub fn share_price_wad(state: &State) -> u128 {
    let globals = state.points.globals.get();
    match globals.share_price_stale {
        true => vault::nav(state).redemption_price_wad(),
        false => globals.share_price_sample_wad,
    }
}

fn accrued(balance: Amount, accumulator: u128, snapshot: u128) -> u128 {
    let growth = accumulator - snapshot;
    if growth == 0 || balance.is_zero() {
        return 0; // The common case within a block: no multiply at all.
    }
    mul_div(balance.0, growth, ACCUMULATOR_SCALE, Rounding::Down).unwrap_or(u128::MAX)
}

fn accrued_wide(balance: Amount, accumulator: U256, snapshot: U256) -> u128 {
    let growth = accumulator - snapshot;
    if growth.is_zero() || balance.is_zero() {
        return 0;
    }
    let points = U256::from(balance.0).saturating_mul(growth) / U256::from(ACCUMULATOR_SCALE);
    u128::try_from(points).unwrap_or(u128::MAX)
}

fn earned(globals: &PointsGlobals, holding: &Holding) -> u128 {
    let account = &holding.points;
    let from_usdai = accrued(holding.usdai, globals.usdai_accumulator, account.usdai_snapshot);
    let from_susdai =
        accrued_wide(holding.susdai, globals.susdai_accumulator, account.susdai_snapshot);
    from_usdai.saturating_add(from_susdai)
}

/// Settles a holding's points at the current accumulators; the ledger calls this before the
/// holding's balances change.
pub fn settle_holding(globals: &PointsGlobals, holding: &mut Holding) {
    let earned = earned(globals, holding);
    holding.points = PointsAccount {
        settled: holding.points.settled.saturating_add(earned),
        usdai_snapshot: globals.usdai_accumulator,
        susdai_snapshot: globals.susdai_accumulator,
    };
}

/// `address`'s points now (18-decimal), settled plus pending.
pub fn points_of(state: &State, address: Address) -> u128 {
    match state.ledger.holdings.get(&address) {
        Some(holding) => {
            holding.points.settled.saturating_add(earned(state.points.globals.get(), holding))
        }
        None => 0,
    }
}

/// The maximum leaderboard page.
pub const LEADERBOARD_PAGE_MAX: usize = 1_000;

/// The `limit` (at most `LEADERBOARD_PAGE_MAX`) accounts with the most points, most first;
/// ties by address. Points accrue with time at each holding's own rate, so no order can be
/// kept between blocks: every holder is read (O(n)), but only the page is sorted (O(n +
/// limit log limit)); the order is total, so the page is the same as a full sort's.
pub fn leaderboard(state: &State, limit: usize) -> Vec<(Address, u128)> {
    let mut all: Vec<(Address, u128)> = state
        .ledger
        .holdings
        .iter()
        .map(|(address, _)| (*address, points_of(state, *address)))
        .collect();
    let most_first = |a: &(Address, u128), b: &(Address, u128)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
    let page = limit.min(LEADERBOARD_PAGE_MAX);
    if all.len() > page {
        all.select_nth_unstable_by(page, most_first);
        all.truncate(page);
    }
    all.sort_by(most_first);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_saturate_at_the_largest_count_and_never_wrap() {
        // The largest multiplier for the longest time a u64 clock allows.
        let growth = accumulator_growth(crate::params::POINTS_MULTIPLIER_MAX, u64::MAX);
        assert_eq!(growth, u128::MAX);
        assert_eq!(accrued(Amount(u128::MAX), u128::MAX, 0), u128::MAX);
        assert_eq!(accrued_wide(Amount(u128::MAX), U256::MAX, U256::ZERO), u128::MAX);
        let globals = PointsGlobals {
            usdai_accumulator: u128::MAX,
            susdai_accumulator: U256::MAX,
            ..PointsGlobals::default()
        };
        let mut holding = Holding { usdai: Amount(u128::MAX), ..Holding::default() };
        holding.points.settled = u128::MAX - 1;
        settle_holding(&globals, &mut holding);
        assert_eq!(holding.points.settled, u128::MAX);
        // Honest figures are exact: one whole USDai held a day at multiplier 5.
        let day = accumulator_growth(5, SECONDS_PER_DAY);
        assert_eq!(accrued(Amount(WAD), day, 0), 5 * WAD);
    }
}
