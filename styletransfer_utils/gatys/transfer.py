"""One size of a Gatys run: everything fixed while the picture is optimised, and the optimiser.

:class:`Pictures` reads the content and style pictures once and prepares their colours and masks.
:class:`StyleTransfer` builds, at one size, what does not change while the picture does (the
feature extractor, the content features, the blended style targets (Gram matrices, or what
``settings.style_loss`` compares) and a compiled value-and-gradient function) and optimises
with L-BFGS (the paper's choice, :mod:`.lbfgs`; each step is clipped to valid pixel values) or
Adam. :func:`.run.stylize` runs one per size of
the schedule; ``StyleTransfer(content, styles, settings).run()`` is the plain one-size algorithm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from ..device import import_tensorflow_quietly, resolve_precision

import_tensorflow_quietly()  # its C++ start-up lines would reach the terminal
import tensorflow as tf  # noqa: E402

from ..core.features import FeatureExtractor  # noqa: E402
from ..core.images import IMAGENET_MEAN_BGR, as_picture, one_or_many, preprocess, resize, resize_to_long_side  # noqa: E402
from ..core.objective import FLOAT16_LOSS_SCALE, FLOAT16_MIN_SCALE, FLOAT16_SCALE_STEP, Objective  # noqa: E402
from ..errors import SettingsError  # noqa: E402
from ..limits import MAX_STYLE_DECODE, MIN_VGG_SHORT_SIDE  # noqa: E402
from ..settings import Settings  # noqa: E402
from . import lbfgs  # noqa: E402
from .control import luminance_picture, prepare_colors, resize_mask, style_masks  # noqa: E402
from .log import Callback, Result, RunLog  # noqa: E402


class _NoRetracingNotes(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" warning: every run compiles its own
    objective for its picture's shape on purpose (slider previews, notebooks run several)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_NoRetracingNotes())

#: Adam's epsilon, far below any gradient: with relative losses (the default) the gradients are
#: about 1e-5 per pixel, and the epsilon of 0.1 that suits the paper's absolute losses (gradients
#: of 1e2 and more) turned every step into ``learning_rate * g / 0.1``, a thousandth of a level.
ADAM_EPSILON = 1e-12


@lru_cache(maxsize=4)
def cached_extractor(layers: tuple, pooling: str, precision: str) -> FeatureExtractor:
    """Feature extractors are reused between runs with the same layers, pooling and precision."""
    return FeatureExtractor(layers, pooling=pooling, precision=precision)


def settings_or_default(settings) -> Settings:
    """``settings``, or the defaults for ``None``; anything else (a dict, say) is a one-line error."""
    if settings is not None and not isinstance(settings, Settings):
        raise SettingsError(f"settings is a {type(settings).__name__}",
                            "pass a Settings, or the changes as keywords: stylize(c, [s], size=256)")
    return settings or Settings()


@dataclass(frozen=True)
class Pictures:
    """A run's pictures, read once: the content and the styles with their colours prepared
    (``settings.preserve_colors``), each style's blend weight (summing to one), the style masks
    as arrays at the content's shape, and ``finish``, which turns a picture of the run into the
    one to show (the content's colours put back, or the picture itself)."""

    content: np.ndarray
    styles: list
    blend: list
    masks: tuple | None
    finish: Callable

    @classmethod
    def read(cls, content, styles, settings: Settings) -> "Pictures":
        """Paths or RGB arrays; files are decoded with their long side at most ``settings.size``
        or :data:`~..limits.MAX_STYLE_DECODE`, whichever is larger."""
        decode = max(settings.size, MAX_STYLE_DECODE)
        content = as_picture(content, decode)
        styles = [as_picture(p, decode) for p in one_or_many(styles)]
        if settings.style_weight > 0 and not styles:
            raise SettingsError("no style picture given", "pass at least one style picture, or set style_weight to 0")
        blend = settings.blend_weights(len(styles)) if styles else []  # one per style, or a one-line error
        content, styles, finish = prepare_colors(content, styles, settings.preserve_colors, settings.color_transform)
        masks = (tuple(style_masks(settings.style_masks, len(styles), content.shape[:2]))
                 if settings.style_masks else None)
        return cls(content, styles, blend, masks, finish)

    @property
    def aspect(self) -> float:
        """The content's short side over its long side."""
        return min(self.content.shape[:2]) / max(self.content.shape[:2])


class StyleTransfer:
    """Everything fixed during a Gatys run at one size, ready to optimise.

    ``content`` gives the output's shape (its long side is resized to ``settings.size``);
    ``styles`` is a list of pictures blended by ``settings.style_blend_weights``, each resized so
    its long side is ``settings.style_scale`` times the output's. Paths or RGB arrays work.
    ``settings.preserve_colors`` and ``settings.style_masks`` are applied as :mod:`.control`
    describes: with masks, each style is matched over its own region (weighted by its blend
    weight over the largest, so equal weights give every region the full style).

    ``objective`` replaces the one the settings describe (its weights and layers; the settings'
    ``relative_losses`` and precision still apply), for experiments with other losses.
    """

    def __init__(self, content, styles: Sequence = (), settings: Settings | None = None, *, extractor=None,
                 objective: Objective | None = None):
        s = settings_or_default(settings)
        pictures = Pictures.read(resize_to_long_side(as_picture(content, s.size), s.size), styles, s)
        self._build(pictures, s, s.size, extractor, objective, luminance_init=s.preserve_colors == "luminance",
                    sized=True)

    @classmethod
    def at_size(cls, pictures: Pictures, settings: Settings, size: int, *, extractor=None,
                objective: Objective | None = None) -> "StyleTransfer":
        """One size of a coarse-to-fine run, from pictures read once (:class:`Pictures`)."""
        transfer = cls.__new__(cls)
        transfer._build(pictures, settings, size, extractor, objective, luminance_init=False)
        return transfer

    def _build(self, pictures: Pictures, s: Settings, size: int, extractor, objective, luminance_init: bool,
               sized: bool = False):
        self.settings, self.size, self.finish, self._luminance_init = s, size, pictures.finish, luminance_init
        self.content = pictures.content if sized else resize_to_long_side(as_picture(pictures.content, size), size)
        if min(self.content.shape[:2]) < MIN_VGG_SHORT_SIDE:
            h, w = self.content.shape[:2]
            raise SettingsError(f"the content picture is {w}x{h} pixels at size {size}: VGG19 needs a short side of "
                                f"at least {MIN_VGG_SHORT_SIDE}", "use a larger size, or crop the picture less wide")
        self.styles, self.blend = pictures.styles, pictures.blend
        self.masks = (style_masks(pictures.masks, len(self.styles), self.content.shape[:2])
                      if pictures.masks is not None else None)
        self.precision = resolve_precision(s.precision)
        self.objective = objective or Objective.from_settings(s)
        self.content_layers = self.objective.content_layers
        self.layer_weights = self.objective.style_layer_weights
        if not self.objective.layers:
            raise SettingsError("content and style weights are both zero", "make at least one of them positive")
        self.extractor = extractor or cached_extractor(self.objective.layers, s.pooling, self.precision)
        self.x_content = preprocess(self.content)
        feats = self.extractor(self.x_content)
        self.content_targets = {name: feats[name] for name in self.content_layers}
        if self.masks is None:
            self.style_targets = self.objective.prepare_targets(self._blended_targets())
        else:
            self.style_targets = self._guided_targets(feats)
        if s.relative_losses:
            self.objective = self.objective.relative(self.content_targets, self.style_targets)
        if self.precision == "mixed_bfloat16":  # Gram matrices in bf16: see losses.gram_matrix
            self.objective = replace(self.objective, gram_dtype="bfloat16")
        self.loss_scale = FLOAT16_LOSS_SCALE if self.precision == "mixed_float16" else 1.0
        self._value_and_grad = self._compile()

    # -- targets ---------------------------------------------------------------------------

    def style_size(self) -> int:
        return max(32, round(self.settings.style_scale * max(self.content.shape[:2])))

    def _style_features(self, style) -> dict:
        return self.extractor(preprocess(resize_to_long_side(style, self.style_size())))

    def _blended_targets(self) -> dict:
        """The styles' :meth:`~..core.objective.Objective.style_targets`, weighted and summed: the blend."""
        grams = {}
        for weight, style in zip(self.blend, self.styles):
            for name, gram in self.objective.style_targets(self._style_features(style), weight).items():
                grams[name] = grams[name] + gram if name in grams else gram
        return grams

    def _guided_targets(self, content_features: dict) -> dict:
        """Per style layer, each style's targets (its Gram matrix) and its mask at that layer's resolution."""
        objective = self.objective
        per_style = [objective.prepare_targets(objective.style_targets(self._style_features(s))) for s in self.styles]
        weights = np.asarray(self.blend, np.float32) / max(self.blend)
        targets = {}
        for name in objective.style_layers:
            shape = tuple(content_features[name].shape[1:3])
            masks = np.stack([resize_mask(mask, shape) for mask in self.masks])
            targets[name] = objective.regions([t[name] for t in per_style], masks, weights)
        return targets

    # -- the compiled objective ------------------------------------------------------------

    def _compile(self):
        objective, extractor = self.objective, self.extractor
        content_targets, style_targets = self.content_targets, self.style_targets

        def value_and_grad(x, scale):
            with tf.GradientTape() as tape:
                tape.watch(x)
                terms = objective.terms(extractor(x), content_targets, style_targets, x)
                scaled = terms["total"] * scale
            grad = tape.gradient(scaled, x) / scale
            return objective.stack(terms), grad

        # Traced for the one picture shape of this run: static shapes let the graph optimiser
        # pick the convolution layouts up front (measurably faster than a [1, None, None, 3] trace).
        return tf.function(value_and_grad, jit_compile=self.settings.jit_compile, autograph=False)

    def value_and_grad(self, x):
        """Loss terms ``[total, content, style, tv]`` and d(total)/dx for a VGG19 input ``x``."""
        x = tf.convert_to_tensor(x, tf.float32)
        while True:
            terms, grad = self._value_and_grad(x, tf.constant(self.loss_scale, tf.float32))
            if self.precision != "mixed_float16" or self.loss_scale <= FLOAT16_MIN_SCALE:
                return terms, grad
            if not bool(tf.math.is_finite(terms[0])) or bool(tf.reduce_all(tf.math.is_finite(grad))):
                return terms, grad  # a non-finite loss is the run's problem, not the scale's
            self.loss_scale /= FLOAT16_SCALE_STEP

    # -- initial picture -------------------------------------------------------------------

    def initial_input(self, init=None) -> np.ndarray:
        """The starting VGG19 input: the content picture, white noise, or a picture (file or array)."""
        init = self.settings.init if init is None else init
        h, w = self.content.shape[:2]
        if isinstance(init, str) and init == "content":
            return np.array(self.x_content, dtype=np.float32)
        if isinstance(init, str) and init == "noise":
            rng = np.random.default_rng(self.settings.seed)
            return preprocess(rng.uniform(0.0, 255.0, size=(h, w, 3)).astype(np.float32))
        picture = resize(as_picture(init), (h, w))
        return preprocess(luminance_picture(picture) if self._luminance_init else picture)

    # -- optimisation ----------------------------------------------------------------------

    def run(self, callbacks: Sequence[Callback] = (), *, init=None, steps: int | None = None) -> Result:
        """Optimise for ``steps`` loss evaluations (default ``settings.steps``) at this size;
        Ctrl-C stops early, keeping the best picture."""
        steps = self.settings.steps if steps is None else steps
        log = RunLog(steps, callbacks, finish=self.finish)
        picture = self.optimize(self.initial_input(init), steps, log)
        return log.result(self.finish(picture), self.settings)

    def optimize(self, x0: np.ndarray, steps: int, log: RunLog) -> np.ndarray:
        """Optimise from the VGG19 input ``x0`` for at most ``steps`` evaluations, each logged in
        ``log``; returns the best picture (RGB). Ctrl-C or a loss that diverges ends it early."""
        if self.settings.seed is not None:
            tf.random.set_seed(self.settings.seed)
        log.begin_size(x0)
        try:
            if self.settings.optimizer == "lbfgs":
                self._run_lbfgs(log, steps)
            else:
                self._run_adam(log, steps)
        except KeyboardInterrupt:
            log.interrupted = True
        return log.end_size()

    def _evaluate(self, log: RunLog, x: np.ndarray):
        terms, grad = self.value_and_grad(x[None] if x.ndim == 3 else x)
        terms = terms.numpy().astype(np.float64)
        log.record(x, terms)
        return terms[0], grad.numpy()

    def _run_lbfgs(self, log: RunLog, steps: int) -> None:
        from threadpoolctl import threadpool_limits

        low = np.broadcast_to(-IMAGENET_MEAN_BGR, log.best_x.shape).astype(np.float32)
        with threadpool_limits(1, user_api="blas"):  # BLAS threads would fight TensorFlow's for the cores
            lbfgs.minimize(lambda x: self._evaluate(log, x), log.best_x, low, low + 255.0, max_evals=steps)

    def _run_adam(self, log: RunLog, steps: int) -> None:
        """Adam from ``log.best_x``. With ``settings.average`` (a decay ``d``) it also keeps the
        bias-corrected moving average of its iterates, ``a = sum_k d^(n-k) x_k / sum_k d^(n-k)``
        (as crowsonkb/style-transfer-pytorch does), spends the size's last evaluation on it, and
        makes it the size's picture, whatever its loss: its loss was never the lowest of its size
        in the runs measured, though its pictures scored about as well (better on The Starry Night,
        worse on The Scream; ``bench/RESULTS.md``, "What is style?")."""
        import keras

        s = self.settings
        var = tf.Variable(log.best_x)
        opt = keras.optimizers.Adam(learning_rate=s.learning_rate, beta_1=0.9, beta_2=0.999, epsilon=ADAM_EPSILON)
        low = -IMAGENET_MEAN_BGR
        averaging = s.average > 0 and steps > 1
        total, weight = np.zeros_like(log.best_x), 0.0
        for _ in range(steps - averaging):
            _, grad = self._evaluate(log, var.numpy())
            if log.diverged:
                return
            opt.apply_gradients([(tf.convert_to_tensor(grad), var)])
            var.assign(tf.clip_by_value(var, low, low + 255.0))
            if averaging:
                total, weight = s.average * total + (1.0 - s.average) * var.numpy(), s.average * weight + 1.0 - s.average
        if averaging:
            average = (total / weight).astype(np.float32)
            self._evaluate(log, average)
            if not log.diverged:
                log.keep_last(average)
