//! `report.md` of an experiment: test auROC and auPRC per model kind (mean ± sd over draws and
//! seeds), paired differences of the separable model against each dense baseline with a
//! Wilcoxon signed-rank p-value (also without the degenerate baseline runs), the draws, the
//! spread across them, importance against known sites, and the figures; and a warning for
//! every degenerate baseline run, so that a report cannot overstate the paper's claim.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{Analysis, Draw, ModelKind, RunImportance, RunResult};
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

/// Paired values of the separable run and the `baseline` run of the same draw and seed, as
/// read by `value`; pairs whose baseline is degenerate are left out when `skip_degenerate`.
fn pairs<'r>(
    results: &'r [RunResult],
    baseline: ModelKind,
    skip_degenerate: bool,
    value: impl Fn(&'r RunResult) -> Option<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let (mut sep, mut base) = (Vec::new(), Vec::new());
    for r in results.iter().filter(|r| r.kind == ModelKind::Separable) {
        let other = results
            .iter()
            .find(|o| o.kind == baseline && o.draw == r.draw && o.seed == r.seed)
            .filter(|o| !(skip_degenerate && is_degenerate(o)));
        if let (Some(a), Some(b)) = (value(r), other.and_then(&value)) {
            sep.push(a);
            base.push(b);
        }
    }
    (sep, base)
}

/// `mean difference | separable better | Wilcoxon p` cells of paired values.
fn paired_cells(sep: &[f64], base: &[f64]) -> String {
    let diffs: Vec<f64> = sep.iter().zip(base).map(|(a, b)| a - b).collect();
    let better = diffs.iter().filter(|d| **d > 0.0).count();
    let p = wilcoxon_signed_rank(sep, base).map_or("n/a".to_string(), |w| format_p(w.p_value));
    let mean = summarize(&diffs).map_or("n/a".to_string(), |s| format!("{:+.3}", s.mean));
    format!("{mean} | {better}/{} | {p}", diffs.len())
}

fn scores_table(md: &mut String, results: &[RunResult], tasks: &BTreeSet<&str>) {
    let _ = writeln!(md, "## Test scores\n");
    let _ = writeln!(
        md,
        "| task | score | {} |",
        KINDS.map(kind_name).join(" | ")
    );
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(KINDS.len()));
    for task in tasks {
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
    let mean_of = |value: fn(&RunResult) -> f64| -> String {
        KINDS
            .iter()
            .map(|&k| {
                let v: Vec<f64> = results.iter().filter(|r| r.kind == k).map(value).collect();
                summarize(&v).map_or("n/a".into(), |s| format!("{:.0}", s.mean))
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let _ = writeln!(
        md,
        "| | parameters (mean) | {} |",
        mean_of(|r| r.parameters as f64)
    );
    let _ = writeln!(
        md,
        "| | seconds to train and test (mean) | {} |\n",
        mean_of(|r| r.seconds)
    );
}

fn paired_table(md: &mut String, results: &[RunResult], tasks: &BTreeSet<&str>) {
    let _ = writeln!(md, "## Separable minus baseline, paired by draw and seed\n");
    let _ = writeln!(
        md,
        "The last three columns leave out the pairs whose baseline run is degenerate (see below).\n"
    );
    let _ = writeln!(
        md,
        "| task | score | baseline | mean difference | separable better | Wilcoxon p (two-sided) | without degenerate: mean difference | better | p |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    for task in tasks {
        for score in [Score::Auroc, Score::Auprc] {
            for baseline in [ModelKind::DenseTwin, ModelKind::DenseSameUnits] {
                let value = |r: &RunResult| score.of(r, task);
                let (sep, base) = pairs(results, baseline, false, value);
                let (sep_ok, base_ok) = pairs(results, baseline, true, value);
                let _ = writeln!(
                    md,
                    "| {task} | {} | {} | {} | {} |",
                    score.name(),
                    kind_name(baseline),
                    paired_cells(&sep, &base),
                    paired_cells(&sep_ok, &base_ok)
                );
            }
        }
    }
}

fn mean_test_auroc(r: &RunResult) -> Option<f64> {
    let v: Vec<f64> = r.test.iter().filter_map(|t| t.auroc).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn fmt_option<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("base".into(), |v| v.to_string())
}

fn draws_table(md: &mut String, results: &[RunResult], draws: &[Draw]) {
    if draws.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Hyperparameter draws\n");
    let _ = writeln!(
        md,
        "`base`: the base config's value. Scores: mean test auROC over tasks, averaged over seeds.\n"
    );
    let _ = writeln!(
        md,
        "| draw | filters | kernel | pool | units | lr | smoothness | curvature max | {} |",
        KINDS.map(kind_name).join(" | ")
    );
    let _ = writeln!(
        md,
        "|---|---|---|---|---|---|---|---|{}",
        "---|".repeat(KINDS.len())
    );
    for d in draws {
        let cells: Vec<String> = KINDS
            .iter()
            .map(|&k| {
                let v: Vec<f64> = results
                    .iter()
                    .filter(|r| r.kind == k && r.draw == d.index)
                    .filter_map(mean_test_auroc)
                    .collect();
                summarize(&v).map_or("n/a".into(), |s| format!("{:.3}", s.mean))
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            d.index,
            fmt_option(d.filters),
            fmt_option(d.kernel_size),
            fmt_option(d.pool_size),
            fmt_option(d.units),
            fmt_option(d.lr.map(|v| format!("{v:.4}"))),
            fmt_option(d.smoothness.map(|v| format!("{v:.4}"))),
            fmt_option(d.curvature_max.map(|v| format!("{v:.4}"))),
            cells.join(" | ")
        );
    }
    let _ = writeln!(md);
}

fn robustness_table(md: &mut String, results: &[RunResult]) {
    let _ = writeln!(md, "## Robustness across hyperparameter draws\n");
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
            .filter_map(mean_test_auroc)
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
}

fn degenerate_section(md: &mut String, results: &[RunResult]) {
    let degenerate: Vec<&RunResult> = results
        .iter()
        .filter(|r| r.kind != ModelKind::Separable && is_degenerate(r))
        .collect();
    let _ = writeln!(md, "\n## Degenerate baselines\n");
    if degenerate.is_empty() {
        let _ = writeln!(md, "No baseline run stayed at chance level.");
        return;
    }
    let _ = writeln!(
        md,
        "**{} baseline run(s) learned nothing** (every task's auROC within {DEGENERATE_MARGIN} of 0.5): their hidden ReLUs died (a twin squeezed to few hidden units, or a large learning rate). Differences against them say nothing about the separable layer's inductive bias, only about how easily the dense model fails to train; read the columns without them.\n",
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

/// The recovery value `value` of `task` in one run's importance.
fn recovery_of(
    importance: &[RunImportance],
    r: &RunResult,
    task: &str,
    value: fn(&super::importance::TaskRecovery) -> Option<f64>,
) -> Option<f64> {
    importance
        .iter()
        .find(|i| i.draw == r.draw && i.seed == r.seed && i.kind == r.kind)
        .and_then(|i| i.tasks.iter().find(|t| t.task == task))
        .and_then(value)
}

fn importance_section(md: &mut String, results: &[RunResult], importance: &[RunImportance]) {
    let Some(first) = importance.first() else {
        return;
    };
    let _ = writeln!(md, "\n## Importance scores against known sites\n");
    let _ = writeln!(
        md,
        "Per-position importance on each task's positive held-out sequences that hold a known site, over the runs that learned something (degenerate baselines left out). **Site auROC**: importance ranks positions inside sites above those outside (0.5 = chance). **Mass on sites**: mean share of positive importance inside the sites; chance is the share of positions inside them.\n"
    );
    let _ = writeln!(
        md,
        "| task | sites | sequences | measure | {} |",
        KINDS.map(kind_name).join(" | ")
    );
    let _ = writeln!(md, "|---|---|---|---|{}", "---|".repeat(KINDS.len()));
    type Value = fn(&super::importance::TaskRecovery) -> Option<f64>;
    let measures: [(&str, Value); 2] = [
        ("site auROC", |t| t.auroc),
        ("mass on sites", |t| Some(t.mass_fraction)),
    ];
    for t in &first.tasks {
        for (name, value) in measures {
            let cells: Vec<String> = KINDS
                .iter()
                .map(|&k| {
                    let v: Vec<f64> = results
                        .iter()
                        .filter(|r| r.kind == k && (k == ModelKind::Separable || !is_degenerate(r)))
                        .filter_map(|r| recovery_of(importance, r, &t.task, value))
                        .collect();
                    fmt_summary(&v)
                })
                .collect();
            let measure = if name == "mass on sites" {
                format!("{name} (chance {:.3})", t.site_fraction)
            } else {
                name.to_string()
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {measure} | {} |",
                t.task,
                t.source,
                t.sequences,
                cells.join(" | ")
            );
        }
    }
    let _ = writeln!(
        md,
        "\nSeparable minus baseline in site auROC, paired by draw and seed (degenerate baselines left out: a constant model has no importance to speak of):\n"
    );
    let _ = writeln!(
        md,
        "| task | baseline | mean difference | separable better | Wilcoxon p (two-sided) |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|");
    for t in &first.tasks {
        for baseline in [ModelKind::DenseTwin, ModelKind::DenseSameUnits] {
            let (sep, base) = pairs(results, baseline, true, |r| {
                recovery_of(importance, r, &t.task, |x| x.auroc)
            });
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                t.task,
                kind_name(baseline),
                paired_cells(&sep, &base)
            );
        }
    }
}

/// The report's Markdown text for `results`, with what `analysis` adds.
pub fn report(title: &str, results: &[RunResult], analysis: &Analysis) -> String {
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
    scores_table(&mut md, results, &tasks);
    paired_table(&mut md, results, &tasks);
    let _ = writeln!(md);
    draws_table(&mut md, results, &analysis.draws);
    robustness_table(&mut md, results);
    degenerate_section(&mut md, results);
    importance_section(&mut md, results, &analysis.importance);
    if !analysis.figures.is_empty() {
        let _ = writeln!(md, "\n## Figures\n");
        for f in &analysis.figures {
            let _ = writeln!(md, "{}\n\n![{}]({})\n", f.caption, f.file, f.file);
        }
    }
    md
}
