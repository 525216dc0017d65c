//! USDai's reserve: backing, prices and rate limits, reserve attestations and the deposit
//! queue.

use super::{limit, query};
use crate::{ApiError, AppState, dto::*};
use axum::{
    Json,
    extract::{RawQuery, State},
};
use infrafi_core::{Amount, Asset, ids::ProtocolAccount, reserve};

pub(crate) async fn reserve(State(app): State<AppState>) -> Result<Json<ReserveDto>, ApiError> {
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    // Unreachable on a running node (the block invariants halt it first); never a clamped
    // figure.
    let backing = reserve::backing(state)
        .map_err(|_| ApiError::internal("the reserve's value overflows 128 bits"))?;
    let params = state.governance.params.get();
    let attested = reserve::attested_backing(state).and_then(|attested| {
        let attestation = state.reserve.attestations.get(&attested.attestation_id)?;
        Some(AttestedBackingDto {
            attestation: attestation_dto(attestation),
            backing_bps: attested.backing_bps.map(|bps| bps.to_string()),
            age_secs: attested.age_secs,
            is_stale: attested.is_stale,
            issuance_bound: attested.issuance_bound.0.to_string(),
            mint_headroom: attested.mint_headroom.0.to_string(),
            harvestable: reserve::harvestable(state).unwrap_or(Amount::ZERO).0.to_string(),
        })
    });
    Ok(Json(ReserveDto {
        height: snapshot.header.height,
        tbill_units: backing.tbill_units.0.to_string(),
        tbill_index: backing.tbill_index.to_string(),
        tbill_apr_bps: state.reserve.tbill.get().rate_per_second.to_apr_bps().to_string(),
        reserve_value: backing.reserve_value.0.to_string(),
        usdai_supply: backing.usdai_supply.0.to_string(),
        surplus: backing.surplus.0.to_string(),
        ledger_backing_bps: reserve::ratio_bps(backing.reserve_value, backing.usdai_supply)
            .map(|bps| bps.to_string()),
        attestation_required: params.reserve_attestation_required,
        attestation_max_age_secs: params.reserve_attestation_max_age_secs,
        attestation_tolerance_bps: params.reserve_attestation_tolerance_bps.0,
        attested,
        rate_limits: {
            let flows = state.reserve.flows.get();
            let now = state.now();
            let limit = |window: &reserve::FlowWindow, limit_per_hour: Amount| RateLimitDto {
                limit_per_hour: limit_per_hour.0.to_string(),
                // Nothing is counted while there is no limit.
                used: window
                    .room(limit_per_hour, now)
                    .map_or(Amount::ZERO, |_| window.used_at(limit_per_hour, now))
                    .0
                    .to_string(),
                room: window.room(limit_per_hour, now).map(|room| room.0.to_string()),
            };
            RateLimitsDto {
                mint: limit(&flows.minted, params.mint_limit_per_hour),
                redeem: limit(&flows.redeemed, params.redeem_limit_per_hour),
                account_share_bps: params.rate_limit_account_share_bps.0,
            }
        },
        stablecoins: state
            .reserve
            .stablecoins
            .iter()
            .map(|(symbol, coin)| StablecoinDto {
                symbol: symbol.to_string(),
                price_wad: coin.price_wad.to_string(),
                price_posted_at: coin.price_posted_at,
            })
            .collect(),
    }))
}

pub(super) fn attestation_dto(attestation: &reserve::ReserveAttestation) -> ReserveAttestationDto {
    ReserveAttestationDto {
        id: attestation.id,
        custodian: attestation.custodian.to_string(),
        par_amount: attestation.par_amount.0.to_string(),
        market_value: attestation.market_value.0.to_string(),
        as_of: attestation.as_of,
        document_hash: attestation.document_hash.to_string(),
        posted_at: attestation.posted_at,
    }
}

/// `GET /v1/reserve/attestations?limit=N`: the history, newest first.
pub(crate) async fn reserve_attestations(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ReserveAttestationsDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    let attestations = &snapshot.state.reserve.attestations;
    Ok(Json(ReserveAttestationsDto {
        height: snapshot.header.height,
        total: attestations.len() as u64,
        attestations: attestations
            .iter()
            .rev()
            .take(limit)
            .map(|(_, a)| attestation_dto(a))
            .collect(),
    }))
}

/// `GET /v1/reserve/deposit-queue?limit=N`: the queued deposits, head first.
pub(crate) async fn deposit_queue(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<DepositQueueDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let queue = &state.reserve.queued_deposits;
    let head = reserve::head_fill(state)
        .map_err(|_| ApiError::internal("the head deposit's quote overflows"))?;
    let (head, head_fill_gross) = match head {
        None => (None, None),
        Some((_, _, reserve::HeadFill::Mint { gross, .. })) => {
            (Some("mint".to_string()), Some(gross.0.to_string()))
        }
        Some((_, _, reserve::HeadFill::Return)) => (Some("return".to_string()), None),
        Some((_, _, reserve::HeadFill::Wait)) => (Some("wait".to_string()), None),
    };
    let mut escrow = Vec::new();
    for token in state.reserve.stablecoins.keys() {
        // The queue's account holds exactly the queued remainders of each stablecoin (an
        // invariant checked after every transaction): one balance read, not a walk of the queue.
        let amount = state.ledger.balance(ProtocolAccount::DepositQueue, Asset::Stablecoin(*token));
        if !amount.is_zero() {
            escrow.push(BalanceDto { asset: token.to_string(), amount: amount.0.to_string() });
        }
    }
    Ok(Json(DepositQueueDto {
        height: snapshot.header.height,
        length: queue.len() as u64,
        head,
        head_fill_gross,
        issuance_room: reserve::issuance_room(state).0.to_string(),
        escrow,
        deposits: queue
            .iter()
            .take(limit)
            .map(|(id, d)| QueuedDepositDto {
                id: *id,
                owner: d.owner.to_string(),
                token: d.token.to_string(),
                amount: d.amount.0.to_string(),
                deposited: d.deposited.0.to_string(),
                queued_at: d.queued_at,
            })
            .collect(),
    }))
}
