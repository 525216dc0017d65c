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
    Action, Address, Amount, Genesis, Role,
    ids::{B256, USDC, USDT},
    math::Rate,
};
use infrafi_node::{Node, NodeConfig};
use infrafi_tx::SigningKey;
use std::{path::PathBuf, sync::Arc, time::Duration};

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
}

/// The demo actors: name and the roles it holds at genesis.
pub(crate) const ACTORS: &[(&str, &[Role])] = &[
    ("admin", &[Role::Admin]),
    ("guardian", &[Role::Guardian]),
    ("compliance", &[Role::Compliance]),
    ("attestor", &[Role::GatewayAttestor]),
    ("kyc", &[Role::KycRegistrar]),
    ("oracle", &[Role::Oracle]),
    ("keeper", &[]),
    ("alice", &[]),
    ("bob", &[]),
    ("carol", &[]),
    ("dave", &[]),
];

/// The key of a demo actor.
pub(crate) fn actor(name: &str) -> SigningKey {
    SigningKey::from_seed(&format!("infrafi-devnet/{name}"))
}

fn whole(n: u128) -> Amount {
    Amount::from_whole(n)
}

/// The demo genesis at `timestamp`.
pub(crate) fn genesis(timestamp: u64) -> Genesis {
    let mut genesis = Genesis::with_admin(actor("admin").address(), timestamp);
    genesis.params.kyc_required = true;
    genesis.roles = ACTORS
        .iter()
        .flat_map(|(name, roles)| roles.iter().map(move |role| (*role, actor(name).address())))
        .collect();
    genesis.tbill_rate = Rate::from_apr_bps(450);
    genesis.stablecoin_balances = vec![
        (actor("alice").address(), USDC, whole(300_000)),
        (actor("bob").address(), USDT, whole(150_000)),
        (actor("carol").address(), USDC, whole(60_000)),
        (actor("dave").address(), USDC, whole(25_000)),
    ];
    genesis
}

/// The bootstrap transactions, in order, as (actor, action).
pub(crate) fn bootstrap() -> Vec<(&'static str, Action)> {
    let kyc = |name: &str| Action::SetKyc { account: actor(name).address(), verified: true };
    let mint = |token, n| Action::MintUsdai { token, amount: whole(n), min_out: Amount::ZERO };
    let stake = |n| Action::Stake { assets: whole(n), min_shares: Amount::ZERO };
    let request = |n| Action::RequestRedeem { shares: whole(n) };
    vec![
        ("kyc", kyc("alice")),
        ("kyc", kyc("bob")),
        ("kyc", kyc("carol")),
        (
            "attestor",
            Action::GatewayCredit {
                account: actor("dave").address(),
                token: USDC,
                amount: whole(5_000),
                external_id: B256::from(alloy_primitives::keccak256("devnet/deposit/1")),
            },
        ),
        ("alice", mint(USDC, 250_000)),
        ("alice", stake(200_000)),
        ("bob", mint(USDT, 100_000)),
        ("bob", stake(80_000)),
        ("bob", request(20_000)),
        ("carol", mint(USDC, 50_000)),
        ("carol", stake(40_000)),
        ("carol", request(10_000)),
        ("carol", request(5_000)),
    ]
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn write_keys(data_dir: &std::path::Path) -> Result<Vec<(String, Address, PathBuf)>> {
    let mut written = Vec::new();
    for (name, _) in ACTORS {
        let path = data_dir.join("keys").join(format!("{name}.json"));
        if !path.exists() {
            wallet::save_key(&path, &actor(name))?;
        }
        written.push((name.to_string(), actor(name).address(), path));
    }
    Ok(written)
}

/// `infrafi devnet`.
pub(crate) fn run(args: DevnetArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir)?;
    let keys = write_keys(&args.data_dir)?;
    let mut config = NodeConfig::new(node_cmd::CHAIN_ID_DEFAULT, args.data_dir.clone());
    config.block_time = Duration::from_millis(args.block_time_ms.max(1));
    config.devnet = true;
    config.keeper = (!args.no_keeper).then(|| actor("keeper"));
    let node = Arc::new(Node::start(config, Some(&genesis(unix_now()))).context("starting")?);
    let fresh = node.snapshot().header.height == 0;
    if fresh {
        let mut nonces = std::collections::BTreeMap::<&str, u64>::new();
        for (name, action) in bootstrap() {
            let nonce = nonces.entry(name).or_default();
            node.submit(actor(name).sign(node_cmd::CHAIN_ID_DEFAULT, *nonce, &action))
                .with_context(|| format!("bootstrap transaction of {name}"))?;
            *nonce += 1;
        }
    }
    let data_dir = args.data_dir.display().to_string();
    node_cmd::serve(node, &args.host, args.port, move |address| {
        println!("infrafi devnet listening on http://{address}");
        println!("chain id {}, data in {data_dir}", node_cmd::CHAIN_ID_DEFAULT);
        for (name, address, path) in &keys {
            println!("  {name:<10} {address}  {}", path.display());
        }
        println!(
            "move time: curl -X POST http://{address}/v1/devnet/advance-time -H 'content-type: application/json' -d '{{\"seconds\":86400}}'"
        );
    })
}
