//! `sepfc::stats` against hand-worked values and against scipy.
//!
//! Every Wilcoxon reference below was computed with scipy 1.17.1 (numpy 2.4.6, Python 3.11) as
//! `r = scipy.stats.wilcoxon(x, y)` (all defaults: zero_method="wilcox", correction=False,
//! alternative="two-sided", method="auto") and printed as `float(r.statistic)`,
//! `float(r.pvalue)`; the x and y are the ones in each test. W+, W- and the method are not
//! reported by scipy; they were checked against an independent Python reimplementation that
//! reproduced scipy's p-values bit for bit. The tests do not run Python.

use sepfc::stats::{Summary, WilcoxonMethod, WilcoxonResult, summarize, wilcoxon_signed_rank};

fn assert_close(got: f64, want: f64, what: &str) {
    let tolerance = 1e-10 * want.abs().max(f64::MIN_POSITIVE);
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got:e}, want {want:e}"
    );
}

/// Checks a result against scipy's statistic and p-value and the expected n, W+ and method,
/// then checks that swapping the samples swaps W+ and W- and changes nothing else.
fn check(
    x: &[f64],
    y: &[f64],
    n: usize,
    w_plus: f64,
    method: WilcoxonMethod,
    statistic: f64,
    p_value: f64,
) -> WilcoxonResult {
    let r = wilcoxon_signed_rank(x, y).unwrap();
    assert_eq!(r.n, n, "n");
    assert_eq!(r.method, method, "method");
    assert_eq!(r.w_plus, w_plus, "W+");
    assert_eq!(r.w_plus + r.w_minus, (n * (n + 1)) as f64 / 2.0, "W+ + W-");
    assert_close(r.statistic, statistic, "statistic");
    assert_close(r.p_value, p_value, "p-value");

    let s = wilcoxon_signed_rank(y, x).unwrap();
    assert_eq!(
        (s.w_plus, s.w_minus),
        (r.w_minus, r.w_plus),
        "swapped W+ and W-"
    );
    assert_eq!(
        (s.n, s.statistic, s.p_value, s.method),
        (r.n, r.statistic, r.p_value, r.method),
        "swapping x and y"
    );
    r
}

// ---------------------------------------------------------------- exact distribution

#[test]
fn all_positive_five_is_exact_one_in_sixteen() {
    // d = [1, 2, 3, 4, 5]; scipy: statistic 0.0, pvalue 0.0625 (= 2 / 2^5)
    let x = [2.0, 4.0, 6.0, 8.0, 10.0];
    let y = [1.0, 2.0, 3.0, 4.0, 5.0];
    let r = check(&x, &y, 5, 15.0, WilcoxonMethod::Exact, 0.0, 0.0625);
    assert_eq!(r.w_minus, 0.0);
}

#[test]
fn mixed_signs_ten_without_ties_is_exact() {
    // d = [1.5, -0.5, 3.0, 4.5, -2.5, 1.0, 3.5, -4.0, 5.5, -0.25]
    // scipy: statistic 16.0, pvalue 0.275390625
    let x = [2.5, 1.0, 6.0, 9.5, 1.0, 4.0, 9.0, 1.5, 13.0, 5.0];
    let y = [1.0, 1.5, 3.0, 5.0, 3.5, 3.0, 5.5, 5.5, 7.5, 5.25];
    check(&x, &y, 10, 39.0, WilcoxonMethod::Exact, 16.0, 0.275390625);
}

#[test]
fn single_pair_has_p_one() {
    // d = [2]; scipy: statistic 0.0, pvalue 1.0
    check(&[3.0], &[1.0], 1, 1.0, WilcoxonMethod::Exact, 0.0, 1.0);
}

/// Pairs i = 1..=len with y = 100 + i and x = y + sign * v, v = 37 i mod 61 (distinct, 1..=60
/// for i <= 60), negative when i is a multiple of 3; v is set to 0 for i in `zeros`.
fn modular_pairs(len: usize, zeros: &[usize], negative: impl Fn(usize) -> bool) -> [Vec<f64>; 2] {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 1..=len {
        let v = if zeros.contains(&i) {
            0.0
        } else {
            ((i * 37) % 61) as f64
        };
        let sign = if negative(i) { -1.0 } else { 1.0 };
        y.push(100.0 + i as f64);
        x.push(100.0 + i as f64 + sign * v);
    }
    [x, y]
}

#[test]
fn fifty_pairs_without_ties_are_still_exact() {
    // d = [37, 13, -50, 26, 2, -39, ..., 44, 20] (see modular_pairs)
    // scipy: statistic 392.0, pvalue 0.017101069545240932
    let [x, y] = modular_pairs(50, &[], |i| i % 3 == 0);
    assert_eq!(
        &[x[0] - y[0], x[2] - y[2], x[49] - y[49]],
        &[37.0, -50.0, 20.0]
    );
    check(
        &x,
        &y,
        50,
        883.0,
        WilcoxonMethod::Exact,
        392.0,
        0.017101069545240932,
    );
}

// ---------------------------------------------------------------- sign flips with ties

#[test]
fn ten_pairs_with_ties_enumerate_sign_flips() {
    // d = [1.5, -0.5, 3.0, 4.5, -1.5, 1.0, 3.0, -3.0, 4.5, -0.25]: ties at 1.5, 3.0, 4.5
    // scipy: statistic 14.5, pvalue 0.20703125
    let x = [3.5, 1.0, 6.0, 9.5, 2.0, 4.0, 8.5, 1.5, 12.0, 5.0];
    let y = [2.0, 1.5, 3.0, 5.0, 3.5, 3.0, 5.5, 4.5, 7.5, 5.25];
    check(
        &x,
        &y,
        10,
        40.5,
        WilcoxonMethod::Permutation,
        14.5,
        0.20703125,
    );
}

#[test]
fn ten_pairs_with_a_zero_and_ties_enumerate_sign_flips() {
    // d = [1, 1, -2, 3, 3, 3, 3, 0, 5, -2]: the zero is dropped, 9 ranks remain
    // scipy: statistic 7.0, pvalue 0.06640625
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
    let y = [0.0, 1.0, 5.0, 1.0, 2.0, 3.0, 4.0, 8.0, 4.0, 12.0];
    check(
        &x,
        &y,
        9,
        38.0,
        WilcoxonMethod::Permutation,
        7.0,
        0.06640625,
    );
}

// ---------------------------------------------------------------- normal approximation

#[test]
fn fourteen_pairs_with_ties_use_the_normal_approximation() {
    // d = [1, 2, 2, 2, 4, -1, 4, 4, 1, 2, 6, 6, -7, 5]
    // scipy: statistic 16.0, pvalue 0.021327250858162967
    let x: Vec<f64> = (1..=14).map(f64::from).collect();
    let y = [
        0.0, 0.0, 1.0, 2.0, 1.0, 7.0, 3.0, 4.0, 8.0, 8.0, 5.0, 6.0, 20.0, 9.0,
    ];
    check(
        &x,
        &y,
        14,
        89.0,
        WilcoxonMethod::Normal,
        16.0,
        0.021327250858162967,
    );
}

#[test]
fn thirty_pairs_with_ties_and_zeros_use_the_normal_approximation() {
    // y = i, x = i + sign * v for i = 1..=30, v = (7 i mod 11) + 1 (many ties), v = 0 when
    // i is a multiple of 10, sign negative when i is a multiple of 4:
    // d = [8, 4, 11, -7, 3, 10, 6, -2, 9, 0, 1, -8, 4, 11, 7, -3, 10, 6, 2, 0, 5, 1, 8, -4,
    //      11, 7, 3, -10, 6, 0]
    // scipy: statistic 76.5, pvalue 0.006815191665727726
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 1..=30usize {
        let v = if i % 10 == 0 { 0 } else { (i * 7) % 11 + 1 } as f64;
        let sign = if i % 4 == 0 { -1.0 } else { 1.0 };
        y.push(i as f64);
        x.push(i as f64 + sign * v);
    }
    assert_eq!(
        &[x[0] - y[0], x[3] - y[3], x[29] - y[29]],
        &[8.0, -7.0, 0.0]
    );
    check(
        &x,
        &y,
        27,
        301.5,
        WilcoxonMethod::Normal,
        76.5,
        0.006815191665727726,
    );
}

#[test]
fn sixty_pairs_without_ties_use_the_normal_approximation() {
    // d = [37, 13, -50, 26, 2, -39, ..., 48, -24] (see modular_pairs)
    // scipy: statistic 618.0, pvalue 0.028786639322366157
    let [x, y] = modular_pairs(60, &[], |i| i % 3 == 0);
    assert_eq!(x[59] - y[59], -24.0);
    check(
        &x,
        &y,
        60,
        1212.0,
        WilcoxonMethod::Normal,
        618.0,
        0.028786639322366157,
    );
}

#[test]
fn fifty_two_pairs_with_three_zeros_use_the_normal_approximation() {
    // 49 non-zero differences, no ties, but 52 pairs: scipy's "auto" counts the zeros
    // d = [37, 13, -50, 26, 0, -39, ..., -57, 33], zeros at i = 5, 17, 40
    // scipy: statistic 409.0, pvalue 0.04294192033341364
    let [x, y] = modular_pairs(52, &[5, 17, 40], |i| i % 3 == 0);
    check(
        &x,
        &y,
        49,
        816.0,
        WilcoxonMethod::Normal,
        409.0,
        0.04294192033341364,
    );
}

#[test]
fn far_tail_of_the_normal_approximation() {
    // all 60 differences positive but the one for i = 7 (d = -15): z about 6.6
    // scipy: statistic 15.0, pvalue 3.4620901010512977e-11
    let [x, y] = modular_pairs(60, &[], |i| i == 7);
    assert_eq!(x[6] - y[6], -15.0);
    check(
        &x,
        &y,
        60,
        1815.0,
        WilcoxonMethod::Normal,
        15.0,
        3.4620901010512977e-11,
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn unequal_lengths_are_an_error() {
    let e = wilcoxon_signed_rank(&[1.0, 2.0], &[1.0]).unwrap_err();
    assert!(e.contains("length"), "{e}");
}

#[test]
fn no_non_zero_difference_is_an_error() {
    for (x, y) in [
        (vec![], vec![]),
        (vec![1.0, 2.5, -3.0], vec![1.0, 2.5, -3.0]),
    ] {
        let e = wilcoxon_signed_rank(&x, &y).unwrap_err();
        assert!(e.contains("no non-zero difference"), "{e}");
    }
}

#[test]
fn non_finite_values_are_an_error() {
    let e = wilcoxon_signed_rank(&[1.0, f64::NAN, 3.0], &[0.0, 0.0, 0.0]).unwrap_err();
    assert!(e.contains("pair 1"), "{e}");
    let e = wilcoxon_signed_rank(&[1.0, 2.0], &[0.0, f64::INFINITY]).unwrap_err();
    assert!(e.contains("pair 1"), "{e}");
    // finite inputs whose difference overflows
    assert!(wilcoxon_signed_rank(&[f64::MAX], &[-f64::MAX]).is_err());
}

// ---------------------------------------------------------------- summarize

fn assert_summary(got: Option<Summary>, want: Summary) {
    let got = got.expect("a summary");
    assert_eq!(got.n, want.n);
    assert_close(got.mean, want.mean, "mean");
    assert_close(got.sd, want.sd, "sd");
    assert_eq!(
        (got.min, got.median, got.max),
        (want.min, want.median, want.max)
    );
}

#[test]
fn summary_of_one_to_four() {
    // mean 10/4; sd = sqrt(((1.5^2 + 0.5^2) * 2) / 3) = sqrt(5/3)
    let want = Summary {
        n: 4,
        mean: 2.5,
        sd: 1.2909944487358056,
        min: 1.0,
        median: 2.5,
        max: 4.0,
    };
    assert_summary(summarize(&[1.0, 2.0, 3.0, 4.0]), want);
    // order does not matter
    assert_summary(summarize(&[3.0, 1.0, 4.0, 2.0]), want);
}

#[test]
fn summary_of_an_odd_sample() {
    // [-2, 0.5, 7, 1, 1]: mean 7.5/5 = 1.5; squared deviations 12.25, 1, 30.25, 0.25, 0.25 sum
    // to 44, sd = sqrt(44/4) = sqrt(11); sorted -2, 0.5, 1, 1, 7
    assert_summary(
        summarize(&[-2.0, 0.5, 7.0, 1.0, 1.0]),
        Summary {
            n: 5,
            mean: 1.5,
            sd: 11f64.sqrt(),
            min: -2.0,
            median: 1.0,
            max: 7.0,
        },
    );
}

#[test]
fn summary_of_one_value_has_zero_sd() {
    assert_summary(
        summarize(&[0.75]),
        Summary {
            n: 1,
            mean: 0.75,
            sd: 0.0,
            min: 0.75,
            median: 0.75,
            max: 0.75,
        },
    );
}

#[test]
fn summary_of_empty_or_non_finite_is_none() {
    assert_eq!(summarize(&[]), None);
    assert_eq!(summarize(&[1.0, f64::NAN, 2.0]), None);
    assert_eq!(summarize(&[f64::INFINITY, 2.0]), None);
    assert_eq!(summarize(&[1.0, f64::NEG_INFINITY]), None);
}
