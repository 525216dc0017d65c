//! The transactions issue 11's rules sit on, each timed alone through `apply` (no invariant
//! check, no state hash around it): a deposit (`stake`, priced at the optimistic NAV) and the
//! NAV read itself with 10,000 active loans, a servicing round of 1,000 requests (priced at the
//! conservative NAV), an acceptance with a backed-up queue (the queue's liquidity check), a
//! payment, a sale report that settles a defaulted loan (cost bounds, waterfall, settlement),
//! and the node's per-block invariants.
//!
//! The same source builds on older commits (the before/after figures of issue 11 in
//! docs/security.md), so it uses only what they have. Each timed call goes through its own
//! `#[inline(never)]` function (`measured_*`), so a profiler attributes it: with
//! `PATHS_ITERATIONS=N` the binary skips criterion and runs each routine N times on the same
//! set-up, for `valgrind --tool=callgrind` (instructions per call = the inclusive count of
//! `measured_*` / N; see docs/security.md).
#![allow(missing_docs, clippy::unwrap_used)]
// A benchmark measures wall time; the ban on clocks is for state transitions.
#![allow(clippy::disallowed_methods)]

#[path = "../tests/credit_common/mod.rs"]
mod credit_common;

use credit_common::*;
use criterion::{BatchSize, Criterion, Throughput};
use infrafi_core::{
    Action, Address, Amount, BlockContext, Event, LoanId, ReceiptId, State, Transaction, TxError,
    WAD,
    action::{
        AcceptLoan, AttachPolicy, ForecloseLoan, IssueReceipt, MintUsdai, PostValuation,
        ProposeLoan, RepayLoan, ReportSale, RequestRedeem, ServiceQueue, SetBid, Stake,
        TriggerDefault,
    },
    apply, begin_block,
    ids::{B256, USDC},
    loans::SaleReport,
    queue::ROUND_REQUESTS_MAX,
    vault::{self, Nav},
};
use infrafi_testkit::{funded_market, user_address};
use std::{hint::black_box, time::Duration};

/// Active loans in the credit market.
const LOANS: usize = 10_000;
/// Requests a measured round serves.
const ROUND_REQUESTS: u64 = 1_000;
/// Who reports the sales (the fixture's liquidation agent).
const SELLER: Address = LIQUIDATION_AGENT;

/// A state driven through blocks without the fixture's checks.
#[derive(Clone)]
struct Chain {
    state: State,
    block: BlockContext,
}

impl Chain {
    fn new(state: State) -> Chain {
        let block = BlockContext { height: state.height() + 1, timestamp: state.now() };
        Chain { state, block }
    }

    fn run(&mut self, sender: Address, action: Action) -> Vec<Event> {
        let name = action.name();
        match apply(&mut self.state, &self.block, &Transaction { sender, action }) {
            Ok(events) => events,
            Err(error) => panic!("{name} by {sender}: {error}"),
        }
    }

    /// A new block `secs` later, its upkeep run.
    fn advance(&mut self, secs: u64) {
        self.block =
            BlockContext { height: self.block.height + 1, timestamp: self.block.timestamp + secs };
        begin_block(&mut self.state, &self.block).unwrap();
    }
}

#[inline(never)]
fn measured_stake(chain: &mut Chain, tx: &Transaction) -> Result<Vec<Event>, TxError> {
    apply(&mut chain.state, &chain.block, tx)
}

#[inline(never)]
fn measured_nav(state: &State) -> Nav {
    vault::nav(state)
}

#[inline(never)]
fn measured_round(chain: &mut Chain, tx: &Transaction) -> Result<Vec<Event>, TxError> {
    apply(&mut chain.state, &chain.block, tx)
}

#[inline(never)]
fn measured_accept(chain: &mut Chain, tx: &Transaction) -> Result<Vec<Event>, TxError> {
    apply(&mut chain.state, &chain.block, tx)
}

#[inline(never)]
fn measured_repay(chain: &mut Chain, tx: &Transaction) -> Result<Vec<Event>, TxError> {
    apply(&mut chain.state, &chain.block, tx)
}

#[inline(never)]
fn measured_settle(chain: &mut Chain, tx: &Transaction) -> Result<Vec<Event>, TxError> {
    apply(&mut chain.state, &chain.block, tx)
}

#[inline(never)]
fn measured_block_invariants(state: &State) -> bool {
    infrafi_core::invariants::check_block(state).is_ok()
}

/// The credit market (a vault of 60,000,000 staked by the depositor) with `LOANS` active loans
/// of 5,500 (5,000 senior, 500 junior) in one silo, one more proposed and not yet accepted,
/// and the depositor's 10 requests of 1,000 sUSDai waiting in the queue.
fn credit_market() -> (Chain, LoanId) {
    let mut market = Market::new(60_000_000);
    let silo = market.open_silo_of(CURATOR, whole(10_000_000), whole(1_000_000_000));
    let mut chain = Chain::new(market.state.clone());
    let expires_at = chain.state.now() + 3 * 365 * DAY;
    for index in 0..=LOANS {
        let receipt = ReceiptId(*chain.state.receipts.next_receipt_id.get());
        let issue = IssueReceipt { class: h100(), owner: BORROWER, description: gpu_receipt(1) };
        chain.run(CUSTODIAN, Action::IssueReceipt(issue));
        let policy = AttachPolicy {
            receipt_id: receipt,
            policy_id: B256::ZERO,
            coverage: whole(10_000),
            expires_at,
        };
        chain.run(INSURER, Action::AttachPolicy(policy));
        let value = PostValuation { receipt_id: receipt, value: whole(10_000) };
        chain.run(APPRAISER, Action::PostValuation(value));
        let mut loan_terms = terms(&market, BORROWER, vec![receipt], whole(5_000), whole(500));
        loan_terms.expires_at = chain.state.now() + 7 * DAY;
        chain.run(CURATOR, Action::ProposeLoan(ProposeLoan { silo_id: silo, terms: loan_terms }));
        if index < LOANS {
            chain.run(BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: LoanId(index as u64) }));
        }
    }
    for _ in 0..10 {
        chain.run(DEPOSITOR, Action::RequestRedeem(RequestRedeem { shares: whole(1_000) }));
    }
    assert_eq!(chain.state.loans.open.len(), LOANS);
    (chain, LoanId(LOANS as u64))
}

/// The credit market with loan 0 past its grace, defaulted and foreclosed to the agent, who
/// holds the buyer's money; and the report of a sale within the class's cost model (the
/// model's 30% commission, no fixed costs) that settles it.
fn defaulted(base: &Chain) -> (Chain, Transaction) {
    let mut chain = base.clone();
    chain.advance(31 * DAY + 15 * DAY + 1);
    let loan_id = LoanId(0);
    chain.run(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id }));
    chain.run(CURATOR, Action::ForecloseLoan(ForecloseLoan { loan_id, liquidation_agent: SELLER }));
    let receipt_id = chain.state.loans.loans.get(&loan_id).unwrap().receipts[0];
    let gross_proceeds = whole(4_000);
    let report =
        SaleReport { gross_proceeds, itad_commission: whole(1_200), ..SaleReport::default() };
    let settles = chain.clone().run(SELLER, Action::ReportSale(ReportSale { receipt_id, report }));
    assert!(settles.iter().any(|e| matches!(e, Event::LoanSettled { .. })), "the sale settles");
    let sale = Transaction {
        sender: SELLER,
        action: Action::ReportSale(ReportSale { receipt_id, report }),
    };
    (chain, sale)
}

/// A vault of 1,000 holders, each with one request of one sUSDai in the queue (one in ten with
/// a bid), eligible at once, and the USDai to serve them all: the next round serves 1,000.
fn queued_market() -> Chain {
    let users = ROUND_REQUESTS;
    let state = funded_market(users, whole(10_000), |genesis| {
        genesis.params.notice_period_secs = 0;
        genesis.params.round_interval_secs = 0;
    });
    let mut chain = Chain::new(state);
    for index in 0..users {
        let user = user_address(index);
        let mint = MintUsdai { token: USDC, amount: whole(10_000), min_out: Amount::ZERO };
        chain.run(user, Action::MintUsdai(mint));
        chain.run(user, Action::Stake(Stake { assets: whole(5_000), min_shares: Amount::ZERO }));
        let request_id = infrafi_core::RequestId(chain.state.queue.globals.get().next_request_id);
        chain.run(user, Action::RequestRedeem(RequestRedeem { shares: whole(1) }));
        if index % 10 == 0 {
            let price_wad = (1 + u128::from(index % 100) / 10) * WAD / 100;
            chain.run(user, Action::SetBid(SetBid { request_id, price_wad }));
        }
    }
    chain.advance(1);
    // The set-up is right: a round now serves every request.
    let events = chain.clone().run(user_address(0), round_tx().action);
    let served = events.iter().filter(|e| matches!(e, Event::RedemptionServed { .. })).count();
    assert_eq!(served as u64, ROUND_REQUESTS, "the round serves every request");
    chain
}

fn round_tx() -> Transaction {
    let sender = user_address(0);
    Transaction {
        sender,
        action: Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }),
    }
}

fn repay_tx(done: u64) -> Transaction {
    let loan_id = LoanId(done % LOANS as u64);
    Transaction {
        sender: BORROWER,
        action: Action::RepayLoan(RepayLoan { loan_id, max_amount: Amount::MAX }),
    }
}

fn stake_tx() -> Transaction {
    let stake = Stake { assets: whole(1), min_shares: Amount::ZERO };
    Transaction { sender: DEPOSITOR, action: Action::Stake(stake) }
}

fn accept_tx(proposal: LoanId) -> Transaction {
    Transaction { sender: BORROWER, action: Action::AcceptLoan(AcceptLoan { loan_id: proposal }) }
}

fn criterion_benches(c: &mut Criterion, credit: &Chain, proposal: LoanId, queued: &Chain) {
    let mut group = c.benchmark_group("paths");
    group.throughput(Throughput::Elements(1));
    group.bench_function("stake_with_10000_loans", |b| {
        let mut chain = credit.clone();
        let tx = stake_tx();
        b.iter(|| measured_stake(&mut chain, &tx).unwrap())
    });
    group.bench_function("nav_with_10000_loans", |b| {
        b.iter(|| measured_nav(black_box(&credit.state)))
    });
    group.bench_function("accept_loan_with_10000_loans_and_a_queue", |b| {
        let tx = accept_tx(proposal);
        b.iter_batched(
            || credit.clone(),
            |mut chain| {
                measured_accept(&mut chain, &tx).unwrap();
                // Returned, so criterion drops the state after the timing.
                chain
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("repay_loan_with_10000_loans", |b| {
        let mut chain = credit.clone();
        let mut done = 0u64;
        b.iter(|| {
            // 35 on-time payments per loan keep every loan active; then start afresh.
            if done == 35 * LOANS as u64 {
                chain = credit.clone();
                done = 0;
            }
            let tx = repay_tx(done);
            done += 1;
            measured_repay(&mut chain, &tx).unwrap()
        })
    });
    let (foreclosed, sale) = defaulted(credit);
    group.bench_function("report_sale_settling_with_10000_loans", |b| {
        b.iter_batched(
            || foreclosed.clone(),
            |mut chain| {
                measured_settle(&mut chain, &sale).unwrap();
                // Returned, so criterion drops the state after the timing.
                chain
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("block_invariants_with_10000_loans", |b| {
        b.iter(|| measured_block_invariants(black_box(&credit.state)))
    });
    group.throughput(Throughput::Elements(ROUND_REQUESTS));
    group.sample_size(10);
    group.bench_function("service_queue_round_of_1000", |b| {
        let tx = round_tx();
        b.iter_batched(
            || queued.clone(),
            |mut chain| {
                measured_round(&mut chain, &tx).unwrap();
                // Returned, so criterion drops the state after the timing.
                chain
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// `PATHS_ITERATIONS=N`: each routine N times on the same set-up, for a profiler.
fn profile(iterations: u64, credit: &Chain, proposal: LoanId, queued: &Chain) {
    let mut chain = credit.clone();
    for _ in 0..iterations {
        measured_stake(&mut chain, &stake_tx()).unwrap();
        black_box(measured_nav(&credit.state));
    }
    for _ in 0..iterations {
        measured_accept(&mut credit.clone(), &accept_tx(proposal)).unwrap();
    }
    let mut chain = credit.clone();
    for done in 0..iterations {
        measured_repay(&mut chain, &repay_tx(done)).unwrap();
    }
    let (foreclosed, sale) = defaulted(credit);
    for _ in 0..iterations {
        measured_settle(&mut foreclosed.clone(), &sale).unwrap();
    }
    for _ in 0..iterations {
        black_box(measured_block_invariants(&credit.state));
    }
    for _ in 0..iterations {
        let events = measured_round(&mut queued.clone(), &round_tx()).unwrap();
        black_box(events);
    }
}

fn main() {
    let (credit, proposal) = credit_market();
    let queued = queued_market();
    if let Some(iterations) = std::env::var("PATHS_ITERATIONS").ok().and_then(|n| n.parse().ok()) {
        profile(iterations, &credit, proposal, &queued);
        return;
    }
    let mut criterion = Criterion::default()
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    criterion_benches(&mut criterion, &credit, proposal, &queued);
    criterion.final_summary();
}
