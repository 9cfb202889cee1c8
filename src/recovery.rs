//! Motif recovery: do importance scores agree with known biology? (docs/layer.md, claim 3: the
//! score mass lands on the planted or known motifs.)
//!
//! Importance scores (from [`crate::explain`]) are `(N, L)` row-major, one score per
//! position. Each sequence comes with a list of [`Site`]s, 0-based half-open position ranges
//! where a motif is known to be:
//!
//! - on simulated data the planted instances, [`sites_from_embeddings`] (tal_gata_sim's
//!   ground truth);
//! - on real data the matches of a known PWM, [`pwm_matches`] (log-odds against a uniform
//!   background, either strand).
//!
//! [`motif_recovery`] (or [`motif_enrichment`], which finds the sites with [`pwm_matches`]
//! first) then reports, over the sequences that have at least one site:
//!
//! - the auROC and auPRC of the per-position importance against the per-position label
//!   "inside a site", pooled over all positions of those sequences; 0.5 and the site fraction
//!   are chance;
//! - the mass fraction: the share of each sequence's importance mass that falls inside its
//!   sites, averaged over sequences, next to the site fraction, the share of positions that
//!   are inside sites, which is what a score spread evenly would get.
//!
//! [`Sign`] says which importance counts: [`Sign::Positive`] (the default) for scores of a task
//! whose planted motif is an activator, where a motif should raise the logit; or
//! [`Sign::Absolute`] for any effect, either direction.
//!
//! ```
//! use sepfc::recovery::{Sign, Site, motif_recovery};
//!
//! // two sequences of length 4 (scores (2, 4)); the first has a site at positions 1..3
//! let scores = [0.0, 2.0, 1.0, 1.0, /* second */ 5.0, 0.0, 0.0, 0.0];
//! let sites = [vec![Site { start: 1, end: 3 }], vec![]];
//! let r = motif_recovery(&scores, 4, &sites, Sign::Positive);
//! assert_eq!(r.sequences, 1); // the second, without sites, is ignored
//! // inside: 2 and 1; outside: 0 and 1, so 3.5 of the 4 pairs rank right
//! assert_eq!(r.auroc, Some(0.875));
//! assert_eq!(r.mass_fraction, 0.75); // 3 of the mass 4
//! assert_eq!(r.site_fraction, 0.5); // chance: 2 of 4 positions
//! ```

use crate::data::simdata::Embedding;
use crate::metrics::{auprc, auroc};
use crate::simulate::Motif;

/// A motif site: 0-based half-open positions `start..end` of one sequence.
///
/// A site with `start >= end` covers no position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    /// First position inside the site (0-based).
    pub start: usize,
    /// First position after the site (exclusive).
    pub end: usize,
}

impl Site {
    /// Whether the two sites share at least one position.
    ///
    /// ```
    /// use sepfc::recovery::Site;
    /// let a = Site { start: 2, end: 5 };
    /// assert!(a.overlaps(&Site { start: 4, end: 9 }));
    /// assert!(!a.overlaps(&Site { start: 5, end: 9 })); // half-open: 5 is outside a
    /// ```
    pub fn overlaps(&self, other: &Site) -> bool {
        self.start < self.end
            && other.start < other.end
            && self.start < other.end
            && other.start < self.end
    }
}

/// Which importance counts as evidence for a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sign {
    /// The score as it is: a planted activator should raise the task's logit, so its
    /// positions should get high positive scores. The auROC ranks the raw scores (a negative
    /// score ranks below zero); the mass is the sum of the positive parts, `max(s, 0)`.
    #[default]
    Positive,
    /// The magnitude `|s|`, for both the auROC and the mass: any effect, in either direction
    /// (repressors, or scores whose sign is arbitrary).
    Absolute,
}

impl Sign {
    /// The score that is ranked in the auROC and auPRC.
    fn rank_score(self, s: f32) -> f32 {
        match self {
            Sign::Positive => s,
            Sign::Absolute => s.abs(),
        }
    }

    /// The score's contribution to the importance mass (never negative).
    fn mass(self, s: f32) -> f64 {
        match self {
            Sign::Positive => f64::from(s.max(0.0)),
            Sign::Absolute => f64::from(s.abs()),
        }
    }
}

/// How well importance scores recover the sites, as computed by [`motif_recovery`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recovery {
    /// auROC of the per-position score (per the [`Sign`]) against "inside a site", pooled
    /// over every position of the sequences with at least one site; 0.5 is chance. `None`
    /// when no sequence has a site, or when every position of those sequences is inside one.
    pub auroc: Option<f64>,
    /// auPRC (average precision) of the same ranking; chance is the pooled share of positions
    /// inside sites, which equals [`Recovery::site_fraction`] when no sequence is skipped for
    /// zero mass. `None` when no sequence has a site.
    pub auprc: Option<f64>,
    /// The share of a sequence's importance mass (sum of `max(s, 0)` for [`Sign::Positive`],
    /// of `|s|` for [`Sign::Absolute`]) inside its sites, averaged over sequences: the mean of
    /// the per-sequence fractions, each sequence weighing the same however large its scores.
    /// Sequences without a site are left out, and so are those whose total mass is zero (all
    /// scores zero, or for [`Sign::Positive`] none above zero), counted in
    /// [`Recovery::zero_mass`]. NaN when no sequence is left.
    pub mass_fraction: f64,
    /// Chance level of [`Recovery::mass_fraction`]: the share of positions inside sites,
    /// averaged over the same sequences (a uniform score gets exactly this). NaN when no
    /// sequence is left.
    pub site_fraction: f64,
    /// Number of sequences with at least one site: those that enter the auROC and auPRC.
    pub sequences: usize,
    /// Number of those sequences left out of the mass fraction because their mass is zero.
    pub zero_mass: usize,
}

/// The per-position labels "inside a site" of one sequence of `length` positions: the union
/// of the sites, so overlapping sites merge.
///
/// # Panics
///
/// When a site ends past `length`.
///
/// ```
/// use sepfc::recovery::{Site, site_labels};
/// let sites = [Site { start: 1, end: 3 }, Site { start: 2, end: 4 }];
/// assert_eq!(site_labels(&sites, 5), [false, true, true, true, false]);
/// ```
pub fn site_labels(sites: &[Site], length: usize) -> Vec<bool> {
    let mut labels = vec![false; length];
    for site in sites {
        assert!(
            site.end <= length,
            "site {}..{} ends past the sequence length {length}",
            site.start,
            site.end
        );
        if site.start < site.end {
            labels[site.start..site.end].fill(true);
        }
    }
    labels
}

/// Scores importance against known sites: see [`Recovery`] for each number.
///
/// `scores` is `(N, L)` row-major with `L = length`; `sites` has one list per sequence (`N`
/// lists), each site within `0..length`; overlapping sites are merged. Sequences whose list
/// is empty (or holds only empty sites) are ignored entirely. `sign` says which importance
/// counts ([`Sign::Positive`] for the task a planted activator drives).
///
/// # Panics
///
/// When `scores.len() != sites.len() * length`, when a site ends past `length`, or when a
/// score of a sequence with sites is not finite.
pub fn motif_recovery(scores: &[f32], length: usize, sites: &[Vec<Site>], sign: Sign) -> Recovery {
    assert_eq!(
        scores.len(),
        sites.len() * length,
        "scores must be (N, L) = ({}, {length}) for {} site lists, got {} values",
        sites.len(),
        sites.len(),
        scores.len()
    );
    let mut ranked: Vec<f32> = Vec::new();
    let mut labels: Vec<bool> = Vec::new();
    let mut sequences = 0;
    let mut zero_mass = 0;
    let mut mass_sum = 0.0;
    let mut site_sum = 0.0;
    let mut massive = 0;
    for (n, seq_sites) in sites.iter().enumerate() {
        let inside = site_labels(seq_sites, length);
        let covered = inside.iter().filter(|&&b| b).count();
        if covered == 0 {
            continue;
        }
        sequences += 1;
        let row = &scores[n * length..(n + 1) * length];
        if let Some(p) = row.iter().position(|s| !s.is_finite()) {
            panic!(
                "the score of sequence {n} at position {p} is not finite: {}",
                row[p]
            );
        }
        ranked.extend(row.iter().map(|&s| sign.rank_score(s)));
        labels.extend_from_slice(&inside);
        let (mut total, mut within) = (0.0, 0.0);
        for (&s, &i) in row.iter().zip(&inside) {
            let m = sign.mass(s);
            total += m;
            if i {
                within += m;
            }
        }
        if total > 0.0 {
            massive += 1;
            mass_sum += within / total;
            site_sum += covered as f64 / length as f64;
        } else {
            zero_mass += 1;
        }
    }
    let mean = |sum: f64| {
        if massive == 0 {
            f64::NAN
        } else {
            sum / massive as f64
        }
    };
    Recovery {
        auroc: auroc(&ranked, &labels),
        auprc: auprc(&ranked, &labels),
        mass_fraction: mean(mass_sum),
        site_fraction: mean(site_sum),
        sequences,
        zero_mass,
    }
}

/// The log-odds of each base against a uniform background, `log2(p / 0.25)`, per position,
/// A, C, G, T.
fn log_odds(pwm: &[[f64; 4]]) -> Vec<[f64; 4]> {
    pwm.iter()
        .map(|column| column.map(|p| (p / 0.25).log2()))
        .collect()
}

/// Score of `window` against `matrix` (log-odds), a non-ACGT character scoring the minimum of
/// its position.
fn window_score(matrix: &[[f64; 4]], window: &[u8]) -> f64 {
    matrix
        .iter()
        .zip(window)
        .map(|(column, &b)| match crate::dna::channel(b) {
            Some(c) => column[c],
            None => column.iter().copied().fold(f64::INFINITY, f64::min),
        })
        .sum()
}

/// The highest score `matrix` gives any window.
fn max_score(matrix: &[[f64; 4]]) -> f64 {
    matrix
        .iter()
        .map(|column| column.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .sum()
}

/// The windows of `seq` where `motif` matches, on either strand: the sites `start..start + W`
/// (`W` = the motif's width) whose log-odds score against a uniform background,
/// `sum over j of log2(pwm[j][base] / 0.25)`, is at least `threshold` times the motif's
/// maximum possible score. The reverse strand is scored with the reverse-complement PWM, so a
/// site reported at `start` reads as the motif on the reverse strand of `start..start + W`.
///
/// Bases may be lower case; N and any other character score the lowest log-odds of their
/// position. Each window is reported once, in order of `start`, whether it matches on one
/// strand or both; overlapping matches are all reported ([`site_labels`] merges them).
/// A motif whose every column is uniform has maximum score 0 and matches every window.
///
/// # Panics
///
/// When `threshold` is not in `(0, 1]`, or the motif has no positions.
///
/// ```
/// use sepfc::recovery::{Site, pwm_matches};
/// use sepfc::simulate::Motif;
/// // GATA, nearly certain at each position
/// let p = |b: usize| { let mut c = [0.01; 4]; c[b] = 0.97; c };
/// let motif = Motif { id: "x".into(), name: "GATA".into(), pwm: vec![p(2), p(0), p(3), p(0)] };
/// assert_eq!(pwm_matches(b"CCGATACC", &motif, 0.8), [Site { start: 2, end: 6 }]);
/// assert_eq!(pwm_matches(b"CTATCCCC", &motif, 0.8), [Site { start: 1, end: 5 }]); // TATC
/// ```
pub fn pwm_matches(seq: &[u8], motif: &Motif, threshold: f64) -> Vec<Site> {
    assert!(
        threshold > 0.0 && threshold <= 1.0,
        "the match threshold must be in (0, 1], got {threshold}"
    );
    assert!(
        !motif.pwm.is_empty(),
        "motif {} {} has no positions",
        motif.id,
        motif.name
    );
    let forward = log_odds(&motif.pwm);
    // reverse complement: position j reads position W-1-j of the motif, base b its complement
    // 3-b (A<->T, C<->G in the order A, C, G, T)
    let reverse: Vec<[f64; 4]> = forward
        .iter()
        .rev()
        .map(|column| [column[3], column[2], column[1], column[0]])
        .collect();
    let width = forward.len();
    // a tolerance of a few rounding errors, so that the consensus matches at threshold 1
    let cutoff = |matrix: &[[f64; 4]]| {
        let max = max_score(matrix);
        threshold * max - 1e-9 * max.abs().max(1.0)
    };
    let (forward_cut, reverse_cut) = (cutoff(&forward), cutoff(&reverse));
    if seq.len() < width {
        return Vec::new();
    }
    (0..=seq.len() - width)
        .filter(|&start| {
            let window = &seq[start..start + width];
            window_score(&forward, window) >= forward_cut
                || window_score(&reverse, window) >= reverse_cut
        })
        .map(|start| Site {
            start,
            end: start + width,
        })
        .collect()
}

/// [`motif_recovery`] with the sites found by [`pwm_matches`]: how well importance scores
/// recover the matches of a known motif on real data.
///
/// `scores` is `(N, L)` row-major with `L = length`, `sequences` the `N` sequences, each of
/// `length` bases; `threshold` and `sign` as in [`pwm_matches`] and [`motif_recovery`].
/// Sequences with no match are ignored, so [`Recovery::sequences`] counts those with one.
///
/// # Panics
///
/// When `scores.len() != sequences.len() * length`, a sequence is not `length` long, or as
/// [`pwm_matches`] and [`motif_recovery`] do.
///
/// ```
/// use sepfc::recovery::{Sign, motif_enrichment};
/// use sepfc::simulate::Motif;
/// let p = |b: usize| { let mut c = [0.01; 4]; c[b] = 0.97; c };
/// let motif = Motif { id: "x".into(), name: "GATA".into(), pwm: vec![p(2), p(0), p(3), p(0)] };
/// let sequences = [b"CCGATACC".to_vec(), b"CCCCCCCC".to_vec()];
/// let scores = [0., 0., 1., 1., 1., 1., 0., 0., /* no match: ignored */ 9., 9., 9., 9., 9., 9., 9., 9.];
/// let r = motif_enrichment(&scores, 8, &sequences, &motif, 0.8, Sign::Positive);
/// assert_eq!((r.sequences, r.auroc, r.mass_fraction), (1, Some(1.0), 1.0));
/// ```
pub fn motif_enrichment(
    scores: &[f32],
    length: usize,
    sequences: &[Vec<u8>],
    motif: &Motif,
    threshold: f64,
    sign: Sign,
) -> Recovery {
    assert_eq!(
        scores.len(),
        sequences.len() * length,
        "scores must be (N, L) = ({}, {length}) for {} sequences, got {} values",
        sequences.len(),
        sequences.len(),
        scores.len()
    );
    let sites: Vec<Vec<Site>> = sequences
        .iter()
        .enumerate()
        .map(|(n, seq)| {
            assert_eq!(
                seq.len(),
                length,
                "sequence {n} has {} bases, not the length {length} of the scores",
                seq.len()
            );
            pwm_matches(seq, motif, threshold)
        })
        .collect();
    motif_recovery(scores, length, &sites, sign)
}

/// The sites of tal_gata_sim's ground truth for one sequence: `start..start + planted.len()`
/// for each embedding, in the embeddings' order.
///
/// ```
/// use sepfc::data::simdata::Embedding;
/// use sepfc::recovery::{Site, sites_from_embeddings};
/// let e: Embedding = "pos-120_GATA_disc1-GCAGATAAGA".parse().unwrap();
/// assert_eq!(sites_from_embeddings(&[e]), [Site { start: 120, end: 130 }]);
/// ```
pub fn sites_from_embeddings(embeddings: &[Embedding]) -> Vec<Site> {
    embeddings
        .iter()
        .map(|e| Site {
            start: e.start,
            end: e.end(),
        })
        .collect()
}

/// [`sites_from_embeddings`] keeping only the embeddings whose motif name starts with
/// `prefix` (case-sensitive; `"GATA"` keeps `GATA_disc1`, `"TAL1"` keeps `TAL1_known1`).
///
/// ```
/// use sepfc::data::simdata::Embedding;
/// use sepfc::recovery::{Site, sites_from_embeddings_matching};
/// let e: Vec<Embedding> = ["pos-17_GATA_disc1-CCAGATAAGA", "pos-139_TAL1_known1-GGCGCCAGATGTTTAC"]
///     .iter().map(|s| s.parse().unwrap()).collect();
/// assert_eq!(sites_from_embeddings_matching(&e, "TAL1"), [Site { start: 139, end: 155 }]);
/// ```
pub fn sites_from_embeddings_matching(embeddings: &[Embedding], prefix: &str) -> Vec<Site> {
    embeddings
        .iter()
        .filter(|e| e.motif.starts_with(prefix))
        .map(|e| Site {
            start: e.start,
            end: e.end(),
        })
        .collect()
}
