//! `sepfc evaluate`: auROC and auPRC per task of a trained model on labelled sequences, or on
//! the held-out test set of a training config.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::device::{BackendTask, Device, run_on};
use crate::backend::Backend;
use crate::data::Dataset;
use crate::io::{read_json, write_json};
use crate::model::Model;
use crate::training::TaskScores;
use crate::{Error, Result};

/// The sequences to evaluate on.
#[derive(Debug, Clone)]
pub enum EvaluationData {
    /// A FASTA file and its labels (TSV or `.target`).
    Labelled {
        /// The sequences.
        fasta: PathBuf,
        /// Their labels.
        labels: PathBuf,
    },
    /// The held-out test set of a training config (`test_ids`, `test_chroms`,
    /// `test_fraction` or `test_fasta`), split exactly as `sepfc train` splits it.
    HeldOut {
        /// The training config.
        config: PathBuf,
    },
}

/// What an evaluation measured; `sepfc evaluate --json` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Sequences scored.
    pub sequences: usize,
    /// Trainable values of the model.
    pub parameters: usize,
    /// Wall time of loading the model and scoring.
    pub seconds: f64,
    /// Scores per task.
    pub tasks: Vec<TaskScores>,
}

impl Evaluation {
    /// Reads an evaluation written by `sepfc evaluate --json`.
    pub fn read(path: &Path) -> Result<Self> {
        read_json(path, "an evaluation")
    }
}

struct EvaluateJob {
    model: PathBuf,
    data: Dataset,
    /// Where the labels come from, for errors.
    origin: String,
}

impl BackendTask for EvaluateJob {
    type Output = Evaluation;

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<Evaluation> {
        let started = Instant::now();
        let model = Model::load_for_length(backend, &self.model, self.data.length)?;
        if self.data.length != model.input_length() {
            return Err(Error::Config(format!(
                "the sequences are {} bp, the model reads {} bp",
                self.data.length,
                model.input_length()
            )));
        }
        let data = self
            .data
            .with_tasks(model.task_names(), &self.origin)
            .map_err(|e| match model.has_task_names() {
                true => e,
                false => Error::Config(format!(
                    "{e}; {} names no tasks (its metadata has no `tasks` entry), so its tasks are task0, task1, ...",
                    self.model.display()
                )),
            })?;
        let tasks = crate::inference::evaluate(backend, &model, &data, 256)?;
        Ok(Evaluation {
            sequences: data.len(),
            parameters: model.parameter_count(),
            seconds: started.elapsed().as_secs_f64(),
            tasks,
        })
    }
}

/// The held-out test set of the training config at `path`.
fn held_out(path: &Path) -> Result<Dataset> {
    let config = crate::config::Config::read(path)?;
    let data = config.data_section(path)?;
    crate::data::load_splits(data, path, config.train.seed)?
        .test
        .ok_or_else(|| {
            Error::Config(format!(
                "{}: [data] holds out no test set (test_ids, test_chroms, test_fraction or test_fasta)",
                path.display()
            ))
        })
}

/// Runs `sepfc evaluate`, printing one line per task and, with `json`, writing the
/// [`Evaluation`] there.
pub fn run(
    model: &Path,
    data: &EvaluationData,
    json: Option<&Path>,
    device: Device,
) -> Result<Evaluation> {
    let (data, origin) = match data {
        EvaluationData::Labelled { fasta, labels } => (
            crate::data::splits::read_labelled(fasta, labels)?,
            labels.display().to_string(),
        ),
        EvaluationData::HeldOut { config } => (
            held_out(config)?,
            format!("the test set of {}", config.display()),
        ),
    };
    let evaluation = run_on(
        device,
        EvaluateJob {
            model: crate::training::weights_path(model),
            data,
            origin,
        },
    )?;
    for s in &evaluation.tasks {
        crate::say!("{}: {} (loss {:.4})", s.task, s.metrics(4), s.loss);
    }
    if let Some(path) = json {
        write_json(path, &evaluation)?;
    }
    Ok(evaluation)
}
