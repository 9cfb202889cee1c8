//! What a steady-state training step sends to the GPU: one submit, no new buffer, and nothing
//! read back; the loss comes back once an epoch, 4 bytes. Counted with `Gpu::commands` by an
//! observer of the `Trainer`, on the small benchmark model. (A binary of its own, so no other
//! test's commands enter the counts.)

mod common;

use common::gpu;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sepfc::backend::CommandCounts;
use sepfc::backend::gpu::Gpu;
use sepfc::bench::BenchModel;
use sepfc::data::Dataset;
use sepfc::model::Model;
use sepfc::training::{Control, EpochEvent, Observer, StepEvent, Trainer};

/// Each step's counts (from the step before it), with its epoch and step number.
#[derive(Default)]
struct Counter {
    last: Option<CommandCounts>,
    steps: Vec<(usize, usize, CommandCounts)>,
}

impl Observer<Gpu> for Counter {
    fn step(&mut self, event: &StepEvent<'_, Gpu>) -> sepfc::Result<Control> {
        let now = event.backend.commands();
        if let Some(last) = self.last {
            self.steps.push((event.epoch, event.step, now.since(last)));
        }
        self.last = Some(now);
        Ok(Control::Continue)
    }

    fn epoch_ended(&mut self, _event: &EpochEvent<'_, Gpu>) -> sepfc::Result<Control> {
        Ok(Control::Continue)
    }
}

/// `n` random sequences of `length` with random 0/1 labels for `tasks` tasks.
fn random_data(n: usize, length: usize, tasks: usize) -> Dataset {
    let mut rng = StdRng::seed_from_u64(3);
    let sequences = (0..n)
        .map(|_| {
            (0..length)
                .map(|_| b"ACGT"[rng.random_range(0..4)])
                .collect()
        })
        .collect();
    let targets = (0..n * tasks)
        .map(|_| f32::from(u8::from(rng.random_bool(0.5))))
        .collect();
    let ids = (0..n).map(|i| format!("s{i}")).collect();
    let names = (0..tasks).map(|t| format!("task{t}")).collect();
    Dataset::new(ids, sequences, names, targets).unwrap()
}

#[test]
fn a_steady_state_step_submits_once_allocates_nothing_and_reads_nothing_back() {
    let Some(g) = gpu() else { return };
    let kind = BenchModel::Small;
    let (length, tasks) = (kind.input_length(), kind.tasks());
    let mut model = Model::new(g, kind.config().unwrap(), length, 1).unwrap();
    let train = random_data(64, length, tasks);
    let mut counter = Counter::default();
    Trainer::new()
        .batch_size(16)
        .epochs(5)
        .shuffle(false)
        .fit(g, &mut model, &train, None, &mut [&mut counter])
        .unwrap();
    // the pool warms over the first epochs: the steps' buffers in epoch 1, the loss's readback
    // buffer and the best weights' copies at the first epoch ends (counted in the next epoch's
    // first step; measured: 4 + 2 + 1 buffers, none from epoch 4 on), so epochs 4 and 5 are
    // the steady state
    let steady: Vec<_> = counter
        .steps
        .iter()
        .filter(|(epoch, ..)| *epoch >= 4)
        .collect();
    assert_eq!(steady.len(), 8, "4 steps in each of epochs 4 and 5");
    for &&(epoch, step, c) in &steady {
        let at = format!("epoch {epoch} step {step}: {c:?}");
        assert!(c.dispatches > 0, "{at}");
        assert_eq!(
            c.buffers_created, 0,
            "a steady-state step created buffers: {at}"
        );
        if step == 1 {
            // the previous epoch's loss came back (4 bytes) in a submit of its own, and the
            // best weights were copied
            assert_eq!(c.bytes_read, 4, "{at}");
            assert_eq!(c.submits, 2, "{at}");
        } else {
            assert_eq!(c.bytes_read, 0, "a step read something back: {at}");
            assert_eq!(c.submits, 1, "{at}");
        }
    }
}
