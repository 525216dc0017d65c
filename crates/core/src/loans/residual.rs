//! Residual-value claims (issue 16): after a liquidation sale of a receipt whose policy insures
//! a floor (`receipts::residual`), the insurer owes the floor minus the sale's net proceeds;
//! after a write-off of a receipt nobody sold (`liquidation::WriteOffReceipt`) it owes the
//! whole floor (nothing was recovered). The claim is booked at the sale or write-off; the insurer pays it through the waterfall like any
//! recovery; the loan settles only once every claim is paid or, unpaid after
//! [`RESIDUAL_CLAIM_PERIOD_SECS`], written off by the admin (booked as insurance unpaid, so
//! the deficiency says who failed to pay).
//!
//! Guarantees: a claim is owed only if the policy was in force when the loan defaulted and
//! only for what the floor exceeds the net proceeds; it is paid once, in full, by its insurer;
//! an insurer who never pays cannot hold the loan unsettled past the payment period.

use super::{Loan, LoanStatus, liquidation, loan};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, LoanId, ProtocolAccount, ReceiptId},
    math::Amount,
    params::Role,
    receipts::ReceiptError,
    state::State,
};
use serde::{Deserialize, Serialize};

/// How long an insurer has to pay a residual-value claim before the admin may write it off
/// (30 days).
pub const RESIDUAL_CLAIM_PERIOD_SECS: u64 = 30 * 86_400;

/// What an insurer owes after a liquidation sale (or write-off) of an insured receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidualClaim {
    /// The defaulted loan the receipt secured.
    pub loan_id: LoanId,
    /// The policy's insurer.
    pub insurer: Address,
    /// The insured floor.
    pub floor_value: Amount,
    /// The sale's net proceeds (gross less costs); zero for a write-off.
    pub net_proceeds: Amount,
    /// What is owed: the floor less the net proceeds.
    pub amount: Amount,
    /// When it was booked (the sale or write-off).
    pub booked_at: u64,
}

/// Books the residual-value claim on `receipt_id` after its sale for `net_proceeds` (zero for
/// a write-off), if its
/// policy insures a floor above them and was in force when `loan` defaulted.
pub(super) fn book_claim(
    state: &mut State,
    loan: &mut Loan,
    receipt_id: ReceiptId,
    net_proceeds: Amount,
) -> Result<(), TxError> {
    let Some(policy) = state.receipts.receipts.get(&receipt_id).and_then(|r| r.policy.clone())
    else {
        return Ok(());
    };
    let in_force_at_default = loan.defaulted_at.is_some_and(|at| at < policy.expires_at);
    let amount = policy.floor_value.saturating_sub(net_proceeds);
    if !in_force_at_default || amount.is_zero() {
        return Ok(());
    }
    let claim = ResidualClaim {
        loan_id: loan.id,
        insurer: policy.insurer,
        floor_value: policy.floor_value,
        net_proceeds,
        amount,
        booked_at: state.now(),
    };
    loan.recovery.residual_owed = loan.recovery.residual_owed.checked_add(amount)?;
    state.loans.residual_claims.insert(receipt_id, claim);
    state.emit(Event::ResidualClaimBooked {
        receipt_id,
        loan_id: loan.id,
        insurer: policy.insurer,
        floor_value: policy.floor_value,
        net_proceeds,
        amount,
    });
    Ok(())
}

/// Whether any of `loan`'s receipts has an open residual-value claim.
pub(super) fn has_open_claims(state: &State, loan: &Loan) -> bool {
    loan.receipts.iter().any(|id| state.loans.residual_claims.contains_key(id))
}

fn open_claim(state: &State, receipt_id: ReceiptId) -> Result<ResidualClaim, TxError> {
    state
        .loans
        .residual_claims
        .get(&receipt_id)
        .copied()
        .ok_or(ReceiptError::ResidualClaimNotFound.into())
}

/// The claim's insurer: pay a residual-value claim.
///
/// The insurer pays what it owes (the floor less the sale's net proceeds) into the waterfall;
/// the loan settles if nothing else is left to sell or claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayResidualClaim {
    /// The sold or written-off receipt whose claim is paid.
    pub receipt_id: ReceiptId,
}

impl ActionHandler for PayResidualClaim {
    const NAME: &'static str = "pay_residual_claim";
    // It pays the waterfall into the vault and may settle the loan.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let receipt_id = self.receipt_id;
        require_role(state, Role::Insurer, sender)?;
        let claim = open_claim(state, receipt_id)?;
        if claim.insurer != sender {
            return Err(ReceiptError::SenderIsNotPolicyInsurer.into());
        }
        // An open claim keeps its loan defaulted (the invariant checks it).
        let mut loan = loan(state, claim.loan_id)?;
        let source = ProtocolAccount::InsuranceClaims;
        super::send(state, sender, source, claim.amount)?;
        state.loans.residual_claims.remove(&receipt_id);
        let recovery = &mut loan.recovery;
        recovery.gross = recovery.gross.checked_add(claim.amount)?;
        recovery.insurance_paid = recovery.insurance_paid.checked_add(claim.amount)?;
        recovery.residual_owed = recovery.residual_owed.checked_sub(claim.amount)?;
        state.emit(Event::ResidualClaimPaid {
            receipt_id,
            loan_id: loan.id,
            insurer: sender,
            amount: claim.amount,
        });
        liquidation::waterfall(state, &mut loan, source, claim.amount)?;
        liquidation::settle_if_liquidated(state, loan)
    }
}

/// Admin: write off a residual-value claim its insurer did not pay in time.
///
/// After [`RESIDUAL_CLAIM_PERIOD_SECS`] the admin closes an unpaid claim: it is booked as
/// insurance unpaid (the lenders' claim against the insurer continues off-chain) and the loan
/// settles if nothing else is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteOffResidualClaim {
    /// The sold or written-off receipt whose claim is written off.
    pub receipt_id: ReceiptId,
}

impl ActionHandler for WriteOffResidualClaim {
    const NAME: &'static str = "write_off_residual_claim";
    // It may settle the loan, which writes off senior principal.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let receipt_id = self.receipt_id;
        require_role(state, Role::Admin, sender)?;
        let claim = open_claim(state, receipt_id)?;
        if state.now() < claim.booked_at.saturating_add(RESIDUAL_CLAIM_PERIOD_SECS) {
            return Err(ReceiptError::ResidualClaimIsNotOverdue.into());
        }
        let mut loan = loan(state, claim.loan_id)?;
        state.loans.residual_claims.remove(&receipt_id);
        let recovery = &mut loan.recovery;
        recovery.residual_owed = recovery.residual_owed.checked_sub(claim.amount)?;
        recovery.insurance_unpaid = recovery.insurance_unpaid.checked_add(claim.amount)?;
        state.emit(Event::ResidualClaimWrittenOff {
            receipt_id,
            loan_id: loan.id,
            insurer: claim.insurer,
            amount: claim.amount,
        });
        liquidation::settle_if_liquidated(state, loan)
    }
}

/// The residual-claim invariants: each open claim is of a sold or written-off receipt of a
/// defaulted loan, for
/// a positive amount the floor less the net proceeds; each loan's owed total is the sum of its
/// open claims; every policy's floor is at most its coverage.
pub(crate) fn check_invariants(state: &State) -> Result<(), String> {
    use std::collections::BTreeMap;
    let mut owed: BTreeMap<LoanId, Amount> = BTreeMap::new();
    for (receipt_id, claim) in state.loans.residual_claims.iter() {
        let receipt = state.receipts.receipts.get(receipt_id);
        let sold = receipt.is_some_and(|r| {
            use crate::receipts::ReceiptStatus::{Sold, WrittenOff};
            matches!(r.status, Sold | WrittenOff) && r.loan == Some(claim.loan_id)
        });
        let defaulted = state
            .loans
            .loans
            .get(&claim.loan_id)
            .is_some_and(|loan| loan.status == LoanStatus::Defaulted);
        let exact = claim.floor_value.checked_sub(claim.net_proceeds).ok() == Some(claim.amount);
        if !sold || !defaulted || claim.amount.is_zero() || !exact {
            return Err(format!("residual claim on receipt {receipt_id} is malformed: {claim:?}"));
        }
        let sum = owed.entry(claim.loan_id).or_insert(Amount::ZERO);
        *sum = sum.checked_add(claim.amount).map_err(|_| "residual claims overflow")?;
    }
    for (id, loan) in state.loans.loans.iter() {
        let expected = owed.get(id).copied().unwrap_or(Amount::ZERO);
        if loan.recovery.residual_owed != expected {
            return Err(format!(
                "loan {id} books {:?} of residual claims owed, open claims {expected:?}",
                loan.recovery.residual_owed
            ));
        }
    }
    for (id, receipt) in state.receipts.receipts.iter() {
        if receipt.policy.as_ref().is_some_and(|p| p.floor_value > p.coverage) {
            return Err(format!("receipt {id}'s residual floor exceeds its coverage"));
        }
    }
    Ok(())
}
