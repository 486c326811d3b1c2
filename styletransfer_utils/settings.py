"""The settings objects: :class:`Settings` for a Gatys run, :class:`TrainSettings` for training.

The command-line flags, the notebooks and the sliders all fill these same dataclasses, with the
same names: ``--style-weight`` is ``Settings.style_weight`` is the "style weight" slider. Each
field carries its help text, from which the command line is generated, so a new setting is one
edit here. Nothing in this module imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from functools import partial

from .checks import (STYLE_ERRORS, boolean, choice, int_in_range, non_negative, positive, relative_weights,
                     whole_number_tuple)
from .errors import SettingsError
from .limits import MAX_SIZE, MIN_SIZE

#: Johnson et al.'s layers (VGG-16's relu2_2 and relu1_2, relu2_2, relu3_3, relu4_3, taken from
#: VGG19 by name): content at relu2_2, style at relu1_2, relu2_2, relu3_3, relu4_3.
JOHNSON_CONTENT_LAYERS = ("block2_conv2",)
JOHNSON_STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")

#: The network a new one starts from by default (``TrainSettings.init``): a shipped network.
INIT_NETWORK = "starry_night"

#: Layers used by Gatys et al. (2016): conv4_2 for content, conv1_1..conv5_1 for style.
DEFAULT_CONTENT_LAYERS = ("block4_conv2",)
DEFAULT_STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
#: The ``styletransfer`` default (:class:`Settings`) departs from the paper in two places. Content is
#: held at conv5_2 as well as conv4_2, at half conv4_2's weight, and conv5_1 counts 0.3 of each other
#: style layer. conv5_1 sees whole eyes and faces, and matching its Gram matrix at full weight pasted
#: a figurative painting's sitter into the photo; conv5_2 keeps the photo's own objects in their place
#: (bench/RESULTS.md, "Paint the manner, not the objects"). Other layers get equal weights.
GATYS_CONTENT_LAYERS = ("block4_conv2", "block5_conv2")
GATYS_CONTENT_LAYER_WEIGHTS = (1.0, 0.5)
GATYS_STYLE_LAYER_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.3)

OPTIMIZERS = ("lbfgs", "adam")
PRECISIONS = ("auto", "mixed_bfloat16", "mixed_float16", "float32")
POOLINGS = ("max", "avg")
#: What a feed-forward network does with its spikes (``stylize_fast(spikes=...)``).
SPIKES = ("clip", "keep")
INITS = ("content", "noise")
#: ``preserve_colors`` and ``color_transform`` (see :mod:`.control`, which also defines them).
PRESERVE_COLORS = ("luminance", "match")
COLOR_TRANSFORMS = ("symmetric", "cholesky")
#: ``style_loss``: what "style" means (see :mod:`.core.style_targets`, which computes each).
STYLE_LOSSES = ("gram", "meanstd", "w2", "histogram", "sliced")


def _option(default, help: str, **more):
    """A settings field: its default and its help text (the command line's ``--help`` reads it).

    ``more`` may say how the command line parses it: ``csv=str`` or ``csv=float`` for a
    comma-separated tuple, ``metavar`` for its placeholder.
    """
    return field(default=default, metadata={"help": help, **more})


@dataclass(frozen=True)
class Settings:
    """Everything that decides the result of one style-transfer run.

    Weights multiply the loss terms defined in :mod:`styletransfer_utils.core.losses`; with the
    default normalisations they work across image sizes. ``steps`` counts loss evaluations
    (one forward and backward pass of VGG19) for both optimisers, so runs are comparable.
    Each field is one option of the ``styletransfer`` command (``style_weight`` is
    ``--style-weight``) and one slider of the notebooks.
    """

    size: int = _option(512, "long side of the output in pixels")
    steps: int = _option(160, "loss evaluations (forward+backward passes of VGG19), over all sizes")
    sizes: tuple[int, ...] | None = _option(None, "long sides of the coarse-to-fine schedule, ending at --size "
                                            "(default: from 128 px in steps of sqrt(2); --sizes 512 for one size)",
                                            csv=int, metavar="S1,S2,...", none="128, 181, ... --size")
    size_steps: tuple[int, ...] | None = _option(None, "evaluations at each size of the schedule (default: --steps "
                                                 "split, most at the small sizes; above 512 px as many as at 512)",
                                                 csv=int, metavar="N1,N2,...")
    optimizer: str = _option("lbfgs", "lbfgs (the paper's) or adam")
    learning_rate: float = _option(8.0, "Adam's step size in pixel units")
    average: float = _option(0.0, "Adam only: each size's picture is the exponential moving average of Adam's "
                             "iterates with this decay, scored by the size's last evaluation (0: off, the iterate "
                             "of lowest loss; e.g. 0.9)")
    content_weight: float = _option(1.0, "weight of the content loss")
    style_weight: float = _option(8.0, "weight of the style loss")
    tv_weight: float = _option(1e-5, "weight of the total-variation (smoothness) loss")
    relative_losses: bool = _option(True, "divide each layer's content and style error by its target's size, so "
                                    "every layer counts alike (the paper's absolute Gram error is dominated by "
                                    "conv4_1)")
    style_error: str = _option("squared", "each style layer's term, with --relative-losses: squared (the squared "
                               "relative Gram error) or norm (the relative Gram error itself, as the quality measure "
                               "scores it; what a network trained with --style-error norm learnt)")
    content_layers: tuple[str, ...] = _option(GATYS_CONTENT_LAYERS, "comma-separated VGG19 layers for content, "
                                              "e.g. conv4_2", csv=str, metavar="LAYERS")
    content_layer_weights: tuple[float, ...] | None = _option(None, "comma-separated weights, one per content layer",
                                                              csv=float, metavar="W1,W2,...",
                                                              none="1,0.5 for conv4_2,conv5_2; else equal")
    style_layers: tuple[str, ...] = _option(DEFAULT_STYLE_LAYERS, "comma-separated VGG19 layers for style, e.g. "
                                            "conv1_1,conv2_1,conv3_1,conv4_1,conv5_1", csv=str, metavar="LAYERS")
    style_layer_weights: tuple[float, ...] | None = _option(None, "comma-separated weights, one per style layer",
                                                            csv=float, metavar="W1,W2,...",
                                                            none="1,1,1,1,0.3 for conv1_1 ... conv5_1; else equal")
    init: str = _option("content", "starting picture: content, noise, or a picture file")
    style_blend_weights: tuple[float, ...] | None = _option(None, "comma-separated weights, one per style picture "
                                                            "(default: equal)", csv=float, metavar="W1,W2,...")
    style_loss: str = _option("gram", "what style is: gram (Gram matrices, the paper's), meanstd (each channel's mean "
                              "and standard deviation), w2 (Wasserstein-2 distance of the features' Gaussians), "
                              "histogram (each channel's histogram) or sliced (sliced Wasserstein)",
                              metavar="gram|meanstd|w2|histogram|sliced")
    style_scale: float = _option(1.0, "style picture size relative to the output's long side")
    preserve_colors: str | None = _option(None, "keep the content's colours: luminance (stylise light and dark only, "
                                          "keep the photo's colours) or match (recolour the style pictures to the "
                                          "photo's palette first)", type=str, none="off", metavar="luminance|match")
    color_transform: str = _option("symmetric", "the recolouring of --preserve-colors match: symmetric (matrix "
                                   "square roots, the image-analogies transform of the paper) or cholesky", metavar="symmetric|cholesky")
    style_masks: tuple | None = _option(None, "one mask picture per style (white: that style, black: none; a place "
                                        "no mask covers keeps the content), or one label picture with a colour per "
                                        "style", csv=str, metavar="MASK1,MASK2,...", none="the whole picture")
    pooling: str = _option("max", "max or avg (average pooling, which the paper recommends)")
    precision: str = _option("auto", "auto (bf16 where the hardware is fast at it), mixed_bfloat16, mixed_float16 "
                             "or float32")
    jit_compile: bool = _option(False, "compile the step with XLA")
    seed: int | None = _option(None, "random seed for repeatable noise initialisation (and --style-loss sliced's "
                               "directions, 0 without it)", type=int)
    # the command line's --save-every; in Python, pass a SaveEvery callback
    save_every: int = _option(0, "also save the picture every N steps next to the output (0: never)")

    def replace(self, **changes) -> "Settings":
        """A copy with some fields changed (and checked)."""
        return replace_fields(self, changes)

    def __post_init__(self):
        """Check every field once, here; raise :class:`SettingsError` on the first bad one. Fields
        given in another form (a list, a layer's paper name) are stored in their one form."""
        _set = partial(object.__setattr__, self)
        int_in_range("size", self.size, MIN_SIZE, MAX_SIZE)
        int_in_range("steps", self.steps, 1, 1_000_000)
        choice("optimizer", self.optimizer, OPTIMIZERS)
        choice("precision", self.precision, PRECISIONS)
        choice("pooling", self.pooling, POOLINGS)
        for name in ("content_weight", "style_weight", "tv_weight"):
            non_negative(name, getattr(self, name))
        positive("learning_rate", self.learning_rate)
        if not isinstance(self.average, numbers.Real) or isinstance(self.average, bool) or not 0 <= self.average < 1:
            raise SettingsError(f"average is {self.average!r}", "use a decay from 0 (off) to below 1, e.g. 0.9")
        if self.average and self.optimizer != "adam":
            raise SettingsError(f"average {self.average:g} is for Adam's iterates and the optimizer is "
                                f"{self.optimizer}", "add --optimizer adam, or leave --average out")
        positive("style_scale", self.style_scale)
        if self.size * self.style_scale > MAX_SIZE:  # the style picture's long side (at least 32 px)
            raise SettingsError(f"style_scale {self.style_scale:g} makes the style picture "
                                f"{self.size * self.style_scale:.0f} px at size {self.size}",
                                f"keep size x style_scale at most {MAX_SIZE} pixels")
        if self.seed is not None:
            int_in_range("seed", self.seed, 0, 2**32 - 1)
        int_in_range("save_every", self.save_every, 0, 1_000_000)
        sizes, size_steps = _check_schedule(self)
        _set("sizes", sizes)
        _set("size_steps", size_steps)
        for name in ("jit_compile", "relative_losses"):
            boolean(name, getattr(self, name))
        content_layers, style_layers = resolve_loss_layers(self, ("conv4_2", "conv1_1"))
        _set("content_layers", content_layers)
        _set("style_layers", style_layers)
        _check_layer_weights(self)
        if self.style_blend_weights is not None:
            _set("style_blend_weights", relative_weights("style_blend_weights", self.style_blend_weights,
                                                         "style blend weight", "style picture"))
        if self.preserve_colors is not None:
            choice("preserve_colors", self.preserve_colors, PRESERVE_COLORS)
        choice("color_transform", self.color_transform, COLOR_TRANSFORMS)
        choice("style_loss", self.style_loss, STYLE_LOSSES)
        _check_style_error(self)
        if self.style_masks is not None:
            if isinstance(self.style_masks, (str, bytes)) or not hasattr(self.style_masks, "__len__"):
                raise SettingsError(f"style_masks is {self.style_masks!r}",
                                    "give a tuple with one mask (a path or an array) per style picture")
            if len(self.style_masks) == 0:
                raise SettingsError("style_masks is empty", "give one mask per style picture, or None for no masks")
            _set("style_masks", tuple(self.style_masks))
        if not isinstance(self.init, str) or not self.init.strip():
            raise SettingsError(f"init is {self.init!r}", "use 'content', 'noise' or a picture's path")

    def layer_weights(self) -> dict[str, float]:
        """Per-style-layer weights, normalised to sum to one: ``style_layer_weights``, or by default
        1,1,1,1,0.3 for conv1_1 ... conv5_1 and equal weights for other layers."""
        return _normalised(self.style_layers, self.style_layer_weights, DEFAULT_STYLE_LAYERS, GATYS_STYLE_LAYER_WEIGHTS)

    def content_weights(self) -> dict[str, float]:
        """Per-content-layer weights, normalised to sum to one: ``content_layer_weights``, or by
        default 1,0.5 for conv4_2,conv5_2 and equal weights for other layers."""
        return _normalised(self.content_layers, self.content_layer_weights, GATYS_CONTENT_LAYERS,
                           GATYS_CONTENT_LAYER_WEIGHTS)

    def blend_weights(self, n_styles: int) -> list[float]:
        """Weights for ``n_styles`` style images, normalised to sum to one (equal by default)."""
        raw = self.style_blend_weights or (1.0,) * n_styles
        if len(raw) != n_styles:
            raise SettingsError(
                f"{len(raw)} style blend weights for {n_styles} style images",
                "give one blend weight per style image",
            )
        total = sum(raw)
        return [w / total for w in raw]


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides the result of training one transformation network.

    The CLI flags of ``styletransfer train`` are these fields (``--batch-size`` is
    ``batch_size``). Loss terms and their normalisations are those of :mod:`.losses`; the
    style loss is averaged over the batch and its layers (equal weights, unless given).
    """

    # 33.5 minutes for a new style on a 2-core CPU with AMX, from a shipped network (bench/RESULTS.md);
    # a CPU without bf16 does fewer in time_limit's minutes
    steps: int = _option(3_000, "optimisation steps (batches)")
    # bench/RESULTS.md, "A new style on a CPU without bf16": a 2-core AVX2 CPU does 1 crop/s, not 6
    time_limit: float = _option(50.0, "minutes the run may take: once the first steps are timed, --steps is cut "
                                "to what fits, and fitted again where the steps slow down or speed up, and the learning rate falls "
                                "over the steps that are left (0: no limit, all --steps)", metavar="MINUTES")
    batch_size: int = _option(4, "photos per step")
    crop_size: int = _option(256, "side of the random crops")
    style_size: int = _option(512, "long side of the style picture")
    learning_rate: float = _option(1e-3, "Adam's step size")
    final_learning_rate: float | None = _option(1e-5, "Adam's step size at the last step: it falls from "
                                                "--learning-rate to this along a half cosine (--learning-rate's "
                                                "value: constant)", type=float, metavar="RATE")
    content_weight: float = _option(1.0, "weight of the content loss")
    style_weight: float = _option(5.0, "weight of the style loss")
    tv_weight: float = _option(1e-5, "weight of the total-variation loss")
    # bench/RESULTS.md, "The white dabs": 50 took the_scream's away in 900 steps, for 0.06x more
    # style error against the Gatys picture than the same steps without it
    spike_weight: float = _option(0.0, "weight of a term against the one-spot spikes in the instance norms that "
                                  "paint white dabs (0: off; 50 removes them)")
    relative_losses: bool = _option(True, "divide each layer's content and style error by its target's size, as "
                                    "Gatys runs do (--no-relative-losses: the absolute errors of Johnson et al.)")
    # bench/RESULTS.md, "Networks on the measure's own style term": up to 0.15x nearer Gatys in style
    style_error: str | None = _option(None, "each style layer's term: squared (the squared relative Gram error) or "
                                      "norm (the relative Gram error itself, per picture, as the project's quality "
                                      "measure scores it: a layer's pull no longer grows with its error, so the fine "
                                      "layers count as much as conv5_1)", type=str,
                                      none="norm; squared with --no-relative-losses", metavar="squared|norm")
    # bench/RESULTS.md, "The style term at three sizes": the_scream 0.05-0.15x nearer Gatys in style
    # (going on from itself); not the default: "... for a new style" bought nothing in the default's 50 minutes
    style_scales: tuple[int, ...] = _option((1,), "comma-separated sizes the style term is scored at, as factors "
                                            "to shrink the network's output by (1,2,4: the mean of the term at full, "
                                            "half and a quarter size, as the quality measure scores; the larger "
                                            "strokes count too; about 15% slower; needs --style-error norm)",
                                            csv=int, metavar="1,2,...")
    # bench/RESULTS.md, "Where the_scream's style gain came from": no frame, and no nearer Gatys in style
    crop_margin: int = _option(0, "pixels of photo around each crop that the network paints and the loss leaves "
                               "out: the loss scores a crop at a random place inside them, so the network cannot "
                               "tell where its scored picture ends and paint a frame there (0: none)", metavar="PIXELS")
    content_layers: tuple[str, ...] = _option(DEFAULT_CONTENT_LAYERS, "comma-separated VGG19 layers for content",
                                              csv=str, metavar="LAYERS")
    content_layer_weights: tuple[float, ...] | None = _option(None, "comma-separated weights, one per content layer",
                                                              csv=float, metavar="W1,W2,...", none="equal")
    style_layers: tuple[str, ...] = _option(DEFAULT_STYLE_LAYERS, "comma-separated VGG19 layers for style",
                                            csv=str, metavar="LAYERS")
    style_layer_weights: tuple[float, ...] | None = _option(None, "comma-separated weights, one per style layer "
                                                            "(the Gatys default's: 1,1,1,1,0.3)", csv=float,
                                                            metavar="W1,W2,...", none="equal")
    init: str | None = _option(INIT_NETWORK, "start from this network (a model file or a shipped name): it already "
                               "knows photos, so a new style trains in an hour on a CPU; random: from random weights",
                               type=str, none="random weights", metavar="MODEL")
    half_width: bool = _option(True, "half the channels (16/32/64), as the shipped networks: about 2.5x faster to "
                               "run (--no-half-width: the paper's 32/64/128, with --init random)")
    precision: str = _option("auto", "VGG19's precision: auto, mixed_bfloat16, mixed_float16 or float32")
    transformer_precision: str = _option("same", "the network's precision: same (as --precision) or one of those")
    pooling: str = _option("max", "VGG19 pooling: max or avg")
    checkpoint_every: int = _option(500, "save a checkpoint every N steps (0: only at the end)")
    preview_every: int = _option(500, "stylise the preview picture every N steps, next to the model (0: never)")
    seed: int | None = _option(None, "random seed for initialisation and crops", type=int, none="random")

    def replace(self, **changes) -> "TrainSettings":
        """A copy with some fields changed (and checked)."""
        return replace_fields(self, changes)

    def __post_init__(self):
        """Check every field once, here; raise :class:`SettingsError` on the first bad one."""
        _set = partial(object.__setattr__, self)
        int_in_range("steps", self.steps, 1, 10_000_000)
        non_negative("time_limit", self.time_limit)
        int_in_range("batch_size", self.batch_size, 1, 256)
        int_in_range("crop_size", self.crop_size, 32, 2048)
        int_in_range("style_size", self.style_size, 32, 4096)
        int_in_range("crop_margin", self.crop_margin, 0, self.crop_size)
        positive("learning_rate", self.learning_rate)
        if self.final_learning_rate is not None:
            non_negative("final_learning_rate", self.final_learning_rate)
            if self.final_learning_rate > self.learning_rate:
                raise SettingsError(f"final_learning_rate {self.final_learning_rate:g} is above the starting rate "
                                    f"{self.learning_rate:g}", "give a final rate at most the starting one")
        for name in ("content_weight", "style_weight", "tv_weight", "spike_weight"):
            non_negative(name, getattr(self, name))
        if self.content_weight == 0 and self.style_weight == 0:
            raise SettingsError("content and style weights are both zero", "make at least one of them positive")
        choice("precision", self.precision, PRECISIONS)
        choice("transformer_precision", self.transformer_precision, ("same",) + PRECISIONS)
        choice("pooling", self.pooling, POOLINGS)
        boolean("relative_losses", self.relative_losses)
        if self.style_error is None:
            _set("style_error", "norm" if self.relative_losses else "squared")
        _check_style_error(self)
        _set("style_scales", _style_scales(self))
        int_in_range("checkpoint_every", self.checkpoint_every, 0, 10_000_000)
        int_in_range("preview_every", self.preview_every, 0, 10_000_000)
        boolean("half_width", self.half_width)
        if self.init is not None and (not isinstance(self.init, str) or not self.init.strip()):
            raise SettingsError(f"init is {self.init!r}", "give a model file, a shipped network's name, or random")
        if isinstance(self.init, str) and self.init.strip().lower() in ("random", "none"):
            _set("init", None)
        if self.seed is not None:
            int_in_range("seed", self.seed, 0, 2**31 - 1)
        content_layers, style_layers = resolve_loss_layers(self, ("relu2_2", "relu1_2"))
        _set("content_layers", content_layers)
        _set("style_layers", style_layers)
        _check_layer_weights(self)

    def learning_rate_at(self, step: int, steps: int | None = None) -> float:
        """Adam's step size for step ``step`` (from 0) of a run of ``steps`` (``self.steps``): constant,
        or falling from ``learning_rate`` to ``final_learning_rate`` along a half cosine."""
        if self.final_learning_rate is None:
            return self.learning_rate
        return half_cosine(step, self.steps if steps is None else steps, self.learning_rate, self.final_learning_rate)

    def layer_weights(self) -> dict[str, float]:
        """Per-style-layer weights, normalised to sum to one: ``style_layer_weights``, or equal."""
        return _normalised(self.style_layers, self.style_layer_weights, (), ())

    def content_weights(self) -> dict[str, float]:
        """Per-content-layer weights, normalised to sum to one: ``content_layer_weights``, or equal."""
        return _normalised(self.content_layers, self.content_layer_weights, (), ())

    @property
    def style_loss(self) -> str:
        """Networks learn Gram matrices only (``Settings.style_loss`` offers the others to Gatys runs)."""
        return "gram"

    def vgg_precision(self) -> str:
        from .device import resolve_precision

        return resolve_precision(self.precision)

    def net_precision(self) -> str:
        from .device import resolve_precision

        return self.vgg_precision() if self.transformer_precision == "same" else resolve_precision(self.transformer_precision)


def gatys_settings(settings: TrainSettings | None = None, **changes) -> Settings:
    """Gatys settings that optimise exactly the objective a network was trained with.

    Same content/style/TV weights, layers and pooling; the picture starts from the content photo
    and the style picture is resized to the output's long side, as in training (``style_size``
    512 for a 512 px picture). ``changes`` override any field (``steps=200, size=512``). A network
    trained with ``style_scales`` also scored its style at smaller sizes; a Gatys run scores it at
    its own size alone, so these settings give that full-size part of the objective.
    """
    t = settings or TrainSettings()
    base = dict(content_weight=t.content_weight, style_weight=t.style_weight, tv_weight=t.tv_weight,
                content_layers=t.content_layers, style_layers=t.style_layers, pooling=t.pooling,
                content_layer_weights=tuple(t.content_weights().values()),
                style_layer_weights=tuple(t.layer_weights().values()),
                precision=t.precision, init="content", relative_losses=t.relative_losses, style_error=t.style_error)
    return Settings(**{**base, **changes})


def _style_scales(t: "TrainSettings") -> tuple[int, ...]:
    """``style_scales`` as a tuple of whole numbers: 1 first, then larger factors, each leaving a
    shrunk crop and style picture of at least 16 pixels (VGG19's four poolings leave one at conv5_1);
    other than (1,) only with the norm form."""
    scales = whole_number_tuple("style_scales", t.style_scales, "such as 1,2,4")
    smallest = min(t.crop_size, t.style_size)
    if not scales or scales[0] != 1 or list(scales) != sorted(set(scales)) or smallest // scales[-1] < 16:
        raise SettingsError(f"style_scales is {','.join(map(str, scales))}",
                            f"give 1 then larger factors, in order, up to {max(smallest // 16, 1)} (such as 1,2,4)")
    if scales != (1,) and t.style_error != "norm":
        raise SettingsError(f"style_scales {','.join(map(str, scales))} with the {t.style_error} style error",
                            "add --style-error norm (the default with relative losses)")
    return scales


def _check_style_error(settings) -> None:
    """``style_error``: squared, or norm with relative losses and one Gram matrix per layer (no masks)."""
    choice("style_error", settings.style_error, STYLE_ERRORS)
    if settings.style_error == "squared":
        return
    if not settings.relative_losses:
        raise SettingsError("style_error norm with relative_losses off",
                            "norm is a relative error: leave --no-relative-losses out")
    if settings.style_loss != "gram" or getattr(settings, "style_masks", None) is not None:
        raise SettingsError("style_error norm with " + ("style masks" if settings.style_loss == "gram" else
                                                        f"style_loss {settings.style_loss}"),
                            "norm is for Gram matrices of the whole picture: use style_error squared")


def _check_layer_weights(settings) -> None:
    """Check ``content_layer_weights`` and ``style_layer_weights`` where given (None: the defaults)."""
    for kind in ("content", "style"):
        given = getattr(settings, f"{kind}_layer_weights")
        if given is not None:
            object.__setattr__(settings, f"{kind}_layer_weights",
                               _layer_weights(kind, given, getattr(settings, f"{kind}_layers")))


def _layer_weights(kind: str, given, layers) -> tuple[float, ...]:
    """``content_layer_weights`` or ``style_layer_weights``, checked against the layers."""
    weights = relative_weights(f"{kind}_layer_weights", given, f"{kind} layer weight", f"{kind} layer")
    if len(weights) != len(layers):
        raise SettingsError(f"{len(weights)} {kind} layer weights for {len(layers)} {kind} layers",
                            f"give one weight per {kind} layer")
    return weights


def _normalised(layers, weights, default_layers, default_weights) -> dict[str, float]:
    """``{layer: weight}`` summing to one; ``weights`` None: the defaults for the default layers, else equal."""
    if weights is None:
        weights = default_weights if tuple(layers) == tuple(default_layers) else (1.0,) * len(layers)
    total = sum(weights)
    return {name: w / total for name, w in zip(layers, weights)}


def half_cosine(step: int, steps: int, start: float, end: float) -> float:
    """A rate falling from ``start`` at step 0 to ``end`` at step ``steps`` along a half cosine
    (held at ``end`` after it)."""
    done = min(max(step / max(steps, 1), 0.0), 1.0)
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * done))


def _check_schedule(settings) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
    sizes, counts = settings.sizes, settings.size_steps
    if sizes is not None:
        sizes = tuple(whole_number_tuple("sizes", sizes, "one long side per size"))
        if not sizes:
            raise SettingsError("sizes is empty", f"give sizes ending at size, e.g. 256,{settings.size}")
        for n in sizes:
            int_in_range("sizes", n, MIN_SIZE, MAX_SIZE)
        if list(sizes) != sorted(set(sizes)):
            raise SettingsError(f"sizes {','.join(map(str, sizes))} do not grow", "list them smallest first, each once")
        if sizes[-1] != settings.size:
            raise SettingsError(f"sizes end at {sizes[-1]}, not at size {settings.size}",
                                f"end the schedule at the output size, e.g. {','.join(map(str, sizes[:-1] + (settings.size,)))}")
    if counts is not None:
        counts = tuple(whole_number_tuple("size_steps", counts, "one number of evaluations per size"))
        from .gatys.schedule import size_schedule

        expected = len(sizes or size_schedule(settings.size))
        if len(counts) != expected:
            raise SettingsError(f"{len(counts)} size steps for {expected} sizes", "give one number per size of the schedule")
        for n in counts:
            int_in_range("size_steps", n, 1, 1_000_000)
    return sizes, counts


def resolve_loss_layers(settings, examples=("conv4_2", "conv1_1")) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Check and resolve ``settings.content_layers``/``style_layers`` to Keras layer names.

    A loss with a positive weight needs at least one layer; ``examples`` name a content and a
    style layer for the fix in the error message.
    """
    from .core.features import resolve_layer_name

    for kind in ("content_layers", "style_layers"):
        if isinstance(getattr(settings, kind), str):
            raise SettingsError(f"{kind} is the string {getattr(settings, kind)!r}",
                                f"give a tuple of layer names, e.g. ({getattr(settings, kind)!r},)")
    if not settings.content_layers and settings.content_weight > 0:
        raise SettingsError("no content layers given", f"name at least one layer, e.g. {examples[0]}")
    if not settings.style_layers and settings.style_weight > 0:
        raise SettingsError("no style layers given", f"name at least one layer, e.g. {examples[1]}")
    return (tuple(resolve_layer_name(n) for n in settings.content_layers),
            tuple(resolve_layer_name(n) for n in settings.style_layers))


def replace_fields(settings, changes: dict):
    """``dataclasses.replace`` that names a misspelt field (and the closest real one) in one line."""
    import difflib

    names = [f.name for f in dataclasses.fields(settings)]
    for name in changes:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            raise SettingsError(f"{type(settings).__name__} has no setting {name!r}",
                                f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(names)}")
    return dataclasses.replace(settings, **changes)


__all__ = ["Settings", "TrainSettings", "gatys_settings", "DEFAULT_CONTENT_LAYERS", "DEFAULT_STYLE_LAYERS",
           "GATYS_CONTENT_LAYERS", "GATYS_CONTENT_LAYER_WEIGHTS", "GATYS_STYLE_LAYER_WEIGHTS",
           "JOHNSON_CONTENT_LAYERS", "JOHNSON_STYLE_LAYERS"]
