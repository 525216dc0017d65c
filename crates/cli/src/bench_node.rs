//! `infrafi bench-node`: starts a node as a child process, pushes pre-signed transactions at it
//! over HTTP from this process (the load generator), and reports committed transactions per
//! second, submit-to-commit latency percentiles and API reads per second.
//!
//! A transaction counts as accepted only when the node acknowledged it (a batch answers item by
//! item); the others are counted by the code they were refused with (`refused_by_code`;
//! `no_answer` when the request timed out). Committed counts every transaction sent that a
//! block carries (one whose request timed out may still have been admitted). The node refuses
//! a nonce that would wait on a gap, so a sender's transactions travel in one lane, in nonce
//! order, each request sent when the previous one of its lane was answered.
//!
//! Commit times are observed from outside, as a client would: a watcher polls `/v1/status`
//! and fetches each new block's transaction hashes, so latency includes the block time.
//! `node_time` says where the node's own time went during the load (its `/v1/status`
//! timings, read before and after): milliseconds per block for each phase of block
//! production and microseconds per transaction for each step of admission.
//!
//! At scale (`--accounts N --queued Q --loans L`) the genesis also holds N funded accounts and,
//! built by a genesis history the node runs before its first block (the testkit's
//! [`ScaleMarket`]: ordinary transactions, deterministic), Q redemption requests waiting in the
//! queue and L active loans. Besides the load's figures the report then says how long the
//! node took to restart on its data directory (the state rebuilt from its leaves), how long
//! the API took to generate Merkle proofs (`--proofs`, each verified here), the latency of a
//! few reads sampled while the transactions were being submitted, and, from difference runs
//! (idle nodes restarted on a genesis with and without each part), the resident memory per
//! account, per queued request and per loan.
//!
//! With `--validators N` the same signed transactions then go to a network of N validator
//! processes on loopback (`infrafi validator`, one folder each as `testnet init` writes them):
//! each sender's transactions go to one validator (sender i to validator i mod N, so its
//! nonces arrive in order), the others receive them by forwarding, and commit times are those
//! of finalized blocks on validator 0. The report puts the two side by side and says where a
//! validator's time goes (block interval, views per block).

use alloy_primitives::{Address, keccak256};
use anyhow::{Context, Result, bail};
use infrafi_api::client::{Client, tx_request};
use infrafi_core::action::Transfer;
use infrafi_core::{Action, Amount, Asset, Genesis, WAD, ids::USDC};
use infrafi_node::{GenesisHistory, HistoryAction};
use infrafi_testkit::scale::ScaleMarket;
use infrafi_tx::{SignedTransaction, SigningKey};
use std::{
    collections::{BTreeMap, HashMap},
    io::BufRead,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

const CHAIN: u64 = 99_999;

/// `infrafi bench-node`.
#[derive(clap::Args, Debug)]
pub(crate) struct BenchNodeArgs {
    /// Transactions to submit.
    #[arg(long, default_value_t = 20_000)]
    pub(crate) txs: usize,
    /// Distinct senders.
    #[arg(long, default_value_t = 2_000)]
    pub(crate) senders: usize,
    /// Concurrent lanes of HTTP requests (at most one per sender): a lane carries its senders'
    /// transactions one request after another, so their nonces arrive in order.
    #[arg(long, default_value_t = 64)]
    pub(crate) concurrency: usize,
    /// Transactions per request: 1 posts to `/v1/tx`, more to `/v1/txs`.
    #[arg(long, default_value_t = 1)]
    pub(crate) batch: usize,
    /// Transactions per second to offer (0: each lane sends its next request as soon as its
    /// previous one is answered). The requests are then due on an even schedule (the first of
    /// every lane, then the second of every lane...), and a transaction's latency counts from
    /// when its request was due, so a wait behind its lane's previous request is counted too.
    #[arg(long, default_value_t = 0)]
    pub(crate) rate: u64,
    /// The node's block time in milliseconds.
    #[arg(long, default_value_t = 200)]
    pub(crate) block_time_ms: u64,
    /// Seconds of the read phase.
    #[arg(long, default_value_t = 5)]
    pub(crate) reads_secs: u64,
    /// Funded accounts in the genesis besides the senders (the state's size: each holds one
    /// USDC and sends nothing); the report gives the node's memory after the load.
    #[arg(long, default_value_t = 0)]
    pub(crate) accounts: usize,
    /// Redemption requests waiting in the queue at genesis (one share each, 50 per owner).
    #[arg(long, default_value_t = 0)]
    pub(crate) queued: u64,
    /// Active loans at genesis (each its own borrower, receipt and senior tranche).
    #[arg(long, default_value_t = 0)]
    pub(crate) loans: u64,
    /// Merkle proofs to request from the API after the load (balances of genesis accounts,
    /// queued requests and loans in turn), each timed and verified.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) proofs: usize,
    /// Also run the same load against this many validator processes on loopback (0: the
    /// single node only).
    #[arg(long, default_value_t = 0)]
    pub(crate) validators: u32,
    /// Milliseconds of reads per endpoint kind after the load, the node idle
    /// (`reads_by_endpoint`; 0: one read of each kind).
    #[arg(long, default_value_t = 2_000)]
    pub(crate) endpoint_reads_ms: u64,
    /// The `infrafi` executable that runs the node and validators (default: this one): the
    /// same load, genesis and report against another build, for a before/after comparison.
    #[arg(long)]
    pub(crate) node_binary: Option<PathBuf>,
}

impl BenchNodeArgs {
    /// The executable that runs the node.
    fn node_binary(&self) -> Result<PathBuf> {
        match &self.node_binary {
            Some(path) => Ok(path.clone()),
            None => Ok(std::env::current_exe()?),
        }
    }
}

struct ChildGuard(Child);

/// Genesis account `index` of `--accounts`: addresses spread over the key space as real ones
/// are (a hash each), no keys needed.
fn genesis_account(index: u64) -> Address {
    Address::from_word(keccak256(index.to_be_bytes()))
}

/// The bench's genesis: the senders, `accounts` more funded accounts and `scale`'s market,
/// whose requests and loans its history makes before the first block.
fn bench_genesis(
    senders: &[SigningKey],
    accounts: usize,
    scale: ScaleMarket,
) -> Result<(Genesis, GenesisHistory)> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let mut genesis = Genesis::with_admin(SigningKey::from_seed("bench/admin").address(), now);
    genesis.stablecoin_balances =
        senders.iter().map(|k| (k.address(), USDC, Amount::from_whole(1_000_000))).collect();
    genesis
        .stablecoin_balances
        .extend((0..accounts as u64).map(|i| (genesis_account(i), USDC, Amount::from_whole(1))));
    scale.fund(&mut genesis);
    let actions = scale.actions(now).into_iter();
    let history = GenesisHistory {
        state_root: None,
        actions: actions
            .map(|(sender, action)| HistoryAction { block: 1, timestamp: now, sender, action })
            .collect(),
    };
    Ok((genesis, history))
}

/// The resident and peak memory of process `pid` in KiB (`/proc`, Linux), when readable.
fn memory_kib(pid: u32) -> (Option<u64>, Option<u64>) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Reads a child's first line of standard output (the address it listens on) and keeps
/// draining the rest, so a later line never meets a closed pipe.
fn listening_url(child: &mut Child) -> Result<String> {
    let stdout = child.stdout.take().context("no stdout")?;
    let mut reader = std::io::BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Ok(line.split_whitespace().last().context("no address printed")?.to_string())
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A node process of the bench and the folder holding its genesis files and data directory.
struct NodeProcess {
    child: ChildGuard,
    url: String,
    dir: PathBuf,
}

/// Writes the genesis (and its history, when it has one) into a fresh folder `name` and starts
/// a node on it; returns it once it listens, and the seconds that took (the genesis state
/// built, the history run, the genesis block written).
fn start_node(
    args: &BenchNodeArgs,
    name: &str,
    (genesis, history): &(Genesis, GenesisHistory),
) -> Result<(NodeProcess, f64)> {
    let dir = std::env::temp_dir().join(format!("infrafi-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("genesis.json"), serde_json::to_vec(genesis)?)?;
    if !history.is_empty() {
        std::fs::write(dir.join("genesis-history.json"), serde_json::to_vec(history)?)?;
    }
    spawn_node(args, dir)
}

/// Starts a node on the folder `dir` that [`start_node`] prepared (its data directory is
/// created from the genesis files when empty, reopened otherwise); returns it once it listens
/// and the seconds that took.
fn spawn_node(args: &BenchNodeArgs, dir: PathBuf) -> Result<(NodeProcess, f64)> {
    let starting = Instant::now();
    let mut command = Command::new(args.node_binary()?);
    command
        .args(["node", "--port", "0", "--chain-id", &CHAIN.to_string()])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--genesis")
        .arg(dir.join("genesis.json"));
    if dir.join("genesis-history.json").exists() {
        command.arg("--genesis-history").arg(dir.join("genesis-history.json"));
    }
    let mut child = command
        .args(["--block-time-ms", &args.block_time_ms.to_string()])
        .args(["--mempool-txs-max", &(args.txs + 1_000).to_string()])
        // One client at full speed: the per-address limits of a public node would measure
        // themselves, not the node.
        .args(["--submissions-per-ip-per-second", "0", "--batches-per-ip-per-second", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .context("spawning the node")?;
    let url = listening_url(&mut child)?;
    let secs = starting.elapsed().as_secs_f64();
    Ok((NodeProcess { child: ChildGuard(child), url, dir }, secs))
}

impl NodeProcess {
    /// Stops the node as an operator would (SIGTERM: it finishes the block in progress and
    /// closes its store) and waits for it to exit; kills it if it has not after a minute.
    fn stop(mut self) -> Result<PathBuf> {
        let pid = self.child.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.child.0.try_wait()?.is_none() {
            if Instant::now() > deadline {
                bail!("the node did not stop within a minute of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(std::mem::take(&mut self.dir))
    }

    /// Stops the node and starts it again on the same data directory: the state is rebuilt
    /// from the leaves it stored. Returns the new process and the seconds it took to listen.
    fn restart(self, args: &BenchNodeArgs) -> Result<(NodeProcess, f64)> {
        let dir = self.stop()?;
        spawn_node(args, dir)
    }

    /// Stops the node and removes its folder.
    fn remove(self) -> Result<()> {
        let dir = self.stop()?;
        let _ = std::fs::remove_dir_all(dir);
        Ok(())
    }
}

/// Starts `args.validators` validator processes sharing the bench genesis; returns them, their
/// API URLs (validator i's at index i) and the folder to remove afterwards.
fn start_validators(
    args: &BenchNodeArgs,
    senders: &[SigningKey],
) -> Result<(Vec<ChildGuard>, Vec<String>, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(format!("infrafi-bench-net-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let testnet = crate::validator_cmd::TestnetArgs {
        validators: args.validators,
        out: dir.clone(),
        base_port: 0,
        chain_id: CHAIN,
        block_time_ms: args.block_time_ms,
    };
    let (genesis, history) = bench_genesis(senders, args.accounts, scale_of(args))?;
    crate::validator_cmd::init_with(&testnet, &genesis, &history, false)?;
    let mut guards = Vec::new();
    let mut urls = Vec::new();
    for index in 0..args.validators {
        let folder = dir.join(format!("v{index}"));
        let log = std::fs::File::create(folder.join("validator.log"))?;
        let mut child = Command::new(args.node_binary()?)
            .arg("validator")
            .arg("--config")
            .arg(folder.join("config.toml"))
            .args(["--mempool-txs-max", &(args.txs + 1_000).to_string()])
            .args(["--submissions-per-ip-per-second", "0", "--batches-per-ip-per-second", "0"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawning validator {index}"))?;
        urls.push(listening_url(&mut child)?);
        guards.push(ChildGuard(child));
    }
    Ok((guards, urls, dir))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// The scale market `args` asks for.
fn scale_of(args: &BenchNodeArgs) -> ScaleMarket {
    ScaleMarket { queued: args.queued, loans: args.loans }
}

/// `infrafi bench-node`.
pub(crate) fn run(args: BenchNodeArgs) -> Result<()> {
    if args.txs == 0 || args.senders == 0 || args.batch == 0 || args.concurrency == 0 {
        bail!("txs, senders, batch and concurrency must be positive");
    }
    let senders: Vec<SigningKey> =
        (0..args.senders).map(|i| SigningKey::from_seed(&format!("bench/sender/{i}"))).collect();
    eprintln!("signing {} transactions", args.txs);
    let signed: Vec<SignedTransaction> = (0..args.txs)
        .map(|i| {
            let sender = &senders[i % senders.len()];
            let to = senders[(i + 1) % senders.len()].address();
            let action = Action::Transfer(Transfer {
                asset: Asset::Stablecoin(USDC),
                to,
                amount: Amount(1),
            });
            sender.sign(CHAIN, (i / senders.len()) as u64, &action)
        })
        .collect();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let single = {
        let genesis = bench_genesis(&senders, args.accounts, scale_of(&args))?;
        eprintln!("genesis: {} history actions", genesis.1.actions.len());
        let (node, startup_secs) = start_node(&args, "single", &genesis)?;
        drop(genesis);
        eprintln!("single node at {} after {startup_secs:.1} s", node.url);
        let client = Client::new(&node.url);
        let scale_check = runtime.block_on(scale_check(&client, &args));
        let mut report = runtime.block_on(load(
            &args,
            std::slice::from_ref(&node.url),
            signed.clone(),
            &senders,
            node.child.0.id(),
        ))?;
        report["startup_secs"] = round_to(startup_secs, 1).into();
        report["scale"] = scale_check;
        report["proofs"] = runtime.block_on(proofs(&client, &args, &senders))?;
        report["reads_by_endpoint"] = runtime.block_on(endpoint_reads(&client, &args, &senders));
        let (node, restart_secs) = node.restart(&args)?;
        eprintln!("restarted after {restart_secs:.1} s");
        let client = Client::new(&node.url);
        let (rss_kib, _) = runtime.block_on(idle_rss(&client, node.child.0.id()))?;
        report["restart_secs"] = round_to(restart_secs, 2).into();
        report["node_rss_after_restart_kib"] = rss_kib.into();
        node.remove()?;
        if args.accounts > 0 || args.queued > 0 || args.loans > 0 {
            report["memory"] = memory_runs(&args, &senders, &runtime)?;
        }
        report
    };
    if args.validators == 0 {
        println!("{}", serde_json::to_string_pretty(&single)?);
        return Ok(());
    }
    let (children, urls, dir) = start_validators(&args, &senders)?;
    eprintln!("{} validators at {}", urls.len(), urls.join(" "));
    let first = children[0].0.id();
    let network = runtime.block_on(load(&args, &urls, signed, &senders, first));
    drop(children);
    let _ = std::fs::remove_dir_all(dir);
    let report = serde_json::json!({ "single_node": single, "validators": network? });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn round_to(x: f64, places: i32) -> f64 {
    (x * 10f64.powi(places)).round() / 10f64.powi(places)
}

/// What the node says its genesis holds of the scale market: requests queued (one share
/// each: the shares locked in the queue) and loans active (the scale market silo's senior
/// outstanding over each loan's principal), so the report shows the state it measured.
async fn scale_check(client: &Client, args: &BenchNodeArgs) -> serde_json::Value {
    let amount = |value: &serde_json::Value| value.as_str().and_then(|s| s.parse::<u128>().ok());
    let queue = client.get("/v1/queue?limit=1").await.ok();
    let locked = queue.as_ref().and_then(|answer| amount(&answer.body["locked_shares"]));
    // Every scale loan lends the same senior principal and none has paid yet, so the silo's
    // senior outstanding counts them (its list of open loans is one bounded page).
    let loans = match args.loans {
        0 => Some(0),
        _ => {
            let silo = client.get("/v1/silos/0").await.ok();
            let outstanding =
                silo.as_ref().and_then(|a| amount(&a.body["silo"]["senior_outstanding"]));
            outstanding.map(|o| o / infrafi_testkit::scale::LOAN_SENIOR.0)
        }
    };
    serde_json::json!({
        "genesis_accounts": args.senders + args.accounts,
        "queued_requests": locked.map(|shares| shares / WAD),
        "active_loans": loans,
    })
}

/// Waits until the node has produced two blocks after it started listening (so its memory is
/// that of a running node, not of one still opening), then reads its resident memory in KiB
/// (and the peak).
async fn idle_rss(client: &Client, pid: u32) -> Result<(Option<u64>, Option<u64>)> {
    let first = view_and_height(client).await.1;
    let deadline = Instant::now() + Duration::from_secs(120);
    while view_and_height(client).await.1 < first + 2 {
        if Instant::now() > deadline {
            bail!("the node produced no block for two minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(memory_kib(pid))
}

/// One difference run: an idle node on a genesis with `accounts` more accounts and `scale`'s
/// market, restarted once (so its state is rebuilt from leaves, as after any restart, and no
/// garbage of building the genesis is counted); its resident memory in KiB.
fn rss_of(
    args: &BenchNodeArgs,
    senders: &[SigningKey],
    runtime: &tokio::runtime::Runtime,
    (name, accounts, scale): (&str, usize, ScaleMarket),
) -> Result<u64> {
    let genesis = bench_genesis(senders, accounts, scale)?;
    let (node, _) = start_node(args, name, &genesis)?;
    drop(genesis);
    let (node, _) = node.restart(args)?;
    let (rss, _) = runtime.block_on(idle_rss(&Client::new(&node.url), node.child.0.id()))?;
    node.remove()?;
    rss.context("the node's memory is not readable (/proc)")
}

/// Resident memory per account, per queued request and per loan: idle nodes restarted on the
/// senders-only genesis and on it plus each part alone (`rss_of`), the difference divided by
/// the part's count.
fn memory_runs(
    args: &BenchNodeArgs,
    senders: &[SigningKey],
    runtime: &tokio::runtime::Runtime,
) -> Result<serde_json::Value> {
    let none = ScaleMarket { queued: 0, loans: 0 };
    let base = rss_of(args, senders, runtime, ("base", 0, none))?;
    let mut report = serde_json::json!({ "base_rss_kib": base });
    let parts = [
        ("accounts", args.accounts as u64, (args.accounts, none)),
        ("queued", args.queued, (0, ScaleMarket { queued: args.queued, loans: 0 })),
        ("loans", args.loans, (0, ScaleMarket { queued: 0, loans: args.loans })),
    ];
    for (name, count, (accounts, scale)) in parts {
        if count == 0 {
            continue;
        }
        eprintln!("memory: a node with {count} {name} only");
        let rss = rss_of(args, senders, runtime, (name, accounts, scale))?;
        report[format!("{name}_rss_kib")] = rss.into();
        report[format!("bytes_per_{}", singular(name))] = bytes_per(base, rss, count).into();
    }
    Ok(report)
}

/// The name of one of a difference run's parts.
fn singular(part: &str) -> &str {
    match part {
        "accounts" => "account",
        "queued" => "queued_request",
        _ => "loan",
    }
}

/// Bytes of resident memory per unit: what `count` units added to a base of `base_kib`
/// (rounded to the byte; a run that measured less than its base gives 0).
fn bytes_per(base_kib: u64, with_kib: u64, count: u64) -> u64 {
    if count == 0 {
        return 0;
    }
    let added = with_kib.saturating_sub(base_kib).saturating_mul(1024);
    (added + count / 2) / count
}

/// Requests `args.proofs` Merkle proofs one after another, in turn of a genesis account's
/// USDC balance, a queued request and a loan (the kinds the genesis holds), times each request
/// and verifies each proof against the state root it names. Percentiles per kind.
async fn proofs(
    client: &Client,
    args: &BenchNodeArgs,
    senders: &[SigningKey],
) -> Result<serde_json::Value> {
    let mut kinds: Vec<&str> = vec!["balance"];
    if args.queued > 0 {
        kinds.push("queue");
    }
    if args.loans > 0 {
        kinds.push("loan");
    }
    let mut times: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut verified = 0;
    for index in 0..args.proofs {
        let kind = kinds[index % kinds.len()];
        let path = proof_path(kind, spread(index as u64 / kinds.len() as u64), args, senders);
        let started = Instant::now();
        let answer = client.get(&path).await.with_context(|| format!("GET {path}"))?;
        let elapsed = started.elapsed();
        if answer.status != 200 {
            bail!("GET {path} answered {}: {}", answer.status, answer.body);
        }
        let proof: infrafi_api::dto::ProofDto =
            serde_json::from_value(answer.body).context("reading a proof")?;
        let value = proof.value.as_ref().map(|v| v.to_vec());
        proof
            .proof
            .verify_leaf(proof.state_root, &proof.key, value.as_deref())
            .map_err(|e| anyhow::anyhow!("GET {path} gave an invalid proof: {e}"))?;
        verified += 1;
        times.entry(kind).or_default().push(elapsed);
    }
    let mut report = serde_json::json!({ "requested": args.proofs, "verified": verified });
    for (kind, mut durations) in times {
        report[kind] = percentiles(&mut durations);
    }
    Ok(report)
}

/// A spread of indices: the `n`th of a sequence that visits keys far apart (a large odd
/// multiplier), so proofs do not walk neighbouring leaves.
fn spread(n: u64) -> u64 {
    n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The proof endpoint of the `index`th key (modulo the count) of `kind`.
fn proof_path(kind: &str, index: u64, args: &BenchNodeArgs, senders: &[SigningKey]) -> String {
    match kind {
        "queue" => format!("/v1/proofs/queue/{}", index % args.queued),
        "loan" => format!("/v1/proofs/loans/{}", index % args.loans),
        _ if args.accounts > 0 => {
            let account = genesis_account(index % args.accounts as u64);
            format!("/v1/proofs/balances/{account}/USDC")
        }
        _ => {
            let sender = senders[(index % senders.len() as u64) as usize].address();
            format!("/v1/proofs/balances/{sender}/USDC")
        }
    }
}

/// Count, p50, p99 and the largest of `durations`, in milliseconds.
fn percentiles(durations: &mut [Duration]) -> serde_json::Value {
    durations.sort();
    let ms = |d: Duration| round_to(d.as_secs_f64() * 1_000.0, 2);
    serde_json::json!({
        "count": durations.len(),
        "p50_ms": ms(percentile(durations, 0.50)),
        "p99_ms": ms(percentile(durations, 0.99)),
        "max_ms": ms(durations.last().copied().unwrap_or_default()),
    })
}

/// The consensus view and committed height a node reports (0 and its height on a single node).
async fn view_and_height(client: &Client) -> (u64, u64) {
    let Ok(status) = client.get("/v1/status").await else { return (0, 0) };
    let view = status.body["consensus"]["view"].as_u64().unwrap_or(0);
    (view, status.body["height"].as_u64().unwrap_or(0))
}

/// Pushes `signed` at the nodes at `urls` (transaction i's sender to node (i mod senders) mod
/// nodes) and watches commits on the first; `pid` is the first node's process, whose memory is
/// reported.
async fn load(
    args: &BenchNodeArgs,
    urls: &[String],
    signed: Vec<SignedTransaction>,
    senders: &[SigningKey],
    pid: u32,
) -> Result<serde_json::Value> {
    let clients: Vec<Client> = urls.iter().map(|url| Client::new(url)).collect();
    let client = clients[0].clone();
    let total = signed.len();
    // Validators: wait until the network finalizes, so its start-up is not measured.
    while view_and_height(&client).await.1 == 0 && urls.len() > 1 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (view_before, height_before) = view_and_height(&client).await;
    let timings_before = timings(&client).await;
    let committed: Arc<Mutex<HashMap<alloy_primitives::B256, Instant>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    // The height up to which the watcher has read the blocks.
    let watched = Arc::new(AtomicU64::new(0));
    let watcher = {
        let (client, committed, done, watched) =
            (client.clone(), committed.clone(), done.clone(), watched.clone());
        let mut height = client.get("/v1/status").await?.body["height"].as_u64().unwrap_or(0);
        watched.store(height, Ordering::Release);
        tokio::spawn(async move {
            while !done.load(Ordering::Acquire) {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let Ok(status) = client.get("/v1/status").await else { continue };
                let head = status.body["height"].as_u64().unwrap_or(height);
                while height < head {
                    let Ok(block) = client.get(&format!("/v1/blocks/{}", height + 1)).await else {
                        break;
                    };
                    let now = Instant::now();
                    let hashes = block.body["transactions"].as_array().cloned().unwrap_or_default();
                    let mut committed = committed.lock().unwrap_or_else(|e| e.into_inner());
                    for hash in hashes.iter().filter_map(|h| h.as_str()?.parse().ok()) {
                        committed.insert(hash, now);
                    }
                    height += 1;
                    watched.store(height, Ordering::Release);
                }
            }
        })
    };
    // The requests, with their hashes computed here, before the clock starts (a hash costs a
    // typed-data digest, which would otherwise take the 2 cores from the node while it is
    // measured).
    let lanes = Arc::new(plan(signed, senders.len(), clients.len(), args.concurrency, args.batch));
    let refused: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    // Every transaction sent, with when it was sent and whether the node acknowledged it.
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let submitting = Arc::new(AtomicBool::new(true));
    let due = Arc::new(schedule(&lanes, args.rate));
    let sampler =
        tokio::spawn(sample_reads(client.clone(), read_paths(args, senders), submitting.clone()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for lane in 0..lanes.len() {
        let (clients, lanes, refused, sent, due) =
            (clients.clone(), lanes.clone(), refused.clone(), sent.clone(), due.clone());
        tasks.push(tokio::spawn(async move {
            let mut local = Vec::new();
            let mut refusals: BTreeMap<String, u64> = BTreeMap::new();
            // One after another: a sender's next nonce is sent only once its previous one was
            // answered (admission refuses a nonce that would wait on a gap).
            for (request, due) in lanes[lane].iter().zip(&due[lane]) {
                let client = &clients[request.target];
                let at = match due {
                    Some(offset) => {
                        let at = started + *offset;
                        tokio::time::sleep_until(at.into()).await;
                        at
                    }
                    None => Instant::now(),
                };
                let outcomes = submit(client, &request.batch).await;
                for (hash, outcome) in request.hashes.iter().zip(outcomes) {
                    if let Err(code) = &outcome {
                        *refusals.entry(code.clone()).or_default() += 1;
                    }
                    local.push(Sent {
                        hash: *hash,
                        at,
                        acknowledged: outcome.is_ok(),
                        target: request.target,
                    });
                }
            }
            sent.lock().unwrap_or_else(|e| e.into_inner()).extend(local);
            let mut refused = refused.lock().unwrap_or_else(|e| e.into_inner());
            for (code, count) in refusals {
                *refused.entry(code).or_default() += count;
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let submit_secs = started.elapsed().as_secs_f64();
    submitting.store(false, Ordering::Release);
    let reads_under_load = sampler.await?;
    let sent = sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let accepted = sent.iter().filter(|sent| sent.acknowledged).count();
    // Wait until every acknowledged transaction is committed, then until none of the others is
    // still waiting in a pool: a request that got no answer in time (or whose retry found its
    // own first attempt admitted) may still have been admitted, and then it commits.
    let deadline = Instant::now() + Duration::from_secs(120);
    let is_committed = |hash: &alloy_primitives::B256| {
        committed.lock().unwrap_or_else(|e| e.into_inner()).contains_key(hash)
    };
    while sent.iter().any(|sent| sent.acknowledged && !is_committed(&sent.hash))
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut unresolved: Vec<(alloy_primitives::B256, usize)> = sent
        .iter()
        .filter(|sent| !sent.acknowledged && !is_committed(&sent.hash))
        .map(|sent| (sent.hash, sent.target))
        .collect();
    while !unresolved.is_empty() && Instant::now() < deadline {
        let mut waiting = Vec::new();
        for (hash, target) in unresolved {
            if is_committed(&hash) {
                continue;
            }
            // Asked of the node it was sent to: the one whose pool would hold it.
            match clients[target].get(&format!("/v1/tx/{hash}")).await {
                Ok(answer) if answer.status == 200 && answer.body["status"] == "pending" => {
                    waiting.push((hash, target))
                }
                // Committed (the watcher will see its block) or never admitted.
                _ => {}
            }
        }
        unresolved = waiting;
        if !unresolved.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // The blocks up to the head now: a transaction found committed above is in one of them.
    let head = view_and_height(&client).await.1;
    while watched.load(Ordering::Acquire) < head && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done.store(true, Ordering::Release);
    watcher.await?;
    let committed = committed.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let refused = refused.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|sent| committed.get(&sent.hash).map(|c| c.saturating_duration_since(sent.at)))
        .collect();
    latencies.sort();
    let last_commit = sent.iter().filter_map(|sent| committed.get(&sent.hash)).max().copied();
    let commit_secs = last_commit.map_or(f64::NAN, |c| c.duration_since(started).as_secs_f64());
    let (view_after, height_after) = view_and_height(&client).await;
    let timings_after = timings(&client).await;
    let blocks = height_after.saturating_sub(height_before);
    let run_secs = started.elapsed().as_secs_f64();
    let (rss_kib, peak_rss_kib) = memory_kib(pid);
    let reads = read_phase(args, &client, senders).await;
    Ok(serde_json::json!({
        "nodes": clients.len(),
        "blocks": blocks,
        "txs_per_block": if blocks == 0 { 0.0 } else { (latencies.len() as f64 / blocks as f64).round() },
        "block_interval_ms": if blocks == 0 { 0.0 } else { (run_secs * 1000.0 / blocks as f64).round() },
        "views_per_block": if blocks == 0 || view_after == 0 { 0.0 } else { ((view_after - view_before) as f64 / blocks as f64 * 100.0).round() / 100.0 },
        "transactions": total,
        "accepted": accepted,
        "refused": refused.values().sum::<u64>(),
        "refused_by_code": refused,
        "committed": latencies.len(),
        "concurrency": args.concurrency,
        "batch": args.batch,
        "offered_tx_per_sec": if args.rate == 0 { serde_json::Value::Null } else { args.rate.into() },
        "block_time_ms": args.block_time_ms,
        "submit_tx_per_sec": (accepted as f64 / submit_secs).round(),
        "committed_tx_per_sec": (latencies.len() as f64 / commit_secs).round(),
        "latency_p50_ms": percentile(&latencies, 0.50).as_millis(),
        "latency_p99_ms": percentile(&latencies, 0.99).as_millis(),
        "reads_per_sec": reads.round(),
        "get_latency_under_load": reads_under_load,
        "genesis_accounts": senders.len() + args.accounts,
        "node_rss_kib": rss_kib,
        "node_peak_rss_kib": peak_rss_kib,
        "node_time": node_time(&timings_before, &timings_after),
    }))
}

/// The code a transaction counts under when its request got no answer (after the client's
/// retries): the node may still have admitted it, and it then counts as committed when it is.
const NO_ANSWER: &str = "no_answer";

/// A transaction sent: when, whether the node acknowledged it, and to which node.
#[derive(Clone)]
struct Sent {
    hash: alloy_primitives::B256,
    at: Instant,
    acknowledged: bool,
    target: usize,
}

/// One HTTP request of the load: the node it goes to, its transactions and their hashes.
struct Request {
    target: usize,
    batch: Vec<SignedTransaction>,
    hashes: Vec<alloy_primitives::B256>,
}

/// Splits `signed` (transaction i from sender i mod `senders`, so a sender's nonces rise with i)
/// into at most `concurrency` lanes that are sent concurrently, each a list of requests sent one
/// after another: every transaction of a sender travels in one lane, in nonce order, so no
/// nonce ever reaches its node before the one below it. A sender's transactions go to node
/// (sender mod `nodes`) in requests of at most `batch`.
fn plan(
    signed: Vec<SignedTransaction>,
    senders: usize,
    nodes: usize,
    concurrency: usize,
    batch: usize,
) -> Vec<Vec<Request>> {
    let lane_count = concurrency.min(senders).max(1);
    // Per lane and node, the transactions in order.
    let mut queues: Vec<Vec<Vec<SignedTransaction>>> = vec![vec![Vec::new(); nodes]; lane_count];
    for (i, tx) in signed.into_iter().enumerate() {
        let sender = i % senders;
        queues[sender % lane_count][sender % nodes].push(tx);
    }
    queues
        .into_iter()
        .map(|per_node| {
            let mut requests = Vec::new();
            for (target, txs) in per_node.into_iter().enumerate() {
                for chunk in txs.chunks(batch) {
                    let hashes = chunk.iter().map(SignedTransaction::hash).collect();
                    requests.push(Request { target, batch: chunk.to_vec(), hashes });
                }
            }
            requests
        })
        .filter(|requests: &Vec<Request>| !requests.is_empty())
        .collect()
}

/// When each request of `lanes` is due after the load starts when `rate` transactions per
/// second are offered (0: none is due at a set time, each lane sends as fast as it is
/// answered). The requests take turns, the first of every lane, then the second of every
/// lane, and so on (a lane's later requests carry its senders' later nonces); each is due once
/// the transactions before it in that order have been offered at `rate`.
fn schedule(lanes: &[Vec<Request>], rate: u64) -> Vec<Vec<Option<Duration>>> {
    let mut due: Vec<Vec<Option<Duration>>> =
        lanes.iter().map(|requests| vec![None; requests.len()]).collect();
    if rate == 0 {
        return due;
    }
    let turns = lanes.iter().map(Vec::len).max().unwrap_or(0);
    let mut offered = 0u64;
    for turn in 0..turns {
        for (requests, due) in lanes.iter().zip(due.iter_mut()) {
            let (Some(request), Some(slot)) = (requests.get(turn), due.get_mut(turn)) else {
                continue;
            };
            let nanos = u128::from(offered) * 1_000_000_000 / u128::from(rate);
            *slot = Some(Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)));
            offered += request.batch.len() as u64;
        }
    }
    due
}

/// Submits `batch` (one to `/v1/tx`, more to `/v1/txs`): for each transaction, accepted or the
/// code it was refused with (a batch answers 200 with one item per transaction, each accepted
/// or refused on its own).
async fn submit(client: &Client, batch: &[SignedTransaction]) -> Vec<Result<(), String>> {
    let code_of = |body: &serde_json::Value| body["code"].as_str().unwrap_or("unknown").to_string();
    if let [tx] = batch {
        return vec![match client.submit(tx).await {
            Ok(answer) if answer.status == 202 => Ok(()),
            Ok(answer) => Err(code_of(&answer.body)),
            Err(_) => Err(NO_ANSWER.into()),
        }];
    }
    let body: Vec<_> = batch.iter().map(tx_request).collect();
    match client.post("/v1/txs", &body).await {
        Ok(answer) if answer.status == 200 => batch_outcomes(&answer.body, batch.len()),
        Ok(answer) => vec![Err(code_of(&answer.body)); batch.len()],
        Err(_) => vec![Err(NO_ANSWER.into()); batch.len()],
    }
}

/// The outcome of each of `count` transactions from a `/v1/txs` answer: accepted when its item
/// carries a hash, otherwise its error's code.
fn batch_outcomes(body: &serde_json::Value, count: usize) -> Vec<Result<(), String>> {
    let items = body.as_array().map(Vec::as_slice).unwrap_or_default();
    (0..count)
        .map(|i| match items.get(i) {
            Some(item) if item["tx_hash"].is_string() => Ok(()),
            Some(item) => Err(item["error"]["code"].as_str().unwrap_or("unknown").to_string()),
            None => Err("no_item".into()),
        })
        .collect()
}

/// The node's own timings (`/v1/status`'s `timings`).
async fn timings(client: &Client) -> serde_json::Value {
    match client.get("/v1/status").await {
        Ok(status) => status.body["timings"].clone(),
        Err(_) => serde_json::Value::Null,
    }
}

/// Block production phases, in the order a block goes through them.
const BLOCK_PHASES: [&str; 11] = [
    "propose",
    "verify",
    "copy",
    "execute",
    "invariants",
    "state_root",
    "header",
    "commit",
    "mempool",
    "publish",
    "fold",
];
/// Admission steps, in order.
const ADMISSION_STEPS: [&str; 3] = ["verify", "pool", "journal"];

/// What the node spent between two readings of its timings: milliseconds per block for each
/// phase of block production (and its share of the block's time), microseconds per
/// transaction for each admission step (summed across threads).
fn node_time(before: &serde_json::Value, after: &serde_json::Value) -> serde_json::Value {
    let delta = |section: &str, key: &str| {
        let read = |v: &serde_json::Value| v[section][key].as_u64().unwrap_or(0);
        read(after).saturating_sub(read(before))
    };
    let blocks = delta("blocks", "blocks");
    let block_txs = delta("blocks", "transactions");
    let per_block: Vec<(&str, f64)> = BLOCK_PHASES
        .iter()
        .map(|phase| {
            let micros = delta("blocks", &format!("{phase}_micros")) as f64;
            (*phase, if blocks == 0 { 0.0 } else { micros / blocks as f64 / 1_000.0 })
        })
        .collect();
    let total_ms: f64 = per_block.iter().map(|(_, ms)| ms).sum();
    let round = |x: f64, places: i32| (x * 10f64.powi(places)).round() / 10f64.powi(places);
    let mut ms_per_block = serde_json::Map::new();
    let mut share_percent = serde_json::Map::new();
    for (phase, ms) in &per_block {
        ms_per_block.insert((*phase).into(), round(*ms, 3).into());
        let share = if total_ms > 0.0 { ms / total_ms * 100.0 } else { 0.0 };
        share_percent.insert((*phase).into(), round(share, 1).into());
    }
    ms_per_block.insert("total".into(), round(total_ms, 3).into());
    let admitted = delta("admission", "transactions");
    let mut micros_per_tx = serde_json::Map::new();
    for step in ADMISSION_STEPS {
        let micros = delta("admission", &format!("{step}_micros")) as f64;
        let per_tx = if admitted == 0 { 0.0 } else { micros / admitted as f64 };
        micros_per_tx.insert(step.into(), round(per_tx, 2).into());
    }
    // Counters a node reports since it brings a block's state forward instead of copying it
    // (absent from older nodes: null).
    let count = |key: &str| {
        let read = |v: &serde_json::Value| v["blocks"][key].as_u64();
        read(after).map(|a| a.saturating_sub(read(before).unwrap_or(0)))
    };
    serde_json::json!({
        "blocks": blocks,
        "state_copies": count("state_copies"),
        "mempool_rebuilds": count("mempool_rebuilds"),
        "folds": count("folds"),
        "transactions_per_block": if blocks == 0 { 0.0 } else { round(block_txs as f64 / blocks as f64, 1) },
        "block_ms": ms_per_block,
        "block_share_percent": share_percent,
        "admission_transactions": admitted,
        "admission_micros_per_tx": micros_per_tx,
    })
}

/// The reads sampled under load: the node's status, an account, the vault and, when the
/// genesis holds them, a queued request (with its service estimate) and a loan (with its
/// schedule). Each as (name, the paths it cycles through).
fn read_paths(args: &BenchNodeArgs, senders: &[SigningKey]) -> Vec<(&'static str, Vec<String>)> {
    let keys = 64u64;
    let mut paths = vec![
        ("status", vec!["/v1/status".to_string()]),
        (
            "account",
            (0..keys)
                .map(|i| match args.accounts {
                    0 => senders[(spread(i) % senders.len() as u64) as usize].address(),
                    n => genesis_account(spread(i) % n as u64),
                })
                .map(|address| format!("/v1/accounts/{address}"))
                .collect(),
        ),
        ("vault", vec!["/v1/vault".to_string()]),
    ];
    if args.queued > 0 {
        let ids = (0..keys).map(|i| format!("/v1/queue/{}", spread(i) % args.queued));
        paths.push(("queue_request", ids.collect()));
    }
    if args.loans > 0 {
        let ids = (0..keys).map(|i| format!("/v1/loans/{}", spread(i) % args.loans));
        paths.push(("loan", ids.collect()));
    }
    paths
}

/// The reads [`endpoint_reads`] times besides [`read_paths`]': those whose cost could grow
/// with the queue, the loans or the accounts rather than with their answer (an owner of queued
/// requests' account, the listings, the points leaderboard, a borrower's loans and receipts,
/// each silo's open loans, the recoveries, the deposit queue).
fn more_read_paths(args: &BenchNodeArgs) -> Vec<(&'static str, Vec<String>)> {
    let keys = 64u64;
    let scale = scale_of(args);
    let mut paths = Vec::new();
    if args.queued > 0 {
        let owners = (0..keys).map(|i| ScaleMarket::requester(spread(i) % scale.requesters()));
        paths.push(("queue_owner_account", owners.map(|a| format!("/v1/accounts/{a}")).collect()));
        paths.push(("listings", vec!["/v1/queue/listings?limit=100".to_string()]));
    }
    paths.push(("leaderboard", vec!["/v1/points/leaderboard?limit=100".to_string()]));
    if args.loans > 0 {
        let borrowers = (0..keys).map(|i| ScaleMarket::borrower(spread(i) % args.loans));
        let paths_of = borrowers.map(|b| format!("/v1/loans?borrower={b}"));
        paths.push(("borrower_loans", paths_of.collect()));
        let borrowers = (0..keys).map(|i| ScaleMarket::borrower(spread(i) % args.loans));
        let paths_of = borrowers.map(|b| format!("/v1/receipts?owner={b}"));
        paths.push(("owner_receipts", paths_of.collect()));
        // The silo of every loan (a page of 1,000 of its open loans) and the empty one beside it.
        paths.push(("loans_silo", vec![format!("/v1/silos/{}", ScaleMarket::LOANS_SILO.0)]));
        paths.push(("empty_silo", vec![format!("/v1/silos/{}", ScaleMarket::EMPTY_SILO.0)]));
        paths.push(("recoveries", vec!["/v1/recoveries".to_string()]));
    }
    paths.push(("deposit_queue", vec!["/v1/reserve/deposit-queue?limit=100".to_string()]));
    paths
}

/// Each read kind in turn, the node idle: `--concurrency` lanes (at most 4: the machine's
/// cores are shared with the node) read it for `--endpoint-reads-ms` (at least once each);
/// reports each kind's reads per second and latency percentiles, and the reads that did not
/// answer 200.
async fn endpoint_reads(
    client: &Client,
    args: &BenchNodeArgs,
    senders: &[SigningKey],
) -> serde_json::Value {
    let mut report = serde_json::json!({});
    let kinds = read_paths(args, senders).into_iter().chain(more_read_paths(args));
    for (name, paths) in kinds {
        let paths = Arc::new(paths);
        let started = Instant::now();
        let until = started + Duration::from_millis(args.endpoint_reads_ms);
        let mut lanes = Vec::new();
        for lane in 0..args.concurrency.clamp(1, 4) {
            let (client, paths) = (client.clone(), paths.clone());
            lanes.push(tokio::spawn(async move {
                let (mut times, mut failed, mut index) = (Vec::new(), 0u64, lane);
                while times.len() as u64 + failed == 0 || Instant::now() < until {
                    let at = Instant::now();
                    match client.get(&paths[index % paths.len()]).await {
                        Ok(answer) if answer.status == 200 => times.push(at.elapsed()),
                        _ => failed += 1,
                    }
                    index += 7;
                }
                (times, failed)
            }));
        }
        let (mut times, mut failed) = (Vec::new(), 0);
        for lane in lanes {
            if let Ok((lane_times, lane_failed)) = lane.await {
                times.extend(lane_times);
                failed += lane_failed;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let mut kind = percentiles(&mut times);
        kind["reads_per_sec"] = round_to(times.len() as f64 / secs, 1).into();
        kind["failed"] = failed.into();
        report[name] = kind;
    }
    report
}

/// Reads `paths` one after another, each kind in turn, while `running` holds (a client
/// reading the API while others submit), and at least once each; reports each kind's latency
/// percentiles and the reads that did not answer 200.
async fn sample_reads(
    client: Client,
    paths: Vec<(&'static str, Vec<String>)>,
    running: Arc<AtomicBool>,
) -> serde_json::Value {
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); paths.len()];
    let mut failed = 0u64;
    let mut turn = 0usize;
    while running.load(Ordering::Acquire) || turn < paths.len() {
        let kind = turn % paths.len();
        let (_, list) = &paths[kind];
        let path = &list[(turn / paths.len()) % list.len()];
        let started = Instant::now();
        match client.get(path).await {
            Ok(answer) if answer.status == 200 => times[kind].push(started.elapsed()),
            _ => failed += 1,
        }
        turn += 1;
        // A reader among many, not a flood: the load is the submissions.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut report = serde_json::json!({ "failed": failed });
    for ((name, _), mut durations) in paths.iter().zip(times) {
        report[*name] = percentiles(&mut durations);
    }
    report
}

async fn read_phase(args: &BenchNodeArgs, client: &Client, senders: &[SigningKey]) -> f64 {
    let addresses: Arc<Vec<String>> =
        Arc::new(senders.iter().map(|k| format!("/v1/accounts/{}", k.address())).collect());
    let count = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(args.reads_secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..args.concurrency {
        let (client, addresses, count) = (client.clone(), addresses.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            let mut index = task;
            while Instant::now() < until {
                let path = &addresses[index % addresses.len()];
                if client.get(path).await.is_ok_and(|a| a.status == 200) {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                index += 7;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;

    #[test]
    fn a_sender_s_transactions_travel_in_one_lane_in_nonce_order_to_one_node() {
        let (senders, nodes, concurrency, batch) = (7, 3, 4, 5);
        let keys: Vec<SigningKey> =
            (0..senders).map(|i| SigningKey::from_seed(&format!("plan/{i}"))).collect();
        let signed: Vec<SignedTransaction> = (0..100)
            .map(|i| {
                let action = Action::Transfer(Transfer {
                    asset: Asset::Stablecoin(USDC),
                    to: keys[0].address(),
                    amount: Amount(1),
                });
                keys[i % senders].sign(CHAIN, (i / senders) as u64, &action)
            })
            .collect();
        let lanes = plan(signed, senders, nodes, concurrency, batch);
        assert_eq!(lanes.len(), concurrency);
        let mut lane_of = HashMap::new();
        let mut next_nonce = HashMap::new();
        let mut count = 0;
        for (lane, requests) in lanes.iter().enumerate() {
            for request in requests {
                assert!(!request.batch.is_empty() && request.batch.len() <= batch);
                assert_eq!(
                    request.hashes,
                    request.batch.iter().map(|t| t.hash()).collect::<Vec<_>>()
                );
                for tx in &request.batch {
                    let sender = keys.iter().position(|k| k.address() == tx.sender).unwrap();
                    assert_eq!(request.target, sender % nodes, "a sender has one node");
                    assert_eq!(
                        *lane_of.entry(sender).or_insert(lane),
                        lane,
                        "a sender has one lane"
                    );
                    let next = next_nonce.entry(sender).or_insert(0);
                    assert_eq!(tx.nonce, *next, "nonces in order within the lane");
                    *next += 1;
                    count += 1;
                }
            }
        }
        assert_eq!(count, 100, "every transaction is sent once");
    }

    #[test]
    fn memory_per_unit_is_the_difference_over_the_base_divided_by_the_count_rounded() {
        // 1,000 accounts added 1,100 KiB: 1,126,400 bytes, 1,126.4 each.
        assert_eq!(bytes_per(400_000, 401_100, 1_000), 1_126);
        // 3 loans added 1 KiB: 341.33 bytes each.
        assert_eq!(bytes_per(10, 11, 3), 341);
        assert_eq!(bytes_per(10, 11, 2), 512);
        // A run below its base (the allocator kept less) adds nothing rather than wrapping.
        assert_eq!(bytes_per(500, 400, 10), 0);
        assert_eq!(bytes_per(500, 900, 0), 0);
    }

    #[test]
    fn percentiles_are_read_from_the_sorted_durations_in_milliseconds() {
        let mut durations: Vec<Duration> =
            (1..=100).rev().map(|ms| Duration::from_micros(ms * 1_000 + 250)).collect();
        let report = percentiles(&mut durations);
        assert_eq!(report["count"], 100);
        // Index round(99 * 0.5) = 50 (the 51st smallest), round(99 * 0.99) = 98.
        assert_eq!(report["p50_ms"], 51.25);
        assert_eq!(report["p99_ms"], 99.25);
        assert_eq!(report["max_ms"], 100.25);
        let empty = percentiles(&mut []);
        assert_eq!((empty["count"].as_u64(), empty["p99_ms"].as_f64()), (Some(0), Some(0.0)));
    }

    #[test]
    fn proofs_and_reads_visit_every_kind_the_genesis_holds_and_keys_within_it() {
        let keys: Vec<SigningKey> =
            (0..3).map(|i| SigningKey::from_seed(&format!("k/{i}"))).collect();
        let mut args = BenchNodeArgs {
            txs: 1,
            senders: 3,
            concurrency: 1,
            batch: 1,
            rate: 0,
            block_time_ms: 50,
            reads_secs: 0,
            accounts: 0,
            queued: 0,
            loans: 0,
            proofs: 10,
            validators: 0,
            endpoint_reads_ms: 0,
            node_binary: None,
        };
        let sender = keys[(spread(5) % 3) as usize].address();
        assert_eq!(
            proof_path("balance", spread(5), &args, &keys),
            format!("/v1/proofs/balances/{sender}/USDC")
        );
        let kinds: Vec<&str> = read_paths(&args, &keys).iter().map(|(name, _)| *name).collect();
        assert_eq!(kinds, ["status", "account", "vault"]);
        (args.accounts, args.queued, args.loans) = (1_000, 70, 7);
        let account = genesis_account(spread(5) % 1_000);
        assert_eq!(
            proof_path("balance", spread(5), &args, &keys),
            format!("/v1/proofs/balances/{account}/USDC")
        );
        assert_eq!(proof_path("queue", 75, &args, &keys), "/v1/proofs/queue/5");
        assert_eq!(proof_path("loan", 15, &args, &keys), "/v1/proofs/loans/1");
        let paths = read_paths(&args, &keys);
        let kinds: Vec<&str> = paths.iter().map(|(name, _)| *name).collect();
        assert_eq!(kinds, ["status", "account", "vault", "queue_request", "loan"]);
        let more: Vec<&str> = more_read_paths(&args).iter().map(|(name, _)| *name).collect();
        assert_eq!(
            more,
            [
                "queue_owner_account",
                "listings",
                "leaderboard",
                "borrower_loans",
                "owner_receipts",
                "loans_silo",
                "empty_silo",
                "recoveries",
                "deposit_queue"
            ]
        );
        let owner = ScaleMarket::requester(spread(3) % scale_of(&args).requesters());
        assert_eq!(more_read_paths(&args)[0].1[3], format!("/v1/accounts/{owner}"));
        let borrower = ScaleMarket::borrower(spread(2) % 7);
        assert_eq!(more_read_paths(&args)[3].1[2], format!("/v1/loans?borrower={borrower}"));
        assert_eq!(more_read_paths(&args)[4].1[2], format!("/v1/receipts?owner={borrower}"));
        assert_eq!(more_read_paths(&args)[6].1, ["/v1/silos/1"]);
        for path in &paths[3].1 {
            let id: u64 = path.strip_prefix("/v1/queue/").unwrap().parse().unwrap();
            assert!(id < 70, "{path}");
        }
        for path in &paths[4].1 {
            let id: u64 = path.strip_prefix("/v1/loans/").unwrap().parse().unwrap();
            assert!(id < 7, "{path}");
        }
    }

    #[test]
    fn an_offered_rate_spaces_the_requests_evenly_turn_by_turn_across_lanes() {
        let keys: Vec<SigningKey> =
            (0..3).map(|i| SigningKey::from_seed(&format!("k/{i}"))).collect();
        let transfer = Action::Transfer(Transfer {
            asset: Asset::Stablecoin(USDC),
            to: keys[0].address(),
            amount: Amount(1),
        });
        // Sender i % 3 at nonce i / 3: lane 0 holds senders 0 and 2, lane 1 sender 1.
        let signed: Vec<SignedTransaction> =
            (0..9).map(|i| keys[i % 3].sign(CHAIN, (i / 3) as u64, &transfer)).collect();
        let lanes = plan(signed, 3, 1, 2, 2);
        let sizes: Vec<Vec<usize>> =
            lanes.iter().map(|l| l.iter().map(|r| r.batch.len()).collect()).collect();
        assert_eq!(sizes, [vec![2, 2, 2], vec![2, 1]]);
        let ms = |due: &[Option<Duration>]| -> Vec<Option<u128>> {
            due.iter().map(|d| d.map(|d| d.as_millis())).collect()
        };
        // 100 per second: 10 ms per transaction offered before, in the order of turns
        // (lane 0, lane 1, lane 0, lane 1, lane 0).
        let due = schedule(&lanes, 100);
        assert_eq!(ms(&due[0]), [Some(0), Some(40), Some(70)]);
        assert_eq!(ms(&due[1]), [Some(20), Some(60)]);
        assert_eq!(schedule(&lanes, 0), [vec![None; 3], vec![None; 2]], "as fast as answered");
    }

    #[test]
    fn a_batch_item_refused_by_the_node_is_not_counted_as_accepted() {
        let body = serde_json::json!([
            { "tx_hash": format!("{:#x}", alloy_primitives::B256::repeat_byte(1)) },
            { "error": { "code": "nonce_too_high", "number": 2, "message": "a gap" } },
        ]);
        assert_eq!(
            batch_outcomes(&body, 3),
            vec![Ok(()), Err("nonce_too_high".to_string()), Err("no_item".to_string())]
        );
    }
}
