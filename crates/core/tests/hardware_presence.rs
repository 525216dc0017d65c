//! Hardware presence (issue 16, item 4): a monitor attests what it saw of a receipt's hardware;
//! a monitored class's receipt is eligible collateral only while its newest attestation is
//! fresh and saw every unit, and a loan whose monitor lapsed enters the cure window exactly as
//! one whose insurance lapsed. Worked by hand and attacked.
//!
//! The example: the GPU class is monitored with a 7-day limit (set with the default 2-day
//! governance delay); a 10-GPU receipt appraised at 300,000 secures a 120,000 senior loan; the
//! cure period is the default 14 days.

use infrafi_core::{
    Action, LoanId, ReceiptId, Role, SiloId,
    action::{GrantRole, PostPresenceAttestation, RemarkLoans, SetPresenceLimit, TriggerDefault},
    event::Event,
    governance::GovernanceError,
    ids::B256,
    loans::{LoanError, LoanStatus, MarginCallReason},
    math::Bps,
    receipts::{self, ReceiptError},
};
use infrafi_testkit::market::*;

const LIMIT_SECS: u64 = 7 * DAY;
const CURE_SECS: u64 = 14 * DAY;

/// What a monitor reports after seeing every unit of a [`gpu_receipt`] of `units` GPUs.
fn honest(receipt_id: ReceiptId, units: u32, as_of: u64) -> Action {
    let description = gpu_receipt(units);
    Action::PostPresenceAttestation(PostPresenceAttestation {
        receipt_id,
        units_seen: units,
        serials_hash: description.serials_hash,
        facility: description.facility,
        uptime_bps: Bps(9_950),
        as_of,
    })
}

fn limit(max_age_secs: u64) -> Action {
    Action::SetPresenceLimit(SetPresenceLimit { class: GPU, max_age_secs })
}

fn remark_all(market: &mut Market) -> Vec<Event> {
    market.ok(KEEPER, Action::RemarkLoans(RemarkLoans { first_loan_id: LoanId(0), max_loans: 10 }))
}

fn eligibility(market: &Market, receipt_id: ReceiptId) -> Result<(), ReceiptError> {
    let receipt = market.state.receipts.receipts.get(&receipt_id).expect("issued").clone();
    receipts::check_eligible(&market.state, &receipt, market.now()).map(|_| ())
}

/// A market whose GPU class is monitored (7 days, in force), with a silo and a 10-GPU
/// receipt of the borrower's, attested now.
fn monitored_market() -> (Market, SiloId, ReceiptId) {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000_000));
    market.stake(ALICE, whole(1_000_000));
    let silo = market.open_silo(whole(100_000), whole(1_000_000));
    market.ok(ADMIN, limit(LIMIT_SECS));
    market.advance(2 * DAY);
    let receipt = market.issue_receipt(BORROWER, 10, whole(300_000));
    market.ok(MONITOR, honest(receipt, 10, market.now()));
    (market, silo, receipt)
}

/// [`monitored_market`] with the 120,000 loan originated against the receipt.
fn monitored_loan() -> (Market, ReceiptId, LoanId) {
    let (mut market, silo, receipt) = monitored_market();
    let loan = market.originate(silo, senior_loan(receipt, whole(120_000), 0, market.now()));
    (market, receipt, loan)
}

#[test]
fn a_monitored_receipt_is_eligible_only_while_a_fresh_attestation_saw_every_unit() {
    let (mut market, _, receipt) = monitored_market();
    assert_eq!(eligibility(&market, receipt), Ok(()));
    // Seven days after the as-of time it is still fresh; one second later it is stale.
    market.advance(LIMIT_SECS);
    assert_eq!(eligibility(&market, receipt), Ok(()));
    market.advance(1);
    assert_eq!(eligibility(&market, receipt), Err(ReceiptError::ReceiptPresenceStale));
    // A monitor that saw 9 of the 10 GPUs: the hardware is not all there.
    market.ok(MONITOR, honest(receipt, 9, market.now()));
    assert_eq!(eligibility(&market, receipt), Err(ReceiptError::ReceiptHardwareNotPresent));
    // All 10, but another serial list, or another facility: not the receipt's hardware either.
    market.advance(HOUR);
    let mut other_serials = honest(receipt, 10, market.now());
    if let Action::PostPresenceAttestation(report) = &mut other_serials {
        report.serials_hash = B256::repeat_byte(0x77);
    }
    market.ok(MONITOR, other_serials);
    assert_eq!(eligibility(&market, receipt), Err(ReceiptError::ReceiptHardwareNotPresent));
    market.advance(HOUR);
    let mut elsewhere = honest(receipt, 10, market.now());
    if let Action::PostPresenceAttestation(report) = &mut elsewhere {
        report.facility = "Quincy WA DC-9".into();
    }
    market.ok(MONITOR, elsewhere);
    assert_eq!(eligibility(&market, receipt), Err(ReceiptError::ReceiptHardwareNotPresent));
    // Seen in full again: eligible.
    market.advance(HOUR);
    market.ok(MONITOR, honest(receipt, 10, market.now()));
    assert_eq!(eligibility(&market, receipt), Ok(()));
    // An unmonitored class's receipts never needed it: turning the rule off applies at once.
    market.advance(LIMIT_SECS + 1);
    assert_eq!(eligibility(&market, receipt), Err(ReceiptError::ReceiptPresenceStale));
    let events = market.ok(ADMIN, limit(0));
    let now = market.now();
    assert!(events.contains(&Event::PresenceLimitSet {
        class: GPU,
        max_age_secs: 0,
        effective_at: now
    }));
    assert_eq!(eligibility(&market, receipt), Ok(()));
}

#[test]
fn an_unattested_receipt_of_a_monitored_class_cannot_secure_a_new_loan() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000_000));
    market.stake(ALICE, whole(1_000_000));
    let silo = market.open_silo(whole(100_000), whole(1_000_000));
    market.ok(ADMIN, limit(LIMIT_SECS));
    market.advance(2 * DAY);
    let receipt = market.issue_receipt(BORROWER, 10, whole(300_000));
    let loan = market.propose(silo, senior_loan(receipt, whole(120_000), 0, market.now()));
    let accept = Action::AcceptLoan(infrafi_core::action::AcceptLoan { loan_id: loan });
    market.rejected(BORROWER, accept.clone(), ReceiptError::ReceiptPresenceStale);
    market.ok(MONITOR, honest(receipt, 10, market.now()));
    market.ok(BORROWER, accept);
    assert_eq!(market.loan(loan).status, LoanStatus::Active);
}

#[test]
fn a_borrower_who_lets_the_monitor_lapse_enters_the_cure_window_and_a_fresh_attestation_cures() {
    let (mut market, receipt, loan) = monitored_loan();
    market.advance(LIMIT_SECS + 1);
    let opened_at = market.now();
    let events = remark_all(&mut market);
    let call = market.loan(loan).margin_call.expect("a lapsed monitor opens a margin call");
    // The lapsed-insurance path: collateral ineligible, the ordinary cure period.
    assert_eq!(call.reason, MarginCallReason::CollateralIneligible);
    assert_eq!(call.cure_deadline_at, opened_at + CURE_SECS);
    assert!(events.contains(&Event::MarginCallOpened {
        loan_id: loan,
        cure_deadline_at: opened_at + CURE_SECS,
        reason: MarginCallReason::CollateralIneligible,
    }));
    assert!(market.loan(loan).is_impaired(), "impaired while the window is open");
    // The hardware is seen again: the next re-mark cures it.
    market.advance(DAY);
    market.ok(MONITOR, honest(receipt, 10, market.now()));
    let events = remark_all(&mut market);
    assert!(events.contains(&Event::MarginCallCured { loan_id: loan }));
    assert!(market.loan(loan).margin_call.is_none());
    assert!(!market.loan(loan).is_impaired());
}

#[test]
fn an_uncured_presence_lapse_lets_anyone_default_the_loan_before_any_payment_is_missed() {
    let (mut market, _, loan) = monitored_loan();
    market.advance(LIMIT_SECS + 1);
    remark_all(&mut market);
    let deadline = market.loan(loan).margin_call.expect("opened").cure_deadline_at;
    let trigger = Action::TriggerDefault(TriggerDefault { loan_id: loan });
    market.advance(deadline - market.now());
    market.rejected(KEEPER, trigger.clone(), LoanError::LoanIsNotInDefault);
    market.advance(1);
    assert!(market.now() < market.loan(loan).next_due_at, "no payment was missed");
    market.ok(KEEPER, trigger);
    assert_eq!(market.loan(loan).status, LoanStatus::Defaulted);
}

#[test]
fn attack_a_monitor_cannot_back_date_replay_or_future_date_an_attestation() {
    let (mut market, _, receipt) = monitored_market();
    let first = market.now();
    market.advance(3 * DAY);
    // The hardware vanished; a compromised monitor wants to keep the receipt eligible.
    // Replaying the newest attestation, or one older than it, is refused...
    market.rejected(
        MONITOR,
        honest(receipt, 10, first),
        ReceiptError::PresenceAttestationIsNotNewer,
    );
    market.rejected(
        MONITOR,
        honest(receipt, 10, first - 1),
        ReceiptError::PresenceAttestationIsNotNewer,
    );
    // ...and so is one dated ahead to last longer.
    let ahead = market.now() + LIMIT_SECS;
    market.rejected(MONITOR, honest(receipt, 10, ahead), ReceiptError::PresenceAsOfIsInTheFuture);
    // Back-dating within the allowed range only ages it: the age counts from the as-of time.
    market.ok(MONITOR, honest(receipt, 10, first + 1));
    market.advance(first + 1 + LIMIT_SECS + 1 - market.now());
    assert!(market.now() < first + 3 * DAY + LIMIT_SECS, "stale 3 days before one dated now");
    assert_eq!(eligibility(&market, receipt), Err(ReceiptError::ReceiptPresenceStale));
    // A report that the hardware is gone cannot be overwritten by an older, better one.
    market.ok(MONITOR, honest(receipt, 0, market.now()));
    assert_eq!(eligibility(&market, receipt), Err(ReceiptError::ReceiptHardwareNotPresent));
    let earlier = market.now() - 1;
    market.rejected(
        MONITOR,
        honest(receipt, 10, earlier),
        ReceiptError::PresenceAttestationIsNotNewer,
    );
    assert_eq!(eligibility(&market, receipt), Err(ReceiptError::ReceiptHardwareNotPresent));
}

#[test]
fn attack_a_borrower_holding_the_monitor_role_cannot_attest_its_own_hardware() {
    let (mut market, receipt, _) = monitored_loan();
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Monitor, account: BORROWER }));
    market.advance(LIMIT_SECS);
    market.rejected(
        BORROWER,
        honest(receipt, 10, market.now()),
        ReceiptError::MonitorMustNotBeReceiptOwner,
    );
    // Someone without the role cannot attest at all.
    market.rejected(ALICE, honest(receipt, 10, market.now()), GovernanceError::SenderLacksRole);
}

#[test]
fn attack_an_admin_cannot_make_collateral_ineligible_without_the_governance_delay() {
    let (mut market, receipt, loan) = monitored_loan();
    market.ok(ADMIN, limit(0));
    // Monitoring back on, and at once a 1-hour limit: both wait two days.
    let set_at = market.now();
    let events = market.ok(ADMIN, limit(HOUR));
    assert!(events.contains(&Event::PresenceLimitSet {
        class: GPU,
        max_age_secs: HOUR,
        effective_at: set_at + 2 * DAY
    }));
    market.advance(2 * DAY - 1);
    remark_all(&mut market);
    assert!(market.loan(loan).margin_call.is_none(), "not before the delay");
    assert_eq!(eligibility(&market, receipt), Ok(()));
    // The borrower had two days to have its hardware seen; it did not.
    market.advance(1);
    assert_eq!(eligibility(&market, receipt), Err(ReceiptError::ReceiptPresenceStale));
    // A limit outside 1 hour to 365 days is refused.
    market.rejected(ADMIN, limit(HOUR - 1), ReceiptError::PresenceLimitOutOfRange);
    market.rejected(ADMIN, limit(366 * DAY), ReceiptError::PresenceLimitOutOfRange);
}
