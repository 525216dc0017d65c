//! `infrafi bench`: throughput of the state machine, single thread, all in memory, the state
//! updated (and journaled) after every transaction exactly as the node applies it; and what
//! verifying a signed transaction costs (`bench verify`).

use crate::alloc_counter;
use anyhow::ensure;
use clap::{Args, Subcommand};
use infrafi_core::{
    Action, Amount, Asset, BlockContext, RequestId, State, Transaction,
    action::{Claim, MintUsdai, RequestRedeem, ServiceQueue, Stake},
    apply,
    ids::USDC,
    queue::ROUND_REQUESTS_MAX,
};
use infrafi_testkit::{
    Driver, WorkloadKind, Xorshift, funded_market,
    queued::{QueuedMarket, requests_served},
    user_address, workload_market,
};
use infrafi_tx::{DOMAIN_VERSION, SigningKey, recover, samples::sample_actions, signing_hash};
use std::{
    hint::black_box,
    time::{Duration, Instant},
};

#[derive(Subcommand)]
pub(crate) enum BenchCommand {
    /// Every user mints, stakes, requests, is serviced in rounds at the protocol's bound, and
    /// claims.
    Lifecycle(LifecycleArgs),
    /// Servicing rounds of a given size against a queue held at a steady size (about one
    /// request in ten bidding): the cost of a served request as the round grows.
    Rounds(RoundsArgs),
    /// Each transaction type applied to a market of many funded accounts.
    Apply(ApplyArgs),
    /// What verifying a signature costs with one EIP-712 struct per action: the digest (computed
    /// from the action's fields), secp256k1 recovery, the whole stateless check of a signed
    /// transaction, and a batch on all cores (the measures of `cargo bench -p infrafi-tx --bench
    /// verify`).
    Verify(VerifyArgs),
    /// The node under attack (issue 18): flood, SIGKILLs, soak and decoder fuzzing against a
    /// devnet child process; prints the figures (docs/security.md, "The campaign").
    Campaign(crate::campaign::CampaignArgs),
}

#[derive(Args)]
pub(crate) struct LifecycleArgs {
    /// Number of users.
    #[arg(long, default_value_t = 10_000)]
    users: u64,
}

#[derive(Args)]
pub(crate) struct RoundsArgs {
    /// Requests kept queued and eligible (each round's served ones are replaced).
    #[arg(long, default_value_t = 100_000)]
    queued: u64,
    /// Requests per round: the round sizes measured, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1u32, 100, 1_000])]
    round_requests: Vec<u32>,
    /// Requests served per round size (rounds = served / size, at least one).
    #[arg(long, default_value_t = 100_000)]
    served: u64,
}

#[derive(Args)]
pub(crate) struct ApplyArgs {
    /// Number of funded accounts in the market.
    #[arg(long, default_value_t = 100_000)]
    accounts: u64,
    /// Transactions applied per type.
    #[arg(long, default_value_t = 200_000)]
    transactions: u64,
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// Signatures verified per measure.
    #[arg(long, default_value_t = 10_000)]
    transactions: u64,
}

pub(crate) fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Lifecycle(args) => lifecycle(&args),
        BenchCommand::Rounds(args) => rounds(&args),
        BenchCommand::Apply(args) => apply_throughput(&args),
        BenchCommand::Verify(args) => verify_cost(&args),
        BenchCommand::Campaign(args) => crate::campaign::run(args),
    }
}

fn print_header() {
    println!("{:<22} {:>10} {:>10} {:>14} {:>10}", "phase", "ops", "seconds", "ops/s", "µs/op");
}

fn print_row(phase: &str, operations: u64, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    let per_second = operations as f64 / seconds.max(1e-12);
    let micros = seconds * 1e6 / operations.max(1) as f64;
    println!("{phase:<22} {operations:>10} {seconds:>10.4} {per_second:>14.0} {micros:>10.3}");
}

/// The amount every lifecycle user starts with and must end with.
const LIFECYCLE_USDC_EACH: Amount = Amount::from_whole(1_000);

/// Runs one phase: `transaction(i)` for every user, each applied and required to succeed.
fn phase(
    driver: &mut Driver,
    name: &str,
    users: u64,
    transaction: impl Fn(u64) -> Transaction,
) -> anyhow::Result<()> {
    let started = Instant::now();
    for index in 0..users {
        let tx = transaction(index);
        apply(&mut driver.state, &driver.block, &tx)
            .map_err(|e| anyhow::anyhow!("{name} of user {index} failed: {e}"))?;
    }
    print_row(name, users, started.elapsed());
    Ok(())
}

fn lifecycle(args: &LifecycleArgs) -> anyhow::Result<()> {
    let users = args.users;
    ensure!(users > 0, "--users must be at least 1");
    println!("lifecycle: {users} users, single thread, in memory, no fees");
    let state = funded_market(users, LIFECYCLE_USDC_EACH, |genesis| {
        // Back-to-back rounds, so the servicing phase measures the queue, not the calendar.
        genesis.params.round_interval_secs = 0;
    });
    let mut driver = Driver::new(state);
    let each = LIFECYCLE_USDC_EACH;
    print_header();
    phase(&mut driver, "mint", users, |i| Transaction {
        sender: user_address(i),
        action: Action::MintUsdai(MintUsdai { token: USDC, amount: each, min_out: each }),
    })?;
    phase(&mut driver, "stake", users, |i| Transaction {
        sender: user_address(i),
        action: Action::Stake(Stake { assets: each, min_shares: each }),
    })?;
    phase(&mut driver, "request_redeem", users, |i| Transaction {
        sender: user_address(i),
        action: Action::RequestRedeem(RequestRedeem { shares: each }),
    })?;
    let notice = driver.state.governance.params.get().notice_period_secs;
    driver.advance(notice);
    let mut state = driver.state;
    let block = driver.block;
    let started = Instant::now();
    let mut rounds = 0u64;
    // A round serves everything the liquidity covers up to the protocol's bound, and one that
    // stops at the bound lets the next run at once: ceil(users / bound) rounds.
    while !state.queue.eligible.is_empty() || !state.queue.waiting.is_empty() {
        let tx = Transaction {
            sender: user_address(0),
            action: Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }),
        };
        apply(&mut state, &block, &tx).map_err(|e| anyhow::anyhow!("service failed: {e}"))?;
        rounds += 1;
        ensure!(rounds <= users + 1, "the queue stopped draining");
    }
    print_row("service (req)", users, started.elapsed());
    println!("{:<22} {rounds:>10} rounds of at most {ROUND_REQUESTS_MAX}", "");
    let mut driver = Driver { state, block: driver.block };
    phase(&mut driver, "claim", users, |i| Transaction {
        sender: user_address(i),
        action: Action::Claim(Claim { request_id: RequestId(i) }),
    })?;
    verify_round_trip(&driver.state, users)?;
    println!("check: queue empty, every user holds exactly its {each} USD again");
    println!("state hash: {}", driver.state.state_hash());
    Ok(())
}

/// One request in this many bids, in the initial queue and among each round's new requests.
const ROUNDS_BID_ONE_IN: u64 = 10;

fn rounds(args: &RoundsArgs) -> anyhow::Result<()> {
    ensure!(args.queued > 0, "--queued must be at least 1");
    ensure!(args.served > 0, "--served must be at least 1");
    for &size in &args.round_requests {
        ensure!(
            (1..=ROUND_REQUESTS_MAX).contains(&size),
            "--round-requests must be between 1 and {ROUND_REQUESTS_MAX}"
        );
    }
    println!(
        "rounds: {} requests queued (1 in {ROUNDS_BID_ONE_IN} bidding), about {} served per \
         round size, single thread, in memory; only the servicing transactions are timed",
        args.queued, args.served
    );
    println!(
        "{:<14} {:>8} {:>10} {:>10} {:>14} {:>10} {:>12}",
        "round size", "rounds", "served", "seconds", "requests/s", "µs/req", "µs/round"
    );
    let mut hashes = Vec::new();
    for &size in &args.round_requests {
        let mut market = QueuedMarket::new(args.queued, ROUNDS_BID_ONE_IN);
        let rounds = args.served.div_ceil(u64::from(size)).max(1);
        let mut served = 0u64;
        let mut timed = Duration::ZERO;
        for _ in 0..rounds {
            let tx = market.prepare_round(size, ROUNDS_BID_ONE_IN);
            let started = Instant::now();
            let events = apply(&mut market.state, &market.block, &tx)
                .map_err(|e| anyhow::anyhow!("round failed: {e}"))?;
            timed += started.elapsed();
            served += u64::from(requests_served(&events));
            market.claim_served(&events);
        }
        let seconds = timed.as_secs_f64();
        println!(
            "{size:<14} {rounds:>8} {served:>10} {seconds:>10.4} {:>14.0} {:>10.3} {:>12.1}",
            served as f64 / seconds.max(1e-12),
            seconds * 1e6 / served.max(1) as f64,
            seconds * 1e6 / rounds as f64,
        );
        hashes.push((size, market.state.state_hash()));
    }
    // The same workload ends in the same state on every build: a change that makes rounds
    // cheaper must leave these unchanged.
    for (size, hash) in hashes {
        println!("state hash after rounds of {size}: {hash}");
    }
    Ok(())
}

fn verify_round_trip(state: &State, users: u64) -> anyhow::Result<()> {
    ensure!(
        state.queue.requests.is_empty(),
        "queue still holds {} requests",
        state.queue.requests.len()
    );
    for index in 0..users {
        let user = user_address(index);
        let usdai = state.ledger.balance(user, Asset::Usdai);
        let shares = state.ledger.balance(user, Asset::Susdai);
        ensure!(usdai == LIFECYCLE_USDC_EACH, "user {index} ends with {usdai} USDai");
        ensure!(shares.is_zero(), "user {index} still holds {shares} sUSDai");
    }
    Ok(())
}

fn apply_throughput(args: &ApplyArgs) -> anyhow::Result<()> {
    ensure!(args.accounts >= 2, "--accounts must be at least 2");
    println!(
        "apply: {} funded accounts, {} transactions per type, single thread",
        args.accounts, args.transactions
    );
    let before = alloc_counter::live_bytes();
    let prepared = workload_market(args.accounts);
    let state_bytes = alloc_counter::live_bytes().saturating_sub(before);
    println!(
        "state: {} heap bytes, {:.0} bytes per account (USDC, USDai, sUSDai balances and points)",
        state_bytes,
        state_bytes as f64 / args.accounts as f64
    );
    println!("encoded state: {} bytes", prepared.state.encode().len());
    print_header();
    for kind in WorkloadKind::ALL {
        let mut state = prepared.state.clone();
        let mut block = prepared.block;
        let mut rng = Xorshift::new(42);
        let transactions: Vec<Transaction> = (0..args.transactions)
            .map(|_| kind.next_transaction(&mut rng, args.accounts))
            .collect();
        let started = Instant::now();
        let mut rejected = 0u64;
        for (index, tx) in transactions.iter().enumerate() {
            // One block per 10,000 transactions, one second apart, as a node would.
            if index % 10_000 == 0 {
                block = BlockContext { height: block.height + 1, timestamp: block.timestamp + 1 };
            }
            if apply(&mut state, &block, tx).is_err() {
                rejected += 1;
            }
        }
        print_row(kind.name(), args.transactions, started.elapsed());
        if rejected > 0 {
            println!(
                "{:<22} {rejected:>10} rejected (limits reached; still applied and rolled back)",
                ""
            );
        }
    }
    Ok(())
}

/// The infrafi chain of the verification benchmark; the wallet signs on chain 1.
const VERIFY_CHAIN: u64 = 31_337;

fn verify_cost(args: &VerifyArgs) -> anyhow::Result<()> {
    ensure!(args.transactions > 0, "--transactions must be at least 1");
    let key = SigningKey::from_seed("bench/verify");
    println!(
        "verify: {} signatures per measure, one EIP-712 struct per action (domain version \
         {DOMAIN_VERSION}), {} threads for the batch",
        args.transactions,
        rayon::current_num_threads()
    );
    print_header();
    for (name, action) in sample_actions() {
        let started = Instant::now();
        for nonce in 0..args.transactions {
            black_box(signing_hash(VERIFY_CHAIN, 1, nonce, black_box(&action)));
        }
        print_row(&format!("digest {name}"), args.transactions, started.elapsed());
        let sign_all = || -> Vec<_> {
            (0..args.transactions).map(|nonce| key.sign(VERIFY_CHAIN, nonce, &action)).collect()
        };
        let signed = sign_all();
        let started = Instant::now();
        for tx in signed {
            ensure!(tx.verify(VERIFY_CHAIN).is_ok(), "a {name} signature did not verify");
        }
        print_row(&format!("verify {name}"), args.transactions, started.elapsed());
        let signed = sign_all();
        let started = Instant::now();
        let verified = infrafi_tx::verify_batch(signed, VERIFY_CHAIN);
        let elapsed = started.elapsed();
        ensure!(
            verified.iter().all(Result::is_ok),
            "a {name} signature in the batch did not verify"
        );
        print_row(&format!("batch {name}"), args.transactions, elapsed);
    }
    let (_, stake) = &sample_actions()[0];
    let digest = signing_hash(VERIFY_CHAIN, 1, 0, stake);
    let signature = key.sign_digest(digest);
    let started = Instant::now();
    for _ in 0..args.transactions {
        black_box(recover(black_box(&signature), digest))?;
    }
    print_row("recover", args.transactions, started.elapsed());
    Ok(())
}
