//! Call backend ops directly: a convolution and the separable contraction on the GPU,
//! checked against the CPU.
//!
//! ```sh
//! cargo run --release --example backend_ops
//! ```
//!
//! Shapes are channels-first: `x (N, C, L)`, conv weights `(F, C, K)`, the separable layer's
//! positional weights `(U, L)` and channel weights `(U, C)`. Without a GPU adapter it says so
//! and stops, unless `CI` is set (then it fails: CI has one).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sepfc::backend::cpu::Cpu;
use sepfc::backend::gpu::Gpu;
use sepfc::backend::{Backend, Conv1dSpec};

/// `|a - b| <= max(rtol * max(|a|, |b|), atol)` for every pair; the worst gap.
fn check(what: &str, a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let (rtol, atol) = (1e-4, 1e-5);
    let mut worst = 0.0f32;
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let gap = (x - y).abs();
        assert!(
            gap <= (rtol * x.abs().max(y.abs())).max(atol),
            "{what}: index {i}: GPU {x}, CPU {y}"
        );
        worst = worst.max(gap);
    }
    println!("{what}: {} values agree, worst gap {worst:.2e}", a.len());
    worst
}

fn main() -> sepfc::Result<()> {
    let gpu = match Gpu::new() {
        Ok(gpu) => gpu,
        Err(e) if std::env::var_os("CI").is_some() => panic!("CI has a GPU adapter: {e}"),
        Err(e) => {
            println!("no GPU adapter: {e}");
            return Ok(());
        }
    };
    println!("GPU: {}", gpu.describe());
    let mut rng = StdRng::seed_from_u64(0);
    let mut uniform =
        |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
    let (n, c, l, f, k, u) = (4, 8, 50, 6, 7, 3);
    let (x, w, b) = (uniform(n * c * l), uniform(f * c * k), uniform(f));
    let spec = Conv1dSpec::same(k, 1);

    // the same op on both backends: upload, run, download
    let y_cpu = Cpu.conv1d(
        &Cpu.upload(&x, &[n, c, l])?,
        &Cpu.upload(&w, &[f, c, k])?,
        &Cpu.upload(&b, &[f])?,
        spec,
    )?;
    let y_gpu = gpu.conv1d(
        &gpu.upload(&x, &[n, c, l])?,
        &gpu.upload(&w, &[f, c, k])?,
        &gpu.upload(&b, &[f])?,
        spec,
    )?;
    check(
        "conv1d (4, 8, 50) * (6, 8, 7), same padding",
        &gpu.download(&y_gpu)?,
        &Cpu.download(&y_cpu)?,
    );

    // the separable contraction of the convolution's output: (N, F, L) -> (N, U)
    let (pos, chan) = (uniform(u * l), uniform(u * f));
    let s_cpu = Cpu.separable(
        &y_cpu,
        &Cpu.upload(&pos, &[u, l])?,
        &Cpu.upload(&chan, &[u, f])?,
    )?;
    let s_gpu = gpu.separable(
        &y_gpu,
        &gpu.upload(&pos, &[u, l])?,
        &gpu.upload(&chan, &[u, f])?,
    )?;
    check(
        "separable (4, 6, 50) -> (4, 3)",
        &gpu.download(&s_gpu)?,
        &Cpu.download(&s_cpu)?,
    );

    // and its gradients, in factorised form
    let dy = uniform(n * u);
    let g_cpu = Cpu.separable_backward(
        &y_cpu,
        &Cpu.upload(&pos, &[u, l])?,
        &Cpu.upload(&chan, &[u, f])?,
        &Cpu.upload(&dy, &[n, u])?,
        true,
    )?;
    let g_gpu = gpu.separable_backward(
        &y_gpu,
        &gpu.upload(&pos, &[u, l])?,
        &gpu.upload(&chan, &[u, f])?,
        &gpu.upload(&dy, &[n, u])?,
        true,
    )?;
    check(
        "separable d pos",
        &gpu.download(&g_gpu.dpos)?,
        &Cpu.download(&g_cpu.dpos)?,
    );
    check(
        "separable d chan",
        &gpu.download(&g_gpu.dchan)?,
        &Cpu.download(&g_cpu.dchan)?,
    );
    let (dx_gpu, dx_cpu) = (g_gpu.dx.expect("asked for"), g_cpu.dx.expect("asked for"));
    check(
        "separable d x",
        &gpu.download(&dx_gpu)?,
        &Cpu.download(&dx_cpu)?,
    );
    Ok(())
}
