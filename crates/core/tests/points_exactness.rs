//! Points (SPEC 12) are computed lazily from two global accumulators; this checks them against
//! an independent reference: the exact rational sum, over every interval during which the state
//! time moved, of each holder's balances at the start of the interval times its length:
//!
//! ```text
//! points = sum over intervals of
//!     usdai  * usdai_multiplier  * seconds / 86,400
//!   + susdai * susdai_multiplier * seconds / 86,400 * redemption_price / 10^18
//! ```
//!
//! with the balances, multipliers and redemption price read from the state at the end of the
//! last transaction before the interval. The reference knows nothing of accumulators, samples
//! or settlement; it only reads balances and the vault's NAV.
//!
//! Rounding bound (all roundings are down, so lazy <= exact):
//! - each settlement floors two products (USDai and sUSDai): < 2 units, and reading the points
//!   at the end is one more such settlement;
//! - each accumulator advance floors the USDai growth per token unit (< 1 accumulator unit,
//!   10^-27 points per token unit) and the sUSDai growth twice (< 1 + price/10^18 units); a
//!   holder with balances u and s loses < (u + s * (1 + price/10^18)) / 10^27 points units per
//!   advance.
//!
//! So `exact - lazy < 2 * (settlements + 1) + sum over advances of that`, which for ordinary
//! balances (below 10^27 units, a billion tokens) is about 2 units per settlement plus 1-3
//! units per block.

use alloy_primitives::U256;
use infrafi_core::{
    Account, Asset, BlockContext, Event, State, WAD, action::DonateToVault, apply, begin_block,
    points, points::ACCUMULATOR_SCALE, vault,
};
use infrafi_testkit::market::DAY;
use infrafi_testkit::workload::{self, ACTORS, Step, next_block, steps};
use proptest::prelude::*;

/// The reference's view of one holder.
#[derive(Clone, Default)]
struct Reference {
    /// The exact points, times 86,400 * 10^18.
    scaled_exact: U256,
    /// Balance changes (each settles the holder's points once).
    settlements: u64,
    /// The accumulator-rounding part of the bound, in points units.
    advance_error: U256,
}

/// What the reference reads from the state after each transaction.
struct Snapshot {
    time: u64,
    balances: Vec<(u128, u128)>,
    price_wad: u128,
    usdai_multiplier: u128,
    susdai_multiplier: u128,
}

fn snapshot(state: &State) -> Snapshot {
    let params = state.governance.params.get();
    Snapshot {
        time: state.now(),
        balances: ACTORS
            .iter()
            .map(|&actor| {
                (
                    state.ledger.balance(actor, Asset::Usdai).0,
                    state.ledger.balance(actor, Asset::Susdai).0,
                )
            })
            .collect(),
        price_wad: vault::nav(state).redemption_price_wad(),
        usdai_multiplier: u128::from(params.usdai_points_multiplier),
        susdai_multiplier: u128::from(params.susdai_points_multiplier),
    }
}

/// Adds the interval from `before.time` to `now` to every holder's reference.
fn accrue(references: &mut [Reference], before: &Snapshot, now: u64) {
    if now == before.time {
        return;
    }
    let seconds = U256::from(now - before.time);
    let wad = U256::from(WAD);
    let price = U256::from(before.price_wad);
    for (reference, &(usdai, susdai)) in references.iter_mut().zip(&before.balances) {
        let (usdai, susdai) = (U256::from(usdai), U256::from(susdai));
        reference.scaled_exact += usdai * U256::from(before.usdai_multiplier) * seconds * wad
            + susdai * U256::from(before.susdai_multiplier) * seconds * price;
        let lost = usdai + susdai * (wad + price) / wad;
        reference.advance_error += lost.div_ceil(U256::from(ACCUMULATOR_SCALE));
    }
}

/// Counts the balance changes of each holder's USDai and sUSDai in `events`.
fn count_settlements(references: &mut [Reference], events: &[Event]) {
    let earns = |asset: &Asset| matches!(asset, Asset::Usdai | Asset::Susdai);
    for event in events {
        let touched: Vec<Account> = match event {
            Event::Transferred { asset, from, to, .. } if earns(asset) => vec![*from, *to],
            Event::Minted { asset, to, .. } if earns(asset) => vec![*to],
            Event::Burned { asset, from, .. } if earns(asset) => vec![*from],
            _ => vec![],
        };
        for account in touched {
            if let Some(index) = ACTORS.iter().position(|&a| Account::User(a) == account) {
                references[index].settlements += 1;
            }
        }
    }
}

fn check(state: &State, references: &[Reference]) -> Result<(), TestCaseError> {
    let scale = U256::from(DAY) * U256::from(WAD);
    for (&actor, reference) in ACTORS.iter().zip(references) {
        let lazy = U256::from(points::points_of(state, actor));
        prop_assert!(
            lazy * scale <= reference.scaled_exact,
            "{}: lazy {} exceeds the exact {}",
            actor,
            lazy,
            reference.scaled_exact / scale
        );
        let bound = U256::from(2 * (reference.settlements + 1)) + reference.advance_error;
        let shortfall = (reference.scaled_exact - lazy * scale) / scale;
        prop_assert!(
            shortfall < bound,
            "{}: lazy {} is {} short of the exact sum; bound {} ({} settlements)",
            actor,
            lazy,
            shortfall,
            bound,
            reference.settlements
        );
    }
    Ok(())
}

fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let (mut state, mut block, _) = workload::start();
    let mut references = vec![Reference::default(); ACTORS.len()];
    let mut before = snapshot(&state);
    for step in steps {
        block = next_block(block, step);
        if step.upkeep_first {
            begin_block(&mut state, &block).expect("time only moves forward here");
        }
        let tx = step.transaction(&state);
        if let Ok(events) = apply(&mut state, &block, &tx) {
            count_settlements(&mut references, &events);
        }
        accrue(&mut references, &before, state.now());
        before = snapshot(&state);
        check(&state, &references)?;
    }
    // A final quiet week, read at its end.
    let end = BlockContext { height: block.height + 1, timestamp: state.now() + 7 * DAY };
    begin_block(&mut state, &end).expect("time moves forward");
    accrue(&mut references, &before, state.now());
    check(&state, &references)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn lazy_points_equal_an_independent_sum_over_the_balance_history(steps in steps(100..300)) {
        run(&steps)?;
    }
}

/// Regression: the sUSDai accumulator was a `u128` of points per share *unit* x 10^27, and it
/// grows with the price of a unit. After the inflation-attack set-up (one unit staked, then
/// 1,000 USDai donated), a unit is worth ~10^12 times more than at launch and a week of growth
/// (about 1.4e40) no longer fit: the accumulator saturated at `u128::MAX` and every holder's
/// sUSDai points stopped for good. It is 256 bits wide now.
#[test]
fn susdai_points_keep_accruing_when_a_share_unit_is_worth_a_fortune() {
    use infrafi_core::Action;
    use infrafi_testkit::market::{ALICE, DAVE, Market, whole};
    let mut market = Market::new();
    market.mint(DAVE, whole(1_001));
    market.mint(ALICE, whole(1_000_000));
    market.stake(DAVE, infrafi_core::Amount(1));
    market.ok(DAVE, Action::DonateToVault(DonateToVault { amount: whole(1_000) }));
    market.stake(ALICE, whole(1_000_000));
    let shares = market.susdai(ALICE).0;
    let price = vault::nav(&market.state).redemption_price_wad();
    // (1,000e18 + 1 + V) / (1 + V) USDai units per share unit: ~10^12 (a wad price of ~10^30).
    assert!(price > 999_000_000_000 * WAD, "a share unit is worth ~10^12 USDai units");
    let before = points::points_of(&market.state, ALICE);
    market.advance(7 * DAY);
    market.begin_block();
    // A week at 2x: growth per share unit = floor(floor(2 x 604,800 x 10^27 / 86,400) x price
    // / 10^18) = floor(14 x 10^27 x price / 10^18); points = floor(shares x growth / 10^27),
    // the value of Alice's shares (just under 1,000,000 USDai) x 14 = ~14,000,000 points.
    let growth = U256::from(14u128 * ACCUMULATOR_SCALE) * U256::from(price) / U256::from(WAD);
    let expected = U256::from(shares) * growth / U256::from(ACCUMULATOR_SCALE);
    let earned = points::points_of(&market.state, ALICE) - before;
    assert_eq!(U256::from(earned), expected);
    assert!(earned > 13_999_000 * WAD && earned < 14_000_000 * WAD);
}
