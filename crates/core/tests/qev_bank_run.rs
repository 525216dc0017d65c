//! A bank run (SPEC 11: "the redemption of sUSDai is never a bank run"): 40% of the shares ask
//! to leave within one day while 95% of the vault is lent out in a 36-month loan that repays
//! monthly. The queue drains over the months as repayments arrive; nobody is paid more than the
//! redemption price; the share price never falls, so the holders who stay are never diluted;
//! every invariant holds after every transaction.
//!
//! The loan is real: the curator's silo lends 95% of the vault to the borrower against an
//! insured, appraised GPU receipt (`support::Market::originate_with`), amortizing over 36
//! payments 30 days apart at 12% a year, and the borrower makes each payment with `RepayLoan`
//! on time, the interest part funded out of its business (a transfer from user 24).

mod support;

use infrafi_core::{
    Action, Amount, Bps, Event, Rate, WAD,
    action::{Claim, RepayLoan, Transfer},
    ids::RequestId,
    loans::{self, LoanStatus, LoanTerms, TrancheTerms},
    math::{Rounding, mul_div},
    schedule::InterestModel,
    vault,
};
use infrafi_testkit::market::DAY;
use infrafi_testkit::user_address;
use support::{Market, cents, whole};

const HOLDERS: u64 = 25;
const LEAVERS: u64 = 10; // 40% of the shares.
const REVENUE: u64 = 24; // Pays the borrower's interest out of its business.
const STAKE: u128 = 10_000;

#[test]
fn a_forty_percent_run_drains_over_the_months_from_repayments_alone() {
    let mut market = Market::new(HOLDERS, STAKE, 50_000, |params| {
        params.notice_period_secs = 7 * DAY;
        params.liquidity_buffer_bps = Bps(500);
    });
    let nav = |m: &Market| vault::nav(m.state());
    let principal_total = whole(STAKE * u128::from(HOLDERS) * 95 / 100);
    let rate = Rate::from_apr_bps(1_200);
    let loan_id = market.originate_with(principal_total, |receipt_id, now| LoanTerms {
        borrower: support::BORROWER,
        receipts: vec![receipt_id],
        senior: TrancheTerms { amount: principal_total, rate },
        junior: TrancheTerms::default(),
        model: InterestModel::Amortized,
        periods: Some(36),
        interval_secs: Some(30 * DAY),
        grace_period_secs: 15 * DAY,
        grace_rate: rate,
        origination_fee_bps: Bps(0),
        exit_fee_bps: Bps(0),
        expires_at: now + 7 * DAY,
    });
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

    let mut last_price = initial_price;
    let mut served_shares = Amount::ZERO;
    let mut served_by_month: Vec<Amount> = Vec::new();
    let mut drained_on_day = None;
    let (mut payment_days, mut payments) = (Vec::new(), Vec::new());
    for day in 1..=540u64 {
        market.advance(DAY);
        let loan = market.loan();
        if loan.status == LoanStatus::Active && market.now() + DAY > loan.next_due_at {
            // The deadline falls before tomorrow: the borrower pays today, on time. The
            // interest part comes from its business; the principal part from what it borrowed.
            let due = loans::payment_due(&loan, market.now()).expect("a payment is due");
            assert_eq!((due.installments, due.grace_interest), (1, Amount::ZERO), "on time");
            market.ok(
                user_address(REVENUE),
                Action::Transfer(Transfer {
                    asset: infrafi_core::Asset::Usdai,
                    to: support::borrower(),
                    amount: due.interest,
                }),
            );
            let total = due.total().expect("fits");
            market.ok(
                support::borrower(),
                Action::RepayLoan(RepayLoan { loan_id, max_amount: total }),
            );
            served_by_month.push(served_shares);
            payment_days.push(day);
            payments.push(total);
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
    // The loan was originated at T0 and the loop's day d is T0 + 20 h + d days, so the k-th
    // deadline, T0 + 30k days, falls before the tick of day 30k and is paid on day 30k - 1.
    assert_eq!(payment_days, (1..=18).map(|k| 30 * k - 1).collect::<Vec<u64>>());
    // The level payment of an amortizing loan: x = 12% x 30 / 365 = 0.98630% a period, and
    // P = B x (1+x)^36 / ((1+x)^36 - 1) = 237,500 x 0.033136 = 7,869.76 USDai (the first one
    // 2,342.47 of interest, B x, and 5,527.30 of principal); the schedule rounds each part
    // up, so the payments differ by at most a unit.
    let (low, high) = (payments.iter().min().expect("paid"), payments.iter().max().expect("paid"));
    assert!(high.0 - low.0 <= 1 && low.0 / WAD == 7_869, "level payments: {low} to {high}");
    // How the queue drains. A round pays the vault's idle USDai above a buffer of 5% of the
    // value of the shares not in the queue (150,000 of them: 7,500). Before the first payment
    // the vault holds 12,500 idle (250,000 staked, 237,500 lent): the first round after the
    // 7-day notice serves 5,000 shares at 1.0. From then on each payment of 7,869.76 is paid
    // out to the queue in the round of the same day (the buffer barely moves). Its interest
    // part raises the redemption price (the conservative NAV counts interest once paid), so
    // each month serves fewer shares than the last: 7,724 after the first payment, 6,891 after
    // the 13th. Thirteen payments serve 94,889 shares, 111 short of the 95,000 left; the 14th,
    // on day 29 + 13 x 30 = 419, drains the queue. Nothing is served before the notice period
    // and it takes over a year of repayments, month by month: no run, a queue.
    assert_eq!(drained_on_day, 419, "drained on day {drained_on_day}");
    assert_eq!(served_by_month[0], whole(5_000), "the first month serves the idle surplus");
    assert!(served_by_month.windows(2).take(13).all(|w| w[1] > w[0]), "each month serves more");
    // The bidders left first; everyone is paid at least the price they asked at.
    assert!(market.state().queue.eligible.is_empty() && market.state().queue.waiting.is_empty());
    for (user, id) in (0..LEAVERS).zip(ids) {
        let before = market.usdai(user);
        market.ok(user_address(user), Action::Claim(Claim { request_id: id }));
        let paid = market.usdai(user).checked_sub(before).expect("paid");
        assert!(paid >= whole(STAKE), "holder {user} got {paid} for {STAKE} shares");
    }
    let after = nav(&market);
    assert!(after.redemption_price_wad() >= initial_price, "the holders who stayed lost nothing");
    assert!(after.conservative > Amount::ZERO);
}
