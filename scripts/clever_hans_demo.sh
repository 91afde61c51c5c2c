#!/usr/bin/env bash
# The Clever Hans benchmark (docs/evaluation.md, "watermark"; docs/design.md 7):
#   1. watermark scenes (80 x 80, 600 training and 400 test scenes): class
#      trouser with 30 % of its training scenes tagged, with the 7 x 11 pixel
#      tag (the default) and with it enlarged twice (--tag-scale 2, 14 x 22);
#      class shirt (the hardest to tell from the other items) with all its
#      training scenes carrying the enlarged tag; and for each the control
#      without tags in training (--rate 0; otherwise the same scenes, the test
#      split included);
#   2. on each, a BoW + HIK SVM model (configs/scenes.json) and a Fisher-vector
#      model (configs/scenes_fisher.json);
#   3. `pixelwise analyse --class C` on each model's test scenes, K from the
#      eigengap: accuracy on tagged and untagged test scenes, relevance mass on
#      the tag against its area, tag-flip rate, and SpRAy's clusters against
#      the tagged flag (purity, adjusted Rand index).
# Outputs go to clever-hans-output/ (or the first argument): per run
# analysis.json and report/index.html, and summary.md. Seeded: the same
# command gives the same numbers (times aside). About 15 minutes.
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

run() {  # class, rate, tag scale, configuration name, run name
  local class=$1 r=$2 scale=$3 config=$4 name=$5
  local dir="$out/$name" scenes="$out/scenes-$class-$r-$scale"
  mkdir -p "$dir"
  if [ ! -f "$scenes/scenes.json" ]; then
    echo "== watermark scenes, class $class, rate $r, tag scale $scale"
    "$pixelwise" make-scenes --kind watermark --class "$class" --rate "$r" --tag-scale "$scale" --train "$train" \
      --test "$test" --seed 1 --quiet --out "$scenes"
  fi
  if [ ! -f "$dir/model/manifest.json" ]; then
    echo "== $name: train ($config)"
    "$pixelwise" train --quiet --config "$root/configs/$config.json" --data "$scenes/train" --out "$dir/model"
  fi
  echo "== $name: analyse"
  "$pixelwise" analyse --quiet --model "$dir/model" --data "scenes:$scenes:test" --class "$class" --out "$dir/analysis" \
    | tee "$dir/analyse.txt"
  echo "$name $class $r $scale $config" >> "$out/runs.txt"
}

rm -f "$out/runs.txt"
for setting in "trouser 0.3 1" "trouser 0 1" "trouser 0.3 2" "trouser 0 2" "shirt 1 2" "shirt 0 2"; do
  read -r class rate scale <<< "$setting"
  run "$class" "$rate" "$scale" scenes "bow-$class-$rate-$scale"
  run "$class" "$rate" "$scale" scenes_fisher "fisher-$class-$rate-$scale"
done

python3 - "$out" <<'PYTHON'
import json, sys
out = sys.argv[1]
rows = ["| model | class | tag (pixels) | training tag rate | accuracy tagged / untagged | tag mass (tag area) | "
        "tag-flip rate | K (eigengap) | purity | ARI, tagged-majority split | ARI, tag corners |",
        "|---|---|---|---|---|---|---|---|---|---|---|"]
for line in open(f"{out}/runs.txt"):
    name, cls, rate, scale, config = line.split()
    a = json.load(open(f"{out}/{name}/analysis/analysis.json"))
    c = a["classes"][0]
    w = c["watermark"]
    model = "BoW + HIK" if config == "scenes" else "Fisher vector"
    tag = f"{7 * int(scale)} x {11 * int(scale)}"
    rows.append(f"| {model} | {cls} | {tag} | {rate} | {w['accuracy']['tagged']:.3f} / {w['accuracy']['untagged']:.3f} | "
                f"{w['tag_mass']['mean']:.3f} ({w['tag_area_fraction']:.3f}) | {w['tag_flip']['rate']:.3f} "
                f"({w['tag_flip']['flipped']}/{w['tag_flip']['images']}) | {c['clusters']} | {w['purity']:.3f} | "
                f"{w['majority_split']['adjusted_rand_index']:.3f} | {w['adjusted_rand_index_corners']:.3f} |")
open(f"{out}/summary.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PYTHON

# The README's figure (docs/clever-hans.png): per SpRAy cluster of the tagged
# shirt run (BoW), the heatmap of the image nearest its mean, and the mean.
python3 - "$out" "$pixelwise" <<'PYTHON'
import json, subprocess, sys
out, pixelwise = sys.argv[1], sys.argv[2]
run = f"{out}/bow-shirt-1-2/analysis"
c = json.load(open(f"{run}/analysis.json"))["classes"][0]
index = {i["source"]: i["index"] for i in c["images"]}
files, labels = [], []
for k in c["per_cluster"]:
    first = k["nearest"][0]
    tagged = sum(1 for i in c["images"] if i["cluster"] == k["cluster"] and i["tagged"])
    files += [f"{run}/report/img/shirt-cluster{k['cluster']}-{index[first]}-overlay.png",
              f"{run}/report/img/shirt-cluster{k['cluster']}-mean.png"]
    labels += [f"cluster {k['cluster']}: {k['size']} images", f"{tagged} tagged; mean"]
command = [pixelwise, "montage", "--out", f"{out}/clever-hans.png"]
for label in labels:
    command += ["--label", label]
subprocess.run(command + files, check=True)
print(f"figure: {out}/clever-hans.png")
PYTHON
