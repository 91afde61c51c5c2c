"""A BoW model whose classifier is a network (config section "network";
docs/config.md), seen from Python: trained by the CLI, explained by LRP down
the network to the bins and by the BoW layers to pixels, equal to the CLI's
explanation to the last bit."""
import json

import numpy as np
import pytest

import pixelwise
from conftest import TINY_CONFIG, TRAIN_SPEC

NETWORK_CONFIG = {k: v for k, v in TINY_CONFIG.items() if k != "svm"}
NETWORK_CONFIG["network"] = {"hidden": [16], "epochs": 10, "learning_rate": 0.005, "seed": 2}


@pytest.fixture(scope="module")
def network_model_dir(cli, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bow-network")
    config = folder / "config.json"
    config.write_text(json.dumps(NETWORK_CONFIG))
    out = folder / "model"
    cli.run("train", "--quiet", "--config", config, "--data", TRAIN_SPEC, "--out", out)
    return out


def test_a_network_model_explains_like_the_cli_and_accounts_for_the_biases(cli, network_model_dir, tmp_path):
    model = pixelwise.BowModel.load(str(network_model_dir))
    assert model.kernel is None
    assert model.dimension == 5 * 24
    assert "network classifier" in repr(model)
    assert model.config["network"]["hidden"] == [16]
    image = "fashion-mnist:test@2"  # read as the CLI reads it
    for rule in ("lrp0", "alpha-beta:1,0", None):
        e = model.explain(image, target=1, rule=rule)
        names = [layer["name"] for layer in e.layers]
        assert names[0].startswith("network 2 Linear") and names[-2:] == ["pooling", "pixels"]
        absorbed = sum(layer["absorbed"] for layer in e.layers)
        unassigned = sum(layer["unassigned"] for layer in e.layers)
        assert abs(e.pixels.sum() + absorbed + unassigned - e.score) <= 1e-9 * max(1.0, abs(e.score))
    plain = model.explain(image, target=1, rule="lrp0", ignore_bias=True)
    assert sum(layer["absorbed"] for layer in plain.layers) == 0.0

    out = tmp_path / "out"
    cli.run("explain", "--model", network_model_dir, "--out", out, "--class", "1", "--rule", "lrp0",
            "fashion-mnist:test@2")
    cli_map = np.load(out / "fashion-mnist-test-2.npy")
    assert np.array_equal(cli_map, model.explain(image, target=1, rule="lrp0").pixels)


def test_rule_options_are_refused_for_svm_models(model, test_images):
    images, _ = test_images
    with pytest.raises(ValueError, match="network classifier"):
        model.explain(images[0], rule="lrp0")


def test_bow_layers_take_rules_on_every_model(model, test_images):
    """pooling=RULE (and pixels=flat) reach the BoW layers of an SVM model too;
    the loss of a stabiliser is reported as absorbed and the total is conserved."""
    images, _ = test_images
    plain = model.explain(images[0], target=1)
    eps = model.explain(images[0], target=1, rule="pooling=epsilon:0.5")
    assert eps.score == plain.score
    pooling = [layer for layer in eps.layers if layer["name"].startswith("pooling")][0]
    assert pooling["name"] == "pooling [epsilon:0.5]" and pooling["absorbed"] != 0
    total = eps.pixels.sum() + sum(layer["absorbed"] + layer["unassigned"] for layer in eps.layers)
    assert abs(total - eps.score) <= 1e-9 * max(1.0, abs(eps.score))
    with pytest.raises(ValueError, match="flat"):
        model.explain(images[0], rule="pixels=lrp0")
