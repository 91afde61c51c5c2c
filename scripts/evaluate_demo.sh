#!/usr/bin/env bash
# Measures the explanation methods (docs/evaluation.md) on the two
# localisation benchmarks and on Fashion-MNIST:
#   1. "fashion" scenes: Fashion-MNIST items on OpenCV sample photographs,
#      detect "trouser" (80 x 80, 600 training and 200 test scenes);
#   2. "shapes" scenes: a circle among squares and triangles (64 x 64, same counts);
#   3. Fashion-MNIST itself: the demo model (configs/demo.json, 3000 training
#      images), masks = the item's pixels (grey level > 0).
# For each it trains a BoW + SVM model, reports its test accuracy and runs
# `pixelwise evaluate` with lrp, taylor, occlusion, sensitivity and random:
# AOPC (MoRF, LeRF, pixel flipping), relevance mass and rank accuracy, pointing
# game with the chance level, conservation, and the time per image; LRP once
# more with each other pixel rule (--pixel-rule gaussian and gradient, methods
# "lrp-gaussian" and "lrp-gradient" in the tables; the configurations spread
# uniformly, docs/design.md 1.5, 1.9). Outputs go
# to evaluation-output/ (or the folder given as the first argument): per run
# evaluation.json (every number and setting) and report/index.html, and a
# markdown summary of all three in summary.md.
#
# With MAPPINGS=1 it instead compares the visual-word mappings on the fashion
# scenes: BoW (configs/scenes.json), Fisher vectors (configs/scenes_fisher.json)
# and VLAD (configs/scenes_vlad.json), same descriptors and scenes, methods lrp,
# sensitivity, occlusion and random (runs fashion, fashion-fisher,
# fashion-vlad; about 15 minutes).
#
# Environment: PIXELWISE_BINARY (a built pixelwise; otherwise the script sets
# up and builds like demo.sh), SCENES_EVALUATED (test scenes read per
# benchmark, half of them hold the target; default 60), MNIST_EVALUATED
# (default 100), STEPS (perturbation steps on the scenes, default 50; the
# Fashion-MNIST run uses the default L = 100 with 3 x 3 regions), PIXEL_RULES
# (the further LRP pixel rules, default "gaussian gradient"; "" for none).
# Everything is seeded: the same command gives the same numbers (times aside).
# About 20 minutes on two idle cores (45 on a loaded machine).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/evaluation-output}
if [ -z "${PIXELWISE_BINARY:-}" ]; then
  "$root/scripts/setup.sh"
  "$root/scripts/build.sh"
  PIXELWISE_BINARY="${PIXELWISE_BUILD_DIR:-$root/build}/pixelwise"
fi
pixelwise=$PIXELWISE_BINARY
scenes_evaluated=${SCENES_EVALUATED:-60}
mnist_evaluated=${MNIST_EVALUATED:-100}
steps=${STEPS:-50}
pixel_rules=${PIXEL_RULES-gaussian gradient}
methods=lrp,taylor,occlusion,sensitivity,random
mkdir -p "$out"

# LRP again with every further pixel rule: the same images, metrics and seeds
# as the run's `evaluate` (its arguments after the output folder's parent).
other_pixel_rules() {  # run folder, evaluate arguments without --methods and --out
  local dir=$1
  shift
  for rule in $pixel_rules; do
    echo "== LRP with --pixel-rule $rule"
    "$pixelwise" evaluate --quiet "$@" --methods lrp --pixel-rule "$rule" --out "$dir/evaluation-$rule" \
      | tee "$dir/evaluation-$rule.txt"
  done
}

benchmark() {  # kind, size, target class[, configuration name, run name]
  local kind=$1 size=$2 target=$3 config=${4:-scenes} dir="$out/${5:-$1}"
  echo "== $kind scenes ($config): generate, train, test"
  if [ -d "$out/$kind/scenes" ]; then  # the same scenes for every model
    [ "$dir" = "$out/$kind" ] || { mkdir -p "$dir"; ln -sfn "$out/$kind/scenes" "$dir/scenes"; }
  else
    "$pixelwise" make-scenes --kind "$kind" --size "$size" --train 600 --test 200 --seed 1 --quiet --out "$out/$kind/scenes"
  fi
  "$pixelwise" train --quiet --config "$root/configs/$config.json" --data "$dir/scenes/train" --out "$dir/model"
  "$pixelwise" test --model "$dir/model" --data "$dir/scenes/test" --json > "$dir/accuracy.json"
  echo "== $kind scenes: evaluate the $((scenes_evaluated / 2)) test scenes that hold a $target"
  local args=(--model "$dir/model" --data "scenes:$dir/scenes:test:$scenes_evaluated" --label "$target"
              --class "$target" --steps "$steps" --flip-steps "$steps")
  "$pixelwise" evaluate --quiet "${args[@]}" --methods "$methods" --out "$dir/evaluation" | tee "$dir/evaluation.txt"
  other_pixel_rules "$dir" "${args[@]}"
}

if [ "${MAPPINGS:-0}" = 1 ]; then
  methods=lrp,sensitivity,occlusion,random
  benchmark fashion 80 trouser
  benchmark fashion 80 trouser scenes_fisher fashion-fisher
  benchmark fashion 80 trouser scenes_vlad fashion-vlad
  runs="fashion fashion-fisher fashion-vlad"
else
benchmark fashion 80 trouser
benchmark shapes 64 circle
runs="fashion shapes fashion-mnist"

echo "== Fashion-MNIST: train the demo model, test, evaluate $mnist_evaluated test images (predicted class)"
dir="$out/fashion-mnist"
mkdir -p "$dir"
"$pixelwise" train --quiet --config "$root/configs/demo.json" --data fashion-mnist:train:3000 --out "$dir/model"
"$pixelwise" test --model "$dir/model" --data fashion-mnist:test:2000 --json > "$dir/accuracy.json"
"$pixelwise" evaluate --quiet --model "$dir/model" --data "fashion-mnist:test:$mnist_evaluated" --foreground 0 \
  --methods "$methods" --out "$dir/evaluation" | tee "$dir/evaluation.txt"
other_pixel_rules "$dir" --model "$dir/model" --data "fashion-mnist:test:$mnist_evaluated" --foreground 0
fi

# One markdown table per run (Debian's python3, standard library only).
/usr/bin/python3 - "$out" "$pixel_rules" $runs > "$out/summary.md" <<'EOF'
import json, sys, os
out, pixel_rules = sys.argv[1], sys.argv[2].split()
def cell(s, key, digits=3):
    if key not in s or s[key]["mean"] is None:
        return "–"
    v = s[key]
    return f"{v['mean']:.{digits}f} ± {v['ci95']:.{digits}f}" if v["count"] > 1 else f"{v['mean']:.{digits}f}"
for run in sys.argv[3:]:
    ev = json.load(open(os.path.join(out, run, "evaluation", "evaluation.json")))
    acc = json.load(open(os.path.join(out, run, "accuracy.json")))
    st = ev["settings"]
    print(f"### {run}\n")
    print(f"Model test accuracy {acc['accuracy']:.3f} on {acc['images']} images; evaluated "
          f"{st['data']['evaluated']} images of `{st['data']['spec'].replace(out + '/', 'evaluation-output/')}`, class {st['class']}, "
          f"L = {st['perturbation']['steps']}, masks: {st['data']['masks']}.\n")
    print("| method | AOPC MoRF ↑ | AOPC LeRF ↓ | pixel flipping ↑ | mass accuracy ↑ | rank accuracy ↑ | pointing game ↑ | s / image | evaluations / image |")
    print("|---|---|---|---|---|---|---|---|---|")
    try:  # the configured pixel rule names the first LRP row when others follow
        configured = st["model"]["pipeline"]["descriptor"]["weighting"]
    except (KeyError, TypeError):
        configured = "configured"
    rows = [(f"lrp-{configured}" if m == "lrp" and pixel_rules else m, ev["summary"][m]) for m in st["methods"]]
    for rule in pixel_rules:  # LRP with the other pixel rules, after the configured one
        path = os.path.join(out, run, f"evaluation-{rule}", "evaluation.json")
        if os.path.exists(path):
            rows.insert(1 + pixel_rules.index(rule), (f"lrp-{rule}", json.load(open(path))["summary"]["lrp"]))
    for m, s in rows:
        print(f"| {m} | {cell(s, 'aopc')} | {cell(s, 'lerf')} | {cell(s, 'pixel-flipping')} | {cell(s, 'mass')} | "
              f"{cell(s, 'rank')} | {cell(s, 'pointing')} | {cell(s, 'seconds', 4)} | {cell(s, 'evaluations', 0)} |")
    ch = ev["chance"]["mask_fraction"]
    c = "–" if ch["mean"] is None else f"{ch['mean']:.3f}"
    print(f"| chance (mask fraction) | | | | {c} | {c} | {c} | | |\n")
EOF
echo "== done: $out/summary.md; reports in $out/*/evaluation/report/index.html"
cat "$out/summary.md"
