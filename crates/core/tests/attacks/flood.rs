//! A flood of minimum-size requests (issue 9).
//!
//! Requests are cheap to make: an attacker with ten accounts queues ten thousand requests of
//! the minimum size (one sUSDai each) ahead of an honest holder, hoping the round either costs
//! more than a block can carry (so nobody is served) or stops at its bound and leaves the
//! honest holder for another day. A round serves at most `ROUND_REQUESTS_MAX` requests, so its
//! cost is bounded whatever the flood; a round that stopped at the bound with liquidity left
//! lets the next round run at once (`queue::next_round_earliest_at`), so the holder behind the
//! flood is served in the same block time; and the flood itself gains nothing (each request is
//! paid exactly its share's value).

use infrafi_core::{
    Action, Amount, TxError,
    action::{MintUsdai, QueueDeposit, RequestRedeem, ServiceQueue, Stake},
    ids::{RequestId, USDC},
    invariants,
    queue::{self, QueueError, ROUND_REQUESTS_MAX},
    reserve::{self, QUEUED_DEPOSIT_MIN, QUEUED_DEPOSITS_PER_OWNER_MAX},
};
use infrafi_testkit::{Driver, funded_market, market::whole, user_address};

/// Accounts the attacker floods from (each at the per-owner active-request limit it sets).
const FLOODERS: u64 = 10;
/// The honest holder's user index.
const HONEST: u64 = FLOODERS;

/// User `user` mints `amount` USDai from USDC and stakes all of it.
fn mint_and_stake(driver: &mut Driver, user: u64, amount: Amount) {
    let sender = user_address(user);
    let mint = MintUsdai { token: USDC, amount, min_out: Amount::ZERO };
    driver.apply(sender, Action::MintUsdai(mint)).expect("mint");
    let stake = Stake { assets: amount, min_shares: Amount::ZERO };
    driver.apply(sender, Action::Stake(stake)).expect("stake");
}

/// Attack: ten accounts hold 1,000 sUSDai each and queue 1,000 one-share requests each: the
/// protocol's bound of 10,000 requests, all eligible at once, ahead of an honest holder's
/// request for 100. The liquidity covers everyone. The first round serves exactly the bound
/// and stops with liquidity left; the next round may run at once and serves the honest holder
/// at the same timestamp; only then does the interval apply. Every flood request is paid
/// exactly one USDai (the share price is 1.0): the flood earns nothing. Built without the
/// per-transaction invariant checks (ten thousand requests); the invariants are checked after
/// each round.
#[test]
fn a_flood_of_minimum_requests_costs_one_bounded_round_and_delays_nobody() {
    let state = funded_market(FLOODERS + 1, whole(2_000), |genesis| {
        genesis.params.notice_period_secs = 0;
        genesis.params.max_active_requests = 1_000;
    });
    let mut driver = Driver::new(state);
    for user in 0..=FLOODERS {
        mint_and_stake(&mut driver, user, whole(1_000));
    }
    let per_flooder = u64::from(ROUND_REQUESTS_MAX) / FLOODERS;
    for n in 0..per_flooder * FLOODERS {
        let request = RequestRedeem { shares: whole(1) };
        driver.apply(user_address(n % FLOODERS), Action::RequestRedeem(request)).expect("flood");
    }
    let honest = RequestId(per_flooder * FLOODERS);
    let request = RequestRedeem { shares: whole(100) };
    driver.apply(user_address(HONEST), Action::RequestRedeem(request)).expect("honest request");
    let started_at = driver.state.now();
    let round = Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX });

    driver.apply(user_address(HONEST), round.clone()).expect("the first round");
    invariants::check(&driver.state).expect("invariants after the bounded round");
    let first = driver.state.queue.rounds.iter().next_back().expect("a round").1.clone();
    assert_eq!(first.requests_served, ROUND_REQUESTS_MAX, "the round's cost is bounded");
    assert!(first.stopped_at_bound(), "it stopped at the bound with liquidity left");
    assert!(driver.state.queue.requests.get(&honest).is_some_and(|r| r.is_active()));
    assert_eq!(queue::next_round_earliest_at(&driver.state), started_at, "no interval");

    driver.apply(user_address(HONEST), round.clone()).expect("the continuation round");
    invariants::check(&driver.state).expect("invariants after the continuation");
    let honest_request = driver.state.queue.requests.get(&honest).expect("owed its USDai");
    assert!(!honest_request.is_active(), "served at the same timestamp as the flood");
    assert_eq!(honest_request.claimable, whole(100));
    assert_eq!(driver.state.now(), started_at);
    let rejected = driver.apply(user_address(HONEST), round);
    assert_eq!(rejected, Err(TxError::from(QueueError::RoundIntervalNotElapsed)));
    // Each flood request is owed one USDai for its one share: nothing more.
    for id in 0..per_flooder * FLOODERS {
        let request = driver.state.queue.requests.get(&RequestId(id)).expect("served, unclaimed");
        assert_eq!(request.claimable, whole(1), "request {id}");
    }
}

/// Attack: one user fills the queues from many keys (forty accounts, each at the per-owner
/// limits: 50 active redemption requests and 4 queued deposits, 2,000 requests and 160
/// deposits in all), so that every other account's read (`GET /v1/accounts/{a}`, which the CLI
/// and the dashboard's account page call) walks the whole queue and slows down for everyone:
/// the queues are bounded per owner, not in total. An account's requests and deposits are read
/// from the tables' owner indexes: the honest holder's read visits its own two requests and
/// one deposit, the same before and after the flood, and gives the same ids in the same order
/// as a scan of the tables.
#[test]
fn a_queue_filled_from_many_keys_leaves_another_accounts_read_visiting_only_its_own_records() {
    const KEYS: u64 = 40;
    const REQUESTS_PER_KEY: u64 = 50;
    let honest = user_address(KEYS);
    let state = funded_market(KEYS + 1, whole(2_000), |genesis| {
        genesis.params.max_active_requests = REQUESTS_PER_KEY as u32;
    });
    let mut driver = Driver::new(state);
    for user in 0..=KEYS {
        mint_and_stake(&mut driver, user, whole(100));
    }
    let request = || Action::RequestRedeem(RequestRedeem { shares: whole(1) });
    let deposit = || Action::QueueDeposit(QueueDeposit { token: USDC, amount: QUEUED_DEPOSIT_MIN });
    driver.apply(honest, request()).expect("the honest holder's first request");
    driver.apply(honest, deposit()).expect("the honest holder's deposit");
    // What the honest holder's read visits: the entries the owner indexes hold for it.
    let visited = |state: &infrafi_core::State| {
        (queue::requests_of(state, honest).len(), reserve::queued_deposits_of(state, honest).len())
    };
    assert_eq!(visited(&driver.state), (1, 1));

    for n in 0..KEYS * REQUESTS_PER_KEY {
        driver.apply(user_address(n % KEYS), request()).expect("flood request");
    }
    for n in 0..KEYS * QUEUED_DEPOSITS_PER_OWNER_MAX as u64 {
        driver.apply(user_address(n % KEYS), deposit()).expect("flood deposit");
    }
    driver.apply(honest, request()).expect("the honest holder's second request");
    invariants::check(&driver.state).expect("invariants after the flood");
    let flood_request = driver.apply(user_address(0), request());
    assert_eq!(flood_request, Err(TxError::from(QueueError::ActiveRequestsLimitReached)));

    let state = &driver.state;
    assert_eq!(state.queue.requests.len() as u64, KEYS * REQUESTS_PER_KEY + 2);
    assert_eq!(state.reserve.queued_deposits.len() as u64, KEYS * 4 + 1);
    assert_eq!(visited(state), (2, 1), "the read visits the holder's own records only");
    let scanned: Vec<RequestId> =
        state.queue.requests.iter().filter(|(_, r)| r.owner == honest).map(|(id, _)| *id).collect();
    let first = RequestId(0);
    let last = RequestId(KEYS * REQUESTS_PER_KEY + 1);
    assert_eq!(scanned, vec![first, last]);
    assert_eq!(queue::requests_of(state, honest).collect::<Vec<_>>(), scanned);
    let deposits: Vec<u64> = state
        .reserve
        .queued_deposits
        .iter()
        .filter(|(_, d)| d.owner == honest)
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(reserve::queued_deposits_of(state, honest).collect::<Vec<_>>(), deposits);
}
