//! Wire types of the sUSDai vault and its redemption queue: the vault's figures and phase mix,
//! redemption requests and estimates, points, QEV positions, bids, wait fees and rounds, and
//! listed requests.

use alloy_primitives::{Address, B256};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `GET /v1/vault`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct VaultDto {
    /// The height read.
    pub height: u64,
    /// Vested, unowed USDai in the vault.
    pub unallocated: String,
    /// Harvested yield not yet vested.
    pub unvested: String,
    /// Senior principal deployed.
    pub senior_principal: String,
    /// Senior interest accrued.
    pub senior_accrued_interest: String,
    /// Senior impairment.
    pub senior_impairment: String,
    /// NAV pricing deposits.
    pub nav_optimistic: String,
    /// NAV pricing redemptions.
    pub nav_conservative: String,
    /// sUSDai outstanding.
    pub share_supply: String,
    /// USDai per share for deposits (18 decimals).
    pub deposit_price: String,
    /// USDai per share for redemptions (18 decimals).
    pub redemption_price: String,
    /// Idle versus deployed, by silo and asset class, and the blended APY.
    pub phase_mix: PhaseMixDto,
}

/// A redemption request.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RequestDto {
    /// Its id.
    pub id: u64,
    /// Its owner.
    #[schemars(with = "crate::schema::Address")]
    pub owner: Address,
    /// Shares locked at creation.
    pub shares_requested: String,
    /// Shares still waiting.
    pub shares_remaining: String,
    /// When made.
    pub created_at: u64,
    /// When eligible.
    pub eligible_at: u64,
    /// Priority bid per share (18 decimals).
    pub bid_price: String,
    /// Served USDai waiting for a claim.
    pub claimable: String,
    /// USDai claimed.
    pub claimed: String,
    /// `waiting`, `eligible`, `served`.
    pub status: String,
}

/// `GET /v1/queue`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct QueueDto {
    /// The height read.
    pub height: u64,
    /// Rounds run.
    pub rounds: u64,
    /// When the last round ran.
    pub last_round_at: Option<u64>,
    /// The liquidity a round would have now.
    pub round_liquidity: String,
    /// Shares locked in requests.
    pub locked_shares: String,
    /// Requests (first page, by id).
    pub requests: Vec<RequestDto>,
}

/// `GET /v1/queue/{id}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RequestDetailDto {
    /// The height read.
    pub height: u64,
    /// The request.
    pub request: RequestDto,
    /// Its service estimate from today's liquidity.
    pub estimate: EstimateDto,
    /// The QEV estimate with projected inflows (loan repayments and base yield); `null` once
    /// served.
    pub qev_estimate: Option<QevEstimateDto>,
    /// Its bids, listing and wait-fees.
    pub qev: QevPositionDto,
}

/// When a request may be served.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct EstimateDto {
    /// Shares served before it, as the queue stands.
    pub shares_ahead: String,
    /// The earliest round it can be in.
    pub next_round_at: u64,
    /// The liquidity a round would have now.
    pub round_liquidity: String,
    /// When it would be served from today's liquidity; `None` if it must wait for new
    /// liquidity (loan repayments, yield).
    pub estimated_service_at: Option<u64>,
}

/// One leaderboard row.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LeaderDto {
    /// The rank, from 1.
    pub rank: usize,
    /// The address.
    #[schemars(with = "crate::schema::Address")]
    pub address: Address,
    /// Points (18 decimals).
    pub points: String,
}

/// `GET /v1/points/leaderboard`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LeaderboardDto {
    /// The height read.
    pub height: u64,
    /// The rows.
    pub leaders: Vec<LeaderDto>,
}

/// The QEV estimate of a request (SPEC 11), from `estimate::estimate` with scheduled loan
/// repayments and base yield as inflows.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct QevEstimateDto {
    /// Active requests ahead of it.
    pub position: u64,
    /// Their shares.
    pub shares_ahead: String,
    /// Their value now.
    pub assets_ahead: String,
    /// Its own value now.
    pub assets: String,
    /// Round liquidity now.
    pub liquidity_now: String,
    /// When the next round may run.
    pub next_round_at: u64,
    /// First round by which projected liquidity covers it; `null` if never in the horizon.
    pub service_at: Option<u64>,
    /// Smallest bid per share (18 decimals) to be served in full next round.
    pub bid_to_serve_next_round: Option<String>,
    /// Inflows projected: scheduled senior repayments.
    pub inflows_from_loans: usize,
    /// Inflows projected: base yield.
    pub inflows_from_base_yield: usize,
    /// Projection horizon (seconds).
    pub horizon_secs: u64,
}

/// A request's QEV side: bids, listing, wait-fees.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct QevPositionDto {
    /// Open bid per share (18 decimals).
    pub bid_price: String,
    /// Escrow held for the bid.
    pub bid_escrow: String,
    /// A sealed bid committed and not yet resolved.
    pub sealed_bid: Option<SealedBidDto>,
    /// Listed for sale at this USDai price.
    pub listing_price: Option<String>,
    /// What the request is worth to its holder now (a buyer's `min_value` bound): unserved
    /// shares at the redemption price, USDai owed or escrowed, unclaimed wait-fees.
    pub position_value: Option<String>,
    /// Wait-fees earned, vested, claimed, claimable.
    pub wait_fees: Option<WaitFeesDto>,
}

/// A sealed bid.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SealedBidDto {
    /// Its commitment.
    #[schemars(with = "crate::schema::Hash")]
    pub commitment: B256,
    /// The deposit.
    pub deposit: String,
    /// When committed.
    pub committed_at: u64,
    /// The round it is for.
    pub round: u64,
    /// When the reveal window opens: `reveal_window_secs` before the next round may run (it
    /// stays open until that round runs; a bid not revealed by then is resolved as unrevealed).
    pub reveal_window_opens_at: u64,
    /// Whether it may be revealed now.
    pub reveal_window_open: bool,
}

/// Wait-fees of a request.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WaitFeesDto {
    /// Earned.
    pub earned: String,
    /// Vested.
    pub vested: String,
    /// Claimed.
    pub claimed: String,
    /// Claimable now.
    pub claimable: String,
}

/// One servicing round.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RoundDto {
    /// Its number.
    pub round: u64,
    /// When it ran.
    pub at: u64,
    /// Its liquidity.
    pub liquidity: String,
    /// Shares served.
    pub served_shares: String,
    /// USDai paid.
    pub served_assets: String,
    /// Requests served.
    pub requests_served: u32,
    /// Clearing price per share (18 decimals).
    pub clearing_price: String,
    /// Its exponential moving average, this round included.
    pub clearing_price_ema: String,
    /// Bidders served ahead.
    pub jumpers: u32,
    /// Bid fees paid.
    pub bid_fees_paid: String,
    /// Wait-fees distributed.
    pub wait_fees_distributed: String,
    /// Protocol's cut.
    pub protocol_cut: String,
    /// Shares overtaken.
    pub overtaken_shares: String,
}

/// `GET /v1/queue/rounds`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RoundsDto {
    /// The height read.
    pub height: u64,
    /// Rounds run.
    pub rounds_total: u64,
    /// The clearing-price EMA now (18 decimals).
    pub clearing_price_ema: String,
    /// The latest rounds, newest first.
    pub rounds: Vec<RoundDto>,
}

/// One listed request.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ListingDto {
    /// The request.
    pub request: RequestDto,
    /// Its asking price in USDai.
    pub price: String,
    /// Its remaining shares' value at the redemption price now.
    pub value_now: String,
    /// What the buyer would get now (`qev::position_value`: the shares at the redemption price
    /// plus the USDai the request is owed or escrows and its unclaimed wait-fees): the
    /// `min_value` of a purchase at this state.
    pub position_value: String,
}

/// `GET /v1/queue/listings`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ListingsDto {
    /// The height read.
    pub height: u64,
    /// Listed requests, by id.
    pub listings: Vec<ListingDto>,
}

/// Deployed senior principal by one key.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DeployedDto {
    /// A silo id or an asset class.
    pub key: String,
    /// Senior principal.
    pub senior_principal: String,
}

/// The vault's phase mix: idle versus deployed.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PhaseMixDto {
    /// Idle USDai (unallocated).
    pub idle: String,
    /// Senior principal deployed in loans.
    pub deployed: String,
    /// Deployed share of idle + deployed (bps).
    pub deployed_bps: u128,
    /// Deployed by silo.
    pub by_silo: Vec<DeployedDto>,
    /// Deployed by asset class, each loan's senior principal split by its collateral value.
    pub by_asset_class: Vec<DeployedDto>,
    /// Gross APY (bps): senior rates weighted by senior principal, idle at the T-bill rate;
    /// before fees.
    pub blended_apy_bps: u128,
}
