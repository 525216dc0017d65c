//! Observed market series shipped with the simulator (`crates/sim/data/`, each with its source
//! in its header) and the monthly paths a backtest replays from them.
//!
//! A series is a CSV: `#` comment lines (the source), a header, then rows whose first two
//! columns are a month (`YYYY-MM`) and a value. Rows must be in strictly increasing month
//! order. [`monthly_path`] turns a series into one value per model month from a start month:
//! months between two rows are interpolated log-linearly (a constant monthly rate of change
//! between published anchors); a month before the first row or after the last is an error,
//! never an extrapolation.

/// The built-in series: name -> CSV text.
pub const SERIES: [(&str, &str); 2] = [
    ("h100_rental_anchors", include_str!("../data/h100_rental_anchors.csv")),
    ("tbill_3m_anchors", include_str!("../data/tbill_3m_anchors.csv")),
];

/// A calendar month, counted from year 0 (`year * 12 + month - 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month(pub i64);

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(text: &str) -> Result<Month, String> {
        let bad = || format!("`{text}` is not a month (YYYY-MM)");
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: i64 = year.parse().map_err(|_| bad())?;
        let month: i64 = month.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month(year * 12 + month - 1))
    }

    /// This month `k` months later.
    pub fn plus(self, k: u32) -> Month {
        Month(self.0 + i64::from(k))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.0.div_euclid(12), self.0.rem_euclid(12) + 1)
    }
}

/// One observed series: (month, value) in increasing month order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Its name (the file's stem).
    pub name: String,
    /// The rows.
    pub points: Vec<(Month, f64)>,
}

/// The built-in series `name`.
pub fn series(name: &str) -> Result<Series, String> {
    let Some((_, text)) = SERIES.iter().find(|(n, _)| *n == name) else {
        let names: Vec<_> = SERIES.iter().map(|(n, _)| *n).collect();
        return Err(format!("no series `{name}` (built-in: {})", names.join(", ")));
    };
    parse(name, text)
}

/// Parses a series' CSV text.
pub fn parse(name: &str, text: &str) -> Result<Series, String> {
    let mut points: Vec<(Month, f64)> = Vec::new();
    let mut header_seen = false;
    for (line_index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !header_seen {
            header_seen = true;
            continue;
        }
        let at = || format!("{name} line {}", line_index + 1);
        let mut fields = line.splitn(3, ',');
        let month = Month::parse(fields.next().unwrap_or_default())
            .map_err(|e| format!("{}: {e}", at()))?;
        let value: f64 = fields
            .next()
            .and_then(|v| v.trim().parse().ok())
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("{}: the second column is not a number", at()))?;
        if let Some(&(previous, _)) = points.last()
            && month <= previous
        {
            return Err(format!("{}: {month} does not follow {previous}", at()));
        }
        points.push((month, value));
    }
    if points.is_empty() {
        return Err(format!("{name}: no rows"));
    }
    Ok(Series { name: name.to_string(), points })
}

impl Series {
    /// The first month with a value.
    pub fn first_month(&self) -> Month {
        self.points[0].0
    }

    /// The last month with a value.
    pub fn last_month(&self) -> Month {
        self.points[self.points.len() - 1].0
    }

    /// The value at `month`: a row's value, or the log-linear interpolation between the rows
    /// around it (values must then be positive); `None` outside the series.
    pub fn at(&self, month: Month) -> Option<f64> {
        let after = self.points.iter().position(|&(m, _)| m >= month)?;
        let (m1, v1) = self.points[after];
        if m1 == month {
            return Some(v1);
        }
        let (m0, v0) = *self.points.get(after.checked_sub(1)?)?;
        if v0 <= 0.0 || v1 <= 0.0 {
            return None;
        }
        let share = (month.0 - m0.0) as f64 / (m1.0 - m0.0) as f64;
        Some((v0.ln() + share * (v1.ln() - v0.ln())).exp())
    }
}

/// Values of `series` for model months `0..=months` from `start` (month k is `start + k`).
pub fn monthly_path(series: &Series, start: Month, months: u32) -> Result<Vec<f64>, String> {
    (0..=months)
        .map(|k| {
            let month = start.plus(k);
            series.at(month).ok_or_else(|| {
                format!(
                    "series `{}` covers {} to {}: no value for {month} (month {k} of the run)",
                    series.name,
                    series.first_month(),
                    series.last_month()
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_series_parses_with_its_source_in_the_header() {
        for (name, text) in SERIES {
            let series = series(name).expect(name);
            assert!(series.points.len() >= 2, "{name}");
            assert!(text.lines().next().is_some_and(|l| l.starts_with('#')), "{name} cites");
        }
    }

    #[test]
    fn months_between_anchors_are_interpolated_log_linearly_and_nothing_is_extrapolated() {
        let series = parse("s", "month,v\n2024-01,4.0\n2024-03,1.0\n").expect("parses");
        let path =
            monthly_path(&series, Month::parse("2024-01").expect("month"), 2).expect("covered");
        assert_eq!(path[0], 4.0);
        assert!((path[1] - 2.0).abs() < 1e-12, "the geometric midpoint, got {}", path[1]);
        assert_eq!(path[2], 1.0);
        let error = monthly_path(&series, Month::parse("2024-02").expect("month"), 2)
            .expect_err("past the end");
        assert!(error.contains("no value for 2024-04"), "{error}");
        assert!(monthly_path(&series, Month::parse("2023-12").expect("month"), 0).is_err());
    }

    #[test]
    fn bad_rows_are_refused_with_their_line() {
        assert!(parse("s", "m,v\n2024-13,1\n").expect_err("month 13").contains("line 2"));
        assert!(
            parse("s", "m,v\n2024-02,1\n2024-01,2\n")
                .expect_err("out of order")
                .contains("does not follow")
        );
        assert!(parse("s", "m,v\n2024-01,x\n").expect_err("not a number").contains("not a number"));
        assert_eq!(Month::parse("2026-06").expect("month").to_string(), "2026-06");
    }
}
