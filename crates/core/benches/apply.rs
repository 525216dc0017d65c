//! Criterion benchmarks of `apply` on a market of 100,000 funded accounts, one group per
//! transaction type plus a mixed workload. The same workload runs from the CLI as
//! `infrafi bench apply`, which also reports memory per account.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use infrafi_core::{BlockContext, apply};
use infrafi_testkit::{WorkloadKind, Xorshift, workload_market};
use std::hint::black_box;

/// Accounts in the benchmark market.
const ACCOUNTS: u64 = 100_000;
/// Pre-generated transactions cycled through per type.
const TRANSACTIONS: usize = 100_000;

fn apply_by_kind(c: &mut Criterion) {
    let prepared = workload_market(ACCOUNTS);
    let mut group = c.benchmark_group("apply_100k_accounts");
    group.throughput(Throughput::Elements(1));
    for kind in WorkloadKind::ALL {
        let mut rng = Xorshift::new(7);
        let transactions: Vec<_> =
            (0..TRANSACTIONS).map(|_| kind.next_transaction(&mut rng, ACCOUNTS)).collect();
        let mut state = prepared.state.clone();
        let block = BlockContext {
            height: prepared.block.height + 1,
            timestamp: prepared.block.timestamp + 1,
        };
        let mut next = 0usize;
        group.bench_function(kind.name(), |b| {
            b.iter(|| {
                let tx = &transactions[next % TRANSACTIONS];
                next += 1;
                black_box(apply(&mut state, &block, tx)).ok()
            })
        });
    }
    group.finish();
}

fn state_hash(c: &mut Criterion) {
    let prepared = workload_market(10_000);
    c.bench_function("state_hash_10k_accounts", |b| {
        b.iter_batched(|| (), |()| black_box(prepared.state.state_hash()), BatchSize::SmallInput)
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = apply_by_kind, state_hash
}
criterion_main!(benches);
