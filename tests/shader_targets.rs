//! Every shader translated by naga for each of wgpu's backends: SPIR-V (Vulkan), MSL (Metal),
//! HLSL (DX12) and GLSL ES 3.10 (GL), each after validating the module with only the
//! capabilities that backend supports, so a shader that would fail on a Metal or DX12 GPU fails
//! here. SPIR-V also goes through `spirv-val` and GLSL through `glslangValidator` (Debian's
//! spirv-tools and glslang-tools, which .ci/run installs); without them those two checks fail
//! when `CI` is set and say that they skipped elsewhere.
//!
//! Every variant the backend can choose is translated: the workgroup shapes [`Tuning`] picks
//! for WebGPU's default limits and for two lowered ones, set as pipeline constants, and, for the
//! kernels that reduce across a workgroup, both `group_sum`s (subgroup operations, and
//! workgroup memory alone). GL gets the portable variants only: wgpu's GL backend offers no
//! subgroups. Each variant's workgroup memory is checked against the limits it was chosen for
//! (wgpu does not check that limit itself).

use std::path::Path;
use std::process::Command;

use naga::back::{glsl, hlsl, msl, spv};
use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};
use sepfc::backend::gpu::{Shader, Tuning, shaders};

/// A shader with one choice of workgroup shapes and `group_sum`.
struct Variant {
    shader: &'static Shader,
    tuning: Tuning,
    /// The limits the tuning was chosen for.
    limits: wgpu::Limits,
    /// For messages: the file, the tile side and the reduction.
    label: String,
}

impl Variant {
    /// The module, parsed, validated with `capabilities` and with its pipeline constants set.
    fn module(&self, target: &str, capabilities: Capabilities) -> (naga::Module, ModuleInfo) {
        let source = self.shader.source(self.tuning.subgroups);
        let module = naga::front::wgsl::parse_str(&source).unwrap_or_else(|e| {
            panic!("{}: {}", self.label, e.emit_to_string(&source));
        });
        let info = Validator::new(ValidationFlags::all(), capabilities)
            .validate(&module)
            .unwrap_or_else(|e| panic!("{} does not validate for {target}: {e:?}", self.label));
        let mut constants = naga::back::PipelineConstants::default();
        for (name, value) in self.tuning.constants() {
            constants.insert(name.to_string(), value);
        }
        let (module, info) =
            naga::back::pipeline_constants::process_overrides(&module, &info, None, &constants)
                .unwrap_or_else(|e| panic!("{}: constants for {target}: {e:?}", self.label));
        (module.into_owned(), info.into_owned())
    }
}

/// Every shader under WebGPU's default limits and two lowered ones, with both `group_sum`s
/// where it reduces (`subgroups`: whether to include the subgroup form).
fn variants(subgroups: bool) -> Vec<Variant> {
    let lowered = |invocations, storage| wgpu::Limits {
        max_compute_invocations_per_workgroup: invocations,
        max_compute_workgroup_size_x: invocations,
        max_compute_workgroup_size_y: invocations,
        max_compute_workgroup_storage_size: storage,
        ..wgpu::Limits::default()
    };
    let all_limits = [
        wgpu::Limits::default(),
        lowered(64, 4096),
        lowered(16, 2048),
    ];
    let mut out = Vec::new();
    for shader in shaders() {
        for limits in &all_limits {
            let forms: &[bool] = if shader.reduces() && subgroups {
                &[false, true]
            } else {
                &[false]
            };
            for &with_subgroups in forms {
                let tuning = Tuning::choose(limits, with_subgroups).unwrap();
                let label = format!(
                    "{}.wgsl (TS {}, RWG {}, {})",
                    shader.name,
                    tuning.tile_side,
                    tuning.reduction,
                    if with_subgroups {
                        "subgroups"
                    } else {
                        "portable"
                    }
                );
                out.push(Variant {
                    shader,
                    tuning,
                    limits: limits.clone(),
                    label,
                });
            }
        }
    }
    out
}

/// Whether an external validator is installed; under `CI` it must be.
fn tool(program: &str, package: &str) -> bool {
    let found = Command::new(program).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but {program} is missing (apt-get install {package})"
        );
        eprintln!("{program} not installed (apt-get install {package}): its check skipped");
    }
    found
}

/// Runs `program args.. file` on `contents` written to `file` in a fresh folder; panics with
/// the tool's messages if it rejects it.
fn external_check(program: &str, args: &[&str], file: &str, contents: &[u8], what: &str) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(file);
    std::fs::write(&path, contents).expect("the translation is written");
    let output = Command::new(program)
        .args(args)
        .arg(Path::new(&path))
        .output()
        .expect("the validator runs");
    assert!(
        output.status.success(),
        "{program} rejects {what}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every entry point of `module` was translated, and `source` defines it as `kind name(`.
fn entry_points_written<E: std::fmt::Debug>(
    shader: &str,
    module: &naga::Module,
    names: &[Result<String, E>],
    source: &str,
    kind: &str,
) {
    assert_eq!(
        names.len(),
        module.entry_points.len(),
        "{shader}: entry points"
    );
    for (entry, name) in module.entry_points.iter().zip(names) {
        let name = name
            .as_ref()
            .unwrap_or_else(|e| panic!("{shader} {}: {e:?}", entry.name));
        let definition = format!("{kind} {name}(");
        assert!(source.contains(&definition), "{shader}: no {definition}");
    }
}

#[test]
fn every_variant_stays_within_the_workgroup_memory_and_invocations_it_was_chosen_for() {
    let mut largest = 0;
    for v in variants(true) {
        let (module, info) = v.module("naga", Capabilities::all());
        for (index, entry) in module.entry_points.iter().enumerate() {
            let uses = info.get_entry_point(index);
            let bytes: u32 = module
                .global_variables
                .iter()
                .filter(|(handle, var)| {
                    var.space == naga::AddressSpace::WorkGroup && !uses[*handle].is_empty()
                })
                .map(|(_, var)| module.types[var.ty].inner.size(module.to_ctx()))
                .sum();
            let limit = v.limits.max_compute_workgroup_storage_size;
            assert!(
                bytes <= limit,
                "{} {}: {bytes} bytes of workgroup memory, limit {limit}",
                v.label,
                entry.name
            );
            let invocations: u32 = entry.workgroup_size.iter().product();
            assert!(
                invocations <= v.limits.max_compute_invocations_per_workgroup,
                "{} {}: {invocations} invocations",
                v.label,
                entry.name
            );
            largest = largest.max(bytes);
        }
    }
    // the default tiles: two 16 x 64 tiles of floats
    assert_eq!(
        largest, 8192,
        "the conv kernels' tiles under the default limits"
    );
}

#[test]
fn every_shader_translates_to_spirv_and_spirv_val_accepts_it() {
    let checked = tool("spirv-val", "spirv-tools");
    for v in variants(true) {
        let (module, info) = v.module("SPIR-V", spv::supported_capabilities());
        // as wgpu's Vulkan backend: SPIR-V 1.3 (Vulkan 1.1) where subgroups are used
        let (version, env) = if v.tuning.subgroups {
            ((1, 3), "vulkan1.1")
        } else {
            ((1, 0), "vulkan1.0")
        };
        let options = spv::Options {
            lang_version: version,
            ..spv::Options::default()
        };
        let words = spv::write_vec(&module, &info, &options, None)
            .unwrap_or_else(|e| panic!("{} to SPIR-V: {e:?}", v.label));
        assert_eq!(words.first(), Some(&0x0723_0203), "the SPIR-V magic number");
        if checked {
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            let what = format!("{} as SPIR-V", v.label);
            external_check(
                "spirv-val",
                &["--target-env", env],
                "shader.spv",
                &bytes,
                &what,
            );
        }
    }
}

#[test]
fn every_shader_translates_to_msl() {
    for v in variants(true) {
        let (module, info) = v.module("MSL", msl::supported_capabilities());
        let (source, translation) = msl::write_string(
            &module,
            &info,
            &msl::Options::default(),
            &msl::PipelineOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{} to MSL: {e:?}", v.label));
        entry_points_written(
            &v.label,
            &module,
            &translation.entry_point_names,
            &source,
            "kernel void",
        );
    }
}

#[test]
fn every_shader_translates_to_hlsl() {
    for v in variants(true) {
        let (module, info) = v.module("HLSL", hlsl::supported_capabilities());
        let (options, pipeline) = (hlsl::Options::default(), hlsl::PipelineOptions::default());
        let mut source = String::new();
        let reflection = hlsl::Writer::new(&mut source, &options, &pipeline)
            .write(&module, &info, None)
            .unwrap_or_else(|e| panic!("{} to HLSL: {e:?}", v.label));
        entry_points_written(
            &v.label,
            &module,
            &reflection.entry_point_names,
            &source,
            "void",
        );
        assert!(
            source.contains("[numthreads("),
            "{}: a compute shader",
            v.label
        );
    }
}

#[test]
fn every_entry_point_translates_to_glsl_and_glslang_accepts_it() {
    let checked = tool("glslangValidator", "glslang-tools");
    for v in variants(false) {
        let (module, info) = v.module("GLSL", glsl::supported_capabilities());
        for entry in &module.entry_points {
            assert_eq!(entry.stage, naga::ShaderStage::Compute, "{}", entry.name);
            let pipeline = glsl::PipelineOptions {
                shader_stage: naga::ShaderStage::Compute,
                entry_point: entry.name.clone(),
                multiview: None,
            };
            let options = glsl::Options::default(); // OpenGL ES 3.10, as wgpu's GL backend
            let mut source = String::new();
            glsl::Writer::new(
                &mut source,
                &module,
                &info,
                &options,
                &pipeline,
                naga::proc::BoundsCheckPolicies::default(),
            )
            .and_then(|mut writer| writer.write())
            .unwrap_or_else(|e| panic!("{} {} to GLSL: {e:?}", v.label, entry.name));
            assert!(source.starts_with("#version 310 es"), "{}", entry.name);
            if checked {
                let what = format!("{} {} as GLSL", v.label, entry.name);
                external_check(
                    "glslangValidator",
                    &[],
                    "shader.comp",
                    source.as_bytes(),
                    &what,
                );
            }
        }
    }
}
