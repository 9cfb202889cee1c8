//! `sepfc train`: a model from a config, trained on the config's data.

use std::path::{Path, PathBuf};

use super::device::{BackendTask, Device, run_on};
use crate::backend::Backend;
use crate::config::{Config, OptimizerKind};
use crate::data::{Dataset, Splits, load_splits};
use crate::io::write_atomically;
use crate::model::Model;
use crate::run_folder::{Fingerprint, RunFolder};
use crate::training::{TrainReport, train};
use crate::{Error, Result};

/// Command-line values that override the config's `[train]` section.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Overrides {
    /// Optimizer (overrides [train] optimizer).
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate (overrides [train] lr).
    #[arg(long)]
    pub lr: Option<f32>,
    /// Passes over the training set (overrides [train] epochs).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Sequences per step (overrides [train] batch_size).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Seed of the weights, batch order and dropout (overrides [train] seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Keep the training set's order.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Train on each batch's reverse complements too.
    #[arg(long)]
    pub rc_augment: bool,
    /// Stop after this many epochs without a better validation auPRC.
    #[arg(long)]
    pub patience: Option<usize>,
}

/// Everything `sepfc train` needs (its command-line arguments).
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// The TOML config: `[data]`, `[train]` and the `[[layers]]` list. Paths in it are relative to
    /// its folder.
    #[arg(long)]
    pub config: PathBuf,
    /// Output folder: model.safetensors (best weights), config.toml (as run), metrics.json
    /// (per epoch) and checkpoint.safetensors (for --resume).
    #[arg(long)]
    pub out: PathBuf,
    /// Start from these weights (same layers and input length) instead of random ones.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Continue an interrupted run from OUT/checkpoint.safetensors.
    #[arg(long)]
    pub resume: bool,
    /// Overrides of `[train]`.
    #[command(flatten)]
    pub overrides: Overrides,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: Device,
}

fn apply(config: &mut Config, o: &Overrides) {
    let t = &mut config.train;
    if let Some(v) = o.optimizer {
        t.optimizer = v;
    }
    if let Some(v) = o.lr {
        t.lr = v;
    }
    if let Some(v) = o.epochs {
        t.epochs = v;
    }
    if let Some(v) = o.batch_size {
        t.batch_size = v;
    }
    if let Some(v) = o.seed {
        t.seed = v;
    }
    if o.no_shuffle {
        t.shuffle = false;
    }
    if o.rc_augment {
        t.rc_augment = true;
    }
    if o.patience.is_some() {
        t.patience = o.patience;
    }
}

struct TrainJob {
    /// The config as run: overrides applied, data paths absolute.
    config: Config,
    args: TrainArgs,
    train: Dataset,
    valid: Option<Dataset>,
    test: Option<Dataset>,
}

impl TrainJob {
    /// The model to train: a fresh one, or the `--init` weights (which must have the config's
    /// layers and input length). A model that names its tasks has the labels matched to those
    /// names, so that a task keeps its logit; otherwise it is named after the labels.
    fn model<B: Backend>(&mut self, backend: &B) -> Result<Model<B>> {
        let outputs = crate::model::resolve(&self.config.layers, self.train.length)
            .map_err(|e| match e {
                Error::Config(m) => Error::Config(format!("{}: {m}", self.args.config.display())),
                other => other,
            })?
            .last()
            .map_or(0, |l| l.output().size());
        let Some(path) = &self.args.init else {
            self.check_task_count(outputs)?;
            let mut model = Model::new(
                backend,
                self.config.clone(),
                self.train.length,
                self.config.train.seed,
            )?;
            model.set_task_names(self.train.tasks.clone())?;
            return Ok(model);
        };
        let mut model = Model::load_for_length(backend, path, self.train.length)?;
        if model.config().layers != self.config.layers || model.input_length() != self.train.length
        {
            return Err(Error::Config(format!(
                "{}: its layers or input length ({}) differ from the config's ({} bp data)",
                path.display(),
                model.input_length(),
                self.train.length
            )));
        }
        if model.has_task_names() {
            // the model's tasks, each from its own column; other columns are left out
            let tasks = model.task_names().to_vec();
            let origin = format!("the labels of {}", self.args.config.display());
            self.train = std::mem::take(&mut self.train).with_tasks(&tasks, &origin)?;
            for set in [&mut self.valid, &mut self.test].into_iter().flatten() {
                *set = std::mem::take(set).with_tasks(&tasks, &origin)?;
            }
        } else {
            self.check_task_count(outputs)?;
            model.set_task_names(self.train.tasks.clone())?;
        }
        Ok(model)
    }

    /// The labels' task count against the model's `outputs`, naming the config and the tasks.
    fn check_task_count(&self, outputs: usize) -> Result<()> {
        let tasks = self.train.tasks.len();
        if tasks == outputs {
            return Ok(());
        }
        Err(Error::Config(format!(
            "{}: the labels have {tasks} task(s) ({}), the last layer (layer {}) has {outputs} output(s); give it units = {tasks}",
            self.args.config.display(),
            self.train.tasks.join(", "),
            self.config.layers.len().saturating_sub(1)
        )))
    }
}

impl BackendTask for TrainJob {
    type Output = TrainReport;

    fn run<B: Backend + 'static>(mut self, backend: &B) -> Result<TrainReport> {
        let mut model = self.model(backend)?;
        let data = self
            .config
            .data
            .as_ref()
            .expect("a training config has [data]");
        let fingerprint = Fingerprint::of(&self.config, self.train.length, &data.files())?;
        let out = &self.args.out;
        let folder = if self.args.resume {
            RunFolder::resume(out, fingerprint)?
        } else {
            RunFolder::create(out, fingerprint)?
        };
        write_atomically(
            &out.join(crate::run_folder::CONFIG),
            self.config.to_toml_string()?.as_bytes(),
        )?;
        crate::say!(
            "training on {} sequences of {} bp ({} task(s): {}){}; {} parameters",
            self.train.len(),
            self.train.length,
            self.train.tasks.len(),
            self.train.tasks.join(", "),
            self.valid
                .as_ref()
                .map_or(String::new(), |v| format!(", validating on {}", v.len())),
            model.parameter_count()
        );
        let report = train(
            backend,
            &mut model,
            &self.train,
            self.valid.as_ref(),
            &folder,
            &self.config.train,
            true,
            |line| crate::say!("{line}"),
        )?;
        crate::say!(
            "kept the weights of epoch {} in {}",
            report.best_epoch,
            crate::training::model_path(out).display()
        );
        if let Some(test) = &self.test {
            let scores = crate::inference::evaluate(backend, &model, test, 256)?;
            for s in scores {
                crate::say!(
                    "held-out test ({} sequences) {}: {}",
                    test.len(),
                    s.task,
                    s.metrics(4)
                );
            }
        }
        Ok(report)
    }
}

/// Runs `sepfc train`.
pub fn run(args: TrainArgs) -> Result<TrainReport> {
    let mut config = Config::read(&args.config)?;
    apply(&mut config, &args.overrides);
    let data = config.data_section(&args.config)?;
    config
        .train
        .check()
        .map_err(|e| Error::Config(format!("{}: {e}", args.config.display())))?;
    let loss = config.train.loss;
    if data.is_signal() && !loss.is_regression() {
        return Err(Error::Config(format!(
            "{}: [data] bigwig gives signal targets; train them with [train] loss = \"mse\" or \"poisson\" (binary cross-entropy needs labels in [0, 1])",
            args.config.display()
        )));
    }
    let Splits { train, valid, test } = load_splits(data, &args.config, config.train.seed)?;
    if loss == crate::backend::Loss::Poisson {
        for set in [Some(&train), valid.as_ref(), test.as_ref()]
            .into_iter()
            .flatten()
        {
            // NaN (missing) is not below 0
            if let Some(i) = set.targets.iter().position(|&v| v < 0.0) {
                let t = set.tasks().len();
                return Err(Error::Config(format!(
                    "{}: [train] loss = \"poisson\" needs targets of at least 0, but '{}' has {} for task '{}'",
                    args.config.display(),
                    set.ids[i / t],
                    set.targets[i],
                    set.tasks()[i % t]
                )));
            }
        }
    }
    // the config as run: overrides applied, paths made absolute
    let data = data.absolutized(args.config.parent().unwrap_or(Path::new(".")));
    config.data = Some(data);
    run_on(
        args.device,
        TrainJob {
            config,
            args,
            train,
            valid,
            test,
        },
    )
}
