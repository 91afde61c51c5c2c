"""pixelwise: pixel-wise explanations of image classifiers with Layer-wise
Relevance Propagation (Bach et al., PLOS ONE 2015).

A thin binding of the C++ library: the same models, the same numbers as the
``pixelwise`` command line, with numpy arrays in and out.

Images are numpy arrays of shape (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA,
dtype uint8 (0..255), uint16 (0..65535) or float32/float64 with values in
[0, 1]; a string names an image file or a data-set image ("fashion-mnist:test@0")
as on the command line. Colour is converted to grey exactly as for an image file
read by the command line.

Errors arrive as exceptions carrying the library's message: ValueError for bad
values (std::invalid_argument), RuntimeError for failures such as a missing or
damaged file, TypeError for arguments of the wrong type or dtype.

Main entry points:
    BowModel.load / BowModel.train / model.predict / model.explain (lrp, taylor)
        / model.explain_tiled
    compute_descriptors, dense_sift, Codebook, encode, pool, normalise, Svm,
    pool_relevance, spread_to_pixels  (the stages of a BoW pipeline)
    NetworkModel.load / net.explain (LRP rules and composites, taylor, sensitivity)
    load_model -> Model.explain (every method: lrp, taylor, sensitivity,
        occlusion, random), occlusion, random_relevance
    region_perturbation, rank_regions, localise, summarise  (metrics for any
        numpy heatmap and any model, including a Python callable)
    render_heatmap, save_image, read_image, load_image, load_dataset

See docs/python.md and the scripts in examples/.
"""

from ._pixelwise import *  # noqa: F401,F403
from ._pixelwise import __version__  # noqa: F401
