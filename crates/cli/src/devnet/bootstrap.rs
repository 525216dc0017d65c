//! The devnet's bootstrap stages: the transactions each actor signs to build the demo market
//! (KYC, gateway credit, mints, stakes, silos, receipts, loans, bids, the keeper's upkeep
//! between stages), the reserve attestations before them, the hardware-presence attestations
//! and the liquidation below an insured floor. Pure functions of the stage and the state; the
//! devnet (devnet.rs) submits them to a live node, `demo_market` replays them.

use super::{
    CLASSES, DAY, LIQUIDATED_FLOOR_WHOLE, LIQUIDATED_LOAN, LIQUIDATED_RECEIPT,
    LIQUIDATED_SALE_GROSS_WHOLE, LOANS, MARGIN_CALL_LOAN, MERIDIAN_REPORT_INTERVAL_SECS,
    MERIDIAN_RESERVE_PERIODS, PRESENCE_CLASS, PRESENCE_LAPSED_AFTER_STAGE, PRESENCE_LAPSED_RECEIPT,
    PRESENCE_LIMIT_SECS, RECEIPTS, STAGE_ADVANCE_DAYS, STAGE_ZERO_MINTS_WHOLE, actor, class, whole,
};
use infrafi_core::{
    Action, Amount, AssetClassId, LoanId, ReceiptId, RequestId, SiloId, State, WAD,
    action::{
        AcceptLoan, AddAssetClass, AttachPolicy, CommitSealedBid, DepositFirstLoss, ForecloseLoan,
        GatewayCredit, IssueReceipt, MintUsdai, OpenSilo, PayResidualClaim, PostBorrowerReport,
        PostPresenceAttestation, PostPrice, PostRentalIndex, PostReserveAttestation, PostValuation,
        ProposeLoan, RemarkLoans, RepayLoan, ReportSale, RequestRedeem, SetBid, SetIncomeTerms,
        SetKyc, SetLoanCovenants, SetPresenceLimit, SetResidualFloor, SetSiloSeniorCap, Stake,
        TriggerDefault,
    },
    ids::{B256, USDC, USDT},
    loans::{LoanStatus, LoanTerms, TrancheTerms},
    math::{Bps, Rate},
    receipts::{AssetClassTerms, ReceiptDescription, RecoveryCostModel},
    rental_index::IncomeTerms,
    schedule::InterestModel,
    silos::SiloTerms,
};

/// The treasury's attestation of the reserve at `now`: before the first mints, the reserve
/// the demo's deposits will buy; later, what the T-bills are worth (the ledger's own figure,
/// as an honest custodian's statement would show). Par is 0.5% above the market value, as for
/// bills bought at a discount.
fn reserve_attestation(stage: usize, state: &State) -> Action {
    let market_value = if stage == 0 {
        whole(STAGE_ZERO_MINTS_WHOLE)
    } else {
        infrafi_core::reserve::backing(state).map_or(Amount::ZERO, |backing| backing.reserve_value)
    };
    let par_amount = Amount(market_value.0 + market_value.0 / 200);
    Action::PostReserveAttestation(PostReserveAttestation {
        par_amount,
        market_value,
        as_of: state.now(),
        document_hash: B256::from(alloy_primitives::keccak256(format!(
            "devnet/reserve-statement/{stage}"
        ))),
    })
}

/// The H100 rental index the oracle posts at each bootstrap stage, in cents per GPU-hour: the
/// rent falls from $2.40 to $2.10 over the demo's two months, so by the last stage the income
/// value bounds the H100 receipts below their appraisals (docs/valuation.md).
pub(crate) const H100_RENT_CENTS_BY_STAGE: &[u128] = &[240, 230, 220, 210];

/// The H100 class's income terms, set at `now` in the first stage: 70% utilisation, 40%
/// operating costs, 12% a year, four years of life left; the oracle posts about monthly, so an
/// index counts for 35 days; a day's posts move it at most 25%.
pub(crate) fn h100_income_terms(now: u64) -> IncomeTerms {
    IncomeTerms {
        utilisation_bps: Bps(7_000),
        opex_share_bps: Bps(4_000),
        discount_rate_bps_per_year: Bps(1_200),
        economic_life_ends_at: now + 4 * 365 * DAY,
        index_max_age_secs: 35 * DAY,
        index_max_move_bps: Bps(2_500),
    }
}

fn h100_rental_index(stage: usize) -> Action {
    let cents = H100_RENT_CENTS_BY_STAGE[stage.min(H100_RENT_CENTS_BY_STAGE.len() - 1)];
    Action::PostRentalIndex(PostRentalIndex {
        class: class("gpu.h100-sxm"),
        rent_per_unit_hour: Amount(cents * WAD / 100),
    })
}

fn terms_for(index: usize, borrower: &str, now: u64, first_receipt: u64) -> LoanTerms {
    let (_, _, receipts, senior, junior, _) = LOANS[index];
    // The liquidated loan: weekly payments, two days of grace, so it defaults in the demo.
    let (periods, interval_secs, grace_period_secs) = if index as u64 == LIQUIDATED_LOAN {
        (12, 7 * DAY, 2 * DAY)
    } else {
        (24, 30 * DAY, 15 * DAY)
    };
    LoanTerms {
        borrower: actor(borrower).address(),
        receipts: receipts.iter().map(|r| ReceiptId(first_receipt + r)).collect(),
        senior: TrancheTerms { amount: whole(senior), rate: Rate::from_apr_bps(1_200) },
        junior: TrancheTerms { amount: whole(junior), rate: Rate::from_apr_bps(1_800) },
        model: InterestModel::Amortized,
        periods: Some(periods),
        interval_secs: Some(interval_secs),
        grace_period_secs,
        grace_rate: Rate::from_apr_bps(2_400),
        origination_fee_bps: Bps(100),
        exit_fee_bps: Bps(50),
        expires_at: now + 14 * DAY,
    }
}

fn sealed_bid_salt() -> B256 {
    B256::from(alloy_primitives::keccak256("devnet/sealed-bid/carol"))
}

/// The bootstrap transactions of `stage` against `state` (the committed state before the
/// stage), in order, as (actor, action). Ids of objects made in the same stage are predicted
/// from the state's counters: the stage runs alone, in order.
pub(crate) fn bootstrap(stage: usize, state: &State) -> Vec<(&'static str, Action)> {
    let now = state.now();
    let kyc =
        |name: &str| Action::SetKyc(SetKyc { account: actor(name).address(), verified: true });
    let mint =
        |token, n| Action::MintUsdai(MintUsdai { token, amount: whole(n), min_out: Amount::ZERO });
    let stake = |n| Action::Stake(Stake { assets: whole(n), min_shares: Amount::ZERO });
    let request = |n| Action::RequestRedeem(RequestRedeem { shares: whole(n) });
    let first_receipt = 0;
    let first_loan = 0;
    let first_silo = 0;
    let next_request = state.queue.globals.get().next_request_id;
    let mut txs: Vec<(&'static str, Action)> = vec![
        ("oracle", Action::PostPrice(PostPrice { token: USDC, price_wad: WAD })),
        ("oracle", Action::PostPrice(PostPrice { token: USDT, price_wad: WAD })),
        ("treasury", reserve_attestation(stage, state)),
    ];
    // The monitor's round of the H200 racks (from stage 1: the receipts exist from stage 0's
    // end), and the oracle's H100 rental index, before any loan of the stage is originated.
    if stage > 0 {
        txs.extend(presence_attestations(stage, state));
        txs.push(("oracle", h100_rental_index(stage)));
    }
    let curator_of = |name: &str| if name == "northwind" { first_silo } else { first_silo + 1 };
    let originate = |txs: &mut Vec<(&'static str, Action)>, index: usize, accept: bool| {
        let (curator, borrower, ..) = LOANS[index];
        let silo_id = SiloId(curator_of(curator));
        let terms = terms_for(index, borrower, now, first_receipt);
        txs.push((curator, Action::ProposeLoan(ProposeLoan { silo_id, terms })));
        if accept {
            let loan_id = LoanId(first_loan + index as u64);
            txs.push((borrower, Action::AcceptLoan(AcceptLoan { loan_id })));
        }
    };
    let repay = |txs: &mut Vec<(&'static str, Action)>, index: usize| {
        let loan_id = LoanId(first_loan + index as u64);
        txs.push((
            LOANS[index].1,
            Action::RepayLoan(RepayLoan { loan_id, max_amount: Amount::MAX }),
        ));
    };
    match stage {
        0 => {
            for name in
                ["alice", "bob", "carol", "erin", "northwind", "meridian", "insurer", "liquidator"]
            {
                txs.push(("kyc", kyc(name)));
            }
            for name in ["op_atlas", "op_boreal", "op_cirrus", "op_delta"] {
                txs.push(("kyc", kyc(name)));
            }
            txs.push((
                "attestor",
                Action::GatewayCredit(GatewayCredit {
                    account: actor("dave").address(),
                    token: USDC,
                    amount: whole(5_000),
                    external_id: B256::from(alloy_primitives::keccak256("devnet/deposit/1")),
                }),
            ));
            txs.extend([
                ("alice", mint(USDC, 2_500_000)),
                ("alice", stake(2_000_000)),
                ("bob", mint(USDT, 1_000_000)),
                ("bob", stake(800_000)),
                ("bob", request(100_000)),
                ("carol", mint(USDC, 500_000)),
                ("carol", stake(400_000)),
                ("carol", request(40_000)),
                ("erin", mint(USDC, 300_000)),
                ("erin", stake(200_000)),
            ]);
            for name in ["northwind", "meridian"] {
                txs.push((name, mint(USDC, 500_000)));
            }
            for name in ["op_atlas", "op_boreal", "op_cirrus", "op_delta", "insurer", "liquidator"]
            {
                txs.push((name, mint(USDC, 100_000)));
            }
            for &(id, price, depreciation) in CLASSES {
                let terms = AssetClassTerms {
                    new_price_per_unit: whole(price),
                    annual_depreciation_bps: Bps(depreciation),
                    floor_bps: Bps(1_000),
                    recovery: RecoveryCostModel {
                        itad_commission_bps: Bps(3_000),
                        legal_cost_per_unit: whole(100),
                        logistics_cost_per_unit: whole(200),
                        data_destruction_cost_per_unit: whole(50),
                        condition_haircut_bps: Bps(1_000),
                    },
                };
                txs.push((
                    "admin",
                    Action::AddAssetClass(AddAssetClass { class: class(id), terms }),
                ));
            }
            // The H100 class is also valued by its rental index (issue 16).
            let terms = h100_income_terms(now);
            txs.push((
                "admin",
                Action::SetIncomeTerms(SetIncomeTerms { class: class("gpu.h100-sxm"), terms }),
            ));
            txs.push(("oracle", h100_rental_index(stage)));
            let silo = |classes: &[&str], fee| SiloTerms {
                eligible_classes: {
                    let mut c: Vec<AssetClassId> = classes.iter().map(|c| class(c)).collect();
                    c.sort();
                    c
                },
                max_initial_ltv_bps: Bps(7_500),
                margin_call_ltv_bps: Bps(8_500),
                max_borrower_share_bps: Bps(10_000),
                curator_fee_bps: Bps(fee),
            };
            txs.push((
                "northwind",
                Action::OpenSilo(OpenSilo { terms: silo(&["gpu.a100", "gpu.h100-sxm"], 1_000) }),
            ));
            txs.push((
                "meridian",
                Action::OpenSilo(OpenSilo { terms: silo(&["gpu.h100-sxm", "gpu.h200"], 800) }),
            ));
            txs.push((
                "meridian",
                Action::SetLoanCovenants(SetLoanCovenants {
                    silo_id: SiloId(first_silo + 1),
                    debt_service_reserve_periods: MERIDIAN_RESERVE_PERIODS,
                    report_interval_secs: MERIDIAN_REPORT_INTERVAL_SECS,
                }),
            ));
            for (offset, name) in ["northwind", "meridian"].iter().enumerate() {
                let silo_id = SiloId(first_silo + offset as u64);
                txs.push((
                    name,
                    Action::DepositFirstLoss(DepositFirstLoss { silo_id, amount: whole(250_000) }),
                ));
                txs.push((
                    "admin",
                    Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id, cap: whole(1_800_000) }),
                ));
            }
            for (index, &(class_id, quantity, custodian, owner, value)) in
                RECEIPTS.iter().enumerate()
            {
                let receipt_id = ReceiptId(first_receipt + index as u64);
                let tag = format!("devnet/receipt/{index}");
                let description = ReceiptDescription {
                    quantity,
                    serials_hash: B256::from(alloy_primitives::keccak256(format!("{tag}/serials"))),
                    facility: if custodian == "vault_reno" {
                        "Reno NV DC-2"
                    } else {
                        "Dallas TX DC-7"
                    }
                    .into(),
                    jurisdiction: if custodian == "vault_reno" { "US-NV" } else { "US-TX" }.into(),
                    bailment_hash: B256::from(alloy_primitives::keccak256(format!(
                        "{tag}/bailment"
                    ))),
                };
                txs.push((
                    custodian,
                    Action::IssueReceipt(IssueReceipt {
                        class: class(class_id),
                        owner: actor(owner).address(),
                        description,
                    }),
                ));
                txs.push((
                    "insurer",
                    Action::AttachPolicy(AttachPolicy {
                        receipt_id,
                        policy_id: B256::from(alloy_primitives::keccak256(format!("{tag}/policy"))),
                        coverage: whole(value),
                        expires_at: now + 2 * 365 * DAY,
                    }),
                ));
                txs.push((
                    "appraiser",
                    Action::PostValuation(PostValuation { receipt_id, value: whole(value) }),
                ));
            }
            // The insurer insures a residual-value floor on the liquidated loan's receipt.
            txs.push((
                "insurer",
                Action::SetResidualFloor(SetResidualFloor {
                    receipt_id: ReceiptId(first_receipt + LIQUIDATED_RECEIPT),
                    floor_value: whole(LIQUIDATED_FLOOR_WHOLE),
                }),
            ));
            // Monitoring starts after the governance delay; the first round comes with it.
            txs.push((
                "admin",
                Action::SetPresenceLimit(SetPresenceLimit {
                    class: class(PRESENCE_CLASS),
                    max_age_secs: PRESENCE_LIMIT_SECS,
                }),
            ));
        }
        1 => {
            repay(&mut txs, 0);
            repay(&mut txs, 1);
            // Erin bids to jump the queue with a fresh request.
            txs.push(("erin", request(60_000)));
            txs.push((
                "erin",
                Action::SetBid(SetBid {
                    request_id: RequestId(next_request),
                    price_wad: WAD / 200,
                }),
            ));
        }
        2 => {
            repay(&mut txs, 0);
            repay(&mut txs, 3);
            // Loan 2 is not repaid: it falls late. Loan 1 misses its second payment: its
            // debt-service reserve pays it when the keeper draws it after the deadline.
            // Northwind adds first-loss capital for the junior tranche of the loan it will
            // have to liquidate.
            txs.push((
                "northwind",
                Action::DepositFirstLoss(DepositFirstLoss {
                    silo_id: SiloId(first_silo),
                    amount: whole(100_000),
                }),
            ));
        }
        _ => {
            // The margin call: a lower appraisal of loan 3's largest receipt, then a re-mark.
            txs.push((
                "appraiser",
                Action::PostValuation(PostValuation {
                    receipt_id: ReceiptId(first_receipt + 7),
                    value: whole(240_000),
                }),
            ));
            txs.push((
                "alice",
                Action::RemarkLoans(RemarkLoans {
                    first_loan_id: LoanId(first_loan),
                    max_loans: 100,
                }),
            ));
            // The margin-called loan's borrower posts its quarterly report (meridian's covenant).
            txs.push((
                LOANS[MARGIN_CALL_LOAN as usize].1,
                Action::PostBorrowerReport(PostBorrowerReport {
                    loan_id: LoanId(first_loan + MARGIN_CALL_LOAN),
                    document_hash: B256::from(alloy_primitives::keccak256(
                        "devnet/borrower-report/op_delta/q1",
                    )),
                }),
            ));
            txs.extend(liquidation_below_the_floor(state, first_loan, first_receipt));
            // Queued redemptions: an open bid and a sealed bid waiting.
            let (bob_request, carol_request) = (next_request, next_request + 1);
            txs.push(("bob", request(50_000)));
            txs.push(("carol", request(30_000)));
            txs.push(("alice", request(25_000)));
            txs.push((
                "bob",
                Action::SetBid(SetBid { request_id: RequestId(bob_request), price_wad: WAD / 500 }),
            ));
            let commitment = infrafi_core::qev::sealed_bid_commitment(
                RequestId(carol_request),
                WAD / 250,
                sealed_bid_salt(),
            );
            txs.push((
                "carol",
                Action::CommitSealedBid(CommitSealedBid {
                    request_id: RequestId(carol_request),
                    commitment,
                    deposit: whole(500),
                }),
            ));
        }
    }
    // Loans originate in their stage (after the stage's other actions).
    for (index, loan) in LOANS.iter().enumerate() {
        match loan.5 {
            Some(at) if at == stage => originate(&mut txs, index, true),
            None if stage == STAGE_ADVANCE_DAYS.len() => originate(&mut txs, index, false),
            _ => {}
        }
    }
    txs
}

/// The last stage's liquidation of [`LIQUIDATED_LOAN`]: defaulted (by the keeper after the
/// time step; by northwind here if the keeper has not yet), foreclosed to the liquidation
/// agent, its receipt sold within the class's cost model, the residual claim paid.
fn liquidation_below_the_floor(
    state: &State,
    first_loan: u64,
    first_receipt: u64,
) -> Vec<(&'static str, Action)> {
    let loan_id = LoanId(first_loan + LIQUIDATED_LOAN);
    let receipt_id = ReceiptId(first_receipt + LIQUIDATED_RECEIPT);
    let mut txs = Vec::new();
    let active =
        state.loans.loans.get(&loan_id).is_some_and(|loan| loan.status == LoanStatus::Active);
    if active {
        txs.push(("northwind", Action::TriggerDefault(TriggerDefault { loan_id })));
    }
    let liquidation_agent = actor("liquidator").address();
    txs.push(("northwind", Action::ForecloseLoan(ForecloseLoan { loan_id, liquidation_agent })));
    // The agent reports the costs the class's recovery cost model allows (issue 11).
    let (class_id, quantity, ..) = RECEIPTS[LIQUIDATED_RECEIPT as usize];
    let gross = whole(LIQUIDATED_SALE_GROSS_WHOLE);
    let Some(report) = state.receipts.classes.get(&class(class_id)).and_then(|c| {
        infrafi_core::loans::sale_cost_bounds(&c.terms.recovery, gross, quantity).ok()
    }) else {
        unreachable!("stage 0 registered {class_id}")
    };
    txs.push(("liquidator", Action::ReportSale(ReportSale { receipt_id, report })));
    txs.push(("insurer", Action::PayResidualClaim(PayResidualClaim { receipt_id })));
    txs
}

/// The monitor's attestations of `stage`: every unit of each H200 receipt seen at its
/// facility now, except the lapsed receipt after [`PRESENCE_LAPSED_AFTER_STAGE`].
fn presence_attestations(stage: usize, state: &State) -> Vec<(&'static str, Action)> {
    let now = state.now();
    let monitored = class(PRESENCE_CLASS);
    state
        .receipts
        .receipts
        .iter()
        .filter(|(id, receipt)| {
            receipt.class == monitored
                && (id.0 != PRESENCE_LAPSED_RECEIPT || stage <= PRESENCE_LAPSED_AFTER_STAGE)
        })
        .map(|(id, receipt)| {
            let description = &receipt.description;
            let action = Action::PostPresenceAttestation(PostPresenceAttestation {
                receipt_id: *id,
                units_seen: description.quantity,
                serials_hash: description.serials_hash,
                facility: description.facility.clone(),
                uptime_bps: Bps(9_900 - 100 * (id.0 % 3) as u32),
                as_of: now,
            });
            ("monitor", action)
        })
        .collect()
}
