//! The indexes tables derive from their entries (redemption requests and queued deposits by
//! owner: not encoded, not leaves) equal a scan of their table after random sequences of
//! transactions, accepted and rejected (rolled back), with previews (the dry-run path: applied,
//! then undone), requests moved between owners, a copy brought forward block by block with the
//! leaves each block changed (`State::apply_leaves`, as the node does), a restart (the
//! canonical encoding decoded) and a state rebuilt from its leaves (the node's start); and
//! every request's `estimate::shares_ahead`, read from the queue's trees, equals the walk of
//! the queue's indexes the API did before.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use infrafi_core::{
    Action, Amount, State,
    action::{BuyRequest, DelistRequest, ListRequest, TransferRequest},
    apply, begin_block, estimate,
    invariants::check_derived_indexes,
    queue::{self, RedemptionRequest},
    tx::{Transaction, preview},
};
use infrafi_testkit::workload::{self, ACTORS, Step, next_block, steps};
use proptest::{prelude::*, strategy::ValueTree, test_runner::TestRunner};

/// A position move drawn with each step: which request (by position in the table), which
/// kind (transfer, list, delist, buy), whether its owner sends it (or, for a buy, an actor other
/// than the owner: accepted unless the rules refuse) or someone else does (refused), and the
/// other party.
type Move = (u16, u8, bool, u8);

/// The move `(pick, kind, by_owner, other)` on the `pick`th request; `None` when there is none.
fn position_move(state: &State, (pick, kind, by_owner, other): Move) -> Option<Transaction> {
    let requests = &state.queue.requests;
    let (id, request) = requests.iter().nth(usize::from(pick) % requests.len().max(1))?;
    let request_id = *id;
    let other = ACTORS[usize::from(other) % ACTORS.len()];
    let not_owner = ACTORS.iter().copied().find(|a| *a != request.owner).unwrap_or(other);
    let owner_side = if by_owner { request.owner } else { not_owner };
    let (sender, action) = match kind % 4 {
        0 => (owner_side, Action::TransferRequest(TransferRequest { request_id, to: other })),
        1 => {
            let price = Amount(request.shares_remaining.0 / 2 + 1);
            (owner_side, Action::ListRequest(ListRequest { request_id, price }))
        }
        2 => (owner_side, Action::DelistRequest(DelistRequest { request_id })),
        _ => {
            let buyer = if by_owner { not_owner } else { request.owner };
            let max_price = request.listing_price.unwrap_or(Amount::ZERO);
            let buy = BuyRequest { request_id, max_price, min_value: Amount::ZERO };
            (buyer, Action::BuyRequest(buy))
        }
    };
    Some(Transaction { sender, action })
}

/// Shares ahead of `request` by walking the indexes: the API's estimate before the trees.
fn walked_shares_ahead(state: &State, request: &RedemptionRequest) -> u128 {
    let mut ahead = 0u128;
    for ((_, id), ()) in state.queue.eligible.iter() {
        if *id == request.id {
            break;
        }
        ahead = ahead.saturating_add(state.queue.requests.get(id).unwrap().shares_remaining.0);
    }
    if !request.is_eligible {
        for ((eligible_at, id), ()) in state.queue.waiting.iter() {
            if (*eligible_at, *id) >= (request.eligible_at, request.id) {
                break;
            }
            ahead = ahead.saturating_add(state.queue.requests.get(id).unwrap().shares_remaining.0);
        }
    }
    ahead
}

fn indexes_hold(state: &State, at: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(check_derived_indexes(state), Ok(()), "{}", at);
    let follows_ids = estimate::waiting_order_follows_ids(state);
    for (id, request) in state.queue.requests.iter() {
        let read = estimate::shares_ahead(state, request, follows_ids).0;
        prop_assert_eq!(
            read,
            walked_shares_ahead(state, request),
            "{}: shares ahead of {}",
            at,
            id
        );
    }
    // The read the API answers an account with equals the scan it replaced (same ids, same
    // order).
    for owner in ACTORS {
        let scanned: Vec<_> = state
            .queue
            .requests
            .iter()
            .filter(|(_, r)| r.owner == owner)
            .map(|(id, _)| *id)
            .collect();
        let indexed: Vec<_> = queue::requests_of(state, owner).collect();
        prop_assert_eq!(indexed, scanned, "{}: requests of {}", at, owner);
    }
    let listed: Vec<_> = queue::listed_requests(state).map(|r| r.id).collect();
    let scanned: Vec<_> = state
        .queue
        .requests
        .iter()
        .filter(|(_, r)| r.listing_price.is_some())
        .map(|(id, _)| *id)
        .collect();
    prop_assert_eq!(listed, scanned, "{}: listed requests", at);
    Ok(())
}

/// The moves drawn with the steps.
fn moves() -> impl Strategy<Value = Vec<Move>> {
    proptest::collection::vec((any::<u16>(), any::<u8>(), any::<bool>(), any::<u8>()), 300)
}

/// Runs `steps` with `moves` and checks the derived indexes after everything that writes the
/// state; returns the accepted moves by kind (transfers, listings, delistings, purchases).
fn run_checked(steps: &[Step], moves: &[Move]) -> Result<[usize; 4], TestCaseError> {
    let (mut state, mut block, _) = workload::start();
    state.track_changes();
    // The node's copy one block behind, brought forward by each block's leaves.
    let mut behind = state.clone();
    let mut moved = [0usize; 4];
    for (index, step) in steps.iter().enumerate() {
        block = next_block(block, step);
        if step.upkeep_first {
            begin_block(&mut state, &block).expect("time only moves forward here");
            indexes_hold(&state, &format!("after upkeep at step {index}"))?;
        }
        let tx = step.transaction(&state);
        // The dry-run path: every write undone, the index with it.
        let _ = preview(&mut state, &block, &tx, |after, _| {
            check_derived_indexes(after).expect("indexes inside a preview");
        });
        indexes_hold(&state, &format!("after previewing step {index}"))?;
        let _ = apply(&mut state, &block, &tx);
        indexes_hold(&state, &format!("step {index}: {tx:?}"))?;
        let drawn = moves[index % moves.len()];
        if let Some(tx) = position_move(&state, drawn) {
            if apply(&mut state, &block, &tx).is_ok() {
                moved[usize::from(drawn.1 % 4)] += 1;
            }
            indexes_hold(&state, &format!("position move at step {index}: {tx:?}"))?;
        }
        if index % 5 == 4 {
            let changed = state.take_changed_leaves();
            behind
                .apply_leaves(changed.iter().map(|l| (l.key.as_slice(), l.value.as_deref())))
                .expect("the block's leaves apply");
            prop_assert!(behind == state, "step {}: the copy brought forward differs", index);
            indexes_hold(&behind, &format!("the copy brought forward at step {index}"))?;
        }
        if index % 25 == 24 {
            let decoded = State::decode(&state.encode()).expect("the state decodes");
            indexes_hold(&decoded, &format!("decoded at step {index}"))?;
            let leaves = state.leaves().into_iter().filter_map(|l| Some((l.key, l.value?)));
            let rebuilt = State::from_leaves(leaves).expect("the leaves rebuild the state");
            indexes_hold(&rebuilt, &format!("rebuilt from leaves at step {index}"))?;
        }
    }
    Ok(moved)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn owner_indexes_equal_a_scan_after_transactions_rollbacks_previews_leaves_and_restarts(
        steps in steps(100..300),
        moves in moves(),
    ) {
        run_checked(&steps, &moves)?;
    }
}

/// The property above proves little about an owner changing or a listing unless the moves
/// are accepted: over a fixed sample of eight workloads, every kind is accepted at least once.
#[test]
fn the_drawn_moves_transfer_list_delist_and_buy_requests() {
    let mut runner = TestRunner::deterministic();
    let mut moved = [0usize; 4];
    for _ in 0..8 {
        let steps = steps(100..300).new_tree(&mut runner).unwrap().current();
        let moves = moves().new_tree(&mut runner).unwrap().current();
        let counts = run_checked(&steps, &moves).unwrap();
        for (total, count) in moved.iter_mut().zip(counts) {
            *total += count;
        }
    }
    assert!(moved.iter().all(|&n| n > 0), "accepted moves by kind: {moved:?}");
}

/// Every request's shares ahead, read from the trees, equal the walk; returned by id.
fn shares_ahead_of_each(state: &State) -> Vec<(u64, u128)> {
    let follows_ids = estimate::waiting_order_follows_ids(state);
    state
        .queue
        .requests
        .iter()
        .map(|(id, request)| {
            let read = estimate::shares_ahead(state, request, follows_ids).0;
            assert_eq!(read, walked_shares_ahead(state, request), "request {id}");
            (id.0, read)
        })
        .collect()
}

/// A notice period shortened while requests wait lets a later request become eligible before
/// earlier ones: the waiting order stops following the ids (`waiting_order_follows_ids` says
/// so), and `shares_ahead` (walking while it is so) still equals the walk for every request;
/// once the later request has left the waiting order, it follows the ids again and the trees
/// answer.
#[test]
fn a_shortened_notice_period_breaks_the_id_order_the_index_sees_it_and_shares_ahead_stays_exact() {
    use infrafi_core::{
        ParameterChange,
        action::{RequestRedeem, ServiceQueue, SetParameter},
    };
    use infrafi_testkit::market::*;
    let mut market = Market::new();
    for user in [ALICE, BOB, CAROL] {
        market.mint(user, whole(1_000));
        market.stake(user, whole(1_000));
    }
    let request = |market: &mut Market, who, shares| {
        let action = Action::RequestRedeem(RequestRedeem { shares: whole(shares) });
        Market::request_id(&market.ok(who, action)).0
    };
    let a = request(&mut market, ALICE, 10);
    let b = request(&mut market, BOB, 20);
    assert!(estimate::waiting_order_follows_ids(&market.state));
    assert_eq!(shares_ahead_of_each(&market.state), vec![(a, 0), (b, whole(10).0)]);

    let shorter = ParameterChange::NoticePeriodSecs(DAY);
    market.ok(ADMIN, Action::SetParameter(SetParameter { change: shorter }));
    let c = request(&mut market, CAROL, 30);
    assert!(!estimate::waiting_order_follows_ids(&market.state), "c waits before a and b");
    assert_eq!(
        shares_ahead_of_each(&market.state),
        vec![(a, whole(30).0), (b, whole(40).0), (c, 0)],
    );

    market.advance(DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let waiting = &market.state.queue.waiting;
    assert!(waiting.keys().all(|(_, id)| id.0 != c), "a round made c eligible");
    assert!(estimate::waiting_order_follows_ids(&market.state), "it follows the ids again");
    let ahead: std::collections::BTreeMap<u64, u128> =
        shares_ahead_of_each(&market.state).into_iter().collect();
    assert_eq!(ahead[&b], ahead[&a] + whole(10).0, "a waits right before b");
}
