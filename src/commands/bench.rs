//! `sepfc bench`: training and inference speed and peak memory of a benchmark model.

use std::path::PathBuf;

use super::device::{BackendTask, Device, run_on};
use crate::Result;
use crate::backend::Backend;
use crate::bench::{BenchOptions, BenchReport, StepKernelTime, profile_gpu_step, run_bench};
use crate::io::write_json;

struct BenchJob {
    options: BenchOptions,
}

impl BackendTask for BenchJob {
    type Output = BenchReport;

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<BenchReport> {
        let mut report = run_bench(backend, &self.options)?;
        // a GPU backend (it counts commands): kernel times from a second, profiled run
        if backend.commands().is_some() {
            report.train_step_kernel_times = profile_gpu_step(&self.options)?;
        }
        Ok(report)
    }
}

/// Runs `sepfc bench`: prints a line of figures, then the contract's key=value line, and writes
/// them as JSON to `json` if given.
pub fn run(options: BenchOptions, device: Device, json: Option<PathBuf>) -> Result<BenchReport> {
    let report = run_on(device, BenchJob { options })?;
    let memory = |v: Option<f64>| v.map_or("n/a".to_string(), |m| format!("{m:.0} MiB"));
    crate::say!(
        "{} model on {}, batch {}: training {:.1} samples/s ({} steps), inference {:.1} samples/s ({} passes), peak RSS {}, peak device memory {}",
        report.model,
        report.device,
        report.batch,
        report.train_samples_per_s,
        report.train_steps,
        report.inference_samples_per_s,
        report.inference_steps,
        memory(report.peak_rss_mib),
        memory(report.peak_device_mib),
    );
    if let Some(c) = report.train_step_commands {
        crate::say!(
            "per timed training step: {:.2} submits, {:.1} dispatches, {:.1} copies, {:.0} bytes read back, {:.2} buffers created",
            c.submits,
            c.dispatches,
            c.copies,
            c.bytes_read,
            c.buffers_created,
        );
    }
    match &report.train_step_kernel_times {
        Some(times) => crate::say!("{}", kernel_times_line(times)),
        None if report.train_step_commands.is_some() => {
            crate::say!("device time by kernel family: this adapter has no timestamp queries")
        }
        None => {}
    }
    // the last line, for scripts: key=value pairs (docs/contract.md)
    crate::say!(
        "train_samples_per_s={:.1} infer_samples_per_s={:.1} peak_rss_mib={}",
        report.train_samples_per_s,
        report.inference_samples_per_s,
        report
            .peak_rss_mib
            .map_or("nan".to_string(), |m| format!("{m:.0}"))
    );
    if let Some(path) = json {
        write_json(&path, &report)?;
    }
    Ok(report)
}

/// E.g. `device time per training step (timestamps, a separate 5-step run): 4.10 ms: conv
/// backward 2.00 ms (49%, 12 dispatches), ...`.
fn kernel_times_line(times: &[StepKernelTime]) -> String {
    let total: f64 = times.iter().map(|t| t.milliseconds).sum();
    let families: Vec<String> = times
        .iter()
        .map(|t| {
            format!(
                "{} {:.3} ms ({:.0}%, {:.0} dispatches)",
                t.family,
                t.milliseconds,
                100.0 * t.milliseconds / total.max(f64::MIN_POSITIVE),
                t.dispatches
            )
        })
        .collect();
    format!(
        "device time per training step (timestamps, a separate 5-step run): {total:.3} ms: {}",
        families.join(", ")
    )
}
