//! The schedule calculator against an independent exact-rational reference (SPEC 9.2), and the
//! state machine charging exactly the calculator's schedule.
#![allow(clippy::unwrap_used)]

mod credit_common;

use credit_common::*;
use infrafi_core::{
    Action, Amount,
    action::RepayLoan,
    math::{Rate, WAD},
    schedule::{self, InterestModel, ScheduleRow},
};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

fn rational(units: u128) -> BigRational {
    BigRational::from_integer(BigInt::from(units))
}

/// One row of the exact reference, in USD.
struct ReferenceRow {
    interest: BigRational,
    principal: BigRational,
    closing_balance: BigRational,
}

/// The SPEC 9.2 formulas in exact rationals: x = R·D with R the per-second rate the protocol
/// uses (its 18-decimal integer / 10^18), no rounding anywhere.
fn reference(
    model: InterestModel,
    principal_usd: u128,
    rate: Rate,
    interval_secs: u64,
    periods: u32,
) -> Vec<ReferenceRow> {
    let x = rational(rate.0) * rational(u128::from(interval_secs)) / rational(WAD);
    let mut balance = rational(principal_usd);
    let mut rows = Vec::new();
    for period in 1..=periods {
        let remaining = periods - period + 1;
        let interest = &balance * &x;
        let principal = if remaining == 1 {
            balance.clone()
        } else {
            match model {
                InterestModel::FixedPrincipal => &balance / rational(u128::from(remaining)),
                InterestModel::Amortized => {
                    let mut growth = BigRational::one();
                    for _ in 0..remaining {
                        growth *= BigRational::one() + &x;
                    }
                    &interest / (growth - BigRational::one())
                }
            }
        };
        balance = &balance - &principal;
        rows.push(ReferenceRow { interest, principal, closing_balance: balance.clone() });
    }
    rows
}

fn usd_of(amount: Amount) -> BigRational {
    rational(amount.0) / rational(WAD)
}

fn assert_close(what: &str, period: u32, actual: Amount, exact: &BigRational) {
    let tolerance = BigRational::new(BigInt::from(1), BigInt::from(1_000_000_000u64));
    let difference = (usd_of(actual) - exact).abs();
    assert!(
        difference <= tolerance,
        "period {period} {what}: {actual} differs from the exact {} by more than 1e-9 USD",
        exact
    );
}

fn check_against_reference(
    model: InterestModel,
    principal_usd: u128,
    apr_bps: u32,
    periods: u32,
    interval_secs: u64,
) {
    let rate = Rate::from_apr_bps(apr_bps);
    let rows =
        schedule::schedule(model, whole(principal_usd), rate, interval_secs, periods).unwrap();
    let exact = reference(model, principal_usd, rate, interval_secs, periods);
    assert_eq!(rows.len(), exact.len());
    for (row, exact) in rows.iter().zip(&exact) {
        assert_close("interest", row.period, row.interest, &exact.interest);
        assert_close("principal", row.period, row.principal, &exact.principal);
        let payment = &exact.interest + &exact.principal;
        assert_close("payment", row.period, row.payment, &payment);
        assert_close("balance", row.period, row.closing_balance, &exact.closing_balance);
        // Rounding favours the protocol: on its own balance, the borrower never owes less than
        // the exact interest, nor less than the exact principal of that balance.
        let x = rational(rate.0) * rational(u128::from(interval_secs)) / rational(WAD);
        let exact_interest = usd_of(row.opening_balance) * &x;
        assert!(usd_of(row.interest) >= exact_interest, "interest rounded down");
        assert!(
            usd_of(row.interest) - exact_interest < usd_of(Amount(1)),
            "interest rounded up by more than one unit"
        );
    }
    assert!(rows.last().unwrap().closing_balance.is_zero());
    assert!(exact.last().unwrap().closing_balance.is_zero());
}

#[test]
fn amortized_schedules_match_the_exact_rational_reference_within_a_nano_dollar() {
    for (principal, apr_bps, periods, interval) in [
        (1_000_000, 1_500, 36, MONTH),
        (250_000, 1_200, 12, MONTH),
        (10_000_000, 2_500, 60, MONTH),
        (5_000, 800, 24, 7 * DAY),
        (1, 10_000, 120, MONTH),
        (750_000_000, 1, 2, 365 * DAY),
    ] {
        check_against_reference(InterestModel::Amortized, principal, apr_bps, periods, interval);
    }
}

#[test]
fn fixed_principal_schedules_match_the_exact_rational_reference_within_a_nano_dollar() {
    for (principal, apr_bps, periods, interval) in [
        (1_000_000, 1_500, 36, MONTH),
        (333_333, 1_337, 7, MONTH),
        (10_000_000, 2_500, 60, MONTH),
        (5_000, 800, 24, 7 * DAY),
    ] {
        check_against_reference(
            InterestModel::FixedPrincipal,
            principal,
            apr_bps,
            periods,
            interval,
        );
    }
}

#[test]
fn a_zero_rate_amortized_schedule_repays_equal_principal_without_interest() {
    let rows =
        schedule::schedule(InterestModel::Amortized, whole(1_200), Rate(0), MONTH, 12).unwrap();
    assert!(rows.iter().all(|row| row.interest.is_zero() && row.principal == whole(100)));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    #[test]
    fn random_schedules_match_the_exact_rational_reference(
        principal in 1u128..1_000_000_000,
        apr_bps in 0u32..=5_000,
        periods in 1u32..=48,
        interval_days in 1u64..=92,
        amortized in proptest::bool::ANY,
    ) {
        let model = if amortized { InterestModel::Amortized } else { InterestModel::FixedPrincipal };
        check_against_reference(model, principal, apr_bps, periods, interval_days * DAY);
    }
}

/// A single-tranche loan paid on time pays exactly the calculator's rows, so what
/// `infrafi schedule` prints is what the protocol charges.
#[test]
fn an_on_time_borrower_pays_exactly_the_printed_schedule() {
    for model in [InterestModel::Amortized, InterestModel::FixedPrincipal] {
        let mut market = Market::new(10_000_000);
        let silo = market.open_silo_of(CURATOR, whole(1_000_000), whole(5_000_000));
        let receipt = market.issue_receipt_of_class(BORROWER, h100(), 64, whole(2_000_000));
        let mut loan_terms =
            terms(&market, BORROWER, vec![receipt], whole(1_000_000), Amount::ZERO);
        loan_terms.model = model;
        loan_terms.periods = Some(12);
        loan_terms.exit_fee_bps = infrafi_core::math::Bps(0);
        let id = market.originate(silo, loan_terms);
        let rate = market.loan(id).rate;
        assert_eq!(rate, Rate::from_apr_bps(1_500), "a single tranche's rate is the loan's rate");
        let rows: Vec<ScheduleRow> =
            schedule::schedule(model, whole(1_000_000), rate, MONTH, 12).unwrap();
        for row in &rows {
            market.advance(MONTH - DAY);
            let paid = market.repay(id);
            assert_eq!(paid, row.payment, "period {} of {model:?}", row.period);
            assert_eq!(market.loan(id).balance, row.closing_balance);
            market.advance(DAY);
        }
        assert_eq!(
            market.loan(id).status,
            infrafi_core::loans::LoanStatus::Repaid,
            "the last row repays the loan"
        );
        market.reject(
            BORROWER,
            Action::RepayLoan(RepayLoan { loan_id: id, max_amount: Amount::MAX }),
            infrafi_core::loans::LoanError::LoanIsNotActive,
        );
    }
}
