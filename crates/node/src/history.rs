//! History: figures of the committed state sampled at a fixed cadence of block time and kept in
//! the store beside the blocks, so that share prices, NAV, backing, queue depth, clearing
//! prices and points can be charted over days and months, and survive a restart.
//!
//! A block is sampled when its timestamp enters a new `interval`-long bucket of block time
//! (`timestamp / interval` grows), so samples sit on a regular grid whatever the block time,
//! and a devnet that jumps days ahead gets one sample per jump, not one per skipped bucket.
//! The sample is written in the block's own store transaction (see `infrafi_store`). Each
//! sample is a map from series name to an integer, so a series added later is simply absent
//! from older samples. Reading these figures is O(open loans) for NAV plus O(holders) for the
//! points total, once per interval (default five minutes), never per block.
//!
//! Two series are derived when read rather than stored: the realised APY over 7 and 30 days,
//! from the deposit share price now and at the latest sample at least that long before.

use infrafi_core::{Asset, ProtocolAccount, State, points, reserve, vault};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The default cadence of samples, in seconds of block time.
pub const HISTORY_INTERVAL_SECS_DEFAULT: u64 = 300;

/// What a series counts, for clients that format it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// USDai base units (10^-18).
    Usdai,
    /// sUSDai base units (10^-18).
    Susdai,
    /// A price per share in USDai, 18 decimals.
    PriceWad,
    /// Points, 18 decimals.
    Points,
    /// A plain count.
    Count,
    /// Basis points (may be negative).
    Bps,
}

/// One series: its name (the path segment of `GET /v1/history/{series}`), unit and meaning.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Series {
    /// The name.
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// What it is.
    pub description: &'static str,
    /// Whether it is computed when read (from `deposit_price`) rather than stored.
    pub derived: bool,
}

const fn stored(name: &'static str, unit: Unit, description: &'static str) -> Series {
    Series { name, unit, description, derived: false }
}

/// The realised APY series and the window each looks back over.
pub const REALISED_APY: [(&str, u64); 2] =
    [("realised_apy_7d", 7 * 86_400), ("realised_apy_30d", 30 * 86_400)];

/// Every series, stored ones first.
pub const SERIES: &[Series] = &[
    stored("deposit_price", Unit::PriceWad, "sUSDai deposit share price (optimistic NAV)"),
    stored("redemption_price", Unit::PriceWad, "sUSDai redemption share price (conservative NAV)"),
    stored("nav_optimistic", Unit::Usdai, "vault NAV pricing deposits"),
    stored("nav_conservative", Unit::Usdai, "vault NAV pricing redemptions"),
    stored("nav_idle", Unit::Usdai, "idle USDai in the vault (Genesis phase)"),
    stored("nav_deployed", Unit::Usdai, "senior principal deployed in loans (Expansion phase)"),
    stored("share_supply", Unit::Susdai, "sUSDai outstanding"),
    stored("usdai_supply", Unit::Usdai, "USDai outstanding"),
    stored("reserve_value", Unit::Usdai, "T-bill reserve value backing USDai"),
    stored("queue_locked_shares", Unit::Susdai, "sUSDai locked in redemption requests"),
    stored("queue_requests", Unit::Count, "redemption requests waiting or eligible"),
    stored("rounds", Unit::Count, "servicing rounds run"),
    stored("clearing_price", Unit::PriceWad, "clearing price of the latest round"),
    stored("clearing_price_ema", Unit::PriceWad, "moving average of the clearing price"),
    stored("points_total", Unit::Points, "points of every holder, settled and pending"),
    Series {
        name: REALISED_APY[0].0,
        unit: Unit::Bps,
        description: "annualised growth of the deposit price over the last 7 days",
        derived: true,
    },
    Series {
        name: REALISED_APY[1].0,
        unit: Unit::Bps,
        description: "annualised growth of the deposit price over the last 30 days",
        derived: true,
    },
];

/// The series named `name`.
pub fn series(name: &str) -> Option<&'static Series> {
    SERIES.iter().find(|s| s.name == name)
}

/// One sample: the block it was read at and the value of each stored series.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// The block height.
    pub height: u64,
    /// The block timestamp.
    pub timestamp: u64,
    /// Series name to value; a series with no value yet (no round run) is absent.
    pub values: BTreeMap<String, u128>,
}

impl Sample {
    /// Its stored encoding (postcard).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("a sample always encodes")
    }

    /// Decodes a stored sample.
    pub fn decode(bytes: &[u8]) -> Result<Sample, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}

/// Whether a block at `timestamp` is sampled, given the last sample's time.
pub fn is_due(last_sample_at: Option<u64>, timestamp: u64, interval_secs: u64) -> bool {
    assert!(interval_secs > 0, "the history interval must be positive");
    last_sample_at.is_none_or(|last| timestamp / interval_secs > last / interval_secs)
}

/// Reads every stored series off `state` (after the block at `height`).
pub fn sample(state: &State, height: u64) -> Sample {
    let nav = vault::nav(state);
    // A reserve whose value no longer fits 128 bits is not sampled (the node's block
    // invariants halt it before such a block commits); never a clamped figure.
    let backing = reserve::backing(state).ok();
    let queue = &state.queue;
    let mut values = BTreeMap::new();
    let mut put = |name: &str, value: u128| {
        debug_assert!(series(name).is_some_and(|s| !s.derived), "{name} is not a stored series");
        values.insert(name.to_string(), value);
    };
    put("deposit_price", nav.deposit_price_wad());
    put("redemption_price", nav.redemption_price_wad());
    put("nav_optimistic", nav.optimistic.0);
    put("nav_conservative", nav.conservative.0);
    put("nav_idle", nav.unallocated.0);
    put("nav_deployed", nav.senior_principal.0);
    put("share_supply", nav.share_supply.0);
    if let Some(backing) = &backing {
        put("usdai_supply", backing.usdai_supply.0);
        put("reserve_value", backing.reserve_value.0);
    }
    put("queue_locked_shares", state.ledger.balance(ProtocolAccount::QueueEscrow, Asset::Susdai).0);
    put("queue_requests", (queue.eligible.len() + queue.waiting.len()) as u128);
    put("rounds", u128::from(queue.globals.get().rounds));
    if let Some((_, round)) = queue.rounds.iter().next_back() {
        put("clearing_price", round.clearing_price_wad);
        put("clearing_price_ema", round.clearing_price_ema_wad);
    }
    let points_total = state
        .ledger
        .holdings
        .iter()
        .map(|(address, _)| points::points_of(state, *address))
        .fold(0u128, u128::saturating_add);
    put("points_total", points_total);
    Sample { height, timestamp: state.now(), values }
}

/// The annualised growth, in basis points, of a share price from `then` to `now` (each a
/// `(timestamp, price_wad)`): `(now / then)^(year / elapsed) - 1`. `None` when no time passed
/// or a price is zero. Floating point is fine here: it is a figure for people, computed when
/// read, never part of the state.
pub fn realised_apy_bps(then: (u64, u128), now: (u64, u128)) -> Option<i64> {
    let elapsed = now.0.checked_sub(then.0).filter(|e| *e > 0)?;
    if then.1 == 0 || now.1 == 0 {
        return None;
    }
    let growth = now.1 as f64 / then.1 as f64;
    let years = elapsed as f64 / 31_536_000.0;
    let apy = growth.powf(1.0 / years) - 1.0;
    apy.is_finite().then(|| (apy * 10_000.0).round() as i64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;

    #[test]
    fn a_sample_is_due_once_per_bucket_of_block_time() {
        assert!(is_due(None, 1_000, 300));
        assert!(!is_due(Some(900), 1_199, 300));
        assert!(is_due(Some(900), 1_200, 300));
        // A jump of days gives one sample, not one per skipped bucket.
        assert!(is_due(Some(1_200), 1_200 + 86_400 * 29, 300));
        assert!(!is_due(Some(1_200), 1_200, 300));
    }

    #[test]
    fn the_realised_apy_of_one_percent_a_month_compounds_to_about_twelve_point_seven() {
        let wad = 1_000_000_000_000_000_000u128;
        let month = 31_536_000 / 12;
        let apy = realised_apy_bps((0, wad), (month, wad + wad / 100)).unwrap();
        assert!((1_267..=1_269).contains(&apy), "{apy}");
        assert_eq!(realised_apy_bps((5, wad), (5, wad)), None);
        assert_eq!(realised_apy_bps((0, 0), (5, wad)), None);
        assert!(realised_apy_bps((0, wad), (month, wad - wad / 100)).unwrap() < 0);
    }

    #[test]
    fn a_sample_round_trips_through_its_encoding() {
        let mut values = BTreeMap::new();
        values.insert("deposit_price".to_string(), u128::MAX);
        let sample = Sample { height: 7, timestamp: 9, values };
        assert_eq!(Sample::decode(&sample.encode()).unwrap(), sample);
    }

    #[test]
    fn every_series_name_is_unique() {
        let mut names: Vec<&str> = SERIES.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SERIES.len());
    }
}
