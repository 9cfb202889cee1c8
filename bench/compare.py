#!/usr/bin/env python3
"""Runs `sepfc bench` and bench/pytorch_peer.py interleaved (A B A B ...) on the same model,
device and thread count, and prints a Markdown table of the medians with the sepfc/PyTorch
ratios and the machine's load.

    cargo build --release
    python3 bench/compare.py --device cpu --threads 2 --repeats 3 [--models small large] [--busy 1]

`--busy N` keeps N other processes spinning on the CPU for the whole run (the loaded case:
another job on the machine), and says so in the table's heading.

Needs PyTorch for the peer (`pip install torch`); `--python` picks the interpreter that has it.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load():
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def run(command, env, json_path):
    subprocess.run(command, env=env, check=True, stdout=sys.stderr)
    with open(json_path) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["small", "large"])
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sepfc", default=os.path.join(ROOT, "target", "release", "sepfc"))
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--tf32", action="store_true",
                        help="let the PyTorch peer use TF32 on CUDA (off by default: equal precision)")
    parser.add_argument("--busy", type=int, default=0,
                        help="processes kept spinning on the CPU meanwhile (load)")
    args = parser.parse_args()
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(args.busy)]
    try:
        return measure(args)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def measure(args):

    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    peer_device = "cuda" if args.device == "gpu" else "cpu"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "figures.json")
        for model in args.models:
            ours, theirs, loads = [], [], []
            for _ in range(args.repeats):
                loads.append(load())
                ours.append(run([args.sepfc, "bench", "--model", model, "--device", args.device,
                                 "--seconds", str(args.seconds), "--json", out], env, out))
                theirs.append(run([args.python, os.path.join(HERE, "pytorch_peer.py"),
                                   "--model", model, "--device", peer_device,
                                   "--threads", str(args.threads),
                                   "--seconds", str(args.seconds), "--json", out]
                                  + (["--tf32"] if args.tf32 else []), env, out))
            rows.append((model, ours, theirs, loads))

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}; "
          f"{args.threads} threads; {args.busy} other processes spinning; "
          f"{args.repeats} interleaved repeats, medians; "
          f"load averages before each pair: " + "; ".join(l for _, _, _, ls in rows for l in ls))
    print()
    print("| model | figure | sepfc | PyTorch | sepfc / PyTorch |")
    print("|---|---|---|---|---|")
    for model, ours, theirs, _ in rows:
        print(f"| {model} | device | {ours[0]['device']} | {theirs[0]['device']} | |")
        for key, name in [("train_samples_per_s", "training samples/s"),
                          ("inference_samples_per_s", "inference samples/s"),
                          ("peak_rss_mib", "peak RSS MiB"),
                          ("peak_device_mib", "peak device MiB")]:
            a = [r[key] for r in ours if r.get(key) is not None]
            b = [r[key] for r in theirs if r.get(key) is not None]
            if not a or not b:
                continue
            ma, mb = statistics.median(a), statistics.median(b)
            print(f"| {model} | {name} | {ma:.1f} | {mb:.1f} | {ma / mb:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
