#!/usr/bin/env bash
# Quick start, command 1: set up, build, train the demo BoW model on a
# Fashion-MNIST subset, measure its test accuracy and explain test images.
# Outputs go to demo-output/ (or the folder given as the first argument).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/demo-output}
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
pixelwise="${PIXELWISE_BUILD_DIR:-$root/build}/pixelwise"

echo "== train (configs/demo.json, 3000 Fashion-MNIST training images)"
"$pixelwise" train --config "$root/configs/demo.json" --data fashion-mnist:train:3000 --out "$out/model"
echo "== test accuracy (first 2000 Fashion-MNIST test images)"
"$pixelwise" test --model "$out/model" --data fashion-mnist:test:2000 | tee "$out/accuracy.txt"
echo "== explain test images 0-7 (predicted class) and image 0 as 'trouser'"
images=()
for i in 0 1 2 3 4 5 6 7; do images+=("fashion-mnist:test@$i"); done
"$pixelwise" explain --model "$out/model" --out "$out/explanations" "${images[@]}"
"$pixelwise" explain --model "$out/model" --out "$out/explanations-trouser" --class trouser fashion-mnist:test@0
"$pixelwise" predict --model "$out/model" fashion-mnist:test@0
echo "== done: heatmaps (.png), relevance (.npy) and accounts (.json) in $out/explanations"
