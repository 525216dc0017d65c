//! The book and the behaviour a scenario simulates: borrowers, holders and bidders, redemption
//! runs, liquidations, the loan book and silos, and the protocol's parameters.

use infrafi_core::{params::Params, schedule::InterestModel};
use serde::{Deserialize, Serialize};

/// Borrowers: rental revenue, cash, and the default model.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BorrowerSpec {
    /// Lowest fleet utilization drawn for a borrower.
    pub utilization_min_bps: u32,
    /// Highest fleet utilization drawn for a borrower.
    pub utilization_max_bps: u32,
    /// Operating costs (power, space, staff) as a share of rental revenue.
    pub opex_share_bps: u32,
    /// Cash at the start, in months of scheduled payment.
    pub cash_reserve_months: f64,
    /// Cash kept at most (the rest is paid out), in months of scheduled payment.
    pub cash_cap_months: f64,
    /// Annual default probability at the reference coverage ratio.
    pub pd_annual_at_reference: f64,
    /// The reference debt-service coverage ratio.
    pub reference_dscr: f64,
    /// Log change of the default probability per unit of coverage below the reference.
    pub pd_dscr_slope: f64,
    /// The highest annual default probability.
    pub pd_annual_max: f64,
    /// Weight of the common factor in the one-factor model (asset correlation).
    pub default_correlation: f64,
    /// Whether a borrower in margin call prepays to cure when its cash allows.
    #[serde(default = "yes")]
    pub cure_margin_calls: bool,
}

pub(super) fn yes() -> bool {
    true
}

/// sUSDai holders.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolderSpec {
    /// Holder cohorts (addresses) sharing the shares at the start.
    pub count: u32,
    /// Share of unlocked shares requested per year in normal times.
    pub base_redemption_rate_annual: f64,
    /// New deposits per year as a share of NAV, while the APY beats the T-bill rate.
    #[serde(default)]
    pub deposit_rate_annual: f64,
    /// A run starts when the trailing APY is below the T-bill rate minus this.
    pub apy_gap_bps: i32,
    /// Months of the trailing APY.
    pub apy_lookback_months: u32,
    /// Extra share of unlocked shares requested per month while the APY lags.
    pub apy_run_rate_monthly: f64,
    /// A drawdown of the share price (from its high) that starts a run.
    pub loss_trigger_bps: f64,
    /// Share of unlocked shares requested per basis point of drawdown.
    pub loss_run_sensitivity: f64,
    /// The most a loss run requests.
    pub loss_run_share_max: f64,
    /// Scheduled runs.
    #[serde(default)]
    pub runs: Vec<RunSpec>,
    /// Priority bids on the redemption queue (SPEC 11); absent: nobody bids.
    #[serde(default)]
    pub bids: BidSpec,
}

/// How holders bid for priority in the QEV auction (`[holders.bids]`). Each fresh request's
/// holder is urgent with a probability (higher in a run); an urgent holder values each day it
/// would wait beyond the notice period at `urgency_rate_annual / 365` of its redemption value
/// and bids that, capped at `bid_max_bps` of the share price, per share. The defaults (the
/// table absent) are all zero: nobody bids.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BidSpec {
    /// Share of requests made outside a run whose holder is urgent.
    #[serde(default)]
    pub urgent_share: f64,
    /// Share of requests made in a run (scheduled, APY or loss run) whose holder is urgent.
    #[serde(default)]
    pub urgent_share_in_run: f64,
    /// What an urgent holder would pay per year of waiting, as a share of its redemption value
    /// (0.25: a day is worth 0.25 / 365 of it).
    #[serde(default)]
    pub urgency_rate_annual: f64,
    /// The highest bid, as a share of the redemption share price.
    #[serde(default)]
    pub bid_max_bps: u32,
}

impl BidSpec {
    /// Whether any holder may bid.
    pub fn is_on(&self) -> bool {
        self.urgent_share > 0.0 || self.urgent_share_in_run > 0.0
    }
}

/// A scheduled run: `share_bps` of all shares requested within `days` from `month`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// The month it starts.
    pub month: u32,
    /// Share of all shares requested.
    pub share_bps: u32,
    /// Over how many days.
    pub days: u32,
}

/// Liquidation of foreclosed hardware.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidationSpec {
    /// Months from default to sale.
    pub delay_months: u32,
    /// Discount of a forced sale to the resale price.
    pub fire_sale_discount_bps: u32,
    /// Log-normal volatility of the reported fixed costs.
    pub cost_noise: f64,
}

/// The synthetic book.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookSpec {
    /// Seed of the book (the same book under every path seed).
    pub seed: u64,
    /// Number of loans.
    pub loans: u32,
    /// Payments of each loan (months).
    pub term_months: u32,
    /// Loans are between 0 and this many months old at the start.
    pub age_months_max: u32,
    /// Spread due dates over the days of the month (else every loan is due on day 0).
    #[serde(default = "yes")]
    pub spread_due_days: bool,
    /// Fewest units per loan.
    pub units_min: u32,
    /// Most units per loan.
    pub units_max: u32,
    /// Lowest LTV at origination.
    pub ltv_min_bps: u32,
    /// Highest LTV at origination.
    pub ltv_max_bps: u32,
    /// Interest model.
    pub model: InterestModel,
    /// Senior tranche rate.
    pub senior_apr_bps: u32,
    /// Junior tranche rate.
    pub junior_apr_bps: u32,
    /// Junior share of each loan's principal.
    pub junior_share_bps: u32,
    /// Grace period after a deadline.
    pub grace_days: u32,
    /// Grace interest rate.
    pub grace_apr_bps: u32,
    /// Origination fee.
    pub origination_fee_bps: u32,
    /// Exit fee.
    pub exit_fee_bps: u32,
    /// Share of the vault's NAV deployed in loans when the book is built.
    pub deployed_share_bps: u32,
    /// Share of sUSDai already queued at the start.
    #[serde(default)]
    pub initial_queue_share_bps: u32,
    /// Months between two appraisals of a receipt (at most 2: valuations expire at 90 days).
    #[serde(default = "one_month")]
    pub appraisal_interval_months: u32,
}

pub(super) fn one_month() -> u32 {
    1
}

/// A curator's silo.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiloSpec {
    /// A label.
    pub name: String,
    /// Eligible classes.
    pub classes: Vec<String>,
    /// Relative share of the book's loans.
    pub loan_weight: f64,
    /// Max initial LTV.
    pub max_initial_ltv_bps: u32,
    /// Margin-call LTV.
    pub margin_call_ltv_bps: u32,
    /// Curator's share of senior interest.
    pub curator_fee_bps: u32,
    /// Free first-loss pool posted, as a share of the silo's senior principal.
    pub first_loss_bps: u32,
    /// Senior rate of its loans (default: the book's).
    #[serde(default)]
    pub senior_apr_bps: Option<u32>,
    /// Junior share of its loans (default: the book's).
    #[serde(default)]
    pub junior_share_bps: Option<u32>,
}

/// Protocol parameters that differ from the defaults.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSpec {
    /// `performance_fee_bps`.
    pub performance_fee_bps: Option<u32>,
    /// `yield_fee_bps`.
    pub yield_fee_bps: Option<u32>,
    /// `liquidity_buffer_bps`.
    pub liquidity_buffer_bps: Option<u32>,
    /// `max_deployed_bps`.
    pub max_deployed_bps: Option<u32>,
    /// `min_first_loss_bps`.
    pub min_first_loss_bps: Option<u32>,
    /// `notice_period_secs`, in days.
    pub notice_period_days: Option<u32>,
    /// `cure_period_secs`, in days.
    pub cure_period_days: Option<u32>,
    /// `liquidation_fee_bps`.
    pub liquidation_fee_bps: Option<u32>,
}

impl ProtocolSpec {
    /// The default parameters with these overrides.
    pub fn params(&self) -> Params {
        use infrafi_core::Bps;
        let mut params = Params::default();
        let set = |target: &mut Bps, value: Option<u32>| {
            if let Some(value) = value {
                *target = Bps(value);
            }
        };
        set(&mut params.performance_fee_bps, self.performance_fee_bps);
        set(&mut params.yield_fee_bps, self.yield_fee_bps);
        set(&mut params.liquidity_buffer_bps, self.liquidity_buffer_bps);
        set(&mut params.max_deployed_bps, self.max_deployed_bps);
        set(&mut params.min_first_loss_bps, self.min_first_loss_bps);
        set(&mut params.liquidation_fee_bps, self.liquidation_fee_bps);
        if let Some(days) = self.notice_period_days {
            params.notice_period_secs = u64::from(days) * 86_400;
        }
        if let Some(days) = self.cure_period_days {
            params.cure_period_secs = u64::from(days) * 86_400;
        }
        params
    }
}

/// How the chain values receipts by their class's rental index (issue 16; docs/valuation.md).
/// Utilisation is the middle of the borrowers' range and the operating-cost share the
/// borrowers' (`borrowers.*`): the protocol's view of a unit's income is the model's.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuationSpec {
    /// The annual rate the income value discounts future rent at.
    pub discount_rate_bps_per_year: u32,
    /// Months from the start of the paths until every class stops earning rent.
    pub economic_life_months: u32,
    /// The oldest index that still values receipts, in days (the oracle posts monthly).
    pub index_max_age_days: u32,
}
