//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod cli;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sepfc::backend::Backend;
use sepfc::backend::gpu::Gpu;

/// The GPU every test of a binary shares, opened once; the adapter is printed then.
///
/// Without an adapter, the test fails when `CI` is set (CI installs lavapipe, so a missing
/// adapter there is a broken setup, not a reason to skip); elsewhere it returns `None` and the
/// caller prints that it skipped.
pub fn gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    GPU.get_or_init(|| match Gpu::new() {
        Ok(gpu) => {
            // straight to stderr, past the test harness's capture, so every run shows it
            let _ = writeln!(
                std::io::stderr(),
                "GPU tests run on: {}; {}",
                gpu.describe(),
                gpu.tuning()
            );
            Some(gpu)
        }
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("CI is set but no GPU adapter could be opened: {e}")
        }
        Err(e) => {
            eprintln!("no GPU adapter, GPU tests skipped (set CI=1 to make this fail): {e}");
            None
        }
    })
    .as_ref()
}

/// A file of the repository's `data/` folder (see data/README.md); fails, never skips, when it is
/// missing.
pub fn project_data(relative: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(relative);
    assert!(
        path.exists(),
        "missing {}: see data/README.md",
        path.display()
    );
    path
}

/// A seeded generator, so that failures reproduce.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// `n` values uniform in `[-1, 1)`.
pub fn uniform(rng: &mut StdRng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// Asserts `|a - b| <= max(rtol * max(|a|, |b|), atol)` elementwise, naming the first
/// offending index.
pub fn assert_close(what: &str, actual: &[f32], expected: &[f32], rtol: f32, atol: f32) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "{what}: lengths {} and {} differ",
        actual.len(),
        expected.len()
    );
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        // approx's relative_eq is exactly |a - e| <= max(rtol * max(|a|, |e|), atol)
        assert!(
            approx::relative_eq!(a, e, epsilon = atol, max_relative = rtol),
            "{what}: index {i}: got {a}, expected {e} (|diff| {}, rtol {rtol}, atol {atol})",
            (a - e).abs()
        );
    }
}

/// A `snakemake` from PyPI (a fixed version) in a virtual environment under the target
/// directory, made on first use (~40 s). Without one, the test fails when `CI` is set and is
/// skipped (with a message) elsewhere.
pub fn snakemake() -> Option<PathBuf> {
    static SNAKEMAKE: OnceLock<Option<PathBuf>> = OnceLock::new();
    SNAKEMAKE
        .get_or_init(|| python_tool("snakemake-venv", &["snakemake==9.27.1"], "snakemake"))
        .clone()
}

/// `program` of the PyPI packages `requirements` (fixed versions), installed on first use into
/// the virtual environment `venv` under the target directory. Without it, the test fails when
/// `CI` is set and is skipped (with a message) elsewhere.
pub fn python_tool(venv: &str, requirements: &[&str], program: &str) -> Option<PathBuf> {
    // the tests of one binary run on threads: one makes the environment, the others wait
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _making = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(venv);
    let bin = venv.join("bin").join(program);
    // the requirements the environment was made with: another list makes it again
    let installed = venv.join("sepfc-requirements.txt");
    let wanted = requirements.join("\n");
    if bin.exists() && std::fs::read_to_string(&installed).is_ok_and(|had| had == wanted) {
        return Some(bin);
    }
    let ok = |c: &mut Command| c.status().is_ok_and(|s| s.success());
    let made = ok(Command::new("python3").arg("-m").arg("venv").arg(&venv))
        && ok(Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(requirements));
    if made {
        std::fs::write(&installed, wanted).unwrap();
        return Some(bin);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {requirements:?} could not be installed into {}",
        venv.display()
    );
    eprintln!("{requirements:?} could not be installed: its test skipped");
    None
}

/// Runs the workflow `snakefile` with `snakemake --cores 2` in `dir`; whether it succeeded.
pub fn run_workflow(snakemake: &Path, snakefile: &Path, dir: &Path) -> bool {
    Command::new(snakemake)
        .arg("--snakefile")
        .arg(snakefile)
        .args(["--cores", "2", "-q"])
        .current_dir(dir)
        .status()
        .unwrap()
        .success()
}
