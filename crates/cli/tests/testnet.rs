//! The validator network on real sockets: `infrafi testnet run` starts four validator processes
//! on loopback (authenticated TCP between them, an API each). All four start from the same
//! genesis block, which carries the devnet's demo market; a transaction sent to one is
//! finalized and readable from another, against that market too; one validator killed with SIGKILL under load does not
//! stop the others; restarted, it catches up to the same chain; no acknowledged transaction is
//! lost; a balance proof from a validator verifies offline against the quorum's certificate.
//! A validator whose data is lost rejoins from a peer's certified state
//! (`infrafi validator --state-sync-from`): it reaches the network's head with the same state
//! root and then votes in the quorum.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};
use support::{Actor, BIN, cli, cli_ok};

/// The tests of this file start four validator processes each: one testnet at a time, so that
/// two do not share the machine's cores (every wait below is for a state, never a time, but a
/// starved testnet would only be slower).
static ONE_TESTNET_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running `infrafi testnet run`; stopped (and its validators with it) when dropped.
struct Testnet {
    child: Child,
    pids: Vec<u32>,
    apis: Vec<String>,
    /// Validators restarted by the test itself.
    restarted: Vec<Child>,
}

impl Drop for Testnet {
    fn drop(&mut self) {
        signal("-KILL", self.child.id());
        for pid in &self.pids {
            signal("-KILL", *pid);
        }
        let _ = self.child.wait();
        for child in &mut self.restarted {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(which: &str, pid: u32) {
    let _ = Command::new("kill").arg(which).arg(pid.to_string()).status();
}

/// Starts `infrafi testnet run` in `out` and reads the validators' pids and APIs it prints.
fn testnet_run(out: &Path) -> Testnet {
    let mut child = Command::new(BIN)
        .args(["testnet", "run", "--validators", "4", "--base-port", "0", "--block-time-ms", "300"])
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut pids, mut apis) = (Vec::new(), Vec::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("running; Ctrl-C stops them") {
            break;
        }
        // `v<i> pid <pid>  api <url>  log <path>`
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 5 && words[1] == "pid" {
            pids.push(words[2].parse().unwrap());
            apis.push(words[4].to_string());
        }
    }
    std::thread::spawn(move || for _ in lines {});
    assert_eq!(apis.len(), 4, "the testnet printed four validators");
    Testnet { child, pids, apis, restarted: Vec::new() }
}

fn status(api: &str) -> Option<Value> {
    let output = cli(&["query", "--node", api, "status"]);
    output.status.success().then(|| serde_json::from_slice(&output.stdout).unwrap())
}

fn height(api: &str) -> u64 {
    status(api).map_or(0, |s| s["finalized_height"].as_u64().unwrap())
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn block(api: &str, height: u64) -> Value {
    serde_json::from_str(&cli_ok(&["query", "--node", api, "block", &height.to_string()])).unwrap()
}

fn receipt(api: &str, hash: &str) -> Option<Value> {
    let output = cli(&["query", "--node", api, "tx", hash]);
    let answer: Value = serde_json::from_slice(&output.stdout).ok()?;
    (answer["status"] == "applied" || answer["status"] == "rejected").then_some(answer)
}

/// Sends a KYC approval of a fresh account from the devnet's KYC officer to `api` without
/// waiting; returns the transaction hash once the validator acknowledged it.
fn send_kyc(api: &str, keys: &Path, index: u32) -> String {
    let account = format!("0x{:040x}", 0x1000 + index);
    let keystore = Actor::KycRegistrar.keystore(keys);
    let answer: Value = serde_json::from_str(&cli_ok(&[
        "tx",
        "--node",
        api,
        "--keystore",
        &keystore,
        "--no-wait",
        "set-kyc",
        "--account",
        &account,
        "--verified",
        "true",
    ]))
    .unwrap();
    answer["tx_hash"].as_str().unwrap().to_string()
}

/// Sends `args` as a transaction signed by `actor` to `api` without waiting; returns its hash.
fn send(api: &str, keys: &Path, actor: Actor, args: &[&str]) -> String {
    let keystore = actor.keystore(keys);
    let mut command = vec!["tx", "--node", api, "--keystore", &keystore, "--no-wait"];
    command.extend_from_slice(args);
    let answer: Value = serde_json::from_str(&cli_ok(&command)).unwrap();
    answer["tx_hash"].as_str().unwrap().to_string()
}

fn query(api: &str, what: &[&str]) -> Value {
    let mut command = vec!["query", "--node", api];
    command.extend_from_slice(what);
    serde_json::from_str(&cli_ok(&command)).unwrap()
}

/// Every validator starts from the same genesis block, whose state root is the one the genesis
/// history records; validator 3 serves the devnet's demo market (silos, receipts, loans of
/// every kind, the vault and its queue) and finalizes a transaction against it sent to
/// validator 0: alice pays what the late loan owes.
fn the_demo_market_is_the_shared_genesis(apis: &[String], out: &Path) {
    let history: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("genesis-history.json")).unwrap())
            .unwrap();
    let genesis = block(&apis[0], 0)["header"].clone();
    assert_eq!(genesis["state_root"], history["state_root"], "{genesis}");
    for api in &apis[1..] {
        assert_eq!(block(api, 0)["header"], genesis, "the genesis block on {api}");
    }
    let v3 = &apis[3];
    let silos = query(v3, &["silos"]);
    assert_eq!(silos["silos"].as_array().map(Vec::len), Some(2), "{silos}");
    let receipts = query(v3, &["receipts"]);
    assert!(receipts["receipts"].as_array().unwrap().len() >= 14, "{receipts}");
    let loans = query(v3, &["loans"]);
    let loans = loans["loans"].as_array().unwrap();
    assert!(loans.iter().filter(|loan| loan["status"] == "active").count() >= 5, "{loans:?}");
    assert!(loans.iter().any(|loan| loan["status"] == "proposed"), "{loans:?}");
    assert!(loans.iter().any(|loan| !loan["margin_call"].is_null()), "a margin call: {loans:?}");
    let vault = query(v3, &["vault"]);
    assert_ne!(vault["share_supply"], "0", "{vault}");
    let queue = query(v3, &["queue"]);
    assert!(queue["rounds"].as_u64().unwrap() > 0, "{queue}");
    assert!(!queue["requests"].as_array().unwrap().is_empty(), "{queue}");

    // The late loan: a payment missed before genesis, within grace. Alice (anyone may) pays
    // what it owes through validator 0; validator 3 finalizes it.
    let late_loan = "2";
    let late = query(v3, &["loan", late_loan]);
    assert!(late["schedule"]["payments_missed"].as_u64().unwrap() >= 1, "{late}");
    let paid =
        send(&apis[0], &out.join("keys"), Actor::Alice, &["repay-loan", "--loan-id", late_loan]);
    wait_until("the payment on validator 3", Duration::from_secs(60), || {
        receipt(v3, &paid).is_some()
    });
    assert_eq!(receipt(v3, &paid).unwrap()["status"], "applied", "{paid}");
    let after = query(v3, &["loan", late_loan]);
    assert_eq!(after["schedule"]["payments_missed"], 0, "{after}");
    assert_ne!(after["loan"]["interest_paid"], late["loan"]["interest_paid"], "{after}");
}

#[test]
fn four_validator_processes_finalize_survive_a_sigkill_and_catch_up() {
    let _one = ONE_TESTNET_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net");
    let keys = out.join("keys");
    let mut testnet = testnet_run(&out);
    let apis = testnet.apis.clone();
    wait_until("all four to finalize blocks", Duration::from_secs(60), || {
        apis.iter().all(|api| height(api) >= 2)
    });
    let v3 = status(&apis[3]).unwrap();
    assert_eq!(v3["mode"], "validator", "{v3}");
    assert_eq!(v3["consensus"]["validator_index"], 3, "{v3}");
    assert_eq!(v3["consensus"]["peers"].as_array().unwrap().len(), 3, "{v3}");
    the_demo_market_is_the_shared_genesis(&apis, &out);

    // Sent to validator 0, finalized and readable from validator 3.
    let first = send_kyc(&apis[0], &keys, 0);
    wait_until("the transaction on validator 3", Duration::from_secs(30), || {
        receipt(&apis[3], &first).is_some()
    });
    assert_eq!(receipt(&apis[3], &first).unwrap()["status"], "applied");
    // Validator 1 takes the next ones: it asks its own view for the sender's next nonce, so it
    // must hold the first one's block too (validators commit a finalized block one by one).
    wait_until("the transaction on validator 1", Duration::from_secs(30), || {
        receipt(&apis[1], &first).is_some()
    });

    // Under load (transactions to validator 1), validator 2 is killed without warning.
    let mut acknowledged = vec![first];
    for index in 1..=10 {
        acknowledged.push(send_kyc(&apis[1], &keys, index));
    }
    signal("-KILL", testnet.pids[2]);
    let killed_at = height(&apis[0]);
    for index in 11..=20 {
        acknowledged.push(send_kyc(&apis[1], &keys, index));
    }
    wait_until("the other three to go on", Duration::from_secs(60), || {
        [0, 1, 3].iter().all(|i| height(&apis[*i]) >= killed_at + 5)
    });

    // Restarted from its store, it catches up to the same chain.
    let config = out.join("v2").join("config.toml");
    let restarted = Command::new(BIN)
        .args(["validator", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    testnet.pids[2] = restarted.id();
    testnet.restarted.push(restarted);
    let target = height(&apis[0]);
    wait_until("validator 2 to catch up", Duration::from_secs(90), || height(&apis[2]) >= target);
    for height in [killed_at, target] {
        let (a, b) = (block(&apis[0], height), block(&apis[2], height));
        assert_eq!(a["header"], b["header"], "validators 0 and 2 differ at {height}");
    }
    // No acknowledged transaction is lost, on the restarted validator either.
    for hash in &acknowledged {
        for api in [&apis[2], &apis[3]] {
            wait_until("every acknowledged transaction", Duration::from_secs(60), || {
                receipt(api, hash).is_some()
            });
            assert_eq!(receipt(api, hash).unwrap()["status"], "applied", "{hash} on {api}");
        }
    }

    // A balance proof from a validator verifies offline against the quorum's signatures.
    let admin = cli_ok(&["wallet", "address", "--keystore", &Actor::Alice.keystore(&keys)]);
    let proof = cli_ok(&["query", "--node", &apis[3], "prove-balance", admin.trim(), "USDC"]);
    let proof_path = dir.path().join("proof.json");
    std::fs::write(&proof_path, &proof).unwrap();
    let validators = out.join("validators.json");
    let verdict = cli_ok(&[
        "verify-proof",
        "--proof",
        proof_path.to_str().unwrap(),
        "--validators",
        validators.to_str().unwrap(),
    ]);
    assert!(verdict.contains("finalized: block"), "{verdict}");
    let mut forged: Value = serde_json::from_str(&proof).unwrap();
    forged["certificate"]["finalization"] = Value::String("0x00".into());
    std::fs::write(&proof_path, forged.to_string()).unwrap();
    let refused = cli(&[
        "verify-proof",
        "--proof",
        proof_path.to_str().unwrap(),
        "--validators",
        validators.to_str().unwrap(),
    ]);
    assert!(!refused.status.success(), "a forged certificate must not verify");

    // Ctrl-C stops the testnet's validators.
    signal("-INT", testnet.child.id());
    let stopped = testnet.child.wait().unwrap();
    assert!(stopped.success(), "{stopped:?}");
}

/// The newest consensus view `api`'s validator has seen activity in.
fn view(api: &str) -> u64 {
    status(api).map_or(0, |s| s["consensus"]["view"].as_u64().unwrap())
}

/// Starts `infrafi validator --config <config> <extra>` and returns it with the lines it
/// printed up to and including the one saying its API listens (the rest are drained).
fn start_validator(config: &Path, extra: &[&str]) -> (Child, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(["validator", "--config"])
        .arg(config)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let listening = line.contains("listening on");
        printed.push(line);
        if listening {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    assert!(printed.last().is_some_and(|l| l.contains("listening on")), "{printed:?}");
    (child, printed)
}

/// The block height and consensus view `--state-sync-from` started from, read from its line
/// `started from the state at block <height> (<hash>), finalized in view <view> by validators
/// [..]`.
fn state_sync_start(printed: &[String]) -> (u64, u64) {
    let line = printed
        .iter()
        .find(|line| line.starts_with("started from the state at block"))
        .unwrap_or_else(|| panic!("no state sync line in {printed:?}"));
    let number_after = |word: &str| -> u64 {
        let rest = &line[line.find(word).unwrap() + word.len()..];
        rest.split(|c: char| !c.is_ascii_digit()).find(|s| !s.is_empty()).unwrap().parse().unwrap()
    };
    (number_after(" at block "), number_after(" in view "))
}

/// The signers and view of the certificate `verify-proof --validators` checked, from its line
/// `finalized: block <h> is signed by validators [a, b, c] (3 of 4, view <v>)`.
fn proof_signers(verdict: &str) -> (Vec<u32>, u64) {
    let line = verdict.lines().find(|line| line.starts_with("finalized: block")).unwrap();
    let list = &line[line.find('[').unwrap() + 1..line.find(']').unwrap()];
    let signers = list.split(", ").filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    let view = line[line.find(", view ").unwrap() + 7..].trim_end_matches(')').parse().unwrap();
    (signers, view)
}

/// A validator that lost its data (its store and its consensus journal) rejoins from a peer's
/// certified state with `infrafi validator --state-sync-from`: the snapshot it starts from is
/// finalized in a later view than any it voted in before it stopped (so it cannot vote twice in
/// a view), it holds no block below the snapshot, reaches the network's head with the same
/// headers and state roots, and then votes: with another validator killed, the network (3 of 4
/// needed) finalizes only with its signatures, and a transaction sent to it is finalized by all.
#[test]
fn a_validator_that_lost_its_data_rejoins_from_a_peers_certified_state_and_votes() {
    let _one = ONE_TESTNET_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net");
    let keys = out.join("keys");
    let mut testnet = testnet_run(&out);
    let apis = testnet.apis.clone();
    wait_until("all four to finalize blocks", Duration::from_secs(120), || {
        apis.iter().all(|api| height(api) >= 2)
    });

    // Validator 3 stops for good and loses everything it stored.
    signal("-KILL", testnet.pids[3]);
    let killed_at = height(&apis[0]);
    // Validator 3 entered a view only after a quorum (two of the others at least) voted in the
    // one before; so it voted in no view past the others' newest plus one.
    let last_vote_bound = [0, 1, 2].iter().map(|i| view(&apis[*i])).max().unwrap() + 1;
    std::fs::remove_dir_all(out.join("v3").join("data")).unwrap();
    // The others go on past it (3 of 4 is a quorum), so their newest certified state is
    // finalized in a later view than any validator 3 voted in.
    wait_until(
        "the others to finalize past validator 3's last vote",
        Duration::from_secs(120),
        || {
            [0, 1, 2].iter().all(|i| height(&apis[*i]) >= killed_at + 5)
                && view(&apis[0]) >= last_vote_bound + 5
        },
    );

    // It restarts empty from validator 0's certified state.
    let config = out.join("v3").join("config.toml");
    let (synced, printed) = start_validator(&config, &["--state-sync-from", &apis[0]]);
    testnet.pids[3] = synced.id();
    testnet.restarted.push(synced);
    let (floor, floor_view) = state_sync_start(&printed);
    assert!(floor_view > last_vote_bound, "snapshot view {floor_view} vs {last_vote_bound}");
    assert!(floor > killed_at, "snapshot at block {floor}, validator 3 stopped at {killed_at}");
    // Its store starts at the snapshot: no block below it, nothing replayed from genesis.
    assert!(!cli(&["query", "--node", &apis[3], "block", "1"]).status.success());
    assert_eq!(block(&apis[3], floor)["header"], block(&apis[0], floor)["header"]);

    // It reaches the network's head, which moved on after the snapshot, with the same headers
    // (and so state roots).
    wait_until("the network to go on after the snapshot", Duration::from_secs(120), || {
        height(&apis[0]) >= floor + 3
    });
    let head = height(&apis[0]);
    wait_until("validator 3 to reach the head", Duration::from_secs(120), || {
        height(&apis[3]) >= head
    });
    for at in [floor + 1, head] {
        let (a, b) = (block(&apis[0], at), block(&apis[3], at));
        assert_eq!(a["header"], b["header"], "validators 0 and 3 differ at {at}");
    }

    // It votes: with validator 2 killed, nothing is finalized without validator 3's signature.
    signal("-KILL", testnet.pids[2]);
    let alone_at = height(&apis[0]);
    let after_bound = [0, 1, 3].iter().map(|i| view(&apis[*i])).max().unwrap() + 1;
    // A transaction sent to the synced validator (its nonce read from the synced state) is
    // finalized on the others.
    let sent = send_kyc(&apis[3], &keys, 100);
    wait_until("the network to finalize without validator 2", Duration::from_secs(120), || {
        [0, 1, 3].iter().all(|i| height(&apis[*i]) >= alone_at + 5)
            && receipt(&apis[0], &sent).is_some()
    });
    assert_eq!(receipt(&apis[0], &sent).unwrap()["status"], "applied", "{sent}");
    let now = height(&apis[3]);
    assert_eq!(block(&apis[0], now)["header"], block(&apis[3], now)["header"]);
    // A proof from validator 3 verifies against the quorum's certificate, which validator 3
    // signed (once the certified block is from after validator 2 stopped).
    let alice = cli_ok(&["wallet", "address", "--keystore", &Actor::Alice.keystore(&keys)]);
    let proof_path = dir.path().join("proof.json");
    let validators = out.join("validators.json");
    let mut verdict = String::new();
    wait_until("a certificate from after validator 2 stopped", Duration::from_secs(120), || {
        let proof = cli_ok(&["query", "--node", &apis[3], "prove-balance", alice.trim(), "USDC"]);
        std::fs::write(&proof_path, &proof).unwrap();
        verdict = cli_ok(&[
            "verify-proof",
            "--proof",
            proof_path.to_str().unwrap(),
            "--validators",
            validators.to_str().unwrap(),
        ]);
        proof_signers(&verdict).1 > after_bound
    });
    let (signers, _) = proof_signers(&verdict);
    assert!(signers.contains(&3) && !signers.contains(&2), "{verdict}");
}
