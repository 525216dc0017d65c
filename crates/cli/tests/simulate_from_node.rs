//! `infrafi simulate --from-node`: the risk simulation starts from a running devnet's state,
//! read over `GET /v1/state/export`, and its starting book is the node's book. And (kept in
//! this test binary, not a new one: each links the whole CLI) a run with `--sensitivity
//! --break-even` writes its report.md beside summary.json with the stress results in it.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use infrafi_api::client::Client;
use serde_json::Value;
use std::process::Command;
use support::*;

/// A devnet on a free loopback port, its credit book bootstrapped (it listens only after),
/// without the keeper so the state holds still while the test compares it.
fn devnet(data_dir: &std::path::Path) -> Devnet {
    support::devnet(data_dir, &["--no-keeper", "--block-time-ms", "200"])
}

fn get(client: &Client, path: &str) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let answer = runtime.block_on(client.get(path)).unwrap();
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    answer.body
}

#[test]
fn a_simulation_from_a_running_devnet_starts_from_the_nodes_loans_and_senior_exposure() {
    let dir = tempfile::tempdir().unwrap();
    let net = devnet(&dir.path().join("data"));
    let client = Client::new(&net.url);

    // The devnet listens once its book is bootstrapped, but a block begun before that can still
    // commit just after (seen under load: export at 11, status at 12). Read the export between
    // two status reads at the same height, so both describe one state; without the keeper or
    // traffic the head stops moving, so a few block times settle it.
    let (export, status) = (0..50)
        .find_map(|_| {
            let before = get(&client, "/v1/status");
            let export = get(&client, "/v1/state/export");
            let after = get(&client, "/v1/status");
            if before["height"] == export["height"] && export["height"] == after["height"] {
                return Some((export, after));
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
            None
        })
        .expect("the devnet's head stops moving without the keeper or traffic");
    assert_eq!(export["encoding"], "postcard");
    assert_eq!(export["state_root"], status["state_root"]);
    let loans = get(&client, "/v1/loans");
    let open = loans["loans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|loan| matches!(loan["status"].as_str(), Some("active" | "defaulted")))
        .count();
    assert!(open >= 2, "the devnet's credit book has open loans: {loans}");
    let vault = get(&client, "/v1/vault");
    let senior: f64 =
        vault["senior_principal"].as_str().unwrap().parse::<u128>().unwrap() as f64 / 1e18;
    assert!(senior > 0.0);

    let out = dir.path().join("out");
    let output = Command::new(BIN)
        .args(["simulate", "--scenario", "base", "--paths", "4", "--seed", "1", "--threads", "2"])
        .args(["--from-node", &net.url])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "simulate failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("the state of {} at height", net.url)), "{stdout}");

    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["paths"], 4);
    assert_eq!(summary["book"]["loans_active"].as_u64().unwrap() as usize, open);
    let simulated = summary["book"]["senior_principal_usd"].as_f64().unwrap();
    assert!((simulated - senior).abs() <= 1e-6 * senior, "{simulated} vs the node's {senior}");
    assert!(summary["loan_months"].as_u64().unwrap() > 0, "the node's loans were simulated");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains(&format!("--from-node {}", net.url)), "{report}");
    assert!(!report.contains("## What breaks it"), "no stress run, no stress section");
}

#[test]
fn a_run_with_sensitivity_and_break_even_writes_one_report_with_the_stress_results() {
    let dir = tempfile::tempdir().unwrap();
    // The base scenario, shrunk so the 1 + 32 runs of the tornado stay short in a debug build.
    let scenario = dir.path().join("small.toml");
    std::fs::write(
        &scenario,
        "extends = \"base\"\nname = \"small-base\"\nhorizon_months = 6\n\
         [book]\nloans = 12\n[holders]\ncount = 2\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = Command::new(BIN)
        .args(["simulate", "--paths", "2", "--seed", "3", "--threads", "2"])
        .arg("--scenario")
        .arg(&scenario)
        .args(["--sensitivity", "--break-even", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "simulate failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in [
        "summary.json",
        "sensitivity.json",
        "break_even.json",
        "nav_fan.png",
        "tornado_senior_loss.png",
        "tornado_apy.svg",
    ] {
        assert!(out.join(file).is_file(), "{file} written: {stdout}");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.starts_with("# Risk report: small-base"), "{report}");
    assert!(report.contains("--paths 2 --seed 3"), "the command that reproduces it");
    assert!(report.contains("--sensitivity --break-even"));
    assert!(report.contains("## What moves it") && report.contains("## What breaks it"));
    assert!(report.contains("![tornado senior loss](tornado_senior_loss.png)"));
    assert!(report.contains("![nav fan](nav_fan.png)"));
    // The figures are the JSON files' own.
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let sensitivity: Value =
        serde_json::from_slice(&std::fs::read(out.join("sensitivity.json")).unwrap()).unwrap();
    assert_eq!(sensitivity["base"]["apy_p50"], summary["susdai_apy"]["p50"]);
    let tornado_lines = report
        .lines()
        .skip_while(|l| !l.starts_with("## What moves it"))
        .take_while(|l| !l.starts_with("## What breaks it"))
        .filter(|l| l.starts_with('|'))
        .count();
    let knobs = sensitivity["rows"].as_array().unwrap().len();
    assert_eq!(tornado_lines, knobs + 2, "a header, a rule and one row per parameter");
    let headline = summary["headline"].as_array().unwrap();
    assert!(headline.iter().any(|e| e["name"] == "senior loss p99"), "{headline:?}");
}

#[test]
fn a_simulation_from_an_address_where_no_node_answers_fails_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bind one, learn it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let output = Command::new(BIN)
        .args(["simulate", "--paths", "1", "--from-node", &format!("http://127.0.0.1:{port}")])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot read the state of the node"), "{stderr}");
    assert!(!dir.path().join("summary.json").exists());
}
