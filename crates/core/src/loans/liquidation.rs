//! Default and liquidation (SPEC 9.5): a loan past grace or cure is defaulted, its receipts
//! foreclosed to a liquidation agent, each sale or insurance claim paid through the waterfall
//! (fee, senior, junior, borrower), and the loan settled once every receipt is sold: the silo's
//! pool covers the senior shortfall first, the vault takes only what is left.
//!
//! A liquidation is accountable (issue 11): each cost of a sale report is checked against the
//! asset class's recovery cost model ([`sale_cost_bounds`]); a report above any bound does not
//! execute but is held, its gross proceeds escrowed, until the admin approves or rejects it
//! ([`DecideHeldSale`]), so an agent cannot pay itself padded costs out of the waterfall.
//! An agent has [`SALE_PERIOD_SECS`] to sell: after its loan's sale deadline the admin alone
//! may hand the unsold receipts to another agent ([`ForecloseLoan`] again) or write off a
//! receipt nobody can sell ([`WriteOffReceipt`]), so neither an agent sitting on the receipts,
//! nor a curator handing them over at every deadline, nor a receipt with nothing to recover
//! holds a loan open for ever.

use super::{
    Loan, LoanError, LoanStatus, active_loan, loan,
    marks::{remark, set_uncovered},
    payment::payment_due,
    reduce_principal, residual, send, store,
};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, LoanId, ProtocolAccount, ReceiptId},
    ledger::LedgerError,
    math::{Amount, Overflow, Rounding},
    params::Role,
    receipts::{self, ReceiptError, ReceiptStatus, RecoveryCostModel},
    schedule,
    silos::{self, SiloError},
    state::State,
    vault,
};
use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

/// Anyone: default a loan past its grace period or cure window.
///
/// Anyone defaults a loan whose deadline plus grace, or cure window, has
/// passed. Its receipts are foreclosed; interest stops accruing in NAV and what had accrued is
/// reversed; each tranche's claim becomes its principal plus interest since the last paid
/// deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerDefault {
    /// The loan defaulted.
    pub loan_id: LoanId,
}

impl ActionHandler for TriggerDefault {
    const NAME: &'static str = "trigger_default";
    // It recomputes impairment.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, _sender: Address) -> Result<(), TxError> {
        let id = self.loan_id;
        let mut loan = active_loan(state, id)?;
        let now = state.now();
        if !loan.is_default_due(now) {
            return Err(LoanError::LoanIsNotInDefault.into());
        }
        // A missed payment draws on the reserve first: a lapsed grace period alone does not
        // default a loan whose reserve covers what is due.
        if !loan.is_cure_lapsed(now)
            && !loan.reserve.balance.is_zero()
            && payment_due(&loan, now)?.total()? <= loan.reserve.balance
        {
            return Err(LoanError::MissedPaymentIsCoveredByReserve.into());
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
        loan.breach = None;
        remark(state, &mut loan)?;
        let (senior_interest_due, junior_interest_due) =
            (loan.senior.interest_due, loan.junior.interest_due);
        loan.recovery.exposure_at_default =
            loan.balance.checked_add(senior_interest_due)?.checked_add(junior_interest_due)?;
        state.emit(Event::LoanDefaulted { loan_id: id, senior_interest_due, junior_interest_due });
        // The debt-service reserve is the first recovery, through the waterfall.
        let reserve = loan.reserve.balance;
        if !reserve.is_zero() {
            loan.reserve.balance = Amount::ZERO;
            loan.recovery.gross = loan.recovery.gross.checked_add(reserve)?;
            waterfall(state, &mut loan, ProtocolAccount::DebtServiceReserve(id), reserve)?;
            remark(state, &mut loan)?;
        }
        store(state, loan);
        Ok(())
    }
}

/// How long a liquidation agent alone may sell a foreclosed loan's receipts: 90 days from
/// each hand-over. The hardware is sold, or the agent replaced, or the receipt written off.
pub const SALE_PERIOD_SECS: u64 = 90 * 86_400;

/// Curator or admin: hand a defaulted loan's receipts to a liquidation agent (after its sale
/// deadline, the admin alone).
///
/// The silo's curator (or admin) hands a defaulted loan's unsold receipts to a liquidation
/// agent, who alone may sell them for [`SALE_PERIOD_SECS`]. Once that sale deadline has
/// passed, only the admin may hand what is still unsold to another agent (a new deadline) or
/// write it off ([`WriteOffReceipt`]): were the curator allowed to, it could hand over at
/// every deadline and the write-off would never run. The agent replaced can no longer report.
/// A report held for the admin keeps the agent who made it (reimbursed if approved, repaid its
/// gross if rejected).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecloseLoan {
    /// The defaulted loan.
    pub loan_id: LoanId,
    /// Who takes its receipts and sells the hardware.
    pub liquidation_agent: Address,
}

impl ActionHandler for ForecloseLoan {
    const NAME: &'static str = "foreclose_loan";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { loan_id: id, liquidation_agent: agent } = *self;
        let mut loan = loan(state, id)?;
        if loan.status != LoanStatus::Defaulted {
            return Err(LoanError::LoanIsNotDefaulted.into());
        }
        let curator = silos::silo(state, loan.silo)?.curator;
        if sender != curator && !state.governance.has_role(Role::Admin, sender) {
            return Err(SiloError::SenderIsNotSiloCurator.into());
        }
        let now = state.now();
        if let Some(deadline) = loan.sale_deadline_at {
            if now < deadline {
                return Err(LoanError::LoanAlreadyForeclosed.into());
            }
            // A hand-over starts a new deadline, and the write-off waits for the current one:
            // a curator handing over at every deadline would keep it from ever running. Once a
            // deadline has passed, the next step (another agent or a write-off) is the admin's.
            if !state.governance.has_role(Role::Admin, sender) {
                return Err(LoanError::SenderMayNotHandOverAfterSaleDeadline.into());
            }
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
        let sale_deadline_at = now.checked_add(SALE_PERIOD_SECS).ok_or(Overflow)?;
        loan.liquidation_agent = Some(agent);
        loan.sale_deadline_at = Some(sale_deadline_at);
        store(state, loan);
        state.emit(Event::LoanForeclosed {
            loan_id: id,
            liquidation_agent: agent,
            sale_deadline_at,
        });
        Ok(())
    }
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

    /// Whether each of its costs is at most the same cost of `bounds`.
    pub fn costs_within(&self, bounds: &SaleReport) -> bool {
        self.itad_commission <= bounds.itad_commission
            && self.legal_costs <= bounds.legal_costs
            && self.logistics_costs <= bounds.logistics_costs
            && self.data_destruction_costs <= bounds.data_destruction_costs
    }
}

/// The most each cost of a sale of `quantity` units for `gross` may be under a class's
/// recovery cost model (SPEC 9.5), as a report: the ITAD commission at the model's share of
/// the gross (rounded up), each fixed cost at the model's cost per unit times the units. A
/// report whose costs are all within these executes; one above any is held for the admin.
pub fn sale_cost_bounds(
    model: &RecoveryCostModel,
    gross: Amount,
    quantity: u32,
) -> Result<SaleReport, Overflow> {
    let units = u128::from(quantity);
    let per_unit = |cost: Amount| cost.0.checked_mul(units).map(Amount).ok_or(Overflow);
    Ok(SaleReport {
        gross_proceeds: gross,
        itad_commission: gross.mul_bps(model.itad_commission_bps, Rounding::Up)?,
        legal_costs: per_unit(model.legal_cost_per_unit)?,
        logistics_costs: per_unit(model.logistics_cost_per_unit)?,
        data_destruction_costs: per_unit(model.data_destruction_cost_per_unit)?,
    })
}

/// A sale report held for the admin's decision (issue 11): a cost above the recovery cost
/// model's bound. Its gross proceeds wait in `ProtocolAccount::HeldSales`; the receipt stays
/// foreclosed, and nobody but the admin acts on it until the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldSale {
    /// The defaulted loan the receipt secured.
    pub loan_id: LoanId,
    /// The liquidation agent who reported it: reimbursed its costs if the admin approves,
    /// paid its gross back if the admin rejects.
    pub agent: Address,
    /// The report as made.
    pub report: SaleReport,
    /// When it was held (unix seconds).
    pub held_at: u64,
}

/// The loan of a foreclosed receipt whose sale is not held, or why not.
fn foreclosed_receipt_loan(state: &State, receipt_id: ReceiptId) -> Result<Loan, TxError> {
    if state.loans.held_sales.contains_key(&receipt_id) {
        return Err(LoanError::ReceiptSaleIsHeld.into());
    }
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

/// Liquidation agent: report a receipt's sale and pay its proceeds.
///
/// The loan's liquidation agent reports a receipt's sale, pays the gross
/// proceeds into the liquidation escrow, is reimbursed its costs, and the net proceeds go
/// through the waterfall. A report with a cost above the recovery cost model's bound is held
/// instead: the gross waits for the admin's decision, nothing is reimbursed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSale {
    /// The foreclosed receipt sold.
    pub receipt_id: ReceiptId,
    /// Gross proceeds and the costs of the sale.
    pub report: SaleReport,
}

impl ActionHandler for ReportSale {
    const NAME: &'static str = "report_sale";
    // It pays the waterfall into the vault and, at settlement, writes off senior principal.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id, report } = *self;
        require_role(state, Role::LiquidationAgent, sender)?;
        let loan = foreclosed_receipt_loan(state, receipt_id)?;
        if loan.liquidation_agent != Some(sender) {
            return Err(LoanError::SenderIsNotLoanLiquidationAgent.into());
        }
        let costs = report.costs()?;
        if costs > report.gross_proceeds {
            return Err(LoanError::SaleCostsExceedProceeds.into());
        }
        let receipt = receipts::receipt(state, receipt_id)?;
        let Some(class) = state.receipts.classes.get(&receipt.class) else {
            return Err(ReceiptError::AssetClassNotFound.into());
        };
        let quantity = receipt.description.quantity;
        let bounds = sale_cost_bounds(&class.terms.recovery, report.gross_proceeds, quantity)?;
        if !report.costs_within(&bounds) {
            send(state, sender, ProtocolAccount::HeldSales, report.gross_proceeds)?;
            let held = HeldSale { loan_id: loan.id, agent: sender, report, held_at: state.now() };
            state.loans.held_sales.insert(receipt_id, held);
            state.emit(Event::SaleHeld { receipt_id, loan_id: loan.id, report, bounds });
            return Ok(());
        }
        send(state, sender, ProtocolAccount::LiquidationEscrow, report.gross_proceeds)?;
        execute_sale(state, loan, receipt_id, sender, report)
    }
}

/// Pays a sale whose gross proceeds are in the liquidation escrow: `agent`'s costs back to it,
/// the receipt sold, the net through the waterfall, the loan settled once nothing is left to
/// sell.
fn execute_sale(
    state: &mut State,
    mut loan: Loan,
    receipt_id: ReceiptId,
    agent: Address,
    report: SaleReport,
) -> Result<(), TxError> {
    let escrow = ProtocolAccount::LiquidationEscrow;
    let costs = report.costs()?;
    send(state, escrow, agent, costs)?;
    receipts::set_status(state, receipt_id, ReceiptStatus::Sold, Some(loan.id), None);
    let recovery = &mut loan.recovery;
    recovery.gross = recovery.gross.checked_add(report.gross_proceeds)?;
    recovery.costs = recovery.costs.checked_add(costs)?;
    recovery.itad_commission = recovery.itad_commission.checked_add(report.itad_commission)?;
    recovery.legal_costs = recovery.legal_costs.checked_add(report.legal_costs)?;
    recovery.logistics_costs = recovery.logistics_costs.checked_add(report.logistics_costs)?;
    recovery.data_destruction_costs =
        recovery.data_destruction_costs.checked_add(report.data_destruction_costs)?;
    state.emit(Event::SaleReported { receipt_id, loan_id: loan.id, report });
    let net = report.gross_proceeds.checked_sub(costs)?;
    waterfall(state, &mut loan, escrow, net)?;
    // Residual-value insurance (issue 16): the insurer owes what its floor exceeds the net.
    residual::book_claim(state, &mut loan, receipt_id, net)?;
    settle_if_liquidated(state, loan)
}

/// Admin: approve or reject a sale report held for costs above the recovery cost model.
///
/// Approved, the held report executes as reported (the agent who made it is reimbursed its
/// costs, the net goes through the waterfall); rejected, its gross proceeds go back to that
/// agent and the receipt waits for a report within the model's bounds, or another the admin
/// approves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideHeldSale {
    /// The receipt whose sale report is held.
    pub receipt_id: ReceiptId,
    /// Whether the admin approves the report.
    pub approve: bool,
}

impl ActionHandler for DecideHeldSale {
    const NAME: &'static str = "decide_held_sale";
    // Approved, it pays the waterfall into the vault and may settle the loan.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id, approve } = *self;
        require_role(state, Role::Admin, sender)?;
        let Some(held) = state.loans.held_sales.get(&receipt_id).copied() else {
            return Err(LoanError::ReceiptSaleIsNotHeld.into());
        };
        state.loans.held_sales.remove(&receipt_id);
        let HeldSale { loan_id, agent, report, .. } = held;
        state.emit(Event::HeldSaleDecided { receipt_id, loan_id, approved: approve });
        if !approve {
            return send(state, ProtocolAccount::HeldSales, agent, report.gross_proceeds);
        }
        // While held, nothing else could sell, claim or settle the receipt.
        let loan = foreclosed_receipt_loan(state, receipt_id)?;
        let escrow = ProtocolAccount::LiquidationEscrow;
        send(state, ProtocolAccount::HeldSales, escrow, report.gross_proceeds)?;
        execute_sale(state, loan, receipt_id, agent, report)
    }
}

/// Admin: write off a foreclosed receipt nobody sold by its loan's sale deadline.
///
/// For hardware that cannot be recovered (lost, seized, worthless): once the loan's sale
/// deadline has passed, the admin writes the receipt off. It recovers nothing; when nothing
/// else is left to sell the loan settles as after a sale (the curator's pool covers the senior
/// tranche first, the vault takes the rest, impairment is released). Refused before the
/// deadline (or before any foreclosure) and while a sale report of the receipt is held.
/// Its policy's residual-value floor, if any, is owed in full (issue 16): the loan then waits
/// for that claim as after a sale below the floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteOffReceipt {
    /// The foreclosed receipt written off.
    pub receipt_id: ReceiptId,
}

impl ActionHandler for WriteOffReceipt {
    const NAME: &'static str = "write_off_receipt";
    // Settling the loan writes off senior principal and releases impairment.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let receipt_id = self.receipt_id;
        require_role(state, Role::Admin, sender)?;
        let loan = foreclosed_receipt_loan(state, receipt_id)?;
        if loan.sale_deadline_at.is_none_or(|deadline| state.now() < deadline) {
            return Err(LoanError::SaleDeadlineNotPassed.into());
        }
        let mut loan = loan;
        receipts::set_status(state, receipt_id, ReceiptStatus::WrittenOff, Some(loan.id), None);
        state.emit(Event::ReceiptWrittenOff { receipt_id, loan_id: loan.id });
        // The recovery ledger counts it; it recovered nothing, so an insured floor is owed in
        // full (issue 16): the floor insures what the lenders recover, not a sale price.
        loan.recovery.receipts_written_off = loan.recovery.receipts_written_off.saturating_add(1);
        residual::book_claim(state, &mut loan, receipt_id, Amount::ZERO)?;
        settle_if_liquidated(state, loan)
    }
}

/// Insurer: pay a claim on a foreclosed receipt.
///
/// The insurer of a foreclosed receipt's policy pays a claim (e.g. the
/// hardware was destroyed) into the waterfall, in place of a sale; it takes the salvage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayInsuranceClaim {
    /// The foreclosed receipt claimed on.
    pub receipt_id: ReceiptId,
    /// The claim paid, in USDai base units.
    pub amount: Amount,
}

impl ActionHandler for PayInsuranceClaim {
    const NAME: &'static str = "pay_insurance_claim";
    // It pays the waterfall into the vault and, at settlement, writes off senior principal.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id, amount } = *self;
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
        loan.recovery.insurance_paid = loan.recovery.insurance_paid.checked_add(amount)?;
        state.emit(Event::InsuranceClaimPaid {
            receipt_id,
            loan_id: loan.id,
            insurer: sender,
            amount,
        });
        waterfall(state, &mut loan, ProtocolAccount::InsuranceClaims, amount)?;
        settle_if_liquidated(state, loan)
    }
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
pub(super) fn waterfall(
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

/// Settles a defaulted loan once every receipt is sold and every residual-value claim paid or
/// written off: the silo's free pool covers what the senior tranche is still owed (principal,
/// then interest), the rest of the senior principal is the vault's loss, the junior principal
/// left is written off; impairment is released.
pub(super) fn settle_if_liquidated(state: &mut State, mut loan: Loan) -> Result<(), TxError> {
    let unsold = loan.receipts.iter().any(|id| {
        state.receipts.receipts.get(id).is_some_and(|r| r.status == ReceiptStatus::Foreclosed)
    });
    if unsold || residual::has_open_claims(state, &loan) {
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

/// Borrower: claim a liquidation surplus held while it was frozen.
///
/// A borrower unfrozen after its loan's liquidation takes the remainder
/// the waterfall held for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimLoanSurplus {
    /// The settled loan.
    pub loan_id: LoanId,
}

impl ActionHandler for ClaimLoanSurplus {
    const NAME: &'static str = "claim_loan_surplus";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.loan_id;
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
}
