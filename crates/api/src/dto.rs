//! Wire types of the API, kept apart from the domain: amounts are strings of base units
//! (10^-18), addresses and hashes `0x` hex, and every read is stamped with its height.

use alloy_primitives::{Address, B256, Bytes};
use infrafi_core::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Every 4xx and 5xx body. `code` is always the stable snake_case name; when the error is a
/// transaction's result code (a submission the state machine would reject), `number` carries
/// its stable number, as in a receipt's error ([`TxErrorBody`]).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// The stable snake_case code.
    pub code: String,
    /// The result code's stable number, when `code` is a transaction result code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u16>,
    /// A sentence.
    pub message: String,
}

impl ErrorBody {
    /// The body for `code`: `number` is filled when `code` names a transaction result code
    /// (names are unique across result codes and the API's own codes).
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ErrorBody {
        let code = code.into();
        let number = infrafi_core::TxError::by_name(&code).map(infrafi_core::TxError::code);
        ErrorBody { code, number, message: message.into() }
    }
}

/// `POST /v1/tx`: a signed transaction.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TxRequest {
    /// The infrafi chain it is for (the signed message's `chain`).
    pub chain_id: u64,
    /// The chain the signing wallet was on: the EIP-712 domain's `chainId`. Required: a
    /// request without it was signed under domain version 1 and is refused
    /// (`signing_scheme_retired`).
    #[serde(default)]
    pub signature_chain_id: Option<u64>,
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
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TxAccepted {
    /// The transaction hash.
    #[schemars(with = "crate::schema::Hash")]
    pub tx_hash: B256,
    /// Always `pending`.
    pub status: String,
}

/// One item of the `POST /v1/txs` answer: a hash or an error.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct BatchItem {
    /// The hash, when accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::schema::Hash>")]
    pub tx_hash: Option<B256>,
    /// The error, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// A transaction's receipt error (and a dry-run's): the same meanings as [`ErrorBody`].
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TxErrorBody {
    /// The stable snake_case code.
    pub code: String,
    /// Its stable number.
    pub number: u16,
    /// A sentence.
    pub message: String,
}

/// `GET /v1/tx/{hash}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TxStatus {
    /// The hash.
    #[schemars(with = "crate::schema::Hash")]
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
    #[schemars(with = "Option<crate::schema::Address>")]
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
    #[schemars(with = "Vec<crate::schema::Event>")]
    pub events: Vec<Event>,
}

/// A block header.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct HeaderDto {
    /// The chain.
    pub chain_id: u64,
    /// The height.
    pub height: u64,
    /// Unix seconds.
    pub timestamp: u64,
    /// This block's hash.
    #[schemars(with = "crate::schema::Hash")]
    pub hash: B256,
    /// The parent's hash.
    #[schemars(with = "crate::schema::Hash")]
    pub parent_hash: B256,
    /// Root over transaction hashes.
    #[schemars(with = "crate::schema::Hash")]
    pub transactions_root: B256,
    /// Root over receipt hashes.
    #[schemars(with = "crate::schema::Hash")]
    pub receipts_root: B256,
    /// Root of the state after the block.
    #[schemars(with = "crate::schema::Hash")]
    pub state_root: B256,
    /// Transactions in the block.
    pub transaction_count: u32,
}

impl HeaderDto {
    /// The header itself (its hash is `hash` when the DTO is genuine).
    pub fn to_header(&self) -> infrafi_node::BlockHeader {
        infrafi_node::BlockHeader {
            chain_id: self.chain_id,
            height: self.height,
            timestamp: self.timestamp,
            parent_hash: self.parent_hash,
            transactions_root: self.transactions_root,
            receipts_root: self.receipts_root,
            state_root: self.state_root,
            transaction_count: self.transaction_count,
        }
    }
}

/// `GET /v1/blocks/{height}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct BlockDto {
    /// The header.
    pub header: HeaderDto,
    /// The transaction hashes in order.
    #[schemars(with = "Vec<crate::schema::Hash>")]
    pub transactions: Vec<B256>,
}

/// `GET /v1/status`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct StatusDto {
    /// The chain.
    pub chain_id: u64,
    /// The last committed height.
    pub height: u64,
    /// Its hash.
    #[schemars(with = "crate::schema::Hash")]
    pub block_hash: B256,
    /// Its state root.
    #[schemars(with = "crate::schema::Hash")]
    pub state_root: B256,
    /// Its timestamp (the protocol's time).
    pub timestamp: u64,
    /// Transactions waiting.
    pub mempool_size: usize,
    /// The most transactions that can wait (beyond it, `mempool_full`).
    pub mempool_capacity: usize,
    /// Whether devnet controls are on.
    pub devnet: bool,
    /// `single` (one node orders every block) or `validator` (blocks are ordered by BFT
    /// consensus among the validators).
    pub mode: String,
    /// The highest height this node has committed as final (every committed block is final:
    /// a single node commits its own blocks, a validator only blocks finalized by a quorum).
    pub finalized_height: u64,
    /// Validator mode: this validator's place in the set and the peers it sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus: Option<ConsensusDto>,
    /// Where the node's time went since it started (wall-clock microseconds, summed):
    /// admission and block production, phase by phase. `infrafi bench-node` reads it before
    /// and after a load.
    pub timings: infrafi_node::Timings,
}

/// Validator mode: the consensus engine's view of the network.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ConsensusDto {
    /// This validator's index in the validator set.
    pub validator_index: u32,
    /// This validator's consensus public key (hex).
    pub public_key: String,
    /// How many validators there are.
    pub validators: u32,
    /// The highest finalized height this validator knows of (it may not have the block yet).
    pub finalized_tip: u64,
    /// The newest consensus view this validator has seen activity in.
    pub view: u64,
    /// The other validators, and the newest view each was seen voting in.
    pub peers: Vec<PeerDto>,
}

/// Another validator, as this one sees it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PeerDto {
    /// Its index in the validator set.
    pub index: u32,
    /// Its consensus public key (hex).
    pub public_key: String,
    /// The newest view a vote of it was seen in (0: none yet).
    pub last_view: u64,
    /// Whether it voted within the last few views.
    pub active: bool,
}

impl From<infrafi_node::ConsensusStatus> for ConsensusDto {
    fn from(status: infrafi_node::ConsensusStatus) -> ConsensusDto {
        ConsensusDto {
            validator_index: status.validator_index,
            public_key: status.public_key,
            validators: status.validators,
            finalized_tip: status.finalized_tip,
            view: status.view,
            peers: status
                .peers
                .into_iter()
                .map(|peer| PeerDto {
                    index: peer.index,
                    public_key: peer.public_key,
                    last_view: peer.last_view,
                    active: peer.active,
                })
                .collect(),
        }
    }
}

/// `GET /v1/health`: `200` with status `ok` and no problems, or `503` with status `degraded`,
/// the first problem's code and every problem's sentence (the `{code, message}` shape of every
/// error), and the problems one by one.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HealthDto {
    /// `ok` or `degraded`.
    pub status: String,
    /// When degraded: the most serious problem's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// When degraded: every problem's sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What keeps the node from being healthy, the most serious first
    /// (`invariant_violated`, `node_failed`, `node_not_running`, `producer_stalled`,
    /// `mempool_saturated`).
    pub problems: Vec<ErrorBody>,
}

/// `GET /v1/state/export`: the last committed state in its canonical encoding.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct StateExportDto {
    /// The chain.
    pub chain_id: u64,
    /// The committed height the state is after.
    pub height: u64,
    /// That block's hash.
    #[schemars(with = "crate::schema::Hash")]
    pub block_hash: B256,
    /// That block's state root: the Merkle root of the state's leaves, to check the export.
    #[schemars(with = "crate::schema::Hash")]
    pub state_root: B256,
    /// That block's timestamp (the protocol's time).
    pub timestamp: u64,
    /// The encoding of `state`: `postcard` (`State::encode`, `State::decode`).
    pub encoding: String,
    /// The length of the encoded state in bytes.
    pub state_bytes: usize,
    /// The encoded state, 0x-hex.
    #[schemars(with = "crate::schema::HexBytes")]
    pub state: Bytes,
    /// Validator mode: the block's header and finalization certificate, so that a new
    /// validator (or anyone) checks the export against the quorum before trusting it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateDto>,
}

/// A block's header and the finalization certificate a quorum of validators signed over its
/// hash (validator mode).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct CertificateDto {
    /// The header whose hash the certificate signs; its `state_root` is what proofs are
    /// checked against.
    pub header: HeaderDto,
    /// The finalization certificate (the consensus engine's encoding), 0x-hex. Check it with
    /// `infrafi verify-proof --validators validators.json`.
    #[schemars(with = "crate::schema::HexBytes")]
    pub finalization: Bytes,
}

/// `GET /v1/evidence`: faults the consensus engine proved (conflicting votes).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceDto {
    /// The evidence, oldest first.
    pub evidence: Vec<serde_json::Value>,
    /// The `from` of the next page, if there may be more.
    pub next: Option<u64>,
}

/// One balance.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct BalanceDto {
    /// The asset (`USDC`, `USDai`, `sUSDai`, ...).
    pub asset: String,
    /// Base units.
    pub amount: String,
}

/// `GET /v1/accounts/{address}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AccountDto {
    /// The height read.
    pub height: u64,
    /// The address.
    #[schemars(with = "crate::schema::Address")]
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
    /// What this account may mint and redeem through the gateway now: the least of the
    /// gateway's per-hour room and the account's share of it (issue 16).
    pub gateway_room: GatewayRoomDto,
    /// Its queued deposits' ids (issue 16).
    pub queued_deposits: Vec<u64>,
}

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

/// `GET /v1/params`: the governance parameters in force, the pauses and the changes waiting
/// out the governance delay. The core's own types, as the state holds them.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ParamsDto {
    /// The height read.
    pub height: u64,
    /// Every protocol parameter in force.
    pub params: infrafi_core::params::Params,
    /// Which scopes the guardian has paused.
    pub pause: infrafi_core::params::PauseFlags,
    /// Changes that reduce users' rights, in the order they take effect.
    pub pending_changes: Vec<PendingChangeDto>,
}

/// A parameter change waiting out the governance delay.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PendingChangeDto {
    /// When it takes effect (unix seconds of block time).
    pub effective_at: u64,
    /// The change.
    pub change: infrafi_core::params::ParameterChange,
}

/// `GET /v1/points/leaderboard`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LeaderboardDto {
    /// The height read.
    pub height: u64,
    /// The rows.
    pub leaders: Vec<LeaderDto>,
}

/// `GET /v1/proofs/...`: a Merkle proof of one state leaf against a block's state root.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ProofDto {
    /// The block whose state is proven.
    pub height: u64,
    /// Its hash.
    #[schemars(with = "crate::schema::Hash")]
    pub block_hash: B256,
    /// Its state root.
    #[schemars(with = "crate::schema::Hash")]
    pub state_root: B256,
    /// The leaf key.
    #[schemars(with = "crate::schema::HexBytes")]
    pub key: Bytes,
    /// The leaf value (canonical encoding); `null` proves absence.
    #[schemars(with = "Option<crate::schema::HexBytes>")]
    pub value: Option<Bytes>,
    /// The value decoded, for people.
    pub decoded: serde_json::Value,
    /// The proof.
    #[schemars(with = "crate::schema::MerkleProof")]
    pub proof: infrafi_merkle::Proof,
    /// Validator mode: the certificate of the block whose state root the proof is against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateDto>,
}

/// `POST /v1/devnet/advance-time`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceTimeRequest {
    /// Seconds to move forward.
    pub seconds: u64,
}

/// `POST /v1/devnet/advance-time` done.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AdvanceTimeDto {
    /// The total offset from the wall clock.
    pub offset_secs: u64,
    /// The height committed with the new time.
    pub height: u64,
    /// Its timestamp.
    pub timestamp: u64,
}

/// A silo (SPEC 10).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SiloDto {
    /// Its id.
    pub id: u64,
    /// Its curator.
    #[schemars(with = "crate::schema::Address")]
    pub curator: Address,
    /// Who owns its first-loss capital: the curator, or the predecessor who posted it when a
    /// successor services the silo (only the owner may deposit or withdraw it).
    #[schemars(with = "crate::schema::Address")]
    pub capital_owner: Address,
    /// Asset classes it lends against.
    pub eligible_classes: Vec<String>,
    /// Largest LTV at origination (bps).
    pub max_initial_ltv_bps: u32,
    /// LTV that opens a margin call (bps).
    pub margin_call_ltv_bps: u32,
    /// Largest share of the silo's senior exposure one borrower may hold (bps).
    pub max_borrower_share_bps: u32,
    /// Curator's cut of senior interest (bps).
    pub curator_fee_bps: u32,
    /// Senior exposure cap set by admin.
    pub senior_cap: String,
    /// Frozen: no new loans.
    pub frozen: bool,
    /// Free first-loss pool.
    pub pool_balance: String,
    /// Senior principal outstanding.
    pub senior_outstanding: String,
    /// Junior principal outstanding.
    pub junior_outstanding: String,
    /// First-loss capital: pool plus junior funded.
    pub first_loss_capital: String,
    /// First-loss capital required by the current senior exposure.
    pub first_loss_requirement: String,
    /// Loans outstanding.
    pub loans_outstanding: u32,
    /// Losses absorbed so far.
    pub losses_absorbed: String,
    /// Its part of the vault's impairment.
    pub impairment: String,
}

/// `GET /v1/silos`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SilosDto {
    /// The height read.
    pub height: u64,
    /// The silos, by id.
    pub silos: Vec<SiloDto>,
}

/// `GET /v1/silos/{id}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SiloDetailDto {
    /// The height read.
    pub height: u64,
    /// The silo.
    pub silo: SiloDto,
    /// Its open (active or defaulted) loans.
    pub open_loans: Vec<u64>,
    /// Its loans in margin call or default.
    pub impaired_loans: Vec<u64>,
}

/// One tranche of a loan.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TrancheDto {
    /// Funded at origination.
    pub funded: String,
    /// Outstanding.
    pub principal: String,
    /// APR in bps (rounded down).
    pub apr_bps: u128,
}

/// A loan (SPEC 9).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LoanDto {
    /// Its id.
    pub id: u64,
    /// Its silo.
    pub silo: u64,
    /// Its borrower.
    #[schemars(with = "crate::schema::Address")]
    pub borrower: Address,
    /// `proposed`, `active`, `repaid`, `defaulted`, `settled`, `cancelled`.
    pub status: String,
    /// Its collateral.
    pub receipts: Vec<u64>,
    /// Vault-funded tranche.
    pub senior: TrancheDto,
    /// Pool-funded tranche.
    pub junior: TrancheDto,
    /// Outstanding principal.
    pub balance: String,
    /// Blended APR (bps).
    pub apr_bps: u128,
    /// `amortized` or `fixed_principal`.
    pub model: String,
    /// Payments in the schedule.
    pub periods: u32,
    /// Payments still to make, the current one included.
    pub periods_remaining: u32,
    /// Seconds between payments.
    pub interval_secs: u64,
    /// Grace after a deadline.
    pub grace_period_secs: u64,
    /// When it was originated (0 for a proposal).
    pub originated_at: u64,
    /// The next payment's deadline.
    pub next_due_at: u64,
    /// The proposal's acceptance deadline.
    pub expires_at: u64,
    /// The open margin call, if any.
    pub margin_call: Option<CureWindowDto>,
    /// The last re-mark: collateral value and LTV.
    pub mark: Option<MarkDto>,
    /// When it defaulted.
    pub defaulted_at: Option<u64>,
    /// Interest paid so far.
    pub interest_paid: String,
    /// Principal repaid so far.
    pub principal_paid: String,
    /// Whether it is breached (issue 16): its debt-service reserve is below the requirement
    /// or its borrower's report is overdue; `breach` holds the cure window.
    pub breached: bool,
    /// The open breach, if any (`reason`: `reserve_below_requirement` or `report_overdue`).
    pub breach: Option<CureWindowDto>,
    /// Its debt-service reserve.
    pub debt_service_reserve: DebtServiceReserveDto,
    /// Seconds between the borrower's reports (0: none required).
    pub report_interval_secs: u64,
    /// The borrower's latest report.
    pub last_report: Option<BorrowerReportDto>,
    /// When the next report is due (none when reports are not required or the loan is not
    /// active).
    pub report_due_at: Option<u64>,
}

/// An open margin call or breach: why, since when, and until when the borrower may cure it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CureWindowDto {
    /// When it opened (unix seconds).
    pub opened_at: u64,
    /// When the cure window ends (unix seconds): uncured, the loan may be defaulted then.
    pub cure_deadline_at: u64,
    /// Why, in snake_case (`ltv_above_limit`, `collateral_ineligible`,
    /// `payment_missed`; for a breach `reserve_below_requirement`, `report_overdue`).
    pub reason: String,
}

/// A borrower's report (issue 16).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct BorrowerReportDto {
    /// When it was posted (unix seconds).
    pub at: u64,
    /// The hash of the report document.
    #[schemars(with = "crate::schema::Hash")]
    pub document_hash: String,
}

/// A loan's debt-service reserve (issue 16).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DebtServiceReserveDto {
    /// Payments it holds by covenant.
    pub periods: u32,
    /// What it must hold.
    pub required: String,
    /// What it holds.
    pub balance: String,
    /// Paid out of it for missed payments, ever.
    pub drawn_total: String,
}

/// A re-mark.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct MarkDto {
    /// When.
    pub at: u64,
    /// Collateral value for LTV.
    pub collateral_value: String,
    /// Balance / value (bps, rounded up).
    pub ltv_bps: String,
}

/// `GET /v1/loans`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LoansDto {
    /// The height read.
    pub height: u64,
    /// Matching loans, by id, from `after` on.
    pub loans: Vec<LoanDto>,
    /// The id to pass as `after` for the next page, if there may be one.
    pub next_after: Option<u64>,
}

/// What a repayment now would cost.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PaymentDueDto {
    /// Payments it covers (1 on time, the missed count when late).
    pub installments: u32,
    /// Scheduled interest.
    pub interest: String,
    /// Scheduled principal.
    pub principal: String,
    /// Grace interest on late payments.
    pub grace_interest: String,
    /// The exit fee, with the final payment.
    pub exit_fee: String,
    /// Everything due.
    pub total: String,
}

/// One remaining payment of an on-time borrower.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ScheduledPaymentDto {
    /// Its deadline.
    pub due_at: u64,
    /// Interest.
    pub interest: String,
    /// Principal.
    pub principal: String,
    /// Interest plus principal.
    pub payment: String,
    /// Balance after it.
    pub closing_balance: String,
}

/// A loan's schedule as it stands.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LoanScheduleDto {
    /// The next deadline.
    pub next_payment_due_at: u64,
    /// What `repay_loan` would charge now.
    pub payment_due_now: PaymentDueDto,
    /// Payments still to make.
    pub payments_remaining: u32,
    /// Deadlines already missed.
    pub payments_missed: u32,
    /// Whether `trigger_default` would succeed now.
    pub default_due: bool,
    /// The remaining on-time schedule.
    pub remaining: Vec<ScheduledPaymentDto>,
}

/// `GET /v1/loans/{id}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LoanDetailDto {
    /// The height read.
    pub height: u64,
    /// The loan.
    pub loan: LoanDto,
    /// Its schedule, while active.
    pub schedule: Option<LoanScheduleDto>,
    /// While proposed: the payments it would make if accepted now (the first one interval
    /// after the read).
    pub proposed_schedule: Option<Vec<ScheduledPaymentDto>>,
    /// Who holds its foreclosed receipts to sell them, once foreclosed.
    #[schemars(with = "Option<crate::schema::Address>")]
    pub liquidation_agent: Option<Address>,
    /// Sale reports of its receipts held for the admin's decision (issue 11): a cost above the
    /// class's recovery cost model (`decide_held_sale` approves or rejects one).
    pub held_sales: Vec<HeldSaleDto>,
}

/// A sale report held for the admin's decision.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HeldSaleDto {
    /// The receipt sold.
    pub receipt_id: u64,
    /// The liquidation agent who reported it.
    #[schemars(with = "crate::schema::Address")]
    pub agent: Address,
    /// When it was held.
    pub held_at: u64,
    /// What the buyer paid, as reported (held in escrow).
    pub gross_proceeds: String,
    /// The ITAD commission reported.
    pub itad_commission: String,
    /// Legal costs reported.
    pub legal_costs: String,
    /// Logistics costs reported.
    pub logistics_costs: String,
    /// Data destruction costs reported.
    pub data_destruction_costs: String,
}

/// A receipt's insurance.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct InsuranceDto {
    /// `insured`, `expired` or `uninsured`.
    pub status: String,
    /// The insurer.
    #[schemars(with = "Option<crate::schema::Address>")]
    pub insurer: Option<Address>,
    /// The policy.
    #[schemars(with = "Option<crate::schema::Hash>")]
    pub policy_id: Option<B256>,
    /// Coverage.
    pub coverage: Option<String>,
    /// Expiry.
    pub expires_at: Option<u64>,
}

/// A receipt's valuation.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ValuationDto {
    /// The appraiser.
    #[schemars(with = "crate::schema::Address")]
    pub appraiser: Address,
    /// The appraised value.
    pub value: String,
    /// When.
    pub at: u64,
    /// The depreciation model's value now.
    pub model_value_now: String,
}

/// A CALIBER receipt (SPEC 8).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReceiptDto {
    /// Its id.
    pub id: u64,
    /// Its asset class.
    pub class: String,
    /// The issuing custodian.
    #[schemars(with = "crate::schema::Address")]
    pub custodian: Address,
    /// Its owner.
    #[schemars(with = "crate::schema::Address")]
    pub owner: Address,
    /// Units.
    pub quantity: u32,
    /// Facility.
    pub facility: String,
    /// Jurisdiction.
    pub jurisdiction: String,
    /// `issued`, `pledged`, `released`, `foreclosed`, `sold`, `redeemed`.
    pub status: String,
    /// The loan it secures.
    pub loan: Option<u64>,
    /// When issued.
    pub issued_at: u64,
}

/// `GET /v1/receipts`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReceiptsDto {
    /// The height read.
    pub height: u64,
    /// Matching receipts, by id, from `after` on.
    pub receipts: Vec<ReceiptDto>,
    /// The id to pass as `after` for the next page, if there may be one.
    pub next_after: Option<u64>,
}

/// `GET /v1/receipts/{id}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReceiptDetailDto {
    /// The height read.
    pub height: u64,
    /// The receipt.
    pub receipt: ReceiptDto,
    /// Its insurance.
    pub insurance: InsuranceDto,
    /// Its latest valuation.
    pub valuation: Option<ValuationDto>,
    /// The value used for LTV now: the lesser of appraisal and model.
    pub value_for_ltv: String,
    /// Whether it is eligible collateral now.
    pub eligible: bool,
    /// Why not, as a stable code.
    pub ineligible_reason: Option<String>,
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
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DeployedDto {
    /// A silo id or an asset class.
    pub key: String,
    /// Senior principal.
    pub senior_principal: String,
}

/// The vault's phase mix: idle versus deployed.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
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

/// One series a node records.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HistorySeriesDto {
    /// Its name: `GET /v1/history/{name}`.
    pub name: String,
    /// `usdai`, `susdai`, `price_wad`, `points`, `count` or `bps`.
    pub unit: String,
    /// What it is.
    pub description: String,
    /// Computed when read (the realised APYs) rather than stored.
    pub derived: bool,
}

/// `GET /v1/history`: the series and the cadence they are sampled at.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HistoryIndexDto {
    /// Seconds of block time between samples.
    pub interval_secs: u64,
    /// The most points one read returns.
    pub points_max: u64,
    /// The latest sample's block timestamp.
    pub latest_at: Option<u64>,
    /// The latest sample's block height.
    pub latest_height: Option<u64>,
    /// Every series.
    pub series: Vec<HistorySeriesDto>,
}

/// One point of a series.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HistoryPointDto {
    /// The block timestamp of the sample.
    pub timestamp: u64,
    /// Its block height.
    pub height: u64,
    /// The value: base units, an 18-decimal price, a count, or basis points (may be negative).
    pub value: String,
}

/// `GET /v1/history/{series}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HistoryDto {
    /// The series.
    pub series: String,
    /// The range's start (unix seconds, inclusive).
    pub from: u64,
    /// The range's end (inclusive).
    pub to: u64,
    /// One point per this many seconds: the last sample in each step.
    pub step_secs: u64,
    /// Seconds of block time between samples.
    pub interval_secs: u64,
    /// The points, oldest first; steps without a sample are left out.
    pub points: Vec<HistoryPointDto>,
}

/// `POST /v1/dry-run`: an action to preview, from `sender`. Nothing is signed.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    /// Who would send it.
    pub sender: String,
    /// The action, as in a transaction's payload (`{"type":"stake","assets":"...",...}`).
    pub action: serde_json::Value,
}

/// `POST /v1/dry-run`: what the action would do if the next block ran it now.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DryRunDto {
    /// The committed height it was applied on top of.
    pub height: u64,
    /// The time it was applied at.
    pub timestamp: u64,
    /// `applied` or `rejected`.
    pub status: String,
    /// Why it would be rejected.
    pub error: Option<TxErrorBody>,
    /// The events it would emit.
    #[schemars(with = "Vec<crate::schema::Event>")]
    pub events: Vec<Event>,
    /// The sender's non-zero balances after it.
    pub balances: Vec<BalanceDto>,
    /// The redemption requests it names, as they would stand after it.
    pub requests: Vec<RequestDetailDto>,
    /// The loans it names, as they would stand after it.
    pub loans: Vec<LoanDetailDto>,
}

/// `POST /v1/typed-data`: what to sign for an action.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TypedDataRequest {
    /// Who signs.
    pub sender: String,
    /// The action, as in a transaction's payload.
    pub action: serde_json::Value,
    /// The chain the signing wallet is on (`eth_chainId`): the EIP-712 domain's `chainId`.
    pub signature_chain_id: u64,
    /// The nonce to use; by default the sender's next one, counting its waiting transactions.
    #[serde(default)]
    pub nonce: Option<u64>,
}

/// A transaction without its signature: add `signature` and `POST /v1/tx`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct UnsignedTxDto {
    /// The infrafi chain.
    pub chain_id: u64,
    /// The signing wallet's chain.
    pub signature_chain_id: u64,
    /// The signer.
    #[schemars(with = "crate::schema::Address")]
    pub sender: Address,
    /// Its nonce.
    pub nonce: u64,
    /// The action's name.
    pub action: String,
    /// The action's canonical JSON, exactly as to be signed.
    pub payload: String,
}

/// `POST /v1/typed-data`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TypedDataDto {
    /// The EIP-712 typed data, as `eth_signTypedData_v4` takes it: `{types, primaryType,
    /// domain, message}`.
    pub typed_data: serde_json::Value,
    /// The transaction it signs.
    pub transaction: UnsignedTxDto,
}
