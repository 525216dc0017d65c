//! Sealed-bid non-reveal griefing (issue 9, SPEC 11 "bids").
//!
//! A sealed bid is a commitment with a deposit, revealed in the window before a round. A
//! griefer commits a bid on its own request and never reveals it, hoping the unrevealed
//! commitment holds up the round, counts as a high bid that makes the honest bidders pay a
//! higher clearing price, or lets it take its deposit back for free. An unrevealed bid counts
//! as 0 at the round, and its deposit comes back less `unrevealed_penalty_bps`, which the fee
//! pool pays to the next requests overtaken: the griefer pays and the others see no change.

use crate::support::{Market, cents, fees_charged, served, whole};
use infrafi_core::{
    Action, Amount,
    action::{Claim, CommitSealedBid},
    ids::{B256, RequestId},
};
use infrafi_testkit::market::{DAY, HOUR};
use infrafi_testkit::user_address;

const GRIEFER: u64 = 0;
const BIDDER: u64 = 1;
const WAITER: u64 = 2;

/// What the round did and what the honest users hold after claiming.
#[derive(Debug, PartialEq)]
struct Outcome {
    served: Vec<(RequestId, Amount, bool)>,
    fees: Vec<(RequestId, u128, Amount, Amount)>,
    clearing_price_wad: u128,
    bidder_usdai: Amount,
    waiter_fees_earned: Amount,
}

/// The three users each request 100 shares with nothing lent back yet, and a first round fixes
/// the schedule; the bidder bids 2 cents. If `grief`, the griefer commits a sealed bid of
/// 10 cents with a 10 USDai deposit and never reveals it. The borrower then prepays 100 (one
/// request's worth) and the next round runs once the window has closed.
fn run(grief: bool) -> (Outcome, Market, RequestId) {
    let mut market = Market::new(3, 100, 100, |_| {});
    market.originate_loan(whole(300));
    let ids = [
        market.request(GRIEFER, whole(100)),
        market.request(BIDDER, whole(100)),
        market.request(WAITER, whole(100)),
    ];
    market.round();
    market.advance(HOUR);
    market.bid(BIDDER, ids[1], cents(2));
    if grief {
        let commitment = Market::commitment(ids[0], cents(10), B256::repeat_byte(7));
        let commit = CommitSealedBid { request_id: ids[0], commitment, deposit: whole(10) };
        market.ok(user_address(GRIEFER), Action::CommitSealedBid(commit));
    }
    market.advance(DAY - HOUR);
    market.prepay_loan(whole(100));
    let (record, events) = market.round();
    market.ok(user_address(BIDDER), Action::Claim(Claim { request_id: ids[1] }));
    let outcome = Outcome {
        served: served(&events),
        fees: fees_charged(&events),
        clearing_price_wad: record.clearing_price_wad,
        bidder_usdai: market.usdai(BIDDER),
        waiter_fees_earned: infrafi_core::qev::wait_fees_now(market.state(), ids[2])
            .expect("the waiter's request")
            .earned,
    };
    (outcome, market, ids[0])
}

/// Attack: the griefer commits a 10-cent sealed bid (deposit 10 USDai) and never reveals it.
/// The round serves the same request, at the same clearing price, with the same fees and the
/// same wait-fees as when it commits nothing: the unrevealed bid counts as 0 and holds nothing
/// up. The griefer gets 9 of its 10 USDai back; the 1 USDai penalty waits in the fee pool for
/// the next requests overtaken.
#[test]
fn an_unrevealed_sealed_bid_changes_nothing_for_others_and_costs_the_griefer_its_penalty() {
    let (honest, _, _) = run(false);
    let (griefed, mut market, request) = run(true);
    assert_eq!(griefed, honest, "the round and the honest users are exactly as without it");
    assert_eq!(honest.served.len(), 1);
    let griefer_before = market.usdai(GRIEFER);
    assert_eq!(griefer_before, whole(90), "the deposit left the griefer's balance");
    market.ok(user_address(GRIEFER), Action::Claim(Claim { request_id: request }));
    assert_eq!(market.usdai(GRIEFER), whole(99), "the deposit less the 10% penalty");
    assert_eq!(market.state().queue.qev.get().pool_undistributed, whole(1));
}
