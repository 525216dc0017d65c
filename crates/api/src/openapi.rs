//! `GET /openapi.json`, generated from [`ROUTES`], the one list of endpoints. A test checks
//! that every route listed here is served and that the router serves nothing unlisted, so the
//! document cannot drift from the code. (utoipa would derive schemas too, at the price of a
//! proc-macro dependency and annotations on every DTO; the route table keeps the build lean.)

use axum::Json;
use serde_json::{Value, json};

/// One endpoint.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// `get` or `post`.
    pub method: &'static str,
    /// The path, with `{parameters}`.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// The DTO it answers with (see `dto.rs`).
    pub response: &'static str,
    /// The DTO it takes, for `post`.
    pub request: Option<&'static str>,
}

macro_rules! routes {
    ($($method:ident $path:literal => $response:literal $(<- $request:literal)?, $summary:literal;)*) => {
        /// Every endpoint of the API.
        pub const ROUTES: &[Route] = &[$(Route {
            method: stringify!($method),
            path: $path,
            summary: $summary,
            response: $response,
            request: routes!(@request $($request)?),
        }),*];
    };
    (@request) => { None };
    (@request $request:literal) => { Some($request) };
}

routes! {
    post "/v1/tx" => "TxAccepted" <- "TxRequest", "Submit one signed transaction (202).";
    post "/v1/txs" => "BatchItem[]" <- "TxRequest[]", "Submit a batch; signatures are checked in parallel.";
    get "/v1/tx/{hash}" => "TxStatus", "A transaction: pending, or its receipt.";
    get "/v1/blocks/{height}" => "BlockDto", "A block header and its transaction hashes (`latest` allowed).";
    get "/v1/status" => "StatusDto", "Height, block hash, state root, time.";
    get "/v1/health" => "object", "200 while the block producer runs, 503 otherwise.";
    get "/v1/state/export" => "StateExportDto", "The last committed state: `State::encode()` (postcard, 0x-hex) with its height and state root.";
    get "/v1/accounts/{address}" => "AccountDto", "Balances, nonce, points, roles, requests.";
    get "/v1/reserve" => "ReserveDto", "USDai backing and stablecoin prices.";
    get "/v1/vault" => "VaultDto", "sUSDai NAV in both views, share prices, phase mix and blended APY.";
    get "/v1/queue" => "QueueDto", "The redemption queue (`?limit=`).";
    get "/v1/queue/rounds" => "RoundsDto", "Servicing rounds, newest first, with clearing price and its EMA (`?limit=`).";
    get "/v1/queue/listings" => "ListingsDto", "Requests listed for sale (`?limit=`).";
    get "/v1/queue/{id}" => "RequestDetailDto", "One redemption request with its service and QEV estimates, bids, listing, wait-fees.";
    get "/v1/silos" => "SilosDto", "Curator silos (`?limit=`).";
    get "/v1/silos/{id}" => "SiloDetailDto", "One silo with its open and impaired loans.";
    get "/v1/loans" => "LoansDto", "Loans (`?silo=&borrower=&status=&after=&limit=`).";
    get "/v1/loans/{id}" => "LoanDetailDto", "One loan with its schedule: payment due now, remaining payments.";
    get "/v1/receipts" => "ReceiptsDto", "Hardware receipts (`?owner=&class=&status=&loan=&after=&limit=`).";
    get "/v1/receipts/{id}" => "ReceiptDetailDto", "One receipt: insurance, valuation, value for LTV now, eligibility.";
    get "/v1/params" => "object", "Parameters, pauses and scheduled changes.";
    get "/v1/points/leaderboard" => "LeaderboardDto", "Accounts with the most points (`?limit=`).";
    get "/v1/proofs/balances/{address}/{asset}" => "ProofDto", "Merkle proof of a balance.";
    get "/v1/proofs/nonces/{address}" => "ProofDto", "Merkle proof of a nonce.";
    get "/v1/proofs/queue/{id}" => "ProofDto", "Merkle proof of a redemption request.";
    get "/v1/proofs/loans/{id}" => "ProofDto", "Merkle proof of a loan.";
    get "/v1/proofs/receipts/{id}" => "ProofDto", "Merkle proof of a receipt.";
    get "/v1/proofs/silos/{id}" => "ProofDto", "Merkle proof of a silo.";
    get "/v1/proofs/leaves/{key}" => "ProofDto", "Merkle proof of any leaf key (value hash only).";
    get "/v1/events" => "text/event-stream", "Server-sent events (`?kind=a,b&account=0x..`).";
    post "/v1/devnet/advance-time" => "AdvanceTimeDto" <- "AdvanceTimeRequest", "Devnet only: move block time forward.";
    get "/openapi.json" => "object", "This document.";
    get "/" => "text/html", "The transparency dashboard (docs/dashboard.md).";
    get "/dashboard/{file}" => "file", "A file of the dashboard (embedded in the binary).";
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for route in ROUTES {
        let parameters: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut operation = json!({
            "summary": route.summary,
            "parameters": parameters,
            "responses": {
                "2XX": {"description": route.response},
                "4XX": {"description": "ErrorBody {code, message}"},
            },
        });
        if let Some(request) = route.request {
            operation["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": {"description": request}}},
            });
        }
        let entry = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        entry[route.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "infrafi node API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
    })
}

pub(crate) async fn serve() -> Json<Value> {
    Json(document())
}
