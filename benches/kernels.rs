//! Criterion benchmarks of every kernel of the `small` benchmark model (`docs/benchmarks.md`),
//! on the CPU backend and on the GPU backend, forward and backward separately.
//!
//! Shapes (batch `N`, 128 by default):
//!
//! | layer | op | shapes |
//! |---|---|---|
//! | input | | `x (N, 4, 200)`, one-hot |
//! | revcomp_conv1d(16, k=15, relu) | rc_expand, conv1d (or conv1d_relu), relu | `w (16,4,15) -> (32,4,15)`, `(N,4,200) -> (N,32,186)` |
//! | revcomp_conv1d(16, k=14, relu) | rc_expand, conv1d (or conv1d_relu), relu | `w (16,32,14) -> (32,32,14)`, `(N,32,186) -> (N,32,173)` |
//! | maxpool1d(4) | maxpool1d | `(N,32,173) -> (N,32,43)` |
//! | separable_fc(32, symmetric), relu | mirror_expand, separable, relu | `pos (32,22) -> (32,43)`, `chan (32,32)`, `(N,32,43) -> (N,32)` |
//! | dense(3) | dense, bce_with_logits | `(N,32) -> (N,3)` |
//! | optimizer / regularisers | adam_step, sgd_step, curvature_constraint, mean(Square), diff(2) | `(16,32,14)`, `(32,22)` |
//!
//! Every bench id is `op/backend/shape`, e.g. `conv1d_forward/gpu/128x32x186_k14`; shapes name
//! the op's main input (and the kernel width, pool size, units or outputs where they matter).
//! Throughput is reported as criterion elements: multiply-adds of the direct formulation for
//! conv1d, separable and dense (both gradients for the backward ops that compute `dx`), elements
//! for everything else. Activations and weights are random (seeded); only their shapes matter.
//!
//! On the GPU one more pair sets the convolution beside the device's matrix-product rate: the
//! large model's second convolution (`128 -> 128` channels, 15 taps, 986 positions) at batch
//! `N / 16`, and [`Gpu::matmul`], the same tiled product without the convolution's gathers, at
//! `(128, 1920) x (1920, 64 N)`: nearly the same product (`64 N` columns against `N / 16 * 972`).
//! Their throughputs (multiply-adds per second) are the "conv1d forward against matmul" ratio.
//!
//! GPU timings include [`Gpu::synchronize`]: each iteration records the op, submits it and
//! waits for the device, so the clock stops only once the work is done.
//!
//! lavapipe (the GPU backend without a GPU) runs ~0.1 GFLOP/s, and the second convolution
//! alone is ~0.3 G multiply-adds per forward at batch 128. Hence 10 samples and short warm-up/measurement
//! times (criterion's `--warm-up-time`, `--measurement-time` and `--sample-size` override
//! them), and the environment variable `SEPFC_BENCH_BATCH` (default 128) to shrink the batch:
//!
//! ```text
//! cargo bench --bench kernels                                   # batch 128, all ops
//! SEPFC_BENCH_BATCH=8 cargo bench --bench kernels -- --quick    # quick pass
//! cargo bench --bench kernels -- conv1d_forward/gpu             # a filter (substring)
//! cargo bench --bench kernels -- --list                         # list the bench ids
//! ```
//!
//! If the GPU cannot be opened the reason is printed and only the CPU benches run, unless the
//! environment variable `CI` is set, in which case the bench panics. `WGPU_BACKEND` and
//! `WGPU_ADAPTER_NAME` select the adapter as everywhere else in sepfc.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sepfc::backend::cpu::Cpu;
use sepfc::backend::gpu::Gpu;
use sepfc::backend::{AdamStep, AdamTarget, Backend, Conv1dSpec, PoolSpec, Reduction};

/// Environment variable that sets the batch size.
const BATCH_VAR: &str = "SEPFC_BENCH_BATCH";
/// Batch size of the benchmark models.
const DEFAULT_BATCH: usize = 128;

/// Input length and alphabet.
const LEN: usize = 200;
const BASES: usize = 4;
/// Filters per convolution before reverse-complement expansion (doubled after).
const FILTERS: usize = 16;
const K1: usize = 15;
const K2: usize = 14;
const POOL: usize = 4;
const UNITS: usize = 32;
const TASKS: usize = 3;

/// Lengths along the model.
const L1: usize = LEN - K1 + 1; // 186
const L2: usize = L1 - K2 + 1; // 173
const LP: usize = (L2 - POOL) / POOL + 1; // 43
const HALF: usize = LP.div_ceil(2); // 22
const CH: usize = 2 * FILTERS; // 32

/// Batch size from [`BATCH_VAR`], or [`DEFAULT_BATCH`].
fn batch() -> usize {
    match std::env::var(BATCH_VAR) {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("{BATCH_VAR}={v:?} is not a positive integer"),
        },
        Err(_) => DEFAULT_BATCH,
    }
}

/// Host data and its shape, uploaded to each backend.
struct HostTensor {
    data: Vec<f32>,
    shape: Vec<usize>,
}

impl HostTensor {
    fn uniform(rng: &mut StdRng, shape: &[usize], lo: f32, hi: f32) -> Self {
        let n = shape.iter().product();
        Self {
            data: (0..n).map(|_| rng.random_range(lo..hi)).collect(),
            shape: shape.to_vec(),
        }
    }

    fn signed(rng: &mut StdRng, shape: &[usize]) -> Self {
        Self::uniform(rng, shape, -1.0, 1.0)
    }

    fn full(shape: &[usize], value: f32) -> Self {
        Self {
            data: vec![value; shape.iter().product()],
            shape: shape.to_vec(),
        }
    }

    /// `(N, 4, L)` with one random base set per position.
    fn one_hot(rng: &mut StdRng, n: usize, len: usize) -> Self {
        let mut data = vec![0.0; n * BASES * len];
        for s in 0..n {
            for l in 0..len {
                let b = rng.random_range(0..BASES);
                data[(s * BASES + b) * len + l] = 1.0;
            }
        }
        Self {
            data,
            shape: vec![n, BASES, len],
        }
    }

    /// Random 0/1 labels.
    fn labels(rng: &mut StdRng, shape: &[usize]) -> Self {
        let n = shape.iter().product();
        Self {
            data: (0..n).map(|_| f32::from(rng.random_bool(0.5))).collect(),
            shape: shape.to_vec(),
        }
    }

    fn up<B: Backend>(&self, backend: &B) -> B::Tensor {
        backend
            .upload(&self.data, &self.shape)
            .expect("uploading bench data")
    }
}

/// Every input of every bench, on the host.
struct Host {
    n: usize,
    x: HostTensor,
    w1: HostTensor,
    b1: HostTensor,
    w1e: HostTensor,
    b1e: HostTensor,
    a1: HostTensor,
    d1: HostTensor,
    w2: HostTensor,
    w2e: HostTensor,
    b2e: HostTensor,
    a2: HostTensor,
    d2: HostTensor,
    dp: HostTensor,
    p: HostTensor,
    pos_half: HostTensor,
    pos: HostTensor,
    chan: HostTensor,
    s: HostTensor,
    ds: HostTensor,
    wd: HostTensor,
    bd: HostTensor,
    logits: HostTensor,
    targets: HostTensor,
    mask: HostTensor,
    dlogits: HostTensor,
    scalar: HostTensor,
    dw1e: HostTensor,
    db1e: HostTensor,
    dw2e: HostTensor,
    dpos: HostTensor,
    dw2: HostTensor,
    zeros_w2: HostTensor,
    ddiff: HostTensor,
}

impl Host {
    fn new(n: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(0x5e9fc);
        let r = &mut rng;
        Self {
            n,
            x: HostTensor::one_hot(r, n, LEN),
            w1: HostTensor::signed(r, &[FILTERS, BASES, K1]),
            b1: HostTensor::signed(r, &[FILTERS]),
            w1e: HostTensor::signed(r, &[CH, BASES, K1]),
            b1e: HostTensor::signed(r, &[CH]),
            a1: HostTensor::signed(r, &[n, CH, L1]),
            d1: HostTensor::signed(r, &[n, CH, L1]),
            w2: HostTensor::signed(r, &[FILTERS, CH, K2]),
            w2e: HostTensor::signed(r, &[CH, CH, K2]),
            b2e: HostTensor::signed(r, &[CH]),
            a2: HostTensor::signed(r, &[n, CH, L2]),
            d2: HostTensor::signed(r, &[n, CH, L2]),
            dp: HostTensor::signed(r, &[n, CH, LP]),
            p: HostTensor::uniform(r, &[n, CH, LP], 0.0, 1.0),
            pos_half: HostTensor::signed(r, &[UNITS, HALF]),
            pos: HostTensor::signed(r, &[UNITS, LP]),
            chan: HostTensor::signed(r, &[UNITS, CH]),
            s: HostTensor::signed(r, &[n, UNITS]),
            ds: HostTensor::signed(r, &[n, UNITS]),
            wd: HostTensor::signed(r, &[TASKS, UNITS]),
            bd: HostTensor::signed(r, &[TASKS]),
            logits: HostTensor::uniform(r, &[n, TASKS], -4.0, 4.0),
            targets: HostTensor::labels(r, &[n, TASKS]),
            mask: HostTensor::full(&[n, TASKS], 1.0),
            dlogits: HostTensor::signed(r, &[n, TASKS]),
            scalar: HostTensor::full(&[1], 1.0),
            dw1e: HostTensor::signed(r, &[CH, BASES, K1]),
            db1e: HostTensor::signed(r, &[CH]),
            dw2e: HostTensor::signed(r, &[CH, CH, K2]),
            dpos: HostTensor::signed(r, &[UNITS, LP]),
            dw2: HostTensor::uniform(r, &[FILTERS, CH, K2], -1e-2, 1e-2),
            zeros_w2: HostTensor::full(&[FILTERS, CH, K2], 0.0),
            ddiff: HostTensor::signed(r, &[UNITS, HALF - 2]),
        }
    }
}

/// The benchmark models' Adam (PyTorch's defaults, lr 1e-3) at 1-based `step`.
fn adam_hyper(step: u32) -> AdamStep {
    AdamStep {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        step,
    }
}

/// `[a, b, c]` as `axbxc`.
fn dims(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

fn count(shape: &[usize]) -> u64 {
    shape.iter().product::<usize>() as u64
}

/// Runs the benches of one backend.
struct Runner<'a, B: Backend> {
    c: &'a mut Criterion,
    backend: &'a B,
    name: &'static str,
    /// Waits for the device (a no-op on the CPU); part of every timed iteration.
    sync: &'a dyn Fn(),
}

impl<B: Backend> Runner<'_, B> {
    /// Benches `op` as `group/backend/shape` with `elements` of throughput per iteration.
    ///
    /// The op runs once untimed before criterion's first call (so that even `--quick`, which
    /// skips the warm-up, does not time GPU pipeline compilation or pool growth), then each
    /// timed iteration runs it, waits for the device and drops the outputs.
    fn bench<R>(
        &mut self,
        group: &str,
        shape: &str,
        elements: u64,
        mut op: impl FnMut(&B) -> sepfc::Result<R>,
    ) {
        let (backend, sync) = (self.backend, self.sync);
        let mut run = move || {
            let out = op(backend)
                .unwrap_or_else(|e| panic!("{group}/{}/{shape}: {e}", backend.describe()));
            sync();
            out
        };
        let mut primed = false;
        let id = BenchmarkId::new(self.name, shape);
        let mut g = self.c.benchmark_group(group);
        g.throughput(Throughput::Elements(elements));
        g.bench_function(id, |b| {
            if !primed {
                drop(run());
                primed = true;
            }
            b.iter(&mut run)
        });
        g.finish();
    }
}

/// Every bench on one backend.
fn run_backend<B: Backend>(
    c: &mut Criterion,
    backend: &B,
    name: &'static str,
    sync: &dyn Fn(),
    h: &Host,
) {
    let n = h.n;
    let up = |t: &HostTensor| t.up(backend);
    let (x, w1, b1, w1e, b1e) = (up(&h.x), up(&h.w1), up(&h.b1), up(&h.w1e), up(&h.b1e));
    let (a1, d1, w2, w2e, b2e) = (up(&h.a1), up(&h.d1), up(&h.w2), up(&h.w2e), up(&h.b2e));
    let (a2, d2, dp, p) = (up(&h.a2), up(&h.d2), up(&h.dp), up(&h.p));
    let (pos_half, pos, chan) = (up(&h.pos_half), up(&h.pos), up(&h.chan));
    let (s, ds, wd, bd) = (up(&h.s), up(&h.ds), up(&h.wd), up(&h.bd));
    let (logits, targets, mask) = (up(&h.logits), up(&h.targets), up(&h.mask));
    let (dlogits, scalar) = (up(&h.dlogits), up(&h.scalar));
    let (dw1e, db1e, dw2e, dpos) = (up(&h.dw1e), up(&h.db1e), up(&h.dw2e), up(&h.dpos));
    let (dw2, ddiff) = (up(&h.dw2), up(&h.ddiff));
    let (mut param, mut m, mut v) = (up(&h.w2), up(&h.zeros_w2), up(&h.zeros_w2));
    let mut sgd_param = up(&h.w2);
    let mut curv_pos = up(&h.pos_half);
    sync();

    let mut r = Runner {
        c,
        backend,
        name,
        sync,
    };
    let valid = Conv1dSpec::valid(1);
    let pool = PoolSpec {
        size: POOL,
        stride: POOL,
    };
    let n64 = n as u64;
    let conv1_macs = n64 * (CH * L1 * BASES * K1) as u64;
    let conv2_macs = n64 * (CH * L2 * CH * K2) as u64;
    let sep_macs = n64 * (UNITS * CH * LP) as u64;
    let dense_macs = n64 * (UNITS * TASKS) as u64;
    let conv1_id = format!("{}_k{K1}", dims(&[n, BASES, LEN]));
    let conv2_id = format!("{}_k{K2}", dims(&[n, CH, L1]));

    // Convolutions.
    r.bench("conv1d_forward", &conv1_id, conv1_macs, |b| {
        b.conv1d(&x, &w1e, &b1e, valid)
    });
    r.bench("conv1d_forward", &conv2_id, conv2_macs, |b| {
        b.conv1d(&a1, &w2e, &b2e, valid)
    });
    // What the models run: bias and relu fused into the convolution.
    r.bench("conv1d_relu_forward", &conv1_id, conv1_macs, |b| {
        b.conv1d_relu(&x, &w1e, &b1e, valid)
    });
    r.bench("conv1d_relu_forward", &conv2_id, conv2_macs, |b| {
        b.conv1d_relu(&a1, &w2e, &b2e, valid)
    });
    // The first layer's input is data: no dx. The second computes dx and dw.
    r.bench("conv1d_backward", &conv1_id, conv1_macs, |b| {
        b.conv1d_backward(&x, &w1e, &d1, valid, false)
    });
    r.bench("conv1d_backward", &conv2_id, 2 * conv2_macs, |b| {
        b.conv1d_backward(&a1, &w2e, &d2, valid, true)
    });

    // Reverse-complement weight sharing.
    for (w, e) in [(&w1, &h.w1), (&b1, &h.b1), (&w2, &h.w2)] {
        r.bench("rc_expand", &dims(&e.shape), 2 * count(&e.shape), |b| {
            b.rc_expand(w)
        });
    }
    for (g, e) in [(&dw1e, &h.dw1e), (&db1e, &h.db1e), (&dw2e, &h.dw2e)] {
        r.bench("rc_fold", &dims(&e.shape), count(&e.shape), |b| {
            b.rc_fold(g)
        });
    }

    // Activations.
    for (a, d, e) in [(&a1, &d1, &h.a1), (&a2, &d2, &h.a2), (&s, &ds, &h.s)] {
        let (id, elements) = (dims(&e.shape), count(&e.shape));
        r.bench("relu_forward", &id, elements, |b| b.relu(a));
        r.bench("relu_backward", &id, elements, |b| b.relu_backward(a, d));
    }

    // Pooling.
    let pool_id = format!("{}_p{POOL}", dims(&h.a2.shape));
    let pool_elements = count(&h.a2.shape);
    r.bench("maxpool1d_forward", &pool_id, pool_elements, |b| {
        b.maxpool1d(&a2, pool)
    });
    r.bench("maxpool1d_backward", &pool_id, pool_elements, |b| {
        b.maxpool1d_backward(&a2, &dp, pool)
    });

    // Symmetric positional weights.
    let mirror_id = format!("{}_n{LP}", dims(&h.pos_half.shape));
    r.bench("mirror_expand", &mirror_id, (UNITS * LP) as u64, |b| {
        b.mirror_expand(&pos_half, LP)
    });
    r.bench(
        "mirror_fold",
        &dims(&h.dpos.shape),
        count(&h.dpos.shape),
        |b| b.mirror_fold(&dpos),
    );

    // Separable fully connected layer: dpos, dchan and dx each cost about one forward.
    let sep_id = format!("{}_u{UNITS}", dims(&h.p.shape));
    r.bench("separable_forward", &sep_id, sep_macs, |b| {
        b.separable(&p, &pos, &chan)
    });
    r.bench("separable_backward", &sep_id, 3 * sep_macs, |b| {
        b.separable_backward(&p, &pos, &chan, &ds, true)
    });

    // Dense layer and loss.
    let dense_id = format!("{}_o{TASKS}", dims(&h.s.shape));
    r.bench("dense_forward", &dense_id, dense_macs, |b| {
        b.dense(&s, &wd, &bd)
    });
    r.bench("dense_backward", &dense_id, 2 * dense_macs, |b| {
        b.dense_backward(&s, &wd, &dlogits, true)
    });
    let bce_id = dims(&h.logits.shape);
    let bce_elements = count(&h.logits.shape);
    r.bench("bce_forward", &bce_id, bce_elements, |b| {
        b.bce_with_logits(&logits, &targets, &mask)
    });
    r.bench("bce_backward", &bce_id, bce_elements, |b| {
        b.bce_with_logits_backward(&logits, &targets, &mask, &scalar)
    });

    // Regularisers on the stored positional weights.
    let half_id = dims(&h.pos_half.shape);
    let half_elements = count(&h.pos_half.shape);
    r.bench(
        "mean_forward",
        &format!("{half_id}_square"),
        half_elements,
        |b| b.mean(&pos_half, Reduction::Square),
    );
    r.bench(
        "mean_backward",
        &format!("{half_id}_square"),
        half_elements,
        |b| b.mean_backward(&pos_half, &scalar, Reduction::Square),
    );
    r.bench(
        "diff_forward",
        &format!("{half_id}_o2"),
        half_elements,
        |b| b.diff(&pos_half, 2),
    );
    r.bench(
        "diff_backward",
        &format!("{half_id}_o2"),
        half_elements,
        |b| b.diff_backward(&ddiff, 2),
    );

    // Optimizer steps and the constraint, in place (the parameters drift; timing does not care).
    let w2_id = dims(&h.w2.shape);
    let w2_elements = count(&h.w2.shape);
    let mut step = 0;
    r.bench("adam_step", &w2_id, w2_elements, |b| {
        step += 1;
        b.adam_step(&mut param, &dw2, &mut m, &mut v, adam_hyper(step))
    });
    // Adam over the whole small model's parameter set at once (the training step's update)
    let set = [
        &h.w1,
        &h.b1,
        &h.w2,
        &h.b1,
        &h.pos_half,
        &h.chan,
        &h.wd,
        &h.bd,
    ];
    let set_elements: u64 = set.iter().map(|t| count(&t.shape)).sum();
    let mut params: Vec<_> = set.iter().map(|t| up(t)).collect();
    let grads: Vec<_> = set.iter().map(|t| up(t)).collect();
    let zeros = |t: &HostTensor| up(&HostTensor::full(&t.shape, 0.0));
    let mut ms: Vec<_> = set.iter().map(|t| zeros(t)).collect();
    let mut vs: Vec<_> = set.iter().map(|t| zeros(t)).collect();
    let mut step_all = 0;
    r.bench(
        "adam_step_all",
        &format!("{}_tensors", set.len()),
        set_elements,
        |b| {
            step_all += 1;
            let mut targets: Vec<AdamTarget<'_, B::Tensor>> = params
                .iter_mut()
                .zip(&grads)
                .zip(ms.iter_mut().zip(&mut vs))
                .map(|((param, grad), (m, v))| AdamTarget { param, grad, m, v })
                .collect();
            b.adam_step_all(&mut targets, adam_hyper(step_all))
        },
    );
    r.bench("sgd_step", &w2_id, w2_elements, |b| {
        b.sgd_step(&mut sgd_param, &dw2, 1e-3)
    });
    r.bench("curvature_constraint", &half_id, half_elements, |b| {
        b.curvature_constraint(&mut curv_pos, 0.1)
    });
}

fn kernels(c: &mut Criterion) {
    let n = batch();
    let host = Host::new(n);
    println!("sepfc kernels: small model at batch {n} ({BATCH_VAR}; default {DEFAULT_BATCH})");
    let gpu = match Gpu::new() {
        Ok(gpu) => {
            let kind = if gpu.is_software() {
                "software"
            } else {
                "hardware"
            };
            println!("sepfc kernels: gpu adapter {} [{kind}]", gpu.describe());
            Some(gpu)
        }
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("sepfc kernels: no GPU backend ({e}) and CI is set")
        }
        Err(e) => {
            eprintln!("sepfc kernels: no GPU backend ({e}); running the CPU benches only");
            None
        }
    };
    run_backend(c, &Cpu, "cpu", &|| {}, &host);
    if let Some(gpu) = &gpu {
        println!("sepfc kernels: gpu kernels use {}", gpu.tuning());
        let sync = || gpu.synchronize().expect("synchronizing the GPU");
        run_backend(c, gpu, "gpu", &sync, &host);
        rate_pair(c, gpu, &sync, n);
    }
}

/// Channels, taps and input length of the large model's second convolution.
const LARGE_CH: usize = 128;
const LARGE_K: usize = 15;
const LARGE_LEN: usize = 986;

/// The large model's second convolution and a plain matrix product of nearly its size, on
/// the GPU (see the module's documentation).
fn rate_pair(c: &mut Criterion, gpu: &Gpu, sync: &dyn Fn(), n: usize) {
    let mut rng = StdRng::seed_from_u64(0x3a7e);
    let r = &mut rng;
    let conv_batch = (n / 16).max(1);
    let x = HostTensor::signed(r, &[conv_batch, LARGE_CH, LARGE_LEN]).up(gpu);
    let w = HostTensor::signed(r, &[LARGE_CH, LARGE_CH, LARGE_K]).up(gpu);
    let b = HostTensor::signed(r, &[LARGE_CH]).up(gpu);
    let (rows, depth, cols) = (LARGE_CH, LARGE_CH * LARGE_K, 64 * n);
    let ma = HostTensor::signed(r, &[rows, depth]).up(gpu);
    let mb = HostTensor::signed(r, &[depth, cols]).up(gpu);
    sync();
    let mut runner = Runner {
        c,
        backend: gpu,
        name: "gpu",
        sync,
    };
    let l_out = LARGE_LEN - LARGE_K + 1;
    let conv_macs = (conv_batch * LARGE_CH * l_out * LARGE_CH * LARGE_K) as u64;
    let conv_id = format!("{}_k{LARGE_K}", dims(&[conv_batch, LARGE_CH, LARGE_LEN]));
    runner.bench("conv1d_forward", &conv_id, conv_macs, |g| {
        g.conv1d(&x, &w, &b, Conv1dSpec::valid(1))
    });
    let matmul_macs = (rows * depth * cols) as u64;
    runner.bench("matmul", &dims(&[rows, depth, cols]), matmul_macs, |g| {
        g.matmul(&ma, &mb)
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = kernels
}
criterion_main!(benches);
