//! The readers on the real data of the repository's `data/` folder: the simulated TAL1/GATA
//! benchmark and the ctcf_101bp validation set. These tests fail (they never skip) when the folder is missing.

use std::collections::HashSet;

mod common;
use common::project_data;
use sepfc::data::Dataset;
use sepfc::data::simdata::{read_id_list, read_simdata};

#[test]
fn tal_gata_simdata_has_8000_sequences_and_800_test_ids() {
    let path = project_data("tal_gata_sim/sequences.simdata.gz");
    let data = Dataset::from_simdata(&path).unwrap();
    assert_eq!(data.len(), 8000);
    assert_eq!(data.length, 200);
    assert!(data.sequences.iter().all(|s| s.len() == 200));
    assert_eq!(data.tasks(), ["task1", "task2", "task3"]);
    assert_eq!(data.targets.len(), 8000 * 3);
    assert!(data.targets.iter().all(|&v| v == 0.0 || v == 1.0));
    assert!(data.chroms.iter().all(Option::is_none));

    // 2,000 per class: no motif (0 0 0), GATA (0 1 0), TAL1 (0 0 1), both (1 1 1).
    let mut classes = std::collections::BTreeMap::new();
    for row in data.targets.chunks(3) {
        *classes.entry(format!("{row:?}")).or_insert(0) += 1;
    }
    assert_eq!(
        classes.into_iter().collect::<Vec<_>>(),
        [
            ("[0.0, 0.0, 0.0]".to_string(), 2000),
            ("[0.0, 0.0, 1.0]".to_string(), 2000),
            ("[0.0, 1.0, 0.0]".to_string(), 2000),
            ("[1.0, 1.0, 1.0]".to_string(), 2000),
        ]
    );

    let test_ids: HashSet<String> = read_id_list(&project_data("tal_gata_sim/test_ids.txt.gz"))
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(test_ids.len(), 800);
    let (train, test) = data.split_by_ids(&test_ids);
    assert_eq!((train.len(), test.len()), (7200, 800));
    assert!(test.ids.iter().all(|id| test_ids.contains(id)));
    assert!(train.ids.iter().all(|id| !test_ids.contains(id)));
    let batch = test.batch(&[0, 1, 2], true);
    assert_eq!(
        (batch.n, batch.x.len(), batch.targets.len()),
        (6, 6 * 4 * 200, 18)
    );
    // Every position of an ACGT sequence is one-hot: each sums to 1 over the channels.
    assert_eq!(batch.x.iter().sum::<f32>(), 6.0 * 200.0);
}

#[test]
fn tal_gata_embeddings_point_at_the_planted_strings() {
    let data = read_simdata(&project_data("tal_gata_sim/sequences.simdata.gz")).unwrap();
    let mut motifs = HashSet::new();
    let mut planted = 0;
    for r in &data.records {
        for e in &r.embeddings {
            assert_eq!(
                &r.seq[e.start..e.end()],
                e.planted.as_bytes(),
                "{}: {e:?}",
                r.id
            );
            motifs.insert(e.motif.clone());
            planted += 1;
        }
        // A sequence with no motif has no embeddings; one labelled GATA has a GATA motif.
        let has = |prefix: &str| r.embeddings.iter().any(|e| e.motif.starts_with(prefix));
        assert_eq!(r.labels[1] == Some(1.0), has("GATA"), "{}", r.id);
        assert_eq!(r.labels[2] == Some(1.0), has("TAL1"), "{}", r.id);
    }
    assert!(planted > 6000, "{planted} embeddings");
    assert!(motifs.contains("GATA_disc1"), "{motifs:?}");
}

#[test]
fn ctcf_valid_has_1000_sequences_of_101_bp_with_chromosomes() {
    let fasta = project_data("ctcf_101bp/valid.fa");
    let target = project_data("ctcf_101bp/valid.target");
    let data = Dataset::from_fasta_and_targets(&fasta, &target).unwrap();
    assert_eq!(data.len(), 1000);
    assert_eq!(data.length, 101);
    assert_eq!(data.tasks(), ["bound"]);
    assert_eq!(data.ids[0], "chr19:50982494-50982594");
    assert_eq!(data.chroms[0].as_deref(), Some("chr19"));
    assert_eq!(data.chroms[1].as_deref(), Some("chr10")); // chr10:...-..._shuf
    assert!(data.chroms.iter().all(Option::is_some));

    // Bound rows are those whose first column is 1, counted here from the file itself.
    let text = std::fs::read_to_string(&target).unwrap();
    let bound = text.lines().filter(|l| l.starts_with('1')).count();
    assert!(bound > 0 && bound < 1000);
    assert_eq!(data.targets.iter().filter(|&&v| v == 1.0).count(), bound);
    assert!(data.targets.iter().all(|&v| v == 0.0 || v == 1.0));
    // Shuffled negatives are the unbound ones.
    for (id, &y) in data.ids.iter().zip(&data.targets) {
        assert_eq!(id.ends_with("_shuf"), y == 0.0, "{id}");
    }

    let chroms: Vec<String> = vec!["chr8".into()];
    let (rest, chr8) = data.split_by_chroms(&chroms).unwrap();
    assert!(!chr8.is_empty());
    assert_eq!(rest.len() + chr8.len(), 1000);
    assert!(chr8.ids.iter().all(|id| id.starts_with("chr8:")));
}
