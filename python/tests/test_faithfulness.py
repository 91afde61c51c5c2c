"""Faithfulness correlation, sensitivity-n, infidelity, max-sensitivity,
sparseness and complexity from Python: a linear callable model whose exact
explanations are known, references written here in numpy, and a real model."""
import math

import numpy as np
import pytest

import pixelwise

RNG = np.random.default_rng(3)
W = RNG.uniform(-1, 1, (12, 12))
IMAGE = RNG.random((12, 12))
X = IMAGE.astype(np.float32).astype(np.float64)  # what the model sees


def linear(images, c):
    return images.reshape(len(images), -1).astype(np.float64) @ W.ravel()


def test_gradient_times_input_is_exactly_faithful_on_a_linear_model():
    r = pixelwise.faithfulness_correlation(linear, IMAGE, W * X, target=0, replacement="constant", constant=0.0)
    assert r["subset_size"] == round(0.1 * 144) and r["evaluations"] == 101
    assert np.allclose(r["attributions"], r["drops"], rtol=0, atol=1e-12)
    assert abs(r["faithfulness_correlation"] - 1.0) < 1e-12
    assert r["score"] == pytest.approx((W * X).sum(), abs=1e-12)
    n = pixelwise.sensitivity_n(linear, IMAGE, W * X, target=0, replacement="constant", points=6, subsets=20)
    assert list(n["sizes"]) == sorted(set(n["sizes"])) and n["sizes"][0] == 1 and n["sizes"][-1] == int(0.8 * 144)
    assert np.all(np.abs(n["correlations"] - 1.0) < 1e-12)
    assert n["evaluations"] == len(n["sizes"]) * 20 + 1
    # Infidelity: the gradient W explains every additive perturbation exactly, at any scale.
    g = pixelwise.infidelity(linear, IMAGE, 2.0 * W, target=0)
    assert g["infidelity_beta"] == pytest.approx(0.5, abs=1e-12) and g["infidelity"] < 1e-20 and g["relative_infidelity"] < 1e-12
    assert pixelwise.infidelity(linear, IMAGE, W * X, target=0)["relative_infidelity"] > 0.1


def test_subset_correlation_equals_a_numpy_reference():
    # A curved model; a replacement value (-1) no image holds shows which pixels each subset replaced.
    seen = []

    def curved(images, c):
        seen.extend(images.copy())
        flat = images.reshape(len(images), -1).astype(np.float64)
        return flat @ W.ravel() + np.tanh(flat.sum(axis=1) / 10.0)

    relevance = RNG.normal(size=(12, 12))
    r = pixelwise.faithfulness_correlation(curved, IMAGE, relevance, target=0, subsets=30, fraction=0.25,
                                           replacement="constant", constant=-1.0, seed=4, batch=7)
    f0 = curved(X[None].astype(np.float32), 0)[0]
    attributions, drops = [], []
    for image in seen[1:31]:
        subset = image == -1.0
        assert subset.sum() == 36
        attributions.append(relevance[subset].sum())
        drops.append(f0 - curved(image[None], 0)[0])
    assert np.allclose(r["attributions"], attributions, rtol=0, atol=1e-12)
    assert np.allclose(r["drops"], drops, rtol=0, atol=1e-12)
    assert r["faithfulness_correlation"] == pytest.approx(np.corrcoef(attributions, drops)[0, 1], abs=1e-12)
    # Seeded: the same seed gives the same subsets (another batch size only
    # changes numpy's rounding of the model), another seed others.
    again = pixelwise.faithfulness_correlation(curved, IMAGE, relevance, target=0, subsets=30, fraction=0.25,
                                               replacement="constant", constant=-1.0, seed=4, batch=7)
    assert np.array_equal(again["drops"], r["drops"])
    batched = pixelwise.faithfulness_correlation(curved, IMAGE, relevance, target=0, subsets=30, fraction=0.25,
                                                 replacement="constant", constant=-1.0, seed=4)
    assert np.allclose(batched["drops"], r["drops"], rtol=0, atol=1e-12)
    other = pixelwise.faithfulness_correlation(curved, IMAGE, relevance, target=0, subsets=30, fraction=0.25,
                                               replacement="constant", constant=-1.0, seed=5)
    assert not np.array_equal(other["drops"], r["drops"])


def test_a_random_map_is_uncorrelated_on_the_linear_model():
    big_w = np.random.default_rng(1).uniform(-1, 1, (28, 28))
    image = np.random.default_rng(2).random((28, 28))

    def f(images, c):
        return images.reshape(len(images), -1).astype(np.float64) @ big_w.ravel()

    r = pixelwise.faithfulness_correlation(f, image, pixelwise.random_relevance(28, 28, 5), target=0, subsets=300,
                                           replacement="constant")
    assert abs(r["faithfulness_correlation"]) < 0.2


def test_sparseness_and_complexity_by_hand():
    assert pixelwise.sparseness(np.full((2, 2), 0.5)) == pytest.approx(0.0, abs=1e-15)
    assert pixelwise.complexity(np.full((2, 2), 0.5)) == pytest.approx(math.log(4), abs=1e-15)
    one_hot = np.zeros((3, 3))
    one_hot[2, 0] = -1.5
    assert pixelwise.sparseness(one_hot) == pytest.approx(1 - 1 / 9, abs=1e-15)
    assert pixelwise.complexity(one_hot) == 0.0
    ramp = np.array([[-1.0, 2.0], [-3.0, 4.0]])
    assert pixelwise.sparseness(ramp) == pytest.approx(0.25, abs=1e-15)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    assert pixelwise.complexity(ramp) == pytest.approx(-(p * np.log(p)).sum(), abs=1e-15)
    assert math.isnan(pixelwise.sparseness(np.zeros((3, 3))))
    assert math.isnan(pixelwise.complexity(np.zeros((3, 3))))
    with pytest.raises(ValueError, match="NaN"):
        pixelwise.sparseness(np.array([[1.0, np.nan]]))


def test_max_sensitivity_of_a_callable_explanation():
    seen = []

    def explain(image):
        assert image.dtype == np.float32 and image.shape == (12, 12)
        seen.append(image.astype(np.float64))
        return W * image.astype(np.float64)

    r = pixelwise.max_sensitivity(explain, IMAGE, radius=0.05, samples=6, seed=3)
    assert r["explanations"] == 6 and len(seen) == 7  # Phi(x), then the 6 noisy inputs
    base = np.linalg.norm(W * X)
    ratios = [np.linalg.norm(W * (s - X)) / base for s in seen[1:]]
    assert all(np.abs(s - X).max() <= 0.05 + 1e-7 for s in seen[1:])
    assert np.allclose(r["sensitivities"], ratios, rtol=0, atol=1e-12)
    assert r["max_sensitivity"] == pytest.approx(max(ratios), abs=1e-15)
    assert r["max_sensitivity"] <= 0.05 * np.linalg.norm(W) / base
    assert pixelwise.max_sensitivity(explain, IMAGE, radius=0.05, samples=6, seed=3)["max_sensitivity"] == \
        r["max_sensitivity"]
    assert pixelwise.max_sensitivity(explain, IMAGE, radius=0.05, samples=6, seed=4)["max_sensitivity"] != \
        r["max_sensitivity"]
    assert pixelwise.max_sensitivity(lambda image: W, IMAGE)["max_sensitivity"] == 0.0


def test_max_sensitivity_of_a_model_and_method(model_dir, test_images):
    generic = pixelwise.load_model(str(model_dir))
    image = test_images[0][4]
    # The random map is seeded by image, not by its pixels: robust, and meaningless.
    assert pixelwise.max_sensitivity(generic, image, method="random", samples=3)["max_sensitivity"] == 0.0
    lrp = pixelwise.max_sensitivity(generic, image, method="lrp", samples=3, radius=0.05)
    assert lrp["explanations"] == 3 and 0.0 < lrp["max_sensitivity"] < math.inf
    given = generic.explain(image, method="lrp").pixels
    same = pixelwise.max_sensitivity(generic, image, given, method="lrp", samples=3, radius=0.05)
    assert same["max_sensitivity"] == lrp["max_sensitivity"]
    with pytest.raises(ValueError, match="method="):
        pixelwise.max_sensitivity(generic, image)
    with pytest.raises(ValueError, match="method= applies to a model"):
        pixelwise.max_sensitivity(lambda i: i, image, method="lrp")
    with pytest.raises(TypeError, match="callable"):
        pixelwise.max_sensitivity("no", image)


def test_the_metrics_on_a_real_model(model_dir, test_images):
    generic = pixelwise.load_model(str(model_dir))
    image = test_images[0][2]
    e = generic.explain(image, method="lrp")
    r = pixelwise.faithfulness_correlation(generic, image, e.pixels, target=e.class_index, subsets=20)
    assert -1.0 <= r["faithfulness_correlation"] <= 1.0 and r["score"] == pytest.approx(e.score, abs=1e-12)
    i = pixelwise.infidelity(generic, image, e.pixels, target=e.class_index, samples=10)
    assert 0.0 <= i["relative_infidelity"] <= 1.0 and i["evaluations"] == 11


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(ValueError, match="fraction"):
        pixelwise.faithfulness_correlation(linear, IMAGE, W, target=0, fraction=0.0)
    with pytest.raises(ValueError, match="subsets"):
        pixelwise.faithfulness_correlation(linear, IMAGE, W, target=0, subsets=1)
    with pytest.raises(ValueError, match="12 x 12"):
        pixelwise.faithfulness_correlation(linear, IMAGE, np.zeros((3, 3)), target=0)
    with pytest.raises(ValueError, match="class index"):
        pixelwise.faithfulness_correlation(linear, IMAGE, W)
    with pytest.raises(ValueError, match="exceeds"):
        pixelwise.sensitivity_n(linear, IMAGE, W, target=0, sizes=[200])
    with pytest.raises(ValueError, match="sizes is empty"):
        pixelwise.sensitivity_n(linear, IMAGE, W, target=0, sizes=[])
    with pytest.raises(ValueError, match="sigma"):
        pixelwise.infidelity(linear, IMAGE, W, target=0, sigma=-1.0)
    with pytest.raises(ValueError, match="radius"):
        pixelwise.max_sensitivity(lambda i: W, IMAGE, radius=0.0)
    with pytest.raises(ValueError, match="replacement"):
        pixelwise.faithfulness_correlation(linear, IMAGE, W, target=0, replacement="zeros")
    with pytest.raises(ValueError, match="NaN"):
        pixelwise.infidelity(linear, IMAGE, np.full((12, 12), np.nan), target=0)


def test_evaluate_runs_the_metrics_like_the_cli(cli, model_dir, tmp_path):
    generic = pixelwise.load_model(str(model_dir))
    keywords = dict(methods=["lrp", "random"], metrics=["faithfulness-correlation", "sensitivity-n", "infidelity",
                                                        "max-sensitivity", "sparseness", "complexity"],
                    correlation_subsets=10, sensitivity_n_points=3, sensitivity_n_subsets=4, infidelity_samples=6,
                    max_sensitivity_samples=2, jobs=1)
    result = pixelwise.evaluate(generic, "fashion-mnist:test:2", **keywords)
    cli.run("evaluate", "--model", model_dir, "--data", "fashion-mnist:test:2", "--methods", "lrp,random", "--metrics",
            ",".join(keywords["metrics"]), "--correlation-subsets", "10", "--sensitivity-n-points", "3",
            "--sensitivity-n-subsets", "4", "--infidelity-samples", "6", "--max-sensitivity-samples", "2",
            "--jobs", "1", "--quiet", "--out", tmp_path / "eval")
    import json
    expected = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    for a, b in zip(result["images"], expected["images"]):
        for method in ("lrp", "random"):
            for key in ("faithfulness-correlation", "sensitivity-n", "infidelity", "relative_infidelity",
                        "max-sensitivity", "sparseness", "complexity", "metric_evaluations"):
                assert a["methods"][method][key] == b["methods"][method][key], (method, key)
        assert a["methods"]["random"]["max-sensitivity"] == 0.0
        assert a["methods"]["lrp"]["metric_evaluations"]["sensitivity-n"] == 3 * 4 + 1
    assert result["summary"]["lrp"]["sensitivity-n"]["sizes"] == [1, 25, 627]
    with pytest.raises(ValueError, match="sigma"):
        pixelwise.evaluate(generic, "fashion-mnist:test:2", metrics=["infidelity"], infidelity_sigma=0.0)


def test_max_sensitivity_of_a_network_keeps_its_inputs_in_range():
    # A network's first layer takes the z^B rule, which refuses inputs outside [0, 1]:
    # the noisy inputs are clipped, so black pixels (0) may only get brighter.
    net = pixelwise.train_network("digits:train:200", hidden=[16], epochs=2, seed=1)
    image = pixelwise.load_image("digits:test@0")
    assert image.min() == 0.0
    r = pixelwise.max_sensitivity(net, image, method="lrp", samples=3, radius=0.05)
    assert r["explanations"] == 3 and 0.0 < r["max_sensitivity"] < math.inf
    assert pixelwise.max_sensitivity(net, image, method="random", samples=2)["max_sensitivity"] == 0.0
