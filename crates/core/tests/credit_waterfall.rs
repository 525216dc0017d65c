//! Default, foreclosure and the waterfall (SPEC 9.5): proceeds that cover everything, that
//! wipe out only the junior tranche, that also consume the silo's first-loss pool, and that
//! reach the vault; every fee and cost accounted to the unit; insurance claims.
#![allow(clippy::unwrap_used)]

mod credit_common;

use credit_common::*;
use infrafi_core::{
    Action, Amount, Event, LoanId, ProtocolAccount, ReceiptId, SiloId,
    action::{
        ClaimLoanSurplus, ForecloseLoan, Freeze, PayInsuranceClaim, ReportSale, TriggerDefault,
        Unfreeze,
    },
    loans::{LoanError, LoanStatus, SaleReport, WaterfallPass},
    math::{Bps, Rounding},
    receipts::ReceiptStatus,
};

struct Defaulted {
    market: Market,
    silo: SiloId,
    loan: LoanId,
    receipt: ReceiptId,
}

/// A $1M loan (800k senior at 15%, 200k junior at 20%) against one 100-unit H100 receipt
/// worth $2M, in a silo whose pool holds `extra_pool` beyond the junior tranche; defaulted
/// one second after its grace period and foreclosed to the agent.
fn defaulted(extra_pool: Amount) -> Defaulted {
    let mut market = Market::new(20_000_000);
    let silo = market.open_silo_of(
        CURATOR,
        whole(200_000).checked_add(extra_pool).unwrap(),
        whole(10_000_000),
    );
    let receipt = market.issue_receipt_of_class(BORROWER, h100(), 100, whole(2_000_000));
    let loan = market
        .originate(silo, terms(&market, BORROWER, vec![receipt], whole(800_000), whole(200_000)));
    let deadline = market.loan(loan).next_due_at;
    market.set_time(deadline + 15 * DAY + 1);
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    market.ok(
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan {
            loan_id: loan,
            liquidation_agent: LIQUIDATION_AGENT,
        }),
    );
    Defaulted { market, silo, loan, receipt }
}

struct Balances {
    vault: Amount,
    pool: Amount,
    fees: Amount,
    borrower: Amount,
    agent: Amount,
}

fn balances(market: &Market, silo: SiloId) -> Balances {
    Balances {
        vault: market.vault_usdai(),
        pool: market.pool(silo),
        fees: market.fees(),
        borrower: market.usdai(BORROWER),
        agent: market.usdai(LIQUIDATION_AGENT),
    }
}

fn sale(gross: Amount) -> SaleReport {
    SaleReport {
        gross_proceeds: gross,
        itad_commission: gross.mul_bps(Bps(3_000), Rounding::Up).unwrap(),
        legal_costs: whole(1_000),
        logistics_costs: whole(2_000),
        data_destruction_costs: whole(500),
    }
}

fn pass_of(events: &[Event]) -> WaterfallPass {
    events
        .iter()
        .find_map(|e| match e {
            Event::WaterfallDistributed { pass, .. } => Some(*pass),
            _ => None,
        })
        .unwrap()
}

fn sum(parts: &[Amount]) -> Amount {
    parts.iter().fold(Amount::ZERO, |total, part| total.checked_add(*part).unwrap())
}

/// Sells the receipt for `gross` and checks that every unit of it is accounted for: costs back
/// to the agent, the liquidation fee, the tranches and the borrower.
fn sell_and_account(case: &mut Defaulted, gross: Amount) -> (WaterfallPass, Balances, Balances) {
    let before = balances(&case.market, case.silo);
    let loan = case.market.loan(case.loan);
    let report = sale(gross);
    let events = case
        .market
        .ok(LIQUIDATION_AGENT, Action::ReportSale(ReportSale { receipt_id: case.receipt, report }));
    let after = balances(&case.market, case.silo);
    let pass = pass_of(&events);
    let costs = report.costs().unwrap();
    assert_eq!(pass.net, gross.checked_sub(costs).unwrap());
    assert_eq!(
        before.agent.checked_sub(after.agent).unwrap(),
        pass.net,
        "agent pays gross, keeps costs"
    );
    let fee = pass.net.mul_bps(Bps(200), Rounding::Up).unwrap();
    assert_eq!(pass.liquidation_fee, fee);
    assert_eq!(after.fees.checked_sub(before.fees).unwrap(), fee);
    assert_eq!(
        sum(&[
            fee,
            pass.senior_principal,
            pass.senior_interest,
            pass.junior_principal,
            pass.junior_interest,
            pass.borrower
        ]),
        pass.net
    );
    assert_eq!(after.borrower.checked_sub(before.borrower).unwrap(), pass.borrower);
    // Waterfall order: nothing reaches a junior claim before the senior claims are whole.
    if !pass.junior_principal.is_zero() {
        assert_eq!(pass.senior_principal, loan.senior.principal);
        assert_eq!(pass.senior_interest, loan.senior.interest_due);
    }
    if !pass.borrower.is_zero() {
        assert_eq!(pass.junior_principal, loan.junior.principal);
        assert_eq!(pass.junior_interest, loan.junior.interest_due);
    }
    assert!(case.market.usdai(ProtocolAccount::LiquidationEscrow).is_zero());
    assert_eq!(case.market.loan(case.loan).status, LoanStatus::Settled);
    assert_eq!(
        case.market.state.receipts.receipts.get(&case.receipt).unwrap().status,
        ReceiptStatus::Sold
    );
    (pass, before, after)
}

#[test]
fn proceeds_that_cover_everything_pay_every_tranche_and_the_remainder_to_the_borrower() {
    let mut case = defaulted(whole(50_000));
    let loan = case.market.loan(case.loan);
    let (pass, before, after) = sell_and_account(&mut case, whole(2_000_000));
    assert_eq!(pass.senior_principal, whole(800_000));
    assert_eq!(pass.senior_interest, loan.senior.interest_due);
    assert_eq!(pass.junior_principal, whole(200_000));
    assert_eq!(pass.junior_interest, loan.junior.interest_due);
    assert!(!pass.borrower.is_zero());
    let vault_in = pass.senior_principal.checked_add(pass.senior_interest).unwrap();
    assert_eq!(after.vault.checked_sub(before.vault).unwrap(), vault_in);
    let pool_in = pass.junior_principal.checked_add(pass.junior_interest).unwrap();
    assert_eq!(after.pool.checked_sub(before.pool).unwrap(), pool_in);
    let settled = case.market.loan(case.loan).recovery;
    assert!(settled.senior_loss.is_zero() && settled.junior_loss.is_zero());
    assert!(settled.first_loss_cover.is_zero());
    assert_eq!(case.market.silo(case.silo).losses_absorbed, Amount::ZERO);
}

#[test]
fn proceeds_that_wipe_out_only_the_junior_tranche_leave_the_senior_whole() {
    let mut case = defaulted(whole(50_000));
    let loan = case.market.loan(case.loan);
    // Net after costs and fee: enough for the senior claim and 50k of junior principal.
    let (pass, _, _) = sell_and_account(&mut case, whole(1_270_000));
    assert_eq!(pass.senior_principal, whole(800_000));
    assert_eq!(pass.senior_interest, loan.senior.interest_due);
    assert!(!pass.junior_principal.is_zero() && pass.junior_principal < whole(200_000));
    assert!(pass.borrower.is_zero());
    let settled = case.market.loan(case.loan).recovery;
    assert!(settled.senior_loss.is_zero());
    assert!(settled.first_loss_cover.is_zero(), "the senior was whole: the pool pays nothing");
    assert_eq!(settled.junior_loss, whole(200_000).checked_sub(pass.junior_principal).unwrap());
    assert_eq!(case.market.silo(case.silo).losses_absorbed, settled.junior_loss);
}

#[test]
fn a_senior_shortfall_is_paid_by_the_silos_first_loss_pool_before_the_vault() {
    let mut case = defaulted(whole(1_000_000));
    let loan = case.market.loan(case.loan);
    let senior_owed = loan.senior.principal.checked_add(loan.senior.interest_due).unwrap();
    let nav_before = case.market.nav().conservative;
    let (pass, before, after) = sell_and_account(&mut case, whole(800_000));
    let shortfall = senior_owed
        .checked_sub(pass.senior_principal)
        .unwrap()
        .checked_sub(pass.senior_interest)
        .unwrap();
    assert!(pass.junior_principal.is_zero());
    let settled = case.market.loan(case.loan).recovery;
    assert_eq!(settled.first_loss_cover, shortfall);
    assert!(settled.senior_loss.is_zero(), "the pool covered the whole senior claim");
    assert_eq!(settled.junior_loss, whole(200_000));
    // The pool paid the shortfall to the vault; the vault got all it was owed.
    assert_eq!(before.pool.checked_sub(after.pool).unwrap(), shortfall);
    assert_eq!(after.vault.checked_sub(before.vault).unwrap(), senior_owed);
    assert!(case.market.nav().conservative > nav_before);
    assert_eq!(
        case.market.silo(case.silo).losses_absorbed,
        shortfall.checked_add(whole(200_000)).unwrap()
    );
}

#[test]
fn a_loss_beyond_the_first_loss_pool_reaches_the_vault() {
    let mut case = defaulted(Amount::ZERO);
    let pool = case.market.pool(case.silo);
    assert_eq!(pool, whole(10_000), "only the origination fee is left in the pool");
    let nav_before = case.market.nav();
    let (pass, _, after) = sell_and_account(&mut case, whole(500_000));
    let settled = case.market.loan(case.loan).recovery;
    assert_eq!(settled.first_loss_cover, pool);
    assert!(after.pool.is_zero(), "the pool is exhausted");
    let senior_loss =
        whole(800_000).checked_sub(pass.senior_principal).unwrap().checked_sub(pool).unwrap();
    assert_eq!(settled.senior_loss, senior_loss);
    let nav_after = case.market.nav();
    assert!(nav_after.senior_principal.is_zero());
    // The vault lost exactly the senior principal neither the sale nor the pool covered.
    assert_eq!(
        nav_before
            .unallocated
            .checked_add(nav_before.senior_principal)
            .unwrap()
            .checked_sub(senior_loss)
            .unwrap(),
        nav_after.unallocated
    );
    assert_eq!(
        case.market.silo(case.silo).losses_absorbed,
        pool.checked_add(whole(200_000)).unwrap()
    );
}

#[test]
fn an_insurance_claim_is_paid_through_the_same_waterfall() {
    let mut market = Market::new(20_000_000);
    let silo = market.open_silo_of(CURATOR, whole(300_000), whole(10_000_000));
    let sold = market.issue_receipt_of_class(BORROWER, h100(), 50, whole(1_000_000));
    let destroyed = market.issue_receipt_of_class(BORROWER, h100(), 50, whole(1_000_000));
    let loan = market.originate(
        silo,
        terms(&market, BORROWER, vec![sold, destroyed], whole(800_000), whole(200_000)),
    );
    let deadline = market.loan(loan).next_due_at;
    market.set_time(deadline + 15 * DAY + 1);
    market.ok(STRANGER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    market.ok(
        ADMIN,
        Action::ForecloseLoan(ForecloseLoan {
            loan_id: loan,
            liquidation_agent: LIQUIDATION_AGENT,
        }),
    );
    market.reject(
        INSURER,
        Action::PayInsuranceClaim(PayInsuranceClaim {
            receipt_id: destroyed,
            amount: whole(1_000_001),
        }),
        LoanError::InsuranceClaimExceedsCoverage,
    );
    let fees = market.fees();
    let vault = market.vault_usdai();
    let events = market.ok(
        INSURER,
        Action::PayInsuranceClaim(PayInsuranceClaim {
            receipt_id: destroyed,
            amount: whole(700_000),
        }),
    );
    let pass = pass_of(&events);
    assert_eq!(pass.net, whole(700_000));
    assert_eq!(pass.liquidation_fee, whole(14_000));
    assert_eq!(pass.senior_principal, whole(686_000));
    assert_eq!(market.fees().checked_sub(fees).unwrap(), whole(14_000));
    assert_eq!(market.vault_usdai().checked_sub(vault).unwrap(), whole(686_000));
    assert_eq!(market.loan(loan).status, LoanStatus::Defaulted, "one receipt is still unsold");
    let claimed = market.state.receipts.receipts.get(&destroyed).unwrap().clone();
    assert_eq!((claimed.status, claimed.owner), (ReceiptStatus::Sold, INSURER));
    let events = market.ok(
        LIQUIDATION_AGENT,
        Action::ReportSale(ReportSale { receipt_id: sold, report: sale(whole(600_000)) }),
    );
    let pass = pass_of(&events);
    assert_eq!(pass.senior_principal, whole(800_000 - 686_000));
    assert_eq!(market.loan(loan).status, LoanStatus::Settled);
    assert!(market.usdai(ProtocolAccount::InsuranceClaims).is_zero());
}

#[test]
fn a_frozen_borrowers_remainder_is_held_until_it_is_unfrozen() {
    let mut case = defaulted(whole(50_000));
    case.market.ok(COMPLIANCE, Action::Freeze(Freeze { account: BORROWER }));
    let (pass, _, _) = {
        let report = sale(whole(2_000_000));
        let events = case.market.ok(
            LIQUIDATION_AGENT,
            Action::ReportSale(ReportSale { receipt_id: case.receipt, report }),
        );
        (pass_of(&events), (), ())
    };
    assert!(!pass.borrower.is_zero());
    assert_eq!(case.market.loan(case.loan).surplus_held, pass.borrower);
    assert_eq!(case.market.usdai(ProtocolAccount::Loan(case.loan)), pass.borrower);
    case.market.ok(COMPLIANCE, Action::Unfreeze(Unfreeze { account: BORROWER }));
    let before = case.market.usdai(BORROWER);
    case.market.ok(BORROWER, Action::ClaimLoanSurplus(ClaimLoanSurplus { loan_id: case.loan }));
    assert_eq!(case.market.usdai(BORROWER).checked_sub(before).unwrap(), pass.borrower);
    case.market.reject(
        BORROWER,
        Action::ClaimLoanSurplus(ClaimLoanSurplus { loan_id: case.loan }),
        LoanError::LoanSurplusIsZero,
    );
}

#[test]
fn a_claim_paid_before_foreclosure_leaves_the_settled_receipt_with_the_insurer() {
    let mut market = Market::new(20_000_000);
    let silo = market.open_silo_of(CURATOR, whole(300_000), whole(10_000_000));
    let kept = market.issue_receipt_of_class(BORROWER, h100(), 50, whole(1_000_000));
    let destroyed = market.issue_receipt_of_class(BORROWER, h100(), 50, whole(1_000_000));
    let loan = market.originate(
        silo,
        terms(&market, BORROWER, vec![kept, destroyed], whole(800_000), whole(200_000)),
    );
    let deadline = market.loan(loan).next_due_at;
    market.set_time(deadline + 15 * DAY + 1);
    market.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    market.ok(
        INSURER,
        Action::PayInsuranceClaim(PayInsuranceClaim {
            receipt_id: destroyed,
            amount: whole(500_000),
        }),
    );
    market.ok(
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan {
            loan_id: loan,
            liquidation_agent: LIQUIDATION_AGENT,
        }),
    );
    let claimed = market.state.receipts.receipts.get(&destroyed).unwrap().clone();
    assert_eq!((claimed.status, claimed.owner), (ReceiptStatus::Sold, INSURER));
    let foreclosed = market.state.receipts.receipts.get(&kept).unwrap().clone();
    assert_eq!(
        (foreclosed.status, foreclosed.owner),
        (ReceiptStatus::Foreclosed, LIQUIDATION_AGENT)
    );
}
