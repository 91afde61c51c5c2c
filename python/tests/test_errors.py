"""Bad input gives a Python exception carrying a clear message, never a crash."""
import shutil

import numpy as np
import pytest

import pixelwise
from conftest import TINY_CONFIG


@pytest.mark.parametrize(
    "image, error, words",
    [
        (np.zeros((28, 28), dtype=np.int64), TypeError, ["dtype int64", "uint8"]),
        (np.zeros((28, 28), dtype=bool), TypeError, ["dtype bool"]),
        (np.full((28, 28), 255.0), ValueError, ["[0, 1]", "255"]),
        (np.full((28, 28), -0.5, dtype=np.float32), ValueError, ["[0, 1]"]),
        (np.full((28, 28), np.nan), ValueError, ["NaN"]),
        (np.zeros((28, 28, 2), dtype=np.uint8), ValueError, ["shape (28, 28, 2)"]),
        (np.zeros(784, dtype=np.uint8), ValueError, ["shape (784,)"]),
        (np.zeros((0, 28), dtype=np.uint8), ValueError, ["empty"]),
        ([[0.5] * 28] * 28, TypeError, ["numpy array", "list"]),
        (None, TypeError, ["NoneType"]),
    ],
)
def test_bad_images_are_refused_with_a_clear_message(model, image, error, words):
    for call in (model.predict, model.explain, pixelwise.load_image):
        with pytest.raises(error) as info:
            call(image)
        for word in words:
            assert word in str(info.value), (call, str(info.value))


def test_image_too_small_for_the_descriptors_is_a_value_error(model):
    with pytest.raises(ValueError, match="image"):
        model.explain(np.zeros((5, 5), dtype=np.uint8))


def test_the_callers_arrays_are_never_modified(model, tmp_path):
    rgb = np.zeros((28, 28, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, np.arange(28, dtype=np.uint8)[None, :]
    rgba = np.concatenate([rgb, np.full((28, 28, 1), 255, dtype=np.uint8)], axis=-1)
    for image in (rgb, rgba):
        before = image.copy()
        model.explain(image)
        pixelwise.load_image(image, colour=True)
        pixelwise.render_heatmap(np.zeros((28, 28)), image)
        assert np.array_equal(image, before)
    pixelwise.save_image(str(tmp_path / "x.png"), rgb)
    assert np.array_equal(rgb, before[..., :3]) and rgb[0, 0].tolist() == [200, 100, 0]


def test_odd_but_valid_arrays_are_accepted(model, test_images):
    image = test_images[0][0]
    expected = model.explain(image).pixels
    wide = np.zeros((28, 56), dtype=np.uint8)
    wide[:, ::2] = image
    strided = wide[:, ::2]  # the same pixels, not contiguous
    assert not strided.flags.c_contiguous
    assert np.array_equal(model.explain(strided).pixels, expected)
    assert np.array_equal(model.explain(image[:, :, None]).pixels, expected)  # H x W x 1
    big_endian = image.astype(">u2") * 257  # uint16 in the other byte order, same grey levels
    assert np.array_equal(pixelwise.load_image(big_endian), pixelwise.load_image(image.astype(np.uint16) * 257))


def test_missing_and_damaged_models_name_the_file(model_dir, tmp_path):
    with pytest.raises(RuntimeError, match="no-such-model"):
        pixelwise.BowModel.load(str(tmp_path / "no-such-model"))
    damaged = tmp_path / "damaged"
    shutil.copytree(model_dir, damaged)
    with open(damaged / "svm-0.model", "ab") as f:
        f.write(b"x")
    with pytest.raises(RuntimeError, match="svm-0.model"):
        pixelwise.BowModel.load(str(damaged))


def test_bad_targets_and_policies(model, test_images):
    image = test_images[0][0]
    with pytest.raises(ValueError, match="zebra"):
        model.explain(image, target="zebra")
    with pytest.raises(ValueError, match="out of range"):
        model.explain(image, target=10)
    with pytest.raises(ValueError, match="out of range"):
        model.explain(image, target=-1)
    with pytest.raises(TypeError, match="class index"):
        model.explain(image, target=1.5)
    with pytest.raises(ValueError, match="bogus"):
        model.explain(image, bias_policy="bogus")
    with pytest.raises(ValueError, match="one-vs-one"):
        model.explain(image, target=0, versus=1)


def test_bad_training_input(test_images):
    images, labels = test_images
    with pytest.raises(ValueError, match="8 images but 7 labels"):
        pixelwise.BowModel.train(TINY_CONFIG, images, labels[:7])
    with pytest.raises(ValueError, match="colour"):
        pixelwise.BowModel.train({**TINY_CONFIG, "colour": 1}, images, labels)
    bad_svm = {**TINY_CONFIG, "svm": {"kernel": "hik", "CC": 1}}
    with pytest.raises(ValueError, match="CC"):
        pixelwise.BowModel.train(bad_svm, images, labels)
    with pytest.raises(RuntimeError, match="absent.json"):
        pixelwise.BowModel.train("absent.json", images, labels)
    with pytest.raises(ValueError, match="either"):
        pixelwise.BowModel.train(TINY_CONFIG, images, labels, data="fashion-mnist:train:10")
    with pytest.raises(ValueError, match="only 2 class names"):
        pixelwise.BowModel.train(TINY_CONFIG, images, labels, classes=["a", "b"])


def test_bad_building_block_input(model, test_images):
    with pytest.raises(ValueError, match=f"expected {model.dimension} values"):
        model.svm.decisions(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        model.svm.decisions(np.full(model.dimension, np.nan))
    with pytest.raises(ValueError, match="unknown key \"stepp\""):
        pixelwise.compute_descriptors(test_images[0][0], {"type": "dsift", "stepp": 3})
    with pytest.raises(ValueError, match="128 columns"):
        model.codebooks[0].nearest(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="2 relevance values for 1 frames|expected 2 values|expected 2 rows"):
        pixelwise.spread_to_pixels({"x": [1.0], "y": [1.0], "support": [[0, 0, 1, 1]]}, [1.0, 2.0], 3, 3)
    with pytest.raises(ValueError, match="28 x 28 but the image is 10 x 10"):
        pixelwise.render_heatmap(np.zeros((28, 28)), np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        pixelwise.save_image("x.png", np.zeros((4, 4)))


@pytest.mark.parametrize(
    "call, words",
    [
        # Keyword arguments go through the same schema as configuration files.
        (lambda img: pixelwise.dense_sift(img, step=4294967300), ["step", "integer", "4294967300"]),
        (lambda img: pixelwise.dense_sift(img, step=2.5), ["step", "integer", "2.5"]),
        (lambda img: pixelwise.dense_sift(img, step=2**70), ["step", "out of range"]),
        (lambda img: pixelwise.dense_sift(img, step=0), ["step", "positive integer", "got 0"]),
        (lambda img: pixelwise.dense_sift(img, bin_sizes=[4294967300]), ["bin_sizes", "integer"]),
        (lambda img: pixelwise.dense_sift(img, bin_sizes=[]), ["bin_sizes", "non-empty"]),
        (lambda img: pixelwise.dense_sift(img, fast="yes"), ["fast", "true or false"]),
        (lambda img: pixelwise.dense_sift(img, smoothing_magnif=-1), ["smoothing_magnif", ">= 0"]),
        (lambda img: pixelwise.compute_descriptors(img, {"colour": "lab"}), ["colour", '"lab"', "grey, rgb, opponent, hsv"]),
        (lambda img: pixelwise.compute_descriptors(img, {"type": "surf"}), ["type", '"surf"', "dsift, sift"]),
        (lambda img: pixelwise.compute_descriptors(img, {"planes": "stacked"}), ["planes", "concatenate, separate"]),
        (lambda img: pixelwise.compute_descriptors(img, {"type": "sift", "step": 3}), ['"step" does not apply']),
        (lambda img: pixelwise.normalise(np.ones(3), steps=["l1", "l3"]), ["steps", '"l3"', "l1, l2, power"]),
        (lambda img: pixelwise.normalise(np.ones(3), steps="l1"), ["steps", "list"]),
        (lambda img: pixelwise.spread_to_pixels({"x": [1.0], "y": [1.0], "support": [[0, 0, 1, 1]]}, [1.0], 3, 3,
                                                weighting={"type": "triangle"}), ["weighting", '"triangle"', "uniform, gaussian"]),
        (lambda img: pixelwise.spread_to_pixels({"x": [1.0], "y": [1.0], "support": [[0, 0, 1, 1]]}, [1.0], 3, 3,
                                                weighting={"type": "gaussian", "sigma": 0.0}), ["sigma", ">= 0.05"]),
    ],
)
def test_bad_option_values_are_value_errors_naming_the_argument(test_images, call, words):
    with pytest.raises(ValueError) as info:
        call(test_images[0][0])
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_option_dicts_reach_the_schema(model, test_images):
    image = test_images[0][0]
    codebook = model.codebooks[0]
    features = pixelwise.dense_sift(image, step=3.0)  # a whole number written as a real is an integer
    assert len(features) == len(pixelwise.dense_sift(image, step=3))
    with pytest.raises(ValueError, match="unknown type \"sparse\" \\(known: hard, soft, rank\\)"):
        pixelwise.encode(codebook, features, {"type": "sparse"})
    with pytest.raises(ValueError, match="knn must be an integer in \\[1, 1000\\]"):
        pixelwise.encode(codebook, features, {"type": "soft", "knn": 4294967301})
    with pytest.raises(ValueError, match="pyramid"):
        pixelwise.pool(pixelwise.encode(codebook, features), features, {"pyramid": [[1, 1, 1]]})
    with pytest.raises(ValueError, match="unknown search \"annoy\""):
        pixelwise.Codebook.train(features.descriptors, {"search": "annoy"})
    # The names written back are the configuration's.
    e = pixelwise.pool(pixelwise.encode(codebook, features), features, {"type": "pmeans", "p": 3})
    assert e.pooling == {"type": "pmeans", "p": 3.0, "pyramid": [[1, 1]]}
