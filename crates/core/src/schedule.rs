//! The repayment schedule calculator (SPEC 9.2): the one piece of code that says what a loan's
//! next payment is. The state machine calls [`installment`] at every payment, and the CLI's
//! `infrafi schedule` prints [`schedule`], so a schedule shown to a borrower is the schedule
//! the protocol charges.
//!
//! Notation: B = outstanding balance, M = payments remaining (including the current one),
//! D = repayment interval in seconds, R = per-second rate (18-decimal), x = R·D the period
//! rate. `x` is exact: an integer rate times an integer number of seconds.
//!
//! - Fixed principal: interest = B·x, principal = B/M.
//! - Amortized: interest = B·x, principal = B·x / ((1+x)^M − 1), so interest + principal is
//!   the level payment B·x·(1+x)^M / ((1+x)^M − 1).
//!
//! Rounding favours the protocol: interest and principal round up (what the borrower owes),
//! and the growth factor (1+x)^M is computed rounded down, which can only raise the principal.
//! Principal never exceeds the balance, and the last payment (M = 1) is the whole balance.

use crate::math::{Amount, Overflow, Rate, Rounding, WAD, mul_div};
use alloy_primitives::{U256, U512};
use serde::{Deserialize, Serialize};

/// How a loan's payments are shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterestModel {
    /// Level total payment: interest falls and principal rises over the life.
    Amortized,
    /// Equal principal each period plus interest on the balance: payments fall over the life.
    FixedPrincipal,
}

/// One payment: interest and principal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installment {
    /// Interest for one period on the balance, rounded up.
    pub interest: Amount,
    /// Principal repaid, rounded up, at most the balance.
    pub principal: Amount,
}

impl Installment {
    /// Interest plus principal.
    pub fn payment(&self) -> Result<Amount, Overflow> {
        self.interest.checked_add(self.principal)
    }
}

/// The growth factor (1+x)^M is kept in binary fixed point with this many fraction bits:
/// every product of the exponentiation is then a shift rather than a 512-bit division (the
/// schedule is computed at every payment, so this is the protocol's hottest arithmetic), and
/// 600 squarings and multiplications lose less than 600·2^-120 (about 5·10^-34) of the
/// factor. 120 bits leave 8 bits of integer part within 256-bit products.
const FACTOR_FRACTION_BITS: usize = 120;

fn factor_one() -> U256 {
    U256::from(1u8) << FACTOR_FRACTION_BITS
}

/// The period rate x = R·D in 18-decimal fixed point; exact.
pub fn period_rate_wad(rate: Rate, interval_secs: u64) -> Result<u128, Overflow> {
    rate.0.checked_mul(u128::from(interval_secs)).ok_or(Overflow)
}

/// (1 + x)^periods with [`FACTOR_FRACTION_BITS`] fraction bits, every step rounded down (the
/// base 1 + x included): exponentiation by squaring with 512-bit products. Overflow when the
/// factor reaches 2^255.
pub fn growth_factor_scaled(period_rate_wad: u128, periods: u32) -> Result<U256, Overflow> {
    let one = factor_one();
    // x at 18 decimals to x at 2^-120: (x · 2^120) / 10^18, rounded down.
    let fraction = (U256::from(period_rate_wad) << FACTOR_FRACTION_BITS) / U256::from(WAD);
    let base = one.checked_add(fraction).ok_or(Overflow)?;
    // Every real schedule keeps the factor below 2^8 (a 128-bit fixed-point number): native
    // 64-bit limbs then do each product, with the same rounding. Larger factors fall through.
    if let Ok(narrow) = u128::try_from(base)
        && let Some(factor) = narrow_power(narrow, periods)
    {
        return Ok(U256::from(factor));
    }
    let limit = U512::from(U256::MAX >> 1);
    let multiply = |a: U256, b: U256| -> Result<U256, Overflow> {
        // Factors below 2^8 (every real schedule) multiply within 256 bits.
        if a.bit_len() + b.bit_len() <= 256 {
            return Ok((a * b) >> FACTOR_FRACTION_BITS);
        }
        let product: U512 = a.widening_mul(b);
        let shifted = product >> FACTOR_FRACTION_BITS;
        if shifted > limit {
            return Err(Overflow);
        }
        Ok(U256::from(shifted))
    };
    power(one, base, periods, multiply)
}

/// `base^periods` by squaring, `one` being the unit of the fixed point and `multiply` its
/// (rounded-down) product; the first failed product fails the power.
fn power<T: Copy, E>(
    one: T,
    base: T,
    periods: u32,
    multiply: impl Fn(T, T) -> Result<T, E>,
) -> Result<T, E> {
    let mut result = one;
    let mut square = base;
    let mut exponent = periods;
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = multiply(result, square)?;
        }
        exponent >>= 1;
        if exponent > 0 {
            square = multiply(square, square)?;
        }
    }
    Ok(result)
}

/// `base^periods` in 2^-120 fixed point with every product rounded down, if every
/// intermediate value stays below 2^128 (the same steps as the wide path).
fn narrow_power(base: u128, periods: u32) -> Option<u128> {
    let multiply = |a, b| narrow_multiply(a, b).ok_or(());
    power(1u128 << FACTOR_FRACTION_BITS, base, periods, multiply).ok()
}

/// `a·b / 2^120`, rounded down, if it fits 128 bits: the 256-bit product from four 64-bit
/// limb products.
fn narrow_multiply(a: u128, b: u128) -> Option<u128> {
    const LOW: u128 = u64::MAX as u128;
    let (a_high, a_low) = (a >> 64, a & LOW);
    let (b_high, b_low) = (b >> 64, b & LOW);
    let low_low = a_low * b_low;
    let (cross, cross_carry) = (a_low * b_high).overflowing_add(a_high * b_low);
    let (low, low_carry) = low_low.overflowing_add(cross << 64);
    let high = (a_high * b_high)
        .checked_add(cross >> 64)?
        .checked_add(u128::from(cross_carry) << 64)?
        .checked_add(u128::from(low_carry))?;
    // (high·2^128 + low) >> 120 fits 128 bits when high < 2^120.
    if high >> FACTOR_FRACTION_BITS != 0 {
        return None;
    }
    Some((high << (128 - FACTOR_FRACTION_BITS)) | (low >> FACTOR_FRACTION_BITS))
}

/// The payment due on `balance` with `periods_remaining` payments left (including this one).
///
/// `periods_remaining` of 0 is treated as 1: everything is due now.
pub fn installment(
    model: InterestModel,
    balance: Amount,
    rate: Rate,
    interval_secs: u64,
    periods_remaining: u32,
) -> Result<Installment, Overflow> {
    let periods = periods_remaining.max(1);
    let x = period_rate_wad(rate, interval_secs)?;
    let interest = balance.mul_div(x, WAD, Rounding::Up)?;
    let principal = if periods == 1 {
        balance
    } else {
        match model {
            InterestModel::FixedPrincipal => {
                balance.mul_div(1, u128::from(periods), Rounding::Up)?
            }
            // With x = 0 the amortized payment is the limit B/M of the formula.
            InterestModel::Amortized if x == 0 => {
                balance.mul_div(1, u128::from(periods), Rounding::Up)?
            }
            InterestModel::Amortized => amortized_principal(balance, x, periods)?,
        }
    };
    let principal = principal.min(balance);
    Ok(Installment { interest, principal })
}

/// B·x / ((1+x)^M − 1), rounded up, from the exact B·x (not the rounded interest).
fn amortized_principal(balance: Amount, x: u128, periods: u32) -> Result<Amount, Overflow> {
    let factor = growth_factor_scaled(x, periods)?;
    // factor > 1 because x > 0 and periods >= 2.
    let growth = factor.checked_sub(factor_one()).ok_or(Overflow)?;
    if growth.is_zero() {
        return Err(Overflow);
    }
    // B·x·2^120 / (growth·10^18), rounded up. Real loans (B below 2^82, that is 4.8 M USD of
    // 18-decimal units, and x below 2^54) keep both sides within 256 bits, where the division
    // is much cheaper; otherwise 512 bits hold them (the numerator is below 2^376).
    let product = U256::from(balance.0) * U256::from(x);
    if product.bit_len() + FACTOR_FRACTION_BITS <= 256 && growth.bit_len() + 60 <= 256 {
        let numerator = product << FACTOR_FRACTION_BITS;
        let denominator = growth * U256::from(WAD);
        let (quotient, remainder) = numerator.div_rem(denominator);
        let quotient = if remainder.is_zero() { quotient } else { quotient + U256::from(1u8) };
        return u128::try_from(quotient).map(Amount).map_err(|_| Overflow);
    }
    let numerator = U512::from(product) << FACTOR_FRACTION_BITS;
    let denominator = U512::from(growth) * U512::from(WAD);
    let (quotient, remainder) = numerator.div_rem(denominator);
    let quotient = if remainder.is_zero() { quotient } else { quotient + U512::from(1u8) };
    u128::try_from(quotient).map(Amount).map_err(|_| Overflow)
}

/// One row of a printed schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRow {
    /// 1 for the first payment.
    pub period: u32,
    /// The balance before this payment.
    pub opening_balance: Amount,
    /// Interest in this payment.
    pub interest: Amount,
    /// Principal in this payment.
    pub principal: Amount,
    /// Interest plus principal.
    pub payment: Amount,
    /// The balance after this payment.
    pub closing_balance: Amount,
}

/// The full schedule of an on-time borrower: every payment from the first to the last, each
/// computed by [`installment`] from the balance the previous one left. At most
/// [`crate::params::LOAN_PERIODS_MAX`] rows.
pub fn schedule(
    model: InterestModel,
    principal: Amount,
    rate: Rate,
    interval_secs: u64,
    periods: u32,
) -> Result<Vec<ScheduleRow>, Overflow> {
    if periods == 0 || periods > crate::params::LOAN_PERIODS_MAX {
        return Err(Overflow);
    }
    let mut rows = Vec::with_capacity(periods as usize);
    let mut balance = principal;
    for period in 1..=periods {
        let due = installment(model, balance, rate, interval_secs, periods - period + 1)?;
        let closing_balance = balance.checked_sub(due.principal)?;
        rows.push(ScheduleRow {
            period,
            opening_balance: balance,
            interest: due.interest,
            principal: due.principal,
            payment: due.payment()?,
            closing_balance,
        });
        balance = closing_balance;
    }
    assert!(balance.is_zero(), "a schedule must end with a zero balance");
    Ok(rows)
}

/// Seconds of simple interest on `amount` at `rate`, rounded up: `amount · rate · seconds`.
pub fn simple_interest(amount: Amount, rate: Rate, seconds: u64) -> Result<Amount, Overflow> {
    let rate_time = rate.0.checked_mul(u128::from(seconds)).ok_or(Overflow)?;
    mul_div(amount.0, rate_time, WAD, Rounding::Up).map(Amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_factor_of_zero_rate_is_one() {
        assert_eq!(growth_factor_scaled(0, 36), Ok(factor_one()));
    }

    #[test]
    fn growth_factor_matches_repeated_multiplication_for_small_exponents() {
        // (1.5)^3 = 3.375 exactly: every step is exact in binary.
        let factor = growth_factor_scaled(WAD / 2, 3);
        assert_eq!(factor, Ok(U256::from(27u8) << (FACTOR_FRACTION_BITS - 3)));
    }

    #[test]
    fn a_growth_factor_beyond_the_narrow_range_takes_the_wide_path() {
        // (1 + 1)^10 = 1024 >= 2^8: the narrow products overflow, the wide ones are exact.
        assert_eq!(narrow_power(factor_one().to::<u128>() * 2, 10), None);
        assert_eq!(growth_factor_scaled(WAD, 10), Ok(U256::from(1024u32) << FACTOR_FRACTION_BITS));
    }

    #[test]
    fn the_last_payment_is_the_whole_balance() {
        let due = installment(InterestModel::Amortized, Amount(1_000), Rate(1), 10, 1);
        assert_eq!(due.map(|d| d.principal), Ok(Amount(1_000)));
    }

    #[test]
    fn amortized_schedule_ends_at_zero_with_level_payments() {
        let rate = Rate::from_apr_bps(1_500);
        let rows =
            schedule(InterestModel::Amortized, Amount::from_whole(1_000_000), rate, 2_592_000, 36)
                .expect("schedule");
        assert_eq!(rows.len(), 36);
        let first = rows[0].payment.0;
        for row in &rows[..35] {
            assert!(row.payment.0.abs_diff(first) <= 4, "payments are level up to dust");
        }
        assert!(rows[35].closing_balance.is_zero());
    }

    proptest::proptest! {
        #[test]
        fn narrow_multiplication_equals_the_wide_product(a in 0u128..=u128::MAX, b in 0u128..=u128::MAX) {
            let wide: U512 = U256::from(a).widening_mul(U256::from(b)) >> FACTOR_FRACTION_BITS;
            let expected = u128::try_from(wide).ok();
            proptest::prop_assert_eq!(narrow_multiply(a, b), expected);
        }

        #[test]
        fn amortized_principal_in_256_bits_equals_the_512_bit_quotient(
            balance in 1u128..(1u128 << 82), x in 1u128..(1u128 << 54), periods in 2u32..=600
        ) {
            let Ok(factor) = growth_factor_scaled(x, periods) else { return Ok(()) };
            let growth = factor - factor_one();
            let numerator =
                U512::from(U256::from(balance) * U256::from(x)) << FACTOR_FRACTION_BITS;
            let (quotient, remainder) =
                numerator.div_rem(U512::from(growth) * U512::from(WAD));
            let expected = quotient + U512::from(u8::from(!remainder.is_zero()));
            let expected = u128::try_from(expected).map(Amount).map_err(|_| Overflow);
            proptest::prop_assert_eq!(amortized_principal(Amount(balance), x, periods), expected);
        }
    }

    #[test]
    fn fixed_principal_repays_equal_principal() {
        let rows = schedule(
            InterestModel::FixedPrincipal,
            Amount::from_whole(1_200),
            Rate::from_apr_bps(1_000),
            2_592_000,
            12,
        )
        .expect("schedule");
        assert!(rows.iter().all(|row| row.principal == Amount::from_whole(100)));
        assert!(rows.windows(2).all(|pair| pair[1].payment < pair[0].payment));
    }
}
