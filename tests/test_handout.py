"""What learners get (``styletransfer exercises DIR``: no solutions) and the nbgrader course source (``--nbgrader``).

The last test runs nbgrader itself: ``generate_assignment``, then ``autograde`` on lesson 01 solved,
untouched, and forged (a redefined ``exercises.check``, PASS printed, the check cell edited).
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from helpers import assert_one_line_error
from styletransfer_utils.cli import main
from styletransfer_utils.lessons import grading, handout, nbgrader_export
from styletransfer_utils.lessons.exercises import EXERCISES
from styletransfer_utils.lessons.grading import BEGIN, END

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted({e.lesson for e in EXERCISES.values()})
SAMPLE_ANSWER = "Because the Gram matrix forgets where each feature is: only which features occur together."
GRADE_ID = re.compile(r"^[a-zA-Z0-9_-]+$")  # nbgrader's schema for grade_id


def _need_nbgrader() -> None:
    """Skip without nbgrader (the dev extra installs it); under CI=true, fail instead, as the weights' tests do."""
    if importlib.util.find_spec("nbgrader") is None:
        message = 'nbgrader is not installed (pip install -e ".[dev]")'
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def _solution_lines(lesson: Path) -> set[str]:
    """The lines inside a lesson's exercise regions that appear nowhere else in it: what must not leak."""
    inside, outside, region = set(), set(), False
    for cell in nbformat.read(str(lesson), as_version=4).cells:
        for line in cell.source.split("\n"):
            if BEGIN.match(line):
                region = True
            elif END.match(line):
                region = False
            elif line.strip():
                (inside if region else outside).add(line.strip())
    return inside - outside


def _texts(folder: Path) -> str:
    """Every cell source of every notebook under ``folder``, and the other files' text."""
    parts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".ipynb":
            parts += [c.source for c in nbformat.read(str(path), as_version=4).cells]
        else:
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


def _synthetic_lesson(folder: Path) -> Path:
    """A small lesson: exercise 3 with its check, and a written question with a sample answer."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A small lesson"),
        nbformat.v4.new_code_cell("import numpy as np\nfrom styletransfer_utils.lessons import exercises"),
        nbformat.v4.new_code_cell("def my_content_loss(F, P):\n    # BEGIN EXERCISE 3: the mean of the squared "
                                  "differences\n    return np.mean((np.asarray(F) - np.asarray(P)) ** 2)\n"
                                  "    # END EXERCISE 3"),
        nbformat.v4.new_code_cell("exercises.check(3, my_content_loss)"),
        nbformat.v4.new_markdown_cell("**Question.** Why does the style loss ignore where things are?"),
        nbformat.v4.new_markdown_cell(SAMPLE_ANSWER, metadata={"tags": ["written-answer"]}),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "03_synthetic.ipynb"
    nbformat.write(nb, str(path))
    return path


# -- styletransfer exercises DIR: what learners get ----------------------------------------------

def test_exercises_writes_the_notebooks_and_a_readme_without_the_solutions(tmp_path, capsys):
    out = tmp_path / "handout"
    assert main(["exercises", str(out)]) == 0
    assert "without the solutions" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(["README.md", *(f"{name}.ipynb" for name in LESSONS)])
    text = _texts(out)
    for lesson in LESSONS:
        secret = _solution_lines(NOTEBOOKS / f"{lesson}.ipynb")
        assert secret, lesson
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{lesson}: {leaked}"
    readme = (out / "README.md").read_text()
    assert all(e.function in readme for e in EXERCISES.values()) and "pip install" in readme
    assert "BEGIN EXERCISE" not in text and "BEGIN SOLUTION" not in text


def test_a_folder_that_is_not_empty_is_refused_unless_forced(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("the teacher's")
    assert_one_line_error(capsys, ["exercises", str(tmp_path)], "not empty", "--force")
    assert_one_line_error(capsys, ["exercises", str(tmp_path / "notes.txt")], "is a file")
    assert main(["exercises", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "notes.txt").read_text() == "the teacher's" and (tmp_path / "01_preprocessing.ipynb").is_file()


def test_written_answers_are_withheld_from_learners(tmp_path, monkeypatch, capsys):
    lessons = tmp_path / "lessons"
    _synthetic_lesson(lessons)
    monkeypatch.setattr(handout, "lesson_folder", lambda: lessons)
    assert main(["exercises", str(tmp_path / "out")]) == 0
    text = _texts(tmp_path / "out")
    assert SAMPLE_ANSWER not in text and grading.YOUR_ANSWER in text and "np.mean((" not in text


def test_the_committed_exercise_notebooks_hold_no_sample_answer():
    """The wheel carries notebooks/exercises/ as it is: no written answer of a lesson may stand in it."""
    answers = [c.source.strip() for lesson in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")
               for c in nbformat.read(str(lesson), as_version=4).cells
               if "written-answer" in c.metadata.get("tags", []) and c.source.strip()]
    text = _texts(NOTEBOOKS / "exercises")
    assert not [a for a in answers if a in text]


def test_an_installed_wheel_hands_out_the_exercise_notebooks_it_was_built_with(tmp_path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("styletransfer_setup", ROOT / "setup.py")
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)  # defines the build step; setup() runs only under pip
    copies = setup.copy_exercises(tmp_path / "build")
    packaged = tmp_path / "build" / setup.PACKAGED
    assert packaged.parts[-3:] == handout.PACKAGED.parts[-3:]
    assert sorted(Path(c).name for c in copies) == sorted(p.name for p in (NOTEBOOKS / "exercises").glob("*.ipynb"))
    assert "graft notebooks/exercises" in (ROOT / "MANIFEST.in").read_text()  # the sdist carries them to the wheel
    monkeypatch.setattr(handout, "lesson_folder", lambda: None)  # a wheel holds no lesson
    monkeypatch.setattr(handout, "PACKAGED", packaged)
    assert main(["exercises", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "01_preprocessing.ipynb").read_bytes() == (packaged / "01_preprocessing.ipynb").read_bytes()
    assert_one_line_error(capsys, ["exercises", str(tmp_path / "course"), "--nbgrader"], "not in the installed package")


def test_the_command_answers_without_tensorflow(tmp_path):
    probe = ("import sys; from styletransfer_utils.cli import main; code = main(sys.argv[1:]); "
             "print(code, sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe, "exercises", str(tmp_path / "out")], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr


# -- --nbgrader: the course source -----------------------------------------------------------------

def _kinds(nb):
    return [(c.cell_type, c.metadata["nbgrader"]) for c in nb.cells]


def test_the_nbgrader_source_marks_solutions_checks_and_read_only_cells():
    nb = nbgrader_export.course_notebook(NOTEBOOKS / "03_content_and_style_losses.ipynb")
    ids = [meta["grade_id"] for _, meta in _kinds(nb)]
    assert len(ids) == len(set(ids)) and all(GRADE_ID.match(i) for i in ids)
    assert all(meta["schema_version"] == 3 and not meta["task"] for _, meta in _kinds(nb))
    solutions = [c for c in nb.cells if c.metadata["nbgrader"]["solution"] and c.cell_type == "code"]
    assert [c.metadata["nbgrader"]["grade_id"] for c in solutions] == ["exercise-3", "exercise-4", "exercise-5", "exercise-6"]
    written = [c for c in nb.cells if c.metadata["nbgrader"]["solution"] and c.cell_type == "markdown"]
    assert written and all(c.metadata["nbgrader"]["grade"] and c.metadata["nbgrader"]["points"] == 1 for c in written)
    for cell in solutions:
        meta, lines = cell.metadata["nbgrader"], [line.strip() for line in cell.source.split("\n")]
        assert not meta["grade"] and not meta["locked"]
        begin, end = lines.index("### BEGIN SOLUTION"), lines.index("### END SOLUTION")
        assert lines[begin - 1].startswith("# Exercise ") and begin < end and "BEGIN EXERCISE" not in cell.source
    checks = [c for c in nb.cells if c.metadata["nbgrader"]["grade"] and c.cell_type == "code"]
    assert [(c.metadata["nbgrader"]["grade_id"], c.metadata["nbgrader"]["points"]) for c in checks] == \
        [(f"check-{n}", EXERCISES[n].points) for n in (3, 4, 5, 6)]
    for cell, number in zip(checks, (3, 4, 5, 6)):
        assert cell.metadata["nbgrader"]["locked"] and not cell.metadata["nbgrader"]["solution"]
        assert "del _sys.modules[_module]" in cell.source  # a fresh checker
        assert f'.exercises").check({number}, {EXERCISES[number].function})' in cell.source  # by its name
        assert "\nexercises.check" not in cell.source
    others = [meta for c, meta in _kinds(nb) if not meta["solution"] and not meta["grade"]]
    assert others and all(meta["locked"] for meta in others)
    setup_cell = next(c for c in nb.cells if "lesson = setup()" in c.source)
    assert setup_cell.metadata["nbgrader"]["locked"]
    assert nb.metadata["styletransfer"]["lesson"] == "03_content_and_style_losses"  # styletransfer grade reads it
    _need_nbgrader()
    from nbgrader.nbgraderformat import MetadataValidator

    MetadataValidator().validate_nb(nb)


def test_a_check_with_context_keeps_it_and_a_written_answer_is_graded_by_hand(tmp_path):
    nb = nbgrader_export.course_notebook(NOTEBOOKS / "04_optimization_and_acceleration.ipynb")
    check = next(c for c in nb.cells if c.metadata["nbgrader"]["grade"])
    assert '.check(7, value_and_grad, transfer=gatys)' in check.source
    nb = nbgrader_export.course_notebook(_synthetic_lesson(tmp_path))
    written = next(c for c in nb.cells if "written-answer" in c.metadata.get("tags", []))
    meta = written.metadata["nbgrader"]
    assert written.cell_type == "markdown" and meta["solution"] and meta["grade"] and meta["points"] == 1
    assert not meta["locked"] and written.source == SAMPLE_ANSWER  # nbgrader replaces it when it releases
    question = nb.cells[nb.cells.index(written) - 1]
    assert question.metadata["nbgrader"]["locked"] and not question.metadata["nbgrader"]["grade"]
    _need_nbgrader()
    from nbgrader.preprocessors import ClearSolutions

    released, _ = ClearSolutions().preprocess(nb, {"language": "python"})  # what generate_assignment does to them
    text = "\n".join(c.source for c in released.cells)
    assert SAMPLE_ANSWER not in text and "YOUR ANSWER HERE" in text and "np.mean((" not in text


def _run_nbgrader(course: Path, *args) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return time.perf_counter() - start


def _submit(course: Path, student: str, assignment: str, nb) -> None:
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / f"{assignment}.ipynb"))


@pytest.mark.slow
@pytest.mark.usefixtures("vgg_weights")
def test_nbgrader_releases_and_autogrades_the_export(tmp_path, capsys):
    """nbgrader's own generate_assignment and autograde; lesson 01 in smoke mode (the kernels inherit it)."""
    _need_nbgrader()
    from nbgrader.api import Gradebook

    course, lesson = tmp_path / "course", "01_preprocessing"
    assert main(["exercises", str(course), "--nbgrader"]) == 0
    generated = _run_nbgrader(course, "generate_assignment", lesson)

    released = nbformat.read(str(course / "release" / lesson / f"{lesson}.ipynb"), as_version=4)
    assert released.metadata["styletransfer"]["lesson"] == lesson
    source = {c.metadata["nbgrader"]["grade_id"]: c.source
              for c in nbformat.read(str(course / "source" / lesson / f"{lesson}.ipynb"), as_version=4).cells}
    assert "raise NotImplementedError()" in _texts(course / "release" / lesson)
    assert not [line for line in _solution_lines(NOTEBOOKS / f"{lesson}.ipynb") if line in _texts(course / "release")]

    _submit(course, "untouched", lesson, released)
    solved = nbformat.from_dict(json.loads(json.dumps(released)))
    for cell in solved.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = source[cell.metadata["nbgrader"]["grade_id"]]
    _submit(course, "solved", lesson, solved)
    forged = nbformat.from_dict(json.loads(json.dumps(released)))
    for cell in forged.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = ("def my_preprocess(picture):\n    raise NotImplementedError()\n\n"
                           "exercises.check = lambda *args, **kwargs: print('Exercise 1 (preprocessing): PASS')\n"
                           "print('Exercise 1 (preprocessing): PASS')")
        elif meta.get("grade"):
            cell.source = "print('Exercise 1 (preprocessing): PASS')"  # nbgrader puts the locked cell back
    _submit(course, "forged", lesson, forged)

    seconds = _run_nbgrader(course, "autograde", lesson)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {s: (gradebook.find_submission(lesson, s).score, gradebook.find_submission(lesson, s).max_score)
                  for s in ("solved", "untouched", "forged")}
    # the most: exercise 1's point and one per written question, which a teacher grades by hand (0 until then)
    most = 1.0 + sum(nbgrader_export.WRITTEN_POINTS for grade_id in source if grade_id.startswith("written-"))
    assert most > 1 and scores == {"solved": (1.0, most), "untouched": (0.0, most), "forged": (0.0, most)}, scores
    with capsys.disabled():
        print(f"\nnbgrader generate_assignment {generated:.0f} s, autograde of three submissions {seconds:.0f} s")
