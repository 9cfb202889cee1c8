//! What a run measured: per-task validation scores, one record per epoch, the run's report
//! and the summary a finished run writes.

use serde::{Deserialize, Serialize};

/// Validation scores of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskScores {
    /// Task name.
    pub task: String,
    /// Mean loss (the model's `[train] loss`) over the examples with a target.
    pub loss: f64,
    /// Area under the ROC curve (`None` without both classes, and for regression).
    pub auroc: Option<f64>,
    /// Area under the precision-recall curve (`None` without positives, and for regression).
    pub auprc: Option<f64>,
    /// Pearson correlation of predictions and targets (regression losses only; `None`
    /// without variation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pearson: Option<f64>,
    /// Spearman rank correlation of predictions and targets (regression losses only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spearman: Option<f64>,
}

impl TaskScores {
    /// The score that picks the best epoch: auPRC, or for regression Pearson's correlation.
    pub fn selection_score(&self) -> Option<f64> {
        self.auprc.or(self.pearson)
    }

    /// `valid loss 0.4000 auROC 0.900 auPRC 0.800`, or for regression `valid loss 0.4000
    /// Pearson 0.700 Spearman 0.600`.
    pub fn describe(&self) -> String {
        format!("valid loss {:.4} {}", self.loss, self.metrics(3))
    }

    /// `auROC 0.9000 auPRC 0.8000`, or for regression `Pearson 0.7000 Spearman 0.6000`
    /// (`n/a` where undefined), with `decimals` decimals.
    pub fn metrics(&self, decimals: usize) -> String {
        let show = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.decimals$}"));
        if self.pearson.is_some() || self.spearman.is_some() {
            format!(
                "Pearson {} Spearman {}",
                show(self.pearson),
                show(self.spearman)
            )
        } else {
            format!("auROC {} auPRC {}", show(self.auroc), show(self.auprc))
        }
    }
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
    /// Mean validation selection score ([`TaskScores::selection_score`]: auPRC, or Pearson's
    /// correlation for regression) over the tasks that have one.
    pub fn mean_selection_score(&self) -> Option<f64> {
        let values: Vec<f64> = self
            .valid
            .iter()
            .filter_map(|t| t.selection_score())
            .collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }

    /// The line `sepfc train` prints for the epoch: loss, throughput and each task's
    /// validation scores, marked `(best so far)` when `improved`.
    pub fn describe(&self, epochs: usize, improved: bool) -> String {
        let mut line = format!(
            "epoch {}/{epochs}: train loss {:.4}, {:.0} seq/s",
            self.epoch, self.train_loss, self.train_samples_per_s
        );
        for t in &self.valid {
            line += &format!("; {}: {}", t.task, t.describe());
        }
        if improved && !self.valid.is_empty() {
            line += " (best so far)";
        }
        line
    }
}

/// Where a run stands after each epoch: what it is saved and resumed from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Every finished epoch, first to last.
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose weights are the best so far (0 before the first).
    pub best_epoch: usize,
    /// Its mean validation score (auPRC, or Pearson for regression), if it had one.
    pub best_score: Option<f64>,
    /// Optimizer steps taken.
    pub optimizer_step: u32,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Every epoch, first to last.
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose weights were kept (the last one without validation).
    pub best_epoch: usize,
    /// Whether early stopping (or an observer) ended the run before its last epoch.
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
