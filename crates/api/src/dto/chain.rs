//! Wire types of the chain itself: block headers and blocks, the node's status, consensus and
//! health, the state export, certificates, evidence and Merkle proofs.

use super::ErrorBody;
use alloy_primitives::{B256, Bytes};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
