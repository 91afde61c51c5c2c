#!/usr/bin/env bash
# Taylor demo (docs/design.md 1.4 and 1.6; docs/taylor.md): on Fashion-MNIST,
#  1. trains an additive chi-square SVM model (configs/taylor_chi2.json) and an
#     exponential chi-square one (configs/taylor_expchi2.json, gamma by the
#     "mean" rule), on the first 3000 training images, and tests both;
#  2. explains the first N test images (default 100) three ways:
#       exact LRP of the chi2 model | Taylor of the same chi2 model | Taylor of the expchi2 model
#     (Taylor: root by bisection towards the nearest support vector of the other sign);
#  3. writes side-by-side heatmaps of the three for test images 0-7
#     (side-by-side/NAME.png) and a tiled Taylor explanation of image 0;
#  4. prints the measured residuals f(x) - sum R (SVM layer, and after the
#     pixels) and the root scores, and saves them to residuals.txt.
#
# Usage: scripts/taylor_demo.sh [OUTPUT_FOLDER]   (default: taylor-demo-output/)
# Environment: PIXELWISE_BUILD_DIR (default build/; built if the binary is missing),
#              PIXELWISE_TAYLOR_IMAGES (N, default 100), PYTHON (default /usr/bin/python3,
#              used only to summarise the JSON outputs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/taylor-demo-output}
build_dir=${PIXELWISE_BUILD_DIR:-$root/build}
bin=$build_dir/pixelwise
n=${PIXELWISE_TAYLOR_IMAGES:-100}
python=${PYTHON:-/usr/bin/python3}
[ -x "$bin" ] || PIXELWISE_BUILD_DIR=$build_dir "$root/scripts/build.sh"
mkdir -p "$out"

for kernel in chi2 expchi2; do
  echo "== training the $kernel model (configs/taylor_$kernel.json, 3000 Fashion-MNIST training images)"
  "$bin" train --quiet --config "$root/configs/taylor_$kernel.json" --data fashion-mnist:train:3000 --out "$out/model-$kernel"
  "$bin" test --model "$out/model-$kernel" --data fashion-mnist:test:1000 | tee "$out/accuracy-$kernel.txt"
done

images=()
for ((i = 0; i < n; ++i)); do images+=("fashion-mnist:test@$i"); done
echo "== explaining $n test images (predicted class): LRP (chi2), Taylor (chi2), Taylor (expchi2)"
"$bin" explain --model "$out/model-chi2" --out "$out/lrp-chi2" "${images[@]}" > "$out/lrp-chi2.log"
"$bin" explain --model "$out/model-chi2" --method taylor --out "$out/taylor-chi2" "${images[@]}" > "$out/taylor-chi2.log"
"$bin" explain --model "$out/model-expchi2" --method taylor --out "$out/taylor-expchi2" "${images[@]}" \
  > "$out/taylor-expchi2.log"

echo "== side-by-side heatmaps (red: evidence for the class, blue: against; each map scaled by its max |R|)"
mkdir -p "$out/side-by-side"
for ((i = 0; i < 8 && i < n; ++i)); do
  name=fashion-mnist-test-$i
  "$bin" montage --out "$out/side-by-side/$name.png" --label "LRP, chi2" --label "Taylor, chi2" --label "Taylor, expchi2" \
    "$out/lrp-chi2/$name.png" "$out/taylor-chi2/$name.png" "$out/taylor-expchi2/$name.png"
done

echo "== tiled Taylor explanation of test image 0 (tiles of 20 x 20 pixels every 4, docs/design.md 1.6)"
"$bin" explain --model "$out/model-expchi2" --method taylor --tiles 20,4 --out "$out/tiled-expchi2" fashion-mnist:test@0
"$bin" montage --out "$out/side-by-side/fashion-mnist-test-0-tiled.png" --label "Taylor, expchi2" \
  --label "tiled 20,4" "$out/taylor-expchi2/fashion-mnist-test-0.png" "$out/tiled-expchi2/fashion-mnist-test-0.png"

echo "== residuals over $n images"
"$python" - "$out" > "$out/residuals.txt" <<'EOF'
import glob, json, os, statistics, sys
out = sys.argv[1]
def summary(values):
    return "median %.3g  mean %.3g  max %.3g" % (statistics.median(values), statistics.mean(values), max(values))
for folder, title in [("lrp-chi2", "exact LRP, chi2 model (bias policy nonzero)"),
                      ("taylor-chi2", "Taylor, chi2 model (reference: nearest support vector)"),
                      ("taylor-expchi2", "Taylor, expchi2 model (reference: nearest support vector)")]:
    svm, pixels, roots, higher = [], [], [], []
    for path in sorted(glob.glob(os.path.join(out, folder, "*.json"))):
        j = json.load(open(path))
        f = abs(j["score"])
        t = j.get("taylor")
        svm_layer = j["layers"][0]
        svm.append(abs(svm_layer["relevance_in"] - svm_layer["relevance_out"]) / f)
        pixels.append(abs(j["residual"]) / f)
        if t:
            roots.append(abs(t["root_score"]))
            higher.append(abs(t["higher_order"]) / f)
    print("%s, %d images" % (title, len(svm)))
    print("  |f(x) - sum R| / |f(x)| at the SVM layer:  " + summary(svm))
    print("  |f(x) - sum R| / |f(x)| at the pixels:     " + summary(pixels))
    if roots:
        print("  higher-order terms / |f(x)|:            " + summary(higher))
        print("  largest |f(x0)| at the roots:           %.3g" % max(roots))
EOF
cat "$out/residuals.txt"
echo "== done: side-by-side heatmaps in $out/side-by-side, explanations (.npy, .png, .json) in $out/{lrp-chi2,taylor-chi2,taylor-expchi2}"
