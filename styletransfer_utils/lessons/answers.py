"""Each exercise's inputs and judge: what the learner's function is given, and how its answer is read.

For exercise ``n``, ``CASES[n](context, fresh)`` makes the inputs, as tuples of arguments (NumPy
arrays, names, dicts); ``JUDGES[n](outputs, cases, context, info)`` compares the learner's outputs
for them with the package's tested implementation, computed then, and raises
:class:`~.feedback.ExerciseFailed` naming what differs. ``fresh=None`` gives the fixed inputs that
the notebooks' check cells use; a seed gives other values, other shapes and other layers, which
the grader draws for each run, so that no answer can be learnt by heart. ``info`` carries what the
grader measured beside the outputs: the function's source (for loops) and seconds per call. The
judges never call the learner's code: they run in the grader's process, on what the kernel sent.

Exercises 7 and 8 need the lesson's set-up (``context``: a ``StyleTransfer``, a ``Trainer``);
:func:`grading_context` builds it as notebooks 04 and 06 do in smoke mode.
"""

from __future__ import annotations

import time

import numpy as np

from .feedback import ExerciseFailed, compare, loops

#: notebook 04's StyleTransfer for exercise 7 (the paper's absolute losses and layers), less its size
GATYS_SETTINGS = dict(precision="float32", seed=0, relative_losses=False, style_weight=5e-4, tv_weight=1e-3, content_layers=("conv4_2",), style_layer_weights=(1, 1, 1, 1, 1))
#: notebook 06's TrainSettings for exercise 8 in smoke mode (its layers: Johnson et al.'s), less its precision
TRAIN_SETTINGS = dict(steps=4, batch_size=1, crop_size=64, half_width=True, checkpoint_every=0, preview_every=0, seed=0,
                      init=None, relative_losses=False, style_weight=2e-4, tv_weight=1.0)


# -- inputs --------------------------------------------------------------------------------------

def _shift(fresh, n: int) -> int:
    """0 for the check cells' fixed inputs; 1..n, drawn from ``fresh``, for the grader's."""
    return 0 if fresh is None else 1 + int(fresh) % n


def _tensor(shape, seed: int, low: float = 0.0, high: float = 3.0, fresh=None) -> np.ndarray:
    seed = seed if fresh is None else seed + 7919 * int(fresh)
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


def _pictures(size: int = 64):
    """Tübingen and The Starry Night, long side ``size`` (the example pictures, cached)."""
    from ..data import load_example

    return load_example("tubingen", size), load_example("starry_night", size)


def _features(layers, picture=None, *, x=None):
    """The float32 VGG19 features of ``picture`` (RGB) or of the VGG19 input ``x``."""
    from ..core.images import preprocess
    from ..gatys.transfer import cached_extractor

    return cached_extractor(tuple(layers), "max", "float32")(preprocess(picture) if x is None else x)


def _numpy(features: dict) -> dict:
    return {name: np.asarray(f) for name, f in features.items()}


def _convs():
    from ..core.features import VGG19_LAYERS

    return tuple(name for name, kind, _ in VGG19_LAYERS if kind == "conv")


# -- 1: preprocessing ----------------------------------------------------------------------------

def _cases_preprocess(context, fresh):
    return [(_pictures(48 + 4 * _shift(fresh, 8))[0],)]


def _judge_preprocess(outputs, cases, context, info) -> None:
    from ..core.images import IMAGENET_MEAN_BGR, preprocess

    photo = cases[0][0]
    h, w = photo.shape[:2]
    compare(outputs[0], np.asarray(preprocess(photo)), "your VGG19 input",
            shape_hints={(h, w, 3): "add the batch axis, x[None]"},
            alternatives={"is still RGB: reverse the channels to BGR (x[..., ::-1])": photo[None] - IMAGENET_MEAN_BGR,
                          "still has the ImageNet mean in it: subtract IMAGENET_MEAN_BGR": photo[None, ..., ::-1],
                          "was not preprocessed at all: reverse to BGR and subtract the mean": photo[None],
                          "subtracts the mean in RGB order: reverse the channels first, then subtract the BGR mean":
                              (photo - IMAGENET_MEAN_BGR)[None, ..., ::-1],
                          "was scaled to [0, 1]: VGG19 (caffe) takes 0-255 values": (photo / 255.0)[None, ..., ::-1]
                              - IMAGENET_MEAN_BGR})


# -- 2: the feature extractor's layers -----------------------------------------------------------

def _cases_layers(context, fresh):
    from ..core.images import preprocess

    convs = _convs()
    wanted = ["block1_conv1", "block3_conv1", "block4_conv2"]
    if fresh is not None:
        picked = np.random.default_rng(int(fresh)).choice(len(convs), 3, replace=False)
        wanted = [convs[i] for i in sorted(picked)]
    return [(wanted, np.asarray(preprocess(_pictures(48 + 4 * _shift(fresh, 4))[0])))]


def _judge_layers(outputs, cases, context, info) -> None:
    convs = _convs()
    wanted, x = cases[0]
    got = outputs[0]
    if isinstance(got, (list, tuple)):
        got = dict(zip(wanted, got))
    if not isinstance(got, dict) or set(got) != set(wanted):
        raise ExerciseFailed(f"your model gives {type(got).__name__} {sorted(got) if isinstance(got, dict) else ''}: "
                             f"return {{name: features}} for exactly the layers asked for")
    every = _features(convs, x=x)
    for name in wanted:
        alternatives = {f"comes from {other}, not {name}: pick the layer by its name": every[other]
                        for other in convs if other != name and every[other].shape == every[name].shape}
        compare(got[name], every[name], f"the output for {name}", alternatives=alternatives)


# -- 3-6: the losses -----------------------------------------------------------------------------

def _cases_content(context, fresh):
    from ..core.images import resize

    s = _shift(fresh, 5)
    content, style = _pictures(64 + 8 * s)
    return [(_tensor((1, 4 + s, 6 + s, 3), 1, fresh=fresh), _tensor((1, 4 + s, 6 + s, 3), 2, fresh=fresh)),
            (np.asarray(_features(["block4_conv2"], content)["block4_conv2"]),
             np.asarray(_features(["block4_conv2"], resize(style, content.shape[:2]))["block4_conv2"]))]


def _judge_content(outputs, cases, context, info) -> None:
    from ..core.losses import content_loss

    for (F, P), mine in zip(cases, outputs):
        m, n = int(np.prod(F.shape[1:3])), int(F.shape[-1])
        compare(mine, content_loss(F, P), "your content loss",
                factors={m * n: "take the mean over positions and channels (divide the sum by M*N)",
                         m * n / 2: "use the mean, 1/(M N) * sum, not the paper's 1/2 * sum",
                         0.5: "drop the 1/2: the package's content loss is the plain mean squared difference",
                         m: "divide by N*M, not only N", n: "divide by N*M, not only M"},
                alternatives={"is the mean absolute difference: square the differences": np.mean(np.abs(F - P))},
                shape_hints={tuple(F.shape): "reduce to one number (a scalar)"})


def _cases_gram(context, fresh):
    s = _shift(fresh, 4)
    return [(_tensor((1, 4 + s, 5 + s, 3), 3, fresh=fresh),),
            (np.asarray(_features(["block3_conv1"], _pictures(64 + 8 * s)[0])["block3_conv1"]),)]


GRAM_RESHAPED = ("reshapes the (H, W, N) features straight to (N, M): that mixes positions and channels (a "
                 "row is not one channel). Reshape to (M, N) = (H*W, N), then transpose that (tf.transpose) and "
                 "take F^T F")


def _judge_gram(outputs, cases, context, info) -> None:
    from ..core.losses import gram_matrix

    for (F,), mine in zip(cases, outputs):
        h, w, n = (int(d) for d in F.shape[1:])
        flat = F.astype(np.float64).reshape(h * w, n)
        scrambled = F.astype(np.float64).reshape(n, h * w)  # the classic bug: reshape to (N, M), no transpose
        compare(mine, gram_matrix(F), "your Gram matrix",
                factors={h * w: "divide by H*W (the number of positions M)", float(n): "divide by H*W, not by N",
                         1 / n: "divide by H*W only, not by H*W*N"},
                shape_hints={(1, h * w, h * w): "the transpose trick is on the wrong axis: reshape to (M, N) and "
                                                "take F^T F (channels x channels), not F F^T",
                             (h * w, h * w): "the transpose trick is on the wrong axis: take F^T F, N x N",
                             (n, n): "keep the batch axis: shape (1, N, N)"},
                alternatives={GRAM_RESHAPED: (scrambled @ scrambled.T / (h * w))[None],
                              GRAM_RESHAPED + ", and divide by H*W": (scrambled @ scrambled.T)[None],
                              "uses the features without the ReLU's zeros, or centred: take F^T F of the raw features":
                              ((flat - flat.mean(0)).T @ (flat - flat.mean(0)) / (h * w))[None]})


def _cases_style(context, fresh):
    from ..core.losses import gram_matrix

    convs = _convs()
    layers = ["block1_conv1", "block2_conv1", "block3_conv1"]
    if fresh is not None:
        layers = [convs[i] for i in sorted(np.random.default_rng(int(fresh)).choice(9, 3, replace=False))]
    content, style = _pictures(64 + 8 * _shift(fresh, 4))
    weights = dict(zip(layers, (0.2, 0.3, 0.5) if fresh is None else np.round(
        np.random.default_rng(int(fresh)).uniform(0.1, 1.0, 3), 3).tolist()))
    targets = {name: np.asarray(gram_matrix(f)) for name, f in _features(layers, style).items()}
    return [(_numpy(_features(layers, content)), targets, weights)]


def _judge_style(outputs, cases, context, info) -> None:
    from ..core.losses import style_loss

    feats, targets, weights = cases[0]
    layers = list(weights)
    per_layer = {name: float(style_loss(feats, targets, {name: 1.0})) for name in layers}
    unnormalised = sum(w * per_layer[n] * 4 * int(feats[n].shape[-1]) ** 2 for n, w in weights.items())
    compare(outputs[0], style_loss(feats, targets, weights), "your style loss",
            alternatives={"ignores the layer weights: multiply each layer's loss by its w_l": sum(per_layer.values()),
                          "averages the layers: weight each by w_l and add them": np.mean(list(per_layer.values())),
                          "misses 1/(4 N^2) for each layer (N: that layer's channels)": unnormalised,
                          "uses only the last layer: add every layer in the weights": weights[layers[-1]] * per_layer[layers[-1]]})


_VECTORISE = ("vectorise it: one slice of the whole picture that leaves out its first row, minus one that leaves "
              "out its last, gives every vertical difference at once (and likewise for columns)")  # not the slices


def _cases_tv(context, fresh):
    s = _shift(fresh, 5)
    return [(_tensor((1, 5 + s, 7 + s, 3), 4, 0, 255, fresh=fresh),), (_pictures(64 + 8 * s)[0][None],),
            (_tensor((1, 256, 256, 3), 5, 0, 255, fresh=fresh),)]  # the last one is timed


def _judge_tv(outputs, cases, context, info) -> None:
    from ..core.losses import total_variation_loss

    loop = loops(info.get("source"))
    if loop:
        raise ExerciseFailed(f"uses a Python loop ({loop}): {_VECTORISE}")
    for (x,), mine in zip(cases[:2], outputs):
        a = x.astype(np.float64)
        down, across = a[:, 1:] - a[:, :-1], a[:, :, 1:] - a[:, :, :-1]
        compare(mine, total_variation_loss(x), "your total variation",
                alternatives={"is missing the square: square the differences (this is L1 total variation)":
                              np.mean(np.abs(down)) + np.mean(np.abs(across)),
                              "uses only the vertical differences: add the horizontal ones": np.mean(down**2),
                              "uses only the horizontal differences: add the vertical ones": np.mean(across**2),
                              "sums where the package takes means: use the mean of each direction's squares":
                                  np.sum(down**2) + np.sum(across**2)})
    seconds = info.get("seconds") or []
    if len(seconds) == len(cases):
        big = cases[-1][0]
        total_variation_loss(big)
        start = time.perf_counter()
        total_variation_loss(big)
        reference = time.perf_counter() - start
        if seconds[-1] > 50 * reference + 0.05:
            raise ExerciseFailed(f"takes {seconds[-1]:.2f} s on a 256x256 picture, {seconds[-1] / reference:.0f}x the "
                                 f"reference: {_VECTORISE}")


# -- 9: a blend of two styles ------------------------------------------------------------------

def _cases_blend(context, fresh):
    """Two styles' features (seeded tensors; then two paintings resized to one shape, at two
    layers) and their blend weights, which need not add up to one; the grader's draw may have three."""
    from ..core.images import resize
    from ..data import load_example

    s = _shift(fresh, 4)
    count = 2 if fresh is None else 2 + int(fresh) % 2
    weights = [1.0, 3.0] if fresh is None else np.round(np.random.default_rng(int(fresh)).uniform(0.2, 2.0, count), 3).tolist()
    small = [{"a": _tensor((1, 4 + s, 5 + s, 3), 10 + i, fresh=fresh)} for i in range(count)]
    layers = ["block1_conv1", "block3_conv1"] if fresh is None else \
        [_convs()[i] for i in sorted(np.random.default_rng(int(fresh)).choice(9, 2, replace=False))]
    shape = (48 + 8 * s, 64 + 8 * s)  # one shape for every painting: mixing their features would not crash
    names = ["starry_night", "the_scream", "shipwreck"][:count]
    real = [_numpy(_features(layers, resize(load_example(name, 128), shape))) for name in names]
    return [(small, weights), (real, weights[::-1])]


def _blend(styles, weights):
    """The package's blend (``StyleTransfer._blended_targets``, with ``Settings.blend_weights``):
    each style's Gram matrices times its weight over the weights' sum, added."""
    from ..core.losses import gram_matrix

    total = float(sum(weights))
    return {name: sum(w / total * np.asarray(gram_matrix(style[name]), np.float64) for style, w in zip(styles, weights))
            for name in styles[0]}


def _gram64(features) -> np.ndarray:
    """F^T F / M in float64, ``(1, N, N)``, of features ``(1, H, W, N)`` or pooled positions ``(M, N)``."""
    flat = np.asarray(features, np.float64).reshape(-1, np.shape(features)[-1])
    return (flat.T @ flat / len(flat))[None]


def _judge_blend(outputs, cases, context, info) -> None:
    for (styles, weights), mine in zip(cases, outputs):
        if not isinstance(mine, dict) or set(mine) != set(styles[0]):
            raise ExerciseFailed(f"your function returns {type(mine).__name__} "
                                 f"{sorted(mine) if isinstance(mine, dict) else ''}: return {{layer: blended Gram "
                                 "matrix}} for every layer of the styles")
        reference, total = _blend(styles, weights), float(sum(weights))
        unweighted, reversed_ = _blend(styles, [1.0] * len(weights)), _blend(styles, weights[::-1])
        for name in styles[0]:
            n = int(styles[0][name].shape[-1])
            alternatives = {"ignores the blend weights: weight each style's Gram matrix by w_s / sum(w)": unweighted[name],
                            "gives each style another's weight: pair each Gram matrix with its own weight": reversed_[name],
                            "is the Gram matrix of the mixed features: blend the Gram matrices, not the features (a Gram "
                            "matrix is quadratic in them)":
                                _gram64(sum(w / total * np.asarray(s[name], np.float64) for s, w in zip(styles, weights)))}
            compare(mine[name], reference[name], f"your blend at {name}",
                    factors={total: "divide the weights by their sum (they need not add up to one)"},
                    shape_hints={(n, n): "keep the batch axis: shape (1, N, N)"},
                    alternatives={k: v for k, v in alternatives.items() if not np.allclose(v, reference[name])})


# -- 10: the guided Gram matrix ------------------------------------------------------------------

def _ramp_masks(h: int, w: int, count: int, seed=None) -> np.ndarray:
    """``count`` soft masks ``(count, h, w)`` in [0, 1]: a left-to-right ramp and its complement
    (and, drawn, a third), as a resized mask is soft at its region's border."""
    ramp = np.clip(np.linspace(-0.3, 1.3, w, dtype=np.float32), 0, 1)[None].repeat(h, 0)
    masks = [ramp, 1.0 - ramp]
    if count > 2:
        masks.append(np.random.default_rng(seed).uniform(0, 1, (h, w)).astype(np.float32))
    return np.stack(masks[:count]).astype(np.float32)


def _cases_guided(context, fresh):
    s = _shift(fresh, 4)
    count = 2 if fresh is None else 2 + int(fresh) % 2
    small = _tensor((1, 4 + s, 6 + s, 3), 6, fresh=fresh)
    soft = _tensor((count, 4 + s, 6 + s), 7, 0.0, 1.0, fresh=fresh)
    layer = "block3_conv1" if fresh is None else _convs()[int(fresh) % 9]
    features = np.asarray(_features([layer], _pictures(64 + 8 * s)[0])[layer])
    h, w = features.shape[1:3]
    return [(small, soft), (features, _ramp_masks(h, w, count, fresh))]


def _judge_guided(outputs, cases, context, info) -> None:
    from ..core.losses import guided_gram_matrix

    for (F, masks), mine in zip(cases, outputs):
        f, m = F.astype(np.float64)[0], masks.astype(np.float64)
        count, (h, w, n) = len(m), f.shape
        square_sum, plain_sum = (m**2).sum((1, 2))[:, None, None], m.sum((1, 2))[:, None, None]
        sums = np.asarray(guided_gram_matrix(F, masks), np.float64) * square_sum   # sum_k m_k^2 F_k F_k^T
        # the mask on one factor, sum_k m_k F_k F_k^T: the guided Gram matrix of the mask's square root, times sum(m)
        once = np.asarray(guided_gram_matrix(F, np.sqrt(masks)), np.float64) * plain_sum
        compare(mine, guided_gram_matrix(F, masks), "your guided Gram matrix",
                shape_hints={(1, n, n): "one Gram matrix per mask: shape (S, N, N), S the number of masks",
                             (n, n): "one Gram matrix per mask: shape (S, N, N), S the number of masks",
                             (count, h * w, h * w): "the transpose is on the wrong axis: (T∘F)^T (T∘F) is N x N"},
                alternatives={"divides by the sum of the mask, not of its square: the numerator weights each position "
                              "by m^2 (the mask multiplies both factors), so divide by sum(m^2)": sums / plain_sum,
                              "divides by the number of positions H*W: divide by the region's size, sum(m^2), so that "
                              "a small region is not a small Gram matrix": sums / (h * w),
                              "is not normalised: divide each region's sum by its size, sum(m^2)": sums,
                              "applies the mask once: multiply both factors by it, (T∘F)^T (T∘F)": once / square_sum,
                              "applies the mask once and divides by its sum: multiply both factors by the mask and "
                              "divide by sum(m^2)": once / plain_sum,
                              "ignores the masks: multiply the features by each mask before the product":
                                  np.repeat(_gram64(f), count, 0)})


# -- 11: the mean and standard deviation loss (notebook 08) -------------------------------------

def _cases_mean_std(context, fresh):
    s = _shift(fresh, 4)
    content, style = _pictures(64 + 8 * s)
    layer = "block3_conv1" if fresh is None else ("block2_conv1", "block3_conv1", "block4_conv1")[int(fresh) % 3]
    theirs = np.asarray(_features([layer], style)[layer], np.float64)
    theirs = theirs.reshape(-1, theirs.shape[-1])                       # the painting's positions x channels
    synthetic = (_tensor((1, 4 + s, 5 + s, 3), 6, fresh=fresh).astype(np.float64) * 2 + 1).reshape(-1, 3)
    return [(_tensor((1, 4 + s, 5 + s, 3), 7, fresh=fresh), synthetic.mean(0).astype(np.float32),
             synthetic.std(0).astype(np.float32)),
            (np.asarray(_features([layer], content)[layer]), theirs.mean(0).astype(np.float32),
             theirs.std(0).astype(np.float32))]


def _judge_mean_std(outputs, cases, context, info) -> None:
    from ..core.losses import mean_std_loss

    for (F, m, sd), mine in zip(cases, outputs):
        flat = F.astype(np.float64).reshape(-1, F.shape[-1])
        mu, sigma, n = flat.mean(0), flat.std(0), flat.shape[1]
        both = np.mean((mu - m) ** 2 + (sigma - sd) ** 2)
        compare(mine, mean_std_loss(F, m, sd), "your mean/std loss",
                factors={float(n): "average over the N channels (divide the sum by N)",
                         0.5: "drop the 1/2: add the two squared differences as they are"},
                shape_hints={(n,): "average over the channels: one number", (1, n): "average over the channels: one number"},
                alternatives={"misses the standard deviations: add (sigma - s)^2": np.mean((mu - m) ** 2),
                              "misses the means: add (mu - m)^2": np.mean((sigma - sd) ** 2),
                              "compares variances, not standard deviations: take the square root of each channel's "
                              "variance": np.mean((mu - m) ** 2 + (sigma**2 - sd.astype(np.float64) ** 2) ** 2),
                              "uses the unbiased standard deviation (divides by M - 1): divide by M, the number of "
                              "positions": np.mean((mu - m) ** 2 + (flat.std(0, ddof=1) - sd) ** 2),
                              "takes the square root of the loss: return the mean of the squared differences":
                              np.sqrt(both),
                              "takes the statistics over the channels at each position, not over the positions of "
                              "each channel: reduce over axes 1 and 2 (height and width)":
                              np.mean((flat.mean(1) - m.mean()) ** 2 + (flat.std(1) - sd.mean()) ** 2)})


# -- 7 and 8: one step of each method ------------------------------------------------------------

def _cases_value_and_grad(context, fresh):
    """Noise, then the painting under a checkerboard: its style term is small, so TV weighs about 2e-5
    of the total (on noise under 1e-6), enough for :func:`_check_total` to see it left out."""
    from ..core.images import preprocess, resize

    transfer = context["transfer"]
    h, w = transfer.content.shape[:2]
    noise = np.asarray(transfer.initial_input("noise") if fresh is None else
                       preprocess(np.random.default_rng(int(fresh)).uniform(0, 255, (h, w, 3)).astype(np.float32)))
    s = _shift(fresh, 3)
    board = ((np.indices((h, w)).sum(0) + s) % 2 * 2.0 - 1.0)[None, :, :, None] * (80 + 10 * s)
    return [(noise,), ((np.asarray(preprocess(resize(np.asarray(transfer.styles[0]), (h, w)))) + board).astype(np.float32),)]


def _pair(output, what: str):
    if not isinstance(output, (list, tuple)) or len(output) != 2:
        raise ExerciseFailed(f"your function returns {type(output).__name__}: return {what}")
    return output


_WRONG_CONTENT_LAYERS = ("block4_conv1", "block5_conv2", "block3_conv2", "block2_conv2", "block1_conv2")


def _judge_value_and_grad(outputs, cases, context, info) -> None:
    transfer = context["transfer"]
    s = transfer.settings
    targets = _numpy(_features(_WRONG_CONTENT_LAYERS, x=transfer.x_content))  # layers taken for conv4_2 by mistake
    for (x,), output in zip(cases, outputs):
        terms, grad = _pair(output, "(terms, gradient)")
        reference, reference_grad = transfer.value_and_grad(x)
        terms, reference = np.atleast_1d(np.asarray(terms, np.float64)), np.asarray(reference, np.float64)
        total, content, style, tv = reference
        if terms.shape == (4,):
            mine = _numpy(_features(_WRONG_CONTENT_LAYERS, x=x))
            wrong_layers = {f"comes from {layer}, not {s.content_layers[0]}: use the content layers of the settings":
                            float(np.mean((mine[layer].astype(np.float64) - targets[layer].astype(np.float64)) ** 2))
                            for layer in _WRONG_CONTENT_LAYERS}
            compare(terms[1], content, "your content term", alternatives=wrong_layers)
            compare(terms[2], style, "your style term")
            compare(terms[3], tv, "your TV term")
        _check_total(terms[0], reference, s)
        compare(grad, reference_grad, "your gradient", factors={-1.0: "the sign is flipped: return the loss's gradient"})


def _cases_training_step(context, fresh):
    return [(np.asarray(context["trainer"].next_batch()),)]


def _judge_training_step(outputs, cases, context, info) -> None:
    trainer = context["trainer"]
    reference = np.asarray(trainer.losses(cases[0][0]), np.float64)
    mine = outputs[0]
    mine = np.asarray(mine if not isinstance(mine, (list, tuple)) else [np.asarray(v) for v in mine], np.float64)
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


def grading_context(number: int, folder) -> dict:
    """The set-up exercise ``number`` needs, as notebooks 04 and 06 make it in smoke mode (``folder``:
    where exercise 8's training photos may go)."""
    from pathlib import Path

    from .. import data

    if number == 7:
        from ..gatys import StyleTransfer
        from ..settings import Settings

        return {"transfer": StyleTransfer(data.example_path("tubingen"), [data.example_path("starry_night")],
                                          Settings(size=64, **GATYS_SETTINGS))}
    if number == 8:
        from ..core.images import save_image
        from ..feedforward import Trainer, TrainSettings
        from ..settings import JOHNSON_CONTENT_LAYERS, JOHNSON_STYLE_LAYERS

        photos = Path(folder) / "photos"
        photos.mkdir(parents=True, exist_ok=True)
        for name in data.SHIPPED_CONTENT:
            save_image(photos / f"{name}.png", data.shipped_content(name))
        settings = TrainSettings(**TRAIN_SETTINGS, precision="float32", content_layers=JOHNSON_CONTENT_LAYERS,
                                 style_layers=JOHNSON_STYLE_LAYERS)
        return {"trainer": Trainer(data.example_path("starry_night"), photos, settings)}
    return {}


CASES = {1: _cases_preprocess, 2: _cases_layers, 3: _cases_content, 4: _cases_gram, 5: _cases_style,
         6: _cases_tv, 7: _cases_value_and_grad, 8: _cases_training_step, 9: _cases_blend, 10: _cases_guided,
         11: _cases_mean_std}
JUDGES = {1: _judge_preprocess, 2: _judge_layers, 3: _judge_content, 4: _judge_gram, 5: _judge_style,
          6: _judge_tv, 7: _judge_value_and_grad, 8: _judge_training_step, 9: _judge_blend, 10: _judge_guided,
          11: _judge_mean_std}

__all__ = ["CASES", "GATYS_SETTINGS", "GRAM_RESHAPED", "JUDGES", "TRAIN_SETTINGS", "grading_context"]
