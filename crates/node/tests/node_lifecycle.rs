//! The node end to end without HTTP: submit, produce, commit, restart, replay.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use alloy_primitives::B256;
use infrafi_core::{
    Action, Amount, Asset,
    action::{MintUsdai, Stake},
    ids::USDC,
};
use infrafi_node::{Chain, Node, NodeConfig, Proposal, Snapshot, replay_from_genesis};
use infrafi_store::{Journal, Store};
use infrafi_tx::{SealedTransaction, SigningKey};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use support::{CHAIN, genesis};

fn config(dir: &std::path::Path) -> NodeConfig {
    let mut config = NodeConfig::new(CHAIN, dir.to_path_buf());
    config.block_time = Duration::from_millis(50);
    config
}

/// Mints `whole` USDai from as much USDC, with no minimum out.
fn mint_from_usdc(whole: u128) -> Action {
    Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(whole),
        min_out: Amount::ZERO,
    })
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
    let mint = mint_from_usdc(100);
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
        // Sent at once: the pool counts the block as committed before its receipt is stored.
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
    let mint = mint_from_usdc(5);
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
    let mint = mint_from_usdc(100);
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
    let mint = mint_from_usdc(100);
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
    let mint = mint_from_usdc(100);
    let signed = user.sign(CHAIN, 0, &mint);
    {
        let node = Node::start(config(dir.path()), Some(&genesis)).unwrap();
        node.shutdown();
    }
    // Before the journal had a file of its own, the block store's `mempool` table held them.
    // An entry there was the arrival sequence (8 bytes) and the JSON, keyed by hash.
    let hash = signed.hash();
    let json = infrafi_node::journal::entry_bytes(&signed);
    let entry = (hash.0, [0u64.to_be_bytes().as_slice(), &json].concat());
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

/// A chain of `genesis` in `dir`, driven by hand.
fn open_chain(dir: &std::path::Path, genesis: &infrafi_core::Genesis) -> Chain {
    Chain::open(Arc::new(Store::open(dir).unwrap()), CHAIN, Some(genesis)).unwrap()
}

/// `user` mints `amount` USDai with `nonce`, verified.
fn minted(user: &SigningKey, nonce: u64, amount: u128) -> SealedTransaction {
    let mint = mint_from_usdc(amount);
    user.sign(CHAIN, nonce, &mint).verify(CHAIN).unwrap()
}

/// The block after `parent`, `seconds` later, carrying `transactions`.
fn proposal_after(
    parent: &Snapshot,
    seconds: u64,
    transactions: Vec<SealedTransaction>,
) -> Proposal {
    Proposal {
        height: parent.header.height + 1,
        timestamp: parent.header.timestamp + seconds,
        transactions,
    }
}

#[test]
fn a_block_runs_on_the_state_one_block_behind_unless_a_reader_holds_it_with_the_same_roots() {
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let (dir, copying_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut chain = open_chain(dir.path(), &genesis);
    // Every snapshot of this one stays held by a reader, so every block copies its parent,
    // except the first, which takes the copy the chain made of its start in a thread.
    let mut copying = open_chain(copying_dir.path(), &genesis);
    let mut held = vec![copying.committed()];
    let mut reader: Option<(Arc<Snapshot>, B256)> = None;
    let mut copied = Vec::new();
    for nonce in 0..6u64 {
        if nonce == 2 {
            let snapshot = chain.committed();
            let hash = snapshot.state.state_hash();
            reader = Some((snapshot, hash));
        }
        if nonce == 4 {
            let (snapshot, hash) = reader.take().unwrap();
            assert_eq!(snapshot.state.state_hash(), hash, "a reader's state never changes");
        }
        let tx = minted(&user, nonce, 1 + u128::from(nonce));
        let block = chain.execute(proposal_after(&chain.committed(), 10, vec![tx.clone()]));
        let other = copying.execute(proposal_after(&copying.committed(), 10, vec![tx]));
        assert_eq!(other.timings().state_copied, nonce > 0);
        assert_eq!(block.header, other.header, "block {} is the same either way", nonce + 1);
        copied.push(block.timings().state_copied);
        chain.commit(block, None).unwrap();
        held.push(copying.commit(other, None).unwrap());
    }
    // The first block after the start has no state one block behind, and takes the copy made
    // beside the start; block 4's was held by the reader (block 2's snapshot).
    assert_eq!(copied, [false, false, false, true, false, false]);
    let usdai = chain.committed().state.ledger.balance(user.address(), Asset::Usdai);
    assert_eq!(usdai, Amount::from_whole(21));
}

#[test]
fn a_block_on_an_unfinalized_parent_reuses_the_state_behind_and_a_fork_leaves_the_head_alone() {
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    let (dir, copying_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut chain = open_chain(dir.path(), &genesis);
    let mut copying = open_chain(copying_dir.path(), &genesis);
    let mut held = vec![copying.committed()];
    for replica in [&mut chain, &mut copying] {
        let block =
            replica.execute(proposal_after(&replica.committed(), 10, vec![minted(&user, 0, 1)]));
        replica.commit(block, None).unwrap();
    }
    held.push(copying.committed());
    let head = chain.committed();
    let head_hash = head.state.state_hash();
    // Block 2 on the head takes the state behind; block 3 on block 2 (not final) and a
    // competing block 2 then copy their parents.
    let two = proposal_after(&head, 10, vec![minted(&user, 1, 2)]);
    let block_2 = chain.execute_after(head.as_parent(), two);
    let three = |parent: &infrafi_node::ExecutedBlock| Proposal {
        height: parent.header.height + 1,
        timestamp: parent.header.timestamp + 10,
        transactions: vec![minted(&user, 2, 3)],
    };
    let block_3 = chain.execute_after(block_2.as_parent(), three(&block_2));
    let fork =
        chain.execute_after(head.as_parent(), proposal_after(&head, 11, vec![minted(&user, 1, 9)]));
    let copied: Vec<bool> =
        [&block_2, &block_3, &fork].iter().map(|b| b.timings().state_copied).collect();
    assert_eq!(copied, [false, true, true]);
    assert_ne!(fork.header, block_2.header);
    assert_eq!(head.state.state_hash(), head_hash, "executing never changes the head");
    // Block 2 is finalized; block 4 on block 3 (still not final) takes the state behind,
    // brought forward by block 2's leaves and then block 3's.
    let block_4_on = |parent: &infrafi_node::ExecutedBlock| Proposal {
        height: parent.header.height + 1,
        timestamp: parent.header.timestamp + 10,
        transactions: vec![minted(&user, 3, 4)],
    };
    let (header_2, header_3) = (block_2.header.clone(), block_3.header.clone());
    chain.commit(block_2, None).unwrap();
    assert!(chain.commit(fork, None).is_err(), "the fork no longer follows the head");
    assert_eq!(head.state.state_hash(), head_hash);
    drop(head);
    let block_4 = chain.execute_after(block_3.as_parent(), block_4_on(&block_3));
    assert!(!block_4.timings().state_copied);
    // The same blocks made by copying every parent.
    let copy_2 =
        copying.execute(proposal_after(&copying.committed(), 10, vec![minted(&user, 1, 2)]));
    let copy_3 = copying.execute_after(copy_2.as_parent(), three(&copy_2));
    let copy_4 = copying.execute_after(copy_3.as_parent(), block_4_on(&copy_3));
    assert_eq!(
        (&copy_2.header, &copy_3.header, &copy_4.header),
        (&header_2, &header_3, &block_4.header)
    );
    for block in [block_3, block_4] {
        chain.commit(block, None).unwrap();
    }
    let usdai = chain.committed().state.ledger.balance(user.address(), Asset::Usdai);
    assert_eq!(usdai, Amount::from_whole(10));
}

#[test]
fn a_dry_run_after_each_block_answers_as_on_a_fresh_copy_of_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let user = SigningKey::from_seed("user");
    let genesis = genesis(&user);
    // Blocks only when woken: the test decides when the head moves.
    let mut config = config(dir.path());
    config.block_time = Duration::from_secs(3_600);
    let node = Node::start(config, Some(&genesis)).unwrap();
    let previewed = mint_from_usdc(1);
    let transaction =
        infrafi_core::Transaction { sender: user.address(), action: previewed.clone() };
    // The state after the preview, as the node's dry-run gives it and as a fresh copy of the
    // head gives it.
    let check = |node: &Node| {
        let dry = node.dry_run(user.address(), previewed.clone(), |state, _| state.state_hash());
        let head = node.snapshot();
        assert_eq!(dry.height, head.header.height);
        let mut fresh = head.state.clone();
        let block = infrafi_core::BlockContext {
            height: head.header.height + 1,
            timestamp: head.header.timestamp,
        };
        let expected = infrafi_core::tx::preview(&mut fresh, &block, &transaction, |state, _| {
            state.state_hash()
        });
        assert_eq!(dry.outcome.unwrap(), expected.unwrap(), "at height {}", dry.height);
    };
    check(&node);
    let mut nonce = 0;
    // One block ahead of the dry-runs' copy (brought forward), then two (copied again).
    for blocks in [1, 1, 2, 1] {
        for _ in 0..blocks {
            let height = node.snapshot().header.height;
            let mint = mint_from_usdc(10);
            node.submit(user.sign(CHAIN, nonce, &mint)).unwrap();
            nonce += 1;
            node.wake_producer();
            let deadline = Instant::now() + Duration::from_secs(10);
            while node.snapshot().header.height == height {
                assert!(Instant::now() < deadline, "no block after {height}");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        check(&node);
    }
    node.shutdown();
}

#[test]
fn batches_admitted_while_blocks_keep_taking_the_pool_commit_every_transaction_once_in_nonce_order()
{
    let dir = tempfile::tempdir().unwrap();
    let users: Vec<SigningKey> =
        (0..5).map(|i| SigningKey::from_seed(&format!("user/{i}"))).collect();
    let mut genesis = genesis(&users[0]);
    for user in &users[1..] {
        genesis.stablecoin_balances.push((user.address(), USDC, Amount::from_whole(1_000)));
    }
    let mut config = config(dir.path());
    // Blocks as often as the producer can: they want the pool while the batches are admitted.
    config.block_time = Duration::from_millis(1);
    let node = Node::start(config, Some(&genesis)).unwrap();
    let pay = |to: &SigningKey| {
        Action::Transfer(infrafi_core::action::Transfer {
            asset: Asset::Stablecoin(USDC),
            to: to.address(),
            amount: Amount(1),
        })
    };
    // Four batches of 75, each sender's nonces in order across them.
    let signed: Vec<_> = (0..300u64)
        .map(|i| {
            let sender = &users[(i % 5) as usize];
            sender.sign(CHAIN, i / 5, &pay(&users[((i + 1) % 5) as usize]))
        })
        .collect();
    for batch in signed.chunks(75) {
        for result in node.submit_batch(batch.to_vec()) {
            result.unwrap();
        }
    }
    let receipts: Vec<_> = signed.iter().map(|tx| wait_for_receipt(&node, tx.hash())).collect();
    for (tx, receipt) in signed.iter().zip(&receipts) {
        assert_eq!((receipt.sender, receipt.nonce), (tx.sender, tx.nonce));
        assert_eq!(receipt.error, None, "nonce {} of {}", tx.nonce, tx.sender);
    }
    for user in &users {
        let mut mine: Vec<_> = receipts.iter().filter(|r| r.sender == user.address()).collect();
        mine.sort_by_key(|r| r.nonce);
        assert!(mine.windows(2).all(|w| (w[0].height, w[0].index) < (w[1].height, w[1].index)));
        assert_eq!(node.snapshot().state.ledger.nonce(user.address()), 60);
    }
    assert!(node.timings().blocks.blocks > 1);
}
