"""Spectral relevance analysis from Python (docs/design.md 7): pixelwise.spray
on any stack of heatmaps against a slow numpy reference of the same steps,
pixelwise.analyse against the command line, and the HDF5 export for
CoRelAy/ViRelAy read back with h5py."""
import json

import numpy as np
import pytest

import pixelwise


def groups_of_heatmaps(seed=3):
    """Three groups (20, 15, 10 maps of 32 x 32): relevance top left, bottom right, centre."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:32]
    maps, truth = [], []
    for g, ((cy, cx), n) in enumerate(zip([(0.2, 0.2), (0.8, 0.8), (0.5, 0.5)], [20, 15, 10])):
        for i in range(n):
            blob = np.exp(-(((yy + 0.5) / 32 - cy) ** 2 + ((xx + 0.5) / 32 - cx) ** 2) / (2 * 0.08 ** 2))
            maps.append((blob + rng.normal(0, 0.05, blob.shape)) * (1 + i))
            truth.append(g)
    return np.stack(maps), np.array(truth)


def reference_spectrum(maps, size, k):
    """Steps 1-3 of docs/design.md 7 written out plainly: block sums (32 / size pixels a
    side), division by max |D|, the symmetric k-nearest-neighbour graph (ties by index),
    the eigenvalues of I - D^-1/2 A D^-1/2."""
    n, h, w = maps.shape
    b = h // size
    x = maps.reshape(n, size, b, size, b).sum(axis=(2, 4)).reshape(n, -1)
    x = x / np.abs(x).max(axis=1, keepdims=True)
    a = np.zeros((n, n))
    for i in range(n):
        d = [(float(np.sum((x[i] - x[j]) ** 2)), j) for j in range(n) if j != i]
        for _, j in sorted(d)[:k]:
            a[i, j] = a[j, i] = 1
    s = 1 / np.sqrt(a.sum(axis=1))
    return np.linalg.eigvalsh(np.eye(n) - s[:, None] * a * s[None, :])


def test_spray_matches_a_numpy_reference_and_finds_the_groups():
    maps, truth = groups_of_heatmaps()
    r = pixelwise.spray(maps, size=8, neighbours=4)
    expected = reference_spectrum(maps, 8, 4)
    assert r["eigenvalues"].shape == (11,)
    np.testing.assert_allclose(r["eigenvalues"], expected[:11], atol=1e-10)
    assert r["clusters"] == 3 and r["clusters_from_eigengap"]
    assert r["neighbours"] == 4
    assert pixelwise.adjusted_rand_index(r["cluster"], truth) == 1.0
    assert [k["size"] for k in r["per_cluster"]] == [20, 15, 10]
    assert r["embedding"].shape == (45, 2)
    # Mean heatmap of cluster 0: the mean of its members' normalised 8 x 8 block sums.
    x = maps.reshape(45, 8, 4, 8, 4).sum(axis=(2, 4))
    x = x / np.abs(x).max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(r["per_cluster"][0]["mean_heatmap"], x[r["cluster"] == 0].mean(axis=0), atol=1e-12)
    for k in r["per_cluster"]:
        assert all(r["cluster"][i] == k["cluster"] for i in k["nearest"])
    # Given K, a list of maps of different sizes (downsampled onto one grid), the same seed: the same result.
    same = pixelwise.spray([m for m in maps], size=8, neighbours=4, clusters=3)
    assert not same["clusters_from_eigengap"]
    np.testing.assert_array_equal(same["cluster"], r["cluster"])
    mixed = [m if i % 2 else np.kron(m, np.ones((2, 2))) / 4 for i, m in enumerate(maps)]
    np.testing.assert_allclose(pixelwise.spray(mixed, size=8, neighbours=4)["eigenvalues"], r["eigenvalues"], atol=1e-9)


def test_spray_rejects_bad_input():
    maps, _ = groups_of_heatmaps()
    with pytest.raises(ValueError, match="at least two"):
        pixelwise.spray(maps[:1])
    with pytest.raises(ValueError, match="normalisation"):
        pixelwise.spray(maps, normalisation="max")
    with pytest.raises(ValueError, match="clusters"):
        pixelwise.spray(maps, clusters=0)
    with pytest.raises(ValueError, match="clusters"):
        pixelwise.spray(maps, clusters="three")
    with pytest.raises(TypeError, match="clusters"):
        pixelwise.spray(maps, clusters=1.5)
    with pytest.raises(ValueError, match="N x H x W"):
        pixelwise.spray(maps[0])
    bad = maps.copy()
    bad[3, 0, 0] = np.nan
    with pytest.raises(ValueError, match="heatmap"):
        pixelwise.spray(bad)


@pytest.fixture(scope="module")
def watermark(cli, tmp_path_factory):
    """Small watermark scenes and a tiny BoW model trained on them by the command line."""
    root = tmp_path_factory.mktemp("watermark")
    cli.run("make-scenes", "--kind", "watermark", "--class", "trouser", "--rate", "0.5", "--train", "60", "--test", "24",
            "--size", "64", "--max-scale", "1.2", "--seed", "3", "--quiet", "--out", root / "scenes")
    config = root / "config.json"
    config.write_text(json.dumps({"descriptor": {"step": 3, "bin_sizes": [4, 6]},
                                  "codebook": {"words": 24, "training_descriptors": 4000, "seed": 1},
                                  "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
                                  "svm": {"kernel": "hik", "C": 10}}))
    cli.run("train", "--quiet", "--config", config, "--data", root / "scenes" / "train", "--out", root / "model")
    return root


def test_analyse_equals_the_cli_and_exports_to_hdf5(cli, watermark, tmp_path):
    import h5py  # Debian python3-h5py (scripts/setup.sh)
    spec = f"scenes:{watermark / 'scenes'}:test"
    cli.run("analyse", "--quiet", "--model", watermark / "model", "--data", spec, "--neighbours", "4",
            "--out", tmp_path / "cli")
    from_cli = json.loads((tmp_path / "cli" / "analysis.json").read_text())
    model = pixelwise.load_model(str(watermark / "model"))
    mine = pixelwise.analyse(model, spec, neighbours=4)
    assert len(mine["classes"]) == 2
    for c, d in zip(mine["classes"], from_cli["classes"]):
        n = len(c["images"])
        assert c["heatmaps"].shape == (n, 64, 64) and c["inputs"].shape == (n, 64, 64)
        assert c["outputs"].shape == (n, 2)
        for key in ("images", "eigenvalues", "clusters", "per_cluster"):
            assert c[key] == d[key], key
        # SpRAy of the returned heatmaps is the analysis's own.
        again = pixelwise.spray(c["heatmaps"], neighbours=4)
        assert list(again["cluster"]) == [i["cluster"] for i in c["images"]]
        # The scores: the explained class's score is the record's.
        assert [i["score"] for i in c["images"]] == list(c["outputs"][:, c["class_index"]])
    trouser = next(c for c in mine["classes"] if c["class"] == "trouser")
    assert trouser["watermark"]["accuracy"]["tagged_images"] == 12

    paths = pixelwise.export_virelay(mine, tmp_path / "scenes")
    assert [p.split("/")[-1] for p in paths] == ["scenes.input.h5", "scenes.attribution.h5", "scenes.analysis.h5"]
    n = sum(len(c["images"]) for c in mine["classes"])
    with h5py.File(paths[0], "r") as f:
        assert f["data"].shape == (n, 1, 64, 64) and f["data"].dtype == np.float32
        np.testing.assert_array_equal(f["data"][:, 0], np.concatenate([c["inputs"] for c in mine["classes"]]).astype(np.float32))
        np.testing.assert_array_equal(f["label"][:], np.concatenate([[c["class_index"]] * len(c["images"]) for c in mine["classes"]]))
    with h5py.File(paths[1], "r") as f:
        assert f["attribution"].shape == (n, 1, 64, 64) and f["attribution"].dtype == np.float32
        np.testing.assert_array_equal(f["attribution"][:, 0],
                                      np.concatenate([c["heatmaps"] for c in mine["classes"]]).astype(np.float32))
        np.testing.assert_array_equal(f["index"][:], np.arange(n))
        assert f["prediction"].shape == (n, 2) and f["label"].shape == (n, 2)
        np.testing.assert_array_equal(f["label"][:].argmax(axis=1),
                                      np.concatenate([[c["class_index"]] * len(c["images"]) for c in mine["classes"]]))
        np.testing.assert_allclose(f["prediction"][:], np.concatenate([c["outputs"] for c in mine["classes"]]), rtol=1e-6)
        assert (f["label"][:].sum(axis=1) == 1).all()
    with h5py.File(paths[2], "r") as f:
        start = 0
        for c in mine["classes"]:
            g = f[c["class"]]
            k = len(c["images"])
            np.testing.assert_array_equal(g["index"][:], np.arange(start, start + k))
            np.testing.assert_array_equal(g["clustering/spray/root"][:], [i["cluster"] for i in c["images"]])
            assert g["clustering/spray/#clusters"][()] == c["clusters"]
            assert g["clustering/spray/prototype/average/root"].shape == (c["clusters"], 16, 16)
            assert g["embedding/spectral/root"].shape == (k, 2)
            start += k


def test_analyse_and_export_reject_bad_input(watermark, tmp_path):
    model = pixelwise.load_model(str(watermark / "model"))
    spec = f"scenes:{watermark / 'scenes'}:test"
    with pytest.raises(ValueError, match="hat"):
        pixelwise.analyse(model, spec, classes=["hat"])
    with pytest.raises(ValueError, match="method"):
        pixelwise.analyse(model, spec, method="nope")
    with pytest.raises(ValueError, match="jobs"):
        pixelwise.analyse(model, spec, jobs=-1)
    with pytest.raises(ValueError, match="pixelwise.analyse"):
        pixelwise.export_virelay({"format": "something"}, tmp_path / "x")
    assert not list(tmp_path.iterdir())


def test_watermark_scenes_equal_the_cli(cli, tmp_path):
    cli.run("make-scenes", "--kind", "watermark", "--class", "bag", "--rate", "0.5", "--size", "64", "--max-scale",
            "1.2", "--train", "8", "--test", "4", "--seed", "2", "--quiet", "--out", tmp_path / "cli")
    keywords = dict(kind="watermark", target="bag", rate=0.5, size=64, max_scale=1.2, train=8, test=4, seed=2)
    pixelwise.make_scenes(tmp_path / "py", **keywords)
    files = sorted(p.relative_to(tmp_path / "cli") for p in (tmp_path / "cli").rglob("*") if p.is_file())
    assert any(str(f).startswith("tags/") for f in files)
    assert files == sorted(p.relative_to(tmp_path / "py") for p in (tmp_path / "py").rglob("*") if p.is_file())
    for name in files:
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "py" / name).read_bytes(), name
    # Positive training scene 2 (index 2 * 1) is tagged at rate 0.5; its tag mask is the file's.
    scene = pixelwise.generate_scene("train", 2, **keywords)
    assert scene["tagged"] and scene["tag"].sum() == 77
    tag = pixelwise.read_image(tmp_path / "py" / "tags" / "train" / "bag" / "00002.png")
    assert np.array_equal(scene["tag"], tag > 127)
    assert not pixelwise.generate_scene("train", 0, **keywords)["tagged"]
    assert not pixelwise.generate_scene("train", 0, **keywords)["tag"].any()
    big = pixelwise.generate_scene("test", 0, **dict(keywords, tag_scale=2, size=80))
    assert big["tagged"] and big["tag"].sum() == 4 * 77
    with pytest.raises(ValueError, match="tag rate"):
        pixelwise.make_scenes(tmp_path / "bad", kind="watermark", rate=1.5)
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ValueError, match=r'kind: unknown scene kind "stripes" \(known: fashion, shapes, watermark\)'):
        pixelwise.make_scenes(tmp_path / "bad", kind="stripes")
    assert not (tmp_path / "bad").exists()
