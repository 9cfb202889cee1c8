#!/usr/bin/env python3
"""DeepLIFT (rescale rule) in NumPy, float64, for the sepfc model of docs/contract.md: an
implementation independent of sepfc's (the forward ops are reference_model.py's, the rules are
written here from DeepLIFT's definitions and captum's max-pooling rule).

    reference_deeplift.py WEIGHTS SEQS REFS TASK OUT
        SEQS: one input sequence per line. REFS: `zeros` for one all-zero reference per
        sequence, or a file of reference sequences, R per input sequence in input order
        (R = its lines / SEQS's lines). Writes OUT: per input sequence one line of 4 * L
        tab-separated hypothetical contributions (channel-major: A at every position, then C,
        ...), averaged over its references, then a tab and `logit - mean reference logit` of
        task TASK.

Each (input, reference) pair runs forward through the layers one op at a time, keeping every
op's input and output for both; the backward pass then carries multipliers: linear ops
(convolutions, the separable and dense layers) by their transposes, relu and sigmoid by
`dy * (y - y_ref) / (x - x_ref)` (the derivative where |x - x_ref| < 1e-10), max pooling by
captum's rule (each window's `max(y, y_ref) - y_ref` to the input's first maximum and
`y - max(y, y_ref)` to the reference's, over `x - x_ref`; the ordinary gradient where
|x - x_ref| < 1e-10).

Needs Python >= 3.11, numpy and safetensors.
"""

import sys

import numpy as np

import reference_model as rm

EPS = 1e-10


def forward_ops(layers, t, x):
    """The ops of the model on x (1, 4, L), float64: a list of (kind, info, input, output)."""
    ops = []
    h = x
    for i, layer in enumerate(layers):
        kind = layer["type"]
        act = layer.get("activation", "none")
        if kind in ("conv1d", "revcomp_conv1d"):
            w, b = t[f"layers.{i}.weight"], t[f"layers.{i}.bias"]
            if kind == "revcomp_conv1d":
                w, b = rm.revcomp_expand(w, b)
            left, right = rm.conv_padding(layer)
            dilation = layer.get("dilation", 1)
            y = rm.conv1d(h, w, b, left, right, dilation)
            ops.append(("conv", (w, left, right, dilation), h, y))
            h = y
        elif kind == "maxpool1d":
            pool = layer["pool_size"]
            stride = layer.get("stride", pool)
            y = rm.maxpool1d(h, pool, stride)
            ops.append(("pool", (pool, stride), h, y))
            h = y
        elif kind == "separable_fc":
            _, c, length = h.shape
            pos, chan = t[f"layers.{i}.pos"], t[f"layers.{i}.chan"]
            pos = rm.mirror(pos, length) if layer.get("symmetric", False) else pos
            chan = rm.mirror(chan, c) if layer.get("tie_rc_channels", False) else chan
            y = np.einsum("ul,uc,ncl->nu", pos, chan, h)
            ops.append(("separable", (pos, chan), h, y))
            h = y
        elif kind == "dense":
            w, b = t[f"layers.{i}.weight"], t[f"layers.{i}.bias"]
            y = rm.dense(h, w, b)
            ops.append(("dense", w, h, y))
            h = y
        elif kind == "dropout":
            continue
        else:
            raise ValueError(f"layer {i}: unknown type {kind!r}")
        if act != "none" and kind != "maxpool1d":
            y = rm.activate(h, act)
            ops.append(("act", act, h, y))
            h = y
    return ops


def divided(received, delta, fallback):
    """received / delta, or fallback where |delta| < EPS."""
    small = np.abs(delta) < EPS
    safe = np.where(small, 1.0, delta)
    return np.where(small, fallback, received / safe)


def back(kind, info, x, xr, y, yr, g):
    """The multipliers of an op's input from those of its output, for input x / reference xr."""
    if kind == "conv":
        w, left, right, dilation = info
        n, c, length = x.shape
        out_len = g.shape[2]
        dpad = np.zeros((n, c, length + left + right))
        for tap in range(w.shape[2]):
            start = tap * dilation
            dpad[:, :, start : start + out_len] += np.einsum("fc,nfl->ncl", w[:, :, tap], g)
        return dpad[:, :, left : left + length]
    if kind == "act":
        if info == "relu":
            slope = (x > 0).astype(np.float64)
        else:
            slope = y * (1.0 - y)
        return g * divided(y - yr, x - xr, slope)
    if kind == "pool":
        pool, stride = info
        received = np.zeros_like(x)
        gradient = np.zeros_like(x)
        n, c, _ = x.shape
        for j in range(g.shape[2]):
            window = slice(j * stride, j * stride + pool)
            at_x = j * stride + np.argmax(x[:, :, window], axis=2)  # first maximum
            at_r = j * stride + np.argmax(xr[:, :, window], axis=2)
            top = np.maximum(y[:, :, j], yr[:, :, j])
            for a in range(n):
                for b in range(c):
                    gj = g[a, b, j]
                    received[a, b, at_x[a, b]] += gj * (top[a, b] - yr[a, b, j])
                    received[a, b, at_r[a, b]] += gj * (y[a, b, j] - top[a, b])
                    gradient[a, b, at_x[a, b]] += gj
        return divided(received, x - xr, gradient)
    if kind == "separable":
        pos, chan = info
        return np.einsum("nu,ul,uc->ncl", g, pos, chan)
    if kind == "dense":
        return (g @ info).reshape(x.shape)
    raise ValueError(kind)


def multipliers(layers, t, x, r, task):
    """DeepLIFT's multipliers (4, L) of logit `task` for input x against reference r, and the
    logit difference."""
    ops_x = forward_ops(layers, t, x[None])
    ops_r = forward_ops(layers, t, r[None])
    out_x, out_r = ops_x[-1][3], ops_r[-1][3]
    g = np.zeros_like(out_x)
    g[0, task] = 1.0
    for (kind, info, xi, yi), (_, _, xr, yr) in zip(reversed(ops_x), reversed(ops_r)):
        g = back(kind, info, xi, xr, yi, yr, g)
    return g[0], out_x[0, task] - out_r[0, task]


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    weights, seqs_path, refs_path, task, out = argv
    task = int(task)
    layers, length, tensors, _ = rm.load_weights(weights)
    t = {name: v.astype(np.float64) for name, v in tensors.items()}
    seqs = rm.read_seqs(seqs_path)
    x = rm.one_hot(seqs, length).astype(np.float64)
    if refs_path == "zeros":
        refs = np.zeros((len(seqs), 1, 4, length))
    else:
        ref_seqs = rm.read_seqs(refs_path)
        per = len(ref_seqs) // len(seqs)
        assert per * len(seqs) == len(ref_seqs), "REFS must hold R references per sequence"
        refs = rm.one_hot(ref_seqs, length).astype(np.float64).reshape(len(seqs), per, 4, length)
    lines = []
    for i in range(len(seqs)):
        hyp = np.zeros((4, length))
        delta = 0.0
        for r in refs[i]:
            m, d = multipliers(layers, t, x[i], r, task)
            hyp += m - (r * m).sum(axis=0, keepdims=True)
            delta += d
        hyp /= len(refs[i])
        delta /= len(refs[i])
        lines.append("\t".join(f"{v:.10g}" for v in hyp.reshape(-1)) + f"\t{delta:.10g}")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
