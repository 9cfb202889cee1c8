//! `sepfc explain`: per-position importance scores for one task, and for DeepLIFT and DeepSHAP
//! the hypothetical contributions TF-MoDISco reads.

use std::path::{Path, PathBuf};

use super::cli::ExplainArgs;
use super::device::{BackendTask, run_on};
use crate::backend::Backend;
use crate::data::fasta::{Record, read_fasta};
use crate::explain::deeplift::{deeplift, deepshap};
use crate::explain::{DEFAULT_REFERENCES, Method, scores};
use crate::io::{write_atomically, write_npz};
use crate::model::{INPUT_CHANNELS, Model};
use crate::{Error, Result};

/// Sequences scored per batch by the gradient and ISM methods (DeepLIFT and DeepSHAP size
/// their own passes).
const BATCH: usize = 64;

/// The two files of `--npz PREFIX`: `PREFIX.ohe.npz` and `PREFIX.hyp.npz`.
fn npz_paths(prefix: &Path) -> [PathBuf; 2] {
    let with = |suffix: &str| {
        let mut name = prefix.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [with(".ohe.npz"), with(".hyp.npz")]
}

struct ExplainJob {
    model: PathBuf,
    records: Vec<Record>,
    fasta: PathBuf,
    out: PathBuf,
    task: String,
    method: Method,
    references: usize,
    seed: u64,
    npz: Option<[PathBuf; 2]>,
    rc_average: bool,
}

impl ExplainJob {
    /// The model's index of `self.task` (a name, or an index).
    fn task_index<B: Backend>(&self, model: &Model<B>) -> Result<usize> {
        model
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
            })
    }

    /// `(N, L)` scores, and `(N, 4, L)` hypothetical contributions for the methods that have
    /// them, of every record.
    fn score<B: Backend>(
        &self,
        model: &Model<B>,
        backend: &B,
        task: usize,
        x: &[f32],
    ) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
        let l = model.input_length();
        match self.method {
            Method::DeepLift => {
                let a = deeplift(model, backend, x, task)?;
                Ok((a.scores, Some(a.hypothetical)))
            }
            Method::DeepShap => {
                let a = deepshap(model, backend, x, task, self.references, self.seed)?;
                Ok((a.scores, Some(a.hypothetical)))
            }
            Method::GradXInput | Method::Ism => {
                let mut all = Vec::with_capacity(x.len() / INPUT_CHANNELS);
                for chunk in x.chunks(BATCH * INPUT_CHANNELS * l) {
                    let n = chunk.len() / (INPUT_CHANNELS * l);
                    let t = backend.upload(chunk, &[n, INPUT_CHANNELS, l])?;
                    all.extend(scores(model, backend, &t, task, self.method)?);
                }
                Ok((all, None))
            }
        }
    }
}

impl BackendTask for ExplainJob {
    type Output = ();

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<()> {
        let length = self.records.first().map_or(0, |r| r.seq.len());
        let model = Model::load_for_length(backend, &self.model, length)?;
        crate::data::fasta::check_lengths(&self.records, model.input_length(), &self.fasta)?;
        let task = self.task_index(&model)?;
        let l = model.input_length();
        let mut x = Vec::with_capacity(self.records.len() * INPUT_CHANNELS * l);
        for r in &self.records {
            crate::dna::one_hot_into(&r.seq, &mut x);
        }
        let (mut scored, mut hypothetical) = self.score(&model, backend, task, &x)?;
        if self.rc_average {
            let mut reverse = Vec::with_capacity(x.len());
            for r in &self.records {
                crate::dna::one_hot_into(&crate::dna::reverse_complement(&r.seq), &mut reverse);
            }
            let (scored_rc, hypothetical_rc) = self.score(&model, backend, task, &reverse)?;
            average_with_reverse(&mut scored, &scored_rc, 1, l);
            if let (Some(h), Some(h_rc)) = (hypothetical.as_mut(), hypothetical_rc) {
                average_with_reverse(h, &h_rc, INPUT_CHANNELS, l);
            }
        }
        let mut text = String::new();
        for (r, row) in self.records.iter().zip(scored.chunks(l.max(1))) {
            let values: Vec<String> = row.iter().map(|v| format!("{v:.6}")).collect();
            text += &format!("{}\t{}\n", r.id, values.join(","));
        }
        write_atomically(&self.out, text.as_bytes())?;
        if let (Some([ohe, hyp]), Some(hypothetical)) = (&self.npz, &hypothetical) {
            let shape = [self.records.len(), INPUT_CHANNELS, l];
            write_npz(ohe, &x, &shape)?;
            write_npz(hyp, hypothetical, &shape)?;
        }
        crate::say!(
            "wrote {} importance scores of task {} for {} sequences to {}{}",
            self.method,
            model.task_names()[task],
            self.records.len(),
            self.out.display(),
            self.npz
                .as_ref()
                .map_or(String::new(), |[ohe, hyp]| format!(
                    ", and {} and {}",
                    ohe.display(),
                    hyp.display()
                ))
        );
        Ok(())
    }
}

/// Runs `sepfc explain`. Every argument is checked before anything is computed or written.
pub fn run(args: &ExplainArgs) -> Result<()> {
    let weights = crate::training::weights_path(&args.model);
    let refuse = |flag: &str, why: &str| {
        Err(Error::Config(format!(
            "{flag} {why} (--method {})",
            args.method
        )))
    };
    if args.method != Method::DeepShap {
        if args.references.is_some() {
            return refuse("--references", "applies to --method deepshap only");
        }
        if args.seed.is_some() {
            return refuse("--seed", "applies to --method deepshap only");
        }
    }
    if args.npz.is_some() && !args.method.has_hypothetical() {
        return refuse(
            "--npz",
            "needs hypothetical contributions: use --method deeplift or deepshap",
        );
    }
    let references = args.references.unwrap_or(DEFAULT_REFERENCES);
    if references == 0 {
        return refuse("--references", "must be at least 1");
    }
    let npz = args.npz.as_deref().map(npz_paths);
    let mut outputs = vec![("--out", args.out.as_path())];
    if let Some([ohe, hyp]) = &npz {
        outputs.push(("--npz", ohe.as_path()));
        outputs.push(("--npz", hyp.as_path()));
    }
    super::outputs::refuse_shared_outputs(&outputs)?;
    for (flag, path) in &outputs {
        super::outputs::refuse_overwriting_inputs(
            (flag, path),
            &[("--fasta", &args.fasta), ("--model", &weights)],
        )?;
    }
    let records = read_fasta(&args.fasta)?;
    run_on(
        args.device,
        ExplainJob {
            model: weights,
            records,
            fasta: args.fasta.clone(),
            out: args.out.clone(),
            task: args.task.clone(),
            method: args.method,
            references,
            seed: args.seed.unwrap_or(0),
            npz,
            rc_average: args.rc_average,
        },
    )
}

/// Averages `values` (rows of `(channels, length)`, forward strand) with `reverse`, the same
/// for the reverse complements, mapped back: forward position `l` is the reverse complement's
/// position `length - 1 - l`, and channel `c` there is the complement `channels - 1 - c`
/// (A-T, C-G; with one channel, the position's score).
fn average_with_reverse(values: &mut [f32], reverse: &[f32], channels: usize, length: usize) {
    let width = channels * length;
    for (row, row_rc) in values.chunks_mut(width).zip(reverse.chunks(width)) {
        for c in 0..channels {
            for l in 0..length {
                let mirrored = row_rc[(channels - 1 - c) * length + length - 1 - l];
                row[c * length + l] = (row[c * length + l] + mirrored) / 2.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_strand_values_land_on_their_forward_positions_and_complements() {
        // one sequence, 2 "channels" of length 3: reverse row (c, l) goes to (1 - c, 2 - l)
        let mut forward = vec![0.0; 6];
        let reverse = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        average_with_reverse(&mut forward, &reverse, 2, 3);
        assert_eq!(forward, [3.0, 2.5, 2.0, 1.5, 1.0, 0.5]);
        let mut scores = vec![2.0, 4.0];
        average_with_reverse(&mut scores, &[6.0, 8.0], 1, 2);
        assert_eq!(scores, [5.0, 5.0]);
    }

    #[test]
    fn npz_files_take_the_prefix_as_it_is() {
        let [ohe, hyp] = npz_paths(Path::new("out/run.1"));
        assert_eq!(ohe, Path::new("out/run.1.ohe.npz"));
        assert_eq!(hyp, Path::new("out/run.1.hyp.npz"));
    }
}
