//! `POST /v1/dry-run`: what an action would do now, without signing, submitting or committing
//! anything. The node applies it to its committed state as the next block would and rolls it
//! back (`Node::dry_run`, `infrafi_core::tx::preview`), so every preview (shares for a stake,
//! USDai for a mint, a request's place and service date, a loan's schedule, a rejection with
//! its code) is the state machine's own answer, never a second implementation in a client.
//!
//! Besides the events, the answer carries the sender's balances after the action and, for
//! every redemption request and loan the action or its events name, that object as it would
//! then stand (with its QEV estimate or its schedule). Found generically by the `request_id`
//! and `loan_id` fields of the action and its events, so new actions need nothing here;
//! bounded by [`DRY_RUN_OBJECTS_MAX`] of each.

use crate::{
    ApiError, ApiJson, AppState,
    dto::{DryRunDto, DryRunRequest, TxErrorBody},
    handlers::{balances_of, parse_address, request_detail},
};
use axum::{Json, extract::State};
use infrafi_core::{Action, Event, LoanId, RequestId};
use serde_json::Value;
use std::collections::BTreeSet;

/// The most requests, and the most loans, one dry-run describes.
pub const DRY_RUN_OBJECTS_MAX: usize = 8;

/// Collects the numbers under `key` anywhere in `json`, up to the bound.
fn ids_named(json: &Value, key: &str, out: &mut BTreeSet<u64>) {
    match json {
        Value::Object(map) => {
            for (name, value) in map {
                match value.as_u64() {
                    Some(id) if name == key && out.len() < DRY_RUN_OBJECTS_MAX => {
                        out.insert(id);
                    }
                    _ => ids_named(value, key, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| ids_named(item, key, out)),
        _ => {}
    }
}

pub(crate) async fn dry_run(
    State(app): State<AppState>,
    ApiJson(request): ApiJson<DryRunRequest>,
) -> Result<Json<DryRunDto>, ApiError> {
    let sender = parse_address(&request.sender)?;
    let action_json = request.action;
    let action: Action = serde_json::from_value(action_json.clone())
        .map_err(|e| ApiError::bad_request("action_invalid", format!("not an action: {e}")))?;
    // Bounded: each dry-run holds a blocking thread while it waits for the one state copy.
    let place = app.dry_runs.clone().try_acquire_owned().map_err(|_| ApiError {
        status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
        code: "dry_runs_busy".into(),
        message: "The node is running as many dry-runs as it allows; retry shortly.".into(),
    })?;
    let node = app.node.clone();
    // Applying an action is CPU work (a round may touch a thousand requests): off the
    // async workers, like signature checks.
    let run = tokio::task::spawn_blocking(move || {
        let _place = place;
        node.dry_run(sender, action, |state, events: &[Event]| {
            let height = state.clock.get().height;
            let event_json = serde_json::to_value(events).unwrap_or_default();
            let (mut request_ids, mut loan_ids) = (BTreeSet::new(), BTreeSet::new());
            for json in [&action_json, &event_json] {
                ids_named(json, "request_id", &mut request_ids);
                ids_named(json, "loan_id", &mut loan_ids);
            }
            let basis = crate::credit::estimate_basis(state);
            let requests = request_ids
                .into_iter()
                .filter_map(|id| state.queue.requests.get(&RequestId(id)))
                .map(|r| request_detail(state, height, r, &basis))
                .collect();
            let loans = loan_ids
                .into_iter()
                .filter_map(|id| state.loans.loans.get(&LoanId(id)))
                .map(|loan| crate::credit::loan_detail(state, height, loan))
                .collect::<Result<Vec<_>, ApiError>>();
            (events.to_vec(), balances_of(state, sender), requests, loans)
        })
    })
    .await
    .map_err(ApiError::internal)?;
    let mut answer = DryRunDto {
        height: run.height,
        timestamp: run.timestamp,
        status: "applied".into(),
        error: None,
        events: Vec::new(),
        balances: Vec::new(),
        requests: Vec::new(),
        loans: Vec::new(),
    };
    match run.outcome {
        Ok((events, balances, requests, loans)) => {
            answer.events = events;
            answer.balances = balances;
            answer.requests = requests;
            answer.loans = loans?;
        }
        Err(error) => {
            answer.status = "rejected".into();
            answer.error = Some(TxErrorBody {
                code: error.name().to_string(),
                number: error.code(),
                message: error.message().to_string(),
            });
        }
    }
    Ok(Json(answer))
}
