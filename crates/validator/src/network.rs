//! One validator on real sockets: Commonware's tokio runtime (the engine's journals and
//! archives under `<data_dir>/consensus`) and its authenticated TCP network (peers identified by
//! their consensus keys, a static address book from `validators.json`, encrypted links).

use crate::{
    Limits, PrivateKey, PublicKey, Scheme, SharedReplica, ValidatorSet,
    engine::{self, Channels, EngineConfig, Start, channel},
};
use commonware_cryptography::{ChaCha20Poly1305, Signer as _};
use commonware_p2p::{Address, AddressableManager as _, authenticated::lookup};
use commonware_runtime::{Quota, Runner as _, Spawner as _, Supervisor as _, tokio};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{NZU32, NZUsize, ordered::Map};
use infrafi_node::Node;
use std::{
    future::Future, net::SocketAddr, num::NonZeroUsize, path::Path, sync::Arc, time::Duration,
};

/// The consensus network's namespace: connections of one chain never mix with another's.
pub fn p2p_namespace(chain_id: u64) -> Vec<u8> {
    format!("infrafi/p2p/{chain_id}").into_bytes()
}

/// Messages per second one peer may send on one channel (transaction batches, votes, blocks);
/// far above what an honest validator sends, so it only bounds a misbehaving one.
const MESSAGES_PER_SECOND: u32 = 2_000;

/// What a running validator needs besides its node.
pub struct Identity {
    /// The consensus key.
    pub key: PrivateKey,
    /// The validator set.
    pub set: ValidatorSet,
    /// The consensus network's listening address.
    pub listen: SocketAddr,
}

/// Runs one validator until `stop` resolves, then stops the engine's tasks.
pub fn run(
    identity: Identity,
    data_dir: &Path,
    limits: Limits,
    node: Arc<Node>,
    replica: SharedReplica,
    start: Start,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), crate::CertificateError> {
    let participants = identity.set.participants()?;
    let scheme = Scheme::signer(
        &crate::namespace(identity.set.chain_id),
        participants.clone(),
        identity.key.clone(),
    )
    .ok_or(crate::CertificateError::SetInvalid)?;
    let mut peers = Vec::new();
    for entry in &identity.set.validators {
        let key = crate::certificate::parse_public_key(&entry.public_key)?;
        let address: SocketAddr = entry
            .address
            .parse()
            .map_err(|_| crate::CertificateError::PublicKeyInvalid(entry.address.clone()))?;
        peers.push((key, Address::from(address)));
    }
    let peers: Map<PublicKey, Address> = Map::from_iter_dedup(peers);
    let public_key = identity.key.public_key();
    let chain_id = identity.set.chain_id;
    let max_message_bytes = engine::max_message_bytes(&limits);
    let runtime = tokio::Config::new()
        .with_storage_directory(data_dir.join("consensus"))
        .with_worker_threads(2);
    tokio::Runner::new(runtime).start(|context| async move {
        let handshake = Cups::<_, ChaCha20Poly1305>::new(
            Sake {
                signer: identity.key,
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        );
        let mut config = lookup::Config::recommended(
            handshake,
            &p2p_namespace(chain_id),
            identity.listen,
            NonZeroUsize::new(participants.len()).unwrap_or(NZUsize!(1)),
            max_message_bytes,
            NZUsize!(4_096),
        );
        // Validators on one machine or one private network: loopback and private addresses are
        // real peers here, and a restarted peer reconnects within seconds.
        config.allow_private_ips = true;
        config.peer_connection_cooldown = Duration::from_secs(1);
        config.dial_frequency = Duration::from_millis(500);
        config.ping_frequency = Duration::from_secs(5);
        let (mut network, mut oracle) = lookup::Network::new(context.child("network"), config);
        oracle.track(0, peers);
        let quota = Quota::per_second(NZU32!(MESSAGES_PER_SECOND));
        let channels = Channels {
            votes: network.register(channel::VOTES, quota),
            certificates: network.register(channel::CERTIFICATES, quota),
            resolver: network.register(channel::RESOLVER, quota),
            blocks: network.register(channel::BLOCKS, quota),
            backfill: network.register(channel::BACKFILL, quota),
            transactions: network.register(channel::TRANSACTIONS, quota),
        };
        network.start();
        let config = EngineConfig {
            scheme,
            public_key: public_key.clone(),
            partition_prefix: "infrafi".into(),
            start,
            limits,
            fault: crate::Fault::None,
        };
        engine::start(
            context.child("engine"),
            config,
            node,
            replica,
            channels,
            oracle.clone(),
            oracle,
        );
        stop.await;
        let _ = context.stop(0, Some(Duration::from_secs(5))).await;
    });
    Ok(())
}
