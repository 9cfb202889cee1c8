//! Initial weights of every layer type against the formula they follow: Glorot (Xavier)
//! uniform on the stored kernel for convolutions and dense layers (fan_in = in_channels x
//! kernel_size, fan_out = filters x kernel_size, as Keras and PyTorch count them; a
//! reverse-complement convolution's 2F output channels share its F filters, so they count F),
//! and `(2 / (stored_length x channels + units))^(1/4)` for both factors of `separable_fc`.
//! Biases start at zero.

use sepfc::backend::Backend;
use sepfc::backend::cpu::Cpu;
use sepfc::config::Config;
use sepfc::model::Model;

/// Every value of `name` lies in `[-bound, bound)` and the largest magnitude is within 3% of
/// the bound (the largest of n >= 400 uniform draws falls below 97% of it with probability
/// 0.97^n < 1e-5), so a formula off by a few percent fails.
fn assert_uniform_bound(model: &Model<Cpu>, name: &str, bound: f32) {
    let (_, parameter) = model
        .parameters()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no parameter {name}"));
    let values = Cpu.download(&parameter.value).unwrap();
    assert!(
        values.len() >= 400,
        "{name}: too few values to judge the bound"
    );
    let largest = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(
        largest <= bound && largest >= 0.97 * bound,
        "{name}: largest |w| {largest} for the bound {bound}"
    );
}

fn assert_zero(model: &Model<Cpu>, name: &str) {
    let (_, parameter) = model.parameters().find(|(n, _)| *n == name).unwrap();
    assert!(
        Cpu.download(&parameter.value)
            .unwrap()
            .iter()
            .all(|&v| v == 0.0),
        "{name}"
    );
}

fn glorot(fan_in: usize, fan_out: usize) -> f32 {
    (6.0 / (fan_in + fan_out) as f32).sqrt()
}

#[test]
fn every_layer_starts_within_its_formula_bound() {
    let config = Config::from_toml_str(
        r#"
        [[layers]]
        type = "revcomp_conv1d"
        filters = 16
        kernel_size = 15
        activation = "relu"

        [[layers]]
        type = "conv1d"
        filters = 12
        kernel_size = 5
        activation = "relu"

        [[layers]]
        type = "maxpool1d"
        pool_size = 4

        [[layers]]
        type = "separable_fc"
        units = 40
        symmetric = true

        [[layers]]
        type = "dense"
        units = 40
        activation = "relu"

        [[layers]]
        type = "dense"
        units = 10
        "#,
    )
    .unwrap();
    let model = Model::new(&Cpu, config, 200, 7).unwrap();
    // revcomp_conv1d: stored (16, 4, 15); fan_out counts the 16 stored filters, not 32 channels
    assert_uniform_bound(&model, "layers.0.weight", glorot(4 * 15, 16 * 15));
    // conv1d on the 32 channels of layer 0: stored (12, 32, 5)
    assert_uniform_bound(&model, "layers.1.weight", glorot(32 * 5, 12 * 5));
    // separable_fc on (12, (200 - 14 - 4) / 4 = 45): symmetric stores 23 positions
    let separable = (2.0 / (23 * 12 + 40) as f32).powf(0.25);
    assert_uniform_bound(&model, "layers.3.pos", separable);
    assert_uniform_bound(&model, "layers.3.chan", separable);
    assert_uniform_bound(&model, "layers.4.weight", glorot(40, 40));
    assert_uniform_bound(&model, "layers.5.weight", glorot(40, 10));
    for bias in [
        "layers.0.bias",
        "layers.1.bias",
        "layers.4.bias",
        "layers.5.bias",
    ] {
        assert_zero(&model, bias);
    }
}
