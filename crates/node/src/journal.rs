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
//! An entry is keyed by the transaction's arrival sequence (the order the pending state applied
//! it in, which a restart keeps) and holds its hash and the signed transaction's JSON. Keyed so,
//! admission's writes append at the table's end and a block, which takes transactions in
//! arrival order, forgets runs of neighbouring keys (keyed by hash, both were spread over the
//! whole table: 13% of the node's CPU under `bench-node`, docs/node.md). The writer keeps the
//! sequence of each hash it stored, so the block producer still forgets by hash.

use alloy_primitives::B256;
use infrafi_store::StoreError;
use infrafi_tx::SignedTransaction;
use std::{
    collections::{HashMap, HashSet},
    sync::mpsc,
};

/// The most transactions one durable write takes.
pub const JOURNAL_BATCH_MAX: usize = 8_192;

/// How many hashes forgotten before their entry arrived the writer remembers (in two
/// generations of this many), so that such an entry is not stored after all.
const FORGOTTEN_EARLY_MAX: usize = 65_536;

/// An acknowledged transaction as stored.
pub use infrafi_store::JournalEntry;

/// Encodes a waiting transaction for the journal.
pub fn encode_entry(hash: B256, sequence: u64, tx: &SignedTransaction) -> JournalEntry {
    entry_with_sequence(hash, sequence, entry_bytes(tx))
}

/// A transaction's stored bytes (its JSON): admission encodes them before taking the pool's
/// lock, when the arrival sequence is not known yet.
pub fn entry_bytes(tx: &SignedTransaction) -> Vec<u8> {
    serde_json::to_vec(tx).expect("transaction encoding cannot fail: every type is plain data")
}

/// The entry of `entry_bytes` once the transaction's arrival sequence is known.
pub fn entry_with_sequence(hash: B256, sequence: u64, bytes: Vec<u8>) -> JournalEntry {
    JournalEntry { sequence, hash: hash.0, bytes }
}

/// Decodes an entry's bytes into its transaction.
pub fn decode_entry(bytes: &[u8]) -> Option<SignedTransaction> {
    crate::block::decode_json(bytes).ok()
}

/// Reads an entry of the hash-keyed `mempool` table of older journals and block stores: the
/// arrival sequence (8 bytes, big-endian) followed by the transaction's JSON.
pub fn legacy_entry(hash: [u8; 32], bytes: &[u8]) -> Option<JournalEntry> {
    let (sequence, json) = bytes.split_first_chunk::<8>()?;
    Some(JournalEntry { sequence: u64::from_be_bytes(*sequence), hash, bytes: json.to_vec() })
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
    /// Starts the writer over `journal`, which holds the entries `stored` (hash and sequence).
    pub(crate) fn start(
        journal: infrafi_store::Journal,
        stored: impl IntoIterator<Item = ([u8; 32], u64)>,
    ) -> std::io::Result<Journal> {
        let (messages, receiver) = mpsc::channel::<Message>();
        let stored: HashMap<[u8; 32], u64> = stored.into_iter().collect();
        let writer = std::thread::Builder::new()
            .name("infrafi-mempool-journal".into())
            .spawn(move || write_loop(&journal, stored, &receiver))?;
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
    fn remember(&mut self, hash: [u8; 32]) {
        if self.recent.len() >= FORGOTTEN_EARLY_MAX {
            self.older = std::mem::take(&mut self.recent);
        }
        self.recent.insert(hash);
    }

    /// Whether `hash` was forgotten before its entry came (then it is forgotten for good).
    fn take(&mut self, hash: &[u8; 32]) -> bool {
        self.recent.remove(hash) || self.older.remove(hash)
    }
}

/// Entries stored, by hash: the sequence a forgotten hash is stored under. At most what the
/// file holds (a transaction whose nonce another one used is never forgotten by a block: it
/// stays in both until a restart forgets it).
type Stored = HashMap<[u8; 32], u64>;

fn write_loop(
    journal: &infrafi_store::Journal,
    mut stored: Stored,
    receiver: &mpsc::Receiver<Message>,
) {
    let mut forgotten_early = ForgottenEarly::default();
    while let Ok(first) = receiver.recv() {
        let mut replies = Vec::new();
        let mut entries: Vec<JournalEntry> = Vec::new();
        let mut forget: Vec<u64> = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Persist { entries: more, reply } => {
                    for entry in more {
                        // Already in a block: stored there (the answer is still "durable").
                        if !forgotten_early.take(&entry.hash) {
                            stored.insert(entry.hash, entry.sequence);
                            entries.push(entry);
                        }
                    }
                    replies.push(reply);
                }
                Message::Forget(hashes) => {
                    for hash in hashes {
                        match stored.remove(&hash) {
                            Some(sequence) => forget.push(sequence),
                            None => forgotten_early.remember(hash),
                        }
                    }
                }
            }
            if entries.len() < JOURNAL_BATCH_MAX {
                next = receiver.try_recv().ok();
            }
        }
        // A failed write leaves what it forgot in the file, where the restart finds it in a
        // block and forgets it.
        let result = journal.write(&entries, &forget).map_err(|e: StoreError| e.to_string());
        if let Err(error) = &result {
            tracing::error!(%error, "storing acknowledged transactions failed");
        }
        for reply in replies {
            // A submitter that gave up is not an error.
            let _ = reply.send(result.clone());
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
        let entry = entry_with_sequence(tx.hash(), 77, entry_bytes(&tx));
        assert_eq!((entry.sequence, entry.hash), (77, tx.hash().0));
        assert_eq!(decode_entry(&entry.bytes), Some(tx.clone()));
        assert_eq!(encode_entry(tx.hash(), 77, &tx), entry);
        assert_eq!(decode_entry(&entry.bytes[..5]), None);
        // Older stores put the sequence before the JSON, keyed by hash.
        let legacy = [77u64.to_be_bytes().as_slice(), &entry.bytes].concat();
        assert_eq!(legacy_entry(tx.hash().0, &legacy), Some(entry));
        assert_eq!(legacy_entry(tx.hash().0, &legacy[..7]), None);
    }

    fn entry(byte: u8, sequence: u64) -> JournalEntry {
        JournalEntry { sequence, hash: [byte; 32], bytes: vec![byte] }
    }

    fn entries_in(dir: &std::path::Path) -> Vec<JournalEntry> {
        infrafi_store::Journal::open(dir).unwrap().entries().unwrap()
    }

    #[test]
    fn concurrent_submitters_share_durable_writes_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let store = infrafi_store::Journal::open(dir.path()).unwrap();
        let journal = Arc::new(Journal::start(store, []).unwrap());
        let threads: Vec<_> = (0..8u8)
            .map(|i| {
                let journal = journal.clone();
                std::thread::spawn(move || {
                    for j in 0..25u8 {
                        let mut hash = [0u8; 32];
                        (hash[0], hash[1]) = (i, j);
                        let sequence = u64::from(i) * 25 + u64::from(j);
                        let entry = JournalEntry { sequence, hash, bytes: vec![i, j] };
                        journal.persist(vec![entry]).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(Arc::into_inner(journal).unwrap());
        let sequences: Vec<u64> = entries_in(dir.path()).iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn a_transaction_a_block_took_before_its_entry_was_written_is_not_left_in_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let store = infrafi_store::Journal::open(dir.path()).unwrap();
        let journal = Journal::start(store, []).unwrap();
        journal.persist(vec![entry(2, 1)]).unwrap();
        // 0's block committed while its entry was on its way; 2's after it was stored.
        journal.forget(vec![[0; 32], [2; 32]]);
        // Answered once written, so the forgetting (sent before) is written too.
        journal.persist(vec![entry(3, 2)]).unwrap();
        journal.persist(vec![entry(0, 0)]).unwrap();
        drop(journal);
        assert_eq!(entries_in(dir.path()), vec![entry(3, 2)]);
    }

    #[test]
    fn a_block_forgets_by_hash_what_was_stored_before_a_restart_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = infrafi_store::Journal::open(dir.path()).unwrap();
        let journal = Journal::start(store, []).unwrap();
        journal.persist((0..6).map(|i| entry(i, u64::from(i) + 10)).collect()).unwrap();
        drop(journal);
        let store = infrafi_store::Journal::open(dir.path()).unwrap();
        let stored: Vec<([u8; 32], u64)> =
            store.entries().unwrap().iter().map(|e| (e.hash, e.sequence)).collect();
        let journal = Journal::start(store, stored).unwrap();
        // A block took 0, 1, 2 and 4 (4's sender is another): 3 and 5 still wait.
        journal.forget(vec![[4; 32], [1; 32], [0; 32], [2; 32]]);
        journal.persist(vec![entry(6, 16)]).unwrap();
        drop(journal);
        assert_eq!(entries_in(dir.path()), vec![entry(3, 13), entry(5, 15), entry(6, 16)]);
    }
}
