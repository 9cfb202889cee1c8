//! Ranking metrics of binary predictions.

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting one half (the Mann-Whitney statistic, with average ranks for ties).
/// `None` when either class is absent.
///
/// ```
/// use sepfc::metrics::auroc;
/// assert_eq!(auroc(&[0.9, 0.1, 0.8, 0.3], &[true, false, true, false]), Some(1.0));
/// assert_eq!(auroc(&[0.5, 0.5], &[true, false]), Some(0.5));
/// ```
pub fn auroc(scores: &[f32], labels: &[bool]) -> Option<f64> {
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // sum of the (1-based, tie-averaged) ranks of the positives
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        rank_sum += average_rank * order[start..end].iter().filter(|&&i| labels[i]).count() as f64;
        start = end;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

#[cfg(test)]
mod tests {
    use super::auroc;

    #[test]
    fn auroc_of_hand_worked_cases() {
        // one inversion out of 2 x 2 pairs
        assert_eq!(
            auroc(&[0.9, 0.35, 0.4, 0.3], &[true, true, false, false]),
            Some(0.75)
        );
        // perfectly wrong
        assert_eq!(auroc(&[0.1, 0.9], &[true, false]), Some(0.0));
        // a tie between a positive and a negative counts one half: pairs (0.7 vs 0.7) = 0.5,
        // (0.7 vs 0.1) = 1, (0.2 vs 0.7) = 0, (0.2 vs 0.1) = 1 -> 2.5 / 4
        assert_eq!(
            auroc(&[0.7, 0.2, 0.7, 0.1], &[true, true, false, false]),
            Some(0.625)
        );
    }

    #[test]
    fn auroc_needs_both_classes() {
        assert_eq!(auroc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(auroc(&[], &[]), None);
    }
}
