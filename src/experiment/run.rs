//! Running an experiment's plan: every run trained on the same splits and scored on the
//! held-out test set, results appended to `results.json` as they come, so that an interrupted
//! experiment continues where it stopped.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{ExperimentConfig, ModelKind, plan};
use crate::backend::Backend;
use crate::config::Config;
use crate::data::Dataset;
use crate::inference::evaluate;
use crate::io::write_json;
use crate::model::Model;
use crate::run_folder::{Fingerprint, RunFolder};
use crate::training::{TaskScores, train};
use crate::{Error, Result};

/// What one run of an experiment measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Index of the draw.
    pub draw: usize,
    /// Seed of the weights and batch order.
    pub seed: u64,
    /// Which model.
    pub kind: ModelKind,
    /// Trainable values.
    pub parameters: usize,
    /// Units of the layer in the separable layer's place.
    pub units: usize,
    /// Scores on the held-out test set, per task.
    pub test: Vec<TaskScores>,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
    /// Wall time of training and testing.
    pub seconds: f64,
}

/// The folder name of a run, unique within an experiment: `draw{draw}_seed{seed}_{kind}`.
pub fn run_name(draw: usize, seed: u64, kind: ModelKind) -> String {
    let kind = match kind {
        ModelKind::Separable => "separable",
        ModelKind::DenseTwin => "dense_twin",
        ModelKind::DenseSameUnits => "dense_same_units",
    };
    format!("draw{draw}_seed{seed}_{kind}")
}

/// The folder of run `name` under an experiment's output folder `out`: `out/runs/<name>`.
pub fn run_dir(out: &Path, name: &str) -> PathBuf {
    out.join("runs").join(name)
}

/// The data an experiment trains, validates and tests on.
pub struct Splits {
    /// Training set.
    pub train: Dataset,
    /// Validation set for early stopping, if any.
    pub valid: Option<Dataset>,
    /// Held-out test set.
    pub test: Dataset,
}

/// Trains every run of `exp` on `splits` with `base` as the template, writing each run's
/// weights and metrics under `out/runs/` and all results to `out/results.json`. Runs already
/// in `results.json` are not trained again.
pub fn run_experiment<B: Backend + 'static>(
    backend: &B,
    exp: &ExperimentConfig,
    base: &Config,
    splits: &Splits,
    out: &Path,
    mut report: impl FnMut(&str),
) -> Result<Vec<RunResult>> {
    let runs = plan(exp, base, splits.train.length)?;
    let results_path = out.join("results.json");
    let mut results: Vec<RunResult> = match std::fs::read_to_string(&results_path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| Error::Weights {
            path: results_path.display().to_string(),
            detail: format!("not an experiment's results: {e}"),
        })?,
        Err(_) => Vec::new(),
    };
    for (i, run) in runs.iter().enumerate() {
        let done = results
            .iter()
            .any(|r| r.draw == run.draw.index && r.seed == run.seed && r.kind == run.kind);
        if done {
            continue;
        }
        let started = Instant::now();
        let name = run_name(run.draw.index, run.seed, run.kind);
        let mut model = Model::new(
            backend,
            run.config.clone(),
            splits.train.length,
            run.config.train.seed,
        )?;
        model.set_task_names(splits.train.tasks.clone())?;
        // the run is not in the results, so whatever its folder holds is an unfinished try
        let fingerprint = Fingerprint::of(&run.config, splits.train.length, &[])?;
        let folder = RunFolder::replace(&run_dir(out, &name), fingerprint)?;
        let trained = train(
            backend,
            &mut model,
            &splits.train,
            splits.valid.as_ref(),
            &folder,
            &run.config.train,
            false,
            |_| {},
        )?;
        let test = evaluate(backend, &model, &splits.test, 256)?;
        let result = RunResult {
            draw: run.draw.index,
            seed: run.seed,
            kind: run.kind,
            parameters: model.parameter_count(),
            units: run.units,
            test,
            best_epoch: trained.best_epoch,
            seconds: started.elapsed().as_secs_f64(),
        };
        let scores: Vec<String> = result
            .test
            .iter()
            .map(|t| format!("{} auROC {:.3}", t.task, t.auroc.unwrap_or(f64::NAN)))
            .collect();
        report(&format!(
            "[{}/{}] {name}: {} parameters, {}; {:.0} s",
            i + 1,
            runs.len(),
            result.parameters,
            scores.join(", "),
            result.seconds
        ));
        results.push(result);
        write_json(&results_path, &results)?;
    }
    Ok(results)
}
