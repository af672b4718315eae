#!/usr/bin/env bash
# The whole GPU check, one command, from the repository root of a Linux machine with an NVIDIA
# GPU, the CUDA toolkit (nvcc, cuBLASLt) and Node 20+; PyTorch (python3 -c "import torch") for
# the side-by-side figures. It builds the CUDA addon, runs the GPU tests, benchmarks our ops and
# train.ts against PyTorch on the same GPU and tokens, compares val_bpb after a fixed budget,
# prints a results table and appends it to bench/RESULTS.md. Logs go to $OUT.
#   bench/gpu/run.sh                          build test ops train budget 120   (about 12 min on an H100)
#   bench/gpu/run.sh [build] [test] [ops] [train] [profile] [budget SECONDS]
# Data: AUTORESEARCH_DATA (a directory of shards; default: prepare.ts's own source) feeds the
# tokenizer and the token file both sides train on. docs/gpu.md explains each stage.
# On a host without node or npm, bench/gpu/pack.sh fills .device/ beforehand and this script
# runs from there (docs/gpu.md, "A host without Node").
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/autoresearch-gpu}
mkdir -p "$OUT"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(build test ops train budget 120)
wants() { [[ " ${stages[*]} " == *" $1 "* ]]; }
log() { echo "=== $* ($(date +%T))"; }
die() { echo "run.sh: $*" >&2; exit 1; }
failed=0

# CMake finds nvcc through CUDACXX.
[ -x /usr/local/cuda/bin/nvcc ] && export CUDACXX=/usr/local/cuda/bin/nvcc PATH=/usr/local/cuda/bin:$PATH
command -v nvidia-smi > /dev/null || die "nvidia-smi not found: this needs a machine with an NVIDIA GPU and its driver"

if ! command -v node > /dev/null && [ -f .device/node.xz ]; then
  # Carried mode (pack.sh): node xz-compressed, the build's packages and the bundles in .device/.
  carried=1
  xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node
  mkdir -p /tmp/bin && ln -sf /tmp/node /tmp/bin/node
  export PATH=/tmp/bin:$PATH
  [ -e node_modules ] || ln -s .device/node_modules node_modules
else
  # A developer's machine: node and npm from PATH; the bundles and the token file are made here.
  carried=0
  command -v node > /dev/null && command -v npm > /dev/null || die "node and npm (Node 20 or later) are needed on PATH (or .device/ from bench/gpu/pack.sh)"
  [ -d node_modules ] || { log "npm install"; npm install --no-audit --no-fund > "$OUT/npm-install.log" 2>&1 || die "npm install failed: see $OUT/npm-install.log"; }
  if [ ! -f .device/js/bundle.json ] || [ ! -f .device/tokens.bin.xz ]; then
    log "preparing data, bundles and the token file"
    npx tsx prepare.ts ${AUTORESEARCH_DATA:+--source "$AUTORESEARCH_DATA"} 2>&1 | tail -2
    bash bench/gpu/pack.sh --no-node "${TRAIN_TOKENS:-16000000}" || die "bench/gpu/pack.sh failed"
  fi
fi
export AUTORESEARCH_ADDON=$PWD/build/Release/autoresearch.node
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
torch=1
python3 -c "import torch; assert torch.cuda.is_available()" 2> /dev/null || {
  torch=0
  echo "PyTorch with CUDA not found (pip install torch): our side runs alone, with no ratios"
}

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
torch_side() { [ "$torch" -eq 1 ] && timed "$@"; }

if wants build; then
  log build
  node node_modules/cmake-js/bin/cmake-js compile -d native -O build 2>&1 | tee "$OUT/build.log" | grep -E "error|warning|autoresearch|Linking" || true
  node -e "const i = require(process.env.AUTORESEARCH_ADDON).backendInfo(); console.log(i); if (!i.cuda) process.exit(1)" \
    || die "the addon has no usable CUDA backend: see $OUT/build.log"
fi

if wants test; then
  log "GPU tests (every op against the CPU backend)"
  if [ "$carried" -eq 1 ]; then node .device/js/cuda-tests.mjs 2>&1 | tee "$OUT/tests.log"
  else npx vitest run test/engine/cuda test/native 2>&1 | tee "$OUT/tests.log"; fi
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed=1
fi

if wants ops; then
  log "per-op benchmarks"
  timed ops-ours node .device/js/ops-bench.mjs
  torch_side ops-torch python3 bench/torch/ops_bench.py
fi

[ -f /tmp/tokens.bin ] || xz -dc .device/tokens.bin.xz > /tmp/tokens.bin
export AR_TOKENS=/tmp/tokens.bin
compare=(node .device/js/compare.mjs --ours-ops "$OUT/ops-ours.log" --torch-ops "$OUT/ops-torch.log"
  --gpu-file "$OUT/gpu.txt" --results bench/RESULTS.md --rows-out "$OUT/results-rows.md")

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
  torch_side train-torch-L python3 bench/torch/train_bench.py --tokens "$AR_TOKENS" --window-pattern L --steps "${STEPS:-20}" --device-batch "$torch_batch"
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
  [[ "$seconds" =~ ^[0-9]+$ ]] || die "budget takes a number of seconds as the last argument, got \`$seconds\`"
  log "val_bpb after ${seconds}s of training on both sides"
  timed budget-ours env AR_BENCH_SECONDS="$seconds" node ".device/js/train-L$variant.mjs"
  fits budget-ours || timed budget-ours env AR_BENCH_SECONDS="$seconds" node .device/js/train-L-half.mjs
  torch_side budget-torch python3 bench/torch/train_bench.py --tokens "$AR_TOKENS" --window-pattern L --time-budget "$seconds" --device-batch "$torch_batch"
  compare+=(--ours-budget "$OUT/budget-ours.log" --torch-budget "$OUT/budget-torch.log" --budget-seconds "$seconds")
fi

log "results"
commit=$(git rev-parse --short HEAD 2> /dev/null || echo "?")
versions="node $(node --version), $(nvcc --version | grep -o 'release [0-9.]*' | head -1), $( [ "$torch" -eq 1 ] && python3 -c 'import torch; print("torch", torch.__version__)')"
"${compare[@]}" --commit "$commit" --versions "$versions" | tee "$OUT/compare.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed=1
exit $failed
