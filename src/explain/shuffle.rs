//! Dinucleotide shuffles: rearrangements of a sequence that keep the count of every pair of
//! adjacent letters, the references of DeepSHAP (docs/contract.md, `explain --method deepshap`).
//!
//! A sequence is a walk through the graph whose vertices are its letters and whose edges are
//! its adjacent pairs; a rearrangement with the same pairs is another walk using every edge once
//! (an Euler path) from the same first letter, so it also ends on the same last letter. The
//! shuffle draws one uniformly among all such sequences (Altschul and Erickson's method, with
//! Kandel and coauthors' random arborescence): each letter but the last gets a random "last
//! exit", the exits forming a tree that leads to the last letter (Wilson's loop-erased random
//! walks); the other edges leaving each letter are put in random order before its last exit;
//! the walk from the first letter that takes each letter's edges in that order is the shuffle.
//!
//! ```
//! use sepfc::explain::shuffle::{dinucleotide_shuffles, pair_counts};
//! let seq = b"ACGTTGCAACGTAGCT";
//! let shuffles = dinucleotide_shuffles(seq, 3, 7);
//! assert_eq!(shuffles.len(), 3);
//! for s in &shuffles {
//!     assert_eq!(pair_counts(s), pair_counts(seq));
//!     assert_eq!((s[0], s[s.len() - 1]), (b'A', b'T'));
//! }
//! assert_eq!(shuffles, dinucleotide_shuffles(seq, 3, 7)); // seeded
//! ```

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// How many times each ordered pair of adjacent letters occurs in `seq`.
pub fn pair_counts(seq: &[u8]) -> BTreeMap<[u8; 2], usize> {
    let mut counts = BTreeMap::new();
    for pair in seq.windows(2) {
        *counts.entry([pair[0], pair[1]]).or_insert(0) += 1;
    }
    counts
}

/// `count` dinucleotide shuffles of `seq`, the `i`-th drawn from a generator seeded by `seed`
/// and `i`, so that each is the same whatever `count` is. Letters are bytes, taken as they are
/// (upper-case a sequence first if `a` and `A` should be one letter).
pub fn dinucleotide_shuffles(seq: &[u8], count: usize, seed: u64) -> Vec<Vec<u8>> {
    (0..count as u64)
        .map(|i| {
            let mut rng = StdRng::seed_from_u64(seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            dinucleotide_shuffle(seq, &mut rng)
        })
        .collect()
}

/// One dinucleotide shuffle of `seq` drawn with `rng`, uniform over every sequence with the
/// same adjacent pairs (and so the same first and last letters).
pub fn dinucleotide_shuffle<R: Rng>(seq: &[u8], rng: &mut R) -> Vec<u8> {
    if seq.len() <= 2 {
        return seq.to_vec();
    }
    // the targets of the edges leaving each letter, one per occurrence of the pair
    let mut exits: Vec<Vec<u8>> = vec![Vec::new(); 256];
    for pair in seq.windows(2) {
        exits[pair[0] as usize].push(pair[1]);
    }
    let last = seq[seq.len() - 1];
    let last_exit = random_arborescence(&exits, last, rng);
    // each letter's edges in random order, its last exit (if it has one) at the end
    for (letter, targets) in exits.iter_mut().enumerate() {
        if let Some(chosen) = last_exit[letter] {
            let end = targets.len() - 1;
            targets.swap(chosen, end);
            targets[..end].shuffle(rng);
        } else {
            targets.shuffle(rng);
        }
    }
    let mut taken = [0usize; 256];
    let mut out = Vec::with_capacity(seq.len());
    let mut at = seq[0];
    out.push(at);
    for _ in 1..seq.len() {
        let next = exits[at as usize][taken[at as usize]];
        taken[at as usize] += 1;
        out.push(next);
        at = next;
    }
    out
}

/// For every letter with edges other than `root`, the index (into its `exits`) of the edge it
/// leaves by last, such that following last exits from any letter reaches `root`: a spanning
/// arborescence drawn uniformly among those of the multigraph (Wilson's algorithm, each walk
/// step taking one of the letter's edges at random).
fn random_arborescence<R: Rng>(exits: &[Vec<u8>], root: u8, rng: &mut R) -> Vec<Option<usize>> {
    let mut in_tree = [false; 256];
    in_tree[root as usize] = true;
    let mut next: Vec<Option<usize>> = vec![None; 256];
    for start in 0..256 {
        if in_tree[start] || exits[start].is_empty() {
            continue;
        }
        // a random walk to the tree; a revisited letter's exit is overwritten (loop erasure)
        let mut at = start;
        while !in_tree[at] {
            let edge = rng.random_range(0..exits[at].len());
            next[at] = Some(edge);
            at = exits[at][edge] as usize;
        }
        // the loop-erased path joins the tree
        let mut at = start;
        while !in_tree[at] {
            in_tree[at] = true;
            at = exits[at][next[at].expect("a walked letter has an exit")] as usize;
        }
    }
    next[root as usize] = None;
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_sequences_have_one_arrangement() {
        let mut rng = StdRng::seed_from_u64(1);
        for seq in [&b""[..], b"A", b"AC"] {
            assert_eq!(dinucleotide_shuffle(seq, &mut rng), seq);
        }
        // one letter only: every edge is A -> A
        assert_eq!(dinucleotide_shuffle(b"AAAA", &mut rng), b"AAAA");
    }

    #[test]
    fn the_root_has_no_last_exit_and_every_other_letter_one_that_leads_to_it() {
        let seq = b"GATTACAGATTACANNCG";
        let mut exits: Vec<Vec<u8>> = vec![Vec::new(); 256];
        for pair in seq.windows(2) {
            exits[pair[0] as usize].push(pair[1]);
        }
        for seed in 0..50 {
            let mut rng = StdRng::seed_from_u64(seed);
            let tree = random_arborescence(&exits, b'G', &mut rng);
            assert_eq!(tree[b'G' as usize], None);
            for letter in [b'A', b'T', b'C', b'N'] {
                let mut at = letter;
                for _ in 0..5 {
                    if at == b'G' {
                        break;
                    }
                    at = exits[at as usize][tree[at as usize].unwrap()];
                }
                assert_eq!(at, b'G', "seed {seed}: {} does not reach G", letter as char);
            }
        }
    }
}
