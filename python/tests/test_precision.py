"""float64 images reach a network in float64: the LRP Toolbox's reference maps
(numpy, float64; tests/data/lrp_toolbox) are reproduced from Python."""
import numpy as np
import pytest

import pixelwise

# The toolbox rules as composites (tests/data/lrp_toolbox/README.md): its z
# rule stabilises SumPool with 1e-12, and its alpha-beta has alpha + beta = 1
# where ours has alpha - beta = 1.
RULES = {
    "z": "sumpool=epsilon:1e-12;*=lrp0",
    "epsilon_0.01": "epsilon:0.01",
    "epsilon_1": "epsilon:1",
    "alphabeta_2": "alpha-beta:2,1",
    "alphabeta_1": "alpha-beta:1,0",
    "ww": "w2",
    "flat": "flat",
    "composite": "toolbox-composite",
}
NETS = {  # name: (model, inputs, image side)
    "mlp_relu": ("mlp_relu.txt", "mnist_inputs_784.txt", 28),
    "mlp_tanh": ("mlp_tanh.txt", "mnist_inputs_784.txt", 28),
    "cnn": ("cnn_random.txt", "mnist_inputs_32x32.txt", 32),
}


def rows(path):
    return [np.array([float(v) for v in line.split()]) for line in path.read_text().splitlines() if line.strip()]


def toolbox_images(folder, inputs, side):
    """The toolbox inputs x in [-1, 1] as float64 grey images g = (x + 1) / 2 (input range (-1, 1))."""
    return [((x + 1.0) / 2.0).reshape(side, side) for x in rows(folder / inputs)]


@pytest.mark.parametrize("net", sorted(NETS))
def test_toolbox_reference_maps_are_reproduced_from_float64_images(reference_dir, net):
    folder = reference_dir / "lrp_toolbox"
    model_file, inputs, side = NETS[net]
    model = pixelwise.NetworkModel.load(folder / model_file)
    images = toolbox_images(folder, inputs, side)
    forward = rows(folder / f"{net}_forward.txt")
    worst_float32 = 0.0
    for rule, composite in RULES.items():
        maps = rows(folder / f"{net}_{rule}.txt")
        for image, reference, scores in zip(images, maps, forward):
            assert image.dtype == np.float64
            # The CNN ends in a convolution: the explanation path (and the CLI) need a
            # Linear output layer to count the classes, explain_detailed does not.
            e = model.explain_detailed(image, rule=composite)
            assert e.class_index == int(np.argmax(scores))
            scale = np.abs(reference).max()
            error = np.abs(e.pixels.ravel() - reference).max()
            assert error <= 1e-10 * scale, (net, rule, error, scale)
            if net != "cnn":
                assert np.array_equal(model.explain(image, rule=composite).pixels, e.pixels)
            rounded = model.explain_detailed(image.astype(np.float32), rule=composite)
            worst_float32 = max(worst_float32, np.abs(rounded.pixels.ravel() - reference).max() / scale)
        assert np.allclose(model.predict(images[0]), forward[0], rtol=1e-12, atol=0)
    # the float32 path is measurably worse: the check above can fail
    assert worst_float32 > 1e-9


def test_which_dtypes_are_kept(reference_dir):
    folder = reference_dir / "lrp_toolbox"
    model = pixelwise.NetworkModel.load(folder / "mlp_relu.txt")
    image = toolbox_images(folder, "mnist_inputs_784.txt", 28)[0]
    # float64 grey: in float64 through predict, predict_batch, explain, explain_batch, Model
    scores = model.predict(image)
    assert not np.array_equal(scores, model.predict(image.astype(np.float32)))
    assert np.array_equal(model.predict_batch([image])[0], scores)
    assert np.array_equal(model.predict_batch(image[None])[0], scores)
    assert np.array_equal(pixelwise.as_model(model).predict(image), scores)
    e = model.explain(image)
    assert np.array_equal(model.explain_batch(image[None]).pixels[0], e.pixels)
    assert np.array_equal(pixelwise.as_model(model).explain(image).pixels, e.pixels)
    # float64 (H, W, 1) is the same grey image
    assert np.array_equal(model.predict(image[:, :, None]), scores)
