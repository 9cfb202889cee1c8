//! Inference on whole sets of sequences, in batches: logits, probabilities, and the per-task
//! scores (loss, auROC, auPRC) of labelled examples. Nothing here records anything for a
//! backward pass.
//!
//! ```
//! use sepfc::backend::cpu::Cpu;
//! use sepfc::config::Config;
//! use sepfc::model::Model;
//!
//! let config = Config::from_toml_str("[[layers]]\ntype = \"conv1d\"\nfilters = 2\nkernel_size = 3\n\
//!     [[layers]]\ntype = \"dense\"\nunits = 1\n").unwrap();
//! let model = Model::new(&Cpu, config, 6, 0).unwrap();
//! let sequences = vec![b"ACGTAC".to_vec(), b"TTTTNN".to_vec(), b"GATTAC".to_vec()];
//! let p = sepfc::inference::predict(&Cpu, &model, &sequences, 2).unwrap();
//! assert_eq!(p.len(), 3);                               // (N, tasks)
//! assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
//! ```

use crate::backend::Backend;
use crate::metrics::{regression_metrics, task_metrics};
use crate::model::{INPUT_CHANNELS, Model};
use crate::training::{BatchSource, TaskScores};
use crate::{Error, Result};

/// Logits `(N, tasks)` of `sequences`, `batch_size` at a time. Every sequence must have the
/// model's input length.
pub fn logits<B: Backend>(
    backend: &B,
    model: &Model<B>,
    sequences: &[Vec<u8>],
    batch_size: usize,
) -> Result<Vec<f32>> {
    batched(backend, model, sequences, batch_size, |z| Ok(z.clone()))
}

/// Predictions `(N, tasks)` of `sequences`: for a model trained with binary cross-entropy the
/// probabilities (the sigmoid of [`logits`], on the backend), for `mse` the outputs, for
/// `poisson` the rates `exp(logits)` ([`crate::backend::Loss::predict`]).
pub fn predict<B: Backend>(
    backend: &B,
    model: &Model<B>,
    sequences: &[Vec<u8>],
    batch_size: usize,
) -> Result<Vec<f32>> {
    let kind = model.loss();
    if kind.is_regression() {
        let mut z = logits(backend, model, sequences, batch_size)?;
        z.iter_mut().for_each(|v| *v = kind.predict(*v));
        return Ok(z);
    }
    batched(backend, model, sequences, batch_size, |z| {
        backend.sigmoid(z)
    })
}

/// The model's logits of each batch of `sequences`, passed through `then` on the backend and
/// downloaded.
fn batched<B: Backend>(
    backend: &B,
    model: &Model<B>,
    sequences: &[Vec<u8>],
    batch_size: usize,
    then: impl Fn(&B::Tensor) -> Result<B::Tensor>,
) -> Result<Vec<f32>> {
    let length = model.input_length();
    let mut out = Vec::with_capacity(sequences.len() * model.tasks());
    for chunk in sequences.chunks(batch_size.max(1)) {
        let mut x = Vec::with_capacity(chunk.len() * INPUT_CHANNELS * length);
        for s in chunk {
            if s.len() != length {
                return Err(Error::shape(
                    "predict",
                    format!(
                        "a sequence of {} bp where the model reads {length} bp",
                        s.len()
                    ),
                ));
            }
            crate::dna::one_hot_into(s, &mut x);
        }
        let x = backend.upload(&x, &[chunk.len(), INPUT_CHANNELS, length])?;
        out.extend(backend.download(&then(&model.logits(backend, &x)?)?)?);
    }
    Ok(out)
}

/// Per-task scores of the model on every example of `data`, `batch_size` at a time: the mean
/// loss of the labelled examples (the backend's loss kernel, the model's loss), and auROC and
/// auPRC, or for the regression losses Pearson and Spearman correlations of the predictions.
/// The tasks are the data's, which must be as many as the model's.
pub fn evaluate<B: Backend>(
    backend: &B,
    model: &Model<B>,
    data: &dyn BatchSource,
    batch_size: usize,
) -> Result<Vec<TaskScores>> {
    let t = data.tasks().len();
    if t != model.tasks() {
        return Err(Error::shape(
            "evaluate",
            format!(
                "the data has {t} tasks, the model predicts {}",
                model.tasks()
            ),
        ));
    }
    check_task_names(model, data.tasks(), "evaluated")?;
    let length = model.input_length();
    if data.length() != length {
        return Err(Error::shape(
            "evaluate",
            format!(
                "the data's sequences are {} bp, the model reads {length} bp",
                data.length()
            ),
        ));
    }
    let (mut z, mut y, mut m) = (Vec::new(), Vec::new(), Vec::new());
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let batch = data.batch(chunk)?;
        crate::training::check_batch(&batch, chunk.len(), length, t)?;
        let x = backend.upload(&batch.x, &[batch.n, INPUT_CHANNELS, length])?;
        z.extend(backend.download(&model.logits(backend, &x)?)?);
        y.extend(batch.targets);
        m.extend(batch.mask);
    }
    let n = data.len();
    (0..t)
        .map(|task| {
            let column = |v: &[f32]| v.iter().skip(task).step_by(t).copied().collect::<Vec<_>>();
            let (zs, ts, ms) = (column(&z), column(&y), column(&m));
            let loss = match n {
                0 => 0.0,
                _ => backend.download(&backend.loss(
                    model.loss(),
                    &backend.upload(&zs, &[n, 1])?,
                    &backend.upload(&ts, &[n, 1])?,
                    &backend.upload(&ms, &[n, 1])?,
                )?)?[0],
            };
            // the metrics take missing labels as NaN
            let labels: Vec<f32> = ts
                .iter()
                .zip(&ms)
                .map(|(&t, &m)| if m > 0.0 { t } else { f32::NAN })
                .collect();
            let kind = model.loss();
            let (auroc, auprc, pearson, spearman) = if kind.is_regression() {
                let predicted: Vec<f32> = zs.iter().map(|&z| kind.predict(z)).collect();
                let (r, rho) = regression_metrics(&predicted, &labels);
                (None, None, r, rho)
            } else {
                let (roc, pr) = task_metrics(&zs, &labels);
                (roc, pr, None, None)
            };
            Ok(TaskScores {
                task: data.tasks()[task].clone(),
                loss: f64::from(loss),
                auroc,
                auprc,
                pearson,
                spearman,
            })
        })
        .collect()
}

/// Where `model` names its tasks (the labels it was trained on, or its weights file's `tasks`
/// entry), the `what` data's tasks must be those names in that order: a logit belongs to a
/// task, and data matched by count alone would score one task's logit against another's
/// labels. Models with the default names `task0`, `task1`, ... take the data's order.
pub(crate) fn check_task_names<B: Backend>(
    model: &Model<B>,
    tasks: &[String],
    what: &str,
) -> Result<()> {
    if model.has_task_names() && tasks != model.task_names() {
        return Err(Error::Config(format!(
            "the {what} data's tasks ({}) are not the model's ({}) in the same order; match the label columns to the model's tasks by name (Dataset::with_tasks)",
            tasks.join(", "),
            model.task_names().join(", ")
        )));
    }
    Ok(())
}
