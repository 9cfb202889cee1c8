//! The embedded demo: simulate sequences with a motif planted near their centre, train a small separable model
//! on them and report how well it finds the motif on held-out sequences.
//!
//! The model: `revcomp_conv1d(8, k=9, relu) -> maxpool1d(4) -> separable_fc(4, symmetric) ->
//! relu -> dense(1)`, trained with Adam on binary cross-entropy.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::Result;
use crate::autodiff::Tape;
use crate::backend::{Backend, Conv1dSpec, PoolSpec};
use crate::metrics::auroc;
use crate::optim::{Adam, Optimizer, Parameter};

/// Sizes and schedule of the demo.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Sequence length.
    pub length: usize,
    /// Training sequences.
    pub train: usize,
    /// Held-out sequences.
    pub test: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Sequences per step.
    pub batch: usize,
    /// Seed of the simulation, the initial weights and the batch order.
    pub seed: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            length: 100,
            train: 2000,
            test: 500,
            epochs: 6,
            batch: 50,
            seed: 0,
        }
    }
}

/// What the demo measured.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Mean training loss of each epoch.
    pub epoch_losses: Vec<f32>,
    /// auROC on the held-out sequences after training.
    pub test_auroc: f64,
}

/// The motif planted in positive sequences (a GATA site), in either orientation.
const MOTIF: &[u8] = b"AGATAAGG";
const FILTERS: usize = 8;
const WIDTH: usize = 9;
const POOL: usize = 4;
const UNITS: usize = 4;

fn reverse_complement(seq: &[u8]) -> Vec<u8> {
    seq.iter()
        .rev()
        .map(|b| match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            _ => b'A',
        })
        .collect()
}

/// `n` random sequences, half with the motif planted on a random strand near the centre,
/// one-hot encoded as `(n, 4, length)`, with their labels.
fn simulate(rng: &mut StdRng, n: usize, length: usize) -> (Vec<f32>, Vec<bool>) {
    let mut x = vec![0.0; n * 4 * length];
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let mut seq: Vec<u8> = (0..length)
            .map(|_| b"ACGT"[rng.random_range(0..4)])
            .collect();
        let positive = i % 2 == 0;
        if positive {
            let site = if rng.random_bool(0.5) {
                MOTIF.to_vec()
            } else {
                reverse_complement(MOTIF)
            };
            // near the centre, as transcription factor sites concentrate near peak summits
            let spread: i64 = (0..3).map(|_| rng.random_range(-6..=6i64)).sum();
            let centre = (length - site.len()) as i64 / 2;
            let start = (centre + spread).clamp(0, (length - site.len()) as i64) as usize;
            seq[start..start + site.len()].copy_from_slice(&site);
        }
        for (l, b) in seq.iter().enumerate() {
            let channel = b"ACGT".iter().position(|c| c == b).unwrap_or(0);
            x[(i * 4 + channel) * length + l] = 1.0;
        }
        labels.push(positive);
    }
    (x, labels)
}

/// Uniform values in `+-bound`.
fn init(rng: &mut StdRng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
}

/// The demo model's parameters: conv weight and bias, stored positional weights, channel
/// weights, dense weight and bias.
fn init_params<B: Backend>(be: &B, rng: &mut StdRng, length: usize) -> Result<Vec<Parameter<B>>> {
    let pooled = (length - WIDTH + 1 - POOL) / POOL + 1;
    let stored = pooled.div_ceil(2);
    let channels = 2 * FILTERS;
    let factor = (2.0 / (stored * channels + UNITS) as f32).powf(0.25);
    let conv = (6.0 / ((4 + FILTERS) * WIDTH) as f32).sqrt();
    let shapes_and_bounds: [(Vec<usize>, f32); 6] = [
        (vec![FILTERS, 4, WIDTH], conv),
        (vec![FILTERS], 0.0),
        (vec![UNITS, stored], factor),
        (vec![UNITS, channels], factor),
        (vec![1, UNITS], (6.0 / (UNITS + 1) as f32).sqrt()),
        (vec![1], 0.0),
    ];
    shapes_and_bounds
        .iter()
        .map(|(shape, bound)| {
            let n = shape.iter().product();
            let values = if *bound > 0.0 {
                init(rng, n, *bound)
            } else {
                vec![0.0; n]
            };
            Ok(Parameter::new(be.upload(&values, shape)?))
        })
        .collect()
}

/// Logits `(n, 1)` of the model, recorded on `tape`; returns the logits and the parameter vars.
fn forward<B: Backend>(
    tape: &mut Tape<'_, B>,
    params: &[Parameter<B>],
    x: B::Tensor,
    length: usize,
) -> Result<(crate::autodiff::Var, Vec<crate::autodiff::Var>)> {
    let vars: Vec<_> = params.iter().map(|p| tape.param(p.value.clone())).collect();
    let x = tape.input(x);
    let w = tape.rc_expand(vars[0])?;
    let b = tape.rc_expand(vars[1])?;
    let h = tape.conv1d(x, w, b, Conv1dSpec::valid(1))?;
    let h = tape.relu(h)?;
    let h = tape.maxpool1d(
        h,
        PoolSpec {
            size: POOL,
            stride: POOL,
        },
    )?;
    let pooled = (length - WIDTH + 1 - POOL) / POOL + 1;
    let pos = tape.mirror_expand(vars[2], pooled)?;
    let h = tape.separable(h, pos, vars[3])?;
    let h = tape.relu(h)?;
    let logits = tape.dense(h, vars[4], vars[5])?;
    Ok((logits, vars))
}

/// Runs the demo on `backend`, calling `progress` with a line after each epoch.
pub fn run<B: Backend>(
    backend: &B,
    config: &DemoConfig,
    mut progress: impl FnMut(&str),
) -> Result<DemoReport> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let (train_x, train_y) = simulate(&mut rng, config.train, config.length);
    let (test_x, test_y) = simulate(&mut rng, config.test, config.length);
    let mut params = init_params(backend, &mut rng, config.length)?;
    let mut adam = Adam::new(0.01);
    let per_seq = 4 * config.length;
    let mut order: Vec<usize> = (0..config.train).collect();
    let mut epoch_losses = Vec::new();
    for epoch in 1..=config.epochs {
        let started = Instant::now();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let mut loss_sum = 0.0;
        let mut batches = 0;
        for chunk in order.chunks(config.batch) {
            let mut xb = Vec::with_capacity(chunk.len() * per_seq);
            let mut yb = Vec::with_capacity(chunk.len());
            for &i in chunk {
                xb.extend_from_slice(&train_x[i * per_seq..(i + 1) * per_seq]);
                yb.push(if train_y[i] { 1.0 } else { 0.0 });
            }
            let n = chunk.len();
            let mut tape = Tape::new(backend);
            let x = backend.upload(&xb, &[n, 4, config.length])?;
            let (logits, vars) = forward(&mut tape, &params, x, config.length)?;
            let targets = backend.upload(&yb, &[n, 1])?;
            let mask = backend.full(&[n, 1], 1.0)?;
            let loss = tape.bce_with_logits(logits, &targets, &mask)?;
            loss_sum += backend.download(tape.value(loss))?[0];
            batches += 1;
            let grads = tape.backward(loss)?;
            let grads: Vec<_> = vars.iter().map(|v| grads.get(*v)).collect();
            adam.step(backend, &mut params, &grads)?;
        }
        let mean_loss = loss_sum / batches as f32;
        epoch_losses.push(mean_loss);
        progress(&format!(
            "epoch {epoch}/{}: train loss {mean_loss:.4} ({:.1} s)",
            config.epochs,
            started.elapsed().as_secs_f32()
        ));
    }
    let mut tape = Tape::new(backend);
    let x = backend.upload(&test_x, &[config.test, 4, config.length])?;
    let (logits, _) = forward(&mut tape, &params, x, config.length)?;
    let scores = backend.download(tape.value(logits))?;
    let test_auroc = auroc(&scores, &test_y).unwrap_or(0.5);
    Ok(DemoReport {
        epoch_losses,
        test_auroc,
    })
}
