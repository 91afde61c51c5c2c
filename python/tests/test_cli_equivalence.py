"""Python gives the command line's results for the same model and image, to the last bit."""
import json

import numpy as np
import pytest

import pixelwise
from conftest import TINY_CONFIG, TRAIN_SPEC, read_fashion_mnist


def cli_explain(cli, model_dir, out, *images, extra=()):
    cli.run("explain", "--model", model_dir, "--layers", "--out", out, *extra, *images)


def assert_same_explanation(e, stem):
    """e (a BowExplanation) equals the CLI's NAME.npy / NAME.json exactly."""
    pixels = np.load(f"{stem}.npy")
    assert pixels.dtype == np.float64 and pixels.shape == e.pixels.shape
    assert np.array_equal(pixels, e.pixels)
    with open(f"{stem}.json") as f:
        report = json.load(f)
    mine = e.to_json()
    for key in ("class", "class_index", "predicted", "score", "scores", "bias", "bias_policy", "layers",
                "pixel_sum", "residual", "absorbed", "unassigned", "unaccounted", "descriptors", "channels"):
        assert mine[key] == report[key], key
    assert e.score == report["score"] and e.pixel_sum == report["pixel_sum"] and e.residual == report["residual"]
    assert [layer["relevance_in"] for layer in e.layers] == [layer["relevance_in"] for layer in report["layers"]]
    assert np.array_equal(e.bin_relevance, np.array(report["bin_relevance"]))
    descriptors = report["descriptor_relevance"]
    assert np.array_equal(e.descriptor_relevance, np.array([d["relevance"] for d in descriptors]))
    assert np.array_equal(e.frames["x"], np.array([d["x"] for d in descriptors]))
    assert np.array_equal(e.frames["y"], np.array([d["y"] for d in descriptors]))
    assert np.array_equal(e.frames["bin_size"], np.array([d["bin_size"] for d in descriptors]))
    assert np.array_equal(e.frames["support"], np.array([d["support"] for d in descriptors]))


def test_explain_numpy_uint8_images_equals_cli_on_the_data_set_images(cli, model_dir, model, test_images, tmp_path):
    images, _ = test_images
    cli_explain(cli, model_dir, tmp_path, "fashion-mnist:test@0", "fashion-mnist:test@3")
    for index in (0, 3):
        e = model.explain_detailed(images[index])  # the raw uint8 pixels, read in Python from the IDX file
        assert_same_explanation(e, tmp_path / f"fashion-mnist-test-{index}")


def test_explain_other_class_and_bias_policy_equals_cli(cli, model_dir, model, test_images, tmp_path):
    images, _ = test_images
    for policy in ("none", "uniform"):
        out = tmp_path / policy
        cli_explain(cli, model_dir, out, "fashion-mnist:test@0", extra=("--class", "trouser", "--bias-policy", policy))
        e = model.explain_detailed(images[0], target="trouser", bias_policy=policy)
        assert e.class_name == "trouser" and e.bias_policy == policy
        assert_same_explanation(e, out / "fashion-mnist-test-0")
        # the same class given by index
        assert np.array_equal(model.explain_detailed(images[0], target=1, bias_policy=policy).pixels, e.pixels)


def test_colour_numpy_image_equals_cli_on_the_same_png(cli, model_dir, model, tmp_path):
    # A colour picture: a Fashion-MNIST item tinted differently in R, G and B.
    images, _ = read_fashion_mnist("test", 2)
    base = images[1].astype(np.int64)
    rgb = np.stack([base, (base * 3) // 4, 255 - base], axis=-1).astype(np.uint8)
    png = tmp_path / "colour.png"
    pixelwise.save_image(str(png), rgb)
    assert np.array_equal(pixelwise.read_image(str(png)), rgb)  # lossless round trip, RGB order
    cli_explain(cli, model_dir, tmp_path / "out", png)
    e = model.explain_detailed(rgb)
    assert_same_explanation(e, tmp_path / "out" / "colour")
    # the grey conversion is not a plain channel of the picture
    assert not np.array_equal(pixelwise.load_image(rgb), pixelwise.load_image(rgb[..., 0]))


def test_predict_equals_cli_predict_json(cli, model_dir, model, test_images):
    images, _ = test_images
    result = cli.run("predict", "--json", "--model", model_dir, "fashion-mnist:test@5", "fashion-mnist:test@6")
    report = json.loads(result.stdout)
    batch = model.predict_batch(images[5:7])
    for row, item in enumerate(report):
        expected = np.array([item["scores"][name] for name in model.classes])
        assert np.array_equal(model.predict(images[5 + row]), expected)
        assert np.array_equal(batch[row], expected)
        assert model.classes[int(np.argmax(expected))] == item["class"]


def test_heatmap_equals_cli_png(cli, model_dir, model, test_images, tmp_path):
    images, _ = test_images
    cli_explain(cli, model_dir, tmp_path, "fashion-mnist:test@3")
    e = model.explain_detailed(images[3])
    png = pixelwise.read_image(str(tmp_path / "fashion-mnist-test-3.png"))
    rendered = e.heatmap(images[3])
    assert rendered.dtype == np.uint8 and rendered.shape == (112, 112, 3)
    assert np.array_equal(rendered, png)
    assert np.array_equal(pixelwise.render_heatmap(e.pixels, images[3]), png)


def test_training_from_python_equals_training_by_the_cli(model_dir, model, test_images, tmp_path):
    train_images, train_labels = read_fashion_mnist("train", 150)
    by_spec = pixelwise.BowModel.train(TINY_CONFIG, data=TRAIN_SPEC)
    by_arrays = pixelwise.BowModel.train(TINY_CONFIG, train_images, train_labels, classes=model.classes)
    images, _ = test_images
    for trained in (by_spec, by_arrays):
        assert trained.classes == model.classes
        assert np.array_equal(trained.codebooks[0].centres, model.codebooks[0].centres)
        assert np.array_equal(trained.svm.support_vectors, model.svm.support_vectors)
        assert np.array_equal(trained.predict_batch(images), model.predict_batch(images))
    # saved from Python, read by the CLI machinery
    by_arrays.save(str(tmp_path / "saved"))
    reloaded = pixelwise.BowModel.load(str(tmp_path / "saved"))
    assert np.array_equal(reloaded.explain(images[2]).pixels, model.explain_detailed(images[2]).pixels)


def test_config_file_and_dict_train_the_same_model(tiny_config_file, test_images):
    images, labels = read_fashion_mnist("train", 60)
    a = pixelwise.BowModel.train(str(tiny_config_file), images, labels)
    b = pixelwise.BowModel.train(TINY_CONFIG, images, labels)
    assert a.classes == [str(k) for k in range(10)]
    assert np.array_equal(a.predict_batch(test_images[0]), b.predict_batch(test_images[0]))


def test_taylor_explanation_equals_cli(cli, model_dir, model, test_images, tmp_path):
    images, _ = test_images
    cli.run("explain", "--model", model_dir, "--method", "taylor", "--reference", "mean", "--out", tmp_path,
            "fashion-mnist:test@2")
    e = model.explain_detailed(images[2], method="taylor", reference="mean")
    assert np.array_equal(np.load(tmp_path / "fashion-mnist-test-2.npy"), e.pixels)
    with open(tmp_path / "fashion-mnist-test-2.json") as f:
        report = json.load(f)
    assert e.to_json()["layers"] == report["layers"] and e.score == report["score"]
    t = e.taylor
    assert e.method == "taylor" and abs(t["score"] - e.score) <= 1e-12
    assert abs(t["root_score"]) <= 1e-9  # the root lies on the decision boundary
    # x0 = a x + (1 - a) x'
    assert np.allclose(t["root"], t["a"] * model.histogram(images[2]) + (1 - t["a"]) * t["reference"], atol=1e-12)
    assert np.isclose(e.bin_relevance.sum(), t["first_order_sum"], rtol=0, atol=1e-12)
    assert model.explain_detailed(images[2]).taylor is None


def test_tiled_explanation_equals_cli(cli, model_dir, model, test_images, tmp_path):
    images, _ = test_images
    cli.run("explain", "--model", model_dir, "--tiles", "20,8", "--out", tmp_path, "fashion-mnist:test@4")
    t = model.explain_tiled(images[4], size=20, offset=8)
    assert np.array_equal(np.load(tmp_path / "fashion-mnist-test-4.npy"), t.pixels)
    with open(tmp_path / "fashion-mnist-test-4.json") as f:
        report = json.load(f)
    assert t.to_json()["tiles"] == report["tiles"]
    tiles = t.tiles
    assert [(tile["x"], tile["y"]) for tile in tiles] == [(x, y) for y in (0, 8) for x in (0, 8)]
    assert t.coverage.min() >= 1 and t.coverage.max() == 4
    # the mean over the covering tiles, recomputed from the tiles' own maps
    total = np.zeros((28, 28))
    for tile in tiles:
        total[tile["y"]:tile["y"] + 20, tile["x"]:tile["x"] + 20] += tile["pixels"]
        assert abs(tile["pixels"].sum() + tile["residual"] - tile["score"]) <= 1e-12
    assert np.allclose(total / t.coverage, t.pixels, rtol=0, atol=1e-15)
