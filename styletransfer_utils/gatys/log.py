"""What a Gatys run reports: every evaluation logged once, the best picture kept, the callbacks
told; :class:`Progress` is what a callback sees and :class:`Result` what the run returns.

One :class:`RunLog` follows a whole run, over every size of its schedule. Nothing here imports
TensorFlow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.images import deprocess, resize, save_image
from ..core.objective import LOSS_TERMS


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
        return at_shape(self.image(), self.final_shape)


Callback = Callable[[Progress], None]


@dataclass
class Result:
    """The outcome of a run: the best picture and how the losses evolved."""

    image: np.ndarray
    losses: dict
    history: list
    steps: int
    seconds: float
    interrupted: bool
    settings: object  #: the :class:`~..settings.Settings` of the run
    diverged: bool = False  # the loss became NaN/inf: stopped early, best picture kept
    sizes: list = field(default_factory=list)  #: [(long side, evaluations run), ...] of a coarse-to-fine run

    def save(self, path) -> Path:
        return save_image(path, self.image)


def at_shape(picture: np.ndarray, shape) -> np.ndarray:
    """``picture`` resized to ``(height, width)`` (Lanczos), or as it is when it has that shape already."""
    if shape is None or picture.shape[:2] == tuple(shape):
        return picture
    return resize(picture, shape)


class RunLog:
    """The evaluations of one run: its history, the best picture of the size being optimised,
    whether it was interrupted or diverged, and the callbacks to tell after each evaluation.

    ``total`` is the run's budget of evaluations (for the progress bar), ``final_shape`` the
    output's ``(height, width)`` and ``finish`` what turns a picture of the run into the one to
    show (the content's colours put back, say).
    """

    def __init__(self, total: int, callbacks=(), final_shape=None, finish: Callable | None = None):
        self.total, self.callbacks, self.final_shape, self.finish = total, list(callbacks), final_shape, finish
        self.history: list[dict] = []
        self.sizes: list[tuple[int, int]] = []
        self.interrupted = self.diverged = False
        self.start = time.perf_counter()
        self.best_x, self.best, self._at_size = None, None, 0

    @property
    def stopped(self) -> bool:
        """Interrupted (Ctrl-C) or diverged: the run goes no further."""
        return self.interrupted or self.diverged

    def begin_size(self, x0: np.ndarray) -> None:
        """A new size starts from the VGG19 input ``x0``: the best so far is ``x0``, not yet scored."""
        self.best_x, self.best, self._at_size = np.array(x0, dtype=np.float32), None, 0

    def end_size(self) -> np.ndarray:
        """The best picture of the size just optimised (RGB), noted in :attr:`sizes`."""
        self.sizes.append((max(self.best_x.shape[-3:-1]), self._at_size))
        return deprocess(self.best_x)

    def record(self, x: np.ndarray, terms: np.ndarray) -> None:
        """One evaluation: its loss terms (``LOSS_TERMS`` order) at the VGG19 input ``x``."""
        self._at_size += 1
        losses = dict(zip(LOSS_TERMS, map(float, terms)))
        elapsed = time.perf_counter() - self.start
        size = max(x.shape[-3:-1])
        self.history.append({"step": len(self.history) + 1, "seconds": elapsed, "size": size, **losses})
        if not np.isfinite(losses["total"]):
            self.diverged = True  # the optimisers stop; the best picture so far stays
            return
        if self.best is None or losses["total"] < self.best["total"]:
            self.best = losses
            self.best_x = np.array(x, dtype=np.float32).reshape(self.best_x.shape)
        progress = Progress(len(self.history), self.total, losses, elapsed, x, size, self.final_shape, self.finish)
        for callback in self.callbacks:
            callback(progress)

    def keep_last(self, x: np.ndarray) -> None:
        """The last evaluation, of the VGG19 input ``x``, is the size's picture whatever its loss
        (Adam's average of its iterates, ``Settings.average``)."""
        self.best = {name: self.history[-1][name] for name in LOSS_TERMS}
        self.best_x = np.array(x, dtype=np.float32).reshape(self.best_x.shape)

    def result(self, image: np.ndarray, settings) -> Result:
        """The run's :class:`Result` with its final picture ``image``."""
        return Result(image, dict(self.best or {}), self.history, len(self.history), time.perf_counter() - self.start,
                      self.interrupted, settings, self.diverged, self.sizes)
