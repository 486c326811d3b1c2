"""Small measurements for the notebooks: seconds per optimisation step and memory per image size.

Lesson: ``notebooks/04_optimization_and_acceleration.ipynb``. The benchmarks in ``bench/`` are
the careful versions; these helpers are quick enough to run inside a notebook.

Timings come from ``Result.history`` (the optimiser's own clock), skipping the first
evaluation, which includes tracing (and, with ``jit_compile=True``, XLA compilation).
Memory is the device's peak allocation on a GPU (``tf.config.experimental.get_memory_info``)
and, on a CPU, the peak resident set size above what it was before the run (TensorFlow allocates
outside Python, so ``tracemalloc`` would not see it). ``peak_memory`` samples this process with a
background thread; ``memory_by_size`` runs each size in a fresh process instead, because
TensorFlow keeps and reuses what it allocated for an earlier run, which hides the growth.
"""

from __future__ import annotations

import gc
import os
import re
import resource
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Callable

from ..device import gpu_available, processor_name  # noqa: F401 (processor_name: re-exported for bench/)
from ..settings import Settings


def seconds_per_step(history: list[dict], skip: int = 1) -> float:
    """Mean seconds per loss evaluation in a ``Result.history``, ignoring the first ``skip``.

    The first evaluation pays for tracing/compiling the step, which a long run amortises.
    """
    if len(history) <= skip:
        raise ValueError(f"need more than {skip} steps to time, got {len(history)}")
    first, last = history[skip - 1] if skip else {"seconds": 0.0, "step": 0}, history[-1]
    return (last["seconds"] - first["seconds"]) / (last["step"] - first["step"])


@dataclass
class Timing:
    """One row of :func:`time_variants`."""

    variant: str
    seconds_per_step: float
    first_step: float  #: seconds of the first evaluation (tracing, XLA compilation)
    speedup: float  #: against the first variant in the table
    final_loss: float


#: The variants of notebook 04's speed table: Settings fields to change.
SPEED_VARIANTS = {
    "float32": {"precision": "float32", "jit_compile": False},
    "mixed_bfloat16": {"precision": "mixed_bfloat16", "jit_compile": False},
    "float32 + XLA": {"precision": "float32", "jit_compile": True},
    "mixed_bfloat16 + XLA": {"precision": "mixed_bfloat16", "jit_compile": True},
}


def time_variants(content, styles, variants: dict | None = None, *, steps: int = 10, **settings) -> list[Timing]:
    """Run the same style transfer once per variant and time its steps.

    ``variants`` maps a label to Settings overrides (default :data:`SPEED_VARIANTS`); the other
    keyword arguments are Settings fields shared by all runs (``size=256``...). Adam is used by
    default so every variant does exactly one evaluation per step.
    """
    from ..gatys.run import stylize

    variants = SPEED_VARIANTS if variants is None else variants
    settings = {"optimizer": "adam", **settings, "steps": steps}
    settings.setdefault("sizes", (settings.get("size", Settings().size),))  # one size: every step costs the same
    rows: list[Timing] = []
    for label, changes in variants.items():
        result = stylize(content, styles, **{**settings, **changes})
        per_step = seconds_per_step(result.history)
        base = rows[0].seconds_per_step if rows else per_step
        rows.append(Timing(label, per_step, result.history[0]["seconds"], base / per_step, result.losses["total"]))
    return rows


def median_ms(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median milliseconds of ``repeat`` calls of ``fn`` after one untimed warm-up call."""
    import statistics

    fn()  # warm-up: tracing, oneDNN primitive creation, memory arenas
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def network_ms(model, height: int, width: int | None = None, *, repeat: int = 5) -> float:
    """Milliseconds for one pass of a transformation network over one ``height`` x ``width`` picture."""
    import tensorflow as tf

    fn = tf.function(lambda x: model(x, training=False))
    x = tf.random.uniform((1, height, width or height, 3), 0, 255, seed=0)
    return median_ms(lambda: fn(x).numpy(), repeat)


@dataclass
class SpeedRow:
    """One row of :func:`johnson_vs_gatys` (like Table 1 of Johnson et al.)."""

    size: int
    network_ms: float  #: one pass of the feed-forward network
    gatys_s_per_step: float  #: one loss evaluation of Gatys' method (VGG19 forward + backward)
    gatys_steps: int
    gatys_s: float  #: ``gatys_steps`` evaluations: ``gatys_s_per_step * gatys_steps``
    speedup: float  #: ``gatys_s / network_ms``, both in seconds


def johnson_vs_gatys(model, style, sizes=(256, 512, 1024), *, gatys_steps: int = 200, timed_steps: int = 4,
                     repeat: int = 5, settings=None) -> list[SpeedRow]:
    """Seconds per picture of the network and of a ``gatys_steps``-step Gatys run, per size.

    Square pictures of each side in ``sizes``. The Gatys time is ``timed_steps`` evaluations
    timed (after the first, which traces) and multiplied by ``gatys_steps``: L-BFGS spends one
    evaluation per step and little else, so the product is the run's time within a few percent
    (``bench/feedforward.py`` times whole runs). ``settings`` are the network's
    :class:`~styletransfer_utils.feedforward.TrainSettings`, so both optimise the same loss.
    """
    import numpy as np

    from ..gatys.run import stylize
    from ..settings import gatys_settings

    rows = []
    for size in sizes:
        picture = np.random.default_rng(size).uniform(0, 255, (size, size, 3)).astype(np.float32)
        ms = network_ms(model, size, repeat=repeat)
        result = stylize(picture, [style], gatys_settings(settings, size=size, sizes=(size,), steps=timed_steps + 1))
        per_step = seconds_per_step(result.history)
        total = per_step * gatys_steps
        rows.append(SpeedRow(size, ms, per_step, gatys_steps, total, total / (ms / 1000)))
    return rows


def current_rss_bytes() -> int:
    """Resident set size of this process now (Linux ``/proc``; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if os.uname().sysname == "Darwin" else peak * 1024


class PeakRSS:
    """Context manager sampling the resident set size every ``interval`` seconds.

    ``extra`` is the peak above the value on entry, in bytes.
    """

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, current_rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> "PeakRSS":
        self.start = self.peak = current_rss_bytes()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, current_rss_bytes())

    @property
    def extra(self) -> int:
        return max(0, self.peak - self.start)


def peak_memory(fn: Callable[[], object], *, device: str | None = None) -> tuple[object, int, str]:
    """Call ``fn()`` and return ``(its result, peak bytes, what was measured)``.

    On a GPU (``device="GPU:0"``, the default when one is present) this is TensorFlow's peak
    allocation on that device during the call; otherwise the peak growth of the process' RSS.
    """
    import tensorflow as tf

    if device is None and gpu_available():
        device = "GPU:0"
    if device and device.upper().startswith("GPU"):
        tf.config.experimental.reset_memory_stats(device)
        value = fn()
        return value, int(tf.config.experimental.get_memory_info(device)["peak"]), f"{device} peak allocation"
    with PeakRSS() as probe:
        value = fn()
    return value, probe.extra, "CPU peak RSS growth"


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (``VmHWM``) of this process to its current RSS.

    Linux only (``/proc/self/clear_refs``); returns False where that is not possible.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """The kernel's peak-RSS mark (``VmHWM``) of this process, in bytes (Linux ``/proc``)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        match = re.search(r"^VmHWM:\s+(\d+) kB", fh.read(), re.MULTILINE)
    if match is None:
        raise OSError("no VmHWM line in /proc/self/status")
    return int(match.group(1)) * 1024


WARM_UP_SIZE = 32  # px: loads VGG19 and the pictures before the measured run


def release_free_memory() -> None:
    """Collect garbage and hand the C heap's free pages back to the system (glibc's ``malloc_trim``).

    Without it, memory freed by an earlier run stays resident and a later run reuses it unseen.
    """
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _one_size_in_this_process(content, styles, size: int, steps: int, settings: dict) -> dict:
    """Warm up at a tiny size, then measure one run's peak RSS growth; run in a fresh process."""
    from ..gatys.run import stylize  # imports TensorFlow quietly

    stylize(content, styles, **{**settings, "size": WARM_UP_SIZE, "sizes": (WARM_UP_SIZE,), "steps": 1})
    release_free_memory()
    measured = {**settings, "size": size, "sizes": (size,), "steps": steps}
    if reset_peak_rss():
        start = current_rss_bytes()
        result = stylize(content, styles, **measured)
        extra = max(0, peak_rss_bytes() - start)
        how = ""
    else:
        with PeakRSS() as probe:
            result = stylize(content, styles, **measured)
        extra, how = probe.extra, ", sampled"
    return {"shape": result.image.shape[:2], "history": result.history, "seconds": result.seconds,
            "peak": extra, "measured": f"CPU peak RSS growth (fresh process{how})"}


def memory_by_size(content, styles, sizes, *, steps: int = 3, fresh_process: bool | None = None,
                   **settings) -> list[dict]:
    """Peak memory of a short run at each image size, smallest first.

    Returns rows with the size, pixels, megabytes, seconds per step and what was measured. On a
    GPU it is TensorFlow's peak allocation, measured in this process. On a CPU
    (``fresh_process=None`` means: when there is no GPU) each size runs in a new Python process
    that first warms up at 32 px, so the figure is what the size itself adds (activations,
    gradients, the optimiser's state), free of memory TensorFlow kept from earlier runs. A fresh
    process costs a few seconds of start-up (importing TensorFlow).
    """
    if fresh_process is None:
        fresh_process = not gpu_available()
    rows = []
    for size in sorted(sizes):
        if fresh_process:
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                run = pool.submit(_one_size_in_this_process, content, styles, size, steps, settings).result()
            shape, history, seconds, peak, what = (run[k] for k in ("shape", "history", "seconds", "peak", "measured"))
        else:
            from ..gatys.run import stylize

            result, peak, what = peak_memory(lambda s=size: stylize(content, styles, **{**settings, "size": s, "sizes": (s,),
                                                                                        "steps": steps}))
            shape, history, seconds = result.image.shape[:2], result.history, result.seconds
        rows.append({"size": size, "pixels": shape[0] * shape[1], "MB": peak / 2**20,
                     "s/step": seconds_per_step(history) if steps > 1 else seconds,
                     "measured": what})
    return rows


__all__ = [
    "PeakRSS",
    "SPEED_VARIANTS",
    "SpeedRow",
    "Timing",
    "current_rss_bytes",
    "gpu_available",
    "johnson_vs_gatys",
    "median_ms",
    "memory_by_size",
    "network_ms",
    "peak_memory",
    "peak_rss_bytes",
    "reset_peak_rss",
    "seconds_per_step",
    "time_variants",
]
