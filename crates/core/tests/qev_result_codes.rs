//! Every QEV result code, in declaration order, with the smallest story that produces it: the
//! table fails if a code is added, removed or reordered without a story here.
//!
//! `rejections/main.rs` delegates the 9xx codes to this table (`PROVEN_ELSEWHERE`) and checks that
//! its table test below is still here and still walks `QevError::ALL`.

mod support;

use infrafi_core::{
    Action, Amount, TxError,
    action::{
        BuyRequest, CancelRedeem, CommitSealedBid, DelistRequest, ListRequest, MintUsdai,
        RequestRedeem, RevealSealedBid, ServiceQueue, SetBid, Stake,
    },
    estimate::{self, ESTIMATE_BIDDERS_MAX, INFLOWS_MAX},
    ids::{B256, RequestId},
    qev::{self, QevError},
    queue::ROUND_REQUESTS_MAX,
};
use infrafi_testkit::{Driver, funded_market, user_address};
use support::{Market, cents, whole};

const A: u64 = 0;
const B: u64 = 1;

/// A market where A has request 0 and a first round has run (so the reveal window is shut).
fn market() -> (Market, RequestId) {
    let mut market = Market::new(2, 100, 100, |_| {});
    market.originate_loan(whole(200));
    let id = market.request(A, whole(100));
    market.round();
    (market, id)
}

fn commit(market: &mut Market, id: RequestId, price: u128, deposit: Amount) {
    let commitment = Market::commitment(id, price, B256::ZERO);
    market.ok(
        user_address(A),
        Action::CommitSealedBid(CommitSealedBid { request_id: id, commitment, deposit }),
    );
}

fn reveal(id: RequestId, price: u128, salt: B256) -> Action {
    Action::RevealSealedBid(RevealSealedBid { request_id: id, price_wad: price, salt })
}

fn story(code: QevError) -> TxError {
    let (mut market, id) = market();
    let a = user_address(A);
    match code {
        QevError::RequestIsListed => {
            market.ok(a, Action::ListRequest(ListRequest { request_id: id, price: whole(1) }));
            market.err(a, Action::CancelRedeem(CancelRedeem { request_id: id }))
        }
        QevError::RequestIsNotListed => {
            market.err(a, Action::DelistRequest(DelistRequest { request_id: id }))
        }
        QevError::SealedBidPending => {
            commit(&mut market, id, cents(1), whole(1));
            market.err(a, Action::SetBid(SetBid { request_id: id, price_wad: cents(1) }))
        }
        QevError::SealedBidNotFound => market.err(a, reveal(id, 0, B256::ZERO)),
        QevError::OpenBidMustBeZero => {
            market.bid(A, id, cents(1));
            let commitment = Market::commitment(id, cents(2), B256::ZERO);
            market.err(
                a,
                Action::CommitSealedBid(CommitSealedBid {
                    request_id: id,
                    commitment,
                    deposit: whole(2),
                }),
            )
        }
        QevError::RevealWindowNotOpen => {
            commit(&mut market, id, cents(1), whole(1));
            market.err(a, reveal(id, cents(1), B256::ZERO))
        }
        QevError::SealedBidExpired => {
            commit(&mut market, id, cents(1), whole(1));
            market.advance(86_400);
            market.round();
            market.err(a, reveal(id, cents(1), B256::ZERO))
        }
        QevError::CommitmentMismatch => {
            commit(&mut market, id, cents(1), whole(1));
            market.advance(86_400 - 60);
            market.err(a, reveal(id, cents(1), B256::repeat_byte(1)))
        }
        QevError::BidExceedsDeposit => {
            commit(&mut market, id, cents(2), whole(1));
            market.advance(86_400 - 60);
            market.err(a, reveal(id, cents(2), B256::ZERO))
        }
        QevError::BidUnchanged => {
            market.err(a, Action::SetBid(SetBid { request_id: id, price_wad: 0 }))
        }
        QevError::ListingPriceAboveMaximum => {
            market.ok(a, Action::ListRequest(ListRequest { request_id: id, price: whole(2) }));
            market.err(
                user_address(B),
                Action::BuyRequest(BuyRequest {
                    request_id: id,
                    max_price: whole(1),
                    min_value: Amount::ZERO,
                }),
            )
        }
        QevError::PositionValueBelowMinimum => {
            // The request holds its shares (worth 1.0 each): one unit more is refused.
            market.ok(a, Action::ListRequest(ListRequest { request_id: id, price: whole(2) }));
            let worth = qev::position_value(market.state(), &market.request_of(id)).expect("value");
            let min_value = worth.checked_add(Amount(1)).expect("fits");
            market.err(
                user_address(B),
                Action::BuyRequest(BuyRequest { request_id: id, max_price: whole(2), min_value }),
            )
        }
        QevError::BuyerMustNotBeOwner => {
            market.ok(a, Action::ListRequest(ListRequest { request_id: id, price: whole(2) }));
            market.err(
                a,
                Action::BuyRequest(BuyRequest {
                    request_id: id,
                    max_price: whole(2),
                    min_value: Amount::ZERO,
                }),
            )
        }
        QevError::InflowsTooMany => {
            let inflows = vec![(0u64, Amount(1)); INFLOWS_MAX + 1];
            estimate::estimate(market.state(), id, &inflows).expect_err("too many inflows")
        }
        QevError::BiddersTooMany => bidders_too_many(),
        other => panic!("no story for {}", other.name()),
    }
}

/// One more bidder than an estimate walks, ahead of a request without a bid. Built without
/// the per-transaction invariant checks, which would make it slow. The round that makes them
/// eligible serves all it can up to the protocol's bound (the liquidity covers everyone), so
/// the bound's worth of bidders more is queued.
fn bidders_too_many() -> TxError {
    let users = 21u64;
    let state = funded_market(users, whole(2_000), |genesis| {
        genesis.params.notice_period_secs = 0;
        genesis.params.max_active_requests = 1_000;
    });
    let mut driver = Driver::new(state);
    for user in 0..users {
        let sender = user_address(user);
        let mint = Action::MintUsdai(MintUsdai {
            token: infrafi_core::ids::USDC,
            amount: whole(2_000),
            min_out: Amount::ZERO,
        });
        driver.apply(sender, mint).expect("mint");
        driver
            .apply(sender, Action::Stake(Stake { assets: whole(1_001), min_shares: Amount::ZERO }))
            .expect("stake");
    }
    let mut next = 0u64;
    // One more than the limit after the round serves the bound's worth of them.
    for n in 0..ESTIMATE_BIDDERS_MAX as u64 + u64::from(ROUND_REQUESTS_MAX) + 1 {
        let sender = user_address(n % users);
        driver
            .apply(sender, Action::RequestRedeem(RequestRedeem { shares: whole(1) }))
            .expect("request");
        driver
            .apply(sender, Action::SetBid(SetBid { request_id: RequestId(next), price_wad: 1 }))
            .expect("bid");
        next += 1;
    }
    driver
        .apply(user_address(0), Action::RequestRedeem(RequestRedeem { shares: whole(1) }))
        .expect("request");
    driver
        .apply(
            user_address(0),
            Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }),
        )
        .expect("round");
    estimate::estimate(&driver.state, RequestId(next), &[]).expect_err("too many bidders")
}

#[test]
fn every_qev_result_code_has_a_story_in_declaration_order() {
    let produced: Vec<TxError> = QevError::ALL.iter().map(|&code| story(code)).collect();
    let expected: Vec<TxError> = QevError::ALL.iter().map(|&code| TxError::Qev(code)).collect();
    assert_eq!(produced, expected);
    let numbers: Vec<u16> = QevError::ALL.iter().map(|code| code.code()).collect();
    assert_eq!(numbers, (901..=915).collect::<Vec<u16>>(), "numbered without gaps");
}
