//! The flood of issue 18, without HTTP: keys with no funds send every kind of free
//! transaction (gapped nonces, transfers they cannot pay, upkeep, replays) while an honest user
//! and the keeper go on. Before admission the pool filled, honest users were refused and every
//! rejected transaction was stored for good with its sender's nonce; now none of the flood
//! enters the pool, the store or the state, and honest transactions commit in the next block.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use alloy_primitives::{Address, B256};
use infrafi_core::action::Transfer;
use infrafi_core::{Action, Amount, Asset, ids::USDC};
use infrafi_node::admission::free_spam;
use infrafi_node::{Node, NodeConfig};
use infrafi_tx::SigningKey;
use std::time::{Duration, Instant};
use support::{CHAIN, genesis};

fn wait_for_receipt(node: &Node, hash: B256) -> infrafi_node::Receipt {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(receipt) = node.receipt(&hash).unwrap() {
            return receipt;
        }
        assert!(Instant::now() < deadline, "transaction {hash} was not committed");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_flood_from_keys_with_nothing_leaves_no_trace_and_honest_transactions_commit_in_the_next_block()
{
    let dir = tempfile::tempdir().unwrap();
    let admin = SigningKey::from_seed("admin");
    let honest = SigningKey::from_seed("flood/honest");
    let keeper = SigningKey::from_seed("flood/keeper");
    let genesis = genesis(&honest);
    let mut config = NodeConfig::new(CHAIN, dir.path().to_path_buf());
    config.block_time = Duration::from_millis(100);
    config.mempool_txs_max = 1_000;
    config.keeper = Some(keeper);
    let node = std::sync::Arc::new(Node::start(config, Some(&genesis)).unwrap());
    let leaves_before = node.snapshot().state.leaves().len();

    let attackers: Vec<SigningKey> =
        (0..200).map(|i| SigningKey::from_seed(&format!("flood/attacker/{i}"))).collect();
    let flood: Vec<_> =
        attackers.iter().flat_map(|k| free_spam(k, CHAIN, honest.address())).collect();
    let flood_size = flood.len();
    let flooder = {
        let node = node.clone();
        std::thread::spawn(move || {
            let mut codes = std::collections::BTreeMap::<&'static str, usize>::new();
            for tx in flood {
                let error = node.submit(tx).unwrap_err();
                *codes.entry(error.code()).or_default() += 1;
            }
            codes
        })
    };
    // The honest user pays during the flood; each payment is in the block after it is sent.
    let pay = Action::Transfer(Transfer {
        asset: Asset::Stablecoin(USDC),
        to: admin.address(),
        amount: Amount::from_whole(1),
    });
    for nonce in 0..5 {
        let sent_at = node.snapshot().header.height;
        let hash = node.submit(honest.sign(CHAIN, nonce, &pay)).unwrap();
        let receipt = wait_for_receipt(&node, hash);
        assert!(receipt.error.is_none(), "{receipt:?}");
        assert!(receipt.height <= sent_at + 2, "sent after block {sent_at}, in {}", receipt.height);
    }
    let codes = flooder.join().unwrap();
    assert_eq!(codes.values().sum::<usize>(), flood_size, "nothing of the flood was admitted");
    for code in ["balance_insufficient", "sender_lacks_standing", "nonce_too_high"] {
        assert!(codes.contains_key(code), "{codes:?}");
    }

    // No block holds a flood transaction; no attacker has a nonce or any other leaf.
    let snapshot = node.snapshot();
    for height in 1..=snapshot.header.height {
        let (_, body) = node.block(height).unwrap().unwrap();
        for tx in &body.transactions {
            assert!(tx.sender == honest.address() || tx.sender == node_keeper(&node), "{tx:?}");
        }
    }
    for attacker in &attackers {
        assert_eq!(snapshot.state.ledger.nonce(attacker.address()), 0);
        assert!(!snapshot.state.ledger.nonces.contains_key(&attacker.address()));
    }
    // The honest user's nonce and its recipient's balance are the only new leaves.
    let leaves_after = snapshot.state.leaves().len();
    assert!(leaves_after <= leaves_before + 3, "{leaves_before} -> {leaves_after}");
    node.shutdown();
}

fn node_keeper(node: &Node) -> Address {
    node.config().keeper.as_ref().map(SigningKey::address).unwrap_or(Address::ZERO)
}
