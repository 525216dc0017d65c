//! The bounded mempool: verified transactions waiting for a block, ordered per sender by nonce
//! and across senders by arrival.
//!
//! Admission takes the sender's committed nonce: a nonce below it is a replay
//! (`nonce_too_low`), one too far above it would wait forever (`nonce_too_high`). A full pool
//! refuses new transactions (`mempool_full`); nothing already admitted is evicted, so an
//! acknowledged transaction is only dropped when its nonce is consumed by another one.

use alloy_primitives::{Address, B256};
use infrafi_tx::SealedTransaction;
use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap, HashMap, HashSet},
};

/// The most transactions one sender may have waiting.
pub const SENDER_PENDING_MAX: u64 = 256;

/// Why the mempool refuses a transaction. Names are stable API codes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdmitError {
    /// The pool holds its maximum.
    #[error("the mempool is full ({capacity} transactions); retry later")]
    MempoolFull {
        /// The pool's capacity.
        capacity: usize,
    },
    /// The nonce was already used (a replay or a stale transaction).
    #[error("nonce {nonce} is already used; the sender's next nonce is {expected}")]
    NonceTooLow {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next nonce.
        expected: u64,
    },
    /// The nonce is too far ahead of the sender's next nonce.
    #[error("nonce {nonce} is too far ahead of the sender's next nonce {expected}")]
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
}

impl AdmitError {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            AdmitError::MempoolFull { .. } => "mempool_full",
            AdmitError::NonceTooLow { .. } => "nonce_too_low",
            AdmitError::NonceTooHigh { .. } => "nonce_too_high",
            AdmitError::NonceAlreadyPending { .. } => "nonce_already_pending",
        }
    }
}

struct Pending {
    sequence: u64,
    tx: SealedTransaction,
}

/// The pool.
///
/// Transactions taken for a block stay known as *in flight* until the block is committed
/// ([`Mempool::settle_in_flight`]), so that a client never sees an acknowledged transaction as
/// unknown, and the next nonce of a sender counts its transactions in the block being made.
pub struct Mempool {
    capacity: usize,
    by_sender: HashMap<Address, BTreeMap<u64, Pending>>,
    by_hash: HashMap<B256, (Address, u64)>,
    next_sequence: u64,
    in_flight: HashSet<B256>,
    in_flight_next_nonce: HashMap<Address, u64>,
}

impl Mempool {
    /// An empty pool holding at most `capacity` transactions.
    pub fn new(capacity: usize) -> Mempool {
        assert!(capacity > 0, "a mempool must hold at least one transaction");
        Mempool {
            capacity,
            by_sender: HashMap::new(),
            by_hash: HashMap::new(),
            next_sequence: 0,
            in_flight: HashSet::new(),
            in_flight_next_nonce: HashMap::new(),
        }
    }

    /// How many transactions wait.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether none wait.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Whether `hash` waits here or is in the block being made.
    pub fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash) || self.in_flight.contains(hash)
    }

    /// Forgets the transactions of the block just committed (their receipts are stored).
    pub fn settle_in_flight(&mut self) {
        self.in_flight.clear();
        self.in_flight_next_nonce.clear();
    }

    /// The sender's next nonce counting the block being made.
    fn nonce_floor(&self, sender: Address, committed: u64) -> u64 {
        self.in_flight_next_nonce.get(&sender).map_or(committed, |n| (*n).max(committed))
    }

    /// The nonce after the sender's last waiting transaction, if it has any in a row from
    /// `committed`.
    pub fn next_nonce(&self, sender: Address, committed: u64) -> u64 {
        let committed = self.nonce_floor(sender, committed);
        let mut next = committed;
        if let Some(queue) = self.by_sender.get(&sender) {
            for nonce in queue.range(committed..).map(|(n, _)| *n) {
                if nonce != next {
                    break;
                }
                next += 1;
            }
        }
        next
    }

    /// Admits `tx`, given its sender's committed next nonce. Re-admitting a waiting
    /// transaction is accepted and changes nothing.
    pub fn admit(
        &mut self,
        tx: SealedTransaction,
        committed_nonce: u64,
    ) -> Result<B256, AdmitError> {
        let hash = tx.hash();
        if self.contains(&hash) {
            return Ok(hash);
        }
        let (sender, nonce) = (tx.sender, tx.signed.nonce);
        let committed_nonce = self.nonce_floor(sender, committed_nonce);
        if nonce < committed_nonce {
            return Err(AdmitError::NonceTooLow { nonce, expected: committed_nonce });
        }
        if nonce >= committed_nonce.saturating_add(SENDER_PENDING_MAX) {
            return Err(AdmitError::NonceTooHigh { nonce, expected: committed_nonce });
        }
        if self.by_sender.get(&sender).is_some_and(|q| q.contains_key(&nonce)) {
            return Err(AdmitError::NonceAlreadyPending { nonce });
        }
        if self.by_hash.len() >= self.capacity {
            return Err(AdmitError::MempoolFull { capacity: self.capacity });
        }
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.by_sender.entry(sender).or_default().insert(nonce, Pending { sequence, tx });
        self.by_hash.insert(hash, (sender, nonce));
        Ok(hash)
    }

    /// Takes up to `limit` transactions that can run in order: for each sender, a run of
    /// consecutive nonces from its next nonce (`nonce_of`), merged across senders by arrival.
    /// Transactions whose nonce is already used are dropped.
    pub fn take_ready(
        &mut self,
        limit: usize,
        nonce_of: impl Fn(Address) -> u64,
    ) -> Vec<SealedTransaction> {
        let mut heads: BinaryHeap<Reverse<(u64, Address, u64)>> = BinaryHeap::new();
        let mut stale: Vec<B256> = Vec::new();
        for (sender, queue) in &mut self.by_sender {
            let next = nonce_of(*sender);
            while let Some(entry) = queue.first_entry() {
                if *entry.key() >= next {
                    break;
                }
                stale.push(entry.remove().tx.hash());
            }
            if let Some((nonce, pending)) = queue.first_key_value()
                && *nonce == next
            {
                heads.push(Reverse((pending.sequence, *sender, *nonce)));
            }
        }
        for hash in stale {
            self.by_hash.remove(&hash);
        }
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(Reverse((_, sender, nonce))) = heads.pop() else { break };
            let Some(queue) = self.by_sender.get_mut(&sender) else { continue };
            let Some(pending) = queue.remove(&nonce) else { continue };
            self.by_hash.remove(&pending.tx.hash());
            self.in_flight.insert(pending.tx.hash());
            let next_nonce = self.in_flight_next_nonce.entry(sender).or_default();
            *next_nonce = (*next_nonce).max(nonce + 1);
            if let Some(next) = queue.get(&(nonce + 1)) {
                heads.push(Reverse((next.sequence, sender, nonce + 1)));
            }
            out.push(pending.tx);
        }
        self.by_sender.retain(|_, queue| !queue.is_empty());
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use infrafi_core::{Action, Amount, Asset};
    use infrafi_tx::SigningKey;

    fn tx(key: &SigningKey, nonce: u64) -> SealedTransaction {
        let action = Action::Transfer { asset: Asset::Usdai, to: Address::ZERO, amount: Amount(1) };
        key.sign(1, nonce, &action).verify(1).unwrap()
    }

    #[test]
    fn ready_transactions_come_out_in_nonce_order_per_sender_and_arrival_order_across() {
        let (a, b) = (SigningKey::from_seed("a"), SigningKey::from_seed("b"));
        let mut pool = Mempool::new(100);
        pool.admit(tx(&a, 1), 0).unwrap();
        pool.admit(tx(&b, 0), 0).unwrap();
        pool.admit(tx(&a, 0), 0).unwrap();
        pool.admit(tx(&a, 3), 0).unwrap(); // Gap at 2: waits.
        let taken = pool.take_ready(10, |_| 0);
        let order: Vec<(Address, u64)> = taken.iter().map(|t| (t.sender, t.signed.nonce)).collect();
        assert_eq!(order, vec![(b.address(), 0), (a.address(), 0), (a.address(), 1)]);
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn replays_duplicates_and_overflow_are_refused_with_their_codes() {
        let a = SigningKey::from_seed("a");
        let mut pool = Mempool::new(2);
        assert_eq!(pool.admit(tx(&a, 0), 1).unwrap_err().code(), "nonce_too_low");
        assert_eq!(
            pool.admit(tx(&a, SENDER_PENDING_MAX + 1), 1).unwrap_err().code(),
            "nonce_too_high"
        );
        let hash = pool.admit(tx(&a, 1), 1).unwrap();
        assert_eq!(pool.admit(tx(&a, 1), 1).unwrap(), hash, "re-admission is idempotent");
        let other = a.sign(1, 1, &Action::HarvestBaseYield {}).verify(1).unwrap();
        assert_eq!(pool.admit(other, 1).unwrap_err().code(), "nonce_already_pending");
        pool.admit(tx(&a, 2), 1).unwrap();
        assert_eq!(pool.admit(tx(&a, 3), 1).unwrap_err().code(), "mempool_full");
        assert_eq!(pool.next_nonce(a.address(), 1), 3);
    }

    #[test]
    fn transactions_taken_for_a_block_stay_known_until_it_commits() {
        // Regression: between `take_ready` and the commit, a transaction was neither pending
        // nor committed, so `GET /v1/tx` answered 404 and `next_nonce` went backwards.
        let a = SigningKey::from_seed("a");
        let mut pool = Mempool::new(10);
        let hash = pool.admit(tx(&a, 0), 0).unwrap();
        assert_eq!(pool.take_ready(10, |_| 0).len(), 1);
        assert!(pool.contains(&hash));
        assert_eq!(pool.next_nonce(a.address(), 0), 1);
        assert_eq!(pool.admit(tx(&a, 0), 0).unwrap(), hash, "re-submission is idempotent");
        let other = a.sign(1, 0, &Action::HarvestBaseYield {}).verify(1).unwrap();
        assert_eq!(pool.admit(other, 0).unwrap_err().code(), "nonce_too_low");
        pool.settle_in_flight();
        assert!(!pool.contains(&hash));
    }

    #[test]
    fn transactions_whose_nonce_was_consumed_are_dropped() {
        let a = SigningKey::from_seed("a");
        let mut pool = Mempool::new(10);
        pool.admit(tx(&a, 0), 0).unwrap();
        pool.admit(tx(&a, 1), 0).unwrap();
        let taken = pool.take_ready(10, |_| 1);
        assert_eq!(taken.len(), 1);
        assert!(pool.is_empty());
    }
}
