//! Paid to wait (SPEC 11): a round's fees, less the protocol cut, are credited to the
//! overtaken requests pro rata to their shares and vest linearly over `fee_vesting_secs`
//! (7 days). Every amount below is exact, to the unit.

mod support;

use infrafi_core::{
    Action, Amount, TxError,
    action::{CancelRedeem, Claim},
    ids::{ProtocolAccount, RequestId},
    qev,
    queue::QueueError,
};
use infrafi_testkit::market::DAY;
use infrafi_testkit::user_address;
use support::{Market, cents, whole};

const A: u64 = 0;
const B: u64 = 1;
const C: u64 = 2;
const D: u64 = 3;

/// A (100 shares, no bid) and B (`b_shares`, 1 cent) are overtaken by C (100 shares, 5 cents),
/// served alone by a round at T with 100 USDai of liquidity.
fn overtaken(b_shares: u128) -> (Market, [RequestId; 3]) {
    let mut market = Market::new(4, 100, 100, |_| {});
    market.originate_loan(whole(400));
    let ids = [
        market.request(A, whole(100)),
        market.request(B, whole(b_shares)),
        market.request(C, whole(100)),
    ];
    market.bid(B, ids[1], cents(1));
    market.bid(C, ids[2], cents(5));
    market.prepay_loan(whole(100));
    market.round();
    (market, ids)
}

fn claim(market: &mut Market, user: u64, id: RequestId) -> Amount {
    let before = market.usdai(user);
    market.ok(user_address(user), Action::Claim(Claim { request_id: id }));
    market.usdai(user).checked_sub(before).expect("a claim pays")
}

#[test]
fn wait_fees_vest_linearly_over_seven_days_and_add_up_exactly() {
    let (mut market, [a, _, _]) = overtaken(100);
    let credit = Amount(450_000_000_000_000_000);
    let status = qev::wait_fees_now(market.state(), a).expect("fees");
    assert_eq!((status.earned, status.vested), (credit, Amount::ZERO));
    let nothing = market.err(user_address(A), Action::Claim(Claim { request_id: a }));
    assert_eq!(nothing, TxError::Queue(QueueError::NothingToClaim));
    market.advance(DAY);
    // One day of seven: 0.45 / 7, rounded down.
    assert_eq!(claim(&mut market, A, a), Amount(64_285_714_285_714_285));
    market.advance(DAY * 5 / 2);
    // Three and a half days: 0.225, less one unit of the two roundings down.
    let total = Amount(64_285_714_285_714_285).checked_add(claim(&mut market, A, a));
    assert_eq!(total, Ok(Amount(224_999_999_999_999_999)));
    market.advance(DAY * 7);
    let total = total.and_then(|sum| sum.checked_add(claim(&mut market, A, a)));
    assert_eq!(total, Ok(credit), "once vested, every unit is paid");
}

#[test]
fn fees_paid_equal_wait_fees_distributed_plus_protocol_cut_to_the_last_unit() {
    // 0.9 USDai over 177 shares does not divide: the per-share index rounds down, the pool
    // takes what that backs (rounded up), and the dust joins the protocol cut.
    let (market, [a, b, _]) = overtaken(77);
    let round = market.state().queue.rounds.get(&0).cloned().expect("round 0");
    assert_eq!(round.bid_fees_paid, Amount(1_000_000_000_000_000_000));
    assert_eq!(round.wait_fees_distributed, Amount(899_999_999_999_999_928));
    assert_eq!(round.protocol_cut, Amount(100_000_000_000_000_072));
    assert_eq!(
        round.bid_fees_paid,
        round.wait_fees_distributed.checked_add(round.protocol_cut).expect("fits")
    );
    let earned = |id| qev::wait_fees_now(market.state(), id).expect("fees").earned;
    assert_eq!(earned(a), Amount(508_474_576_271_186_400));
    assert_eq!(earned(b), Amount(391_525_423_728_813_528));
    assert_eq!(market.protocol_usdai(ProtocolAccount::FeeCollector), round.protocol_cut);
    assert_eq!(market.protocol_usdai(ProtocolAccount::QevFeePool), round.wait_fees_distributed);
}

#[test]
fn wait_fees_of_several_rounds_vest_from_their_credit_weighted_mean_time() {
    let mut market = Market::new(4, 100, 100, |_| {});
    market.originate_loan(whole(400));
    let ids: Vec<RequestId> = (0..4).map(|user| market.request(user, whole(100))).collect();
    market.bid(B, ids[1], cents(1));
    market.bid(C, ids[2], cents(5));
    market.bid(D, ids[3], cents(5));
    market.prepay_loan(whole(100));
    let (first, _) = market.round(); // C pays D's 5 cents: 4.5 USDai to A and B.
    assert_eq!(
        first.wait_fees_distributed,
        whole(4).checked_add(Amount(500_000_000_000_000_000)).expect("4.5")
    );
    market.advance(DAY);
    market.prepay_loan(whole(100));
    let (second, _) = market.round(); // D pays B's 1 cent: 0.9 USDai to A and B.
    assert_eq!(second.wait_fees_distributed, Amount(900_000_000_000_000_000));
    // A earned 2.25 at T and 0.45 at T + 1 day: they vest as 2.7 from T + 4 hours (the mean),
    // which is exactly the sum of the two linear schedules while neither has finished.
    assert_eq!(claim(&mut market, A, ids[0]), Amount(321_428_571_428_571_428));
}

#[test]
fn a_cancelled_request_keeps_its_vested_wait_fees_and_returns_the_rest_to_the_pool() {
    let (mut market, [a, b, _]) = overtaken(100);
    market.advance(DAY * 7 / 2);
    market.ok(user_address(A), Action::CancelRedeem(CancelRedeem { request_id: a }));
    let pool = market.state().queue.qev.get().pool_undistributed;
    assert_eq!(pool, Amount(225_000_000_000_000_000), "half of 0.45 had not vested");
    assert_eq!(claim(&mut market, A, a), Amount(225_000_000_000_000_000));
    assert!(market.state().queue.requests.get(&a).is_none());
    // The forfeited half is shared at the next round where someone is overtaken.
    let late = market.request(D, whole(100));
    market.bid(D, late, cents(2));
    market.advance(DAY);
    market.prepay_loan(whole(100));
    let (record, _) = market.round();
    assert_eq!(record.pool_carried_in, Amount(225_000_000_000_000_000));
    assert_eq!(record.bid_fees_paid, whole(1), "D pays B's 1 cent on 100 shares");
    // 0.9 of D's fee plus the 0.225 carried in, to B alone.
    assert_eq!(record.wait_fees_distributed, Amount(1_125_000_000_000_000_000));
    let b_earned = qev::wait_fees_now(market.state(), b).expect("fees").earned;
    assert_eq!(b_earned, Amount(1_575_000_000_000_000_000));
}

#[test]
fn a_served_request_keeps_vesting_and_is_forgotten_once_everything_is_claimed() {
    let (mut market, [a, _, _]) = overtaken(100);
    market.prepay_loan(whole(100));
    market.advance(DAY);
    let (_, _) = market.round(); // B (1 cent) is served, then A with what is left: nothing.
    market.prepay_loan(whole(100));
    market.advance(DAY);
    market.round(); // A is served in full.
    assert!(!market.request_of(a).is_active());
    let first = claim(&mut market, A, a);
    assert!(first > whole(100), "served USDai plus the vested part of the wait-fees");
    assert!(market.state().queue.requests.get(&a).is_some(), "wait-fees still vesting");
    market.advance(DAY * 7);
    let second = claim(&mut market, A, a);
    assert_eq!(
        first.checked_add(second),
        Ok(whole(100).checked_add(Amount(450_000_000_000_000_000)).expect("fits"))
    );
    assert!(market.state().queue.requests.get(&a).is_none());
}
