//! Four validators in one process on Commonware's deterministic runtime and simulated network:
//! every run is reproducible from its seed (virtual time, seeded scheduling, seeded link
//! latency and loss). Each validator is a real node with its own redb store.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use commonware_runtime::{Clock as _, Runner as _, deterministic};
use infrafi_core::Asset;
use infrafi_validator::Fault;
use std::time::Duration;
use support::{Network, link, mint, user};

const MINUTE: Duration = Duration::from_secs(60);

fn runner(seed: u64) -> deterministic::Runner {
    deterministic::Runner::new(
        deterministic::Config::new().with_seed(seed).with_timeout(Some(Duration::from_secs(600))),
    )
}

/// Submits one mint per user to `validator` and returns the transactions' hashes.
fn submit_mints(network: &Network, validator: usize, nonce: u64) -> Vec<alloy_primitives::B256> {
    (0..support::USERS)
        .map(|u| network.validator(validator).node.submit(mint(u, nonce, 10)).unwrap())
        .collect()
}

#[test]
fn four_validators_finalize_the_same_blocks_and_roots_under_random_latency_and_loss() {
    runner(1).start(|context| async move {
        let mut network = Network::new(&context, 4).await;
        network.link_all(link(40, 20, 0.9)).await;
        for i in 0..4 {
            network.start(&context, i).await;
        }
        network.wait_for_height(&context, &[0, 1, 2, 3], 3, MINUTE).await;
        // Transactions submitted to validator 0 are finalized and readable from validator 3.
        let hashes = submit_mints(&network, 0, 0);
        let target = network.height(0) + 6;
        network.wait_for_height(&context, &[0, 1, 2, 3], target, MINUTE).await;
        network.assert_same_chain(&[0, 1, 2, 3], target);
        for hash in &hashes {
            let receipt = network.validator(3).node.receipt(hash).unwrap().expect("finalized");
            assert!(receipt.error.is_none(), "{receipt:?}");
        }
        let state = &network.validator(3).node.snapshot().state;
        assert_eq!(state.ledger.balance(user(0).address(), Asset::Usdai).0, 10 * 10u128.pow(18));
        // Certificates are stored with (nearly) every block, and verify against the set.
        let set = support::validator_set(&network.keys);
        let certified = network.validator(2).node.certified().expect("a certified block");
        let checked = set.check(certified.snapshot.hash, &certified.certificate).unwrap();
        assert!(checked.signers.len() >= 3, "{checked:?}");
    });
}

#[test]
fn one_validator_stopped_the_others_keep_finalizing_and_it_catches_up_after_a_restart() {
    runner(2).start(|context| async move {
        let mut network = Network::new(&context, 4).await;
        network.link_all(link(20, 5, 1.0)).await;
        for i in 0..4 {
            network.start(&context, i).await;
        }
        network.wait_for_height(&context, &[0, 1, 2, 3], 3, MINUTE).await;
        network.crash(&context, 3).await;
        let stopped_at = network.height(0);
        let hashes = submit_mints(&network, 1, 0);
        network.wait_for_height(&context, &[0, 1, 2], stopped_at + 10, 2 * MINUTE).await;
        // Restarted from its store, it fetches what it missed and reaches the same root.
        network.start(&context, 3).await;
        let target = network.height(0) + 3;
        network.wait_for_height(&context, &[0, 1, 2, 3], target, 2 * MINUTE).await;
        network.assert_same_chain(&[0, 1, 2, 3], target);
        for hash in &hashes {
            assert!(network.validator(3).node.receipt(hash).unwrap().is_some());
        }
    });
}

#[test]
fn an_unclean_shutdown_of_every_validator_loses_nothing_finalized() {
    let (before, checkpoint) = runner(3).start_and_recover(|context| async move {
        let mut network = Network::new(&context, 4).await;
        network.link_all(link(20, 5, 1.0)).await;
        for i in 0..4 {
            network.start(&context, i).await;
        }
        network.wait_for_height(&context, &[0, 1, 2, 3], 4, MINUTE).await;
        let hashes = submit_mints(&network, 2, 0);
        network.wait_for_height(&context, &[0, 1, 2, 3], network.height(0) + 3, MINUTE).await;
        let heads: Vec<_> =
            (0..4).map(|i| (network.height(i), network.block_hash(i, network.height(i)))).collect();
        // Returning from the root drops every task mid-flight: a crash of all four.
        let dirs = std::mem::take(&mut network.dirs);
        (heads, hashes, dirs)
    });
    let (heads, hashes, dirs) = before;
    deterministic::Runner::from(checkpoint).start(|context| async move {
        let mut network = Network::new(&context, 4).await;
        network.dirs = dirs;
        network.link_all(link(20, 5, 1.0)).await;
        for i in 0..4 {
            network.start(&context, i).await;
        }
        for (i, (height, hash)) in heads.iter().enumerate() {
            assert!(network.height(i) >= *height, "validator {i} lost committed blocks");
            assert_eq!(network.block_hash(i, *height), *hash);
        }
        let target = heads.iter().map(|(h, _)| *h).max().unwrap() + 3;
        network.wait_for_height(&context, &[0, 1, 2, 3], target, 2 * MINUTE).await;
        network.assert_same_chain(&[0, 1, 2, 3], target);
        for hash in &hashes {
            assert!(network.validator(0).node.receipt(hash).unwrap().is_some());
        }
    });
}

#[test]
fn a_partition_into_two_halves_halts_finality_without_forking_and_resumes_when_healed() {
    runner(4).start(|context| async move {
        let mut network = Network::new(&context, 4).await;
        network.link_all(link(20, 5, 1.0)).await;
        for i in 0..4 {
            network.start(&context, i).await;
        }
        network.wait_for_height(&context, &[0, 1, 2, 3], 3, MINUTE).await;
        network.partition(&[0, 1], &[2, 3]).await;
        // Blocks in flight when the cut happened may still finalize; then nothing can.
        context.sleep(Duration::from_secs(5)).await;
        let halted = network.heights();
        context.sleep(Duration::from_secs(30)).await;
        assert_eq!(network.heights(), halted, "no half has a quorum, so nothing finalizes");
        let top = *halted.iter().max().unwrap();
        network.assert_same_chain(&[0, 1, 2, 3], *halted.iter().min().unwrap());
        // Healed: finality resumes on one chain.
        network.link_all(link(20, 5, 1.0)).await;
        network.wait_for_height(&context, &[0, 1, 2, 3], top + 3, 3 * MINUTE).await;
        network.assert_same_chain(&[0, 1, 2, 3], top + 3);
    });
}

#[test]
fn a_validator_proposing_a_wrong_state_root_is_refused_and_the_chain_goes_on() {
    runner(5).start(|context| async move {
        let mut network = Network::new(&context, 4).await;
        network.faults[1] = Fault::WrongStateRoot;
        network.link_all(link(20, 5, 1.0)).await;
        for i in 0..4 {
            network.start(&context, i).await;
        }
        // Round-robin makes validator 1 leader every fourth view: many of its blocks are
        // proposed and all are refused, yet the others keep finalizing.
        let hashes = submit_mints(&network, 1, 0);
        network.wait_for_height(&context, &[0, 2, 3], 12, 3 * MINUTE).await;
        network.assert_same_chain(&[0, 2, 3], 12);
        let honest = network.validator(0).node.clone();
        for height in 1..=12 {
            let (header, _) = honest.block(height).unwrap().unwrap();
            let snapshot_root = header.state_root;
            assert_ne!(snapshot_root, alloy_primitives::B256::repeat_byte(0xbd));
        }
        // Its transactions still reach the chain through the honest leaders.
        for hash in &hashes {
            assert!(honest.receipt(hash).unwrap().is_some());
        }
    });
}

/// Runs 4 validators on `seed` with link latency, jitter and loss drawn from the seed, submits
/// mints to a validator drawn from the seed, and returns the header hashes up to `height`.
fn seeded_run(seed: u64, height: u64) -> Vec<alloy_primitives::B256> {
    runner(seed).start(|context| async move {
        let latency = 5 + seed % 60;
        let jitter = seed % 20;
        let success = 1.0 - (seed % 4) as f64 * 0.05;
        let mut network = Network::new(&context, 4).await;
        network.link_all(link(latency, jitter, success)).await;
        for i in 0..4 {
            network.start(&context, i).await;
        }
        network.wait_for_height(&context, &[0, 1, 2, 3], 2, MINUTE).await;
        let hashes = submit_mints(&network, (seed % 4) as usize, 0);
        network.wait_for_height(&context, &[0, 1, 2, 3], height, 2 * MINUTE).await;
        network.assert_same_chain(&[0, 1, 2, 3], height);
        for hash in &hashes {
            assert!(network.validator(0).node.receipt(hash).unwrap().is_some(), "seed {seed}");
        }
        (0..=height).map(|h| network.block_hash(0, h).unwrap()).collect()
    })
}

#[test]
fn over_many_seeds_the_validators_agree_and_a_seed_replays_to_the_same_chain() {
    for seed in 10..16 {
        seeded_run(seed, 6);
    }
    assert_eq!(seeded_run(21, 6), seeded_run(21, 6), "one seed, one chain");
}

#[test]
fn a_validator_that_double_votes_is_caught_its_evidence_is_served_and_the_chain_goes_on() {
    use commonware_codec::DecodeExt as _;
    use commonware_consensus::simplex::types::{Attributable as _, ConflictingNotarize};
    use infrafi_validator::{Evidence, block::Digest, driver::PEER_ACTIVE_VIEWS};

    let (dirs, public_key, height) = runner(6).start(|context| async move {
        let mut network = Network::new(&context, 4).await;
        network.link_all(link(20, 5, 1.0)).await;
        for i in 0..3 {
            network.start(&context, i).await;
        }
        // Validator 3 signs two different blocks in every view it votes in.
        network.start_double_voter(&context, 3).await;
        let hashes = submit_mints(&network, 0, 0);
        network.wait_for_height(&context, &[0, 1, 2], 8, 3 * MINUTE).await;
        // The three honest validators hold a quorum: one chain, every transaction in it.
        network.assert_same_chain(&[0, 1, 2], 8);
        for hash in &hashes {
            assert!(network.validator(2).node.receipt(hash).unwrap().is_some());
        }
        // Each honest validator recorded the fault against validator 3 and no other.
        let set = support::validator_set(&network.keys);
        let verifier = set.verifier().unwrap();
        let mut checked = 0;
        for i in 0..3 {
            let node = &network.validator(i).node;
            let recorded = node.evidence(0, 100).unwrap();
            assert!(!recorded.is_empty(), "validator {i} recorded no evidence");
            for (_, bytes) in recorded {
                let evidence: Evidence = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(evidence.validator_index, 3, "{evidence:?}");
                assert_eq!(evidence.public_key, format!("{}", network.key(3)));
                // The two signed votes travel with it: anyone holding the validator set checks
                // them (here: the notarizes, which the double-voter signs first in a view).
                if evidence.kind == "conflicting_notarize" {
                    let votes =
                        alloy_primitives::hex::decode(evidence.votes.trim_start_matches("0x"))
                            .unwrap();
                    let fault =
                        ConflictingNotarize::<support::TestScheme, Digest>::decode(votes).unwrap();
                    assert_eq!(fault.signer().get(), 3);
                    let mut rng = commonware_utils::sys_rng();
                    let strategy = commonware_parallel::Sequential;
                    assert!(fault.verify(&mut rng, &verifier, &strategy));
                    checked += 1;
                }
            }
        }
        assert!(checked > 0, "no conflicting notarize was recorded");
        // Blocked, its votes no longer reach validator 0, which soon lists it as inactive.
        context.sleep(Duration::from_secs(PEER_ACTIVE_VIEWS * 3)).await;
        let status = network.validator(0).node.consensus_status().unwrap();
        let peer = status.peers.iter().find(|peer| peer.index == 3).unwrap();
        assert!(!peer.active, "{peer:?}");
        let height = network.height(0);
        let public_key = format!("{}", network.key(3));
        let dirs = std::mem::take(&mut network.dirs);
        (dirs, public_key, height)
    });
    assert!(height >= 8);

    // After a restart, validator 0's API serves the evidence from its store.
    let (node, _replica) = support::reopen(&dirs, 0);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(infrafi_api::serve(node, listener, std::future::pending()));
        let client = infrafi_api::client::Client::new(&url);
        let answer = client.get("/v1/evidence").await.unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
        let evidence = answer.body["evidence"].as_array().unwrap();
        assert!(!evidence.is_empty(), "{}", answer.body);
        for (sequence, piece) in evidence.iter().enumerate() {
            assert_eq!(piece["sequence"], sequence as u64);
            assert_eq!(piece["validator_index"], 3);
            assert_eq!(piece["public_key"], public_key.as_str());
            assert!(
                ["conflicting_notarize", "conflicting_finalize", "nullify_finalize"]
                    .contains(&piece["kind"].as_str().unwrap()),
                "{piece}"
            );
        }
    });
}
