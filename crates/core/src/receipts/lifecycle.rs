//! A receipt's life cycle `Issued -> Pledged -> (Released | Foreclosed -> Sold) -> Redeemed`:
//! the custodian issues, amends, releases and redeems; the holder transfers and asks for
//! redemption. Only the issuing custodian acts on its receipts, and a pledged, foreclosed or
//! sold receipt can be neither transferred nor redeemed.

use super::{Receipt, ReceiptDescription, ReceiptError, ReceiptStatus, receipt};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, AssetClassId, LoanId, ReceiptId},
    ledger::LedgerError,
    params::Role,
    state::State,
};
use serde::{Deserialize, Serialize};

pub(super) fn issued_by(state: &State, sender: Address, id: ReceiptId) -> Result<Receipt, TxError> {
    require_role(state, Role::Custodian, sender)?;
    let receipt = receipt(state, id)?;
    if receipt.custodian != sender {
        return Err(ReceiptError::SenderIsNotIssuingCustodian.into());
    }
    Ok(receipt)
}

pub(super) fn require_free(receipt: &Receipt) -> Result<(), TxError> {
    match receipt.status {
        ReceiptStatus::Issued | ReceiptStatus::Released => Ok(()),
        ReceiptStatus::Pledged => Err(ReceiptError::ReceiptIsPledged.into()),
        _ => Err(ReceiptError::ReceiptIsClosed.into()),
    }
}

/// Custodian: issue a receipt to `owner`.
///
/// A custodian issues a receipt for hardware it holds to `owner`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueReceipt {
    /// The hardware's asset class.
    pub class: AssetClassId,
    /// Who receives the receipt.
    pub owner: Address,
    /// Quantity, serials, facility, jurisdiction and bailment document.
    pub description: ReceiptDescription,
}

impl ActionHandler for IssueReceipt {
    const NAME: &'static str = "issue_receipt";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { class, owner, ref description } = *self;
        require_role(state, Role::Custodian, sender)?;
        if !state.receipts.classes.contains_key(&class) {
            return Err(ReceiptError::AssetClassNotFound.into());
        }
        description.check()?;
        let id = ReceiptId(*state.receipts.next_receipt_id.get());
        *state.receipts.next_receipt_id.get_mut() += 1;
        let receipt = Receipt {
            id,
            class,
            custodian: sender,
            owner,
            description: description.clone(),
            policy: None,
            valuation: None,
            status: ReceiptStatus::Issued,
            loan: None,
            redemption_requested: false,
            issued_at: state.now(),
        };
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptIssued { receipt_id: id, class, custodian: sender, owner });
        Ok(())
    }
}

/// Issuing custodian: amend a receipt's description.
///
/// The issuing custodian corrects a receipt's description. A change of
/// quantity drops the valuation (it no longer describes the same hardware).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmendReceipt {
    /// The receipt amended.
    pub receipt_id: ReceiptId,
    /// Its new description.
    pub description: ReceiptDescription,
}

impl ActionHandler for AmendReceipt {
    const NAME: &'static str = "amend_receipt";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id: id, ref description } = *self;
        let mut receipt = issued_by(state, sender, id)?;
        if matches!(
            receipt.status,
            ReceiptStatus::Foreclosed
                | ReceiptStatus::Sold
                | ReceiptStatus::Redeemed
                | ReceiptStatus::WrittenOff
        ) {
            return Err(ReceiptError::ReceiptIsClosed.into());
        }
        description.check()?;
        if description.quantity != receipt.description.quantity {
            receipt.valuation = None;
        }
        receipt.description = description.clone();
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptAmended { receipt_id: id });
        Ok(())
    }
}

/// Issuing custodian: release an issued receipt.
///
/// The issuing custodian clears an issued receipt of any claim, ready to be
/// redeemed (a pledged receipt is released only by its loan's repayment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseReceipt {
    /// The receipt released.
    pub receipt_id: ReceiptId,
}

impl ActionHandler for ReleaseReceipt {
    const NAME: &'static str = "release_receipt";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.receipt_id;
        let mut receipt = issued_by(state, sender, id)?;
        if receipt.status == ReceiptStatus::Pledged {
            return Err(ReceiptError::ReceiptIsPledged.into());
        }
        if receipt.status != ReceiptStatus::Issued {
            return Err(ReceiptError::ReceiptIsNotIssued.into());
        }
        receipt.status = ReceiptStatus::Released;
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptReleased { receipt_id: id });
        Ok(())
    }
}

/// Owner: transfer a free receipt.
///
/// The owner gives a free receipt to another address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferReceipt {
    /// The receipt transferred.
    pub receipt_id: ReceiptId,
    /// Its new owner.
    pub to: Address,
}

impl ActionHandler for TransferReceipt {
    const NAME: &'static str = "transfer_receipt";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id: id, to } = *self;
        let mut receipt = receipt(state, id)?;
        if receipt.owner != sender {
            return Err(ReceiptError::SenderIsNotReceiptOwner.into());
        }
        require_free(&receipt)?;
        if receipt.redemption_requested {
            return Err(ReceiptError::ReceiptRedemptionAlreadyRequested.into());
        }
        if to == sender {
            return Err(ReceiptError::RecipientMustNotBeOwner.into());
        }
        if to == Address::ZERO {
            return Err(LedgerError::RecipientMustNotBeZero.into());
        }
        receipt.owner = to;
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptTransferred { receipt_id: id, from: sender, to });
        Ok(())
    }
}

/// Owner: ask for the hardware back.
///
/// The owner asks the custodian for the hardware back (the
/// owner's half of `redeem_receipt`); the receipt can no longer be transferred or pledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestReceiptRedemption {
    /// The receipt whose hardware is asked back.
    pub receipt_id: ReceiptId,
}

impl ActionHandler for RequestReceiptRedemption {
    const NAME: &'static str = "request_receipt_redemption";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.receipt_id;
        let mut receipt = receipt(state, id)?;
        if receipt.owner != sender {
            return Err(ReceiptError::SenderIsNotReceiptOwner.into());
        }
        require_free(&receipt)?;
        if receipt.status != ReceiptStatus::Released {
            return Err(ReceiptError::ReceiptIsNotReleased.into());
        }
        if receipt.redemption_requested {
            return Err(ReceiptError::ReceiptRedemptionAlreadyRequested.into());
        }
        receipt.redemption_requested = true;
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptRedemptionRequested { receipt_id: id, owner: sender });
        Ok(())
    }
}

/// Issuing custodian: hand the hardware back and burn the receipt.
///
/// The issuing custodian hands the hardware back and burns the receipt (the
/// custodian's half; the owner asked first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemReceipt {
    /// The receipt burned.
    pub receipt_id: ReceiptId,
}

impl ActionHandler for RedeemReceipt {
    const NAME: &'static str = "redeem_receipt";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let id = self.receipt_id;
        let mut receipt = issued_by(state, sender, id)?;
        if receipt.status != ReceiptStatus::Released {
            return Err(ReceiptError::ReceiptIsNotReleased.into());
        }
        if !receipt.redemption_requested {
            return Err(ReceiptError::ReceiptRedemptionNotRequested.into());
        }
        receipt.status = ReceiptStatus::Redeemed;
        let owner = receipt.owner;
        state.receipts.receipts.insert(id, receipt);
        state.emit(Event::ReceiptRedeemed { receipt_id: id, owner });
        Ok(())
    }
}

/// Moves receipt `id` to `status` (and its lien to `loan`, its owner to `owner` if given);
/// for the loan component, which has checked the transition.
pub(crate) fn set_status(
    state: &mut State,
    id: ReceiptId,
    status: ReceiptStatus,
    loan: Option<LoanId>,
    owner: Option<Address>,
) {
    let updated = state.receipts.receipts.update(&id, |receipt| {
        receipt.status = status;
        receipt.loan = loan;
        if let Some(owner) = owner {
            receipt.owner = owner;
        }
        receipt.owner
    });
    let Some(owner) = updated else { unreachable!("status change of a missing receipt") };
    state.emit(Event::ReceiptStatusChanged { receipt_id: id, status, loan, owner });
}
