//! Every shader translated by naga for each of wgpu's backends: SPIR-V (Vulkan), MSL (Metal),
//! HLSL (DX12) and GLSL ES 3.10 (GL), each after validating the module with only the
//! capabilities that backend supports, so a shader that would fail on a Metal or DX12 GPU fails
//! here. SPIR-V also goes through `spirv-val` and GLSL through `glslangValidator` (Debian's
//! spirv-tools and glslang-tools, which .ci/run installs); without them those two checks fail
//! when `CI` is set and say that they skipped elsewhere.

use std::path::Path;
use std::process::Command;

use naga::back::{glsl, hlsl, msl, spv};
use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};
use sepfc::backend::gpu::shaders;

/// A shader's module, parsed.
fn parse(name: &str, source: &str) -> naga::Module {
    naga::front::wgsl::parse_str(source).unwrap_or_else(|e| {
        panic!("{name}.wgsl: {}", e.emit_to_string(source));
    })
}

/// `module` validated with the `capabilities` of one backend.
fn validate(
    name: &str,
    target: &str,
    module: &naga::Module,
    capabilities: Capabilities,
) -> ModuleInfo {
    Validator::new(ValidationFlags::all(), capabilities)
        .validate(module)
        .unwrap_or_else(|e| panic!("{name}.wgsl does not validate for {target}: {e:?}"))
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
        "{shader}.wgsl: entry points"
    );
    for (entry, name) in module.entry_points.iter().zip(names) {
        let name = name
            .as_ref()
            .unwrap_or_else(|e| panic!("{shader}.wgsl {}: {e:?}", entry.name));
        let definition = format!("{kind} {name}(");
        assert!(
            source.contains(&definition),
            "{shader}.wgsl: no {definition}"
        );
    }
}

#[test]
fn every_shader_translates_to_spirv_and_spirv_val_accepts_it() {
    let checked = tool("spirv-val", "spirv-tools");
    for shader in shaders() {
        let module = parse(shader.name, shader.source);
        let info = validate(
            shader.name,
            "SPIR-V",
            &module,
            spv::supported_capabilities(),
        );
        let words = spv::write_vec(&module, &info, &spv::Options::default(), None)
            .unwrap_or_else(|e| panic!("{}.wgsl to SPIR-V: {e:?}", shader.name));
        assert_eq!(words.first(), Some(&0x0723_0203), "the SPIR-V magic number");
        if checked {
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            let what = format!("{}.wgsl as SPIR-V", shader.name);
            external_check(
                "spirv-val",
                &["--target-env", "vulkan1.0"],
                "shader.spv",
                &bytes,
                &what,
            );
        }
    }
}

#[test]
fn every_shader_translates_to_msl() {
    for shader in shaders() {
        let module = parse(shader.name, shader.source);
        let info = validate(shader.name, "MSL", &module, msl::supported_capabilities());
        let (source, translation) = msl::write_string(
            &module,
            &info,
            &msl::Options::default(),
            &msl::PipelineOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{}.wgsl to MSL: {e:?}", shader.name));
        entry_points_written(
            shader.name,
            &module,
            &translation.entry_point_names,
            &source,
            "kernel void",
        );
    }
}

#[test]
fn every_shader_translates_to_hlsl() {
    for shader in shaders() {
        let module = parse(shader.name, shader.source);
        let info = validate(shader.name, "HLSL", &module, hlsl::supported_capabilities());
        let (options, pipeline) = (hlsl::Options::default(), hlsl::PipelineOptions::default());
        let mut source = String::new();
        let reflection = hlsl::Writer::new(&mut source, &options, &pipeline)
            .write(&module, &info, None)
            .unwrap_or_else(|e| panic!("{}.wgsl to HLSL: {e:?}", shader.name));
        entry_points_written(
            shader.name,
            &module,
            &reflection.entry_point_names,
            &source,
            "void",
        );
        assert!(
            source.contains("[numthreads("),
            "{}.wgsl: a compute shader",
            shader.name
        );
    }
}

#[test]
fn every_entry_point_translates_to_glsl_and_glslang_accepts_it() {
    let checked = tool("glslangValidator", "glslang-tools");
    for shader in shaders() {
        let module = parse(shader.name, shader.source);
        let info = validate(shader.name, "GLSL", &module, glsl::supported_capabilities());
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
            .unwrap_or_else(|e| panic!("{}.wgsl {} to GLSL: {e:?}", shader.name, entry.name));
            assert!(source.starts_with("#version 310 es"), "{}", entry.name);
            if checked {
                let what = format!("{}.wgsl {} as GLSL", shader.name, entry.name);
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
