//! Redemption-queue reads: a request's QEV estimate and position, the servicing rounds and the
//! listings. Same boundary as the rest of `credit`: values parsed by hand, one committed
//! snapshot per read, DTOs out.

use super::amount;
use crate::{
    ApiError, AppState,
    dto::*,
    handlers::{limit, query, request_dto},
};
use axum::{
    Json,
    extract::{RawQuery, State},
};
use infrafi_core::{
    Amount, RequestId, TxError, estimate, loans, math::SECONDS_PER_DAY, qev, queue, vault,
};

/// How far the QEV estimate projects inflows.
pub(crate) const ESTIMATE_HORIZON_SECS: u64 = 365 * SECONDS_PER_DAY;
/// Rounds one `GET /v1/queue/rounds` returns at most.
const ROUNDS_PAGE_DEFAULT: usize = 20;

/// The inflows every QEV estimate in one state projects (the same for every request): the
/// base yield over the horizon, then the open loans' scheduled senior repayments, at most
/// [`estimate::INFLOWS_MAX`] in all.
pub(crate) struct Inflows {
    list: Vec<(u64, Amount)>,
    from_base_yield: usize,
    from_loans: usize,
}

/// What every request's estimates in one state share: the inflows the QEV estimate projects
/// and whether the waiting order follows the ids ([`estimate::waiting_order_follows_ids`]).
pub(crate) struct EstimateBasis {
    pub(crate) inflows: Result<Inflows, TxError>,
    pub(crate) waiting_follows_ids: bool,
}

/// The [`EstimateBasis`] of `state` (walks every open loan's schedule and the waiting order).
pub(crate) fn estimate_basis(state: &infrafi_core::State) -> EstimateBasis {
    EstimateBasis {
        inflows: inflows(state),
        waiting_follows_ids: estimate::waiting_order_follows_ids(state),
    }
}

/// The [`Inflows`] of `state` (walks every open loan's schedule).
fn inflows(state: &infrafi_core::State) -> Result<Inflows, TxError> {
    let mut list = estimate::base_yield_inflows(state, ESTIMATE_HORIZON_SECS)?;
    let from_base_yield = list.len();
    let until = state.now().saturating_add(ESTIMATE_HORIZON_SECS);
    let room = estimate::INFLOWS_MAX.saturating_sub(list.len());
    let repayments = loans::scheduled_senior_repayments(state, until, room)?;
    let from_loans = repayments.len();
    list.extend(repayments);
    Ok(Inflows { list, from_base_yield, from_loans })
}

/// The QEV estimate of request `id` with `inflows` (the state's [`inflows`]; `Err` when they
/// could not be projected: the estimate fails the same way).
pub(crate) fn qev_estimate(
    state: &infrafi_core::State,
    id: RequestId,
    inflows: &Result<Inflows, TxError>,
) -> Result<QevEstimateDto, TxError> {
    let Inflows { list, from_base_yield, from_loans } = inflows.as_ref().map_err(Clone::clone)?;
    let (from_base_yield, from_loans) = (*from_base_yield, *from_loans);
    let e = estimate::estimate(state, id, list)?;
    Ok(QevEstimateDto {
        position: e.position,
        shares_ahead: amount(e.shares_ahead),
        assets_ahead: amount(e.assets_ahead),
        assets: amount(e.assets),
        liquidity_now: amount(e.liquidity_now),
        next_round_at: e.next_round_at,
        service_at: e.service_at,
        bid_to_serve_next_round: e.bid_to_serve_next_round_wad.map(|b| b.to_string()),
        inflows_from_loans: from_loans,
        inflows_from_base_yield: from_base_yield,
        horizon_secs: ESTIMATE_HORIZON_SECS,
    })
}

/// A request's bids, listing and wait-fees.
pub(crate) fn qev_position(
    state: &infrafi_core::State,
    request: &queue::RedemptionRequest,
) -> QevPositionDto {
    QevPositionDto {
        bid_price: request.bid_price_wad.to_string(),
        bid_escrow: amount(request.bid_escrow),
        sealed_bid: request.sealed_bid.as_ref().map(|s| SealedBidDto {
            commitment: s.commitment,
            deposit: amount(s.deposit),
            committed_at: s.committed_at,
            round: s.round,
            reveal_window_opens_at: queue::next_round_earliest_at(state)
                .saturating_sub(state.governance.params.get().reveal_window_secs),
            reveal_window_open: qev::is_reveal_window_open(state),
        }),
        listing_price: request.listing_price.map(amount),
        position_value: qev::position_value(state, request).ok().map(amount),
        wait_fees: qev::wait_fees_now(state, request.id).ok().map(|w| WaitFeesDto {
            earned: amount(w.earned),
            vested: amount(w.vested),
            claimed: amount(w.claimed),
            claimable: amount(w.claimable),
        }),
    }
}

pub(crate) async fn rounds(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<RoundsDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = match query.get("limit") {
        None => ROUNDS_PAGE_DEFAULT,
        Some(_) => limit(&query)?,
    };
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let rounds = state
        .queue
        .rounds
        .iter()
        .rev()
        .take(limit)
        .map(|(_, r)| RoundDto {
            round: r.round,
            at: r.at,
            liquidity: amount(r.liquidity),
            served_shares: amount(r.served_shares),
            served_assets: amount(r.served_assets),
            requests_served: r.requests_served,
            clearing_price: r.clearing_price_wad.to_string(),
            clearing_price_ema: r.clearing_price_ema_wad.to_string(),
            jumpers: r.jumpers,
            bid_fees_paid: amount(r.bid_fees_paid),
            wait_fees_distributed: amount(r.wait_fees_distributed),
            protocol_cut: amount(r.protocol_cut),
            overtaken_shares: amount(r.overtaken_shares),
        })
        .collect();
    Ok(Json(RoundsDto {
        height: snapshot.header.height,
        rounds_total: state.queue.globals.get().rounds,
        clearing_price_ema: state.queue.qev.get().clearing_price_ema_wad.to_string(),
        rounds,
    }))
}

pub(crate) async fn listings(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ListingsDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    let nav = vault::nav(&snapshot.state);
    // From the listed index: the cost follows the listings, not the queue.
    let listings = queue::listed_requests(&snapshot.state)
        .filter_map(|r| r.listing_price.map(|price| (r, price)))
        .take(limit)
        .map(|(r, price)| ListingDto {
            request: request_dto(r),
            price: amount(price),
            value_now: amount(nav.assets_for_redemption(r.shares_remaining).unwrap_or_default()),
            position_value: amount(qev::position_value(&snapshot.state, r).unwrap_or_default()),
        })
        .collect();
    Ok(Json(ListingsDto { height: snapshot.header.height, listings }))
}
