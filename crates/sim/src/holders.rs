//! sUSDai holders' behaviour: how much they ask to redeem each month, and (once the QEV
//! auction is in the core) what they bid for priority.
//!
//! The model is a monthly redemption fraction of each holder's unlocked shares:
//! - a base rate (`base_redemption_rate_annual`, converted to a 30-day hazard);
//! - an APY run: while the trailing realised APY (over `apy_lookback_months`) is below the
//!   T-bill rate minus `apy_gap_bps`, `apy_run_rate_monthly` more;
//! - a loss run: when the share price's drawdown from its high reaches `loss_trigger_bps`,
//!   `min(loss_run_share_max, loss_run_sensitivity x drawdown_bps)` of the shares, counted
//!   once per new depth of drawdown (a deeper loss adds the difference);
//! - scheduled runs (`[[holders.runs]]`): a share of all shares over a few days.
//!
//! Each holder's request lands on a random day of the month (run requests on the run's days).

use crate::{market::MONTH_YEARS, scenario::HolderSpec};
use infrafi_core::{Amount, RequestId};

/// What a holder does, as the path engine executes it. The enum is the seam for the QEV
/// auction: bids and request sales become variants here when the core offers them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HolderAction {
    /// Lock this fraction of the holder's unlocked shares in a redemption request.
    RequestRedeem {
        /// The holder cohort.
        holder: u32,
        /// Fraction of its unlocked shares.
        fraction: f64,
    },
    /// Pull the USDai a served request is owed, and take it out as USDC.
    Claim {
        /// The holder cohort.
        holder: u32,
        /// The request.
        request: RequestId,
    },
}

/// What a bidder knows when it prices priority for a fresh request.
#[derive(Clone, Copy, Debug)]
pub struct BidContext {
    /// The request.
    pub request: RequestId,
    /// Its shares.
    pub shares: Amount,
    /// Shares queued ahead of it.
    pub shares_ahead: Amount,
    /// Whether it was made in a run.
    pub in_run: bool,
}

/// How holders price priority (SPEC 11). Until the QEV auction merges into the core every
/// request carries a bid of 0 ([`NoBids`]); a policy that returns a price then turns into a
/// `set_bid` transaction after the request.
pub trait BidPolicy: Sync {
    /// The price per share (18-decimal USDai) to bid on a fresh request, if any.
    fn bid_price_wad(&self, context: &BidContext) -> Option<u128>;
}

/// Plain requests, no bids.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBids;

impl BidPolicy for NoBids {
    fn bid_price_wad(&self, _context: &BidContext) -> Option<u128> {
        None
    }
}

/// The monthly redemption decision.
#[derive(Clone, Debug, Default)]
pub struct RedemptionModel {
    /// The deepest loss run already requested (a share of shares).
    loss_run_taken: f64,
}

/// What the holders see at a month boundary.
#[derive(Clone, Copy, Debug)]
pub struct HolderView {
    /// Trailing realised APY, if enough months have passed.
    pub trailing_apy: Option<f64>,
    /// The T-bill APR.
    pub tbill_apr: f64,
    /// Drawdown of the share price from its high, in basis points.
    pub drawdown_bps: f64,
}

/// The month's decision.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MonthlyRedemption {
    /// Fraction of unlocked shares each holder requests this month.
    pub fraction: f64,
    /// Whether a run (APY or loss) is on.
    pub in_run: bool,
}

impl RedemptionModel {
    /// Decides this month's redemption fraction.
    pub fn decide(&mut self, spec: &HolderSpec, view: &HolderView) -> MonthlyRedemption {
        let base = 1.0 - (1.0 - spec.base_redemption_rate_annual).powf(MONTH_YEARS);
        let mut fraction = base;
        let mut in_run = false;
        if let Some(apy) = view.trailing_apy
            && apy < view.tbill_apr - f64::from(spec.apy_gap_bps) / 1e4
        {
            fraction += spec.apy_run_rate_monthly;
            in_run = spec.apy_run_rate_monthly > 0.0;
        }
        if view.drawdown_bps >= spec.loss_trigger_bps && spec.loss_run_sensitivity > 0.0 {
            let run = (spec.loss_run_sensitivity * view.drawdown_bps).min(spec.loss_run_share_max);
            if run > self.loss_run_taken {
                fraction += run - self.loss_run_taken;
                self.loss_run_taken = run;
                in_run = true;
            }
        }
        MonthlyRedemption { fraction: fraction.min(1.0), in_run }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> HolderSpec {
        crate::scenario::Scenario::load("base").expect("base").holders
    }

    #[test]
    fn calm_months_request_the_base_rate() {
        let spec = spec();
        let view = HolderView { trailing_apy: Some(0.09), tbill_apr: 0.04, drawdown_bps: 0.0 };
        let decision = RedemptionModel::default().decide(&spec, &view);
        let yearly = 1.0 - (1.0 - decision.fraction).powf(1.0 / MONTH_YEARS);
        assert!((yearly - spec.base_redemption_rate_annual).abs() < 1e-12);
        assert!(!decision.in_run);
    }

    #[test]
    fn a_lagging_apy_and_a_loss_add_runs_and_a_loss_counts_once() {
        let spec = spec();
        let mut model = RedemptionModel::default();
        let lagging = HolderView { trailing_apy: Some(0.02), tbill_apr: 0.05, drawdown_bps: 0.0 };
        let decision = model.decide(&spec, &lagging);
        assert!(decision.in_run);
        let loss = HolderView { trailing_apy: None, tbill_apr: 0.05, drawdown_bps: 200.0 };
        let first = model.decide(&spec, &loss);
        let again = model.decide(&spec, &loss);
        assert!(first.fraction > again.fraction, "the same drawdown runs only once");
    }
}
