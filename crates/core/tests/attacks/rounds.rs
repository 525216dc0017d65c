//! Servicing rounds cannot be cut short (issue 11 item 1).
//!
//! A round used to serve at most the caller's `max_requests` and then restart the round
//! interval. Anyone could run the day's round with a limit of 1: every other eligible holder
//! waited another day, and the requests the cut left unserved were priced as if the liquidity
//! had run out, so the served bidders paid a clearing price that old zero-bid holders collected
//! as wait-fees. Now a round that would stop at the caller's limit while liquidity and eligible
//! requests remain is rejected and changes nothing; a round stops only when the liquidity or
//! the eligible order ends, or at the protocol's own bound, after which the next round may run
//! at once.

use crate::support::{Market, cents, whole};
use infrafi_core::{
    Action, Amount, TxError,
    action::{Claim, ServiceQueue},
    ids::{ProtocolAccount, RequestId},
    queue::{QueueError, ROUND_REQUESTS_MAX},
};
use infrafi_testkit::user_address;

/// The attacker's user index (its request is the oldest).
const ATTACKER: u64 = 0;
/// Bidders.
const HIGH_BIDDER: u64 = 1;
const LOW_BIDDER: u64 = 2;
/// An outside keeper.
const KEEPER: u64 = 9;

/// The attacker (oldest, no bid), a 5-cent and a 1-cent bidder each request 100 shares at a
/// share price of 1.0; `liquidity` USDai is idle, the rest is lent out.
fn queue_with_bidders(liquidity: u128) -> (Market, [RequestId; 3]) {
    let mut market = Market::new(10, 100, 100, |_| {});
    if liquidity < 1_000 {
        market.originate_loan(whole(1_000 - liquidity));
    }
    let ids = [
        market.request(ATTACKER, whole(100)),
        market.request(HIGH_BIDDER, whole(100)),
        market.request(LOW_BIDDER, whole(100)),
    ];
    market.bid(HIGH_BIDDER, ids[1], cents(5));
    market.bid(LOW_BIDDER, ids[2], cents(1));
    (market, ids)
}

fn service(market: &mut Market, sender: u64, max_requests: u32) -> Result<(), TxError> {
    market
        .apply(user_address(sender), Action::ServiceQueue(ServiceQueue { max_requests }))
        .map(|_| ())
}

/// What every request and fee account holds: who was served, what each owes or is owed.
fn outcome(market: &Market, ids: &[RequestId]) -> Vec<String> {
    let mut seen: Vec<String> = ids
        .iter()
        .map(|id| match market.state().queue.requests.get(id) {
            Some(r) => format!(
                "{id}: remaining {} claimable {} escrow {} refund {} wait-fees {}",
                r.shares_remaining,
                r.claimable,
                r.bid_escrow,
                r.escrow_refund,
                r.wait_fees.credited
            ),
            None => format!("{id}: finished"),
        })
        .collect();
    for account in [ProtocolAccount::QevFeePool, ProtocolAccount::FeeCollector] {
        seen.push(format!("{account:?}: {}", market.protocol_usdai(account)));
    }
    seen.push(format!("rounds {}", market.state().queue.globals.get().rounds));
    seen
}

/// Attack: once the round interval has passed, the attacker runs the day's round with
/// `max_requests = 1`. It serves one request and restarts the interval, so the two other
/// holders, whom the liquidity covers, wait another day. Now the cut round is rejected
/// (`round_request_limit_cuts_round_short`) and the next keeper's round serves all three.
#[test]
fn a_caller_cannot_cut_a_round_short_to_make_the_others_wait_a_day() {
    let (mut market, ids) = queue_with_bidders(1_000);
    for limit in [1, 2] {
        assert_eq!(
            service(&mut market, ATTACKER, limit),
            Err(QueueError::RoundRequestLimitCutsRoundShort.into()),
            "a limit of {limit} leaves liquidity and eligible requests behind"
        );
    }
    assert_eq!(market.state().queue.globals.get().rounds, 0, "no round ran");
    let (record, _) = market.round();
    assert_eq!(record.requests_served, 3);
    for id in ids {
        assert!(!market.request_of(id).is_active(), "request {id} was served the same day");
    }
}

/// Attack: the attacker holds the oldest request with no bid. It runs the round with
/// `max_requests = 1`: the 5-cent bidder is served alone and, having jumped the attacker's
/// unserved request, pays the highest bid left unserved (1 cent on 100 shares) although the
/// liquidity covered everyone; 90% of it is credited to the attacker as wait-fees. Now the cut
/// is rejected, the whole round serves all three, nobody jumped anybody, nobody pays and the
/// attacker earns no wait-fee: it gets exactly its shares' value, the bidders their escrow.
#[test]
fn an_old_holder_cannot_truncate_a_round_to_farm_wait_fees_from_bidders() {
    let (mut market, [attacker, high, low]) = queue_with_bidders(1_000);
    let escrow_before = [market.request_of(high).bid_escrow, market.request_of(low).bid_escrow];
    assert_eq!(escrow_before, [whole(5), whole(1)]);
    let attacker_usdai = market.usdai(ATTACKER);
    assert!(service(&mut market, ATTACKER, 1).is_err());
    let (record, _) = market.round();
    assert_eq!(record.clearing_price_wad, 0, "nobody was left unserved");
    assert_eq!(record.jumpers, 0);
    assert_eq!(record.bid_fees_paid, Amount::ZERO);
    assert_eq!(record.wait_fees_distributed, Amount::ZERO);
    for (user, id) in [(ATTACKER, attacker), (HIGH_BIDDER, high), (LOW_BIDDER, low)] {
        market.ok(user_address(user), Action::Claim(Claim { request_id: id }));
    }
    // The attacker's 100 shares at 1.0 pay exactly 100 USDai and not a unit more.
    assert_eq!(market.usdai(ATTACKER).checked_sub(attacker_usdai), Ok(whole(100)));
    // Each bidder got its 100 USDai and its whole escrow back.
    assert_eq!(market.usdai(HIGH_BIDDER), whole(200));
    assert_eq!(market.usdai(LOW_BIDDER), whole(200));
}

/// Attack: a caller picks whatever limit suits it. With liquidity for one and a half requests,
/// for every limit a caller may choose, the day ends exactly as with the keeper's round alone:
/// the same requests served, the same fees, the same wait-fees, the same number of rounds.
#[test]
fn no_caller_choice_of_limit_changes_who_is_served_across_a_day() {
    let honest = {
        let (mut market, ids) = queue_with_bidders(150);
        market.round();
        outcome(&market, &ids)
    };
    for limit in [1, 2, 3, 10, 1_000, ROUND_REQUESTS_MAX] {
        let (mut market, ids) = queue_with_bidders(150);
        // The attacker moves first; whatever it achieved, the keeper tries the day's round.
        let attacked = service(&mut market, ATTACKER, limit);
        if attacked.is_err() {
            assert_eq!(attacked, Err(QueueError::RoundRequestLimitCutsRoundShort.into()));
            market.round();
        } else {
            assert_eq!(
                service(&mut market, KEEPER, ROUND_REQUESTS_MAX),
                Err(QueueError::RoundIntervalNotElapsed.into())
            );
        }
        assert_eq!(outcome(&market, &ids), honest, "a caller's limit of {limit}");
    }
}
