"""Johnson et al.'s feed-forward network: one pass of a small CNN stylises a picture.

Paper: J. Johnson, A. Alahi, L. Fei-Fei, *Perceptual Losses for Real-Time Style Transfer and
Super-Resolution* (ECCV 2016), with the two changes every later implementation adopted:
instance normalisation instead of batch normalisation (Ulyanov et al., 2016) and
nearest-neighbour upsampling followed by a convolution instead of transposed convolutions
(Odena et al., 2016, "Deconvolution and checkerboard artifacts").

The *transformation network* (:func:`build_transformer`)::

    RGB [0, 255] -> reflect-pad to a multiple of 4
    c9s1-32   9x9 conv, stride 1, instance norm, ReLU
    d64, d128 3x3 convs, stride 2, instance norm, ReLU
    R128 x 5  residual blocks: (3x3 conv, IN, ReLU, 3x3 conv, IN) + identity
    u64, u32  nearest-neighbour x2, 3x3 conv, instance norm, ReLU
    c9s1-3    9x9 conv, then 127.5 * (tanh + 1)  -> RGB [0, 255], cropped back to the input size

Every convolution pads by reflection, so borders show no dark frame. ``half_width=True`` halves
every layer's channels (16/32/64), about 4x fewer operations, as in the paper's fast variants.

*Training* (:func:`train`) follows the paper: random crops of photos (the content), a fixed
style picture whose Gram matrices are computed once, the perceptual losses of
:mod:`styletransfer_utils.losses` on VGG19 features (content at relu2_2, style at relu1_2,
relu2_2, relu3_3, relu4_3), total variation, and Adam. VGG19 runs in mixed precision; so does
the transformer, except its instance-norm statistics and output layer, which stay float32.
Checkpoints (model, optimiser, step) let an interrupted run resume where it stopped.
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import json
import os
import threading
import time
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import import_tensorflow_quietly
from .errors import ImageError, SettingsError, StyleTransferError
from .files import atomic_path
from .settings import (PRECISIONS, POOLINGS, replace_fields, resolve_loss_layers, _choice, _int_in_range, _non_negative,
                       _positive)

import_tensorflow_quietly()  # used throughout (lazily); its C++ start-up lines would reach the terminal

#: Johnson et al.'s layers: content at relu2_2, style at relu1_2, relu2_2, relu3_3, relu4_3.
JOHNSON_CONTENT_LAYERS = ("block2_conv2",)
JOHNSON_STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")

#: Channels of the three resolutions (full width, as in the paper).
FULL_WIDTH = (32, 64, 128)
HALF_WIDTH = (16, 32, 64)
RESIDUAL_BLOCKS = 5
MULTIPLE = 4  # two stride-2 convolutions: sides must divide by 4
MIN_SIDE = 8  # reflection padding needs a few pixels at the coarsest resolution

#: Training pictures: files with these extensions (any case), found recursively.
PICTURE_EXTENSIONS = (".jpg", ".jpeg", ".png")
MODEL_SUFFIXES = (".keras", ".weights.h5")

#: Shipped models live here as NAME.keras or NAME.weights.h5.
MODELS_DIR = Path(__file__).resolve().parent / "models"


class ModelError(StyleTransferError):
    """A transformation-network file that is missing, of the wrong kind, or unreadable."""


class DataError(StyleTransferError):
    """A training folder that is missing, empty, or holds no readable pictures."""


# ---------------------------------------------------------------------------------------------
# Layers


def _keras():
    import keras

    return keras


def _register(cls):
    return _keras().saving.register_keras_serializable(package="styletransfer")(cls)


def _layers():
    """Define the custom layers once (Keras is imported lazily)."""
    global InstanceNormalization, ReflectionPadding2D, ReflectPadToMultiple, CropLike, TanhToPixels
    if "InstanceNormalization" in globals():
        return
    import keras
    from keras import ops

    @_register
    class InstanceNormalization(keras.layers.Layer):
        """Normalise each picture's each channel over its pixels, then scale and shift.

        Ulyanov et al. (2016). Statistics are computed in float32 whatever the input's dtype.
        """

        def __init__(self, epsilon: float = 1e-5, **kwargs):
            super().__init__(**kwargs)
            self.epsilon = epsilon

        def build(self, input_shape):
            channels = input_shape[-1]
            self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
            self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

        def call(self, x):
            x32 = ops.cast(x, "float32")
            mean, var = ops.moments(x32, axes=[1, 2], keepdims=True)
            y = (x32 - mean) * ops.rsqrt(var + self.epsilon)
            y = y * ops.cast(self.gamma, "float32") + ops.cast(self.beta, "float32")
            return ops.cast(y, self.compute_dtype)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "epsilon": self.epsilon}

    @_register
    class ReflectionPadding2D(keras.layers.Layer):
        """Pad height and width by ``pad`` pixels on each side, mirroring the picture."""

        def __init__(self, pad: int = 1, **kwargs):
            super().__init__(**kwargs)
            self.pad = pad

        def call(self, x):
            p = self.pad
            return ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

        def compute_output_shape(self, s):
            grow = lambda n: None if n is None else n + 2 * self.pad  # noqa: E731
            return (s[0], grow(s[1]), grow(s[2]), s[3])

        def get_config(self):
            return {**super().get_config(), "pad": self.pad}

    @_register
    class ReflectPadToMultiple(keras.layers.Layer):
        """Pad the bottom and right edges by reflection so both sides divide by ``multiple``."""

        def __init__(self, multiple: int = MULTIPLE, **kwargs):
            super().__init__(**kwargs)
            self.multiple = multiple

        def call(self, x):
            shape = ops.shape(x)
            ph, pw = (-shape[1]) % self.multiple, (-shape[2]) % self.multiple
            return ops.pad(x, [[0, 0], [0, ph], [0, pw], [0, 0]], mode="reflect")

        def compute_output_shape(self, s):
            up = lambda n: None if n is None else -(-n // self.multiple) * self.multiple  # noqa: E731
            return (s[0], up(s[1]), up(s[2]), s[3])

        def get_config(self):
            return {**super().get_config(), "multiple": self.multiple}

    @_register
    class CropLike(keras.layers.Layer):
        """Crop the first input to the height and width of the second."""

        def call(self, inputs):
            y, like = inputs
            shape = ops.shape(like)
            return y[:, : shape[1], : shape[2], :]

        def compute_output_shape(self, shapes):
            y, like = shapes
            return (y[0], like[1], like[2], y[3])

    @_register
    class TanhToPixels(keras.layers.Layer):
        """``127.5 * (tanh(x) + 1)``: any real number -> a pixel value in ``[0, 255]``."""

        def call(self, x):
            return 127.5 * (ops.tanh(ops.cast(x, "float32")) + 1.0)

        def compute_output_shape(self, s):
            return s

    globals().update(InstanceNormalization=InstanceNormalization, ReflectionPadding2D=ReflectionPadding2D,
                     ReflectPadToMultiple=ReflectPadToMultiple, CropLike=CropLike, TanhToPixels=TanhToPixels)


# ---------------------------------------------------------------------------------------------
# The network


def build_transformer(*, half_width: bool = False, precision: str = "float32", seed: int | None = None):
    """The transformation network as a Keras model: ``(B, H, W, 3)`` RGB in [0, 255] -> same.

    ``precision`` is a Keras dtype policy (``"auto"`` is resolved for this machine); under a
    mixed policy the convolutions run in bf16/fp16 while instance-norm statistics, the output
    convolution and the output stay float32. Any height and width of at least 8 pixels work.
    """
    import keras

    from .features import resolve_precision

    if not isinstance(half_width, bool):
        raise SettingsError(f"half_width is {half_width!r}", "use True or False")
    _layers()
    policy = resolve_precision(precision)
    if policy not in ("float32", "mixed_bfloat16", "mixed_float16"):
        raise SettingsError(f"precision is {precision!r}", f"use one of: {', '.join(PRECISIONS)}")
    c1, c2, c3 = HALF_WIDTH if half_width else FULL_WIDTH
    init = lambda i: keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)  # noqa: E731
    counter = iter(range(1000))

    def conv(x, filters, size, stride=1, name=None, dtype=policy, bias=False):
        x = ReflectionPadding2D(size // 2, dtype=dtype, name=f"{name}_pad")(x)
        return keras.layers.Conv2D(filters, size, strides=stride, padding="valid", use_bias=bias, dtype=dtype,
                                   kernel_initializer=init(next(counter)), name=name)(x)

    def norm(x, name, relu=True):
        x = InstanceNormalization(dtype="float32", name=f"{name}_in")(x)
        return keras.layers.Activation("relu", dtype=policy, name=f"{name}_relu")(x) if relu else x

    inputs = keras.Input(shape=(None, None, 3), name="rgb")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, dtype="float32", name="to_unit")(inputs)
    x = ReflectPadToMultiple(MULTIPLE, dtype="float32", name="pad_to_multiple")(x)
    x = norm(conv(x, c1, 9, name="c9s1"), "c9s1")
    x = norm(conv(x, c2, 3, 2, name="down1"), "down1")
    x = norm(conv(x, c3, 3, 2, name="down2"), "down2")
    for i in range(1, RESIDUAL_BLOCKS + 1):
        y = norm(conv(x, c3, 3, name=f"res{i}a"), f"res{i}a")
        y = norm(conv(y, c3, 3, name=f"res{i}b"), f"res{i}b", relu=False)
        x = keras.layers.Add(dtype="float32", name=f"res{i}_add")([x, y])
    for i, filters in ((1, c2), (2, c1)):
        x = keras.layers.UpSampling2D(2, interpolation="nearest", dtype=policy, name=f"up{i}_resize")(x)
        x = norm(conv(x, filters, 3, name=f"up{i}"), f"up{i}")
    x = conv(x, 3, 9, name="out", dtype="float32", bias=True)
    x = TanhToPixels(dtype="float32", name="to_pixels")(x)
    outputs = CropLike(dtype="float32", name="crop")([x, inputs])
    name = "transformer_half" if half_width else "transformer"
    return keras.Model(inputs, outputs, name=name)


def is_half_width(model) -> bool:
    """True when ``model`` is the half-width variant (its first convolution has 16 filters)."""
    return model.get_layer("c9s1").filters == HALF_WIDTH[0]


def model_precision(model) -> str:
    return model.get_layer("c9s1").dtype_policy.name


def with_precision(model, precision: str):
    """The same network (same weights) under another precision; ``model`` itself if it matches."""
    from .features import resolve_precision

    policy = resolve_precision(precision)
    if policy == model_precision(model):
        return model
    twin = build_transformer(half_width=is_half_width(model), precision=policy)
    twin.set_weights(model.get_weights())
    return twin


def layer_table(model, height: int = 256, width: int = 256) -> list[dict]:
    """The network layer by layer for one picture size: name, kind, output shape, parameters.

    Padding, cropping and activation layers are folded into the rows of the layers they serve,
    so the table reads like the paper's (c9s1-32, d64, d128, R128 x 5, u64, u32, c9s1-3).
    """
    import keras

    if min(height, width) < MIN_SIDE:
        raise SettingsError(f"a {width}x{height} picture is too small for the table",
                            f"use at least {MIN_SIDE} pixels on each side")
    shown = [layer for layer in model.layers
             if isinstance(layer, (keras.layers.Conv2D, keras.layers.UpSampling2D, keras.layers.Add))
             or type(layer).__name__ in ("ReflectPadToMultiple", "InstanceNormalization", "TanhToPixels", "CropLike")]
    probe = keras.Model(model.inputs, [layer.output for layer in shown])
    outputs = probe([np.zeros((1, height, width, 3), np.float32)], training=False)
    rows = []
    for layer, out in zip(shown, outputs):
        kind = type(layer).__name__
        if isinstance(layer, keras.layers.Conv2D):
            k, st = layer.kernel_size[0], layer.strides[0]
            kind = f"conv {k}x{k}" + (f", stride {st}" if st > 1 else "") + ", reflection padding"
        elif isinstance(layer, keras.layers.UpSampling2D):
            kind = "nearest-neighbour upsampling x2"
        elif isinstance(layer, keras.layers.Add):
            kind = "residual sum"
        elif kind == "InstanceNormalization":
            kind = "instance norm" + (" + ReLU" if f"{layer.name[:-3]}_relu" in {m.name for m in model.layers} else "")
        elif kind == "TanhToPixels":
            kind = "127.5 (tanh + 1): pixels in [0, 255]"
        elif kind == "ReflectPadToMultiple":
            kind = f"reflection-pad the sides to multiples of {layer.multiple}"
        elif kind == "CropLike":
            kind = "crop back to the input size"
        rows.append({"layer": layer.name, "kind": kind, "output": "x".join(map(str, out.shape[1:])),
                     "parameters": int(sum(np.prod(w.shape) for w in layer.weights))})
    return rows


# ---------------------------------------------------------------------------------------------
# Saving and loading
# ---------------------------------------------------------------------------------------------
# Saving and loading


def _model_kind(path: Path) -> str:
    name = path.name.lower()
    for suffix in MODEL_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    raise ModelError(f"cannot tell the kind of model file {path}", "end the name with .keras or .weights.h5")


def check_model_path(path) -> Path:
    """Fail early, with a fix, if a model cannot be written to ``path``."""
    path = Path(path)
    _model_kind(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ModelError(f"output folder {parent} does not exist", "create it or choose another model path")
    if path.is_dir():
        raise ModelError(f"model path {path} is a folder", "give a file name such as my_style.keras")
    if not os.access(parent, os.W_OK):
        raise ModelError(f"cannot write to {parent} (permission denied)", "choose a folder you can write to")
    return path


def save_model(model, path) -> Path:
    """Save to ``.keras`` (architecture + weights) or ``.weights.h5`` (weights only), atomically."""
    if not hasattr(model, "save_weights"):
        raise ModelError(f"cannot save a {type(model).__name__} as a model", "pass the Keras model, e.g. trainer.model")
    path = check_model_path(path)
    kind = _model_kind(path)
    try:
        with atomic_path(path) as tmp:
            if kind == ".keras":
                model.save(tmp)
            else:
                model.save_weights(tmp)
    except OSError as exc:
        raise ModelError(f"cannot write {path} ({exc.strerror or exc})", "choose another model path") from None
    return path


def load_model_file(path, *, precision: str = "float32"):
    """Load a transformation network from a ``.keras`` or ``.weights.h5`` file."""
    import keras

    _choice("precision", precision, PRECISIONS)  # the caller's error, not the file's
    path = Path(path).expanduser()
    kind = _model_kind(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such file", "check the path, or train a model with 'styletransfer train'")
    _layers()
    try:
        if kind == ".keras":
            model = keras.models.load_model(path, compile=False)
            if model.name not in ("transformer", "transformer_half"):
                raise ModelError(f"{path} is a Keras model but not a style transformer", "give a model made by 'styletransfer train'")
            return with_precision(model, precision)
        # weights only: the width is read from the file by trying both variants
        for half in (False, True):
            model = build_transformer(half_width=half, precision=precision)
            try:
                with warnings.catch_warnings():  # Keras notes that weightless layers (padding, crop) have no group
                    warnings.filterwarnings("ignore", message="Skipping nested container")
                    model.load_weights(path)
                return model
            except (ValueError, KeyError):
                continue
        raise ModelError(f"{path} does not hold transformer weights", "give a model made by 'styletransfer train'")
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py/zip/Keras raise many kinds
        raise ModelError(f"{path} is not a readable model ({type(exc).__name__})",
                         "re-save it, or give a .keras/.weights.h5 file made by 'styletransfer train'") from None


def shipped_models() -> dict[str, Path]:
    """Models shipped with the package: name -> file (``styletransfer_utils/models/NAME.keras``)."""
    found = {}
    if MODELS_DIR.is_dir():
        for p in sorted(MODELS_DIR.iterdir()):
            for suffix in MODEL_SUFFIXES:
                if p.name.lower().endswith(suffix) and p.is_file():
                    found.setdefault(p.name[: -len(suffix)], p)
    return found


def load_model(name_or_path, *, precision: str = "float32"):
    """A transformation network from a file path, or a shipped model by name (``"starry_night"``)."""
    ref = str(name_or_path)
    path = Path(ref)
    if path.exists() or any(ref.lower().endswith(s) for s in MODEL_SUFFIXES) or os.sep in ref:
        return load_model_file(path, precision=precision)
    shipped = shipped_models()
    key = ref.lower().replace("-", "_")
    if key not in shipped:
        names = ", ".join(shipped) if shipped else "none are shipped yet"
        raise ModelError(f"no model file or shipped model named {ref!r}",
                         f"give a .keras or .weights.h5 file, or a shipped name ({names})")
    return load_model_file(shipped[key], precision=precision)


# ---------------------------------------------------------------------------------------------
# Inference


def _compiled(model):
    """A ``tf.function`` of the model that retraces only when the rank or dtype changes."""
    import tensorflow as tf

    fn = getattr(model, "_styletransfer_fast_fn", None)
    if fn is None:
        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        object.__setattr__(model, "_styletransfer_fast_fn", fn)
    return fn


def stylize_fast(model, picture, *, max_size: int | None = None) -> np.ndarray:
    """Stylise one picture (path or RGB float array in [0, 255]) with one pass of the network.

    ``model`` is a Keras model, a path or a shipped model's name. Returns an RGB float32 array
    in ``[0, 255]`` of the picture's size (a path's long side is capped at ``max_size``).
    """
    import tensorflow as tf

    from .images import check_picture_array, load_image

    if not hasattr(model, "predict"):
        model = load_model(model)
    if isinstance(picture, (str, Path)):
        picture = load_image(picture, max_size)
    arr = check_picture_array(picture)
    if min(arr.shape[:2]) < MIN_SIDE:
        raise ImageError(f"picture is only {arr.shape[1]}x{arr.shape[0]} pixels",
                         f"use a picture at least {MIN_SIDE} pixels on each side")
    out = _compiled(model)(tf.convert_to_tensor(arr[None]))
    if tuple(out.shape[1:]) != arr.shape:
        raise ModelError(f"the model turns a {arr.shape} picture into {tuple(out.shape[1:])}, so it is no style "
                         "network", "load a model made by 'styletransfer train' or a shipped one")
    return np.clip(np.asarray(out[0], dtype=np.float32), 0.0, 255.0)


def gatys_settings(settings: "TrainSettings | None" = None, **changes):
    """Gatys settings that optimise exactly the objective a network was trained with.

    Same content/style/TV weights, layers and pooling; the picture starts from the content photo
    and the style picture is resized to the output's long side, as in training (``style_size``
    512 for a 512 px picture). ``changes`` override any field (``steps=200, size=512``).
    """
    from .settings import Settings

    t = (settings or TrainSettings()).validated()
    base = dict(content_weight=t.content_weight, style_weight=t.style_weight, tv_weight=t.tv_weight,
                content_layers=t.content_layers, style_layers=t.style_layers, pooling=t.pooling,
                precision=t.precision, init="content")
    return Settings(**{**base, **changes}).validated()


def objective(picture, content, style, settings: "TrainSettings | None" = None) -> dict:
    """The training objective's terms for one result, in float32: ``{total, content, style, tv}``.

    ``picture`` is a stylised version of ``content`` (both RGB arrays of one size, or paths);
    the style picture is resized to ``picture``'s long side, as :func:`gatys_settings` does. Use
    it to compare a network's output with a Gatys result or another package's on equal terms.
    """
    from .images import preprocess
    from .optimize import StyleTransfer, as_picture

    picture, content = as_picture(picture), as_picture(content)
    if picture.shape != content.shape:
        raise SettingsError(f"result {picture.shape} and content {content.shape} differ in size",
                            "resize the result to the content picture first")
    size = max(content.shape[:2])
    transfer = StyleTransfer(content, [style], gatys_settings(settings, size=size, precision="float32"))
    terms, _ = transfer.value_and_grad(preprocess(picture))
    return dict(zip(LOSS_TERMS, map(float, np.asarray(terms))))


# ---------------------------------------------------------------------------------------------
# Training settings


@dataclass
class TrainSettings:
    """Everything that decides the result of training one transformation network.

    The CLI flags of ``styletransfer train`` are these fields (``--batch-size`` is
    ``batch_size``). Loss terms and their normalisations are those of :mod:`.losses`; the
    style loss is averaged over the batch and its layers (equal weights).
    """

    steps: int = 40_000
    batch_size: int = 4
    crop_size: int = 256
    style_size: int = 512
    learning_rate: float = 1e-3
    content_weight: float = 1.0
    style_weight: float = 2e-4  # the shipped networks' weight, chosen by eye on their three styles
    tv_weight: float = 1.0
    content_layers: tuple[str, ...] = JOHNSON_CONTENT_LAYERS
    style_layers: tuple[str, ...] = JOHNSON_STYLE_LAYERS
    half_width: bool = False
    precision: str = "auto"
    transformer_precision: str = "same"
    pooling: str = "max"
    checkpoint_every: int = 500
    preview_every: int = 500
    seed: int | None = None

    def replace(self, **changes) -> "TrainSettings":
        """A copy with some fields changed (and validated)."""
        return replace_fields(self, changes)

    def validated(self) -> "TrainSettings":
        """Check every field and return ``self``; raise :class:`SettingsError` on the first bad one."""
        _int_in_range("steps", self.steps, 1, 10_000_000)
        _int_in_range("batch_size", self.batch_size, 1, 256)
        _int_in_range("crop_size", self.crop_size, 32, 2048)
        _int_in_range("style_size", self.style_size, 32, 4096)
        _positive("learning_rate", self.learning_rate)
        for name in ("content_weight", "style_weight", "tv_weight"):
            _non_negative(name, getattr(self, name))
        if self.content_weight == 0 and self.style_weight == 0:
            raise SettingsError("content and style weights are both zero", "make at least one of them positive")
        _choice("precision", self.precision, PRECISIONS)
        _choice("transformer_precision", self.transformer_precision, ("same",) + PRECISIONS)
        _choice("pooling", self.pooling, POOLINGS)
        _int_in_range("checkpoint_every", self.checkpoint_every, 0, 10_000_000)
        _int_in_range("preview_every", self.preview_every, 0, 10_000_000)
        if not isinstance(self.half_width, bool):
            raise SettingsError(f"half_width is {self.half_width!r}", "use True or False")
        if self.seed is not None:
            _int_in_range("seed", self.seed, 0, 2**31 - 1)
        self.content_layers, self.style_layers = resolve_loss_layers(self, ("relu2_2", "relu1_2"))
        return self

    def vgg_precision(self) -> str:
        from .features import resolve_precision

        return resolve_precision(self.precision)

    def net_precision(self) -> str:
        from .features import resolve_precision

        return self.vgg_precision() if self.transformer_precision == "same" else resolve_precision(self.transformer_precision)


# ---------------------------------------------------------------------------------------------
# Training data


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
    from PIL import Image

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
        from .images import load_image

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


# ---------------------------------------------------------------------------------------------
# Training


@dataclass
class TrainProgress:
    """What a callback sees after every training step."""

    step: int
    steps: int
    losses: dict
    elapsed: float
    images_per_second: float
    skipped: int


@dataclass
class TrainResult:
    model: object
    steps: int
    start_step: int
    losses: dict
    history: list
    seconds: float
    interrupted: bool
    skipped: dict
    output: Path | None = None
    checkpoint_dir: Path | None = None
    previews: list = field(default_factory=list)
    batch_size: int = 1

    @property
    def images_per_second(self) -> float:
        done = self.steps - self.start_step
        return done * self.batch_size / self.seconds if self.seconds > 0 else 0.0


LOSS_TERMS = ("total", "content", "style", "tv")
# float16 only: the starting loss scale of Keras' dynamic loss scaling, which skips a step whose
# gradients overflow and halves the scale. The losses are large (1e5-1e7), so gradients overflow
# rather than underflow: at the defaults the first 6 steps are skipped on the way down to 1/64.
FLOAT16_LOSS_SCALE = 1.0


def default_checkpoint_dir(output) -> Path:
    """``my_style.keras`` -> ``my_style.keras.checkpoints/`` next to it."""
    output = Path(output)
    return output.with_name(output.name + ".checkpoints")


class Trainer:
    """Everything fixed while training one network: data, VGG19, style targets, model, optimiser.

    ``Trainer(style, folder, settings).run(steps)`` trains; with ``checkpoint_dir`` it restores
    the last checkpoint first (same model width required) and saves one every
    ``settings.checkpoint_every`` steps and on Ctrl-C.
    """

    def __init__(self, style, folder, settings: TrainSettings | None = None, *, checkpoint_dir=None,
                 extractor=None, preview=None):
        import keras
        import tensorflow as tf

        from .features import FeatureExtractor
        from .images import preprocess, resize_to_long_side
        from .losses import gram_matrix
        from .optimize import as_picture

        if settings is not None and not isinstance(settings, TrainSettings):
            raise SettingsError(f"settings is a {type(settings).__name__}", "pass a feedforward.TrainSettings")
        self.settings = s = (settings or TrainSettings()).validated()
        if s.seed is not None:
            keras.utils.set_random_seed(s.seed)
        self.data = PictureFolder(folder, s.crop_size, s.batch_size, seed=s.seed)
        self.style = resize_to_long_side(as_picture(style, max(s.style_size, 2048)), s.style_size)
        self.content_layers = s.content_layers if s.content_weight > 0 else ()
        self.style_layers = s.style_layers if s.style_weight > 0 else ()
        layers = tuple(dict.fromkeys(self.content_layers + self.style_layers))
        self.extractor = extractor or FeatureExtractor(layers, pooling=s.pooling, precision=s.vgg_precision())
        feats = self.extractor(preprocess(self.style))
        self.style_grams = {n: tf.constant(gram_matrix(feats[n])) for n in self.style_layers}  # computed once
        self.model = build_transformer(half_width=s.half_width, precision=s.net_precision(), seed=s.seed)
        adam = self.optimizer = keras.optimizers.Adam(learning_rate=s.learning_rate)
        if any(p.endswith("_float16") for p in (s.net_precision(), s.vgg_precision())):
            self.optimizer = keras.optimizers.LossScaleOptimizer(adam, initial_scale=FLOAT16_LOSS_SCALE)
        self.optimizer.build(self.model.trainable_variables)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        # Adam's state only (a float16 run's loss scale adapts again in a few steps), so that a run can
        # resume under another precision, e.g. "auto" on another machine
        self.checkpoint = tf.train.Checkpoint(model=self.model, optimizer=adam, step=self.step)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.manager = None
        self.restored_from = None
        if self.checkpoint_dir is not None:
            self._open_checkpoints()
        self.preview = None if preview is None else as_picture(preview, 512)
        self._train_step = tf.function(self._step, jit_compile=False, reduce_retracing=True)
        self._iterator = None
        _OPEN_TRAINERS.add(self)

    def close(self) -> None:
        """Stop the data pipeline (the next batch starts a new one, where this one stopped).

        A ``tf.data`` pipeline that runs Python code (the pictures are read with PIL) can hang
        the interpreter's exit while it is still filling its buffers, so this is also called for
        every trainer left open when the program ends.
        """
        self._iterator = None

    # -- checkpoints -----------------------------------------------------------------------

    def _open_checkpoints(self) -> None:
        import tensorflow as tf

        d = self.checkpoint_dir
        meta_path = d / "settings.json"
        meta = {"half_width": self.settings.half_width, "settings": settings_dict(self.settings),
                "style_sha256": hashlib.sha256(np.ascontiguousarray(self.style, np.float32).tobytes()).hexdigest()}
        if meta_path.is_file():
            try:
                old = json.loads(meta_path.read_text())
            except (OSError, ValueError) as exc:
                raise ModelError(f"{meta_path} cannot be read ({exc})",
                                 f"delete {d} to start afresh, or give another --checkpoint-dir") from None
            self._check_resumable(old, meta)
        try:
            d.mkdir(parents=True, exist_ok=True)
            meta_path.write_text(json.dumps(meta, indent=1))
        except OSError as exc:
            raise ModelError(f"cannot write checkpoints to {d} ({exc.strerror or exc})",
                             "give a writable folder with --checkpoint-dir") from None
        try:
            self.manager = tf.train.CheckpointManager(self.checkpoint, str(d), max_to_keep=2)
            if self.manager.latest_checkpoint:
                self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
                self.restored_from = self.manager.latest_checkpoint
        except (tf.errors.OpError, ValueError, AssertionError) as exc:
            first = (getattr(exc, "message", None) or str(exc)).strip().splitlines()[0]
            raise ModelError(f"the checkpoint in {d} cannot be read ({first})",
                             f"delete {d} to start afresh, or give another --checkpoint-dir") from None

    def _check_resumable(self, old: dict, new: dict) -> None:
        """Refuse to resume checkpoints made with other data or another objective."""
        d = self.checkpoint_dir
        if old.get("half_width") != new["half_width"]:
            raise SettingsError(
                f"the checkpoints in {d} are of a {'half' if old.get('half_width') else 'full'}-width network",
                f"use the same --half-width setting, or delete {d} to start afresh")
        before = old.get("settings", {})
        changed = [f"--{name.replace('_', '-')} {_flag_value(before[name])} (now {_flag_value(value)})"
                   for name, value in new["settings"].items()
                   if name not in CHANGEABLE_ON_RESUME and name in before and before[name] != value]
        if old.get("style_sha256", new["style_sha256"]) != new["style_sha256"]:
            changed.insert(0, "another style picture (or --style-size)")
        if changed:
            raise SettingsError(f"the checkpoints in {d} were made with " + ", ".join(changed),
                                f"resume with the same settings, or delete {d} (or give another --checkpoint-dir) "
                                "to start afresh")

    def save_checkpoint(self) -> str | None:
        if self.manager is None:
            return None
        return self.manager.save(checkpoint_number=int(self.step.numpy()))

    # -- the loss --------------------------------------------------------------------------

    def losses(self, content_batch, training: bool = False):
        """Loss terms ``[total, content, style, tv]`` (float32) for a batch of RGB crops."""
        import tensorflow as tf

        from .images import preprocess
        from .losses import content_loss, layer_style_loss, total_variation_loss

        s = self.settings
        generated = tf.cast(self.model(content_batch, training=training), tf.float32)
        batch = tf.shape(content_batch)[0]
        feats = self.extractor(preprocess(tf.concat([generated, content_batch], axis=0)))
        c = tf.constant(0.0)
        for name in self.content_layers:
            target = tf.stop_gradient(feats[name][batch:])
            c += content_loss(feats[name][:batch], target) / len(self.content_layers)
        st = tf.constant(0.0)
        for name in self.style_layers:  # layer_style_loss sums over the batch: average it
            st += layer_style_loss(feats[name][:batch], self.style_grams[name]) / tf.cast(batch, tf.float32)
        if self.style_layers:
            st /= len(self.style_layers)
        tv = total_variation_loss(generated)
        total = s.content_weight * c + s.style_weight * st + s.tv_weight * tv
        return tf.stack([total, c, st, tv])

    def _step(self, content_batch):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            terms = self.losses(content_batch, training=True)
            scaled = self.optimizer.scale_loss(terms[0])  # unchanged unless float16
        grads = tape.gradient(scaled, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))  # float16: unscaled there
        self.step.assign_add(1)
        return terms

    def next_batch(self):
        import tensorflow as tf

        if self._iterator is None:
            # a resumed run goes on where the interrupted one stopped, not from the first pictures
            self._iterator = iter(self.data.dataset(start=int(self.step.numpy()) * self.settings.batch_size))
        try:
            return next(self._iterator)
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as exc:
            failure = exc.message.splitlines()[0]
        self.close()  # outside the except block, so no traceback keeps the failed pipeline alive
        if len(self.data.skipped) >= len(self.data.paths):
            raise DataError(f"none of the {len(self.data.paths)} pictures in {self.data.folder} can be read",
                            "give a folder of readable JPEG or PNG photos")
        raise StyleTransferError(f"the training data pipeline failed ({failure})",
                                 "check the pictures in the training folder")

    def train_step(self, batch=None) -> dict:
        """One optimisation step on ``batch`` (the next batch of the folder by default): a
        ``(B, H, W, 3)`` array of RGB crops in [0, 255], or one ``(H, W, 3)`` crop."""
        if batch is not None:
            import tensorflow as tf

            batch = np.asarray(batch)
            batch = batch[None] if batch.ndim == 3 else batch
            if batch.ndim != 4 or batch.shape[-1] != 3 or min(batch.shape[1:3]) < MIN_SIDE:
                raise SettingsError(f"a training batch of shape {batch.shape}",
                                    f"pass (B, H, W, 3) RGB crops of at least {MIN_SIDE} pixels, in [0, 255]")
            batch = tf.constant(batch, tf.float32)
        terms = self._train_step(self.next_batch() if batch is None else batch)
        return dict(zip(LOSS_TERMS, map(float, terms.numpy())))

    # -- the loop --------------------------------------------------------------------------

    def run(self, steps: int | None = None, *, callbacks: Sequence[Callable[[TrainProgress], None]] = (),
            preview_pattern: str | None = None) -> TrainResult:
        """Train until the step counter reaches ``steps`` (``settings.steps`` by default).

        Ctrl-C (KeyboardInterrupt) stops after saving a checkpoint; the result says so.
        """
        s = self.settings
        target = s.steps if steps is None else steps
        _int_in_range("steps", target, 0, 10_000_000)
        start_step = int(self.step.numpy())
        history, losses, interrupted, previews = [], {}, False, []
        start = time.perf_counter()
        try:
            while int(self.step.numpy()) < target:
                losses = self.train_step()
                step = int(self.step.numpy())
                elapsed = time.perf_counter() - start
                if not np.isfinite(losses["total"]):
                    raise StyleTransferError(f"the loss became {losses['total']} at step {step}",
                                             "lower --learning-rate or the loss weights, or use --precision float32")
                history.append({"step": step, "seconds": elapsed, **losses})
                if s.checkpoint_every and step % s.checkpoint_every == 0:
                    self.save_checkpoint()
                if preview_pattern and s.preview_every and step % s.preview_every == 0:
                    previews.append(self.save_preview(preview_pattern.format(step=step)))
                rate = (step - start_step) * s.batch_size / elapsed if elapsed > 0 else 0.0
                progress = TrainProgress(step, target, losses, elapsed, rate, len(self.data.skipped))
                for callback in callbacks:
                    callback(progress)
        except KeyboardInterrupt:
            interrupted = True
        if self.manager is not None and int(self.step.numpy()) > start_step:
            latest = self.manager.latest_checkpoint
            if not latest or not latest.endswith(f"-{int(self.step.numpy())}"):
                self.save_checkpoint()
        result = TrainResult(self.model, int(self.step.numpy()), start_step, losses, history,
                             time.perf_counter() - start, interrupted, dict(self.data.skipped),
                             checkpoint_dir=self.checkpoint_dir, previews=previews, batch_size=s.batch_size)
        return result

    def preview_picture(self) -> np.ndarray:
        if self.preview is None:
            from .data import shipped_content
            from .images import resize_to_long_side

            self.preview = resize_to_long_side(shipped_content("chelsea"), 256)
        return self.preview

    def save_preview(self, path) -> Path:
        from .images import save_image

        return save_image(path, stylize_fast(self.model, self.preview_picture()))


# Settings a resumed run may change; any other change needs a fresh run (see Trainer._check_resumable).
CHANGEABLE_ON_RESUME = ("steps", "checkpoint_every", "preview_every", "precision", "transformer_precision")

_OPEN_TRAINERS: "weakref.WeakSet[Trainer]" = weakref.WeakSet()


@atexit.register
def _close_open_trainers() -> None:
    for trainer in list(_OPEN_TRAINERS):
        trainer.close()


def _flag_value(value) -> str:
    """A setting's value as a command line writes it: ``a,b`` for lists, ``None`` as ``none``."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return "none" if value is None else str(value)


def settings_dict(settings) -> dict:
    """A settings dataclass as a JSON-ready dict (tuples become lists), as training records store it."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(settings).items()}


def model_base(output) -> Path:
    """``my_style.keras`` or ``my_style.weights.h5`` -> ``my_style`` (same folder)."""
    output = Path(output)
    return output.with_name(output.name[: -len(_model_kind(output))])


def record_path(output) -> Path:
    """Where the training record of a model goes: ``my_style.keras`` -> ``my_style.json``."""
    return model_base(output).with_name(model_base(output).name + ".json")


def preview_pattern(output) -> str:
    """File names of the previews of a model: ``my_style_preview_step000500.png``, ..."""
    base = model_base(output)
    return str(base.with_name(base.name + "_preview_step{step:06d}.png"))


def read_record(output) -> dict | None:
    """The training record next to a model file (or of a shipped model's name), or ``None``."""
    ref = Path(output)
    if not ref.exists() and str(output).lower().replace("-", "_") in shipped_models():
        ref = shipped_models()[str(output).lower().replace("-", "_")]
    path = record_path(ref)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def record_settings(record: dict) -> "TrainSettings":
    """The :class:`TrainSettings` a training record was made with."""
    fields = {f.name for f in dataclasses.fields(TrainSettings)}
    return TrainSettings(**{k: tuple(v) if isinstance(v, list) else v
                            for k, v in record["settings"].items() if k in fields}).validated()


def write_record(output, result: TrainResult, settings: TrainSettings, *, style: str, data, pictures: int,
                 command: str | None = None) -> Path:
    """Write how a model was trained (settings, data, steps, time, machine, losses) next to it.

    The record makes a model reproducible: ``styletransfer train`` writes it, the shipped models
    carry theirs, and the benchmarks read the loss settings from it. When a run resumes, the time
    of the earlier sessions (from the previous record) is added to ``total_seconds``.
    """
    import platform

    import keras
    import tensorflow as tf

    from .benchmarking import processor_name

    path = record_path(output)
    previous = read_record(output) or {}
    earlier = previous.get("total_seconds", 0.0) if previous.get("steps", 0) == result.start_step > 0 else 0.0
    tail = result.history[-50:]
    final = ({k: float(np.mean([h[k] for h in tail])) for k in LOSS_TERMS} if tail
             else previous.get("final_losses_mean_of_last_50_steps", {}))
    record = {
        "model": Path(output).name,
        "style": str(style),
        "data": str(data),
        "pictures": pictures,
        "skipped": len(result.skipped),
        "steps": result.steps,
        "images_seen": result.steps * settings.batch_size,
        "seconds_this_session": round(result.seconds, 1),
        "total_seconds": round(earlier + result.seconds, 1),
        "images_per_second": round(result.images_per_second, 2),
        "final_losses_mean_of_last_50_steps": final,
        "settings": settings_dict(settings),
        "command": command,
        "machine": {"processor": processor_name(), "cpus": os.cpu_count(),
                    "gpu": [d.name for d in tf.config.list_physical_devices("GPU")]},
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__},
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=1) + "\n")
    return path


def train(style, folder, output, settings: TrainSettings | None = None, *, checkpoint_dir=None, preview=None,
          callbacks=(), previews: bool = True) -> TrainResult:
    """Train a transformation network for ``style`` on the pictures in ``folder``; save it to ``output``.

    Checkpoints go to ``checkpoint_dir`` (default ``OUTPUT.checkpoints/``); running the same call
    again resumes from the last one. Previews (the preview picture stylised) are written next to
    the output every ``settings.preview_every`` steps. Ctrl-C saves a checkpoint and the model.
    """
    output = check_model_path(output)
    settings = (settings or TrainSettings()).validated()
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else default_checkpoint_dir(output)
    trainer = Trainer(style, folder, settings, checkpoint_dir=checkpoint_dir, preview=preview)
    result = trainer.run(callbacks=callbacks, preview_pattern=preview_pattern(output) if previews else None)
    result.output = save_model(trainer.model, output)
    write_record(output, result, settings, style=str(style) if isinstance(style, (str, Path)) else "an array",
                 data=folder, pictures=len(trainer.data.paths))
    return result


__all__ = [
    "TrainSettings", "Trainer", "TrainResult", "TrainProgress", "PictureFolder", "ModelError", "DataError",
    "build_transformer", "save_model", "load_model", "load_model_file", "shipped_models", "stylize_fast",
    "train", "find_pictures", "with_precision", "read_record", "write_record", "record_path", "settings_dict",
    "gatys_settings", "objective", "record_settings", "layer_table",
]
