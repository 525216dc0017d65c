//! Marks and margin calls (SPEC 9.4, 9.6): collateral valued at the lesser of appraisal and
//! depreciation, LTV re-marks by keepers, margin calls opened and cured, pledges of more
//! receipts, and the impairment of a loan's uncovered senior principal kept in step with its
//! silo and the vault.

use super::{
    Loan, LoanError, LoanStatus, MarginCall, MarginCallReason, Mark, RECEIPTS_PER_LOAN_MAX,
    REMARK_BATCH_MAX, active_loan, covenants,
    origination::{check_pledgeable, ltv_bps},
    store,
};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    ids::{Address, LoanId, ReceiptId, SiloId},
    math::{Amount, Rounding},
    receipts::{self, ReceiptStatus},
    silos::{self, SiloError},
    state::State,
};
use serde::{Deserialize, Serialize};

/// Borrower: pledge more receipts.
///
/// The borrower adds collateral to an active loan (to cure a margin call).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PledgeReceipts {
    /// The loan.
    pub loan_id: LoanId,
    /// The receipts added to its collateral.
    pub receipt_ids: Vec<ReceiptId>,
}

impl ActionHandler for PledgeReceipts {
    const NAME: &'static str = "pledge_receipts";
    // It recomputes impairment.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { loan_id: id, ref receipt_ids } = *self;
        let mut loan = active_loan(state, id)?;
        if sender != loan.borrower {
            return Err(LoanError::SenderIsNotLoanBorrower.into());
        }
        if loan.is_default_due(state.now()) {
            return Err(LoanError::LoanDefaultIsPending.into());
        }
        let mut all = loan.receipts.clone();
        all.extend_from_slice(receipt_ids);
        all.sort_unstable();
        let distinct = all.windows(2).all(|pair| pair[0] != pair[1]);
        if receipt_ids.is_empty() || all.len() > RECEIPTS_PER_LOAN_MAX || !distinct {
            return Err(LoanError::LoanReceiptsLimitReached.into());
        }
        let silo = silos::silo(state, loan.silo)?;
        for &receipt_id in receipt_ids {
            check_pledgeable(state, &silo, sender, receipt_id)?;
        }
        for &receipt_id in receipt_ids {
            receipts::set_status(state, receipt_id, ReceiptStatus::Pledged, Some(id), None);
            loan.receipts.push(receipt_id);
        }
        remark(state, &mut loan)?;
        store(state, loan);
        state.emit(Event::ReceiptsPledged { loan_id: id, receipt_ids: receipt_ids.to_vec() });
        Ok(())
    }
}

/// The collateral of a loan at `now`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CollateralMark {
    /// Sum of values for LTV of its pledged (or, after default, unsold) receipts.
    pub value: Amount,
    /// Whether every pledged receipt is eligible.
    pub all_eligible: bool,
    /// The cost model's net recovery from liquidating them, less the liquidation fee.
    pub expected_recovery: Amount,
}

/// Values a loan's collateral at the state's time.
pub fn mark_collateral(state: &State, loan: &Loan) -> CollateralMark {
    let now = state.now();
    let mut mark = CollateralMark { all_eligible: true, ..CollateralMark::default() };
    let mut recovery = Amount::ZERO;
    for receipt_id in &loan.receipts {
        let Some(receipt) = state.receipts.receipts.get(receipt_id) else { continue };
        if !matches!(receipt.status, ReceiptStatus::Pledged | ReceiptStatus::Foreclosed)
            || receipt.loan != Some(loan.id)
        {
            continue;
        }
        let value = receipts::value_for_ltv(state, receipt, now);
        mark.value = Amount(mark.value.0.saturating_add(value.0));
        mark.all_eligible &= receipts::check_eligible_at_value(state, receipt, now, value).is_ok();
        if let Some(class) = state.receipts.classes.get(&receipt.class) {
            let expected = receipts::expected_recovery(class, value, receipt.description.quantity);
            recovery = Amount(recovery.0.saturating_add(expected.0));
        }
    }
    let fee_bps = state.governance.params.get().liquidation_fee_bps;
    let fee = recovery.mul_bps(fee_bps, Rounding::Up).unwrap_or(recovery);
    mark.expected_recovery = recovery.saturating_sub(fee);
    mark
}

/// Sets the loan's uncovered senior principal, keeping its silo's sum, the impaired index and
/// the silo's (and so the vault's) impairment in step.
pub(super) fn set_uncovered(
    state: &mut State,
    loan: &mut Loan,
    uncovered: Amount,
) -> Result<(), TxError> {
    let old = std::mem::replace(&mut loan.senior_uncovered, uncovered);
    uncovered_changed(state, loan.silo, loan.id, loan.is_impaired(), old, uncovered)
}

/// The index, silo and vault side of a loan's uncovered principal going from `old` to `new`
/// (the loan record itself already says `new`).
fn uncovered_changed(
    state: &mut State,
    silo: SiloId,
    id: LoanId,
    impaired: bool,
    old: Amount,
    new: Amount,
) -> Result<(), TxError> {
    let key = (silo, id);
    if impaired != state.loans.impaired.contains_key(&key) {
        if impaired {
            state.loans.impaired.insert(key, ());
        } else {
            state.loans.impaired.remove(&key);
        }
    }
    if old != new {
        silos::update(state, silo, |silo| {
            silo.senior_uncovered = silo.senior_uncovered.checked_sub(old)?.checked_add(new)?;
            Ok::<(), TxError>(())
        })?;
    }
    silos::refresh(state, silo)
}

/// What a re-mark changes in a loan, worked out from the state before the record is written.
struct Remark {
    mark: Mark,
    margin_call: Option<MarginCall>,
    event: Option<Event>,
    uncovered: Amount,
}

/// Re-marks one loan: its collateral value and LTV; opens a margin call above the silo's
/// margin-call LTV or on ineligible collateral, or for a payment past its deadline; cures one
/// back under the initial limit with eligible collateral (a missed-payment call: once nothing
/// is overdue); recomputes the impairment of an impaired loan.
fn plan_remark(state: &State, loan: &Loan) -> Result<Remark, TxError> {
    let now = state.now();
    let collateral = mark_collateral(state, loan);
    let ltv = ltv_bps(loan.balance, collateral.value);
    let mark = Mark { at: now, collateral_value: collateral.value, ltv_bps: ltv };
    let mut margin_call = loan.margin_call;
    let mut event = None;
    if loan.status == LoanStatus::Active {
        let Some(silo) = state.silos.silos.get(&loan.silo) else {
            return Err(SiloError::SiloNotFound.into());
        };
        let (initial, margin) =
            (silo.terms.max_initial_ltv_bps.0, silo.terms.margin_call_ltv_bps.0);
        let overdue = loan.missed_periods(now) > 0;
        if margin_call.is_some_and(|call| call.reason == MarginCallReason::PaymentMissed)
            && !overdue
        {
            // Paid: the missed-payment window closes; the collateral is judged afresh below.
            margin_call = None;
            event = Some(Event::MarginCallCured { loan_id: loan.id });
        }
        match margin_call {
            None if ltv > u128::from(margin) || !collateral.all_eligible => {
                let reason = if collateral.all_eligible {
                    MarginCallReason::LtvAboveLimit
                } else {
                    MarginCallReason::CollateralIneligible
                };
                let cure_period = state.governance.params.get().cure_period_secs;
                let cure_deadline_at = now.saturating_add(cure_period);
                margin_call = Some(MarginCall { opened_at: now, cure_deadline_at, reason });
                event =
                    Some(Event::MarginCallOpened { loan_id: loan.id, cure_deadline_at, reason });
            }
            Some(call)
                if call.reason != MarginCallReason::PaymentMissed
                    && ltv <= u128::from(initial)
                    && collateral.all_eligible =>
            {
                margin_call = None;
                event = Some(Event::MarginCallCured { loan_id: loan.id });
            }
            _ => {}
        }
        if margin_call.is_none() && overdue {
            // Overdue and no other window open (or one just cured): the grace period is the
            // window, the default rule, not the cure period.
            let cure_deadline_at = loan.next_due_at.saturating_add(loan.grace_period_secs);
            let reason = MarginCallReason::PaymentMissed;
            margin_call = Some(MarginCall { opened_at: now, cure_deadline_at, reason });
            event = Some(Event::MarginCallOpened { loan_id: loan.id, cure_deadline_at, reason });
        }
    }
    // `Loan::is_impaired` with the new margin call.
    let impaired = loan.status == LoanStatus::Defaulted
        || (loan.status == LoanStatus::Active && margin_call.is_some());
    let uncovered = if impaired {
        loan.senior.principal.saturating_sub(collateral.expected_recovery)
    } else {
        Amount::ZERO
    };
    Ok(Remark { mark, margin_call, event, uncovered })
}

/// Re-marks `loan` (see [`plan_remark`]), a record the caller stores.
pub(super) fn remark(state: &mut State, loan: &mut Loan) -> Result<(), TxError> {
    let plan = plan_remark(state, loan)?;
    loan.mark = Some(plan.mark);
    loan.margin_call = plan.margin_call;
    if let Some(event) = plan.event {
        state.emit(event);
    }
    set_uncovered(state, loan, plan.uncovered)
}

/// Keeper: re-mark up to `max_loans` open loans from `first_loan_id` on.
///
/// A keeper re-marks up to `max_loans` open loans from `first` on, in id order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemarkLoans {
    /// The first loan id considered.
    pub first_loan_id: LoanId,
    /// The most open loans re-marked (at most `loans::REMARK_BATCH_MAX`).
    pub max_loans: u32,
}

impl ActionHandler for RemarkLoans {
    const NAME: &'static str = "remark_loans";
    // It recomputes impairment.
    const MOVES_SHARE_PRICE: bool = true;

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.max_loans == 0 || self.max_loans > REMARK_BATCH_MAX {
            return Err(LoanError::RemarkBatchOutOfRange.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, _sender: Address) -> Result<(), TxError> {
        let Self { first_loan_id: first, max_loans } = *self;
        let ids: Vec<LoanId> =
            state.loans.open.range(first..).take(max_loans as usize).map(|(id, _)| *id).collect();
        for &id in &ids {
            let Some(loan) = state.loans.loans.get(&id) else {
                unreachable!("the open index names a missing loan");
            };
            let plan = plan_remark(state, loan)?;
            // The periodic pass also finds overdue borrower reports (issue 16).
            let (breach, breach_event) = covenants::plan_breach(state, loan);
            let (silo, old) = (loan.silo, loan.senior_uncovered);
            // Written in place: a re-mark touches a few fields of a large record, every month,
            // for every open loan.
            let impaired = state.loans.loans.update(&id, |loan| {
                loan.mark = Some(plan.mark);
                loan.margin_call = plan.margin_call;
                loan.senior_uncovered = plan.uncovered;
                loan.breach = breach;
                loan.is_impaired()
            });
            let Some(impaired) = impaired else { unreachable!("the loan was just read") };
            if let Some(event) = plan.event {
                state.emit(event);
            }
            if let Some(event) = breach_event {
                state.emit(event);
            }
            uncovered_changed(state, silo, id, impaired, old, plan.uncovered)?;
        }
        let count = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        state.emit(Event::LoansRemarked { first, last: ids.last().copied(), count });
        Ok(())
    }
}
