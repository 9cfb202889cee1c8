//! wgpu's GL backend (llvmpipe through Mesa's EGL on CI) runs what the Vulkan backend runs:
//! every test file and example that opens the GPU is run again with `WGPU_BACKEND=gl`, and the
//! demo trains to the same losses and held-out scores on both backends.
//!
//! With `CI` set a missing GL adapter fails (CI installs `libegl-mesa0 libgles2`); elsewhere the
//! tests say so and skip.

use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The test files (`tests/*.rs`) and examples (`examples/*.rs`) that open the GPU, as `cargo
/// test` target arguments: those that call the tests' shared `gpu()`, name the `Gpu` backend
/// or pass `--device gpu`.
fn gpu_targets() -> Vec<String> {
    let mut targets = Vec::new();
    for (folder, flag) in [("tests", "--test"), ("examples", "--example")] {
        let mut names: Vec<String> = std::fs::read_dir(Path::new(ROOT).join(folder))
            .expect("the folder is readable")
            .map(|entry| entry.expect("a folder entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "rs"))
            .filter(|path| {
                let text = std::fs::read_to_string(path).expect("a source file");
                ["gpu()", "Gpu", "\"gpu\""].iter().any(|s| text.contains(s))
            })
            .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
            .filter(|name| name != "gl_backend")
            .collect();
        names.sort();
        for name in names {
            targets.push(flag.to_string());
            targets.push(name);
        }
    }
    targets
}

/// Whether `output` (of a program that opened the GPU) names a GL adapter; without one, a
/// failure under `CI`, else a note that the GL tests skipped.
fn on_gl(what: &str, output: &str) -> bool {
    if output.contains("(Gl,") {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {what} found no GL adapter:\n{output}"
    );
    eprintln!("no GL adapter (install libegl-mesa0 libgles2), GL tests skipped");
    false
}

/// `sepfc demo --device gpu` on the backend `WGPU_BACKEND` names.
/// `sepfc demo --device gpu` on `backend`, with the portable reductions on both (GL has no
/// subgroups; Vulkan on lavapipe would otherwise add in another order).
fn demo(backend: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sepfc"))
        .args(["demo", "--device", "gpu"])
        .env("WGPU_BACKEND", backend)
        .env(sepfc::backend::gpu::PORTABLE_VAR, "1")
        .output()
        .expect("sepfc runs")
}

#[test]
fn the_gpu_tests_pass_on_the_gl_backend_too() {
    let targets = gpu_targets();
    assert!(
        ["gpu_ops", "model_gpu_vs_cpu", "backend_ops"]
            .iter()
            .all(|name| targets.iter().any(|t| t == name)),
        "the GPU test files were not found: {targets:?}"
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(ROOT).arg("test");
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let output = command
        .args(&targets)
        .env("WGPU_BACKEND", "gl")
        .output()
        .expect("cargo runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "the GPU tests failed on GL:\n{stdout}\n{stderr}"
    );
    // every test binary that opened the GPU printed a GL adapter, none another backend
    let all = format!("{stdout}{stderr}");
    if !on_gl("the GPU tests", &all) {
        return;
    }
    let gl = all.lines().filter(|l| l.contains("(Gl,")).count();
    for other in ["(Vulkan,", "(Metal,", "(Dx12,", "(BrowserWebGpu,"] {
        assert!(
            !all.contains(other),
            "a test ran on {other} under WGPU_BACKEND=gl:\n{all}"
        );
    }
    let binaries = all.matches("Running ").count();
    assert!(gl > 0, "no GL adapter printed:\n{all}");
    eprintln!("GL: {binaries} test binaries ran, {gl} GL adapter lines");
}

/// The numbers of the demo's report: each epoch's training loss, then the held-out auROC and
/// auPRC (the adapter and the speeds left out).
fn demo_figures(output: &Output) -> Vec<f64> {
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let mut figures = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.split("train loss ").nth(1) {
            figures.push(rest.split(',').next().unwrap().trim().parse().unwrap());
        }
        if let Some(rest) = line.strip_prefix("held-out auROC: ") {
            for part in rest.split(", auPRC: ") {
                figures.push(part.trim().parse().unwrap());
            }
        }
    }
    figures
}

#[test]
fn the_demo_trains_the_same_on_gl_as_on_vulkan() {
    let gl = demo("gl");
    if !on_gl("the demo", &String::from_utf8_lossy(&gl.stderr)) {
        return;
    }
    let vulkan = demo("vulkan");
    assert!(vulkan.status.success() && gl.status.success());
    let vulkan_text = String::from_utf8_lossy(&vulkan.stderr);
    if !vulkan_text.contains("(Vulkan,") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but Vulkan found no adapter:\n{vulkan_text}"
        );
        eprintln!("no Vulkan adapter, nothing to compare GL with");
        return;
    }
    let (a, b) = (demo_figures(&vulkan), demo_figures(&gl));
    assert_eq!(a.len(), 8, "6 epoch losses, auROC and auPRC: {a:?}");
    // printed to 3-4 decimals; the two backends' float32 sums may round across a last digit
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 2e-4, "Vulkan {a:?}, GL {b:?}");
    }
    assert_eq!(a.len(), b.len());
}
