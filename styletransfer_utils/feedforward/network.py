"""Johnson et al.'s transformation network, layer by layer.

Paper: J. Johnson, A. Alahi, L. Fei-Fei, *Perceptual Losses for Real-Time Style Transfer and
Super-Resolution* (ECCV 2016), with the two changes every later implementation adopted:
instance normalisation instead of batch normalisation (Ulyanov et al., 2016) and
nearest-neighbour upsampling followed by a convolution instead of transposed convolutions
(Odena et al., 2016, "Deconvolution and checkerboard artifacts")::

    RGB [0, 255] -> reflect-pad to a multiple of 4
    c9s1-32   9x9 conv, stride 1, instance norm, ReLU
    d64, d128 3x3 convs, stride 2, instance norm, ReLU
    R128 x 5  residual blocks: (3x3 conv, IN, ReLU, 3x3 conv, IN) + identity
    u64, u32  nearest-neighbour x2, 3x3 conv, instance norm, ReLU
    c9s1-3    9x9 conv, then 127.5 * (tanh + 1)  -> RGB [0, 255], cropped back to the input size

Every convolution pads by reflection, so borders show no dark frame. The layers at a half and a
quarter of the resolution still paint a seam of speckles along the edges (a mirrored feature map
is not the features of a mirrored picture); :func:`~.models.stylize_fast` avoids it by running the
network on the picture inside a mirrored margin (``models.BORDER_MARGIN``). ``half_width=True``
halves every layer's channels (16/32/64), about 4x fewer operations, as in the paper's fast variants;
``width="quarter"`` quarters them (8/16/32), 3.4x fewer operations again: the networks of the
distillation experiment (``bench/distil.py``), which fine-tune at their own width (``train --init``).
"""

from __future__ import annotations

import numpy as np

from ..device import resolve_precision
from ..errors import SettingsError
from ..limits import MIN_NETWORK_SIDE
from ..settings import PRECISIONS
from .layers import (MULTIPLE, BlockConv2D, CropLike, InstanceNormalization, ReflectionPadding2D,  # noqa: F401
                     ReflectPadToMultiple, TanhToPixels, UpsampleConv2D, keras)

#: Channels of the three resolutions (full width, as in the paper).
FULL_WIDTH = (32, 64, 128)
HALF_WIDTH = (16, 32, 64)
QUARTER_WIDTH = (8, 16, 32)
#: The widths by name, and each width's model name (which a ``.keras`` file keeps).
WIDTHS = {"full": FULL_WIDTH, "half": HALF_WIDTH, "quarter": QUARTER_WIDTH}
MODEL_NAMES = {"full": "transformer", "half": "transformer_half", "quarter": "transformer_quarter"}
RESIDUAL_BLOCKS = 5
#: The dilation rates a residual block's convolutions may have (``build_transformer(dilations=)``).
DILATION_RATES = (1, 2)


def build_transformer(*, half_width: bool = False, width: str | None = None, precision: str = "float32",
                      seed: int | None = None, dilations=None):
    """The transformation network as a Keras model: ``(B, H, W, 3)`` RGB in [0, 255] -> same.

    ``precision`` is a Keras dtype policy (``"auto"`` is resolved for this machine); under a
    mixed policy the convolutions run in bf16/fp16, and so do the instance norms whose output
    only feeds a convolution (their statistics are float32 all the same). The residual stream
    stays float32: the norms that feed it, its sums, and the pixels at the end. Any height and
    width of at least 8 pixels work. ``width`` (``"full"``, ``"half"`` or ``"quarter"``), where
    given, wins over ``half_width``. ``dilations`` (one rate per residual block, 1 or 2) spaces
    each block's 3x3 taps that many pixels apart: the same weights and operations, a wider view
    (``bench/RESULTS.md``, "Dilated residual blocks").
    """
    if not isinstance(half_width, bool):
        raise SettingsError(f"half_width is {half_width!r}", "use True or False")
    if width is None:
        width = "half" if half_width else "full"
    if width not in WIDTHS:
        raise SettingsError(f"width is {width!r}", f"use one of: {', '.join(WIDTHS)}")
    policy = resolve_precision(precision)
    if policy not in ("float32", "mixed_bfloat16", "mixed_float16"):
        raise SettingsError(f"precision is {precision!r}", f"use one of: {', '.join(PRECISIONS)}")
    c1, c2, c3 = WIDTHS[width]
    init = lambda i: keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)  # noqa: E731
    counter = iter(range(1000))

    def conv(x, filters, size, stride=1, name=None, dtype=policy, bias=False, kind=keras.layers.Conv2D, rate=1):
        x = ReflectionPadding2D(rate * (size // 2), dtype=dtype, name=f"{name}_pad")(x)
        extra = {} if rate == 1 else {"dilation_rate": rate}
        return kind(filters, size, strides=stride, padding="valid", use_bias=bias, dtype=dtype,
                    kernel_initializer=init(next(counter)), name=name, **extra)(x)

    def norm(x, name, relu=True, dtype=policy):
        # in the policy's dtype, its output is what the next convolution would cast it to anyway,
        # and the casts in and out, two passes over the map, go: with the pads built of slices
        # and the one-picture fused kernel (layers.py), 1.4-1.6x faster at 512 and 1024 px on a
        # 2-core CPU with AMX, within 0.002 of the multi-scale measure (bench/RESULTS.md)
        return InstanceNormalization(relu=relu, dtype=dtype, name=f"{name}_in")(x)

    rates = check_dilations(dilations)
    # a dilated 3x3 convolution reflects `rate` pixels of the quarter-resolution map, which needs
    # rate + 1 of them: 12 pixels of picture for rate 2 (the 8-pixel pictures the network takes are
    # reflected up to that, and cropped back at the end)
    minimum = MULTIPLE * (max(rates) + 1) if max(rates) > 1 else 0
    inputs = keras.Input(shape=(None, None, 3), name="rgb")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, dtype="float32", name="to_unit")(inputs)
    x = ReflectPadToMultiple(MULTIPLE, minimum, dtype="float32", name="pad_to_multiple")(x)
    x = norm(conv(x, c1, 9, name="c9s1"), "c9s1")
    x = norm(conv(x, c2, 3, 2, name="down1"), "down1")
    x = norm(conv(x, c3, 3, 2, name="down2"), "down2", dtype="float32")
    for i, rate in zip(range(1, RESIDUAL_BLOCKS + 1), rates):
        y = norm(conv(x, c3, 3, name=f"res{i}a", rate=rate), f"res{i}a")
        y = norm(conv(y, c3, 3, name=f"res{i}b", rate=rate), f"res{i}b", relu=False, dtype="float32")
        x = keras.layers.Add(dtype="float32", name=f"res{i}_add")([x, y])
    for i, filters in ((1, c2), (2, c1)):  # upsampling x2 and its 3x3 conv, worked out at the lower resolution
        x = UpsampleConv2D(filters, kernel_initializer=init(next(counter)), dtype=policy, name=f"up{i}")(x)
        x = norm(x, f"up{i}")
    # in bf16 under mixed_bfloat16: a fifth of the time, <0.1 level; over 2x2 blocks (the sides are
    # multiples of 4, and 8 more with the padding): 2.4x faster again
    x = conv(x, 3, 9, name="out", bias=True, kind=BlockConv2D)
    x = TanhToPixels(dtype="float32", name="to_pixels")(x)
    outputs = CropLike(dtype="float32", name="crop")([x, inputs])
    return keras.Model(inputs, outputs, name=MODEL_NAMES[width])


def network_width(model) -> str:
    """``"full"``, ``"half"`` or ``"quarter"``, read from the filters of ``model``'s first convolution."""
    filters = model.get_layer("c9s1").filters
    return next((name for name, channels in WIDTHS.items() if channels[0] == filters), f"{filters} filters")


def is_half_width(model) -> bool:
    """True when ``model`` is the half-width variant (its first convolution has 16 filters)."""
    return network_width(model) == "half"


def model_precision(model) -> str:
    return model.get_layer("c9s1").dtype_policy.name


def check_dilations(dilations) -> tuple[int, ...]:
    """``dilations`` (one rate per residual block, 1 or 2; None: all 1) as a tuple, checked."""
    if dilations is None:
        return (1,) * RESIDUAL_BLOCKS
    rates = tuple(dilations) if isinstance(dilations, (tuple, list)) else None
    if rates is None or len(rates) != RESIDUAL_BLOCKS or any(isinstance(r, bool) or r not in DILATION_RATES
                                                             for r in rates):
        raise SettingsError(f"dilations is {dilations!r}", f"give {RESIDUAL_BLOCKS} rates, each of "
                            f"{' or '.join(map(str, DILATION_RATES))}, e.g. 1,2,2,2,1")
    return tuple(int(r) for r in rates)


def network_dilations(model) -> tuple[int, ...]:
    """The dilation rate of each residual block's convolutions in ``model`` (all 1 but in a
    network built with ``dilations``)."""
    return tuple(model.get_layer(f"res{i}a").dilation_rate[0] for i in range(1, RESIDUAL_BLOCKS + 1))


def largest_dilation(model) -> int:
    """The largest of :func:`network_dilations`; 1 for a model without residual blocks (not built
    by :func:`build_transformer`)."""
    try:
        return max(network_dilations(model))
    except ValueError:
        return 1


def with_precision(model, precision: str):
    """The same network (same weights) under another precision; ``model`` itself if it matches.

    A network saved in an older layout (its output convolution or its first instance norm in
    float32 under a mixed policy, the output convolution not worked out over 2x2 blocks, ReLUs as
    layers of their own, or upsampling as a layer of its own before a convolution) is rebuilt too,
    so that it runs as fast as a new one; the weights are the same in every layout.
    """
    policy = resolve_precision(precision)
    older = any(isinstance(layer, (keras.layers.Activation, keras.layers.UpSampling2D)) for layer in model.layers)
    current = not older and isinstance(model.get_layer("out"), BlockConv2D)
    layout = {model_precision(model), *(model.get_layer(name).dtype_policy.name for name in ("out", "c9s1_in"))}
    if current and layout == {policy}:
        return model
    twin = build_transformer(width=network_width(model), precision=policy, dilations=network_dilations(model))
    twin.set_weights(model.get_weights())
    if hasattr(model, "_styletransfer_spikes"):  # the same weights: the same spike (models._with_spikes)
        object.__setattr__(twin, "_styletransfer_spikes", model._styletransfer_spikes)
    return twin


#: :func:`spike_free`'s defaults: the residual block from which the second stream runs, and the
#: largest standardised value it lets through (``bench/RESULTS.md``, "The white dabs").
SPIKE_FREE_FROM = 3
SPIKE_CAP = 6.0


def deep_norms(model, first_block: int = SPIKE_FREE_FROM) -> list:
    """The instance norms from residual block ``first_block`` on, where :func:`spike_free` clips;
    empty for a model without that block (not built by :func:`build_transformer`)."""
    norms = [layer for layer in model.layers if isinstance(layer, InstanceNormalization)]
    names = [layer.name for layer in norms]
    start = f"res{first_block}a_in"
    return norms[names.index(start):] if start in names else []


def _clipped_by_plain(cap: float):
    """The two streams' norm for :func:`_walk`: the stream as it is, and the clipped stream
    normalised by its statistics."""
    return lambda layer, xs: (layer(xs[0]), layer([xs[1], xs[0]], clip=cap))


def _walk(model, first_block: int, norm):
    """Rebuild ``model``'s graph on its own layers and weights, the instance norms from residual
    block ``first_block`` on replaced by ``norm(layer, (as it is, clipped))``, which returns the
    pair of outputs. Returns the pair of pictures and the norms' ``(name, clipped input, input as
    it is)``, or ``None`` for a model without that block (not built by :func:`build_transformer`)."""
    deep = {id(layer) for layer in deep_norms(model, first_block)}
    if not deep:
        return None
    source = model.inputs[0]
    streams = {id(source): (source, source)}  # a tensor of model's graph -> (as it is, clipped)
    norms = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        given = layer.input  # the layer's first call: model's own graph
        several = isinstance(given, (list, tuple))
        pairs = [streams[id(t)] for t in (given if several else [given])]
        plain, clipped = ([pair[k] for pair in pairs] for k in (0, 1))
        if id(layer) in deep:
            out = norm(layer, (plain[0], clipped[0]))
            norms.append((layer.name, clipped[0], plain[0]))
        elif all(p is c for p, c in zip(plain, clipped)):
            out = (layer(plain if several else plain[0]),) * 2
        else:
            out = layer(plain if several else plain[0]), layer(clipped if several else clipped[0])
        streams[id(layer.output)] = out
    return streams[id(model.outputs[0])], norms


def spike_free(model, *, statistics: dict | None = None, first_block: int = SPIKE_FREE_FROM,
               cap: float = SPIKE_CAP):
    """The same network (the same layers and weights) without its spikes: a model that paints what
    ``model`` paints, but where one spot of the picture would be a white or dark dab.

    A network whose every layer is normalised per picture learns to make one strong local spike,
    so that the spike sets each channel's variance in the deep instance norms (Karras et al. found
    it behind StyleGAN's "droplets"); at that spot the_scream paints a white blot. Here the layers
    before residual block ``first_block`` run once. From there two streams run side by side: the
    network as it is, which gives each instance norm its statistics, and a second stream that is
    normalised by those statistics, with each standardised value clipped to ``[-cap, cap]``.
    Where the spike does not reach, the two streams are the same; at the spike, the second paints
    what surrounds it. The layers from that block on run twice: about 1.6x the operations, 1.1-1.35x
    the time on a 2-core CPU.

    With ``statistics`` (:func:`spike_statistics` of this network) it is one pass, at the time of
    the network itself: each of those norms adds the spike's share of the statistics, measured
    once, to the picture's own, and clips as above. Its pictures are within a level or two of the
    two streams' (``bench/RESULTS.md``, "The spike in one pass"). A model without that block (not
    built by :func:`build_transformer`) is returned as it is.
    """
    if statistics is None:
        walked = _walk(model, first_block, _clipped_by_plain(cap))
    else:
        def norm(layer, xs):
            offset = np.array([statistics[layer.name]["mean"], statistics[layer.name]["var"]], "float32")
            return (layer(xs[1], clip=cap, offset=offset),) * 2
        walked = _walk(model, first_block, norm)
    if walked is None:
        return model
    return keras.Model(model.inputs[0], walked[0][1], name=f"{model.name}_spike_free")


def spike_statistics(model, pictures, *, first_block: int = SPIKE_FREE_FROM, cap: float = SPIKE_CAP) -> dict:
    """What the spike adds to each deep instance norm's statistics, for :func:`spike_free`'s one pass.

    For each picture (RGB arrays in ``[0, 255]``, such as 512 px training photos), the two streams
    of :func:`spike_free` give each norm's per-channel mean and variance with the spike and
    without it; the differences' medians over the pictures are returned, as
    ``{norm name: {"mean": [...], "var": [...]}}`` (JSON-ready; empty for a model without the
    blocks). The spike's share of the variance hardly depends on the picture or its size: taken
    from 12 photos at 512 px, it serves held-out photos at 256 to 1024 px.
    """
    walked = _walk(model, first_block, _clipped_by_plain(cap))
    if walked is None:
        return {}
    names = [name for name, _, _ in walked[1]]
    probe = keras.Model(model.inputs[0], [t for _, clipped, plain in walked[1] for t in (clipped, plain)])
    shifts = {name: ([], []) for name in names}
    for picture in pictures:
        maps = [np.asarray(t).astype(np.float64)[0]
                for t in probe(np.asarray(picture, np.float32)[None], training=False)]
        for name, clipped, plain in zip(names, maps[0::2], maps[1::2]):
            shifts[name][0].append(plain.mean((0, 1)) - clipped.mean((0, 1)))
            shifts[name][1].append(plain.var((0, 1)) - clipped.var((0, 1)))
    return {name: {"mean": [float(f"{v:.5g}") for v in np.median(means, 0)],
                   "var": [float(f"{v:.5g}") for v in np.maximum(np.median(variances, 0), 0.0)]}
            for name, (means, variances) in shifts.items()}


def layer_table(model, height: int = 256, width: int = 256) -> list[dict]:
    """The network layer by layer for one picture size: name, kind, output shape, parameters.

    Padding, cropping and activation layers are folded into the rows of the layers they serve,
    so the table reads like the paper's (c9s1-32, d64, d128, R128 x 5, u64, u32, c9s1-3).
    """
    if min(height, width) < MIN_NETWORK_SIDE:
        raise SettingsError(f"a {width}x{height} picture is too small for the table",
                            f"use at least {MIN_NETWORK_SIDE} pixels on each side")
    shown = [layer for layer in model.layers
             if isinstance(layer, (keras.layers.Conv2D, keras.layers.UpSampling2D, keras.layers.Add, UpsampleConv2D))
             or type(layer).__name__ in ("ReflectPadToMultiple", "InstanceNormalization", "TanhToPixels", "CropLike")]
    probe = keras.Model(model.inputs, [layer.output for layer in shown])
    outputs = probe([np.zeros((1, height, width, 3), np.float32)], training=False)
    rows = []
    for layer, out in zip(shown, outputs):
        kind = type(layer).__name__
        if isinstance(layer, keras.layers.Conv2D):
            k, st = layer.kernel_size[0], layer.strides[0]
            kind = (f"conv {k}x{k}" + (f", stride {st}" if st > 1 else "") + (f", dilation {layer.dilation_rate[0]}"
                    if layer.dilation_rate[0] > 1 else "") + ", reflection padding")
        elif isinstance(layer, keras.layers.UpSampling2D):  # older files
            kind = "nearest-neighbour upsampling x2"
        elif isinstance(layer, UpsampleConv2D):
            kind = "nearest-neighbour upsampling x2, conv 3x3, reflection padding"
        elif isinstance(layer, keras.layers.Add):
            kind = "residual sum"
        elif kind == "InstanceNormalization":
            relu = layer.relu or f"{layer.name[:-3]}_relu" in {m.name for m in model.layers}  # older files: a layer
            kind = "instance norm" + (" + ReLU" if relu else "")
        elif kind == "TanhToPixels":
            kind = "127.5 (tanh + 1): pixels in [0, 255]"
        elif kind == "ReflectPadToMultiple":
            kind = f"reflection-pad the sides to multiples of {layer.multiple}" + (
                f", at least {layer.minimum}" if getattr(layer, "minimum", 0) else "")
        elif kind == "CropLike":
            kind = "crop back to the input size"
        rows.append({"layer": layer.name, "kind": kind, "output": "x".join(map(str, out.shape[1:])),
                     "parameters": int(sum(np.prod(w.shape) for w in layer.weights))})
    return rows
