//! Transaction forwarding between validators: a transaction a client submits to any validator
//! reaches every mempool, so whoever leads the next view can include it.
//!
//! Each validator sends the transactions its own clients submitted (the node's outbox) to every
//! other validator in batches; a received batch goes through the node's ordinary admission
//! (signatures checked across cores, then the mempool's rules) and is not forwarded again, so a
//! transaction crosses the network once per validator.

use commonware_cryptography::ed25519::PublicKey;
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Spawner, Supervisor};
use infrafi_node::Node;
use infrafi_tx::SignedTransaction;
use std::{sync::Arc, time::Duration};

/// How often the outbox is flushed to the other validators.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(20);
/// The largest batch of forwarded transactions, encoded.
pub const BATCH_BYTES_MAX: usize = 1024 * 1024;

/// Starts the sending and the receiving task.
pub fn start<E, S, R>(context: E, node: Arc<Node>, (sender, receiver): (S, R))
where
    E: Spawner + Supervisor + Clock,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    context.child("send").spawn({
        let node = node.clone();
        move |context| send(context, node, sender)
    });
    context.child("receive").spawn(move |context| receive(context, node, receiver));
}

/// Splits transactions into encoded batches of at most [`BATCH_BYTES_MAX`].
pub fn batches(transactions: Vec<SignedTransaction>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut batch: Vec<SignedTransaction> = Vec::new();
    let mut size = 0;
    for transaction in transactions {
        let tx_size = crate::block::transaction_size_bytes(&transaction);
        if !batch.is_empty() && size + tx_size + 16 > BATCH_BYTES_MAX {
            out.push(encode(&batch));
            batch.clear();
            size = 0;
        }
        size += tx_size;
        batch.push(transaction);
    }
    if !batch.is_empty() {
        out.push(encode(&batch));
    }
    out
}

fn encode(batch: &[SignedTransaction]) -> Vec<u8> {
    postcard::to_stdvec(batch).expect("transaction encoding cannot fail: plain data")
}

async fn send<E, S>(context: E, node: Arc<Node>, mut sender: S)
where
    E: Clock,
    S: Sender<PublicKey = PublicKey>,
{
    loop {
        context.sleep(FLUSH_INTERVAL).await;
        let transactions = node.take_outbox();
        if transactions.is_empty() {
            continue;
        }
        for batch in batches(transactions) {
            // A peer that is down misses the batch; the transactions stay in this validator's
            // mempool and are included when it leads.
            sender.send(Recipients::All, batch, false);
        }
    }
}

async fn receive<E, R>(context: E, node: Arc<Node>, mut receiver: R)
where
    E: Spawner + Supervisor,
    R: Receiver<PublicKey = PublicKey>,
{
    while let Ok((peer, message)) = receiver.recv().await {
        let bytes = message.as_ref().to_vec();
        let Ok(transactions) = postcard::from_bytes::<Vec<SignedTransaction>>(&bytes) else {
            tracing::warn!(%peer, "an undecodable transaction batch was dropped");
            continue;
        };
        let node = node.clone();
        // Signature checks are CPU work: off the async threads.
        let _ = context
            .child("admit")
            .shared(true)
            .spawn(move |_| async move { node.submit_from_peer(transactions) })
            .await;
    }
}
