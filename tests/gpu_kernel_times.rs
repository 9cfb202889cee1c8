//! Device time by kernel family from timestamp queries (`GpuOptions::timestamps`), as
//! `sepfc bench --device gpu` reports it: every dispatch of a training step is timed under
//! its family, the families the small benchmark model runs are all there, and their sum fits
//! inside the step's wall-clock time. lavapipe and llvmpipe's GL both have timestamp queries.

use std::io::Write;

use sepfc::backend::Backend;
use sepfc::backend::gpu::{Gpu, GpuOptions};
use sepfc::bench::{BenchModel, BenchOptions, run_bench};

#[test]
fn every_dispatch_of_a_training_step_is_timed_under_its_family() {
    // a device of its own and no other at the same time (two GL contexts on llvmpipe slow
    // each other down a hundredfold)
    let g = match Gpu::with_options(GpuOptions {
        timestamps: true,
        ..GpuOptions::default()
    }) {
        Ok(g) => g,
        Err(e) if std::env::var_os("CI").is_some() => panic!("CI is set but: {e}"),
        Err(e) => return eprintln!("no GPU adapter, skipped: {e}"),
    };
    // straight to stderr, past the test harness's capture, as tests/common does
    let _ = writeln!(
        std::io::stderr(),
        "GPU tests run on: {}; {}",
        g.describe(),
        g.tuning()
    );
    assert!(
        g.features().contains(wgpu::Features::TIMESTAMP_QUERY),
        "{}: expected timestamp queries",
        g.describe()
    );
    let options = BenchOptions {
        batch: 4,
        warmup: 2,
        min_steps: 3,
        seconds: 0.0,
        ..BenchOptions::new(BenchModel::Small)
    };
    let report = run_bench(&g, &options).unwrap();
    let times = report.train_step_kernel_times.expect("kernel times");
    let commands = report.train_step_commands.expect("command counts");
    let families: Vec<&str> = times.iter().map(|t| t.family.as_str()).collect();
    for family in [
        "conv forward",
        "conv backward",
        "pooling",
        "separable",
        "dense",
        "elementwise",
        "loss and reductions",
        "optimizer",
    ] {
        assert!(
            families.contains(&family),
            "{family} missing from {families:?}"
        );
    }
    let dispatches: f64 = times.iter().map(|t| t.dispatches).sum();
    assert_eq!(
        dispatches, commands.dispatches,
        "every dispatch is timed once"
    );
    for t in &times {
        assert!(t.milliseconds > 0.0, "{}: {} ms", t.family, t.milliseconds);
    }
    let device_ms: f64 = times.iter().map(|t| t.milliseconds).sum();
    let wall_ms = 1e3 * options.batch as f64 / report.train_samples_per_s;
    assert!(
        device_ms <= wall_ms,
        "device time {device_ms} ms exceeds the step's wall-clock {wall_ms} ms"
    );
    assert!(
        times
            .windows(2)
            .all(|w| w[0].milliseconds >= w[1].milliseconds),
        "longest first"
    );
    drop(g);
    // the backend without timestamps measures nothing
    assert!(Gpu::new().unwrap().kernel_times().is_none());
}
