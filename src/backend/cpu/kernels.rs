//! The reference kernels: plain loops over slices, accumulating in f64, generic over the
//! element type so that gradient checks can run them in f64.
//!
//! Every function takes sizes that [`shapes`](crate::backend::shapes) has already checked.
//! Layouts are row-major: `x[n][c][l]` is `x[(n * C + c) * L + l]`.

use crate::backend::shapes::{
    ConvDims, DEEPLIFT_EPS, Nonlinearity, PoolSpec, Reduction, dropout_keep,
};
use crate::backend::{AdamStep, Conv1dSpec, Loss};

/// An element type of the reference kernels.
pub trait Real: Copy + Default + PartialOrd + std::fmt::Debug + Send + Sync + 'static {
    /// Widens to f64.
    fn to_f64(self) -> f64;
    /// Narrows from f64 (rounding to nearest).
    fn from_f64(v: f64) -> Self;
}

impl Real for f32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Real for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}

fn r<T: Real>(v: f64) -> T {
    T::from_f64(v)
}

/// The input position read by output position `lo` and tap `k`, if inside the input.
fn conv_source(lo: usize, k: usize, spec: Conv1dSpec, l: usize) -> Option<usize> {
    (lo + k * spec.dilation)
        .checked_sub(spec.pad_left)
        .filter(|&p| p < l)
}

/// `y[n,f,lo] = b[f] + sum_c sum_k w[f,c,k] x[n,c,lo + k*dil - pad_left]`.
pub fn conv1d<T: Real>(x: &[T], w: &[T], b: &[T], d: ConvDims, spec: Conv1dSpec) -> Vec<T> {
    let mut y = vec![T::default(); d.n * d.f * d.l_out];
    for n in 0..d.n {
        for f in 0..d.f {
            for lo in 0..d.l_out {
                let mut acc = b[f].to_f64();
                for c in 0..d.c {
                    for k in 0..d.k {
                        if let Some(p) = conv_source(lo, k, spec, d.l) {
                            acc += w[(f * d.c + c) * d.k + k].to_f64()
                                * x[(n * d.c + c) * d.l + p].to_f64();
                        }
                    }
                }
                y[(n * d.f + f) * d.l_out + lo] = r(acc);
            }
        }
    }
    y
}

/// Gradients of [`conv1d`]: `(dx if need_dx, dw, db)`.
pub fn conv1d_backward<T: Real>(
    x: &[T],
    w: &[T],
    dy: &[T],
    d: ConvDims,
    spec: Conv1dSpec,
    need_dx: bool,
) -> (Option<Vec<T>>, Vec<T>, Vec<T>) {
    let mut dx = vec![0.0f64; if need_dx { d.n * d.c * d.l } else { 0 }];
    let mut dw = vec![0.0f64; d.f * d.c * d.k];
    let mut db = vec![0.0f64; d.f];
    for n in 0..d.n {
        for f in 0..d.f {
            for lo in 0..d.l_out {
                let g = dy[(n * d.f + f) * d.l_out + lo].to_f64();
                db[f] += g;
                for c in 0..d.c {
                    for k in 0..d.k {
                        if let Some(p) = conv_source(lo, k, spec, d.l) {
                            let wi = (f * d.c + c) * d.k + k;
                            let xi = (n * d.c + c) * d.l + p;
                            dw[wi] += g * x[xi].to_f64();
                            if need_dx {
                                dx[xi] += g * w[wi].to_f64();
                            }
                        }
                    }
                }
            }
        }
    }
    let narrow = |v: Vec<f64>| v.into_iter().map(r).collect::<Vec<T>>();
    (need_dx.then(|| narrow(dx)), narrow(dw), narrow(db))
}

/// `(F, inner)` -> `(2F, inner)`: row `F + j` is row `F - 1 - j` reversed. For a weight
/// `(F, C, K)` reversing the flattened `(C, K)` block flips both channels and width.
pub fn rc_expand<T: Real>(w: &[T], rows: usize, inner: usize) -> Vec<T> {
    let mut out = w.to_vec();
    for j in 0..rows {
        let src = &w[(rows - 1 - j) * inner..(rows - j) * inner];
        out.extend(src.iter().rev());
    }
    out
}

/// Adjoint of [`rc_expand`]: `(2F, inner)` -> `(F, inner)`.
pub fn rc_fold<T: Real>(g: &[T], rows2: usize, inner: usize) -> Vec<T> {
    let rows = rows2 / 2;
    let mut out = Vec::with_capacity(rows * inner);
    for j in 0..rows {
        let mirror = 2 * rows - 1 - j;
        for i in 0..inner {
            let a = g[j * inner + i].to_f64();
            let b = g[mirror * inner + inner - 1 - i].to_f64();
            out.push(r(a + b));
        }
    }
    out
}

/// `(R, ceil(n/2))` -> `(R, n)` with `out[r,i] = v[r, min(i, n-1-i)]`.
pub fn mirror_expand<T: Real>(v: &[T], rows: usize, n: usize) -> Vec<T> {
    let s = n.div_ceil(2);
    let mut out = Vec::with_capacity(rows * n);
    for row in 0..rows {
        out.extend((0..n).map(|i| v[row * s + i.min(n - 1 - i)]));
    }
    out
}

/// Adjoint of [`mirror_expand`]: `(R, n)` -> `(R, ceil(n/2))`.
pub fn mirror_fold<T: Real>(g: &[T], rows: usize, n: usize) -> Vec<T> {
    let s = n.div_ceil(2);
    let mut out = vec![0.0f64; rows * s];
    for row in 0..rows {
        for i in 0..n {
            out[row * s + i.min(n - 1 - i)] += g[row * n + i].to_f64();
        }
    }
    out.into_iter().map(r).collect()
}

/// Index in `row` of the first maximum of window `o`.
pub(super) fn window_argmax<T: Real>(row: &[T], o: usize, spec: PoolSpec) -> usize {
    let start = o * spec.stride;
    let window = &row[start..start + spec.size];
    let (mut best, mut best_value) = (0, window[0]);
    for (i, &v) in window.iter().enumerate().skip(1) {
        if v > best_value {
            (best, best_value) = (i, v);
        }
    }
    start + best
}

/// Max pooling of `(rows, l)` into `(rows, l_out)`.
pub fn maxpool1d<T: Real>(x: &[T], rows: usize, l: usize, l_out: usize, spec: PoolSpec) -> Vec<T> {
    let mut y = Vec::with_capacity(rows * l_out);
    for row in x.chunks(l).take(rows) {
        y.extend((0..l_out).map(|o| row[window_argmax(row, o, spec)]));
    }
    y
}

/// Gradient of [`maxpool1d`]: each window's gradient added at its first maximum.
pub fn maxpool1d_backward<T: Real>(
    x: &[T],
    dy: &[T],
    rows: usize,
    l: usize,
    l_out: usize,
    spec: PoolSpec,
) -> Vec<T> {
    let mut dx = vec![0.0f64; rows * l];
    for row in 0..rows {
        let xr = &x[row * l..(row + 1) * l];
        for o in 0..l_out {
            dx[row * l + window_argmax(xr, o, spec)] += dy[row * l_out + o].to_f64();
        }
    }
    dx.into_iter().map(r).collect()
}

/// DeepLIFT's rescale multipliers through `nonlinearity`
/// ([`Backend::deeplift_rescale`](crate::backend::Backend::deeplift_rescale)): `x`, `y`, `dy`
/// hold `2 * half` values, the inputs' then the references'.
pub fn deeplift_rescale<T: Real>(
    x: &[T],
    y: &[T],
    dy: &[T],
    nonlinearity: Nonlinearity,
    half: usize,
) -> Vec<T> {
    let mut dx = vec![T::default(); 2 * half];
    for i in 0..half {
        let (xi, xr) = (x[i].to_f64(), x[half + i].to_f64());
        let delta = xi - xr;
        let slope = if delta.abs() < DEEPLIFT_EPS {
            match nonlinearity {
                Nonlinearity::Relu => f64::from(u8::from(xi > 0.0)),
                Nonlinearity::Sigmoid => {
                    let s = y[i].to_f64();
                    s * (1.0 - s)
                }
            }
        } else {
            (y[i].to_f64() - y[half + i].to_f64()) / delta
        };
        dx[i] = r(dy[i].to_f64() * slope);
    }
    dx
}

/// DeepLIFT's multipliers through max pooling
/// ([`Backend::deeplift_maxpool1d`](crate::backend::Backend::deeplift_maxpool1d)):
/// `x (2 * rows, l)`, `y` and `dy (2 * rows, l_out)`, the inputs' rows then the references'.
pub fn deeplift_maxpool1d<T: Real>(
    x: &[T],
    y: &[T],
    dy: &[T],
    rows: usize,
    l: usize,
    l_out: usize,
    spec: PoolSpec,
) -> Vec<T> {
    let mut received = vec![0.0f64; rows * l];
    let mut gradient = vec![0.0f64; rows * l];
    for row in 0..rows {
        let (xi, xr) = (
            &x[row * l..(row + 1) * l],
            &x[(rows + row) * l..(rows + row + 1) * l],
        );
        for o in 0..l_out {
            let (yi, yr) = (
                y[row * l_out + o].to_f64(),
                y[(rows + row) * l_out + o].to_f64(),
            );
            let g = dy[row * l_out + o].to_f64();
            let m = yi.max(yr);
            let at_input = row * l + window_argmax(xi, o, spec);
            received[at_input] += g * (m - yr);
            received[row * l + window_argmax(xr, o, spec)] += g * (yi - m);
            gradient[at_input] += g;
        }
    }
    let mut dx = vec![T::default(); 2 * rows * l];
    for i in 0..rows * l {
        let delta = x[i].to_f64() - x[rows * l + i].to_f64();
        dx[i] = r(if delta.abs() < DEEPLIFT_EPS {
            gradient[i]
        } else {
            received[i] / delta
        });
    }
    dx
}

/// `y[n,u] = sum_l pos[u,l] sum_c chan[u,c] x[n,c,l]`, dims `[N, C, L, U]`.
pub fn separable<T: Real>(x: &[T], pos: &[T], chan: &[T], dims: [usize; 4]) -> Vec<T> {
    let [n_, c_, l_, u_] = dims;
    let mut y = Vec::with_capacity(n_ * u_);
    for n in 0..n_ {
        for u in 0..u_ {
            let mut acc = 0.0;
            for l in 0..l_ {
                let mut z = 0.0;
                for c in 0..c_ {
                    z += chan[u * c_ + c].to_f64() * x[(n * c_ + c) * l_ + l].to_f64();
                }
                acc += pos[u * l_ + l].to_f64() * z;
            }
            y.push(r(acc));
        }
    }
    y
}

/// Gradients of [`separable`] in factorised form: `(dx if need_dx, dpos, dchan)`.
///
/// `dpos[u,l] = sum_n dy[n,u] sum_c chan[u,c] x[n,c,l]`,
/// `dchan[u,c] = sum_n dy[n,u] sum_l pos[u,l] x[n,c,l]`,
/// `dx[n,c,l] = sum_u dy[n,u] pos[u,l] chan[u,c]`.
pub fn separable_backward<T: Real>(
    x: &[T],
    pos: &[T],
    chan: &[T],
    dy: &[T],
    dims: [usize; 4],
    need_dx: bool,
) -> (Option<Vec<T>>, Vec<T>, Vec<T>) {
    let [n_, c_, l_, u_] = dims;
    let xv = |n: usize, c: usize, l: usize| x[(n * c_ + c) * l_ + l].to_f64();
    let mut dpos = vec![0.0f64; u_ * l_];
    let mut dchan = vec![0.0f64; u_ * c_];
    let mut dx = vec![0.0f64; if need_dx { n_ * c_ * l_ } else { 0 }];
    for n in 0..n_ {
        for u in 0..u_ {
            let g = dy[n * u_ + u].to_f64();
            for l in 0..l_ {
                let z: f64 = (0..c_)
                    .map(|c| chan[u * c_ + c].to_f64() * xv(n, c, l))
                    .sum();
                dpos[u * l_ + l] += g * z;
            }
            for c in 0..c_ {
                let s: f64 = (0..l_)
                    .map(|l| pos[u * l_ + l].to_f64() * xv(n, c, l))
                    .sum();
                dchan[u * c_ + c] += g * s;
            }
            if need_dx {
                for c in 0..c_ {
                    for l in 0..l_ {
                        dx[(n * c_ + c) * l_ + l] +=
                            g * pos[u * l_ + l].to_f64() * chan[u * c_ + c].to_f64();
                    }
                }
            }
        }
    }
    let narrow = |v: Vec<f64>| v.into_iter().map(r).collect::<Vec<T>>();
    (need_dx.then(|| narrow(dx)), narrow(dpos), narrow(dchan))
}

/// `y = x w^T + b`, dims `[N, I, O]`.
pub fn dense<T: Real>(x: &[T], w: &[T], b: &[T], dims: [usize; 3]) -> Vec<T> {
    let [n_, i_, o_] = dims;
    let mut y = Vec::with_capacity(n_ * o_);
    for n in 0..n_ {
        for o in 0..o_ {
            let dot: f64 = (0..i_)
                .map(|i| x[n * i_ + i].to_f64() * w[o * i_ + i].to_f64())
                .sum();
            y.push(r(dot + b[o].to_f64()));
        }
    }
    y
}

/// Gradients of [`dense`]: `(dx if need_dx, dw, db)`.
pub fn dense_backward<T: Real>(
    x: &[T],
    w: &[T],
    dy: &[T],
    dims: [usize; 3],
    need_dx: bool,
) -> (Option<Vec<T>>, Vec<T>, Vec<T>) {
    let [n_, i_, o_] = dims;
    let g = |n: usize, o: usize| dy[n * o_ + o].to_f64();
    let dx = need_dx.then(|| dense_input_grad(w, dy, dims));
    let mut dw = Vec::with_capacity(o_ * i_);
    for o in 0..o_ {
        for i in 0..i_ {
            dw.push(r((0..n_).map(|n| g(n, o) * x[n * i_ + i].to_f64()).sum()));
        }
    }
    let db = (0..o_).map(|o| r((0..n_).map(|n| g(n, o)).sum())).collect();
    (dx, dw, db)
}

/// The `dx` of [`dense_backward`] alone: `dx[n, i] = sum_o dy[n, o] w[o, i]`.
pub fn dense_input_grad<T: Real>(w: &[T], dy: &[T], dims: [usize; 3]) -> Vec<T> {
    let [n_, i_, o_] = dims;
    let mut dx = Vec::with_capacity(n_ * i_);
    for n in 0..n_ {
        for i in 0..i_ {
            let terms = (0..o_).map(|o| dy[n * o_ + o].to_f64() * w[o * i_ + i].to_f64());
            dx.push(r(terms.sum()));
        }
    }
    dx
}

/// `max(x, 0)`.
pub fn relu<T: Real>(x: &[T]) -> Vec<T> {
    x.iter().map(|&v| r(v.to_f64().max(0.0))).collect()
}

/// `dy` where `x > 0`, else 0.
pub fn relu_backward<T: Real>(x: &[T], dy: &[T]) -> Vec<T> {
    x.iter()
        .zip(dy)
        .map(|(&v, &g)| if v.to_f64() > 0.0 { g } else { T::default() })
        .collect()
}

fn sigmoid_f64(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// `1 / (1 + exp(-x))`.
pub fn sigmoid<T: Real>(x: &[T]) -> Vec<T> {
    x.iter().map(|&v| r(sigmoid_f64(v.to_f64()))).collect()
}

/// `dy * y * (1 - y)`.
pub fn sigmoid_backward<T: Real>(y: &[T], dy: &[T]) -> Vec<T> {
    y.iter()
        .zip(dy)
        .map(|(&s, &g)| {
            let s = s.to_f64();
            r(g.to_f64() * s * (1.0 - s))
        })
        .collect()
}

/// Inverted dropout with the shared mask of [`dropout_keep`]; also its own backward.
pub fn dropout<T: Real>(x: &[T], rate: f32, seed: u32) -> Vec<T> {
    let scale = 1.0 / (1.0 - rate as f64);
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            if dropout_keep(seed, i as u32, rate) {
                r(v.to_f64() * scale)
            } else {
                T::default()
            }
        })
        .collect()
}

/// One entry's term of the loss `kind` (see [`Loss`]); binary cross-entropy in its
/// numerically stable form.
fn loss_term(kind: Loss, z: f64, t: f64) -> f64 {
    match kind {
        Loss::Bce => z.max(0.0) - z * t + (-z.abs()).exp().ln_1p(),
        Loss::Mse => (z - t) * (z - t),
        Loss::Poisson => z.exp() - t * z,
    }
}

/// The derivative of [`loss_term`] by `z`.
fn loss_term_gradient(kind: Loss, z: f64, t: f64) -> f64 {
    match kind {
        Loss::Bce => sigmoid_f64(z) - t,
        Loss::Mse => 2.0 * (z - t),
        Loss::Poisson => z.exp() - t,
    }
}

/// Mean of the loss `kind` over entries with non-zero `mask`; 0 if none.
pub fn loss<T: Real>(kind: Loss, z: &[T], t: &[T], mask: &[T]) -> T {
    let mut sum = 0.0;
    let mut count = 0.0;
    for i in 0..z.len() {
        if mask[i].to_f64() != 0.0 {
            sum += loss_term(kind, z[i].to_f64(), t[i].to_f64());
            count += 1.0;
        }
    }
    r(if count > 0.0 { sum / count } else { 0.0 })
}

/// Gradient of [`loss`]: `dloss * mask * term'(z, t) / count`.
pub fn loss_backward<T: Real>(kind: Loss, z: &[T], t: &[T], mask: &[T], dloss: T) -> Vec<T> {
    let count = mask.iter().filter(|m| m.to_f64() != 0.0).count().max(1) as f64;
    let scale = dloss.to_f64() / count;
    (0..z.len())
        .map(|i| {
            if mask[i].to_f64() != 0.0 {
                r(scale * loss_term_gradient(kind, z[i].to_f64(), t[i].to_f64()))
            } else {
                T::default()
            }
        })
        .collect()
}

/// Differences of order 1 or 2 along rows of length `s`.
pub fn diff<T: Real>(x: &[T], rows: usize, s: usize, order: usize) -> Vec<T> {
    let mut y = Vec::with_capacity(rows * (s - order));
    for row in x.chunks(s).take(rows) {
        for i in 0..s - order {
            let v = if order == 1 {
                row[i + 1].to_f64() - row[i].to_f64()
            } else {
                row[i + 2].to_f64() - 2.0 * row[i + 1].to_f64() + row[i].to_f64()
            };
            y.push(r(v));
        }
    }
    y
}

/// Adjoint of [`diff`]: rows of length `s - order` back to length `s`.
pub fn diff_backward<T: Real>(dy: &[T], rows: usize, s: usize, order: usize) -> Vec<T> {
    let m = s - order;
    let mut dx = vec![0.0f64; rows * s];
    for row in 0..rows {
        for i in 0..m {
            let g = dy[row * m + i].to_f64();
            let base = row * s + i;
            if order == 1 {
                dx[base + 1] += g;
                dx[base] -= g;
            } else {
                dx[base + 2] += g;
                dx[base + 1] -= 2.0 * g;
                dx[base] += g;
            }
        }
    }
    dx.into_iter().map(r).collect()
}

/// Mean of `f(x)` over all elements, `f` chosen by `kind`.
pub fn mean<T: Real>(x: &[T], kind: Reduction) -> T {
    let sum: f64 = x
        .iter()
        .map(|&v| {
            let v = v.to_f64();
            match kind {
                Reduction::Plain => v,
                Reduction::Abs => v.abs(),
                Reduction::Square => v * v,
            }
        })
        .sum();
    r(sum / x.len().max(1) as f64)
}

/// Gradient of [`mean`] given the scalar upstream gradient.
pub fn mean_backward<T: Real>(x: &[T], dy: T, kind: Reduction) -> Vec<T> {
    let scale = dy.to_f64() / x.len().max(1) as f64;
    x.iter()
        .map(|&v| {
            let v = v.to_f64();
            let slope = match kind {
                Reduction::Plain => 1.0,
                Reduction::Abs => {
                    if v > 0.0 {
                        1.0
                    } else if v < 0.0 {
                        -1.0
                    } else {
                        0.0
                    }
                }
                Reduction::Square => 2.0 * v,
            };
            r(scale * slope)
        })
        .collect()
}

/// `param -= lr * grad`.
pub fn sgd_step<T: Real>(param: &mut [T], grad: &[T], lr: f32) {
    for (p, &g) in param.iter_mut().zip(grad) {
        *p = r(p.to_f64() - lr as f64 * g.to_f64());
    }
}

/// One Adam step as PyTorch computes it (bias-corrected, `eps` added after the square root).
pub fn adam_step<T: Real>(param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T], h: AdamStep) {
    let (b1, b2) = (h.beta1 as f64, h.beta2 as f64);
    let correction1 = 1.0 - b1.powi(h.step as i32);
    let correction2 = 1.0 - b2.powi(h.step as i32);
    for i in 0..param.len() {
        let p = param[i].to_f64();
        let g = grad[i].to_f64() + h.weight_decay as f64 * p;
        let mi = b1 * m[i].to_f64() + (1.0 - b1) * g;
        let vi = b2 * v[i].to_f64() + (1.0 - b2) * g * g;
        let denom = (vi / correction2).sqrt() + h.eps as f64;
        param[i] = r(p - h.lr as f64 * (mi / correction1) / denom);
        m[i] = r(mi);
        v[i] = r(vi);
    }
}

/// Exclusive running sum shifted to the mean `target`: `out[0] = 0`, `out[i] = sum_{j<i} d[j]`,
/// then `out += target - mean(out)`.
fn rebuild_with_mean(d: &[f64], len: usize, target: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(len);
    let mut acc = 0.0;
    for i in 0..len {
        out.push(acc);
        if i < d.len() {
            acc += d[i];
        }
    }
    let shift = target - out.iter().sum::<f64>() / len as f64;
    out.iter_mut().for_each(|v| *v += shift);
    out
}

/// The curvature constraint of docs/layer.md on each row of `pos (rows, s)`.
pub fn curvature_constraint<T: Real>(pos: &mut [T], rows: usize, s: usize, max: f32) {
    if s < 3 {
        return;
    }
    let m = max as f64;
    for row in pos.chunks_mut(s).take(rows) {
        let p: Vec<f64> = row.iter().map(|v| v.to_f64()).collect();
        let d1: Vec<f64> = p.windows(2).map(|w| w[1] - w[0]).collect();
        let d2: Vec<f64> = d1.windows(2).map(|w| (w[1] - w[0]).clamp(-m, m)).collect();
        let mean_d1 = d1.iter().sum::<f64>() / d1.len() as f64;
        let mean_p = p.iter().sum::<f64>() / s as f64;
        let d1_new = rebuild_with_mean(&d2, s - 1, mean_d1);
        let p_new = rebuild_with_mean(&d1_new, s, mean_p);
        for (v, n) in row.iter_mut().zip(p_new) {
            *v = r(n);
        }
    }
}
