//! Credit and QEV through the API on loopback (port 0), against a real node: a borrower
//! through a whole loan (propose, accept, every payment, receipts released) checked through
//! the reads and a proof against the block's state root; and a holder whose open bid gets it
//! served ahead of an older request; a liquidation below an insured residual-value floor, the
//! insurer's payment and the recovery ledger per loan and per class, across a restart.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use alloy_primitives::B256;
use infrafi_api::{client::Client, dto::ProofDto};
use infrafi_core::{
    Action, Amount, AssetClassId, Genesis, LoanId, ReceiptId, RequestId, SiloId, WAD,
    action::{
        AcceptLoan, AddAssetClass, AttachPolicy, DepositFirstLoss, ForecloseLoan,
        FundDebtServiceReserve, IssueReceipt, ListRequest, MintUsdai, OpenSilo, PayResidualClaim,
        PostPresenceAttestation, PostValuation, ProposeLoan, RemarkLoans, RepayLoan, ReportSale,
        RequestRedeem, ServiceQueue, SetBid, SetLoanCovenants, SetPresenceLimit, SetResidualFloor,
        SetSiloSeniorCap, Stake, TriggerDefault,
    },
    ids::USDC,
    loans::{LoanTerms, RESIDUAL_CLAIM_PERIOD_SECS, SaleReport, TrancheTerms},
    math::{Bps, Rate},
    queue::ROUND_REQUESTS_MAX,
    receipts::{AssetClassTerms, ReceiptDescription, RecoveryCostModel},
    schedule::InterestModel,
    silos::SiloTerms,
};
use infrafi_node::Node;
use infrafi_testkit::market::DAY;
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};

mod support;
use support::{Party, unix_now};

const CHAIN: u64 = 4243;

fn usd(n: u128) -> Amount {
    Amount::from_whole(n)
}

/// The credit book's genesis: the custodian, appraiser, insurer and curator hold their roles,
/// and each of `funded` holds 2,000,000 USDC.
fn credit_genesis(funded: &[Party]) -> Genesis {
    let mut genesis = support::genesis_granting(&[
        Party::Custodian,
        Party::Appraiser,
        Party::Insurer,
        Party::Curator,
    ]);
    for party in funded {
        genesis.stablecoin_balances.push((party.address(), USDC, usd(2_000_000)));
    }
    genesis
}

struct Harness {
    client: Client,
    _node: Arc<Node>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// A harness over a node served from a directory the test keeps (to restart it).
    fn over(served: &support::Restartable) -> Harness {
        Harness {
            client: served.client.clone(),
            _node: served.node.clone(),
            _dir: tempfile::tempdir().unwrap(),
        }
    }
}

/// A class whose value does not move with time: 30,000 per unit new, no depreciation, no
/// floor, the default recovery costs.
fn flat_class() -> AssetClassTerms {
    AssetClassTerms {
        new_price_per_unit: usd(30_000),
        annual_depreciation_bps: Bps(0),
        floor_bps: Bps(0),
        recovery: RecoveryCostModel::default(),
    }
}

async fn start() -> Harness {
    let genesis = credit_genesis(&[
        Party::Depositor,
        Party::Curator,
        Party::Borrower,
        Party::Holder,
        Party::Bidder,
    ]);
    let served = support::serve(CHAIN, &genesis).await;
    Harness { client: served.client, _node: served.node, _dir: served.dir }
}

impl Harness {
    async fn get(&self, path: &str) -> Value {
        let answer = self.client.get(path).await.unwrap();
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        answer.body
    }

    async fn send_ok(&self, party: Party, action: Action) -> Value {
        let key = party.key();
        let account = self.get(&format!("/v1/accounts/{}", key.address())).await;
        let nonce = account["next_nonce"].as_u64().unwrap();
        let answer = self.client.submit(&key.sign(CHAIN, nonce, &action)).await.unwrap();
        assert_eq!(answer.status, 202, "{}", answer.body);
        let hash = answer.body["tx_hash"].as_str().unwrap().to_string();
        for _ in 0..300 {
            let status = self.get(&format!("/v1/tx/{hash}")).await;
            if status["status"] != "pending" {
                assert_eq!(status["status"], "applied", "{} by {party:?}: {status}", action.name());
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("transaction {hash} was not committed");
    }

    /// `POST /v1/dry-run` of `action` from `party`.
    async fn dry_run(&self, party: Party, action: &Action) -> Value {
        let body = json!({"sender": party.address(), "action": action});
        let answer = self.client.post("/v1/dry-run", &body).await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body
    }

    async fn advance(&self, seconds: u64) {
        let moved = self
            .client
            .post("/v1/devnet/advance-time", &json!({"seconds": seconds}))
            .await
            .unwrap();
        assert_eq!(moved.status, 200, "{}", moved.body);
    }

    async fn mint_and_stake(&self, party: Party, mint: u128, stake: u128) {
        self.send_ok(
            party,
            Action::MintUsdai(MintUsdai { token: USDC, amount: usd(mint), min_out: Amount::ZERO }),
        )
        .await;
        if stake > 0 {
            self.send_ok(
                party,
                Action::Stake(Stake { assets: usd(stake), min_shares: Amount::ZERO }),
            )
            .await;
        }
    }

    /// The credit book a loan is proposed from: the depositor stakes 1,000,000; the admin
    /// registers the H100 class with `class`; the curator opens a silo of it with 100,000 of
    /// first-loss capital under a 1,000,000 senior cap; the custodian issues the borrower a
    /// 24-unit receipt, insured for 600,000 and valued at 600,000. Returns the silo and the
    /// receipt.
    /// Loan 0: the curator proposes 300,000 senior at 0% in three monthly principal payments
    /// (15 days of grace) against `receipt_id`, and the borrower accepts.
    async fn lend_interest_free(&self, silo_id: SiloId, receipt_id: ReceiptId) {
        let terms = LoanTerms {
            borrower: Party::Borrower.address(),
            receipts: vec![receipt_id],
            senior: TrancheTerms { amount: usd(300_000), rate: Rate::from_apr_bps(0) },
            junior: TrancheTerms::default(),
            model: InterestModel::FixedPrincipal,
            periods: Some(3),
            interval_secs: Some(30 * DAY),
            grace_period_secs: 15 * DAY,
            grace_rate: Rate::from_apr_bps(0),
            origination_fee_bps: Bps(0),
            exit_fee_bps: Bps(0),
            expires_at: unix_now() + 7 * DAY,
        };
        self.send_ok(Party::Curator, Action::ProposeLoan(ProposeLoan { silo_id, terms })).await;
        self.send_ok(Party::Borrower, Action::AcceptLoan(AcceptLoan { loan_id: LoanId(0) })).await;
    }

    async fn open_book(&self, class: AssetClassTerms) -> (SiloId, ReceiptId) {
        self.mint_and_stake(Party::Depositor, 1_000_000, 1_000_000).await;
        self.mint_and_stake(Party::Curator, 200_000, 0).await;
        self.mint_and_stake(Party::Borrower, 100_000, 0).await;
        self.send_ok(
            Party::Admin,
            Action::AddAssetClass(AddAssetClass { class: h100(), terms: class }),
        )
        .await;
        let silo_terms = SiloTerms { eligible_classes: vec![h100()], ..SiloTerms::default() };
        self.send_ok(Party::Curator, Action::OpenSilo(OpenSilo { terms: silo_terms })).await;
        let silo_id = SiloId(0);
        let first_loss = DepositFirstLoss { silo_id, amount: usd(100_000) };
        self.send_ok(Party::Curator, Action::DepositFirstLoss(first_loss)).await;
        let cap = SetSiloSeniorCap { silo_id, cap: usd(1_000_000) };
        self.send_ok(Party::Admin, Action::SetSiloSeniorCap(cap)).await;
        let description = ReceiptDescription {
            quantity: 24,
            serials_hash: B256::repeat_byte(0x11),
            facility: "Reno NV DC-2".into(),
            jurisdiction: "US-NV".into(),
            bailment_hash: B256::repeat_byte(0x22),
        };
        let owner = Party::Borrower.address();
        let issue = IssueReceipt { class: h100(), owner, description };
        self.send_ok(Party::Custodian, Action::IssueReceipt(issue)).await;
        let receipt_id = ReceiptId(0);
        let policy = AttachPolicy {
            receipt_id,
            policy_id: B256::repeat_byte(0x33),
            coverage: usd(600_000),
            expires_at: unix_now() + 2 * 365 * DAY,
        };
        self.send_ok(Party::Insurer, Action::AttachPolicy(policy)).await;
        let valuation = PostValuation { receipt_id, value: usd(600_000) };
        self.send_ok(Party::Appraiser, Action::PostValuation(valuation)).await;
        (silo_id, receipt_id)
    }
}

fn h100() -> AssetClassId {
    AssetClassId::new("gpu.h100").unwrap()
}

fn number(value: &Value) -> u128 {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_borrower_goes_through_a_whole_loan_and_proves_it_repaid() {
    let h = start().await;
    let class = AssetClassTerms {
        new_price_per_unit: usd(30_000),
        annual_depreciation_bps: Bps(2_000),
        floor_bps: Bps(1_000),
        recovery: RecoveryCostModel {
            itad_commission_bps: Bps(3_000),
            legal_cost_per_unit: usd(100),
            logistics_cost_per_unit: usd(200),
            data_destruction_cost_per_unit: usd(50),
            condition_haircut_bps: Bps(1_000),
        },
    };
    let (silo_id, receipt_id) = h.open_book(class).await;
    let borrower = Party::Borrower.address();
    let terms = LoanTerms {
        borrower,
        receipts: vec![receipt_id],
        senior: TrancheTerms { amount: usd(300_000), rate: Rate::from_apr_bps(1_200) },
        junior: TrancheTerms { amount: usd(60_000), rate: Rate::from_apr_bps(1_800) },
        model: InterestModel::Amortized,
        periods: Some(3),
        interval_secs: Some(30 * DAY),
        grace_period_secs: 15 * DAY,
        grace_rate: Rate::from_apr_bps(2_400),
        origination_fee_bps: Bps(100),
        exit_fee_bps: Bps(50),
        expires_at: unix_now() + 7 * DAY,
    };
    // The curator previews the proposal: the loan it would create and the schedule it would
    // run if accepted now, computed by the node; nothing is committed.
    let propose = Action::ProposeLoan(ProposeLoan { silo_id, terms });
    let preview = h.dry_run(Party::Curator, &propose).await;
    assert_eq!(preview["status"], "applied", "{preview}");
    let previewed = &preview["loans"][0];
    assert_eq!(previewed["loan"]["status"], "proposed");
    let rows = previewed["proposed_schedule"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let repaid: u128 = rows.iter().map(|r| number(&r["principal"])).sum();
    assert_eq!(repaid, usd(360_000).0, "the schedule repays both tranches");
    assert_eq!(number(&rows[2]["closing_balance"]), 0);
    assert!(h.get("/v1/loans").await["loans"].as_array().unwrap().is_empty(), "not committed");
    h.send_ok(Party::Curator, propose).await;
    let proposed = h.get("/v1/loans/0").await;
    assert_eq!(proposed["loan"]["status"], "proposed");
    assert!(proposed["schedule"].is_null());
    let committed_rows = proposed["proposed_schedule"].as_array().unwrap();
    for (committed, previewed) in committed_rows.iter().zip(rows) {
        assert_eq!(committed["payment"], previewed["payment"]);
        assert_eq!(committed["interest"], previewed["interest"]);
    }
    // Only the borrower may accept: the preview says so with the node's code.
    let accept = Action::AcceptLoan(AcceptLoan { loan_id: LoanId(0) });
    let refused = h.dry_run(Party::Depositor, &accept).await;
    assert_eq!(refused["status"], "rejected", "{refused}");
    assert_eq!(refused["error"]["code"], "sender_is_not_loan_borrower", "{refused}");
    assert_eq!(refused["error"]["number"], 802, "{refused}");
    assert!(refused["events"].as_array().unwrap().is_empty());
    let accepted = h.dry_run(Party::Borrower, &accept).await;
    assert_eq!(accepted["loans"][0]["loan"]["status"], "active", "{accepted}");
    assert_eq!(accepted["loans"][0]["schedule"]["payments_remaining"], 3);
    h.send_ok(Party::Borrower, accept).await;

    let loan = h.get("/v1/loans/0").await;
    assert_eq!(loan["loan"]["status"], "active", "{loan}");
    assert_eq!(loan["schedule"]["payments_remaining"], 3);
    assert_eq!(loan["schedule"]["remaining"].as_array().unwrap().len(), 3);
    assert_eq!(loan["schedule"]["payments_missed"], 0);
    assert!(number(&loan["schedule"]["payment_due_now"]["total"]) > 0);
    let mine = h.get(&format!("/v1/loans?borrower={borrower}&status=active")).await;
    assert_eq!(mine["loans"].as_array().unwrap().len(), 1);
    let none = h.get("/v1/loans?silo=7").await;
    assert!(none["loans"].as_array().unwrap().is_empty());
    // The silo's open loans and the loans in recovery come from the loan index: the same
    // answer a walk of the table gives.
    let open_in_silo = h.get("/v1/loans?silo=0&status=active").await;
    assert_eq!(open_in_silo["loans"], mine["loans"], "{open_in_silo}");
    assert!(
        h.get("/v1/loans?silo=0&status=defaulted").await["loans"].as_array().unwrap().is_empty()
    );
    assert!(h.get("/v1/loans?status=defaulted").await["loans"].as_array().unwrap().is_empty());
    assert!(
        h.get("/v1/loans?silo=0&status=active&after=0").await["loans"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let bad = h.client.get("/v1/loans?status=sleeping").await.unwrap();
    assert_eq!((bad.status.as_u16(), bad.body["code"].as_str()), (400, Some("status_invalid")));
    let silo = h.get("/v1/silos/0").await;
    assert_eq!(silo["open_loans"], json!([0]));
    assert_eq!(number(&silo["silo"]["senior_outstanding"]), usd(300_000).0);
    assert_eq!(h.get("/v1/silos").await["silos"].as_array().unwrap().len(), 1);
    let receipt = h.get("/v1/receipts/0").await;
    assert_eq!(receipt["receipt"]["status"], "pledged");
    assert_eq!(receipt["insurance"]["status"], "insured");
    assert_eq!(receipt["eligible"], true, "{receipt}");
    assert!(number(&receipt["value_for_ltv"]) > 0);
    let pledged = h.get(&format!("/v1/receipts?owner={borrower}&status=pledged")).await;
    assert_eq!(pledged["receipts"].as_array().unwrap().len(), 1);
    let of_class = h.get("/v1/receipts?class=gpu.h100").await;
    assert_eq!(of_class["receipts"], pledged["receipts"], "{of_class}");
    assert!(h.get("/v1/receipts?class=gpu.b200").await["receipts"].as_array().unwrap().is_empty());
    let bad = h.client.get("/v1/receipts?class=GPU!").await.unwrap();
    assert_eq!((bad.status.as_u16(), bad.body["code"].as_str()), (400, Some("class_invalid")));
    let vault = h.get("/v1/vault").await;
    let mix = &vault["phase_mix"];
    assert_eq!(number(&mix["deployed"]), usd(300_000).0, "{mix}");
    assert_eq!(mix["by_silo"][0]["key"], "0");
    assert_eq!(mix["by_asset_class"][0]["key"], "gpu.h100");
    assert!(mix["blended_apy_bps"].as_u64().unwrap() > 0);

    // Each payment a day before its deadline.
    for (payment, advance_days) in [(1, 29), (2, 30), (3, 30)] {
        h.advance(advance_days * DAY).await;
        let before = h.get("/v1/loans/0").await;
        assert_eq!(before["schedule"]["payments_missed"], 0, "payment {payment}: {before}");
        let repay = Action::RepayLoan(RepayLoan { loan_id: LoanId(0), max_amount: Amount::MAX });
        let preview = h.dry_run(Party::Borrower, &repay).await;
        assert_eq!(preview["status"], "applied", "{preview}");
        let paid =
            preview["events"].as_array().unwrap().iter().any(|e| e["kind"] == "loan_payment_made");
        assert!(paid, "{preview}");
        h.send_ok(Party::Borrower, repay).await;
        let after = h.get("/v1/loans/0").await;
        if payment < 3 {
            assert_eq!(after["schedule"]["payments_remaining"], 3 - payment, "{after}");
        }
    }
    let repaid = h.get("/v1/loans/0").await;
    assert_eq!(repaid["loan"]["status"], "repaid", "{repaid}");
    assert_eq!(number(&repaid["loan"]["balance"]), 0);
    let released = h.get("/v1/receipts/0").await;
    assert_eq!(released["receipt"]["status"], "released");
    assert!(released["receipt"]["loan"].is_null());

    // The loan's leaf is proven against the state root of the block it was read at.
    let proof: ProofDto = serde_json::from_value(h.get("/v1/proofs/loans/0").await).unwrap();
    assert_eq!(proof.decoded["loan"]["status"], "repaid");
    let block = h.get(&format!("/v1/blocks/{}", proof.height)).await;
    let root: B256 = block["header"]["state_root"].as_str().unwrap().parse().unwrap();
    assert_eq!(root, proof.state_root);
    let value = proof.value.as_ref().map(|v| v.to_vec());
    proof.proof.verify_leaf(root, &proof.key, value.as_deref()).unwrap();
    let mut forged = value.clone().unwrap();
    forged[0] ^= 1;
    assert!(proof.proof.verify_leaf(root, &proof.key, Some(&forged)).is_err());
    for path in ["/v1/proofs/receipts/0", "/v1/proofs/silos/0"] {
        let proof: ProofDto = serde_json::from_value(h.get(path).await).unwrap();
        let value = proof.value.as_ref().map(|v| v.to_vec());
        proof.proof.verify_leaf(proof.state_root, &proof.key, value.as_deref()).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_with_an_open_bid_is_served_ahead_of_an_older_request() {
    let h = start().await;
    h.mint_and_stake(Party::Holder, 200_000, 100_000).await;
    h.mint_and_stake(Party::Bidder, 200_000, 100_000).await;
    h.send_ok(Party::Holder, Action::RequestRedeem(RequestRedeem { shares: usd(50_000) })).await;
    h.send_ok(Party::Bidder, Action::RequestRedeem(RequestRedeem { shares: usd(50_000) })).await;
    let (old, bidder) = (RequestId(0), RequestId(1));
    h.send_ok(Party::Bidder, Action::SetBid(SetBid { request_id: bidder, price_wad: WAD / 1_000 }))
        .await;
    let detail = h.get("/v1/queue/1").await;
    assert_eq!(detail["qev"]["bid_price"], (WAD / 1_000).to_string(), "{detail}");
    assert!(number(&detail["qev"]["bid_escrow"]) > 0);
    assert!(detail["qev_estimate"]["service_at"].is_u64(), "{detail}");
    h.send_ok(
        Party::Holder,
        Action::ListRequest(ListRequest { request_id: old, price: usd(49_000) }),
    )
    .await;
    let listings = h.get("/v1/queue/listings").await;
    assert_eq!(listings["listings"][0]["request"]["id"], 0, "{listings}");
    assert_eq!(number(&listings["listings"][0]["price"]), usd(49_000).0);
    h.advance(8 * DAY).await;
    // The liquidity covers both: a round cut to one request is refused with the node's code
    // (it would make the bidder pay for jumping a request the liquidity covers).
    let cut = Action::ServiceQueue(ServiceQueue { max_requests: 1 });
    let refused = h.dry_run(Party::Holder, &cut).await;
    assert_eq!(refused["status"], "rejected", "{refused}");
    assert_eq!(refused["error"]["code"], "round_request_limit_cuts_round_short", "{refused}");
    assert_eq!(refused["error"]["number"], 509, "{refused}");
    // The whole round serves the bidder first, though it is younger, then the older request;
    // nobody was left unserved, so nobody jumped and nobody pays.
    let round = Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX });
    let applied = h.send_ok(Party::Holder, round).await;
    let served: Vec<u64> = applied["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["kind"] == "redemption_served")
        .map(|event| event["request_id"].as_u64().unwrap())
        .collect();
    assert_eq!(served, vec![bidder.0, old.0], "{applied}");
    let rounds = h.get("/v1/queue/rounds").await;
    assert_eq!(rounds["rounds_total"], 1);
    let round = &rounds["rounds"][0];
    assert_eq!(round["requests_served"], 2);
    assert_eq!(round["jumpers"], 0, "{round}");
    assert!(rounds["clearing_price_ema"].is_string());
}

/// Issue 16, item 3: the silo's covenants give the loan a debt-service reserve of one
/// payment; when the borrower misses it, the node's keeper pays it out of the reserve (the
/// loan is not late), the loan is breached until the borrower refills the reserve, and the
/// breach and the reserve survive a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_payment_is_paid_from_the_reserve_and_the_breach_survives_a_restart() {
    let genesis = credit_genesis(&[Party::Depositor, Party::Curator, Party::Borrower]);
    let dir = tempfile::tempdir().unwrap();
    let with_keeper =
        |config: &mut infrafi_node::NodeConfig| config.keeper = Some(Party::Keeper.key());
    let served = support::serve_in(dir.path(), CHAIN, &genesis, with_keeper).await;
    let h = Harness::over(&served);
    let class = flat_class();
    let (silo_id, receipt_id) = h.open_book(class).await;
    h.send_ok(
        Party::Curator,
        Action::SetLoanCovenants(SetLoanCovenants {
            silo_id,
            debt_service_reserve_periods: 1,
            report_interval_secs: 90 * DAY,
        }),
    )
    .await;
    h.lend_interest_free(silo_id, receipt_id).await;
    let loan = h.get("/v1/loans/0").await;
    let reserve = &loan["loan"]["debt_service_reserve"];
    assert_eq!(number(&reserve["required"]), usd(100_000).0, "one payment of 100,000: {loan}");
    assert_eq!(reserve["balance"], reserve["required"]);
    assert_eq!(loan["loan"]["breached"], false);
    assert_eq!(loan["loan"]["report_interval_secs"], 90 * DAY);

    // The borrower misses its first payment: the keeper draws the reserve.
    h.advance(30 * DAY + 60).await;
    let mut drawn = Value::Null;
    for _ in 0..500 {
        let loan = h.get("/v1/loans/0").await;
        if number(&loan["loan"]["debt_service_reserve"]["drawn_total"]) > 0 {
            drawn = loan;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!drawn.is_null(), "the keeper drew the reserve");
    assert_eq!(drawn["schedule"]["payments_missed"], 0, "not late: {drawn}");
    assert_eq!(drawn["loan"]["periods_remaining"], 2);
    assert_eq!(drawn["loan"]["breached"], true);
    assert_eq!(drawn["loan"]["breach"]["reason"], "reserve_below_requirement");
    assert_eq!(number(&drawn["loan"]["debt_service_reserve"]["balance"]), 0);

    // A restart keeps the breach and the reserve.
    drop(h);
    served.stop().await;
    let served = support::serve_in(dir.path(), CHAIN, &genesis, with_keeper).await;
    let h = Harness::over(&served);
    let after = h.get("/v1/loans/0").await;
    assert_eq!(after["loan"]["breach"], drawn["loan"]["breach"]);
    assert_eq!(after["loan"]["debt_service_reserve"], drawn["loan"]["debt_service_reserve"]);
    // The borrower refills it: cured.
    let refill = Action::FundDebtServiceReserve(FundDebtServiceReserve {
        loan_id: LoanId(0),
        amount: usd(100_000),
    });
    h.send_ok(Party::Borrower, refill).await;
    let cured = h.get("/v1/loans/0").await;
    assert_eq!(cured["loan"]["breached"], false, "{cured}");
    assert!(cured["loan"]["breach"].is_null());
    drop(h);
    served.stop().await;
}

/// Hardware presence (issue 16) through the API: the admin monitors the H100 class with a
/// one-hour limit; the monitor attests the borrower's receipt and the loan is originated; the
/// monitor then lapses: the node's keeper re-marks the loan a day later and opens the cure
/// window (collateral ineligible, `receipt_presence_stale`); the attestation and the window
/// survive a restart; a fresh attestation and a re-mark cure it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_monitor_opens_the_cure_window_and_the_attestation_survives_a_restart() {
    let mut genesis = credit_genesis(&[Party::Depositor, Party::Curator, Party::Borrower]);
    genesis.roles.push((infrafi_core::Role::Monitor, Party::Monitor.address()));
    genesis.params.governance_delay_secs = 0;
    let dir = tempfile::tempdir().unwrap();
    let with_keeper =
        |config: &mut infrafi_node::NodeConfig| config.keeper = Some(Party::Keeper.key());
    let served = support::serve_in(dir.path(), CHAIN, &genesis, with_keeper).await;
    let h = Harness::over(&served);
    let class = flat_class();
    let (silo_id, receipt_id) = h.open_book(class).await;
    let limit = SetPresenceLimit { class: h100(), max_age_secs: 3_600 };
    h.send_ok(Party::Admin, Action::SetPresenceLimit(limit)).await;
    let unattested = h.get("/v1/receipts/0").await;
    assert_eq!(unattested["presence"]["status"], "stale", "{unattested}");
    assert_eq!(unattested["ineligible_reason"], "receipt_presence_stale");
    let attest = |as_of: u64| {
        Action::PostPresenceAttestation(PostPresenceAttestation {
            receipt_id,
            units_seen: 24,
            serials_hash: B256::repeat_byte(0x11),
            facility: "Reno NV DC-2".into(),
            uptime_bps: Bps(9_900),
            as_of,
        })
    };
    let now = h.get("/v1/status").await["timestamp"].as_u64().unwrap();
    h.send_ok(Party::Monitor, attest(now)).await;
    let present = h.get("/v1/receipts/0").await;
    assert_eq!(present["presence"]["status"], "present", "{present}");
    assert_eq!(present["presence"]["limit_secs"], 3_600);
    assert_eq!(present["presence"]["attestation"]["units_seen"], 24);
    assert_eq!(present["presence"]["attestation"]["all_present"], true);
    assert_eq!(present["presence"]["stale_at"], now + 3_600);
    assert_eq!(present["eligible"], true);
    h.lend_interest_free(silo_id, receipt_id).await;

    // The monitor lapses; a day later the keeper's periodic re-mark finds the receipt stale.
    h.advance(DAY + 60).await;
    let mut called = Value::Null;
    for _ in 0..500 {
        let loan = h.get("/v1/loans/0").await;
        if !loan["loan"]["margin_call"].is_null() {
            called = loan;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!called.is_null(), "the keeper opened the cure window");
    assert_eq!(called["loan"]["margin_call"]["reason"], "collateral_ineligible", "{called}");
    let stale = h.get("/v1/receipts/0").await;
    assert_eq!(stale["presence"]["status"], "stale");

    // A restart keeps the attestation and the window.
    drop(h);
    served.stop().await;
    let served = support::serve_in(dir.path(), CHAIN, &genesis, with_keeper).await;
    let h = Harness::over(&served);
    let after = h.get("/v1/receipts/0").await;
    assert_eq!(after["presence"]["attestation"], stale["presence"]["attestation"]);
    let loan = h.get("/v1/loans/0").await;
    assert_eq!(loan["loan"]["margin_call"], called["loan"]["margin_call"]);

    // Seen again: a re-mark cures the loan.
    let now = h.get("/v1/status").await["timestamp"].as_u64().unwrap();
    h.send_ok(Party::Monitor, attest(now)).await;
    let remark = RemarkLoans { first_loan_id: LoanId(0), max_loans: 1 };
    h.send_ok(Party::Depositor, Action::RemarkLoans(remark)).await;
    let cured = h.get("/v1/loans/0").await;
    assert!(cured["loan"]["margin_call"].is_null(), "{cured}");
    assert_eq!(h.get("/v1/receipts/0").await["presence"]["status"], "present");
    drop(h);
    served.stop().await;
}

/// Residual-value insurance and the recovery ledger (issue 16 item 6) through the API: the
/// insurer insures a 250,000 floor on the borrower's receipt (24 H100s, covered for 600,000);
/// the 300,000 interest-free loan defaults after grace and is foreclosed to the liquidation
/// agent, who sells the receipt for 100,000 gross: ITAD 30% (30,000), legal 2,400, logistics
/// 4,800, data destruction 1,200 (the class's per-unit costs x 24), so 61,600 net. The insurer
/// owes 250,000 - 61,600 = 188,400 and the loan waits for it; paid, the waterfall takes the 2%
/// liquidation fee on each pass (1,232 + 3,768) and the senior tranche gets 245,000, the
/// curator's pool covers the last 55,000 and the loan settles with nothing written off. Net
/// recoveries 250,000 over 300,000 owed at default: 8,333 bps, for the loan and for its class,
/// the same after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_below_the_floor_is_paid_by_the_insurer_and_the_recovery_rate_survives_a_restart() {
    let mut genesis = credit_genesis(&[
        Party::Depositor,
        Party::Curator,
        Party::Borrower,
        Party::Insurer,
        Party::LiquidationAgent,
    ]);
    genesis.roles.push((infrafi_core::Role::LiquidationAgent, Party::LiquidationAgent.address()));
    let dir = tempfile::tempdir().unwrap();
    let served = support::serve_in(dir.path(), CHAIN, &genesis, |_| {}).await;
    let h = Harness::over(&served);
    let class = AssetClassTerms {
        new_price_per_unit: usd(30_000),
        annual_depreciation_bps: Bps(0),
        floor_bps: Bps(0),
        recovery: RecoveryCostModel {
            legal_cost_per_unit: usd(100),
            logistics_cost_per_unit: usd(200),
            data_destruction_cost_per_unit: usd(50),
            ..RecoveryCostModel::default()
        },
    };
    let (silo_id, receipt_id) = h.open_book(class).await;
    h.mint_and_stake(Party::Insurer, 500_000, 0).await;
    h.mint_and_stake(Party::LiquidationAgent, 200_000, 0).await;
    let floor = SetResidualFloor { receipt_id, floor_value: usd(250_000) };
    h.send_ok(Party::Insurer, Action::SetResidualFloor(floor)).await;
    let receipt = h.get("/v1/receipts/0").await;
    assert_eq!(number(&receipt["insurance"]["floor_value"]), usd(250_000).0, "{receipt}");
    h.lend_interest_free(silo_id, receipt_id).await;
    assert!(h.get("/v1/loans/0").await["recovery"].is_null(), "no ledger before a default");
    assert_eq!(h.get("/v1/recoveries").await["classes"], json!([]));

    // The first payment is missed; past its 15 days of grace anyone defaults the loan.
    h.advance(45 * DAY + 60).await;
    let loan_id = LoanId(0);
    h.send_ok(Party::Depositor, Action::TriggerDefault(TriggerDefault { loan_id })).await;
    let foreclose = ForecloseLoan { loan_id, liquidation_agent: Party::LiquidationAgent.address() };
    h.send_ok(Party::Curator, Action::ForecloseLoan(foreclose)).await;
    let report = SaleReport {
        gross_proceeds: usd(100_000),
        itad_commission: usd(30_000),
        legal_costs: usd(2_400),
        logistics_costs: usd(4_800),
        data_destruction_costs: usd(1_200),
    };
    let sale = ReportSale { receipt_id, report };
    let sold = h.send_ok(Party::LiquidationAgent, Action::ReportSale(sale)).await;
    let booked =
        sold["events"].as_array().unwrap().iter().find(|e| e["kind"] == "residual_claim_booked");
    assert_eq!(booked.map(|e| number(&e["amount"])), Some(usd(188_400).0), "{sold}");

    // The sale alone: the insurer owes the floor less the net, and the loan waits for it.
    let waiting = h.get("/v1/loans/0").await;
    assert_eq!(waiting["loan"]["status"], "defaulted", "{waiting}");
    let claims = waiting["residual_claims"].as_array().unwrap();
    assert_eq!(claims.len(), 1, "{waiting}");
    let claim = &claims[0];
    assert_eq!(claim["receipt_id"], 0);
    assert_eq!(claim["insurer"], json!(Party::Insurer.address()));
    assert_eq!(number(&claim["floor_value"]), usd(250_000).0);
    assert_eq!(number(&claim["net_proceeds"]), usd(61_600).0);
    assert_eq!(number(&claim["amount"]), usd(188_400).0);
    let claim_booked_at = claim["booked_at"].as_u64().unwrap();
    assert_eq!(claim["overdue_at"].as_u64().unwrap(), claim_booked_at + RESIDUAL_CLAIM_PERIOD_SECS);
    let recovery = &waiting["recovery"];
    assert_eq!(number(&recovery["exposure_at_default"]), usd(300_000).0, "{recovery}");
    assert_eq!(number(&recovery["gross"]), usd(100_000).0);
    assert_eq!(number(&recovery["costs"]), usd(38_400).0);
    assert_eq!(number(&recovery["itad_commission"]), usd(30_000).0);
    assert_eq!(number(&recovery["legal_costs"]), usd(2_400).0);
    assert_eq!(number(&recovery["logistics_costs"]), usd(4_800).0);
    assert_eq!(number(&recovery["data_destruction_costs"]), usd(1_200).0);
    assert_eq!(number(&recovery["net"]), usd(61_600).0);
    assert_eq!(number(&recovery["residual_owed"]), usd(188_400).0);
    assert_eq!(recovery["recovery_rate_bps"], 2_053, "61,600 of 300,000 so far");
    assert_eq!(recovery["settled"], false);
    let class_row = |body: &Value| body["classes"].as_array().unwrap().clone();
    let liquidating = class_row(&h.get("/v1/recoveries").await);
    assert_eq!(liquidating.len(), 1);
    assert_eq!(liquidating[0]["class"], "gpu.h100");
    assert_eq!(
        (liquidating[0]["loans"].clone(), liquidating[0]["settled"].clone()),
        (json!(1), json!(0))
    );
    assert!(liquidating[0]["settled_recovery_rate_bps"].is_null(), "nothing settled yet");

    // The insurer pays: the waterfall makes the senior tranche whole with the pool's cover.
    let insurer = format!("/v1/accounts/{}", Party::Insurer.address());
    let usdai = |account: &Value| {
        let balances = account["balances"].as_array().unwrap();
        balances.iter().find(|b| b["asset"] == "USDai").map_or(0, |b| number(&b["amount"]))
    };
    let insurer_before = usdai(&h.get(&insurer).await);
    let pay = PayResidualClaim { receipt_id };
    h.send_ok(Party::Insurer, Action::PayResidualClaim(pay)).await;
    assert_eq!(insurer_before - usdai(&h.get(&insurer).await), usd(188_400).0);
    let settled = h.get("/v1/loans/0").await;
    assert_eq!(settled["loan"]["status"], "settled", "{settled}");
    assert_eq!(settled["residual_claims"], json!([]));
    let recovery = &settled["recovery"];
    assert_eq!(number(&recovery["gross"]), usd(288_400).0, "{recovery}");
    assert_eq!(number(&recovery["net"]), usd(250_000).0);
    assert_eq!(number(&recovery["insurance_paid"]), usd(188_400).0);
    assert_eq!(number(&recovery["residual_owed"]), 0);
    assert_eq!(number(&recovery["liquidation_fees"]), usd(5_000).0);
    assert_eq!(number(&recovery["to_senior"]), usd(245_000).0);
    assert_eq!(number(&recovery["first_loss_cover"]), usd(55_000).0);
    assert_eq!(number(&recovery["deficiency"]), 0);
    assert_eq!(recovery["receipts_written_off"], 0);
    assert_eq!(recovery["recovery_rate_bps"], 8_333);
    assert_eq!(recovery["settled"], true);
    let expected = json!({
        "class": "gpu.h100",
        "loans": 1,
        "settled": 1,
        "exposure_at_default": usd(300_000).0.to_string(),
        "gross": usd(288_400).0.to_string(),
        "costs": usd(38_400).0.to_string(),
        "net": usd(250_000).0.to_string(),
        "insurance_paid": usd(188_400).0.to_string(),
        "deficiency": "0",
        "receipts_written_off": 0,
        "recovery_rate_bps": 8_333,
        "settled_recovery_rate_bps": 8_333,
    });
    assert_eq!(class_row(&h.get("/v1/recoveries").await), vec![expected.clone()]);

    // A restart keeps the ledger and the rate per class.
    drop(h);
    served.stop().await;
    let served = support::serve_in(dir.path(), CHAIN, &genesis, |_| {}).await;
    let h = Harness::over(&served);
    assert_eq!(class_row(&h.get("/v1/recoveries").await), vec![expected]);
    let after = h.get("/v1/loans/0").await;
    assert_eq!(after["recovery"], settled["recovery"]);
    drop(h);
    served.stop().await;
}

/// Rental-index marks (issue 16 item 5) through the API: admin sets the H100 class's income
/// terms, the oracle posts $2.00 an hour, and the 24-GPU receipt appraised at 600,000 is worth
/// 24 x $18,252.13 for LTV; a loan the appraisal alone would allow is refused; the index and
/// terms survive a restart; when the index goes stale the receipt is ineligible and a re-mark
/// opens a `collateral_ineligible` margin call, which a fresh post cures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rental_index_bounds_a_receipt_survives_a_restart_and_its_staleness_calls_the_loan() {
    use infrafi_core::{
        Role,
        action::{GrantRole, PostRentalIndex, RemarkLoans, SetIncomeTerms},
        rental_index::{IncomeTerms, MONTH_SECS},
    };
    use infrafi_testkit::market::{INCOME_VALUE_PER_UNIT_AT_TWO_DOLLARS, RENT_TWO_DOLLARS};
    let genesis = credit_genesis(&[Party::Depositor, Party::Curator, Party::Borrower]);
    let dir = tempfile::tempdir().unwrap();
    let served = support::serve_in(dir.path(), CHAIN, &genesis, |_| {}).await;
    let h = Harness::over(&served);
    let class = flat_class();
    let (silo_id, receipt_id) = h.open_book(class).await;
    let admin = Party::Admin.address();
    h.send_ok(Party::Admin, Action::GrantRole(GrantRole { role: Role::Oracle, account: admin }))
        .await;
    // 36 whole months and a half left: no month boundary is crossed by the 8 days below.
    let now = h.get("/v1/status").await["timestamp"].as_u64().unwrap();
    let terms = IncomeTerms {
        utilisation_bps: Bps(7_000),
        opex_share_bps: Bps(4_000),
        discount_rate_bps_per_year: Bps(1_200),
        economic_life_ends_at: now + 36 * MONTH_SECS + 15 * DAY,
        index_max_age_secs: 7 * DAY,
        index_max_move_bps: Bps(2_500),
    };
    h.send_ok(Party::Admin, Action::SetIncomeTerms(SetIncomeTerms { class: h100(), terms })).await;
    let post = Action::PostRentalIndex(PostRentalIndex {
        class: h100(),
        rent_per_unit_hour: RENT_TWO_DOLLARS,
    });
    h.send_ok(Party::Admin, post.clone()).await;
    let income = INCOME_VALUE_PER_UNIT_AT_TWO_DOLLARS.0 * 24;
    let receipt = h.get("/v1/receipts/0").await;
    assert_eq!(number(&receipt["income_value"]), income, "{receipt}");
    assert_eq!(receipt["value_for_ltv"], receipt["income_value"], "below the 600,000 appraisal");
    assert_eq!(receipt["eligible"], true);
    let classes = h.get("/v1/asset-classes").await;
    let h100_class = &classes["classes"][0];
    assert_eq!(h100_class["class"], "gpu.h100");
    assert_eq!(
        number(&h100_class["income_value_per_unit"]),
        INCOME_VALUE_PER_UNIT_AT_TWO_DOLLARS.0
    );
    assert_eq!(number(&h100_class["rental_index"]["rent_per_unit_hour"]), RENT_TWO_DOLLARS.0);
    assert_eq!(number(&h100_class["rental_index"]["window_low"]), RENT_TWO_DOLLARS.0 / 4 * 3);
    assert_eq!(h100_class["rental_index"]["fresh"], true);
    assert_eq!(h100_class["income_terms"]["utilisation_bps"], 7_000);

    // 70% of the appraisal would lend 420,000; the index supports 70% of 438,051.21.
    let terms_of = |senior: u128| LoanTerms {
        borrower: Party::Borrower.address(),
        receipts: vec![receipt_id],
        senior: TrancheTerms { amount: usd(senior), rate: Rate::from_apr_bps(0) },
        junior: TrancheTerms::default(),
        model: InterestModel::FixedPrincipal,
        periods: Some(12),
        interval_secs: Some(30 * DAY),
        grace_period_secs: 15 * DAY,
        grace_rate: Rate::from_apr_bps(0),
        origination_fee_bps: Bps(0),
        exit_fee_bps: Bps(0),
        expires_at: unix_now() + 30 * DAY,
    };
    let propose = |senior| Action::ProposeLoan(ProposeLoan { silo_id, terms: terms_of(senior) });
    h.send_ok(Party::Curator, propose(400_000)).await;
    let accept = |id| Action::AcceptLoan(AcceptLoan { loan_id: LoanId(id) });
    let refused = h.dry_run(Party::Borrower, &accept(0)).await;
    assert_eq!(refused["error"]["code"], "loan_ltv_exceeds_max", "{refused}");
    h.send_ok(Party::Curator, propose(300_000)).await;
    h.send_ok(Party::Borrower, accept(1)).await;

    // A restart keeps the terms and the index.
    drop(h);
    served.stop().await;
    let served = support::serve_in(dir.path(), CHAIN, &genesis, |_| {}).await;
    let h = Harness::over(&served);
    let after = h.get("/v1/asset-classes").await;
    for field in ["rent_per_unit_hour", "posted_at", "oracle"] {
        let (now, then) = (&after["classes"][0]["rental_index"], &h100_class["rental_index"]);
        assert_eq!(now[field], then[field], "{field}: {now} vs {then}");
    }
    assert_eq!(after["classes"][0]["income_terms"], h100_class["income_terms"]);

    // Eight days without a post: the index is stale, the receipt ineligible, and a re-mark
    // opens a margin call.
    h.advance(8 * DAY).await;
    let stale = h.get("/v1/receipts/0").await;
    assert_eq!(stale["eligible"], false, "{stale}");
    assert_eq!(stale["ineligible_reason"], "receipt_rental_index_stale");
    assert_eq!(h.get("/v1/asset-classes").await["classes"][0]["rental_index"]["fresh"], false);
    let remark = Action::RemarkLoans(RemarkLoans { first_loan_id: LoanId(0), max_loans: 10 });
    h.send_ok(Party::Depositor, remark.clone()).await;
    let called = h.get("/v1/loans/1").await;
    assert_eq!(called["loan"]["margin_call"]["reason"], "collateral_ineligible", "{called}");
    // A fresh post and a re-mark cure it.
    h.send_ok(Party::Admin, post).await;
    h.send_ok(Party::Depositor, remark).await;
    let cured = h.get("/v1/loans/1").await;
    assert!(cured["loan"]["margin_call"].is_null(), "{cured}");
    drop(h);
    served.stop().await;
}
