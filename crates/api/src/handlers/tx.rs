//! Submitting transactions (one, or a batch) and reading one back with its receipt.

use super::{parse_address, parse_hash};
use crate::{ApiError, ApiJson, ApiPath, AppState, dto::*};
use alloy_primitives::Bytes;
use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use infrafi_tx::SignedTransaction;

pub(super) fn signed_of(request: TxRequest) -> Result<SignedTransaction, ApiError> {
    let signature: Bytes = request.signature.parse().map_err(|_| {
        ApiError::bad_request("signature_malformed", "the signature is not 0x-hex bytes")
    })?;
    let signature_chain_id = request.signature_chain_id.ok_or_else(|| {
        ApiError::bad_request(
            "signing_scheme_retired",
            format!(
                "no signature_chain_id: transactions signed under EIP-712 domain version 1 are \
                 no longer accepted; sign the action's own struct under {{name: \"infrafi\", \
                 version: \"{}\", chainId: your wallet's chain}}; POST /v1/typed-data returns \
                 exactly what to sign",
                infrafi_tx::DOMAIN_VERSION
            ),
        )
    })?;
    Ok(SignedTransaction {
        chain_id: request.chain_id,
        signature_chain_id,
        sender: parse_address(&request.sender)?,
        nonce: request.nonce,
        action: request.action,
        payload: request.payload,
        signature,
    })
}

pub(crate) async fn submit_tx(
    State(app): State<AppState>,
    ApiJson(request): ApiJson<TxRequest>,
) -> Result<Response, ApiError> {
    let signed = signed_of(request)?;
    let node = app.node.clone();
    // Signature recovery is ~40 µs of CPU: off the async workers.
    let tx_hash = tokio::task::spawn_blocking(move || node.submit(signed))
        .await
        .map_err(ApiError::internal)??;
    let body = TxAccepted { tx_hash, status: "pending".into() };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

pub(crate) async fn submit_batch(
    State(app): State<AppState>,
    ApiJson(requests): ApiJson<Vec<TxRequest>>,
) -> Result<Json<Vec<BatchItem>>, ApiError> {
    if requests.len() > crate::BATCH_TXS_MAX {
        return Err(ApiError::bad_request(
            "batch_too_large",
            format!("a batch holds at most {} transactions", crate::BATCH_TXS_MAX),
        ));
    }
    let mut items: Vec<Option<BatchItem>> = Vec::with_capacity(requests.len());
    let mut signed = Vec::with_capacity(requests.len());
    for request in requests {
        match signed_of(request) {
            Ok(tx) => {
                signed.push(tx);
                items.push(None);
            }
            Err(e) => items.push(Some(BatchItem {
                tx_hash: None,
                error: Some(ErrorBody::new(e.code, e.message)),
            })),
        }
    }
    let node = app.node.clone();
    let results = tokio::task::spawn_blocking(move || node.submit_batch(signed))
        .await
        .map_err(ApiError::internal)?;
    let mut results = results.into_iter();
    let items = items
        .into_iter()
        .map(|item| {
            item.unwrap_or_else(|| match results.next() {
                Some(Ok(hash)) => BatchItem { tx_hash: Some(hash), error: None },
                Some(Err(e)) => BatchItem {
                    tx_hash: None,
                    error: Some(ErrorBody::new(e.code(), e.to_string())),
                },
                None => BatchItem {
                    tx_hash: None,
                    error: Some(ErrorBody::new("internal_error", String::new())),
                },
            })
        })
        .collect();
    Ok(Json(items))
}

pub(crate) async fn get_tx(
    State(app): State<AppState>,
    ApiPath(hash): ApiPath<String>,
) -> Result<Json<TxStatus>, ApiError> {
    let hash = parse_hash(&hash)?;
    // Pending first: a transaction leaves the pending set only after its receipt is stored.
    if app.node.is_pending(&hash) {
        return Ok(Json(TxStatus {
            tx_hash: hash,
            status: "pending".into(),
            height: None,
            index: None,
            sender: None,
            nonce: None,
            action: None,
            error: None,
            events: Vec::new(),
        }));
    }
    if let Some(receipt) = app.node.receipt(&hash).map_err(ApiError::internal)? {
        let status = if receipt.error.is_some() { "rejected" } else { "applied" };
        return Ok(Json(TxStatus {
            tx_hash: hash,
            status: status.into(),
            height: Some(receipt.height),
            index: Some(receipt.index),
            sender: Some(receipt.sender),
            nonce: Some(receipt.nonce),
            action: Some(receipt.action),
            error: receipt.error.map(|e| TxErrorBody {
                code: e.code,
                number: e.number,
                message: e.message,
            }),
            events: receipt.events,
        }));
    }
    Err(ApiError::not_found("tx_not_found", format!("no transaction {hash} is known")))
}
