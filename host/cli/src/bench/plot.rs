//! `--plot FILE.png`: the run as a chart for the docs. Top: every subject's speed relative
//! to its workload's baseline (log scale). Bottom: each target's margin (≥ 1 is met).
//!
//! Labels are drawn with a TrueType font read at run time (plotters' `ab_glyph` backend,
//! no system font library): `--font`, `$WALOGS_BENCH_FONT`, or the first `.ttf` found in
//! the usual font directories.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::measure::{Role, Row};
use super::report::{Bound, Report, num};

/// Pixels per bar.
const BAR: u32 = 22;
/// Chart width.
const WIDTH: u32 = 1500;

/// Draws `report` into the PNG file `path`.
pub fn plot(report: &Report, path: &Path, font: Option<&Path>) -> Result<()> {
    load_font(font)?;
    let rows: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| r.relative.is_some())
        .collect();
    let top = 90 + BAR * rows.len() as u32;
    let measured = report.targets.iter().filter(|t| t.measured.is_some());
    let bottom = 90 + BAR * measured.count() as u32;
    let root = BitMapBackend::new(path, (WIDTH, top + bottom)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (upper, lower) = root.split_vertically(top);
    relative_chart(&upper, &rows, report)?;
    target_chart(&lower, report)?;
    root.present()
        .map_err(err)
        .with_context(|| format!("write {}", path.display()))
}

/// Converts a plotters error (not `Send`) into an anyhow error.
fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plotting failed: {e:?}")
}

/// The bar color of a row.
fn color(row: &Row) -> RGBColor {
    match row.role {
        Role::Baseline => RGBColor(150, 150, 150),
        Role::Walogs if row.subject.contains("component") => RGBColor(0, 150, 136),
        Role::Walogs => RGBColor(33, 100, 200),
        Role::Peer => RGBColor(230, 140, 30),
    }
}

/// A short workload name for labels.
fn short(workload: &str) -> String {
    let w = workload
        .replace("durable append", "durable")
        .replace("non-durable append", "non-durable")
        .replace("group commit 1000 × 100 B", "group 1000×100 B");
    if let Some(rest) = w.strip_prefix("iterate ") {
        return format!("iterate {}", rest.split(" of ").next().unwrap_or(rest));
    }
    w.split(" sealed")
        .next()
        .unwrap_or(&w)
        .split(" (")
        .next()
        .unwrap_or(&w)
        .to_owned()
}

/// A power-of-ten range around `values` (log scale needs positive bounds).
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (
        10f64.powf(lo.log10().floor()),
        10f64.powf((hi * 1.5).log10().ceil()),
    )
}

/// Draws horizontal bars from the left edge of a log-scale chart to `value`, labelled on
/// the left with `labels` and at the end with `ends`.
fn bars(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    caption: &str,
    x_desc: &str,
    bars: &[(String, f64, RGBColor, String)],
    range: (f64, f64),
) -> Result<()> {
    let n = bars.len() as i32;
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(480)
        .build_cartesian_2d((range.0..range.1).log_scale(), (0..n).into_segmented())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(bars.len())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels
                .get((n - 1 - *i) as usize)
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc(x_desc)
        .x_label_formatter(&|x| format!("{x}×"))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    let left = range.0;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, v, c, _))| {
            let y = n - 1 - i as i32;
            let v = v.clamp(range.0, range.1);
            let mut rect = Rectangle::new(
                [
                    (left, SegmentValue::Exact(y)),
                    (v, SegmentValue::Exact(y + 1)),
                ],
                c.filled(),
            );
            rect.set_margin(3, 3, 0, 0);
            rect
        }))
        .map_err(err)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, v, _, text))| {
            let y = n - 1 - i as i32;
            let at = (v.clamp(range.0, range.1) * 1.04, SegmentValue::Exact(y + 1));
            Text::new(text.clone(), at, ("sans-serif", 13).into_font())
        }))
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            [(1.0, SegmentValue::Exact(0)), (1.0, SegmentValue::Exact(n))],
            BLACK.stroke_width(2),
        ))
        .map_err(err)?;
    Ok(())
}

/// Every subject relative to its workload's first row.
fn relative_chart(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    rows: &[&Row],
    report: &Report,
) -> Result<()> {
    let data: Vec<(String, f64, RGBColor, String)> = rows
        .iter()
        .map(|r| {
            let rel = r.relative.unwrap_or(1.0);
            let end = format!("{rel:.2}×  ({} {})", num(r.value), r.unit.symbol());
            (
                format!("{} · {}", short(&r.workload), r.subject),
                rel,
                color(r),
                end,
            )
        })
        .collect();
    let m = &report.machine;
    let caption = format!(
        "walogs bench{}: speed relative to each workload's first row ({}, {} cores, {})",
        if report.quick { " --quick" } else { "" },
        m.cpu,
        m.cores,
        m.fs_type
    );
    let span = range(data.iter().map(|d| d.1));
    bars(
        area,
        &caption,
        "speed relative to the workload's baseline (log scale, higher is faster)",
        &data,
        span,
    )
}

/// Each target's margin: measured / required (required / measured for upper bounds).
fn target_chart(area: &DrawingArea<BitMapBackend<'_>, Shift>, report: &Report) -> Result<()> {
    let data: Vec<(String, f64, RGBColor, String)> = report
        .targets
        .iter()
        .filter_map(|t| Some((t, t.measured?)))
        .map(|(t, measured)| {
            let (margin, op) = match t.bound {
                Bound::AtLeast => (measured / t.required, "≥"),
                Bound::AtMost => (t.required / measured.max(1e-9), "≤"),
            };
            let color = if t.met {
                RGBColor(46, 160, 67)
            } else {
                RGBColor(210, 50, 50)
            };
            let end = format!("{} {}  (target {op} {})", num(measured), t.unit, t.required);
            (t.name.clone(), margin, color, end)
        })
        .collect();
    let span = range(data.iter().map(|d| d.1));
    bars(
        area,
        "targets: margin (≥ 1× is met)",
        "measured / required (log scale; for upper bounds required / measured)",
        &data,
        span,
    )
}

/// Registers a TrueType font as plotters' `sans-serif`.
fn load_font(explicit: Option<&Path>) -> Result<()> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => find_font().ok_or_else(|| {
            anyhow!("no TrueType font found for the chart's labels; pass --font FILE.ttf")
        })?,
    };
    let bytes = std::fs::read(&path).with_context(|| format!("read font {}", path.display()))?;
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    if register_font("sans-serif", FontStyle::Normal, bytes).is_err() {
        bail!("{} is not a usable TrueType font", path.display());
    }
    Ok(())
}

/// `$WALOGS_BENCH_FONT`, a DejaVu Sans or Liberation Sans, or any `.ttf` under the usual
/// font directories.
fn find_font() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WALOGS_BENCH_FONT") {
        return Some(p.into());
    }
    let known = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:\\Windows\\Fonts\\arial.ttf",
    ];
    if let Some(p) = known.iter().map(PathBuf::from).find(|p| p.is_file()) {
        return Some(p);
    }
    ["/usr/share/fonts", "/usr/local/share/fonts"]
        .iter()
        .find_map(|d| first_ttf(Path::new(d), 4))
}

/// The first `.ttf` file under `dir`, at most `depth` levels down.
fn first_ttf(dir: &Path, depth: u32) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    entries.iter().find_map(|p| {
        if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("ttf")) {
            Some(p.clone())
        } else if depth > 0 && p.is_dir() {
            first_ttf(p, depth - 1)
        } else {
            None
        }
    })
}
