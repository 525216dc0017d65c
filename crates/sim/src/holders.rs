//! sUSDai holders' behaviour: how much they ask to redeem each month, and what they bid for
//! priority in the QEV auction.
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
//!
//! Bids ([`UrgentBidders`], `[holders.bids]`): the holder of a fresh request is urgent with a
//! probability (higher in a run) and bids for the days it expects to wait beyond the notice
//! period, valued at an annual urgency rate and capped.

use crate::{
    convert::{bps, usd_to_amount, wad_to_f64},
    market::MONTH_YEARS,
    rng::Rng,
    scenario::{BidSpec, HolderSpec},
};
use infrafi_core::RequestId;

/// What a holder does, as the path engine executes it. A bid is part of `RequestRedeem` (it is
/// priced and sent right after the request); request sales would be variants here.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HolderAction {
    /// Lock this fraction of the holder's unlocked shares in a redemption request.
    RequestRedeem {
        /// The holder cohort.
        holder: u32,
        /// Fraction of its unlocked shares.
        fraction: f64,
        /// Whether it is made in a run (holders are more often urgent then).
        in_run: bool,
    },
    /// Pull the USDai a served request is owed, and take it out as USDC.
    Claim {
        /// The holder cohort.
        holder: u32,
        /// The request.
        request: RequestId,
    },
}

/// What a bidder knows when it prices priority for a fresh request: the public state of the
/// queue and what it has seen of recent rounds.
#[derive(Clone, Copy, Debug)]
pub struct BidContext {
    /// Value of the shares queued ahead of it (all requests before it, in their notice period
    /// or eligible), USD at the redemption share price.
    pub assets_ahead_usd: f64,
    /// What a round could pay out now (`queue::round_liquidity`), USD.
    pub liquidity_usd: f64,
    /// USDai the rounds served per day over the last [`PACE_WINDOW_DAYS`] days (fewer at the
    /// start of a path), USD.
    pub served_per_day_usd: f64,
    /// The notice period, days.
    pub notice_days: f64,
    /// The redemption share price (18-decimal USDai per share).
    pub share_price_wad: u128,
}

/// Days of servicing rounds a bidder looks back on to judge the queue's pace.
pub const PACE_WINDOW_DAYS: u32 = 30;

/// How holders price priority (SPEC 11). A price becomes a `set_bid` transaction right after
/// the request, with the escrow funded in USDai.
pub trait BidPolicy: Sync {
    /// Whether the holder of a fresh request wants priority at all; draws from the path's
    /// bid stream. `in_run`: the request was made in a run.
    fn is_urgent(&self, in_run: bool, rng: &mut Rng) -> bool;
    /// The price per share (18-decimal USDai) an urgent holder bids, or `None` when priority
    /// is worth nothing to it (no wait expected beyond the notice period).
    fn bid_price_wad(&self, context: &BidContext) -> Option<u128>;
}

/// Plain requests, no bids.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBids;

impl BidPolicy for NoBids {
    fn is_urgent(&self, _in_run: bool, _rng: &mut Rng) -> bool {
        false
    }

    fn bid_price_wad(&self, _context: &BidContext) -> Option<u128> {
        None
    }
}

/// The scenario's bid model (`[holders.bids]`): some holders are urgent, and an urgent holder
/// pays for the days it expects to wait beyond the notice period.
///
/// Expected wait: the queue ahead, less what a round could pay now, served at the recent pace,
/// is cleared in `(ahead - liquidity) / pace` days; the notice period runs meanwhile, so the
/// wait priority can shorten is that minus the notice period. With no service seen and a
/// queue ahead the holder fears the worst and bids its cap. The bid per share is the share
/// price times `min(urgency_rate_annual x wait / 365, bid_max_bps)`.
#[derive(Clone, Copy, Debug)]
pub struct UrgentBidders {
    spec: BidSpec,
}

impl UrgentBidders {
    /// The model of `spec`.
    pub fn new(spec: &BidSpec) -> UrgentBidders {
        UrgentBidders { spec: *spec }
    }

    /// The days an urgent holder expects to wait beyond the notice period.
    pub fn expected_extra_wait_days(context: &BidContext) -> f64 {
        // NaN (a model fault) counts as no backlog, and as no service seen.
        let backlog = context.assets_ahead_usd - context.liquidity_usd;
        if backlog.is_nan() || backlog <= 0.0 {
            return 0.0;
        }
        let pace = context.served_per_day_usd;
        if pace.is_nan() || pace <= 0.0 {
            return f64::INFINITY;
        }
        (backlog / context.served_per_day_usd - context.notice_days).max(0.0)
    }
}

impl BidPolicy for UrgentBidders {
    fn is_urgent(&self, in_run: bool, rng: &mut Rng) -> bool {
        let share = if in_run { self.spec.urgent_share_in_run } else { self.spec.urgent_share };
        share > 0.0 && rng.chance(share)
    }

    fn bid_price_wad(&self, context: &BidContext) -> Option<u128> {
        let days = Self::expected_extra_wait_days(context);
        let share = (self.spec.urgency_rate_annual * days / 365.0).min(bps(self.spec.bid_max_bps));
        let price = usd_to_amount(wad_to_f64(context.share_price_wad) * share);
        (!price.is_zero()).then_some(price.0)
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

    fn bidders() -> UrgentBidders {
        let spec = BidSpec {
            urgent_share: 0.0,
            urgent_share_in_run: 0.5,
            urgency_rate_annual: 0.365,
            bid_max_bps: 500,
        };
        UrgentBidders::new(&spec)
    }

    /// A queue of `ahead` USD with `liquidity` payable now, served at 1,000 USD a day, a
    /// 7-day notice period and a share price of 2 USD.
    fn context(ahead: f64, liquidity: f64, served_per_day: f64) -> BidContext {
        BidContext {
            assets_ahead_usd: ahead,
            liquidity_usd: liquidity,
            served_per_day_usd: served_per_day,
            notice_days: 7.0,
            share_price_wad: 2 * infrafi_core::WAD,
        }
    }

    #[test]
    fn an_urgent_holder_pays_for_the_days_it_would_wait_beyond_the_notice_period() {
        let bidders = bidders();
        // 27,000 ahead less 10,000 payable now, at 1,000 a day: 17 days, 10 beyond notice,
        // each worth 0.365 / 365 = 0.1% of the 2 USD price: 0.02 USD a share.
        let price = bidders.bid_price_wad(&context(27_000.0, 10_000.0, 1_000.0));
        assert_eq!(price, Some(infrafi_core::WAD / 50));
        // A queue the notice period clears is not worth a bid.
        assert_eq!(bidders.bid_price_wad(&context(16_000.0, 10_000.0, 1_000.0)), None);
        assert_eq!(bidders.bid_price_wad(&context(9_000.0, 10_000.0, 0.0)), None);
        // A long wait, or a queue with no service seen, bids the cap: 5% of 2 USD.
        let cap = Some(infrafi_core::WAD / 10);
        assert_eq!(bidders.bid_price_wad(&context(1e9, 0.0, 1_000.0)), cap);
        assert_eq!(bidders.bid_price_wad(&context(20_000.0, 0.0, 0.0)), cap);
    }

    #[test]
    fn urgency_is_drawn_at_the_shares_of_runs_and_calm_times() {
        let bidders = bidders();
        let mut rng = Rng::new(7);
        let draws = 20_000;
        let in_run = (0..draws).filter(|_| bidders.is_urgent(true, &mut rng)).count();
        let calm = (0..draws).filter(|_| bidders.is_urgent(false, &mut rng)).count();
        assert!((in_run as f64 / draws as f64 - 0.5).abs() < 0.02, "{in_run} of {draws}");
        assert_eq!(calm, 0, "a share of 0 is never urgent");
        assert!(!NoBids.is_urgent(true, &mut rng));
    }
}
