//! A borrower through a whole loan with the `infrafi` binary alone, against a devnet on
//! loopback: the devnet actors' keystores sign every step (receipt, policy, appraisal, silo,
//! proposal, acceptance, each payment), the reads come from `infrafi query`, and the repaid
//! loan is proven offline with `infrafi verify-proof`. Only moving time goes over HTTP: the
//! CLI has no command for the devnet endpoint.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod support;

use infrafi_api::client::Client;
use infrafi_testkit::market::DAY;
use serde_json::{Value, json};
use std::path::Path;
use support::*;

fn devnet(data_dir: &Path) -> Devnet {
    support::devnet(data_dir, &["--block-time-ms", "100"])
}

/// The id field `field` of the first event of `kind` in a transaction receipt.
fn event_id(receipt: &Value, kind: &str, field: &str) -> String {
    let events = receipt["events"].as_array().unwrap();
    let event = events
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {receipt}"));
    match &event[field] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => panic!("{kind}.{field} is {other}"),
    }
}

fn number(value: &Value) -> u128 {
    value.as_str().unwrap().parse().unwrap()
}

#[test]
fn a_borrower_goes_through_a_whole_loan_with_the_cli_and_proves_it_repaid() {
    let dir = tempfile::tempdir().unwrap();
    let net = devnet(&dir.path().join("data"));
    let node = net.url.as_str();
    let keys = dir.path().join("data/keys");
    let key = |actor: Actor| actor.keystore(&keys);
    let borrower_keystore = dir.path().join("borrower.json");
    let borrower = cli_ok(&["wallet", "new", "--keystore", borrower_keystore.to_str().unwrap()])
        .trim()
        .to_string();
    let borrower_key = borrower_keystore.to_str().unwrap().to_string();
    let tx = |keystore: &str, action: &[&str]| -> Value {
        let mut args = vec!["tx", "--node", node, "--keystore", keystore];
        args.extend_from_slice(action);
        let receipt: Value = serde_json::from_str(&cli_ok(&args)).unwrap();
        assert_eq!(receipt["status"], "applied", "{action:?}: {receipt}");
        receipt
    };
    let query = |what: &[&str]| -> Value {
        let mut args = vec!["query", "--node", node];
        args.extend_from_slice(what);
        serde_json::from_str(&cli_ok(&args)).unwrap()
    };
    // The devnet's clock runs ahead of the wall clock (its bootstrap ages the demo book).
    let now = query(&["status"])["timestamp"].as_u64().unwrap();

    // The borrower: verified, with USDai to pay interest from.
    tx(&key(Actor::KycRegistrar), &["set-kyc", "--account", &borrower, "--verified", "true"]);
    let deposit = format!("0x{}", "cd".repeat(32));
    tx(
        &key(Actor::Attestor),
        &[
            "gateway-credit",
            "--account",
            &borrower,
            "--token",
            "USDC",
            "--amount",
            "20000",
            "--external-id",
            &deposit,
        ],
    );
    tx(&borrower_key, &["mint-usdai", "--token", "USDC", "--amount", "20000"]);

    // A silo of the curator's own, funded and capped.
    let opened = tx(&key(Actor::Curator), &["open-silo", "--eligible-classes", "gpu.h100-sxm"]);
    let silo = event_id(&opened, "silo_opened", "silo_id");
    tx(&key(Actor::Curator), &["deposit-first-loss", "--silo-id", &silo, "--amount", "50000"]);
    tx(&key(Actor::Admin), &["set-silo-senior-cap", "--silo-id", &silo, "--cap", "500000"]);

    // The receipt: issued by a custodian to the borrower, insured, appraised.
    let issued = tx(
        &key(Actor::Custodian),
        &[
            "issue-receipt",
            "--class",
            "gpu.h100-sxm",
            "--owner",
            &borrower,
            "--quantity",
            "8",
            "--serials-hash",
            &format!("0x{}", "11".repeat(32)),
            "--facility",
            "Reno NV DC-2",
            "--jurisdiction",
            "US-NV",
            "--bailment-hash",
            &format!("0x{}", "22".repeat(32)),
        ],
    );
    let receipt = event_id(&issued, "receipt_issued", "receipt_id");
    tx(
        &key(Actor::Insurer),
        &[
            "attach-policy",
            "--receipt-id",
            &receipt,
            "--policy-id",
            &format!("0x{}", "33".repeat(32)),
            "--coverage",
            "200000",
            "--expires-at",
            &(now + 2 * 365 * DAY).to_string(),
        ],
    );
    tx(&key(Actor::Appraiser), &["post-valuation", "--receipt-id", &receipt, "--value", "200000"]);
    let insured = query(&["receipt", &receipt]);
    assert_eq!(insured["receipt"]["status"], "issued", "{insured}");
    assert_eq!(insured["insurance"]["status"], "insured", "{insured}");
    assert_eq!(insured["eligible"], true, "{insured}");

    // Three monthly payments, proposed by the curator, accepted by the borrower.
    let proposed = tx(
        &key(Actor::Curator),
        &[
            "propose-loan",
            "--silo-id",
            &silo,
            "--borrower",
            &borrower,
            "--receipts",
            &receipt,
            "--senior-amount",
            "60000",
            "--senior-rate",
            "12%",
            "--junior-amount",
            "10000",
            "--junior-rate",
            "1800bps",
            "--periods",
            "3",
            "--interval-secs",
            &(30 * DAY).to_string(),
            "--grace-rate",
            "24%",
            "--origination-fee-bps",
            "100",
            "--exit-fee-bps",
            "50",
            "--expires-at",
            &(now + 7 * DAY).to_string(),
        ],
    );
    let loan = event_id(&proposed, "loan_proposed", "loan_id");
    assert_eq!(query(&["loan", &loan])["loan"]["status"], "proposed");
    tx(&borrower_key, &["accept-loan", "--loan-id", &loan]);
    let active = query(&["loan", &loan]);
    assert_eq!(active["loan"]["status"], "active", "{active}");
    assert_eq!(active["schedule"]["payments_remaining"], 3, "{active}");
    assert_eq!(query(&["receipt", &receipt])["receipt"]["status"], "pledged");
    let mine = query(&["loans", "--borrower", &borrower, "--status", "active"]);
    assert_eq!(mine["loans"].as_array().unwrap().len(), 1, "{mine}");
    // Pages go on from `--after`; receipts filter by class and by loan.
    let later = query(&["loans", "--borrower", &borrower, "--after", &loan]);
    assert!(later["loans"].as_array().unwrap().is_empty(), "{later}");
    let pledged = query(&["receipts", "--class", "gpu.h100-sxm", "--loan", &loan]);
    assert_eq!(pledged["receipts"][0]["id"].to_string(), receipt, "{pledged}");

    // Each payment a day before its deadline. The oracle posts the month's H100 rental index
    // (the devnet values the class by it, and an index counts for 35 days: without the posts
    // the receipt would become ineligible and the keeper would call the loan).
    let client = Client::new(node);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (payment, days) in [(1, 29), (2, 30), (3, 30)] {
        let moved = rt
            .block_on(client.post("/v1/devnet/advance-time", &json!({"seconds": days * DAY})))
            .unwrap();
        assert_eq!(moved.status, 200, "{}", moved.body);
        let index =
            ["post-rental-index", "--class", "gpu.h100-sxm", "--rent-per-unit-hour", "2.10"];
        tx(&key(Actor::Oracle), &index);
        let classes = query(&["asset-classes"]);
        let h100 = classes["classes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|class| class["class"] == "gpu.h100-sxm")
            .unwrap();
        assert_eq!(h100["rental_index"]["fresh"], true, "payment {payment}: {h100}");
        let due = query(&["loan", &loan]);
        assert_eq!(due["schedule"]["payments_missed"], 0, "payment {payment}: {due}");
        tx(&borrower_key, &["repay-loan", "--loan-id", &loan]);
        if payment < 3 {
            let after = query(&["loan", &loan]);
            assert_eq!(after["schedule"]["payments_remaining"], 3 - payment, "{after}");
        }
    }
    let repaid = query(&["loan", &loan]);
    assert_eq!(repaid["loan"]["status"], "repaid", "{repaid}");
    assert_eq!(number(&repaid["loan"]["balance"]), 0, "{repaid}");
    let released = query(&["receipt", &receipt]);
    assert_eq!(released["receipt"]["status"], "released", "{released}");
    assert!(released["receipt"]["loan"].is_null(), "{released}");

    // The repaid loan, proven offline against the state root (checked against the block).
    let proof = cli_ok(&["query", "--node", node, "prove-loan", &loan]);
    let parsed: Value = serde_json::from_str(&proof).unwrap();
    assert_eq!(parsed["decoded"]["loan"]["status"], "repaid", "{parsed}");
    let proof_path = dir.path().join("loan-proof.json");
    std::fs::write(&proof_path, &proof).unwrap();
    let proof_path = proof_path.to_str().unwrap();
    let root = parsed["state_root"].as_str().unwrap();
    let verdict = cli_ok(&["verify-proof", "--proof", proof_path, "--state-root", root]);
    assert!(verdict.starts_with("valid"), "{verdict}");
    let verdict = cli_ok(&["verify-proof", "--proof", proof_path, "--node", node]);
    assert!(verdict.starts_with("valid"), "{verdict}");
    // Another root, or a forged leaf, fails.
    let other = format!("0x{}", "44".repeat(32));
    assert!(
        !cli(&["verify-proof", "--proof", proof_path, "--state-root", &other]).status.success()
    );
    let mut forged = parsed.clone();
    let value = forged["value"].as_str().unwrap();
    let flipped = if value.ends_with('0') { "1" } else { "0" };
    forged["value"] = json!(format!("{}{flipped}", &value[..value.len() - 1]));
    std::fs::write(proof_path, forged.to_string()).unwrap();
    assert!(!cli(&["verify-proof", "--proof", proof_path]).status.success());
}

/// A liquidation nobody finishes, with the CLI (issue 11 item 5): the devnet's late loan
/// (loan 2, northwind's silo) is defaulted once its grace is over, northwind forecloses it to
/// the liquidation agent, who never sells. The loan shows its sale deadline; the admin's
/// write-off is refused before it (`sale_deadline_not_passed`); 90 days on, the curator may
/// neither write off nor hand over (`sender_may_not_hand_over_after_sale_deadline`), the admin
/// writes off each receipt and the loan settles.
#[test]
fn a_liquidation_nobody_finishes_is_written_off_by_the_admin_after_its_sale_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let net = devnet(&dir.path().join("data"));
    let node = net.url.as_str();
    let keys = dir.path().join("data/keys");
    let key = |actor: Actor| actor.keystore(&keys);
    let tx = |actor: Actor, action: &[&str]| {
        let keystore = key(actor);
        let mut args = vec!["tx", "--node", node, "--keystore", keystore.as_str()];
        args.extend_from_slice(action);
        cli(&args)
    };
    let query = |what: &[&str]| -> Value {
        let mut args = vec!["query", "--node", node];
        args.extend_from_slice(what);
        serde_json::from_str(&cli_ok(&args)).unwrap()
    };
    let client = Client::new(node);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let advance = |secs: u64| {
        let moved =
            rt.block_on(client.post("/v1/devnet/advance-time", &json!({"seconds": secs}))).unwrap();
        assert_eq!(moved.status, 200, "{}", moved.body);
    };
    let loan = "2";
    // Past its grace: anyone defaults it (the keeper may send it first: then this one is
    // refused), so wait for the committed state to show it defaulted.
    advance(30 * DAY);
    let _ = tx(Actor::Alice, &["trigger-default", "--loan-id", loan]);
    let defaulted = (0..1_200).any(|_| {
        let status = query(&["loan", loan])["loan"]["status"].clone();
        status == "defaulted" || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            false
        }
    });
    assert!(defaulted, "{}", query(&["loan", loan]));
    let agent = Actor::Liquidator.address().to_string();
    let foreclosed =
        tx(Actor::Curator, &["foreclose-loan", "--loan-id", loan, "--liquidation-agent", &agent]);
    assert!(foreclosed.status.success(), "{}", String::from_utf8_lossy(&foreclosed.stderr));
    let detail = query(&["loan", loan]);
    let deadline = detail["sale_deadline_at"].as_u64().unwrap();
    let now = query(&["status"])["timestamp"].as_u64().unwrap();
    assert!(deadline > now + 89 * DAY && deadline <= now + 90 * DAY, "{detail}");
    let receipts: Vec<String> =
        detail["loan"]["receipts"].as_array().unwrap().iter().map(|id| id.to_string()).collect();
    assert!(!receipts.is_empty(), "{detail}");
    let early = tx(Actor::Admin, &["write-off-receipt", "--receipt-id", &receipts[0]]);
    assert!(!early.status.success());
    let refusal = String::from_utf8_lossy(&early.stderr);
    assert!(refusal.contains("sale_deadline_not_passed"), "{refusal}");

    advance(90 * DAY);
    let by_curator = tx(Actor::Curator, &["write-off-receipt", "--receipt-id", &receipts[0]]);
    assert!(!by_curator.status.success(), "only the admin writes off");
    // Nor may the curator restart the clock by handing the receipts to another agent.
    let hand_over =
        tx(Actor::Curator, &["foreclose-loan", "--loan-id", loan, "--liquidation-agent", &agent]);
    assert!(!hand_over.status.success(), "only the admin hands over after the deadline");
    let refusal = String::from_utf8_lossy(&hand_over.stderr);
    assert!(refusal.contains("sender_may_not_hand_over_after_sale_deadline"), "{refusal}");
    assert!(refusal.contains("839"), "{refusal}");
    assert_eq!(query(&["loan", loan])["sale_deadline_at"].as_u64(), Some(deadline));
    for receipt in &receipts {
        let written_off = tx(Actor::Admin, &["write-off-receipt", "--receipt-id", receipt]);
        assert!(written_off.status.success(), "{}", String::from_utf8_lossy(&written_off.stderr));
        assert_eq!(query(&["receipt", receipt])["receipt"]["status"], "written_off");
    }
    let settled = query(&["loan", loan]);
    assert_eq!(settled["loan"]["status"], "settled", "{settled}");
    assert_eq!(number(&settled["loan"]["balance"]), 0, "{settled}");
}
