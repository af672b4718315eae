#!/usr/bin/env bash
# Packs into .device/ (git-ignored; name it in the device tool's `carry`) what bench/gpu/run.sh
# needs on a GPU host that has no node, npm or network: node itself, the packages that build the
# addon, the bundled tests and benchmarks, and the benchmark token file.
#   bench/gpu/pack.sh [--no-node] [TRAIN_TOKENS]   (default 16000000; the token file is xz-compressed)
# --no-node makes only the bundles and the token file: what run.sh makes for itself on a GPU
# machine that has node and npm. Data: AUTORESEARCH_DATA (default ../shared/data/corpus where it
# exists, else prepare.ts's own source), tokenized with the tokenizer that
# `npx tsx prepare.ts [--source DIR]` trains (run it first if it is missing).
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
with_node=1
[ "${1:-}" = "--no-node" ] && { with_node=0; shift; }
train_tokens=${1:-16000000}
[ -z "${AUTORESEARCH_DATA:-}" ] && [ -d "$root/../shared/data/corpus" ] && export AUTORESEARCH_DATA=$root/../shared/data/corpus
mkdir -p .device
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude

if [ "$with_node" -eq 1 ]; then
  [ -f .device/node.xz ] || bash "${PACK_NODE:-$root/../shared/tools/pack-node.sh}"
  rm -rf .device/node_modules
  npx tsx bench/gpu/dependency-closure.ts cmake-js node-addon-api node-api-headers | while read -r dir; do
    mkdir -p ".device/$(dirname "$dir")"
    cp -r "$dir" ".device/$dir"
  done
fi

npx tsx bench/gpu/bundle.ts .device/js

rm -f .device/tokens.bin .device/tokens.bin.xz
npx tsx bench/gpu/write-tokens.ts --out .device/tokens.bin --train-tokens "$train_tokens" --val-rows 64
xz -T0 -6 .device/tokens.bin

du -sh .device/* | sort -h
echo "total $(du -sh .device | cut -f1) (the device tool carries at most 64 MiB with the working tree)"
