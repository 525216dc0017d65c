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
                "0x281048a185c9afeedce3e616f4dab792825cf5dce4307f191b3d513f8641bd09",
                "0x382d909d39741b495ec330cedfd6860c82d25d528d0bd120d98a34ff68abe038",
                "0xdf1b025af0c1f50067dd352ba453e784c5114ed537a3005437dbfe0541be7d7d",
            ],
            [
                "0x17bbaa61f8c207a61175c77e6e46f098b2a66e8939833cdae261063fe36aa1b9",
                "0x022716bf670d32e5a15a1ae3ab859c51085948353aa562c84e42d72d379ee2ae",
                "0xad583a5183f2c169af1b81367d63ddea8e692a89bffd1f696009be62b935d79a",
            ],
            [
                "0xdbb60d29817e2f2b0bcaeafe73fab46853ff602e73359571a4f6d44c3aea2f28",
                "0x5c3efde65d8f9a375e9df264a90e9e8c6c1e2899af344665a61f425bfbe0fcf1",
                "0xd58bc64fb6d67a3e8352ca147a932e00f0af4819db8c96aade1b23b7fec70bee",
            ],
            [
                "0x14aad6fff6e99857d41d5a82b9eae9d3b3a763fe2c781706d5a4a26c8db01461",
                "0x4feb0e79114584105dc6a8d065c9660f362fd6e203108f723de824cccb7b31b1",
                "0x0d2d261cdd267d1bf6182240f7e3add54fc42d3bee54abf7f614329a93c9cbb3",
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
            "0xf4fb167cb22913ee42160e002d6f59e1519e37756a07fdb948e077c16d656e79",
            "0xeba90a17779223bac6ec6a057836397fbde415b86d2e87b04e294b16d73367b9",
        ]],
    );
}
