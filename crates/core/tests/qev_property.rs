//! Model-free property test of the QEV queue: random requests, open and sealed bids, reveals
//! (honest and not), transfers, listings, purchases, cancellations, claims, real prepayments of
//! the loan that holds most of the vault, donations, rounds and time. After every transaction: every SPEC 14 invariant
//! (escrow conservation, the fee pool to the last unit, fees = distributed + cut per round,
//! the queue trees), and a rejected one leaves the state hash unchanged (`support::Market`).
//! After every round: served <= liquidity, nobody pays more than its bid, nobody is paid more
//! than the redemption price, FIFO among equal bids. The same operations replayed give the
//! same state hash.

mod support;

use infrafi_core::{
    Action, Amount, Event, WAD,
    action::{
        BuyRequest, CancelRedeem, Claim, CommitSealedBid, DelistRequest, DonateToVault,
        ListRequest, PrepayLoan, RequestRedeem, RevealSealedBid, ServiceQueue, SetBid,
        TransferRequest,
    },
    ids::{B256, RequestId},
    math::{Rounding, mul_div},
    queue::{ROUND_REQUESTS_MAX, RoundRecord},
    vault,
};
use infrafi_testkit::user_address;
use proptest::prelude::*;
use std::collections::BTreeMap;
use support::{Market, cents, whole};

/// Holders 0..4; user 4 donates and buys; the fixture's borrower repays.
const HOLDERS: u64 = 4;
const DONOR: u64 = 4;

#[derive(Clone, Debug)]
enum Op {
    Request {
        user: u64,
        shares: u128,
        dust: u128,
    },
    Cancel {
        pick: usize,
        stranger: bool,
    },
    Bid {
        pick: usize,
        price_cents: u128,
    },
    Commit {
        pick: usize,
        price_cents: u128,
        deposit: u128,
    },
    Reveal {
        pick: usize,
        honest: bool,
    },
    Transfer {
        pick: usize,
        to: u64,
    },
    List {
        pick: usize,
        price: u128,
    },
    Delist {
        pick: usize,
    },
    Buy {
        pick: usize,
        buyer: u64,
        max_price: u128,
    },
    Claim {
        pick: usize,
    },
    Donate {
        amount: u128,
    },
    /// The borrower prepays this many hundredths of a USDai of the loan.
    Repay {
        hundredths: u128,
    },
    Round {
        max_requests: u32,
    },
    Advance {
        hours: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let pick = any::<usize>();
    prop_oneof![
        4 => (0..HOLDERS, 1u128..40, 0u128..1_000_000).prop_map(|(user, shares, dust)| Op::Request { user, shares, dust }),
        1 => (pick, any::<bool>()).prop_map(|(pick, stranger)| Op::Cancel { pick, stranger }),
        3 => (pick, 0u128..8).prop_map(|(pick, price_cents)| Op::Bid { pick, price_cents }),
        2 => (pick, 0u128..8, 0u128..4).prop_map(|(pick, price_cents, deposit)| Op::Commit { pick, price_cents, deposit }),
        2 => (pick, any::<bool>()).prop_map(|(pick, honest)| Op::Reveal { pick, honest }),
        1 => (pick, 0..HOLDERS + 1).prop_map(|(pick, to)| Op::Transfer { pick, to }),
        1 => (pick, 1u128..20).prop_map(|(pick, price)| Op::List { pick, price }),
        1 => pick.prop_map(|pick| Op::Delist { pick }),
        1 => (pick, 0..HOLDERS + 1, 1u128..20).prop_map(|(pick, buyer, max_price)| Op::Buy { pick, buyer, max_price }),
        2 => pick.prop_map(|pick| Op::Claim { pick }),
        1 => (1u128..60).prop_map(|amount| Op::Donate { amount }),
        2 => (1u128..6_000).prop_map(|hundredths| Op::Repay { hundredths }),
        3 => (1u32..6).prop_map(|max_requests| Op::Round { max_requests }),
        3 => (1u64..30).prop_map(|hours| Op::Advance { hours }),
    ]
}

fn salt(id: RequestId) -> B256 {
    B256::with_last_byte(id.0 as u8 ^ 0x5a)
}

struct Run {
    market: Market,
    /// Sealed prices committed, by request.
    sealed: BTreeMap<RequestId, u128>,
    rounds: u64,
    /// Accepted transactions by action name.
    accepted: BTreeMap<&'static str, u64>,
}

impl Run {
    fn new() -> Run {
        let mut market = Market::new(HOLDERS + 1, 100, 200, |params| {
            params.notice_period_secs = 6 * 3_600;
            params.fee_vesting_secs = 2 * 86_400;
        });
        // Most of the vault (450 of 500) is lent out in a real interest-free loan: liquidity
        // arrives as the borrower prepays it, and by donations.
        market.originate_loan(whole(450));
        Run { market, sealed: BTreeMap::new(), rounds: 0, accepted: BTreeMap::new() }
    }

    /// Applies an action (checked by `Market::apply`); counts it if accepted.
    fn send(&mut self, sender: infrafi_core::Address, action: Action) -> bool {
        let name = action.name();
        let accepted = self.market.apply(sender, action).is_ok();
        if accepted {
            *self.accepted.entry(name).or_default() += 1;
        }
        accepted
    }

    fn pick(&self, pick: usize) -> Option<(RequestId, u64)> {
        let requests = &self.market.state().queue.requests;
        if requests.is_empty() {
            return None;
        }
        let (id, request) = requests.iter().nth(pick % requests.len())?;
        let owner = (0..=HOLDERS).find(|&u| user_address(u) == request.owner)?;
        Some((*id, owner))
    }

    fn step(&mut self, op: &Op) {
        let action_of = |run: &Run, pick: usize| run.pick(pick);
        match *op {
            Op::Request { user, shares, dust } => {
                // Whole shares plus odd units, so divisions leave dust.
                let shares = Amount(whole(shares).0 + dust * 1_000_003);
                self.send(user_address(user), Action::RequestRedeem(RequestRedeem { shares }));
            }
            Op::Cancel { pick, stranger } => {
                if let Some((id, owner)) = action_of(self, pick) {
                    let sender = if stranger { (owner + 1) % HOLDERS } else { owner };
                    self.send(
                        user_address(sender),
                        Action::CancelRedeem(CancelRedeem { request_id: id }),
                    );
                }
            }
            Op::Bid { pick, price_cents } => {
                if let Some((id, owner)) = action_of(self, pick) {
                    let action =
                        Action::SetBid(SetBid { request_id: id, price_wad: cents(price_cents) });
                    self.send(user_address(owner), action);
                }
            }
            Op::Commit { pick, price_cents, deposit } => {
                if let Some((id, owner)) = action_of(self, pick) {
                    let price = cents(price_cents);
                    let commitment = Market::commitment(id, price, salt(id));
                    let action = Action::CommitSealedBid(CommitSealedBid {
                        request_id: id,
                        commitment,
                        deposit: whole(deposit),
                    });
                    if self.send(user_address(owner), action) {
                        self.sealed.insert(id, price);
                    }
                }
            }
            Op::Reveal { pick, honest } => {
                if let Some((id, owner)) = action_of(self, pick) {
                    let price = self.sealed.get(&id).copied().unwrap_or(0);
                    let salt = if honest { salt(id) } else { B256::repeat_byte(1) };
                    let action = Action::RevealSealedBid(RevealSealedBid {
                        request_id: id,
                        price_wad: price,
                        salt,
                    });
                    let accepted = self.send(user_address(owner), action);
                    assert!(honest || !accepted, "a dishonest reveal was accepted");
                }
            }
            Op::Transfer { pick, to } => {
                if let Some((id, owner)) = action_of(self, pick) {
                    let action = Action::TransferRequest(TransferRequest {
                        request_id: id,
                        to: user_address(to),
                    });
                    self.send(user_address(owner), action);
                }
            }
            Op::List { pick, price } => {
                if let Some((id, owner)) = action_of(self, pick) {
                    let action =
                        Action::ListRequest(ListRequest { request_id: id, price: whole(price) });
                    self.send(user_address(owner), action);
                }
            }
            Op::Delist { pick } => {
                if let Some((id, owner)) = action_of(self, pick) {
                    self.send(
                        user_address(owner),
                        Action::DelistRequest(DelistRequest { request_id: id }),
                    );
                }
            }
            Op::Buy { pick, buyer, max_price } => {
                if let Some((id, _)) = action_of(self, pick) {
                    let action = Action::BuyRequest(BuyRequest {
                        request_id: id,
                        max_price: whole(max_price),
                        min_value: Amount::ZERO,
                    });
                    self.send(user_address(buyer), action);
                }
            }
            Op::Claim { pick } => {
                if let Some((id, owner)) = action_of(self, pick) {
                    self.send(user_address(owner), Action::Claim(Claim { request_id: id }));
                }
            }
            Op::Donate { amount } => {
                self.send(
                    user_address(DONOR),
                    Action::DonateToVault(DonateToVault { amount: whole(amount) }),
                );
            }
            Op::Repay { hundredths } => {
                // What is left of the loan, at most the amount; nothing once it is repaid. The
                // loan is interest-free, so the payment is exactly the principal.
                let amount = Amount(hundredths * WAD / 100);
                let principal = amount.min(self.market.loan().balance);
                if !principal.is_zero() {
                    let loan_id = self.market.loan_id();
                    let action = Action::PrepayLoan(PrepayLoan {
                        loan_id,
                        principal,
                        max_amount: principal,
                    });
                    self.send(support::BORROWER, action);
                }
            }
            Op::Round { max_requests } => self.round(max_requests),
            Op::Advance { hours } => self.market.advance(hours * 3_600),
        }
    }

    fn round(&mut self, max_requests: u32) {
        let state = self.market.state();
        let bids: BTreeMap<RequestId, u128> =
            state.queue.requests.iter().map(|(id, r)| (*id, r.bid_price_wad)).collect();
        let keeper = user_address(DONOR);
        let Ok(events) =
            self.market.apply(keeper, Action::ServiceQueue(ServiceQueue { max_requests }))
        else {
            return;
        };
        self.rounds += 1;
        check_round(&self.market, &events, &bids);
    }
}

/// served <= liquidity; each payer pays at most its bid; each served request is paid at most
/// the redemption price (which only rises during a round, so the price after it bounds every
/// serve); FIFO among equal bids, and the served order is the priority order.
fn check_round(market: &Market, events: &[Event], bids: &BTreeMap<RequestId, u128>) {
    let record: RoundRecord = events
        .iter()
        .find_map(|e| match e {
            Event::QueueRoundServiced { record } => Some(record.clone()),
            _ => None,
        })
        .expect("round record");
    assert!(record.served_assets <= record.liquidity, "served more than the liquidity");
    let nav = vault::nav(market.state());
    let numerator = nav.conservative.0 + vault::VIRTUAL_ASSETS;
    let denominator = nav.share_supply.0 + vault::VIRTUAL_SHARES;
    let mut served_keys = Vec::new();
    for event in events {
        match event {
            Event::RedemptionServed { request_id, shares, assets, .. } => {
                let ceiling =
                    mul_div(shares.0, numerator, denominator, Rounding::Up).expect("fits");
                assert!(
                    assets.0 <= ceiling,
                    "request {request_id} paid above the redemption price"
                );
                let bid = bids[request_id];
                served_keys.push((u128::MAX - bid, *request_id));
            }
            Event::PriorityFeeCharged {
                bid_price_wad, clearing_price_wad, shares, fee, ..
            } => {
                assert!(clearing_price_wad <= bid_price_wad, "clearing above the bid");
                let ceiling = mul_div(*bid_price_wad, shares.0, WAD, Rounding::Up).expect("fits");
                assert!(fee.0 <= ceiling, "a payer paid more than its bid");
            }
            _ => {}
        }
    }
    assert!(served_keys.windows(2).all(|w| w[0] < w[1]), "served out of priority order");
    for &(inverted, id) in &served_keys {
        let older_equal =
            market.state().queue.eligible.range((inverted, RequestId(0))..(inverted, id)).next();
        assert!(older_equal.is_none(), "an older request with an equal bid was passed over");
    }
    let paid = record.bid_fees_paid.0 + record.pool_carried_in.0;
    let spent = record.wait_fees_distributed.0 + record.protocol_cut.0 + record.pool_carried_out.0;
    assert_eq!(paid, spent, "fees paid != distributed + protocol cut + carried");
}

fn run(ops: &[Op]) -> (infrafi_core::ids::B256, u64) {
    let mut run = Run::new();
    for op in ops {
        run.step(op);
    }
    (run.market.state().state_hash(), run.rounds)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        // Failures are saved next to this file, to be committed as regressions.
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct(
            "tests/qev_property.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_queue_keeps_every_invariant_under_random_operations(
        ops in proptest::collection::vec(op(), 1..200)
    ) {
        let (hash, _) = run(&ops);
        let (again, _) = run(&ops);
        prop_assert_eq!(hash, again, "the same operations gave a different state");
    }
}

/// A long fixed run that certainly exercises fees, partial fills and penalties.
#[test]
fn a_long_busy_run_keeps_every_invariant() {
    // The seed fixes one run. Since loans became real (prepayments take every other donation
    // slot), the old seed 42 gives a run where no sealed bid happens to be revealed in its
    // window; seeds 1 to 12 all exercise everything asserted below; 7 is one of them.
    let mut rng = infrafi_testkit::Xorshift::new(7);
    let mut run = Run::new();
    let mut fees = Amount::ZERO;
    for step in 0..6_000u64 {
        let pick = rng.next_u64() as usize;
        let op = match rng.below(15) {
            0 | 1 => Op::Request {
                user: rng.below(HOLDERS),
                shares: 1 + u128::from(rng.below(30)),
                dust: u128::from(rng.below(1_000_000)),
            },
            2 => Op::Cancel { pick, stranger: false },
            3 | 4 => Op::Bid { pick, price_cents: u128::from(rng.below(8)) },
            5 => Op::Commit {
                pick,
                price_cents: u128::from(rng.below(8)),
                deposit: u128::from(rng.below(4)),
            },
            6 => Op::Reveal { pick, honest: rng.below(4) > 0 },
            7 => Op::Transfer { pick, to: rng.below(HOLDERS + 1) },
            8 => Op::List { pick, price: 1 + u128::from(rng.below(10)) },
            9 => Op::Buy {
                pick,
                buyer: rng.below(HOLDERS + 1),
                max_price: 1 + u128::from(rng.below(10)),
            },
            10 => Op::Claim { pick },
            // Every other time, the borrower prepays instead of the donor donating (drawn
            // from the same number, so the sequence of operations is the one it always was).
            11 => match (u128::from(rng.below(40)), step % 2) {
                (amount, 0) => Op::Donate { amount: 1 + amount },
                (amount, _) => Op::Repay { hundredths: 1 + amount },
            },
            // A limit that would cut the round short is rejected, so one draw in five asks for
            // the protocol's bound.
            12 => match rng.below(5) {
                4 => Op::Round { max_requests: ROUND_REQUESTS_MAX },
                n => Op::Round { max_requests: 1 + n as u32 },
            },
            13 => Op::Delist { pick },
            _ => Op::Advance { hours: 1 + rng.below(12) },
        };
        run.step(&op);
        if step == 3_000 {
            fees = run.market.state().queue.qev.get().bid_fees_paid_total;
        }
    }
    let qev = run.market.state().queue.qev.get().clone();
    assert!(run.rounds > 30, "rounds ran: {}", run.rounds);
    assert!(qev.bid_fees_paid_total > fees, "fees were paid in the second half of the run too");
    assert!(qev.wait_fees_distributed_total > Amount::ZERO, "wait-fees were distributed");
    assert!(qev.forfeits_total > Amount::ZERO, "cancellations forfeited unvested wait-fees");
    for action in [
        "request_redeem",
        "cancel_redeem",
        "set_bid",
        "commit_sealed_bid",
        "reveal_sealed_bid",
        "transfer_request",
        "list_request",
        "delist_request",
        "buy_request",
        "claim",
        "donate_to_vault",
        "prepay_loan",
    ] {
        assert!(run.accepted.get(action).copied().unwrap_or(0) > 0, "no {action} was accepted");
    }
    assert!(qev.penalties_total > Amount::ZERO, "some sealed bids went unrevealed");
    assert!(run.market.loan().balance < whole(450), "the loan was repaid in part");
    assert!(qev.wait_fees_claimed_total > Amount::ZERO, "some wait-fees were claimed");
    // Golden: the run ends in this state (tests/state_roots.rs says why roots are pinned).
    assert_eq!(
        run.market.state().state_hash().to_string(),
        "0x0d4ad50e091dc9db7286ab059821c979a37c3fe0bd462eb2fe60206a557a05ee"
    );
}
