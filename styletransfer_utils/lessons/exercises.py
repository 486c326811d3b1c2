"""The classroom exercises: which there are, and the check that a notebook's check cell runs.

Lessons: the exercise notebooks in ``notebooks/exercises/`` (made from the lessons by
:mod:`.grading`), and the lessons themselves, whose check cells pass.

:data:`EXERCISES` is the series' list: for each exercise its name, its lesson, the name of the
function the learner writes, and the package's functions that are its answer (a function that
merely calls one of them fails). ``check(n, function, **context)`` runs the learner's function
for exercise ``n`` (eagerly, when it is a ``tf.function``) on fixed inputs (small seeded tensors,
and Tübingen with The Starry Night at a small size) and compares the result with the package's
tested implementation, computed now, never stored (:mod:`.answers`). It prints one line,
``Exercise n (name): PASS`` or ``Exercise n (name): FAIL: what differs``, and raises after a
failure so that a notebook run stops there; the error shows the learner's own failing line, not
the checker's internals. A failure names what differs (:mod:`.feedback`): the shape or dtype; a
constant factor, with the factor ("4096x too large: divide by H*W"); a Gram matrix reshaped to
(N, M) without the transpose; a wrong layer; input that was not preprocessed; a Python loop where
a vectorised expression belongs. A function that still raises the stub's ``NotImplementedError``
prints ``NOT DONE`` and raises it again. The grader (:mod:`.grader`) uses the same inputs and
judges, with inputs drawn afresh, from outside the learner's kernel. Exercise 9 (lesson 05) blends
two styles' Gram matrices as ``StyleTransfer`` does; exercise 10 (lesson 07) is the guided Gram matrix.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .answers import CASES, JUDGES
from .feedback import RTOL, ExerciseFailed, compare
from .probe import PROFILER_OFF, SPAWNED, UNWATCHED, as_tensors, learner_line, run_cases


@dataclass(frozen=True)
class Exercise:
    name: str
    lesson: str            #: the lesson notebook's stem
    function: str          #: the name of the learner's function in the lesson
    answers: tuple = ()    #: the package's functions it must not call, "module:function" or "module:Class.method"
    context: str = ""      #: the keyword its check takes (``transfer``, ``trainer``), if any
    model_call: bool = False   #: the function builds a model, which is then called on the input
    tensors: bool = True       #: float arrays are given as TensorFlow tensors
    timed: tuple = ()          #: inputs whose call is timed (after a warm-up call)
    state: str = ""            #: a global of the function whose weights the grader needs (exercise 8)
    points: int = 1


_LOSSES = "styletransfer_utils.core.losses"
EXERCISES = {
    1: Exercise("preprocessing", "01_preprocessing", "my_preprocess", tensors=False,
                answers=("styletransfer_utils.core.images:preprocess", "keras.applications.vgg19:preprocess_input")),
    2: Exercise("feature extractor's layers", "02_vgg19_feature_maps", "layer_model", model_call=True,
                answers=("styletransfer_utils.core.features:FeatureExtractor.__init__",
                         "styletransfer_utils.gatys.transfer:cached_extractor")),
    3: Exercise("content loss", "03_content_and_style_losses", "my_content_loss", answers=(f"{_LOSSES}:content_loss",)),
    4: Exercise("Gram matrix", "03_content_and_style_losses", "my_gram_matrix", answers=(f"{_LOSSES}:gram_matrix",)),
    5: Exercise("style loss over layers", "03_content_and_style_losses", "my_style_loss",
                answers=(f"{_LOSSES}:style_loss", f"{_LOSSES}:layer_style_loss")),
    6: Exercise("total variation, vectorised", "03_content_and_style_losses", "my_tv_loss", timed=(2,),
                answers=(f"{_LOSSES}:total_variation_loss",)),
    7: Exercise("one Gatys value-and-gradient step", "04_optimization_and_acceleration", "value_and_grad",
                context="transfer", answers=("styletransfer_utils.gatys.transfer:StyleTransfer.value_and_grad",
                                             "styletransfer_utils.core.objective:Objective.terms")),
    8: Exercise("one feed-forward training step", "06_feed_forward_networks", "loss_terms", context="trainer",
                state="transformer", answers=("styletransfer_utils.feedforward.trainer:Trainer.losses",
                                              "styletransfer_utils.core.objective:Objective.batch_terms")),
    9: Exercise("blending two styles' Gram matrices", "05_interactive_sliders", "my_blended_grams",
                answers=("styletransfer_utils.gatys.transfer:StyleTransfer._blended_targets",
                         "styletransfer_utils.core.objective:Objective.style_targets",
                         "styletransfer_utils.settings:Settings.blend_weights")),
    10: Exercise("guided Gram matrix", "07_controlling_the_result", "my_guided_gram",
                 answers=(f"{_LOSSES}:guided_gram_matrix", f"{_LOSSES}:feature_moments")),
    11: Exercise("mean and standard deviation style loss", "08_what_is_style", "my_mean_std_loss",
                 answers=(f"{_LOSSES}:mean_std_loss",)),
}
EAGER_NOTE = "(the check runs it eagerly, without @tf.function, so that the line is yours)"


def lesson_exercises(lesson: str) -> list[int]:
    """The numbers of the exercises of ``lesson`` (a notebook's stem), in order."""
    return [n for n, e in EXERCISES.items() if e.lesson == lesson]


def answer_codes(number: int) -> list[tuple[str, str]]:
    """(file, code name) of each of the package's answers to exercise ``number``: what a profiler sees run."""
    codes = []
    for ref in EXERCISES[number].answers:
        module, _, path = ref.partition(":")
        obj = importlib.import_module(module)
        for part in path.split("."):
            obj = getattr(obj, part)
        code = inspect.unwrap(obj).__code__
        codes.append((os.path.realpath(code.co_filename), code.co_name))
    return codes


def named_answers(number: int, source: str | None) -> list[str]:
    """The package's answers that ``source`` (the learner's function) names: ``losses.gram_matrix``, ...

    A method (``Trainer.losses``) counts only as an attribute (``exact.losses``), not the module ``losses``."""
    try:
        tree = ast.parse(source or "")
    except SyntaxError:
        return []
    paths = [ref.split(":")[1].split(".") for ref in EXERCISES[number].answers]
    functions = {p[0] for p in paths if len(p) == 1} | {p[0] for p in paths if p[-1] == "__init__"}  # and classes
    methods = {p[-1] for p in paths if len(p) > 1 and p[-1] != "__init__"}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in functions:
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in functions | methods:
            found.add(node.attr)
    return sorted(found)


def reference_failure(number: int, called) -> ExerciseFailed | None:
    """The failure of a right answer that came from the package's own function(s) ``called``."""
    if not called:
        return None
    if PROFILER_OFF in called:
        return ExerciseFailed("your function (or a cell before it) turned off the profiler through which the check "
                              "sees which functions run (sys.setprofile): leave it alone")
    if SPAWNED in called:
        return ExerciseFailed("your function starts another process, where the check cannot see what runs: "
                              "compute the answer in the function itself")
    running = [c[len(UNWATCHED):].strip() for c in called if c.startswith(UNWATCHED)]
    if running:
        return ExerciseFailed(f"threads or processes that your notebook started were still running when your "
                              f"function was graded ({running[0]}), and the grader cannot see what runs in them: "
                              f"stop them before the end of the notebook (a pool's shutdown(), a thread's join())")
    names = " and ".join(sorted(set(called)))
    return ExerciseFailed(f"your function calls the package's own {names}, the answer itself: the exercise is to "
                          f"write it yourself, from the operations the hint names")


def judge(number: int, outputs, cases, context, info) -> None:
    """Raise :class:`ExerciseFailed` unless ``outputs`` are right for ``cases`` and came from the learner's own code."""
    JUDGES[number](outputs, cases, context, info)
    failure = reference_failure(number, [*info.get("references", ()), *named_answers(number, info.get("source"))])
    if failure:
        raise failure


def check(number: int, function: Callable, **context) -> None:
    """Check the learner's ``function`` for exercise ``number``; print PASS/FAIL/NOT DONE."""
    if number not in EXERCISES:
        raise ValueError(f"there is no exercise {number}; the exercises are {min(EXERCISES)}-{max(EXERCISES)}")
    exercise = EXERCISES[number]
    label = f"Exercise {number} ({exercise.name})"
    eager = getattr(function, "python_function", function)
    try:
        source = inspect.getsource(eager)
    except (OSError, TypeError):
        source = None
    try:
        cases = CASES[number](context, None)
        info = {"source": source, "seconds": [], "references": []}
        outputs = _run(number, eager, cases, info)
        judge(number, outputs, cases, context, info)
    except NotImplementedError:
        print(f"{label}: NOT DONE: the function still raises NotImplementedError; write it where the stub is")
        raise
    except ExerciseFailed as exc:
        print(f"{label}: FAIL: {exc}")
        raise ExerciseFailed(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the learner's code crashed: say how, in one line, with their line
        text = str(exc).splitlines()[0] if str(exc) else ""
        message = crash_message(f"{type(exc).__name__}: {text}", learner_line(exc.__traceback__), eager is not function)
        print(f"{label}: FAIL: {message}")
        raise ExerciseFailed(message) from None
    print(f"{label}: PASS")


def crash_message(error: str, line: str = "", eager: bool = False) -> str:
    """``your function raised ValueError: ... (at line 3 of f: ...)``: the learner's own line, not the checker's."""
    error = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", error)  # TensorFlow's internal op names
    return f"your function raised {error}" + (f" (at {line})" if line else "") + (f" {EAGER_NOTE}" if eager else "")


def _run(number: int, function, cases, info) -> list:
    """The learner's outputs for ``cases``, in this process, watched as the grader's probe watches them."""
    exercise = EXERCISES[number]
    args = [tuple(as_tensors(a) if exercise.tensors else (a.copy() if isinstance(a, np.ndarray) else a) for a in case)
            for case in cases]
    outputs, info["seconds"], info["references"] = run_cases(function, args, answer_codes(number),
                                                             model_call=exercise.model_call, timed=exercise.timed)
    return outputs


__all__ = ["EXERCISES", "Exercise", "ExerciseFailed", "RTOL", "check", "compare", "judge", "lesson_exercises"]
