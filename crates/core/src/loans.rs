//! Loans (SPEC 9): a curator's proposal, the borrower's acceptance and origination, payments
//! under both interest models, prepayment, LTV re-marks and margin calls, default, foreclosure,
//! sale reports and insurance claims through the waterfall, and impairment.
//!
//! Guarantees (SPEC 14.4): senior + junior principal = balance; a repaid loan has balance 0 and
//! has released its receipts; a receipt is pledged to at most one loan; every payment is split
//! between the tranches and conserves value (interest by rate x principal share, principal pro
//! rata); the vault's [`SeniorBook`](crate::vault::SeniorBook) is the exact sum of the loans'
//! senior positions; a loan's cash passes through its `ProtocolAccount::Loan(id)` account, which
//! is empty between transactions except for a surplus held for a frozen borrower.

use crate::{
    error::TxError,
    event::Event,
    governance::{require_not_paused, require_role},
    ids::{Account, Address, Asset, LoanId, ProtocolAccount, ReceiptId, SiloId},
    ledger::{self, LedgerError},
    math::{Amount, BPS_DENOMINATOR, Bps, Overflow, Rate, Rounding, WAD},
    params::{LOAN_PERIODS_MAX, PauseScope, REPAYMENT_INTERVAL_SECS_MAX, Role},
    receipts::{self, ReceiptError, ReceiptStatus},
    result_codes,
    schedule::{self, InterestModel},
    silos::{self, SiloError},
    state::State,
    table::{Journaled, Slot, Table},
    vault::{self, SeniorAccrual},
};
use alloy_primitives::{U256, U512};
use serde::{Deserialize, Serialize};

result_codes! {
    /// Rejections of loan actions.
    pub enum LoanError {
        LoanNotFound = 801 => "loan_not_found",
            "No loan has this id.";
        SenderIsNotLoanBorrower = 802 => "sender_is_not_loan_borrower",
            "Only the loan's borrower may do this.";
        LoanTermsInvalid = 803 => "loan_terms_invalid",
            "Loan terms need a principal, 1 to 32 distinct receipts, 1 to 600 periods, an interval of at most a year, rates of at most 100% APR, fees below the principal and a future expiry.";
        LoanProposalExpired = 804 => "loan_proposal_expired",
            "The proposal's acceptance deadline has passed.";
        LoanIsNotAProposal = 805 => "loan_is_not_a_proposal",
            "The loan is not a proposal waiting for acceptance.";
        LoanIsNotActive = 806 => "loan_is_not_active",
            "The loan is not active.";
        LoanLtvExceedsMax = 807 => "loan_ltv_exceeds_max",
            "The principal is above the silo's maximum initial LTV of the eligible collateral value.";
        ReceiptNotOwnedByBorrower = 808 => "receipt_not_owned_by_borrower",
            "A pledged receipt must belong to the borrower.";
        VaultMaxDeployedExceeded = 809 => "vault_max_deployed_exceeded",
            "The senior tranche would take the vault's deployed capital above its maximum share of NAV.";
        VaultLiquidityBufferWouldBeBreached = 810 => "vault_liquidity_buffer_would_be_breached",
            "The senior tranche would leave the vault's idle USDai below its liquidity buffer.";
        PaymentExceedsMaximum = 811 => "payment_exceeds_maximum",
            "What is due is more than the sender's maximum.";
        LoanDefaultIsPending = 812 => "loan_default_is_pending",
            "The loan's grace period or cure window has lapsed; it can only be defaulted.";
        LoanIsNotInDefault = 813 => "loan_is_not_in_default",
            "Neither the loan's grace period nor a cure window has lapsed.";
        LoanIsNotDefaulted = 814 => "loan_is_not_defaulted",
            "The loan has not been defaulted.";
        LiquidationAgentLacksRole = 815 => "liquidation_agent_lacks_role",
            "The named liquidation agent does not hold the liquidation agent role.";
        SenderIsNotLoanLiquidationAgent = 816 => "sender_is_not_loan_liquidation_agent",
            "Only the liquidation agent the loan was foreclosed to may report its sales.";
        LoanAlreadyForeclosed = 817 => "loan_already_foreclosed",
            "The loan's receipts were already handed to a liquidation agent.";
        ReceiptIsNotForeclosed = 818 => "receipt_is_not_foreclosed",
            "The receipt is not foreclosed collateral of a defaulted loan.";
        SaleCostsExceedProceeds = 819 => "sale_costs_exceed_proceeds",
            "The reported costs add up to more than the gross proceeds.";
        InsuranceClaimExceedsCoverage = 820 => "insurance_claim_exceeds_coverage",
            "The claim is larger than the policy's coverage.";
        PrepaymentExceedsBalance = 821 => "prepayment_exceeds_balance",
            "The prepayment is larger than the outstanding balance.";
        LoanPaymentsOverdue = 822 => "loan_payments_overdue",
            "Missed payments must be repaid before a prepayment.";
        LoanReceiptsLimitReached = 823 => "loan_receipts_limit_reached",
            "A loan holds at most 32 distinct receipts.";
        RemarkBatchOutOfRange = 824 => "remark_batch_out_of_range",
            "A re-mark covers between 1 and 10,000 loans.";
        SenderMayNotCancelProposal = 825 => "sender_may_not_cancel_proposal",
            "Only the silo's curator or the borrower may cancel a proposal.";
        LoanSurplusIsZero = 826 => "loan_surplus_is_zero",
            "The loan holds no surplus for its borrower.";
    }
}

/// The most receipts one loan may hold.
pub const RECEIPTS_PER_LOAN_MAX: usize = 32;
/// The most loans one keeper re-mark may cover.
pub const REMARK_BATCH_MAX: u32 = 10_000;
/// The highest annual rate of a tranche or of grace interest, in basis points (100%).
pub const LOAN_APR_BPS_MAX: u32 = 10_000;

/// One tranche as proposed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrancheTerms {
    /// Principal it funds (zero for no tranche).
    pub amount: Amount,
    /// Its per-second rate.
    pub rate: Rate,
}

/// What a curator proposes (SPEC 9.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoanTerms {
    /// Who borrows.
    pub borrower: Address,
    /// The receipts pledged.
    pub receipts: Vec<ReceiptId>,
    /// Funded by the vault.
    pub senior: TrancheTerms,
    /// Funded by the silo's first-loss pool.
    pub junior: TrancheTerms,
    /// The interest model.
    pub model: InterestModel,
    /// Number of payments (default: `default_loan_periods`).
    pub periods: Option<u32>,
    /// Seconds between payments (default: `default_repayment_interval_secs`).
    pub interval_secs: Option<u64>,
    /// How long after a deadline a late payment is still accepted.
    pub grace_period_secs: u64,
    /// Per-second rate of grace interest on a late payment.
    pub grace_rate: Rate,
    /// Kept from the principal at origination.
    pub origination_fee_bps: Bps,
    /// Paid with the final payment, as a share of the original principal.
    pub exit_fee_bps: Bps,
    /// The last moment the borrower may accept.
    pub expires_at: u64,
}

/// One tranche of a loan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tranche {
    /// Principal funded at origination.
    pub funded: Amount,
    /// Principal outstanding.
    pub principal: Amount,
    /// Per-second rate.
    pub rate: Rate,
    /// After default: interest owed to the tranche in the waterfall, not yet recovered.
    pub interest_due: Amount,
}

/// Where a loan stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoanStatus {
    /// Proposed, waiting for the borrower.
    Proposed,
    /// Originated and performing (possibly in margin call).
    Active,
    /// Paid in full; receipts released.
    Repaid,
    /// Defaulted; its receipts are being liquidated.
    Defaulted,
    /// Every receipt sold or claimed; losses recognised.
    Settled,
    /// A proposal cancelled before acceptance.
    Cancelled,
}

/// Why a cure window is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginCallReason {
    /// LTV above the silo's margin-call limit.
    LtvAboveLimit,
    /// A receipt lost eligibility (insurance lapsed, coverage short, valuation stale).
    CollateralIneligible,
}

/// An open cure window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginCall {
    /// When it opened.
    pub opened_at: u64,
    /// When it lapses: after this the loan may be defaulted.
    pub cure_deadline: u64,
    /// Why it opened.
    pub reason: MarginCallReason,
}

/// The last re-mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// When.
    pub at: u64,
    /// Sum of the receipts' values for LTV.
    pub collateral_value: Amount,
    /// Balance / collateral value in basis points, rounded up (`u128::MAX` with no value).
    #[serde(with = "crate::math::u128_serde")]
    pub ltv_bps: u128,
}

/// What a liquidation has produced so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// Gross sale proceeds and insurance claims.
    pub gross: Amount,
    /// Liquidation costs reimbursed to the agent.
    pub costs: Amount,
    /// Liquidation fees to the fee collector.
    pub liquidation_fees: Amount,
    /// Paid to the senior tranche (principal and interest).
    pub to_senior: Amount,
    /// Paid to the junior tranche (principal and interest).
    pub to_junior: Amount,
    /// Paid (or held) for the borrower.
    pub to_borrower: Amount,
    /// Paid by the silo's free pool to the senior tranche at settlement.
    pub first_loss_cover: Amount,
    /// Senior principal written off at settlement: the vault's loss.
    pub senior_loss: Amount,
    /// Junior principal written off at settlement.
    pub junior_loss: Amount,
}

/// A loan, from proposal to its end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loan {
    /// Its id.
    pub id: LoanId,
    /// Its silo.
    pub silo: SiloId,
    /// Its borrower.
    pub borrower: Address,
    /// Its collateral.
    pub receipts: Vec<ReceiptId>,
    /// Vault-funded tranche.
    pub senior: Tranche,
    /// Pool-funded tranche.
    pub junior: Tranche,
    /// Outstanding principal: senior + junior.
    pub balance: Amount,
    /// The blended rate R (principal-weighted, rounded up) that shapes the schedule.
    pub rate: Rate,
    /// The interest model.
    pub model: InterestModel,
    /// Payments in the schedule.
    pub periods: u32,
    /// Payments still to make, including the current one.
    pub periods_remaining: u32,
    /// Seconds between payments.
    pub interval_secs: u64,
    /// Grace after a deadline.
    pub grace_period_secs: u64,
    /// Grace interest rate.
    pub grace_rate: Rate,
    /// Kept at origination.
    pub origination_fee: Amount,
    /// Due with the final payment.
    pub exit_fee: Amount,
    /// Proposal acceptance deadline.
    pub expires_at: u64,
    /// Status.
    pub status: LoanStatus,
    /// When it was originated.
    pub originated_at: u64,
    /// The deadline of the next payment.
    pub next_due_at: u64,
    /// The open cure window, if any.
    pub margin_call: Option<MarginCall>,
    /// The last re-mark.
    pub mark: Option<Mark>,
    /// Its senior position in the vault's book.
    pub senior_accrual: SeniorAccrual,
    /// While impaired: senior principal its expected recovery would not cover.
    pub senior_uncovered: Amount,
    /// When it defaulted.
    pub defaulted_at: Option<u64>,
    /// Who liquidates it.
    pub liquidation_agent: Option<Address>,
    /// Its liquidation so far.
    pub recovery: Recovery,
    /// Surplus held in the loan account for a frozen borrower.
    pub surplus_held: Amount,
    /// Interest (including grace interest) paid so far.
    pub interest_paid: Amount,
    /// Principal repaid so far (excluding recoveries).
    pub principal_paid: Amount,
}

impl Loan {
    /// Whether it is in margin call or default: carried at principal minus impairment.
    pub fn is_impaired(&self) -> bool {
        self.status == LoanStatus::Defaulted
            || (self.status == LoanStatus::Active && self.margin_call.is_some())
    }

    /// Whether it may be defaulted at `now`: its deadline plus grace, or its cure window, has
    /// passed.
    pub fn is_default_due(&self, now: u64) -> bool {
        self.status == LoanStatus::Active
            && (now > self.next_due_at.saturating_add(self.grace_period_secs)
                || self.margin_call.is_some_and(|call| now > call.cure_deadline))
    }

    /// Deadlines strictly before `now` that are unpaid (0 when on time), at most the payments
    /// remaining.
    pub fn missed_periods(&self, now: u64) -> u32 {
        if now <= self.next_due_at || self.interval_secs == 0 {
            return 0;
        }
        let after_first = (now - self.next_due_at - 1) / self.interval_secs;
        let missed = u32::try_from(after_first.saturating_add(1)).unwrap_or(u32::MAX);
        missed.min(self.periods_remaining)
    }

    fn senior_interest_per_second_wad(&self) -> U256 {
        U256::from(self.senior.principal.0) * U256::from(self.senior.rate.0)
    }
}

/// Loans.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoansState {
    /// Every loan and proposal.
    pub loans: Table<LoanId, Loan>,
    /// Loans active or defaulted: what keepers re-mark.
    pub open: Table<LoanId, ()>,
    /// Loans in margin call or default, by silo.
    pub impaired: Table<(SiloId, LoanId), ()>,
    /// The next loan id.
    pub next_loan_id: Slot<u64>,
}

impl Journaled for LoansState {
    #[inline]
    fn commit(&mut self) {
        self.loans.commit();
        self.open.commit();
        self.impaired.commit();
        self.next_loan_id.commit();
    }

    fn rollback(&mut self) {
        self.loans.rollback();
        self.open.rollback();
        self.impaired.rollback();
        self.next_loan_id.rollback();
    }
}

/// `a * b / denominator` with 512-bit intermediates for 256-bit weights.
fn mul_div_wide(a: u128, b: U256, denominator: U256, rounding: Rounding) -> Result<u128, Overflow> {
    if denominator.is_zero() {
        return Err(Overflow);
    }
    // Principal x rate weights of real loans fit 128 bits: the 256-bit path is much cheaper
    // than a 512-bit division, and exact all the same.
    if let (Ok(b), Ok(denominator)) = (u128::try_from(b), u128::try_from(denominator)) {
        return crate::math::mul_div(a, b, denominator, rounding);
    }
    let (quotient, remainder) = (U512::from(a) * U512::from(b)).div_rem(U512::from(denominator));
    let quotient = match rounding {
        Rounding::Up if !remainder.is_zero() => quotient + U512::from(1u8),
        _ => quotient,
    };
    u128::try_from(quotient).map_err(|_| Overflow)
}

/// The blended rate: (senior x its rate + junior x its rate) / principal, rounded up.
pub fn blended_rate(senior: TrancheTerms, junior: TrancheTerms) -> Result<Rate, Overflow> {
    let principal = senior.amount.checked_add(junior.amount)?;
    let weight = U256::from(senior.amount.0) * U256::from(senior.rate.0)
        + U256::from(junior.amount.0) * U256::from(junior.rate.0);
    mul_div_wide(1, weight, U256::from(principal.0), Rounding::Up).map(Rate)
}

/// The loan `id`, or `loan_not_found`.
pub fn loan(state: &State, id: LoanId) -> Result<Loan, TxError> {
    state.loans.loans.get(&id).cloned().ok_or(LoanError::LoanNotFound.into())
}

fn active_loan(state: &State, id: LoanId) -> Result<Loan, TxError> {
    let loan = loan(state, id)?;
    if loan.status != LoanStatus::Active {
        return Err(LoanError::LoanIsNotActive.into());
    }
    Ok(loan)
}

fn store(state: &mut State, loan: Loan) {
    state.loans.loans.insert(loan.id, loan);
}

fn send(
    state: &mut State,
    from: impl Into<Account>,
    to: impl Into<Account>,
    amount: Amount,
) -> Result<(), TxError> {
    if amount.is_zero() {
        return Ok(());
    }
    ledger::transfer(state, Asset::Usdai, from, to, amount)
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

/// `propose_loan`: a silo's curator proposes terms to a borrower.
pub fn propose_loan(
    state: &mut State,
    sender: Address,
    silo_id: SiloId,
    terms: LoanTerms,
) -> Result<(), TxError> {
    require_role(state, Role::Curator, sender)?;
    let silo = silos::silo(state, silo_id)?;
    if silo.curator != sender {
        return Err(SiloError::SenderIsNotSiloCurator.into());
    }
    if silo.frozen {
        return Err(SiloError::SiloIsFrozen.into());
    }
    let (periods, interval_secs, principal) = check_terms(state, &terms)?;
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
        recovery: Recovery::default(),
        surplus_held: Amount::ZERO,
        interest_paid: Amount::ZERO,
        principal_paid: Amount::ZERO,
    };
    store(state, loan);
    state.emit(Event::LoanProposed { loan_id: id, silo_id, borrower: terms.borrower, principal });
    Ok(())
}

/// `cancel_loan_proposal`: the curator withdraws, or the borrower declines, a proposal.
pub fn cancel_proposal(state: &mut State, sender: Address, id: LoanId) -> Result<(), TxError> {
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

/// Checks that `id` can be pledged by `borrower` in `silo` now; returns its value for LTV.
fn check_pledgeable(
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
    balance.mul_div(BPS_DENOMINATOR, value.0, Rounding::Up).map(|a| a.0).unwrap_or(u128::MAX)
}

/// `accept_loan`: the borrower accepts a proposal and the loan is originated. Checks in order:
/// proposal, borrower, expiry, pause, silo frozen, each receipt (owner, state, class,
/// eligibility), LTV, silo senior cap, borrower concentration, first-loss pool and requirement,
/// vault deployment limit and liquidity buffer.
pub fn accept_loan(state: &mut State, sender: Address, id: LoanId) -> Result<(), TxError> {
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
        collateral = collateral.checked_add(check_pledgeable(state, &silo, sender, receipt_id)?)?;
    }
    let (senior, junior) = (loan.senior.funded, loan.junior.funded);
    let principal = senior.checked_add(junior)?;
    let ltv = ltv_bps(principal, collateral);
    if ltv > u128::from(silo.terms.max_initial_ltv_bps.0) {
        return Err(LoanError::LoanLtvExceedsMax.into());
    }
    check_silo_room(state, &silo, sender, senior, junior, loan.origination_fee)?;
    check_vault_room(state, senior)?;

    let account = ProtocolAccount::Loan(id);
    send(state, ProtocolAccount::Vault, account, senior)?;
    silos::pool_transfer_out(state, loan.silo, account.into(), junior)?;
    send(state, account, sender, principal.checked_sub(loan.origination_fee)?)?;
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
    let rate = loan.senior_interest_per_second_wad();
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
    state.emit(Event::LoanOriginated { loan_id: id, senior, junior, collateral_value: collateral });
    Ok(())
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
    let buffer = nav.conservative.mul_bps(params.liquidity_buffer_bps, Rounding::Up)?;
    if nav.unallocated < senior || nav.unallocated.checked_sub(senior)? < buffer {
        return Err(LoanError::VaultLiquidityBufferWouldBeBreached.into());
    }
    Ok(())
}

fn change_exposure(
    state: &mut State,
    silo: SiloId,
    borrower: Address,
    amount: Amount,
    increase: bool,
) -> Result<(), TxError> {
    if amount.is_zero() {
        return Ok(());
    }
    let key = (silo, borrower);
    let current = state.silos.borrower_exposure.get(&key).copied().unwrap_or(Amount::ZERO);
    let after =
        if increase { current.checked_add(amount)? } else { current.checked_sub(amount)? };
    if after.is_zero() {
        state.silos.borrower_exposure.remove(&key);
    } else {
        state.silos.borrower_exposure.insert(key, after);
    }
    Ok(())
}

/// Reduces the loan's tranche principals (and every aggregate that sums them) by what was
/// repaid, recovered or written off.
fn reduce_principal(
    state: &mut State,
    loan: &mut Loan,
    senior: Amount,
    junior: Amount,
) -> Result<(), TxError> {
    loan.senior.principal = loan.senior.principal.checked_sub(senior)?;
    loan.junior.principal = loan.junior.principal.checked_sub(junior)?;
    loan.balance = loan.balance.checked_sub(senior.checked_add(junior)?)?;
    assert_eq!(loan.balance.0, loan.senior.principal.0 + loan.junior.principal.0);
    let book = &mut state.vault.globals.get_mut().senior;
    book.principal = book.principal.checked_sub(senior)?;
    silos::update(state, loan.silo, |silo| {
        silo.senior_outstanding = silo.senior_outstanding.checked_sub(senior)?;
        silo.junior_outstanding = silo.junior_outstanding.checked_sub(junior)?;
        Ok::<(), TxError>(())
    })?;
    change_exposure(state, loan.silo, loan.borrower, senior, false)
}

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
    payer: Address,
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
    let rate = loan.senior_interest_per_second_wad();
    match accrual {
        AccrualAfterPayment::Reset => {
            vault::update_senior_position(state, &mut loan.senior_accrual, true, rate);
        }
        AccrualAfterPayment::Reduce => {
            vault::update_senior_position(state, &mut loan.senior_accrual, false, rate);
            let paid_wad = U256::from(split.senior_interest.0) * U256::from(WAD);
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

/// `repay_loan`: anyone pays what is due on a loan (at most `max_amount`). On time: the
/// current payment, and the deadline moves one interval; late but within grace: the missed
/// payments plus grace interest, and the deadline moves by the missed count; the final payment
/// adds the exit fee and releases the receipts.
pub fn repay_loan(
    state: &mut State,
    sender: Address,
    id: LoanId,
    max_amount: Amount,
) -> Result<(), TxError> {
    let mut loan = active_loan(state, id)?;
    let now = state.now();
    if loan.is_default_due(now) {
        return Err(LoanError::LoanDefaultIsPending.into());
    }
    let due = payment_due(&loan, now)?;
    let total = due.total()?;
    if total > max_amount {
        return Err(LoanError::PaymentExceedsMaximum.into());
    }
    let interest = due.interest.checked_add(due.grace_interest)?;
    let accrual = AccrualAfterPayment::Reset;
    let split =
        distribute(state, &mut loan, sender, interest, due.principal, due.exit_fee, accrual)?;
    loan.periods_remaining -= due.installments;
    let moved = u64::from(due.installments).saturating_mul(loan.interval_secs);
    loan.next_due_at = loan.next_due_at.saturating_add(moved);
    state.emit(Event::LoanPaymentMade { loan_id: id, payer: sender, due, split });
    finish_payment(state, loan)
}

/// `prepay_loan`: anyone repays `principal` ahead of schedule, with interest on it since the
/// current period began (rounded up); the remaining payments are recomputed on the lower
/// balance. Prepaying the whole balance is the final payment.
pub fn prepay_loan(
    state: &mut State,
    sender: Address,
    id: LoanId,
    principal: Amount,
    max_amount: Amount,
) -> Result<(), TxError> {
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
    let accrual = if is_final { AccrualAfterPayment::Reset } else { AccrualAfterPayment::Reduce };
    let split = distribute(state, &mut loan, sender, interest, principal, exit_fee, accrual)?;
    if is_final {
        loan.periods_remaining = 0;
    }
    state.emit(Event::LoanPrepaid {
        loan_id: id,
        payer: sender,
        principal,
        interest,
        exit_fee,
        split,
    });
    finish_payment(state, loan)
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
    store(state, loan);
    Ok(())
}

fn close_repaid(state: &mut State, mut loan: Loan) -> Result<(), TxError> {
    for &receipt_id in &loan.receipts {
        receipts::set_status(state, receipt_id, ReceiptStatus::Released, None, None);
    }
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

/// `pledge_receipts`: the borrower adds collateral to an active loan (to cure a margin call).
pub fn pledge_receipts(
    state: &mut State,
    sender: Address,
    id: LoanId,
    receipt_ids: &[ReceiptId],
) -> Result<(), TxError> {
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
fn set_uncovered(state: &mut State, loan: &mut Loan, uncovered: Amount) -> Result<(), TxError> {
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
/// margin-call LTV or on ineligible collateral; cures one back under the initial limit with
/// eligible collateral; recomputes the impairment of an impaired loan.
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
        match margin_call {
            None if ltv > u128::from(margin) || !collateral.all_eligible => {
                let reason = if collateral.all_eligible {
                    MarginCallReason::LtvAboveLimit
                } else {
                    MarginCallReason::CollateralIneligible
                };
                let cure_period = state.governance.params.get().cure_period_secs;
                let cure_deadline = now.saturating_add(cure_period);
                margin_call = Some(MarginCall { opened_at: now, cure_deadline, reason });
                event = Some(Event::MarginCallOpened { loan_id: loan.id, cure_deadline, reason });
            }
            Some(_) if ltv <= u128::from(initial) && collateral.all_eligible => {
                margin_call = None;
                event = Some(Event::MarginCallCured { loan_id: loan.id });
            }
            _ => {}
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
fn remark(state: &mut State, loan: &mut Loan) -> Result<(), TxError> {
    let plan = plan_remark(state, loan)?;
    loan.mark = Some(plan.mark);
    loan.margin_call = plan.margin_call;
    if let Some(event) = plan.event {
        state.emit(event);
    }
    set_uncovered(state, loan, plan.uncovered)
}

/// `remark_loans`: a keeper re-marks up to `max_loans` open loans from `first` on, in id order.
pub fn remark_loans(state: &mut State, first: LoanId, max_loans: u32) -> Result<(), TxError> {
    if max_loans == 0 || max_loans > REMARK_BATCH_MAX {
        return Err(LoanError::RemarkBatchOutOfRange.into());
    }
    let ids: Vec<LoanId> =
        state.loans.open.range(first..).take(max_loans as usize).map(|(id, _)| *id).collect();
    for &id in &ids {
        let Some(loan) = state.loans.loans.get(&id) else {
            unreachable!("the open index names a missing loan");
        };
        let plan = plan_remark(state, loan)?;
        let (silo, old) = (loan.silo, loan.senior_uncovered);
        // Written in place: a re-mark touches a few fields of a large record, every month,
        // for every open loan.
        let impaired = state.loans.loans.update(&id, |loan| {
            loan.mark = Some(plan.mark);
            loan.margin_call = plan.margin_call;
            loan.senior_uncovered = plan.uncovered;
            loan.is_impaired()
        });
        let Some(impaired) = impaired else { unreachable!("the loan was just read") };
        if let Some(event) = plan.event {
            state.emit(event);
        }
        uncovered_changed(state, silo, id, impaired, old, plan.uncovered)?;
    }
    let count = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    state.emit(Event::LoansRemarked { first, last: ids.last().copied(), count });
    Ok(())
}

/// `trigger_default`: anyone defaults a loan whose deadline plus grace, or cure window, has
/// passed. Its receipts are foreclosed; interest stops accruing in NAV and what had accrued is
/// reversed; each tranche's claim becomes its principal plus interest since the last paid
/// deadline.
pub fn trigger_default(state: &mut State, id: LoanId) -> Result<(), TxError> {
    let mut loan = active_loan(state, id)?;
    let now = state.now();
    if !loan.is_default_due(now) {
        return Err(LoanError::LoanIsNotInDefault.into());
    }
    let paid_through = loan.next_due_at.saturating_sub(loan.interval_secs);
    let elapsed = now.saturating_sub(paid_through);
    loan.senior.interest_due =
        schedule::simple_interest(loan.senior.principal, loan.senior.rate, elapsed)?;
    loan.junior.interest_due =
        schedule::simple_interest(loan.junior.principal, loan.junior.rate, elapsed)?;
    vault::update_senior_position(state, &mut loan.senior_accrual, true, U256::ZERO);
    loan.status = LoanStatus::Defaulted;
    loan.defaulted_at = Some(now);
    loan.margin_call = None;
    for &receipt_id in &loan.receipts {
        receipts::set_status(state, receipt_id, ReceiptStatus::Foreclosed, Some(id), None);
    }
    remark(state, &mut loan)?;
    let (senior_interest_due, junior_interest_due) =
        (loan.senior.interest_due, loan.junior.interest_due);
    store(state, loan);
    state.emit(Event::LoanDefaulted { loan_id: id, senior_interest_due, junior_interest_due });
    Ok(())
}

/// `foreclose_loan`: the silo's curator (or admin) hands a defaulted loan's receipts to a
/// liquidation agent.
pub fn foreclose_loan(
    state: &mut State,
    sender: Address,
    id: LoanId,
    agent: Address,
) -> Result<(), TxError> {
    let mut loan = loan(state, id)?;
    if loan.status != LoanStatus::Defaulted {
        return Err(LoanError::LoanIsNotDefaulted.into());
    }
    let curator = silos::silo(state, loan.silo)?.curator;
    if sender != curator && !state.governance.has_role(Role::Admin, sender) {
        return Err(SiloError::SenderIsNotSiloCurator.into());
    }
    if loan.liquidation_agent.is_some() {
        return Err(LoanError::LoanAlreadyForeclosed.into());
    }
    if !state.governance.has_role(Role::LiquidationAgent, agent) {
        return Err(LoanError::LiquidationAgentLacksRole.into());
    }
    for &receipt_id in &loan.receipts {
        // A receipt an insurer already settled stays with the insurer.
        let unsold = state
            .receipts
            .receipts
            .get(&receipt_id)
            .is_some_and(|receipt| receipt.status == ReceiptStatus::Foreclosed);
        if unsold {
            receipts::set_status(
                state,
                receipt_id,
                ReceiptStatus::Foreclosed,
                Some(id),
                Some(agent),
            );
        }
    }
    loan.liquidation_agent = Some(agent);
    store(state, loan);
    state.emit(Event::LoanForeclosed { loan_id: id, liquidation_agent: agent });
    Ok(())
}

/// A liquidation sale as the agent reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleReport {
    /// What the buyer paid.
    pub gross_proceeds: Amount,
    /// The ITAD reseller's commission.
    pub itad_commission: Amount,
    /// Legal enforcement.
    pub legal_costs: Amount,
    /// De-racking, packing and shipping.
    pub logistics_costs: Amount,
    /// Certified data destruction.
    pub data_destruction_costs: Amount,
}

impl SaleReport {
    /// Every cost.
    pub fn costs(&self) -> Result<Amount, Overflow> {
        self.itad_commission
            .checked_add(self.legal_costs)?
            .checked_add(self.logistics_costs)?
            .checked_add(self.data_destruction_costs)
    }
}

fn foreclosed_receipt_loan(state: &State, receipt_id: ReceiptId) -> Result<Loan, TxError> {
    let receipt = receipts::receipt(state, receipt_id)?;
    let Some(loan_id) = receipt.loan.filter(|_| receipt.status == ReceiptStatus::Foreclosed) else {
        return Err(LoanError::ReceiptIsNotForeclosed.into());
    };
    let loan = loan(state, loan_id)?;
    if loan.status != LoanStatus::Defaulted {
        return Err(LoanError::LoanIsNotDefaulted.into());
    }
    Ok(loan)
}

/// `report_sale`: the loan's liquidation agent reports a receipt's sale, pays the gross
/// proceeds into the liquidation escrow, is reimbursed its costs, and the net proceeds go
/// through the waterfall.
pub fn report_sale(
    state: &mut State,
    sender: Address,
    receipt_id: ReceiptId,
    report: SaleReport,
) -> Result<(), TxError> {
    require_role(state, Role::LiquidationAgent, sender)?;
    let mut loan = foreclosed_receipt_loan(state, receipt_id)?;
    if loan.liquidation_agent != Some(sender) {
        return Err(LoanError::SenderIsNotLoanLiquidationAgent.into());
    }
    let costs = report.costs()?;
    if costs > report.gross_proceeds {
        return Err(LoanError::SaleCostsExceedProceeds.into());
    }
    let escrow = ProtocolAccount::LiquidationEscrow;
    send(state, sender, escrow, report.gross_proceeds)?;
    send(state, escrow, sender, costs)?;
    receipts::set_status(state, receipt_id, ReceiptStatus::Sold, Some(loan.id), None);
    loan.recovery.gross = loan.recovery.gross.checked_add(report.gross_proceeds)?;
    loan.recovery.costs = loan.recovery.costs.checked_add(costs)?;
    state.emit(Event::SaleReported { receipt_id, loan_id: loan.id, report });
    let net = report.gross_proceeds.checked_sub(costs)?;
    waterfall(state, &mut loan, escrow, net)?;
    settle_if_liquidated(state, loan)
}

/// `pay_insurance_claim`: the insurer of a foreclosed receipt's policy pays a claim (e.g. the
/// hardware was destroyed) into the waterfall, in place of a sale; it takes the salvage.
pub fn pay_insurance_claim(
    state: &mut State,
    sender: Address,
    receipt_id: ReceiptId,
    amount: Amount,
) -> Result<(), TxError> {
    require_role(state, Role::Insurer, sender)?;
    let receipt = receipts::receipt(state, receipt_id)?;
    let mut loan = foreclosed_receipt_loan(state, receipt_id)?;
    let Some(policy) = receipt.policy else {
        return Err(ReceiptError::ReceiptHasNoPolicy.into());
    };
    if policy.insurer != sender {
        return Err(ReceiptError::SenderIsNotPolicyInsurer.into());
    }
    if amount.is_zero() {
        return Err(LedgerError::AmountMustNotBeZero.into());
    }
    if amount > policy.coverage {
        return Err(LoanError::InsuranceClaimExceedsCoverage.into());
    }
    send(state, sender, ProtocolAccount::InsuranceClaims, amount)?;
    receipts::set_status(state, receipt_id, ReceiptStatus::Sold, Some(loan.id), Some(sender));
    loan.recovery.gross = loan.recovery.gross.checked_add(amount)?;
    state.emit(Event::InsuranceClaimPaid { receipt_id, loan_id: loan.id, insurer: sender, amount });
    waterfall(state, &mut loan, ProtocolAccount::InsuranceClaims, amount)?;
    settle_if_liquidated(state, loan)
}

/// One pass of the waterfall (SPEC 9.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaterfallPass {
    /// Net proceeds in.
    pub net: Amount,
    /// 1. Liquidation fee to the fee collector (rounded up).
    pub liquidation_fee: Amount,
    /// 2. Senior principal.
    pub senior_principal: Amount,
    /// 2. Senior interest.
    pub senior_interest: Amount,
    /// 3. Junior principal.
    pub junior_principal: Amount,
    /// 3. Junior interest.
    pub junior_interest: Amount,
    /// 4. The remainder, to the borrower.
    pub borrower: Amount,
}

/// Distributes `net` from `source` in waterfall order; conserves value exactly.
fn waterfall(
    state: &mut State,
    loan: &mut Loan,
    source: ProtocolAccount,
    net: Amount,
) -> Result<WaterfallPass, TxError> {
    let fee_bps = state.governance.params.get().liquidation_fee_bps;
    let liquidation_fee = net.mul_bps(fee_bps, Rounding::Up)?.min(net);
    let mut left = net.checked_sub(liquidation_fee)?;
    let mut take = |claim: Amount| {
        let paid = left.min(claim);
        left = Amount(left.0 - paid.0);
        paid
    };
    let senior_principal = take(loan.senior.principal);
    let senior_interest = take(loan.senior.interest_due);
    let junior_principal = take(loan.junior.principal);
    let junior_interest = take(loan.junior.interest_due);
    let borrower = take(Amount::MAX);
    let pass = WaterfallPass {
        net,
        liquidation_fee,
        senior_principal,
        senior_interest,
        junior_principal,
        junior_interest,
        borrower,
    };
    let parts = [liquidation_fee, senior_principal, senior_interest, junior_principal];
    let total = parts
        .iter()
        .try_fold(junior_interest.checked_add(borrower)?, |sum, part| sum.checked_add(*part))?;
    assert_eq!(total, net, "the waterfall must conserve value");
    send(state, source, ProtocolAccount::FeeCollector, liquidation_fee)?;
    send(state, source, ProtocolAccount::Vault, senior_principal.checked_add(senior_interest)?)?;
    let junior_cash = junior_principal.checked_add(junior_interest)?;
    silos::pool_transfer_in(state, loan.silo, source.into(), junior_cash)?;
    if state.ledger.is_frozen(loan.borrower) {
        send(state, source, ProtocolAccount::Loan(loan.id), borrower)?;
        loan.surplus_held = loan.surplus_held.checked_add(borrower)?;
    } else {
        send(state, source, loan.borrower, borrower)?;
    }
    reduce_principal(state, loan, senior_principal, junior_principal)?;
    loan.senior.interest_due = loan.senior.interest_due.checked_sub(senior_interest)?;
    loan.junior.interest_due = loan.junior.interest_due.checked_sub(junior_interest)?;
    let recovery = &mut loan.recovery;
    recovery.liquidation_fees = recovery.liquidation_fees.checked_add(liquidation_fee)?;
    recovery.to_senior =
        recovery.to_senior.checked_add(senior_principal)?.checked_add(senior_interest)?;
    recovery.to_junior = recovery.to_junior.checked_add(junior_cash)?;
    recovery.to_borrower = recovery.to_borrower.checked_add(borrower)?;
    state.emit(Event::WaterfallDistributed { loan_id: loan.id, pass });
    Ok(pass)
}

/// Settles a defaulted loan once every receipt is sold: the silo's free pool covers what the
/// senior tranche is still owed (principal, then interest), the rest of the senior principal is
/// the vault's loss, the junior principal left is written off; impairment is released.
fn settle_if_liquidated(state: &mut State, mut loan: Loan) -> Result<(), TxError> {
    let unsold = loan.receipts.iter().any(|id| {
        state.receipts.receipts.get(id).is_some_and(|r| r.status == ReceiptStatus::Foreclosed)
    });
    if unsold {
        remark(state, &mut loan)?;
        store(state, loan);
        return Ok(());
    }
    let pool = silos::silo(state, loan.silo)?.pool_balance;
    let owed = loan.senior.principal.checked_add(loan.senior.interest_due)?;
    let cover = pool.min(owed);
    let cover_principal = cover.min(loan.senior.principal);
    silos::pool_transfer_out(state, loan.silo, ProtocolAccount::Vault.into(), cover)?;
    reduce_principal(state, &mut loan, cover_principal, Amount::ZERO)?;
    let senior_loss = loan.senior.principal;
    let junior_loss = loan.junior.principal;
    reduce_principal(state, &mut loan, senior_loss, junior_loss)?;
    loan.senior.interest_due = Amount::ZERO;
    loan.junior.interest_due = Amount::ZERO;
    loan.recovery.first_loss_cover = cover;
    loan.recovery.senior_loss = senior_loss;
    loan.recovery.junior_loss = junior_loss;
    loan.status = LoanStatus::Settled;
    set_uncovered(state, &mut loan, Amount::ZERO)?;
    silos::update(state, loan.silo, |silo| silo.loans_outstanding -= 1);
    silos::record_loss(state, loan.silo, cover.checked_add(junior_loss)?)?;
    silos::refresh(state, loan.silo)?;
    state.loans.open.remove(&loan.id);
    let id = loan.id;
    store(state, loan);
    state.emit(Event::LoanSettled {
        loan_id: id,
        first_loss_cover: cover,
        senior_loss,
        junior_loss,
    });
    Ok(())
}

/// `claim_loan_surplus`: a borrower unfrozen after its loan's liquidation takes the remainder
/// the waterfall held for it.
pub fn claim_surplus(state: &mut State, sender: Address, id: LoanId) -> Result<(), TxError> {
    let mut loan = loan(state, id)?;
    if sender != loan.borrower {
        return Err(LoanError::SenderIsNotLoanBorrower.into());
    }
    let amount = loan.surplus_held;
    if amount.is_zero() {
        return Err(LoanError::LoanSurplusIsZero.into());
    }
    send(state, ProtocolAccount::Loan(id), sender, amount)?;
    loan.surplus_held = Amount::ZERO;
    store(state, loan);
    state.emit(Event::LoanSurplusClaimed { loan_id: id, amount });
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
