//! The endpoints. Each parses its own path and query values into domain values (so every bad
//! input has its own code), reads one committed snapshot, and answers with a DTO.
//!
//! This file holds the shared parsers, accounts, parameters and the devnet's endpoints; `tx`,
//! `chain`, `usdai`, `susdai`, `proofs` and `events` hold the rest (credit's are in `credit`).

mod chain;
mod events;
mod proofs;
mod susdai;
mod tx;
mod usdai;

use crate::{ApiError, ApiJson, ApiPath, AppState, dto::*};
use alloy_primitives::{Address, B256};
use axum::{Json, extract::State, http::StatusCode};
use chain::header_dto;
pub use chain::{EVIDENCE_PAGE_MAX, STATE_EXPORT_BYTES_MAX};
pub(crate) use chain::{evidence, export_state, get_block, health, status};
pub(crate) use events::events;
use infrafi_core::{Asset, Role, Symbol, points, reserve};
use infrafi_node::Snapshot;
use proofs::certificate_dto;
pub(crate) use proofs::{
    proof, prove_balance, prove_leaf, prove_nonce, prove_queue_request, proven,
};
use std::{collections::BTreeMap, sync::Arc, time::Duration};
pub(crate) use susdai::{leaderboard, queue, queue_request, request_detail, request_dto, vault};
pub(crate) use tx::{get_tx, submit_batch, submit_tx};
pub(crate) use usdai::{deposit_queue, reserve, reserve_attestations};

/// The largest page of requests or leaders.
pub(crate) const PAGE_MAX: usize = 1_000;
/// The default page.
const PAGE_DEFAULT: usize = 100;

/// The most entries a filtered listing (`GET /v1/loans`, `/v1/receipts`) visits for one
/// request. A filter that few entries match (a rare status, one asset class) would otherwise
/// walk the whole book from `after` to fill one page: any caller could make every such read
/// cost the size of the book. When the budget runs out first, the answer carries the matches
/// found so far and `next_after` names the last entry visited, so a client pages on from
/// there; one read's cost stays bounded whatever the book holds.
pub(crate) const LISTING_VISITS_MAX: usize = 10_000;

/// One page of a filtered listing: the first `limit` entries of `entries` that `keep` accepts,
/// visiting at most `visits_max` of them, and the key the next page starts after: the last
/// entry returned when the page is full, the last entry visited when the budget ran out first,
/// `None` when `entries` ended.
pub(crate) fn filtered_page<E, K>(
    entries: impl Iterator<Item = E>,
    key: impl Fn(&E) -> K,
    keep: impl Fn(&E) -> bool,
    limit: usize,
    visits_max: usize,
) -> (Vec<E>, Option<K>) {
    let mut page = Vec::new();
    for (visited, entry) in (1..).zip(entries) {
        let entry_key = key(&entry);
        if keep(&entry) {
            page.push(entry);
            if page.len() == limit {
                return (page, Some(entry_key));
            }
        }
        if visited == visits_max {
            return (page, Some(entry_key));
        }
    }
    (page, None)
}

pub(crate) fn parse_address(text: &str) -> Result<Address, ApiError> {
    text.parse::<Address>().map_err(|_| {
        ApiError::bad_request(
            "address_invalid",
            format!("`{text}` is not a 0x-hex 20-byte address"),
        )
    })
}

fn parse_hash(text: &str) -> Result<B256, ApiError> {
    text.parse::<B256>().map_err(|_| {
        ApiError::bad_request("hash_invalid", format!("`{text}` is not a 0x-hex 32-byte hash"))
    })
}

pub(crate) fn parse_u64(text: &str, what: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().map_err(|_| {
        ApiError::bad_request(&format!("{what}_invalid"), format!("`{text}` is not a {what}"))
    })
}

fn parse_asset(text: &str) -> Result<Asset, ApiError> {
    match text {
        "USDai" | "usdai" => Ok(Asset::Usdai),
        "sUSDai" | "susdai" => Ok(Asset::Susdai),
        "TBILL" | "tbill" => Ok(Asset::Tbill),
        other => Symbol::new(other).map(Asset::Stablecoin).ok_or_else(|| {
            ApiError::bad_request("asset_invalid", format!("`{other}` is not an asset"))
        }),
    }
}

/// The query string as pairs; an unknown key is an error.
pub(crate) fn query(
    raw: Option<String>,
    allowed: &[&str],
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    // Percent-decoded (`+` is a space), as browsers and the CLI encode values.
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if !allowed.contains(&key.as_ref()) {
            return Err(ApiError::bad_request(
                "query_parameter_unknown",
                format!("unknown query parameter `{key}`; allowed: {allowed:?}"),
            ));
        }
        out.insert(key.into_owned(), value.into_owned());
    }
    Ok(out)
}

pub(crate) fn limit(query: &BTreeMap<String, String>) -> Result<usize, ApiError> {
    match query.get("limit") {
        None => Ok(PAGE_DEFAULT),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                "limit_invalid",
                format!("limit must be between 1 and {PAGE_MAX}"),
            )),
        },
    }
}

/// The non-zero balances of `address` in `state`.
pub(crate) fn balances_of(state: &infrafi_core::State, address: Address) -> Vec<BalanceDto> {
    assets_of(state)
        .into_iter()
        .filter_map(|asset| {
            let amount = state.ledger.balance(address, asset);
            (!amount.is_zero())
                .then(|| BalanceDto { asset: asset.to_string(), amount: amount.0.to_string() })
        })
        .collect()
}

fn assets_of(state: &infrafi_core::State) -> Vec<Asset> {
    let mut assets: Vec<Asset> =
        state.reserve.stablecoins.iter().map(|(symbol, _)| Asset::Stablecoin(*symbol)).collect();
    assets.extend([Asset::Usdai, Asset::Susdai]);
    assets
}

fn role_name(role: Role) -> String {
    serde_json::to_value(role).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

pub(crate) async fn account(
    State(app): State<AppState>,
    ApiPath(address): ApiPath<String>,
) -> Result<Json<AccountDto>, ApiError> {
    let address = parse_address(&address)?;
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let balances = balances_of(state, address);
    let roles =
        Role::ALL.iter().filter(|r| state.governance.has_role(**r, address)).map(|r| role_name(*r));
    // From the owner indexes: the cost follows this account's records, not the queues'.
    let redemption_requests =
        infrafi_core::queue::requests_of(state, address).map(|id| id.0).take(PAGE_MAX).collect();
    Ok(Json(AccountDto {
        height: snapshot.header.height,
        address,
        nonce: state.ledger.nonce(address),
        next_nonce: app.node.next_nonce(address),
        balances,
        points: points::points_of(state, address).to_string(),
        frozen: state.ledger.is_frozen(address),
        kyc_verified: state.ledger.kyc_verified.contains_key(&address),
        roles: roles.collect(),
        redemption_requests,
        queued_deposits: reserve::queued_deposits_of(state, address).take(PAGE_MAX).collect(),
        gateway_room: GatewayRoomDto {
            mint: reserve::gateway_room(state, address, reserve::GatewayFlow::Mint)
                .map(|room| room.0.to_string()),
            redeem: reserve::gateway_room(state, address, reserve::GatewayFlow::Redeem)
                .map(|room| room.0.to_string()),
        },
    }))
}

pub(crate) async fn params(State(app): State<AppState>) -> Json<ParamsDto> {
    let snapshot = app.node.snapshot();
    let governance = &snapshot.state.governance;
    let pending_changes = governance
        .pending_changes
        .iter()
        .map(|((effective_at, _), change)| PendingChangeDto {
            effective_at: *effective_at,
            change: change.clone(),
        })
        .collect();
    Json(ParamsDto {
        height: snapshot.header.height,
        params: governance.params.get().clone(),
        pause: *governance.pause.get(),
        pending_changes,
    })
}

pub(crate) async fn advance_time(
    State(app): State<AppState>,
    ApiJson(request): ApiJson<AdvanceTimeRequest>,
) -> Result<Json<AdvanceTimeDto>, ApiError> {
    if request.seconds == 0 || request.seconds > 10 * 365 * 86_400 {
        return Err(ApiError::bad_request("seconds_invalid", "seconds must be 1 to 10 years"));
    }
    let mut watch = app.node.watch_height();
    let offset_secs = app
        .node
        .advance_time(request.seconds)
        .ok_or_else(|| ApiError::not_found("devnet_only", "time can only be moved on a devnet"))?;
    // Answer once a block carries the new time. Waiting for the next height is not enough: a
    // block the producer began before the offset moved commits with the old time, and two
    // calls answered by it would fold two advances into one block.
    let target = app.node.block_time_now();
    let wait = async {
        while app.node.snapshot().header.timestamp < target {
            if watch.changed().await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), wait).await;
    let snapshot: Arc<Snapshot> = app.node.snapshot();
    Ok(Json(AdvanceTimeDto {
        offset_secs,
        height: snapshot.header.height,
        timestamp: snapshot.header.timestamp,
    }))
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("route_not_found", "no such endpoint; see /openapi.json")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed".into(),
        message: "this endpoint does not take that method; see /openapi.json".into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::{filtered_page, query};

    #[test]
    fn query_values_are_percent_decoded_and_unknown_names_refused() {
        let parsed =
            query(Some("class=gpu.h100%2Dsxm&limit=5&after".into()), &["class", "limit", "after"]);
        let parsed = parsed.unwrap();
        assert_eq!(parsed["class"], "gpu.h100-sxm");
        assert_eq!((parsed["limit"].as_str(), parsed["after"].as_str()), ("5", ""));
        // A name is decoded before it is judged: `clas%73` is `class`, allowed; `sort` is not.
        assert_eq!(query(Some("clas%73=x".into()), &["class"]).unwrap()["class"], "x");
        let Err(refused) = query(Some("clas%73=x&sort=1".into()), &["class"]) else {
            panic!("an unknown parameter was accepted")
        };
        assert_eq!(
            (refused.status.as_u16(), refused.code.as_str()),
            (400, "query_parameter_unknown")
        );
    }

    fn even(n: &u64) -> bool {
        n.is_multiple_of(2)
    }

    #[test]
    fn a_full_page_names_its_last_entry_and_a_listing_that_ends_names_none() {
        assert_eq!(filtered_page(0..100u64, |n| *n, even, 3, 1_000), (vec![0, 2, 4], Some(4)));
        assert_eq!(
            filtered_page(90..100u64, |n| *n, even, 10, 1_000),
            (vec![90, 92, 94, 96, 98], None)
        );
    }

    #[test]
    fn a_filter_that_matches_little_stops_at_the_visit_budget_and_the_next_page_goes_on_from_there()
    {
        // One match in 1,000 entries: each read visits at most 10 entries however far the
        // next match is, and paging from `next_after` finds every match exactly once.
        let rare = |n: &u64| n % 1_000 == 999;
        let (page, next) = filtered_page(0..5_000u64, |n| *n, rare, 100, 10);
        assert_eq!((page, next), (vec![], Some(9)));
        let mut found = Vec::new();
        let mut after: Option<u64> = None;
        let mut reads = 0;
        loop {
            let start = after.map_or(0, |a| a + 1);
            let (page, next) = filtered_page(start..5_000u64, |n| *n, rare, 100, 10);
            found.extend(page);
            reads += 1;
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(found, vec![999, 1_999, 2_999, 3_999, 4_999]);
        // 500 reads of 10 entries, and one that finds the listing ended.
        assert_eq!(reads, 501);
    }
}
