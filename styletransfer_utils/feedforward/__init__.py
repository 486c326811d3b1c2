"""Johnson et al.'s feed-forward networks: one pass of a small CNN stylises a picture.

Lesson: ``notebooks/06_feed_forward_networks.ipynb``. Paper: J. Johnson, A. Alahi, L. Fei-Fei,
*Perceptual Losses for Real-Time Style Transfer and Super-Resolution* (ECCV 2016).

One concept per module:

    layers    the network's own Keras layers (instance norm, reflection padding, ...)
    network   the transformation network: build it, read it layer by layer, change its precision
    models    model files (.keras, .weights.h5), the shipped networks by name, stylize_fast,
              and scoring a result on a network's training objective
    photos    the training photos: a folder of pictures as a tf.data pipeline of random crops
    trainer   the training loop (Trainer, train) with checkpoints, resume and previews
    records   the training record written next to each model

The training objective is :class:`styletransfer_utils.core.objective.Objective`, the same one
Gatys' method minimises; the settings are :class:`styletransfer_utils.settings.TrainSettings`.
What a user calls is importable from here (``from styletransfer_utils import feedforward as ff``);
the rest from its module (``ff.records.record_settings``). Only the trainer needs TensorFlow
(``tf.data``, ``tf.function``, checkpoints): its names load on first use, so the network, its
layers and model files also work on Keras' JAX backend on a machine without TensorFlow
(``bench/jax_gpu.py``).
"""

import importlib

from ..settings import TrainSettings, gatys_settings
from . import layers, models, network, photos, records  # noqa: F401 (ff.records.read_record, ...)
from .models import load_model, objective, save_model, shipped_models, stylize_fast
from .network import build_transformer
from .photos import find_pictures
from .records import read_record

_TRAINER_NAMES = ("Trainer", "train")


def __getattr__(name):  # PEP 562: the trainer (TensorFlow) is imported when first asked for
    if name in _TRAINER_NAMES or name == "trainer":
        module = importlib.import_module(".trainer", __name__)
        return module if name == "trainer" else getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["TrainSettings", "Trainer", "build_transformer", "find_pictures", "gatys_settings", "load_model",
           "objective", "read_record", "save_model", "shipped_models", "stylize_fast", "train"]
