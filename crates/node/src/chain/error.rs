//! Why the chain cannot go on or refuses a block ([`ChainError`]), and the invariant a block's
//! state breaks ([`BrokenInvariant`]): the cheap SPEC 14 set in every build, the full set in
//! debug builds.

use crate::block::BlockHeader;
use alloy_primitives::B256;
use infrafi_core::State;
use infrafi_store::StoreError;

/// An invariant the state after a block breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenInvariant {
    /// The block's height.
    pub height: u64,
    /// The invariant's stable name (`infrafi_core::invariants::BlockInvariant::name`, or
    /// `spec_14` for the full set checked in debug builds).
    pub invariant: String,
    /// What was found.
    pub detail: String,
}

impl BrokenInvariant {
    /// The first invariant `state` (after block `height`) breaks: the cheap set in every
    /// build, then the full SPEC 14 set in debug builds (tests and debug devnets).
    pub(super) fn find(state: &State, height: u64) -> Option<BrokenInvariant> {
        if let Err(violation) = infrafi_core::invariants::check_block(state) {
            return Some(BrokenInvariant {
                height,
                invariant: violation.invariant.name().into(),
                detail: violation.detail,
            });
        }
        if cfg!(debug_assertions)
            && let Err(detail) = infrafi_core::invariants::check(state)
        {
            return Some(BrokenInvariant { height, invariant: "spec_14".into(), detail });
        }
        None
    }
}

/// Why the chain cannot go on, or why a block is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store is empty and no genesis was given.
    #[error("the data directory is empty and no genesis was given")]
    GenesisMissing,
    /// The genesis is unusable.
    #[error("{0}")]
    Genesis(String),
    /// The data directory belongs to another chain.
    #[error("the data directory holds chain {stored}, not chain {configured}")]
    ChainIdMismatch {
        /// The chain in the store.
        stored: u64,
        /// The configured chain.
        configured: u64,
    },
    /// Stored data does not decode or does not match its commitments.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The state after the block breaks an invariant: the block is not committed.
    #[error(
        "block {} would break invariant {}: {}; it is not committed",
        .0.height, .0.invariant, .0.detail
    )]
    InvariantViolated(BrokenInvariant),
    /// The data directory was written with another state encoding.
    #[error(
        "the data directory holds state format {stored}, this build reads format {expected}: \
         move the directory away to start a new chain, or run the build that wrote it"
    )]
    StateFormatMismatch {
        /// The format in the store (1 for stores written before formats were recorded).
        stored: u64,
        /// `infrafi_core::STATE_FORMAT`.
        expected: u64,
    },
    /// The data directory's blocks were signed under another EIP-712 domain version.
    #[error(
        "the data directory holds blocks signed under EIP-712 domain version {stored}, this \
         build verifies version {expected}: their signatures cannot be checked again (replay, \
         validators); move the directory away to start a new chain"
    )]
    SigningVersionMismatch {
        /// The version in the store (1 for stores written before versions were recorded).
        stored: String,
        /// `infrafi_tx::DOMAIN_VERSION`.
        expected: &'static str,
    },
    /// `commit` got a block whose parent is not the committed head.
    #[error("block {height} builds on {parent}, not on the committed head {head}")]
    ParentNotHead {
        /// The block's height.
        height: u64,
        /// The block's parent.
        parent: B256,
        /// The committed head's hash.
        head: B256,
    },
    /// A block to verify does not follow its parent.
    #[error("block {got} does not follow its parent {head}")]
    HeightNotNext {
        /// The parent's height.
        head: u64,
        /// The block.
        got: u64,
    },
    /// A block to verify is older than its parent.
    #[error("block time {timestamp} is before its parent's {parent}")]
    TimestampBeforeParent {
        /// The block's timestamp.
        timestamp: u64,
        /// The parent's.
        parent: u64,
    },
    /// A block to verify has a transaction whose signature, chain or payload fails its check.
    #[error("transaction {index} of the block is invalid: {reason}")]
    TransactionInvalid {
        /// Its index.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A block to verify has a transaction the state machine would refuse before running it:
    /// its nonce is not its sender's next one at its place in the block (`nonce_mismatch`,
    /// 109, the code `tx::consume_nonce` returns). Executing it would overwrite the receipt
    /// of the transaction that used the nonce, so the whole block is refused.
    #[error("transaction {index} of the block is refused: {error}")]
    TransactionRefused {
        /// Its index.
        index: usize,
        /// The state machine's result code.
        error: infrafi_core::TxError,
    },
    /// Re-execution gives another header than the block's.
    #[error("re-execution gives header {computed:?}, the block has {claimed:?}")]
    HeaderMismatch {
        /// The recomputed header.
        computed: Box<BlockHeader>,
        /// The block's header.
        claimed: Box<BlockHeader>,
    },
}
