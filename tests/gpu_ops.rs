//! Every GPU op, forward and backward, against the CPU reference on random inputs, including
//! awkward shapes: batch 1, length 1 where valid, odd lengths, channel counts that are not a
//! multiple of 4 or of the workgroup size.

mod common;

use common::{assert_close, gpu, rng, uniform};
use sepfc::backend::Loss;
use sepfc::backend::cpu::{Cpu, kernels};
use sepfc::backend::gpu::Gpu;
use sepfc::backend::shapes::conv1d_dims;
use sepfc::backend::{AdamStep, Backend, Conv1dSpec, PoolSpec, Reduction};

const RTOL: f32 = 1e-4;
const ATOL: f32 = 1e-5;

/// The same host data on both backends.
struct Pair {
    cpu: sepfc::backend::cpu::CpuTensor,
    gpu: sepfc::backend::gpu::GpuTensor,
}

fn pair(g: &Gpu, data: &[f32], shape: &[usize]) -> Pair {
    Pair {
        cpu: Cpu.upload(data, shape).unwrap(),
        gpu: g.upload(data, shape).unwrap(),
    }
}

fn random_pair(g: &Gpu, seed: u64, shape: &[usize]) -> Pair {
    let n = shape.iter().product();
    pair(g, &uniform(&mut rng(seed), n), shape)
}

fn check(
    what: &str,
    g: &Gpu,
    gpu_t: &sepfc::backend::gpu::GpuTensor,
    cpu_t: &sepfc::backend::cpu::CpuTensor,
) {
    check_within(what, g, gpu_t, cpu_t, ATOL);
}

/// As [`check`] with another absolute tolerance.
fn check_within(
    what: &str,
    g: &Gpu,
    gpu_t: &sepfc::backend::gpu::GpuTensor,
    cpu_t: &sepfc::backend::cpu::CpuTensor,
    atol: f32,
) {
    use sepfc::backend::Tensor;
    assert_eq!(gpu_t.shape(), cpu_t.shape(), "{what}: shapes differ");
    assert_close(what, &g.download(gpu_t).unwrap(), cpu_t.data(), RTOL, atol);
}

macro_rules! skip_without_gpu {
    () => {
        match gpu() {
            Some(g) => g,
            None => return,
        }
    };
}

/// conv1d forward and backward on input `(n, c, l)` with `f` filters of width `k`.
fn conv_case(g: &Gpu, seed: u64, [n, c, l]: [usize; 3], [f, k]: [usize; 2], spec: Conv1dSpec) {
    let what = format!("conv1d n={n} c={c} l={l} f={f} k={k} {spec:?}");
    // float32 sums in another order: the rounding error grows with the square root of the
    // longest reduction (C*K forward, F*K for dx, N*L_out for dw)
    let depth = (c * k).max(f * k).max(n * l);
    let atol = ATOL * (depth as f32 / 16.0).sqrt().max(1.0);
    let x = random_pair(g, seed, &[n, c, l]);
    let w = random_pair(g, seed + 1, &[f, c, k]);
    let b = random_pair(g, seed + 2, &[f]);
    // the forward against the reference loops (float64 sums): the CPU backend's own forward
    // may take Winograd's transformed products, whose rounding is several times larger
    let d = conv1d_dims(&[n, c, l], &[f, c, k], &[f], spec).unwrap();
    let reference = kernels::conv1d(x.cpu.data(), w.cpu.data(), b.cpu.data(), d, spec);
    let y_cpu = Cpu.upload(&reference, &[n, f, d.l_out]).unwrap();
    let y_gpu = g.conv1d(&x.gpu, &w.gpu, &b.gpu, spec).unwrap();
    check_within(&format!("{what} forward"), g, &y_gpu, &y_cpu, atol);
    let clamped: Vec<f32> = reference.iter().map(|v| v.max(0.0)).collect();
    let relu_cpu = Cpu.upload(&clamped, &[n, f, d.l_out]).unwrap();
    let relu_gpu = g.conv1d_relu(&x.gpu, &w.gpu, &b.gpu, spec).unwrap();
    check_within(&format!("{what} fused relu"), g, &relu_gpu, &relu_cpu, atol);
    let dy = random_pair(g, seed + 3, sepfc::backend::Tensor::shape(&y_cpu));
    let gc = Cpu
        .conv1d_backward(&x.cpu, &w.cpu, &dy.cpu, spec, true)
        .unwrap();
    let gg = g
        .conv1d_backward(&x.gpu, &w.gpu, &dy.gpu, spec, true)
        .unwrap();
    check_within(
        &format!("{what} dx"),
        g,
        gg.dx.as_ref().unwrap(),
        gc.dx.as_ref().unwrap(),
        atol,
    );
    check_within(&format!("{what} dw"), g, &gg.dw, &gc.dw, atol);
    check_within(&format!("{what} db"), g, &gg.db, &gc.db, atol);
    // the input gradient alone, plain and after the fused relu
    let dx_gpu = g.conv1d_input_grad(&x.gpu, &w.gpu, &dy.gpu, spec).unwrap();
    check_within(
        &format!("{what} dx alone"),
        g,
        &dx_gpu,
        gc.dx.as_ref().unwrap(),
        atol,
    );
    let relu_dx_cpu = Cpu
        .conv1d_relu_input_grad(&x.cpu, &w.cpu, &relu_cpu, &dy.cpu, spec)
        .unwrap();
    // both masked by the same relu output, so that a value the two forwards round to either
    // side of zero cannot tell them apart
    let relu_reference = g.upload(&clamped, &[n, f, d.l_out]).unwrap();
    let relu_dx_gpu = g
        .conv1d_relu_input_grad(&x.gpu, &w.gpu, &relu_reference, &dy.gpu, spec)
        .unwrap();
    check_within(
        &format!("{what} dx alone after relu"),
        g,
        &relu_dx_gpu,
        &relu_dx_cpu,
        atol,
    );
    // inference's convolution, relu and max pooling in one op
    let pool = sepfc::backend::PoolSpec { size: 2, stride: 2 };
    if sepfc::backend::Tensor::shape(&y_cpu)[2] >= 2 {
        let l_pool = (d.l_out - pool.size) / pool.stride + 1;
        let pooled = kernels::maxpool1d(&clamped, n * f, d.l_out, l_pool, pool);
        let pooled_cpu = Cpu.upload(&pooled, &[n, f, l_pool]).unwrap();
        let pooled_gpu = g
            .conv1d_relu_maxpool(&x.gpu, &w.gpu, &b.gpu, spec, pool)
            .unwrap();
        check_within(
            &format!("{what} fused relu and pool"),
            g,
            &pooled_gpu,
            &pooled_cpu,
            atol,
        );
    }
}

#[test]
fn conv1d_matches_cpu() {
    let g = skip_without_gpu!();
    conv_case(g, 1, [2, 4, 20], [6, 5], Conv1dSpec::valid(1));
    conv_case(g, 10, [1, 3, 7], [5, 7], Conv1dSpec::valid(1)); // batch 1, output length 1
    conv_case(g, 20, [3, 5, 33], [7, 4], Conv1dSpec::same(4, 1)); // even kernel, odd length
    conv_case(g, 30, [2, 4, 17], [3, 3], Conv1dSpec::same(3, 2)); // dilation
    conv_case(g, 40, [2, 66, 9], [67, 3], Conv1dSpec::valid(2)); // channels past the workgroup
    conv_case(g, 50, [1, 1, 1], [1, 1], Conv1dSpec::valid(1)); // everything 1
    // several output tiles along both axes, reduction steps that end mid-tile
    conv_case(g, 60, [3, 70, 90], [130, 5], Conv1dSpec::same(5, 1));
    // a long reduction that the weight gradient splits across workgroups
    conv_case(g, 70, [4, 3, 400], [5, 3], Conv1dSpec::valid(2));
    // the benchmark models' convolution shapes, when asked (bench/gpu_visit.sh asks on a
    // real GPU; lavapipe takes 16 s over them, llvmpipe's GL far longer)
    if std::env::var_os("SEPFC_GPU_TEST_REAL_SIZES").is_some() {
        conv_case(g, 80, [16, 32, 186], [32, 14], Conv1dSpec::valid(1));
        conv_case(g, 90, [4, 128, 1000], [128, 15], Conv1dSpec::valid(1));
        conv_case(g, 100, [16, 4, 200], [32, 15], Conv1dSpec::valid(1));
    }
}

#[test]
fn conv1d_without_input_gradient_gives_none() {
    let g = skip_without_gpu!();
    let x = random_pair(g, 1, &[1, 4, 10]);
    let w = random_pair(g, 2, &[2, 4, 3]);
    let dy = random_pair(g, 3, &[1, 2, 8]);
    let grads = g
        .conv1d_backward(&x.gpu, &w.gpu, &dy.gpu, Conv1dSpec::valid(1), false)
        .unwrap();
    assert!(grads.dx.is_none());
    let reference = Cpu
        .conv1d_backward(&x.cpu, &w.cpu, &dy.cpu, Conv1dSpec::valid(1), false)
        .unwrap();
    check("dw without dx", g, &grads.dw, &reference.dw);
}

#[test]
fn rc_expand_and_fold_match_cpu() {
    let g = skip_without_gpu!();
    for (seed, shape) in [
        (1, vec![3, 4, 5]),
        (2, vec![1, 1, 1]),
        (3, vec![5]),
        (4, vec![2, 7, 2]),
    ] {
        let w = random_pair(g, seed, &shape);
        check(
            &format!("rc_expand {shape:?}"),
            g,
            &g.rc_expand(&w.gpu).unwrap(),
            &Cpu.rc_expand(&w.cpu).unwrap(),
        );
        let mut doubled = shape.clone();
        doubled[0] *= 2;
        let gr = random_pair(g, seed + 100, &doubled);
        check(
            &format!("rc_fold {doubled:?}"),
            g,
            &g.rc_fold(&gr.gpu).unwrap(),
            &Cpu.rc_fold(&gr.cpu).unwrap(),
        );
    }
}

#[test]
fn mirror_expand_and_fold_match_cpu() {
    let g = skip_without_gpu!();
    for (seed, rows, n) in [
        (1u64, 3usize, 7usize),
        (2, 2, 8),
        (3, 1, 1),
        (4, 5, 2),
        (5, 67, 13),
    ] {
        let v = random_pair(g, seed, &[rows, n.div_ceil(2)]);
        check(
            &format!("mirror_expand {rows}x{n}"),
            g,
            &g.mirror_expand(&v.gpu, n).unwrap(),
            &Cpu.mirror_expand(&v.cpu, n).unwrap(),
        );
        let gr = random_pair(g, seed + 100, &[rows, n]);
        check(
            &format!("mirror_fold {rows}x{n}"),
            g,
            &g.mirror_fold(&gr.gpu).unwrap(),
            &Cpu.mirror_fold(&gr.cpu).unwrap(),
        );
    }
}

/// maxpool1d forward and backward on input `shape`.
fn maxpool_case(g: &Gpu, seed: u64, shape: [usize; 3], spec: PoolSpec) {
    let what = format!("maxpool {shape:?} {spec:?}");
    let x = random_pair(g, seed, &shape);
    let y_cpu = Cpu.maxpool1d(&x.cpu, spec).unwrap();
    check(
        &format!("{what} forward"),
        g,
        &g.maxpool1d(&x.gpu, spec).unwrap(),
        &y_cpu,
    );
    let dy = random_pair(g, seed + 10, sepfc::backend::Tensor::shape(&y_cpu));
    check(
        &format!("{what} backward"),
        g,
        &g.maxpool1d_backward(&x.gpu, &dy.gpu, spec).unwrap(),
        &Cpu.maxpool1d_backward(&x.cpu, &dy.cpu, spec).unwrap(),
    );
}

#[test]
fn maxpool_matches_cpu() {
    let g = skip_without_gpu!();
    let cases = [
        (1, [2, 3, 20], PoolSpec { size: 4, stride: 4 }),
        (2, [1, 5, 23], PoolSpec { size: 4, stride: 4 }), // leftover positions
        (3, [2, 3, 19], PoolSpec { size: 5, stride: 2 }), // overlapping windows
        (4, [1, 1, 1], PoolSpec { size: 1, stride: 1 }),
        (5, [3, 7, 9], PoolSpec { size: 9, stride: 3 }), // one window
    ];
    for (seed, shape, spec) in cases {
        maxpool_case(g, seed, shape, spec);
    }
}

#[test]
fn maxpool_ties_route_to_the_first_maximum_on_both() {
    let g = skip_without_gpu!();
    // after a ReLU whole windows are 0: the gradient must land on the first position
    let x = pair(g, &[0.0, 0.0, 0.0, 1.0, 1.0, 0.5], &[1, 1, 6]);
    let dy = pair(g, &[2.0, 3.0], &[1, 1, 2]);
    let spec = PoolSpec { size: 3, stride: 3 };
    let dx = g
        .download(&g.maxpool1d_backward(&x.gpu, &dy.gpu, spec).unwrap())
        .unwrap();
    assert_eq!(dx, vec![2.0, 0.0, 0.0, 3.0, 0.0, 0.0]);
    check(
        "ties",
        g,
        &g.maxpool1d_backward(&x.gpu, &dy.gpu, spec).unwrap(),
        &Cpu.maxpool1d_backward(&x.cpu, &dy.cpu, spec).unwrap(),
    );
}

/// The separable contraction and its three gradients on input `(n, c, l)` with `u` units.
fn separable_case(g: &Gpu, seed: u64, [n, c, l, u]: [usize; 4]) {
    let what = format!("separable n={n} c={c} l={l} u={u}");
    let x = random_pair(g, seed, &[n, c, l]);
    let pos = random_pair(g, seed + 1, &[u, l]);
    let chan = random_pair(g, seed + 2, &[u, c]);
    let y_cpu = Cpu.separable(&x.cpu, &pos.cpu, &chan.cpu).unwrap();
    check(
        &format!("{what} forward"),
        g,
        &g.separable(&x.gpu, &pos.gpu, &chan.gpu).unwrap(),
        &y_cpu,
    );
    let dy = random_pair(g, seed + 3, &[n, u]);
    let gc = Cpu
        .separable_backward(&x.cpu, &pos.cpu, &chan.cpu, &dy.cpu, true)
        .unwrap();
    let gg = g
        .separable_backward(&x.gpu, &pos.gpu, &chan.gpu, &dy.gpu, true)
        .unwrap();
    check(
        &format!("{what} dx"),
        g,
        gg.dx.as_ref().unwrap(),
        gc.dx.as_ref().unwrap(),
    );
    check(&format!("{what} dpos"), g, &gg.dpos, &gc.dpos);
    check(&format!("{what} dchan"), g, &gg.dchan, &gc.dchan);
}

#[test]
fn separable_matches_cpu() {
    let g = skip_without_gpu!();
    for (seed, n, c, l, u) in [
        (1, 2, 4, 9, 3),
        (2, 1, 3, 1, 1),
        (3, 3, 32, 45, 5),
        (4, 2, 66, 7, 65),
        // the parameter gradients' batch sum in splits of 2 with a ragged last one, and more
        // positions plus channels than a workgroup has invocations
        (5, 301, 3, 70, 2),
    ] {
        separable_case(g, seed, [n, c, l, u]);
    }
}

/// The dense layer and its gradients on input `(n, i)` with `o` outputs.
fn dense_case(g: &Gpu, seed: u64, [n, i, o]: [usize; 3]) {
    let what = format!("dense n={n} i={i} o={o}");
    let x = random_pair(g, seed, &[n, i]);
    let w = random_pair(g, seed + 1, &[o, i]);
    let b = random_pair(g, seed + 2, &[o]);
    check(
        &format!("{what} forward"),
        g,
        &g.dense(&x.gpu, &w.gpu, &b.gpu).unwrap(),
        &Cpu.dense(&x.cpu, &w.cpu, &b.cpu).unwrap(),
    );
    let dy = random_pair(g, seed + 3, &[n, o]);
    let gc = Cpu.dense_backward(&x.cpu, &w.cpu, &dy.cpu, true).unwrap();
    let gg = g.dense_backward(&x.gpu, &w.gpu, &dy.gpu, true).unwrap();
    check(
        &format!("{what} dx"),
        g,
        gg.dx.as_ref().unwrap(),
        gc.dx.as_ref().unwrap(),
    );
    check(&format!("{what} dw"), g, &gg.dw, &gc.dw);
    check(&format!("{what} db"), g, &gg.db, &gc.db);
}

#[test]
fn dense_matches_cpu() {
    let g = skip_without_gpu!();
    for (seed, n, i, o) in [(1, 4, 10, 3), (2, 1, 1, 1), (3, 3, 130, 67), (4, 65, 7, 2)] {
        dense_case(g, seed, [n, i, o]);
    }
}

#[test]
fn elementwise_ops_match_cpu() {
    let g = skip_without_gpu!();
    for (seed, shape) in [(1, vec![3, 5, 7]), (2, vec![1]), (3, vec![2, 65])] {
        let x = random_pair(g, seed, &shape);
        let y = random_pair(g, seed + 1, &shape);
        let what = |op: &str| format!("{op} {shape:?}");
        check(
            &what("add"),
            g,
            &g.add(&x.gpu, &y.gpu).unwrap(),
            &Cpu.add(&x.cpu, &y.cpu).unwrap(),
        );
        check(
            &what("scale"),
            g,
            &g.scale(&x.gpu, -2.5).unwrap(),
            &Cpu.scale(&x.cpu, -2.5).unwrap(),
        );
        check(
            &what("relu"),
            g,
            &g.relu(&x.gpu).unwrap(),
            &Cpu.relu(&x.cpu).unwrap(),
        );
        check(
            &what("relu_backward"),
            g,
            &g.relu_backward(&x.gpu, &y.gpu).unwrap(),
            &Cpu.relu_backward(&x.cpu, &y.cpu).unwrap(),
        );
        check(
            &what("sigmoid"),
            g,
            &g.sigmoid(&x.gpu).unwrap(),
            &Cpu.sigmoid(&x.cpu).unwrap(),
        );
        check(
            &what("sigmoid_backward"),
            g,
            &g.sigmoid_backward(&x.gpu, &y.gpu).unwrap(),
            &Cpu.sigmoid_backward(&x.cpu, &y.cpu).unwrap(),
        );
        check(
            &what("dropout"),
            g,
            &g.dropout(&x.gpu, 0.3, 7).unwrap(),
            &Cpu.dropout(&x.cpu, 0.3, 7).unwrap(),
        );
        check(
            &what("dropout_backward"),
            g,
            &g.dropout_backward(&y.gpu, 0.3, 7).unwrap(),
            &Cpu.dropout_backward(&y.cpu, 0.3, 7).unwrap(),
        );
        check(
            &what("full"),
            g,
            &g.full(&shape, 0.25).unwrap(),
            &Cpu.full(&shape, 0.25).unwrap(),
        );
    }
}

#[test]
fn losses_match_cpu() {
    let g = skip_without_gpu!();
    for kind in [Loss::Bce, Loss::Mse, Loss::Poisson] {
        for (seed, n, t) in [(1, 4, 3), (2, 1, 1), (3, 130, 3), (4, 33, 17)] {
            loss_case(g, kind, seed, n, t);
        }
    }
}

/// The masked loss `kind` and its gradient on `(n, t)` logits: labels 0/1 for binary
/// cross-entropy, counts in `[0, 8)` for the regression losses.
fn loss_case(g: &Gpu, kind: Loss, seed: u64, n: usize, t: usize) {
    let what = format!("{} n={n} t={t}", kind.name());
    let mut r = rng(seed);
    let scale = if kind == Loss::Poisson { 2.0 } else { 6.0 };
    let logits: Vec<f32> = uniform(&mut r, n * t).iter().map(|v| v * scale).collect();
    let targets: Vec<f32> = uniform(&mut r, n * t)
        .iter()
        .map(|v| match kind {
            Loss::Bce => f32::from(*v > 0.0),
            _ => ((v + 1.0) * 4.0).floor(),
        })
        .collect();
    let mask: Vec<f32> = (0..n * t)
        .map(|i| if i % 5 == 3 { 0.0 } else { 1.0 })
        .collect();
    let z = pair(g, &logits, &[n, t]);
    let tt = pair(g, &targets, &[n, t]);
    let m = pair(g, &mask, &[n, t]);
    check(
        &format!("{what} loss"),
        g,
        &g.loss(kind, &z.gpu, &tt.gpu, &m.gpu).unwrap(),
        &Cpu.loss(kind, &z.cpu, &tt.cpu, &m.cpu).unwrap(),
    );
    let dl = pair(g, &[0.7], &[1]);
    check(
        &format!("{what} dlogits"),
        g,
        &g.loss_backward(kind, &z.gpu, &tt.gpu, &m.gpu, &dl.gpu)
            .unwrap(),
        &Cpu.loss_backward(kind, &z.cpu, &tt.cpu, &m.cpu, &dl.cpu)
            .unwrap(),
    );
}

#[test]
fn regularizer_reductions_match_cpu() {
    let g = skip_without_gpu!();
    for (seed, rows, s) in [(1, 3, 9), (2, 1, 3), (3, 67, 50)] {
        reductions_case(g, seed, rows, s);
    }
}

/// Differences and means of a `(rows, s)` tensor, and their gradients.
fn reductions_case(g: &Gpu, seed: u64, rows: usize, s: usize) {
    let x = random_pair(g, seed, &[rows, s]);
    for order in [1, 2] {
        let what = format!("diff order {order} {rows}x{s}");
        check(
            &what,
            g,
            &g.diff(&x.gpu, order).unwrap(),
            &Cpu.diff(&x.cpu, order).unwrap(),
        );
        let dy = random_pair(g, seed + 10, &[rows, s - order]);
        check(
            &format!("{what} backward"),
            g,
            &g.diff_backward(&dy.gpu, order).unwrap(),
            &Cpu.diff_backward(&dy.cpu, order).unwrap(),
        );
    }
    let dy = pair(g, &[1.5], &[1]);
    for kind in [Reduction::Plain, Reduction::Abs, Reduction::Square] {
        let what = format!("mean {kind:?} {rows}x{s}");
        check(
            &what,
            g,
            &g.mean(&x.gpu, kind).unwrap(),
            &Cpu.mean(&x.cpu, kind).unwrap(),
        );
        check(
            &format!("{what} backward"),
            g,
            &g.mean_backward(&x.gpu, &dy.gpu, kind).unwrap(),
            &Cpu.mean_backward(&x.cpu, &dy.cpu, kind).unwrap(),
        );
    }
}

#[test]
fn curvature_constraint_matches_cpu() {
    let g = skip_without_gpu!();
    for (seed, rows, s, max) in [
        (1, 4, 12, 0.05),
        (2, 1, 3, 0.0),
        (3, 65, 7, 0.3),
        (4, 2, 2, 0.1),
    ] {
        let p = random_pair(g, seed, &[rows, s]);
        let (mut on_gpu, mut on_cpu) = (p.gpu.clone(), p.cpu.clone());
        g.curvature_constraint(&mut on_gpu, max).unwrap();
        Cpu.curvature_constraint(&mut on_cpu, max).unwrap();
        check(
            &format!("curvature {rows}x{s} max {max}"),
            g,
            &on_gpu,
            &on_cpu,
        );
        // the original handle still holds the unconstrained values
        assert_close(
            "original kept",
            &g.download(&p.gpu).unwrap(),
            p.cpu.data(),
            0.0,
            0.0,
        );
    }
}

/// Adam at PyTorch's defaults with learning rate 0.01 and an L2 penalty of 0.01.
fn adam_hyper(step: u32) -> AdamStep {
    AdamStep {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.01,
        step,
    }
}

#[test]
fn sgd_and_adam_steps_match_cpu() {
    let g = skip_without_gpu!();
    let shape = [5, 13];
    let p = random_pair(g, 1, &shape);
    let (mut sgd_gpu, mut sgd_cpu) = (p.gpu.clone(), p.cpu.clone());
    let (mut adam_gpu, mut adam_cpu) = (p.gpu.clone(), p.cpu.clone());
    let zeros = pair(g, &[0.0; 65], &shape);
    let (mut m_gpu, mut v_gpu) = (zeros.gpu.clone(), zeros.gpu.clone());
    let (mut m_cpu, mut v_cpu) = (zeros.cpu.clone(), zeros.cpu.clone());
    for step in 1..=10u32 {
        let grad = random_pair(g, 100 + step as u64, &shape);
        g.sgd_step(&mut sgd_gpu, &grad.gpu, 0.05).unwrap();
        Cpu.sgd_step(&mut sgd_cpu, &grad.cpu, 0.05).unwrap();
        let hyper = adam_hyper(step);
        g.adam_step(&mut adam_gpu, &grad.gpu, &mut m_gpu, &mut v_gpu, hyper)
            .unwrap();
        Cpu.adam_step(&mut adam_cpu, &grad.cpu, &mut m_cpu, &mut v_cpu, hyper)
            .unwrap();
    }
    check("sgd after 10 steps", g, &sgd_gpu, &sgd_cpu);
    check("adam after 10 steps", g, &adam_gpu, &adam_cpu);
    check("adam m", g, &m_gpu, &m_cpu);
    check("adam v", g, &v_gpu, &v_cpu);
    // copy-on-write: the handle the steps started from is unchanged
    assert_close(
        "start value kept",
        &g.download(&p.gpu).unwrap(),
        p.cpu.data(),
        0.0,
        0.0,
    );
}

#[test]
fn shape_errors_are_errors_on_the_gpu() {
    let g = skip_without_gpu!();
    let x = random_pair(g, 1, &[1, 4, 10]);
    let w = random_pair(g, 2, &[2, 3, 3]);
    let b = random_pair(g, 3, &[2]);
    assert!(matches!(
        g.conv1d(&x.gpu, &w.gpu, &b.gpu, Conv1dSpec::valid(1)),
        Err(sepfc::Error::Shape { .. })
    ));
    assert!(matches!(
        g.add(&x.gpu, &w.gpu),
        Err(sepfc::Error::Shape { .. })
    ));
}

/// Re-runs one GPU test of this binary with `CI` set and an adapter name that matches
/// nothing: it must fail rather than skip.
#[test]
fn with_ci_set_a_missing_adapter_fails_the_tests() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "shape_errors_are_errors_on_the_gpu",
            "--nocapture",
        ])
        .env("CI", "1")
        .env("WGPU_ADAPTER_NAME", "no-such-adapter-anywhere")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the test passed without an adapter:\n{text}"
    );
    assert!(
        text.contains("no GPU adapter available") && text.contains("no-such-adapter-anywhere"),
        "the failure does not say why:\n{text}"
    );
}

/// A second GPU handle that binds at most 16 KiB of a tensor at once, so that ops on the
/// small tensors below run in several chunks, as they would past the 128 MiB binding limit.
fn chunked_gpu() -> Option<&'static Gpu> {
    static GPU: std::sync::OnceLock<Option<Gpu>> = std::sync::OnceLock::new();
    gpu()?;
    GPU.get_or_init(|| {
        Some(
            Gpu::with_options(sepfc::backend::gpu::GpuOptions {
                max_binding_bytes: Some(16 * 1024),
                ..Default::default()
            })
            .unwrap(),
        )
    })
    .as_ref()
}

#[test]
fn ops_on_tensors_past_the_binding_limit_match_cpu() {
    let Some(g) = chunked_gpu() else { return };
    // 150 sequences of 4 x 16: 38,400 bytes, more than two bindings' worth
    conv_case(g, 1, [150, 4, 16], [4, 3], Conv1dSpec::same(3, 1));
    maxpool_case(g, 5, [150, 4, 16], PoolSpec { size: 2, stride: 2 });
    separable_case(g, 6, [150, 4, 16, 4]);
    dense_case(g, 9, [150, 64, 3]);
    let x = random_pair(g, 1, &[150, 4, 16]);
    let dy = random_pair(g, 4, &[150, 4, 16]);
    let flat = random_pair(g, 9, &[150, 64]);
    check(
        "chunked relu",
        g,
        &g.relu(&x.gpu).unwrap(),
        &Cpu.relu(&x.cpu).unwrap(),
    );
    check(
        "chunked add",
        g,
        &g.add(&x.gpu, &dy.gpu).unwrap(),
        &Cpu.add(&x.cpu, &dy.cpu).unwrap(),
    );
    check(
        "chunked dropout",
        g,
        &g.dropout(&x.gpu, 0.4, 3).unwrap(),
        &Cpu.dropout(&x.cpu, 0.4, 3).unwrap(),
    );
    check(
        "chunked fill",
        g,
        &g.full(&[150, 4, 16], 2.0).unwrap(),
        &Cpu.full(&[150, 4, 16], 2.0).unwrap(),
    );

    let (mut p_gpu, mut p_cpu) = (flat.gpu.clone(), flat.cpu.clone());
    let zeros = vec![0.0; 150 * 64];
    let z = pair(g, &zeros, &[150, 64]);
    let (mut m_gpu, mut v_gpu, mut m_cpu, mut v_cpu) =
        (z.gpu.clone(), z.gpu.clone(), z.cpu.clone(), z.cpu.clone());
    let grad = random_pair(g, 13, &[150, 64]);
    let hyper = AdamStep {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        step: 1,
    };
    g.adam_step(&mut p_gpu, &grad.gpu, &mut m_gpu, &mut v_gpu, hyper)
        .unwrap();
    Cpu.adam_step(&mut p_cpu, &grad.cpu, &mut m_cpu, &mut v_cpu, hyper)
        .unwrap();
    g.sgd_step(&mut p_gpu, &grad.gpu, 0.1).unwrap();
    Cpu.sgd_step(&mut p_cpu, &grad.cpu, 0.1).unwrap();
    check("chunked adam + sgd", g, &p_gpu, &p_cpu);
}

#[test]
fn a_weight_past_the_binding_limit_is_a_clear_error() {
    let Some(g) = chunked_gpu() else { return };
    // weights are bound whole: 8 x 1,024 positional weights (32 KiB) cannot be split
    let x = random_pair(g, 1, &[1, 1, 1024]);
    let pos = random_pair(g, 2, &[8, 1024]);
    let chan = random_pair(g, 3, &[8, 1]);
    match g.separable(&x.gpu, &pos.gpu, &chan.gpu) {
        Err(sepfc::Error::TooLarge { detail, .. }) => assert!(detail.contains("limit"), "{detail}"),
        other => panic!("expected a TooLarge error, got {other:?}"),
    }
}

#[test]
fn dispatches_past_65535_workgroups_cover_every_element() {
    let g = skip_without_gpu!();
    // 64 * 65,535 + 100 elements: the dispatch needs a second row of workgroups
    let n = 64 * 65_535 + 100;
    let x = random_pair(g, 1, &[n]);
    let y = g.download(&g.scale(&x.gpu, 2.0).unwrap()).unwrap();
    let expected: Vec<f32> = x.cpu.data().iter().map(|v| v * 2.0).collect();
    assert_close("scale past 65,535 workgroups", &y, &expected, 0.0, 0.0);
}

#[test]
fn adam_over_all_parameters_matches_cpu_in_one_dispatch() {
    use sepfc::backend::AdamTarget;
    use sepfc::backend::cpu::CpuTensor;
    use sepfc::backend::gpu::GpuTensor;
    skip_without_gpu!();
    // a device of its own, so that other tests' commands do not enter the counts
    let own = Gpu::new().unwrap();
    let g = &own;
    // the third is a (rows, s) positional weight that gets the curvature constraint
    let shapes: [&[usize]; 4] = [&[5, 13], &[7], &[3, 9], &[1]];
    let pairs: Vec<Pair> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| random_pair(g, 40 + i as u64, s))
        .collect();
    let mut gpu_p: Vec<GpuTensor> = pairs.iter().map(|p| p.gpu.clone()).collect();
    let mut cpu_p: Vec<CpuTensor> = pairs.iter().map(|p| p.cpu.clone()).collect();
    let zeros = |s: &[usize]| pair(g, &vec![0.0; s.iter().product()], s);
    let mut gpu_m: Vec<GpuTensor> = shapes.iter().map(|s| zeros(s).gpu).collect();
    let mut gpu_v = gpu_m.clone();
    let mut cpu_m: Vec<CpuTensor> = shapes.iter().map(|s| zeros(s).cpu).collect();
    let mut cpu_v = cpu_m.clone();
    let mut held = None;
    for step in 1..=6u32 {
        let grads: Vec<Pair> = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| random_pair(g, 1000 * step as u64 + i as u64, s))
            .collect();
        let hyper = adam_hyper(step);
        if step == 4 {
            // another handle on a parameter: the step must not change what it sees
            held = Some((gpu_p[0].clone(), cpu_p[0].clone()));
        }
        let before = g.commands();
        let mut targets: Vec<AdamTarget<'_, GpuTensor>> = gpu_p
            .iter_mut()
            .zip(&mut gpu_m)
            .zip(&mut gpu_v)
            .zip(&grads)
            .map(|(((param, m), v), grad)| AdamTarget {
                param,
                grad: &grad.gpu,
                m,
                v,
            })
            .collect();
        g.adam_step_all(&mut targets, hyper).unwrap();
        drop(targets);
        let after = g.commands();
        for (i, grad) in grads.iter().enumerate() {
            Cpu.adam_step(
                &mut cpu_p[i],
                &grad.cpu,
                &mut cpu_m[i],
                &mut cpu_v[i],
                hyper,
            )
            .unwrap();
        }
        assert_eq!(after.dispatches - before.dispatches, 1, "step {step}");
        // after the first step (which packs) and the shared one (which copies parameters
        // out again), only the gradients are copied: the parameters stay packed, the
        // curvature constraint writing back in place included
        let copies = after.copies - before.copies;
        let expected = match step {
            1 => 4 * shapes.len() as u64,
            4 => 2 * shapes.len() as u64,
            _ => shapes.len() as u64,
        };
        assert_eq!(copies, expected, "copies recorded in step {step}");
        g.curvature_constraint(&mut gpu_p[2], 0.05).unwrap();
        Cpu.curvature_constraint(&mut cpu_p[2], 0.05).unwrap();
    }
    for i in 0..shapes.len() {
        check(&format!("adam_step_all param {i}"), g, &gpu_p[i], &cpu_p[i]);
        check(&format!("adam_step_all m {i}"), g, &gpu_m[i], &cpu_m[i]);
        check(&format!("adam_step_all v {i}"), g, &gpu_v[i], &cpu_v[i]);
    }
    let (held_gpu, held_cpu) = held.expect("step 4 ran");
    check(
        "a shared parameter keeps its value",
        g,
        &held_gpu,
        &held_cpu,
    );
}

/// `gpu.matmul` of `(m, k)` by `(k, n)` against a float64 triple loop.
fn matmul_case(g: &Gpu, seed: u64, [m, k, n]: [usize; 3]) {
    let a = uniform(&mut rng(seed), m * k);
    let b = uniform(&mut rng(seed + 1), k * n);
    let expected: Vec<f32> = (0..m * n)
        .map(|e| {
            let (i, j) = (e / n, e % n);
            (0..k)
                .map(|r| f64::from(a[i * k + r]) * f64::from(b[r * n + j]))
                .sum::<f64>() as f32
        })
        .collect();
    let c = g
        .matmul(
            &g.upload(&a, &[m, k]).unwrap(),
            &g.upload(&b, &[k, n]).unwrap(),
        )
        .unwrap();
    assert_eq!(sepfc::backend::Tensor::shape(&c), &[m, n]);
    let what = format!("matmul {m}x{k}x{n}");
    assert_close(&what, &g.download(&c).unwrap(), &expected, RTOL, ATOL);
}

#[test]
fn matmul_matches_a_float64_product() {
    let g = skip_without_gpu!();
    matmul_case(g, 1, [1, 1, 1]);
    matmul_case(g, 2, [3, 17, 5]);
    matmul_case(g, 3, [70, 33, 130]); // several tiles each way, a ragged reduction step
    let a = g.upload(&[0.0; 6], &[2, 3]).unwrap();
    assert!(g.matmul(&a, &a).is_err(), "inner dimensions 3 and 2");
}

/// The cases each kernel variant runs: every op family, with shapes that cover several
/// tiles, ragged tiles, reductions longer than a workgroup and, where `max_groups_per_dim` is
/// lowered to 64, dispatches split along their rows and columns.
fn variant_cases(g: &Gpu) {
    conv_case(g, 1, [2, 4, 20], [6, 5], Conv1dSpec::valid(1));
    conv_case(g, 60, [3, 70, 90], [130, 5], Conv1dSpec::same(5, 1));
    // 2,400 output columns: 75 tiles of 32, 150 of 16; a weight reduction split in parts
    conv_case(g, 70, [4, 3, 600], [5, 3], Conv1dSpec::valid(2));
    maxpool_case(g, 3, [2, 3, 19], PoolSpec { size: 5, stride: 2 });
    separable_case(g, 3, [3, 32, 45, 5]);
    separable_case(g, 5, [301, 3, 70, 2]); // more sequences than workgroups along y
    dense_case(g, 3, [3, 130, 67]);
    loss_case(g, Loss::Bce, 3, 130, 3);
    loss_case(g, Loss::Poisson, 4, 130, 3);
    loss_case(g, Loss::Mse, 5, 700, 3); // longer than any reducing workgroup
    reductions_case(g, 3, 67, 50);
    matmul_case(g, 3, [70, 33, 130]);
    deeplift_case(g, 2, [2, 3, 19], PoolSpec { size: 5, stride: 2 });
}

/// A device opened with `options`, printing the shapes its kernels chose.
fn variant_gpu(options: sepfc::backend::gpu::GpuOptions) -> Option<Gpu> {
    gpu()?;
    let g = Gpu::with_options(options).unwrap();
    eprintln!("variant {options:?}: {}", g.tuning());
    Some(g)
}

#[test]
fn reductions_through_workgroup_memory_alone_match_cpu() {
    let Some(g) = variant_gpu(sepfc::backend::gpu::GpuOptions {
        portable: true,
        ..Default::default()
    }) else {
        return;
    };
    assert!(!g.tuning().subgroups);
    variant_cases(&g);
}

#[test]
fn reductions_through_subgroups_match_cpu_where_the_adapter_has_them() {
    let g = skip_without_gpu!();
    // lavapipe offers subgroups (of 8); wgpu's GL backend offers none
    let expected = g.features().contains(wgpu::Features::SUBGROUP);
    assert_eq!(g.tuning().subgroups, expected, "{}", g.tuning());
    if std::env::var("WGPU_BACKEND").as_deref() != Ok("gl") {
        assert!(
            expected,
            "{}: Vulkan here is lavapipe, which has subgroups",
            g.describe()
        );
    }
    variant_cases(g);
}

#[test]
fn kernels_under_lowered_limits_take_smaller_shapes_and_match_cpu() {
    // (invocations, workgroup memory) -> tile side and reduction width
    for (invocations, storage, side, reduction) in [(64, 4096, 8, 64), (16, 2048, 4, 16)] {
        let Some(g) = variant_gpu(sepfc::backend::gpu::GpuOptions {
            max_workgroup_invocations: Some(invocations),
            max_workgroup_storage_bytes: Some(storage),
            max_groups_per_dim: Some(64),
            ..Default::default()
        }) else {
            return;
        };
        let t = g.tuning();
        assert_eq!(
            (t.tile_side, t.reduction, t.linear),
            (side, reduction, invocations)
        );
        assert_eq!(
            g.limits().max_compute_invocations_per_workgroup,
            invocations
        );
        assert_eq!(t.max_groups_per_dim, 64);
        variant_cases(&g);
    }
}

/// DeepLIFT's two rules on `pairs` (input, reference) rows of `(c, l)`: random values with
/// some references equal to their inputs (the gradient fallback), and zeros after a relu (tied
/// maxima).
fn deeplift_case(g: &Gpu, seed: u64, [pairs, c, l]: [usize; 3], spec: PoolSpec) {
    use sepfc::backend::Nonlinearity;
    let half = pairs * c * l;
    let mut x = uniform(&mut rng(seed), 2 * half);
    for i in (0..half).step_by(7) {
        x[half + i] = x[i]; // no difference: the derivative or the ordinary gradient
    }
    for i in (0..half).step_by(5) {
        x[i] = x[i].max(0.0); // relu outputs: windows of tied zeros
        x[half + i] = x[half + i].max(0.0);
    }
    let x = pair(g, &x, &[2 * pairs, c, l]);
    let what = format!("deeplift {pairs}x{c}x{l}");
    for kind in [Nonlinearity::Relu, Nonlinearity::Sigmoid] {
        let y_cpu = match kind {
            Nonlinearity::Relu => Cpu.relu(&x.cpu).unwrap(),
            Nonlinearity::Sigmoid => Cpu.sigmoid(&x.cpu).unwrap(),
        };
        let y = pair(g, y_cpu.data(), &[2 * pairs, c, l]);
        let dy = random_pair(g, seed + 1, &[2 * pairs, c, l]);
        check(
            &format!("{what} rescale {kind:?}"),
            g,
            &g.deeplift_rescale(&x.gpu, &y.gpu, &dy.gpu, kind, pairs)
                .unwrap(),
            &Cpu.deeplift_rescale(&x.cpu, &y.cpu, &dy.cpu, kind, pairs)
                .unwrap(),
        );
    }
    let y_cpu = Cpu.maxpool1d(&x.cpu, spec).unwrap();
    let shape = sepfc::backend::Tensor::shape(&y_cpu).to_vec();
    let y = pair(g, y_cpu.data(), &shape);
    let dy = random_pair(g, seed + 2, &shape);
    check(
        &format!("{what} maxpool {spec:?}"),
        g,
        &g.deeplift_maxpool1d(&x.gpu, &y.gpu, &dy.gpu, spec, pairs)
            .unwrap(),
        &Cpu.deeplift_maxpool1d(&x.cpu, &y.cpu, &dy.cpu, spec, pairs)
            .unwrap(),
    );
}

#[test]
fn deeplift_rules_match_cpu() {
    let g = skip_without_gpu!();
    deeplift_case(g, 1, [3, 4, 20], PoolSpec { size: 4, stride: 4 });
    deeplift_case(g, 2, [2, 3, 19], PoolSpec { size: 5, stride: 2 }); // overlapping windows
    deeplift_case(g, 3, [1, 1, 1], PoolSpec { size: 1, stride: 1 });
    // pairs must fill the batch: 3 rows are no pairs
    let x = g.upload(&[0.0; 6], &[3, 1, 2]).unwrap();
    assert!(
        g.deeplift_rescale(&x, &x, &x, sepfc::backend::Nonlinearity::Relu, 1)
            .is_err()
    );
}
