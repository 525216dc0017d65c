//! The bounded mempool: transactions that passed admission ([`crate::admission`]), waiting
//! for a block, ordered per sender by nonce and across senders by arrival.
//!
//! The pool keeps a *pending state*: the committed state with every waiting and in-flight
//! transaction applied, in arrival order, at the next block's time. That is the order blocks
//! run them in (a sender's nonces arrive without gaps, so per-sender nonce order is arrival
//! order), so a transaction admitted because it applies there almost always applies in its
//! block. What can still differ is time (a price turns stale, a window closes between admission
//! and the block); such a transaction is included and rejected like any other, after having
//! passed admission. After each commit the pending state is the new committed state with the
//! transactions still waiting applied again: brought there without copying the state, by
//! overwriting the leaves the block changed and those the waiting transactions had written
//! with the new committed values (`State::apply_leaves`), so its cost follows the block and
//! the pool, not the state; copied whole only when the block's changes are unknown or it does
//! not follow the previous committed block (a restart, a gap). Debug builds check every such
//! shortcut against a whole rebuild.
//!
//! Nothing admitted is evicted: an acknowledged transaction leaves the pool by being included,
//! or when its nonce is consumed by another one (a block from elsewhere).

use crate::{
    admission::{
        AdmitError, KEEPER_RESERVED, NO_STANDING_SHARE_DIVISOR, Standing, is_upkeep, pending_max,
        standing,
    },
    chain::Snapshot,
};
use alloy_primitives::{Address, B256};
use infrafi_core::{BlockContext, State, Transaction, ledger::LedgerError, tx};
use infrafi_tx::{SealedTransaction, SignedTransaction};
use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap, HashMap, HashSet},
    sync::Arc,
};

struct Pending {
    sequence: u64,
    tx: SealedTransaction,
    /// Whether it counts against the share of senders without standing.
    without_standing: bool,
}

/// The pool.
///
/// Transactions taken for a block stay known as *in flight* until the block is committed
/// ([`Mempool::on_commit`]), so that a client never sees an acknowledged transaction as
/// unknown, and the next nonce of a sender counts its transactions in the block being made.
pub struct Mempool {
    capacity: usize,
    keeper: Option<Address>,
    committed: Arc<Snapshot>,
    pending_state: State,
    by_sender: HashMap<Address, BTreeMap<u64, Pending>>,
    by_hash: HashMap<B256, (Address, u64)>,
    next_sequence: u64,
    in_flight: HashSet<B256>,
    in_flight_by_sender: HashMap<Address, u64>,
    /// The next nonce, after the block being stored, of each sender in it (see
    /// [`Mempool::committing`]); empty outside that window. At most a block's senders.
    committing: HashMap<Address, u64>,
    without_standing: usize,
    rebuilds: u64,
}

impl Mempool {
    /// An empty pool holding at most `capacity` transactions, over the committed `snapshot`.
    /// `keeper` is the node's own keeper, if it runs one (it may use reserved slots).
    pub fn new(capacity: usize, committed: Arc<Snapshot>, keeper: Option<Address>) -> Mempool {
        assert!(capacity > 0, "a mempool must hold at least one transaction");
        Mempool {
            capacity,
            keeper,
            pending_state: whole_copy(&committed.state),
            committed,
            by_sender: HashMap::new(),
            by_hash: HashMap::new(),
            next_sequence: 0,
            in_flight: HashSet::new(),
            in_flight_by_sender: HashMap::new(),
            committing: HashMap::new(),
            without_standing: 0,
            rebuilds: 0,
        }
    }

    /// How many times a commit copied the pending state whole from the committed state (see
    /// the module doc): only when the block's changes are unknown or it does not follow the
    /// previous head. The copy the pool starts from is not counted.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds
    }

    /// How many transactions wait (not counting the block being made).
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether none wait.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The capacity (the node's keeper may use [`KEEPER_RESERVED`] more).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether `hash` waits here or is in the block being made.
    pub fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash) || self.in_flight.contains(hash)
    }

    /// The next nonce of `sender`, counting its waiting and in-flight transactions.
    pub fn next_nonce(&self, sender: Address) -> u64 {
        self.pending_state.ledger.nonce(sender)
    }

    /// The state every waiting transaction is checked against (see the module doc).
    pub fn pending_state(&self) -> &State {
        &self.pending_state
    }

    /// The waiting transactions in arrival order (what a restart must find again).
    pub fn waiting(&self) -> Vec<&SealedTransaction> {
        let mut waiting: Vec<&Pending> = self.by_sender.values().flat_map(|q| q.values()).collect();
        waiting.sort_by_key(|p| p.sequence);
        waiting.into_iter().map(|p| &p.tx).collect()
    }

    /// The context a transaction admitted now is checked in: the pending state's block, or
    /// the next one, at `now` (never before the pending state's time).
    fn next_context(&self, now: u64) -> BlockContext {
        self.context_after(&self.pending_state, now)
    }

    /// The context of the block after `state` (the pending state, or one being rebuilt).
    fn context_after(&self, state: &State, now: u64) -> BlockContext {
        let clock = *state.clock.get();
        BlockContext {
            height: clock.height.max(self.committed.header.height + 1),
            timestamp: clock.timestamp.max(now),
        }
    }

    /// The next nonce of `sender` in the committed chain, counting the block being stored.
    fn committed_nonce(&self, sender: Address) -> u64 {
        match self.committing.get(&sender) {
            Some(nonce) => *nonce,
            None => self.committed.state.ledger.nonce(sender),
        }
    }

    fn sender_count(&self, sender: Address) -> u64 {
        let waiting = self.by_sender.get(&sender).map_or(0, |q| q.len() as u64);
        waiting + self.in_flight_by_sender.get(&sender).copied().unwrap_or(0)
    }

    /// Admits `tx` at wall time `now` (unix seconds, the time a block made now would carry),
    /// checking the rules of [`crate::admission`] in their order. Re-admitting a waiting
    /// transaction is accepted and changes nothing.
    pub fn admit(&mut self, tx: SealedTransaction, now: u64) -> Result<B256, AdmitError> {
        let hash = tx.hash();
        let (sender, nonce) = (tx.sender, tx.signed.nonce);
        // A used nonce first, even for a transaction the pool still holds: a copy of one in a
        // block being stored gets the answer it gets once the block is committed, not the
        // in-flight one's (outside that window the pool holds no such transaction).
        let committed = self.committed_nonce(sender);
        let expected = self.next_nonce(sender);
        if nonce < committed {
            return Err(AdmitError::NonceTooLow { nonce, expected: expected.max(committed) });
        }
        if self.contains(&hash) {
            return Ok(hash);
        }
        if nonce < expected {
            return Err(AdmitError::NonceAlreadyPending { nonce });
        }
        if nonce > expected {
            return Err(AdmitError::NonceTooHigh { nonce, expected });
        }
        let standing = standing(&self.committed.state, sender, self.keeper);
        if !standing.is_some() && is_upkeep(&tx.action) {
            return Err(AdmitError::SenderLacksStanding);
        }
        let limit = pending_max(standing);
        if self.sender_count(sender) >= limit {
            return Err(AdmitError::SenderPendingLimitReached { limit });
        }
        let capacity = match standing {
            Standing::Keeper => self.capacity + KEEPER_RESERVED,
            _ => self.capacity,
        };
        if self.by_hash.len() >= capacity {
            return Err(AdmitError::MempoolFull { capacity, which: "" });
        }
        let share = (self.capacity / NO_STANDING_SHARE_DIVISOR).max(1);
        if !standing.is_some() && self.without_standing >= share {
            return Err(AdmitError::MempoolFull {
                capacity: share,
                which: " held by senders without standing",
            });
        }
        if nonce == u64::MAX {
            return Err(AdmitError::WouldBeRejected(LedgerError::ArithmeticOverflow.into()));
        }
        let context = self.next_context(now);
        let transaction = Transaction { sender, action: tx.action.clone() };
        tx::apply(&mut self.pending_state, &context, &transaction)
            .map_err(AdmitError::WouldBeRejected)?;
        // The nonce is the expected one and below the maximum: this cannot fail.
        tx::consume_nonce(&mut self.pending_state, sender, nonce)
            .map_err(AdmitError::WouldBeRejected)?;
        self.insert(tx, !standing.is_some());
        Ok(hash)
    }

    fn insert(&mut self, tx: SealedTransaction, without_standing: bool) {
        let sequence = self.next_sequence;
        self.insert_at(sequence, tx, without_standing);
    }

    fn insert_at(&mut self, sequence: u64, tx: SealedTransaction, without_standing: bool) {
        let (hash, sender, nonce) = (tx.hash(), tx.sender, tx.signed.nonce);
        self.next_sequence = self.next_sequence.max(sequence.saturating_add(1));
        self.without_standing += usize::from(without_standing);
        self.by_sender
            .entry(sender)
            .or_default()
            .insert(nonce, Pending { sequence, tx, without_standing });
        self.by_hash.insert(hash, (sender, nonce));
    }

    /// The waiting transaction equal to `signed` in every field, as it was verified at
    /// admission: a block that carries it need not recover its signature again.
    pub fn checked(&self, signed: &SignedTransaction) -> Option<SealedTransaction> {
        let pending = self.by_sender.get(&signed.sender)?.get(&signed.nonce)?;
        (pending.tx.signed == *signed).then(|| pending.tx.clone())
    }

    /// A waiting transaction with its arrival sequence: the order the pending state applied
    /// it in, which a restart must keep.
    pub fn arrival(&self, hash: &B256) -> Option<(u64, &SealedTransaction)> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.by_sender.get(sender)?.get(nonce).map(|p| (p.sequence, &p.tx))
    }

    /// Puts back transactions that were acknowledged before a restart, with their arrival
    /// sequences, in that order and without the admission checks they already passed: each
    /// goes on the pending state (if it no longer applies it still waits, and its block will
    /// reject it). Replays of committed nonces and transactions that would wait on a gap are
    /// left out; returns the hashes put back.
    pub fn restore(
        &mut self,
        txs: impl IntoIterator<Item = (u64, SealedTransaction)>,
        now: u64,
    ) -> Vec<B256> {
        let mut txs: Vec<(u64, SealedTransaction)> = txs.into_iter().collect();
        txs.sort_by_key(|(sequence, _)| *sequence);
        let context = self.next_context(now);
        let mut restored = Vec::new();
        for (sequence, tx) in txs {
            if self.contains(&tx.hash()) || tx.signed.nonce != self.next_nonce(tx.sender) {
                continue;
            }
            let without_standing =
                !standing(&self.committed.state, tx.sender, self.keeper).is_some();
            if tx::consume_nonce(&mut self.pending_state, tx.sender, tx.signed.nonce).is_err() {
                continue;
            }
            let transaction = Transaction { sender: tx.sender, action: tx.action.clone() };
            let _ = tx::apply(&mut self.pending_state, &context, &transaction);
            restored.push(tx.hash());
            self.insert_at(sequence, tx, without_standing);
        }
        restored
    }

    fn remove_pending(&mut self, pending: &Pending) {
        self.by_hash.remove(&pending.tx.hash());
        self.without_standing -= usize::from(pending.without_standing);
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
        let mut stale: Vec<Pending> = Vec::new();
        for (sender, queue) in &mut self.by_sender {
            let next = nonce_of(*sender);
            while let Some(entry) = queue.first_entry() {
                if *entry.key() >= next {
                    break;
                }
                stale.push(entry.remove());
            }
            if let Some((nonce, pending)) = queue.first_key_value()
                && *nonce == next
            {
                heads.push(Reverse((pending.sequence, *sender, *nonce)));
            }
        }
        for pending in &stale {
            self.remove_pending(pending);
        }
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(Reverse((_, sender, nonce))) = heads.pop() else { break };
            let Some(queue) = self.by_sender.get_mut(&sender) else { continue };
            let Some(pending) = queue.remove(&nonce) else { continue };
            if let Some(next) = queue.get(&(nonce + 1)) {
                heads.push(Reverse((next.sequence, sender, nonce + 1)));
            }
            self.remove_pending(&pending);
            self.in_flight.insert(pending.tx.hash());
            *self.in_flight_by_sender.entry(sender).or_default() += 1;
            out.push(pending.tx);
        }
        self.by_sender.retain(|_, queue| !queue.is_empty());
        out
    }

    /// Validator mode: up to `limit` transactions that can run in order after a parent block
    /// whose state gives each sender's next nonce (`nonce_of`), chosen as [`Mempool::take_ready`]
    /// chooses them, but left in the pool: a proposal may never be finalized, so a transaction
    /// leaves the pool only when a finalized block consumes its nonce ([`Mempool::on_commit`]).
    pub fn ready(&self, limit: usize, nonce_of: impl Fn(Address) -> u64) -> Vec<SealedTransaction> {
        let mut heads: BinaryHeap<Reverse<(u64, Address, u64)>> = BinaryHeap::new();
        for (sender, queue) in &self.by_sender {
            let next = nonce_of(*sender);
            if let Some(pending) = queue.get(&next) {
                heads.push(Reverse((pending.sequence, *sender, next)));
            }
        }
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(Reverse((_, sender, nonce))) = heads.pop() else { break };
            let Some(queue) = self.by_sender.get(&sender) else { continue };
            let Some(pending) = queue.get(&nonce) else { continue };
            if let Some(next) = queue.get(&(nonce + 1)) {
                heads.push(Reverse((next.sequence, sender, nonce + 1)));
            }
            out.push(pending.tx.clone());
        }
        out
    }

    /// A block is about to be stored, which makes its receipts readable: from now until
    /// [`Mempool::on_commit`], a transaction using a nonce it uses is refused as
    /// `nonce_too_low`, as it will be after the commit. Without this, a copy of a transaction
    /// sent once its receipt could be read, but before the pool learnt of the block, was
    /// acknowledged as the one in flight (nothing ran twice, but the answer was not the
    /// committed one). The block's transactions stay in flight (a reader sees each pending,
    /// then its receipt). `senders` are the block's senders, `state_after` its state.
    pub fn committing(&mut self, senders: impl IntoIterator<Item = Address>, state_after: &State) {
        for sender in senders {
            self.committing.insert(sender, state_after.ledger.nonce(sender));
        }
    }

    /// Forgets the transactions of the block in progress without a new committed state (the
    /// block failed and the node stops).
    pub fn settle_in_flight(&mut self) {
        self.in_flight.clear();
        self.in_flight_by_sender.clear();
        self.committing.clear();
    }

    /// A block was committed: forgets its transactions (their receipts are stored), drops
    /// waiting ones whose nonce it consumed, and brings the pending state to `committed` with
    /// the transactions still waiting applied again, in arrival order, at `now`.
    pub fn on_commit(&mut self, committed: Arc<Snapshot>, now: u64) {
        self.settle_in_flight();
        let previous = std::mem::replace(&mut self.committed, committed);
        let state = &self.committed.state;
        let mut stale: Vec<Pending> = Vec::new();
        for (sender, queue) in &mut self.by_sender {
            let next = state.ledger.nonce(*sender);
            while let Some(entry) = queue.first_entry() {
                if *entry.key() >= next {
                    break;
                }
                stale.push(entry.remove());
            }
        }
        for pending in &stale {
            self.remove_pending(pending);
        }
        self.by_sender.retain(|_, queue| !queue.is_empty());
        if !self.bring_pending_forward(&previous) {
            self.pending_state = whole_copy(&self.committed.state);
            self.rebuilds += 1;
        }
        let mut pending_state = std::mem::take(&mut self.pending_state);
        self.apply_waiting(&mut pending_state, now);
        self.pending_state = pending_state;
        #[cfg(debug_assertions)]
        {
            let mut rebuilt = whole_copy(&self.committed.state);
            self.apply_waiting(&mut rebuilt, now);
            assert!(
                rebuilt == self.pending_state,
                "the pending state brought forward to block {} differs from a rebuild",
                self.committed.header.height
            );
        }
    }

    /// Makes the pending state (`previous` with the waiting transactions applied, which wrote
    /// exactly the leaves it reports as changed) equal to the new committed state, without
    /// copying it: every leaf the block changed takes the block's value, every other leaf the
    /// waiting transactions wrote takes the committed value (the block left it as in
    /// `previous`), and the rest already agrees. False when that cannot be done (the block's
    /// changes are unknown or it does not follow `previous`): the caller copies the state.
    fn bring_pending_forward(&mut self, previous: &Snapshot) -> bool {
        let committed = &self.committed;
        let Some(block_leaves) = &committed.changed_leaves else { return false };
        if committed.header.parent_hash != previous.hash {
            return false;
        }
        let written = self.pending_state.take_changed_leaf_keys();
        let in_block: HashSet<&[u8]> = block_leaves.iter().map(|(key, _)| key.as_slice()).collect();
        let others: Vec<&[u8]> =
            written.iter().map(Vec::as_slice).filter(|key| !in_block.contains(key)).collect();
        let Ok(values) = committed.state.leaf_values(others.iter().copied()) else {
            return false;
        };
        let leaves = block_leaves
            .iter()
            .map(|(key, value)| (key.as_slice(), value.as_deref()))
            .chain(others.iter().copied().zip(values.iter().map(Option::as_deref)));
        self.pending_state.apply_leaves(leaves).is_ok()
    }

    /// Applies the waiting transactions to `state` (the committed state) in arrival order, in
    /// the block after it at `now`.
    fn apply_waiting(&self, state: &mut State, now: u64) {
        let mut order: Vec<(u64, Address, u64)> = self
            .by_sender
            .iter()
            .flat_map(|(sender, queue)| queue.iter().map(|(n, p)| (p.sequence, *sender, *n)))
            .collect();
        order.sort_unstable();
        let context = self.context_after(state, now);
        for (_, sender, nonce) in order {
            let Some(pending) = self.by_sender.get(&sender).and_then(|q| q.get(&nonce)) else {
                continue;
            };
            // A sender whose run has a gap (a block from elsewhere skipped one) is not applied
            // past it; it waits for the gap like before.
            if tx::consume_nonce(state, sender, nonce).is_ok() {
                let transaction = Transaction { sender, action: pending.tx.action.clone() };
                let _ = tx::apply(state, &context, &transaction);
            }
        }
    }
}

/// A whole copy of a committed state to apply waiting transactions to, reporting the leaves
/// they write from now on (what [`Mempool::on_commit`] brings forward).
fn whole_copy(committed: &State) -> State {
    let mut state = committed.clone();
    state.track_changes();
    state
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
pub(crate) mod tests {
    use super::*;
    use crate::admission::SENDER_PENDING_MAX;
    use infrafi_core::{
        Action, Amount, Asset, Genesis, Role,
        action::{GrantRole, PostPrice, RemarkLoans, Transfer},
        ids::USDC,
    };
    use infrafi_tx::SigningKey;

    pub(crate) const NOW: u64 = 1_000;
    const ADMIN: Address = Address::repeat_byte(0xad);

    /// A snapshot of `genesis` for pool tests (the header and tree are not used).
    pub(crate) fn snapshot_of(state: State) -> Arc<Snapshot> {
        let header = crate::BlockHeader {
            chain_id: 1,
            height: state.clock.get().height,
            timestamp: state.clock.get().timestamp,
            parent_hash: B256::ZERO,
            transactions_root: B256::ZERO,
            receipts_root: B256::ZERO,
            state_root: B256::ZERO,
            transaction_count: 0,
        };
        let tree = Default::default();
        Arc::new(Snapshot { hash: header.hash(), header, state, tree, changed_leaves: None })
    }

    /// A market where each of `funded` holds 100 USDC and `admin` is the admin.
    pub(crate) fn market(admin: Address, funded: &[Address]) -> Arc<Snapshot> {
        let mut genesis = Genesis::with_admin(admin, NOW);
        for address in funded {
            genesis.stablecoin_balances.push((*address, USDC, Amount::from_whole(100)));
        }
        snapshot_of(State::from_genesis(&genesis).unwrap())
    }

    fn send(amount: u128) -> Action {
        Action::Transfer(Transfer {
            asset: Asset::Stablecoin(USDC),
            to: Address::repeat_byte(0xee),
            amount: Amount(amount),
        })
    }

    fn tx(key: &SigningKey, nonce: u64) -> SealedTransaction {
        key.sign(1, nonce, &send(1)).verify(1).unwrap()
    }

    fn signed(key: &SigningKey, nonce: u64, action: &Action) -> SealedTransaction {
        key.sign(1, nonce, action).verify(1).unwrap()
    }

    /// The block after `parent` carrying `txs` at `timestamp`, committed as a chain commits
    /// one: its snapshot knows the leaves it changed.
    fn block_after(parent: &Snapshot, txs: &[SealedTransaction], timestamp: u64) -> Arc<Snapshot> {
        let mut state = parent.state.clone();
        state.track_changes();
        let context = BlockContext { height: parent.header.height + 1, timestamp };
        let _ = tx::begin_block(&mut state, &context);
        for sealed in txs {
            if tx::consume_nonce(&mut state, sealed.sender, sealed.signed.nonce).is_ok() {
                let transaction =
                    Transaction { sender: sealed.sender, action: sealed.action.clone() };
                let _ = tx::apply(&mut state, &context, &transaction);
            }
        }
        let changed = state.take_changed_leaves().into_iter().map(|l| (l.key, l.value)).collect();
        let header = crate::BlockHeader {
            chain_id: 1,
            height: context.height,
            timestamp,
            parent_hash: parent.hash,
            transactions_root: B256::ZERO,
            receipts_root: B256::ZERO,
            state_root: B256::ZERO,
            transaction_count: txs.len() as u32,
        };
        let tree = Default::default();
        Arc::new(Snapshot {
            hash: header.hash(),
            header,
            state,
            tree,
            changed_leaves: Some(changed),
        })
    }

    /// The pending state rebuilt whole, as the pool did before it brought it forward: the
    /// committed state with the waiting transactions applied in arrival order at `now`.
    fn rebuilt(pool: &Mempool, now: u64) -> State {
        let mut state = pool.committed.state.clone();
        let clock = *state.clock.get();
        let context = BlockContext {
            height: clock.height.max(pool.committed.header.height + 1),
            timestamp: clock.timestamp.max(now),
        };
        for waiting in pool.waiting() {
            if tx::consume_nonce(&mut state, waiting.sender, waiting.signed.nonce).is_ok() {
                let transaction =
                    Transaction { sender: waiting.sender, action: waiting.action.clone() };
                let _ = tx::apply(&mut state, &context, &transaction);
            }
        }
        state
    }

    #[test]
    fn the_pending_state_follows_each_block_without_a_copy_and_equals_a_rebuild() {
        let keys: Vec<SigningKey> =
            ["a", "b", "c", "d", "e"].iter().map(|seed| SigningKey::from_seed(seed)).collect();
        let [a, b, c, d, e] = &keys[..] else { unreachable!() };
        let funded: Vec<Address> = keys.iter().map(SigningKey::address).collect();
        let genesis = market(ADMIN, &funded);
        let mut pool = Mempool::new(100, genesis.clone(), None);
        assert_eq!(pool.rebuilds(), 0);
        for tx in [tx(a, 0), tx(a, 1), tx(b, 0)] {
            pool.admit(tx, NOW).unwrap();
        }
        // A block carries exactly what the pool had applied and took; c's transaction arrives
        // while it is being made.
        let taken = pool.take_ready(10, |_| 0);
        pool.admit(tx(c, 0), NOW + 1).unwrap();
        let block_1 = block_after(&genesis, &taken, NOW + 5);
        pool.on_commit(block_1.clone(), NOW + 5);
        assert_eq!(pool.rebuilds(), 0, "brought forward, not copied");
        assert!(*pool.pending_state() == rebuilt(&pool, NOW + 5));
        assert_eq!(pool.len(), 1);

        // A block the pool did not predict, made elsewhere: a sender it never saw (a peer's or
        // a keeper's transaction), another transaction with c's waiting nonce (c's is dropped),
        // a refused one that still uses its nonce, and a's next one the pool never had.
        pool.admit(tx(b, 1), NOW + 6).unwrap();
        pool.admit(tx(a, 2), NOW + 6).unwrap();
        let unpredicted = vec![
            signed(d, 0, &send(Amount::from_whole(60).0)),
            signed(c, 0, &send(Amount::from_whole(100).0)),
            signed(e, 0, &send(Amount::from_whole(1_000).0)),
        ];
        let block_2 = block_after(&block_1, &unpredicted, NOW + 20);
        pool.on_commit(block_2.clone(), NOW + 21);
        assert_eq!(pool.rebuilds(), 0);
        assert!(*pool.pending_state() == rebuilt(&pool, NOW + 21));
        assert!(!pool.contains(&tx(c, 0).hash()), "its nonce was used by the block");
        assert_eq!(
            (pool.len(), pool.next_nonce(c.address()), pool.next_nonce(e.address())),
            (2, 1, 1)
        );
        assert_eq!(pool.next_nonce(a.address()), 3);

        // The pool misses a block (a gap): it copies the new head whole.
        let block_3 = block_after(&block_2, &[tx(b, 1)], NOW + 30);
        let block_4 = block_after(&block_3, &[tx(a, 2)], NOW + 40);
        pool.on_commit(block_4.clone(), NOW + 40);
        assert_eq!(pool.rebuilds(), 1);
        assert!(*pool.pending_state() == rebuilt(&pool, NOW + 40));
        assert!(pool.is_empty());
        // And again for a head whose changes are unknown (loaded whole).
        pool.admit(tx(d, 1), NOW + 41).unwrap();
        pool.on_commit(snapshot_of(block_4.state.clone()), NOW + 42);
        assert_eq!(pool.rebuilds(), 2);
        assert!(*pool.pending_state() == rebuilt(&pool, NOW + 42));
        // From there it goes on without copies.
        let block_5 = block_after(&pool.committed.clone(), &[], NOW + 50);
        pool.on_commit(block_5, NOW + 50);
        assert_eq!(pool.rebuilds(), 2);
        assert!(*pool.pending_state() == rebuilt(&pool, NOW + 50));
        assert_eq!(pool.next_nonce(d.address()), 2);
    }

    #[test]
    fn ready_transactions_come_out_in_nonce_order_per_sender_and_arrival_order_across() {
        let (a, b) = (SigningKey::from_seed("a"), SigningKey::from_seed("b"));
        let mut pool = Mempool::new(100, market(ADMIN, &[a.address(), b.address()]), None);
        pool.admit(tx(&a, 0), NOW).unwrap();
        pool.admit(tx(&b, 0), NOW).unwrap();
        pool.admit(tx(&a, 1), NOW).unwrap();
        let taken = pool.take_ready(10, |_| 0);
        let order: Vec<(Address, u64)> = taken.iter().map(|t| (t.sender, t.signed.nonce)).collect();
        assert_eq!(order, vec![(a.address(), 0), (b.address(), 0), (a.address(), 1)]);
        assert!(pool.is_empty());
    }

    #[test]
    fn replays_gaps_duplicates_and_overflow_are_refused_with_their_codes() {
        let a = SigningKey::from_seed("a");
        let b = SigningKey::from_seed("b");
        let mut pool = Mempool::new(2, market(ADMIN, &[a.address(), b.address()]), None);
        let hash = pool.admit(tx(&a, 0), NOW).unwrap();
        assert_eq!(pool.admit(tx(&a, 0), NOW).unwrap(), hash, "re-admission is idempotent");
        let other = signed(&a, 0, &send(2));
        assert_eq!(pool.admit(other, NOW).unwrap_err().code(), "nonce_already_pending");
        assert_eq!(pool.admit(tx(&a, 2), NOW).unwrap_err().code(), "nonce_too_high");
        pool.admit(tx(&a, 1), NOW).unwrap();
        assert_eq!(pool.admit(tx(&b, 0), NOW).unwrap_err().code(), "mempool_full");
        assert_eq!(pool.next_nonce(a.address()), 2);
        pool.take_ready(10, |_| 0);
        let committed = pool.pending_state().clone();
        pool.on_commit(snapshot_of(committed), NOW);
        assert_eq!(pool.admit(tx(&a, 0), NOW).unwrap_err().code(), "nonce_too_low");
    }

    #[test]
    fn transactions_taken_for_a_block_stay_known_until_it_commits() {
        // Regression: between `take_ready` and the commit, a transaction was neither pending
        // nor committed, so `GET /v1/tx` answered 404 and `next_nonce` went backwards.
        let a = SigningKey::from_seed("a");
        let mut pool = Mempool::new(10, market(ADMIN, &[a.address()]), None);
        let hash = pool.admit(tx(&a, 0), NOW).unwrap();
        assert_eq!(pool.take_ready(10, |_| 0).len(), 1);
        assert!(pool.contains(&hash));
        assert_eq!(pool.next_nonce(a.address()), 1);
        assert_eq!(pool.admit(tx(&a, 0), NOW).unwrap(), hash, "re-submission is idempotent");
        let other = signed(&a, 0, &send(2));
        assert_eq!(pool.admit(other, NOW).unwrap_err().code(), "nonce_already_pending");
        pool.admit(tx(&a, 1), NOW).unwrap();
        let committed = {
            let mut state = pool.committed.state.clone();
            let context = BlockContext { height: 1, timestamp: NOW };
            tx::consume_nonce(&mut state, a.address(), 0).unwrap();
            tx::apply(&mut state, &context, &Transaction { sender: a.address(), action: send(1) })
                .unwrap();
            state
        };
        pool.on_commit(snapshot_of(committed), NOW);
        assert!(!pool.contains(&hash));
        assert_eq!(pool.len(), 1, "the next one still waits");
        assert_eq!(pool.next_nonce(a.address()), 2);
    }

    #[test]
    fn a_copy_of_a_transaction_in_a_block_being_stored_is_refused_as_after_the_commit() {
        // Regression: the store makes a block's receipts readable before the pool learns of
        // the block; a copy sent in between was acknowledged as the one in flight.
        let (a, b) = (SigningKey::from_seed("a"), SigningKey::from_seed("b"));
        let genesis = market(ADMIN, &[a.address(), b.address()]);
        let mut pool = Mempool::new(10, genesis.clone(), None);
        let hash = pool.admit(tx(&a, 0), NOW).unwrap();
        let taken = pool.take_ready(10, |_| 0);
        let block = block_after(&genesis, &taken, NOW + 5);
        pool.committing(taken.iter().map(|sealed| sealed.sender), &block.state);
        let replay = pool.admit(tx(&a, 0), NOW + 5).unwrap_err();
        assert_eq!(replay.code(), "nonce_too_low");
        let other = pool.admit(signed(&a, 0, &send(2)), NOW + 5).unwrap_err();
        assert_eq!(other.code(), "nonce_too_low", "its nonce is used, not pending");
        assert!(pool.contains(&hash), "still in flight for readers until the commit");
        let next = pool.admit(tx(&a, 1), NOW + 5).unwrap();
        pool.admit(tx(&b, 0), NOW + 5).unwrap();
        pool.on_commit(block, NOW + 6);
        // The same refusal as in the window; `expected` now counts a's nonce 1, waiting.
        assert_eq!(replay, AdmitError::NonceTooLow { nonce: 0, expected: 1 });
        let after_commit = pool.admit(tx(&a, 0), NOW + 6).unwrap_err();
        assert_eq!(after_commit, AdmitError::NonceTooLow { nonce: 0, expected: 2 });
        assert!(!pool.contains(&hash));
        assert!(pool.contains(&next));
    }

    #[test]
    fn a_transaction_that_would_be_rejected_is_refused_with_the_state_machines_code() {
        let a = SigningKey::from_seed("a");
        let mut pool = Mempool::new(10, market(ADMIN, &[a.address()]), None);
        let too_much = send(Amount::from_whole(101).0);
        let refused = pool.admit(signed(&a, 0, &too_much), NOW).unwrap_err();
        assert_eq!(refused.code(), "balance_insufficient");
        assert_eq!(pool.next_nonce(a.address()), 0, "a refusal uses no nonce");
        // Checked on the pending state: the second spend of the whole balance fails there.
        let all = send(Amount::from_whole(100).0);
        pool.admit(signed(&a, 0, &all), NOW).unwrap();
        let again = pool.admit(signed(&a, 1, &all), NOW).unwrap_err();
        assert_eq!(again.code(), "balance_insufficient");
    }

    #[test]
    fn a_key_with_nothing_gets_no_upkeep_and_one_transaction_at_a_time() {
        let admin = SigningKey::from_seed("admin");
        let nobody = SigningKey::from_seed("nobody");
        let snapshot = market(admin.address(), &[]);
        let mut pool = Mempool::new(100, snapshot, None);
        let remark = Action::RemarkLoans(RemarkLoans {
            first_loan_id: infrafi_core::LoanId(0),
            max_loans: 1,
        });
        let refused = pool.admit(signed(&nobody, 0, &remark), NOW).unwrap_err();
        assert_eq!(refused, AdmitError::SenderLacksStanding);
        // The admin has a role: upkeep is fine, and more than one may wait.
        pool.admit(signed(&admin, 0, &remark), NOW).unwrap();
        pool.admit(signed(&admin, 1, &remark), NOW).unwrap();
        let grant = Action::GrantRole(GrantRole { role: Role::Oracle, account: nobody.address() });
        pool.admit(signed(&admin, 2, &grant), NOW).unwrap();
        // Nobody may now post a price (its role is pending), but only one transaction waits.
        let price = Action::PostPrice(PostPrice { token: USDC, price_wad: infrafi_core::WAD });
        pool.admit(signed(&nobody, 0, &price), NOW).unwrap();
        let second = pool.admit(signed(&nobody, 1, &price), NOW).unwrap_err();
        assert_eq!(second, AdmitError::SenderPendingLimitReached { limit: 1 });
    }

    #[test]
    fn the_waiting_limit_grows_with_the_stake_and_the_keeper_has_reserved_slots() {
        let rich = SigningKey::from_seed("rich");
        let keeper = SigningKey::from_seed("keeper");
        let mut pool = Mempool::new(
            SENDER_PENDING_MAX as usize,
            market(Address::repeat_byte(1), &[rich.address()]),
            Some(keeper.address()),
        );
        // 100 USDC: the limit is capped at SENDER_PENDING_MAX.
        for nonce in 0..SENDER_PENDING_MAX {
            pool.admit(tx(&rich, nonce), NOW).unwrap();
        }
        let over = pool.admit(tx(&rich, SENDER_PENDING_MAX), NOW).unwrap_err();
        assert_eq!(over, AdmitError::SenderPendingLimitReached { limit: SENDER_PENDING_MAX });
        // The pool is full, but the node's keeper (no funds, no role) still gets its upkeep in.
        let upkeep = Action::RemarkLoans(RemarkLoans {
            first_loan_id: infrafi_core::LoanId(0),
            max_loans: 1,
        });
        pool.admit(signed(&keeper, 0, &upkeep), NOW).unwrap();
        assert_eq!(pool.len(), SENDER_PENDING_MAX as usize + 1);
    }

    #[test]
    fn senders_without_standing_share_only_part_of_the_pool() {
        let admin = SigningKey::from_seed("admin");
        let capacity = NO_STANDING_SHARE_DIVISOR * 2;
        let mut pool = Mempool::new(capacity, market(admin.address(), &[]), None);
        // The admin hands out roles; each grantee (no funds) then has one action it can take.
        let grantees: Vec<SigningKey> =
            (0..3).map(|i| SigningKey::from_seed(&format!("grantee {i}"))).collect();
        for (nonce, grantee) in grantees.iter().enumerate() {
            let grant =
                Action::GrantRole(GrantRole { role: Role::Oracle, account: grantee.address() });
            pool.admit(signed(&admin, nonce as u64, &grant), NOW).unwrap();
        }
        let price = Action::PostPrice(PostPrice { token: USDC, price_wad: infrafi_core::WAD });
        pool.admit(signed(&grantees[0], 0, &price), NOW).unwrap();
        pool.admit(signed(&grantees[1], 0, &price), NOW).unwrap();
        let third = pool.admit(signed(&grantees[2], 0, &price), NOW).unwrap_err();
        assert_eq!(third.code(), "mempool_full");
    }

    #[test]
    fn transactions_whose_nonce_was_consumed_are_dropped() {
        let a = SigningKey::from_seed("a");
        let mut pool = Mempool::new(10, market(ADMIN, &[a.address()]), None);
        pool.admit(tx(&a, 0), NOW).unwrap();
        pool.admit(tx(&a, 1), NOW).unwrap();
        let taken = pool.take_ready(10, |_| 1);
        assert_eq!(taken.len(), 1);
        assert!(pool.is_empty());
    }

    #[test]
    fn restored_transactions_wait_in_their_order_and_stale_ones_are_dropped() {
        let a = SigningKey::from_seed("a");
        let snapshot = market(ADMIN, &[a.address()]);
        let mut pool = Mempool::new(10, snapshot.clone(), None);
        // Given out of order: they are put back in their arrival order.
        let txs = vec![(41, tx(&a, 1)), (40, tx(&a, 0)), (42, tx(&a, 3))];
        assert_eq!(pool.restore(txs, NOW).len(), 2, "the gapped one is left out");
        assert_eq!(pool.next_nonce(a.address()), 2);
        let order: Vec<u64> = pool.waiting().iter().map(|t| t.signed.nonce).collect();
        assert_eq!(order, vec![0, 1]);
        assert_eq!(pool.arrival(&tx(&a, 1).hash()).map(|(s, _)| s), Some(41));
        // New arrivals come after the restored ones.
        let hash = pool.admit(tx(&a, 2), NOW).unwrap();
        assert_eq!(pool.arrival(&hash).map(|(s, _)| s), Some(42));
    }

    #[test]
    fn a_validator_proposes_without_removing_and_a_finalized_block_drops_what_it_consumed() {
        let (a, b) = (SigningKey::from_seed("a"), SigningKey::from_seed("b"));
        let mut pool = Mempool::new(100, market(ADMIN, &[a.address(), b.address()]), None);
        pool.admit(tx(&a, 0), NOW).unwrap();
        pool.admit(tx(&b, 0), NOW).unwrap();
        pool.admit(tx(&a, 1), NOW).unwrap();
        let ready = pool.ready(10, |_| 0);
        let order: Vec<(Address, u64)> = ready.iter().map(|t| (t.sender, t.signed.nonce)).collect();
        assert_eq!(order, vec![(a.address(), 0), (b.address(), 0), (a.address(), 1)]);
        assert_eq!(pool.len(), 3, "a proposal leaves the pool as it was");
        assert_eq!(pool.ready(2, |_| 0).len(), 2, "the limit holds");
        // After a parent that consumed a's first nonce, the proposal starts at a's second.
        let after_parent = pool.ready(10, |s| u64::from(s == a.address()));
        let order: Vec<(Address, u64)> =
            after_parent.iter().map(|t| (t.sender, t.signed.nonce)).collect();
        assert_eq!(order, vec![(b.address(), 0), (a.address(), 1)]);
        // A finalized block (made elsewhere) consumed a's nonce 0 only.
        let committed = {
            let mut state = pool.committed.state.clone();
            let context = BlockContext { height: 1, timestamp: NOW };
            tx::consume_nonce(&mut state, a.address(), 0).unwrap();
            tx::apply(&mut state, &context, &Transaction { sender: a.address(), action: send(1) })
                .unwrap();
            state
        };
        pool.on_commit(snapshot_of(committed), NOW);
        assert_eq!(pool.len(), 2, "a's nonce 0 is gone; b's 0 and a's 1 wait");
        assert!(!pool.contains(&tx(&a, 0).hash()));
        assert_eq!(pool.next_nonce(a.address()), 2);
    }
}
