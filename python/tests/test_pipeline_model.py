"""Your own pipeline as a model (PipelineModel): building blocks plus a
scikit-learn classifier or a numpy function on the histograms, explained by
occlusion, scored by the metrics and evaluate, saved and loaded."""
import json
import pickle

import numpy as np
import pytest

import pixelwise
from conftest import TINY_CONFIG, read_fashion_mnist

# the class names of the data sets the evaluation reads (fashion-mnist:...)
CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


class LinearScores:
    """A plain numpy linear function on histograms (picklable: a module-level class)."""

    def __init__(self, weights, bias):
        self.weights, self.bias = weights, bias

    def __call__(self, histograms):
        return histograms @ self.weights.T + self.bias


def mapping_of(model):
    return pixelwise.HistogramMapping(model.codebooks[0].centres, coding=TINY_CONFIG["coding"],
                                      pooling=TINY_CONFIG["pooling"], normalisation=TINY_CONFIG["normalisation"])


@pytest.fixture(scope="module")
def pipelines(model):
    from sklearn.svm import LinearSVC

    mapping = mapping_of(model)
    features = TINY_CONFIG["descriptor"]
    images, labels = read_fashion_mnist("train", 150)
    histograms = np.stack([mapping(pixelwise.compute_descriptors(image, features)) for image in images])
    svc = LinearSVC(C=10.0, max_iter=20000).fit(histograms, labels)
    sklearn_pipeline = pixelwise.PipelineModel(features=features, mapping=mapping, classifier=svc,
                                               classes=CLASSES, source="dsift + histogram + LinearSVC")
    rng = np.random.default_rng(5)
    linear = LinearScores(rng.normal(size=(2, mapping.size)), np.array([0.1, -0.1]))
    numpy_pipeline = pixelwise.PipelineModel(
        features=lambda image: pixelwise.compute_descriptors(image, features), mapping=mapping,
        classifier=linear, classes=["a", "b"])
    return sklearn_pipeline, numpy_pipeline, svc, mapping


def test_scores_are_the_parts_composed(pipelines, test_images):
    p, q, svc, mapping = pipelines
    images, _ = test_images
    for image in images[:3]:
        f = pixelwise.compute_descriptors(pixelwise.load_image(image), TINY_CONFIG["descriptor"])
        h = mapping(f)
        assert h.shape == (5 * 24,) and abs(h.sum() - 1) < 1e-12  # l1-normalised
        assert np.array_equal(p.histogram(image), h)
        assert np.array_equal(p.predict(image), svc.decision_function(h[None])[0])
        assert np.array_equal(q.predict(image), q.classifier(h[None])[0])
    # (one image per call against three at once: BLAS may round the products differently)
    assert np.allclose(p.predict_batch(images[:3]), svc.decision_function(
        np.stack([p.histogram(image) for image in images[:3]])), rtol=0, atol=1e-12)
    assert p.methods == ["occlusion", "random"] and p.classes == CLASSES
    assert pixelwise.as_model(p) is p.model and p.model.kind == "python"


def test_occlusion_equals_one_by_hand(pipelines, test_images):
    p, q, svc, mapping = pipelines
    image = test_images[0][0]
    for pipeline, c in ((p, 3), (q, 1)):
        e = pipeline.explain(image, target=c, method="occlusion", patch=8, stride=4)
        x = pixelwise.load_image(image)
        def score(im):
            return pipeline.predict(im)[c]

        base = score(x)
        origins = [0, 4, 8, 12, 16, 20]  # patch 8, stride 4 on 28 pixels
        total, covered = np.zeros((28, 28)), np.zeros((28, 28))
        for y0 in origins:
            for x0 in origins:
                patched = x.copy()
                patched[y0:y0 + 8, x0:x0 + 8] = 0.0
                total[y0:y0 + 8, x0:x0 + 8] += base - score(patched)
                covered[y0:y0 + 8, x0:x0 + 8] += 1
        # occlusion scores 32 images a call, by hand one: BLAS may round the products differently
        assert abs(e.score - base) < 1e-12 and e.evaluations == 37 and e.class_index == c
        assert np.allclose(e.pixels, total / covered, rtol=0, atol=1e-12)
        assert np.abs(e.pixels).max() > 0
        d = pixelwise.occlusion(pipeline, image, target=c, patch=8, stride=4)
        assert np.array_equal(d["relevance"], e.pixels)


def test_metrics_and_evaluate_run_on_it(pipelines, test_images):
    p, _, _, _ = pipelines
    image = test_images[0][0]
    e = p.explain(image, method="occlusion")
    curve = pixelwise.region_perturbation(p, image, e.pixels, target=e.class_index, steps=5)
    assert len(curve["scores"]) == 6 and abs(curve["scores"][0] - e.score) < 1e-12
    same = pixelwise.region_perturbation(p.model, image, e.pixels, target=e.class_index, steps=5)
    assert np.array_equal(same["scores"], curve["scores"]) and same["aopc"] == curve["aopc"]
    assert abs(curve["aopc"] - np.mean(curve["scores"][0] - curve["scores"])) < 1e-12
    assert np.isfinite(curve["aopc"])
    result = pixelwise.evaluate(p, "fashion-mnist:test:3", methods=["occlusion", "random"], metrics=["aopc"],
                                steps=5, jobs=1)
    summary = result["summary"]
    assert summary["occlusion"]["aopc"]["count"] == 3 and np.isfinite(summary["occlusion"]["aopc"]["mean"])
    assert summary["random"]["aopc"]["count"] == 3
    assert result["settings"]["model"]["kind"] == "python"


def test_save_and_load_give_the_same_scores(pipelines, test_images, tmp_path):
    images, _ = test_images
    p, q, _, _ = pipelines
    path = tmp_path / "pipeline"
    p.save(path)
    manifest = json.loads((path / "pipeline.json").read_text())
    assert manifest["format"] == "pixelwise-pipeline" and manifest["classes"] == CLASSES
    assert sorted(manifest["parts"]) == ["classifier", "features", "mapping"]
    loaded = pixelwise.PipelineModel.load(path)
    assert loaded.source == p.source and loaded.classes == p.classes
    assert np.array_equal(loaded.predict_batch(images), p.predict_batch(images))
    e, f = (m.explain(images[1], method="occlusion") for m in (p, loaded))
    assert np.array_equal(e.pixels, f.pixels)
    p.save(path)  # replaces a saved pipeline
    assert np.array_equal(pixelwise.PipelineModel.load(path).predict(images[0]), p.predict(images[0]))
    for copy in (pickle.loads(pickle.dumps(p)), pickle.loads(pickle.dumps(p.model))):
        assert np.array_equal(copy.predict(images[0]), p.predict(images[0]))
    # a lambda as features cannot be pickled: nothing is left behind
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        q.save(tmp_path / "lambda")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["pipeline"]
    # read back strictly
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ValueError, match="not a saved PipelineModel"):
        p.save(other)
    with pytest.raises(ValueError, match="not a saved PipelineModel"):
        pixelwise.PipelineModel.load(other)
    (path / "classifier.pickle").write_bytes((path / "classifier.pickle").read_bytes() + b"x")
    with pytest.raises(ValueError, match="SHA-256"):
        pixelwise.PipelineModel.load(path)
    manifest["extra"] = 1
    (path / "pipeline.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="expected the keys"):
        pixelwise.PipelineModel.load(path)


def test_lrp_and_bad_parts_are_refused(pipelines, test_images):
    p, q, svc, mapping = pipelines
    image = test_images[0][0]
    for method in ("lrp", "taylor", "sensitivity"):
        with pytest.raises(ValueError, match="computes its scores in Python"):
            p.explain(image, method=method)
    with pytest.raises(ValueError, match="does not apply to a python model"):
        pixelwise.evaluate(p, "fashion-mnist:test:1", methods=["lrp"], metrics=["aopc"])
    with pytest.raises(TypeError, match="mapping"):
        pixelwise.PipelineModel(features={}, mapping=3, classifier=svc, classes=CLASSES)
    with pytest.raises(TypeError, match="classifier"):
        pixelwise.PipelineModel(features={}, mapping=mapping, classifier=3, classes=CLASSES)
    with pytest.raises(TypeError, match="features"):
        pixelwise.PipelineModel(features=3, mapping=mapping, classifier=svc, classes=CLASSES)
    with pytest.raises(ValueError, match="classes"):
        pixelwise.PipelineModel(features={}, mapping=mapping, classifier=svc, classes=["a", "a"])
    for classes in ("ab", None, [1, 2]):
        with pytest.raises(TypeError, match="classes"):
            pixelwise.PipelineModel(features={}, mapping=mapping, classifier=svc, classes=classes)
    with pytest.raises(TypeError, match="source"):
        pixelwise.PipelineModel(features={}, mapping=mapping, classifier=svc, classes=CLASSES, source=3)
    wrong = pixelwise.PipelineModel(features=TINY_CONFIG["descriptor"], mapping=mapping, classifier=svc,
                                    classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="expected 1 x 3 scores"):
        wrong.predict(image)
    with pytest.raises(TypeError, match="codebook"):
        pixelwise.HistogramMapping(mapping.codebook.centres, codebook=[1])
    with pytest.raises(ValueError, match="pooling"):
        pixelwise.HistogramMapping(mapping.codebook.centres, pooling={"type": "median"})


def test_lrp_of_a_pipeline_with_a_pixelwise_svm_is_the_bow_models(model, test_images, tmp_path):
    """The tiny BoW model's own parts as a pipeline: pixelwise's layers run on
    them give the model's LRP explanation."""
    p = pixelwise.PipelineModel(features=TINY_CONFIG["descriptor"], mapping=mapping_of(model), classifier=model.svm,
                                classes=model.classes)
    assert p.methods == ["lrp", "occlusion", "random"]
    images, _ = test_images
    for image in images[:3]:
        assert np.array_equal(p.histogram(image), model.histogram(image))
        e, reference = p.explain(image), model.explain(image)
        scale = max(1.0, abs(reference.score))
        assert e.class_index == reference.class_index and e.method == "lrp"
        assert abs(e.score - reference.score) < 1e-9 * scale
        assert np.abs(e.pixels - reference.pixels).max() < 1e-9 * scale
        assert abs(e.pixel_sum - e.score) < 1e-9 * scale  # bias policy nonzero: nothing absorbed
        assert [layer["name"] for layer in e.layers] == [layer["name"] for layer in reference.layers]
        other = p.explain(image, target=2)
        assert abs(other.score - model.predict(image)[2]) < 1e-9 * scale
    with pytest.raises(ValueError, match="no composite"):
        p.explain(images[0], rule="epsilon")
    with pytest.raises(ValueError, match="explained by lrp, occlusion, random"):
        p.explain(images[0], method="taylor")
    with pytest.raises(TypeError):
        p.save(tmp_path / "svm")  # an Svm (a view into its BowModel) does not pickle
    assert not (tmp_path / "svm").exists()
