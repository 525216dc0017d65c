//! The engine runs from any state, not only from the synthetic book it built: a book rebuilt
//! from the decoded canonical encoding of the synthetic state (what a node snapshot would
//! deliver) finds the same loans, holders and actors, and runs exactly the same paths.

mod common;

use infrafi_core::State;
use infrafi_sim::{Book, Scenario, Simulation};

#[test]
fn a_book_rebuilt_from_its_decoded_state_runs_the_same_paths() {
    let mut scenario = Scenario::load("gpu-price-crash").expect("loads");
    scenario.book.loans = 30;
    scenario.holders.count = 5;
    scenario.horizon_months = 18;
    scenario.validate().expect("valid");
    let original = Simulation::new(scenario.clone()).expect("book");
    let decoded = State::decode(&original.book.state.encode()).expect("the state decodes");
    assert_eq!(decoded.state_hash(), original.book.state.state_hash());
    let rebuilt = Book::from_state(decoded, &scenario).expect("a usable state");
    assert_eq!(rebuilt.start, original.book.start);
    assert_eq!(rebuilt.holders, original.book.holders);
    assert_eq!(rebuilt.next_external_id, original.book.next_external_id);
    assert_eq!(rebuilt.loans.len(), original.book.loans.len());
    for (a, b) in rebuilt.loans.iter().zip(&original.book.loans) {
        assert_eq!(
            (a.id, a.silo, a.class, a.units, a.borrower),
            (b.id, b.silo, b.class, b.units, b.borrower)
        );
        assert_eq!((a.hardware_new_at, a.utilization), (b.hardware_new_at, b.utilization));
    }
    let rebuilt = Simulation::from_book(scenario, rebuilt);
    let expected = original.run(3, 11, None).expect("run");
    let actual = rebuilt.run(3, 11, None).expect("run");
    assert_eq!(actual, expected);
    assert!(expected.iter().any(|o| o.defaults > 0), "the crash exercised defaults");
}

#[test]
fn a_state_with_a_class_the_scenario_does_not_model_is_refused() {
    let scenario = common::small_base(20, 2);
    let simulation = Simulation::new(scenario.clone()).expect("book");
    let mut other = scenario.clone();
    other.classes.retain(|class| class.id != "gpu.a100");
    let error = Book::from_state(simulation.book.state.clone(), &other).expect_err("refused");
    assert!(error.to_string().contains("gpu.a100"), "{error}");
}

#[test]
fn an_encoded_state_is_decoded_checked_and_simulated_and_garbage_is_refused() {
    let scenario = common::small_base(20, 2);
    let original = Simulation::new(scenario.clone()).expect("book");
    let bytes = original.book.state.encode();
    let rebuilt = Simulation::from_encoded_state(scenario.clone(), &bytes).expect("decodes");
    assert_eq!(rebuilt.book.loans.len(), original.book.loans.len());
    assert_eq!(rebuilt.run(2, 3, None).expect("run"), original.run(2, 3, None).expect("run"));
    let error = Simulation::from_encoded_state(scenario.clone(), &bytes[..bytes.len() / 2])
        .err()
        .expect("a truncated state is refused");
    assert!(error.to_string().contains("does not decode"), "{error}");
    let mut padded = bytes.clone();
    padded.push(0);
    let error = Simulation::from_encoded_state(scenario, &padded)
        .err()
        .expect("trailing bytes are refused");
    assert!(error.to_string().contains("canonical"), "{error}");
}
