"""styletransfer_utils: neural style transfer with TensorFlow/Keras.

The folders are the architecture; each lesson in ``notebooks/`` opens the one it teaches:

    core/         what both methods share: images, weights, VGG19 features, losses, objective (01-03)
    gatys/        Gatys et al.: optimise the picture, size after size of a schedule         (04, 07)
    feedforward/  Johnson et al.: a network that paints a photo in one pass                  (06)
    lessons/      the notebooks' helpers: set-up, visualize, widgets, exercises, grading  (01-07)
    measure/      the multi-scale quality measure; speed and memory benchmarks
    settings      Settings (Gatys) and TrainSettings (training): the CLI, notebooks and sliders
    checks        the one-line checks of a setting's value (a number in range, a choice)
    data          the example pictures by name, with offline fall-backs
    device        the CPU, the GPU, the precision that is fast here; TensorFlow's quiet import
    errors        the one-line "problem; fix" exceptions
    limits        the size limits, each with what it guards
    files         atomic file writing
    cli           the ``styletransfer`` command
    terminal      what a command shows while it runs (progress bar), and how Ctrl-C stops it
    gallery       ``python -m styletransfer_utils.gallery`` re-renders ``Images/``

The method (``core``, ``gatys``, ``feedforward``) never imports the lessons, the measures or the
command line, and lower layers never import higher ones. The public face is small::

    from styletransfer_utils import stylize, stylize_fast, train, Settings, TrainSettings

Those names load on first use, so ``import styletransfer_utils``, ``settings`` and the command
line's ``--help`` stay fast: TensorFlow is imported only by the modules that compute.
"""

import importlib
import os

# Keep TensorFlow's C++ start-up chatter out of the terminal and notebooks (override by setting it).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .errors import DataError, ImageError, ModelError, SettingsError, StyleTransferError, WeightsError
from .settings import Settings, TrainSettings

__version__ = "0.2.0"

#: What a user calls, and the module each comes from (imported when first asked for).
_LAZY = {"stylize": ".gatys.run", "stylize_fast": ".feedforward.models", "train": ".feedforward.trainer",
         "load_model": ".feedforward.models"}


def __getattr__(name):  # PEP 562
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DataError",
    "ImageError",
    "ModelError",
    "Settings",
    "SettingsError",
    "StyleTransferError",
    "TrainSettings",
    "WeightsError",
    "__version__",
    "load_model",
    "stylize",
    "stylize_fast",
    "train",
]
