//! Every separable_fc option trains the same on the GPU as on the CPU: the same weights (moved
//! through the weights file), the same batches, three Adam steps, then equal losses, parameters
//! and predictions.

mod common;

use common::{assert_close, gpu, rng, uniform};
use rand::Rng;
use sepfc::backend::Backend;
use sepfc::backend::cpu::Cpu;
use sepfc::config::Config;
use sepfc::model::Model;
use sepfc::optim::Adam;

const LENGTH: usize = 33;
const BATCH: usize = 5;

/// revcomp conv -> maxpool -> dropout -> separable_fc with `options` -> dense(2 tasks).
fn config(options: &str) -> Config {
    Config::from_toml_str(&format!(
        "[[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 3\nkernel_size = 6\nactivation = \"relu\"\n\
         [[layers]]\ntype = \"maxpool1d\"\npool_size = 2\n\
         [[layers]]\ntype = \"dropout\"\nrate = 0.25\n\
         [[layers]]\ntype = \"separable_fc\"\nunits = 3\nactivation = \"sigmoid\"\n{options}\n\
         [[layers]]\ntype = \"dense\"\nunits = 2\n"
    ))
    .unwrap()
}

#[test]
fn every_separable_option_trains_the_same_on_gpu_and_cpu() {
    let Some(g) = gpu() else { return };
    let options = [
        "",
        "symmetric = true",
        "symmetric = true\ntie_rc_channels = true",
        "tie_rc_channels = true",
        "smoothness = { penalty = 0.3 }",
        "smoothness = { penalty = 0.3, l1 = true, second_diff = false }",
        "symmetric = true\nsmoothness = { penalty = 0.2, l1 = true }",
        "curvature_max = 0.05",
        "symmetric = true\ntie_rc_channels = true\nsmoothness = { penalty = 0.1 }\ncurvature_max = 0.02",
    ];
    let mut r = rng(11);
    // one-hot (N, 4, L): one random base per position
    let mut x_cf = vec![0.0; BATCH * 4 * LENGTH];
    for n in 0..BATCH {
        for l in 0..LENGTH {
            x_cf[(n * 4 + r.random_range(0..4)) * LENGTH + l] = 1.0;
        }
    }
    let targets: Vec<f32> = uniform(&mut r, BATCH * 2)
        .iter()
        .map(|v| (*v > 0.0) as u8 as f32)
        .collect();
    let mut mask = vec![1.0; BATCH * 2];
    mask[3] = 0.0;
    for option in options {
        let cpu_model_start = Model::new(&Cpu, config(option), LENGTH, 3).unwrap();
        let bytes = cpu_model_start.to_safetensors(&Cpu).unwrap();
        let mut on_cpu = Model::from_safetensors(&Cpu, &bytes, "cpu").unwrap();
        let mut on_gpu = Model::from_safetensors(g, &bytes, "gpu").unwrap();
        let (mut adam_cpu, mut adam_gpu) = (Adam::new(0.02), Adam::new(0.02));
        let upload_both = |data: &[f32], shape: &[usize]| {
            (
                Cpu.upload(data, shape).unwrap(),
                g.upload(data, shape).unwrap(),
            )
        };
        let (xc, xg) = upload_both(&x_cf, &[BATCH, 4, LENGTH]);
        let (tc, tg) = upload_both(&targets, &[BATCH, 2]);
        let (mc, mg) = upload_both(&mask, &[BATCH, 2]);
        for step in 0..3 {
            let loss_cpu = on_cpu
                .train_step(&Cpu, &mut adam_cpu, &xc, &tc, &mc, step)
                .unwrap();
            let loss_gpu = on_gpu
                .train_step(g, &mut adam_gpu, &xg, &tg, &mg, step)
                .unwrap();
            assert_close(
                &format!("[{option}] loss at step {step}"),
                &g.download(&loss_gpu).unwrap(),
                loss_cpu.data(),
                1e-4,
                1e-5,
            );
        }
        for ((name, pc), (_, pg)) in on_cpu.parameters().zip(on_gpu.parameters()) {
            assert_close(
                &format!("[{option}] {name}"),
                &g.download(&pg.value).unwrap(),
                pc.value.data(),
                1e-3,
                1e-4,
            );
        }
        assert_close(
            &format!("[{option}] predictions"),
            &g.download(&on_gpu.predict(g, &xg).unwrap()).unwrap(),
            on_cpu.predict(&Cpu, &xc).unwrap().data(),
            1e-4,
            1e-5,
        );
    }
}
