//! Payments (SPEC 9.2, 9.3): what is due on time or late, the split of each payment between
//! the tranches (interest by rate x principal share, principal pro rata, dust to the vault),
//! prepayment, the final payment that releases the receipts, a casualty claim paid as a
//! prepayment, and the scheduled senior inflows the QEV estimate plans with. Every payment
//! conserves value exactly.

use super::{
    Loan, LoanError, LoanStatus, active_loan, covenants,
    marks::{remark, set_uncovered},
    reduce_principal, store,
};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Account, Address, Asset, LoanId, ProtocolAccount, ReceiptId},
    ledger::{self, LedgerError},
    math::{Amount, Bps, Overflow, Rounding, WAD, mul_div_wide},
    params::Role,
    receipts::{self, ReceiptError, ReceiptStatus},
    schedule,
    silos::{self, SiloError},
    state::State,
    vault,
};
use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

/// How one payment divides between the tranches, and the fees taken from senior interest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSplit {
    /// Senior share of interest.
    pub senior_interest: Amount,
    /// Junior share of interest.
    pub junior_interest: Amount,
    /// Senior share of principal.
    pub senior_principal: Amount,
    /// Junior share of principal.
    pub junior_principal: Amount,
    /// Taken from senior interest for the fee collector.
    pub performance_fee: Amount,
    /// Taken from senior interest for the curator.
    pub curator_fee: Amount,
}

/// Splits `interest` by rate x principal share (the senior share rounded up: dust goes to
/// the vault) and `principal` pro rata to outstanding principal (the senior share rounded up:
/// the vault is repaid first by any dust).
pub fn split_payment(
    loan: &Loan,
    interest: Amount,
    principal: Amount,
) -> Result<PaymentSplit, Overflow> {
    let senior_weight = U256::from(loan.senior.principal.0) * U256::from(loan.senior.rate.0);
    let junior_weight = U256::from(loan.junior.principal.0) * U256::from(loan.junior.rate.0);
    let total_weight = senior_weight + junior_weight;
    let senior_interest = if total_weight.is_zero() {
        // No rate on either tranche: any interest (grace interest) follows principal.
        interest.mul_div(loan.senior.principal.0, loan.balance.0.max(1), Rounding::Up)?
    } else {
        Amount(mul_div_wide(interest.0, senior_weight, total_weight, Rounding::Up)?)
    };
    let senior_interest = senior_interest.min(interest);
    let senior_principal = principal
        .mul_div(loan.senior.principal.0, loan.balance.0.max(1), Rounding::Up)?
        .min(loan.senior.principal)
        .min(principal);
    let junior_principal = principal.checked_sub(senior_principal)?;
    assert!(junior_principal <= loan.junior.principal, "junior repaid beyond its principal");
    Ok(PaymentSplit {
        senior_interest,
        junior_interest: interest.checked_sub(senior_interest)?,
        senior_principal,
        junior_principal,
        performance_fee: Amount::ZERO,
        curator_fee: Amount::ZERO,
    })
}

/// What happens to the loan's accrued senior interest in the vault's book after a payment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AccrualAfterPayment {
    /// A scheduled payment: interest accrued since the last payment is settled.
    Reset,
    /// A prepayment: the senior interest paid comes off the accrued interest.
    Reduce,
}

/// `payer` pays `interest`, `principal` and `exit_fee` through the loan's account: senior cash
/// (less the performance and curator fees) to the vault, junior cash and the exit fee to the
/// silo's pool.
#[allow(clippy::too_many_arguments)]
fn distribute(
    state: &mut State,
    loan: &mut Loan,
    payer: Account,
    interest: Amount,
    principal: Amount,
    exit_fee: Amount,
    accrual: AccrualAfterPayment,
) -> Result<PaymentSplit, TxError> {
    let mut split = split_payment(loan, interest, principal)?;
    let (curator, curator_fee_bps) = match state.silos.silos.get(&loan.silo) {
        Some(silo) => (silo.curator, silo.terms.curator_fee_bps),
        None => return Err(SiloError::SiloNotFound.into()),
    };
    let params = state.governance.params.get();
    split.performance_fee =
        split.senior_interest.mul_bps(params.performance_fee_bps, Rounding::Up)?;
    let after_fee =
        split.senior_interest.checked_sub(split.performance_fee.min(split.senior_interest))?;
    split.performance_fee = split.senior_interest.checked_sub(after_fee)?;
    split.curator_fee = after_fee.mul_bps(curator_fee_bps, Rounding::Down)?;
    let to_vault = after_fee.checked_sub(split.curator_fee)?.checked_add(split.senior_principal)?;
    let pool: Account = ProtocolAccount::SiloPool(loan.silo).into();
    // A frozen curator's fee stays in its silo's pool: its capital, never confiscated.
    let curator_fee_to = if state.ledger.is_frozen(curator) { pool } else { curator.into() };
    let junior_cash = split.junior_interest.checked_add(split.junior_principal)?;
    let legs = [
        (ProtocolAccount::FeeCollector.into(), split.performance_fee),
        (curator_fee_to, split.curator_fee),
        (ProtocolAccount::Vault.into(), to_vault),
        (pool, junior_cash),
        (pool, exit_fee),
    ];
    ledger::transfer_through(state, Asset::Usdai, payer, ProtocolAccount::Loan(loan.id), &legs)?;
    let into_pool = legs
        .iter()
        .filter(|(to, _)| *to == pool)
        .try_fold(Amount::ZERO, |sum, (_, amount)| sum.checked_add(*amount))?;
    silos::pool_credited(state, loan.silo, into_pool)?;
    reduce_principal(state, loan, split.senior_principal, split.junior_principal)?;
    loan.interest_paid = loan.interest_paid.checked_add(interest)?;
    loan.principal_paid = loan.principal_paid.checked_add(principal)?;
    let rate = loan.senior_interest_per_second_wad(state);
    match accrual {
        AccrualAfterPayment::Reset => {
            vault::update_senior_position(state, &mut loan.senior_accrual, true, rate);
        }
        AccrualAfterPayment::Reduce => {
            vault::update_senior_position(state, &mut loan.senior_accrual, false, rate);
            // The position accrued net of fees: what the vault received of this interest.
            let net_paid = after_fee.checked_sub(split.curator_fee)?;
            let paid_wad = U256::from(net_paid.0) * U256::from(WAD);
            let reduction = paid_wad.min(loan.senior_accrual.accrued_wad);
            loan.senior_accrual.accrued_wad -= reduction;
            let book = &mut state.vault.globals.get_mut().senior;
            book.accrued_at_checkpoint_wad -= reduction;
        }
    }
    Ok(split)
}

/// What a repayment now would cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDue {
    /// Payments it covers: 1 on time, the missed count when late.
    pub installments: u32,
    /// Scheduled interest.
    pub interest: Amount,
    /// Scheduled principal.
    pub principal: Amount,
    /// Grace interest on late payments.
    pub grace_interest: Amount,
    /// The exit fee, when this is the final payment.
    pub exit_fee: Amount,
}

impl PaymentDue {
    /// Everything due.
    pub fn total(&self) -> Result<Amount, Overflow> {
        self.interest
            .checked_add(self.principal)?
            .checked_add(self.grace_interest)?
            .checked_add(self.exit_fee)
    }
}

/// What `repay_loan` would charge at `now`: the current payment when on time; when late, every
/// missed payment plus grace interest on each (payment x grace rate x seconds since its own
/// deadline, rounded up); the exit fee with the final payment.
pub fn payment_due(loan: &Loan, now: u64) -> Result<PaymentDue, Overflow> {
    let missed = loan.missed_periods(now);
    let installments = missed.max(1).min(loan.periods_remaining);
    let mut due = PaymentDue { installments, ..PaymentDue::default() };
    let mut balance = loan.balance;
    let mut remaining = loan.periods_remaining;
    for index in 0..installments {
        let installment =
            schedule::installment(loan.model, balance, loan.rate, loan.interval_secs, remaining)?;
        if missed > 0 {
            let deadline = loan
                .next_due_at
                .saturating_add(u64::from(index).saturating_mul(loan.interval_secs));
            let late = now.saturating_sub(deadline);
            let grace = schedule::simple_interest(installment.payment()?, loan.grace_rate, late)?;
            due.grace_interest = due.grace_interest.checked_add(grace)?;
        }
        due.interest = due.interest.checked_add(installment.interest)?;
        due.principal = due.principal.checked_add(installment.principal)?;
        balance = balance.checked_sub(installment.principal)?;
        remaining -= 1;
    }
    if remaining == 0 {
        assert!(balance.is_zero(), "the final payment leaves no balance");
        due.exit_fee = loan.exit_fee;
    }
    Ok(due)
}

/// Anyone: pay what is due, at most `max_amount`.
///
/// Anyone pays what is due on a loan (at most `max_amount`). On time: the
/// current payment, and the deadline moves one interval; late but within grace: the missed
/// payments plus grace interest, and the deadline moves by the missed count; the final payment
/// adds the exit fee and releases the receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepayLoan {
    /// The loan paid.
    pub loan_id: LoanId,
    /// The most USDai the sender pays (slippage bound).
    pub max_amount: Amount,
}

impl ActionHandler for RepayLoan {
    const NAME: &'static str = "repay_loan";
    // It pays senior interest into the vault; a cure releases impairment.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { loan_id: id, max_amount } = *self;
        let loan = active_loan(state, id)?;
        let now = state.now();
        if loan.is_default_due(now) {
            return Err(LoanError::LoanDefaultIsPending.into());
        }
        let due = payment_due(&loan, now)?;
        let total = due.total()?;
        if total > max_amount {
            return Err(LoanError::PaymentExceedsMaximum.into());
        }
        pay_due(state, loan, sender.into(), due)
    }
}

/// `payer` (the sender, or the loan's debt-service reserve) pays `due`: the deadline moves by
/// the installments paid, and the final payment closes the loan.
pub(super) fn pay_due(
    state: &mut State,
    mut loan: Loan,
    payer: Account,
    due: PaymentDue,
) -> Result<(), TxError> {
    let interest = due.interest.checked_add(due.grace_interest)?;
    let accrual = AccrualAfterPayment::Reset;
    let split =
        distribute(state, &mut loan, payer, interest, due.principal, due.exit_fee, accrual)?;
    loan.periods_remaining -= due.installments;
    let moved = u64::from(due.installments).saturating_mul(loan.interval_secs);
    loan.next_due_at = loan.next_due_at.saturating_add(moved);
    // A draw from the reserve is the borrower's money paying.
    let shown_payer = match payer {
        Account::User(address) => address,
        Account::Protocol(_) => loan.borrower,
    };
    state.emit(Event::LoanPaymentMade { loan_id: loan.id, payer: shown_payer, due, split });
    finish_payment(state, loan)
}

/// Anyone: prepay `principal` (with interest on it for the current period).
///
/// Anyone repays `principal` ahead of schedule, with interest on it since the
/// current period began (rounded up); the remaining payments are recomputed on the lower
/// balance. Prepaying the whole balance is the final payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrepayLoan {
    /// The loan prepaid.
    pub loan_id: LoanId,
    /// Principal repaid ahead of schedule, in USDai base units.
    pub principal: Amount,
    /// The most USDai the sender pays, interest included (slippage bound).
    pub max_amount: Amount,
}

impl ActionHandler for PrepayLoan {
    const NAME: &'static str = "prepay_loan";
    // It pays senior interest into the vault; a cure releases impairment.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { loan_id: id, principal, max_amount } = *self;
        let mut loan = active_loan(state, id)?;
        let now = state.now();
        if loan.is_default_due(now) {
            return Err(LoanError::LoanDefaultIsPending.into());
        }
        if loan.missed_periods(now) > 0 {
            return Err(LoanError::LoanPaymentsOverdue.into());
        }
        if principal.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        if principal > loan.balance {
            return Err(LoanError::PrepaymentExceedsBalance.into());
        }
        let period_start = loan.next_due_at.saturating_sub(loan.interval_secs);
        let interest =
            schedule::simple_interest(principal, loan.rate, now.saturating_sub(period_start))?;
        let is_final = principal == loan.balance;
        let exit_fee = if is_final { loan.exit_fee } else { Amount::ZERO };
        let total = principal.checked_add(interest)?.checked_add(exit_fee)?;
        if total > max_amount {
            return Err(LoanError::PaymentExceedsMaximum.into());
        }
        prepay(state, &mut loan, sender, principal, interest, exit_fee)?;
        finish_payment(state, loan)
    }
}

/// The steps every prepayment shares (an early repayment and a casualty claim): `principal`
/// with `interest` on it and `exit_fee` go through the ordinary split; the senior accrual is
/// reduced by what was prepaid, or reset when the balance is paid off (then no period
/// remains). Emits `LoanPrepaid`; returns whether the loan was paid off. The caller finishes
/// the payment.
fn prepay(
    state: &mut State,
    loan: &mut Loan,
    payer: Address,
    principal: Amount,
    interest: Amount,
    exit_fee: Amount,
) -> Result<bool, TxError> {
    let is_final = principal == loan.balance;
    let accrual = if is_final { AccrualAfterPayment::Reset } else { AccrualAfterPayment::Reduce };
    let split = distribute(state, loan, payer.into(), interest, principal, exit_fee, accrual)?;
    if is_final {
        loan.periods_remaining = 0;
    }
    state.emit(Event::LoanPrepaid {
        loan_id: loan.id,
        payer,
        principal,
        interest,
        exit_fee,
        split,
    });
    Ok(is_final)
}

/// Insurer: pay a casualty claim on a receipt of an active loan.
///
/// The hardware behind a pledged receipt was destroyed or stolen while its loan is active: the
/// insurer pays the claim as a prepayment of the loan (the principal pro rata to the tranches
/// with this period's interest on it, through the same split as any payment, so senior cash
/// reaches the vault at once), and the receipt goes to the insurer (the salvage), without
/// waiting for a default. The claim is the policy's coverage, up to what retires the loan:
/// an insurer cannot take the receipt for less. The loan goes on with its other receipts
/// (re-marked at once); a claim that retires it releases them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayCasualtyClaim {
    /// The receipt whose hardware was lost.
    pub receipt_id: ReceiptId,
}

impl ActionHandler for PayCasualtyClaim {
    const NAME: &'static str = "pay_casualty_claim";
    // It pays senior principal and interest into the vault and moves the loan's mark.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let receipt_id = self.receipt_id;
        require_role(state, Role::Insurer, sender)?;
        let receipt = receipts::receipt(state, receipt_id)?;
        let Some(policy) = receipt.policy else {
            return Err(ReceiptError::ReceiptHasNoPolicy.into());
        };
        if policy.insurer != sender {
            return Err(ReceiptError::SenderIsNotPolicyInsurer.into());
        }
        let now = state.now();
        if policy.expires_at < now {
            return Err(ReceiptError::ReceiptInsuranceLapsed.into());
        }
        let loan_id = match (receipt.status, receipt.loan) {
            (ReceiptStatus::Pledged, Some(loan_id)) => loan_id,
            _ => return Err(LoanError::ReceiptIsNotPledgedToActiveLoan.into()),
        };
        let mut loan = active_loan(state, loan_id)?;
        if loan.is_default_due(now) {
            return Err(LoanError::LoanDefaultIsPending.into());
        }
        if loan.missed_periods(now) > 0 {
            return Err(LoanError::LoanPaymentsOverdue.into());
        }
        let (principal, interest, exit_fee) = casualty_payment(&loan, policy.coverage, now)?;
        if principal.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        loan.receipts.retain(|id| *id != receipt_id);
        receipts::set_status(state, receipt_id, ReceiptStatus::Sold, None, Some(sender));
        let is_final = prepay(state, &mut loan, sender, principal, interest, exit_fee)?;
        let amount = principal.checked_add(interest)?.checked_add(exit_fee)?;
        state.emit(Event::CasualtyClaimPaid { receipt_id, loan_id, insurer: sender, amount });
        if !is_final {
            // The lost hardware no longer backs the loan: its LTV and impairment move now.
            remark(state, &mut loan)?;
        }
        finish_payment(state, loan)
    }
}

/// What a casualty claim of `coverage` pays on `loan` at `now`: `(principal, interest, exit
/// fee)`. The whole payoff (balance, this period's interest on it, the exit fee) if the coverage
/// reaches it; otherwise the most principal whose principal plus interest the coverage pays
/// (the loan stays open, so no exit fee), found by bisection over the monotone cost.
fn casualty_payment(
    loan: &Loan,
    coverage: Amount,
    now: u64,
) -> Result<(Amount, Amount, Amount), TxError> {
    let period_start = loan.next_due_at.saturating_sub(loan.interval_secs);
    let elapsed = now.saturating_sub(period_start);
    let interest_on = |principal: Amount| schedule::simple_interest(principal, loan.rate, elapsed);
    let balance = loan.balance;
    let full_interest = interest_on(balance)?;
    let payoff = balance.checked_add(full_interest)?.checked_add(loan.exit_fee)?;
    if coverage >= payoff {
        return Ok((balance, full_interest, loan.exit_fee));
    }
    // Below the payoff the loan stays open: at most the balance less one unit.
    let (mut low, mut high) = (0u128, coverage.min(balance).0.min(balance.0.saturating_sub(1)));
    while low < high {
        let mid = high - (high - low) / 2;
        let cost = Amount(mid).checked_add(interest_on(Amount(mid))?)?;
        if cost <= coverage { low = mid } else { high = mid - 1 }
    }
    let principal = Amount(low);
    Ok((principal, interest_on(principal)?, Amount::ZERO))
}

/// After a payment: close a repaid loan, or let a loan in margin call cure.
fn finish_payment(state: &mut State, mut loan: Loan) -> Result<(), TxError> {
    if loan.periods_remaining == 0 {
        assert!(loan.balance.is_zero(), "a loan with no payments left has no balance");
        return close_repaid(state, loan);
    }
    if loan.margin_call.is_some() {
        remark(state, &mut loan)?;
    }
    covenants::refresh_breach(state, &mut loan);
    store(state, loan);
    Ok(())
}

fn close_repaid(state: &mut State, mut loan: Loan) -> Result<(), TxError> {
    for &receipt_id in &loan.receipts {
        receipts::set_status(state, receipt_id, ReceiptStatus::Released, None, None);
    }
    covenants::release_reserve(state, &mut loan)?;
    loan.status = LoanStatus::Repaid;
    loan.margin_call = None;
    vault::update_senior_position(state, &mut loan.senior_accrual, true, U256::ZERO);
    set_uncovered(state, &mut loan, Amount::ZERO)?;
    silos::update(state, loan.silo, |silo| silo.loans_outstanding -= 1);
    state.loans.open.remove(&loan.id);
    let id = loan.id;
    store(state, loan);
    state.emit(Event::LoanRepaid { loan_id: id });
    Ok(())
}

/// Senior cash one on-time payment sends to the vault: senior interest less the performance
/// and curator fees, plus senior principal; the same arithmetic as the payment itself.
fn senior_cash(
    loan: &Loan,
    installment: schedule::Installment,
    performance_fee_bps: Bps,
    curator_fee_bps: Bps,
) -> Result<(Amount, PaymentSplit), Overflow> {
    let split = split_payment(loan, installment.interest, installment.principal)?;
    let performance_fee = split.senior_interest.mul_bps(performance_fee_bps, Rounding::Up)?;
    let after_fee =
        split.senior_interest.checked_sub(performance_fee.min(split.senior_interest))?;
    let curator_fee = after_fee.mul_bps(curator_fee_bps, Rounding::Down)?;
    let cash = after_fee.checked_sub(curator_fee)?.checked_add(split.senior_principal)?;
    Ok((cash, split))
}

/// The scheduled repayments of every active loan that fall due at or before `until`, as
/// `(timestamp, senior cash to the vault)`: each remaining payment of an on-time borrower
/// (computed by [`schedule::installment`] from the balance the previous one leaves, split by
/// [`split_payment`], less the performance and curator fees). A payment already late is listed
/// at `now`; grace interest and the exit fee are left out (the exit fee goes to the fee
/// collector, grace interest is not planned). Loans in default or margin call are listed as
/// scheduled: whether they pay is the caller's judgement. Ordered by loan, then time; at most
/// `max_entries` entries (the earliest loans' first). Pure: nothing changes.
///
/// This is the inflow the QEV estimate (`estimate::estimate`) adds to base yield.
pub fn scheduled_senior_repayments(
    state: &State,
    until: u64,
    max_entries: usize,
) -> Result<Vec<(u64, Amount)>, Overflow> {
    let now = state.now();
    let performance_fee_bps = state.governance.params.get().performance_fee_bps;
    let mut inflows = Vec::new();
    for (id, ()) in state.loans.open.iter() {
        let Some(loan) = state.loans.loans.get(id) else { continue };
        if loan.status != LoanStatus::Active {
            continue;
        }
        let curator_fee_bps =
            state.silos.silos.get(&loan.silo).map_or(Bps(0), |silo| silo.terms.curator_fee_bps);
        let mut projected = loan.clone();
        for index in 0..loan.periods_remaining {
            let due_at = loan
                .next_due_at
                .saturating_add(u64::from(index).saturating_mul(loan.interval_secs));
            if due_at > until || inflows.len() >= max_entries {
                break;
            }
            let installment = schedule::installment(
                projected.model,
                projected.balance,
                projected.rate,
                projected.interval_secs,
                projected.periods_remaining,
            )?;
            let (cash, split) =
                senior_cash(&projected, installment, performance_fee_bps, curator_fee_bps)?;
            inflows.push((due_at.max(now), cash));
            projected.senior.principal =
                projected.senior.principal.checked_sub(split.senior_principal)?;
            projected.junior.principal =
                projected.junior.principal.checked_sub(split.junior_principal)?;
            projected.balance = projected.balance.checked_sub(installment.principal)?;
            projected.periods_remaining -= 1;
        }
    }
    Ok(inflows)
}
