//! The separable fully connected layer and its options as model layers: the smoothness
//! regularizer and curvature constraint against hand-worked values, symmetric and tied weights
//! for odd and even sizes, strand invariance as a property, the weights file round trip and
//! the parameter-matched dense twin.

mod common;

use common::{assert_close, rng};
use rand::Rng;
use sepfc::Error;
use sepfc::autodiff::Tape;
use sepfc::backend::Backend;
use sepfc::backend::cpu::{Cpu, CpuTensor};
use sepfc::config::Config;
use sepfc::layers::Mode;
use sepfc::model::{Model, dense_twin};
use sepfc::optim::Sgd;

const EVAL: Mode = Mode {
    training: false,
    seed: 0,
};

fn config(text: &str) -> Config {
    Config::from_toml_str(text).unwrap()
}

/// One-hot `(N, 4, L)` of `seqs`.
fn one_hot(seqs: &[Vec<u8>]) -> CpuTensor {
    let mut x = Vec::new();
    for s in seqs {
        sepfc::dna::one_hot_into(s, &mut x);
    }
    Cpu.upload(&x, &[seqs.len(), 4, seqs[0].len()]).unwrap()
}

fn random_seqs(seed: u64, n: usize, l: usize) -> Vec<Vec<u8>> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| (0..l).map(|_| b"ACGT"[r.random_range(0..4)]).collect())
        .collect()
}

/// A model of one separable layer reading the one-hot input directly, then a dense logit.
fn separable_only(length: usize, options: &str) -> Model<Cpu> {
    let text = format!(
        "[[layers]]\ntype = \"separable_fc\"\nunits = 1\n{options}\n\
         [[layers]]\ntype = \"dense\"\nunits = 1\n"
    );
    Model::new(&Cpu, config(&text), length, 0).unwrap()
}

/// The penalty of `model` and its gradient with respect to `layers.0.pos`.
fn penalty_and_gradient(model: &Model<Cpu>) -> (f32, Vec<f32>) {
    let mut tape = Tape::new(&Cpu);
    let x = tape.input(Cpu.full(&[1, 4, model.input_length()], 0.0).unwrap());
    let recorded = model.record(&mut tape, x, EVAL).unwrap();
    let penalty = recorded
        .penalty
        .expect("the layer has a smoothness penalty");
    let value = tape.value(penalty).data()[0];
    let grads = tape.backward(penalty).unwrap();
    (
        value,
        grads.get(recorded.params[0]).unwrap().data().to_vec(),
    )
}

#[test]
fn squared_second_difference_penalty_by_hand() {
    let mut model = separable_only(5, "smoothness = { penalty = 0.5 }");
    // p = l^2: second differences all 2, mean square 4, times 0.5 = 2
    let pos = Cpu.upload(&[0.0, 1.0, 4.0, 9.0, 16.0], &[1, 5]).unwrap();
    model.set_parameter("layers.0.pos", pos).unwrap();
    let (value, grad) = penalty_and_gradient(&model);
    assert_close("penalty", &[value], &[2.0], 1e-6, 1e-6);
    // d/dp 0.5 * mean(d^2) = 0.5 * (2/3) * D^T d with d = 2: (2/3) * [1, -1, 0, -1, 1]
    let third = 2.0 / 3.0;
    assert_close(
        "gradient",
        &grad,
        &[third, -third, 0.0, -third, third],
        1e-6,
        1e-6,
    );
}

#[test]
fn absolute_first_difference_penalty_by_hand() {
    let mut model = separable_only(
        5,
        "smoothness = { penalty = 0.5, l1 = true, second_diff = false }",
    );
    let pos = Cpu.upload(&[0.0, 1.0, 4.0, 9.0, 16.0], &[1, 5]).unwrap();
    model.set_parameter("layers.0.pos", pos).unwrap();
    let (value, grad) = penalty_and_gradient(&model);
    // first differences 1, 3, 5, 7: mean 4, times 0.5 = 2
    assert_close("penalty", &[value], &[2.0], 1e-6, 1e-6);
    // 0.5 / 4 * sign(d) pushed back through the differences: [-1, 0, 0, 0, 1] / 8
    assert_close(
        "gradient",
        &grad,
        &[-0.125, 0.0, 0.0, 0.0, 0.125],
        1e-6,
        1e-6,
    );
}

#[test]
fn the_penalty_is_on_the_stored_symmetric_weights() {
    let mut model = separable_only(
        7,
        "symmetric = true\nsmoothness = { penalty = 1.0, second_diff = false }",
    );
    // 4 stored weights for 7 positions; first differences 1, 1, 1
    let pos = Cpu.upload(&[0.0, 1.0, 2.0, 3.0], &[1, 4]).unwrap();
    model.set_parameter("layers.0.pos", pos).unwrap();
    assert_close(
        "penalty",
        &[penalty_and_gradient(&model).0],
        &[1.0],
        1e-6,
        1e-6,
    );
}

#[test]
fn training_with_the_curvature_constraint_keeps_second_differences_bounded() {
    let text = "[[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 3\nkernel_size = 5\nactivation = \"relu\"\n\
                [[layers]]\ntype = \"separable_fc\"\nunits = 2\ncurvature_max = 0.01\n\
                [[layers]]\ntype = \"dense\"\nunits = 1\n";
    let mut model = Model::new(&Cpu, config(text), 30, 1).unwrap();
    let x = one_hot(&random_seqs(2, 8, 30));
    let y = Cpu
        .upload(&[1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0], &[8, 1])
        .unwrap();
    let mask = Cpu.full(&[8, 1], 1.0).unwrap();
    let before = model
        .parameters()
        .find(|(n, _)| *n == "layers.1.pos")
        .unwrap()
        .1
        .value
        .data()
        .to_vec();
    let mut sgd = Sgd { lr: 0.5 };
    for step in 0..3 {
        model
            .train_step(&Cpu, &mut sgd, &x, &y, &mask, step)
            .unwrap();
    }
    let pos = model
        .parameters()
        .find(|(n, _)| *n == "layers.1.pos")
        .unwrap()
        .1
        .value
        .data()
        .to_vec();
    assert_ne!(before, pos, "training did not move the positional weights");
    for row in pos.chunks(26) {
        for w in row.windows(3) {
            let d2 = w[2] - 2.0 * w[1] + w[0];
            assert!(
                d2.abs() <= 0.01 + 1e-5,
                "second difference {d2} past the bound 0.01"
            );
        }
    }
}

/// The separable layer's logit for `x` computed by hand from stored weights `pos` `(ls)` and
/// `chan` `(cs)`, mirrored as symmetric / tied ask, for one unit followed by dense weight 1.
fn by_hand(x: &[f32], l: usize, pos: &[f32], chan: &[f32], symmetric: bool, tied: bool) -> f32 {
    let mut y = 0.0;
    for c in 0..4 {
        let cw = if tied { chan[c.min(3 - c)] } else { chan[c] };
        for i in 0..l {
            let pw = if symmetric {
                pos[i.min(l - 1 - i)]
            } else {
                pos[i]
            };
            y += pw * cw * x[c * l + i];
        }
    }
    y
}

#[test]
fn symmetric_and_tied_weights_expand_for_odd_and_even_sizes() {
    for length in [7, 8] {
        for (symmetric, tied) in [(true, false), (false, true), (true, true)] {
            let options = format!("symmetric = {symmetric}\ntie_rc_channels = {tied}");
            let mut model = separable_only(length, &options);
            let stored_l = if symmetric {
                length.div_ceil(2)
            } else {
                length
            };
            let stored_c = if tied { 2 } else { 4 };
            let pos: Vec<f32> = (0..stored_l).map(|i| 0.5 + i as f32).collect();
            let chan: Vec<f32> = (0..stored_c).map(|c| [1.0, -2.0, 3.0, 0.25][c]).collect();
            model
                .set_parameter("layers.0.pos", Cpu.upload(&pos, &[1, stored_l]).unwrap())
                .unwrap();
            model
                .set_parameter("layers.0.chan", Cpu.upload(&chan, &[1, stored_c]).unwrap())
                .unwrap();
            model
                .set_parameter("layers.1.weight", Cpu.upload(&[1.0], &[1, 1]).unwrap())
                .unwrap();
            let seqs = random_seqs(length as u64, 3, length);
            let x = one_hot(&seqs);
            let logits = model.logits(&Cpu, &x).unwrap();
            for n in 0..3 {
                let expected = by_hand(
                    &x.data()[n * 4 * length..(n + 1) * 4 * length],
                    length,
                    &pos,
                    &chan,
                    symmetric,
                    tied,
                );
                assert_close(
                    &format!("L={length} symmetric={symmetric} tied={tied} sequence {n}"),
                    &logits.data()[n..n + 1],
                    &[expected],
                    1e-5,
                    1e-5,
                );
            }
        }
    }
}

/// A model of reverse-complement convolutions, mirror-exact pooling and a separable layer.
fn strand_model(length: usize, tied: bool, seed: u64) -> Model<Cpu> {
    let text = format!(
        "[[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 3\nkernel_size = 5\npadding = \"same\"\nactivation = \"relu\"\n\
         [[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 2\nkernel_size = 5\nactivation = \"relu\"\n\
         [[layers]]\ntype = \"maxpool1d\"\npool_size = 3\nstride = 2\n\
         [[layers]]\ntype = \"dropout\"\nrate = 0.3\n\
         [[layers]]\ntype = \"separable_fc\"\nunits = 3\nsymmetric = true\ntie_rc_channels = {tied}\nactivation = \"relu\"\n\
         [[layers]]\ntype = \"dense\"\nunits = 2\n"
    );
    Model::new(&Cpu, config(&text), length, seed).unwrap()
}

/// Largest |f(x) - f(rc(x))| over random sequences.
fn strand_gap(model: &Model<Cpu>, length: usize, seed: u64) -> f32 {
    let seqs = random_seqs(seed, 6, length);
    let rc: Vec<Vec<u8>> = seqs
        .iter()
        .map(|s| sepfc::dna::reverse_complement(s))
        .collect();
    let forward = model.logits(&Cpu, &one_hot(&seqs)).unwrap();
    let backward = model.logits(&Cpu, &one_hot(&rc)).unwrap();
    forward
        .data()
        .iter()
        .zip(backward.data())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

#[test]
fn tied_symmetric_models_are_strand_invariant() {
    // lengths whose pooling leaves nothing over: (L - 4 - 3) % 2 == 0
    for (length, seed) in [(31, 1), (45, 2), (63, 3)] {
        let model = strand_model(length, true, seed);
        let gap = strand_gap(&model, length, seed + 10);
        assert!(
            gap < 1e-5,
            "L={length}: prediction and reverse-complement prediction differ by {gap}"
        );
    }
}

#[test]
fn symmetric_positions_alone_do_not_make_a_model_strand_invariant() {
    for (length, seed) in [(31, 1), (45, 2)] {
        let model = strand_model(length, false, seed);
        let gap = strand_gap(&model, length, seed + 10);
        assert!(
            gap > 1e-3,
            "L={length}: untied model unexpectedly invariant (gap {gap})"
        );
    }
}

#[test]
fn saved_weights_load_with_the_same_predictions() {
    let model = strand_model(31, true, 5);
    let dir = std::env::temp_dir().join(format!("sepfc-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    model.save(&Cpu, &path).unwrap();
    let loaded = Model::load(&Cpu, &path).unwrap();
    assert_eq!(loaded.config(), model.config());
    let x = one_hot(&random_seqs(9, 5, 31));
    assert_eq!(
        loaded.predict(&Cpu, &x).unwrap().data(),
        model.predict(&Cpu, &x).unwrap().data(),
        "predictions changed across save and load"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "a temporary file was left behind: {leftovers:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_weights_file_that_does_not_fit_its_config_is_rejected_by_tensor() {
    let model = strand_model(31, true, 5);
    let bytes = model.to_safetensors(&Cpu).unwrap();
    // the same file read as if its config asked for another input length
    let (from, to) = (b"\"input_length\":\"31\"", b"\"input_length\":\"35\"");
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the input length is in the metadata");
    let mut edited = bytes.clone();
    edited[at..at + to.len()].copy_from_slice(to);
    match Model::<Cpu>::from_safetensors(&Cpu, &edited, "edited.safetensors") {
        Err(Error::Weights { path, detail }) => {
            assert_eq!(path, "edited.safetensors");
            assert!(
                detail.contains("layers.4.pos") && detail.contains("shape"),
                "{detail}"
            );
        }
        other => panic!("expected a weights error, got {:?}", other.err()),
    }
    match Model::<Cpu>::from_safetensors(&Cpu, b"not a weights file", "junk.bin") {
        Err(Error::Weights { path, .. }) => assert_eq!(path, "junk.bin"),
        other => panic!("expected a weights error, got {:?}", other.err()),
    }
}

#[test]
fn the_dense_twin_matches_the_parameter_count_as_closely_as_possible() {
    let text = "[[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 16\nkernel_size = 15\nactivation = \"relu\"\n\
                [[layers]]\ntype = \"maxpool1d\"\npool_size = 10\n\
                [[layers]]\ntype = \"separable_fc\"\nunits = 16\nsymmetric = true\nsmoothness = { penalty = 0.1 }\nactivation = \"relu\"\n\
                [[layers]]\ntype = \"dense\"\nunits = 3\n";
    let original = config(text);
    let (twin, report) = dense_twin(&original, 200).unwrap();
    let count = |c: &Config| {
        Model::new(&Cpu, c.clone(), 200, 0)
            .unwrap()
            .parameter_count()
    };
    assert_eq!(report.original_params, count(&original));
    assert_eq!(report.twin_params, count(&twin));
    let (index, units) = report.units[0];
    assert_eq!(index, 2);
    // no other unit count comes closer
    for other in [units.saturating_sub(1).max(1), units + 1] {
        let mut alternative = twin.clone();
        if let sepfc::config::LayerConfig::Dense(d) = &mut alternative.layers[2] {
            d.units = other;
        }
        assert!(
            count(&alternative).abs_diff(report.original_params)
                >= report.twin_params.abs_diff(report.original_params),
            "{other} units would match better than {units}"
        );
    }
    assert!(matches!(
        twin.layers[2],
        sepfc::config::LayerConfig::Dense(_)
    ));
}
