//! Estimates (SPEC 11): where a request stands, what is ahead of it, when projected liquidity
//! serves it, and the bid that would serve it in the next round.

mod support;

use infrafi_core::{
    Action, Amount, Rate, TxError, WAD,
    action::PostTbillRate,
    estimate::{self, INFLOWS_MAX},
    ids::RequestId,
    qev::QevError,
};
use infrafi_testkit::market::DAY;
use support::{Market, cents, whole};

/// A, B, D bid 0 and C bids 5 cents, 100 shares each; a round at T0 with no liquidity made
/// them all eligible. The order is C, A, B, D.
fn queue_of_four() -> (Market, [RequestId; 4]) {
    let mut market = Market::new(4, 100, 100, |_| {});
    market.originate_loan(whole(400));
    let ids: Vec<RequestId> = (0..4).map(|user| market.request(user, whole(100))).collect();
    market.bid(2, ids[2], cents(5));
    market.round();
    (market, [ids[0], ids[1], ids[2], ids[3]])
}

#[test]
fn a_request_sees_what_is_ahead_of_it_in_the_current_order() {
    let (market, [a, b, c, d]) = queue_of_four();
    let of = |id| estimate::estimate(market.state(), id, &[]).expect("estimate");
    assert_eq!((of(c).position, of(a).position, of(b).position, of(d).position), (0, 1, 2, 3));
    assert_eq!(of(d).shares_ahead, whole(300));
    assert_eq!(of(d).assets_ahead, whole(300), "at a share price of 1.0");
    assert_eq!(of(a).assets, whole(100));
    assert_eq!(of(a).next_round_at, market.now() + DAY);
    assert_eq!(of(a).service_at, None, "no liquidity is projected");
}

#[test]
fn the_service_time_is_the_first_round_once_projected_liquidity_covers_the_queue_ahead() {
    let (market, [a, _, _, d]) = queue_of_four();
    let t0 = market.now();
    let inflows = [(t0 + 40 * DAY, whole(100)), (t0 + 10 * DAY + 5, whole(150))];
    let of = |id| estimate::estimate(market.state(), id, &inflows).expect("estimate");
    // A needs C's 100 and its own 100: covered by the inflow at T0 + 40 days; the first round
    // at or after it is T0 + 40 days.
    assert_eq!(of(a).service_at, Some(t0 + 40 * DAY));
    // D needs 400; 250 ever arrive.
    assert_eq!(of(d).service_at, None);
    let more = [(t0 + 10 * DAY + 5, whole(400))];
    let d_estimate = estimate::estimate(market.state(), d, &more).expect("estimate");
    assert_eq!(d_estimate.service_at, Some(t0 + 11 * DAY), "rounds are daily from T0");
}

#[test]
fn the_bid_needed_for_the_next_round_is_just_above_the_request_it_must_pass() {
    let (market, [a, b, _, d]) = queue_of_four();
    let next = market.now() + DAY;
    let bid = |id, liquidity: u128| {
        let inflows = [(next, whole(liquidity))];
        estimate::estimate(market.state(), id, &inflows)
            .expect("estimate")
            .bid_to_serve_next_round_wad
    };
    // 100 USDai next round: only one request fits, and it must pass C (5 cents). A is older
    // than C, so matching C's bid is enough; D is younger, so it needs one unit more.
    assert_eq!(bid(a, 100), Some(cents(5)));
    assert_eq!(bid(d, 100), Some(cents(5) + 1));
    // 200 USDai: C and one more. A is next in line and needs no bid; B and D need any bid.
    assert_eq!(bid(a, 200), Some(0));
    assert_eq!(bid(b, 200), Some(1));
    assert_eq!(bid(d, 200), Some(1));
    // Less than its own size: no bid serves it in full.
    assert_eq!(bid(a, 50), None);
}

#[test]
fn waiting_requests_count_the_older_waiting_ones_ahead() {
    let mut market = Market::new(3, 100, 100, |params| params.notice_period_secs = 2 * DAY);
    let a = market.request(0, whole(60));
    market.advance(3_600);
    let b = market.request(1, whole(40));
    let estimate = estimate::estimate(market.state(), b, &[]).expect("estimate");
    assert!(!estimate.is_eligible);
    assert_eq!((estimate.position, estimate.shares_ahead), (1, whole(60)));
    assert_eq!(estimate.bid_to_serve_next_round_wad, None, "not eligible by the next round");
    let a_estimate = estimate::estimate(market.state(), a, &[]).expect("estimate");
    assert_eq!(a_estimate.position, 0);
    assert_eq!(a_estimate.service_at, Some(a_estimate.eligible_at), "idle USDai covers it");
}

#[test]
fn base_yield_projected_from_the_tbill_rate_feeds_the_estimate() {
    let mut market = Market::new(4, 100, 100, |_| {});
    market.ok(
        support::ORACLE,
        Action::PostTbillRate(PostTbillRate { rate: Rate::from_apr_bps(500) }),
    );
    market.originate_loan(whole(400));
    let id = market.request(0, whole(100));
    let inflows = estimate::base_yield_inflows(market.state(), 365 * DAY).expect("inflows");
    assert_eq!(inflows.len(), 365);
    // A year of 5% on the reserve, to a rounding. The reserve backs every USDai minted: the
    // users' 800 and the 40 the curator minted for its silo's first-loss pool (the minimum,
    // 10% of the 400 lent), 840 in all: 42 USDai a year.
    let year: u128 = inflows.iter().map(|(_, amount)| amount.0).sum();
    let expected = 42 * WAD;
    assert!(year <= expected && expected - year < WAD / 1_000, "{year}");
    assert_eq!(
        estimate::estimate(market.state(), id, &inflows).expect("estimate").service_at,
        None
    );
    // 100 USDai at 42 / 365 = about 0.11507 a day: 869.05 days of it, so it is all harvested
    // on day 870, vested 8 hours later; no round has run yet, so the first one can run then.
    let three_years = estimate::base_yield_inflows(market.state(), 3 * 365 * DAY).expect("inflows");
    let with = estimate::estimate(market.state(), id, &three_years).expect("estimate");
    assert_eq!(with.service_at, Some(market.now() + 870 * DAY + 8 * 3_600));
    let too_many = vec![(0u64, Amount(1)); INFLOWS_MAX + 1];
    let error = estimate::estimate(market.state(), id, &too_many).expect_err("bounded");
    assert_eq!(error, TxError::Qev(QevError::InflowsTooMany));
}
