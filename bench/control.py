"""What the controls of ``styletransfer_utils.gatys.control`` cost, measured in one process.

* Style masks: seconds per ``StyleTransfer.value_and_grad`` at 512 px (Tübingen) with no mask,
  one mask (The Starry Night over the sky) and two masks (The Starry Night over the sky, The
  Shipwreck over the rest): median of 6 after a traced warm-up call, in the same process.
* Colour preservation: the seconds its preparation (before the run) and its finish (after the
  run) take at that size; the run itself costs the same as a plain one.

    python bench/control.py                 # 512 px, precision auto
    python bench/control.py --size 256 --precision float32
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from evaluation import median_seconds  # noqa: E402
from gatys import find_picture  # noqa: E402

from styletransfer_utils.gatys.control import keep_colors, prepare_colors  # noqa: E402
from styletransfer_utils.device import processor_name, resolve_precision  # noqa: E402
from styletransfer_utils.core.images import load_image, resize_to_long_side  # noqa: E402
from styletransfer_utils.gatys import StyleTransfer  # noqa: E402
from styletransfer_utils.settings import Settings  # noqa: E402


def sky_mask(picture: np.ndarray) -> np.ndarray:
    """The bright blue part of the photo connected to its top edge (as notebook 07 draws it)."""
    r, g, b = np.moveaxis(picture, -1, 0)
    return np.cumprod((b > r + 30) & (b > 140), axis=0).astype(np.float32)


def main() -> None:
    import tensorflow as tf

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()
    content = resize_to_long_side(load_image(find_picture("tubingen.jpg")), args.size)
    starry, shipwreck = load_image(find_picture("starry_night.jpg")), load_image(find_picture("shipwreck.jpg"))
    sky = sky_mask(content)
    print(f"machine: {processor_name()}, {os.cpu_count()} cores; precision {resolve_precision(args.precision)}; "
          f"{content.shape[1]}x{content.shape[0]} px; sky {sky.mean():.0%} of the picture")
    settings = Settings(size=args.size, sizes=(args.size,), precision=args.precision)
    cases = {"no mask (1 style)": ([starry], None), "1 mask (1 style)": ([starry], (sky,)),
             "2 masks (2 styles)": ([starry, shipwreck], (sky, 1 - sky)),
             "no mask (2 styles blended)": ([starry, shipwreck], None)}
    base = None
    print(f"{'case':28} {'s / evaluation':>15} {'vs no mask':>11}")
    for name, (styles, masks) in cases.items():
        transfer = StyleTransfer(content, styles, settings.replace(style_masks=masks))
        x = tf.constant(transfer.initial_input())
        seconds = median_seconds(lambda: [t.numpy() for t in transfer.value_and_grad(x)])
        base = base or seconds
        print(f"{name:28} {seconds:15.3f} {seconds / base:10.2f}x")
    for mode in ("luminance", "match"):
        start = time.perf_counter()
        _, _, finish = prepare_colors(content, [starry], mode)
        prepared = time.perf_counter() - start
        start = time.perf_counter()
        finish(content)
        finished = time.perf_counter() - start
        print(f"preserve_colors={mode}: preparation {prepared:.3f} s, finish {finished:.3f} s (once per run)")
    assert keep_colors(content, content).shape == content.shape


if __name__ == "__main__":
    main()
