//! The wallet app in a real browser: a devnet on loopback, headless Chromium driven by
//! Playwright (`tests/app/run.mjs`), and a test wallet injected as an EIP-1193 provider that
//! signs with viem's local account outside the page. A depositor goes through mint, stake,
//! request, bid, round and claim in the page with every balance shown equal to the API's; a
//! borrower repays a due loan; a refused action shows the node's code; a declined signature
//! sends nothing. The depositor commits a sealed bid (commitment by viem's keccak in the page,
//! salt kept in the browser under a warning) and reveals it in the window, then lists the
//! request; another depositor buys it from the listings table; a curator proposes a loan from
//! receipts ticked in a table, with the node's previewed schedule. Screenshots land in
//! `test-output/app/`. Then `tests/app/typecheck.mjs` generates a TypeScript client from the
//! same node's `/openapi.json` with openapi-typescript and type-checks the app's API calls
//! against it (the wallet app, the pages and the shell; a probe must fail, so the check is known to bite). Skipped, with a printed reason, only
//! when node, npm or chromium is missing (`.ci/run` installs chromium first).

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use std::path::Path;
use support::*;

#[test]
fn a_depositor_and_a_borrower_act_from_a_browser_wallet_and_see_the_api_figures() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = browser_tools_missing(&chromium);
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED wallet app browser test: {missing:?} not found (install Debian's `chromium` \
             and Node.js; .ci/run does)"
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let project = root.join("tests/app");
    npm_ci(&project, "openapi-typescript");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let net = devnet(&data, &["--block-time-ms", "500"]);
    let output_dir = root.join("test-output/app");
    let keys = data.join("keys");
    let summary = run_browser_script(
        &project,
        &chromium,
        &[net.url.as_ref(), output_dir.as_ref(), keys.as_ref()],
        "wallet app browser test",
    );
    let steps: Vec<&str> =
        summary["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    for step in ["connect", "mint", "stake", "request", "bid", "round", "claim"] {
        assert!(steps.contains(&step), "{step} missing from {steps:?}");
    }
    for step in [
        "sealed bid committed and revealed in the window",
        "listing bought from the table",
        "curator proposes a loan from chosen receipts",
        "borrower repays a due loan",
    ] {
        assert!(steps.contains(&step), "{step} missing from {steps:?}");
    }
    assert!(summary["sealed_commitment"].as_str().is_some_and(|c| c.len() == 66), "{summary}");
    assert!(summary["proposed_loan"].is_u64(), "{summary}");
    assert_eq!(summary["rejected_code"], "balance_insufficient");
    assert!(summary["balances_checked"].as_u64().unwrap() >= 20, "{summary}");
    assert!(summary["signatures"].as_u64().unwrap() >= 7, "{summary}");
    for screenshot in summary["screenshots"].as_array().unwrap() {
        assert!(Path::new(screenshot.as_str().unwrap()).exists(), "{screenshot}");
    }

    // The typed API: a client generated from this node's /openapi.json, the app checked against it.
    let output = std::process::Command::new("node")
        .arg("typecheck.mjs")
        .args([net.url.as_ref(), output_dir.as_os_str()])
        .current_dir(&project)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the wallet app does not type-check against the generated client: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let typecheck: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(typecheck["ok"], true, "{typecheck}");
    assert_eq!(typecheck["app_diagnostics"].as_array().unwrap().len(), 0, "{typecheck}");
    assert_eq!(typecheck["probe_bites"], true, "{typecheck}");
    assert!(typecheck["paths"].as_u64().unwrap() >= 30, "{typecheck}");
    assert!(output_dir.join("openapi.d.ts").exists());
    eprintln!(
        "typecheck: {} paths, client of {} lines generated in {} ms, app checked in {} ms",
        typecheck["paths"],
        typecheck["client_lines"],
        typecheck["generated_ms"],
        typecheck["check_ms"]
    );
}
