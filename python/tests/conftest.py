"""Shared fixtures of the pixelwise Python tests.

ctest runs these with PYTHONPATH pointing at the built module and with
PIXELWISE_BINARY (the command-line program) and PIXELWISE_SOURCE_DIR set
(python/CMakeLists.txt); reference data from other implementations is read from
the repository's tests/data. The models are small and trained once per session
on real Fashion-MNIST images (Debian's dataset-fashion-mnist), by the command
line, so that Python and the CLI can be compared on the very same model
directory.
"""
import gzip
import json
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import pixelwise

# Small enough to train in about a second; the same kind of pipeline as configs/demo.json.
TINY_CONFIG = {
    "descriptor": {"type": "dsift", "step": 2, "bin_sizes": [3, 4], "smoothing_magnif": 6.0, "fast": True},
    "codebook": {"words": 24, "training_descriptors": 3000, "seed": 3},
    "coding": {"type": "hard"},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
    "normalisation": {"steps": ["l1"]},
    "svm": {"kernel": "hik", "C": 10.0},
}
TRAIN_SPEC = "fashion-mnist:train:150"


def _env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set (run the tests through ctest)")
    return value


def fashion_mnist_dir():
    return Path(os.environ.get("PIXELWISE_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))


def read_fashion_mnist(split, count):
    """The first `count` uint8 images (N x 28 x 28) and labels of a split, read with numpy only."""
    prefix = {"train": "train", "test": "t10k"}[split]
    with gzip.open(fashion_mnist_dir() / f"{prefix}-images-idx3-ubyte.gz", "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051 and n >= count
        images = np.frombuffer(f.read(count * rows * cols), dtype=np.uint8).reshape(count, rows, cols)
    with gzip.open(fashion_mnist_dir() / f"{prefix}-labels-idx1-ubyte.gz", "rb") as f:
        magic, n = struct.unpack(">II", f.read(8))
        assert magic == 2049 and n >= count
        labels = np.frombuffer(f.read(count), dtype=np.uint8).astype(np.int64)
    return images, labels


class Cli:
    """Runs the pixelwise command line."""

    def __init__(self, binary):
        self.binary = binary

    def run(self, *args, check=True):
        result = subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"pixelwise {' '.join(map(str, args))} failed:\n{result.stderr}")
        return result


@pytest.fixture(scope="session")
def cli():
    return Cli(_env("PIXELWISE_BINARY"))


@pytest.fixture(scope="session")
def source_dir():
    return Path(_env("PIXELWISE_SOURCE_DIR"))


@pytest.fixture(scope="session")
def reference_dir(source_dir):
    """tests/data: outputs of other implementations, kept in the repository."""
    return source_dir / "tests" / "data"


@pytest.fixture(scope="session")
def tiny_config_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "tiny.json"
    path.write_text(json.dumps(TINY_CONFIG))
    return path


@pytest.fixture(scope="session")
def model_dir(cli, tiny_config_file, tmp_path_factory):
    """A model directory trained by the command line."""
    out = tmp_path_factory.mktemp("model") / "tiny-model"
    cli.run("train", "--quiet", "--config", tiny_config_file, "--data", TRAIN_SPEC, "--out", out)
    return out


@pytest.fixture(scope="session")
def model(model_dir):
    return pixelwise.BowModel.load(str(model_dir))


@pytest.fixture(scope="session")
def test_images():
    """The first 8 Fashion-MNIST test images as uint8 arrays, with labels."""
    return read_fashion_mnist("test", 8)
