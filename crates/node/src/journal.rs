//! The acknowledged mempool on disk: a 202 means the transaction is stored.
//!
//! [`crate::Node::submit`] answers only once the admitted transaction is in the store's
//! `mempool` table, written with immediate durability; the block that includes it removes it in
//! its own write, so after a crash each acknowledged transaction is either waiting there or in a
//! block, never lost. Writes are grouped: one thread takes every transaction admitted while the
//! previous write was syncing and stores them in one durable write (group commit), so the cost
//! of an fsync is shared by everyone waiting on it.
//!
//! An entry is the transaction's arrival sequence (8 bytes, big-endian: the order the pending
//! state applied it in, which a restart keeps) followed by the signed transaction's JSON.

use alloy_primitives::B256;
use infrafi_store::{Store, StoreError};
use infrafi_tx::SignedTransaction;
use std::sync::{Arc, mpsc};

/// The most transactions one durable write takes.
pub const JOURNAL_BATCH_MAX: usize = 8_192;

/// An acknowledged transaction as stored.
pub use infrafi_store::MempoolEntry as JournalEntry;

/// Encodes a waiting transaction for the `mempool` table.
pub fn encode_entry(hash: B256, sequence: u64, tx: &SignedTransaction) -> JournalEntry {
    let mut bytes = sequence.to_be_bytes().to_vec();
    bytes.extend(crate::block::encode_json(tx));
    (hash.0, bytes)
}

/// Decodes an entry of the `mempool` table into its arrival sequence and transaction.
pub fn decode_entry(bytes: &[u8]) -> Option<(u64, SignedTransaction)> {
    let (sequence, json) = bytes.split_first_chunk::<8>()?;
    let tx = crate::block::decode_json(json).ok()?;
    Some((u64::from_be_bytes(*sequence), tx))
}

struct Request {
    entries: Vec<JournalEntry>,
    reply: mpsc::SyncSender<Result<(), String>>,
}

/// The writer: a thread that stores acknowledged transactions in grouped durable writes.
/// Dropping the journal ends the thread and waits for it, so the store is closed after.
pub(crate) struct Journal {
    requests: Option<mpsc::Sender<Request>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.requests.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl Journal {
    /// Starts the writer over `store`.
    pub(crate) fn start(store: Arc<Store>) -> std::io::Result<Journal> {
        let (requests, receiver) = mpsc::channel::<Request>();
        let writer = std::thread::Builder::new()
            .name("infrafi-mempool-journal".into())
            .spawn(move || write_loop(&store, &receiver))?;
        Ok(Journal { requests: Some(requests), writer: Some(writer) })
    }

    /// Stores `entries` durably; returns once they are on disk (or why not).
    pub(crate) fn persist(&self, entries: Vec<JournalEntry>) -> Result<(), String> {
        if entries.is_empty() {
            return Ok(());
        }
        let (reply, answer) = mpsc::sync_channel(1);
        self.requests
            .as_ref()
            .ok_or_else(|| "the mempool journal has stopped".to_string())?
            .send(Request { entries, reply })
            .map_err(|_| "the mempool journal has stopped".to_string())?;
        answer.recv().map_err(|_| "the mempool journal has stopped".to_string())?
    }
}

fn write_loop(store: &Store, receiver: &mpsc::Receiver<Request>) {
    while let Ok(first) = receiver.recv() {
        let mut group = vec![first];
        let mut count = group[0].entries.len();
        while count < JOURNAL_BATCH_MAX {
            match receiver.try_recv() {
                Ok(request) => {
                    count += request.entries.len();
                    group.push(request);
                }
                Err(_) => break,
            }
        }
        let entries: Vec<JournalEntry> =
            group.iter().flat_map(|r| r.entries.iter().cloned()).collect();
        let result = store.mempool_insert(&entries).map_err(|e: StoreError| e.to_string());
        if let Err(error) = &result {
            tracing::error!(%error, "storing acknowledged transactions failed");
        }
        for request in group {
            // A submitter that gave up is not an error.
            let _ = request.reply.send(result.clone());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use infrafi_core::Action;
    use infrafi_core::action::HarvestBaseYield;
    use infrafi_tx::SigningKey;

    #[test]
    fn an_entry_round_trips_with_its_arrival_sequence() {
        let tx =
            SigningKey::from_seed("a").sign(1, 3, &Action::HarvestBaseYield(HarvestBaseYield {}));
        let (hash, bytes) = encode_entry(tx.hash(), 77, &tx);
        assert_eq!(hash, tx.hash().0);
        assert_eq!(decode_entry(&bytes), Some((77, tx)));
        assert_eq!(decode_entry(&bytes[..5]), None);
    }

    #[test]
    fn concurrent_submitters_share_durable_writes_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let journal = Arc::new(Journal::start(store.clone()).unwrap());
        let threads: Vec<_> = (0..8u8)
            .map(|i| {
                let journal = journal.clone();
                std::thread::spawn(move || {
                    for j in 0..25u8 {
                        let mut hash = [0u8; 32];
                        (hash[0], hash[1]) = (i, j);
                        journal.persist(vec![(hash, vec![i, j])]).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(store.mempool_entries().unwrap().len(), 200);
    }
}
