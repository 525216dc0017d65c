//! Where the node's time goes, summed since it started: admission (signature checks, the
//! mempool's pending state, the journal write) and block production (taking transactions,
//! a validator's check of the signatures it had not seen, copying the parent, running the transactions, the invariants, the state root, the header,
//! the durable commit, rebuilding the mempool's pending state, publishing, folding the store's
//! leaf log).
//!
//! Wall-clock microseconds, for operators (`GET /v1/status` serves these structs as they are) and `infrafi bench-node`, which
//! reads them before and after a load to say what a block's time is made of. Nothing here
//! feeds the protocol: two nodes with different timings commit the same blocks.

use crate::chain::ExecutionTimings;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Admission, summed over every transaction checked since start. Requests are handled in
/// parallel, so these are summed across threads and can exceed the time elapsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AdmissionTimings {
    /// Transactions checked (admitted or not).
    pub transactions: u64,
    /// The stateless check: payload decoding, the typed-data digest and signature recovery
    /// (each transaction's own check, also in a batch checked across all cores).
    pub verify_micros: u64,
    /// The mempool's admission rules and the transaction applied to its pending state,
    /// waiting for the mempool's lock included (a block's rebuild holds it).
    pub pool_micros: u64,
    /// How many times a batch gave the mempool up to a block between two of its transactions
    /// (a block waits for one transaction's admission, not for a whole batch).
    #[serde(default)]
    pub pool_yields: u64,
    /// Storing the admitted transactions durably before answering.
    pub journal_micros: u64,
}

/// Block production, summed over every block made (single node) or committed (validator)
/// since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BlockTimings {
    /// Blocks.
    pub blocks: u64,
    /// Transactions in them.
    pub transactions: u64,
    /// Taking the ready transactions from the mempool (single node).
    pub propose_micros: u64,
    /// Validator: checking the signatures of a block from elsewhere that were not checked at
    /// admission here.
    pub verify_micros: u64,
    /// How many signatures that was: a transaction admitted here is never checked again.
    pub signatures_checked: u64,
    /// Getting the state a block runs on: the state one block behind brought forward by the
    /// leaves changed since, or a whole copy of the parent's.
    pub copy_micros: u64,
    /// How many blocks ran on a whole copy of the parent's state (the first after a start; a
    /// reader still held the state one block behind; a block on a deeper fork).
    pub state_copies: u64,
    /// Running the block's upkeep and its transactions.
    pub execute_micros: u64,
    /// Checking the invariants after the block.
    pub invariants_micros: u64,
    /// Updating the Merkle tree and computing the state root.
    pub state_root_micros: u64,
    /// The transactions and receipts roots and the header.
    pub header_micros: u64,
    /// Encoding the block and its receipts and writing them durably.
    pub commit_micros: u64,
    /// Bringing the mempool's pending state to the new head (the leaves the block and the
    /// waiting transactions changed overwritten with the head's, or a whole copy) and applying
    /// every waiting transaction again.
    pub mempool_micros: u64,
    /// How many commits copied the mempool's pending state whole since the start (a block whose
    /// changes were unknown or that did not follow the previous head; the copy the pool starts
    /// from is not counted).
    pub mempool_rebuilds: u64,
    /// Publishing: the new snapshot, the event feed and the keeper's upkeep.
    pub publish_micros: u64,
    /// Folding the store's leaf log into its leaves table, after publishing (once the log
    /// holds enough: `infrafi_store::FOLD_LEAVES_MIN` changes or `FOLD_BLOCKS_MIN` blocks).
    #[serde(default)]
    pub fold_micros: u64,
    /// How many folds that was.
    #[serde(default)]
    pub folds: u64,
}

/// Everything the node measures about its own time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Timings {
    /// Admission.
    pub admission: AdmissionTimings,
    /// Block production.
    pub blocks: BlockTimings,
}

/// Whole microseconds, saturating.
pub(crate) fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl BlockTimings {
    /// Adds a block's execution.
    pub(crate) fn add_execution(&mut self, execution: &ExecutionTimings) {
        self.verify_micros = self.verify_micros.saturating_add(micros(execution.verify));
        self.signatures_checked =
            self.signatures_checked.saturating_add(execution.signatures_checked);
        self.copy_micros = self.copy_micros.saturating_add(micros(execution.copy));
        self.state_copies = self.state_copies.saturating_add(u64::from(execution.state_copied));
        self.execute_micros = self.execute_micros.saturating_add(micros(execution.transactions));
        self.invariants_micros =
            self.invariants_micros.saturating_add(micros(execution.invariants));
        self.state_root_micros =
            self.state_root_micros.saturating_add(micros(execution.state_root));
        self.header_micros = self.header_micros.saturating_add(micros(execution.header));
    }
}
