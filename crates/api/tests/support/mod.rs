//! What both API end-to-end suites start: a devnet node on a scratch directory with 100 ms
//! blocks, and the API serving it on a loopback port.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use infrafi_api::client::Client;
use infrafi_core::Genesis;
use infrafi_node::{Node, NodeConfig};
use std::{sync::Arc, time::Duration};

/// A node and the API in front of it; the directory lives as long as the node.
pub(crate) struct Served {
    pub(crate) client: Client,
    pub(crate) node: Arc<Node>,
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Starts chain `chain` from `genesis` and serves it.
pub(crate) async fn serve(chain: u64, genesis: &Genesis) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(chain, dir.path().to_path_buf());
    config.block_time = Duration::from_millis(100);
    config.devnet = true;
    let node = Arc::new(Node::start(config, Some(genesis)).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server_node = node.clone();
    tokio::spawn(async move {
        infrafi_api::serve(server_node, listener, std::future::pending()).await.unwrap();
    });
    Served { client: Client::new(&format!("http://{address}")), node, dir }
}
