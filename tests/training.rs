//! The library's training API: the `Trainer` builder, batch sources a caller implements, and
//! the observers' events, checked against the report the trainer returns and against each
//! other (a source of the same examples gives the same weights; per-step losses add up to the
//! epoch's).

mod common;

use sepfc::backend::{Backend, cpu::Cpu};
use sepfc::config::{Config, OptimizerKind, TrainConfig};
use sepfc::data::{Batch, Dataset};
use sepfc::model::Model;
use sepfc::training::{
    BatchSource, Control, EpochEvent, Observer, StartEvent, StepEvent, TrainReport, Trainer,
};

/// The input length the tests' model reads (common::cli::MODEL: 12 convolved positions, 3
/// pooled).
const LENGTH: usize = 20;

/// `n` random sequences with two tasks: "has GATA" and "has CACGTG" (some labels missing).
fn data(n: usize, seed: u64) -> Dataset {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sequences = Vec::new();
    let mut targets = Vec::new();
    for i in 0..n {
        let mut s: Vec<u8> = (0..LENGTH)
            .map(|_| b"ACGT"[rng.random_range(0..4)])
            .collect();
        if i % 2 == 0 {
            s[8..12].copy_from_slice(b"GATA");
        }
        if i % 3 == 0 {
            s[2..8].copy_from_slice(b"CACGTG");
        }
        let has = |m: &[u8]| s.windows(m.len()).any(|w| w == m);
        targets.push(if has(b"GATA") { 1.0 } else { 0.0 });
        targets.push(if i % 7 == 3 {
            f32::NAN
        } else if has(b"CACGTG") {
            1.0
        } else {
            0.0
        });
        sequences.push(s);
    }
    let ids = (0..n).map(|i| format!("s{i}")).collect();
    Dataset::new(ids, sequences, vec!["gata".into(), "ebox".into()], targets).unwrap()
}

fn model(seed: u64) -> Model<Cpu> {
    Model::new(
        &Cpu,
        Config::from_toml_str(common::cli::MODEL).unwrap(),
        LENGTH,
        seed,
    )
    .unwrap()
}

fn weights(model: &Model<Cpu>) -> Vec<Vec<f32>> {
    model
        .parameters()
        .map(|(_, p)| Cpu.download(&p.value).unwrap())
        .collect()
}

/// Everything the observer was told, in order.
#[derive(Default)]
struct Recorder {
    started: Vec<(usize, usize, usize)>,
    steps: Vec<(usize, usize, usize, usize, f32)>,
    epochs: Vec<(usize, bool, usize, f64)>,
    finished: Vec<TrainReport>,
    stop_after_steps: Option<usize>,
}

impl<B: Backend> Observer<B> for Recorder {
    fn started(&mut self, e: &StartEvent<'_>) -> sepfc::Result<()> {
        self.started
            .push((e.resumed_after, e.steps_per_epoch, e.examples));
        Ok(())
    }

    fn step(&mut self, e: &StepEvent<'_, B>) -> sepfc::Result<Control> {
        let loss = e.backend.download(e.loss)?[0];
        self.steps.push((e.epoch, e.step, e.steps, e.samples, loss));
        Ok(match self.stop_after_steps {
            Some(n) if self.steps.len() >= n => Control::Stop,
            _ => Control::Continue,
        })
    }

    fn epoch_ended(&mut self, e: &EpochEvent<'_, B>) -> sepfc::Result<Control> {
        self.epochs.push((
            e.record.epoch,
            e.improved,
            e.history.best_epoch,
            e.record.train_loss,
        ));
        Ok(Control::Continue)
    }

    fn finished(&mut self, report: &TrainReport, _model: &Model<B>) -> sepfc::Result<()> {
        self.finished.push(report.clone());
        Ok(())
    }
}

fn trainer() -> Trainer {
    Trainer::new().lr(0.02).epochs(4).batch_size(16).seed(5)
}

#[test]
fn observers_see_every_step_and_epoch_of_the_report() {
    let (train, valid) = (data(70, 1), data(40, 2));
    let mut m = model(0);
    let mut recorder = Recorder::default();
    let report = trainer()
        .rc_augment(true)
        .fit(&Cpu, &mut m, &train, Some(&valid), &mut [&mut recorder])
        .unwrap();
    // 70 examples in batches of 16: 5 steps per epoch, the last of 6 (12 with complements)
    assert_eq!(recorder.started, vec![(0, 5, 70)]);
    assert_eq!(recorder.steps.len(), 4 * 5);
    for (i, &(epoch, step, steps, samples, loss)) in recorder.steps.iter().enumerate() {
        assert_eq!((epoch, step, steps), (i / 5 + 1, i % 5 + 1, 5));
        assert_eq!(samples, 2 * (16 * step).min(70));
        assert!(loss.is_finite() && loss > 0.0);
    }
    // each epoch's training loss is the mean of its steps' losses
    for (epoch, record) in report.epochs.iter().enumerate() {
        let mean: f64 = recorder.steps[epoch * 5..epoch * 5 + 5]
            .iter()
            .map(|s| f64::from(s.4))
            .sum::<f64>()
            / 5.0;
        assert!(
            (mean - record.train_loss).abs() <= 1e-6 * mean.abs(),
            "epoch {}: steps {mean}, record {}",
            record.epoch,
            record.train_loss
        );
        assert_eq!(record.valid.len(), 2);
    }
    // the epochs the observer saw are the report's, and the best epoch is the last improved
    let seen: Vec<(usize, f64)> = recorder.epochs.iter().map(|e| (e.0, e.3)).collect();
    let reported: Vec<(usize, f64)> = report
        .epochs
        .iter()
        .map(|e| (e.epoch, e.train_loss))
        .collect();
    assert_eq!(seen, reported);
    let last_improved = recorder.epochs.iter().rev().find(|e| e.1).unwrap().0;
    assert_eq!(report.best_epoch, last_improved);
    assert_eq!(recorder.epochs.last().unwrap().2, report.best_epoch);
    assert_eq!(recorder.finished, vec![report]);
}

#[test]
fn the_model_ends_with_the_best_epochs_weights() {
    let (train, valid) = (data(60, 3), data(30, 4));
    // the best epoch's weights, as an observer copies them when the epoch improves
    struct KeepBest(Vec<Vec<f32>>);
    impl Observer<Cpu> for KeepBest {
        fn epoch_ended(&mut self, e: &EpochEvent<'_, Cpu>) -> sepfc::Result<Control> {
            if e.improved {
                self.0 = weights(e.model);
            }
            Ok(Control::Continue)
        }
    }
    let mut m = model(1);
    let mut best = KeepBest(Vec::new());
    let report = trainer()
        .epochs(6)
        .fit(&Cpu, &mut m, &train, Some(&valid), &mut [&mut best])
        .unwrap();
    assert!(report.best_epoch >= 1);
    assert_eq!(weights(&m), best.0);
}

#[test]
fn a_step_observer_that_stops_drops_the_unfinished_epoch() {
    let train = data(64, 5);
    let mut m = model(2);
    let mut recorder = Recorder {
        stop_after_steps: Some(10), // 4 steps an epoch: epochs 1 and 2, then 2 steps of 3
        ..Recorder::default()
    };
    let report = trainer()
        .fit(&Cpu, &mut m, &train, None, &mut [&mut recorder])
        .unwrap();
    assert_eq!(recorder.steps.len(), 10);
    assert_eq!(report.epochs.len(), 2);
    assert!(report.stopped_early);
    assert_eq!(report.best_epoch, 2);
}

#[test]
fn patience_stops_early_and_the_schedule_comes_from_the_builder() {
    let trainer = Trainer::new()
        .optimizer(OptimizerKind::Sgd)
        .lr(1e-9) // far too small to improve anything
        .epochs(8)
        .batch_size(10)
        .seed(3)
        .shuffle(false)
        .rc_augment(true)
        .early_stopping(Some(2));
    assert_eq!(
        trainer.schedule(),
        &TrainConfig {
            optimizer: OptimizerKind::Sgd,
            lr: 1e-9,
            epochs: 8,
            batch_size: 10,
            seed: 3,
            shuffle: false,
            rc_augment: true,
            patience: Some(2),
            loss: sepfc::backend::Loss::Bce,
        }
    );
    let (train, valid) = (data(30, 6), data(30, 7));
    let mut m = model(3);
    let report = trainer
        .fit(&Cpu, &mut m, &train, Some(&valid), &mut [])
        .unwrap();
    assert!(report.stopped_early);
    assert_eq!(report.epochs.len(), report.best_epoch + 2);
    assert!(report.epochs.len() < 8);
}

/// The examples of a dataset, one-hot encoded up front and handed out by index.
struct Encoded {
    x: Vec<f32>,
    targets: Vec<f32>,
    tasks: Vec<String>,
}

impl BatchSource for Encoded {
    fn len(&self) -> usize {
        self.targets.len() / self.tasks.len()
    }
    fn length(&self) -> usize {
        LENGTH
    }
    fn tasks(&self) -> &[String] {
        &self.tasks
    }
    fn batch(&self, indices: &[usize]) -> sepfc::Result<Batch> {
        let (per, t) = (4 * LENGTH, self.tasks.len());
        let mut batch = Batch {
            x: Vec::new(),
            targets: Vec::new(),
            mask: Vec::new(),
            n: indices.len(),
        };
        for &i in indices {
            batch.x.extend_from_slice(&self.x[i * per..(i + 1) * per]);
            for &y in &self.targets[i * t..(i + 1) * t] {
                batch.targets.push(if y.is_nan() { 0.0 } else { y });
                batch.mask.push(if y.is_nan() { 0.0 } else { 1.0 });
            }
        }
        Ok(batch)
    }
}

#[test]
fn a_source_of_the_caller_trains_as_the_same_examples_in_a_dataset() {
    let (train, valid) = (data(50, 8), data(20, 9));
    let encode = |d: &Dataset| {
        let mut x = Vec::new();
        for s in &d.sequences {
            sepfc::dna::one_hot_into(s, &mut x);
        }
        Encoded {
            x,
            targets: d.targets.clone(),
            tasks: d.tasks.clone(),
        }
    };
    let (mut a, mut b) = (model(4), model(4));
    let from_dataset = trainer()
        .rc_augment(true)
        .fit(&Cpu, &mut a, &train, Some(&valid), &mut [])
        .unwrap();
    let from_source = trainer()
        .rc_augment(true)
        .fit(
            &Cpu,
            &mut b,
            &encode(&train),
            Some(&encode(&valid)),
            &mut [],
        )
        .unwrap();
    assert_eq!(weights(&a), weights(&b));
    let strip = |r: &TrainReport| -> Vec<(f64, Vec<sepfc::training::TaskScores>)> {
        r.epochs
            .iter()
            .map(|e| (e.train_loss, e.valid.clone()))
            .collect()
    };
    assert_eq!(strip(&from_dataset), strip(&from_source));
}

#[test]
fn a_source_whose_batches_break_their_promise_is_an_error_naming_the_sizes() {
    struct Short;
    impl BatchSource for Short {
        fn len(&self) -> usize {
            8
        }
        fn length(&self) -> usize {
            LENGTH
        }
        fn tasks(&self) -> &[String] {
            static TASKS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
            TASKS.get_or_init(|| vec!["a".into(), "b".into()])
        }
        fn batch(&self, indices: &[usize]) -> sepfc::Result<Batch> {
            let n = indices.len();
            Ok(Batch {
                x: vec![0.0; n * 4 * (LENGTH - 1)], // one position short
                targets: vec![0.0; n * 2],
                mask: vec![1.0; n * 2],
                n,
            })
        }
    }
    let mut m = model(5);
    let error = trainer()
        .fit(&Cpu, &mut m, &Short, None, &mut [])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("8 examples of 20 bp") && error.contains(&(8 * 4 * 19).to_string()),
        "{error}"
    );
}

#[test]
fn data_that_does_not_fit_the_model_is_refused_before_training() {
    let mut m = model(6);
    let one_task = Dataset::new(
        vec!["a".into()],
        vec![vec![b'A'; LENGTH]],
        vec!["t".into()],
        vec![1.0],
    )
    .unwrap();
    let error = trainer()
        .fit(&Cpu, &mut m, &one_task, None, &mut [])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("1 tasks") && error.contains("2 units"),
        "{error}"
    );
    let shorter = Dataset::new(
        vec!["a".into()],
        vec![vec![b'A'; LENGTH - 2]],
        vec!["x".into(), "y".into()],
        vec![1.0, 0.0],
    )
    .unwrap();
    let error = trainer()
        .fit(&Cpu, &mut m, &data(10, 1), Some(&shorter), &mut [])
        .unwrap_err()
        .to_string();
    assert!(error.contains("validation sequences are 18 bp"), "{error}");
}

#[test]
fn tasks_are_matched_by_name_not_only_by_count() {
    let (train, valid) = (data(30, 10), data(20, 11));
    // the same two tasks in the other order
    let swap = |d: &Dataset| {
        let targets = d.targets.chunks(2).flat_map(|t| [t[1], t[0]]).collect();
        Dataset::new(
            d.ids.clone(),
            d.sequences.clone(),
            vec!["ebox".into(), "gata".into()],
            targets,
        )
        .unwrap()
    };
    let mut m = model(7);
    let error = trainer()
        .fit(&Cpu, &mut m, &train, Some(&swap(&valid)), &mut [])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("validation tasks (ebox, gata)") && error.contains("(gata, ebox)"),
        "{error}"
    );
    // a model that names its tasks trains and is scored only on data in its order
    m.set_task_names(vec!["gata".into(), "ebox".into()])
        .unwrap();
    let error = trainer()
        .fit(&Cpu, &mut m, &swap(&train), None, &mut [])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("training data's tasks (ebox, gata)"),
        "{error}"
    );
    let error = sepfc::inference::evaluate(&Cpu, &m, &swap(&valid), 8)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("evaluated data's tasks (ebox, gata)"),
        "{error}"
    );
    // in its own order it trains, and the swapped data, put back in order by name, scores the same
    trainer()
        .epochs(1)
        .fit(&Cpu, &mut m, &train, None, &mut [])
        .unwrap();
    let back = swap(&valid)
        .with_tasks(m.task_names(), "the swapped labels")
        .unwrap();
    assert_eq!(
        sepfc::inference::evaluate(&Cpu, &m, &back, 8).unwrap(),
        sepfc::inference::evaluate(&Cpu, &m, &valid, 8).unwrap()
    );
}
