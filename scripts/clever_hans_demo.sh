#!/usr/bin/env bash
# The Clever Hans benchmark (docs/evaluation.md, "watermark"; docs/design.md 7):
#   1. watermark scenes (80 x 80, 600 training and 400 test scenes): class
#      trouser with 30 % of its training scenes tagged (the default), class
#      shirt (the hardest to tell from the other items) with all of them
#      tagged, and for each the control without tags in training (--rate 0;
#      otherwise the same scenes, the test split included);
#   2. on each, a BoW + HIK SVM model (configs/scenes.json) and a Fisher-vector
#      model (configs/scenes_fisher.json);
#   3. `pixelwise analyse --class C` on each model's test scenes, K from the
#      eigengap: accuracy on tagged and untagged test scenes, relevance mass on
#      the tag against its area, tag-flip rate, and SpRAy's clusters against
#      the tagged flag (purity, adjusted Rand index).
# Outputs go to clever-hans-output/ (or the first argument): per run
# analysis.json and report/index.html, and summary.md. Seeded: the same
# command gives the same numbers (times aside). About 10 minutes.
#
# Environment: PIXELWISE_BINARY (a built pixelwise; otherwise the script sets
# up and builds like demo.sh), TRAIN (600), TEST (400).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/clever-hans-output}
if [ -z "${PIXELWISE_BINARY:-}" ]; then
  "$root/scripts/setup.sh"
  "$root/scripts/build.sh"
  PIXELWISE_BINARY="${PIXELWISE_BUILD_DIR:-$root/build}/pixelwise"
fi
pixelwise=$PIXELWISE_BINARY
train=${TRAIN:-600}
test=${TEST:-400}
mkdir -p "$out"

run() {  # class, rate, configuration name, run name
  local class=$1 r=$2 config=$3 name=$4
  local dir="$out/$name" scenes="$out/scenes-$class-$r"
  mkdir -p "$dir"
  if [ ! -f "$scenes/scenes.json" ]; then
    echo "== watermark scenes, class $class, rate $r"
    "$pixelwise" make-scenes --kind watermark --class "$class" --rate "$r" --train "$train" --test "$test" --seed 1 \
      --quiet --out "$scenes"
  fi
  if [ ! -f "$dir/model/manifest.json" ]; then
    echo "== $name: train ($config)"
    "$pixelwise" train --quiet --config "$root/configs/$config.json" --data "$scenes/train" --out "$dir/model"
  fi
  echo "== $name: analyse"
  "$pixelwise" analyse --quiet --model "$dir/model" --data "scenes:$scenes:test" --class "$class" --out "$dir/analysis" \
    | tee "$dir/analyse.txt"
  echo "$name $class $r $config" >> "$out/runs.txt"
}

rm -f "$out/runs.txt"
for setting in "trouser 0.3" "trouser 0" "shirt 1" "shirt 0"; do
  read -r class rate <<< "$setting"
  run "$class" "$rate" scenes "bow-$class-$rate"
  run "$class" "$rate" scenes_fisher "fisher-$class-$rate"
done

python3 - "$out" <<'PYTHON'
import json, sys
out = sys.argv[1]
rows = ["| model | class | training tag rate | accuracy tagged / untagged | tag mass (tag area) | tag-flip rate | "
        "K (eigengap) | best cluster: size, purity, ARI | ARI of the clustering |",
        "|---|---|---|---|---|---|---|---|---|"]
for line in open(f"{out}/runs.txt"):
    name, cls, rate, config = line.split()
    a = json.load(open(f"{out}/{name}/analysis/analysis.json"))
    c = a["classes"][0]
    w = c["watermark"]
    b = w["best_cluster"]
    model = "BoW + HIK" if config == "scenes" else "Fisher vector"
    rows.append(f"| {model} | {cls} | {rate} | {w['accuracy']['tagged']:.3f} / {w['accuracy']['untagged']:.3f} | "
                f"{w['tag_mass']['mean']:.3f} ({w['tag_area_fraction']:.3f}) | {w['tag_flip']['rate']:.3f} "
                f"({w['tag_flip']['flipped']}/{w['tag_flip']['images']}) | {c['clusters']} | "
                f"{b['size']}, {b['purity']:.2f}, {b['adjusted_rand_index']:.3f} | {w['adjusted_rand_index']:.3f} |")
open(f"{out}/summary.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PYTHON
