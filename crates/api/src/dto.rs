//! Wire types of the API, kept apart from the domain: amounts are strings of base units
//! (10^-18), addresses and hashes `0x` hex, and every read is stamped with its height.

use alloy_primitives::{Address, B256, Bytes};
use infrafi_core::Event;
use serde::{Deserialize, Serialize};

/// Every 4xx and 5xx body.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The stable snake_case code.
    pub code: String,
    /// A sentence.
    pub message: String,
}

/// `POST /v1/tx`: a signed transaction.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxRequest {
    /// The chain it was signed for.
    pub chain_id: u64,
    /// The signer.
    pub sender: String,
    /// The sender's nonce.
    pub nonce: u64,
    /// The action's name.
    pub action: String,
    /// The action's JSON, exactly as signed.
    pub payload: String,
    /// `0x` + 65 bytes hex.
    pub signature: String,
}

/// `POST /v1/tx` accepted.
#[derive(Debug, Serialize, Deserialize)]
pub struct TxAccepted {
    /// The transaction hash.
    pub tx_hash: B256,
    /// Always `pending`.
    pub status: String,
}

/// One item of the `POST /v1/txs` answer: a hash or an error.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchItem {
    /// The hash, when accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<B256>,
    /// The error, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// A transaction's receipt error.
#[derive(Debug, Serialize, Deserialize)]
pub struct TxErrorBody {
    /// The stable number.
    pub code: u16,
    /// The stable name.
    pub name: String,
    /// A sentence.
    pub message: String,
}

/// `GET /v1/tx/{hash}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct TxStatus {
    /// The hash.
    pub tx_hash: B256,
    /// `pending`, `applied` or `rejected`.
    pub status: String,
    /// The block, once committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Its index in the block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// The sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<Address>,
    /// The nonce.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
    /// The action name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<TxErrorBody>,
    /// Its events.
    pub events: Vec<Event>,
}

/// A block header.
#[derive(Debug, Serialize, Deserialize)]
pub struct HeaderDto {
    /// The chain.
    pub chain_id: u64,
    /// The height.
    pub height: u64,
    /// Unix seconds.
    pub timestamp: u64,
    /// This block's hash.
    pub hash: B256,
    /// The parent's hash.
    pub parent_hash: B256,
    /// Root over transaction hashes.
    pub transactions_root: B256,
    /// Root over receipt hashes.
    pub receipts_root: B256,
    /// Root of the state after the block.
    pub state_root: B256,
    /// Transactions in the block.
    pub transaction_count: u32,
}

/// `GET /v1/blocks/{height}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct BlockDto {
    /// The header.
    pub header: HeaderDto,
    /// The transaction hashes in order.
    pub transactions: Vec<B256>,
}

/// `GET /v1/status`.
#[derive(Debug, Serialize, Deserialize)]
pub struct StatusDto {
    /// The chain.
    pub chain_id: u64,
    /// The last committed height.
    pub height: u64,
    /// Its hash.
    pub block_hash: B256,
    /// Its state root.
    pub state_root: B256,
    /// Its timestamp (the protocol's time).
    pub timestamp: u64,
    /// Transactions waiting.
    pub mempool_size: usize,
    /// Whether devnet controls are on.
    pub devnet: bool,
}

/// One balance.
#[derive(Debug, Serialize, Deserialize)]
pub struct BalanceDto {
    /// The asset (`USDC`, `USDai`, `sUSDai`, ...).
    pub asset: String,
    /// Base units.
    pub amount: String,
}

/// `GET /v1/accounts/{address}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccountDto {
    /// The height read.
    pub height: u64,
    /// The address.
    pub address: Address,
    /// The next nonce the state expects.
    pub nonce: u64,
    /// The next nonce counting waiting transactions.
    pub next_nonce: u64,
    /// Non-zero balances.
    pub balances: Vec<BalanceDto>,
    /// Points (18 decimals).
    pub points: String,
    /// Frozen by compliance.
    pub frozen: bool,
    /// KYC verified.
    pub kyc_verified: bool,
    /// Roles held.
    pub roles: Vec<String>,
    /// Open redemption requests.
    pub redemption_requests: Vec<u64>,
}

/// `GET /v1/reserve`.
#[derive(Debug, Serialize, Deserialize)]
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
    /// Harvestable surplus.
    pub surplus: String,
    /// Supported stablecoins.
    pub stablecoins: Vec<StablecoinDto>,
}

/// A supported stablecoin.
#[derive(Debug, Serialize, Deserialize)]
pub struct StablecoinDto {
    /// Its symbol.
    pub symbol: String,
    /// USD price (18 decimals).
    pub price: String,
    /// When posted.
    pub price_posted_at: u64,
}

/// `GET /v1/vault`.
#[derive(Debug, Serialize, Deserialize)]
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
}

/// A redemption request.
#[derive(Debug, Serialize, Deserialize)]
pub struct RequestDto {
    /// Its id.
    pub id: u64,
    /// Its owner.
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
#[derive(Debug, Serialize, Deserialize)]
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
#[derive(Debug, Serialize, Deserialize)]
pub struct RequestDetailDto {
    /// The height read.
    pub height: u64,
    /// The request.
    pub request: RequestDto,
    /// Its service estimate.
    pub estimate: EstimateDto,
}

/// When a request may be served.
#[derive(Debug, Serialize, Deserialize)]
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
#[derive(Debug, Serialize, Deserialize)]
pub struct LeaderDto {
    /// The rank, from 1.
    pub rank: usize,
    /// The address.
    pub address: Address,
    /// Points (18 decimals).
    pub points: String,
}

/// `GET /v1/points/leaderboard`.
#[derive(Debug, Serialize, Deserialize)]
pub struct LeaderboardDto {
    /// The height read.
    pub height: u64,
    /// The rows.
    pub leaders: Vec<LeaderDto>,
}

/// `GET /v1/proofs/...`: a Merkle proof of one state leaf against a block's state root.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProofDto {
    /// The block whose state is proven.
    pub height: u64,
    /// Its hash.
    pub block_hash: B256,
    /// Its state root.
    pub state_root: B256,
    /// The leaf key.
    pub key: Bytes,
    /// The leaf value (canonical encoding); `null` proves absence.
    pub value: Option<Bytes>,
    /// The value decoded, for people.
    pub decoded: serde_json::Value,
    /// The proof.
    pub proof: infrafi_merkle::Proof,
}

/// `POST /v1/devnet/advance-time`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceTimeRequest {
    /// Seconds to move forward.
    pub seconds: u64,
}

/// `POST /v1/devnet/advance-time` done.
#[derive(Debug, Serialize, Deserialize)]
pub struct AdvanceTimeDto {
    /// The total offset from the wall clock.
    pub offset_secs: u64,
    /// The height committed with the new time.
    pub height: u64,
    /// Its timestamp.
    pub timestamp: u64,
}
