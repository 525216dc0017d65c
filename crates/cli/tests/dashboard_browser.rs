//! The dashboard in a real browser: a devnet on loopback, headless Chromium driven by
//! Playwright (`tests/dashboard/run.mjs`). Every page opens, its figures equal the API's at
//! the block they name, a transaction submitted with the CLI appears without a reload, and a
//! screenshot of each page at a laptop and a phone width lands in `test-output/dashboard/`.
//! Then the node is killed and started again on its data directory: the history charts are
//! drawn with the points it sampled before the restart; last, a late loan is defaulted and
//! foreclosed with the CLI and its page shows the liquidation (agent, sale deadline, who may
//! act next) as the API does, before and after the deadline.
//! Skipped, with a printed reason, only when node, npm or chromium is missing (`.ci/run`
//! installs chromium first).

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use std::path::Path;
use support::*;

fn devnet(data_dir: &Path) -> Devnet {
    support::devnet(data_dir, &["--block-time-ms", "500"])
}

#[test]
fn the_dashboard_shows_the_api_figures_and_live_updates_in_headless_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = browser_tools_missing(&chromium);
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED dashboard browser test: {missing:?} not found (install Debian's `chromium` \
             and Node.js; .ci/run does)"
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let project = root.join("tests/dashboard");
    npm_ci(&project, "playwright-core");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let net = devnet(&data);
    let output_dir = root.join("test-output/dashboard");
    let keys = data.join("keys");
    let summary = run_browser_script(
        &project,
        &chromium,
        &[net.url.as_ref(), output_dir.as_ref(), BIN.as_ref(), keys.as_ref()],
        "dashboard browser test",
    );
    assert_eq!(summary["pages"].as_array().unwrap().len(), 6);
    assert!(summary["figures_checked"].as_u64().unwrap() >= 13, "{summary}");
    for screenshot in summary["screenshots"].as_array().unwrap() {
        assert!(Path::new(screenshot.as_str().unwrap()).exists(), "{screenshot}");
    }
    assert!(summary["live"]["tx_hash"].is_string());

    // History survives a restart: SIGKILL (no shutdown path runs), start on the same data
    // directory, and the series read back over the same range are the ones served before.
    let index: serde_json::Value =
        serde_json::from_str(&cli_ok(&["query", "--node", &net.url, "history"])).unwrap();
    let latest = index["latest_at"].as_u64().unwrap();
    let (from, latest_at) = (latest.saturating_sub(90 * 86_400).to_string(), latest.to_string());
    let read_before_restart = |url: &str| -> Vec<serde_json::Value> {
        ["deposit_price", "queue_locked_shares", "clearing_price"]
            .iter()
            .map(|series| {
                let range = ["--from", &from, "--to", &latest_at];
                let args = [&["query", "--node", url, "history", series][..], &range].concat();
                let answer: serde_json::Value = serde_json::from_str(&cli_ok(&args)).unwrap();
                answer["points"].clone()
            })
            .collect()
    };
    let before = read_before_restart(&net.url);
    assert!(before.iter().all(|points| !points.as_array().unwrap().is_empty()), "{before:?}");
    drop(net);
    let net = devnet(&data);
    assert_eq!(read_before_restart(&net.url), before, "history read back after the restart");
    let after = run_browser_script(
        &project,
        &chromium,
        &[
            net.url.as_ref(),
            output_dir.as_ref(),
            BIN.as_ref(),
            keys.as_ref(),
            "after-restart".as_ref(),
            latest_at.as_ref(),
        ],
        "dashboard browser test after a restart",
    );
    for chart in ["price-chart", "apy-chart", "depth-chart", "clearing-chart"] {
        let sampled_before = after["charts"][chart]["sampled_before_restart"].as_u64();
        assert!(sampled_before.is_some_and(|n| n > 0), "{chart}: {after}");
    }
    // Last (it moves the devnet's clock): a liquidation on the loan page, foreclosed, then past
    // its sale deadline (the curator's hand-over refused), a receipt written off.
    let liquidation = &after["liquidation"];
    assert!(liquidation["loan"].is_u64(), "{after}");
    assert_eq!(
        liquidation["deadline_passed"]["sale_deadline_at"],
        liquidation["foreclosed"]["sale_deadline_at"],
        "the curator's refused hand-over did not move the deadline: {after}"
    );
}
