"""Gatys et al.'s algorithm: optimise the picture itself so its VGG19 features match.

Lesson: ``notebooks/04_optimization_and_acceleration.ipynb``.

:class:`StyleTransfer` prepares everything that does not change during a run (the feature
extractor, the content features, the blended style Gram matrices and a compiled
value-and-gradient function); :meth:`StyleTransfer.run` optimises with L-BFGS-B (the paper's
choice; pixels are kept inside their valid range by bounds) or Adam. A run stops after
``settings.steps`` loss evaluations, or early on Ctrl-C, and always returns the best picture
seen so far. :func:`stylize` does both steps in one call.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .device import import_tensorflow_quietly, resolve_precision

import_tensorflow_quietly()  # its C++ start-up lines would reach the terminal
import tensorflow as tf  # noqa: E402

from .errors import SettingsError  # noqa: E402
from .features import FeatureExtractor  # noqa: E402
from .images import (IMAGENET_MEAN_BGR, as_picture, deprocess, load_image, one_or_many,  # noqa: E402,F401
                     preprocess, resize, resize_to_long_side, save_image)
from .limits import MAX_STYLE_DECODE, MIN_VGG_SHORT_SIDE  # noqa: E402
from .objective import (FLOAT16_LOSS_SCALE, FLOAT16_MIN_SCALE, FLOAT16_SCALE_STEP, LOSS_TERMS,  # noqa: E402
                        Objective)
from .settings import Settings  # noqa: E402


class _NoRetracingNotes(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" warning: every run compiles its own
    objective for its picture's shape on purpose, so a few runs in one process (slider previews,
    a notebook) would otherwise print it to the user."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_NoRetracingNotes())


@dataclass
class Progress:
    """What a callback sees after every loss evaluation."""

    step: int
    steps: int
    losses: dict
    elapsed: float
    _x: np.ndarray = field(repr=False)

    def image(self) -> np.ndarray:
        """The current picture as an RGB float array in ``[0, 255]``."""
        return deprocess(self._x)


@dataclass
class Result:
    """The outcome of a run: the best picture and how the losses evolved."""

    image: np.ndarray
    losses: dict
    history: list
    steps: int
    seconds: float
    interrupted: bool
    settings: Settings
    diverged: bool = False  # the loss became NaN/inf: stopped early, best picture kept

    def save(self, path) -> Path:
        return save_image(path, self.image)


Callback = Callable[[Progress], None]


@lru_cache(maxsize=4)
def cached_extractor(layers: tuple, pooling: str, precision: str) -> FeatureExtractor:
    """Feature extractors are reused between runs with the same layers, pooling and precision."""
    return FeatureExtractor(layers, pooling=pooling, precision=precision)


def _settings_or_default(settings) -> Settings:
    """``settings``, or the defaults for ``None``; anything else (a dict, say) is a one-line error."""
    if settings is not None and not isinstance(settings, Settings):
        raise SettingsError(f"settings is a {type(settings).__name__}",
                            "pass a Settings, or the changes as keywords: stylize(c, [s], size=256)")
    return settings or Settings()


class StyleTransfer:
    """Everything fixed during one Gatys run, ready to optimise.

    ``content`` gives the output's shape (its long side is resized to ``settings.size``);
    ``styles`` is a list of pictures blended by ``settings.style_blend_weights``, each resized so
    its long side is ``settings.style_scale`` times the output's. Paths or RGB arrays work.
    """

    def __init__(self, content, styles: Sequence = (), settings: Settings | None = None, *, extractor=None):
        self.settings = _settings_or_default(settings).validated()
        s = self.settings
        self.content = resize_to_long_side(as_picture(content, s.size), s.size)
        if min(self.content.shape[:2]) < MIN_VGG_SHORT_SIDE:
            h, w = self.content.shape[:2]
            raise SettingsError(f"the content picture is {w}x{h} pixels at size {s.size}: VGG19 needs a short side of "
                                f"at least {MIN_VGG_SHORT_SIDE}", "use a larger size, or crop the picture less wide")
        self.styles = [as_picture(p, max(s.size, MAX_STYLE_DECODE)) for p in one_or_many(styles)]
        if s.style_weight > 0 and not self.styles:
            raise SettingsError("no style picture given", "pass at least one style picture, or set style_weight to 0")
        self.blend = s.blend_weights(len(self.styles)) if self.styles else []
        self.precision = resolve_precision(s.precision)
        self.objective = Objective.from_settings(s)
        self.content_layers = self.objective.content_layers
        self.layer_weights = self.objective.style_layer_weights
        if not self.objective.layers:
            raise SettingsError("content and style weights are both zero", "make at least one of them positive")
        self.extractor = extractor or cached_extractor(self.objective.layers, s.pooling, self.precision)
        self.x_content = preprocess(self.content)
        feats = self.extractor(self.x_content)
        self.content_targets = {name: feats[name] for name in self.content_layers}
        self.style_targets = self._blended_grams()
        self.loss_scale = FLOAT16_LOSS_SCALE if self.precision == "mixed_float16" else 1.0
        self._value_and_grad = self._compile()

    # -- targets ---------------------------------------------------------------------------

    def style_size(self) -> int:
        return max(32, round(self.settings.style_scale * max(self.content.shape[:2])))

    def _blended_grams(self) -> dict:
        grams = {}
        for weight, style in zip(self.blend, self.styles):
            feats = self.extractor(preprocess(resize_to_long_side(style, self.style_size())))
            for name, gram in self.objective.style_targets(feats, weight).items():
                grams[name] = grams[name] + gram if name in grams else gram
        return grams

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
        if not isinstance(init, str):
            return preprocess(resize(as_picture(init), (h, w)))
        if init == "content":
            return np.array(self.x_content, dtype=np.float32)
        if init == "noise":
            rng = np.random.default_rng(self.settings.seed)
            return preprocess(rng.uniform(0.0, 255.0, size=(h, w, 3)).astype(np.float32))
        return preprocess(resize(load_image(init), (h, w)))

    # -- optimisation ----------------------------------------------------------------------

    def run(self, callbacks: Sequence[Callback] = (), *, init=None) -> Result:
        """Optimise for ``settings.steps`` loss evaluations; Ctrl-C stops early, keeping the best."""
        s = self.settings
        if s.seed is not None:
            tf.random.set_seed(s.seed)
        x0 = self.initial_input(init)
        state = _RunState(x0, s.steps, list(callbacks))
        try:
            if s.optimizer == "lbfgs":
                self._run_lbfgs(state)
            else:
                self._run_adam(state)
        except _BudgetSpent:
            pass
        except _Diverged:
            state.diverged = True
        except KeyboardInterrupt:
            state.interrupted = True
        return state.result(s)

    def _evaluate(self, state: "_RunState", x: np.ndarray):
        if state.step >= state.steps:
            raise _BudgetSpent
        terms, grad = self.value_and_grad(x[None] if x.ndim == 3 else x)
        terms = terms.numpy().astype(np.float64)
        state.record(x, terms)
        return terms[0], grad.numpy()

    def _run_lbfgs(self, state: "_RunState") -> None:
        from scipy.optimize import minimize

        shape = state.best_x.shape
        low = np.broadcast_to(-IMAGENET_MEAN_BGR, shape).ravel().astype(np.float64)
        bounds = np.stack([low, low + 255.0], axis=1)

        def fun(flat):
            value, grad = self._evaluate(state, flat.reshape(shape).astype(np.float32))
            return value, grad.ravel().astype(np.float64)

        while state.step < state.steps:
            before = state.step
            start = state.best_x.ravel().astype(np.float64)
            minimize(fun, start, jac=True, method="L-BFGS-B", bounds=bounds,
                     options={"maxiter": state.steps, "maxfun": state.steps, "ftol": 0.0, "gtol": 0.0, "maxcor": 20})
            if state.step - before <= 1:  # converged or the line search could not move: stop
                break

    def _run_adam(self, state: "_RunState") -> None:
        import keras

        s = self.settings
        var = tf.Variable(state.best_x)
        opt = keras.optimizers.Adam(learning_rate=s.learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-1)
        low = -IMAGENET_MEAN_BGR
        while state.step < state.steps:
            _, grad = self._evaluate(state, var.numpy())
            opt.apply_gradients([(tf.convert_to_tensor(grad), var)])
            var.assign(tf.clip_by_value(var, low, low + 255.0))


class _BudgetSpent(Exception):
    """Raised inside the objective once ``steps`` evaluations are done."""


class _Diverged(Exception):
    """Raised when the loss becomes NaN or infinite; the best picture so far is kept."""


class _RunState:
    def __init__(self, x0: np.ndarray, steps: int, callbacks: list):
        self.best_x = np.array(x0, dtype=np.float32)
        self.best = None
        self.steps = steps
        self.step = 0
        self.history: list[dict] = []
        self.callbacks = callbacks
        self.interrupted = False
        self.diverged = False
        self.start = time.perf_counter()

    def record(self, x: np.ndarray, terms: np.ndarray) -> None:
        self.step += 1
        losses = dict(zip(LOSS_TERMS, map(float, terms)))
        elapsed = time.perf_counter() - self.start
        self.history.append({"step": self.step, "seconds": elapsed, **losses})
        if not np.isfinite(losses["total"]):
            raise _Diverged
        if self.best is None or losses["total"] < self.best["total"]:
            self.best = losses
            self.best_x = np.array(x, dtype=np.float32).reshape(self.best_x.shape)
        progress = Progress(self.step, self.steps, losses, elapsed, x)
        for callback in self.callbacks:
            callback(progress)

    def result(self, settings: Settings) -> Result:
        return Result(
            image=deprocess(self.best_x),
            losses=dict(self.best or {}),
            history=self.history,
            steps=self.step,
            seconds=time.perf_counter() - self.start,
            interrupted=self.interrupted,
            settings=settings,
            diverged=self.diverged,
        )


class SaveEvery:
    """Callback that saves the current picture every ``n`` steps.

    ``pattern`` is a path with a ``{step}`` field, e.g. ``"out/step_{step:04d}.png"``, or a
    ``%`` field, e.g. ``"out/step_%04d.png"``.
    """

    def __init__(self, n: int, pattern: str):
        self.n = n
        self.pattern = str(pattern)

    def __call__(self, progress: Progress) -> None:
        if self.n > 0 and progress.step % self.n == 0:
            name = self.pattern % progress.step if "%" in self.pattern else self.pattern.format(step=progress.step)
            save_image(name, progress.image())


def stylize(content, styles=(), settings: Settings | None = None, *, callbacks: Sequence[Callback] = (),
            init=None, **changes) -> Result:
    """Run Gatys style transfer in one call and return a :class:`Result`.

    ``content`` and ``styles`` are paths or RGB arrays; keyword ``changes`` override fields of
    ``settings`` (``stylize(c, [s], steps=100, style_weight=1e5)``).
    """
    settings = _settings_or_default(settings)
    if changes:
        settings = settings.replace(**changes)
    if settings.save_every and not any(isinstance(c, SaveEvery) for c in callbacks):
        raise SettingsError(f"save_every is {settings.save_every} but there is no file name to save to",
                            "pass callbacks=[SaveEvery(n, 'out/step_{step:04d}.png')] instead")
    return StyleTransfer(content, styles, settings).run(callbacks, init=init)
