//! Measures the simulator without the CLI (for profiling):
//! `cargo run --release -p infrafi-sim --example throughput -- <scenario> <paths> [threads]`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "base".into());
    let paths: u64 = args.next().map(|p| p.parse()).transpose()?.unwrap_or(8);
    let threads: Option<usize> = args.next().map(|t| t.parse()).transpose()?;
    let scenario = infrafi_sim::Scenario::load(&name)?;
    let started = Instant::now();
    let simulation = infrafi_sim::Simulation::new(scenario)?;
    eprintln!("book built in {:.2} s", started.elapsed().as_secs_f64());
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(threads) = threads {
        pool = pool.num_threads(threads);
    }
    let pool = pool.build()?;
    let started = Instant::now();
    let outcomes = pool.install(|| simulation.run(paths, 1, None))?;
    let seconds = started.elapsed().as_secs_f64();
    let summary = simulation.summarize(&outcomes, 1);
    print!("{}", infrafi_sim::summary::report(&summary));
    println!(
        "{paths} paths in {seconds:.2} s on {} threads: {:.0} loan-months/s, {:.0} tx/s, {:.1} ms per path",
        pool.current_num_threads(),
        summary.loan_months as f64 / seconds,
        summary.transactions as f64 / seconds,
        seconds * 1e3 / paths as f64 * pool.current_num_threads() as f64
    );
    Ok(())
}
