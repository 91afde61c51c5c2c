#!/usr/bin/env bash
# Visual-word mappings side by side (docs/design.md 1.1-1.2 and 1.8): on
# Fashion-MNIST, with the same dense SIFT descriptors and training images,
#  1. trains the BoW demo (configs/demo.json: histogram + HIK SVM), the
#     Fisher-vector demo (configs/fisher_demo.json) and the VLAD demo
#     (configs/vlad_demo.json) on the first 3000 training images, times the
#     training and tests each on the first 2000 test images;
#  2. times predict and explain (LRP, one job) of the first N test images
#     (default 200) per model: seconds per image = (time for N images - time
#     for 1 image) / (N - 1), so that loading the model and the data set is
#     not counted;
#  3. writes side-by-side heatmaps of the three for test images 0-7
#     (side-by-side/NAME.png) and the summary table to summary.md.
#
# Usage: scripts/mappings_demo.sh [OUTPUT_FOLDER]   (default: mappings-demo-output/)
# Environment: PIXELWISE_BUILD_DIR (default build/; built if the binary is missing),
#              PIXELWISE_MAPPING_IMAGES (N, default 200).
# About 5 minutes on two cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/mappings-demo-output}
build_dir=${PIXELWISE_BUILD_DIR:-$root/build}
bin=$build_dir/pixelwise
n=${PIXELWISE_MAPPING_IMAGES:-200}
[ "$n" -ge 2 ] || { echo "PIXELWISE_MAPPING_IMAGES must be at least 2" >&2; exit 2; }
[ -x "$bin" ] || PIXELWISE_BUILD_DIR=$build_dir "$root/scripts/build.sh"
mkdir -p "$out"

seconds() {  # runs the command, prints its wall-clock seconds
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}

images=()
for ((i = 0; i < n; ++i)); do images+=("fashion-mnist:test@$i"); done
summary="$out/summary.md"
{
  echo "| mapping | configuration | test accuracy (2000) | training s | predict s / image | explain s / image |"
  echo "|---|---|---|---|---|---|"
} > "$summary"
for mapping in bow fisher vlad; do
  config=${mapping}_demo
  [ "$mapping" = bow ] && config=demo
  echo "== $mapping: training (configs/$config.json, 3000 Fashion-MNIST training images)"
  rm -rf "$out/model-$mapping" "$out/lrp-$mapping" "$out/lrp1-$mapping"
  train=$(seconds "$bin" train --quiet --config "$root/configs/$config.json" --data fashion-mnist:train:3000 \
    --out "$out/model-$mapping")
  accuracy=$("$bin" test --model "$out/model-$mapping" --data fashion-mnist:test:2000 | tail -n 1 | awk '{print $2}')
  echo "== $mapping: predict and explain $n test images"
  p1=$(seconds "$bin" predict --model "$out/model-$mapping" "${images[0]}")
  pn=$(seconds "$bin" predict --model "$out/model-$mapping" "${images[@]}")
  e1=$(seconds "$bin" explain --jobs 1 --model "$out/model-$mapping" --out "$out/lrp1-$mapping" "${images[0]}")
  en=$(seconds "$bin" explain --jobs 1 --model "$out/model-$mapping" --out "$out/lrp-$mapping" "${images[@]}")
  printf '| %s | `configs/%s.json` | %s | %.0f | %.4f | %.4f |\n' "$mapping" "$config" "$accuracy" "$train" \
    "$(awk -v a="$p1" -v b="$pn" -v n="$n" 'BEGIN { print (b - a) / (n - 1) }')" \
    "$(awk -v a="$e1" -v b="$en" -v n="$n" 'BEGIN { print (b - a) / (n - 1) }')" >> "$summary"
done

echo "== side-by-side heatmaps (red: evidence for the class, blue: against; each map scaled by its max |R|)"
mkdir -p "$out/side-by-side"
for ((i = 0; i < 8 && i < n; ++i)); do
  name=fashion-mnist-test-$i
  "$bin" montage --out "$out/side-by-side/$name.png" --label "BoW + HIK SVM" --label "Fisher vector" \
    --label "VLAD" "$out/lrp-bow/$name.png" "$out/lrp-fisher/$name.png" "$out/lrp-vlad/$name.png"
done
echo "== done: $summary; heatmaps in $out/side-by-side/"
cat "$summary"
