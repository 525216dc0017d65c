//! The `infrafi` binary end to end: a devnet on loopback driven by the CLI wallet, a proof
//! checked offline, and the short campaign (flood, SIGKILLs under load with an audit by
//! replay, soak).

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use infrafi_api::client::Client;
use serde_json::{Value, json};
use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};
use support::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_depositor_walks_through_the_protocol_with_the_cli_and_proves_its_balance() {
    let dir = tempfile::tempdir().unwrap();
    let net = devnet(&dir.path().join("data"), &["--block-time-ms", "100"]);
    let keys = dir.path().join("data/keys");
    let node = net.url.as_str();
    let wallet = dir.path().join("me.json");
    let me = cli_ok(&["wallet", "new", "--keystore", wallet.to_str().unwrap()]).trim().to_string();
    // An encrypted v3 keystore: it opens with its password only.
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&wallet).unwrap()).unwrap();
    assert_eq!(
        (file["version"].as_u64(), file["crypto"]["kdf"].as_str()),
        (Some(3), Some("scrypt"))
    );
    let wrong = Command::new(BIN)
        .args(["wallet", "address", "--keystore", wallet.to_str().unwrap()])
        .env("INFRAFI_KEYSTORE_PASSWORD", "not the password")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong password"));
    let key = |actor: Actor| actor.keystore(&keys);
    let wallet = wallet.to_str().unwrap();
    let tx = |keystore: &str, action: &[&str]| {
        let mut args = vec!["tx", "--node", node, "--keystore", keystore];
        args.extend_from_slice(action);
        let receipt: Value = serde_json::from_str(&cli_ok(&args)).unwrap();
        assert_eq!(receipt["status"], "applied", "{receipt}");
        receipt
    };
    tx(
        &key(Actor::Attestor),
        &[
            "gateway-credit",
            "--account",
            &me,
            "--token",
            "USDC",
            "--amount",
            "1250.5",
            "--external-id",
            &format!("0x{}", "ab".repeat(32)),
        ],
    );
    tx(&key(Actor::KycRegistrar), &["set-kyc", "--account", &me, "--verified", "true"]);
    tx(wallet, &["mint-usdai", "--token", "USDC", "--amount", "1250.5"]);
    // A preview signs nothing and uses no nonce; the stake it previews then gives its shares.
    let preview: Value = serde_json::from_str(&cli_ok(&[
        "tx",
        "--node",
        node,
        "--keystore",
        wallet,
        "--dry-run",
        "stake",
        "--assets",
        "1000",
    ]))
    .unwrap();
    assert_eq!(preview["status"], "applied", "{preview}");
    let staked_shares = |events: &Value| -> u128 {
        let staked = events.as_array().unwrap().iter().find(|e| e["kind"] == "staked").unwrap();
        staked["shares"].as_str().unwrap().parse().unwrap()
    };
    let stake = tx(wallet, &["stake", "--assets", "1000"]);
    // The devnet's loans accrue interest every second, so the price moves a little between
    // the preview's block and the stake's: the same shares to within 0.01%.
    let (previewed, staked) = (staked_shares(&preview["events"]), staked_shares(&stake["events"]));
    assert!(previewed.abs_diff(staked) <= previewed / 10_000, "{previewed} vs {staked}");
    let refused_preview = cli(&[
        "tx",
        "--node",
        node,
        "--keystore",
        wallet,
        "--dry-run",
        "stake",
        "--assets",
        "99999",
    ]);
    assert!(!refused_preview.status.success());
    assert!(String::from_utf8_lossy(&refused_preview.stderr).contains("balance_insufficient"));
    let request = tx(wallet, &["request-redeem", "--shares", "100"]);
    let id = request["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "redemption_requested")
        .unwrap()["request_id"]
        .as_u64()
        .unwrap();
    // A rejected transaction fails the command with its code.
    let refused = cli(&["tx", "--node", node, "--keystore", wallet, "stake", "--assets", "99999"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("balance_insufficient"));

    let client = Client::new(node);
    let rt = runtime();
    let moved = rt
        .block_on(client.post("/v1/devnet/advance-time", &json!({"seconds": 8 * 86_400})))
        .unwrap();
    assert_eq!(moved.status, 200, "{}", moved.body);
    // The built-in keeper runs the servicing round once requests are eligible.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let detail: Value =
            serde_json::from_str(&cli_ok(&["query", "--node", node, "request", &id.to_string()]))
                .unwrap();
        if detail["request"]["status"] == "served" {
            break;
        }
        assert!(Instant::now() < deadline, "the keeper did not serve the request: {detail}");
        std::thread::sleep(Duration::from_millis(100));
    }
    tx(wallet, &["claim", "--request-id", &id.to_string()]);
    let account: Value =
        serde_json::from_str(&cli_ok(&["query", "--node", node, "account", &me])).unwrap();
    let usdai =
        account["balances"].as_array().unwrap().iter().find(|b| b["asset"] == "USDai").unwrap();
    assert!(usdai["amount"].as_str().unwrap().parse::<u128>().unwrap() >= 350 * 10u128.pow(18));

    // The node's history: the devnet's bootstrap moved time by weeks, so prices were sampled.
    let history: Value =
        serde_json::from_str(&cli_ok(&["query", "--node", node, "history", "deposit_price"]))
            .unwrap();
    assert!(!history["points"].as_array().unwrap().is_empty(), "{history}");
    let series: Value =
        serde_json::from_str(&cli_ok(&["query", "--node", node, "history"])).unwrap();
    assert!(series["series"].as_array().unwrap().len() >= 15, "{series}");
    let proof = cli_ok(&["query", "--node", node, "prove-balance", &me, "USDai"]);
    let proof_path = dir.path().join("proof.json");
    std::fs::write(&proof_path, &proof).unwrap();
    let verdict =
        cli_ok(&["verify-proof", "--proof", proof_path.to_str().unwrap(), "--node", node]);
    assert!(verdict.starts_with("valid"), "{verdict}");
    let mut forged: Value = serde_json::from_str(&proof).unwrap();
    forged["value"] = json!("0x01");
    std::fs::write(&proof_path, forged.to_string()).unwrap();
    assert!(!cli(&["verify-proof", "--proof", proof_path.to_str().unwrap()]).status.success());
}

/// The short campaign (`infrafi bench campaign`, docs/security.md "The campaign"): a flood of
/// keys with nothing while honest users pay, three SIGKILLs under load with every acknowledged
/// transaction read back after each restart and the store replayed, and a short soak. What it
/// asserts does not depend on timing: counts, codes and roots.
#[test]
fn a_short_campaign_floods_kills_and_soaks_a_devnet_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let figures_path = dir.path().join("campaign.json");
    let work = dir.path().join("work");
    cli_ok(&[
        "bench",
        "campaign",
        "--flood-secs",
        "3",
        "--flood-keys",
        "50",
        "--kills",
        "3",
        "--soak-secs",
        "3",
        "--soak-sample-secs",
        "1",
        "--work-dir",
        work.to_str().unwrap(),
        "--json",
        figures_path.to_str().unwrap(),
    ]);
    let figures: Value =
        serde_json::from_str(&std::fs::read_to_string(&figures_path).unwrap()).unwrap();
    let flood = &figures["flood"];
    assert!(flood["flood_sent"].as_u64().unwrap() > 0, "{flood}");
    assert_eq!(flood["flood_admitted"], 0, "{flood}");
    assert!(flood["honest_committed"].as_u64().unwrap() > 0, "{flood}");
    assert_eq!(flood["honest_refused"], 0, "{flood}");
    assert_eq!(flood["health_degraded"], 0, "{flood}");
    assert_eq!(flood["refused_connection_status"], "503", "{flood}");
    let kills = &figures["kills"];
    assert_eq!(kills["kills"], 3, "{kills}");
    assert_eq!(kills["lost"], 0, "{kills}");
    assert_eq!(kills["replay_matches"], true, "{kills}");
    assert!(kills["acknowledged"].as_u64().unwrap() > 20, "the load was too light: {kills}");
    assert_eq!(kills["checked_at_the_end"], kills["acknowledged"], "{kills}");
    let soak = &figures["soak"];
    assert!(soak["rss_samples"].as_u64().unwrap() >= 1, "{soak}");
    assert!(soak["rss_peak_kib"].as_u64().unwrap() > 0, "{soak}");
    assert!(soak["transactions_acknowledged"].as_u64().unwrap() > 0, "{soak}");
    // The replay the campaign ran is the CLI's own: run it again on the killed devnet's store.
    let replay: Value = serde_json::from_str(&cli_ok(&[
        "replay",
        "--data-dir",
        work.join("kills").to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(replay["matches"], true, "{replay}");
}

/// `infrafi bench-node` counts as accepted only what the node acknowledged and sends each
/// sender's nonces in order (the node refuses a nonce that would wait on a gap): with several
/// transactions per sender in flight across concurrent batches, every one is accepted and
/// committed. It waits for the commits, so nothing here depends on timing.
#[test]
fn bench_node_commits_every_transaction_when_each_sender_has_several_in_flight() {
    let output = cli_ok(&[
        "bench-node",
        "--txs",
        "600",
        "--senders",
        "20",
        "--batch",
        "25",
        "--concurrency",
        "8",
        "--block-time-ms",
        "50",
        "--reads-secs",
        "0",
        "--endpoint-reads-ms",
        "0",
    ]);
    let report: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(report["refused"], 0, "{report}");
    assert_eq!(report["accepted"], 600, "{report}");
    assert_eq!(report["committed"], 600, "{report}");
}

/// `infrafi bench-node` at scale, small: the node says its genesis holds the accounts, queued
/// requests and active loans asked for (built by a genesis history), every transaction
/// commits, the node restarts on its data directory, every proof requested verifies, each
/// read was sampled under the load and the difference runs read each node's memory. It waits
/// for states (commits, heights, answers), never for times.
#[test]
fn bench_node_at_scale_builds_its_market_in_the_genesis_and_reports_restart_proofs_reads_and_memory()
 {
    let output = cli_ok(&[
        "bench-node",
        "--txs",
        "300",
        "--senders",
        "15",
        "--batch",
        "20",
        "--concurrency",
        "4",
        "--block-time-ms",
        "50",
        "--reads-secs",
        "0",
        "--accounts",
        "500",
        "--queued",
        "120",
        "--loans",
        "6",
        "--proofs",
        "60",
        "--endpoint-reads-ms",
        "0",
    ]);
    let report: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(report["committed"], 300, "{report}");
    let scale = &report["scale"];
    assert_eq!(
        (&scale["genesis_accounts"], &scale["queued_requests"], &scale["active_loans"]),
        (&Value::from(515), &Value::from(120), &Value::from(6)),
        "{report}"
    );
    assert_eq!(report["proofs"]["verified"], 60, "{report}");
    for kind in ["balance", "queue", "loan"] {
        assert_eq!(report["proofs"][kind]["count"], 20, "{kind}: {report}");
    }
    let reads = &report["get_latency_under_load"];
    assert_eq!(reads["failed"], 0, "{report}");
    for kind in ["status", "account", "vault", "queue_request", "loan"] {
        assert!(reads[kind]["count"].as_u64().unwrap() >= 1, "{kind}: {report}");
        assert!(reads[kind]["p50_ms"].as_f64().unwrap() <= reads[kind]["p99_ms"].as_f64().unwrap());
    }
    let kinds = ["status", "account", "vault", "queue_request", "loan", "queue_owner_account"];
    let more = [
        "listings",
        "leaderboard",
        "borrower_loans",
        "owner_receipts",
        "loans_silo",
        "empty_silo",
        "recoveries",
        "deposit_queue",
    ];
    for kind in kinds.iter().chain(&more) {
        let reads = &report["reads_by_endpoint"][kind];
        assert_eq!(reads["failed"], 0, "{kind}: {report}");
        assert!(reads["count"].as_u64().unwrap() >= 1, "{kind}: {report}");
        assert!(reads["reads_per_sec"].as_f64().unwrap() > 0.0, "{kind}: {report}");
    }
    assert!(report["restart_secs"].is_f64(), "{report}");
    assert!(report["node_rss_after_restart_kib"].as_u64().unwrap() > 0, "{report}");
    for run in ["base_rss_kib", "accounts_rss_kib", "queued_rss_kib", "loans_rss_kib"] {
        assert!(report["memory"][run].as_u64().unwrap() > 0, "{run}: {report}");
    }
    for unit in ["bytes_per_account", "bytes_per_queued_request", "bytes_per_loan"] {
        assert!(report["memory"][unit].is_u64(), "{unit}: {report}");
    }
}

fn tool_available(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn viem_signs_transactions_the_node_applies_and_ethers_shares_our_keystores() {
    if !tool_available("node") || !tool_available("npm") {
        eprintln!(
            "SKIPPED wallet compatibility: `node` and `npm` are needed (tests/wallet-compat)"
        );
        return;
    }
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/wallet-compat");
    if !project.join("node_modules/ethers").exists() {
        let install = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&project)
            .output()
            .unwrap();
        assert!(install.status.success(), "npm ci: {}", String::from_utf8_lossy(&install.stderr));
    }
    let dir = tempfile::tempdir().unwrap();
    let net = devnet(&dir.path().join("data"), &["--block-time-ms", "100", "--no-keeper"]);
    let dave: Value = serde_json::from_str(
        &std::fs::read_to_string(Actor::Dave.keystore(&dir.path().join("data/keys"))).unwrap(),
    )
    .unwrap();
    let alice = Actor::Alice.address().to_string();
    let output = Command::new("node")
        .arg("sign-and-submit.mjs")
        .args([net.url.as_str(), dave["private_key"].as_str().unwrap(), &alice])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "viem-signed transaction failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let receipt: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(receipt["status"], "applied");
    assert_eq!(receipt["action"], "transfer");

    // Keystores: ours opens in ethers, and ethers' opens in ours.
    let ours = dir.path().join("ours.json");
    let address = cli_ok(&["wallet", "new", "--keystore", ours.to_str().unwrap()]);
    let keystore = |args: &[&str]| {
        let output =
            Command::new("node").arg("keystore.mjs").args(args).current_dir(&project).output();
        let output = output.unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_lowercase()
    };
    let opened = keystore(&["open", ours.to_str().unwrap(), KEYSTORE_PASSWORD]);
    assert_eq!(opened, address.trim().to_lowercase(), "ethers opens infrafi's keystore");
    let theirs = dir.path().join("theirs.json");
    let theirs_address = keystore(&[
        "write",
        theirs.to_str().unwrap(),
        KEYSTORE_PASSWORD,
        dave["private_key"].as_str().unwrap(),
    ]);
    let read = cli_ok(&["wallet", "address", "--keystore", theirs.to_str().unwrap()]);
    assert_eq!(read.trim().to_lowercase(), theirs_address, "infrafi opens ethers' keystore");
}

/// `infrafi bench verify` measures every representative action (digest, whole check, batch)
/// and recovery, and fails if any signature does not verify; what is asserted is the rows, not
/// the figures.
#[test]
fn the_verify_bench_checks_every_signature_it_times() {
    let output = cli_ok(&["bench", "verify", "--transactions", "20"]);
    for row in [
        "digest stake",
        "verify stake",
        "batch stake",
        "digest transfer",
        "verify propose_loan",
        "batch propose_loan",
        "recover",
    ] {
        assert!(output.lines().any(|line| line.starts_with(row)), "{row} missing:\n{output}");
    }
}

/// The node turns transparent huge pages off for itself (docs/node.md "Transparent huge
/// pages"): the kernel reports the process flag in `/proc/<pid>/status`.
#[test]
fn a_running_node_has_transparent_huge_pages_turned_off() {
    let data_dir = tempfile::tempdir().unwrap();
    let devnet = devnet(data_dir.path(), &[]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", devnet.child.id())).unwrap();
    let flag = status.lines().find(|line| line.starts_with("THP_enabled:"));
    assert_eq!(flag.map(|line| line.split_whitespace().last()), Some(Some("0")), "{status}");
}
