//! Sealed bids (SPEC 11): commit `keccak256(abi.encode(request_id, price, salt))` with a
//! deposit, reveal in the window before the next round, or forfeit the penalty.
//!
//! Timeline: a first round at T0 fixes the schedule; the next round may run at T0 + 1 day, so
//! the reveal window (1 hour) opens at T0 + 23 h. Penalty 10%.

mod support;

use alloy_sol_types::SolValue;
use infrafi_core::{
    Action, Amount, TxError,
    action::{
        CancelRedeem, Claim, CommitSealedBid, ListRequest, RevealSealedBid, SetBid, TransferRequest,
    },
    ids::{B256, RequestId},
    qev::{self, QevError},
};
use infrafi_testkit::market::{DAY, HOUR};
use infrafi_testkit::user_address;
use support::{Market, cents, fees_charged, served, whole};

const A: u64 = 0;
const B: u64 = 1;
const C: u64 = 2;

fn salt(byte: u8) -> B256 {
    B256::repeat_byte(byte)
}

/// A, B, C have requested 100 shares each, no liquidity yet, and a first round ran at T0.
fn after_first_round() -> (Market, [RequestId; 3]) {
    let mut market = Market::new(3, 100, 100, |_| {});
    market.originate_loan(whole(300));
    let ids = [
        market.request(A, whole(100)),
        market.request(B, whole(100)),
        market.request(C, whole(100)),
    ];
    market.round();
    (market, ids)
}

fn commit(market: &mut Market, user: u64, id: RequestId, price: u128, deposit: Amount) {
    let commitment = Market::commitment(id, price, salt(7));
    market.ok(
        user_address(user),
        Action::CommitSealedBid(CommitSealedBid { request_id: id, commitment, deposit }),
    );
}

fn reveal(id: RequestId, price: u128, salt: B256) -> Action {
    Action::RevealSealedBid(RevealSealedBid { request_id: id, price_wad: price, salt })
}

#[test]
fn the_commitment_is_keccak_of_the_solidity_abi_encoding() {
    let (id, price, salt) = (RequestId(42), 123_456_789_u128, salt(0xab));
    let encoded = (alloy_primitives::U256::from(id.0), alloy_primitives::U256::from(price), salt)
        .abi_encode();
    assert_eq!(encoded.len(), 96);
    assert_eq!(qev::sealed_bid_commitment(id, price, salt), alloy_primitives::keccak256(encoded));
}

#[test]
fn a_sealed_bid_revealed_in_the_window_becomes_the_bid_and_wins_the_round() {
    let (mut market, [_, _, c]) = after_first_round();
    market.advance(HOUR);
    commit(&mut market, C, c, cents(5), whole(10));
    assert_eq!(market.usdai(C), whole(90));
    let early = market.err(user_address(C), reveal(c, cents(5), salt(7)));
    assert_eq!(early, TxError::Qev(QevError::RevealWindowNotOpen));
    market.advance(22 * HOUR); // T0 + 23 h: the window opens.
    let wrong = market.err(user_address(C), reveal(c, cents(5), salt(8)));
    assert_eq!(wrong, TxError::Qev(QevError::CommitmentMismatch));
    let other_price = market.err(user_address(C), reveal(c, cents(6), salt(7)));
    assert_eq!(other_price, TxError::Qev(QevError::CommitmentMismatch));
    market.ok(user_address(C), reveal(c, cents(5), salt(7)));
    // The 5 USDai escrow comes out of the 10 deposited; 5 return at once.
    assert_eq!(market.usdai(C), whole(95));
    assert_eq!(market.request_of(c).bid_escrow, whole(5));
    assert_eq!(market.request_of(c).bid_price_wad, cents(5));
    market.advance(HOUR);
    market.prepay_loan(whole(100));
    let (_, events) = market.round();
    assert_eq!(served(&events), vec![(c, whole(100), true)]);
    assert_eq!(fees_charged(&events), vec![(c, 0, Amount::ZERO, whole(5))], "A and B bid 0");
}

#[test]
fn a_late_reveal_is_rejected_and_the_unrevealed_bid_forfeits_its_penalty_to_the_fee_pool() {
    let (mut market, [a, b, c]) = after_first_round();
    market.advance(HOUR);
    commit(&mut market, C, c, cents(5), whole(10));
    market.advance(23 * HOUR);
    market.prepay_loan(whole(100));
    let (_, events) = market.round();
    assert_eq!(served(&events), vec![(a, whole(100), true)], "unrevealed, C counted as bid 0");
    let late = market.err(user_address(C), reveal(c, cents(5), salt(7)));
    assert_eq!(late, TxError::Qev(QevError::SealedBidExpired));
    // C's claim resolves the expired bid: 10% of 10 USDai to the pool, 9 back to C.
    market.ok(user_address(C), Action::Claim(Claim { request_id: c }));
    assert_eq!(market.usdai(C), whole(99));
    assert_eq!(market.state().queue.qev.get().pool_undistributed, whole(1));
    assert_eq!(market.state().queue.qev.get().penalties_total, whole(1));
    // The penalty is paid to the next requests overtaken: C bids, jumps B, B gets it.
    market.bid(C, c, cents(5));
    market.advance(DAY);
    market.prepay_loan(whole(100));
    let (record, _) = market.round();
    assert_eq!(record.jumpers, 1);
    assert_eq!(record.bid_fees_paid, Amount::ZERO, "B bids 0: C's clearing price is 0");
    assert_eq!(record.pool_carried_in, whole(1));
    assert_eq!(record.wait_fees_distributed, whole(1));
    assert_eq!(qev::wait_fees_now(market.state(), b).expect("fees").earned, whole(1));
}

#[test]
fn a_revealed_bid_above_its_deposit_is_rejected() {
    let (mut market, [_, _, c]) = after_first_round();
    // 20 cents on 100 shares needs 20 USDai; the deposit is 10.
    let commitment = Market::commitment(c, cents(20), salt(7));
    market.ok(
        user_address(C),
        Action::CommitSealedBid(CommitSealedBid { request_id: c, commitment, deposit: whole(10) }),
    );
    market.advance(23 * HOUR);
    let error = market.err(user_address(C), reveal(c, cents(20), salt(7)));
    assert_eq!(error, TxError::Qev(QevError::BidExceedsDeposit));
}

#[test]
fn a_pending_sealed_bid_blocks_other_bids_and_trades_but_not_cancellation() {
    let (mut market, [a, b, c]) = after_first_round();
    market.bid(A, a, cents(1));
    let commitment = Market::commitment(a, cents(2), salt(7));
    let over_open =
        Action::CommitSealedBid(CommitSealedBid { request_id: a, commitment, deposit: whole(5) });
    assert_eq!(market.err(user_address(A), over_open), TxError::Qev(QevError::OpenBidMustBeZero));
    commit(&mut market, C, c, cents(5), whole(10));
    let commitment = Market::commitment(c, cents(6), salt(7));
    let again =
        Action::CommitSealedBid(CommitSealedBid { request_id: c, commitment, deposit: whole(5) });
    assert_eq!(market.err(user_address(C), again), TxError::Qev(QevError::SealedBidPending));
    let open = Action::SetBid(SetBid { request_id: c, price_wad: cents(1) });
    assert_eq!(market.err(user_address(C), open), TxError::Qev(QevError::SealedBidPending));
    let give = Action::TransferRequest(TransferRequest { request_id: c, to: user_address(B) });
    assert_eq!(market.err(user_address(C), give), TxError::Qev(QevError::SealedBidPending));
    let list = Action::ListRequest(ListRequest { request_id: c, price: whole(1) });
    assert_eq!(market.err(user_address(C), list), TxError::Qev(QevError::SealedBidPending));
    let none = market.err(user_address(B), reveal(b, 0, salt(7)));
    assert_eq!(none, TxError::Qev(QevError::SealedBidNotFound));
    // Cancelled before its reveal window opens, a sealed bid returns in full.
    market.ok(user_address(C), Action::CancelRedeem(CancelRedeem { request_id: c }));
    assert_eq!(market.usdai(C), whole(100));
}

#[test]
fn a_sealed_bid_cancelled_inside_the_reveal_window_pays_the_penalty() {
    let (mut market, [_, _, c]) = after_first_round();
    commit(&mut market, C, c, cents(5), whole(10));
    market.advance(23 * HOUR);
    market.ok(user_address(C), Action::CancelRedeem(CancelRedeem { request_id: c }));
    assert_eq!(market.usdai(C), whole(99));
    assert_eq!(market.state().queue.qev.get().pool_undistributed, whole(1));
}

#[test]
fn before_the_first_round_the_reveal_window_is_open() {
    let mut market = Market::new(1, 100, 100, |_| {});
    let id = market.request(A, whole(100));
    commit(&mut market, A, id, cents(5), whole(10));
    market.ok(user_address(A), reveal(id, cents(5), salt(7)));
    assert_eq!(market.request_of(id).bid_price_wad, cents(5));
}
