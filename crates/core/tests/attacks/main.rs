//! The attack suite (issue 11): one module per attack class, one named test per attack. Each
//! test states the attack in its doc comment, runs it through ordinary transactions (every
//! SPEC 14 invariant checked after each one, a rejection leaving the state hash unchanged),
//! and asserts that the attacker gains nothing and that nobody else loses, or loses at most
//! rounding units. `docs/security.md` lists each attack, the rule that stops it and its test.

#[path = "../support/mod.rs"]
mod support;

use support::common;

mod adversary;
mod book_flood;
mod casualty;
mod deposit_price;
mod donation;
mod flood;
mod known_default;
mod liquidation;
mod listings;
mod origination;
mod queue_head;
mod rounds;
mod sealed_bids;
mod self_lending;
mod stake_timing;
mod succession;
mod wait_fees;
