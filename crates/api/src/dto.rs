//! Wire types of the API, kept apart from the domain: amounts are strings of base units
//! (10^-18), addresses and hashes `0x` hex, and every read is stamped with its height.
//!
//! This file holds errors, transactions, accounts, parameters and the devnet's requests;
//! `chain`, `reserve`, `vault`, `credit` and `history` hold the rest, re-exported here.

mod chain;
mod credit;
mod history;
mod reserve;
mod vault;

use alloy_primitives::{Address, B256};
pub use chain::{
    BlockDto, CertificateDto, ConsensusDto, EvidenceDto, HeaderDto, HealthDto, PeerDto, ProofDto,
    StateExportDto, StatusDto,
};
pub use credit::{
    AssetClassDto, AssetClassesDto, BorrowerReportDto, ClassRecoveryDto, CureWindowDto,
    DebtServiceReserveDto, HeldSaleDto, IncomeTermsDto, InsuranceDto, LoanDetailDto, LoanDto,
    LoanScheduleDto, LoansDto, MarkDto, PaymentDueDto, PresenceAttestationDto, PresenceDto,
    ReceiptDetailDto, ReceiptDto, ReceiptsDto, RecoveriesDto, RecoveryDto, RentalIndexDto,
    ResidualClaimDto, ScheduledPaymentDto, SiloDetailDto, SiloDto, SilosDto, TrancheDto,
    ValuationDto,
};
pub use history::{HistoryDto, HistoryIndexDto, HistoryPointDto, HistorySeriesDto};
use infrafi_core::Event;
pub use reserve::{
    AttestedBackingDto, DepositQueueDto, GatewayRoomDto, QueuedDepositDto, RateLimitDto,
    RateLimitsDto, ReserveAttestationDto, ReserveAttestationsDto, ReserveDto, StablecoinDto,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use vault::{
    DeployedDto, EstimateDto, LeaderDto, LeaderboardDto, ListingDto, ListingsDto, PhaseMixDto,
    QevEstimateDto, QevPositionDto, QueueDto, RequestDetailDto, RequestDto, RoundDto, RoundsDto,
    SealedBidDto, VaultDto, WaitFeesDto,
};

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
