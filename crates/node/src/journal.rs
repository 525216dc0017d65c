//! The acknowledged mempool on disk: a 202 means the transaction is stored.
//!
//! [`crate::Node::submit`] answers only once the admitted transaction is in the journal
//! ([`infrafi_store::Journal`], a database file of its own beside the block store), written with
//! immediate durability. After the block that includes it is committed the node forgets it
//! there ([`Journal::forget`]), so after a crash each acknowledged transaction is waiting in the
//! journal or in a block, never lost (in both if the crash fell between the block's write and the
//! forgetting: the restart forgets it then, finding its receipt). Writes are grouped: one thread
//! takes every transaction admitted (and every hash to forget) while the previous write was
//! syncing and stores them in one durable write (group commit), so the cost of an fsync is
//! shared by everyone waiting on it. The journal has its own file because redb has one writer
//! per database: in the block store, a block's write waited for the admission's and the other
//! way round.
//!
//! An entry is the transaction's arrival sequence (8 bytes, big-endian: the order the pending
//! state applied it in, which a restart keeps) followed by the signed transaction's JSON.

use alloy_primitives::B256;
use infrafi_store::StoreError;
use infrafi_tx::SignedTransaction;
use std::{collections::HashSet, sync::mpsc};

/// The most transactions one durable write takes.
pub const JOURNAL_BATCH_MAX: usize = 8_192;

/// How many hashes forgotten before their entry arrived the writer remembers (in two
/// generations of this many), so that such an entry is not stored after all.
const FORGOTTEN_EARLY_MAX: usize = 65_536;

/// An acknowledged transaction as stored.
pub use infrafi_store::MempoolEntry as JournalEntry;

/// Encodes a waiting transaction for the `mempool` table.
pub fn encode_entry(hash: B256, sequence: u64, tx: &SignedTransaction) -> JournalEntry {
    entry_with_sequence(hash, sequence, entry_bytes(tx))
}

/// A transaction's entry before its arrival sequence is known (8 bytes left for it, then its
/// JSON): admission encodes it before taking the pool's lock.
pub fn entry_bytes(tx: &SignedTransaction) -> Vec<u8> {
    let mut bytes = vec![0u8; 8];
    serde_json::to_writer(&mut bytes, tx)
        .expect("transaction encoding cannot fail: every type is plain data");
    bytes
}

/// The entry of `entry_bytes` once the transaction's arrival sequence is known.
pub fn entry_with_sequence(hash: B256, sequence: u64, mut bytes: Vec<u8>) -> JournalEntry {
    bytes[..8].copy_from_slice(&sequence.to_be_bytes());
    (hash.0, bytes)
}

/// Decodes an entry of the `mempool` table into its arrival sequence and transaction.
pub fn decode_entry(bytes: &[u8]) -> Option<(u64, SignedTransaction)> {
    let (sequence, json) = bytes.split_first_chunk::<8>()?;
    let tx = crate::block::decode_json(json).ok()?;
    Some((u64::from_be_bytes(*sequence), tx))
}

enum Message {
    /// Store these and answer once they are durable.
    Persist { entries: Vec<JournalEntry>, reply: mpsc::SyncSender<Result<(), String>> },
    /// These are in a committed block: forget them.
    Forget(Vec<[u8; 32]>),
}

/// The writer: a thread that stores acknowledged transactions in grouped durable writes.
/// Dropping the journal ends the thread after its last write and waits for it, so the file is
/// closed after.
pub(crate) struct Journal {
    messages: Option<mpsc::Sender<Message>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.messages.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl Journal {
    /// Starts the writer over `journal`.
    pub(crate) fn start(journal: infrafi_store::Journal) -> std::io::Result<Journal> {
        let (messages, receiver) = mpsc::channel::<Message>();
        let writer = std::thread::Builder::new()
            .name("infrafi-mempool-journal".into())
            .spawn(move || write_loop(&journal, &receiver))?;
        Ok(Journal { messages: Some(messages), writer: Some(writer) })
    }

    /// Stores `entries` durably; returns once they are on disk (or why not).
    pub(crate) fn persist(&self, entries: Vec<JournalEntry>) -> Result<(), String> {
        if entries.is_empty() {
            return Ok(());
        }
        let (reply, answer) = mpsc::sync_channel(1);
        self.messages
            .as_ref()
            .ok_or_else(|| "the mempool journal has stopped".to_string())?
            .send(Message::Persist { entries, reply })
            .map_err(|_| "the mempool journal has stopped".to_string())?;
        answer.recv().map_err(|_| "the mempool journal has stopped".to_string())?
    }

    /// Forgets `hashes`, transactions of a committed block, in the next write; returns at once
    /// (until that write they are found in a block after a crash, and forgotten then).
    pub(crate) fn forget(&self, hashes: Vec<[u8; 32]>) {
        if let (false, Some(messages)) = (hashes.is_empty(), &self.messages) {
            // A stopped writer forgets nothing: the restart does.
            let _ = messages.send(Message::Forget(hashes));
        }
    }
}

/// Hashes forgotten that had no entry yet: a block took the transaction while its entry was on
/// its way to the writer (admission pools a transaction before storing it). Two generations
/// bound the memory; a hash aged out only costs an entry the restart forgets.
#[derive(Default)]
struct ForgottenEarly {
    recent: HashSet<[u8; 32]>,
    older: HashSet<[u8; 32]>,
}

impl ForgottenEarly {
    fn remember(&mut self, hashes: Vec<[u8; 32]>) {
        for hash in hashes {
            if self.recent.len() >= FORGOTTEN_EARLY_MAX {
                self.older = std::mem::take(&mut self.recent);
            }
            self.recent.insert(hash);
        }
    }

    /// Whether `hash` was forgotten before its entry came (then it is forgotten for good).
    fn take(&mut self, hash: &[u8; 32]) -> bool {
        self.recent.remove(hash) || self.older.remove(hash)
    }
}

fn write_loop(journal: &infrafi_store::Journal, receiver: &mpsc::Receiver<Message>) {
    let mut forgotten_early = ForgottenEarly::default();
    while let Ok(first) = receiver.recv() {
        let mut replies = Vec::new();
        let mut entries: Vec<JournalEntry> = Vec::new();
        let mut forget: Vec<[u8; 32]> = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Persist { entries: more, reply } => {
                    entries.extend(more);
                    replies.push(reply);
                }
                Message::Forget(hashes) => forget.extend(hashes),
            }
            if entries.len() < JOURNAL_BATCH_MAX {
                next = receiver.try_recv().ok();
            }
        }
        // Already in a block: stored there (the answer is still "durable").
        entries.retain(|(hash, _)| !forgotten_early.take(hash));
        let result = journal.write(&entries, &forget).map_err(|e: StoreError| e.to_string());
        match &result {
            Ok(absent) => forgotten_early.remember(absent.clone()),
            Err(error) => tracing::error!(%error, "storing acknowledged transactions failed"),
        }
        let answer = result.map(|_| ());
        for reply in replies {
            // A submitter that gave up is not an error.
            let _ = reply.send(answer.clone());
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
    use std::sync::Arc;

    #[test]
    fn an_entry_round_trips_with_its_arrival_sequence() {
        let tx =
            SigningKey::from_seed("a").sign(1, 3, &Action::HarvestBaseYield(HarvestBaseYield {}));
        // As admission writes it: encoded before the sequence is known, then given it.
        let (hash, bytes) = entry_with_sequence(tx.hash(), 77, entry_bytes(&tx));
        assert_eq!(hash, tx.hash().0);
        assert_eq!(decode_entry(&bytes), Some((77, tx.clone())));
        assert_eq!(decode_entry(&encode_entry(tx.hash(), 78, &tx).1), Some((78, tx)));
        assert_eq!(decode_entry(&bytes[..5]), None);
    }

    fn entries_in(dir: &std::path::Path) -> Vec<JournalEntry> {
        infrafi_store::Journal::open(dir).unwrap().entries().unwrap()
    }

    #[test]
    fn concurrent_submitters_share_durable_writes_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let store = infrafi_store::Journal::open(dir.path()).unwrap();
        let journal = Arc::new(Journal::start(store).unwrap());
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
        drop(Arc::into_inner(journal).unwrap());
        assert_eq!(entries_in(dir.path()).len(), 200);
    }

    #[test]
    fn a_transaction_a_block_took_before_its_entry_was_written_is_not_left_in_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::start(infrafi_store::Journal::open(dir.path()).unwrap()).unwrap();
        let (early, late, waiting) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        journal.persist(vec![(late, vec![2])]).unwrap();
        // `early`'s block committed while its entry was on its way; `late`'s after it was stored.
        journal.forget(vec![early, late]);
        // Answered once written, so the forgetting (sent before) is written too.
        journal.persist(vec![(waiting, vec![3])]).unwrap();
        journal.persist(vec![(early, vec![1])]).unwrap();
        drop(journal);
        assert_eq!(entries_in(dir.path()), vec![(waiting, vec![3])]);
    }
}
