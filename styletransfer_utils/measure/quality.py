"""How close a result is to the paper's look: the project's multi-scale quality measure.

Lesson: ``notebooks/04_optimization_and_acceleration.ipynb``; benchmark: ``bench/quality.py``.

The absolute Gram error of the paper is dominated by one layer, conv4_1 (on Tübingen with the
three classic paintings, its error is 50-1000 times every other layer's), so a picture can score
well on it while the other layers hardly match. This measure, in
float32 and independent of the optimiser, weighs every layer alike and looks at three scales:

* **style score**: the mean over evaluation sizes 512, 256 and 128 px (long side) of the mean
  over conv1_1, conv2_1, conv3_1, conv4_1 and conv5_1 of the relative Gram error
  ``||G(output) - G(style)||_F / ||G(style)||_F`` with ``G = F^T F / M``; output and style
  picture are each resized (Lanczos) so their long side is the evaluation size. At a small size
  VGG19's receptive fields cover more of the picture, so large structures count.
* **content score**: ``||F(output) - F(content)||_F / ||F(content)||_F`` at conv4_2, with the
  output at 512 px and the content photo resized to its shape.

Lower is better for both. The reference Torch implementation (jcjohnson/neural-style) scores
style 0.260 / content 1.00 on Tübingen x The Starry Night.

The style score compares Gram matrices, which is what the default run minimises, so it favours
the ``gram`` style loss over the others of ``Settings.style_loss``. :func:`sliced_score` is a
second, loss-neutral style score, for comparing the losses:

* **sliced score**: at the same sizes and layers, the sliced Wasserstein-2 distance between the
  output's and the painting's feature distributions (each position's feature vector one sample):
  the features projected on ``2 N`` random unit directions (fixed, and drawn apart from any run's),
  each projection's sorted values compared with the painting's, relative to the painting's mean
  square, ``sqrt(sum_p W2_p^2 / sum_p E[(theta_p . y)^2])``. It is zero only when the
  distributions agree in every direction, so it sees means, covariances (what Gram matrices see)
  and the shapes of the distributions alike, and rewards no one loss's summary: ``sliced``
  minimises a distance of the same kind, with other directions and fewer of them.

Both scores are blind to a painting's *objects* pasted into the picture (a portrait's eye over
Tübingen's houses): the Gram matrices even reward them. :func:`pasted` measures that apart:

* **pasted score**: at conv5_1, the layer that sees whole objects, each position of the output
  (at 512 px) is compared with every position of the painting (at 256, 384, 512 and 768 px, since a
  pasted object changes its size) by cosine similarity; the score is the 99th percentile of each
  output position's best match. A pasted eye or face is a few positions that match the painting
  almost exactly: on Tübingen with Picasso's 1907 self-portrait, 0.80-0.82 with the eye pasted,
  0.64 without. Compare pictures of the same painting: the level of a picture painted in the manner
  alone depends on the painting (0.6-0.65 for the portraits, 0.75-0.8 for the texture-like The
  Scream and The Shipwreck, whose strokes match closely everywhere). Lower is better.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..device import import_tensorflow_quietly
from ..core.images import as_picture, long_side_shape, preprocess, resize, resize_to_long_side
from ..settings import DEFAULT_STYLE_LAYERS

EVAL_SIZES = (512, 256, 128)
STYLE_LAYERS = DEFAULT_STYLE_LAYERS
CONTENT_LAYER = "block4_conv2"
CONTENT_SIZE = 512


@dataclass
class Score:
    """The two numbers of the measure, and what they are means of."""

    style: float
    content: float
    style_by_size: dict = field(default_factory=dict)  #: size -> mean over layers
    style_by_layer: dict = field(default_factory=dict)  #: layer -> mean over sizes

    def __str__(self) -> str:
        return f"style {self.style:.3f}, content {self.content:.3f}"


@lru_cache(maxsize=1)
def _extractor():
    import_tensorflow_quietly()
    from ..core.features import FeatureExtractor

    return FeatureExtractor(STYLE_LAYERS + (CONTENT_LAYER,), precision="float32")


def _features(picture: np.ndarray) -> dict:
    """The style layers' float32 feature maps of ``picture``, ``(1, H, W, N)`` each."""
    feats = _extractor()(preprocess(picture))
    return {name: feats[name] for name in STYLE_LAYERS}


#: What the scores need of one picture at one size, kept for the last pictures seen: scoring several
#: pictures against one painting (a benchmark, notebook 08) computes the painting's once.
_SUMMARIES: OrderedDict = OrderedDict()
SUMMARIES_KEPT = 12


def _summary(picture: np.ndarray, size) -> dict:
    """``picture`` at long side ``size`` (or at shape ``(height, width)``): its Gram matrices
    (float64), conv4_2's features (float32) and conv5_1's unit rows (see :func:`pasted`); cached by
    content, about 15 MB each at 512 px."""
    from ..core.losses import gram_matrix

    picture = np.ascontiguousarray(picture, np.float32)
    key = (hashlib.blake2b(picture.tobytes(), digest_size=16).digest(), picture.shape, size)
    if key in _SUMMARIES:
        _SUMMARIES.move_to_end(key)
        return _SUMMARIES[key]
    resized = resize(picture, size) if isinstance(size, tuple) else resize_to_long_side(picture, size)
    feats = _extractor()(preprocess(resized))
    rows = np.asarray(feats[PASTED_LAYER], np.float64).reshape(-1, np.shape(feats[PASTED_LAYER])[-1])
    _SUMMARIES[key] = summary = {
        "grams": {name: np.asarray(gram_matrix(feats[name]), np.float64)[0] for name in STYLE_LAYERS},
        "content": np.asarray(feats[CONTENT_LAYER], np.float32),
        "rows": rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)}
    while len(_SUMMARIES) > SUMMARIES_KEPT:
        _SUMMARIES.popitem(last=False)
    return summary


def style_errors(output: np.ndarray, style: np.ndarray, size: int) -> dict:
    """``{layer: ||G(output) - G(style)||_F / ||G(style)||_F}`` with both at long side ``size``."""
    mine, theirs = _summary(output, size)["grams"], _summary(style, size)["grams"]
    return {name: float(np.linalg.norm(mine[name] - theirs[name]) / np.linalg.norm(theirs[name]))
            for name in STYLE_LAYERS}


def content_error(output: np.ndarray, content: np.ndarray, size: int = CONTENT_SIZE) -> float:
    """``||F(output) - F(content)||_F / ||F(content)||_F`` at conv4_2, output at long side ``size``
    (the measure's: 512 px) and the content photo resized to its shape."""
    a = _summary(output, size)["content"].astype(np.float64)
    b = _summary(content, long_side_shape(*np.shape(output)[:2], size))["content"].astype(np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


SLICED_PROJECTIONS_PER_CHANNEL = 2
SLICED_SEED = 20_170_401  #: the measure's own directions, apart from any run's (``--seed`` draws those)


def sliced_distance(a: np.ndarray, b: np.ndarray, directions: np.ndarray, chunk: int = 64) -> float:
    """The relative sliced Wasserstein-2 distance of two sets of samples, ``a`` ``(M, N)`` and
    ``b`` ``(K, N)``, along the columns of ``directions`` ``(N, P)``:
    ``sqrt(sum_p W2^2(a theta_p, b theta_p) / sum_p E[(b theta_p)^2])``. Each projection's
    distributions are compared at ``min(M, K)`` even levels of their quantile functions; the
    directions are taken ``chunk`` at a time, which bounds the memory it needs."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    count = min(len(a), len(b))

    def quantiles(rows):  # each row's quantile function at levels (k + 1/2) / count
        if rows.shape[1] == count:
            return rows
        where = (np.arange(count) + 0.5) / count * rows.shape[1] - 0.5  # sorted value j sits at (j + 1/2) / M
        low = np.clip(np.floor(where).astype(int), 0, rows.shape[1] - 1)
        frac = np.clip(where - low, 0.0, 1.0).astype(np.float32)
        return rows[:, low] * (1.0 - frac) + rows[:, np.minimum(low + 1, rows.shape[1] - 1)] * frac

    error = size = 0.0
    for start in range(0, np.shape(directions)[1], chunk):
        along = np.asarray(directions[:, start:start + chunk], np.float32).T
        pa, pb = (np.sort(along @ x.T, axis=1) for x in (a, b))  # (P, M): rows sort fast
        error += np.mean(np.square(quantiles(pa) - quantiles(pb), dtype=np.float64), axis=1).sum()
        size += np.mean(np.square(pb, dtype=np.float64), axis=1).sum()
    return float(np.sqrt(error / size))


def _measure_directions(channels: int, layer: int) -> np.ndarray:
    rng = np.random.default_rng([SLICED_SEED, layer])
    directions = rng.normal(size=(channels, channels * SLICED_PROJECTIONS_PER_CHANNEL))
    return directions / np.linalg.norm(directions, axis=0)


def sliced_score(output, style, *, sizes=EVAL_SIZES) -> float:
    """The loss-neutral style score (module docstring): :func:`sliced_distance` of the output's and
    the painting's features, both at each of ``sizes``, averaged over the style layers and sizes."""
    output, style = as_picture(output), as_picture(style)
    errors = []
    for size in sizes:
        mine, theirs = _features(resize_to_long_side(output, size)), _features(resize_to_long_side(style, size))
        for index, name in enumerate(STYLE_LAYERS):
            a, b = (np.asarray(f, np.float32).reshape(-1, f.shape[-1]) for f in (mine[name], theirs[name]))
            errors.append(sliced_distance(a, b, _measure_directions(a.shape[1], index)))
    return float(np.mean(errors))


PASTED_LAYER = "block5_conv1"
PASTED_STYLE_SIZES = (256, 384, 512, 768)
PASTED_QUANTILE = 0.99


def pasted(output, style, *, size: int = CONTENT_SIZE, style_sizes=PASTED_STYLE_SIZES) -> float:
    """How much of the painting's objects ``output`` holds (module docstring): the 99th
    percentile, over the output's conv5_1 positions (output at long side ``size``), of the best
    cosine match in the painting (at each of ``style_sizes``). Other sizes than the measure's make
    another score: the notebooks' smoke runs use them to stay quick."""
    output, style = as_picture(output), as_picture(style)
    mine = _summary(output, size)["rows"]
    best = np.max([np.max(mine @ _summary(style, s)["rows"].T, axis=1) for s in style_sizes], axis=0)
    return float(np.quantile(best, PASTED_QUANTILE))


def score(output, content, style, *, sizes=EVAL_SIZES, content_size: int = CONTENT_SIZE) -> Score:
    """The style and content scores of ``output`` (paths or RGB arrays in [0, 255]): the style
    score at each of ``sizes``, the content score at ``content_size``. Other sizes than the
    measure's (:data:`EVAL_SIZES`, :data:`CONTENT_SIZE`) make another score: the notebooks'
    smoke runs use them to stay quick."""
    output, content, style = as_picture(output), as_picture(content), as_picture(style)
    by_size = {size: style_errors(output, style, size) for size in sizes}
    per_size = {size: float(np.mean(list(errors.values()))) for size, errors in by_size.items()}
    per_layer = {name: float(np.mean([by_size[s][name] for s in sizes])) for name in STYLE_LAYERS}
    return Score(float(np.mean(list(per_size.values()))), content_error(output, content, content_size),
                 per_size, per_layer)


__all__ = ["Score", "score", "pasted", "sliced_score", "sliced_distance", "style_errors", "content_error",
           "EVAL_SIZES", "STYLE_LAYERS", "CONTENT_LAYER", "CONTENT_SIZE", "PASTED_STYLE_SIZES"]
