//! Borrower covenants (issue 16, item 3): a debt-service reserve and periodic reports, and the
//! `Breached` state a loan enters when either fails.
//!
//! A silo's curator sets the covenants its new loans carry ([`SetLoanCovenants`]): a reserve of
//! N payments and a report interval. At origination the loan copies them; the reserve's
//! requirement is N times the first scheduled payment plus their grace interest over the grace
//! period and a day (so it pays them in full whenever within grace it is drawn), funded from
//! the loan's proceeds into the
//! loan's own `ProtocolAccount::DebtServiceReserve` account (the borrower receives the rest).
//!
//! Guarantees:
//! - the reserve's book (`Loan::reserve.balance`) is the ledger balance of its account, and
//!   the account is empty once the loan is repaid (the balance goes back to the borrower) or
//!   defaulted (it is the first recovery through the waterfall);
//! - a missed payment draws on the reserve first: anyone may pay every missed payment out of
//!   it ([`DrawDebtServiceReserve`]), and a loan whose grace period lapsed cannot be defaulted
//!   while its reserve covers what is due (`missed_payment_is_covered_by_reserve`);
//! - a loan is breached exactly while its reserve is below the requirement or its borrower's
//!   report is overdue; a breach opens a cure window of `cure_period_secs`, and once the window
//!   lapses uncured the loan may be defaulted, even before its grace period ends. Funding the
//!   reserve back to its requirement and posting the overdue report cures it.

use super::{Loan, LoanError, LoanStatus, active_loan, payment, send, store};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, B256, LoanId, ProtocolAccount, SiloId},
    ledger::LedgerError,
    math::{Amount, Overflow},
    params::Role,
    schedule,
    silos::{self, SiloError},
    state::State,
};
use serde::{Deserialize, Serialize};

/// The most payments a debt-service reserve may hold.
pub const RESERVE_PERIODS_MAX: u32 = 12;
/// The shortest report interval (a day) and the longest (a year), when reports are required.
pub const REPORT_INTERVAL_SECS_MIN: u64 = 86_400;
/// The longest report interval.
pub const REPORT_INTERVAL_SECS_MAX: u64 = 365 * 86_400;

/// What a silo requires of the borrowers of its new loans.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoanCovenants {
    /// Payments the debt-service reserve holds (0: no reserve).
    pub debt_service_reserve_periods: u32,
    /// Seconds between the borrower's financial reports (0: no reports required).
    pub report_interval_secs: u64,
}

impl LoanCovenants {
    fn is_valid(&self) -> bool {
        self.debt_service_reserve_periods <= RESERVE_PERIODS_MAX
            && (self.report_interval_secs == 0
                || (REPORT_INTERVAL_SECS_MIN..=REPORT_INTERVAL_SECS_MAX)
                    .contains(&self.report_interval_secs))
    }
}

/// A loan's debt-service reserve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebtServiceReserve {
    /// What it must hold: the covenant's payments x the first scheduled payment.
    pub required: Amount,
    /// What it holds (the ledger balance of its account).
    pub balance: Amount,
    /// Paid out of it for missed payments, ever.
    pub drawn_total: Amount,
}

/// The borrower's latest periodic report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BorrowerReport {
    /// When it was posted.
    pub at: u64,
    /// The keccak-256 of the operator's financial report.
    pub document_hash: B256,
}

/// Why a loan is breached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreachReason {
    /// The debt-service reserve holds less than its requirement.
    ReserveBelowRequirement,
    /// The borrower's periodic report is overdue.
    ReportOverdue,
}

/// An open breach: the loan is `Breached` until it is cured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    /// When it opened.
    pub opened_at: u64,
    /// After this, uncured, the loan may be defaulted.
    pub cure_deadline_at: u64,
    /// Why it opened (the first reason found; both may hold).
    pub reason: BreachReason,
}

/// When the borrower's next report is due (`None` when reports are not required).
pub fn report_due_at(loan: &Loan) -> Option<u64> {
    if loan.covenants.report_interval_secs == 0 || loan.status != LoanStatus::Active {
        return None;
    }
    let since = loan.last_report.map_or(loan.originated_at, |report| report.at);
    Some(since.saturating_add(loan.covenants.report_interval_secs))
}

/// Why `loan` is in breach at `now`, if it is.
pub fn breach_reason(loan: &Loan, now: u64) -> Option<BreachReason> {
    if loan.status != LoanStatus::Active {
        return None;
    }
    if loan.reserve.balance < loan.reserve.required {
        return Some(BreachReason::ReserveBelowRequirement);
    }
    if report_due_at(loan).is_some_and(|due| now > due) {
        return Some(BreachReason::ReportOverdue);
    }
    None
}

/// Opens or cures the loan's breach to match its covenants at the state's time (a record the
/// caller stores). An open breach keeps its deadline while any reason remains.
pub(super) fn refresh_breach(state: &mut State, loan: &mut Loan) {
    let (breach, event) = plan_breach(state, loan);
    loan.breach = breach;
    if let Some(event) = event {
        state.emit(event);
    }
}

/// The breach `loan` should have now, and the event that says it changed.
pub(super) fn plan_breach(state: &State, loan: &Loan) -> (Option<Breach>, Option<Event>) {
    let now = state.now();
    match (loan.breach, breach_reason(loan, now)) {
        (None, Some(reason)) => {
            let cure_period = state.governance.params.get().cure_period_secs;
            let cure_deadline_at = now.saturating_add(cure_period);
            let breach = Breach { opened_at: now, cure_deadline_at, reason };
            (Some(breach), Some(Event::LoanBreached { loan_id: loan.id, cure_deadline_at, reason }))
        }
        (Some(_), None) => (None, Some(Event::LoanBreachCured { loan_id: loan.id })),
        (open, _) => (open, None),
    }
}

/// How long past a deadline the reserve's grace interest is provisioned for, beyond the grace
/// period: a keeper that draws late (or a default trigger checked just after grace) still finds
/// the payment covered.
pub const RESERVE_GRACE_MARGIN_SECS: u64 = 86_400;

/// The reserve requirement of a loan about to originate: the covenant's payments x its first
/// scheduled payment (the largest under both interest models), plus grace interest on them for
/// the grace period and [`RESERVE_GRACE_MARGIN_SECS`] (rounded up), so the reserve pays its
/// payments in full whenever within grace it is drawn.
pub(super) fn reserve_requirement(loan: &Loan, balance: Amount) -> Result<Amount, TxError> {
    let periods = loan.covenants.debt_service_reserve_periods;
    if periods == 0 {
        return Ok(Amount::ZERO);
    }
    let first = schedule::installment(
        loan.model,
        balance,
        loan.rate,
        loan.interval_secs,
        loan.periods_remaining,
    )?;
    let payment = first.payment()?;
    let payments = Amount(payment.0.checked_mul(u128::from(periods)).ok_or(Overflow)?);
    let late_secs = loan.grace_period_secs.saturating_add(RESERVE_GRACE_MARGIN_SECS);
    let grace = schedule::simple_interest(payments, loan.grace_rate, late_secs)?;
    Ok(payments.checked_add(grace)?)
}

/// On repayment: the reserve goes back to the borrower.
pub(super) fn release_reserve(state: &mut State, loan: &mut Loan) -> Result<(), TxError> {
    let held = loan.reserve.balance;
    send(state, ProtocolAccount::DebtServiceReserve(loan.id), loan.borrower, held)?;
    loan.reserve.balance = Amount::ZERO;
    loan.breach = None;
    Ok(())
}

/// Curator: the covenants of the silo's new loans.
///
/// The silo's curator sets the debt-service reserve (in payments) and the report interval that
/// loans originated from then on carry. Loans already originated keep theirs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetLoanCovenants {
    /// The silo.
    pub silo_id: SiloId,
    /// Payments its loans' debt-service reserves hold (0 to 12).
    pub debt_service_reserve_periods: u32,
    /// Seconds between borrower reports (0, or a day to a year).
    pub report_interval_secs: u64,
}

impl ActionHandler for SetLoanCovenants {
    const NAME: &'static str = "set_loan_covenants";

    fn check_stateless(&self) -> Result<(), TxError> {
        let covenants = LoanCovenants {
            debt_service_reserve_periods: self.debt_service_reserve_periods,
            report_interval_secs: self.report_interval_secs,
        };
        if !covenants.is_valid() {
            return Err(LoanError::LoanCovenantsInvalid.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { silo_id, debt_service_reserve_periods, report_interval_secs } = *self;
        require_role(state, Role::Curator, sender)?;
        if silos::silo(state, silo_id)?.curator != sender {
            return Err(SiloError::SenderIsNotSiloCurator.into());
        }
        let covenants = LoanCovenants { debt_service_reserve_periods, report_interval_secs };
        state.loans.covenants.insert(silo_id, covenants);
        state.emit(Event::LoanCovenantsSet { silo_id, covenants });
        Ok(())
    }
}

/// Anyone: add USDai to a loan's debt-service reserve, up to its requirement.
///
/// Usually the borrower refilling the reserve after a draw; reaching the requirement (with no
/// report overdue) cures the breach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundDebtServiceReserve {
    /// The loan.
    pub loan_id: LoanId,
    /// USDai added, in base units (at most what the reserve lacks).
    pub amount: Amount,
}

impl ActionHandler for FundDebtServiceReserve {
    const NAME: &'static str = "fund_debt_service_reserve";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { loan_id: id, amount } = *self;
        let mut loan = active_loan(state, id)?;
        let lacking = loan.reserve.required.saturating_sub(loan.reserve.balance);
        if amount > lacking {
            return Err(LoanError::ReserveFundingExceedsRequirement.into());
        }
        send(state, sender, ProtocolAccount::DebtServiceReserve(id), amount)?;
        loan.reserve.balance = loan.reserve.balance.checked_add(amount)?;
        state.emit(Event::DebtServiceReserveFunded {
            loan_id: id,
            payer: sender,
            amount,
            balance: loan.reserve.balance,
        });
        refresh_breach(state, &mut loan);
        store(state, loan);
        Ok(())
    }
}

/// Anyone: pay a loan's missed payments out of its debt-service reserve.
///
/// The keeper sends it as soon as a payment is missed: the loan is current again (not late),
/// the reserve falls below its requirement, and the loan is breached until the borrower
/// refills it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawDebtServiceReserve {
    /// The loan.
    pub loan_id: LoanId,
}

impl ActionHandler for DrawDebtServiceReserve {
    const NAME: &'static str = "draw_debt_service_reserve";
    // It pays senior interest into the vault.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, _sender: Address) -> Result<(), TxError> {
        let id = self.loan_id;
        let loan = active_loan(state, id)?;
        let now = state.now();
        if loan.missed_periods(now) == 0 {
            return Err(LoanError::NoPaymentIsMissed.into());
        }
        // A lapsed cure window (margin call or breach) leaves only default; a lapsed grace
        // period alone is what the reserve is for.
        if loan.is_cure_lapsed(now) {
            return Err(LoanError::LoanDefaultIsPending.into());
        }
        let due = payment::payment_due(&loan, now)?;
        let total = due.total()?;
        if total > loan.reserve.balance {
            return Err(LoanError::DebtServiceReserveInsufficient.into());
        }
        let mut loan = loan;
        loan.reserve.balance = loan.reserve.balance.checked_sub(total)?;
        loan.reserve.drawn_total = loan.reserve.drawn_total.checked_add(total)?;
        state.emit(Event::DebtServiceReserveDrawn {
            loan_id: id,
            amount: total,
            balance: loan.reserve.balance,
        });
        payment::pay_due(state, loan, ProtocolAccount::DebtServiceReserve(id).into(), due)
    }
}

/// Borrower: post the hash of the operator's periodic financial report.
///
/// The report itself stays off-chain with the curator and the lenders; the hash dates it and
/// lets anyone holding it check it. Posting the overdue report cures a report breach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostBorrowerReport {
    /// The loan.
    pub loan_id: LoanId,
    /// The keccak-256 of the report.
    pub document_hash: B256,
}

impl ActionHandler for PostBorrowerReport {
    const NAME: &'static str = "post_borrower_report";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.document_hash.is_zero() {
            return Err(LoanError::ReportDocumentHashMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { loan_id: id, document_hash } = *self;
        let mut loan = active_loan(state, id)?;
        if sender != loan.borrower {
            return Err(LoanError::SenderIsNotLoanBorrower.into());
        }
        let now = state.now();
        loan.last_report = Some(BorrowerReport { at: now, document_hash });
        state.emit(Event::BorrowerReportPosted { loan_id: id, document_hash });
        refresh_breach(state, &mut loan);
        store(state, loan);
        Ok(())
    }
}
