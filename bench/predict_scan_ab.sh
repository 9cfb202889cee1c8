#!/usr/bin/env bash
# Whole-command throughput of `sepfc predict` and `sepfc scan` for two builds, interleaved
# (A B A B A B), with peak memory, and the largest difference between their outputs.
#
#   bash bench/predict_scan_ab.sh OLD_SEPFC NEW_SEPFC [WORK_DIR]
#
# Trains a 2-epoch model of examples/tal_gata.toml with NEW (once), writes a random genome of
# 2 x 2 Mbp and 50,000 random 200 bp sequences, then times `scan --stride 20` and `predict`
# on the CPU backend with each binary three times. Needs GNU time (/usr/bin/time).
set -euo pipefail
old=$(realpath "$1"); new=$(realpath "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
work=${3:-$root/target/predict_scan_ab}
mkdir -p "$work"; cd "$work"
if [ ! -f run/model.safetensors ]; then
  sed -e "s#\.\./data#$root/data#" -e 's/^epochs = .*/epochs = 2/' "$root/examples/tal_gata.toml" > cfg.toml
  "$new" train --config cfg.toml --out run --device cpu > train.log
  python3 - <<'PY'
import random
r = random.Random(0)
with open("genome.fa", "w") as f:
    for c in range(2):
        f.write(f">chr{c + 1}\n")
        s = "".join(r.choice("ACGT") for _ in range(2_000_000))
        for i in range(0, len(s), 60):
            f.write(s[i:i + 60] + "\n")
with open("seqs.fa", "w") as f:
    for i in range(50_000):
        f.write(f">s{i}\n" + "".join(r.choice("ACGT") for _ in range(200)) + "\n")
PY
fi
for rep in 1 2 3; do
  for which in old new; do
    bin=${!which}
    scan=$( { /usr/bin/time -f "%e s %M KiB" "$bin" scan --model run --genome genome.fa --stride 20 --out "scan_$which.bedgraph" --device cpu > /dev/null; } 2>&1 | tail -1)
    predict=$( { /usr/bin/time -f "%e s %M KiB" "$bin" predict --model run --fasta seqs.fa --out "pred_$which.tsv" --device cpu > /dev/null; } 2>&1 | tail -1)
    echo "repeat $rep $which: scan $scan, predict $predict"
  done
done
python3 - <<'PY'
import glob
def values(path):
    """The numbers of a bedGraph (4th column) or a predictions table (every column but the id)."""
    for line in open(path):
        if line.startswith(("track", "id\t")):
            continue
        fields = line.split()
        yield from map(float, fields[3:4] if path.endswith(".bedgraph") else fields[1:])
for kind, pattern in (("scan", "scan_{}.*bedgraph"), ("predict", "pred_{}.tsv")):
    old = sorted(glob.glob(pattern.format("old"))); new = sorted(glob.glob(pattern.format("new")))
    assert old and len(old) == len(new), f"{kind}: outputs missing"
    worst, n = 0.0, 0
    for a, b in zip(old, new):
        for x, y in zip(values(a), values(b), strict=True):
            worst, n = max(worst, abs(x - y)), n + 1
    print(f"{kind}: {n} values, largest |old - new| {worst:.2e}")
PY
