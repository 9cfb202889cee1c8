//! A run's files in its [`RunFolder`], written by an [`Observer`] as training goes:
//! `model.safetensors` (the best weights so far), `metrics.json` (one entry per epoch),
//! `checkpoint.safetensors` (the last epoch's weights, optimizer state and history, with the
//! run's fingerprint) and, once the run has finished, `training.json` (a [`TrainSummary`]).
//! Every file is written atomically, so an interrupted run can be resumed from the last epoch
//! it finished.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::observer::{Control, EpochEvent, Observer, StartEvent};
use super::{History, Resume, TrainReport, TrainSummary};
use crate::backend::Backend;
use crate::io::{read_json, write_atomically, write_json};
use crate::model::Model;
use crate::optim::{Optimizer, OptimizerState};
use crate::run_folder::{
    CHECKPOINT, FINGERPRINT_KEY, Fingerprint, METRICS, MODEL, RunFolder, SUMMARY,
};
use crate::{Error, Result};

/// Prefix of the optimizer's tensors in the checkpoint.
const OPTIMIZER_PREFIX: &str = "optimizer.";
/// Metadata key of the [`History`] in the checkpoint.
const HISTORY_KEY: &str = "progress";

/// The kept weights of the run in `out_dir`.
pub fn model_path(out_dir: &Path) -> PathBuf {
    out_dir.join(MODEL)
}

/// The weights file a `--model` argument names: the file itself, or `model.safetensors` in a
/// training output folder.
pub fn weights_path(model: &Path) -> PathBuf {
    if model.is_dir() {
        model_path(model)
    } else {
        model.to_path_buf()
    }
}

/// Reads the [`TrainSummary`] of the finished run in `out_dir`.
pub fn read_summary(out_dir: &Path) -> Result<TrainSummary> {
    read_json(&out_dir.join(SUMMARY), "a training summary")
}

/// Writes a run's files into its folder as the [`Trainer`](super::Trainer) reports epochs.
pub struct RunFiles<'f> {
    folder: &'f RunFolder,
}

impl<'f> RunFiles<'f> {
    /// The files of the run that owns `folder`. A finished run's `training.json` is removed
    /// when the run starts, so that the folder does not claim a finished run meanwhile.
    pub fn new(folder: &'f RunFolder) -> Self {
        Self { folder }
    }

    /// Where a resumed run starts: the model and history of its checkpoint, the optimizer's
    /// state, and the best weights so far (from `model.safetensors`).
    pub fn resume_point<B: Backend>(&self, backend: &B) -> Result<(Model<B>, Resume<B>)> {
        let path = self.folder.path().join(CHECKPOINT);
        let origin = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
        let model =
            Model::from_safetensors_with(backend, &bytes, &origin, Some(OPTIMIZER_PREFIX), None)?;
        let weights_error = |detail: String| Error::Weights {
            path: origin.clone(),
            detail,
        };
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| weights_error(e.to_string()))?;
        let info = meta.metadata().clone().unwrap_or_default();
        let history: History = info
            .get(HISTORY_KEY)
            .ok_or_else(|| weights_error(format!("not a checkpoint: no `{HISTORY_KEY}` metadata")))
            .and_then(|p| serde_json::from_str(p).map_err(|e| weights_error(e.to_string())))?;
        let file = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| weights_error(e.to_string()))?;
        let mut tensors = Vec::new();
        for (name, view) in file.tensors() {
            if let Some(short) = name.strip_prefix(OPTIMIZER_PREFIX) {
                let values: Vec<f32> = view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                tensors.push((short.to_string(), backend.upload(&values, view.shape())?));
            }
        }
        let best = Model::load(backend, &model_path(self.folder.path()))?.snapshot();
        let optimizer = OptimizerState {
            step: history.optimizer_step,
            tensors,
        };
        Ok((
            model,
            Resume {
                history,
                optimizer,
                best,
            },
        ))
    }

    fn save_checkpoint<B: Backend>(
        &self,
        backend: &B,
        model: &Model<B>,
        optimizer: &dyn Optimizer<B>,
        history: &History,
        fingerprint: &Fingerprint,
    ) -> Result<()> {
        let tensors = optimizer
            .state()
            .tensors
            .into_iter()
            .map(|(name, t)| (format!("{OPTIMIZER_PREFIX}{name}"), t))
            .collect();
        let metadata = HashMap::from([
            (HISTORY_KEY.to_string(), metadata_json(history)?),
            (FINGERPRINT_KEY.to_string(), metadata_json(fingerprint)?),
        ]);
        write_atomically(
            &self.folder.path().join(CHECKPOINT),
            &model.to_safetensors_with(backend, tensors, metadata)?,
        )
    }
}

/// `value` as the JSON text of a checkpoint's metadata entry.
fn metadata_json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::invalid("checkpoint", e.to_string()))
}

impl<B: Backend> Observer<B> for RunFiles<'_> {
    fn started(&mut self, _event: &StartEvent<'_>) -> Result<()> {
        let summary = self.folder.path().join(SUMMARY);
        match std::fs::remove_file(&summary) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&summary)(e)),
            _ => Ok(()),
        }
    }

    fn epoch_ended(&mut self, event: &EpochEvent<'_, B>) -> Result<Control> {
        let out = self.folder.path();
        if event.improved {
            event.model.save(event.backend, &model_path(out))?;
        }
        write_json(&out.join(METRICS), &event.history.epochs)?;
        self.save_checkpoint(
            event.backend,
            event.model,
            event.optimizer,
            event.history,
            self.folder.fingerprint(),
        )?;
        Ok(Control::Continue)
    }

    fn finished(&mut self, report: &TrainReport, _model: &Model<B>) -> Result<()> {
        let summary = TrainSummary {
            best_epoch: report.best_epoch,
            epochs: report.epochs.len(),
            stopped_early: report.stopped_early,
            seconds: report.epochs.iter().map(|e| e.seconds).sum(),
        };
        write_json(&self.folder.path().join(SUMMARY), &summary)
    }
}
