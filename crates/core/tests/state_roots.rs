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
                "0xaad46e0e6c511a5ca5f81fd825e9fa912d7692dae0227a4e912779ce28c6cd8c",
                "0xe873ae7b29343d4d3b960e0df3699c0917235b3c0f0e6fadf8ea9c89266ce73c",
                "0x81f8c7f1232b31ca046dfa23869240c1471a612afb99a7e016266da44a4c009f",
            ],
            [
                "0x093f1df47cfb6b8b591c0e037e79e4bcc6381398312ff2f3d4b2bd4df5ee24d1",
                "0x0c30a8eb37c4923f06e921134122d78c7f9fdc50a4b67c46e9f47a89267416d1",
                "0xca76f17b0a884bc91cc526f9ccc432b89445decd651a1359136e7191248486b6",
            ],
            [
                "0x1db876af9f9d1c7546bb1ff7de256da764bcbd6febf8245ec8b5fcd0df00de3a",
                "0x8afee1b650aec118e1a7fb5a0a4a90ba1b0cefec50a99500093aaf27b9689f86",
                "0x4cdd8dbda9aec185b27b8f49ec39d2419e3a83cb65c5b0a0410298094e1bbefb",
            ],
            [
                "0xf8453c18277a17930b1101428e75e6385c2a55c19ad76e24647a4332aaf05e57",
                "0x73886e56c3b0190c9e3588dca85f0a4b41ef516eeac9154a15f31869b9793d29",
                "0xf48f1478e14bff50f1a6968d3c4c0985a6ba4cc2c3b3e84a913e783c52ac055b",
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
            "0x4ec744391f09bc544a89f30e3a2d299f4caf7c51be3352325f78bb1fe48d0eeb",
            "0xadd9c38bc5c040a41b959ed78a3dfbe07630a6c498d7b09a62fcddf216acdcd3",
        ]],
    );
}
