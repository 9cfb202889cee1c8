//! Importance scores (`sepfc::explain`): gradient x input against finite differences and
//! against a linear model's weights, in-silico mutagenesis against the weights and against
//! mutants scored one by one, the GPU against the CPU, N positions, and the errors.

mod common;

use common::{assert_close, gpu, rng, uniform};
use rand::Rng;
use sepfc::Error;
use sepfc::backend::Backend;
use sepfc::backend::cpu::Cpu;
use sepfc::config::Config;
use sepfc::explain::{Method, grad_x_input, in_silico_mutagenesis, scores};
use sepfc::model::Model;

/// One-hot `(N, 4, L)` of equal-length sequences.
fn one_hot(seqs: &[&[u8]]) -> Vec<f32> {
    let mut x = Vec::new();
    for s in seqs {
        sepfc::dna::one_hot_into(s, &mut x);
    }
    x
}

/// `n` random sequences of length `len` over ACGT, with N at the positions in `ns`.
fn random_seqs(seed: u64, n: usize, len: usize, ns: &[usize]) -> Vec<Vec<u8>> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| {
            (0..len)
                .map(|l| {
                    if ns.contains(&l) {
                        b'N'
                    } else {
                        b"ACGT"[r.random_range(0..4usize)]
                    }
                })
                .collect()
        })
        .collect()
}

fn model(toml: &str, length: usize, seed: u64) -> Model<Cpu> {
    Model::new(&Cpu, Config::from_toml_str(toml).unwrap(), length, seed).unwrap()
}

/// Replaces every parameter by values uniform in `[-scale, scale)`, so that scores are far
/// from the tolerances' absolute floors.
fn randomize(model: &mut Model<Cpu>, seed: u64, scale: f32) {
    let mut r = rng(seed);
    let params: Vec<(String, Vec<usize>)> = model
        .parameters()
        .map(|(name, p)| {
            (
                name.to_string(),
                sepfc::backend::Tensor::shape(&p.value).to_vec(),
            )
        })
        .collect();
    for (name, shape) in params {
        let values: Vec<f32> = uniform(&mut r, shape.iter().product())
            .iter()
            .map(|v| v * scale)
            .collect();
        let t = Cpu.upload(&values, &shape).unwrap();
        model.set_parameter(&name, t).unwrap();
    }
}

/// Logit `task` of every sequence of the host batch `x`.
fn logits_of(model: &Model<Cpu>, x: &[f32], length: usize, task: usize) -> Vec<f32> {
    let n = x.len() / (4 * length);
    let t = Cpu.upload(x, &[n, 4, length]).unwrap();
    let logits = Cpu.download(&model.logits(&Cpu, &t).unwrap()).unwrap();
    let tasks = model.tasks();
    (0..n).map(|i| logits[i * tasks + task]).collect()
}

/// Smooth everywhere (sigmoid activations, no relu or max pooling), so finite differences of
/// the logits are valid.
const SMOOTH: &str = r#"
    [[layers]]
    type = "conv1d"
    filters = 3
    kernel_size = 5
    padding = "same"
    activation = "sigmoid"
    [[layers]]
    type = "separable_fc"
    units = 3
    activation = "sigmoid"
    [[layers]]
    type = "dense"
    units = 2
"#;

/// With relu and max pooling, as trained models usually are.
const TYPICAL: &str = r#"
    [[layers]]
    type = "revcomp_conv1d"
    filters = 3
    kernel_size = 5
    activation = "relu"
    [[layers]]
    type = "maxpool1d"
    pool_size = 2
    [[layers]]
    type = "separable_fc"
    units = 4
    activation = "sigmoid"
    [[layers]]
    type = "dense"
    units = 3
"#;

#[test]
fn grad_x_input_matches_central_finite_differences() {
    const L: usize = 13;
    const H: f32 = 1e-2;
    let mut m = model(SMOOTH, L, 1);
    randomize(&mut m, 2, 2.0);
    let seqs = random_seqs(3, 2, L, &[6]);
    let refs: Vec<&[u8]> = seqs.iter().map(Vec::as_slice).collect();
    // one-hot input, and input of arbitrary values so that every channel's gradient counts
    let mut r = rng(4);
    let dense: Vec<f32> = (0..2 * 4 * L).map(|_| r.random_range(0.0..1.0)).collect();
    for (what, x) in [("one-hot", one_hot(&refs)), ("dense", dense)] {
        for task in 0..2 {
            let n = x.len() / (4 * L);
            let xt = Cpu.upload(&x, &[n, 4, L]).unwrap();
            let got = grad_x_input(&m, &Cpu, &xt, task).unwrap();
            let mut expected = vec![0.0f32; n * L];
            for i in 0..x.len() {
                let (seq, l) = (i / (4 * L), i % L);
                let (mut plus, mut minus) = (x.clone(), x.clone());
                plus[i] += H;
                minus[i] -= H;
                let fd = (logits_of(&m, &plus, L, task)[seq] - logits_of(&m, &minus, L, task)[seq])
                    / (2.0 * H);
                expected[seq * L + l] += fd * x[i];
            }
            let largest = expected.iter().fold(0.0f32, |a, v| a.max(v.abs()));
            assert!(
                largest > 0.1,
                "{what} task {task}: scores too small to test ({largest})"
            );
            assert_close(
                &format!("grad_x_input, {what} input, task {task}"),
                &got,
                &expected,
                2e-2,
                2e-3,
            );
        }
    }
}

#[test]
fn linear_model_scores_are_its_weights() {
    const L: usize = 5;
    let mut m = model(
        r#"
        [[layers]]
        type = "dense"
        units = 2
        "#,
        L,
        0,
    );
    // multiples of 1/8, so every logit is exact in f32
    let w: Vec<f32> = (0..2 * 4 * L)
        .map(|i| ((i * 7 + 3) % 19) as f32 / 8.0 - 1.0)
        .collect();
    m.set_parameter("layers.0.weight", Cpu.upload(&w, &[2, 4 * L]).unwrap())
        .unwrap();
    m.set_parameter("layers.0.bias", Cpu.upload(&[0.5, -0.25], &[2]).unwrap())
        .unwrap();
    let seqs: [&[u8]; 2] = [b"ACGTN", b"TtGCA"];
    let x = Cpu.upload(&one_hot(&seqs), &[2, 4, L]).unwrap();
    let weight = |task: usize, c: usize, l: usize| w[task * 4 * L + c * L + l];
    // by hand, sequence 0 position 0 (A) of task 1: w[A, C, G, T] = 0.25, -0.125, -0.5, -0.875
    // (indices 20, 25, 30, 35); the gradient is w[A] = 0.25 and ISM
    // w[A] - mean(w[C], w[G], w[T]) = 0.25 + 0.5 = 0.75
    assert_eq!(
        [0, 1, 2, 3].map(|c| weight(1, c, 0)),
        [0.25, -0.125, -0.5, -0.875]
    );
    for task in 0..2 {
        let grad = grad_x_input(&m, &Cpu, &x, task).unwrap();
        let ism = in_silico_mutagenesis(&m, &Cpu, &x, task, 3).unwrap();
        let (mut want_grad, mut want_ism) = (Vec::new(), Vec::new());
        for s in seqs {
            for (l, &b) in s.iter().enumerate() {
                match sepfc::dna::channel(b) {
                    None => {
                        want_grad.push(0.0);
                        want_ism.push(0.0);
                    }
                    Some(c) => {
                        let others: f64 = (0..4)
                            .filter(|&o| o != c)
                            .map(|o| f64::from(weight(task, o, l)))
                            .sum();
                        want_grad.push(weight(task, c, l));
                        want_ism.push((f64::from(weight(task, c, l)) - others / 3.0) as f32);
                    }
                }
            }
        }
        if task == 1 {
            assert_eq!((grad[0], ism[0]), (0.25, 0.75));
        }
        assert_eq!(grad, want_grad, "grad_x_input, task {task}");
        assert_close(&format!("ism, task {task}"), &ism, &want_ism, 0.0, 1e-6);
    }
}

#[test]
fn ism_matches_mutants_scored_one_by_one_for_any_batch_size() {
    const L: usize = 16;
    let m = model(TYPICAL, L, 5);
    let seqs = random_seqs(6, 3, L, &[0, 9]);
    let refs: Vec<&[u8]> = seqs.iter().map(Vec::as_slice).collect();
    let xh = one_hot(&refs);
    let x = Cpu.upload(&xh, &[3, 4, L]).unwrap();
    let task = 2;
    let mut expected = Vec::new();
    for s in &seqs {
        let original = f64::from(logits_of(&m, &one_hot(&[s]), L, task)[0]);
        for l in 0..L {
            if s[l] == b'N' {
                expected.push(0.0);
                continue;
            }
            let mutants: f64 = b"ACGT"
                .iter()
                .filter(|&&b| b != s[l])
                .map(|&b| {
                    let mut mutant = s.clone();
                    mutant[l] = b;
                    f64::from(logits_of(&m, &one_hot(&[&mutant]), L, task)[0])
                })
                .sum();
            expected.push((original - mutants / 3.0) as f32);
        }
    }
    let largest = expected.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    assert!(largest > 1e-3, "scores too small to test ({largest})");
    for batch_size in [1, 4, 7, 1000] {
        let got = in_silico_mutagenesis(&m, &Cpu, &x, task, batch_size).unwrap();
        assert_close(
            &format!("ism, batch size {batch_size}"),
            &got,
            &expected,
            1e-5,
            1e-7,
        );
    }
    assert_eq!(
        scores(&m, &Cpu, &x, task, Method::Ism).unwrap(),
        in_silico_mutagenesis(&m, &Cpu, &x, task, 256).unwrap()
    );
    assert_eq!(
        scores(&m, &Cpu, &x, task, Method::GradXInput).unwrap(),
        grad_x_input(&m, &Cpu, &x, task).unwrap()
    );
}

#[test]
fn gpu_scores_match_cpu() {
    let Some(g) = gpu() else {
        eprintln!("gpu_scores_match_cpu skipped: no GPU adapter");
        return;
    };
    const L: usize = 24;
    let cpu_model = model(TYPICAL, L, 7);
    let bytes = cpu_model.to_safetensors(&Cpu).unwrap();
    let gpu_model = Model::from_safetensors(g, &bytes, "gpu").unwrap();
    let seqs = random_seqs(8, 5, L, &[3, 23]);
    let refs: Vec<&[u8]> = seqs.iter().map(Vec::as_slice).collect();
    let xh = one_hot(&refs);
    let xc = Cpu.upload(&xh, &[5, 4, L]).unwrap();
    let xg = g.upload(&xh, &[5, 4, L]).unwrap();
    for task in 0..3 {
        let cpu = grad_x_input(&cpu_model, &Cpu, &xc, task).unwrap();
        let gpu = grad_x_input(&gpu_model, g, &xg, task).unwrap();
        assert!(
            cpu.iter().any(|&v| v.abs() > 1e-3),
            "task {task}: all near 0"
        );
        assert_close(&format!("grad_x_input task {task}"), &gpu, &cpu, 1e-3, 1e-5);

        let cpu = in_silico_mutagenesis(&cpu_model, &Cpu, &xc, task, 256).unwrap();
        let gpu = in_silico_mutagenesis(&gpu_model, g, &xg, task, 7).unwrap();
        assert!(
            cpu.iter().any(|&v| v.abs() > 1e-3),
            "task {task}: all near 0"
        );
        assert_close(&format!("ism task {task}"), &gpu, &cpu, 1e-3, 1e-5);
    }
}

#[test]
fn task_out_of_range_and_bad_arguments_are_errors() {
    const L: usize = 16;
    let m = model(TYPICAL, L, 0); // 3 tasks
    let x = Cpu
        .upload(&one_hot(&[b"ACGTACGTACGTACGT"]), &[1, 4, L])
        .unwrap();
    let is_explain_error = |e: Error, needle: &str| match e {
        Error::InvalidArgument {
            op: "explain",
            ref detail,
        } if detail.contains(needle) => {}
        other => panic!("expected an explain error mentioning {needle:?}, got {other}"),
    };
    for method in [Method::GradXInput, Method::Ism] {
        assert!(
            scores(&m, &Cpu, &x, 2, method).is_ok(),
            "{method}: task 2 exists"
        );
        is_explain_error(scores(&m, &Cpu, &x, 3, method).unwrap_err(), "task 3");
    }
    is_explain_error(grad_x_input(&m, &Cpu, &x, 7).unwrap_err(), "3 task(s)");
    is_explain_error(
        in_silico_mutagenesis(&m, &Cpu, &x, 3, 4).unwrap_err(),
        "task 3",
    );
    is_explain_error(
        in_silico_mutagenesis(&m, &Cpu, &x, 0, 0).unwrap_err(),
        "batch size",
    );
    // an input of another length
    let short = Cpu.upload(&one_hot(&[b"ACGT"]), &[1, 4, 4]).unwrap();
    for method in [Method::GradXInput, Method::Ism] {
        assert!(matches!(
            scores(&m, &Cpu, &short, 0, method),
            Err(Error::Shape { .. })
        ));
    }
    // method names
    assert_eq!(
        "grad_x_input".parse::<Method>().unwrap(),
        Method::GradXInput
    );
    assert_eq!("ism".parse::<Method>().unwrap(), Method::Ism);
    for m in [Method::GradXInput, Method::Ism] {
        assert_eq!(m.to_string().parse::<Method>().unwrap(), m);
    }
    let e = "saliency".parse::<Method>().unwrap_err();
    is_explain_error(e, "grad_x_input, ism");
    assert!(
        "saliency"
            .parse::<Method>()
            .unwrap_err()
            .to_string()
            .contains("saliency")
    );
}

#[test]
fn n_positions_score_zero() {
    const L: usize = 16;
    let mut m = model(TYPICAL, L, 9);
    randomize(&mut m, 10, 0.5); // non-zero biases: an all-zero column still moves the logits
    let ns = [0, 5, 6, 15];
    let seqs = random_seqs(11, 4, L, &ns);
    let refs: Vec<&[u8]> = seqs.iter().map(Vec::as_slice).collect();
    let x = Cpu.upload(&one_hot(&refs), &[4, 4, L]).unwrap();
    for method in [Method::GradXInput, Method::Ism] {
        for task in 0..3 {
            let s = scores(&m, &Cpu, &x, task, method).unwrap();
            assert_eq!(s.len(), 4 * L);
            for (i, v) in s.iter().enumerate() {
                let l = i % L;
                if ns.contains(&l) {
                    // +0 exactly: written to a TSV as 0, not -0
                    assert_eq!(
                        v.to_bits(),
                        0,
                        "{method} task {task}: index {i} is N, got {v}"
                    );
                }
            }
            let nonzero = s
                .iter()
                .enumerate()
                .filter(|&(i, v)| !ns.contains(&(i % L)) && *v != 0.0)
                .count();
            assert!(
                nonzero > s.len() / 2,
                "{method} task {task}: only {nonzero} bases score non-zero"
            );
        }
    }
}
