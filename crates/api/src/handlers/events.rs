//! The live event feed (server-sent events), filtered by kind and account.

use super::{parse_address, query};
use crate::{ApiError, AppState};
use alloy_primitives::Address;
use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::sse::{Event as SseEvent, KeepAlive, Sse},
};
use futures_util::stream::{self, Stream};
use infrafi_node::FeedEvent;
use std::{convert::Infallible, time::Duration};

/// Whether a feed event passes the `kind` and `account` filters.
pub(super) fn passes(event: &FeedEvent, kinds: &[String], account: Option<Address>) -> bool {
    let json = serde_json::to_value(&event.event).unwrap_or_default();
    if !kinds.is_empty() {
        let kind = json.get("kind").and_then(|k| k.as_str()).unwrap_or_default();
        if !kinds.iter().any(|k| k == kind) {
            return false;
        }
    }
    match account {
        None => true,
        Some(account) => {
            event.sender == Some(account) || mentions(&json, &account.to_string().to_lowercase())
        }
    }
}

pub(super) fn mentions(json: &serde_json::Value, address: &str) -> bool {
    match json {
        serde_json::Value::String(s) => s.to_lowercase() == address,
        serde_json::Value::Array(items) => items.iter().any(|v| mentions(v, address)),
        serde_json::Value::Object(map) => map.values().any(|v| mentions(v, address)),
        _ => false,
    }
}

pub(crate) async fn events(
    State(app): State<AppState>,
    crate::serve::PeerIp(ip): crate::serve::PeerIp,
    RawQuery(raw): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let query = query(raw, &["kind", "account"])?;
    let kinds: Vec<String> = query
        .get("kind")
        .map(|k| k.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    let account = query.get("account").map(|a| parse_address(a)).transpose()?;
    // A stream holds a connection and a feed subscription for as long as the client wants:
    // capped in total and per address. Its place is freed when the stream is dropped.
    let permit = app.event_streams.try_acquire(ip).ok_or_else(|| ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "event_streams_full".into(),
        message: "The node serves as many event streams as it allows (in total or to your \
                  address); retry later."
            .into(),
    })?;
    let receiver = app.node.subscribe();
    let stream = stream::unfold(
        (receiver, std::collections::VecDeque::<SseEvent>::new(), permit),
        move |(mut receiver, mut ready, permit)| {
            let kinds = kinds.clone();
            async move {
                loop {
                    if let Some(event) = ready.pop_front() {
                        return Some((Ok(event), (receiver, ready, permit)));
                    }
                    match receiver.recv().await {
                        Ok(block) => {
                            for event in block.events.iter().filter(|e| passes(e, &kinds, account))
                            {
                                let data = serde_json::to_string(event).unwrap_or_default();
                                ready.push_back(SseEvent::default().event("event").data(data));
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(skipped)) => {
                            let data = format!("{{\"skipped_blocks\":{skipped}}}");
                            ready.push_back(SseEvent::default().event("lagged").data(data));
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
