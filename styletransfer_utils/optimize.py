"""Gatys et al.'s algorithm: optimise the picture itself so its VGG19 features match.

Lesson: ``notebooks/04_optimization_and_acceleration.ipynb``.

:class:`StyleTransfer` prepares everything that does not change during a run (the feature
extractor, the content features, the blended style Gram matrices and a compiled
value-and-gradient function); :meth:`StyleTransfer.run` optimises with L-BFGS (the paper's
choice, :mod:`.lbfgs`; each step is clipped to valid pixel values) or Adam. A run stops after
``settings.steps`` loss evaluations, or early on Ctrl-C, and always returns the best picture
seen so far. :class:`CoarseToFine` runs it over a schedule of sizes, each starting from the
previous result upsampled; :func:`stylize`, the command line and the sliders use it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .device import import_tensorflow_quietly, resolve_precision

import_tensorflow_quietly()  # its C++ start-up lines would reach the terminal
import tensorflow as tf  # noqa: E402

from .control import luminance_picture, prepare_colors, resize_mask, style_masks  # noqa: E402
from .errors import SettingsError  # noqa: E402
from .features import FeatureExtractor  # noqa: E402
from . import lbfgs  # noqa: E402
from .images import (IMAGENET_MEAN_BGR, as_picture, deprocess, one_or_many,  # noqa: E402,F401
                     preprocess, resize, resize_to_long_side, save_image)
from .limits import MAX_STYLE_DECODE, MIN_VGG_SHORT_SIDE  # noqa: E402
from .objective import (FLOAT16_LOSS_SCALE, FLOAT16_MIN_SCALE, FLOAT16_SCALE_STEP, LOSS_TERMS,  # noqa: E402
                        GuidedTargets, Objective)
from .settings import Settings  # noqa: E402


class _NoRetracingNotes(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" warning: every run compiles its own
    objective for its picture's shape on purpose (slider previews, notebooks run several)."""

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
    size: int | None = None  #: the long side being optimised (coarse-to-fine runs climb through several)
    final_shape: tuple | None = None  #: the output's (height, width)
    _finish: Callable | None = field(default=None, repr=False)  #: e.g. the content's colours put back

    def image(self) -> np.ndarray:
        """The current picture as an RGB float array in ``[0, 255]``, at the current size."""
        picture = deprocess(self._x)
        return picture if self._finish is None else self._finish(picture)

    def final_image(self) -> np.ndarray:
        """The current picture resized to the output's shape (what Ctrl-C would save)."""
        return _at_shape(self.image(), self.final_shape)


def _at_shape(picture: np.ndarray, shape) -> np.ndarray:
    """``picture`` resized to ``(height, width)`` (Lanczos), or as it is when it has that shape already."""
    if shape is None or picture.shape[:2] == tuple(shape):
        return picture
    return resize(picture, shape)


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
    sizes: list = field(default_factory=list)  #: [(long side, evaluations run), ...] of a coarse-to-fine run

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
    ``settings.preserve_colors`` and ``settings.style_masks`` are applied as
    :mod:`.control` describes: with masks, each style is matched over its own region (weighted
    by its blend weight over the largest, so equal weights give every region the full style).
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
        self.content, self.styles, self.finish = prepare_colors(self.content, self.styles, s.preserve_colors,
                                                                s.color_transform)
        self.masks = style_masks(s.style_masks, len(self.styles), self.content.shape[:2]) if s.style_masks else None
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
        if self.masks is None:
            self.style_targets = Objective.prepare_targets(self._blended_grams())
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

    def _blended_grams(self) -> dict:
        grams = {}
        for weight, style in zip(self.blend, self.styles):
            feats = self.extractor(preprocess(resize_to_long_side(style, self.style_size())))
            for name, gram in self.objective.style_targets(feats, weight).items():
                grams[name] = grams[name] + gram if name in grams else gram
        return grams

    def _guided_targets(self, content_features: dict) -> dict:
        """Per style layer, each style's Gram matrix and its mask at that layer's resolution."""
        grams = [self.objective.style_targets(self.extractor(preprocess(resize_to_long_side(style, self.style_size()))))
                 for style in self.styles]
        weights = np.asarray(self.blend, np.float32) / max(self.blend)
        targets = {}
        for name in self.objective.style_layers:
            shape = tuple(content_features[name].shape[1:3])
            masks = np.stack([resize_mask(mask, shape) for mask in self.masks])
            targets[name] = GuidedTargets(np.concatenate([np.asarray(g[name]) for g in grams]), masks, weights)
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
        return preprocess(luminance_picture(picture) if self.settings.preserve_colors == "luminance" else picture)

    # -- optimisation ----------------------------------------------------------------------

    def run(self, callbacks: Sequence[Callback] = (), *, init=None, _numbering=None) -> Result:
        """Optimise for ``settings.steps`` loss evaluations; Ctrl-C stops early, keeping the best."""
        s = self.settings
        if s.seed is not None:
            tf.random.set_seed(s.seed)
        x0 = self.initial_input(init)
        state = _RunState(x0, s.steps, list(callbacks), _numbering or _Numbering(0, s.steps, 0.0, None, self.finish))
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
        result = state.result(s)
        result.image = self.finish(result.image)
        return result

    def _evaluate(self, state: "_RunState", x: np.ndarray):
        if state.step >= state.steps:
            raise _BudgetSpent
        terms, grad = self.value_and_grad(x[None] if x.ndim == 3 else x)
        terms = terms.numpy().astype(np.float64)
        state.record(x, terms)
        return terms[0], grad.numpy()

    def _run_lbfgs(self, state: "_RunState") -> None:
        from threadpoolctl import threadpool_limits

        low = np.broadcast_to(-IMAGENET_MEAN_BGR, state.best_x.shape).astype(np.float32)
        with threadpool_limits(1, user_api="blas"):  # BLAS threads would fight TensorFlow's for the cores
            lbfgs.minimize(lambda x: self._evaluate(state, x), state.best_x, low, low + 255.0)

    def _run_adam(self, state: "_RunState") -> None:
        import keras

        s = self.settings
        var = tf.Variable(state.best_x)
        opt = keras.optimizers.Adam(learning_rate=s.learning_rate, beta_1=0.9, beta_2=0.999, epsilon=ADAM_EPSILON)
        low = -IMAGENET_MEAN_BGR
        while state.step < state.steps:
            _, grad = self._evaluate(state, var.numpy())
            opt.apply_gradients([(tf.convert_to_tensor(grad), var)])
            var.assign(tf.clip_by_value(var, low, low + 255.0))


#: Adam's epsilon, far below any gradient: with relative losses (the default) the gradients are
#: about 1e-5 per pixel, and the epsilon of 0.1 that suits the paper's absolute losses (gradients
#: of 1e2 and more) turned every step into ``learning_rate * g / 0.1``, a thousandth of a level.
ADAM_EPSILON = 1e-12


class _BudgetSpent(Exception):
    """Raised inside the objective once ``steps`` evaluations are done."""


class _Diverged(Exception):
    """Raised when the loss becomes NaN or infinite; the best picture so far is kept."""


@dataclass
class _Numbering:
    """How one size's evaluations count within a whole (coarse-to-fine) run."""

    offset: int  #: evaluations done at the smaller sizes
    total: int  #: evaluations of the whole run
    seconds: float  #: time spent at the smaller sizes
    final_shape: tuple | None
    finish: Callable | None = None  #: what turns a picture of the run into the one to show


class _RunState:
    def __init__(self, x0: np.ndarray, steps: int, callbacks: list, numbering: _Numbering):
        self.numbering = numbering
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
        n = self.numbering
        elapsed = n.seconds + time.perf_counter() - self.start
        size = max(x.shape[-3:-1])
        self.history.append({"step": n.offset + self.step, "seconds": elapsed, "size": size, **losses})
        if not np.isfinite(losses["total"]):
            raise _Diverged
        if self.best is None or losses["total"] < self.best["total"]:
            self.best = losses
            self.best_x = np.array(x, dtype=np.float32).reshape(self.best_x.shape)
        progress = Progress(n.offset + self.step, n.total, losses, elapsed, x, size, n.final_shape, n.finish)
        for callback in self.callbacks:
            callback(progress)

    def result(self, settings: Settings) -> Result:
        return Result(
            image=deprocess(self.best_x),
            losses=dict(self.best or {}),
            history=self.history,
            steps=self.step,
            seconds=time.perf_counter() - self.start,
            sizes=[(max(self.best_x.shape[-3:-1]), self.step)],
            interrupted=self.interrupted,
            settings=settings,
            diverged=self.diverged,
        )


class SaveEvery:
    """Callback that saves the current picture every ``n`` steps to ``pattern``, a path with a
    ``{step}`` field (``"out/step_{step:04d}.png"``) or a ``%`` field (``"out/step_%04d.png"``)."""

    def __init__(self, n: int, pattern: str):
        self.n = n
        self.pattern = str(pattern)

    def __call__(self, progress: Progress) -> None:
        if self.n > 0 and progress.step % self.n == 0:
            name = self.pattern % progress.step if "%" in self.pattern else self.pattern.format(step=progress.step)
            save_image(name, progress.final_image())


#: Peak memory of a run is about ``MEMORY_BASE + MEMORY_PER_PIXEL * pixels`` at its largest size
#: (TensorFlow and VGG19's weights; then the activations kept for the backward pass and L-BFGS'
#: history), with 7-11% to spare. Fitted to the peaks that ``bench/quality.py --memory`` measured
#: (float32: 2.91 GB at 1024x768, 8.12 GB at 2048x1536; mixed_bfloat16 needs 0.4-1.3 GB less;
#: bench/RESULTS.md).
MEMORY_BASE = 1.5e9
MEMORY_PER_PIXEL = 2500.0


def estimated_peak_bytes(height: int, width: int) -> float:
    """About how much memory a run needs at ``height`` x ``width`` (its largest size)."""
    return MEMORY_BASE + MEMORY_PER_PIXEL * height * width


def check_memory(shape, size: int) -> None:
    """A one-line error, naming the largest size that fits, when ``size`` would not fit in the
    memory this machine has free: the run would otherwise end at the out-of-memory killer."""
    from .device import available_memory_bytes

    free = available_memory_bytes()
    h, w = shape
    aspect = min(h, w) / max(h, w)
    need = estimated_peak_bytes(size * aspect, size)
    if free is None or need <= free:
        return
    largest = int(((free - MEMORY_BASE) / MEMORY_PER_PIXEL / aspect) ** 0.5) if free > MEMORY_BASE else 0
    raise SettingsError(f"size {size} needs about {need / 2**30:.1f} GB of memory and {free / 2**30:.1f} GB are free",
                        f"use --size {largest // 16 * 16} or less" if largest >= 64 else "close other programs first")


class CoarseToFine:
    """Gatys' algorithm over a schedule of sizes, smallest first (``settings.schedule()``).

    Each size is a :class:`StyleTransfer` that starts from the previous size's best picture,
    upsampled; the feature extractor is shared, and the pictures are read once. Most
    evaluations fall at the small sizes, where they are cheap and where VGG19's receptive fields
    cover more of the picture, so the painting's large structures form; the last sizes refine.
    ``settings.sizes = (size,)`` is the plain, single-size algorithm. Ctrl-C returns the best
    picture of the current size, upsampled to the requested one.
    """

    def __init__(self, content, styles: Sequence = (), settings: Settings | None = None):
        self.settings = _settings_or_default(settings).validated()
        s = self.settings
        self.content = as_picture(content, max(s.size, MAX_STYLE_DECODE))
        aspect = min(self.content.shape[:2]) / max(self.content.shape[:2])
        schedule = s.schedule()  # a size at which a panorama's short side vanishes in VGG19 is skipped
        self.schedule = [(size, n) for size, n in schedule[:-1] if size * aspect >= MIN_VGG_SHORT_SIDE] + schedule[-1:]
        self.styles = [as_picture(p, max(s.size, MAX_STYLE_DECODE)) for p in one_or_many(styles)]
        # colours are prepared and mask files read once, here; each size optimises the prepared
        # pictures and resizes the masks to its own shape
        self.content, self.styles, self.finish = prepare_colors(self.content, self.styles, s.preserve_colors,
                                                                s.color_transform)
        masks = tuple(style_masks(s.style_masks, len(self.styles), self.content.shape[:2])) if s.style_masks else None
        self.levels = [s.replace(size=size, steps=steps, sizes=None, size_steps=None, preserve_colors=None,
                                 style_masks=masks) for size, steps in self.schedule]
        check_memory(self.content.shape[:2], s.size)
        # fail now, not after the small sizes: the largest size checks the pictures and settings
        self.final = StyleTransfer(self.content, self.styles, self.levels[-1])
        self.final_shape = self.final.content.shape[:2]

    def run(self, callbacks: Sequence[Callback] = (), *, init=None) -> Result:
        """Optimise size after size; the result is at the requested size whatever happens."""
        total = sum(steps for _, steps in self.schedule)
        history, sizes, start = [], [], time.perf_counter()
        picture, result = self._initial_picture(init), None
        for i, level in enumerate(self.levels):
            transfer = self.final if i == len(self.levels) - 1 else StyleTransfer(self.content, self.styles, level,
                                                                                     extractor=self.final.extractor)
            numbering = _Numbering(len(history), total, time.perf_counter() - start, self.final_shape, self.finish)
            result = transfer.run(callbacks, init=picture, _numbering=numbering)
            history += result.history
            sizes += result.sizes
            if result.interrupted or result.diverged:
                break
            picture = result.image  # the next size starts from it (StyleTransfer resizes it)
        return Result(self.finish(_at_shape(result.image, self.final_shape)), result.losses, history, len(history),
                      time.perf_counter() - start, result.interrupted, self.settings, result.diverged, sizes)

    def _initial_picture(self, init):
        """``init`` for the first size: a starting picture in luminance runs becomes grey, as the
        content did (the sizes themselves no longer know about colours)."""
        init = self.settings.init if init is None else init
        if self.settings.preserve_colors != "luminance" or (isinstance(init, str) and init in ("content", "noise")):
            return init
        return luminance_picture(as_picture(init))


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
    return CoarseToFine(content, styles, settings).run(callbacks, init=init)
