//! Regression: a servicing round that reached a request whose remaining shares were worth less
//! than one USDai unit (the price of a share unit below 1, after a senior loss) burned them for
//! nothing and then stored the finished request with nothing claimable: it could be neither
//! claimed (`nothing_to_claim`) nor cancelled (`request_already_served`), stayed in storage for
//! ever, and broke the queue invariant that finished requests are not kept. The round now drops
//! such a request, as `claim` drops one it has paid out.

mod common;

use common::*;
use infrafi_core::{Action, Amount, Event, ParameterChange, queue::QueueError};

#[test]
fn a_request_whose_shares_are_worth_less_than_a_unit_is_served_for_nothing_and_dropped() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    market.stake(ALICE, whole(1_000));
    // 900 lent and 600 of it impaired: conservative NAV 100 + 900 - 600 = 400 over 1,000
    // shares, so one share unit redeems for floor((400e18 + V) / (1,000e18 + V)) = 0 units.
    market.originate_senior(whole(900), 0);
    market.impair_senior(whole(600));
    market.ok(ADMIN, Action::SetParameter { change: ParameterChange::MinRedeemShares(Amount(1)) });
    let dust = Market::request_id(&market.ok(ALICE, Action::RequestRedeem { shares: Amount(1) }));
    let real = Market::request_id(&market.ok(ALICE, Action::RequestRedeem { shares: whole(10) }));
    market.advance(7 * DAY);
    let events = market.ok(KEEPER, Action::ServiceQueue { max_requests: 10 });
    assert!(events.contains(&Event::RedemptionServed {
        request_id: dust,
        shares: Amount(1),
        assets: Amount::ZERO,
        fully_served: true,
    }));
    assert!(market.state.queue.requests.get(&dust).is_none());
    market.rejected(ALICE, Action::Claim { request_id: dust }, QueueError::RequestNotFound);
    // The dust did not block the request behind it: 10 shares at 0.4 pay
    // floor(10e18 * (400e18 + V) / (1,000e18 - 1 + V)) = 4,000,000,000,006,000,000 units
    // (0.4, plus the virtual pair's pull towards 1.0: 10e18 * V * 0.6 / 1,000e18 = 6,000,000).
    market.ok(ALICE, Action::Claim { request_id: real });
    let paid =
        floor_mul_div(10 * ONE.0, 400 * ONE.0 + 1_000_000_000, 1_000 * ONE.0 - 1 + 1_000_000_000);
    assert_eq!(paid, 4_000_000_000_006_000_000);
    assert_eq!(market.usdai(ALICE), Amount(paid));
}
