"""Export of an analysis (pixelwise.analyse) in the HDF5 layout that CoRelAy
and ViRelAy read (their "dataset" variant, one array per quantity), so that
the heatmaps and clusters can be browsed in those tools. Three files:

  PREFIX.input.h5        data   N x 1 x H x W float32, the grey images in [0, 1]
                         label  N uint32, the class index of each image
  PREFIX.attribution.h5  index        N uint32, the row of each attribution in the input file
                         attribution  N x 1 x H x W float32, the heatmaps
                         label        N x classes float32, one-hot: the explained class
                         prediction   N x classes float32, the model's scores
  PREFIX.analysis.h5     per analysed class a group /CLASS with name, index
                         (rows of the attribution file), embedding/spectral/root
                         (N_c x 2, the display embedding) and eigenvalue,
                         clustering/spray/root (cluster of each image),
                         #clusters, prototype/average/root (K x s x s mean
                         heatmaps)

Rows are the analysed images class after class, in the order of each class's
"images" in the analysis. h5py (Debian python3-h5py) is imported only here.
Every file is written to a temporary name first and renamed when complete.
"""
import os
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray


def _stacked(value: Any, what: str) -> NDArray[Any]:
    if isinstance(value, list):
        shapes = {np.shape(v) for v in value}
        raise ValueError(f"{what}: images of different sizes {sorted(shapes)} cannot form one N x 1 x H x W array")
    return np.asarray(value)


def export_virelay(analysis: dict[str, Any], prefix: "str | os.PathLike[str]") -> list[str]:
    """Writes PREFIX.input.h5, PREFIX.attribution.h5 and PREFIX.analysis.h5 from
    the dict that pixelwise.analyse returns. Returns the three paths."""
    import h5py  # type: ignore[import]  # only this export needs it; no type stubs

    if not isinstance(analysis, dict) or analysis.get("format") != "pixelwise-analysis":
        raise ValueError("analysis: expected the dict returned by pixelwise.analyse")
    classes = analysis["classes"]
    if not classes:
        raise ValueError("analysis: no analysed class")
    names = analysis["settings"]["model"].get("classes")
    inputs: list[NDArray[Any]] = []
    heatmaps: list[NDArray[Any]] = []
    labels: list[NDArray[Any]] = []
    outputs: list[NDArray[Any]] = []
    for c in classes:
        if "heatmaps" not in c:
            raise ValueError("analysis: class " + c["class"] + " has no heatmaps (use pixelwise.analyse, not analysis.json)")
        h = _stacked(c["heatmaps"], "heatmaps of " + c["class"])
        x = _stacked(c["inputs"], "inputs of " + c["class"])
        o = np.asarray(c["outputs"], dtype=np.float64)
        if heatmaps and h.shape[1:] != heatmaps[0].shape[1:]:
            raise ValueError("analysis: classes of different image sizes cannot form one array")
        heatmaps.append(h)
        inputs.append(x)
        outputs.append(o)
        labels.append(np.full(len(h), c["class_index"], dtype=np.uint32))
    heat = np.concatenate(heatmaps).astype(np.float32)[:, None, :, :]
    data = np.concatenate(inputs).astype(np.float32)[:, None, :, :]
    label = np.concatenate(labels)
    prediction = np.concatenate(outputs).astype(np.float32)
    one_hot = np.zeros_like(prediction)
    one_hot[np.arange(len(label)), label] = 1.0
    base = os.fspath(prefix)
    paths = [base + ".input.h5", base + ".attribution.h5", base + ".analysis.h5"]

    def write(path: str, fill: Callable[[Any], None]) -> None:
        partial = path + ".partial-" + str(os.getpid())
        try:
            with h5py.File(partial, "w") as f:
                fill(f)
            os.replace(partial, path)
        except BaseException:
            if os.path.exists(partial):
                os.remove(partial)
            raise

    def fill_input(f: Any) -> None:
        f["data"] = data
        f["label"] = label
        if names:
            f.attrs["classes"] = [str(n) for n in names]

    def fill_attribution(f: Any) -> None:
        f["index"] = np.arange(len(label), dtype=np.uint32)
        f["attribution"] = heat
        f["label"] = one_hot
        f["prediction"] = prediction

    def fill_analysis(f: Any) -> None:
        start = 0
        for c in classes:
            n = len(c["images"])
            g = f.require_group(c["class"])
            g["name"] = "SpRAy of class " + c["class"]
            g["index"] = np.arange(start, start + n, dtype=np.uint32)
            g["embedding/spectral/name"] = "Spectral embedding (eigenvectors 2 and 3)"
            g["embedding/spectral/root"] = np.array([r["embedding"] for r in c["images"]], dtype=np.float32)
            g["embedding/spectral/eigenvalue"] = np.asarray(c["eigenvalues"], dtype=np.float32)
            g["clustering/spray/name"] = "SpRAy k-means"
            g["clustering/spray/root"] = np.array([r["cluster"] for r in c["images"]], dtype=np.uint32)
            g["clustering/spray/#clusters"] = c["clusters"]
            g["clustering/spray/prototype/average/name"] = "Mean heatmap"
            g["clustering/spray/prototype/average/root"] = np.array(
                [k["mean_heatmap"] for k in c["per_cluster"]], dtype=np.float32)
            start += n

    write(paths[0], fill_input)
    write(paths[1], fill_attribution)
    write(paths[2], fill_analysis)
    return paths
