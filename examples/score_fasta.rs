//! Load a weights file and score the sequences of a FASTA file with it.
//!
//! ```sh
//! cargo run --release --example score_fasta -- run/model.safetensors sequences.fa
//! ```
//!
//! Prints one line per sequence: its id and the probability of each task. Without arguments it
//! makes a small model with random weights and three sequences in a temporary folder, saves the
//! model, and scores them from the files, as it would yours.

use std::path::{Path, PathBuf};

use sepfc::backend::cpu::Cpu;
use sepfc::config::{ConvConfig, DenseConfig, ModelBuilder, SeparableConfig};
use sepfc::data::fasta::read_fasta;
use sepfc::model::Model;

/// A model of random weights for 20 bp with two tasks, and a FASTA of three sequences.
fn make_inputs(dir: &Path) -> sepfc::Result<(PathBuf, PathBuf)> {
    let mut model = ModelBuilder::new()
        .revcomp_conv1d(ConvConfig::new(4, 5).relu())
        .maxpool1d(2)
        .separable_fc(SeparableConfig::new(3).relu())
        .dense(DenseConfig::new(2))
        .build(&Cpu, 20, 0)?;
    model.set_task_names(vec!["bound".into(), "open".into()])?;
    let weights = dir.join("model.safetensors");
    model.save(&Cpu, &weights)?;
    let fasta = dir.join("sequences.fa");
    let records = ">a\nACGTACGTACGTACGTACGT\n>b\nGATAAGGGATAAGGNNNNTT\n>c\nttttttttttaaaaaaaaaa\n";
    std::fs::write(&fasta, records).map_err(|e| sepfc::Error::Io {
        path: fasta.display().to_string(),
        source: e,
    })?;
    Ok((weights, fasta))
}

fn main() -> sepfc::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let (weights, fasta) = match args.as_slice() {
        [weights, fasta] => (weights.clone(), fasta.clone()),
        [] => make_inputs(scratch.path())?,
        _ => {
            eprintln!("usage: score_fasta [WEIGHTS.safetensors FASTA]");
            std::process::exit(2);
        }
    };
    let records = read_fasta(&fasta)?;
    let length = records.first().map_or(0, |r| r.seq.len());
    // a weights file that holds only its config takes its input length from the data
    let model = Model::load_for_length(&Cpu, &weights, length)?;
    let sequences: Vec<Vec<u8>> = records.iter().map(|r| r.seq.clone()).collect();
    let probabilities = sepfc::inference::predict(&Cpu, &model, &sequences, 256)?;
    println!("id\t{}", model.task_names().join("\t"));
    for (record, row) in records.iter().zip(probabilities.chunks(model.tasks())) {
        let row: Vec<String> = row.iter().map(|p| format!("{p:.4}")).collect();
        println!("{}\t{}", record.id, row.join("\t"));
        assert!(row.len() == model.tasks());
    }
    assert_eq!(probabilities.len(), records.len() * model.tasks());
    assert!(probabilities.iter().all(|p| (0.0..=1.0).contains(p)));
    Ok(())
}
