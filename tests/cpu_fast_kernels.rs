//! The CPU backend's fast kernels (convolution as im2col + matrix product, the separable
//! contraction as matrix products, both parallel) against the reference loops of `kernels`,
//! which cpu_gradients checks against finite differences.

mod common;

use common::{assert_close, rng, uniform};
use rand::Rng;
use sepfc::backend::cpu::{Cpu, kernels};
use sepfc::backend::shapes::{conv1d_dims, separable_dims};
use sepfc::backend::{Backend, Conv1dSpec, PoolSpec, Tensor};

/// Forward and all three gradients of `Cpu` against `kernels` on input `(n, c, l)`.
fn check(n: usize, c: usize, l: usize, f: usize, k: usize, spec: Conv1dSpec) {
    let what = format!("conv1d n={n} c={c} l={l} f={f} k={k} {spec:?}");
    let mut rng = rng((n * 1000 + c * 100 + l + k) as u64);
    let (x, w, b) = (
        uniform(&mut rng, n * c * l),
        uniform(&mut rng, f * c * k),
        uniform(&mut rng, f),
    );
    let d = conv1d_dims(&[n, c, l], &[f, c, k], &[f], spec).unwrap();
    let dy = uniform(&mut rng, n * f * d.l_out);
    let up = |v: &[f32], shape: &[usize]| Cpu.upload(v, shape).unwrap();
    // float32's rounding of a sum of K*C products of values in [-1, 1] grows as the square
    // root of the terms: 1e-5 covers up to 44 of them, the large benchmark model's 1,920 need
    // more (measured up to 4.6e-5 there: the product kernel sums in order). Undilated
    // convolutions of 5 taps or more over 16 channels or more go through Winograd's
    // transforms: F(4, 4)'s (entries up to 12 and down to 1/120) about quadruple that
    // (measured up to 4.0e-6 * sqrt(K*C)); F(5, 5)'s (entries up to 81 and down to 1/4200),
    // taken where it saves a tenth of the products (5, 9, 10, 13-15 and 17-20 taps), multiply
    // it by about 20 (measured 9.2e-4 at K*C = 1,920 on outputs up to 64, 3.1e-5 * sqrt(K*C)
    // at K = 20).
    let transformed = spec.dilation == 1 && k >= 5 && c >= 16;
    let products = |tile: usize| (2 * tile - 1) * k.div_ceil(tile) * 20 / tile;
    let f55 = transformed && products(5) * 10 <= products(4) * 9;
    let growth = match (transformed, f55) {
        (true, true) => 4e-5,
        (true, false) => 6e-6,
        _ => 1.5e-6,
    };
    let forward_atol = 1e-5f32.max(growth * ((k * c) as f32).sqrt());

    let y = Cpu
        .conv1d(
            &up(&x, &[n, c, l]),
            &up(&w, &[f, c, k]),
            &up(&b, &[f]),
            spec,
        )
        .unwrap();
    assert_eq!(y.shape(), [n, f, d.l_out], "{what}");
    let expected = kernels::conv1d(&x, &w, &b, d, spec);
    assert_close(
        &format!("{what} y"),
        &Cpu.download(&y).unwrap(),
        &expected,
        1e-5,
        forward_atol,
    );

    let fused = Cpu
        .conv1d_relu(
            &up(&x, &[n, c, l]),
            &up(&w, &[f, c, k]),
            &up(&b, &[f]),
            spec,
        )
        .unwrap();
    let clamped: Vec<f32> = expected.iter().map(|v| v.max(0.0)).collect();
    assert_close(
        &format!("{what} fused relu"),
        &Cpu.download(&fused).unwrap(),
        &clamped,
        1e-5,
        forward_atol,
    );

    // inference's fused convolution, relu and max pooling, against the reference pooling of
    // the reference convolution
    for pool in [
        PoolSpec { size: 2, stride: 2 },
        PoolSpec { size: 3, stride: 1 },
    ] {
        if d.l_out < pool.size {
            continue;
        }
        let pooled = Cpu
            .conv1d_relu_maxpool(
                &up(&x, &[n, c, l]),
                &up(&w, &[f, c, k]),
                &up(&b, &[f]),
                spec,
                pool,
            )
            .unwrap();
        let l_pool = (d.l_out - pool.size) / pool.stride + 1;
        assert_eq!(pooled.shape(), [n, f, l_pool], "{what}");
        assert_close(
            &format!("{what} fused relu and {pool:?}"),
            &Cpu.download(&pooled).unwrap(),
            &kernels::maxpool1d(&clamped, n * f, d.l_out, l_pool, pool),
            1e-5,
            forward_atol,
        );
    }

    let grads = Cpu
        .conv1d_backward(
            &up(&x, &[n, c, l]),
            &up(&w, &[f, c, k]),
            &up(&dy, &[n, f, d.l_out]),
            spec,
            true,
        )
        .unwrap();
    let (dx, dw, db) = kernels::conv1d_backward(&x, &w, &dy, d, spec, true);
    let got = |t: &sepfc::backend::cpu::CpuTensor| Cpu.download(t).unwrap();
    assert_close(
        &format!("{what} dx"),
        &got(grads.dx.as_ref().unwrap()),
        &dx.unwrap(),
        1e-5,
        1e-4,
    );
    assert_close(&format!("{what} dw"), &got(&grads.dw), &dw, 1e-5, 1e-4);
    assert_close(&format!("{what} db"), &got(&grads.db), &db, 1e-5, 1e-4);
    // the input gradient alone (gradient x input needs no weight gradient)
    let input_grad = Cpu
        .conv1d_input_grad(
            &up(&x, &[n, c, l]),
            &up(&w, &[f, c, k]),
            &up(&dy, &[n, f, d.l_out]),
            spec,
        )
        .unwrap();
    assert_close(
        &format!("{what} dx alone"),
        &got(&input_grad),
        &got(grads.dx.as_ref().unwrap()),
        0.0,
        0.0,
    );

    // the fused relu's gradient: dy counts only where the fused output is positive
    let relu_grads = Cpu
        .conv1d_relu_backward(
            &up(&x, &[n, c, l]),
            &up(&w, &[f, c, k]),
            &fused,
            &up(&dy, &[n, f, d.l_out]),
            spec,
            true,
        )
        .unwrap();
    let y_fused = got(&fused);
    let masked: Vec<f32> = dy
        .iter()
        .zip(&y_fused)
        .map(|(&g, &v)| if v > 0.0 { g } else { 0.0 })
        .collect();
    let (dx, dw, db) = kernels::conv1d_backward(&x, &w, &masked, d, spec, true);
    let relu_what = format!("{what} after relu");
    let relu_input_grad = Cpu
        .conv1d_relu_input_grad(
            &up(&x, &[n, c, l]),
            &up(&w, &[f, c, k]),
            &fused,
            &up(&dy, &[n, f, d.l_out]),
            spec,
        )
        .unwrap();
    assert_close(
        &format!("{relu_what} dx alone"),
        &got(&relu_input_grad),
        &got(relu_grads.dx.as_ref().unwrap()),
        0.0,
        0.0,
    );
    assert_close(
        &format!("{relu_what} dx"),
        &got(relu_grads.dx.as_ref().unwrap()),
        &dx.unwrap(),
        1e-5,
        1e-4,
    );
    assert_close(
        &format!("{relu_what} dw"),
        &got(&relu_grads.dw),
        &dw,
        1e-5,
        1e-4,
    );
    assert_close(
        &format!("{relu_what} db"),
        &got(&relu_grads.db),
        &db,
        1e-5,
        1e-4,
    );
}

#[test]
fn valid_convolution_matches_reference() {
    check(3, 4, 30, 5, 7, Conv1dSpec::valid(1));
    check(1, 1, 5, 1, 5, Conv1dSpec::valid(1));
    // more examples than one parallel chunk, and a ragged last chunk
    check(19, 6, 40, 8, 5, Conv1dSpec::valid(1));
}

#[test]
fn padding_and_dilation_match_reference() {
    let same = |k| Conv1dSpec::same(k, 1);
    check(4, 3, 25, 6, 5, same(5));
    check(4, 3, 25, 6, 4, same(4));
    check(5, 2, 30, 3, 4, Conv1dSpec::valid(3));
    check(2, 3, 20, 4, 3, Conv1dSpec::same(3, 4));
    // padding wider than the input: some taps read nothing but zeros
    let wide = Conv1dSpec {
        pad_left: 9,
        pad_right: 7,
        dilation: 2,
    };
    check(3, 2, 4, 3, 4, wide);
}

#[test]
fn wide_inputs_match_reference() {
    // 16 channels and more take one product per tap over shifted windows, not im2col
    check(10, 16, 30, 6, 5, Conv1dSpec::valid(1));
    check(9, 20, 25, 7, 4, Conv1dSpec::same(4, 1));
    // 8 filters and more: whole 8 x 8 tiles on the way out of the frames, bias and relu fused
    check(9, 16, 40, 12, 3, Conv1dSpec::valid(1));
    check(4, 24, 33, 16, 5, Conv1dSpec::same(5, 2));
    check(3, 17, 21, 5, 3, Conv1dSpec::same(3, 3));
    let wide = Conv1dSpec {
        pad_left: 9,
        pad_right: 7,
        dilation: 2,
    };
    check(3, 18, 4, 3, 4, wide);
}

#[test]
fn benchmark_shaped_convolutions_match_reference() {
    // taps and outputs that are not multiples of the kernels' tiles, ragged chunks
    check(11, 16, 31, 9, 5, Conv1dSpec::valid(1));
    check(5, 20, 23, 4, 7, Conv1dSpec::valid(1));
    check(4, 17, 9, 3, 8, Conv1dSpec::same(8, 1));
    // the benchmark models' shapes, on a few examples
    check(3, 32, 186, 32, 14, Conv1dSpec::valid(1));
    check(2, 128, 60, 128, 15, Conv1dSpec::valid(1));
    check(2, 64, 40, 24, 15, Conv1dSpec::same(15, 1));
}

/// Input with at most one nonzero channel per position (one-hot DNA: N as zeros, an IUPAC
/// code's single channel at 0.5) picks weights instead of multiplying ([`Cpu`]'s one-hot
/// path): forward, fused relu and fused relu and pooling against the reference loops. Most
/// examples hold only 0s and 1s (picked a pair of taps at a time), two hold a 0.5 (picked a
/// tap at a time, scaled), two a position with two nonzero channels (the product path); odd
/// and even kernels, padding and dilation; 13 filters and 86 outputs, so that full blocks of
/// filters and outputs and ragged ones are all taken. A non-finite weight sends every example
/// to the product path, and NaN reaches every output as in the reference.
#[test]
fn one_hot_input_matches_reference() {
    let (n, c, l, f) = (11, 4, 100, 13);
    let mut rng = rng(7);
    let mut x = vec![0.0f32; n * c * l];
    for i in 0..n {
        for p in 0..l {
            let channel = rng.random_range(0..=c); // c: N, all zeros
            let value = if (i == 1 || i == 6) && p % 5 == 2 {
                0.5
            } else {
                1.0
            };
            if channel < c {
                x[(i * c + channel) * l + p] = value;
            }
        }
    }
    for i in [3, 9] {
        x[(i * c) * l + 20] = 1.0;
        x[(i * c + 2) * l + 20] = 1.0;
    }
    let up = |v: &[f32], shape: &[usize]| Cpu.upload(v, shape).unwrap();
    let pool = PoolSpec { size: 4, stride: 4 };
    for k in [15, 14] {
        let (w, b) = (uniform(&mut rng, f * c * k), uniform(&mut rng, f));
        let specs = [
            Conv1dSpec::valid(1),
            Conv1dSpec::same(k, 1),
            Conv1dSpec::valid(2),
        ];
        for spec in specs {
            let what = format!("one-hot conv1d k={k} {spec:?}");
            let d = conv1d_dims(&[n, c, l], &[f, c, k], &[f], spec).unwrap();
            let (xt, wt, bt) = (up(&x, &[n, c, l]), up(&w, &[f, c, k]), up(&b, &[f]));
            let expected = kernels::conv1d(&x, &w, &b, d, spec);
            let y = Cpu
                .download(&Cpu.conv1d(&xt, &wt, &bt, spec).unwrap())
                .unwrap();
            assert_close(&what, &y, &expected, 1e-5, 1e-5);
            let clamped: Vec<f32> = expected.iter().map(|v| v.max(0.0)).collect();
            let fused = Cpu.conv1d_relu(&xt, &wt, &bt, spec).unwrap();
            let fused = Cpu.download(&fused).unwrap();
            assert_close(&format!("{what} relu"), &fused, &clamped, 1e-5, 1e-5);
            let l_pool = (d.l_out - pool.size) / pool.stride + 1;
            let pooled = Cpu.conv1d_relu_maxpool(&xt, &wt, &bt, spec, pool).unwrap();
            assert_close(
                &format!("{what} relu and pool"),
                &Cpu.download(&pooled).unwrap(),
                &kernels::maxpool1d(&clamped, n * f, d.l_out, l_pool, pool),
                1e-5,
                1e-5,
            );
        }
    }
    let k = 15;
    let (w, b) = (uniform(&mut rng, f * c * k), uniform(&mut rng, f));
    let mut broken = w.clone();
    broken[5] = f32::NAN;
    let spec = Conv1dSpec::valid(1);
    let y = Cpu
        .conv1d(
            &up(&x, &[n, c, l]),
            &up(&broken, &[f, c, k]),
            &up(&b, &[f]),
            spec,
        )
        .unwrap();
    let y = Cpu.download(&y).unwrap();
    let d = conv1d_dims(&[n, c, l], &[f, c, k], &[f], spec).unwrap();
    let expected = kernels::conv1d(&x, &broken, &b, d, spec);
    let nan = |v: &[f32]| v.iter().map(|v| v.is_nan()).collect::<Vec<_>>();
    assert_eq!(
        nan(&y),
        nan(&expected),
        "a NaN weight meets every input, zero or not"
    );
    assert!(
        nan(&y)[..d.l_out].iter().all(|&v| v),
        "filter 0's outputs are NaN"
    );
}

#[test]
fn input_gradient_can_be_skipped() {
    let spec = Conv1dSpec::valid(1);
    let x = Cpu.upload(&[0.5; 2 * 3 * 10], &[2, 3, 10]).unwrap();
    let w = Cpu.upload(&[0.25; 4 * 3 * 3], &[4, 3, 3]).unwrap();
    let dy = Cpu.upload(&[1.0; 2 * 4 * 8], &[2, 4, 8]).unwrap();
    let grads = Cpu.conv1d_backward(&x, &w, &dy, spec, false).unwrap();
    assert!(grads.dx.is_none());
    // every weight tap sees 2 examples x 8 positions of 0.5
    assert_eq!(Cpu.download(&grads.dw).unwrap(), vec![8.0; 36]);
    assert_eq!(Cpu.download(&grads.db).unwrap(), vec![16.0; 4]);
}

/// Forward and all three gradients of `Cpu`'s separable contraction against `kernels` on
/// input `(n, c, l)` with `u` units.
fn check_separable(n: usize, c: usize, l: usize, u: usize) {
    let what = format!("separable n={n} c={c} l={l} u={u}");
    let mut rng = rng((n * 1000 + c * 100 + l * 10 + u) as u64);
    let (x, pos, chan, dy) = (
        uniform(&mut rng, n * c * l),
        uniform(&mut rng, u * l),
        uniform(&mut rng, u * c),
        uniform(&mut rng, n * u),
    );
    let dims = separable_dims(&[n, c, l], &[u, l], &[u, c]).unwrap();
    let up = |v: &[f32], shape: &[usize]| Cpu.upload(v, shape).unwrap();
    let (xt, post, chant) = (up(&x, &[n, c, l]), up(&pos, &[u, l]), up(&chan, &[u, c]));
    let y = Cpu.separable(&xt, &post, &chant).unwrap();
    assert_eq!(y.shape(), [n, u], "{what}");
    let expected = kernels::separable(&x, &pos, &chan, dims);
    assert_close(
        &format!("{what} y"),
        &Cpu.download(&y).unwrap(),
        &expected,
        1e-5,
        1e-5,
    );

    for need_dx in [true, false] {
        let grads = Cpu
            .separable_backward(&xt, &post, &chant, &up(&dy, &[n, u]), need_dx)
            .unwrap();
        let (dx, dpos, dchan) = kernels::separable_backward(&x, &pos, &chan, &dy, dims, need_dx);
        let got = |t: &sepfc::backend::cpu::CpuTensor| Cpu.download(t).unwrap();
        assert_eq!(grads.dx.is_some(), need_dx, "{what}");
        if let (Some(got_dx), Some(dx)) = (grads.dx.as_ref(), dx) {
            assert_close(&format!("{what} dx"), &got(got_dx), &dx, 1e-5, 1e-4);
        }
        assert_close(
            &format!("{what} dpos"),
            &got(&grads.dpos),
            &dpos,
            1e-5,
            1e-4,
        );
        assert_close(
            &format!("{what} dchan"),
            &got(&grads.dchan),
            &dchan,
            1e-5,
            1e-4,
        );
    }
    // the input gradient alone
    let dx = Cpu
        .separable_input_grad(&xt, &post, &chant, &up(&dy, &[n, u]))
        .unwrap();
    assert_eq!(dx.shape(), [n, c, l], "{what}");
    let (expected_dx, _, _) = kernels::separable_backward(&x, &pos, &chan, &dy, dims, true);
    assert_close(
        &format!("{what} dx alone"),
        &Cpu.download(&dx).unwrap(),
        &expected_dx.unwrap(),
        1e-5,
        1e-4,
    );
}

/// The dense layer's input gradient alone against the `dx` of its full backward.
#[test]
fn dense_input_gradient_alone_matches_the_full_backward() {
    let (n, i, o) = (5, 7, 3);
    let mut rng = rng(11);
    let (x, w, dy) = (
        uniform(&mut rng, n * i),
        uniform(&mut rng, o * i),
        uniform(&mut rng, n * o),
    );
    let up = |v: &[f32], shape: &[usize]| Cpu.upload(v, shape).unwrap();
    let (xt, wt, dyt) = (up(&x, &[n, i]), up(&w, &[o, i]), up(&dy, &[n, o]));
    let alone = Cpu.dense_input_grad(&xt, &wt, &dyt).unwrap();
    let full = Cpu.dense_backward(&xt, &wt, &dyt, true).unwrap();
    let full = Cpu.download(full.dx.as_ref().unwrap()).unwrap();
    assert_eq!(Cpu.download(&alone).unwrap(), full);
    // by hand: dx[0, 0] = sum_o dy[0, o] w[o, 0]
    let by_hand: f32 = (0..o).map(|k| dy[k] * w[k * i]).sum();
    assert!((full[0] - by_hand).abs() < 1e-6);
}

#[test]
fn separable_matches_reference() {
    check_separable(3, 4, 7, 5);
    check_separable(1, 1, 1, 1);
    // more examples than one parallel chunk, and a ragged last chunk
    check_separable(19, 6, 13, 3);
    check_separable(9, 32, 43, 32);
}

/// Max pooling forward and backward of `Cpu` against `kernels` on `(n, c, l)`, with ties.
fn check_pool(n: usize, c: usize, l: usize, spec: PoolSpec) {
    let what = format!("maxpool n={n} c={c} l={l} {spec:?}");
    let mut rng = rng((n * 100 + c * 10 + l) as u64);
    // values on a coarse grid, so that windows often hold ties
    let x: Vec<f32> = uniform(&mut rng, n * c * l)
        .iter()
        .map(|v| (v * 3.0).round())
        .collect();
    let l_out = (l - spec.size) / spec.stride + 1;
    let dy = uniform(&mut rng, n * c * l_out);
    let xt = Cpu.upload(&x, &[n, c, l]).unwrap();
    let y = Cpu.maxpool1d(&xt, spec).unwrap();
    let expected = kernels::maxpool1d(&x, n * c, l, l_out, spec);
    assert_eq!(Cpu.download(&y).unwrap(), expected, "{what} y");
    let dx = Cpu
        .maxpool1d_backward(&xt, &Cpu.upload(&dy, &[n, c, l_out]).unwrap(), spec)
        .unwrap();
    let expected = kernels::maxpool1d_backward(&x, &dy, n * c, l, l_out, spec);
    assert_close(
        &format!("{what} dx"),
        &Cpu.download(&dx).unwrap(),
        &expected,
        1e-6,
        1e-6,
    );
}

#[test]
fn pooling_matches_reference() {
    check_pool(3, 5, 17, PoolSpec { size: 4, stride: 4 });
    // overlapping windows: a position can be the maximum of two
    check_pool(2, 3, 20, PoolSpec { size: 5, stride: 2 });
    // gaps between windows, and more rows than one parallel task
    check_pool(40, 32, 173, PoolSpec { size: 3, stride: 5 });
    check_pool(1, 1, 1, PoolSpec { size: 1, stride: 1 });
}

#[test]
fn elementwise_ops_match_reference() {
    let mut rng = rng(7);
    // longer than one parallel task
    let (a, b) = (uniform(&mut rng, 40_000), uniform(&mut rng, 40_000));
    let up = |v: &[f32]| Cpu.upload(v, &[v.len()]).unwrap();
    let got = |t: sepfc::Result<sepfc::backend::cpu::CpuTensor>| Cpu.download(&t.unwrap()).unwrap();
    assert_eq!(got(Cpu.relu(&up(&a))), kernels::relu(&a));
    assert_eq!(
        got(Cpu.relu_backward(&up(&a), &up(&b))),
        kernels::relu_backward(&a, &b)
    );
    let sum: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    assert_eq!(got(Cpu.add(&up(&a), &up(&b))), sum);
    let scaled: Vec<f32> = a.iter().map(|x| x * -0.5).collect();
    assert_eq!(got(Cpu.scale(&up(&a), -0.5)), scaled);
    assert!(kernels::relu(&a).contains(&0.0) && a.iter().any(|&v| v > 0.0));
}
