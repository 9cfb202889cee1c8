//! README's walk from peaks to variant effects, `examples/peaks_to_variants.sh`, run as it is:
//! it must train a model that tells the planted motifs apart, write a bigWig per task, and
//! score SNVs in the planted GATA cores well below control SNVs away from the sites.

use std::process::Command;

#[test]
fn the_peaks_to_variants_walkthrough_runs_and_finds_the_broken_sites() {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/peaks_to_variants.sh");
    let output = Command::new("bash")
        .arg(script)
        .arg(dir.path())
        .env("SEPFC", env!("CARGO_BIN_EXE_sepfc"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    for task in ["gata", "ebox"] {
        let bigwig = dir.path().join(format!("chr4.{task}.bw"));
        assert!(std::fs::metadata(&bigwig).unwrap().len() > 1000, "{said}");
    }
    // "GATA core SNVs: 509, mean GATA logit change -2.051"
    let change = |kind: &str| -> f64 {
        let line = said
            .lines()
            .find(|l| l.starts_with(kind))
            .unwrap_or_else(|| panic!("no {kind} line in:\n{said}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let (core, control) = (change("GATA core SNVs"), change("control SNVs"));
    assert!(
        core < -0.5 && control.abs() < 0.3,
        "core {core}, control {control}:\n{said}"
    );
}
