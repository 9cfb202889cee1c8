//! The weights file outside sepfc: `tests/python/reference_model.py`, an independent NumPy
//! implementation of docs/contract.md, reads sepfc's weights files with the `safetensors` package
//! alone and predicts what sepfc predicts, and sepfc loads weights files NumPy wrote and
//! predicts what NumPy computes.
//!
//! Needs `python3` with numpy and safetensors. Without them the tests fail when `CI` is set and
//! are skipped otherwise.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sepfc::backend::cpu::Cpu;
use sepfc::backend::{Backend, Tensor};
use sepfc::config::Config;
use sepfc::model::Model;

/// Relative and absolute tolerance: `|x - y| <= max(RTOL * max(|x|, |y|), ATOL)`.
const RTOL: f32 = 1e-4;
const ATOL: f32 = 1e-5;

/// Configs covering every layer type and option, with the input length each reads.
const CONFIGS: &[(&str, usize, &str)] = &[
    (
        // strand-invariant: same padding with an odd kernel, valid with dilation, a pool that
        // leaves nothing over, symmetric positions (odd length 17) and tied channels
        "revcomp_symmetric_tied",
        41,
        r#"
[[layers]]
type = "revcomp_conv1d"
filters = 3
kernel_size = 5
padding = "same"
activation = "relu"

[[layers]]
type = "revcomp_conv1d"
filters = 4
kernel_size = 4
padding = "valid"
dilation = 2
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 3
stride = 2

[[layers]]
type = "dropout"
rate = 0.25

[[layers]]
type = "separable_fc"
units = 3
symmetric = true
tie_rc_channels = true
activation = "relu"

[[layers]]
type = "dense"
units = 2
"#,
    ),
    (
        // plain convolutions: same padding with an even kernel (1 left, 2 right) and with
        // dilation, a pool leaving a position over, a full separable layer, sigmoids
        "conv_full_separable",
        38,
        r#"
[[layers]]
type = "conv1d"
filters = 5
kernel_size = 4
padding = "same"
activation = "sigmoid"

[[layers]]
type = "conv1d"
filters = 6
kernel_size = 3
padding = "same"
dilation = 3
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 3
stride = 2

[[layers]]
type = "separable_fc"
units = 3
activation = "sigmoid"

[[layers]]
type = "dense"
units = 4
activation = "sigmoid"

[[layers]]
type = "dense"
units = 3
"#,
    ),
    (
        // uneven same padding of a revcomp convolution, tied channels without symmetry,
        // dropout before dense
        "revcomp_tied_only",
        30,
        r#"
[train]
optimizer = "sgd"
lr = 0.01

[[layers]]
type = "revcomp_conv1d"
filters = 3
kernel_size = 6
padding = "same"
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 2

[[layers]]
type = "separable_fc"
units = 4
tie_rc_channels = true
activation = "relu"

[[layers]]
type = "dropout"
rate = 0.5

[[layers]]
type = "dense"
units = 2
"#,
    ),
    (
        // separable_fc as the last layer: symmetric over an even length (10), with the
        // training-only options set
        "separable_last_symmetric_even",
        24,
        r#"
[[layers]]
type = "revcomp_conv1d"
filters = 2
kernel_size = 5

[[layers]]
type = "maxpool1d"
pool_size = 2

[[layers]]
type = "separable_fc"
units = 2
symmetric = true
smoothness = { penalty = 0.01, l1 = true, second_diff = false }
curvature_max = 0.5
"#,
    ),
];

/// Sequences per config.
const SEQUENCES: usize = 7;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/reference_model.py")
}

/// Whether `python3` can import numpy and safetensors. Fails the test when `CI` is set and
/// they are missing; otherwise says that the test is skipped.
fn python_ready(test: &str) -> bool {
    let probe = Command::new("python3")
        .args(["-c", "import numpy, safetensors, tomllib"])
        .output();
    let problem = match probe {
        Ok(out) if out.status.success() => return true,
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
        Err(e) => format!("cannot run python3: {e}"),
    };
    let help = "needs python3 (>= 3.11) with numpy and safetensors: \
                python3 -m pip install numpy safetensors";
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but {test} {help} ({problem})");
    }
    eprintln!("{test} skipped: it {help} ({problem}); set CI=1 to make this fail");
    false
}

/// A fresh folder under the system's temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "sepfc-numpy-interop-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create the temporary folder");
        Self(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Random sequences of `length`: mostly ACGT, some lower case, some N, one other letter.
fn random_sequences(rng: &mut StdRng, n: usize, length: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut seq: Vec<u8> = (0..length)
                .map(|_| {
                    let base = b"ACGT"[rng.random_range(0..4)];
                    match rng.random_range(0..10) {
                        0 => base.to_ascii_lowercase(),
                        1 => b'N',
                        _ => base,
                    }
                })
                .collect();
            if i == 0 {
                seq[0] = b'n';
                seq[length - 1] = b'R';
            }
            String::from_utf8(seq).expect("ASCII")
        })
        .collect()
}

/// `(N, 4, L)` one-hot input of docs/contract.md: A, C, G, T; lower case alike; anything else zero.
fn one_hot(seqs: &[String], length: usize) -> Vec<f32> {
    let mut x = vec![0.0; seqs.len() * 4 * length];
    for (n, seq) in seqs.iter().enumerate() {
        assert_eq!(seq.len(), length);
        for (l, base) in seq.bytes().enumerate() {
            let c = match base.to_ascii_uppercase() {
                b'A' => 0,
                b'C' => 1,
                b'G' => 2,
                b'T' => 3,
                _ => continue,
            };
            x[(n * 4 + c) * length + l] = 1.0;
        }
    }
    x
}

fn predict(model: &Model<Cpu>, seqs: &[String]) -> Vec<f32> {
    let cpu = Cpu;
    let length = model.input_length();
    let x = cpu
        .upload(&one_hot(seqs, length), &[seqs.len(), 4, length])
        .expect("upload the input");
    let p = model.predict(&cpu, &x).expect("predict");
    cpu.download(&p).expect("download the predictions")
}

fn write_lines(path: &Path, lines: impl IntoIterator<Item = String>) {
    let text: String = lines.into_iter().map(|l| l + "\n").collect();
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// One TSV row per sequence, one column per task.
fn write_predictions(path: &Path, preds: &[f32], tasks: usize) {
    write_lines(
        path,
        preds.chunks(tasks).map(|row| {
            row.iter()
                .map(|v| format!("{v:.9e}"))
                .collect::<Vec<_>>()
                .join("\t")
        }),
    );
}

fn read_predictions(path: &Path) -> Vec<Vec<f32>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split('\t')
                .map(|v| v.parse().expect("a number"))
                .collect()
        })
        .collect()
}

/// Runs the reference script; returns its combined output, panicking with it on failure.
fn run_script(what: &str, args: &[&OsStr]) -> String {
    run_python(&script(), what, args)
}

/// Runs the Python script `path` with `args`; its combined output, panicking with it on failure.
fn run_python(path: &Path, what: &str, args: &[&OsStr]) -> String {
    let out = Command::new("python3")
        .arg(path)
        .args(args)
        .output()
        .expect("run python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what}: {} {} exited with {}:\n{text}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        args.first()
            .map_or(String::new(), |a| a.to_string_lossy().to_string()),
        out.status
    );
    text
}

fn close(x: f32, y: f32) -> bool {
    (x - y).abs() <= (RTOL * x.abs().max(y.abs())).max(ATOL)
}

#[test]
fn sepfc_weights_read_by_numpy_predict_the_same() {
    if !python_ready("sepfc_weights_read_by_numpy_predict_the_same") {
        return;
    }
    let cpu = Cpu;
    let dir = TempDir::new("check");
    let mut rng = StdRng::seed_from_u64(11);
    for (i, &(name, length, text)) in CONFIGS.iter().enumerate() {
        let config = Config::from_toml_str(text).expect("a valid config");
        let mut model = Model::new(&cpu, config, length, 100 + i as u64).expect("build the model");
        // biases start at zero; nonzero ones check their mapping (revcomp's reversed order) too
        let biases: Vec<(String, Vec<usize>)> = model
            .parameters()
            .filter(|(n, _)| n.ends_with(".bias"))
            .map(|(n, p)| (n.to_string(), p.value.shape().to_vec()))
            .collect();
        for (n, shape) in biases {
            let values: Vec<f32> = (0..shape.iter().product())
                .map(|_| rng.random_range(-0.5..0.5))
                .collect();
            let value = cpu.upload(&values, &shape).expect("upload");
            model.set_parameter(&n, value).expect("set a bias");
        }
        let weights = dir.path(&format!("{name}.safetensors"));
        model.save(&cpu, &weights).expect("save the model");

        let seqs = random_sequences(&mut rng, SEQUENCES, length);
        let preds = predict(&model, &seqs);
        assert_eq!(preds.len(), SEQUENCES * model.tasks());
        let (seqs_path, preds_path) = (
            dir.path(&format!("{name}.txt")),
            dir.path(&format!("{name}.tsv")),
        );
        write_lines(&seqs_path, seqs);
        write_predictions(&preds_path, &preds, model.tasks());

        let out = run_script(
            name,
            &[
                OsStr::new("check"),
                weights.as_os_str(),
                seqs_path.as_os_str(),
                preds_path.as_os_str(),
            ],
        );
        eprintln!("{name}: {}", out.trim());
    }
}

#[test]
fn numpy_weights_load_in_sepfc_and_predict_the_same() {
    if !python_ready("numpy_weights_load_in_sepfc_and_predict_the_same") {
        return;
    }
    let cpu = Cpu;
    let dir = TempDir::new("write");
    let mut rng = StdRng::seed_from_u64(12);
    for (i, &(name, length, text)) in CONFIGS.iter().enumerate() {
        let config_path = dir.path(&format!("{name}.toml"));
        std::fs::write(&config_path, text).expect("write the config");
        let seqs = random_sequences(&mut rng, SEQUENCES, length);
        let seqs_path = dir.path(&format!("{name}.txt"));
        write_lines(&seqs_path, seqs.clone());
        let (weights, preds_path) = (
            dir.path(&format!("{name}.safetensors")),
            dir.path(&format!("{name}.tsv")),
        );
        let (length_arg, seed_arg) = (length.to_string(), (200 + i).to_string());
        let out = run_script(
            name,
            &[
                OsStr::new("write"),
                config_path.as_os_str(),
                OsStr::new(&length_arg),
                seqs_path.as_os_str(),
                weights.as_os_str(),
                preds_path.as_os_str(),
                OsStr::new(&seed_arg),
            ],
        );
        eprintln!("{name}: {}", out.trim());

        let model = Model::load(&cpu, &weights)
            .unwrap_or_else(|e| panic!("{name}: sepfc cannot load NumPy's weights file: {e}"));
        assert_eq!(model.input_length(), length, "{name}: input length");
        assert_eq!(
            model.config(),
            &Config::from_toml_str(text).expect("a valid config"),
            "{name}: config"
        );
        let ours = predict(&model, &seqs);
        let theirs = read_predictions(&preds_path);
        assert_eq!(
            theirs.len(),
            SEQUENCES,
            "{name}: rows of NumPy's predictions"
        );
        let tasks = model.tasks();
        for (n, row) in theirs.iter().enumerate() {
            assert_eq!(row.len(), tasks, "{name}: sequence {n}: tasks");
            for (t, &y) in row.iter().enumerate() {
                let x = ours[n * tasks + t];
                assert!(
                    close(x, y),
                    "{name}: sequence {n} task {t}: sepfc {x}, NumPy {y} (|diff| {})",
                    (x - y).abs()
                );
            }
        }
    }
}

fn deeplift_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/reference_deeplift.py")
}

/// `reference_deeplift.py`'s rows: `4 L` hypothetical contributions, then the logit minus the
/// mean reference logit.
fn numpy_deeplift(
    weights: &Path,
    seqs: &Path,
    refs: &OsStr,
    task: usize,
    out: &Path,
) -> Vec<Vec<f64>> {
    let task = task.to_string();
    let args = [
        weights.as_os_str(),
        seqs.as_os_str(),
        refs,
        OsStr::new(&task),
        out.as_os_str(),
    ];
    run_python(&deeplift_script(), "DeepLIFT", &args);
    std::fs::read_to_string(out)
        .expect("its output")
        .lines()
        .map(|l| {
            l.split('\t')
                .map(|v| v.parse().expect("a number"))
                .collect()
        })
        .collect()
}

#[test]
fn deeplift_and_deepshap_agree_with_an_independent_numpy_deeplift() {
    use sepfc::explain::deeplift::{against_references, deeplift};
    use sepfc::explain::shuffle::dinucleotide_shuffles;
    if !python_ready("deeplift_and_deepshap_agree_with_an_independent_numpy_deeplift") {
        return;
    }
    let cpu = Cpu;
    let dir = TempDir::new("deeplift");
    let mut rng = StdRng::seed_from_u64(31);
    // float32 against float64: DeepLIFT's ratios of differences lose more than a forward pass
    let (rtol, atol) = (1e-3, 1e-4);
    let mut worst = 0.0f64;
    for (i, &(name, length, text)) in CONFIGS.iter().enumerate() {
        let config_path = dir.path(&format!("{name}.toml"));
        std::fs::write(&config_path, text).expect("write the config");
        let seqs = random_sequences(&mut rng, 4, length);
        let seqs_path = dir.path(&format!("{name}.txt"));
        write_lines(&seqs_path, seqs.clone());
        let weights = dir.path(&format!("{name}.safetensors"));
        let (length_arg, seed_arg) = (length.to_string(), (300 + i).to_string());
        run_script(
            name,
            &[
                OsStr::new("write"),
                config_path.as_os_str(),
                OsStr::new(&length_arg),
                seqs_path.as_os_str(),
                weights.as_os_str(),
                dir.path(&format!("{name}.tsv")).as_os_str(),
                OsStr::new(&seed_arg),
            ],
        );
        let model = Model::load(&cpu, &weights).expect("NumPy's weights load");
        let x = one_hot(&seqs, length);
        let task = model.tasks() - 1;
        // three dinucleotide shuffles of each sequence as references
        let refs: Vec<String> = seqs
            .iter()
            .enumerate()
            .flat_map(|(k, s)| {
                dinucleotide_shuffles(s.to_ascii_uppercase().as_bytes(), 3, k as u64)
                    .into_iter()
                    .map(|r| String::from_utf8(r).expect("ASCII"))
            })
            .collect();
        let refs_path = dir.path(&format!("{name}.refs.txt"));
        write_lines(&refs_path, refs.clone());
        let out = dir.path(&format!("{name}.deeplift.tsv"));
        for (method, ours, theirs) in [
            (
                "deeplift",
                deeplift(&model, &cpu, &x, task).expect("sepfc's DeepLIFT"),
                numpy_deeplift(&weights, &seqs_path, OsStr::new("zeros"), task, &out),
            ),
            (
                "deepshap",
                against_references(&model, &cpu, &x, &one_hot(&refs, length), 3, task)
                    .expect("sepfc's DeepLIFT against shuffles"),
                numpy_deeplift(&weights, &seqs_path, refs_path.as_os_str(), task, &out),
            ),
        ] {
            assert_eq!(theirs.len(), seqs.len());
            for (s, row) in theirs.iter().enumerate() {
                assert_eq!(row.len(), 4 * length + 1, "{name} {method}");
                for (j, &expected) in row[..4 * length].iter().enumerate() {
                    let got = f64::from(ours.hypothetical[s * 4 * length + j]);
                    let excess =
                        (got - expected).abs() - (rtol * got.abs().max(expected.abs())).max(atol);
                    assert!(
                        excess <= 0.0,
                        "{name} {method}: sequence {s}, value {j}: sepfc {got}, NumPy {expected}"
                    );
                    worst = worst.max((got - expected).abs());
                }
                let delta = f64::from(ours.logits[s] - ours.reference_logits[s]);
                assert!(
                    (delta - row[4 * length]).abs() <= 1e-4 * delta.abs().max(1.0),
                    "{name} {method}: logit differences"
                );
            }
        }
    }
    eprintln!("DeepLIFT and DeepSHAP against NumPy: largest difference {worst:.3e}");
}
