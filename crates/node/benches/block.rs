//! The node's CPU per transaction outside signature recovery, phase by phase, in one process:
//! what the single node's producer and admission do with a block of transfers while as many
//! more wait (`bench-node`'s steady state: a block takes what is ready, and what arrives while
//! it executes and commits waits for the next).
//!
//! A cycle per block: take the ready transactions (`take_ready`: the block's worth that
//! waited), admit a block's worth of new ones to the pool (the mempool's admission: nonce,
//! standing and the dry run on the pending state; their signatures were checked in the set-up,
//! as the node checks them before taking the pool's lock), store them in the journal with the
//! previous block's transactions forgotten (the journal thread's durable write), execute the
//! block (transactions, invariants, state root, transactions and receipts roots), commit it to
//! the store (one durable write), and bring the pool's pending state to the new head
//! (`on_commit`: what still waits is applied again).
//!
//! Each phase runs through its own `#[inline(never)]` function (`measured_*`), so a profiler
//! attributes it: with `BLOCK_ITERATIONS=N` the binary skips criterion, runs N cycles and prints
//! the state root after them (the same on every build that keeps results), for
//! `valgrind --tool=callgrind` (instructions per transaction = the inclusive count of a
//! `measured_*` / (N x `BLOCK_TXS`)). `BLOCK_TXS` (default 1,000) and `BLOCK_SENDERS` (default
//! 1,000) size it. Without them criterion times whole cycles.
#![allow(missing_docs, clippy::unwrap_used)]
// A benchmark measures wall time; the ban on clocks is for state transitions.
#![allow(clippy::disallowed_methods)]

use alloy_primitives::B256;
use criterion::{Criterion, Throughput};
use infrafi_core::{Action, Amount, Asset, Genesis, action::Transfer, ids::USDC};
use infrafi_node::{Chain, ExecutedBlock, Mempool, Proposal, Snapshot, journal};
use infrafi_store::{Journal, Store};
use infrafi_tx::{SealedTransaction, SigningKey};
use std::{
    collections::HashMap,
    hint::black_box,
    sync::Arc,
    time::{Duration, Instant},
};

/// The node's allocator (the `infrafi` binary's, under its byte counter).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CHAIN: u64 = 7;
const GENESIS_TIME: u64 = 1_700_000_000;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A node's producer and pool over a store in a temporary directory, with a supply of verified
/// transfers: sender `i % senders` sends its next nonce to the next sender, as `bench-node` does.
struct Producer {
    chain: Chain,
    mempool: Mempool,
    journal: Journal,
    senders: Vec<SigningKey>,
    next: usize,
    block_txs: usize,
    timestamp: u64,
    forget: Vec<[u8; 32]>,
    /// The journal writer's sequence of each stored hash (`node::journal`).
    stored: HashMap<[u8; 32], u64>,
    _dir: tempfile::TempDir,
}

impl Producer {
    fn new(block_txs: usize, sender_count: usize) -> Producer {
        let senders: Vec<SigningKey> = (0..sender_count)
            .map(|i| SigningKey::from_seed(&format!("bench/sender/{i}")))
            .collect();
        let mut genesis =
            Genesis::with_admin(SigningKey::from_seed("bench/admin").address(), GENESIS_TIME);
        genesis.stablecoin_balances =
            senders.iter().map(|k| (k.address(), USDC, Amount::from_whole(1_000_000))).collect();
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let chain = Chain::open(store, CHAIN, Some(&genesis)).unwrap();
        let mempool = Mempool::new(1_000_000, chain.committed(), None);
        let journal = Journal::open(&dir.path().join("journal")).unwrap();
        let mut producer = Producer {
            chain,
            mempool,
            journal,
            senders,
            next: 0,
            block_txs,
            timestamp: GENESIS_TIME,
            forget: Vec::new(),
            stored: HashMap::new(),
            _dir: dir,
        };
        // The steady state: a block's worth waits when the cycle starts.
        let waiting = producer.sign(block_txs);
        let entries = admit(&mut producer.mempool, waiting, producer.timestamp);
        producer.stored.extend(entries.iter().map(|entry| (entry.hash, entry.sequence)));
        producer.journal.write(&entries, &[]).unwrap();
        producer
    }

    /// The next `count` transfers, signed and checked (outside any measure).
    fn sign(&mut self, count: usize) -> Vec<SealedTransaction> {
        let n = self.senders.len();
        (self.next..self.next + count)
            .map(|i| {
                let action = Action::Transfer(Transfer {
                    asset: Asset::Stablecoin(USDC),
                    to: self.senders[(i + 1) % n].address(),
                    amount: Amount(1),
                });
                let signed = self.senders[i % n].sign(CHAIN, (i / n) as u64, &action);
                let sealed = signed.verify(CHAIN).unwrap();
                self.next += 1;
                sealed
            })
            .collect()
    }

    /// One block: admit and journal a block's worth, then take, execute and commit what is
    /// ready and bring the pool forward. Returns the time spent outside signing.
    fn cycle(&mut self) -> Duration {
        let arriving = self.sign(self.block_txs);
        let started = Instant::now();
        self.timestamp += 1;
        let proposal = measured_propose(&self.chain, &mut self.mempool, self.timestamp, usize::MAX);
        assert_eq!(proposal.transactions.len(), self.block_txs, "a block takes what waited");
        // What arrives while the block executes waits for the next one.
        let entries = measured_admit(&mut self.mempool, arriving, self.timestamp);
        let forget = std::mem::take(&mut self.forget);
        measured_journal(&self.journal, &mut self.stored, &entries, &forget);
        let executed = measured_execute(&self.chain, proposal);
        assert!(executed.receipts.iter().all(|r| r.error.is_none()), "every transfer applies");
        self.forget = executed.receipts.iter().map(|r| r.tx_hash.0).collect();
        let snapshot = measured_commit(&mut self.chain, executed);
        measured_on_commit(&mut self.mempool, snapshot, self.timestamp);
        assert_eq!(self.mempool.len(), self.block_txs, "a block's worth waits again");
        started.elapsed()
    }
}

#[inline(never)]
fn measured_admit(
    mempool: &mut Mempool,
    arriving: Vec<SealedTransaction>,
    now: u64,
) -> Vec<journal::JournalEntry> {
    admit(mempool, arriving, now)
}

/// Admits `arriving` to the pool and encodes their journal entries, as `Node::submit_batch`
/// does once their signatures are checked.
fn admit(
    mempool: &mut Mempool,
    arriving: Vec<SealedTransaction>,
    now: u64,
) -> Vec<journal::JournalEntry> {
    let mut entries = Vec::with_capacity(arriving.len());
    for tx in arriving {
        let hash = mempool.admit(tx, now).unwrap();
        let (sequence, tx) = mempool.arrival(&hash).unwrap();
        entries.push(journal::encode_entry(hash, sequence, &tx.signed));
    }
    entries
}

/// The journal thread's write: the sequences of the hashes to forget looked up, as its writer
/// keeps them, then one durable write.
#[inline(never)]
fn measured_journal(
    journal: &Journal,
    stored: &mut HashMap<[u8; 32], u64>,
    entries: &[journal::JournalEntry],
    forget: &[[u8; 32]],
) {
    stored.extend(entries.iter().map(|entry| (entry.hash, entry.sequence)));
    let forget: Vec<u64> = forget.iter().map(|hash| stored.remove(hash).unwrap()).collect();
    journal.write(entries, &forget).unwrap();
}

#[inline(never)]
fn measured_propose(chain: &Chain, mempool: &mut Mempool, now: u64, limit: usize) -> Proposal {
    chain.propose(mempool, now, limit)
}

#[inline(never)]
fn measured_execute(chain: &Chain, proposal: Proposal) -> ExecutedBlock {
    chain.execute(proposal)
}

#[inline(never)]
fn measured_commit(chain: &mut Chain, executed: ExecutedBlock) -> Arc<Snapshot> {
    chain.commit(executed, None).unwrap()
}

#[inline(never)]
fn measured_on_commit(mempool: &mut Mempool, snapshot: Arc<Snapshot>, now: u64) {
    mempool.on_commit(snapshot, now);
}

fn root_after(producer: &Producer) -> B256 {
    producer.chain.committed().header.state_root
}

fn main() {
    let block_txs = env_or("BLOCK_TXS", 1_000);
    let senders = env_or("BLOCK_SENDERS", 1_000);
    if let Ok(iterations) = std::env::var("BLOCK_ITERATIONS") {
        let iterations: usize = iterations.parse().expect("BLOCK_ITERATIONS is a count");
        let mut producer = Producer::new(block_txs, senders);
        let mut spent = Duration::ZERO;
        for _ in 0..iterations {
            spent += producer.cycle();
        }
        let transactions = (iterations * block_txs) as f64;
        println!(
            "{iterations} blocks of {block_txs} transfers from {senders} senders: state root {}, \
             {:.1} us per transaction",
            root_after(&producer),
            spent.as_secs_f64() * 1e6 / transactions
        );
        black_box(producer);
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("block");
    group.throughput(Throughput::Elements(block_txs as u64));
    group.sample_size(10);
    group.bench_function(format!("transfers_{block_txs}_waiting_{block_txs}"), |b| {
        let mut producer = Producer::new(block_txs, senders);
        b.iter_custom(|iterations| (0..iterations).map(|_| producer.cycle()).sum())
    });
    group.finish();
    criterion.final_summary();
}
