//! A bank run (SPEC 11: "the redemption of sUSDai is never a bank run"): 40% of the shares ask
//! to leave within one day while 95% of the vault is lent out in a 36-month loan that repays
//! monthly. The queue drains over the months as repayments arrive; nobody is paid more than the
//! redemption price; the share price never falls, so the holders who stay are never diluted;
//! every invariant holds after every transaction.
//!
//! Until the credit component lands, the loan is modelled by `support::Market::originate_loan`
//! and `repay_loan` (USDai leaves the vault for the borrower against senior principal, and comes
//! back monthly as principal plus 1% interest).

mod support;

use infrafi_core::{
    Action, Amount, Bps, Event, WAD,
    ids::RequestId,
    math::{Rounding, mul_div},
    vault,
};
use infrafi_testkit::user_address;
use support::{Market, cents, whole};

const HOLDERS: u64 = 25;
const LEAVERS: u64 = 10; // 40% of the shares.
const REVENUE: u64 = 24; // Pays the borrower's interest out of its business.
const DAY: u64 = 86_400;
const STAKE: u128 = 10_000;

#[test]
fn a_forty_percent_run_drains_over_the_months_from_repayments_alone() {
    let mut market = Market::new(HOLDERS, STAKE, 50_000, |params| {
        params.notice_period_secs = 7 * DAY;
        params.liquidity_buffer_bps = Bps(500);
    });
    let nav = |m: &Market| vault::nav(m.state());
    let principal_total = whole(STAKE * u128::from(HOLDERS) * 95 / 100);
    market.originate_loan(principal_total);
    let initial_price = nav(&market).redemption_price_wad();
    assert_eq!(initial_price, WAD);

    // Day 0: ten holders ask for all their shares, one every two hours; two of them bid.
    let mut ids: Vec<RequestId> = Vec::new();
    for user in 0..LEAVERS {
        ids.push(market.request(user, whole(STAKE)));
        market.advance(2 * 3_600);
    }
    market.bid(8, ids[8], cents(2));
    market.bid(9, ids[9], cents(1));

    let mut outstanding = principal_total;
    let monthly_principal = Amount(principal_total.0 / 36);
    let mut last_price = initial_price;
    let mut served_shares = Amount::ZERO;
    let mut served_by_month: Vec<Amount> = Vec::new();
    let mut drained_on_day = None;
    for day in 1..=540u64 {
        market.advance(DAY);
        if day % 30 == 0 {
            // Monthly: principal plus 1% interest on what is outstanding.
            let interest = Amount(outstanding.0 / 100);
            market.ok(
                user_address(REVENUE),
                Action::Transfer {
                    asset: infrafi_core::Asset::Usdai,
                    to: support::borrower(),
                    amount: interest,
                },
            );
            market.repay_loan(monthly_principal, interest);
            outstanding = outstanding.checked_sub(monthly_principal).expect("outstanding");
            served_by_month.push(served_shares);
        }
        let price_before = nav(&market).redemption_price_wad();
        assert!(price_before >= last_price, "the share price fell on day {day}");
        last_price = price_before;
        let (record, events) = market.round();
        assert!(record.served_assets <= record.liquidity);
        let after = nav(&market);
        let numerator = after.conservative.0 + vault::VIRTUAL_ASSETS;
        let denominator = after.share_supply.0 + vault::VIRTUAL_SHARES;
        for event in &events {
            if let Event::RedemptionServed { shares, assets, .. } = event {
                let ceiling =
                    mul_div(shares.0, numerator, denominator, Rounding::Up).expect("fits");
                assert!(assets.0 <= ceiling, "paid above the redemption price on day {day}");
            }
        }
        served_shares = served_shares.checked_add(record.served_shares).expect("fits");
        if drained_on_day.is_none() && served_shares == whole(STAKE * u128::from(LEAVERS)) {
            drained_on_day = Some(day);
        }
    }
    let drained_on_day = drained_on_day.expect("the queue drained");
    // Nothing could be served before the notice period; it takes most of a year of
    // repayments, month by month: no run, a queue.
    assert!((240..=400).contains(&drained_on_day), "drained on day {drained_on_day}");
    assert!(served_by_month[0] < whole(STAKE * 2), "the first month serves little");
    assert!(served_by_month.windows(2).take(6).all(|w| w[1] > w[0]), "each month serves more");
    // The bidders left first; everyone is paid at least the price they asked at.
    assert!(market.state().queue.eligible.is_empty() && market.state().queue.waiting.is_empty());
    for (user, id) in (0..LEAVERS).zip(ids) {
        let before = market.usdai(user);
        market.ok(user_address(user), Action::Claim { request_id: id });
        let paid = market.usdai(user).checked_sub(before).expect("paid");
        assert!(paid >= whole(STAKE), "holder {user} got {paid} for {STAKE} shares");
    }
    let after = nav(&market);
    assert!(after.redemption_price_wad() >= initial_price, "the holders who stayed lost nothing");
    assert!(after.conservative > Amount::ZERO);
}
