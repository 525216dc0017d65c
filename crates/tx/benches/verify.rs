//! What verifying a signature costs with one EIP-712 struct per action (domain version 3):
//! the digest (`typed_digest_*`: computed from the action's fields, as the node does;
//! `typed_data_digest_*`: the action's typed data built as JSON, then hashed by alloy-dyn-abi,
//! as a wallet does), secp256k1 recovery, and the whole stateless check of a signed transaction
//! (`SignedTransaction::verify`: payload parse, digest, recovery), for a flat action, one with
//! an address, and one with nested structs. `sol_digest_stake` is the same Stake digest from a
//! struct written out with `sol!`, for scale: what a hand-written static struct would cost.
//! The same figures print from `infrafi bench verify`.

use alloy_sol_types::{SolStruct, sol};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use infrafi_core::WAD;
use infrafi_tx::{
    SigningKey, domain, recover, samples::sample_actions, signing_hash,
    typed::typed_data_signing_hash,
};
use std::hint::black_box;

const CHAIN: u64 = 31_337;
const WALLET_CHAIN: u64 = 1;

sol! {
    struct Stake {
        uint64 chain;
        uint64 nonce;
        uint256 assets;
        uint256 min_shares;
    }
}

fn verify(c: &mut Criterion) {
    let key = SigningKey::from_seed("bench/verify");
    let mut group = c.benchmark_group("verify");
    for (name, action) in sample_actions() {
        group.bench_function(format!("typed_digest_{name}"), |b| {
            b.iter(|| black_box(signing_hash(CHAIN, WALLET_CHAIN, 7, black_box(&action))))
        });
        group.bench_function(format!("typed_data_digest_{name}"), |b| {
            b.iter(|| {
                black_box(typed_data_signing_hash(CHAIN, WALLET_CHAIN, 7, black_box(&action)))
            })
        });
        let signed = key.sign(CHAIN, 7, &action);
        group.bench_function(format!("verify_{name}"), |b| {
            b.iter_batched(
                || signed.clone(),
                |tx| black_box(tx.verify(CHAIN)),
                BatchSize::SmallInput,
            )
        });
    }
    let stake = Stake {
        chain: CHAIN,
        nonce: 7,
        assets: alloy_primitives::U256::from(1_000 * WAD),
        min_shares: alloy_primitives::U256::from(990 * WAD),
    };
    let wallet_domain = domain(WALLET_CHAIN);
    group.bench_function("sol_digest_stake", |b| {
        b.iter(|| black_box(black_box(&stake).eip712_signing_hash(&wallet_domain)))
    });
    let digest = signing_hash(CHAIN, WALLET_CHAIN, 7, &sample_actions()[0].1);
    let signature = key.sign_digest(digest);
    group.bench_function("recover", |b| {
        b.iter(|| black_box(recover(black_box(&signature), digest)))
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
