//! The `sepfc` command line: parses arguments, then calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sepfc::backend::Backend;
use sepfc::bench::{BenchModel, BenchOptions};
use sepfc::commands::evaluate::EvaluationData;
use sepfc::commands::{self, Device, run_on};
use sepfc::config::OptimizerKind;
use sepfc::demo::{self, DemoConfig};
use sepfc::explain::Method;

/// Train convolutional networks with separable fully connected layers on DNA sequence, on any
/// GPU through wgpu or on the CPU.
#[derive(Parser)]
#[command(name = "sepfc", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum DeviceArg {
    /// A hardware GPU if wgpu finds one, else the CPU.
    Auto,
    /// Any wgpu adapter, software ones (lavapipe) included.
    Gpu,
    /// The CPU backend.
    Cpu,
}

impl From<DeviceArg> for Device {
    fn from(d: DeviceArg) -> Self {
        match d {
            DeviceArg::Auto => Device::Auto,
            DeviceArg::Gpu => Device::Gpu,
            DeviceArg::Cpu => Device::Cpu,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum BenchModelArg {
    /// 200 bp, 2 revcomp convolutions, 32 separable units, 3 tasks.
    Small,
    /// 1000 bp, 3 revcomp convolutions of 64 filters, 64 separable units, 16 tasks.
    Large,
}

#[derive(Clone, Copy, ValueEnum)]
enum OptimizerArg {
    /// Adam with PyTorch's defaults.
    Adam,
    /// Plain stochastic gradient descent.
    Sgd,
}

#[derive(Clone, Copy, ValueEnum)]
enum MethodArg {
    /// Gradient of the task's logit times the one-hot input, summed over channels.
    #[value(alias = "grad_x_input")]
    GradXInput,
    /// In-silico mutagenesis: the logit's drop when a base is changed, averaged over the
    /// three alternatives.
    Ism,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate sequences with a motif planted near their centre, train a small separable
    /// model on them and report its held-out auROC (the default command).
    Demo {
        /// Where to compute.
        #[arg(long, value_enum, default_value = "auto")]
        device: DeviceArg,
    },
    /// Simulate sequences with motifs planted on either strand: writes sequences.fa,
    /// labels.tsv (one 0/1 column per motif) and embeddings.tsv (every planted site).
    Simulate {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Sequence length in bp.
        #[arg(long, default_value_t = 200)]
        length: usize,
        /// Number of sequences.
        #[arg(long, default_value_t = 2000)]
        n: usize,
        /// A JASPAR file (e.g. data/motifs/JASPAR2024_CORE_vertebrates.jaspar);
        /// without it, a built-in GATA site and E-box are planted.
        #[arg(long)]
        motifs: Option<PathBuf>,
        /// Id or name of a motif of --motifs to plant (repeat for several tasks).
        #[arg(long)]
        motif: Vec<String>,
        /// Seed: the same seed writes the same files.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Background GC fraction.
        #[arg(long, default_value_t = 0.5)]
        gc: f64,
        /// Probability that each motif is planted in a sequence.
        #[arg(long, default_value_t = 0.5)]
        prevalence: f64,
        /// Plant anywhere instead of around the centre.
        #[arg(long)]
        uniform: bool,
        /// Standard deviation of the site's start around the centre, in bp (default:
        /// length / 10).
        #[arg(long)]
        sd: Option<f64>,
    },
    /// Train a model from a config file (see examples/ and README.md) on its [data].
    Train {
        /// The TOML config: [data], [train] and the [[layers]] list. Paths in it are relative
        /// to its folder.
        #[arg(long)]
        config: PathBuf,
        /// Output folder: model.safetensors (best weights), config.toml (as run),
        /// metrics.json (per epoch) and checkpoint.safetensors (for --resume).
        #[arg(long)]
        out: PathBuf,
        /// Start from these weights (same layers and input length) instead of random ones.
        #[arg(long)]
        init: Option<PathBuf>,
        /// Continue an interrupted run from OUT/checkpoint.safetensors.
        #[arg(long)]
        resume: bool,
        /// Optimizer (overrides [train] optimizer).
        #[arg(long, value_enum)]
        optimizer: Option<OptimizerArg>,
        /// Learning rate (overrides [train] lr).
        #[arg(long)]
        lr: Option<f32>,
        /// Passes over the training set (overrides [train] epochs).
        #[arg(long)]
        epochs: Option<usize>,
        /// Sequences per step (overrides [train] batch_size).
        #[arg(long)]
        batch_size: Option<usize>,
        /// Seed of the weights, batch order and dropout (overrides [train] seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Keep the training set's order.
        #[arg(long)]
        no_shuffle: bool,
        /// Train on each batch's reverse complements too.
        #[arg(long)]
        rc_augment: bool,
        /// Stop after this many epochs without a better validation auPRC.
        #[arg(long)]
        patience: Option<usize>,
        /// Where to compute.
        #[arg(long, value_enum, default_value = "auto")]
        device: DeviceArg,
    },
    /// Train separable models and their dense baselines (parameter-matched twin, same units)
    /// over random hyperparameter draws and seeds; results in OUT/results.json. Rerunning
    /// skips the runs already done.
    Experiment {
        /// The experiment file: `base` (a training config), `seeds`, `draws`, `draw_seed`,
        /// `[ranges]` and optionally `title` (the report's heading) and `[importance]`. Writes
        /// results.json, report.md and figures/*.png; a rerun skips finished runs and redraws
        /// the report.
        #[arg(long)]
        config: PathBuf,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Train nothing here: write a Snakemake workflow into this folder instead, one
        /// self-contained training config per run (jobs/<run>.toml), trained by `sepfc train`
        /// and scored by `sepfc evaluate`, then gathered into OUT as a local run would be.
        #[arg(long, conflicts_with = "gather")]
        plan: Option<PathBuf>,
        /// Train nothing: read every run's result from what the planned jobs wrote under OUT
        /// (runs/<run>/training.json, scores/<run>.json) and write results.json, report.md and
        /// the figures (the workflow's last job).
        #[arg(long)]
        gather: bool,
        /// Where to compute (with --plan: where the jobs compute).
        #[arg(long, value_enum, default_value = "auto")]
        device: DeviceArg,
    },
    /// Time training and inference of a benchmark model of docs/benchmarks.md (random one-hot
    /// input, Adam, float32) and report samples/s and peak memory.
    Bench {
        /// Which benchmark model.
        #[arg(long, value_enum, default_value = "small")]
        model: BenchModelArg,
        /// Where to compute.
        #[arg(long, value_enum, default_value = "auto")]
        device: DeviceArg,
        /// Sequences per step.
        #[arg(long, default_value_t = 128)]
        batch: usize,
        /// Seconds of timed steps (at least 5 steps are timed whatever this says).
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Also write the figures as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Write sigmoid probabilities for every FASTA record: a TSV with a header `id` and one
    /// column per task, rows in input order.
    Predict {
        /// A training output folder or a weights file.
        #[arg(long)]
        model: PathBuf,
        /// Sequences (plain or gzip FASTA), all of the model's input length.
        #[arg(long)]
        fasta: PathBuf,
        /// The TSV to write.
        #[arg(long)]
        out: PathBuf,
        /// Sequences per batch.
        #[arg(long, default_value_t = 256)]
        batch_size: usize,
        /// Where to compute.
        #[arg(long, value_enum, default_value = "auto")]
        device: DeviceArg,
    },
    /// Score every window along a genome (or BED regions of it) and write one bedGraph per
    /// task, sorted, reading the genome through its index batch by batch.
    Scan {
        /// A training output folder or a weights file.
        #[arg(long)]
        model: PathBuf,
        /// An uncompressed FASTA; its .fai index is created beside it when missing.
        #[arg(long)]
        genome: PathBuf,
        /// Scan these regions instead of the whole genome: BED (chrom, start, end; further
        /// columns ignored), in any order; overlapping regions are merged.
        #[arg(long)]
        regions: Option<PathBuf>,
        /// Scan only this chromosome (repeat for several), e.g. one shard of a genome.
        #[arg(long = "chrom")]
        chroms: Vec<String>,
        /// Window length in bp; must be the model's input length (the default).
        #[arg(long)]
        window: Option<usize>,
        /// Bases from one window's start to the next. Each window's score is reported on its
        /// central STRIDE bases (on the whole window when STRIDE is larger), so intervals
        /// never overlap.
        #[arg(long)]
        stride: usize,
        /// The bedGraph to write; with several tasks, one file per task named OUT with
        /// `.<task>` before the extension.
        #[arg(long)]
        out: PathBuf,
        /// Windows per batch.
        #[arg(long, default_value_t = 1024)]
        batch_size: usize,
        /// Leave out windows in which more than this fraction of bases is not A, C, G or T.
        #[arg(long, default_value_t = 0.5)]
        max_n_fraction: f64,
        /// Write a Snakemake workflow of the scan into this folder instead of scanning: one
        /// job per chromosome, then one that joins them (run it with `snakemake --cores N`).
        #[arg(long)]
        plan: Option<PathBuf>,
        /// Where to compute.
        #[arg(long, value_enum, default_value = "auto")]
        device: DeviceArg,
    },
    /// Print auROC and auPRC per task on labelled sequences.
    Evaluate {
        /// A training output folder or a weights file.
        #[arg(long)]
        model: PathBuf,
        /// Sequences (plain or gzip FASTA).
        #[arg(long, required_unless_present = "config", requires = "labels")]
        fasta: Option<PathBuf>,
        /// Labels: a TSV with header `id` and one column per task, or a two-column `.target`
        /// file (`1 0` = bound) with one row per record.
        #[arg(long, requires = "fasta")]
        labels: Option<PathBuf>,
        /// Instead of --fasta and --labels: the held-out test set (test_ids, test_chroms,
        /// test_fraction or test_fasta) of this training config, split as `sepfc train` splits
        /// it.
        #[arg(long, conflicts_with_all = ["fasta", "labels"])]
        config: Option<PathBuf>,
        /// Also write the scores, sequence and parameter counts and the time taken as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Where to compute.
        #[arg(long, value_enum, default_value = "auto")]
        device: DeviceArg,
    },
    /// Write per-position importance scores of one task: rows `id<TAB>s_0,s_1,...`.
    Explain {
        /// A training output folder or a weights file.
        #[arg(long)]
        model: PathBuf,
        /// Sequences (plain or gzip FASTA), all of the model's input length.
        #[arg(long)]
        fasta: PathBuf,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// Task name or 0-based index.
        #[arg(long, default_value = "0")]
        task: String,
        /// Scoring method.
        #[arg(long, value_enum, default_value = "grad-x-input")]
        method: MethodArg,
        /// Where to compute.
        #[arg(long, value_enum, default_value = "auto")]
        device: DeviceArg,
    },
}

struct DemoJob;

impl commands::BackendTask for DemoJob {
    type Output = ();

    fn run<B: Backend + 'static>(self, backend: &B) -> sepfc::Result<()> {
        let config = DemoConfig::default();
        sepfc::say!(
            "sepfc demo on {}: {} training and {} held-out sequences of {} bp, half with a planted GATA motif",
            backend.describe(),
            config.train,
            config.test,
            config.length
        );
        let report = demo::run(backend, &config, |line| sepfc::say!("  {line}"))?;
        sepfc::say!(
            "held-out auROC: {:.3}, auPRC: {:.3}",
            report.test_auroc,
            report.test_auprc
        );
        sepfc::say!("learned positional weights of the separable layer (sequence start to end):");
        for (unit, row) in report.positional_weights.iter().enumerate() {
            sepfc::say!("  unit {unit}: {}", demo::sparkline(row));
        }
        Ok(())
    }
}

fn run(command: Command) -> sepfc::Result<()> {
    match command {
        Command::Demo { device } => run_on(device.into(), DemoJob),
        Command::Simulate {
            out,
            length,
            n,
            motifs,
            motif,
            seed,
            gc,
            prevalence,
            uniform,
            sd,
        } => commands::simulate::run(&commands::simulate::SimulateArgs {
            out,
            length,
            n,
            motifs,
            motif,
            seed,
            gc,
            prevalence,
            uniform,
            sd,
        }),
        Command::Train {
            config,
            out,
            init,
            resume,
            optimizer,
            lr,
            epochs,
            batch_size,
            seed,
            no_shuffle,
            rc_augment,
            patience,
            device,
        } => commands::train::run(commands::train::TrainArgs {
            config,
            out,
            init,
            resume,
            overrides: commands::train::Overrides {
                optimizer: optimizer.map(|o| match o {
                    OptimizerArg::Adam => OptimizerKind::Adam,
                    OptimizerArg::Sgd => OptimizerKind::Sgd,
                }),
                lr,
                epochs,
                batch_size,
                seed,
                no_shuffle,
                rc_augment,
                patience,
            },
            device: device.into(),
        })
        .map(|_| ()),
        Command::Experiment {
            config,
            out,
            plan,
            gather,
            device,
        } => match plan {
            Some(dir) => {
                let path = commands::experiment_plan::write_plan(
                    &config,
                    &out,
                    device.into(),
                    &dir,
                    &current_exe()?,
                )?;
                print_plan(&path);
                Ok(())
            }
            None if gather => {
                commands::experiment::gather(&config, &out, device.into()).map(|_| ())
            }
            None => commands::experiment::run(&config, &out, device.into()).map(|_| ()),
        },
        Command::Bench {
            model,
            device,
            batch,
            seconds,
            json,
        } => {
            let model = match model {
                BenchModelArg::Small => BenchModel::Small,
                BenchModelArg::Large => BenchModel::Large,
            };
            let options = BenchOptions {
                batch,
                seconds,
                ..BenchOptions::new(model)
            };
            commands::bench::run(options, device.into(), json).map(|_| ())
        }
        Command::Predict {
            model,
            fasta,
            out,
            batch_size,
            device,
        } => commands::predict::run(&model, &fasta, &out, batch_size, device.into()),
        Command::Scan {
            model,
            genome,
            regions,
            chroms,
            window,
            stride,
            out,
            batch_size,
            max_n_fraction,
            plan,
            device,
        } => {
            let options = commands::scan::ScanOptions {
                model,
                genome,
                regions,
                chroms,
                window,
                stride,
                out,
                batch_size,
                max_n_fraction,
            };
            match plan {
                Some(dir) => {
                    let path = commands::scan_plan::write_plan(
                        &options,
                        device.into(),
                        &dir,
                        &current_exe()?,
                    )?;
                    print_plan(&path);
                    Ok(())
                }
                None => commands::scan::run(options, device.into()).map(|_| ()),
            }
        }
        Command::Evaluate {
            model,
            fasta,
            labels,
            config,
            json,
            device,
        } => match (config, fasta, labels) {
            (Some(config), _, _) => Ok(EvaluationData::HeldOut { config }),
            (None, Some(fasta), Some(labels)) => Ok(EvaluationData::Labelled { fasta, labels }),
            _ => Err(sepfc::Error::Config(
                "evaluate needs --config, or --fasta with --labels".into(),
            )),
        }
        .and_then(|data| commands::evaluate::run(&model, &data, json.as_deref(), device.into()))
        .map(|_| ()),
        Command::Explain {
            model,
            fasta,
            out,
            task,
            method,
            device,
        } => commands::explain::run(
            &model,
            &fasta,
            &out,
            &task,
            match method {
                MethodArg::GradXInput => Method::GradXInput,
                MethodArg::Ism => Method::Ism,
            },
            device.into(),
        ),
    }
}

/// The path of this binary, which planned workflows call.
fn current_exe() -> sepfc::Result<PathBuf> {
    std::env::current_exe().map_err(|source| sepfc::Error::Io {
        path: "the sepfc executable".into(),
        source,
    })
}

/// Says where a workflow was written and how to run it.
fn print_plan(snakefile: &std::path::Path) {
    sepfc::say!(
        "wrote {}; run it with: snakemake --snakefile {} --cores 4",
        snakefile.display(),
        snakefile.display()
    );
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Demo {
        device: DeviceArg::Auto,
    });
    match run(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
