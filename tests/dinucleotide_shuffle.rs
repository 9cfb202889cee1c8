//! The dinucleotide shuffle of DeepSHAP's references, as properties: every pair count kept
//! exactly (so the first and last letters too), seeded, and uniform over all the sequences with
//! those pair counts, which the test enumerates itself (a depth-first search over the remaining
//! pairs) and compares with 40,000 draws by a chi-square statistic.

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sepfc::explain::shuffle::{dinucleotide_shuffle, dinucleotide_shuffles, pair_counts};

/// Every sequence that starts with `first`, has `len` letters and exactly the pair counts
/// `left` (consumed as it goes).
fn arrangements(
    prefix: &mut Vec<u8>,
    len: usize,
    left: &mut BTreeMap<[u8; 2], usize>,
    out: &mut Vec<Vec<u8>>,
) {
    if prefix.len() == len {
        out.push(prefix.clone());
        return;
    }
    let at = *prefix.last().unwrap();
    let nexts: Vec<u8> = left
        .iter()
        .filter(|(pair, n)| pair[0] == at && **n > 0)
        .map(|(pair, _)| pair[1])
        .collect();
    for next in nexts {
        *left.get_mut(&[at, next]).unwrap() -= 1;
        prefix.push(next);
        arrangements(prefix, len, left, out);
        prefix.pop();
        *left.get_mut(&[at, next]).unwrap() += 1;
    }
}

#[test]
fn every_pair_count_and_both_ends_are_kept() {
    let mut rng = StdRng::seed_from_u64(11);
    for len in [3, 4, 7, 50, 200, 1000] {
        for alphabet in [&b"ACGT"[..], b"ACGTN", b"AT", b"ACGTacgtN"] {
            let seq: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            for s in dinucleotide_shuffles(&seq, 5, len as u64) {
                assert_eq!(s.len(), seq.len());
                assert_eq!(pair_counts(&s), pair_counts(&seq), "{len} {alphabet:?}");
                assert_eq!((s[0], s[len - 1]), (seq[0], seq[len - 1]));
            }
        }
    }
}

#[test]
fn shuffles_are_seeded_and_differ_between_seeds() {
    let seq = b"ACGTTGCAACGTAGCTAGCTTTACGGATCGATCGGCTAGCTAGGATCCATGCA";
    let a = dinucleotide_shuffles(seq, 4, 3);
    assert_eq!(a, dinucleotide_shuffles(seq, 4, 3));
    // the i-th shuffle does not depend on how many are asked for
    assert_eq!(a[..2], dinucleotide_shuffles(seq, 2, 3)[..]);
    assert_ne!(a, dinucleotide_shuffles(seq, 4, 4));
    assert!(
        a.iter().any(|s| s.as_slice() != seq),
        "a long sequence moves"
    );
}

#[test]
fn every_arrangement_with_the_same_pairs_is_equally_likely() {
    let seq = b"ACAGTACGTCAGATC";
    let mut left = pair_counts(seq);
    let mut all = Vec::new();
    arrangements(&mut vec![seq[0]], seq.len(), &mut left, &mut all);
    assert!(
        all.iter().any(|s| s.as_slice() == seq),
        "the sequence itself is one"
    );
    let k = all.len();
    assert!(
        (20..=2000).contains(&k),
        "{k} arrangements: pick another sequence"
    );
    let draws = 40_000;
    let mut seen: HashMap<Vec<u8>, usize> = all.iter().map(|s| (s.clone(), 0)).collect();
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..draws {
        let s = dinucleotide_shuffle(seq, &mut rng);
        *seen.get_mut(&s).expect("a shuffle outside the enumeration") += 1;
    }
    let expected = draws as f64 / k as f64;
    let chi2: f64 = seen
        .values()
        .map(|&n| (n as f64 - expected).powi(2) / expected)
        .sum();
    // chi-square with k - 1 degrees of freedom: mean k - 1, sd sqrt(2 (k - 1)); allow 5 sd
    let dof = (k - 1) as f64;
    assert!(
        chi2 < dof + 5.0 * (2.0 * dof).sqrt(),
        "chi2 {chi2:.1} over {k} arrangements ({dof} degrees of freedom)"
    );
    assert!(
        seen.values().all(|&n| n > 0),
        "some arrangement never drawn"
    );
}
