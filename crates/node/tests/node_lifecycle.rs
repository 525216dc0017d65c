//! The node end to end without HTTP: submit, produce, commit, restart, replay.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use alloy_primitives::B256;
use infrafi_core::{
    Action, Amount, Asset,
    action::{MintUsdai, Stake},
    ids::USDC,
};
use infrafi_node::{Node, NodeConfig, replay_from_genesis};
use infrafi_store::{Journal, Store};
use infrafi_tx::SigningKey;
use std::time::{Duration, Instant};
use support::{CHAIN, genesis};

fn config(dir: &std::path::Path) -> NodeConfig {
    let mut config = NodeConfig::new(CHAIN, dir.to_path_buf());
    config.block_time = Duration::from_millis(50);
    config
}

fn wait_for_receipt(node: &Node, hash: B256) -> infrafi_node::Receipt {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(receipt) = node.receipt(&hash).unwrap() {
            return receipt;
        }
        assert!(Instant::now() < deadline, "transaction {hash} was not committed");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn committed_transactions_survive_a_restart_and_replay_to_the_same_root() {
    let dir = tempfile::tempdir().unwrap();
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let mint = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(100),
        min_out: Amount::ZERO,
    });
    let (root, height) = {
        let node = Node::start(config(dir.path()), Some(&genesis)).unwrap();
        let first = node.submit(user.sign(CHAIN, 0, &mint)).unwrap();
        // A transaction that would be rejected is refused at admission: it uses no nonce and
        // nothing of it is stored (docs/security.md).
        let too_much = Action::Stake(Stake {
            assets: Amount::from_whole(1_000_000),
            min_shares: Amount::ZERO,
        });
        let refused = node.submit(user.sign(CHAIN, 1, &too_much)).unwrap_err();
        assert_eq!(refused.code(), "balance_insufficient");
        let minted = wait_for_receipt(&node, first);
        assert!(minted.error.is_none(), "{minted:?}");
        let replay = node.submit(user.sign(CHAIN, 0, &mint)).unwrap_err();
        assert_eq!(replay.code(), "nonce_too_low");
        let snapshot = node.snapshot();
        assert_eq!(snapshot.state.ledger.nonce(user.address()), 1);
        assert_eq!(
            snapshot.state.ledger.balance(user.address(), Asset::Usdai),
            Amount::from_whole(100)
        );
        node.shutdown();
        let snapshot = node.snapshot();
        (snapshot.header.state_root, snapshot.header.height)
    };
    let node = Node::start(config(dir.path()), None).unwrap();
    let snapshot = node.snapshot();
    assert!(snapshot.header.height >= height);
    assert_eq!(node.block(height).unwrap().unwrap().0.state_root, root);
    assert_eq!(
        snapshot.state.ledger.balance(user.address(), Asset::Usdai),
        Amount::from_whole(100)
    );
    let next = node.submit(user.sign(CHAIN, 1, &mint)).unwrap();
    assert!(wait_for_receipt(&node, next).error.is_none());
    node.shutdown();
    let expected = node.snapshot().header.state_root;
    drop(node);
    let store = Store::open(dir.path()).unwrap();
    let (_, replayed) = replay_from_genesis(&store).unwrap();
    assert_eq!(replayed, expected);
}

#[test]
fn a_proof_of_a_balance_verifies_against_the_committed_state_root() {
    let dir = tempfile::tempdir().unwrap();
    let user = SigningKey::from_seed("user");
    let node = Node::start(config(dir.path()), Some(&genesis(&user))).unwrap();
    let snapshot = node.snapshot();
    let key = infrafi_core::leaves::table_leaf_key(
        infrafi_core::ledger::LedgerState::PATHS.balances,
        &(infrafi_core::Account::User(user.address()), Asset::Stablecoin(USDC)),
    );
    let value = infrafi_core::leaves::encode_value(&Amount::from_whole(1_000));
    let proof = snapshot.tree.prove(&key);
    proof.verify_leaf(snapshot.header.state_root, &key, Some(&value)).unwrap();
    let wrong = infrafi_core::leaves::encode_value(&Amount::from_whole(999));
    assert!(proof.verify_leaf(snapshot.header.state_root, &key, Some(&wrong)).is_err());
}

#[test]
fn a_validator_re_executes_a_block_and_rejects_a_wrong_state_root() {
    let dir = tempfile::tempdir().unwrap();
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let node = Node::start(config(dir.path()), Some(&genesis)).unwrap();
    let mint = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(5),
        min_out: Amount::ZERO,
    });
    let hash = node.submit(user.sign(CHAIN, 0, &mint)).unwrap();
    let height = wait_for_receipt(&node, hash).height;
    node.shutdown();
    let blocks: Vec<_> = (1..=height).map(|h| node.block(h).unwrap().unwrap()).collect();

    // A second replica with the same genesis re-executes the leader's blocks.
    let replica_dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(replica_dir.path()).unwrap());
    let mut replica = infrafi_node::Chain::open(store, CHAIN, Some(&genesis)).unwrap();
    for (header, body) in &blocks {
        let head = replica.committed();
        let mut forged = header.clone();
        forged.state_root = B256::repeat_byte(0xee);
        let error =
            replica.execute_block(head.as_parent(), &forged, &body.transactions).unwrap_err();
        assert!(matches!(error, infrafi_node::ChainError::HeaderMismatch { .. }), "{error}");
        let executed = replica.execute_block(head.as_parent(), header, &body.transactions).unwrap();
        replica.commit(executed, None).unwrap();
    }
    assert_eq!(replica.committed().header, blocks.last().unwrap().0);
    // A block at or below the committed height is not applied again.
    let (header, body) = &blocks[0];
    assert!(replica.is_committed(header).unwrap());
    let head = replica.committed();
    assert!(replica.execute_block(head.as_parent(), header, &body.transactions).is_err());
    let mut other = header.clone();
    other.timestamp += 1;
    assert!(!replica.is_committed(&other).unwrap());
}

#[test]
fn a_data_directory_of_another_state_format_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis(&SigningKey::from_seed("user"));
    let node = Node::start(config(dir.path()), Some(&genesis)).unwrap();
    node.shutdown();
    drop(node);
    // A directory written before formats were recorded, or by another format.
    let store = Store::open(dir.path()).unwrap();
    store.set_meta("state_format", &1u64.to_be_bytes()).unwrap();
    drop(store);
    let error = Node::start(config(dir.path()), None).err().unwrap().to_string();
    assert!(error.contains("state format 1"), "{error}");
    assert!(error.contains(&format!("reads format {}", infrafi_core::STATE_FORMAT)), "{error}");
}

#[test]
fn acknowledged_transactions_survive_a_restart_before_their_block_and_run_in_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let mint = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(100),
        min_out: Amount::ZERO,
    });
    let stake = Action::Stake(Stake { assets: Amount::from_whole(100), min_shares: Amount::ZERO });
    let hashes = {
        // No block is made before the node stops: the transactions only wait.
        let mut slow = config(dir.path());
        slow.block_time = Duration::from_secs(3_600);
        let node = Node::start(slow, Some(&genesis)).unwrap();
        // The stake applies only after the mint: their order is part of what is kept.
        let hashes = [
            node.submit(user.sign(CHAIN, 0, &mint)).unwrap(),
            node.submit(user.sign(CHAIN, 1, &stake)).unwrap(),
        ];
        node.shutdown();
        assert_eq!(node.snapshot().header.height, 0);
        hashes
    };
    let node = Node::start(config(dir.path()), None).unwrap();
    assert_eq!(node.next_nonce(user.address()), 2, "they wait again after the restart");
    for hash in hashes {
        let receipt = wait_for_receipt(&node, hash);
        assert!(receipt.error.is_none(), "{receipt:?}");
    }
    node.shutdown();
    drop(node);
    let journal = Journal::open(dir.path()).unwrap();
    assert!(journal.entries().unwrap().is_empty(), "forgotten once their blocks committed");
}

#[test]
fn a_transaction_found_in_a_block_and_in_the_journal_after_a_crash_is_forgotten_not_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let mint = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(100),
        min_out: Amount::ZERO,
    });
    let signed = user.sign(CHAIN, 0, &mint);
    let hash = {
        let node = Node::start(config(dir.path()), Some(&genesis)).unwrap();
        let hash = node.submit(signed.clone()).unwrap();
        assert!(wait_for_receipt(&node, hash).error.is_none());
        node.shutdown();
        hash
    };
    // A crash between the block's write and the journal's forgetting leaves it in both.
    let entry = infrafi_node::journal::encode_entry(hash, 0, &signed);
    Journal::open(dir.path()).unwrap().write(&[entry], &[]).unwrap();
    let node = Node::start(config(dir.path()), None).unwrap();
    assert!(!node.is_pending(&hash), "a transaction in a block does not wait again");
    assert_eq!(node.next_nonce(user.address()), 1);
    assert_eq!(
        node.snapshot().state.ledger.balance(user.address(), Asset::Usdai),
        Amount::from_whole(100),
        "minted once"
    );
    node.shutdown();
    drop(node);
    assert!(Journal::open(dir.path()).unwrap().entries().unwrap().is_empty());
}

#[test]
fn acknowledged_transactions_an_older_node_left_in_the_block_store_move_to_the_journal_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let mint = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(100),
        min_out: Amount::ZERO,
    });
    let signed = user.sign(CHAIN, 0, &mint);
    {
        let node = Node::start(config(dir.path()), Some(&genesis)).unwrap();
        node.shutdown();
    }
    // Before the journal had a file of its own, the block store's `mempool` table held them.
    let hash = signed.hash();
    let entry = infrafi_node::journal::encode_entry(hash, 0, &signed);
    Store::open(dir.path()).unwrap().mempool_insert(&[entry]).unwrap();
    let node = Node::start(config(dir.path()), None).unwrap();
    assert!(wait_for_receipt(&node, hash).error.is_none());
    node.shutdown();
    drop(node);
    assert!(Store::open(dir.path()).unwrap().mempool_entries().unwrap().is_empty());
    assert!(Journal::open(dir.path()).unwrap().entries().unwrap().is_empty());
}

#[test]
fn a_data_directory_of_blocks_signed_under_domain_version_1_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis(&SigningKey::from_seed("user"));
    let node = Node::start(config(dir.path()), Some(&genesis)).unwrap();
    node.shutdown();
    drop(node);
    let store = Store::open(dir.path()).unwrap();
    store.set_meta("signing_version", b"1").unwrap();
    drop(store);
    let error = Node::start(config(dir.path()), None).err().unwrap().to_string();
    assert!(error.contains("signed under EIP-712 domain version 1"), "{error}");
    assert!(error.contains(&format!("verifies version {}", infrafi_tx::DOMAIN_VERSION)), "{error}");
}
