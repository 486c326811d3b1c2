"""Exercise notebooks made from the lessons, and the grader that scores a learner's notebook.

Lessons mark each exercise's solution in a code cell::

    def my_content_loss(F, P):
        # BEGIN EXERCISE 3: the mean of the squared differences, over every position and channel
        return tf.reduce_mean(tf.square(F - P))
        # END EXERCISE 3

and check it in a later cell with ``exercises.check(3, my_content_loss)`` (:mod:`.exercises`).
:func:`generate` writes ``notebooks/exercises/`` with every region replaced by a stub that raises
``NotImplementedError("Exercise 3: ...")`` under its hint; the lessons stay the readable
solutions. ``python -m styletransfer_utils.lessons.grading`` regenerates them (a test fails when the
committed ones differ).

:func:`grade` (``styletransfer grade NOTEBOOK...``) runs a learner's notebook in a fresh kernel,
in smoke mode, past any failing cell, so that each exercise is judged on its own check cell:
PASS, FAIL (with the check's message) or NOT DONE (the stub is still there).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import StyleTransferError
from .exercises import EXERCISES

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN EXERCISE (?P<number>\d+): (?P<hint>.*)$")
END = re.compile(r"^\s*# END EXERCISE (?P<number>\d+)\s*$")
CHECK = re.compile(r"exercises\.check\(\s*(\d+)")
RESULT = re.compile(r"Exercise (\d+) \([^)]*\): (PASS|FAIL|NOT DONE)(?:: (.*))?")
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SERIES = "StyleTransfer"


class GradingError(StyleTransferError):
    """A notebook that cannot be graded: not a notebook, another series, a kernel that died."""


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
            out.append(f'{indent}raise NotImplementedError("Exercise {number}: {EXERCISES[number][0]}: '
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
    listed = ", ".join(f"{n} ({EXERCISES[n][0]})" for n in numbers)
    intro = nbformat.v4.new_markdown_cell(
        f"**Exercise version of lesson `{Path(lesson).name}`.** Exercises {listed}: each is a function with a "
        "stub that raises `NotImplementedError`. Write it where the stub is; the check cell after it prints PASS, "
        "or FAIL with what differs (it compares with the package's own implementation, computed when it runs). "
        "Run the cells in order. Your teacher grades the notebook with `styletransfer grade`.")
    nb.cells.insert(0, intro)
    for cell in nb.cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.update(source=stub_source(cell.source), outputs=[], execution_count=None)
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


# -- grading ------------------------------------------------------------------------------------

@dataclass
class Grade:
    exercise: int
    name: str
    status: str  #: PASS, FAIL or NOT DONE
    message: str = ""


def _read(path: Path):
    import nbformat

    if not path.is_file():
        raise GradingError(f"{path}: no such notebook", "check the path")
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - JSON errors, wrong structure, binary files
        raise GradingError(f"{path} is not a Jupyter notebook ({type(exc).__name__})",
                           "pass the learner's .ipynb file") from None


def grade(path, *, timeout: int = 600) -> list[Grade]:
    """Run ``path`` in a fresh kernel (smoke mode) and grade each exercise's check cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = _read(path)
    checks = [(i, int(m.group(1))) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for m in [CHECK.search(c.source)] if m]
    if not checks:
        raise GradingError(f"{path} has no exercise checks, so it is not a notebook of the {SERIES} series",
                           "grade the notebooks made from notebooks/exercises/")
    previous = os.environ.get("STYLETRANSFER_SMOKE")
    os.environ["STYLETRANSFER_SMOKE"] = "1"  # the checks use fixed small inputs: the lesson's pictures may be small
    try:
        client = NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                                extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up warnings
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        client.execute()
    except DeadKernelError:
        raise GradingError(f"the kernel died while running {path}", "run the notebook yourself to see which cell "
                           "kills it (often memory)") from None
    except CellTimeoutError:
        raise GradingError(f"a cell of {path} ran longer than {timeout} s", "raise --timeout, or fix the cell") from None
    finally:
        if previous is None:
            os.environ.pop("STYLETRANSFER_SMOKE", None)
        else:
            os.environ["STYLETRANSFER_SMOKE"] = previous
    return [_grade_cell(nb.cells[i], number) for i, number in checks]


def _grade_cell(cell, number: int) -> Grade:
    name = EXERCISES.get(number, ("unknown exercise",))[0]
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    for line in text.splitlines():
        found = RESULT.search(line)
        if found and int(found.group(1)) == number:
            return Grade(number, name, found.group(2), found.group(3) or "")
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        return Grade(number, name, "FAIL", f"the check could not run: {errors[0]['ename']}: {errors[0]['evalue']}")
    return Grade(number, name, "FAIL", "the check cell printed no result (was it changed?)")


def score(grades: list[Grade]) -> float:
    return 100.0 * sum(g.status == "PASS" for g in grades) / len(grades) if grades else 0.0


def main(argv=None, parser_class=argparse.ArgumentParser) -> int:
    """``styletransfer grade NOTEBOOK... [--json]``: a table per notebook, then its score."""
    parser = parser_class(prog="styletransfer grade", description="Grade learners' exercise notebooks: "
                          "run each in a fresh kernel and report every exercise.")
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="learners' .ipynb files")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may run (600)")
    args = parser.parse_args(argv)
    report = []
    for path in args.notebooks:
        grades = grade(path, timeout=args.timeout)
        report.append({"notebook": str(path), "score": round(score(grades), 1), "exercises": [asdict(g) for g in grades]})
        if not args.json:
            print(f"{path}")
            for g in grades:
                print(f"  {g.exercise:>2}  {g.name:36s} {g.status:9s} {g.message}".rstrip())
            passed = sum(g.status == "PASS" for g in grades)
            print(f"  score: {passed}/{len(grades)} ({score(grades):.0f}%)")
    if args.json:
        json.dump(report if len(report) > 1 else report[0], sys.stdout, indent=1)
        print()
    return 0


if __name__ == "__main__":
    for written in generate():
        print(written)
