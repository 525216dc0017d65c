//! Wire types of the history a node records: the series it keeps and their points.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One series a node records.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HistorySeriesDto {
    /// Its name: `GET /v1/history/{name}`.
    pub name: String,
    /// `usdai`, `susdai`, `price_wad`, `points`, `count` or `bps`.
    pub unit: String,
    /// What it is.
    pub description: String,
    /// Computed when read (the realised APYs) rather than stored.
    pub derived: bool,
}

/// `GET /v1/history`: the series and the cadence they are sampled at.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HistoryIndexDto {
    /// Seconds of block time between samples.
    pub interval_secs: u64,
    /// The most points one read returns.
    pub points_max: u64,
    /// The latest sample's block timestamp.
    pub latest_at: Option<u64>,
    /// The latest sample's block height.
    pub latest_height: Option<u64>,
    /// Every series.
    pub series: Vec<HistorySeriesDto>,
}

/// One point of a series.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HistoryPointDto {
    /// The block timestamp of the sample.
    pub timestamp: u64,
    /// Its block height.
    pub height: u64,
    /// The value: base units, an 18-decimal price, a count, or basis points (may be negative).
    pub value: String,
}

/// `GET /v1/history/{series}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HistoryDto {
    /// The series.
    pub series: String,
    /// The range's start (unix seconds, inclusive).
    pub from: u64,
    /// The range's end (inclusive).
    pub to: u64,
    /// One point per this many seconds: the last sample in each step.
    pub step_secs: u64,
    /// Seconds of block time between samples.
    pub interval_secs: u64,
    /// The points, oldest first; steps without a sample are left out.
    pub points: Vec<HistoryPointDto>,
}
