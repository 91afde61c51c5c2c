"""numpy arrays without copies where the data allow.

Two kinds (python/src/convert.hpp): results computed for the call own their C++
buffer through a capsule (no copy on the way out), and arrays inside a Python
object (an explanation, features, a codebook) are read-only views that keep
that object alive.
"""
import gc

import numpy as np

import pixelwise


def owns_cpp_buffer(a):
    """The array's memory is a C++ buffer handed over without a copy (a capsule base)."""
    return not a.flags.owndata and type(a.base).__name__ == "PyCapsule"


def test_explanation_arrays_are_views_into_the_explanation(model, test_images):
    e = model.explain_detailed(test_images[0][0])
    for name in ("pixels", "bin_relevance", "descriptor_relevance", "scores"):
        a, b = getattr(e, name), getattr(e, name)
        assert a.base is e, name
        assert np.shares_memory(a, b) and a.ctypes.data == b.ctypes.data, name
        assert not a.flags.writeable, name
    assert e.channels[0]["pixel_map"].base is e
    assert e.pixels.flags.c_contiguous and e.pixels.dtype == np.float64


def test_views_keep_their_owner_alive(model, test_images):
    e = model.explain_detailed(test_images[0][0])
    pixels, copy = e.pixels, e.pixels.copy()
    del e
    gc.collect()
    assert np.array_equal(pixels, copy)
    features = pixelwise.dense_sift(test_images[0][0])
    d, d_copy = features.descriptors, features.descriptors.copy()
    del features
    gc.collect()
    assert np.array_equal(d, d_copy)


def test_computed_results_are_handed_over_without_copy(model, test_images):
    image = test_images[0][0]
    assert owns_cpp_buffer(model.predict(image))
    assert owns_cpp_buffer(model.predict_batch(test_images[0][:2]))
    assert owns_cpp_buffer(model.histogram(image))
    assert owns_cpp_buffer(pixelwise.render_heatmap(np.zeros((28, 28))))
    assert owns_cpp_buffer(pixelwise.load_image(image))
    pixels, _ = pixelwise.spread_to_pixels({"x": [1.0], "y": [1.0], "support": [[0, 0, 2, 2]]}, [1.0], 3, 3)
    assert owns_cpp_buffer(pixels) and pixels.flags.writeable


def test_model_parts_are_views_into_the_model(model):
    a, b = model.codebooks[0].centres, model.codebooks[0].centres
    assert a.dtype == np.float32 and a.shape == (24, 128)
    assert np.shares_memory(a, b)
    assert np.shares_memory(model.svm.support_vectors, model.svm.support_vectors)


def test_data_set_images_share_the_data_sets_buffers():
    data = pixelwise.load_dataset("fashion-mnist:test:3")
    assert len(data) == 3 and len(data.classes) == 10 and data.labels.tolist() == [9, 2, 1]
    first, again = data.images[0], data.images[0]
    assert first.dtype == np.float32 and first.shape == (28, 28)
    assert np.shares_memory(first, again)
    assert np.array_equal(first, pixelwise.load_image("fashion-mnist:test@0"))


def test_all_zero_heatmap_renders_white():
    rgb = pixelwise.render_heatmap(np.zeros((30, 20)), min_side=1)
    assert rgb.shape == (30, 20, 3) and rgb.dtype == np.uint8 and (rgb == 255).all()
    signs = np.array([[1.0, -1.0, 0.0]])
    rgb = pixelwise.render_heatmap(signs, min_side=1)
    assert rgb[0, 0].tolist() == [255, 0, 0]  # red: positive
    assert rgb[0, 1].tolist() == [0, 0, 255]  # blue: negative
    assert rgb[0, 2].tolist() == [255, 255, 255]
