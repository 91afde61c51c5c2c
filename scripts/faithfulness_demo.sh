#!/usr/bin/env bash
# Faithfulness, robustness, complexity and the sanity checks (docs/evaluation.md,
# "Faithfulness correlation ..." and "Sanity checks"; docs/design.md 5) for
# lrp, taylor, sensitivity, occlusion and random, on
#   1. Fashion-MNIST: the demo model (configs/demo.json, 3000 training images),
#      the predicted class of the first MNIST_EVALUATED test images explained,
#      masks = the item's pixels (grey level > 0);
#   2. the "fashion" scenes (80 x 80, 600 training and 200 test scenes, detect
#      "trouser"; configs/scenes.json), the SCENES_EVALUATED first test scenes
#      read and those holding a trouser evaluated.
# For each a second model is trained on permuted labels (train
# --permute-labels) for the data randomisation test. `pixelwise evaluate`
# measures AOPC (MoRF), relevance mass, pointing game, faithfulness
# correlation, sensitivity-n, infidelity, max-sensitivity, sparseness,
# complexity, MPRT and data randomisation, each at its documented defaults.
# Outputs go to faithfulness-output/ (or the first argument): per run
# evaluation.json and report/index.html, summary.md (the tables of
# docs/evaluation.md) and mprt.png (the MPRT heatmaps of the first evaluated
# Fashion-MNIST image: one row per method, the model's map and then each
# randomisation stage and the permuted-label model's map).
#
# Environment: PIXELWISE_BINARY (a built pixelwise; otherwise the script sets
# up and builds like demo.sh), MNIST_EVALUATED (default 50), SCENES_EVALUATED
# (default 40: 20 hold the target). Seeded: the same command gives the same
# numbers (times aside). About 25 minutes on two cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/faithfulness-output}
if [ -z "${PIXELWISE_BINARY:-}" ]; then
  "$root/scripts/setup.sh"
  "$root/scripts/build.sh"
  PIXELWISE_BINARY="${PIXELWISE_BUILD_DIR:-$root/build}/pixelwise"
fi
pixelwise=$PIXELWISE_BINARY
mnist_evaluated=${MNIST_EVALUATED:-50}
scenes_evaluated=${SCENES_EVALUATED:-40}
methods=lrp,taylor,sensitivity,occlusion,random
metrics=aopc,mass,pointing,faithfulness-correlation,sensitivity-n,infidelity,max-sensitivity,sparseness,complexity,mprt,data-randomisation
mkdir -p "$out"

train_pair() {  # configuration, data, run folder
  local config=$1 data=$2 dir=$3
  mkdir -p "$dir"
  [ -f "$dir/model/manifest.json" ] ||
    "$pixelwise" train --quiet --config "$config" --data "$data" --out "$dir/model"
  [ -f "$dir/permuted/manifest.json" ] ||
    "$pixelwise" train --quiet --config "$config" --data "$data" --permute-labels --label-seed 1 --out "$dir/permuted"
}

echo "== Fashion-MNIST: the demo model and its permuted-label twin"
dir="$out/fashion-mnist"
train_pair "$root/configs/demo.json" fashion-mnist:train:3000 "$dir"
"$pixelwise" test --model "$dir/model" --data fashion-mnist:test:2000 --json > "$dir/accuracy.json"
"$pixelwise" test --model "$dir/permuted" --data fashion-mnist:test:2000 --json > "$dir/accuracy-permuted.json"
echo "== Fashion-MNIST: evaluate $mnist_evaluated test images (predicted class)"
"$pixelwise" evaluate --quiet --model "$dir/model" --data "fashion-mnist:test:$mnist_evaluated" --foreground 0 \
  --methods "$methods" --metrics "$metrics" --randomised-model "$dir/permuted" --report-images 4 \
  --out "$dir/evaluation" | tee "$dir/evaluation.txt"

echo "== fashion scenes: generate, train the model and its permuted-label twin"
dir="$out/fashion"
[ -f "$dir/scenes/scenes.json" ] ||
  "$pixelwise" make-scenes --kind fashion --size 80 --train 600 --test 200 --seed 1 --quiet --out "$dir/scenes"
train_pair "$root/configs/scenes.json" "$dir/scenes/train" "$dir"
"$pixelwise" test --model "$dir/model" --data "$dir/scenes/test" --json > "$dir/accuracy.json"
"$pixelwise" test --model "$dir/permuted" --data "$dir/scenes/test" --json > "$dir/accuracy-permuted.json"
echo "== fashion scenes: evaluate the test scenes holding a trouser among the first $scenes_evaluated"
"$pixelwise" evaluate --quiet --model "$dir/model" --data "scenes:$dir/scenes:test:$scenes_evaluated" --label trouser \
  --class trouser --steps 50 --methods "$methods" --metrics "$metrics" --randomised-model "$dir/permuted" \
  --report-images 4 --out "$dir/evaluation" | tee "$dir/evaluation.txt"

# The tables (Debian's python3, standard library only) and the MPRT figure.
/usr/bin/python3 - "$out" "$pixelwise" <<'PYTHON' > "$out/summary.md"
import json, os, subprocess, sys
out, pixelwise = sys.argv[1], sys.argv[2]
def cell(s, key, digits=3):
    v = s.get(key)
    if not v or v.get("mean") is None:
        return "–"
    return f"{v['mean']:.{digits}f} ± {v['ci95']:.{digits}f}" if v["count"] > 1 else f"{v['mean']:.{digits}f}"
def mean_of(v, digits=3):
    return "–" if v is None or v.get("mean") is None else f"{v['mean']:.{digits}f}"
for run in ["fashion-mnist", "fashion"]:
    ev = json.load(open(f"{out}/{run}/evaluation/evaluation.json"))
    acc = json.load(open(f"{out}/{run}/accuracy.json"))
    acc_p = json.load(open(f"{out}/{run}/accuracy-permuted.json"))
    st = ev["settings"]
    stages = st["sanity_checks"]["mprt"]["stages"]
    print(f"### {run}\n")
    print(f"Model test accuracy {acc['accuracy']:.3f} (permuted-label twin {acc_p['accuracy']:.3f}) on "
          f"{acc['images']} images; evaluated {st['data']['evaluated']} images of `{st['data']['spec'].replace(out + '/', '')}`, "
          f"class {st['class']}.\n")
    print("| method | AOPC MoRF ↑ | mass ↑ | pointing ↑ | faithfulness corr. ↑ | sensitivity-n (mean over n) ↑ "
          "| relative infidelity ↓ | max-sensitivity ↓ | sparseness (Gini) | complexity (nats) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for m in st["methods"]:
        s = ev["summary"][m]
        curve = [v for v in s.get("sensitivity-n", {}).get("mean", []) if v is not None]
        sn = f"{sum(curve) / len(curve):.3f}" if curve else "–"
        print(f"| {m} | {cell(s, 'aopc')} | {cell(s, 'mass')} | {cell(s, 'pointing')} | "
              f"{cell(s, 'faithfulness-correlation')} | {sn} | {cell(s, 'relative_infidelity')} | "
              f"{cell(s, 'max-sensitivity')} | {cell(s, 'sparseness')} | {cell(s, 'complexity')} |")
    print()
    print("Sanity checks: mean similarity of the map on the model to the map on the randomised model "
          "(Spearman ρ of R / ρ of |R| / SSIM / top-10 % intersection; unrelated maps: 0 / 0 / ≈0 / "
          f"{ev['chance']['similarity']['top_k_intersection']['mean']:.2f}).\n")
    print("| method | " + " | ".join(f"MPRT: + {s.split(' (')[0]}" for s in stages) + " | data randomisation |")
    print("|---|" + "---|" * (len(stages) + 1))
    for m in st["methods"]:
        s = ev["summary"][m]
        def sim(x):
            return (f"{mean_of(x['spearman'])} / {mean_of(x['spearman_abs'])} / {mean_of(x['ssim'])} / "
                    f"{mean_of(x['top_k_intersection'])}")
        print(f"| {m} | " + " | ".join(sim(x) for x in s["mprt"]) + f" | {sim(s['data_randomisation'])} |")
    print()
# The MPRT figure: the first Fashion-MNIST image of the report, a row per method.
run = f"{out}/fashion-mnist/evaluation"
ev = json.load(open(f"{run}/evaluation.json"))
stages = ev["settings"]["sanity_checks"]["mprt"]["stages"]
first = ev["settings"]["methods"][0]
heatmaps = sorted(f for f in os.listdir(f"{run}/report/img") if f.startswith("0-") and f.endswith(f"-{first}-heatmap.png"))
stem = heatmaps[0][: -len(f"-{first}-heatmap.png")]
files, labels = [], []
for m in ev["settings"]["methods"]:
    files.append(f"{run}/report/img/{stem}-{m}-heatmap.png")
    labels.append(f"{m}: model")
    for k, stage in enumerate(stages):
        files.append(f"{run}/report/img/{stem}-{m}-mprt-{k + 1}.png")
        labels.append(f"+ {stage.split(' (')[0]}")
    files.append(f"{run}/report/img/{stem}-{m}-permuted-labels.png")
    labels.append("permuted labels")
command = [pixelwise, "montage", "--out", f"{out}/mprt.png", "--columns", str(len(stages) + 2), "--scale", "3"]
for label in labels:
    command += ["--label", label]
subprocess.run(command + files, check=True)
PYTHON
echo "== done: $out/summary.md, $out/mprt.png; reports in $out/*/evaluation/report/index.html"
cat "$out/summary.md"
