"""A VGG19 feature extractor: every requested layer from one forward pass.

Lesson: ``notebooks/02_vgg19_feature_maps.ipynb``.

The network is VGG19 without its classifier ("no top"), built here layer by layer with Keras'
layer names (``block4_conv2``), cut right after the deepest layer asked for, and loaded with
Keras' ImageNet weights file. Building it ourselves lets us

* stop at the deepest needed layer (style transfer never needs ``block5_pool``),
* swap max pooling for average pooling, as Gatys et al. recommend, and
* choose a mixed-precision policy per extractor instead of a global one.

Layer names may be given the Keras way (``block4_conv2``) or the paper's way (``conv4_2``,
``relu4_2``, ``pool4``). Keras' conv layers include their ReLU, so ``conv4_2`` and
``relu4_2`` name the same (rectified) output, as in the paper's figures.
"""

from __future__ import annotations

import re

from ..device import bf16_fast_on_cpu, gpu_compute_capability, import_tensorflow_quietly, resolve_precision  # noqa: F401
from ..errors import SettingsError

#: (block, number of convolutions, filters) for VGG19.
VGG19_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 4, 512), (5, 4, 512))


def _layer_table() -> tuple[tuple[str, str, int], ...]:
    table = []
    for block, convs, filters in VGG19_BLOCKS:
        for i in range(1, convs + 1):
            table.append((f"block{block}_conv{i}", "conv", filters))
        table.append((f"block{block}_pool", "pool", filters))
    return tuple(table)


#: Every layer of VGG19 (no top), in order: (keras name, kind, channels).
VGG19_LAYERS = _layer_table()
LAYER_NAMES = tuple(name for name, _, _ in VGG19_LAYERS)

_PAPER = re.compile(r"^(?:conv|relu)(\d)_(\d)$")
_PAPER_POOL = re.compile(r"^pool(\d)$")


def resolve_layer_name(name: str) -> str:
    """Map ``conv4_2``/``relu4_2``/``pool4``/``block4_conv2`` to the Keras layer name."""
    key = str(name).strip().lower()
    if key in LAYER_NAMES:
        return key
    if m := _PAPER.match(key):
        key = f"block{m[1]}_conv{m[2]}"
    elif m := _PAPER_POOL.match(key):
        key = f"block{m[1]}_pool"
    if key not in LAYER_NAMES:
        raise SettingsError(
            f"unknown VGG19 layer {name!r}",
            "use names like conv4_2, relu1_1, pool3 or block4_conv2 (conv1_1..conv5_4)",
        )
    return key


def layer_channels(name: str) -> int:
    """Number of feature maps (channels) a layer outputs."""
    key = resolve_layer_name(name)
    return next(ch for n, _, ch in VGG19_LAYERS if n == key)


def layer_depth(name: str) -> int:
    """Position of a layer in VGG19 (0 for ``block1_conv1``)."""
    return LAYER_NAMES.index(resolve_layer_name(name))


# ---------------------------------------------------------------------------------------------
# The network


def build_vgg19(up_to: str = "block5_pool", *, pooling: str = "max", dtype: str = "float32",
                weights="imagenet"):
    """Build VGG19 (no top) up to and including layer ``up_to``.

    Returns a Keras model whose output is a dict from layer name to that layer's output, for
    every layer built. ``weights`` is ``"imagenet"`` (found via :mod:`.weights`), a path to an
    ``.h5`` file in Keras' layout, or ``None`` for random initialisation.
    """
    import_tensorflow_quietly()
    import keras

    if pooling not in ("max", "avg"):
        raise SettingsError(f"pooling is {pooling!r}", "use 'max' or 'avg'")
    last = layer_depth(up_to)
    inputs = keras.Input(shape=(None, None, 3), name="bgr_input")
    x = inputs
    outputs = {}
    for name, kind, filters in VGG19_LAYERS[: last + 1]:
        if kind == "conv":
            layer = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=name, dtype=dtype)
        elif pooling == "avg":
            layer = keras.layers.AveragePooling2D(2, strides=2, name=name, dtype=dtype)
        else:
            layer = keras.layers.MaxPooling2D(2, strides=2, name=name, dtype=dtype)
        x = layer(x)
        outputs[name] = x
    model = keras.Model(inputs, outputs, name=f"vgg19_to_{up_to}")
    if weights is not None:
        load_vgg19_weights(model, weights)
    return model


def load_vgg19_weights(model, weights="imagenet") -> None:
    """Copy conv kernels and biases from Keras' VGG19 ``.h5`` file into ``model`` by layer name."""
    import h5py

    from .weights import vgg19_weights_path

    path = vgg19_weights_path() if weights == "imagenet" else weights
    with h5py.File(path, "r") as f:
        for layer in model.layers:
            if not layer.weights:
                continue
            group = f[layer.name]
            names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
            layer.set_weights([group[n][()] for n in names])


class FeatureExtractor:
    """Callable that maps a batch of VGG19 inputs to ``{layer: float32 features}``.

    One forward pass computes every requested layer; the network stops at the deepest one.
    Under a mixed policy the convolutions run in bf16/fp16 while the returned features are
    float32, so Gram matrices and losses stay in full precision.

    >>> extractor = FeatureExtractor(["conv1_1", "conv4_2"])      # doctest: +SKIP
    >>> feats = extractor(preprocess(picture))                    # doctest: +SKIP
    >>> feats["block4_conv2"].shape                                # doctest: +SKIP
    """

    def __init__(self, layers, *, pooling: str = "max", precision: str = "float32", weights="imagenet"):
        resolved = [resolve_layer_name(n) for n in layers]
        if not resolved:
            raise SettingsError("no layers requested", "name at least one VGG19 layer")
        self.layers = tuple(dict.fromkeys(resolved))
        self.pooling = pooling
        self.precision = resolve_precision(precision)
        deepest = max(self.layers, key=layer_depth)
        self.model = build_vgg19(deepest, pooling=pooling, dtype=self.precision, weights=weights)
        self.model.trainable = False

    def __call__(self, x) -> dict:
        return self.select(self.model(x, training=False))

    def select(self, outputs: dict) -> dict:
        """The requested layers of the network's outputs, as float32 (``keras.ops``, any backend).

        ``bench/jax_gpu.py`` calls the model statelessly under ``jax.jit`` and passes its outputs here.
        """
        from keras import ops

        return {name: ops.cast(outputs[name], "float32") for name in self.layers}

    def __repr__(self) -> str:
        return f"FeatureExtractor(layers={list(self.layers)}, pooling={self.pooling!r}, precision={self.precision!r})"
