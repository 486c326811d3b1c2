"""L-BFGS for a picture: the optimiser of Gatys runs, in NumPy float32.

The method of the reference Torch implementation (``optim.lbfgs`` in jcjohnson/neural-style):
limited-memory BFGS directions from the last few gradient pairs (Nocedal's two-loop recursion),
a step of 1 along each without a line search, and a first step scaled to move pixels by about
:data:`FIRST_STEP` levels. Each step is clipped to the box of valid pixels. A step is kept unless
the loss rises above all of the last :data:`WINDOW` kept values (a non-monotone rule, as in
Grippo, Lampariello and Lucidi, SIAM J. Numer. Anal. 23, 1986); the best point is returned.

Why not SciPy's L-BFGS-B: on a 512x384 picture (590k variables) its bookkeeping took 100 ms per
evaluation with bounds (the Cauchy point sorts every variable's breakpoint) and 29 ms without,
against a third of a second for the evaluation itself on a CPU with AMX; this one takes about
10 ms. It keeps no float64 copies either. The quality measure scored both alike (bench/RESULTS.md).
"""

from __future__ import annotations

from collections import deque
from typing import Callable

import numpy as np

#: The mean change per pixel, in levels, of the first step from each start: the first direction
#: is the gradient, whose size means nothing (about 1e-5 per pixel under relative losses, which
#: bf16 would round away), so it is scaled to this.
FIRST_STEP = 1.0
#: Gradient pairs kept (``m``): scores as 20 did, for a quarter of the work (bench/RESULTS.md).
MEMORY = 5
#: A step is taken back only when the loss exceeds every one of the last ``WINDOW`` kept values.
#: Under bf16 the loss is exact only to about 1e-3; late in a long run the true gains are smaller,
#: and with ``WINDOW = 1`` (strictly monotone) a 1,000-evaluation run from noise took back 130
#: steps and stopped early at 0.294 / 1.081; with 5 it took back none and scored 0.251 / 1.056
#: (bench/RESULTS.md).
WINDOW = 5


def minimize(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, low: np.ndarray,
             high: np.ndarray, *, max_evals: int, memory: int = MEMORY, first_step: float = FIRST_STEP,
             window: int = WINDOW) -> np.ndarray:
    """Minimise ``fun`` (``x -> (value, gradient)``, float32 arrays of ``x0``'s shape) inside
    ``[low, high]`` with at most ``max_evals`` calls of ``fun``. It stops early when a value is
    NaN or infinite (the objective diverged: nothing after it can be trusted) or when no step
    changes anything.

    A step that raises the loss above the last ``window`` kept values is taken back. After an
    L-BFGS step the memory is cleared and a gradient step of ``first_step`` follows (the curvature
    it assumed was wrong there); a gradient step that is taken back is halved until one is kept.
    Returns the best point kept.
    """
    x = np.clip(np.asarray(x0, np.float32), low, high)
    value, grad = fun(x)
    evals = 1
    best, best_value = x, value
    kept = deque([value], maxlen=window)
    pairs: deque = deque(maxlen=memory)
    direction = _gradient_step(grad, first_step)
    while evals < max_evals and np.isfinite(value):
        trial = np.clip(x + direction, low, high)
        moved = trial - x
        if not np.any(moved):  # the step rounds to nothing: as far as float32 goes
            break
        new_value, new_grad = fun(trial)
        evals += 1
        if not np.isfinite(new_value):
            break
        if not new_value <= max(kept):  # worse than all the last few: back to x
            direction = direction / 2 if not pairs else _gradient_step(grad, first_step)
            pairs.clear()
            continue
        change = new_grad - grad
        curvature = float(np.dot(moved.ravel(), change.ravel()))
        if curvature > 1e-10 * float(np.dot(change.ravel(), change.ravel())):
            pairs.append((moved, change, 1.0 / curvature))
        x, value, grad = trial, new_value, new_grad
        kept.append(value)
        if value < best_value:
            best, best_value = x, value
        # without a usable pair (no curvature seen along the step), a gradient step as long as this one
        direction = -_two_loop(grad, pairs) if pairs else _gradient_step(grad, float(np.mean(np.abs(moved))))
    return best


def _gradient_step(grad: np.ndarray, mean_change: float) -> np.ndarray:
    """``-grad`` scaled so that pixels move by ``mean_change`` on average."""
    mean = float(np.mean(np.abs(grad)))
    return -grad * np.float32(mean_change / mean) if np.isfinite(mean) and mean > 0 else np.zeros_like(grad)


def _two_loop(grad: np.ndarray, pairs) -> np.ndarray:
    """The inverse-Hessian estimate of the ``(s, y, 1 / s.y)`` pairs applied to ``grad``."""
    q = grad.astype(np.float32, copy=True).ravel()
    alphas = []
    for s, y, rho in reversed(pairs):
        alpha = rho * float(np.dot(s.ravel(), q))
        q -= np.float32(alpha) * y.ravel()
        alphas.append(alpha)
    s, y, _ = pairs[-1]
    q *= np.float32(float(np.dot(s.ravel(), y.ravel())) / float(np.dot(y.ravel(), y.ravel())))
    for (s, y, rho), alpha in zip(pairs, reversed(alphas)):
        beta = rho * float(np.dot(y.ravel(), q))
        q += np.float32(alpha - beta) * s.ravel()
    return q.reshape(grad.shape)
