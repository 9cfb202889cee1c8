//! `report.md` of an experiment: test auROC and auPRC per model kind (mean ± sd over draws and
//! seeds), paired differences of the separable model against each dense baseline with a
//! Wilcoxon signed-rank p-value, and a warning for every degenerate baseline run, so that a
//! report cannot overstate the paper's claim.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{ModelKind, RunResult};
use crate::stats::{summarize, wilcoxon_signed_rank};

/// A baseline run whose every task scores within this of auROC 0.5 counts as degenerate.
pub const DEGENERATE_MARGIN: f64 = 0.02;

fn kind_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Separable => "separable",
        ModelKind::DenseTwin => "dense twin (same parameters)",
        ModelKind::DenseSameUnits => "dense (same units)",
    }
}

const KINDS: [ModelKind; 3] = [
    ModelKind::Separable,
    ModelKind::DenseTwin,
    ModelKind::DenseSameUnits,
];

/// Which score of a task.
#[derive(Clone, Copy)]
enum Score {
    Auroc,
    Auprc,
}

impl Score {
    fn name(self) -> &'static str {
        match self {
            Score::Auroc => "auROC",
            Score::Auprc => "auPRC",
        }
    }

    fn of(self, r: &RunResult, task: &str) -> Option<f64> {
        let t = r.test.iter().find(|t| t.task == task)?;
        match self {
            Score::Auroc => t.auroc,
            Score::Auprc => t.auprc,
        }
    }
}

/// Whether a run learned nothing: every task's auROC within [`DEGENERATE_MARGIN`] of 0.5.
pub fn is_degenerate(r: &RunResult) -> bool {
    r.test
        .iter()
        .all(|t| t.auroc.is_none_or(|a| (a - 0.5).abs() <= DEGENERATE_MARGIN))
}

/// A p-value with three significant digits.
fn format_p(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.3}")
    } else {
        format!("{p:.2e}")
    }
}

fn fmt_summary(values: &[f64]) -> String {
    match summarize(values) {
        Some(s) => format!("{:.3} ± {:.3} (n={})", s.mean, s.sd, s.n),
        None => "n/a".into(),
    }
}

/// The report's Markdown text for `results`.
pub fn report(title: &str, results: &[RunResult]) -> String {
    let tasks: BTreeSet<&str> = results
        .iter()
        .flat_map(|r| r.test.iter().map(|t| t.task.as_str()))
        .collect();
    let draws: BTreeSet<usize> = results.iter().map(|r| r.draw).collect();
    let seeds: BTreeSet<u64> = results.iter().map(|r| r.seed).collect();
    let mut md = String::new();
    let _ = writeln!(md, "# {title}\n");
    let _ = writeln!(
        md,
        "{} runs: {} hyperparameter draw(s) x {} seed(s) x {} model kinds, scored on the held-out test set. Mean ± sample sd over draws and seeds.\n",
        results.len(),
        draws.len(),
        seeds.len(),
        KINDS.len()
    );
    let _ = writeln!(md, "## Test scores\n");
    let _ = writeln!(
        md,
        "| task | score | {} |",
        KINDS.map(kind_name).join(" | ")
    );
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(KINDS.len()));
    for task in &tasks {
        for score in [Score::Auroc, Score::Auprc] {
            let cells: Vec<String> = KINDS
                .iter()
                .map(|&k| {
                    let v: Vec<f64> = results
                        .iter()
                        .filter(|r| r.kind == k)
                        .filter_map(|r| score.of(r, task))
                        .collect();
                    fmt_summary(&v)
                })
                .collect();
            let _ = writeln!(md, "| {task} | {} | {} |", score.name(), cells.join(" | "));
        }
    }
    let params: Vec<String> = KINDS
        .iter()
        .map(|&k| {
            let v: Vec<f64> = results
                .iter()
                .filter(|r| r.kind == k)
                .map(|r| r.parameters as f64)
                .collect();
            summarize(&v).map_or("n/a".into(), |s| format!("{:.0}", s.mean))
        })
        .collect();
    let _ = writeln!(md, "| | parameters (mean) | {} |\n", params.join(" | "));

    let _ = writeln!(md, "## Separable minus baseline, paired by draw and seed\n");
    let _ = writeln!(
        md,
        "| task | score | baseline | mean difference | separable better | Wilcoxon p (two-sided) |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for task in &tasks {
        for score in [Score::Auroc, Score::Auprc] {
            for baseline in [ModelKind::DenseTwin, ModelKind::DenseSameUnits] {
                let (mut sep, mut base) = (Vec::new(), Vec::new());
                for r in results.iter().filter(|r| r.kind == ModelKind::Separable) {
                    let other = results
                        .iter()
                        .find(|o| o.kind == baseline && o.draw == r.draw && o.seed == r.seed);
                    if let (Some(a), Some(b)) =
                        (score.of(r, task), other.and_then(|o| score.of(o, task)))
                    {
                        sep.push(a);
                        base.push(b);
                    }
                }
                let diffs: Vec<f64> = sep.iter().zip(&base).map(|(a, b)| a - b).collect();
                let better = diffs.iter().filter(|d| **d > 0.0).count();
                let p = wilcoxon_signed_rank(&sep, &base)
                    .map_or("n/a".to_string(), |w| format_p(w.p_value));
                let mean =
                    summarize(&diffs).map_or("n/a".to_string(), |s| format!("{:+.3}", s.mean));
                let _ = writeln!(
                    md,
                    "| {task} | {} | {} | {mean} | {better}/{} | {p} |",
                    score.name(),
                    kind_name(baseline),
                    diffs.len()
                );
            }
        }
    }

    let _ = writeln!(md, "\n## Robustness across hyperparameter draws\n");
    let _ = writeln!(
        md,
        "Spread (sd) of the mean test auROC over tasks, across draws and seeds: the paper claims separable models vary less.\n"
    );
    let _ = writeln!(md, "| model | sd of mean auROC | worst run |");
    let _ = writeln!(md, "|---|---|---|");
    for k in KINDS {
        let per_run: Vec<f64> = results
            .iter()
            .filter(|r| r.kind == k)
            .filter_map(|r| {
                let v: Vec<f64> = r.test.iter().filter_map(|t| t.auroc).collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            })
            .collect();
        let s = summarize(&per_run);
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            kind_name(k),
            s.as_ref().map_or("n/a".into(), |s| format!("{:.3}", s.sd)),
            s.as_ref().map_or("n/a".into(), |s| format!("{:.3}", s.min))
        );
    }

    let degenerate: Vec<&RunResult> = results
        .iter()
        .filter(|r| r.kind != ModelKind::Separable && is_degenerate(r))
        .collect();
    let _ = writeln!(md, "\n## Degenerate baselines\n");
    if degenerate.is_empty() {
        let _ = writeln!(md, "No baseline run stayed at chance level.");
    } else {
        let _ = writeln!(
            md,
            "**{} baseline run(s) learned nothing** (every task's auROC within {DEGENERATE_MARGIN} of 0.5), e.g. a parameter-matched twin squeezed to too few hidden units, whose ReLUs died. Differences against them say nothing about the separable layer; read the same-units baseline instead.\n",
            degenerate.len()
        );
        let _ = writeln!(md, "| draw | seed | model | units | parameters |");
        let _ = writeln!(md, "|---|---|---|---|---|");
        for r in degenerate {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                r.draw,
                r.seed,
                kind_name(r.kind),
                r.units,
                r.parameters
            );
        }
    }
    md
}
