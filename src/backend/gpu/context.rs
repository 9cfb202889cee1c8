//! Opening a wgpu device from the environment, and turning wgpu's asynchronous error reports
//! into [`Error`]s instead of panics.

use std::sync::{Arc, Mutex};

use super::GpuOptions;
use crate::{Error, Result};

/// The device, its queue and what we know about the adapter behind it.
pub(crate) struct Context {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    /// The device's limits, as requested: the adapter's, lowered by the options.
    pub limits: wgpu::Limits,
    /// The optional features the device was opened with.
    pub features: wgpu::Features,
    /// The first error wgpu reported since it was last taken.
    reported: Arc<Mutex<Option<Error>>>,
}

/// Preference order of adapter kinds: real GPUs first, software rasterisers last.
fn rank(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Whether an adapter is a software implementation (lavapipe, WARP, SwiftShader).
pub(crate) fn is_software(info: &wgpu::AdapterInfo) -> bool {
    info.device_type == wgpu::DeviceType::Cpu
}

/// The adapter's `limits` with those `options` lowers lowered.
fn lowered(mut limits: wgpu::Limits, options: &GpuOptions) -> wgpu::Limits {
    if let Some(n) = options.max_workgroup_invocations {
        limits.max_compute_invocations_per_workgroup =
            limits.max_compute_invocations_per_workgroup.min(n);
        limits.max_compute_workgroup_size_x = limits.max_compute_workgroup_size_x.min(n);
        limits.max_compute_workgroup_size_y = limits.max_compute_workgroup_size_y.min(n);
        limits.max_compute_workgroup_size_z = limits.max_compute_workgroup_size_z.min(n);
    }
    if let Some(bytes) = options.max_workgroup_storage_bytes {
        limits.max_compute_workgroup_storage_size =
            limits.max_compute_workgroup_storage_size.min(bytes);
    }
    if let Some(groups) = options.max_groups_per_dim {
        limits.max_compute_workgroups_per_dimension =
            limits.max_compute_workgroups_per_dimension.min(groups);
    }
    limits
}

/// The optional features sepfc uses that the adapter offers (`offered`) and `options` allow:
/// subgroups unless `portable`, timestamp queries when `timestamps`.
fn wanted_features(offered: wgpu::Features, options: &GpuOptions) -> wgpu::Features {
    let mut wanted = wgpu::Features::empty();
    if !options.portable {
        wanted |= wgpu::Features::SUBGROUP;
    }
    if options.timestamps {
        wanted |= wgpu::Features::TIMESTAMP_QUERY;
    }
    wanted & offered
}

fn convert(error: wgpu::Error) -> Error {
    match error {
        wgpu::Error::OutOfMemory { .. } => Error::GpuOutOfMemory {
            context: "allocating or running on the GPU".into(),
        },
        wgpu::Error::Validation { description, .. } => Error::Gpu {
            context: "validating GPU work".into(),
            detail: description,
        },
        wgpu::Error::Internal { description, .. } => Error::Gpu {
            context: "running GPU work".into(),
            detail: description,
        },
    }
}

impl Context {
    /// Opens the adapter chosen by `WGPU_ADAPTER_NAME` (a case-insensitive substring of its
    /// name) or else the most capable one, among the backends `WGPU_BACKEND` allows.
    /// The device has the adapter's limits lowered and the optional features chosen by
    /// `options`.
    pub fn open(options: &GpuOptions) -> Result<Self> {
        pollster::block_on(Self::open_async(options))
    }

    async fn open_async(options: &GpuOptions) -> Result<Self> {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        if wgpu::Backends::from_env().is_none() {
            // OpenGL only when asked for: on a headless machine without Vulkan, wgpu's GL
            // backend (llvmpipe through EGL) was seen to panic inside wgpu instead of
            // returning an error.
            descriptor.backends = wgpu::Backends::PRIMARY;
        }
        let backends = descriptor.backends;
        let instance = wgpu::Instance::new(descriptor);
        let adapters = instance.enumerate_adapters(backends).await;
        let names: Vec<String> = adapters
            .iter()
            .map(|a| {
                let i = a.get_info();
                format!("{} ({:?})", i.name, i.backend)
            })
            .collect();
        let wanted = std::env::var("WGPU_ADAPTER_NAME")
            .ok()
            .map(|n| n.to_lowercase());
        let chosen = match &wanted {
            Some(name) => adapters
                .into_iter()
                .find(|a| a.get_info().name.to_lowercase().contains(name.as_str()))
                .ok_or_else(|| {
                    Error::NoAdapter(format!(
                        "WGPU_ADAPTER_NAME={name} matches none of [{}]",
                        names.join(", ")
                    ))
                })?,
            None => adapters
                .into_iter()
                .min_by_key(|a| rank(a.get_info().device_type))
                .ok_or_else(|| {
                    Error::NoAdapter(format!(
                        "wgpu found no adapter for backends {backends:?} (on Linux without a GPU, install mesa-vulkan-drivers for lavapipe)"
                    ))
                })?,
        };
        let info = chosen.get_info();
        let limits = lowered(chosen.limits(), options);
        let features = wanted_features(chosen.features(), options);
        let (device, queue) = chosen
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("sepfc"),
                required_features: features,
                required_limits: limits.clone(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::NoAdapter(format!("{} refused a device: {e}", info.name)))?;
        let reported: Arc<Mutex<Option<Error>>> = Arc::new(Mutex::new(None));
        let slot = reported.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(convert(e));
        }));
        let slot = reported.clone();
        device.set_device_lost_callback(move |reason, message| {
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(Error::DeviceLost(format!("{reason:?}: {message}")));
        });
        Ok(Self {
            device,
            queue,
            info,
            limits,
            features,
            reported,
        })
    }

    /// Returns (and clears) the first error wgpu reported, tagged with what we were doing.
    pub fn check(&self, doing: &str) -> Result<()> {
        let taken = self
            .reported
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match taken {
            None => Ok(()),
            Some(Error::GpuOutOfMemory { .. }) => Err(Error::GpuOutOfMemory {
                context: doing.into(),
            }),
            Some(Error::Gpu { detail, .. }) => Err(Error::Gpu {
                context: doing.into(),
                detail,
            }),
            Some(other) => Err(other),
        }
    }
}
