"""Fisher-vector and VLAD models (docs/design.md 1.8) from Python: the same
explanation as the command line to the last bit, and the building blocks (GMM,
encoders, per-descriptor terms, the mapping rule) giving the pipeline's numbers."""
import json

import numpy as np
import pytest

import pixelwise
from conftest import TRAIN_SPEC
from test_cli_equivalence import assert_same_explanation, cli_explain

BASE = {
    "descriptor": {"type": "dsift", "step": 3, "bin_sizes": [4]},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [3, 1]]},
    "normalisation": {"steps": []},
    "svm": {"kernel": "linear", "C": 1.0},
}
FISHER = dict(BASE, mapping={"type": "fisher"}, pca={"dimensions": 16},
              gmm={"components": 4, "training_descriptors": 3000, "seed": 3, "max_iterations": 30})
VLAD = dict(BASE, mapping={"type": "vlad"}, codebook={"words": 6, "training_descriptors": 3000, "seed": 3})


@pytest.mark.parametrize("config", [FISHER, VLAD], ids=["fisher", "vlad"])
def test_python_explanation_equals_cli(cli, config, test_images, tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    model_dir = tmp_path / "model"
    cli.run("train", "--quiet", "--config", config_file, "--data", TRAIN_SPEC, "--out", model_dir)
    model = pixelwise.BowModel.load(str(model_dir))
    images, _ = test_images
    for policy in ("nonzero", "none"):
        out = tmp_path / policy
        cli_explain(cli, model_dir, out, "fashion-mnist:test@0", extra=("--bias-policy", policy))
        e = model.explain_detailed(images[0], bias_policy=policy)
        assert_same_explanation(e, out / "fashion-mnist-test-0")
        report = json.loads((out / "fashion-mnist-test-0.json").read_text())
        channel = report["channels"][0]
        assert channel["mapping"] == config["mapping"]["type"]
        assert abs(sum(channel["component_relevance"]) - channel["bin_relevance"]) <= 1e-9 * max(1, abs(report["score"]))
        # eps = 0: pixels + absorbed + unassigned = score
        assert abs(report["unaccounted"]) <= 1e-9 * max(1, abs(report["score"]))


def test_sdca_fisher_model_explains_by_lrp_and_sensitivity_as_the_cli(cli, test_images, tmp_path):
    """The linear SVM trained by SDCA (the linear kernel's identity feature
    map) on Fisher vectors: LRP conserves, and the descriptor-level
    sensitivity (docs/design.md 5) is the CLI's to the last bit."""
    config = dict(FISHER, svm={"kernel": "linear", "C": 1.0, "feature_map": {"seed": 2}})
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    model_dir = tmp_path / "model"
    cli.run("train", "--quiet", "--config", config_file, "--data", TRAIN_SPEC, "--out", model_dir)
    model = pixelwise.BowModel.load(str(model_dir))
    # The model's vocabulary and PCA, as saved in the model directory.
    (gmm,) = model.gmms
    assert gmm.components == 4 and gmm.dimension == 16
    assert np.array_equal(gmm.means, np.load(model_dir / "gmm_means.npy"))
    (pca,) = model.pcas
    assert pca["projection"].shape == (16, 128) and pca["mean"].shape == (128,)
    assert np.array_equal(pca["projection"], np.load(model_dir / "pca_projection.npy"))
    images, _ = test_images
    lrp = model.explain(images[0])
    assert abs(lrp.pixel_sum + sum(layer["absorbed"] + layer["unassigned"] for layer in lrp.layers) - lrp.score) <= 1e-9 * max(
        1, abs(lrp.score))
    out = tmp_path / "sensitivity"
    cli.run("explain", "--model", model_dir, "--method", "sensitivity", "--out", out, "fashion-mnist:test@0")
    mine = model.explain(images[0], method="sensitivity")
    theirs = np.load(out / "fashion-mnist-test-0.npy")
    assert np.array_equal(mine.pixels, theirs)
    assert mine.pixels.min() >= 0 and mine.pixels.sum() > 0
    report = json.loads((out / "fashion-mnist-test-0.json").read_text())
    assert report["method"] == "sensitivity" and report["score"] == mine.score


def test_blocks_give_the_terms_and_the_rule():
    rng = np.random.default_rng(4)
    x = np.vstack([rng.normal(0, 1, (200, 3)), rng.normal(5, 1, (100, 3))])
    gmm = pixelwise.train_gmm(x, {"components": 2, "seed": 2})
    assert gmm.components == 2 and gmm.dimension == 3
    assert abs(gmm.priors.sum() - 1) < 1e-9
    q = pixelwise.gmm_posteriors(gmm, x)
    assert q.shape == (300, 2) and np.allclose(q.sum(axis=1), 1)
    cells_of = [[0] for _ in range(20)]
    e = pixelwise.fisher_encode(gmm, x[:20], cells_of, 1, {"square_root": False, "normalised": False})
    z = e.terms()
    assert z.shape == (20, 12) and e.mapping == "fisher"
    assert np.allclose(z.sum(axis=0), e.sums, rtol=0, atol=1e-12)
    assert np.array_equal(e.sums, e.encoded)  # no square root, no normalisation
    r = rng.normal(0, 1, 12)
    descriptors, account = pixelwise.term_relevance(e, r)
    s = e.sums
    expected = (z * np.where(s != 0, r / np.where(s != 0, s, 1), 0)).sum(axis=1)
    assert np.allclose(descriptors, expected, rtol=1e-12, atol=1e-12)
    assert account["absorbed"] == 0
    _, eps_account = pixelwise.term_relevance(e, r, epsilon=0.5)
    assert eps_account["absorbed"] != 0 and abs(eps_account["unaccounted"]) < 1e-12
    per_component = pixelwise.component_relevance(e, r)
    assert np.allclose(per_component, [r[[0, 1, 2, 6, 7, 8]].sum(), r[[3, 4, 5, 9, 10, 11]].sum()])
    with pytest.raises(ValueError, match="this encoder computes type 'fisher'"):
        pixelwise.fisher_encode(gmm, x[:20], cells_of, 1, {"type": "vlad"})
