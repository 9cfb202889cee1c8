//! Train a model on sequences held in memory, on the GPU and on the CPU, and compare them.
//!
//! ```sh
//! cargo run --release --example train_in_memory
//! ```
//!
//! Positive sequences carry a GATA site (AGATAAGG, either strand) near their centre. The same
//! model, from the same seed, trains on the same batches on both backends; the GPU follows the
//! CPU to float32 rounding, so their losses stay close and both find the site. Without a GPU
//! adapter it trains on the CPU only, unless `CI` is set (then it fails: CI has one).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sepfc::backend::Backend;
use sepfc::backend::cpu::Cpu;
use sepfc::backend::gpu::Gpu;
use sepfc::config::{ConvConfig, DenseConfig, ModelBuilder, SeparableConfig};
use sepfc::data::Dataset;
use sepfc::training::{Lines, TrainReport, Trainer};

const LENGTH: usize = 60;

/// `n` random sequences, every other one with the site planted near the centre.
fn simulate(n: usize, seed: u64) -> sepfc::Result<Dataset> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sequences = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let mut s: Vec<u8> = (0..LENGTH)
            .map(|_| b"ACGT"[rng.random_range(0..4)])
            .collect();
        let positive = i % 2 == 0;
        if positive {
            let site = if rng.random_bool(0.5) {
                b"AGATAAGG".to_vec()
            } else {
                sepfc::dna::reverse_complement(b"AGATAAGG")
            };
            let start = 26 + rng.random_range(0..=4);
            s[start..start + site.len()].copy_from_slice(&site);
        }
        sequences.push(s);
        labels.push(if positive { 1.0 } else { 0.0 });
    }
    let ids = (0..n).map(|i| format!("seq{i}")).collect();
    Dataset::new(ids, sequences, vec!["gata".into()], labels)
}

/// Trains the example's model on `backend`; returns the run's report.
fn train_on<B: Backend + 'static>(
    backend: &B,
    train: &Dataset,
    valid: &Dataset,
) -> sepfc::Result<TrainReport> {
    // revcomp_conv1d(6, k=8, relu) -> maxpool1d(4) -> separable_fc(2, symmetric) -> dense(1)
    let mut model = ModelBuilder::new()
        .revcomp_conv1d(ConvConfig::new(6, 8).relu())
        .maxpool1d(4)
        .separable_fc(SeparableConfig::new(2).symmetric().relu())
        .dense(DenseConfig::new(1))
        .build(backend, LENGTH, 0)?;
    let name = backend.describe();
    Trainer::new()
        .lr(0.01)
        .epochs(5)
        .batch_size(32)
        .seed(1)
        .fit(
            backend,
            &mut model,
            train,
            Some(valid),
            &mut [&mut Lines::new(|line| println!("  {name}: {line}"))],
        )
}

fn main() -> sepfc::Result<()> {
    let (train, valid) = (simulate(600, 1)?, simulate(200, 2)?);
    let cpu = train_on(&Cpu, &train, &valid)?;
    let auroc = |r: &TrainReport| {
        r.epochs
            .last()
            .and_then(|e| e.valid[0].auroc)
            .unwrap_or(0.0)
    };
    println!("CPU: held-out auROC {:.3}", auroc(&cpu));
    assert!(auroc(&cpu) > 0.85, "the CPU model did not find the site");
    let gpu = match Gpu::new() {
        Ok(gpu) => gpu,
        Err(e) if std::env::var_os("CI").is_some() => panic!("CI has a GPU adapter: {e}"),
        Err(e) => {
            println!("no GPU adapter ({e}); trained on the CPU only");
            return Ok(());
        }
    };
    println!("GPU adapter: {}", gpu.describe());
    let on_gpu = train_on(&gpu, &train, &valid)?;
    println!("GPU: held-out auROC {:.3}", auroc(&on_gpu));
    for (c, g) in cpu.epochs.iter().zip(&on_gpu.epochs) {
        let gap = (c.train_loss - g.train_loss).abs() / c.train_loss;
        println!(
            "epoch {}: train loss CPU {:.5}, GPU {:.5} (relative gap {gap:.1e})",
            c.epoch, c.train_loss, g.train_loss
        );
        assert!(gap < 1e-4, "the GPU run left the CPU's");
    }
    assert!(auroc(&on_gpu) > 0.85, "the GPU model did not find the site");
    Ok(())
}
