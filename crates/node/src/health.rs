//! Whether the node is healthy, and if not, why (`GET /v1/health`): a node that cannot make
//! progress says so instead of answering `ok`. The rules are a pure function of what the node
//! observes ([`assess`]), so they are tested without stalling a real producer.
//!
//! - **Stopped**: the producer (or the validator) stopped after a fatal error: a block that
//!   breaks a SPEC 14 invariant (`invariant_violated`, naming it; the block was not
//!   committed), a block that could not be committed (`node_failed`, with the error), or on
//!   shutdown (`node_not_running`).
//! - **Stalled**: no block committed for [`STALL_BLOCK_TIMES`] block times (at least
//!   [`STALL_SECS_MIN`] seconds): a single node commits a block every tick, even an empty one,
//!   so silence means the producer is stuck (or, for a validator, consensus is).
//! - **Saturated**: the mempool holds [`SATURATED_PERCENT`]% of its capacity or more; new
//!   senders are about to be refused with `mempool_full`.

use crate::chain::BrokenInvariant;
use std::time::Duration;

/// Block times without a commit after which the producer counts as stalled.
pub const STALL_BLOCK_TIMES: u32 = 10;
/// The shortest silence that counts as a stall, whatever the block time.
pub const STALL_SECS_MIN: u64 = 5;
/// The mempool's fill, in percent of its capacity, from which it counts as saturated.
pub const SATURATED_PERCENT: usize = 90;

/// One reason the node is not healthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealthProblem {
    /// A fatal error stopped the node (a block that could not be committed: the node stops
    /// rather than acknowledge what may not be durable; a validator's divergence).
    Failed {
        /// The error, as logged.
        error: String,
    },
    /// A block broke an invariant: it was not committed and production halted.
    InvariantViolated(BrokenInvariant),
    /// The node was stopped (shut down or halted).
    NotRunning,
    /// No block was committed for this long.
    ProducerStalled {
        /// Time since the last commit.
        since: Duration,
    },
    /// The mempool is nearly full.
    MempoolSaturated {
        /// Transactions waiting.
        waiting: usize,
        /// The mempool's capacity.
        capacity: usize,
    },
}

impl HealthProblem {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            HealthProblem::Failed { .. } => "node_failed",
            HealthProblem::InvariantViolated(_) => "invariant_violated",
            HealthProblem::NotRunning => "node_not_running",
            HealthProblem::ProducerStalled { .. } => "producer_stalled",
            HealthProblem::MempoolSaturated { .. } => "mempool_saturated",
        }
    }

    /// A sentence for operators.
    pub fn message(&self) -> String {
        match self {
            HealthProblem::Failed { error } => {
                format!("The node stopped after a fatal error: {error}")
            }
            HealthProblem::InvariantViolated(broken) => format!(
                "Block {} would break invariant {} ({}); it was not committed and block \
                 production is halted.",
                broken.height, broken.invariant, broken.detail
            ),
            HealthProblem::NotRunning => "The block producer has stopped.".into(),
            HealthProblem::ProducerStalled { since } => {
                format!("No block has been committed for {} s.", since.as_secs())
            }
            HealthProblem::MempoolSaturated { waiting, capacity } => format!(
                "The mempool holds {waiting} of {capacity} transactions; new senders are about \
                 to be refused."
            ),
        }
    }
}

/// What the node observes, for [`assess`].
#[derive(Clone, Debug)]
pub struct Observed {
    /// Whether the producer (or validator) runs.
    pub running: bool,
    /// Why it stopped, after a fatal error.
    pub fatal_error: Option<String>,
    /// The invariant a block broke, when that stopped it.
    pub broken_invariant: Option<BrokenInvariant>,
    /// Time since the last commit (or since the start, before the first).
    pub since_commit: Duration,
    /// The configured block time.
    pub block_time: Duration,
    /// Transactions waiting.
    pub waiting: usize,
    /// The mempool's capacity.
    pub capacity: usize,
}

/// The silence after which a producer with `block_time` counts as stalled.
pub fn stall_after(block_time: Duration) -> Duration {
    (block_time * STALL_BLOCK_TIMES).max(Duration::from_secs(STALL_SECS_MIN))
}

/// Every problem `observed` shows, the most serious first; empty when healthy.
pub fn assess(observed: &Observed) -> Vec<HealthProblem> {
    let mut problems = Vec::new();
    if !observed.running {
        problems.push(match (&observed.broken_invariant, &observed.fatal_error) {
            (Some(broken), _) => HealthProblem::InvariantViolated(broken.clone()),
            (None, Some(error)) => HealthProblem::Failed { error: error.clone() },
            (None, None) => HealthProblem::NotRunning,
        });
    } else if observed.since_commit >= stall_after(observed.block_time) {
        problems.push(HealthProblem::ProducerStalled { since: observed.since_commit });
    }
    let saturated =
        observed.waiting.saturating_mul(100) >= observed.capacity.saturating_mul(SATURATED_PERCENT);
    if observed.capacity > 0 && saturated {
        problems.push(HealthProblem::MempoolSaturated {
            waiting: observed.waiting,
            capacity: observed.capacity,
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Observed {
        Observed {
            running: true,
            fatal_error: None,
            broken_invariant: None,
            since_commit: Duration::from_millis(500),
            block_time: Duration::from_secs(1),
            waiting: 10,
            capacity: 100,
        }
    }

    #[test]
    fn a_running_node_that_commits_with_room_in_its_pool_is_healthy() {
        assert_eq!(assess(&healthy()), Vec::new());
    }

    #[test]
    fn a_fatal_error_is_reported_with_its_error_and_a_shutdown_as_not_running() {
        let failed = Observed {
            running: false,
            fatal_error: Some("disk full".into()),
            since_commit: Duration::from_secs(60),
            ..healthy()
        };
        let problems = assess(&failed);
        assert_eq!(problems, vec![HealthProblem::Failed { error: "disk full".into() }]);
        assert_eq!(problems[0].code(), "node_failed");
        assert!(problems[0].message().contains("disk full"));
        let stopped = Observed { running: false, ..healthy() };
        assert_eq!(assess(&stopped), vec![HealthProblem::NotRunning]);
    }

    #[test]
    fn a_broken_invariant_is_reported_by_its_name_ahead_of_the_error_it_caused() {
        let broken = BrokenInvariant {
            height: 7,
            invariant: "usdai_backed_by_reserve".into(),
            detail: "reserve value 1 is below USDai supply 2".into(),
        };
        let halted = Observed {
            running: false,
            fatal_error: Some("block production failed".into()),
            broken_invariant: Some(broken.clone()),
            ..healthy()
        };
        let problems = assess(&halted);
        assert_eq!(problems, vec![HealthProblem::InvariantViolated(broken)]);
        assert_eq!(problems[0].code(), "invariant_violated");
        assert!(
            problems[0].message().contains("Block 7 would break invariant usdai_backed_by_reserve")
        );
    }

    #[test]
    fn a_producer_silent_for_ten_block_times_is_stalled_but_not_one_block_time_sooner() {
        let quiet = |secs| Observed { since_commit: Duration::from_secs(secs), ..healthy() };
        assert_eq!(assess(&quiet(9)), Vec::new());
        assert_eq!(
            assess(&quiet(10)),
            vec![HealthProblem::ProducerStalled { since: Duration::from_secs(10) }]
        );
        // A fast devnet still gets the minimum before it counts as stalled.
        let fast = Observed {
            block_time: Duration::from_millis(20),
            since_commit: Duration::from_secs(4),
            ..healthy()
        };
        assert_eq!(assess(&fast), Vec::new());
    }

    #[test]
    fn a_pool_at_ninety_percent_is_saturated_and_reported_beside_other_problems() {
        let nearly = Observed { waiting: 89, ..healthy() };
        assert_eq!(assess(&nearly), Vec::new());
        let full = Observed { waiting: 90, running: false, ..healthy() };
        assert_eq!(
            assess(&full),
            vec![
                HealthProblem::NotRunning,
                HealthProblem::MempoolSaturated { waiting: 90, capacity: 100 }
            ]
        );
    }
}
