//! Configs that cannot describe a sound model are rejected with a message naming the layer
//! (or the key) and the problem.

use sepfc::Error;
use sepfc::config::Config;
use sepfc::model::resolve;

/// The config error for `layers` (TOML `[[layers]]` entries) at `input_length`.
fn rejection(layers: &str, input_length: usize) -> String {
    let config = match Config::from_toml_str(layers) {
        Ok(c) => c,
        Err(Error::Config(message)) => return message,
        Err(other) => panic!("unexpected error {other}"),
    };
    match resolve(&config.layers, input_length) {
        Err(Error::Config(message)) => message,
        other => panic!("expected a config error, got {other:?}"),
    }
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "{message:?} does not mention {part:?}"
        );
    }
}

const TAIL: &str = r#"
[[layers]]
type = "dense"
units = 1
"#;

#[test]
fn an_unknown_key_is_rejected_by_name() {
    let message = rejection(
        r#"
[[layers]]
type = "revcomp_conv1d"
filters = 8
kernel_size = 9
activaton = "relu"
"#,
        50,
    );
    assert_mentions(&message, &["activaton", "activation"]);
}

#[test]
fn an_unknown_section_key_and_layer_type_are_rejected() {
    assert_mentions(
        &rejection(
            "[train]\nlearning_rate = 0.1\n[[layers]]\ntype = \"dense\"\nunits = 1\n",
            10,
        ),
        &["learning_rate"],
    );
    assert_mentions(
        &rejection("[[layers]]\ntype = \"lstm\"\nunits = 1\n", 10),
        &["lstm"],
    );
}

#[test]
fn a_layer_whose_input_is_too_short_is_named() {
    let message = rejection(
        &format!(
            "[[layers]]\ntype = \"conv1d\"\nfilters = 2\nkernel_size = 5\n\
             [[layers]]\ntype = \"conv1d\"\nfilters = 2\nkernel_size = 7\n{TAIL}"
        ),
        10,
    );
    assert_mentions(&message, &["layer 1 (conv1d)", "6 positions", "span of 7"]);
    let message = rejection(
        &format!("[[layers]]\ntype = \"maxpool1d\"\npool_size = 20\n{TAIL}"),
        10,
    );
    assert_mentions(
        &message,
        &["layer 0 (maxpool1d)", "10 positions", "pool_size 20"],
    );
}

#[test]
fn tied_channels_without_symmetric_positions_do_not_ask_for_mirrored_positions() {
    // strand invariance needs both options; tied channels alone only need channel pairs
    let config = Config::from_toml_str(&format!(
        "[[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 2\nkernel_size = 3\n\
         [[layers]]\ntype = \"maxpool1d\"\npool_size = 4\n\
         [[layers]]\ntype = \"separable_fc\"\nunits = 2\ntie_rc_channels = true\n{TAIL}"
    ))
    .unwrap();
    assert!(resolve(&config.layers, 20).is_ok());
}

#[test]
fn tied_channels_after_a_plain_convolution_are_rejected() {
    let message = rejection(
        &format!(
            "[[layers]]\ntype = \"conv1d\"\nfilters = 4\nkernel_size = 3\n\
             [[layers]]\ntype = \"separable_fc\"\nunits = 2\nsymmetric = true\ntie_rc_channels = true\n{TAIL}"
        ),
        20,
    );
    assert_mentions(
        &message,
        &[
            "layer 1 (separable_fc)",
            "reverse-complement pairs",
            "layer 0 (conv1d)",
        ],
    );
}

#[test]
fn a_pooling_with_leftover_positions_breaks_requested_strand_invariance() {
    // 20 - 2 = 18 positions, pooled by 4: 4 windows and 2 positions over
    let message = rejection(
        &format!(
            "[[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 2\nkernel_size = 3\n\
             [[layers]]\ntype = \"maxpool1d\"\npool_size = 4\n\
             [[layers]]\ntype = \"separable_fc\"\nunits = 2\nsymmetric = true\ntie_rc_channels = true\n{TAIL}"
        ),
        20,
    );
    assert_mentions(
        &message,
        &[
            "layer 2 (separable_fc)",
            "layer 1 (maxpool1d)",
            "2 position(s) over",
        ],
    );
    // without tied channels nobody asked for invariance: the same pooling is fine
    let config = Config::from_toml_str(&format!(
        "[[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 2\nkernel_size = 3\n\
         [[layers]]\ntype = \"maxpool1d\"\npool_size = 4\n\
         [[layers]]\ntype = \"separable_fc\"\nunits = 2\nsymmetric = true\n{TAIL}"
    ))
    .unwrap();
    assert!(resolve(&config.layers, 20).is_ok());
}

#[test]
fn uneven_same_padding_breaks_requested_strand_invariance() {
    let message = rejection(
        &format!(
            "[[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 2\nkernel_size = 4\npadding = \"same\"\n\
             [[layers]]\ntype = \"separable_fc\"\nunits = 2\nsymmetric = true\ntie_rc_channels = true\n{TAIL}"
        ),
        20,
    );
    assert_mentions(&message, &["layer 0 (revcomp_conv1d)", "unevenly"]);
}

#[test]
fn a_revcomp_convolution_needs_paired_input() {
    let message = rejection(
        &format!(
            "[[layers]]\ntype = \"conv1d\"\nfilters = 4\nkernel_size = 3\n\
             [[layers]]\ntype = \"revcomp_conv1d\"\nfilters = 2\nkernel_size = 3\n{TAIL}"
        ),
        20,
    );
    assert_mentions(
        &message,
        &["layer 1 (revcomp_conv1d)", "not reverse-complement pairs"],
    );
}

#[test]
fn smoothness_needs_enough_stored_positions() {
    // pooled length 3, symmetric: 2 stored weights, no second difference
    let message = rejection(
        &format!(
            "[[layers]]\ntype = \"maxpool1d\"\npool_size = 4\n\
             [[layers]]\ntype = \"separable_fc\"\nunits = 2\nsymmetric = true\n\
             smoothness = {{ penalty = 0.1 }}\n{TAIL}"
        ),
        12,
    );
    assert_mentions(
        &message,
        &["layer 1 (separable_fc)", "order 2", "there are 2"],
    );
}

#[test]
fn the_last_layer_must_emit_logits() {
    let message = rejection(
        "[[layers]]\ntype = \"dense\"\nunits = 2\nactivation = \"sigmoid\"\n",
        10,
    );
    assert_mentions(&message, &["layer 0 (dense)", "logits"]);
    let message = rejection("[[layers]]\ntype = \"maxpool1d\"\npool_size = 2\n", 10);
    assert_mentions(&message, &["layer 0 (maxpool1d)", "logits"]);
    assert_mentions(
        &rejection("layers = []\n[train]\nlr = 0.1\n", 10),
        &["no layers"],
    );
}

#[test]
fn bad_option_values_are_rejected() {
    for (layer, words) in [
        (
            "type = \"dropout\"\nrate = 1.0",
            vec!["layer 0 (dropout)", "rate"],
        ),
        (
            "type = \"conv1d\"\nfilters = 0\nkernel_size = 3",
            vec!["layer 0 (conv1d)", "positive"],
        ),
        (
            "type = \"separable_fc\"\nunits = 2\ncurvature_max = -1.0",
            vec!["layer 0 (separable_fc)", "curvature_max"],
        ),
    ] {
        assert_mentions(
            &rejection(&format!("[[layers]]\n{layer}\n{TAIL}"), 10),
            &words,
        );
    }
}

#[test]
fn a_config_survives_a_toml_round_trip() {
    let text = r#"
[data]
fasta = "train.fa"
labels = "labels.tsv"
valid_fraction = 0.1

[train]
optimizer = "sgd"
lr = 0.01
epochs = 3

[[layers]]
type = "revcomp_conv1d"
filters = 8
kernel_size = 9
padding = "same"
dilation = 1
activation = "relu"

[[layers]]
type = "dropout"
rate = 0.2

[[layers]]
type = "separable_fc"
units = 4
symmetric = true
smoothness = { penalty = 0.01, l1 = true, second_diff = false }
curvature_max = 0.1

[[layers]]
type = "dense"
units = 3
"#;
    let config = Config::from_toml_str(text).unwrap();
    let again = Config::from_toml_str(&config.to_toml_string().unwrap()).unwrap();
    assert_eq!(config, again);
    assert_eq!(
        config.train.batch_size, 128,
        "defaults fill what the file leaves out"
    );
}

#[test]
fn the_annotated_example_config_builds_a_model() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/strand_invariant.toml"
    );
    let config = Config::from_toml_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let layers = resolve(&config.layers, 200).unwrap();
    assert_eq!(layers.len(), 6);
}

#[test]
fn the_dataset_example_configs_build_models() {
    for (file, length) in [("ctcf.toml", 101), ("tal_gata.toml", 200)] {
        let path = format!("{}/examples/{file}", env!("CARGO_MANIFEST_DIR"));
        let config = Config::from_toml_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        resolve(&config.layers, length).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(config.data.is_some(), "{file} has no [data]");
    }
}

#[test]
fn the_example_experiments_plan_valid_runs() {
    for (file, length) in [
        ("experiment_tal_gata.toml", 200),
        ("experiment_ctcf.toml", 101),
    ] {
        let dir = format!("{}/examples", env!("CARGO_MANIFEST_DIR"));
        let exp = sepfc::experiment::ExperimentConfig::from_toml_str(
            &std::fs::read_to_string(format!("{dir}/{file}")).unwrap(),
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        let base_file = exp.base.clone().expect("a base config");
        let base = Config::from_toml_str(
            &std::fs::read_to_string(format!("{dir}/{}", base_file.display())).unwrap(),
        )
        .unwrap();
        let runs =
            sepfc::experiment::plan(&exp, &base, length).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(runs.len(), exp.draws * exp.seeds.len() * 3);
    }
}
