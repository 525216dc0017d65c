//! The API server under attack, on loopback against a real node (docs/security.md,
//! "Connections and slow clients"): connections and event streams beyond their caps are refused
//! at once with a JSON 503, half-sent headers and bodies are cut off by timeouts, submissions
//! and dry-runs are bounded, and every error (the router's, the layers' and hyper's own) is
//! `{code, message}` JSON. Raw TCP, because the point is what a client that does not play by
//! the rules gets.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use infrafi_api::ServeConfig;
use infrafi_core::{Action, Amount, Asset, action::Transfer, ids::USDC};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

mod support;
use support::Party;

const CHAIN: u64 = 4343;

/// A served node with `limits`; returns it and its `host:port`.
async fn start(limits: ServeConfig) -> (support::Served, String) {
    let served = support::serve_limited(CHAIN, &support::genesis_granting(&[]), limits).await;
    let address = served.client.base().trim_start_matches("http://").to_string();
    (served, address)
}

/// An answer read off a raw connection.
#[derive(Debug)]
struct Raw {
    status: u16,
    head: String,
    body: Value,
}

/// Parses a whole HTTP/1.1 answer (the connection closed after it).
fn parse(bytes: &[u8]) -> Raw {
    let text = String::from_utf8_lossy(bytes).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = serde_json::from_str(body.trim()).unwrap_or(Value::Null);
    Raw { status, head: head.to_string(), body }
}

/// Writes `request` on a new connection and reads until the server closes it (at most 5 s).
async fn exchange(address: &str, request: &[u8]) -> Raw {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    parse(&answer)
}

/// `GET path` with `Connection: close`.
async fn get(address: &str, path: &str) -> Raw {
    exchange(
        address,
        format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .await
}

/// `POST path` with `content_type` and `body`, `Connection: close`.
async fn post(address: &str, path: &str, content_type: &str, body: &str) -> Raw {
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: {content_type}\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    exchange(address, request.as_bytes()).await
}

/// Asserts `answer` is `status` with the JSON error `code` and a sentence.
fn assert_error(answer: &Raw, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{code}: {answer:?}");
    assert!(
        answer.head.to_ascii_lowercase().contains("content-type: application/json"),
        "{code}: {answer:?}"
    );
    assert_eq!(answer.body["code"], code, "{answer:?}");
    assert!(answer.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer:?}");
}

/// Reads one answer with a `content-length` from `stream` (at most 5 s), leaving it open.
async fn read_answer(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4_096];
    let complete = |answer: &[u8]| {
        let text = String::from_utf8_lossy(answer).to_ascii_lowercase();
        let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(0);
        body.len() >= length
    };
    while !complete(&answer) {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buffer[..n]),
            _ => break,
        }
    }
    answer
}

/// Reads from `stream` until it is closed; how long that took (at most `within`).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut sink = [0u8; 4_096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
    .map(|()| started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_refused_at_once_and_health_answers_throughout() {
    let limits = ServeConfig { connections_per_ip_max: 4, ..ServeConfig::default() };
    let (served, address) = start(limits).await;
    // Four idle connections hold this address's whole share.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(&address).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let refused = get(&address, "/v1/health").await;
    assert!(started.elapsed() < Duration::from_secs(1), "refused in {:?}", started.elapsed());
    assert_error(&refused, 503, "connections_full");
    assert!(refused.head.to_ascii_lowercase().contains("retry-after: 1"), "{refused:?}");
    // Places free when connections close; health then answers, and quickly. (Two places: a
    // connection's place is freed just after its client has read the answer, so the next
    // request may arrive while the previous one still holds its place.)
    idle.truncate(2);
    let mut health = get(&address, "/v1/health").await;
    for _ in 0..50 {
        if health.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        health = get(&address, "/v1/health").await;
    }
    assert_eq!(health.status, 200, "{health:?}");
    let started = Instant::now();
    assert_eq!(get(&address, "/v1/health").await.status, 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    served.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_and_idle_connections_are_closed_after_the_header_timeout() {
    let limits =
        ServeConfig { header_read_timeout: Duration::from_secs(1), ..ServeConfig::default() };
    let (served, address) = start(limits).await;
    let mut half = TcpStream::connect(&address).await.unwrap();
    half.write_all(b"GET /v1/health HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let mut silent = TcpStream::connect(&address).await.unwrap();
    for stream in [&mut half, &mut silent] {
        let closed = closed_within(stream, Duration::from_secs(5)).await;
        assert!(closed.is_some(), "a slow client kept its connection");
    }
    // A keep-alive connection left idle after an answer is closed too.
    let mut kept = TcpStream::connect(&address).await.unwrap();
    kept.write_all(b"GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let closed = closed_within(&mut kept, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "an idle keep-alive connection was kept");
    served.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_finishes_gets_a_json_408() {
    let limits = ServeConfig { request_timeout: Duration::from_secs(1), ..ServeConfig::default() };
    let (served, address) = start(limits).await;
    let mut stream = TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(
            b"POST /v1/tx HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
              content-length: 500\r\n\r\n{\"chain_id\":",
        )
        .await
        .unwrap();
    let started = Instant::now();
    // Read the answer without closing our side (a client still "sending").
    let answer = read_answer(&mut stream).await;
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert_error(&parse(&answer), 408, "request_timeout");
    served.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_beyond_their_cap_get_a_json_503_and_a_closed_stream_frees_its_place() {
    let limits = ServeConfig { event_streams_per_ip_max: 2, ..ServeConfig::default() };
    let (served, address) = start(limits).await;
    let open = |address: String| async move {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream.write_all(b"GET /v1/events HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head[9..12], b"200", "{}", String::from_utf8_lossy(&head));
        stream
    };
    let first = open(address.clone()).await;
    let _second = open(address.clone()).await;
    assert_error(&get(&address, "/v1/events").await, 503, "event_streams_full");
    drop(first);
    let mut reopened = get(&address, "/v1/events?kind=x").await;
    for _ in 0..50 {
        if reopened.status != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        reopened = get(&address, "/v1/events?kind=x").await;
    }
    // `get` reads until close, which a stream never does: only the head is checked.
    assert!(reopened.head.starts_with("HTTP/1.1 200"), "{reopened:?}");
    served.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_json_including_the_routers_and_hypers_own() {
    let (served, address) = start(ServeConfig::default()).await;
    // The router's and the extractors'.
    assert_error(&get(&address, "/v1/tx").await, 405, "method_not_allowed");
    assert_error(
        &post(&address, "/v1/status", "application/json", "{}").await,
        405,
        "method_not_allowed",
    );
    assert_error(&get(&address, "/v1/tx/%ff").await, 400, "path_invalid");
    assert_error(&get(&address, "/v1/nothing").await, 404, "route_not_found");
    // hyper's own, for requests it cannot parse.
    assert_error(&exchange(&address, b"NOT HTTP AT ALL\r\n\r\n").await, 400, "request_malformed");
    let long_uri = format!("/v1/tx/{}", "a".repeat(70_000));
    let answer = get(&address, &long_uri).await;
    assert!(matches!(answer.status, 414 | 431), "{answer:?}");
    assert_error(
        &answer,
        answer.status,
        if answer.status == 414 { "uri_too_long" } else { "headers_too_large" },
    );
    let big_header = format!(
        "GET /v1/health HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
        "b".repeat(infrafi_api::serve::REQUEST_HEAD_BYTES_MAX + 1)
    );
    assert_error(&exchange(&address, big_header.as_bytes()).await, 431, "headers_too_large");
    // Percent-decoded path parameters: an encoded hash is the hash.
    let zero = format!("/v1/tx/0x{}", "0".repeat(64));
    let encoded = zero.replace("0x0", "%30x0");
    assert_error(&get(&address, &encoded).await, 404, "tx_not_found");
    served.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_content_type_is_the_exact_media_type_in_any_case() {
    let (served, address) = start(ServeConfig::default()).await;
    let body = "{\"sender\": \"0x12\", \"action\": {\"type\": \"harvest_base_yield\"}}";
    for accepted in ["application/json", "APPLICATION/JSON", "Application/Json; charset=utf-8"] {
        let answer = post(&address, "/v1/dry-run", accepted, body).await;
        assert_error(&answer, 400, "address_invalid");
    }
    for refused in ["application/jsonx", "application/json-patch+json", "text/json", "json"] {
        let answer = post(&address, "/v1/dry-run", refused, body).await;
        assert_error(&answer, 415, "content_type_not_json");
    }
    served.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_beyond_the_rate_limit_get_a_json_429_and_dry_runs_are_bounded() {
    let limits = ServeConfig { submissions_per_ip_per_second: 2, ..ServeConfig::default() };
    let (served, address) = start(limits).await;
    let body = json!({"sender": "0x12", "action": {"type": "harvest_base_yield"}}).to_string();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(post(&address, "/v1/dry-run", "application/json", &body).await);
    }
    let limited = statuses.iter().filter(|a| a.status == 429).count();
    assert!(limited >= 4, "a burst of 4 at 2/s: {statuses:?}");
    let answer = statuses.iter().find(|a| a.status == 429).unwrap();
    assert_error(answer, 429, "rate_limited");
    served.node.shutdown();

    // No place for a dry-run: refused at once instead of holding a blocking thread.
    let limits = ServeConfig { dry_runs_max: 0, ..ServeConfig::default() };
    let (served, address) = start(limits).await;
    let body = json!({"sender": Party::Admin.address(), "action": {"type": "harvest_base_yield"}})
        .to_string();
    assert_error(
        &post(&address, "/v1/dry-run", "application/json", &body).await,
        503,
        "dry_runs_busy",
    );
    served.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_degrades_and_says_why_when_the_mempool_is_saturated_and_when_the_node_stops() {
    let payer = Party::User.key();
    let mut genesis = support::genesis_granting(&[]);
    genesis.stablecoin_balances = vec![(payer.address(), USDC, Amount::from_whole(1_000))];
    // A pool of ten and blocks a minute apart: what is admitted waits.
    let served = support::serve_configured(CHAIN, &genesis, ServeConfig::default(), |config| {
        config.mempool_txs_max = 10;
        config.block_time = Duration::from_secs(60);
    })
    .await;
    let address = served.client.base().trim_start_matches("http://").to_string();
    let healthy = get(&address, "/v1/health").await;
    assert_eq!(healthy.status, 200, "{healthy:?}");
    assert_eq!(healthy.body, json!({"status": "ok", "problems": []}));
    let to = Party::Payee.address();
    for nonce in 0..9 {
        let action =
            Action::Transfer(Transfer { asset: Asset::Stablecoin(USDC), to, amount: Amount(1) });
        let answer = served.client.submit(&payer.sign(CHAIN, nonce, &action)).await.unwrap();
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    let status = get(&address, "/v1/status").await;
    assert_eq!(
        (status.body["mempool_size"].as_u64(), status.body["mempool_capacity"].as_u64()),
        (Some(9), Some(10))
    );
    let started = Instant::now();
    let saturated = get(&address, "/v1/health").await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_error(&saturated, 503, "mempool_saturated");
    assert_eq!(saturated.body["status"], "degraded");
    assert!(saturated.body["message"].as_str().unwrap().contains("9 of 10"), "{saturated:?}");
    // Stopped: the most serious problem comes first, the saturation is still listed.
    served.node.shutdown();
    let stopped = get(&address, "/v1/health").await;
    assert_error(&stopped, 503, "node_not_running");
    let codes: Vec<&str> = stopped.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["node_not_running", "mempool_saturated"]);
}
