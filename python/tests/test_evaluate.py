"""pixelwise.evaluate from Python: the numbers of `pixelwise evaluate`."""
import json

import numpy as np
import pytest

import pixelwise


def without_times(value):
    """The record without wall times (which differ from run to run)."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in ("seconds", "execution")}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def test_evaluate_equals_the_cli(cli, model_dir, tmp_path):
    out = tmp_path / "evaluation"
    cli.run("evaluate", "--model", model_dir, "--data", "fashion-mnist:test:5", "--methods", "lrp,random,occlusion",
            "--metrics", "aopc,lerf,conservation", "--steps", "8", "--jobs", "2", "--quiet", "--out", out)
    with open(out / "evaluation.json") as f:
        report = json.load(f)
    seen = []
    mine = pixelwise.evaluate(pixelwise.load_model(str(model_dir)), "fashion-mnist:test:5",
                              methods=["lrp", "random", "occlusion"], metrics=["aopc", "lerf", "conservation"],
                              steps=8, jobs=1, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 1), (1, 1)]
    assert len(mine["images"]) == 5
    assert without_times(mine["images"]) == without_times(report["images"])
    assert without_times(mine["summary"]) == without_times(report["summary"])
    # a BowModel in memory gives the same numbers
    same = pixelwise.evaluate(pixelwise.BowModel.load(model_dir), "fashion-mnist:test:5", methods=["lrp"],
                              metrics=["aopc"], steps=8)
    assert [i["methods"]["lrp"] for i in without_times(same["images"])] == \
        [i["methods"]["lrp"] for i in without_times(pixelwise.evaluate(
            pixelwise.load_model(model_dir), "fashion-mnist:test:5", methods=["lrp"], metrics=["aopc"], steps=8)["images"])]
    with pytest.raises(ValueError, match="bogus"):
        pixelwise.evaluate(pixelwise.load_model(model_dir), "fashion-mnist:test:5", methods=["bogus"])


def test_train_network_equals_the_cli(cli, tmp_path, test_images):
    out = tmp_path / "net"
    cli.run("train-network", "--data", "fashion-mnist:train:200", "--hidden", "16,8", "--epochs", "3",
            "--input-range", "-1,1", "--seed", "4", "--quiet", "--out", out)
    from_cli = pixelwise.NetworkModel.load(out)
    seen = []
    mine = pixelwise.train_network("fashion-mnist:train:200", hidden=[16, 8], epochs=3, input_range=(-1.0, 1.0),
                                   seed=4, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert mine.layers == from_cli.layers and mine.classes == from_cli.classes
    assert mine.input_range == (-1.0, 1.0)
    images, _ = test_images
    assert np.array_equal(mine.predict_batch(images), from_cli.predict_batch(images))
    mine.save(tmp_path / "again")
    assert np.array_equal(pixelwise.NetworkModel.load(tmp_path / "again").predict_batch(images),
                          from_cli.predict_batch(images))
    with pytest.raises(ValueError, match="activation"):
        pixelwise.train_network("fashion-mnist:train:20", activation="sigmoid")


def test_make_scenes_equals_the_cli(cli, tmp_path):
    keywords = dict(kind="shapes", size=40, train=6, test=4, seed=3, max_objects=3)
    cli.run("make-scenes", "--kind", "shapes", "--size", "40", "--train", "6", "--test", "4", "--seed", "3",
            "--max-objects", "3", "--quiet", "--out", tmp_path / "cli")
    pixelwise.make_scenes(tmp_path / "py", **keywords)
    files = sorted(p.relative_to(tmp_path / "cli") for p in (tmp_path / "cli").rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(tmp_path / "py") for p in (tmp_path / "py").rglob("*") if p.is_file())
    for name in files:
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "py" / name).read_bytes(), name
    with open(tmp_path / "py" / "scenes.json") as f:
        record = json.load(f)
    scene = pixelwise.generate_scene("test", 2, **keywords)
    png = pixelwise.read_image(tmp_path / "py" / "test" / scene["class"] / "00002.png")
    assert np.array_equal(np.round(scene["image"] * 255).astype(np.uint8), png)
    mask = pixelwise.read_image(tmp_path / "py" / "masks" / "test" / scene["class"] / "00002.png")
    assert np.array_equal(scene["mask"], mask > 127)
    assert record and scene["label"] in (0, 1)
    with pytest.raises(ValueError, match="out of range"):
        pixelwise.generate_scene("test", 4, **keywords)
    with pytest.raises(ValueError, match=r'split: unknown split "val" \(known: train, test\)'):
        pixelwise.generate_scene("val", 0, **keywords)
