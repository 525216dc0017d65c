//! `GET /v1/history` (the series a node records) and `GET /v1/history/{series}?from=&to=&step=`
//! (one series over a time range, one point per step). Bounded: at most
//! [`HISTORY_POINTS_MAX`] points, each found by one B-tree descent in the store, so the cost
//! does not grow with the samples a range spans. See `infrafi_node::history`.

use crate::{
    ApiError, ApiPath, AppState,
    dto::{HistoryDto, HistoryIndexDto, HistoryPointDto, HistorySeriesDto},
    handlers::{parse_u64, query},
};
use axum::{
    Json,
    extract::{RawQuery, State},
};
use infrafi_node::history::{self, REALISED_APY, SERIES, Sample};

/// The most points one read returns.
pub const HISTORY_POINTS_MAX: u64 = 1_000;
/// The range read when `from` is not given: 30 days before `to`.
pub const HISTORY_RANGE_DEFAULT_SECS: u64 = 30 * 86_400;

pub(crate) async fn index(State(app): State<AppState>) -> Result<Json<HistoryIndexDto>, ApiError> {
    let latest = app.node.history_latest().map_err(ApiError::internal)?;
    Ok(Json(HistoryIndexDto {
        interval_secs: app.node.config().history_interval_secs,
        points_max: HISTORY_POINTS_MAX,
        latest_at: latest.as_ref().map(|s| s.timestamp),
        latest_height: latest.as_ref().map(|s| s.height),
        series: SERIES
            .iter()
            .map(|s| HistorySeriesDto {
                name: s.name.into(),
                unit: serde_json::to_value(s.unit)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                description: s.description.into(),
                derived: s.derived,
            })
            .collect(),
    }))
}

/// The points of one series: the last sample of each `step`-long bucket of `[from, to]`.
pub(crate) async fn series(
    State(app): State<AppState>,
    ApiPath(name): ApiPath<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<HistoryDto>, ApiError> {
    let series = history::series(&name).ok_or_else(|| {
        ApiError::not_found(
            "history_series_unknown",
            format!("no history series `{name}`; GET /v1/history lists them"),
        )
    })?;
    let query = query(raw, &["from", "to", "step"])?;
    let now = app.node.snapshot().header.timestamp;
    let to = query.get("to").map(|t| parse_u64(t, "to")).transpose()?.unwrap_or(now);
    let from = match query.get("from") {
        Some(text) => parse_u64(text, "from")?,
        None => to.saturating_sub(HISTORY_RANGE_DEFAULT_SECS),
    };
    if from > to {
        return Err(ApiError::bad_request("history_range_invalid", "`from` is after `to`"));
    }
    let span = to - from + 1;
    let interval = app.node.config().history_interval_secs;
    let step = match query.get("step") {
        Some(text) => match parse_u64(text, "step")? {
            0 => return Err(ApiError::bad_request("step_invalid", "`step` must be positive")),
            step => step,
        },
        None => span.div_ceil(HISTORY_POINTS_MAX).max(interval),
    };
    let buckets = span.div_ceil(step);
    if buckets > HISTORY_POINTS_MAX {
        return Err(ApiError::bad_request(
            "history_range_too_large",
            format!(
                "{buckets} points asked; at most {HISTORY_POINTS_MAX}: \
                 use a step of at least {} seconds",
                span.div_ceil(HISTORY_POINTS_MAX)
            ),
        ));
    }
    let ranges: Vec<(u64, u64)> = (0..buckets)
        .map(|k| {
            let start = from + k * step;
            (start, start.saturating_add(step).min(to.saturating_add(1)))
        })
        .collect();
    let samples: Vec<Sample> =
        app.node.history(&ranges).map_err(ApiError::internal)?.into_iter().flatten().collect();
    let points = match REALISED_APY.iter().find(|(n, _)| *n == series.name) {
        None => samples
            .iter()
            .filter_map(|s| {
                s.values.get(series.name).map(|v| HistoryPointDto {
                    timestamp: s.timestamp,
                    height: s.height,
                    value: v.to_string(),
                })
            })
            .collect(),
        Some((_, window)) => realised_apy(&app, &samples, *window)?,
    };
    Ok(Json(HistoryDto {
        series: series.name.into(),
        from,
        to,
        step_secs: step,
        interval_secs: interval,
        points,
    }))
}

/// The realised APY at each sample: the deposit price's growth since the latest sample at
/// least `window` seconds older. Points without such a sample are left out.
fn realised_apy(
    app: &AppState,
    samples: &[Sample],
    window: u64,
) -> Result<Vec<HistoryPointDto>, ApiError> {
    let price = |s: &Sample| s.values.get("deposit_price").copied();
    let before: Vec<(u64, u64)> = samples
        .iter()
        .map(|s| match s.timestamp.checked_sub(window) {
            Some(at) => (0, at + 1),
            None => (0, 0),
        })
        .collect();
    let earlier = app.node.history(&before).map_err(ApiError::internal)?;
    Ok(samples
        .iter()
        .zip(earlier)
        .filter_map(|(now, then)| {
            let then = then?;
            let apy = history::realised_apy_bps(
                (then.timestamp, price(&then)?),
                (now.timestamp, price(now)?),
            )?;
            Some(HistoryPointDto {
                timestamp: now.timestamp,
                height: now.height,
                value: apy.to_string(),
            })
        })
        .collect())
}
