"""A whole Gatys run, as one loop: read the pictures once, then one :class:`StyleTransfer` per
size of the coarse-to-fine schedule, each starting from the last one's picture, upsampled.

Lesson: ``notebooks/04_optimization_and_acceleration.ipynb``. :func:`stylize` is what the
command line, the sliders and the notebooks call. A run stops after its budget of loss
evaluations, or early on Ctrl-C or when the loss diverges, and always returns the best picture
seen, at the requested size.
"""

from __future__ import annotations

from typing import Sequence

from ..core.images import as_picture, save_image
from ..core.objective import Objective
from ..errors import SettingsError
from ..settings import Settings
from .control import luminance_picture
from .log import Callback, Progress, Result, RunLog, at_shape
from .schedule import schedule
from .transfer import Pictures, StyleTransfer, settings_or_default


def stylize(content, styles=(), settings: Settings | None = None, *, callbacks: Sequence[Callback] = (),
            init=None, objective: Objective | None = None, transfer=StyleTransfer, **changes) -> Result:
    """Run Gatys style transfer and return a :class:`~.log.Result` at ``settings.size``.

    ``content`` and ``styles`` are paths or RGB arrays; keyword ``changes`` override fields of
    ``settings`` (``stylize(c, [s], steps=100, style_weight=10)``). ``init`` overrides
    ``settings.init``. ``objective`` replaces the objective the settings describe, and
    ``transfer`` the class each size is optimised with (a subclass of :class:`StyleTransfer`):
    both are for experiments (``bench/variants.py``).
    """
    settings = settings_or_default(settings)
    if changes:
        settings = settings.replace(**changes)
    if settings.save_every and not any(isinstance(c, SaveEvery) for c in callbacks):
        raise SettingsError(f"save_every is {settings.save_every} but there is no file name to save to",
                            "pass callbacks=[SaveEvery(n, 'out/step_{step:04d}.png')] instead")
    pictures = Pictures.read(content, styles, settings)  # once: decoded, colours prepared, masks read
    plan = schedule(settings, pictures.aspect)  # [(long side, evaluations), ...], smallest first
    check_memory(pictures.content.shape[:2], settings.size, settings.style_loss)
    # the largest size first, so that a bad picture or setting fails before any work; its VGG19
    # extractor serves every size
    final = transfer.at_size(pictures, settings, settings.size, objective=objective)
    log = RunLog(sum(steps for _, steps in plan), callbacks, final.content.shape[:2], pictures.finish)
    picture = first_picture(settings.init if init is None else init, settings)
    for size, steps in plan:
        at_size = final if size == settings.size else transfer.at_size(pictures, settings, size, objective=objective,
                                                                       extractor=final.extractor)
        picture = at_size.optimize(at_size.initial_input(picture), steps, log)
        if log.stopped:
            break
    return log.result(pictures.finish(at_shape(picture, final.content.shape[:2])), settings)


def first_picture(init, settings: Settings):
    """``init`` for the first size: a starting picture in luminance runs becomes grey, as the
    content did (the sizes themselves know nothing about colours)."""
    if settings.preserve_colors != "luminance" or (isinstance(init, str) and init in ("content", "noise")):
        return init
    return luminance_picture(as_picture(init))


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
#: The style losses that sort every channel (``histogram``) or projection (``sliced``) at every style
#: layer need about five times as much per pixel: 2.91-3.24 GB at 512x384 and 9.8 GB at 1024x768,
#: where ``gram`` needs 1.39-1.41 GB at 512x384 (``bench/quality.py --losses``, bench/RESULTS.md,
#: "What is style?"), with 7-14% to spare. Fitted before they sorted with ``ops.sort`` (2.75-2.89 GB at
#: 512x384 since), so it now overstates their need: it may refuse a size that would fit, not the reverse.
SORTED_MEMORY_PER_PIXEL = {"histogram": 12500.0, "sliced": 12500.0}


def bytes_per_pixel(style_loss: str = "gram") -> float:
    """The memory a run needs per pixel of its largest size, beyond ``MEMORY_BASE``."""
    return SORTED_MEMORY_PER_PIXEL.get(style_loss, MEMORY_PER_PIXEL)


def estimated_peak_bytes(height: int, width: int, style_loss: str = "gram") -> float:
    """About how much memory a run needs at ``height`` x ``width`` (its largest size)."""
    return MEMORY_BASE + bytes_per_pixel(style_loss) * height * width


def check_memory(shape, size: int, style_loss: str = "gram") -> None:
    """A one-line error, naming the largest size that fits, when ``size`` would not fit in the
    memory this machine has free: the run would otherwise end at the out-of-memory killer."""
    from ..device import available_memory_bytes

    free = available_memory_bytes()
    h, w = shape
    aspect = min(h, w) / max(h, w)
    need = estimated_peak_bytes(size * aspect, size, style_loss)
    if free is None or need <= free:
        return
    largest = int(((free - MEMORY_BASE) / bytes_per_pixel(style_loss) / aspect) ** 0.5) if free > MEMORY_BASE else 0
    raise SettingsError(f"size {size} needs about {need / 2**30:.1f} GB of memory and {free / 2**30:.1f} GB are free",
                        f"use --size {largest // 16 * 16} or less" if largest >= 64 else "close other programs first")
