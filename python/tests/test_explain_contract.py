"""One explain contract: every model class explains through the same path with
the same keywords, returns the same Explanation (whose fields are the CLI's
JSON fields), and has the same methods; batches of images are explained and
scored with an unambiguous reading of the input."""
import json

import numpy as np
import pytest

import pixelwise


@pytest.fixture(scope="session")
def toolbox_file(reference_dir):
    return reference_dir / "lrp_toolbox" / "mlp_relu.txt"


@pytest.fixture(scope="session")
def network(toolbox_file):
    return pixelwise.NetworkModel.load(toolbox_file)


def all_models(model, model_dir, network):
    return [model, pixelwise.as_model(model), pixelwise.load_model(model_dir), network, pixelwise.as_model(network)]


def test_every_model_has_the_same_methods(model, model_dir, network):
    for m in all_models(model, model_dir, network):
        for name in ("explain", "explain_batch", "predict", "predict_batch", "class_index", "class_name", "classes"):
            assert hasattr(m, name), (type(m).__name__, name)
        assert isinstance(m.explain("fashion-mnist:test@0", target=1), pixelwise.Explanation)
    assert model.class_name(1) == "trouser" and model.class_index("trouser") == 1
    assert network.class_index("3") == 3 and network.class_name(3) == "3"
    with pytest.raises(ValueError, match="out of range"):
        model.class_name(10)


def test_the_image_is_the_only_positional_argument(model, network, test_images):
    image = test_images[0][0]
    for m in (model, network, pixelwise.as_model(model)):
        with pytest.raises(TypeError):
            m.explain(image, 1)
        with pytest.raises(TypeError):
            m.predict_batch([image], None)


def test_bow_explanations_are_the_same_through_every_door(model, model_dir, test_images):
    image = test_images[0][3]
    maps = [m.explain(image, target="trouser", bias_policy="uniform").pixels
            for m in (model, pixelwise.as_model(model), pixelwise.load_model(model_dir))]
    assert all(np.array_equal(maps[0], other) for other in maps[1:])
    detailed = model.explain_detailed(image, target="trouser", bias_policy="uniform")
    assert np.array_equal(detailed.pixels, maps[0])


def test_the_explanation_is_the_cli_json(cli, model_dir, tmp_path):
    out = tmp_path / "out"
    cli.run("explain", "--model", model_dir, "--layers", "--class", "pullover", "--out", out, "fashion-mnist:test@5")
    with open(out / "fashion-mnist-test-5.json") as f:
        report = json.load(f)
    report.pop("produced_by")
    report.pop("files")  # sizes and checksums of the files written beside it
    e = pixelwise.load_model(str(model_dir)).explain("fashion-mnist:test@5", target="pullover", layers=True)
    assert e.to_json() == report
    assert np.array_equal(np.load(out / "fashion-mnist-test-5.npy"), e.pixels)
    # the record's fields, as attributes
    assert e.class_name == report["class"] and e.class_index == report["class_index"]
    assert e.score == report["score"] and e.pixel_sum == report["pixel_sum"] and e.residual == report["residual"]
    assert e.evaluations == report["evaluations"] and list(e.image_size) == report["image_size"]
    assert e.layers == report["layers"] and e.account["layers"] == report["layers"]
    names = pixelwise.load_model(str(model_dir)).classes
    assert names[e.predicted] == report["predicted"]
    assert {names[k]: e.scores[k] for k in range(len(names))} == report["scores"]
    assert e.details["descriptor_relevance"] == report["descriptor_relevance"]


@pytest.mark.parametrize("method", ["sensitivity", "taylor", "occlusion", "random"])
def test_a_bow_model_explains_every_method_like_the_cli(cli, model_dir, model, test_images, tmp_path, method):
    out = tmp_path / method
    cli.run("explain", "--model", model_dir, "--method", method, "--out", out, "fashion-mnist:test@1")
    e = model.explain("fashion-mnist:test@1", method=method)
    assert e.method == method
    assert np.array_equal(np.load(out / "fashion-mnist-test-1.npy"), e.pixels)
    with open(out / "fashion-mnist-test-1.json") as f:
        report = json.load(f)
    mine = e.to_json()
    for key in ("class", "class_index", "predicted", "score", "scores", "pixel_sum", "evaluations"):
        assert mine[key] == report[key], key


def test_a_network_explains_through_the_same_path(cli, network, toolbox_file, test_images, tmp_path):
    cli.run("explain", "--model", toolbox_file, "--rule", "epsilon:0.01", "--class", "4", "--out", tmp_path,
            "fashion-mnist:test@2")
    e = network.explain("fashion-mnist:test@2", rule="epsilon:0.01", target=4)
    assert np.array_equal(np.load(tmp_path / "fashion-mnist-test-2.npy"), e.pixels)
    with open(tmp_path / "fashion-mnist-test-2.json") as f:
        report = json.load(f)
    report.pop("produced_by"), report.pop("files")
    mine = e.to_json()
    mine.pop("model"), report.pop("model")  # the same file, named as given
    assert mine == report
    detailed = network.explain_detailed("fashion-mnist:test@2", rule="epsilon:0.01", target=4)
    assert np.array_equal(detailed.pixels, e.pixels) and detailed.score == e.score
    assert e.layers == detailed.layers


def test_keywords_that_do_not_apply_are_refused(model, network, test_images):
    image = test_images[0][0]
    with pytest.raises(ValueError, match="bias_policy= applies to BoW models only"):
        network.explain(image, bias_policy="none")
    with pytest.raises(ValueError, match="rule= applies to method lrp only, not occlusion"):
        model.explain(image, method="occlusion", rule="z+")
    with pytest.raises(ValueError, match="patch= applies to method occlusion only"):
        network.explain(image, patch=4)
    with pytest.raises(ValueError, match="reference= applies to method taylor only"):
        model.explain(image, reference="mean")
    # a keyword at its default is not "given"
    assert np.array_equal(model.explain(image, method="occlusion", patch=7, stride=3).pixels,
                          pixelwise.as_model(model).explain(image, method="occlusion", patch=7, stride=3).pixels)


def test_the_same_method_on_a_model_and_its_tiles(model, test_images):
    image = test_images[0][6]
    tiled = model.explain(image, tiles=(20, 8))
    assert np.array_equal(tiled.pixels, model.explain_tiled(image, size=20, offset=8).pixels)
    assert np.array_equal(tiled.pixels, model.explain(image, tiles="20,8").pixels)


# ---------------------------------------------------------------- batches


def test_explain_batch_stacks_the_single_explanations(model, network, test_images):
    images, _ = test_images
    for m in (model, network, pixelwise.as_model(model)):
        batch = m.explain_batch(images[:4], targets=[0, None, "1", 3])
        assert len(batch) == 4 and batch.pixels.shape == (4, 28, 28) and batch.pixels.dtype == np.float64
        assert batch.scores.shape == (4, len(m.classes))
        for i, target in enumerate([0, None, "1", 3]):
            single = m.explain(images[i], target=target)
            assert np.array_equal(batch.pixels[i], single.pixels)
            assert np.array_equal(batch.scores[i], single.scores)
            assert batch.class_index[i] == single.class_index and batch.score[i] == single.score
            assert batch.predicted[i] == single.predicted and batch.accounts[i] == single.account
        threaded = m.explain_batch(list(images[:4]), targets=[0, None, "1", 3], jobs=2)
        assert np.array_equal(threaded.pixels, batch.pixels) and np.array_equal(threaded.scores, batch.scores)


def test_explain_batch_numbers_the_images_like_the_cli(model, test_images):
    images, _ = test_images
    batch = model.explain_batch(images[:3], method="random", seed=5)
    for i in range(3):
        assert np.array_equal(batch.pixels[i], model.explain(images[i], method="random", seed=5, image_index=i).pixels)
    assert not np.array_equal(batch.pixels[0], batch.pixels[1])


def test_batches_are_read_unambiguously(model, test_images):
    images, _ = test_images
    rgb = np.stack([images[0], images[1], images[2]], axis=-1)  # one H x W x 3 colour image
    with pytest.raises(ValueError, match="ambiguous.*\\[image\\]"):
        model.predict_batch(rgb)
    with pytest.raises(ValueError, match="ambiguous"):
        model.explain_batch(rgb)
    with pytest.raises(ValueError, match="is one image"):
        model.predict_batch(images[0])
    # one colour image as a list, and N colour images as N x H x W x 3
    assert np.array_equal(model.predict_batch([rgb])[0], model.predict(rgb))
    stack = np.stack([rgb, rgb[::-1]])
    scores = model.predict_batch(stack)
    assert scores.shape == (2, 10)
    assert np.array_equal(scores[1], model.predict(rgb[::-1]))
    explained = model.explain_batch(stack)
    assert np.array_equal(explained.pixels[1], model.explain(rgb[::-1]).pixels)
    # grey images N x H x W, and N x H x W x 1
    grey = model.predict_batch(images[:3])
    assert np.array_equal(grey, model.predict_batch(images[:3, :, :, None]))
    assert np.array_equal(grey[2], model.predict(images[2]))
    with pytest.raises(ValueError, match="3 targets for 2 images"):
        model.explain_batch(images[:2], targets=[0, 1, 2])


def test_taylor_roots_like_the_cli(cli, model_dir, model, tmp_path):
    cli.run("explain", "--model", model_dir, "--method", "taylor", "--roots", "3", "--out", tmp_path,
            "fashion-mnist:test@7")
    e = model.explain("fashion-mnist:test@7", method="taylor", roots=3)
    assert np.array_equal(np.load(tmp_path / "fashion-mnist-test-7.npy"), e.pixels)
    with open(tmp_path / "fashion-mnist-test-7.json") as f:
        report = json.load(f)
    mine = e.to_json()
    for record in (mine, report):
        record.pop("model", None), record.pop("produced_by", None), record.pop("files", None)
    assert mine == report
