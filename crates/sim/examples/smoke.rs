//! Smoke run: builds a scenario's book and runs a few paths, printing the report.
fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "base".into());
    let paths: u64 = std::env::args().nth(2).and_then(|p| p.parse().ok()).unwrap_or(4);
    let scenario = infrafi_sim::Scenario::load(&name).expect("scenario");
    let started = std::time::Instant::now();
    let sim = infrafi_sim::Simulation::new(scenario).expect("book");
    eprintln!("book built in {:?}", started.elapsed());
    let started = std::time::Instant::now();
    let outcomes = sim.run(paths, 1, None).expect("run");
    let elapsed = started.elapsed();
    for (i, o) in outcomes.iter().enumerate() {
        eprintln!(
            "path {i}: defaults {} sales {} mc {} cures {} late {} loss {:.0} imp {:.0} fl_used {:?} apy {:.4} dd {:.4} price_end {:.4}",
            o.defaults,
            o.sales,
            o.margin_calls,
            o.cures,
            o.late_payments,
            o.senior_loss_realised_usd,
            o.senior_impairment_usd,
            o.silo_first_loss_used_usd,
            o.apy,
            o.max_drawdown,
            o.price_monthly.last().unwrap()
        );
    }
    let summary = sim.summarize(&outcomes, 1);
    print!("{}", infrafi_sim::summary::report(&summary));
    eprintln!(
        "{} paths in {:?}: {:.0} loan-months/s, {} tx",
        paths,
        elapsed,
        summary.loan_months as f64 / elapsed.as_secs_f64(),
        summary.transactions
    );
}

#[allow(dead_code)]
fn unused() {}
