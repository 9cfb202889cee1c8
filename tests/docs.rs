//! The library's documentation builds without a warning: every public item documented
//! (`#![warn(missing_docs)]` in lib.rs), every intra-doc link resolving, every code block
//! well formed. `cargo doc` runs with warnings as errors, in a target folder of its own so
//! that it never waits for the build lock of the `cargo test` that runs it.

use std::path::Path;
use std::process::Command;

#[test]
fn the_library_documents_without_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args(["doc", "--no-deps", "--lib", "--quiet"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .env("CARGO_TARGET_DIR", root.join("target").join("doc-check"))
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "cargo doc failed or warned:\n{stderr}"
    );
    let index = root.join("target/doc-check/doc/sepfc/index.html");
    assert!(index.is_file(), "no {}", index.display());
}
