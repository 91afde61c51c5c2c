"""The pixel layer's rules from Python (docs/design.md 1.5, 1.9): gradient spreading
of dense and keypoint SIFT relevance, pixel_rule= on the model's explanations as --pixel-rule on
the command line, and the refusals."""
import json

import numpy as np
import pytest

import pixelwise

OPTIONS = {"type": "dsift", "step": 2, "bin_sizes": [3, 4], "smoothing_magnif": 6.0, "fast": True}


def test_gradient_spreading_conserves_and_follows_the_gradients(test_images):
    image = test_images[0][0]
    sift = pixelwise.compute_descriptors(image, OPTIONS)
    r = np.random.default_rng(4).normal(size=len(sift))
    pixels, layer = pixelwise.spread_to_pixels(sift, r, 28, 28, {"type": "gradient"}, image=image, descriptor=OPTIONS)
    assert abs(pixels.sum() - r.sum()) <= 1e-9 * np.abs(r).sum()
    assert layer["unassigned"] == 0.0 and abs(layer["unaccounted"]) <= 1e-12
    uniform, _ = pixelwise.spread_to_pixels(sift, r, 28, 28)
    assert np.abs(pixels - uniform).max() > 1e-3
    # A Fashion-MNIST item lies on black: pixels far from any grey level change get nothing.
    assert (pixels == 0).sum() > (uniform == 0).sum()


def test_gradient_spreading_of_keypoint_sift_conserves(test_images):
    options = {"type": "sift", "first_octave": -1}
    image = test_images[0][0]
    sift = pixelwise.compute_descriptors(image, options)
    assert len(sift) > 0
    r = np.random.default_rng(5).normal(size=len(sift))
    pixels, layer = pixelwise.spread_to_pixels(sift, r, 28, 28, {"type": "gradient"}, image=image, descriptor=options)
    assert abs(pixels.sum() - r.sum()) <= 1e-9 * np.abs(r).sum()
    assert layer["unassigned"] == 0.0 and abs(layer["unaccounted"]) <= 1e-12
    uniform, _ = pixelwise.spread_to_pixels(sift, r, 28, 28)
    assert np.abs(pixels - uniform).max() > 1e-3


def test_pixel_rule_equals_the_command_line(model, model_dir, cli, tmp_path):
    e = model.explain_detailed("fashion-mnist:test@3", pixel_rule="gradient")
    assert abs(e.pixels.sum() - e.score) <= 1e-9 * max(1.0, abs(e.score))
    x = model.explain("fashion-mnist:test@3", pixel_rule="gradient")
    assert np.array_equal(x.pixels, e.pixels)
    assert not np.array_equal(model.explain("fashion-mnist:test@3").pixels, e.pixels)
    cli.run("explain", "--model", model_dir, "--pixel-rule", "gradient", "--out", tmp_path, "fashion-mnist:test@3")
    assert np.array_equal(np.load(tmp_path / "fashion-mnist-test-3.npy"), e.pixels)
    record = json.loads((tmp_path / "fashion-mnist-test-3.json").read_text())
    assert record["produced_by"]["settings"]["pixel-rule"] == "gradient"
    s = model.explain("fashion-mnist:test@3", method="sensitivity", pixel_rule="gradient")
    assert s.pixels.min() >= 0 and s.pixels.sum() > 0


def test_bad_pixel_rules_are_refused(model, model_dir, cli, test_images, tmp_path):
    image = test_images[0][0]
    with pytest.raises(ValueError, match="pixel_rule.*triangle.*uniform, gaussian, gradient"):
        model.explain(image, pixel_rule="triangle")
    with pytest.raises(ValueError, match="pixel_rule= applies to method lrp, taylor, sensitivity only"):
        model.explain(image, method="occlusion", pixel_rule="gradient")
    sift = pixelwise.compute_descriptors(image, OPTIONS)
    with pytest.raises(ValueError, match="needs image= and descriptor="):
        pixelwise.spread_to_pixels(sift, np.ones(len(sift)), 28, 28, {"type": "gradient"})
    with pytest.raises(ValueError, match="needs image= and descriptor="):
        pixelwise.spread_to_pixels(sift, np.ones(len(sift)), 28, 28, image=image, descriptor=OPTIONS)
    out = tmp_path / "never"
    result = cli.run("explain", "--model", model_dir, "--pixel-rule", "blob", "--out", out, "fashion-mnist:test@3",
                     check=False)
    assert result.returncode == 2 and "--pixel-rule" in result.stderr and not out.exists()
    result = cli.run("explain", "--model", model_dir, "--method", "occlusion", "--pixel-rule", "gradient", "--out", out,
                     "fashion-mnist:test@3", check=False)
    assert result.returncode != 0 and "--pixel-rule applies to --method" in result.stderr and not out.exists()
