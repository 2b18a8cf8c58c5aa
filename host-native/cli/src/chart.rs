//! The report's SVG charts (plotters' SVG backend): items/s per backend
//! beside its baseline, synced throughput against producers, and the put
//! latency distribution.

use std::path::Path;

use plotters::prelude::*;

use crate::bench::R;
use crate::report::{Measured, Producers};

fn err(e: impl std::fmt::Display) -> String {
    format!("chart: {e}")
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn label(r: &Measured) -> String {
    format!("{} ({})", r.backend, r.durability.name())
}

/// Bars of items/s (log scale): each row's queue beside its baseline.
pub(crate) fn throughput(path: &Path, rows: &[Measured]) -> R<()> {
    let root = SVGBackend::new(path, (1000, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let top = rows.iter().map(|r| r.ours.rate.max(r.baseline.rate)).fold(10.0, f64::max) * 2.0;
    let labels: Vec<String> = rows.iter().map(label).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption("items/s per backend, beside its raw baseline (same run)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5f64..rows.len() as f64 - 0.5, (1f64..top).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(rows.len())
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("items/s")
        .draw()
        .map_err(err)?;
    let bar = |i: usize, from: f64, v: f64, color: RGBColor| {
        Rectangle::new([(i as f64 + from, 1.0), (i as f64 + from + 0.35, v.max(1.0))], color.filled())
    };
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| bar(i, -0.38, r.ours.rate, PALETTE[0])))
        .map_err(err)?
        .label("persist-queue (ours)")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], PALETTE[0].filled()));
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| bar(i, 0.03, r.baseline.rate, PALETTE[1])))
        .map_err(err)?
        .label("raw baseline")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], PALETTE[1].filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Lines of synced items/s against producer threads, one per store.
pub(crate) fn producers(path: &Path, series: &[Producers]) -> R<()> {
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let max_n = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).max().unwrap_or(1) as f64;
    let max_rate = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(1.0, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption("synced put throughput against producer threads (group commit)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.5f64..max_n + 0.5, 0f64..max_rate)
        .map_err(err)?;
    chart.configure_mesh().x_desc("producer threads").y_desc("items/s").draw().map_err(err)?;
    for (k, s) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let points: Vec<(f64, f64)> = s.points.iter().map(|&(n, r)| (n as f64, r)).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(s.backend)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, color.filled()))).map_err(err)?;
    }
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(err)?;
    root.present().map_err(err)
}

/// The put latency distribution of every row: percentile against
/// microseconds (log scale).
pub(crate) fn latency(path: &Path, rows: &[Measured]) -> R<()> {
    let root = SVGBackend::new(path, (1000, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let lo = rows.iter().filter_map(|r| r.ours.latencies.first()).fold(f64::MAX, |a, &b| a.min(b)).max(0.01);
    let hi = rows.iter().filter_map(|r| r.ours.latencies.last()).fold(1.0, |a: f64, &b| a.max(b)) * 1.5;
    let mut chart = ChartBuilder::on(&root)
        .caption("put latency distribution (percentile of puts at or below)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((lo..hi).log_scale(), 0f64..100f64)
        .map_err(err)?;
    chart.configure_mesh().x_desc("microseconds").y_desc("percentile").draw().map_err(err)?;
    for (k, r) in rows.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let n = r.ours.latencies.len();
        let step = (n / 400).max(1);
        let points: Vec<(f64, f64)> = r
            .ours
            .latencies
            .iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0 || *i + 1 == n)
            .map(|(i, &us)| (us.max(lo), 100.0 * (i + 1) as f64 / n as f64))
            .collect();
        let style = if r.durability.is_synced() { color.stroke_width(2) } else { color.stroke_width(1) };
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(err)?
            .label(label(r))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}
