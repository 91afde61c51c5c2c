"""A BoW model whose classifier is linear SVMs on a homogeneous kernel map
(config svm.feature_map; docs/config.md), seen from Python: trained in memory,
equal to the same model saved and loaded and to the CLI's explanation to the
last bit, conserving the score, and offering lrp, occlusion and random."""
import copy

import numpy as np
import pytest

import pixelwise
from conftest import TINY_CONFIG, TRAIN_SPEC

MAP_CONFIG = copy.deepcopy(TINY_CONFIG)
MAP_CONFIG["svm"] = {"kernel": "chi2", "C": 10.0, "feature_map": {"order": 1}}


@pytest.fixture(scope="module")
def map_model_dir(tmp_path_factory):
    model = pixelwise.BowModel.train(MAP_CONFIG, data=TRAIN_SPEC)
    out = tmp_path_factory.mktemp("bow-kernel-map") / "model"
    model.save(str(out))
    return out


def test_a_kernel_map_model_explains_like_the_cli_and_conserves(cli, map_model_dir, tmp_path):
    model = pixelwise.BowModel.load(str(map_model_dir))
    assert model.svm is None  # no kernel SVMs, no support vectors
    assert model.kernel == "chi2 (order-1 homogeneous kernel map + linear SVMs)"
    assert model.config["svm"]["feature_map"]["order"] == 1
    image = "fashion-mnist:test@4"
    e = model.explain(image)
    assert abs(e.pixels.sum() - e.score) <= 1e-12 * max(1.0, abs(e.score))
    out = tmp_path / "out"
    cli.run("explain", "--model", map_model_dir, "--out", out, "fashion-mnist:test@4")
    assert np.array_equal(np.load(out / "fashion-mnist-test-4.npy"), e.pixels)

    generic = pixelwise.as_model(model)
    assert set(generic.methods) == {"lrp", "occlusion", "random"}
    assert np.array_equal(generic.explain(image, method="lrp").pixels, e.pixels)
    with pytest.raises(ValueError, match="kernel map"):
        model.explain(image, method="taylor")
