//! Tradable queue positions (SPEC 11): a request can be given, listed, bought and delisted; it
//! moves with its place, bid, escrow, claims and wait-fees; a listed request cannot be
//! cancelled, re-bid, given away or claimed by the seller.

mod support;

use infrafi_core::{
    Action, Amount, TxError,
    action::{
        BuyRequest, CancelRedeem, Claim, DelistRequest, Freeze, ListRequest, SetBid,
        TransferRequest,
    },
    ids::RequestId,
    ledger::LedgerError,
    qev::{self, QevError},
    queue::QueueError,
};
use infrafi_testkit::market::DAY;
use infrafi_testkit::user_address;
use support::{Market, cents, whole};

const A: u64 = 0;
const B: u64 = 1;
const C: u64 = 2;
const D: u64 = 3;
const CREDIT: Amount = Amount(450_000_000_000_000_000);

/// A and B (1 cent) were overtaken by C (5 cents) at T and earned 0.45 USDai each.
fn overtaken() -> (Market, [RequestId; 3]) {
    let mut market = Market::new(4, 100, 100, |_| {});
    market.originate_loan(whole(400));
    let ids = [
        market.request(A, whole(100)),
        market.request(B, whole(100)),
        market.request(C, whole(100)),
    ];
    market.bid(B, ids[1], cents(1));
    market.bid(C, ids[2], cents(5));
    market.prepay_loan(whole(100));
    market.round();
    (market, ids)
}

fn active(market: &Market, user: u64) -> u32 {
    market.state().queue.active_by_owner.get(&user_address(user)).copied().unwrap_or(0)
}

fn claim(market: &mut Market, user: u64, id: RequestId) -> Amount {
    let before = market.usdai(user);
    market.ok(user_address(user), Action::Claim(Claim { request_id: id }));
    market.usdai(user).checked_sub(before).expect("a claim pays")
}

#[test]
fn a_transferred_request_takes_its_place_bid_escrow_and_wait_fees_with_it() {
    let (mut market, [a, b, _]) = overtaken();
    market.ok(
        user_address(A),
        Action::TransferRequest(TransferRequest { request_id: a, to: user_address(D) }),
    );
    market.ok(
        user_address(B),
        Action::TransferRequest(TransferRequest { request_id: b, to: user_address(D) }),
    );
    assert_eq!((active(&market, A), active(&market, B), active(&market, D)), (0, 0, 2));
    let request = market.request_of(b);
    assert_eq!(
        (request.owner, request.bid_price_wad, request.bid_escrow),
        (user_address(D), cents(1), whole(1))
    );
    let not_owner = market.err(user_address(A), Action::Claim(Claim { request_id: a }));
    assert_eq!(not_owner, TxError::Queue(QueueError::SenderIsNotRequestOwner));
    market.advance(7 * DAY);
    assert_eq!(claim(&mut market, D, a), CREDIT, "the wait-fees follow the position");
    // D's new request B is served next (its bid puts it ahead of A); D pulls the USDai and the
    // released escrow that came with it.
    market.prepay_loan(whole(100));
    market.round();
    assert_eq!(claim(&mut market, D, b), whole(101).checked_add(CREDIT).expect("fits"));
    let to_self = Action::TransferRequest(TransferRequest { request_id: a, to: user_address(D) });
    assert_eq!(
        market.err(user_address(D), to_self),
        TxError::Ledger(LedgerError::RecipientMustNotBeSender)
    );
}

#[test]
fn a_listed_request_is_bought_atomically_with_everything_in_it() {
    let (mut market, [a, _, _]) = overtaken();
    market
        .ok(user_address(A), Action::ListRequest(ListRequest { request_id: a, price: whole(99) }));
    market
        .ok(user_address(A), Action::ListRequest(ListRequest { request_id: a, price: whole(50) }));
    for blocked in [
        Action::CancelRedeem(CancelRedeem { request_id: a }),
        Action::SetBid(SetBid { request_id: a, price_wad: cents(1) }),
        Action::Claim(Claim { request_id: a }),
        Action::TransferRequest(TransferRequest { request_id: a, to: user_address(D) }),
    ] {
        assert_eq!(market.err(user_address(A), blocked), TxError::Qev(QevError::RequestIsListed));
    }
    let too_dear = Action::BuyRequest(BuyRequest {
        request_id: a,
        max_price: whole(49),
        min_value: Amount::ZERO,
    });
    assert_eq!(
        market.err(user_address(D), too_dear),
        TxError::Qev(QevError::ListingPriceAboveMaximum)
    );
    let own = Action::BuyRequest(BuyRequest {
        request_id: a,
        max_price: whole(50),
        min_value: Amount::ZERO,
    });
    assert_eq!(market.err(user_address(A), own), TxError::Qev(QevError::BuyerMustNotBeOwner));
    let (seller_before, buyer_before) = (market.usdai(A), market.usdai(D));
    market.ok(
        user_address(D),
        Action::BuyRequest(BuyRequest {
            request_id: a,
            max_price: whole(50),
            min_value: Amount::ZERO,
        }),
    );
    assert_eq!(market.usdai(A).checked_sub(seller_before), Ok(whole(50)));
    assert_eq!(buyer_before.checked_sub(market.usdai(D)), Ok(whole(50)));
    let request = market.request_of(a);
    assert_eq!((request.owner, request.listing_price), (user_address(D), None));
    assert_eq!((active(&market, A), active(&market, D)), (0, 1));
    assert_eq!(qev::wait_fees_now(market.state(), a).expect("fees").earned, CREDIT);
    let gone = Action::BuyRequest(BuyRequest {
        request_id: a,
        max_price: whole(50),
        min_value: Amount::ZERO,
    });
    assert_eq!(market.err(user_address(B), gone), TxError::Qev(QevError::RequestIsNotListed));
    // The buyer may cancel what it bought; vested wait-fees stay claimable, the rest returns
    // to the pool.
    market.advance(7 * DAY);
    market.ok(user_address(D), Action::CancelRedeem(CancelRedeem { request_id: a }));
    assert_eq!(claim(&mut market, D, a), CREDIT);
}

#[test]
fn delisting_gives_the_seller_its_rights_back() {
    let (mut market, [a, _, _]) = overtaken();
    market
        .ok(user_address(A), Action::ListRequest(ListRequest { request_id: a, price: whole(10) }));
    let stranger =
        market.err(user_address(B), Action::DelistRequest(DelistRequest { request_id: a }));
    assert_eq!(stranger, TxError::Queue(QueueError::SenderIsNotRequestOwner));
    market.ok(user_address(A), Action::DelistRequest(DelistRequest { request_id: a }));
    let again = market.err(user_address(A), Action::DelistRequest(DelistRequest { request_id: a }));
    assert_eq!(again, TxError::Qev(QevError::RequestIsNotListed));
    let zero = market.err(
        user_address(A),
        Action::ListRequest(ListRequest { request_id: a, price: Amount::ZERO }),
    );
    assert_eq!(zero, TxError::Ledger(LedgerError::AmountMustNotBeZero));
    market.ok(user_address(A), Action::CancelRedeem(CancelRedeem { request_id: a }));
}

#[test]
fn a_served_request_can_be_sold_for_what_it_is_owed() {
    let (mut market, [_, _, c]) = overtaken();
    market
        .ok(user_address(C), Action::ListRequest(ListRequest { request_id: c, price: whole(100) }));
    market.ok(
        user_address(D),
        Action::BuyRequest(BuyRequest {
            request_id: c,
            max_price: whole(100),
            min_value: Amount::ZERO,
        }),
    );
    assert_eq!(active(&market, D), 0, "a served request is not an active one");
    assert_eq!(claim(&mut market, D, c), whole(104), "100 served plus 4 of unused escrow");
}

#[test]
fn limits_and_freezes_apply_to_the_new_owner() {
    let mut market = Market::new(4, 100, 100, |params| params.max_active_requests = 1);
    let a = market.request(A, whole(50));
    market.request(D, whole(50));
    let full = Action::TransferRequest(TransferRequest { request_id: a, to: user_address(D) });
    assert_eq!(
        market.err(user_address(A), full),
        TxError::Queue(QueueError::ActiveRequestsLimitReached)
    );
    market.ok(user_address(A), Action::ListRequest(ListRequest { request_id: a, price: whole(1) }));
    let buy = Action::BuyRequest(BuyRequest {
        request_id: a,
        max_price: whole(1),
        min_value: Amount::ZERO,
    });
    assert_eq!(
        market.err(user_address(D), buy),
        TxError::Queue(QueueError::ActiveRequestsLimitReached)
    );
    market.ok(user_address(A), Action::DelistRequest(DelistRequest { request_id: a }));
    market.ok(support::COMPLIANCE, Action::Freeze(Freeze { account: user_address(C) }));
    let frozen = Action::TransferRequest(TransferRequest { request_id: a, to: user_address(C) });
    assert_eq!(
        market.err(user_address(A), frozen),
        TxError::Ledger(LedgerError::RecipientIsFrozen)
    );
    market.ok(
        user_address(A),
        Action::TransferRequest(TransferRequest { request_id: a, to: user_address(B) }),
    );
}
