//! The buffer pool reuses allocations across training steps: after the first steps, repeating
//! the same step allocates nothing new. (A binary of its own, so no other test's tensors
//! change the pool's counts.)

mod common;

use common::{gpu, rng, uniform};
use sepfc::autodiff::Tape;
use sepfc::backend::gpu::Gpu;
use sepfc::backend::{Backend, Conv1dSpec, PoolSpec};
use sepfc::optim::{Adam, Optimizer, Parameter};

/// One forward, backward and Adam step of a small conv -> pool -> separable -> dense model.
fn step(g: &Gpu, params: &mut [Parameter<Gpu>], adam: &mut Adam<Gpu>, x: &[f32], y: &[f32]) {
    let mut tape = Tape::new(g);
    let vars: Vec<_> = params.iter().map(|p| tape.param(p.value.clone())).collect();
    let x = tape.input(g.upload(x, &[4, 4, 24]).unwrap());
    let h = tape
        .conv1d(x, vars[0], vars[1], Conv1dSpec::valid(1))
        .unwrap();
    let h = tape.relu(h).unwrap();
    let h = tape.maxpool1d(h, PoolSpec { size: 2, stride: 2 }).unwrap();
    let h = tape.separable(h, vars[2], vars[3]).unwrap();
    let logits = tape.dense(h, vars[4], vars[5]).unwrap();
    let targets = g.upload(y, &[4, 1]).unwrap();
    let mask = g.full(&[4, 1], 1.0).unwrap();
    let loss = tape.bce_with_logits(logits, &targets, &mask).unwrap();
    let grads = tape.backward(loss).unwrap();
    let grads: Vec<_> = vars.iter().map(|v| grads.get(*v)).collect();
    adam.step(g, params, &grads).unwrap();
}

#[test]
fn repeated_training_steps_allocate_nothing_new() {
    let Some(g) = gpu() else { return };
    let mut r = rng(7);
    let shapes: [&[usize]; 6] = [&[3, 4, 5], &[3], &[2, 10], &[2, 3], &[1, 2], &[1]];
    let mut params: Vec<Parameter<Gpu>> = shapes
        .iter()
        .map(|s| Parameter::new(g.upload(&uniform(&mut r, s.iter().product()), s).unwrap()))
        .collect();
    let x = uniform(&mut r, 4 * 4 * 24);
    let y = [1.0, 0.0, 1.0, 0.0];
    let mut adam = Adam::new(0.01);
    for _ in 0..3 {
        step(g, &mut params, &mut adam, &x, &y);
        g.synchronize().unwrap();
    }
    let warm = g.memory();
    for _ in 0..5 {
        step(g, &mut params, &mut adam, &x, &y);
        g.synchronize().unwrap();
    }
    let later = g.memory();
    assert!(warm.held_bytes > 0, "the pool holds nothing: {warm:?}");
    assert_eq!(
        later.held_bytes, warm.held_bytes,
        "steady-state steps allocated new buffers: {warm:?} -> {later:?}"
    );
}
