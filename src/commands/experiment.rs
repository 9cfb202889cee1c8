//! `sepfc experiment`: separable models against dense baselines over hyperparameter draws and
//! seeds, on the data of a base training config. It trains every run itself, or (`--gather`)
//! reports on runs that the jobs of `experiment --plan` trained.

use std::path::{Path, PathBuf};

use super::device::{BackendTask, Device, run_on};
use super::evaluate::Evaluation;
use crate::backend::Backend;
use crate::experiment::Experiment;
use crate::experiment::{Run, RunResult, analyse, report, run_dir, run_experiment, run_name};
use crate::io::{write_atomically, write_json};
use crate::training::read_summary;
use crate::{Error, Result};

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
