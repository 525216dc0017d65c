//! Queue codes (5xx): redemption requests and servicing rounds.

use super::*;

pub(crate) fn a_request_below_the_minimum_redeem_is_rejected() -> TxError {
    let mut market = funded_market();
    let code = reject(
        &mut market,
        ALICE,
        Action::RequestRedeem(RequestRedeem { shares: minus(whole(1), Amount(1)) }),
        QueueError::SharesBelowMinimumRedeem,
    );
    market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) }));
    code
}

pub(crate) fn a_request_beyond_the_active_requests_limit_is_rejected() -> TxError {
    let mut market = Market::with_params(|p| p.max_active_requests = 3);
    market.mint(ALICE, whole(10));
    market.stake(ALICE, whole(10));
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(Market::request_id(
            &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) })),
        ));
    }
    let code = reject(
        &mut market,
        ALICE,
        Action::RequestRedeem(RequestRedeem { shares: whole(1) }),
        QueueError::ActiveRequestsLimitReached,
    );
    // Served requests stop counting: after a round serves these three, Alice may ask again.
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    for id in &ids {
        market.ok(ALICE, Action::Claim(Claim { request_id: *id }));
    }
    let mut again = Vec::new();
    for _ in 0..3 {
        again.push(Market::request_id(
            &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) })),
        ));
    }
    reject(&mut market, ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) }), code);
    // So do cancelled ones.
    market.ok(ALICE, Action::CancelRedeem(CancelRedeem { request_id: again[0] }));
    market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) }));
    code
}

pub(crate) fn cancelling_or_claiming_an_unknown_request_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::CancelRedeem(CancelRedeem { request_id: RequestId(0) }),
        QueueError::RequestNotFound,
    );
    reject(
        &mut market,
        ALICE,
        Action::Claim(Claim { request_id: RequestId(7) }),
        QueueError::RequestNotFound,
    )
}

pub(crate) fn only_the_owner_may_cancel_or_claim_a_request() -> TxError {
    let mut market = funded_market();
    let request_id = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(5) })),
    );
    reject(
        &mut market,
        BOB,
        Action::CancelRedeem(CancelRedeem { request_id }),
        QueueError::SenderIsNotRequestOwner,
    );
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    reject(
        &mut market,
        BOB,
        Action::Claim(Claim { request_id }),
        QueueError::SenderIsNotRequestOwner,
    )
}

pub(crate) fn cancelling_a_fully_served_request_is_rejected() -> TxError {
    let mut market = funded_market();
    let request_id = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(5) })),
    );
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    reject(
        &mut market,
        ALICE,
        Action::CancelRedeem(CancelRedeem { request_id }),
        QueueError::RequestAlreadyServed,
    )
}

pub(crate) fn claiming_with_nothing_served_is_rejected() -> TxError {
    let mut market = funded_market();
    let request_id = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(5) })),
    );
    reject(&mut market, ALICE, Action::Claim(Claim { request_id }), QueueError::NothingToClaim)
}

pub(crate) fn a_round_before_the_round_interval_is_rejected() -> TxError {
    let mut market = funded_market();
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 1 }));
    market.advance(DAY - 1);
    let code = reject(
        &mut market,
        BOB,
        Action::ServiceQueue(ServiceQueue { max_requests: 1 }),
        QueueError::RoundIntervalNotElapsed,
    );
    market.advance(1);
    market.ok(BOB, Action::ServiceQueue(ServiceQueue { max_requests: 1 }));
    code
}

pub(crate) fn a_round_limit_of_zero_or_above_the_maximum_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        KEEPER,
        Action::ServiceQueue(ServiceQueue { max_requests: 0 }),
        QueueError::RoundRequestLimitOutOfRange,
    );
    reject(
        &mut market,
        KEEPER,
        Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX + 1 }),
        QueueError::RoundRequestLimitOutOfRange,
    );
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }));
    QueueError::RoundRequestLimitOutOfRange.into()
}

pub(crate) fn a_round_limit_that_would_cut_the_round_short_is_rejected() -> TxError {
    let mut market = funded_market();
    for _ in 0..3 {
        market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(5) }));
    }
    market.advance(7 * DAY);
    // The idle USDai covers all three: a limit of two would leave one eligible request and
    // liquidity behind.
    let code = reject(
        &mut market,
        BOB,
        Action::ServiceQueue(ServiceQueue { max_requests: 2 }),
        QueueError::RoundRequestLimitCutsRoundShort,
    );
    // A limit that covers the round is no cut.
    market.ok(BOB, Action::ServiceQueue(ServiceQueue { max_requests: 3 }));
    code
}
