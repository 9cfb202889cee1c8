//! DeepLIFT (rescale rule) and DeepSHAP: contributions of each input value to one task's logit,
//! relative to references, with the hypothetical contributions TF-MoDISco reads.
//!
//! The model runs forward once on a batch of `2 P` rows, `P` inputs and then their `P`
//! references; the linear ops (convolutions, the separable and dense layers) are differentiated
//! as usual, the nonlinear ones (relu, sigmoid, max pooling) by DeepLIFT's rules
//! ([`Backend::deeplift_rescale`], [`Backend::deeplift_maxpool1d`]), which pair row `i` with row
//! `P + i`. The input multipliers `m` then satisfy DeepLIFT's summation to delta:
//! `sum over c, l of m[c, l] * (x[c, l] - ref[c, l]) = logit(x) - logit(ref)`.
//!
//! - **DeepLIFT** ([`deeplift`]): one all-zero reference per sequence.
//! - **DeepSHAP** ([`deepshap`]): `R` dinucleotide shuffles of each sequence
//!   ([`super::shuffle`]), the results averaged over them.
//!
//! Hypothetical contributions `hyp[c, l] = mean over references of (m[c, l] - sum over c' of
//! ref[c', l] m[c', l])`: what base `c` at `l` would contribute, as the field's tools define
//! it. A sequence's score at `l` is `sum over c of x[c, l] hyp[c, l]`, which for one-hot
//! positions is the contribution of the base there, so a sequence without N has scores that
//! add up to its logit minus the mean logit of its references. An N position scores 0 (its
//! input column is zero), so with DeepSHAP the scores of a sequence with N miss what those
//! positions' references contribute.

use super::shuffle::dinucleotide_shuffles;
use crate::Result;
use crate::autodiff::{Tape, Var};
use crate::backend::{Backend, Conv1dSpec, Nonlinearity, PoolSpec};
use crate::graph::Graph;
use crate::layers::Mode;
use crate::model::{INPUT_CHANNELS, Model};

/// Most bytes one activation of a pass may take (inputs and references together): well within
/// the smallest storage binding WebGPU devices allow (128 MiB), since the GPU's DeepLIFT
/// kernels bind an activation whole. On the CPU, DeepSHAP over 1,000 sequences of the small
/// benchmark model took 7.5 s with 8 MiB passes against 10 s with 64 MiB ones (same output).
const PASS_BYTES: usize = 8 << 20;

/// What [`deeplift`] and [`deepshap`] return for `N` sequences of length `L`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    /// `(N, L)`: `sum over c of x[c, l] * hypothetical[c, l]`.
    pub scores: Vec<f32>,
    /// `(N, 4, L)`: the hypothetical contributions.
    pub hypothetical: Vec<f32>,
    /// `(N)`: each sequence's logit for the task.
    pub logits: Vec<f32>,
    /// `(N)`: the mean logit of each sequence's references.
    pub reference_logits: Vec<f32>,
}

/// The layers' ops on a tape, with the nonlinearities differentiated by DeepLIFT's rules over
/// `pairs` (input, reference) rows.
struct Rescaled<'t, 'b, B: Backend> {
    tape: &'t mut Tape<'b, B>,
    pairs: usize,
}

impl<B: Backend> Graph<B> for Rescaled<'_, '_, B> {
    type Value = Var;

    fn shape(&self, v: &Var) -> Vec<usize> {
        self.tape.shape(v)
    }

    fn conv1d(&mut self, x: Var, w: Var, b: Var, spec: Conv1dSpec) -> Result<Var> {
        self.tape.conv1d(x, w, b, spec)
    }

    fn conv1d_relu(&mut self, x: Var, w: Var, b: Var, spec: Conv1dSpec) -> Result<Var> {
        let y = self.tape.conv1d(x, w, b, spec)?;
        self.relu(y)
    }

    fn rc_expand(&mut self, w: Var) -> Result<Var> {
        self.tape.rc_expand(w)
    }

    fn mirror_expand(&mut self, v: Var, n: usize) -> Result<Var> {
        self.tape.mirror_expand(v, n)
    }

    fn maxpool1d(&mut self, x: Var, spec: PoolSpec) -> Result<Var> {
        self.tape.deeplift_maxpool1d(x, spec, self.pairs)
    }

    fn separable(&mut self, x: Var, pos: Var, chan: Var) -> Result<Var> {
        self.tape.separable(x, pos, chan)
    }

    fn dense(&mut self, x: Var, w: Var, b: Var) -> Result<Var> {
        self.tape.dense(x, w, b)
    }

    fn reshape(&mut self, x: Var, shape: &[usize]) -> Result<Var> {
        self.tape.reshape(x, shape)
    }

    fn relu(&mut self, x: Var) -> Result<Var> {
        self.tape
            .deeplift_nonlinearity(x, Nonlinearity::Relu, self.pairs)
    }

    fn sigmoid(&mut self, x: Var) -> Result<Var> {
        self.tape
            .deeplift_nonlinearity(x, Nonlinearity::Sigmoid, self.pairs)
    }

    /// Identity: attributions are of the model at inference.
    fn dropout(&mut self, x: Var, _rate: f32, _seed: u32) -> Result<Var> {
        Ok(x)
    }
}

/// The input multipliers of `task`'s logit for `pairs` inputs and references, `(P, 4, L)`
/// each, host-side; with the logits of the inputs and of the references.
struct Pass {
    multipliers: Vec<f32>,
    logits: Vec<f32>,
    reference_logits: Vec<f32>,
}

fn pass<B: Backend>(
    model: &Model<B>,
    backend: &B,
    inputs: &[f32],
    references: &[f32],
    task: usize,
) -> Result<Pass> {
    let length = model.input_length();
    let pairs = inputs.len() / (INPUT_CHANNELS * length);
    let mut both = Vec::with_capacity(2 * inputs.len());
    both.extend_from_slice(inputs);
    both.extend_from_slice(references);
    let x = backend.upload(&both, &[2 * pairs, INPUT_CHANNELS, length])?;
    let mut tape = Tape::new(backend);
    let xvar = tape.param(x);
    let params = model.frozen_parameters(&mut tape);
    let logits = model.forward(
        &mut Rescaled {
            tape: &mut tape,
            pairs,
        },
        xvar,
        &params,
        Mode::INFERENCE,
    )?;
    let tasks = model.tasks();
    let mut row = vec![0.0; tasks];
    row[task] = 1.0;
    let select = tape.input(backend.upload(&row, &[1, tasks])?);
    let zero = tape.input(backend.full(&[1], 0.0)?);
    let selected = tape.dense(logits, select, zero)?;
    let values = backend.download(tape.value(selected))?;
    let grads = tape.backward(selected)?;
    let multipliers = match grads.get(xvar) {
        Some(dx) => {
            let mut all = backend.download(dx)?;
            all.truncate(inputs.len());
            all
        }
        // the logit does not depend on the input
        None => vec![0.0; inputs.len()],
    };
    Ok(Pass {
        multipliers,
        logits: values[..pairs].to_vec(),
        reference_logits: values[pairs..].to_vec(),
    })
}

/// Pairs one pass may take: the largest activation of `2 P` rows within [`PASS_BYTES`].
fn pairs_per_pass<B: Backend>(model: &Model<B>) -> usize {
    let widest = model
        .layers()
        .iter()
        .map(|layer| layer.output().size())
        .chain(std::iter::once(INPUT_CHANNELS * model.input_length()))
        .max()
        .unwrap_or(1)
        .max(1);
    (PASS_BYTES / (2 * 4 * widest)).max(1)
}

/// Runs the passes for `n` sequences of `x` (`(N, 4, L)`, host-side) with `r` references
/// each, made by `reference(seq, k)`, and averages over the references.
fn attribute<B: Backend>(
    model: &Model<B>,
    backend: &B,
    x: &[f32],
    task: usize,
    r: usize,
    reference: impl Fn(usize, usize) -> Vec<f32>,
) -> Result<Attribution> {
    super::check_task(model, task)?;
    let length = model.input_length();
    let width = INPUT_CHANNELS * length;
    super::check_host_input(x, length)?;
    let n = x.len() / width;
    let mut hypothetical = vec![0.0f64; n * width];
    let mut logits = vec![0.0f32; n];
    let mut reference_logits = vec![0.0f64; n];
    let per_pass = pairs_per_pass(model);
    let all: Vec<(usize, usize)> = (0..n).flat_map(|s| (0..r).map(move |k| (s, k))).collect();
    for chunk in all.chunks(per_pass) {
        let mut inputs = Vec::with_capacity(chunk.len() * width);
        let mut references = Vec::with_capacity(chunk.len() * width);
        for &(seq, k) in chunk {
            inputs.extend_from_slice(&x[seq * width..(seq + 1) * width]);
            references.extend(reference(seq, k));
        }
        let done = pass(model, backend, &inputs, &references, task)?;
        for (i, &(seq, _)) in chunk.iter().enumerate() {
            let m = &done.multipliers[i * width..(i + 1) * width];
            let rf = &references[i * width..(i + 1) * width];
            let hyp = &mut hypothetical[seq * width..(seq + 1) * width];
            for l in 0..length {
                let at = |c: usize| c * length + l;
                let with_ref: f64 = (0..INPUT_CHANNELS)
                    .map(|c| f64::from(rf[at(c)]) * f64::from(m[at(c)]))
                    .sum();
                for c in 0..INPUT_CHANNELS {
                    hyp[at(c)] += (f64::from(m[at(c)]) - with_ref) / r as f64;
                }
            }
            logits[seq] = done.logits[i];
            reference_logits[seq] += f64::from(done.reference_logits[i]) / r as f64;
        }
    }
    let mut scores = vec![0.0f32; n * length];
    for (i, score) in scores.iter_mut().enumerate() {
        let (seq, l) = (i / length, i % length);
        // folded from +0.0 so that an N position scores 0, not -0
        let sum = (0..INPUT_CHANNELS).fold(0.0f64, |acc, c| {
            let at = seq * width + c * length + l;
            acc + f64::from(x[at]) * hypothetical[at]
        });
        *score = sum as f32;
    }
    Ok(Attribution {
        scores,
        hypothetical: hypothetical.into_iter().map(|v| v as f32).collect(),
        logits,
        reference_logits: reference_logits.into_iter().map(|v| v as f32).collect(),
    })
}

/// DeepLIFT with the rescale rule and an all-zero reference: contributions of `x` (`(N, 4, L)`
/// one-hot, host-side, `L` the model's input length) to `task`'s logit.
///
/// ```
/// use sepfc::backend::cpu::Cpu;
/// use sepfc::config::Config;
/// use sepfc::explain::deeplift::deeplift;
/// use sepfc::model::Model;
///
/// let config = Config::from_toml_str(r#"
///     [[layers]]
///     type = "conv1d"
///     filters = 3
///     kernel_size = 5
///     activation = "relu"
///     [[layers]]
///     type = "maxpool1d"
///     pool_size = 2
///     [[layers]]
///     type = "dense"
///     units = 2
/// "#).unwrap();
/// let model = Model::new(&Cpu, config, 12, 0).unwrap();
/// let mut x = Vec::new();
/// sepfc::dna::one_hot_into(b"ACGTACGTACGA", &mut x);
/// let a = deeplift(&model, &Cpu, &x, 1).unwrap();
/// // the contributions add up to the logit minus the all-zero reference's logit
/// let total: f32 = a.scores.iter().sum();
/// assert!((total - (a.logits[0] - a.reference_logits[0])).abs() < 1e-4);
/// ```
pub fn deeplift<B: Backend>(
    model: &Model<B>,
    backend: &B,
    x: &[f32],
    task: usize,
) -> Result<Attribution> {
    let width = INPUT_CHANNELS * model.input_length();
    attribute(model, backend, x, task, 1, |_, _| vec![0.0; width])
}

/// DeepLIFT against references the caller gives: `references` holds `r` of them per sequence
/// of `x`, `(N, r, 4, L)`, and the results are averaged over each sequence's. Errors when
/// `references` is not `r` whole sequences per sequence of `x`, or `r` is 0.
pub fn against_references<B: Backend>(
    model: &Model<B>,
    backend: &B,
    x: &[f32],
    references: &[f32],
    r: usize,
    task: usize,
) -> Result<Attribution> {
    let width = INPUT_CHANNELS * model.input_length();
    super::check_host_input(x, model.input_length())?;
    if r == 0 || references.len() != x.len() * r {
        return Err(super::invalid(format!(
            "{} reference values are not {r} reference(s) for each of {} sequences",
            references.len(),
            x.len() / width
        )));
    }
    attribute(model, backend, x, task, r, |seq, k| {
        let at = (seq * r + k) * width;
        references[at..at + width].to_vec()
    })
}

/// DeepSHAP: DeepLIFT averaged over `references` dinucleotide shuffles of each sequence of `x`
/// (`(N, 4, L)` one-hot, host-side), the `k`-th shuffle of sequence `i` seeded by `seed`, `i`
/// and `k`. Errors when a position of `x` is neither one-hot nor all zeros (N), or
/// `references` is 0.
pub fn deepshap<B: Backend>(
    model: &Model<B>,
    backend: &B,
    x: &[f32],
    task: usize,
    references: usize,
    seed: u64,
) -> Result<Attribution> {
    if references == 0 {
        return Err(super::invalid(
            "DeepSHAP needs at least one reference".into(),
        ));
    }
    let length = model.input_length();
    super::check_host_input(x, length)?;
    let letters = super::letters(x, length)?;
    let shuffles: Vec<Vec<Vec<u8>>> = letters
        .iter()
        .enumerate()
        .map(|(i, seq)| {
            dinucleotide_shuffles(
                seq,
                references,
                seed.wrapping_add(i as u64)
                    .wrapping_mul(0x2545_f491_4f6c_dd1d),
            )
        })
        .collect();
    attribute(model, backend, x, task, references, |seq, k| {
        let mut out = Vec::with_capacity(INPUT_CHANNELS * length);
        crate::dna::one_hot_into(&shuffles[seq][k], &mut out);
        out
    })
}
