//! infrafi-api: the HTTP JSON API of a node (axum).
//!
//! One error boundary: every handler returns `Result<_, ApiError>`, request bodies go through
//! [`ApiJson`] (our own extractor: size limit, syntax, unknown fields), and path and query
//! values are parsed by hand, so every bad input is a 4xx `{code, message}` with a stable code.
//! Internal failures are a logged 500 whose details are not echoed. Responses are DTOs
//! ([`dto`]), never domain types, with amounts as strings of base units.

pub mod client;
mod credit;
mod dashboard;
pub mod dry_run;
pub mod dto;
mod handlers;
pub mod history;
mod memo;
pub mod openapi;
mod schema;
pub mod serve;
mod signing;

pub use handlers::{EVIDENCE_PAGE_MAX, STATE_EXPORT_BYTES_MAX};
pub use serve::ServeConfig;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
    routing::{MethodRouter, get, post},
};
use infrafi_node::Node;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The largest body of `POST /v1/tx`.
pub const TX_BODY_BYTES_MAX: usize = 16 * 1024;
/// The largest body of `POST /v1/txs`.
pub const BATCH_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;
/// The most transactions in one batch.
pub const BATCH_TXS_MAX: usize = 10_000;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The node.
    pub node: Arc<Node>,
    /// Open event streams, in total and per IP address.
    pub(crate) event_streams: Arc<serve::Quota>,
    /// Places for dry-runs running or waiting ([`ServeConfig::dry_runs_max`]).
    pub(crate) dry_runs: Arc<tokio::sync::Semaphore>,
    /// Read aggregates kept for the head block.
    pub(crate) memos: Arc<memo::Memos>,
}

/// An API error: an HTTP status and a stable code with a sentence.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable snake_case code.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

impl ApiError {
    /// A 400 with `code`.
    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, code: code.into(), message: message.into() }
    }

    /// A 404 with `code`.
    pub fn not_found(code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::NOT_FOUND, code: code.into(), message: message.into() }
    }

    /// A 500 that logs `detail` and shows nothing of it.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(%detail, "internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error".into(),
            message: "The node failed to answer; the failure is logged.".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = dto::ErrorBody::new(self.code, self.message);
        (self.status, Json(body)).into_response()
    }
}

impl From<infrafi_node::SubmitError> for ApiError {
    fn from(error: infrafi_node::SubmitError) -> ApiError {
        use infrafi_node::{AdmitError, SubmitError};
        let status = match &error {
            SubmitError::Admit(AdmitError::MempoolFull { .. })
            | SubmitError::NotRunning
            | SubmitError::NotDurable(_) => StatusCode::SERVICE_UNAVAILABLE,
            SubmitError::Admit(AdmitError::SenderPendingLimitReached { .. }) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            SubmitError::Admit(AdmitError::SenderLacksStanding) => StatusCode::FORBIDDEN,
            SubmitError::Admit(AdmitError::WouldBeRejected(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            SubmitError::Admit(_) => StatusCode::CONFLICT,
            SubmitError::Check(infrafi_tx::CheckError::SignatureInvalid)
            | SubmitError::Check(infrafi_tx::CheckError::SenderMismatch { .. }) => {
                StatusCode::UNAUTHORIZED
            }
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError { status, code: error.code().into(), message: error.to_string() }
    }
}

/// A JSON body: at most the route's body limit, valid JSON, no unknown fields (the DTOs deny
/// them). Every failure is an [`ApiError`].
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        // The media type exactly (`application/json`, any case, parameters allowed), not a
        // prefix: `application/jsonx` is not JSON.
        let is_json = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| {
                m.type_() == mime::APPLICATION && m.subtype() == mime::JSON && m.suffix().is_none()
            });
        if !is_json {
            return Err(ApiError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "content_type_not_json".into(),
                message: "The body must be JSON with `Content-Type: application/json`.".into(),
            });
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    code: "body_too_large".into(),
                    message: "The request body is larger than this endpoint accepts.".into(),
                }
            } else {
                ApiError::bad_request("body_unreadable", rejection.body_text())
            }
        })?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|error| {
            let code = match error.classify() {
                serde_json::error::Category::Data => "json_invalid_fields",
                _ => "json_malformed",
            };
            ApiError::bad_request(code, error.to_string())
        })
    }
}

/// A path parameter, percent-decoded; a parameter that does not decode (`%ff` is not UTF-8)
/// is a 400 `path_invalid` like every other bad input.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::bad_request("path_invalid", rejection.body_text()))
    }
}

/// Limits `route` to `per_second` requests per second per IP address (a burst of twice that),
/// answering `429 rate_limited` beyond it; 0 leaves it unlimited.
fn rate_limited(route: MethodRouter<AppState>, per_second: u32) -> MethodRouter<AppState> {
    use tower_governor::{GovernorLayer, governor::GovernorConfigBuilder};
    if per_second == 0 {
        return route;
    }
    let period = std::time::Duration::from_secs(1) / per_second;
    let Some(config) = GovernorConfigBuilder::default()
        .period(period)
        .burst_size(per_second.saturating_mul(2))
        .finish()
    else {
        return route;
    };
    let config = Arc::new(config);
    let limiter = config.limiter().clone();
    // Forget addresses that have been quiet for a while, so the table stays small.
    std::thread::Builder::new()
        .name("infrafi-rate-limits".into())
        .spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(60));
                limiter.retain_recent();
                if Arc::strong_count(&limiter) == 1 {
                    break;
                }
            }
        })
        .ok();
    route.layer(GovernorLayer::new(config).error_handler(|error| {
        let message = match error {
            tower_governor::GovernorError::TooManyRequests { wait_time, .. } => {
                format!("Too many submissions from your address; retry in {wait_time} s.")
            }
            other => return ApiError::internal(other).into_response(),
        };
        ApiError { status: StatusCode::TOO_MANY_REQUESTS, code: "rate_limited".into(), message }
            .into_response()
    }))
}

/// Gives every error answer of the router the `{code, message}` JSON shape: answers made by
/// axum or tower layers themselves (a timeout, a rejection written as text) get a code from
/// their status and their text as the message. Answers already in JSON pass untouched.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4_096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::NOT_FOUND => "route_not_found",
        StatusCode::BAD_REQUEST => "request_invalid",
        status if status.is_server_error() => "internal_error",
        _ => "request_refused",
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("The request was refused.").to_string()
    } else {
        text
    };
    let mut shaped = ApiError { status, code: code.into(), message }.into_response();
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name, value.clone());
        }
    }
    shaped
}

/// The router of every endpoint, with the default limits ([`ServeConfig::default`]).
pub fn router(node: Arc<Node>) -> Router {
    router_with(node, &ServeConfig::default())
}

/// The router of every endpoint, with `config`'s per-request limits.
pub fn router_with(node: Arc<Node>, config: &ServeConfig) -> Router {
    let event_streams =
        serve::Quota::new(config.event_streams_max, config.event_streams_per_ip_max);
    let dry_runs = Arc::new(tokio::sync::Semaphore::new(config.dry_runs_max));
    let state = AppState { node, event_streams, dry_runs, memos: Arc::default() };
    let submissions = config.submissions_per_ip_per_second;
    Router::new()
        .route(
            "/v1/tx",
            rate_limited(
                post(handlers::submit_tx).layer(DefaultBodyLimit::max(TX_BODY_BYTES_MAX)),
                submissions,
            ),
        )
        .route(
            "/v1/txs",
            rate_limited(
                post(handlers::submit_batch).layer(DefaultBodyLimit::max(BATCH_BODY_BYTES_MAX)),
                config.batches_per_ip_per_second,
            ),
        )
        .route(
            "/v1/dry-run",
            rate_limited(
                post(dry_run::dry_run).layer(DefaultBodyLimit::max(TX_BODY_BYTES_MAX)),
                submissions,
            ),
        )
        .route(
            "/v1/typed-data",
            post(signing::typed_data).layer(DefaultBodyLimit::max(TX_BODY_BYTES_MAX)),
        )
        .route("/v1/tx/{hash}", get(handlers::get_tx))
        .route("/v1/blocks/{height}", get(handlers::get_block))
        .route("/v1/status", get(handlers::status))
        .route("/v1/health", get(handlers::health))
        .route("/v1/state/export", get(handlers::export_state))
        .route("/v1/accounts/{address}", get(handlers::account))
        .route("/v1/reserve", get(handlers::reserve))
        .route("/v1/reserve/attestations", get(handlers::reserve_attestations))
        .route("/v1/reserve/deposit-queue", get(handlers::deposit_queue))
        .route("/v1/vault", get(handlers::vault))
        .route("/v1/queue", get(handlers::queue))
        .route("/v1/queue/rounds", get(credit::rounds))
        .route("/v1/queue/listings", get(credit::listings))
        .route("/v1/queue/{id}", get(handlers::queue_request))
        .route("/v1/silos", get(credit::silos))
        .route("/v1/silos/{id}", get(credit::silo))
        .route("/v1/loans", get(credit::loans))
        .route("/v1/loans/{id}", get(credit::loan))
        .route("/v1/asset-classes", get(credit::asset_classes))
        .route("/v1/receipts", get(credit::receipts))
        .route("/v1/receipts/{id}", get(credit::receipt))
        .route("/v1/recoveries", get(credit::recoveries))
        .route("/v1/params", get(handlers::params))
        .route("/v1/points/leaderboard", get(handlers::leaderboard))
        .route("/v1/proofs/balances/{address}/{asset}", get(handlers::prove_balance))
        .route("/v1/proofs/nonces/{address}", get(handlers::prove_nonce))
        .route("/v1/proofs/queue/{id}", get(handlers::prove_queue_request))
        .route("/v1/proofs/loans/{id}", get(credit::prove_loan))
        .route("/v1/proofs/receipts/{id}", get(credit::prove_receipt))
        .route("/v1/proofs/silos/{id}", get(credit::prove_silo))
        .route("/v1/proofs/leaves/{key}", get(handlers::prove_leaf))
        .route("/v1/history", get(history::index))
        .route("/v1/history/{series}", get(history::series))
        .route("/v1/events", get(handlers::events))
        .route("/v1/evidence", get(handlers::evidence))
        .route(
            "/v1/devnet/advance-time",
            post(handlers::advance_time).layer(DefaultBodyLimit::max(TX_BODY_BYTES_MAX)),
        )
        .route("/openapi.json", get(openapi::serve))
        .route("/", get(dashboard::index))
        .route("/dashboard/{*file}", get(dashboard::file))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(axum::middleware::map_response(json_errors))
        .with_state(state)
}

/// Serves the API on `listener` with the default limits until `shutdown` resolves.
pub async fn serve(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(node, listener, &ServeConfig::default(), shutdown).await
}

/// Serves the API on `listener` with `config`'s limits until `shutdown` resolves
/// ([`serve::serve_router`]).
pub async fn serve_with(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    config: &ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve::serve_router(router_with(node, config), listener, config, shutdown).await
}
