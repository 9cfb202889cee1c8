//! DeepLIFT (rescale rule) and DeepSHAP on random models of every layer type, on the CPU and
//! the GPU: DeepLIFT's summation to delta (a sequence's contributions add up to its logit minus
//! the mean logit of its references), the logits equal to the model's, the hypothetical
//! contributions' definition, and the same numbers on both backends.

mod common;

use common::{assert_close, gpu, rng};
use rand::Rng;
use sepfc::backend::Backend;
use sepfc::backend::cpu::Cpu;
use sepfc::config::Config;
use sepfc::explain::deeplift::{Attribution, deeplift, deepshap};
use sepfc::model::Model;

/// Models covering every layer type and activation.
const MODELS: [(&str, usize); 3] = [
    (
        r#"
[[layers]]
type = "conv1d"
filters = 4
kernel_size = 5
activation = "relu"
[[layers]]
type = "maxpool1d"
pool_size = 3
[[layers]]
type = "dense"
units = 2
"#,
        24,
    ),
    (
        r#"
[[layers]]
type = "revcomp_conv1d"
filters = 3
kernel_size = 4
activation = "relu"
[[layers]]
type = "conv1d"
filters = 5
kernel_size = 3
activation = "sigmoid"
[[layers]]
type = "maxpool1d"
pool_size = 4
stride = 2
[[layers]]
type = "separable_fc"
units = 3
symmetric = true
activation = "relu"
[[layers]]
type = "dropout"
rate = 0.3
[[layers]]
type = "dense"
units = 3
"#,
        31,
    ),
    (
        r#"
[[layers]]
type = "conv1d"
filters = 3
kernel_size = 3
[[layers]]
type = "dense"
units = 6
activation = "sigmoid"
[[layers]]
type = "dense"
units = 4
activation = "relu"
[[layers]]
type = "dense"
units = 2
"#,
        17,
    ),
];

/// `config` with every parameter drawn uniformly from [-0.6, 0.6) (biases included).
fn random_model<B: Backend>(backend: &B, config: &str, length: usize, seed: u64) -> Model<B> {
    let config = Config::from_toml_str(config).unwrap();
    let mut model = Model::new(backend, config, length, 0).unwrap();
    let mut r = rng(seed);
    let shapes: Vec<(String, Vec<usize>)> = model
        .parameters()
        .map(|(name, p)| {
            (
                name.to_string(),
                sepfc::backend::Tensor::shape(&p.value).to_vec(),
            )
        })
        .collect();
    for (name, shape) in shapes {
        let n = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| r.random_range(-0.6..0.6)).collect();
        model
            .set_parameter(&name, backend.upload(&values, &shape).unwrap())
            .unwrap();
    }
    model
}

/// `n` random one-hot sequences of `length`, with an N at `n_at` in each when given.
fn one_hot(n: usize, length: usize, seed: u64, n_at: Option<usize>) -> Vec<f32> {
    let mut r = rng(seed);
    let mut x = Vec::new();
    for _ in 0..n {
        let mut seq: Vec<u8> = (0..length).map(|_| b"ACGT"[r.random_range(0..4)]).collect();
        if let Some(at) = n_at {
            seq[at] = b'N';
        }
        sepfc::dna::one_hot_into(&seq, &mut x);
    }
    x
}

/// The model's own logits of `x` for `task`.
fn logits<B: Backend>(model: &Model<B>, backend: &B, x: &[f32], task: usize) -> Vec<f32> {
    let length = model.input_length();
    let n = x.len() / (4 * length);
    let t = backend.upload(x, &[n, 4, length]).unwrap();
    let all = backend
        .download(&model.logits(backend, &t).unwrap())
        .unwrap();
    (0..n).map(|i| all[i * model.tasks() + task]).collect()
}

/// Summation to delta, per sequence, and the logits against the model's.
fn assert_complete<B: Backend>(
    what: &str,
    model: &Model<B>,
    backend: &B,
    x: &[f32],
    task: usize,
    a: &Attribution,
) {
    let length = model.input_length();
    assert_close(
        &format!("{what} logits"),
        &a.logits,
        &logits(model, backend, x, task),
        1e-5,
        1e-5,
    );
    for (i, row) in a.scores.chunks(length).enumerate() {
        let total: f64 = row.iter().map(|&v| f64::from(v)).sum();
        let delta = f64::from(a.logits[i]) - f64::from(a.reference_logits[i]);
        let tolerance = (1e-4 * delta.abs()).max(2e-5);
        assert!(
            (total - delta).abs() <= tolerance,
            "{what}, sequence {i}: contributions add up to {total}, logit minus reference {delta}"
        );
    }
}

#[test]
fn deeplift_contributions_add_up_to_the_logit_on_the_cpu() {
    for (m, &(config, length)) in MODELS.iter().enumerate() {
        let model = random_model(&Cpu, config, length, 10 + m as u64);
        let x = one_hot(6, length, m as u64, None);
        for task in 0..model.tasks() {
            let a = deeplift(&model, &Cpu, &x, task).unwrap();
            assert_complete(
                &format!("model {m} task {task}"),
                &model,
                &Cpu,
                &x,
                task,
                &a,
            );
            // the all-zero reference: the hypothetical contributions are the multipliers, and
            // the reference's logit is the model's on zeros
            let zeros = vec![0.0; 4 * length];
            let zero_logit = logits(&model, &Cpu, &zeros, task)[0];
            assert!(
                a.reference_logits
                    .iter()
                    .all(|&v| (v - zero_logit).abs() < 1e-5)
            );
        }
    }
}

#[test]
fn deepshap_contributions_add_up_to_the_logit_minus_the_mean_reference_logit() {
    for (m, &(config, length)) in MODELS.iter().enumerate() {
        let model = random_model(&Cpu, config, length, 20 + m as u64);
        let x = one_hot(4, length, 100 + m as u64, None);
        let a = deepshap(&model, &Cpu, &x, 0, 7, 3).unwrap();
        assert_complete(&format!("model {m}"), &model, &Cpu, &x, 0, &a);
        assert_eq!(a.hypothetical.len(), x.len());
        // seeded
        assert_eq!(a, deepshap(&model, &Cpu, &x, 0, 7, 3).unwrap());
        assert_ne!(
            a.scores,
            deepshap(&model, &Cpu, &x, 0, 7, 4).unwrap().scores
        );
    }
}

#[test]
fn scores_are_the_input_times_the_hypothetical_contributions_and_n_scores_zero() {
    let (config, length) = MODELS[1];
    let model = random_model(&Cpu, config, length, 3);
    let x = one_hot(3, length, 5, Some(7));
    let a = deepshap(&model, &Cpu, &x, 1, 5, 0).unwrap();
    for i in 0..3 {
        for l in 0..length {
            let expected: f32 = (0..4)
                .map(|c| x[(i * 4 + c) * length + l] * a.hypothetical[(i * 4 + c) * length + l])
                .sum();
            assert!((a.scores[i * length + l] - expected).abs() < 1e-6);
        }
        assert_eq!(a.scores[i * length + 7], 0.0, "the N");
    }
}

#[test]
fn deepshap_refuses_input_that_is_not_one_hot() {
    let (config, length) = MODELS[0];
    let model = random_model(&Cpu, config, length, 3);
    let mut x = one_hot(2, length, 5, None);
    x[length + 3] = 0.5;
    let e = deepshap(&model, &Cpu, &x, 0, 3, 0).unwrap_err().to_string();
    assert!(e.contains("sequence 0, position 3"), "{e}");
    assert!(
        deepshap(&model, &Cpu, &x[..10], 0, 3, 0).is_err(),
        "not whole sequences"
    );
    assert!(deeplift(&model, &Cpu, &x, 2).is_err(), "task 2 of 2");
}

#[test]
fn the_gpu_gives_the_cpus_contributions() {
    let Some(g) = gpu() else { return };
    for (m, &(config, length)) in MODELS.iter().enumerate() {
        let on_cpu = random_model(&Cpu, config, length, 30 + m as u64);
        let on_gpu = random_model(g, config, length, 30 + m as u64);
        let x = one_hot(5, length, 200 + m as u64, Some(2));
        for (name, a, b) in [
            (
                "deeplift",
                deeplift(&on_cpu, &Cpu, &x, 1).unwrap(),
                deeplift(&on_gpu, g, &x, 1).unwrap(),
            ),
            (
                "deepshap",
                deepshap(&on_cpu, &Cpu, &x, 0, 4, 9).unwrap(),
                deepshap(&on_gpu, g, &x, 0, 4, 9).unwrap(),
            ),
        ] {
            let what = format!("model {m} {name}");
            assert_close(
                &format!("{what} hypothetical"),
                &b.hypothetical,
                &a.hypothetical,
                1e-3,
                1e-4,
            );
            assert_close(&format!("{what} scores"), &b.scores, &a.scores, 1e-3, 1e-4);
            assert_close(&format!("{what} logits"), &b.logits, &a.logits, 1e-4, 1e-5);
            if name == "deeplift" {
                // an N contributes nothing against the all-zero reference
                assert_complete(&what, &on_gpu, g, &x, 1, &b);
            }
        }
        let clean = one_hot(3, length, 300 + m as u64, None);
        let b = deepshap(&on_gpu, g, &clean, 0, 4, 9).unwrap();
        assert_complete(&format!("model {m} deepshap"), &on_gpu, g, &clean, 0, &b);
    }
}
