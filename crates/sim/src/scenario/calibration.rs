//! A scenario's calibration: where each parameter's value comes from (a source with its basis,
//! or a labelled assumption), and the parameter paths it must cover.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The calibration of a scenario: for each parameter, its public source and how the value was
/// derived, or an explicit `assumption` label. A key is a parameter's path as the scenario
/// reads it (`borrowers.opex_share_bps`); an element of `classes` or `silos` is named by its
/// id or name (`classes[gpu.h100-sxm].rental_usd_per_hour`), `[*]` stands for every element,
/// and a key naming a table covers every parameter in it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The calibration's version (reported in `summary.json`).
    #[serde(default)]
    pub version: String,
    /// Parameter path -> its source.
    #[serde(default)]
    pub parameters: BTreeMap<String, ParameterSource>,
}

/// Where one parameter's value comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSource {
    /// How the value is known.
    pub basis: Basis,
    /// The public source (publication, index or dataset, with its date); for an assumption,
    /// what it rests on.
    #[serde(default)]
    pub source: String,
    /// How the value follows from the source.
    #[serde(default)]
    pub derivation: String,
}

/// How a parameter's value is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// A published figure, used as published.
    Sourced,
    /// Computed from published figures or series (the derivation says how).
    Derived,
    /// Fitted so that the model reproduces a published statistic (the derivation says which).
    Fitted,
    /// No public source: a judgement, whose effect `infrafi simulate --sensitivity` shows.
    Assumption,
}

/// Collects the paths of the parameters under `value`: one segment per key, an element of an
/// array of tables named by its id, its name or its index (`classes[gpu.h100-sxm]`).
pub(super) fn collect_leaves(
    value: &toml::Value,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, toml::Value)>,
) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                prefix.push(key.clone());
                collect_leaves(value, prefix, out);
                prefix.pop();
            }
        }
        toml::Value::Array(items) if items.is_empty() => {} // Nothing to calibrate.
        toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => {
            let Some(last) = prefix.pop() else { return };
            for (i, item) in items.iter().enumerate() {
                let label = ["id", "name"]
                    .iter()
                    .find_map(|k| item.get(k).and_then(toml::Value::as_str))
                    .filter(|label| !label.is_empty())
                    .map_or_else(|| i.to_string(), str::to_string);
                prefix.push(format!("{last}[{label}]"));
                let mut item = item.clone();
                if let toml::Value::Table(table) = &mut item {
                    // The element's label is its identity, not a parameter.
                    table.remove("id");
                    table.remove("name");
                }
                collect_leaves(&item, prefix, out);
                prefix.pop();
            }
            prefix.push(last);
        }
        leaf => out.push((prefix.clone(), leaf.clone())),
    }
}

impl Calibration {
    /// The key of the most specific entry covering the parameter at `segments`: the exact
    /// path, the path with elements replaced by `[*]`, or a prefix of either at a segment
    /// boundary (an array's own key covering all its elements); the longest match wins, and at
    /// equal length the exact element before `[*]` before the whole array.
    pub(super) fn entry_for(&self, segments: &[String]) -> Option<String> {
        let wildcard: Vec<String> = segments
            .iter()
            .map(|s| match s.find('[') {
                Some(open) => format!("{}[*]", &s[..open]),
                None => s.clone(),
            })
            .collect();
        (1..=segments.len()).rev().find_map(|n| {
            // The array itself (`silos`) covers its elements too.
            let mut array = wildcard[..n].to_vec();
            if let Some(open) = array[n - 1].find('[') {
                array[n - 1].truncate(open);
            }
            [segments[..n].join("."), wildcard[..n].join("."), array.join(".")]
                .into_iter()
                .find(|key| self.parameters.contains_key(key))
        })
    }
}
