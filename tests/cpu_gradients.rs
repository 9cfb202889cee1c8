//! Gradient checks of the CPU reference: every backward kernel against central finite
//! differences computed in f64, plus the hand-checkable ops (layouts, optimizer steps, the
//! curvature constraint) against values worked out by hand, and the autodiff tape's wiring
//! against finite differences of a small model's f32 loss.
//!
//! The objective of every gradient check is `L = sum_i r_i * y_i` with fixed random weights
//! `r`, so every output element matters; the analytic gradient is the backward kernel called
//! with `dy = r`.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng, rngs::StdRng};
use sepfc::Error;
use sepfc::autodiff::Tape;
use sepfc::backend::Loss;
use sepfc::backend::cpu::{Cpu, kernels as k};
use sepfc::backend::shapes::{self, dropout_keep};
use sepfc::backend::{AdamStep, Backend, Conv1dSpec, PoolSpec, Reduction};
use sepfc::optim::{Adam, Constraint, Optimizer, Parameter, Sgd};

/// Step of the f64 central differences.
const H: f64 = 1e-6;
/// Tolerances of the f64 checks. With `h = 1e-6` the rounding error of a difference of two
/// losses of size ~10 is ~1e-9 and the truncation error ~1e-12, far inside these.
const RTOL: f64 = 1e-6;
const ATOL: f64 = 1e-7;

/// Fails, naming the op, the index and both values, unless every pair satisfies
/// `|a - n| <= max(rtol * max(|a|, |n|), atol)` (NaN never does).
#[track_caller]
fn assert_close(name: &str, analytic: &[f64], numeric: &[f64], rtol: f64, atol: f64) {
    assert_eq!(
        analytic.len(),
        numeric.len(),
        "{name}: analytic has {} values, numeric {}",
        analytic.len(),
        numeric.len()
    );
    for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
        let tol = (rtol * a.abs().max(n.abs())).max(atol);
        let diff = (a - n).abs();
        assert!(
            diff <= tol,
            "{name}[{i}]: analytic {a:e} vs numeric {n:e} (|diff| {diff:e} > tol {tol:e})"
        );
    }
}

#[track_caller]
fn assert_close_f64(name: &str, analytic: &[f64], numeric: &[f64]) {
    assert_close(name, analytic, numeric, RTOL, ATOL);
}

/// Central differences of `f` at `x`, one per element of `x`.
fn numeric_grad(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|j| {
            let orig = xp[j];
            xp[j] = orig + H;
            let plus = f(&xp);
            xp[j] = orig - H;
            let minus = f(&xp);
            xp[j] = orig;
            (plus - minus) / (2.0 * H)
        })
        .collect()
}

fn uniform(rng: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// Values in `[-1, -0.1] U [0.1, 1]`: away from the kinks of relu and |x|.
fn away_from_zero(rng: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let v: f64 = rng.random_range(0.1..1.0);
            if rng.random_bool(0.5) { v } else { -v }
        })
        .collect()
}

/// A random permutation of `0..n` scaled by 0.1 and shifted: distinct values, at least 0.1
/// apart, so max pooling has no ties within a finite-difference step.
fn distinct(rng: &mut StdRng, n: usize) -> Vec<f64> {
    let mut v: Vec<usize> = (0..n).collect();
    v.shuffle(rng);
    v.into_iter().map(|i| 0.1 * i as f64 - 1.0).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "dot of unequal lengths");
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
#[should_panic(expected = "demo[1]: analytic")]
fn assert_close_reports_the_op_and_index_of_a_mismatch() {
    assert_close("demo", &[1.0, 2.0], &[1.0, 2.001], 1e-6, 1e-7);
}

#[test]
fn regression_losses_match_their_definitions_and_numeric_gradients() {
    let mut rng = StdRng::seed_from_u64(61);
    let n = 12;
    let z: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
    let t: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..5.0)).collect();
    let mask: Vec<f64> = (0..n).map(|i| if i % 4 == 1 { 0.0 } else { 1.0 }).collect();
    let kept: Vec<usize> = (0..n).filter(|&i| mask[i] != 0.0).collect();
    for (kind, term) in [
        (
            Loss::Mse,
            (|z: f64, t: f64| (z - t) * (z - t)) as fn(f64, f64) -> f64,
        ),
        (Loss::Poisson, |z: f64, t: f64| z.exp() - t * z),
    ] {
        let by_hand = kept.iter().map(|&i| term(z[i], t[i])).sum::<f64>() / kept.len() as f64;
        assert_close(
            kind.name(),
            &[k::loss(kind, &z, &t, &mask)],
            &[by_hand],
            1e-12,
            1e-14,
        );
        let dloss = 0.7;
        let g = k::loss_backward(kind, &z, &t, &mask, dloss);
        let num = numeric_grad(&z, |z| dloss * k::loss(kind, z, &t, &mask));
        assert_close_f64(kind.name(), &g, &num);
        assert!(kept.len() < n && (0..n).filter(|i| !kept.contains(i)).all(|i| g[i] == 0.0));
    }
}

// ---------------------------------------------------------------------------------------------
// conv1d

/// Checks conv1d's forward pass against an explicitly zero-padded reference and its three
/// gradients against finite differences.
fn check_conv1d(
    name: &str,
    seed: u64,
    [n, c, l]: [usize; 3],
    [f, kw]: [usize; 2],
    spec: Conv1dSpec,
    expect_l_out: usize,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let d = shapes::conv1d_dims(&[n, c, l], &[f, c, kw], &[f], spec).unwrap();
    assert_eq!(d.l_out, expect_l_out, "{name}: output length");
    let x = uniform(&mut rng, n * c * l);
    let w = uniform(&mut rng, f * c * kw);
    let b = uniform(&mut rng, f);
    let r = uniform(&mut rng, n * f * d.l_out);

    // Forward against zero padding written out.
    let lp = l + spec.pad_left + spec.pad_right;
    let mut expected = Vec::new();
    for ni in 0..n {
        for fi in 0..f {
            for lo in 0..d.l_out {
                let mut acc = b[fi];
                for ci in 0..c {
                    let mut padded = vec![0.0; lp];
                    padded[spec.pad_left..spec.pad_left + l]
                        .copy_from_slice(&x[(ni * c + ci) * l..(ni * c + ci + 1) * l]);
                    for ki in 0..kw {
                        acc += w[(fi * c + ci) * kw + ki] * padded[lo + ki * spec.dilation];
                    }
                }
                expected.push(acc);
            }
        }
    }
    let y = k::conv1d(&x, &w, &b, d, spec);
    assert_close(&format!("{name} forward"), &y, &expected, 1e-12, 1e-12);

    let (dx, dw, db) = k::conv1d_backward(&x, &w, &r, d, spec, true);
    let dx = dx.expect("need_dx = true must return dx");
    let loss = |x: &[f64], w: &[f64], b: &[f64]| dot(&r, &k::conv1d(x, w, b, d, spec));
    assert_close_f64(
        &format!("{name} dx"),
        &dx,
        &numeric_grad(&x, |x| loss(x, &w, &b)),
    );
    assert_close_f64(
        &format!("{name} dw"),
        &dw,
        &numeric_grad(&w, |w| loss(&x, w, &b)),
    );
    assert_close_f64(
        &format!("{name} db"),
        &db,
        &numeric_grad(&b, |b| loss(&x, &w, b)),
    );

    let (no_dx, dw2, db2) = k::conv1d_backward(&x, &w, &r, d, spec, false);
    assert!(no_dx.is_none(), "{name}: need_dx = false must skip dx");
    assert_eq!(dw2, dw, "{name}: dw must not depend on need_dx");
    assert_eq!(db2, db, "{name}: db must not depend on need_dx");
}

#[test]
fn conv1d_valid_gradients_match_finite_differences() {
    check_conv1d(
        "conv1d valid",
        1,
        [2, 4, 10],
        [3, 3],
        Conv1dSpec::valid(1),
        8,
    );
}

#[test]
fn conv1d_same_odd_kernel_gradients_match_finite_differences() {
    let spec = Conv1dSpec::same(5, 1);
    assert_eq!((spec.pad_left, spec.pad_right), (2, 2));
    check_conv1d("conv1d same k=5", 2, [2, 4, 9], [3, 5], spec, 9);
}

#[test]
fn conv1d_same_even_kernel_gradients_match_finite_differences() {
    // PyTorch's padding="same": the smaller half on the left.
    let spec = Conv1dSpec::same(4, 1);
    assert_eq!((spec.pad_left, spec.pad_right), (1, 2));
    check_conv1d("conv1d same k=4", 3, [2, 3, 8], [2, 4], spec, 8);
}

#[test]
fn conv1d_dilation_2_gradients_match_finite_differences() {
    check_conv1d(
        "conv1d valid dil=2",
        4,
        [2, 4, 11],
        [3, 3],
        Conv1dSpec::valid(2),
        7,
    );
    let spec = Conv1dSpec::same(4, 2);
    assert_eq!((spec.pad_left, spec.pad_right), (3, 3));
    check_conv1d("conv1d same k=4 dil=2", 5, [2, 3, 9], [2, 4], spec, 9);
    let spec = Conv1dSpec::same(3, 2);
    check_conv1d("conv1d same k=3 dil=2", 6, [1, 2, 5], [3, 3], spec, 5);
}

#[test]
fn conv1d_awkward_shapes_gradients_match_finite_differences() {
    // Batch 1, input exactly the kernel span: output length 1.
    check_conv1d(
        "conv1d span k=4 c=3",
        7,
        [1, 3, 4],
        [5, 4],
        Conv1dSpec::valid(1),
        1,
    );
    check_conv1d(
        "conv1d span k=3 dil=2 c=5",
        8,
        [1, 5, 5],
        [3, 3],
        Conv1dSpec::valid(2),
        1,
    );
    // Single filter, single channel, kernel width 1.
    check_conv1d("conv1d k=1", 9, [3, 1, 6], [1, 1], Conv1dSpec::valid(1), 6);
    // 'same' padding longer than the input itself.
    check_conv1d(
        "conv1d same k=7 l=2",
        10,
        [1, 3, 2],
        [2, 7],
        Conv1dSpec::same(7, 1),
        2,
    );
}

// ---------------------------------------------------------------------------------------------
// rc_expand / rc_fold

#[test]
fn rc_expand_layout_on_a_hand_made_2x2x3_weight() {
    let w: Vec<f64> = (1..=12).map(f64::from).collect();
    let out = k::rc_expand(&w, 2, 6);
    #[rustfmt::skip]
    let expected = [
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0,
        7.0, 8.0, 9.0, 10.0, 11.0, 12.0,
        12.0, 11.0, 10.0, 9.0, 8.0, 7.0,
        6.0, 5.0, 4.0, 3.0, 2.0, 1.0,
    ];
    assert_eq!(out, expected);
    // The same as channel c -> C-1-c and width k -> K-1-k.
    let (f, c, kw) = (2, 2, 3);
    for j in 0..f {
        for ci in 0..c {
            for ki in 0..kw {
                assert_eq!(
                    out[((f + j) * c + ci) * kw + ki],
                    w[((f - 1 - j) * c + (c - 1 - ci)) * kw + (kw - 1 - ki)],
                    "row {}, channel {ci}, width {ki}",
                    f + j
                );
            }
        }
    }
    // Through the backend, with the shape.
    let cpu = Cpu;
    let wt = cpu.upload(&(1..=12).map(|v| v as f32).collect::<Vec<_>>(), &[2, 2, 3]);
    let e = cpu.rc_expand(&wt.unwrap()).unwrap();
    assert_eq!(sepfc::backend::Tensor::shape(&e), &[4, 2, 3]);
    let expected32: Vec<f32> = expected.iter().map(|&v| v as f32).collect();
    assert_eq!(cpu.download(&e).unwrap(), expected32);
}

#[test]
fn rc_fold_is_the_adjoint_of_rc_expand() {
    let mut rng = StdRng::seed_from_u64(11);
    for (rows, inner) in [(3, 4 * 5), (3, 1), (1, 7), (4, 6)] {
        let w = uniform(&mut rng, rows * inner);
        let g = uniform(&mut rng, 2 * rows * inner);
        let lhs = dot(&k::rc_expand(&w, rows, inner), &g);
        let rhs = dot(&w, &k::rc_fold(&g, 2 * rows, inner));
        assert_close(
            &format!("rc adjoint ({rows}, {inner})"),
            &[lhs],
            &[rhs],
            1e-12,
            1e-12,
        );
        // Finite differences of <rc_expand(w), g> with respect to w.
        let num = numeric_grad(&w, |w| dot(&k::rc_expand(w, rows, inner), &g));
        assert_close_f64("rc_fold", &k::rc_fold(&g, 2 * rows, inner), &num);
        // Each weight appears twice in the expansion, so folding the expansion doubles it.
        let twice: Vec<f64> = w.iter().map(|v| 2.0 * v).collect();
        let folded = k::rc_fold(&k::rc_expand(&w, rows, inner), 2 * rows, inner);
        assert_close("rc_fold(rc_expand(w))", &folded, &twice, 1e-15, 1e-15);
    }
}

// ---------------------------------------------------------------------------------------------
// mirror_expand / mirror_fold

#[test]
fn mirror_expand_values_by_hand_for_n_5_and_4() {
    assert_eq!(
        k::mirror_expand(&[1.0f64, 2.0, 3.0], 1, 5),
        [1.0, 2.0, 3.0, 2.0, 1.0]
    );
    assert_eq!(k::mirror_expand(&[1.0f64, 2.0], 1, 4), [1.0, 2.0, 2.0, 1.0]);
    // Two rows.
    assert_eq!(
        k::mirror_expand(&[1.0f64, 2.0, 3.0, 4.0], 2, 4),
        [1.0, 2.0, 2.0, 1.0, 3.0, 4.0, 4.0, 3.0]
    );
    assert_eq!(
        k::mirror_fold(&[1.0f64, 10.0, 100.0, 1000.0, 10000.0], 1, 5),
        [10001.0, 1010.0, 100.0]
    );
    assert_eq!(
        k::mirror_fold(&[1.0f64, 10.0, 100.0, 1000.0], 1, 4),
        [1001.0, 110.0]
    );
}

#[test]
fn mirror_fold_is_the_adjoint_of_mirror_expand() {
    let mut rng = StdRng::seed_from_u64(12);
    for n in [1usize, 2, 4, 5, 8, 9] {
        let rows = 3;
        let s = n.div_ceil(2);
        let v = uniform(&mut rng, rows * s);
        let g = uniform(&mut rng, rows * n);
        let lhs = dot(&k::mirror_expand(&v, rows, n), &g);
        let rhs = dot(&v, &k::mirror_fold(&g, rows, n));
        assert_close(
            &format!("mirror adjoint n={n}"),
            &[lhs],
            &[rhs],
            1e-12,
            1e-12,
        );
        let num = numeric_grad(&v, |v| dot(&k::mirror_expand(v, rows, n), &g));
        assert_close_f64(
            &format!("mirror_fold n={n}"),
            &k::mirror_fold(&g, rows, n),
            &num,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// maxpool1d

fn check_maxpool(name: &str, seed: u64, [n, c, l]: [usize; 3], spec: PoolSpec, expect: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let [_, _, _, l_out] = shapes::pool_dims(&[n, c, l], spec).unwrap();
    assert_eq!(l_out, expect, "{name}: output length");
    let rows = n * c;
    let x = distinct(&mut rng, rows * l);
    let r = uniform(&mut rng, rows * l_out);
    let y = k::maxpool1d(&x, rows, l, l_out, spec);
    for row in 0..rows {
        for o in 0..l_out {
            let start = row * l + o * spec.stride;
            let max = x[start..start + spec.size]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(y[row * l_out + o], max, "{name}: window {o} of row {row}");
        }
    }
    let dx = k::maxpool1d_backward(&x, &r, rows, l, l_out, spec);
    let num = numeric_grad(&x, |x| dot(&r, &k::maxpool1d(x, rows, l, l_out, spec)));
    assert_close_f64(name, &dx, &num);
}

#[test]
fn maxpool1d_stride_equal_to_size_gradient_matches_finite_differences() {
    check_maxpool(
        "maxpool 2/2",
        20,
        [2, 3, 12],
        PoolSpec { size: 2, stride: 2 },
        6,
    );
}

#[test]
fn maxpool1d_overlapping_windows_gradient_matches_finite_differences() {
    check_maxpool(
        "maxpool 3/1",
        21,
        [2, 2, 10],
        PoolSpec { size: 3, stride: 1 },
        8,
    );
    check_maxpool(
        "maxpool 4/2",
        22,
        [1, 3, 10],
        PoolSpec { size: 4, stride: 2 },
        4,
    );
}

#[test]
fn maxpool1d_leftover_positions_get_zero_gradient() {
    // Windows at 0, 2, 4, 6 of size 3 cover 0..=8; position 9 is left over.
    check_maxpool(
        "maxpool 3/2 leftover",
        23,
        [2, 2, 10],
        PoolSpec { size: 3, stride: 2 },
        4,
    );
    // Windows 0..4, 4..8; positions 8, 9, 10 left over. Make them the largest values, so a
    // kernel that looked past the last window would route gradient there.
    let spec = PoolSpec { size: 4, stride: 4 };
    check_maxpool("maxpool 4/4 leftover", 24, [1, 2, 11], spec, 2);
    let x: Vec<f64> = vec![0.1, 0.4, 0.2, 0.3, 0.5, 0.8, 0.7, 0.6, 9.0, 9.5, 9.9];
    let dx = k::maxpool1d_backward(&x, &[1.0, 2.0], 1, 11, 2, spec);
    assert_eq!(dx, [0.0, 1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(k::maxpool1d(&x, 1, 11, 2, spec), [0.4, 0.8]);
}

#[test]
fn maxpool1d_ties_route_the_gradient_to_the_first_maximum() {
    let spec = PoolSpec { size: 4, stride: 4 };
    let x = [1.0f64, 3.0, 3.0, 2.0, 5.0, 5.0, 5.0, 5.0];
    assert_eq!(k::maxpool1d(&x, 1, 8, 2, spec), [3.0, 5.0]);
    assert_eq!(
        k::maxpool1d_backward(&x, &[1.0, 2.0], 1, 8, 2, spec),
        [0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0]
    );
    // Overlapping windows over a constant row: window o's first maximum is position o.
    let spec = PoolSpec { size: 2, stride: 1 };
    let x = [5.0f64, 5.0, 5.0];
    assert_eq!(
        k::maxpool1d_backward(&x, &[1.0, 10.0], 1, 3, 2, spec),
        [1.0, 10.0, 0.0]
    );
    // The same through the backend, in f32.
    let cpu = Cpu;
    let xt = cpu.upload(&[0.0, 7.0, 7.0, 7.0], &[1, 1, 4]).unwrap();
    let dy = cpu.upload(&[3.0], &[1, 1, 1]).unwrap();
    let dx = cpu
        .maxpool1d_backward(&xt, &dy, PoolSpec { size: 4, stride: 4 })
        .unwrap();
    assert_eq!(cpu.download(&dx).unwrap(), vec![0.0, 3.0, 0.0, 0.0]);
}

// ---------------------------------------------------------------------------------------------
// separable

fn check_separable(name: &str, seed: u64, [n, c, l, u]: [usize; 4]) {
    let mut rng = StdRng::seed_from_u64(seed);
    let dims = shapes::separable_dims(&[n, c, l], &[u, l], &[u, c]).unwrap();
    let x = uniform(&mut rng, n * c * l);
    let pos = uniform(&mut rng, u * l);
    let chan = uniform(&mut rng, u * c);
    let r = uniform(&mut rng, n * u);
    let loss = |x: &[f64], p: &[f64], ch: &[f64]| dot(&r, &k::separable(x, p, ch, dims));
    let (dx, dpos, dchan) = k::separable_backward(&x, &pos, &chan, &r, dims, true);
    let dx = dx.expect("need_dx = true must return dx");
    assert_close_f64(
        &format!("{name} dx"),
        &dx,
        &numeric_grad(&x, |x| loss(x, &pos, &chan)),
    );
    assert_close_f64(
        &format!("{name} dpos"),
        &dpos,
        &numeric_grad(&pos, |p| loss(&x, p, &chan)),
    );
    assert_close_f64(
        &format!("{name} dchan"),
        &dchan,
        &numeric_grad(&chan, |ch| loss(&x, &pos, ch)),
    );
    let (no_dx, dpos2, dchan2) = k::separable_backward(&x, &pos, &chan, &r, dims, false);
    assert!(no_dx.is_none(), "{name}: need_dx = false must skip dx");
    assert_eq!(dpos2, dpos, "{name}: dpos must not depend on need_dx");
    assert_eq!(dchan2, dchan, "{name}: dchan must not depend on need_dx");
}

#[test]
fn separable_forward_by_hand() {
    // x[0] = [[1, 2], [3, 4]] (channels x length), pos = [10, 100], chan = [1, -1]:
    // per position chan . x = [-2, -2], then 10 * -2 + 100 * -2.
    let y = k::separable(
        &[1.0f64, 2.0, 3.0, 4.0],
        &[10.0, 100.0],
        &[1.0, -1.0],
        [1, 2, 2, 1],
    );
    assert_eq!(y, [-220.0]);
}

#[test]
fn separable_gradients_match_finite_differences() {
    check_separable("separable", 30, [2, 4, 7, 3]);
}

#[test]
fn separable_gradients_on_awkward_shapes_match_finite_differences() {
    check_separable("separable U=1 C=3 L=1", 31, [2, 3, 1, 1]);
    check_separable("separable N=1 U=1 C=5 L=9", 32, [1, 5, 9, 1]);
    check_separable("separable C=1 odd", 33, [3, 1, 5, 3]);
    check_separable("separable odd sizes", 34, [3, 5, 7, 3]);
}

// ---------------------------------------------------------------------------------------------
// dense

fn check_dense(name: &str, seed: u64, [n, i, o]: [usize; 3]) {
    let mut rng = StdRng::seed_from_u64(seed);
    let dims = shapes::dense_dims(&[n, i], &[o, i], &[o]).unwrap();
    let x = uniform(&mut rng, n * i);
    let w = uniform(&mut rng, o * i);
    let b = uniform(&mut rng, o);
    let r = uniform(&mut rng, n * o);
    let loss = |x: &[f64], w: &[f64], b: &[f64]| dot(&r, &k::dense(x, w, b, dims));
    let (dx, dw, db) = k::dense_backward(&x, &w, &r, dims, true);
    let dx = dx.expect("need_dx = true must return dx");
    assert_close_f64(
        &format!("{name} dx"),
        &dx,
        &numeric_grad(&x, |x| loss(x, &w, &b)),
    );
    assert_close_f64(
        &format!("{name} dw"),
        &dw,
        &numeric_grad(&w, |w| loss(&x, w, &b)),
    );
    assert_close_f64(
        &format!("{name} db"),
        &db,
        &numeric_grad(&b, |b| loss(&x, &w, b)),
    );
    let (no_dx, dw2, db2) = k::dense_backward(&x, &w, &r, dims, false);
    assert!(no_dx.is_none(), "{name}: need_dx = false must skip dx");
    assert_eq!(
        (dw2, db2),
        (dw, db),
        "{name}: dw, db must not depend on need_dx"
    );
}

#[test]
fn dense_forward_by_hand() {
    // [1, 2] . [3, 4] + 10 = 21, [1, 2] . [5, 6] + 20 = 37.
    let y = k::dense(
        &[1.0f64, 2.0],
        &[3.0, 4.0, 5.0, 6.0],
        &[10.0, 20.0],
        [1, 2, 2],
    );
    assert_eq!(y, [21.0, 37.0]);
}

#[test]
fn dense_gradients_match_finite_differences() {
    check_dense("dense", 40, [3, 5, 4]);
    check_dense("dense 1x1x1", 41, [1, 1, 1]);
    check_dense("dense one output", 42, [2, 7, 1]);
}

// ---------------------------------------------------------------------------------------------
// relu, sigmoid, dropout

#[test]
fn relu_gradient_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(50);
    let x = away_from_zero(&mut rng, 40);
    let r = uniform(&mut rng, 40);
    let y = k::relu(&x);
    for (yi, xi) in y.iter().zip(&x) {
        assert_eq!(*yi, xi.max(0.0));
    }
    let num = numeric_grad(&x, |x| dot(&r, &k::relu(x)));
    assert_close_f64("relu", &k::relu_backward(&x, &r), &num);
    // The gradient at exactly 0 is 0 (x > 0 strictly).
    assert_eq!(k::relu_backward(&[0.0f64], &[1.0]), [0.0]);
}

#[test]
fn sigmoid_gradient_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(51);
    let x: Vec<f64> = (0..40).map(|_| rng.random_range(-4.0..4.0)).collect();
    let r = uniform(&mut rng, 40);
    let y = k::sigmoid(&x);
    assert_close("sigmoid(0)", &k::sigmoid(&[0.0f64]), &[0.5], 0.0, 0.0);
    let num = numeric_grad(&x, |x| dot(&r, &k::sigmoid(x)));
    assert_close_f64("sigmoid", &k::sigmoid_backward(&y, &r), &num);
}

#[test]
fn dropout_gradient_is_the_forward_mask_scaled() {
    let mut rng = StdRng::seed_from_u64(52);
    let n = 200;
    for (rate, seed) in [(0.3f32, 7u32), (0.5, 8), (0.0, 9)] {
        let x = away_from_zero(&mut rng, n);
        let r = uniform(&mut rng, n);
        let scale = 1.0 / (1.0 - rate as f64);
        let y = k::dropout(&x, rate, seed);
        for i in 0..n {
            let keep = dropout_keep(seed, i as u32, rate);
            let expected = if keep { x[i] * scale } else { 0.0 };
            assert_eq!(y[i], expected, "dropout({rate}, {seed}) forward at {i}");
        }
        // The backward is the same mask and scale applied to dy ...
        let dx = k::dropout(&r, rate, seed);
        for i in 0..n {
            let keep = y[i] != 0.0;
            let expected = if keep { r[i] * scale } else { 0.0 };
            assert_eq!(dx[i], expected, "dropout({rate}, {seed}) backward at {i}");
        }
        // ... which is the derivative of the forward pass.
        let num = numeric_grad(&x, |x| dot(&r, &k::dropout(x, rate, seed)));
        assert_close_f64(&format!("dropout rate {rate}"), &dx, &num);
        // And the backend's dropout_backward agrees with it.
        let cpu = Cpu;
        let r32: Vec<f32> = r.iter().map(|&v| v as f32).collect();
        let dy = cpu.upload(&r32, &[n]).unwrap();
        let back = cpu.download(&cpu.dropout_backward(&dy, rate, seed).unwrap());
        assert_eq!(back.unwrap(), k::dropout(&r32, rate, seed));
    }
}

#[test]
fn dropout_at_rate_half_keeps_about_half_and_seeds_differ() {
    let n = 10_000;
    let ones = vec![1.0f64; n];
    let a = k::dropout(&ones, 0.5, 1234);
    let b = k::dropout(&ones, 0.5, 4321);
    let kept = a.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
    assert!(
        (0.47..=0.53).contains(&kept),
        "kept fraction {kept} at rate 0.5"
    );
    assert!(
        a.iter().all(|&v| v == 0.0 || v == 2.0),
        "kept values must be 2"
    );
    let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    // Independent masks disagree on about half the positions.
    assert!(
        differ > n * 2 / 5,
        "seeds 1234 and 4321 differ at only {differ} of {n} positions"
    );
    // The same seed gives the same mask.
    assert_eq!(a, k::dropout(&ones, 0.5, 1234));
}

#[test]
fn dropout_rejects_a_rate_outside_0_to_1() {
    let cpu = Cpu;
    let x = cpu.full(&[4], 1.0).unwrap();
    for rate in [1.0, -0.1, 1.5] {
        assert!(
            matches!(cpu.dropout(&x, rate, 0), Err(Error::InvalidArgument { .. })),
            "rate {rate}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// bce_with_logits

#[test]
fn bce_with_logits_gradient_matches_finite_differences_and_masked_entries_get_zero() {
    let mut rng = StdRng::seed_from_u64(60);
    let n = 12;
    let z: Vec<f64> = (0..n).map(|_| rng.random_range(-3.0..3.0)).collect();
    let mut t: Vec<f64> = (0..n)
        .map(|_| if rng.random_bool(0.5) { 1.0 } else { 0.0 })
        .collect();
    t[3] = 0.3; // a soft target
    let mask: Vec<f64> = (0..n)
        .map(|i| if [1, 5, 10].contains(&i) { 0.0 } else { 1.0 })
        .collect();
    let dloss = 0.7;
    let g = k::loss_backward(Loss::Bce, &z, &t, &mask, dloss);
    let num = numeric_grad(&z, |z| dloss * k::loss(Loss::Bce, z, &t, &mask));
    assert_close_f64("bce_with_logits", &g, &num);
    for i in [1, 5, 10] {
        assert_eq!(g[i], 0.0, "masked entry {i} must get no gradient");
    }
    // The mean is over the 9 unmasked entries.
    let by_hand: f64 = (0..n)
        .filter(|&i| mask[i] != 0.0)
        .map(|i| {
            let s = 1.0 / (1.0 + (-z[i]).exp());
            -(t[i] * s.ln() + (1.0 - t[i]) * (1.0 - s).ln())
        })
        .sum::<f64>()
        / 9.0;
    assert_close(
        "bce value",
        &[k::loss(Loss::Bce, &z, &t, &mask)],
        &[by_hand],
        1e-12,
        1e-14,
    );
}

#[test]
fn bce_with_logits_fully_masked_batch_gives_zero_loss_and_zero_grads() {
    let z = [0.3f64, -2.0, 5.0, 1.0];
    let t = [1.0f64, 0.0, 0.0, 1.0];
    let mask = [0.0f64; 4];
    assert_eq!(k::loss(Loss::Bce, &z, &t, &mask), 0.0);
    assert_eq!(k::loss_backward(Loss::Bce, &z, &t, &mask, 1.0), [0.0; 4]);
    let cpu = Cpu;
    let up = |v: &[f64]| {
        cpu.upload(&v.iter().map(|&x| x as f32).collect::<Vec<_>>(), &[2, 2])
            .unwrap()
    };
    let (zt, tt, mt) = (up(&z), up(&t), up(&mask));
    let loss = cpu.bce_with_logits(&zt, &tt, &mt).unwrap();
    assert_eq!(cpu.download(&loss).unwrap(), vec![0.0]);
    let one = cpu.full(&[1], 1.0).unwrap();
    let g = cpu.bce_with_logits_backward(&zt, &tt, &mt, &one).unwrap();
    assert_eq!(cpu.download(&g).unwrap(), vec![0.0; 4]);
}

#[test]
fn bce_with_logits_values_by_hand() {
    // z = 2, t = 1: -ln(sigmoid(2)) = ln(1 + e^-2). The masked entry must not count.
    let expected = (1.0 + (-2.0f64).exp()).ln();
    let loss = k::loss(Loss::Bce, &[2.0f64, 100.0], &[1.0, 0.0], &[1.0, 0.0]);
    assert_close("bce z=2 t=1", &[loss], &[expected], 1e-15, 0.0);
    // Its gradient: sigmoid(2) - 1.
    let g = k::loss_backward(Loss::Bce, &[2.0f64, 100.0], &[1.0, 0.0], &[1.0, 0.0], 1.0);
    let s = 1.0 / (1.0 + (-2.0f64).exp());
    assert_close("bce grad z=2 t=1", &g, &[s - 1.0, 0.0], 1e-15, 0.0);
    // Large logits stay finite: z = 50, t = 0 and z = -50, t = 1 both cost ~50.
    let loss = k::loss(Loss::Bce, &[50.0f64, -50.0], &[0.0, 1.0], &[1.0, 1.0]);
    assert_close("bce |z| = 50", &[loss], &[50.0], 1e-15, 0.0);
}

// ---------------------------------------------------------------------------------------------
// diff and mean

#[test]
fn diff_values_by_hand() {
    let x = [1.0f64, 4.0, 9.0, 16.0];
    assert_eq!(k::diff(&x, 1, 4, 1), [3.0, 5.0, 7.0]);
    assert_eq!(k::diff(&x, 1, 4, 2), [2.0, 2.0]);
    assert_eq!(k::diff_backward(&[1.0f64], 1, 3, 2), [1.0, -2.0, 1.0]);
    assert_eq!(
        k::diff_backward(&[1.0f64, 10.0], 1, 3, 1),
        [-1.0, -9.0, 10.0]
    );
}

#[test]
fn diff_backward_is_the_adjoint_and_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(70);
    for (rows, s, order) in [(3, 7, 1), (3, 7, 2), (2, 2, 1), (2, 3, 2), (1, 10, 2)] {
        let x = uniform(&mut rng, rows * s);
        let g = uniform(&mut rng, rows * (s - order));
        let lhs = dot(&k::diff(&x, rows, s, order), &g);
        let dx = k::diff_backward(&g, rows, s, order);
        let rhs = dot(&x, &dx);
        let name = format!("diff order {order} ({rows}, {s})");
        assert_close(&format!("{name} adjoint"), &[lhs], &[rhs], 1e-12, 1e-12);
        let num = numeric_grad(&x, |x| dot(&g, &k::diff(x, rows, s, order)));
        assert_close_f64(&name, &dx, &num);
    }
}

#[test]
fn mean_values_by_hand() {
    let x = [1.0f64, -2.0, 3.0];
    assert_close(
        "mean plain",
        &[k::mean(&x, Reduction::Plain)],
        &[2.0 / 3.0],
        1e-15,
        0.0,
    );
    assert_close(
        "mean abs",
        &[k::mean(&x, Reduction::Abs)],
        &[2.0],
        1e-15,
        0.0,
    );
    assert_close(
        "mean square",
        &[k::mean(&x, Reduction::Square)],
        &[14.0 / 3.0],
        1e-15,
        0.0,
    );
    // |x| has gradient 0 at 0.
    assert_eq!(
        k::mean_backward(&[0.0f64, 2.0], 1.0, Reduction::Abs),
        [0.0, 0.5]
    );
}

#[test]
fn mean_gradients_match_finite_differences() {
    let mut rng = StdRng::seed_from_u64(71);
    let x = away_from_zero(&mut rng, 15);
    let dy = 0.8;
    for kind in [Reduction::Plain, Reduction::Abs, Reduction::Square] {
        let g = k::mean_backward(&x, dy, kind);
        let num = numeric_grad(&x, |x| dy * k::mean(x, kind));
        assert_close_f64(&format!("mean {kind:?}"), &g, &num);
    }
}

// ---------------------------------------------------------------------------------------------
// curvature constraint

fn first_diffs(p: &[f64]) -> Vec<f64> {
    p.windows(2).map(|w| w[1] - w[0]).collect()
}

fn mean_of(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn curvature_constraint_worked_example() {
    // Row [0, 1, 0, 1, 0], max 0.5:
    //   first differences  [1, -1, 1, -1], mean 0;
    //   second differences [-2, 2, -2], clipped to [-0.5, 0.5, -0.5];
    //   first differences rebuilt as running sums [0, -0.5, 0, -0.5] (mean -0.25), shifted
    //     to mean 0: [0.25, -0.25, 0.25, -0.25];
    //   values rebuilt as running sums [0, 0.25, 0, 0.25, 0] (mean 0.1), shifted to the
    //     original mean 0.4: [0.3, 0.55, 0.3, 0.55, 0.3].
    let mut row = vec![0.0f64, 1.0, 0.0, 1.0, 0.0];
    k::curvature_constraint(&mut row, 1, 5, 0.5);
    assert_close(
        "curvature worked example",
        &row,
        &[0.3, 0.55, 0.3, 0.55, 0.3],
        0.0,
        1e-12,
    );
}

#[test]
fn curvature_constraint_is_a_no_op_within_the_bound() {
    let mut rng = StdRng::seed_from_u64(80);
    // Rows with |second difference| <= 0.02 by construction, bound 0.05.
    let (rows, s) = (3, 11);
    let mut p = Vec::new();
    for _ in 0..rows {
        let (mut v, mut d): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-0.3..0.3));
        for _ in 0..s {
            p.push(v);
            v += d;
            d += rng.random_range(-0.02..0.02);
        }
    }
    let before = p.clone();
    k::curvature_constraint(&mut p, rows, s, 0.05);
    assert_close("curvature no-op", &p, &before, 0.0, 1e-12);
    // Rows too short to have second differences are left alone.
    let mut short = vec![0.5f64, -3.0, 1.0, 7.0];
    k::curvature_constraint(&mut short, 2, 2, 0.0);
    assert_eq!(short, [0.5, -3.0, 1.0, 7.0]);
}

#[test]
fn curvature_constraint_clips_second_differences_and_preserves_means() {
    let mut rng = StdRng::seed_from_u64(81);
    let (rows, s, max) = (4, 9, 0.1f32);
    let before = uniform(&mut rng, rows * s);
    let mut after = before.clone();
    k::curvature_constraint(&mut after, rows, s, max);
    assert_ne!(after, before, "random rows with bound 0.1 must be clipped");
    for row in 0..rows {
        let (p0, p1) = (
            &before[row * s..(row + 1) * s],
            &after[row * s..(row + 1) * s],
        );
        let (d0, d1) = (first_diffs(p0), first_diffs(p1));
        assert_close(
            &format!("row {row} mean"),
            &[mean_of(p1)],
            &[mean_of(p0)],
            0.0,
            1e-12,
        );
        assert_close(
            &format!("row {row} mean of first differences"),
            &[mean_of(&d1)],
            &[mean_of(&d0)],
            0.0,
            1e-12,
        );
        let clipped: Vec<f64> = first_diffs(&d0)
            .iter()
            .map(|v| v.clamp(-max as f64, max as f64))
            .collect();
        assert_close(
            &format!("row {row} second differences"),
            &first_diffs(&d1),
            &clipped,
            0.0,
            1e-12,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// optimizer steps

#[test]
fn sgd_step_is_w_minus_lr_g() {
    let mut rng = StdRng::seed_from_u64(90);
    let w = uniform(&mut rng, 10);
    let g = uniform(&mut rng, 10);
    let lr = 0.05f32;
    let mut p = w.clone();
    k::sgd_step(&mut p, &g, lr);
    let expected: Vec<f64> = w.iter().zip(&g).map(|(w, g)| w - lr as f64 * g).collect();
    assert_close("sgd_step", &p, &expected, 1e-15, 0.0);
}

/// PyTorch's Adam, written out step by step for two steps from zero moments.
fn adam_two_steps_by_hand(w0: f64, g1: f64, g2: f64, h: AdamStep) -> (f64, f64, f64) {
    let (lr, b1, b2, eps, wd) = (
        h.lr as f64,
        h.beta1 as f64,
        h.beta2 as f64,
        h.eps as f64,
        h.weight_decay as f64,
    );
    // Step 1.
    let g = g1 + wd * w0;
    let m1 = (1.0 - b1) * g;
    let v1 = (1.0 - b2) * g * g;
    let w1 = w0 - lr * (m1 / (1.0 - b1)) / ((v1 / (1.0 - b2)).sqrt() + eps);
    // Step 2.
    let g = g2 + wd * w1;
    let m2 = b1 * m1 + (1.0 - b1) * g;
    let v2 = b2 * v1 + (1.0 - b2) * g * g;
    let w2 = w1 - lr * (m2 / (1.0 - b1 * b1)) / ((v2 / (1.0 - b2 * b2)).sqrt() + eps);
    (w2, m2, v2)
}

#[test]
fn adam_step_matches_pytorch_formulas_over_two_steps() {
    let mut rng = StdRng::seed_from_u64(91);
    for weight_decay in [0.0f32, 0.01] {
        let n = 8;
        let w0 = uniform(&mut rng, n);
        let g1 = uniform(&mut rng, n);
        let g2 = uniform(&mut rng, n);
        let hyper = |step| AdamStep {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            step,
        };
        let (mut p, mut m, mut v) = (w0.clone(), vec![0.0f64; n], vec![0.0f64; n]);
        k::adam_step(&mut p, &g1, &mut m, &mut v, hyper(1));
        if weight_decay == 0.0 {
            // The first bias-corrected step moves every weight by ~lr against its gradient.
            for i in 0..n {
                let moved = w0[i] - p[i];
                assert!(
                    (moved - 0.01f32 as f64 * g1[i].signum()).abs() < 1e-8,
                    "first Adam step moved weight {i} by {moved}"
                );
            }
        }
        k::adam_step(&mut p, &g2, &mut m, &mut v, hyper(2));
        for i in 0..n {
            let (w2, m2, v2) = adam_two_steps_by_hand(w0[i], g1[i], g2[i], hyper(2));
            let name = format!("adam wd={weight_decay} element {i}");
            assert_close(&name, &[p[i], m[i], v[i]], &[w2, m2, v2], 1e-13, 1e-16);
        }
    }
}

#[test]
fn adam_optimizer_on_cpu_matches_hand_unrolled_steps() {
    let cpu = Cpu;
    let w0 = [0.5f32, -1.0, 2.0];
    let (g1, g2) = ([0.1f32, -0.2, 0.3], [-0.4f32, 0.5, 0.05]);
    let mut params = vec![Parameter::<Cpu>::new(cpu.upload(&w0, &[3]).unwrap())];
    let mut adam = Adam::new(0.01);
    for g in [&g1, &g2] {
        let gt = cpu.upload(g, &[3]).unwrap();
        adam.step(&cpu, &mut params, &[Some(&gt)]).unwrap();
    }
    assert_eq!(adam.steps_taken(), 2);
    let got: Vec<f64> = cpu
        .download(&params[0].value)
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect();
    let hyper = AdamStep {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        step: 2,
    };
    let expected: Vec<f64> = (0..3)
        .map(|i| adam_two_steps_by_hand(w0[i] as f64, g1[i] as f64, g2[i] as f64, hyper).0)
        .collect();
    // f32 storage between the steps.
    assert_close("Adam optimizer", &got, &expected, 1e-6, 1e-7);
}

#[test]
fn sgd_optimizer_applies_the_curvature_constraint_after_the_step() {
    let cpu = Cpu;
    let mut p = Parameter::<Cpu>::new(cpu.upload(&[0.0, 1.0, 0.0, 1.0, 0.0], &[1, 5]).unwrap());
    p.constraint = Some(Constraint::Curvature { max: 0.5 });
    let zero = cpu.full(&[1, 5], 0.0).unwrap();
    Sgd { lr: 0.1 }
        .step(&cpu, std::slice::from_mut(&mut p), &[Some(&zero)])
        .unwrap();
    let got: Vec<f64> = cpu
        .download(&p.value)
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect();
    assert_close(
        "sgd + curvature",
        &got,
        &[0.3, 0.55, 0.3, 0.55, 0.3],
        0.0,
        1e-6,
    );
}

// ---------------------------------------------------------------------------------------------
// The autodiff tape on the CPU backend (f32)

/// Shapes of the small model's leaves: input, conv weight and bias (before the
/// reverse-complement expansion), half of the positional weights, channel weights, dense
/// weight and bias.
const MODEL_SHAPES: [&[usize]; 7] = [
    &[2, 4, 12],
    &[3, 4, 5],
    &[3],
    &[2, 2],
    &[2, 6],
    &[1, 2],
    &[1],
];
const MODEL_NAMES: [&str; 7] = ["x", "conv w", "conv b", "pos", "chan", "dense w", "dense b"];
const POOL: PoolSpec = PoolSpec { size: 2, stride: 2 };
/// Weight of the curvature regularizer, which makes the expanded positional weights fan out.
const REG: f32 = 0.1;
/// Logits reshaped to `(1, 2)`; the mask hides the second.
const TARGETS: [f32; 2] = [1.0, 0.0];
const MASK: [f32; 2] = [1.0, 0.0];

fn upload_all(cpu: &Cpu, p: &[Vec<f32>]) -> Vec<sepfc::backend::cpu::CpuTensor> {
    p.iter()
        .zip(MODEL_SHAPES)
        .map(|(v, s)| cpu.upload(v, s).unwrap())
        .collect()
}

/// The model's loss through plain backend calls, without the tape.
fn model_loss_direct(cpu: &Cpu, p: &[Vec<f32>]) -> f32 {
    let t = upload_all(cpu, p);
    let w = cpu.rc_expand(&t[1]).unwrap();
    let b = cpu.rc_expand(&t[2]).unwrap();
    let h = cpu.conv1d(&t[0], &w, &b, Conv1dSpec::valid(1)).unwrap();
    let h = cpu.relu(&h).unwrap();
    let h = cpu.maxpool1d(&h, POOL).unwrap();
    let pos = cpu.mirror_expand(&t[3], 4).unwrap();
    let s = cpu.separable(&h, &pos, &t[4]).unwrap();
    let z = cpu.dense(&s, &t[5], &t[6]).unwrap();
    let z = cpu.reshape(&z, &[1, 2]).unwrap();
    let targets = cpu.upload(&TARGETS, &[1, 2]).unwrap();
    let mask = cpu.upload(&MASK, &[1, 2]).unwrap();
    let bce = cpu.bce_with_logits(&z, &targets, &mask).unwrap();
    let reg = cpu
        .mean(&cpu.diff(&pos, 2).unwrap(), Reduction::Square)
        .unwrap();
    cpu.download(&bce).unwrap()[0] + REG * cpu.download(&reg).unwrap()[0]
}

/// The model's loss and leaf gradients through the tape; the input is a parameter when
/// `x_is_param`, else data.
fn model_on_tape(cpu: &Cpu, p: &[Vec<f32>], x_is_param: bool) -> (f32, Vec<Option<Vec<f32>>>) {
    let t = upload_all(cpu, p);
    let mut tape = Tape::new(cpu);
    let mut leaves = Vec::new();
    for (i, ti) in t.into_iter().enumerate() {
        leaves.push(if i == 0 && !x_is_param {
            tape.input(ti)
        } else {
            tape.param(ti)
        });
    }
    let w = tape.rc_expand(leaves[1]).unwrap();
    let b = tape.rc_expand(leaves[2]).unwrap();
    let h = tape.conv1d(leaves[0], w, b, Conv1dSpec::valid(1)).unwrap();
    let h = tape.relu(h).unwrap();
    let h = tape.maxpool1d(h, POOL).unwrap();
    let pos = tape.mirror_expand(leaves[3], 4).unwrap();
    let s = tape.separable(h, pos, leaves[4]).unwrap();
    let z = tape.dense(s, leaves[5], leaves[6]).unwrap();
    let z = tape.reshape(z, &[1, 2]).unwrap();
    let targets = cpu.upload(&TARGETS, &[1, 2]).unwrap();
    let mask = cpu.upload(&MASK, &[1, 2]).unwrap();
    let bce = tape.bce_with_logits(z, &targets, &mask).unwrap();
    let curv = tape.diff(pos, 2).unwrap();
    let reg = tape.mean(curv, Reduction::Square).unwrap();
    let reg = tape.scale(reg, REG).unwrap();
    let loss = tape.add(bce, reg).unwrap();
    let value = cpu.download(tape.value(loss)).unwrap()[0];
    let grads = tape.backward(loss).unwrap();
    let out = leaves
        .iter()
        .map(|&v| grads.get(v).map(|g| cpu.download(g).unwrap()))
        .collect();
    (value, out)
}

/// How far the model's kinks are from the parameters: the smallest |pre-activation| and the
/// smallest gap between the two relu outputs of a pooling window whose maximum is positive.
fn kink_margin(cpu: &Cpu, p: &[Vec<f32>]) -> f32 {
    let t = upload_all(cpu, p);
    let w = cpu.rc_expand(&t[1]).unwrap();
    let b = cpu.rc_expand(&t[2]).unwrap();
    let a = cpu
        .download(&cpu.conv1d(&t[0], &w, &b, Conv1dSpec::valid(1)).unwrap())
        .unwrap();
    let mut margin = a.iter().fold(f32::INFINITY, |m, v| m.min(v.abs()));
    for pair in a.chunks(2) {
        let (r0, r1) = (pair[0].max(0.0), pair[1].max(0.0));
        if r0.max(r1) > 0.0 {
            margin = margin.min((r0 - r1).abs() / 2.0);
        }
    }
    margin
}

#[test]
fn tape_gradients_of_a_small_model_match_finite_differences() {
    let cpu = Cpu;
    // Finite differences with h = 1e-2 change any pre-activation by at most 1e-2 (all
    // values are in [-1, 1]); pick the first seed whose kinks (relu at 0, pooling ties) are
    // farther than that, so the loss is smooth over every step.
    let h = 1e-2f32;
    let params = (0u64..)
        .map(|seed| {
            let mut rng = StdRng::seed_from_u64(1000 + seed);
            MODEL_SHAPES
                .iter()
                .map(|s| {
                    (0..s.iter().product::<usize>())
                        .map(|_| rng.random_range(-1.0f32..1.0))
                        .collect::<Vec<f32>>()
                })
                .collect::<Vec<_>>()
        })
        .take(10_000)
        .find(|p| kink_margin(&cpu, p) > 1.5 * h)
        .expect("some seed keeps the kinks away");

    let (value, grads) = model_on_tape(&cpu, &params, true);
    let direct = model_loss_direct(&cpu, &params);
    assert!(
        (value - direct).abs() <= 1e-6 * direct.abs(),
        "tape loss {value} vs direct {direct}"
    );
    for (i, name) in MODEL_NAMES.iter().enumerate() {
        let analytic = grads[i]
            .as_ref()
            .unwrap_or_else(|| panic!("no gradient for {name}"));
        assert_eq!(analytic.len(), params[i].len(), "{name}: gradient length");
        let mut p = params.clone();
        let numeric: Vec<f64> = (0..params[i].len())
            .map(|j| {
                p[i][j] = params[i][j] + h;
                let plus = model_loss_direct(&cpu, &p) as f64;
                p[i][j] = params[i][j] - h;
                let minus = model_loss_direct(&cpu, &p) as f64;
                p[i][j] = params[i][j];
                (plus - minus) / (2.0 * h as f64)
            })
            .collect();
        let analytic: Vec<f64> = analytic.iter().map(|&v| v as f64).collect();
        assert_close(&format!("tape {name}"), &analytic, &numeric, 2e-2, 2e-3);
        assert!(
            analytic.iter().any(|&v| v != 0.0),
            "{name}: an all-zero gradient checks nothing"
        );
    }
    // The masked sample contributes nothing: the second sample's input gradient is zero.
    let dx = grads[0].as_ref().unwrap();
    assert!(
        dx[48..].iter().all(|&v| v == 0.0),
        "masked sample got input gradient"
    );

    // With the input recorded as data it gets no gradient and the others are unchanged.
    let (value2, grads2) = model_on_tape(&cpu, &params, false);
    assert_eq!(value2, value);
    assert!(grads2[0].is_none(), "tape.input must get no gradient");
    assert_eq!(&grads2[1..], &grads[1..]);
}

#[test]
fn tape_accumulates_gradients_of_a_var_used_twice() {
    let cpu = Cpu;
    let w0 = [1.0f32, -2.0, 3.0, 0.5];
    let single = {
        let mut tape = Tape::new(&cpu);
        let w = tape.param(cpu.upload(&w0, &[2, 2]).unwrap());
        let a = tape.mean(w, Reduction::Square).unwrap();
        let g = tape.backward(a).unwrap();
        cpu.download(g.get(w).unwrap()).unwrap()
    };
    let expected: Vec<f32> = w0.iter().map(|v| 2.0 * v / 4.0).collect();
    assert_eq!(single, expected, "d mean(w^2) / dw = 2 w / n");
    let twice: Vec<f32> = single.iter().map(|v| 2.0 * v).collect();

    // The same Var on both sides of one add.
    let mut tape = Tape::new(&cpu);
    let w = tape.param(cpu.upload(&w0, &[2, 2]).unwrap());
    let a = tape.mean(w, Reduction::Square).unwrap();
    let loss = tape.add(a, a).unwrap();
    let g = tape.backward(loss).unwrap();
    assert_eq!(cpu.download(g.get(w).unwrap()).unwrap(), twice, "add(a, a)");

    // One parameter feeding two ops.
    let mut tape = Tape::new(&cpu);
    let w = tape.param(cpu.upload(&w0, &[2, 2]).unwrap());
    let a = tape.mean(w, Reduction::Square).unwrap();
    let b = tape.mean(w, Reduction::Square).unwrap();
    let loss = tape.add(a, b).unwrap();
    let g = tape.backward(loss).unwrap();
    assert_eq!(
        cpu.download(g.get(w).unwrap()).unwrap(),
        twice,
        "two means of w"
    );
}

#[test]
fn ops_on_shapes_that_do_not_fit_return_shape_errors() {
    let cpu = Cpu;
    let up = |shape: &[usize]| cpu.full(shape, 0.5).unwrap();
    let is_shape = |r: &sepfc::Result<_>| matches!(r, Err(Error::Shape { .. }));

    // conv1d: input has 4 channels, weight expects 5.
    let (x, w, b) = (up(&[2, 4, 12]), up(&[3, 5, 5]), up(&[3]));
    assert!(is_shape(
        &cpu.conv1d(&x, &w, &b, Conv1dSpec::valid(1)).map(|_| ())
    ));
    let dy = up(&[2, 3, 8]);
    assert!(is_shape(
        &cpu.conv1d_backward(&x, &w, &dy, Conv1dSpec::valid(1), true)
            .map(|_| ())
    ));
    // conv1d: a correct weight but a wrongly shaped dy.
    let w_ok = up(&[3, 4, 5]);
    let dy_bad = up(&[2, 3, 9]);
    assert!(is_shape(
        &cpu.conv1d_backward(&x, &w_ok, &dy_bad, Conv1dSpec::valid(1), true)
            .map(|_| ())
    ));

    // separable: input length 4, positional weights of length 5.
    let (xs, pos, chan) = (up(&[2, 6, 4]), up(&[2, 5]), up(&[2, 6]));
    assert!(is_shape(&cpu.separable(&xs, &pos, &chan).map(|_| ())));

    // dense: 3 input features, weight expects 2.
    let (xd, wd, bd) = (up(&[2, 3]), up(&[1, 2]), up(&[1]));
    assert!(is_shape(&cpu.dense(&xd, &wd, &bd).map(|_| ())));

    // The same through the tape: errors, not panics.
    let mut tape = Tape::new(&cpu);
    let (tx, tw, tb) = (tape.input(x), tape.param(w), tape.param(b));
    assert!(is_shape(
        &tape.conv1d(tx, tw, tb, Conv1dSpec::valid(1)).map(|_| ())
    ));
    let (sx, sp, sc) = (tape.input(xs), tape.param(pos), tape.param(chan));
    assert!(is_shape(&tape.separable(sx, sp, sc).map(|_| ())));
    let (dx, dw, db) = (tape.input(xd), tape.param(wd), tape.param(bd));
    assert!(is_shape(&tape.dense(dx, dw, db).map(|_| ())));
    // mirror_expand needs ceil(n / 2) stored values; rc_fold needs an even number of rows.
    let v = tape.param(up(&[2, 3]));
    assert!(is_shape(&tape.mirror_expand(v, 4).map(|_| ())));
    assert!(is_shape(&cpu.rc_fold(&up(&[3, 4, 5])).map(|_| ())));
}

#[test]
fn curvature_bound_that_is_negative_or_nan_is_an_error() {
    let mut pos = Cpu.upload(&[0.0, 1.0, 0.0, 1.0], &[1, 4]).unwrap();
    for max in [-0.1, f32::NAN, f32::INFINITY] {
        assert!(
            matches!(
                Cpu.curvature_constraint(&mut pos, max),
                Err(Error::InvalidArgument { .. })
            ),
            "bound {max} was accepted"
        );
    }
}

#[test]
fn adam_step_zero_is_an_error_not_nan() {
    let mut p = Cpu.upload(&[1.0], &[1]).unwrap();
    let g = Cpu.upload(&[0.5], &[1]).unwrap();
    let (mut m, mut v) = (Cpu.full(&[1], 0.0).unwrap(), Cpu.full(&[1], 0.0).unwrap());
    let hyper = AdamStep {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        step: 0,
    };
    let result = Cpu.adam_step(&mut p, &g, &mut m, &mut v, hyper);
    assert!(
        matches!(result, Err(Error::InvalidArgument { .. })),
        "{result:?}"
    );
    assert_eq!(
        Cpu.download(&p).unwrap(),
        vec![1.0],
        "a rejected step changed the weight"
    );
}

#[test]
fn fused_conv_relu_on_the_tape_matches_conv_then_relu() {
    let cpu = Cpu;
    let mut rng = StdRng::seed_from_u64(91);
    let mut random =
        |len: usize| -> Vec<f32> { (0..len).map(|_| rng.random_range(-1.0..1.0)).collect() };
    let (x, w, b) = (random(3 * 4 * 12), random(5 * 4 * 3), random(5));
    let spec = Conv1dSpec::same(3, 1);
    // loss = mean(relu(conv1d(x, w, b))), once fused and once as two ops: the gradient is
    // masked where the relu clamps
    let run = |fused: bool| {
        let mut tape = Tape::new(&cpu);
        let xv = tape.param(cpu.upload(&x, &[3, 4, 12]).unwrap());
        let wv = tape.param(cpu.upload(&w, &[5, 4, 3]).unwrap());
        let bv = tape.param(cpu.upload(&b, &[5]).unwrap());
        let y = if fused {
            tape.conv1d_relu(xv, wv, bv, spec).unwrap()
        } else {
            let z = tape.conv1d(xv, wv, bv, spec).unwrap();
            tape.relu(z).unwrap()
        };
        let loss = tape.mean(y, Reduction::Plain).unwrap();
        let value = cpu.download(tape.value(y)).unwrap();
        let grads = tape.backward(loss).unwrap();
        let get = |v| cpu.download(grads.get(v).unwrap()).unwrap();
        (value, get(xv), get(wv), get(bv))
    };
    let (fused, plain) = (run(true), run(false));
    assert!(fused.0.contains(&0.0), "relu clamped nothing");
    assert_eq!(fused, plain);
}
