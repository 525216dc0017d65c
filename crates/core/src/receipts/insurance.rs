//! Insurers' policies on receipts: attaching one and renewing it. Coverage is what
//! `check_eligible` compares with the value for LTV.

use super::{Policy, ReceiptError, ReceiptStatus, receipt};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, B256, ReceiptId},
    math::Amount,
    params::Role,
    state::State,
};
use serde::{Deserialize, Serialize};

/// Insurer: attach a policy.
///
/// An insurer insures a receipt that has no unexpired policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachPolicy {
    /// The receipt insured.
    pub receipt_id: ReceiptId,
    /// The insurer's policy id.
    pub policy_id: B256,
    /// The amount insured, in USDai base units.
    pub coverage: Amount,
    /// When the policy ends (unix seconds).
    pub expires_at: u64,
}

impl ActionHandler for AttachPolicy {
    const NAME: &'static str = "attach_policy";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id: id, policy_id, coverage, expires_at } = *self;
        require_role(state, Role::Insurer, sender)?;
        let mut receipt = receipt(state, id)?;
        let now = state.now();
        if matches!(
            receipt.status,
            ReceiptStatus::Sold | ReceiptStatus::Redeemed | ReceiptStatus::WrittenOff
        ) {
            return Err(ReceiptError::ReceiptIsClosed.into());
        }
        if receipt.policy.as_ref().is_some_and(|policy| now < policy.expires_at) {
            return Err(ReceiptError::ReceiptAlreadyInsured.into());
        }
        if coverage.is_zero() {
            return Err(ReceiptError::CoverageMustNotBeZero.into());
        }
        if expires_at <= now {
            return Err(ReceiptError::PolicyExpiryMustBeLater.into());
        }
        let floor_value = Amount::ZERO;
        receipt.policy =
            Some(Policy { insurer: sender, policy_id, coverage, expires_at, floor_value });
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::PolicyAttached { receipt_id: id, insurer: sender, coverage, expires_at });
        Ok(())
    }
}

/// The policy's insurer: renew it.
///
/// The policy's insurer extends it, with a new coverage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewPolicy {
    /// The receipt whose policy is renewed.
    pub receipt_id: ReceiptId,
    /// The new amount insured, in USDai base units.
    pub coverage: Amount,
    /// The new end (unix seconds).
    pub expires_at: u64,
}

impl ActionHandler for RenewPolicy {
    const NAME: &'static str = "renew_policy";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id: id, coverage, expires_at } = *self;
        require_role(state, Role::Insurer, sender)?;
        let mut receipt = receipt(state, id)?;
        if matches!(
            receipt.status,
            ReceiptStatus::Sold | ReceiptStatus::Redeemed | ReceiptStatus::WrittenOff
        ) {
            return Err(ReceiptError::ReceiptIsClosed.into());
        }
        let Some(policy) = receipt.policy.as_mut() else {
            return Err(ReceiptError::ReceiptHasNoPolicy.into());
        };
        if policy.insurer != sender {
            return Err(ReceiptError::SenderIsNotPolicyInsurer.into());
        }
        if coverage.is_zero() {
            return Err(ReceiptError::CoverageMustNotBeZero.into());
        }
        if expires_at <= state.now() || expires_at <= policy.expires_at {
            return Err(ReceiptError::PolicyExpiryMustBeLater.into());
        }
        // A renewal cannot cut the cover below the residual floor lenders rely on.
        if coverage < policy.floor_value {
            return Err(ReceiptError::ResidualFloorExceedsCoverage.into());
        }
        policy.coverage = coverage;
        policy.expires_at = expires_at;
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::PolicyRenewed { receipt_id: id, coverage, expires_at });
        Ok(())
    }
}
