//! Exact money: 18-decimal fixed point, full-width multiply-divide, stated rounding.
//!
//! Every amount is a `u128` count of 10^-18 units. Every multiply-then-divide goes through
//! [`mul_div`] with a 256-bit intermediate, so no product of two amounts below 2^128 overflows,
//! and every call names its [`Rounding`]. The protocol's rule: what a user receives rounds
//! down, what a user owes rounds up.

use alloy_primitives::{U256, U512};
use serde::{Deserialize, Serialize};
use std::fmt;

/// 10^18: one whole token, and 1.0 in every fixed-point ratio.
pub const WAD: u128 = 1_000_000_000_000_000_000;
/// Basis points in one whole (100%).
pub const BPS_DENOMINATOR: u128 = 10_000;
/// Seconds in a year: the spec's year is 365 days.
pub const SECONDS_PER_YEAR: u64 = 365 * SECONDS_PER_DAY;
/// Seconds in a day.
pub const SECONDS_PER_DAY: u64 = 86_400;

/// The direction in which a division drops its remainder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Towards zero: for what a user receives.
    Down,
    /// Away from zero: for what a user owes.
    Up,
}

/// An arithmetic result that does not fit: a result code, never a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

/// `a * b / denominator` with a 256-bit intermediate and the stated rounding.
///
/// Returns [`Overflow`] when the denominator is zero or the quotient exceeds `u128`.
pub fn mul_div(a: u128, b: u128, denominator: u128, rounding: Rounding) -> Result<u128, Overflow> {
    if denominator == 0 {
        return Err(Overflow);
    }
    // a·d/d = a exactly: a ratio of two equal indices (a valuation's class index when no
    // step-down came since) or a scale of one.
    if b == denominator {
        return Ok(a);
    }
    // Fast path: most products of protocol amounts fit in 128 bits.
    if let Some(product) = a.checked_mul(b) {
        let quotient = product / denominator;
        let remainder = product % denominator;
        return match rounding {
            Rounding::Up if remainder != 0 => quotient.checked_add(1).ok_or(Overflow),
            _ => Ok(quotient),
        };
    }
    // A quotient that does not fit 128 bits is an overflow either way.
    let (quotient, remainder) = wide_div(wide_mul(a, b), denominator).ok_or(Overflow)?;
    match rounding {
        Rounding::Up if remainder != 0 => quotient.checked_add(1).ok_or(Overflow),
        _ => Ok(quotient),
    }
}

/// The 256-bit product `a * b` as (high, low) 128-bit halves.
fn wide_mul(a: u128, b: u128) -> (u128, u128) {
    const LOW: u128 = u64::MAX as u128;
    let (a_high, a_low) = (a >> 64, a & LOW);
    let (b_high, b_low) = (b >> 64, b & LOW);
    // Each partial product of two 64-bit halves fits 128 bits.
    let low_low = a_low * b_low;
    let high_low = a_high * b_low;
    let low_high = a_low * b_high;
    let high_high = a_high * b_high;
    // The middle column: at most 3 x (2^64 - 1), so it fits.
    let middle = (low_low >> 64) + (high_low & LOW) + (low_high & LOW);
    let low = (middle << 64) | (low_low & LOW);
    let high = high_high + (high_low >> 64) + (low_high >> 64) + (middle >> 64);
    (high, low)
}

/// The 256-bit `(high, low)` divided by a non-zero `divisor`: `(quotient, remainder)`, or
/// `None` when the quotient does not fit 128 bits (`high >= divisor`). Long division in
/// 64-bit digits with a normalised divisor (Knuth's algorithm D for two quotient digits, as
/// in Hacker's Delight's `divlu`): a few 128-bit operations instead of a general 256-bit
/// division.
fn wide_div((high, low): (u128, u128), divisor: u128) -> Option<(u128, u128)> {
    const BASE: u128 = 1 << 64;
    const LOW: u128 = u64::MAX as u128;
    if high >= divisor {
        return None;
    }
    if high == 0 {
        return Some((low / divisor, low % divisor));
    }
    // Normalise: the divisor's top bit set (high < divisor, so high is shifted without loss).
    let shift = divisor.leading_zeros();
    let divisor = divisor << shift;
    let (divisor_high, divisor_low) = (divisor >> 64, divisor & LOW);
    let numerator_high = match shift {
        0 => high,
        _ => (high << shift) | (low >> (128 - shift)),
    };
    let numerator_low = low << shift;
    let (low_digit_1, low_digit_0) = (numerator_low >> 64, numerator_low & LOW);
    // Each quotient digit: estimated from the top digits, corrected at most twice.
    let digit = |top: u128, next: u128| -> u128 {
        let mut quotient = top / divisor_high;
        let mut remainder = top - quotient * divisor_high;
        while quotient >= BASE || quotient * divisor_low > (remainder << 64) + next {
            quotient -= 1;
            remainder += divisor_high;
            if remainder >= BASE {
                break;
            }
        }
        quotient
    };
    let quotient_1 = digit(numerator_high, low_digit_1);
    // The partial remainder fits 128 bits; the wrapping arithmetic is exact modulo 2^128.
    let partial = (numerator_high << 64)
        .wrapping_add(low_digit_1)
        .wrapping_sub(quotient_1.wrapping_mul(divisor));
    let quotient_0 = digit(partial, low_digit_0);
    let remainder =
        (partial << 64).wrapping_add(low_digit_0).wrapping_sub(quotient_0.wrapping_mul(divisor));
    Some(((quotient_1 << 64) | quotient_0, remainder >> shift))
}

/// `a * b / denominator` with a 512-bit intermediate for a 256-bit `b` (a weight such as
/// principal x rate summed over tranches) and the stated rounding.
///
/// Returns [`Overflow`] when the denominator is zero or the quotient exceeds `u128`.
pub fn mul_div_wide(
    a: u128,
    b: U256,
    denominator: U256,
    rounding: Rounding,
) -> Result<u128, Overflow> {
    if denominator.is_zero() {
        return Err(Overflow);
    }
    // Principal x rate weights of real loans fit 128 bits: the 256-bit path is much cheaper
    // than a 512-bit division, and exact all the same.
    if let (Ok(b), Ok(denominator)) = (u128::try_from(b), u128::try_from(denominator)) {
        return mul_div(a, b, denominator, rounding);
    }
    let (quotient, remainder) = (U512::from(a) * U512::from(b)).div_rem(U512::from(denominator));
    let quotient = match rounding {
        Rounding::Up if !remainder.is_zero() => quotient + U512::from(1u8),
        _ => quotient,
    };
    u128::try_from(quotient).map_err(|_| Overflow)
}

/// `a * b / c` where the numerator and the comparison happen in 256 bits; see [`mul_div`].
pub fn mul_div_down(a: u128, b: u128, denominator: u128) -> Result<u128, Overflow> {
    mul_div(a, b, denominator, Rounding::Down)
}

/// `a * b / c` rounded up; see [`mul_div`].
pub fn mul_div_up(a: u128, b: u128, denominator: u128) -> Result<u128, Overflow> {
    mul_div(a, b, denominator, Rounding::Up)
}

/// `a * b / denominator` rounded down, with the remainder (`a * b mod denominator`), through a
/// 256-bit intermediate. The remainder lets a caller account for the dust a floor drops.
pub fn mul_div_remainder(a: u128, b: u128, denominator: u128) -> Result<(u128, u128), Overflow> {
    if denominator == 0 {
        return Err(Overflow);
    }
    if let Some(product) = a.checked_mul(b) {
        return Ok((product / denominator, product % denominator));
    }
    wide_div(wide_mul(a, b), denominator).ok_or(Overflow)
}

/// A quantity of one asset in 10^-18 units. Arithmetic is checked: overflow is a value.
///
/// Encoding: a `u128` in binary formats (postcard); a string of base units in human-readable
/// ones (JSON: `"1250500000000000000000"`), which also accept a plain integer. Strings keep
/// amounts above 2^53 exact in JavaScript, and let internally tagged enums ([`crate::Action`],
/// [`crate::Event`]) carry amounts above 2^64 through serde's buffering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub u128);

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        u128_serde::serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Amount, D::Error> {
        u128_serde::deserialize(deserializer).map(Amount)
    }
}

/// As JSON carries it: a string of base units (what [`u128_serde`] writes).
impl schemars::JsonSchema for Amount {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Amount".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]{1,39}$",
            "description": "An amount in base units (10^-18), a string of digits.",
        })
    }
}

/// Serde for every `u128` the protocol publishes (amounts, prices, indices, rates): a `u128`
/// in binary formats (postcard), a string of digits in human-readable ones (JSON), which also
/// accept a plain integer. Use with `#[serde(with = "crate::math::u128_serde")]`.
///
/// Why strings: JavaScript loses integers above 2^53, and serde's internally tagged enums
/// ([`crate::Action`], [`crate::Event`]) buffer values in a form that rejects `u128`
/// outright ("u128 is not supported"), whatever its size.
pub mod u128_serde {
    use serde::{Deserializer, Serializer};
    use std::fmt;

    /// Serializes `value` as described in the module.
    pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(value)
        } else {
            serializer.serialize_u128(*value)
        }
    }

    /// Deserializes what [`serialize`] writes (and plain JSON integers).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = u128;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer in base units: a string of digits or an integer")
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<u128, E> {
                Ok(u128::from(value))
            }
            fn visit_u128<E: serde::de::Error>(self, value: u128) -> Result<u128, E> {
                Ok(value)
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<u128, E> {
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 39 {
                    return Err(E::custom("expected a string of at most 39 digits"));
                }
                text.parse().map_err(|_| E::custom("integer too large"))
            }
        }
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(Visitor)
        } else {
            deserializer.deserialize_u128(Visitor)
        }
    }
}

impl Amount {
    /// Nothing.
    pub const ZERO: Amount = Amount(0);
    /// The largest representable amount.
    pub const MAX: Amount = Amount(u128::MAX);

    /// `whole` tokens (`whole * 10^18` units). Panics on overflow: for constants and tests.
    pub const fn from_whole(whole: u128) -> Amount {
        match whole.checked_mul(WAD) {
            Some(units) => Amount(units),
            None => panic!("whole token amount overflows"),
        }
    }

    /// The raw unit count.
    pub const fn units(self) -> u128 {
        self.0
    }

    /// Whether this is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, or [`Overflow`].
    pub fn checked_add(self, other: Amount) -> Result<Amount, Overflow> {
        self.0.checked_add(other.0).map(Amount).ok_or(Overflow)
    }

    /// `self - other`, or [`Overflow`] when `other` is larger.
    pub fn checked_sub(self, other: Amount) -> Result<Amount, Overflow> {
        self.0.checked_sub(other.0).map(Amount).ok_or(Overflow)
    }

    /// `self - other`, floored at zero.
    pub fn saturating_sub(self, other: Amount) -> Amount {
        Amount(self.0.saturating_sub(other.0))
    }

    /// The smaller of two amounts.
    pub fn min(self, other: Amount) -> Amount {
        Amount(self.0.min(other.0))
    }

    /// `self * numerator / denominator` with the stated rounding.
    pub fn mul_div(
        self,
        numerator: u128,
        denominator: u128,
        rounding: Rounding,
    ) -> Result<Amount, Overflow> {
        mul_div(self.0, numerator, denominator, rounding).map(Amount)
    }

    /// `self * bps / 10_000` with the stated rounding.
    pub fn mul_bps(self, bps: Bps, rounding: Rounding) -> Result<Amount, Overflow> {
        self.mul_div(u128::from(bps.0), BPS_DENOMINATOR, rounding)
    }

    /// `self * ratio / 10^18` with the stated rounding (`ratio` is a fixed-point price or index).
    pub fn mul_wad(self, ratio: u128, rounding: Rounding) -> Result<Amount, Overflow> {
        self.mul_div(ratio, WAD, rounding)
    }

    /// `self * 10^18 / ratio` with the stated rounding.
    pub fn div_wad(self, ratio: u128, rounding: Rounding) -> Result<Amount, Overflow> {
        self.mul_div(WAD, ratio, rounding)
    }

    /// Parses a decimal string with at most 18 fractional digits ("1250.5").
    pub fn parse_decimal(text: &str) -> Result<Amount, ParseAmountError> {
        parse_decimal_units(text).map(Amount)
    }
}

impl fmt::Display for Amount {
    /// Formats as a decimal with 18 fractional digits, e.g. `1250.500000000000000000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:018}", self.0 / WAD, self.0 % WAD)
    }
}

/// Why a decimal string is not an amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseAmountError {
    /// Empty, or a character other than digits and one dot.
    NotADecimal,
    /// More than 18 digits after the dot.
    TooManyDecimals,
    /// Larger than `u128` units.
    TooLarge,
}

impl fmt::Display for ParseAmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseAmountError::NotADecimal => "not a decimal number",
            ParseAmountError::TooManyDecimals => "more than 18 digits after the decimal point",
            ParseAmountError::TooLarge => "amount too large",
        })
    }
}

impl std::error::Error for ParseAmountError {}

/// Parses a non-negative decimal into 10^-18 units, exactly (no float).
pub fn parse_decimal_units(text: &str) -> Result<u128, ParseAmountError> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(ParseAmountError::NotADecimal);
    }
    if fraction.len() > 18 {
        return Err(ParseAmountError::TooManyDecimals);
    }
    let whole: u128 =
        if whole.is_empty() { 0 } else { whole.parse().map_err(|_| ParseAmountError::TooLarge)? };
    let mut fraction_units: u128 = 0;
    for (index, digit) in fraction.bytes().enumerate() {
        fraction_units += u128::from(digit - b'0') * 10u128.pow(17 - index as u32);
    }
    whole
        .checked_mul(WAD)
        .and_then(|units| units.checked_add(fraction_units))
        .ok_or(ParseAmountError::TooLarge)
}

/// Basis points: 1/10,000. Used for fees and ratios in parameters.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct Bps(pub u32);

impl Bps {
    /// 100%.
    pub const ONE: Bps = Bps(10_000);

    /// Whether the value is a share of a whole (at most 10,000).
    pub const fn is_fraction(self) -> bool {
        self.0 <= 10_000
    }
}

/// A per-second rate in 18-decimal fixed point (15% APR = 0.15 / 31,536,000 * 10^18).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Rate(#[serde(with = "u128_serde")] pub u128);

impl Rate {
    /// The per-second rate of an annual rate in basis points, rounded down (SPEC 2).
    pub fn from_apr_bps(apr_bps: u32) -> Rate {
        // apr_bps * 10^18 / (10^4 * 31,536,000): fits u128 for any u32 input.
        Rate(u128::from(apr_bps) * WAD / (BPS_DENOMINATOR * u128::from(SECONDS_PER_YEAR)))
    }

    /// The annual rate in basis points, rounded down (for display).
    pub fn to_apr_bps(self) -> u128 {
        self.0.saturating_mul(u128::from(SECONDS_PER_YEAR)).saturating_mul(BPS_DENOMINATOR) / WAD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_rounds_in_the_stated_direction() {
        assert_eq!(mul_div(10, 1, 3, Rounding::Down), Ok(3));
        assert_eq!(mul_div(10, 1, 3, Rounding::Up), Ok(4));
        assert_eq!(mul_div(9, 1, 3, Rounding::Up), Ok(3));
        assert_eq!(mul_div(1, 1, 0, Rounding::Down), Err(Overflow));
    }

    #[test]
    fn mul_div_wide_divides_a_256_bit_weight_in_the_stated_direction() {
        let weight = U256::from(u128::MAX) * U256::from(3u8);
        let denominator = U256::from(u128::MAX) * U256::from(2u8);
        assert_eq!(mul_div_wide(10, weight, denominator, Rounding::Down), Ok(15));
        assert_eq!(mul_div_wide(11, weight, denominator, Rounding::Down), Ok(16));
        assert_eq!(mul_div_wide(11, weight, denominator, Rounding::Up), Ok(17));
        // Within 128 bits it agrees with `mul_div`.
        let narrow = mul_div(7, 10, 3, Rounding::Up);
        assert_eq!(mul_div_wide(7, U256::from(10u8), U256::from(3u8), Rounding::Up), narrow);
        assert_eq!(mul_div_wide(1, U256::MAX, U256::from(1u8), Rounding::Down), Err(Overflow));
        assert_eq!(mul_div_wide(1, U256::from(1u8), U256::ZERO, Rounding::Down), Err(Overflow));
    }

    #[test]
    fn mul_div_uses_a_full_width_intermediate() {
        let big = u128::MAX / 2;
        assert_eq!(mul_div(big, 6, 3, Rounding::Down), Ok(big * 2));
        assert_eq!(mul_div(u128::MAX, u128::MAX, u128::MAX, Rounding::Up), Ok(u128::MAX));
        assert_eq!(mul_div(u128::MAX, 2, 1, Rounding::Down), Err(Overflow));
        // (2^127 + 1) * 3 / 2 rounds up past the exact half.
        let odd = (1u128 << 127) + 1;
        assert_eq!(mul_div(odd, 3, 4, Rounding::Down), Ok(odd / 4 * 3 + (odd % 4) * 3 / 4));
    }

    #[test]
    fn apr_converts_to_a_per_second_rate_rounded_down() {
        // 15% APR: 0.15 / 31,536,000 * 10^18 = 4,756,468,797.5646... -> 4,756,468,797.
        assert_eq!(Rate::from_apr_bps(1_500), Rate(4_756_468_797));
        assert_eq!(Rate::from_apr_bps(1_500).to_apr_bps(), 1_499);
    }

    #[test]
    fn decimals_parse_exactly_and_reject_garbage() {
        assert_eq!(Amount::parse_decimal("1250.5"), Ok(Amount(1_250_500_000_000_000_000_000)));
        assert_eq!(Amount::parse_decimal("0.000000000000000001"), Ok(Amount(1)));
        assert_eq!(Amount::parse_decimal(".5"), Ok(Amount(WAD / 2)));
        assert_eq!(Amount::parse_decimal("1e5"), Err(ParseAmountError::NotADecimal));
        assert_eq!(Amount::parse_decimal("-1"), Err(ParseAmountError::NotADecimal));
        assert_eq!(Amount::parse_decimal(""), Err(ParseAmountError::NotADecimal));
        assert_eq!(
            Amount::parse_decimal("0.0000000000000000001"),
            Err(ParseAmountError::TooManyDecimals)
        );
        assert_eq!(Amount(1_250_500_000_000_000_000_000).to_string(), "1250.500000000000000000");
    }

    proptest::proptest! {
        #[test]
        fn the_wide_product_and_division_equal_256_bit_arithmetic(
            a in proptest::prop_oneof![0u128..=u128::MAX, 0u128..=u64::MAX as u128, (u128::MAX - 1_000)..=u128::MAX],
            b in proptest::prop_oneof![0u128..=u128::MAX, 1u128..=10u128.pow(30), (u128::MAX - 1_000)..=u128::MAX],
            d in proptest::prop_oneof![
                1u128..=u128::MAX, 1u128..=u64::MAX as u128, (1u128 << 64)..=(1u128 << 70),
                (u128::MAX - 1_000)..=u128::MAX, proptest::strategy::Just(WAD)
            ]
        ) {
            let product = U256::from(a) * U256::from(b);
            let (high, low) = wide_mul(a, b);
            proptest::prop_assert_eq!((U256::from(high) << 128) + U256::from(low), product);
            let (quotient, remainder) = product.div_rem(U256::from(d));
            let expected = u128::try_from(quotient).ok().map(|q| (q, u128::try_from(remainder).expect("below d")));
            proptest::prop_assert_eq!(wide_div((high, low), d), expected);
        }

        #[test]
        fn mul_div_remainder_reassembles_the_product(
            a in 0u128..=u128::MAX, b in 0u128..=u128::MAX, d in 1u128..=u128::MAX
        ) {
            if let Ok((quotient, remainder)) = mul_div_remainder(a, b, d) {
                proptest::prop_assert!(remainder < d);
                proptest::prop_assert_eq!(
                    U256::from(quotient) * U256::from(d) + U256::from(remainder),
                    U256::from(a) * U256::from(b)
                );
                proptest::prop_assert_eq!(Ok(quotient), mul_div(a, b, d, Rounding::Down));
            }
        }

        #[test]
        fn mul_div_of_amounts_by_rates_equals_the_full_width_quotient(
            a in 0u128..=10u128.pow(34), b in 0u128..=10u128.pow(22),
            d in proptest::prop_oneof![
                proptest::strategy::Just(WAD), proptest::strategy::Just(10_000u128),
                1u128..=10u128.pow(24)
            ],
            up in proptest::bool::ANY
        ) {
            // Amounts times rates: products on both sides of 2^128.
            let product = U256::from(a) * U256::from(b);
            let (quotient, remainder) = product.div_rem(U256::from(d));
            let expected = if up && !remainder.is_zero() { quotient + U256::from(1u8) } else { quotient };
            let rounding = if up { Rounding::Up } else { Rounding::Down };
            let expected = u128::try_from(expected).map_err(|_| Overflow);
            proptest::prop_assert_eq!(mul_div(a, b, d, rounding), expected);
        }

        #[test]
        fn mul_div_up_is_down_plus_one_exactly_when_inexact(
            a in 0u128..=u128::MAX, b in 0u128..=u128::MAX, d in 1u128..=u128::MAX
        ) {
            let down = mul_div(a, b, d, Rounding::Down);
            let up = mul_div(a, b, d, Rounding::Up);
            if let (Ok(down), Ok(up)) = (down, up) {
                let exact = (U256::from(a) * U256::from(b)) % U256::from(d) == U256::ZERO;
                proptest::prop_assert_eq!(up, if exact { down } else { down + 1 });
                proptest::prop_assert!(U256::from(down) * U256::from(d) <= U256::from(a) * U256::from(b));
            }
        }
    }
}
