//! Golden state roots: fixed workloads replayed from a fixed seed end in pinned roots.
//!
//! Each workload pins three digests: the keccak of the JSON of every transaction it sent (the
//! wire format of `Action`), the `state_hash` of the final state (its canonical encoding) and
//! the Merkle root over its leaves (the node's `state_root`, which also pins every leaf path).
//! A change that moves any of them changes what a stored chain replays to: it must bump
//! `STATE_FORMAT` (and the pins below) with the reason, never pass unnoticed. A pin also moves,
//! without a format change, when the workload itself changes (its fixture's addresses or
//! times): the commit that moves it says so and touches no protocol code.

use infrafi_core::{
    Action, BlockContext, State, Transaction,
    action::MintUsdai,
    apply,
    ids::{B256, USDC},
};
use infrafi_testkit::{
    WorkloadKind, Xorshift,
    workload::{self, next_block, steps},
    workload_market,
};
use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::TestRunner,
};

/// The three digests of a finished workload.
#[derive(Debug, PartialEq, Eq)]
struct Roots {
    transactions: B256,
    state_hash: B256,
    state_root: B256,
}

/// Accumulates the JSON of every transaction a workload sends.
#[derive(Default)]
struct Wire(Vec<u8>);

impl Wire {
    fn record(&mut self, block: &BlockContext, tx: &Transaction) {
        let line = serde_json::to_string(tx).expect("a transaction is plain data");
        self.0.extend(format!("{}:{} {line}\n", block.height, block.timestamp).bytes());
    }

    fn finish(self, state: &State) -> Roots {
        let leaves: Vec<(Vec<u8>, Vec<u8>)> = state
            .leaves()
            .into_iter()
            .map(|leaf| (leaf.key, leaf.value.expect("a full listing has every value")))
            .collect();
        let tree = infrafi_merkle::Tree::from_leaves(leaves.iter().map(|(k, v)| (k, v)));
        Roots {
            transactions: alloy_primitives::keccak256(&self.0),
            state_hash: state.state_hash(),
            state_root: tree.root(),
        }
    }
}

/// Checks `actual` against the pinned digests, printing the new pins when they differ.
fn assert_roots(actual: &[Roots], expected: &[[&str; 3]]) {
    let render = |roots: &Roots| {
        [roots.transactions, roots.state_hash, roots.state_root].map(|digest| digest.to_string())
    };
    let actual: Vec<[String; 3]> = actual.iter().map(render).collect();
    let expected: Vec<[String; 3]> = expected.iter().map(|pins| pins.map(str::to_string)).collect();
    assert!(
        actual == expected,
        "the roots moved; now (transactions, state hash, state root):\n{actual:#?}"
    );
}

/// The property tests' random workload (every action, valid and invalid, with credit) from
/// proptest's deterministic seed: four sequences of 300 steps.
fn random_workload_roots() -> Vec<Roots> {
    let mut runner = TestRunner::deterministic();
    (0..4)
        .map(|_| {
            let steps = steps(300..301).new_tree(&mut runner).expect("a workload").current();
            let (mut state, mut block, _) = workload::start();
            let mut wire = Wire::default();
            for step in &steps {
                block = next_block(block, step);
                if step.upkeep_first {
                    infrafi_core::begin_block(&mut state, &block).expect("time moves forward");
                }
                let tx = step.transaction(&state);
                wire.record(&block, &tx);
                let _ = apply(&mut state, &block, &tx);
            }
            wire.finish(&state)
        })
        .collect()
}

#[test]
fn the_random_workload_at_a_fixed_seed_ends_in_the_golden_roots() {
    assert_roots(
        &random_workload_roots(),
        &[
            [
                "0x82f9594a742258ac6b4c0c547c07d31853ef09f7c38a40b717c3f2f4d7e5875b",
                "0x1a2c96ec99045f4b8a4dc45bb8163ddf849c862bf31857a501ab4ee3a73acd16",
                "0x6beb700e806669e3f90b0c8af529605d48e0a92c6f62fd6fdc441fb68b68bafd",
            ],
            [
                "0x85cb3215de6d931385f93e7c812bdf3ada480e993a15a91c3b194cac00db6503",
                "0x36b44e7e8164dc3090cf170cbb061289631e09c54ef4df7bf689ce38c8926102",
                "0x30c22e525ee815e84e71fe4c762caf54f5222d576d8c185981ea871e9088b9c4",
            ],
            [
                "0x74e12ef3aa6748cc92043c6fc20a24f820df2833f539d0b5e159adcba2fef9ad",
                "0xbd11a8ac62411ec99851f87900b63f2a5de8c64257ba0de19697196e20823a7c",
                "0x466becdbe32415069c4aa7c97fc18dc0bda9127fc8e36965bb88afa8d1c763be",
            ],
            [
                "0x2900ab292d4001626215f0767c74347f67f794c811880a73ef3ce259f17d54c5",
                "0x1e419438a632984579d06570f26841c7a012fbb4b30a52bb3c79cf805492cce6",
                "0x15cce9833e9df06534c668736e45e726ba24fb64dc85030fbffe4e232e7d5880",
            ],
        ],
    );
}

/// The benchmarks' workload: 64 funded users, 2,000 mixed transactions in blocks of 100.
#[test]
fn the_apply_benchmark_workload_at_a_fixed_seed_ends_in_the_golden_roots() {
    let accounts = 64;
    let mut driver = workload_market(accounts);
    let mut rng = Xorshift::new(12);
    let mut wire = Wire::default();
    for index in 0..2_000 {
        if index % 100 == 0 {
            driver.advance(60);
        }
        let tx = WorkloadKind::Mixed.next_transaction(&mut rng, accounts);
        wire.record(&driver.block, &tx);
        let _ = driver.apply(tx.sender, tx.action);
    }
    // One more action of a shape the mix does not send, so a change to it shows here too.
    let mint = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: infrafi_core::Amount(7),
        min_out: infrafi_core::Amount::ZERO,
    });
    let tx = Transaction { sender: infrafi_testkit::user_address(1), action: mint };
    wire.record(&driver.block, &tx);
    let _ = driver.apply(tx.sender, tx.action);
    assert_roots(
        &[wire.finish(&driver.state)],
        &[[
            "0xfc1d44a7ded5126ffc72168afb618d8e689730b3e1ec6096ca7f410b27cca325",
            "0x95abec8e49c374a9df405a7d775d0d6a23d049cc09c483f1195f80e9053765fd",
            "0xeba90a17779223bac6ec6a057836397fbde415b86d2e87b04e294b16d73367b9",
        ]],
    );
}
