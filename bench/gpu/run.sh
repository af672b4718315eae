#!/usr/bin/env bash
# The GPU host's script: builds the CUDA addon, runs the CUDA op tests, then times our kernels
# and train.ts against PyTorch on the same GPU and tokens, writing every log under $OUT.
# Prepare here with bench/gpu/pack.sh, then on the host, from the repository root:
#   bench/gpu/run.sh [build] [test] [ops] [train] [profile] [budget SECONDS]
#   (default: build test ops train profile)
# `budget S` trains both sides for S seconds and compares val_bpb (issue 5 asks for 120).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/autoresearch-gpu}
mkdir -p "$OUT"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(build test ops train profile)
wants() { [[ " ${stages[*]} " == *" $1 "* ]]; }
log() { echo "=== $* ($(date +%T))"; }
failed=0

# CMake finds nvcc through CUDACXX; node is carried xz-compressed, the build packages as node_modules.
[ -x /usr/local/cuda/bin/nvcc ] && export CUDACXX=/usr/local/cuda/bin/nvcc PATH=/usr/local/cuda/bin:$PATH
xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node
mkdir -p /tmp/bin && ln -sf /tmp/node /tmp/bin/node
export PATH=/tmp/bin:$PATH
[ -e node_modules ] || ln -s .device/node_modules node_modules
export AUTORESEARCH_ADDON=$PWD/build/Release/autoresearch.node
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"

# Runs a benchmark with its launch time exported, sampling the GPU's memory.used meanwhile.
timed() {
  local name=$1; shift
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/$name.smi" &
  local smi=$!
  sleep 0.5
  AR_BENCH_LAUNCHED_AT=$(date +%s%3N) "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  kill $smi
  [ "$rc" -eq 0 ] || { echo "$name exited with $rc"; failed=1; }
}

if wants build; then
  log build
  node node_modules/cmake-js/bin/cmake-js compile -d native -O build 2>&1 | tee "$OUT/build.log" | grep -E "error|warning|autoresearch|Linking" || true
  node -e "const i = require(process.env.AUTORESEARCH_ADDON).backendInfo(); console.log(i); if (!i.cuda) process.exit(1)" \
    || { echo "the addon has no usable CUDA backend: see $OUT/build.log"; exit 1; }
fi

if wants test; then
  log "CUDA op tests"
  node .device/js/cuda-tests.mjs 2>&1 | tee "$OUT/tests.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed=1
fi

if wants ops; then
  log "per-op benchmarks"
  timed ops-ours node .device/js/ops-bench.mjs
  timed ops-torch python3 bench/torch/ops_bench.py
fi

[ -f /tmp/tokens.bin ] || xz -dc .device/tokens.bin.xz > /tmp/tokens.bin
export AR_TOKENS=/tmp/tokens.bin
compare=(node .device/js/compare.mjs --ours-ops "$OUT/ops-ours.log" --torch-ops "$OUT/ops-torch.log")

# When ours runs out of GPU memory at the full device batch, both sides run at half of it (the
# same optimizer step in twice the micro-steps), so the comparison stays like for like.
variant=""
torch_batch=$(node -p "require('./.device/js/bundle.json').deviceBatch")
fits() {
  grep -q "out of memory" "$OUT/$1.log" || return 0
  log "$1 ran out of GPU memory at device batch $torch_batch: both sides again at half of it"
  variant="-half"
  torch_batch=$(node -p "require('./.device/js/bundle.json').halfBatch")
  return 1
}

if wants train; then
  log "training steps, WINDOW_PATTERN L on both sides, then ours with SSSL"
  timed train-ours-L env AR_BENCH_STEPS="${STEPS:-20}" node .device/js/train-L.mjs
  fits train-ours-L || timed train-ours-L env AR_BENCH_STEPS="${STEPS:-20}" node .device/js/train-L-half.mjs
  timed train-torch-L python3 bench/torch/train_bench.py --tokens "$AR_TOKENS" --window-pattern L --steps "${STEPS:-20}" --device-batch "$torch_batch"
  timed train-ours-SSSL env AR_BENCH_STEPS="${STEPS:-20}" node ".device/js/train-SSSL$variant.mjs"
  compare+=(--ours-train "$OUT/train-ours-L.log" --torch-train "$OUT/train-torch-L.log" --ours-sssl "$OUT/train-ours-SSSL.log"
    --smi-ours "$OUT/train-ours-L.smi" --smi-torch "$OUT/train-torch-L.smi")
fi

if wants profile; then
  log "op profile of train.ts (WINDOW_PATTERN L), three steps with a sync around every op"
  AR_BENCH_STEPS=6 AR_PROFILE_STEPS=3 node ".device/js/train-L$variant.mjs" 2>&1 | tee "$OUT/profile.log" | grep -v "^step "
fi

if wants budget; then
  seconds=${stages[-1]}
  log "val_bpb after ${seconds}s of training on both sides"
  timed budget-ours env AR_BENCH_SECONDS="$seconds" node ".device/js/train-L$variant.mjs"
  fits budget-ours || timed budget-ours env AR_BENCH_SECONDS="$seconds" node .device/js/train-L-half.mjs
  timed budget-torch python3 bench/torch/train_bench.py --tokens "$AR_TOKENS" --window-pattern L --time-budget "$seconds" --device-batch "$torch_batch"
  compare+=(--ours-train "$OUT/budget-ours.log" --torch-train "$OUT/budget-torch.log")
fi

log compare
"${compare[@]}" | tee "$OUT/compare.log"
exit $failed
