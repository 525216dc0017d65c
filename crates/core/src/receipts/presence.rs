//! Hardware presence (issue 16): a monitor attests, per receipt, what it saw of the hardware
//! (how many units, the hash of the serial numbers it read, the facility, the uptime since its
//! previous attestation) as of a time; an asset class may require a receipt's newest
//! attestation to be younger than a limit.
//!
//! Guarantees: a receipt of a monitored class is eligible collateral only while its newest
//! attestation is younger than the class's limit and saw exactly the units the receipt stands
//! for, at its facility ([`check_present`]); otherwise it is ineligible with a stable code, and
//! its loan's next re-mark opens the cure window exactly as a lapsed insurance policy does (one
//! path: `receipts::check_eligible_at_value`). A monitor cannot post an attestation dated in
//! the future, or one not newer than the receipt's newest (a back-dated or replayed attestation
//! is refused), nor attest hardware it owns. A limit that turns monitoring on or shortens it
//! waits for the governance delay (it can make collateral ineligible); one that loosens it
//! applies at once.

use super::{QUANTITY_MAX, Receipt, ReceiptError, ReceiptStatus, TEXT_LENGTH_MAX};
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, AssetClassId, B256, ReceiptId},
    math::Bps,
    params::Role,
    state::State,
};
use serde::{Deserialize, Serialize};

/// The shortest presence limit a class may have, in seconds (one hour): monitors report on
/// a schedule, not per block.
pub const PRESENCE_LIMIT_MIN_SECS: u64 = 3_600;
/// The longest presence limit a class may have, in seconds (365 days).
pub const PRESENCE_LIMIT_MAX_SECS: u64 = 365 * 86_400;

/// A class's presence rule: the age limit in force and a tighter one scheduled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceLimit {
    /// How old a receipt's newest attestation may be, in seconds; 0: the class is not
    /// monitored.
    pub max_age_secs: u64,
    /// A tighter limit (monitoring turned on, or a shorter age) and when it takes effect.
    pub pending: Option<PendingPresenceLimit>,
}

/// A tighter presence limit waiting for the governance delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPresenceLimit {
    /// The new limit, in seconds.
    pub max_age_secs: u64,
    /// When it takes effect (unix seconds).
    pub effective_at: u64,
}

impl PresenceLimit {
    /// The limit in force at `now`, in seconds (0: not monitored).
    pub fn at(&self, now: u64) -> u64 {
        match self.pending {
            Some(pending) if now >= pending.effective_at => pending.max_age_secs,
            _ => self.max_age_secs,
        }
    }
}

/// What a monitor saw of a receipt's hardware.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceAttestation {
    /// The monitor.
    pub monitor: Address,
    /// How many units it saw.
    pub units_seen: u32,
    /// The keccak-256 of the serial numbers it read, in the receipt's list format.
    pub serials_hash: B256,
    /// Where it saw them.
    pub facility: String,
    /// The share of the time since its previous attestation the units were up and reachable
    /// (reported, not a rule: income is valued elsewhere).
    pub uptime_bps: Bps,
    /// When it saw them (unix seconds).
    pub as_of: u64,
    /// When it was posted.
    pub posted_at: u64,
}

impl PresenceAttestation {
    /// Whether it saw exactly what `receipt` stands for: every unit, the same serial list, at
    /// the receipt's facility.
    pub fn saw_all_of(&self, receipt: &Receipt) -> bool {
        let description = &receipt.description;
        self.units_seen == description.quantity
            && self.serials_hash == description.serials_hash
            && self.facility == description.facility
    }
}

/// The presence limit of `receipt`'s class at `now`, in seconds (0: not monitored).
pub fn limit_for(state: &State, receipt: &Receipt, now: u64) -> u64 {
    state.receipts.classes.get(&receipt.class).map_or(0, |class| class.presence.at(now))
}

/// Whether `receipt` meets its class's presence rule at `now`: unmonitored, or its newest
/// attestation is at most the limit old (`receipt_presence_stale`) and saw all of it
/// (`receipt_hardware_not_present`).
pub fn check_present(state: &State, receipt: &Receipt, now: u64) -> Result<(), ReceiptError> {
    let limit = limit_for(state, receipt, now);
    if limit == 0 {
        return Ok(());
    }
    match state.receipts.presence.get(&receipt.id) {
        Some(attestation) if now.saturating_sub(attestation.as_of) <= limit => {
            if attestation.saw_all_of(receipt) {
                Ok(())
            } else {
                Err(ReceiptError::ReceiptHardwareNotPresent)
            }
        }
        _ => Err(ReceiptError::ReceiptPresenceStale),
    }
}

/// When `receipt`'s presence goes stale under the limit in force at `now` (its newest
/// attestation's as-of time plus the limit); `None` if unmonitored or never attested.
pub fn stale_at(state: &State, receipt: &Receipt, now: u64) -> Option<u64> {
    let limit = limit_for(state, receipt, now);
    let attestation = state.receipts.presence.get(&receipt.id)?;
    (limit != 0).then(|| attestation.as_of.saturating_add(limit))
}

/// Monitor: attest what it saw of a receipt's hardware.
///
/// Checks in order: uptime at most 100% and a printable facility, the monitor role, the
/// receipt (not sold or redeemed), the monitor not its owner, as-of not in the future, as-of
/// later than the receipt's newest attestation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostPresenceAttestation {
    /// The receipt whose hardware was seen.
    pub receipt_id: ReceiptId,
    /// How many units were seen (0: none).
    pub units_seen: u32,
    /// The keccak-256 of the serial numbers read.
    pub serials_hash: B256,
    /// Where they were seen.
    pub facility: String,
    /// Uptime since the previous attestation, in basis points.
    pub uptime_bps: Bps,
    /// When they were seen (unix seconds).
    pub as_of: u64,
}

impl ActionHandler for PostPresenceAttestation {
    const NAME: &'static str = "post_presence_attestation";

    fn check_stateless(&self) -> Result<(), TxError> {
        let facility = &self.facility;
        let printable = !facility.is_empty()
            && facility.len() <= TEXT_LENGTH_MAX
            && facility.bytes().all(|b| (0x20..0x7f).contains(&b));
        if !self.uptime_bps.is_fraction() || !printable || self.units_seen > QUANTITY_MAX {
            return Err(ReceiptError::PresenceReportInvalid.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { receipt_id, units_seen, serials_hash, ref facility, uptime_bps, as_of } = *self;
        require_role(state, Role::Monitor, sender)?;
        let receipt = super::receipt(state, receipt_id)?;
        if matches!(receipt.status, ReceiptStatus::Sold | ReceiptStatus::Redeemed) {
            return Err(ReceiptError::ReceiptIsClosed.into());
        }
        if receipt.owner == sender {
            return Err(ReceiptError::MonitorMustNotBeReceiptOwner.into());
        }
        let now = state.now();
        if as_of > now {
            return Err(ReceiptError::PresenceAsOfIsInTheFuture.into());
        }
        let newest = state.receipts.presence.get(&receipt_id).map(|a| a.as_of);
        if newest.is_some_and(|newest| as_of <= newest) {
            return Err(ReceiptError::PresenceAttestationIsNotNewer.into());
        }
        let attestation = PresenceAttestation {
            monitor: sender,
            units_seen,
            serials_hash,
            facility: facility.clone(),
            uptime_bps,
            as_of,
            posted_at: now,
        };
        let all_present = attestation.saw_all_of(&receipt);
        state.receipts.presence.insert(receipt_id, attestation);
        state.emit(Event::PresenceAttested {
            receipt_id,
            monitor: sender,
            units_seen,
            serials_hash,
            uptime_bps,
            as_of,
            all_present,
        });
        Ok(())
    }
}

/// Admin: set how old a class's receipts' newest presence attestation may be.
///
/// 0 stops monitoring the class. Loosening (0, or a longer limit) applies at once; tightening
/// (monitoring turned on, or a shorter limit) takes effect after `governance_delay_secs`, so
/// borrowers can have their hardware attested before their collateral would turn ineligible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPresenceLimit {
    /// The class.
    pub class: AssetClassId,
    /// The limit, in seconds: 0, or 1 hour to 365 days.
    pub max_age_secs: u64,
}

impl ActionHandler for SetPresenceLimit {
    const NAME: &'static str = "set_presence_limit";
    // A limit can make collateral ineligible only at the next re-mark.

    fn check_stateless(&self) -> Result<(), TxError> {
        let limit = self.max_age_secs;
        if limit != 0 && !(PRESENCE_LIMIT_MIN_SECS..=PRESENCE_LIMIT_MAX_SECS).contains(&limit) {
            return Err(ReceiptError::PresenceLimitOutOfRange.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { class, max_age_secs } = *self;
        require_role(state, Role::Admin, sender)?;
        let Some(mut entry) = state.receipts.classes.get(&class).cloned() else {
            return Err(ReceiptError::AssetClassNotFound.into());
        };
        let now = state.now();
        let current = entry.presence.at(now);
        let tighter = max_age_secs != 0 && (current == 0 || max_age_secs < current);
        let delay = state.governance.params.get().governance_delay_secs;
        let effective_at = if tighter { now.saturating_add(delay) } else { now };
        entry.presence = if effective_at > now {
            let pending = PendingPresenceLimit { max_age_secs, effective_at };
            PresenceLimit { max_age_secs: current, pending: Some(pending) }
        } else {
            PresenceLimit { max_age_secs, pending: None }
        };
        state.receipts.classes.insert(class, entry);
        state.emit(Event::PresenceLimitSet { class, max_age_secs, effective_at });
        Ok(())
    }
}

/// The presence invariants: every attestation is of a receipt that exists, as of no later
/// than it was posted, posted no later than now; every class's limit is 0 or in range, and a
/// scheduled one is in range and tighter than the limit it replaces.
pub(crate) fn check_invariants(state: &State) -> Result<(), String> {
    let now = state.now();
    for (id, attestation) in state.receipts.presence.iter() {
        if !state.receipts.receipts.contains_key(id) {
            return Err(format!("a presence attestation names the missing receipt {id}"));
        }
        if attestation.as_of > attestation.posted_at || attestation.posted_at > now {
            return Err(format!("receipt {id}'s presence attestation is dated in the future"));
        }
    }
    let in_range =
        |limit: u64| (PRESENCE_LIMIT_MIN_SECS..=PRESENCE_LIMIT_MAX_SECS).contains(&limit);
    for (class, entry) in state.receipts.classes.iter() {
        let PresenceLimit { max_age_secs, pending } = entry.presence;
        if max_age_secs != 0 && !in_range(max_age_secs) {
            return Err(format!("class {class}'s presence limit is out of range"));
        }
        if let Some(pending) = pending {
            let tighter = max_age_secs == 0 || pending.max_age_secs < max_age_secs;
            if !in_range(pending.max_age_secs) || !tighter {
                return Err(format!("class {class}'s scheduled presence limit is not tighter"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_limit_takes_effect_at_its_time_and_not_before() {
        let pending = PendingPresenceLimit { max_age_secs: 86_400, effective_at: 1_000 };
        let limit = PresenceLimit { max_age_secs: 0, pending: Some(pending) };
        assert_eq!(limit.at(999), 0);
        assert_eq!(limit.at(1_000), 86_400);
        assert_eq!(PresenceLimit::default().at(u64::MAX), 0);
    }
}
