#!/usr/bin/env python3
"""Explain one image with a BoW + kernel-SVM model, pixel by pixel (LRP).

Loads a model directory (or trains a small one on Fashion-MNIST when none is
given), explains the predicted class (or --target), checks conservation,
lists the most relevant descriptors, and writes the relevance map (.npy) and
the heatmap (.png) to --out.

    PYTHONPATH=build/python /usr/bin/python3 examples/explain_image.py \
        --model demo-output/model --image fashion-mnist:test@0 --out explain-output
"""
import argparse
import os
from pathlib import Path

import numpy as np

import pixelwise

SMALL_CONFIG = {
    "descriptor": {"type": "dsift", "step": 2, "bin_sizes": [3, 4]},
    "codebook": {"words": 32, "training_descriptors": 5000, "seed": 1},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
    "svm": {"kernel": "hik", "C": 10.0},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="BoW model directory (default: train a small one on 300 Fashion-MNIST images)")
    parser.add_argument("--image", default="fashion-mnist:test@0",
                        help="image file (read with pixelwise.read_image) or data-set reference")
    parser.add_argument("--target", help="class to explain, name or index (default: the predicted class)")
    parser.add_argument("--bias-policy", default="nonzero", choices=["nonzero", "uniform", "none"])
    parser.add_argument("--out", default="explain-output", help="output folder")
    args = parser.parse_args()

    if args.model:
        model = pixelwise.BowModel.load(args.model)
    else:
        print("training a small model on fashion-mnist:train:300 ...")
        model = pixelwise.BowModel.train(SMALL_CONFIG, data="fashion-mnist:train:300")
    print(model)

    # Any numpy image works: here a file as it is stored (uint8, RGB or grey), or the
    # float32 grey image of a data-set reference.
    image = pixelwise.read_image(args.image) if os.path.exists(args.image) else pixelwise.load_image(args.image)
    target = int(args.target) if args.target and args.target.isdigit() else args.target

    scores = model.predict(image)
    print("scores:", ", ".join(f"{name} {s:+.4f}" for name, s in zip(model.classes, scores)))
    # explain_detailed: the BoW records (descriptors, frames) besides the common Explanation fields
    e = model.explain_detailed(image, target=target, bias_policy=args.bias_policy)
    print(f"explained class {e.class_name!r} (predicted {model.classes[e.predicted]!r}): score {e.score:.10f}")

    # Conservation (docs/design.md section 2): every layer passes on what it received,
    # up to what it absorbed or could not pass on.
    for layer in e.layers:
        print(f"  {layer['name']:>8}: in {layer['relevance_in']:+.10f}  out {layer['relevance_out']:+.10f}"
              f"  absorbed {layer['absorbed']:+.3g}  unassigned {layer['unassigned']:+.3g}")
    print(f"pixel sum {e.pixel_sum:.10f}, residual {e.residual:.3g}")
    if args.bias_policy == "nonzero":
        assert abs(e.pixels.sum() - e.score) <= 1e-9 * max(1.0, abs(e.score)), "relevance not conserved"

    # The descriptors that carry the most evidence for the class.
    frames = e.frames
    order = np.argsort(-e.descriptor_relevance)[:5]
    print("most relevant descriptors (centre, bin size, relevance):")
    for l in order:
        print(f"  ({frames['x'][l]:4.1f}, {frames['y'][l]:4.1f})  {frames['bin_size'][l]}  {e.descriptor_relevance[l]:+.5f}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "relevance.npy", e.pixels)
    pixelwise.save_image(str(out / "heatmap.png"), e.heatmap(image))
    print(f"wrote {out / 'relevance.npy'} and {out / 'heatmap.png'}")


if __name__ == "__main__":
    main()
