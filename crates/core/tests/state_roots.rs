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
                "0xc673628103cb4865c973d62cdac49dc3d7711b908fcc6815ccdf4192a7a08f29",
                "0x58d5f32b92af28e46e9284e37c0e2575d9438c867baaf59cc6f66e0bf996cbf4",
                "0xf521a723c40c36e71da0a772a9623895b3d3d6eb76cb00a101cd9664b98bc721",
            ],
            [
                "0xb5c082fe93d91b3da94a733b891614a99d1f6c7ec9ed37c8040bd88eb211fb17",
                "0x18cacff7dc63986c43216ba4ebefcd6f7cd7cfd1f7fd4a6634e51e9101123581",
                "0x7e4f27f416d48ad23f5b447124be1b5667db5cb62769b964015660d1f116e933",
            ],
            [
                "0x829d0542a4c1faab4d21c5985f36b2514e3afb3c4c1b0f734a5f1f92600d7593",
                "0x8a65ecc56f5058a9f727778fb9ce9ecb5d4000a6dec0310a4796ebb92ce25cf5",
                "0xec0fb94572995c1ea5f376cf9b6c717599ab475ca1f27d8a035a24f4642cf8d4",
            ],
            [
                "0xfcd501992bf7462c31a4f44b1e2da971fa2fc042f0a85db565e5ca642a86d85c",
                "0x72253a7d4dbb09b5cd885f3fc1e7f4bc7b1fb7e9a30136cac58c12f281c3e527",
                "0x9fc5b7620094c1b861b6e7d72a844b5fd93eec2763125e79d6aa632d72b5993e",
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
            "0x9ab1b9bfca39b53b48200c3bdc4444e80ad6e08369b9c677e9fcad2f933b0d2f",
            "0xb586f7ef0c618ec2ee923e534d0385b63516d70fd1c95e618ed96b770212f055",
        ]],
    );
}
