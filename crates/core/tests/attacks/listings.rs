//! A listing changed in front of its buyer (issue 9, SPEC 11 "selling a position").
//!
//! A buyer sees a request listed, worth so much at such a price, and sends `buy_request`. The
//! seller sees the purchase coming and acts first: it lists again at a higher price, or it
//! delists, takes out what the request holds (claims the USDai it was served, lowers its bid
//! to take back the escrow) and lists the empty request again at the same price. The buyer
//! bounds both: `max_price` (`listing_price_above_maximum`) and `min_value`, the least the
//! request must be worth when bought (`position_value_below_minimum`). Either refusal leaves
//! the buyer's USDai where it was.

use crate::support::{Market, cents, whole};
use infrafi_core::{
    Action, Amount,
    action::{BuyRequest, DelistRequest, ListRequest},
    ids::RequestId,
    qev::{self, QevError},
};
use infrafi_testkit::user_address;

const SELLER: u64 = 0;
const BUYER: u64 = 1;

/// The seller's request for 100 shares (no liquidity: it waits), with a bid of 10 cents a share
/// (10 USDai in escrow), listed at 95.
fn listed_request() -> (Market, RequestId) {
    let mut market = Market::new(2, 100, 100, |_| {});
    market.originate_loan(whole(200));
    let id = market.request(SELLER, whole(100));
    market.bid(SELLER, id, cents(10));
    assert_eq!(market.request_of(id).bid_escrow, whole(10));
    let list = ListRequest { request_id: id, price: whole(95) };
    market.ok(user_address(SELLER), Action::ListRequest(list));
    (market, id)
}

/// Attack: the buyer offers the listing price of 95; the seller re-lists at 99 before the
/// purchase executes. The purchase is refused and the buyer keeps its USDai.
#[test]
fn a_seller_cannot_re_price_a_listing_in_front_of_its_buyer() {
    let (mut market, id) = listed_request();
    let buy = BuyRequest { request_id: id, max_price: whole(95), min_value: whole(110) };
    let relist = ListRequest { request_id: id, price: whole(99) };
    market.ok(user_address(SELLER), Action::ListRequest(relist));
    let refused = market.err(user_address(BUYER), Action::BuyRequest(buy));
    assert_eq!(refused, QevError::ListingPriceAboveMaximum.into());
    assert_eq!(market.usdai(BUYER), whole(100));
}

/// Attack: the buyer sees 100 shares (worth 100 at 1.0) and 10 USDai of bid escrow listed at 95,
/// and buys with `min_value` 110. The seller first delists, withdraws its bid (the 10 USDai of
/// escrow come back to it) and lists the request again at 95: the purchase is refused and the
/// buyer keeps its USDai. Bought with no bound on its worth, the same request would have cost
/// the buyer 95 for what was worth 100 a moment before and 10 USDai less now.
#[test]
fn a_seller_cannot_empty_a_listed_request_in_front_of_its_buyer() {
    let (mut market, id) = listed_request();
    let worth = qev::position_value(market.state(), &market.request_of(id)).expect("value");
    assert_eq!(worth, whole(110), "what the buyer saw: 100 shares at 1.0 and 10 USDai escrowed");
    let seller = user_address(SELLER);
    market.ok(seller, Action::DelistRequest(DelistRequest { request_id: id }));
    market.bid(SELLER, id, 0);
    market.ok(seller, Action::ListRequest(ListRequest { request_id: id, price: whole(95) }));
    let emptied = qev::position_value(market.state(), &market.request_of(id)).expect("value");
    assert_eq!(emptied, whole(100));
    let buy = BuyRequest { request_id: id, max_price: whole(95), min_value: worth };
    let refused = market.err(user_address(BUYER), Action::BuyRequest(buy));
    assert_eq!(refused, QevError::PositionValueBelowMinimum.into());
    assert_eq!(market.usdai(BUYER), whole(100), "the buyer paid nothing");
    // What the bound prevents: the same purchase without it goes through on the emptied request.
    let unbounded = BuyRequest { request_id: id, max_price: whole(95), min_value: Amount::ZERO };
    market.ok(user_address(BUYER), Action::BuyRequest(unbounded));
    assert_eq!(market.usdai(BUYER), whole(5));
    assert_eq!(market.request_of(id).bid_escrow, Amount::ZERO);
}
