//! A small HTTP client for the API (the CLI wallet, tests, the load generator).

use crate::dto::TxRequest;
use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::{
    client::legacy::{Client as HyperClient, connect::HttpConnector},
    rt::TokioExecutor,
};
use infrafi_tx::SignedTransaction;
use serde::Serialize;
use serde_json::Value;

/// How long one attempt of a call may take.
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
/// Attempts per call.
pub const CALL_ATTEMPTS: u32 = 3;

/// Why a call failed before an HTTP answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not valid.
    #[error("invalid URL {0}")]
    Url(String),
    /// The connection or the exchange failed.
    #[error("HTTP: {0}")]
    Http(String),
    /// The answer is not JSON.
    #[error("the answer is not JSON: {0}")]
    Json(String),
}

/// An answer: status and JSON body.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body (`null` when empty).
    pub body: Value,
}

/// A client of one node. Use it from one tokio runtime: a pooled connection is driven by the
/// runtime that opened it, so a call from another runtime may wait on a connection nobody
/// drives (the retry after [`CALL_TIMEOUT`] then recovers, slowly).
#[derive(Clone)]
pub struct Client {
    base: String,
    http: HyperClient<HttpConnector, Full<Bytes>>,
}

/// The JSON request of a signed transaction.
pub fn tx_request(tx: &SignedTransaction) -> TxRequest {
    TxRequest {
        chain_id: tx.chain_id,
        signature_chain_id: Some(tx.signature_chain_id),
        sender: tx.sender.to_string(),
        nonce: tx.nonce,
        action: tx.action.clone(),
        payload: tx.payload.clone(),
        signature: tx.signature.to_string(),
    }
}

impl Client {
    /// A client of the node at `base` (`http://127.0.0.1:8545`).
    pub fn new(base: &str) -> Client {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = HyperClient::builder(TokioExecutor::new()).build(connector);
        Client { base: base.trim_end_matches('/').to_string(), http }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request with a raw body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Answer, ClientError> {
        let url = format!("{}{path}", self.base);
        let body = Bytes::from(body);
        // Every call is safe to repeat (reads, and submissions, which are idempotent by
        // hash), so a call that gets no answer in time is retried on a fresh connection.
        let mut attempt = 0;
        let (status, bytes) = loop {
            attempt += 1;
            let mut builder = Request::builder().method(method.clone()).uri(&url);
            if let Some(content_type) = content_type {
                builder = builder.header("content-type", content_type);
            }
            let request =
                builder.body(Full::new(body.clone())).map_err(|_| ClientError::Url(url.clone()))?;
            let exchange = async {
                let response = self.http.request(request).await?;
                let status = response.status();
                let bytes = response.into_body().collect().await?.to_bytes();
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>((status, bytes))
            };
            match tokio::time::timeout(CALL_TIMEOUT, exchange).await {
                Ok(Ok(answer)) => break answer,
                Ok(Err(error)) if attempt >= CALL_ATTEMPTS => {
                    return Err(ClientError::Http(error.to_string()));
                }
                Err(_) if attempt >= CALL_ATTEMPTS => {
                    return Err(ClientError::Http(format!("no answer within {CALL_TIMEOUT:?}")));
                }
                _ => continue,
            }
        };
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Json(e.to_string()))?
        };
        Ok(Answer { status, body })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Answer, ClientError> {
        self.send(Method::GET, path, None, Vec::new()).await
    }

    /// `POST path` with a JSON body.
    pub async fn post<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<Answer, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Json(e.to_string()))?;
        self.send(Method::POST, path, Some("application/json"), bytes).await
    }

    /// Submits a signed transaction.
    pub async fn submit(&self, tx: &SignedTransaction) -> Result<Answer, ClientError> {
        self.post("/v1/tx", &tx_request(tx)).await
    }
}
