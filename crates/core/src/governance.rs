//! Roles, parameters and emergency controls (SPEC 4, 13).
//!
//! Guarantees: every privileged action checks its role first; a parameter change that reduces
//! users' rights takes effect only after `governance_delay_secs`, and every change is an event;
//! the last admin cannot be revoked and no role goes to the zero address, so the protocol is
//! never left ungovernable.

use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    ids::Address,
    params::{ParameterChange, Params, PauseFlags, PauseScope, Role},
    result_codes,
    state::State,
    table::{Slot, Table, component},
};
use serde::{Deserialize, Serialize};

result_codes! {
    /// Rejections of role, parameter and pause actions.
    pub enum GovernanceError {
        SenderLacksRole = 201 => "sender_lacks_role",
            "The sender does not hold the role this action needs.";
        RoleAlreadyGranted = 202 => "role_already_granted",
            "The account already holds this role.";
        RoleNotGranted = 203 => "role_not_granted",
            "The account does not hold this role.";
        LastAdminCannotBeRevoked = 204 => "last_admin_cannot_be_revoked",
            "Revoking the last admin would leave the protocol ungovernable.";
        ParameterValueOutOfRange = 205 => "parameter_value_out_of_range",
            "The parameter value is outside its allowed range.";
        AccountAlreadyFrozen = 206 => "account_already_frozen",
            "The account is already frozen.";
        AccountNotFrozen = 207 => "account_not_frozen",
            "The account is not frozen.";
        PauseStateUnchanged = 208 => "pause_state_unchanged",
            "The scope is already in the requested pause state.";
        KycStatusUnchanged = 209 => "kyc_status_unchanged",
            "The account already has the requested KYC status.";
        ActionIsPaused = 210 => "action_is_paused",
            "The guardian has paused this kind of action.";
        PendingChangesLimitReached = 211 => "pending_changes_limit_reached",
            "Too many parameter changes are waiting for the governance delay.";
        RoleAccountMustNotBeZero = 212 => "role_account_must_not_be_zero",
            "A role cannot be granted to the zero address, which no key controls.";
    }
}

/// The most parameter changes that may wait for their delay at once.
pub const PENDING_CHANGES_MAX: usize = 256;

component! {
    /// Roles, parameters, scheduled changes and pause flags.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct GovernanceState at "governance" paths GovernancePaths {
        /// The parameters in force.
        pub params: Slot<Params>,
        /// Who holds which role.
        pub roles: Table<(Role, Address), ()>,
        /// Changes waiting for the governance delay, by (effective time, sequence number).
        pub pending_changes: Table<(u64, u64), ParameterChange>,
        /// The next sequence number for a scheduled change.
        pub next_change_sequence: Slot<u64>,
        /// What is paused.
        pub pause: Slot<PauseFlags>,
    }
}

impl GovernanceState {
    /// Whether `account` holds `role`.
    pub fn has_role(&self, role: Role, account: Address) -> bool {
        self.roles.contains_key(&(role, account))
    }

    /// The holders of `role`, in address order.
    pub fn holders(&self, role: Role) -> impl Iterator<Item = Address> + '_ {
        self.roles
            .range((role, Address::ZERO)..=(role, Address::repeat_byte(0xff)))
            .map(|(k, _)| k.1)
    }
}

/// Rejects unless `sender` holds `role`.
pub fn require_role(state: &State, role: Role, sender: Address) -> Result<(), TxError> {
    if state.governance.has_role(role, sender) {
        Ok(())
    } else {
        Err(GovernanceError::SenderLacksRole.into())
    }
}

/// Rejects when the guardian has paused `scope`.
pub fn require_not_paused(state: &State, scope: PauseScope) -> Result<(), TxError> {
    if state.governance.pause.get().is_paused(scope) {
        Err(GovernanceError::ActionIsPaused.into())
    } else {
        Ok(())
    }
}

/// Admin: grant a role.
///
/// Admin gives `account` the `role`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRole {
    /// The role granted.
    pub role: Role,
    /// The address that receives it.
    pub account: Address,
}

impl ActionHandler for GrantRole {
    const NAME: &'static str = "grant_role";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { role, account } = *self;
        require_role(state, Role::Admin, sender)?;
        // A role held by the zero address counts (for the last-admin rule) but nobody can use it.
        if account == Address::ZERO {
            return Err(GovernanceError::RoleAccountMustNotBeZero.into());
        }
        if state.governance.has_role(role, account) {
            return Err(GovernanceError::RoleAlreadyGranted.into());
        }
        state.governance.roles.insert((role, account), ());
        state.emit(Event::RoleGranted { role, account });
        Ok(())
    }
}

/// Admin: revoke a role.
///
/// Admin takes `role` from `account`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRole {
    /// The role revoked.
    pub role: Role,
    /// The address that loses it.
    pub account: Address,
}

impl ActionHandler for RevokeRole {
    const NAME: &'static str = "revoke_role";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { role, account } = *self;
        require_role(state, Role::Admin, sender)?;
        if !state.governance.has_role(role, account) {
            return Err(GovernanceError::RoleNotGranted.into());
        }
        if role == Role::Admin && state.governance.holders(Role::Admin).nth(1).is_none() {
            return Err(GovernanceError::LastAdminCannotBeRevoked.into());
        }
        state.governance.roles.remove(&(role, account));
        state.emit(Event::RoleRevoked { role, account });
        Ok(())
    }
}

/// Admin: change a parameter.
///
/// Admin changes one parameter, now or after the governance delay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetParameter {
    /// The parameter and its new value.
    pub change: ParameterChange,
}

impl ActionHandler for SetParameter {
    const NAME: &'static str = "set_parameter";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let change = &self.change;
        require_role(state, Role::Admin, sender)?;
        if !change.is_valid() {
            return Err(GovernanceError::ParameterValueOutOfRange.into());
        }
        let params = state.governance.params.get();
        if change.reduces_user_rights(params) && params.governance_delay_secs > 0 {
            if state.governance.pending_changes.len() >= PENDING_CHANGES_MAX {
                return Err(GovernanceError::PendingChangesLimitReached.into());
            }
            let effective_at = state.now().saturating_add(params.governance_delay_secs);
            let sequence = *state.governance.next_change_sequence.get();
            *state.governance.next_change_sequence.get_mut() = sequence + 1;
            state.governance.pending_changes.insert((effective_at, sequence), change.clone());
            state.emit(Event::ParameterChangeScheduled { change: change.clone(), effective_at });
        } else {
            change.apply_to(state.governance.params.get_mut());
            state.emit(Event::ParameterChanged { change: change.clone() });
        }
        Ok(())
    }
}

/// Applies every scheduled change whose time has come, oldest first (called as time advances).
pub fn apply_due_changes(state: &mut State) {
    let now = state.now();
    let due: Vec<(u64, u64)> =
        state.governance.pending_changes.range(..=(now, u64::MAX)).map(|(k, _)| *k).collect();
    for key in due {
        if let Some(change) = state.governance.pending_changes.remove(&key) {
            change.apply_to(state.governance.params.get_mut());
            state.emit(Event::ParameterChanged { change });
        }
    }
}

/// Guardian: pause or unpause a scope.
///
/// The guardian pauses or unpauses a scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPause {
    /// What is paused or unpaused (minting, staking, borrowing).
    pub scope: PauseScope,
    /// Whether the scope is paused afterwards.
    pub paused: bool,
}

impl ActionHandler for SetPause {
    const NAME: &'static str = "set_pause";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { scope, paused } = *self;
        require_role(state, Role::Guardian, sender)?;
        if state.governance.pause.get().is_paused(scope) == paused {
            return Err(GovernanceError::PauseStateUnchanged.into());
        }
        state.governance.pause.get_mut().set(scope, paused);
        state.emit(Event::PauseChanged { scope, paused });
        Ok(())
    }
}

/// Compliance: freeze an address.
///
/// Compliance stops `account` sending or receiving USDai and sUSDai.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    /// The address frozen.
    pub account: Address,
}

impl ActionHandler for Freeze {
    const NAME: &'static str = "freeze";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let account = self.account;
        require_role(state, Role::Compliance, sender)?;
        if state.ledger.frozen.contains_key(&account) {
            return Err(GovernanceError::AccountAlreadyFrozen.into());
        }
        state.ledger.frozen.insert(account, ());
        state.emit(Event::AccountFrozen { account });
        Ok(())
    }
}

/// Compliance: unfreeze an address.
///
/// Compliance lifts a freeze. Nothing was ever confiscated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unfreeze {
    /// The address unfrozen.
    pub account: Address,
}

impl ActionHandler for Unfreeze {
    const NAME: &'static str = "unfreeze";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let account = self.account;
        require_role(state, Role::Compliance, sender)?;
        if state.ledger.frozen.remove(&account).is_none() {
            return Err(GovernanceError::AccountNotFrozen.into());
        }
        state.emit(Event::AccountUnfrozen { account });
        Ok(())
    }
}

/// KYC registrar: set an address's verification.
///
/// The KYC registrar marks `account` verified or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetKyc {
    /// The address whose verification is set.
    pub account: Address,
    /// Whether it is verified afterwards.
    pub verified: bool,
}

impl ActionHandler for SetKyc {
    const NAME: &'static str = "set_kyc";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { account, verified } = *self;
        require_role(state, Role::KycRegistrar, sender)?;
        if state.ledger.kyc_verified.contains_key(&account) == verified {
            return Err(GovernanceError::KycStatusUnchanged.into());
        }
        if verified {
            state.ledger.kyc_verified.insert(account, ());
        } else {
            state.ledger.kyc_verified.remove(&account);
        }
        state.emit(Event::KycStatusChanged { account, verified });
        Ok(())
    }
}
