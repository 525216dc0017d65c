//! The chain's own endpoints: blocks, the node's status and health, consensus evidence and the
//! state export.

use super::{certificate_dto, limit, parse_u64, query};
use crate::{ApiError, ApiPath, AppState, dto::*};
use alloy_primitives::Bytes;
use axum::{
    Json,
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};

pub(super) fn header_dto(header: &infrafi_node::BlockHeader) -> HeaderDto {
    HeaderDto {
        chain_id: header.chain_id,
        height: header.height,
        timestamp: header.timestamp,
        hash: header.hash(),
        parent_hash: header.parent_hash,
        transactions_root: header.transactions_root,
        receipts_root: header.receipts_root,
        state_root: header.state_root,
        transaction_count: header.transaction_count,
    }
}

pub(crate) async fn get_block(
    State(app): State<AppState>,
    ApiPath(height): ApiPath<String>,
) -> Result<Json<BlockDto>, ApiError> {
    let height = if height == "latest" {
        app.node.snapshot().header.height
    } else {
        parse_u64(&height, "height")?
    };
    let not_found = || ApiError::not_found("block_not_found", format!("no block {height}"));
    // The header first: it is shown once the block is published (`Node::header`), and the
    // hashes of a block not yet committed are never kept.
    let header = app.node.header(height).map_err(ApiError::internal)?.ok_or_else(not_found)?;
    let transactions = app
        .node
        .block_transaction_hashes(height)
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    Ok(Json(BlockDto { header: header_dto(&header), transactions }))
}

pub(crate) async fn status(State(app): State<AppState>) -> Json<StatusDto> {
    let snapshot = app.node.snapshot();
    Json(StatusDto {
        chain_id: snapshot.header.chain_id,
        height: snapshot.header.height,
        block_hash: snapshot.hash,
        state_root: snapshot.header.state_root,
        timestamp: snapshot.header.timestamp,
        mempool_size: app.node.mempool_len(),
        mempool_capacity: app.node.mempool_capacity(),
        devnet: app.node.config().devnet,
        mode: if app.node.is_replica() { "validator" } else { "single" }.into(),
        finalized_height: snapshot.header.height,
        consensus: app.node.consensus_status().map(ConsensusDto::from),
        timings: app.node.timings(),
    })
}

/// The largest page of `GET /v1/evidence`.
pub const EVIDENCE_PAGE_MAX: usize = 100;

pub(crate) async fn evidence(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<EvidenceDto>, ApiError> {
    let query = query(raw, &["from", "limit"])?;
    let from = match query.get("from") {
        Some(from) => parse_u64(from, "from")?,
        None => 0,
    };
    let limit = limit(&query)?.min(EVIDENCE_PAGE_MAX);
    let pieces = app.node.evidence(from, limit).map_err(ApiError::internal)?;
    let next = (pieces.len() == limit).then(|| pieces.last().map_or(from, |(s, _)| s + 1));
    let evidence = pieces
        .into_iter()
        .map(|(sequence, bytes)| {
            let mut value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
            value["sequence"] = sequence.into();
            Ok(value)
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(EvidenceDto { evidence, next }))
}

/// The largest encoded state `GET /v1/state/export` serves (the JSON doubles it as hex). A
/// state this large wants a streamed, chunked sync rather than one read.
pub const STATE_EXPORT_BYTES_MAX: usize = 32 * 1024 * 1024;

pub(crate) async fn export_state(
    State(app): State<AppState>,
) -> Result<Json<StateExportDto>, ApiError> {
    // A validator exports its newest certified state, so the export can be checked against
    // the quorum's certificate (this is how a new validator starts from a snapshot).
    let (snapshot, certificate) = app.node.proof_snapshot();
    // Encoding the whole state is CPU work proportional to its size: off the async workers.
    let encoded = tokio::task::spawn_blocking({
        let snapshot = snapshot.clone();
        move || snapshot.state.encode()
    })
    .await
    .map_err(ApiError::internal)?;
    if encoded.len() > STATE_EXPORT_BYTES_MAX {
        return Err(ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "state_too_large".into(),
            message: format!(
                "The state encodes to {} bytes, more than the {STATE_EXPORT_BYTES_MAX} one export serves.",
                encoded.len()
            ),
        });
    }
    Ok(Json(StateExportDto {
        chain_id: snapshot.header.chain_id,
        height: snapshot.header.height,
        block_hash: snapshot.hash,
        state_root: snapshot.header.state_root,
        timestamp: snapshot.header.timestamp,
        encoding: "postcard".into(),
        state_bytes: encoded.len(),
        state: Bytes::from(encoded),
        certificate: certificate_dto(&snapshot, certificate.as_ref()),
    }))
}

pub(crate) async fn health(State(app): State<AppState>) -> Response {
    let problems = app.node.health();
    let Some(first) = problems.first() else {
        let healthy =
            HealthDto { status: "ok".into(), code: None, message: None, problems: vec![] };
        return (StatusCode::OK, Json(healthy)).into_response();
    };
    let degraded = HealthDto {
        status: "degraded".into(),
        code: Some(first.code().into()),
        message: Some(problems.iter().map(|p| p.message()).collect::<Vec<_>>().join(" ")),
        problems: problems.iter().map(|p| ErrorBody::new(p.code(), p.message())).collect(),
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(degraded)).into_response()
}
