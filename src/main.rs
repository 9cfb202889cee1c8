//! The `sepfc` command line. For now: the demo (`sepfc` or `sepfc demo [--device D]`).

use std::process::ExitCode;

use sepfc::backend::Backend;
use sepfc::backend::cpu::Cpu;
use sepfc::backend::gpu::Gpu;
use sepfc::demo::{self, DemoConfig};

const USAGE: &str = "usage: sepfc [demo] [--device auto|gpu|cpu]

  demo    simulate sequences with a planted motif, train a small separable model on them and
          report its auROC on held-out sequences (the default command)
  --device  auto (default): a hardware GPU if wgpu finds one, else the CPU reference;
            gpu: any wgpu adapter, software ones (lavapipe) included; cpu: the CPU reference";

fn run_demo<B: Backend>(backend: &B) -> sepfc::Result<()> {
    let config = DemoConfig::default();
    println!(
        "sepfc demo on {}: {} training and {} held-out sequences of {} bp, half with a planted GATA motif",
        backend.describe(),
        config.train,
        config.test,
        config.length
    );
    let report = demo::run(backend, &config, |line| println!("  {line}"))?;
    println!("held-out auROC: {:.3}", report.test_auroc);
    println!("learned positional weights of the separable layer (sequence start to end):");
    for (unit, row) in report.positional_weights.iter().enumerate() {
        println!("  unit {unit}: {}", demo::sparkline(row));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut device = "auto".to_string();
    let mut rest = args.iter().map(String::as_str);
    while let Some(arg) = rest.next() {
        match arg {
            "demo" => {}
            "--device" => match rest.next() {
                Some(d @ ("auto" | "gpu" | "cpu")) => device = d.to_string(),
                other => {
                    eprintln!("error: --device takes auto, gpu or cpu, got {other:?}\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("error: unknown argument {other:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let result = match device.as_str() {
        "cpu" => run_demo(&Cpu),
        "gpu" => Gpu::new().and_then(|gpu| run_demo(&gpu)),
        _ => match Gpu::new() {
            Ok(gpu) if !gpu.is_software() => run_demo(&gpu),
            _ => run_demo(&Cpu),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
