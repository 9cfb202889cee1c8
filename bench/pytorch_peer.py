#!/usr/bin/env python3
"""The PyTorch peer of `sepfc bench`: the same benchmark models (docs/benchmarks.md), data shapes and
optimizer, timed the same way, printing the same figures.

    python3 bench/pytorch_peer.py --model small --threads 2 [--device cuda] [--json out.json]

Models follow docs/contract.md: a revcomp_conv1d layer holds F filters and convolves with 2F, the
second half being the first half reverse-complemented (channels and width flipped, order
reversed); separable_fc is y[n,u] = sum_l pos[u,l] sum_c chan[u,c] x[n,c,l] with symmetric
positional weights mirrored from ceil(L/2) stored ones, and has no bias.
"""

import argparse
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

MODELS = {
    # length, convolutions (filters, kernel), pool, separable units, tasks
    "small": (200, [(16, 15), (16, 14)], 4, 32, 3),
    "large": (1000, [(64, 15), (64, 15), (64, 15)], 20, 64, 16),
}


class RevcompConv1d(nn.Module):
    def __init__(self, in_channels, filters, kernel):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(filters, in_channels, kernel))
        self.bias = nn.Parameter(torch.zeros(filters))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x):
        w = torch.cat([self.weight, self.weight.flip(0).flip(1).flip(2)], 0)
        b = torch.cat([self.bias, self.bias.flip(0)], 0)
        return F.relu(F.conv1d(x, w, b))


class SymmetricSeparable(nn.Module):
    def __init__(self, channels, length, units):
        super().__init__()
        self.length = length
        stored = (length + 1) // 2
        bound = (2.0 / (stored * channels + units)) ** 0.25
        self.pos = nn.Parameter(torch.empty(units, stored).uniform_(-bound, bound))
        self.chan = nn.Parameter(torch.empty(units, channels).uniform_(-bound, bound))

    def forward(self, x):
        n = self.length
        pos = torch.cat([self.pos, self.pos[:, : n // 2].flip(1)], 1)
        # (N, C, L) x (U, L) -> (N, U, C), then weighted by chan (U, C)
        by_position = torch.einsum("ncl,ul->nuc", x, pos)
        return F.relu((by_position * self.chan).sum(-1))


def build(name):
    length, convs, pool, units, tasks = MODELS[name]
    layers, channels, l = [], 4, length
    for filters, kernel in convs:
        layers.append(RevcompConv1d(channels, filters, kernel))
        channels, l = 2 * filters, l - kernel + 1
    layers.append(nn.MaxPool1d(pool))
    l = l // pool
    layers.append(SymmetricSeparable(channels, l, units))
    layers.append(nn.Linear(units, tasks))
    return nn.Sequential(*layers), length, tasks


def time_steps(step, sync, warmup, min_steps, seconds):
    for _ in range(warmup):
        step()
    sync()
    started = time.perf_counter()
    steps = 0
    while True:
        step()
        steps += 1
        if steps >= min_steps:
            sync()
            elapsed = time.perf_counter() - started
            if elapsed >= seconds:
                return steps, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="small")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-steps", type=int, default=5)
    parser.add_argument("--tf32", action="store_true", help="allow TF32 on CUDA (off by default)")
    parser.add_argument("--json", help="also write the figures as JSON here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.manual_seed(0)
    device = torch.device(args.device)
    model, length, tasks = build(args.model)
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    bases = torch.randint(0, 4, (args.batch, length))
    x = F.one_hot(bases, 4).permute(0, 2, 1).float().contiguous().to(device)
    y = torch.randint(0, 2, (args.batch, tasks)).float().to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        optimizer.step()

    train_steps, train_seconds = time_steps(
        train_step, sync, args.warmup, args.min_steps, args.seconds
    )

    def infer():
        with torch.no_grad():
            model(x)

    inference_steps, inference_seconds = time_steps(
        infer, sync, args.warmup, args.min_steps, args.seconds
    )
    peak_device = (
        torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    )
    report = {
        "model": args.model,
        "device": f"pytorch {torch.__version__} {args.device} ({args.threads} threads"
        + (", TF32" if args.tf32 and device.type == "cuda" else "")
        + ")",
        "batch": args.batch,
        "train_steps": train_steps,
        "train_samples_per_s": train_steps * args.batch / train_seconds,
        "inference_steps": inference_steps,
        "inference_samples_per_s": inference_steps * args.batch / inference_seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_device_mib": peak_device,
    }
    memory = lambda v: "n/a" if v is None else f"{v:.0f} MiB"
    print(
        f"{report['model']} model on {report['device']}, batch {args.batch}: "
        f"training {report['train_samples_per_s']:.1f} samples/s ({train_steps} steps), "
        f"inference {report['inference_samples_per_s']:.1f} samples/s ({inference_steps} passes), "
        f"peak RSS {memory(report['peak_rss_mib'])}, peak device memory {memory(peak_device)}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
