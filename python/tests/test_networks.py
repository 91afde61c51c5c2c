"""Network classifiers from Python: the CLI's numbers to the last bit, and conservation."""
import json

import numpy as np
import pytest

import pixelwise


@pytest.fixture(scope="session")
def toolbox_file(reference_dir):
    return reference_dir / "lrp_toolbox" / "mlp_relu.txt"


@pytest.fixture(scope="session")
def network(toolbox_file):
    return pixelwise.NetworkModel.load(str(toolbox_file))


@pytest.mark.parametrize("method, rule", [("lrp", "epsilon:0.01"), ("lrp", "alpha-beta:2,1"),
                                          ("lrp", "zb-epsilon-plus"), ("sensitivity", "zb-epsilon-plus")])
def test_network_explanations_equal_the_cli(cli, network, toolbox_file, test_images, tmp_path, method, rule):
    images, _ = test_images
    args = ["explain", "--model", toolbox_file, "--method", method, "--out", tmp_path, "fashion-mnist:test@2"]
    if method == "lrp":
        args[5:5] = ["--rule", rule]
    cli.run(*args)
    e = network.explain_detailed(images[2], method=method, rule=rule)
    assert np.array_equal(np.load(tmp_path / "fashion-mnist-test-2.npy"), e.pixels)
    with open(tmp_path / "fashion-mnist-test-2.json") as f:
        report = json.load(f)
    mine = e.to_json()
    for key in ("score", "pixel_sum", "class_index", "method"):
        assert mine[key] == report[key], key
    if method == "lrp":
        assert mine["layers"] == report["layers"]
    assert e.score == e.scores[e.class_index] and e.method == method


def test_network_lrp_conserves_the_score(network, test_images):
    images, _ = test_images
    for image in images[:4]:
        scores = network.predict(image)
        for target in (None, 3):
            e = network.explain_detailed(image, rule="epsilon:0.01", target=target)
            assert np.array_equal(e.scores, scores)
            assert e.class_index == (int(np.argmax(scores)) if target is None else target)
            absorbed = sum(layer["absorbed"] + layer["unassigned"] for layer in e.layers)
            assert abs(e.pixels.sum() + absorbed - e.score) <= 1e-9 * max(1.0, abs(e.score))
            assert e.layers[0]["relevance_in"] == e.score  # top layer first
            assert len(e.layer_rules) == len(network.layers)
        # without biases and epsilon (LRP-0), nothing is absorbed on a ReLU network
        e = network.explain_detailed(image, rule="lrp0", ignore_bias=True)
        assert abs(e.pixels.sum() - e.score) <= 1e-9 * max(1.0, abs(e.score))


def test_network_figure_and_errors(network, test_images):
    images, _ = test_images
    e = network.explain_detailed(images[0])
    figure = e.figure()
    assert figure.dtype == np.uint8 and figure.ndim == 3 and figure.shape[2] == 3
    assert "epsilon" in pixelwise.composite_presets()["zb-epsilon-plus"] or pixelwise.composite_presets()
    with pytest.raises(ValueError, match="bogus"):
        network.explain_detailed(images[0], rule="bogus")
    with pytest.raises(ValueError, match="magic"):
        network.explain_detailed(images[0], method="magic")
    with pytest.raises(ValueError, match="10 x 10|784|input"):
        network.explain_detailed(np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(RuntimeError, match="no-such.txt"):
        pixelwise.NetworkModel.load("no-such.txt")
