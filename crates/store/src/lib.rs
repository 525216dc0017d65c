//! infrafi-store: the node's durable store on redb.
//!
//! One redb file holds the block log (headers, bodies), receipts by transaction hash, the
//! state as leaves (see `infrafi_core::leaves`), and a little metadata (chain id, genesis,
//! head height). A block is committed by one redb write transaction with immediate
//! durability: after a crash it is either all there (header, body, receipts, leaf changes,
//! head, and in validator mode the block's finalization certificate) or not at all. The store
//! deals in bytes; the node owns the encodings.
//!
//! The leaf log. A block does not write its changed leaves into the `leaves` table: it writes
//! them as one record keyed by its height in `leaf_changes`, so its write is one sequential
//! insert whatever the size of the state. Written into `leaves` directly, a block's leaves
//! landed on pages spread over the whole table: at a million accounts each changed leaf
//! dirtied a page of its own, read back from the file (the page cache holds a fraction of the
//! table) and written again (docs/node.md, "A block's cost at scale"). The records are folded
//! into `leaves` later ([`Store::fold_leaf_changes`], which the node calls after publishing a
//! block once [`Store::fold_is_due`]): the changes of many blocks at once, each key written
//! once with its last value, in key order, and the folded records deleted in the same write.
//! A fold is one transaction: after a crash the records are either still there and `leaves`
//! as before, or folded and gone, so nothing committed is lost and nothing applied twice (a
//! record applied again would write the same values anyway). The state is `leaves` with the
//! records still in the log applied in height order ([`Store::leaves`]). A commit folds first
//! when the log holds [`UNFOLDED_BLOCKS_MAX`] blocks or [`UNFOLDED_LEAVES_MAX`] changes, so
//! the log stays bounded whoever owns the store. A data directory written before the log
//! has every leaf in `leaves` and an empty log, and opens as it is; a build from before the
//! log opening a directory with records not yet folded refuses to start (the state it reads
//! has another root than the head's).
//!
//! History samples (figures of the committed state at a fixed cadence of block time, see
//! `infrafi_node::history`) are written in the same transaction as the block they were read
//! from, keyed by that block's timestamp, so a crash never leaves a sample without its block.
//!
//! The acknowledged mempool ([`Journal`]): a transaction the node answered 202 for is in the
//! `waiting` table of a database file of its own, `mempool.redb` (written durably before the
//! answer), until the block that includes it is committed; the node then forgets it there. A
//! file of its own because redb has one writer per database: in the block store, a block's
//! write and the admission's writes waited for each other. After a crash an acknowledged
//! transaction is in a block or in the journal (or, if the crash came between the block's write
//! and the journal's forgetting, in both: the node then forgets it at start, finding its
//! receipt). The table is keyed by arrival sequence, so admission appends at its end and a
//! block, which takes transactions in arrival order, forgets runs of neighbouring keys.
//! Older journals kept a `mempool` table keyed by transaction hash
//! ([`Journal::legacy_entries`]), and stores written before the journal had its own file kept
//! that table in the block store ([`Store::mempool_entries`]); the node moves what it finds in
//! either at start.

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
};
use std::{
    collections::BTreeMap,
    path::Path,
    sync::{Mutex, PoisonError},
};

/// Block headers by height.
const HEADERS: TableDefinition<u64, &[u8]> = TableDefinition::new("headers");
/// Block bodies (transactions and block events) by height.
const BODIES: TableDefinition<u64, &[u8]> = TableDefinition::new("bodies");
/// Receipts by transaction hash.
const RECEIPTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("receipts");
/// State leaves: leaf key to value.
const LEAVES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("leaves");
/// The leaf log: a block's changed leaves by height, until folded into [`LEAVES`] (see the
/// crate doc). Each record is [`encode_leaf_changes`]'s.
const LEAF_CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("leaf_changes");
/// History samples by block timestamp.
const HISTORY: TableDefinition<u64, &[u8]> = TableDefinition::new("history");
/// Acknowledged transactions not yet in a block, by transaction hash (the node's encoding):
/// the block store's table before the journal had a file of its own, and the journal's before
/// it was keyed by arrival ([`JOURNAL_WAITING`]).
const MEMPOOL: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("mempool");
/// The journal's acknowledged transactions by arrival sequence: the transaction's hash (32
/// bytes) followed by the node's encoding.
const JOURNAL_WAITING: TableDefinition<u64, &[u8]> = TableDefinition::new("waiting");
/// Metadata: `head`, `chain_id`, `genesis`, `state_format`, and `floor` for a store started
/// from a state snapshot.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Validator mode: the finalization certificate of a block, by height (opaque bytes: the
/// consensus adapter owns the encoding).
const CERTIFICATES: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");
/// Validator mode: evidence of faults (conflicting votes), in the order recorded.
const EVIDENCE: TableDefinition<u64, &[u8]> = TableDefinition::new("evidence");

/// An acknowledged transaction as older stores kept it: its hash and the node's encoding of it.
pub type MempoolEntry = ([u8; 32], Vec<u8>);

/// An acknowledged transaction as the [`Journal`] stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    /// Its arrival sequence, the key: the order the node admitted it in, unique per transaction.
    pub sequence: u64,
    /// The transaction's hash.
    pub hash: [u8; 32],
    /// The node's encoding of the transaction.
    pub bytes: Vec<u8>,
}

/// A leaf as stored: key and value bytes.
pub type LeafBytes = (Vec<u8>, Vec<u8>);

/// A leaf a block changed: its key, and its new value or `None` when removed.
pub type LeafChange = (Vec<u8>, Option<Vec<u8>>);

/// The last change of each key, in key order.
type LastChanges = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The file name of the database inside the data directory.
pub const DATABASE_FILE: &str = "infrafi.redb";

/// A store failure. The node treats every one as fatal for the block at hand.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] redb::Error),
    /// The data directory could not be created.
    #[error("data directory {path}: {source}")]
    Directory {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A state snapshot can only start an empty store.
    #[error("the store already holds blocks up to {head}")]
    NotEmpty {
        /// The stored head.
        head: u64,
    },
    /// A commit is not the successor of the head.
    #[error("block {got} does not follow the head {head:?}")]
    HeightNotNext {
        /// The stored head.
        head: Option<u64>,
        /// The height being committed.
        got: u64,
    },
    /// Stored bytes are not what they should be.
    #[error("corrupt store: {0}")]
    Corrupt(String),
}

macro_rules! from_redb {
    ($($error:ty),*) => {
        $(impl From<$error> for StoreError {
            fn from(error: $error) -> StoreError {
                StoreError::Database(error.into())
            }
        })*
    };
}
from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

/// Everything one block changes, committed atomically.
#[derive(Clone, Debug, Default)]
pub struct CommitBatch {
    /// The block's height: the head's successor (or 0 for genesis on an empty store).
    pub height: u64,
    /// The encoded header.
    pub header: Vec<u8>,
    /// The encoded body.
    pub body: Vec<u8>,
    /// Encoded receipts by transaction hash.
    pub receipts: Vec<([u8; 32], Vec<u8>)>,
    /// Leaf writes; `None` removes the leaf.
    pub leaves: Vec<LeafChange>,
    /// Metadata written with the block (genesis only, in practice).
    pub meta: Vec<(String, Vec<u8>)>,
    /// A history sample taken of the block's state, keyed by its timestamp.
    pub history: Option<(u64, Vec<u8>)>,
    /// The block's finalization certificate (validator mode), stored with it.
    pub certificate: Option<Vec<u8>>,
}

/// A stored history sample: the block timestamp it was taken at and its encoding.
pub type HistoryBytes = (u64, Vec<u8>);

/// The bytes of redb's page cache (pages read, and pages written but not yet flushed) when the
/// node does not say otherwise. redb's own default is 1 GiB, and its cache keeps the pages a
/// commit writes until that limit: a node appending blocks and receipts grew by what it wrote
/// (the soak: 40 -> 187 MB in ten minutes, a heap profile put 62 of the 63 MB of heap in
/// redb's cached pages), towards a gigabyte. The node keeps its state in memory and reads the
/// store only for the blocks, receipts and history clients ask for, mostly recent ones; what
/// the cache does not hold is read from the file (through the operating system's page cache).
pub const CACHE_BYTES_DEFAULT: usize = 32 * 1024 * 1024;

/// The node folds the leaf log once it holds this many leaf changes ([`Store::fold_is_due`]):
/// a fold then writes each changed key once (a key changed in many blocks, such as an active
/// sender's balance, costs one write instead of one per block), and restart reads at most
/// about this many changes besides the `leaves` table (under `bench-node`'s transfers at a
/// million accounts: one fold per ~20 blocks of ~3,000 transactions).
pub const FOLD_LEAVES_MIN: u64 = 25_000;
/// ... or this many blocks, so an idle chain's records are folded too.
pub const FOLD_BLOCKS_MIN: u64 = 64;
/// A commit folds the log first when it holds this many blocks (a store whose owner never
/// folds keeps a bounded log).
pub const UNFOLDED_BLOCKS_MAX: u64 = 1_024;
/// ... or this many leaf changes.
pub const UNFOLDED_LEAVES_MAX: u64 = 1_000_000;

/// What the leaf log holds, not yet folded into the `leaves` table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnfoldedLeaves {
    /// Block records.
    pub blocks: u64,
    /// Leaf changes in them (a key changed in two blocks counts twice).
    pub leaves: u64,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    db: Database,
    /// What the leaf log holds (kept in memory: read at open, then counted at each write).
    unfolded: Mutex<UnfoldedLeaves>,
}

impl Store {
    /// Opens (or creates) the store in `directory` with a page cache of
    /// [`CACHE_BYTES_DEFAULT`].
    pub fn open(directory: &Path) -> Result<Store, StoreError> {
        Store::open_with_cache(directory, CACHE_BYTES_DEFAULT)
    }

    /// Opens (or creates) the store in `directory`; redb caches at most `cache_bytes` of pages.
    pub fn open_with_cache(directory: &Path, cache_bytes: usize) -> Result<Store, StoreError> {
        std::fs::create_dir_all(directory).map_err(|source| StoreError::Directory {
            path: directory.display().to_string(),
            source,
        })?;
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(directory.join(DATABASE_FILE))?;
        let write = db.begin_write()?;
        {
            // Create every table so that readers never meet a missing one.
            write.open_table(HEADERS)?;
            write.open_table(BODIES)?;
            write.open_table(RECEIPTS)?;
            write.open_table(LEAVES)?;
            write.open_table(LEAF_CHANGES)?;
            write.open_table(META)?;
            write.open_table(HISTORY)?;
            write.open_table(MEMPOOL)?;
            write.open_table(CERTIFICATES)?;
            write.open_table(EVIDENCE)?;
        }
        write.commit()?;
        let unfolded = unfolded_in(&db)?;
        Ok(Store { db, unfolded: Mutex::new(unfolded) })
    }

    /// The height of the last committed block; `None` for an empty store.
    pub fn head(&self) -> Result<Option<u64>, StoreError> {
        match self.meta("head")? {
            None => Ok(None),
            Some(bytes) => {
                let array: [u8; 8] = bytes
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("head is not 8 bytes".into()))?;
                Ok(Some(u64::from_be_bytes(array)))
            }
        }
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let read = self.db.begin_read()?;
        let table = read.open_table(META)?;
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }

    /// Sets a metadata value outside a block (an operator's repair, or a test).
    pub fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let write = self.db.begin_write()?;
        write.open_table(META)?.insert(key, value)?;
        write.commit()?;
        Ok(())
    }

    /// Commits one block durably; it must follow the head. Genesis (the first block of an
    /// empty store, with every leaf of the state) writes its leaves into the `leaves` table;
    /// every later block writes its changed leaves as one record of the leaf log.
    pub fn commit(&self, batch: &CommitBatch) -> Result<(), StoreError> {
        let head = self.head()?;
        let expected = head.map_or(0, |h| h + 1);
        if batch.height != expected {
            return Err(StoreError::HeightNotNext { head, got: batch.height });
        }
        let unfolded = self.unfolded();
        if unfolded.blocks >= UNFOLDED_BLOCKS_MAX || unfolded.leaves >= UNFOLDED_LEAVES_MAX {
            self.fold_leaf_changes()?;
        }
        self.write_block(batch, head.is_some())
    }

    /// Starts an empty store at `batch.height` instead of at genesis (a validator starting
    /// from a state snapshot): the batch carries every leaf of the state at that block.
    pub fn initialize_at(&self, batch: &CommitBatch) -> Result<(), StoreError> {
        if let Some(head) = self.head()? {
            return Err(StoreError::NotEmpty { head });
        }
        self.write_block(batch, false)
    }

    /// What the leaf log holds, not yet folded.
    pub fn unfolded(&self) -> UnfoldedLeaves {
        *self.unfolded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the leaf log holds enough to fold: [`FOLD_LEAVES_MIN`] changes or
    /// [`FOLD_BLOCKS_MIN`] blocks.
    pub fn fold_is_due(&self) -> bool {
        let unfolded = self.unfolded();
        unfolded.leaves >= FOLD_LEAVES_MIN || unfolded.blocks >= FOLD_BLOCKS_MIN
    }

    /// Folds every record of the leaf log into the `leaves` table in one durable write (each
    /// key written once, with its last value, in key order) and deletes them; returns what was
    /// folded. Readers of [`Store::leaves`] see the same state before and after.
    pub fn fold_leaf_changes(&self) -> Result<UnfoldedLeaves, StoreError> {
        let mut write = self.db.begin_write()?;
        write.set_durability(Durability::Immediate)?;
        let folded = {
            let mut log = write.open_table(LEAF_CHANGES)?;
            let (changes, folded) = logged_changes(&log)?;
            let mut leaves = write.open_table(LEAVES)?;
            for (key, value) in &changes {
                match value {
                    Some(value) => leaves.insert(key.as_slice(), value.as_slice())?,
                    None => leaves.remove(key.as_slice())?,
                };
            }
            log.retain(|_, _| false)?;
            folded
        };
        write.commit()?;
        let mut unfolded = self.unfolded.lock().unwrap_or_else(PoisonError::into_inner);
        unfolded.blocks = unfolded.blocks.saturating_sub(folded.blocks);
        unfolded.leaves = unfolded.leaves.saturating_sub(folded.leaves);
        Ok(folded)
    }

    /// Writes a block; its leaves as a record of the leaf log when `logged`, otherwise into
    /// the `leaves` table (genesis, a snapshot's start: the store is empty).
    fn write_block(&self, batch: &CommitBatch, logged: bool) -> Result<(), StoreError> {
        let logged = logged && !batch.leaves.is_empty();
        let mut write = self.db.begin_write()?;
        write.set_durability(Durability::Immediate)?;
        {
            write.open_table(HEADERS)?.insert(batch.height, batch.header.as_slice())?;
            write.open_table(BODIES)?.insert(batch.height, batch.body.as_slice())?;
            let mut receipts = write.open_table(RECEIPTS)?;
            for (hash, receipt) in &batch.receipts {
                receipts.insert(hash, receipt.as_slice())?;
            }
            if logged {
                let record = encode_leaf_changes(&batch.leaves)?;
                write.open_table(LEAF_CHANGES)?.insert(batch.height, record.as_slice())?;
            } else {
                let mut leaves = write.open_table(LEAVES)?;
                for (key, value) in &batch.leaves {
                    match value {
                        Some(value) => leaves.insert(key.as_slice(), value.as_slice())?,
                        None => leaves.remove(key.as_slice())?,
                    };
                }
            }
            let mut meta = write.open_table(META)?;
            for (key, value) in &batch.meta {
                meta.insert(key.as_str(), value.as_slice())?;
            }
            meta.insert("head", batch.height.to_be_bytes().as_slice())?;
            if let Some((timestamp, sample)) = &batch.history {
                write.open_table(HISTORY)?.insert(*timestamp, sample.as_slice())?;
            }
            if let Some(certificate) = &batch.certificate {
                write.open_table(CERTIFICATES)?.insert(batch.height, certificate.as_slice())?;
            }
        }
        write.commit()?;
        if logged {
            let mut unfolded = self.unfolded.lock().unwrap_or_else(PoisonError::into_inner);
            unfolded.blocks += 1;
            unfolded.leaves += batch.leaves.len() as u64;
        }
        Ok(())
    }

    /// Records acknowledged transactions in the block store's `mempool` table durably, as nodes
    /// did before the [`Journal`] had a file of its own (a test builds such a store with it).
    pub fn mempool_insert(&self, entries: &[MempoolEntry]) -> Result<(), StoreError> {
        let mut write = self.db.begin_write()?;
        write.set_durability(Durability::Immediate)?;
        {
            let mut mempool = write.open_table(MEMPOOL)?;
            for (hash, entry) in entries {
                mempool.insert(hash, entry.as_slice())?;
            }
        }
        write.commit()?;
        Ok(())
    }

    /// Forgets acknowledged transactions stored in the block store by a node from before the
    /// [`Journal`] had a file of its own (the node has moved them there).
    pub fn mempool_remove(&self, hashes: &[[u8; 32]]) -> Result<(), StoreError> {
        let write = self.db.begin_write()?;
        {
            let mut mempool = write.open_table(MEMPOOL)?;
            for hash in hashes {
                mempool.remove(hash)?;
            }
        }
        write.commit()?;
        Ok(())
    }

    /// The acknowledged transactions a node from before the [`Journal`] had a file of its own
    /// left in the block store's `mempool` table, by hash.
    pub fn mempool_entries(&self) -> Result<Vec<MempoolEntry>, StoreError> {
        mempool_entries(&self.db)
    }

    /// Stores the finalization certificate of a committed block that was committed without
    /// one (it arrived later). Returns false, changing nothing, if one is already stored.
    pub fn put_certificate(&self, height: u64, certificate: &[u8]) -> Result<bool, StoreError> {
        let mut write = self.db.begin_write()?;
        write.set_durability(Durability::Immediate)?;
        let stored = {
            let mut table = write.open_table(CERTIFICATES)?;
            if table.get(height)?.is_some() {
                false
            } else {
                table.insert(height, certificate)?;
                true
            }
        };
        write.commit()?;
        Ok(stored)
    }

    /// The finalization certificate of the block at `height`, if one is stored.
    pub fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let read = self.db.begin_read()?;
        let table = read.open_table(CERTIFICATES)?;
        Ok(table.get(height)?.map(|v| v.value().to_vec()))
    }

    /// The highest height at or below `height` with a stored certificate.
    pub fn certified_at_or_below(&self, height: u64) -> Result<Option<u64>, StoreError> {
        let read = self.db.begin_read()?;
        let table = read.open_table(CERTIFICATES)?;
        let last = table.range(..=height)?.next_back().transpose()?;
        Ok(last.map(|(key, _)| key.value()))
    }

    /// Appends one piece of evidence durably; returns its sequence number.
    pub fn append_evidence(&self, evidence: &[u8]) -> Result<u64, StoreError> {
        let mut write = self.db.begin_write()?;
        write.set_durability(Durability::Immediate)?;
        let sequence = {
            let mut table = write.open_table(EVIDENCE)?;
            let next = table.last()?.map_or(0, |(key, _)| key.value() + 1);
            table.insert(next, evidence)?;
            next
        };
        write.commit()?;
        Ok(sequence)
    }

    /// Evidence from sequence number `from` on, at most `limit` pieces.
    pub fn evidence(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let read = self.db.begin_read()?;
        let table = read.open_table(EVIDENCE)?;
        let mut out = Vec::new();
        for entry in table.range(from..)?.take(limit) {
            let (key, value) = entry?;
            out.push((key.value(), value.value().to_vec()));
        }
        Ok(out)
    }

    /// The encoded header at `height`.
    pub fn header(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let read = self.db.begin_read()?;
        let table = read.open_table(HEADERS)?;
        Ok(table.get(height)?.map(|v| v.value().to_vec()))
    }

    /// The encoded body at `height`.
    pub fn body(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let read = self.db.begin_read()?;
        let table = read.open_table(BODIES)?;
        Ok(table.get(height)?.map(|v| v.value().to_vec()))
    }

    /// The encoded receipt of transaction `hash`.
    pub fn receipt(&self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let read = self.db.begin_read()?;
        let table = read.open_table(RECEIPTS)?;
        Ok(table.get(hash)?.map(|v| v.value().to_vec()))
    }

    /// The latest history sample, if any.
    pub fn history_latest(&self) -> Result<Option<HistoryBytes>, StoreError> {
        let read = self.db.begin_read()?;
        let table = read.open_table(HISTORY)?;
        Ok(table.last()?.map(|(t, v)| (t.value(), v.value().to_vec())))
    }

    /// For each half-open range `[from, to)` of block timestamps, the last sample in it: one
    /// consistent read, one B-tree descent per range (so the cost is bounded by the number of
    /// ranges, not by the samples they span).
    pub fn history_last_in(
        &self,
        ranges: &[(u64, u64)],
    ) -> Result<Vec<Option<HistoryBytes>>, StoreError> {
        let read = self.db.begin_read()?;
        let table = read.open_table(HISTORY)?;
        let mut out = Vec::with_capacity(ranges.len());
        for &(from, to) in ranges {
            let last = match from < to {
                true => table.range(from..to)?.next_back().transpose()?,
                false => None,
            };
            out.push(last.map(|(t, v)| (t.value(), v.value().to_vec())));
        }
        Ok(out)
    }

    /// Every state leaf, in key order: the `leaves` table with the leaf log's records applied
    /// in height order, in one consistent read.
    pub fn leaves(&self) -> Result<Vec<LeafBytes>, StoreError> {
        let read = self.db.begin_read()?;
        let (changes, _) = logged_changes(&read.open_table(LEAF_CHANGES)?)?;
        let table = read.open_table(LEAVES)?;
        let mut out = Vec::with_capacity(usize::try_from(table.len()?).unwrap_or(0));
        let mut changes = changes.into_iter().peekable();
        for entry in table.iter()? {
            let (key, value) = entry?;
            let key = key.value();
            // Changed keys before this one are new leaves (or removals of absent ones).
            while let Some((changed, value)) =
                changes.next_if(|(changed, _)| changed.as_slice() < key)
            {
                if let Some(value) = value {
                    out.push((changed, value));
                }
            }
            match changes.next_if(|(changed, _)| changed.as_slice() == key) {
                Some((changed, Some(value))) => out.push((changed, value)),
                Some((_, None)) => {}
                None => out.push((key.to_vec(), value.value().to_vec())),
            }
        }
        out.extend(changes.filter_map(|(key, value)| Some((key, value?))));
        Ok(out)
    }
}

/// The leaf log's records, in height order, as the last change of each key (in key order),
/// and what they hold.
fn logged_changes(
    log: &impl ReadableTable<u64, &'static [u8]>,
) -> Result<(LastChanges, UnfoldedLeaves), StoreError> {
    let mut changes = BTreeMap::new();
    let mut held = UnfoldedLeaves::default();
    for entry in log.iter()? {
        let (height, record) = entry?;
        let leaves = decode_leaf_changes(record.value()).map_err(|error| {
            StoreError::Corrupt(format!("leaf log record {}: {error}", height.value()))
        })?;
        held.blocks += 1;
        held.leaves += leaves.len() as u64;
        changes.extend(leaves);
    }
    Ok((changes, held))
}

/// What the leaf log of `db` holds: each record's count, read from its first bytes.
fn unfolded_in(db: &Database) -> Result<UnfoldedLeaves, StoreError> {
    let read = db.begin_read()?;
    let log = read.open_table(LEAF_CHANGES)?;
    let mut held = UnfoldedLeaves::default();
    for entry in log.iter()? {
        let (height, record) = entry?;
        let count = record.value().first_chunk::<4>().ok_or_else(|| {
            StoreError::Corrupt(format!("leaf log record {} has no count", height.value()))
        })?;
        held.blocks += 1;
        held.leaves += u64::from(u32::from_le_bytes(*count));
    }
    Ok(held)
}

/// A leaf log record: the count (u32, little-endian), then per leaf its key's length (u32)
/// and bytes, and its value's length plus one (u32; 0: the leaf is removed) and bytes.
fn encode_leaf_changes(leaves: &[LeafChange]) -> Result<Vec<u8>, StoreError> {
    let too_long = || StoreError::Corrupt("a leaf or a block's leaf count exceeds u32".into());
    let size: usize =
        leaves.iter().map(|(key, value)| 8 + key.len() + value.as_ref().map_or(0, Vec::len)).sum();
    let mut out = Vec::with_capacity(4 + size);
    out.extend_from_slice(&u32::try_from(leaves.len()).map_err(|_| too_long())?.to_le_bytes());
    for (key, value) in leaves {
        out.extend_from_slice(&u32::try_from(key.len()).map_err(|_| too_long())?.to_le_bytes());
        out.extend_from_slice(key);
        let tag = match value {
            Some(value) => u32::try_from(value.len()).ok().and_then(|n| n.checked_add(1)),
            None => Some(0),
        };
        out.extend_from_slice(&tag.ok_or_else(too_long)?.to_le_bytes());
        out.extend_from_slice(value.as_deref().unwrap_or_default());
    }
    Ok(out)
}

/// Reads an [`encode_leaf_changes`] record back; a malformed one is an error, never a panic.
fn decode_leaf_changes(mut bytes: &[u8]) -> Result<Vec<LeafChange>, String> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
        if bytes.len() < n {
            return Err(format!("{n} bytes expected, {} left", bytes.len()));
        }
        let (head, tail) = bytes.split_at(n);
        *bytes = tail;
        Ok(head)
    }
    fn length(bytes: &mut &[u8]) -> Result<u32, String> {
        let four = take(bytes, 4)?;
        Ok(u32::from_le_bytes([four[0], four[1], four[2], four[3]]))
    }
    let count = length(&mut bytes)?;
    // Each leaf takes at least 8 bytes: a count beyond that is corrupt, not an allocation.
    if u64::from(count) * 8 > bytes.len() as u64 {
        return Err(format!("{count} leaves do not fit in {} bytes", bytes.len()));
    }
    let mut leaves = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let key_len = length(&mut bytes)? as usize;
        let key = take(&mut bytes, key_len)?.to_vec();
        let value = match length(&mut bytes)? {
            0 => None,
            n => Some(take(&mut bytes, n as usize - 1)?.to_vec()),
        };
        leaves.push((key, value));
    }
    if !bytes.is_empty() {
        return Err(format!("{} bytes after the last leaf", bytes.len()));
    }
    Ok(leaves)
}

fn mempool_entries(db: &Database) -> Result<Vec<MempoolEntry>, StoreError> {
    let read = db.begin_read()?;
    let table = read.open_table(MEMPOOL)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (hash, value) = entry?;
        out.push((*hash.value(), value.value().to_vec()));
    }
    Ok(out)
}

/// The file name of the acknowledged-mempool journal inside the data directory.
pub const JOURNAL_FILE: &str = "mempool.redb";

/// The page cache of the journal: it holds only what waits for a block.
const JOURNAL_CACHE_BYTES: usize = 8 * 1024 * 1024;

/// Acknowledged transactions not yet in a block, by arrival sequence, in `mempool.redb` beside
/// the block store (see the crate doc): its writes never wait for a block's, nor a block's for
/// them.
#[derive(Debug)]
pub struct Journal {
    db: Database,
}

impl Journal {
    /// Opens (or creates) the journal in `directory`.
    pub fn open(directory: &Path) -> Result<Journal, StoreError> {
        std::fs::create_dir_all(directory).map_err(|source| StoreError::Directory {
            path: directory.display().to_string(),
            source,
        })?;
        let db = Database::builder()
            .set_cache_size(JOURNAL_CACHE_BYTES)
            .create(directory.join(JOURNAL_FILE))?;
        let write = db.begin_write()?;
        write.open_table(JOURNAL_WAITING)?;
        write.commit()?;
        Ok(Journal { db })
    }

    /// In one durable write, records `entries` and forgets the entries of the sequences in
    /// `forget` (those not stored are passed over). An entry whose sequence is stored replaces
    /// it (the node writes a transaction sent again under its first sequence: the same entry).
    pub fn write(&self, entries: &[JournalEntry], forget: &[u64]) -> Result<(), StoreError> {
        let mut write = self.db.begin_write()?;
        write.set_durability(Durability::Immediate)?;
        journal_put(&write, entries, forget)?;
        write.commit()?;
        Ok(())
    }

    /// Every acknowledged transaction not yet forgotten, in arrival order.
    pub fn entries(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let read = self.db.begin_read()?;
        let table = read.open_table(JOURNAL_WAITING)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (sequence, value) = entry?;
            let (sequence, value) = (sequence.value(), value.value());
            let (hash, bytes) = value.split_first_chunk::<32>().ok_or_else(|| {
                StoreError::Corrupt(format!("journal entry {sequence} is shorter than a hash"))
            })?;
            out.push(JournalEntry { sequence, hash: *hash, bytes: bytes.to_vec() });
        }
        Ok(out)
    }

    /// The acknowledged transactions a journal from before it was keyed by arrival holds, by
    /// hash (the node moves them with [`Journal::replace_legacy`]).
    pub fn legacy_entries(&self) -> Result<Vec<MempoolEntry>, StoreError> {
        match mempool_entries(&self.db) {
            Err(StoreError::Database(redb::Error::TableDoesNotExist(_))) => Ok(Vec::new()),
            found => found,
        }
    }

    /// In one durable write, records `moved` (the node's reading of [`Journal::legacy_entries`]
    /// and of the block store's [`Store::mempool_entries`]) and deletes the journal's table of
    /// before: a crash leaves its entries in one table or the other, never in neither.
    pub fn replace_legacy(&self, moved: &[JournalEntry]) -> Result<(), StoreError> {
        let mut write = self.db.begin_write()?;
        write.set_durability(Durability::Immediate)?;
        journal_put(&write, moved, &[])?;
        write.delete_table(MEMPOOL)?;
        write.commit()?;
        Ok(())
    }
}

/// [`Journal::write`]'s changes, in `write`, both in key order: admission's sequences mostly
/// follow the last stored one, so inserts append to the table's last pages, and a run of
/// consecutive sequences (a block takes transactions in arrival order) is removed as one range,
/// its leaf pages rewritten once instead of each key looked up from the root.
fn journal_put(
    write: &redb::WriteTransaction,
    entries: &[JournalEntry],
    forget: &[u64],
) -> Result<(), StoreError> {
    let mut waiting = write.open_table(JOURNAL_WAITING)?;
    let mut ordered: Vec<&JournalEntry> = entries.iter().collect();
    ordered.sort_unstable_by_key(|entry| entry.sequence);
    let mut value = Vec::new();
    for entry in ordered {
        value.clear();
        value.extend_from_slice(&entry.hash);
        value.extend_from_slice(&entry.bytes);
        waiting.insert(entry.sequence, value.as_slice())?;
    }
    let mut forget = forget.to_vec();
    forget.sort_unstable();
    forget.dedup();
    for run in forget.chunk_by(|a, b| a.checked_add(1) == Some(*b)) {
        match run {
            [one] => {
                waiting.remove(one)?;
            }
            [first, .., last] => waiting.retain_in(*first..=*last, |_, _| false)?,
            [] => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;

    fn batch(height: u64) -> CommitBatch {
        CommitBatch {
            height,
            header: vec![height as u8],
            body: vec![1, 2, 3],
            receipts: vec![([height as u8; 32], vec![9])],
            leaves: vec![(b"a".to_vec(), Some(vec![height as u8])), (b"b".to_vec(), None)],
            meta: Vec::new(),
            history: Some((1_000 + height * 10, vec![height as u8])),
            certificate: None,
        }
    }

    #[test]
    fn committed_blocks_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.head().unwrap(), None);
            store.commit(&batch(0)).unwrap();
            store.commit(&batch(1)).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.head().unwrap(), Some(1));
        assert_eq!(store.header(1).unwrap(), Some(vec![1]));
        assert_eq!(store.receipt(&[1; 32]).unwrap(), Some(vec![9]));
        assert_eq!(store.leaves().unwrap(), vec![(b"a".to_vec(), vec![1])]);
    }

    /// The page cache bounds what is kept in memory, never what is kept: a store whose cache is
    /// a few pages reads back every block, receipt and leaf it wrote, also after a reopen.
    #[test]
    fn a_store_with_a_cache_far_smaller_than_its_data_reads_everything_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache_bytes = 16 * 1024;
        let big = |height: u64| vec![height as u8; 4_096];
        for reopen in 0..2 {
            let store = Store::open_with_cache(dir.path(), cache_bytes).unwrap();
            for height in reopen * 100..(reopen + 1) * 100 {
                let mut block = batch(height);
                block.body = big(height);
                block.receipts = vec![([height as u8; 32], big(height))];
                store.commit(&block).unwrap();
            }
            for height in 0..(reopen + 1) * 100 {
                assert_eq!(store.body(height).unwrap(), Some(big(height)), "block {height}");
            }
            assert_eq!(store.receipt(&[199; 32]).unwrap().is_some(), reopen == 1);
        }
    }

    /// A block of `changes` at `height` with nothing else.
    fn leaf_block(height: u64, changes: Vec<LeafChange>) -> CommitBatch {
        CommitBatch {
            height,
            header: vec![1],
            body: vec![2],
            leaves: changes,
            ..Default::default()
        }
    }

    /// A deterministic pseudo-random sequence (xorshift), so a failure replays.
    fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// Blocks set and remove leaves over a small key space (so keys change again and again);
    /// after every block, whether the log was folded, the store reopened, or both, the leaves
    /// read back are the model's.
    #[test]
    fn the_leaves_read_back_are_those_committed_whether_folded_reopened_or_still_in_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let genesis: Vec<LeafChange> = (0..40u8).map(|k| (vec![k, 0], Some(vec![k]))).collect();
        model.extend(genesis.iter().map(|(k, v)| (k.clone(), v.clone().unwrap())));
        let mut store = Store::open(dir.path()).unwrap();
        store.commit(&leaf_block(0, genesis)).unwrap();
        assert_eq!(store.unfolded(), UnfoldedLeaves::default(), "genesis writes its leaves");
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for height in 1..120u64 {
            let mut changes = Vec::new();
            for _ in 0..next(&mut seed) % 12 {
                // Keys 0..80 with a second byte: before, among and after the stored ones.
                let key = vec![(next(&mut seed) % 80) as u8, (next(&mut seed) % 2) as u8];
                let value =
                    (!next(&mut seed).is_multiple_of(3)).then(|| height.to_le_bytes().to_vec());
                match &value {
                    Some(value) => model.insert(key.clone(), value.clone()),
                    None => model.remove(&key),
                };
                changes.push((key, value));
            }
            store.commit(&leaf_block(height, changes)).unwrap();
            match next(&mut seed) % 8 {
                0 => {
                    let before = store.unfolded();
                    assert_eq!(store.fold_leaf_changes().unwrap(), before);
                    assert_eq!(store.unfolded(), UnfoldedLeaves::default());
                }
                1 => {
                    let unfolded = store.unfolded();
                    drop(store);
                    store = Store::open(dir.path()).unwrap();
                    assert_eq!(store.unfolded(), unfolded, "the log's size is read back");
                }
                _ => {}
            }
            let expected: Vec<LeafBytes> = model.clone().into_iter().collect();
            assert_eq!(store.leaves().unwrap(), expected, "after block {height}");
        }
    }

    /// A fold is one write: a record applied to `leaves` is deleted from the log in it. Were a
    /// record applied again (it cannot be), it would write the same values.
    #[test]
    fn a_record_of_the_leaf_log_applied_again_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.commit(&leaf_block(0, vec![(b"a".to_vec(), Some(vec![0]))])).unwrap();
        let one = vec![(b"a".to_vec(), None), (b"b".to_vec(), Some(vec![1]))];
        store.commit(&leaf_block(1, one.clone())).unwrap();
        store.commit(&leaf_block(2, vec![(b"b".to_vec(), Some(vec![2]))])).unwrap();
        let expected = vec![(b"b".to_vec(), vec![2])];
        assert_eq!(store.leaves().unwrap(), expected);
        store.fold_leaf_changes().unwrap();
        assert_eq!(store.leaves().unwrap(), expected);
        let write = store.db.begin_write().unwrap();
        let record = encode_leaf_changes(&one).unwrap();
        write.open_table(LEAF_CHANGES).unwrap().insert(1, record.as_slice()).unwrap();
        write.open_table(LEAF_CHANGES).unwrap().insert(2, record.as_slice()).unwrap();
        write.commit().unwrap();
        // Block 1's record again, in place of block 2's too: the state is block 1's values.
        assert_eq!(store.leaves().unwrap(), vec![(b"b".to_vec(), vec![1])]);
        store.fold_leaf_changes().unwrap();
        assert_eq!(store.leaves().unwrap(), vec![(b"b".to_vec(), vec![1])]);
    }

    /// A store whose owner never folds (a replay, a tool) still keeps a bounded log: a commit
    /// folds first when the log holds `UNFOLDED_BLOCKS_MAX` blocks.
    #[test]
    fn a_store_whose_owner_never_folds_keeps_its_leaf_log_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.commit(&leaf_block(0, Vec::new())).unwrap();
        for height in 1..=UNFOLDED_BLOCKS_MAX + 3 {
            let key = (height % 7).to_le_bytes().to_vec();
            store
                .commit(&leaf_block(height, vec![(key, Some(height.to_le_bytes().to_vec()))]))
                .unwrap();
            assert!(store.unfolded().blocks <= UNFOLDED_BLOCKS_MAX, "after block {height}");
        }
        assert_eq!(store.unfolded().blocks, 3, "folded once, at the bound");
        assert_eq!(store.leaves().unwrap().len(), 7);
    }

    /// A data directory written before the leaf log (every leaf in `leaves`, no log table)
    /// opens as it is, and its next blocks go to the log.
    #[test]
    fn a_data_directory_from_before_the_leaf_log_opens_with_its_leaves() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::create(dir.path().join(DATABASE_FILE)).unwrap();
            let write = db.begin_write().unwrap();
            write.open_table(LEAVES).unwrap().insert(b"a".as_slice(), [1u8].as_slice()).unwrap();
            write.open_table(LEAVES).unwrap().insert(b"c".as_slice(), [3u8].as_slice()).unwrap();
            write.open_table(HEADERS).unwrap().insert(0, [0u8].as_slice()).unwrap();
            write.open_table(META).unwrap().insert("head", 0u64.to_be_bytes().as_slice()).unwrap();
            write.commit().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.unfolded(), UnfoldedLeaves::default());
        assert_eq!(
            store.leaves().unwrap(),
            vec![(b"a".to_vec(), vec![1]), (b"c".to_vec(), vec![3])]
        );
        store
            .commit(&leaf_block(1, vec![(b"b".to_vec(), Some(vec![2])), (b"c".to_vec(), None)]))
            .unwrap();
        assert_eq!(store.unfolded(), UnfoldedLeaves { blocks: 1, leaves: 2 });
        assert_eq!(
            store.leaves().unwrap(),
            vec![(b"a".to_vec(), vec![1]), (b"b".to_vec(), vec![2])]
        );
    }

    #[test]
    fn a_malformed_leaf_log_record_is_a_corrupt_store_not_a_panic() {
        let good = encode_leaf_changes(&[(b"k".to_vec(), Some(vec![7])), (b"r".to_vec(), None)]);
        let good = good.unwrap();
        assert_eq!(decode_leaf_changes(&good).unwrap().len(), 2);
        for cut in 0..good.len() {
            assert!(decode_leaf_changes(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(decode_leaf_changes(&longer).is_err());
        assert!(decode_leaf_changes(&u32::MAX.to_le_bytes()).is_err(), "a huge count");
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let write = store.db.begin_write().unwrap();
        write.open_table(LEAF_CHANGES).unwrap().insert(5, [9u8, 0, 0, 0, 1].as_slice()).unwrap();
        write.commit().unwrap();
        assert!(matches!(store.leaves(), Err(StoreError::Corrupt(m)) if m.contains("record 5")));
    }

    #[test]
    fn history_samples_are_committed_with_their_block_and_found_by_range() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            for height in 0..5 {
                store.commit(&batch(height)).unwrap();
            }
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.history_latest().unwrap(), Some((1_040, vec![4])));
        let found = store.history_last_in(&[(0, 1_000), (1_000, 1_025), (1_025, 2_000), (9, 9)]);
        assert_eq!(
            found.unwrap(),
            vec![None, Some((1_020, vec![2])), Some((1_040, vec![4])), None]
        );
    }

    fn entry(sequence: u64) -> JournalEntry {
        JournalEntry { sequence, hash: [sequence as u8; 32], bytes: vec![sequence as u8, 7] }
    }

    fn sequences(journal: &Journal) -> Vec<u64> {
        journal.entries().unwrap().iter().map(|entry| entry.sequence).collect()
    }

    #[test]
    fn an_acknowledged_transaction_stays_in_the_journal_until_it_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.commit(&batch(0)).unwrap();
            let journal = Journal::open(dir.path()).unwrap();
            // Admission's batches reach the writer in any order; the table keeps arrival order.
            journal.write(&[entry(2), entry(1)], &[]).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.entries().unwrap(), vec![entry(1), entry(2)], "it survives a reopen");
        // Block 1 includes transaction 1: the block's write leaves the journal alone (no write
        // waits for the other's), the node forgets it after.
        store.commit(&batch(1)).unwrap();
        assert_eq!(sequences(&journal), vec![1, 2]);
        journal.write(&[entry(3)], &[1, 9]).unwrap();
        assert_eq!(journal.entries().unwrap(), vec![entry(2), entry(3)]);
        assert!(store.mempool_entries().unwrap().is_empty(), "nothing in the block store");
    }

    #[test]
    fn forgetting_one_senders_transactions_as_ranges_leaves_every_other_waiting_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        journal.write(&(0..600).map(entry).collect::<Vec<_>>(), &[]).unwrap();
        // A block took every sequence below 500 but 3 and 250..260 (senders waiting on others
        // or past the block's limit), in no particular order, some twice.
        let taken: Vec<u64> =
            (0..500).rev().filter(|s| *s != 3 && !(250..260).contains(s)).chain([7, 7]).collect();
        journal.write(&[], &taken).unwrap();
        let left: Vec<u64> = [3].into_iter().chain(250..260).chain(500..600).collect();
        assert_eq!(sequences(&journal), left);
        // Single keys and runs, none of them stored, change nothing.
        journal.write(&[], &[1, 2, 700, 701, 702]).unwrap();
        assert_eq!(sequences(&journal), left);
    }

    #[test]
    fn a_journal_keyed_by_hash_is_read_back_and_replaced_in_one_write() {
        let dir = tempfile::tempdir().unwrap();
        {
            let journal = Journal::open(dir.path()).unwrap();
            assert!(journal.legacy_entries().unwrap().is_empty(), "a new journal has none");
            // As journals wrote before they were keyed by arrival.
            let write = journal.db.begin_write().unwrap();
            write.open_table(MEMPOOL).unwrap().insert(&[5; 32], [0u8, 1].as_slice()).unwrap();
            write.commit().unwrap();
        }
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.legacy_entries().unwrap(), vec![([5; 32], vec![0, 1])]);
        journal.replace_legacy(&[entry(5)]).unwrap();
        assert!(journal.legacy_entries().unwrap().is_empty());
        assert_eq!(journal.entries().unwrap(), vec![entry(5)]);
    }

    #[test]
    fn a_block_that_does_not_follow_the_head_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.commit(&batch(0)).unwrap();
        assert!(matches!(
            store.commit(&batch(2)),
            Err(StoreError::HeightNotNext { head: Some(0), got: 2 })
        ));
    }

    #[test]
    fn a_certificate_is_stored_with_its_block_or_once_later() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.commit(&batch(0)).unwrap();
        store.commit(&CommitBatch { certificate: Some(vec![7]), ..batch(1) }).unwrap();
        store.commit(&batch(2)).unwrap();
        assert_eq!(store.certificate(1).unwrap(), Some(vec![7]));
        assert_eq!(store.certificate(2).unwrap(), None);
        assert_eq!(store.certified_at_or_below(2).unwrap(), Some(1));
        assert!(store.put_certificate(2, &[8]).unwrap());
        assert!(!store.put_certificate(2, &[9]).unwrap(), "a stored certificate stays");
        assert_eq!(store.certificate(2).unwrap(), Some(vec![8]));
    }

    #[test]
    fn a_store_can_start_at_a_snapshot_height_only_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.initialize_at(&batch(40)).unwrap();
        assert_eq!(store.head().unwrap(), Some(40));
        assert!(matches!(store.initialize_at(&batch(41)), Err(StoreError::NotEmpty { head: 40 })));
        store.commit(&batch(41)).unwrap();
        assert_eq!(store.header(39).unwrap(), None);
    }

    #[test]
    fn evidence_is_appended_in_order_and_read_in_pages() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for piece in 0..5u8 {
            assert_eq!(store.append_evidence(&[piece]).unwrap(), u64::from(piece));
        }
        assert_eq!(store.evidence(3, 10).unwrap(), vec![(3, vec![3]), (4, vec![4])]);
        assert_eq!(store.evidence(0, 2).unwrap().len(), 2);
    }
}
