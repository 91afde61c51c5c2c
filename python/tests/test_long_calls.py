"""Long calls report progress(done, total) and stop on Ctrl-C (KeyboardInterrupt)
instead of running to the end."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import pixelwise
from conftest import TINY_CONFIG


class Recorder:
    def __init__(self, stop_at=None):
        self.calls = []
        self.stop_at = stop_at

    def __call__(self, done, total):
        self.calls.append((done, total))
        if self.stop_at is not None and done >= self.stop_at:
            raise KeyboardInterrupt


def test_progress_of_predict_batch_and_explain_batch(model, test_images):
    images, _ = test_images
    for m in (model, pixelwise.as_model(model)):
        seen = Recorder()
        scores = m.predict_batch(images, progress=seen)
        assert seen.calls == [(i, 8) for i in range(1, 9)]
        assert np.array_equal(scores, m.predict_batch(images))
        seen = Recorder()
        m.explain_batch(images[:5], progress=seen)
        assert seen.calls == [(i, 5) for i in range(1, 6)]
        seen = Recorder()
        m.explain_batch(images[:5], progress=seen, jobs=2)
        assert sorted(seen.calls) == [(i, 5) for i in range(1, 6)]


def test_a_progress_callback_can_stop_the_call(model, test_images):
    images, _ = test_images
    stop = Recorder(stop_at=3)
    with pytest.raises(KeyboardInterrupt):
        model.predict_batch(images, progress=stop)
    assert stop.calls[-1] == (3, 8) and len(stop.calls) == 3
    stop = Recorder(stop_at=2)
    with pytest.raises(KeyboardInterrupt):
        model.explain_batch(images, progress=stop)
    assert len(stop.calls) == 2


def test_training_reports_its_stages(test_images):
    images, labels = test_images
    seen = Recorder()
    trained = pixelwise.BowModel.train(TINY_CONFIG, images, labels % 2, progress=seen)
    # one channel: descriptors, k-means, histograms, classifier
    assert [done for done, _ in seen.calls] == [0, 1, 2, 4] and {total for _, total in seen.calls} == {4}
    plain = pixelwise.BowModel.train(TINY_CONFIG, images, labels % 2)
    assert np.array_equal(trained.predict_batch(images), plain.predict_batch(images))
    with pytest.raises(KeyboardInterrupt):
        pixelwise.BowModel.train(TINY_CONFIG, images, labels % 2, progress=Recorder(stop_at=1))


def interrupt_after(seconds):
    """Sends SIGINT to this process from another thread, as Ctrl-C would."""
    def send():
        time.sleep(seconds)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


@pytest.mark.parametrize("kind", ["bow", "network"])
def test_ctrl_c_interrupts_predict_batch(model, reference_dir, kind):
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    rng = np.random.default_rng(1)
    if kind == "bow":
        m, images = model, rng.integers(0, 256, size=(3000, 28, 28), dtype=np.uint8)
    else:
        m = pixelwise.NetworkModel.load(reference_dir / "lrp_toolbox" / "cnn_random.txt")
        images = rng.random((6000, 32, 32))
    # the time of the whole call, from a tenth of it
    start = time.monotonic()
    m.predict_batch(images[: len(images) // 10])
    whole = (time.monotonic() - start) * 10
    seen = Recorder()
    thread = interrupt_after(whole / 10)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            m.predict_batch(images, progress=seen)
        interrupted = time.monotonic() - start
    finally:
        thread.join()
    # (the signal may arrive while the images are read, before the first one is scored)
    assert not seen.calls or seen.calls[-1][0] < len(images)
    assert interrupted < whole / 2, (interrupted, whole)


def test_ctrl_c_interrupts_training(test_images):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(2000, 28, 28), dtype=np.uint8)
    seen = Recorder()
    thread = interrupt_after(0.2)
    try:
        with pytest.raises(KeyboardInterrupt):
            pixelwise.BowModel.train(TINY_CONFIG, images, np.arange(2000) % 3, progress=seen)
    finally:
        thread.join()
    assert (4, 4) not in seen.calls  # stopped before the end


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_interrupts_explain_batch(model, test_images, jobs):
    images = np.concatenate([test_images[0]] * 40)  # 320 images
    start = time.monotonic()
    model.explain_batch(images[:32], jobs=jobs)
    whole = (time.monotonic() - start) * 10
    seen = Recorder()
    thread = interrupt_after(whole / 10)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.explain_batch(images, jobs=jobs, progress=seen)
        interrupted = time.monotonic() - start
    finally:
        thread.join()
    assert not seen.calls or seen.calls[-1][0] < len(images)
    assert interrupted < whole / 2, (interrupted, whole)


def interrupted_seconds(call):
    """Runs call() expecting KeyboardInterrupt; returns how long it ran."""
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        call()
    return time.monotonic() - start


def assert_interrupted_early(calls, whole):
    """Each call, interrupted after a tenth of `whole` (its estimated full
    time), raises KeyboardInterrupt before half of it has passed."""
    for call in calls:
        thread = interrupt_after(whole / 10)
        try:
            interrupted = interrupted_seconds(call)
        finally:
            thread.join()
        assert interrupted < whole / 2, (interrupted, whole)


def test_ctrl_c_interrupts_one_long_occlusion(model):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(64, 64), dtype=np.uint8)
    # the time of one patch position, from a coarse occlusion of the same image
    start = time.monotonic()
    coarse = model.explain(image, method="occlusion", patch=4, stride=8)
    per_evaluation = (time.monotonic() - start) / coarse.evaluations
    positions = 61 * 61  # patch 4, stride 1 on 64 pixels: origins 0..60 on each axis
    whole = per_evaluation * (positions + 1)
    assert_interrupted_early((lambda: model.explain(image, method="occlusion", patch=4, stride=1),
                              lambda: pixelwise.occlusion(model, image, target=0, patch=4, stride=1)), whole)


def test_ctrl_c_interrupts_one_tiled_explanation(model):
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, size=(84, 84), dtype=np.uint8)
    start = time.monotonic()
    coarse = model.explain(image, tiles=(28, 8))  # origins 0, 8, .., 56 on each axis: 8 x 8 tiles
    per_tile = (time.monotonic() - start) / 64
    assert len(model.explain_tiled(image, size=28, offset=8).tiles) == 64 and coarse.evaluations == 65
    whole = per_tile * 57 * 57  # offset 1: origins 0..56
    assert_interrupted_early((lambda: model.explain(image, tiles=(28, 1)),
                              lambda: model.explain_tiled(image, size=28, offset=1)), whole)


def test_ctrl_c_interrupts_evaluate(model):
    keywords = dict(methods=["occlusion"], metrics=["aopc"], steps=10, jobs=1)
    start = time.monotonic()
    pixelwise.evaluate(model, "fashion-mnist:test:8", **keywords)
    whole = (time.monotonic() - start) * 20  # 160 images
    thread = interrupt_after(whole / 10)
    try:
        interrupted = interrupted_seconds(lambda: pixelwise.evaluate(model, "fashion-mnist:test:160", **keywords))
    finally:
        thread.join()
    assert interrupted < whole / 2, (interrupted, whole)
