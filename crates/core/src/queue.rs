//! The redemption queue (SPEC 6, 11): `request_redeem` locks shares, a keeper's servicing round
//! burns them at the redemption share price from liquidity that really arrived, and the owner
//! pulls the USDai with `claim`. The auction that orders it (bids, clearing price, wait-fees,
//! tradable positions) is in [`crate::qev`].
//!
//! Guarantees: a round never pays out more than its liquidity; eligible requests are served in
//! the order of the `eligible` index (bid, then request id, so FIFO among equal bids; with no
//! bids it is pure FIFO); a request's eligibility time is fixed when it is made; everything
//! owed is pulled, never pushed, so no holder can block the queue. A round that serves k
//! requests of n costs O(k log n) plus O(log n) per request that became eligible: the
//! `eligible_shares` and `waiting_shares` Fenwick trees give prefix sums of shares by request
//! id, and the `wait_fee_index` tree pays every waiter with one update per round.

use crate::{
    action::ActionHandler,
    dense_table::{DenseKey, DenseTable},
    error::TxError,
    event::Event,
    fenwick::{Fenwick, Sums},
    ids::{Address, Asset, ProtocolAccount, RequestId},
    key_set::KeySet,
    ledger::{self, BalanceSlot, LedgerError, Postings, SupplySlot},
    math::{Amount, Rounding},
    qev::{self, QevError, QevGlobals, SealedBid, ServedPart, WaitFees},
    result_codes,
    state::State,
    table::{ByOwner, NoIndex, Owned, Slot, Table, TableIndex, Unordered, component},
    vault::{self, Nav, NavBasis},
};
use serde::{Deserialize, Serialize};

result_codes! {
    /// Rejections of queue actions.
    pub enum QueueError {
        SharesBelowMinimumRedeem = 501 => "shares_below_minimum_redeem",
            "The request is smaller than the minimum redemption size.";
        ActiveRequestsLimitReached = 502 => "active_requests_limit_reached",
            "The owner already has the maximum number of unserved requests.";
        RequestNotFound = 503 => "request_not_found",
            "No redemption request has this id.";
        SenderIsNotRequestOwner = 504 => "sender_is_not_request_owner",
            "Only the request's owner may do this.";
        RequestAlreadyServed = 505 => "request_already_served",
            "The request has been fully served.";
        NothingToClaim = 506 => "nothing_to_claim",
            "The request has no served USDai waiting to be claimed.";
        RoundIntervalNotElapsed = 507 => "round_interval_not_elapsed",
            "The previous servicing round was less than the round interval ago.";
        RoundRequestLimitOutOfRange = 508 => "round_request_limit_out_of_range",
            "A round serves between 1 and the protocol's maximum number of requests.";
        RoundRequestLimitCutsRoundShort = 509 => "round_request_limit_cuts_round_short",
            "The round would stop at the sender's request limit while liquidity and eligible requests remain; a round serves all it can, up to the protocol's maximum.";
    }
}

/// The most requests one servicing round may serve.
pub const ROUND_REQUESTS_MAX: u32 = 10_000;
/// The most requests one round moves from waiting to eligible (the rest wait a round).
pub const ROUND_ACTIVATIONS_MAX: usize = 100_000;
/// From this many activations in a round, one descent of the wait-fee index finds where it is
/// zero rather than each activated request walking it (a descent costs about two walks).
const ACTIVATIONS_INDEX_DESCENT_MIN: usize = 4;

/// A request to redeem shares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedemptionRequest {
    /// Its id (ids increase with time: the FIFO order).
    pub id: RequestId,
    /// Who owns it.
    pub owner: Address,
    /// Shares locked when it was made.
    pub shares_requested: Amount,
    /// Shares still locked, waiting to be served.
    pub shares_remaining: Amount,
    /// When it was made.
    pub created_at: u64,
    /// When it may first be served (fixed at creation).
    pub eligible_at: u64,
    /// The priority bid per share in USDai (18-decimal); 0 means none.
    #[serde(with = "crate::math::u128_serde")]
    pub bid_price_wad: u128,
    /// USDai served and waiting for the owner's claim.
    pub claimable: Amount,
    /// USDai claimed so far.
    pub claimed: Amount,
    /// Whether it has entered the eligible index.
    pub is_eligible: bool,
    /// USDai escrowed in `BidEscrow` for the bid: `bid_price_wad x shares_remaining / 10^18`,
    /// rounded up (after a partial fill it may be one unit below that; see `docs/qev.md`).
    pub bid_escrow: Amount,
    /// USDai released from escrow (unused bid escrow, a sealed deposit's remainder) and owed
    /// back to the owner, still in `BidEscrow` until pulled by `claim`.
    pub escrow_refund: Amount,
    /// A sealed bid committed and not yet revealed or resolved (boxed: few requests have one,
    /// and every request pays for the field).
    pub sealed_bid: Option<Box<SealedBid>>,
    /// The USDai price it is listed for sale at, if listed.
    pub listing_price: Option<Amount>,
    /// Wait-fees earned by being overtaken.
    pub wait_fees: WaitFees,
}

impl RedemptionRequest {
    /// The key that orders eligible requests: highest bid first, then oldest first.
    pub fn priority_key(&self) -> (u128, RequestId) {
        (u128::MAX - self.bid_price_wad, self.id)
    }

    /// Whether shares are still waiting to be served.
    pub fn is_active(&self) -> bool {
        !self.shares_remaining.is_zero()
    }

    /// Whether nothing is locked in it or owed by it any more, so it can be forgotten.
    pub fn is_finished(&self) -> bool {
        !self.is_active()
            && self.claimable.is_zero()
            && self.bid_escrow.is_zero()
            && self.escrow_refund.is_zero()
            && self.sealed_bid.is_none()
            && self.listing_price.is_none()
            && self.wait_fees.credited == self.wait_fees.claimed
    }

    /// Its index in the queue's Fenwick trees (1-based).
    pub fn fenwick_index(&self) -> u64 {
        fenwick_index(self.id)
    }
}

impl Owned for RedemptionRequest {
    fn owner(&self) -> Address {
        self.owner
    }
}

/// The derived indexes of the `requests` table: by owner, and the listed ones.
pub type RequestIndex = (ByOwner<RequestId>, Listed);

/// Request ids are consecutive: the requests are kept in a [`DenseTable`], a request next to
/// the one made before it.
impl DenseKey for RequestId {
    #[inline(always)]
    fn position(self) -> u64 {
        self.0
    }

    #[inline(always)]
    fn at(position: u64) -> Self {
        RequestId(position)
    }
}

/// The ids of the requests listed for sale, in id order (derived): the listings are read
/// without walking the queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listed {
    ids: std::collections::BTreeSet<RequestId>,
}

impl Listed {
    /// Whether this index is what a scan of `requests` gives.
    pub fn equals_scan(
        &self,
        requests: &DenseTable<RequestId, RedemptionRequest, RequestIndex>,
    ) -> bool {
        let scanned = requests.iter().filter(|(_, r)| r.listing_price.is_some()).map(|(id, _)| *id);
        self.ids.iter().copied().eq(scanned)
    }
}

impl TableIndex<RequestId, RedemptionRequest> for Listed {
    type Projection = bool;
    type Order = std::collections::BTreeSet<RequestId>;

    fn project(_: &RequestId, request: &RedemptionRequest) -> bool {
        request.listing_price.is_some()
    }

    fn add(&mut self, id: &RequestId, listed: bool) {
        if listed {
            self.ids.insert(*id);
        }
    }

    fn remove(&mut self, id: &RequestId, listed: bool) {
        if listed {
            self.ids.remove(id);
        }
    }

    fn rebuilt<'a>(entries: impl Iterator<Item = (&'a RequestId, &'a RedemptionRequest)>) -> Self {
        let ids = entries.filter(|(_, r)| r.listing_price.is_some()).map(|(id, _)| *id).collect();
        Listed { ids }
    }
}

/// The ids of `owner`'s requests (served and unclaimed ones included), in id order: read from
/// the owner index, so the cost follows the owner's requests, not the queue's.
pub fn requests_of(
    state: &State,
    owner: Address,
) -> impl DoubleEndedIterator<Item = RequestId> + ExactSizeIterator + '_ {
    state.queue.requests.index().0.keys_of(owner).copied()
}

/// The requests listed for sale, in id order: read from the listed index, so the cost follows
/// the listings, not the queue.
pub fn listed_requests(state: &State) -> impl DoubleEndedIterator<Item = &RedemptionRequest> {
    let requests = &state.queue.requests;
    requests.index().1.ids.iter().filter_map(|id| requests.get(id))
}

/// The 1-based Fenwick index of a request id.
pub fn fenwick_index(id: RequestId) -> u64 {
    id.0 + 1
}

/// One servicing round, as published: what the queue served, then the prices and fees its QEV
/// settlement ([`qev::settle_round`]) wrote into the same record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// Its number, from 0.
    pub round: u64,
    /// When it ran.
    pub at: u64,
    /// The liquidity available to it.
    pub liquidity: Amount,
    /// Shares burned.
    pub served_shares: Amount,
    /// USDai made claimable.
    pub served_assets: Amount,
    /// Requests served in full or in part.
    pub requests_served: u32,
    /// The round's clearing price per share: the highest bid among eligible requests left
    /// unserved (0 when all were served). A request that jumped an older one paid this,
    /// capped at its own bid.
    #[serde(with = "crate::math::u128_serde")]
    pub clearing_price_wad: u128,
    /// The exponential moving average of clearing prices, this round included.
    #[serde(with = "crate::math::u128_serde")]
    pub clearing_price_ema_wad: u128,
    /// Served requests that were ahead of an older unserved request because of their bid.
    pub jumpers: u32,
    /// Priority fees the jumpers paid.
    pub bid_fees_paid: Amount,
    /// Fee-pool USDai carried in (unrevealed-bid penalties, forfeited wait-fees, earlier
    /// rounds' undistributed fees).
    pub pool_carried_in: Amount,
    /// Wait-fees credited to the overtaken requests.
    pub wait_fees_distributed: Amount,
    /// The protocol's cut, rounding dust included: `bid_fees_paid + pool_carried_in =
    /// wait_fees_distributed + protocol_cut + pool_carried_out`.
    pub protocol_cut: Amount,
    /// Left in the pool for a later round (nobody was overtaken).
    pub pool_carried_out: Amount,
    /// Shares of the overtaken requests the wait-fees were shared over.
    pub overtaken_shares: Amount,
    /// Whole units of sub-unit wait-fee dust swept from the pool to the protocol.
    pub dust_swept: Amount,
}

impl RoundRecord {
    /// Whether the round stopped at the protocol's bound ([`ROUND_REQUESTS_MAX`] requests) with
    /// liquidity left, so the next round may run at once. (It may then find that the rest of
    /// the liquidity buys no share, or that the order had ended at the bound: it is recorded
    /// as a round and the interval applies after it.)
    pub fn stopped_at_bound(&self) -> bool {
        self.requests_served >= ROUND_REQUESTS_MAX && self.served_assets < self.liquidity
    }
}

/// Queue-wide counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueGlobals {
    /// The next request id.
    pub next_request_id: u64,
    /// When the last round ran.
    pub last_round_at: Option<u64>,
    /// Rounds run so far.
    pub rounds: u64,
}

component! {
    /// The queue.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct QueueState at "queue" paths QueuePaths {
        /// Every request not yet fully served and claimed; indexed by owner (derived, not
        /// encoded: an account's requests are read without walking the others'). Kept by id
        /// in a [`DenseTable`] (a table's entries, encoding and leaves): a round's activated
        /// run and served front are neighbours in memory, not records at random buckets.
        pub requests: DenseTable<RequestId, RedemptionRequest, RequestIndex>,
        /// Requests in their notice period, by (eligible time, id): a [`KeySet`] (a table of
        /// `()` values kept only as chunked keys): a new request's key is almost always the
        /// largest (the notice period is the same for all) and activation takes them from the
        /// front.
        pub waiting: KeySet<(u64, RequestId)>,
        /// Eligible requests in service order, by `priority_key`: a [`KeySet`], since an
        /// activated request without a bid has the largest key, and a round serves from the
        /// front.
        pub eligible: KeySet<(u128, RequestId)>,
        /// Unserved requests per owner. Read by owner only, iterated only to be encoded or
        /// checked: no key order kept ([`Unordered`]), so a new owner costs no B-tree insert.
        pub active_by_owner: Table<Address, u32, Unordered>,
        /// Every round, by number. Kept in a [`DenseTable`] (a table's entries, encoding and
        /// leaves): round numbers are sequential and never removed, so a round's record is
        /// appended to the window, with no hash-map insert (and rehash as the map grows) and no
        /// B-tree insert of its key.
        pub rounds: DenseTable<u64, RoundRecord, NoIndex>,
        /// Counters.
        pub globals: Slot<QueueGlobals>,
        /// Shares and count of eligible unserved requests, by request id.
        pub eligible_shares: Fenwick,
        /// Shares and count of requests in their notice period, by request id.
        pub waiting_shares: Fenwick,
        /// The wait-fee index: per round with overtaken requests, (fee per share, fee per share x
        /// time) at the newest jumper; a request's accrued index is the sum at larger ids.
        pub wait_fee_index: Fenwick,
        /// The auction's pool and totals.
        pub qev: Slot<QevGlobals>,
    }
}

pub(crate) fn change_active_count(state: &mut State, owner: Address, increase: bool) {
    // One lookup: the count is changed, removed at zero, or inserted.
    let changed = state.queue.active_by_owner.write_with(owner, |count| {
        let count = count.copied().unwrap_or(0);
        let count = if increase {
            count + 1
        } else {
            count.checked_sub(1).expect("active count underflow")
        };
        Ok::<_, std::convert::Infallible>((count != 0).then_some(count))
    });
    let Ok(()) = changed;
}

// Always inlined, as is `store_request`: a request (~300 bytes) returned or passed by value
// through a call is copied on the way (`memcpy`), several times per claim.
#[inline(always)]
pub(crate) fn owned_request(
    state: &State,
    sender: Address,
    id: RequestId,
) -> Result<RedemptionRequest, TxError> {
    let request = state.queue.requests.get(&id).ok_or(QueueError::RequestNotFound)?;
    if request.owner != sender {
        return Err(QueueError::SenderIsNotRequestOwner.into());
    }
    Ok(request.clone())
}

/// Stores `request`, or forgets it once nothing is locked in it or owed by it.
#[inline(always)]
pub(crate) fn store_request(state: &mut State, request: RedemptionRequest) {
    if request.is_finished() {
        state.queue.requests.delete(&request.id);
    } else {
        state.queue.requests.insert(request.id, request);
    }
}

/// Lock shares in a redemption request.
///
/// Lock `shares` in a new request, eligible after the notice period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestRedeem {
    /// sUSDai shares locked in the request, in base units.
    pub shares: Amount,
}

impl ActionHandler for RequestRedeem {
    const NAME: &'static str = "request_redeem";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.shares.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let shares = self.shares;
        let params = state.governance.params.get();
        // The minimum keeps the queue free of dust requests, but it must never lock a holder in:
        // a holder may always ask to redeem everything it has, however small (a share unit priced
        // far above 1, e.g. after a donation attack, would otherwise strand a whole position).
        let whole_balance = state.ledger.balance(sender, Asset::Susdai);
        if shares < params.min_redeem_shares && shares != whole_balance {
            return Err(QueueError::SharesBelowMinimumRedeem.into());
        }
        let active = state.queue.active_by_owner.get(&sender).copied().unwrap_or(0);
        if active >= params.max_active_requests {
            return Err(QueueError::ActiveRequestsLimitReached.into());
        }
        let now = state.now();
        let eligible_at = now.saturating_add(params.notice_period_secs);
        ledger::transfer(state, Asset::Susdai, sender, ProtocolAccount::QueueEscrow, shares)?;
        let globals = state.queue.globals.get_mut();
        let id = RequestId(globals.next_request_id);
        globals.next_request_id += 1;
        let request = RedemptionRequest {
            id,
            owner: sender,
            shares_requested: shares,
            shares_remaining: shares,
            created_at: now,
            eligible_at,
            bid_price_wad: 0,
            claimable: Amount::ZERO,
            claimed: Amount::ZERO,
            is_eligible: false,
            bid_escrow: Amount::ZERO,
            escrow_refund: Amount::ZERO,
            sealed_bid: None,
            listing_price: None,
            wait_fees: WaitFees::default(),
        };
        let index = request.fenwick_index();
        state.queue.eligible_shares.grow_to(index);
        state.queue.waiting_shares.grow_to(index);
        state.queue.waiting_shares.add(index, Sums(shares.0, 1))?;
        state.queue.requests.insert(id, request);
        state.queue.waiting.insert((eligible_at, id), ());
        change_active_count(state, sender, true);
        state.emit(Event::RedemptionRequested {
            request_id: id,
            owner: sender,
            shares,
            eligible_at,
        });
        Ok(())
    }
}

/// Takes an active request out of whichever index holds it, with its shares out of the
/// matching Fenwick tree. The caller settles its wait-fees first.
fn unindex_request(state: &mut State, request: &RedemptionRequest) {
    let index = request.fenwick_index();
    let sums = Sums(request.shares_remaining.0, 1);
    if request.is_eligible {
        state.queue.eligible.remove(&request.priority_key());
        state.queue.eligible_shares.sub(index, sums);
    } else {
        state.queue.waiting.remove(&(request.eligible_at, request.id));
        state.queue.waiting_shares.sub(index, sums);
    }
}

/// Cancel an unserved request.
///
/// Unlock an unserved request's remaining shares; no fee. Its bid escrow
/// returns; wait-fees not yet vested are forfeited to the fee pool (vested ones stay
/// claimable); a sealed bid still waiting returns in full before its reveal window opens and
/// less the unrevealed penalty after.
///
/// Checks, in order: request exists, sender owns it, it is unserved, it is not listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRedeem {
    /// The request cancelled.
    pub request_id: RequestId,
}

impl ActionHandler for CancelRedeem {
    const NAME: &'static str = "cancel_redeem";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.request_id;
        let mut request = owned_request(state, sender, id)?;
        if !request.is_active() {
            return Err(QueueError::RequestAlreadyServed.into());
        }
        if request.listing_price.is_some() {
            return Err(QevError::RequestIsListed.into());
        }
        qev::resolve_expired_sealed_bid(state, &mut request)?;
        let penalise_sealed_bid = qev::is_reveal_window_open(state);
        qev::release_sealed_bid(state, &mut request, penalise_sealed_bid)?;
        qev::settle_wait_fees(state, &mut request)?;
        qev::forfeit_unvested_wait_fees(state, &mut request)?;
        let shares = request.shares_remaining;
        ledger::transfer(state, Asset::Susdai, ProtocolAccount::QueueEscrow, sender, shares)?;
        let escrow = request.bid_escrow.checked_add(request.escrow_refund)?;
        if !escrow.is_zero() {
            ledger::transfer(state, Asset::Usdai, ProtocolAccount::BidEscrow, sender, escrow)?;
        }
        unindex_request(state, &request);
        change_active_count(state, sender, false);
        request.shares_remaining = Amount::ZERO;
        request.bid_price_wad = 0;
        request.bid_escrow = Amount::ZERO;
        request.escrow_refund = Amount::ZERO;
        store_request(state, request);
        state.emit(Event::RedemptionCancelled { request_id: id, shares });
        Ok(())
    }
}

/// Claim what a request owes: served USDai, released escrow, vested wait-fees.
///
/// The owner pulls everything the request owes it: served USDai, escrow released by
/// rounds, and vested wait-fees.
///
/// Checks, in order: request exists, sender owns it, it is not listed, something is owed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The request claimed.
    pub request_id: RequestId,
}

impl ActionHandler for Claim {
    const NAME: &'static str = "claim";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.request_id;
        let mut request = owned_request(state, sender, id)?;
        if request.listing_price.is_some() {
            return Err(QevError::RequestIsListed.into());
        }
        qev::resolve_expired_sealed_bid(state, &mut request)?;
        qev::settle_wait_fees(state, &mut request)?;
        let now = state.now();
        let assets = request.claimable;
        let refund = request.escrow_refund;
        let fees = qev::claimable_wait_fees(&request.wait_fees, now)?;
        if assets.is_zero() && refund.is_zero() && fees.is_zero() {
            return Err(QueueError::NothingToClaim.into());
        }
        if !assets.is_zero() {
            ledger::transfer(
                state,
                Asset::Usdai,
                ProtocolAccount::RedemptionClaims,
                sender,
                assets,
            )?;
            request.claimable = Amount::ZERO;
            request.claimed = request.claimed.checked_add(assets)?;
            state.emit(Event::RedemptionClaimed { request_id: id, owner: sender, assets });
        }
        if !refund.is_zero() {
            ledger::transfer(state, Asset::Usdai, ProtocolAccount::BidEscrow, sender, refund)?;
            request.escrow_refund = Amount::ZERO;
            state.emit(Event::EscrowRefundClaimed {
                request_id: id,
                owner: sender,
                amount: refund,
            });
        }
        if !fees.is_zero() {
            qev::pay_wait_fees(state, &mut request, sender, fees)?;
        }
        store_request(state, request);
        Ok(())
    }
}

/// A servicing round's working lists: the waiting keys it activates, the Fenwick changes of
/// its activations and then of its served shares, and its served requests. The round takes
/// them out of the state and gives them back cleared, so the rounds after the first allocate
/// none of them (a round of one request allocated four). Not state: always empty between
/// transactions (a failed round drops them, the next starts from empty lists), and what they
/// keep is bounded by [`ROUND_SCRATCH_KEPT`] entries each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RoundScratch {
    due: Vec<(u64, RequestId)>,
    changes: Vec<(u64, Sums)>,
    served: Vec<ServedPart>,
}

/// The entries each of a [`RoundScratch`]'s lists keeps room for after a round (a round of
/// [`ROUND_REQUESTS_MAX`] fits; a larger activation gives the rest back).
const ROUND_SCRATCH_KEPT: usize = ROUND_REQUESTS_MAX as usize;

impl RoundScratch {
    /// Empties the lists, keeping at most [`ROUND_SCRATCH_KEPT`] entries of room each.
    fn cleared(mut self) -> RoundScratch {
        self.due.clear();
        self.changes.clear();
        self.served.clear();
        self.due.shrink_to(ROUND_SCRATCH_KEPT);
        self.changes.shrink_to(ROUND_SCRATCH_KEPT);
        self.served.shrink_to(ROUND_SCRATCH_KEPT);
        self
    }
}

/// The events a round makes room for before its first: a round of one or two requests (their
/// wait-fee credits, burns, payouts, services, fee charges and transfers, and the round's own)
/// then grows the buffer once, not three times.
const ROUND_EVENTS_FIRST: usize = 16;

/// Moves requests whose notice period has ended into the eligible index; each starts
/// accruing wait-fees from the index as it stands now. Uses `scratch`'s `due` and `changes`
/// (empty on entry and on return).
fn activate_eligible(state: &mut State, scratch: &mut RoundScratch) -> Result<(), TxError> {
    let now = state.now();
    let due = &mut scratch.due;
    due.extend(
        state
            .queue
            .waiting
            .range(..=(now, RequestId(u64::MAX)))
            .take(ROUND_ACTIVATIONS_MAX)
            .map(|(key, _)| *key),
    );
    // The wait-fee index is zero at every id from the last one a round paid at on: for a run
    // of activations (usually the newest requests, above it) one descent spares each its walk.
    let index_zero_from = (due.len() >= ACTIVATIONS_INDEX_DESCENT_MIN)
        .then(|| state.queue.wait_fee_index.last_nonzero().unwrap_or(0));
    // Their shares move from the waiting tree to the eligible one in one batch per tree, each
    // node written once (nothing below reads either tree).
    let moved = &mut scratch.changes;
    for key in due.drain(..) {
        state.queue.waiting.remove(&key);
        let id = key.1;
        let index_snapshot = match index_zero_from {
            Some(zero_from) if fenwick_index(id) >= zero_from => Sums::ZERO,
            _ => qev::wait_fee_index_at(state, id),
        };
        // Written in place: the stored record is journaled once, not cloned and re-inserted.
        let changed = state.queue.requests.update(&id, |request| {
            request.is_eligible = true;
            request.wait_fees.index_snapshot = index_snapshot;
            (request.priority_key(), Sums(request.shares_remaining.0, 1))
        });
        let Some((priority_key, shares)) = changed else {
            unreachable!("waiting index names a missing request");
        };
        moved.push((fenwick_index(id), shares));
        state.queue.eligible.insert(priority_key, ());
    }
    state.queue.waiting_shares.sub_all(moved);
    let added = state.queue.eligible_shares.add_all(moved);
    moved.clear();
    added?;
    Ok(())
}

/// The liquidity a round may pay out now: unallocated vault USDai above the buffer. The buffer
/// is `liquidity_buffer_bps` of the value of the shares *not* in the queue, so it protects the
/// holders who stay, and a queue holding every share can drain the vault completely.
pub fn round_liquidity(state: &State) -> Result<Amount, TxError> {
    let locked = state.ledger.balance(ProtocolAccount::QueueEscrow, Asset::Susdai);
    liquidity_above_buffer(state, &vault::nav(state), locked)
}

/// [`round_liquidity`] at `nav` with `locked` shares in the queue's escrow (a round reads both
/// from its postings).
fn liquidity_above_buffer(state: &State, nav: &Nav, locked: Amount) -> Result<Amount, TxError> {
    let unlocked = nav.share_supply.saturating_sub(locked);
    let buffer = if nav.share_supply.is_zero() {
        Amount::ZERO
    } else {
        let unlocked_value =
            nav.conservative.mul_div(unlocked.0, nav.share_supply.0, Rounding::Up)?;
        unlocked_value.mul_bps(state.governance.params.get().liquidity_buffer_bps, Rounding::Up)?
    };
    Ok(nav.unallocated.saturating_sub(buffer))
}

/// The earliest time the next servicing round may run: the last round's time plus the round
/// interval, or 0 before the first round (the first round may run at any time). A round that
/// stopped at the protocol's bound ([`ROUND_REQUESTS_MAX`]) with liquidity left
/// ([`RoundRecord::stopped_at_bound`]) did not end the day's servicing: the next round may run
/// at once.
pub fn next_round_earliest_at(state: &State) -> u64 {
    let globals = state.queue.globals.get();
    let Some(last) = globals.last_round_at else { return 0 };
    let continues = globals
        .rounds
        .checked_sub(1)
        .and_then(|round| state.queue.rounds.get(&round))
        .is_some_and(RoundRecord::stopped_at_bound);
    if continues {
        return last;
    }
    last.saturating_add(state.governance.params.get().round_interval_secs)
}

/// Whether the eligible order holds a request that `left` buys at least one share of at `nav`:
/// the round could go on.
fn round_could_serve_more(state: &State, nav: &Nav, left: Amount) -> Result<bool, TxError> {
    if left.is_zero() || state.queue.eligible.is_empty() {
        return Ok(false);
    }
    Ok(!nav.shares_for_redemption_assets(left)?.is_zero())
}

/// Serves the first request of the eligible order from what is `left`; returns what it served,
/// or `None` when the order is empty or the liquidity buys no share. The round's ledger
/// movements go through `postings` (written once at the end of the round), and the request
/// is priced at the NAV of `basis` with the vault balance and share supply they leave: the
/// NAV [`vault::nav`] would give with the postings written.
fn serve_next(
    state: &mut State,
    basis: &NavBasis,
    postings: &mut Postings,
    accounts: &RoundAccounts,
    left: Amount,
) -> Result<Option<(ServedPart, Amount)>, TxError> {
    let Some(&key) = state.queue.eligible.first_key() else { return Ok(None) };
    let id = key.1;
    let Some(request) = state.queue.requests.get(&id) else {
        unreachable!("eligible index names a missing request");
    };
    let shares_remaining = request.shares_remaining;
    let has_sealed_bid = request.sealed_bid.is_some();
    let nav = basis.nav(postings.balance_in(accounts.vault), postings.supply_in(accounts.shares));
    let full_assets = nav.assets_for_redemption(shares_remaining)?;
    let (shares, assets) = if full_assets <= left {
        (shares_remaining, full_assets)
    } else {
        let shares = nav.shares_for_redemption_assets(left)?.min(shares_remaining);
        (shares, nav.assets_for_redemption(shares)?)
    };
    if shares.is_zero() {
        return Ok(None);
    }
    assert!(assets <= left, "a round paid more than its liquidity");
    // The request's shares change: resolve its sealed bid and settle its wait-fees first. A
    // sealed bid is rare: its request is resolved on a copy, written back.
    if has_sealed_bid {
        let Some(mut request) = state.queue.requests.get(&id).cloned() else {
            unreachable!("eligible index names a missing request");
        };
        qev::resolve_sealed_bid_in_round(state, &mut request)?;
        state.queue.requests.insert(id, request);
    }
    // Everything else is read first and written once, in place: the stored record is
    // journaled once, not cloned, changed and stored again (~300 bytes copied each time).
    let Some(request) = state.queue.requests.get(&id) else {
        unreachable!("eligible index names a missing request");
    };
    let owner = request.owner;
    let settlement = qev::wait_fee_settlement(state, request)?;
    let mut wait_fees = request.wait_fees.clone();
    let claimable = request.claimable;
    qev::book_wait_fee_settlement(state, id, &mut wait_fees, &settlement)?;
    postings.burn_from(state, accounts.escrow, accounts.shares, shares)?;
    if !assets.is_zero() {
        postings.transfer_between(state, accounts.vault, accounts.claims, assets)?;
    }
    let shares_remaining = shares_remaining.checked_sub(shares)?;
    let claimable = claimable.checked_add(assets)?;
    let Some(()) = state.queue.requests.update(&id, |request| {
        request.wait_fees = wait_fees;
        request.shares_remaining = shares_remaining;
        request.claimable = claimable;
    }) else {
        unreachable!("a request being served was read above and nothing removed it");
    };
    let fully_served = shares_remaining.is_zero();
    // Its shares leave the eligible tree with the round's others, after the round's serving
    // (`ServiceQueue::execute`).
    if fully_served {
        state.queue.eligible.remove(&key);
        change_active_count(state, owner, false);
    }
    state.emit(Event::RedemptionServed { request_id: id, shares, assets, fully_served });
    Ok(Some((ServedPart { id, shares, fully_served }, assets)))
}

/// The protocol accounts a round's serving posts to, each found once per round: the vault's
/// USDai (paid out), the queue's escrowed sUSDai (burned), the claims account's USDai (owed to
/// the served) and the sUSDai supply.
struct RoundAccounts {
    vault: BalanceSlot,
    escrow: BalanceSlot,
    claims: BalanceSlot,
    shares: SupplySlot,
}

impl RoundAccounts {
    /// Their slots in `postings`, read from the ledger now: the round writes them only through
    /// these postings (a sealed bid it resolves moves bid escrow, never these).
    fn at(state: &State, postings: &mut Postings) -> RoundAccounts {
        RoundAccounts {
            vault: postings.balance_slot(state, ProtocolAccount::Vault, Asset::Usdai),
            escrow: postings.balance_slot(state, ProtocolAccount::QueueEscrow, Asset::Susdai),
            claims: postings.balance_slot(state, ProtocolAccount::RedemptionClaims, Asset::Usdai),
            shares: postings.supply_slot(state, Asset::Susdai),
        }
    }
}

/// When a round burns the last share, whatever USDai the vault still holds (yield still vesting,
/// rounding dust) belongs to no holder: left there it would make the next depositor's first
/// share unit worth that amount, locking its shares below any redeemable size. It goes to the
/// fee collector, the protocol's own account, and the vesting schedule is cleared. Reads the
/// supply and the vault's balance, and posts the sweep, through the round's `postings`.
fn sweep_orphaned_vault_assets(
    state: &mut State,
    postings: &mut Postings,
    accounts: &RoundAccounts,
) -> Result<(), TxError> {
    if !postings.supply_in(accounts.shares).is_zero() {
        return Ok(());
    }
    let orphaned = postings.balance_in(accounts.vault);
    if orphaned.is_zero() {
        return Ok(());
    }
    let collector = postings.balance_slot(state, ProtocolAccount::FeeCollector, Asset::Usdai);
    postings.transfer_between(state, accounts.vault, collector, orphaned)?;
    let globals = state.vault.globals.get_mut();
    globals.vesting_amount = Amount::ZERO;
    globals.vesting_ends_at = globals.vesting_started_at;
    state.emit(Event::OrphanedVaultAssetsSwept { amount: orphaned });
    Ok(())
}

/// After this many requests served, a round makes room for the events of the rest it is
/// likely to serve: a few doublings of a small vector cost less than one large reservation, and
/// the mean size of this many is a fair guess where one request (a partial fill left by the
/// last round) is not.
const ROUND_EVENTS_RESERVED_AFTER: usize = 16;

/// Makes room at once for the events of the requests a round is likely to serve next, rather
/// than regrowing (and copying) the events vector as they come: as many as the liquidity
/// `left` would serve at the mean size of the `served` requests that were worth
/// `served_assets` (at most what is eligible and what the round may still serve), six events
/// each (its wait-fee credit, burn, payout and service; a jumper's fee transfer and charge),
/// two for each of the `served` (their settle events are still to come) and a few for the
/// round. Only capacity: what is emitted does not depend on it.
fn reserve_round_events(
    state: &mut State,
    left: Amount,
    served: usize,
    served_assets: Amount,
    max_requests: u32,
) {
    let Some(mean_assets) = served_assets.0.checked_div(served as u128) else { return };
    let Some(by_liquidity) = left.0.checked_div(mean_assets) else { return };
    let servable = state.queue.eligible.len().min((max_requests as usize).saturating_sub(served));
    let likely = usize::try_from(by_liquidity).unwrap_or(usize::MAX).min(servable);
    // The requests served so far have their settle events (a jumper's fee transfer and
    // charge) still to come too.
    let events = likely.saturating_mul(6).saturating_add(served.saturating_mul(2));
    state.events.reserve(events.saturating_add(8));
}

/// Keeper: run a servicing round.
///
/// A keeper runs a servicing round; `max_requests` is the most the sender lets it serve.
///
/// The eligible requests are served in order (highest bid first, then oldest) at the
/// redemption share price until the liquidity ends, the order ends, or [`ROUND_REQUESTS_MAX`]
/// are served; then [`qev::settle_round`] charges the requests that jumped an older one the
/// clearing price and credits the overtaken requests with the fees. Cost: O(k log n) for k
/// served of n queued, plus O(log n) per activation.
///
/// The sender cannot cut a round short: a round that would stop at `max_requests` (below the
/// protocol's bound) while liquidity and eligible requests remain is rejected
/// (`round_request_limit_cuts_round_short`) and changes nothing. A truncated round would
/// restart the interval, so every holder behind the cut would wait another day, and it would
/// price the requests the cut left unserved as if the liquidity had run out, charging the
/// served bidders a clearing price that their old, overtaken neighbours collect as wait-fees.
/// The protocol's own bound is the round's capacity: a round that stops there with liquidity
/// left lets the next run at once ([`next_round_earliest_at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceQueue {
    /// The most requests the round may serve (at most `queue::ROUND_REQUESTS_MAX`).
    pub max_requests: u32,
}

impl ActionHandler for ServiceQueue {
    const NAME: &'static str = "service_queue";
    // It burns shares and pays out the vault's USDai.
    const MOVES_SHARE_PRICE: bool = true;

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.max_requests == 0 || self.max_requests > ROUND_REQUESTS_MAX {
            return Err(QueueError::RoundRequestLimitOutOfRange.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, _sender: Address) -> Result<(), TxError> {
        let max_requests = self.max_requests;
        let now = state.now();
        if state.queue.globals.get().last_round_at.is_some() && now < next_round_earliest_at(state)
        {
            return Err(QueueError::RoundIntervalNotElapsed.into());
        }
        // The buffer a round's events go to, and its working lists, are grown once and kept.
        state.events.reserve(ROUND_EVENTS_FIRST);
        let mut scratch = std::mem::take(&mut state.round_scratch);
        activate_eligible(state, &mut scratch)?;
        // Every ledger movement of the round (serving, the jumpers' fees, the protocol's cut,
        // the sweeps) is posted here and written once, at its end; until then the round reads
        // the vault's balance, the escrow and the share supply from the postings.
        let basis = NavBasis::at(state);
        let mut postings = Postings::default();
        let accounts = RoundAccounts::at(state, &mut postings);
        let nav =
            basis.nav(postings.balance_in(accounts.vault), postings.supply_in(accounts.shares));
        let liquidity = liquidity_above_buffer(state, &nav, postings.balance_in(accounts.escrow))?;
        let mut left = liquidity;
        let mut served_shares = Amount::ZERO;
        let mut served_assets = Amount::ZERO;
        let served = &mut scratch.served;
        while served.len() < max_requests as usize && !left.is_zero() {
            let Some((part, assets)) = serve_next(state, &basis, &mut postings, &accounts, left)?
            else {
                break;
            };
            left = left.checked_sub(assets)?;
            served_shares = served_shares.checked_add(part.shares)?;
            served_assets = served_assets.checked_add(assets)?;
            let fully_served = part.fully_served;
            served.push(part);
            if !fully_served {
                break; // Liquidity ran out on a partial fill.
            }
            if served.len() == ROUND_EVENTS_RESERVED_AFTER {
                reserve_round_events(state, left, served.len(), served_assets, max_requests);
            }
        }
        // The served shares leave the eligible tree in one batch, each node written once:
        // serving reads the tree nowhere, the round's pricing below does.
        let taken = &mut scratch.changes;
        taken.extend(served.iter().map(|part| {
            (fenwick_index(part.id), Sums(part.shares.0, u128::from(part.fully_served)))
        }));
        state.queue.eligible_shares.sub_all(taken);
        if served.len() == max_requests as usize
            && max_requests < ROUND_REQUESTS_MAX
            && round_could_serve_more(
                state,
                &basis
                    .nav(postings.balance_in(accounts.vault), postings.supply_in(accounts.shares)),
                left,
            )?
        {
            return Err(QueueError::RoundRequestLimitCutsRoundShort.into());
        }
        let mut record = RoundRecord {
            round: state.queue.globals.get().rounds,
            at: now,
            liquidity,
            served_shares,
            served_assets,
            requests_served: served.len() as u32,
            ..RoundRecord::default()
        };
        qev::settle_round(state, served, &mut record, &mut postings)?;
        sweep_orphaned_vault_assets(state, &mut postings, &accounts)?;
        postings.write(state);
        // A request whose last shares were worth less than one USDai unit (possible once a share
        // unit is priced below 1, after a loss) was served for nothing and is owed nothing: forget
        // it, as `claim` forgets a finished request. Stored, it could be neither claimed nor
        // cancelled.
        for part in served.iter().filter(|part| part.fully_served) {
            // Only a finished one is written (removed): the others stay as they are stored.
            if state.queue.requests.get(&part.id).is_some_and(RedemptionRequest::is_finished) {
                state.queue.requests.remove(&part.id);
            }
        }
        let globals = state.queue.globals.get_mut();
        globals.rounds += 1;
        globals.last_round_at = Some(now);
        state.queue.rounds.insert(record.round, record.clone());
        state.emit(Event::QueueRoundServiced { record });
        state.round_scratch = scratch.cleared();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A round that activated the most requests a round may (its lists grew to 100,000
    /// entries) leaves room for a round of [`ROUND_REQUESTS_MAX`] in the state, not for it.
    #[test]
    fn a_round_keeps_room_for_the_largest_round_not_for_its_largest_activation() {
        let mut scratch = RoundScratch::default();
        scratch.due.resize(ROUND_ACTIVATIONS_MAX, (0, RequestId(0)));
        scratch.changes.resize(ROUND_ACTIVATIONS_MAX, (1, Sums(1, 1)));
        let part = ServedPart { id: RequestId(0), shares: Amount(1), fully_served: true };
        scratch.served.resize(ROUND_REQUESTS_MAX as usize, part);
        let kept = scratch.cleared();
        assert_eq!(kept, RoundScratch::default(), "empty between transactions");
        for room in [kept.due.capacity(), kept.changes.capacity(), kept.served.capacity()] {
            assert!(room <= ROUND_SCRATCH_KEPT, "{room} entries of room kept");
        }
        assert!(kept.served.capacity() >= ROUND_SCRATCH_KEPT, "a full round's room is kept");
    }
}
