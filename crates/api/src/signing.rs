//! `POST /v1/typed-data`: the exact EIP-712 typed data a wallet signs for an action (the
//! action's own struct, `infrafi_tx::typed`), and the transaction to submit with its signature. A browser wallet (`eth_signTypedData_v4`) then signs
//! what the node verifies, with no copy of the types in JavaScript, and the payload is the
//! node's canonical JSON of the action (it is decoded first, so an invalid action is refused
//! before anyone signs it).

use crate::{
    ApiError, ApiJson, AppState,
    dto::{TypedDataDto, TypedDataRequest, UnsignedTxDto},
    handlers::parse_address,
};
use axum::{Json, extract::State};
use infrafi_core::Action;

pub(crate) async fn typed_data(
    State(app): State<AppState>,
    ApiJson(request): ApiJson<TypedDataRequest>,
) -> Result<Json<TypedDataDto>, ApiError> {
    let sender = parse_address(&request.sender)?;
    let action: Action = serde_json::from_value(request.action)
        .map_err(|e| ApiError::bad_request("action_invalid", format!("not an action: {e}")))?;
    let payload = serde_json::to_string(&action).map_err(ApiError::internal)?;
    let chain_id = app.node.config().chain_id;
    let nonce = request.nonce.unwrap_or_else(|| app.node.next_nonce(sender));
    let name = action.name();
    Ok(Json(TypedDataDto {
        typed_data: infrafi_tx::typed_data(chain_id, request.signature_chain_id, nonce, &action),
        transaction: UnsignedTxDto {
            chain_id,
            signature_chain_id: request.signature_chain_id,
            sender,
            nonce,
            action: name.to_string(),
            payload,
        },
    }))
}
