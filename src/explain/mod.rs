//! Importance scores: how much each position of a sequence contributes to one task's logit,
//! for a trained [`Model`] on any [`Backend`].
//!
//! Four methods, each returning one score per position, `(N, L)` row-major:
//!
//! - [`grad_x_input`]: the gradient of the task's logit with respect to the one-hot input,
//!   multiplied by the input and summed over the 4 channels (docs/contract.md, `sepfc explain`);
//!   for one-hot input, the gradient at the base that is present. One backward pass.
//! - [`in_silico_mutagenesis`]: how much the logit drops when the base is changed,
//!   `logit(x) - mean over the 3 other bases b of logit(x with the position set to b)`.
//!   `3 * L` forward passes per sequence, evaluated in batches.
//! - [`deeplift::deeplift`] and [`deeplift::deepshap`]: DeepLIFT's contributions against an
//!   all-zero reference or averaged over dinucleotide shuffles ([`shuffle`]), with the
//!   hypothetical contributions TF-MoDISco reads; [`logo`] draws them.
//!
//! Positions that are N (an all-zero input column) score 0 under all four.
//!
//! ```
//! use sepfc::backend::{Backend, cpu::Cpu};
//! use sepfc::config::Config;
//! use sepfc::explain::{Method, scores};
//! use sepfc::model::Model;
//!
//! let config = Config::from_toml_str(r#"
//!     [[layers]]
//!     type = "conv1d"
//!     filters = 3
//!     kernel_size = 5
//!     activation = "relu"
//!     [[layers]]
//!     type = "dense"
//!     units = 2
//! "#).unwrap();
//! let cpu = Cpu;
//! let model = Model::new(&cpu, config, 12, 0).unwrap();   // inputs (N, 4, 12), 2 tasks
//! let mut x = Vec::new();
//! sepfc::dna::one_hot_into(b"ACGTNACGTACG", &mut x);
//! let x = cpu.upload(&x, &[1, 4, 12]).unwrap();
//! for method in ["grad_x_input", "ism"] {
//!     let method: Method = method.parse().unwrap();
//!     let s = scores(&model, &cpu, &x, 1, method).unwrap(); // task 1
//!     assert_eq!(s.len(), 12);                               // (N, L)
//!     assert_eq!(s[4], 0.0);                                 // the N scores 0
//! }
//! assert!(scores(&model, &cpu, &x, 2, Method::Ism).is_err()); // only tasks 0 and 1
//! ```

pub mod deeplift;
pub mod logo;
pub mod shuffle;

use std::fmt;
use std::str::FromStr;

use crate::autodiff::Tape;
use crate::backend::{Backend, Tensor};
use crate::model::{INPUT_CHANNELS, Model};
use crate::{Error, Result};

/// Sequences per forward pass that [`scores`] uses for [`Method::Ism`].
pub const ISM_BATCH_SIZE: usize = 256;

/// References per sequence that [`scores`] gives [`Method::DeepShap`] (`--references`'s
/// default).
pub const DEFAULT_REFERENCES: usize = 20;

/// An importance-score method, as named on the command line (`--method`): `GradXInput` runs
/// [`grad_x_input`], `Ism` runs [`in_silico_mutagenesis`], `DeepLift` and `DeepShap` run
/// [`deeplift::deeplift`] and [`deeplift::deepshap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Method {
    /// Gradient of the task's logit times the one-hot input, summed over channels.
    #[default]
    #[value(alias = "grad_x_input")]
    GradXInput,
    /// In-silico mutagenesis: the logit's drop when a base is changed, averaged over the three
    /// alternatives.
    Ism,
    /// DeepLIFT (rescale rule) against an all-zero reference.
    #[value(name = "deeplift")]
    DeepLift,
    /// DeepLIFT averaged over dinucleotide-shuffled references of each sequence.
    #[value(name = "deepshap")]
    DeepShap,
}

impl Method {
    /// The command-line name: `grad_x_input`, `ism`, `deeplift` or `deepshap`.
    pub fn name(self) -> &'static str {
        match self {
            Method::GradXInput => "grad_x_input",
            Method::Ism => "ism",
            Method::DeepLift => "deeplift",
            Method::DeepShap => "deepshap",
        }
    }

    /// Whether the method has hypothetical contributions (`--npz`).
    pub fn has_hypothetical(self) -> bool {
        matches!(self, Method::DeepLift | Method::DeepShap)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = Error;

    /// Parses `grad_x_input` (or `grad-x-input`), `ism`, `deeplift` or `deepshap`; anything
    /// else is an [`Error::InvalidArgument`] listing the choices.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "grad_x_input" | "grad-x-input" => Ok(Method::GradXInput),
            "ism" => Ok(Method::Ism),
            "deeplift" => Ok(Method::DeepLift),
            "deepshap" => Ok(Method::DeepShap),
            other => Err(invalid(format!(
                "unknown method `{other}`; choose one of: grad_x_input, ism, deeplift, deepshap"
            ))),
        }
    }
}

fn invalid(detail: String) -> Error {
    Error::InvalidArgument {
        op: "explain",
        detail,
    }
}

/// Checks `task` against the model's tasks.
fn check_task<B: Backend>(model: &Model<B>, task: usize) -> Result<()> {
    if task >= model.tasks() {
        return Err(invalid(format!(
            "task {task} is out of range: the model has {} task(s), numbered from 0",
            model.tasks()
        )));
    }
    Ok(())
}

/// Checks that host-side input `x` holds whole `(4, length)` sequences.
fn check_host_input(x: &[f32], length: usize) -> Result<()> {
    let width = INPUT_CHANNELS * length;
    if width == 0 || !x.len().is_multiple_of(width) {
        return Err(Error::Shape {
            op: "explain",
            detail: format!(
                "{} input values are not whole sequences of ({INPUT_CHANNELS}, {length})",
                x.len()
            ),
        });
    }
    Ok(())
}

/// The letters of one-hot input `(N, 4, L)`: A, C, G, T, or N for an all-zero column; an
/// error naming the first position that is neither.
fn letters(x: &[f32], length: usize) -> Result<Vec<Vec<u8>>> {
    const BASES: &[u8; 4] = b"ACGT";
    let width = INPUT_CHANNELS * length;
    x.chunks(width)
        .enumerate()
        .map(|(seq, one)| {
            (0..length)
                .map(|l| {
                    let column: Vec<f32> =
                        (0..INPUT_CHANNELS).map(|c| one[c * length + l]).collect();
                    match column.iter().filter(|&&v| v != 0.0).count() {
                        0 => Ok(b'N'),
                        1 => {
                            let c = column.iter().position(|&v| v == 1.0).ok_or_else(|| {
                                invalid(format!(
                                    "sequence {seq}, position {l}: {column:?} is not one-hot"
                                ))
                            })?;
                            Ok(BASES[c])
                        }
                        _ => Err(invalid(format!(
                            "sequence {seq}, position {l}: {column:?} is not one-hot"
                        ))),
                    }
                })
                .collect()
        })
        .collect()
}

/// Checks `task` against the model and `x` against `(N, 4, input_length)`; returns `(N, L)`.
fn check<B: Backend>(model: &Model<B>, x: &B::Tensor, task: usize) -> Result<(usize, usize)> {
    check_task(model, task)?;
    let shape = x.shape();
    let length = model.input_length();
    if shape.len() != 3 || shape[1] != INPUT_CHANNELS || shape[2] != length {
        return Err(Error::Shape {
            op: "explain",
            detail: format!("expected input (batch, {INPUT_CHANNELS}, {length}), got {shape:?}"),
        });
    }
    Ok((shape[0], length))
}

/// Importance scores of task `task` for the batch `x` by `method` (ISM in batches of
/// [`ISM_BATCH_SIZE`] sequences, DeepSHAP with [`DEFAULT_REFERENCES`] references seeded by 0).
///
/// `x` is one-hot `(N, 4, L)` with `L` the model's input length; the result is `(N, L)`,
/// row-major. Errors when `task >= model.tasks()` or `x` has another shape.
pub fn scores<B: Backend>(
    model: &Model<B>,
    backend: &B,
    x: &B::Tensor,
    task: usize,
    method: Method,
) -> Result<Vec<f32>> {
    match method {
        Method::GradXInput => grad_x_input(model, backend, x, task),
        Method::Ism => in_silico_mutagenesis(model, backend, x, task, ISM_BATCH_SIZE),
        Method::DeepLift => {
            check(model, x, task)?;
            Ok(deeplift::deeplift(model, backend, &backend.download(x)?, task)?.scores)
        }
        Method::DeepShap => {
            check(model, x, task)?;
            let host = backend.download(x)?;
            Ok(deeplift::deepshap(model, backend, &host, task, DEFAULT_REFERENCES, 0)?.scores)
        }
    }
}

/// Gradient times input: `score[n, l] = sum_c x[n, c, l] * d logit[n, task] / d x[n, c, l]`.
///
/// `x` is one-hot `(N, 4, L)` with `L` the model's input length; the result is `(N, L)`,
/// row-major. The forward pass runs without dropout, and the whole batch at once on the tape
/// (intermediate activations of all `N` sequences are held until the backward pass), so
/// callers split large inputs into batches. Errors when `task >= model.tasks()` or `x` has
/// another shape.
pub fn grad_x_input<B: Backend>(
    model: &Model<B>,
    backend: &B,
    x: &B::Tensor,
    task: usize,
) -> Result<Vec<f32>> {
    let (n, length) = check(model, x, task)?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let tasks = model.tasks();
    let mut tape = Tape::new(backend);
    let xvar = tape.param(x.clone());
    // the weights as constants: the backward pass computes the input gradient only
    let logits = model.record_frozen(&mut tape, xvar)?;
    // logit[:, task] as (N, 1): a dense op with the one-hot row of `task` and a zero bias.
    let mut row = vec![0.0; tasks];
    row[task] = 1.0;
    let select = tape.input(backend.upload(&row, &[1, tasks])?);
    let zero = tape.input(backend.full(&[1], 0.0)?);
    let selected = tape.dense(logits, select, zero)?;
    // The backward pass seeds `selected` with ones, i.e. differentiates the sum over the batch
    // of logit[n, task]; each sequence's input gradient is that of its own logit.
    let grads = tape.backward(selected)?;
    let Some(dx) = grads.get(xvar) else {
        // the logit does not depend on the input at all
        return Ok(vec![0.0; n * length]);
    };
    let dx = backend.download(dx)?;
    let xs = backend.download(x)?;
    let mut out = vec![0.0f32; n * length];
    for (i, score) in out.iter_mut().enumerate() {
        let (seq, l) = (i / length, i % length);
        // folded from +0.0 so that an N position scores 0, not -0
        let sum = (0..INPUT_CHANNELS).fold(0.0f64, |acc, c| {
            let at = (seq * INPUT_CHANNELS + c) * length + l;
            acc + f64::from(xs[at]) * f64::from(dx[at])
        });
        *score = sum as f32;
    }
    Ok(out)
}

/// In-silico mutagenesis: `score[n, l] = logit(x_n) - mean_{b != base} logit(x_n with
/// position l set to base b)` for task `task`, where `base` is the base present at `l`; the
/// score is how much the logit drops when the base is changed. N positions (all-zero input
/// columns) score 0 and are not mutated.
///
/// `x` is one-hot `(N, 4, L)` with `L` the model's input length; the result is `(N, L)`,
/// row-major. (In a column that is not one-hot, the base present is taken to be its largest
/// channel, and each mutant replaces the whole column with another base's one-hot vector.)
/// The `3 * L` mutants of every sequence are evaluated with [`Model::logits`] (no dropout) in
/// batches of `batch_size` sequences, so device memory stays that of one such batch. Errors
/// when `task >= model.tasks()`, `x` has another shape, or `batch_size` is 0.
pub fn in_silico_mutagenesis<B: Backend>(
    model: &Model<B>,
    backend: &B,
    x: &B::Tensor,
    task: usize,
    batch_size: usize,
) -> Result<Vec<f32>> {
    let (n, length) = check(model, x, task)?;
    if batch_size == 0 {
        return Err(invalid("the ISM batch size must be positive".into()));
    }
    let tasks = model.tasks();
    let seq_len = INPUT_CHANNELS * length;
    let xs = backend.download(x)?;

    // The original logits, in batches of `batch_size` sequences.
    let mut original = Vec::with_capacity(n);
    for start in (0..n).step_by(batch_size) {
        let count = batch_size.min(n - start);
        let chunk = &xs[start * seq_len..(start + count) * seq_len];
        let batch = backend.upload(chunk, &[count, INPUT_CHANNELS, length])?;
        let logits = backend.download(&model.logits(backend, &batch)?)?;
        original.extend((0..count).map(|i| f64::from(logits[i * tasks + task])));
    }

    // The base present at each position, or None for N.
    let present = |seq: usize, l: usize| -> Option<usize> {
        let column = (0..INPUT_CHANNELS).map(|c| xs[(seq * INPUT_CHANNELS + c) * length + l]);
        column
            .enumerate()
            .filter(|&(_, v)| v != 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c)
    };

    // Every mutant, in order: (sequence, position, new base).
    let mutants = (0..n).flat_map(|seq| {
        (0..length).flat_map(move |l| {
            present(seq, l)
                .into_iter()
                .flat_map(move |base| (0..INPUT_CHANNELS).filter(move |&b| b != base))
                .map(move |b| (seq, l, b))
        })
    });

    // Sum over the mutants of each position of logit(mutant) - logit(original).
    let mut change = vec![0.0f64; n * length];
    let mut buffer: Vec<f32> = Vec::with_capacity(batch_size * seq_len);
    let mut pending: Vec<(usize, usize)> = Vec::with_capacity(batch_size);
    let mut flush = |buffer: &mut Vec<f32>, pending: &mut Vec<(usize, usize)>| -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let batch = backend.upload(buffer, &[pending.len(), INPUT_CHANNELS, length])?;
        let logits = backend.download(&model.logits(backend, &batch)?)?;
        for (i, &(seq, l)) in pending.iter().enumerate() {
            change[seq * length + l] += f64::from(logits[i * tasks + task]) - original[seq];
        }
        buffer.clear();
        pending.clear();
        Ok(())
    };
    for (seq, l, b) in mutants {
        let start = buffer.len();
        buffer.extend_from_slice(&xs[seq * seq_len..(seq + 1) * seq_len]);
        for c in 0..INPUT_CHANNELS {
            buffer[start + c * length + l] = if c == b { 1.0 } else { 0.0 };
        }
        pending.push((seq, l));
        if pending.len() == batch_size {
            flush(&mut buffer, &mut pending)?;
        }
    }
    flush(&mut buffer, &mut pending)?;

    let alternatives = (INPUT_CHANNELS - 1) as f64;
    Ok(change
        .iter()
        .map(|&sum| ((0.0 - sum) / alternatives) as f32) // 0 - 0 is +0 for N positions
        .collect())
}
