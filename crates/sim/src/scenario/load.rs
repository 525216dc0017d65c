//! Reading scenario files: TOML parsing, `extends` resolution (built-ins first, then paths
//! relative to the child, at most `EXTENDS_DEPTH_MAX` deep) and the key-by-key merge.

use super::{BUILT_IN, EXTENDS_DEPTH_MAX, ScenarioError};
use std::path::{Path, PathBuf};

pub(super) fn parse(origin: &str, text: &str) -> Result<toml::Table, ScenarioError> {
    text.parse::<toml::Table>().map_err(|error| ScenarioError::Syntax {
        origin: origin.to_string(),
        message: error.to_string().trim().to_string(),
    })
}

/// Reads `name_or_path` (built-in first) and resolves its `extends`.
pub(super) fn load_merged(
    name_or_path: &str,
    base_dir: Option<&Path>,
    depth: usize,
) -> Result<(String, toml::Table), ScenarioError> {
    if depth > EXTENDS_DEPTH_MAX {
        return Err(ScenarioError::ExtendsTooDeep(name_or_path.to_string()));
    }
    if let Some((name, text)) = BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
        let table = parse(name, text)?;
        return Ok((name.to_string(), resolve_extends(name, table, None, depth)?));
    }
    let path = match base_dir {
        Some(dir) if Path::new(name_or_path).is_relative() => dir.join(name_or_path),
        _ => PathBuf::from(name_or_path),
    };
    if !path.is_file() {
        return Err(ScenarioError::NotFound(name_or_path.to_string()));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|source| ScenarioError::Io { path: path.clone(), source })?;
    let origin = path.display().to_string();
    let table = parse(&origin, &text)?;
    let table = resolve_extends(&origin, table, path.parent(), depth)?;
    Ok((origin, table))
}

pub(super) fn resolve_extends(
    origin: &str,
    mut table: toml::Table,
    base_dir: Option<&Path>,
    depth: usize,
) -> Result<toml::Table, ScenarioError> {
    let Some(parent) = table.remove("extends") else { return Ok(table) };
    let Some(parent) = parent.as_str() else {
        return Err(ScenarioError::Field {
            origin: origin.to_string(),
            field: "extends".into(),
            message: "must be a scenario name or path".into(),
        });
    };
    let (_, mut merged) = load_merged(parent, base_dir, depth + 1)?;
    merge(&mut merged, table);
    Ok(merged)
}

/// Merges `overlay` into `base`: tables recursively, everything else replaced.
pub(super) fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(overlay_table)) => {
                merge(base_table, overlay_table);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}
