//! `sepfc explain`: per-position importance scores for one task.

use std::path::{Path, PathBuf};

use super::device::{BackendTask, Device, run_on};
use crate::backend::Backend;
use crate::data::fasta::{Record, read_fasta};
use crate::explain::{Method, scores};
use crate::io::write_atomically;
use crate::model::Model;
use crate::{Error, Result};

/// Sequences scored per batch.
const BATCH: usize = 64;

struct ExplainJob {
    model: PathBuf,
    records: Vec<Record>,
    fasta: PathBuf,
    out: PathBuf,
    task: String,
    method: Method,
}

impl BackendTask for ExplainJob {
    type Output = ();

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<()> {
        let length = self.records.first().map_or(0, |r| r.seq.len());
        let model = Model::load_for_length(backend, &self.model, length)?;
        crate::data::fasta::check_lengths(&self.records, model.input_length(), &self.fasta)?;
        let task = model
            .task_names()
            .iter()
            .position(|t| *t == self.task)
            .or_else(|| {
                self.task
                    .parse::<usize>()
                    .ok()
                    .filter(|&i| i < model.tasks())
            })
            .ok_or_else(|| {
                Error::Config(format!(
                    "no task {:?}: the model's tasks are {} (or an index below {})",
                    self.task,
                    model.task_names().join(", "),
                    model.tasks()
                ))
            })?;
        let l = model.input_length();
        let mut text = String::new();
        for chunk in self.records.chunks(BATCH) {
            let mut x = Vec::with_capacity(chunk.len() * 4 * l);
            for r in chunk {
                crate::dna::one_hot_into(&r.seq, &mut x);
            }
            let x = backend.upload(&x, &[chunk.len(), 4, l])?;
            let s = scores(&model, backend, &x, task, self.method)?;
            for (r, row) in chunk.iter().zip(s.chunks(l)) {
                let values: Vec<String> = row.iter().map(|v| format!("{v:.6}")).collect();
                text += &format!("{}\t{}\n", r.id, values.join(","));
            }
        }
        write_atomically(&self.out, text.as_bytes())?;
        crate::say!(
            "wrote importance scores of task {} for {} sequences to {}",
            model.task_names()[task],
            self.records.len(),
            self.out.display()
        );
        Ok(())
    }
}

/// Runs `sepfc explain`.
pub fn run(
    model: &Path,
    fasta: &Path,
    out: &Path,
    task: &str,
    method: Method,
    device: Device,
) -> Result<()> {
    let weights = crate::training::weights_path(model);
    super::outputs::refuse_overwriting_inputs(
        ("--out", out),
        &[("--fasta", fasta), ("--model", &weights)],
    )?;
    let records = read_fasta(fasta)?;
    run_on(
        device,
        ExplainJob {
            model: weights,
            records,
            fasta: fasta.to_path_buf(),
            out: out.to_path_buf(),
            task: task.to_string(),
            method,
        },
    )
}
