//! Regression: a bidder served in part kept `min(left, ceil(bid x remaining))` of its escrow,
//! which after the rounding of the fee could be one unit short of what its remaining shares
//! need; when it was later served in full with the clearing price equal to its own bid, the fee
//! `ceil(bid x remaining)` exceeded the escrow and the round panicked ("escrow does not cover
//! the fee"). The benchmark found it: thousands of equal bids make that tie common.
//!
//! Fix: the escrow is kept at exactly `ceil(bid x remaining)` (an invariant now), and a fee is
//! capped at the served shares' part of the escrow, `ceil(bid x (served + remaining)) -
//! ceil(bid x remaining)`, which can be one unit below `ceil(bid x served)`.

mod support;

use infrafi_core::{Amount, WAD};
use support::{Market, fees_charged, served, whole};

#[test]
fn a_bidder_served_in_two_parts_at_its_own_bid_never_pays_beyond_its_escrow() {
    // A (no bid), B and C (1 unit per share each) request one share; 0.5 USDai arrives.
    let mut market = Market::new(3, 1, 1, |_| {});
    market.originate_loan(whole(3));
    let ids: Vec<_> = (0..3).map(|user| market.request(user, whole(1))).collect();
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    market.bid(1, b, 1);
    market.bid(2, c, 1);
    assert_eq!(market.request_of(b).bid_escrow, Amount(1), "ceil(1 x 1 share)");
    market.prepay_loan(Amount(WAD / 2));
    let (_, events) = market.round();
    assert_eq!(served(&events), vec![(b, Amount(WAD / 2), false)]);
    // B jumped A; the highest bid left other than its own is C's 1: ceil(0.5) = 1 unit, but
    // the half share served holds ceil(1) - ceil(0.5) = 0 units of escrow: B pays 0.
    assert_eq!(fees_charged(&events), vec![(b, 1, Amount::ZERO, Amount::ZERO)]);
    assert_eq!(market.request_of(b).bid_escrow, Amount(1), "still ceil(1 x 0.5 share)");
    market.advance(86_400);
    market.prepay_loan(Amount(WAD / 2));
    let (_, events) = market.round();
    assert_eq!(served(&events), vec![(b, Amount(WAD / 2), true)]);
    assert_eq!(fees_charged(&events), vec![(b, 1, Amount(1), Amount::ZERO)]);
    assert!(market.request_of(a).is_active() && market.request_of(c).is_active());
}
