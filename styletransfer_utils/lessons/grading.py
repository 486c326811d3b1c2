"""Exercise notebooks made from the lessons: each solution replaced by a stub under its hint.

Lessons mark each exercise's solution in a code cell::

    def my_content_loss(F, P):
        # BEGIN EXERCISE 3: the mean of the squared differences, over every position and channel
        return tf.reduce_mean(tf.square(F - P))
        # END EXERCISE 3

and check it in a later cell with ``exercises.check(3, my_content_loss)`` (:mod:`.exercises`).
:func:`generate` writes ``notebooks/exercises/`` with every region replaced by a stub that raises
``NotImplementedError("Exercise 3: ...")`` under its hint; the lessons stay the readable
solutions. A lesson's written (inline) questions are a markdown cell each, followed at once by a
markdown cell tagged ``written-answer`` that holds a sample answer for teachers; in the exercise
notebook that cell says only ``*Your answer:*`` (:data:`YOUR_ANSWER`, the tag kept), where the
learner writes, so that no sample answer reaches the learners. ``python -m styletransfer_utils.lessons.grading`` regenerates them (a test fails when the
committed ones differ).

Grading (``styletransfer grade``) is :mod:`.grader` (one notebook, judged from outside it) and
:mod:`.gradebook` (a class at once); it never reads the check cells.
"""

from __future__ import annotations

import re
from pathlib import Path

from .exercises import EXERCISES
from .grader import SERIES

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN EXERCISE (?P<number>\d+): (?P<hint>.*)$")
END = re.compile(r"^\s*# END EXERCISE (?P<number>\d+)\s*$")
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
WRITTEN_ANSWER = "written-answer"  #: the tag of a sample answer's cell (an nbgrader export reads it too)
YOUR_ANSWER = "*Your answer:*"     #: what such a cell says in the exercise notebook


# -- the exercise notebooks ----------------------------------------------------------------------

def stub_source(source: str) -> str:
    """A cell's source with each solution region replaced by its hint and a NotImplementedError."""
    out, region = [], None
    for line in source.split("\n"):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            region = begin
            number, indent = int(begin["number"]), begin["indent"]
            out.append(f"{indent}# Exercise {number}: {begin['hint']}")
            out.append(f'{indent}raise NotImplementedError("Exercise {number}: {EXERCISES[number].name}: '
                       f'write your code here")')
        elif end:
            if region is None or int(end["number"]) != int(region["number"]):
                raise ValueError(f"'{line.strip()}' without its BEGIN line")
            region = None
        elif region is None:
            out.append(line)
    if region is not None:
        raise ValueError(f"exercise {region['number']} has no END line")
    return "\n".join(out)


def exercise_notebook(lesson):
    """The exercise version of a lesson notebook (an ``nbformat`` node), or None if it has none."""
    import nbformat

    nb = nbformat.read(str(lesson), as_version=4)
    numbers = sorted({int(m["number"]) for c in nb.cells if c.cell_type == "code"
                      for m in map(BEGIN.match, c.source.split("\n")) if m})
    if not numbers:
        return None
    listed = ", ".join(f"{n} ({EXERCISES[n].name})" for n in numbers)
    intro = nbformat.v4.new_markdown_cell(
        f"**Exercise version of lesson `{Path(lesson).name}`.** Exercises {listed}: each is a function with a "
        "stub that raises `NotImplementedError`. Write it where the stub is; the check cell after it prints PASS, "
        "or FAIL with what differs (it compares with the package's own implementation, computed when it runs). "
        "Run the cells in order. Keep each function's name: your teacher's grader calls it by that name, on "
        "inputs of its own, and does not read what the check cells print. Each inline question asks for a few "
        f"sentences: write them in the cell below it that says {YOUR_ANSWER}.")
    nb.cells.insert(0, intro)
    for cell in nb.cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.update(source=stub_source(cell.source), outputs=[], execution_count=None)
        elif WRITTEN_ANSWER in cell.get("metadata", {}).get("tags", []):
            cell.source = YOUR_ANSWER  # the sample answer stays in the lesson, for teachers
    nb.metadata["styletransfer"] = {"series": SERIES, "lesson": Path(lesson).stem, "exercises": numbers}
    nb.nbformat_minor = 4  # no cell ids: the generated files stay byte-for-byte reproducible
    return nb


def generate(lessons=NOTEBOOKS, out=None) -> list[Path]:
    """Write the exercise notebook of each lesson that has exercises; return the paths."""
    import nbformat

    lessons = Path(lessons)
    out = Path(out) if out else lessons / "exercises"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson in sorted(lessons.glob("[0-9][0-9]_*.ipynb")):
        nb = exercise_notebook(lesson)
        if nb is not None:
            path = out / lesson.name
            path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    for written in generate():
        print(written)
