"""Explanation methods and evaluation metrics from Python: any model, any
Python callable, any numpy heatmap; hand-computed cases and the CLI's numbers."""
import os
from pathlib import Path

import numpy as np
import pytest

import pixelwise


@pytest.fixture(scope="session")
def generic(model_dir):
    return pixelwise.load_model(str(model_dir))


@pytest.mark.parametrize("method", ["occlusion", "random", "sensitivity", "lrp"])
def test_methods_equal_the_cli(cli, generic, model_dir, test_images, tmp_path, method):
    images, _ = test_images
    cli.run("explain", "--model", model_dir, "--method", method, "--out", tmp_path, "fashion-mnist:test@3")
    r = generic.explain(images[3], method=method)
    assert np.array_equal(np.load(tmp_path / "fashion-mnist-test-3.npy"), r.pixels)
    assert np.array_equal(pixelwise.read_image(str(tmp_path / "fashion-mnist-test-3.png")), r.heatmap())
    assert r.method == method and r.class_index == int(np.argmax(generic.scores(images[3])))
    assert (r.account is not None) == (method == "lrp")
    assert generic.kind == "bow" and set(generic.methods) >= {"lrp", "taylor", "sensitivity", "occlusion", "random"}


def test_a_model_in_memory_explains_like_the_loaded_one(generic, model, test_images):
    # `model` is the same directory loaded as a BowModel: sharing it must give the same bits.
    shared = pixelwise.as_model(model)
    image = test_images[0][5]
    assert shared.kind == "bow" and shared.classes == generic.classes
    for method in ("lrp", "occlusion", "sensitivity"):
        assert np.array_equal(shared.explain(image, method=method).pixels, generic.explain(image, method=method).pixels)
    assert np.array_equal(shared.scores(image), model.predict(image))


def test_random_method_is_the_seeded_random_map(generic, test_images):
    image = test_images[0][0]
    r = generic.explain(image, method="random", seed=7, image_index=2)
    assert np.array_equal(r.pixels, pixelwise.random_relevance(28, 28, pixelwise.image_seed(7, 2)))
    assert not np.array_equal(r.pixels, generic.explain(image, method="random", seed=7, image_index=3).pixels)


def test_occlusion_by_hand_with_a_callable_model():
    # f = sum of the pixels; 2 x 2 patches at stride 2 tile a 4 x 4 image once each,
    # so a pixel's relevance is the sum of its own 2 x 2 block (the score drop).
    image = (np.arange(16, dtype=np.float64).reshape(4, 4) / 16.0)
    calls = []

    def f(images, c):
        calls.append((images.dtype, images.shape, c))
        return images.reshape(len(images), -1).astype(np.float64).sum(axis=1)

    result = pixelwise.occlusion(f, image, target=0, patch=2, stride=2, batch=3)
    blocks = image.reshape(2, 2, 2, 2).sum(axis=(1, 3))
    expected = np.kron(blocks, np.ones((2, 2)))
    assert np.allclose(result["relevance"], expected, rtol=0, atol=1e-6)
    assert result["positions"] == 4 and result["evaluations"] == 5
    assert all(dtype == np.float32 and shape[1:] == (4, 4) and c == 0 for dtype, shape, c in calls)
    assert max(shape[0] for _, shape, _ in calls) <= 3


def test_region_perturbation_by_hand_with_a_callable_model():
    # f = mean brightness, relevance = the image, constant replacement 0: MoRF removes
    # the brightest 2 x 2 regions first, and f drops by each region's sum / N.
    rng = np.random.default_rng(5)
    image = rng.random((6, 6))
    f = lambda images, c: images.reshape(len(images), -1).astype(np.float64).mean(axis=1)  # noqa: E731
    curve = pixelwise.region_perturbation(f, image, image, target=0, region=2, steps=9, replacement="constant",
                                          constant=0.0)
    x = image.astype(np.float32).astype(np.float64)
    sums = x.reshape(3, 2, 3, 2).sum(axis=(1, 3)).ravel()
    drops = np.concatenate([[0.0], np.cumsum(np.sort(sums)[::-1])]) / 36.0
    assert curve["region"] == 2 and len(curve["scores"]) == 10 and curve["evaluations"] == 10
    assert np.allclose(curve["scores"], x.mean() - drops, rtol=0, atol=1e-6)
    assert np.isclose(curve["aopc"], drops.mean(), rtol=0, atol=1e-6)
    assert np.array_equal(pixelwise.rank_regions(image, 2), np.argsort(-sums, kind="stable"))
    lerf = pixelwise.region_perturbation(f, image, image, target=0, region=2, steps=9, replacement="constant",
                                         most_relevant_first=False)
    assert lerf["aopc"] < curve["aopc"]


def test_metrics_see_the_same_model_through_every_door(generic, model, test_images):
    image = test_images[0][1]
    lrp = model.explain(image).pixels
    c = int(np.argmax(model.predict(image)))

    def f(images, k):
        return model.predict_batch(images)[:, k]

    curves = [pixelwise.region_perturbation(m, image, lrp, target=c, steps=12, seed=3) for m in (generic, model, f)]
    for other in curves[1:]:
        assert np.array_equal(other["scores"], curves[0]["scores"]) and other["aopc"] == curves[0]["aopc"]
    assert curves[0]["scores"][0] == model.predict(image)[c]
    random_curve = pixelwise.region_perturbation(generic, image, pixelwise.random_relevance(28, 28, 3), target=c,
                                                 steps=12, seed=3)
    assert len(random_curve["scores"]) == 13


def test_localisation_by_hand():
    relevance = np.array([[4.0, -1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 3.0]])
    mask = np.zeros((3, 3), dtype=bool)
    mask[:2, :2] = True
    result = pixelwise.localise(relevance, mask)
    assert result["mass_accuracy"] == pytest.approx(7.0 / 10.0)  # 4 + 1 + 2 of 4 + 1 + 2 + 3
    assert result["rank_accuracy"] == pytest.approx(3.0 / 4.0)  # the top |G| = 4: 4, 3, 2, 1; three in the mask
    assert result["pointing"] == 1.0 and result["mask_pixels"] == 4
    assert result["mask_fraction"] == pytest.approx(4.0 / 9.0)
    stats = pixelwise.summarise([1.0, 2.0, 3.0, float("nan")])
    assert stats["count"] == 3 and stats["undefined"] == 1 and stats["mean"] == 2.0


def test_bad_models_and_results(test_images):
    image = test_images[0][0]
    with pytest.raises(ValueError, match="one score per image"):
        pixelwise.occlusion(lambda images, c: np.zeros(1), image, target=0, batch=4)
    with pytest.raises(ZeroDivisionError):
        pixelwise.occlusion(lambda images, c: 1 / 0, image, target=0)
    with pytest.raises(ValueError, match="class index"):
        pixelwise.occlusion(lambda images, c: np.zeros(len(images)), image)
    with pytest.raises(TypeError, match="callable"):
        pixelwise.occlusion("not a model", image, target=0)
    with pytest.raises(ValueError, match="28 x 28 but the image is 10 x 10"):
        pixelwise.region_perturbation(lambda i, c: np.zeros(len(i)), np.zeros((10, 10)), np.zeros((28, 28)), 0)
    with pytest.raises(ValueError, match="mask"):
        pixelwise.localise(np.zeros((3, 3)), np.full((3, 3), 2))


def test_every_door_explains_the_colour_decision():
    """A colour model (grey + opponent channels) scores and explains the colour
    image through every entry point: the same score for every method, the
    same as BowModel.predict and the CLI, and perturbation starts from it."""
    root = Path(os.environ["PIXELWISE_SOURCE_DIR"]) / "tests" / "data" / "format1"
    model_dir = root / "models" / "colour-opponent"
    image = pixelwise.read_image(str(root / "images" / "fruit.ppm"))
    assert image.ndim == 3 and image.shape[2] == 3
    bow = pixelwise.BowModel.load(str(model_dir))
    fruit = bow.class_index("fruit")
    want = bow.predict(image)[fruit]
    for model in (pixelwise.load_model(str(model_dir)), pixelwise.as_model(bow)):
        assert model.scores(image)[fruit] == want
        for method in ("lrp", "taylor", "sensitivity", "occlusion", "random"):
            r = model.explain(image, method=method, target="fruit")
            assert abs(r.score - want) <= 1e-12 * max(1.0, abs(want)), method
    assert bow.explain(image, target="fruit").score == pytest.approx(want, rel=1e-12, abs=1e-12)
    lrp = bow.explain(image, target="fruit").pixels
    for m in (pixelwise.load_model(str(model_dir)), bow):
        curve = pixelwise.region_perturbation(m, image, lrp, target=fruit, steps=4, seed=3)
        assert curve["scores"][0] == pytest.approx(want, rel=1e-12, abs=1e-12)
