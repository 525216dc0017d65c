//! Choosing what a resolved step acts on: an id from what exists (a fitting one by the step's
//! pick, or none), who holds a receipt, a silo or a loan, and loan terms that fit the receipt's
//! value and the vault's room. Pure reads of the state, deterministic for the same pick.

use super::step::*;
use super::*;

/// `bps` basis points of `amount`, rounded down.
pub(super) fn bps_of(amount: Amount, bps: u16) -> Amount {
    Amount(floor_mul_div(amount.0, u128::from(bps), 10_000))
}

pub(super) fn chosen<T: Copy>(items: &[T], pick: u8) -> Option<T> {
    if items.is_empty() { None } else { Some(items[usize::from(pick) % items.len()]) }
}

/// Whether a receipt is free and eligible collateral now.
pub(super) fn pledgeable(state: &State, receipt: &Receipt) -> bool {
    receipt.status.is_free()
        && !receipt.redemption_requested
        && receipts::check_eligible(state, receipt, state.now()).is_ok()
}

pub(super) fn is_closed(receipt: &Receipt) -> bool {
    matches!(receipt.status, ReceiptStatus::Sold | ReceiptStatus::Redeemed)
}

/// A receipt: usually one that `fits`, sometimes any, now and then one that does not exist.
pub(super) fn receipt_id(state: &State, pick: u8, fits: impl Fn(&Receipt) -> bool) -> ReceiptId {
    let receipts = &state.receipts.receipts;
    let fitting: Vec<ReceiptId> =
        receipts.iter().filter(|(_, r)| fits(r)).map(|(id, _)| *id).collect();
    let all: Vec<ReceiptId> = receipts.iter().map(|(id, _)| *id).collect();
    let chosen = match pick % 16 {
        0..=12 => chosen(&fitting, pick / 16).or_else(|| chosen(&all, pick)),
        13 | 14 => chosen(&all, pick),
        _ => None,
    };
    chosen.unwrap_or(ReceiptId(1_000 + u64::from(pick)))
}

/// A receipt with an open residual-value claim, usually; otherwise any receipt.
pub(super) fn claimed_receipt(state: &State, pick: u8) -> ReceiptId {
    let claimed: Vec<ReceiptId> = state.loans.residual_claims.iter().map(|(id, _)| *id).collect();
    match chosen(&claimed, pick / 4) {
        Some(id) if !pick.is_multiple_of(4) => id,
        _ => receipt_id(state, pick, |_| false),
    }
}

/// A loan: usually one that `fits`, sometimes any, now and then one that does not exist.
pub(super) fn loan_id(state: &State, pick: u8, fits: impl Fn(&Loan) -> bool) -> LoanId {
    let loans = &state.loans.loans;
    let fitting: Vec<LoanId> = loans.iter().filter(|(_, l)| fits(l)).map(|(id, _)| *id).collect();
    let all: Vec<LoanId> = loans.iter().map(|(id, _)| *id).collect();
    let chosen = match pick % 16 {
        0..=12 => chosen(&fitting, pick / 16).or_else(|| chosen(&all, pick)),
        13 | 14 => chosen(&all, pick),
        _ => None,
    };
    chosen.unwrap_or(LoanId(1_000 + u64::from(pick)))
}

/// A silo: usually silo 0, sometimes another, now and then one that does not exist.
pub(super) fn silo_id(state: &State, pick: u8) -> SiloId {
    let count = *state.silos.next_silo_id.get();
    match pick % 16 {
        0..=9 => SiloId(0),
        15 => SiloId(1_000 + u64::from(pick)),
        _ => SiloId(u64::from(pick) % count.max(1)),
    }
}

pub(super) fn custodian_of(state: &State, receipt_id: ReceiptId) -> Address {
    state.receipts.receipts.get(&receipt_id).map_or(CUSTODIAN, |r| r.custodian)
}

pub(super) fn owner_of(state: &State, receipt_id: ReceiptId) -> Address {
    state.receipts.receipts.get(&receipt_id).map_or(BORROWER, |r| r.owner)
}

pub(super) fn curator_of(state: &State, silo_id: SiloId) -> Address {
    state.silos.silos.get(&silo_id).map_or(CURATOR, |s| s.curator)
}

pub(super) fn silo_of(state: &State, loan_id: LoanId) -> SiloId {
    state.loans.loans.get(&loan_id).map_or(SiloId(0), |l| l.silo)
}

pub(super) fn borrower_of(state: &State, loan_id: LoanId) -> Address {
    state.loans.loans.get(&loan_id).map_or(BORROWER, |l| l.borrower)
}

pub(super) fn foreclosed_loan(state: &State, receipt_id: ReceiptId) -> Option<Loan> {
    let loan_id = state.receipts.receipts.get(&receipt_id).and_then(|r| r.loan)?;
    state.loans.loans.get(&loan_id).cloned()
}

/// What a receipt is worth for sizing: its value for LTV, or its units at the new price
/// when it has no valuation.
pub(super) fn reference_value(state: &State, receipt_id: ReceiptId) -> Amount {
    let Some(receipt) = state.receipts.receipts.get(&receipt_id) else {
        return whole(30_000);
    };
    match receipt.valuation {
        Some(_) => receipts::value_for_ltv(state, receipt, state.now()),
        None => whole(30_000 * u128::from(receipt.description.quantity)),
    }
}

/// A policy's length: none (an expiry in the past), 20 days (it lapses during the
/// workload), one or two years.
pub(super) fn policy_term(term: u8) -> u64 {
    [0, 20 * DAY, 365 * DAY, 730 * DAY][usize::from(term) % 4]
}

/// What the vault can lend now: at most `max_deployed_bps` of conservative NAV deployed,
/// and at least `liquidity_buffer_bps` of it left idle.
pub(super) fn vault_room(state: &State) -> Amount {
    let nav = vault::nav(state);
    let params = state.governance.params.get();
    let conservative = nav.conservative.0;
    let deployable = floor_mul_div(conservative, u128::from(params.max_deployed_bps.0), 10_000);
    let buffer = ceil_mul_div(conservative, u128::from(params.liquidity_buffer_bps.0), 10_000);
    let by_deployment = deployable.saturating_sub(nav.senior_principal.0);
    let by_buffer = nav.unallocated.0.saturating_sub(buffer);
    Amount(by_deployment.min(by_buffer))
}

/// Loan terms: 12% senior and 18% junior APR, 10 days of grace at 20%, 0.5% origination and
/// 0.25% exit fees, a day to three months to accept; sized by `terms` against the receipt's
/// value.
pub(super) fn loan_terms(
    state: &State,
    borrower: Address,
    receipt_id: ReceiptId,
    terms: Terms,
) -> LoanTerms {
    let value = reference_value(state, receipt_id);
    let junior = bps_of(value, terms.junior_bps);
    // Within room: what the vault can lend and what keeps the LTV at most 60% (the silo's
    // limit is 70%; the collateral depreciates before the borrower accepts).
    let base = if terms.within_room {
        vault_room(state).min(bps_of(value, 6_000).saturating_sub(junior))
    } else {
        value
    };
    let mut loan =
        loan_terms_at(state.now(), bps_of(base, terms.senior_bps), borrower, receipt_id, terms);
    loan.junior.amount = junior;
    loan
}

/// The terms of `loan_terms` with a senior tranche of `senior` and no junior tranche.
pub(super) fn loan_terms_at(
    now: u64,
    senior: Amount,
    borrower: Address,
    receipt_id: ReceiptId,
    terms: Terms,
) -> LoanTerms {
    LoanTerms {
        borrower,
        receipts: vec![receipt_id],
        senior: TrancheTerms { amount: senior, rate: Rate::from_apr_bps(1_200) },
        junior: TrancheTerms { amount: Amount::ZERO, rate: Rate::from_apr_bps(1_800) },
        model: if terms.fixed_principal {
            InterestModel::FixedPrincipal
        } else {
            InterestModel::Amortized
        },
        periods: Some(terms.periods),
        interval_secs: Some([14 * DAY, 30 * DAY, 30 * DAY][usize::from(terms.interval) % 3]),
        grace_period_secs: 10 * DAY,
        grace_rate: Rate::from_apr_bps(2_000),
        origination_fee_bps: Bps(50),
        exit_fee_bps: Bps(25),
        expires_at: now + [DAY, 60 * DAY, 90 * DAY, 90 * DAY][usize::from(terms.interval / 3) % 4],
    }
}
