//! Every reader of outside input against mutated input, a bounded number of cases per reader
//! (so this runs in CI): FASTA, the labels TSV, `.target` files, BED, the genome index, JASPAR,
//! simulated-data TSVs, id lists, the TOML config and the safetensors weights file. Each case
//! starts from a valid file and flips, inserts, deletes, duplicates or truncates bytes (the
//! inserted bytes are those the formats care about: tabs, line ends, `>`, digits, signs, `[`,
//! `=`, quotes, NUL and bytes that are not UTF-8). A reader must return a value or an error;
//! a panic fails the test with the input that caused it. Allocation stays bounded by
//! construction (lines over 256 MiB are refused, tensors are checked against the file) and
//! is watched here through the inputs' size: no case is larger than a few KiB.
//!
//! `SEPFC_FUZZ_CASES=N` runs N cases per reader instead of the default 1500.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

mod common;
use rand::Rng;
use rand::rngs::StdRng;
use sepfc::backend::cpu::Cpu;
use sepfc::config::Config;
use sepfc::model::Model;

const INTERESTING: &[u8] = b"\t\n\r >#-+.0123456789eE[]=\"',;:|NnACGTacgt\x00\xff\xc3";

fn cases() -> usize {
    std::env::var("SEPFC_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

/// `seed` changed by one to four random edits.
fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let at = rng.random_range(0..=data.len());
        let byte = INTERESTING[rng.random_range(0..INTERESTING.len())];
        match rng.random_range(0..6) {
            0 if at < data.len() => data[at] = byte,
            1 => data.insert(at, byte),
            2 if at < data.len() => {
                let end = rng.random_range(at..=data.len().min(at + 16));
                data.drain(at..end);
            }
            3 if at < data.len() => {
                let end = rng.random_range(at..=data.len().min(at + 32));
                let copy = data[at..end].to_vec();
                data.splice(at..at, copy);
            }
            4 => data.truncate(at),
            _ => {
                let digits: Vec<u8> = (0..rng.random_range(1..20))
                    .map(|_| b"0123456789"[rng.random_range(0..10)])
                    .collect();
                data.splice(at..at, digits);
            }
        }
    }
    data
}

/// Runs `read` on `cases()` mutations of the seeds; fails on the first panic, showing its
/// input. Prints how many cases ran and how many were accepted.
fn fuzz(name: &str, seeds: &[&[u8]], read: impl Fn(&[u8]) -> bool) {
    let mut rng = common::rng(name.bytes().map(u64::from).sum());
    let (mut accepted, total) = (0usize, cases());
    for case in 0..total {
        let seed = seeds[case % seeds.len()];
        let input = if case < seeds.len() {
            seed.to_vec()
        } else {
            mutate(&mut rng, seed)
        };
        match catch_unwind(AssertUnwindSafe(|| read(&input))) {
            Ok(ok) => accepted += usize::from(ok),
            Err(_) => panic!(
                "{name}: the reader panicked on case {case}: {:?}",
                String::from_utf8_lossy(&input)
            ),
        }
    }
    eprintln!("{name}: {total} cases, {accepted} accepted, no panic");
    assert!(
        accepted >= seeds.len(),
        "{name}: the valid seeds were refused"
    );
}

/// A reader of a file, given the file's bytes through a temporary file named `name`.
fn through_file(name: &str, read: impl Fn(&Path) -> bool) -> impl Fn(&[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    move |bytes| {
        let _keep = &dir;
        std::fs::write(&path, bytes).unwrap();
        read(&path)
    }
}

#[test]
fn fasta() {
    fuzz(
        "fasta",
        &[
            b">a desc\nACGT\nacgN\n>b\nGGGG\nTTTT\n",
            b">x\r\nAC\r\nGT\r\n",
        ],
        |bytes| sepfc::data::fasta::read_fasta_from(bytes, "f.fa").is_ok(),
    );
}

#[test]
fn labels_and_targets() {
    fuzz(
        "labels",
        &[b"id\tgata\ttal1\nseq1\t1\t0\nseq2\tNA\t0.5\n"],
        through_file("l.tsv", |p| sepfc::data::labels::read_labels_tsv(p).is_ok()),
    );
    fuzz(
        "target",
        &[b"1 0\n0 1\n1 0\n"],
        through_file("l.target", |p| {
            sepfc::data::labels::read_target_columns(p, 3).is_ok()
        }),
    );
}

#[test]
fn bed_and_regions() {
    let seeds: &[&[u8]] = &[
        b"track name=x\nchr1\t10\t20\tp1\t1\t0\nchr2\t5\t9\t.\tNA\t1\n",
        b"# c\nchr1\t0\t5\tx\t960\t+\t1\n",
    ];
    fuzz(
        "bed",
        seeds,
        through_file("r.bed", |p| sepfc::data::bed::read_bed(p, 4).is_ok()),
    );
    fuzz(
        "regions",
        seeds,
        through_file("r.bed", |p| sepfc::data::bed::read_regions(p).is_ok()),
    );
}

#[test]
fn genome_index() {
    let dir = tempfile::tempdir().unwrap();
    let fasta = dir.path().join("g.fa");
    std::fs::write(&fasta, ">chr1\nACGTA\nCCGGT\nTa\n>chr2 x\nNNNNNACGTN\n").unwrap();
    let fai = sepfc::data::bed::fai_path(&fasta);
    sepfc::data::bed::write_fai(&fasta).unwrap();
    let valid = std::fs::read(&fai).unwrap();
    fuzz("fai", &[&valid], |bytes| {
        std::fs::write(&fai, bytes).unwrap();
        match sepfc::data::bed::Genome::open(&fasta) {
            // whatever an accepted index says, reading through it returns bases or an error
            Ok(genome) => {
                let chroms: Vec<(String, u64)> =
                    genome.chroms().map(|(n, l)| (n.to_string(), l)).collect();
                for (name, length) in chroms {
                    let _ = genome.fetch(&name, 0, length.min(64));
                }
                true
            }
            Err(_) => false,
        }
    });
}

#[test]
fn jaspar_simdata_and_id_lists() {
    fuzz(
        "jaspar",
        &[b">MA0035.5\tGATA1\nA  [ 1 0 9 ]\nC  [ 2 0 0 ]\nG  [ 3 9 0 ]\nT  [ 4 1 1 ]\n"],
        through_file("m.jaspar", |p| sepfc::simulate::read_jaspar(p).is_ok()),
    );
    fuzz(
        "simdata",
        &[b"seqName\tsequence\tembeddings\ttask1\ttask2\ns1\tACGT\tpos-1_GATA_d-CG\t1\t0\ns2\tTTTT\t\t0\t0\n"],
        through_file("s.simdata", |p| sepfc::data::simdata::read_simdata(p).is_ok()),
    );
    fuzz(
        "id list",
        &[b"seq1\nseq2\n\n  seq3  \n"],
        through_file("ids.txt", |p| sepfc::data::simdata::read_id_list(p).is_ok()),
    );
}

const MODEL: &str = r#"[data]
fasta = "a.fa"
labels = "a.tsv"
valid_fraction = 0.1

[train]
lr = 0.01
epochs = 2

[[layers]]
type = "revcomp_conv1d"
filters = 4
kernel_size = 5
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 2

[[layers]]
type = "separable_fc"
units = 3
symmetric = true
smoothness = { penalty = 0.1 }

[[layers]]
type = "dense"
units = 2
"#;

#[test]
fn toml_config() {
    fuzz("config", &[MODEL.as_bytes()], |bytes| {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return false;
        };
        // a config that parses also builds its model for 40 bp, or says why not
        match Config::from_toml_str(text) {
            Ok(config) => {
                let built = Model::new(&Cpu, config, 40, 0);
                built.is_ok()
            }
            Err(_) => false,
        }
    });
}

#[test]
fn safetensors_weights() {
    let config = Config::from_toml_str(MODEL).unwrap();
    let model = Model::new(&Cpu, config, 40, 0).unwrap();
    let valid = model.to_safetensors(&Cpu).unwrap();
    fuzz("safetensors", &[&valid], |input| {
        Model::from_safetensors(&Cpu, input, "w.safetensors").is_ok()
    });
}
