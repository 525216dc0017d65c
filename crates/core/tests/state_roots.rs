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
                "0xfdbe9570ff63651056df1790da8982539fd2426e7ece07b33c8df7e6ade01755",
                "0x977027d846b5f5f2d5f704d1f59386b2a7c8a6c73c3f3731cb5d5c15632f40e9",
                "0xfcb2db39fa85b4a86bc6c0e21d23ee91d21ed650bbdea6f923d79b62d9652471",
            ],
            [
                "0x5fe23226430b9b08b6978f29e9c7ac0a15e8bcaefd409ce4fe3c7ac166e7e8ce",
                "0xcb0d69ad7c2a46173569a0891b4082843344f7fec1e4be7ea371b1a0003cc942",
                "0x9d61c082855168b5289a0dadc43557f49d1f6332edfd24d5781511b3b4b40fa9",
            ],
            [
                "0xee8710cd11be20ea1b0cf5d62d119941a33b2a4d25d1ebf46fc553b956835075",
                "0xaaf937eeac32721e774bd69924949dfdb52732952bdc07ec562da4ef2bdc3804",
                "0xfb5f48eae4af35dd05ddf56afa38f65d5aa8481f99b6515fcc9d88254d84ed33",
            ],
            [
                "0x0ad17835efbdda23f0263d3719d74273580eed96e179fc55827de39575d596fc",
                "0x17e297d3343bf2660481af5ff085ebbe15c0c094b0df11cfdde0577259faebdc",
                "0x5704e7db4c6590e09ae92db99467fa86e69fb5b0ea946495f5c306595160d115",
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
            "0x15e5f7fbadc642a38cc3f35600715cf65bf93c660796dcf86f6d7767020e7321",
            "0x41eb8d54576bd3de1812ca60ce08566a9d00ec983a536e6353326de8eb1c6882",
        ]],
    );
}
