//! `GET /openapi.json` (OpenAPI 3.1), generated from [`ROUTES`], the one list of endpoints,
//! and from the DTO types themselves: each route names its response and request types, and
//! their JSON Schemas are derived with `schemars` from the same structs the handlers
//! serialize (doc comments become descriptions). A test walks the table against the live
//! router, so the document lists exactly what is served; another generates a TypeScript
//! client from it with `openapi-typescript` and type-checks the app's calls against it.
//!
//! Why schemars and not utoipa: the paths already come from this table, which the router test
//! checks; what was missing were the schemas. schemars derives exactly those, is a small
//! proc-macro crate, and emits JSON Schema 2020-12, the dialect of OpenAPI 3.1.

use crate::dto::*;
use axum::Json;
use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Value, json};

/// How a route answers on success.
#[derive(Clone, Copy, Debug)]
pub enum Body {
    /// JSON of a type, with its schema.
    Json(fn(&mut SchemaGenerator) -> Schema),
    /// Something other than JSON (a page, a stream), by media type.
    Media(&'static str),
}

/// One query parameter.
#[derive(Clone, Copy, Debug)]
pub struct QueryParameter {
    /// Its name.
    pub name: &'static str,
    /// Its JSON Schema type: `integer` or `string`.
    pub kind: &'static str,
}

/// One endpoint.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// `get` or `post`.
    pub method: &'static str,
    /// The path, with `{parameters}`.
    pub path: &'static str,
    /// Its query parameters (all optional).
    pub query: &'static [QueryParameter],
    /// What it does.
    pub summary: &'static str,
    /// The success status.
    pub status: u16,
    /// What it answers with.
    pub response: Body,
    /// What it takes, for `post`.
    pub request: Option<fn(&mut SchemaGenerator) -> Schema>,
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

macro_rules! body {
    (json $type:ty) => {
        Body::Json(schema_of::<$type>)
    };
    (media $media:literal) => {
        Body::Media($media)
    };
}

macro_rules! routes {
    ($($method:ident $path:literal [$($query:ident: $kind:ident),*]
        => $body:ident($($response:tt)+) $(@ $status:literal)? $(<- $request:ty)?, $summary:literal;)*) => {
        /// Every endpoint of the API.
        pub const ROUTES: &[Route] = &[$(Route {
            method: stringify!($method),
            path: $path,
            query: &[$(QueryParameter { name: stringify!($query), kind: stringify!($kind) }),*],
            summary: $summary,
            status: routes!(@status $($status)?),
            response: body!($body $($response)+),
            request: routes!(@request $($request)?),
        }),*];
    };
    (@status) => { 200 };
    (@status $status:literal) => { $status };
    (@request) => { None };
    (@request $request:ty) => { Some(schema_of::<$request>) };
}

routes! {
    post "/v1/tx" [] => json(TxAccepted) @ 202 <- TxRequest, "Submit one signed transaction (202).";
    post "/v1/txs" [] => json(Vec<BatchItem>) <- Vec<TxRequest>, "Submit a batch; signatures are checked in parallel.";
    post "/v1/dry-run" [] => json(DryRunDto) <- DryRunRequest, "Preview an action: apply it to the committed state and roll it back; events, balances, requests and loans after it, or the rejection.";
    post "/v1/typed-data" [] => json(TypedDataDto) <- TypedDataRequest, "The EIP-712 typed data to sign for an action (for eth_signTypedData_v4) and the transaction to submit with the signature.";
    get "/v1/tx/{hash}" [] => json(TxStatus), "A transaction: pending, or its receipt.";
    get "/v1/blocks/{height}" [] => json(BlockDto), "A block header and its transaction hashes (`latest` allowed).";
    get "/v1/status" [] => json(StatusDto), "Height, block hash, state root, time; mode, finalized height, and for a validator its index and the peers it sees; where the node's time went since start (admission and block production, phase by phase).";
    get "/v1/health" [] => json(HealthDto), "200 when healthy; 503 with the problems when degraded (an invariant broken, stopped, stalled, mempool saturated).";
    get "/v1/state/export" [] => json(StateExportDto), "The last committed state (a validator: the newest certified one, with its header and certificate): `State::encode()` (postcard, 0x-hex) with its height and state root.";
    get "/v1/accounts/{address}" [] => json(AccountDto), "Balances, nonce, points, roles, requests.";
    get "/v1/reserve" [] => json(ReserveDto), "USDai backing (the ledger's and the newest attestation's, with its age), issuance headroom and stablecoin prices.";
    get "/v1/reserve/attestations" [limit: integer] => json(ReserveAttestationsDto), "The reserve custodian's attestations, newest first.";
    get "/v1/reserve/deposit-queue" [limit: integer] => json(DepositQueueDto), "Deposits waiting for room to mint, head first, with the escrow per stablecoin and what the head can do now.";
    get "/v1/vault" [] => json(VaultDto), "sUSDai NAV in both views, share prices, phase mix and blended APY.";
    get "/v1/queue" [limit: integer] => json(QueueDto), "The redemption queue.";
    get "/v1/queue/rounds" [limit: integer] => json(RoundsDto), "Servicing rounds, newest first, with clearing price and its EMA.";
    get "/v1/queue/listings" [limit: integer] => json(ListingsDto), "Requests listed for sale.";
    get "/v1/queue/{id}" [] => json(RequestDetailDto), "One redemption request with its service and QEV estimates, bids, listing, wait-fees.";
    get "/v1/silos" [limit: integer] => json(SilosDto), "Curator silos.";
    get "/v1/silos/{id}" [] => json(SiloDetailDto), "One silo with its open and impaired loans.";
    get "/v1/loans" [silo: integer, borrower: string, status: string, after: integer, limit: integer] => json(LoansDto), "Loans, filtered, by id.";
    get "/v1/loans/{id}" [] => json(LoanDetailDto), "One loan with its schedule: payment due now, remaining payments; a proposal's schedule if accepted now.";
    get "/v1/asset-classes" [after: string, limit: integer] => json(AssetClassesDto), "Asset classes: depreciation model, income terms, rental index (fresh, move window) and one unit's income value now.";
    get "/v1/receipts" [owner: string, class: string, status: string, loan: integer, after: integer, limit: integer] => json(ReceiptsDto), "Hardware receipts, filtered, by id.";
    get "/v1/receipts/{id}" [] => json(ReceiptDetailDto), "One receipt: insurance, valuation, income value and value for LTV now, eligibility, hardware presence.";
    get "/v1/recoveries" [] => json(RecoveriesDto), "The recovery rate per asset class over every defaulted loan (issue 16's recovery ledger).";
    get "/v1/params" [] => json(ParamsDto), "Parameters, pauses and scheduled changes.";
    get "/v1/points/leaderboard" [limit: integer] => json(LeaderboardDto), "Accounts with the most points.";
    get "/v1/proofs/balances/{address}/{asset}" [] => json(ProofDto), "Merkle proof of a balance (a validator adds the block's finalization certificate).";
    get "/v1/proofs/nonces/{address}" [] => json(ProofDto), "Merkle proof of a nonce.";
    get "/v1/proofs/queue/{id}" [] => json(ProofDto), "Merkle proof of a redemption request.";
    get "/v1/proofs/loans/{id}" [] => json(ProofDto), "Merkle proof of a loan.";
    get "/v1/proofs/receipts/{id}" [] => json(ProofDto), "Merkle proof of a receipt.";
    get "/v1/proofs/silos/{id}" [] => json(ProofDto), "Merkle proof of a silo.";
    get "/v1/proofs/leaves/{key}" [] => json(ProofDto), "Merkle proof of any leaf key (value hash only).";
    get "/v1/history" [] => json(HistoryIndexDto), "The history series this node records and their cadence.";
    get "/v1/history/{series}" [from: integer, to: integer, step: integer] => json(HistoryDto), "One history series over a range (unix seconds; at most 1,000 points, the last sample of each step).";
    get "/v1/events" [kind: string, account: string] => media("text/event-stream"), "Server-sent events of committed blocks, filtered by event kinds (comma-separated) and an account.";
    get "/v1/evidence" [from: integer, limit: integer] => json(EvidenceDto), "Validator mode: faults the consensus engine proved (conflicting votes), oldest first.";
    post "/v1/devnet/advance-time" [] => json(AdvanceTimeDto) <- AdvanceTimeRequest, "Devnet only: move block time forward.";
    get "/openapi.json" [] => json(Value), "This document.";
    get "/" [] => media("text/html"), "The transparency dashboard and app (docs/dashboard.md).";
    get "/dashboard/{file}" [] => media("application/octet-stream"), "A file of the dashboard (embedded in the binary).";
}

/// The schema of a path parameter: ids are integers, everything else (hashes, addresses,
/// `latest` heights, leaf keys) is a string.
fn path_parameter(name: &str) -> Value {
    let kind = if name == "id" { "integer" } else { "string" };
    json!({"name": name, "in": "path", "required": true, "schema": {"type": kind}})
}

fn content(schema: Schema) -> Value {
    json!({"application/json": {"schema": schema.to_value()}})
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        })
        .for_serialize()
        .into_generator();
    // Request bodies are described as the node reads them (a field with a default, such as
    // `nonce` of `POST /v1/typed-data`, is optional), inline so that the serialize-side
    // definitions of a shared type are not overwritten.
    let mut requests = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
        })
        .for_deserialize()
        .into_generator();
    let error = content(generator.subschema_for::<ErrorBody>());
    let mut paths = serde_json::Map::new();
    for route in ROUTES {
        let mut parameters: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(path_parameter)
            .collect();
        parameters.extend(route.query.iter().map(|q| {
            json!({"name": q.name, "in": "query", "required": false, "schema": {"type": q.kind}})
        }));
        let success = match route.response {
            Body::Json(schema) => {
                json!({"description": "Success.", "content": content(schema(&mut generator))})
            }
            Body::Media(media) => json!({"description": "Success.", "content": {media: {}}}),
        };
        let mut operation = json!({
            "summary": route.summary,
            "parameters": parameters,
            "responses": {
                route.status.to_string(): success,
                "4XX": {"description": "A bad request: a stable code and a sentence.", "content": error},
                "5XX": {"description": "The node cannot answer (stopped, full mempool, internal error).", "content": error},
            },
        });
        if let Some(request) = route.request {
            operation["requestBody"] =
                json!({"required": true, "content": content(request(&mut requests))});
        }
        let entry = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        entry[route.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "infrafi node API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {"schemas": generator.take_definitions(true)},
    })
}

pub(crate) async fn serve() -> Json<Value> {
    Json(document())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;

    /// Every `$ref` in `value`.
    fn references(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target.clone());
                }
                map.values().for_each(|v| references(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_schema_reference_resolves_and_every_json_route_has_a_schema() {
        let document = document();
        let mut found = Vec::new();
        references(&document, &mut found);
        assert!(found.len() > 40, "{}", found.len());
        for target in found {
            let name = target.strip_prefix("#/components/schemas/").unwrap();
            assert!(document["components"]["schemas"][name].is_object(), "{target} is undefined");
        }
        let vault = &document["components"]["schemas"]["VaultDto"];
        assert!(vault["properties"]["deposit_price"]["description"].is_string());
        assert!(vault["required"].as_array().unwrap().iter().any(|r| r == "phase_mix"));
        for route in ROUTES {
            let operation = &document["paths"][route.path][route.method];
            let success = &operation["responses"][route.status.to_string()]["content"];
            assert!(success.is_object(), "{} {}", route.method, route.path);
        }
    }

    #[test]
    fn a_request_field_with_a_default_is_optional_in_its_schema() {
        let document = document();
        let body = &document["paths"]["/v1/typed-data"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        let required: Vec<&str> =
            body["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert!(required.contains(&"sender") && required.contains(&"signature_chain_id"));
        assert!(!required.contains(&"nonce"), "{required:?}");
        assert!(body["properties"]["nonce"].is_object(), "{body}");
    }

    /// The JSON type a schema (a `$ref` followed into `document`) gives its values.
    fn schema_type<'a>(document: &'a Value, schema: &'a Value) -> &'a str {
        match schema["$ref"].as_str() {
            Some(target) => {
                let name = target.strip_prefix("#/components/schemas/").unwrap();
                schema_type(document, &document["components"]["schemas"][name])
            }
            None => schema["type"].as_str().unwrap(),
        }
    }

    /// The JSON type of `value`, as a schema names it.
    fn value_type(value: &Value) -> &'static str {
        match value {
            Value::String(_) => "string",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "integer",
            other => panic!("a parameter is never {other}"),
        }
    }

    #[test]
    fn the_params_schema_describes_every_parameter_and_every_change_of_one() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        let answer = &schemas["ParamsDto"];
        assert_eq!(answer["properties"]["params"]["$ref"], "#/components/schemas/Params");
        let schema = &schemas["Params"];
        let served = serde_json::to_value(infrafi_core::Params::default()).unwrap();
        let served = served.as_object().unwrap();
        let required: Vec<&str> =
            schema["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert_eq!(required.len(), served.len(), "{required:?}");
        assert_eq!(schema["properties"].as_object().unwrap().len(), served.len());
        let changes = schemas["ParameterChange"]["oneOf"].as_array().unwrap();
        assert_eq!(changes.len(), served.len());
        for (name, value) in served {
            let property = &schema["properties"][name];
            assert!(required.contains(&name.as_str()), "{name}");
            assert!(property["description"].is_string(), "{name} has no description");
            assert_eq!(schema_type(&document, property), value_type(value), "{name}");
            // Every parameter has its change, and the schema of that change's value is the
            // parameter's: the JSON an admin sends for it is the JSON the params route serves.
            let change: infrafi_core::ParameterChange =
                serde_json::from_value(json!({"parameter": name, "value": value})).unwrap();
            assert_eq!(serde_json::to_value(&change).unwrap()["parameter"], *name);
            let branch = changes
                .iter()
                .find(|branch| branch["properties"]["parameter"]["const"] == *name)
                .unwrap_or_else(|| panic!("no change of {name} in the schema"));
            assert_eq!(schema_type(&document, &branch["properties"]["value"]), value_type(value));
        }
        let pause = serde_json::to_value(infrafi_core::params::PauseFlags::default()).unwrap();
        for (name, value) in pause.as_object().unwrap() {
            let property = &schemas["PauseFlags"]["properties"][name];
            assert_eq!(schema_type(&document, property), value_type(value), "{name}");
        }
    }
}
