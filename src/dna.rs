//! DNA as model input: one-hot encoding (docs/contract.md) and reverse complements.

/// Channel of a base in one-hot input (A, C, G, T; lower case the same), or `None` for N and
/// any other character, which encode as all zeros.
pub fn channel(base: u8) -> Option<usize> {
    match base.to_ascii_uppercase() {
        b'A' => Some(0),
        b'C' => Some(1),
        b'G' => Some(2),
        b'T' => Some(3),
        _ => None,
    }
}

/// Appends the one-hot encoding of `seq`, channels-first `(4, len)`, to `out`.
///
/// ```
/// let mut x = Vec::new();
/// sepfc::dna::one_hot_into(b"AcN", &mut x);
/// assert_eq!(x, [1., 0., 0.,  0., 1., 0.,  0., 0., 0.,  0., 0., 0.]);
/// ```
pub fn one_hot_into(seq: &[u8], out: &mut Vec<f32>) {
    let start = out.len();
    out.resize(start + 4 * seq.len(), 0.0);
    for (i, &b) in seq.iter().enumerate() {
        if let Some(c) = channel(b) {
            out[start + c * seq.len() + i] = 1.0;
        }
    }
}

/// The reverse complement, keeping case; characters other than ACGT stay as they are.
///
/// ```
/// assert_eq!(sepfc::dna::reverse_complement(b"AACgN"), b"NcGTT".to_vec());
/// ```
pub fn reverse_complement(seq: &[u8]) -> Vec<u8> {
    seq.iter()
        .rev()
        .map(|&b| match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            b'T' => b'A',
            b'a' => b't',
            b'c' => b'g',
            b'g' => b'c',
            b't' => b'a',
            other => other,
        })
        .collect()
}
