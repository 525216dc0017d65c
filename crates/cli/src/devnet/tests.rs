//! Tests of the devnet: the bootstrap replayed on the core against golden digests, the demo
//! market as a genesis history, and the scenarios each stage sets up.

use super::*;
use infrafi_core::{
    BlockContext, LoanId, ReceiptId, Transaction, WAD,
    action::{MintUsdai, PostPrice, SetKyc, TriggerDefault},
    apply,
    loans::{LoanStatus, MarginCallReason},
};

/// Runs the bootstrap on the core alone, with the keeper's upkeep after each time step,
/// as the devnet does.
fn market() -> State {
    replay().0
}

/// The bootstrap replayed on the core: the state and the JSON of every bootstrap action.
fn replay() -> (State, String) {
    let (state, steps) = demo_market(1_750_000_000).unwrap();
    let mut wire = String::new();
    for step in steps {
        wire.push_str(&format!(
            "{} {}\n",
            step.actor,
            serde_json::to_string(&step.action).unwrap()
        ));
    }
    (state, wire)
}

/// Golden: the devnet genesis and its bootstrap, replayed, end in pinned digests: the
/// JSON of every bootstrap action (its wire format), the state hash and the Merkle root of
/// the leaves (the node's state root). A change that moves them must bump
/// `infrafi_core::STATE_FORMAT` with the reason (see crates/core/tests/state_roots.rs).
#[test]
fn the_devnet_bootstrap_replays_to_the_golden_roots() {
    let genesis_state = State::from_genesis(&genesis(1_750_000_000)).unwrap();
    let (state, wire) = replay();
    let root = |state: &State| {
        let leaves: Vec<(Vec<u8>, Vec<u8>)> =
            state.leaves().into_iter().map(|l| (l.key, l.value.unwrap())).collect();
        infrafi_merkle::Tree::from_leaves(leaves.iter().map(|(k, v)| (k, v))).root()
    };
    let digests = [
        root(&genesis_state).to_string(),
        alloy_primitives::keccak256(wire.as_bytes()).to_string(),
        state.state_hash().to_string(),
        root(&state).to_string(),
    ];
    assert_eq!(
        digests,
        [
            "0x21c347d47ec23f8efc8d49e9728dcf6986131831452d2162372f3f7092c194a4",
            "0xb78c88ed5dd40a74f6195901f717aa55aee1a7efa19c78231c40255eaeaa7394",
            "0x91f7aa0acd84f5bd0380529a75a93a8ab18290e6cc25ff9bd2c818db476ad84f",
            "0xb6f11ee1f918a1f4e627d4a711cc4d5a17cad131c1c51a1013deb2bb376c4932",
        ]
    );
}

/// The testnet's genesis (`infrafi testnet init`) carries the devnet's market: its history
/// is the devnet bootstrap and keeper upkeep, action for action, in the same blocks at the
/// same times, before the chain's first block; the state it gives differs from the devnet
/// replay's only in the clock's block height (0: the chain's genesis block), and its root is
/// the one the history records.
#[test]
fn the_demo_genesis_history_is_the_devnet_market_before_block_one() {
    let start = 1_750_000_000;
    let genesis_time = start + demo_market_secs();
    let (testnet_genesis, history) = demo_genesis(genesis_time).unwrap();
    assert_eq!(testnet_genesis.timestamp, start);
    let mut state = history.genesis_state(&testnet_genesis).unwrap();
    assert_eq!((state.height(), state.now()), (0, genesis_time));
    let (devnet, steps) = demo_market(start).unwrap();
    let devnet_actions: Vec<_> = steps
        .iter()
        .filter(|step| step.accepted)
        .map(|step| (step.block, step.timestamp, actor(step.actor).address(), step.action.clone()))
        .collect();
    let history_actions: Vec<_> = history
        .actions
        .iter()
        .map(|entry| (entry.block, entry.timestamp, entry.sender, entry.action.clone()))
        .collect();
    assert!(!history_actions.is_empty());
    assert_eq!(history_actions, devnet_actions);
    let leaves = |state: &State| -> std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        state.leaves().into_iter().map(|leaf| (leaf.key, leaf.value)).collect()
    };
    let (ours, theirs) = (leaves(&state), leaves(&devnet));
    let keys: std::collections::BTreeSet<&Vec<u8>> = ours.keys().chain(theirs.keys()).collect();
    let differing: Vec<String> = keys
        .into_iter()
        .filter(|key| ours.get(*key) != theirs.get(*key))
        .map(|key| String::from_utf8_lossy(key).into_owned())
        .collect();
    assert_eq!(differing, ["clock"]);
    let (tree, _) = infrafi_node::chain::tree_of(&mut state);
    assert_eq!(history.state_root, Some(tree.root()));
    assert!(demo_genesis(demo_market_secs() - 1).is_err(), "a genesis before 1970");
}

#[test]
fn the_devnet_market_has_the_credit_book_the_demo_needs() {
    let state = market();
    assert_eq!(state.silos.silos.len(), 2, "two curators, a silo each");
    assert!(state.silos.silos.iter().all(|(_, s)| !s.pool_balance.is_zero()));
    let receipts: Vec<_> = state.receipts.receipts.iter().map(|(_, r)| r).collect();
    assert!(receipts.len() >= 12);
    for class in ["gpu.a100", "gpu.h100-sxm", "gpu.h200"] {
        assert!(receipts.iter().any(|r| r.class.to_string() == class), "{class}");
    }
    let loan = |id| state.loans.loans.get(&LoanId(id)).unwrap();
    let now = state.now();
    let active = state.loans.loans.iter().filter(|(_, l)| l.status == LoanStatus::Active);
    let ages: std::collections::BTreeSet<u64> =
        active.map(|(_, l)| (now - l.originated_at) / DAY).collect();
    assert!(ages.len() >= 3, "loans of different ages: {ages:?}");
    let late = loan(LATE_LOAN);
    assert_eq!(late.status, LoanStatus::Active);
    assert!(late.missed_periods(now) >= 1 && !late.is_default_due(now), "late, in grace");
    let called = loan(MARGIN_CALL_LOAN);
    assert_eq!(
        called.margin_call.map(|c| c.reason),
        Some(MarginCallReason::LtvAboveLimit),
        "{called:?}"
    );
    let drawn = loan(RESERVE_DRAWN_LOAN);
    assert_eq!(drawn.status, LoanStatus::Active);
    assert_eq!(drawn.missed_periods(now), 0, "the reserve paid the missed payment");
    assert!(!drawn.reserve.drawn_total.is_zero(), "{:?}", drawn.reserve);
    assert!(drawn.reserve.balance < drawn.reserve.required, "{:?}", drawn.reserve);
    assert_eq!(
        drawn.breach.map(|b| b.reason),
        Some(infrafi_core::loans::BreachReason::ReserveBelowRequirement),
        "{drawn:?}"
    );
    assert!(called.last_report.is_some(), "the margin-called borrower reported");
    assert!(!called.reserve.balance.is_zero(), "meridian's loans hold a reserve");
    assert!(state.loans.loans.iter().any(|(_, l)| l.status == LoanStatus::Proposed));
    let requests: Vec<_> = state.queue.requests.iter().map(|(_, r)| r).collect();
    assert!(requests.iter().any(|r| r.is_active() && r.bid_price_wad > 0), "an open bid");
    assert!(requests.iter().any(|r| r.sealed_bid.is_some()), "a sealed bid");
    assert!(state.queue.globals.get().rounds > 0, "rounds have run");
    let attested = infrafi_core::reserve::attested_backing(&state).unwrap();
    assert!(!attested.is_stale, "the last stage attested the reserve: {attested:?}");
    assert!(state.reserve.attestations.len() > 1, "an attestation history");
    // Hardware presence: every pledged H200 receipt is present, the lapsed one is stale.
    let check = |id: u64| {
        let receipt = state.receipts.receipts.get(&ReceiptId(id)).unwrap();
        infrafi_core::receipts::check_eligible(&state, receipt, now).map(|_| ())
    };
    let monitored = class(PRESENCE_CLASS);
    let pledged_h200: Vec<u64> = receipts
        .iter()
        .filter(|r| r.class == monitored && r.loan.is_some())
        .map(|r| r.id.0)
        .collect();
    assert!(pledged_h200.len() >= 3, "{pledged_h200:?}");
    for id in pledged_h200 {
        assert_eq!(check(id), Ok(()), "receipt {id} is present");
    }
    assert_eq!(
        check(PRESENCE_LAPSED_RECEIPT),
        Err(infrafi_core::receipts::ReceiptError::ReceiptPresenceStale)
    );
    // Residual-value insurance: the liquidated loan sold its receipt below the insured floor and
    // the insurer paid the difference; the loan settled (issue 16).
    let liquidated = loan(LIQUIDATED_LOAN);
    assert_eq!(liquidated.status, LoanStatus::Settled, "{liquidated:?}");
    assert_eq!(liquidated.receipts, vec![ReceiptId(LIQUIDATED_RECEIPT)]);
    let recovery = liquidated.recovery;
    let net = recovery.gross.checked_sub(recovery.costs).unwrap();
    assert_eq!(net, whole(LIQUIDATED_FLOOR_WHOLE), "the floor is the net recovery: {recovery:?}");
    let sale_net = whole(LIQUIDATED_SALE_GROSS_WHOLE).checked_sub(recovery.costs).unwrap();
    assert_eq!(
        recovery.insurance_paid,
        whole(LIQUIDATED_FLOOR_WHOLE).checked_sub(sale_net).unwrap()
    );
    assert_eq!(recovery.costs, whole(27_000 + 24 * (100 + 200 + 50)), "the class's cost model");
    assert!(net < recovery.exposure_at_default, "a loss: {recovery:?}");
    assert!(recovery.senior_loss.is_zero(), "the senior tranche was paid: {recovery:?}");
    assert!(!recovery.junior_loss.is_zero(), "the junior tranche took the loss: {recovery:?}");
    assert!(state.loans.residual_claims.is_empty(), "the claim was paid");
}

#[test]
fn the_devnet_reserve_attestation_goes_stale_after_its_maximum_age_and_stops_mints_only() {
    use infrafi_core::{
        TxError,
        action::RedeemUsdai,
        reserve::{ReserveError, attested_backing},
    };
    let mut state = market();
    let max_age = state.governance.params.get().reserve_attestation_max_age_secs;
    let later = BlockContext { height: state.height() + 1, timestamp: state.now() + max_age + 1 };
    infrafi_core::begin_block(&mut state, &later).unwrap();
    let oracle = actor("oracle").address();
    for token in [USDC, USDT] {
        let tx = Transaction {
            sender: oracle,
            action: Action::PostPrice(PostPrice { token, price_wad: WAD }),
        };
        apply(&mut state, &later, &tx).unwrap();
    }
    assert!(attested_backing(&state).unwrap().is_stale);
    let mint = Transaction {
        sender: actor("dave").address(),
        action: Action::MintUsdai(MintUsdai {
            token: USDC,
            amount: whole(1),
            min_out: Amount::ZERO,
        }),
    };
    let kyc = Transaction {
        sender: actor("kyc").address(),
        action: Action::SetKyc(SetKyc { account: actor("dave").address(), verified: true }),
    };
    apply(&mut state, &later, &kyc).unwrap();
    assert_eq!(
        apply(&mut state, &later, &mint).err(),
        Some(TxError::from(ReserveError::ReserveAttestationIsStale))
    );
    let redeem = Transaction {
        sender: actor("alice").address(),
        action: Action::RedeemUsdai(RedeemUsdai {
            token: USDC,
            amount: whole(1),
            min_out: Amount::ZERO,
        }),
    };
    apply(&mut state, &later, &redeem).unwrap();
    assert!(
        !infrafi_node::keeper::due_actions(&state)
            .iter()
            .any(|action| matches!(action, Action::HarvestBaseYield(_))),
        "the keeper does not send a harvest that a stale attestation refuses"
    );
}

#[test]
fn the_keeper_re_marks_the_book_and_defaults_the_late_loan_once_grace_is_over() {
    let mut state = market();
    let later = BlockContext { height: state.height() + 1, timestamp: state.now() + 10 * DAY };
    infrafi_core::begin_block(&mut state, &later).unwrap();
    let due = infrafi_node::keeper::due_actions(&state);
    assert!(due.iter().any(|a| matches!(a, Action::RemarkLoans(_))), "{due:?}");
    assert!(
        due.contains(&Action::TriggerDefault(TriggerDefault { loan_id: LoanId(LATE_LOAN) })),
        "the late loan is past grace: {due:?}"
    );
    for action in due {
        let tx = Transaction { sender: actor("keeper").address(), action };
        apply(&mut state, &later, &tx).unwrap();
    }
    let late = state.loans.loans.get(&LoanId(LATE_LOAN)).unwrap();
    assert_eq!(late.status, LoanStatus::Defaulted);
    let due = infrafi_node::keeper::due_actions(&state);
    assert!(
        !due.iter().any(|a| matches!(a, Action::RemarkLoans(_) | Action::TriggerDefault(_))),
        "the credit upkeep is done: {due:?}"
    );
}
