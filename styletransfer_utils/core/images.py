"""Pictures in and out: loading any common file as RGB, VGG19 pre/de-processing, saving, grids.

Lesson: ``notebooks/01_preprocessing.ipynb``.

Arrays follow one convention throughout the package:

* a *picture* is ``float32`` RGB with values in ``[0, 255]``, shape ``(H, W, 3)``;
* a *VGG19 input* is ``float32`` BGR with the ImageNet mean subtracted, shape ``(1, H, W, 3)``,
  exactly what ``keras.applications.vgg19.preprocess_input`` returns ("caffe" mode).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ImageError, SettingsError
from ..files import atomic_path
from ..limits import MIN_PICTURE_SIDE

#: ImageNet channel means in BGR order, as used by the original Caffe VGG models.
IMAGENET_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)

#: Refuse pictures with more pixels than this before decoding them (decompression bombs).
MAX_PIXELS = 100_000_000

SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF",
                ".tiff": "TIFF", ".webp": "WEBP"}


def check_picture_array(image) -> np.ndarray:
    """An RGB picture given as an array (or a PIL image), checked: float32 ``(H, W, 3)`` in ``[0, 255]``.

    Catches the usual slips with one-line errors: a list of pictures where one is expected,
    greyscale or RGBA arrays, empty or non-finite arrays, and values in 0-1 (which would
    otherwise give a black picture without a word).
    """
    if isinstance(image, (list, tuple)) and image and not np.isscalar(image[0]) and np.ndim(image[0]) != 2:
        raise SettingsError(f"got {len(image)} pictures where one is expected", "pass one picture, not a list")
    try:
        arr = np.asarray(image, dtype=np.float32)
    except (TypeError, ValueError):
        raise SettingsError(f"cannot read a picture from a {type(image).__name__}",
                            "pass a file path or an (H, W, 3) RGB array in [0, 255]") from None
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise SettingsError(f"picture array has shape {arr.shape}", "pass an (H, W, 3) RGB array in [0, 255]")
    if arr.size == 0:
        raise SettingsError(f"picture array is empty (shape {arr.shape})", "pass an (H, W, 3) RGB array in [0, 255]")
    if not np.isfinite(arr).all():
        raise SettingsError("picture array holds NaN or infinite values", "pass finite RGB values in [0, 255]")
    low, high = float(arr.min()), float(arr.max())
    if low < -1 or high > 256:  # a resampling filter may overshoot by a little: that is clipped
        raise SettingsError(f"picture values run from {low:g} to {high:g}", "pass RGB values in [0, 255]")
    if 0 < high <= 1.0:
        raise SettingsError(f"picture values run from {low:g} to {high:g}, as if scaled to 0-1",
                            "multiply by 255: pictures are RGB in [0, 255]")
    return np.clip(arr, 0.0, 255.0) if low < 0 or high > 255 else arr


def as_picture(image, max_size: int | None = None) -> np.ndarray:
    """A path or an array -> RGB float32 array (long side capped at ``max_size`` for paths).

    The one door through which the public entry points (``stylize``, ``Trainer``, the widgets)
    take a picture: files are read by :func:`load_image`, arrays checked by
    :func:`check_picture_array`.
    """
    if isinstance(image, (str, Path)):
        return load_image(image, max_size)
    return check_picture_array(image)


def one_or_many(pictures) -> list:
    """Pictures as a list: one picture (path, array, PIL image) becomes a list of one."""
    if pictures is None:
        raise SettingsError("styles is None", "pass a style picture, or a list of them")
    if isinstance(pictures, (str, Path, np.ndarray)) or hasattr(pictures, "getpixel"):  # PIL images have getpixel
        return [pictures]
    return list(pictures)


def load_image(path, max_size: int | None = None, *, min_side: int = MIN_PICTURE_SIDE) -> np.ndarray:
    """Read a picture file as a float32 RGB array in ``[0, 255]`` of shape ``(H, W, 3)``.

    Handles JPEG/PNG/BMP/TIFF/WebP; greyscale, palette, RGBA (composited on white), 16-bit and
    CMYK pictures; and phone photos whose EXIF orientation says they are rotated. If
    ``max_size`` is given, the long side is scaled down to it (never up), keeping the aspect
    ratio. Raises :class:`ImageError` with a one-line fix for anything unreadable.
    """
    path = Path(path).expanduser()
    if max_size is not None and max_size < min_side:
        raise ImageError(f"max_size is {max_size}", f"use at least {min_side} pixels, or None to keep the size")
    if not path.exists():
        raise ImageError(f"{path}: no such file", "check the path and spelling")
    if path.is_dir():
        raise ImageError(f"{path} is a folder, not a picture", "give the path of a picture file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path} is empty (0 bytes)", "use a real picture file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit applies
            with Image.open(path) as im:
                width, height = im.size
                if width * height > MAX_PIXELS:
                    raise ImageError(
                        f"{path} is {width}x{height} pixels, more than the {MAX_PIXELS:,} we decode",
                        "shrink the picture first",
                    )
                im.draft("RGB", _draft_size(im.size, max_size))  # fast JPEG downscale on decode
                im.load()
                im = ImageOps.exif_transpose(im)
                rgb = to_rgb(im)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{path} is not a picture PIL can read", "use a JPEG, PNG, BMP, TIFF or WebP file") from None
    except Image.DecompressionBombError:
        raise ImageError(f"{path} is larger than the {MAX_PIXELS:,} pixels we decode", "shrink the picture first") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path} is damaged or truncated ({exc})", "re-export or re-download the picture") from None
    if min(rgb.size) < min_side:
        raise ImageError(
            f"{path} is only {rgb.size[0]}x{rgb.size[1]} pixels",
            f"use a picture at least {min_side} pixels on each side",
        )
    if max_size is not None:
        rgb = resize_long_side(rgb, max_size)
    return np.asarray(rgb, dtype=np.float32)


def _draft_size(size, max_size):
    if max_size is None:
        return size
    scale = max_size / max(size)
    return (max(1, int(size[0] * scale)), max(1, int(size[1] * scale))) if scale < 1 else size


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert a PIL picture of any mode to 8-bit RGB (transparency composited on white)."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or arr.max() > 255 else 255.0
        im = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif im.mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        top = 1.0 if arr.max() <= 1.0 else 255.0
        im = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba)
    return im.convert("RGB")


def resize_long_side(im, max_size: int) -> Image.Image:
    """Scale a PIL picture down so its long side is at most ``max_size`` (never up)."""
    if isinstance(im, np.ndarray):
        im = Image.fromarray(np.clip(im, 0, 255).astype(np.uint8))
    scale = max_size / max(im.size)
    if scale >= 1:
        return im
    new = (max(1, round(im.size[0] * scale)), max(1, round(im.size[1] * scale)))
    return im.resize(new, Image.Resampling.LANCZOS)


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float RGB array to ``(height, width)`` with Lanczos filtering."""
    height, width = size
    im = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    return np.asarray(im.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32)


def long_side_shape(height: int, width: int, long_side: int) -> tuple[int, int]:
    """``(height, width)`` scaled so that the long side is ``long_side``, keeping aspect."""
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_to_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Resize a float RGB array (up or down) so its long side is ``long_side``, keeping aspect."""
    return resize(image, long_side_shape(*image.shape[:2], long_side))


def preprocess(image):
    """RGB picture in ``[0, 255]`` -> VGG19 input: BGR, ImageNet mean subtracted, batch axis.

    Identical to ``keras.applications.vgg19.preprocess_input`` ("caffe" mode). Accepts a NumPy
    array or a tensor (any Keras backend) of shape ``(H, W, 3)`` or ``(N, H, W, 3)`` and returns
    the same kind; it is differentiable when given a tensor.
    """
    if isinstance(image, np.ndarray):
        x = image.astype(np.float32)
        if x.ndim == 3:
            x = x[None]
        return x[..., ::-1] - IMAGENET_MEAN_BGR
    from keras import ops

    x = ops.cast(image, "float32")
    if len(x.shape) == 3:
        x = x[None]
    return ops.flip(x, axis=-1) - IMAGENET_MEAN_BGR


def deprocess(x, *, clip: bool = True) -> np.ndarray:
    """The inverse of :func:`preprocess`: VGG19 input -> RGB float32 array ``(H, W, 3)``.

    With ``clip`` the result is clipped to ``[0, 255]``; a batch of one loses its batch axis.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    rgb = (x + IMAGENET_MEAN_BGR)[..., ::-1]
    return np.clip(rgb, 0, 255) if clip else rgb


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Round a float picture in ``[0, 255]`` to ``uint8``."""
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def check_writable(path) -> Path:
    """Fail early, with a fix, if a picture cannot be written to ``path``."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ImageError(f"output is {path!r}", "give a file name such as out.png")
    path = Path(path).expanduser()
    if path.is_dir():
        raise ImageError(f"output {path} is a folder", "give a file name such as out.png")
    if path.suffix.lower() not in SAVE_FORMATS:
        problem = (f"cannot write {path.suffix} pictures (output {path})" if path.suffix
                   else f"cannot tell the format of output {path}")
        raise ImageError(problem, f"end the name with one of {', '.join(sorted(SAVE_FORMATS))}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ImageError(f"output folder {parent} does not exist", "create it or choose another output path")
    try:  # a real probe: permission bits alone miss read-only file systems and root
        fd, probe = tempfile.mkstemp(prefix=".tmp-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ImageError(f"cannot write to {path} ({exc.strerror or 'permission denied'})",
                         "choose a folder you can write to") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise ImageError(f"cannot write to {path} (permission denied)", "choose a folder you can write to")
    return path


def save_image(path, image: np.ndarray) -> Path:
    """Write an RGB float or uint8 array to ``path``; the format follows the extension.

    The file is written to a temporary name first and renamed, so an interrupted save never
    leaves a half-written picture behind.
    """
    path = check_writable(path)
    image = np.asarray(image)
    if image.ndim == 4 and image.shape[0] == 1:  # a batch of one
        image = image[0]
    if image.ndim == 2:  # greyscale
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] != 3 or image.size == 0:
        raise SettingsError(f"cannot save an array of shape {image.shape} as a picture",
                            "pass one (H, W, 3) RGB array (or (H, W) greyscale)")
    arr = image if image.dtype == np.uint8 else to_uint8(image)
    fmt = SAVE_FORMATS[path.suffix.lower()]
    try:
        with atomic_path(path) as tmp:
            Image.fromarray(arr, "RGB").save(tmp, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    except OSError as exc:
        raise ImageError(f"cannot write {path} ({exc.strerror or exc})", "choose another output path") from None
    return path


def show_grid(images, titles=None, *, columns: int | None = None, size: float = 3.5, suptitle=None):
    """Draw pictures side by side with matplotlib and return the figure.

    ``images`` are RGB float arrays in ``[0, 255]`` (or uint8); ``titles`` one string each.
    """
    import matplotlib.pyplot as plt

    images = list(images)
    n = len(images)
    columns = columns or n
    rows = (n + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, img) in enumerate(zip(axes.flat, images)):
        img = np.asarray(img)
        ax.imshow(img if img.dtype == np.uint8 else to_uint8(img), cmap="gray" if img.ndim == 2 else None)
        if titles is not None:
            ax.set_title(titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
