//! Importance scores of every run against known biology (docs/layer.md, claim 3): the motif
//! recovery of [`crate::recovery`] on the held-out test set, per task.
//!
//! The experiment file's `[importance]` section says where the truth comes from:
//!
//! - simulated data (`planted`): for each task, the planted motifs its importance should land
//!   on, by the start of their names in the simdata `embeddings` column;
//! - real data (`jaspar` + `motifs`): for each task, a JASPAR matrix whose matches (above
//!   `threshold` of the best log-odds score, either strand) count as the known sites.
//!
//! Only the task's positive test sequences are scored: the motif is what makes them positive.
//!
//! ```toml
//! [importance]
//! planted = { task1 = ["TAL1", "GATA"], task2 = ["GATA"], task3 = ["TAL1"] }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::data::Dataset;
use crate::data::simdata::read_simdata;
use crate::explain::{Method, scores};
use crate::model::Model;
use crate::recovery::{Sign, Site, motif_recovery, pwm_matches, sites_from_embeddings_matching};
use crate::simulate::{find_motif, read_jaspar};
use crate::{Error, Result};

/// PWM match threshold when the experiment file gives none: 80% of the best log-odds score.
pub const DEFAULT_THRESHOLD: f64 = 0.8;

/// Positive test sequences scored per task when the experiment file gives no limit.
pub const DEFAULT_MAX_SEQUENCES: usize = 500;

/// Sequences per backward pass of the importance scores.
const BATCH: usize = 128;

/// The `[importance]` section of an experiment file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportanceConfig {
    /// `grad_x_input` (the default) or `ism` (slower: 3 forward passes per position).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Simulated data: task -> planted motif name prefixes (`GATA` keeps `GATA_disc1`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub planted: BTreeMap<String, Vec<String>>,
    /// Real data: a JASPAR file, relative to the experiment file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jaspar: Option<PathBuf>,
    /// Real data: task -> JASPAR matrix id or name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub motifs: BTreeMap<String, String>,
    /// Share of the best log-odds score a PWM match needs, in `(0, 1]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Positive test sequences scored per task (the first ones with a site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sequences: Option<usize>,
}

impl ImportanceConfig {
    /// The scoring method.
    pub fn method(&self) -> Result<Method> {
        self.method
            .as_deref()
            .map_or(Ok(Method::GradXInput), str::parse)
    }
}

/// The known sites of one task on the test set.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    /// Index of the task in the test set.
    pub task: usize,
    /// What the sites are, e.g. `planted GATA, TAL1` or `CTCF (MA0139.2) matches >= 0.8`.
    pub source: String,
    /// Indices of the scored test sequences: positive for the task, with at least one site.
    pub sequences: Vec<usize>,
    /// The sites of each scored sequence, in the order of `sequences`.
    pub sites: Vec<Vec<Site>>,
}

fn config_error(detail: String) -> Error {
    Error::Config(format!("[importance] {detail}"))
}

fn task_index(test: &Dataset, task: &str) -> Result<usize> {
    test.tasks.iter().position(|t| t == task).ok_or_else(|| {
        config_error(format!(
            "task `{task}` is not one of the data's tasks: {}",
            test.tasks.join(", ")
        ))
    })
}

/// Keeps the first `max` positive sequences of `task` that have a site.
fn truth(
    test: &Dataset,
    task: usize,
    source: String,
    max: usize,
    sites_of: impl Fn(usize) -> Vec<Site>,
) -> Truth {
    let (mut sequences, mut sites) = (Vec::new(), Vec::new());
    for i in 0..test.len() {
        if sequences.len() == max {
            break;
        }
        if test.target(i, task) != Some(1.0) {
            continue;
        }
        let found = sites_of(i);
        if !found.is_empty() {
            sequences.push(i);
            sites.push(found);
        }
    }
    Truth {
        task,
        source,
        sequences,
        sites,
    }
}

/// The truth of every task `config` names, on `test`. `simdata` is the base config's simdata
/// file (needed by `planted`); `here` is the experiment file's folder.
pub fn resolve_truths(
    config: &ImportanceConfig,
    test: &Dataset,
    simdata: Option<&Path>,
    here: &Path,
) -> Result<Vec<Truth>> {
    config.method()?;
    let max = config.max_sequences.unwrap_or(DEFAULT_MAX_SEQUENCES);
    let mut truths = Vec::new();
    if !config.planted.is_empty() {
        let path = simdata.ok_or_else(|| {
            config_error("`planted` needs a base config whose [data] reads a simdata file".into())
        })?;
        let embeddings: HashMap<String, _> = read_simdata(path)?
            .records
            .into_iter()
            .map(|r| (r.id, r.embeddings))
            .collect();
        for (task, prefixes) in &config.planted {
            let t = task_index(test, task)?;
            let sites_of = |i: usize| {
                let planted = embeddings.get(&test.ids[i]).map_or(&[][..], Vec::as_slice);
                let mut sites: Vec<Site> = prefixes
                    .iter()
                    .flat_map(|p| sites_from_embeddings_matching(planted, p))
                    .collect();
                sites.sort();
                sites
            };
            let source = format!("planted {}", prefixes.join(", "));
            truths.push(truth(test, t, source, max, sites_of));
        }
    }
    if !config.motifs.is_empty() {
        let jaspar = config.jaspar.as_ref().ok_or_else(|| {
            config_error("`motifs` needs `jaspar`, the file to find them in".into())
        })?;
        let threshold = config.threshold.unwrap_or(DEFAULT_THRESHOLD);
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(config_error(format!(
                "threshold {threshold} must be in (0, 1]"
            )));
        }
        let motifs = read_jaspar(&here.join(jaspar))?;
        for (task, query) in &config.motifs {
            let t = task_index(test, task)?;
            let motif = find_motif(&motifs, query).ok_or_else(|| {
                config_error(format!("no motif `{query}` in {}", jaspar.display()))
            })?;
            let source = format!("{} ({}) matches >= {threshold}", motif.name, motif.id);
            let sites_of = |i: usize| pwm_matches(&test.sequences[i], motif, threshold);
            truths.push(truth(test, t, source, max, sites_of));
        }
    }
    Ok(truths)
}

/// How well one run's importance recovers one task's sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecovery {
    /// Task name.
    pub task: String,
    /// Where the sites come from.
    pub source: String,
    /// Sequences scored.
    pub sequences: usize,
    /// auROC of per-position importance against "inside a site" (0.5 = chance).
    pub auroc: Option<f64>,
    /// Mean share of positive importance mass inside the sites.
    pub mass_fraction: f64,
    /// What an even spread of importance would give: the share of positions in sites.
    pub site_fraction: f64,
}

/// The importance scores of `model` for one truth's sequences, `(S, L)` row-major.
pub fn importance<B: Backend>(
    backend: &B,
    model: &Model<B>,
    test: &Dataset,
    truth: &Truth,
    method: Method,
) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(truth.sequences.len() * test.length);
    for chunk in truth.sequences.chunks(BATCH) {
        let batch = test.batch(chunk, false);
        let x = backend.upload(&batch.x, &[chunk.len(), 4, test.length])?;
        out.extend(scores(model, backend, &x, truth.task, method)?);
    }
    Ok(out)
}

/// Scores `model`'s importance against every truth.
pub fn recover<B: Backend>(
    backend: &B,
    model: &Model<B>,
    test: &Dataset,
    truths: &[Truth],
    method: Method,
) -> Result<Vec<TaskRecovery>> {
    truths
        .iter()
        .map(|truth| {
            let s = importance(backend, model, test, truth, method)?;
            if s.iter().any(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    "importance",
                    "the model gives non-finite importance scores (diverged weights?)",
                ));
            }
            let r = motif_recovery(&s, test.length, &truth.sites, Sign::Positive);
            Ok(TaskRecovery {
                task: test.tasks[truth.task].clone(),
                source: truth.source.clone(),
                sequences: r.sequences,
                auroc: r.auroc,
                mass_fraction: r.mass_fraction,
                site_fraction: r.site_fraction,
            })
        })
        .collect()
}
