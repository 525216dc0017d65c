//! Regression: a servicing round that reached a request whose remaining shares were worth less
//! than one USDai unit (the price of a share unit below 1, after a senior loss) burned them for
//! nothing and then stored the finished request with nothing claimable: it could be neither
//! claimed (`nothing_to_claim`) nor cancelled (`request_already_served`), stayed in storage for
//! ever, and broke the queue invariant that finished requests are not kept. The round now drops
//! such a request, as `claim` drops one it has paid out.

use infrafi_core::action::{Claim, RequestRedeem, ServiceQueue, SetParameter};
use infrafi_core::{Action, Amount, Event, ParameterChange, queue::QueueError};
use infrafi_testkit::market::*;

#[test]
fn a_request_whose_shares_are_worth_less_than_a_unit_is_served_for_nothing_and_dropped() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    market.stake(ALICE, whole(1_000));
    // 900 lent (interest-free) against GPUs appraised at 2,000 (LTV 45%), from a silo whose
    // pool holds 128.5 (10% first-loss on 900 needs 90). The appraisal falls to 250 and a
    // re-mark puts the loan in margin call: its expected net recovery is 250 less the 30% ITAD
    // commission (75) = 175, less the 2% liquidation fee (3.5) = 171.5, which leaves
    // 900 - 171.5 = 728.5 of senior principal uncovered; the pool absorbs 128.5, so 600 of it
    // is impaired. Conservative NAV 100 + 900 - 600 = 400 over 1,000 shares, so one share unit
    // redeems for floor((400e18 + V) / (1,000e18 + V)) = 0 units.
    let silo = market.open_silo(Amount(128_500_000_000_000_000_000), whole(900));
    let receipt = market.issue_receipt(BORROWER, 1, whole(2_000));
    market.originate(silo, senior_loan(receipt, whole(900), 0, market.now()));
    market.revalue_and_remark(receipt, whole(250));
    assert_eq!(market.nav().senior_impairment, whole(600));
    assert_eq!(market.nav().conservative, whole(400));
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MinRedeemShares(Amount(1)) }),
    );
    let dust = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: Amount(1) })),
    );
    let real = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(10) })),
    );
    market.advance(7 * DAY);
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    assert!(events.contains(&Event::RedemptionServed {
        request_id: dust,
        shares: Amount(1),
        assets: Amount::ZERO,
        fully_served: true,
    }));
    assert!(market.state.queue.requests.get(&dust).is_none());
    market.rejected(ALICE, Action::Claim(Claim { request_id: dust }), QueueError::RequestNotFound);
    // The dust did not block the request behind it: 10 shares at 0.4 pay
    // floor(10e18 * (400e18 + V) / (1,000e18 - 1 + V)) = 4,000,000,000,006,000,000 units
    // (0.4, plus the virtual pair's pull towards 1.0: 10e18 * V * 0.6 / 1,000e18 = 6,000,000).
    market.ok(ALICE, Action::Claim(Claim { request_id: real }));
    let paid =
        floor_mul_div(10 * ONE.0, 400 * ONE.0 + 1_000_000_000, 1_000 * ONE.0 - 1 + 1_000_000_000);
    assert_eq!(paid, 4_000_000_000_006_000_000);
    assert_eq!(market.usdai(ALICE), Amount(paid));
}
