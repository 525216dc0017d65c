//! What consensus reports back to the node: finalized blocks (committed durably, then
//! acknowledged), finalization certificates, votes (who is alive) and faults (evidence).
//!
//! The engine's reporters must not block its actors, so [`Finalizer`] and [`Observer`] only
//! queue events; one driver task handles them in order, running execution and store writes on
//! the runtime's blocking pool.

use crate::{
    Finalization, Scheme,
    application::{SharedReplica, lock},
    block::{Block, Digest, hash_of},
};
use commonware_actor::Feedback;
use commonware_codec::Encode as _;
use commonware_consensus::{
    Epochable as _, Heightable as _, Reporter, Viewable as _,
    marshal::{Update, core::Mailbox, standard::Standard},
    simplex::types::{Activity, Attributable as _},
};
use commonware_cryptography::{Digestible as _, certificate::Scheme as _};
use commonware_parallel::Sequential;
use commonware_runtime::{Clock, Metrics, Spawner, Supervisor};
use commonware_utils::Acknowledgement as _;
use futures::{
    StreamExt as _,
    channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded},
};
use infrafi_node::{Finalized, Node, PeerStatus, ReplicaError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A peer counts as active in `/v1/status` if it voted within this many views.
pub const PEER_ACTIVE_VIEWS: u64 = 10;

/// A fault the engine proved: two conflicting votes of one validator, as served by
/// `GET /v1/evidence`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// `conflicting_notarize`, `conflicting_finalize` or `nullify_finalize`.
    pub kind: String,
    /// The offender's index in the validator set.
    pub validator_index: u32,
    /// The offender's consensus public key (hex).
    pub public_key: String,
    /// The consensus epoch.
    pub epoch: u64,
    /// The view both votes are in.
    pub view: u64,
    /// The two signed votes, in the engine's encoding (0x-hex): anyone holding the validator
    /// set can check the signatures.
    pub votes: String,
}

pub(crate) enum Event {
    Update(Update<Block>),
    Certificate { digest: Digest, encoded: Vec<u8> },
    Fault(Evidence),
}

/// The events channel shared by the reporters and the driver task.
pub(crate) fn channel() -> (UnboundedSender<Event>, UnboundedReceiver<Event>) {
    unbounded()
}

/// Marshal's reporter: finalized blocks in height order, at least once.
#[derive(Clone)]
pub struct Finalizer {
    events: UnboundedSender<Event>,
}

impl Finalizer {
    pub(crate) fn new(events: UnboundedSender<Event>) -> Finalizer {
        Finalizer { events }
    }
}

impl Reporter for Finalizer {
    type Activity = Update<Block>;

    fn report(&mut self, update: Update<Block>) -> Feedback {
        match self.events.unbounded_send(Event::Update(update)) {
            Ok(()) => Feedback::Ok,
            Err(_) => Feedback::Closed,
        }
    }
}

/// The consensus engine's reporter: records certificates, liveness and faults, then passes
/// every activity on to `inner` (the marshal wrapper).
#[derive(Clone)]
pub struct Observer<R> {
    inner: R,
    events: UnboundedSender<Event>,
    node: Arc<Node>,
    scheme: Scheme,
    public_keys: Arc<Vec<String>>,
}

impl<R> Observer<R> {
    pub(crate) fn new(
        inner: R,
        events: UnboundedSender<Event>,
        node: Arc<Node>,
        scheme: Scheme,
    ) -> Observer<R> {
        let public_keys = scheme.participants().iter().map(|key| format!("{key}")).collect();
        Observer { inner, events, node, scheme, public_keys: Arc::new(public_keys) }
    }

    fn saw_vote(&self, signer: u32, view: u64) {
        self.node.update_consensus_status(|status| {
            status.view = status.view.max(view);
            let me = status.validator_index;
            if status.peers.is_empty() {
                status.peers = (0..self.public_keys.len() as u32)
                    .filter(|index| *index != me)
                    .map(|index| PeerStatus {
                        index,
                        public_key: self.public_keys[index as usize].clone(),
                        last_view: 0,
                        active: false,
                    })
                    .collect();
            }
            let current = status.view;
            for peer in &mut status.peers {
                if peer.index == signer {
                    peer.last_view = peer.last_view.max(view);
                }
                peer.active = peer.last_view > 0
                    && current.saturating_sub(peer.last_view) <= PEER_ACTIVE_VIEWS;
            }
        });
    }

    fn fault(
        &self,
        kind: &str,
        signer: u32,
        epoch: u64,
        view: u64,
        verified: bool,
        votes: Vec<u8>,
    ) {
        if !verified {
            tracing::warn!(kind, signer, "unverifiable fault evidence dropped");
            return;
        }
        let evidence = Evidence {
            kind: kind.into(),
            validator_index: signer,
            public_key: self.public_keys.get(signer as usize).cloned().unwrap_or_default(),
            epoch,
            view,
            votes: format!("0x{}", alloy_primitives::hex::encode(votes)),
        };
        let _ = self.events.unbounded_send(Event::Fault(evidence));
    }
}

impl<R: Reporter<Activity = Activity<Scheme, Digest>>> Reporter for Observer<R> {
    type Activity = Activity<Scheme, Digest>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        let mut rng = commonware_utils::sys_rng();
        match &activity {
            Activity::Notarize(vote) => self.saw_vote(vote.signer().get(), vote.view().get()),
            Activity::Finalize(vote) => self.saw_vote(vote.signer().get(), vote.view().get()),
            Activity::Nullify(vote) => self.saw_vote(vote.signer().get(), vote.view().get()),
            Activity::Finalization(finalization) => {
                let _ = self.events.unbounded_send(Event::Certificate {
                    digest: finalization.proposal.payload,
                    encoded: finalization.encode().to_vec(),
                });
            }
            Activity::ConflictingNotarize(fault) => self.fault(
                "conflicting_notarize",
                fault.signer().get(),
                fault.epoch().get(),
                fault.view().get(),
                fault.verify(&mut rng, &self.scheme, &Sequential),
                fault.encode().to_vec(),
            ),
            Activity::ConflictingFinalize(fault) => self.fault(
                "conflicting_finalize",
                fault.signer().get(),
                fault.epoch().get(),
                fault.view().get(),
                fault.verify(&mut rng, &self.scheme, &Sequential),
                fault.encode().to_vec(),
            ),
            Activity::NullifyFinalize(fault) => self.fault(
                "nullify_finalize",
                fault.signer().get(),
                fault.epoch().get(),
                fault.view().get(),
                fault.verify(&mut rng, &self.scheme, &Sequential),
                fault.encode().to_vec(),
            ),
            _ => {}
        }
        self.inner.report(activity)
    }
}

/// Handles the events in order until the channel closes or the node must stop.
pub(crate) async fn run<E>(
    context: E,
    mut events: UnboundedReceiver<Event>,
    replica: SharedReplica,
    node: Arc<Node>,
    marshal: Mailbox<Scheme, Standard<Block>>,
) where
    E: Spawner + Supervisor + Clock + Metrics,
{
    while let Some(event) = events.next().await {
        match event {
            Event::Update(Update::Tip(_, height, _)) => {
                node.update_consensus_status(|status| {
                    status.finalized_tip = status.finalized_tip.max(height.get());
                });
            }
            Event::Update(Update::Block(block, ack)) => {
                let height = block.height();
                let finalization: Option<Finalization> = marshal.get_finalization(height).await;
                let certificate = finalization
                    .filter(|f| f.proposal.payload == block.digest())
                    .map(|f| f.encode().to_vec());
                let shared = replica.clone();
                let outcome = context
                    .child("finalize")
                    .shared(true)
                    .spawn(move |_| async move {
                        let block = block.inner();
                        lock(&shared).finalize(block.header(), block.transactions(), certificate)
                    })
                    .await;
                match outcome {
                    Ok(Ok(Finalized::Committed(_) | Finalized::AlreadyCommitted)) => {
                        ack.acknowledge();
                    }
                    Ok(Err(error)) => {
                        // Dropping the acknowledgement stops marshal: nothing after this block
                        // is applied on a state the network does not share.
                        halt(&replica, &error);
                        return;
                    }
                    Err(_) => return,
                }
            }
            Event::Certificate { digest, encoded } => {
                let shared = replica.clone();
                let outcome = context
                    .child("certificate")
                    .shared(true)
                    .spawn(move |_| async move {
                        lock(&shared).record_certificate(hash_of(&digest), encoded)
                    })
                    .await;
                if let Ok(Err(error)) = outcome {
                    halt(&replica, &error);
                    return;
                }
            }
            Event::Fault(evidence) => {
                tracing::warn!(
                    kind = evidence.kind,
                    validator = evidence.validator_index,
                    view = evidence.view,
                    "a validator signed conflicting votes; evidence recorded, peer blocked"
                );
                let json = serde_json::to_vec(&evidence).unwrap_or_default();
                if let Err(error) = node.record_evidence(&json) {
                    tracing::error!(%error, "recording evidence failed");
                }
            }
        }
    }
}

fn halt(replica: &SharedReplica, error: &ReplicaError) {
    lock(replica).halt(&error.to_string());
}
