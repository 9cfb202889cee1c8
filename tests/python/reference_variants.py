"""Variant scores written independently of sepfc, for tests/assay_interop.rs: the VCF read by
pysam, the genome by pyfaidx, the REF and ALT windows built by docs/contract.md's rule, and the
logits computed by reference_model.py (NumPy, float64).

    reference_variants.py WEIGHTS GENOME VCF OUT_TSV [--rc-average]

writes the rows sepfc variants should write (same header, probabilities and logit differences
at full precision) for every ALT allele that is bases; symbolic, breakend, '*' and missing ALTs
and alleles whose windows leave the chromosome are left out.
"""

import sys

import numpy as np
import pyfaidx
import pysam

import reference_model as rm

COMPLEMENT = str.maketrans("ACGTacgtNn", "TGCAtgcaNn")


def windows(genome, chrom, pos, ref, alt, width):
    """(ref_window, alt_window) or None when either leaves the chromosome."""
    length = len(genome[chrom])
    first = pos - 1  # 0-based first REF base
    start = first - width // 2
    if start < 0:
        return None
    left = str(genome[chrom][start:first])
    # the ALT window: left flank, ALT, then the bases after REF, cut to `width`
    need_right = max(0, width - len(left) - len(alt))
    right_from = first + len(ref)
    if start + width > length or right_from + need_right > length:
        return None
    ref_window = str(genome[chrom][start : start + width])
    right = str(genome[chrom][right_from : right_from + need_right])
    alt_window = (left + alt + right)[:width]
    assert str(genome[chrom][first : first + len(ref)]).upper() == ref.upper(), (chrom, pos)
    return ref_window, alt_window


def main(weights, genome_path, vcf_path, out, *flags):
    rc_average = "--rc-average" in flags
    layers, width, tensors, _ = rm.load_weights(weights)
    genome = pyfaidx.Fasta(genome_path, sequence_always_upper=False)
    rows, ref_windows, alt_windows = [], [], []
    for record in pysam.VariantFile(vcf_path):
        for alt in record.alts or ():
            if alt.startswith("<") or "[" in alt or "]" in alt or alt in ("*", "."):
                continue
            pair = windows(genome, record.chrom, record.pos, record.ref, alt, width)
            if pair is None:
                continue
            rows.append((record.chrom, record.pos, record.id or ".", record.ref, alt))
            ref_windows.append(pair[0])
            alt_windows.append(pair[1])

    def logits(seqs):
        return rm.logits(layers, tensors, rm.one_hot(seqs, width).astype(np.float64))

    strands = [(ref_windows, alt_windows)]
    if rc_average:
        reverse = [[s.translate(COMPLEMENT)[::-1] for s in w] for w in (ref_windows, alt_windows)]
        strands.append(tuple(reverse))
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))
    p_ref = np.mean([sigmoid(logits(r)) for r, _ in strands], axis=0)
    p_alt = np.mean([sigmoid(logits(a)) for _, a in strands], axis=0)
    diff = np.mean([logits(a) - logits(r) for r, a in strands], axis=0)
    with open(out, "w") as f:
        for i, columns in enumerate(rows):
            values = []
            for t in range(p_ref.shape[1]):
                values += [p_ref[i, t], p_alt[i, t], diff[i, t]]
            f.write("\t".join([str(c) for c in columns] + [repr(float(v)) for v in values]) + "\n")
    print(f"wrote {len(rows)} rows to {out}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:])
