#!/usr/bin/env python3
"""DeepSHAP speed, sepfc against tangermeme on PyTorch, on the same machine in the same run:
20 dinucleotide-shuffled references for each of 1,000 random 200 bp sequences, the small
benchmark model (docs/benchmarks.md) with random weights, on the CPU, both with --threads.

    python3 bench/deepshap_compare.py --sepfc target/release/sepfc --python VENV/bin/python \
        [--threads 2] [--repeats 3]

VENV needs torch, tangermeme, numpy and safetensors (not the tests' requirements). Prints each
run's seconds, the medians and their ratio. sepfc is timed as the whole `sepfc explain` command
(process start, reading, writing included); tangermeme as its `deep_lift_shap` call inside one
Python process, after one untimed call (its first call compiles the shuffle with numba).
"""

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TANGERMEME = r"""
import sys, time, torch
sys.path.insert(0, sys.argv[1])
import captum_check as cc, reference_model as rm
from tangermeme.deep_lift_shap import deep_lift_shap
torch.set_num_threads(int(sys.argv[4]))
layers, length, tensors, _ = rm.load_weights(sys.argv[2])
model = cc.torch_model(layers, tensors, length).float()
x = torch.tensor(rm.one_hot(rm.read_seqs(sys.argv[3]), length))
run = lambda: deep_lift_shap(model, x, target=0, n_shuffles=20, batch_size=256,
                             random_state=0, device="cpu", verbose=False, warning_threshold=1e9)
run()
for _ in range(int(sys.argv[5])):
    t = time.time(); run(); print(time.time() - t, flush=True)
"""


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sepfc", default=os.path.join(ROOT, "target/release/sepfc"))
    p.add_argument("--python", required=True, help="a Python with torch and tangermeme")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        bench = open(os.path.join(ROOT, "src/bench.rs")).read()
        config = re.search(r'const SMALL: &str = r#"(.*?)"#;', bench, re.S).group(1)
        with open(os.path.join(d, "small.toml"), "w") as f:
            f.write(config)
        rng = random.Random(0)
        seqs = ["".join(rng.choice("ACGT") for _ in range(200)) for _ in range(1000)]
        with open(os.path.join(d, "seqs.txt"), "w") as f:
            f.write("\n".join(seqs) + "\n")
        with open(os.path.join(d, "seqs.fa"), "w") as f:
            f.writelines(f">s{i}\n{s}\n" for i, s in enumerate(seqs))
        weights = os.path.join(d, "small.safetensors")
        subprocess.run([sys.executable, os.path.join(ROOT, "tests/python/reference_model.py"), "write",
                        os.path.join(d, "small.toml"), "200", os.path.join(d, "seqs.txt"), weights,
                        os.path.join(d, "preds.tsv"), "1"], check=True, capture_output=True)
        env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
        ours = []
        for _ in range(a.repeats):
            t = time.time()
            subprocess.run([a.sepfc, "explain", "--model", weights, "--fasta", os.path.join(d, "seqs.fa"),
                            "--out", os.path.join(d, "s.tsv"), "--method", "deepshap", "--device", "cpu"],
                           check=True, capture_output=True, env=env)
            ours.append(time.time() - t)
        out = subprocess.run([a.python, "-c", TANGERMEME, os.path.join(ROOT, "tests/python"), weights,
                              os.path.join(d, "seqs.txt"), str(a.threads), str(a.repeats)],
                             check=True, capture_output=True, text=True).stdout
        theirs = [float(v) for v in out.split()]
    print("sepfc explain --method deepshap (s):", ", ".join(f"{v:.2f}" for v in ours))
    print("tangermeme deep_lift_shap (s):     ", ", ".join(f"{v:.2f}" for v in theirs))
    m, n = statistics.median(ours), statistics.median(theirs)
    print(f"medians {m:.2f} s and {n:.2f} s: sepfc {n / m:.2f}x tangermeme's speed")


if __name__ == "__main__":
    main()
