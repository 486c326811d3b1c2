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

The training objective is :class:`styletransfer_utils.objective.Objective`, the same one
Gatys' method minimises; the settings are :class:`styletransfer_utils.settings.TrainSettings`.
Everything public is importable from here (``from styletransfer_utils import feedforward as ff``).
Only the trainer needs TensorFlow (``tf.data``, ``tf.function``, checkpoints): its names load on
first use, so the network, its layers and model files also work on Keras' JAX backend on a
machine without TensorFlow (``bench/jax_gpu.py``).
"""

import importlib

from ..errors import DataError, ModelError
from ..limits import MIN_NETWORK_SIDE
from ..objective import FLOAT16_LOSS_SCALE, LOSS_TERMS
from ..settings import JOHNSON_CONTENT_LAYERS, JOHNSON_STYLE_LAYERS, TrainSettings, gatys_settings
from .layers import MULTIPLE, CropLike, InstanceNormalization, ReflectionPadding2D, ReflectPadToMultiple, TanhToPixels
from .models import (MODEL_SUFFIXES, MODELS_DIR, check_model_path, load_model, load_model_file, model_kind,
                     objective, save_model, shipped_models, stylize_fast)
from .network import (FULL_WIDTH, HALF_WIDTH, RESIDUAL_BLOCKS, build_transformer, is_half_width, layer_table,
                      model_precision, with_precision)
from .photos import PICTURE_EXTENSIONS, PictureFolder, find_pictures, random_crop, scale_for_crops
from .records import (model_base, preview_pattern, read_record, record_path, record_settings, settings_dict,
                      write_record)

_TRAINER_NAMES = ("CHANGEABLE_ON_RESUME", "TrainProgress", "TrainResult", "Trainer", "default_checkpoint_dir", "train")


def __getattr__(name):  # PEP 562: the trainer (TensorFlow) is imported when first asked for
    if name in _TRAINER_NAMES:
        return getattr(importlib.import_module(".trainer", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The network's smallest side (kept under its old name).
MIN_SIDE = MIN_NETWORK_SIDE

__all__ = [
    "TrainSettings", "Trainer", "TrainResult", "TrainProgress", "PictureFolder", "ModelError", "DataError",
    "build_transformer", "save_model", "load_model", "load_model_file", "shipped_models", "stylize_fast",
    "train", "find_pictures", "with_precision", "read_record", "write_record", "record_path", "settings_dict",
    "gatys_settings", "objective", "record_settings", "layer_table", "InstanceNormalization",
    "ReflectionPadding2D", "ReflectPadToMultiple", "CropLike", "TanhToPixels", "LOSS_TERMS", "FLOAT16_LOSS_SCALE",
    "JOHNSON_CONTENT_LAYERS", "JOHNSON_STYLE_LAYERS", "FULL_WIDTH", "HALF_WIDTH", "RESIDUAL_BLOCKS", "MULTIPLE",
    "MIN_SIDE", "MODEL_SUFFIXES", "MODELS_DIR", "PICTURE_EXTENSIONS", "CHANGEABLE_ON_RESUME", "check_model_path",
    "default_checkpoint_dir", "is_half_width", "model_base", "model_kind", "model_precision", "preview_pattern",
    "random_crop", "scale_for_crops",
]
