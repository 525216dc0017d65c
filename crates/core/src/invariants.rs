//! The SPEC 14 invariants as checkable functions.
//!
//! - [`check`] walks the whole state: tests call it after every transaction; it is not on the
//!   node's hot path.
//! - [`check_block`] is the cheap subset the node checks after every block in every build
//!   (release included): each part reads aggregates, indexes of open loans and silos, or tree
//!   roots, never every holder or request. A block after which one fails is never committed
//!   and halts block production (docs/security.md, "Invariants in production").

use crate::{
    event::Event,
    fenwick::{Fenwick, Sums},
    ids::{Account, Address, Asset, LoanId, ProtocolAccount, ReceiptId, SiloId},
    loans::LoanStatus,
    math::Amount,
    qev::{self, WAIT_FEE_SCALE},
    receipts::ReceiptStatus,
    reserve,
    state::State,
    vault,
};
use alloy_primitives::U256;
use std::collections::BTreeMap;

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
/// Cost: O(open loans + silos + reserve and pool reads), independent of the number of
/// holders and requests, so the node runs it after every block in release builds.
pub fn check_block(state: &State) -> Result<(), Violation> {
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
    let sums = match open_loan_sums(state) {
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

/// Sums over the open loans (active or defaulted), from the open index.
#[derive(Default)]
struct OpenLoanSums {
    senior_principal: Amount,
    rate: U256,
    accrued: U256,
    by_silo: BTreeMap<SiloId, (Amount, Amount)>,
}

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
    check_ledger(state)?;
    check_attestations(state)?;
    check_gateway_flows(state)?;
    check_queue(state)?;
    check_loans(state)?;
    check_silos(state)?;
    check_qev(state)?;
    check_queue_trees(state)?;
    Ok(())
}

/// The gateway's rate-limit windows (issue 16) were last counted no later than now.
fn check_gateway_flows(state: &State) -> Result<(), String> {
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
fn check_deposit_queue(state: &State) -> Result<(), String> {
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
fn check_attestations(state: &State) -> Result<(), String> {
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

/// SPEC 14.4: tranche principals sum to the balance; a repaid loan has balance 0 and no longer
/// holds its receipts; a receipt is pledged to at most one loan; the vault's senior book is the
/// exact sum of the loans' senior positions; loan and liquidation transit accounts are empty.
fn check_loans(state: &State) -> Result<(), String> {
    let now = state.now();
    let mut holder: BTreeMap<ReceiptId, LoanId> = BTreeMap::new();
    let mut senior_principal = Amount::ZERO;
    let mut rate_sum = U256::ZERO;
    let mut accrued_sum = U256::ZERO;
    for (&id, loan) in state.loans.loans.iter() {
        let tranches = loan.senior.principal.0.checked_add(loan.junior.principal.0);
        if tranches != Some(loan.balance.0) {
            return Err(format!("loan {id}: tranche principals do not sum to its balance"));
        }
        let open = matches!(loan.status, LoanStatus::Active | LoanStatus::Defaulted);
        if open != state.loans.open.contains_key(&id) {
            return Err(format!("loan {id}: open index disagrees with status {:?}", loan.status));
        }
        let impaired = state.loans.impaired.contains_key(&(loan.silo, id));
        if loan.is_impaired() != impaired {
            return Err(format!("loan {id}: impaired index disagrees with its state"));
        }
        if !loan.is_impaired() && !loan.senior_uncovered.is_zero() {
            return Err(format!("loan {id}: uncovered principal without impairment"));
        }
        if !open && !loan.balance.is_zero() {
            return Err(format!("loan {id}: {:?} with a balance", loan.status));
        }
        // Issue 16: the reserve's book is its account's balance, within its requirement; only
        // an active loan holds one or is breached.
        let reserve_account = usdai(state, ProtocolAccount::DebtServiceReserve(id));
        if reserve_account != loan.reserve.balance {
            return Err(format!(
                "loan {id}: reserve book {} but its account holds {reserve_account}",
                loan.reserve.balance
            ));
        }
        let active = loan.status == LoanStatus::Active;
        if !active && (!loan.reserve.balance.is_zero() || loan.breach.is_some()) {
            return Err(format!("loan {id}: {:?} with a reserve or a breach", loan.status));
        }
        if loan.reserve.balance > loan.reserve.required {
            return Err(format!("loan {id}: reserve above its requirement"));
        }
        let expected_rate = if loan.status == LoanStatus::Active {
            crate::vault::senior_net_rate_wad(
                loan.senior.principal,
                loan.senior.rate.0,
                loan.senior_accrual.net_share_e8,
            )
        } else {
            U256::ZERO
        };
        if loan.senior_accrual.interest_per_second_wad != expected_rate {
            return Err(format!(
                "loan {id}: senior accrual rate is not principal x rate x net share"
            ));
        }
        if open {
            senior_principal =
                senior_principal.checked_add(loan.senior.principal).map_err(|_| "overflow")?;
        }
        rate_sum += loan.senior_accrual.interest_per_second_wad;
        accrued_sum += loan.senior_accrual.accrued_wad_at(now);
        check_loan_receipts(state, id, loan.status, &loan.receipts, &mut holder)?;
        if usdai(state, ProtocolAccount::Loan(id)) != loan.surplus_held {
            return Err(format!("loan {id}: its account holds more than the surplus held"));
        }
    }
    for (&id, receipt) in state.receipts.receipts.iter() {
        let liened = matches!(receipt.status, ReceiptStatus::Pledged | ReceiptStatus::Foreclosed);
        if liened != holder.contains_key(&id) {
            return Err(format!("receipt {id} is {:?} but no open loan holds it", receipt.status));
        }
    }
    let book = &state.vault.globals.get().senior;
    if book.principal != senior_principal {
        return Err(format!(
            "senior book principal {} but loans hold {senior_principal}",
            book.principal
        ));
    }
    if book.interest_per_second_wad != rate_sum || book.accrued_wad_at(now) != accrued_sum {
        return Err("senior book accrual is not the sum of the loans' positions".into());
    }
    for account in [ProtocolAccount::InsuranceClaims, ProtocolAccount::LiquidationEscrow] {
        if !usdai(state, account).is_zero() {
            return Err(format!("{account:?} holds USDai between transactions"));
        }
    }
    // Held sale reports (issue 11): their gross proceeds are exactly the held-sales account,
    // each on a foreclosed receipt of a defaulted loan.
    let mut held_gross = Amount::ZERO;
    for (receipt_id, held) in state.loans.held_sales.iter() {
        held_gross = held_gross
            .checked_add(held.report.gross_proceeds)
            .map_err(|_| "held sale proceeds overflow".to_string())?;
        let foreclosed = state.receipts.receipts.get(receipt_id).is_some_and(|receipt| {
            receipt.status == ReceiptStatus::Foreclosed && receipt.loan == Some(held.loan_id)
        });
        let defaulted = state
            .loans
            .loans
            .get(&held.loan_id)
            .is_some_and(|loan| loan.status == LoanStatus::Defaulted);
        if !foreclosed || !defaulted {
            return Err(format!("held sale of receipt {receipt_id} is not on a foreclosure"));
        }
    }
    if usdai(state, ProtocolAccount::HeldSales) != held_gross {
        return Err(format!("held-sales account does not hold the held gross {held_gross}"));
    }
    for (&(account, _), _) in state.ledger.balances.iter() {
        if let Account::Protocol(ProtocolAccount::Loan(id)) = account
            && !state.loans.loans.contains_key(&id)
        {
            return Err(format!("the account of unknown loan {id} holds a balance"));
        }
    }
    Ok(())
}

/// A loan's receipts are in the state its status implies and held by no other loan.
fn check_loan_receipts(
    state: &State,
    id: LoanId,
    status: LoanStatus,
    receipt_ids: &[ReceiptId],
    holder: &mut BTreeMap<ReceiptId, LoanId>,
) -> Result<(), String> {
    for receipt_id in receipt_ids {
        let Some(receipt) = state.receipts.receipts.get(receipt_id) else {
            return Err(format!("loan {id} names missing receipt {receipt_id}"));
        };
        let held_here = receipt.loan == Some(id)
            && matches!(receipt.status, ReceiptStatus::Pledged | ReceiptStatus::Foreclosed);
        let consistent = match status {
            LoanStatus::Proposed | LoanStatus::Cancelled => !held_here,
            LoanStatus::Active => held_here && receipt.status == ReceiptStatus::Pledged,
            LoanStatus::Defaulted => {
                receipt.loan == Some(id)
                    && matches!(receipt.status, ReceiptStatus::Foreclosed | ReceiptStatus::Sold)
            }
            LoanStatus::Repaid => receipt.loan != Some(id),
            LoanStatus::Settled => !held_here && receipt.loan == Some(id),
        };
        if !consistent {
            return Err(format!(
                "loan {id} ({status:?}): receipt {receipt_id} is {:?}",
                receipt.status
            ));
        }
        if held_here && let Some(other) = holder.insert(*receipt_id, id) {
            return Err(format!("receipt {receipt_id} is pledged to loans {other} and {id}"));
        }
    }
    Ok(())
}

fn add<K: Ord>(map: &mut BTreeMap<K, Amount>, key: K, amount: Amount) {
    let entry = map.entry(key).or_insert(Amount::ZERO);
    *entry = Amount(entry.0 + amount.0);
}

/// SPEC 14.5: each pool's book equals its ledger balance; exposures are sums over the silo's
/// loans; first-loss capital covers the requirement unless a recognised loss consumed it;
/// impairment is the uncovered principal less the pool, and the vault's is the sum.
fn check_silos(state: &State) -> Result<(), String> {
    let mut senior: BTreeMap<SiloId, Amount> = BTreeMap::new();
    let mut junior: BTreeMap<SiloId, Amount> = BTreeMap::new();
    let mut uncovered: BTreeMap<SiloId, Amount> = BTreeMap::new();
    let mut count: BTreeMap<SiloId, u32> = BTreeMap::new();
    let mut exposure: BTreeMap<(SiloId, Address), Amount> = BTreeMap::new();
    for (_, loan) in state.loans.loans.iter() {
        if matches!(loan.status, LoanStatus::Active | LoanStatus::Defaulted) {
            add(&mut senior, loan.silo, loan.senior.principal);
            add(&mut junior, loan.silo, loan.junior.principal);
            add(&mut uncovered, loan.silo, loan.senior_uncovered);
            if !loan.senior.principal.is_zero() {
                add(&mut exposure, (loan.silo, loan.borrower), loan.senior.principal);
            }
            *count.entry(loan.silo).or_default() += 1;
        }
    }
    let mut impairment = Amount::ZERO;
    for (&id, silo) in state.silos.silos.iter() {
        if silo.pool_balance != usdai(state, ProtocolAccount::SiloPool(id)) {
            return Err(format!("silo {id}: pool book differs from its ledger balance"));
        }
        let sums = (
            senior.get(&id).copied().unwrap_or_default(),
            junior.get(&id).copied().unwrap_or_default(),
            uncovered.get(&id).copied().unwrap_or_default(),
            count.get(&id).copied().unwrap_or_default(),
        );
        let booked = (
            silo.senior_outstanding,
            silo.junior_outstanding,
            silo.senior_uncovered,
            silo.loans_outstanding,
        );
        if sums != booked {
            return Err(format!("silo {id}: books {booked:?} but its loans sum to {sums:?}"));
        }
        let requirement = silo.first_loss_requirement(silo.required_first_loss_bps);
        if silo.first_loss_capital() < requirement && !silo.below_requirement_after_loss {
            return Err(format!(
                "silo {id}: first-loss capital {} below requirement {requirement} without a loss",
                silo.first_loss_capital()
            ));
        }
        if silo.impairment != silo.senior_uncovered.saturating_sub(silo.pool_balance) {
            return Err(format!("silo {id}: impairment is not uncovered principal less the pool"));
        }
        impairment = Amount(impairment.0 + silo.impairment.0);
    }
    if impairment != state.vault.globals.get().senior.impairment {
        return Err("the vault's impairment is not the sum of the silos'".into());
    }
    let booked: BTreeMap<(SiloId, Address), Amount> =
        state.silos.borrower_exposure.iter().map(|(k, v)| (*k, *v)).collect();
    if booked != exposure {
        return Err("borrower exposures differ from their loans".into());
    }
    for (&(account, _), _) in state.ledger.balances.iter() {
        if let Account::Protocol(ProtocolAccount::SiloPool(id)) = account
            && !state.silos.silos.contains_key(&id)
        {
            return Err(format!("the pool of unknown silo {id} holds a balance"));
        }
    }
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
        } else if request.is_finished() {
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

/// SPEC 14.6, the auction's part: escrow conservation, the fee pool to the last unit (and
/// below: sub-unit dust is tracked scaled), fees paid = distributed + protocol cut in every
/// round, and each request's bid, escrow, sealed bid and wait-fees consistent.
fn check_qev(state: &State) -> Result<(), String> {
    let now = state.now();
    let rounds = state.queue.globals.get().rounds;
    let mut escrowed = Amount::ZERO;
    let mut owed_scaled = U256::ZERO;
    let scale = U256::from(WAIT_FEE_SCALE);
    for (id, request) in state.queue.requests.iter() {
        let needed = qev::escrow_for(request.bid_price_wad, request.shares_remaining)
            .map_err(|_| format!("request {id} escrow overflows"))?;
        if request.bid_escrow != needed {
            return Err(format!(
                "request {id} escrows {} for a bid needing {needed}",
                request.bid_escrow
            ));
        }
        if !request.is_active() && !request.bid_escrow.is_zero() {
            return Err(format!("served request {id} still escrows a bid"));
        }
        if let Some(sealed) = &request.sealed_bid {
            if request.bid_price_wad != 0 || !request.bid_escrow.is_zero() {
                return Err(format!("request {id} has both a sealed and an open bid"));
            }
            if !request.is_active() || request.listing_price.is_some() || sealed.round > rounds {
                return Err(format!("request {id} sealed bid is out of place"));
            }
            escrowed = escrowed.checked_add(sealed.deposit).map_err(|_| "escrow overflow")?;
        }
        escrowed = escrowed
            .checked_add(request.bid_escrow)
            .and_then(|sum| sum.checked_add(request.escrow_refund))
            .map_err(|_| "escrow overflow")?;
        let fees = &request.wait_fees;
        let vested =
            qev::vested_wait_fees(fees, now).map_err(|_| format!("request {id} vesting"))?;
        if fees.claimed > vested || vested > fees.credited || fees.vested_at_start > fees.credited {
            return Err(format!("request {id} wait-fees claimed/vested/credited out of order"));
        }
        if fees.vesting_started_at > fees.vesting_ends_at {
            return Err(format!("request {id} vests backwards"));
        }
        let unclaimed = fees.credited.0 - fees.claimed.0;
        owed_scaled += U256::from(unclaimed) * scale;
        if request.is_eligible && request.is_active() {
            let index = qev::wait_fee_index_at(state, *id);
            let growth = index.0.checked_sub(fees.index_snapshot.0);
            let growth = growth.ok_or(format!("request {id} wait-fee snapshot ahead of index"))?;
            owed_scaled += U256::from(request.shares_remaining.0) * U256::from(growth);
        } else if request.is_active() && !fees.index_snapshot.is_zero() {
            return Err(format!("waiting request {id} has a wait-fee snapshot"));
        }
    }
    let escrow = state.ledger.balance(ProtocolAccount::BidEscrow, Asset::Usdai);
    if escrow != escrowed {
        return Err(format!("bid escrow holds {escrow} but requests escrow {escrowed}"));
    }
    let globals = state.queue.qev.get();
    let pool = state.ledger.balance(ProtocolAccount::QevFeePool, Asset::Usdai);
    let expected = owed_scaled
        + U256::from(globals.pool_dust_scaled)
        + U256::from(globals.pool_undistributed.0) * scale;
    if U256::from(pool.0) * scale != expected {
        return Err(format!(
            "fee pool holds {pool} but owes {} (scaled by 10^18, with dust and undistributed)",
            expected
        ));
    }
    for record in state.queue.rounds.iter().map(|(_, r)| r) {
        let paid = U256::from(record.bid_fees_paid.0) + U256::from(record.pool_carried_in.0);
        let spent = U256::from(record.wait_fees_distributed.0)
            + U256::from(record.protocol_cut.0)
            + U256::from(record.pool_carried_out.0);
        if paid != spent {
            return Err(format!("round {} fees paid != distributed + protocol cut", record.round));
        }
    }
    Ok(())
}

/// The eligible and waiting Fenwick trees equal trees rebuilt from the requests.
fn check_queue_trees(state: &State) -> Result<(), String> {
    let queue = &state.queue;
    let next_id = queue.globals.get().next_request_id;
    let eligible = queue.requests.iter().filter(|(_, r)| r.is_active() && r.is_eligible);
    let waiting = queue.requests.iter().filter(|(_, r)| r.is_active() && !r.is_eligible);
    let sums = |(_, r): (_, &crate::queue::RedemptionRequest)| {
        (r.fenwick_index(), Sums(r.shares_remaining.0, 1))
    };
    for (name, tree, entries) in [
        ("eligible", &queue.eligible_shares, eligible.map(sums).collect::<Vec<_>>()),
        ("waiting", &queue.waiting_shares, waiting.map(sums).collect::<Vec<_>>()),
    ] {
        if tree.capacity() < next_id {
            return Err(format!("{name} tree covers {} of {next_id} ids", tree.capacity()));
        }
        let rebuilt = Fenwick::rebuilt(tree.capacity(), entries)
            .map_err(|_| format!("{name} tree rebuild overflows"))?;
        if rebuilt.nodes != tree.nodes {
            return Err(format!("{name} tree does not match the requests"));
        }
    }
    Ok(())
}
