//! infrafi-validator: the node's executor replicated by BFT consensus (SPEC 16).
//!
//! Several independent operators each run a validator: the same node (mempool, executor,
//! store, API) driven by Commonware's `simplex` consensus and its `marshal` block layer instead
//! of the single-node producer. Every Commonware type stays in this crate; the node sees only its
//! [`infrafi_node::Replica`] seam (propose, verify, finalize) and opaque certificate bytes.
//!
//! - [`block`]: the block consensus orders (the node's header and transactions); its digest is
//!   the header hash, so a finalization certificate signs the state root;
//! - [`application`]: execute before vote (propose on the parent's state, re-execute to verify);
//! - [`driver`]: finalized blocks committed durably, then acknowledged; certificates, liveness
//!   and fault evidence recorded;
//! - [`gossip`]: transactions submitted to any validator reach every mempool;
//! - [`engine`]: the wiring over any runtime and network (deterministic + simulated in tests,
//!   tokio + authenticated TCP in [`network`]);
//! - [`certificate`] and [`config`]: the validator set, keys, and checking a certificate offline.

pub mod application;
pub mod block;
pub mod certificate;
pub mod config;
pub mod driver;
pub mod engine;
pub mod gossip;
pub mod network;

use std::time::Duration;

/// The consensus signature scheme: ed25519, one key per validator, attributable votes (a
/// certificate lists who signed, and conflicting votes are evidence against their signer).
pub type Scheme = commonware_consensus::simplex::scheme::ed25519::Scheme;
/// A validator's consensus public key.
pub type PublicKey = commonware_cryptography::ed25519::PublicKey;
/// A validator's consensus private key.
pub type PrivateKey = commonware_cryptography::ed25519::PrivateKey;
/// A finalization certificate: 2f+1 validators' signatures over a block's digest.
pub type Finalization = commonware_consensus::simplex::types::Finalization<Scheme, block::Digest>;

pub use application::{Application, SharedReplica};
pub use certificate::{CertificateError, CheckedCertificate, ValidatorEntry, ValidatorSet};
pub use config::{ConfigError, ValidatorConfig};
pub use driver::Evidence;
pub use engine::{Channels, EngineConfig, Start};

/// Block pace and bounds, the same on every validator (they are validity rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a leader waits after the last block before proposing the next.
    pub block_time: Duration,
    /// The most transactions in one block.
    pub block_txs_max: usize,
    /// The largest block, encoded.
    pub block_bytes_max: usize,
}

/// A fault a validator injects on purpose, for tests that prove the others withstand it.
/// Production validators run [`Fault::None`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    /// An honest validator.
    #[default]
    None,
    /// Proposes blocks whose header carries a wrong post-execution state root.
    WrongStateRoot,
}

/// The default largest block, encoded: 4 MiB (about 10,000 ordinary transactions).
pub const BLOCK_BYTES_MAX_DEFAULT: usize = 4 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            block_time: infrafi_node::BLOCK_TIME_DEFAULT,
            block_txs_max: infrafi_node::BLOCK_TXS_MAX_DEFAULT,
            block_bytes_max: BLOCK_BYTES_MAX_DEFAULT,
        }
    }
}

/// The signing namespace of a chain's consensus: votes for one chain are worthless on another.
pub fn namespace(chain_id: u64) -> Vec<u8> {
    format!("infrafi/consensus/{chain_id}").into_bytes()
}
