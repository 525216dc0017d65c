//! Criterion benchmarks of the QEV queue with 10,000, 100,000 and 1,000,000 requests queued
//! (10% of them with a bid): the cost of a request, of a bid change, and of a servicing round
//! that serves about 1,000 requests, all its liquidity covers (and activates the 1,000 that replaced the last round's). The
//! claim to check: from 10k to 1M the cost grows like log n, not like n.
//!
//! Each measured operation leaves the queue the size it found it: a request is cancelled
//! after it is timed; before each timed round 1,000 new requests (each with a bid) and the USDai to
//! serve 1,000 arrive untimed, and after it the served owners claim, untimed. The queue then
//! stays at n requests, about 10% of them bidding, and every round prices jumpers and pays
//! the overtaken through the wait-fee index.

// A benchmark times wall-clock intervals; the ban on `Instant::now` protects state transitions.
#![allow(clippy::disallowed_methods)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use infrafi_core::{
    Action, Amount, Transaction, WAD,
    action::{CancelRedeem, RequestRedeem, SetBid},
    apply,
    ids::RequestId,
};
use infrafi_testkit::{queued::QueuedMarket, user_address};
use std::{
    hint::black_box,
    time::{Duration, Instant},
};

/// Requests a measured round serves (about: the round serves what the liquidity covers).
const ROUND_REQUESTS: u32 = 1_000;

fn request(queued: &mut QueuedMarket, iterations: u64) -> Duration {
    let mut timed = Duration::ZERO;
    for _ in 0..iterations {
        let users = queued.users();
        let user = user_address(queued.rng().below(users));
        let id = queued.next_id();
        let tx = Transaction {
            sender: user,
            action: Action::RequestRedeem(RequestRedeem { shares: Amount::from_whole(1) }),
        };
        let started = Instant::now();
        let accepted = apply(&mut queued.state, &queued.block, &tx);
        timed += started.elapsed();
        black_box(accepted).expect("request");
        queued.run(user, Action::CancelRedeem(CancelRedeem { request_id: id }));
    }
    timed
}

fn bid(queued: &mut QueuedMarket, iterations: u64) -> Duration {
    let mut timed = Duration::ZERO;
    let mut done = 0;
    while done < iterations {
        let next = queued.next_id().0;
        let id = RequestId(queued.rng().below(next));
        let Some(request) = queued.state.queue.requests.get(&id) else { continue };
        if !request.is_active() || !request.is_eligible {
            continue;
        }
        let owner = request.owner;
        let price_wad = (request.bid_price_wad / (WAD / 100) + 1) % 100 * (WAD / 100);
        let tx = Transaction {
            sender: owner,
            action: Action::SetBid(SetBid { request_id: id, price_wad }),
        };
        let started = Instant::now();
        let accepted = apply(&mut queued.state, &queued.block, &tx);
        timed += started.elapsed();
        black_box(accepted).expect("bid");
        done += 1;
    }
    timed
}

fn round(queued: &mut QueuedMarket, iterations: u64) -> Duration {
    let mut timed = Duration::ZERO;
    for _ in 0..iterations {
        // Every new request bids, so every round prices jumpers.
        let tx = queued.prepare_round(ROUND_REQUESTS, 1);
        let started = Instant::now();
        let events = apply(&mut queued.state, &queued.block, &tx);
        timed += started.elapsed();
        let events = black_box(events).expect("round");
        // The served owners claim (untimed), so the stored requests stay about n.
        queued.claim_served(&events);
    }
    timed
}

/// The queue sizes: 10k, 100k and 1M, or the comma-separated list in `INFRAFI_QEV_BENCH_SIZES`
/// (for a quick look).
fn sizes() -> Vec<u64> {
    match std::env::var("INFRAFI_QEV_BENCH_SIZES") {
        Ok(list) => list.split(',').filter_map(|size| size.trim().parse().ok()).collect(),
        Err(_) => vec![10_000, 100_000, 1_000_000],
    }
}

fn qev(c: &mut Criterion) {
    for size in sizes() {
        let mut queued = QueuedMarket::new(size, 10);
        let mut group = c.benchmark_group(format!("qev_{size}_queued"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("request", |b| b.iter_custom(|n| request(&mut queued, n)));
        group.bench_function("bid", |b| b.iter_custom(|n| bid(&mut queued, n)));
        group.sample_size(10);
        group.bench_function("round_1000", |b| b.iter_custom(|n| round(&mut queued, n)));
        group.finish();
        let queue = &queued.state.queue;
        println!(
            "qev_{size}_queued: {} requests queued after the runs ({} eligible)",
            queue.requests.len(),
            queue.eligible.len()
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = qev
}
criterion_main!(benches);
