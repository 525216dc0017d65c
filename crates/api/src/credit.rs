//! Credit and QEV reads: silos, loans with their schedules, receipts with insurance and
//! valuations, servicing rounds, listings, the vault's phase mix, and their proofs. Same
//! boundary as `handlers`: values parsed by hand, one committed snapshot per read, DTOs out.

use crate::{
    ApiError, ApiPath, AppState,
    dto::*,
    handlers::{
        self, LISTING_VISITS_MAX, PAGE_MAX, filtered_page, limit, parse_address, parse_u64, proof,
        query,
    },
};
use axum::{
    Json,
    extract::{RawQuery, State},
};
use infrafi_core::{
    Amount, LoanId, ReceiptId, SiloId,
    leaves::{encode_value, table_leaf_key},
    loans::{self, Loan, LoanStatus, LoansState},
    math::{BPS_DENOMINATOR, Overflow, Rounding, SECONDS_PER_YEAR, WAD, mul_div},
    receipts::{self, ReceiptsState},
    schedule,
    silos::{Silo, SilosState},
    vault,
};
use infrafi_node::Snapshot;
use std::collections::BTreeMap;

mod collateral;
mod redemptions;

pub(crate) use collateral::{asset_classes, receipt, receipt_dto, receipts};
pub(crate) use redemptions::{
    EstimateBasis, estimate_basis, listings, qev_estimate, qev_position, rounds,
};

fn text<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn amount(amount: Amount) -> String {
    amount.0.to_string()
}

pub(crate) fn silo_dto(snapshot: &Snapshot, silo: &Silo) -> SiloDto {
    let bps = snapshot.state.governance.params.get().min_first_loss_bps;
    SiloDto {
        id: silo.id.0,
        curator: silo.curator,
        capital_owner: infrafi_core::silos::capital_owner(&snapshot.state, silo),
        eligible_classes: silo.terms.eligible_classes.iter().map(ToString::to_string).collect(),
        max_initial_ltv_bps: silo.terms.max_initial_ltv_bps.0,
        margin_call_ltv_bps: silo.terms.margin_call_ltv_bps.0,
        max_borrower_share_bps: silo.terms.max_borrower_share_bps.0,
        curator_fee_bps: silo.terms.curator_fee_bps.0,
        senior_cap: amount(silo.senior_cap),
        frozen: silo.frozen,
        pool_balance: amount(silo.pool_balance),
        senior_outstanding: amount(silo.senior_outstanding),
        junior_outstanding: amount(silo.junior_outstanding),
        first_loss_capital: amount(silo.first_loss_capital()),
        first_loss_requirement: amount(silo.first_loss_requirement(bps)),
        loans_outstanding: silo.loans_outstanding,
        losses_absorbed: amount(silo.losses_absorbed),
        impairment: amount(silo.impairment),
    }
}

fn silo_id(text: &str) -> Result<SiloId, ApiError> {
    parse_u64(text, "silo_id").map(SiloId)
}

fn loan_id(text: &str) -> Result<LoanId, ApiError> {
    parse_u64(text, "loan_id").map(LoanId)
}

fn receipt_id(text: &str) -> Result<ReceiptId, ApiError> {
    parse_u64(text, "receipt_id").map(ReceiptId)
}

pub(crate) async fn silos(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SilosDto>, ApiError> {
    let query = query(raw, &["limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    let silos = snapshot
        .state
        .silos
        .silos
        .iter()
        .take(limit)
        .map(|(_, s)| silo_dto(&snapshot, s))
        .collect();
    Ok(Json(SilosDto { height: snapshot.header.height, silos }))
}

pub(crate) async fn silo(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SiloDetailDto>, ApiError> {
    let id = silo_id(&id)?;
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let silo = state
        .silos
        .silos
        .get(&id)
        .ok_or_else(|| ApiError::not_found("silo_not_found", format!("no silo {id}")))?;
    // From the loans' index: the cost follows this silo's open loans, not every open loan.
    let open_loans =
        state.loans.loans.index().open_in(id).map(|loan| loan.0).take(PAGE_MAX).collect();
    let impaired_loans = state
        .loans
        .impaired
        .range((id, LoanId(0))..=(id, LoanId(u64::MAX)))
        .map(|((_, loan), _)| loan.0)
        .take(PAGE_MAX)
        .collect();
    Ok(Json(SiloDetailDto {
        height: snapshot.header.height,
        silo: silo_dto(&snapshot, silo),
        open_loans,
        impaired_loans,
    }))
}

pub(crate) fn loan_dto(loan: &Loan) -> LoanDto {
    let tranche = |t: &loans::Tranche| TrancheDto {
        funded: amount(t.funded),
        principal: amount(t.principal),
        apr_bps: t.rate.to_apr_bps(),
    };
    LoanDto {
        id: loan.id.0,
        silo: loan.silo.0,
        borrower: loan.borrower,
        status: text(loan.status),
        receipts: loan.receipts.iter().map(|r| r.0).collect(),
        senior: tranche(&loan.senior),
        junior: tranche(&loan.junior),
        balance: amount(loan.balance),
        apr_bps: loan.rate.to_apr_bps(),
        model: text(loan.model),
        periods: loan.periods,
        periods_remaining: loan.periods_remaining,
        interval_secs: loan.interval_secs,
        grace_period_secs: loan.grace_period_secs,
        originated_at: loan.originated_at,
        next_due_at: loan.next_due_at,
        expires_at: loan.expires_at,
        margin_call: loan.margin_call.map(|call| CureWindowDto {
            opened_at: call.opened_at,
            cure_deadline_at: call.cure_deadline_at,
            reason: text(call.reason),
        }),
        mark: loan.mark.map(|mark| MarkDto {
            at: mark.at,
            collateral_value: amount(mark.collateral_value),
            ltv_bps: mark.ltv_bps.to_string(),
        }),
        defaulted_at: loan.defaulted_at,
        interest_paid: amount(loan.interest_paid),
        principal_paid: amount(loan.principal_paid),
        breached: loan.is_breached(),
        breach: loan.breach.map(|breach| CureWindowDto {
            opened_at: breach.opened_at,
            cure_deadline_at: breach.cure_deadline_at,
            reason: text(breach.reason),
        }),
        debt_service_reserve: DebtServiceReserveDto {
            periods: loan.covenants.debt_service_reserve_periods,
            required: amount(loan.reserve.required),
            balance: amount(loan.reserve.balance),
            drawn_total: amount(loan.reserve.drawn_total),
        },
        report_interval_secs: loan.covenants.report_interval_secs,
        last_report: loan.last_report.map(|report| BorrowerReportDto {
            at: report.at,
            document_hash: report.document_hash.to_string(),
        }),
        report_due_at: loans::report_due_at(loan),
    }
}

fn parse_status(text: &str) -> Result<LoanStatus, ApiError> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|_| {
        ApiError::bad_request(
            "status_invalid",
            format!("`{text}` is not a loan status (proposed, active, repaid, defaulted, settled, cancelled)"),
        )
    })
}

pub(crate) async fn loans(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LoansDto>, ApiError> {
    let query = query(raw, &["silo", "borrower", "status", "limit", "after"])?;
    let limit = limit(&query)?;
    let silo = query.get("silo").map(|s| silo_id(s)).transpose()?;
    let borrower = query.get("borrower").map(|a| parse_address(a)).transpose()?;
    let status = query.get("status").map(|s| parse_status(s)).transpose()?;
    let after = query.get("after").map(|a| parse_u64(a, "after")).transpose()?;
    let snapshot = app.node.snapshot();
    let start = after.map_or(LoanId(0), |a| LoanId(a.saturating_add(1)));
    let table = &snapshot.state.loans.loans;
    let index = table.index();
    // The cost follows the answer where an index gives the candidates: a borrower's loans, a
    // silo's open loans (active or defaulted), the loans in recovery (every defaulted loan);
    // any other filter walks the table from `after`, at most `LISTING_VISITS_MAX` loans.
    let open = matches!(status, Some(LoanStatus::Active | LoanStatus::Defaulted));
    let candidates: Box<dyn Iterator<Item = LoanId>> = match (borrower, silo) {
        (Some(b), _) => Box::new(index.by_borrower().keys_of_from(b, &start).copied()),
        (None, Some(s)) if open => Box::new(index.open_in_from(s, start)),
        (None, None) if status == Some(LoanStatus::Defaulted) => {
            Box::new(index.in_recovery_from(start))
        }
        _ => Box::new(table.range(start..).map(|(id, _)| *id)),
    };
    let (page, next_after) = filtered_page(
        candidates.filter_map(|id| table.get(&id)),
        |loan| loan.id.0,
        |loan| {
            silo.is_none_or(|s| loan.silo == s)
                && borrower.is_none_or(|b| loan.borrower == b)
                && status.is_none_or(|s| loan.status == s)
        },
        limit,
        LISTING_VISITS_MAX,
    );
    let loans: Vec<LoanDto> = page.into_iter().map(loan_dto).collect();
    Ok(Json(LoansDto { height: snapshot.header.height, loans, next_after }))
}

fn overflow(_: infrafi_core::math::Overflow) -> ApiError {
    ApiError::internal("arithmetic overflow computing a loan schedule")
}

fn schedule_dto(loan: &Loan, now: u64) -> Result<LoanScheduleDto, ApiError> {
    let due = loans::payment_due(loan, now).map_err(overflow)?;
    let rows = schedule::schedule(
        loan.model,
        loan.balance,
        loan.rate,
        loan.interval_secs,
        loan.periods_remaining.max(1),
    )
    .map_err(overflow)?;
    let remaining = rows
        .iter()
        .map(|row| ScheduledPaymentDto {
            due_at: loan
                .next_due_at
                .saturating_add(u64::from(row.period - 1).saturating_mul(loan.interval_secs)),
            interest: amount(row.interest),
            principal: amount(row.principal),
            payment: amount(row.payment),
            closing_balance: amount(row.closing_balance),
        })
        .collect();
    Ok(LoanScheduleDto {
        next_payment_due_at: loan.next_due_at,
        payment_due_now: PaymentDueDto {
            installments: due.installments,
            interest: amount(due.interest),
            principal: amount(due.principal),
            grace_interest: amount(due.grace_interest),
            exit_fee: amount(due.exit_fee),
            total: amount(due.total().map_err(overflow)?),
        },
        payments_remaining: loan.periods_remaining,
        payments_missed: loan.missed_periods(now),
        default_due: loan.is_default_due(now),
        remaining,
    })
}

pub(crate) async fn loan(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<LoanDetailDto>, ApiError> {
    let id = loan_id(&id)?;
    let snapshot = app.node.snapshot();
    let loan = snapshot
        .state
        .loans
        .loans
        .get(&id)
        .ok_or_else(|| ApiError::not_found("loan_not_found", format!("no loan {id}")))?;
    Ok(Json(loan_detail(&snapshot.state, snapshot.header.height, loan)?))
}

/// A loan with its schedule while active, or the schedule it would run on if accepted now
/// while proposed, in `state` (after block `height`).
pub(crate) fn loan_detail(
    state: &infrafi_core::State,
    height: u64,
    loan: &Loan,
) -> Result<LoanDetailDto, ApiError> {
    let now = state.now();
    let schedule = match loan.status {
        LoanStatus::Active => Some(schedule_dto(loan, now)?),
        _ => None,
    };
    let proposed_schedule = match loan.status {
        LoanStatus::Proposed => Some(proposed_schedule(loan, now)?),
        _ => None,
    };
    let held_sales = loan
        .receipts
        .iter()
        .filter_map(|id| state.loans.held_sales.get(id).map(|held| (id, held)))
        .map(|(id, held)| HeldSaleDto {
            receipt_id: id.0,
            agent: held.agent,
            held_at: held.held_at,
            gross_proceeds: amount(held.report.gross_proceeds),
            itad_commission: amount(held.report.itad_commission),
            legal_costs: amount(held.report.legal_costs),
            logistics_costs: amount(held.report.logistics_costs),
            data_destruction_costs: amount(held.report.data_destruction_costs),
        })
        .collect();
    Ok(LoanDetailDto {
        height,
        loan: loan_dto(loan),
        schedule,
        proposed_schedule,
        liquidation_agent: loan.liquidation_agent,
        sale_deadline_at: loan.sale_deadline_at,
        held_sales,
        recovery: recovery_dto(loan).map_err(overflow)?,
        residual_claims: loan
            .receipts
            .iter()
            .filter_map(|id| state.loans.residual_claims.get(id).map(|claim| (id, claim)))
            .map(|(id, claim)| ResidualClaimDto {
                receipt_id: id.0,
                insurer: claim.insurer,
                floor_value: amount(claim.floor_value),
                net_proceeds: amount(claim.net_proceeds),
                amount: amount(claim.amount),
                booked_at: claim.booked_at,
                overdue_at: claim.booked_at.saturating_add(loans::RESIDUAL_CLAIM_PERIOD_SECS),
            })
            .collect(),
    })
}

/// `part` over `whole` in basis points, rounded down; none when `whole` is zero.
fn rate_bps(part: Amount, whole: Amount) -> Option<u64> {
    (!whole.is_zero())
        .then(|| mul_div(part.0, BPS_DENOMINATOR, whole.0, Rounding::Down).ok())
        .flatten()
        .and_then(|bps| u64::try_from(bps).ok())
}

/// A defaulted or settled loan's recovery ledger; none for other loans (or a settled loan
/// that was repaid: it never defaulted).
fn recovery_dto(loan: &Loan) -> Result<Option<RecoveryDto>, Overflow> {
    if loan.defaulted_at.is_none() {
        return Ok(None);
    }
    let r = &loan.recovery;
    let net = r.gross.checked_sub(r.costs)?;
    let deficiency = r.senior_loss.checked_add(r.junior_loss)?;
    Ok(Some(RecoveryDto {
        exposure_at_default: amount(r.exposure_at_default),
        gross: amount(r.gross),
        costs: amount(r.costs),
        itad_commission: amount(r.itad_commission),
        legal_costs: amount(r.legal_costs),
        logistics_costs: amount(r.logistics_costs),
        data_destruction_costs: amount(r.data_destruction_costs),
        net: amount(net),
        liquidation_fees: amount(r.liquidation_fees),
        to_senior: amount(r.to_senior),
        to_junior: amount(r.to_junior),
        to_borrower: amount(r.to_borrower),
        insurance_paid: amount(r.insurance_paid),
        residual_owed: amount(r.residual_owed),
        insurance_unpaid: amount(r.insurance_unpaid),
        first_loss_cover: amount(r.first_loss_cover),
        senior_loss: amount(r.senior_loss),
        junior_loss: amount(r.junior_loss),
        deficiency: amount(deficiency),
        recovery_rate_bps: rate_bps(net, r.exposure_at_default),
        receipts_written_off: r.receipts_written_off,
        settled: loan.status == LoanStatus::Settled,
    }))
}

/// The class a defaulted loan's recoveries count under: the class of the largest share of its
/// receipts' latest appraisals (ties: the first in class order).
fn dominant_class(state: &infrafi_core::State, loan: &Loan) -> Option<String> {
    let mut by_class: BTreeMap<String, u128> = BTreeMap::new();
    for id in &loan.receipts {
        let Some(receipt) = state.receipts.receipts.get(id) else { continue };
        let value = receipt.valuation.as_ref().map_or(0, |v| v.value.0);
        let entry = by_class.entry(receipt.class.to_string()).or_insert(0);
        *entry = entry.saturating_add(value);
    }
    let largest = by_class.values().copied().max()?;
    by_class.into_iter().find(|(_, value)| *value == largest).map(|(class, _)| class)
}

/// `GET /v1/recoveries`: the recovery rate per asset class over every defaulted loan, read
/// from the loans' index of loans in recovery (the cost follows the defaults, not the book).
pub(crate) async fn recoveries(
    State(app): State<AppState>,
) -> Result<Json<RecoveriesDto>, ApiError> {
    #[derive(Default)]
    struct Sums {
        loans: u64,
        settled: u64,
        exposure: Amount,
        gross: Amount,
        costs: Amount,
        insurance_paid: Amount,
        deficiency: Amount,
        receipts_written_off: u64,
        settled_exposure: Amount,
        settled_net: Amount,
    }
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let mut classes: BTreeMap<String, Sums> = BTreeMap::new();
    let loans = &state.loans.loans;
    for loan in loans.index().in_recovery().filter_map(|id| loans.get(&id)) {
        let Some(class) = dominant_class(state, loan) else { continue };
        let r = &loan.recovery;
        let sums = classes.entry(class).or_default();
        let add = |a: Amount, b: Amount| a.checked_add(b).map_err(overflow);
        sums.loans += 1;
        sums.exposure = add(sums.exposure, r.exposure_at_default)?;
        sums.gross = add(sums.gross, r.gross)?;
        sums.costs = add(sums.costs, r.costs)?;
        sums.insurance_paid = add(sums.insurance_paid, r.insurance_paid)?;
        sums.deficiency = add(add(sums.deficiency, r.senior_loss)?, r.junior_loss)?;
        sums.receipts_written_off =
            sums.receipts_written_off.saturating_add(r.receipts_written_off);
        if loan.status == LoanStatus::Settled {
            sums.settled += 1;
            sums.settled_exposure = add(sums.settled_exposure, r.exposure_at_default)?;
            let net = r.gross.checked_sub(r.costs).map_err(overflow)?;
            sums.settled_net = add(sums.settled_net, net)?;
        }
    }
    let classes = classes
        .into_iter()
        .map(|(class, s)| {
            let net = s.gross.checked_sub(s.costs).map_err(overflow)?;
            Ok(ClassRecoveryDto {
                class,
                loans: s.loans,
                settled: s.settled,
                exposure_at_default: amount(s.exposure),
                gross: amount(s.gross),
                costs: amount(s.costs),
                net: amount(net),
                insurance_paid: amount(s.insurance_paid),
                deficiency: amount(s.deficiency),
                receipts_written_off: s.receipts_written_off,
                recovery_rate_bps: rate_bps(net, s.exposure),
                settled_recovery_rate_bps: rate_bps(s.settled_net, s.settled_exposure),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(RecoveriesDto { height: snapshot.header.height, classes }))
}

/// A proposal's payments if it were accepted at `now`: its principal (both tranches) over its
/// periods at its blended rate, the first deadline one interval after `now`.
fn proposed_schedule(loan: &Loan, now: u64) -> Result<Vec<ScheduledPaymentDto>, ApiError> {
    let principal = loan.senior.funded.checked_add(loan.junior.funded).map_err(overflow)?;
    let rows = schedule::schedule(
        loan.model,
        principal,
        loan.rate,
        loan.interval_secs,
        loan.periods.max(1),
    )
    .map_err(overflow)?;
    Ok(rows
        .iter()
        .map(|row| ScheduledPaymentDto {
            due_at: now.saturating_add(u64::from(row.period).saturating_mul(loan.interval_secs)),
            interest: amount(row.interest),
            principal: amount(row.principal),
            payment: amount(row.payment),
            closing_balance: amount(row.closing_balance),
        })
        .collect())
}

/// The vault's phase mix. O(open loans x receipts per loan), both bounded.
pub(crate) fn phase_mix(snapshot: &Snapshot) -> PhaseMixDto {
    let state = &snapshot.state;
    let now = state.now();
    let nav = vault::nav(state);
    let idle = nav.unallocated.0;
    let deployed = nav.senior_principal.0;
    let by_silo = state
        .silos
        .silos
        .iter()
        .filter(|(_, s)| !s.senior_outstanding.is_zero())
        .map(|(id, s)| DeployedDto {
            key: id.to_string(),
            senior_principal: amount(s.senior_outstanding),
        })
        .collect();
    let mut by_class = BTreeMap::<String, u128>::new();
    // Senior principal x per-second rate, summed: the senior book's income per second (WAD).
    let mut senior_income_wad = 0u128;
    for (id, ()) in state.loans.open.iter() {
        let Some(loan) = state.loans.loans.get(id) else { continue };
        senior_income_wad = senior_income_wad
            .saturating_add(loan.senior.principal.0.saturating_mul(loan.senior.rate.0) / WAD);
        let values: Vec<(String, u128)> = loan
            .receipts
            .iter()
            .filter_map(|r| state.receipts.receipts.get(r))
            .map(|r| (r.class.to_string(), receipts::value_for_ltv(state, r, now).0.max(1)))
            .collect();
        let total: u128 = values.iter().map(|(_, v)| *v).fold(0, u128::saturating_add);
        for (class, value) in values {
            let share = infrafi_core::math::mul_div(
                loan.senior.principal.0,
                value,
                total.max(1),
                infrafi_core::Rounding::Down,
            )
            .unwrap_or(0);
            *by_class.entry(class).or_default() += share;
        }
    }
    let by_asset_class = by_class
        .into_iter()
        .map(|(key, v)| DeployedDto { key, senior_principal: v.to_string() })
        .collect();
    let tbill_rate = state.reserve.tbill.get().rate_per_second.0;
    let idle_income_wad = idle.saturating_mul(tbill_rate) / WAD;
    let total = idle.saturating_add(deployed);
    let per_year = u128::from(SECONDS_PER_YEAR) * BPS_DENOMINATOR;
    let blended_apy_bps = senior_income_wad
        .saturating_add(idle_income_wad)
        .saturating_mul(per_year)
        .checked_div(total)
        .unwrap_or(0);
    PhaseMixDto {
        idle: idle.to_string(),
        deployed: deployed.to_string(),
        deployed_bps: deployed.saturating_mul(BPS_DENOMINATOR).checked_div(total).unwrap_or(0),
        by_silo,
        by_asset_class,
        blended_apy_bps,
    }
}

pub(crate) async fn prove_loan(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProofDto>, ApiError> {
    let id = loan_id(&id)?;
    let snapshot = handlers::proven(&app);
    let key = table_leaf_key(LoansState::PATHS.loans, &id);
    let loan = snapshot.state.loans.loans.get(&id);
    let decoded = serde_json::json!({"table": LoansState::PATHS.loans, "loan": loan.map(loan_dto)});
    Ok(proof(&snapshot, key, loan.map(encode_value), decoded))
}

pub(crate) async fn prove_receipt(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProofDto>, ApiError> {
    let id = receipt_id(&id)?;
    let snapshot = handlers::proven(&app);
    let key = table_leaf_key(ReceiptsState::PATHS.receipts, &id);
    let receipt = snapshot.state.receipts.receipts.get(&id);
    let decoded = serde_json::json!({"table": ReceiptsState::PATHS.receipts, "receipt": receipt.map(receipt_dto)});
    Ok(proof(&snapshot, key, receipt.map(encode_value), decoded))
}

pub(crate) async fn prove_silo(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProofDto>, ApiError> {
    let id = silo_id(&id)?;
    let snapshot = handlers::proven(&app);
    let key = table_leaf_key(SilosState::PATHS.silos, &id);
    let silo = snapshot.state.silos.silos.get(&id);
    let decoded = serde_json::json!({
        "table": SilosState::PATHS.silos,
        "silo": silo.map(|s| silo_dto(&snapshot, s)),
    });
    Ok(proof(&snapshot, key, silo.map(encode_value), decoded))
}
