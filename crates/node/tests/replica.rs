//! Validator mode without a consensus engine: two replicas of one genesis driven by hand the
//! way the engine drives them (propose, verify, finalize), forks included.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use alloy_primitives::B256;
use infrafi_core::{Action, Amount, Asset, Genesis, action::MintUsdai, ids::USDC};
use infrafi_node::{
    Chain, ChainError, Finalized, GenesisHistory, HistoryAction, Node, NodeConfig, Replica,
    ReplicaError,
};
use infrafi_store::Store;
use infrafi_tx::SigningKey;
use std::sync::Arc;
use support::{CHAIN, genesis};

fn start(dir: &std::path::Path, genesis: Option<&Genesis>) -> (Arc<Node>, Replica) {
    Node::start_replica(NodeConfig::new(CHAIN, dir.to_path_buf()), genesis).unwrap()
}

fn mint(amount: u128) -> Action {
    Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(amount),
        min_out: Amount::ZERO,
    })
}

#[test]
fn replicas_verify_each_others_blocks_and_commit_only_what_is_finalized() {
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (node_a, mut a) = start(dir_a.path(), Some(&genesis));
    let (node_b, mut b) = start(dir_b.path(), Some(&genesis));
    assert!(node_a.is_replica());
    let head = a.committed();
    assert_eq!(head.hash, b.committed().hash, "one genesis, one genesis block");

    // A transaction sent to A is queued for the others; B admits it under the same rules.
    let hash = node_a.submit(user.sign(CHAIN, 0, &mint(10))).unwrap();
    let forwarded = node_a.take_outbox();
    assert_eq!(forwarded.len(), 1);
    assert!(node_a.take_outbox().is_empty(), "taken once");
    assert_eq!(node_b.submit_from_peer(forwarded), 1);
    assert!(node_b.take_outbox().is_empty(), "a forwarded transaction is not sent on again");
    assert!(node_b.is_pending(&hash));

    // A leads: its block carries the state root after the transaction.
    let (header, txs) = a.propose(head.hash, head.header.timestamp + 1, |_| true).unwrap();
    assert_eq!(txs.len(), 1);
    assert!(node_a.is_pending(&hash), "a proposal leaves the mempool as it was");
    let mut forged = header.clone();
    forged.state_root = B256::repeat_byte(0xee);
    let refused = b.verify(&forged, &txs).unwrap_err();
    assert!(matches!(refused, ReplicaError::Chain(_)), "{refused}");
    b.verify(&header, &txs).unwrap();
    // A competing block at the same height (a fork that will not be finalized).
    let (fork, fork_txs) = b.propose(head.hash, head.header.timestamp + 5, |_| true).unwrap();
    assert_ne!(fork.hash(), header.hash());
    a.verify(&fork, &fork_txs).unwrap();
    // B builds on A's block before it is final: the transaction is already in its parent.
    let (next, next_txs) = b.propose(header.hash(), header.timestamp, |_| true).unwrap();
    assert!(next_txs.is_empty());
    assert_eq!(node_a.snapshot().header.height, 0, "nothing is visible before finality");

    // Block 1 is finalized: committed with its certificate, the mempool forgets it.
    for (node, replica) in [(&node_a, &mut a), (&node_b, &mut b)] {
        let done = replica.finalize(&header, &txs, Some(vec![1, 2, 3])).unwrap();
        assert!(matches!(done, Finalized::Committed(_)));
        assert_eq!(node.snapshot().header, header);
        assert!(node.receipt(&hash).unwrap().unwrap().error.is_none());
        assert!(!node.is_pending(&hash));
        assert_eq!(node.certificate(1).unwrap(), Some(vec![1, 2, 3]));
        let (proved, certificate) = node.proof_snapshot();
        assert_eq!((proved.header.height, certificate), (1, Some(vec![1, 2, 3])));
        // Redelivered after a restart: acknowledged, not applied again.
        let again = replica.finalize(&header, &txs, None).unwrap();
        assert!(matches!(again, Finalized::AlreadyCommitted));
        // The fork at height 1 can no longer be finalized.
        let diverged = replica.finalize(&fork, &fork_txs, None).unwrap_err();
        assert!(matches!(diverged, ReplicaError::Diverged { height: 1, .. }), "{diverged}");
    }
    assert_eq!(
        node_a.snapshot().state.ledger.balance(user.address(), Asset::Usdai),
        Amount::from_whole(10)
    );

    // A block that replays the committed transaction (its nonce 0 again) is refused before
    // anything runs, with the state machine's nonce_mismatch (109).
    let mut replay = next.clone();
    replay.timestamp += 1;
    match b.verify(&replay, &txs).unwrap_err() {
        ReplicaError::Chain(ChainError::TransactionRefused { index: 0, error }) => {
            assert_eq!((error.code(), error.name()), (109, "nonce_mismatch"));
        }
        other => panic!("a replayed nonce must be refused with nonce_mismatch: {other}"),
    }

    // A finalizes block 2 without having verified it (backfilled): it re-executes it. Its
    // certificate arrives afterwards and is stored with it.
    assert!(!a.is_executed(&next.hash()));
    a.finalize(&next, &next_txs, None).unwrap();
    assert_eq!(node_a.certificate(2).unwrap(), None);
    a.record_certificate(next.hash(), vec![9]).unwrap();
    assert_eq!(node_a.certificate(2).unwrap(), Some(vec![9]));
    assert_eq!(node_a.certified().unwrap().snapshot.header, next);
    // A finalized block whose header does not match its re-execution is a divergence.
    let mut wrong = next.clone();
    wrong.height = 3;
    wrong.parent_hash = next.hash();
    let diverged = a.finalize(&wrong, &[], None).unwrap_err();
    assert!(matches!(diverged, ReplicaError::Diverged { height: 3, .. }), "{diverged}");

    // A restarted replica finds its head and its certified block in its store.
    let root = node_a.snapshot().header.state_root;
    node_a.shutdown();
    drop((node_a, a));
    let (node_a, a) = start(dir_a.path(), None);
    assert_eq!(a.committed().header, next);
    assert_eq!(node_a.snapshot().header.state_root, root);
    assert_eq!(node_a.certified().unwrap().certificate, vec![9]);
}

#[test]
fn a_store_started_from_a_verified_state_goes_on_from_there_and_cannot_be_replayed() {
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let dir = tempfile::tempdir().unwrap();
    let (node, mut replica) = start(dir.path(), Some(&genesis));
    node.submit(user.sign(CHAIN, 0, &mint(3))).unwrap();
    let head = replica.committed();
    let (header, txs) = replica.propose(head.hash, head.header.timestamp, |_| true).unwrap();
    replica.finalize(&header, &txs, Some(vec![4])).unwrap();
    let snapshot = replica.committed();

    let fresh = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(fresh.path()).unwrap());
    // A state that is not the one the header commits to is refused.
    let error = infrafi_node::Chain::initialize_from_state(
        store.clone(),
        CHAIN,
        &genesis,
        header.clone(),
        head.state.clone(),
        None,
    )
    .err()
    .unwrap();
    assert!(error.to_string().contains("commits to"), "{error}");
    let chain = infrafi_node::Chain::initialize_from_state(
        store.clone(),
        CHAIN,
        &genesis,
        header.clone(),
        snapshot.state.clone(),
        Some(vec![4]),
    )
    .unwrap();
    assert_eq!(chain.committed().header, header);
    drop(chain);
    let error = infrafi_node::replay_from_genesis(&store).unwrap_err();
    assert!(error.to_string().contains("state snapshot"), "{error}");
    drop(store);
    let (node, _) = start(fresh.path(), None);
    assert_eq!(node.snapshot().header.state_root, header.state_root);
    assert_eq!(node.certified().unwrap().certificate, vec![4]);
}

#[test]
fn a_validator_checks_a_signature_once_at_admission_and_not_again_when_a_block_carries_it() {
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (node_a, mut a) = start(dir_a.path(), Some(&genesis));
    let (node_b, mut b) = start(dir_b.path(), Some(&genesis));
    for (nonce, amount) in [(0, 10), (1, 20), (2, 30)] {
        node_a.submit(user.sign(CHAIN, nonce, &mint(amount))).unwrap();
    }
    // B hears of the first only, and holds another transaction with the second's nonce.
    let mut forwarded = node_a.take_outbox();
    forwarded.truncate(1);
    assert_eq!(node_b.submit_from_peer(forwarded), 1);
    node_b.submit(user.sign(CHAIN, 1, &mint(25))).unwrap();
    assert_eq!(node_b.timings().admission.transactions, 2);

    let head = a.committed();
    let (header, txs) = a.propose(head.hash, head.header.timestamp + 1, |_| true).unwrap();
    assert_eq!(txs.len(), 3);
    b.verify(&header, &txs).unwrap();
    for replica in [&mut a, &mut b] {
        assert!(matches!(replica.finalize(&header, &txs, None).unwrap(), Finalized::Committed(_)));
    }
    // B recovered the signatures it had not checked: the one it never saw, and the one that
    // differs from its own waiting transaction with that nonce. The proposer checked none.
    let (blocks_a, blocks_b) = (node_a.timings().blocks, node_b.timings().blocks);
    assert_eq!((blocks_b.blocks, blocks_b.transactions), (1, 3));
    assert_eq!(blocks_b.signatures_checked, 2);
    assert_eq!((blocks_a.blocks, blocks_a.signatures_checked), (1, 0));
    for node in [&node_a, &node_b] {
        let minted = node.snapshot().state.ledger.balance(user.address(), Asset::Usdai);
        assert_eq!(minted, Amount::from_whole(60), "the block's transactions, not B's own");
    }

    // Reused only if equal field for field: the same transaction with a damaged signature
    // (its hash, which names content and signer, is unchanged) is checked, and refused, by a
    // validator that holds the genuine one.
    let mut tampered = user.sign(CHAIN, 3, &mint(1));
    node_a.submit(tampered.clone()).unwrap();
    node_b.submit(tampered.clone()).unwrap();
    let head = b.committed();
    let (next, mut next_txs) = b.propose(head.hash, head.header.timestamp + 1, |_| true).unwrap();
    let mut signature = tampered.signature.to_vec();
    signature[10] ^= 1;
    tampered.signature = signature.into();
    next_txs[0] = tampered;
    let refused = a.verify(&next, &next_txs).unwrap_err();
    assert!(
        matches!(refused, ReplicaError::Chain(ChainError::TransactionInvalid { index: 0, .. })),
        "{refused}"
    );
}

/// A validator that builds and verifies one block ahead of finality (the engine's pipeline)
/// runs each block on the state one block behind, brought forward by the leaves changed since,
/// once finality has caught up: only the first two blocks after the start copy a whole state.
/// The verifier gets the proposer's headers (state roots) either way.
#[test]
fn a_validator_one_block_ahead_of_finality_stops_copying_whole_states() {
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (node_a, mut a) = start(dir_a.path(), Some(&genesis));
    let (node_b, mut b) = start(dir_b.path(), Some(&genesis));
    for nonce in 0..5 {
        node_a.submit(user.sign(CHAIN, nonce, &mint(1 + u128::from(nonce)))).unwrap();
    }
    assert_eq!(node_b.submit_from_peer(node_a.take_outbox()), 5);
    let (mut parent, mut timestamp) = {
        let head = a.committed();
        (head.hash, head.header.timestamp)
    };
    let mut unfinalized = Vec::new();
    for height in 1..=5u64 {
        timestamp += 1;
        let mut one = 0;
        let (header, txs) = a
            .propose(parent, timestamp, |_| {
                one += 1;
                one == 1
            })
            .unwrap();
        assert_eq!((header.height, txs.len()), (height, 1));
        b.verify(&header, &txs).unwrap();
        parent = header.hash();
        unfinalized.push((header, txs));
        // Finality trails by one block.
        if unfinalized.len() == 2 {
            let (header, txs) = unfinalized.remove(0);
            for replica in [&mut a, &mut b] {
                let done = replica.finalize(&header, &txs, Some(vec![7])).unwrap();
                assert!(matches!(done, Finalized::Committed(_)));
            }
        }
    }
    let (header, txs) = unfinalized.remove(0);
    for replica in [&mut a, &mut b] {
        replica.finalize(&header, &txs, Some(vec![7])).unwrap();
    }
    for node in [&node_a, &node_b] {
        let blocks = node.timings().blocks;
        // Block 2 (built before block 1 was final); block 1 takes the copy of the start.
        assert_eq!((blocks.blocks, blocks.state_copies), (5, 1));
        let minted = node.snapshot().state.ledger.balance(user.address(), Asset::Usdai);
        assert_eq!(minted, Amount::from_whole(15));
    }
}

/// A genesis with a history (the testnet's demo market is one): every replica that holds the
/// same genesis and history writes the same genesis block, at the history's last time, with the
/// state after it; the chain goes on from there, and its store replays from the genesis and
/// the history it keeps. A history whose recorded root another build would not reach is
/// refused before anything is written.
#[test]
fn replicas_of_a_genesis_with_a_history_start_at_one_genesis_block_and_replay_from_it() {
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let minted_at = genesis.timestamp + 3_600;
    let history = GenesisHistory {
        state_root: None,
        actions: vec![HistoryAction {
            block: 1,
            timestamp: minted_at,
            sender: user.address(),
            action: mint(5),
        }],
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut headers = Vec::new();
    for dir in [&dir_a, &dir_b] {
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let chain = Chain::initialize_with_history(store, CHAIN, &genesis, &history).unwrap();
        headers.push(chain.committed().header.clone());
    }
    assert_eq!(headers[0], headers[1], "one genesis and history, one genesis block");
    assert_eq!((headers[0].height, headers[0].timestamp), (0, minted_at));
    let (expected, _) =
        infrafi_node::genesis_block_with_history(CHAIN, &genesis, &history).unwrap();
    assert_eq!(headers[0], expected);
    assert_ne!(headers[0], infrafi_node::genesis_block(CHAIN, &genesis).unwrap().0);

    let (node, mut replica) = start(dir_a.path(), None);
    let usdai = |node: &Node| node.snapshot().state.ledger.balance(user.address(), Asset::Usdai);
    assert_eq!(usdai(&node), Amount::from_whole(5));
    assert_eq!(node.next_nonce(user.address()), 0, "a history consumes no nonce");
    node.submit(user.sign(CHAIN, 0, &mint(3))).unwrap();
    let head = replica.committed();
    let (header, txs) = replica.propose(head.hash, minted_at + 1, |_| true).unwrap();
    replica.finalize(&header, &txs, None).unwrap();
    assert_eq!(usdai(&node), Amount::from_whole(8));
    node.shutdown();
    drop((node, replica));
    let store = Store::open(dir_a.path()).unwrap();
    assert_eq!(infrafi_node::replay_from_genesis(&store).unwrap(), (1, header.state_root));

    let wrong = GenesisHistory { state_root: Some(B256::repeat_byte(0xee)), ..history };
    let fresh = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(fresh.path()).unwrap());
    let error =
        Chain::initialize_with_history(store.clone(), CHAIN, &genesis, &wrong).err().unwrap();
    assert!(error.to_string().contains("the history expects"), "{error}");
    assert_eq!(store.head().unwrap(), None, "nothing written");
}
