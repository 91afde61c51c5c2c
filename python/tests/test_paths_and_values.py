"""Bad values are ValueErrors with short messages everywhere in the Python API,
and every path argument takes os.PathLike (pathlib.Path) as well as str."""
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import pixelwise
from conftest import TINY_CONFIG


class NotAString(os.PathLike):
    """An os.PathLike that is not a pathlib.Path."""

    def __init__(self, path):
        self.path = str(path)

    def __fspath__(self):
        return self.path


@pytest.fixture(scope="module")
def toolbox_file(reference_dir):
    return Path(reference_dir) / "lrp_toolbox" / "mlp_relu.txt"


def test_unknown_class_names_are_value_errors(model, model_dir, test_images, toolbox_file):
    image = test_images[0][0]
    for call in (lambda: model.explain(image, target="zebra"), lambda: model.class_index("zebra"),
                 lambda: model.explain(image, target=0, versus="zebra"),
                 lambda: pixelwise.load_model(model_dir).explain(image, target="zebra"),
                 lambda: pixelwise.as_model(model).class_index("zebra"),
                 lambda: pixelwise.region_perturbation(model, image, np.zeros((28, 28)), target="zebra"),
                 lambda: pixelwise.NetworkModel.load(toolbox_file).explain(image, target="zebra")):
        with pytest.raises(ValueError, match="zebra"):
            call()


def test_images_too_small_or_of_the_wrong_size_are_value_errors(model, model_dir, toolbox_file):
    tiny = np.zeros((5, 5), dtype=np.uint8)
    for call in (model.predict, model.explain, model.histogram, pixelwise.as_model(model).explain,
                 pixelwise.load_model(model_dir).scores, pixelwise.dense_sift):
        with pytest.raises(ValueError, match="smaller than one descriptor"):
            call(tiny)
    net = pixelwise.NetworkModel.load(toolbox_file)
    for call in (net.predict, net.explain, pixelwise.as_model(net).explain):
        with pytest.raises(ValueError, match="the model expects|cannot take"):
            call(np.zeros((10, 10), dtype=np.uint8))


def test_bad_labels_are_value_errors(test_images):
    images, labels = test_images
    for bad, words in [(labels[:7], "8 images but 7 labels"), (-labels - 1, ">= 0"),
                       (labels.reshape(2, 4), "1-D"), (np.full(8, 2**40), "out of range")]:
        with pytest.raises(ValueError, match=words):
            pixelwise.BowModel.train(TINY_CONFIG, images, bad)
    with pytest.raises(ValueError, match="only 2 class names"):
        pixelwise.BowModel.train(TINY_CONFIG, images, labels, classes=["a", "b"])


def test_json_type_errors_are_value_errors_without_the_json_library_prefix(test_images):
    images, labels = test_images
    bad = {**TINY_CONFIG, "svm": {"kernel": "hik", "C": "ten"}}
    with pytest.raises(ValueError) as info:
        pixelwise.BowModel.train(bad, images, labels)
    assert "json.exception" not in str(info.value) and "[" not in str(info.value)[:1]


def test_messages_never_dump_an_array(model, test_images):
    image = np.zeros((28, 28), dtype=np.uint8)
    calls = [lambda: model.explain(image, method=3), lambda: model.explain(image, bogus=1),
             lambda: model.predict(image, image), lambda: pixelwise.render_heatmap(np.zeros((28, 28)), scale="big"),
             lambda: pixelwise.localise(np.zeros((28, 28)), np.zeros((28, 28)), 5)]
    for call in calls:
        with pytest.raises(TypeError) as info:
            call()
        message = str(info.value)
        assert "array(" not in message and "[[" not in message and len(message) < 2000, message
        assert "numpy.ndarray" in message or "ndarray" in message, message


def test_paths_take_os_pathlike(model, model_dir, toolbox_file, tmp_path, test_images):
    for path in (Path(model_dir), NotAString(model_dir)):
        assert pixelwise.BowModel.load(path).classes == model.classes
        assert pixelwise.load_model(path).classes == model.classes
    saved = tmp_path / "saved"
    model.save(saved)
    assert pixelwise.BowModel.load(saved).classes == model.classes
    net = pixelwise.NetworkModel.load(Path(toolbox_file))
    assert pixelwise.NetworkModel.load(NotAString(toolbox_file)).layers == net.layers
    png = tmp_path / "x.png"
    image = test_images[0][0]
    pixelwise.save_image(png, image)
    assert np.array_equal(pixelwise.read_image(png), image)
    assert np.array_equal(pixelwise.read_image(NotAString(png)), image)
    assert np.array_equal(model.predict(png), model.predict(image))
    assert np.array_equal(pixelwise.load_image(Path(png)), pixelwise.load_image(image))
    folder = tmp_path / "data"
    for c, name in enumerate(["a", "b"]):
        (folder / name).mkdir(parents=True)
        shutil.copy(png, folder / name / f"{c}.png")
    assert pixelwise.load_dataset(folder).classes == ["a", "b"]
    config = tmp_path / "config.json"
    config.write_text(__import__("json").dumps(TINY_CONFIG))
    with pytest.raises(RuntimeError, match="absent"):  # a missing file is not a bad value
        pixelwise.BowModel.load(tmp_path / "absent")
    assert pixelwise.BowModel.train(config, data=folder).classes == ["a", "b"]
