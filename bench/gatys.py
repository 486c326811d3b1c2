"""Benchmark: Gatys style transfer, the project's default against a plain float32 Adam baseline.

Prints, in one run, on Tübingen + The Starry Night (from ../shared/images, or the Keras cache):

1. seconds per loss evaluation (one VGG19 forward + backward pass and the losses) at each size:
   - baseline: ``keras.applications.VGG19`` in float32 with a multi-output model on the loss
     layers, the same loss functions, and Adam with the TensorFlow tutorial's settings (lr 5 px,
     beta1 0.99, eps 0.1) -- the way that tutorial builds it;
   - the project's extractor in float32 (cut after the deepest layer) and with its default
     precision (``auto``: mixed_bfloat16 on this CPU), and with XLA;
2. the time the baseline needs for 300 Adam steps, and the time the project's default (L-BFGS,
   default precision) needs to reach that same loss;
3. the ``styletransfer`` command at 512 px with default settings (wall time, peak memory), and a
   shorter run at 1024 px (time per step, peak memory), each in its own process.

Nothing here asserts on time; it prints a table. Usage: ``python bench/gatys.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from styletransfer_utils.device import import_tensorflow_quietly  # also sets TF_CPP_MIN_LOG_LEVEL

import_tensorflow_quietly()  # the C++ start-up lines would open the printed figures

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from styletransfer_utils import Settings  # noqa: E402
from styletransfer_utils.device import processor_name, resolve_precision  # noqa: E402
from styletransfer_utils.core.images import preprocess, save_image, deprocess  # noqa: E402
from styletransfer_utils.gatys import StyleTransfer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def find_picture(name: str) -> Path:
    for folder in (ROOT.parent / "shared" / "images", Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"):
        if (folder / name).is_file():
            return folder / name
    from styletransfer_utils.data import example_path

    return example_path(Path(name).stem)


class Baseline:
    """A plain float32 run of the same objective, as the TensorFlow tutorial builds it.

    ``keras.applications.VGG19`` with a multi-output model on the loss layers, float32, Adam;
    the loss is the package's ``Objective`` (the same terms, other network plumbing).
    """

    def __init__(self, transfer: StyleTransfer):
        import keras

        s = transfer.settings
        vgg = keras.applications.VGG19(weights="imagenet", include_top=False)
        vgg.trainable = False
        names = list(dict.fromkeys(s.content_layers + s.style_layers))
        self.model = keras.Model(vgg.input, {n: vgg.get_layer(n).output for n in names})
        self.transfer = transfer
        self.var = tf.Variable(transfer.initial_input("content"))
        self.opt = keras.optimizers.Adam(learning_rate=5.0, beta_1=0.99, epsilon=1e-1)
        self.low = -np.array([103.939, 116.779, 123.68], np.float32)
        self.step = tf.function(self._step)
        self.loss = tf.function(self._loss)

    def _loss(self, x):
        t = self.transfer
        return t.objective.terms(self.model(x), t.content_targets, t.style_targets, x)["total"]

    def _step(self):
        with tf.GradientTape() as tape:
            loss = self._loss(self.var)
        grad = tape.gradient(loss, self.var)
        self.opt.apply_gradients([(grad, self.var)])
        self.var.assign(tf.clip_by_value(self.var, self.low, self.low + 255.0))
        return loss


def per_eval(fns: dict, repeats: int) -> dict:
    """Mean seconds per call of each function, measured round-robin so that load from other
    processes falls on all of them alike (each is called once untimed first, to trace it)."""
    for fn in fns.values():
        fn()
    total = dict.fromkeys(fns, 0.0)
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            total[name] += time.perf_counter() - start
    return {name: t / repeats for name, t in total.items()}


def peak_rss_run(args: list[str], code_root: Path | None = None) -> tuple[float, float, int]:
    """Run the CLI in a fresh process; return (wall seconds, peak RSS in GB, exit code).

    ``code_root``: a checkout whose ``styletransfer_utils`` runs instead of the installed one.
    """
    # VmHWM (peak resident set) of the child itself; ru_maxrss would carry over the parent's peak
    # across fork+exec on Linux
    code = ("import sys; from styletransfer_utils.cli import main; rc = main(sys.argv[1:]); "
            "from styletransfer_utils.measure.benchmarking import peak_rss_bytes; "
            "print('PEAK_KB', peak_rss_bytes() // 1024, file=sys.stderr); sys.exit(rc)")
    # from inside code_root, whose package then comes first on the path (before this checkout's)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=code_root)
    wall = time.perf_counter() - start
    peak = next((int(l.split()[1]) for l in done.stderr.splitlines() if l.startswith("PEAK_KB")), 0)
    if done.returncode != 0:
        print(done.stderr[-2000:])
    return wall, peak / 1024**2, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--baseline-steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and steps, to check the script runs")
    parser.add_argument("--speed-only", action="store_true", help="only the seconds-per-evaluation table")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes, args.baseline_steps, args.repeats = [64], 20, 2
    OUT.mkdir(parents=True, exist_ok=True)
    content, style = find_picture("tubingen.jpg"), find_picture("starry_night.jpg")
    print(f"machine: {processor_name()}, {os.cpu_count()} cores; "
          f"TensorFlow {tf.__version__}; GPUs: {len(tf.config.list_physical_devices('GPU'))}; "
          f"default precision here: {resolve_precision('auto')}")
    for size in sizes:
        default = StyleTransfer(content, [style], Settings(size=size))
        f32 = StyleTransfer(content, [style], Settings(size=size, precision="float32"))
        xla = StyleTransfer(content, [style], Settings(size=size, jit_compile=True))
        base = Baseline(f32)
        x0 = tf.constant(default.initial_input())
        times = per_eval({
            "base": lambda: base.step().numpy(),
            "f32": lambda: f32.value_and_grad(x0)[1].numpy(),
            "default": lambda: default.value_and_grad(x0)[1].numpy(),
            "xla": lambda: xla.value_and_grad(x0)[1].numpy(),
        }, args.repeats)
        t_base, t_f32, t_def, t_xla = (times[k] for k in ("base", "f32", "default", "xla"))
        print(f"\n{size} px ({default.content.shape[1]}x{default.content.shape[0]}): seconds per loss evaluation")
        print(f"  baseline float32 (Keras VGG19), Adam step: {t_base:.3f}")
        print(f"  project extractor, float32              : {t_f32:.3f}  ({t_base / t_f32:.2f}x)")
        print(f"  project default ({default.precision})  : {t_def:.3f}  ({t_base / t_def:.2f}x)")
        print(f"  project default + XLA                   : {t_xla:.3f}  ({t_base / t_xla:.2f}x)")

        if args.speed_only:
            continue
        # convergence: baseline Adam for N steps (after one untimed warm-up step that traces it),
        # then the default until it reaches that loss
        base = Baseline(f32)
        base.step()
        start = time.perf_counter()
        for _ in range(args.baseline_steps):
            base.step()
        target = float(base.loss(base.var))
        t_base_run = time.perf_counter() - start
        save_image(OUT / f"baseline_adam_{size}.png", deprocess(base.var.numpy()))

        reached = {}

        def watch(p):
            if "t" not in reached and p.losses["total"] <= target:
                reached.update(t=p.elapsed, step=p.step)
                raise KeyboardInterrupt  # stop here: we only need the crossing time

        default.value_and_grad(x0)  # already traced above; keep the timing to the optimisation
        result = default.run([watch])
        save_image(OUT / f"default_reached_{size}.png", result.image)
        check = float(base.loss(tf.constant(preprocess(result.image))))
        t_reach = reached.get("t", float("nan"))
        print(f"  baseline: {args.baseline_steps} Adam steps in {t_base_run:.1f} s -> loss {target:.4g}")
        print(f"  default (L-BFGS): reached it after {reached.get('step', '-')} evaluations, {t_reach:.1f} s "
              f"({t_base_run / t_reach:.1f}x faster; float32 loss of that picture {check:.4g})")

    if not (args.quick or args.speed_only):
        steps = Settings().steps
        out512 = OUT / "cli_default_512.png"
        wall, peak, rc = peak_rss_run([str(content), str(style), "-o", str(out512), "-q"])
        print(f"\nstyletransfer at 512 px, default settings ({steps} steps): {wall:.1f} s wall, peak RSS {peak:.2f} GB, exit {rc}")
        f32wall, f32peak, rc32 = peak_rss_run([str(content), str(style), "-o", str(OUT / "cli_f32_512.png"), "-q",
                                                "--steps", "30", "--precision", "float32"])
        print(f"  same with --precision float32, 30 steps only: {f32wall:.1f} s wall, peak RSS {f32peak:.2f} GB")
        w1024, p1024, rc1024 = peak_rss_run([str(content), str(style), "-o", str(OUT / "cli_default_1024.png"),
                                             "-q", "--size", "1024", "--steps", "30"])
        print(f"styletransfer at 1024 px, 30 steps: {w1024:.1f} s wall, peak RSS {p1024:.2f} GB, exit {rc1024}")


if __name__ == "__main__":
    main()
