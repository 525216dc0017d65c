//! The API end to end on loopback (port 0), against a real node: a depositor's whole path, the
//! reads and a proof against the block's state root, and every bad input with its status and
//! code.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use alloy_primitives::{Address, B256, Bytes};
use infrafi_api::{client::Client, dto::ProofDto};
use infrafi_core::action::{
    Claim, DonateToVault, GatewayCredit, GrantRole, HarvestBaseYield, MintUsdai,
    PostReserveAttestation, QueueDeposit, RedeemUsdai, RequestRedeem, RevokeRole, ServiceQueue,
    SetParameter, Stake,
};
use infrafi_core::{Action, Amount, Asset, RequestId, Role, ids::USDC};
use infrafi_node::Node;
use infrafi_tx::SigningKey;
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};

mod support;
use support::Party;

const CHAIN: u64 = 4242;

struct Harness {
    client: Client,
    node: Arc<Node>,
    _dir: tempfile::TempDir,
    admin: SigningKey,
    attestor: SigningKey,
    user: SigningKey,
}

async fn start() -> Harness {
    let admin = Party::Admin.key();
    let attestor = Party::Attestor.key();
    let user = Party::User.key();
    let genesis = support::genesis_granting(&[Party::Attestor]);
    let served = support::serve(CHAIN, &genesis).await;
    Harness { client: served.client, node: served.node, _dir: served.dir, admin, attestor, user }
}

impl Harness {
    /// A harness over a node the test serves itself (from a directory it keeps, to restart the
    /// node), with the user credited 2,000 USDC at the gateway.
    async fn credited(client: &Client, node: &Arc<Node>) -> Harness {
        let h = Harness {
            client: client.clone(),
            node: node.clone(),
            _dir: tempfile::tempdir().unwrap(),
            admin: Party::Admin.key(),
            attestor: Party::Attestor.key(),
            user: Party::User.key(),
        };
        let credit = Action::GatewayCredit(GatewayCredit {
            account: h.user.address(),
            token: USDC,
            amount: Amount::from_whole(2_000),
            external_id: B256::repeat_byte(1),
        });
        h.send_ok(&h.attestor, credit).await;
        h
    }

    async fn next_nonce(&self, key: &SigningKey) -> u64 {
        let answer = self.client.get(&format!("/v1/accounts/{}", key.address())).await.unwrap();
        answer.body["next_nonce"].as_u64().unwrap()
    }

    /// Signs, submits and waits for the receipt; returns the `GET /v1/tx` body.
    async fn send(&self, key: &SigningKey, action: Action) -> Value {
        let nonce = self.next_nonce(key).await;
        let tx = key.sign(CHAIN, nonce, &action);
        let answer = self.client.submit(&tx).await.unwrap();
        assert_eq!(answer.status, 202, "{}", answer.body);
        let hash = answer.body["tx_hash"].as_str().unwrap().to_string();
        for _ in 0..200 {
            let status = self.client.get(&format!("/v1/tx/{hash}")).await.unwrap();
            if status.body["status"] != "pending" {
                return status.body;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("transaction {hash} was not committed");
    }

    /// `POST /v1/dry-run` of `action` from `key`'s address.
    async fn dry_run(&self, key: &SigningKey, action: &Action) -> infrafi_api::client::Answer {
        let body = json!({"sender": key.address(), "action": action});
        self.client.post("/v1/dry-run", &body).await.unwrap()
    }

    async fn send_ok(&self, key: &SigningKey, action: Action) -> Value {
        let receipt = self.send(key, action).await;
        assert_eq!(receipt["status"], "applied", "{receipt}");
        receipt
    }
}

/// A mint of `whole` USDC's worth of USDai.
fn mint(whole: u128) -> Action {
    Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(whole),
        min_out: Amount::ZERO,
    })
}

/// The code a refused dry run answers with.
fn refused(answer: infrafi_api::client::Answer) -> Value {
    answer.body["error"]["code"].clone()
}

fn balance(account: &Value, asset: &str) -> u128 {
    account["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == asset)
        .map_or(0, |b| b["amount"].as_str().unwrap().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_depositor_goes_from_gateway_credit_to_claim_and_proves_its_balance() {
    let h = start().await;
    let user = h.user.address();
    let credit = Action::GatewayCredit(GatewayCredit {
        account: user,
        token: USDC,
        amount: Amount::from_whole(1_000),
        external_id: B256::repeat_byte(1),
    });
    h.send_ok(&h.attestor, credit).await;
    let mint = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(1_000),
        min_out: Amount::ZERO,
    });
    h.send_ok(&h.user, mint).await;
    let stake = Action::Stake(Stake { assets: Amount::from_whole(500), min_shares: Amount::ZERO });
    // The preview is the node's own answer: the shares it shows are the shares staked (the
    // price does not move in between: no loans, no yield), and it commits nothing.
    let preview = h.dry_run(&h.user, &stake).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let previewed_shares = preview.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "staked")
        .map(|e| e["shares"].clone())
        .unwrap();
    let sent_before = h.next_nonce(&h.user).await;
    let staked = h.send_ok(&h.user, stake).await;
    assert_eq!(h.next_nonce(&h.user).await, sent_before + 1, "the preview used no nonce");
    let shares = staked["events"].as_array().unwrap().iter().find(|e| e["kind"] == "staked");
    assert_eq!(shares.unwrap()["shares"], previewed_shares);
    let request_redeem = Action::RequestRedeem(RequestRedeem { shares: Amount::from_whole(100) });
    let preview = h.dry_run(&h.user, &request_redeem).await.body;
    let estimate = &preview["requests"][0];
    assert_eq!(estimate["request"]["status"], "waiting", "{preview}");
    assert!(estimate["qev_estimate"]["next_round_at"].as_u64().unwrap() > 0, "{preview}");
    assert!(h.client.get("/v1/queue/0").await.unwrap().status == 404, "nothing committed");
    let too_much =
        Action::Stake(Stake { assets: Amount::from_whole(10_000), min_shares: Amount::ZERO });
    let too_much = h.dry_run(&h.user, &too_much).await;
    assert_eq!(too_much.body["status"], "rejected");
    assert_eq!(too_much.body["error"]["code"], "balance_insufficient", "{}", too_much.body);
    assert_eq!(too_much.body["error"]["number"], 102, "{}", too_much.body);
    let request = h.send_ok(&h.user, request_redeem).await;
    assert_eq!(
        request["events"].as_array().unwrap().last().unwrap()["kind"],
        "redemption_requested"
    );
    let detail = h.client.get("/v1/queue/0").await.unwrap();
    assert_eq!(detail.status, 200);
    assert_eq!(detail.body["request"]["status"], "waiting");

    let advanced =
        h.client.post("/v1/devnet/advance-time", &json!({"seconds": 8 * 86_400})).await.unwrap();
    assert_eq!(advanced.status, 200, "{}", advanced.body);
    h.send_ok(&h.admin, Action::ServiceQueue(ServiceQueue { max_requests: 10 })).await;
    let served = h.client.get("/v1/queue/0").await.unwrap();
    assert_eq!(served.body["request"]["status"], "served", "{}", served.body);
    h.send_ok(&h.user, Action::Claim(Claim { request_id: RequestId(0) })).await;

    let account = h.client.get(&format!("/v1/accounts/{user}")).await.unwrap().body;
    assert_eq!(balance(&account, "USDai"), 600 * 10u128.pow(18));
    assert_eq!(balance(&account, "sUSDai"), 400 * 10u128.pow(18));
    for path in
        ["/v1/reserve", "/v1/vault", "/v1/queue", "/v1/params", "/v1/points/leaderboard?limit=5"]
    {
        let answer = h.client.get(path).await.unwrap();
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    }

    let proof = h.client.get(&format!("/v1/proofs/balances/{user}/USDai")).await.unwrap();
    assert_eq!(proof.status, 200, "{}", proof.body);
    let proof: ProofDto = serde_json::from_value(proof.body).unwrap();
    let block = h.client.get(&format!("/v1/blocks/{}", proof.height)).await.unwrap().body;
    let root: B256 = block["header"]["state_root"].as_str().unwrap().parse().unwrap();
    assert_eq!(root, proof.state_root);
    let value = proof.value.as_ref().map(|v| v.to_vec());
    assert_eq!(proof.decoded["amount"], Amount::from_whole(600).0.to_string());
    let holding: infrafi_core::ledger::Holding =
        postcard::from_bytes(value.as_deref().unwrap()).unwrap();
    assert_eq!(holding.usdai, Amount::from_whole(600), "the proven leaf holds the balance");
    proof.proof.verify_leaf(root, &proof.key, value.as_deref()).unwrap();
    assert!(proof.proof.verify_leaf(root, &proof.key, Some(b"forged")).is_err());
    let request_proof: ProofDto =
        serde_json::from_value(h.client.get("/v1/proofs/queue/0").await.unwrap().body).unwrap();
    // The request was claimed in full, so it is gone: the proof shows its absence.
    assert!(request_proof.value.is_none());
    request_proof.proof.verify_leaf(request_proof.state_root, &request_proof.key, None).unwrap();
    h.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_a_4xx_with_its_code() {
    let h = start().await;
    let c = &h.client;
    let tx = h.user.sign(CHAIN, 0, &Action::HarvestBaseYield(HarvestBaseYield {}));
    let request = infrafi_api::client::tx_request(&tx);
    let json_type = Some("application/json");
    let post_raw =
        |body: &str| c.send(hyper::Method::POST, "/v1/tx", json_type, body.as_bytes().to_vec());

    let mut cases: Vec<(u16, &str, infrafi_api::client::Answer)> = Vec::new();
    cases.push((400, "json_malformed", post_raw("{\"chain_id\": ").await.unwrap()));
    let mut unknown = serde_json::to_value(&request).unwrap();
    unknown["gas"] = json!(1);
    cases.push((400, "json_invalid_fields", c.post("/v1/tx", &unknown).await.unwrap()));
    let mut bad_hex = request.clone();
    bad_hex.signature = "0xzz".into();
    cases.push((400, "signature_malformed", c.post("/v1/tx", &bad_hex).await.unwrap()));
    let mut bad_sender = request.clone();
    bad_sender.sender = "0x1234".into();
    cases.push((400, "address_invalid", c.post("/v1/tx", &bad_sender).await.unwrap()));
    let mut wrong_signer = request.clone();
    wrong_signer.sender = Address::repeat_byte(5).to_string();
    cases.push((401, "sender_mismatch", c.post("/v1/tx", &wrong_signer).await.unwrap()));
    let other_chain = infrafi_api::client::tx_request(&h.user.sign(
        CHAIN + 1,
        0,
        &Action::HarvestBaseYield(HarvestBaseYield {}),
    ));
    cases.push((400, "chain_id_mismatch", c.post("/v1/tx", &other_chain).await.unwrap()));
    let mut version_one = request.clone();
    version_one.signature_chain_id = None;
    cases.push((400, "signing_scheme_retired", c.post("/v1/tx", &version_one).await.unwrap()));
    let mut bad_payload = request.clone();
    bad_payload.payload = "{\"type\":\"nope\"}".into();
    cases.push((400, "payload_invalid", c.post("/v1/tx", &bad_payload).await.unwrap()));
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(infrafi_api::TX_BODY_BYTES_MAX));
    cases.push((413, "body_too_large", post_raw(&huge).await.unwrap()));
    cases.push((
        415,
        "content_type_not_json",
        c.send(hyper::Method::POST, "/v1/tx", Some("text/plain"), b"{}".to_vec()).await.unwrap(),
    ));
    cases.push((400, "address_invalid", c.get("/v1/accounts/0xnothex").await.unwrap()));
    cases.push((400, "hash_invalid", c.get("/v1/tx/0x12").await.unwrap()));
    cases.push((404, "tx_not_found", c.get(&format!("/v1/tx/{}", B256::ZERO)).await.unwrap()));
    cases.push((400, "height_invalid", c.get("/v1/blocks/minus-one").await.unwrap()));
    cases.push((404, "block_not_found", c.get("/v1/blocks/999999").await.unwrap()));
    cases.push((400, "request_id_invalid", c.get("/v1/queue/x").await.unwrap()));
    cases.push((404, "request_not_found", c.get("/v1/queue/77").await.unwrap()));
    cases.push((400, "query_parameter_unknown", c.get("/v1/queue?color=red").await.unwrap()));
    cases.push((400, "limit_invalid", c.get("/v1/points/leaderboard?limit=0").await.unwrap()));
    cases.push((
        400,
        "asset_invalid",
        c.get(&format!("/v1/proofs/balances/{}/bad-asset", h.user.address())).await.unwrap(),
    ));
    cases.push((404, "route_not_found", c.get("/v1/nothing").await.unwrap()));
    let not_an_action = json!({"sender": h.user.address(), "action": {"type": "fly"}});
    cases.push((400, "action_invalid", c.post("/v1/dry-run", &not_an_action).await.unwrap()));
    let nobody = json!({"sender": "0x12", "action": {"type": "harvest_base_yield"}});
    cases.push((400, "address_invalid", c.post("/v1/dry-run", &nobody).await.unwrap()));
    cases.push((
        400,
        "seconds_invalid",
        c.post("/v1/devnet/advance-time", &json!({"seconds": 0})).await.unwrap(),
    ));

    // Admission (docs/security.md): upkeep needs standing; what would be rejected is refused
    // with the state machine's code and uses no nonce; nonces come without gaps.
    cases.push((403, "sender_lacks_standing", c.submit(&tx).await.unwrap()));
    let harvest = h.admin.sign(CHAIN, 0, &Action::HarvestBaseYield(HarvestBaseYield {}));
    cases.push((422, "base_yield_surplus_is_zero", c.submit(&harvest).await.unwrap()));
    let gapped = h.admin.sign(CHAIN, 1, &Action::ServiceQueue(ServiceQueue { max_requests: 1 }));
    cases.push((409, "nonce_too_high", c.submit(&gapped).await.unwrap()));
    // Replay: the same transaction again after it committed.
    let grant = Action::GrantRole(GrantRole { role: Role::Oracle, account: h.user.address() });
    let granted = h.admin.sign(CHAIN, 0, &grant);
    let accepted = c.submit(&granted).await.unwrap();
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let again = c.submit(&granted).await.unwrap();
    assert_eq!(again.status, 202, "re-submitting a waiting transaction is idempotent");
    let hash = accepted.body["tx_hash"].as_str().unwrap().to_string();
    for _ in 0..100 {
        if c.get(&format!("/v1/tx/{hash}")).await.unwrap().body["status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let receipt = c.get(&format!("/v1/tx/{hash}")).await.unwrap().body;
    assert_eq!(receipt["status"], "applied", "{receipt}");
    cases.push((409, "nonce_too_low", c.submit(&granted).await.unwrap()));
    // Two transactions with one nonce in one batch: the second finds the first waiting.
    let revoke = Action::RevokeRole(RevokeRole { role: Role::Oracle, account: h.user.address() });
    let both = [h.admin.sign(CHAIN, 1, &revoke), h.admin.sign(CHAIN, 1, &grant)]
        .iter()
        .map(infrafi_api::client::tx_request)
        .collect::<Vec<_>>();
    let batch = c.post("/v1/txs", &both).await.unwrap();
    assert_eq!(batch.status, 200, "{}", batch.body);
    assert!(batch.body[0]["tx_hash"].is_string(), "{}", batch.body);
    assert_eq!(batch.body[1]["error"]["code"], "nonce_already_pending", "{}", batch.body);

    for (status, code, answer) in cases {
        assert_eq!(answer.status.as_u16(), status, "{code}: {}", answer.body);
        assert_eq!(answer.body["code"], code, "{}", answer.body);
        assert!(answer.body["message"].as_str().is_some_and(|m| !m.is_empty()));
        // `code` is always the name; a transaction's result code carries its number beside it.
        let number = infrafi_core::TxError::by_name(code).map(|e| serde_json::json!(e.code()));
        assert_eq!(answer.body.get("number"), number.as_ref(), "{}", answer.body);
    }
    assert!(batch.body[1]["error"].get("number").is_none(), "{}", batch.body);
    let _ = Bytes::new();
    h.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_export_decodes_to_the_state_whose_root_its_block_commits_to() {
    let h = start().await;
    let answer = h.client.get("/v1/state/export").await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let export: infrafi_api::dto::StateExportDto = serde_json::from_value(answer.body).unwrap();
    assert_eq!(export.encoding, "postcard");
    assert_eq!(export.state.len(), export.state_bytes);
    assert!(export.state_bytes <= infrafi_api::STATE_EXPORT_BYTES_MAX);
    let state = infrafi_core::State::decode(&export.state).unwrap();
    assert_eq!(state.encode(), export.state.to_vec(), "the canonical encoding");
    let leaves: Vec<(Vec<u8>, Vec<u8>)> = state
        .leaves()
        .into_iter()
        .filter_map(|leaf| leaf.value.map(|value| (leaf.key, value)))
        .collect();
    let root = infrafi_merkle::Tree::from_leaves(leaves.iter().map(|(k, v)| (k, v))).root();
    assert_eq!(root, export.state_root);
    let block = h.client.get(&format!("/v1/blocks/{}", export.height)).await.unwrap().body;
    let committed: B256 = block["header"]["state_root"].as_str().unwrap().parse().unwrap();
    assert_eq!(committed, export.state_root);
    assert_eq!(state.now(), export.timestamp);
    h.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_exactly_the_served_routes() {
    let h = start().await;
    let document = h.client.get("/openapi.json").await.unwrap().body;
    assert_eq!(document["openapi"], "3.1.0");
    for route in infrafi_api::openapi::ROUTES {
        assert!(document["paths"][route.path][route.method].is_object());
        let path = route
            .path
            .replace("{hash}", &B256::ZERO.to_string())
            .replace("{height}", "0")
            .replace("{address}", &Address::ZERO.to_string())
            .replace("{asset}", "USDC")
            .replace("{id}", "0")
            .replace("{key}", "0x00")
            .replace("{series}", "deposit_price");
        if route.path == "/v1/events" {
            continue; // A stream: it would not end.
        }
        if route.path == "/" || route.path.starts_with("/dashboard/") {
            continue; // Not JSON: the dashboard's browser test (crates/cli/tests) opens them.
        }
        let answer = match route.method {
            "get" => h.client.get(&path).await.unwrap(),
            _ => h.client.post(&path, &json!({})).await.unwrap(),
        };
        assert_ne!(answer.body["code"], "route_not_found", "{} {path}", route.method);
        assert_ne!(answer.status, 405, "{} {path}", route.method);
        let _ = Asset::Usdai;
    }
    h.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_sends_committed_events_filtered_by_kind_and_account() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = start().await;
    let address = h.client.base().trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let user = h.user.address();
    let request = format!(
        "GET /v1/events?kind=gateway_credited&account={user} HTTP/1.1\r\nhost: {address}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // An event for someone else first: it must be filtered out.
    let other = Action::GatewayCredit(GatewayCredit {
        account: h.admin.address(),
        token: USDC,
        amount: Amount::from_whole(1),
        external_id: B256::repeat_byte(8),
    });
    h.send_ok(&h.attestor, other).await;
    let mine = Action::GatewayCredit(GatewayCredit {
        account: user,
        token: USDC,
        amount: Amount::from_whole(2),
        external_id: B256::repeat_byte(9),
    });
    h.send_ok(&h.attestor, mine).await;
    let mut received = String::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        while !received.contains("gateway_credited") {
            let n = stream.read(&mut buffer).await.unwrap();
            assert!(n > 0, "the stream closed");
            received.push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("no event arrived");
    assert!(received.contains("text/event-stream"), "{received}");
    assert!(received.contains(&user.to_string().to_lowercase()), "{received}");
    assert!(!received.contains(&h.admin.address().to_string().to_lowercase()), "{received}");
    h.node.shutdown();
}

/// The values of a history series as `(timestamp, value)`.
async fn history(client: &Client, query: &str) -> Vec<(u64, i128)> {
    let answer = client.get(&format!("/v1/history/{query}")).await.unwrap();
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    answer.body["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["timestamp"].as_u64().unwrap(), p["value"].as_str().unwrap().parse().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_sampled_per_interval_of_block_time_served_bounded_and_kept_across_a_restart() {
    let admin = Party::Admin.key();
    let attestor = Party::Attestor.key();
    let user = Party::User.key();
    let genesis = support::genesis_granting(&[Party::Attestor]);
    let start = genesis.timestamp;
    let dir = tempfile::tempdir().unwrap();
    let interval = |config: &mut infrafi_node::NodeConfig| config.history_interval_secs = 3_600;
    let served = support::serve_in(dir.path(), CHAIN, &genesis, interval).await;
    let h = Harness {
        client: served.client.clone(),
        node: served.node.clone(),
        _dir: tempfile::tempdir().unwrap(),
        admin,
        attestor,
        user: user.clone(),
    };
    let credit = Action::GatewayCredit(GatewayCredit {
        account: user.address(),
        token: USDC,
        amount: Amount::from_whole(1_000),
        external_id: B256::repeat_byte(1),
    });
    h.send_ok(&h.attestor, credit).await;
    let mint = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(1_000),
        min_out: Amount::ZERO,
    });
    h.send_ok(&user, mint).await;
    h.send_ok(
        &user,
        Action::Stake(Stake { assets: Amount::from_whole(500), min_shares: Amount::ZERO }),
    )
    .await;
    // Forty days in daily steps, with a donation to the vault half way: the deposit price
    // moves, so the realised APY is positive over both windows at the end.
    for day in 0..40 {
        let advanced =
            h.client.post("/v1/devnet/advance-time", &json!({"seconds": 86_400})).await.unwrap();
        assert_eq!(advanced.status, 200, "{}", advanced.body);
        if day == 20 {
            h.send_ok(
                &user,
                Action::DonateToVault(DonateToVault { amount: Amount::from_whole(5) }),
            )
            .await;
        }
    }
    // Forty days at one point an hour: 960 points, within the bound.
    let everything = format!("?from={start}&step=3600");
    let prices = history(&h.client, &format!("deposit_price{everything}")).await;
    assert!(prices.len() >= 41, "one sample per day at least: {}", prices.len());
    assert!(prices.windows(2).all(|w| w[0].0 / 3_600 < w[1].0 / 3_600), "one per interval");
    let vault = h.client.get("/v1/vault").await.unwrap().body;
    let latest = prices.last().unwrap().1;
    assert!(latest > 10i128.pow(18), "the donation raised the price: {latest}");
    assert!(vault["deposit_price"].as_str().unwrap().parse::<i128>().unwrap() >= latest);
    let apy_7d = history(&h.client, &format!("realised_apy_7d{everything}")).await;
    let apy_30d = history(&h.client, &format!("realised_apy_30d{everything}")).await;
    assert!(!apy_30d.is_empty() && apy_30d.len() < apy_7d.len(), "30 days need more history");
    assert!(apy_30d.last().unwrap().1 > 0, "{apy_30d:?}");
    let index = h.client.get("/v1/history").await.unwrap().body;
    assert_eq!(index["interval_secs"], 3_600);
    assert!(index["series"].as_array().unwrap().iter().any(|s| s["name"] == "points_total"));

    // A coarser step keeps the last sample of each step.
    let weekly = history(&h.client, &format!("deposit_price?from={start}&step=604800")).await;
    assert!(weekly.len() < prices.len() && weekly.last() == prices.last());

    // Bounded, and bad input is a 4xx with its code.
    let c = &h.client;
    for (status, code, path) in [
        (400, "history_range_too_large", "/v1/history/deposit_price?from=0&step=1"),
        (400, "history_range_invalid", "/v1/history/deposit_price?from=10&to=5"),
        (400, "step_invalid", "/v1/history/deposit_price?step=0"),
        (400, "from_invalid", "/v1/history/deposit_price?from=yesterday"),
        (400, "query_parameter_unknown", "/v1/history/deposit_price?limit=3"),
        (404, "history_series_unknown", "/v1/history/gdp"),
    ] {
        let answer = c.get(path).await.unwrap();
        assert_eq!(answer.status.as_u16(), status, "{path}: {}", answer.body);
        assert_eq!(answer.body["code"], code, "{path}: {}", answer.body);
    }

    // A restart keeps every sample.
    drop(h);
    served.stop().await;
    let served = support::serve_in(dir.path(), CHAIN, &genesis, interval).await;
    let after = history(&served.client, &format!("deposit_price{everything}")).await;
    assert_eq!(after[..prices.len()], prices[..], "the samples survive the restart");
    let apy_after = history(&served.client, &format!("realised_apy_30d{everything}")).await;
    assert_eq!(apy_after[..apy_30d.len()], apy_30d[..]);
    served.stop().await;
}

/// Invariants in production (docs/security.md): a data directory whose state breaks a SPEC 14
/// invariant (USDai in a holder's balance that no reserve backs, as a bug in an earlier build or
/// a state snapshot from a dishonest quorum could leave) starts, but the first block after it
/// breaks `usdai_backed_by_reserve`: that block is never committed, production halts,
/// submissions are refused, and `/v1/health` answers 503 naming the invariant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_that_breaks_an_invariant_is_not_committed_and_health_names_the_invariant() {
    let user = Party::User.key();
    let genesis = support::genesis_granting(&[]);
    let dir = tempfile::tempdir().unwrap();
    let height = 5;
    {
        let mut state = infrafi_core::State::from_genesis(&genesis).unwrap();
        infrafi_core::ledger::mint(&mut state, Asset::Usdai, user.address(), Amount::from_whole(7))
            .unwrap();
        infrafi_core::table::Journaled::commit(&mut state);
        let (tree, _) = infrafi_node::chain::tree_of(&mut state);
        let (genesis_header, _) = infrafi_node::genesis_block(CHAIN, &genesis).unwrap();
        let header = infrafi_node::BlockHeader {
            height,
            parent_hash: B256::repeat_byte(9),
            state_root: tree.root(),
            ..genesis_header
        };
        let store = Arc::new(infrafi_store::Store::open(dir.path()).unwrap());
        infrafi_node::Chain::initialize_from_state(store, CHAIN, &genesis, header, state, None)
            .unwrap();
    }
    let served = support::serve_in(dir.path(), CHAIN, &genesis, |_| {}).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while served.node.is_running() {
        assert!(std::time::Instant::now() < deadline, "the producer did not halt");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let health = served.client.get("/v1/health").await.unwrap();
    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(health.body["code"], "invariant_violated", "{}", health.body);
    let message = health.body["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "Block {} would break invariant usdai_backed_by_reserve",
            height + 1
        )),
        "{message}"
    );
    assert_eq!(served.node.snapshot().header.height, height, "the block was not committed");
    let status = served.client.get("/v1/status").await.unwrap();
    assert_eq!(status.body["height"], height, "{}", status.body);
    let mint = Action::MintUsdai(MintUsdai {
        token: USDC,
        amount: Amount::from_whole(1),
        min_out: Amount::ZERO,
    });
    let refused = served.client.submit(&user.sign(CHAIN, 0, &mint)).await.unwrap();
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.body["code"], "node_not_running", "{}", refused.body);
    served.stop().await;
    let store = infrafi_store::Store::open(dir.path()).unwrap();
    assert_eq!(store.head().unwrap(), Some(height), "nothing after the violation is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minting_follows_the_custodians_attestation_and_its_history_survives_a_restart() {
    let custodian = Party::ReserveCustodian.key();
    let user = Party::User.key();
    let mut genesis = support::genesis_granting(&[Party::Attestor, Party::ReserveCustodian]);
    genesis.params.reserve_attestation_required = true;
    // Prices stay fresh over the test's time jump: only the attestation goes stale.
    genesis.params.max_price_age_secs = 30 * 86_400;
    let dir = tempfile::tempdir().unwrap();
    let served = support::serve_in(dir.path(), CHAIN, &genesis, |_| {}).await;
    let h = Harness::credited(&served.client, &served.node).await;
    // No attestation: the mint is refused with its code; the reserve says so.
    assert_eq!(refused(h.dry_run(&user, &mint(1)).await), "reserve_attestation_is_stale");
    let reserve = h.client.get("/v1/reserve").await.unwrap().body;
    assert_eq!(reserve["attestation_required"], true);
    assert!(reserve["attested"].is_null(), "{reserve}");

    let now = h.client.get("/v1/status").await.unwrap().body["timestamp"].as_u64().unwrap();
    let attest = Action::PostReserveAttestation(PostReserveAttestation {
        par_amount: Amount::from_whole(1_005),
        market_value: Amount::from_whole(1_000),
        as_of: now,
        document_hash: B256::repeat_byte(0xd0),
    });
    h.send_ok(&custodian, attest).await;
    h.send_ok(&user, mint(1_000)).await;
    // 1,000 attested + 1%: 10 more fit, 11 do not.
    assert_eq!(refused(h.dry_run(&user, &mint(11)).await), "mint_exceeds_attested_reserves");
    let reserve = h.client.get("/v1/reserve").await.unwrap().body;
    assert_eq!(reserve["attested"]["backing_bps"], "10000", "{reserve}");
    assert_eq!(reserve["ledger_backing_bps"], "10000", "{reserve}");
    assert_eq!(reserve["attested"]["mint_headroom"], Amount::from_whole(10).0.to_string());
    assert_eq!(reserve["attested"]["attestation"]["custodian"], custodian.address().to_string());

    // Eight days on, the attestation is stale: mints are refused, redemptions are not.
    let advanced =
        h.client.post("/v1/devnet/advance-time", &json!({"seconds": 8 * 86_400})).await.unwrap();
    assert_eq!(advanced.status, 200, "{}", advanced.body);
    assert_eq!(refused(h.dry_run(&user, &mint(1)).await), "reserve_attestation_is_stale");
    let redeem = Action::RedeemUsdai(RedeemUsdai {
        token: USDC,
        amount: Amount::from_whole(100),
        min_out: Amount::ZERO,
    });
    h.send_ok(&user, redeem).await;
    let reserve = h.client.get("/v1/reserve").await.unwrap().body;
    assert_eq!(reserve["attested"]["is_stale"], true, "{reserve}");
    assert!(reserve["attested"]["age_secs"].as_u64().unwrap() >= 8 * 86_400);
    assert_eq!(reserve["attested"]["backing_bps"], "11111", "1,000 over 900: {reserve}");
    let bad = h.client.get("/v1/reserve/attestations?limit=0").await.unwrap();
    assert_eq!(bad.status.as_u16(), 400, "{}", bad.body);
    assert_eq!(bad.body["code"], "limit_invalid");
    let history = h.client.get("/v1/reserve/attestations").await.unwrap().body;
    assert_eq!(history["total"], 1, "{history}");

    // A restart keeps the attestation and everything it decides.
    drop(h);
    served.stop().await;
    let served = support::serve_in(dir.path(), CHAIN, &genesis, |_| {}).await;
    let after = served.client.get("/v1/reserve/attestations").await.unwrap().body;
    assert_eq!(after["attestations"], history["attestations"]);
    let reserve = served.client.get("/v1/reserve").await.unwrap().body;
    assert_eq!(reserve["attested"]["is_stale"], true, "{reserve}");
    served.stop().await;
}

/// Issue 16 item 2: a deposit the full cap refuses is queued through the API, survives a
/// restart in escrow, and the node's keeper mints it once the cap rises; meanwhile a direct
/// mint cannot take its place.
#[tokio::test]
async fn a_queued_deposit_survives_a_restart_and_the_keeper_fills_it_when_room_appears() {
    let admin = Party::Admin.key();
    let user = Party::User.key();
    let keeper = Party::Keeper.key();
    let mut genesis = support::genesis_granting(&[Party::Attestor]);
    genesis.params.usdai_supply_cap = Amount::from_whole(1_000);
    let dir = tempfile::tempdir().unwrap();
    let with_keeper = |config: &mut infrafi_node::NodeConfig| config.keeper = Some(keeper.clone());
    let served = support::serve_in(dir.path(), CHAIN, &genesis, with_keeper).await;
    let h = Harness::credited(&served.client, &served.node).await;
    h.send_ok(&user, mint(1_000)).await;
    assert_eq!(refused(h.dry_run(&user, &mint(500)).await), "supply_cap_exceeded");
    let queue = Action::QueueDeposit(QueueDeposit { token: USDC, amount: Amount::from_whole(500) });
    h.send_ok(&user, queue).await;
    // Waiting: escrowed, visible, and a direct mint may not pass it.
    let queued = h.client.get("/v1/reserve/deposit-queue").await.unwrap().body;
    assert_eq!(queued["length"], 1, "{queued}");
    assert_eq!(queued["head"], "wait", "{queued}");
    assert_eq!(queued["escrow"][0]["amount"], Amount::from_whole(500).0.to_string());
    assert_eq!(queued["deposits"][0]["owner"], user.address().to_string());
    let account = h.client.get(&format!("/v1/accounts/{}", user.address())).await.unwrap().body;
    assert_eq!(account["queued_deposits"], json!([0]), "{account}");
    // The user still holds 500 USDC; a direct mint is refused for the queue before the cap is
    // even looked at.
    assert_eq!(refused(h.dry_run(&user, &mint(1)).await), "deposit_queue_is_not_empty");
    let bad = h.client.get("/v1/reserve/deposit-queue?limit=0").await.unwrap();
    assert_eq!(bad.status.as_u16(), 400, "{}", bad.body);

    // A restart keeps the deposit in escrow.
    drop(h);
    served.stop().await;
    let served = support::serve_in(dir.path(), CHAIN, &genesis, with_keeper).await;
    let after = served.client.get("/v1/reserve/deposit-queue").await.unwrap().body;
    assert_eq!(after["deposits"], queued["deposits"]);
    let h = Harness {
        client: served.client.clone(),
        node: served.node.clone(),
        _dir: tempfile::tempdir().unwrap(),
        admin: admin.clone(),
        attestor: Party::Attestor.key(),
        user: user.clone(),
    };
    // The cap rises (at once: loosening); the keeper fills the queue in a following block.
    let raise = infrafi_core::ParameterChange::UsdaiSupplyCap(Amount::from_whole(2_000));
    h.send_ok(&admin, Action::SetParameter(SetParameter { change: raise })).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let queued = h.client.get("/v1/reserve/deposit-queue").await.unwrap().body;
        if queued["length"] == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the keeper did not fill: {queued}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let account = h.client.get(&format!("/v1/accounts/{}", user.address())).await.unwrap().body;
    let usdai = account["balances"].as_array().unwrap().iter().find(|b| b["asset"] == "USDai");
    assert_eq!(usdai.unwrap()["amount"], Amount::from_whole(1_500).0.to_string(), "{account}");
    assert_eq!(account["queued_deposits"], json!([]), "{account}");
    drop(h);
    served.stop().await;
}
