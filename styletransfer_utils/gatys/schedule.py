"""The coarse-to-fine schedule: which sizes a Gatys run climbs through, and how many evaluations
each gets. Plain arithmetic, no TensorFlow: the settings check a schedule with it.

Most evaluations fall at the small sizes, where they are cheap and where VGG19's receptive fields
cover more of the picture, so the painting's large structures form; the last sizes refine. Above
512 px each size gets as many evaluations as the 512 px size: with the small sizes' share going on
falling, a 1024 px picture got 9 and 6 at its last two sizes and stopped half-way, paler and with
the painting's strokes as a fine hatching (Tübingen x The Starry Night: style 0.365, content 1.070;
with 12 and 12, 0.318 and 0.913; ``bench/RESULTS.md``).
"""

from __future__ import annotations

from ..limits import MIN_VGG_SHORT_SIDE

#: The smallest size of the default coarse-to-fine schedule, and the factor between sizes.
SCHEDULE_START = 128
SCHEDULE_FACTOR = 2**0.5
#: Evaluations at a size weigh ``(final / size) ** SCHEDULE_SHARE`` in the default split ...
SCHEDULE_SHARE = 1.0
#: ... where ``final`` is at most this size, and every size above it weighs as much as it.
SCHEDULE_FLAT_ABOVE = 512


def size_schedule(size: int, start: int = SCHEDULE_START, factor: float = SCHEDULE_FACTOR) -> tuple[int, ...]:
    """``start, start * factor, ..., size`` (rounded): the sizes of a coarse-to-fine run.

    A size at most ``start`` is a schedule of one; the last step up to ``size`` is never
    smaller than a quarter of ``factor``, so no two sizes are nearly equal.
    """
    sizes, current = [], float(start)
    while current * factor ** 0.25 < size:
        sizes.append(round(current))
        current *= factor
    return tuple(sizes) + (size,)


def split_steps(steps: int, sizes, share: float = SCHEDULE_SHARE,
                flat_above: int = SCHEDULE_FLAT_ABOVE) -> tuple[int, ...]:
    """``steps`` evaluations split over ``sizes``: weight ``(top / min(size, top)) ** share`` each,
    ``top`` being the last size but at most ``flat_above`` (so the sizes above it weigh alike), at
    least one per size, summing to ``max(steps, len(sizes))``."""
    top = min(sizes[-1], flat_above)
    weights = [(top / min(size, top)) ** share for size in sizes]
    steps = max(steps, len(sizes))
    raw = [steps * w / sum(weights) for w in weights]
    counts = [max(1, int(r)) for r in raw]
    for i in range(steps - sum(counts)):  # what rounding down left goes to the smallest sizes (stays ordered)
        counts[i] += 1
    while sum(counts) > steps:  # the minimum of one per size overshot: take from the largest share
        counts[counts.index(max(counts))] -= 1
    return tuple(counts)


def schedule(settings, aspect: float = 1.0) -> list[tuple[int, int]]:
    """``[(long side, evaluations), ...]``, smallest first, for ``settings`` and a picture whose
    short side is ``aspect`` times its long side.

    ``settings.sizes`` and ``settings.size_steps`` when given; else the sizes climb from
    :data:`SCHEDULE_START` px in steps of ``sqrt(2)`` to ``settings.size`` and ``settings.steps``
    is split with most evaluations at the small sizes. A size at which the picture's short side
    would vanish in VGG19 (a panorama's) is skipped; the last size always stays.
    """
    sizes = settings.sizes or size_schedule(settings.size)
    counts = settings.size_steps or split_steps(settings.steps, sizes)
    plan = list(zip(sizes, counts))
    return [(size, n) for size, n in plan[:-1] if size * aspect >= MIN_VGG_SHORT_SIDE] + plan[-1:]
