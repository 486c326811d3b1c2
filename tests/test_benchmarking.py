"""Timing and memory helpers of notebook 04."""

import contextlib
import mmap
import time

import numpy as np
import pytest

from styletransfer_utils.measure import benchmarking


def test_seconds_per_step_skips_the_first_step():
    history = [{"step": 1, "seconds": 5.0}, {"step": 2, "seconds": 5.5}, {"step": 3, "seconds": 6.0}]
    assert benchmarking.seconds_per_step(history) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        benchmarking.seconds_per_step(history[:1])


MB = 2**20


@contextlib.contextmanager
def fresh_pages(megabytes: int):
    """``megabytes`` MB of new memory from the kernel, every page written, unmapped on exit.

    Not ``np.ones``: malloc may hand out memory that an earlier test freed but that is still
    resident (glibc keeps up to 64 MB at the top of its heap), which raises no RSS at all.
    """
    pages = mmap.mmap(-1, megabytes * MB)
    np.frombuffer(pages, dtype=np.uint8)[:] = 1  # a temporary view: nothing holds it after this line
    try:
        yield pages
    finally:
        pages.close()


def test_peak_rss_sees_a_large_allocation():
    with benchmarking.PeakRSS() as probe:
        with fresh_pages(64):
            time.sleep(0.05)
    assert probe.extra > 32 * MB


@pytest.mark.skipif(not benchmarking.reset_peak_rss(), reason="needs Linux /proc/self/clear_refs")
def test_the_kernel_peak_mark_resets_and_sees_a_large_allocation():
    with fresh_pages(64):  # touched, then freed: the peak mark is above the current RSS
        pass
    assert benchmarking.reset_peak_rss()
    before = benchmarking.peak_rss_bytes()
    assert before <= benchmarking.current_rss_bytes() + MB
    with fresh_pages(64):
        pass
    assert benchmarking.peak_rss_bytes() - before > 32 * MB


def _hold_and_free(megabytes: int):
    """Allocate and touch ``megabytes`` MB, keep it a moment (for the sampler), free it."""
    with fresh_pages(megabytes) as pages:
        total = int(np.frombuffer(pages, dtype=np.uint8).sum(dtype=np.int64))
        time.sleep(0.2)
    return total


def test_peak_memory_on_cpu_measures_an_allocation_freed_before_the_end():
    value, peak, what = benchmarking.peak_memory(lambda: _hold_and_free(200), device="CPU")
    assert value == 200 * MB and "CPU" in what
    # the block is gone when the call returns: only the sampling thread can have seen it
    assert 150 * MB <= peak < 400 * MB, peak / MB


def test_peak_memory_on_cpu_reads_little_without_an_allocation():
    value, peak, what = benchmarking.peak_memory(lambda: sum(range(1000)), device="CPU")
    assert value == 499500 and "CPU" in what
    assert peak < 32 * MB, peak / MB


def test_peak_rss_measures_from_the_value_on_entry():
    with fresh_pages(100):  # resident before the probe starts: not counted
        with benchmarking.PeakRSS() as probe:
            with fresh_pages(100):
                time.sleep(0.05)
        assert probe.start >= 100 * MB  # RSS on entry includes what was held already
        assert 75 * MB <= probe.extra < 200 * MB, probe.extra / MB


@pytest.mark.weights
@pytest.mark.slow
def test_time_variants_and_memory_by_size(vgg_weights, content_picture, style_picture):
    variants = {"a": {"precision": "float32"}, "b": {"precision": "float32", "tv_weight": 0.0}}
    rows = benchmarking.time_variants(content_picture, [style_picture], variants, steps=3, size=48)
    assert [r.variant for r in rows] == ["a", "b"] and rows[0].speedup == 1.0
    assert all(r.seconds_per_step > 0 and np.isfinite(r.final_loss) for r in rows)
    memory = benchmarking.memory_by_size(content_picture, [style_picture], [64, 48], steps=2, precision="float32")
    assert [m["size"] for m in memory] == [48, 64] and memory[1]["pixels"] == 64 * 48
    # On a CPU each size runs in a fresh process, whose run must allocate something of its own.
    assert all(m["MB"] > 0 and "fresh process" in m["measured"] for m in memory)
    in_process = benchmarking.memory_by_size(content_picture, [style_picture], [48], steps=2,
                                             fresh_process=False, precision="float32")
    assert in_process[0]["pixels"] == memory[0]["pixels"] and "fresh" not in in_process[0]["measured"]


def test_johnson_vs_gatys_on_real_runs(vgg_weights, style_picture):
    from styletransfer_utils import feedforward as ff
    from styletransfer_utils.settings import TrainSettings

    settings = TrainSettings(content_layers=("relu1_2",), style_layers=("relu1_2",), precision="float32")
    model = ff.build_transformer(half_width=True, seed=0)
    rows = benchmarking.johnson_vs_gatys(model, style_picture, sizes=(32, 48), gatys_steps=200, timed_steps=2,
                                         repeat=1, settings=settings)
    assert [r.size for r in rows] == [32, 48]
    for r in rows:  # measured, not made up: positive, finite, and no longer than a test can run
        assert 0 < r.network_ms < 60_000 and 0 < r.gatys_s_per_step < 60 and r.gatys_steps == 200
        assert np.isfinite([r.gatys_s, r.speedup]).all() and r.gatys_s > 0 and r.speedup > 0


class _FakeResult:
    def __init__(self, history):
        self.history = history


def test_johnson_vs_gatys_arithmetic_against_known_timings(monkeypatch, style_picture):
    """With the network timed at 2 + size/16 ms and Gatys' steps at size/128 s after a 3 s first step
    (tracing), the table's figures are known numbers, and scale with ``gatys_steps``."""
    from styletransfer_utils.gatys import run as optimize
    from styletransfer_utils.settings import TrainSettings

    model = object()
    network_calls, gatys_calls = [], []

    def fake_network_ms(net, height, width=None, *, repeat=5):
        network_calls.append((net, height, width, repeat))
        return 2 + height / 16

    def fake_stylize(content, styles, settings=None, **changes):
        gatys_calls.append((content.shape, styles, settings))
        step = settings.size / 128  # seconds per step after the first
        return _FakeResult([{"step": k, "seconds": 3.0 + (k - 1) * step} for k in range(1, settings.steps + 1)])

    monkeypatch.setattr(benchmarking, "network_ms", fake_network_ms)
    monkeypatch.setattr(optimize, "stylize", fake_stylize)
    settings = TrainSettings(content_layers=("relu1_2",), style_layers=("relu1_2", "relu2_1"), style_weight=1e-2)

    rows = benchmarking.johnson_vs_gatys(model, style_picture, sizes=(32, 64), gatys_steps=200, timed_steps=4,
                                         repeat=3, settings=settings)
    # 32 px: 4 ms a pass; 0.25 s a step, 50 s for 200 steps, 50 / 0.004 = 12,500 times the network's time
    # 64 px: 6 ms a pass; 0.5 s a step, 100 s for 200 steps, 100 / 0.006 = 16,667
    assert [(r.size, r.network_ms, r.gatys_s_per_step, r.gatys_steps, r.gatys_s, r.speedup) for r in rows] == [
        pytest.approx((32, 4.0, 0.25, 200, 50.0, 12_500.0)), pytest.approx((64, 6.0, 0.5, 200, 100.0, 100 / 0.006))]
    # every network pass is timed on the model at the size asked for, as often as asked
    assert network_calls == [(model, 32, None, 3), (model, 64, None, 3)]
    # Gatys runs timed_steps + 1 steps on a square picture, on the network's objective, at each size
    assert [(shape, s.size, s.steps) for shape, _, s in gatys_calls] == [((32, 32, 3), 32, 5), ((64, 64, 3), 64, 5)]
    trained = settings  # layer names resolved to Keras' (relu1_2 -> block1_conv2)
    for _, styles, s in gatys_calls:
        assert len(styles) == 1 and styles[0] is style_picture
        assert (s.content_layers, s.style_layers, s.style_weight, s.init) == (
            trained.content_layers, trained.style_layers, 1e-2, "content")

    # four times the steps: four times Gatys' time and the speed-up; the per-step figures do not change
    longer = benchmarking.johnson_vs_gatys(model, style_picture, sizes=(32,), gatys_steps=800, timed_steps=2,
                                           repeat=1, settings=settings)
    assert (longer[0].gatys_s_per_step, longer[0].gatys_s, longer[0].speedup) == pytest.approx((0.25, 200.0, 50_000.0))
