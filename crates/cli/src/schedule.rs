//! `infrafi schedule`: prints a loan's repayment schedule, computed by the same core code the
//! state machine charges (`infrafi_core::schedule`), without a node.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use infrafi_core::{
    Amount,
    math::Rate,
    params::LOAN_PERIODS_MAX,
    schedule::{self, InterestModel},
};

/// Arguments of `infrafi schedule`.
#[derive(Args, Debug, Clone)]
pub(crate) struct ScheduleArgs {
    /// Principal in USD, a decimal with at most 18 fractional digits (e.g. 1000000 or 2500.5).
    #[arg(long)]
    pub(crate) principal: String,
    /// Annual rate in basis points (1500 = 15% APR), converted to the protocol's per-second rate.
    #[arg(long)]
    pub(crate) apr_bps: u32,
    /// Number of payments.
    #[arg(long)]
    pub(crate) periods: u32,
    /// Seconds between payments (2592000 = 30 days).
    #[arg(long, default_value_t = 2_592_000)]
    pub(crate) interval_secs: u64,
    /// The interest model.
    #[arg(long, value_enum, default_value_t = ModelArg::Amortized)]
    pub(crate) model: ModelArg,
    /// Print one JSON object per line (the only output format for now).
    #[arg(long)]
    pub(crate) json: bool,
}

/// The interest model, as typed on the command line.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModelArg {
    /// Level total payments.
    Amortized,
    /// Equal principal each period.
    FixedPrincipal,
}

impl From<ModelArg> for InterestModel {
    fn from(model: ModelArg) -> InterestModel {
        match model {
            ModelArg::Amortized => InterestModel::Amortized,
            ModelArg::FixedPrincipal => InterestModel::FixedPrincipal,
        }
    }
}

/// The schedule's lines: `{"period","balance","interest","principal","payment"}` with amounts
/// as decimal strings with 18 decimals; `balance` is what is left after that payment.
pub(crate) fn lines(args: &ScheduleArgs) -> anyhow::Result<Vec<String>> {
    let principal = Amount::parse_decimal(&args.principal)
        .map_err(|error| anyhow::anyhow!("--principal {:?}: {error}", args.principal))?;
    if principal.is_zero() {
        bail!("--principal must be greater than zero");
    }
    if args.periods == 0 || args.periods > LOAN_PERIODS_MAX {
        bail!("--periods must be between 1 and {LOAN_PERIODS_MAX}");
    }
    if args.interval_secs == 0 {
        bail!("--interval-secs must be greater than zero");
    }
    let rate = Rate::from_apr_bps(args.apr_bps);
    let rows =
        schedule::schedule(args.model.into(), principal, rate, args.interval_secs, args.periods)
            .ok()
            .context("the schedule overflows the protocol's number range")?;
    Ok(rows
        .iter()
        .map(|row| {
            format!(
                "{{\"period\":{},\"balance\":\"{}\",\"interest\":\"{}\",\"principal\":\"{}\",\"payment\":\"{}\"}}",
                row.period, row.closing_balance, row.interest, row.principal, row.payment
            )
        })
        .collect())
}

/// Runs `infrafi schedule`.
pub(crate) fn run(args: ScheduleArgs) -> anyhow::Result<()> {
    for line in lines(&args)? {
        println!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(model: ModelArg) -> ScheduleArgs {
        ScheduleArgs {
            principal: "1200".into(),
            apr_bps: 0,
            periods: 12,
            interval_secs: 2_592_000,
            model,
            json: true,
        }
    }

    #[test]
    fn a_zero_rate_schedule_prints_equal_principal_lines_ending_at_zero() {
        let lines = lines(&args(ModelArg::FixedPrincipal)).unwrap_or_default();
        assert_eq!(lines.len(), 12);
        assert_eq!(
            lines[11],
            "{\"period\":12,\"balance\":\"0.000000000000000000\",\"interest\":\"0.000000000000000000\",\"principal\":\"100.000000000000000000\",\"payment\":\"100.000000000000000000\"}"
        );
    }

    #[test]
    fn bad_arguments_are_refused_with_a_reason() {
        let mut bad = args(ModelArg::Amortized);
        bad.principal = "12e3".into();
        assert!(lines(&bad).is_err());
        let mut bad = args(ModelArg::Amortized);
        bad.periods = 0;
        assert!(lines(&bad).is_err());
    }
}
