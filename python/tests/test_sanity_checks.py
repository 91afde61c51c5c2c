"""The sanity checks from Python (docs/evaluation.md "Sanity checks", docs/python.md):
heatmap_similarity on any heatmaps, Model.randomisation_stages and
Model.randomised, and mprt on one image, on the tiny Fashion-MNIST model."""
import math

import numpy as np
import pytest

import pixelwise


@pytest.fixture(scope="module")
def explainable(model_dir):
    return pixelwise.load_model(str(model_dir))


def test_heatmap_similarity_by_hand():
    a = np.array([[1.0, 2.0], [2.0, 3.0]])
    b = np.array([[1.0, 3.0], [2.0, 4.0]])
    s = pixelwise.heatmap_similarity(a, b, top_k=0.5)
    assert s["spearman"] == pytest.approx(math.sqrt(0.9), abs=1e-15)  # average ranks for the tie
    assert s["top_k"] == 2
    assert s["chance"]["top_k_intersection"] == 0.5
    same = pixelwise.heatmap_similarity(b, 2 * b)
    assert same["ssim"] == pytest.approx(1.0, abs=1e-12)
    assert same["spearman"] == 1.0
    # A constant map has no ranking: None, not a number.
    assert pixelwise.heatmap_similarity(np.zeros((3, 3)), np.eye(3))["spearman"] is None


def test_heatmap_similarity_refuses_bad_arguments():
    with pytest.raises(ValueError, match="one size"):
        pixelwise.heatmap_similarity(np.zeros((3, 3)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="top-k"):
        pixelwise.heatmap_similarity(np.eye(3), np.eye(3), top_k=0.0)
    with pytest.raises(ValueError, match="finite"):
        pixelwise.heatmap_similarity(np.full((2, 2), np.nan), np.eye(2))
    with pytest.raises((TypeError, ValueError)):
        pixelwise.heatmap_similarity(np.zeros(4), np.zeros(4))


def test_randomised_models_are_seeded_and_cumulative(explainable, test_images):
    stages = explainable.randomisation_stages
    assert stages[0] == "svm coefficients"
    assert stages[1].startswith("vocabulary")
    image = test_images[0][0]
    original = explainable.scores(image)
    one = explainable.randomised(1, seed=4)
    assert one.randomisation_stages == stages
    np.testing.assert_array_equal(one.scores(image), explainable.randomised(1, seed=4).scores(image))
    assert not np.array_equal(one.scores(image), original)
    assert not np.array_equal(one.scores(image), explainable.randomised(1, seed=5).scores(image))
    with pytest.raises(ValueError, match="randomisation stages"):
        explainable.randomised(len(stages) + 1)


def test_mprt_random_fails_and_lrp_passes(explainable, test_images):
    image = test_images[0][0]
    rnd = pixelwise.mprt(explainable, image, method="random", seed=2)
    assert [s["stage"] for s in rnd["stages"]] == explainable.randomisation_stages
    for stage in rnd["stages"]:
        for measure in ("spearman", "spearman_abs", "ssim", "top_k_intersection"):
            assert stage[measure] == 1.0
        np.testing.assert_array_equal(stage["heatmap"], rnd["heatmap"])
    lrp = pixelwise.mprt(explainable, image, method="lrp", seed=2)
    assert lrp["heatmap"].dtype == np.float64 and lrp["heatmap"].shape == (28, 28)
    assert lrp["stages"][0]["spearman"] < 0.9
    assert lrp["chance"]["top_k_intersection"] == pytest.approx(78 / 784)
    # Every stage explains the model's class.
    assert lrp["class_index"] == int(np.argmax(explainable.scores(image)))
    with pytest.raises(ValueError, match="method"):
        pixelwise.mprt(explainable, image, method="nothing")


def test_evaluate_with_the_sanity_checks_from_python(explainable):
    result = pixelwise.evaluate(explainable, "fashion-mnist:test:2", methods=["lrp", "random"], metrics=["mprt"],
                                mprt_seed=3, top_k=0.2, jobs=1)
    assert result["settings"]["sanity_checks"]["mprt"]["seed"] == 3
    assert result["settings"]["sanity_checks"]["top_k"] == 0.2
    curve = result["summary"]["random"]["mprt"]
    assert [stage["stage"] for stage in curve] == explainable.randomisation_stages
    assert all(stage["spearman"]["mean"] == 1.0 for stage in curve)
    assert result["chance"]["similarity"]["top_k_intersection"]["mean"] == pytest.approx(157 / 784)
    with pytest.raises(ValueError, match="randomised-model"):
        pixelwise.evaluate(explainable, "fashion-mnist:test:2", methods=["lrp"], metrics=["data-randomisation"])
    with pytest.raises(RuntimeError, match="classes"):
        other = pixelwise.as_model(lambda images: np.zeros((len(images), 2)), classes=["a", "b"])
        pixelwise.evaluate(explainable, "fashion-mnist:test:2", methods=["lrp"], metrics=["data-randomisation"],
                           randomised_model=other)
