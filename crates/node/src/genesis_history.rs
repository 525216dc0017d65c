//! A genesis with a history: actions applied to the genesis state at times before the chain's
//! first block, so a chain can start with a market already in it (a testnet with the devnet's
//! demo book: loans that have aged, paid and fallen late, rounds that have run).
//!
//! Guarantees: the genesis state is a pure function of the genesis and its history (every
//! validator that holds the same two files computes the same state and root, on any machine);
//! every action must succeed, times must not go back, and every invariant must hold at the end,
//! otherwise the chain does not start. The history is kept in the data directory beside the
//! genesis, so [`crate::replay_from_genesis`] audits a store from its genesis exactly as before.
//!
//! The actions are not signed transactions and consume no nonce: like the genesis's balances
//! and roles, they are what whoever assembled the genesis declared, and every operator checks
//! them by holding the identical file (the genesis block's state root commits to the result).
//! Each action names the pre-genesis block it ran in (1, 2, ..), so a block boundary does what
//! it does on a chain (the share price is resolved for points); after the last one the clock's
//! height restarts at 0: the genesis block is height 0 and the chain's first block height 1.

use alloy_primitives::B256;
use infrafi_core::{
    Action, Address, BlockContext, Genesis, State, Transaction, apply, begin_block, invariants,
    state::Clock, table::Journaled,
};
use serde::{Deserialize, Serialize};

/// The most actions a genesis history may hold: a bound on the work every validator does at
/// its first start (each action is applied once, then never again: a restart reloads the
/// state from its leaves). A million ordinary actions (mints, stakes, redemption requests,
/// receipts and loans) apply in seconds in a release build; `infrafi bench-node --queued
/// 100000 --loans 10000` starts from about 155,000.
pub const GENESIS_HISTORY_ACTIONS_MAX: usize = 1_000_000;

/// Actions applied to the genesis state before the first block, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisHistory {
    /// The state root the genesis block must have after the history, when known: a validator
    /// whose build computes another root refuses to start instead of following a chain it
    /// cannot verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_root: Option<B256>,
    /// The actions, in the order they are applied.
    pub actions: Vec<HistoryAction>,
}

/// One action of a genesis history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryAction {
    /// The pre-genesis block it ran in: not below the previous action's.
    pub block: u64,
    /// When it happened (seconds since the Unix epoch): at or after the genesis's timestamp and
    /// the previous action's.
    pub timestamp: u64,
    /// Who sent it.
    pub sender: Address,
    /// What it did.
    pub action: Action,
}

/// Why a genesis history cannot start a chain.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum GenesisHistoryError {
    /// The genesis itself is invalid.
    #[error("the genesis is invalid: {0}")]
    Genesis(String),
    /// The history is longer than [`GENESIS_HISTORY_ACTIONS_MAX`].
    #[error("the genesis history holds {0} actions; at most {max}", max = GENESIS_HISTORY_ACTIONS_MAX)]
    TooLong(usize),
    /// An action's time is before the state's.
    #[error("genesis history action {index} is at {timestamp}, before the state's time {now}")]
    TimeGoesBack {
        /// The action's position.
        index: usize,
        /// Its time.
        timestamp: u64,
        /// The state's time when it runs.
        now: u64,
    },
    /// An action was rejected.
    #[error("genesis history action {index} ({name} by {sender}) was rejected: {reason}")]
    Rejected {
        /// The action's position.
        index: usize,
        /// The action's name.
        name: &'static str,
        /// Its sender.
        sender: Address,
        /// The rejection.
        reason: String,
    },
    /// The state after the history breaks an invariant.
    #[error("the state after the genesis history breaks an invariant: {0}")]
    InvariantBroken(String),
}

impl GenesisHistory {
    /// Applies the history to `genesis`'s state; returns the state the chain starts from.
    pub fn genesis_state(&self, genesis: &Genesis) -> Result<State, GenesisHistoryError> {
        within_bound(self.actions.len())?;
        let mut state = State::from_genesis(genesis)
            .map_err(|e| GenesisHistoryError::Genesis(e.to_string()))?;
        for (index, entry) in self.actions.iter().enumerate() {
            let now = state.now();
            if entry.timestamp < now {
                return Err(GenesisHistoryError::TimeGoesBack {
                    index,
                    timestamp: entry.timestamp,
                    now,
                });
            }
            let rejected = |reason: String| GenesisHistoryError::Rejected {
                index,
                name: entry.action.name(),
                sender: entry.sender,
                reason,
            };
            let block = BlockContext { height: entry.block, timestamp: entry.timestamp };
            if (entry.block, entry.timestamp) != (state.height(), now) {
                // A new block: time accrues interest and points, the share price is resolved.
                begin_block(&mut state, &block).map_err(|e| rejected(e.to_string()))?;
            }
            let transaction = Transaction { sender: entry.sender, action: entry.action.clone() };
            apply(&mut state, &block, &transaction).map_err(|e| rejected(e.to_string()))?;
        }
        // The chain's blocks come after the history's: its genesis block is height 0.
        let now = state.now();
        *state.clock.get_mut() = Clock { height: 0, timestamp: now };
        Journaled::commit(&mut state);
        invariants::check(&state).map_err(GenesisHistoryError::InvariantBroken)?;
        Ok(state)
    }

    /// Whether the history is empty (the chain starts from the genesis state itself).
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

/// A history of `actions` actions is not longer than [`GENESIS_HISTORY_ACTIONS_MAX`].
fn within_bound(actions: usize) -> Result<(), GenesisHistoryError> {
    match actions > GENESIS_HISTORY_ACTIONS_MAX {
        true => Err(GenesisHistoryError::TooLong(actions)),
        false => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use infrafi_core::{Role, action::SetKyc};

    const START: u64 = 1_750_000_000;

    fn genesis() -> (Genesis, Address) {
        let admin = Address::repeat_byte(1);
        let registrar = Address::repeat_byte(2);
        let mut genesis = Genesis::with_admin(admin, START);
        genesis.roles.push((Role::KycRegistrar, registrar));
        (genesis, registrar)
    }

    fn kyc(timestamp: u64, sender: Address, account: u8) -> HistoryAction {
        HistoryAction {
            block: 1,
            timestamp,
            sender,
            action: Action::SetKyc(SetKyc {
                account: Address::repeat_byte(account),
                verified: true,
            }),
        }
    }

    #[test]
    fn a_history_of_a_million_actions_is_allowed_and_one_more_is_refused_before_any_runs() {
        assert_eq!(within_bound(GENESIS_HISTORY_ACTIONS_MAX), Ok(()));
        assert_eq!(
            within_bound(GENESIS_HISTORY_ACTIONS_MAX + 1),
            Err(GenesisHistoryError::TooLong(1_000_001))
        );
        // The bound is checked before the first action: a short history runs through it.
        let (genesis, registrar) = genesis();
        let history = GenesisHistory { state_root: None, actions: vec![kyc(START, registrar, 7)] };
        assert!(history.genesis_state(&genesis).is_ok());
    }

    #[test]
    fn an_empty_history_starts_from_the_genesis_state_itself() {
        let (genesis, _) = genesis();
        let state = GenesisHistory::default().genesis_state(&genesis).unwrap();
        assert_eq!(state.state_hash(), State::from_genesis(&genesis).unwrap().state_hash());
    }

    #[test]
    fn a_history_runs_at_its_own_times_and_the_same_history_gives_the_same_state_at_height_zero() {
        let (genesis, registrar) = genesis();
        let history = GenesisHistory {
            state_root: None,
            actions: vec![kyc(START + 10, registrar, 7), kyc(START + 3_600, registrar, 8)],
        };
        let state = history.genesis_state(&genesis).unwrap();
        assert_eq!((state.height(), state.now()), (0, START + 3_600));
        assert_ne!(state.state_hash(), State::from_genesis(&genesis).unwrap().state_hash());
        assert_eq!(state.state_hash(), history.genesis_state(&genesis).unwrap().state_hash());
    }

    #[test]
    fn a_rejected_action_or_a_time_that_goes_back_stops_the_chain_from_starting() {
        let (genesis, registrar) = genesis();
        let stranger = Address::repeat_byte(9);
        let history = |actions| GenesisHistory { state_root: None, actions };
        let rejected = history(vec![kyc(START, stranger, 7)]);
        assert!(matches!(
            rejected.genesis_state(&genesis),
            Err(GenesisHistoryError::Rejected { index: 0, name: "set_kyc", .. })
        ));
        let back = history(vec![kyc(START + 10, registrar, 7), kyc(START + 5, registrar, 8)]);
        assert_eq!(
            back.genesis_state(&genesis).unwrap_err(),
            GenesisHistoryError::TimeGoesBack { index: 1, timestamp: START + 5, now: START + 10 }
        );
        let before_genesis = history(vec![kyc(START - 1, registrar, 7)]);
        assert!(matches!(
            before_genesis.genesis_state(&genesis),
            Err(GenesisHistoryError::TimeGoesBack { index: 0, .. })
        ));
    }
}
