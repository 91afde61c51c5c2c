#!/usr/bin/env bash
# Regenerates the format-1 model fixtures of tests/test_format1_models.cpp:
# small model directories written by pixelwise 0.1.0 before the layer-contract
# redesign, and the explanations that version computed from them. Later
# versions must load these directories and explain the same maps (to 1e-12
# max |R|). Usage: make_fixtures.sh PIXELWISE_BINARY (run from this folder).
# Needs the Debian package dataset-fashion-mnist and python3-numpy.
set -euo pipefail
pw=$1
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
rm -rf models expected images
mkdir -p models expected images
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

base='"descriptor": {"step": 3, "bin_sizes": [3, 4]},
  "codebook": {"words": 12, "training_descriptors": 2000, "seed": 3},
  "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]}'
cfg() { echo "{ $base, $1 }" > "$work/$2.json"; }
cfg '"svm": {"kernel": "hik", "C": 10}' grey-hik
cfg '"svm": {"kernel": "rbf", "C": 10}' grey-rbf
cfg '"svm": {"kernel": "chi2", "C": 10, "multiclass": "one_vs_one"}' grey-ovo
cfg '"svm": {"kernel": "hik", "C": 10, "feature_map": {"order": 1}}' grey-kernel-map
cfg '"normalisation": {"steps": ["power", "l2"]}, "network": {"hidden": [8], "epochs": 3, "seed": 2}' grey-network
data=fashion-mnist:train:60
for m in grey-hik grey-rbf grey-ovo grey-kernel-map grey-network; do
  "$pw" train --quiet --config "$work/$m.json" --data "$data" --out "models/$m"
done

# A two-class colour data set: reddish and greenish blobs on noisy
# backgrounds, 24 x 24 PPM files (seeded, so the script is repeatable).
/usr/bin/python3 - "$work/colour" "$here/images" <<'PY'
import os, sys
import numpy as np
root, keep = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)
def image(kind):
    a = rng.uniform(0.2, 0.6, (24, 24, 3))
    y, x = np.mgrid[0:24, 0:24]
    cy, cx, r = rng.uniform(8, 16), rng.uniform(8, 16), rng.uniform(4, 7)
    blob = (y - cy) ** 2 + (x - cx) ** 2 < r * r
    a[blob] = [0.9, 0.2, 0.1] if kind == "fruit" else [0.2, 0.8, 0.2]
    return (a * 255).astype(np.uint8)
def save(path, a):
    with open(path, "wb") as f:
        f.write(b"P6\n24 24\n255\n" + a.tobytes())
for kind in ("fruit", "leaf"):
    os.makedirs(os.path.join(root, kind), exist_ok=True)
    for i in range(20):
        save(os.path.join(root, kind, f"{i:02d}.ppm"), image(kind))
save(os.path.join(keep, "fruit.ppm"), image("fruit"))
save(os.path.join(keep, "leaf.ppm"), image("leaf"))
PY
cat > "$work/colour.json" <<'J'
{ "descriptor": {"step": 3, "bin_sizes": [3, 4]},
  "codebook": {"words": 8, "training_descriptors": 2000, "seed": 3},
  "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
  "combine": "sum_of_kernels",
  "channels": [{"name": "grey"}, {"name": "opponent", "descriptor": {"colour": "opponent"}}],
  "svm": {"kernel": "chi2", "C": 10} }
J
"$pw" train --quiet --config "$work/colour.json" --data "$work/colour" --out models/colour-opponent

# The explanations of that version.
grey="fashion-mnist:test@0 fashion-mnist:test@1"
ex() { local model=$1 out=$2; shift 2; "$pw" explain --model "models/$model" --out "expected/$out" --layers "$@" >/dev/null; }
ex grey-hik grey-hik $grey
ex grey-hik grey-hik-none-class3 --class 3 --bias-policy none $grey
ex grey-rbf grey-rbf-taylor --method taylor $grey
ex grey-ovo grey-ovo $grey
ex grey-ovo grey-ovo-versus --class 9 --versus 5 $grey
ex grey-kernel-map grey-kernel-map $grey
ex grey-network grey-network $grey
ex colour-opponent colour-opponent --class fruit images/fruit.ppm images/leaf.ppm
rm -f expected/*/*.png
