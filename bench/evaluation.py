"""What one Gatys loss evaluation costs beyond VGG19 itself, measured in one process.

For each size it times (median of 6 after a traced warm-up call):

* VGG19 forward + backward alone: the extractor's layers and the gradient of their sum with
  respect to the picture, nothing else;
* ``StyleTransfer.value_and_grad``: the same pass plus Gram matrices, the losses and the casts;
* one L-BFGS evaluation inside a real run (``Result.history``), which adds SciPy's bookkeeping.

The target is at most 1.3x VGG19's pass for a whole evaluation at 512 px.

    python bench/evaluation.py                    # 256 and 512 px, precision auto
    python bench/evaluation.py --sizes 512 --precision float32,mixed_bfloat16
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gatys import find_picture  # noqa: E402

from styletransfer_utils.measure.benchmarking import seconds_per_step  # noqa: E402
from styletransfer_utils.device import processor_name, resolve_precision  # noqa: E402
from styletransfer_utils.gatys import StyleTransfer  # noqa: E402
from styletransfer_utils.settings import Settings  # noqa: E402


def median_seconds(fn, repeat: int = 6) -> float:
    fn()  # traced, primitives created
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    import tensorflow as tf

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--precision", default="auto", help="comma-separated precisions")
    args = parser.parse_args()
    content, style = find_picture("tubingen.jpg"), find_picture("starry_night.jpg")
    print(f"machine: {processor_name()}, {os.cpu_count()} cores; auto precision here: {resolve_precision('auto')}")
    print(f"{'size':>5} {'precision':15} {'VGG19 f+b':>10} {'value_and_grad':>15} {'L-BFGS evaluation':>18}")
    for precision in args.precision.split(","):
        for size in map(int, args.sizes.split(",")):
            transfer = StyleTransfer(content, [style], Settings(size=size, precision=precision, steps=14))
            x = tf.constant(transfer.initial_input())
            extractor = transfer.extractor

            @tf.function(autograph=False)
            def vgg_alone(x):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    total = tf.add_n([tf.reduce_sum(f) for f in extractor(x).values()])
                return tape.gradient(total, x)

            vgg = median_seconds(lambda: vgg_alone(x).numpy())
            full = median_seconds(lambda: transfer.value_and_grad(x)[1].numpy())
            in_run = seconds_per_step(transfer.run().history, skip=2)
            print(f"{size:5d} {transfer.precision:15} {vgg:9.3f}s {full:9.3f}s ({full / vgg:.2f}x) "
                  f"{in_run:9.3f}s ({in_run / vgg:.2f}x)", flush=True)


if __name__ == "__main__":
    main()
