"""Training a transformation network: Johnson et al.'s loop, with checkpoints and resume.

Random crops of photos (the content) go through the network; its outputs are scored by
:meth:`.objective.Objective.batch_terms` against a fixed style picture whose Gram matrices are
computed once, and Adam updates the network. By default the objective is the paper's layers with
the package's relative losses (content at conv4_2, style at conv1_1 ... conv5_1 alike, each layer's
error relative to its target's size), with each style layer scored by its relative Gram error
itself (``style_error="norm"``, style weight 5), the form the quality measure scores, so that a
network paints what a Gatys picture paints; Adam's rate falls to 1e-5 along a half cosine.
Johnson et al.'s absolute losses on relu2_2 and relu1_2 ... relu4_3 remain a setting
(``relative_losses=False`` with ``JOHNSON_CONTENT_LAYERS`` and ``JOHNSON_STYLE_LAYERS``). By
default a new network starts from a shipped one (``init``), which already turns photos into
paintings, so that a new style trains in under an hour on a CPU. VGG19 runs in mixed precision; so
does the network, except its instance-norm statistics and output layer, which stay float32.
Checkpoints (model, optimiser, step) let an interrupted run resume where it stopped.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..device import import_tensorflow_quietly

import_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from ..data import shipped_content  # noqa: E402
from ..errors import DataError, ModelError, SettingsError, StyleTransferError  # noqa: E402
from ..core.features import FeatureExtractor  # noqa: E402
from ..core.images import as_picture, preprocess, resize_to_long_side, save_image  # noqa: E402
from ..limits import MAX_STYLE_DECODE, MIN_NETWORK_SIDE  # noqa: E402
from ..core.objective import FLOAT16_LOSS_SCALE, LOSS_TERMS, Objective  # noqa: E402
from ..checks import int_in_range  # noqa: E402
from ..settings import TrainSettings  # noqa: E402
from .models import check_model_path, load_model, measure_spikes, save_model, stylize_fast  # noqa: E402
from .layers import InstanceNormalization  # noqa: E402
from .network import MULTIPLE, build_transformer, network_dilations, network_width  # noqa: E402
from .photos import PictureFolder  # noqa: E402
from .records import BEFORE_THE_OPTION, flag_value, preview_pattern, settings_dict, write_record  # noqa: E402


@dataclass
class TrainProgress:
    """What a callback sees after every training step."""

    step: int
    steps: int
    losses: dict
    elapsed: float
    images_per_second: float
    skipped: int
    note: str | None = None  #: a line to show the user once, e.g. the steps cut by the time limit


@dataclass
class TrainResult:
    model: object
    steps: int
    start_step: int
    losses: dict
    history: list
    seconds: float
    interrupted: bool
    skipped: dict
    output: Path | None = None
    checkpoint_dir: Path | None = None
    previews: list = field(default_factory=list)
    batch_size: int = 1

    @property
    def images_per_second(self) -> float:
        done = self.steps - self.start_step
        return done * self.batch_size / self.seconds if self.seconds > 0 else 0.0




#: Steps timed (after the first, which traces the step) before a time-limited run plans its steps.
PLAN_AFTER = 10
#: After the plan, a time-limited run checks its pace every this many steps (from the mean time of
#: its last :data:`PACE_WINDOW` steps, checkpoints and previews included): it trains fewer steps
#: where the plan would overrun the limit, and more again (never more than asked) where the steps
#: have sped up so that more than :data:`PACE_SLACK` more would fit.
PACE_EVERY = 20
PACE_WINDOW = 50
PACE_SLACK = 0.05
#: A time-limited run leaves this many steps' time at the end for what follows the last step:
#: saving the network and measuring its spikes (about 12 s on a 2-core CPU at 5 s a step).
FINISH_STEPS = 3


def default_checkpoint_dir(output) -> Path:
    """``my_style.keras`` -> ``my_style.keras.checkpoints/`` next to it."""
    output = Path(output)
    return output.with_name(output.name + ".checkpoints")


class Trainer:
    """Everything fixed while training one network: data, VGG19, style targets, model, optimiser.

    ``Trainer(style, folder, settings).run(steps)`` trains; with ``checkpoint_dir`` it restores
    the last checkpoint first (same model width required) and saves one every
    ``settings.checkpoint_every`` steps and on Ctrl-C.
    """

    def __init__(self, style, folder, settings: TrainSettings | None = None, *, checkpoint_dir=None,
                 extractor=None, preview=None, started: float | None = None):
        if settings is not None and not isinstance(settings, TrainSettings):
            raise SettingsError(f"settings is a {type(settings).__name__}", "pass a feedforward.TrainSettings")
        self.settings = s = (settings or TrainSettings())
        # the time limit counts from here (VGG19 and the style too), or from ``started`` (a
        # ``time.perf_counter()``), where the command started, TensorFlow's import included
        self._started = time.perf_counter() if started is None else started
        self.planned_steps = None  # the steps the time limit left (saved with the checkpoints), once planned
        if s.seed is not None:
            keras.utils.set_random_seed(s.seed)
        self.data = PictureFolder(folder, s.crop_size + 2 * s.crop_margin, s.batch_size, seed=s.seed)
        self.style = resize_to_long_side(as_picture(style, max(s.style_size, MAX_STYLE_DECODE)), s.style_size)
        plain = Objective.from_settings(s)
        self.content_layers, self.style_layers = plain.content_layers, plain.style_layers
        self.extractor = extractor or FeatureExtractor(plain.layers, pooling=s.pooling, precision=s.vgg_precision())
        feats = self.extractor(preprocess(self.style))
        self.style_grams = {n: tf.constant(g) for n, g in plain.style_targets(feats).items()}  # once
        self.shrunk_grams = {factor: {n: tf.constant(g) for n, g in targets.items()}
                             for factor, targets in shrunk_style_targets(self.extractor, self.style, s).items()}
        self.objective = Objective.for_training(s, self.style_grams)
        source = None if s.init is None else load_model(s.init)
        # a distilled (quarter-width) network fine-tunes at its own width, the others as --half-width
        # says; a network with dilated residual blocks keeps them
        width = "quarter" if source is not None and network_width(source) == "quarter" else (
            "half" if s.half_width else "full")
        self.model = build_transformer(width=width, precision=s.net_precision(), seed=s.seed,
                                       dilations=None if source is None else network_dilations(source))
        if source is not None:
            start_from(self.model, source, s.init)
        self._with_norm_inputs = None  # the network, also giving each instance norm's input (spike_weight)
        if s.spike_weight > 0:
            norms = [layer for layer in self.model.layers if isinstance(layer, InstanceNormalization)]
            self._with_norm_inputs = keras.Model(self.model.inputs, [n.input for n in norms] + [self.model.output])
        adam = self.optimizer = self._adam = keras.optimizers.Adam(learning_rate=s.learning_rate)
        if any(p.endswith("_float16") for p in (s.net_precision(), s.vgg_precision())):
            self.optimizer = keras.optimizers.LossScaleOptimizer(adam, initial_scale=FLOAT16_LOSS_SCALE)
        self.optimizer.build(self.model.trainable_variables)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        # Adam's state only (a float16 run's loss scale adapts again in a few steps), so that a run can
        # resume under another precision, e.g. "auto" on another machine
        self.checkpoint = tf.train.Checkpoint(model=self.model, optimizer=adam, step=self.step)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.manager = None
        self.restored_from = None
        if self.checkpoint_dir is not None:
            self._open_checkpoints()
        self.preview = None if preview is None else as_picture(preview, 512)
        self._train_step = tf.function(self._step, jit_compile=False, reduce_retracing=True)
        self._iterator = None
        self._horizon = s.steps  # the step the learning rate's schedule ends at (run's target)
        _OPEN_TRAINERS.add(self)

    def close(self) -> None:
        """Stop the data pipeline (the next batch starts a new one, where this one stopped).

        A ``tf.data`` pipeline that runs Python code (the pictures are read with PIL) can hang
        the interpreter's exit while it is still filling its buffers, so this is also called for
        every trainer left open when the program ends.
        """
        self._iterator = None

    # -- checkpoints -----------------------------------------------------------------------

    def _open_checkpoints(self) -> None:
        d = self.checkpoint_dir
        meta_path = d / "settings.json"
        meta = {"half_width": self.settings.half_width, "settings": settings_dict(self.settings),
                "style_sha256": hashlib.sha256(np.ascontiguousarray(self.style, np.float32).tobytes()).hexdigest()}
        if meta_path.is_file():
            try:
                old = json.loads(meta_path.read_text())
            except (OSError, ValueError) as exc:
                raise ModelError(f"{meta_path} cannot be read ({exc})",
                                 f"delete {d} to start afresh, or give another --checkpoint-dir") from None
            self._check_resumable(old, meta)
            # the same --steps: finish the steps the time limit planned when the run started
            if old.get("settings", {}).get("steps") == self.settings.steps and old.get("planned_steps"):
                self.planned_steps = meta["planned_steps"] = int(old["planned_steps"])
        self._write_meta(meta)
        try:
            self.manager = tf.train.CheckpointManager(self.checkpoint, str(d), max_to_keep=2)
            if self.manager.latest_checkpoint:
                self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
                self.restored_from = self.manager.latest_checkpoint
        except (tf.errors.OpError, ValueError, AssertionError) as exc:
            first = (getattr(exc, "message", None) or str(exc)).strip().splitlines()[0]
            raise ModelError(f"the checkpoint in {d} cannot be read ({first})",
                             f"delete {d} to start afresh, or give another --checkpoint-dir") from None

    def _write_meta(self, meta: dict) -> None:
        d = self.checkpoint_dir
        try:
            d.mkdir(parents=True, exist_ok=True)
            (d / "settings.json").write_text(json.dumps(meta, indent=1))
        except OSError as exc:
            raise ModelError(f"cannot write checkpoints to {d} ({exc.strerror or exc})",
                             "give a writable folder with --checkpoint-dir") from None
        self._meta = meta

    def _check_resumable(self, old: dict, new: dict) -> None:
        """Refuse to resume checkpoints made with other data or another objective."""
        d = self.checkpoint_dir
        if old.get("half_width") != new["half_width"]:
            raise SettingsError(
                f"the checkpoints in {d} are of a {'half' if old.get('half_width') else 'full'}-width network",
                f"use the same --half-width setting, or delete {d} to start afresh")
        before = {**BEFORE_THE_OPTION, **old.get("settings", {})}  # checkpoints older than an option
        changed = [f"--{name.replace('_', '-')} {flag_value(before[name])} (now {flag_value(value)})"
                   for name, value in new["settings"].items()
                   if name not in CHANGEABLE_ON_RESUME and name in before and before[name] != value]
        if old.get("style_sha256", new["style_sha256"]) != new["style_sha256"]:
            changed.insert(0, "another style picture (or --style-size)")
        if changed:
            raise SettingsError(f"the checkpoints in {d} were made with " + ", ".join(changed),
                                f"resume with the same settings, or delete {d} (or give another --checkpoint-dir) "
                                "to start afresh")

    def save_checkpoint(self) -> str | None:
        if self.manager is None:
            return None
        return self.manager.save(checkpoint_number=int(self.step.numpy()))

    # -- the loss --------------------------------------------------------------------------

    def losses(self, content_batch, training: bool = False):
        """Loss terms ``[total, content, style, tv]`` (float32) for a batch of RGB crops; with
        ``spike_weight``, the total also holds that weight times :func:`spike_share`. With a
        ``crop_margin``, each crop comes with that margin of photo around it (the folder's crops do)."""
        m, window = self.settings.crop_margin, (lambda batch: batch)
        if m:  # the loss scores a crop of the batch and of the network's picture of it
            sides = [tf.shape(content_batch)[i + 1] if n is None else n for i, n in enumerate(content_batch.shape[1:3])]
            window = self._scored_window([n - 2 * m for n in sides])
        if self._with_norm_inputs is None:
            generated = self.model(content_batch, training=training)
        else:
            *norm_inputs, generated = self._with_norm_inputs(content_batch, training=training)
        terms = Objective.stack(self.objective.batch_terms(self.extractor, window(generated), window(content_batch),
                                                           self.style_grams, self.shrunk_grams))
        if self._with_norm_inputs is None:
            return terms
        spikes = self.settings.spike_weight * spike_share(norm_inputs)
        return keras.ops.concatenate([terms[:1] + spikes, terms[1:]])

    def _scored_window(self, size):
        """A function cutting the crop the loss scores out of a batch with the photo's margin around
        it: at a random place on the network's 4-pixel grid, the same for the batch, 0 to twice
        ``crop_margin`` pixels from each edge, so the network cannot tell where the scored crop ends."""
        places = 2 * self.settings.crop_margin // MULTIPLE + 1
        corner = MULTIPLE * tf.random.uniform((2,), 0, places, tf.int32)
        return lambda batch: tf.slice(batch, [0, corner[0], corner[1], 0], [-1, size[0], size[1], -1])

    def _step(self, content_batch):
        with tf.GradientTape() as tape:
            terms = self.losses(content_batch, training=True)
            scaled = self.optimizer.scale_loss(terms[0])  # unchanged unless float16
        grads = tape.gradient(scaled, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))  # float16: unscaled there
        self.step.assign_add(1)
        return terms

    def next_batch(self):
        if self._iterator is None:
            # a resumed run goes on where the interrupted one stopped, not from the first pictures
            self._iterator = iter(self.data.dataset(start=int(self.step.numpy()) * self.settings.batch_size))
        try:
            return next(self._iterator)
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as exc:
            failure = exc.message.splitlines()[0]
        self.close()  # outside the except block, so no traceback keeps the failed pipeline alive
        if len(self.data.skipped) >= len(self.data.paths):
            raise DataError(f"none of the {len(self.data.paths)} pictures in {self.data.folder} can be read",
                            "give a folder of readable JPEG or PNG photos")
        raise StyleTransferError(f"the training data pipeline failed ({failure})",
                                 "check the pictures in the training folder")

    def train_step(self, batch=None) -> dict:
        """One optimisation step on ``batch`` (the next batch of the folder by default): a
        ``(B, H, W, 3)`` array of RGB crops in [0, 255], or one ``(H, W, 3)`` crop."""
        if batch is not None:
            batch = np.asarray(batch)
            batch = batch[None] if batch.ndim == 3 else batch
            least = MIN_NETWORK_SIDE + 2 * self.settings.crop_margin  # the photo around each crop comes with it
            if batch.ndim != 4 or batch.shape[-1] != 3 or min(batch.shape[1:3]) < least:
                raise SettingsError(f"a training batch of shape {batch.shape}",
                                    f"pass (B, H, W, 3) RGB crops of at least {least} pixels, in [0, 255]")
            batch = tf.constant(batch, tf.float32)
        if self.settings.final_learning_rate is not None:
            self._adam.learning_rate = self.settings.learning_rate_at(int(self.step.numpy()), self._horizon)
        terms = self._train_step(self.next_batch() if batch is None else batch)
        return dict(zip(LOSS_TERMS, map(float, terms.numpy())))

    @property
    def target_steps(self) -> int:
        """The step the run ends at: ``settings.steps``, or fewer where the time limit planned so."""
        return self.planned_steps or self.settings.steps  # planned from them: never more

    def _fit(self, target: int, step: int, per_step: float) -> int:
        """The steps (at most ``target``) that fit in the time limit at ``per_step`` seconds a step,
        with :data:`FINISH_STEPS` steps' time left for saving, and 2% to spare."""
        left = self.settings.time_limit * 60 - (time.perf_counter() - self._started) - FINISH_STEPS * per_step
        return min(target, step + max(int(0.98 * left / per_step), 0))

    def _commit_plan(self, planned: int) -> None:
        """Make ``planned`` the run's last step and the learning rate's horizon, and save it beside
        the checkpoints, so that a resumed run finishes it."""
        self.planned_steps = self._horizon = planned
        if self.manager is not None:
            self._write_meta({**self._meta, "planned_steps": planned})

    def _plan(self, target: int, step: int, per_step: float) -> tuple[int, str | None]:
        """Cut ``target`` to the steps that fit in the time limit, at ``per_step`` seconds a step;
        the new target and the line that tells the user (``None`` where all steps fit)."""
        s = self.settings
        planned = self._fit(target, step, per_step)
        self._commit_plan(planned)
        if planned >= target:
            return target, None
        whole = (time.perf_counter() - self._started + (target - step) * per_step) / 60
        return planned, (f"at {per_step:.2f} s a step ({s.batch_size / per_step:.2f} crops/s), {target:,} steps would "
                         f"take about {whole:.0f} minutes: training {planned:,} steps, to end within --time-limit "
                         f"{s.time_limit:g}, the learning rate falling over them (--time-limit 0 trains all {target:,})")

    def _keep_pace(self, target: int, step: int, per_step: float, timed: float) -> tuple[int, str | None]:
        """Past the plan, where the steps now take ``per_step`` seconds (``timed`` when planned): train
        fewer where the plan would overrun the time limit, and more where the steps have sped up and
        more than :data:`PACE_SLACK` more would fit (never more than ``settings.steps``, the steps asked
        for). The new target and the line that says so (``None`` where the plan stands)."""
        fits = self._fit(self.settings.steps, step, per_step)
        if target <= fits <= max(target + 1, (1 + PACE_SLACK) * target):
            return target, None
        self._commit_plan(fits)
        return fits, (f"the steps take {per_step:.2f} s now, not the {timed:.2f} s timed at the start: "
                      f"training {fits:,} steps, to end within --time-limit {self.settings.time_limit:g}")

    # -- the loop --------------------------------------------------------------------------

    def run(self, steps: int | None = None, *, callbacks: Sequence[Callable[[TrainProgress], None]] = (),
            preview_pattern: str | None = None) -> TrainResult:
        """Train until the step counter reaches ``steps`` (by default ``settings.steps``, or the
        fewer steps that fit in ``settings.time_limit`` minutes, counted from the trainer's creation
        (or its ``started``), with time left for saving:
        planned once the first :data:`PLAN_AFTER` steps after the first are timed, planned again where
        the steps slow down or speed up (checked every :data:`PACE_EVERY` steps), and kept by a resumed run).

        Ctrl-C (KeyboardInterrupt) stops after saving a checkpoint; the result says so.
        """
        s = self.settings
        target = self.target_steps if steps is None else steps
        int_in_range("steps", target, 0, 10_000_000)
        self._horizon = target
        plan = steps is None and s.time_limit > 0 and self.planned_steps is None
        start_step = int(self.step.numpy())
        history, losses, interrupted, previews = [], {}, False, []
        start = time.perf_counter()
        first = 0.0  # seconds to the end of the first step (tracing)
        planned = None  # (step, seconds a step) where this run planned its steps; then it keeps pace
        try:
            while int(self.step.numpy()) < target:
                losses = self.train_step()
                step = int(self.step.numpy())
                elapsed = time.perf_counter() - start
                note = None
                if not np.isfinite(losses["total"]):
                    raise StyleTransferError(f"the loss became {losses['total']} at step {step}",
                                             "lower --learning-rate or the loss weights, or use --precision float32")
                history.append({"step": step, "seconds": elapsed, **losses})
                if plan and step - start_step == 1:
                    first = elapsed
                elif plan and step - start_step == 1 + PLAN_AFTER:
                    planned = (step, (elapsed - first) / PLAN_AFTER)
                    target, note = self._plan(target, step, planned[1])
                    plan = False
                elif planned and (step - planned[0]) % PACE_EVERY == 0:
                    window = min(PACE_WINDOW, step - planned[0])
                    per_step = (elapsed - history[-1 - window]["seconds"]) / window
                    target, note = self._keep_pace(target, step, per_step, planned[1])
                if s.checkpoint_every and step % s.checkpoint_every == 0:
                    self.save_checkpoint()
                if preview_pattern and s.preview_every and step % s.preview_every == 0:
                    previews.append(self.save_preview(preview_pattern.format(step=step)))
                rate = (step - start_step) * s.batch_size / elapsed if elapsed > 0 else 0.0
                progress = TrainProgress(step, target, losses, elapsed, rate, len(self.data.skipped), note)
                for callback in callbacks:
                    callback(progress)
        except KeyboardInterrupt:
            interrupted = True
        if self.manager is not None and int(self.step.numpy()) > start_step:
            latest = self.manager.latest_checkpoint
            if not latest or not latest.endswith(f"-{int(self.step.numpy())}"):
                self.save_checkpoint()
        result = TrainResult(self.model, int(self.step.numpy()), start_step, losses, history,
                             time.perf_counter() - start, interrupted, dict(self.data.skipped),
                             checkpoint_dir=self.checkpoint_dir, previews=previews, batch_size=s.batch_size)
        return result

    def save(self, output, result: TrainResult, *, style: str, data, command: str | None = None) -> Path:
        """Write the network to ``output`` and its record next to it; a finished run's record also
        carries the spike statistics that ``fast`` clips with (an interrupted run's network is not
        final, so they are measured when it finishes)."""
        path = save_model(self.model, output)
        spikes = None if result.interrupted else measure_spikes(self.model, self.data.paths, self.settings.style_size)
        write_record(output, result, self.settings, style=style, data=data, pictures=len(self.data.paths),
                     command=command, spikes=spikes, planned_steps=self.planned_steps)
        return path

    def preview_picture(self) -> np.ndarray:
        if self.preview is None:
            self.preview = resize_to_long_side(shipped_content("chelsea"), 256)
        return self.preview

    def save_preview(self, path) -> Path:
        return save_image(path, stylize_fast(self.model, self.preview_picture()))


def shrunk_style_targets(extractor, style, settings: TrainSettings) -> dict:
    """``{factor: {layer: target}}``: the style targets of ``style`` (at ``settings.style_size``)
    shrunk by each further factor of ``settings.style_scales``, as ``Objective.batch_terms`` takes
    them; empty for the style at one size. The trainer and ``bench/jax_gpu.py`` both build them here."""
    plain, size = Objective.from_settings(settings), settings.style_size
    return {factor: plain.style_targets(extractor(preprocess(resize_to_long_side(style, size // factor))))
            for factor in settings.style_scales[1:]}


def spike_share(maps):
    """How much one spot carries the instance norms' statistics: for each ``(B, H, W, C)`` map (a
    norm's input), each picture and channel, the largest squared standardised value as a share of
    their sum over the positions, averaged over maps, pictures and channels.

    A fraction of a percent for ordinary maps (normally spread values: about ``2 ln(positions) /
    positions``); in the shipped networks' last norms one spot held
    45-90% of each channel's variance there and painted a white dab (``bench/RESULTS.md``, "The
    white dabs"). Networks normalised per picture learn such spikes to set their own statistics,
    as StyleGAN's "droplets" (Karras et al. 2020); the term makes them costly."""
    ops = keras.ops
    shares = []
    for x in maps:
        x = ops.cast(x, "float32")
        centred = x - ops.mean(x, axis=(1, 2), keepdims=True)
        squared = ops.square(centred) / (ops.mean(ops.square(centred), axis=(1, 2), keepdims=True) + 1e-5)
        positions = ops.cast(ops.shape(x)[1] * ops.shape(x)[2], "float32")
        shares.append(ops.mean(ops.max(squared, axis=(1, 2))) / positions)
    return ops.mean(ops.stack(shares))


def start_from(model, source, init) -> None:
    """Give a freshly built ``model`` the weights of the network ``source`` (loaded from ``init``, a
    model file or a shipped name) to fine-tune it; both must be of the same width."""
    width, wanted = network_width(source), network_width(model)
    if width != wanted:
        raise SettingsError(f"the network {init!r} is {width} width, the one to train is {wanted} width",
                            "add --half-width" if width == "half" else "drop --half-width")
    model.set_weights(source.get_weights())


# Settings a resumed run may change; any other change needs a fresh run (see Trainer._check_resumable).
CHANGEABLE_ON_RESUME = ("steps", "time_limit", "final_learning_rate", "checkpoint_every", "preview_every",
                        "precision", "transformer_precision")

_OPEN_TRAINERS: "weakref.WeakSet[Trainer]" = weakref.WeakSet()


@atexit.register
def _close_open_trainers() -> None:
    for trainer in list(_OPEN_TRAINERS):
        trainer.close()


def train(style, folder, output, settings: TrainSettings | None = None, *, checkpoint_dir=None, preview=None,
          callbacks=(), previews: bool = True) -> TrainResult:
    """Train a transformation network for ``style`` on the pictures in ``folder``; save it to ``output``.

    Checkpoints go to ``checkpoint_dir`` (default ``OUTPUT.checkpoints/``); running the same call
    again resumes from the last one. Previews (the preview picture stylised) are written next to
    the output every ``settings.preview_every`` steps. Ctrl-C saves a checkpoint and the model.
    """
    output = check_model_path(output)
    settings = (settings or TrainSettings())
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else default_checkpoint_dir(output)
    trainer = Trainer(style, folder, settings, checkpoint_dir=checkpoint_dir, preview=preview)
    result = trainer.run(callbacks=callbacks, preview_pattern=preview_pattern(output) if previews else None)
    result.output = trainer.save(output, result, style=str(style) if isinstance(style, (str, Path)) else "an array",
                                 data=folder)
    return result
