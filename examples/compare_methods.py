#!/usr/bin/env python3
"""Compare explanation methods on the same images by region perturbation (AOPC).

For a model directory (BoW or network; a small BoW model is trained when none
is given), explains a few test images with several methods (LRP, sensitivity,
occlusion, random, ...), scores each heatmap by the most-relevant-first region
perturbation of Samek et al. 2017 (a larger AOPC: the score falls faster, the
heatmap is more faithful), and writes a montage of the heatmaps. It also shows
that the metrics take any Python callable as the model: the same curve is
computed through a plain function wrapping the model.

    PYTHONPATH=build/python /usr/bin/python3 examples/compare_methods.py --model demo-output/model
"""
import argparse
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
    parser.add_argument("--model", help="model directory or LRP Toolbox file (default: train a small BoW model)")
    parser.add_argument("--images", default="fashion-mnist:test@0,fashion-mnist:test@1",
                        help="comma-separated image references or files")
    parser.add_argument("--methods", default="lrp,sensitivity,occlusion,random")
    parser.add_argument("--steps", type=int, default=30, help="perturbation steps L")
    parser.add_argument("--out", default="compare-output")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    if args.model:
        path = args.model
    else:
        print("training a small model on fashion-mnist:train:300 ...")
        path = str(out / "model")
        pixelwise.BowModel.train(SMALL_CONFIG, data="fashion-mnist:train:300").save(path)
    model = pixelwise.load_model(path)
    methods = args.methods.split(",")
    print(model, "methods:", model.methods)

    aopc: dict[str, list[float]] = {m: [] for m in methods}
    rows = []
    for index, reference in enumerate(args.images.split(",")):
        image = pixelwise.load_image(reference)
        c = int(np.argmax(model.scores(image)))
        panels = []
        for method in methods:
            result = model.explain(image, method=method, target=c, image_index=index)
            curve = pixelwise.region_perturbation(model, image, result.pixels, target=c, steps=args.steps,
                                                  seed=pixelwise.image_seed(1, index))
            aopc[method].append(curve["aopc"])
            panels.append(result.heatmap())
            print(f"{reference}: {method:>12}  class {model.classes[c]!r}  AOPC {curve['aopc']:+.5f}"
                  f"  ({result.evaluations} model evaluations, {result.seconds * 1000:.1f} ms)")
        rows.append(np.concatenate(panels, axis=1))

    # Any Python callable is a model for the metrics: f(images N x H x W float32 in [0, 1], c) -> N scores.
    if model.kind == "bow":
        bow = pixelwise.BowModel.load(path)

        def f(images, c):
            return bow.predict_batch(images)[:, c]

        image = pixelwise.load_image(args.images.split(",")[0])
        c = int(np.argmax(model.scores(image)))
        lrp = model.explain(image, method="lrp", target=c).pixels
        seed = pixelwise.image_seed(1, 0)
        a = pixelwise.region_perturbation(model, image, lrp, target=c, steps=args.steps, seed=seed)
        b = pixelwise.region_perturbation(f, image, lrp, target=c, steps=args.steps, seed=seed)
        assert np.array_equal(a["scores"], b["scores"]), "a callable wrapping the model gives the model's curve"
        print(f"the same curve through a Python callable: AOPC {b['aopc']:+.5f}")

    print("mean AOPC (most relevant first; larger is better):")
    for method in methods:
        print(f"  {method:>12}  {np.mean(aopc[method]):+.5f}")
    pixelwise.save_image(str(out / "methods.png"), np.concatenate(rows, axis=0))
    print(f"wrote {out / 'methods.png'} (one row per image; columns: {', '.join(methods)})")


if __name__ == "__main__":
    main()
