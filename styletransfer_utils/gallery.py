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

from .data import SHIPPED_CONTENT, generated_style, shipped_content
from .images import resize_to_long_side, save_image
from .settings import Settings

#: Long side of the thumbnails of the inputs.
THUMBNAIL = 192


def render_gallery(out="Images", *, size: int = 320, steps: int = 160, contents=SHIPPED_CONTENT,
                   log=print) -> list[Path]:
    """Stylise each shipped photo with the generated style; write inputs and results to ``out``.

    Returns the paths written: ``generated_style.png``, and for each photo ``NAME.png`` (the
    input, small) and ``NAME_stylized.png`` (the result, long side ``size``).
    """
    from .optimize import stylize

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m styletransfer_utils.gallery", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="Images", help="folder to write to (Images)")
    parser.add_argument("--size", type=int, default=320, help="long side of the results in pixels (320)")
    parser.add_argument("--steps", type=int, default=160, help="loss evaluations per picture (160)")
    parser.add_argument("--only", nargs="*", choices=SHIPPED_CONTENT, default=list(SHIPPED_CONTENT),
                        help="render only these photos")
    parser.add_argument("--fast-only", action="store_true", help="only the shipped feed-forward networks' renders")
    args = parser.parse_args(argv)
    written = [] if args.fast_only else render_gallery(args.out, size=args.size, steps=args.steps,
                                                       contents=tuple(args.only))
    written += render_fast_gallery(args.out, size=args.size, contents=tuple(args.only))
    for path in written:
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
