//! The training loop: shuffled mini-batches (optionally with reverse complements), Adam or
//! SGD, validation every epoch (loss, auROC and auPRC per task), early stopping on the mean
//! validation auPRC with the best weights kept, and checkpoints written atomically so that an
//! interrupted run can `--resume`.
//!
//! Files in the output folder: `model.safetensors` (the best weights so far), `metrics.json`
//! (one entry per epoch), `checkpoint.safetensors` (the last epoch's weights, optimizer state
//! and history, for resuming) and, once the run has finished, `training.json` (a
//! [`TrainSummary`]). CPU runs with the same seed are bit-for-bit repeatable: batch
//! orders and dropout masks derive from the seed, the epoch and the step.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::backend::shapes::hash_u32;
use crate::config::{OptimizerKind, TrainConfig};
use crate::data::Dataset;
use crate::io::{read_json, write_atomically, write_json};
use crate::metrics::task_metrics;
use crate::model::Model;
use crate::optim::{Adam, Optimizer, OptimizerState, Sgd};
use crate::run_folder::{
    CHECKPOINT, FINGERPRINT_KEY, Fingerprint, METRICS, MODEL, RunFolder, SUMMARY,
};
use crate::{Error, Result};

/// Validation scores of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskScores {
    /// Task name.
    pub task: String,
    /// Mean binary cross-entropy over the examples with a label.
    pub loss: f64,
    /// Area under the ROC curve (`None` without both classes).
    pub auroc: Option<f64>,
    /// Area under the precision-recall curve (`None` without positives).
    pub auprc: Option<f64>,
}

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss (cross-entropy plus regularizers) over the epoch's steps.
    pub train_loss: f64,
    /// Validation scores per task (empty without a validation set).
    pub valid: Vec<TaskScores>,
    /// Training sequences per second (including reverse complements when augmenting).
    pub train_samples_per_s: f64,
    /// Wall time of the epoch, validation included.
    pub seconds: f64,
}

impl EpochRecord {
    /// Mean validation auPRC over the tasks that have one.
    pub fn mean_auprc(&self) -> Option<f64> {
        let values: Vec<f64> = self.valid.iter().filter_map(|t| t.auprc).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Every epoch, first to last.
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose weights were kept (the last one without validation).
    pub best_epoch: usize,
    /// Whether early stopping ended the run before its last epoch.
    pub stopped_early: bool,
}

/// The end of a finished run, as `training.json` records it. The file is written last and
/// removed when a run starts, so a folder that has one holds a complete run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// The epoch whose weights `model.safetensors` holds.
    pub best_epoch: usize,
    /// Epochs trained.
    pub epochs: usize,
    /// Whether early stopping ended the run before its last epoch.
    pub stopped_early: bool,
    /// Wall time of all epochs, validation included (resumed epochs too).
    pub seconds: f64,
}

/// Where and how to train.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The schedule (optimizer, lr, epochs, batch size, seed, shuffling, augmentation,
    /// patience).
    pub schedule: TrainConfig,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

const OPTIMIZER_PREFIX: &str = "optimizer.";

/// The file names inside the output folder.
pub fn model_path(out_dir: &Path) -> PathBuf {
    out_dir.join(MODEL)
}

/// Reads the [`TrainSummary`] of the finished run in `out_dir`.
pub fn read_summary(out_dir: &Path) -> Result<TrainSummary> {
    read_json(&out_dir.join(SUMMARY), "a training summary")
}

fn optimizer_for<B: Backend + 'static>(schedule: &TrainConfig) -> Box<dyn Optimizer<B>> {
    match schedule.optimizer {
        OptimizerKind::Adam => Box::new(Adam::new(schedule.lr)),
        OptimizerKind::Sgd => Box::new(Sgd { lr: schedule.lr }),
    }
}

/// Logits `(N, tasks)` of every sequence of `data`, in batches.
pub fn logits<B: Backend>(
    backend: &B,
    model: &Model<B>,
    sequences: &[Vec<u8>],
    batch_size: usize,
) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(sequences.len() * model.tasks());
    for chunk in sequences.chunks(batch_size.max(1)) {
        let mut x = Vec::with_capacity(chunk.len() * 4 * model.input_length());
        for s in chunk {
            if s.len() != model.input_length() {
                return Err(Error::shape(
                    "predict",
                    format!(
                        "a sequence of {} bp where the model reads {} bp",
                        s.len(),
                        model.input_length()
                    ),
                ));
            }
            crate::dna::one_hot_into(s, &mut x);
        }
        let x = backend.upload(&x, &[chunk.len(), 4, model.input_length()])?;
        out.extend(backend.download(&model.logits(backend, &x)?)?);
    }
    Ok(out)
}

/// The probability of a logit.
pub(crate) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Predicted probabilities `(N, tasks)` and per-task scores of `data`.
pub fn evaluate<B: Backend>(
    backend: &B,
    model: &Model<B>,
    data: &Dataset,
    batch_size: usize,
) -> Result<(Vec<f32>, Vec<TaskScores>)> {
    let z = logits(backend, model, &data.sequences, batch_size)?;
    let t = data.tasks.len();
    if t != model.tasks() {
        return Err(Error::shape(
            "evaluate",
            format!(
                "the data has {t} tasks, the model predicts {}",
                model.tasks()
            ),
        ));
    }
    let scores = (0..t)
        .map(|task| {
            let column = |v: &[f32]| v.iter().skip(task).step_by(t).copied().collect::<Vec<_>>();
            let (zs, ys) = (column(&z), column(&data.targets));
            let (mut loss, mut count) = (0.0f64, 0usize);
            for (&zi, &yi) in zs.iter().zip(&ys) {
                if !yi.is_nan() {
                    let (zi, yi) = (zi as f64, yi as f64);
                    loss += zi.max(0.0) - zi * yi + (-zi.abs()).exp().ln_1p();
                    count += 1;
                }
            }
            let (auroc, auprc) = task_metrics(&zs, &ys);
            TaskScores {
                task: data.tasks[task].clone(),
                loss: loss / count.max(1) as f64,
                auroc,
                auprc,
            }
        })
        .collect();
    Ok((z.into_iter().map(sigmoid).collect(), scores))
}

/// The batch order of `epoch` (1-based): shuffled from the seed and the epoch when asked.
fn epoch_order(n: usize, schedule: &TrainConfig, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if schedule.shuffle {
        let mut rng = StdRng::seed_from_u64(
            schedule.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        order.shuffle(&mut rng);
    }
    order
}

/// Saved state of a run, beside the weights and optimizer tensors in the checkpoint.
#[derive(Serialize, Deserialize)]
struct Progress {
    epochs: Vec<EpochRecord>,
    best_epoch: usize,
    best_score: Option<f64>,
    optimizer_step: u32,
}

fn save_checkpoint<B: Backend>(
    backend: &B,
    model: &Model<B>,
    optimizer: &dyn Optimizer<B>,
    progress: &Progress,
    fingerprint: &Fingerprint,
    path: &Path,
) -> Result<()> {
    let state = optimizer.state();
    let tensors = state
        .tensors
        .into_iter()
        .map(|(name, t)| (format!("{OPTIMIZER_PREFIX}{name}"), t))
        .collect();
    let progress =
        serde_json::to_string(progress).map_err(|e| Error::invalid("checkpoint", e.to_string()))?;
    let fingerprint = serde_json::to_string(fingerprint)
        .map_err(|e| Error::invalid("checkpoint", e.to_string()))?;
    let metadata = HashMap::from([
        ("progress".to_string(), progress),
        (FINGERPRINT_KEY.to_string(), fingerprint),
    ]);
    write_atomically(
        path,
        &model.to_safetensors_with(backend, tensors, metadata)?,
    )
}

fn load_checkpoint<B: Backend>(
    backend: &B,
    path: &Path,
    optimizer: &mut dyn Optimizer<B>,
) -> Result<(Model<B>, Progress)> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    let model =
        Model::from_safetensors_with(backend, &bytes, &origin, Some(OPTIMIZER_PREFIX), None)?;
    let weights_error = |detail: String| Error::Weights {
        path: origin.clone(),
        detail,
    };
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| weights_error(e.to_string()))?;
    let info = meta.metadata().clone().unwrap_or_default();
    let progress: Progress = info
        .get("progress")
        .ok_or_else(|| weights_error("not a checkpoint: no `progress` metadata".into()))
        .and_then(|p| serde_json::from_str(p).map_err(|e| weights_error(e.to_string())))?;
    let file =
        safetensors::SafeTensors::deserialize(&bytes).map_err(|e| weights_error(e.to_string()))?;
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
    optimizer.load_state(OptimizerState {
        step: progress.optimizer_step,
        tensors,
    })?;
    Ok((model, progress))
}

fn write_metrics(out_dir: &Path, epochs: &[EpochRecord]) -> Result<()> {
    write_json(&out_dir.join(METRICS), epochs)
}

/// Trains `model` on `train`, validating on `valid` after every epoch, writing the run's
/// files into `folder` as it goes. `report` receives one line per epoch. When `folder` was
/// opened to resume, `model` is replaced by the checkpoint's and training continues after its
/// last epoch.
///
/// Errors before anything is written: a schedule [`TrainConfig::check`] refuses, no training
/// sequences, labels whose task count is not the model's, an unreadable checkpoint. A training
/// loss that is not finite at the end of an epoch stops the run with an error (the weights of
/// that epoch are not kept).
pub fn train<B: Backend + 'static>(
    backend: &B,
    model: &mut Model<B>,
    train: &Dataset,
    valid: Option<&Dataset>,
    folder: &RunFolder,
    options: &TrainOptions,
    mut report: impl FnMut(&str),
) -> Result<TrainReport> {
    let schedule = &options.schedule;
    schedule.check().map_err(Error::Config)?;
    let copies = if schedule.rc_augment { 2 } else { 1 };
    crate::model::memory::check_fits(model.config(), model.layers(), copies * schedule.batch_size)?;
    if train.is_empty() {
        return Err(Error::Config("no training sequences".into()));
    }
    if train.tasks.len() != model.tasks() {
        return Err(Error::shape(
            "train",
            format!(
                "the labels have {} tasks ({}), the model's last layer has {} units",
                train.tasks.len(),
                train.tasks.join(", "),
                model.tasks()
            ),
        ));
    }
    let out_dir = folder.path();
    let checkpoint = out_dir.join(CHECKPOINT);
    let mut optimizer = optimizer_for::<B>(schedule);
    let mut progress = Progress {
        epochs: Vec::new(),
        best_epoch: 0,
        best_score: None,
        optimizer_step: 0,
    };
    let mut best = model.snapshot();
    if folder.resumed() {
        let (resumed, saved) = load_checkpoint(backend, &checkpoint, optimizer.as_mut())?;
        *model = resumed;
        best = Model::load(backend, &model_path(out_dir))?.snapshot();
        report(&format!(
            "resuming after epoch {} of {}",
            saved.epochs.len(),
            schedule.epochs
        ));
        progress = saved;
    }
    let summary = out_dir.join(SUMMARY);
    match std::fs::remove_file(&summary) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(Error::Io {
                path: summary.display().to_string(),
                source: e,
            });
        }
        _ => {}
    }
    let t = train.tasks.len();
    let mut stopped_early = false;
    let mut step = progress.optimizer_step;
    for epoch in progress.epochs.len() + 1..=schedule.epochs {
        let started = Instant::now();
        let order = epoch_order(train.len(), schedule, epoch);
        let bar = crate::progress::epoch_bar(
            options.progress,
            order.len().div_ceil(schedule.batch_size),
            epoch,
            schedule.epochs,
        );
        let mut loss_sum: Option<B::Tensor> = None;
        let mut seen = 0usize;
        for chunk in order.chunks(schedule.batch_size) {
            let batch = train.batch(chunk, schedule.rc_augment);
            let x = backend.upload(&batch.x, &[batch.n, 4, train.length])?;
            let y = backend.upload(&batch.targets, &[batch.n, t])?;
            let m = backend.upload(&batch.mask, &[batch.n, t])?;
            let seed = hash_u32(schedule.seed as u32 ^ hash_u32(step));
            let loss = model.train_step(backend, optimizer.as_mut(), &x, &y, &m, seed)?;
            loss_sum = Some(match loss_sum {
                Some(sum) => backend.add(&sum, &loss)?,
                None => loss,
            });
            step += 1;
            seen += batch.n;
            bar.inc(1);
            if bar.every_few_steps() {
                let so_far = backend.download(loss_sum.as_ref().expect("a step ran"))?[0];
                bar.show(
                    so_far / bar.position() as f32,
                    seen as f64 / started.elapsed().as_secs_f64(),
                );
            }
        }
        let steps = order.len().div_ceil(schedule.batch_size);
        let train_loss =
            backend.download(&loss_sum.expect("an epoch has a step"))?[0] as f64 / steps as f64;
        if !train_loss.is_finite() {
            bar.finish();
            return Err(Error::Config(format!(
                "training diverged: the mean training loss of epoch {epoch} is {train_loss}; lower [train] lr (now {}); {} keeps the last good epoch's files",
                schedule.lr,
                out_dir.display()
            )));
        }
        let train_samples_per_s = seen as f64 / started.elapsed().as_secs_f64();
        bar.finish();
        let valid_scores = match valid {
            Some(v) => evaluate(backend, model, v, schedule.batch_size.max(256))?.1,
            None => Vec::new(),
        };
        let record = EpochRecord {
            epoch,
            train_loss,
            valid: valid_scores,
            train_samples_per_s,
            seconds: started.elapsed().as_secs_f64(),
        };
        let score = record.mean_auprc();
        let improved = match (score, progress.best_score) {
            (Some(s), Some(b)) => s > b,
            (Some(_), None) => true,
            (None, _) => valid.is_none(),
        };
        report(&describe_epoch(&record, schedule.epochs, improved));
        if improved || progress.best_epoch == 0 {
            progress.best_epoch = epoch;
            progress.best_score = score.or(progress.best_score);
            best = model.snapshot();
            model.save(backend, &model_path(out_dir))?;
        }
        progress.epochs.push(record);
        progress.optimizer_step = step;
        write_metrics(out_dir, &progress.epochs)?;
        save_checkpoint(
            backend,
            model,
            optimizer.as_ref(),
            &progress,
            folder.fingerprint(),
            &checkpoint,
        )?;
        if let Some(patience) = schedule.patience
            && epoch - progress.best_epoch >= patience
            && epoch < schedule.epochs
        {
            report(&format!(
                "early stop: no better validation auPRC for {patience} epoch(s); keeping epoch {}",
                progress.best_epoch
            ));
            stopped_early = true;
            break;
        }
    }
    model.restore(best)?;
    let finished = TrainSummary {
        best_epoch: progress.best_epoch,
        epochs: progress.epochs.len(),
        stopped_early,
        seconds: progress.epochs.iter().map(|e| e.seconds).sum(),
    };
    write_json(&summary, &finished)?;
    Ok(TrainReport {
        epochs: progress.epochs,
        best_epoch: progress.best_epoch,
        stopped_early,
    })
}

fn describe_epoch(r: &EpochRecord, epochs: usize, improved: bool) -> String {
    let mut line = format!(
        "epoch {}/{epochs}: train loss {:.4}, {:.0} seq/s",
        r.epoch, r.train_loss, r.train_samples_per_s
    );
    for t in &r.valid {
        let show = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.3}"));
        line += &format!(
            "; {}: valid loss {:.4} auROC {} auPRC {}",
            t.task,
            t.loss,
            show(t.auroc),
            show(t.auprc)
        );
    }
    if improved && !r.valid.is_empty() {
        line += " (best so far)";
    }
    line
}
