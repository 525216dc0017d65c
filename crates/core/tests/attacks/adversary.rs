//! An adversary against honest holders, by property (issue 9).
//!
//! Proptest draws sequences of up to 40 moves by an attacker who may do anything an account
//! can: stake, request, cancel, bid, list and delist its requests, donate, claim, run rounds
//! with any limit, and let time pass; honest users meanwhile hold their shares (one waits in
//! the queue), a keeper runs rounds and the borrower repays principal. Every SPEC 14 invariant
//! is checked after each transaction (and a rejected one must leave the state as it was). The
//! market has no yield (an interest-free loan, no T-bill rate), so an honest holder's value
//! can only grow (by what the attacker donates, or pays in fees when it jumps them), and the
//! attacker has no honest income at all. Each honest holder's value never falls by more than
//! two rounding units per transaction, and the attacker never ends above where it started
//! (give or take a unit per transaction of the rounding dust the vault keeps from others).
//!
//! A holder's value: its USDai, its unlocked shares at the redemption price, and each of its
//! requests' worth (`qev::position_value`: locked shares at the redemption price, USDai owed
//! or escrowed, wait-fees earned and unclaimed).

use crate::support::{Market, cents, whole};
use infrafi_core::{
    Action, Amount, Asset,
    action::{
        CancelRedeem, Claim, DelistRequest, DonateToVault, ListRequest, RequestRedeem,
        ServiceQueue, SetBid, Stake,
    },
    ids::RequestId,
    qev, vault,
};
use infrafi_testkit::user_address;
use proptest::prelude::*;

const ATTACKER: u64 = 0;
const HOLDER: u64 = 1;
const WAITER: u64 = 2;
/// An outside keeper.
const KEEPER: u64 = 9;

#[derive(Clone, Debug)]
enum Move {
    Stake(u128),
    Request(u128),
    Cancel(usize),
    Bid(usize, u128),
    List(usize, u128),
    Delist(usize),
    Donate(u128),
    Claim(usize),
    Round(u32),
    Wait(u64),
    KeeperRound,
    Repay(u128),
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
    let one = prop_oneof![
        (1u128..500).prop_map(Move::Stake),
        (1u128..500).prop_map(Move::Request),
        (0usize..4).prop_map(Move::Cancel),
        (0usize..4, 0u128..10).prop_map(|(pick, price)| Move::Bid(pick, price)),
        (0usize..4, 1u128..200).prop_map(|(pick, price)| Move::List(pick, price)),
        (0usize..4).prop_map(Move::Delist),
        (1u128..50).prop_map(Move::Donate),
        (0usize..4).prop_map(Move::Claim),
        prop_oneof![Just(1u32), Just(2), Just(10), Just(queue_bound())].prop_map(Move::Round),
        (1u64..48).prop_map(Move::Wait),
        Just(Move::KeeperRound),
        (1u128..300).prop_map(Move::Repay),
    ];
    prop::collection::vec(one, 1..40)
}

fn queue_bound() -> u32 {
    infrafi_core::queue::ROUND_REQUESTS_MAX
}

/// `user`'s requests still held, oldest first.
fn requests_of(market: &Market, user: u64) -> Vec<RequestId> {
    let owner = user_address(user);
    market
        .state()
        .queue
        .requests
        .iter()
        .filter(|(_, request)| request.owner == owner)
        .map(|(id, _)| *id)
        .collect()
}

/// `user`'s value in USDai units at the redemption price (see the module doc).
fn value(market: &Market, user: u64) -> u128 {
    let state = market.state();
    let address = user_address(user);
    let nav = vault::nav(state);
    let shares = nav.assets_for_redemption(state.ledger.balance(address, Asset::Susdai));
    let mut total = state.ledger.balance(address, Asset::Usdai).0 + shares.expect("fits").0;
    for id in requests_of(market, user) {
        let request = state.queue.requests.get(&id).expect("listed");
        total += qev::position_value(state, request).expect("fits").0;
    }
    total
}

/// Plays `play` in a market of three users with 1,000 sUSDai and 1,000 USDai each, 2,000 of
/// the vault's 3,000 lent interest-free; the waiter has asked to redeem 500.
fn play(moves: &[Move]) -> Result<(), TestCaseError> {
    let mut market = Market::new(3, 1_000, 1_000, |_| {});
    market.originate_loan(whole(2_000));
    market.request(WAITER, whole(500));
    let attacker = user_address(ATTACKER);
    let attacker_start = value(&market, ATTACKER);
    for (step, next) in moves.iter().enumerate() {
        let honest_before = [value(&market, HOLDER), value(&market, WAITER)];
        let mine = requests_of(&market, ATTACKER);
        let pick = |index: usize| mine.get(index % mine.len().max(1)).copied();
        let action = match next {
            Move::Stake(amount) => {
                Some(Action::Stake(Stake { assets: whole(*amount), min_shares: Amount::ZERO }))
            }
            Move::Request(amount) => {
                Some(Action::RequestRedeem(RequestRedeem { shares: whole(*amount) }))
            }
            Move::Cancel(index) => {
                pick(*index).map(|request_id| Action::CancelRedeem(CancelRedeem { request_id }))
            }
            Move::Bid(index, price) => pick(*index)
                .map(|request_id| Action::SetBid(SetBid { request_id, price_wad: cents(*price) })),
            Move::List(index, price) => pick(*index).map(|request_id| {
                Action::ListRequest(ListRequest { request_id, price: whole(*price) })
            }),
            Move::Delist(index) => {
                pick(*index).map(|request_id| Action::DelistRequest(DelistRequest { request_id }))
            }
            Move::Donate(amount) => {
                Some(Action::DonateToVault(DonateToVault { amount: whole(*amount) }))
            }
            Move::Claim(index) => {
                pick(*index).map(|request_id| Action::Claim(Claim { request_id }))
            }
            Move::Round(limit) => Some(Action::ServiceQueue(ServiceQueue { max_requests: *limit })),
            Move::Wait(hours) => {
                market.advance(hours * 3_600);
                None
            }
            Move::KeeperRound => {
                let round = ServiceQueue { max_requests: queue_bound() };
                let _ = market.apply(user_address(KEEPER), Action::ServiceQueue(round));
                None
            }
            Move::Repay(amount) => {
                let balance = market.loan().balance;
                let principal = whole(*amount).min(balance);
                if !principal.is_zero() {
                    market.prepay_loan(principal);
                }
                None
            }
        };
        if let Some(action) = action {
            // Accepted or not, every invariant holds and a rejection changes nothing (the
            // market checks both).
            let _ = market.apply(attacker, action);
        }
        for (index, user) in [HOLDER, WAITER].into_iter().enumerate() {
            let after = value(&market, user);
            prop_assert!(
                after + 2 >= honest_before[index],
                "step {step} ({next:?}): honest user {user} fell from {} to {after}",
                honest_before[index]
            );
        }
    }
    // Dust the vault keeps from others' rounding raises every share a little: at most a unit
    // per transaction reaches the attacker.
    let attacker_end = value(&market, ATTACKER);
    prop_assert!(
        attacker_end <= attacker_start + moves.len() as u128,
        "the attacker went from {attacker_start} to {attacker_end}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the attacker does, the honest holders lose nothing (beyond a rounding unit per
    /// transaction) and the attacker ends no richer than it started.
    #[test]
    fn an_adversary_never_takes_value_from_honest_holders_nor_ends_richer(moves in moves()) {
        play(&moves)?;
    }
}
