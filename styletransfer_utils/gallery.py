"""Re-render the gallery in ``Images/`` from pictures the project may ship.

    python -m styletransfer_utils.gallery            # writes Images/*.png (a few minutes on a CPU)
    python -m styletransfer_utils.gallery --size 512 --steps 200 --out Images
    python -m styletransfer_utils.gallery --fast-only # only the shipped networks' renders (seconds)

Inputs are only the public-domain photos that scikit-image installs
(:data:`~styletransfer_utils.data.SHIPPED_CONTENT`: chelsea, astronaut, coffee, rocket) and the
style picture the package paints itself (:func:`~styletransfer_utils.data.generated_style`),
never the classic paintings and photos of the example catalogue, so every file written here may
be committed. The renders of the shipped feed-forward networks (``NAME_MODEL.png``) are our own
networks applied to those same photos. ``Images/README.md`` credits each input.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from .data import SHIPPED_CONTENT, generated_style, shipped_content
from .core.images import resize_to_long_side, save_image
from .settings import Settings

#: Long side of the thumbnails of the inputs.
THUMBNAIL = 192


def render_gallery(out="Images", *, size: int = 320, steps: int = 160, contents=SHIPPED_CONTENT,
                   log=print) -> list[Path]:
    """Stylise each shipped photo with the generated style; write inputs and results to ``out``.

    Returns the paths written: ``generated_style.png``, and for each photo ``NAME.png`` (the
    input, small) and ``NAME_stylized.png`` (the result, long side ``size``).
    """
    from .gatys.run import stylize

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    style = generated_style(max(size, 256))
    written = [save_image(out / "generated_style.png", resize_to_long_side(style, min(size, 256)))]
    settings = Settings(size=size, steps=steps, seed=0)
    for name in contents:
        photo = shipped_content(name)
        written.append(save_image(out / f"{name}.png", resize_to_long_side(photo, THUMBNAIL)))
        start = time.perf_counter()
        result = stylize(photo, [style], settings)
        written.append(result.save(out / f"{name}_stylized.png"))
        log(f"{name}: {result.image.shape[1]}x{result.image.shape[0]}, {result.steps} steps, "
            f"{time.perf_counter() - start:.0f} s")
    return written


def render_fast_gallery(out="Images", *, size: int = 320, contents=SHIPPED_CONTENT, models=None,
                        log=print) -> list[Path]:
    """Stylise each shipped photo with each shipped feed-forward network: ``NAME_MODEL.png``."""
    import tensorflow as tf

    from .feedforward import load_model, shipped_models, stylize_fast

    tf.get_logger().setLevel("ERROR")  # one traced function per network: TF's retracing note is expected
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for model_name in models or list(shipped_models()):
        model = load_model(model_name)
        for name in contents:
            photo = resize_to_long_side(shipped_content(name), size)
            start = time.perf_counter()
            written.append(save_image(out / f"{name}_{model_name}.png", stylize_fast(model, photo)))
            log(f"{name} with {model_name}: {photo.shape[1]}x{photo.shape[0]}, {time.perf_counter() - start:.2f} s")
    return written


#: The pictures of the README's "Controlling the result" section: coffee with the generated style.
CONTROLS = ("coffee_luminance", "coffee_match", "coffee_masks")


def saucer_mask(shape) -> np.ndarray:
    """A mask drawn by code for ``skimage.data.coffee``: an ellipse over the cup and saucer."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    inside = ((x - 0.45 * w) / (0.37 * w)) ** 2 + ((y - 0.53 * h) / (0.49 * h)) ** 2 <= 1.0
    return inside.astype(np.float32)


def render_controls(out="Images", *, size: int = 320, steps: int = 160, log=print) -> list[Path]:
    """The controls of :mod:`.control` on the coffee photo with the generated style:
    ``coffee_luminance.png``, ``coffee_match.png``, and ``coffee_masks.png`` (the style over the
    cup and saucer only, :func:`saucer_mask`; the table has no style and stays the photo)."""
    from .gatys.run import stylize

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    photo, style = shipped_content("coffee"), generated_style(max(size, 256))
    saucer = saucer_mask(photo.shape[:2])
    runs = {"coffee_luminance": ([style], dict(preserve_colors="luminance")),
            "coffee_match": ([style], dict(preserve_colors="match")),
            "coffee_masks": ([style], dict(style_masks=(saucer,)))}
    written = []
    for name, (styles, changes) in runs.items():
        start = time.perf_counter()
        result = stylize(photo, styles, Settings(size=size, steps=steps, seed=0, **changes))
        written.append(result.save(out / f"{name}.png"))
        log(f"{name}: {result.image.shape[1]}x{result.image.shape[0]}, {result.steps} steps, "
            f"{time.perf_counter() - start:.0f} s")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m styletransfer_utils.gallery", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="Images", help="folder to write to (Images)")
    parser.add_argument("--size", type=int, default=320, help="long side of the results in pixels (320)")
    parser.add_argument("--steps", type=int, default=160, help="loss evaluations per picture (160)")
    parser.add_argument("--only", nargs="*", choices=SHIPPED_CONTENT, default=list(SHIPPED_CONTENT),
                        help="render only these photos")
    parser.add_argument("--fast-only", action="store_true", help="only the shipped feed-forward networks' renders")
    parser.add_argument("--controls-only", action="store_true", help="only the colour and mask controls' renders")
    args = parser.parse_args(argv)
    if args.controls_only:
        written = render_controls(args.out, size=args.size, steps=args.steps)
    else:
        written = [] if args.fast_only else render_gallery(args.out, size=args.size, steps=args.steps,
                                                           contents=tuple(args.only))
        written += render_fast_gallery(args.out, size=args.size, contents=tuple(args.only))
        if not args.fast_only and "coffee" in args.only:
            written += render_controls(args.out, size=args.size, steps=args.steps)
    for path in written:
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
