//! sepfc's assay-data readers and writers against independent tools from PyPI (pysam, pyfaidx,
//! installed on first use into a virtual environment under the target folder by
//! `tests/python/assay_check.py`'s requirements): genome windows fetched from a plain and a
//! bgzip-compressed genome, and the `.fai` and `.gzi` indexes sepfc writes.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sepfc::data::genome::{Genome, fai_path, gzi_path, write_fai};

/// The pinned PyPI packages of `assay_check.py`.
const REQUIREMENTS: [&str; 6] = [
    "pysam==0.24.1",
    "pyfaidx==0.9.2.2",
    "biopython==1.88",
    "pyBigWig==0.3.29",
    "numpy==2.4.6",
    "scipy==1.17.1",
];

/// The virtual environment's Python, or `None` (test skipped) off CI when it cannot be made.
fn python() -> Option<PathBuf> {
    common::python_tool("assay-venv", &REQUIREMENTS, "python")
}

/// Runs `assay_check.py` with `args`; its standard output.
fn assay_check(python: &Path, args: &[&Path]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/assay_check.py");
    let output = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "assay_check.py {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A random genome: sequences of the given lengths in 60-base lines, with lower-case and N runs.
fn random_genome(rng: &mut StdRng, chroms: &[(&str, usize)]) -> String {
    let mut text = String::new();
    for (name, length) in chroms {
        text.push_str(&format!(">{name} random\n"));
        let mut seq: Vec<u8> = (0..*length)
            .map(|_| b"ACGT"[rng.random_range(0..4)])
            .collect();
        for _ in 0..length / 5000 + 1 {
            let from = rng.random_range(0..*length);
            let to = (from + rng.random_range(1..400)).min(*length);
            let n = rng.random_bool(0.5);
            for b in &mut seq[from..to] {
                *b = if n { b'N' } else { b.to_ascii_lowercase() };
            }
        }
        for line in seq.chunks(60) {
            text.push_str(std::str::from_utf8(line).unwrap());
            text.push('\n');
        }
    }
    text
}

fn bgzip(text: &str, path: &Path) {
    let mut writer = noodles_bgzf::io::Writer::new(std::fs::File::create(path).unwrap());
    writer.write_all(text.as_bytes()).unwrap();
    writer.finish().unwrap();
}

#[test]
fn genome_windows_and_indexes_agree_with_pysam_and_pyfaidx() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = StdRng::seed_from_u64(7);
    let chroms = [("chr1", 150_000), ("chr2", 70_001), ("chrM", 500)];
    let text = random_genome(&mut rng, &chroms);
    let plain = d.join("genome.fa");
    std::fs::write(&plain, &text).unwrap();
    let compressed = d.join("genome.fa.gz");
    bgzip(&text, &compressed);
    for genome in [&plain, &compressed] {
        assay_check(&python, &[Path::new("index"), genome]);
    }

    // sepfc's indexes are samtools' byte for byte (the .gzi of 64 KiB blocks: 3 after the first)
    for (genome, name) in [(&plain, "ours.fa"), (&compressed, "ours.fa.gz")] {
        let ours = d.join(name);
        std::fs::copy(genome, &ours).unwrap();
        write_fai(&ours).unwrap();
        let read = |p: PathBuf| std::fs::read(p).unwrap();
        assert_eq!(read(fai_path(&ours)), read(fai_path(genome)), "{name}.fai");
        if genome == &compressed {
            let gzi = read(gzi_path(&ours));
            assert_eq!(gzi, read(gzi_path(genome)), "{name}.gzi");
            assert_eq!(u64::from_le_bytes(gzi[..8].try_into().unwrap()), 3);
        }
    }

    // windows anywhere, at the ends, and across the compressed blocks' boundaries
    let mut regions: Vec<(&str, u64, u64)> = Vec::new();
    for &(chrom, length) in &chroms {
        let length = length as u64;
        regions.extend([
            (chrom, 0, 1),
            (chrom, length - 1, length),
            (chrom, 0, length.min(3000)),
        ]);
        for _ in 0..100 {
            let start = rng.random_range(0..length);
            let end = (start + rng.random_range(1..2500)).min(length);
            regions.push((chrom, start, end));
        }
    }
    for boundary in [65_280u64, 130_560] {
        // near the uncompressed ends of the first blocks (inside chr1)
        regions.push(("chr1", boundary - 700, boundary + 700));
    }
    let listed: String = regions
        .iter()
        .map(|(c, s, e)| format!("{c}\t{s}\t{e}\n"))
        .collect();
    let regions_file = d.join("regions.tsv");
    std::fs::write(&regions_file, listed).unwrap();
    for genome in [&plain, &compressed] {
        let sepfc = Genome::open(genome).unwrap();
        let theirs = assay_check(&python, &[Path::new("windows"), genome, &regions_file]);
        let lines: Vec<&str> = theirs.lines().collect();
        assert_eq!(lines.len(), regions.len());
        for (&(chrom, start, end), line) in regions.iter().zip(lines) {
            let ours = String::from_utf8(sepfc.fetch(chrom, start, end).unwrap()).unwrap();
            let (by_pysam, by_pyfaidx) = line.split_once('\t').unwrap();
            assert_eq!(ours, by_pysam, "{} {chrom}:{start}-{end}", genome.display());
            assert_eq!(
                ours,
                by_pyfaidx,
                "{} {chrom}:{start}-{end}",
                genome.display()
            );
        }
    }
}
