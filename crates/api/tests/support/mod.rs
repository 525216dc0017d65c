//! What the API end-to-end suites share: one table of signing keys by role ([`Party`]), a
//! genesis granting those roles, and a devnet node on a scratch directory with 100 ms blocks
//! served by the API on a loopback port.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use infrafi_api::client::Client;
use infrafi_core::{Address, Genesis, Role};
use infrafi_node::{Node, NodeConfig};
use infrafi_tx::SigningKey;
use std::{sync::Arc, time::Duration};

/// Who signs in the API suites: a holder of a role, or a party that holds none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // Each suite uses its own part of the table.
pub(crate) enum Party {
    Admin,
    Attestor,
    ReserveCustodian,
    Custodian,
    Appraiser,
    Insurer,
    Curator,
    /// Attests the presence of receipts' hardware.
    Monitor,
    /// Sells foreclosed receipts.
    LiquidationAgent,
    /// The node's keeper key (`NodeConfig::keeper`).
    Keeper,
    /// Deposits into the vault.
    Depositor,
    Borrower,
    /// Holds a redemption request and lists it for sale.
    Holder,
    /// Bids to move a request up the queue.
    Bidder,
    /// A user of the reserve and the vault.
    User,
    /// Receives payments.
    Payee,
}

/// The one key table of the API suites: each party's seed name (its key is
/// `SigningKey::from_seed("api/<name>")`, so a party is the same key in every suite) and the
/// role a genesis from [`genesis_granting`] gives it.
const PARTIES: [(Party, &str, Option<Role>); 16] = [
    (Party::Admin, "admin", Some(Role::Admin)),
    (Party::Attestor, "attestor", Some(Role::GatewayAttestor)),
    (Party::ReserveCustodian, "reserve-custodian", Some(Role::ReserveCustodian)),
    (Party::Custodian, "custodian", Some(Role::Custodian)),
    (Party::Appraiser, "appraiser", Some(Role::Appraiser)),
    (Party::Insurer, "insurer", Some(Role::Insurer)),
    (Party::Curator, "curator", Some(Role::Curator)),
    (Party::Monitor, "monitor", Some(Role::Monitor)),
    (Party::LiquidationAgent, "liquidation-agent", Some(Role::LiquidationAgent)),
    (Party::Keeper, "keeper", None),
    (Party::Depositor, "depositor", None),
    (Party::Borrower, "borrower", None),
    (Party::Holder, "holder", None),
    (Party::Bidder, "bidder", None),
    (Party::User, "user", None),
    (Party::Payee, "payee", None),
];

#[allow(dead_code)]
impl Party {
    fn entry(self) -> &'static (Party, &'static str, Option<Role>) {
        PARTIES.iter().find(|(party, _, _)| *party == self).unwrap()
    }

    /// The party's name in the table (and in its key's seed).
    pub(crate) fn name(self) -> &'static str {
        self.entry().1
    }

    /// The role [`genesis_granting`] gives the party, if any.
    pub(crate) fn role(self) -> Option<Role> {
        self.entry().2
    }

    pub(crate) fn key(self) -> SigningKey {
        SigningKey::from_seed(&format!("api/{}", self.name()))
    }

    pub(crate) fn address(self) -> Address {
        self.key().address()
    }
}

/// A genesis at the current time whose admin is [`Party::Admin`] and in which each of `parties`
/// holds its role from the table.
#[allow(dead_code)]
pub(crate) fn genesis_granting(parties: &[Party]) -> Genesis {
    let mut genesis = Genesis::with_admin(Party::Admin.address(), unix_now());
    for party in parties {
        let role = party.role().unwrap_or_else(|| panic!("{party:?} holds no role"));
        if role != Role::Admin {
            genesis.roles.push((role, party.address()));
        }
    }
    genesis
}

/// A node and the API in front of it; the directory lives as long as the node.
pub(crate) struct Served {
    pub(crate) client: Client,
    pub(crate) node: Arc<Node>,
    #[allow(dead_code)] // Held for its lifetime; some suites read it.
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Starts chain `chain` from `genesis` and serves it.
#[allow(dead_code)] // Not every suite uses every way to serve.
pub(crate) async fn serve(chain: u64, genesis: &Genesis) -> Served {
    serve_limited(chain, genesis, infrafi_api::ServeConfig::default()).await
}

/// Starts chain `chain` from `genesis` and serves it with `limits`.
#[allow(dead_code)]
pub(crate) async fn serve_limited(
    chain: u64,
    genesis: &Genesis,
    limits: infrafi_api::ServeConfig,
) -> Served {
    serve_configured(chain, genesis, limits, |_| {}).await
}

/// Starts chain `chain` from `genesis` with `configure` applied to the node's configuration,
/// and serves it with `limits`.
pub(crate) async fn serve_configured(
    chain: u64,
    genesis: &Genesis,
    limits: infrafi_api::ServeConfig,
    configure: impl FnOnce(&mut NodeConfig),
) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(chain, dir.path().to_path_buf());
    config.block_time = Duration::from_millis(100);
    config.devnet = true;
    configure(&mut config);
    let node = Arc::new(Node::start(config, Some(genesis)).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server_node = node.clone();
    tokio::spawn(async move {
        infrafi_api::serve_with(server_node, listener, &limits, std::future::pending())
            .await
            .unwrap();
    });
    Served { client: Client::new(&format!("http://{address}")), node, dir }
}

/// A node serving from a directory that outlives it, so a test can stop and restart it.
#[allow(dead_code)] // One suite restarts a node.
pub(crate) struct Restartable {
    pub(crate) client: Client,
    pub(crate) node: Arc<Node>,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

#[allow(dead_code)]
impl Restartable {
    /// Stops the server and the node and waits until the store is closed.
    pub(crate) async fn stop(self) {
        self.node.shutdown();
        let _ = self.stop.send(());
        self.server.await.unwrap();
        drop(self.client);
        assert_eq!(Arc::strong_count(&self.node), 1, "nothing else holds the node");
    }
}

/// Starts (or restarts) the node whose store is in `dir`, with `configure` applied to its
/// configuration, and serves it until [`Restartable::stop`].
#[allow(dead_code)]
pub(crate) async fn serve_in(
    dir: &std::path::Path,
    chain: u64,
    genesis: &Genesis,
    configure: impl FnOnce(&mut NodeConfig),
) -> Restartable {
    let mut config = NodeConfig::new(chain, dir.to_path_buf());
    config.block_time = Duration::from_millis(100);
    config.devnet = true;
    configure(&mut config);
    let node = Arc::new(Node::start(config, Some(genesis)).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server_node = node.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        infrafi_api::serve(server_node, listener, shutdown).await.unwrap();
    });
    Restartable { client: Client::new(&format!("http://{address}")), node, stop, server }
}
