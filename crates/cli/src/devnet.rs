//! `infrafi devnet`: a node with a demo market, its actors' keys in the data directory, the
//! built-in keeper on, and time that can be moved forward.
//!
//! The market is made in two steps: the genesis (roles, stablecoin holdings, prices, T-bill
//! yield) and, on the first start only, bootstrap transactions signed by the actors themselves
//! (KYC, gateway credit, mint, stake, redemption requests), so the demo history is ordinary
//! blocks anyone can audit. Keys are derived from public seeds (`infrafi-devnet/<name>`):
//! they are for development only, like Anvil's.

use crate::{node_cmd, wallet};
use anyhow::{Context, Result};
use infrafi_core::{
    Action, Address, Amount, AssetClassId, Genesis, Role, State,
    ids::{USDC, USDT},
    math::{Bps, Rate},
};
use infrafi_node::{Node, NodeConfig};
use infrafi_tx::SigningKey;
use std::{path::PathBuf, sync::Arc, time::Duration};

mod bootstrap;
pub(crate) use bootstrap::bootstrap;

/// `infrafi devnet`.
#[derive(clap::Args, Debug)]
pub(crate) struct DevnetArgs {
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8545)]
    pub(crate) port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// Where the store and the actors' keys live.
    #[arg(long, default_value = "devnet-data")]
    pub(crate) data_dir: PathBuf,
    /// Milliseconds between blocks.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) block_time_ms: u64,
    /// Do not run the built-in keeper.
    #[arg(long)]
    pub(crate) no_keeper: bool,
    /// Seconds of block time between history samples (`GET /v1/history`).
    #[arg(long, default_value_t = infrafi_node::history::HISTORY_INTERVAL_SECS_DEFAULT)]
    pub(crate) history_interval_secs: u64,
    /// Mebibytes of store pages kept in memory (the store's page cache; docs/node.md).
    #[arg(long, default_value_t = infrafi_store::CACHE_BYTES_DEFAULT / node_cmd::MIB)]
    pub(crate) store_cache_mib: usize,
    #[command(flatten)]
    pub(crate) limits: node_cmd::ServeLimits,
}

/// The demo actors: name and the roles it holds at genesis.
pub(crate) const ACTORS: &[(&str, &[Role])] = &[
    ("admin", &[Role::Admin]),
    ("guardian", &[Role::Guardian]),
    ("compliance", &[Role::Compliance]),
    ("attestor", &[Role::GatewayAttestor]),
    ("kyc", &[Role::KycRegistrar]),
    ("oracle", &[Role::Oracle]),
    ("treasury", &[Role::ReserveCustodian]),
    ("keeper", &[]),
    ("alice", &[]),
    ("bob", &[]),
    ("carol", &[]),
    ("dave", &[]),
    ("erin", &[]),
    // The credit book: two curators, two custodians, an appraiser, an insurer, a
    // liquidation agent and four borrowers (GPU operators).
    ("northwind", &[Role::Curator]),
    ("meridian", &[Role::Curator]),
    ("vault_reno", &[Role::Custodian]),
    ("vault_dallas", &[Role::Custodian]),
    ("appraiser", &[Role::Appraiser]),
    ("insurer", &[Role::Insurer]),
    ("liquidator", &[Role::LiquidationAgent]),
    ("monitor", &[Role::Monitor]),
    ("op_atlas", &[]),
    ("op_boreal", &[]),
    ("op_cirrus", &[]),
    ("op_delta", &[]),
];

/// The key of a demo actor.
pub(crate) fn actor(name: &str) -> SigningKey {
    SigningKey::from_seed(&format!("infrafi-devnet/{name}"))
}

fn whole(n: u128) -> Amount {
    Amount::from_whole(n)
}

const DAY: u64 = 86_400;

/// The demo genesis at `timestamp`.
pub(crate) fn genesis(timestamp: u64) -> Genesis {
    let mut genesis = Genesis::with_admin(actor("admin").address(), timestamp);
    genesis.params.kyc_required = true;
    // USDai is issued only against the reserve custodian's fresh attestations (issue 16).
    genesis.params.reserve_attestation_required = true;
    // The gateway's per-hour limits (issue 16): the bootstrap's 5.7 million of mints fit in
    // the first hour; a run on USDai passes at 2 million an hour.
    genesis.params.mint_limit_per_hour = whole(10_000_000);
    genesis.params.redeem_limit_per_hour = whole(2_000_000);
    // One account takes at most half of each: alice's 2.5 million leaves room for everyone.
    genesis.params.rate_limit_account_share_bps = Bps(5_000);
    genesis.roles = ACTORS
        .iter()
        .flat_map(|(name, roles)| roles.iter().map(move |role| (*role, actor(name).address())))
        .collect();
    genesis.tbill_rate = Rate::from_apr_bps(450);
    genesis.stablecoin_balances = vec![
        (actor("alice").address(), USDC, whole(3_000_000)),
        (actor("bob").address(), USDT, whole(1_500_000)),
        (actor("carol").address(), USDC, whole(600_000)),
        (actor("dave").address(), USDC, whole(25_000)),
        (actor("erin").address(), USDC, whole(400_000)),
        (actor("northwind").address(), USDC, whole(600_000)),
        (actor("meridian").address(), USDC, whole(600_000)),
        (actor("op_atlas").address(), USDC, whole(150_000)),
        (actor("op_boreal").address(), USDC, whole(150_000)),
        (actor("op_cirrus").address(), USDC, whole(150_000)),
        (actor("op_delta").address(), USDC, whole(150_000)),
        // The insurer pays residual-value claims, the liquidation agent's buyers pay it.
        (actor("insurer").address(), USDC, whole(150_000)),
        (actor("liquidator").address(), USDC, whole(150_000)),
    ];
    genesis
}

fn class(name: &str) -> AssetClassId {
    AssetClassId::new(name).unwrap_or_else(|| unreachable!("`{name}` is a valid class id"))
}

/// GPU classes: id, new price per unit, annual depreciation.
const CLASSES: &[(&str, u128, u32)] =
    &[("gpu.a100", 10_000, 2_500), ("gpu.h100-sxm", 30_000, 2_000), ("gpu.h200", 35_000, 1_800)];

/// The receipts: class, units, custodian, owner, appraised value (whole USD).
const RECEIPTS: &[(&str, u32, &str, &str, u128)] = &[
    ("gpu.a100", 64, "vault_reno", "op_atlas", 520_000),
    ("gpu.h100-sxm", 16, "vault_reno", "op_atlas", 400_000),
    ("gpu.h100-sxm", 16, "vault_reno", "op_atlas", 400_000),
    ("gpu.a100", 48, "vault_dallas", "op_cirrus", 380_000),
    ("gpu.h100-sxm", 24, "vault_dallas", "op_cirrus", 600_000),
    ("gpu.h100-sxm", 24, "vault_reno", "op_boreal", 600_000),
    ("gpu.h200", 8, "vault_reno", "op_boreal", 260_000),
    ("gpu.h200", 16, "vault_dallas", "op_delta", 520_000),
    ("gpu.h200", 8, "vault_dallas", "op_delta", 260_000),
    ("gpu.h100-sxm", 8, "vault_reno", "op_atlas", 200_000),
    ("gpu.a100", 32, "vault_reno", "op_atlas", 260_000),
    ("gpu.h200", 8, "vault_dallas", "op_boreal", 260_000),
    ("gpu.a100", 16, "vault_dallas", "op_cirrus", 130_000),
    ("gpu.h100-sxm", 8, "vault_dallas", "op_delta", 200_000),
    ("gpu.a100", 24, "vault_reno", "op_cirrus", 200_000),
];

/// The demo loans: silo curator, borrower, receipts (indexes into [`RECEIPTS`]), senior and
/// junior (whole USD), the bootstrap stage it is originated in (`None`: left proposed).
/// A demo loan: curator, borrower, receipts, senior, junior, stage originated.
type DemoLoan = (&'static str, &'static str, &'static [u64], u128, u128, Option<usize>);

const LOANS: &[DemoLoan] = &[
    ("northwind", "op_atlas", &[0, 1, 2], 700_000, 120_000, Some(0)),
    ("meridian", "op_boreal", &[5, 6], 450_000, 80_000, Some(0)),
    ("northwind", "op_cirrus", &[3, 4], 500_000, 90_000, Some(1)),
    ("meridian", "op_delta", &[7, 8], 420_000, 70_000, Some(1)),
    ("northwind", "op_atlas", &[9, 10], 250_000, 50_000, Some(2)),
    ("northwind", "op_cirrus", &[14], 120_000, 20_000, Some(2)),
    ("meridian", "op_boreal", &[11], 120_000, 30_000, None),
];

/// The USDai the first stage mints (whole USD): the reserve the treasury attests before it.
const STAGE_ZERO_MINTS_WHOLE: u128 = 5_900_000;

/// Days moved forward after each bootstrap stage: loans age, rounds run, one loan falls late.
pub(crate) const STAGE_ADVANCE_DAYS: &[u64] = &[29, 29, 10];
/// The loan left late (its first payment missed, still within grace).
pub(crate) const LATE_LOAN: u64 = 2;
/// The loan put in margin call (a lower appraisal, then a re-mark).
pub(crate) const MARGIN_CALL_LOAN: u64 = 3;
/// The loan whose missed payment its debt-service reserve paid: meridian's silo requires a
/// reserve of one payment, the borrower skips its second payment, the keeper draws the
/// reserve, and the loan is breached (its reserve below the requirement) until refilled.
pub(crate) const RESERVE_DRAWN_LOAN: u64 = 1;
/// Hardware presence (issue 16): the H200 class is monitored; a receipt's newest attestation
/// may be 30 days old (longer than any bootstrap step, so the keeper's re-marks between stages
/// find the pledged receipts present).
pub(crate) const PRESENCE_CLASS: &str = "gpu.h200";
const PRESENCE_LIMIT_SECS: u64 = 30 * DAY;
/// The receipt whose monitor lapsed: attested in the first two stages only, it is stale by the
/// last, so the loan proposed against it cannot be accepted (`receipt_presence_stale`).
pub(crate) const PRESENCE_LAPSED_RECEIPT: u64 = 11;
/// Residual-value insurance (issue 16): the loan liquidated below its receipt's insured
/// floor. Originated in stage 2 with weekly payments and two days of grace, it pays nothing,
/// the keeper defaults it after the last time step, and in the last stage northwind forecloses
/// it, the liquidation agent sells the receipt for [`LIQUIDATED_SALE_GROSS_WHOLE`] and the
/// insurer pays the floor less the net; the loan settles and `/v1/recoveries` has its row.
pub(crate) const LIQUIDATED_LOAN: u64 = 5;
/// The liquidated loan's receipt and its insured floor (whole USD; covered for 200,000).
pub(crate) const LIQUIDATED_RECEIPT: u64 = 14;
const LIQUIDATED_FLOOR_WHOLE: u128 = 120_000;
/// What the liquidation agent's buyer paid for the receipt's 24 A100s (whole USD).
const LIQUIDATED_SALE_GROSS_WHOLE: u128 = 90_000;
/// The last stage the lapsed receipt's monitor attested in.
const PRESENCE_LAPSED_AFTER_STAGE: usize = 1;
/// Meridian's covenants for its silo's loans: a reserve of one payment, a report a quarter.
const MERIDIAN_RESERVE_PERIODS: u32 = 1;
const MERIDIAN_REPORT_INTERVAL_SECS: u64 = 90 * DAY;

/// One action of the demo market's making on the core alone (see [`demo_market`]).
pub(crate) struct DemoStep {
    /// The block it ran in (1, 2, ..).
    pub(crate) block: u64,
    /// When.
    pub(crate) timestamp: u64,
    /// Which demo actor sent it.
    pub(crate) actor: &'static str,
    /// What it did.
    pub(crate) action: Action,
    /// Whether the core accepted it (a keeper action can find nothing left to do).
    pub(crate) accepted: bool,
}

/// Seconds of history the demo market has: its bootstrap stages and the time between them.
pub(crate) fn demo_market_secs() -> u64 {
    STAGE_ADVANCE_DAYS.iter().sum::<u64>() * DAY
}

/// The devnet's demo market made on the core alone, deterministically, from the devnet's
/// genesis at `start`: each bootstrap stage's actions at its time (as the devnet's node submits
/// them), and after each time step the keeper's upkeep (as the devnet's built-in keeper sends
/// it), in blocks numbered 1, 2, .. Ends at `start + demo_market_secs()`.
pub(crate) fn demo_market(start: u64) -> Result<(State, Vec<DemoStep>)> {
    use infrafi_core::{BlockContext, Transaction, apply};
    let mut state = State::from_genesis(&genesis(start)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut steps = Vec::new();
    let mut block = 0;
    let mut now = start;
    let next = |block: &mut u64| {
        *block += 1;
        *block
    };
    for stage in 0..=STAGE_ADVANCE_DAYS.len() {
        let context = BlockContext { height: next(&mut block), timestamp: now };
        for (actor, action) in bootstrap(stage, &state.clone()) {
            let tx = Transaction { sender: devnet_address(actor), action: action.clone() };
            apply(&mut state, &context, &tx).map_err(|e| {
                anyhow::anyhow!("demo stage {stage}: {} by {actor} rejected: {e}", action.name())
            })?;
            steps.push(DemoStep {
                block: context.height,
                timestamp: now,
                actor,
                action,
                accepted: true,
            });
        }
        if let Some(days) = STAGE_ADVANCE_DAYS.get(stage) {
            now += days * DAY;
            let context = BlockContext { height: next(&mut block), timestamp: now };
            infrafi_core::begin_block(&mut state, &context).map_err(|e| anyhow::anyhow!("{e}"))?;
            for action in infrafi_node::keeper::due_actions(&state) {
                let tx = Transaction { sender: devnet_address("keeper"), action: action.clone() };
                let accepted = apply(&mut state, &context, &tx).is_ok();
                steps.push(DemoStep {
                    block: context.height,
                    timestamp: now,
                    actor: "keeper",
                    action,
                    accepted,
                });
            }
        }
    }
    Ok((state, steps))
}

fn devnet_address(name: &str) -> Address {
    actor(name).address()
}

/// The devnet's demo market as a genesis history ending at `genesis_time` (see
/// [`demo_market`]; the keeper's rejected attempts are left out); the genesis it applies to is
/// [`genesis`]`(genesis_time - demo_market_secs())`. Returns that genesis and the history, with
/// the state root it gives.
pub(crate) fn demo_genesis(genesis_time: u64) -> Result<(Genesis, infrafi_node::GenesisHistory)> {
    let start = genesis_time
        .checked_sub(demo_market_secs())
        .context("the genesis time is before the demo market's history")?;
    let (_, steps) = demo_market(start)?;
    let mut history = infrafi_node::GenesisHistory {
        state_root: None,
        actions: steps
            .into_iter()
            .filter(|step| step.accepted)
            .map(|step| infrafi_node::HistoryAction {
                block: step.block,
                timestamp: step.timestamp,
                sender: devnet_address(step.actor),
                action: step.action,
            })
            .collect(),
    };
    let genesis = genesis(start);
    let mut state = history.genesis_state(&genesis)?;
    let (tree, _) = infrafi_node::chain::tree_of(&mut state);
    history.state_root = Some(tree.root());
    Ok((genesis, history))
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub(crate) fn write_keys(data_dir: &std::path::Path) -> Result<Vec<(String, Address, PathBuf)>> {
    let mut written = Vec::new();
    for (name, _) in ACTORS {
        let path = data_dir.join("keys").join(format!("{name}.json"));
        if !path.exists() {
            wallet::save_devnet_key(&path, &actor(name))?;
        }
        written.push((name.to_string(), actor(name).address(), path));
    }
    Ok(written)
}

/// Submits `txs` (signed with each actor's next nonce) and waits until all are committed.
fn submit_and_wait(node: &Node, txs: Vec<(&'static str, Action)>) -> Result<()> {
    let mut hashes = Vec::with_capacity(txs.len());
    let mut nonces = std::collections::BTreeMap::<&str, u64>::new();
    for (name, action) in txs {
        let key = actor(name);
        let nonce = nonces.entry(name).or_insert_with(|| node.next_nonce(key.address()));
        let hash = node
            .submit(key.sign(node_cmd::CHAIN_ID_DEFAULT, *nonce, &action))
            .with_context(|| format!("bootstrap transaction {} of {name}", action.name()))?;
        *nonce += 1;
        hashes.push((name, action.name(), hash));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while hashes.iter().any(|(_, _, hash)| node.is_pending(hash)) {
        if std::time::Instant::now() > deadline || !node.is_running() {
            anyhow::bail!("the bootstrap transactions were not committed");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    for (name, action, hash) in hashes {
        if let Some(receipt) = node.receipt(&hash)?
            && let Some(error) = receipt.error
        {
            tracing::warn!(name, action, code = error.code, "bootstrap transaction rejected");
        }
    }
    Ok(())
}

/// The first start: the demo market's history, stage by stage, with time moved forward
/// between stages so loans age, pay and fall late as a real book would. With a keeper, each
/// stage waits until the keeper has defaulted every loan due (the next stage liquidates one);
/// without one, the stage defaults it itself (`bootstrap::liquidation_below_the_floor`).
fn run_bootstrap(node: &Node, with_keeper: bool) -> Result<()> {
    for stage in 0..=STAGE_ADVANCE_DAYS.len() {
        let state = node.snapshot().state.clone();
        submit_and_wait(node, bootstrap(stage, &state))?;
        if let Some(days) = STAGE_ADVANCE_DAYS.get(stage) {
            let before = node.snapshot().header.timestamp;
            node.advance_time(days * DAY);
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while node.snapshot().header.timestamp < before + days * DAY {
                if std::time::Instant::now() > deadline {
                    anyhow::bail!("time did not move forward");
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let defaults_due = |node: &Node| {
                infrafi_node::keeper::due_actions(&node.snapshot().state)
                    .iter()
                    .any(|action| matches!(action, Action::TriggerDefault(_)))
            };
            while with_keeper && defaults_due(node) {
                if std::time::Instant::now() > deadline || !node.is_running() {
                    anyhow::bail!("the keeper did not default the loans due");
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    Ok(())
}

/// `infrafi devnet`.
pub(crate) fn run(args: DevnetArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir)?;
    let keys = write_keys(&args.data_dir)?;
    let mut config = NodeConfig::new(node_cmd::CHAIN_ID_DEFAULT, args.data_dir.clone());
    config.block_time = Duration::from_millis(args.block_time_ms.max(1));
    config.devnet = true;
    config.history_interval_secs = args.history_interval_secs.max(1);
    config.store_cache_bytes = args.store_cache_mib.saturating_mul(node_cmd::MIB);
    config.keeper = (!args.no_keeper).then(|| actor("keeper"));
    let node = Arc::new(Node::start(config, Some(&genesis(unix_now()))).context("starting")?);
    if node.snapshot().header.height == 0 {
        run_bootstrap(&node, !args.no_keeper)?;
    }
    let data_dir = args.data_dir.display().to_string();
    node_cmd::serve(node, &args.host, args.port, &args.limits.config(), move |address| {
        println!("infrafi devnet listening on http://{address}");
        println!("chain id {}, data in {data_dir}", node_cmd::CHAIN_ID_DEFAULT);
        for (name, address, path) in &keys {
            println!("  {name:<10} {address}  {}", path.display());
        }
        println!(
            "credit book: loan {LATE_LOAN} is late, loan {MARGIN_CALL_LOAN} is in margin call, loan {RESERVE_DRAWN_LOAN}'s debt-service reserve paid its missed payment (breached until refilled); see /v1/loans"
        );
        println!(
            "residual-value insurance: loan {LIQUIDATED_LOAN} was liquidated below its receipt {LIQUIDATED_RECEIPT}'s insured floor and the insurer paid the difference; see /v1/loans/{LIQUIDATED_LOAN} (recovery) and /v1/recoveries"
        );
        println!(
            "hardware presence: {PRESENCE_CLASS} is monitored (30 days); receipt {PRESENCE_LAPSED_RECEIPT}'s monitor lapsed, so the loan proposed against it cannot be accepted (receipt_presence_stale); see /v1/receipts/{PRESENCE_LAPSED_RECEIPT}"
        );
        println!(
            "reserve: attested at the last bootstrap stage; after {} days it is stale and mints are refused (reserve_attestation_is_stale), redemptions are not",
            infrafi_core::Params::default().reserve_attestation_max_age_secs / DAY
        );
        println!(
            "move time: curl -X POST http://{address}/v1/devnet/advance-time -H 'content-type: application/json' -d '{{\"seconds\":86400}}'"
        );
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests;
