"""Hardened input handling (docs/errors.md): bad outside input is a Python
exception naming the input, never a crash, and leaves nothing behind."""
import json
import shutil

import pytest

import pixelwise
from conftest import TINY_CONFIG


def nested(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_deep_config_dicts_and_files_are_refused(test_images, tmp_path):
    images, labels = test_images
    deep = {**TINY_CONFIG, "pooling": {"type": "sum", "pyramid": nested(100000)}}
    with pytest.raises(ValueError, match="deeper than 64"):
        pixelwise.BowModel.train(deep, images, labels)
    path = tmp_path / "deep-config.json"
    path.write_text('{"pooling": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(RuntimeError, match="deep-config.json: JSON nested deeper than 64"):
        pixelwise.BowModel.train(str(path), images, labels)


def test_deep_manifest_is_refused_naming_the_file(model_dir, tmp_path):
    damaged = tmp_path / "deep-manifest"
    shutil.copytree(model_dir, damaged)
    (damaged / "manifest.json").write_text('{"format": ' + "[" * 100000 + "]" * 100000 + "}")
    (damaged / "manifest.crc32").unlink()  # else the manifest's checksum refuses it first
    with pytest.raises(RuntimeError, match="manifest.json: JSON nested deeper than 64"):
        pixelwise.BowModel.load(str(damaged))


def test_edited_manifest_is_refused_naming_the_file(model_dir, tmp_path):
    edited = tmp_path / "edited"
    shutil.copytree(model_dir, edited)
    assert (edited / "manifest.crc32").is_file()
    manifest = json.loads((edited / "manifest.json").read_text())
    manifest["classes"][0] = "renamed"
    (edited / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    with pytest.raises(RuntimeError, match="manifest.json: edited or damaged"):
        pixelwise.BowModel.load(str(edited))


def test_toolbox_file_with_a_blank_line_among_its_layers_is_refused(tmp_path):
    weights = " ".join(["0.01"] * 6)
    good = f"Linear 3 2\n{weights}\n0 0\nSoftMax  \n\n"
    (tmp_path / "good.txt").write_text(good)
    pixelwise.NetworkModel.load(str(tmp_path / "good.txt"))
    (tmp_path / "blank.txt").write_text(f"Linear 3 2\n{weights}\n0 0\n\nSoftMax\n")
    with pytest.raises(RuntimeError, match="blank.txt: line 4: blank line among the layers"):
        pixelwise.NetworkModel.load(str(tmp_path / "blank.txt"))
    (tmp_path / "garbage.txt").write_text(f"Linear 3 2\n{weights}\n0 0\nSoftMax\n\nnotes\n")
    with pytest.raises(RuntimeError, match="garbage.txt: line 5: blank line among the layers"):
        pixelwise.NetworkModel.load(str(tmp_path / "garbage.txt"))


def test_truncated_images_are_refused_naming_the_file(model, tmp_path):
    import numpy as np

    image = (np.arange(28 * 28) % 251).astype(np.uint8).reshape(28, 28)
    for extension in ("png", "jpg"):
        whole = tmp_path / f"whole.{extension}"
        pixelwise.save_image(str(whole), image)
        data = whole.read_bytes()
        cut = tmp_path / f"cut.{extension}"
        cut.write_bytes(data[: len(data) - 2])
        with pytest.raises(RuntimeError, match=f"cut.{extension}: truncated or corrupt"):
            pixelwise.read_image(str(cut))
        with pytest.raises(RuntimeError, match=f"cut.{extension}: truncated or corrupt"):
            model.explain(str(cut))


def test_images_above_the_pixel_limit_are_refused(model, monkeypatch):
    import numpy as np

    image = np.zeros((28, 28), dtype=np.uint8)
    monkeypatch.setenv("PIXELWISE_MAX_IMAGE_PIXELS", "700")
    with pytest.raises(RuntimeError, match="28 x 28 = 784 pixels is above the limit of 700 pixels"):
        model.explain(image)
    monkeypatch.setenv("PIXELWISE_MAX_IMAGE_PIXELS", "0")
    model.explain(image)


@pytest.mark.parametrize(
    "section, value, words",
    [
        ("descriptor", {"type": "dsift", "step": 4294967300}, "step must be a positive integer"),
        ("codebook", {"words": 4294967312}, "words must be a positive integer"),
        ("descriptor", {"type": "dsift", "step": 2.5}, "step must be a positive integer, got 2.5"),
        ("pooling", {"type": "sum", "pyramid": [[1, 1, 1]]}, "pairs"),
    ],
)
def test_config_integers_are_read_strictly(test_images, section, value, words):
    images, labels = test_images
    with pytest.raises(ValueError, match=words.replace("[", r"\[")):
        pixelwise.BowModel.train({**TINY_CONFIG, section: value}, images, labels)


def test_toolbox_softmax_and_huge_layers_name_the_file_and_line(tmp_path):
    weights = " ".join(["0.01"] * 6)
    (tmp_path / "softmax.txt").write_text(f"Linear 3 2\n{weights}\n0 0\nSoftMax\nRect\n")
    with pytest.raises(RuntimeError, match="softmax.txt: line 4: SoftMax is only allowed as the last layer"):
        pixelwise.NetworkModel.load(str(tmp_path / "softmax.txt"))
    (tmp_path / "huge.txt").write_text("Linear 100000000 100000000\n0 0\n0 0\n")
    with pytest.raises(RuntimeError, match="huge.txt: line 1: declares 10000000000000000 weights"):
        pixelwise.NetworkModel.load(str(tmp_path / "huge.txt"))


def test_a_file_given_as_a_model_directory_is_named_as_such(tmp_path):
    (tmp_path / "model.bin").write_text("not a model")
    for load in (pixelwise.BowModel.load, pixelwise.NetworkModel.load, pixelwise.load_model):
        with pytest.raises(RuntimeError, match="model.bin: is a file, not a model directory"):
            load(str(tmp_path / "model.bin"))


def test_knn_above_the_codebook_words_is_refused_before_training(test_images):
    images, labels = test_images
    config = {**TINY_CONFIG, "coding": {"type": "soft", "knn": 50, "sigma": 0.3}}
    with pytest.raises(ValueError, match="coding knn = 50 exceeds the 24 words of its codebook"):
        pixelwise.BowModel.train(config, images, labels)


def test_digits_data_sets_are_refused_for_bow_models():
    with pytest.raises(ValueError, match="digits:train:20: digits: data sets are read by network models only"):
        pixelwise.BowModel.train(TINY_CONFIG, data="digits:train:20")


def test_negative_occlusion_sizes_and_empty_class_are_value_errors(model_dir, test_images):
    images, _ = test_images
    explainable = pixelwise.load_model(str(model_dir))
    with pytest.raises(ValueError, match="patch -3: must be 0"):
        explainable.explain(images[0], method="occlusion", patch=-3)
    with pytest.raises(ValueError, match="stride -1: must be 0"):
        explainable.explain(images[0], method="occlusion", stride=-1)
    with pytest.raises(ValueError, match='class "" does not exist'):
        explainable.explain(images[0], target="")


def test_exceptions_are_mapped_by_type(model, tmp_path):
    """Bad values (an unknown class, an image the model cannot take) are
    ValueError by their C++ type (InputError), bad files RuntimeError."""
    import numpy as np

    with pytest.raises(ValueError, match='class "zebra" does not exist'):
        model.explain(np.zeros((28, 28), dtype=np.uint8), target="zebra")
    with pytest.raises(ValueError, match="smaller than one descriptor support"):
        model.explain(np.zeros((4, 4), dtype=np.uint8))
    weights = " ".join(["0.01"] * 784 * 2)
    (tmp_path / "net.txt").write_text(f"Linear 784 2\n{weights}\n0 0\n")
    network = pixelwise.NetworkModel.load(str(tmp_path / "net.txt"))
    with pytest.raises(ValueError, match="the network cannot take a"):
        network.explain(np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(RuntimeError, match="missing-model: model directory does not exist"):
        pixelwise.BowModel.load(str(tmp_path / "missing-model"))


MEMORY_SCRIPT = """
import resource, sys
import numpy as np
import pixelwise

model = pixelwise.BowModel.load(sys.argv[1])
small = np.full((28, 28), 90, dtype=np.uint8)
large = np.full((4000, 4000), 90, dtype=np.uint8)
# The address space in use now, and 400 MB more: enough for a 28 x 28 image,
# far too little for the dense SIFT descriptors of a 4000 x 4000 one (1.8 GB).
with open("/proc/self/statm") as statm:
    used = int(statm.read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (used + 400 * 2**20, resource.RLIM_INFINITY))
model.explain(small)
for explain in (model.explain, pixelwise.as_model(model).explain):
    try:
        explain(large)
        print("no error")
    except Exception as e:
        print(type(e).__name__ + ": " + str(e))
"""


def test_running_out_of_memory_names_the_image(model_dir):
    """A real allocation failure under an address-space limit (RLIMIT_AS) is
    a RuntimeError naming the image, never a crash or a bare MemoryError."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "MALLOC_ARENA_MAX": "1"}
    result = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(model_dir)], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    for line in lines:
        assert line.startswith("RuntimeError: image argument: out of memory (std::bad_alloc)"), result.stdout


def test_set_max_image_pixels_overrides_the_environment(model, monkeypatch):
    import numpy as np

    image = np.zeros((28, 28), dtype=np.uint8)
    refusal = "28 x 28 = 784 pixels is above the limit of 700 pixels"
    monkeypatch.setenv("PIXELWISE_MAX_IMAGE_PIXELS", "100000")
    try:
        pixelwise.set_max_image_pixels(700)
        assert pixelwise.max_image_pixels() == 700
        with pytest.raises(RuntimeError, match=refusal):
            model.explain(image)
        with pytest.raises(RuntimeError, match=refusal):
            model.predict(image)
        monkeypatch.setenv("PIXELWISE_MAX_IMAGE_PIXELS", "700")
        pixelwise.set_max_image_pixels(0)  # no limit, over the environment's
        assert pixelwise.max_image_pixels() == 0
        assert model.explain(image).image_size == (28, 28)
        pixelwise.set_max_image_pixels(None)  # back to the environment
        assert pixelwise.max_image_pixels() == 700
        with pytest.raises(RuntimeError, match=refusal):
            model.explain(image)
    finally:
        pixelwise.set_max_image_pixels(None)
    monkeypatch.delenv("PIXELWISE_MAX_IMAGE_PIXELS")
    assert pixelwise.max_image_pixels() == 4096 * 4096
    with pytest.raises(ValueError, match="set_max_image_pixels: -1 is negative"):
        pixelwise.set_max_image_pixels(-1)


def downscaling_model(model_dir, tmp_path):
    """The tiny model with "input": {"oversize": "downscale"} in its manifest."""
    edited = tmp_path / "downscale-model"
    shutil.copytree(model_dir, edited)
    manifest = json.loads((edited / "manifest.json").read_text())
    assert manifest["pipeline"]["input"] == {"oversize": "refuse"}  # written with every model
    manifest["pipeline"]["input"] = {"oversize": "downscale"}
    (edited / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (edited / "manifest.crc32").unlink()  # the manifest is edited on purpose (docs/errors.md)
    return pixelwise.BowModel.load(str(edited))


def test_a_model_configured_to_downscale_explains_the_downscaled_image(model, model_dir, test_images, tmp_path):
    import numpy as np

    images, _ = test_images
    large = np.kron(images[0], np.ones((2, 2), dtype=np.uint8))  # 56 x 56, each pixel doubled
    downscaling = downscaling_model(model_dir, tmp_path)
    try:
        pixelwise.set_max_image_pixels(784)
        with pytest.raises(RuntimeError, match="56 x 56 = 3136 pixels is above the limit of 784 pixels"):
            model.explain(large)
        explanation = downscaling.explain(large)
        from_file = tmp_path / "large.png"
        pixelwise.save_image(str(from_file), large)
        same = downscaling.explain(str(from_file))
        scores = downscaling.predict(large)
    finally:
        pixelwise.set_max_image_pixels(None)
    assert explanation.image_size == (28, 28)
    assert explanation.pixels.shape == (28, 28)
    record = explanation.to_json()
    total = record["pixel_sum"] + record["absorbed"] + record["unassigned"]
    assert abs(total - explanation.score) <= 1e-9 * max(1.0, abs(explanation.score))
    # Area interpolation of 2 x 2 copies gives the 28 x 28 image back: the same explanation as of it.
    assert np.array_equal(explanation.pixels, model.explain(images[0]).pixels)
    assert np.array_equal(same.pixels, explanation.pixels)
    assert np.array_equal(scores, model.predict(images[0]))


def test_digits_references_are_refused_for_bow_models(model, model_dir):
    message = "digits:test@0: digits: image references are read by network models only"
    with pytest.raises(ValueError, match=message):
        model.explain("digits:test@0")
    with pytest.raises(ValueError, match=message):
        model.predict("digits:test@0")
    with pytest.raises(ValueError, match=message):
        pixelwise.load_model(str(model_dir)).explain("digits:test@0")
    with pytest.raises(ValueError, match=message):
        pixelwise.occlusion(model, "digits:test@0", target=0)
