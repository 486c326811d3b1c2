"""The set-up cell that every lesson opens with, as one call.

    from styletransfer_utils.notebook import setup
    lesson = setup()       # quiet TensorFlow; print versions and the GPU; lesson.smoke, lesson.gpus

``STYLETRANSFER_SMOKE=1`` (set by CI and the repository's ``conftest.py``) asks the notebooks for
small pictures and few steps; :func:`smoke_mode` reads it for the ``parameters`` cells.
"""

from __future__ import annotations

import logging
import os
import platform
from dataclasses import dataclass, field


def smoke_mode() -> bool:
    """True when ``STYLETRANSFER_SMOKE=1``: the notebooks shrink their work to seconds."""
    return os.environ.get("STYLETRANSFER_SMOKE", "0") == "1"


@dataclass
class Lesson:
    """What :func:`setup` found: smoke mode, the GPUs, the versions it printed."""

    smoke: bool
    gpus: list = field(default_factory=list)
    versions: dict = field(default_factory=dict)


def setup(*, show: bool = True) -> Lesson:
    """Prepare a notebook: TensorFlow imported without its C++ start-up lines, its Python log
    limited to errors (each run traces its own graph, so "retracing" notes are expected), and
    one line each for the versions and the GPU (if any)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from .device import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras
    import tensorflow as tf

    from . import __version__

    tf.get_logger().setLevel(logging.ERROR)
    gpus = [g.name for g in tf.config.list_physical_devices("GPU")]
    versions = {"Python": platform.python_version(), "TensorFlow": tf.__version__, "Keras": keras.__version__,
                "styletransfer_utils": __version__}
    if show:
        print(", ".join(f"{name} {version}" for name, version in versions.items()))
        print("GPU:", ", ".join(gpus) if gpus else "none, running on the CPU")
    return Lesson(smoke_mode(), gpus, versions)


__all__ = ["Lesson", "setup", "smoke_mode"]
