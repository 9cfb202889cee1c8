//! The plan of an experiment: reproducible hyperparameter draws inside their ranges, and per
//! draw and seed a separable model with its two dense baselines, all valid models.

use sepfc::config::{Config, LayerConfig};
use sepfc::experiment::{ExperimentConfig, ModelKind, plan};
use sepfc::model::{Model, resolve};

const BASE: &str = r#"
[train]
lr = 0.001

[[layers]]
type = "revcomp_conv1d"
filters = 8
kernel_size = 9
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 4

[[layers]]
type = "separable_fc"
units = 4
symmetric = true
activation = "relu"

[[layers]]
type = "dense"
units = 2
"#;

const EXPERIMENT: &str = r#"
seeds = [3, 4]
draws = 5
draw_seed = 11

[ranges]
filters = [4, 16]
kernel_size = [5, 15]
pool_size = [2, 10]
units = [2, 12]
lr = [0.0001, 0.01]
smoothness = [0.0, 0.1]
curvature_max = [0.01, 1.0]
"#;

fn params(config: &Config, length: usize) -> usize {
    Model::new(&sepfc::backend::cpu::Cpu, config.clone(), length, 0)
        .unwrap()
        .parameter_count()
}

#[test]
fn draws_are_reproducible_and_inside_their_ranges() {
    let exp = ExperimentConfig::from_toml_str(EXPERIMENT).unwrap();
    let base = Config::from_toml_str(BASE).unwrap();
    let runs = plan(&exp, &base, 100).unwrap();
    assert_eq!(
        runs,
        plan(&exp, &base, 100).unwrap(),
        "the same draw seed planned differently"
    );
    assert_eq!(runs.len(), 5 * 2 * 3);
    let other = ExperimentConfig {
        draw_seed: 12,
        ..exp.clone()
    };
    assert_ne!(runs, plan(&other, &base, 100).unwrap());
    for run in &runs {
        let d = &run.draw;
        assert!((4..=16).contains(&d.filters.unwrap()));
        assert!((5..=15).contains(&d.kernel_size.unwrap()));
        assert!((2..=10).contains(&d.pool_size.unwrap()));
        assert!((2..=12).contains(&d.units.unwrap()));
        assert!((0.0001..=0.01).contains(&d.lr.unwrap()));
        assert!((0.0..=0.1).contains(&d.smoothness.unwrap()));
        assert!((0.01..=1.0).contains(&d.curvature_max.unwrap()));
        assert_eq!(run.config.train.lr, d.lr.unwrap());
        assert!(exp.seeds.contains(&run.config.train.seed));
        resolve(&run.config.layers, 100).expect("every planned model is valid");
    }
}

#[test]
fn each_draw_has_a_separable_model_and_two_dense_baselines() {
    let exp = ExperimentConfig::from_toml_str(EXPERIMENT).unwrap();
    let base = Config::from_toml_str(BASE).unwrap();
    let runs = plan(&exp, &base, 100).unwrap();
    for group in runs.chunks(3) {
        let [sep, twin, same] = group else {
            unreachable!()
        };
        assert_eq!(
            (sep.kind, twin.kind, same.kind),
            (
                ModelKind::Separable,
                ModelKind::DenseTwin,
                ModelKind::DenseSameUnits
            )
        );
        assert_eq!(sep.draw, twin.draw);
        assert_eq!(sep.seed, same.seed);
        let LayerConfig::SeparableFc(s) = &sep.config.layers[2] else {
            panic!("no separable layer")
        };
        let LayerConfig::Dense(d) = &same.config.layers[2] else {
            panic!("no dense layer")
        };
        assert_eq!(s.units, d.units, "the same-units baseline has other units");
        assert!(matches!(twin.config.layers[2], LayerConfig::Dense(_)));
        // the twin's parameter count is the closest to the separable model's
        let target = params(&sep.config, 100);
        let LayerConfig::Dense(t) = &twin.config.layers[2] else {
            unreachable!()
        };
        let chosen = params(&twin.config, 100).abs_diff(target);
        for units in [t.units.saturating_sub(1).max(1), t.units + 1] {
            let mut other = twin.config.clone();
            if let LayerConfig::Dense(o) = &mut other.layers[2] {
                o.units = units;
            }
            assert!(params(&other, 100).abs_diff(target) >= chosen);
        }
    }
}

#[test]
fn bad_experiments_are_rejected() {
    assert!(ExperimentConfig::from_toml_str("seeds = []\ndraws = 2\n").is_err());
    assert!(
        ExperimentConfig::from_toml_str("seeds = [1]\ndraws = 2\n[ranges]\nwidth = [1, 2]\n")
            .is_err()
    );
    let exp = ExperimentConfig::from_toml_str("seeds = [1]\ndraws = 1\n").unwrap();
    let no_separable = Config::from_toml_str("[[layers]]\ntype = \"dense\"\nunits = 1\n").unwrap();
    assert!(plan(&exp, &no_separable, 10).is_err());
    // pooling can never fit a 12 bp input after a 9 bp kernel: every draw fails
    let impossible =
        ExperimentConfig::from_toml_str("seeds = [1]\ndraws = 1\n[ranges]\npool_size = [8, 9]\n")
            .unwrap();
    let message = plan(&impossible, &Config::from_toml_str(BASE).unwrap(), 12)
        .unwrap_err()
        .to_string();
    assert!(message.contains("draw 0"), "{message}");
}

/// A tiny experiment, run twice: the second run trains nothing; with one result removed, it
/// trains that run alone again.
#[test]
fn an_experiment_runs_every_plan_entry_once_and_reruns_only_what_is_missing() {
    use sepfc::backend::cpu::Cpu;
    use sepfc::data::Dataset;
    use sepfc::experiment::{RunResult, Splits, run_experiment};
    use sepfc::simulate::{SimulationConfig, simulate, write_simulation};

    let dir = tempfile::tempdir().unwrap();
    let sim_config = SimulationConfig {
        n: 160,
        length: 40,
        seed: 5,
        ..Default::default()
    };
    write_simulation(
        &simulate(&sim_config).unwrap(),
        &sim_config.motifs,
        dir.path(),
    )
    .unwrap();
    let all = Dataset::from_fasta_and_labels(
        &dir.path().join("sequences.fa"),
        &dir.path().join("labels.tsv"),
    )
    .unwrap();
    let (train, test) = all.split_fraction(0.25, 0).unwrap();
    let splits = Splits {
        train,
        valid: None,
        test,
    };
    let mut base = Config::from_toml_str(BASE).unwrap();
    base.train.epochs = 1;
    base.train.batch_size = 40;
    let exp =
        ExperimentConfig::from_toml_str("seeds = [0, 1]\ndraws = 2\n[ranges]\nunits = [2, 5]\n")
            .unwrap();
    let out = dir.path().join("exp");
    let first = run_experiment(&Cpu, &exp, &base, &splits, &out, |_| {}).unwrap();
    assert_eq!(first.len(), 2 * 2 * 3);
    for r in &first {
        assert_eq!(r.test.len(), 2, "scores for both tasks");
        assert!(r.parameters > 0 && r.units > 0);
    }
    let mut trained = Vec::new();
    let again = run_experiment(&Cpu, &exp, &base, &splits, &out, |line| {
        trained.push(line.to_string())
    })
    .unwrap();
    assert!(
        trained.is_empty(),
        "a finished experiment trained again: {trained:?}"
    );
    assert_eq!(again, first);
    // drop one result: only that run trains again, with the same outcome
    let path = out.join("results.json");
    let mut results: Vec<RunResult> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let removed = results.remove(4);
    std::fs::write(&path, serde_json::to_string(&results).unwrap()).unwrap();
    let mut trained = Vec::new();
    let third = run_experiment(&Cpu, &exp, &base, &splits, &out, |line| {
        trained.push(line.to_string())
    })
    .unwrap();
    assert_eq!(trained.len(), 1, "{trained:?}");
    let redone = third
        .iter()
        .find(|r| r.draw == removed.draw && r.seed == removed.seed && r.kind == removed.kind)
        .unwrap();
    assert_eq!(
        redone.test, removed.test,
        "a rerun of one seed gave other scores"
    );
}

#[test]
fn the_report_compares_paired_runs_and_flags_degenerate_baselines() {
    use sepfc::experiment::{RunResult, report};
    use sepfc::training::TaskScores;
    let run = |draw: usize, seed: u64, kind: ModelKind, auroc: f64, units: usize| RunResult {
        draw,
        seed,
        kind,
        parameters: 100 * units,
        units,
        test: vec![TaskScores {
            task: "bound".into(),
            loss: 0.5,
            auroc: Some(auroc),
            auprc: Some(auroc),
            pearson: None,
            spearman: None,
        }],
        best_epoch: 1,
        seconds: 1.0,
    };
    let mut results = Vec::new();
    for (i, seed) in (0..6u64).enumerate() {
        let sep = 0.90 + 0.01 * i as f64;
        results.push(run(0, seed, ModelKind::Separable, sep, 4));
        // the twin sits at chance on seed 0: a dead single unit
        let twin = if seed == 0 { 0.5 } else { sep - 0.05 };
        results.push(run(0, seed, ModelKind::DenseTwin, twin, 1));
        results.push(run(0, seed, ModelKind::DenseSameUnits, sep - 0.02, 4));
    }
    let md = report("Test", &results, &Default::default());
    assert!(
        md.contains("18 runs: 1 hyperparameter draw(s) x 6 seed(s)"),
        "{md}"
    );
    // separable mean 0.925 over the six seeds
    assert!(md.contains("| bound | auROC | 0.925 ± 0.019 (n=6)"), "{md}");
    // every separable run beats both baselines; with 6 pairs the exact two-sided p is 2/64
    assert!(
        md.contains("| bound | auROC | dense (same units) | +0.020 | 6/6 | 0.031 |"),
        "{md}"
    );
    assert!(md.contains("**1 baseline run(s) learned nothing**"), "{md}");
    assert!(
        md.contains("| 0 | 0 | dense twin (same parameters) | 1 | 100 |"),
        "{md}"
    );
}
