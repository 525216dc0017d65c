//! The state's leaf schema and its encoding are pinned to `STATE_FORMAT`: a renamed, moved,
//! added or removed table or slot changes Merkle keys and stored data, so it must fail here
//! and come with a new format (and this test's new pins), never move keys silently.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use infrafi_core::{
    Genesis, STATE_FORMAT, State, governance::GovernanceState, ids::Address, leaves::LeafKind,
    ledger::LedgerState, loans::LoansState, points::PointsState, queue::QueueState,
    receipts::ReceiptsState, reserve::ReserveState, silos::SilosState, vault::VaultState,
};

/// Every table and slot of the state at format 18, in encoding order (formats 8 to 11 changed
/// the receipts' error shape, replay semantics and transaction JSON, not the state; 12 added
/// `reserve.flows`, `reserve.account_flows` and three parameters; 13 `loans.held_sales`; 14 `reserve.queued_deposits` and
/// `reserve.next_queued_deposit_id`; 15 `receipts.presence`; 16 no leaf: a loan's
/// `sale_deadline_at` and the receipts' `WrittenOff` status change existing leaves; 17
/// `loans.residual_claims`; 18
/// `receipts.income_terms` and `receipts.rental_indices`).
const SCHEMA_AT_FORMAT_18: &[&str] = &[
    "slot clock",
    "table ledger.holdings",
    "table ledger.balances",
    "table ledger.supply",
    "table ledger.frozen",
    "table ledger.kyc_verified",
    "table ledger.nonces",
    "slot governance.params",
    "table governance.roles",
    "table governance.pending_changes",
    "slot governance.next_change_sequence",
    "slot governance.pause",
    "table reserve.stablecoins",
    "slot reserve.tbill",
    "table reserve.credited_external_ids",
    "table reserve.confirmed_external_ids",
    "table reserve.payouts",
    "slot reserve.next_payout_id",
    "table reserve.attestations",
    "slot reserve.next_attestation_id",
    "slot reserve.flows",
    "table reserve.account_flows",
    "table reserve.queued_deposits",
    "slot reserve.next_queued_deposit_id",
    "slot vault.globals",
    "table queue.requests",
    "table queue.waiting",
    "table queue.eligible",
    "table queue.active_by_owner",
    "table queue.rounds",
    "slot queue.globals",
    "table queue.eligible_shares.nodes",
    "slot queue.eligible_shares.capacity",
    "table queue.waiting_shares.nodes",
    "slot queue.waiting_shares.capacity",
    "table queue.wait_fee_index.nodes",
    "slot queue.wait_fee_index.capacity",
    "slot queue.qev",
    "slot points.globals",
    "table receipts.classes",
    "table receipts.receipts",
    "slot receipts.next_receipt_id",
    "table receipts.presence",
    "table receipts.income_terms",
    "table receipts.rental_indices",
    "table silos.silos",
    "table silos.borrower_exposure",
    "table silos.capital_owners",
    "slot silos.next_silo_id",
    "table loans.loans",
    "table loans.open",
    "table loans.impaired",
    "table loans.covenants",
    "table loans.held_sales",
    "table loans.residual_claims",
    "slot loans.next_loan_id",
];

/// The hash of the canonical encoding of [`pinned_state`] at format 18.
const GENESIS_HASH_AT_FORMAT_18: &str =
    "0x8111ba14124983b27260ca3d8baf61c79c81b8ab610e671d25b2bebad06829e8";

fn pinned_state() -> State {
    let mut genesis = Genesis::with_admin(Address::repeat_byte(1), 1_000);
    genesis.stablecoin_balances.push((
        Address::repeat_byte(2),
        infrafi_core::ids::USDC,
        infrafi_core::Amount(5),
    ));
    State::from_genesis(&genesis).unwrap()
}

#[test]
fn the_leaf_schema_and_a_golden_state_hash_are_those_of_the_state_format() {
    assert_eq!(STATE_FORMAT, 18, "a new state format pins its schema and hash here");
    let schema: Vec<String> = State::leaf_schema()
        .into_iter()
        .map(|(path, kind)| match kind {
            LeafKind::Table => format!("table {path}"),
            LeafKind::Slot => format!("slot {path}"),
        })
        .collect();
    assert_eq!(schema, SCHEMA_AT_FORMAT_18, "{schema:#?}");
    assert_eq!(pinned_state().state_hash().to_string(), GENESIS_HASH_AT_FORMAT_18);
}

#[test]
fn every_component_path_constant_names_a_table_or_slot_of_the_schema() {
    let schema: Vec<String> = State::leaf_schema().into_iter().map(|(path, _)| path).collect();
    let mut constants: Vec<&str> = Vec::new();
    let ledger = LedgerState::PATHS;
    constants.extend([ledger.holdings, ledger.balances, ledger.supply, ledger.frozen]);
    constants.extend([ledger.kyc_verified, ledger.nonces]);
    let loans = LoansState::PATHS;
    constants.extend([loans.loans, loans.open, loans.impaired, loans.covenants, loans.held_sales]);
    constants.push(loans.residual_claims);
    constants.push(loans.next_loan_id);
    let receipts = ReceiptsState::PATHS;
    constants.extend([receipts.receipts, receipts.presence]);
    let silos = SilosState::PATHS;
    constants.extend([
        silos.silos,
        silos.borrower_exposure,
        silos.capital_owners,
        silos.next_silo_id,
    ]);
    let reserve = ReserveState::PATHS;
    constants.extend([reserve.attestations, reserve.next_attestation_id, reserve.flows]);
    let queue = QueueState::PATHS;
    constants.extend([queue.requests, queue.waiting, queue.eligible, queue.globals, queue.qev]);
    for constant in &constants {
        assert!(schema.iter().any(|path| path == constant), "{constant} is not in the schema");
    }
    // Each component sits at the state field its constants name.
    for (component, path) in [
        (LedgerState::PATH, "ledger"),
        (GovernanceState::PATH, "governance"),
        (ReserveState::PATH, "reserve"),
        (VaultState::PATH, "vault"),
        (QueueState::PATH, "queue"),
        (PointsState::PATH, "points"),
        (ReceiptsState::PATH, "receipts"),
        (SilosState::PATH, "silos"),
        (LoansState::PATH, "loans"),
    ] {
        assert_eq!(component, path);
        let prefix = format!("{path}.");
        assert!(schema.iter().any(|leaf| leaf.starts_with(&prefix)), "{path}");
    }
}
