"""Timing and memory helpers of notebook 04."""

import time

import numpy as np
import pytest

from styletransfer_utils import benchmarking


def test_seconds_per_step_skips_the_first_step():
    history = [{"step": 1, "seconds": 5.0}, {"step": 2, "seconds": 5.5}, {"step": 3, "seconds": 6.0}]
    assert benchmarking.seconds_per_step(history) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        benchmarking.seconds_per_step(history[:1])


def test_peak_rss_sees_a_large_allocation():
    with benchmarking.PeakRSS() as probe:
        block = np.ones(64 * 2**20 // 8)  # 64 MB, touched
        time.sleep(0.05)
        del block
    assert probe.extra > 32 * 2**20


@pytest.mark.skipif(not benchmarking.reset_peak_rss(), reason="needs Linux /proc/self/clear_refs")
def test_the_kernel_peak_mark_resets_and_sees_a_large_allocation():
    block = np.ones(64 * 2**20 // 8)  # 64 MB, touched, then freed
    del block
    assert benchmarking.reset_peak_rss()
    before = benchmarking.peak_rss_bytes()
    assert before <= benchmarking.current_rss_bytes() + 2**20
    block = np.ones(64 * 2**20 // 8)
    del block
    assert benchmarking.peak_rss_bytes() - before > 32 * 2**20


def test_peak_memory_on_cpu_returns_the_value():
    value, peak, what = benchmarking.peak_memory(lambda: np.ones(2**20).sum(), device="CPU")
    assert value == 2**20 and peak >= 0 and "CPU" in what


@pytest.mark.weights
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


def test_johnson_vs_gatys_table(vgg_weights, style_picture):
    from styletransfer_utils import feedforward as ff
    from styletransfer_utils.benchmarking import johnson_vs_gatys

    settings = ff.TrainSettings(content_layers=("relu1_2",), style_layers=("relu1_2",), precision="float32")
    model = ff.build_transformer(half_width=True, seed=0)
    rows = johnson_vs_gatys(model, style_picture, sizes=(32, 48), gatys_steps=200, timed_steps=2, repeat=1,
                            settings=settings)
    assert [r.size for r in rows] == [32, 48]
    for r in rows:
        assert r.network_ms > 0 and r.gatys_s_per_step > 0 and r.gatys_steps == 200
        assert r.gatys_s == pytest.approx(200 * r.gatys_s_per_step)
        assert r.speedup == pytest.approx(r.gatys_s / (r.network_ms / 1000))
