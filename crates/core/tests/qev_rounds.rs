//! Worked servicing rounds of the QEV auction (SPEC 11), each with its numbers by hand.
//!
//! Three holders A, B, C (ids 0, 1, 2) each request 100 sUSDai at a share price of exactly
//! 1.0; the vault keeps `liquidity` idle and has lent out the rest in a real interest-free
//! loan (`support::Market::originate_loan`), so one round can pay exactly that. Protocol cut 10%, fee vesting 7 days.

mod support;

use infrafi_core::{
    Action, Amount, TxError,
    action::{Claim, ServiceQueue, SetBid},
    ids::{ProtocolAccount, RequestId},
    ledger::LedgerError,
    qev::{self, QevError},
    queue::QueueError,
};
use infrafi_testkit::user_address;
use support::{Market, cents, fees_charged, served, whole};

const A: u64 = 0;
const B: u64 = 1;
const C: u64 = 2;

/// A, B and C have each requested 100 shares; `liquidity` USDai is idle.
fn three_requests(liquidity: u128) -> (Market, [RequestId; 3]) {
    let mut market = Market::new(3, 100, 100, |_| {});
    if liquidity < 300 {
        // The rest is lent out (with all of it idle there is nothing to lend: no loan).
        market.originate_loan(whole(300 - liquidity));
    }
    let ids = [
        market.request(A, whole(100)),
        market.request(B, whole(100)),
        market.request(C, whole(100)),
    ];
    assert_eq!(ids, [RequestId(0), RequestId(1), RequestId(2)]);
    (market, ids)
}

#[test]
fn a_round_without_bids_is_pure_fifo_and_charges_nothing() {
    let (mut market, [a, b, c]) = three_requests(150);
    let (record, events) = market.round();
    assert_eq!(served(&events), vec![(a, whole(100), true), (b, whole(50), false)]);
    assert_eq!(record.served_assets, whole(150));
    assert_eq!(record.clearing_price_wad, 0);
    assert_eq!(record.jumpers, 0);
    assert_eq!(record.bid_fees_paid, Amount::ZERO);
    assert_eq!(record.wait_fees_distributed, Amount::ZERO);
    assert_eq!(record.protocol_cut, Amount::ZERO);
    assert!(fees_charged(&events).is_empty());
    assert_eq!(market.request_of(c).shares_remaining, whole(100));
    assert_eq!(market.protocol_usdai(ProtocolAccount::QevFeePool), Amount::ZERO);
}

#[test]
fn one_bidder_jumps_two_waiters_and_pays_the_second_highest_price() {
    let (mut market, [a, b, c]) = three_requests(100);
    market.bid(B, b, cents(1));
    market.bid(C, c, cents(5));
    assert_eq!(market.request_of(c).bid_escrow, whole(5), "5 cents x 100 shares");
    let (record, events) = market.round();
    // C is served first and alone; A and B wait. C jumped both, so it pays the highest bid
    // left unserved (B's 1 cent) on its 100 shares: 1 USDai; its other 4 USDai of escrow return.
    assert_eq!(served(&events), vec![(c, whole(100), true)]);
    assert_eq!(fees_charged(&events), vec![(c, cents(1), whole(1), whole(4))]);
    assert_eq!(record.clearing_price_wad, cents(1));
    assert_eq!(record.jumpers, 1);
    assert_eq!(record.bid_fees_paid, whole(1));
    // 10% to the protocol, 0.9 USDai to the 200 overtaken shares: 0.45 each to A and B.
    assert_eq!(record.protocol_cut, Amount(100_000_000_000_000_000));
    assert_eq!(record.wait_fees_distributed, Amount(900_000_000_000_000_000));
    assert_eq!(record.overtaken_shares, whole(200));
    for id in [a, b] {
        assert_eq!(
            qev::wait_fees_now(market.state(), id).expect("fees").earned,
            Amount(450_000_000_000_000_000)
        );
    }
    assert_eq!(market.request_of(b).bid_escrow, whole(1), "B's escrow waits for its turn");
    // C pulls its 100 USDai and its 4 USDai of unused escrow.
    let before = market.usdai(C);
    market.ok(user_address(C), Action::Claim(Claim { request_id: c }));
    assert_eq!(market.usdai(C).checked_sub(before), Ok(whole(104)));
    assert!(market.state().queue.requests.get(&c).is_none(), "a finished request is forgotten");
}

#[test]
fn a_partial_fill_pays_only_for_the_requests_it_jumped() {
    let (mut market, [a, b, c]) = three_requests(150);
    market.bid(B, b, cents(1));
    market.bid(C, c, cents(5));
    let (record, events) = market.round();
    assert_eq!(served(&events), vec![(c, whole(100), true), (b, whole(50), false)]);
    // C pays B's bid (B is left with 50 shares unserved). B jumped A, but the highest bid left
    // unserved other than its own is A's 0: B pays nothing, keeps 0.5 USDai of escrow for its
    // remaining 50 shares and gets the other 0.5 back.
    assert_eq!(
        fees_charged(&events),
        vec![(c, cents(1), whole(1), whole(4)), (b, 0, Amount::ZERO, Amount(WAD_HALF))]
    );
    assert_eq!(market.request_of(b).bid_escrow, Amount(WAD_HALF));
    assert_eq!(record.jumpers, 2);
    // The 0.9 USDai go to A's 100 and B's 50 remaining shares: 0.006 per share.
    assert_eq!(record.overtaken_shares, whole(150));
    let earned = |m: &Market, id| qev::wait_fees_now(m.state(), id).expect("fees").earned;
    assert_eq!(earned(&market, a), Amount(600_000_000_000_000_000));
    assert_eq!(earned(&market, b), Amount(300_000_000_000_000_000));
}

const WAD_HALF: u128 = 500_000_000_000_000_000;

#[test]
fn when_everyone_is_served_nobody_pays_and_every_escrow_returns() {
    let (mut market, [_, b, c]) = three_requests(300);
    market.bid(B, b, cents(1));
    market.bid(C, c, cents(5));
    let (record, events) = market.round();
    assert_eq!(served(&events).len(), 3);
    assert_eq!(record.clearing_price_wad, 0);
    assert_eq!(record.bid_fees_paid, Amount::ZERO);
    assert_eq!(record.jumpers, 0, "nobody older was left behind");
    assert_eq!(
        fees_charged(&events),
        vec![(c, 0, Amount::ZERO, whole(5)), (b, 0, Amount::ZERO, whole(1))]
    );
    assert_eq!(market.protocol_usdai(ProtocolAccount::QevFeePool), Amount::ZERO);
}

#[test]
fn equal_bids_are_served_oldest_first() {
    let (mut market, [a, b, c]) = three_requests(100);
    market.bid(C, c, cents(5));
    market.bid(B, b, cents(5));
    let (record, events) = market.round();
    assert_eq!(served(&events), vec![(b, whole(100), true)], "B is older than C");
    // B jumped A; the highest bid left is C's 5 cents, equal to B's own: B pays 5 USDai.
    assert_eq!(fees_charged(&events), vec![(b, cents(5), whole(5), Amount::ZERO)]);
    assert_eq!(record.overtaken_shares, whole(100), "only A is older than B");
    let earned = |m: &Market, id| qev::wait_fees_now(m.state(), id).expect("fees").earned;
    assert_eq!(earned(&market, a), Amount(4_500_000_000_000_000_000));
    assert_eq!(earned(&market, c), Amount::ZERO, "C was not overtaken: it is younger than B");
}

#[test]
fn a_bid_above_what_the_bidder_can_escrow_is_rejected() {
    let mut market = Market::new(2, 100, 3, |_| {});
    let id = market.request(A, whole(100));
    // 5 cents on 100 shares needs 5 USDai of escrow; A holds 3.
    let error =
        market.err(user_address(A), Action::SetBid(SetBid { request_id: id, price_wad: cents(5) }));
    assert_eq!(error, TxError::Ledger(LedgerError::BalanceInsufficient));
    market.bid(A, id, cents(3));
    assert_eq!(market.usdai(A), Amount::ZERO);
}

#[test]
fn raising_lowering_and_withdrawing_a_bid_moves_escrow_and_priority() {
    let (mut market, [a, b, _]) = three_requests(0);
    market.round(); // Activates all three into the eligible order.
    let first = |m: &Market| m.state().queue.eligible.first().map(|((_, id), _)| *id);
    assert_eq!(first(&market), Some(a));
    market.bid(B, b, cents(5));
    assert_eq!(first(&market), Some(b));
    assert_eq!(market.usdai(B), whole(95));
    market.bid(B, b, cents(2));
    assert_eq!(market.usdai(B), whole(98));
    let same = Action::SetBid(SetBid { request_id: b, price_wad: cents(2) });
    assert_eq!(market.err(user_address(B), same), TxError::Qev(QevError::BidUnchanged));
    let not_owner = Action::SetBid(SetBid { request_id: b, price_wad: cents(3) });
    assert_eq!(
        market.err(user_address(A), not_owner),
        TxError::Queue(QueueError::SenderIsNotRequestOwner)
    );
    market.bid(B, b, 0);
    assert_eq!(market.usdai(B), whole(100));
    assert_eq!(first(&market), Some(a), "without its bid B is behind A again");
}

#[test]
fn each_round_publishes_its_clearing_price_and_a_moving_average() {
    let mut market = Market::new(4, 100, 100, |_| {});
    market.originate_loan(whole(300));
    let ids: Vec<RequestId> = (0..4).map(|user| market.request(user, whole(100))).collect();
    market.bid(1, ids[1], cents(1));
    market.bid(2, ids[2], cents(5));
    market.bid(3, ids[3], cents(10));
    let (first, _) = market.round();
    assert_eq!(first.clearing_price_wad, cents(5), "request 3 served; 2's bid is highest left");
    assert_eq!(first.clearing_price_ema_wad, cents(5), "the average starts at the first price");
    market.advance(86_400);
    market.prepay_loan(whole(100));
    let (second, _) = market.round();
    assert_eq!(second.clearing_price_wad, cents(1));
    // 0.2 x 1 cent + 0.8 x 5 cents = 4.2 cents.
    assert_eq!(second.clearing_price_ema_wad, 42 * WAD / 1_000);
    assert_eq!(second.served_assets, whole(100), "the volume served is published");
}

#[test]
fn the_next_round_must_wait_the_round_interval() {
    let (mut market, _) = three_requests(0);
    market.round();
    let error =
        market.err(user_address(A), Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    assert_eq!(error, TxError::Queue(QueueError::RoundIntervalNotElapsed));
    market.advance(86_400);
    market.round();
}

const WAD: u128 = infrafi_core::WAD;
