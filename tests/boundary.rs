//! The boundary a user touches: labels meet models by task name, held-out sets that hold
//! nothing are refused, a run folder belongs to one run (a lock, no mixed files, a resume that
//! is checked against the run it continues, nothing written before the checks), divergence
//! is an error, and `[data]` keys that conflict or go unused are errors naming them.

use std::path::{Path, PathBuf};

mod common;
use common::cli::{MODEL, assert_mentions, fails, ok, s, simulate_200 as simulate, temp_dir};
use sepfc::config::Config;

/// A config at `dir/name` with `[data]` lines `data` and `[train]` lines `train`.
fn config(dir: &Path, name: &str, data: &str, train: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[data]\nfasta = \"sim/sequences.fa\"\nlabels = \"sim/labels.tsv\"\n{data}\n\
             [train]\nbatch_size = 50\nepochs = 2\nlr = 0.01\n{train}\n{MODEL}"
        ),
    )
    .unwrap();
    path
}

fn train(config: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "train",
        "--config",
        s(config),
        "--out",
        s(out),
        "--device",
        "cpu",
    ];
    args.extend_from_slice(extra);
    args.into_iter().map(String::from).collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `evaluate`'s per-task lines (`task: auROC x auPRC y (loss z)`), sorted by task.
fn scores(output: &str) -> Vec<String> {
    let mut lines: Vec<String> = output
        .lines()
        .filter(|l| l.contains(": auROC "))
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

/// The labels TSV with its two task columns swapped.
fn swap_columns(labels: &Path, swapped: &Path) {
    let text = std::fs::read_to_string(labels).unwrap();
    let out: String = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            format!("{}\t{}\t{}\n", f[0], f[2], f[1])
        })
        .collect();
    std::fs::write(swapped, out).unwrap();
}

#[test]
fn evaluate_matches_label_columns_to_tasks_by_name_and_refuses_a_missing_task() {
    let dir = temp_dir("by-name");
    simulate(&dir);
    let cfg = config(&dir, "c.toml", "valid_fraction = 0.2", "");
    let run = dir.join("run");
    ok(&strs(&train(&cfg, &run, &[])));
    let fasta = dir.join("sim/sequences.fa");
    let labels = dir.join("sim/labels.tsv");
    let swapped = dir.join("swapped.tsv");
    swap_columns(&labels, &swapped);
    let evaluate = |labels: &Path| {
        ok(&[
            "evaluate",
            "--model",
            s(&run),
            "--fasta",
            s(&fasta),
            "--labels",
            s(labels),
            "--device",
            "cpu",
        ])
    };
    let straight = scores(&evaluate(&labels));
    assert_eq!(straight.len(), 2);
    assert_eq!(
        straight,
        scores(&evaluate(&swapped)),
        "same task, same column, same score"
    );
    // the two tasks score differently, so matching by position would have shown
    assert_ne!(
        straight[0].split(": ").nth(1),
        straight[1].split(": ").nth(1)
    );

    let renamed = dir.join("renamed.tsv");
    let text = std::fs::read_to_string(&labels).unwrap();
    std::fs::write(&renamed, text.replacen("EBOX", "MYC", 1)).unwrap();
    let error = fails(&[
        "evaluate",
        "--model",
        s(&run),
        "--fasta",
        s(&fasta),
        "--labels",
        s(&renamed),
        "--device",
        "cpu",
    ]);
    assert_mentions(&error, &["renamed.tsv", "EBOX", "MYC"]);
}

#[test]
fn a_validation_or_test_file_with_columns_in_another_order_is_matched_by_name() {
    let dir = temp_dir("valid-by-name");
    simulate(&dir);
    let swapped = dir.join("swapped.tsv");
    swap_columns(&dir.join("sim/labels.tsv"), &swapped);
    let data = |labels: &str| {
        Config::from_toml_str(&format!(
            "[data]\nfasta = \"sim/sequences.fa\"\nlabels = \"sim/labels.tsv\"\n\
             test_fasta = \"sim/sequences.fa\"\ntest_labels = \"{labels}\"\n{MODEL}"
        ))
        .unwrap()
        .data
        .unwrap()
    };
    let anchor = dir.join("c.toml");
    let straight = sepfc::data::load_splits(&data("sim/labels.tsv"), &anchor, 0).unwrap();
    let crossed = sepfc::data::load_splits(&data("swapped.tsv"), &anchor, 0).unwrap();
    let (a, b) = (straight.test.unwrap(), crossed.test.unwrap());
    assert_eq!(b.tasks, ["GATA", "EBOX"]);
    assert_eq!(a.targets, b.targets);
}

#[test]
fn held_out_sets_that_hold_no_sequence_are_refused() {
    let dir = temp_dir("empty-sets");
    simulate(&dir);
    let out = dir.join("run");
    // 0.001 x 200 rounds to no sequence
    let cfg = config(&dir, "tiny.toml", "valid_fraction = 0.001", "");
    let error = fails(&strs(&train(&cfg, &out, &[])));
    assert_mentions(&error, &["tiny.toml", "valid_fraction", "no sequence"]);
    let cfg = config(&dir, "zero.toml", "valid_fraction = 0", "");
    assert_mentions(
        &fails(&strs(&train(&cfg, &out, &[]))),
        &["valid_fraction = 0"],
    );
    // test ids of which none (or only some) name a sequence
    std::fs::write(dir.join("ids.txt"), "seq1\nnot_a_sequence\n").unwrap();
    let cfg = config(&dir, "ids.toml", "test_ids = \"ids.txt\"", "");
    let error = fails(&strs(&train(&cfg, &out, &[])));
    assert_mentions(&error, &["test_ids", "1 of the 2 ids", "not_a_sequence"]);
    assert!(!out.exists(), "a refused run writes nothing");
}

#[test]
fn data_keys_that_conflict_or_go_unused_are_errors_naming_them() {
    let parse = |data: &str| {
        Config::from_toml_str(&format!("[data]\n{data}\n{MODEL}"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let fasta = "fasta = \"a.fa\"\nlabels = \"a.tsv\"\n";
    let cases = [
        (
            format!("{fasta}bed = \"a.bed\"\ngenome = \"g.fa\"\nlength = 100"),
            vec!["`fasta` and `bed`"],
        ),
        (
            format!("{fasta}valid_fasta = \"v.fa\""),
            vec!["`valid_fasta` needs `valid_labels`"],
        ),
        (
            format!("{fasta}valid_labels = \"v.tsv\""),
            vec!["`valid_labels` needs `valid_fasta`"],
        ),
        (
            format!("{fasta}test_fasta = \"t.fa\""),
            vec!["`test_fasta` needs `test_labels`"],
        ),
        (
            format!("{fasta}test_ids = \"ids.txt\"\ntest_fraction = 0.1"),
            vec!["`test_fraction` and `test_ids`", "test set"],
        ),
        (
            format!("{fasta}valid_fraction = 0.1\nvalid_chroms = [\"chr8\"]"),
            vec!["`valid_fraction` and `valid_chroms`"],
        ),
        (
            format!("{fasta}genome = \"g.fa\""),
            vec!["`genome`", "`bed`"],
        ),
        (
            "fasta = \"a.fa\"".to_string(),
            vec!["`fasta` needs `labels`"],
        ),
        (
            "bed = \"a.bed\"\ngenome = \"g.fa\"".to_string(),
            vec!["`bed` needs `genome`", "`length`"],
        ),
        (
            format!("{fasta}valid_fraction = 1.5"),
            vec!["valid_fraction = 1.5"],
        ),
        (
            format!("{fasta}valid_fraction = 0.6\ntest_fraction = 0.4"),
            vec!["nothing for training"],
        ),
        (
            "valid_fraction = 0.1".to_string(),
            vec!["needs a training source"],
        ),
    ];
    for (data, parts) in cases {
        let error = parse(&data);
        assert!(!error.is_empty(), "accepted:\n{data}");
        assert_mentions(&error, &parts);
    }
    // and the TOML form survives a round trip through the types
    let text = format!(
        "[data]\n{fasta}valid_chroms = [\"chr8\"]\ntest_ids = \"ids.txt\"\nsplit_seed = 3\n{MODEL}"
    );
    let config = Config::from_toml_str(&text).unwrap();
    assert_eq!(
        Config::from_toml_str(&config.to_toml_string().unwrap()).unwrap(),
        config
    );
}

#[test]
fn a_run_folder_holds_one_run() {
    let dir = temp_dir("one-run");
    simulate(&dir);
    let cfg = config(&dir, "c.toml", "valid_fraction = 0.2", "");
    let out = dir.join("run");
    ok(&strs(&train(&cfg, &out, &[])));
    let model = std::fs::read(out.join("model.safetensors")).unwrap();
    // a second training into the same folder is refused, and changes nothing
    let error = fails(&strs(&train(&cfg, &out, &["--seed", "3"])));
    assert_mentions(&error, &["already holds a run", "--resume"]);
    assert_eq!(std::fs::read(out.join("model.safetensors")).unwrap(), model);

    // while a run holds the folder, another process cannot take it
    let held = sepfc::run_folder::RunFolder::replace(
        &dir.join("busy"),
        sepfc::run_folder::Fingerprint::of(&Config::from_toml_str(MODEL).unwrap(), 100, &[])
            .unwrap(),
    )
    .unwrap();
    let error = fails(&strs(&train(&cfg, &dir.join("busy"), &[])));
    assert_mentions(
        &error,
        &[
            "in use by another sepfc run",
            &format!("process {}", std::process::id()),
        ],
    );
    drop(held);
    ok(&strs(&train(&cfg, &dir.join("busy"), &[])));
}

#[test]
fn a_rejected_config_writes_nothing() {
    let dir = temp_dir("rejected");
    simulate(&dir);
    let good = config(&dir, "good.toml", "valid_fraction = 0.2", "");
    let out = dir.join("run");
    ok(&strs(&train(&good, &out, &[])));
    let before = std::fs::read_to_string(out.join("config.toml")).unwrap();
    // a model that cannot fit 100 bp: rejected after the data is read, before any write
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&good)
            .unwrap()
            .replace("kernel_size = 9", "kernel_size = 150"),
    )
    .unwrap();
    let error = fails(&strs(&train(&bad, &out, &["--resume"])));
    assert_mentions(&error, &["bad.toml", "layer 0 (revcomp_conv1d)"]);
    assert_eq!(
        std::fs::read_to_string(out.join("config.toml")).unwrap(),
        before
    );
    assert!(
        out.join("training.json").exists(),
        "a failed resume keeps the finished run's summary"
    );
    let fresh = dir.join("fresh");
    fails(&strs(&train(&bad, &fresh, &[])));
    assert!(!fresh.exists(), "a rejected config leaves no folder");
}

#[test]
fn resume_refuses_a_config_or_data_other_than_the_run_s() {
    let dir = temp_dir("resume-check");
    simulate(&dir);
    let cfg = config(&dir, "c.toml", "valid_fraction = 0.2", "");
    let out = dir.join("run");
    ok(&strs(&train(&cfg, &out, &[])));
    let summary = std::fs::read(out.join("training.json")).unwrap();
    let check = |extra: &[&str], parts: &[&str]| {
        let error = fails(&strs(&train(&cfg, &out, &[&["--resume"], extra].concat())));
        assert_mentions(&error, &[&["is not the run"], parts].concat());
        assert_eq!(std::fs::read(out.join("training.json")).unwrap(), summary);
    };
    check(&["--lr", "0.02"], &["[train] lr was 0.01", "now 0.02"]);
    check(
        &["--batch-size", "20"],
        &["[train] batch_size was 50, now 20"],
    );
    let other_layers = config(&dir, "c.toml", "valid_fraction = 0.2", "");
    std::fs::write(
        &other_layers,
        std::fs::read_to_string(&other_layers)
            .unwrap()
            .replace("units = 4", "units = 5"),
    )
    .unwrap();
    check(&[], &["[[layers]] differ"]);
    // the same config, with one label changed
    let cfg = config(&dir, "c.toml", "valid_fraction = 0.2", "");
    let labels = dir.join("sim/labels.tsv");
    let text = std::fs::read_to_string(&labels).unwrap();
    std::fs::write(&labels, text.replacen("seq0\t0\t0", "seq0\t1\t0", 1)).unwrap();
    check(&[], &["labels.tsv has changed"]);
    std::fs::write(&labels, text).unwrap();
    // more epochs of the same run is a resume
    ok(&strs(&train(&cfg, &out, &["--resume", "--epochs", "3"])));
}

#[test]
fn divergence_and_rates_that_cannot_train_are_errors() {
    let dir = temp_dir("diverge");
    simulate(&dir);
    let out = dir.join("run");
    let cfg = config(&dir, "huge.toml", "valid_fraction = 0.2", "");
    let error = fails(&strs(&train(
        &cfg,
        &out,
        &["--lr", "1e30", "--optimizer", "sgd"],
    )));
    assert_mentions(&error, &["diverged", "epoch 1", "lr"]);
    assert!(
        !out.join("model.safetensors").exists(),
        "no NaN model is kept"
    );
    assert!(!out.join("training.json").exists());
    for lr in ["-0.01", "0", "NaN"] {
        let out = dir.join(format!("lr{lr}"));
        let error = fails(&strs(&train(&cfg, &out, &[&format!("--lr={lr}")])));
        assert_mentions(&error, &["huge.toml", "[train] lr", "above 0"]);
        assert!(!out.exists());
    }
}

#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_written() {
    let dir = temp_dir("out-is-in");
    simulate(&dir);
    let cfg = config(&dir, "c.toml", "valid_fraction = 0.2", "");
    let run = dir.join("run");
    ok(&strs(&train(&cfg, &run, &[])));
    let fasta = dir.join("sim/sequences.fa");
    let before = std::fs::read(&fasta).unwrap();
    // the same file under another spelling
    let spelled = dir.join("sim/../sim/sequences.fa");
    for verb in [&["predict"][..], &["explain", "--task", "GATA"]] {
        let mut args = verb.to_vec();
        args.extend([
            "--model",
            s(&run),
            "--fasta",
            s(&fasta),
            "--out",
            s(&spelled),
        ]);
        let error = fails(&args);
        assert_mentions(&error, &["--out", "--fasta"]);
        assert_eq!(std::fs::read(&fasta).unwrap(), before);
    }
    let error = fails(&[
        "scan",
        "--model",
        s(&run),
        "--genome",
        s(&fasta),
        "--stride",
        "50",
        "--out",
        s(&fasta),
        "--device",
        "cpu",
    ]);
    assert_mentions(&error, &["--out", "--genome"]);
    assert_eq!(std::fs::read(&fasta).unwrap(), before);
}

#[test]
fn a_genome_index_that_no_longer_fits_its_fasta_is_refused() {
    use sepfc::data::bed::{Genome, write_fai};
    let dir = temp_dir("stale-fai");
    let genome = dir.join("g.fa");
    let line = "ACGTACGTAC".repeat(6);
    std::fs::write(&genome, format!(">chr1\n{line}\n{line}\n>chr2\n{line}\n")).unwrap();
    write_fai(&genome).unwrap();
    let fetched = Genome::open(&genome).unwrap().fetch("chr2", 0, 10).unwrap();
    assert_eq!(fetched, b"ACGTACGTAC");
    let error = |text: String| {
        std::fs::write(&genome, text).unwrap();
        Genome::open(&genome)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    // a chromosome appended after indexing would silently go unscanned
    let appended = error(format!(
        ">chr1\n{line}\n{line}\n>chr2\n{line}\n>chr3\n{line}\n"
    ));
    assert_mentions(
        &appended,
        &["g.fa.fai", "goes on after", "chr2", "samtools faidx"],
    );
    // a line added to chr1 shifts chr2 by one line: every window there would be read off
    let shifted = error(format!(">chr1\n{line}\n{line}\n{line}\n>chr2\n{line}\n"));
    assert_mentions(&shifted, &["g.fa.fai", "chr2"]);
    // a renamed sequence
    let renamed = error(format!(">chr1\n{line}\n{line}\n>chrX\n{line}\n"));
    assert_mentions(&renamed, &["'>chr2'"]);
    // numbers no FASTA could have (found by tests/fuzz_readers.rs: reading through them asked
    // for 369 GB)
    std::fs::write(&genome, format!(">chr1\n{line}\n{line}\n>chr2\n{line}\n")).unwrap();
    let fai = sepfc::data::bed::fai_path(&genome);
    std::fs::write(
        &fai,
        "chr1\t120\t6\t60\t369010810811\nchr2\t60\t134\t60\t61\n",
    )
    .unwrap();
    let absurd = Genome::open(&genome).err().unwrap().to_string();
    assert_mentions(&absurd, &["chr1", "no line end explains"]);
    std::fs::write(&fai, "chr1\t120\t6\t60\t61\nchr2\t6000\t134\t60\t61\n").unwrap();
    let past = Genome::open(&genome).err().unwrap().to_string();
    assert_mentions(&past, &["chr2", "runs past the end"]);
    // the index is rewritten whole: no temporary file is left beside it
    write_fai(&genome).unwrap();
    assert!(Genome::open(&genome).is_ok());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn experiment_ranges_that_draw_unusable_values_are_errors_not_panics() {
    use sepfc::experiment::ExperimentConfig;
    for (range, parts) in [
        ("lr = [0, 0.01]", vec!["[ranges] lr", "above 0"]),
        ("curvature_max = [-1, 1]", vec!["[ranges] curvature_max"]),
        (
            "smoothness = [-0.5, 1]",
            vec!["[ranges] smoothness", "0 or more"],
        ),
        ("filters = [0, 8]", vec!["[ranges] filters", "start at 1"]),
        ("lr = [0.001, inf]", vec!["[ranges] lr", "finite"]),
    ] {
        let text = format!("seeds = [0]\ndraws = 2\n[ranges]\n{range}\n");
        let error = ExperimentConfig::from_toml_str(&text)
            .err()
            .map(|e| e.to_string());
        let error = error.unwrap_or_else(|| panic!("accepted {range}"));
        assert_mentions(&error, &parts);
    }
}

#[test]
fn a_plan_with_braces_in_a_path_is_refused_before_any_file_is_written() {
    let dir = temp_dir("plan-braces");
    simulate(&dir);
    config(&dir, "c.toml", "valid_fraction = 0.2", "");
    let experiment = dir.join("e.toml");
    std::fs::write(&experiment, "base = \"c.toml\"\nseeds = [0]\ndraws = 1\n").unwrap();
    let plan = dir.join("plan");
    let error = fails(&[
        "experiment",
        "--config",
        s(&experiment),
        "--out",
        s(&dir.join("runs/{x}")),
        "--plan",
        s(&plan),
        "--device",
        "cpu",
    ]);
    assert_mentions(&error, &["{x}", "wildcards"]);
    assert!(!plan.exists(), "part of the plan was written");
}

#[test]
fn a_model_larger_than_memory_and_a_file_without_line_ends_are_refused_with_figures() {
    let dir = temp_dir("too-large");
    simulate(&dir);
    let cfg = config(&dir, "huge.toml", "valid_fraction = 0.2", "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replacen("filters = 8", "filters = 1000000000", 1),
    )
    .unwrap();
    let out = dir.join("run");
    let error = fails(&strs(&train(&cfg, &out, &[])));
    assert_mentions(
        &error,
        &["GiB", "layer 0 (revcomp_conv1d)", "fewer filters"],
    );
    assert!(!out.exists());
    // a "FASTA" with no line end is not read whole
    let error = sepfc::data::fasta::read_fasta(Path::new("/dev/zero"))
        .err()
        .unwrap();
    assert_mentions(&error.to_string(), &["/dev/zero:1", "longer than 256 MiB"]);
}

#[test]
fn labels_with_more_tasks_than_the_model_has_outputs_name_both() {
    let dir = temp_dir("task-count");
    simulate(&dir);
    let cfg = config(&dir, "c.toml", "valid_fraction = 0.2", "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let three = text.replace("type = \"dense\"\nunits = 2", "type = \"dense\"\nunits = 3");
    std::fs::write(&cfg, three).unwrap();
    let error = fails(&strs(&train(&cfg, &dir.join("run"), &[])));
    assert_mentions(
        &error,
        &[
            "c.toml",
            "2 task(s) (GATA, EBOX)",
            "3 output(s)",
            "units = 2",
        ],
    );
}

#[test]
fn a_validation_set_that_cannot_choose_an_epoch_is_refused() {
    let dir = temp_dir("one-class");
    simulate(&dir);
    // validation sequences of their own, every label negative
    let valid = dir.join("valid.tsv");
    let text = std::fs::read_to_string(dir.join("sim/labels.tsv")).unwrap();
    let negative: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            0 => format!("{l}\n"),
            _ => format!("{}\t0\t0\n", l.split('\t').next().unwrap()),
        })
        .collect();
    std::fs::write(&valid, negative).unwrap();
    let data = "valid_fasta = \"sim/sequences.fa\"\nvalid_labels = \"valid.tsv\"";
    let cfg = config(&dir, "c.toml", data, "");
    let error = fails(&strs(&train(&cfg, &dir.join("run"), &[])));
    assert_mentions(
        &error,
        &["c.toml", "validation set", "both a positive and a negative"],
    );
}

#[test]
fn training_from_named_weights_takes_each_task_from_its_own_column() {
    let dir = temp_dir("init-by-name");
    simulate(&dir);
    let first = config(&dir, "first.toml", "valid_fraction = 0.2", "");
    ok(&strs(&train(&first, &dir.join("first"), &[])));
    let init = dir.join("first/model.safetensors");
    // the same labels with the columns swapped and one extra column
    let text = std::fs::read_to_string(dir.join("sim/labels.tsv")).unwrap();
    let shuffled: String = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let extra = if f[0] == "id" { "OTHER" } else { "1" };
            format!("{}\t{extra}\t{}\t{}\n", f[0], f[2], f[1])
        })
        .collect();
    std::fs::write(dir.join("shuffled.tsv"), shuffled).unwrap();
    let straight = config(&dir, "straight.toml", "valid_fraction = 0.2", "");
    let crossed = dir.join("crossed.toml");
    let crossed_text = std::fs::read_to_string(&straight)
        .unwrap()
        .replace("labels = \"sim/labels.tsv\"", "labels = \"shuffled.tsv\"");
    std::fs::write(&crossed, crossed_text).unwrap();
    for (cfg, out) in [(&straight, "a"), (&crossed, "b")] {
        ok(&strs(&train(cfg, &dir.join(out), &["--init", s(&init)])));
    }
    let weights = |run: &str| {
        use sepfc::backend::Backend;
        let cpu = sepfc::backend::cpu::Cpu;
        let model = sepfc::model::Model::load(&cpu, &dir.join(run).join("model.safetensors"));
        let model = model.unwrap();
        let values: Vec<Vec<f32>> = model
            .parameters()
            .map(|(_, p)| cpu.download(&p.value).unwrap())
            .collect();
        (model.task_names().to_vec(), values)
    };
    let (tasks, values) = weights("a");
    assert_eq!(tasks, ["GATA", "EBOX"]);
    assert_eq!(
        (tasks, values),
        weights("b"),
        "the same training, whatever the column order"
    );
}
