"""Models pickle (BowModel as its model-directory files, NetworkModel as its
network text and input convention, Model as the model it wraps), so that
multiprocessing workers compute the same bits as the parent."""
import multiprocessing
import pickle

import numpy as np
import pytest

import pixelwise


@pytest.fixture(scope="session")
def network(reference_dir):
    return pixelwise.NetworkModel.load(reference_dir / "lrp_toolbox" / "mlp_relu.txt", input_range=(-1.0, 0.5))


def explain_pixels(job):
    model, image = job
    return model.explain(image, target=1).pixels, model.predict(image)


def test_models_round_trip_through_pickle(model, model_dir, network, test_images):
    image = test_images[0][2]
    for m in (model, network, pixelwise.as_model(model), pixelwise.as_model(network),
              pixelwise.load_model(model_dir)):
        copy = pickle.loads(pickle.dumps(m))
        assert type(copy) is type(m) and copy is not m
        assert copy.classes == m.classes
        assert np.array_equal(copy.predict(image), m.predict(image))
        assert np.array_equal(copy.explain(image, target=1).pixels, m.explain(image, target=1).pixels)
        if isinstance(m, pixelwise.Model):
            assert copy.source == m.source and copy.kind == m.kind
    copy = pickle.loads(pickle.dumps(network))
    assert copy.input_range == (-1.0, 0.5) and copy.source == network.source and copy.layers == network.layers
    assert pickle.loads(pickle.dumps(model)).config == model.config


@pytest.mark.parametrize("start", ["spawn", "fork"])
def test_multiprocessing_workers_give_identical_results(model, network, test_images, start):
    images = test_images[0][:4]
    for m in (model, network, pixelwise.as_model(model)):
        expected = [explain_pixels((m, image)) for image in images]
        with multiprocessing.get_context(start).Pool(2) as pool:
            results = pool.map(explain_pixels, [(m, image) for image in images])
        for (pixels, scores), (want_pixels, want_scores) in zip(results, expected):
            assert np.array_equal(pixels, want_pixels) and np.array_equal(scores, want_scores)
