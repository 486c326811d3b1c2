"""The checks every settings field shares: whole numbers in a range, numbers, choices, flags.

Each raises a one-line :class:`~.errors.SettingsError` that names the field, its value and the
fix; :mod:`.settings` checks its fields with them, and the few entry points outside it that take
a setting directly (a network's ``spikes``, a trainer's step count) do too.
"""

from __future__ import annotations

import math
import numbers

from .errors import SettingsError

#: How a style layer's Gram error is scored (``core.objective.Objective.style_error``): the
#: squared distance, or the distance over the target's norm. Here, in the base layer, so that the
#: settings and the objective share one list.
STYLE_ERRORS = ("squared", "norm")


def int_in_range(name: str, value, low: int, high: int) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or not low <= value <= high:
        raise SettingsError(f"{name} is {value!r}", f"use a whole number from {low} to {high}")


def number_tuple(name: str, values, what: str) -> tuple[float, ...]:
    """A tuple of weights as floats, or a one-line error for a single number or a non-number."""
    try:
        return tuple(float(w) for w in values)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} is {values!r}", f"give a tuple of numbers, {what}") from None


def whole_number_tuple(name: str, values, what: str) -> tuple:
    """A tuple of whole numbers, or a one-line error for a single number or a non-number."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise SettingsError(f"{name} is {values!r}", f"give a tuple of whole numbers, {what}")
    values = tuple(values)
    for v in values:
        int_in_range(name, v, 1, 10**9)
    return values


def boolean(name: str, value) -> None:
    if not isinstance(value, bool):
        raise SettingsError(f"{name} is {value!r}", "use True or False")


def choice(name: str, value, choices) -> None:
    if value not in choices:
        raise SettingsError(f"{name} is {value!r}", f"use one of: {', '.join(choices)}")


def non_negative(name: str, value) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise SettingsError(f"{name} is {value!r}", "use a finite number >= 0")


def positive(name: str, value) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} is {value!r}", "use a finite number > 0")


def relative_weights(name: str, given, noun: str, per: str) -> tuple[float, ...]:
    """Relative weights (``style_blend_weights``, a layers' weights): numbers, none negative, not all zero."""
    weights = number_tuple(name, given, f"one weight per {per}")
    for w in weights:
        non_negative(noun, w)
    if sum(weights) <= 0:
        raise SettingsError(f"all {noun}s are zero", "make at least one positive")
    return weights


__all__ = ["int_in_range", "number_tuple", "whole_number_tuple", "boolean", "choice", "non_negative", "positive",
           "relative_weights"]
