//! The command line's grammar: [`Cli`] and its verbs, each parsed by clap into the options of
//! the verb's library function and run by [`Command::run`]. `src/main.rs` only parses and
//! reports errors.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use super::evaluate::EvaluationData;
use super::scan::ScanOptions;
use super::simulate::SimulateArgs;
use super::train::TrainArgs;
use super::variants::VariantsOptions;
use super::{BackendTask, Device, run_on};
use crate::backend::Backend;
use crate::bench::{BenchModel, BenchOptions};
use crate::demo::{DemoConfig, sparkline};
use crate::explain::Method;
use crate::{Error, Result};

/// Train convolutional networks with separable fully connected layers on DNA sequence, on any
/// GPU through wgpu or on the CPU.
#[derive(Debug, Parser)]
#[command(name = "sepfc", version, about, long_about = None)]
pub struct Cli {
    /// The verb (the demo when none is given).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The verbs of the command line.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate sequences with a motif planted near their centre, train a small separable
    /// model on them and report its held-out auROC (the default command).
    Demo(DemoArgs),
    /// Simulate sequences with motifs planted on either strand: writes sequences.fa,
    /// labels.tsv (one 0/1 column per motif) and embeddings.tsv (every planted site).
    Simulate(SimulateArgs),
    /// Train a model from a config file (see examples/ and README.md) on its `[data]`.
    Train(TrainArgs),
    /// Train separable models and their dense baselines (parameter-matched twin, same units)
    /// over random hyperparameter draws and seeds; results in OUT/results.json. Rerunning
    /// skips the runs already done.
    Experiment(ExperimentArgs),
    /// Time training and inference of a benchmark model of docs/benchmarks.md (random one-hot
    /// input, Adam, float32) and report samples/s and peak memory.
    Bench(BenchArgs),
    /// Write sigmoid probabilities for every FASTA record: a TSV with a header `id` and one
    /// column per task, rows in input order.
    Predict(PredictArgs),
    /// Score every window along a genome (or BED regions of it) and write one bedGraph per
    /// task, sorted, reading the genome through its index batch by batch.
    Scan(ScanArgs),
    /// Score the ALT alleles of a VCF: each allele's REF and ALT window probabilities and
    /// their logit difference, per task, one row per allele.
    Variants(VariantsArgs),
    /// Print auROC and auPRC per task on labelled sequences.
    Evaluate(EvaluateArgs),
    /// Write per-position importance scores of one task: rows `id<TAB>s_0,s_1,...`.
    Explain(ExplainArgs),
    /// Draw sequence logos (PNG) of the contributions `explain --npz` wrote.
    Logos(LogosArgs),
}

impl Default for Command {
    fn default() -> Self {
        Command::Demo(DemoArgs {
            device: Device::Auto,
        })
    }
}

/// `sepfc demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to compute.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: Device,
}

/// `sepfc experiment`.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// The experiment file: `base` (a training config), `seeds`, `draws`, `draw_seed`,
    /// `[ranges]` and optionally `title` (the report's heading) and `[importance]`. Writes
    /// results.json, report.md and figures/*.png; a rerun skips finished runs and redraws the
    /// report.
    #[arg(long)]
    pub config: PathBuf,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Train nothing here: write a Snakemake workflow into this folder instead, one
    /// self-contained training config per run (`jobs/<run>.toml`), trained by `sepfc train` and
    /// scored by `sepfc evaluate`, then gathered into OUT as a local run would be.
    #[arg(long, conflicts_with = "gather")]
    pub plan: Option<PathBuf>,
    /// Train nothing: read every run's result from what the planned jobs wrote under OUT
    /// (`runs/<run>/training.json`, `scores/<run>.json`) and write results.json, report.md and the
    /// figures (the workflow's last job).
    #[arg(long)]
    pub gather: bool,
    /// Where to compute (with --plan: where the jobs compute).
    #[arg(long, value_enum, default_value = "auto")]
    pub device: Device,
}

/// `sepfc bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Which benchmark model.
    #[arg(long, value_enum, default_value = "small")]
    pub model: BenchModel,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: Device,
    /// Sequences per step.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Seconds of timed steps (at least 5 steps are timed whatever this says).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Also write the figures as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `sepfc predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A training output folder or a weights file.
    #[arg(long)]
    pub model: PathBuf,
    /// Sequences (plain or gzip FASTA), all of the model's input length.
    #[arg(long)]
    pub fasta: PathBuf,
    /// The TSV to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Sequences per batch.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Average each sequence's probabilities with its reverse complement's.
    #[arg(long)]
    pub rc_average: bool,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: Device,
}

/// `sepfc variants`.
#[derive(Debug, Args)]
pub struct VariantsArgs {
    /// What to score and where to write it.
    #[command(flatten)]
    pub options: VariantsOptions,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: Device,
}

/// `sepfc scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// What to scan and where to write it.
    #[command(flatten)]
    pub options: ScanOptions,
    /// Write a Snakemake workflow of the scan into this folder instead of scanning: one job
    /// per chromosome, then one that joins them (run it with `snakemake --cores N`).
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: Device,
}

/// `sepfc evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// A training output folder or a weights file.
    #[arg(long)]
    pub model: PathBuf,
    /// Sequences (plain or gzip FASTA).
    #[arg(long, required_unless_present = "config", requires = "labels")]
    pub fasta: Option<PathBuf>,
    /// Labels: a TSV with header `id` and one column per task, or a two-column `.target` file
    /// (`1 0` = bound) with one row per record.
    #[arg(long, requires = "fasta")]
    pub labels: Option<PathBuf>,
    /// Instead of --fasta and --labels: the held-out test set (test_ids, test_chroms,
    /// test_fraction or test_fasta) of this training config, split as `sepfc train` splits it.
    #[arg(long, conflicts_with_all = ["fasta", "labels"])]
    pub config: Option<PathBuf>,
    /// Also write the scores, sequence and parameter counts and the time taken as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: Device,
}

/// `sepfc explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A training output folder or a weights file.
    #[arg(long)]
    pub model: PathBuf,
    /// Sequences (plain or gzip FASTA), all of the model's input length.
    #[arg(long)]
    pub fasta: PathBuf,
    /// The file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Task name or 0-based index.
    #[arg(long, default_value = "0")]
    pub task: String,
    /// Scoring method.
    #[arg(long, value_enum, default_value = "grad-x-input")]
    pub method: Method,
    /// DeepSHAP: dinucleotide-shuffled references per sequence [default: 20].
    #[arg(long)]
    pub references: Option<usize>,
    /// DeepSHAP: seed of the shuffles [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write PREFIX.ohe.npz (the one-hot input) and PREFIX.hyp.npz (the hypothetical
    /// contributions), each one float32 array `arr_0` of shape (N, 4, L), as
    /// `modisco motifs -s PREFIX.ohe.npz -a PREFIX.hyp.npz` reads them (deeplift, deepshap).
    #[arg(long, value_name = "PREFIX")]
    pub npz: Option<PathBuf>,
    /// Average each sequence's scores (and hypothetical contributions) with those of its
    /// reverse complement, mapped back onto the forward strand.
    #[arg(long)]
    pub rc_average: bool,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: Device,
}

/// `sepfc logos`.
#[derive(Debug, Args)]
pub struct LogosArgs {
    /// The prefix `explain --npz` was given: reads PREFIX.ohe.npz and PREFIX.hyp.npz.
    #[arg(long, value_name = "PREFIX")]
    pub npz: PathBuf,
    /// Output folder: one `seq{i}.png` per sequence drawn.
    #[arg(long)]
    pub out: PathBuf,
    /// Sequences to draw, 0-based positions in the npz files (input order), comma-separated
    /// [default: the first 10].
    #[arg(long, value_delimiter = ',')]
    pub ids: Option<Vec<usize>>,
    /// Mark the matches of these motifs (a JASPAR file) on the logos.
    #[arg(long)]
    pub jaspar: Option<PathBuf>,
    /// A match scores at least this fraction of the motif's best log-odds score, in (0, 1]
    /// (with --jaspar).
    #[arg(long, requires = "jaspar", default_value_t = 0.85)]
    pub threshold: f64,
}

impl Command {
    /// Runs the verb.
    pub fn run(self) -> Result<()> {
        match self {
            Command::Demo(args) => run_on(args.device, DemoJob),
            Command::Simulate(args) => super::simulate::run(&args),
            Command::Train(args) => super::train::run(args).map(|_| ()),
            Command::Experiment(args) => match args.plan {
                Some(dir) => {
                    let path = super::experiment_plan::write_plan(
                        &args.config,
                        &args.out,
                        args.device,
                        &dir,
                        &current_exe()?,
                    )?;
                    print_plan(&path);
                    Ok(())
                }
                None if args.gather => {
                    super::experiment::gather(&args.config, &args.out, args.device).map(|_| ())
                }
                None => super::experiment::run(&args.config, &args.out, args.device).map(|_| ()),
            },
            Command::Bench(args) => {
                let options = BenchOptions {
                    batch: args.batch,
                    seconds: args.seconds,
                    ..BenchOptions::new(args.model)
                };
                super::bench::run(options, args.device, args.json).map(|_| ())
            }
            Command::Predict(args) => super::predict::run(&args),
            Command::Scan(args) => match args.plan {
                Some(dir) => {
                    let path = super::scan_plan::write_plan(
                        &args.options,
                        args.device,
                        &dir,
                        &current_exe()?,
                    )?;
                    print_plan(&path);
                    Ok(())
                }
                None => super::scan::run(args.options, args.device).map(|_| ()),
            },
            Command::Variants(args) => super::variants::run(args.options, args.device).map(|_| ()),
            Command::Evaluate(args) => {
                let data = match (args.config, args.fasta, args.labels) {
                    (Some(config), _, _) => EvaluationData::HeldOut { config },
                    (None, Some(fasta), Some(labels)) => EvaluationData::Labelled { fasta, labels },
                    _ => {
                        return Err(Error::Config(
                            "evaluate needs --config, or --fasta with --labels".into(),
                        ));
                    }
                };
                super::evaluate::run(&args.model, &data, args.json.as_deref(), args.device)
                    .map(|_| ())
            }
            Command::Explain(args) => super::explain::run(&args),
            Command::Logos(args) => super::logos::run(&args),
        }
    }
}

/// The demo on a backend, with its report printed.
struct DemoJob;

impl BackendTask for DemoJob {
    type Output = ();

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<()> {
        let config = DemoConfig::default();
        crate::say!(
            "sepfc demo on {}: {} training and {} held-out sequences of {} bp, half with a planted GATA motif",
            backend.describe(),
            config.train,
            config.test,
            config.length
        );
        let report = crate::demo::run(backend, &config, |line| crate::say!("  {line}"))?;
        crate::say!(
            "held-out auROC: {:.3}, auPRC: {:.3}",
            report.test_auroc,
            report.test_auprc
        );
        crate::say!("learned positional weights of the separable layer (sequence start to end):");
        for (unit, row) in report.positional_weights.iter().enumerate() {
            crate::say!("  unit {unit}: {}", sparkline(row));
        }
        Ok(())
    }
}

/// The path of this binary, which planned workflows call.
fn current_exe() -> Result<PathBuf> {
    std::env::current_exe().map_err(|source| Error::Io {
        path: "the sepfc executable".into(),
        source,
    })
}

/// Says where a workflow was written and how to run it.
fn print_plan(snakefile: &Path) {
    crate::say!(
        "wrote {}; run it with: snakemake --snakefile {} --cores 4",
        snakefile.display(),
        snakefile.display()
    );
}
