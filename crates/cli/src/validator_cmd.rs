//! `infrafi validator`, `infrafi testnet init|run`: the validator network (docs/validators.md).
//!
//! `testnet init` writes one folder per validator (a fresh ed25519 consensus key, a config with
//! the shared genesis and validator set) plus the devnet actors' keys; `validator` runs one
//! validator (node, API and consensus engine); `testnet run` starts the validators of a folder
//! as child processes and stops them on Ctrl-C.

use crate::{devnet, node_cmd, wallet};
use anyhow::{Context, Result, bail};
use infrafi_api::{client::Client, dto::StateExportDto};
use infrafi_core::{Genesis, State};
use infrafi_node::{BlockHeader, Chain, GenesisHistory, Node, NodeConfig};
use infrafi_validator::{
    Limits, Start, ValidatorConfig, ValidatorEntry, ValidatorSet,
    config::{generate_keys, public_key_hex, read_validator_set, write_key},
    network::{self, Identity},
};
use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

/// The offset of consensus ports from API ports in a testnet folder.
pub(crate) const P2P_PORT_OFFSET: u16 = 100;

/// `infrafi validator`.
#[derive(clap::Args, Debug)]
pub(crate) struct ValidatorArgs {
    /// The validator's configuration file (`testnet init` writes one per validator).
    #[arg(long)]
    pub(crate) config: PathBuf,
    /// Start an empty validator from the newest certified state of this validator's API
    /// (`http://host:port`) instead of replaying every block from genesis. The state is checked
    /// against its block's finalization certificate and the validator set before it is used.
    #[arg(long)]
    pub(crate) state_sync_from: Option<String>,
    /// The mempool's capacity.
    #[arg(long, default_value_t = infrafi_node::MEMPOOL_TXS_MAX_DEFAULT)]
    pub(crate) mempool_txs_max: usize,
    #[command(flatten)]
    pub(crate) limits: node_cmd::ServeLimits,
}

/// `infrafi testnet`.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum TestnetCommand {
    /// Write a testnet folder: keys, configs, genesis and validator set.
    Init(TestnetArgs),
    /// Start the validators of a testnet folder as child processes (initialising it first if
    /// it is empty); Ctrl-C stops them.
    Run(TestnetArgs),
}

/// Where and how big a testnet is.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct TestnetArgs {
    /// How many validators (at least 4 to tolerate one fault).
    #[arg(long, default_value_t = 4)]
    pub(crate) validators: u32,
    /// The folder.
    #[arg(long, default_value = "testnet")]
    pub(crate) out: PathBuf,
    /// Validator i's API listens on base port + i and its consensus network on base port + 100
    /// + i; 0 picks free ports.
    #[arg(long, default_value_t = 8545)]
    pub(crate) base_port: u16,
    /// The chain id.
    #[arg(long, default_value_t = node_cmd::CHAIN_ID_DEFAULT)]
    pub(crate) chain_id: u64,
    /// Milliseconds a leader waits after the last block.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) block_time_ms: u64,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

/// `infrafi testnet init` with the devnet's genesis and demo market: the market's history
/// (the devnet's bootstrap and keeper upkeep) ends at the testnet's genesis time, now.
pub(crate) fn init(args: &TestnetArgs) -> Result<ValidatorSet> {
    let (genesis, history) = devnet::demo_genesis(devnet::unix_now())?;
    init_with(args, &genesis, &history, true)
}

/// The name of a testnet folder's genesis history file.
const GENESIS_HISTORY_FILE: &str = "genesis-history.json";

/// Writes a testnet folder whose validators share `genesis` and its `history` (none if empty;
/// validator 0 runs the devnet's keeper if `keeper`); returns the validator set.
pub(crate) fn init_with(
    args: &TestnetArgs,
    genesis: &Genesis,
    history: &GenesisHistory,
    keeper: bool,
) -> Result<ValidatorSet> {
    if args.validators == 0 {
        bail!("a testnet needs at least one validator (four to tolerate a fault)");
    }
    if args.out.join("validators.json").exists() {
        bail!("{} already holds a testnet; choose another --out", args.out.display());
    }
    std::fs::create_dir_all(&args.out)?;
    // Fresh random keys, in the validator set's order (validator i holds the i-th key).
    let keys = generate_keys(args.validators as usize);
    let mut ports = Vec::new();
    for index in 0..args.validators as u16 {
        let (api, p2p) = match args.base_port {
            0 => (free_port()?, free_port()?),
            base => (base + index, base + P2P_PORT_OFFSET + index),
        };
        ports.push((api, p2p));
    }
    let set = ValidatorSet {
        chain_id: args.chain_id,
        validators: keys
            .iter()
            .zip(&ports)
            .enumerate()
            .map(|(index, (key, (api, p2p)))| ValidatorEntry {
                index: index as u32,
                public_key: public_key_hex(key),
                address: format!("127.0.0.1:{p2p}"),
                api: format!("http://127.0.0.1:{api}"),
            })
            .collect(),
    };
    write_json(&args.out.join("validators.json"), &set)?;
    write_json(&args.out.join("genesis.json"), genesis)?;
    if !history.is_empty() {
        write_json(&args.out.join(GENESIS_HISTORY_FILE), history)?;
    }
    devnet::write_keys(&args.out)?;
    for (index, (key, (api, p2p))) in keys.iter().zip(&ports).enumerate() {
        let folder = args.out.join(format!("v{index}"));
        std::fs::create_dir_all(&folder)?;
        write_key(&folder.join("consensus.key"), key)?;
        let config = ValidatorConfig {
            index: index as u32,
            chain_id: args.chain_id,
            key: "consensus.key".into(),
            data_dir: "data".into(),
            genesis: "../genesis.json".into(),
            genesis_history: (!history.is_empty())
                .then(|| Path::new("..").join(GENESIS_HISTORY_FILE)),
            validators: "../validators.json".into(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, *p2p)),
            api: SocketAddr::from((Ipv4Addr::LOCALHOST, *api)),
            block_time_ms: args.block_time_ms,
            block_txs_max: infrafi_node::BLOCK_TXS_MAX_DEFAULT,
            block_bytes_max: infrafi_validator::BLOCK_BYTES_MAX_DEFAULT,
            // One validator runs the upkeep keeper; anyone may, it is permissionless.
            keeper_keystore: (keeper && index == 0).then(|| PathBuf::from("../keys/keeper.json")),
        };
        std::fs::write(folder.join("config.toml"), toml::to_string(&config)?)?;
    }
    Ok(set)
}

/// `infrafi testnet init|run`.
pub(crate) fn testnet(command: TestnetCommand) -> Result<()> {
    match command {
        TestnetCommand::Init(args) => {
            let set = init(&args)?;
            println!("testnet of {} validators in {}", set.validators.len(), args.out.display());
            for entry in &set.validators {
                println!(
                    "  v{}  api {}  consensus {}  key {}",
                    entry.index, entry.api, entry.address, entry.public_key
                );
            }
            println!("run one: infrafi validator --config {}/v0/config.toml", args.out.display());
            Ok(())
        }
        TestnetCommand::Run(args) => run_testnet(&args),
    }
}

fn run_testnet(args: &TestnetArgs) -> Result<()> {
    let set = if args.out.join("validators.json").exists() {
        read_validator_set(&args.out.join("validators.json"))?
    } else {
        init(args)?
    };
    let exe = std::env::current_exe()?;
    let children: Arc<Mutex<Vec<Child>>> = Arc::new(Mutex::new(Vec::new()));
    for entry in &set.validators {
        let folder = args.out.join(format!("v{}", entry.index));
        let log = std::fs::File::create(folder.join("validator.log"))?;
        let child = Command::new(&exe)
            .arg("validator")
            .arg("--config")
            .arg(folder.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting validator {}", entry.index))?;
        println!(
            "v{} pid {}  api {}  log {}",
            entry.index,
            child.id(),
            entry.api,
            folder.join("validator.log").display()
        );
        children.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(child);
    }
    println!("testnet of {} validators running; Ctrl-C stops them", set.validators.len());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(node_cmd::shutdown_signal());
    let mut children = children.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for child in children.iter() {
        // SIGTERM: each validator stops its API and engine cleanly.
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    }
    for child in children.iter_mut() {
        let _ = child.wait();
    }
    println!("testnet stopped");
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Starts an empty data directory from a peer's certified state: checks the certificate
/// against the validator set, the header against the certificate and the state against the
/// header's root, then writes it. Returns the certificate to start consensus from.
fn state_sync(
    url: &str,
    set: &ValidatorSet,
    node_dir: &Path,
    genesis: &Genesis,
) -> Result<infrafi_validator::Finalization> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let response = runtime.block_on(Client::new(url).get("/v1/state/export"))?;
    if response.status != 200u16 {
        bail!("{url}/v1/state/export answered {}: {}", response.status, response.body);
    }
    let export: StateExportDto = serde_json::from_value(response.body)?;
    let certificate =
        export.certificate.context("the peer is not a validator: its export has no certificate")?;
    let header = certificate.header.to_header();
    let hash = header.hash();
    if hash != export.block_hash || header.state_root != export.state_root {
        bail!("the export's header does not match its block hash and state root");
    }
    let checked = set.check(hash, &certificate.finalization)?;
    let state = State::decode(&export.state).context("decoding the exported state")?;
    let store = Arc::new(infrafi_store::Store::open(node_dir)?);
    Chain::initialize_from_state(
        store,
        set.chain_id,
        genesis,
        header,
        state,
        Some(certificate.finalization.to_vec()),
    )?;
    println!(
        "started from the state at block {} ({hash}), finalized in view {} by validators {:?}",
        export.height, checked.view, checked.signers
    );
    Ok(set.decode(&certificate.finalization)?)
}

/// Where consensus starts for an initialised node directory: its genesis block, or the
/// snapshot it was started from.
fn start_of(node_dir: &Path, set: &ValidatorSet) -> Result<Start> {
    let store = infrafi_store::Store::open(node_dir)?;
    let Some(floor) = store.meta("floor")? else {
        let header = store.header(0)?.context("the data directory has no genesis block")?;
        let header: BlockHeader =
            infrafi_node::block::decode(&header).context("decoding the genesis header")?;
        return Ok(Start::Genesis(header));
    };
    let height = u64::from_be_bytes(floor.as_slice().try_into().context("floor is 8 bytes")?);
    let certificate =
        store.certificate(height)?.context("the snapshot's certificate is missing")?;
    Ok(Start::Floor(Box::new(set.decode(&certificate)?)))
}

/// `infrafi validator`.
pub(crate) fn run_validator(args: ValidatorArgs) -> Result<()> {
    let config = ValidatorConfig::load(&args.config)?;
    let (key, set) = config.identity()?;
    let genesis: Genesis = read_json(&config.genesis)?;
    let node_dir = config.data_dir.join("node");
    let empty = !node_dir.join(infrafi_store::DATABASE_FILE).exists();
    let floor = match (&args.state_sync_from, empty) {
        (Some(url), true) => Some(state_sync(url, &set, &node_dir, &genesis)?),
        (Some(_), false) => bail!(
            "--state-sync-from needs an empty data directory; {} holds a chain",
            node_dir.display()
        ),
        (None, _) => None,
    };
    if empty && floor.is_none() {
        // The genesis block, after the genesis's history if it has one: the same state and
        // root on every validator holding the same two files.
        let history: GenesisHistory = match &config.genesis_history {
            Some(path) => read_json(path)?,
            None => GenesisHistory::default(),
        };
        let store = Arc::new(infrafi_store::Store::open(&node_dir)?);
        Chain::initialize_with_history(store, config.chain_id, &genesis, &history)
            .context("writing the genesis block")?;
    }
    let start = match floor {
        Some(finalization) => Start::Floor(Box::new(finalization)),
        None => start_of(&node_dir, &set)?,
    };
    let mut node_config = NodeConfig::new(config.chain_id, node_dir);
    node_config.block_txs_max = config.block_txs_max;
    node_config.mempool_txs_max = args.mempool_txs_max;
    // Health reports a stall after ten block times without a finalized block.
    node_config.block_time = config.limits().block_time;
    if let Some(path) = &config.keeper_keystore {
        node_config.keeper = Some(wallet::load_key(path)?);
    }
    let (node, replica) =
        Node::start_replica(node_config, Some(&genesis)).context("starting the node")?;
    let limits: Limits = config.limits();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let identity = Identity { key, set, listen: config.listen };
    let data_dir = config.data_dir.clone();
    let engine_node = node.clone();
    let engine = std::thread::Builder::new().name("infrafi-consensus".into()).spawn(move || {
        let stopped = async move {
            let _ = stopped.await;
        };
        let replica = Arc::new(Mutex::new(replica));
        network::run(identity, &data_dir, limits, engine_node, replica, start, stopped)
    })?;
    let index = config.index;
    let result = node_cmd::serve(
        node.clone(),
        &config.api.ip().to_string(),
        config.api.port(),
        &args.limits.config(),
        |address| {
            println!("infrafi validator {index} listening on http://{address}");
        },
    );
    let _ = stop.send(());
    match engine.join() {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(%error, "the consensus engine failed"),
        Err(_) => tracing::error!("the consensus engine panicked"),
    }
    std::thread::sleep(Duration::from_millis(10));
    result
}
