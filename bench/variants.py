"""Known improvements to Gatys' optimisation, measured before any is adopted (the quality measure).

Each variant runs the package's default (coarse-to-fine) recipe on Tübingen with a painting at
512 px, in this process, with one change, and is scored by :mod:`styletransfer_utils.measure.quality`:

* ``default``: the package's defaults (L-BFGS, relative Gram losses);
* ``w2``: the Wasserstein-2 style loss (``Settings(style_loss="w2")``, :func:`~styletransfer_utils.core.losses.
  wasserstein_style_loss`) at a few style weights (``--w2-weights``);
* ``adam``: Adam at the package's learning rate, and ``adam-avg``: the same with an exponential
  average of its iterates (``Settings.average``, decay ``AVERAGE_DECAY``) as each size's picture (it
  gets the size's last evaluation, and the next size starts from it);
* ``gradnorm``: per-layer gradient normalisation as in jcjohnson/neural-style's
  ``-normalize_gradients``: at each loss layer the gradient of that layer's term is divided by
  its L1 norm and multiplied by the term's weight, before it flows back through VGG19 (with
  L-BFGS, and with Adam as ``gradnorm-adam``).

Apart from ``w2`` (a setting since the style losses became one: ``--style-loss w2``) and ``adam-avg``
(``--average``), none of these is a setting of the package: the others are subclasses of ``StyleTransfer`` here, handed to
``stylize(transfer=...)``, so nothing is adopted without a measurement.

    python bench/variants.py                                  # every variant, The Starry Night
    python bench/variants.py --variants default,w2 --paintings starry_night,the_scream
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality import painting_file  # noqa: E402
from gatys import find_picture  # noqa: E402

from styletransfer_utils.gatys import StyleTransfer, stylize  # noqa: E402
from styletransfer_utils.measure.benchmarking import peak_rss_bytes  # noqa: E402
from styletransfer_utils.device import processor_name, resolve_precision  # noqa: E402
from styletransfer_utils.core.images import load_image, save_image, show_grid  # noqa: E402
from styletransfer_utils.measure.quality import score  # noqa: E402
from styletransfer_utils.settings import Settings  # noqa: E402

OUT = ROOT / "bench" / "out" / "variants"
AVERAGE_DECAY = 0.9


class NormalisedGradients(StyleTransfer):
    """Each loss layer's gradient divided by its L1 norm, times the term's weight."""

    def _compile(self):
        import tensorflow as tf

        objective, extractor = self.objective, self.extractor
        content_targets, style_targets = self.content_targets, self.style_targets
        s = self.settings
        strength = {name: s.content_weight * w for name, w in s.content_weights().items()}
        strength.update({name: s.style_weight * w for name, w in s.layer_weights().items()})

        def normalised(x, weight):
            @tf.custom_gradient
            def identity(t):
                return tf.identity(t), lambda dy: weight * dy / (tf.reduce_sum(tf.abs(dy)) + 1e-8)
            return identity(x)

        def value_and_grad(x, scale):
            with tf.GradientTape() as tape:
                tape.watch(x)
                feats = extractor(x)
                feats = {name: normalised(f, strength[name]) if name in strength else f for name, f in feats.items()}
                terms = objective.terms(feats, content_targets, style_targets, x)
                total = terms["total"] * scale
            return objective.stack(terms), tape.gradient(total, x) / scale

        return tf.function(value_and_grad, autograph=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paintings", default="starry_night")
    parser.add_argument("--variants", default="default,w2,adam,adam-avg,gradnorm,gradnorm-adam")
    parser.add_argument("--w2-weights", default="15,60", help="style weights for the w2 variant")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=None, help="evaluations (default: the package's)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = Settings(size=args.size, seed=0, **({"steps": args.steps} if args.steps else {}))
    variants = []
    for name in args.variants.split(","):
        if name == "w2":
            variants += [(f"w2 sw={w}", StyleTransfer, dict(style_loss="w2", style_weight=float(w)))
                         for w in args.w2_weights.split(",")]
        else:
            cls = {"gradnorm": NormalisedGradients, "gradnorm-adam": NormalisedGradients}.get(name, StyleTransfer)
            changes = {"adam": dict(optimizer="adam"), "adam-avg": dict(optimizer="adam", average=AVERAGE_DECAY),
                       "gradnorm-adam": dict(optimizer="adam")}.get(name, {})
            variants.append((name, cls, changes))
    content_path = find_picture("tubingen.jpg")
    content = load_image(content_path)
    print(f"machine: {processor_name()}, {os.cpu_count()} cores; precision: {resolve_precision('auto')}; "
          f"size {args.size}, {base.steps} evaluations")
    print(f"{'painting':14} {'variant':14} {'style':>7} {'content':>8} {'wall s':>7} {'peak GB':>8}")
    pictures, titles = [], []
    for painting in args.paintings.split(","):
        style_path = painting_file(painting)
        style = load_image(style_path)
        for name, cls, changes in variants:
            settings = base.replace(**changes)
            start = time.perf_counter()
            result = stylize(content, [style], settings, transfer=cls)
            wall = time.perf_counter() - start
            out = save_image(args.out / f"tubingen_{painting}_{name.replace(' ', '_')}.png", result.image)
            s = score(out, content_path, style_path)
            print(f"{painting:14} {name:14} {s.style:7.3f} {s.content:8.3f} {wall:7.1f} {peak_rss_bytes() / 2**30:8.2f}",
                  flush=True)
            pictures.append(result.image)
            titles.append(f"{painting} / {name}\nstyle {s.style:.3f} content {s.content:.3f}")
    show_grid(pictures, titles, columns=min(len(variants), 4), size=4.5).savefig(args.out / "contact_sheet.png", dpi=80)
    print(f"contact sheet: {args.out / 'contact_sheet.png'} (peak GB: the process so far)")


if __name__ == "__main__":
    main()
