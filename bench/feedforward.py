"""Benchmark: Johnson et al.'s feed-forward network, inference and training speed.

Prints two tables:

1. milliseconds per picture for one forward pass of the transformation network at 256, 512 and
   1024 px (square), in float32 and mixed_bfloat16, for the full- and half-width network
   (randomly initialised unless ``--model`` names a trained one: speed does not depend on the
   weights). One untimed warm-up call per shape; then the median of ``--repeat`` calls.
2. training speed in images per second (transformer forward+backward, VGG19 forward+backward,
   losses, Adam) on random crops of ``--data`` (the shared photos by default), for float32 and
   the default precision, after an untimed warm-up step.

Nothing here asserts on time; it prints a table. Keep runs short on shared machines:
``python bench/feedforward.py --quick`` (256/512 px, 2 repeats, 3 training steps at 128 px).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from styletransfer_utils import feedforward as ff  # noqa: E402
from styletransfer_utils.features import resolve_precision  # noqa: E402

tf.get_logger().setLevel("ERROR")  # one tf.function per (network, size): the retracing notes are expected

ROOT = Path(__file__).resolve().parents[1]


def inference_ms(model, size: int, repeat: int) -> float:
    fn = tf.function(lambda x: model(x, training=False))
    x = tf.random.uniform((1, size, size, 3), 0, 255, seed=0)
    fn(x).numpy()  # warm-up: tracing and oneDNN primitive creation
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(x).numpy()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def training_rate(style, data, precision: str, half: bool, crop: int, batch: int, steps: int) -> float:
    settings = ff.TrainSettings(steps=steps + 1, batch_size=batch, crop_size=crop, precision=precision,
                                half_width=half, checkpoint_every=0, preview_every=0, seed=0)
    trainer = ff.Trainer(style, data, settings)
    trainer.train_step()  # warm-up: tracing
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="256,512,1024", help="comma-separated picture sides")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model", help="a trained model file (default: random weights)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets"), help="training photos")
    parser.add_argument("--style", default="starry_night", help="style picture (file or example name)")
    parser.add_argument("--train-crop", type=int, default=256)
    parser.add_argument("--train-batch", type=int, default=4)
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--no-train", action="store_true", help="skip the training table")
    parser.add_argument("--quick", action="store_true", help="256/512 px, 2 repeats, 3 steps at 128 px")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat, args.train_crop, args.train_steps = "256,512", 2, 128, 3
    sizes = [int(s) for s in args.sizes.split(",")]
    fast = resolve_precision("auto")
    precisions = ["float32"] + ([fast] if fast != "float32" else [])
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"TensorFlow {tf.__version__}, GPU: {bool(tf.config.list_physical_devices('GPU'))}")

    print("\n1. inference, ms per picture (batch 1, median of", args.repeat, "after a warm-up)")
    print(f"{'network':12s} {'precision':15s} " + " ".join(f"{s:>8d}px" for s in sizes))
    variants = [("trained", None)] if args.model else [("full", False), ("half", True)]
    for label, half in variants:
        for precision in precisions:
            if args.model:
                model = ff.load_model(args.model, precision=precision)
            else:
                model = ff.build_transformer(half_width=half, precision=precision, seed=0)
            row = [inference_ms(model, s, args.repeat) for s in sizes]
            print(f"{label:12s} {precision:15s} " + " ".join(f"{ms:10.1f}" for ms in row), flush=True)

    if args.no_train:
        return
    from styletransfer_utils.cli import resolve_picture

    style = resolve_picture(args.style)
    print(f"\n2. training, images per second ({args.train_crop} px crops, batch {args.train_batch}, "
          f"{args.train_steps} timed steps after a warm-up)")
    for half in (False, True):
        for precision in precisions:
            rate = training_rate(style, args.data, precision, half, args.train_crop, args.train_batch, args.train_steps)
            print(f"{'half' if half else 'full':12s} {precision:15s} {rate:8.2f} img/s", flush=True)


if __name__ == "__main__":
    main()
