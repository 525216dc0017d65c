//! `infrafi simulate`: Monte Carlo stress test of a scenario's book over the real state machine.

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use infrafi_sim::{Scenario, Simulation, charts, summary};
use std::{
    path::PathBuf,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// Arguments of `infrafi simulate`.
#[derive(Args, Debug)]
pub(crate) struct SimulateArgs {
    /// A built-in scenario (base, gpu-price-crash, new-generation-shock, default-cluster,
    /// bank-run, rates-up, cuda-moat-erosion, export-controls) or a scenario TOML file.
    #[arg(long, default_value = "base")]
    pub(crate) scenario: String,
    /// Number of Monte Carlo paths.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) paths: u64,
    /// Seed of the run (each path's streams derive from it and the path index).
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Directory for summary.json and the charts (created if missing).
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
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(threads) = args.threads {
        pool = pool.num_threads(threads);
    }
    let pool = pool.build().context("cannot start the worker threads")?;
    let done = AtomicU64::new(0);
    let started = Instant::now();
    let outcomes = with_progress(&done, args.paths, "simulating", || {
        pool.install(|| simulation.run(args.paths, args.seed, Some(&done)))
    })?;
    let run_time = started.elapsed();
    let summary = simulation.summarize(&outcomes, args.seed);
    let json = serde_json::to_string_pretty(&summary)?;
    let summary_path = args.out.join("summary.json");
    std::fs::write(&summary_path, json + "\n")
        .with_context(|| format!("cannot write {}", summary_path.display()))?;
    let written = charts::write_all(&args.out, &summary, &outcomes)?;
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
    println!("wrote {}: summary.json, {}", args.out.display(), written.join(", "));
    Ok(())
}

/// Runs `work` while a progress bar on stderr follows `done` up to `total` paths (indicatif:
/// drawn in place on a terminal, hidden when stderr is not one, so logs stay clean). The rate
/// and the time left appear once the first paths are done.
pub(crate) fn with_progress<T: Send>(
    done: &AtomicU64,
    total: u64,
    label: &str,
    work: impl FnOnce() -> T + Send,
) -> T {
    let bar = ProgressBar::new(total).with_message(label.to_string());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {pos}/{len} paths, {per_sec}, {elapsed} elapsed, about {eta} left",
        )
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
