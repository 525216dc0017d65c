//! The signature checks of transaction batches take turns, first come, first served.
//!
//! A batch (`POST /v1/txs`, a validator's forwarded transactions) has its signatures recovered
//! across all cores. When every batch started its own parallel check at once, as under
//! `infrafi bench-node`'s 64 lanes posting 32,000 transactions together, the batches shared the
//! cores and finished together: a rayon worker waiting inside one batch's split picks up the
//! next batch injected into the pool, so the batches that came first finished only when nearly
//! all had. Nothing reached the pool, the journal or a block until then, and block production
//! then ran alone on one core (measured: docs/node.md, "Where the node waits"). Taking turns,
//! a batch has the cores while it is checked and goes on to admission as soon as it is done,
//! while the next one is checked: admission, the journal and the blocks run beside recovery
//! instead of after it.
//!
//! A batch waits only for the batches that arrived before it: a client cannot keep another's
//! batch waiting by sending more after it, and a batch's turn lasts at most the check of
//! `BATCH_TXS_MAX` signatures (the API's bound).

use std::{
    collections::VecDeque,
    sync::{Mutex, PoisonError},
    thread::Thread,
};

/// The queue of batches waiting to check their signatures.
#[derive(Debug, Default)]
pub(crate) struct Turns {
    tickets: Mutex<Tickets>,
}

#[derive(Debug, Default)]
struct Tickets {
    /// The ticket the next batch to arrive gets.
    next: u64,
    /// The ticket whose turn it is.
    serving: u64,
    /// The batches waiting, in ticket order, each with the thread to wake when its turn comes:
    /// only that one is woken (dozens of batches may wait; waking all at every turn cost
    /// admission ~1 µs of CPU per transaction under `bench-node`).
    waiting: VecDeque<(u64, Thread)>,
}

/// A batch's turn: the next batch's starts when it is dropped (also if the check panics).
#[derive(Debug)]
pub(crate) struct Turn<'a> {
    turns: &'a Turns,
}

impl Turns {
    /// Takes a ticket and waits for its turn: every batch that took one before has finished.
    pub(crate) fn wait(&self) -> Turn<'_> {
        let mut tickets = self.lock();
        let ticket = tickets.next;
        tickets.next = tickets.next.wrapping_add(1);
        if tickets.serving != ticket {
            tickets.waiting.push_back((ticket, std::thread::current()));
            while tickets.serving != ticket {
                drop(tickets);
                // Woken when the turn before ends (or spuriously: the loop checks again).
                std::thread::park();
                tickets = self.lock();
            }
        }
        Turn { turns: self }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tickets> {
        self.tickets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many batches hold or wait for a turn.
    #[cfg(test)]
    fn queued(&self) -> u64 {
        let tickets = self.lock();
        tickets.next.wrapping_sub(tickets.serving)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut tickets = self.turns.lock();
        tickets.serving = tickets.serving.wrapping_add(1);
        let serving = tickets.serving;
        if tickets.waiting.front().is_some_and(|(ticket, _)| *ticket == serving)
            && let Some((_, next)) = tickets.waiting.pop_front()
        {
            next.unpark();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use std::{
        sync::{Arc, atomic::AtomicUsize, atomic::Ordering},
        time::{Duration, Instant},
    };

    /// Spawns a batch that takes its ticket now (the test waits until it has) and records its
    /// name when its turn comes, checking that no other batch holds a turn at the same time.
    fn batch(
        turns: &Arc<Turns>,
        name: usize,
        order: &Arc<Mutex<Vec<usize>>>,
        holding: &Arc<AtomicUsize>,
    ) -> std::thread::JoinHandle<()> {
        let before = turns.queued();
        let (turns, order, holding) = (turns.clone(), order.clone(), holding.clone());
        let thread_turns = turns.clone();
        let handle = std::thread::spawn(move || {
            let _turn = thread_turns.wait();
            assert_eq!(holding.fetch_add(1, Ordering::SeqCst), 0, "two batches hold a turn");
            order.lock().unwrap().push(name);
            std::thread::sleep(Duration::from_millis(1));
            holding.fetch_sub(1, Ordering::SeqCst);
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while turns.queued() == before {
            assert!(Instant::now() < deadline, "batch {name} never took a ticket");
            std::thread::yield_now();
        }
        handle
    }

    #[test]
    fn a_batch_is_checked_before_every_batch_that_arrived_after_it_however_many_they_are() {
        let turns = Arc::new(Turns::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let holding = Arc::new(AtomicUsize::new(0));
        // A batch holds the turn while another client's batch and then a flood of one
        // client's batches queue behind it.
        let first = turns.wait();
        let mut handles = vec![batch(&turns, 0, &order, &holding)];
        handles.extend((1..=32).map(|name| batch(&turns, name, &order, &holding)));
        assert_eq!(turns.queued(), 34);
        drop(first);
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..=32).collect::<Vec<_>>());
        assert_eq!(turns.queued(), 0);
    }

    #[test]
    fn a_batch_whose_check_panics_still_hands_the_turn_on() {
        let turns = Arc::new(Turns::default());
        let panicking = {
            let turns = turns.clone();
            std::thread::spawn(move || {
                let _turn = turns.wait();
                panic!("a check that panics");
            })
        };
        assert!(panicking.join().is_err());
        let _turn = turns.wait();
        assert_eq!(turns.queued(), 1);
    }
}
