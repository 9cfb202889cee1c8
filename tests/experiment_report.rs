//! `sepfc experiment` end to end on a small simulation: the report's importance section scores
//! every run against the PWM matches of the planted motif, and the four figures are real PNGs
//! with something drawn on them. The same experiment planned (`--plan`) and run by Snakemake
//! reports exactly what the local run does.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use sepfc::commands::device::Device;
use sepfc::commands::experiment;
use sepfc::config::Config;
use sepfc::data::spec::HeldOut;
use sepfc::experiment::{ModelKind, RunResult, run_name};
use sepfc::simulate::{SimulationConfig, default_motifs, simulate, write_simulation};

/// The motifs as a JASPAR file of counts (100 per column).
fn write_jaspar(path: &Path) {
    let mut text = String::new();
    for m in default_motifs() {
        text += &format!(">{}\t{}\n", m.id, m.name);
        for (b, base) in ["A", "C", "G", "T"].iter().enumerate() {
            let counts: Vec<String> = m
                .pwm
                .iter()
                .map(|p| format!("{:.0}", p[b] * 100.0))
                .collect();
            text += &format!("{base} [ {} ]\n", counts.join(" "));
        }
    }
    std::fs::write(path, text).unwrap();
}

/// The figures of every report with importance, as `figures/<name>.png`.
const FIGURES: [&str; 4] = [
    "performance",
    "training_curves",
    "positional_weights",
    "importance",
];

/// Width, height and the share of pixels that are not white, of a PNG file.
fn png_ink(path: &Path) -> (u32, u32, f64) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let inked = pixels
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|&v| v < 250))
        .count();
    (
        info.width,
        info.height,
        inked as f64 / (pixels.len() / channels) as f64,
    )
}

#[test]
fn an_experiment_reports_importance_on_known_sites_and_draws_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimulationConfig {
        n: 240,
        length: 60,
        seed: 3,
        ..Default::default()
    };
    write_simulation(&simulate(&sim).unwrap(), &sim.motifs, dir.path()).unwrap();
    write_jaspar(&dir.path().join("motifs.jaspar"));
    std::fs::write(
        dir.path().join("base.toml"),
        r#"
[data]
fasta = "sequences.fa"
labels = "labels.tsv"
valid_fraction = 0.25

[train]
lr = 0.01
epochs = 3
batch_size = 32

[[layers]]
type = "revcomp_conv1d"
filters = 6
kernel_size = 7
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 3

[[layers]]
type = "separable_fc"
units = 4
symmetric = true
activation = "relu"

[[layers]]
type = "dense"
units = 2
"#,
    )
    .unwrap();
    let exp = dir.path().join("exp.toml");
    std::fs::write(
        &exp,
        r#"
base = "base.toml"
seeds = [0, 1]
draws = 1
[ranges]
units = [3, 5]
[importance]
jaspar = "motifs.jaspar"
motifs = { GATA = "GATA" }
threshold = 0.9
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let results = experiment::run(&exp, &out, Device::Cpu).unwrap();
    assert_eq!(results.len(), 2 * 3);
    assert!(results.iter().any(|r| r.kind == ModelKind::DenseSameUnits));

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("## Importance scores against known sites"),
        "{md}"
    );
    // the GATA task, its truth named after the JASPAR matrix, and both measures
    assert!(
        md.contains("| GATA | GATA (builtin.1) matches >= 0.9 |"),
        "{md}"
    );
    assert!(md.contains("| site auROC |"), "{md}");
    assert!(md.contains("| mass on sites (chance "), "{md}");
    assert!(
        md.contains("| 0 | base | base | base |"),
        "the draws table: {md}"
    );
    for figure in FIGURES {
        let file = format!("figures/{figure}.png");
        assert!(
            md.contains(&format!("]({file})")),
            "{figure} not linked: {md}"
        );
        let (width, height, ink) = png_ink(&out.join(&file));
        assert!(width >= 400 && height >= 300, "{file}: {width}x{height}");
        assert!(ink > 0.01, "{file} is blank: {ink:.4} of its pixels drawn");
    }
    // no temporary file is left behind
    let leftovers: Vec<_> = std::fs::read_dir(out.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn importance_naming_an_unknown_task_or_motif_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimulationConfig {
        n: 40,
        length: 30,
        seed: 1,
        ..Default::default()
    };
    write_simulation(&simulate(&sim).unwrap(), &sim.motifs, dir.path()).unwrap();
    write_jaspar(&dir.path().join("motifs.jaspar"));
    std::fs::write(
        dir.path().join("base.toml"),
        "[data]\nfasta = \"sequences.fa\"\nlabels = \"labels.tsv\"\nvalid_fraction = 0.25\n\
         [[layers]]\ntype = \"conv1d\"\nfilters = 2\nkernel_size = 5\nactivation = \"relu\"\n\
         [[layers]]\ntype = \"separable_fc\"\nunits = 2\n",
    )
    .unwrap();
    for (importance, expected) in [
        (
            "motifs = { NOPE = \"GATA\" }",
            "task `NOPE` is not one of the data's tasks",
        ),
        ("motifs = { GATA = \"CTCF\" }", "no motif `CTCF`"),
        (
            "motifs = { GATA = \"GATA\" }\nthreshold = 1.5",
            "threshold 1.5 must be in (0, 1]",
        ),
        (
            "planted = { GATA = [\"GATA\"] }",
            "`planted` needs a base config whose [data] reads a simdata file",
        ),
    ] {
        let exp = dir.path().join("exp.toml");
        std::fs::write(
            &exp,
            format!(
                "base = \"base.toml\"\nseeds = [0]\ndraws = 1\n[importance]\njaspar = \"motifs.jaspar\"\n{importance}\n"
            ),
        )
        .unwrap();
        let message = experiment::run(&exp, &dir.path().join("out"), Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(message.contains(expected), "{importance}: {message}");
        assert!(message.contains("exp.toml"), "names the file: {message}");
    }
}

/// Runs the binary in `dir`, asserting that it succeeds.
fn sepfc_in(dir: &Path, args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_sepfc"))
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "sepfc {args:?} failed");
}

/// A report without its timing row, which no two runs share.
fn untimed_report(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("seconds to train and test"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `results.json` without the runs' wall times.
fn untimed_results(path: &Path) -> serde_json::Value {
    let mut results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for run in results.as_array_mut().unwrap() {
        assert!(run.as_object_mut().unwrap().remove("seconds").is_some());
    }
    results
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn a_planned_experiment_run_by_snakemake_reports_what_the_local_run_does_and_reruns_only_a_deleted_job()
 {
    let Some(snakemake) = common::snakemake() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sim = SimulationConfig {
        n: 160,
        length: 50,
        seed: 5,
        ..Default::default()
    };
    write_simulation(&simulate(&sim).unwrap(), &sim.motifs, &d.join("data")).unwrap();
    write_jaspar(&d.join("motifs.jaspar"));
    // relative paths throughout, and no test set: the validation fraction scores the runs
    std::fs::write(
        d.join("base.toml"),
        "[data]\nfasta = \"data/sequences.fa\"\nlabels = \"data/labels.tsv\"\nvalid_fraction = 0.25\n\
         [train]\nlr = 0.01\nepochs = 2\nbatch_size = 32\nseed = 9\n\
         [[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 4\nkernel_size = 7\nactivation = \"relu\"\n\
         [[layers]]\ntype = \"maxpool1d\"\npool_size = 3\n\
         [[layers]]\ntype = \"separable_fc\"\nunits = 3\nsymmetric = true\nactivation = \"relu\"\n\
         [[layers]]\ntype = \"dense\"\nunits = 2\n",
    )
    .unwrap();
    std::fs::write(
        d.join("exp.toml"),
        "base = \"base.toml\"\nseeds = [0, 1]\ndraws = 2\ndraw_seed = 4\n\
         [ranges]\nunits = [2, 5]\nlr = [0.003, 0.03]\n\
         [importance]\njaspar = \"motifs.jaspar\"\nmotifs = { GATA = \"GATA\" }\nthreshold = 0.9\n",
    )
    .unwrap();
    // the local run and the plan, both as a user types them in the experiment's folder
    sepfc_in(
        d,
        &[
            "experiment",
            "--config",
            "exp.toml",
            "--out",
            "local",
            "--device",
            "cpu",
        ],
    );
    let plan_args = [
        "experiment",
        "--config",
        "exp.toml",
        "--out",
        "planned",
        "--plan",
        "plan",
        "--device",
        "cpu",
    ];
    sepfc_in(d, &plan_args);
    let (local, planned, plan) = (d.join("local"), d.join("planned"), d.join("plan"));
    let names: Vec<String> = serde_json::from_str::<Vec<RunResult>>(
        &std::fs::read_to_string(local.join("results.json")).unwrap(),
    )
    .unwrap()
    .iter()
    .map(|r| run_name(r.draw, r.seed, r.kind))
    .collect();
    assert_eq!(names.len(), 2 * 2 * 3);
    for name in &names {
        let job = Config::from_toml_str(
            &std::fs::read_to_string(plan.join("jobs").join(format!("{name}.toml"))).unwrap(),
        )
        .unwrap();
        let data = job.data.unwrap();
        assert!(
            data.files().iter().all(|p| p.is_absolute()),
            "{name}: the job's data paths are relative"
        );
        assert_eq!(
            (data.valid, data.test, data.split_seed),
            (None, Some(HeldOut::Fraction(0.25)), Some(9)),
            "{name}: the validation set must be held out as the test set, split as the base's"
        );
    }
    let workflow = |expect_success: bool| {
        assert_eq!(
            common::run_workflow(&snakemake, &plan.join("Snakefile"), d),
            expect_success,
            "snakemake's exit status"
        );
    };
    let same_as_local = || {
        assert_eq!(
            untimed_report(&planned.join("report.md")),
            untimed_report(&local.join("report.md")),
            "the gathered report differs from the local run's"
        );
        assert_eq!(
            untimed_results(&planned.join("results.json")),
            untimed_results(&local.join("results.json"))
        );
        for figure in FIGURES {
            let file = format!("figures/{figure}.png");
            assert!(
                std::fs::read(planned.join(&file)).unwrap()
                    == std::fs::read(local.join(&file)).unwrap(),
                "{file} differs from the local run's"
            );
        }
    };
    workflow(true);
    same_as_local();

    // planning again changes no file, so nothing is redone
    let snakefile_time = modified(&plan.join("Snakefile"));
    let job_time = modified(&plan.join("jobs").join(format!("{}.toml", names[0])));
    sepfc_in(d, &plan_args);
    assert_eq!(modified(&plan.join("Snakefile")), snakefile_time);
    assert_eq!(
        modified(&plan.join("jobs").join(format!("{}.toml", names[0]))),
        job_time
    );

    // delete one job's outputs and the report (Snakemake leaves a finished result alone when
    // only an intermediate is gone); with the labels gone that job fails, and nothing else ran
    let outputs = |name: &str| -> [PathBuf; 2] {
        [
            planned.join("runs").join(name).join("model.safetensors"),
            planned.join("scores").join(format!("{name}.json")),
        ]
    };
    let victim = &names[4];
    let times = |names: &[String]| -> Vec<SystemTime> {
        names
            .iter()
            .filter(|n| *n != victim)
            .flat_map(|n| outputs(n).map(|p| modified(&p)))
            .collect()
    };
    let before = times(&names);
    std::fs::remove_dir_all(planned.join("runs").join(victim)).unwrap();
    std::fs::remove_file(&outputs(victim)[1]).unwrap();
    std::fs::remove_file(planned.join("report.md")).unwrap();
    let labels = d.join("data").join("labels.tsv");
    std::fs::rename(&labels, d.join("labels.away")).unwrap();
    workflow(false);
    assert!(
        !planned.join("runs").join(victim).exists(),
        "the failed job left its folder behind"
    );
    // the failed job reruns cleanly once its input is back, and only it
    std::fs::rename(d.join("labels.away"), &labels).unwrap();
    workflow(true);
    assert!(outputs(victim).iter().all(|p| p.exists()));
    assert_eq!(times(&names), before, "a finished job ran again");
    same_as_local();
}
