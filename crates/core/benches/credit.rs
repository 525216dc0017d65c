//! Credit benchmarks: repayments per second with 10,000 active loans, a keeper's full re-mark
//! of 10,000 loans (criterion reports the time per loan as element throughput), and the block
//! invariants the node checks after every block (`invariants::check_block`, which walks the
//! open loans) with 10,000 open.
#![allow(missing_docs, clippy::unwrap_used)]
// A benchmark measures wall time; the ban on clocks is for state transitions.
#![allow(clippy::disallowed_methods)]

#[path = "../tests/credit_common/mod.rs"]
mod credit_common;

use credit_common::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use infrafi_core::{
    Action, Address, Amount, BlockContext, Event, LoanId, ReceiptId, Transaction, TxError,
    action::{
        AcceptLoan, AttachPolicy, IssueReceipt, PostValuation, ProposeLoan, RemarkLoans, RepayLoan,
    },
    ids::B256,
    loans::REMARK_BATCH_MAX,
};
use std::time::{Duration, Instant};

const LOANS: usize = 10_000;

/// Applies `action` in the market's current block, as the node applies a block's
/// transactions: without the test fixture's state hash and invariant check around each one
/// (which would be most of what is timed).
fn apply(market: &mut Market, sender: Address, action: Action) -> Result<Vec<Event>, TxError> {
    let block = BlockContext { height: market.state.height(), timestamp: market.now() };
    infrafi_core::apply(&mut market.state, &block, &Transaction { sender, action })
}

fn must(market: &mut Market, sender: Address, action: Action) {
    let name = action.name();
    if let Err(error) = apply(market, sender, action) {
        panic!("{name}: {error}");
    }
}

/// A market with `LOANS` active loans of $5,500 (5,000 senior, 500 junior) in one silo.
fn market_with_loans() -> Market {
    let mut market = Market::new(60_000_000);
    let silo = market.open_silo_of(CURATOR, whole(10_000_000), whole(1_000_000_000));
    let expires_at = market.now() + 3 * 365 * DAY;
    for index in 0..LOANS {
        let receipt = ReceiptId(*market.state.receipts.next_receipt_id.get());
        let class = h100();
        must(
            &mut market,
            CUSTODIAN,
            Action::IssueReceipt(IssueReceipt {
                class,
                owner: BORROWER,
                description: gpu_receipt(1),
            }),
        );
        let policy = Action::AttachPolicy(AttachPolicy {
            receipt_id: receipt,
            policy_id: B256::ZERO,
            coverage: whole(10_000),
            expires_at,
        });
        must(&mut market, INSURER, policy);
        must(
            &mut market,
            APPRAISER,
            Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(10_000) }),
        );
        let loan = LoanId(index as u64);
        let loan_terms = terms(&market, BORROWER, vec![receipt], whole(5_000), whole(500));
        must(
            &mut market,
            CURATOR,
            Action::ProposeLoan(ProposeLoan { silo_id: silo, terms: loan_terms }),
        );
        must(&mut market, BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: loan }));
    }
    assert_eq!(market.state.loans.open.len(), LOANS);
    market
}

fn repayments(c: &mut Criterion, base: &Market) {
    let mut group = c.benchmark_group("credit");
    group.throughput(Throughput::Elements(1));
    group.bench_function("repay_loan_with_10000_active_loans", |b| {
        b.iter_custom(|iters| {
            let mut market = base.clone();
            let mut elapsed = Duration::ZERO;
            let mut done = 0u64;
            for _ in 0..iters {
                // 35 on-time payments per loan keep every loan active; then start afresh.
                if done == 35 * LOANS as u64 {
                    market = base.clone();
                    done = 0;
                }
                let loan_id = LoanId(done % LOANS as u64);
                let action = Action::RepayLoan(RepayLoan { loan_id, max_amount: Amount::MAX });
                let start = Instant::now();
                let result = apply(&mut market, BORROWER, action);
                elapsed += start.elapsed();
                assert!(result.is_ok());
                done += 1;
            }
            elapsed
        })
    });
    group.finish();
}

fn remark(c: &mut Criterion, base: &Market) {
    let mut group = c.benchmark_group("credit");
    group.throughput(Throughput::Elements(LOANS as u64));
    group.sample_size(10);
    group.bench_function("remark_10000_loans", |b| {
        let mut market = base.clone();
        b.iter(|| {
            market.advance(60);
            let action = Action::RemarkLoans(RemarkLoans {
                first_loan_id: LoanId(0),
                max_loans: REMARK_BATCH_MAX,
            });
            apply(&mut market, KEEPER, action).unwrap()
        })
    });
    group.finish();
}

fn block_invariants(c: &mut Criterion, base: &Market) {
    let mut group = c.benchmark_group("credit");
    group.bench_function("block_invariants_with_10000_open_loans", |b| {
        b.iter(|| infrafi_core::invariants::check_block(std::hint::black_box(&base.state)))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let base = market_with_loans();
    repayments(c, &base);
    remark(c, &base);
    block_invariants(c, &base);
}

criterion_group! {
    name = credit;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(credit);
