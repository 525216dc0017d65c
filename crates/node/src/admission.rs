//! Admission: what it takes for a transaction to enter the mempool of a permissionless node
//! that charges no gas (docs/security.md, "The node under attack").
//!
//! A transaction that enters the mempool is stored in a block for good, and its sender's nonce
//! enters the state; so the pool only admits what a block will apply, and what it admits costs
//! the sender something it cannot create for free. In the order they are checked:
//!
//! 1. **Nonce.** Exactly the sender's next nonce counting its waiting and in-flight
//!    transactions: a lower one is a replay (`nonce_too_low`, or `nonce_already_pending`
//!    while the other is waiting), a higher one would leave a gap (`nonce_too_high`). So
//!    nothing waits on a gap that may never be filled.
//! 2. **Standing.** A sender's *stake* is what it holds in the committed state: USDai, sUSDai
//!    and supported stablecoins, in whole units. A sender with a role, or a stake of at least
//!    [`STAKE_MIN_WHOLE`], has standing. The permissionless upkeep actions (harvest, servicing
//!    round, re-marks, defaults) succeed for any key, so they need standing
//!    (`sender_lacks_standing`); a key with nothing can only act on what it owns (a request,
//!    a receipt, a loan offered to it), which someone paid for.
//! 3. **Waiting per sender** ([`pending_max`]): one for a sender without standing, one more per
//!    whole unit of stake, at most [`SENDER_PENDING_MAX`] (`sender_pending_limit_reached`).
//!    Filling the pool thus takes stake in proportion: about one USDai per slot.
//! 4. **Capacity.** The pool's capacity (`mempool_full`); senders without standing share at
//!    most a [`NO_STANDING_SHARE_DIVISOR`]th of it, and the node's own keeper has
//!    [`KEEPER_RESERVED`] slots beyond it, so upkeep is never locked out.
//! 5. **Dry run.** The transaction must apply on the pool's pending state (the committed state
//!    with every waiting transaction applied in the order blocks will run them); otherwise it
//!    is refused with the state machine's own result code, and nothing is stored.
//!
//! Nothing admitted is evicted: a 202 is a promise (docs/node.md).

use alloy_primitives::Address;
use infrafi_core::action::HarvestBaseYield;
use infrafi_core::{Action, Asset, Role, State, TxError, WAD};

/// The smallest stake (whole units of USDai, sUSDai or a supported stablecoin) that gives a
/// sender standing.
pub const STAKE_MIN_WHOLE: u128 = 1;
/// The most transactions one sender may have waiting or in flight.
pub const SENDER_PENDING_MAX: u64 = 64;
/// Senders without standing share at most `capacity / NO_STANDING_SHARE_DIVISOR` slots.
pub const NO_STANDING_SHARE_DIVISOR: usize = 8;
/// Slots beyond the capacity that only the node's own keeper may use.
pub const KEEPER_RESERVED: usize = 64;

/// What a sender may do in the pool, from the committed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// No role and less than [`STAKE_MIN_WHOLE`]: one waiting transaction, no upkeep.
    None,
    /// A stake of this many whole units (at least [`STAKE_MIN_WHOLE`]).
    Stake(u128),
    /// Holds a role.
    Role,
    /// The node's own keeper.
    Keeper,
}

impl Standing {
    /// Whether the sender has standing.
    pub fn is_some(self) -> bool {
        self != Standing::None
    }
}

/// The standing of `sender` in `state`; `keeper` is the node's own keeper, if it runs one.
pub fn standing(state: &State, sender: Address, keeper: Option<Address>) -> Standing {
    if keeper == Some(sender) {
        return Standing::Keeper;
    }
    if Role::ALL.iter().any(|role| state.governance.has_role(*role, sender)) {
        return Standing::Role;
    }
    let whole = stake_whole(state, sender);
    if whole >= STAKE_MIN_WHOLE { Standing::Stake(whole) } else { Standing::None }
}

/// What `sender` holds in USDai, sUSDai and supported stablecoins, in whole units (each
/// counted at one dollar: standing is a deposit, not a valuation).
pub fn stake_whole(state: &State, sender: Address) -> u128 {
    let coins = state.reserve.stablecoins.iter().map(|(symbol, _)| Asset::Stablecoin(*symbol));
    [Asset::Usdai, Asset::Susdai]
        .into_iter()
        .chain(coins)
        .map(|asset| state.ledger.balance(sender, asset).0 / WAD)
        .fold(0u128, u128::saturating_add)
}

/// How many transactions a sender of `standing` may have waiting or in flight.
pub fn pending_max(standing: Standing) -> u64 {
    match standing {
        Standing::None => 1,
        Standing::Stake(whole) => {
            u64::try_from(whole.saturating_add(1)).unwrap_or(u64::MAX).min(SENDER_PENDING_MAX)
        }
        Standing::Role | Standing::Keeper => SENDER_PENDING_MAX,
    }
}

/// Whether `action` is permissionless upkeep: it applies for any sender when it is due, so a
/// key with nothing could send it for free.
pub fn is_upkeep(action: &Action) -> bool {
    matches!(
        action,
        Action::HarvestBaseYield(HarvestBaseYield {})
            | Action::ServiceQueue(_)
            | Action::RemarkLoans(_)
            | Action::TriggerDefault(_)
    )
}

/// Why the mempool refuses a transaction. Names are stable API codes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdmitError {
    /// The pool (or the share of senders without standing) is full.
    #[error("the mempool is full ({capacity} transactions{which}); retry later")]
    MempoolFull {
        /// The capacity that was reached.
        capacity: usize,
        /// Which part of the pool (empty for the whole pool).
        which: &'static str,
    },
    /// The nonce was already used (a replay or a stale transaction).
    #[error("nonce {nonce} is already used; the sender's next nonce is {expected}")]
    NonceTooLow {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next nonce.
        expected: u64,
    },
    /// The nonce is ahead of the sender's next nonce: it would wait on a gap.
    #[error("nonce {nonce} is ahead of the sender's next nonce {expected}; send that one first")]
    NonceTooHigh {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next nonce.
        expected: u64,
    },
    /// Another transaction with this sender and nonce is waiting.
    #[error("another transaction with nonce {nonce} from this sender is already waiting")]
    NonceAlreadyPending {
        /// The nonce.
        nonce: u64,
    },
    /// The sender has as many transactions waiting as its standing allows.
    #[error(
        "the sender already has {limit} transaction(s) waiting, as many as its standing allows \
         (one, plus one per whole USDai, sUSDai or stablecoin held, at most {SENDER_PENDING_MAX}); \
         wait for a block"
    )]
    SenderPendingLimitReached {
        /// The sender's limit.
        limit: u64,
    },
    /// Upkeep from a sender with no role and no stake.
    #[error(
        "permissionless upkeep needs standing: a role, or at least {STAKE_MIN_WHOLE} whole \
         USDai, sUSDai or supported stablecoin held"
    )]
    SenderLacksStanding,
    /// The transaction would be rejected if it ran now.
    #[error("the transaction would be rejected: {}", .0.message())]
    WouldBeRejected(TxError),
}

impl AdmitError {
    /// The stable snake_case code: for a dry-run failure, the state machine's own code.
    pub fn code(&self) -> &'static str {
        match self {
            AdmitError::MempoolFull { .. } => "mempool_full",
            AdmitError::NonceTooLow { .. } => "nonce_too_low",
            AdmitError::NonceTooHigh { .. } => "nonce_too_high",
            AdmitError::NonceAlreadyPending { .. } => "nonce_already_pending",
            AdmitError::SenderPendingLimitReached { .. } => "sender_pending_limit_reached",
            AdmitError::SenderLacksStanding => "sender_lacks_standing",
            AdmitError::WouldBeRejected(error) => error.name(),
        }
    }
}

/// Every free transaction a key that holds nothing can sign, the flood of issue 18: a transfer
/// it cannot pay (to `payee`), each permissionless upkeep action, and the original attack's
/// gapped nonces (1..=16, never 0). Admission must refuse all of it; the flood test and
/// `infrafi bench campaign` send it.
pub fn free_spam(
    key: &infrafi_tx::SigningKey,
    chain_id: u64,
    payee: Address,
) -> Vec<infrafi_tx::SignedTransaction> {
    use infrafi_core::action::{RemarkLoans, ServiceQueue, Transfer};
    let pay = Action::Transfer(Transfer {
        asset: Asset::Stablecoin(infrafi_core::ids::USDC),
        to: payee,
        amount: infrafi_core::Amount(1),
    });
    let remark =
        Action::RemarkLoans(RemarkLoans { first_loan_id: infrafi_core::LoanId(0), max_loans: 500 });
    let mut txs = vec![
        key.sign(chain_id, 0, &pay),
        key.sign(chain_id, 0, &remark),
        key.sign(chain_id, 0, &Action::HarvestBaseYield(HarvestBaseYield {})),
        key.sign(chain_id, 0, &Action::ServiceQueue(ServiceQueue { max_requests: 1 })),
    ];
    txs.extend((1..=16).map(|nonce| key.sign(chain_id, nonce, &pay)));
    txs
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use infrafi_core::{Amount, Genesis, ids::USDC};

    #[test]
    fn standing_comes_from_a_role_or_a_whole_unit_held_and_sets_the_waiting_limit() {
        let (admin, holder, dust, nobody, keeper) = (
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
            Address::repeat_byte(4),
            Address::repeat_byte(5),
        );
        let mut genesis = Genesis::with_admin(admin, 1_000);
        genesis.stablecoin_balances.push((holder, USDC, Amount::from_whole(10)));
        genesis.stablecoin_balances.push((dust, USDC, Amount(WAD - 1)));
        let state = State::from_genesis(&genesis).unwrap();
        assert_eq!(standing(&state, admin, None), Standing::Role);
        assert_eq!(standing(&state, holder, None), Standing::Stake(10));
        assert_eq!(standing(&state, dust, None), Standing::None);
        assert_eq!(standing(&state, nobody, None), Standing::None);
        assert_eq!(standing(&state, keeper, Some(keeper)), Standing::Keeper);
        assert_eq!(pending_max(Standing::None), 1);
        assert_eq!(pending_max(Standing::Stake(10)), 11);
        assert_eq!(pending_max(Standing::Stake(1_000_000)), SENDER_PENDING_MAX);
        assert_eq!(pending_max(Standing::Role), SENDER_PENDING_MAX);
    }
}
