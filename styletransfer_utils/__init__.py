"""styletransfer_utils: neural style transfer with TensorFlow/Keras.

The modules follow the data flow of Gatys et al. (2016):

    images    file -> RGB array -> VGG19 input (``preprocess``) and back (``deprocess``)
    weights   locating Keras' VGG19 ImageNet weights
    features  a VGG19 feature extractor returning many layers from one forward pass
    losses    content, Gram/style and total-variation losses
    optimize  the optimisation loop (L-BFGS or Adam) that owns the image
    settings  one dataclass describing a run, shared by the CLI, notebooks and sliders
    data      the catalogue of example pictures
    cli       the ``styletransfer`` command

Heavy imports (TensorFlow) happen inside the modules that need them, so ``import
styletransfer_utils`` stays fast.
"""

import os
import sys

# Keep TensorFlow's C++ start-up chatter out of the terminal and notebooks (override by setting it).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .errors import ImageError, SettingsError, StyleTransferError, WeightsError
from .settings import Settings

__version__ = "0.1.0"


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with file descriptor 2 muted (the command line and the notebooks do).

    TensorFlow's C++ start-up lines (oneDNN, CUDA probing) are printed before its log level is
    read, so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them; Python errors still surface as exceptions.
    Does nothing when TensorFlow is already imported or the log level asks for those lines (< 2).
    """
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") < "2":
        return
    try:
        saved = os.dup(2)
    except OSError:
        return
    try:
        with open(os.devnull, "w") as devnull:
            sys.stderr.flush()
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


__all__ = [
    "ImageError",
    "SettingsError",
    "Settings",
    "StyleTransferError",
    "WeightsError",
    "__version__",
    "import_tensorflow_quietly",
]
