"""The scripts in examples/ run (smoke test), so that they cannot rot; with
the session's model their outputs are checked against the command line's."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import pixelwise


def run_example(source_dir, name, *args, cwd):
    env = dict(os.environ)
    result = subprocess.run([sys.executable, str(source_dir / "examples" / name), *map(str, args)],
                            capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_explain_image(source_dir, model_dir, model, test_images, tmp_path):
    out = run_example(source_dir, "explain_image.py", "--model", model_dir, "--image", "fashion-mnist:test@3",
                      "--out", tmp_path / "out", cwd=tmp_path)
    assert "pixel sum" in out and "most relevant descriptors" in out
    expected = model.explain_detailed(pixelwise.load_image("fashion-mnist:test@3"))
    assert np.array_equal(np.load(tmp_path / "out" / "relevance.npy"), expected.pixels)
    assert pixelwise.read_image(str(tmp_path / "out" / "heatmap.png")).shape == (112, 112, 3)


def test_explain_image_trains_its_own_model_and_reads_files(source_dir, tmp_path):
    png = tmp_path / "item.png"
    pixelwise.save_image(str(png), (pixelwise.load_image("fashion-mnist:test@5") * 255).astype(np.uint8))
    out = run_example(source_dir, "explain_image.py", "--image", png, "--target", "2", "--out", tmp_path / "out",
                      cwd=tmp_path)
    assert "training a small model" in out and "explained class 'pullover'" in out


def test_compare_methods(source_dir, model_dir, tmp_path):
    out = run_example(source_dir, "compare_methods.py", "--model", model_dir, "--steps", "10",
                      "--methods", "lrp,taylor,sensitivity,occlusion,random", "--out", tmp_path / "out", cwd=tmp_path)
    assert "mean AOPC" in out and "through a Python callable" in out
    montage = pixelwise.read_image(str(tmp_path / "out" / "methods.png"))
    assert montage.shape == (2 * 112, 5 * 112, 3)


def test_reproduce_figure_panels_equal_the_clis_pictures(cli, source_dir, model_dir, tmp_path):
    # The CLI's pictures of the same three explanations, under the docs/ names.
    cli.run("explain", "--model", model_dir, "--out", tmp_path / "cli", "fashion-mnist:test@0", "fashion-mnist:test@1")
    cli.run("explain", "--model", model_dir, "--class", "trouser", "--out", tmp_path / "cli-trouser",
            "fashion-mnist:test@0")
    compare = tmp_path / "compare"
    compare.mkdir()
    shutil.copy(tmp_path / "cli" / "fashion-mnist-test-1.png", compare / "heatmap-pullover.png")
    shutil.copy(tmp_path / "cli" / "fashion-mnist-test-0.png", compare / "heatmap-ankle-boot.png")
    shutil.copy(tmp_path / "cli-trouser" / "fashion-mnist-test-0.png", compare / "heatmap-ankle-boot-as-trouser.png")
    out = run_example(source_dir, "reproduce_figure.py", "--model", model_dir, "--compare", compare,
                      "--out", tmp_path / "figure", cwd=tmp_path)
    assert out.count("identical to") == 3 and "differs" not in out
    figure = pixelwise.read_image(str(tmp_path / "figure" / "figure.png"))
    assert figure.shape == (112, 3 * 112 + 2 * 8, 3)
