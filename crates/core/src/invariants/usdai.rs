//! USDai's reserve-side invariants (issue 16): the attestation history, attested issuance,
//! the gateway's rate-limit windows and the deposit queue's escrow.

use crate::{
    event::Event,
    ids::{Asset, ProtocolAccount},
    reserve,
    state::State,
};

/// The gateway's rate-limit windows (issue 16) were last counted no later than now.
pub(super) fn check_gateway_flows(state: &State) -> Result<(), String> {
    let flows = state.reserve.flows.get();
    for (name, window) in [("mint", flows.minted), ("redeem", flows.redeemed)] {
        if window.updated_at > state.now() {
            return Err(format!("the {name} rate-limit window was counted in the future"));
        }
    }
    check_deposit_queue(state)?;
    for (account, flows) in state.reserve.account_flows.iter() {
        if flows.minted.updated_at.max(flows.redeemed.updated_at) > state.now() {
            return Err(format!("{account}'s rate-limit window was counted in the future"));
        }
    }
    Ok(())
}

/// Queued deposits (issue 16): ids below the next id, each at least one unit and queued no
/// later than now, at most the per-owner bound each, and the escrow of each stablecoin equal to
/// the sum of its remainders.
pub(super) fn check_deposit_queue(state: &State) -> Result<(), String> {
    use crate::reserve::{QUEUED_DEPOSITS_MAX, QUEUED_DEPOSITS_PER_OWNER_MAX, queued_escrow};
    let queue = &state.reserve.queued_deposits;
    let next = *state.reserve.next_queued_deposit_id.get();
    if queue.len() > QUEUED_DEPOSITS_MAX {
        return Err("the deposit queue holds more than its bound".into());
    }
    let mut per_owner = std::collections::BTreeMap::new();
    for (id, deposit) in queue.iter() {
        if *id >= next || deposit.amount.is_zero() || deposit.amount > deposit.deposited {
            return Err(format!("queued deposit {id} is malformed: {deposit:?}"));
        }
        if deposit.queued_at > state.now() {
            return Err(format!("queued deposit {id} was queued in the future"));
        }
        let count = per_owner.entry(deposit.owner).or_insert(0usize);
        *count += 1;
        if *count > QUEUED_DEPOSITS_PER_OWNER_MAX {
            return Err(format!("{} has too many queued deposits", deposit.owner));
        }
    }
    for token in state.reserve.stablecoins.keys() {
        let escrow = queued_escrow(state, *token).map_err(|e| e.to_string())?;
        let held = state.ledger.balance(ProtocolAccount::DepositQueue, Asset::Stablecoin(*token));
        if escrow != held {
            return Err(format!(
                "the deposit queue holds {held:?} {token:?} for {escrow:?} queued"
            ));
        }
    }
    Ok(())
}

/// Reserve attestations (issue 16): numbered densely from 0, each as of no later than it was
/// posted and posted no later than now, and as-of times strictly increasing.
pub(super) fn check_attestations(state: &State) -> Result<(), String> {
    let attestations = &state.reserve.attestations;
    if *state.reserve.next_attestation_id.get() != attestations.len() as u64 {
        return Err("attestation ids are not dense".into());
    }
    let mut previous_as_of = None;
    for (index, (&id, attestation)) in attestations.iter().enumerate() {
        if id != index as u64 || attestation.id != id {
            return Err(format!("attestation {id} is stored under another id"));
        }
        if attestation.as_of > attestation.posted_at || attestation.posted_at > state.now() {
            return Err(format!("attestation {id} is as of or posted in the future"));
        }
        if previous_as_of.is_some_and(|previous| attestation.as_of <= previous) {
            return Err(format!("attestation {id} is not newer than the one before"));
        }
        previous_as_of = Some(attestation.as_of);
    }
    Ok(())
}

/// Issue 16 (the part a transaction's events show): while attestations are required, a
/// transaction that issued USDai left the supply within the fresh attested bound (the attested
/// value plus its tolerance). A later, lower attestation may show the supply above it (that is
/// the alarm the attestation raises); what this checks is that nothing was issued past it.
pub fn check_attested_issuance(state: &State, events: &[Event]) -> Result<(), String> {
    if !state.governance.params.get().reserve_attestation_required {
        return Ok(());
    }
    let issued = events.iter().any(|event| {
        matches!(event, Event::Minted { asset: Asset::Usdai, amount, .. } if !amount.is_zero())
    });
    if !issued {
        return Ok(());
    }
    let Some(backing) = reserve::attested_backing(state) else {
        return Err("USDai was issued with no reserve attestation".into());
    };
    if backing.is_stale {
        return Err(format!("USDai was issued against a stale attestation ({backing:?})"));
    }
    let supply = state.ledger.supply_of(Asset::Usdai);
    if supply > backing.issuance_bound {
        return Err(format!(
            "USDai supply {supply} was issued past the attested bound {}",
            backing.issuance_bound
        ));
    }
    Ok(())
}
