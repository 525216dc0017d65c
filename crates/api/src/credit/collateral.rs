//! Receipt reads: receipts with their insurance, valuation, income value and hardware
//! presence, and the asset classes with their rental-index marks. Same boundary as the rest of
//! `credit`: values parsed by hand, one committed snapshot per read, DTOs out.

use super::{amount, loan_id, receipt_id, text};
use crate::{
    ApiError, ApiPath, AppState,
    dto::*,
    handlers::{LISTING_VISITS_MAX, filtered_page, limit, parse_address, parse_u64, query},
};
use axum::{
    Json,
    extract::{RawQuery, State},
};
use infrafi_core::{
    AssetClassId, ReceiptId, TxError,
    receipts::{self, Receipt, ReceiptError, ReceiptStatus, presence},
    rental_index,
};

pub(crate) fn receipt_dto(receipt: &Receipt) -> ReceiptDto {
    ReceiptDto {
        id: receipt.id.0,
        class: receipt.class.to_string(),
        custodian: receipt.custodian,
        owner: receipt.owner,
        quantity: receipt.description.quantity,
        facility: receipt.description.facility.clone(),
        jurisdiction: receipt.description.jurisdiction.clone(),
        status: text(receipt.status),
        loan: receipt.loan.map(|l| l.0),
        issued_at: receipt.issued_at,
    }
}

fn parse_receipt_status(text: &str) -> Result<ReceiptStatus, ApiError> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|_| {
        ApiError::bad_request(
            "status_invalid",
            format!("`{text}` is not a receipt status (issued, pledged, released, foreclosed, sold, redeemed, written_off)"),
        )
    })
}

fn parse_class(text: &str) -> Result<AssetClassId, ApiError> {
    AssetClassId::new(text).ok_or_else(|| {
        ApiError::bad_request(
            "class_invalid",
            format!(
                "`{text}` is not an asset class id (1 to {} of a-z, 0-9, `.` and `-`, e.g. gpu.h100-sxm)",
                AssetClassId::LENGTH_MAX
            ),
        )
    })
}

pub(crate) async fn receipts(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ReceiptsDto>, ApiError> {
    let query = query(raw, &["owner", "class", "status", "loan", "limit", "after"])?;
    let limit = limit(&query)?;
    let owner = query.get("owner").map(|a| parse_address(a)).transpose()?;
    let class = query.get("class").map(|c| parse_class(c)).transpose()?;
    let status = query.get("status").map(|s| parse_receipt_status(s)).transpose()?;
    let loan = query.get("loan").map(|l| loan_id(l)).transpose()?;
    let after = query.get("after").map(|a| parse_u64(a, "after")).transpose()?;
    let snapshot = app.node.snapshot();
    let start = after.map_or(ReceiptId(0), |a| ReceiptId(a.saturating_add(1)));
    let table = &snapshot.state.receipts.receipts;
    // A loan's receipts come from the loan (a receipt naming a loan is in its list: an
    // invariant), an owner's from the owner index: the cost follows the answer, not the table.
    let candidates: Box<dyn Iterator<Item = &Receipt>> = match (loan, owner) {
        (Some(l), _) => {
            let listed = snapshot.state.loans.loans.get(&l).map(|loan| loan.receipts.clone());
            let mut ids = listed.unwrap_or_default();
            ids.sort_unstable();
            ids.dedup();
            ids.retain(|id| *id >= start);
            Box::new(ids.into_iter().filter_map(|id| table.get(&id)))
        }
        (None, Some(o)) => {
            Box::new(table.index().keys_of_from(o, &start).filter_map(|id| table.get(id)))
        }
        (None, None) => Box::new(table.range(start..).map(|(_, receipt)| receipt)),
    };
    let (page, next_after) = filtered_page(
        candidates,
        |receipt| receipt.id.0,
        |r| {
            owner.is_none_or(|o| r.owner == o)
                && class.is_none_or(|c| r.class == c)
                && status.is_none_or(|s| r.status == s)
                && loan.is_none_or(|l| r.loan == Some(l))
        },
        limit,
        LISTING_VISITS_MAX,
    );
    let receipts: Vec<ReceiptDto> = page.into_iter().map(receipt_dto).collect();
    Ok(Json(ReceiptsDto { height: snapshot.header.height, receipts, next_after }))
}

/// `GET /v1/asset-classes?after=&limit=`: the classes with their rental-index marks.
pub(crate) async fn asset_classes(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<AssetClassesDto>, ApiError> {
    let query = query(raw, &["after", "limit"])?;
    let limit = limit(&query)?;
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let classes: Vec<AssetClassDto> = state
        .receipts
        .classes
        .iter()
        .filter(|(id, _)| query.get("after").is_none_or(|after| id.to_string() > *after))
        .take(limit)
        .map(|(&id, class)| asset_class_dto(state, id, class))
        .collect();
    let next_after = (classes.len() == limit).then(|| classes.last().map(|c| c.class.clone()));
    Ok(Json(AssetClassesDto {
        height: snapshot.header.height,
        classes,
        next_after: next_after.flatten(),
    }))
}

fn asset_class_dto(
    state: &infrafi_core::State,
    id: infrafi_core::AssetClassId,
    class: &receipts::AssetClass,
) -> AssetClassDto {
    let now = state.now();
    let terms = state.receipts.income_terms.get(&id);
    let index = state.receipts.rental_indices.get(&id);
    let rental_index = index.map(|index| {
        // Today's window: the one a post now would belong to.
        let (reference, opened_at) = index.window_at(now);
        let (low, high) = rental_index::post_bounds(state, &id, now);
        RentalIndexDto {
            rent_per_unit_hour: amount(index.rent_per_unit_hour),
            oracle: index.oracle,
            posted_at: index.posted_at,
            age_secs: now.saturating_sub(index.posted_at),
            fresh: terms.is_none_or(|t| index.is_fresh(t, now)),
            window_reference: amount(reference),
            window_opened_at: opened_at,
            window_low: terms.map(|_| amount(low)),
            window_high: terms.map(|_| amount(high)),
        }
    });
    let income_value_per_unit = match (terms, index) {
        (Some(terms), Some(index)) => {
            Some(amount(rental_index::income_value_per_unit(terms, index, now)))
        }
        _ => None,
    };
    AssetClassDto {
        class: id.to_string(),
        new_price_per_unit: amount(class.terms.new_price_per_unit),
        annual_depreciation_bps: class.terms.annual_depreciation_bps.0,
        floor_bps: class.terms.floor_bps.0,
        value_index_wad: class.value_index_wad.to_string(),
        step_downs: class.step_downs,
        income_terms: terms.map(|t| IncomeTermsDto {
            utilisation_bps: t.utilisation_bps.0,
            opex_share_bps: t.opex_share_bps.0,
            discount_rate_bps_per_year: t.discount_rate_bps_per_year.0,
            economic_life_ends_at: t.economic_life_ends_at,
            index_max_age_secs: t.index_max_age_secs,
            index_max_move_bps: t.index_max_move_bps.0,
        }),
        rental_index,
        income_value_per_unit,
    }
}

pub(crate) async fn receipt(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ReceiptDetailDto>, ApiError> {
    let id = receipt_id(&id)?;
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let now = state.now();
    let receipt = state
        .receipts
        .receipts
        .get(&id)
        .ok_or_else(|| ApiError::not_found("receipt_not_found", format!("no receipt {id}")))?;
    let insurance = match &receipt.policy {
        None => InsuranceDto {
            status: "uninsured".into(),
            insurer: None,
            policy_id: None,
            coverage: None,
            expires_at: None,
            floor_value: None,
        },
        Some(policy) => InsuranceDto {
            status: if now < policy.expires_at { "insured" } else { "expired" }.into(),
            insurer: Some(policy.insurer),
            policy_id: Some(policy.policy_id),
            coverage: Some(amount(policy.coverage)),
            expires_at: Some(policy.expires_at),
            floor_value: Some(amount(policy.floor_value)),
        },
    };
    let class = state.receipts.classes.get(&receipt.class);
    let valuation = receipt.valuation.as_ref().map(|v| ValuationDto {
        appraiser: v.appraiser,
        value: amount(v.value),
        at: v.at,
        model_value_now: class
            .map(|c| amount(receipts::model_value(c, v, receipt.description.quantity, now)))
            .unwrap_or_default(),
    });
    let eligibility = receipts::check_eligible(state, receipt, now);
    let presence = presence_dto(state, receipt, now);
    Ok(Json(ReceiptDetailDto {
        height: snapshot.header.height,
        receipt: receipt_dto(receipt),
        insurance,
        valuation,
        value_for_ltv: amount(receipts::value_for_ltv(state, receipt, now)),
        income_value: rental_index::income_value(state, receipt, now).map(amount),
        eligible: eligibility.is_ok(),
        ineligible_reason: eligibility.err().map(|e| TxError::from(e).name().to_string()),
        presence,
    }))
}

/// A receipt's hardware presence at `now` (issue 16).
fn presence_dto(state: &infrafi_core::State, receipt: &Receipt, now: u64) -> PresenceDto {
    let rule = state.receipts.classes.get(&receipt.class).map(|class| class.presence);
    let limit_secs = presence::limit_for(state, receipt, now);
    let pending = rule.and_then(|rule| rule.pending).filter(|p| now < p.effective_at);
    let newest = state.receipts.presence.get(&receipt.id);
    let status = match presence::check_present(state, receipt, now) {
        Ok(()) if limit_secs == 0 => "unmonitored",
        Ok(()) => "present",
        Err(ReceiptError::ReceiptHardwareNotPresent) => "not_present",
        Err(_) => "stale",
    };
    PresenceDto {
        status: status.into(),
        limit_secs,
        pending_limit_secs: pending.map(|p| p.max_age_secs),
        pending_effective_at: pending.map(|p| p.effective_at),
        attestation: newest.map(|a| PresenceAttestationDto {
            monitor: a.monitor,
            units_seen: a.units_seen,
            serials_hash: a.serials_hash,
            facility: a.facility.clone(),
            uptime_bps: a.uptime_bps.0,
            as_of: a.as_of,
            posted_at: a.posted_at,
            all_present: a.saw_all_of(receipt),
        }),
        age_secs: newest.map(|a| now.saturating_sub(a.as_of)),
        stale_at: presence::stale_at(state, receipt, now),
    }
}
