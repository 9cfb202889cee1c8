//! The embedded demo: simulate sequences with a motif planted near their centre, train a small separable model
//! on them and report how well it finds the motif on held-out sequences.
//!
//! The model ([`MODEL`]): `revcomp_conv1d(8, k=9, relu) -> maxpool1d(4) ->
//! separable_fc(4, symmetric, relu) -> dense(1)`, trained with Adam on binary cross-entropy.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::Result;
use crate::backend::{Backend, Tensor};
use crate::config::Config;
use crate::data::Dataset;
use crate::dna::reverse_complement;
use crate::metrics::{auprc, auroc};
use crate::model::Model;
use crate::training::{Lines, Trainer};

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
    /// auPRC on the held-out sequences after training.
    pub test_auprc: f64,
    /// The separable layer's learned positional weights, one row per unit, mirrored to the
    /// full pooled length.
    pub positional_weights: Vec<Vec<f32>>,
}

/// `values` as a line of block characters from lowest to highest.
pub fn sparkline(values: &[f32]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let lo = values.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let span = (hi - lo).max(f32::EPSILON);
    values
        .iter()
        .map(|v| BARS[(((v - lo) / span) * 7.0).round() as usize])
        .collect()
}

/// The motif planted in positive sequences (a GATA site), in either orientation.
const MOTIF: &[u8] = b"AGATAAGG";

/// `n` random sequences (ids `{prefix}{i}`), half with the motif planted on a random strand
/// near the centre, labelled 1, the others 0, as one task `motif`.
fn simulate(rng: &mut StdRng, n: usize, length: usize, prefix: &str) -> Result<Dataset> {
    let mut sequences = Vec::with_capacity(n);
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
        sequences.push(seq);
        labels.push(if positive { 1.0 } else { 0.0 });
    }
    let ids = (0..n).map(|i| format!("{prefix}{i}")).collect();
    Dataset::new(ids, sequences, vec!["motif".into()], labels)
}

/// The demo model, in the config format of docs/contract.md.
pub const MODEL: &str = r#"
[[layers]]
type = "revcomp_conv1d"
filters = 8
kernel_size = 9
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 4

[[layers]]
type = "separable_fc"
units = 4
symmetric = true
activation = "relu"

[[layers]]
type = "dense"
units = 1
"#;

/// Runs the demo on `backend`, calling `progress` with a line after each epoch.
pub fn run<B: Backend + 'static>(
    backend: &B,
    config: &DemoConfig,
    progress: impl FnMut(&str),
) -> Result<DemoReport> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let train = simulate(&mut rng, config.train, config.length, "train")?;
    let test = simulate(&mut rng, config.test, config.length, "test")?;
    let model_config = Config::from_toml_str(MODEL)?;
    let mut model = Model::new(backend, model_config, config.length, config.seed)?;
    let report = Trainer::new()
        .lr(0.01)
        .epochs(config.epochs)
        .batch_size(config.batch)
        .seed(config.seed)
        .fit(
            backend,
            &mut model,
            &train,
            None,
            &mut [&mut Lines::new(progress)],
        )?;
    let scores = crate::inference::logits(backend, &model, &test.sequences, config.test.max(1))?;
    let labels: Vec<bool> = test.targets.iter().map(|&y| y > 0.5).collect();
    let test_auroc = auroc(&scores, &labels).unwrap_or(0.5);
    let test_auprc = auprc(&scores, &labels).unwrap_or(0.0);
    let (_, pos) = model
        .parameters()
        .find(|(name, _)| *name == "layers.2.pos")
        .expect("the demo model has a separable layer at index 2");
    let stored = backend.download(&pos.value)?;
    let stored_len = pos.value.shape()[1];
    let full_len = match &model.layers()[2] {
        crate::layers::Layer::Separable(l) => l.length,
        _ => stored_len,
    };
    let positional_weights = stored
        .chunks(stored_len)
        .map(|row| {
            (0..full_len)
                .map(|i| row[i.min(full_len - 1 - i)])
                .collect()
        })
        .collect();
    Ok(DemoReport {
        epoch_losses: report.epochs.iter().map(|e| e.train_loss as f32).collect(),
        test_auroc,
        test_auprc,
        positional_weights,
    })
}
