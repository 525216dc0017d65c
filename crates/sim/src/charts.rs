//! Charts (plotters, PNG and SVG): the NAV fan, the senior loss histogram, the queue wait
//! distribution and first-loss exhaustion by silo.
//!
//! Text is drawn with `ab_glyph` from DejaVu Sans shipped in `assets/` (Bitstream Vera
//! license, see `assets/DejaVuSans.LICENSE`), so no system font library is needed.

use crate::{SimError, path::PathOutcome, summary::Summary};
use plotters::{
    coord::Shift,
    prelude::*,
    style::{FontStyle, register_font},
};
use std::{collections::BTreeMap, path::Path, sync::Once};

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const WIDTH: u32 = 960;
const HEIGHT: u32 = 540;
const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(230, 120, 30);

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is shipped with the crate; failing to parse it is a build defect.
        if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            unreachable!("the shipped DejaVu Sans font parses");
        }
    });
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;
type PngChart<'a> = &'a dyn Fn(&DrawingArea<BitMapBackend, Shift>) -> DrawResult;
type SvgChart<'a> = &'a dyn Fn(&DrawingArea<SVGBackend, Shift>) -> DrawResult;

/// Writes every chart as `<name>.png` and `<name>.svg` into `dir`.
pub fn write_all(
    dir: &Path,
    summary: &Summary,
    outcomes: &[PathOutcome],
) -> Result<Vec<String>, SimError> {
    register_fonts();
    let charts: [(&str, PngChart, SvgChart); 4] = [
        ("nav_fan", &|a| nav_fan(a, summary), &|a| nav_fan(a, summary)),
        ("loss_histogram", &|a| loss_histogram(a, summary, outcomes), &|a| {
            loss_histogram(a, summary, outcomes)
        }),
        ("queue_wait", &|a| queue_wait(a, summary, outcomes), &|a| {
            queue_wait(a, summary, outcomes)
        }),
        ("first_loss_exhaustion", &|a| exhaustion(a, summary), &|a| exhaustion(a, summary)),
    ];
    let mut written = Vec::new();
    for (name, png, svg) in charts {
        let png_path = dir.join(format!("{name}.png"));
        let svg_path = dir.join(format!("{name}.svg"));
        let fail = |path: &Path, error: Box<dyn std::error::Error>| SimError::Output {
            path: path.display().to_string(),
            message: error.to_string(),
        };
        {
            let area = BitMapBackend::new(&png_path, (WIDTH, HEIGHT)).into_drawing_area();
            png(&area).map_err(|e| fail(&png_path, e))?;
            area.present().map_err(|e| fail(&png_path, Box::new(e)))?;
        }
        {
            let area = SVGBackend::new(&svg_path, (WIDTH, HEIGHT)).into_drawing_area();
            svg(&area).map_err(|e| fail(&svg_path, e))?;
            area.present().map_err(|e| fail(&svg_path, Box::new(e)))?;
        }
        written.push(format!("{name}.png"));
        written.push(format!("{name}.svg"));
    }
    Ok(written)
}

fn nav_fan<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, summary: &Summary) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let fan = &summary.nav_fan;
    let low = fan.iter().map(|p| p.p5).fold(f64::INFINITY, f64::min).min(1.0);
    let high = fan.iter().map(|p| p.p95).fold(f64::NEG_INFINITY, f64::max).max(1.0);
    let pad = (high - low).max(0.01) * 0.05;
    let months = f64::from(summary.horizon_months);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("sUSDai share price vs start: {} ({} paths)", summary.scenario, summary.paths),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..months, (low - pad)..(high + pad))?;
    chart
        .configure_mesh()
        .x_desc("month")
        .y_desc("share price / start")
        .label_style(("sans-serif", 14))
        .draw()?;
    let band = |upper: &dyn Fn(&crate::summary::FanPoint) -> f64,
                lower: &dyn Fn(&crate::summary::FanPoint) -> f64| {
        let mut points: Vec<(f64, f64)> =
            fan.iter().map(|p| (f64::from(p.month), upper(p))).collect();
        points.extend(fan.iter().rev().map(|p| (f64::from(p.month), lower(p))));
        points
    };
    chart
        .draw_series(std::iter::once(Polygon::new(band(&|p| p.p95, &|p| p.p5), BLUE.mix(0.18))))?
        .label("5-95%")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], BLUE.mix(0.18).filled()));
    chart
        .draw_series(std::iter::once(Polygon::new(band(&|p| p.p75, &|p| p.p25), BLUE.mix(0.38))))?
        .label("25-75%")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], BLUE.mix(0.38).filled()));
    chart
        .draw_series(LineSeries::new(
            fan.iter().map(|p| (f64::from(p.month), p.p50)),
            BLUE.stroke_width(2),
        ))?
        .label("median")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLUE.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Bars over `[edges[i], edges[i+1])` with heights `heights[i]`.
fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    edges: &[f64],
    heights: &[f64],
    color: RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let x_max = *edges.last().unwrap_or(&1.0);
    let x_min = *edges.first().unwrap_or(&0.0);
    let y_max = heights.iter().copied().fold(0.0, f64::max).max(1e-9) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x_min..x_max.max(x_min + 1e-9), 0.0..y_max)?;
    chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).label_style(("sans-serif", 14)).draw()?;
    chart.draw_series(edges.windows(2).zip(heights).map(|(edge, &height)| {
        Rectangle::new([(edge[0], 0.0), (edge[1], height)], color.mix(0.8).filled())
    }))?;
    Ok(())
}

fn loss_histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    summary: &Summary,
    outcomes: &[PathOutcome],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // Paths without a loss are the caption's complement; the bars show how large losses are
    // when they happen (otherwise a rare tail would be invisible next to the zero bar).
    let senior = summary.book.senior_principal_usd.max(1e-9);
    let losses: Vec<f64> = outcomes
        .iter()
        .map(|o| o.senior_loss_usd() / senior * 1e4)
        .filter(|loss| *loss > 0.0)
        .collect();
    let max = losses.iter().copied().fold(0.0, f64::max).max(1.0);
    let bins = 40;
    let width = max / f64::from(bins);
    let mut heights = vec![0.0; bins as usize];
    for loss in &losses {
        let bin = ((loss / width) as usize).min(bins as usize - 1);
        heights[bin] += 1.0 / losses.len() as f64;
    }
    let edges: Vec<f64> = (0..=bins).map(|i| f64::from(i) * width).collect();
    let caption = format!(
        "senior loss when there is one: {} (P(loss > 0) = {:.2}%)",
        summary.scenario,
        summary.senior_loss_probability * 100.0
    );
    let y_desc = "share of the paths with a loss";
    bars(area, &caption, "senior loss, bps of senior principal", y_desc, &edges, &heights, ORANGE)
}

fn queue_wait<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    summary: &Summary,
    outcomes: &[PathOutcome],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut waits: BTreeMap<u32, f64> = BTreeMap::new();
    for outcome in outcomes {
        for (&days, &shares) in &outcome.waits {
            *waits.entry(days).or_insert(0.0) += shares;
        }
    }
    let total: f64 = waits.values().sum::<f64>().max(1e-9);
    let max_day = waits.keys().next_back().copied().unwrap_or(30).max(10);
    let edges: Vec<f64> = (0..=max_day + 1).map(f64::from).collect();
    let heights: Vec<f64> =
        (0..=max_day).map(|d| waits.get(&d).copied().unwrap_or(0.0) / total).collect();
    bars(
        area,
        &format!("queue wait, share-weighted: {}", summary.scenario),
        "days from request to full service",
        "share of shares",
        &edges,
        &heights,
        BLUE,
    )
}

fn exhaustion<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, summary: &Summary) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let silos = &summary.first_loss_exhaustion;
    let names: Vec<String> = silos.iter().map(|s| s.name.clone()).collect();
    let y_max = silos.iter().map(|s| s.probability).fold(0.0, f64::max).max(0.01) * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("first-loss exhaustion by silo: {}", summary.scenario), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (0..silos.len().saturating_sub(1)).into_segmented(),
            0.0..y_max * 100.0,
        )?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_desc("probability, % of paths")
        .x_label_formatter(&|segment| match segment {
            SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .label_style(("sans-serif", 14))
        .draw()?;
    chart.draw_series(silos.iter().enumerate().map(|(i, silo)| {
        let mut bar = Rectangle::new(
            [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), silo.probability * 100.0)],
            ORANGE.mix(0.8).filled(),
        );
        bar.set_margin(0, 0, 20, 20);
        bar
    }))?;
    Ok(())
}

/// One bar of a tornado: a parameter and the figure at its low and high value.
pub struct TornadoBar {
    /// The parameter.
    pub label: String,
    /// The figure with the parameter's low value.
    pub low: f64,
    /// The figure with its high value.
    pub high: f64,
}

/// Writes a tornado chart as `<name>.png` and `<name>.svg` into `dir`: one horizontal bar per
/// parameter from its low to its high figure (in the order given, first on top), around the
/// scenario's own figure `base`.
pub fn write_tornado(
    dir: &Path,
    name: &str,
    caption: &str,
    x_desc: &str,
    bars: &[TornadoBar],
    base: f64,
) -> Result<Vec<String>, SimError> {
    register_fonts();
    let png_path = dir.join(format!("{name}.png"));
    let svg_path = dir.join(format!("{name}.svg"));
    let fail = |path: &Path, error: Box<dyn std::error::Error>| SimError::Output {
        path: path.display().to_string(),
        message: error.to_string(),
    };
    {
        let area = BitMapBackend::new(&png_path, (WIDTH, HEIGHT)).into_drawing_area();
        tornado(&area, caption, x_desc, bars, base).map_err(|e| fail(&png_path, e))?;
        area.present().map_err(|e| fail(&png_path, Box::new(e)))?;
    }
    {
        let area = SVGBackend::new(&svg_path, (WIDTH, HEIGHT)).into_drawing_area();
        tornado(&area, caption, x_desc, bars, base).map_err(|e| fail(&svg_path, e))?;
        area.present().map_err(|e| fail(&svg_path, Box::new(e)))?;
    }
    Ok(vec![format!("{name}.png"), format!("{name}.svg")])
}

fn tornado<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    x_desc: &str,
    bars: &[TornadoBar],
    base: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let values = bars.iter().flat_map(|b| [b.low, b.high]).chain([base]);
    let (min, max) =
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((max - min) * 0.05).max(1e-9);
    // Bar i (from the top) is centred on y = n - i, so the labels sit on whole numbers.
    let n = bars.len().max(1);
    let rows = n as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(190)
        .build_cartesian_2d((min - pad)..(max + pad), 0.5..rows + 0.5)?;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(x_desc)
        .y_labels(n)
        .y_label_formatter(&|y| {
            let whole = y.round();
            let index = rows - whole;
            if (y - whole).abs() < 1e-6 && index >= 0.0 && (index as usize) < labels.len() {
                labels[index as usize].clone()
            } else {
                String::new()
            }
        })
        .label_style(("sans-serif", 13))
        .draw()?;
    chart.draw_series(bars.iter().enumerate().flat_map(|(i, bar)| {
        let centre = rows - i as f64;
        let (bottom, top) = (centre - 0.35, centre + 0.35);
        [
            Rectangle::new([(base, bottom), (bar.low, top)], BLUE.mix(0.8).filled()),
            Rectangle::new([(base, bottom), (bar.high, top)], ORANGE.mix(0.8).filled()),
        ]
    }))?;
    chart.draw_series(LineSeries::new([(base, 0.5), (base, rows + 0.5)], BLACK.stroke_width(2)))?;
    Ok(())
}
