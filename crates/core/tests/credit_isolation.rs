//! Isolation (SPEC 10, 14.5): with several silos and random repayments, defaults and sales, no
//! silo's first-loss pool ever pays for another silo's loss.
#![allow(clippy::unwrap_used)]

mod credit_common;

use credit_common::*;
use infrafi_core::{
    Action, Address, Amount, LoanId, SiloId,
    action::{ForecloseLoan, RemarkLoans, RepayLoan, ReportSale, TriggerDefault},
    loans::{LoanStatus, SaleReport},
};
use proptest::prelude::*;

const SILOS: usize = 3;
const LOANS_PER_SILO: usize = 3;

struct World {
    market: Market,
    silos: Vec<SiloId>,
    loans: Vec<(SiloId, LoanId)>,
}

fn world() -> World {
    let mut market = Market::new(50_000_000);
    let curators = [CURATOR, CURATOR_TWO, CURATOR];
    let mut silos = Vec::new();
    let mut loans = Vec::new();
    for (index, curator) in curators.iter().enumerate() {
        let pool = whole(300_000 + 100_000 * index as u128);
        let silo = market.open_silo_of(*curator, pool, whole(10_000_000));
        silos.push(silo);
        for _ in 0..LOANS_PER_SILO {
            let receipt = market.issue_receipt_of_class(BORROWER, h100(), 30, whole(900_000));
            let loan = market.originate(
                silo,
                terms(&market, BORROWER, vec![receipt], whole(400_000), whole(50_000)),
            );
            loans.push((silo, loan));
        }
    }
    World { market, silos, loans }
}

fn pools(world: &World) -> Vec<Amount> {
    world.silos.iter().map(|silo| world.market.pool(*silo)).collect()
}

/// Applies `action` (about a loan of `silo`, if any) and checks that no other silo's pool moved.
fn act(world: &mut World, silo: Option<SiloId>, sender: Address, action: Action) {
    let before = pools(world);
    let hash = world.market.state.state_hash();
    match world.market.apply(sender, action) {
        Ok(events) => world.market.check(&events),
        Err(_) => {
            assert_eq!(world.market.state.state_hash(), hash, "a rejection changed the state")
        }
    }
    let after = pools(world);
    for (index, other) in world.silos.iter().enumerate() {
        if Some(*other) != silo {
            assert_eq!(before[index], after[index], "silo {other}'s pool moved for another silo");
        }
    }
}

#[derive(Clone, Debug)]
enum Step {
    Advance(u64),
    Repay(usize),
    Default(usize),
    Sell(usize, u64),
    Remark,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u64..=40).prop_map(|days| Step::Advance(days * DAY)),
        (0..SILOS * LOANS_PER_SILO).prop_map(Step::Repay),
        (0..SILOS * LOANS_PER_SILO).prop_map(Step::Default),
        ((0..SILOS * LOANS_PER_SILO), 0u64..=1_000_000).prop_map(|(l, g)| Step::Sell(l, g)),
        Just(Step::Remark),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn no_silos_first_loss_pool_ever_pays_for_another_silos_loss(
        steps in proptest::collection::vec(step(), 1..40),
        skip_payments in proptest::collection::vec(proptest::bool::ANY, SILOS * LOANS_PER_SILO),
    ) {
        let mut world = world();
        for step in steps {
            match step {
                Step::Advance(secs) => {
                    world.market.advance(secs);
                    // Borrowers chosen to keep paying do so whenever a payment is due.
                    for (index, &(silo, loan)) in world.loans.clone().iter().enumerate() {
                        let now = world.market.now();
                        let record = world.market.loan(loan);
                        if !skip_payments[index] && record.status == LoanStatus::Active
                            && record.next_due_at <= now + DAY && !record.is_default_due(now)
                        {
                            act(&mut world, Some(silo), BORROWER, Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: Amount::MAX }));
                        }
                    }
                }
                Step::Repay(index) => {
                    let (silo, loan) = world.loans[index];
                    act(&mut world, Some(silo), BORROWER, Action::RepayLoan(RepayLoan { loan_id: loan, max_amount: Amount::MAX }));
                }
                Step::Default(index) => {
                    let (silo, loan) = world.loans[index];
                    act(&mut world, Some(silo), KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
                    let curator = world.market.silo(silo).curator;
                    act(&mut world, Some(silo), curator, Action::ForecloseLoan(ForecloseLoan { loan_id: loan, liquidation_agent: LIQUIDATION_AGENT }));
                }
                Step::Sell(index, gross_usd) => {
                    let (silo, loan) = world.loans[index];
                    let receipt_id = world.market.loan(loan).receipts[0];
                    let gross = whole(u128::from(gross_usd));
                    let report = SaleReport { gross_proceeds: gross, ..SaleReport::default() };
                    act(&mut world, Some(silo), LIQUIDATION_AGENT, Action::ReportSale(ReportSale { receipt_id, report }));
                }
                Step::Remark => {
                    // A re-mark only recomputes impairment: it moves no pool at all.
                    act(&mut world, None, KEEPER, Action::RemarkLoans(RemarkLoans { first_loan_id: LoanId(0), max_loans: 100 }));
                }
            }
        }
        // Every recognised loss of a silo came from its own loans.
        for silo in &world.silos {
            let own_losses: u128 = world
                .loans
                .iter()
                .filter(|(owner, _)| owner == silo)
                .map(|(_, loan)| {
                    let recovery = world.market.loan(*loan).recovery;
                    recovery.first_loss_cover.0 + recovery.junior_loss.0
                })
                .sum();
            prop_assert_eq!(world.market.silo(*silo).losses_absorbed.0, own_losses);
        }
    }
}

#[test]
fn a_silos_loss_is_absorbed_by_its_own_pool_while_the_other_pools_stay_put() {
    let mut world = world();
    let (silo, loan) = world.loans[0];
    world.market.advance(MONTH + 16 * DAY);
    let before = pools(&world);
    act(&mut world, Some(silo), KEEPER, Action::TriggerDefault(TriggerDefault { loan_id: loan }));
    act(
        &mut world,
        Some(silo),
        CURATOR,
        Action::ForecloseLoan(ForecloseLoan {
            loan_id: loan,
            liquidation_agent: LIQUIDATION_AGENT,
        }),
    );
    let receipt_id = world.market.loan(loan).receipts[0];
    let report = SaleReport { gross_proceeds: whole(100_000), ..SaleReport::default() };
    act(
        &mut world,
        Some(silo),
        LIQUIDATION_AGENT,
        Action::ReportSale(ReportSale { receipt_id, report }),
    );
    let record = world.market.loan(loan);
    assert_eq!(record.status, LoanStatus::Settled);
    assert!(!record.recovery.first_loss_cover.is_zero(), "the silo's own pool paid");
    let after = pools(&world);
    assert!(after[0] < before[0]);
    assert_eq!(after[1..], before[1..]);
}
