//! `sepfc predict`: probabilities for every record of a FASTA file.

use std::path::PathBuf;

use super::cli::PredictArgs;
use super::device::{BackendTask, run_on};
use crate::Result;
use crate::backend::Backend;
use crate::data::fasta::{Record, read_fasta};
use crate::io::write_atomically;
use crate::model::Model;

struct PredictJob {
    model: PathBuf,
    records: Vec<Record>,
    fasta: PathBuf,
    out: PathBuf,
    batch_size: usize,
    rc_average: bool,
}

impl BackendTask for PredictJob {
    type Output = ();

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<()> {
        let length = self.records.first().map_or(0, |r| r.seq.len());
        let model = Model::load_for_length(backend, &self.model, length)?;
        crate::data::fasta::check_lengths(&self.records, model.input_length(), &self.fasta)?;
        let seqs: Vec<Vec<u8>> = self.records.iter().map(|r| r.seq.clone()).collect();
        let mut probabilities = crate::inference::predict(backend, &model, &seqs, self.batch_size)?;
        if self.rc_average {
            let reverse: Vec<Vec<u8>> = seqs
                .iter()
                .map(|s| crate::dna::reverse_complement(s))
                .collect();
            let other = crate::inference::predict(backend, &model, &reverse, self.batch_size)?;
            for (p, q) in probabilities.iter_mut().zip(other) {
                *p = (*p + q) / 2.0;
            }
        }
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
pub fn run(args: &PredictArgs) -> Result<()> {
    let weights = crate::training::weights_path(&args.model);
    super::outputs::refuse_overwriting_inputs(
        ("--out", &args.out),
        &[("--fasta", &args.fasta), ("--model", &weights)],
    )?;
    let records = read_fasta(&args.fasta)?;
    run_on(
        args.device,
        PredictJob {
            model: weights,
            records,
            fasta: args.fasta.clone(),
            out: args.out.clone(),
            batch_size: args.batch_size,
            rc_average: args.rc_average,
        },
    )
}
