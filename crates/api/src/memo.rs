//! Read aggregates kept for the head block: what several reads need from one committed state
//! that costs more than the read itself (the vault's phase mix walks every open loan and values
//! its receipts; a request's QEV estimate projects every open loan's repayments, and its place
//! in the waiting order is read from the queue's trees once the waiting order is known to follow
//! the ids, which takes a walk of it; the points
//! leaderboard reads every holder). They follow the time and the valuations, so the core cannot
//! keep them as running totals between blocks; each is made
//! at the first read that needs it after a block and handed to every later read of that block,
//! so its cost follows the blocks, not the reads.
//!
//! Guarantees: a value is only ever handed out for the block it was made from (keyed by the
//! block's hash, which commits to its whole state), so it is exactly what the read would have
//! computed itself; nothing here is part of the state or changes it. Two reads that find the
//! memo stale at once may both make the value (the same value); the later one is kept.

use alloy_primitives::B256;
use std::sync::{Arc, Mutex, PoisonError};

/// The aggregates kept, one memo each.
#[derive(Default)]
pub(crate) struct Memos {
    /// The vault's phase mix (`GET /v1/vault`).
    pub(crate) phase_mix: Memo<crate::dto::PhaseMixDto>,
    /// The points leaderboard's largest page (`GET /v1/points/leaderboard`).
    pub(crate) leaderboard: Memo<Vec<(alloy_primitives::Address, u128)>>,
    /// What every request's estimates share (`GET /v1/queue/{id}`).
    pub(crate) estimates: Memo<crate::credit::EstimateBasis>,
}

/// One value, made from the state of one block.
pub(crate) struct Memo<T> {
    slot: Mutex<Option<(B256, Arc<T>)>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo { slot: Mutex::new(None) }
    }
}

impl<T> Memo<T> {
    /// The value for block `block`: the kept one if it was made from that block, else `make`'s
    /// (made without holding the lock, then kept).
    pub(crate) fn get_or_make(&self, block: B256, make: impl FnOnce() -> T) -> Arc<T> {
        if let Some((kept_for, value)) = &*self.slot.lock().unwrap_or_else(PoisonError::into_inner)
            && *kept_for == block
        {
            return Arc::clone(value);
        }
        let value = Arc::new(make());
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((block, Arc::clone(&value)));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_made_once_per_block_and_never_handed_out_for_another() {
        let memo = Memo::default();
        let mut made = 0;
        let mut get = |block: u8, value: u32| {
            *memo.get_or_make(B256::repeat_byte(block), || {
                made += 1;
                value
            })
        };
        assert_eq!(get(1, 10), 10);
        assert_eq!(get(1, 11), 10, "kept for block 1");
        assert_eq!(get(2, 20), 20, "block 2 makes its own");
        assert_eq!(get(1, 12), 12, "back on block 1 (a fork): made again, not block 2's");
        assert_eq!(made, 3);
    }
}
