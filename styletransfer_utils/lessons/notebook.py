"""The set-up cell that every lesson opens with, as one call.

    from styletransfer_utils.lessons.notebook import setup
    lesson = setup()       # quiet TensorFlow; print versions and the GPU; lesson.smoke, lesson.gpus

Three modes, read by the ``parameters`` cells through :meth:`Lesson.size`:

* full (the default): the pictures at the sizes the text talks about;
* class, ``STYLETRANSFER_SIZE=192`` (any long side from 64 to 2048 px): every picture at most that
  large, the same number of steps, so that a teacher can run the whole series within a lesson;
* smoke, ``STYLETRANSFER_SMOKE=1`` (set by CI and the repository's ``conftest.py``): tiny
  pictures and few steps, so that every cell runs in seconds. It wins over class mode.
"""

from __future__ import annotations

import logging
import os
import platform
from dataclasses import dataclass, field


CLASS_SIZES = (64, 2048)  #: the long sides STYLETRANSFER_SIZE may ask for


def smoke_mode() -> bool:
    """True when ``STYLETRANSFER_SMOKE=1``: the notebooks shrink their work to seconds."""
    return os.environ.get("STYLETRANSFER_SMOKE", "0") == "1"


def class_size() -> int | None:
    """The long side asked for by ``STYLETRANSFER_SIZE`` (class mode), or None when it is unset."""
    text = os.environ.get("STYLETRANSFER_SIZE", "").strip()
    if not text:
        return None
    low, high = CLASS_SIZES
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"STYLETRANSFER_SIZE={text!r} is not a size: give a long side in pixels from {low} to "
                         f"{high}, for example STYLETRANSFER_SIZE=192, or unset it for the full-size lessons")
    return int(text)


@dataclass
class Lesson:
    """What :func:`setup` found: smoke mode, class mode's size, the GPUs, the versions it printed."""

    smoke: bool
    gpus: list = field(default_factory=list)
    versions: dict = field(default_factory=dict)
    class_size: int | None = None  #: STYLETRANSFER_SIZE, when set (class mode)

    @property
    def mode(self) -> str:
        """``"smoke"``, ``"class"`` or ``"full"``."""
        return "smoke" if self.smoke else "class" if self.class_size else "full"

    def size(self, *, smoke: int, full: int) -> int:
        """The long side, in pixels, for a picture that is ``full`` px in a full run: ``smoke`` in
        smoke mode, at most ``STYLETRANSFER_SIZE`` in class mode."""
        if self.smoke:
            return smoke
        return min(full, self.class_size) if self.class_size else full


def setup(*, show: bool = True) -> Lesson:
    """Prepare a notebook: TensorFlow imported without its C++ start-up lines, its Python log
    limited to errors (each run traces its own graph, so "retracing" notes are expected), and
    one line each for the versions and the GPU (if any)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from ..device import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras
    import tensorflow as tf

    from .. import __version__

    size = class_size()  # a bad STYLETRANSFER_SIZE stops the first cell, not a later one
    tf.get_logger().setLevel(logging.ERROR)
    gpus = [g.name for g in tf.config.list_physical_devices("GPU")]
    versions = {"Python": platform.python_version(), "TensorFlow": tf.__version__, "Keras": keras.__version__,
                "styletransfer_utils": __version__}
    if show:
        print(", ".join(f"{name} {version}" for name, version in versions.items()))
        print("GPU:", ", ".join(gpus) if gpus else "none, running on the CPU")
    lesson = Lesson(smoke_mode(), gpus, versions, size)
    if show and lesson.mode != "full":
        print("mode:", "smoke (STYLETRANSFER_SMOKE=1): tiny pictures, few steps" if lesson.smoke
              else f"class (STYLETRANSFER_SIZE={size}): pictures at most {size} px")
    return lesson


__all__ = ["CLASS_SIZES", "Lesson", "class_size", "setup", "smoke_mode"]
