"""Grading one learner's notebook, from outside it: what the grade rests on, and what it ignores.

A notebook is untrusted code and untrusted text. Its outputs, its check cells and its metadata's
list of exercises count for nothing. The grade rests on four things the learner cannot reach:

* **the package's list** (:data:`.exercises.EXERCISES`): the lesson's exercises, each named by its
  function (a deleted or renamed function is NOT DONE);
* **fresh inputs**: drawn for each grading run from a seed the learner never saw, with other
  values, shapes and layers than the check cells' (:mod:`.answers`);
* **the probe** (:mod:`.probe`): after the learner's cells, a cell of the grader's own runs the
  learner's function on those inputs in a namespace of its own and writes the outputs to a file
  named by a random nonce;
* **references computed in the grader's process**: the outputs are read back as plain arrays and
  judged here, with the package imported by the grader, never by the kernel. Redefining
  ``exercises.check``, ``np.allclose`` or the reference functions in the kernel changes nothing;
  a function that calls the package's answer (named in its source, or seen running by the
  probe's profiler) fails with a message that says so. No profiler sees into another process, nor,
  before Python 3.12, into threads that already run: so a function that starts a process fails,
  and so do processes and (before 3.12) threads that the notebook left running
  (:func:`.probe.child_processes`, :func:`.probe.unwatched_threads`).

Each kernel runs in smoke mode, under a memory cap (``RLIMIT_AS``) and a time limit per cell (the
cell is interrupted and the next one runs). A notebook that is not JSON, belongs to another
series, or whose kernel dies gets a report that says so, with no points; the batch goes on.
This still runs the learners' code with the grader's rights: files and network included.
"""

from __future__ import annotations

import ast
import copy
import json
import logging
import pickle
import secrets
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import StyleTransferError
from . import probe as probe_module
from .exercises import EXERCISES, ExerciseFailed, answer_codes, crash_message, judge, lesson_exercises

SERIES = "StyleTransfer"
LESSONS = sorted({e.lesson for e in EXERCISES.values()})
PROBE_SOURCE = Path(probe_module.__file__).read_text(encoding="utf-8")
PACKAGE = str(Path(__file__).resolve().parents[1])


_QUIET = logging.getLogger("styletransfer_utils.grader")  # nbclient's "Timeout waiting..." lines: the report says it
_QUIET.propagate = False
_QUIET.addHandler(logging.NullHandler())


class GradingError(StyleTransferError):
    """A notebook that cannot be graded: not a notebook, another series."""


@dataclass
class Grade:
    exercise: int
    name: str
    status: str  #: PASS, FAIL or NOT DONE
    message: str = ""
    points: int = 0
    max_points: int = 1


@dataclass
class Report:
    """One notebook's grades; ``error`` says why it could not be run to the end (or at all)."""

    notebook: str
    lesson: str = ""
    grades: list = field(default_factory=list)
    error: str = ""
    failed_cells: list = field(default_factory=list)  #: "cell 4: ZeroDivisionError" (the learner's cells)

    @property
    def points(self) -> int:
        return sum(g.points for g in self.grades)

    @property
    def max_points(self) -> int:
        return sum(g.max_points for g in self.grades)

    def to_dict(self) -> dict:
        return {"notebook": self.notebook, "lesson": self.lesson, "points": self.points, "max_points": self.max_points,
                "error": self.error, "failed_cells": self.failed_cells, "exercises": [asdict(g) for g in self.grades]}


@dataclass(frozen=True)
class Limits:
    timeout: int = 600             #: seconds a cell may run before it is interrupted
    memory: int = 6 * 2**30        #: the kernel's address-space cap, bytes (TensorFlow alone reserves ~2 GB)


# -- which lesson ---------------------------------------------------------------------------------

def read_notebook(path):
    """The notebook at ``path`` and its lesson's stem; :class:`GradingError` if it is none of the series'."""
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise GradingError(f"{path}: no such notebook", "check the path")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - JSON errors, wrong structure, binary files
        raise GradingError(f"{path} is not a Jupyter notebook ({type(exc).__name__})",
                           "pass the learner's .ipynb file") from None
    meta = nb.metadata.get("styletransfer", {})
    lesson = meta.get("lesson") if isinstance(meta, dict) else None
    if lesson not in LESSONS:
        lesson = next((name for name in LESSONS if name in path.stem), None)
    if lesson is None:
        raise GradingError(f"{path} is not a notebook of the {SERIES} series with exercises (its name and metadata "
                           f"name none of the lessons {', '.join(LESSONS)})",
                           "grade the notebooks made from notebooks/exercises/, under their names")
    return nb, lesson


def _definition(source: str, name: str) -> str | None:
    """The source of the last top-level definition of ``name`` in a cell (def, lambda or assignment)."""
    text = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    found = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            found = ast.get_source_segment(text, node)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found = ast.get_source_segment(text, node.value)
    return found


def function_source(nb, name: str) -> str | None:
    """The source of the last definition of ``name`` in the notebook's code cells."""
    index = defining_cell(nb.cells, name)
    return None if index is None else _definition(nb.cells[index].source, name)


# -- running: the learner's cells, then the probes -------------------------------------------------

def run(nb, path, lesson: str, cases: dict, limits: Limits, workdir) -> dict:
    """Run the notebook ``nb`` (read from ``path``, which it is run beside; a copy is run, ``nb`` stays as
    it was), probing each of ``lesson``'s exercises on ``cases[n]``; return the raw records.

    Thread-safe: each call has its own kernel. Returns ``{"error", "failed_cells", "records": {n: (record,
    arrays)}}``; a probe that wrote nothing (a dead kernel, a probe broken by the learner's code) has none.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = copy.deepcopy(nb)  # the probe cells are appended to it
    out = Path(tempfile.mkdtemp(prefix="probe_", dir=workdir))
    client = NotebookClient(nb, timeout=limits.timeout, allow_errors=True, interrupt_on_timeout=True,
                            error_on_timeout={"ename": "TimeLimit", "evalue": f"the cell ran longer than {limits.timeout} s "
                                              "and was interrupted", "traceback": []},
                            kernel_name="python3", log=_QUIET, extra_arguments=["--IPKernelApp.log_level=ERROR"],
                            resources={"metadata": {"path": str(Path(path).parent.resolve())}})
    result = {"error": "", "failed_cells": [], "records": {}}
    where = "the kernel's start"
    try:
        with client.setup_kernel():
            _limit(client.km, limits)
            numbers, cells = lesson_exercises(lesson), list(nb.cells)
            after = {n: defining_cell(cells, EXERCISES[n].function) for n in numbers}
            for index, cell in enumerate(cells):
                where = f"cell {index + 1}"
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
                    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                    if errors:
                        name = errors[0].get("ename", "")
                        if name in ("KeyboardInterrupt", "TimeLimit"):
                            name = f"stopped at the time limit ({limits.timeout} s)"
                        result["failed_cells"].append(f"cell {index + 1}: {name}")
                for number in [n for n in numbers if after[n] == index]:  # where its check cell would be
                    where = f"the grader's call of {EXERCISES[number].function}"
                    result["records"][number] = _probe(client, nb, number, cases[number], out)
            for number in [n for n in numbers if after[n] is None]:  # defined nowhere the grader can see
                where = f"the grader's call of {EXERCISES[number].function}"
                result["records"][number] = _probe(client, nb, number, cases[number], out)
    except DeadKernelError:
        result["error"] = (f"the kernel died in {where} (often memory: the cap is "
                           f"{limits.memory / 2**30:.3g} GB); the exercises after it were not graded")
    except Exception as exc:  # noqa: BLE001 - a kernel that would not start, or a client that broke
        result["error"] = f"the notebook could not be run to the end: {type(exc).__name__}: {exc}"
    return result


def defining_cell(cells, name: str) -> int | None:
    """The index of the last code cell that defines ``name`` at its top level, or None."""
    found = None
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and _definition(cell.source, name) is not None:
            found = index
    return found


def _probe(client, nb, number: int, cases, out: Path):
    """Run the probe for exercise ``number`` in the client's kernel; its (record, arrays), or None."""
    import nbformat

    nonce, spec, exercise = secrets.token_hex(16), out / f"{secrets.token_hex(8)}.pkl", EXERCISES[number]
    with open(spec, "wb") as file:
        pickle.dump({"nonce": nonce, "out": str(out), "function": exercise.function, "cases": cases,
                     "forbidden": answer_codes(number), "model_call": exercise.model_call, "tensors": exercise.tensors,
                     "timed": exercise.timed, "state": exercise.state, "libraries": [PACKAGE]}, file)
    code = PROBE_SOURCE + f"\nprobe({str(spec)!r})\n"
    cell = nbformat.v4.new_code_cell(f"exec(compile({code!r}, '<grader>', 'exec'), {{'__name__': '__grader__'}})")
    nb.cells.append(cell)
    client.execute_cell(cell, len(nb.cells) - 1)
    return _read_probe(out, nonce)


def _limit(km, limits: Limits) -> None:
    """Cap the kernel's memory (its children inherit the cap)."""
    import resource

    pid = getattr(getattr(km, "provisioner", None), "pid", None) or km.provisioner.process.pid
    resource.prlimit(pid, resource.RLIMIT_AS, (limits.memory, limits.memory))


def _read_probe(out: Path, nonce: str):
    import numpy as np

    try:
        record = json.loads((out / f"{nonce}.json").read_text())
        if record.get("nonce") != nonce:
            return None
        with np.load(out / f"{nonce}.npz", allow_pickle=False) as arrays:
            return record, {k: arrays[k] for k in arrays.files}
    except (OSError, ValueError):
        return None


# -- judging, in the grader's process ------------------------------------------------------------

def judge_notebook(path, nb, lesson: str, raw: dict, cases: dict, contexts: dict) -> Report:
    """The grades of the notebook ``nb`` (read from ``path``) from what :func:`run` brought back."""
    report = Report(str(path), lesson, error=raw["error"], failed_cells=raw["failed_cells"])
    for number in lesson_exercises(lesson):
        exercise = EXERCISES[number]
        grade = Grade(number, exercise.name, "FAIL", max_points=exercise.points)
        found = raw["records"].get(number)
        if found is None:
            grade.message = ("not graded: " + raw["error"]) if raw["error"] else \
                "the grader's probe of this function did not finish (did a cell change the kernel?)"
        else:
            grade.status, grade.message = _judge_one(number, nb, found, cases[number], contexts.get(number, {}))
        grade.points = exercise.points if grade.status == "PASS" else 0
        report.grades.append(grade)
    return report


def _judge_one(number, nb, found, cases, context) -> tuple[str, str]:
    from .probe import unflatten

    record, arrays = found
    exercise = EXERCISES[number]
    if record["status"] == "missing":
        return "NOT DONE", f"the notebook defines no {exercise.function}, the function this exercise asks for"
    if record["status"] == "not done":
        return "NOT DONE", "the function still raises NotImplementedError; write it where the stub is"
    if record["status"] == "raised" and record["error"].startswith("KeyboardInterrupt"):
        return "FAIL", "your function ran longer than the time limit of a cell and was stopped"
    if record["status"] == "raised":
        return "FAIL", crash_message(record["error"], record["line"], eager=number == 7)
    info = {"source": function_source(nb, exercise.function), "seconds": record["seconds"],
            "references": record["references"]}
    try:
        outputs = [unflatten(arrays, f"c{i}") for i in range(len(cases))]
        if exercise.state and "state[]" in arrays:
            context[exercise.context].model.set_weights(unflatten(arrays, "state"))
        judge(number, outputs, cases, context, info)
    except ExerciseFailed as exc:
        return "FAIL", str(exc)
    except Exception as exc:  # noqa: BLE001 - outputs of the wrong kind, weights of another network
        return "FAIL", f"your function's answer could not be read: {type(exc).__name__}: {str(exc)[:200]}"
    return "PASS", ""


def broken(path, error: str, lesson: str = "") -> Report:
    """The report of a notebook that could not be graded at all: every exercise of its lesson at 0."""
    report = Report(str(path), lesson, error=error)
    for number in lesson_exercises(lesson) if lesson else []:
        report.grades.append(Grade(number, EXERCISES[number].name, "FAIL", "not graded: " + error,
                                   max_points=EXERCISES[number].points))
    return report


def new_seed() -> int:
    """The seed of one grading run's inputs: fresh each run, never written into a notebook."""
    return secrets.randbelow(2**31)


__all__ = ["Grade", "GradingError", "LESSONS", "Limits", "Report", "SERIES", "broken", "function_source",
           "judge_notebook", "new_seed", "read_notebook", "run"]
