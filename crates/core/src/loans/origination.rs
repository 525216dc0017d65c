//! Terms and origination (SPEC 9.1): a curator's proposal is checked and stored; the borrower's
//! acceptance pledges the receipts, funds the tranches from the vault and the silo's pool, and
//! pays out the principal less the origination fee. Every limit (LTV, senior cap, concentration,
//! first-loss requirement, deployment and liquidity buffer) is checked before anything moves.

use super::{
    LOAN_APR_BPS_MAX, Loan, LoanError, LoanStatus, LoanTerms, Mark, RECEIPTS_PER_LOAN_MAX,
    Recovery, Tranche, TrancheTerms, change_exposure, covenants,
    covenants::{DebtServiceReserve, LoanCovenants},
    loan, send, store,
};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::{require_not_paused, require_role},
    ids::{Address, Asset, LoanId, ProtocolAccount, ReceiptId, SiloId},
    math::{Amount, BPS_DENOMINATOR, Overflow, Rate, Rounding, mul_div_wide},
    params::{LOAN_PERIODS_MAX, PauseScope, REPAYMENT_INTERVAL_SECS_MAX, Role},
    receipts::{self, ReceiptError, ReceiptStatus},
    schedule,
    silos::{self, SiloError},
    state::State,
    vault::{self, SeniorAccrual},
};
use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

/// The blended rate: (senior x its rate + junior x its rate) / principal, rounded up.
pub fn blended_rate(senior: TrancheTerms, junior: TrancheTerms) -> Result<Rate, Overflow> {
    let principal = senior.amount.checked_add(junior.amount)?;
    let weight = U256::from(senior.amount.0) * U256::from(senior.rate.0)
        + U256::from(junior.amount.0) * U256::from(junior.rate.0);
    mul_div_wide(1, weight, U256::from(principal.0), Rounding::Up).map(Rate)
}

fn check_terms(state: &State, terms: &LoanTerms) -> Result<(u32, u64, Amount), TxError> {
    let params = state.governance.params.get();
    let periods = terms.periods.unwrap_or(params.default_loan_periods);
    let interval = terms.interval_secs.unwrap_or(params.default_repayment_interval_secs);
    let principal = terms.senior.amount.checked_add(terms.junior.amount)?;
    let rate_max = Rate::from_apr_bps(LOAN_APR_BPS_MAX);
    let mut sorted = terms.receipts.clone();
    sorted.sort_unstable();
    let distinct = sorted.windows(2).all(|pair| pair[0] != pair[1]);
    let origination_fee = principal.mul_bps(terms.origination_fee_bps, Rounding::Up)?;
    let valid = !principal.is_zero()
        && !terms.receipts.is_empty()
        && terms.receipts.len() <= RECEIPTS_PER_LOAN_MAX
        && distinct
        && (1..=LOAN_PERIODS_MAX).contains(&periods)
        && (1..=REPAYMENT_INTERVAL_SECS_MAX).contains(&interval)
        && terms.senior.rate <= rate_max
        && terms.junior.rate <= rate_max
        && terms.grace_rate <= rate_max
        && terms.grace_period_secs <= crate::params::DURATION_SECS_MAX
        && terms.origination_fee_bps.is_fraction()
        && terms.exit_fee_bps.is_fraction()
        && origination_fee < principal
        && terms.expires_at > state.now();
    if !valid {
        return Err(LoanError::LoanTermsInvalid.into());
    }
    // The schedule must be computable for the whole life.
    let rate = blended_rate(terms.senior, terms.junior)?;
    schedule::installment(terms.model, principal, rate, interval, periods)
        .map_err(|_| LoanError::LoanTermsInvalid)?;
    Ok((periods, interval, principal))
}

/// Curator: propose a loan in its silo.
///
/// A silo's curator proposes terms to a borrower.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeLoan {
    /// The curator's silo.
    pub silo_id: SiloId,
    /// The terms offered to the borrower.
    pub terms: LoanTerms,
}

impl ActionHandler for ProposeLoan {
    const NAME: &'static str = "propose_loan";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { silo_id, ref terms } = *self;
        require_role(state, Role::Curator, sender)?;
        let silo = silos::silo(state, silo_id)?;
        if silo.curator != sender {
            return Err(SiloError::SenderIsNotSiloCurator.into());
        }
        if silo.frozen {
            return Err(SiloError::SiloIsFrozen.into());
        }
        let (periods, interval_secs, principal) = check_terms(state, terms)?;
        for &id in &terms.receipts {
            let receipt = receipts::receipt(state, id)?;
            silos::require_class_eligible(&silo, receipt.class)?;
        }
        let id = LoanId(*state.loans.next_loan_id.get());
        *state.loans.next_loan_id.get_mut() += 1;
        let loan = Loan {
            id,
            silo: silo_id,
            borrower: terms.borrower,
            receipts: terms.receipts.clone(),
            senior: Tranche {
                funded: terms.senior.amount,
                rate: terms.senior.rate,
                ..Tranche::default()
            },
            junior: Tranche {
                funded: terms.junior.amount,
                rate: terms.junior.rate,
                ..Tranche::default()
            },
            balance: Amount::ZERO,
            rate: blended_rate(terms.senior, terms.junior)?,
            model: terms.model,
            periods,
            periods_remaining: periods,
            interval_secs,
            grace_period_secs: terms.grace_period_secs,
            grace_rate: terms.grace_rate,
            origination_fee: principal.mul_bps(terms.origination_fee_bps, Rounding::Up)?,
            exit_fee: principal.mul_bps(terms.exit_fee_bps, Rounding::Up)?,
            expires_at: terms.expires_at,
            status: LoanStatus::Proposed,
            originated_at: 0,
            next_due_at: 0,
            margin_call: None,
            mark: None,
            senior_accrual: SeniorAccrual::default(),
            senior_uncovered: Amount::ZERO,
            defaulted_at: None,
            liquidation_agent: None,
            sale_deadline_at: None,
            recovery: Recovery::default(),
            surplus_held: Amount::ZERO,
            interest_paid: Amount::ZERO,
            principal_paid: Amount::ZERO,
            covenants: LoanCovenants::default(),
            reserve: DebtServiceReserve::default(),
            last_report: None,
            breach: None,
        };
        store(state, loan);
        state.emit(Event::LoanProposed {
            loan_id: id,
            silo_id,
            borrower: terms.borrower,
            principal,
        });
        Ok(())
    }
}

/// Curator or borrower: cancel a proposal.
///
/// The curator withdraws, or the borrower declines, a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelLoanProposal {
    /// The proposal cancelled.
    pub loan_id: LoanId,
}

impl ActionHandler for CancelLoanProposal {
    const NAME: &'static str = "cancel_loan_proposal";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.loan_id;
        let mut loan = loan(state, id)?;
        if loan.status != LoanStatus::Proposed {
            return Err(LoanError::LoanIsNotAProposal.into());
        }
        let curator = silos::silo(state, loan.silo)?.curator;
        if sender != loan.borrower && sender != curator {
            return Err(LoanError::SenderMayNotCancelProposal.into());
        }
        loan.status = LoanStatus::Cancelled;
        store(state, loan);
        state.emit(Event::LoanProposalCancelled { loan_id: id });
        Ok(())
    }
}

/// Checks that `id` can be pledged by `borrower` in `silo` now; returns its value for LTV.
pub(super) fn check_pledgeable(
    state: &State,
    silo: &silos::Silo,
    borrower: Address,
    id: ReceiptId,
) -> Result<Amount, TxError> {
    let receipt = receipts::receipt(state, id)?;
    if receipt.owner != borrower {
        return Err(LoanError::ReceiptNotOwnedByBorrower.into());
    }
    match receipt.status {
        ReceiptStatus::Issued | ReceiptStatus::Released => {}
        ReceiptStatus::Pledged => return Err(ReceiptError::ReceiptIsPledged.into()),
        _ => return Err(ReceiptError::ReceiptIsClosed.into()),
    }
    if receipt.redemption_requested {
        return Err(ReceiptError::ReceiptRedemptionAlreadyRequested.into());
    }
    silos::require_class_eligible(silo, receipt.class)?;
    Ok(receipts::check_eligible(state, &receipt, state.now())?)
}

/// Balance / value in basis points, rounded up; `u128::MAX` for a balance without value.
pub fn ltv_bps(balance: Amount, value: Amount) -> u128 {
    if balance.is_zero() {
        return 0;
    }
    // An LTV that overflows is the highest: the loan fails every LTV limit (favours the vault).
    balance.mul_div(BPS_DENOMINATOR, value.0, Rounding::Up).map(|a| a.0).unwrap_or(u128::MAX)
}

/// Borrower: accept a proposal (originates the loan).
///
/// The borrower accepts a proposal and the loan is originated. Checks in order:
/// proposal, borrower, expiry, pause, silo frozen, each receipt (owner, state, class,
/// eligibility), LTV, silo senior cap, borrower concentration, first-loss pool and requirement,
/// vault deployment limit, what the redemption queue is owed, and the liquidity buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptLoan {
    /// The proposal accepted.
    pub loan_id: LoanId,
}

impl ActionHandler for AcceptLoan {
    const NAME: &'static str = "accept_loan";
    // It moves the silo's free pool (junior tranche out, origination fee in).
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.loan_id;
        let mut loan = loan(state, id)?;
        if loan.status != LoanStatus::Proposed {
            return Err(LoanError::LoanIsNotAProposal.into());
        }
        if sender != loan.borrower {
            return Err(LoanError::SenderIsNotLoanBorrower.into());
        }
        let now = state.now();
        if now > loan.expires_at {
            return Err(LoanError::LoanProposalExpired.into());
        }
        require_not_paused(state, PauseScope::Borrowing)?;
        let silo = silos::silo(state, loan.silo)?;
        if silo.frozen {
            return Err(SiloError::SiloIsFrozen.into());
        }
        let mut collateral = Amount::ZERO;
        for &receipt_id in &loan.receipts {
            collateral =
                collateral.checked_add(check_pledgeable(state, &silo, sender, receipt_id)?)?;
        }
        let (senior, junior) = (loan.senior.funded, loan.junior.funded);
        let principal = senior.checked_add(junior)?;
        let ltv = ltv_bps(principal, collateral);
        if ltv > u128::from(silo.terms.max_initial_ltv_bps.0) {
            return Err(LoanError::LoanLtvExceedsMax.into());
        }
        check_silo_room(state, &silo, sender, senior, junior, loan.origination_fee)?;
        check_vault_room(state, senior)?;

        // The covenants in force now; the reserve is funded from the proceeds.
        loan.covenants = state.loans.covenants.get(&loan.silo).copied().unwrap_or_default();
        let required = covenants::reserve_requirement(&loan, principal)?;
        let proceeds = principal.checked_sub(loan.origination_fee)?;
        if required > proceeds {
            return Err(LoanError::DebtServiceReserveExceedsProceeds.into());
        }
        loan.reserve = DebtServiceReserve { required, balance: required, ..Default::default() };

        let account = ProtocolAccount::Loan(id);
        send(state, ProtocolAccount::Vault, account, senior)?;
        silos::pool_transfer_out(state, loan.silo, account.into(), junior)?;
        send(state, account, sender, proceeds.checked_sub(required)?)?;
        send(state, account, ProtocolAccount::DebtServiceReserve(id), required)?;
        silos::pool_transfer_in(state, loan.silo, account.into(), loan.origination_fee)?;
        for &receipt_id in &loan.receipts {
            receipts::set_status(state, receipt_id, ReceiptStatus::Pledged, Some(id), None);
        }
        loan.status = LoanStatus::Active;
        loan.senior.principal = senior;
        loan.junior.principal = junior;
        loan.balance = principal;
        loan.originated_at = now;
        loan.next_due_at = now.saturating_add(loan.interval_secs);
        loan.mark = Some(Mark { at: now, collateral_value: collateral, ltv_bps: ltv });
        let rate = loan.senior_interest_per_second_wad(state);
        vault::update_senior_position(state, &mut loan.senior_accrual, false, rate);
        let book = &mut state.vault.globals.get_mut().senior;
        book.principal = book.principal.checked_add(senior)?;
        let bps = state.governance.params.get().min_first_loss_bps;
        silos::update(state, loan.silo, |silo| {
            silo.senior_outstanding = silo.senior_outstanding.checked_add(senior)?;
            silo.junior_outstanding = silo.junior_outstanding.checked_add(junior)?;
            silo.loans_outstanding += 1;
            silo.required_first_loss_bps = bps;
            Ok::<(), TxError>(())
        })?;
        change_exposure(state, loan.silo, sender, senior, true)?;
        state.loans.open.insert(id, ());
        store(state, loan);
        state.emit(Event::LoanOriginated {
            loan_id: id,
            senior,
            junior,
            collateral_value: collateral,
        });
        if !required.is_zero() {
            state.emit(Event::DebtServiceReserveFunded {
                loan_id: id,
                payer: sender,
                amount: required,
                balance: required,
            });
        }
        Ok(())
    }
}

fn check_silo_room(
    state: &State,
    silo: &silos::Silo,
    borrower: Address,
    senior: Amount,
    junior: Amount,
    origination_fee: Amount,
) -> Result<(), TxError> {
    let senior_after = silo.senior_outstanding.checked_add(senior)?;
    if senior_after > silo.senior_cap {
        return Err(SiloError::SiloSeniorCapExceeded.into());
    }
    let exposure = state.silos.borrower_exposure.get(&(silo.id, borrower)).copied();
    let exposure_after = exposure.unwrap_or(Amount::ZERO).checked_add(senior)?;
    let limit = silo.senior_cap.mul_bps(silo.terms.max_borrower_share_bps, Rounding::Down)?;
    if exposure_after > limit {
        return Err(SiloError::BorrowerConcentrationExceeded.into());
    }
    if silo.pool_balance < junior {
        return Err(SiloError::FirstLossPoolInsufficient.into());
    }
    // Funding the junior tranche moves capital from the pool into the loan: the capital after
    // origination is the capital before plus the origination fee.
    let capital_after = silo.first_loss_capital().checked_add(origination_fee)?;
    let bps = state.governance.params.get().min_first_loss_bps;
    let requirement = senior_after.mul_bps(bps, Rounding::Up)?;
    if capital_after < requirement {
        return Err(SiloError::FirstLossBelowRequirement.into());
    }
    Ok(())
}

/// The vault may lend out only what its holders have not asked for: after origination the idle
/// USDai must still cover every queued request (waiting or eligible) at the redemption price,
/// rounded up, plus the liquidity buffer on the shares not in the queue (the buffer a round
/// keeps, `queue::round_liquidity`). Otherwise a curator and borrower could take the liquidity
/// that repayments and deposits brought for the queue, and holders who asked first would wait
/// on a loan's amortization instead.
fn check_vault_room(state: &State, senior: Amount) -> Result<(), TxError> {
    if senior.is_zero() {
        return Ok(());
    }
    let nav = vault::nav(state);
    let params = state.governance.params.get();
    let deployed_after = nav.senior_principal.checked_add(senior)?;
    if deployed_after > nav.conservative.mul_bps(params.max_deployed_bps, Rounding::Down)? {
        return Err(LoanError::VaultMaxDeployedExceeded.into());
    }
    let locked = state.ledger.balance(ProtocolAccount::QueueEscrow, Asset::Susdai);
    let (owed_to_queue, unlocked_value) = if nav.share_supply.is_zero() {
        (Amount::ZERO, nav.conservative)
    } else {
        let unlocked = nav.share_supply.checked_sub(locked)?;
        (
            nav.conservative.mul_div(locked.0, nav.share_supply.0, Rounding::Up)?,
            nav.conservative.mul_div(unlocked.0, nav.share_supply.0, Rounding::Up)?,
        )
    };
    let Ok(idle_after) = nav.unallocated.checked_sub(senior) else {
        return Err(LoanError::VaultLiquidityBufferWouldBeBreached.into());
    };
    if idle_after < owed_to_queue {
        return Err(LoanError::VaultLiquidityOwedToQueue.into());
    }
    let buffer = unlocked_value.mul_bps(params.liquidity_buffer_bps, Rounding::Up)?;
    if idle_after.checked_sub(owed_to_queue)? < buffer {
        return Err(LoanError::VaultLiquidityBufferWouldBeBreached.into());
    }
    Ok(())
}
