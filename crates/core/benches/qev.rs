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
    Action, Address, Amount, BlockContext, Event, State, Transaction, WAD,
    action::{
        CancelRedeem, Claim, DonateToVault, MintUsdai, RequestRedeem, ServiceQueue, SetBid, Stake,
    },
    apply,
    ids::{Account, Asset, ProtocolAccount, RequestId, USDC},
    queue::ROUND_REQUESTS_MAX,
    table::Journaled,
};
use infrafi_testkit::{Xorshift, funded_market, user_address};
use std::{
    hint::black_box,
    time::{Duration, Instant},
};

/// Requests per user in the initial queue.
const REQUESTS_PER_USER: u64 = 1_000;
/// Shares held beyond the initial queue, across all users: the measured rounds burn 1,000 per
/// iteration and criterion may run a few thousand iterations.
const SPARE_SHARES: u64 = 5_000_000;
/// Requests a measured round serves (about: the round serves what the liquidity covers).
const ROUND_REQUESTS: u32 = 1_000;

fn whole(units: u128) -> Amount {
    Amount::from_whole(units)
}

fn donor() -> Address {
    user_address(u64::MAX / 2)
}

struct Queued {
    state: State,
    block: BlockContext,
    users: u64,
    rng: Xorshift,
}

impl Queued {
    fn run(&mut self, sender: Address, action: Action) -> bool {
        apply(&mut self.state, &self.block, &Transaction { sender, action }).is_ok()
    }

    fn next_id(&self) -> RequestId {
        RequestId(self.state.queue.globals.get().next_request_id)
    }

    /// A new one-share request from a random user, with a bid one time in `bid_one_in`.
    fn add_request(&mut self, bid_one_in: u64) {
        let user = user_address(self.rng.below(self.users));
        let id = self.next_id();
        assert!(
            self.run(user, Action::RequestRedeem(RequestRedeem { shares: whole(1) })),
            "request"
        );
        if self.rng.below(bid_one_in) == 0 {
            let price_wad = (1 + u128::from(self.rng.below(100))) * WAD / 100;
            assert!(self.run(user, Action::SetBid(SetBid { request_id: id, price_wad })), "bid");
        }
    }
}

/// A market with `requests` one-share requests queued and eligible, 10% with bids, and the
/// vault's USDai lent out (so rounds serve only what is donated).
fn queued(requests: u64) -> Queued {
    let users = requests.div_ceil(REQUESTS_PER_USER).max(10);
    let shares_each = u128::from(REQUESTS_PER_USER + SPARE_SHARES / users);
    let state = funded_market(users, whole(shares_each + 1_000), |genesis| {
        genesis.params.notice_period_secs = 0;
        genesis.params.round_interval_secs = 0;
        genesis.params.liquidity_buffer_bps = infrafi_core::Bps(0);
        genesis.params.max_active_requests = u32::MAX;
        genesis.stablecoin_balances.push((donor(), USDC, whole(1_000_000_000)));
    });
    let block = BlockContext { height: state.height() + 1, timestamp: state.now() + 1 };
    let mut queued = Queued { state, block, users, rng: Xorshift::new(7) };
    let donor_mint = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: whole(1_000_000_000),
        min_out: Amount::ZERO,
    });
    assert!(queued.run(donor(), donor_mint));
    for index in 0..users {
        let user = user_address(index);
        let mint = Action::MintUsdai(MintUsdai {
            token: USDC,
            amount: whole(shares_each + 1_000),
            min_out: Amount::ZERO,
        });
        assert!(queued.run(user, mint));
        assert!(queued.run(
            user,
            Action::Stake(Stake { assets: whole(shares_each), min_shares: Amount::ZERO })
        ));
    }
    lend_out_the_vault(&mut queued.state);
    for _ in 0..requests {
        queued.add_request(10);
    }
    // Rounds with no liquidity move everything into the eligible order.
    while !queued.state.queue.waiting.is_empty() {
        assert!(queued.run(donor(), Action::ServiceQueue(ServiceQueue { max_requests: 1 })));
    }
    queued
}

/// Moves all idle vault USDai to a borrower against senior principal (the credit component's
/// job, done here by hand): NAV and the share price do not move.
fn lend_out_the_vault(state: &mut State) {
    let vault = (Account::Protocol(ProtocolAccount::Vault), Asset::Usdai);
    let idle = state.ledger.balance(ProtocolAccount::Vault, Asset::Usdai);
    state.ledger.balances.remove(&vault);
    let borrower = user_address(u64::MAX / 3);
    let mut holding = state.ledger.holdings.get(&borrower).cloned().unwrap_or_default();
    holding.usdai = idle;
    state.ledger.holdings.insert(borrower, holding);
    state.vault.globals.get_mut().senior.principal = idle;
    state.commit();
}

fn request(queued: &mut Queued, iterations: u64) -> Duration {
    let mut timed = Duration::ZERO;
    for _ in 0..iterations {
        let user = user_address(queued.rng.below(queued.users));
        let id = queued.next_id();
        let started = Instant::now();
        let accepted = queued.run(user, Action::RequestRedeem(RequestRedeem { shares: whole(1) }));
        timed += started.elapsed();
        assert!(black_box(accepted), "request");
        assert!(queued.run(user, Action::CancelRedeem(CancelRedeem { request_id: id })), "cancel");
    }
    timed
}

fn bid(queued: &mut Queued, iterations: u64) -> Duration {
    let mut timed = Duration::ZERO;
    let mut done = 0;
    while done < iterations {
        let next = queued.next_id().0;
        let id = RequestId(queued.rng.below(next));
        let Some(request) = queued.state.queue.requests.get(&id) else { continue };
        if !request.is_active() || !request.is_eligible {
            continue;
        }
        let owner = request.owner;
        let price_wad = (request.bid_price_wad / (WAD / 100) + 1) % 100 * (WAD / 100);
        let started = Instant::now();
        let accepted = queued.run(owner, Action::SetBid(SetBid { request_id: id, price_wad }));
        timed += started.elapsed();
        assert!(black_box(accepted), "bid");
        done += 1;
    }
    timed
}

fn round(queued: &mut Queued, iterations: u64) -> Duration {
    let mut timed = Duration::ZERO;
    for _ in 0..iterations {
        for _ in 0..ROUND_REQUESTS {
            queued.add_request(1);
        }
        // Liquidity for about `ROUND_REQUESTS` one-share requests: a round serves everything
        // the liquidity covers (a smaller limit would be refused as cutting it short).
        let donation =
            Action::DonateToVault(DonateToVault { amount: whole(u128::from(ROUND_REQUESTS)) });
        assert!(queued.run(donor(), donation));
        let tx = Transaction {
            sender: donor(),
            action: Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }),
        };
        let started = Instant::now();
        let events = apply(&mut queued.state, &queued.block, &tx);
        timed += started.elapsed();
        let events = black_box(events).expect("round");
        // The served owners claim (untimed), so the stored requests stay about n.
        for event in events {
            if let Event::RedemptionServed { request_id, fully_served: true, .. } = event {
                let owner = queued.state.queue.requests.get(&request_id).map(|r| r.owner);
                let owner = owner.expect("served request");
                assert!(queued.run(owner, Action::Claim(Claim { request_id })), "claim");
            }
        }
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
        let mut queued = queued(size);
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
