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

# Keep TensorFlow's C++ start-up chatter out of the terminal and notebooks (override by setting it).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .errors import ImageError, SettingsError, StyleTransferError, WeightsError
from .settings import Settings

__version__ = "0.1.0"

__all__ = [
    "ImageError",
    "SettingsError",
    "Settings",
    "StyleTransferError",
    "WeightsError",
    "__version__",
]
