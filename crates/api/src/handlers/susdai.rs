//! The vault, its redemption queue (requests with their estimates) and the points leaderboard.

use super::{limit, parse_u64, query};
use crate::{ApiError, ApiPath, AppState, dto::*};
use axum::{
    Json,
    extract::{RawQuery, State},
};
use infrafi_core::{
    Amount, Asset, RequestId, points,
    queue::{self},
    vault,
};

pub(crate) async fn vault(State(app): State<AppState>) -> Json<VaultDto> {
    let snapshot = app.node.snapshot();
    let nav = vault::nav(&snapshot.state);
    Json(VaultDto {
        height: snapshot.header.height,
        unallocated: nav.unallocated.0.to_string(),
        unvested: nav.unvested.0.to_string(),
        senior_principal: nav.senior_principal.0.to_string(),
        senior_accrued_interest: nav.senior_accrued_interest.0.to_string(),
        senior_impairment: nav.senior_impairment.0.to_string(),
        nav_optimistic: nav.optimistic.0.to_string(),
        nav_conservative: nav.conservative.0.to_string(),
        share_supply: nav.share_supply.0.to_string(),
        deposit_price: nav.deposit_price_wad().to_string(),
        redemption_price: nav.redemption_price_wad().to_string(),
        // Made once per block (it walks every open loan), then shared by the block's reads.
        phase_mix: PhaseMixDto::clone(
            &app.memos.phase_mix.get_or_make(snapshot.hash, || crate::credit::phase_mix(&snapshot)),
        ),
    })
}

pub(crate) fn request_dto(request: &queue::RedemptionRequest) -> RequestDto {
    let status = if !request.is_active() {
        "served"
    } else if request.is_eligible {
        "eligible"
    } else {
        "waiting"
    };
    RequestDto {
        id: request.id.0,
        owner: request.owner,
        shares_requested: request.shares_requested.0.to_string(),
        shares_remaining: request.shares_remaining.0.to_string(),
        created_at: request.created_at,
        eligible_at: request.eligible_at,
        bid_price: request.bid_price_wad.to_string(),
        claimable: request.claimable.0.to_string(),
        claimed: request.claimed.0.to_string(),
        status: status.into(),
    }
}

pub(super) fn liquidity(state: &infrafi_core::State) -> Amount {
    queue::round_liquidity(state).unwrap_or(Amount::ZERO)
}

pub(crate) async fn queue(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<QueueDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let globals = state.queue.globals.get();
    Ok(Json(QueueDto {
        height: snapshot.header.height,
        rounds: globals.rounds,
        last_round_at: globals.last_round_at,
        round_liquidity: liquidity(state).0.to_string(),
        locked_shares: state
            .ledger
            .balance(infrafi_core::ProtocolAccount::QueueEscrow, Asset::Susdai)
            .0
            .to_string(),
        requests: state.queue.requests.iter().take(limit).map(|(_, r)| request_dto(r)).collect(),
    }))
}

/// Shares ahead of `request` in service order: every eligible request before it, and, if it
/// is still waiting, every request that becomes eligible no later than it
/// ([`infrafi_core::estimate::shares_ahead`]).
pub(super) fn estimate(
    state: &infrafi_core::State,
    request: &queue::RedemptionRequest,
    waiting_follows_ids: bool,
) -> EstimateDto {
    // O(bidders + log n) from the queue's trees, not a walk of the queue.
    let ahead = infrafi_core::estimate::shares_ahead(state, request, waiting_follows_ids);
    let globals = state.queue.globals.get();
    let interval = state.governance.params.get().round_interval_secs;
    let next_round =
        globals.last_round_at.map_or(state.now(), |last| last + interval).max(state.now());
    let next_round_at = next_round.max(request.eligible_at);
    let liquidity = liquidity(state);
    let nav = vault::nav(state);
    let needed = Amount(ahead.0.saturating_add(request.shares_remaining.0));
    let served_now = nav.assets_for_redemption(needed).is_ok_and(|assets| assets <= liquidity);
    EstimateDto {
        shares_ahead: ahead.0.to_string(),
        next_round_at,
        round_liquidity: liquidity.0.to_string(),
        estimated_service_at: (request.is_active() && served_now).then_some(next_round_at),
    }
}

pub(crate) async fn queue_request(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RequestDetailDto>, ApiError> {
    let id = RequestId(parse_u64(&id, "request_id")?);
    let snapshot = app.node.snapshot();
    let request = snapshot.state.queue.requests.get(&id).ok_or_else(|| {
        ApiError::not_found("request_not_found", format!("no open redemption request {id}"))
    })?;
    // The same for every request: made once per block.
    let basis = app
        .memos
        .estimates
        .get_or_make(snapshot.hash, || crate::credit::estimate_basis(&snapshot.state));
    Ok(Json(request_detail(&snapshot.state, snapshot.header.height, request, &basis)))
}

/// A request with its estimates and its QEV side, in `state` (after block `height`), with the
/// state's [`crate::credit::estimate_basis`].
pub(crate) fn request_detail(
    state: &infrafi_core::State,
    height: u64,
    request: &queue::RedemptionRequest,
    basis: &crate::credit::EstimateBasis,
) -> RequestDetailDto {
    RequestDetailDto {
        height,
        request: request_dto(request),
        estimate: estimate(state, request, basis.waiting_follows_ids),
        qev_estimate: crate::credit::qev_estimate(state, request.id, &basis.inflows).ok(),
        qev: crate::credit::qev_position(state, request),
    }
}

pub(crate) async fn leaderboard(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LeaderboardDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    // The largest page, made once per block (it reads every holder); smaller pages are its
    // first rows (the order is total).
    let page = app.memos.leaderboard.get_or_make(snapshot.hash, || {
        points::leaderboard(&snapshot.state, points::LEADERBOARD_PAGE_MAX)
    });
    let leaders = page
        .iter()
        .take(limit)
        .copied()
        .enumerate()
        .map(|(index, (address, points))| LeaderDto {
            rank: index + 1,
            address,
            points: points.to_string(),
        })
        .collect();
    Ok(Json(LeaderboardDto { height: snapshot.header.height, leaders }))
}
