#!/usr/bin/env python3
"""Reproduce the README's heatmap figure from Python.

Three explanations of the demo model (configs/demo.json trained on 3000
Fashion-MNIST images by scripts/demo.sh): test image 1 (a pullover) explained
as its predicted class, test image 0 (an ankle boot) as its predicted class,
and the same ankle boot explained as "trouser" (evidence for and against a
class that was not predicted). Each panel is the picture the CLI writes
(docs/heatmap-*.png come from that model); the figure puts them side by side.

    bash scripts/demo.sh   # trains demo-output/model
    PYTHONPATH=build/python /usr/bin/python3 examples/reproduce_figure.py --model demo-output/model

Without --model a small model is trained first (the panels then differ from
the README's, which need the demo model).
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

# (panel file name as in docs/, image reference, class explained: None = predicted)
PANELS = [
    ("heatmap-pullover.png", "fashion-mnist:test@1", None),
    ("heatmap-ankle-boot.png", "fashion-mnist:test@0", None),
    ("heatmap-ankle-boot-as-trouser.png", "fashion-mnist:test@0", "trouser"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="the demo model directory (default: train a small model)")
    parser.add_argument("--out", default="figure-output")
    parser.add_argument("--compare", help="folder with the reference panels (e.g. docs) to compare with, pixel for pixel")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.model:
        model = pixelwise.BowModel.load(args.model)
    else:
        print("training a small model on fashion-mnist:train:300 ...")
        model = pixelwise.BowModel.train(SMALL_CONFIG, data="fashion-mnist:train:300")

    panels = []
    for name, reference, target in PANELS:
        image = pixelwise.load_image(reference)
        e = model.explain(image, target=target)
        panel = e.heatmap()  # over the explained image; red: evidence for the class, blue: against; max |R| scaled per image
        pixelwise.save_image(str(out / name), panel)
        panels.append(panel)
        print(f"{name}: {reference} explained as {e.class_name!r} (predicted {model.classes[e.predicted]!r}),"
              f" score {e.score:+.4f}, pixel sum {e.pixel_sum:+.4f}")
        if args.compare:
            reference_panel = pixelwise.read_image(str(Path(args.compare) / name))
            same = reference_panel.shape == panel.shape and np.array_equal(reference_panel, panel)
            print(f"  {'identical to' if same else 'differs from'} {Path(args.compare) / name}")

    gap = np.full((panels[0].shape[0], 8, 3), 255, dtype=np.uint8)
    figure = np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1)
    pixelwise.save_image(str(out / "figure.png"), figure)
    print(f"wrote {out / 'figure.png'} ({figure.shape[1]} x {figure.shape[0]})")


if __name__ == "__main__":
    main()
