"""The training photos: any folder of JPEG/PNG files, as a ``tf.data`` pipeline of random crops.

Johnson et al. trained on MS-COCO; any folder of photos works. Unreadable files are skipped and
counted, never fatal.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from ..errors import DataError, ImageError
from ..core.images import load_image

#: Training pictures: files with these extensions (any case), found recursively.
PICTURE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def find_pictures(folder, extensions: Sequence[str] = PICTURE_EXTENSIONS) -> list[Path]:
    """Every file under ``folder`` (recursively) with one of ``extensions`` (JPEG/PNG by
    default, as training takes), sorted; a clear error if none."""
    folder = Path(folder)
    if not folder.exists():
        raise DataError(f"folder {folder} does not exist", "give a folder of photos, e.g. MS-COCO train2014")
    if not folder.is_dir():
        raise DataError(f"{folder} is a file, not a folder", "give a folder of photos (searched recursively)")
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in extensions and p.is_file())
    if not found:
        kinds = "JPEG or PNG pictures" if tuple(extensions) == PICTURE_EXTENSIONS else f"pictures ({', '.join(extensions)})"
        raise DataError(f"no {kinds} in {folder}", "give a folder of photos (searched recursively)")
    return found


def scale_for_crops(picture: np.ndarray, size: int) -> np.ndarray:
    """The picture as uint8, scaled (bilinear) so its short side is ``size`` pixels."""
    h, w = picture.shape[:2]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    return np.asarray(Image.fromarray(picture.astype(np.uint8)).resize((nw, nh), Image.Resampling.BILINEAR))


def random_crop(picture: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Scale so the short side is ``size``, then a random ``size`` x ``size`` crop, flipped half the time."""
    arr = scale_for_crops(picture, size)
    nh, nw = arr.shape[:2]
    top, left = rng.integers(0, nh - size + 1), rng.integers(0, nw - size + 1)
    crop = arr[top: top + size, left: left + size]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


class PictureFolder:
    """The training pictures of a folder, as a ``tf.data`` pipeline of random crops.

    Unreadable files (not pictures, empty, truncated, too small) are skipped, never fatal:
    :attr:`skipped` maps each one to the reason. Greyscale and other modes become RGB.
    """

    def __init__(self, folder, crop_size: int, batch_size: int, *, seed: int | None = None):
        self.folder = Path(folder)
        self.paths = find_pictures(self.folder)
        self.crop_size = crop_size
        self.batch_size = batch_size
        self.seed = seed
        self.skipped: dict[str, str] = {}
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(seed)

    def load(self, path, index: int | None = None) -> np.ndarray | None:
        """A random crop of one picture as uint8, or ``None`` (and the file recorded) if unreadable.

        With a seed, the crop of the stream's ``index``-th picture depends on (seed, index) only,
        so a resumed stream (:meth:`dataset` with ``start``) crops as the uninterrupted one would.
        """
        key = str(path)
        try:
            picture = load_image(path, max_size=4 * self.crop_size, min_side=16)
        except ImageError as exc:
            with self._lock:
                self.skipped[key] = exc.problem
            return None
        if self.seed is not None and index is not None:
            rng = np.random.default_rng([self.seed, index])
        else:
            with self._lock:
                rng = np.random.default_rng(self._rng.integers(2**63))
        return random_crop(picture, self.crop_size, rng)

    def dataset(self, start: int = 0):
        """Infinite, shuffled batches ``(batch_size, crop, crop, 3)`` of float32 RGB in [0, 255].

        ``start`` skips that many pictures of the stream first (cheaply: only file names), so a
        run resumed at step ``k`` goes on with the pictures that step ``k + 1`` would have had,
        rather than seeing the first ones again. With a seed the stream is reproducible (one
        order per pass, a new one each pass), and the resumed stream equals the uninterrupted
        one as long as no file was unreadable (each unreadable file shifts it by one picture).

        The pictures are read by Python code inside the pipeline: drop an iterator over it
        (``del it``) before the program ends, or the interpreter's exit can hang while the
        pipeline is still filling its buffers (:class:`Trainer` does this for its own).
        """
        import tensorflow as tf

        size = self.crop_size
        empty = np.zeros((size, size, 3), np.uint8)

        def load(index, path):
            crop = self.load(path.numpy().decode(), int(index.numpy()))
            if crop is None:
                if len(self.skipped) >= len(self.paths):
                    raise DataError(f"none of the {len(self.paths)} pictures in {self.folder} can be read",
                                    "give a folder of readable JPEG or PNG photos")
                return empty, False
            return np.ascontiguousarray(crop), True

        def tf_load(index, path):
            crop, ok = tf.py_function(load, [index, path], (tf.uint8, tf.bool))
            crop.set_shape((size, size, 3))
            ok.set_shape(())
            return crop, ok

        paths = tf.data.Dataset.from_tensor_slices([str(p) for p in self.paths])
        ds = paths.shuffle(len(self.paths), seed=self.seed, reshuffle_each_iteration=True).repeat()
        ds = ds.enumerate().skip(start)  # (position in the stream, path)
        ds = ds.map(tf_load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=self.seed is not None)
        ds = ds.filter(_readable).map(_as_float)
        return ds.batch(self.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def _readable(crop, ok):
    return ok


def _as_float(crop, ok):
    import tensorflow as tf

    return tf.cast(crop, tf.float32)
