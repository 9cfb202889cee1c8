//! A whole model on the tape (revcomp conv -> conv -> maxpool -> separable contraction with
//! symmetric positional weights -> sigmoid -> dense, plus a smoothness penalty) gives the same
//! parameter gradients on the GPU as on the CPU, and SGD and Adam keep both in step for 10
//! steps.

mod common;

use common::{assert_close, gpu, rng, uniform};
use rand::Rng;
use sepfc::Result;
use sepfc::autodiff::Tape;
use sepfc::backend::cpu::Cpu;
use sepfc::backend::{Backend, Conv1dSpec, PoolSpec, Reduction};
use sepfc::optim::{Adam, Constraint, Optimizer, Parameter, Sgd};

const BATCH: usize = 3;
const LENGTH: usize = 31;
const TASKS: usize = 2;

/// Parameter shapes, in order: rc conv weight and bias, conv weight and bias, stored
/// positional weights, channel weights, dense weight and bias.
fn param_shapes() -> Vec<Vec<usize>> {
    // rc conv: 4 -> 2*3 channels, k 5: L 31 -> 27; conv: 6 -> 5, k 4, dilation 2: 27 -> 21;
    // pool 4 stride 3: 21 -> 6; separable: 2 units over (5, 6); dense 2 -> 2 tasks
    vec![
        vec![3, 4, 5],
        vec![3],
        vec![5, 6, 4],
        vec![5],
        vec![2, 3],
        vec![2, 5],
        vec![TASKS, 2],
        vec![TASKS],
    ]
}

/// One-hot sequences, labels with one missing entry, and random parameters.
struct Problem {
    x: Vec<f32>,
    targets: Vec<f32>,
    mask: Vec<f32>,
    params: Vec<Vec<f32>>,
}

fn problem(seed: u64) -> Problem {
    let mut r = rng(seed);
    let mut x = vec![0.0; BATCH * 4 * LENGTH];
    for n in 0..BATCH {
        for l in 0..LENGTH {
            let base = r.random_range(0..4usize);
            x[(n * 4 + base) * LENGTH + l] = 1.0;
        }
    }
    let targets = (0..BATCH * TASKS)
        .map(|_| r.random_range(0..2u8) as f32)
        .collect();
    let mut mask = vec![1.0; BATCH * TASKS];
    mask[1] = 0.0;
    let params = param_shapes()
        .iter()
        .map(|s| {
            let values = uniform(&mut r, s.iter().product());
            values.iter().map(|v| v * 0.5).collect()
        })
        .collect();
    Problem {
        x,
        targets,
        mask,
        params,
    }
}

/// The model's loss and the gradient of every parameter.
fn loss_and_grads<B: Backend>(
    be: &B,
    p: &Problem,
    params: &[Parameter<B>],
) -> Result<(f32, Vec<B::Tensor>)> {
    let mut tape = Tape::new(be);
    let x = tape.input(be.upload(&p.x, &[BATCH, 4, LENGTH])?);
    let vars: Vec<_> = params.iter().map(|q| tape.param(q.value.clone())).collect();
    let (w1, b1) = (tape.rc_expand(vars[0])?, tape.rc_expand(vars[1])?);
    let h = tape.conv1d(x, w1, b1, Conv1dSpec::valid(1))?;
    let h = tape.relu(h)?;
    let h = tape.conv1d(h, vars[2], vars[3], Conv1dSpec::valid(2))?;
    let h = tape.relu(h)?;
    let h = tape.maxpool1d(h, PoolSpec { size: 4, stride: 3 })?;
    let pos = tape.mirror_expand(vars[4], 6)?;
    let h = tape.separable(h, pos, vars[5])?;
    let h = tape.sigmoid(h)?;
    let logits = tape.dense(h, vars[6], vars[7])?;
    let targets = be.upload(&p.targets, &[BATCH, TASKS])?;
    let mask = be.upload(&p.mask, &[BATCH, TASKS])?;
    let bce = tape.bce_with_logits(logits, &targets, &mask)?;
    // the smoothness regularizer of docs/layer.md on the stored positional weights
    let d2 = tape.diff(vars[4], 2)?;
    let smooth = tape.mean(d2, Reduction::Square)?;
    let smooth = tape.scale(smooth, 0.1)?;
    let loss = tape.add(bce, smooth)?;
    let value = be.download(tape.value(loss))?[0];
    let grads = tape.backward(loss)?;
    let grads = vars
        .iter()
        .map(|v| {
            grads
                .get(*v)
                .expect("every parameter gets a gradient")
                .clone()
        })
        .collect();
    Ok((value, grads))
}

fn parameters<B: Backend>(be: &B, p: &Problem) -> Vec<Parameter<B>> {
    param_shapes()
        .iter()
        .zip(&p.params)
        .enumerate()
        .map(|(i, (shape, values))| {
            let mut param = Parameter::new(be.upload(values, shape).unwrap());
            if i == 4 {
                param.constraint = Some(Constraint::Curvature { max: 0.2 });
            }
            param
        })
        .collect()
}

#[test]
fn model_parameter_gradients_match_cpu() {
    let Some(g) = gpu() else { return };
    for seed in [1, 2] {
        let p = problem(seed);
        let (loss_cpu, grads_cpu) = loss_and_grads(&Cpu, &p, &parameters(&Cpu, &p)).unwrap();
        let (loss_gpu, grads_gpu) = loss_and_grads(g, &p, &parameters(g, &p)).unwrap();
        assert_close("loss", &[loss_gpu], &[loss_cpu], 1e-5, 1e-6);
        for (i, (gg, gc)) in grads_gpu.iter().zip(&grads_cpu).enumerate() {
            let on_gpu = g.download(gg).unwrap();
            assert!(
                on_gpu.iter().any(|v| *v != 0.0),
                "parameter {i} got an all-zero gradient: the test would prove nothing"
            );
            assert_close(
                &format!("seed {seed} parameter {i} gradient"),
                &on_gpu,
                gc.data(),
                1e-4,
                1e-5,
            );
        }
    }
}

fn train<B: Backend>(be: &B, p: &Problem, opt: &mut dyn Optimizer<B>) -> Vec<Vec<f32>> {
    let mut params = parameters(be, p);
    for _ in 0..10 {
        let (_, grads) = loss_and_grads(be, p, &params).unwrap();
        let grads: Vec<_> = grads.iter().map(Some).collect();
        opt.step(be, &mut params, &grads).unwrap();
    }
    params
        .iter()
        .map(|q| be.download(&q.value).unwrap())
        .collect()
}

#[test]
fn ten_sgd_and_adam_steps_match_cpu() {
    let Some(g) = gpu() else { return };
    let p = problem(3);
    let start: Vec<Vec<f32>> = p.params.clone();
    for (name, after_cpu, after_gpu) in [
        (
            "sgd",
            train(&Cpu, &p, &mut Sgd { lr: 0.1 }),
            train(g, &p, &mut Sgd { lr: 0.1 }),
        ),
        (
            "adam",
            train(&Cpu, &p, &mut Adam::new(0.01)),
            train(g, &p, &mut Adam::new(0.01)),
        ),
    ] {
        for (i, ((c, gp), s)) in after_cpu.iter().zip(&after_gpu).zip(&start).enumerate() {
            assert_ne!(c, s, "{name}: parameter {i} did not move");
            assert_close(&format!("{name} parameter {i}"), gp, c, 1e-3, 1e-4);
        }
    }
}
