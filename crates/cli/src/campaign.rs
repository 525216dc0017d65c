//! `infrafi bench campaign`: the node under attack, scripted and rerunnable (issue 18,
//! docs/security.md "The campaign"). Each phase starts a real `infrafi devnet` child process
//! on loopback and drives it over HTTP, as an attacker and as honest users would:
//!
//! - **flood**: keys with nothing send every free transaction they can sign
//!   ([`free_spam`]) over many connections while honest users pay each other; it measures the
//!   honest users' submit-to-commit latency (in blocks and milliseconds), `/v1/health`'s
//!   answer time, and how fast a connection beyond the per-IP cap is refused.
//! - **kills**: SIGKILLs under load; after each restart every transaction acknowledged (202)
//!   since the previous restart is read back (committed at the height it had, or committed
//!   now), after the last every acknowledged transaction of the phase, then the store is
//!   replayed from genesis and its root compared with the head's.
//! - **soak**: steady mixed load (payments and reads) with the node's resident memory
//!   sampled from `/proc`.
//! - **fuzz**: the decoder properties (crates/node/tests/decoders_never_panic.rs) run again
//!   and again through `cargo test` until the deadline; needs the source tree and cargo.
//!
//! The campaign never decides what is fast enough: it measures and reports (a figures table,
//! and JSON with `--json`); lost transactions, a replay mismatch, an admitted flood
//! transaction and fuzz failures are counted and make the command fail.

use anyhow::{Context, Result, bail, ensure};
use infrafi_api::client::Client;
use infrafi_core::action::Transfer;
use infrafi_core::{Action, Amount, Asset, ids::USDC};
use infrafi_node::admission::free_spam;
use infrafi_tx::SigningKey;
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::devnet::actor;
use crate::node_cmd::CHAIN_ID_DEFAULT as CHAIN;

/// The devnet's users that pay each other USDC in every phase (its genesis funds them).
const HONEST: [&str; 4] = ["alice", "carol", "dave", "erin"];

/// `infrafi bench campaign`.
#[derive(clap::Args, Debug)]
pub(crate) struct CampaignArgs {
    /// Seconds of flood (0 skips the phase).
    #[arg(long, default_value_t = 0)]
    flood_secs: u64,
    /// Keys with nothing that flood the node.
    #[arg(long, default_value_t = 400)]
    flood_keys: usize,
    /// Concurrent connections the flood sends on.
    #[arg(long, default_value_t = 32)]
    flood_connections: usize,
    /// SIGKILLs under load (0 skips the phase).
    #[arg(long, default_value_t = 0)]
    kills: u64,
    /// Seconds of steady load with memory sampled (0 skips the phase).
    #[arg(long, default_value_t = 0)]
    soak_secs: u64,
    /// Seconds between two memory samples of the soak.
    #[arg(long, default_value_t = 5)]
    soak_sample_secs: u64,
    /// Seconds of fuzzing the decoders (0 skips the phase; needs cargo and the source tree).
    #[arg(long, default_value_t = 0)]
    fuzz_secs: u64,
    /// Proptest cases per target in one `cargo test` run of the fuzz phase.
    #[arg(long, default_value_t = 20_000)]
    fuzz_cases_per_run: u64,
    /// Where the devnets' data directories go (default: a temporary directory, removed).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// `infrafi bench campaign`.
pub(crate) fn run(args: CampaignArgs) -> Result<()> {
    let temporary = tempfile::tempdir()?;
    let work = args.work_dir.clone().unwrap_or_else(|| temporary.path().to_path_buf());
    std::fs::create_dir_all(&work)?;
    let mut figures = serde_json::Map::new();
    let mut failures = Vec::new();
    if args.flood_secs > 0 {
        let flood = flood(&args, &work.join("flood"))?;
        if flood["flood_admitted"] != 0 {
            failures.push(format!("{} flood transactions admitted", flood["flood_admitted"]));
        }
        figures.insert("flood".into(), flood);
    }
    if args.kills > 0 {
        let kills = kills(args.kills, &work.join("kills"))?;
        if kills["lost"] != 0 || kills["replay_matches"] != true {
            failures.push(format!("kills: {kills}"));
        }
        figures.insert("kills".into(), kills);
    }
    if args.soak_secs > 0 {
        figures.insert("soak".into(), soak(&args, &work.join("soak"))?);
    }
    if args.fuzz_secs > 0 {
        let fuzz = fuzz(&args)?;
        if fuzz["failed_runs"] != 0 {
            failures.push(format!("fuzz: {fuzz}"));
        }
        figures.insert("fuzz".into(), fuzz);
    }
    let figures = Value::Object(figures);
    print_table(&figures);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&figures)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    ensure!(failures.is_empty(), "the campaign failed: {}", failures.join("; "));
    Ok(())
}

/// Prints every figure as `phase  name  value`.
fn print_table(figures: &Value) {
    println!("{:<8} {:<36} {:>14}", "phase", "figure", "value");
    for (phase, values) in figures.as_object().into_iter().flatten() {
        for (name, value) in values.as_object().into_iter().flatten() {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            println!("{phase:<8} {name:<36} {value:>14}");
        }
    }
}

/// A devnet child process; SIGKILLed when dropped.
struct Devnet {
    child: Child,
    url: String,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Devnet {
    /// Starts `infrafi devnet --port 0 --data-dir <data> <extra>` and returns once it listens
    /// (it prints its address after its bootstrap market is committed).
    fn start(data: &Path, extra: &[&str]) -> Result<Devnet> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["devnet", "--port", "0"])
            .arg("--data-dir")
            .arg(data)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("spawning the devnet")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().context("the devnet printed nothing")??;
        let url = first.split_whitespace().last().unwrap_or_default().to_string();
        let devnet = Devnet { child, url };
        ensure!(first.contains("listening on"), "the devnet did not start: {first}");
        // Drain the banner so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(devnet)
    }

    /// SIGKILL: no shutdown path runs.
    fn kill(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize]
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10_000.0).round() / 10.0
}

/// The honest users' keys and their next nonces read from the node.
async fn honest_users(client: &Client) -> Result<Vec<(SigningKey, u64)>> {
    let mut users = Vec::new();
    for name in HONEST {
        let key = actor(name);
        let account = client.get(&format!("/v1/accounts/{}", key.address())).await?;
        let nonce = account.body["next_nonce"].as_u64().context("no next_nonce")?;
        users.push((key, nonce));
    }
    Ok(users)
}

/// A small payment from `users[index]` to the next user.
fn payment(users: &[(SigningKey, u64)], index: usize, amount: u128) -> Action {
    Action::Transfer(Transfer {
        asset: Asset::Stablecoin(USDC),
        to: users[(index + 1) % users.len()].0.address(),
        amount: Amount(amount),
    })
}

async fn height(client: &Client) -> Result<u64> {
    client.get("/v1/status").await?.body["height"].as_u64().context("no height in /v1/status")
}

/// Polls `GET /v1/tx/{hash}` until the transaction is committed; `None` if it is unknown or
/// still waiting after `patience`.
async fn committed_height(client: &Client, hash: &str, patience: Duration) -> Result<Option<u64>> {
    let deadline = Instant::now() + patience;
    loop {
        let answer = client.get(&format!("/v1/tx/{hash}")).await?;
        if answer.status == 200 && answer.body["status"] != "pending" {
            return Ok(answer.body["height"].as_u64());
        }
        if answer.status != 200 || Instant::now() > deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Flood

/// Block time of the flood's devnet.
const FLOOD_BLOCK_TIME_MS: u64 = 200;
/// The per-IP connection cap of the flood's devnet, filled from a second loopback address.
const FLOOD_CONNECTIONS_PER_IP_MAX: usize = 64;

fn flood(args: &CampaignArgs, data: &Path) -> Result<Value> {
    ensure!(args.flood_keys > 0 && args.flood_connections > 0, "flood keys and connections > 0");
    // Per-IP submission rates are off: everyone is on 127.0.0.1, and the rate limit would
    // refuse the flood at the door; this phase measures what admission alone leaves honest
    // users.
    let devnet = Devnet::start(
        data,
        &[
            "--block-time-ms",
            &FLOOD_BLOCK_TIME_MS.to_string(),
            "--submissions-per-ip-per-second",
            "0",
            "--connections-per-ip-max",
            &FLOOD_CONNECTIONS_PER_IP_MAX.to_string(),
        ],
    )?;
    let rt = runtime()?;
    let figures = rt.block_on(flood_against(args, &devnet.url))?;
    devnet.kill()?;
    Ok(figures)
}

async fn flood_against(args: &CampaignArgs, url: &str) -> Result<Value> {
    let client = Client::new(url);
    let mut users = honest_users(&client).await?;
    let spam: Vec<_> = (0..args.flood_keys)
        .flat_map(|i| {
            let key = SigningKey::from_seed(&format!("campaign/attacker/{i}"));
            free_spam(&key, CHAIN, users[0].0.address())
        })
        .collect();
    let spam = Arc::new(spam);
    let stop = Instant::now() + Duration::from_secs(args.flood_secs);
    let codes: Arc<Mutex<std::collections::BTreeMap<String, u64>>> = Arc::default();
    let mut attackers = Vec::new();
    let step = args.flood_connections;
    for connection in 0..args.flood_connections {
        let (spam, codes) = (spam.clone(), codes.clone());
        // A client per task: each keeps its own connection busy.
        let client = Client::new(url);
        attackers.push(tokio::spawn(async move {
            let mut index = connection;
            while Instant::now() < stop {
                let tx = &spam[index % spam.len()];
                index += step;
                let code = match client.submit(tx).await {
                    Ok(answer) if answer.status == 202 => "admitted".to_string(),
                    Ok(answer) => answer.body["code"].as_str().unwrap_or("no code").to_string(),
                    Err(_) => "no answer".to_string(),
                };
                *codes.lock().unwrap_or_else(|e| e.into_inner()).entry(code).or_default() += 1;
            }
        }));
    }
    // Health is asked every 100 ms throughout.
    let health = {
        let client = Client::new(url);
        tokio::spawn(async move {
            let mut times = Vec::new();
            let mut degraded = 0u64;
            while Instant::now() < stop {
                let asked = Instant::now();
                match client.get("/v1/health").await {
                    Ok(answer) if answer.status == 200 => {}
                    _ => degraded += 1,
                }
                times.push(asked.elapsed());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (times, degraded)
        })
    };
    let refused = refuse_beyond_the_cap(url).await?;
    // Honest users pay one after another, each waiting for its commit.
    let mut blocks = Vec::new();
    let mut latencies = Vec::new();
    let mut honest_refused = std::collections::BTreeMap::<String, u64>::new();
    let mut round = 0usize;
    while Instant::now() < stop {
        let index = round % users.len();
        let action = payment(&users, index, 1 + round as u128);
        let tx = users[index].0.sign(CHAIN, users[index].1, &action);
        let sent_after = height(&client).await?;
        let sent = Instant::now();
        let answer = client.submit(&tx).await?;
        if answer.status != 202 {
            let code = answer.body["code"].as_str().unwrap_or("no code").to_string();
            *honest_refused.entry(code).or_default() += 1;
            round += 1;
            continue;
        }
        users[index].1 += 1;
        let hash = tx.hash().to_string();
        let Some(at) = committed_height(&client, &hash, Duration::from_secs(60)).await? else {
            bail!("an honest payment {hash} was not committed within a minute");
        };
        latencies.push(sent.elapsed());
        blocks.push(at.saturating_sub(sent_after));
        round += 1;
    }
    for attacker in attackers {
        attacker.await?;
    }
    let (mut health_times, health_degraded) = health.await?;
    blocks.sort();
    latencies.sort();
    health_times.sort();
    let codes = codes.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let sent: u64 = codes.values().sum();
    Ok(json!({
        "seconds": args.flood_secs,
        "block_time_ms": FLOOD_BLOCK_TIME_MS,
        "attacker_keys": args.flood_keys,
        "attacker_connections": args.flood_connections,
        "flood_sent": sent,
        "flood_admitted": codes.get("admitted").copied().unwrap_or(0),
        "flood_codes": codes_text(&codes),
        "honest_committed": blocks.len(),
        "honest_refused": honest_refused.values().sum::<u64>(),
        "honest_refused_codes": codes_text(&honest_refused),
        "honest_p50_blocks": percentile(&blocks, 0.50),
        "honest_p99_blocks": percentile(&blocks, 0.99),
        "honest_max_blocks": blocks.last().copied().unwrap_or(0),
        "honest_p50_ms": millis(percentile(&latencies, 0.50)),
        "honest_p99_ms": millis(percentile(&latencies, 0.99)),
        "health_asked": health_times.len(),
        "health_degraded": health_degraded,
        "health_p99_ms": millis(percentile(&health_times, 0.99)),
        "health_max_ms": millis(health_times.last().copied().unwrap_or_default()),
        "connections_held": refused.held,
        "refused_connection_ms": millis(refused.answered_in),
        "refused_connection_status": refused.status,
    }))
}

/// `code:count,...`.
fn codes_text(codes: &std::collections::BTreeMap<String, u64>) -> String {
    codes.iter().map(|(code, count)| format!("{code}:{count}")).collect::<Vec<_>>().join(",")
}

/// What a connection beyond the per-IP cap got.
struct Refusal {
    held: usize,
    answered_in: Duration,
    status: String,
}

/// Opens idle connections from 127.0.0.2 up to the per-IP cap, then one more, and times the
/// answer of that one (a `503 connections_full` and a close). The held ones are dropped
/// before returning. 127.0.0.2 keeps the honest users' address (127.0.0.1) under its cap.
async fn refuse_beyond_the_cap(url: &str) -> Result<Refusal> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address: std::net::SocketAddr =
        url.trim_start_matches("http://").parse().context("the devnet's address")?;
    let connect = || async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind("127.0.0.2:0".parse().expect("a socket address"))?;
        socket.connect(address).await
    };
    let mut held = Vec::new();
    for _ in 0..FLOOD_CONNECTIONS_PER_IP_MAX {
        held.push(connect().await?);
    }
    // The server counts a connection once it accepts it: wait until the held ones are all
    // counted, that is until one more is refused (or give up after 10 s).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let started = Instant::now();
        let mut extra = connect().await?;
        extra.write_all(b"GET /v1/status HTTP/1.1\r\nhost: campaign\r\n\r\n").await?;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), async {
            let mut buffer = [0u8; 4096];
            loop {
                let n = extra.read(&mut buffer).await?;
                answer.extend_from_slice(&buffer[..n]);
                if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    return Ok::<_, std::io::Error>(());
                }
            }
        })
        .await;
        let answered_in = started.elapsed();
        let text = String::from_utf8_lossy(&answer);
        let status = text.split_whitespace().nth(1).unwrap_or("none").to_string();
        if status == "503" || Instant::now() > deadline || read.is_err() {
            return Ok(Refusal { held: held.len(), answered_in, status });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Kills

/// Block time of the kills' devnet: blocks commit every 20 ms under load, so a kill lands
/// inside or between commits.
const KILLS_BLOCK_TIME_MS: &str = "20";

/// Submits payments from the honest users until `stop`; returns the hashes read back as
/// committed (with their height) and those acknowledged (202) but still waiting at `stop`.
async fn load_until(client: &Client, stop: Instant) -> Result<(Vec<(String, u64)>, Vec<String>)> {
    let mut users = honest_users(client).await?;
    let mut pending: Vec<String> = Vec::new();
    let mut committed: Vec<(String, u64)> = Vec::new();
    let mut round = 0usize;
    while Instant::now() < stop {
        for index in 0..users.len() {
            let tx = users[index].0.sign(CHAIN, users[index].1, &payment(&users, index, 1));
            if client.submit(&tx).await?.status == 202 {
                users[index].1 += 1;
                pending.push(tx.hash().to_string());
            }
        }
        round += 1;
        // Read back every few rounds, so most of the load is submissions.
        if !round.is_multiple_of(4) {
            continue;
        }
        let mut still = Vec::new();
        for hash in pending.drain(..) {
            let answer = client.get(&format!("/v1/tx/{hash}")).await?;
            match answer.body["height"].as_u64() {
                Some(height) if answer.status == 200 && answer.body["status"] != "pending" => {
                    committed.push((hash, height));
                }
                _ => still.push(hash),
            }
        }
        pending = still;
    }
    Ok((committed, pending))
}

/// Reads back every `(hash, height)`: lost is how many are unknown or at another height.
async fn count_lost(client: &Client, committed: &[(String, u64)]) -> Result<u64> {
    let mut lost = 0;
    for (hash, height) in committed {
        let answer = client.get(&format!("/v1/tx/{hash}")).await?;
        if answer.status != 200 || answer.body["height"].as_u64() != Some(*height) {
            lost += 1;
        }
    }
    Ok(lost)
}

fn kills(kills: u64, data: &Path) -> Result<Value> {
    let rt = runtime()?;
    let started = Instant::now();
    let mut all: Vec<(String, u64)> = Vec::new();
    let mut last_round: Vec<(String, u64)> = Vec::new();
    let mut waiting: Vec<String> = Vec::new();
    let (mut lost, mut waiting_at_a_kill, mut checked_after_restarts) = (0u64, 0usize, 0usize);
    let mut lost_at_the_end = 0u64;
    let args = ["--no-keeper", "--block-time-ms", KILLS_BLOCK_TIME_MS];
    for kill in 0..=kills {
        let devnet = Devnet::start(data, &args)?;
        let client = Client::new(&devnet.url);
        rt.block_on(async {
            // What was committed in the round before the kill is still there, at its height.
            lost += count_lost(&client, &last_round).await?;
            checked_after_restarts += last_round.len() + waiting.len();
            all.append(&mut last_round);
            // What was acknowledged but waiting at the kill was kept, and commits.
            for hash in waiting.drain(..) {
                match committed_height(&client, &hash, Duration::from_secs(30)).await? {
                    Some(height) => all.push((hash, height)),
                    None => lost += 1,
                }
            }
            Ok::<_, anyhow::Error>(())
        })?;
        if kill == kills {
            // The last start: every transaction of the phase is read back, then replayed.
            lost_at_the_end = rt.block_on(count_lost(&client, &all))?;
            devnet.kill()?;
            break;
        }
        let load_for = Duration::from_millis(600 + 300 * (kill % 3));
        let (committed, still) = rt.block_on(load_until(&client, Instant::now() + load_for))?;
        last_round = committed;
        waiting_at_a_kill += still.len();
        waiting = still;
        devnet.kill()?;
    }
    let replay = Command::new(std::env::current_exe()?)
        .arg("replay")
        .arg("--data-dir")
        .arg(data)
        .stderr(Stdio::null())
        .output()?;
    let replay: Value = serde_json::from_slice(&replay.stdout).unwrap_or(Value::Null);
    Ok(json!({
        "kills": kills,
        "acknowledged": all.len(),
        "waiting_at_a_kill": waiting_at_a_kill,
        "checked_after_restarts": checked_after_restarts,
        "checked_at_the_end": all.len(),
        "lost": lost + lost_at_the_end,
        "replay_matches": replay["matches"],
        "blocks": replay["height"],
        "seconds": started.elapsed().as_secs(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Soak

/// The resident memory of process `pid` in KiB (`VmRSS` in /proc), if the platform has it.
fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The least-squares slope of `(seconds, kib)` in KiB per minute.
fn slope_kib_per_minute(samples: &[(f64, u64)]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mean_t = samples.iter().map(|s| s.0).sum::<f64>() / n;
    let mean_m = samples.iter().map(|s| s.1 as f64).sum::<f64>() / n;
    let covariance: f64 = samples.iter().map(|s| (s.0 - mean_t) * (s.1 as f64 - mean_m)).sum();
    let variance: f64 = samples.iter().map(|s| (s.0 - mean_t).powi(2)).sum();
    if variance == 0.0 { 0.0 } else { (covariance / variance * 60.0 * 10.0).round() / 10.0 }
}

fn soak(args: &CampaignArgs, data: &Path) -> Result<Value> {
    let devnet = Devnet::start(data, &["--block-time-ms", "200"])?;
    let pid = devnet.child.id();
    let rt = runtime()?;
    let started = Instant::now();
    let stop = started + Duration::from_secs(args.soak_secs);
    let every = Duration::from_secs(args.soak_sample_secs.max(1));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !done.load(Ordering::Acquire) {
                if let Some(kib) = resident_kib(pid) {
                    samples.push((started.elapsed().as_secs_f64(), kib));
                }
                let next = Instant::now() + every;
                while Instant::now() < next && !done.load(Ordering::Acquire) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            samples
        })
    };
    let client = Client::new(&devnet.url);
    let load = rt.block_on(async {
        let (mut submitted, mut reads) = (0u64, 0u64);
        while Instant::now() < stop {
            let (committed, waiting) =
                load_until(&client, (Instant::now() + Duration::from_secs(1)).min(stop)).await?;
            submitted += (committed.len() + waiting.len()) as u64;
            for path in ["/v1/status", "/v1/health", "/v1/vault", "/v1/queue"] {
                client.get(path).await?;
                reads += 1;
            }
        }
        Ok::<_, anyhow::Error>((submitted, reads))
    });
    done.store(true, Ordering::Release);
    let samples = sampler.join().map_err(|_| anyhow::anyhow!("the sampler panicked"))?;
    let (submitted, reads) = load?;
    devnet.kill()?;
    let kib: Vec<u64> = samples.iter().map(|s| s.1).collect();
    Ok(json!({
        "seconds": args.soak_secs,
        "transactions_acknowledged": submitted,
        "reads": reads,
        "rss_samples": kib.len(),
        "rss_start_kib": kib.first(),
        "rss_peak_kib": kib.iter().max(),
        "rss_end_kib": kib.last(),
        "rss_slope_kib_per_minute": slope_kib_per_minute(&samples),
        // The first half holds the warm-up (caches, pools, the allocator's arenas).
        "rss_slope_last_half_kib_per_minute": slope_kib_per_minute(&samples[samples.len() / 2..]),
    }))
}

// ---------------------------------------------------------------------------------------------
// Fuzz

/// The decoder properties of crates/node/tests/decoders_never_panic.rs.
const FUZZ_TARGETS: u64 = 4;

fn fuzz(args: &CampaignArgs) -> Result<Value> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    ensure!(
        workspace.join("crates/node/tests/decoders_never_panic.rs").exists(),
        "the fuzz phase runs the decoder properties with cargo: run it from a source checkout"
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.fuzz_secs);
    let (mut runs, mut failed_runs) = (0u64, 0u64);
    while Instant::now() < deadline {
        // A fresh random seed per run (proptest's default), so every run explores new cases.
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["test", "-q", "-p", "infrafi-node", "--test", "decoders_never_panic"])
            .env("PROPTEST_CASES", args.fuzz_cases_per_run.to_string())
            .current_dir(&workspace)
            .output()
            .context("running cargo test")?;
        runs += 1;
        if !output.status.success() {
            failed_runs += 1;
            eprintln!("fuzz run {runs} failed:\n{}", String::from_utf8_lossy(&output.stdout));
        }
    }
    Ok(json!({
        "seconds": started.elapsed().as_secs(),
        "targets": FUZZ_TARGETS,
        "runs": runs,
        "cases_per_target": runs * args.fuzz_cases_per_run,
        "cases": runs * args.fuzz_cases_per_run * FUZZ_TARGETS,
        "failed_runs": failed_runs,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_slope_is_kib_per_minute_by_least_squares() {
        let rising = [(0.0, 1_000), (30.0, 1_500), (60.0, 2_000)];
        assert_eq!(slope_kib_per_minute(&rising), 1_000.0);
        assert_eq!(slope_kib_per_minute(&[(0.0, 7), (60.0, 7)]), 0.0);
        assert_eq!(slope_kib_per_minute(&[(5.0, 7)]), 0.0);
    }

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 0.50), 51);
        assert_eq!(percentile(&sorted, 0.99), 99);
        assert_eq!(percentile::<u64>(&[], 0.99), 0);
    }
}
