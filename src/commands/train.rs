//! `sepfc train`: a model from a config, trained on the config's data.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::device::{BackendTask, Device, run_on};
use crate::backend::Backend;
use crate::config::{Config, DataConfig, OptimizerKind};
use crate::data::Dataset;
use crate::data::simdata::read_id_list;
use crate::model::{Model, write_atomically};
use crate::train::{TrainOptions, TrainReport, train};
use crate::{Error, Result};

/// Command-line values that override the config's `[train]` section.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--optimizer`.
    pub optimizer: Option<OptimizerKind>,
    /// `--lr`.
    pub lr: Option<f32>,
    /// `--epochs`.
    pub epochs: Option<usize>,
    /// `--batch-size`.
    pub batch_size: Option<usize>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--no-shuffle`.
    pub no_shuffle: bool,
    /// `--rc-augment`.
    pub rc_augment: bool,
    /// `--patience`.
    pub patience: Option<usize>,
}

/// Everything `sepfc train` needs.
#[derive(Debug, Clone)]
pub struct TrainArgs {
    /// The config file.
    pub config: PathBuf,
    /// The output folder.
    pub out: PathBuf,
    /// Start from these weights instead of a random initialisation.
    pub init: Option<PathBuf>,
    /// Continue an interrupted run in `out`.
    pub resume: bool,
    /// Overrides of `[train]`.
    pub overrides: Overrides,
    /// Where to compute.
    pub device: Device,
}

/// Reads and parses a config file, naming it in errors.
pub fn read_config(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    Config::from_toml_str(&text).map_err(|e| match e {
        Error::Config(message) => Error::Config(format!("{}: {message}", path.display())),
        other => other,
    })
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

/// The training set, the validation set (if any) and the held-out test set (if any) that
/// `[data]` describes; paths are relative to `base`, the config file's folder. Fractions are
/// split with `[data] split_seed`, else with `train_seed`.
pub fn load_data(
    data: &DataConfig,
    base: &Path,
    train_seed: u64,
) -> Result<(Dataset, Option<Dataset>, Option<Dataset>)> {
    let seed = data.split_seed.unwrap_or(train_seed);
    let at = |p: &PathBuf| base.join(p);
    let mut all = if let Some(sim) = &data.simdata {
        Dataset::from_simdata(&at(sim))?
    } else if let (Some(fasta), Some(labels)) = (&data.fasta, &data.labels) {
        read_labelled(&at(fasta), &at(labels))?
    } else if let (Some(bed), Some(genome), Some(length)) = (&data.bed, &data.genome, data.length) {
        Dataset::from_bed(&at(bed), &at(genome), length)?
    } else {
        return Err(Error::Config(
            "[data] needs `fasta` + `labels`, `bed` + `genome` + `length`, or `simdata`".into(),
        ));
    };
    let mut test = None;
    if let Some(ids) = &data.test_ids {
        let ids: HashSet<String> = read_id_list(&at(ids))?.into_iter().collect();
        let (rest, held) = all.split_by_ids(&ids);
        all = rest;
        test = Some(held);
    }
    if let Some(chroms) = &data.test_chroms {
        let (rest, held) = all.split_by_chroms(chroms)?;
        all = rest;
        test = Some(held);
    }
    if let Some(fraction) = data.test_fraction {
        let (rest, held) = all.split_fraction(fraction, seed)?;
        all = rest;
        test = Some(held);
    }
    if let (Some(fasta), Some(labels)) = (&data.test_fasta, &data.test_labels) {
        test = Some(read_labelled(&at(fasta), &at(labels))?);
    }
    let (train, valid) =
        if let (Some(fasta), Some(labels)) = (&data.valid_fasta, &data.valid_labels) {
            (all, Some(read_labelled(&at(fasta), &at(labels))?))
        } else if let Some(chroms) = &data.valid_chroms {
            let (rest, held) = all.split_by_chroms(chroms)?;
            (rest, Some(held))
        } else if let Some(fraction) = data.valid_fraction {
            let (rest, held) = all.split_fraction(fraction, seed)?;
            (rest, Some(held))
        } else {
            (all, None)
        };
    Ok((train, valid, test))
}

/// FASTA with a labels TSV, or with a two-column `.target` file (one row per record).
pub fn read_labelled(fasta: &Path, labels: &Path) -> Result<Dataset> {
    if labels.extension().is_some_and(|e| e == "target") {
        Dataset::from_fasta_and_targets(fasta, labels)
    } else {
        Dataset::from_fasta_and_labels(fasta, labels)
    }
}

struct TrainJob {
    config: Config,
    args: TrainArgs,
    train: Dataset,
    valid: Option<Dataset>,
    test: Option<Dataset>,
}

impl BackendTask for TrainJob {
    type Output = TrainReport;

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<TrainReport> {
        let mut model = match &self.args.init {
            Some(path) => {
                let model = Model::load(backend, path)?;
                if model.config().layers != self.config.layers
                    || model.input_length() != self.train.length
                {
                    return Err(Error::Config(format!(
                        "{}: its layers or input length ({}) differ from the config's ({} bp data)",
                        path.display(),
                        model.input_length(),
                        self.train.length
                    )));
                }
                model
            }
            None => Model::new(
                backend,
                self.config.clone(),
                self.train.length,
                self.config.train.seed,
            )?,
        };
        model.set_task_names(self.train.tasks.clone())?;
        println!(
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
        let options = TrainOptions {
            schedule: self.config.train.clone(),
            out_dir: self.args.out.clone(),
            resume: self.args.resume,
            progress: true,
        };
        let report = train(
            backend,
            &mut model,
            &self.train,
            self.valid.as_ref(),
            &options,
            |line| println!("{line}"),
        )?;
        println!(
            "kept the weights of epoch {} in {}",
            report.best_epoch,
            crate::train::model_path(&self.args.out).display()
        );
        if let Some(test) = &self.test {
            let (_, scores) = crate::train::evaluate(backend, &model, test, 256)?;
            for s in scores {
                let show = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
                println!(
                    "held-out test ({} sequences) {}: auROC {} auPRC {}",
                    test.len(),
                    s.task,
                    show(s.auroc),
                    show(s.auprc)
                );
            }
        }
        Ok(report)
    }
}

/// The `[data]` section of `config`, read from the file at `path`, and the folder that its
/// paths are relative to.
pub fn data_section<'p>(config: &Config, path: &'p Path) -> Result<(DataConfig, &'p Path)> {
    let data = config
        .data
        .clone()
        .ok_or_else(|| Error::Config(format!("{}: no [data] section", path.display())))?;
    Ok((data, path.parent().unwrap_or(Path::new("."))))
}

/// Runs `sepfc train`.
pub fn run(args: TrainArgs) -> Result<TrainReport> {
    let mut config = read_config(&args.config)?;
    apply(&mut config, &args.overrides);
    let (data, base) = data_section(&config, &args.config)?;
    let (train, valid, test) = load_data(&data, base, config.train.seed)?;
    std::fs::create_dir_all(&args.out).map_err(|source| Error::Io {
        path: args.out.display().to_string(),
        source,
    })?;
    // the config as run: overrides applied, paths made absolute
    let mut resolved = config.clone();
    if let Some(d) = resolved.data.as_mut() {
        absolutize(d, base);
    }
    write_atomically(
        &args.out.join("config.toml"),
        resolved.to_toml_string()?.as_bytes(),
    )?;
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

/// Makes every path of `d` absolute, reading relative ones against `base` (the config file's
/// folder).
pub(crate) fn absolutize(d: &mut DataConfig, base: &Path) {
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    let base = std::fs::canonicalize(base)
        .or_else(|_| std::path::absolute(base))
        .unwrap_or_else(|_| base.to_path_buf());
    for p in [
        &mut d.fasta,
        &mut d.labels,
        &mut d.valid_fasta,
        &mut d.valid_labels,
        &mut d.bed,
        &mut d.genome,
        &mut d.simdata,
        &mut d.test_ids,
        &mut d.test_fasta,
        &mut d.test_labels,
    ]
    .into_iter()
    .flatten()
    {
        *p = base.join(&*p);
    }
}
