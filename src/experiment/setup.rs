//! An experiment file with everything it refers to: its base training config, the data split
//! as `sepfc train` splits it (the validation set standing in as the test set where the base
//! holds out none), and the known sites importance is scored against.

use std::path::{Path, PathBuf};

use super::importance::{Truth, resolve_truths};
use super::{ExperimentConfig, Run, Splits, plan};
use crate::config::{Config, DataConfig};
use crate::data::spec::Source as DataSource;
use crate::explain::Method;
use crate::{Error, Result};

/// Reads an experiment file, naming it in errors.
pub fn read_experiment(path: &Path) -> Result<ExperimentConfig> {
    let text = std::fs::read_to_string(path).map_err(Error::io(&path))?;
    ExperimentConfig::from_toml_str(&text).map_err(|e| match e {
        Error::Config(m) => Error::Config(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// An experiment file with everything it refers to read and resolved.
pub struct Experiment {
    /// The report's heading.
    pub title: String,
    /// The experiment file's content.
    pub exp: ExperimentConfig,
    /// The folder of the experiment file, which its paths are relative to.
    pub folder: PathBuf,
    /// The base training config.
    pub base: Config,
    /// The base config's `[data]`, its paths made absolute.
    pub data: DataConfig,
    /// Whether the base holds out no test set, so that its validation set is the test set
    /// (and no run stops early).
    pub validation_is_test: bool,
    /// What every run trains, validates and is scored on.
    pub splits: Splits,
    /// The known sites on the test set (empty without `[importance]`).
    pub truths: Vec<Truth>,
    /// How importance is scored.
    pub method: Method,
}

impl Experiment {
    /// Reads the experiment file at `config`, its base config and their data.
    pub fn read(config: &Path) -> Result<Self> {
        let exp = read_experiment(config)?;
        let folder = config.parent().unwrap_or(Path::new(".")).to_path_buf();
        let base_path = folder.join(exp.base.as_ref().ok_or_else(|| {
            Error::Config(format!(
                "{}: `base` must name the training config to vary",
                config.display()
            ))
        })?);
        let base = Config::read(&base_path)?;
        if base.train.loss.is_regression() {
            // the report, its figures and the paper's claims are in auROC and auPRC
            return Err(Error::Config(format!(
                "{}: [train] loss = \"{}\": experiments compare classifiers by auROC and auPRC; a regression base is not supported",
                base_path.display(),
                base.train.loss.name()
            )));
        }
        let data = base
            .data_section(&base_path)?
            .absolutized(base_path.parent().unwrap_or(Path::new(".")));
        let crate::data::Splits { train, valid, test } =
            crate::data::load_splits(&data, &base_path, base.train.seed)?;
        let (splits, validation_is_test) = match (valid, test) {
            (valid, Some(test)) => (Splits { train, valid, test }, false),
            (Some(valid), None) => (
                Splits {
                    train,
                    valid: None,
                    test: valid,
                },
                true,
            ),
            (None, None) => {
                return Err(Error::Config(format!(
                    "{}: [data] needs a held-out set to score the runs on: test_ids, test_chroms, test_fraction or a validation set",
                    base_path.display()
                )));
            }
        };
        let (truths, method) = match &exp.importance {
            Some(importance) => {
                let simdata = match &data.source {
                    DataSource::Simdata { simdata } => Some(simdata.as_path()),
                    _ => None,
                };
                let truths = resolve_truths(importance, &splits.test, simdata, &folder).map_err(
                    |e| match e {
                        Error::Config(m) => Error::Config(format!("{}: {m}", config.display())),
                        other => other,
                    },
                )?;
                (truths, importance.method()?)
            }
            None => (Vec::new(), Method::GradXInput),
        };
        Ok(Self {
            title: exp
                .title
                .clone()
                .unwrap_or_else(|| format!("Experiment {}", config.display())),
            exp,
            folder,
            base,
            data,
            validation_is_test,
            splits,
            truths,
            method,
        })
    }

    /// The experiment's runs, in the order of its results.
    pub fn runs(&self) -> Result<Vec<Run>> {
        plan(&self.exp, &self.base, self.splits.train.length)
    }

    /// The `[data]` of a run trained on its own by `sepfc train`: the base's, with absolute
    /// paths and the base's split seed, so that it splits exactly as [`Experiment::read`]
    /// does. Where the validation set is the test set, it is held out as the test set instead.
    pub fn run_data(&self) -> DataConfig {
        let mut data = self.data.clone();
        data.split_seed = Some(data.split_seed.unwrap_or(self.base.train.seed));
        if self.validation_is_test {
            data.test = data.valid.take();
        }
        data
    }
}
