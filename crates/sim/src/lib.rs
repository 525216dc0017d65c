//! infrafi-sim: Monte Carlo stress tests that run the real infrafi state machine over
//! stochastic GPU market paths.
//!
//! A run starts from a [`Book`] (a scenario's synthetic book, built by applying transactions
//! to a genesis), then steps each path day by day through [`infrafi_core::apply`]: oracle
//! posts, appraisals, re-marks, repayments, margin calls, defaults, liquidations with the cost
//! model, harvests, redemption requests, servicing rounds and claims. The market models
//! ([`market`]) and the behaviour of borrowers and holders ([`path`], [`holders`]) are the only
//! floating-point code; they reach the protocol through [`convert`], which rounds each figure
//! to an exact integer amount. Paths run in parallel with rayon; each path's random streams
//! derive from `(seed, path index)` and the aggregation runs in path order, so the summary is
//! identical whatever the thread count. The models are documented in `docs/simulator.md`.

pub mod book;
pub mod chain;
pub mod charts;
pub mod convert;
pub mod data;
pub mod holders;
pub mod market;
pub mod path;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod stress;
pub mod summary;
pub mod valuation;

pub use book::Book;
pub use path::PathOutcome;
pub use scenario::{Scenario, ScenarioError};
pub use summary::Summary;

use holders::{BidPolicy, UrgentBidders};
use market::MarketModel;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a simulation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The protocol rejected a transaction the simulator expected it to accept: a gap in the
    /// simulator's model of the rules (or a protocol bug), never silently skipped.
    #[error("{action} at {at} was rejected: {error}")]
    Rejected {
        /// The action's wire name.
        action: &'static str,
        /// The block time.
        at: u64,
        /// The protocol's result code.
        error: infrafi_core::TxError,
    },
    /// The book could not be built.
    #[error("cannot build the book: {0}")]
    Book(String),
    /// An amount overflowed.
    #[error("an amount overflowed")]
    Overflow,
    /// Writing the outputs failed.
    #[error("cannot write {path}: {message}")]
    Output {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

/// A scenario ready to run: its market model and its starting book.
pub struct Simulation {
    /// The scenario.
    pub scenario: Scenario,
    /// Its market model.
    pub market: MarketModel,
    /// The starting book.
    pub book: Book,
}

impl Simulation {
    /// Builds the scenario's synthetic book.
    pub fn new(scenario: Scenario) -> Result<Simulation, SimError> {
        let book = book::build(&scenario)?;
        let market = MarketModel::new(&scenario);
        Ok(Simulation { scenario, market, book })
    }

    /// Runs the scenario's models over a given book (e.g. [`Book::from_state`] of a snapshot).
    pub fn from_book(scenario: Scenario, book: Book) -> Simulation {
        let market = MarketModel::new(&scenario);
        Simulation { scenario, market, book }
    }

    /// Runs the scenario's models over the book of a state given in its canonical encoding
    /// (`State::encode()`, e.g. a node's `GET /v1/state/export`): decodes it, checks that the
    /// bytes are the canonical encoding of what they decode to, and builds the book with
    /// [`Book::from_state`].
    pub fn from_encoded_state(scenario: Scenario, bytes: &[u8]) -> Result<Simulation, SimError> {
        let state = infrafi_core::State::decode(bytes)
            .map_err(|e| SimError::Book(format!("the state does not decode: {e}")))?;
        if state.encode() != bytes {
            return Err(SimError::Book(
                "the state is not in its canonical encoding (it re-encodes differently)".into(),
            ));
        }
        let book = Book::from_state(state, &scenario)?;
        Ok(Simulation::from_book(scenario, book))
    }

    /// Runs `paths` paths in the current rayon pool, holders bidding as the scenario's
    /// `[holders.bids]` says; `progress` counts finished paths. Outcomes come back in path
    /// order.
    pub fn run(
        &self,
        paths: u64,
        seed: u64,
        progress: Option<&AtomicU64>,
    ) -> Result<Vec<PathOutcome>, SimError> {
        let bids = UrgentBidders::new(&self.scenario.holders.bids);
        self.run_with_bids(paths, seed, progress, &bids)
    }

    /// [`Simulation::run`] with another bidding policy for the holders.
    pub fn run_with_bids(
        &self,
        paths: u64,
        seed: u64,
        progress: Option<&AtomicU64>,
        bids: &dyn BidPolicy,
    ) -> Result<Vec<PathOutcome>, SimError> {
        let model =
            path::Model { scenario: &self.scenario, market: &self.market, book: &self.book, bids };
        (0..paths)
            .into_par_iter()
            .map(|index| {
                let outcome = path::run_path(&model, seed, index);
                if let Some(counter) = progress {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                outcome
            })
            .collect()
    }

    /// Runs the paths with the given indices (their outcomes are those of the same indices
    /// in a full run), in the order given.
    pub fn run_paths(
        &self,
        indices: &[u64],
        seed: u64,
        progress: Option<&AtomicU64>,
    ) -> Result<Vec<PathOutcome>, SimError> {
        let bids = UrgentBidders::new(&self.scenario.holders.bids);
        let model = path::Model {
            scenario: &self.scenario,
            market: &self.market,
            book: &self.book,
            bids: &bids,
        };
        indices
            .par_iter()
            .map(|&index| {
                let outcome = path::run_path(&model, seed, index);
                if let Some(counter) = progress {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                outcome
            })
            .collect()
    }

    /// Aggregates outcomes (in path order) into the summary.
    pub fn summarize(&self, outcomes: &[PathOutcome], seed: u64) -> Summary {
        summary::summarize(self, outcomes, seed)
    }
}
