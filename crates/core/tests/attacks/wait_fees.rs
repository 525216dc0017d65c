//! Wait-fees cannot be farmed (issue 9, SPEC 11 "paid to wait").
//!
//! A request that a bidder overtakes is credited a share of the bidder's fee. An attacker who
//! could enter the queue just before a round with paying jumpers, collect the credit and leave
//! at once (cancel, then request again at the back) would harvest fees it never waited for,
//! round after round. Wait-fees vest linearly over `fee_vesting_secs` from the round that
//! credited them, and a cancelled request forfeits the unvested part to the fee pool, which
//! pays it to the next requests overtaken: leaving at once takes nothing.

use crate::support::{Market, cents, whole};
use infrafi_core::{
    Action, Amount, Asset, ProtocolAccount,
    action::{CancelRedeem, Claim},
    queue::QueueError,
};
use infrafi_testkit::user_address;

const ATTACKER: u64 = 0;
const HONEST: u64 = 1;
const JUMPER: u64 = 2;

/// What `user` holds, valued at a share price of 1.0 (nothing in this market moves it): its
/// USDai, its unlocked sUSDai, and what its requests lock or are owed.
fn holdings(market: &Market, user: u64) -> Amount {
    let address = user_address(user);
    let ledger = &market.state().ledger;
    let mut total = ledger
        .balance(address, Asset::Usdai)
        .checked_add(ledger.balance(address, Asset::Susdai))
        .expect("fits");
    for (_, request) in market.state().queue.requests.iter() {
        if request.owner == address {
            for part in [
                request.shares_remaining,
                request.claimable,
                request.bid_escrow,
                request.escrow_refund,
            ] {
                total = total.checked_add(part).expect("fits");
            }
        }
    }
    total
}

/// Attack: every day the attacker requests redemption with a small bid just before a round in
/// which a bidder jumps it (the bidder pays the attacker's bid as the clearing price and 90% of
/// the fee is credited to the requests it overtook, the attacker's among them), then cancels at
/// once and requests again, to be overtaken again the next day. Five days of it leave the
/// attacker with exactly what it started with: each credit was unvested when it cancelled and
/// went back to the fee pool, and claiming the cancelled request finds nothing. The honest
/// holder who stays in the queue keeps its credits and is also paid the forfeited ones.
#[test]
fn an_attacker_cannot_farm_wait_fees_by_being_overtaken_and_cancelling() {
    // Three users with 100 sUSDai and 100 USDai each; the vault's 300 all lent out, so each
    // round's liquidity is what the borrower prepays (10: one request).
    let mut market = Market::new(3, 100, 100, |_| {});
    market.originate_loan(whole(300));
    let attacker_start = holdings(&market, ATTACKER);
    let honest = market.request(HONEST, whole(10));
    for day in 0..5 {
        let attack = market.request(ATTACKER, whole(10));
        market.bid(ATTACKER, attack, cents(1));
        let jump = market.request(JUMPER, whole(10));
        market.bid(JUMPER, jump, cents(5));
        market.advance(86_400);
        // Liquidity for exactly the jumper's ten shares.
        market.prepay_loan(whole(10));
        let (record, _) = market.round();
        assert_eq!(record.requests_served, 1, "day {day}: the jumper alone is served");
        assert_eq!(record.clearing_price_wad, cents(1), "day {day}: it pays the attacker's bid");
        assert!(!record.wait_fees_distributed.is_zero(), "day {day}: fees were credited");
        // The attacker leaves at once: its escrow and shares come back, its credit does not.
        market
            .ok(user_address(ATTACKER), Action::CancelRedeem(CancelRedeem { request_id: attack }));
        let claim =
            market.apply(user_address(ATTACKER), Action::Claim(Claim { request_id: attack }));
        assert!(
            matches!(
                claim,
                Err(error) if error == QueueError::NothingToClaim.into()
                    || error == QueueError::RequestNotFound.into()
            ),
            "day {day}: the cancelled request owes nothing"
        );
        market.ok(user_address(JUMPER), Action::Claim(Claim { request_id: jump }));
        assert_eq!(
            holdings(&market, ATTACKER),
            attacker_start,
            "day {day}: the attacker ends the day with what it started with"
        );
    }
    // The honest holder, overtaken every day, keeps every credit it earned plus the ones the
    // attacker forfeited (paid out at the rounds after each forfeit).
    let earned = infrafi_core::qev::wait_fees_now(market.state(), honest).expect("fees").earned;
    let pool = market.state().queue.qev.get().pool_undistributed;
    assert!(earned > whole(0), "the honest holder was paid to wait");
    // Five jumps of 10 shares at 1 cent: 0.5 USDai in fees, 0.05 of it the protocol's cut.
    let fees_after_cut = Amount(450_000_000_000_000_000);
    let accounted = earned.checked_add(pool).expect("fits");
    assert!(accounted <= fees_after_cut, "nobody is credited more than the jumpers paid");
    // Every unit the jumpers paid less the cut went to the honest holder or waits in the pool
    // (pro-rata division may leave a few units of dust behind).
    assert!(fees_after_cut.0 - accounted.0 <= 10, "{accounted:?} of {fees_after_cut:?}");
    assert_eq!(
        market.protocol_usdai(ProtocolAccount::FeeCollector),
        Amount(50_000_000_000_000_000)
    );
}
