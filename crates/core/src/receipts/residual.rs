//! Residual-value insurance (issue 16): the insurer of a receipt's policy may insure a floor
//! value; after a liquidation sale of the receipt it owes the floor minus the sale's net
//! proceeds (`loans::residual`).
//!
//! Guarantees: a floor is at most the policy's coverage (a renewal cannot cut the coverage
//! below it); while the receipt is pledged the floor may be raised, never lowered, so an
//! insurer that sees a default coming cannot shed the risk lenders priced; once foreclosed the
//! floor is fixed.

use super::{ReceiptError, ReceiptStatus};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, ReceiptId},
    math::Amount,
    params::Role,
    state::State,
};
use serde::{Deserialize, Serialize};

/// The policy's insurer: insure a residual-value floor.
///
/// Checks in order: the insurer role, the receipt (not foreclosed, sold or redeemed), a policy
/// in force issued by the sender, the floor at most the coverage, and, while the receipt is
/// pledged, not below the current floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetResidualFloor {
    /// The receipt whose policy insures the floor.
    pub receipt_id: ReceiptId,
    /// The floor, in USDai base units (zero: no residual-value cover).
    pub floor_value: Amount,
}

impl ActionHandler for SetResidualFloor {
    const NAME: &'static str = "set_residual_floor";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id, floor_value } = *self;
        require_role(state, Role::Insurer, sender)?;
        let mut receipt = super::receipt(state, receipt_id)?;
        if matches!(
            receipt.status,
            ReceiptStatus::Foreclosed | ReceiptStatus::Sold | ReceiptStatus::Redeemed
        ) {
            return Err(ReceiptError::ReceiptIsClosed.into());
        }
        let now = state.now();
        let pledged = receipt.status == ReceiptStatus::Pledged;
        let Some(policy) = receipt.policy.as_mut() else {
            return Err(ReceiptError::ReceiptHasNoPolicy.into());
        };
        if policy.insurer != sender {
            return Err(ReceiptError::SenderIsNotPolicyInsurer.into());
        }
        if now >= policy.expires_at {
            return Err(ReceiptError::ReceiptInsuranceLapsed.into());
        }
        if floor_value > policy.coverage {
            return Err(ReceiptError::ResidualFloorExceedsCoverage.into());
        }
        if pledged && floor_value < policy.floor_value {
            return Err(ReceiptError::ResidualFloorCannotBeLoweredWhilePledged.into());
        }
        policy.floor_value = floor_value;
        state.receipts.receipts.insert(receipt_id, receipt);
        state.emit(Event::ResidualFloorSet { receipt_id, insurer: sender, floor_value });
        Ok(())
    }
}
