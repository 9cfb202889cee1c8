//! `sepfc experiment`: separable models against dense baselines over hyperparameter draws and
//! seeds, on the data of a base training config. It trains every run itself, or (`--gather`)
//! reports on runs that the jobs of `experiment --plan` trained.

use std::path::{Path, PathBuf};

use super::device::{BackendTask, Device, run_on};
use super::evaluate::Evaluation;
use crate::backend::Backend;
use crate::config::{Config, DataConfig};
use crate::data::spec::Source as DataSource;
use crate::experiment::importance::{Truth, resolve_truths};
use crate::experiment::{
    ExperimentConfig, Run, RunResult, Splits, analyse, plan, report, run_dir, run_experiment,
    run_name,
};
use crate::explain::Method;
use crate::io::{write_atomically, write_json};
use crate::training::read_summary;
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
pub(crate) struct Experiment {
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
        let base = super::train::read_config(&base_path)?;
        let data = super::train::data_section(&base, &base_path)?
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

/// Where the results of the runs come from.
enum Source {
    /// Train the runs not yet in `results.json`.
    Train,
    /// Read what the planned jobs wrote: `runs/<name>/training.json` and
    /// `scores/<name>.json`.
    Jobs,
}

struct ExperimentJob {
    experiment: Experiment,
    source: Source,
    out: PathBuf,
}

/// The evaluation of run `name` that `experiment --plan`'s jobs write under `out`.
pub(crate) fn scores_path(out: &Path, name: &str) -> PathBuf {
    out.join("scores").join(format!("{name}.json"))
}

/// The result of a planned run from the files its jobs wrote under `out`.
fn gathered(run: &Run, out: &Path) -> Result<RunResult> {
    let name = run_name(run.draw.index, run.seed, run.kind);
    let summary = read_summary(&run_dir(out, &name))?;
    let evaluation = Evaluation::read(&scores_path(out, &name))?;
    Ok(RunResult {
        draw: run.draw.index,
        seed: run.seed,
        kind: run.kind,
        parameters: evaluation.parameters,
        units: run.units,
        test: evaluation.tasks,
        best_epoch: summary.best_epoch,
        seconds: summary.seconds + evaluation.seconds,
    })
}

impl BackendTask for ExperimentJob {
    type Output = Vec<RunResult>;

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<Vec<RunResult>> {
        let Self {
            experiment: e,
            source,
            out,
        } = self;
        let runs = e.runs()?;
        let results = match source {
            Source::Train => run_experiment(backend, &e.exp, &e.base, &e.splits, &out, |line| {
                crate::say!("{line}")
            })?,
            Source::Jobs => {
                let results = runs
                    .iter()
                    .map(|run| gathered(run, &out))
                    .collect::<Result<Vec<_>>>()?;
                write_json(&out.join("results.json"), &results)?;
                crate::say!("gathered the results of {} runs", results.len());
                results
            }
        };
        crate::say!("scoring importance and drawing figures");
        let draws = runs
            .into_iter()
            .map(|run| run.draw)
            .fold(Vec::new(), |mut draws, d| {
                if !draws.contains(&d) {
                    draws.push(d);
                }
                draws
            });
        let analysis = analyse(
            backend,
            &out,
            &results,
            draws,
            &e.splits.test,
            &e.truths,
            e.method,
        )?;
        let path = out.join("report.md");
        write_atomically(&path, report(&e.title, &results, &analysis).as_bytes())?;
        crate::say!("wrote {}", path.display());
        Ok(results)
    }
}

/// Runs `sepfc experiment`: trains the runs not yet in `out/results.json`, then writes the
/// report. The base config's held-out test set (`test_ids`, `test_chroms`, `test_fraction` or
/// `test_fasta`) scores every run; without one, its validation set does, and no run stops
/// early.
pub fn run(config: &Path, out: &Path, device: Device) -> Result<Vec<RunResult>> {
    report_on(config, out, Source::Train, device)
}

/// Runs `sepfc experiment --gather`: trains nothing, but reads the result of every run from
/// the files that the jobs of [`super::experiment_plan::write_plan`] wrote under `out`, then
/// writes `results.json` and the report as [`run`] would.
pub fn gather(config: &Path, out: &Path, device: Device) -> Result<Vec<RunResult>> {
    report_on(config, out, Source::Jobs, device)
}

fn report_on(config: &Path, out: &Path, source: Source, device: Device) -> Result<Vec<RunResult>> {
    let experiment = Experiment::read(config)?;
    std::fs::create_dir_all(out).map_err(Error::io(&out))?;
    run_on(
        device,
        ExperimentJob {
            experiment,
            source,
            out: out.to_path_buf(),
        },
    )
}
