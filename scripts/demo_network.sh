#!/usr/bin/env bash
# Network demo (docs/design.md 1.7): trains an MLP on OpenCV's handwritten
# digits (opencv-doc's digits.png: 4000 training and 1000 test digits, see
# pipelines/network_model.hpp), reports its test accuracy, and explains one
# test digit of every class for its own class and for a commonly confused
# other class, with paper-style figures (input | heatmap; red: evidence for
# the class, blue: against). One digit also gets the whole-network Taylor
# decomposition (input | root point | gradient at the root | decomposition,
# as in the paper's Fig 11) and the sensitivity baseline.
#
# Usage: scripts/demo_network.sh OUTPUT_FOLDER
# Uses $PIXELWISE_BUILD_DIR/pixelwise (default build/), building it if missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/demo_network.sh OUTPUT_FOLDER}
build_dir=${PIXELWISE_BUILD_DIR:-$root/build}
bin=$build_dir/pixelwise
[ -x "$bin" ] || PIXELWISE_BUILD_DIR=$build_dir "$root/scripts/build.sh"
mkdir -p "$out"

echo "== training an MLP 400-256-128-10 (ReLU) on digits:train, 30 epochs, seed 1"
"$bin" train-network --data digits:train --test-data digits:test --hidden 256,128 --epochs 30 \
  --seed 1 --quiet --out "$out/model" | tee "$out/accuracy.txt"

# Test digit k has label k mod 10, so digits:test@d is the first test digit of class d.
other=(6 7 7 8 9 3 5 1 3 4)  # a commonly confused class for each digit 0..9
# LRP-epsilon (eps 0.01) on every layer: with inputs in [0, 1] the relevance sits on
# the strokes, as in the paper's digit figures. The default of `pixelwise explain`
# (zb-epsilon-plus: z^B on the pixels) also credits the dark background; one
# digit is shown with it in $out/own-class-zb for comparison.
rule=epsilon:0.01
for d in 0 1 2 3 4 5 6 7 8 9; do
  "$bin" explain --model "$out/model" --rule "$rule" --class "$d" --figure --out "$out/own-class" "digits:test@$d"
  "$bin" explain --model "$out/model" --rule "$rule" --class "${other[$d]}" --figure --out "$out/other-class" \
    "digits:test@$d"
done
"$bin" explain --model "$out/model" --rule zb-epsilon-plus --class 3 --figure --out "$out/own-class-zb" digits:test@3
"$bin" explain --model "$out/model" --method taylor --figure --out "$out/taylor" digits:test@3
"$bin" explain --model "$out/model" --method sensitivity --figure --out "$out/sensitivity" digits:test@3

echo "== figures (input | heatmap) in $out/own-class and $out/other-class (NAME-figure.png),"
echo "   Taylor decomposition (input | root | gradient at root | decomposition) in $out/taylor,"
echo "   raw relevance (.npy, float64, 20 x 20) and per-layer sums (.json) next to them."
