//! The two benchmark models of `docs/benchmarks.md` and a timer for them: training samples/s
//! (forward, backward and Adam step), inference samples/s and peak memory, on random one-hot
//! input and random 0/1 labels, batch 128, float32. `bench/pytorch_peer.py` times the same
//! work in PyTorch.
//!
//! ```
//! use sepfc::backend::cpu::Cpu;
//! use sepfc::bench::{BenchModel, BenchOptions, run_bench};
//! let options = BenchOptions { batch: 4, warmup: 1, min_steps: 2, seconds: 0.0, ..BenchOptions::new(BenchModel::Small) };
//! let report = run_bench(&Cpu, &options).unwrap();
//! assert_eq!(report.model, "small");
//! assert!(report.train_samples_per_s > 0.0 && report.inference_samples_per_s > 0.0);
//! ```

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::Result;
use crate::backend::{Backend, CommandCounts, KernelTimes};
use crate::config::Config;
use crate::data::Batch;
use crate::model::{INPUT_CHANNELS, Model};
use crate::training::{BatchSource, Control, EpochEvent, Observer, StartEvent, Trainer};

/// One of the two fixed benchmark models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchModel {
    /// 200 bp, two revcomp convolutions, pool 4, 32 separable units, 3 tasks.
    Small,
    /// 1000 bp, three revcomp convolutions of 64 filters, pool 20, 64 separable units, 16 tasks.
    Large,
}

const SMALL: &str = r#"
[[layers]]
type = "revcomp_conv1d"
filters = 16
kernel_size = 15
activation = "relu"

[[layers]]
type = "revcomp_conv1d"
filters = 16
kernel_size = 14
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 4

[[layers]]
type = "separable_fc"
units = 32
symmetric = true
activation = "relu"

[[layers]]
type = "dense"
units = 3
"#;

const LARGE: &str = r#"
[[layers]]
type = "revcomp_conv1d"
filters = 64
kernel_size = 15
activation = "relu"

[[layers]]
type = "revcomp_conv1d"
filters = 64
kernel_size = 15
activation = "relu"

[[layers]]
type = "revcomp_conv1d"
filters = 64
kernel_size = 15
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 20

[[layers]]
type = "separable_fc"
units = 64
symmetric = true
activation = "relu"

[[layers]]
type = "dense"
units = 16
"#;

impl BenchModel {
    /// `small` or `large`.
    pub fn name(self) -> &'static str {
        match self {
            BenchModel::Small => "small",
            BenchModel::Large => "large",
        }
    }

    /// The model's layers (Adam, lr 1e-3).
    pub fn config(self) -> Result<Config> {
        let text = match self {
            BenchModel::Small => SMALL,
            BenchModel::Large => LARGE,
        };
        let mut config = Config::from_toml_str(text)?;
        config.train.lr = 1e-3;
        Ok(config)
    }

    /// Input length in bp.
    pub fn input_length(self) -> usize {
        match self {
            BenchModel::Small => 200,
            BenchModel::Large => 1000,
        }
    }

    /// Number of tasks (outputs).
    pub fn tasks(self) -> usize {
        match self {
            BenchModel::Small => 3,
            BenchModel::Large => 16,
        }
    }
}

/// How long and on what to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    /// Which model.
    pub model: BenchModel,
    /// Sequences per step (128 in docs/benchmarks.md).
    pub batch: usize,
    /// Untimed steps first (pipelines compiled, buffers pooled, caches warm).
    pub warmup: usize,
    /// Timed steps at least...
    pub min_steps: usize,
    /// ...and at least this many seconds of them.
    pub seconds: f64,
    /// Seed of the weights and the random batch.
    pub seed: u64,
}

impl BenchOptions {
    /// docs/benchmarks.md's settings: batch 128, 3 warm-up steps, then at least 5 steps and 10 s.
    pub fn new(model: BenchModel) -> Self {
        Self {
            model,
            batch: 128,
            warmup: 3,
            min_steps: 5,
            seconds: 10.0,
            seed: 0,
        }
    }
}

/// What a benchmark measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// `small` or `large`.
    pub model: String,
    /// The backend's description (device, threads).
    pub device: String,
    /// Sequences per step.
    pub batch: usize,
    /// Timed training steps.
    pub train_steps: usize,
    /// Training samples per second: forward, backward and Adam step, device synchronised.
    pub train_samples_per_s: f64,
    /// Timed inference passes.
    pub inference_steps: usize,
    /// Inference samples per second (logits, no dropout), device synchronised.
    pub inference_samples_per_s: f64,
    /// Peak resident memory of the process in MiB (Linux), the whole run so far.
    pub peak_rss_mib: Option<f64>,
    /// Peak device memory held by the backend in MiB (GPU backends).
    pub peak_device_mib: Option<f64>,
    /// What one timed training step sent to the device, on average (GPU backends; counted
    /// from the end of the warm-up, so `None` without one).
    pub train_step_commands: Option<StepCommands>,
    /// Device time of one timed training step by kernel family, most first (a GPU backend
    /// opened with timestamps; see [`profile_gpu_step`]).
    pub train_step_kernel_times: Option<Vec<StepKernelTime>>,
}

/// One kernel family's share of a training step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepKernelTime {
    /// The family, e.g. `conv backward`.
    pub family: String,
    /// Dispatches per step.
    pub dispatches: f64,
    /// Device milliseconds per step.
    pub milliseconds: f64,
}

/// `times` spread over `steps` steps, the longest family first.
fn per_step_times(times: &KernelTimes, steps: usize) -> Vec<StepKernelTime> {
    let steps = steps.max(1) as f64;
    let mut out: Vec<StepKernelTime> = times
        .families
        .iter()
        .map(|(family, t)| StepKernelTime {
            family: family.to_string(),
            dispatches: t.dispatches as f64 / steps,
            milliseconds: t.seconds * 1e3 / steps,
        })
        .collect();
    out.sort_by(|a, b| b.milliseconds.total_cmp(&a.milliseconds));
    out
}

/// [`CommandCounts`] per training step, averaged over the timed steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepCommands {
    /// Command buffers submitted.
    pub submits: f64,
    /// Kernel dispatches.
    pub dispatches: f64,
    /// Copies between device buffers.
    pub copies: f64,
    /// Bytes read back to the host.
    pub bytes_read: f64,
    /// Device buffers created.
    pub buffers_created: f64,
}

impl StepCommands {
    /// `counts` spread over `steps` steps.
    fn per_step(counts: CommandCounts, steps: usize) -> Self {
        let per = |v: u64| v as f64 / steps.max(1) as f64;
        Self {
            submits: per(counts.submits),
            dispatches: per(counts.dispatches),
            copies: per(counts.copies),
            bytes_read: per(counts.bytes_read),
            buffers_created: per(counts.buffers_created),
        }
    }
}

/// The process's peak resident set size in MiB, from `/proc/self/status` (Linux only).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Random one-hot `(batch, 4, length)` input and random 0/1 labels `(batch, tasks)`.
fn random_batch(options: &BenchOptions) -> Batch {
    let (n, length, tasks) = (
        options.batch,
        options.model.input_length(),
        options.model.tasks(),
    );
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut x = vec![0.0f32; n * INPUT_CHANNELS * length];
    for i in 0..n {
        for l in 0..length {
            let c = rng.random_range(0..INPUT_CHANNELS);
            x[(i * INPUT_CHANNELS + c) * length + l] = 1.0;
        }
    }
    let targets = (0..n * tasks)
        .map(|_| f32::from(u8::from(rng.random_bool(0.5))))
        .collect();
    Batch {
        x,
        targets,
        mask: vec![1.0; n * tasks],
        n,
    }
}

/// One batch, the same every epoch: an epoch is one step.
struct SameBatch {
    batch: Batch,
    length: usize,
    tasks: Vec<String>,
}

impl BatchSource for SameBatch {
    fn len(&self) -> usize {
        self.batch.n
    }

    fn length(&self) -> usize {
        self.length
    }

    fn tasks(&self) -> &[String] {
        &self.tasks
    }

    fn batch(&self, _indices: &[usize]) -> Result<Batch> {
        Ok(self.batch.clone())
    }
}

/// Counts the warm-up steps, then times steps until both `min_steps` and `seconds` are
/// reached. Each epoch of [`SameBatch`] is one step, and the trainer reads its loss before
/// the epoch ends, so the device has finished when the clock is read.
struct StepTimer<'o> {
    options: &'o BenchOptions,
    warm: usize,
    started: Option<Instant>,
    timed: usize,
    seconds: f64,
    /// The backend's command counts when the clock started, and over the timed steps.
    commands_at_start: Option<CommandCounts>,
    commands: Option<CommandCounts>,
    /// Likewise its kernel times, where it measures them.
    kernel_times_at_start: Option<KernelTimes>,
    kernel_times: Option<KernelTimes>,
}

impl<B: Backend> Observer<B> for StepTimer<'_> {
    fn started(&mut self, _event: &StartEvent<'_>) -> Result<()> {
        if self.options.warmup == 0 {
            self.started = Some(Instant::now());
        }
        Ok(())
    }

    fn epoch_ended(&mut self, event: &EpochEvent<'_, B>) -> Result<Control> {
        if self.warm < self.options.warmup {
            self.warm += 1;
            if self.warm == self.options.warmup {
                self.commands_at_start = event.backend.commands();
                self.kernel_times_at_start = event.backend.kernel_times();
                self.started = Some(Instant::now());
            }
            return Ok(Control::Continue);
        }
        if let (Some(now), Some(start)) = (event.backend.commands(), self.commands_at_start) {
            self.commands = Some(now.since(start));
        }
        if let (Some(now), Some(start)) =
            (event.backend.kernel_times(), &self.kernel_times_at_start)
        {
            self.kernel_times = Some(now.since(start));
        }
        let started = self
            .started
            .expect("the clock starts with the run or after the warm-up");
        self.timed += 1;
        if self.timed >= self.options.min_steps.max(1) {
            self.seconds = started.elapsed().as_secs_f64();
            if self.seconds >= self.options.seconds {
                return Ok(Control::Stop);
            }
        }
        Ok(Control::Continue)
    }
}

/// Runs `step` for the warm-up, then until both `min_steps` and `seconds` are reached;
/// `step(true)` must also wait for the device to finish, and is what the clock is read after.
/// Returns the timed steps and their seconds.
fn time_steps(
    options: &BenchOptions,
    mut step: impl FnMut(bool) -> Result<()>,
) -> Result<(usize, f64)> {
    for i in 0..options.warmup {
        step(i + 1 == options.warmup)?;
    }
    let started = Instant::now();
    let mut steps = 0;
    loop {
        steps += 1;
        let check = steps >= options.min_steps.max(1);
        step(check)?;
        if check {
            let elapsed = started.elapsed().as_secs_f64();
            if elapsed >= options.seconds {
                return Ok((steps, elapsed));
            }
        }
    }
}

/// Times training and inference of `options.model` on `backend`.
pub fn run_bench<B: Backend + 'static>(backend: &B, options: &BenchOptions) -> Result<BenchReport> {
    let model_kind = options.model;
    let (length, tasks, n) = (model_kind.input_length(), model_kind.tasks(), options.batch);
    let mut model = Model::new(backend, model_kind.config()?, length, options.seed)?;
    let source = SameBatch {
        batch: random_batch(options),
        length,
        tasks: (0..tasks).map(|t| format!("task{t}")).collect(),
    };
    let mut timer = StepTimer {
        options,
        warm: 0,
        started: None,
        timed: 0,
        seconds: 0.0,
        commands_at_start: None,
        commands: None,
        kernel_times_at_start: None,
        kernel_times: None,
    };
    Trainer::new()
        .lr(1e-3)
        .batch_size(n)
        .epochs(usize::MAX) // the timer stops it
        .shuffle(false)
        .seed(options.seed)
        .fit(backend, &mut model, &source, None, &mut [&mut timer])?;
    let (train_steps, train_seconds) = (timer.timed, timer.seconds);
    let x = backend.upload(&source.batch.x, &[n, INPUT_CHANNELS, length])?;
    let (inference_steps, inference_seconds) = time_steps(options, |sync| {
        let logits = model.logits(backend, &x)?;
        if sync {
            backend.download(&logits)?;
        }
        Ok(())
    })?;

    Ok(BenchReport {
        model: model_kind.name().into(),
        device: backend.describe(),
        batch: n,
        train_steps,
        train_samples_per_s: (train_steps * n) as f64 / train_seconds,
        inference_steps,
        inference_samples_per_s: (inference_steps * n) as f64 / inference_seconds,
        peak_rss_mib: peak_rss_mib(),
        peak_device_mib: backend
            .peak_memory_bytes()
            .map(|b| b as f64 / (1024.0 * 1024.0)),
        train_step_commands: timer
            .commands
            .map(|counts| StepCommands::per_step(counts, train_steps)),
        train_step_kernel_times: timer
            .kernel_times
            .map(|times| per_step_times(&times, train_steps)),
    })
}

/// The device time of a training step of `options.model` by kernel family, from a short run
/// (3 warm-up steps, 5 timed) on a second GPU device opened with timestamp queries; `None`
/// where the adapter has none. A separate run because timing every kernel gives each its own
/// pass and waits at every submit, which would slow the figures [`run_bench`] reports.
pub fn profile_gpu_step(options: &BenchOptions) -> Result<Option<Vec<StepKernelTime>>> {
    use crate::backend::gpu::{Gpu, GpuOptions};
    let gpu = Gpu::with_options(GpuOptions {
        timestamps: true,
        ..GpuOptions::default()
    })?;
    let short = BenchOptions {
        warmup: 3,
        min_steps: 5,
        seconds: 0.0,
        ..options.clone()
    };
    Ok(run_bench(&gpu, &short)?.train_step_kernel_times)
}
