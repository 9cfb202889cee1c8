//! From attributions to motifs: a model trained on simulated sequences with a planted GATA site
//! and E-box, its DeepSHAP hypothetical contributions written by `sepfc explain --npz`, read as
//! they are by modisco-lite (PyPI's TF-MoDISco, installed on first use into a virtual
//! environment under the target folder), and each task's planted motif among the patterns it
//! finds (the planted consensus or its reverse complement in a pattern's consensus, at most one
//! base off).

mod common;

use std::path::Path;
use std::process::Command;

use common::cli::{ok, s};
use common::python_tool;

const TRAIN: &str = r#"
[data]
fasta = "sim/sequences.fa"
labels = "sim/labels.tsv"
valid_fraction = 0.1

[train]
lr = 0.005
epochs = 12
batch_size = 128
seed = 0

[[layers]]
type = "revcomp_conv1d"
filters = 16
kernel_size = 15
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 10
stride = 8

[[layers]]
type = "separable_fc"
units = 16
symmetric = true
tie_rc_channels = true
activation = "relu"

[[layers]]
type = "dense"
units = 2
"#;

/// The planted motifs: task, consensus.
const PLANTED: [(&str, &str); 2] = [("GATA", "AGATAAGG"), ("EBOX", "CAGCTG")];

/// The first `n` records of `fasta` labelled 1 for `task` in `labels`, written to `out`.
fn positives(fasta: &Path, labels: &Path, task: &str, n: usize, out: &Path) {
    let labels = std::fs::read_to_string(labels).unwrap();
    let mut lines = labels.lines();
    let column = lines
        .next()
        .unwrap()
        .split('\t')
        .position(|c| c == task)
        .unwrap();
    let positive: std::collections::HashSet<&str> = lines
        .filter(|l| l.split('\t').nth(column) == Some("1"))
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    let text = std::fs::read_to_string(fasta).unwrap();
    let records: Vec<&str> = text
        .split('>')
        .skip(1)
        .filter(|r| positive.contains(r.split_whitespace().next().unwrap()))
        .take(n)
        .collect();
    assert_eq!(records.len(), n, "{task}: not enough positives");
    std::fs::write(
        out,
        records.iter().map(|r| format!(">{r}")).collect::<String>(),
    )
    .unwrap();
}

fn reverse_complement(s: &str) -> String {
    String::from_utf8(sepfc::dna::reverse_complement(s.as_bytes())).unwrap()
}

/// Whether `motif` sits in `consensus` with at most one base off (`n`, no clear base, counts
/// as off).
fn holds(consensus: &str, motif: &str) -> bool {
    let (c, m) = (consensus.as_bytes(), motif.as_bytes());
    c.len() >= m.len()
        && (0..=c.len() - m.len()).any(|at| {
            c[at..at + m.len()]
                .iter()
                .zip(m)
                .filter(|(a, b)| a != b)
                .count()
                <= 1
        })
}

#[test]
fn modisco_finds_each_planted_motif_in_sepfcs_deepshap_contributions() {
    let Some(modisco) = python_tool("modisco-venv", &["modisco-lite==3.0.0"], "modisco") else {
        return;
    };
    let python = modisco.with_file_name("python");
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    ok(&[
        "simulate",
        "--out",
        s(&dir.join("sim")),
        "--n",
        "3000",
        "--length",
        "200",
        "--seed",
        "1",
    ]);
    std::fs::write(dir.join("train.toml"), TRAIN).unwrap();
    ok(&[
        "train",
        "--config",
        s(&dir.join("train.toml")),
        "--out",
        s(&dir.join("run")),
        "--device",
        "cpu",
    ]);
    for (task, consensus) in PLANTED {
        let fasta = dir.join(format!("{task}.fa"));
        positives(
            &dir.join("sim/sequences.fa"),
            &dir.join("sim/labels.tsv"),
            task,
            600,
            &fasta,
        );
        let prefix = dir.join(task);
        ok(&[
            "explain",
            "--model",
            s(&dir.join("run")),
            "--fasta",
            s(&fasta),
            "--out",
            s(&dir.join(format!("{task}.tsv"))),
            "--task",
            task,
            "--method",
            "deepshap",
            "--references",
            "10",
            "--npz",
            s(&prefix),
            "--device",
            "cpu",
        ]);
        let h5 = dir.join(format!("{task}.h5"));
        let run = Command::new(&modisco)
            .arg("motifs")
            .arg("-s")
            .arg(prefix.with_extension("ohe.npz"))
            .arg("-a")
            .arg(prefix.with_extension("hyp.npz"))
            .args(["-n", "2000", "-w", "200", "-o", s(&h5)])
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "modisco motifs failed:\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        // each positive pattern's consensus: the base of each position whose frequency passes 0.5
        let read = r#"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
for name in f.get("pos_patterns", {}):
    ppm = f["pos_patterns"][name]["sequence"][:]
    n = len(f["pos_patterns"][name]["seqlets"]["start"][:])
    print(n, "".join("ACGT"[r.argmax()] if r.max() > 0.5 else "n" for r in ppm))
"#;
        let out = Command::new(&python)
            .args(["-c", read, s(&h5)])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let patterns = String::from_utf8_lossy(&out.stdout).to_string();
        eprintln!("{task}: modisco's positive patterns (seqlets, consensus):\n{patterns}");
        let found = patterns.lines().any(|l| {
            let consensus_of = l.split_whitespace().nth(1).unwrap_or("");
            holds(consensus_of, consensus) || holds(consensus_of, &reverse_complement(consensus))
        });
        assert!(found, "{task}: no pattern holds {consensus}:\n{patterns}");
    }
}
