//! `sepfc predict`: probabilities for every record of a FASTA file.

use std::path::{Path, PathBuf};

use super::device::{BackendTask, Device, run_on};
use crate::backend::Backend;
use crate::data::fasta::{Record, read_fasta};
use crate::io::write_atomically;
use crate::model::Model;
use crate::{Error, Result};

/// The weights file a `--model` argument names: the file itself, or `model.safetensors` in
/// a training output folder.
pub fn weights_path(model: &Path) -> PathBuf {
    if model.is_dir() {
        crate::training::model_path(model)
    } else {
        model.to_path_buf()
    }
}

/// Checks that every record has the model's length, naming the first that does not.
pub fn check_lengths(records: &[Record], length: usize, fasta: &Path) -> Result<()> {
    if let Some(r) = records.iter().find(|r| r.seq.len() != length) {
        return Err(Error::Config(format!(
            "{}: record {} is {} bp, the model reads {length} bp",
            fasta.display(),
            r.id,
            r.seq.len()
        )));
    }
    Ok(())
}

struct PredictJob {
    model: PathBuf,
    records: Vec<Record>,
    fasta: PathBuf,
    out: PathBuf,
    batch_size: usize,
}

impl BackendTask for PredictJob {
    type Output = ();

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<()> {
        let length = self.records.first().map_or(0, |r| r.seq.len());
        let model = Model::load_for_length(backend, &self.model, length)?;
        check_lengths(&self.records, model.input_length(), &self.fasta)?;
        let seqs: Vec<Vec<u8>> = self.records.iter().map(|r| r.seq.clone()).collect();
        let probabilities = crate::inference::predict(backend, &model, &seqs, self.batch_size)?;
        let mut text = format!("id\t{}\n", model.task_names().join("\t"));
        for (record, row) in self.records.iter().zip(probabilities.chunks(model.tasks())) {
            text += &record.id;
            for p in row {
                text += &format!("\t{p:.6}");
            }
            text.push('\n');
        }
        write_atomically(&self.out, text.as_bytes())?;
        crate::say!(
            "wrote {} predictions for {} task(s) to {}",
            self.records.len(),
            model.tasks(),
            self.out.display()
        );
        Ok(())
    }
}

/// Runs `sepfc predict`.
pub fn run(
    model: &Path,
    fasta: &Path,
    out: &Path,
    batch_size: usize,
    device: Device,
) -> Result<()> {
    let weights = weights_path(model);
    super::outputs::refuse_overwriting_inputs(
        ("--out", out),
        &[("--fasta", fasta), ("--model", &weights)],
    )?;
    let records = read_fasta(fasta)?;
    run_on(
        device,
        PredictJob {
            model: weights,
            records,
            fasta: fasta.to_path_buf(),
            out: out.to_path_buf(),
            batch_size,
        },
    )
}
