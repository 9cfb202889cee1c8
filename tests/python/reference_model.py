#!/usr/bin/env python3
"""An independent NumPy implementation of the sepfc model (docs/contract.md), using no sepfc code.

It shows that a sepfc weights file is readable with the `safetensors` package alone and that
a weights file written by NumPy follows the same layout. Two subcommands:

    reference_model.py check WEIGHTS SEQS PREDS
        Loads weights written by sepfc, predicts the sequences in SEQS (one per line) with
        NumPy and compares with sepfc's predictions in PREDS (TSV, one row per sequence, one
        column per task, no header). Exit status 0 when all agree within
        |x - y| <= max(1e-4 * max(|x|, |y|), 1e-5), else 1 after printing the worst mismatch.

    reference_model.py write CONFIG_TOML INPUT_LENGTH SEQS OUT_WEIGHTS OUT_PREDS SEED
        Draws float32 weights uniform in +-0.5 (np.random.default_rng(SEED)) with the stored
        shapes of the config's layers, saves them as OUT_WEIGHTS with the metadata keys
        `config` (the config file's text) and `input_length`, and writes NumPy's predictions
        of SEQS to OUT_PREDS (TSV as above).

Needs Python >= 3.11 (tomllib), numpy and safetensors (`python3 -m pip install numpy safetensors`).
"""

import math
import sys
import tomllib

import numpy as np
import safetensors
import safetensors.numpy

RTOL = 1e-4
ATOL = 1e-5
INPUT_CHANNELS = 4  # one-hot A, C, G, T


# ---------------------------------------------------------------------------------------------
# Config and stored shapes


def conv_padding(layer):
    """(pad_left, pad_right) of a conv1d / revcomp_conv1d layer."""
    padding = layer.get("padding", "valid")
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = (layer["kernel_size"] - 1) * layer.get("dilation", 1)
        return total // 2, total - total // 2  # the smaller half on the left, like PyTorch
    raise ValueError(f"unknown padding {padding!r}")


def stored_shapes(layers, input_length):
    """{tensor name: shape} of every parameter, found by walking the layers from (4, L)."""
    shapes = {}
    channels, length, flat = INPUT_CHANNELS, input_length, None
    for i, layer in enumerate(layers):
        kind = layer["type"]
        if kind in ("conv1d", "revcomp_conv1d"):
            assert flat is None, f"layer {i} ({kind}) needs (channels, length) input"
            f, k, d = layer["filters"], layer["kernel_size"], layer.get("dilation", 1)
            left, right = conv_padding(layer)
            shapes[f"layers.{i}.weight"] = (f, channels, k)
            shapes[f"layers.{i}.bias"] = (f,)
            length = length + left + right - (k - 1) * d
            channels = 2 * f if kind == "revcomp_conv1d" else f
            assert length > 0, f"layer {i} ({kind}): input shorter than the kernel's span"
        elif kind == "maxpool1d":
            assert flat is None, f"layer {i} (maxpool1d) needs (channels, length) input"
            pool = layer["pool_size"]
            stride = layer.get("stride", pool)
            length = (length - pool) // stride + 1
        elif kind == "separable_fc":
            assert flat is None, f"layer {i} (separable_fc) needs (channels, length) input"
            units = layer["units"]
            n_pos = math.ceil(length / 2) if layer.get("symmetric", False) else length
            if layer.get("tie_rc_channels", False):
                assert channels % 2 == 0, f"layer {i}: tie_rc_channels needs even channels"
                n_chan = channels // 2
            else:
                n_chan = channels
            shapes[f"layers.{i}.pos"] = (units, n_pos)
            shapes[f"layers.{i}.chan"] = (units, n_chan)
            flat = units
        elif kind == "dense":
            in_features = flat if flat is not None else channels * length
            shapes[f"layers.{i}.weight"] = (layer["units"], in_features)
            shapes[f"layers.{i}.bias"] = (layer["units"],)
            flat = layer["units"]
        elif kind == "dropout":
            pass
        else:
            raise ValueError(f"layer {i}: unknown type {kind!r}")
    return shapes


# ---------------------------------------------------------------------------------------------
# Layers: x is (batch, channels, length), or (batch, features) after a vector layer


def activate(x, name):
    if name == "none":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    raise ValueError(f"unknown activation {name!r}")


def conv1d(x, weight, bias, pad_left, pad_right, dilation):
    """out[n,f,l] = bias[f] + sum_c sum_k weight[f,c,k] * xpad[n, c, l + k*dilation]."""
    n, c, length = x.shape
    f, c_w, k = weight.shape
    assert c == c_w, f"conv1d: input has {c} channels, weight expects {c_w}"
    xp = np.zeros((n, c, length + pad_left + pad_right), dtype=x.dtype)
    xp[:, :, pad_left : pad_left + length] = x
    out_len = xp.shape[2] - (k - 1) * dilation
    out = np.broadcast_to(bias[None, :, None], (n, f, out_len)).copy()
    for tap in range(k):
        window = xp[:, :, tap * dilation : tap * dilation + out_len]
        out += np.einsum("fc,ncl->nfl", weight[:, :, tap], window)
    return out


def revcomp_expand(weight, bias):
    """2F filters: filter F+j is filter F-1-j flipped along input channels and width."""
    full_w = np.concatenate([weight, weight[::-1, ::-1, ::-1]], axis=0)
    full_b = np.concatenate([bias, bias[::-1]], axis=0)
    return full_w, full_b


def maxpool1d(x, pool, stride):
    out_len = (x.shape[2] - pool) // stride + 1
    windows = [x[:, :, j * stride : j * stride + pool].max(axis=2) for j in range(out_len)]
    return np.stack(windows, axis=2)


def mirror(stored, full):
    """Expands (units, ceil(full/2)) or (units, full/2) stored values: v_full[i] = v[min(i, full-1-i)]."""
    idx = np.minimum(np.arange(full), full - 1 - np.arange(full))
    return stored[:, idx]


def separable_fc(x, pos, chan, symmetric, tie_rc_channels):
    """y[n,u] = sum_l pos_full[u,l] * sum_c chan_full[u,c] * x[n,c,l]."""
    _, c, length = x.shape
    pos_full = mirror(pos, length) if symmetric else pos
    chan_full = mirror(chan, c) if tie_rc_channels else chan
    assert pos_full.shape[1] == length and chan_full.shape[1] == c
    return np.einsum("ul,uc,ncl->nu", pos_full, chan_full, x)


def dense(x, weight, bias):
    flat = x.reshape(x.shape[0], -1)  # channels-major: index c*L + l
    return flat @ weight.T + bias


def logits(layers, tensors, x):
    """The last layer's outputs for one-hot input x (batch, 4, L), in float64."""
    h = x.astype(np.float64)
    t = {name: v.astype(np.float64) for name, v in tensors.items()}
    for i, layer in enumerate(layers):
        kind = layer["type"]
        act = layer.get("activation", "none")
        if kind in ("conv1d", "revcomp_conv1d"):
            w, b = t[f"layers.{i}.weight"], t[f"layers.{i}.bias"]
            if kind == "revcomp_conv1d":
                w, b = revcomp_expand(w, b)
            left, right = conv_padding(layer)
            h = activate(conv1d(h, w, b, left, right, layer.get("dilation", 1)), act)
        elif kind == "maxpool1d":
            pool = layer["pool_size"]
            h = maxpool1d(h, pool, layer.get("stride", pool))
        elif kind == "separable_fc":
            h = separable_fc(
                h,
                t[f"layers.{i}.pos"],
                t[f"layers.{i}.chan"],
                layer.get("symmetric", False),
                layer.get("tie_rc_channels", False),
            )
            h = activate(h, act)
        elif kind == "dense":
            h = activate(dense(h, t[f"layers.{i}.weight"], t[f"layers.{i}.bias"]), act)
        elif kind == "dropout":
            pass  # identity at inference
        else:
            raise ValueError(f"layer {i}: unknown type {kind!r}")
    assert h.ndim == 2, "the last layer must emit one logit per task"
    return h


def predict(layers, tensors, x):
    return 1.0 / (1.0 + np.exp(-logits(layers, tensors, x)))


# ---------------------------------------------------------------------------------------------
# Files


def one_hot(seqs, length):
    x = np.zeros((len(seqs), INPUT_CHANNELS, length), dtype=np.float32)
    for n, seq in enumerate(seqs):
        if len(seq) != length:
            raise ValueError(f"sequence {n} has length {len(seq)}, the model reads {length}")
        for l, base in enumerate(seq.upper()):
            c = "ACGT".find(base)
            if c >= 0:
                x[n, c, l] = 1.0
    return x


def read_seqs(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def read_tsv(path):
    with open(path) as f:
        rows = [[float(v) for v in line.rstrip("\n").split("\t")] for line in f if line.strip()]
    return np.array(rows, dtype=np.float64)


def write_tsv(path, preds):
    with open(path, "w") as f:
        for row in preds:
            f.write("\t".join(f"{v:.9g}" for v in row) + "\n")


def load_weights(path):
    """(layers, input_length, tensors, config_text) of a weights file, with safetensors alone."""
    with safetensors.safe_open(path, "np") as f:
        metadata = f.metadata() or {}
    for key in ("config", "input_length"):
        if key not in metadata:
            raise ValueError(f"{path}: the metadata has no `{key}` entry")
    config = tomllib.loads(metadata["config"])
    input_length = int(metadata["input_length"])
    tensors = safetensors.numpy.load_file(path)
    return config["layers"], input_length, tensors, metadata["config"]


def check_layout(layers, input_length, tensors):
    """The file's tensors are exactly the contract's names, shapes and dtype."""
    expected = stored_shapes(layers, input_length)
    problems = []
    for name in sorted(set(expected) | set(tensors)):
        if name not in tensors:
            problems.append(f"tensor {name} is missing")
        elif name not in expected:
            problems.append(f"tensor {name} belongs to no layer")
        else:
            if tensors[name].dtype != np.float32:
                problems.append(f"tensor {name} is {tensors[name].dtype}, not float32")
            if tuple(tensors[name].shape) != expected[name]:
                problems.append(
                    f"tensor {name} has shape {tuple(tensors[name].shape)}, the contract says {expected[name]}"
                )
    return problems


def close(x, y):
    return np.abs(x - y) <= np.maximum(RTOL * np.maximum(np.abs(x), np.abs(y)), ATOL)


def cmd_check(weights, seqs_path, preds_path):
    layers, input_length, tensors, _ = load_weights(weights)
    problems = check_layout(layers, input_length, tensors)
    if problems:
        print(f"{weights} does not follow docs/contract.md's layout:", *problems, sep="\n  ")
        return 1
    seqs = read_seqs(seqs_path)
    ours = predict(layers, tensors, one_hot(seqs, input_length))
    theirs = read_tsv(preds_path)
    if theirs.shape != ours.shape:
        print(f"sepfc's predictions have shape {theirs.shape}, NumPy's {ours.shape}")
        return 1
    ok = close(ours, theirs)
    excess = np.abs(ours - theirs) - np.maximum(
        RTOL * np.maximum(np.abs(ours), np.abs(theirs)), ATOL
    )
    n, task = np.unravel_index(np.argmax(excess), excess.shape)
    worst = (
        f"sequence {n} task {task}: sepfc {theirs[n, task]:.9g}, NumPy {ours[n, task]:.9g}, "
        f"|diff| {abs(ours[n, task] - theirs[n, task]):.3g}"
    )
    if not ok.all():
        print(f"{(~ok).sum()} of {ok.size} predictions disagree; worst: {worst}")
        return 1
    print(
        f"{ok.size} predictions agree ({len(layers)} layers, {len(tensors)} tensors; "
        f"range {ours.min():.4g}..{ours.max():.4g}; worst: {worst})"
    )
    return 0


def cmd_write(config_path, input_length, seqs_path, out_weights, out_preds, seed):
    with open(config_path) as f:
        config_text = f.read()
    layers = tomllib.loads(config_text)["layers"]
    input_length = int(input_length)
    rng = np.random.default_rng(int(seed))
    tensors = {
        name: rng.uniform(-0.5, 0.5, size=shape).astype(np.float32)
        for name, shape in stored_shapes(layers, input_length).items()
    }
    safetensors.numpy.save_file(
        tensors,
        out_weights,
        metadata={"config": config_text, "input_length": str(input_length)},
    )
    preds = predict(layers, tensors, one_hot(read_seqs(seqs_path), input_length))
    write_tsv(out_preds, preds)
    print(
        f"wrote {len(tensors)} tensors to {out_weights} and {preds.shape} predictions "
        f"(range {preds.min():.4g}..{preds.max():.4g}) to {out_preds}"
    )
    return 0


def main(argv):
    if len(argv) == 4 and argv[0] == "check":
        return cmd_check(*argv[1:])
    if len(argv) == 7 and argv[0] == "write":
        return cmd_write(*argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
