//! The gateway to other chains: the attestor credits external deposits once per external id;
//! a withdrawal waits as a [`Payout`] that is either confirmed (burned here) or rejected
//! (returned to its owner), so no path loses or duplicates value.

use super::{ReserveError, require_supported};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, Asset, B256, PayoutId, ProtocolAccount, Symbol},
    ledger::{self, LedgerError},
    math::Amount,
    params::Role,
    state::State,
};
use serde::{Deserialize, Serialize};

/// The longest gateway payout destination, in bytes.
pub const DESTINATION_LENGTH_MAX: usize = 128;

/// The longest payout rejection reason, in bytes.
pub const REASON_LENGTH_MAX: usize = 256;

/// Where a gateway payout stands. In JSON: `{"status": "confirmed", "external_id": "0x.."}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutStatus {
    /// Debited from the user, waiting for the attestor.
    Pending,
    /// Paid out on the other chain; the stablecoin was burned here.
    Confirmed {
        /// The external transfer that paid it.
        external_id: B256,
    },
    /// Refused; the stablecoin went back to the owner.
    Rejected {
        /// Why.
        reason: String,
    },
}

/// The serde mirrors of [`PayoutStatus`]: postcard cannot read the tagged JSON shape back, so
/// the state's binary encoding uses the plain enum (see `params::serde_by_format`).
mod payout_status_forms {
    use super::{B256, PayoutStatus};
    use serde::{Deserialize, Serialize};

    /// JSON form, tagged by `status`.
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case", tag = "status")]
    pub(super) enum Tagged {
        Pending,
        Confirmed { external_id: B256 },
        Rejected { reason: String },
    }

    /// Binary form: variant index, then fields.
    #[derive(Serialize, Deserialize)]
    pub(super) enum Indexed {
        Pending,
        Confirmed { external_id: B256 },
        Rejected { reason: String },
    }

    macro_rules! convert {
        ($from:ty => $to:ty, $from_path:ident => $to_path:ident) => {
            impl From<$from> for $to {
                fn from(status: $from) -> $to {
                    match status {
                        $from_path::Pending => $to_path::Pending,
                        $from_path::Confirmed { external_id } => {
                            $to_path::Confirmed { external_id }
                        }
                        $from_path::Rejected { reason } => $to_path::Rejected { reason },
                    }
                }
            }
        };
    }
    convert!(PayoutStatus => Tagged, PayoutStatus => Tagged);
    convert!(Tagged => PayoutStatus, Tagged => PayoutStatus);
    convert!(PayoutStatus => Indexed, PayoutStatus => Indexed);
    convert!(Indexed => PayoutStatus, Indexed => PayoutStatus);
}

crate::params::serde_by_format!(
    PayoutStatus,
    human: payout_status_forms::Tagged,
    binary: payout_status_forms::Indexed
);

/// A withdrawal to another chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    /// Its id.
    pub id: PayoutId,
    /// Who withdrew.
    pub owner: Address,
    /// Which stablecoin.
    pub token: Symbol,
    /// How much.
    pub amount: Amount,
    /// Where to (an address on the other chain).
    pub destination: String,
    /// When it was requested.
    pub requested_at: u64,
    /// Its status.
    pub status: PayoutStatus,
}

/// Attestor: credit an external deposit.
///
/// The attestor credits an external deposit, once per external id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayCredit {
    /// The user credited.
    pub account: Address,
    /// The stablecoin deposited on the other chain.
    pub token: Symbol,
    /// How much, in base units.
    pub amount: Amount,
    /// The external transfer id: a second credit with the same id is refused.
    pub external_id: B256,
}

impl ActionHandler for GatewayCredit {
    const NAME: &'static str = "gateway_credit";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { account, token, amount, external_id } = *self;
        require_role(state, Role::GatewayAttestor, sender)?;
        require_supported(state, token)?;
        if amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        if state.reserve.credited_external_ids.contains_key(&external_id) {
            return Err(ReserveError::ExternalIdAlreadyCredited.into());
        }
        state.reserve.credited_external_ids.insert(external_id, ());
        ledger::mint(state, Asset::Stablecoin(token), account, amount)?;
        state.emit(Event::GatewayCredited { account, token, amount, external_id });
        Ok(())
    }
}

pub(super) fn is_printable_ascii(text: &str, length_max: usize) -> bool {
    !text.is_empty() && text.len() <= length_max && text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// User: withdraw a stablecoin to another chain.
///
/// A user sends a stablecoin to another chain; it waits as a payout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayWithdraw {
    /// The stablecoin withdrawn.
    pub token: Symbol,
    /// How much, in base units.
    pub amount: Amount,
    /// Where the attestor pays it out (printable ASCII, bounded length).
    pub destination: String,
}

impl ActionHandler for GatewayWithdraw {
    const NAME: &'static str = "gateway_withdraw";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { token, amount, ref destination } = *self;
        require_supported(state, token)?;
        if amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        if !is_printable_ascii(destination, DESTINATION_LENGTH_MAX) {
            return Err(ReserveError::DestinationInvalid.into());
        }
        ledger::transfer(
            state,
            Asset::Stablecoin(token),
            sender,
            ProtocolAccount::GatewayOut,
            amount,
        )?;
        let id = PayoutId(*state.reserve.next_payout_id.get());
        *state.reserve.next_payout_id.get_mut() += 1;
        let payout = Payout {
            id,
            owner: sender,
            token,
            amount,
            destination: destination.to_string(),
            requested_at: state.now(),
            status: PayoutStatus::Pending,
        };
        state.reserve.payouts.insert(id, payout);
        state.emit(Event::PayoutRequested { payout_id: id, owner: sender, token, amount });
        Ok(())
    }
}

pub(super) fn pending_payout(state: &State, payout_id: PayoutId) -> Result<Payout, TxError> {
    let payout = state.reserve.payouts.get(&payout_id).ok_or(ReserveError::PayoutNotFound)?;
    if payout.status != PayoutStatus::Pending {
        return Err(ReserveError::PayoutNotPending.into());
    }
    Ok(payout.clone())
}

/// Attestor: confirm a payout.
///
/// The attestor confirms a payout was made; the stablecoin is burned here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfirm {
    /// The payout confirmed.
    pub payout_id: PayoutId,
    /// The id of the external payment that settled it.
    pub external_id: B256,
}

impl ActionHandler for GatewayConfirm {
    const NAME: &'static str = "gateway_confirm";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { payout_id, external_id } = *self;
        require_role(state, Role::GatewayAttestor, sender)?;
        let mut payout = pending_payout(state, payout_id)?;
        if state.reserve.confirmed_external_ids.contains_key(&external_id) {
            return Err(ReserveError::ExternalIdAlreadyUsed.into());
        }
        ledger::burn(
            state,
            Asset::Stablecoin(payout.token),
            ProtocolAccount::GatewayOut,
            payout.amount,
        )?;
        state.reserve.confirmed_external_ids.insert(external_id, payout_id);
        payout.status = PayoutStatus::Confirmed { external_id };
        state.reserve.payouts.insert(payout_id, payout);
        state.emit(Event::PayoutConfirmed { payout_id, external_id });
        Ok(())
    }
}

/// Attestor: reject a payout.
///
/// The attestor refuses a payout; the stablecoin returns to its owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayReject {
    /// The payout rejected; its funds return to the user.
    pub payout_id: PayoutId,
    /// Why (printable ASCII, bounded length).
    pub reason: String,
}

impl ActionHandler for GatewayReject {
    const NAME: &'static str = "gateway_reject";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { payout_id, ref reason } = *self;
        require_role(state, Role::GatewayAttestor, sender)?;
        let mut payout = pending_payout(state, payout_id)?;
        if !is_printable_ascii(reason, REASON_LENGTH_MAX) {
            return Err(ReserveError::ReasonInvalid.into());
        }
        let asset = Asset::Stablecoin(payout.token);
        ledger::transfer(state, asset, ProtocolAccount::GatewayOut, payout.owner, payout.amount)?;
        payout.status = PayoutStatus::Rejected { reason: reason.to_string() };
        state.reserve.payouts.insert(payout_id, payout);
        state.emit(Event::PayoutRejected { payout_id });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payout_statuses_round_trip_through_the_binary_encoding() {
        // Regression: the internally tagged derive could be written to postcard but not read
        // back, so `State::decode` failed as soon as any payout existed.
        let statuses = [
            PayoutStatus::Pending,
            PayoutStatus::Confirmed { external_id: B256::repeat_byte(7) },
            PayoutStatus::Rejected { reason: "bad address".into() },
        ];
        for status in statuses {
            let bytes = postcard::to_stdvec(&status).expect("encodes");
            assert_eq!(postcard::from_bytes::<PayoutStatus>(&bytes), Ok(status));
        }
    }
}
