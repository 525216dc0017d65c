//! The SPEC 14 invariants as checkable functions.
//!
//! - [`check`] walks the whole state: tests call it after every transaction; it is not on the
//!   node's hot path.
//! - [`check_block`] is the cheap subset the node checks after every block in every build
//!   (release included): each part reads aggregates, sums the loans table keeps over its open
//!   loans, silos, or tree roots, never every holder, request or loan. A block after which one
//!   fails is never committed and halts block production (docs/security.md, "Invariants in
//!   production"). [`check`] also walks the open loans and compares the books with the walk.
//!
//! This file holds the block invariants, [`check`] and the ledger's and vault's checks;
//! `credit`, `usdai` and `queues` hold the rest of [`check`]'s parts.

mod credit;
mod queues;
mod usdai;

use crate::{
    event::Event,
    ids::{Account, Asset, ProtocolAccount},
    loans::LoanStatus,
    loans::open_books::OpenLoanSums,
    math::Amount,
    reserve,
    state::State,
    vault,
};
use alloy_primitives::U256;
use credit::{check_loans, check_silos};
use queues::{check_qev, check_queue, check_queue_trees};
use std::collections::BTreeMap;
pub use usdai::check_attested_issuance;
use usdai::{check_attestations, check_gateway_flows};

/// An invariant the node checks after every block, in every build ([`check_block`]). The
/// names are stable: `/v1/health` reports a violated one by [`BlockInvariant::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockInvariant {
    /// SPEC 14.2: the reserve's value covers the USDai supply.
    UsdaiBackedByReserve,
    /// SPEC 14.3: shares outstanding imply NAV; conservative NAV <= optimistic NAV; the
    /// redemption price <= the deposit price.
    VaultPricesOrdered,
    /// SPEC 14.4: each open loan's tranches sum to its balance, and the vault's senior book
    /// (principal, accrual rate, accrued interest) is the exact sum of the open loans'
    /// senior positions.
    SeniorBookEqualsLoans,
    /// SPEC 14.5: each silo's pool book equals its ledger balance, and its outstanding senior
    /// and junior books equal its open loans'.
    SiloBooksMatchLoansAndPools,
    /// SPEC 14.6: the queue escrow holds exactly the shares the active requests lock.
    QueueEscrowMatchesRequests,
    /// SPEC 14.6: the QEV fee pool holds its lifetime inflows less its outflows.
    FeePoolMatchesFlows,
    /// Transit accounts (insurance claims, liquidation escrow) are empty between transactions.
    TransitAccountsEmpty,
}

impl BlockInvariant {
    /// Every block invariant, in the order [`check_block`] checks them.
    pub const ALL: [BlockInvariant; 7] = [
        BlockInvariant::UsdaiBackedByReserve,
        BlockInvariant::VaultPricesOrdered,
        BlockInvariant::SeniorBookEqualsLoans,
        BlockInvariant::SiloBooksMatchLoansAndPools,
        BlockInvariant::QueueEscrowMatchesRequests,
        BlockInvariant::FeePoolMatchesFlows,
        BlockInvariant::TransitAccountsEmpty,
    ];

    /// The stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            BlockInvariant::UsdaiBackedByReserve => "usdai_backed_by_reserve",
            BlockInvariant::VaultPricesOrdered => "vault_prices_ordered",
            BlockInvariant::SeniorBookEqualsLoans => "senior_book_equals_loans",
            BlockInvariant::SiloBooksMatchLoansAndPools => "silo_books_match_loans_and_pools",
            BlockInvariant::QueueEscrowMatchesRequests => "queue_escrow_matches_requests",
            BlockInvariant::FeePoolMatchesFlows => "fee_pool_matches_flows",
            BlockInvariant::TransitAccountsEmpty => "transit_accounts_empty",
        }
    }
}

/// A block invariant that does not hold, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which invariant.
    pub invariant: BlockInvariant,
    /// What was found, in words.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.invariant.name(), self.detail)
    }
}

/// Checks the cheap invariants ([`BlockInvariant::ALL`]); returns the first that fails.
///
/// Cost: O(silos + reserve and pool reads), independent of the number of holders, requests
/// and loans, so the node runs it after every block in release builds: the open loans' sums
/// come from the loans table's index ([`crate::loans::open_books`]), which every write keeps
/// exact, and a walk over the open loans is taken only when those sums cannot be read (a loan
/// whose tranches do not sum to its balance, an `open` table of another size, a sum beyond
/// 256 bits), to find what is wrong. Every write of a loan goes through its table, so a block
/// that leaves a book unequal to its loans is caught whichever side it changed; the `open`
/// table's members (not only their count) and the index against a scan are [`check`]'s.
pub fn check_block(state: &State) -> Result<(), Violation> {
    check_block_with(state, indexed_open_loan_sums)
}

/// [`check_block`] with the open loans' sums from `sums`.
fn check_block_with(
    state: &State,
    sums: fn(&State) -> Result<OpenLoanSums, String>,
) -> Result<(), Violation> {
    let fail = |invariant, detail: String| Err(Violation { invariant, detail });
    match (reserve::is_fully_backed(state), reserve::backing(state)) {
        (Ok(true), _) => {}
        (Ok(false), Ok(backing)) => {
            return fail(
                BlockInvariant::UsdaiBackedByReserve,
                format!(
                    "reserve value {} is below USDai supply {}",
                    backing.reserve_value, backing.usdai_supply
                ),
            );
        }
        (Err(_), _) | (_, Err(_)) => {
            return fail(
                BlockInvariant::UsdaiBackedByReserve,
                "the T-bill index or the reserve's value overflows 128 bits".into(),
            );
        }
    }
    if let Err(detail) = check_vault(state) {
        return fail(BlockInvariant::VaultPricesOrdered, detail);
    }
    let sums = match sums(state) {
        Ok(sums) => sums,
        Err(detail) => return fail(BlockInvariant::SeniorBookEqualsLoans, detail),
    };
    if let Err(detail) = check_senior_book(state, &sums) {
        return fail(BlockInvariant::SeniorBookEqualsLoans, detail);
    }
    if let Err(detail) = check_silo_books(state, &sums) {
        return fail(BlockInvariant::SiloBooksMatchLoansAndPools, detail);
    }
    let locked =
        state.queue.eligible_shares.total().0.checked_add(state.queue.waiting_shares.total().0);
    let escrow = state.ledger.balance(ProtocolAccount::QueueEscrow, Asset::Susdai);
    if locked != Some(escrow.0) {
        return fail(
            BlockInvariant::QueueEscrowMatchesRequests,
            format!("the queue escrow holds {escrow} shares but active requests lock {locked:?}"),
        );
    }
    if let Err(detail) = check_fee_pool_flows(state) {
        return fail(BlockInvariant::FeePoolMatchesFlows, detail);
    }
    for account in [ProtocolAccount::InsuranceClaims, ProtocolAccount::LiquidationEscrow] {
        let held = usdai(state, account);
        if !held.is_zero() {
            return fail(
                BlockInvariant::TransitAccountsEmpty,
                format!("{account:?} holds {held} USDai between transactions"),
            );
        }
    }
    Ok(())
}

/// The open loans' sums as the loans table keeps them, read at the state's time; the walk
/// ([`open_loan_sums`]) when they cannot be read, which then names what is wrong.
fn indexed_open_loan_sums(state: &State) -> Result<OpenLoanSums, String> {
    let books = state.loans.loans.index().open_books();
    if u64::try_from(state.loans.open.len()) == Ok(books.count())
        && let Some(sums) = books.at(state.now())
    {
        return Ok(sums);
    }
    open_loan_sums(state)
}

/// Sums over the open loans (active or defaulted) by walking the `open` table.
fn open_loan_sums(state: &State) -> Result<OpenLoanSums, String> {
    let now = state.now();
    let mut sums = OpenLoanSums::default();
    for (&id, ()) in state.loans.open.iter() {
        let Some(loan) = state.loans.loans.get(&id) else {
            return Err(format!("open loan {id} does not exist"));
        };
        if !matches!(loan.status, LoanStatus::Active | LoanStatus::Defaulted) {
            return Err(format!("loan {id} is indexed open but is {:?}", loan.status));
        }
        let tranches = loan.senior.principal.checked_add(loan.junior.principal);
        if tranches != Ok(loan.balance) {
            return Err(format!("loan {id}: tranche principals do not sum to its balance"));
        }
        sums.senior_principal =
            sums.senior_principal.checked_add(loan.senior.principal).map_err(|_| "overflow")?;
        sums.rate += loan.senior_accrual.interest_per_second_wad;
        sums.accrued += loan.senior_accrual.accrued_wad_at(now);
        let silo = sums.by_silo.entry(loan.silo).or_default();
        silo.0 = silo.0.checked_add(loan.senior.principal).map_err(|_| "overflow")?;
        silo.1 = silo.1.checked_add(loan.junior.principal).map_err(|_| "overflow")?;
    }
    Ok(sums)
}

/// The vault's senior book is the exact sum of the open loans' positions (a closed loan's
/// position is zero: the full check verifies that loan by loan).
fn check_senior_book(state: &State, sums: &OpenLoanSums) -> Result<(), String> {
    let book = &state.vault.globals.get().senior;
    if book.principal != sums.senior_principal {
        return Err(format!(
            "senior book principal {} but open loans hold {}",
            book.principal, sums.senior_principal
        ));
    }
    if book.interest_per_second_wad != sums.rate {
        return Err("the senior book's accrual rate is not the sum of the open loans'".into());
    }
    if book.accrued_wad_at(state.now()) != sums.accrued {
        return Err("the senior book's accrued interest is not the sum of the open loans'".into());
    }
    Ok(())
}

/// Each silo's pool book equals its ledger balance; its outstanding books equal its loans'.
fn check_silo_books(state: &State, sums: &OpenLoanSums) -> Result<(), String> {
    for (&id, silo) in state.silos.silos.iter() {
        let pool = usdai(state, ProtocolAccount::SiloPool(id));
        if silo.pool_balance != pool {
            return Err(format!(
                "silo {id}: pool book {} but its ledger balance is {pool}",
                silo.pool_balance
            ));
        }
        let loans = sums.by_silo.get(&id).copied().unwrap_or_default();
        if (silo.senior_outstanding, silo.junior_outstanding) != loans {
            return Err(format!(
                "silo {id}: books senior {} and junior {} but its open loans sum to {} and {}",
                silo.senior_outstanding, silo.junior_outstanding, loans.0, loans.1
            ));
        }
    }
    if let Some(id) = sums.by_silo.keys().find(|id| !state.silos.silos.contains_key(id)) {
        return Err(format!("open loans in unknown silo {id}"));
    }
    Ok(())
}

/// The fee pool holds its lifetime inflows (bid fees, penalties) less its outflows (protocol
/// cut, swept dust, claimed wait-fees).
fn check_fee_pool_flows(state: &State) -> Result<(), String> {
    let globals = state.queue.qev.get();
    let pool = usdai(state, ProtocolAccount::QevFeePool);
    let inflow = U256::from(globals.bid_fees_paid_total.0) + U256::from(globals.penalties_total.0);
    let outflow = U256::from(globals.protocol_cut_total.0)
        + U256::from(globals.dust_swept_total.0)
        + U256::from(globals.wait_fees_claimed_total.0);
    if inflow < outflow || U256::from(pool.0) != inflow - outflow {
        return Err(format!("fee pool {pool} does not match its lifetime inflows and outflows"));
    }
    Ok(())
}

/// Returns the first invariant that does not hold, in words.
/// The cheap block invariants ([`check_block`]) are part of it, so every test that checks the
/// invariants also shows they hold wherever the full set does.
pub fn check(state: &State) -> Result<(), String> {
    check_block(state).map_err(|violation| violation.to_string())?;
    // The same block invariants over a walk of the open loans: the sums [`check_block`] read
    // from the index are checked against the loans themselves here and in
    // `check_derived_indexes`.
    check_block_with(state, open_loan_sums).map_err(|violation| violation.to_string())?;
    check_ledger(state)?;
    check_attestations(state)?;
    crate::receipts::presence::check_invariants(state)?;
    crate::loans::residual::check_invariants(state)?;
    check_gateway_flows(state)?;
    check_queue(state)?;
    check_loans(state)?;
    check_silos(state)?;
    check_qev(state)?;
    check_queue_trees(state)?;
    crate::rental_index::check_invariants(state)?;
    check_derived_indexes(state)?;
    Ok(())
}

/// The indexes a table derives from its entries (not encoded, not leaves) equal a scan of
/// the table: whatever wrote, rolled back, overwrote or decoded it kept them right.
pub fn check_derived_indexes(state: &State) -> Result<(), String> {
    let requests = &state.queue.requests;
    if !requests.index().0.equals_scan(requests.iter()) {
        return Err("the redemption requests' owner index differs from a scan".into());
    }
    if !requests.index().1.equals_scan(requests) {
        return Err("the listed requests' index differs from a scan".into());
    }
    let loans = &state.loans.loans;
    if !loans.index().equals_scan(loans.iter()) {
        return Err(
            "the loans' index (borrowers, open by silo, in recovery, open sums) differs from a scan"
                .into()
        );
    }
    let deposits = &state.reserve.queued_deposits;
    if !deposits.index().equals_scan(deposits.iter()) {
        return Err("the queued deposits' owner index differs from a scan".into());
    }
    let receipts = &state.receipts.receipts;
    if !receipts.index().equals_scan(receipts.iter()) {
        return Err("the receipts' owner index differs from a scan".into());
    }
    Ok(())
}

/// SPEC 14.5 (the part a transaction's events show): no USDai moves from one silo's first-loss
/// pool to another's.
pub fn check_isolation(events: &[Event]) -> Result<(), String> {
    for event in events {
        if let Event::Transferred {
            from: Account::Protocol(ProtocolAccount::SiloPool(from)),
            to: Account::Protocol(ProtocolAccount::SiloPool(to)),
            ..
        } = event
        {
            return Err(format!("USDai moved from silo {from}'s pool to silo {to}'s pool"));
        }
    }
    Ok(())
}

fn usdai(state: &State, account: ProtocolAccount) -> Amount {
    state.ledger.balance(account, Asset::Usdai)
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
