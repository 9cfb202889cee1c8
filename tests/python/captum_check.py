#!/usr/bin/env python3
"""Checks reference_deeplift.py against captum's DeepLift and DeepLiftShap on PyTorch (run by
hand: torch and captum are too large for CI, which checks sepfc against reference_deeplift.py).

    captum_check.py WEIGHTS SEQS REFS_PER_SEQ SEED

Builds a PyTorch model with the weights of a sepfc weights file (revcomp filters expanded, the
separable layer as a module of its own, each activation and pooling a module of its own, as
captum needs), and for the last task compares, per sequence and position:
  - captum DeepLift with an all-zero baseline (attributions summed over channels) with
    reference_deeplift.py's hypothetical contributions times the input;
  - captum DeepLiftShap with REFS_PER_SEQ dinucleotide shuffles of the sequence as baselines
    (shuffled here with numpy, seed SEED) with reference_deeplift.py against the same shuffles,
    at positions that are not N.
Prints the largest differences, and captum's own summation-to-delta gap. Needs torch, captum,
numpy, safetensors.

Two things about captum (0.9) the comparison has to know:
  - A nonlinearity whose output tensor is itself the input of the next nonlinearity (relu
    straight into max pooling) does not receive that module's rescaled gradient through the
    chained backward hooks; an `x + 0` module after every activation (SEPARATE) restores
    DeepLIFT's chain rule, and then captum and reference_deeplift.py agree to ~1e-17.
  - captum's max-pooling rule puts each window's share back with max_unpool, which writes
    rather than adds: where windows overlap (stride < pool size) and two share a maximum, one
    share is lost and captum's attributions no longer add up to the logit difference (its
    convergence delta shows it). sepfc and reference_deeplift.py add the shares.
"""

import sys

import numpy as np
import torch
from captum.attr import DeepLift, DeepLiftShap

import reference_deeplift as rd
import reference_model as rm


class Separable(torch.nn.Module):
    def __init__(self, pos, chan):
        super().__init__()
        self.pos = torch.nn.Parameter(torch.tensor(pos), requires_grad=False)
        self.chan = torch.nn.Parameter(torch.tensor(chan), requires_grad=False)

    def forward(self, x):
        return torch.einsum("ul,uc,ncl->nu", self.pos, self.chan, x)


class Separate(torch.nn.Module):
    """x + 0: keeps a nonlinearity's output from being the next nonlinearity's input tensor
    itself (see the module's documentation)."""

    def forward(self, x):
        return x + 0.0


class Flatten(torch.nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0], -1)


SEPARATE = True


def activation(name):
    return {"relu": torch.nn.ReLU(), "sigmoid": torch.nn.Sigmoid()}.get(name)


def torch_model(layers, tensors, length):
    modules = []
    shape = (4, length)
    t = {k: v.astype(np.float64) for k, v in tensors.items()}
    for i, layer in enumerate(layers):
        kind = layer["type"]
        if kind in ("conv1d", "revcomp_conv1d"):
            w, b = t[f"layers.{i}.weight"], t[f"layers.{i}.bias"]
            if kind == "revcomp_conv1d":
                w, b = rm.revcomp_expand(w, b)
            left, right = rm.conv_padding(layer)
            dilation = layer.get("dilation", 1)
            modules.append(torch.nn.ConstantPad1d((left, right), 0.0))
            conv = torch.nn.Conv1d(w.shape[1], w.shape[0], w.shape[2], dilation=dilation)
            conv.weight.data = torch.tensor(w)
            conv.bias.data = torch.tensor(b)
            modules.append(conv)
            shape = (w.shape[0], shape[1] + left + right - (w.shape[2] - 1) * dilation)
        elif kind == "maxpool1d":
            pool = layer["pool_size"]
            stride = layer.get("stride", pool)
            modules.append(torch.nn.MaxPool1d(pool, stride))
            shape = (shape[0], (shape[1] - pool) // stride + 1)
        elif kind == "separable_fc":
            pos, chan = t[f"layers.{i}.pos"], t[f"layers.{i}.chan"]
            pos = rm.mirror(pos, shape[1]) if layer.get("symmetric", False) else pos
            chan = rm.mirror(chan, shape[0]) if layer.get("tie_rc_channels", False) else chan
            modules.append(Separable(pos, chan))
        elif kind == "dense":
            w, b = t[f"layers.{i}.weight"], t[f"layers.{i}.bias"]
            modules.append(Flatten())
            dense = torch.nn.Linear(w.shape[1], w.shape[0])
            dense.weight.data = torch.tensor(w)
            dense.bias.data = torch.tensor(b)
            modules.append(dense)
        if kind != "maxpool1d" and activation(layer.get("activation", "none")) is not None:
            modules.append(activation(layer["activation"]))
            if SEPARATE:
                modules.append(Separate())
    return torch.nn.Sequential(*modules).double().eval()


def shuffles(seq, count, rng):
    """Dinucleotide shuffles by numpy (the method of the field's tools, kept last exits)."""
    tokens = np.frombuffer(seq.encode(), dtype=np.uint8)
    out = []
    for _ in range(count):
        nexts = {}
        for a, b in zip(tokens[:-1], tokens[1:]):
            nexts.setdefault(a, []).append(b)
        for k in nexts:
            keep = nexts[k][-1]
            rest = nexts[k][:-1]
            rng.shuffle(rest)
            nexts[k] = rest + [keep]
        at, result, used = tokens[0], [tokens[0]], {k: 0 for k in nexts}
        for _ in range(len(tokens) - 1):
            nxt = nexts[at][used[at]]
            used[at] += 1
            result.append(nxt)
            at = nxt
        out.append(bytes(result).decode())
    return out


def main(argv):
    weights, seqs_path, per, seed = argv
    per = int(per)
    layers, length, tensors, _ = rm.load_weights(weights)
    t = {k: v.astype(np.float64) for k, v in tensors.items()}
    seqs = [s.upper() for s in rm.read_seqs(seqs_path)]
    task = None
    model = torch_model(layers, tensors, length)
    x = rm.one_hot(seqs, length).astype(np.float64)
    xt = torch.tensor(x, requires_grad=True)
    task = model(xt).shape[1] - 1
    # DeepLift, all-zero baseline
    captum, gap = DeepLift(model).attribute(
        xt, baselines=torch.zeros_like(xt), target=task, return_convergence_delta=True
    )
    captum = captum.detach().numpy().sum(axis=1)
    print(f"captum's own summation-to-delta gap: {np.abs(gap.detach().numpy()).max():.3e}")
    ours = np.stack([rd.multipliers(layers, t, x[i], np.zeros_like(x[i]), task)[0] * x[i] for i in range(len(seqs))]).sum(axis=1)
    print(f"DeepLift (zero baseline): largest |captum - reference_deeplift| = {np.abs(captum - ours).max():.3e} (scores up to {np.abs(ours).max():.3g})")
    # DeepLiftShap, dinucleotide shuffles
    rng = np.random.default_rng(int(seed))
    worst, scale = 0.0, 0.0
    for i, s in enumerate(seqs):
        refs = rm.one_hot(shuffles(s, per, rng), length).astype(np.float64)
        xi = torch.tensor(x[i : i + 1], requires_grad=True)
        captum = DeepLiftShap(model).attribute(xi, baselines=torch.tensor(refs), target=task)
        captum = captum.detach().numpy()[0].sum(axis=0)
        hyp = np.zeros((4, length))
        for r in refs:
            m, _ = rd.multipliers(layers, t, x[i], r, task)
            hyp += (m - (r * m).sum(axis=0, keepdims=True)) / per
        ours = (x[i] * hyp).sum(axis=0)
        base = x[i].sum(axis=0) > 0
        worst = max(worst, np.abs(captum - ours)[base].max())
        scale = max(scale, np.abs(ours).max())
    print(f"DeepLiftShap ({per} shuffles): largest |captum - reference_deeplift| = {worst:.3e} (scores up to {scale:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
