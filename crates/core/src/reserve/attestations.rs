//! Attested reserves (issue 16): the reserve custodian's signed attestations (par, market
//! value, as-of time, document hash), each newer than the last, and the backing they attest.
//! While `reserve_attestation_required` is on, USDai is issued only against a fresh attestation
//! and within its value plus the tolerance ([`attested_backing`], `require_fresh_attestation`).

use super::ReserveError;
use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Address, Asset, B256},
    math::{Amount, BPS_DENOMINATOR, Bps, Rounding},
    params::Role,
    state::State,
};
use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

/// A reserve custodian's signed statement of the T-bills behind USDai: the transaction that
/// posts it is signed by the custodian (EIP-712), and the document it hashes is the custodian's
/// statement or the auditor's report that anyone holding it can check against the hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveAttestation {
    /// Its number, in posting order from 0.
    pub id: u64,
    /// The reserve custodian who signed it.
    pub custodian: Address,
    /// Face value of the T-bills held, in USD (18 decimals).
    pub par_amount: Amount,
    /// Their market value at `as_of`, in USD (18 decimals): the figure backing is measured by.
    pub market_value: Amount,
    /// The time the holdings were measured (unix seconds), at most the posting block's time.
    pub as_of: u64,
    /// The keccak-256 of the statement or report it summarises.
    pub document_hash: B256,
    /// When it was posted (the block's time).
    pub posted_at: u64,
}

/// The backing as the custodian attests it, beside the ledger's own figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestedBacking {
    /// The newest attestation's id.
    pub attestation_id: u64,
    /// Its attested market value.
    pub attested_value: Amount,
    /// Its as-of time.
    pub as_of: u64,
    /// Seconds from its as-of time to the state's time.
    pub age_secs: u64,
    /// Whether it is older than `reserve_attestation_max_age_secs`.
    pub is_stale: bool,
    /// Attested value / USDai supply in basis points, rounded down (`None` with no supply).
    pub backing_bps: Option<u128>,
    /// The most the supply may reach by minting: attested value plus the tolerance, rounded
    /// down.
    pub issuance_bound: Amount,
    /// What a mint may still add now (0 when stale or at the bound).
    pub mint_headroom: Amount,
}

/// The newest reserve attestation, if any.
pub fn latest_attestation(state: &State) -> Option<&ReserveAttestation> {
    state.reserve.attestations.iter().next_back().map(|(_, attestation)| attestation)
}

/// `value` / `supply` in basis points, rounded down; `None` when nothing is issued.
///
/// A ratio above `u128::MAX` basis points (a value more than about 3.4 x 10^34 times the
/// supply) is shown as `u128::MAX`: the figure is for display only (`backing_bps`,
/// `ledger_backing_bps`), no rule reads it, and the shown ratio is then below the true one,
/// never above (the backing is understated, not overstated). Returning an overflow error
/// instead would hide a reserve that is merely very large. Pinned by
/// `tests::a_ratio_beyond_the_largest_number_is_shown_below_the_truth_and_decides_nothing`.
pub fn ratio_bps(value: Amount, supply: Amount) -> Option<u128> {
    if supply.is_zero() {
        return None;
    }
    let ratio = U256::from(value.0) * U256::from(BPS_DENOMINATOR) / U256::from(supply.0);
    Some(u128::try_from(ratio).unwrap_or(u128::MAX))
}

/// The attested backing at the state's time, if any attestation was posted.
pub fn attested_backing(state: &State) -> Option<AttestedBacking> {
    let attestation = latest_attestation(state)?;
    let params = state.governance.params.get();
    let supply = state.ledger.supply_of(Asset::Usdai);
    let age_secs = state.now().saturating_sub(attestation.as_of);
    let is_stale = age_secs > params.reserve_attestation_max_age_secs;
    let issuance_bound =
        issuance_bound(attestation.market_value, params.reserve_attestation_tolerance_bps);
    Some(AttestedBacking {
        attestation_id: attestation.id,
        attested_value: attestation.market_value,
        as_of: attestation.as_of,
        age_secs,
        is_stale,
        backing_bps: ratio_bps(attestation.market_value, supply),
        issuance_bound,
        mint_headroom: if is_stale { Amount::ZERO } else { issuance_bound.saturating_sub(supply) },
    })
}

/// Attested value plus `tolerance_bps` of it, rounded down (less room to mint, never more).
///
/// A true bound above `Amount::MAX` is returned as `Amount::MAX`. This decides every mint
/// exactly as the true bound would: the bound is only compared with a supply after a mint,
/// which the ledger keeps at most `Amount::MAX` (its additions are checked), so both admit
/// every supply; and the headroom shown (bound - supply) is then below the true headroom,
/// never above. Saturating never lets more USDai be issued than the attestation covers, and
/// returning the overflow code instead would refuse mints that the attestation does cover.
/// Pinned by `tests::an_issuance_bound_beyond_the_largest_amount_decides_mints_as_the_true_bound`.
pub(super) fn issuance_bound(attested_value: Amount, tolerance_bps: Bps) -> Amount {
    let extra = attested_value.mul_bps(tolerance_bps, Rounding::Down).unwrap_or(Amount::MAX);
    attested_value.checked_add(extra).unwrap_or(Amount::MAX)
}

/// The newest attestation when it is fresh enough to issue against.
///
/// # Errors
/// `reserve_attestation_is_stale` when there is none or it is too old.
pub(super) fn require_fresh_attestation(state: &State) -> Result<ReserveAttestation, TxError> {
    let max_age_secs = state.governance.params.get().reserve_attestation_max_age_secs;
    match latest_attestation(state) {
        Some(attestation) if state.now().saturating_sub(attestation.as_of) <= max_age_secs => {
            Ok(attestation.clone())
        }
        _ => Err(ReserveError::ReserveAttestationIsStale.into()),
    }
}

/// Reserve custodian: attest the T-bill holdings behind USDai.
///
/// Checks in order: role, document hash, as-of not in the future, as-of later than the newest
/// attestation's (a custodian cannot replay an older, better statement over a newer one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostReserveAttestation {
    /// Face value of the T-bills held, in USD.
    pub par_amount: Amount,
    /// Their market value at `as_of`, in USD.
    pub market_value: Amount,
    /// When the holdings were measured (unix seconds).
    pub as_of: u64,
    /// The keccak-256 of the statement or report.
    pub document_hash: B256,
}

impl ActionHandler for PostReserveAttestation {
    const NAME: &'static str = "post_reserve_attestation";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.document_hash.is_zero() {
            return Err(ReserveError::AttestationDocumentHashMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { par_amount, market_value, as_of, document_hash } = *self;
        require_role(state, Role::ReserveCustodian, sender)?;
        let now = state.now();
        if as_of > now {
            return Err(ReserveError::AttestationAsOfIsInTheFuture.into());
        }
        if latest_attestation(state).is_some_and(|newest| as_of <= newest.as_of) {
            return Err(ReserveError::AttestationIsNotNewer.into());
        }
        let id = *state.reserve.next_attestation_id.get();
        *state.reserve.next_attestation_id.get_mut() += 1;
        let attestation = ReserveAttestation {
            id,
            custodian: sender,
            par_amount,
            market_value,
            as_of,
            document_hash,
            posted_at: now,
        };
        state.reserve.attestations.insert(id, attestation);
        state.emit(Event::ReserveAttested {
            attestation_id: id,
            custodian: sender,
            par_amount,
            market_value,
            as_of,
            document_hash,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issuance_bound_beyond_the_largest_amount_decides_mints_as_the_true_bound() {
        // In range: value + 1% of it, rounded down.
        assert_eq!(issuance_bound(Amount(1_001), Bps(100)), Amount(1_011));
        // The true bound of the largest attestation with a 1% tolerance is 1.01 x MAX: every
        // supply the ledger can hold (at most MAX) is within it, and within MAX too.
        let bound = issuance_bound(Amount::MAX, Bps(100));
        assert_eq!(bound, Amount::MAX);
        for supply in [Amount::ZERO, Amount(u128::MAX / 2), Amount::MAX] {
            assert!(supply <= bound, "a supply the true bound admits is admitted");
        }
        // The headroom shown is the saturated one: below the true 1.01 x MAX - supply.
        let supply = Amount(u128::MAX / 2);
        let true_headroom = U256::from(u128::MAX) * U256::from(10_100u32) / U256::from(10_000u32)
            - U256::from(supply.0);
        assert!(U256::from(bound.saturating_sub(supply).0) < true_headroom);
        // A tolerance so large its product overflows saturates the same way.
        assert_eq!(issuance_bound(Amount(u128::MAX / 3), Bps(u32::MAX)), Amount::MAX);
    }

    #[test]
    fn a_ratio_beyond_the_largest_number_is_shown_below_the_truth_and_decides_nothing() {
        assert_eq!(ratio_bps(Amount(1_005), Amount(1_000)), Some(10_050));
        assert_eq!(ratio_bps(Amount(999), Amount(1_000)), Some(9_990), "rounded down");
        assert_eq!(ratio_bps(Amount(5), Amount::ZERO), None, "nothing issued");
        // MAX / 1 = MAX x 10,000 bps, beyond u128: shown as u128::MAX, below the truth.
        assert_eq!(ratio_bps(Amount::MAX, Amount(1)), Some(u128::MAX));
    }
}
