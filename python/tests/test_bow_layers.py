"""Inspecting the BoW layers (docs/design.md 1.2, 1.8): relevance per descriptor
and pyramid level, per bin, and the bin -> (channel, level, cell, word) layout."""
import numpy as np
import pytest

import pixelwise
from conftest import TINY_CONFIG, TRAIN_SPEC
from test_fisher import FISHER, VLAD

WORDS = TINY_CONFIG["codebook"]["words"]  # 24; pyramid [[1, 1], [2, 2]]: 5 cells


def test_bin_layout_of_a_one_by_one_and_two_by_two_pyramid(model):
    layout = model.bin_layout()
    assert set(layout) == {"channel", "level", "cell", "row", "column", "word", "component", "dimension", "part"}
    assert all(len(v) == model.dimension == 5 * WORDS for v in layout.values())
    bins = np.arange(5 * WORDS)
    assert np.array_equal(layout["cell"], bins // WORDS)          # cell-major
    assert np.array_equal(layout["word"], bins % WORDS)
    assert np.array_equal(layout["level"], np.r_[np.zeros(WORDS), np.ones(4 * WORDS)])
    # the 2 x 2 level's cells row-major: (row, column) = (0, 0), (0, 1), (1, 0), (1, 1)
    assert np.array_equal(layout["row"], np.repeat([0, 0, 0, 1, 1], WORDS))
    assert np.array_equal(layout["column"], np.repeat([0, 0, 1, 0, 1], WORDS))
    assert np.all(layout["channel"] == 0)
    assert np.all(layout["component"] == -1) and np.all(layout["dimension"] == -1) and np.all(layout["part"] == "")


def test_level_relevance_adds_up_and_splits_the_bins(model, test_images):
    images, _ = test_images
    layout = model.bin_layout()
    for image in images[:3]:
        e = model.explain_detailed(image)
        levels = e.level_relevance
        assert levels.shape == (len(e.descriptor_relevance), 2)
        assert np.allclose(levels.sum(axis=1), e.descriptor_relevance, rtol=0, atol=1e-12)
        # policy nonzero: every bin's relevance reaches a descriptor (nothing unassigned)
        for level in (0, 1):
            assert abs(e.bin_relevance[layout["level"] == level].sum() - levels[:, level].sum()) < 1e-12
        assert abs(levels.sum() - e.score) < 1e-12
        assert np.abs(levels[:, 1]).max() > 0 and np.abs(levels[:, 0]).max() > 0


def test_level_relevance_by_hand(model, test_images):
    """Hard codes, sum pooling, LRP-0: a descriptor with word w in cell c
    receives R_(c, w) / (descriptors of c with word w) from that cell."""
    images, _ = test_images
    image = images[1]
    e = model.explain_detailed(image)
    f = pixelwise.compute_descriptors(image, TINY_CONFIG["descriptor"])
    assert np.array_equal(f.frames["x"], e.frames["x"]) and np.array_equal(f.frames["y"], e.frames["y"])
    words = model.codebooks[0].nearest(f.descriptors)
    # the cell of every descriptor in the 2 x 2 level: its centre's half (x >= W/2 is right)
    h, w = image.shape
    column = np.minimum((f.frames["x"] * 2 / w).astype(int), 1)
    row = np.minimum((f.frames["y"] * 2 / h).astype(int), 1)
    cell = 1 + 2 * row + column
    R = e.bin_relevance
    expected_0 = np.array([R[words[l]] / np.sum(words == words[l]) for l in range(len(words))])
    expected_1 = np.array([R[cell[l] * WORDS + words[l]] / np.sum((words == words[l]) & (cell == cell[l]))
                           for l in range(len(words))])
    assert np.allclose(e.level_relevance[:, 0], expected_0, rtol=1e-12, atol=1e-14)
    assert np.allclose(e.level_relevance[:, 1], expected_1, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("config", [FISHER, VLAD], ids=["fisher", "vlad"])
def test_fisher_and_vlad_layout(config, test_images):
    model = pixelwise.BowModel.train(config, data=TRAIN_SPEC)
    layout = model.bin_layout()
    cells, D = 4, 16 if config is FISHER else 128  # pyramid [[1, 1], [3, 1]]; PCA to 16 (Fisher), SIFT 128 (VLAD)
    K = 4 if config is FISHER else 6
    parts = 2 if config is FISHER else 1
    assert model.dimension == cells * parts * K * D == len(layout["cell"])
    block = np.arange(parts * K * D)
    for c in range(cells):
        at = layout["cell"] == c
        assert np.array_equal(np.flatnonzero(at), c * parts * K * D + block)
        assert np.array_equal(layout["component"][at], (block // D) % K)
        assert np.array_equal(layout["dimension"][at], block % D)
    assert np.array_equal(layout["column"][layout["level"] == 1], np.repeat([0, 1, 2], parts * K * D))
    assert np.all(layout["row"] == 0) and np.all(layout["word"] == -1)
    if config is FISHER:
        assert np.array_equal(layout["part"][: cells * parts * K * D: K * D][:2], ["mean", "variance"])
        assert np.sum(layout["part"] == "mean") == np.sum(layout["part"] == "variance") == cells * K * D
    else:
        assert np.all(layout["part"] == "")
    e = model.explain_detailed(test_images[0][0])
    # per component: the layout agrees with the library's component relevance
    report = e.to_json()["channels"][0]["component_relevance"]
    per_component = [e.bin_relevance[layout["component"] == k].sum() for k in range(K)]
    assert np.allclose(per_component, report, rtol=0, atol=1e-12)
    assert np.allclose(e.level_relevance.sum(axis=1), e.descriptor_relevance, rtol=0, atol=1e-12)
    for level in (0, 1):
        assert abs(e.bin_relevance[layout["level"] == level].sum() - e.level_relevance[:, level].sum()) < 1e-12
