//! `--device auto|gpu|cpu`: running generic work on the backend asked for.

use std::fmt;
use std::str::FromStr;

use crate::Result;
use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::backend::gpu::Gpu;

/// Where to compute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Device {
    /// A hardware GPU if wgpu finds one, else the CPU.
    #[default]
    Auto,
    /// Any wgpu adapter, software ones (lavapipe) included; an error if there is none.
    Gpu,
    /// The CPU backend.
    Cpu,
}

impl FromStr for Device {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Device::Auto),
            "gpu" => Ok(Device::Gpu),
            "cpu" => Ok(Device::Cpu),
            other => Err(format!("unknown device {other:?}: choose auto, gpu or cpu")),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Device::Auto => "auto",
            Device::Gpu => "gpu",
            Device::Cpu => "cpu",
        })
    }
}

/// Work that runs on any backend.
pub trait BackendTask {
    /// What the work returns.
    type Output;
    /// Runs the work on `backend`.
    fn run<B: Backend + 'static>(self, backend: &B) -> Result<Self::Output>;
}

/// Runs `task` on `device`, saying on stderr which device it chose.
pub fn run_on<T: BackendTask>(device: Device, task: T) -> Result<T::Output> {
    let announce = |what: &str| eprintln!("sepfc: computing on {what}");
    match device {
        Device::Cpu => {
            announce(&Cpu.describe());
            task.run(&Cpu)
        }
        Device::Gpu => {
            let gpu = Gpu::new()?;
            announce(&gpu.describe());
            task.run(&gpu)
        }
        Device::Auto => match Gpu::new() {
            Ok(gpu) if !gpu.is_software() => {
                announce(&gpu.describe());
                task.run(&gpu)
            }
            Ok(gpu) => {
                announce(&format!(
                    "{} (only a software GPU, {}, was found; --device gpu uses it)",
                    Cpu.describe(),
                    gpu.describe()
                ));
                task.run(&Cpu)
            }
            Err(_) => {
                announce(&format!("{} (no GPU found)", Cpu.describe()));
                task.run(&Cpu)
            }
        },
    }
}
