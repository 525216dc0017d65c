//! `infrafi node`, `infrafi replay`, `infrafi verify-proof`: running a node and auditing one.

use anyhow::{Context, Result, bail};
use infrafi_api::{client::Client, dto::ProofDto};
use infrafi_core::Genesis;
use infrafi_node::{Node, NodeConfig};
use std::{io::Write, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

/// The chain id of devnets and of `infrafi node` unless told otherwise.
pub(crate) const CHAIN_ID_DEFAULT: u64 = 31_337;

/// `infrafi node`: run a node.
#[derive(clap::Args, Debug)]
pub(crate) struct NodeArgs {
    /// Where the store lives.
    #[arg(long)]
    pub(crate) data_dir: PathBuf,
    /// The chain id (EIP-712 domain).
    #[arg(long, default_value_t = CHAIN_ID_DEFAULT)]
    pub(crate) chain_id: u64,
    /// A genesis JSON file (needed only when the data directory is empty).
    #[arg(long)]
    pub(crate) genesis: Option<PathBuf>,
    /// A genesis history JSON file: actions applied to the genesis state before the first
    /// block (as a validator's `genesis_history`; read only when the data directory is empty).
    #[arg(long, requires = "genesis")]
    pub(crate) genesis_history: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8545)]
    pub(crate) port: u16,
    /// Milliseconds between blocks.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) block_time_ms: u64,
    /// The mempool's capacity.
    #[arg(long, default_value_t = infrafi_node::MEMPOOL_TXS_MAX_DEFAULT)]
    pub(crate) mempool_txs_max: usize,
    /// The most transactions per block.
    #[arg(long, default_value_t = infrafi_node::BLOCK_TXS_MAX_DEFAULT)]
    pub(crate) block_txs_max: usize,
    /// Run the built-in keeper, signing with this keystore.
    #[arg(long)]
    pub(crate) keeper_keystore: Option<PathBuf>,
    /// Seconds of block time between history samples (`GET /v1/history`).
    #[arg(long, default_value_t = infrafi_node::history::HISTORY_INTERVAL_SECS_DEFAULT)]
    pub(crate) history_interval_secs: u64,
    /// Mebibytes of store pages kept in memory (the store's page cache; docs/node.md).
    #[arg(long, default_value_t = infrafi_store::CACHE_BYTES_DEFAULT / MIB)]
    pub(crate) store_cache_mib: usize,
    #[command(flatten)]
    pub(crate) limits: ServeLimits,
}

/// The API server's limits (docs/security.md, "Connections and slow clients").
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct ServeLimits {
    /// Open connections at most; more are answered `503 connections_full` and closed.
    #[arg(long, default_value_t = infrafi_api::serve::CONNECTIONS_MAX_DEFAULT)]
    pub(crate) connections_max: usize,
    /// Open connections from one IP address at most.
    #[arg(long, default_value_t = infrafi_api::serve::CONNECTIONS_PER_IP_MAX_DEFAULT)]
    pub(crate) connections_per_ip_max: usize,
    /// Open event streams (`/v1/events`) at most.
    #[arg(long, default_value_t = infrafi_api::serve::EVENT_STREAMS_MAX_DEFAULT)]
    pub(crate) event_streams_max: usize,
    /// Open event streams from one IP address at most.
    #[arg(long, default_value_t = infrafi_api::serve::EVENT_STREAMS_PER_IP_MAX_DEFAULT)]
    pub(crate) event_streams_per_ip_max: usize,
    /// Seconds a client has to send a request's headers (also closes idle connections).
    #[arg(long, default_value_t = 10)]
    pub(crate) header_read_timeout_secs: u64,
    /// Seconds a request has to be read and answered.
    #[arg(long, default_value_t = 30)]
    pub(crate) request_timeout_secs: u64,
    /// `POST /v1/tx` and `/v1/dry-run` requests per second from one IP address (0: no limit).
    #[arg(long, default_value_t = infrafi_api::serve::SUBMISSIONS_PER_IP_PER_SECOND_DEFAULT)]
    pub(crate) submissions_per_ip_per_second: u32,
    /// `POST /v1/txs` batches per second from one IP address (0: no limit).
    #[arg(long, default_value_t = infrafi_api::serve::BATCHES_PER_IP_PER_SECOND_DEFAULT)]
    pub(crate) batches_per_ip_per_second: u32,
    /// Dry-runs running or waiting at once; more are answered `503 dry_runs_busy`.
    #[arg(long, default_value_t = infrafi_api::serve::DRY_RUNS_MAX_DEFAULT)]
    pub(crate) dry_runs_max: usize,
}

impl ServeLimits {
    /// The server configuration these flags give.
    pub(crate) fn config(&self) -> infrafi_api::ServeConfig {
        infrafi_api::ServeConfig {
            connections_max: self.connections_max.max(1),
            connections_per_ip_max: self.connections_per_ip_max.max(1),
            event_streams_max: self.event_streams_max,
            event_streams_per_ip_max: self.event_streams_per_ip_max,
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            submissions_per_ip_per_second: self.submissions_per_ip_per_second,
            batches_per_ip_per_second: self.batches_per_ip_per_second,
            dry_runs_max: self.dry_runs_max,
        }
    }
}

/// Bytes in a mebibyte.
pub(crate) const MIB: usize = 1024 * 1024;

/// `infrafi node`.
pub(crate) fn run(args: NodeArgs) -> Result<()> {
    let genesis = match &args.genesis {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(serde_json::from_str::<Genesis>(&text).context("parsing the genesis")?)
        }
        None => None,
    };
    if let (Some(genesis), Some(path)) = (&genesis, &args.genesis_history) {
        initialize_with_history(&args, genesis, path)?;
    }
    let mut config = NodeConfig::new(args.chain_id, args.data_dir.clone());
    config.block_time = Duration::from_millis(args.block_time_ms.max(1));
    config.mempool_txs_max = args.mempool_txs_max;
    config.block_txs_max = args.block_txs_max;
    config.history_interval_secs = args.history_interval_secs.max(1);
    config.store_cache_bytes = args.store_cache_mib.saturating_mul(MIB);
    if let Some(path) = &args.keeper_keystore {
        config.keeper = Some(crate::wallet::load_key(path)?);
    }
    let node = Arc::new(Node::start(config, genesis.as_ref()).context("starting the node")?);
    serve(node, &args.host, args.port, &args.limits.config(), |address| {
        println!("infrafi node listening on http://{address}");
    })
}

/// Writes the genesis block after `genesis`'s history (the file at `path`) into an empty data
/// directory, as a validator does; a directory that already holds a chain is left as it is.
fn initialize_with_history(
    args: &NodeArgs,
    genesis: &Genesis,
    path: &std::path::Path,
) -> Result<()> {
    if args.data_dir.join(infrafi_store::DATABASE_FILE).exists() {
        return Ok(());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let history: infrafi_node::GenesisHistory =
        serde_json::from_str(&text).context("parsing the genesis history")?;
    std::fs::create_dir_all(&args.data_dir)?;
    let store = Arc::new(infrafi_store::Store::open(&args.data_dir)?);
    infrafi_node::Chain::initialize_with_history(store, args.chain_id, genesis, &history)
        .context("writing the genesis block")?;
    Ok(())
}

/// Turns transparent huge pages off for this process before a node allocates its state.
///
/// Why: the allocator asks the kernel for huge pages on its large regions, and a node's
/// per-block and per-request allocations then fault in fresh 2 MiB pages: measured with
/// `bench-node --txs 40000 --senders 4000 --batch 500` on the 2-core reference machine
/// (docs/node.md "Transparent huge pages"), turning them off gave more committed transactions
/// per second, less CPU per transaction and half the resident memory. An operator who sets
/// the allocator's own `MIMALLOC_ALLOW_THP` keeps that choice (and it is how the figures are
/// compared on one binary). Failure is harmless (an old kernel): the node runs as before.
pub(crate) fn disable_transparent_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes no memory this
    // process can see; it sets a flag the kernel reads when it next faults a page in.
    let result = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if result != 0 {
        tracing::debug!("transparent huge pages stay on: prctl refused");
    }
}

/// Serves `node` until Ctrl-C or SIGTERM; `on_listen` runs once the port is bound.
pub(crate) fn serve(
    node: Arc<Node>,
    host: &str,
    port: u16,
    limits: &infrafi_api::ServeConfig,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((host, port))
            .await
            .with_context(|| format!("binding {host}:{port}"))?;
        on_listen(listener.local_addr()?);
        std::io::stdout().flush()?;
        let shutdown = shutdown_signal();
        infrafi_api::serve_with(node.clone(), listener, limits, shutdown).await?;
        anyhow::Ok(())
    })?;
    node.shutdown();
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
    }
}

/// `infrafi replay`: re-execute a stopped node's blocks from genesis and compare roots.
#[derive(clap::Args, Debug)]
pub(crate) struct ReplayArgs {
    /// The data directory of a stopped node.
    #[arg(long)]
    pub(crate) data_dir: PathBuf,
}

/// `infrafi replay`.
pub(crate) fn replay(args: ReplayArgs) -> Result<()> {
    let store = infrafi_store::Store::open(&args.data_dir)?;
    let head = store.head()?.context("the store is empty")?;
    let header: infrafi_node::BlockHeader =
        infrafi_node::block::decode(&store.header(head)?.context("no head header")?)?;
    let (height, root) = infrafi_node::replay_from_genesis(&store)?;
    let matches = root == header.state_root;
    println!(
        "{}",
        serde_json::json!({
            "height": height,
            "replayed_state_root": root,
            "stored_state_root": header.state_root,
            "matches": matches,
        })
    );
    if !matches {
        bail!("the replayed state root differs from the stored one");
    }
    Ok(())
}

/// `infrafi verify-proof`: check a proof from `GET /v1/proofs/...` offline.
#[derive(clap::Args, Debug)]
pub(crate) struct VerifyProofArgs {
    /// The proof JSON file (`-` for standard input).
    #[arg(long, default_value = "-")]
    pub(crate) proof: String,
    /// Check against this state root instead of the one in the file.
    #[arg(long)]
    pub(crate) state_root: Option<alloy_primitives::B256>,
    /// Also fetch the block header from this node and check its state root.
    #[arg(long)]
    pub(crate) node: Option<String>,
    /// Check the proof's block against its finalization certificate and this validator set
    /// (`validators.json`), offline: the state root is then the quorum's, not the answering
    /// node's.
    #[arg(long)]
    pub(crate) validators: Option<PathBuf>,
}

/// `infrafi verify-proof`.
pub(crate) fn verify_proof(args: VerifyProofArgs) -> Result<()> {
    let text = if args.proof == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(&args.proof).with_context(|| format!("reading {}", args.proof))?
    };
    let proof: ProofDto = serde_json::from_str(&text).context("parsing the proof")?;
    let root = args.state_root.unwrap_or(proof.state_root);
    if let Some(node) = &args.node {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let block =
            runtime.block_on(Client::new(node).get(&format!("/v1/blocks/{}", proof.height)))?;
        let header_root = block.body["header"]["state_root"].as_str().unwrap_or_default();
        if header_root.parse::<alloy_primitives::B256>().ok() != Some(root) {
            bail!("block {} has state root {header_root}, not {root}", proof.height);
        }
    }
    let quorum = match &args.validators {
        Some(path) => Some(check_certificate(&proof, root, path)?),
        None => None,
    };
    let value = proof.value.as_ref().map(|v| v.to_vec());
    proof
        .proof
        .verify_leaf(root, &proof.key, value.as_deref())
        .map_err(|e| anyhow::anyhow!("invalid proof: {e}"))?;
    let claim = if value.is_some() { "has the value" } else { "is absent" };
    println!("valid: leaf {} {claim} under state root {root} (block {})", proof.key, proof.height);
    if let Some(checked) = quorum {
        println!(
            "finalized: block {} is signed by validators {:?} ({} of {}, view {})",
            proof.height,
            checked.signers,
            checked.signers.len(),
            checked.validators,
            checked.view
        );
    }
    Ok(())
}

/// Checks that the proof's state root is the one in the header its certificate finalizes.
fn check_certificate(
    proof: &ProofDto,
    root: alloy_primitives::B256,
    validators: &std::path::Path,
) -> Result<infrafi_validator::CheckedCertificate> {
    let set = infrafi_validator::config::read_validator_set(validators)?;
    let certificate = proof
        .certificate
        .as_ref()
        .context("the proof carries no finalization certificate (ask a validator's API)")?;
    let header = certificate.header.to_header();
    let hash = header.hash();
    if header.state_root != root || header.height != proof.height || hash != proof.block_hash {
        bail!("the certificate's header is not the block the proof is against");
    }
    if header.chain_id != set.chain_id {
        bail!(
            "the proof is of chain {}, the validator set of chain {}",
            header.chain_id,
            set.chain_id
        );
    }
    Ok(set.check(hash, &certificate.finalization)?)
}
