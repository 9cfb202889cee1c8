//! Statistics for the experiment reports: a five-number-plus-sd [`Summary`] of a metric over
//! seeds or hyperparameter draws, and the Wilcoxon signed-rank test
//! ([`wilcoxon_signed_rank`]) of paired results, such as a separable model against its dense
//! twin trained on the same seed.
//!
//! The test replicates the defaults of `scipy.stats.wilcoxon(x, y)` in scipy 1.17.1
//! (`zero_method="wilcox"`, `correction=False`, `alternative="two-sided"`, `method="auto"`);
//! the integration tests compare it with values that version computed.
//!
//! ```
//! use sepfc::stats::{summarize, wilcoxon_signed_rank, WilcoxonMethod};
//!
//! // held-out auROC of five seeds, each seed training both models
//! let separable = [0.95, 0.93, 0.96, 0.94, 0.97];
//! let dense = [0.90, 0.92, 0.94, 0.91, 0.89];
//!
//! let s = summarize(&separable).unwrap();
//! assert_eq!((s.n, s.min, s.median, s.max), (5, 0.93, 0.95, 0.97));
//! assert!((s.mean - 0.95).abs() < 1e-12);
//!
//! // separable wins on every seed: W+ = 1 + 2 + 3 + 4 + 5 = 15, W- = 0, and with five pairs
//! // the exact two-sided p-value is 2 / 2^5
//! let w = wilcoxon_signed_rank(&separable, &dense).unwrap();
//! assert_eq!((w.n, w.w_plus, w.w_minus, w.statistic), (5, 15.0, 0.0, 0.0));
//! assert_eq!(w.method, WilcoxonMethod::Exact);
//! assert!((w.p_value - 0.0625).abs() < 1e-15);
//! ```

/// Descriptive statistics of a sample, from [`summarize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (denominator `n - 1`); 0 when `n < 2`.
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Median: the middle value, or the mean of the two middle values when `n` is even.
    pub median: f64,
    /// Largest value.
    pub max: f64,
}

/// Count, mean, sample standard deviation, minimum, median and maximum of `values`.
///
/// `None` when `values` is empty or holds any non-finite value (NaN or an infinity): a metric
/// that failed to compute should be noticed rather than silently skipped or turned into a NaN
/// mean. Filter such values out first if skipping them is what is wanted.
///
/// ```
/// use sepfc::stats::summarize;
/// let s = summarize(&[4.0, 1.0, 3.0, 2.0]).unwrap();
/// assert_eq!((s.n, s.mean, s.min, s.median, s.max), (4, 2.5, 1.0, 2.5, 4.0));
/// assert!((s.sd - 1.2909944487358056).abs() < 1e-15);
/// assert_eq!(summarize(&[]), None);
/// assert_eq!(summarize(&[1.0, f64::NAN]), None);
/// ```
pub fn summarize(values: &[f64]) -> Option<Summary> {
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n < 2 {
        0.0
    } else {
        let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        (squares / (n - 1) as f64).sqrt()
    };
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    Some(Summary {
        n,
        mean,
        sd,
        min: sorted[0],
        median,
        max: sorted[n - 1],
    })
}

/// How [`wilcoxon_signed_rank`] computed its p-value; the choice follows scipy's
/// `method="auto"`, where the number of pairs counts zero differences too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WilcoxonMethod {
    /// The exact null distribution of W+ (every subset of the ranks 1..=n equally likely to
    /// be the positive ones), by dynamic programming: used when there are at most 50 pairs, no
    /// zero difference and no tied |difference|.
    Exact,
    /// The exact distribution of W+ over all 2^n sign flips of the differences, with the tied
    /// (average) ranks the data has: used when there are at most 13 pairs and some zero
    /// difference or tie. scipy reaches the same numbers with `stats.PermutationMethod()`,
    /// which enumerates every sign flip when 2^pairs <= 9999 resamples.
    Permutation,
    /// The normal approximation of W+, mean n(n+1)/4 and variance
    /// n(n+1)(2n+1)/24 - sum(t^3 - t)/48 over the tie groups of size t, with no continuity
    /// correction: used otherwise (more than 50 pairs, or 14 to 50 pairs with a zero
    /// difference or a tie).
    Normal,
}

/// Result of [`wilcoxon_signed_rank`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WilcoxonResult {
    /// Number of non-zero differences, the ones ranked.
    pub n: usize,
    /// Sum of the ranks of |x - y| over the pairs with x > y.
    pub w_plus: f64,
    /// Sum of the ranks of |x - y| over the pairs with x < y.
    pub w_minus: f64,
    /// min(W+, W-), the statistic scipy reports for the two-sided test.
    pub statistic: f64,
    /// Two-sided p-value of the null hypothesis that the differences are symmetric about 0.
    pub p_value: f64,
    /// How the p-value was computed.
    pub method: WilcoxonMethod,
}

/// Two-sided Wilcoxon signed-rank test of paired samples, on the differences `d = x - y`.
///
/// Replicates `scipy.stats.wilcoxon(x, y)` with its defaults as of scipy 1.17.1: zero
/// differences are dropped (`zero_method="wilcox"`), the remaining |d| are ranked with ties
/// given their average rank, and the p-value comes from the method [`WilcoxonMethod`]
/// describes, chosen as scipy's `method="auto"` chooses it (by the number of pairs including
/// zeros: exact for at most 50 pairs without zeros or ties; exact over sign flips for at most
/// 13 pairs with zeros or ties; otherwise the tie-corrected normal approximation without
/// continuity correction). Exact p-values are `min(1, 2 min(P(W+ <= w), P(W+ >= w)))` at the
/// observed W+ = w. Swapping `x` and `y` swaps W+ and W- and leaves the statistic and the
/// p-value unchanged.
///
/// Errors, as a message: `x` and `y` of different lengths; a difference that is not finite
/// (a NaN or infinite input); no non-zero difference (an empty input, or `x == y`
/// throughout), where the p-value is undefined (scipy returns NaN).
///
/// ```
/// use sepfc::stats::{wilcoxon_signed_rank, WilcoxonMethod};
/// // differences 1, 0, -2, 3: the zero is dropped, leaving ranks 1, 2, 3 with signs + - +
/// let w = wilcoxon_signed_rank(&[2.0, 5.0, 1.0, 7.0], &[1.0, 5.0, 3.0, 4.0]).unwrap();
/// assert_eq!((w.n, w.w_plus, w.w_minus, w.statistic), (3, 4.0, 2.0, 2.0));
/// // the zero makes scipy's "auto" enumerate the sign flips: P(W+ >= 4) = 3/8
/// assert_eq!(w.method, WilcoxonMethod::Permutation);
/// assert!((w.p_value - 0.75).abs() < 1e-15);
/// assert!(wilcoxon_signed_rank(&[1.0], &[1.0]).is_err());
/// ```
pub fn wilcoxon_signed_rank(x: &[f64], y: &[f64]) -> Result<WilcoxonResult, String> {
    if x.len() != y.len() {
        return Err(format!(
            "wilcoxon_signed_rank: paired samples differ in length ({} and {})",
            x.len(),
            y.len()
        ));
    }
    let pairs = x.len();
    let mut d = Vec::with_capacity(pairs);
    for (i, (a, b)) in x.iter().zip(y).enumerate() {
        let diff = a - b;
        if !diff.is_finite() {
            return Err(format!(
                "wilcoxon_signed_rank: pair {i} has a non-finite difference ({a} - {b} = {diff})"
            ));
        }
        if diff != 0.0 {
            d.push(diff);
        }
    }
    let n = d.len();
    if n == 0 {
        return Err(format!(
            "wilcoxon_signed_rank: no non-zero difference among {pairs} pairs, so the p-value \
             is undefined"
        ));
    }

    // Twice the average rank of each |d| (an integer), and the sizes of the tie groups.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| d[a].abs().total_cmp(&d[b].abs()));
    let mut doubled_rank = vec![0u64; n];
    let mut tie_sizes = Vec::new();
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && d[order[end]].abs() == d[order[start]].abs() {
            end += 1;
        }
        // ranks start+1 ..= end average to (start + 1 + end) / 2
        for &i in &order[start..end] {
            doubled_rank[i] = (start + 1 + end) as u64;
        }
        tie_sizes.push(end - start);
        start = end;
    }
    let doubled_w_plus: u64 = (0..n)
        .filter(|&i| d[i] > 0.0)
        .map(|i| doubled_rank[i])
        .sum();
    let doubled_total = (n * (n + 1)) as u64;
    let w_plus = doubled_w_plus as f64 / 2.0;
    let w_minus = (doubled_total - doubled_w_plus) as f64 / 2.0;

    let has_ties = tie_sizes.iter().any(|&t| t > 1);
    let has_zeros = n < pairs;
    let method = if pairs <= 50 && !has_ties && !has_zeros {
        WilcoxonMethod::Exact
    } else if pairs <= 13 {
        WilcoxonMethod::Permutation
    } else {
        WilcoxonMethod::Normal
    };
    let p_value = match method {
        // Without ties the doubled ranks are 2, 4, ..., 2n and the sign-flip distribution is
        // the classical exact one, so one routine serves both exact methods.
        WilcoxonMethod::Exact | WilcoxonMethod::Permutation => {
            sign_flip_p_value(&doubled_rank, doubled_w_plus)
        }
        WilcoxonMethod::Normal => {
            let nf = n as f64;
            let mean = nf * (nf + 1.0) / 4.0;
            let tie_term: f64 = tie_sizes
                .iter()
                .map(|&t| {
                    let t = t as f64;
                    t * t * t - t
                })
                .sum();
            let variance = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term / 48.0;
            let z = (w_plus - mean) / variance.sqrt();
            // 2 P(Z >= |z|) = erfc(|z| / sqrt 2)
            erfc(z.abs() * std::f64::consts::FRAC_1_SQRT_2).min(1.0)
        }
    };
    Ok(WilcoxonResult {
        n,
        w_plus,
        w_minus,
        statistic: w_plus.min(w_minus),
        p_value,
        method,
    })
}

/// Two-sided p-value of the doubled W+ `observed` under the distribution in which each of the
/// (doubled) ranks independently counts as positive with probability 1/2:
/// `min(1, 2 min(P(W <= observed), P(W >= observed)))`. Counts are exact integers: at most
/// 2^50 subsets, as [`wilcoxon_signed_rank`] calls it with at most 50 ranks.
fn sign_flip_p_value(doubled_ranks: &[u64], observed: u64) -> f64 {
    let total: u64 = doubled_ranks.iter().sum();
    let mut counts = vec![0u64; total as usize + 1];
    counts[0] = 1;
    let mut reach = 0usize;
    for &r in doubled_ranks {
        let r = r as usize;
        reach += r;
        for s in (r..=reach).rev() {
            counts[s] += counts[s - r];
        }
    }
    let w = observed as usize;
    let lower: u64 = counts[..=w].iter().sum();
    let upper: u64 = counts[w..].iter().sum();
    let subsets = (1u64 << doubled_ranks.len()) as f64;
    (2.0 * lower.min(upper) as f64 / subsets).min(1.0)
}

/// Complementary error function for `x >= 0`, to about 1e-13 relative accuracy: 1 - erf(x) by
/// its power series (all terms positive) below 2.5, where erfc(x) > 4e-4 keeps the
/// cancellation small, and Laplace's continued fraction, evaluated by the modified Lentz
/// method, from 2.5 on.
fn erfc(x: f64) -> f64 {
    debug_assert!(x >= 0.0);
    let two_over_sqrt_pi = std::f64::consts::FRAC_2_SQRT_PI;
    if x < 2.5 {
        // erf(x) = 2/sqrt(pi) exp(-x^2) sum_k x (2x^2)^k / (1 3 5 ... (2k+1))
        let two_x2 = 2.0 * x * x;
        let (mut term, mut sum) = (x, x);
        let mut k = 0.0;
        while term > sum * 1e-17 {
            k += 1.0;
            term *= two_x2 / (2.0 * k + 1.0);
            sum += term;
        }
        1.0 - two_over_sqrt_pi * (-x * x).exp() * sum
    } else {
        // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
        let tiny = 1e-300;
        let mut f = x;
        let (mut c, mut dd) = (x, 0.0);
        for k in 1..1000 {
            let a = k as f64 / 2.0;
            dd = x + a * dd;
            if dd.abs() < tiny {
                dd = tiny;
            }
            dd = 1.0 / dd;
            c = x + a / c;
            if c.abs() < tiny {
                c = tiny;
            }
            let delta = c * dd;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        two_over_sqrt_pi / 2.0 * (-x * x).exp() / f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erfc against scipy.special.erfc of scipy 1.17.1 (`float(erfc(x))` for each x).
    #[test]
    fn erfc_matches_scipy() {
        let reference = [
            (0.0, 1.0),
            (0.001, 0.9988716212090307),
            (0.3, 0.6713732405408726),
            (0.5, 0.4795001221869535),
            (1.0, 0.15729920705028516),
            (1.5, 0.03389485352468927),
            (2.0, 0.004677734981047266),
            (2.5, 0.00040695201744495886),
            (2.9, 4.109787809945884e-05),
            (3.0, 2.2090496998585445e-05),
            (3.5, 7.430983723414129e-07),
            (4.5, 1.9661604415428878e-10),
            (6.0, 2.1519736712498913e-17),
            (8.0, 1.1224297172982928e-29),
            (10.0, 2.0884875837625446e-45),
            (20.0, 5.395865611607901e-176),
            (26.0, 5.663192408856145e-296),
        ];
        for (x, want) in reference {
            let got = erfc(x);
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "erfc({x}) = {got:e}, scipy {want:e}"
            );
        }
        // just below and above the switch from the series to the continued fraction
        let (below, above) = (erfc(2.5 - 1e-12), erfc(2.5));
        assert!(((below - above) / above).abs() < 1e-10);
    }

    #[test]
    fn sign_flip_distribution_of_three_ranks() {
        // ranks 1, 2, 3 (doubled 2, 4, 6): W+ over the 8 subsets is 0,1,2,3,3,4,5,6
        let ranks = [2, 4, 6];
        assert_eq!(sign_flip_p_value(&ranks, 0), 2.0 / 8.0);
        assert_eq!(sign_flip_p_value(&ranks, 2), 4.0 / 8.0);
        assert_eq!(sign_flip_p_value(&ranks, 12), 2.0 / 8.0);
        assert_eq!(sign_flip_p_value(&ranks, 6), 1.0);
    }
}
