//! Requesting redemption before a known default (issue 9).
//!
//! A holder who sees a loan miss its payment knows a loss may be coming: the loan defaults only
//! when the grace period (15 days) has passed, and only then used its impairment to reach the
//! redemption price. The notice period is 7 days: the holder requested at once, was served at
//! a price that ignored the loss, and left it to the holders who stayed. Shares in the queue
//! stay exposed until served (SPEC 6), and now a missed payment opens a margin call
//! (`payment_missed`) at the next re-mark (the keeper re-marks daily), so the loan is carried
//! impaired from then on: the early leaver takes the same loss per share as everyone else.

use crate::common::{ALICE, APPRAISER, DAVE, DAY, GpuLoan, KEEPER, Market, whole};
use infrafi_core::{
    Action, Amount,
    action::{Claim, PostValuation, RequestRedeem, ServiceQueue},
    loans::{LoanStatus, MarginCallReason},
    queue::ROUND_REQUESTS_MAX,
};

const ATTACKER: infrafi_core::Address = DAVE;
const HOLDER: infrafi_core::Address = ALICE;

/// Attack: 600,000 is lent against GPUs appraised at 860,000, later re-appraised at 760,000
/// (LTV 79%: below the 80% margin-call limit, no impairment while it pays). The payment is
/// missed; the attacker (300,000 of the vault's 1,000,000) requests its whole balance the
/// second after the deadline. The keeper's re-mark opens a `payment_missed` margin call and the
/// loan is impaired; the attacker is served after the notice at the impaired price, and when
/// the loan defaults the holder who stayed has lost no more per share than the attacker did.
#[test]
fn a_holder_who_sees_a_missed_payment_cannot_leave_before_the_loss_reaches_the_price() {
    let (mut market, silo) = Market::builder()
        .staked(HOLDER, whole(700_000))
        .staked(ATTACKER, whole(300_000))
        .with_silo(whole(60_000), whole(1_000_000));
    let (loan, receipt) = market.lend(
        silo,
        GpuLoan { units: 29, appraisal: whole(860_000), senior: whole(600_000), apr_bps: 1_000 },
    );
    let deadline = market.loan(loan).next_due_at;
    market.advance(deadline - DAY - market.now());
    let valuation = PostValuation { receipt_id: receipt, value: whole(760_000) };
    market.ok(APPRAISER, Action::PostValuation(valuation));
    market.remark_loans();
    assert_eq!(market.loan(loan).margin_call, None, "LTV 79%: no margin call while it pays");
    assert_eq!(market.nav().senior_impairment, Amount::ZERO);

    // The payment is missed; the attacker asks to leave at once.
    market.advance(DAY + 1);
    let shares = market.susdai(ATTACKER);
    let request =
        Market::request_id(&market.ok(ATTACKER, Action::RequestRedeem(RequestRedeem { shares })));
    market.remark_loans();
    let call = market.loan(loan).margin_call.expect("the missed payment opened a window");
    assert_eq!(call.reason, MarginCallReason::PaymentMissed);
    assert_eq!(call.cure_deadline_at, deadline + 15 * DAY, "the grace period is the window");
    let impairment = market.nav().senior_impairment;
    assert!(impairment > Amount::ZERO, "the likely loss reaches the redemption price now");

    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }));
    let before = market.usdai(ATTACKER);
    market.ok(ATTACKER, Action::Claim(Claim { request_id: request }));
    let paid = market.usdai(ATTACKER).checked_sub(before).expect("paid");
    assert!(paid < whole(300_000), "the attacker took its share of the loss: {paid:?}");

    // The grace period ends unpaid: the loan defaults.
    market.default_after_grace(loan);
    assert_eq!(market.loan(loan).status, LoanStatus::Defaulted);
    let nav = market.nav();
    let holder_value = nav.assets_for_redemption(market.susdai(HOLDER)).expect("value");
    // Per unit staked, the attacker got at most what the holder who stayed is worth (plus one
    // unit of rounding per whole token): leaving early escaped nothing.
    let attacker_per_stake = paid.0 * 7;
    let holder_per_stake = holder_value.0 * 3;
    assert!(
        attacker_per_stake <= holder_per_stake + 7 * 300_000,
        "attacker {paid:?} of 300,000 vs holder {holder_value:?} of 700,000"
    );
}
