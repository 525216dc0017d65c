//! Wire types of USDai's reserve: backing, stablecoin prices, the gateway's rate limits and an
//! account's room under them, reserve attestations and the deposit queue.

use super::BalanceDto;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What one account may pass through the gateway now.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct GatewayRoomDto {
    /// USDai it may add by minting, fee included (null: no limit).
    pub mint: Option<String>,
    /// USDai it may retire by redeeming, fee included (null: no limit).
    pub redeem: Option<String>,
}

/// `GET /v1/reserve`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReserveDto {
    /// The height read.
    pub height: u64,
    /// TBILL units.
    pub tbill_units: String,
    /// The T-bill index (18 decimals).
    pub tbill_index: String,
    /// The T-bill yield as an annual rate in basis points (rounded down).
    pub tbill_apr_bps: String,
    /// TBILL units x index.
    pub reserve_value: String,
    /// USDai outstanding.
    pub usdai_supply: String,
    /// Harvestable surplus by the ledger (TBILL x index - supply).
    pub surplus: String,
    /// The ledger's backing: reserve value / supply in basis points (none with no supply).
    pub ledger_backing_bps: Option<String>,
    /// Whether issuing USDai needs a fresh attestation covering it.
    pub attestation_required: bool,
    /// The oldest attestation USDai may be issued against, in seconds.
    pub attestation_max_age_secs: u64,
    /// How far above the attested value minting may go, in basis points.
    pub attestation_tolerance_bps: u32,
    /// The newest attestation and the backing it shows (none before the first).
    pub attested: Option<AttestedBackingDto>,
    /// Mints and redemptions against their per-hour limits (issue 16).
    pub rate_limits: RateLimitsDto,
    /// Supported stablecoins.
    pub stablecoins: Vec<StablecoinDto>,
}

/// The gateway's per-hour limits, each measured over a sliding hour.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RateLimitsDto {
    /// USDai added to the supply by mints, fees included.
    pub mint: RateLimitDto,
    /// USDai retired by redemptions, fees included.
    pub redeem: RateLimitDto,
    /// The share of each limit one account may use per hour (10000: all of it).
    pub account_share_bps: u32,
}

/// One direction's per-hour limit and what it leaves now.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RateLimitDto {
    /// The most that may pass per hour ("0": no limit).
    pub limit_per_hour: String,
    /// What is counted against it now (it drains at the limit's pace).
    pub used: String,
    /// What may pass now (null: no limit).
    pub room: Option<String>,
}

/// The backing as the newest reserve attestation shows it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AttestedBackingDto {
    /// The attestation.
    pub attestation: ReserveAttestationDto,
    /// Attested value / USDai supply in basis points, rounded down (none with no supply).
    pub backing_bps: Option<String>,
    /// Seconds from its as-of time to the head.
    pub age_secs: u64,
    /// Older than the maximum age: no USDai is issued against it.
    pub is_stale: bool,
    /// Attested value plus the tolerance: the most the supply may reach by minting.
    pub issuance_bound: String,
    /// What a mint may still add now (0 when stale).
    pub mint_headroom: String,
    /// What a harvest would mint now, bounded by the attested surplus when required.
    pub harvestable: String,
}

/// A reserve custodian's attestation.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReserveAttestationDto {
    /// Its number, from 0 in posting order.
    pub id: u64,
    /// The custodian who signed it.
    pub custodian: String,
    /// Face value of the T-bills held (18 decimals).
    pub par_amount: String,
    /// Their market value at `as_of` (18 decimals).
    pub market_value: String,
    /// When the holdings were measured.
    pub as_of: u64,
    /// The keccak-256 of the statement it summarises.
    pub document_hash: String,
    /// When it was posted.
    pub posted_at: u64,
}

/// `GET /v1/reserve/attestations`: newest first.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReserveAttestationsDto {
    /// The height read.
    pub height: u64,
    /// How many attestations exist.
    pub total: u64,
    /// The page, newest first.
    pub attestations: Vec<ReserveAttestationDto>,
}

/// `GET /v1/reserve/deposit-queue`: deposits waiting for room to mint, head first (issue 16).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DepositQueueDto {
    /// The height read.
    pub height: u64,
    /// How many deposits wait.
    pub length: u64,
    /// What the head can do now: `mint` (room for all or part of it), `return` (its depositor
    /// is frozen or unverified, or it would mint nothing), `wait`, or null when empty.
    pub head: Option<String>,
    /// USDai the head would add to the supply now (fee included; null unless `mint`).
    pub head_fill_gross: Option<String>,
    /// The room to mint now: supply cap and attested bound, before rate limits.
    pub issuance_room: String,
    /// Stablecoin escrowed, per stablecoin with any queued.
    pub escrow: Vec<BalanceDto>,
    /// The page, head first.
    pub deposits: Vec<QueuedDepositDto>,
}

/// A deposit waiting in the deposit queue.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct QueuedDepositDto {
    /// Its id (queue order).
    pub id: u64,
    /// The depositor.
    pub owner: String,
    /// The stablecoin.
    pub token: String,
    /// Stablecoin still waiting (18 decimals).
    pub amount: String,
    /// Stablecoin deposited when queued.
    pub deposited: String,
    /// When it was queued.
    pub queued_at: u64,
}

/// A supported stablecoin.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct StablecoinDto {
    /// Its symbol.
    pub symbol: String,
    /// USD price, 18-decimal fixed point (1.0 = 10^18).
    pub price_wad: String,
    /// When posted.
    pub price_posted_at: u64,
}
