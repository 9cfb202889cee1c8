//! End to end on the CPU reference: the demo's small separable model learns its planted motif.

use sepfc::backend::cpu::Cpu;
use sepfc::demo::{DemoConfig, run};

#[test]
fn demo_learns_the_planted_motif() {
    let config = DemoConfig {
        epochs: 8,
        seed: 3,
        ..DemoConfig::default()
    };
    let report = run(&Cpu, &config, |line| eprintln!("{line}")).unwrap();
    let first = report.epoch_losses[0];
    let last = *report.epoch_losses.last().unwrap();
    assert!(
        last < 0.5 * first,
        "training loss went from {first} to {last}"
    );
    assert!(
        report.test_auprc > 0.9,
        "held-out auPRC {}",
        report.test_auprc
    );
    assert!(
        report.test_auroc > 0.95,
        "held-out auROC {} <= 0.95",
        report.test_auroc
    );
}
