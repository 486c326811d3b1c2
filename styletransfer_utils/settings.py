"""The one settings object that describes a Gatys run.

The command-line flags, the notebooks and the sliders all fill this same dataclass, with the
same names: ``--style-weight`` is ``Settings.style_weight`` is the "style weight" slider.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from .errors import SettingsError

#: Layers used by Gatys et al. (2016): conv4_2 for content, conv1_1..conv5_1 for style.
DEFAULT_CONTENT_LAYERS = ("block4_conv2",)
DEFAULT_STYLE_LAYERS = (
    "block1_conv1",
    "block2_conv1",
    "block3_conv1",
    "block4_conv1",
    "block5_conv1",
)

OPTIMIZERS = ("lbfgs", "adam")
PRECISIONS = ("auto", "mixed_bfloat16", "mixed_float16", "float32")
POOLINGS = ("max", "avg")
INITS = ("content", "noise")

MIN_SIZE = 32  # VGG19 halves the picture five times; below this the deepest maps vanish
MAX_SIZE = 4096


@dataclass
class Settings:
    """Everything that decides the result of one style-transfer run.

    Weights multiply the loss terms defined in :mod:`styletransfer_utils.losses`; with the
    default normalisations they work across image sizes. ``steps`` counts loss evaluations
    (one forward and backward pass of VGG19) for both optimisers, so runs are comparable.
    """

    size: int = 512
    steps: int = 120
    optimizer: str = "lbfgs"
    learning_rate: float = 8.0
    content_weight: float = 1.0
    style_weight: float = 5e-4
    tv_weight: float = 1e-3
    content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    style_layer_weights: tuple[float, ...] | None = None
    init: str = "content"
    style_blend_weights: tuple[float, ...] | None = None
    style_scale: float = 1.0
    pooling: str = "max"
    precision: str = "auto"
    jit_compile: bool = False
    seed: int | None = None
    save_every: int = 0  # the command line's --save-every; in Python, pass a SaveEvery callback

    def replace(self, **changes) -> "Settings":
        """A copy with some fields changed (and validated)."""
        return replace_fields(self, changes)

    def validated(self) -> "Settings":
        """Check every field and return ``self``; raise :class:`SettingsError` on the first bad one."""
        _int_in_range("size", self.size, MIN_SIZE, MAX_SIZE)
        _int_in_range("steps", self.steps, 1, 1_000_000)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("precision", self.precision, PRECISIONS)
        _choice("pooling", self.pooling, POOLINGS)
        for name in ("content_weight", "style_weight", "tv_weight"):
            _non_negative(name, getattr(self, name))
        _positive("learning_rate", self.learning_rate)
        _positive("style_scale", self.style_scale)
        if self.size * self.style_scale > MAX_SIZE:  # the style picture's long side (at least 32 px)
            raise SettingsError(f"style_scale {self.style_scale:g} makes the style picture "
                                f"{self.size * self.style_scale:.0f} px at size {self.size}",
                                f"keep size x style_scale at most {MAX_SIZE} pixels")
        if self.seed is not None:
            _int_in_range("seed", self.seed, 0, 2**32 - 1)
        _int_in_range("save_every", self.save_every, 0, 1_000_000)
        self.content_layers, self.style_layers = resolve_loss_layers(self, ("conv4_2", "conv1_1"))
        if self.style_layer_weights is not None:
            weights = _numbers("style_layer_weights", self.style_layer_weights, "one weight per style layer")
            if len(weights) != len(self.style_layers):
                raise SettingsError(
                    f"{len(weights)} style layer weights for {len(self.style_layers)} style layers",
                    "give one weight per style layer",
                )
            for w in weights:
                _non_negative("style layer weight", w)
            if sum(weights) <= 0:
                raise SettingsError("all style layer weights are zero", "make at least one positive")
            self.style_layer_weights = weights
        if self.style_blend_weights is not None:
            blend = _numbers("style_blend_weights", self.style_blend_weights, "one weight per style picture")
            for w in blend:
                _non_negative("style blend weight", w)
            if sum(blend) <= 0:
                raise SettingsError("all style blend weights are zero", "make at least one positive")
            self.style_blend_weights = blend
        if not isinstance(self.init, str) or not self.init.strip():
            raise SettingsError(f"init is {self.init!r}", "use 'content', 'noise' or a picture's path")
        return self

    def layer_weights(self) -> dict[str, float]:
        """Per-style-layer weights, normalised to sum to one (equal by default)."""
        raw = self.style_layer_weights or (1.0,) * len(self.style_layers)
        total = sum(raw)
        return {name: w / total for name, w in zip(self.style_layers, raw)}

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


def resolve_loss_layers(settings, examples=("conv4_2", "conv1_1")) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Check and resolve ``settings.content_layers``/``style_layers`` to Keras layer names.

    A loss with a positive weight needs at least one layer; ``examples`` name a content and a
    style layer for the fix in the error message.
    """
    from .features import resolve_layer_name

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
    return dataclasses.replace(settings, **changes).validated()


def _int_in_range(name: str, value, low: int, high: int) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or not low <= value <= high:
        raise SettingsError(f"{name} is {value!r}", f"use a whole number from {low} to {high}")


def _numbers(name: str, values, what: str) -> tuple[float, ...]:
    """A tuple of weights as floats, or a one-line error for a single number or a non-number."""
    try:
        return tuple(float(w) for w in values)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} is {values!r}", f"give a tuple of numbers, {what}") from None


def _choice(name: str, value, choices) -> None:
    if value not in choices:
        raise SettingsError(f"{name} is {value!r}", f"use one of: {', '.join(choices)}")


def _non_negative(name: str, value) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise SettingsError(f"{name} is {value!r}", "use a finite number >= 0")


def _positive(name: str, value) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} is {value!r}", "use a finite number > 0")


__all__ = ["Settings", "DEFAULT_CONTENT_LAYERS", "DEFAULT_STYLE_LAYERS"]
