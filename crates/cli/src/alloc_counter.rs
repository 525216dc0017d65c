//! A global allocator that counts live heap bytes, so benchmarks can report memory per account.
//!
//! Underneath is mimalloc rather than the C library's allocator: the simulator and the node
//! allocate and free small records (undo entries, event buffers, loan and receipt copies) at
//! every transaction, and mimalloc's thread-local free lists do that in a fraction of the
//! instructions (measured in the simulator's profile: docs/simulator.md).

use mimalloc::MiMalloc;
use std::{
    alloc::{GlobalAlloc, Layout},
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
};

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
/// Whether allocations are counted. Multi-threaded commands (the simulator) turn it off: every
/// thread updating one counter on every allocation made `simulate` about 35% slower on two
/// threads. Reading a flag nobody writes any more costs nothing.
static COUNTING: AtomicBool = AtomicBool::new(true);

/// Stops counting (for good): `live_bytes` is meaningless afterwards.
pub(crate) fn stop_counting() {
    COUNTING.store(false, Ordering::Relaxed);
}

/// mimalloc, counting live bytes.
pub(crate) struct CountingAllocator;

// SAFETY: every call forwards to mimalloc with the same layout; the counter is
// only arithmetic on the side.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { MiMalloc.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
}

/// Heap bytes allocated and not yet freed.
pub(crate) fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}
