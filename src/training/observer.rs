//! What a [`Trainer`](super::Trainer) reports as it goes, and to whom: the [`Observer`] trait,
//! its events, and the observers the command line uses (lines of text, a progress bar).
//! Writing a run's files is an observer too ([`RunFiles`](super::RunFiles)).

use std::time::Duration;

use crate::Result;
use crate::backend::Backend;
use crate::config::TrainConfig;
use crate::model::Model;
use crate::optim::Optimizer;

use super::{EpochRecord, History, TrainReport};

/// Whether training goes on after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Control {
    /// Go on.
    #[default]
    Continue,
    /// End training now. After a step, the unfinished epoch is dropped: it is in neither the
    /// history nor the report, and the model keeps the best weights of the finished epochs
    /// (its current weights if none finished).
    Stop,
}

/// The start of a run (or of its resumed part).
#[derive(Debug, Clone, Copy)]
pub struct StartEvent<'a> {
    /// The schedule.
    pub schedule: &'a TrainConfig,
    /// Epochs already done: those of the checkpoint a run resumes from, else 0.
    pub resumed_after: usize,
    /// Optimizer steps per epoch.
    pub steps_per_epoch: usize,
    /// Training examples (before reverse complements).
    pub examples: usize,
}

/// One optimizer step done.
pub struct StepEvent<'a, B: Backend> {
    /// The backend the model trains on, to read the losses.
    pub backend: &'a B,
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch.
    pub step: usize,
    /// Steps in the epoch.
    pub steps: usize,
    /// Examples trained on so far in the epoch, reverse complements included.
    pub samples: usize,
    /// Time since the epoch started.
    pub elapsed: Duration,
    /// This step's loss, `(1)`, still on the device.
    pub loss: &'a B::Tensor,
    /// The sum of the epoch's step losses so far, `(1)`, still on the device.
    pub loss_sum: &'a B::Tensor,
}

impl<B: Backend> StepEvent<'_, B> {
    /// The mean step loss of the epoch so far. Reading it waits for the device, so read it
    /// every few steps rather than every step.
    pub fn mean_loss(&self) -> Result<f32> {
        Ok(self.backend.download(self.loss_sum)?[0] / self.step as f32)
    }
}

/// One epoch done and scored.
pub struct EpochEvent<'a, B: Backend> {
    /// The backend the model trains on.
    pub backend: &'a B,
    /// What the epoch measured.
    pub record: &'a EpochRecord,
    /// Whether its weights are the best so far (and so the ones kept).
    pub improved: bool,
    /// The run so far, this epoch included.
    pub history: &'a History,
    /// The schedule.
    pub schedule: &'a TrainConfig,
    /// The model after the epoch.
    pub model: &'a Model<B>,
    /// The optimizer after the epoch (its state is what a checkpoint saves).
    pub optimizer: &'a dyn Optimizer<B>,
}

/// Receives a [`Trainer`](super::Trainer)'s events. Every method has a default that does
/// nothing; an error from any of them ends training with that error.
///
/// ```
/// use sepfc::backend::Backend;
/// use sepfc::training::{Control, EpochEvent, Observer};
///
/// /// Stops once the training loss is below a target.
/// struct StopBelow(f64);
///
/// impl<B: Backend> Observer<B> for StopBelow {
///     fn epoch_ended(&mut self, event: &EpochEvent<'_, B>) -> sepfc::Result<Control> {
///         Ok(if event.record.train_loss < self.0 { Control::Stop } else { Control::Continue })
///     }
/// }
/// ```
pub trait Observer<B: Backend> {
    /// Before the first step.
    fn started(&mut self, _event: &StartEvent<'_>) -> Result<()> {
        Ok(())
    }

    /// After every optimizer step.
    fn step(&mut self, _event: &StepEvent<'_, B>) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// After every epoch, once it has been validated.
    fn epoch_ended(&mut self, _event: &EpochEvent<'_, B>) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// At the end of the run, with the best weights back in `model`.
    fn finished(&mut self, _report: &TrainReport, _model: &Model<B>) -> Result<()> {
        Ok(())
    }
}

/// Reports the run as lines of text, as `sepfc train` prints them: a resumed run's start, one
/// line per epoch (loss, throughput, validation scores) and an early stop.
pub struct Lines<F: FnMut(&str)> {
    report: F,
    schedule: Option<TrainConfig>,
}

impl<F: FnMut(&str)> Lines<F> {
    /// Sends every line to `report`.
    pub fn new(report: F) -> Self {
        Self {
            report,
            schedule: None,
        }
    }
}

impl<B: Backend, F: FnMut(&str)> Observer<B> for Lines<F> {
    fn started(&mut self, event: &StartEvent<'_>) -> Result<()> {
        if event.resumed_after > 0 {
            (self.report)(&format!(
                "resuming after epoch {} of {}",
                event.resumed_after, event.schedule.epochs
            ));
        }
        self.schedule = Some(event.schedule.clone());
        Ok(())
    }

    fn epoch_ended(&mut self, event: &EpochEvent<'_, B>) -> Result<Control> {
        (self.report)(&event.record.describe(event.schedule.epochs, event.improved));
        Ok(Control::Continue)
    }

    fn finished(&mut self, report: &TrainReport, _model: &Model<B>) -> Result<()> {
        if let (true, Some(patience)) = (
            report.stopped_early,
            self.schedule.as_ref().and_then(|s| s.patience),
        ) {
            (self.report)(&format!(
                "early stop: no better validation score (mean auPRC, or Pearson for regression) for {patience} epoch(s); keeping epoch {}",
                report.best_epoch
            ));
        }
        Ok(())
    }
}

/// A progress bar over each epoch's steps on standard error, with the running loss and
/// throughput; drawn only on a terminal.
#[derive(Default)]
pub struct ProgressBar {
    bar: Option<crate::progress::EpochBar>,
    epochs: usize,
}

impl<B: Backend> Observer<B> for ProgressBar {
    fn started(&mut self, event: &StartEvent<'_>) -> Result<()> {
        self.epochs = event.schedule.epochs;
        Ok(())
    }

    fn step(&mut self, event: &StepEvent<'_, B>) -> Result<Control> {
        let bar = self.bar.get_or_insert_with(|| {
            crate::progress::epoch_bar(true, event.steps, event.epoch, self.epochs)
        });
        bar.inc(1);
        if bar.every_few_steps() {
            bar.show(
                event.mean_loss()?,
                event.samples as f64 / event.elapsed.as_secs_f64(),
            );
        }
        if event.step == event.steps
            && let Some(bar) = self.bar.take()
        {
            bar.finish();
        }
        Ok(Control::Continue)
    }
}
