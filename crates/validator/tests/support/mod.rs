//! A network of validators in one process: Commonware's deterministic runtime (seeded, virtual
//! time) and simulated network (per-link latency, jitter and loss), each validator a real node
//! with its own redb store in a temporary directory.

#![allow(dead_code, unreachable_pub)] // Each test file uses part of the harness.

use alloy_primitives::B256;
use commonware_consensus::simplex::scheme::ed25519;
use commonware_cryptography::{Signer as _, ed25519::PrivateKey};
use commonware_p2p::simulated::{self, Link, Oracle};
use commonware_runtime::{Clock as _, Handle, Quota, Spawner as _, Supervisor as _, deterministic};
use commonware_utils::{NZU32, NZUsize, Probability, ordered::Set};
use infrafi_core::{Action, Amount, Genesis, action::MintUsdai, ids::USDC};
use infrafi_node::{BlockHeader, Node, NodeConfig, Replica};
use infrafi_tx::{SignedTransaction, SigningKey};
use infrafi_validator::{
    Channels, EngineConfig, Fault, Limits, PublicKey, Scheme, SharedReplica, Start, ValidatorEntry,
    ValidatorSet,
    engine::{self, channel},
};
use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

/// The chain id of test networks.
pub const CHAIN: u64 = 7;
/// Users funded at genesis.
pub const USERS: usize = 8;

/// A test validator's block pace: fast, virtual time.
pub fn limits() -> Limits {
    Limits {
        block_time: Duration::from_millis(200),
        block_txs_max: 1_000,
        block_bytes_max: 1024 * 1024,
    }
}

/// A funded user's key.
pub fn user(index: usize) -> SigningKey {
    SigningKey::from_seed(&format!("validator-test/user/{index}"))
}

/// The genesis every test network shares.
pub fn genesis() -> Genesis {
    let admin = SigningKey::from_seed("validator-test/admin");
    let mut genesis = Genesis::with_admin(admin.address(), 0);
    for index in 0..USERS {
        genesis.stablecoin_balances.push((
            user(index).address(),
            USDC,
            Amount::from_whole(1_000_000),
        ));
    }
    genesis
}

/// A mint of `whole` USDai by `user` with `nonce`.
pub fn mint(user_index: usize, nonce: u64, whole: u128) -> SignedTransaction {
    let action = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(whole),
        min_out: Amount::ZERO,
    });
    user(user_index).sign(CHAIN, nonce, &action)
}

/// One validator of the network.
pub struct Validator {
    pub index: usize,
    pub node: Arc<Node>,
    pub replica: SharedReplica,
    pub handle: Handle<()>,
    pub data_dir: PathBuf,
    pub partition: String,
}

/// A network of `n` validators.
pub struct Network {
    pub keys: Vec<PrivateKey>,
    pub participants: Set<PublicKey>,
    pub oracle: Oracle<PublicKey, deterministic::Context>,
    pub validators: Vec<Option<Validator>>,
    pub dirs: Vec<tempfile::TempDir>,
    pub genesis: Genesis,
    pub genesis_header: BlockHeader,
    pub faults: Vec<Fault>,
}

/// Keys sorted as the validator set orders them, so that validator `i` has index `i`.
pub fn keys(n: usize) -> Vec<PrivateKey> {
    let mut keys: Vec<PrivateKey> = (0..n as u64).map(PrivateKey::from_seed).collect();
    keys.sort_by_key(|key| key.public_key());
    keys
}

/// The validator set clients would hold for `keys`.
pub fn validator_set(keys: &[PrivateKey]) -> ValidatorSet {
    ValidatorSet {
        chain_id: CHAIN,
        validators: keys
            .iter()
            .enumerate()
            .map(|(index, key)| ValidatorEntry {
                index: index as u32,
                public_key: format!("{}", key.public_key()),
                address: format!("127.0.0.1:{}", 9_000 + index),
                api: format!("http://127.0.0.1:{}", 8_000 + index),
            })
            .collect(),
    }
}

const QUOTA: Quota = Quota::per_second(NZU32!(100_000));

impl Network {
    /// Creates the simulated network and `n` validators' data directories (not started).
    pub async fn new(context: &deterministic::Context, n: usize) -> Network {
        let keys = keys(n);
        let participants = Set::from_iter_dedup(keys.iter().map(|k| k.public_key()));
        let (network, oracle) = simulated::Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: engine::max_message_bytes(&limits()),
                max_peers_per_set: NZUsize!(n),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            participants.iter().cloned(),
        )
        .await;
        network.start();
        let genesis = genesis();
        let (genesis_header, _) = infrafi_node::genesis_block(CHAIN, &genesis).unwrap();
        let dirs = (0..n).map(|_| tempfile::tempdir().unwrap()).collect();
        Network {
            keys,
            participants,
            oracle,
            validators: (0..n).map(|_| None).collect(),
            dirs,
            genesis,
            genesis_header,
            faults: vec![Fault::None; n],
        }
    }

    /// Links every pair with `link`.
    pub async fn link_all(&mut self, link: Link) {
        let keys: Vec<PublicKey> = self.participants.iter().cloned().collect();
        for a in &keys {
            for b in &keys {
                if a != b {
                    let _ = self.oracle.remove_link(a.clone(), b.clone()).await;
                    self.oracle.add_link(a.clone(), b.clone(), link.clone()).await.unwrap();
                }
            }
        }
    }

    /// Cuts every link between the two groups (both directions).
    pub async fn partition(&mut self, left: &[usize], right: &[usize]) {
        for a in left {
            for b in right {
                let (a, b) = (self.key(*a), self.key(*b));
                let _ = self.oracle.remove_link(a.clone(), b.clone()).await;
                let _ = self.oracle.remove_link(b, a).await;
            }
        }
    }

    /// The public key of validator `index`.
    pub fn key(&self, index: usize) -> PublicKey {
        self.keys[index].public_key()
    }

    /// Opens validator `index`'s node on its data directory (a fresh one from genesis, or the
    /// store it left) and starts its engine.
    pub async fn start(&mut self, context: &deterministic::Context, index: usize) {
        self.start_from(context, index, None, format!("v{index}")).await;
    }

    /// Starts validator `index`, from genesis or from `floor`, with engine partitions named
    /// `partition`.
    pub async fn start_from(
        &mut self,
        context: &deterministic::Context,
        index: usize,
        floor: Option<infrafi_validator::Finalization>,
        partition: String,
    ) {
        assert!(self.validators[index].is_none(), "validator {index} is running");
        let data_dir = self.dirs[index].path().join("node");
        let mut config = NodeConfig::new(CHAIN, data_dir.clone());
        config.block_txs_max = limits().block_txs_max;
        let (node, replica) = open_replica(config, &self.genesis);
        let replica: SharedReplica = Arc::new(Mutex::new(replica));
        let control = self.oracle.control(self.key(index));
        let register = async |number: u64| control.register(number, QUOTA).await.unwrap();
        let channels = Channels {
            votes: register(channel::VOTES).await,
            certificates: register(channel::CERTIFICATES).await,
            resolver: register(channel::RESOLVER).await,
            blocks: register(channel::BLOCKS).await,
            backfill: register(channel::BACKFILL).await,
            transactions: register(channel::TRANSACTIONS).await,
        };
        let scheme = ed25519::Scheme::signer(
            &infrafi_validator::namespace(CHAIN),
            self.participants.clone(),
            self.keys[index].clone(),
        )
        .unwrap();
        let start = match floor {
            Some(finalization) => Start::Floor(Box::new(finalization)),
            None => Start::Genesis(self.genesis_header.clone()),
        };
        let config = EngineConfig {
            scheme,
            public_key: self.key(index),
            partition_prefix: partition.clone(),
            start,
            limits: limits(),
            fault: self.faults[index],
        };
        let handle = engine::start(
            context.child("validator").with_attribute("index", index),
            config,
            node.clone(),
            replica.clone(),
            channels,
            self.oracle.manager(),
            control,
        );
        self.validators[index] =
            Some(Validator { index, node, replica, handle, data_dir, partition });
    }

    /// Stops validator `index` as a crash would: its tasks are aborted mid-flight; its store
    /// keeps what it committed.
    pub async fn crash(&mut self, context: &deterministic::Context, index: usize) {
        let validator = self.validators[index].take().expect("validator is running");
        validator.handle.abort();
        let _ = validator.handle.await;
        // Let the aborted tasks drop their references to the node and its store.
        context.sleep(Duration::from_millis(10)).await;
        drop(validator.replica);
        drop(validator.node);
    }

    /// The running validator `index`.
    pub fn validator(&self, index: usize) -> &Validator {
        self.validators[index].as_ref().expect("validator is running")
    }

    /// The committed height of validator `index`.
    pub fn height(&self, index: usize) -> u64 {
        self.validator(index).node.snapshot().header.height
    }

    /// The committed heights of the running validators.
    pub fn heights(&self) -> Vec<u64> {
        self.validators.iter().flatten().map(|v| v.node.snapshot().header.height).collect()
    }

    /// Waits (virtual time) until every validator in `indices` committed `height`; panics after
    /// `timeout`.
    pub async fn wait_for_height(
        &self,
        context: &deterministic::Context,
        indices: &[usize],
        height: u64,
        timeout: Duration,
    ) {
        let deadline = context.current() + timeout;
        loop {
            if indices.iter().all(|i| self.height(*i) >= height) {
                return;
            }
            assert!(
                context.current() < deadline,
                "validators {indices:?} did not reach height {height} (at {:?})",
                indices.iter().map(|i| self.height(*i)).collect::<Vec<_>>()
            );
            context.sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asserts the validators in `indices` hold the same header at every height up to `height`.
    pub fn assert_same_chain(&self, indices: &[usize], height: u64) {
        for h in 0..=height {
            let headers: Vec<Option<BlockHeader>> = indices
                .iter()
                .map(|i| self.validator(*i).node.block(h).unwrap().map(|(header, _)| header))
                .collect();
            let first =
                headers[0].clone().unwrap_or_else(|| panic!("no block {h} at {}", indices[0]));
            for (i, header) in indices.iter().zip(&headers) {
                assert_eq!(header.as_ref(), Some(&first), "validator {i} differs at height {h}");
            }
        }
    }

    /// The hash of validator `index`'s block at `height`.
    pub fn block_hash(&self, index: usize, height: u64) -> Option<B256> {
        self.validator(index).node.block(height).unwrap().map(|(header, _)| header.hash())
    }
}

/// The payload a double-voter signs beside the real proposal: a block nobody proposed.
pub const CONFLICTING_PAYLOAD: u8 = 0xee;

impl Network {
    /// Runs validator `index` as a Byzantine double-voter instead of an honest engine: for every
    /// notarize or finalize vote it receives, it signs two votes for the same view with its own
    /// key, one for a block nobody proposed and one for the real proposal, and sends both to
    /// everyone. The vote channel is all it joins; it never proposes.
    pub async fn start_double_voter(&mut self, context: &deterministic::Context, index: usize) {
        use commonware_codec::{DecodeExt as _, Encode as _};
        use commonware_consensus::simplex::types::{Finalize, Notarize, Proposal, Vote};
        use commonware_p2p::{Receiver as _, Recipients, Sender as _};

        let control = self.oracle.control(self.key(index));
        let (mut sender, mut receiver) = control.register(channel::VOTES, QUOTA).await.unwrap();
        let scheme = ed25519::Scheme::signer(
            &infrafi_validator::namespace(CHAIN),
            self.participants.clone(),
            self.keys[index].clone(),
        )
        .unwrap();
        let conflicting =
            infrafi_validator::block::digest_of(B256::repeat_byte(CONFLICTING_PAYLOAD));
        context.child("double_voter").spawn(move |_| async move {
            while let Ok((_, message)) = receiver.recv().await {
                let Ok(vote) = Vote::<Scheme, infrafi_validator::block::Digest>::decode(message)
                else {
                    continue;
                };
                let votes = match vote {
                    Vote::Notarize(seen) => {
                        let other = Proposal::new(seen.round(), seen.proposal.parent, conflicting);
                        [
                            Vote::Notarize(Notarize::sign(&scheme, other).unwrap()),
                            Vote::Notarize(Notarize::sign(&scheme, seen.proposal).unwrap()),
                        ]
                    }
                    Vote::Finalize(seen) => {
                        let other = Proposal::new(seen.round(), seen.proposal.parent, conflicting);
                        [
                            Vote::Finalize(Finalize::sign(&scheme, other).unwrap()),
                            Vote::Finalize(Finalize::sign(&scheme, seen.proposal).unwrap()),
                        ]
                    }
                    Vote::Nullify(_) => continue,
                };
                for vote in votes {
                    sender.send(Recipients::All, vote.encode(), true);
                }
            }
        });
    }
}

/// Opens validator `index`'s store again after its network stopped (as its operator would
/// after a restart), with its node, outside any consensus engine.
pub fn reopen(dirs: &[tempfile::TempDir], index: usize) -> (Arc<Node>, Replica) {
    let config = NodeConfig::new(CHAIN, dirs[index].path().join("node"));
    open_replica(config, &genesis())
}

/// Opens a replica, retrying while a crashed instance still holds the store open.
fn open_replica(config: NodeConfig, genesis: &Genesis) -> (Arc<Node>, Replica) {
    for _ in 0..100 {
        match Node::start_replica(config.clone(), Some(genesis)) {
            Ok(opened) => return opened,
            Err(infrafi_node::StartError::Store(error)) => {
                tracing::debug!(%error, "store still open; retrying");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => panic!("starting the replica: {error}"),
        }
    }
    panic!("the store of a crashed validator stayed open");
}

/// A link with the given mean latency, jitter and delivery probability.
pub fn link(latency_ms: u64, jitter_ms: u64, success: f64) -> Link {
    Link {
        latency: Duration::from_millis(latency_ms),
        jitter: Duration::from_millis(jitter_ms),
        success_rate: Probability::from_f64(success).unwrap(),
    }
}

/// Scheme alias re-exported for tests.
pub type TestScheme = Scheme;
