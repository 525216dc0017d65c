//! `infrafi simulate`: Monte Carlo stress test of a scenario's book over the real state machine.

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use infrafi_sim::{PathOutcome, Scenario, Simulation, charts, report::Report, stress, summary};
use std::{
    path::PathBuf,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// Arguments of `infrafi simulate`.
#[derive(Args, Debug)]
pub(crate) struct SimulateArgs {
    /// A built-in scenario (base, gpu-price-crash, new-generation-shock, default-cluster,
    /// bank-run, rates-up, cuda-moat-erosion, export-controls, backtest-h100) or a scenario
    /// TOML file.
    #[arg(long, default_value = "base")]
    pub(crate) scenario: String,
    /// Number of Monte Carlo paths.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) paths: u64,
    /// Seed of the run (each path's streams derive from it and the path index).
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Directory for summary.json, report.md and the charts (created if missing).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long)]
    pub(crate) threads: Option<usize>,
    /// Start from a snapshot of a running node's committed state (`GET {url}/v1/state/export`)
    /// instead of the scenario's synthetic book; the scenario still supplies the market and
    /// behaviour models (docs/simulator.md).
    #[arg(long, value_name = "URL")]
    pub(crate) from_node: Option<String>,
    /// After the run: vary each calibrated parameter to its low and its high value, one at a
    /// time, `--paths` paths each with the same seed; print the table and write
    /// sensitivity.json, tornado charts of the senior loss p99 and the APY p50, and the
    /// tornado in report.md.
    #[arg(long, conflicts_with = "from_node")]
    pub(crate) sensitivity: bool,
    /// After the run: search the smallest rent shock, resale shock and default correlation at
    /// which the senior loss p99 exceeds 0, each with its 95% confidence interval; print them
    /// and write break_even.json and the figures in report.md.
    #[arg(long, conflicts_with = "from_node")]
    pub(crate) break_even: bool,
}

/// What a node's export was checked against before the simulation starts.
struct NodeSnapshot {
    height: u64,
    state_root: alloy_primitives::B256,
    bytes: Vec<u8>,
}

/// Fetches `GET {url}/v1/state/export` and checks it: postcard, the announced length, and the
/// Merkle root of the decoded state's leaves equal to the block's state root.
fn fetch_snapshot(url: &str) -> anyhow::Result<NodeSnapshot> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the HTTP runtime")?;
    let client = infrafi_api::client::Client::new(url);
    let answer = runtime
        .block_on(client.get("/v1/state/export"))
        .with_context(|| format!("cannot read the state of the node at {url}"))?;
    anyhow::ensure!(
        answer.status.is_success(),
        "the node at {url} refused the state export ({}): {}",
        answer.status,
        answer.body
    );
    let export: infrafi_api::dto::StateExportDto = serde_json::from_value(answer.body)
        .with_context(|| format!("the node at {url} answered an unexpected state export"))?;
    anyhow::ensure!(
        export.encoding == "postcard",
        "the node exports its state as `{}`, this simulator reads `postcard`",
        export.encoding
    );
    anyhow::ensure!(
        export.state.len() == export.state_bytes,
        "the export announces {} bytes and carries {}",
        export.state_bytes,
        export.state.len()
    );
    let state = infrafi_core::State::decode(&export.state)
        .map_err(|e| anyhow::anyhow!("the exported state does not decode: {e}"))?;
    let leaves: Vec<(Vec<u8>, Vec<u8>)> = state
        .leaves()
        .into_iter()
        .filter_map(|leaf| leaf.value.map(|value| (leaf.key, value)))
        .collect();
    let root = infrafi_merkle::Tree::from_leaves(leaves.iter().map(|(k, v)| (k, v))).root();
    anyhow::ensure!(
        root == export.state_root,
        "the exported state's root {root} is not the state root {} of block {}",
        export.state_root,
        export.height
    );
    Ok(NodeSnapshot { height: export.height, state_root: root, bytes: export.state.to_vec() })
}

/// Runs the simulation, writes the outputs and prints the report.
pub(crate) fn run(args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.paths > 0, "--paths must be at least 1");
    // The heap counter of `bench` would make every allocation of every worker contend.
    crate::alloc_counter::stop_counting();
    let scenario = Scenario::load(&args.scenario)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let started = Instant::now();
    let simulation = match &args.from_node {
        None => Simulation::new(scenario)?,
        Some(url) => {
            let snapshot = fetch_snapshot(url)?;
            println!(
                "book: the state of {url} at height {} (state root {}, {} bytes)",
                snapshot.height,
                snapshot.state_root,
                snapshot.bytes.len()
            );
            Simulation::from_encoded_state(scenario, &snapshot.bytes)?
        }
    };
    let book_time = started.elapsed();
    let pool = worker_pool(args.threads)?;
    let done = AtomicU64::new(0);
    let started = Instant::now();
    let outcomes = with_progress(&done, Some(args.paths), "simulating", || {
        pool.install(|| simulation.run(args.paths, args.seed, Some(&done)))
    })?;
    let run_time = started.elapsed();
    let summary = simulation.summarize(&outcomes, args.seed);
    let json = serde_json::to_string_pretty(&summary)?;
    let summary_path = args.out.join("summary.json");
    std::fs::write(&summary_path, json + "\n")
        .with_context(|| format!("cannot write {}", summary_path.display()))?;
    let mut chart_files = charts::write_all(&args.out, &summary, &outcomes)?;
    let command = command_line(&args);
    let mut report = Report {
        summary: &summary,
        scenario: &simulation.scenario,
        command: &command,
        charts: &[],
        sensitivity: None,
        break_evens: None,
    };
    // Written now and again after the stress runs, so a long run stopped midway keeps the
    // report of what it finished.
    write_report(&args, &Report { charts: &chart_files, ..report })?;
    print!("{}", summary::report(&summary));
    let seconds = run_time.as_secs_f64().max(1e-9);
    println!(
        "performance: {} loan-months in {:.1} s on {} threads: {:.0} loan-months/s, {:.0} tx/s (book built in {:.1} s)",
        summary.loan_months,
        seconds,
        pool.current_num_threads(),
        summary.loan_months as f64 / seconds,
        summary.transactions as f64 / seconds,
        book_time.as_secs_f64()
    );
    println!("wrote {}: summary.json, report.md, {}", args.out.display(), chart_files.join(", "));
    let sensitivity = if args.sensitivity {
        Some(run_sensitivity(&args, &simulation.scenario, &summary, &pool, &mut chart_files)?)
    } else {
        None
    };
    let break_evens = if args.break_even {
        Some(run_break_even(&args, &simulation, &outcomes, &summary, &pool)?)
    } else {
        None
    };
    if sensitivity.is_some() || break_evens.is_some() {
        report.sensitivity = sensitivity.as_ref();
        report.break_evens = break_evens.as_ref();
        write_report(&args, &Report { charts: &chart_files, ..report })?;
        println!("wrote {}", args.out.join("report.md").display());
    }
    Ok(())
}

/// The command that reproduces the run (the thread count aside: results do not depend on it).
fn command_line(args: &SimulateArgs) -> String {
    let mut command = format!(
        "infrafi simulate --scenario {} --paths {} --seed {} --out {}",
        args.scenario,
        args.paths,
        args.seed,
        args.out.display()
    );
    if let Some(url) = &args.from_node {
        command.push_str(" --from-node ");
        command.push_str(url);
    }
    if args.sensitivity {
        command.push_str(" --sensitivity");
    }
    if args.break_even {
        command.push_str(" --break-even");
    }
    command
}

/// Writes `report.md` into the output directory.
fn write_report(args: &SimulateArgs, report: &Report<'_>) -> anyhow::Result<()> {
    let path = args.out.join("report.md");
    std::fs::write(&path, infrafi_sim::report::markdown(report))
        .with_context(|| format!("cannot write {}", path.display()))
}

fn worker_pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(threads) = threads {
        pool = pool.num_threads(threads);
    }
    pool.build().context("cannot start the worker threads")
}

/// `--sensitivity`: the tornado table, sensitivity.json and two tornado charts.
fn run_sensitivity(
    args: &SimulateArgs,
    scenario: &Scenario,
    summary: &summary::Summary,
    pool: &rayon::ThreadPool,
    charts_written: &mut Vec<String>,
) -> anyhow::Result<stress::Sensitivity> {
    let knobs = stress::knobs().len() as u64;
    let done = AtomicU64::new(0);
    let started = Instant::now();
    let base = stress::Figures::of(summary);
    let result = with_progress(&done, Some(2 * knobs * args.paths), "sensitivity", || {
        pool.install(|| {
            stress::sensitivity_around(scenario, base, args.paths, args.seed, Some(&done))
        })
    })?;
    let path = args.out.join("sensitivity.json");
    std::fs::write(&path, serde_json::to_string_pretty(&result)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    let pct = |v: f64| format!("{:.2}%", v * 100.0);
    println!(
        "sensitivity of {} ({} paths per variant, seed {}): senior loss p99 (bps) and APY p50",
        result.scenario, result.paths, result.seed
    );
    println!(
        "{:<28}{:>14}{:>14}{:>12}{:>12}  range",
        "parameter", "loss p99 low", "loss p99 high", "APY low", "APY high"
    );
    println!(
        "{:<28}{:>14.1}{:>14.1}{:>12}{:>12}  the scenario as it is",
        "(base)",
        result.base.senior_loss_p99_bps,
        result.base.senior_loss_p99_bps,
        pct(result.base.apy_p50),
        pct(result.base.apy_p50)
    );
    for row in &result.rows {
        println!(
            "{:<28}{:>14.1}{:>14.1}{:>12}{:>12}  {}",
            row.name,
            row.low.senior_loss_p99_bps,
            row.high.senior_loss_p99_bps,
            pct(row.low.apy_p50),
            pct(row.high.apy_p50),
            row.range
        );
    }
    let bars = |f: &dyn Fn(&stress::Figures) -> f64| -> Vec<charts::TornadoBar> {
        result
            .rows
            .iter()
            .map(|row| charts::TornadoBar {
                label: row.name.clone(),
                low: f(&row.low),
                high: f(&row.high),
            })
            .collect()
    };
    let mut written = charts::write_tornado(
        &args.out,
        "tornado_senior_loss",
        &format!("senior loss p99, {} (blue: low value, orange: high)", result.scenario),
        "senior loss p99, bps of senior principal",
        &bars(&|f| f.senior_loss_p99_bps),
        result.base.senior_loss_p99_bps,
    )?;
    let mut apy_bars = bars(&|f| f.apy_p50 * 100.0);
    apy_bars.sort_by(|a, b| (b.high - b.low).abs().total_cmp(&(a.high - a.low).abs()));
    written.extend(charts::write_tornado(
        &args.out,
        "tornado_apy",
        &format!("sUSDai APY p50, {} (blue: low value, orange: high)", result.scenario),
        "APY p50, percent",
        &apy_bars,
        result.base.apy_p50 * 100.0,
    )?);
    println!(
        "took {:.1} s; wrote {}: sensitivity.json, {}",
        started.elapsed().as_secs_f64(),
        args.out.display(),
        written.join(", ")
    );
    charts_written.extend(written);
    Ok(result)
}

/// `--break-even`: one figure per shock class with its interval, and break_even.json.
fn run_break_even(
    args: &SimulateArgs,
    simulation: &Simulation,
    outcomes: &[PathOutcome],
    summary: &summary::Summary,
    pool: &rayon::ThreadPool,
) -> anyhow::Result<stress::BreakEvens> {
    let done = AtomicU64::new(0);
    let started = Instant::now();
    let result = with_progress(&done, None, "break-even search", || {
        pool.install(|| stress::break_evens_from(simulation, outcomes, summary, Some(&done)))
    })?;
    let path = args.out.join("break_even.json");
    std::fs::write(&path, serde_json::to_string_pretty(&result)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "break-even of {} ({} paths, seed {}): the smallest shock at which senior loss p99 > 0 \
         (scenario as it is: p99 {:.1} bps)",
        result.scenario, result.paths, result.seed, result.base_senior_loss_bps.p99
    );
    let show =
        |v: Option<f64>| v.map_or_else(|| "beyond the range".to_string(), |v| format!("{v:.3}"));
    for class in &result.classes {
        let check = class.check_at_estimate.map_or_else(String::new, |(predicted, found)| {
            format!(" | at the estimate {found} paths lost (search predicted {predicted})")
        });
        println!(
            "  {:<20} {} (95% CI {} to {}) | P(loss) at the largest shock {:.1}% | {} paths run{}\n      {}",
            format!("{:?}", class.class),
            show(class.estimate),
            show(class.interval_low),
            show(class.interval_high),
            class.loss_probability_at_max * 100.0,
            class.evaluations.iter().map(|(_, n)| n).sum::<u64>(),
            check,
            class.unit
        );
    }
    println!(
        "took {:.1} s ({} paths run); wrote {}",
        started.elapsed().as_secs_f64(),
        done.load(Ordering::Relaxed),
        path.display()
    );
    Ok(result)
}

/// Runs `work` while a progress bar on stderr follows `done` up to `total` paths, or a counter
/// when the total is not known in advance (indicatif: drawn in place on a terminal, hidden
/// when stderr is not one, so logs stay clean).
pub(crate) fn with_progress<T: Send>(
    done: &AtomicU64,
    total: Option<u64>,
    label: &str,
    work: impl FnOnce() -> T + Send,
) -> T {
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::new(total),
            "{msg} [{bar:30}] {pos}/{len} paths, {per_sec}, {elapsed} elapsed, about {eta} left",
        ),
        None => (ProgressBar::new_spinner(), "{msg} {spinner} {pos} paths, {per_sec}, {elapsed}"),
    };
    let bar = bar.with_message(label.to_string());
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let finished = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !finished.load(Ordering::Relaxed) {
                bar.set_position(done.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let result = work();
        finished.store(true, Ordering::Relaxed);
        result
    });
    bar.set_position(done.load(Ordering::Relaxed));
    bar.finish_and_clear();
    result
}
