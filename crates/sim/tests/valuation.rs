//! The simulator and the chain value a receipt by one rule (issue 17; issue 16 item 5): the
//! simulator sets income terms and posts the rental index with the protocol's own
//! transactions, so a receipt of its book is worth, for LTV, exactly what a chain built
//! independently from the same inputs (class terms, income terms, rental index, appraisal)
//! says; and a path's margin calls follow the index: a rent crash that resale prices do not
//! follow still calls loans, because their income value falls.

mod common;

use infrafi_core::{
    Action, AssetClassId, Genesis, Role, State,
    action::{AddAssetClass, IssueReceipt, PostRentalIndex, PostValuation, SetIncomeTerms},
    receipts::{self, ReceiptStatus},
};
use infrafi_sim::{
    Simulation,
    book::{self, START_TIMESTAMP},
    chain::{Actors, Chain},
    convert::usd_to_amount,
    scenario::{Scenario, ShockSpec},
    valuation,
};

#[test]
fn the_sims_value_for_a_receipt_equals_the_chains_for_the_same_inputs() {
    let scenario = common::small_base(8, 2);
    let terms = valuation::income_terms(&scenario).expect("base values by the rental index");
    let simulation = Simulation::new(scenario.clone()).expect("book");
    let book = &simulation.book.state;
    let mut compared = 0;
    for (_, receipt) in book.receipts.receipts.iter() {
        if receipt.status != ReceiptStatus::Pledged {
            continue;
        }
        let c = scenario
            .classes
            .iter()
            .position(|spec| AssetClassId::new(&spec.id) == Some(receipt.class))
            .expect("a scenario class");
        let appraisal = receipt.valuation.clone().expect("appraised");
        let index = *book.receipts.rental_indices.get(&receipt.class).expect("indexed");
        assert_eq!(
            index.rent_per_unit_hour,
            usd_to_amount(scenario.classes[c].rental_usd_per_hour),
            "the book's history posts the start's rent"
        );

        // An independent chain from the same inputs, in time order.
        let actors = Actors::standard();
        let first = appraisal.at.min(index.posted_at) - 1;
        let mut genesis = Genesis::with_admin(actors.admin, first);
        for (role, holder) in [
            (Role::Oracle, actors.oracle),
            (Role::Custodian, actors.custodian),
            (Role::Appraiser, actors.appraiser),
        ] {
            genesis.roles.push((role, holder));
        }
        let mut chain = Chain::new(State::from_genesis(&genesis).expect("genesis"), actors, 1);
        let (admin, class) = (chain.actors.admin, receipt.class);
        let add = AddAssetClass { class, terms: book::class_terms(&scenario.classes[c]) };
        chain.apply(admin, Action::AddAssetClass(add)).expect("class");
        chain.apply(admin, Action::SetIncomeTerms(SetIncomeTerms { class, terms })).expect("terms");
        let description = receipt.description.clone();
        let custodian = chain.actors.custodian;
        let issue = IssueReceipt { class, owner: receipt.owner, description };
        chain.apply(custodian, Action::IssueReceipt(issue)).expect("receipt");
        let id = infrafi_core::ReceiptId(0);
        let mut steps = [(appraisal.at, true), (index.posted_at, false)];
        steps.sort();
        for (at, is_appraisal) in steps {
            chain.at(at).expect("time");
            let action = if is_appraisal {
                Action::PostValuation(PostValuation { receipt_id: id, value: appraisal.value })
            } else {
                let rent = usd_to_amount(scenario.classes[c].rental_usd_per_hour);
                Action::PostRentalIndex(PostRentalIndex { class, rent_per_unit_hour: rent })
            };
            let sender = if is_appraisal { chain.actors.appraiser } else { chain.actors.oracle };
            chain.apply(sender, action).expect("post");
        }
        chain.at(START_TIMESTAMP).expect("start");
        let independent = chain.state.receipts.receipts.get(&id).expect("issued");
        let theirs = receipts::value_for_ltv(&chain.state, independent, START_TIMESTAMP);
        let ours = receipts::value_for_ltv(book, receipt, START_TIMESTAMP);
        assert_eq!(ours, theirs, "receipt {}", receipt.id);
        assert!(!ours.is_zero());
        compared += 1;
    }
    assert!(compared > 0, "the book pledges receipts");
}

/// One path of `scenario` with its rents cut 60% in the first month and resale prices held
/// (no pass-through): how many margin calls it opened.
fn margin_calls_under_a_rent_crash(mut scenario: Scenario) -> u32 {
    for class in &mut scenario.classes {
        class.resale_elasticity = 0.0;
    }
    scenario.market.shocks = vec![ShockSpec {
        name: "rent crash".into(),
        start_month: 1,
        ramp_months: 0,
        classes: Vec::new(),
        rental_change_bps: -6_000,
        resale_change_bps: 0,
        recovery_haircut_bps: 0,
        liquidation_delay_months: 0,
        default_factor_shift: 0.0,
    }];
    scenario.horizon_months = 6;
    scenario.validate().expect("valid");
    let simulation = Simulation::new(scenario).expect("book");
    let outcomes = simulation.run(1, 7, None).expect("path");
    outcomes[0].margin_calls
}

#[test]
fn a_paths_margin_calls_follow_the_rental_index() {
    // A quiet market (no depreciation, no defaults, full utilisation without operating costs)
    // whose classes earn rent for 18 more months: at the start the income value is above the
    // replacement cost (no bound), after the crash far below it.
    let mut valued = common::quiet(common::small_base(8, 2));
    if let Some(valuation) = valued.valuation.as_mut() {
        valuation.economic_life_months = 18;
    }
    let mut unvalued = valued.clone();
    unvalued.valuation = None;
    let with_index = margin_calls_under_a_rent_crash(valued);
    let without = margin_calls_under_a_rent_crash(unvalued);
    assert_eq!(without, 0, "appraisals alone do not move");
    assert!(with_index > 0, "the income value fell 60% with the rent: {with_index} calls");
}
