//! The `infrafi` binary end to end: a devnet on loopback driven by the CLI wallet, a proof
//! checked offline, and the crash test (SIGKILL under load, restart, audit by replay).

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use infrafi_api::client::Client;
use infrafi_core::action::Transfer;
use infrafi_core::{Action, Amount, Asset, ids::USDC};
use infrafi_tx::SigningKey;
use serde_json::{Value, json};
use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};
use support::*;

const CHAIN: u64 = 31_337;

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
    let key = |name: &str| keys.join(format!("{name}.json")).display().to_string();
    let wallet = wallet.to_str().unwrap();
    let tx = |keystore: &str, action: &[&str]| {
        let mut args = vec!["tx", "--node", node, "--keystore", keystore];
        args.extend_from_slice(action);
        let receipt: Value = serde_json::from_str(&cli_ok(&args)).unwrap();
        assert_eq!(receipt["status"], "applied", "{receipt}");
        receipt
    };
    tx(
        &key("attestor"),
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
    tx(&key("kyc"), &["set-kyc", "--account", &me, "--verified", "true"]);
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

/// Submits transfers from the devnet's stablecoin holders until `stop`; returns the hashes
/// whose receipt was read back (with their height) and those acknowledged (202) but still
/// waiting when the load stopped.
fn load_until(url: &str, stop: Instant) -> (Vec<(String, u64)>, Vec<String>) {
    // A client per runtime: a pooled connection is driven by the runtime that opened it.
    let client = &Client::new(url);
    let rt = runtime();
    let senders: Vec<SigningKey> = ["alice", "bob", "carol", "dave"]
        .iter()
        .map(|n| SigningKey::from_seed(&format!("infrafi-devnet/{n}")))
        .collect();
    rt.block_on(async {
        let mut nonces = Vec::new();
        for sender in &senders {
            let account = client.get(&format!("/v1/accounts/{}", sender.address())).await.unwrap();
            nonces.push(account.body["next_nonce"].as_u64().unwrap());
        }
        let mut pending: Vec<String> = Vec::new();
        let mut committed: Vec<(String, u64)> = Vec::new();
        let mut round = 0usize;
        while Instant::now() < stop {
            for (index, sender) in senders.iter().enumerate() {
                let to = senders[(index + 1) % senders.len()].address();
                let action = Action::Transfer(Transfer {
                    asset: Asset::Stablecoin(USDC),
                    to,
                    amount: Amount(1 + round as u128),
                });
                let Ok(answer) = client.submit(&sender.sign(CHAIN, nonces[index], &action)).await
                else {
                    return (committed, pending);
                };
                if answer.status == 202 {
                    nonces[index] += 1;
                    pending.push(answer.body["tx_hash"].as_str().unwrap().to_string());
                }
            }
            round += 1;
            let mut still = Vec::new();
            for hash in pending.drain(..) {
                match client.get(&format!("/v1/tx/{hash}")).await {
                    Ok(answer) if answer.status == 200 && answer.body["status"] != "pending" => {
                        committed.push((hash, answer.body["height"].as_u64().unwrap()));
                    }
                    Ok(_) => still.push(hash),
                    Err(_) => {
                        still.push(hash);
                        return (committed, still);
                    }
                }
            }
            pending = still;
        }
        (committed, pending)
    })
}

/// Polls `GET /v1/tx/{hash}` until the transaction is committed (or 10 s pass).
async fn wait_committed(client: &Client, hash: &str) -> infrafi_api::client::Answer {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = client.get(&format!("/v1/tx/{hash}")).await.unwrap();
        let waiting = answer.status == 200 && answer.body["status"] == "pending";
        if !waiting || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn a_node_killed_while_committing_under_load_keeps_every_acknowledged_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut acknowledged: Vec<(String, u64)> = Vec::new();
    let mut waiting: Vec<String> = Vec::new();
    let mut waiting_at_a_kill = 0;
    for round in 0..3u64 {
        let mut net = devnet(&data, &["--no-keeper", "--block-time-ms", "20"]);
        let client = Client::new(&net.url);
        let rt = runtime();
        // Everything committed before the last kill is still there, at its height.
        for (hash, height) in &acknowledged {
            let answer = rt.block_on(client.get(&format!("/v1/tx/{hash}"))).unwrap();
            assert_eq!(answer.status, 200, "lost {hash} after a crash: {}", answer.body);
            assert_eq!(answer.body["height"].as_u64(), Some(*height));
        }
        // Everything acknowledged (202) but still waiting at the kill was kept, and commits.
        for hash in waiting.drain(..) {
            let answer = rt.block_on(wait_committed(&client, &hash));
            assert_eq!(answer.status, 200, "lost acknowledged {hash}: {}", answer.body);
            acknowledged.push((hash, answer.body["height"].as_u64().unwrap()));
        }
        let load_for = Duration::from_millis(600 + 300 * round);
        let (committed, still_waiting) = load_until(&net.url, Instant::now() + load_for);
        acknowledged.extend(committed);
        waiting_at_a_kill += still_waiting.len();
        waiting = still_waiting;
        // SIGKILL: no shutdown path runs; blocks commit every 20 ms under load, so the kill
        // lands inside or between commits.
        net.child.kill().unwrap();
        net.child.wait().unwrap();
    }
    assert!(acknowledged.len() > 20, "the load was too light: {}", acknowledged.len());
    let net = devnet(&data, &["--no-keeper", "--block-time-ms", "100"]);
    let rt = runtime();
    let client = Client::new(&net.url);
    for (hash, _) in &acknowledged {
        let answer = rt.block_on(client.get(&format!("/v1/tx/{hash}"))).unwrap();
        assert_eq!(answer.status, 200, "lost {hash}");
    }
    for hash in &waiting {
        let answer = rt.block_on(wait_committed(&client, hash));
        assert_eq!(answer.status, 200, "lost acknowledged {hash}: {}", answer.body);
    }
    eprintln!(
        "{} committed before a kill, {waiting_at_a_kill} acknowledged and waiting at a kill",
        acknowledged.len()
    );
    drop(net);
    let replay: Value =
        serde_json::from_str(&cli_ok(&["replay", "--data-dir", data.to_str().unwrap()])).unwrap();
    assert_eq!(replay["matches"], true, "{replay}");
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
        &std::fs::read_to_string(dir.path().join("data/keys/dave.json")).unwrap(),
    )
    .unwrap();
    let alice = SigningKey::from_seed("infrafi-devnet/alice").address().to_string();
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
