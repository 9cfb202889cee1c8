//! Training: a [`Trainer`] (the schedule, as a builder) runs the one training loop of the
//! crate over any [`BatchSource`] and reports to [`Observer`]s. Shuffled mini-batches
//! (optionally with reverse complements), Adam or SGD, validation every epoch (loss, auROC
//! and auPRC per task), early stopping on the mean validation auPRC with the best weights
//! kept. CPU runs with the same seed are bit-for-bit repeatable: batch orders and dropout
//! masks derive from the seed, the epoch and the step.
//!
//! The command line's progress bar ([`ProgressBar`]), epoch lines ([`Lines`]) and run files
//! ([`RunFiles`]: weights, metrics, checkpoints for `--resume`) are observers; [`train`] puts
//! them together for a [`RunFolder`].
//!
//! ```
//! use sepfc::backend::cpu::Cpu;
//! use sepfc::config::Config;
//! use sepfc::data::Dataset;
//! use sepfc::model::Model;
//! use sepfc::training::{Lines, Trainer};
//!
//! // 40 sequences of 12 bp: those with GATA are positive
//! let sequences: Vec<Vec<u8>> = (0..40)
//!     .map(|i| if i % 2 == 0 { b"TTTTGATATTTT".to_vec() } else { b"TTTTTTTTTTTT".to_vec() })
//!     .collect();
//! let labels = (0..40).map(|i| if i % 2 == 0 { 1.0 } else { 0.0 }).collect();
//! let ids = (0..40).map(|i| format!("seq{i}")).collect();
//! let data = Dataset::new(ids, sequences, vec!["gata".into()], labels).unwrap();
//!
//! let config = Config::from_toml_str("[[layers]]\ntype = \"conv1d\"\nfilters = 2\n\
//!     kernel_size = 4\nactivation = \"relu\"\n[[layers]]\ntype = \"dense\"\nunits = 1\n").unwrap();
//! let mut model = Model::new(&Cpu, config, 12, 0).unwrap();
//! let mut lines = Vec::new();
//! let report = Trainer::new()
//!     .lr(0.05)
//!     .epochs(20)
//!     .batch_size(8)
//!     .fit(&Cpu, &mut model, &data, Some(&data), &mut [&mut Lines::new(|l| lines.push(l.to_string()))])
//!     .unwrap();
//! assert_eq!(report.epochs.len(), 20);
//! assert!(report.epochs[19].train_loss < report.epochs[0].train_loss);
//! assert_eq!(lines.len(), 20);                       // one line per epoch
//! ```

mod observer;
mod records;
mod run_files;
mod source;

use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::backend::Backend;
use crate::backend::shapes::hash_u32;
use crate::config::{OptimizerKind, TrainConfig};
use crate::data::Dataset;
use crate::model::{INPUT_CHANNELS, Model};
use crate::optim::{Adam, Optimizer, OptimizerState, Sgd};
use crate::run_folder::RunFolder;
use crate::{Error, Result};

pub use observer::{Control, EpochEvent, Lines, Observer, ProgressBar, StartEvent, StepEvent};
pub use records::{EpochRecord, History, TaskScores, TrainReport, TrainSummary};
pub use run_files::{RunFiles, model_path, read_summary, weights_path};
pub use source::{BatchSource, with_reverse_complements};

pub(crate) use source::check_batch;

/// Where a resumed run starts: what a checkpoint holds beside the model's weights.
pub struct Resume<B: Backend> {
    /// The finished epochs and the best one.
    pub history: History,
    /// The optimizer's step count and state tensors.
    pub optimizer: OptimizerState<B>,
    /// The best weights so far, in [`Model::snapshot`] order.
    pub best: Vec<B::Tensor>,
}

/// A training schedule, built step by step, that trains models: the one training loop of
/// sepfc (`sepfc train`, `experiment`, `demo` and `bench` all run it).
///
/// Defaults are those of `[train]` in a config ([`TrainConfig::default`]): Adam, lr 0.001, 10
/// epochs, batches of 128, seed 0, shuffled, no reverse complements, no early stopping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trainer {
    schedule: TrainConfig,
}

impl Trainer {
    /// The default schedule.
    pub fn new() -> Self {
        Self::default()
    }

    /// The schedule of a config's `[train]` section.
    pub fn from_schedule(schedule: TrainConfig) -> Self {
        Self { schedule }
    }

    /// The schedule as built so far.
    pub fn schedule(&self) -> &TrainConfig {
        &self.schedule
    }

    /// Adam or SGD.
    pub fn optimizer(mut self, optimizer: OptimizerKind) -> Self {
        self.schedule.optimizer = optimizer;
        self
    }

    /// The learning rate.
    pub fn lr(mut self, lr: f32) -> Self {
        self.schedule.lr = lr;
        self
    }

    /// Passes over the training set.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.schedule.epochs = epochs;
        self
    }

    /// Examples per step (before reverse complements).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.schedule.batch_size = batch_size;
        self
    }

    /// The seed of the batch order and the dropout masks.
    pub fn seed(mut self, seed: u64) -> Self {
        self.schedule.seed = seed;
        self
    }

    /// Whether to shuffle the training set every epoch.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.schedule.shuffle = shuffle;
        self
    }

    /// Whether to add each batch's reverse complements.
    pub fn rc_augment(mut self, rc_augment: bool) -> Self {
        self.schedule.rc_augment = rc_augment;
        self
    }

    /// Stop after `patience` epochs without a better mean validation score (auPRC, or Pearson's
    /// correlation for regression; `None`: train every epoch). The best epoch's weights are
    /// kept either way.
    pub fn early_stopping(mut self, patience: Option<usize>) -> Self {
        self.schedule.patience = patience;
        self
    }

    /// Trains `model` on `train`, validating on `valid` after every epoch, and reports to
    /// `observers` in their order. At the end `model` holds the best epoch's weights (the
    /// last epoch's without validation).
    ///
    /// Errors before the first step: a schedule [`TrainConfig::check`] refuses, no training
    /// examples, data whose length or task count is not the model's, a model too large for
    /// the batch. A mean epoch loss that is not finite ends training with an error.
    pub fn fit<B: Backend + 'static>(
        &self,
        backend: &B,
        model: &mut Model<B>,
        train: &dyn BatchSource,
        valid: Option<&dyn BatchSource>,
        observers: &mut [&mut dyn Observer<B>],
    ) -> Result<TrainReport> {
        self.run(backend, model, train, valid, None, observers)
    }

    /// As [`Trainer::fit`], continuing a run after the epochs of `from` (with `model` holding
    /// the weights of its last epoch).
    pub fn resume<B: Backend + 'static>(
        &self,
        backend: &B,
        model: &mut Model<B>,
        train: &dyn BatchSource,
        valid: Option<&dyn BatchSource>,
        from: Resume<B>,
        observers: &mut [&mut dyn Observer<B>],
    ) -> Result<TrainReport> {
        self.run(backend, model, train, valid, Some(from), observers)
    }

    fn check<B: Backend>(
        &self,
        model: &Model<B>,
        train: &dyn BatchSource,
        valid: Option<&dyn BatchSource>,
    ) -> Result<()> {
        let schedule = &self.schedule;
        schedule.check().map_err(Error::Config)?;
        if schedule.loss != model.loss() {
            // the model's outputs mean what its loss says (probabilities, values or rates)
            return Err(Error::Config(format!(
                "[train] loss: the schedule trains with {}, but the model was built for {} (its config's [train] loss)",
                schedule.loss.name(),
                model.loss().name()
            )));
        }
        let copies = if schedule.rc_augment { 2 } else { 1 };
        crate::model::memory::check_fits(
            model.config(),
            model.layers(),
            copies * schedule.batch_size,
        )?;
        if train.is_empty() {
            return Err(Error::Config("no training sequences".into()));
        }
        for (name, set) in [("training", Some(train)), ("validation", valid)] {
            let Some(set) = set else { continue };
            if set.tasks().len() != model.tasks() {
                return Err(Error::shape(
                    "train",
                    format!(
                        "the {name} labels have {} tasks ({}), the model's last layer has {} units",
                        set.tasks().len(),
                        set.tasks().join(", "),
                        model.tasks()
                    ),
                ));
            }
            if set.length() != model.input_length() {
                return Err(Error::shape(
                    "train",
                    format!(
                        "the {name} sequences are {} bp, the model reads {} bp",
                        set.length(),
                        model.input_length()
                    ),
                ));
            }
        }
        // a task is a column: two sets, or a set and a model that names its tasks, must agree
        // on which column is which, not only on how many there are
        if let Some(v) = valid
            && v.tasks() != train.tasks()
        {
            return Err(Error::Config(format!(
                "the validation tasks ({}) are not the training tasks ({}) in the same order",
                v.tasks().join(", "),
                train.tasks().join(", ")
            )));
        }
        crate::inference::check_task_names(model, train.tasks(), "training")?;
        Ok(())
    }

    fn run<B: Backend + 'static>(
        &self,
        backend: &B,
        model: &mut Model<B>,
        train: &dyn BatchSource,
        valid: Option<&dyn BatchSource>,
        from: Option<Resume<B>>,
        observers: &mut [&mut dyn Observer<B>],
    ) -> Result<TrainReport> {
        self.check(model, train, valid)?;
        let schedule = &self.schedule;
        let mut optimizer = optimizer_for::<B>(schedule);
        let (mut history, mut best) = match from {
            Some(from) => {
                optimizer.load_state(from.optimizer)?;
                (from.history, from.best)
            }
            None => (History::default(), model.snapshot()),
        };
        let steps = train.len().div_ceil(schedule.batch_size);
        let start = StartEvent {
            schedule,
            resumed_after: history.epochs.len(),
            steps_per_epoch: steps,
            examples: train.len(),
        };
        for o in observers.iter_mut() {
            o.started(&start)?;
        }
        let tasks = model.tasks();
        let length = model.input_length();
        let mut stopped_early = false;
        let mut step = history.optimizer_step;
        'epochs: for epoch in history.epochs.len() + 1..=schedule.epochs {
            let started = Instant::now();
            let order = epoch_order(train.len(), schedule, epoch);
            let mut loss_sum: Option<B::Tensor> = None;
            let mut samples = 0usize;
            for (i, chunk) in order.chunks(schedule.batch_size).enumerate() {
                let mut batch = train.batch(chunk)?;
                check_batch(&batch, chunk.len(), length, tasks)?;
                if schedule.rc_augment {
                    batch = with_reverse_complements(batch, length);
                }
                let x = backend.upload(&batch.x, &[batch.n, INPUT_CHANNELS, length])?;
                let y = backend.upload(&batch.targets, &[batch.n, tasks])?;
                let m = backend.upload(&batch.mask, &[batch.n, tasks])?;
                let seed = hash_u32(schedule.seed as u32 ^ hash_u32(step));
                let loss = model.train_step(backend, optimizer.as_mut(), &x, &y, &m, seed)?;
                let sum = match loss_sum.take() {
                    Some(sum) => backend.add(&sum, &loss)?,
                    None => loss.clone(),
                };
                // one submit a step: the device works on it while the next batch is made, and
                // the step's retired buffers come back to the pool for the next
                backend.flush()?;
                step += 1;
                samples += batch.n;
                let event = StepEvent {
                    backend,
                    epoch,
                    step: i + 1,
                    steps,
                    samples,
                    elapsed: started.elapsed(),
                    loss: &loss,
                    loss_sum: &sum,
                };
                let mut stop = false;
                for o in observers.iter_mut() {
                    stop |= o.step(&event)? == Control::Stop;
                }
                loss_sum = Some(sum);
                if stop {
                    stopped_early = true;
                    break 'epochs;
                }
            }
            let train_loss =
                backend.download(&loss_sum.expect("an epoch has a step"))?[0] as f64 / steps as f64;
            if !train_loss.is_finite() {
                return Err(Error::Config(format!(
                    "training diverged: the mean training loss of epoch {epoch} is {train_loss}; lower [train] lr (now {}); the weights of earlier epochs are kept",
                    schedule.lr,
                )));
            }
            let train_samples_per_s = samples as f64 / started.elapsed().as_secs_f64();
            let valid_scores = match valid {
                Some(v) => {
                    crate::inference::evaluate(backend, model, v, schedule.batch_size.max(256))?
                }
                None => Vec::new(),
            };
            let record = EpochRecord {
                epoch,
                train_loss,
                valid: valid_scores,
                train_samples_per_s,
                seconds: started.elapsed().as_secs_f64(),
            };
            let score = record.mean_selection_score();
            let improved = match (score, history.best_score) {
                (Some(s), Some(b)) => s > b,
                (Some(_), None) => true,
                (None, _) => valid.is_none(),
            } || history.best_epoch == 0;
            if improved {
                history.best_epoch = epoch;
                history.best_score = score.or(history.best_score);
                best = model.snapshot();
            }
            history.epochs.push(record);
            history.optimizer_step = step;
            let event = EpochEvent {
                backend,
                record: history.epochs.last().expect("just pushed"),
                improved,
                history: &history,
                schedule,
                model,
                optimizer: optimizer.as_ref(),
            };
            let mut stop = false;
            for o in observers.iter_mut() {
                stop |= o.epoch_ended(&event)? == Control::Stop;
            }
            let patience_ran_out = schedule
                .patience
                .is_some_and(|patience| epoch - history.best_epoch >= patience);
            if (stop || patience_ran_out) && epoch < schedule.epochs {
                stopped_early = true;
                break;
            }
        }
        if history.best_epoch > 0 {
            model.restore(best)?;
        }
        let report = TrainReport {
            epochs: history.epochs,
            best_epoch: history.best_epoch,
            stopped_early,
        };
        for o in observers.iter_mut() {
            o.finished(&report, model)?;
        }
        Ok(report)
    }
}

fn optimizer_for<B: Backend + 'static>(schedule: &TrainConfig) -> Box<dyn Optimizer<B>> {
    match schedule.optimizer {
        OptimizerKind::Adam => Box::new(Adam::new(schedule.lr)),
        OptimizerKind::Sgd => Box::new(Sgd { lr: schedule.lr }),
    }
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

/// Trains `model` as `sepfc train` does: the schedule `schedule`, the run's files written into
/// `folder` ([`RunFiles`]), one line per epoch to `report` ([`Lines`]) and, when `progress_bar`
/// is set, a progress bar on a terminal. When `folder` was opened to resume, `model` is
/// replaced by the checkpoint's and training continues after its last epoch.
#[allow(clippy::too_many_arguments)]
pub fn train<B: Backend + 'static>(
    backend: &B,
    model: &mut Model<B>,
    train: &Dataset,
    valid: Option<&Dataset>,
    folder: &RunFolder,
    schedule: &TrainConfig,
    progress_bar: bool,
    report: impl FnMut(&str),
) -> Result<TrainReport> {
    let mut files = RunFiles::new(folder);
    let from = match folder.resumed() {
        true => {
            let (resumed, from) = files.resume_point(backend)?;
            *model = resumed;
            Some(from)
        }
        false => None,
    };
    let mut lines = Lines::new(report);
    let mut bar = ProgressBar::default();
    let mut observers: Vec<&mut dyn Observer<B>> = vec![&mut lines, &mut files];
    if progress_bar {
        observers.push(&mut bar);
    }
    Trainer::from_schedule(schedule.clone()).run(
        backend,
        model,
        train,
        valid.map(|v| v as &dyn BatchSource),
        from,
        &mut observers,
    )
}
