//! Merkle proofs of state leaves against a certified block's state root: balances, nonces,
//! queue requests and any leaf by path.

use super::{header_dto, parse_address, parse_asset, parse_u64, request_dto};
use crate::{ApiError, ApiPath, AppState, dto::*};
use alloy_primitives::Bytes;
use axum::{Json, extract::State};
use infrafi_core::{
    Account, Asset, RequestId,
    leaves::{encode_value, table_leaf_key},
    ledger::LedgerState,
    queue::QueueState,
};
use infrafi_node::Snapshot;
use std::sync::Arc;

/// The block a proof is against and its certificate (see `Node::proof_snapshot`); reads go
/// through it as through the snapshot.
pub(crate) struct Proven {
    snapshot: Arc<Snapshot>,
    certificate: Option<Vec<u8>>,
}

impl std::ops::Deref for Proven {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        &self.snapshot
    }
}

/// The state proofs are served against.
pub(crate) fn proven(app: &AppState) -> Proven {
    let (snapshot, certificate) = app.node.proof_snapshot();
    Proven { snapshot, certificate }
}

pub(super) fn certificate_dto(
    snapshot: &Snapshot,
    certificate: Option<&Vec<u8>>,
) -> Option<CertificateDto> {
    certificate.map(|finalization| CertificateDto {
        header: header_dto(&snapshot.header),
        finalization: Bytes::from(finalization.clone()),
    })
}

pub(crate) fn proof(
    snapshot: &Proven,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
    decoded: serde_json::Value,
) -> Json<ProofDto> {
    let proof = snapshot.tree.prove(&key);
    Json(ProofDto {
        height: snapshot.header.height,
        block_hash: snapshot.hash,
        state_root: snapshot.header.state_root,
        key: key.into(),
        value: value.map(Into::into),
        decoded,
        proof,
        certificate: certificate_dto(snapshot, snapshot.certificate.as_ref()),
    })
}

pub(crate) async fn prove_balance(
    State(app): State<AppState>,
    ApiPath((address, asset)): ApiPath<(String, String)>,
) -> Result<Json<ProofDto>, ApiError> {
    let address = parse_address(&address)?;
    let asset = parse_asset(&asset)?;
    let snapshot = proven(&app);
    let amount = snapshot.state.ledger.balance(address, asset);
    // A user's USDai and sUSDai live in one holding record (with its points); every other
    // balance is its own leaf. The proof covers the leaf that holds the balance.
    if matches!(asset, Asset::Usdai | Asset::Susdai) {
        let key = table_leaf_key(LedgerState::PATHS.holdings, &address);
        let holding = snapshot.state.ledger.holdings.get(&address);
        let decoded = serde_json::json!({
            "table": LedgerState::PATHS.holdings,
            "account": address,
            "asset": asset.to_string(),
            "amount": amount.0.to_string(),
            "holding": holding.map(|h| serde_json::json!({
                "usdai": h.usdai.0.to_string(),
                "susdai": h.susdai.0.to_string(),
            })),
        });
        return Ok(proof(&snapshot, key, holding.map(encode_value), decoded));
    }
    let entry = (Account::User(address), asset);
    let key = table_leaf_key(LedgerState::PATHS.balances, &entry);
    let stored = snapshot.state.ledger.balances.get(&entry).copied();
    let decoded = serde_json::json!({
        "table": LedgerState::PATHS.balances,
        "account": address,
        "asset": asset.to_string(),
        "amount": amount.0.to_string(),
    });
    Ok(proof(&snapshot, key, stored.map(|a| encode_value(&a)), decoded))
}

pub(crate) async fn prove_nonce(
    State(app): State<AppState>,
    ApiPath(address): ApiPath<String>,
) -> Result<Json<ProofDto>, ApiError> {
    let address = parse_address(&address)?;
    let snapshot = proven(&app);
    let key = table_leaf_key(LedgerState::PATHS.nonces, &address);
    let nonce = snapshot.state.ledger.nonces.get(&address).copied();
    let decoded = serde_json::json!({"table": LedgerState::PATHS.nonces, "account": address, "nonce": nonce.unwrap_or(0)});
    Ok(proof(&snapshot, key, nonce.map(|n| encode_value(&n)), decoded))
}

pub(crate) async fn prove_queue_request(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProofDto>, ApiError> {
    let id = RequestId(parse_u64(&id, "request_id")?);
    let snapshot = proven(&app);
    let key = table_leaf_key(QueueState::PATHS.requests, &id);
    let request = snapshot.state.queue.requests.get(&id);
    let decoded = serde_json::json!({
        "table": QueueState::PATHS.requests,
        "request": request.map(request_dto),
    });
    Ok(proof(&snapshot, key, request.map(encode_value), decoded))
}

pub(crate) async fn prove_leaf(
    State(app): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<ProofDto>, ApiError> {
    let key: Bytes = key
        .parse()
        .map_err(|_| ApiError::bad_request("leaf_key_invalid", "the leaf key is not 0x-hex"))?;
    let snapshot = proven(&app);
    let proof = snapshot.tree.prove(&key);
    Ok(Json(ProofDto {
        height: snapshot.header.height,
        block_hash: snapshot.hash,
        state_root: snapshot.header.state_root,
        key,
        value: None,
        decoded: serde_json::json!({
            "note": "the generic route proves the value hash only: see proof.leaf"
        }),
        proof,
        certificate: certificate_dto(&snapshot, snapshot.certificate.as_ref()),
    }))
}
