//! `sepfc evaluate`: auROC and auPRC per task of a trained model on labelled sequences.

use std::path::{Path, PathBuf};

use super::device::{BackendTask, Device, run_on};
use crate::backend::Backend;
use crate::data::Dataset;
use crate::model::Model;
use crate::train::TaskScores;
use crate::{Error, Result};

struct EvaluateJob {
    model: PathBuf,
    data: Dataset,
}

impl BackendTask for EvaluateJob {
    type Output = Vec<TaskScores>;

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<Vec<TaskScores>> {
        let model = Model::load(backend, &self.model)?;
        if self.data.length != model.input_length() {
            return Err(Error::Config(format!(
                "the sequences are {} bp, the model reads {} bp",
                self.data.length,
                model.input_length()
            )));
        }
        Ok(crate::train::evaluate(backend, &model, &self.data, 256)?.1)
    }
}

/// Runs `sepfc evaluate`, printing one line per task.
pub fn run(model: &Path, fasta: &Path, labels: &Path, device: Device) -> Result<Vec<TaskScores>> {
    let data = super::train::read_labelled(fasta, labels)?;
    let scores = run_on(
        device,
        EvaluateJob {
            model: super::predict::weights_path(model),
            data,
        },
    )?;
    let show = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
    for s in &scores {
        println!(
            "{}: auROC {} auPRC {} (loss {:.4})",
            s.task,
            show(s.auroc),
            show(s.auprc),
            s.loss
        );
    }
    Ok(scores)
}
