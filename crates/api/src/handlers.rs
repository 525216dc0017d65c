//! The endpoints. Each parses its own path and query values into domain values (so every bad
//! input has its own code), reads one committed snapshot, and answers with a DTO.

use crate::{ApiError, ApiJson, ApiPath, AppState, dto::*};
use alloy_primitives::{Address, B256, Bytes};
use axum::{
    Json,
    extract::{RawQuery, State},
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event as SseEvent, KeepAlive, Sse},
    },
};
use futures_util::stream::{self, Stream};
use infrafi_core::{
    Account, Amount, Asset, RequestId, Role, Symbol,
    leaves::{encode_value, table_leaf_key},
    ledger::LedgerState,
    points,
    queue::{self, QueueState},
    reserve, vault,
};
use infrafi_node::{FeedEvent, Snapshot};
use infrafi_tx::SignedTransaction;
use std::{collections::BTreeMap, convert::Infallible, sync::Arc, time::Duration};

/// The largest page of requests or leaders.
pub(crate) const PAGE_MAX: usize = 1_000;
/// The default page.
const PAGE_DEFAULT: usize = 100;

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
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !allowed.contains(&key) {
            return Err(ApiError::bad_request(
                "query_parameter_unknown",
                format!("unknown query parameter `{key}`; allowed: {allowed:?}"),
            ));
        }
        out.insert(key.to_string(), value.to_string());
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

fn signed_of(request: TxRequest) -> Result<SignedTransaction, ApiError> {
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

fn header_dto(header: &infrafi_node::BlockHeader) -> HeaderDto {
    HeaderDto {
        chain_id: header.chain_id,
        height: header.height,
        timestamp: header.timestamp,
        hash: header.hash(),
        parent_hash: header.parent_hash,
        transactions_root: header.transactions_root,
        receipts_root: header.receipts_root,
        state_root: header.state_root,
        transaction_count: header.transaction_count,
    }
}

pub(crate) async fn get_block(
    State(app): State<AppState>,
    ApiPath(height): ApiPath<String>,
) -> Result<Json<BlockDto>, ApiError> {
    let height = if height == "latest" {
        app.node.snapshot().header.height
    } else {
        parse_u64(&height, "height")?
    };
    let (header, body) = app
        .node
        .block(height)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("block_not_found", format!("no block {height}")))?;
    Ok(Json(BlockDto {
        header: header_dto(&header),
        transactions: body.transactions.iter().map(SignedTransaction::hash).collect(),
    }))
}

pub(crate) async fn status(State(app): State<AppState>) -> Json<StatusDto> {
    let snapshot = app.node.snapshot();
    Json(StatusDto {
        chain_id: snapshot.header.chain_id,
        height: snapshot.header.height,
        block_hash: snapshot.hash,
        state_root: snapshot.header.state_root,
        timestamp: snapshot.header.timestamp,
        mempool_size: app.node.mempool_len(),
        mempool_capacity: app.node.mempool_capacity(),
        devnet: app.node.config().devnet,
        mode: if app.node.is_replica() { "validator" } else { "single" }.into(),
        finalized_height: snapshot.header.height,
        consensus: app.node.consensus_status().map(ConsensusDto::from),
        timings: app.node.timings(),
    })
}

/// The largest page of `GET /v1/evidence`.
pub const EVIDENCE_PAGE_MAX: usize = 100;

pub(crate) async fn evidence(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<EvidenceDto>, ApiError> {
    let query = query(raw, &["from", "limit"])?;
    let from = match query.get("from") {
        Some(from) => parse_u64(from, "from")?,
        None => 0,
    };
    let limit = limit(&query)?.min(EVIDENCE_PAGE_MAX);
    let pieces = app.node.evidence(from, limit).map_err(ApiError::internal)?;
    let next = (pieces.len() == limit).then(|| pieces.last().map_or(from, |(s, _)| s + 1));
    let evidence = pieces
        .into_iter()
        .map(|(sequence, bytes)| {
            let mut value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
            value["sequence"] = sequence.into();
            Ok(value)
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(EvidenceDto { evidence, next }))
}

/// The block a proof is against and its certificate (see `Node::proof_snapshot`); reads go
/// through it as through the snapshot.
pub(crate) struct Proven {
    snapshot: Arc<Snapshot>,
    certificate: Option<Vec<u8>>,
}

impl std::ops::Deref for Proven {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        &self.snapshot
    }
}

/// The state proofs are served against.
pub(crate) fn proven(app: &AppState) -> Proven {
    let (snapshot, certificate) = app.node.proof_snapshot();
    Proven { snapshot, certificate }
}

fn certificate_dto(snapshot: &Snapshot, certificate: Option<&Vec<u8>>) -> Option<CertificateDto> {
    certificate.map(|finalization| CertificateDto {
        header: header_dto(&snapshot.header),
        finalization: Bytes::from(finalization.clone()),
    })
}

/// The largest encoded state `GET /v1/state/export` serves (the JSON doubles it as hex). A
/// state this large wants a streamed, chunked sync rather than one read.
pub const STATE_EXPORT_BYTES_MAX: usize = 32 * 1024 * 1024;

pub(crate) async fn export_state(
    State(app): State<AppState>,
) -> Result<Json<StateExportDto>, ApiError> {
    // A validator exports its newest certified state, so the export can be checked against
    // the quorum's certificate (this is how a new validator starts from a snapshot).
    let (snapshot, certificate) = app.node.proof_snapshot();
    // Encoding the whole state is CPU work proportional to its size: off the async workers.
    let encoded = tokio::task::spawn_blocking({
        let snapshot = snapshot.clone();
        move || snapshot.state.encode()
    })
    .await
    .map_err(ApiError::internal)?;
    if encoded.len() > STATE_EXPORT_BYTES_MAX {
        return Err(ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "state_too_large".into(),
            message: format!(
                "The state encodes to {} bytes, more than the {STATE_EXPORT_BYTES_MAX} one export serves.",
                encoded.len()
            ),
        });
    }
    Ok(Json(StateExportDto {
        chain_id: snapshot.header.chain_id,
        height: snapshot.header.height,
        block_hash: snapshot.hash,
        state_root: snapshot.header.state_root,
        timestamp: snapshot.header.timestamp,
        encoding: "postcard".into(),
        state_bytes: encoded.len(),
        state: Bytes::from(encoded),
        certificate: certificate_dto(&snapshot, certificate.as_ref()),
    }))
}

pub(crate) async fn health(State(app): State<AppState>) -> Response {
    let problems = app.node.health();
    let Some(first) = problems.first() else {
        let healthy =
            HealthDto { status: "ok".into(), code: None, message: None, problems: vec![] };
        return (StatusCode::OK, Json(healthy)).into_response();
    };
    let degraded = HealthDto {
        status: "degraded".into(),
        code: Some(first.code().into()),
        message: Some(problems.iter().map(|p| p.message()).collect::<Vec<_>>().join(" ")),
        problems: problems.iter().map(|p| ErrorBody::new(p.code(), p.message())).collect(),
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(degraded)).into_response()
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
    let redemption_requests = state
        .queue
        .requests
        .iter()
        .filter(|(_, r)| r.owner == address)
        .map(|(id, _)| id.0)
        .take(PAGE_MAX)
        .collect();
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
        queued_deposits: state
            .reserve
            .queued_deposits
            .iter()
            .filter(|(_, d)| d.owner == address)
            .map(|(id, _)| *id)
            .take(PAGE_MAX)
            .collect(),
        gateway_room: GatewayRoomDto {
            mint: reserve::gateway_room(state, address, reserve::GatewayFlow::Mint)
                .map(|room| room.0.to_string()),
            redeem: reserve::gateway_room(state, address, reserve::GatewayFlow::Redeem)
                .map(|room| room.0.to_string()),
        },
    }))
}

pub(crate) async fn reserve(State(app): State<AppState>) -> Result<Json<ReserveDto>, ApiError> {
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    // Unreachable on a running node (the block invariants halt it first); never a clamped
    // figure.
    let backing = reserve::backing(state)
        .map_err(|_| ApiError::internal("the reserve's value overflows 128 bits"))?;
    let params = state.governance.params.get();
    let attested = reserve::attested_backing(state).and_then(|attested| {
        let attestation = state.reserve.attestations.get(&attested.attestation_id)?;
        Some(AttestedBackingDto {
            attestation: attestation_dto(attestation),
            backing_bps: attested.backing_bps.map(|bps| bps.to_string()),
            age_secs: attested.age_secs,
            is_stale: attested.is_stale,
            issuance_bound: attested.issuance_bound.0.to_string(),
            mint_headroom: attested.mint_headroom.0.to_string(),
            harvestable: reserve::harvestable(state).unwrap_or(Amount::ZERO).0.to_string(),
        })
    });
    Ok(Json(ReserveDto {
        height: snapshot.header.height,
        tbill_units: backing.tbill_units.0.to_string(),
        tbill_index: backing.tbill_index.to_string(),
        tbill_apr_bps: state.reserve.tbill.get().rate_per_second.to_apr_bps().to_string(),
        reserve_value: backing.reserve_value.0.to_string(),
        usdai_supply: backing.usdai_supply.0.to_string(),
        surplus: backing.surplus.0.to_string(),
        ledger_backing_bps: reserve::ratio_bps(backing.reserve_value, backing.usdai_supply)
            .map(|bps| bps.to_string()),
        attestation_required: params.reserve_attestation_required,
        attestation_max_age_secs: params.reserve_attestation_max_age_secs,
        attestation_tolerance_bps: params.reserve_attestation_tolerance_bps.0,
        attested,
        rate_limits: {
            let flows = state.reserve.flows.get();
            let now = state.now();
            let limit = |window: &reserve::FlowWindow, limit_per_hour: Amount| RateLimitDto {
                limit_per_hour: limit_per_hour.0.to_string(),
                // Nothing is counted while there is no limit.
                used: window
                    .room(limit_per_hour, now)
                    .map_or(Amount::ZERO, |_| window.used_at(limit_per_hour, now))
                    .0
                    .to_string(),
                room: window.room(limit_per_hour, now).map(|room| room.0.to_string()),
            };
            RateLimitsDto {
                mint: limit(&flows.minted, params.mint_limit_per_hour),
                redeem: limit(&flows.redeemed, params.redeem_limit_per_hour),
                account_share_bps: params.rate_limit_account_share_bps.0,
            }
        },
        stablecoins: state
            .reserve
            .stablecoins
            .iter()
            .map(|(symbol, coin)| StablecoinDto {
                symbol: symbol.to_string(),
                price_wad: coin.price_wad.to_string(),
                price_posted_at: coin.price_posted_at,
            })
            .collect(),
    }))
}

fn attestation_dto(attestation: &reserve::ReserveAttestation) -> ReserveAttestationDto {
    ReserveAttestationDto {
        id: attestation.id,
        custodian: attestation.custodian.to_string(),
        par_amount: attestation.par_amount.0.to_string(),
        market_value: attestation.market_value.0.to_string(),
        as_of: attestation.as_of,
        document_hash: attestation.document_hash.to_string(),
        posted_at: attestation.posted_at,
    }
}

/// `GET /v1/reserve/attestations?limit=N`: the history, newest first.
pub(crate) async fn reserve_attestations(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ReserveAttestationsDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    let attestations = &snapshot.state.reserve.attestations;
    Ok(Json(ReserveAttestationsDto {
        height: snapshot.header.height,
        total: attestations.len() as u64,
        attestations: attestations
            .iter()
            .rev()
            .take(limit)
            .map(|(_, a)| attestation_dto(a))
            .collect(),
    }))
}

/// `GET /v1/reserve/deposit-queue?limit=N`: the queued deposits, head first.
pub(crate) async fn deposit_queue(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<DepositQueueDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let queue = &state.reserve.queued_deposits;
    let head = reserve::head_fill(state)
        .map_err(|_| ApiError::internal("the head deposit's quote overflows"))?;
    let (head, head_fill_gross) = match head {
        None => (None, None),
        Some((_, _, reserve::HeadFill::Mint { gross, .. })) => {
            (Some("mint".to_string()), Some(gross.0.to_string()))
        }
        Some((_, _, reserve::HeadFill::Return)) => (Some("return".to_string()), None),
        Some((_, _, reserve::HeadFill::Wait)) => (Some("wait".to_string()), None),
    };
    let mut escrow = Vec::new();
    for token in state.reserve.stablecoins.keys() {
        let amount = reserve::queued_escrow(state, *token)
            .map_err(|_| ApiError::internal("the queued escrow overflows"))?;
        if !amount.is_zero() {
            escrow.push(BalanceDto { asset: token.to_string(), amount: amount.0.to_string() });
        }
    }
    Ok(Json(DepositQueueDto {
        height: snapshot.header.height,
        length: queue.len() as u64,
        head,
        head_fill_gross,
        issuance_room: reserve::issuance_room(state).0.to_string(),
        escrow,
        deposits: queue
            .iter()
            .take(limit)
            .map(|(id, d)| QueuedDepositDto {
                id: *id,
                owner: d.owner.to_string(),
                token: d.token.to_string(),
                amount: d.amount.0.to_string(),
                deposited: d.deposited.0.to_string(),
                queued_at: d.queued_at,
            })
            .collect(),
    }))
}

pub(crate) async fn vault(State(app): State<AppState>) -> Json<VaultDto> {
    let snapshot = app.node.snapshot();
    let nav = vault::nav(&snapshot.state);
    Json(VaultDto {
        height: snapshot.header.height,
        unallocated: nav.unallocated.0.to_string(),
        unvested: nav.unvested.0.to_string(),
        senior_principal: nav.senior_principal.0.to_string(),
        senior_accrued_interest: nav.senior_accrued_interest.0.to_string(),
        senior_impairment: nav.senior_impairment.0.to_string(),
        nav_optimistic: nav.optimistic.0.to_string(),
        nav_conservative: nav.conservative.0.to_string(),
        share_supply: nav.share_supply.0.to_string(),
        deposit_price: nav.deposit_price_wad().to_string(),
        redemption_price: nav.redemption_price_wad().to_string(),
        phase_mix: crate::credit::phase_mix(&snapshot),
    })
}

pub(crate) fn request_dto(request: &queue::RedemptionRequest) -> RequestDto {
    let status = if !request.is_active() {
        "served"
    } else if request.is_eligible {
        "eligible"
    } else {
        "waiting"
    };
    RequestDto {
        id: request.id.0,
        owner: request.owner,
        shares_requested: request.shares_requested.0.to_string(),
        shares_remaining: request.shares_remaining.0.to_string(),
        created_at: request.created_at,
        eligible_at: request.eligible_at,
        bid_price: request.bid_price_wad.to_string(),
        claimable: request.claimable.0.to_string(),
        claimed: request.claimed.0.to_string(),
        status: status.into(),
    }
}

fn liquidity(state: &infrafi_core::State) -> Amount {
    queue::round_liquidity(state).unwrap_or(Amount::ZERO)
}

pub(crate) async fn queue(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<QueueDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let globals = state.queue.globals.get();
    Ok(Json(QueueDto {
        height: snapshot.header.height,
        rounds: globals.rounds,
        last_round_at: globals.last_round_at,
        round_liquidity: liquidity(state).0.to_string(),
        locked_shares: state
            .ledger
            .balance(infrafi_core::ProtocolAccount::QueueEscrow, Asset::Susdai)
            .0
            .to_string(),
        requests: state.queue.requests.iter().take(limit).map(|(_, r)| request_dto(r)).collect(),
    }))
}

/// Shares ahead of `request` in service order: every eligible request before it, and, if it
/// is still waiting, every request that becomes eligible no later than it.
fn estimate(state: &infrafi_core::State, request: &queue::RedemptionRequest) -> EstimateDto {
    let mut ahead = Amount::ZERO;
    for ((_, id), _) in state.queue.eligible.iter() {
        if *id == request.id {
            break;
        }
        if let Some(other) = state.queue.requests.get(id) {
            ahead = Amount(ahead.0.saturating_add(other.shares_remaining.0));
        }
    }
    if !request.is_eligible {
        for ((eligible_at, id), _) in state.queue.waiting.iter() {
            if (*eligible_at, *id) >= (request.eligible_at, request.id) {
                break;
            }
            if let Some(other) = state.queue.requests.get(id) {
                ahead = Amount(ahead.0.saturating_add(other.shares_remaining.0));
            }
        }
    }
    let globals = state.queue.globals.get();
    let interval = state.governance.params.get().round_interval_secs;
    let next_round =
        globals.last_round_at.map_or(state.now(), |last| last + interval).max(state.now());
    let next_round_at = next_round.max(request.eligible_at);
    let liquidity = liquidity(state);
    let nav = vault::nav(state);
    let needed = Amount(ahead.0.saturating_add(request.shares_remaining.0));
    let served_now = nav.assets_for_redemption(needed).is_ok_and(|assets| assets <= liquidity);
    EstimateDto {
        shares_ahead: ahead.0.to_string(),
        next_round_at,
        round_liquidity: liquidity.0.to_string(),
        estimated_service_at: (request.is_active() && served_now).then_some(next_round_at),
    }
}

pub(crate) async fn queue_request(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RequestDetailDto>, ApiError> {
    let id = RequestId(parse_u64(&id, "request_id")?);
    let snapshot = app.node.snapshot();
    let request = snapshot.state.queue.requests.get(&id).ok_or_else(|| {
        ApiError::not_found("request_not_found", format!("no open redemption request {id}"))
    })?;
    Ok(Json(request_detail(&snapshot.state, snapshot.header.height, request)))
}

/// A request with its estimates and its QEV side, in `state` (after block `height`).
pub(crate) fn request_detail(
    state: &infrafi_core::State,
    height: u64,
    request: &queue::RedemptionRequest,
) -> RequestDetailDto {
    RequestDetailDto {
        height,
        request: request_dto(request),
        estimate: estimate(state, request),
        qev_estimate: crate::credit::qev_estimate(state, request.id).ok(),
        qev: crate::credit::qev_position(state, request),
    }
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

pub(crate) async fn leaderboard(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LeaderboardDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    let leaders = points::leaderboard(&snapshot.state, limit)
        .into_iter()
        .enumerate()
        .map(|(index, (address, points))| LeaderDto {
            rank: index + 1,
            address,
            points: points.to_string(),
        })
        .collect();
    Ok(Json(LeaderboardDto { height: snapshot.header.height, leaders }))
}

pub(crate) fn proof(
    snapshot: &Proven,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
    decoded: serde_json::Value,
) -> Json<ProofDto> {
    let proof = snapshot.tree.prove(&key);
    Json(ProofDto {
        height: snapshot.header.height,
        block_hash: snapshot.hash,
        state_root: snapshot.header.state_root,
        key: key.into(),
        value: value.map(Into::into),
        decoded,
        proof,
        certificate: certificate_dto(snapshot, snapshot.certificate.as_ref()),
    })
}

pub(crate) async fn prove_balance(
    State(app): State<AppState>,
    ApiPath((address, asset)): ApiPath<(String, String)>,
) -> Result<Json<ProofDto>, ApiError> {
    let address = parse_address(&address)?;
    let asset = parse_asset(&asset)?;
    let snapshot = proven(&app);
    let amount = snapshot.state.ledger.balance(address, asset);
    // A user's USDai and sUSDai live in one holding record (with its points); every other
    // balance is its own leaf. The proof covers the leaf that holds the balance.
    if matches!(asset, Asset::Usdai | Asset::Susdai) {
        let key = table_leaf_key(LedgerState::PATHS.holdings, &address);
        let holding = snapshot.state.ledger.holdings.get(&address);
        let decoded = serde_json::json!({
            "table": LedgerState::PATHS.holdings,
            "account": address,
            "asset": asset.to_string(),
            "amount": amount.0.to_string(),
            "holding": holding.map(|h| serde_json::json!({
                "usdai": h.usdai.0.to_string(),
                "susdai": h.susdai.0.to_string(),
            })),
        });
        return Ok(proof(&snapshot, key, holding.map(encode_value), decoded));
    }
    let entry = (Account::User(address), asset);
    let key = table_leaf_key(LedgerState::PATHS.balances, &entry);
    let stored = snapshot.state.ledger.balances.get(&entry).copied();
    let decoded = serde_json::json!({
        "table": LedgerState::PATHS.balances,
        "account": address,
        "asset": asset.to_string(),
        "amount": amount.0.to_string(),
    });
    Ok(proof(&snapshot, key, stored.map(|a| encode_value(&a)), decoded))
}

pub(crate) async fn prove_nonce(
    State(app): State<AppState>,
    ApiPath(address): ApiPath<String>,
) -> Result<Json<ProofDto>, ApiError> {
    let address = parse_address(&address)?;
    let snapshot = proven(&app);
    let key = table_leaf_key(LedgerState::PATHS.nonces, &address);
    let nonce = snapshot.state.ledger.nonces.get(&address).copied();
    let decoded = serde_json::json!({"table": LedgerState::PATHS.nonces, "account": address, "nonce": nonce.unwrap_or(0)});
    Ok(proof(&snapshot, key, nonce.map(|n| encode_value(&n)), decoded))
}

pub(crate) async fn prove_queue_request(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProofDto>, ApiError> {
    let id = RequestId(parse_u64(&id, "request_id")?);
    let snapshot = proven(&app);
    let key = table_leaf_key(QueueState::PATHS.requests, &id);
    let request = snapshot.state.queue.requests.get(&id);
    let decoded = serde_json::json!({
        "table": QueueState::PATHS.requests,
        "request": request.map(request_dto),
    });
    Ok(proof(&snapshot, key, request.map(encode_value), decoded))
}

pub(crate) async fn prove_leaf(
    State(app): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<ProofDto>, ApiError> {
    let key: Bytes = key
        .parse()
        .map_err(|_| ApiError::bad_request("leaf_key_invalid", "the leaf key is not 0x-hex"))?;
    let snapshot = proven(&app);
    let proof = snapshot.tree.prove(&key);
    Ok(Json(ProofDto {
        height: snapshot.header.height,
        block_hash: snapshot.hash,
        state_root: snapshot.header.state_root,
        key,
        value: None,
        decoded: serde_json::json!({
            "note": "the generic route proves the value hash only: see proof.leaf"
        }),
        proof,
        certificate: certificate_dto(&snapshot, snapshot.certificate.as_ref()),
    }))
}

/// Whether a feed event passes the `kind` and `account` filters.
fn passes(event: &FeedEvent, kinds: &[String], account: Option<Address>) -> bool {
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

fn mentions(json: &serde_json::Value, address: &str) -> bool {
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
