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

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..device import import_tensorflow_quietly
from ..core.images import as_picture, preprocess, resize, resize_to_long_side
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


def _grams(picture: np.ndarray) -> dict:
    from ..core.losses import gram_matrix

    feats = _extractor()(preprocess(picture))
    return {name: np.asarray(gram_matrix(feats[name]), np.float64)[0] for name in STYLE_LAYERS}


def style_errors(output: np.ndarray, style: np.ndarray, size: int) -> dict:
    """``{layer: ||G(output) - G(style)||_F / ||G(style)||_F}`` with both at long side ``size``."""
    mine, theirs = _grams(resize_to_long_side(output, size)), _grams(resize_to_long_side(style, size))
    return {name: float(np.linalg.norm(mine[name] - theirs[name]) / np.linalg.norm(theirs[name]))
            for name in STYLE_LAYERS}


def content_error(output: np.ndarray, content: np.ndarray) -> float:
    """``||F(output) - F(content)||_F / ||F(content)||_F`` at conv4_2, output at 512 px."""
    output = resize_to_long_side(output, CONTENT_SIZE)
    content = resize(content, output.shape[:2])
    extractor = _extractor()
    a = np.asarray(extractor(preprocess(output))[CONTENT_LAYER], np.float64)
    b = np.asarray(extractor(preprocess(content))[CONTENT_LAYER], np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


PASTED_LAYER = "block5_conv1"
PASTED_STYLE_SIZES = (256, 384, 512, 768)
PASTED_QUANTILE = 0.99


def _unit_rows(picture: np.ndarray, size: int) -> np.ndarray:
    """conv5_1 features of ``picture`` at long side ``size``: one unit-length row per position."""
    feats = np.asarray(_extractor()(preprocess(resize_to_long_side(picture, size)))[PASTED_LAYER], np.float64)
    rows = feats.reshape(-1, feats.shape[-1])
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def pasted(output, style) -> float:
    """How much of the painting's objects ``output`` holds (module docstring): the 99th
    percentile, over the output's conv5_1 positions, of the best cosine match in the painting."""
    output, style = as_picture(output), as_picture(style)
    mine = _unit_rows(output, CONTENT_SIZE)
    best = np.max([np.max(mine @ _unit_rows(style, size).T, axis=1) for size in PASTED_STYLE_SIZES], axis=0)
    return float(np.quantile(best, PASTED_QUANTILE))


def score(output, content, style, *, sizes=EVAL_SIZES) -> Score:
    """The style and content scores of ``output`` (paths or RGB arrays in [0, 255])."""
    output, content, style = as_picture(output), as_picture(content), as_picture(style)
    by_size = {size: style_errors(output, style, size) for size in sizes}
    per_size = {size: float(np.mean(list(errors.values()))) for size, errors in by_size.items()}
    per_layer = {name: float(np.mean([by_size[s][name] for s in sizes])) for name in STYLE_LAYERS}
    return Score(float(np.mean(list(per_size.values()))), content_error(output, content), per_size, per_layer)


__all__ = ["Score", "score", "pasted", "style_errors", "content_error", "EVAL_SIZES", "STYLE_LAYERS", "CONTENT_LAYER"]
