//! The SPEC 14 invariants as one checkable function. Tests call [`check`] after every
//! transaction; it walks the whole state, so it is not on the node's hot path.

use crate::{
    ids::{Account, Asset, ProtocolAccount},
    math::Amount,
    reserve,
    state::State,
    vault,
};
use std::collections::BTreeMap;

/// Returns the first invariant that does not hold, in words.
pub fn check(state: &State) -> Result<(), String> {
    check_ledger(state)?;
    if !reserve::is_fully_backed(state) {
        let backing = reserve::backing(state);
        return Err(format!(
            "reserve value {} is below USDai supply {}",
            backing.reserve_value, backing.usdai_supply
        ));
    }
    check_vault(state)?;
    check_queue(state)?;
    Ok(())
}

/// SPEC 14.1: per asset, sum of balances = minted - burned; no zero entries stored.
fn check_ledger(state: &State) -> Result<(), String> {
    let mut sums: BTreeMap<Asset, u128> = BTreeMap::new();
    for (account, asset, amount) in state.ledger.all_balances() {
        if amount.is_zero() {
            return Err(format!("zero balance stored for {account} in {asset}"));
        }
        if matches!((account, asset), (Account::User(_), Asset::Usdai | Asset::Susdai))
            && state.ledger.balances.contains_key(&(account, asset))
        {
            return Err(format!("{account}'s {asset} is stored outside its holding"));
        }
        let sum = sums.entry(asset).or_default();
        *sum = sum.checked_add(amount.0).ok_or(format!("{asset} balances overflow"))?;
    }
    for (&asset, supply) in state.ledger.supply.iter() {
        let sum = sums.remove(&asset).unwrap_or(0);
        if sum != supply.outstanding().0 || supply.burned > supply.issued {
            return Err(format!(
                "{asset}: balances sum to {} but issued {} - burned {}",
                Amount(sum),
                supply.issued,
                supply.burned
            ));
        }
    }
    if let Some((asset, sum)) = sums.into_iter().next() {
        return Err(format!(
            "{asset} has balances summing to {} but no supply record",
            Amount(sum)
        ));
    }
    Ok(())
}

/// SPEC 14.3: shares outstanding imply NAV; redemption price <= deposit price.
fn check_vault(state: &State) -> Result<(), String> {
    let nav = vault::nav(state);
    if !nav.share_supply.is_zero() && nav.optimistic.is_zero() {
        return Err(format!("{} shares outstanding but NAV is zero", nav.share_supply));
    }
    if nav.conservative > nav.optimistic {
        return Err("conservative NAV exceeds optimistic NAV".into());
    }
    if nav.redemption_price_wad() > nav.deposit_price_wad() {
        return Err(format!(
            "redemption price {} exceeds deposit price {}",
            nav.redemption_price_wad(),
            nav.deposit_price_wad()
        ));
    }
    Ok(())
}

/// SPEC 14.6 (the parts a snapshot shows): locked shares and owed USDai match the requests;
/// every active request is in exactly one index; active counts match.
fn check_queue(state: &State) -> Result<(), String> {
    let mut locked = Amount::ZERO;
    let mut owed = Amount::ZERO;
    let mut active_by_owner: BTreeMap<_, u32> = BTreeMap::new();
    for (id, request) in state.queue.requests.iter() {
        locked = locked.checked_add(request.shares_remaining).map_err(|_| "locked overflow")?;
        owed = owed.checked_add(request.claimable).map_err(|_| "owed overflow")?;
        let in_waiting = state.queue.waiting.contains_key(&(request.eligible_at, *id));
        let in_eligible = state.queue.eligible.contains_key(&request.priority_key());
        match (request.is_active(), in_waiting, in_eligible) {
            (true, true, false) if !request.is_eligible => {}
            (true, false, true) if request.is_eligible => {}
            (false, false, false) => {}
            other => return Err(format!("request {id} index state {other:?} is inconsistent")),
        }
        if request.is_active() {
            *active_by_owner.entry(request.owner).or_default() += 1;
        } else if request.claimable.is_zero() {
            return Err(format!("request {id} is finished but still stored"));
        }
    }
    let escrow =
        state.ledger.balance(Account::Protocol(ProtocolAccount::QueueEscrow), Asset::Susdai);
    if locked != escrow {
        return Err(format!("requests lock {locked} shares but the escrow holds {escrow}"));
    }
    let claims = state.ledger.balance(ProtocolAccount::RedemptionClaims, Asset::Usdai);
    if owed != claims {
        return Err(format!("requests are owed {owed} USDai but claims hold {claims}"));
    }
    if state.queue.waiting.len() + state.queue.eligible.len()
        != active_by_owner.values().sum::<u32>() as usize
    {
        return Err("queue indexes hold entries with no active request".into());
    }
    for (owner, count) in state.queue.active_by_owner.iter() {
        if active_by_owner.remove(owner) != Some(*count) {
            return Err(format!("active count of {owner} is wrong"));
        }
    }
    if !active_by_owner.is_empty() {
        return Err("an owner with active requests has no active count".into());
    }
    for record in state.queue.rounds.iter().map(|(_, r)| r) {
        if record.served_assets > record.liquidity {
            return Err(format!("round {} served more than its liquidity", record.round));
        }
    }
    Ok(())
}
