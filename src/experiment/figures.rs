//! The PNG figures of an experiment report, drawn with plotters: test scores per model kind,
//! training curves, a separable model's learned positional weights, and importance tracks with
//! the known sites marked.
//!
//! Drawn through `src/figure.rs`: the same built-in font everywhere, written to a temporary
//! file and renamed into place.

use std::path::Path;

use plotters::prelude::*;

use super::{ModelKind, RunResult};
use crate::explain::logo;
use crate::figure::{FONT, render, text};
use crate::recovery::Site;
use crate::training::EpochRecord;
use crate::{Error, Result};

/// The model kinds in the order figures show them.
pub const KINDS: [ModelKind; 3] = [
    ModelKind::Separable,
    ModelKind::DenseTwin,
    ModelKind::DenseSameUnits,
];

/// A short name of a model kind for legends and axes.
pub fn short_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Separable => "separable",
        ModelKind::DenseTwin => "dense twin",
        ModelKind::DenseSameUnits => "dense same units",
    }
}

fn color(kind: ModelKind) -> RGBColor {
    match kind {
        ModelKind::Separable => RGBColor(0, 114, 178),
        ModelKind::DenseTwin => RGBColor(230, 159, 0),
        ModelKind::DenseSameUnits => RGBColor(0, 158, 115),
    }
}

/// `(min, max)` of `values`, widened to at least `pad` on each side and never inverted.
fn bounds(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return (-pad, pad);
    }
    (lo - pad, hi + pad)
}

/// Test auROC (top row) and auPRC (bottom row) of every run, one column per task, one strip
/// per model kind, with the mean as a bar.
pub fn performance(results: &[RunResult], path: &Path) -> Result<()> {
    let mut tasks: Vec<&str> = Vec::new();
    for t in results.iter().flat_map(|r| &r.test) {
        if !tasks.contains(&t.task.as_str()) {
            tasks.push(&t.task);
        }
    }
    let size = (340 * tasks.len().max(1) as u32 + 40, 720);
    render(path, size, |root| {
        let panels = root.split_evenly((2, tasks.len().max(1)));
        for (row, score) in ["auROC", "auPRC"].iter().enumerate() {
            for (col, task) in tasks.iter().enumerate() {
                let value = |r: &RunResult| {
                    let t = r.test.iter().find(|t| t.task == *task)?;
                    if row == 0 { t.auroc } else { t.auprc }
                };
                let (lo, _) = bounds(results.iter().filter_map(value), 0.02);
                let mut chart = ChartBuilder::on(&panels[row * tasks.len() + col])
                    .caption(format!("{task}: test {score}"), (FONT, 18))
                    .margin(10)
                    .x_label_area_size(28)
                    .y_label_area_size(48)
                    .build_cartesian_2d(-0.5f64..2.5f64, lo.min(0.98)..1.0f64)
                    .map_err(text)?;
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .x_labels(3)
                    .x_label_formatter(&|x| {
                        let i = x.round();
                        if (x - i).abs() < 1e-6 && (0.0..3.0).contains(&i) {
                            short_name(KINDS[i as usize]).to_string()
                        } else {
                            String::new()
                        }
                    })
                    .y_desc(*score)
                    .label_style((FONT, 13))
                    .draw()
                    .map_err(text)?;
                for (k, kind) in KINDS.iter().enumerate() {
                    let values: Vec<f64> = results
                        .iter()
                        .filter(|r| r.kind == *kind)
                        .filter_map(value)
                        .collect();
                    let n = values.len().max(1) as f64;
                    let x = |i: usize| k as f64 - 0.25 + 0.5 * (i as f64 + 0.5) / n;
                    chart
                        .draw_series(values.iter().enumerate().map(|(i, &v)| {
                            Circle::new((x(i), v), 4, color(*kind).mix(0.7).filled())
                        }))
                        .map_err(text)?;
                    if !values.is_empty() {
                        let mean = values.iter().sum::<f64>() / values.len() as f64;
                        chart
                            .draw_series(std::iter::once(PathElement::new(
                                vec![(k as f64 - 0.3, mean), (k as f64 + 0.3, mean)],
                                BLACK.stroke_width(2),
                            )))
                            .map_err(text)?;
                    }
                }
            }
        }
        Ok(())
    })
}

/// One run's training history, for [`training_curves`].
pub struct History {
    /// The run's model kind.
    pub kind: ModelKind,
    /// Its epochs, first to last.
    pub epochs: Vec<EpochRecord>,
}

/// Training loss (top) and mean validation auROC (bottom) per epoch, one column per model
/// kind, one line per run.
pub fn training_curves(histories: &[History], path: &Path) -> Result<()> {
    let epochs = histories
        .iter()
        .map(|h| h.epochs.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let mean_auroc = |e: &EpochRecord| {
        let v: Vec<f64> = e.valid.iter().filter_map(|t| t.auroc).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let (loss_lo, loss_hi) = bounds(
        histories
            .iter()
            .flat_map(|h| h.epochs.iter().map(|e| e.train_loss)),
        0.01,
    );
    let (auroc_lo, _) = bounds(
        histories
            .iter()
            .flat_map(|h| h.epochs.iter().filter_map(mean_auroc)),
        0.01,
    );
    render(path, (1100, 700), |root| {
        let panels = root.split_evenly((2, KINDS.len()));
        for (col, kind) in KINDS.iter().enumerate() {
            for row in 0..2 {
                let (desc, lo, hi) = if row == 0 {
                    ("training loss", loss_lo, loss_hi)
                } else {
                    (
                        "validation auROC (mean over tasks)",
                        auroc_lo.min(0.98),
                        1.0,
                    )
                };
                let mut chart = ChartBuilder::on(&panels[row * KINDS.len() + col])
                    .caption(format!("{}: {desc}", short_name(*kind)), (FONT, 16))
                    .margin(10)
                    .x_label_area_size(30)
                    .y_label_area_size(48)
                    .build_cartesian_2d(1usize..epochs, lo..hi)
                    .map_err(text)?;
                chart
                    .configure_mesh()
                    .x_desc("epoch")
                    .label_style((FONT, 13))
                    .draw()
                    .map_err(text)?;
                for h in histories.iter().filter(|h| h.kind == *kind) {
                    let points: Vec<(usize, f64)> = h
                        .epochs
                        .iter()
                        .filter_map(|e| {
                            let y = if row == 0 {
                                Some(e.train_loss)
                            } else {
                                mean_auroc(e)
                            };
                            y.map(|y| (e.epoch, y))
                        })
                        .collect();
                    chart
                        .draw_series(LineSeries::new(points, color(*kind).mix(0.6)))
                        .map_err(text)?;
                }
            }
        }
        Ok(())
    })
}

/// The positional weights `(U, L)` row-major of a separable layer, one small panel per unit.
pub fn positional_weights(
    weights: &[f32],
    units: usize,
    length: usize,
    title: &str,
    path: &Path,
) -> Result<()> {
    if units == 0 || weights.len() != units * length {
        return Err(Error::invalid(
            "positional_weights",
            format!(
                "{} weights do not make {units} units of length {length}",
                weights.len()
            ),
        ));
    }
    let cols = (units as f64).sqrt().ceil() as usize;
    let rows = units.div_ceil(cols);
    let size = (240 * cols as u32, 180 * rows as u32 + 40);
    let (lo, hi) = bounds(weights.iter().map(|&w| f64::from(w)), 0.05);
    render(path, size, |root| {
        let (top, body) = root.split_vertically(40);
        top.titled(title, (FONT, 20)).map_err(text)?;
        let panels = body.split_evenly((rows, cols));
        for (u, panel) in panels.iter().enumerate().take(units) {
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("unit {u}"), (FONT, 14))
                .margin(6)
                .x_label_area_size(20)
                .y_label_area_size(36)
                .build_cartesian_2d(0usize..length.max(2) - 1, lo..hi)
                .map_err(text)?;
            chart
                .configure_mesh()
                .x_labels(4)
                .y_labels(4)
                .label_style((FONT, 11))
                .draw()
                .map_err(text)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0, 0.0), (length.max(2) - 1, 0.0)],
                    BLACK.mix(0.4),
                )))
                .map_err(text)?;
            let row = &weights[u * length..(u + 1) * length];
            chart
                .draw_series(LineSeries::new(
                    row.iter().enumerate().map(|(l, &w)| (l, f64::from(w))),
                    color(ModelKind::Separable).stroke_width(2),
                ))
                .map_err(text)?;
        }
        Ok(())
    })
}

/// One importance track: a sequence's per-position scores under one model, with its sites.
pub struct Track {
    /// Panel title (sequence, task, model).
    pub title: String,
    /// The model kind, for the colour.
    pub kind: ModelKind,
    /// One score per position.
    pub scores: Vec<f32>,
    /// The sequence, whose letters are drawn as tall as the scores.
    pub sequence: Vec<u8>,
    /// Known sites, shaded.
    pub sites: Vec<Site>,
}

/// Importance tracks in a grid of `columns` columns (a row per sequence, a column per model) as
/// sequence logos (each position's letter as tall as its score, negative ones below the axis),
/// known sites shaded grey; the panel's frame is the model kind's colour.
pub fn importance_tracks(tracks: &[Track], columns: usize, path: &Path) -> Result<()> {
    if tracks.is_empty() || columns == 0 {
        return Err(Error::invalid(
            "importance_tracks",
            "no tracks to draw".to_string(),
        ));
    }
    let rows = tracks.len().div_ceil(columns);
    render(path, (520 * columns as u32, 200 * rows as u32), |root| {
        let panels = root.split_evenly((rows, columns));
        for (track, panel) in tracks.iter().zip(&panels) {
            let length = track.scores.len().max(1);
            // the score on the channel of the base present (none for N)
            let mut values = vec![0.0f32; 4 * length];
            for (l, (&score, &base)) in track.scores.iter().zip(&track.sequence).enumerate() {
                if let Some(c) = crate::dna::channel(base) {
                    values[c * length + l] = score;
                }
            }
            let (lo, hi) = logo::stack_range(&values, length);
            // an all-zero track (a model that ignores its input) still gets a readable axis
            let (lo, hi) = if hi - lo < 1e-9 {
                (-1.0, 1.0)
            } else {
                (lo, hi)
            };
            let pad = (hi - lo) * 0.05;
            let (lo, hi) = (lo - pad, hi + pad);
            let mut chart = ChartBuilder::on(panel)
                .caption(&track.title, (FONT, 14))
                .margin(6)
                .x_label_area_size(22)
                .y_label_area_size(44)
                .build_cartesian_2d(0f64..length as f64, lo..hi)
                .map_err(text)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(6)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_labels(4)
                .label_style((FONT, 11))
                .axis_style(color(track.kind).stroke_width(2))
                .draw()
                .map_err(text)?;
            let shade = RGBColor(200, 200, 200).mix(0.6);
            chart
                .draw_series(track.sites.iter().map(|s| {
                    Rectangle::new([(s.start as f64, lo), (s.end as f64, hi)], shade.filled())
                }))
                .map_err(text)?;
            let in_site = |l: usize| track.sites.iter().any(|s| s.start <= l && l < s.end);
            // an A's counter: the blend of the shade over white inside sites
            let behind = |l: usize| {
                if in_site(l) {
                    RGBColor(222, 222, 222)
                } else {
                    WHITE
                }
            };
            chart
                .draw_series(logo::letter_polygons(&values, length, behind))
                .map_err(text)?;
        }
        Ok(())
    })
}
