//! The credit invariants (SPEC 14.4, 14.5) over every loan and silo: tranches, the loans'
//! receipts, transit accounts, held sales, and each silo's books, caps and exposure.

use super::usdai;
use crate::{
    ids::{Account, Address, LoanId, ProtocolAccount, ReceiptId, SiloId},
    loans::LoanStatus,
    math::Amount,
    receipts::ReceiptStatus,
    state::State,
};
use alloy_primitives::U256;
use std::collections::BTreeMap;

/// SPEC 14.4: tranche principals sum to the balance; a repaid loan has balance 0 and no longer
/// holds its receipts; a receipt is pledged to at most one loan; the vault's senior book is the
/// exact sum of the loans' senior positions; loan and liquidation transit accounts are empty.
pub(super) fn check_loans(state: &State) -> Result<(), String> {
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
        // Issue 11: a foreclosed loan's agent sells until a deadline, and only such a loan has
        // an agent.
        if loan.liquidation_agent.is_some() != loan.sale_deadline_at.is_some() {
            return Err(format!("loan {id}: a liquidation agent without a sale deadline or back"));
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
        // A receipt names only a loan that lists it: a loan's receipts are found from the loan
        // (`GET /v1/receipts?loan=`), not by scanning every receipt.
        if let Some(loan_id) = receipt.loan
            && !state.loans.loans.get(&loan_id).is_some_and(|loan| loan.receipts.contains(&id))
        {
            return Err(format!("receipt {id} names loan {loan_id}, which does not list it"));
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
pub(super) fn check_loan_receipts(
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
                    && matches!(
                        receipt.status,
                        ReceiptStatus::Foreclosed | ReceiptStatus::Sold | ReceiptStatus::WrittenOff
                    )
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

pub(super) fn add<K: Ord>(map: &mut BTreeMap<K, Amount>, key: K, amount: Amount) {
    let entry = map.entry(key).or_insert(Amount::ZERO);
    *entry = Amount(entry.0 + amount.0);
}

/// SPEC 14.5: each pool's book equals its ledger balance; exposures are sums over the silo's
/// loans; first-loss capital covers the requirement unless a recognised loss consumed it;
/// impairment is the uncovered principal less the pool, and the vault's is the sum.
pub(super) fn check_silos(state: &State) -> Result<(), String> {
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
