"""Conservation (docs/design.md section 2) seen from Python, and the building blocks
chained by hand giving the model's own explanation."""
import numpy as np
import pytest

import pixelwise


def close(a, b, scale=1.0):
    return abs(a - b) <= 1e-9 * max(1.0, abs(scale))


@pytest.mark.parametrize("policy", ["nonzero", "uniform", "none"])
def test_every_layer_passes_on_what_it_received(model, test_images, policy):
    images, labels = test_images
    for image in images:
        for target in (None, 0, 9):
            e = model.explain_detailed(image, target=target, bias_policy=policy)
            assert e.score == e.scores[e.class_index]
            svm, pooling, pixels = e.layers
            assert [layer["name"] for layer in e.layers] == ["svm", "pooling", "pixels"]
            assert svm["relevance_in"] == e.score
            assert close(svm["relevance_out"], e.bin_relevance.sum(), e.score)
            assert close(pooling["relevance_in"], svm["relevance_out"], e.score)
            assert close(pooling["relevance_out"], e.descriptor_relevance.sum(), e.score)
            assert close(pixels["relevance_in"], pooling["relevance_out"], e.score)
            assert close(pixels["relevance_out"], e.pixels.sum(), e.score)
            for layer in e.layers:
                assert abs(layer["unaccounted"]) <= 1e-9 * max(1.0, abs(e.score))
            absorbed = sum(layer["absorbed"] for layer in e.layers)
            unassigned = sum(layer["unassigned"] for layer in e.layers)
            assert close(e.pixel_sum, e.pixels.sum(), e.score) and e.residual == e.score - e.pixel_sum
            assert close(e.residual, absorbed + unassigned, e.score)
            if policy == "nonzero":  # exact down to the pixels
                assert close(e.pixels.sum(), e.score, e.score)
            if policy == "none":  # the bias is kept by the SVM layer
                assert close(e.pixels.sum(), e.score - e.bias, e.score)
                assert close(absorbed, e.bias, e.score)


def test_the_stages_chained_by_hand_give_the_models_explanation(model, test_images):
    config = model.config
    image = test_images[0][4]
    features = pixelwise.compute_descriptors(image, config["descriptor"])
    codes = pixelwise.encode(model.codebooks[0], features, config["coding"])
    encoding = pixelwise.pool(codes, features, config["pooling"], config["normalisation"])
    assert np.array_equal(encoding.histogram, model.histogram(image))
    # predict and explain evaluate the SVM in one pass through per-bin tables;
    # decisions() keeps libsvm's order of summation: equal up to rounding.
    svm_pass = model.svm.evaluate_additive(encoding.histogram)
    scores = svm_pass.scores
    assert np.array_equal(scores, model.predict(image))
    assert np.allclose(model.svm.decisions(encoding.histogram), scores, rtol=0, atol=1e-12)
    c = int(np.argmax(scores))
    assert abs(model.svm.libsvm_decision(c, encoding.histogram) - scores[c]) <= 1e-12

    e = model.explain_detailed(image)
    bins, svm_layer = model.svm.decompose(c, encoding.histogram, "nonzero", svm_pass)
    assert np.array_equal(bins, e.bin_relevance) and svm_layer == e.layers[0]
    plain, _ = model.svm.decompose(c, encoding.histogram, "nonzero")
    assert np.allclose(plain, bins, rtol=0, atol=1e-12)
    descriptors, pool_layer = pixelwise.pool_relevance(encoding, bins)
    assert np.array_equal(descriptors, e.descriptor_relevance) and pool_layer == e.layers[1]
    pixels, pixel_layer = pixelwise.spread_to_pixels(features, descriptors, image.shape[1], image.shape[0])
    assert np.array_equal(pixels, e.pixels) and pixel_layer == e.layers[2]


def test_a_stage_swapped_for_the_users_own_keeps_conservation(model, test_images):
    # The user's own "descriptors": the model's dense SIFT frames, with the
    # descriptors of a horizontally flipped image; everything below is the library's.
    image = test_images[0][1]
    sift = pixelwise.dense_sift(image, step=2, bin_sizes=[3, 4])
    flipped = pixelwise.dense_sift(image[:, ::-1], step=2, bin_sizes=[3, 4])
    mine = pixelwise.LocalFeatures(flipped.descriptors.astype(np.float64), sift.frames, 28, 28)
    assert np.array_equal(mine.frames["support"], sift.frames["support"])
    codes = pixelwise.encode(model.codebooks[0], mine)
    assert len(codes) == len(mine) and np.array_equal(codes.dense().sum(axis=1), np.ones(len(mine)))
    encoding = pixelwise.pool(codes, mine, model.config["pooling"])
    hist = encoding.histogram
    assert np.isclose(hist.sum(), 1.0)  # L1 normalisation (the default)
    f = model.svm.decisions(hist)
    c = int(np.argmax(f))
    bins, _ = model.svm.decompose(c, hist)
    desc, _ = pixelwise.pool_relevance(encoding, bins)
    pixels, _ = pixelwise.spread_to_pixels(mine.frames, desc, 28, 28, {"type": "gaussian", "sigma": 0.5})
    assert close(bins.sum(), f[c], f[c]) and close(desc.sum(), f[c], f[c]) and close(pixels.sum(), f[c], f[c])


def test_spread_to_pixels_by_hand():
    # Two supports on a 4 x 3 image: a 2 x 2 box with R = 4 (1 per pixel), a 1 x 3 column with R = -3.
    frames = {"x": [0.5, 3.0], "y": [0.5, 1.0], "support": [[0, 0, 2, 2], [3, 0, 4, 3]]}
    pixels, layer = pixelwise.spread_to_pixels(frames, [4.0, -3.0], 4, 3)
    expected = np.array([[1.0, 1.0, 0.0, -1.0], [1.0, 1.0, 0.0, -1.0], [0.0, 0.0, 0.0, -1.0]])
    assert np.array_equal(pixels, expected)
    assert layer["relevance_in"] == 1.0 and layer["relevance_out"] == 1.0 and layer["unassigned"] == 0.0
