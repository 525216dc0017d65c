//! Wiring one validator: the node's replica behind marshal (finalized blocks in order, block
//! dissemination and backfill) and simplex (agreement on block digests), plus the transaction
//! gossip, over any Commonware runtime and network: the deterministic runtime with the simulated
//! network in tests, tokio with authenticated TCP in production.

use crate::{
    Fault, Finalization, Limits, Scheme,
    application::{Application, EPOCH, SharedReplica},
    block::{self, Block, Digest},
    driver::{self, Finalizer, Observer},
    gossip,
};
use commonware_broadcast::buffered;
use commonware_consensus::{
    marshal::{
        self,
        core::Actor as Marshal,
        resolver::p2p as marshal_resolver,
        standard::{Inline, Standard},
    },
    simplex::{
        self,
        config::{ForwardPolicy, SkipBudget, SkipPolicy},
        elector::RoundRobin,
    },
    types::{FixedEpocher, ViewDelta},
};
use commonware_cryptography::{
    Digested, Sha256, certificate::ConstantProvider, certificate::Scheme as _,
    certificate::Verifier as _, ed25519::PublicKey,
};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{
    Clock, Handle, Metrics, Spawner, Storage, Supervisor, buffer::paged::CacheRef,
};
use commonware_storage::archive::immutable;
use commonware_utils::{NZDuration, NZU16, NZU64, NZUsize};
use infrafi_node::{BlockHeader, Node};
use rand_core::CryptoRng;
use std::{num::NonZeroUsize, sync::Arc, time::Duration};

/// The engine's mailboxes' capacity.
const MAILBOX_SIZE: NonZeroUsize = NZUsize!(1_024);
/// Finalized blocks marshal hands over before waiting for acknowledgements.
const PENDING_ACKS_MAX: NonZeroUsize = NZUsize!(16);
/// Views of consensus activity kept behind the finalized tip.
const VIEW_RETENTION: u64 = 64;

/// Where a validator starts.
#[derive(Clone)]
pub enum Start {
    /// From the genesis block (its header is the node's height-0 header).
    Genesis(BlockHeader),
    /// From a finalized block whose state the node already holds (state sync): its
    /// finalization certificate.
    Floor(Box<Finalization>),
}

/// One validator's consensus settings.
#[derive(Clone)]
pub struct EngineConfig {
    /// This validator's signing scheme (its key and the validator set).
    pub scheme: Scheme,
    /// This validator's public key.
    pub public_key: PublicKey,
    /// A prefix for the engine's storage partitions (unique per validator on a shared disk).
    pub partition_prefix: String,
    /// Where the chain starts.
    pub start: Start,
    /// Block pace and bounds.
    pub limits: Limits,
    /// A fault to inject (tests only; [`Fault::None`] in production).
    pub fault: Fault,
}

/// The network channels one validator needs, each a sender and a receiver.
pub struct Channels<S, R> {
    /// Individual votes.
    pub votes: (S, R),
    /// Certificates (notarizations, nullifications, finalizations).
    pub certificates: (S, R),
    /// Consensus certificate fetches.
    pub resolver: (S, R),
    /// Full blocks, broadcast by their proposer.
    pub blocks: (S, R),
    /// Finalized blocks fetched by peers that fell behind.
    pub backfill: (S, R),
    /// Transactions forwarded between validators.
    pub transactions: (S, R),
}

/// The channel numbers, the same on every validator.
pub mod channel {
    /// Votes.
    pub const VOTES: u64 = 0;
    /// Certificates.
    pub const CERTIFICATES: u64 = 1;
    /// Certificate fetches.
    pub const RESOLVER: u64 = 2;
    /// Blocks.
    pub const BLOCKS: u64 = 3;
    /// Backfill.
    pub const BACKFILL: u64 = 4;
    /// Transactions.
    pub const TRANSACTIONS: u64 = 5;
}

/// The consensus timeouts for a block time: a leader waits a block time before proposing, so
/// the others wait that long plus two seconds for its proposal.
pub fn leader_timeout(limits: &Limits) -> Duration {
    limits.block_time + Duration::from_secs(2)
}

/// The largest message any channel carries: a block at its size bound, with marshal's framing.
pub fn max_message_bytes(limits: &Limits) -> u32 {
    let bytes = marshal::max_payload_size::<Standard<Block>, Scheme>(64, &limits.block_bytes_max)
        .max(gossip::BATCH_BYTES_MAX);
    u32::try_from(bytes + 4_096).unwrap_or(u32::MAX)
}

fn archive_config<C>(
    prefix: &str,
    name: &str,
    page_cache: &CacheRef,
    codec_config: C,
) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: 64,
        freezer_table_resize_frequency: 10,
        freezer_table_resize_chunk_size: 10,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: 64 * 1024 * 1024,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: NZU64!(1_024),
        codec_config,
        replay_buffer: NZUsize!(64 * 1024),
        freezer_key_write_buffer: NZUsize!(64 * 1024),
        freezer_value_write_buffer: NZUsize!(64 * 1024),
        ordinal_write_buffer: NZUsize!(64 * 1024),
    }
}

/// Starts one validator: marshal, the block broadcast and backfill, simplex, the finalizing
/// driver and the transaction gossip. The returned handle runs until the runtime stops.
#[allow(clippy::too_many_arguments)] // Each is a distinct piece of wiring.
pub fn start<E, S, R, P, B>(
    context: E,
    config: EngineConfig,
    node: Arc<Node>,
    replica: SharedReplica,
    channels: Channels<S, R>,
    peer_provider: P,
    blocker: B,
) -> Handle<()>
where
    E: Spawner + Supervisor + Clock + Storage + Metrics + CryptoRng,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
{
    context.child("validator").spawn(move |context| async move {
        run(context, config, node, replica, channels, peer_provider, blocker).await;
    })
}

#[allow(clippy::too_many_arguments)]
async fn run<E, S, R, P, B>(
    context: E,
    config: EngineConfig,
    node: Arc<Node>,
    replica: SharedReplica,
    channels: Channels<S, R>,
    peer_provider: P,
    blocker: B,
) where
    E: Spawner + Supervisor + Clock + Storage + Metrics + CryptoRng,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
{
    let EngineConfig { scheme, public_key, partition_prefix, start, limits, fault } = config;
    let prefix = partition_prefix;
    let page_cache = CacheRef::new(NZU16!(4_096), NZUsize!(1_024));
    // Admission checks transactions at the time this runtime's blocks will carry.
    let clock = context.child("clock");
    node.set_clock(Arc::new(move || {
        clock.current().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }));
    node.update_consensus_status(|status| {
        status.validator_index = scheme
            .participants()
            .iter()
            .position(|key| *key == public_key)
            .map_or(u32::MAX, |index| index as u32);
        status.public_key = format!("{public_key}");
        status.validators = scheme.participants().len() as u32;
    });

    // Marshal: finalized blocks in order, at least once, after they are durable here.
    let (marshal_start, simplex_floor) = match start {
        Start::Genesis(header) => {
            let genesis = Block::new(header, Vec::new());
            let digest = block::digest_of(genesis.header().hash());
            (
                marshal::Start::Genesis(Digested::precomputed(genesis, digest)),
                simplex::Floor::Genesis(digest),
            )
        }
        Start::Floor(finalization) => (
            marshal::Start::Floor((*finalization).clone()),
            simplex::Floor::Finalized(*finalization),
        ),
    };
    let marshal_config = marshal::Config {
        provider: ConstantProvider::new(scheme.clone()),
        epocher: FixedEpocher::new(NZU64!(u64::MAX)),
        start: marshal_start,
        partition_prefix: format!("{prefix}-marshal"),
        mailbox_size: MAILBOX_SIZE,
        view_retention: ViewDelta::new(VIEW_RETENTION),
        prunable_items_per_section: NZU64!(64),
        page_cache: page_cache.clone(),
        replay_buffer: NZUsize!(64 * 1024),
        key_write_buffer: NZUsize!(64 * 1024),
        value_write_buffer: NZUsize!(64 * 1024),
        block_codec_config: limits.block_bytes_max,
        max_repair: NZUsize!(16),
        max_pending_acks: PENDING_ACKS_MAX,
        strategy: Sequential,
    };
    let finalizations_by_height = immutable::Archive::init(
        context.child("finalizations_by_height"),
        archive_config(
            &prefix,
            "finalizations",
            &page_cache,
            Scheme::certificate_codec_config_unbounded(),
        ),
    )
    .await
    .expect("the finalizations archive must open (a storage failure stops the validator)");
    let finalized_blocks = immutable::Archive::init(
        context.child("finalized_blocks"),
        archive_config(&prefix, "blocks", &page_cache, limits.block_bytes_max),
    )
    .await
    .expect("the blocks archive must open (a storage failure stops the validator)");
    let (marshal_actor, marshal_mailbox, _floor) = Marshal::init(
        context.child("marshal"),
        finalizations_by_height,
        finalized_blocks,
        marshal_config,
    )
    .await;

    let resolver = marshal_resolver::init(
        context.child("backfill"),
        marshal_resolver::Config {
            public_key: public_key.clone(),
            peer_provider: peer_provider.clone(),
            blocker: blocker.clone(),
            mailbox_size: MAILBOX_SIZE,
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );
    let (broadcast_engine, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: public_key.clone(),
            mailbox_size: MAILBOX_SIZE,
            deque_size: 16,
            priority: false,
            codec_config: limits.block_bytes_max,
            peer_provider,
            strategy: Sequential,
        },
    );
    broadcast_engine.start(channels.blocks);

    let (events, event_receiver) = driver::channel();
    marshal_actor.start(Finalizer::new(events.clone()), buffer, resolver);
    context.child("driver").spawn({
        let replica = replica.clone();
        let node = node.clone();
        let marshal = marshal_mailbox.clone();
        move |context| driver::run(context, event_receiver, replica, node, marshal)
    });
    gossip::start(context.child("gossip"), node.clone(), channels.transactions);

    // Simplex: agreement on digests, with execute-before-vote in the application.
    let application = Application::new(replica, limits, fault);
    let inline = Inline::new(
        context.child("inline"),
        application,
        marshal_mailbox,
        FixedEpocher::new(NZU64!(u64::MAX)),
    );
    let observer = Observer::new(inline.clone(), events, node, scheme.clone());
    let leader_timeout = leader_timeout(&limits);
    let engine = simplex::Engine::new(
        context.child("simplex"),
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: inline.clone(),
            relay: inline,
            reporter: observer,
            track_historical_votes: false,
            strategy: Sequential,
            partition: format!("{prefix}-simplex"),
            mailbox_size: MAILBOX_SIZE,
            epoch: EPOCH,
            floor: simplex_floor,
            replay_buffer: NZUsize!(1024 * 1024),
            write_buffer: NZUsize!(1024 * 1024),
            page_cache,
            leader_timeout,
            certification_timeout: leader_timeout + Duration::from_secs(1),
            timeout_retry: Duration::from_secs(2),
            view_retention: ViewDelta::new(VIEW_RETENTION),
            skip: SkipPolicy::Enabled {
                timeout: leader_timeout + Duration::from_secs(4),
                budget: SkipBudget::Participants,
            },
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            forward: ForwardPolicy::SilentLeader,
        },
    );
    let handle = engine.start(channels.votes, channels.certificates, channels.resolver);
    let _ = handle.await;
}

/// The digest type of blocks (re-exported for callers building floors).
pub type BlockDigest = Digest;
