"""Typed use of the pixelwise API, checked by mypy (check_typing.py) against
the shipped stubs, never run: if a stub says the wrong type, mypy fails here.
"""
from pathlib import Path
from typing import Optional

import numpy as np
import numpy.typing as npt

import pixelwise


def explain_bow(model_dir: Path, image: npt.NDArray[np.uint8], target: Optional[str]) -> float:
    model = pixelwise.BowModel.load(str(model_dir))
    scores: npt.NDArray[np.float64] = model.predict(image)
    e = model.explain(image, target=target)
    pixels: npt.NDArray[np.float64] = e.pixels
    name: str = e.class_name
    assert name in model.classes and scores.shape[0] == len(model.classes)
    for layer in e.layers:
        print(layer["name"], layer["relevance_in"])
    heatmap: npt.NDArray[np.uint8] = e.heatmap()
    pixelwise.save_image("heatmap.png", heatmap)
    detailed = model.explain_detailed(image, target=target, bias_policy="uniform")
    assert detailed.descriptor_relevance.shape[0] == len(detailed.frames["x"])
    batch = model.explain_batch([image, image], targets=[target, None], jobs=2,
                                progress=lambda done, total: print(done, total))
    stacked: npt.NDArray[np.float64] = batch.pixels
    scores_n: npt.NDArray[np.float64] = model.predict_batch(np.stack([image, image]), progress=None)
    assert stacked.shape[0] == scores_n.shape[0] == len(batch)
    residual: Optional[float] = e.residual
    return float(pixels.sum()) + (residual or 0.0)


def explain_network(path: str, image: npt.NDArray[np.float64]) -> int:
    net = pixelwise.NetworkModel.load(path, input_range=(-1.0, 1.0))
    e = net.explain_detailed(image, method="taylor", target=3)
    root: Optional[npt.NDArray[np.float64]] = e.root
    common: pixelwise.Explanation = net.explain(image, rule="epsilon:0.01", target=net.class_index("3"))
    record: dict = common.to_json()
    assert record["class_index"] == common.class_index
    return e.class_index + (0 if root is None else 1)


def evaluate(path: str, image: npt.NDArray[np.float32]) -> float:
    m = pixelwise.load_model(path)
    r = m.explain(image, method="occlusion", target=0)
    curve = pixelwise.region_perturbation(m, image, r.pixels, target=r.class_index, steps=10)
    aopc: float = curve["aopc"]

    def callable_model(images: npt.NDArray[np.float32], c: int) -> npt.NDArray[np.float64]:
        return np.zeros(images.shape[0])

    pixelwise.occlusion(callable_model, image, target=1)
    return aopc


def blocks(image: npt.NDArray[np.uint8]) -> None:
    f = pixelwise.dense_sift(image, step=2, bin_sizes=[3, 4])
    descriptors: npt.NDArray[np.float32] = f.descriptors
    codebook = pixelwise.Codebook.train(descriptors, {"words": 8})
    codes = pixelwise.encode(codebook, f, {"type": "hard"})
    encoding = pixelwise.pool(codes, f, {"type": "sum"})
    histogram: npt.NDArray[np.float64] = encoding.histogram
    print(len(f), histogram.shape)


def inspect_layers_and_wrap(model_dir: Path, image: npt.NDArray[np.uint8], out: Path) -> float:
    model = pixelwise.BowModel.load(model_dir)
    d = model.explain_detailed(image)
    levels: npt.NDArray[np.float64] = d.level_relevance
    layout = model.bin_layout()
    share = float(d.bin_relevance[layout["level"] == 1].sum())
    mapping = pixelwise.HistogramMapping(model.codebooks[0].centres, pooling={"pyramid": [[1, 1], [2, 2]]})
    size: int = mapping.size

    def linear(histograms: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.zeros((histograms.shape[0], 2))

    p = pixelwise.PipelineModel(features={"type": "dsift"}, mapping=mapping, classifier=linear, classes=["a", "b"])
    e: pixelwise.Explanation = p.explain(image, method="occlusion")
    m: pixelwise.Model = pixelwise.as_model(p)
    pixelwise.region_perturbation(p, image, e.pixels, target=0, steps=5)
    p.save(out)
    loaded = pixelwise.PipelineModel.load(out)
    scores = pixelwise.as_model(lambda images: np.zeros((images.shape[0], 2)), classes=["a", "b"])
    return share + float(levels.sum()) + size + len(loaded.classes) + len(m.classes) + len(scores.classes)
