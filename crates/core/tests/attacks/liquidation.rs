//! Accountable liquidation (issue 11 item 5).
//!
//! A defaulted loan's receipts go to a liquidation agent, who sells the hardware, pays the
//! gross proceeds in and is reimbursed the costs it reports; the net goes through the
//! waterfall. The agent reports its own costs: it would pad them (or claim a commission above
//! the ITAD rate on proceeds it under-reports) and keep the difference, taken from the vault
//! and the curator's first-loss capital. Each cost of a report is checked against the asset
//! class's recovery cost model (the model's ITAD share of the reported gross, each fixed cost
//! per unit); a report above any bound does not execute: its gross waits in
//! `ProtocolAccount::HeldSales` until the admin approves it (costs that were real) or rejects
//! it (the gross goes back to the agent, who must report again). An agent has 90 days to sell
//! (`loans::SALE_PERIOD_SECS`): after its sale deadline the admin alone may hand the unsold
//! receipts to another agent or write off a receipt nobody can sell, which settles the loan.

use crate::common::{
    ADMIN, ALICE, BOB, BORROWER, CURATOR, GpuLoan, INSURER, LIQUIDATION_AGENT, Market, RIVAL,
    minus, model_sale, plus, whole,
};
use infrafi_core::{
    Action, Amount, Asset, Event, LoanId, ProtocolAccount, Role,
    action::{
        DecideHeldSale, ForecloseLoan, GrantRole, PayInsuranceClaim, ReportSale, RevokeRole,
        Transfer, WriteOffReceipt,
    },
    governance::GovernanceError,
    ids::ReceiptId,
    loans::{LoanError, LoanStatus, SALE_PERIOD_SECS, SaleReport},
    receipts::ReceiptStatus,
};

const AGENT: infrafi_core::Address = LIQUIDATION_AGENT;
/// What the buyer really paid.
const GROSS: u128 = 500_000;

/// 600,000 lent against 29 GPUs appraised at 870,000 (the fixture's class: 30% ITAD
/// commission, no fixed costs), defaulted and foreclosed to the agent, who holds the buyer's
/// 500,000.
fn foreclosed_and_sold() -> (Market, LoanId, ReceiptId) {
    let (mut market, silo) = Market::builder()
        .staked(ALICE, whole(1_000_000))
        .with_silo(whole(60_000), whole(1_000_000));
    let (loan, receipt) = market.lend(
        silo,
        GpuLoan { units: 29, appraisal: whole(870_000), senior: whole(600_000), apr_bps: 1_000 },
    );
    market.default_after_grace(loan);
    market.foreclose(loan, AGENT);
    market.buyer_pays(BOB, AGENT, whole(GROSS));
    (market, loan, receipt)
}

/// The honest report: the whole gross and the model's 30% commission (150,000).
fn honest() -> SaleReport {
    model_sale(whole(GROSS))
}

fn report(market: &mut Market, receipt_id: ReceiptId, report: SaleReport) -> Vec<Event> {
    market.report_sale(AGENT, receipt_id, report)
}

/// What every party holds: the agent, the vault, the curator's pool, the fee collector, the
/// borrower.
fn holdings(market: &Market, loan: LoanId) -> [Amount; 5] {
    let silo = market.loan(loan).silo;
    [
        market.usdai(AGENT),
        market.vault_usdai(),
        market.pool(silo),
        market.fees(),
        market.usdai(BORROWER),
    ]
}

/// Attack: the agent reports 40,000 of legal costs the model does not allow (its class has no
/// legal cost per unit), then a commission of 40% on the same sale. Each report is held: no
/// USDai reaches the agent, the waterfall or the vault, the receipt stays foreclosed and
/// neither the agent nor an insurer can act on it meanwhile. The admin rejects both (the
/// gross goes back); the agent's honest report then leaves every party exactly where an
/// honest report at once would have: padding gained the agent nothing.
#[test]
fn a_liquidation_agent_who_pads_its_costs_gains_nothing() {
    let (mut market, loan, receipt) = foreclosed_and_sold();
    let mut straight = market.clone();
    report(&mut straight, receipt, honest());
    assert_eq!(straight.loan(loan).status, LoanStatus::Settled);

    let padded_reports = [
        SaleReport { legal_costs: whole(40_000), ..honest() },
        SaleReport { itad_commission: whole(200_000), ..honest() },
    ];
    for padded in padded_reports {
        let before = holdings(&market, loan);
        let vault = market.vault_usdai();
        let events = report(&mut market, receipt, padded);
        let bounds = events
            .iter()
            .find_map(|event| match event {
                Event::SaleHeld { bounds, .. } => Some(*bounds),
                _ => None,
            })
            .expect("a report above the model is held");
        assert_eq!(
            bounds,
            SaleReport {
                gross_proceeds: whole(GROSS),
                itad_commission: whole(150_000),
                ..SaleReport::default()
            }
        );
        assert_eq!(market.usdai(AGENT), Amount::ZERO, "the gross waits for the admin");
        assert_eq!(market.usdai(ProtocolAccount::HeldSales), whole(GROSS));
        assert_eq!(market.vault_usdai(), vault, "nothing reached the waterfall");
        assert_eq!(market.loan(loan).status, LoanStatus::Defaulted);
        let status = market.state.receipts.receipts.get(&receipt).map(|r| r.status);
        assert_eq!(status, Some(ReceiptStatus::Foreclosed));
        // Nobody acts on a held sale but the admin.
        market.rejected(
            AGENT,
            Action::ReportSale(ReportSale { receipt_id: receipt, report: honest() }),
            LoanError::ReceiptSaleIsHeld,
        );
        let claim = PayInsuranceClaim { receipt_id: receipt, amount: whole(1) };
        market.rejected(INSURER, Action::PayInsuranceClaim(claim), LoanError::ReceiptSaleIsHeld);
        let reject = DecideHeldSale { receipt_id: receipt, approve: false };
        market.ok(ADMIN, Action::DecideHeldSale(reject));
        assert_eq!(holdings(&market, loan), before, "a rejected report changes nothing");
    }

    report(&mut market, receipt, honest());
    assert_eq!(market.loan(loan).status, LoanStatus::Settled);
    assert_eq!(holdings(&market, loan), holdings(&straight, loan), "padding gained nothing");
    assert_eq!(market.loan(loan).recovery, straight.loan(loan).recovery);
    assert_eq!(market.nav(), straight.nav());
}

/// Attack: the agent under-reports the proceeds (300,000 of the 500,000 it holds) but claims
/// the commission of the real sale (150,000), which is 50% of what it reports: held, like any
/// cost above the model. The admin rejects it; the agent ends where an honest report leaves
/// it. (What an agent under-reports while claiming only the model's costs on it is not
/// visible to the protocol: the sale deadline and reassignment, and the admin's review, are
/// the defences there; see docs/security.md.)
#[test]
fn a_liquidation_agent_who_under_reports_proceeds_cannot_keep_the_real_commission() {
    let (mut market, loan, receipt) = foreclosed_and_sold();
    let mut straight = market.clone();
    report(&mut straight, receipt, honest());
    let under = SaleReport { gross_proceeds: whole(300_000), ..honest() };
    let events = report(&mut market, receipt, under);
    assert!(events.iter().any(|event| matches!(event, Event::SaleHeld { .. })));
    assert_eq!(market.usdai(AGENT), whole(200_000), "the 300,000 reported waits");
    market
        .ok(ADMIN, Action::DecideHeldSale(DecideHeldSale { receipt_id: receipt, approve: false }));
    report(&mut market, receipt, honest());
    assert_eq!(holdings(&market, loan), holdings(&straight, loan));
}

/// Costs above the model can be real (a contested repossession's legal bill): the admin
/// approves the held report and it executes exactly as reported, the agent reimbursed, the
/// net through the waterfall, the loan settled.
#[test]
fn a_held_sale_the_admin_approves_executes_as_reported() {
    let (mut market, loan, receipt) = foreclosed_and_sold();
    let contested = SaleReport { legal_costs: whole(40_000), ..honest() };
    let vault = market.vault_usdai();
    report(&mut market, receipt, contested);
    let events = market
        .ok(ADMIN, Action::DecideHeldSale(DecideHeldSale { receipt_id: receipt, approve: true }));
    assert!(events.iter().any(|event| matches!(event, Event::SaleReported { .. })));
    assert_eq!(market.loan(loan).status, LoanStatus::Settled);
    assert_eq!(market.usdai(AGENT), whole(190_000), "commission and legal costs reimbursed");
    assert_eq!(market.usdai(ProtocolAccount::HeldSales), Amount::ZERO);
    assert_eq!(market.loan(loan).recovery.costs, whole(190_000));
    assert!(market.vault_usdai() > vault, "the net reached the vault");
    market.rejected(
        ADMIN,
        Action::DecideHeldSale(DecideHeldSale { receipt_id: receipt, approve: true }),
        LoanError::ReceiptSaleIsNotHeld,
    );
}

/// Attack: the agent the curator chose takes the receipts and never sells (it may be paid by
/// the borrower to wait, or simply gone): the loan stays defaulted, its impairment in the
/// price, the vault's principal locked. Before the sale deadline nobody may take the receipts
/// from it (the admin's hand-over is refused: an agent has its 90 days); once the deadline
/// has passed the admin hands them to another agent, the old one can no longer report, and
/// the new one sells: the vault and the pool end exactly where the first agent's honest sale
/// would have left them.
#[test]
fn a_liquidation_agent_who_sits_on_the_receipts_is_replaced_after_the_sale_deadline() {
    let (mut market, loan, receipt) = foreclosed_and_sold();
    let mut straight = market.clone();
    report(&mut straight, receipt, honest());
    let deadline = market.loan(loan).sale_deadline_at.expect("a foreclosed loan has a deadline");
    assert_eq!(deadline, market.now() + SALE_PERIOD_SECS);
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::LiquidationAgent, account: RIVAL }));
    let hand_over = ForecloseLoan { loan_id: loan, liquidation_agent: RIVAL };
    market.advance(deadline - 1 - market.now());
    market.rejected(ADMIN, Action::ForecloseLoan(hand_over), LoanError::LoanAlreadyForeclosed);

    market.advance(1);
    let events = market.ok(ADMIN, Action::ForecloseLoan(hand_over));
    assert!(events.contains(&Event::LoanForeclosed {
        loan_id: loan,
        liquidation_agent: RIVAL,
        sale_deadline_at: market.now() + SALE_PERIOD_SECS,
    }));
    let owner = market.state.receipts.receipts.get(&receipt).map(|r| r.owner);
    assert_eq!(owner, Some(RIVAL), "the unsold receipt went to the new agent");
    market.rejected(
        AGENT,
        Action::ReportSale(ReportSale { receipt_id: receipt, report: honest() }),
        LoanError::SenderIsNotLoanLiquidationAgent,
    );
    // The new agent sells (the old one hands the buyer's money over off-chain here).
    let proceeds = Transfer { asset: Asset::Usdai, to: RIVAL, amount: whole(GROSS) };
    market.ok(AGENT, Action::Transfer(proceeds));
    market.report_sale(RIVAL, receipt, honest());
    assert_eq!(market.loan(loan).status, LoanStatus::Settled);
    let silo = market.loan(loan).silo;
    assert_eq!(market.vault_usdai(), straight.vault_usdai(), "the vault got the same");
    assert_eq!(market.pool(silo), straight.pool(silo), "the pool paid the same");
    assert_eq!(market.loan(loan).recovery, straight.loan(loan).recovery);
}

/// Attack: nobody moves a defaulted loan on, to keep a loss out of the redemption price
/// for ever or the vault's principal locked: the curator never forecloses, then the agent the
/// admin picks never sells. The admin forecloses in the curator's place; the write-off that
/// ends the liquidation is the admin's alone (the curator is refused) and only after the
/// sale deadline (refused the second before, and while a sale report of the receipt is held).
/// Written off, the receipt recovers nothing and the loan settles through the waterfall's
/// end: the curator's pool covers the senior tranche first, the vault loses only the rest,
/// and no impairment is left in the price.
#[test]
fn nobody_can_stall_a_liquidation_forever() {
    let (mut market, silo) = Market::builder()
        .staked(ALICE, whole(1_000_000))
        .with_silo(whole(60_000), whole(1_000_000));
    let (loan, receipt) = market.lend(
        silo,
        GpuLoan { units: 29, appraisal: whole(870_000), senior: whole(600_000), apr_bps: 1_000 },
    );
    market.default_after_grace(loan);
    let write_off = Action::WriteOffReceipt(WriteOffReceipt { receipt_id: receipt });
    // Never foreclosed: no deadline has started, nothing to write off yet.
    market.rejected(ADMIN, write_off.clone(), LoanError::SaleDeadlineNotPassed);
    let foreclose = ForecloseLoan { loan_id: loan, liquidation_agent: AGENT };
    market.ok(ADMIN, Action::ForecloseLoan(foreclose));
    let deadline = market.loan(loan).sale_deadline_at.expect("a deadline");
    market.advance(deadline - 1 - market.now());
    market.rejected(ADMIN, write_off.clone(), LoanError::SaleDeadlineNotPassed);
    market.advance(1);
    market.rejected(CURATOR, write_off.clone(), GovernanceError::SenderLacksRole);
    // A held report blocks the write-off until the admin decides it.
    market.buyer_pays(BOB, AGENT, whole(1_000));
    let padded = SaleReport { legal_costs: whole(1), ..model_sale(whole(1_000)) };
    market.report_sale(AGENT, receipt, padded);
    market.rejected(ADMIN, write_off.clone(), LoanError::ReceiptSaleIsHeld);
    let reject = DecideHeldSale { receipt_id: receipt, approve: false };
    market.ok(ADMIN, Action::DecideHeldSale(reject));

    // The hardware is gone: the appraiser marks it at one unit and the keeper re-marks, so the
    // loss is in the redemption price before the write-off settles it.
    market.revalue_and_remark(receipt, Amount(1));
    assert!(market.nav().senior_impairment > Amount::ZERO);
    let conservative = market.nav().conservative;
    let owed = market.loan(loan).senior.principal;
    let pool = market.pool(silo);
    let vault = market.vault_usdai();
    let events = market.ok(ADMIN, write_off.clone());
    assert!(events.contains(&Event::ReceiptWrittenOff { receipt_id: receipt, loan_id: loan }));
    let status = market.state.receipts.receipts.get(&receipt).map(|r| r.status);
    assert_eq!(status, Some(ReceiptStatus::WrittenOff));
    let settled = market.loan(loan);
    assert_eq!(settled.status, LoanStatus::Settled);
    assert_eq!(settled.recovery.first_loss_cover, pool, "the pool paid first, all of it");
    assert_eq!(market.pool(silo), Amount::ZERO);
    assert_eq!(market.vault_usdai(), plus(vault, pool), "the vault received the pool");
    assert_eq!(settled.recovery.senior_loss, minus(owed, pool), "the vault lost only the rest");
    assert_eq!(market.nav().senior_impairment, Amount::ZERO, "no impairment is left");
    assert_eq!(market.nav().conservative, conservative, "the loss was already in the price");
    assert_eq!(market.senior().principal, Amount::ZERO);
    market.rejected(ADMIN, write_off, LoanError::ReceiptIsNotForeclosed);
}

/// Attack: the curator keeps its first-loss capital out of a loss by never letting the
/// liquidation end. Its agent sits on the receipts; at each sale deadline the curator hands
/// them to another agent in the first block after it, which (were it allowed) would set a
/// new deadline before the admin's write-off could run, and so on for ever. Once a deadline
/// has passed only the admin may hand over: the curator's hand-over is refused and the
/// admin's write-off runs at the deadline. The admin's own hand-over (a new agent, a new 90
/// days) is its choice; after that deadline the curator is refused again and the admin writes
/// off. Nor can the agent block the write-off with a report held for the admin (836): the
/// admin revokes its role and rejects the report. The curator gains nothing: its pool covers
/// the senior shortfall at the first deadline.
#[test]
fn a_curator_who_hands_over_at_every_deadline_cannot_stop_the_write_off() {
    let (mut market, silo) = Market::builder()
        .staked(ALICE, whole(1_000_000))
        .with_silo(whole(60_000), whole(1_000_000));
    let (loan, receipt) = market.lend(
        silo,
        GpuLoan { units: 29, appraisal: whole(870_000), senior: whole(600_000), apr_bps: 1_000 },
    );
    market.default_after_grace(loan);
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::LiquidationAgent, account: RIVAL }));
    market.foreclose(loan, AGENT);
    let write_off = Action::WriteOffReceipt(WriteOffReceipt { receipt_id: receipt });
    let to = |liquidation_agent| {
        Action::ForecloseLoan(ForecloseLoan { loan_id: loan, liquidation_agent })
    };

    // The first deadline: the curator's hand-over in the first block after it is refused.
    let deadline = market.loan(loan).sale_deadline_at.expect("a deadline");
    market.advance(deadline - market.now());
    market.rejected(CURATOR, to(RIVAL), LoanError::SenderMayNotHandOverAfterSaleDeadline);
    assert_eq!(market.loan(loan).sale_deadline_at, Some(deadline), "the clock did not move");
    assert_eq!(market.loan(loan).liquidation_agent, Some(AGENT));

    // The admin may give another agent 90 days instead; at their end the curator is refused
    // again, and the admin writes the receipt off.
    let at_first_deadline = market.clone();
    market.ok(ADMIN, to(RIVAL));
    let second = market.loan(loan).sale_deadline_at.expect("a new deadline");
    assert_eq!(second, market.now() + SALE_PERIOD_SECS);
    market.advance(second - market.now());
    market.rejected(CURATOR, to(AGENT), LoanError::SenderMayNotHandOverAfterSaleDeadline);
    market.ok(ADMIN, write_off.clone());
    assert_eq!(market.loan(loan).status, LoanStatus::Settled);

    // Or at the first deadline. An agent who keeps a report held to block it (836) loses its
    // role and the report is rejected; the loan settles, the pool covering the senior first.
    let mut market = at_first_deadline;
    market.buyer_pays(BOB, AGENT, whole(1_000));
    let padded = SaleReport { legal_costs: whole(1), ..model_sale(whole(1_000)) };
    market.report_sale(AGENT, receipt, padded);
    market.rejected(ADMIN, write_off.clone(), LoanError::ReceiptSaleIsHeld);
    let revoke = RevokeRole { role: Role::LiquidationAgent, account: AGENT };
    market.ok(ADMIN, Action::RevokeRole(revoke));
    market
        .ok(ADMIN, Action::DecideHeldSale(DecideHeldSale { receipt_id: receipt, approve: false }));
    let again = ReportSale { receipt_id: receipt, report: padded };
    market.rejected(AGENT, Action::ReportSale(again), GovernanceError::SenderLacksRole);
    let pool = market.pool(silo);
    market.ok(ADMIN, write_off);
    let settled = market.loan(loan);
    assert_eq!(settled.status, LoanStatus::Settled);
    assert_eq!(settled.recovery.first_loss_cover, pool, "the curator's pool paid first");
    assert_eq!(market.pool(silo), Amount::ZERO);
}
