//! docs/contract.md, promise by promise: the command line's verbs and the files they write,
//! and the weights file (tensor names and shapes, the `config` entry alone enough to load).
//! The demo (`sepfc` with no arguments) is walked by tests/demo.rs.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::cli::{MODEL, ok, s, sepfc, simulate_200, temp_dir};

/// `[data]` and `[train]` of the contract tests' config; the layers are `common::cli::MODEL`.
const DATA_AND_TRAIN: &str = r#"[data]
fasta = "sim/sequences.fa"
labels = "sim/labels.tsv"
valid_fraction = 0.2

[train]
lr = 0.01
epochs = 2
batch_size = 50
"#;

/// A simulated project in `dir` trained into `dir/run`; the training's output.
fn trained(dir: &Path) -> String {
    simulate_200(dir);
    std::fs::write(dir.join("c.toml"), format!("{DATA_AND_TRAIN}{MODEL}")).unwrap();
    ok(&[
        "train",
        "--config",
        s(&dir.join("c.toml")),
        "--out",
        s(&dir.join("run")),
        "--lr",
        "0.02",
        "--device",
        "cpu",
    ])
}

/// `(header, rows)` of a TSV.
fn tsv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.split('\t').map(String::from).collect::<Vec<_>>());
    (lines.next().unwrap(), lines.collect())
}

fn fasta_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix('>'))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn the_command_line_keeps_the_contract() {
    let dir = temp_dir("contract-cli");
    trained(&dir);
    // simulate: its three files, ground truth with id, motif, start, strand
    for file in ["sequences.fa", "labels.tsv", "embeddings.tsv"] {
        assert!(
            dir.join("sim").join(file).exists(),
            "simulate wrote no {file}"
        );
    }
    let (truth, _) = tsv(&dir.join("sim/embeddings.tsv"));
    assert_eq!(truth[..4], ["id", "motif", "start", "strand"]);

    // train: the weights, the fully resolved config (flags applied, paths absolute), metrics
    let run = dir.join("run");
    let resolved = sepfc::config::Config::from_toml_str(
        &std::fs::read_to_string(run.join("config.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(resolved.train.lr, 0.02, "--lr overrides the config");
    assert!(
        resolved
            .data
            .unwrap()
            .files()
            .iter()
            .all(|p| p.is_absolute())
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let epochs = metrics.as_array().unwrap();
    assert_eq!(epochs.len(), 2);
    for epoch in epochs {
        assert!(epoch["train_loss"].as_f64().unwrap().is_finite());
        let tasks: Vec<&str> = epoch["valid"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                for key in ["loss", "auroc", "auprc"] {
                    assert!(t[key].is_number(), "{key} in {t}");
                }
                t["task"].as_str().unwrap()
            })
            .collect();
        assert_eq!(tasks, ["GATA", "EBOX"]);
    }

    // predict: header id + task names, probabilities, one row per record in input order
    let fasta = dir.join("sim/sequences.fa");
    let predictions = dir.join("p.tsv");
    ok(&[
        "predict",
        "--model",
        s(&run),
        "--fasta",
        s(&fasta),
        "--out",
        s(&predictions),
        "--device",
        "cpu",
    ]);
    let (header, rows) = tsv(&predictions);
    assert_eq!(header, ["id", "GATA", "EBOX"]);
    assert_eq!(
        rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        fasta_ids(&fasta)
    );
    for row in &rows {
        for value in &row[1..] {
            let p: f64 = value.parse().unwrap();
            assert!((0.0..=1.0).contains(&p), "{p} is no probability");
        }
    }

    // explain: both spellings of grad_x_input give the same rows, one score per position
    let explain = |method: &str, out: &str| {
        ok(&[
            "explain",
            "--model",
            s(&run),
            "--fasta",
            s(&fasta),
            "--out",
            s(&dir.join(out)),
            "--task",
            "EBOX",
            "--method",
            method,
            "--device",
            "cpu",
        ]);
        std::fs::read_to_string(dir.join(out)).unwrap()
    };
    let underscored = explain("grad_x_input", "a.tsv");
    assert_eq!(underscored, explain("grad-x-input", "b.tsv"));
    let first = underscored.lines().next().unwrap();
    let (id, scores) = first.split_once('\t').unwrap();
    assert_eq!((id, scores.split(',').count()), ("seq0", 100));

    // explain --npz: PREFIX.ohe.npz and PREFIX.hyp.npz, one float32 arr_0 of (N, 4, L) each,
    // ohe one-hot and in input order, ohe * hyp summed over channels the TSV's scores
    let prefix = dir.join("attr");
    ok(&[
        "explain",
        "--model",
        s(&run),
        "--fasta",
        s(&fasta),
        "--out",
        s(&dir.join("shap.tsv")),
        "--task",
        "EBOX",
        "--method",
        "deepshap",
        "--references",
        "3",
        "--npz",
        s(&prefix),
        "--device",
        "cpu",
    ]);
    let check = r#"
import sys, numpy as np
ohe, hyp = np.load(sys.argv[1] + ".ohe.npz"), np.load(sys.argv[1] + ".hyp.npz")
assert list(ohe.keys()) == ["arr_0"] and list(hyp.keys()) == ["arr_0"], (list(ohe.keys()), list(hyp.keys()))
ohe, hyp = ohe["arr_0"], hyp["arr_0"]
assert ohe.dtype == np.float32 and hyp.dtype == np.float32, (ohe.dtype, hyp.dtype)
assert ohe.shape == hyp.shape and ohe.shape[1:] == (4, 100), (ohe.shape, hyp.shape)
assert set(np.unique(ohe)) <= {0.0, 1.0} and ohe.sum(axis=1).max() <= 1.0
rows = [l.split("\t") for l in open(sys.argv[2]).read().splitlines()]
tsv = np.array([[float(v) for v in r[1].split(",")] for r in rows])
assert tsv.shape == (ohe.shape[0], 100), tsv.shape
assert np.abs((ohe * hyp).sum(axis=1) - tsv).max() <= 2e-6, np.abs((ohe * hyp).sum(axis=1) - tsv).max()
print(ohe.shape[0])
"#;
    let out = Command::new("python3")
        .args(["-c", check, s(&prefix), s(&dir.join("shap.tsv"))])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the npz files fail the contract:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        fasta_ids(&fasta).len().to_string()
    );

    // --rc-average: the mean over a sequence and its reverse complement, the reverse's scores
    // mapped back onto the forward strand; checked against two plain runs, the second on a
    // FASTA of reverse complements made here
    let reversed = dir.join("reversed.fa");
    let complement = |b: char| match b {
        'A' => 'T',
        'C' => 'G',
        'G' => 'C',
        'T' => 'A',
        'a' => 't',
        'c' => 'g',
        'g' => 'c',
        't' => 'a',
        other => other,
    };
    // records may wrap over several lines: each record's sequence joined, then reversed
    let text: String = std::fs::read_to_string(&fasta)
        .unwrap()
        .split('>')
        .skip(1)
        .map(|record| {
            let (header, body) = record.split_once('\n').unwrap();
            let seq: String = body.lines().collect();
            format!(
                ">{header}\n{}\n",
                seq.chars().rev().map(complement).collect::<String>()
            )
        })
        .collect();
    std::fs::write(&reversed, text).unwrap();
    let run_on = |verb: &str, input: &Path, out: &str, extra: &[&str]| {
        let out_path = dir.join(out);
        let mut args = vec![
            verb,
            "--model",
            s(&run),
            "--fasta",
            s(input),
            "--out",
            s(&out_path),
            "--device",
            "cpu",
        ];
        args.extend_from_slice(extra);
        ok(&args);
        tsv(&dir.join(out)).1
    };
    let numbers = |row: &[String]| -> Vec<f64> {
        row[1..]
            .iter()
            .flat_map(|v| v.split(','))
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let forward = run_on("predict", &fasta, "pf.tsv", &[]);
    let backward = run_on("predict", &reversed, "pb.tsv", &[]);
    let averaged = run_on("predict", &fasta, "pa.tsv", &["--rc-average"]);
    for ((f, b), a) in forward.iter().zip(&backward).zip(&averaged) {
        for ((f, b), a) in numbers(f).iter().zip(numbers(b)).zip(numbers(a)) {
            assert!(
                (a - (f + b) / 2.0).abs() <= 1.5e-6,
                "predict --rc-average {a}, {f} and {b}"
            );
        }
    }
    let explain_args = ["--task", "EBOX", "--method", "deeplift"];
    let mut with_rc = explain_args.to_vec();
    with_rc.push("--rc-average");
    // explain writes no header: read every line as a row
    let rows = |out: &str| -> Vec<Vec<f64>> {
        std::fs::read_to_string(dir.join(out))
            .unwrap()
            .lines()
            .map(|l| {
                l.split_once('\t')
                    .unwrap()
                    .1
                    .split(',')
                    .map(|v| v.parse().unwrap())
                    .collect()
            })
            .collect()
    };
    run_on("explain", &fasta, "ef.tsv", &explain_args);
    run_on("explain", &reversed, "eb.tsv", &explain_args);
    run_on("explain", &fasta, "ea.tsv", &with_rc);
    let (ef, eb, ea) = (rows("ef.tsv"), rows("eb.tsv"), rows("ea.tsv"));
    for ((f, b), a) in ef.iter().zip(&eb).zip(&ea) {
        let l = f.len();
        for i in 0..l {
            let expected = (f[i] + b[l - 1 - i]) / 2.0;
            assert!(
                (a[i] - expected).abs() <= 1.5e-6,
                "explain --rc-average at {i}: {} and {expected}",
                a[i]
            );
        }
    }

    // evaluate: auROC and auPRC per task
    let scores = ok(&[
        "evaluate",
        "--model",
        s(&run),
        "--fasta",
        s(&fasta),
        "--labels",
        s(&dir.join("sim/labels.tsv")),
        "--device",
        "cpu",
    ]);
    for task in ["GATA", "EBOX"] {
        let line = scores.lines().find(|l| l.starts_with(task)).unwrap();
        assert!(line.contains("auROC") && line.contains("auPRC"), "{line}");
    }

    // bench: the last line is key=value
    let bench = sepfc(&[
        "bench",
        "--model",
        "small",
        "--device",
        "cpu",
        "--batch",
        "2",
        "--seconds",
        "0",
    ]);
    assert!(bench.status.success());
    let stdout = String::from_utf8_lossy(&bench.stdout);
    let last = stdout.lines().last().unwrap();
    let pairs: Vec<(&str, f64)> = last
        .split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("{last}"));
            (k, v.parse().unwrap())
        })
        .collect();
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        ["train_samples_per_s", "infer_samples_per_s", "peak_rss_mib"]
    );
    assert!(pairs.iter().all(|(_, v)| *v > 0.0), "{last}");
}

#[test]
fn a_weights_file_with_only_its_config_loads_and_predicts_the_same() {
    let dir = temp_dir("contract-weights");
    trained(&dir);
    let weights = std::fs::read(dir.join("run/model.safetensors")).unwrap();
    let file = safetensors::SafeTensors::deserialize(&weights).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&weights).unwrap();
    let metadata = header.metadata().clone().unwrap();
    // tensor names layers.{i}.{name} with the stored shapes of the contract's table
    let shapes: HashMap<String, Vec<usize>> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.shape().to_vec()))
        .collect();
    let expected: HashMap<String, Vec<usize>> = [
        ("layers.0.weight", vec![8, 4, 9]),
        ("layers.0.bias", vec![8]),
        // 100 - 8 = 92 positions, pooled by 4 to 23, stored symmetric as 12
        ("layers.2.pos", vec![4, 12]),
        ("layers.2.chan", vec![4, 16]),
        ("layers.3.weight", vec![2, 4]),
        ("layers.3.bias", vec![2]),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), s))
    .collect();
    assert_eq!(shapes, expected);
    for view in file.tensors().iter().map(|(_, v)| v) {
        assert_eq!(view.dtype(), safetensors::Dtype::F32);
    }
    // the same tensors with only the `config` entry, as another writer may leave them
    let only_config = HashMap::from([("config".to_string(), metadata["config"].clone())]);
    let bare = safetensors::serialize(file.tensors(), Some(only_config)).unwrap();
    std::fs::write(dir.join("bare.safetensors"), bare).unwrap();
    let fasta = dir.join("sim/sequences.fa");
    let predict = |model: &Path, out: &str| {
        ok(&[
            "predict",
            "--model",
            s(model),
            "--fasta",
            s(&fasta),
            "--out",
            s(&dir.join(out)),
            "--device",
            "cpu",
        ]);
        tsv(&dir.join(out)).1
    };
    let with_all = predict(&dir.join("run"), "all.tsv");
    let with_config = predict(&dir.join("bare.safetensors"), "bare.tsv");
    assert_eq!(
        with_all, with_config,
        "the same predictions from the config alone"
    );
    // pooling by 4 lets lengths 100 to 107 give these shapes: the data's length picks one,
    // and without data the file is refused, naming the missing entry
    let cpu = sepfc::backend::cpu::Cpu;
    let bare = dir.join("bare.safetensors");
    let model = sepfc::model::Model::load_for_length(&cpu, &bare, 100).unwrap();
    assert_eq!(model.input_length(), 100);
    let error = sepfc::model::Model::load(&cpu, &bare)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("100 to 107") && error.contains("input_length"),
        "{error}"
    );
}

#[test]
fn training_goes_on_when_its_reader_goes_away() {
    let dir = temp_dir("contract-pipe");
    simulate_200(&dir);
    let config = format!("{DATA_AND_TRAIN}{MODEL}").replace("epochs = 2", "epochs = 4");
    std::fs::write(dir.join("c.toml"), config).unwrap();
    // `sepfc train ... | head -1`
    let mut child = Command::new(env!("CARGO_BIN_EXE_sepfc"))
        .args([
            "train",
            "--config",
            s(&dir.join("c.toml")),
            "--out",
            s(&dir.join("run")),
            "--device",
            "cpu",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("training on"), "{first}");
    // the reader is gone (dropped above); the training must still finish
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/training.json")).unwrap())
            .unwrap();
    assert_eq!(summary["epochs"], 4);
}
