//! Shared by the CLI's end-to-end tests: the devnet's signers by role ([`Actor`]), a devnet
//! child process on a free loopback port, and running the `infrafi` binary. Each test binary
//! uses a different part of this module.
#![allow(dead_code, unreachable_pub)]

use infrafi_core::Address;
use infrafi_tx::SigningKey;
use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Output, Stdio},
};

/// Who signs in the CLI suites: the devnet's demo actors by the role they hold there
/// (crates/cli/src/devnet.rs `ACTORS`), so no suite spells an actor's name itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// Admin.
    Admin,
    /// Gateway attestor: credits deposits.
    Attestor,
    /// KYC registrar.
    KycRegistrar,
    /// Curator of the first silo.
    Curator,
    /// Custodian: issues hardware receipts.
    Custodian,
    Appraiser,
    Insurer,
    /// Liquidation agent.
    Liquidator,
    /// Price oracle: also posts the rental indices.
    Oracle,
    /// Users with USDC and no role.
    Alice,
    Dave,
}

/// The one key table of the CLI suites: each actor's devnet name. `infrafi devnet` writes its
/// keystore to `<data>/keys/<name>.json` (`infrafi testnet` to `<out>/keys/<name>.json`); its
/// key is `SigningKey::from_seed("infrafi-devnet/<name>")`.
const ACTORS: [(Actor, &str); 11] = [
    (Actor::Admin, "admin"),
    (Actor::Attestor, "attestor"),
    (Actor::KycRegistrar, "kyc"),
    (Actor::Curator, "northwind"),
    (Actor::Custodian, "vault_reno"),
    (Actor::Appraiser, "appraiser"),
    (Actor::Insurer, "insurer"),
    (Actor::Liquidator, "liquidator"),
    (Actor::Oracle, "oracle"),
    (Actor::Alice, "alice"),
    (Actor::Dave, "dave"),
];

impl Actor {
    /// The actor's name in the devnet.
    pub fn name(self) -> &'static str {
        ACTORS.iter().find(|(actor, _)| *actor == self).unwrap().1
    }

    /// The actor's keystore among the `keys` a devnet or testnet wrote, as a CLI argument.
    pub fn keystore(self, keys: &Path) -> String {
        keys.join(format!("{}.json", self.name())).display().to_string()
    }

    pub fn address(self) -> Address {
        SigningKey::from_seed(&format!("infrafi-devnet/{}", self.name())).address()
    }
}

/// The `infrafi` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_infrafi");

/// A running devnet; killed when dropped.
pub struct Devnet {
    pub child: Child,
    /// Its API base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `infrafi devnet --port 0 --data-dir <data_dir> <extra>` and waits until it listens
/// (the devnet prints `listening on <url>` once its bootstrap market is committed).
pub fn devnet(data_dir: &Path, extra: &[&str]) -> Devnet {
    let mut child = Command::new(BIN)
        .args(["devnet", "--port", "0"])
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("listening on"), "{first}");
    let url = first.split_whitespace().last().unwrap().to_string();
    // Keep draining the banner so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Devnet { child, url }
}

/// The password of the keystores the tests create (`INFRAFI_KEYSTORE_PASSWORD`).
pub const KEYSTORE_PASSWORD: &str = "test keystore password";

/// Runs `infrafi <args>`, with the tests' keystore password in its environment.
pub fn cli(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env("INFRAFI_KEYSTORE_PASSWORD", KEYSTORE_PASSWORD)
        .output()
        .unwrap()
}

/// Runs `infrafi <args>`, requires success, and returns its standard output.
pub fn cli_ok(args: &[&str]) -> String {
    let output = cli(args);
    assert!(
        output.status.success(),
        "infrafi {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The browser tests' tools that are missing (node, npm, Chromium), by name; `chromium` is the
/// browser's path.
pub fn browser_tools_missing(chromium: &str) -> Vec<&'static str> {
    let available =
        |tool: &str| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    [("node", "node"), ("npm", "npm"), ("chromium", chromium)]
        .into_iter()
        .filter(|(_, tool)| !available(tool))
        .map(|(name, _)| name)
        .collect()
}

/// Runs a browser test's Playwright script (`run.mjs` in `project`) with `args` and Chromium at
/// `chromium`, asserts it succeeded and reported `ok`, and returns the summary it printed.
pub fn run_browser_script(
    project: &Path,
    chromium: &str,
    args: &[&std::ffi::OsStr],
    what: &str,
) -> serde_json::Value {
    let output = Command::new("node")
        .arg("run.mjs")
        .args(args)
        .env("CHROMIUM", chromium)
        .current_dir(project)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{what} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["ok"], true);
    summary
}

/// Installs the npm project at `project` (`npm ci`) unless `marker` is already installed.
pub fn npm_ci(project: &Path, marker: &str) {
    if project.join("node_modules").join(marker).exists() {
        return;
    }
    let install = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(project)
        .output()
        .unwrap();
    assert!(install.status.success(), "npm ci: {}", String::from_utf8_lossy(&install.stderr));
}
