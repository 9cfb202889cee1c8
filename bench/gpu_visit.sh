#!/usr/bin/env bash
# One visit to a machine with a real GPU, prepared here so that the visit measures instead of
# debugging. Two halves:
#
#   bash bench/gpu_visit.sh prepare      # here: build, stage .visit/ (binaries) and .gl/ (loaders)
#   bash bench/gpu_visit.sh run OUT      # there (or here, as a dry run): tests, benches, results
#
# `prepare` builds the release binary, the GPU test binaries and the kernel bench, packs them
# into .visit/visit.tar.xz (the device tool carries at most 64 MiB), and downloads the Vulkan
# and EGL loaders as .debs into .gl/ (a bare GPU machine may have the driver but no loader).
# Both folders are ignored by git; name them in the device tool's `carry`.
#
# `run OUT` unpacks the loaders and binaries, then, with a time budget of about 8 minutes:
#   1. the GPU tests (gpu_ops, the model GPU-vs-CPU checks, buffer reuse, step counts, DeepLIFT) on the
#      adapter wgpu picks, printing it, gpu_ops also at the benchmark models' convolution shapes
#      (SEPFC_GPU_TEST_REAL_SIZES);
#   2. `sepfc bench --device gpu` for both benchmark models, with the per-step command counts
#      and the device time of a step by kernel family;
#   3. bench/compare.py --device gpu against PyTorch CUDA eager, TF32 off, then on (skipped,
#      saying so, where torch sees no CUDA device);
#   4. the kernel profile: the criterion bench of every kernel of the small model on the GPU,
#      and the large model's second convolution against the plain tiled matmul (their ratio
#      of multiply-adds per second, the issue's ">= 50% of the matmul rate" target).
# Everything goes into OUT/gpu_visit.md (one results file) and six logs beside it (the device
# tool brings back at most 8 files). On the device tool:
#
#   run(command="bash bench/gpu_visit.sh run $OUT", carry=[".visit", ".gl"], timeout_s=600)
#
# SEPFC_VISIT_SMALL=1 shrinks every size and time (the dry run on lavapipe).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
gpu_tests="gpu_ops model_gpu_vs_cpu model_options_gpu_vs_cpu gpu_buffer_reuse gpu_step_counts gpu_kernel_times deeplift"

prepare() {
  cargo build --release
  cargo test --release --no-run $(printf -- '--test %s ' $gpu_tests)
  cargo bench --bench kernels --no-run
  rm -rf .visit && mkdir -p .visit/bin
  cp target/release/sepfc .visit/bin/
  for t in $gpu_tests kernels; do
    # the newest build of each target (older hashes may linger in deps/)
    newest=$(ls -t target/release/deps/"$t"-* | grep -v '\.d$' | head -1)
    cp "$newest" ".visit/bin/$t"
  done
  tar -C .visit -cJf .visit/visit.tar.xz bin && rm -rf .visit/bin
  mkdir -p .gl /tmp/amd64/partial
  local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  for d in .visit .gl; do
    grep -qx "/$d/" .git/info/exclude 2>/dev/null || echo "/$d/" >> .git/info/exclude
  done
  du -sh .visit .gl
}

run() {
  local out=${1:?usage: gpu_visit.sh run OUT}
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  rm -f "$out/tests.log"
  local small=${SEPFC_VISIT_SMALL:-}
  local report="$out/gpu_visit.md"
  if [ -d .gl ] && ls .gl/*.deb >/dev/null 2>&1 && ! ldconfig -p | grep -q libvulkan; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
  local bin="$root/target/release"
  if [ -f .visit/visit.tar.xz ]; then
    bin="$out/bin"
    tar -C "$out" -xJf .visit/visit.tar.xz
  fi
  local sepfc="$bin/sepfc"
  {
    echo "# GPU visit, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); machine: $(uname -m), $(nproc) cores"
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/GPU: /'
    echo
  } > "$report"

  echo "## 1. GPU tests" >> "$report"
  for t in $gpu_tests; do
    local exe="$bin/$t"
    [ -x "$exe" ] || exe=$(ls -t "$root"/target/release/deps/"$t"-* | grep -v '\.d$' | head -1)
    local log="$out/test.log.part"
    local with=(env CI=true)
    [ -z "$small" ] && with+=(SEPFC_GPU_TEST_REAL_SIZES=1)
    if "${with[@]}" timeout 300 "$exe" > "$log" 2>&1; then
      status=passed
    else
      status=FAILED
    fi
    echo "- $t: $status; $(grep -m1 'GPU tests run on' "$log" || echo 'no adapter line'); $(grep -m1 '^test result' "$log" || true)" >> "$report"
    { echo "=== $t ($status)"; cat "$log"; } >> "$out/tests.log"
    rm -f "$log"
  done

  echo >> "$report"
  echo "## 2. sepfc bench --device gpu" >> "$report"
  local batch=128 seconds=10
  [ -n "$small" ] && batch=4 seconds=0.5
  for m in small large; do
    timeout 300 "$sepfc" bench --model "$m" --device gpu --batch "$batch" --seconds "$seconds" > "$out/bench_$m.log" 2>&1 || true
    grep -E "model on|per timed|device time per" "$out/bench_$m.log" | sed 's/^/- /' >> "$report"
  done

  echo >> "$report"
  echo "## 3. sepfc against PyTorch CUDA eager (bench/compare.py --device gpu)" >> "$report"
  if python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    local repeats=3 cseconds=6
    [ -n "$small" ] && repeats=1 cseconds=1
    for tf32 in "" "--tf32"; do
      echo >> "$report"
      echo "TF32 ${tf32:+on}${tf32:-off}:" >> "$report"
      timeout 420 python3 bench/compare.py --device gpu --repeats "$repeats" --seconds "$cseconds" \
        --sepfc "$sepfc" --models small large $tf32 >> "$report" 2> "$out/compare${tf32:+_tf32}.log" \
        || echo "(compare.py failed: see compare${tf32:+_tf32}.log)" >> "$report"
    done
  else
    echo "- skipped: PyTorch sees no CUDA device here" >> "$report"
  fi

  echo >> "$report"
  echo "## 4. Kernel profile (benches/kernels.rs, GPU ids)" >> "$report"
  local kbatch=128
  [ -n "$small" ] && kbatch=8
  local kernels="$bin/kernels"
  [ -x "$kernels" ] || kernels=$(ls -t "$root"/target/release/deps/kernels-* | grep -v '\.d$' | head -1)
  (cd "$out" && SEPFC_BENCH_BATCH=$kbatch timeout 300 "$kernels" --bench --quick /gpu/ > "$out/kernels.log" 2>&1) || true
  echo '```' >> "$report"
  grep -E "/gpu/|time:|thrpt:" "$out/kernels.log" >> "$report" || echo "(no kernel figures: see kernels.log)" >> "$report"
  echo '```' >> "$report"
  # multiply-adds per second of the large model's convolution over those of the plain matmul
  awk '
    /^[a-z0-9_]+\/gpu\// { id = $1 }
    /thrpt:/ && id != "" {
      gsub(/[\[\]]/, ""); v = $4; u = $5
      f = (u ~ /^K/) ? 1e3 : (u ~ /^M/) ? 1e6 : (u ~ /^G/) ? 1e9 : (u ~ /^T/) ? 1e12 : 1
      rate[id] = v * f; id = ""
    }
    END {
      for (k in rate) {
        if (k ~ /^conv1d_forward\/gpu\/[0-9]+x128x986_k15$/) conv = rate[k]
        if (k ~ /^matmul\/gpu\//) mm = rate[k]
      }
      if (conv > 0 && mm > 0)
        printf "- conv1d forward (large model, second layer) at %.1f%% of the tiled matmul rate: %.3g against %.3g multiply-adds/s\n", 100 * conv / mm, conv, mm
      else
        print "- conv1d against matmul: figures missing (see kernels.log)"
    }' "$out/kernels.log" >> "$report"
  rm -rf "$out/bin" "$out/target"
  echo "results: $report"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) echo "usage: bash bench/gpu_visit.sh prepare | run OUT" >&2; exit 2 ;;
esac
