//! `sepfc experiment`: separable models against dense baselines over hyperparameter draws and
//! seeds, on the data of a base training config.

use std::path::{Path, PathBuf};

use super::device::{BackendTask, Device, run_on};
use crate::backend::Backend;
use crate::config::Config;
use crate::experiment::importance::{Truth, resolve_truths};
use crate::experiment::{
    ExperimentConfig, RunResult, Splits, analyse, plan, report, run_experiment,
};
use crate::explain::Method;
use crate::model::write_atomically;
use crate::{Error, Result};

/// Reads an experiment file, naming it in errors.
pub fn read_experiment(path: &Path) -> Result<ExperimentConfig> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    ExperimentConfig::from_toml_str(&text).map_err(|e| match e {
        Error::Config(m) => Error::Config(format!("{}: {m}", path.display())),
        other => other,
    })
}

struct ExperimentJob {
    title: String,
    exp: ExperimentConfig,
    base: Config,
    splits: Splits,
    truths: Vec<Truth>,
    method: Method,
    out: PathBuf,
}

impl BackendTask for ExperimentJob {
    type Output = Vec<RunResult>;

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<Vec<RunResult>> {
        let results = run_experiment(
            backend,
            &self.exp,
            &self.base,
            &self.splits,
            &self.out,
            |line| println!("{line}"),
        )?;
        println!("scoring importance and drawing figures");
        let draws = plan(&self.exp, &self.base, self.splits.train.length)?
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
            &self.out,
            &results,
            draws,
            &self.splits.test,
            &self.truths,
            self.method,
        )?;
        let path = self.out.join("report.md");
        write_atomically(&path, report(&self.title, &results, &analysis).as_bytes())?;
        println!("wrote {}", path.display());
        Ok(results)
    }
}

/// Runs `sepfc experiment`. The base config's held-out test set (`test_ids` or
/// `test_chroms`) scores every run; without one, its validation set does, and no run stops
/// early.
pub fn run(config: &Path, out: &Path, device: Device) -> Result<Vec<RunResult>> {
    let exp = read_experiment(config)?;
    let here = config.parent().unwrap_or(Path::new("."));
    let base_path = here.join(exp.base.as_ref().ok_or_else(|| {
        Error::Config(format!(
            "{}: `base` must name the training config to vary",
            config.display()
        ))
    })?);
    let base = super::train::read_config(&base_path)?;
    let data = base
        .data
        .clone()
        .ok_or_else(|| Error::Config(format!("{}: no [data] section", base_path.display())))?;
    let data_dir = base_path.parent().unwrap_or(Path::new("."));
    let (train, valid, test) = super::train::load_data(&data, data_dir, base.train.seed)?;
    let splits = match (valid, test) {
        (valid, Some(test)) => Splits { train, valid, test },
        (Some(valid), None) => Splits {
            train,
            valid: None,
            test: valid,
        },
        (None, None) => {
            return Err(Error::Config(format!(
                "{}: [data] needs a held-out set to score the runs on: test_ids, test_chroms or a validation set",
                base_path.display()
            )));
        }
    };
    let (truths, method) = match &exp.importance {
        Some(importance) => {
            let simdata = data.simdata.as_ref().map(|p| data_dir.join(p));
            let truths = resolve_truths(importance, &splits.test, simdata.as_deref(), here)
                .map_err(|e| match e {
                    Error::Config(m) => Error::Config(format!("{}: {m}", config.display())),
                    other => other,
                })?;
            (truths, importance.method()?)
        }
        None => (Vec::new(), Method::GradXInput),
    };
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.display().to_string(),
        source,
    })?;
    run_on(
        device,
        ExperimentJob {
            title: format!("Experiment {}", config.display()),
            exp,
            base,
            splits,
            truths,
            method,
            out: out.to_path_buf(),
        },
    )
}
