//! Ranking metrics of binary predictions: auROC and auPRC (average precision).

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

/// Area under the precision-recall curve as average precision: the sum over score thresholds,
/// from high to low, of precision times the gain in recall; tied scores enter together. `None`
/// when there is no positive.
///
/// ```
/// use sepfc::metrics::auprc;
/// assert_eq!(auprc(&[0.9, 0.1, 0.8, 0.3], &[true, false, true, false]), Some(1.0));
/// // the positive ranks second: precision 1/2 at recall 1
/// assert_eq!(auprc(&[0.9, 0.8], &[false, true]), Some(0.5));
/// ```
pub fn auprc(scores: &[f32], labels: &[bool]) -> Option<f64> {
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut true_pos, mut seen, mut area) = (0usize, 0usize, 0.0);
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let new_pos = order[start..end].iter().filter(|&&i| labels[i]).count();
        true_pos += new_pos;
        seen += end - start;
        area += (new_pos as f64 / positives as f64) * (true_pos as f64 / seen as f64);
        start = end;
    }
    Some(area)
}

/// auROC and auPRC of one task over the examples whose label is present (not NaN);
/// labels >= 0.5 count as positive.
pub fn task_metrics(scores: &[f32], labels: &[f32]) -> (Option<f64>, Option<f64>) {
    let (s, l): (Vec<f32>, Vec<bool>) = scores
        .iter()
        .zip(labels)
        .filter(|(_, y)| !y.is_nan())
        .map(|(&s, &y)| (s, y >= 0.5))
        .unzip();
    (auroc(&s, &l), auprc(&s, &l))
}

/// Pearson's correlation of `x` and `y` (`None` with fewer than two pairs or no variation in
/// either).
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mean = |v: &[f64]| v[..n].iter().sum::<f64>() / n as f64;
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (x[i] - mx, y[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// The ranks of `v` from 1, ties given their mean rank.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = mean_rank;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman's rank correlation of `x` and `y`: Pearson's of their ranks, ties at their mean
/// rank (`None` as for [`pearson`]).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&ranks(x), &ranks(y))
}

/// Pearson and Spearman correlations of one task's predictions with its targets, over the
/// examples whose target is present (not NaN).
pub fn regression_metrics(predictions: &[f32], targets: &[f32]) -> (Option<f64>, Option<f64>) {
    let (p, t): (Vec<f64>, Vec<f64>) = predictions
        .iter()
        .zip(targets)
        .filter(|(_, y)| !y.is_nan())
        .map(|(&p, &y)| (f64::from(p), f64::from(y)))
        .unzip();
    (pearson(&p, &t), spearman(&p, &t))
}

#[cfg(test)]
mod tests {
    use super::{auprc, auroc, pearson, spearman, task_metrics};

    #[test]
    fn correlations_of_hand_worked_cases() {
        // y = 2x + 1: r = 1; reversed: -1
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 5.0, 7.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[7.0, 5.0, 3.0]).unwrap() + 1.0).abs() < 1e-12);
        // x = (1, 2, 3, 4), y = (1, 3, 2, 4): r = 0.8 by hand (sxy 4, sxx = syy = 5)
        assert!(
            (pearson(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap() - 0.8).abs() < 1e-12
        );
        assert_eq!(pearson(&[1.0, 1.0], &[2.0, 3.0]), None);
        // monotone but not linear: Spearman 1; ties take their mean rank (1.5, 1.5, 3)
        assert!((spearman(&[1.0, 2.0, 10.0], &[1.0, 4.0, 9.0]).unwrap() - 1.0).abs() < 1e-12);
        let tied = spearman(&[1.0, 1.0, 2.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!((tied - 0.75f64.sqrt()).abs() < 1e-12, "{tied}");
    }

    #[test]
    fn auprc_of_hand_worked_cases() {
        // ranks: + - + -> precision 1 at recall 1/2, 2/3 at recall 1: (1 + 2/3) / 2
        let ap = auprc(&[0.9, 0.8, 0.7], &[true, false, true]).unwrap();
        assert!((ap - 5.0 / 6.0).abs() < 1e-12, "{ap}");
        // a tie of one positive and one negative at the top: precision 1/2 at recall 1
        assert_eq!(auprc(&[0.5, 0.5, 0.1], &[true, false, false]), Some(0.5));
        assert_eq!(auprc(&[0.5, 0.4], &[false, false]), None);
    }

    #[test]
    fn task_metrics_skip_missing_labels() {
        let (roc, pr) = task_metrics(&[0.9, 0.2, 0.8, 0.1], &[1.0, f32::NAN, 1.0, 0.0]);
        assert_eq!(roc, Some(1.0));
        assert_eq!(pr, Some(1.0));
    }

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
