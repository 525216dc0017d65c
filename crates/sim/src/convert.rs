//! The boundary between the models' floats and the protocol's exact integers.
//!
//! Rounding, stated once:
//! - a USD figure becomes an [`Amount`] by rounding **down** to a micro-dollar (10^-6 USD),
//!   then scaling exactly to 18 decimals; negative, NaN and infinite values become zero, and
//!   values above 10^15 USD saturate. Micro-dollars are far below any figure the reports show,
//!   and rounding down never lets a model report more proceeds than it computed;
//! - an APR becomes a per-second [`Rate`] as the protocol does (`Rate::from_apr_bps`): rounded
//!   down to a hundredth of a basis point first, then down to 10^-18 per second;
//! - an [`Amount`] read back as USD is exact to 10^-18 before the conversion to `f64` (which
//!   keeps 15-16 significant digits).

use infrafi_core::{Amount, Rate, WAD, math::SECONDS_PER_YEAR};

/// Micro-dollars per USD.
const MICROS_PER_USD: f64 = 1e6;
/// 18-decimal units per micro-dollar.
const UNITS_PER_MICRO: u128 = WAD / 1_000_000;
/// The largest USD figure converted (10^15 USD).
const USD_MAX: f64 = 1e15;

/// `usd` as an amount, rounded down to a micro-dollar.
pub fn usd_to_amount(usd: f64) -> Amount {
    if !(usd.is_finite() && usd > 0.0) {
        return Amount::ZERO;
    }
    let micros = (usd.min(USD_MAX) * MICROS_PER_USD).floor() as u128;
    Amount(micros * UNITS_PER_MICRO)
}

/// An amount in USD.
pub fn amount_to_usd(amount: Amount) -> f64 {
    let whole = amount.0 / WAD;
    let fraction = amount.0 % WAD;
    whole as f64 + fraction as f64 / WAD as f64
}

/// An 18-decimal fixed-point ratio as a float.
pub fn wad_to_f64(value: u128) -> f64 {
    amount_to_usd(Amount(value))
}

/// An APR (0.045 = 4.5%) as the per-second rate the oracle posts, rounded down.
pub fn apr_to_rate(apr: f64) -> Rate {
    if !(apr.is_finite() && apr > 0.0) {
        return Rate(0);
    }
    // A hundredth of a basis point, rounded down (the 1e-7 guards against 0.045 * 1e6 landing
    // just below 45,000 in binary), then exactly as `Rate::from_apr_bps`.
    let centi_bps = (apr * 1e6 + 1e-7).floor() as u128;
    Rate(centi_bps * WAD / (1_000_000 * u128::from(SECONDS_PER_YEAR)))
}

/// A basis-point figure as a fraction.
pub fn bps(value: u32) -> f64 {
    f64::from(value) / 1e4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_rounds_down_to_the_micro_dollar_and_clamps_nonsense_to_zero() {
        assert_eq!(usd_to_amount(1.0), Amount(WAD));
        assert_eq!(usd_to_amount(1.000_000_9), Amount(WAD));
        assert_eq!(usd_to_amount(0.000_001), Amount(WAD / 1_000_000));
        assert_eq!(usd_to_amount(-5.0), Amount::ZERO);
        assert_eq!(usd_to_amount(f64::NAN), Amount::ZERO);
        assert_eq!(amount_to_usd(usd_to_amount(1234.5)), 1234.5);
    }

    #[test]
    fn an_apr_converts_like_the_protocols_own_bps_conversion() {
        assert_eq!(apr_to_rate(0.045), Rate::from_apr_bps(450));
        assert_eq!(apr_to_rate(0.12), Rate::from_apr_bps(1200));
        assert_eq!(apr_to_rate(-0.01), Rate(0));
    }
}
