//! `sepfc experiment --plan DIR`: an experiment as a Snakemake workflow. Every run (draw x
//! seed x model kind) becomes a self-contained training config, `DIR/jobs/<run>.toml`, that
//! `sepfc train` trains and `sepfc evaluate` scores on its held-out test set; a final job
//! (`sepfc experiment --gather`) writes the same `results.json`, `report.md` and figures as a
//! local `sepfc experiment`. Snakemake then runs the jobs on a laptop (`--cores`) or a cluster
//! (its executor flags), reusing the outputs of finished jobs.

use std::path::{Path, PathBuf};

use super::device::Device;
use super::experiment::scores_path;
use super::workflow::{absolute, python_list, python_string, shell_word, write_if_changed};
use crate::experiment::Experiment;
use crate::experiment::{run_dir, run_name};
use crate::{Error, Result};

/// Writes the workflow of the experiment file `config` into `dir`, with results under `out`,
/// jobs run on `device` by the binary `sepfc`, and returns the Snakefile's path. Files whose
/// text is unchanged are left alone, so that planning again reruns nothing that is done.
///
/// `dir` gets `Snakefile`, `jobs/<run>.toml` (one training config per run, data paths
/// absolute), `experiment.toml` and `base.toml` (the experiment as planned, read by the
/// gathering job); the jobs write `out/runs/<run>/`, `out/scores/<run>.json` and logs under
/// `dir/logs/`.
pub fn write_plan(
    config: &Path,
    out: &Path,
    device: Device,
    dir: &Path,
    sepfc: &Path,
) -> Result<PathBuf> {
    let experiment = Experiment::read(config)?;
    // every path the workflow names is checked before the first file is written
    let sepfc = shell_word(&absolute(sepfc)?);
    let out_text = absolute(out)?;
    absolute(dir)?;
    // for comments in the files written
    let title = experiment.title.replace(['\n', '\r'], " ");
    let runs = experiment.runs()?;
    let run_data = experiment.run_data();
    let mut names = Vec::with_capacity(runs.len());
    for run in &runs {
        let name = run_name(run.draw.index, run.seed, run.kind);
        let mut job = run.config.clone();
        job.data = Some(run_data.clone());
        let text = format!(
            "# {name} of {title}, written by `sepfc experiment --plan`\n{}",
            job.to_toml_string()?
        );
        write_if_changed(
            &dir.join("jobs").join(format!("{name}.toml")),
            text.as_bytes(),
        )?;
        names.push(name);
    }
    let planned = write_planned_experiment(&experiment, dir)?;

    // the files of run {run}, as Snakemake patterns
    let run_folder = run_dir(Path::new(&out_text), "{run}");
    let scores = scores_path(Path::new(&out_text), "{run}");
    let train = format!(
        "RAYON_NUM_THREADS={{threads}} {sepfc} train --config {{input:q}} --out {{output:q}} --device {device} > {{log:q}} 2>&1"
    );
    let evaluate = format!(
        "RAYON_NUM_THREADS={{threads}} {sepfc} evaluate --model {{input.run:q}} --config {{input.config:q}} --json {{output:q}} --device {device} > {{log:q}} 2>&1"
    );
    let gather = format!(
        "{sepfc} experiment --config {} --out {} --gather --device {device} > {{log:q}} 2>&1",
        shell_word(&absolute(&planned)?),
        shell_word(&out_text),
    );
    let snakefile = dir.join("Snakefile");
    let text = format!(
        r#"# Written by `sepfc experiment --plan`: {title}, as one training job and one evaluation
# job per run (draw x seed x model kind), then a job that gathers the results into
# results.json, report.md and figures/ exactly as a local `sepfc experiment` would.
# On this machine:
#   snakemake --snakefile {snakefile_shown} --cores 4
# On a cluster, the same plan with Snakemake's executor flags, for example
#   snakemake --snakefile {snakefile_shown} --executor slurm --jobs 100
# Each job runs on one thread; give the training jobs more with --set-threads train=8.

RUNS = {runs}
JOBS = {jobs}
RUN_DIR = {run_dir}
SCORES = {scores}
LOGS = {logs}

wildcard_constraints:
    run="draw[0-9]+_seed[0-9]+_[a-z_]+"

rule all:
    input: {report}

rule train:
    input: JOBS + "/{{run}}.toml"
    output: directory(RUN_DIR)
    log: LOGS + "/train/{{run}}.log"
    threads: 1
    shell: {train}

rule evaluate:
    input:
        config=JOBS + "/{{run}}.toml",
        run=RUN_DIR,
    output: SCORES
    log: LOGS + "/evaluate/{{run}}.log"
    threads: 1
    shell: {evaluate}

rule gather:
    input:
        expand(RUN_DIR, run=RUNS),
        expand(SCORES, run=RUNS),
    output: {report}, {results}
    log: LOGS + "/gather.log"
    shell: {gather}
"#,
        snakefile_shown = absolute(&snakefile)?,
        runs = python_list(&names),
        jobs = python_string(&absolute(&dir.join("jobs"))?),
        run_dir = python_string(&run_folder.display().to_string()),
        scores = python_string(&scores.display().to_string()),
        logs = python_string(&absolute(&dir.join("logs"))?),
        report = python_string(&format!("{out_text}/report.md")),
        results = python_string(&format!("{out_text}/results.json")),
        train = python_string(&train),
        evaluate = python_string(&evaluate),
        gather = python_string(&gather),
    );
    write_if_changed(&snakefile, text.as_bytes())?;
    Ok(snakefile)
}

/// Writes `dir/experiment.toml` and `dir/base.toml`: the experiment as planned, with its
/// title and every path made absolute, for the gathering job to read; returns the former's
/// path.
fn write_planned_experiment(experiment: &Experiment, dir: &Path) -> Result<PathBuf> {
    let mut base = experiment.base.clone();
    base.data = Some(experiment.data.clone());
    let base_path = dir.join("base.toml");
    write_if_changed(&base_path, base.to_toml_string()?.as_bytes())?;
    let mut exp = experiment.exp.clone();
    exp.title = Some(experiment.title.clone());
    exp.base = Some(PathBuf::from(absolute(&base_path)?));
    if let Some(jaspar) = exp.importance.as_mut().and_then(|i| i.jaspar.as_mut()) {
        *jaspar = PathBuf::from(absolute(&experiment.folder.join(&*jaspar))?);
    }
    let text = toml::to_string(&exp)
        .map_err(|e| Error::Config(format!("cannot write the experiment: {e}")))?;
    let path = dir.join("experiment.toml");
    write_if_changed(&path, text.as_bytes())?;
    Ok(path)
}
