"""How a learner's answer differs from the package's, said in one line that teaches.

:func:`compare` raises :class:`ExerciseFailed` with what differs: the shape (with a hint for the
classic mistakes), NaN, a known constant factor and its fix, a typical mistake recognised by the
value it gives, or else the relative error. :func:`loops` finds a Python loop in a function's
source. Used by :mod:`.answers` (each exercise's judge) and so by :mod:`.exercises` and the grader.
"""

from __future__ import annotations

import ast
import textwrap

import numpy as np

RTOL = 1e-4


class ExerciseFailed(AssertionError):
    """A learner's function gave a wrong answer; the message says what differs, in one line."""

    def _render_traceback_(self):  # IPython shows this instead of a traceback of the checker's internals
        return [f"ExerciseFailed: {self}"]


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


def loops(source: str | None) -> str | None:
    """The first Python loop in a function's ``source`` ("'for' on line 3"), or None."""
    try:
        tree = ast.parse(textwrap.dedent(source or ""))
    except SyntaxError:
        return None
    kinds = {ast.For: "for", ast.While: "while", ast.ListComp: "a list comprehension",
             ast.GeneratorExp: "a generator expression", ast.AsyncFor: "for"}
    for node in ast.walk(tree):
        for kind, word in kinds.items():
            if isinstance(node, kind):
                return f"'{word}' on line {node.lineno} of the function"
    return None


__all__ = ["ExerciseFailed", "RTOL", "compare", "loops"]
