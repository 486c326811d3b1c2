"""What each style loss compares: a style picture's targets, blends of styles, regions, sizes.

Lesson: ``notebooks/03_content_and_style_losses.ipynb`` (Gram). The losses themselves are in
:mod:`.losses`; :class:`~.objective.Objective` calls this module for every style loss but
``"gram"``, whose Gram matrices it handles itself. Per style layer, each loss goes through:

1. :func:`describe`: a style picture's features -> a summary, times its blend weight;
2. summaries of several styles add (``+``) into the *mixture* of their features, weighted, as
   the blend of Gram matrices is the mixture's second moment: :class:`Moments` add means and
   second moments, :class:`Samples` pool their values;
3. :func:`prepare`: the summed summary -> the targets the loss takes (NumPy, once per size);
4. :func:`target_size`: the loss of features that are all zero against the targets. A relative
   loss (``Settings.relative_losses``, the default) divides by it, as the Gram loss divides by
   ``||A||^2 / (4 N^2)``, its own loss at zero features. So every loss is a squared error
   relative to the size of its target, and one style weight suits them all:

   * ``meanstd``: ``sum_i (mu_i - m_i)^2 + (sigma_i - s_i)^2`` over ``sum_i m_i^2 + s_i^2``;
   * ``w2``: ``W2^2`` over ``|mu_s|^2 + tr C_s`` (the style's mean square);
   * ``histogram``: each channel's ``W2^2`` summed, over the style's mean square ``sum_i E[x_i^2]``;
   * ``sliced``: each projection's ``W2^2`` summed, over its mean square ``sum_p E[(theta_p . x)^2]``.

With masks (``Settings.style_masks``) each style is compared over its own region
(:func:`~.objective.Objective.regions`): the losses weight the positions by the mask squared,
as guided Gram matrices do. ``sliced``'s directions are drawn once per layer from a seed
(``Objective.projection_seed``), so a run repeats and the style and the picture share them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .losses import (feature_moments, histogram_loss, matrix_power, mean_std_loss, sliced_wasserstein_loss,
                     wasserstein_style_loss)

#: The style losses of this module (``Settings.style_loss`` also offers "gram", :mod:`.losses`' own).
LOSSES = ("meanstd", "w2", "histogram", "sliced")

#: Projections per channel of ``sliced`` (Heitz et al. use as many directions as channels).
PROJECTIONS_PER_CHANNEL = 1


class Moments(NamedTuple):
    """A style picture's feature mean and second moment at one layer (``meanstd``, ``w2``);
    blends of several styles add them, weighted, as Gram matrices add."""

    mean: Any
    second: Any

    def __add__(self, other):  # a weighted blend: the mixture's moments
        return Moments(self.mean + other.mean, self.second + other.second)


class Samples(NamedTuple):
    """A style picture's feature values at one layer, one column per channel or, for ``sliced``,
    per projection on ``directions`` ``(N, P)``; each position has a weight (its picture's blend
    weight over its count). Blends pool them."""

    values: Any
    weights: Any
    directions: Any = None

    def __add__(self, other):  # a weighted blend: the mixture's values
        return Samples(np.concatenate([self.values, other.values]), np.concatenate([self.weights, other.weights]),
                       self.directions)


class MeanStdTargets(NamedTuple):
    """``meanstd``'s targets: each channel's mean and standard deviation, ``(N,)`` each."""

    mean: Any
    std: Any


class W2Targets(NamedTuple):
    """A style layer's targets for the Wasserstein-2 loss: mean, covariance square root, trace."""

    mean: Any
    cov_root: Any
    cov_trace: Any


class HistogramTargets(NamedTuple):
    """``histogram``'s targets: each channel's quantile function at ``K`` even levels, ``(K, N)``."""

    quantiles: Any


class SlicedTargets(NamedTuple):
    """``sliced``'s targets: the unit directions ``(N, P)`` and the quantile function of the
    style's projections on them at ``K`` even levels, ``(K, P)``."""

    directions: Any
    quantiles: Any


def projection_directions(channels: int, seed: int, layer: int) -> np.ndarray:
    """``sliced``'s directions at a layer: ``channels * PROJECTIONS_PER_CHANNEL`` random unit
    vectors as the columns of an ``(N, P)`` float32 matrix, the same for the same seed and layer."""
    rng = np.random.default_rng([seed, layer, channels])
    directions = rng.normal(size=(channels, channels * PROJECTIONS_PER_CHANNEL))
    return (directions / np.linalg.norm(directions, axis=0)).astype(np.float32)


def describe(style_loss: str, features, weight: float = 1.0, directions=None):
    """The summary of one style picture's ``features`` ``(1, H, W, N)`` at a layer, weighted by
    its blend ``weight`` (``directions`` for ``sliced``)."""
    if style_loss in ("meanstd", "w2"):
        return Moments(*(weight * np.asarray(m, np.float64) for m in feature_moments(features)))
    flat = np.asarray(features, np.float64).reshape(-1, np.shape(features)[-1])
    if style_loss == "sliced":
        flat = flat @ np.asarray(directions, np.float64)
    return Samples(flat, np.full(len(flat), weight / len(flat)), directions)


def quantile_function(samples: Samples, count: int | None = None) -> np.ndarray:
    """The weighted samples' quantile function at ``count`` even levels ``(k + 1/2) / count``
    (default: as many as there are samples), column by column, float32 ``(count, P)``. One
    picture's gives its sorted values; a blend's, its mixture's quantiles."""
    values, weights = np.asarray(samples.values, np.float64), np.asarray(samples.weights, np.float64)
    count = count or len(values)
    levels = (np.arange(count) + 0.5) / count
    result = np.empty((count, values.shape[1]), np.float32)
    for column in range(values.shape[1]):
        order = np.argsort(values[:, column], kind="stable")
        cumulative = np.cumsum(weights[order])
        middles = (cumulative - weights[order] / 2) / cumulative[-1]
        result[:, column] = np.interp(levels, middles, values[order, column])
    return result


def prepare(style_loss: str, summary):
    """A (blended) :func:`describe` summary as the targets the loss takes."""
    if style_loss == "meanstd":
        mean = np.asarray(summary.mean, np.float64)
        variance = np.maximum(np.diag(summary.second) - mean**2, 0.0)
        return MeanStdTargets(mean.astype(np.float32), np.sqrt(variance + 1e-8).astype(np.float32))
    if style_loss == "w2":
        cov = summary.second - np.outer(summary.mean, summary.mean)
        root = matrix_power((cov + cov.T) / 2, 0.5)
        return W2Targets(summary.mean.astype(np.float32), root.astype(np.float32), np.float32(np.trace(cov)))
    quantiles = quantile_function(summary)
    return SlicedTargets(summary.directions, quantiles) if style_loss == "sliced" else HistogramTargets(quantiles)


def target_size(target) -> float:
    """The loss of all-zero features against ``target``: what a relative loss divides by."""
    if isinstance(target, MeanStdTargets):
        return float(np.mean(np.square(np.asarray(target.mean, np.float64)) + np.square(np.asarray(target.std, np.float64))))
    if isinstance(target, W2Targets):
        return (float(target.cov_trace) + float(np.sum(np.square(np.asarray(target.mean, np.float64))))) / np.shape(target.cov_root)[-1]
    return float(np.mean(np.square(np.asarray(target.quantiles, np.float64))))


#: The targets of this module's losses (a Gram loss's target is a plain matrix).
TARGET_TYPES = (MeanStdTargets, W2Targets, HistogramTargets, SlicedTargets)


def layer_loss(features, target, mask=None):
    """One layer's loss of ``features`` against ``target`` (any of this module's targets), over a
    ``mask``'s region or everywhere."""
    if isinstance(target, MeanStdTargets):
        return mean_std_loss(features, *target, mask=mask)
    if isinstance(target, W2Targets):
        return wasserstein_style_loss(features, *target, mask=mask)
    if isinstance(target, SlicedTargets):
        return sliced_wasserstein_loss(features, *target, mask=mask)
    return histogram_loss(features, target.quantiles, mask=mask)


__all__ = ["LOSSES", "Moments", "Samples", "MeanStdTargets", "W2Targets", "HistogramTargets", "SlicedTargets",
           "TARGET_TYPES", "describe", "prepare", "quantile_function", "projection_directions", "target_size", "layer_loss"]
