"""The style-transfer objective, once: features, targets and weights -> the loss terms.

Lessons: ``notebooks/04_optimization_and_acceleration.ipynb`` (Gatys) and
``notebooks/06_feed_forward_networks.ipynb`` (Johnson et al.).

Both methods minimise the same sum::

    total = content_weight * sum_l v_l * content_loss(F_l, P_l)
          + style_weight   * sum_l w_l * layer_style_loss(F_l, A_l)
          + tv_weight      * total_variation_loss(picture)

Gatys et al. minimise it over the pixels of one picture (:mod:`..gatys`); Johnson et al. over
the weights of a network, on batches of photos (:mod:`.feedforward.trainer`), with the content
targets taken from the same forward pass. :class:`Objective` holds the weights and layers;
:meth:`Objective.terms` is written in ``keras.ops``, so the same code runs inside a
``tf.function`` here and under ``jax.jit`` on a GPU machine without TensorFlow
(``bench/jax_gpu.py``). The per-layer style terms are returned too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .losses import (content_loss, gram_matrix, guided_style_loss, layer_style_loss, relative_gram_error,
                     total_variation_loss)
from ..checks import STYLE_ERRORS
from ..errors import SettingsError
from .style_targets import (LOSSES, TARGET_TYPES, Moments, W2Targets, describe, layer_loss, prepare,
                            projection_directions, target_size)

#: The terms every optimiser reports, in this order (``Objective.stack``).
LOSS_TERMS = ("total", "content", "style", "tv")

#: mixed_float16 only: the starting loss scale. The losses are large (1e5-1e7 at the defaults),
#: so float16 gradients overflow rather than underflow: a scale above 1 makes them infinite.
#: Gatys' optimiser divides the scale by ``FLOAT16_SCALE_STEP`` whenever a gradient overflows
#: (down to ``FLOAT16_MIN_SCALE``); training uses Keras' dynamic loss scaling from this start.
FLOAT16_LOSS_SCALE = 1.0
FLOAT16_SCALE_STEP = 1024.0
FLOAT16_MIN_SCALE = 2.0**-40


class GuidedTargets(NamedTuple):
    """A style layer's targets when each style paints its own region (``Settings.style_masks``).

    ``grams`` ``(S, N, N)``: each style's Gram matrix; ``masks`` ``(S, h, w)``: each style's
    region at this layer's resolution; ``weights`` ``(S,)``: each style's weight.
    """

    grams: Any
    masks: Any
    weights: Any


class RegionTargets(NamedTuple):
    """:class:`GuidedTargets` for the style losses besides Gram (:mod:`.style_targets`):
    ``targets``, each style's targets (a tuple); ``masks`` ``(S, h, w)``; ``weights`` ``(S,)``."""

    targets: tuple
    masks: Any
    weights: Any


@dataclass(frozen=True)
class Objective:
    """The weights and layers of the objective; :meth:`terms` evaluates it.

    ``content_layers`` are averaged, or weighted by ``content_layer_weights``; ``style_layer_weights``
    maps each style layer to its weight ``w_l`` (both sum to one, in both methods). A term whose
    weight is zero has no layers.
    """

    content_weight: float
    style_weight: float
    tv_weight: float
    content_layers: tuple[str, ...] = ()
    style_layer_weights: dict = field(default_factory=dict)
    content_scales: dict | None = None  #: a factor per content layer (see :meth:`relative`); None: all 1
    #: for style layers with :class:`GuidedTargets`: a factor per style (see :meth:`relative`); None: all 1
    style_scales: dict | None = None
    #: "gram" (the paper's Gram-matrix loss), "meanstd" (each channel's mean and standard deviation),
    #: "w2" (the Wasserstein-2 distance of Gaussians fitted to the features), "histogram" (each channel's
    #: histogram) or "sliced" (sliced Wasserstein): ``Settings.style_loss``; see :mod:`.style_targets`
    style_loss: str = "gram"
    #: the seed of ``sliced``'s random directions (``Settings.seed``, or 0): fixed for a run
    projection_seed: int = 0
    #: the dtype the Gram matrices of the generated picture are multiplied in (:func:`.losses.gram_matrix`):
    #: "bfloat16" in Gatys runs under ``mixed_bfloat16``
    gram_dtype: str = "float32"
    #: each content layer's error divided by its target's mean square, taken from the targets of the
    #: same evaluation: how a network trains with relative losses (:meth:`relative_to_style`), where
    #: every batch has other content targets. Gatys runs fix ``content_scales`` once instead.
    content_relative: bool = False
    #: a weight per content layer, summing to one (``Settings.content_weights``); None: the layers averaged
    content_layer_weights: dict | None = None
    #: each style layer's term once :meth:`relative_to_style`: "squared" (``||G - A||^2 / ||A||^2``) or "norm"
    #: (``||G - A|| / ||A||`` per picture, :func:`.losses.relative_gram_error`: ``TrainSettings.style_error``)
    style_error: str = "squared"

    def __post_init__(self):  # lists (from JSON, say) become the tuple and dict the terms expect
        object.__setattr__(self, "content_layers", tuple(self.content_layers))
        if self.content_layer_weights is not None:
            object.__setattr__(self, "content_layer_weights", dict(self.content_layer_weights))
        object.__setattr__(self, "style_layer_weights", dict(self.style_layer_weights))
        if self.style_loss not in ("gram",) + LOSSES:
            raise SettingsError(f"style_loss is {self.style_loss!r}", "use one of: " + ", ".join(("gram",) + LOSSES))
        if self.style_error not in STYLE_ERRORS or (self.style_error == "norm" and self.style_loss != "gram"):
            raise SettingsError(f"style_error is {self.style_error!r} with the {self.style_loss} loss",
                                "use squared, or norm with Gram matrices")

    def relative(self, content_targets: dict, style_targets: dict) -> "Objective":
        """The same objective with every layer's error divided by the size of its target.

        Each style layer's term becomes ``||G - A||^2 / ||A||^2`` (the squared relative Gram
        error) and each content layer's ``mean (F - P)^2 / mean P^2``. The absolute Gram error of
        the paper is dominated by conv4_1, whose Gram matrices are the largest (its error is 50-1000
        times every other layer's on Tübingen with the classic paintings), so the other layers
        hardly count; the relative one weighs every layer alike. The weights then no longer depend
        on the pictures.
        """
        import numpy as np

        def mean_square(x) -> float:
            return float(np.mean(np.square(np.asarray(x, np.float64))))

        scales = {name: 1.0 / max(mean_square(content_targets[name]), 1e-30) for name in self.content_layers}
        return dataclasses.replace(self.relative_to_style(style_targets), content_scales=scales,
                                   content_relative=False)

    def relative_to_style(self, style_targets: dict) -> "Objective":
        """:meth:`relative` for a network's training: the style layers' errors are divided by the
        size of the (fixed) style targets now, and each content error by its target's mean square
        in every evaluation (``content_relative``), since each batch of photos has its own."""
        import numpy as np

        weights, style_scales = {}, {}
        for name, weight in self.style_layer_weights.items():
            target = style_targets[name]
            if isinstance(target, TARGET_TYPES):  # divided by its loss at zero features (see .style_targets)
                weights[name] = weight / max(target_size(target), 1e-30)
                continue
            if isinstance(target, RegionTargets):
                weights[name] = weight
                style_scales[name] = tuple(1.0 / max(target_size(t), 1e-30) for t in target.targets)
                continue
            if self.style_error == "norm" and not isinstance(target, GuidedTargets):
                weights[name] = weight  # relative_gram_error is relative already
                continue
            grams = np.asarray(target.grams if isinstance(target, GuidedTargets) else target, np.float64)
            channels = grams.shape[-1]  # the style losses divide by 4 N^2: undo it, divide by ||A||^2
            per_style = [4.0 * channels**2 / max(float(np.sum(g**2)), 1e-30) for g in grams.reshape(-1, channels, channels)]
            if isinstance(target, GuidedTargets):  # each region against its own style's size
                weights[name], style_scales[name] = weight, tuple(per_style)
            else:
                weights[name] = weight * float(np.mean(per_style))
        return dataclasses.replace(self, style_layer_weights=weights, content_scales=None,
                                   style_scales=style_scales or None, content_relative=True)

    @classmethod
    def for_training(cls, settings, style_targets: dict) -> "Objective":
        """The objective a feed-forward network trains on: :meth:`from_settings`, made
        :meth:`relative_to_style` when ``settings.relative_losses`` (the default). The trainer and
        ``bench/jax_gpu.py`` both build it here, so that the two cannot train different objectives."""
        objective = cls.from_settings(settings)
        return objective.relative_to_style(style_targets) if settings.relative_losses else objective

    @classmethod
    def from_settings(cls, settings) -> "Objective":
        """The objective a :class:`~..settings.Settings` or :class:`~..settings.TrainSettings`
        describes: its weights and layers, each style layer weighted by ``settings.layer_weights()``."""
        content = settings.content_weight > 0
        return cls(float(settings.content_weight), float(settings.style_weight), float(settings.tv_weight),
                   tuple(settings.content_layers) if content else (),
                   settings.layer_weights() if settings.style_weight > 0 else {},
                   style_loss=settings.style_loss, projection_seed=settings.seed or 0,
                   content_layer_weights=settings.content_weights() if content else None,
                   style_error=getattr(settings, "style_error", "squared"))

    @property
    def style_layers(self) -> tuple[str, ...]:
        return tuple(self.style_layer_weights)

    @property
    def layers(self) -> tuple[str, ...]:
        """Every VGG19 layer the objective reads, content layers first."""
        return tuple(dict.fromkeys(self.content_layers + self.style_layers))

    def style_targets(self, features: dict, weight: float = 1.0) -> dict:
        """``{layer: weight * G}``: the Gram matrices of a style picture's features (blends add
        them); for the other style losses, the weighted summaries of :func:`.style_targets.describe`
        (which add too), which :meth:`prepare_targets` turns into the loss's targets once the
        blend is summed."""
        if self.style_loss == "gram":
            return {name: weight * gram_matrix(features[name]) for name in self.style_layers}
        return {name: describe(self.style_loss, features[name], weight, self._directions(name, features[name]))
                for name in self.style_layers}

    def _directions(self, name: str, features):
        if self.style_loss != "sliced":
            return None
        return projection_directions(int(features.shape[-1]), self.projection_seed, self.style_layers.index(name))

    def prepare_targets(self, targets: dict) -> dict:
        """Blended :meth:`style_targets` as :meth:`terms` takes them: Gram matrices as they are,
        other summaries as their loss's targets (:func:`.style_targets.prepare`, in NumPy, once)."""
        if self.style_loss == "gram":
            return dict(targets)
        return {name: prepare(self.style_loss, target) for name, target in targets.items()}

    def regions(self, targets: list, masks, weights):
        """One style layer's targets when each style paints its own region: ``targets`` holds each
        style's prepared targets, ``masks`` ``(S, h, w)`` their regions at this layer's resolution,
        ``weights`` ``(S,)`` their weights."""
        if self.style_loss == "gram":
            import numpy as np

            return GuidedTargets(np.concatenate([np.asarray(g) for g in targets]), masks, weights)
        return RegionTargets(tuple(targets), masks, weights)

    def terms(self, features: dict, content_targets: dict, style_targets: dict, picture) -> dict:
        """The loss terms of one evaluation, as float32 scalars.

        ``features`` are the generated picture's (or batch's) VGG19 features, ``content_targets``
        those of the content (same shape), ``style_targets`` the style Gram matrices, and
        ``picture`` the tensor the TV term smooths. Returns ``{"total", "content", "style",
        "tv"}`` and ``"style_layers"``: each style layer's unweighted loss.
        """
        from keras import ops

        content = 0.0
        for name in self.content_layers:
            term = content_loss(features[name], content_targets[name])
            if self.content_scales is not None:
                term = term * self.content_scales[name]
            elif self.content_relative:
                term = term / ops.maximum(ops.mean(ops.square(ops.cast(content_targets[name], "float32"))), 1e-30)
            weight = self.content_layer_weights[name] if self.content_layer_weights else 1 / len(self.content_layers)
            content = content + weight * term
        style, per_layer = self._style(features, style_targets)
        tv = total_variation_loss(picture)
        return {"total": self._total(content, style, tv), "content": content, "style": style, "tv": tv,
                "style_layers": per_layer}

    def _style(self, features: dict, style_targets: dict):
        """The style term (the layers' terms, weighted) and each layer's unweighted term."""
        per_layer = {name: self._layer_style(name, features[name], style_targets[name]) for name in self.style_layers}
        style = 0.0
        for name, weight in self.style_layer_weights.items():
            style = style + weight * per_layer[name]
        return style, per_layer

    def _total(self, content, style, tv):
        return self.content_weight * content + self.style_weight * style + self.tv_weight * tv

    def _layer_style(self, name: str, features, target):
        if isinstance(target, TARGET_TYPES):
            return layer_loss(features, target)
        if isinstance(target, RegionTargets):
            scales = self.style_scales.get(name) if self.style_scales else None
            total = 0.0
            for s, (each, mask, weight) in enumerate(zip(target.targets, target.masks, target.weights)):
                total = total + float(weight) * (scales[s] if scales else 1.0) * layer_loss(features, each, mask)
            return total
        if not isinstance(target, GuidedTargets):
            if self.style_error == "norm":  # relative already: relative_to_style leaves its weight as it is
                return relative_gram_error(features, target, dtype=self.gram_dtype)
            return layer_style_loss(features, target, dtype=self.gram_dtype)
        weights = target.weights
        if self.style_scales is not None and name in self.style_scales:
            import numpy as np

            weights = np.asarray(weights, np.float32) * np.asarray(self.style_scales[name], np.float32)
        return guided_style_loss(features, target.grams, target.masks, weights)

    def batch_terms(self, features_of, generated, photos, style_targets, shrunk_targets=None) -> dict:
        """The terms for a batch of network outputs, as Johnson et al. train: :meth:`terms` with
        the content targets taken from the photos themselves.

        ``shrunk_targets`` (``{factor: {layer: target}}``, the style picture shrunk by each factor)
        makes the style term the mean of its value on the outputs and on the outputs shrunk by each
        factor (``TrainSettings.style_scales``; 2x2 averages per factor 2), as the quality measure
        scores a picture at several sizes; the total follows.

        ``features_of`` maps a VGG19 input batch to ``{layer: features}`` (a
        :class:`~.features.FeatureExtractor`, or a stateless call of one under JAX);
        ``generated`` and ``photos`` are RGB batches in ``[0, 255]``. The photos go through VGG19
        in a pass of their own, outside the gradient: one batch through the backward pass instead
        of two (with the outputs and photos in one batch, autodiff also worked out the gradient
        with respect to the photos, and threw it away).
        """
        from keras import ops

        from .images import preprocess

        generated = ops.cast(generated, "float32")
        photo_feats = features_of(preprocess(ops.cast(photos, "float32")))
        targets = {name: ops.stop_gradient(photo_feats[name]) for name in self.content_layers}
        terms = self.terms(features_of(preprocess(generated)), targets, style_targets, generated)
        if not shrunk_targets:
            return terms
        style = terms["style"]
        for factor, shrunk in shrunk_targets.items():
            smaller = ops.average_pool(generated, factor, factor, padding="valid")
            style = style + self._style(features_of(preprocess(smaller)), shrunk)[0]
        style = style / (1 + len(shrunk_targets))
        return {**terms, "total": self._total(terms["content"], style, terms["tv"]), "style": style}

    @staticmethod
    def stack(terms: dict):
        """``[total, content, style, tv]`` as one float32 vector (what the optimisers report)."""
        from keras import ops

        return ops.stack([ops.cast(ops.convert_to_tensor(terms[k]), "float32") for k in LOSS_TERMS])


__all__ = ["Objective", "GuidedTargets", "RegionTargets", "Moments", "W2Targets", "LOSS_TERMS", "FLOAT16_LOSS_SCALE", "FLOAT16_SCALE_STEP", "FLOAT16_MIN_SCALE"]
