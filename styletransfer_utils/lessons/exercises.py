"""Checks for the classroom exercises: a learner's function against the package's, at check time.

Lessons: the exercise notebooks in ``notebooks/exercises/`` (made from the lessons by
:mod:`.grading`), and the lessons themselves, whose check cells pass.

``check(n, function, **context)`` runs the learner's function for exercise ``n`` on fixed inputs
(small seeded tensors, and Tübingen with The Starry Night at a small size) and compares the
result with the package's tested implementation, computed now, never stored. It prints one line,
``Exercise n (name): PASS`` or ``Exercise n (name): FAIL: what differs``, and raises after a
failure so that a notebook run stops there. A failure names what differs: the shape or dtype; a
constant factor, with the factor ("4096x too large: divide by H*W"); a wrong layer; input that
was not preprocessed; a Python loop where a vectorised expression belongs. A function that still
raises the stub's ``NotImplementedError`` prints ``NOT DONE`` and raises it again.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import time
from typing import Callable

import numpy as np

#: The exercises of the series: number -> (name, lesson notebook).
EXERCISES = {
    1: ("preprocessing", "01_preprocessing"),
    2: ("feature extractor's layers", "02_vgg19_feature_maps"),
    3: ("content loss", "03_content_and_style_losses"),
    4: ("Gram matrix", "03_content_and_style_losses"),
    5: ("style loss over layers", "03_content_and_style_losses"),
    6: ("total variation, vectorised", "03_content_and_style_losses"),
    7: ("one Gatys value-and-gradient step", "04_optimization_and_acceleration"),
    8: ("one feed-forward training step", "06_feed_forward_networks"),
}
RTOL = 1e-4


class ExerciseFailed(AssertionError):
    """A learner's function gave a wrong answer; the message says what differs, in one line."""


def check(number: int, function: Callable, **context) -> None:
    """Check the learner's ``function`` for exercise ``number``; print PASS/FAIL/NOT DONE."""
    if number not in EXERCISES:
        raise ValueError(f"there is no exercise {number}; the exercises are {min(EXERCISES)}-{max(EXERCISES)}")
    label = f"Exercise {number} ({EXERCISES[number][0]})"
    try:
        _CHECKS[number](function, **context)
    except NotImplementedError:
        print(f"{label}: NOT DONE: the function still raises NotImplementedError; write it where the stub is")
        raise
    except ExerciseFailed as exc:
        print(f"{label}: FAIL: {exc}")
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's code crashed: say how, in one line
        message = f"your function raised {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        print(f"{label}: FAIL: {message}")
        raise ExerciseFailed(message) from None
    print(f"{label}: PASS")


# -- comparing answers ---------------------------------------------------------------------------

def _array(value, what: str) -> np.ndarray:
    if isinstance(value, (list, tuple)) and len(value) and not np.isscalar(value[0]):
        value = np.stack([np.asarray(v) for v in value])
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001
        raise ExerciseFailed(f"{what} is a {type(value).__name__}, not a tensor or array") from None
    if not np.issubdtype(array.dtype, np.floating):
        raise ExerciseFailed(f"{what} has dtype {array.dtype}: expected float32 (cast before dividing)")
    return array.astype(np.float64)


def _close(a: np.ndarray, b: np.ndarray, rtol: float = RTOL) -> bool:
    return a.shape == b.shape and np.linalg.norm(a - b) <= rtol * max(np.linalg.norm(b), 1e-30) + 1e-12


def compare(mine, reference, what: str, *, factors: dict | None = None, alternatives: dict | None = None,
            shape_hints: dict | None = None, rtol: float = RTOL, alternative_rtol: float = 1e-3) -> None:
    """Raise :class:`ExerciseFailed` naming how ``mine`` differs from ``reference``.

    ``factors`` maps a known factor (``mine / reference``) to its fix; ``alternatives`` maps a
    description of a typical mistake to the value it would give; ``shape_hints`` maps a wrong
    shape to its explanation.
    """
    mine, reference = _array(mine, what), _array(reference, "the reference")
    if mine.shape != reference.shape:
        hint = (shape_hints or {}).get(mine.shape, "")
        raise ExerciseFailed(f"{what} has shape {mine.shape} but should have {reference.shape}" + (f": {hint}" if hint else ""))
    if not np.all(np.isfinite(mine)):
        raise ExerciseFailed(f"{what} contains NaN or infinite values")
    if _close(mine, reference, rtol):
        return
    for mistake, value in (alternatives or {}).items():
        if _close(mine, _array(value, mistake), alternative_rtol):
            raise ExerciseFailed(f"{what} {mistake}")
    denominator = float(np.sum(reference * reference))
    ratio = float(np.sum(mine * reference)) / denominator if denominator > 0 else 0.0
    if ratio and _close(mine, ratio * reference, 1e-3):
        for factor, fix in (factors or {}).items():
            if np.isclose(ratio, factor, rtol=1e-3):
                size = f"{factor:g}x too large" if factor > 1 else f"{1 / factor:g}x too small"
                raise ExerciseFailed(f"{what} is {size}: {fix}")
        size = f"{ratio:.4g}x too large" if abs(ratio) > 1 else f"{1 / ratio:.4g}x too small"
        raise ExerciseFailed(f"{what} is {size} (a constant factor): check the normalisation")
    error = np.linalg.norm(mine - reference) / max(np.linalg.norm(reference), 1e-30)
    raise ExerciseFailed(f"{what} differs from the reference by {error:.3g} (relative error)")


def _loops(function) -> str | None:
    """The first Python loop in ``function``'s source ("'for' on line 3"), or None."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None
    kinds = {ast.For: "for", ast.While: "while", ast.ListComp: "a list comprehension",
             ast.GeneratorExp: "a generator expression", ast.AsyncFor: "for"}
    for node in ast.walk(tree):
        for kind, word in kinds.items():
            if isinstance(node, kind):
                return f"'{word}' on line {node.lineno} of the function"
    return None


# -- inputs --------------------------------------------------------------------------------------

def _tensor(shape, seed: int, low: float = 0.0, high: float = 3.0):
    import tensorflow as tf

    return tf.constant(np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32))


def _pictures(size: int = 64):
    """Tübingen and The Starry Night, long side ``size`` (the example pictures, cached)."""
    from ..data import load_example

    return load_example("tubingen", size), load_example("starry_night", size)


def _features(layers, picture=None, *, x=None):
    """The float32 VGG19 features of ``picture`` (RGB) or of the VGG19 input ``x``."""
    from ..core.images import preprocess
    from ..gatys.transfer import cached_extractor

    return cached_extractor(tuple(layers), "max", "float32")(preprocess(picture) if x is None else x)


# -- the exercises -------------------------------------------------------------------------------

def _check_preprocess(preprocess_fn) -> None:
    from ..core.images import IMAGENET_MEAN_BGR, preprocess

    photo = _pictures(48)[0]
    mine = preprocess_fn(photo.copy())
    reference = np.asarray(preprocess(photo))
    h, w = photo.shape[:2]
    compare(mine, reference, "your VGG19 input",
            shape_hints={(h, w, 3): "add the batch axis, x[None]"},
            alternatives={"is still RGB: reverse the channels to BGR (x[..., ::-1])": photo[None] - IMAGENET_MEAN_BGR,
                          "still has the ImageNet mean in it: subtract IMAGENET_MEAN_BGR": photo[None, ..., ::-1],
                          "was not preprocessed at all: reverse to BGR and subtract the mean": photo[None],
                          "subtracts the mean in RGB order: reverse the channels first, then subtract the BGR mean":
                              (photo - IMAGENET_MEAN_BGR)[None, ..., ::-1],
                          "was scaled to [0, 1]: VGG19 (caffe) takes 0-255 values": (photo / 255.0)[None, ..., ::-1]
                              - IMAGENET_MEAN_BGR})


def _check_layers(select_fn) -> None:
    from ..core.features import VGG19_LAYERS
    from ..core.images import preprocess

    convs = tuple(name for name, kind, _ in VGG19_LAYERS if kind == "conv")
    wanted = ["block1_conv1", "block3_conv1", "block4_conv2"]
    x = preprocess(_pictures(48)[0])
    mine = select_fn(wanted)
    outputs = mine(x) if callable(mine) else mine
    if isinstance(outputs, (list, tuple)):
        outputs = dict(zip(wanted, outputs))
    if not isinstance(outputs, dict) or set(outputs) != set(wanted):
        raise ExerciseFailed(f"your model gives {type(outputs).__name__} "
                             f"{sorted(outputs) if isinstance(outputs, dict) else ''}: return "
                             f"{{name: features}} for exactly the layers asked for")
    every = _features(convs, x=x)
    for name in wanted:
        alternatives = {f"comes from {other}, not {name}: pick the layer by its name": every[other]
                        for other in convs if other != name and every[other].shape == every[name].shape}
        compare(outputs[name], every[name], f"the output for {name}", alternatives=alternatives)


def _check_content_loss(content_fn) -> None:
    from ..core.images import resize
    from ..core.losses import content_loss

    cases = [(_tensor((1, 4, 6, 3), 1), _tensor((1, 4, 6, 3), 2))]
    content, style = _pictures(64)
    feats = _features(["block4_conv2"], content)["block4_conv2"]
    other = _features(["block4_conv2"], resize(style, content.shape[:2]))["block4_conv2"]
    cases.append((feats, other))
    for F, P in cases:
        m, n = int(np.prod(F.shape[1:3])), int(F.shape[-1])
        compare(content_fn(F, P), content_loss(F, P), "your content loss",
                factors={m * n: "take the mean over positions and channels (divide the sum by M*N)",
                         m * n / 2: "use the mean, 1/(M N) * sum, not the paper's 1/2 * sum",
                         0.5: "drop the 1/2: the package's content loss is the plain mean squared difference",
                         m: "divide by N*M, not only N", n: "divide by N*M, not only M"},
                alternatives={"is the mean absolute difference: square the differences":
                              np.mean(np.abs(np.asarray(F) - np.asarray(P)))},
                shape_hints={tuple(F.shape): "reduce to one number (a scalar)"})


def _check_gram(gram_fn) -> None:
    from ..core.losses import gram_matrix

    for F in (_tensor((1, 4, 5, 3), 3), _features(["block3_conv1"], _pictures(64)[0])["block3_conv1"]):
        h, w, n = (int(d) for d in F.shape[1:])
        flat = np.asarray(F, np.float64).reshape(h * w, n)
        compare(gram_fn(F), gram_matrix(F), "your Gram matrix",
                factors={h * w: "divide by H*W (the number of positions M)", float(n): "divide by H*W, not by N",
                         1 / n: "divide by H*W only, not by H*W*N"},
                shape_hints={(1, h * w, h * w): "the transpose trick is on the wrong axis: reshape to (M, N) and "
                                                "take F^T F (channels x channels), not F F^T",
                             (h * w, h * w): "the transpose trick is on the wrong axis: take F^T F, N x N",
                             (n, n): "keep the batch axis: shape (1, N, N)"},
                alternatives={"uses the features without the ReLU's zeros, or centred: take F^T F of the raw features":
                              ((flat - flat.mean(0)).T @ (flat - flat.mean(0)) / (h * w))[None]})


def _check_style_loss(style_fn) -> None:
    from ..core.losses import gram_matrix, style_loss

    content, style = _pictures(64)
    layers = ["block1_conv1", "block2_conv1", "block3_conv1"]
    feats = _features(layers, content)
    targets = {name: gram_matrix(f) for name, f in _features(layers, style).items()}
    weights = {"block1_conv1": 0.2, "block2_conv1": 0.3, "block3_conv1": 0.5}
    reference = style_loss(feats, targets, weights)
    per_layer = {name: float(style_loss(feats, targets, {name: 1.0})) for name in layers}
    unnormalised = sum(w * per_layer[n] * 4 * int(feats[n].shape[-1]) ** 2 for n, w in weights.items())
    compare(style_fn(feats, targets, weights), reference, "your style loss",
            alternatives={"ignores the layer weights: multiply each layer's loss by its w_l": sum(per_layer.values()),
                          "averages the layers: weight each by w_l and add them": np.mean(list(per_layer.values())),
                          "misses 1/(4 N^2) for each layer (N: that layer's channels)": unnormalised,
                          "uses only the last layer: add every layer in the weights": weights[layers[-1]] * per_layer[layers[-1]]})


def _check_tv(tv_fn) -> None:
    import tensorflow as tf

    from ..core.losses import total_variation_loss

    loop = _loops(tv_fn)
    if loop:
        raise ExerciseFailed(f"uses a Python loop ({loop}): vectorise it with slices, x[:, 1:] - x[:, :-1]")
    for x in (_tensor((1, 5, 7, 3), 4, 0, 255), tf.constant(_pictures(64)[0][None])):
        a = np.asarray(x, np.float64)
        down, across = a[:, 1:] - a[:, :-1], a[:, :, 1:] - a[:, :, :-1]
        compare(tv_fn(x), total_variation_loss(x), "your total variation",
                alternatives={"is missing the square: square the differences (this is L1 total variation)":
                              np.mean(np.abs(down)) + np.mean(np.abs(across)),
                              "uses only the vertical differences: add the horizontal ones": np.mean(down**2),
                              "uses only the horizontal differences: add the vertical ones": np.mean(across**2),
                              "sums where the package takes means: use the mean of each direction's squares":
                                  np.sum(down**2) + np.sum(across**2)})
    big = _tensor((1, 256, 256, 3), 5, 0, 255)
    timings = []
    for fn in (total_variation_loss, tv_fn):
        fn(big)
        start = time.perf_counter()
        fn(big)
        timings.append(time.perf_counter() - start)
    if timings[1] > 50 * timings[0] + 0.05:
        raise ExerciseFailed(f"takes {timings[1]:.2f} s on a 256x256 picture, {timings[1] / timings[0]:.0f}x the "
                             "reference: vectorise it with slices, x[:, 1:] - x[:, :-1]")


def _check_value_and_grad(step_fn, transfer) -> None:
    """``step_fn(x)`` -> ``(terms, gradient)`` for a :class:`~..gatys.transfer.StyleTransfer` with the
    paper's absolute losses (``relative_losses=False``), as notebook 04 writes it."""
    import tensorflow as tf

    x = tf.constant(transfer.initial_input("noise"))
    terms, grad = step_fn(x)
    reference, reference_grad = transfer.value_and_grad(x)
    terms, reference = _array(terms, "your terms"), np.asarray(reference, np.float64)
    terms = terms[None] if terms.ndim == 0 else terms
    s = transfer.settings
    total, content, style, tv = reference
    if terms.shape == (4,):
        wrong_layers = {}
        for layer in ("block4_conv1", "block5_conv2", "block3_conv2", "block2_conv2", "block1_conv2"):
            mine_feats, target = _features([layer], x=x)[layer], _features([layer], x=transfer.x_content)[layer]
            wrong_layers[f"comes from {layer}, not {s.content_layers[0]}: use the content layers of the settings"] = \
                float(np.mean((np.asarray(mine_feats, np.float64) - np.asarray(target, np.float64)) ** 2))
        compare(terms[1], content, "your content term", alternatives=wrong_layers)
        compare(terms[2], style, "your style term")
        compare(terms[3], tv, "your TV term")
        terms = terms[:1]
    _check_total(terms[0], reference, s)
    compare(grad, reference_grad, "your gradient", factors={-1.0: "the sign is flipped: return the loss's gradient"})


def _check_training_step(terms_fn, trainer) -> None:
    batch = trainer.next_batch()
    reference = np.asarray(trainer.losses(batch), np.float64)
    mine = _array(terms_fn(batch), "your terms")
    if mine.shape != (4,):
        raise ExerciseFailed(f"your function returns {mine.shape} values: return total, content, style, tv")
    total, content, style, tv = reference
    s = trainer.settings
    compare(mine[1], content, "your content term",
            alternatives={"is zero: the content target must be the photos' features, not the network's": 0.0})
    compare(mine[2], style, "your style term",
            factors={float(len(s.style_layers)): "average the style layers: divide the sum by their number"})
    compare(mine[3], tv, "your TV term")
    _check_total(mine[0], reference, s)


def _check_total(mine, reference, s) -> None:
    """The total against the weighted sum, tightly: a small term (TV is often 1e-5 of the total)
    left out must still be seen."""
    total, content, style, tv = reference
    compare(mine, total, "your total loss", rtol=2e-6, alternative_rtol=2e-5,
            alternatives={"misses the TV term: add tv_weight * tv": total - s.tv_weight * tv,
                          "misses the content term: add content_weight * content": total - s.content_weight * content,
                          "misses the style term: add style_weight * style": total - s.style_weight * style,
                          "adds the terms without their weights": content + style + tv})


_CHECKS = {1: _check_preprocess, 2: _check_layers, 3: _check_content_loss, 4: _check_gram,
           5: _check_style_loss, 6: _check_tv, 7: _check_value_and_grad, 8: _check_training_step}

__all__ = ["EXERCISES", "ExerciseFailed", "check", "compare"]
