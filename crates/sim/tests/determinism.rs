//! The same seed gives the same summary whatever the number of threads: each path's random
//! streams derive from (seed, path index) alone and the aggregation runs in path order.

mod common;

use infrafi_sim::Simulation;

fn run_on(threads: usize, simulation: &Simulation, paths: u64, seed: u64) -> infrafi_sim::Summary {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
    let outcomes = pool.install(|| simulation.run(paths, seed, None)).expect("run");
    simulation.summarize(&outcomes, seed)
}

#[test]
fn the_same_seed_gives_the_same_summary_on_one_thread_and_on_two() {
    // A stressed scenario, so defaults, sales, runs and queue waits all take part.
    let mut scenario = infrafi_sim::Scenario::load("gpu-price-crash").expect("loads");
    scenario.book.loans = 40;
    scenario.holders.count = 6;
    scenario.horizon_months = 24;
    scenario.validate().expect("valid");
    let simulation = Simulation::new(scenario).expect("book");
    let one = run_on(1, &simulation, 6, 42);
    let two = run_on(2, &simulation, 6, 42);
    assert_eq!(one, two);
    assert!(one.default_rate.mean > 0.0, "the stress produced defaults");
    let other_seed = run_on(2, &simulation, 6, 43);
    assert_ne!(one.susdai_apy, other_seed.susdai_apy, "another seed gives other paths");
}
