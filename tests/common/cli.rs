//! Running the `sepfc` binary from the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `sepfc` binary.
pub fn sepfc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sepfc"))
        .args(args)
        .output()
        .expect("the sepfc binary runs")
}

/// Its stdout then stderr.
pub fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr)
}

/// Runs a command that must succeed; its output.
pub fn ok(args: &[&str]) -> String {
    let output = sepfc(args);
    let all = text(&output);
    assert!(output.status.success(), "sepfc {args:?} failed:\n{all}");
    all
}

/// The one error line of a command that must fail.
pub fn fails(args: &[&str]) -> String {
    let output = sepfc(args);
    let all = text(&output);
    assert!(
        !output.status.success(),
        "sepfc {args:?} should have failed:\n{all}"
    );
    let errors: Vec<&str> = all.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "expected one error line:\n{all}");
    errors[0].to_string()
}

/// `line` contains every part.
pub fn assert_mentions(line: &str, parts: &[&str]) {
    for p in parts {
        assert!(line.contains(p), "{line:?} does not mention {p:?}");
    }
}

/// A fresh folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sepfc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A path as text.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The small strand-aware separable model the command-line tests train on 100 bp with two
/// tasks: `[[layers]]` only.
pub const MODEL: &str = r#"
[[layers]]
type = "revcomp_conv1d"
filters = 8
kernel_size = 9
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 4

[[layers]]
type = "separable_fc"
units = 4
symmetric = true
activation = "relu"

[[layers]]
type = "dense"
units = 2
"#;

/// Simulates 200 sequences of 100 bp (tasks GATA, EBOX) into `dir/sim`.
pub fn simulate_200(dir: &Path) {
    ok(&[
        "simulate",
        "--out",
        s(&dir.join("sim")),
        "--n",
        "200",
        "--length",
        "100",
        "--seed",
        "4",
    ]);
}
