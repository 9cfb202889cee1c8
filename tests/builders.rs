//! Models built in Rust against the same models written in TOML: equal configs, equal TOML
//! text written back, equal weights from the same seed; and a built model that does not fit
//! its input is refused as a TOML one is.

use sepfc::backend::{Backend, cpu::Cpu};
use sepfc::config::{
    Activation, Config, ConvConfig, DenseConfig, ModelBuilder, Padding, PoolConfig,
    SeparableConfig, Smoothness, TrainConfig,
};

/// Every layer type and every option off its default.
const EVERYTHING: &str = r#"
[train]
lr = 0.01
epochs = 3

[[layers]]
type = "revcomp_conv1d"
filters = 6
kernel_size = 5
padding = "same"
dilation = 2
activation = "sigmoid"

[[layers]]
type = "revcomp_conv1d"
filters = 4
kernel_size = 3
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
units = 5
symmetric = true
tie_rc_channels = true
smoothness = { penalty = 0.5, l1 = true, second_diff = false }
curvature_max = 0.1
activation = "relu"

[[layers]]
type = "dense"
units = 7
activation = "relu"

[[layers]]
type = "dense"
units = 2
"#;

fn everything() -> ModelBuilder {
    ModelBuilder::new()
        .revcomp_conv1d(
            ConvConfig::new(6, 5)
                .padding(Padding::Same)
                .dilation(2)
                .activation(Activation::Sigmoid),
        )
        .revcomp_conv1d(ConvConfig::new(4, 3).relu())
        .pool(PoolConfig::new(3).stride(2))
        .dropout(0.25)
        .separable_fc(
            SeparableConfig::new(5)
                .symmetric()
                .tie_rc_channels()
                .smoothness(Smoothness::new(0.5).l1().first_diff())
                .curvature_max(0.1)
                .relu(),
        )
        .dense(DenseConfig::new(7).relu())
        .dense(DenseConfig::new(2))
        .train(TrainConfig {
            lr: 0.01,
            epochs: 3,
            ..TrainConfig::default()
        })
}

#[test]
fn a_model_built_in_rust_is_the_model_of_its_toml() {
    let parsed = Config::from_toml_str(EVERYTHING).unwrap();
    let built = everything().config();
    assert_eq!(built, parsed);
    // written back, both give the same TOML text, which parses to the same config again
    let text = built.to_toml_string().unwrap();
    assert_eq!(text, parsed.to_toml_string().unwrap());
    assert_eq!(Config::from_toml_str(&text).unwrap(), parsed);
    // and the same weights from the same seed
    let a = everything().build(&Cpu, 41, 7).unwrap();
    let b = sepfc::model::Model::new(&Cpu, parsed, 41, 7).unwrap();
    let values = |m: &sepfc::model::Model<Cpu>| -> Vec<(String, Vec<f32>)> {
        m.parameters()
            .map(|(name, p)| (name.to_string(), Cpu.download(&p.value).unwrap()))
            .collect()
    };
    assert_eq!(values(&a), values(&b));
    assert_eq!(a.parameter_count(), b.parameter_count());
}

#[test]
fn the_builders_defaults_are_the_toml_defaults() {
    let parsed = Config::from_toml_str(
        "[[layers]]\ntype = \"conv1d\"\nfilters = 2\nkernel_size = 3\n\
         [[layers]]\ntype = \"maxpool1d\"\npool_size = 2\n\
         [[layers]]\ntype = \"separable_fc\"\nunits = 3\nsmoothness = { penalty = 1.0 }\n\
         [[layers]]\ntype = \"dense\"\nunits = 1\n",
    )
    .unwrap();
    let built = ModelBuilder::new()
        .conv1d(ConvConfig::new(2, 3))
        .maxpool1d(2)
        .separable_fc(SeparableConfig::new(3).smoothness(Smoothness::new(1.0)))
        .dense(DenseConfig::new(1))
        .config();
    assert_eq!(built, parsed);
}

#[test]
fn a_built_model_that_does_not_fit_its_input_is_refused_naming_the_layer() {
    let error = ModelBuilder::new()
        .conv1d(ConvConfig::new(2, 30))
        .dense(DenseConfig::new(1))
        .build(&Cpu, 20, 0)
        .err()
        .expect("a 30-tap kernel cannot read 20 bp")
        .to_string();
    assert!(
        error.contains("layer 0") && error.contains("conv1d"),
        "{error}"
    );
}
