//! The op set every backend implements, and the shape rules they share.
//!
//! Two backends implement [`Backend`]: [`cpu::Cpu`], whose [`cpu::kernels`] are the
//! reference (plain loops, f64 accumulation), and [`gpu::Gpu`], WGSL compute shaders through wgpu. Tests hold the second
//! to the first.
//!
//! Conventions: activations are channels-first `(batch, channels, length)`; every op checks its
//! shapes with the helpers in [`shapes`] and returns [`Error::Shape`](crate::Error::Shape) on a
//! mismatch rather than panicking. Backward ops take the upstream gradient `dy` and return the
//! gradients of the op's inputs; `need_dx = false` skips the input gradient (for the first
//! layer, whose input is data).

pub mod cpu;
pub mod gpu;
pub mod shapes;

use std::collections::BTreeMap;

use crate::Result;

pub use shapes::{Conv1dSpec, Nonlinearity, PoolSpec, Reduction};

/// A tensor handle of some backend: cheap to clone, knows its shape.
pub trait Tensor: Clone + std::fmt::Debug + 'static {
    /// The tensor's shape, outermost dimension first.
    fn shape(&self) -> &[usize];

    /// Number of elements.
    fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// Whether the tensor holds no elements.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Gradients of a convolution: input (if asked for), weight and bias.
#[derive(Debug, Clone)]
pub struct Conv1dGrads<T> {
    /// `(N, C, L)`, present when `need_dx` was set.
    pub dx: Option<T>,
    /// `(F, C, K)`.
    pub dw: T,
    /// `(F)`.
    pub db: T,
}

/// Gradients of the separable contraction.
#[derive(Debug, Clone)]
pub struct SeparableGrads<T> {
    /// `(N, C, L)`, present when `need_dx` was set.
    pub dx: Option<T>,
    /// `(U, L)`.
    pub dpos: T,
    /// `(U, C)`.
    pub dchan: T,
}

/// Gradients of a dense layer.
#[derive(Debug, Clone)]
pub struct DenseGrads<T> {
    /// `(N, I)`, present when `need_dx` was set.
    pub dx: Option<T>,
    /// `(O, I)`.
    pub dw: T,
    /// `(O)`.
    pub db: T,
}

/// Hyperparameters of one Adam step (PyTorch's semantics, bias-corrected).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Added to the denominator.
    pub eps: f32,
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`).
    pub weight_decay: f32,
    /// 1-based step count, for bias correction.
    pub step: u32,
}

/// One parameter of an [`Backend::adam_step_all`] call: the parameter, its gradient and its two
/// moment estimates, all of one shape.
#[derive(Debug)]
pub struct AdamTarget<'a, T> {
    /// Updated in place.
    pub param: &'a mut T,
    /// The gradient of the loss with respect to `param`.
    pub grad: &'a T,
    /// First-moment estimate, updated in place.
    pub m: &'a mut T,
    /// Second-moment estimate, updated in place.
    pub v: &'a mut T,
}

/// How many commands a backend has sent to its device since it was opened, for tests and
/// profiling ([`Backend::commands`]); [`CommandCounts::since`] gives those of a stretch of
/// work, such as one training step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandCounts {
    /// Kernel dispatches.
    pub dispatches: u64,
    /// Buffer-to-buffer copies on the device (readbacks not included).
    pub copies: u64,
    /// Command buffers submitted to the device's queue.
    pub submits: u64,
    /// Bytes copied back to the host.
    pub bytes_read: u64,
    /// Device buffers created (a pooled buffer reused is not counted).
    pub buffers_created: u64,
}

impl CommandCounts {
    /// The counts from `earlier` to `self`.
    pub fn since(self, earlier: CommandCounts) -> CommandCounts {
        CommandCounts {
            dispatches: self.dispatches - earlier.dispatches,
            copies: self.copies - earlier.copies,
            submits: self.submits - earlier.submits,
            bytes_read: self.bytes_read - earlier.bytes_read,
            buffers_created: self.buffers_created - earlier.buffers_created,
        }
    }
}

/// Device time by kernel family since a backend was opened ([`Backend::kernel_times`]), from
/// timestamps the device writes around each dispatch; [`KernelTimes::since`] gives those of a
/// stretch of work.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KernelTimes {
    /// Per kernel family (`conv forward`, `conv backward`, `separable`, `pooling`, `dense`,
    /// `elementwise`, `loss and reductions`, `optimizer`, `matmul`, `attribution`), those that
    /// ran.
    pub families: BTreeMap<&'static str, FamilyTime>,
}

/// The timed dispatches of one kernel family and the device seconds between their start and
/// end timestamps.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct FamilyTime {
    /// Dispatches timed.
    pub dispatches: u64,
    /// Device seconds, summed over them.
    pub seconds: f64,
}

impl KernelTimes {
    /// The times from `earlier` to `self`; families that did not run since are left out.
    pub fn since(&self, earlier: &KernelTimes) -> KernelTimes {
        let families = self
            .families
            .iter()
            .filter_map(|(&family, now)| {
                let before = earlier.families.get(family).copied().unwrap_or_default();
                (now.dispatches > before.dispatches).then(|| {
                    let time = FamilyTime {
                        dispatches: now.dispatches - before.dispatches,
                        seconds: now.seconds - before.seconds,
                    };
                    (family, time)
                })
            })
            .collect();
        KernelTimes { families }
    }

    /// Device seconds over every family.
    pub fn total_seconds(&self) -> f64 {
        self.families.values().map(|t| t.seconds).sum()
    }
}

/// A training loss on the model's outputs `z` (its logits) against targets `t`, each term
/// averaged over the unmasked entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Binary cross-entropy on logits, `max(z, 0) - z t + log(1 + exp(-|z|))`, for labels in
    /// `[0, 1]`; the prediction is `sigmoid(z)`. Gradient `sigmoid(z) - t`.
    #[default]
    Bce,
    /// Squared error `(z - t)^2`; the prediction is `z`. Gradient `2 (z - t)`.
    Mse,
    /// Poisson negative log-likelihood on the log rate `z`, `exp(z) - t z` (the `log(t!)` term,
    /// constant in `z`, left out); the prediction is the rate `exp(z)`. Gradient `exp(z) - t`.
    Poisson,
}

impl Loss {
    /// The name in configs: `bce`, `mse`, `poisson`.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Bce => "bce",
            Loss::Mse => "mse",
            Loss::Poisson => "poisson",
        }
    }

    /// Whether the targets are real-valued signal (scored by correlation) rather than labels
    /// (scored by auROC and auPRC).
    pub fn is_regression(self) -> bool {
        self != Loss::Bce
    }

    /// The prediction for output `z`: `sigmoid(z)`, `z`, or `exp(z)`.
    pub fn predict(self, z: f32) -> f32 {
        match self {
            Loss::Bce => 1.0 / (1.0 + (-z).exp()),
            Loss::Mse => z,
            Loss::Poisson => z.exp(),
        }
    }
}

/// The op set of sepfc. Every op validates shapes and returns a new tensor, except the
/// optimizer steps and constraints, which update parameters in place.
pub trait Backend {
    /// The backend's tensor handle.
    type Tensor: Tensor;

    /// A human-readable name of the device, e.g. `cpu (2 threads)` or the GPU adapter.
    fn describe(&self) -> String;

    /// The most device memory the backend has held at once, in bytes, where it keeps count
    /// (GPU buffer pools); `None` for host memory, which the process's peak RSS covers.
    fn peak_memory_bytes(&self) -> Option<u64> {
        None
    }

    /// The commands the backend has sent to its device since it was opened, where it keeps
    /// count (the GPU backend); `None` for the CPU, which sends none.
    fn commands(&self) -> Option<CommandCounts> {
        None
    }

    /// Hands the work recorded so far to the device without waiting for it (the GPU backend
    /// submits its open command buffer, which also returns the buffers retired meanwhile to
    /// its pool); the CPU backend has done its work already. The trainer flushes once a step.
    fn flush(&self) -> Result<()> {
        Ok(())
    }

    /// Device time by kernel family since the backend was opened, where it is measured (the
    /// GPU backend opened with [`gpu::GpuOptions::timestamps`] on an adapter with timestamp
    /// queries); `None` otherwise.
    fn kernel_times(&self) -> Option<KernelTimes> {
        None
    }

    /// Copies host data into a new tensor of `shape`.
    fn upload(&self, data: &[f32], shape: &[usize]) -> Result<Self::Tensor>;

    /// Copies a tensor back to the host (waits for pending device work).
    fn download(&self, t: &Self::Tensor) -> Result<Vec<f32>>;

    /// A tensor of `shape` filled with `value`.
    fn full(&self, shape: &[usize], value: f32) -> Result<Self::Tensor>;

    /// The same data viewed with another shape of equal element count (no copy).
    fn reshape(&self, t: &Self::Tensor, shape: &[usize]) -> Result<Self::Tensor>;

    /// Elementwise `a + b` (equal shapes).
    fn add(&self, a: &Self::Tensor, b: &Self::Tensor) -> Result<Self::Tensor>;

    /// Elementwise `s * a`.
    fn scale(&self, a: &Self::Tensor, s: f32) -> Result<Self::Tensor>;

    /// 1-D convolution. `x (N, C, L)`, `w (F, C, K)`, `b (F)` -> `(N, F, L_out)`.
    fn conv1d(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        b: &Self::Tensor,
        spec: Conv1dSpec,
    ) -> Result<Self::Tensor>;

    /// [`Backend::conv1d`] followed by [`Backend::relu`], fused into one pass where the backend
    /// can: `max(conv1d(x, w, b), 0)`, `(N, F, L_out)`. Its gradient is
    /// [`Backend::relu_backward`] on the output, then [`Backend::conv1d_backward`].
    fn conv1d_relu(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        b: &Self::Tensor,
        spec: Conv1dSpec,
    ) -> Result<Self::Tensor> {
        self.relu(&self.conv1d(x, w, b, spec)?)
    }

    /// [`Backend::conv1d_relu`] followed by [`Backend::maxpool1d`], for inference: `(N, F,
    /// L_pool)`. The CPU backend never writes the unpooled activation.
    fn conv1d_relu_maxpool(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        b: &Self::Tensor,
        spec: Conv1dSpec,
        pool: PoolSpec,
    ) -> Result<Self::Tensor> {
        self.maxpool1d(&self.conv1d_relu(x, w, b, spec)?, pool)
    }

    /// Gradients of [`Backend::conv1d_relu`] given its output `y` and `dy`, both
    /// `(N, F, L_out)`: [`Backend::relu_backward`] on `y`, then [`Backend::conv1d_backward`],
    /// fused into one pass where the backend can.
    fn conv1d_relu_backward(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        y: &Self::Tensor,
        dy: &Self::Tensor,
        spec: Conv1dSpec,
        need_dx: bool,
    ) -> Result<Conv1dGrads<Self::Tensor>> {
        let dz = self.relu_backward(y, dy)?;
        self.conv1d_backward(x, w, &dz, spec, need_dx)
    }

    /// Gradients of [`Backend::conv1d`] given `dy (N, F, L_out)`.
    fn conv1d_backward(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        dy: &Self::Tensor,
        spec: Conv1dSpec,
        need_dx: bool,
    ) -> Result<Conv1dGrads<Self::Tensor>>;

    /// The input gradient of [`Backend::conv1d`] alone, `(N, C, L)`, for gradients with
    /// respect to the input (importance scores) that need no weight gradient. The CPU
    /// backend skips the weight and bias gradients; the default computes and drops them.
    fn conv1d_input_grad(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        dy: &Self::Tensor,
        spec: Conv1dSpec,
    ) -> Result<Self::Tensor> {
        let g = self.conv1d_backward(x, w, dy, spec, true)?;
        Ok(g.dx.expect("need_dx was set"))
    }

    /// The input gradient of [`Backend::conv1d_relu`] alone, given its output `y` and `dy`:
    /// [`Backend::relu_backward`] on `y`, then [`Backend::conv1d_input_grad`].
    fn conv1d_relu_input_grad(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        y: &Self::Tensor,
        dy: &Self::Tensor,
        spec: Conv1dSpec,
    ) -> Result<Self::Tensor> {
        let g = self.conv1d_relu_backward(x, w, y, dy, spec, true)?;
        Ok(g.dx.expect("need_dx was set"))
    }

    /// Reverse-complement weight sharing: `(F, C, K)` -> `(2F, C, K)`, where row `F + j` is row
    /// `F - 1 - j` flipped along channels and width. A bias `(F)` is expanded as `(F, 1, 1)`.
    fn rc_expand(&self, w: &Self::Tensor) -> Result<Self::Tensor>;

    /// Adjoint of [`Backend::rc_expand`]: `(2F, C, K)` -> `(F, C, K)`, summing each shared
    /// weight's two gradients.
    fn rc_fold(&self, g: &Self::Tensor) -> Result<Self::Tensor>;

    /// Mirror along the last axis: `(R, S)` -> `(R, n)` with `out[r, i] = v[r, min(i, n-1-i)]`;
    /// `S` must be `ceil(n / 2)`.
    fn mirror_expand(&self, v: &Self::Tensor, n: usize) -> Result<Self::Tensor>;

    /// Adjoint of [`Backend::mirror_expand`]: `(R, n)` -> `(R, ceil(n / 2))`.
    fn mirror_fold(&self, g: &Self::Tensor) -> Result<Self::Tensor>;

    /// Max pooling along length: `(N, C, L)` -> `(N, C, L_out)`.
    fn maxpool1d(&self, x: &Self::Tensor, spec: PoolSpec) -> Result<Self::Tensor>;

    /// Gradient of [`Backend::maxpool1d`]: each window's gradient goes to its first maximum.
    fn maxpool1d_backward(
        &self,
        x: &Self::Tensor,
        dy: &Self::Tensor,
        spec: PoolSpec,
    ) -> Result<Self::Tensor>;

    /// DeepLIFT's rescale rule through an elementwise `nonlinearity`, on a batch of `2 P`
    /// rows that pairs row `i < P` (an input) with row `P + i` (its reference): `x` is what the
    /// nonlinearity took, `y` what it gave, `dy` the multipliers of `y` (same shapes). Rows
    /// `i < P` of the result are `dy * (y_i - y_{P+i}) / (x_i - x_{P+i})`, or `dy` times the
    /// derivative at `x_i` where `|x_i - x_{P+i}|` is below
    /// [`DEEPLIFT_EPS`](shapes::DEEPLIFT_EPS) (as captum's DeepLift); rows `P..2P` are 0.
    fn deeplift_rescale(
        &self,
        x: &Self::Tensor,
        y: &Self::Tensor,
        dy: &Self::Tensor,
        nonlinearity: Nonlinearity,
        pairs: usize,
    ) -> Result<Self::Tensor>;

    /// DeepLIFT through [`Backend::maxpool1d`] on paired rows as in
    /// [`Backend::deeplift_rescale`], by captum's rule: in each window of an input row `i` and
    /// its reference `r`, with outputs `y_i`, `y_r` and `m = max(y_i, y_r)`, `dy * (m - y_r)`
    /// goes to the input's first maximum and `dy * (y_i - m)` to the reference's; a position's
    /// multiplier is what it received over `x_i - x_r`, or the ordinary gradient (every window's
    /// `dy` at the input's first maximum) where `|x_i - x_r|` is below
    /// [`DEEPLIFT_EPS`](shapes::DEEPLIFT_EPS). `x (2P, C, L)`, `y`, `dy (2P, C, L_out)`;
    /// reference rows of the result are 0.
    fn deeplift_maxpool1d(
        &self,
        x: &Self::Tensor,
        y: &Self::Tensor,
        dy: &Self::Tensor,
        spec: PoolSpec,
        pairs: usize,
    ) -> Result<Self::Tensor>;

    /// Separable contraction `y[n,u] = sum_l pos[u,l] sum_c chan[u,c] x[n,c,l]`.
    /// `x (N, C, L)`, `pos (U, L)`, `chan (U, C)` -> `(N, U)`.
    fn separable(
        &self,
        x: &Self::Tensor,
        pos: &Self::Tensor,
        chan: &Self::Tensor,
    ) -> Result<Self::Tensor>;

    /// Gradients of [`Backend::separable`] given `dy (N, U)`, in factorised form.
    fn separable_backward(
        &self,
        x: &Self::Tensor,
        pos: &Self::Tensor,
        chan: &Self::Tensor,
        dy: &Self::Tensor,
        need_dx: bool,
    ) -> Result<SeparableGrads<Self::Tensor>>;

    /// The input gradient of [`Backend::separable`] alone, `(N, C, L)`:
    /// `dx[n,c,l] = sum_u dy[n,u] chan[u,c] pos[u,l]`, for gradients with respect to the input
    /// that need no weight gradient. The CPU backend skips the weight gradients; the default
    /// computes and drops them.
    fn separable_input_grad(
        &self,
        x: &Self::Tensor,
        pos: &Self::Tensor,
        chan: &Self::Tensor,
        dy: &Self::Tensor,
    ) -> Result<Self::Tensor> {
        let g = self.separable_backward(x, pos, chan, dy, true)?;
        Ok(g.dx.expect("need_dx was set"))
    }

    /// Dense layer: `x (N, I)`, `w (O, I)`, `b (O)` -> `x w^T + b`, `(N, O)`.
    fn dense(&self, x: &Self::Tensor, w: &Self::Tensor, b: &Self::Tensor) -> Result<Self::Tensor>;

    /// Gradients of [`Backend::dense`] given `dy (N, O)`.
    fn dense_backward(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        dy: &Self::Tensor,
        need_dx: bool,
    ) -> Result<DenseGrads<Self::Tensor>>;

    /// The input gradient of [`Backend::dense`] alone, `dy w`, `(N, I)`; the CPU backend skips
    /// the weight and bias gradients, the default computes and drops them.
    fn dense_input_grad(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        dy: &Self::Tensor,
    ) -> Result<Self::Tensor> {
        let g = self.dense_backward(x, w, dy, true)?;
        Ok(g.dx.expect("need_dx was set"))
    }

    /// `max(x, 0)`.
    fn relu(&self, x: &Self::Tensor) -> Result<Self::Tensor>;

    /// `dy` where `x > 0`, else 0.
    fn relu_backward(&self, x: &Self::Tensor, dy: &Self::Tensor) -> Result<Self::Tensor>;

    /// `1 / (1 + exp(-x))`.
    fn sigmoid(&self, x: &Self::Tensor) -> Result<Self::Tensor>;

    /// `dy * y * (1 - y)` from the forward output `y`.
    fn sigmoid_backward(&self, y: &Self::Tensor, dy: &Self::Tensor) -> Result<Self::Tensor>;

    /// Inverted dropout: each element kept with probability `1 - rate` (decided by
    /// [`dropout_keep`](shapes::dropout_keep) from `seed` and its index) and scaled by
    /// `1 / (1 - rate)`.
    fn dropout(&self, x: &Self::Tensor, rate: f32, seed: u32) -> Result<Self::Tensor>;

    /// Gradient of [`Backend::dropout`]: the same mask and scale applied to `dy`.
    fn dropout_backward(&self, dy: &Self::Tensor, rate: f32, seed: u32) -> Result<Self::Tensor>;

    /// The training loss `kind` on the model's outputs `logits`, averaged over the entries whose
    /// `mask` is non-zero. `logits`, `targets`, `mask` all `(N, T)` -> `(1)`. With no entry
    /// unmasked the loss is 0.
    fn loss(
        &self,
        kind: Loss,
        logits: &Self::Tensor,
        targets: &Self::Tensor,
        mask: &Self::Tensor,
    ) -> Result<Self::Tensor>;

    /// Gradient of [`Backend::loss`] with respect to the logits, given the scalar upstream
    /// gradient `dloss (1)`.
    fn loss_backward(
        &self,
        kind: Loss,
        logits: &Self::Tensor,
        targets: &Self::Tensor,
        mask: &Self::Tensor,
        dloss: &Self::Tensor,
    ) -> Result<Self::Tensor>;

    /// [`Backend::loss`] with [`Loss::Bce`]: binary cross-entropy on logits.
    fn bce_with_logits(
        &self,
        logits: &Self::Tensor,
        targets: &Self::Tensor,
        mask: &Self::Tensor,
    ) -> Result<Self::Tensor> {
        self.loss(Loss::Bce, logits, targets, mask)
    }

    /// Gradient of [`Backend::bce_with_logits`] with respect to the logits.
    fn bce_with_logits_backward(
        &self,
        logits: &Self::Tensor,
        targets: &Self::Tensor,
        mask: &Self::Tensor,
        dloss: &Self::Tensor,
    ) -> Result<Self::Tensor> {
        self.loss_backward(Loss::Bce, logits, targets, mask, dloss)
    }

    /// Differences of order 1 or 2 along the last axis: `(R, S)` -> `(R, S - order)`.
    fn diff(&self, x: &Self::Tensor, order: usize) -> Result<Self::Tensor>;

    /// Adjoint of [`Backend::diff`]: `(R, S - order)` -> `(R, S)`.
    fn diff_backward(&self, dy: &Self::Tensor, order: usize) -> Result<Self::Tensor>;

    /// Mean over all elements of `f(x)`, `f` chosen by `kind`: any shape -> `(1)`.
    fn mean(&self, x: &Self::Tensor, kind: Reduction) -> Result<Self::Tensor>;

    /// Gradient of [`Backend::mean`] given the scalar upstream gradient `dy (1)`.
    fn mean_backward(
        &self,
        x: &Self::Tensor,
        dy: &Self::Tensor,
        kind: Reduction,
    ) -> Result<Self::Tensor>;

    /// In place: `param -= lr * grad`.
    fn sgd_step(&self, param: &mut Self::Tensor, grad: &Self::Tensor, lr: f32) -> Result<()>;

    /// In place: one Adam step on `param`, updating the moment estimates `m` and `v`.
    fn adam_step(
        &self,
        param: &mut Self::Tensor,
        grad: &Self::Tensor,
        m: &mut Self::Tensor,
        v: &mut Self::Tensor,
        hyper: AdamStep,
    ) -> Result<()>;

    /// In place: one Adam step on every target, with the same result as
    /// [`Backend::adam_step`] on each in turn (which the default does). The GPU backend moves
    /// the parameters and moments into one buffer each on the first call and then updates all
    /// of them with a single kernel dispatch.
    fn adam_step_all(
        &self,
        targets: &mut [AdamTarget<'_, Self::Tensor>],
        hyper: AdamStep,
    ) -> Result<()> {
        for t in targets {
            self.adam_step(t.param, t.grad, t.m, t.v, hyper)?;
        }
        Ok(())
    }

    /// In place: the curvature constraint of docs/layer.md on each row of `pos (U, S)`: second
    /// differences clipped to `[-max, max]`, first differences and values rebuilt by running
    /// sums and shifted to keep their means.
    fn curvature_constraint(&self, pos: &mut Self::Tensor, max: f32) -> Result<()>;
}
