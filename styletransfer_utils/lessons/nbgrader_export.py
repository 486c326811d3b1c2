"""The lessons as an nbgrader course source: solution regions, locked autograded checks, written answers.

``styletransfer exercises DIR --nbgrader`` writes ``DIR/source/<lesson>/<lesson>.ipynb``, one
nbgrader assignment per lesson (named as the lesson: ``03_content_and_style_losses``), and
``DIR/nbgrader_config.py``. Each lesson cell becomes one kind of nbgrader cell (the ``nbgrader``
cell metadata, schema version 3):

* a code cell with ``# BEGIN EXERCISE n: hint`` ... ``# END EXERCISE n`` regions: an autograded
  answer cell (``solution``); each region becomes ``### BEGIN SOLUTION`` ... ``### END SOLUTION``
  under the hint, written as a comment, and nbgrader's ``generate_assignment`` puts its own stub
  (``# YOUR CODE HERE`` / ``raise NotImplementedError()``) in its place;
* a cell that calls ``exercises.check(n, ...)``: a locked autograder test cell (``grade``) worth
  the exercise's points. Its check imports the checker's modules afresh and calls the learner's
  function by the name the exercise gives it, so a redefined ``exercises.check``, a forged
  ``PASS`` line or a renamed function count for nothing (a missing function is a ``NameError``:
  no points). nbgrader's ``autograde`` puts locked cells back as they were before it runs them;
* a markdown cell tagged ``written-answer`` (a teacher's sample answer to the written question
  above it): a manually graded answer (``solution`` and ``grade``, 1 point); ``generate_assignment``
  replaces its text by "YOUR ANSWER HERE";
* every other cell: locked, read-only (the set-up and parameters cells included), since
  ``autograde`` restores it anyway. Learners experiment in cells of their own.

nbgrader runs the checks inside the learner's kernel, where the learner's earlier cells ran:
code that patches NumPy, TensorFlow or IPython's error display there could still fool them.
``styletransfer grade`` judges from outside the kernel and reads nbgrader's ``submitted/`` folder
as it is (one subfolder per learner).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .exercises import EXERCISES
from .grader import SERIES
from .grading import BEGIN, END, NOTEBOOKS, WRITTEN_ANSWER, stub_source

SCHEMA_VERSION = 3
WRITTEN_POINTS = 1
CHECKER = "styletransfer_utils.lessons"
CONFIG = '''"""nbgrader's settings for this course (written by `styletransfer exercises DIR --nbgrader`)."""
import os

c = get_config()  # noqa: F821 - nbgrader's config loader defines it

# autograde runs each notebook in smoke mode (seconds) unless STYLETRANSFER_SMOKE is set already
os.environ.setdefault("STYLETRANSFER_SMOKE", "1")
# seconds a cell may run under autograde (nbgrader's default is 30)
c.Execute.timeout = 600
'''


def cell_metadata(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    """A cell's ``nbgrader`` metadata (schema 3): what kind of cell it is, its id and its points."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def solution_source(source: str) -> str:
    """A cell's source with each exercise region between nbgrader's solution delimiters, under its hint."""
    stub_source(source)  # raises ValueError for a region without its END line, or an END without BEGIN
    out = []
    for line in source.split("\n"):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            indent = begin["indent"]
            out += [f"{indent}# Exercise {begin['number']}: {begin['hint']}", f"{indent}### BEGIN SOLUTION"]
        elif end:
            out.append(line[: len(line) - len(line.lstrip())] + "### END SOLUTION")
        else:
            out.append(line)
    return "\n".join(out)


def region_numbers(source: str) -> list[int]:
    """The exercise numbers of the solution regions in a cell's source."""
    return [int(m["number"]) for m in map(BEGIN.match, source.split("\n")) if m]


def check_calls(source: str) -> list[tuple[ast.Expr, int]]:
    """The top-level ``exercises.check(n, ...)`` (or ``check(n, ...)``) statements of a cell, with their ``n``."""
    text = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    found = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not isinstance(call, ast.Call) or not call.args:
            continue
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
        number = call.args[0]
        if name == "check" and isinstance(number, ast.Constant) and number.value in EXERCISES:
            found.append((node, number.value))
    return found


def autograder_source(source: str, calls) -> str:
    """The autograder's version of a check cell: each check by a fresh checker, on the function by its name."""
    lines = source.split("\n")
    for node, number in sorted(calls, key=lambda c: -c[0].lineno):
        keywords = "".join(f", {ast.get_source_segment(source, k)}" for k in node.value.keywords)
        lines[node.lineno - 1: node.end_lineno] = [
            f'_importlib.import_module("{CHECKER}.exercises").check({number}, {EXERCISES[number].function}{keywords})']
    numbers = [n for _, n in calls]
    points = sum(EXERCISES[n].points for n in numbers)
    about = ", ".join(f"exercise {n} ({EXERCISES[n].name})" for n in numbers)
    header = [f"# Autograder test: {about}, {points} point{'s' if points != 1 else ''}. nbgrader puts this cell back",
              "# as it is here before it grades; the checker is imported afresh and calls your function by its name.",
              "import contextlib as _contextlib, importlib as _importlib, sys as _sys",
              f'for _module in [m for m in _sys.modules if m.startswith("{CHECKER}.")]:',
              "    del _sys.modules[_module]",
              "with _contextlib.redirect_stderr(_sys.stdout):  # nbgrader fails a test cell that writes to stderr"]
    return "\n".join(header + ["    " + line if line.strip() else line for line in lines])


def _grade_id(cell, index: int, prefix: str = "") -> str:
    """A cell's nbgrader id: its notebook id where it has one (stable when the lesson changes), else its index."""
    name = re.sub(r"[^A-Za-z0-9_-]", "-", str(cell.get("id") or f"nbgrader-cell-{index}"))
    return prefix + name


def course_notebook(lesson):
    """The nbgrader source version of a lesson notebook (an ``nbformat`` node), or None when it has
    neither exercises nor written answers."""
    import nbformat

    nb = nbformat.read(str(lesson), as_version=4)
    numbers, written = [], 0
    for index, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            cell.update(outputs=[], execution_count=None)
            regions, calls = region_numbers(cell.source), check_calls(cell.source)
            if regions:
                numbers += regions
                cell.source = solution_source(cell.source)
                meta = cell_metadata("exercise-" + "-".join(map(str, regions)), solution=True)
            elif calls:
                cell.source = autograder_source(cell.source, calls)
                meta = cell_metadata("check-" + "-".join(str(n) for _, n in calls), grade=True, locked=True,
                                     points=sum(EXERCISES[n].points for _, n in calls))
            else:
                meta = cell_metadata(_grade_id(cell, index), locked=True)
        elif cell.cell_type == "markdown" and WRITTEN_ANSWER in tags:
            written += 1
            meta = cell_metadata(_grade_id(cell, index, "written-"), solution=True, grade=True, points=WRITTEN_POINTS)
        else:
            meta = cell_metadata(_grade_id(cell, index), locked=True)
        cell.metadata["nbgrader"] = meta
    if not numbers and not written:
        return None
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    if len(set(ids)) < len(ids):
        raise ValueError(f"{lesson}: two cells would have the nbgrader id {next(i for i in ids if ids.count(i) > 1)}")
    listed = ", ".join(f"{n} ({EXERCISES[n].name})" for n in numbers) or "none"
    intro = nbformat.v4.new_markdown_cell(
        f"**Assignment version of lesson `{Path(lesson).stem}`.** Exercises: {listed}. Write each function where it "
        "says `YOUR CODE HERE` and keep its name; the locked cell after it is the autograder's test: it prints PASS, "
        "or FAIL with what differs. Write each written answer where it says YOUR ANSWER HERE (your teacher grades "
        "those by hand). Run the cells in order; try things in cells of your own.")
    intro.id = "nbgrader-intro"
    intro.metadata["nbgrader"] = cell_metadata("nbgrader-intro", locked=True)
    nb.cells.insert(0, intro)
    nb.metadata["styletransfer"] = {"series": SERIES, "lesson": Path(lesson).stem, "exercises": numbers}
    return nb


def export(out, lessons=NOTEBOOKS, config: bool = True) -> list[Path]:
    """Write the nbgrader course source of each lesson with exercises or written answers into ``out``
    (``source/<lesson>/<lesson>.ipynb``), and ``out/nbgrader_config.py`` if ``config``; return the notebooks' paths."""
    import nbformat

    out = Path(out)
    written = []
    for lesson in sorted(Path(lessons).glob("[0-9][0-9]_*.ipynb")):
        nb = course_notebook(lesson)
        if nb is not None:
            path = out / "source" / lesson.stem / lesson.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
            written.append(path)
    if config:
        (out / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    return written


__all__ = ["autograder_source", "cell_metadata", "check_calls", "course_notebook", "export", "solution_source"]
