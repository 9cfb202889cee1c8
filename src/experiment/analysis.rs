//! What an experiment's report shows beyond the test scores: each run's importance scores
//! against the known sites, and the figures. Everything is recomputed from the files of the
//! finished runs (`runs/<name>/model.safetensors` and `metrics.json`), so a report can be
//! redrawn at any time.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::figures::{self, History, KINDS, Track, short_name};
use super::importance::{TaskRecovery, Truth, importance, recover};
use super::{Draw, ModelKind, RunResult, is_degenerate, run_dir, run_name};
use crate::backend::Backend;
use crate::data::Dataset;
use crate::explain::Method;
use crate::io::read_json;
use crate::layers::Layer;
use crate::model::Model;
use crate::training::{EpochRecord, model_path};
use crate::{Error, Result};

/// Sequences shown in the importance figure.
const TRACKS: usize = 4;

/// One run's importance against the known sites, per task with a truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunImportance {
    /// Index of the draw.
    pub draw: usize,
    /// Seed.
    pub seed: u64,
    /// Model kind.
    pub kind: ModelKind,
    /// Recovery per task.
    pub tasks: Vec<TaskRecovery>,
}

/// A figure of the report: a PNG under the experiment folder and what it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Path relative to the experiment folder, e.g. `figures/performance.png`.
    pub file: String,
    /// One sentence saying what it shows.
    pub caption: String,
}

/// The report's material besides the test scores; [`Default`] is "nothing more".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    /// The hyperparameters of each draw.
    pub draws: Vec<Draw>,
    /// Importance against the known sites, per run (empty without truths).
    pub importance: Vec<RunImportance>,
    /// Figures written.
    pub figures: Vec<Figure>,
}

/// The folder of a finished run.
fn folder(out: &Path, r: &RunResult) -> PathBuf {
    run_dir(out, &run_name(r.draw, r.seed, r.kind))
}

fn load<B: Backend>(backend: &B, out: &Path, r: &RunResult) -> Result<Model<B>> {
    Model::load(backend, &model_path(&folder(out, r)))
}

fn history(out: &Path, r: &RunResult) -> Result<History> {
    let epochs: Vec<EpochRecord> = read_json(
        &folder(out, r).join(crate::run_folder::METRICS),
        "a run's metrics",
    )?;
    Ok(History {
        kind: r.kind,
        epochs,
    })
}

fn mean_auroc(r: &RunResult) -> f64 {
    let v: Vec<f64> = r.test.iter().filter_map(|t| t.auroc).collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The separable run with the best mean test auROC (ties: the earliest).
fn best_separable(results: &[RunResult]) -> Option<&RunResult> {
    results
        .iter()
        .filter(|r| r.kind == ModelKind::Separable && mean_auroc(r).is_finite())
        .fold(None, |best: Option<&RunResult>, r| match best {
            Some(b) if mean_auroc(b) >= mean_auroc(r) => Some(b),
            _ => Some(r),
        })
}

/// The full `(U, L)` positional weights of the model's first separable layer.
fn positional_weights<B: Backend>(
    backend: &B,
    model: &Model<B>,
) -> Result<Option<(Vec<f32>, usize, usize)>> {
    let Some((index, layer)) = model
        .layers()
        .iter()
        .enumerate()
        .find_map(|(i, l)| match l {
            Layer::Separable(s) => Some((i, s)),
            _ => None,
        })
    else {
        return Ok(None);
    };
    let name = format!("layers.{index}.pos");
    let (_, param) = model
        .parameters()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| Error::invalid("positional_weights", format!("no parameter {name}")))?;
    let full = if layer.symmetric {
        backend.mirror_expand(&param.value, layer.length)?
    } else {
        backend.reshape(&param.value, &[layer.units, layer.length])?
    };
    Ok(Some((backend.download(&full)?, layer.units, layer.length)))
}

/// Scores importance for every run, draws the figures under `out/figures/`, and returns both.
///
/// `test` is the held-out set the runs were scored on; `truths` its known sites (may be
/// empty: then no importance is computed and only the figures that need none are drawn).
pub fn analyse<B: Backend>(
    backend: &B,
    out: &Path,
    results: &[RunResult],
    draws: Vec<Draw>,
    test: &Dataset,
    truths: &[Truth],
    method: Method,
) -> Result<Analysis> {
    let dir = out.join("figures");
    std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
    let mut analysis = Analysis {
        draws,
        ..Analysis::default()
    };
    let mut figure = |file: &str, caption: String| {
        analysis.figures.push(Figure {
            file: format!("figures/{file}"),
            caption,
        })
    };

    figures::performance(results, &dir.join("performance.png"))?;
    figure(
        "performance.png",
        "Test auROC and auPRC of every run; bars are means.".into(),
    );
    let histories: Vec<History> = results
        .iter()
        .map(|r| history(out, r))
        .collect::<Result<_>>()?;
    figures::training_curves(&histories, &dir.join("training_curves.png"))?;
    figure(
        "training_curves.png",
        "Training loss and validation auROC per epoch, one line per run.".into(),
    );

    let best = best_separable(results);
    if let Some(best) = best {
        let model = load(backend, out, best)?;
        if let Some((weights, units, length)) = positional_weights(backend, &model)? {
            let name = run_name(best.draw, best.seed, best.kind);
            figures::positional_weights(
                &weights,
                units,
                length,
                &format!("Positional weights of {name} (best separable run)"),
                &dir.join("positional_weights.png"),
            )?;
            figure(
                "positional_weights.png",
                format!(
                    "Learned positional weights per unit of {name}, the separable run with the best mean test auROC."
                ),
            );
        }
    }

    let mut importance_of = Vec::new();
    for r in results {
        let model = load(backend, out, r)?;
        importance_of.push(RunImportance {
            draw: r.draw,
            seed: r.seed,
            kind: r.kind,
            tasks: recover(backend, &model, test, truths, method)?,
        });
    }
    analysis.importance = importance_of;

    if let (Some(best), Some(truth)) = (best, truths.first()) {
        let shown = Truth {
            sequences: truth.sequences.iter().take(TRACKS).copied().collect(),
            sites: truth.sites.iter().take(TRACKS).cloned().collect(),
            ..truth.clone()
        };
        let mut columns = Vec::new();
        for kind in KINDS {
            let Some(r) = results
                .iter()
                .find(|o| o.kind == kind && o.draw == best.draw && o.seed == best.seed)
            else {
                continue;
            };
            let model = load(backend, out, r)?;
            let label = if is_degenerate(r) {
                format!("{} (learned nothing)", short_name(kind))
            } else {
                short_name(kind).to_string()
            };
            columns.push((
                kind,
                label,
                importance(backend, &model, test, &shown, method)?,
            ));
        }
        let task = &test.tasks[truth.task];
        let mut tracks = Vec::new();
        for (row, (&i, sites)) in shown.sequences.iter().zip(&shown.sites).enumerate() {
            for (kind, label, scores) in &columns {
                tracks.push(Track {
                    title: format!("{} | {task} | {label}", test.ids[i]),
                    kind: *kind,
                    scores: scores[row * test.length..(row + 1) * test.length].to_vec(),
                    sequence: test.sequences[i].clone(),
                    sites: sites.clone(),
                });
            }
        }
        if !tracks.is_empty() {
            figures::importance_tracks(&tracks, columns.len(), &dir.join("importance.png"))?;
            figure(
                "importance.png",
                format!(
                    "{method} importance for {task} on held-out sequences (rows) under each model of {} (columns); grey: {}.",
                    run_name(best.draw, best.seed, best.kind),
                    truth.source
                ),
            );
        }
    }
    Ok(analysis)
}
