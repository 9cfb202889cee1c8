"""Regression targets, losses and correlations computed independently of sepfc, for
tests/assay_interop.rs: bigWig means by pyBigWig and NumPy, predictions by reference_model.py,
correlations by SciPy.

    reference_signal.py make-bigwig FAI OUT.bw SEED
        writes a bigWig with pyBigWig over the chromosomes of a .fai: runs of 1 to 40 bases of
        one value (gamma-distributed), with gaps that hold no value
    reference_signal.py score WEIGHTS BIGWIG WINDOWS BINS LOSS OUT.json
        WINDOWS: id, chrom, start, end, sequence per line (tab-separated). Writes the windows'
        targets (bin means, bases without a value counted as 0) and, per task, the loss (mse:
        mean (z - t)^2; poisson: mean exp(z) - t z) and the Pearson and Spearman correlations
        of the predictions (z, or exp(z) for poisson) with the targets; and the predictions.
"""

import json
import sys

import numpy as np
import pyBigWig
import scipy.stats

import reference_model as rm


def make_bigwig(fai, out, seed):
    rng = np.random.default_rng(int(seed))
    chroms = []
    with open(fai) as f:
        for line in f:
            name, length = line.split("\t")[:2]
            chroms.append((name, int(length)))
    bw = pyBigWig.open(out, "w")
    bw.addHeader(chroms)
    for name, length in chroms:
        starts, ends, values = [], [], []
        at = 0
        while at < length:
            run = int(rng.integers(1, 41))
            end = min(at + run, length)
            if rng.random() > 0.2:  # a fifth of the runs hold no value
                starts.append(at)
                ends.append(end)
                values.append(float(rng.gamma(2.0, 1.5)))
            at = end
        bw.addEntries([name] * len(starts), starts, ends=ends, values=values)
    bw.close()


def score(weights, bigwig, windows, bins, loss, out):
    bins = int(bins)
    layers, width, tensors, _ = rm.load_weights(weights)
    bw = pyBigWig.open(bigwig)
    seqs, targets = [], []
    with open(windows) as f:
        for line in f:
            _, chrom, start, end, seq = line.rstrip("\n").split("\t")
            values = np.nan_to_num(bw.values(chrom, int(start), int(end), numpy=True))
            targets.append(values.reshape(bins, -1).mean(axis=1))
            seqs.append(seq)
    t = np.array(targets, dtype=np.float64)
    z = rm.logits(layers, tensors, rm.one_hot(seqs, width))
    if loss == "mse":
        per_entry, predicted = (z - t) ** 2, z
    else:
        per_entry, predicted = np.exp(z) - t * z, np.exp(z)
    tasks = []
    for k in range(t.shape[1]):
        tasks.append(
            {
                "loss": float(per_entry[:, k].mean()),
                "pearson": float(scipy.stats.pearsonr(predicted[:, k], t[:, k]).statistic),
                "spearman": float(scipy.stats.spearmanr(predicted[:, k], t[:, k]).statistic),
            }
        )
    with open(out, "w") as f:
        json.dump({"targets": t.tolist(), "predictions": predicted.tolist(), "tasks": tasks}, f)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"make-bigwig": make_bigwig, "score": score}[command](*args)
