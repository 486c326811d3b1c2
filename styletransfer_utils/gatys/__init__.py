"""Gatys et al.'s algorithm: optimise the picture itself until its VGG19 features match.

Lesson: ``notebooks/04_optimization_and_acceleration.ipynb``. Paper: L. A. Gatys, A. S. Ecker,
M. Bethge, *Image Style Transfer Using Convolutional Neural Networks* (CVPR 2016).

    run        ``stylize``: read the pictures once, then ``for size, steps in schedule`` one
               :class:`StyleTransfer` per size; Progress, Result, SaveEvery
    transfer   :class:`StyleTransfer`: everything fixed at one size, and its optimisation loop
    schedule   the coarse-to-fine schedule: which sizes, and how many evaluations at each
    log        each evaluation logged once: history, best picture, callbacks; Progress, Result
    lbfgs      L-BFGS for a picture in NumPy float32, with an evaluation budget
    control    keep the photo's colours; a style per region (masks, guided Gram matrices)  (07)

The names a user calls load on first use (``stylize`` imports TensorFlow), so that
``gatys.schedule`` stays light.
"""

import importlib

_LAZY = {"stylize": "run", "Result": "run", "Progress": "run", "SaveEvery": "run", "StyleTransfer": "transfer"}


def __getattr__(name):  # PEP 562
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
